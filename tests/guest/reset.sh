#!/bin/sh
# Resets virtio-rng from the guest, again and again: unbinding the driver
# resets the device through the status register, unbinding the
# virtio-mmio platform device tears the transport down and probes it anew.
# Afterwards /dev/hwrng must still work.
rounds=${1:-5}

rng_dev()
{
	for d in /sys/bus/virtio/devices/*; do
		[ "$(cat "$d/device")" = 0x0004 ] && basename "$d" && return
	done
}

i=0
while [ $i -lt "$rounds" ]; do
	d=$(rng_dev)
	echo "$d" >/sys/bus/virtio/drivers/virtio_rng/unbind || exit 1
	echo "$d" >/sys/bus/virtio/drivers/virtio_rng/bind || exit 1
	# Bound devices: virtio-mmio.N (x86), ADDR.virtio_mmio (arm64).
	for p in /sys/bus/platform/drivers/virtio-mmio/*/; do
		[ -e "${p}driver" ] || continue
		p=$(basename "$p")
		echo "$p" >/sys/bus/platform/drivers/virtio-mmio/unbind || exit 1
		echo "$p" >/sys/bus/platform/drivers/virtio-mmio/bind || exit 1
	done
	i=$((i + 1))
done
echo "reset.sh: $rounds rounds of unbind/bind done"
n=$(dd if=/dev/hwrng bs=64 count=4 2>/dev/null | wc -c)
echo "reset.sh: read $n bytes after the resets"
[ "$n" -eq 256 ]
