#!/bin/sh
# A hostile guest against virtio-net on --net user (libslirp; issue #17),
# inside a network namespace with only a loopback: a driver of its own
# (guests/tools/hostile.c, with Linux's unbound) asks for the gateway's
# MAC (ARP, on the transmit queue) every 100 ms and re-posts, forever,
# receive buffers the device may only read, so the replies find only
# unusable buffers. kvmini must still serve the rng, end within a second
# of SIGTERM with 143, and end by itself with 124 at --timeout. Skipped
# where kvmini has no libslirp (the static and arm64 builds).
. "$LIB"

if [ -z "${HOSTILE_NETNS:-}" ]; then
	HOSTILE_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
rc=0
"$KVMINI" run --kernel "$KERNEL" --dump-dtb "$T/probe.dtb" --net user >/dev/null 2>"$T/probe.err" || rc=$?
if grep -q "built without libslirp" "$T/probe.err"; then
	echo "hostile-user: skipped: this kvmini has no --net user ($(cat "$T/probe.err"))"
	exit 77
fi

# The endless loops, their SIGTERM and --timeout checks (as in
# hostile-blk, -tap and -user.sh).
. "${LIB%/*}/lib-hostile.sh"

sigterm user-term net-rx --net user
timed user-timeout net-rx --net user
finish
