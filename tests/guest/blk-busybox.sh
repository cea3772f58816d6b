#!/bin/sh
# The guest half of tests/scenarios/blk-busybox.sh, with busybox alone (the
# arm64 guest has no tools disk). Args: MODE DISK...
#   write  on each DISK: a file system (busybox mke2fs, mounted by the
#          ext4 driver), files of random content, their checksums
#          ("blk-sum NAME SHA256" after "blk: disk DISK"), a clean unmount;
#   check  each DISK is read-only: the same checksums from a read-only
#          mount, and a write to the device must fail.
# Also each disk's read-only flag and serial, for the host to check.
. /tests/blk-lib.sh
mode=$1
shift

# fill DIR: 40 files of 512 bytes to 30 KiB, one of 4 MiB, one odd-sized.
fill()
{
	mkdir -p "$1/dir/sub"
	dd if=/dev/urandom of="$1/big" bs=1M count=4 2>/dev/null || blk_fail "write big"
	i=0
	while [ $i -lt 40 ]; do
		dd if=/dev/urandom of="$1/dir/f$i" bs=512 count=$((i * 7 % 61 + 1)) 2>/dev/null ||
			blk_fail "write dir/f$i"
		i=$((i + 1))
	done
	dd if=/dev/urandom of="$1/dir/sub/odd" bs=1 count=12345 2>/dev/null || blk_fail "write odd"
}

mkdir -p /mnt
for d in "$@"; do
	echo "blk: disk $d"
	echo "blk: ro $d $(cat "/sys/block/$d/ro")"
	echo "blk: serial $d $(cat "/sys/block/$d/serial" 2>/dev/null)"
	case $mode in
	write)
		blk_step "mke2fs $d"
		mke2fs -F "/dev/$d" >/dev/null 2>&1 || blk_fail "mke2fs /dev/$d"
		mount -t ext4 "/dev/$d" /mnt || blk_fail "mount /dev/$d"
		blk_step "files $d"
		fill /mnt
		sync
		blk_sums /mnt
		umount /mnt || blk_fail "umount /dev/$d"
		;;
	check)
		mount -t ext4 -o ro "/dev/$d" /mnt || blk_fail "mount -o ro /dev/$d"
		blk_sums /mnt
		umount /mnt
		out=$(dd if=/dev/zero of="/dev/$d" bs=4096 count=1 conv=fsync 2>&1) &&
			blk_fail "a write to read-only /dev/$d succeeded"
		echo "blk: ro write $d: $(echo "$out" | head -n 1)"
		;;
	*)
		blk_fail "unknown mode $mode"
		;;
	esac
done
blk_step "$mode done"
