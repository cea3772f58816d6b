#!/bin/sh
# A hostile driver: with the virtio-mmio driver unbound, poke the rng
# device's registers with values no driver would write. kvmini must keep
# running, refuse each one as the spec says, report DEVICE_NEEDS_RESET,
# and the device must work again after a reset and a rebind.
# The rng is virtio-mmio slot 0, the page after the exit device, which is
# at 0xd0000000 on x86 and where the device tree says on arm64.
exitdev=0xd0000000
for node in /sys/firmware/devicetree/base/exit@*; do
	[ -e "$node" ] && exitdev=0x${node##*@}
done
base=$((exitdev + 0x1000))
fails=0

reg() { printf '0x%x' $((base + $1)); }
rd() { devmem "$(reg "$1")" 32; }
wr() { devmem "$(reg "$1")" 32 "$2"; }
expect()
{
	got=$(rd "$1")
	if [ $((got)) -ne $(($2)) ]; then
		echo "hostile.sh: $3: register $1 reads $got, expected $2"
		fails=$((fails + 1))
	else
		echo "hostile.sh: $3: ok"
	fi
}

STATUS=0x70
# Its platform device: virtio-mmio.0 from the command line (x86),
# a001000.virtio_mmio from the device tree (arm64).
p=$(basename "$(readlink -f /sys/bus/virtio/devices/virtio0/..)")
echo $p >/sys/bus/platform/drivers/virtio-mmio/unbind || exit 1
expect 0x0 0x74726976 "magic"
expect 0x8 4 "device id (rng)"

# Status out of order: DRIVER_OK straight after ACKNOWLEDGE.
wr $STATUS 0
wr $STATUS 1
wr $STATUS 5
expect $STATUS 1 "DRIVER_OK before DRIVER refused"

# FEATURES_OK without VERSION_1 is refused on a modern device.
wr $STATUS 3
wr 0x24 1; wr 0x20 0; wr 0x24 0; wr 0x20 0
wr $STATUS 11
expect $STATUS 3 "FEATURES_OK without VERSION_1 refused"

# Proper negotiation, then absurd queue settings.
wr 0x24 1; wr 0x20 1
wr $STATUS 11
expect $STATUS 11 "FEATURES_OK accepted"
wr 0x30 1000
expect 0x34 0 "QueueNumMax of a queue that does not exist"
wr 0x38 64
wr 0x44 1
wr 0x30 0
wr 0x38 65536
wr 0x44 1
expect 0x44 0 "QueueReady refused for QueueNum 65536"
wr 0x38 3
wr 0x44 1
expect 0x44 0 "QueueReady refused for QueueNum 3"

# Rings outside guest RAM: the device needs a reset.
wr 0x38 64
wr 0x80 0xfffff000; wr 0x84 0x7f
wr 0x90 0; wr 0x94 0x80
wr 0xa0 0; wr 0xa4 0x90
wr 0x44 1
expect 0x44 0 "QueueReady refused for rings outside RAM"
got=$(rd $STATUS)
if [ $((got & 0x40)) -eq 0 ]; then
	echo "hostile.sh: DEVICE_NEEDS_RESET not set (status $got)"
	fails=$((fails + 1))
else
	echo "hostile.sh: DEVICE_NEEDS_RESET set: ok"
fi

# Odd widths and offsets are ignored, never fatal.
devmem "$(reg 0x71)" 8 0xff
devmem "$(reg 0x72)" 16 0xffff
devmem "$(reg 0x1ff)" 8 0xff
devmem "$(reg 0x64)" 32 0xffffffff
wr 0x50 12345

# A reset brings it back; the driver binds and the rng works.
wr $STATUS 0
expect $STATUS 0 "reset"
echo $p >/sys/bus/platform/drivers/virtio-mmio/bind || exit 1
n=$(dd if=/dev/hwrng bs=64 count=4 2>/dev/null | wc -c)
echo "hostile.sh: read $n bytes after the rebind"
[ "$n" -eq 256 ] || fails=$((fails + 1))
[ $fails -eq 0 ]
