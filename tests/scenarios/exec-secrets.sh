#!/bin/sh
# kvmini exec does not hand out the host's secrets (docs/exec.md, "What
# the job can read"): the host's / is served as the host's nobody, so the
# job cannot read /etc/shadow, a 0600 file of root's, or list a 0700
# directory of root's (/root: the job's own /root is an empty tmpfs),
# not even by mounting the root share again itself, and sees no host process in that share's /proc; it still reads
# world-readable files, builds and runs a C program with the host's gcc,
# and writes to a --share directory. kvmini runs from the build host's /
# (HOSTROOT, tests/lab/run.sh), as in exec-host.sh.
. "$LIB"

if [ -z "${HOSTROOT:-}" ]; then
	echo "exec-secrets: needs the build host's / (HOSTROOT, x86_64 lab)"
	exit 77
fi
[ -x "$HOSTROOT/usr/lib/qemu/virtiofsd" ] || { echo "exec-secrets: no virtiofsd (qemu-system-common)"; exit 77; }
[ -x "$HOSTROOT/bin/busybox" ] || { echo "exec-secrets: no busybox in the host's /"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "exec-secrets: virtiofsd needs root"; exit 77; }

# The lab's /root and /var/tmp in the host's / are tmpfs of its own
# (tests/lab/outer-init): root's secrets go there, as on a real host.
chmod 0700 "$HOSTROOT/root"
echo "root's key" >"$HOSTROOT/root/secret"
chmod 0600 "$HOSTROOT/root/secret"
S=$HOSTROOT/var/tmp/kvmini-secrets
mkdir -p "$S/closed"
chmod 0755 "$S"
chmod 0700 "$S/closed"
echo "root only" >"$S/only-root"
chmod 0600 "$S/only-root"
echo "for everyone" >"$S/world"
chmod 0644 "$S/world"
mkdir -p "$T/sh"

# Each line of stdout but the last three is a leak. The job mounts the
# root share (tag "root") itself too, as a hostile job would, with the
# host's busybox (its own mount(8) is set-uid, see docs/exec.md).
# shellcheck disable=SC2016 # expanded in the job's shell
job='
s=/var/tmp/kvmini-secrets
for f in /etc/shadow /root/secret $s/only-root; do
	cat "$f" >/dev/null && echo "LEAK: read $f"
done
[ -z "$(ls -A /root)" ] || echo "LEAK: /root is not the job'"'"'s own"
mkdir -p /root/.cache && echo home >/root/.cache/x || echo "FAILED: \$HOME not writable"
ls $s/closed >/dev/null 2>&1 && echo "LEAK: listed $s/closed"
mkdir -p /mnt/r && busybox mount -t virtiofs -o ro root /mnt/r || echo "cannot mount the root share"
cat /mnt/r/etc/shadow >/dev/null 2>&1 && echo "LEAK: read /etc/shadow, mounted again"
ls /mnt/r/root >/dev/null 2>&1 && echo "LEAK: listed /root, mounted again"
[ -e /mnt/r/proc/1 ] && echo "LEAK: the host'"'"'s /proc/1"
cat /mnt/r/proc/1/environ >/dev/null 2>&1 && echo "LEAK: read the host'"'"'s /proc/1/environ"
cat $s/world
printf "#include <stdio.h>\nint main(void) { puts(\"built here\"); return 0; }\n" >/tmp/h.c
gcc -o /tmp/h /tmp/h.c && /tmp/h
echo written >/work/out && cat /etc/passwd >/dev/null && echo "shared and read"
'
rc=0
chroot "$HOSTROOT" "$KVMINI_PATH" exec --kernel "$OUTER$KERNEL" --timeout 200 \
	--share "$T/sh:/work" -- sh -c "$job" >"$T/secrets.out" 2>"$T/secrets.err" </dev/null || rc=$?
[ $rc -eq 0 ] && echo "secrets: exit status 0 ok" || fail secrets "exit status $rc, expected 0"
if printf 'for everyone\nbuilt here\nshared and read\n' | cmp -s - "$T/secrets.out"; then
	echo "secrets: no leak; world-readable files, gcc and the share work"
else
	fail secrets "stdout: $(head -c 600 "$T/secrets.out")"
fi
[ "$(cat "$T/sh/out" 2>/dev/null)" = written ] && echo "secrets: the share is writable" ||
	fail secrets "the job could not write to its share"
grep -q "Permission denied" "$T/secrets.err" && echo "secrets: stderr says Permission denied" ||
	fail secrets "stderr has no 'Permission denied'"

# The lab's /root and /var/tmp as outer-init made them, for the scenarios after.
rm -rf "$S" "$HOSTROOT/root/secret"
chmod 0755 "$HOSTROOT/root"

finish
