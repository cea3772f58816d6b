#!/bin/sh
# containerd runs containers through kvmini oci (docs/oci.md,
# "containerd"): containerd and ctr from the build host's / (HOSTROOT),
# started here with its root, state, socket and config under $T; `ctr run
# --runc-binary` names a wrapper that is kvmini oci, so that containerd's
# runc shim (io.containerd.runc.v2) drives it as it drives runc, with its
# state under $T too (--runc-root). A static-busybox --rootfs, no image.
# Checks: output and exit status (3 and 0), a guest kernel, then
# containerd stopped with no shim, container or state left. The runs
# twice: with kvmini oci's snapshot cache empty (under the shim's --root:
# the wrapper gives kvmini no HOME, as a containerd service has none),
# then warm, where they are restored.
. "$LIB"
. "${LIB%/*}/lib-oci.sh"
t0=$(date +%s)

oci_need oci-ctr usr/bin/containerd usr/bin/ctr usr/bin/containerd-shim-runc-v2 \
	usr/lib/qemu/virtiofsd
oci_wrapper "$T/kvmini-oci"
R=$T/rootfs
oci_rootfs "$R" sh echo uname

# containerd of its own: nothing of the host's (no CRI, no /opt).
C=$T/containerd
mkdir -p "$C/fifo"
cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$C/sock"
[ttrpc]
  address = "$C/sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$C/opt"
EOF
# Its own PID (not the chroot's) in $C/pid, to stop it by.
hostrun sh -c 'echo $$ >"$1"; exec containerd --config "$2"' sh "$C/pid" "$C/config.toml" \
	>"$T/containerd.log" 2>&1 &
i=0
until hostrun ctr -a "$C/sock" version >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 60 ] || { fail containerd "no socket after 30 s: $(tail -n 5 "$T/containerd.log")"; stop; exit 1; }
	sleep 0.5
done
echo "containerd: up"

stop()
{
	kill "$(cat "$C/pid")"
	wait
}

# crun NAME WANT ID CMD...: stdout, stderr in $T/NAME.out, .err
crun()
{
	name=$1 want=$2 id=$3
	shift 3
	rc=0
	hostrun ctr -a "$C/sock" run --rm --fifo-dir "$C/fifo" --runc-binary "$T/kvmini-oci" \
		--runc-root "$T/oci" --rootfs "$R" "$id" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null || rc=$?
	if [ "$rc" -eq "$want" ]; then
		echo "$name: exit status $rc ok"
		return 0
	fi
	fail "$name" "exit status $rc, expected $want: $(head -c 300 "$T/$name.out")"
	return 1
}

# suite: the runs (once per pass).
suite()
{
	outer=$(uname -r)
	if crun run 3 c1 sh -c 'echo out; echo err >&2; uname -r; exit 3'; then
		set -- $(cat "$T/run.out")
		[ "$1" = out ] && [ "$(cat "$T/run.err")" = err ] && echo "run: stdout and stderr ok" ||
			fail run "stdout '$(cat "$T/run.out")', stderr '$(cat "$T/run.err")'"
		[ -n "${2:-}" ] && [ "$2" != "$outer" ] && echo "run: guest kernel $2, outer $outer" ||
			fail run "uname -r '${2:-}' is the outer kernel's ($outer)"
	fi
	crun zero 0 c2 echo hello && { [ "$(cat "$T/zero.out")" = hello ] && echo "zero: output ok" ||
		fail zero "output '$(cat "$T/zero.out")'"; }
}

echo "pass 1: an empty snapshot cache"
suite
oci_cache_mark "$T/oci/default/@snapshots"
echo "pass 2: the cache warm"
suite
oci_cache_check "$T/oci/default/@snapshots" 1

left=$(hostrun ctr -a "$C/sock" containers ls -q 2>&1)
[ -z "$left" ] && echo "ctr: no container left" || fail ctr "left: $left"
# procs ERE: the command lines of this VM's processes that match
procs()
{
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\000' ' ' <"$f"; } 2>/dev/null
		echo
	done | grep -E "$1"
}
# The scan itself must see containerd, or its "no shim" below says nothing.
procs "[c]ontainerd --config $C/config.toml" >/dev/null || fail procs "the /proc scan does not see containerd"
stop
# A shim outlives containerd by design; ours must have gone with the task.
shims=$(procs "[c]ontainerd-shim.*$C/sock")
# The shim's --root is --runc-root/NAMESPACE, which stays, as runc's does.
# The snapshot cache stays there too.
[ -z "$shims" ] && [ -d "$T/oci/default" ] && [ -z "$(ls -A "$T/oci/default" | grep -v '^@snapshots$')" ] &&
	echo "end: no shim, no container state left" ||
	fail end "left: shims '$shims', state $(ls -A "$T/oci" "$T/oci/default" 2>&1)"
echo "oci-ctr: $(($(date +%s) - t0)) s"
finish
