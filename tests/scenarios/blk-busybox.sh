#!/bin/sh
# virtio-blk with busybox alone, for the arm64 lab (tests/scenarios/blk.sh,
# with e2fsprogs and fio from an x86_64 tools disk, covers x86_64 in more
# depth). Two boots, two disks, one of them O_DIRECT:
# 1. the guest makes a file system on each (busybox mke2fs; the ext4
#    driver mounts it), writes files of random content and prints their
#    checksums; here each image is mounted read-only through a loop
#    device and every file must read back with the guest's checksum;
# 2. both images go back in read-only: the guest sees the same files,
#    its writes fail, and the images do not change by a byte.
. "$LIB"

[ "${KVMINI_ARCH:-x86_64}" = arm64 ] || { echo "blk-busybox: arm64 only (blk.sh covers x86_64)"; exit 77; }

# ---- where O_DIRECT works, and the loop device to check images ------------

[ -e /dev/loop-control ] || insmod /lib/modules/loop.ko 2>/dev/null
[ -e /dev/loop-control ] || { echo "blk-busybox: no loop device (loop.ko)"; exit 1; }
ddir=$T
scratch=
cleanup()
{
	umount "$T/m" 2>/dev/null
	[ -z "$scratch" ] || { umount "$T/scratch"; losetup -d "$scratch"; } 2>/dev/null
}
trap cleanup EXIT
mkdir -p "$T/m" "$T/scratch"
if ! dd if=/dev/zero of="$T/probe" bs=4096 count=1 oflag=direct 2>/dev/null; then
	truncate -s 128M "$T/scratch.img"
	scratch=$(losetup -f) && losetup "$scratch" "$T/scratch.img" &&
		mke2fs -F "$scratch" >/dev/null 2>&1 && mount "$scratch" "$T/scratch" ||
		{ echo "blk-busybox: cannot make the O_DIRECT file system"; exit 1; }
	ddir=$T/scratch
fi
rm -f "$T/probe"

# sums NAME DISK: the "blk-sum" lines boot NAME printed for DISK.
sums()
{
	tr -d '\r' <"$T/$1.log" | awk -v want="$2" '
		/^blk: disk / { d = $3 }
		/^blk-sum / && d == want'
}

# check_image NAME DISK IMAGE: every file the guest reported for DISK in
# boot NAME reads back here, from a read-only loop mount of IMAGE, with
# the guest's checksum; and nothing more or less is there.
check_image()
{
	name=$1 disk=$2 img=$3
	sums "$name" "$disk" >"$T/$name-$disk.sums"
	if ! mount -t ext4 -o ro,loop "$img" "$T/m"; then
		fail "$name" "cannot mount $img here"
		return
	fi
	(cd "$T/m" && find . -type f | sort | while read -r f; do
		echo "blk-sum ${f#./} $(sha256sum <"$f" | cut -d' ' -f1)"
	done) >"$T/$name-$disk.host"
	umount "$T/m"
	n=$(wc -l <"$T/$name-$disk.sums")
	if [ "$n" -lt 42 ]; then
		fail "$name" "the guest reported $n files on $disk, 42 expected"
	elif ! cmp -s "$T/$name-$disk.sums" "$T/$name-$disk.host"; then
		diff "$T/$name-$disk.sums" "$T/$name-$disk.host" | head -n 10
		fail "$name" "$img does not hold what the guest wrote on $disk"
	else
		echo "$name: $n files of $disk match on $img"
	fi
}

# ---- 1: write -------------------------------------------------------------------

truncate -s 64M "$T/a.img"
truncate -s 48M "$ddir/b.img"
guest write 0 --timeout 300 --cpus 2 \
	--disk "$T/a.img,serial=kvmini-a" --disk "$ddir/b.img,direct" \
	--cmdline "kvmini.script=blk-busybox kvmini.args=write,vda,vdb"
console write "blk: serial vda kvmini-a"
console write "blk: ro vda 0"
console write "blk: .* write done"
check_image write vda "$T/a.img"
check_image write vdb "$ddir/b.img"

# ---- 2: read-only ---------------------------------------------------------------

before_a=$(sha256sum <"$T/a.img")
before_b=$(sha256sum <"$ddir/b.img")
guest check 0 --timeout 300 \
	--disk "$T/a.img,ro" --disk "$ddir/b.img,ro,direct" \
	--cmdline "kvmini.script=blk-busybox kvmini.args=check,vda,vdb"
for d in vda vdb; do
	console check "blk: ro $d 1"
	console check "blk: ro write $d: .*(Operation not permitted|Read-only)"
	if [ "$(sums check $d)" = "$(sums write $d)" ]; then
		echo "check: $d read-only shows the files written"
	else
		fail check "$d read-only does not show the files written"
	fi
done
console check "blk: .* check done"
[ "$(sha256sum <"$T/a.img")" = "$before_a" ] || fail check "a.img changed while read-only"
[ "$(sha256sum <"$ddir/b.img")" = "$before_b" ] || fail check "b.img changed while read-only"
finish
