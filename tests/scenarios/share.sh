#!/bin/sh
# virtio-fs with --share (docs/virtio-fs.md), end to end with the real
# virtiofsd: the guest mounts a shared directory, reads the host's file,
# creates, modifies and deletes files, and the host finds exactly those
# changes; the device survives a reset. A ",ro" share refuses every
# write, also after the guest remounts it read-write, and the directory
# stays as it was; so does the host's / shared read-only, as kvmini exec
# shares it. No virtiofsd is left behind. Also the errors that need
# no boot: a missing directory, no virtiofsd, a bad tag.
#
# virtiofsd (and a dynamically linked kvmini) come from the build host's
# / (HOSTROOT, tests/lab/run.sh): kvmini runs chrooted there.
. "$LIB"

if [ -n "${HOSTROOT:-}" ]; then
	kvmini()
	{
		chroot "$HOSTROOT" "$KVMINI_PATH" "$@"
	}
	K=$OUTER$KERNEL I=$OUTER$INITRD
	root=$HOSTROOT
else
	kvmini()
	{
		"$KVMINI" "$@"
	}
	K=$KERNEL I=$INITRD
	root=
fi
[ -x "$root/usr/lib/qemu/virtiofsd" ] || { echo "share: no virtiofsd (qemu-system-common)"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "share: virtiofsd needs root"; exit 77; }

# boot NAME WANT [kvmini run options...]: guest() through kvmini().
boot()
{
	name=$1 want=$2
	shift 2
	rc=0
	kvmini run --kernel "$K" --initrd "$I" --timeout 120 \
		--console "file:$T/$name.log" "$@" 2>"$T/$name.err" || rc=$?
	if [ "$rc" -eq "$want" ]; then
		echo "$name: exit status $rc ok"
		return 0
	fi
	fail "$name" "exit status $rc, expected $want"
	return 1
}

# no_virtiofsd NAME: none that kvmini started (virtiofsd --fd=N) is left.
no_virtiofsd()
{
	if ps -o pid,args 2>/dev/null | grep -v grep | grep -q "virtiofsd --fd="; then
		ps -o pid,args | grep "virtiofsd --fd="
		fail "$1" "a virtiofsd is still running"
	else
		echo "$1: no virtiofsd left"
	fi
}

# tree DIR: every file's name and checksum, for before and after.
tree()
{
	(cd "$1" && find . | LC_ALL=C sort | while read -r f; do
		if [ -f "$f" ]; then
			echo "$f $(sha256sum <"$f" | cut -d' ' -f1)"
		else
			echo "$f"
		fi
	done)
}

# ---- errors found before any boot ----------------------------------------

# refused NAME REGEX [options...]: status 125, one line matching REGEX.
refused()
{
	what=$1 says=$2
	shift 2
	boot "$what" 125 --dump-dtb "$T/$what.dtb" "$@" || return
	if [ "$(wc -l <"$T/$what.err")" -ne 1 ]; then
		fail "$what" "not one line on stderr"
	else
		stderr "$what" "$says"
	fi
}

mkdir -p "$T/data"
refused missing-dir "share 'data': $T/none: No such file or directory" --share "$T/none:data"
export KVMINI_VIRTIOFSD=/nonexistent/virtiofsd
refused no-virtiofsd \
	"virtiofsd, not found at /nonexistent/virtiofsd: install qemu-system-common" \
	--share "$T/data:data"
unset KVMINI_VIRTIOFSD
refused bad-tag "--share '$T/data:a b': TAG must be" --share "$T/data:a b"
no_virtiofsd errors

# ---- read-write ------------------------------------------------------------------

echo "hello from the host" >"$T/data/from-host"
echo "first line" >"$T/data/modify-me"
echo "doomed" >"$T/data/delete-me"
boot rw 0 --mem 512M --share "$T/data:data" --cmdline "kvmini.script=share kvmini.args=data,rw"
console rw "share: host file says 'hello from the host'"
console rw "share: after reset 'made in the guest'"
console rw "share: rw done"
no_virtiofsd rw
if [ "$(cat "$T/data/new" 2>/dev/null)" = "made in the guest" ]; then
	echo "rw: the host sees the guest's new file"
else
	fail rw "new is missing or wrong"
fi
if [ "$(cat "$T/data/modify-me")" = "$(printf 'first line\nand more')" ]; then
	echo "rw: the host sees the guest's append"
else
	fail rw "modify-me: '$(cat "$T/data/modify-me")'"
fi
[ ! -e "$T/data/delete-me" ] && echo "rw: delete-me is gone" || fail rw "delete-me is still there"
big=$(sha256sum <"$T/data/dir/sub/big" 2>/dev/null | cut -d' ' -f1)
if tr -d '\r' <"$T/rw.log" | grep -q "^share: big $big\$"; then
	echo "rw: dir/sub/big matches the guest's checksum"
else
	fail rw "dir/sub/big differs from what the guest wrote"
fi

# ---- read-only ------------------------------------------------------------------

before=$(tree "$T/data")
boot ro 0 --share "$T/data:data,ro" --share /:host,ro \
	--cmdline "kvmini.script=share kvmini.args=data,ro,host"
console ro "share: host file says 'hello from the host'"
console ro "share: ro: touch /mnt/new: .*Read-only file system"
console ro "share: remounted: data /mnt virtiofs rw"
console ro "share: ro after remount: touch /mnt/new: .*Read-only file system"
console ro "share: ro after remount: rm /mnt/from-host: .*Read-only file system"
console ro "share: ro after remount: mkdir /mnt/newdir: .*Read-only file system"
console ro "share: host root: ID=debian"
console ro "share: host root mkdir: .*Read-only file system"
console ro "share: ro done"
no_virtiofsd ro
if [ "$(tree "$T/data")" = "$before" ]; then
	echo "ro: the directory is as it was"
else
	fail ro "the read-only share changed"
fi
finish
