#!/bin/sh
# virtio-blk end to end, in three boots. The guest makes ext4 file systems
# and writes files of random content, and fio verifies 4 jobs of random
# reads and writes (4 vCPUs, so 4 queues); the host checks each image with
# e2fsck -fn and reads every file back with debugfs against the guest's
# checksums. The same again with O_DIRECT. Then both images go back in
# read-only, the guest finds the same files, its writes fail (Linux itself
# refuses them, EPERM, for a disk that offers VIRTIO_BLK_F_RO) and the
# images stay as they were; a third disk survives device resets (driver
# rebinding), and blkdiscard punches holes into its image. Also the errors
# that need no boot: a missing image, and a second writer of one image.
#
# Needs tools.img beside the initrd (make guests), and e2fsck, debugfs and
# mke2fs on this side (the lab copies the host's into its outer VM).
. "$LIB"

# The tools disk holds the build host's x86_64 programs.
[ "${KVMINI_ARCH:-x86_64}" = x86_64 ] || { echo "blk: x86_64 only (the tools disk)"; exit 77; }
TOOLS=$(dirname "$INITRD")/tools.img
E2FSCK=/usr/sbin/e2fsck
DEBUGFS=/usr/sbin/debugfs
MKE2FS=/usr/sbin/mke2fs
for f in "$TOOLS" "$E2FSCK" "$DEBUGFS" "$MKE2FS"; do
	[ -e "$f" ] || { echo "blk: $f missing (make guests; make deps)"; exit 1; }
done

# step TEXT: TEXT with this side's uptime, for timing the boots.
step()
{
	echo "blk: [$(cut -d' ' -f1 /proc/uptime)] $*"
}

# ---- errors found before any boot ------------------------------------------

# kvmini_err NAME WANT_REGEX ARGS...: kvmini refuses ARGS with status 125
# and one error line matching WANT_REGEX.
kvmini_err()
{
	name=$1 want=$2
	shift 2
	rc=0
	"$KVMINI" run --kernel "$KERNEL" --dump-dtb "$T/$name.dtb" "$@" \
		>/dev/null 2>"$T/$name.err" || rc=$?
	if [ $rc -ne 125 ]; then
		fail "$name" "exit status $rc, expected 125"
	elif [ "$(wc -l <"$T/$name.err")" -ne 1 ]; then
		fail "$name" "not one line on stderr"
	else
		stderr "$name" "$want"
	fi
}

truncate -s 128M "$T/a.img"
kvmini_err missing "--disk '.*none.img': cannot open: No such file" --disk "$T/none.img"
kvmini_err two-writers "--disk '.*a.img': in use by another VM" \
	--disk "$T/a.img" --disk "$T/a.img"
kvmini_err writer-reader "in use by another VM" --disk "$T/a.img,ro" --disk "$T/a.img"

# ---- where O_DIRECT works -----------------------------------------------------

# tmpfs has O_DIRECT only from Linux 6.6 on, so the lab's outer VM (6.1)
# puts the direct images on an ext4 on a loop device.
ddir=$T
loop=
cleanup()
{
	if [ -n "$loop" ]; then
		umount "$T/scratch" 2>/dev/null
		losetup -d "$loop" 2>/dev/null
	fi
}
trap cleanup EXIT
if ! dd if=/dev/zero of="$T/probe" bs=4096 count=1 oflag=direct 2>/dev/null; then
	[ -e /dev/loop-control ] || insmod /lib/modules/loop.ko 2>/dev/null
	truncate -s 512M "$T/scratch.img"
	loop=$(losetup -f) && losetup "$loop" "$T/scratch.img" ||
		{ echo "blk: no loop device for an O_DIRECT file system"; exit 1; }
	mkdir -p "$T/scratch"
	# Initialised now, not by a kernel thread in the background.
	"$MKE2FS" -q -t ext4 -N 4096 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 \
		"$loop" && mount -t ext4 "$loop" "$T/scratch" ||
		{ echo "blk: cannot make the O_DIRECT file system"; exit 1; }
	ddir=$T/scratch
	echo "blk: O_DIRECT images on $loop"
fi
rm -f "$T/probe"

# ---- checks on the host side ----------------------------------------------------

# steps NAME: the guest's timed steps in boot NAME, for the log.
steps()
{
	tr -d '\r' <"$T/$1.log" | grep '^blk: \[' | sed "s/^/$1: guest /"
}

# sums NAME: the guest's "blk-sum FILE SHA256" lines of boot NAME.
sums()
{
	tr -d '\r' <"$T/$1.log" | grep '^blk-sum '
}

# check_image NAME IMAGE: e2fsck finds nothing wrong, and every file the
# guest reported in boot NAME reads back here (debugfs copies them all
# out at once) with the same checksum.
check_image()
{
	name=$1 img=$2
	step "checking $img"
	if ! "$E2FSCK" -fn "$img" >"$T/$name.fsck" 2>&1; then
		cat "$T/$name.fsck"
		fail "$name" "e2fsck -fn $img found errors"
		return
	fi
	n=0 bad=0
	sums "$name" >"$T/$name.sums"
	rm -rf "$T/$name.files"
	mkdir "$T/$name.files"
	"$DEBUGFS" -R "rdump / $T/$name.files" "$img" >/dev/null 2>&1
	while read -r _ file sum; do
		got=$(sha256sum <"$T/$name.files/$file" | cut -d' ' -f1)
		n=$((n + 1))
		[ "$got" = "$sum" ] || { echo "$name: $file: $got, guest wrote $sum"; bad=$((bad + 1)); }
	done <"$T/$name.sums"
	if [ $n -lt 43 ] || [ $bad -ne 0 ]; then
		fail "$name" "$bad of $n files differ on $img (43 expected)"
	else
		echo "$name: e2fsck clean, $n files match on $img"
	fi
	rm -rf "$T/$name.files"
}

# ---- 1: write, buffered, 4 queues, fio ----------------------------------------

step "boot 1: write, buffered, 4 queues, fio"
truncate -s 64M "$T/f.img"
guest write 0 --timeout 300 --cpus 4 --mem 512M \
	--disk "$T/a.img,serial=kvmini-a" --disk "$T/f.img" --disk "$TOOLS,ro" \
	--cmdline "kvmini.script=blk-write kvmini.args=vdc,vda,vdb"
steps write
console write "blk: serial vda kvmini-a"
console write "blk: mq vda 4"
console write "blk: ro vda 0"
console write "blk: fio status 0 error 0"
console write "blk: .* write done"
check_image write "$T/a.img"

# ---- 2: write, O_DIRECT --------------------------------------------------------

step "boot 2: write, O_DIRECT"
truncate -s 128M "$ddir/d.img"
truncate -s 64M "$ddir/g.img"
guest write-direct 0 --timeout 300 --cpus 2 --mem 512M \
	--disk "$ddir/d.img,direct" --disk "$ddir/g.img,direct" --disk "$TOOLS,ro" \
	--cmdline "kvmini.script=blk-write kvmini.args=vdc,vda,vdb"
steps write-direct
console write-direct "blk: fio status 0 error 0"
console write-direct "blk: .* write done"
check_image write-direct "$ddir/d.img"

# ---- 3: read-only, and discard ---------------------------------------------------

step "boot 3: read-only, and discard"
before_a=$(sha256sum <"$T/a.img")
before_d=$(sha256sum <"$ddir/d.img")
truncate -s 64M "$T/b.img"
guest check 0 --timeout 300 --cpus 2 \
	--disk "$T/b.img" --disk "$T/a.img,ro" --disk "$ddir/d.img,ro,direct" \
	--disk "$TOOLS,ro" --cmdline "kvmini.script=blk-check kvmini.args=vdd,vda,vdb,vdc"
steps check
console check "blk: ro vdb 1"
for d in vdb vdc; do
	console check "blk: ro write $d: .*(Operation not permitted|Read-only)"
	console check "blk: ro zeroout $d: .*Operation not permitted"
done
console check "blk: reset vda ok"
console check "blk: discard vda ok"
console check "blk: .* check done"

# The files the read-only boot saw, per disk, against what was written.
tr -d '\r' <"$T/check.log" | awk -v dir="$T" '
	/^blk: disk / { d = $3 }
	/^blk-sum / { print > (dir "/ro-" d ".sums") }'
for pair in vdb:write vdc:write-direct; do
	disk=${pair%%:*} name=${pair#*:}
	if cmp -s "$T/ro-$disk.sums" "$T/$name.sums"; then
		echo "check: $disk read-only shows the files $name wrote"
	else
		fail check "$disk read-only does not show the files $name wrote"
	fi
done
[ "$(sha256sum <"$T/a.img")" = "$before_a" ] || fail check "a.img changed while read-only"
[ "$(sha256sum <"$ddir/d.img")" = "$before_d" ] || fail check "d.img changed while read-only"

# 16 MiB written, 8 MiB discarded: about 8 MiB stays allocated.
blocks=$(stat -c %b "$T/b.img")
if [ "$blocks" -ge 16384 ] && [ "$blocks" -le 18432 ]; then
	echo "check: b.img has $blocks blocks allocated after the discard"
else
	fail check "b.img has $blocks 512-byte blocks allocated, expected about 16384"
fi
step done
finish
