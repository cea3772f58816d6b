#!/bin/sh
# kvmini exec on the host's own / (docs/exec.md): the job gets the build
# host's / read-only over virtio-fs, under an overlay whose writes vanish;
# a --share directory the job changes, and the host sees exactly that; a
# read-only share refuses writes; a C program built with the host's gcc
# in a share; --net user reaching a server here, when kvmini has it;
# --vsock reaching a host service's Unix socket;
# and the bad inputs that need no boot (a missing share, no virtiofsd).
# Every exec here uses the snapshot cache under $T (XDG_CACHE_HOME): the
# first job of a shape boots cold and saves, later ones (hosttrue,
# overlay, gcc after share) start from its snapshot; exec-snapshot.sh
# tests the cache itself.
# lab-timeout: 450
# kvmini and virtiofsd run from the build host's / (HOSTROOT,
# tests/lab/run.sh), whose / is then what the job sees.
. "$LIB"
. "${LIB%/*}/lib-exec.sh"

exec_on_host exec-host
export XDG_CACHE_HOME="$T/cache"

# The host's own files and tools, and a startup time with them.
read -r t0 _ </proc/uptime
hrun hostroot 0 -- sh -c 'cat /etc/debian_version; command -v gcc' &&
	is hostroot out "$(cat "$HOSTROOT/etc/debian_version")\n/usr/bin/gcc\n"
echo "startup: kvmini exec -- sh -c ... (host root) took $(secs_since "$t0") s"
read -r t0 _ </proc/uptime
hrun hosttrue 0 -- true
echo "startup: kvmini exec -- true (host root, virtiofsd) took $(secs_since "$t0") s"

# Installed as make install lays it out (tests/install.sh checks that):
# PREFIX/bin/kvmini finds PREFIX/share/kvmini/x86_64/bzImage by itself.
if [ -n "$HOSTROOT" ]; then
	I=/var/tmp/kvmini-installed
	mkdir -p "$HOSTROOT$I/bin" "$HOSTROOT$I/share/kvmini/x86_64"
	cp "$HOSTROOT$KX" "$HOSTROOT$I/bin/kvmini"
	cp "$HOSTROOT$K" "$HOSTROOT$I/share/kvmini/x86_64/bzImage"
	rc=0
	kx env -u KVMINI_KERNEL "$I/bin/kvmini" exec --timeout 200 -- echo installed \
		>"$T/installed.out" 2>"$T/installed.err" </dev/null || rc=$?
	if [ $rc -eq 0 ] && [ "$(cat "$T/installed.out")" = installed ]; then
		echo "installed: kvmini exec found its kernel in share/kvmini: ok"
	else
		fail installed "exit status $rc, stdout '$(cat "$T/installed.out")'"
	fi
	rm -rf "${HOSTROOT:?}$I"
fi

# Writes to / land in the overlay and vanish with the VM.
hrun overlay 0 -- sh -c 'echo x >/etc/kvmini-exec-test && cat /etc/kvmini-exec-test &&
	rm /etc/os-release && test ! -e /etc/os-release' && is overlay out 'x\n'
[ ! -e "$HOSTROOT/etc/kvmini-exec-test" ] && [ -e "$HOSTROOT/etc/os-release" ] &&
	echo "overlay: the host's / is untouched" || fail overlay "the job changed the host's /"

# A share: the job creates, modifies and deletes; the host sees exactly that.
mkdir -p "$T/sh"
echo keep >"$T/sh/keep"
echo old >"$T/sh/mod"
echo gone >"$T/sh/gone"
hrun share 0 --share "$T/sh:/work" -- sh -c 'pwd; echo new >created; echo changed >mod;
	rm gone; mkdir d; echo in >d/f' && is share out '/work\n'
[ "$(cat "$T/sh/created")" = new ] && [ "$(cat "$T/sh/mod")" = changed ] &&
	[ ! -e "$T/sh/gone" ] && [ "$(cat "$T/sh/d/f")" = in ] && [ "$(cat "$T/sh/keep")" = keep ] &&
	[ "$(ls "$T/sh" | tr '\n' ' ')" = "created d keep mod " ] &&
	echo "share: the host sees exactly the job's changes" || fail share "the share is not as the job left it"

# A read-only share refuses writes, and stays as it was.
hrun share-ro 9 --share "$T/sh:/work,ro" -- sh -c 'cat keep && echo x >nope || exit 9' && is share-ro out 'keep\n'
[ ! -e "$T/sh/nope" ] && echo "share-ro: nothing written" || fail share-ro "the job wrote to a ro share"

# A real build: the host's gcc, in a share, and the program runs.
mkdir -p "$T/src"
printf '#include <stdio.h>\nint main(void) { puts("hello from the guest"); return 3; }\n' >"$T/src/hello.c"
hrun gcc 3 --share "$T/src:/src" -- sh -c 'gcc -O2 -o hello hello.c && ./hello' &&
	is gcc out 'hello from the guest\n'
[ -x "$T/src/hello" ] && echo "gcc: the binary is on the host" || fail gcc "no binary on the host"

# Bad inputs: a missing share directory, no virtiofsd; nothing boots.
hrun no-dir 125 --share "$T/none" -- true && stderr no-dir "$T/none: No such file"
rc=0
kx env KVMINI_VIRTIOFSD=/nonexistent "$KX" exec --kernel "$K" \
	-- true >"$T/no-virtiofsd.out" 2>"$T/no-virtiofsd.err" </dev/null || rc=$?
[ $rc -eq 125 ] && stderr no-virtiofsd "qemu-system-common" || fail no-virtiofsd "exit status $rc"

# --net user: the job reaches a server on this side's loopback through
# the user network's gateway; without network, it cannot. A kvmini built
# without libslirp (the static build) says so, and the test is skipped.
ip link set lo up 2>/dev/null || ifconfig lo up
mkdir -p "$T/www"
echo "served to the job" >"$T/www/hello.txt"
busybox httpd -p 127.0.0.1:18080 -h "$T/www"
rc=0
kx "$KX" exec --kernel "$K" --timeout 200 --net user -- wget -q -O - http://10.0.2.2:18080/hello.txt \
	>"$T/net.out" 2>"$T/net.err" </dev/null || rc=$?
if [ $rc -eq 125 ] && grep -q "without libslirp" "$T/net.err"; then
	echo "net: this kvmini has no user networking: skipped"
elif [ $rc -eq 0 ]; then
	echo "net: exit status 0 ok"
	is net out 'served to the job\n'
	hrun net-none 4 -- wget -q -T 5 -O - http://10.0.2.2:18080/hello.txt
else
	fail net "exit status $rc, expected 0"
fi
pkill -f "httpd -p 127.0.0.1:18080" 2>/dev/null

# --vsock: the job reaches a host service on a Unix socket, with no
# network, through the host's own socat (VSOCK-CONNECT) in the job.
if kx sh -c 'command -v socat' >/dev/null 2>&1; then
	rm -f "$T/v.sock_5000" "$T/vsock.got"
	kx socat -u "UNIX-LISTEN:$T/v.sock_5000" "OPEN:$T/vsock.got,creat" &
	lpid=$!
	hrun vsock 0 --vsock "3,uds=$T/v.sock" -- \
		sh -c 'echo "job to host over vsock" | socat -u - VSOCK-CONNECT:2:5000'
	sleep 1
	kill "$lpid" 2>/dev/null
	if [ "$(cat "$T/vsock.got" 2>/dev/null)" = "job to host over vsock" ]; then
		echo "vsock: the host's listener got the job's line"
	else
		fail vsock "the host's listener got '$(cat "$T/vsock.got" 2>/dev/null)'"
	fi
else
	fail vsock "no socat in the build host's / (make deps)"
fi

finish
