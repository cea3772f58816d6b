#!/bin/sh
# A hostile guest against virtio-net on a tap (issue #17), inside a network
# namespace of this scenario's own (nothing leaves it): a driver of its own
# (guests/tools/hostile.c, with Linux's unbound) re-posts, forever, a
# transmit chain shorter than the virtio-net header (dropped), and in a
# second guest receive buffers the device may only read (unusable) while
# pings come in from this side. For each, kvmini must still serve the rng,
# end within a second of SIGTERM with 143, and end by itself with 124 at
# --timeout.
# Needs tun in the kernel (the lab loads tun.ko).
. "$LIB"

[ -c /dev/net/tun ] || { echo "hostile-tap: no /dev/net/tun here"; exit 77; }
if [ -z "${HOSTILE_NETNS:-}" ]; then
	HOSTILE_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
tunctl -t tap0 >/dev/null && ip addr add 10.0.99.1/24 dev tap0 && ip link set tap0 up ||
	{ echo "hostile-tap: cannot set up tap0"; exit 1; }

# The endless loops, their SIGTERM and --timeout checks (as in
# hostile-blk, -tap and -user.sh).
. "${LIB%/*}/lib-hostile.sh"

sigterm tx-term net-tx --net tap=tap0
timed tx-timeout net-tx --net tap=tap0

# Frames for the receive loop: pings to the guest's MAC, which the guest
# never answers (its driver is ours).
arp -i tap0 -s 10.0.99.2 52:54:00:12:34:56
ping -q -i 0.02 10.0.99.2 >/dev/null 2>&1 &
pinger=$!
sigterm rx-term net-rx --net tap=tap0
timed rx-timeout net-rx --net tap=tap0
kill "$pinger"
finish
