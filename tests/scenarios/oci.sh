#!/bin/sh
# kvmini oci (docs/oci.md) driven as a container engine would: create,
# start, state, kill and delete on a bundle whose rootfs is the build
# host's static busybox. The container's output and exit status, its env,
# cwd, uid/gid and groups, hostname, a bind mount it writes and the host then
# sees, a read-only root it cannot write, a running container that
# delete refuses and kill (TERM) ends, stdin passed through, a TERM that
# a trap in the container sees, two INTs that end one that ignores INT,
# and a terminal whose master goes to
# --console-socket (its size set there reaches the guest's pty). A small
# Python program plays the
# engine's part of subreaper, so that the container's exit status, which
# is kvmini's own, reaches it. kvmini and virtiofsd run from the build
# host's / (HOSTROOT), as in exec-host.
# All of it twice: first with an empty snapshot cache (the first VM of
# each shape boots cold and is saved), then with that cache warm, where
# every VM is restored: the same checks must pass both ways, and the
# cache's entries show the second pass restored each shape (each key's
# stamp touched, no snapshot replaced, none added).
# lab-timeout: 1800
. "$LIB"
. "${LIB%/*}/lib-oci.sh"

if [ -n "${HOSTROOT:-}" ]; then
	kx()
	{
		chroot "$HOSTROOT" /usr/bin/env KVMINI_KERNEL="$K" XDG_CACHE_HOME="$T/cache" "$@"
	}
	K=$OUTER$KERNEL
	KX=$KVMINI_PATH
else
	echo "oci: needs the build host's / (HOSTROOT, x86_64 lab)"
	exit 77
fi
[ -x "$HOSTROOT/usr/lib/qemu/virtiofsd" ] || { echo "oci: no virtiofsd (qemu-system-common)"; exit 77; }
[ -x "$HOSTROOT/usr/bin/python3" ] || { echo "oci: no python3 on the build host"; exit 77; }
# The rootfs's only program: it must need no libraries.
kx sh -c 'ldd /usr/bin/busybox 2>&1' | grep -q 'not a dynamic executable' ||
	{ echo "oci: no static busybox on the build host (busybox-static)"; exit 77; }

R=$T/state
mkdir -p "$R"

# A bundle: rootfs with busybox and the directories the guest mounts on.
# bundle DIR CONFIG_JSON
bundle()
{
	mkdir -p "$1/rootfs/bin" "$1/rootfs/proc" "$1/rootfs/sys" "$1/rootfs/dev" \
		"$1/rootfs/work" "$1/rootfs/data" "$1/rootfs/tmp"
	cp "$HOSTROOT/usr/bin/busybox" "$1/rootfs/bin/busybox"
	for a in sh cat echo id hostname pwd touch sleep ls grep stty nc tail printf mkdir mount tr; do
		ln -sf busybox "$1/rootfs/bin/$a"
	done
	printf '%s\n' "$2" >"$1/config.json"
}

# The engine: subreaper, create, start, then (optionally) a shell line,
# then the container's exit status as its own.
cat >"$T/engine.py" <<'EOF'
import ctypes, os, signal, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER
kx, root, bundle, cid, then = sys.argv[1:6]
oci = [kx, "oci", "--root", root]
pidfile = root + "/" + cid + ".pid"
# As an engine's: SIGINT as the default, whatever this script inherited.
if subprocess.call(oci + ["create", "--bundle", bundle, "--pid-file", pidfile, cid],
		   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)):
	sys.exit(200)
pid = int(open(pidfile).read())
if subprocess.call(oci + ["start", cid]):
	sys.exit(201)
if then and subprocess.call(["sh", "-c", then]):
	os.kill(pid, 9)
	sys.exit(202)
_, st = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
EOF

# The same with process.terminal: a console socket that receives the
# pty's master, a window size set on it before start, and the master's
# output copied to stdout until the container's side is closed.
cat >"$T/engine-tty.py" <<'EOF'
import ctypes, fcntl, os, socket, struct, subprocess, sys, termios
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER
kx, root, bundle, cid = sys.argv[1:5]
oci = [kx, "oci", "--root", root]
pidfile = root + "/" + cid + ".pid"
path = root + "/" + cid + ".sock"
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
if subprocess.call(oci + ["create", "--bundle", bundle, "--pid-file", pidfile,
			  "--console-socket", path, cid]):
	sys.exit(200)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
if len(fds) != 1:
	sys.exit(203)
master = fds[0]
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
pid = int(open(pidfile).read())
if subprocess.call(oci + ["start", cid]):
	sys.exit(201)
seen = b""
while True:
	try:
		b = os.read(master, 4096)
	except OSError:
		break		# EIO: no one has the terminal open any more
	if not b:
		break
	os.write(1, b)
	# The engine resizes the terminal once the first size is out: the
	# kernel signals kvmini (SIGWINCH), which sends the new size on.
	if seen is not None:
		seen += b
		if b"30 100" in seen:
			fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
			seen = None
_, st = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
EOF

# engine NAME WANT BUNDLE ID [THEN]: stdout, stderr in $T/NAME.out, .err;
# stdin is $T/NAME.in if there is one.
engine()
{
	rc=0
	in=/dev/null
	[ -f "$T/$1.in" ] && in=$T/$1.in
	kx python3 "$T/engine.py" "$KX" "$R" "$3" "$4" "${5:-}" \
		>"$T/$1.out" 2>"$T/$1.err" <"$in" || rc=$?
	if [ "$rc" -eq "$2" ]; then
		echo "$1: exit status $rc ok"
		return 0
	fi
	fail "$1" "exit status $rc, expected $2"
	return 1
}

# is NAME STREAM TEXT (printf format)
is()
{
	# shellcheck disable=SC2059
	if printf "$3" | cmp -s - "$T/$1.$2"; then
		echo "$1: std$2 ok"
		return 0
	fi
	fail "$1" "std$2 is not '$3': $(head -c 300 "$T/$1.$2" | od -c | head -n 8)"
}

# suite: every check (run once per pass).
suite()
{
	# 1. A run: output, status, env, cwd, user and groups, hostname, a bind mount.
	mkdir -p "$T/data"
	chmod 0777 "$T/data"
	rm -f "$T/data/f"
	bundle "$T/b1" '{"ociVersion":"1.0.2","hostname":"ocibox",
	 "process":{"args":["sh","-c","echo out; echo err >&2; id -u; id -g; set -- $(grep ^Groups: /proc/self/status); echo $2 $3; hostname; pwd; echo $FOO; echo written >/data/f; exit 7"],
	  "env":["PATH=/bin","FOO=bar"],"cwd":"/work","user":{"uid":1000,"gid":1001,"additionalGids":[10,20]}},
	 "root":{"path":"rootfs"},
	 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
	  {"destination":"/data","type":"bind","source":"'"$T/data"'","options":["rbind","rw"]},
	  {"destination":"/scratch","type":"tmpfs","source":"tmpfs"}]}'
	engine run 7 "$T/b1" c1 && is run out 'out\n1000\n1001\n10 20\nocibox\n/work\nbar\n' && is run err 'err\n'
	[ "$(cat "$T/data/f" 2>/dev/null)" = written ] && echo "run: the host sees the bind mount's file" ||
		fail run "no /data/f on the host"
	kx "$KX" oci --root "$R" state c1 >"$T/state1.out" 2>"$T/state1.err" &&
		grep -q '"status":"stopped"' "$T/state1.out" && echo "run: state says stopped" ||
		fail state1 "state: $(cat "$T/state1.out" "$T/state1.err")"
	kx "$KX" oci --root "$R" delete c1 2>"$T/del1.err" && [ ! -e "$R/c1" ] &&
		echo "run: deleted, no state left" || fail del1 "delete failed or left $R/c1"

	# 1b. File binds: one read-only, one read-write, from a directory
	# that holds a secret too. The container reads the first and cannot
	# write it, appends to the second (the host sees it), and, root in
	# its kernel, mounts the shares behind them itself: they hold the
	# bound files alone (named by index), never the secret beside them.
	mkdir -p "$T/fdir"
	echo motd >"$T/fdir/motd"
	echo first >"$T/fdir/rw.txt"
	echo secret >"$T/fdir/secret"
	bundle "$T/b1f" '{"ociVersion":"1.0.2","process":{"args":["sh","-c","cat /etc/motd; echo x >/etc/motd 2>/dev/null && echo wrote || echo refused; echo second >>/var/rw.txt; for s in share0 share1; do mkdir -p /tmp/$s; mount -t virtiofs $s /tmp/$s && ls -A /tmp/$s | tr \"\\n\" \" \"; done; echo"],"cwd":"/"},
	 "root":{"path":"rootfs"},
	 "mounts":[{"destination":"/etc/motd","type":"bind","source":"'"$T/fdir/motd"'","options":["rbind","ro"]},
	  {"destination":"/var/rw.txt","type":"bind","source":"'"$T/fdir/rw.txt"'","options":["rbind","rw"]}]}'
	printf 'first\n' >"$T/fdir/rw.txt"
	engine files 0 "$T/b1f" c1f && is files out 'motd\nrefused\n0 1 \n'
	[ "$(cat "$T/fdir/rw.txt")" = "$(printf 'first\nsecond')" ] && echo "files: the host sees the rw file's append" ||
		fail files "rw.txt on the host: '$(cat "$T/fdir/rw.txt")'"
	[ "$(cat "$T/fdir/motd")" = motd ] || fail files "the ro file changed"
	kx "$KX" oci --root "$R" delete c1f 2>/dev/null

	# 2. A read-only root: writes fail, the rootfs is untouched.
	bundle "$T/b2" '{"ociVersion":"1.0.2","process":{"args":["sh","-c","touch /x 2>/dev/null && echo wrote || echo refused"],"cwd":"/"},
	 "root":{"path":"rootfs","readonly":true}}'
	engine ro 0 "$T/b2" c2 && is ro out 'refused\n'
	[ ! -e "$T/b2/rootfs/x" ] && echo "ro: the rootfs is untouched" || fail ro "the container wrote to its ro root"
	kx "$KX" oci --root "$R" delete c2 2>/dev/null

	# 3. A running container: state says so, delete refuses it, kill ends it
	# (TERM: kvmini ends the VM with 128+15).
	bundle "$T/b3" '{"ociVersion":"1.0.2","process":{"args":["sleep","300"],"cwd":"/"},"root":{"path":"rootfs"}}'
	then="o='$KX oci --root $R'; \$o state c3 | grep -q '\"status\":\"running\"' || exit 1;
		\$o delete c3 2>/dev/null && exit 1; \$o kill c3 TERM"
	engine kill 143 "$T/b3" c3 "$then"
	kx "$KX" oci --root "$R" delete c3 2>"$T/del3.err" && [ ! -e "$R/c3" ] &&
		echo "kill: deleted after it stopped" || fail del3 "delete failed"

	# 4. delete --force of a running container.
	bundle "$T/b4" '{"ociVersion":"1.0.2","process":{"args":["sleep","300"],"cwd":"/"},"root":{"path":"rootfs"}}'
	then="$KX oci --root $R delete --force c4"
	engine force 137 "$T/b4" c4 "$then" && [ ! -e "$R/c4" ] && echo "force: gone"

	# 5. stdin: the container's is the engine's, to its end (podman run -i).
	bundle "$T/b5" '{"ociVersion":"1.0.2","process":{"args":["cat"],"cwd":"/"},"root":{"path":"rootfs"}}'
	printf 'x\0y\n' >"$T/stdin.in"
	engine stdin 0 "$T/b5" c5 && is stdin out 'x\0y\n'
	kx "$KX" oci --root "$R" delete c5 2>/dev/null

	# 6. kill TERM reaches the container's process, whose trap decides
	# (podman stop); the status is the one it exits with.
	bundle "$T/b6" '{"ociVersion":"1.0.2","process":{"args":["sh","-c","trap \"echo got TERM; exit 3\" TERM; echo ready; while :; do sleep 1; done"],"cwd":"/"},"root":{"path":"rootfs"}}'
	then="i=0; until grep -q ready $T/trap.out; do i=\$((i + 1)); [ \$i -lt 1200 ] || exit 1; sleep 0.1; done;
		$KX oci --root $R kill c6 TERM"
	engine trap 3 "$T/b6" c6 "$then" && is trap out 'ready\ngot TERM\n'
	kx "$KX" oci --root "$R" delete c6 2>/dev/null

	# 6b. A second INT within a second ends the VM (130), for a process
	# that ignores the first (a stuck Ctrl-C); KILL if it did not.
	bundle "$T/b9" '{"ociVersion":"1.0.2","process":{"args":["sh","-c","trap \"\" INT; echo ready; sleep 300"],"cwd":"/"},"root":{"path":"rootfs"}}'
	then="i=0; until grep -q ready $T/int2.out; do i=\$((i + 1)); [ \$i -lt 1200 ] || exit 1; sleep 0.1; done;
		p=\$(cat $R/c9.pid); kill -INT \$p; kill -INT \$p; i=0;
		while [ \"\$(cut -d' ' -f3 /proc/\$p/stat 2>/dev/null)\" != Z ] && [ \$i -lt 100 ]; do
			i=\$((i + 1)); sleep 0.1; done;
		kill -KILL \$p 2>/dev/null; true"
	engine int2 130 "$T/b9" c9 "$then"
	kx "$KX" oci --root "$R" delete c9 2>/dev/null

	# 7. process.terminal with --console-socket (podman run -t): the
	# container's streams are a terminal in the guest, with the size the
	# engine set on the master, and then the size it changes it to.
	bundle "$T/b7" '{"ociVersion":"1.0.2","process":{"terminal":true,"args":["sh","-c","test -t 0 && test -t 1 && echo tty; stty size; i=0; while [ \"$(stty size)\" = \"30 100\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; stty size"],"cwd":"/"},"root":{"path":"rootfs"}}'
	rc=0
	rm -f "$R/c7.sock"	# the first pass's
	kx python3 "$T/engine-tty.py" "$KX" "$R" "$T/b7" c7 >"$T/tty.out" 2>"$T/tty.err" </dev/null || rc=$?
	if [ $rc -eq 0 ]; then
		echo "tty: exit status 0 ok"
		is tty out 'tty\r\n30 100\r\n40 120\r\n'
	else
		fail tty "exit status $rc, expected 0: out '$(head -c 300 "$T/tty.out" | tr -d '\r')' err '$(head -c 500 "$T/tty.err")'"
	fi
	kx "$KX" oci --root "$R" delete c7 2>/dev/null
	# Without the socket, a terminal is refused as runc refuses it.
	rc=0
	kx "$KX" oci --root "$R" create --bundle "$T/b7" c8 >"$T/nosock.out" 2>"$T/nosock.err" </dev/null || rc=$?
	if [ $rc -ne 0 ] && [ ! -e "$R/c8" ]; then
		stderr nosock 'console-socket'
	else
		fail nosock "exit status $rc, or state left behind"
	fi

	# 8. Networking (oci_net.c): the network namespace config.json names is
	# the container's. Two namespaces this test makes, joined by a veth pair:
	# the container's (10.77.0.1) and a peer's (10.77.0.2) serving a token
	# over HTTP; the guest's wget reaches it through user networking opened
	# inside the container's namespace. A namespace with loopback alone
	# gives a guest without a NIC; a path that is no namespace fails create.
	ns()
	{
		kx ip netns "$@"
	}
	if ns add kvmini-oci-a && ns add kvmini-oci-b && ns add kvmini-oci-lo &&
		kx ip link add kvoa netns kvmini-oci-a type veth peer name kvob netns kvmini-oci-b &&
		ns exec kvmini-oci-a ip addr add 10.77.0.1/24 dev kvoa &&
		ns exec kvmini-oci-a ip link set kvoa up &&
		ns exec kvmini-oci-b ip addr add 10.77.0.2/24 dev kvob &&
		ns exec kvmini-oci-b ip link set kvob up; then
		mkdir -p "$T/www"
		tok=token-$$-$(date +%s)
		echo "$tok" >"$T/www/token"
		ns exec kvmini-oci-b python3 -m http.server --bind 10.77.0.2 --directory "$T/www" 8080 \
			>"$T/http.log" 2>&1 &
		http=$!
		# busybox's wget crashes in the static build's name service code;
		# nc with a numeric address and port needs none.
		nic='[ -e /sys/class/net/eth0 ] && echo nic || echo no nic'
		bundle "$T/b11" '{"ociVersion":"1.0.2","process":{"args":["sh","-c","printf \"GET /token HTTP/1.0\\r\\n\\r\\n\" | nc 10.77.0.2 8080 | tail -n 1; '"$nic"'"],"cwd":"/"},
	 "root":{"path":"rootfs"},"mounts":[{"destination":"/sys","type":"sysfs","source":"sysfs"}],
	 "linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/run/netns/kvmini-oci-a"}]}}'
		engine netns 0 "$T/b11" c11 && is netns out "$tok\\nnic\\n"
		kx "$KX" oci --root "$R" delete c11 2>/dev/null
		bundle "$T/b12" '{"ociVersion":"1.0.2","process":{"args":["sh","-c","'"$nic"'"],"cwd":"/"},
	 "root":{"path":"rootfs"},"mounts":[{"destination":"/sys","type":"sysfs","source":"sysfs"}],
	 "linux":{"namespaces":[{"type":"network","path":"/run/netns/kvmini-oci-lo"}]}}'
		engine netns-lo 0 "$T/b12" c12 && is netns-lo out 'no nic\n'
		kx "$KX" oci --root "$R" delete c12 2>/dev/null
		kill "$http" 2>/dev/null
	else
		fail netns "cannot make the test's network namespaces"
	fi
	ns del kvmini-oci-a 2>/dev/null
	ns del kvmini-oci-b 2>/dev/null
	ns del kvmini-oci-lo 2>/dev/null
	bundle "$T/b10" '{"ociVersion":"1.0.2","process":{"args":["true"],"cwd":"/"},"root":{"path":"rootfs"},
	 "linux":{"namespaces":[{"type":"network","path":"/proc/self/ns/uts"}]}}'
	if kx "$KX" oci --root "$R" create --bundle "$T/b10" c10 >"$T/netbad.out" 2>"$T/netbad.err"; then
		fail netbad "create took a path that is no network namespace"
	elif [ "$(wc -l <"$T/netbad.err")" -eq 1 ] && grep -q "not a network namespace" "$T/netbad.err" &&
		[ ! -e "$R/c10" ]; then
		echo "netbad: refused in one line, nothing left"
	else
		fail netbad "$(cat "$T/netbad.err"; ls "$R")"
	fi

}

C=$T/cache/kvmini/exec-snapshots
echo "pass 1: an empty snapshot cache"
suite
oci_cache_mark "$C"
echo "pass 2: the cache warm"
suite
oci_cache_check "$C" 4
finish
