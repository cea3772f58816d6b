#!/bin/sh
# The checking half of tests/scenarios/blk.sh. Args: TOOLS DISCARD RO...
# (device names). Prints the checksums of every file on each read-only
# disk RO ("blk-sum NAME SHA256", after "blk: disk RO"), shows that
# writing to it fails with an I/O error from the device, resets DISCARD
# three times by rebinding its driver, and punches holes into it: 16 MiB
# written, the first 8 MiB discarded, which then read as zeroes. The host
# checks the images afterwards.
. /tests/blk-lib.sh
tools=$1 discard=$2
shift 2

blk_tools "$tools"
mkdir -p /mnt
for ro in "$@"; do
	echo "blk: disk $ro"
	echo "blk: ro $ro $(cat "/sys/block/$ro/ro")"
	mount -t ext4 -o ro "/dev/$ro" /mnt || blk_fail "mount /dev/$ro"
	blk_sums /mnt
	umount /mnt
	# Linux marks the disk read-only (VIRTIO_BLK_F_RO) and refuses
	# writes itself, by every path a program has (write, zeroing,
	# discard), before a request reaches the device. (The device's own
	# refusal, VIRTIO_BLK_S_IOERR, is for drivers that try anyway: see
	# tests/unit/test_virtio_blk.c.)
	out=$(dd if=/dev/zero of="/dev/$ro" bs=4096 count=1 conv=fsync 2>&1) &&
		blk_fail "a write to read-only /dev/$ro succeeded"
	echo "blk: ro write $ro: $(echo "$out" | head -n 1)"
	out=$($BLKDISCARD_Z -o 0 -l 65536 "/dev/$ro" 2>&1) &&
		blk_fail "zeroing read-only /dev/$ro succeeded"
	echo "blk: ro zeroout $ro: $(echo "$out" | tail -n 1)"
done

# Device resets through the real driver: unbinding virtio_blk resets
# the device (status 0), binding it again brings the disk back.
blk_step reset
vdev=$(basename "$(readlink "/sys/block/$discard/device")")
for i in 1 2 3; do
	echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/unbind || blk_fail "unbind $vdev"
	echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/bind || blk_fail "bind $vdev"
done
[ -b "/dev/$discard" ] || blk_fail "no /dev/$discard after 3 resets"
echo "blk: reset $discard ok"

blk_step discard
dd if=/dev/urandom of="/dev/$discard" bs=1M count=16 conv=fsync 2>/dev/null ||
	blk_fail "write /dev/$discard"
blkdiscard -o 0 -l 8388608 "/dev/$discard" || blk_fail "blkdiscard /dev/$discard"
zeroes=$(dd if=/dev/zero bs=1M count=8 2>/dev/null | sha256sum | cut -d' ' -f1)
got=$(dd if="/dev/$discard" bs=1M count=8 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$zeroes" ] || blk_fail "discarded range of /dev/$discard does not read as zeroes"
echo "blk: discard $discard ok"
blk_step "check done"
