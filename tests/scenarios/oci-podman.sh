#!/bin/sh
# podman runs containers through kvmini oci (docs/oci.md, "podman"):
# podman and conmon from the build host's / (HOSTROOT), --runtime a
# wrapper that is kvmini oci, --rootfs a static-busybox root, no registry
# and nothing of the host's own storage: podman's root, runroot, tmpdir
# and kvmini oci's state all live under $T. Checks: output and exit
# status (3 and 0), --env, --workdir, -v HOSTDIR:/x written by the
# container and seen here, --memory 256m as the guest's RAM, a guest
# kernel (uname -r is not the outer VM's), --read-only, run -d then ps,
# logs, stop (TERM reaches it), kill, rm, -i (stdin) and -t (a
# terminal), podman's file binds (--add-host in /etc/hosts, --hostname
# in /etc/hostname; the share behind them holds the bound files alone),
# and nothing left in kvmini's state. All of it twice: with kvmini oci's
# snapshot cache empty (under --root: the wrapper gives kvmini no HOME,
# as conmon gives none), then warm, where every VM is restored. Seven
# VMs a pass: about 150 s cold in an idle lab, more when other labs
# share the host's CPUs (hence the limit).
# lab-timeout: 1200
. "$LIB"
. "${LIB%/*}/lib-oci.sh"
t0=$(date +%s)

oci_need oci-podman usr/bin/podman usr/bin/conmon usr/lib/qemu/virtiofsd
oci_cgroup2 || { echo "oci-podman: cannot mount cgroup2 in the outer VM"; exit 77; }

# The runtime: kvmini oci with its state under $T (podman passes no
# --root of its own; its cleanup process would not pass --runtime-flag's).
oci_wrapper "$T/kvmini-oci" --root "$T/oci"

# The rootfs: busybox, and every mount point a read-only root must have.
R=$T/rootfs
oci_rootfs "$R" sh cat echo grep pwd sleep touch uname ls mkdir mount
mkdir -p "$R/var/tmp" "$R/work" "$R/x"
mkdir -p "$T/data" "$T/storage" "$T/run" "$T/tmp"

pm()
{
	hostrun podman --root "$T/storage" --runroot "$T/run" --tmpdir "$T/tmp" \
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file \
		--runtime "$T/kvmini-oci" "$@"
}

# prun NAME WANT PODMAN-RUN-ARGS...: stdout, stderr in $T/NAME.out, .err
prun()
{
	name=$1 want=$2
	shift 2
	rc=0 t=$(date +%s)
	pm run --network none "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null || rc=$?
	if [ "$rc" -eq "$want" ]; then
		echo "$name: exit status $rc ok ($(($(date +%s) - t)) s)"
		return 0
	fi
	fail "$name" "exit status $rc, expected $want: $(head -c 300 "$T/$name.out")"
	return 1
}

# suite: every check (run once per pass).
suite()
{
	# 1. One run: output, exit status 3, env, workdir, a bind mount (writable
	# in a --read-only root), RAM, kernel.
	outer=$(uname -r)
	rm -f "$T/data/f"
	if prun run 3 --rm --read-only --env FOO=bar --workdir /work -v "$T/data:/x" --memory 256m \
		--rootfs "$R" sh -c 'echo out; echo $FOO; pwd; uname -r; grep MemTotal /proc/meminfo; echo written >/x/f
		touch /y 2>/dev/null && echo wrote || echo refused; exit 3'; then
		set -- $(cat "$T/run.out")
		[ "$1 $2 $3" = "out bar /work" ] && echo "run: output, --env, --workdir ok" ||
			fail run "output is not 'out bar /work ...': $*"
		[ -n "$4" ] && [ "$4" != "$outer" ] && echo "run: guest kernel $4, outer $outer" ||
			fail run "uname -r '$4' is the outer kernel's ($outer)"
		# 256 MiB less what the guest kernel keeps for itself.
		[ "${6:-0}" -gt 180000 ] && [ "${6:-0}" -le 262144 ] && echo "run: --memory 256m gives MemTotal $6 kB" ||
			fail run "MemTotal '${6:-}' kB is not about 256 MiB"
		[ "${8:-}" = refused ] && [ ! -e "$R/y" ] && echo "run: --read-only root refused the write" ||
			fail run "--read-only: '${8:-}', expected refused"
	fi
	[ "$(cat "$T/data/f" 2>/dev/null)" = written ] && echo "run: the host sees -v's file" ||
		fail run "no $T/data/f on the host"

	# 2. Detached: ps lists it, stop ends it with TERM (143), rm removes it.
	if prun detach 0 -d --name c3 --rootfs "$R" sleep 300; then
		pm ps --format '{{.Names}} {{.Status}}' >"$T/ps.out" 2>"$T/ps.err"
		grep -q '^c3 Up' "$T/ps.out" && echo "detach: ps shows it up" ||
			fail ps "ps: $(cat "$T/ps.out" "$T/ps.err")"
		t=$(date +%s)
		pm stop -t 20 c3 >"$T/stop.out" 2>"$T/stop.err" || fail stop "podman stop failed"
		echo "stop: took $(($(date +%s) - t)) s"
		st=$(pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' c3 2>"$T/inspect.err")
		[ "$st" = "exited 143" ] && echo "stop: TERM ended it (exit status 143)" ||
			fail stop "after stop: '$st', expected 'exited 143'"
		pm rm c3 >/dev/null 2>"$T/rm.err" && echo "rm: removed" || fail rm "podman rm failed"
	fi

	# 3. kill (SIGKILL): it ends at once, 137.
	if prun detach2 0 -d --name c4 --rootfs "$R" sleep 300; then
		pm kill c4 >/dev/null 2>"$T/kill.err" || fail kill "podman kill failed"
		pm wait c4 >"$T/wait.out" 2>"$T/wait.err"
		[ "$(cat "$T/wait.out")" = 137 ] && echo "kill: SIGKILL ended it (137)" ||
			fail kill "wait says '$(cat "$T/wait.out")', expected 137"
		pm rm c4 >/dev/null 2>"$T/rm4.err" || fail rm4 "podman rm failed"
	fi

	# 4. stdin (-i) and a terminal (-t), as docs/oci.md's Stdio says.
	rc=0
	printf 'x\n' | pm run -i --rm --network none --rootfs "$R" cat >"$T/stdin.out" 2>"$T/stdin.err" || rc=$?
	[ "$rc" -eq 0 ] && [ "$(cat "$T/stdin.out")" = x ] && echo "stdin: run -i passes it" ||
		fail stdin "run -i: status $rc, output '$(head -c 200 "$T/stdin.out")'"
	rc=0
	pm run -t --rm --network none --rootfs "$R" sh -c 'test -t 1 && echo tty' >"$T/tty.out" 2>"$T/tty.err" </dev/null || rc=$?
	[ "$rc" -eq 0 ] && grep -q '^tty' "$T/tty.out" && echo "tty: run -t gives a terminal" ||
		fail tty "run -t: status $rc, output '$(head -c 200 "$T/tty.out")'"

	# 5. podman's file binds: /etc/hosts with --add-host (a network of the
	# host's: none takes no extra hosts), /etc/hostname with --hostname. The
	# guest, root in its kernel, mounts the share of files itself: it holds
	# the bound files alone (named by index), none of their directories'
	# other files (podman's config.json, its logs...).
	rc=0
	pm run --rm --network host --add-host kvhost:10.1.2.3 --rootfs "$R" sh -c 'grep kvhost /etc/hosts' \
		>"$T/hosts.out" 2>"$T/hosts.err" </dev/null || rc=$?
	[ "$rc" -eq 0 ] && grep -q '^10.1.2.3[[:space:]].*kvhost' "$T/hosts.out" &&
		echo "hosts: --add-host is in /etc/hosts" ||
		fail hosts "status $rc, output '$(head -c 200 "$T/hosts.out")' $(head -c 300 "$T/hosts.err")"
	rc=0
	pm run --rm --network none --hostname kvbox --rootfs "$R" sh -c 'cat /etc/hostname; echo
		mkdir -p /tmp/m && mount -t virtiofs share0 /tmp/m && ls -A /tmp/m | tr "\n" " "' \
		>"$T/hostname.out" 2>"$T/hostname.err" </dev/null || rc=$?
	set -- $(cat "$T/hostname.out")
	[ "$rc" -eq 0 ] && [ "${1:-}" = kvbox ] && echo "hostname: --hostname is in /etc/hostname" ||
		fail hostname "status $rc, output '$(head -c 200 "$T/hostname.out")' $(head -c 300 "$T/hostname.err")"
	[ $# -gt 0 ] && shift
	if [ $# -ge 1 ] && ! printf '%s\n' "$@" | grep -qv '^[0-9][0-9]*$'; then
		echo "hostname: the share of files holds the $# bound files alone ($*)"
	else
		fail files "the share of files holds '$*', expected only the bound files (0 1 ...)"
	fi
}

echo "pass 1: an empty snapshot cache"
suite
oci_cache_mark "$T/oci/@snapshots"
echo "pass 2: the cache warm"
suite
oci_cache_check "$T/oci/@snapshots" 3

# Nothing left: no container in podman, no state in kvmini oci's root.
left=$(pm ps -a -q 2>/dev/null)
st=$(ls -A "$T/oci" 2>/dev/null | grep -v '^@snapshots$')
[ -z "$left" ] && [ -z "$st" ] && echo "end: no container, no state left (the snapshot cache stays)" ||
	fail end "left: podman '$left', kvmini oci $st"
echo "oci-podman: $(($(date +%s) - t0)) s"
finish
