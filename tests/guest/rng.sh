#!/bin/sh
# virtio-rng is bound and /dev/hwrng yields random data. $1 = "modern" or
# "legacy": which virtio-mmio version the device must speak.
want=$1
cur=$(cat /sys/class/misc/hw_random/rng_current)
echo "rng.sh: current hwrng $cur"
case $cur in virtio_rng*) ;; *) exit 1 ;; esac
n=$(dd if=/dev/hwrng bs=64 count=16 2>/dev/null | wc -c)
echo "rng.sh: read $n bytes"
[ "$n" -eq 1024 ] || exit 1
# 1 KiB of zeros (or of any one byte) is no random data.
distinct=$(dd if=/dev/hwrng bs=256 count=1 2>/dev/null | od -An -v -tx1 | tr -s ' ' '\n' | sort -u | wc -l)
echo "rng.sh: $distinct distinct byte values in 256"
[ "$distinct" -gt 100 ] || exit 1
# Feature bit 32 is VIRTIO_F_VERSION_1: set for modern devices only.
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device")" = 0x0004 ] || continue
	v1=$(cut -c33 "$d/features")
	echo "rng.sh: $(basename "$d") VERSION_1=$v1"
	[ "$want" = modern ] && [ "$v1" = 1 ] && exit 0
	[ "$want" = legacy ] && [ "$v1" = 0 ] && exit 0
done
exit 1
