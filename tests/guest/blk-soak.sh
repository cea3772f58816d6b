#!/bin/sh
# The guest half of the one-process soak (tests/soak/linux.sh, docs/soak.md).
# Args: ROUNDS DISK. Says "blk-soak: before" and idles while the host
# notes kvmini's descriptors and memory; then ROUNDS times resets the
# disk (driver unbind and bind, after a write and a read back of 1 MiB)
# and the rng (the same), says "blk-soak: after" and idles again for the
# second look. Exit 0 when every round worked.
. /tests/blk-lib.sh
rounds=$1 disk=$2
idle=${BLK_SOAK_IDLE:-5}

vdev=$(basename "$(readlink "/sys/block/$disk/device")")
rng=
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device")" = 0x0004 ] && rng=$(basename "$d")
done
dd if=/dev/urandom of=/tmp/mib bs=1M count=1 2>/dev/null
want=$(sha256sum </tmp/mib | cut -d' ' -f1)

echo "blk-soak: before"
sleep "$idle"
r=1
while [ $r -le "$rounds" ]; do
	dev=$(ls "/sys/bus/virtio/devices/$vdev/block")
	dd if=/tmp/mib of="/dev/$dev" bs=64k seek=$((r % 16 * 16)) oflag=direct 2>/dev/null ||
		blk_fail "write /dev/$dev in round $r"
	got=$(dd if="/dev/$dev" bs=64k skip=$((r % 16 * 16)) count=16 iflag=direct 2>/dev/null |
		sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || blk_fail "/dev/$dev read back something else in round $r"
	echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/unbind || blk_fail "unbind $vdev"
	echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/bind || blk_fail "bind $vdev"
	if [ -n "$rng" ]; then
		echo "$rng" >/sys/bus/virtio/drivers/virtio_rng/unbind || blk_fail "unbind $rng"
		echo "$rng" >/sys/bus/virtio/drivers/virtio_rng/bind || blk_fail "bind $rng"
	fi
	r=$((r + 1))
done
echo "blk-soak: $rounds rounds done"
echo "blk-soak: after"
sleep "$idle"
