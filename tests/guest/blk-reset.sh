#!/bin/sh
# The guest half of tests/scenarios/blk-reset.sh: virtio-blk resets while
# requests are in flight. Args: DATA REBIND CHAOS... (device names).
#
# 1. DATA gets 8 MiB of random data, kept in /tmp, and stays under load
#    (writes, then reads) while everything below happens to the others.
# 2. REBIND: ROUNDS times, readers and writers keep it busy while its
#    driver is unbound and bound again (the driver drains its queue before
#    it resets the device); afterwards its first 8 MiB, written before the
#    rounds, must read back unchanged.
# 3. Each CHAOS disk: readers and writers keep it busy and the device is
#    reset under them through its status register (devmem), as a broken or
#    hostile driver would: the requests in flight never complete for the
#    guest (its loaders hang), and kvmini must drop them and go on.
# 4. DATA's contents must match what was written. The host checks the
#    images and kvmini's word on the requests in flight at each reset.
. /tests/blk-lib.sh
data=$1 rebind=$2
shift 2
rounds=${BLK_RESET_ROUNDS:-3}
MiB=1048576

# loaders DEV: 8 readers of DEV's first 4 MiB, each in one O_DIRECT read
# (which the block layer splits into a burst of requests of at most
# 1280 KiB), and 4 writers of 1 MiB each of the next 4 MiB, looping until
# killed: dozens of large requests at the device at any moment, more than
# the host's io-wq workers take at once. The loaders of a reset disk hang
# with their buffers (36 MiB per disk): the guest needs the RAM.
loaders()
{
	for i in 0 1 2 3 4 5 6 7; do
		(while :; do
			dd if="/dev/$1" of=/dev/null bs=4M count=1 iflag=direct 2>/dev/null ||
				exit 0
		done) &
	done
	for i in 0 1 2 3; do
		(while :; do
			dd if=/dev/zero of="/dev/$1" bs=1M count=1 seek=$((4 + i)) \
				oflag=direct 2>/dev/null || exit 0
		done) &
	done
}

# vdev_of DEV: the virtio device under block device DEV (virtioN).
vdev_of()
{
	basename "$(readlink "/sys/block/$1/device")"
}

# disk_of VDEV: the block device virtio device VDEV has now, if any.
disk_of()
{
	ls "/sys/bus/virtio/devices/$1/block" 2>/dev/null
}

# status_reg SECTORS: the address of the status register of the
# virtio-blk device of that capacity (the host gives each disk its own
# size), found by walking the virtio-mmio slots after the exit device.
status_reg()
{
	exitdev=0xd0000000
	for node in /sys/firmware/devicetree/base/exit@*; do
		[ -e "$node" ] && exitdev=0x${node##*@}
	done
	slot=1
	while [ $slot -le 16 ]; do
		base=$((exitdev + slot * 0x1000))
		[ $(($(devmem $base 32))) -eq $((0x74726976)) ] || return 1
		if [ $(($(devmem $((base + 8)) 32))) -eq 2 ] &&
			[ $(($(devmem $((base + 0x100)) 32))) -eq "$1" ]; then
			printf '0x%x\n' $((base + 0x70))
			return 0
		fi
		slot=$((slot + 1))
	done
	return 1
}

# ---- 1: the data disk, busy throughout -----------------------------------

blk_step "data $data"
dd if=/dev/urandom of=/tmp/data bs=1M count=8 2>/dev/null
want=$(sha256sum </tmp/data | cut -d' ' -f1)
(
	i=0
	while [ $i -lt 4 ]; do
		dd if=/tmp/data of="/dev/$data" bs=256k oflag=direct conv=fsync 2>/dev/null ||
			exit 1
		got=$(dd if="/dev/$data" bs=256k count=32 iflag=direct 2>/dev/null | sha256sum |
			cut -d' ' -f1)
		[ "$got" = "$want" ] || exit 2
		i=$((i + 1))
	done
) &
data_pid=$!

# ---- 2: driver unbind and bind under load --------------------------------

blk_step "rebind $rebind"
vdev=$(vdev_of "$rebind")
dd if=/dev/urandom of=/tmp/rebind bs=1M count=8 2>/dev/null
dd if=/tmp/rebind of="/dev/$rebind" bs=1M oflag=direct conv=fsync 2>/dev/null ||
	blk_fail "write /dev/$rebind"
echo "blk: rebind-sum $(sha256sum </tmp/rebind | cut -d' ' -f1)"
r=1
while [ $r -le "$rounds" ]; do
	dev=$(disk_of "$vdev")
	[ -n "$dev" ] || blk_fail "no block device on $vdev in round $r"
	# Readers only here: the writers would overwrite what is checked.
	pids=
	for i in 0 1 2 3 4 5 6 7; do
		(while :; do
			dd if="/dev/$dev" of=/dev/null bs=64k count=16 skip=$((i * 16)) \
				iflag=direct 2>/dev/null || exit 0
		done) &
		pids="$pids $!"
	done
	sleep 1
	echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/unbind || blk_fail "unbind $vdev"
	echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/bind || blk_fail "bind $vdev"
	kill $pids 2>/dev/null
	wait $pids 2>/dev/null
	echo "blk: rebind round $r done"
	r=$((r + 1))
done
dev=$(disk_of "$vdev")
[ -n "$dev" ] || blk_fail "no block device on $vdev after $rounds rounds"
got=$(dd if="/dev/$dev" bs=1M count=8 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$(sha256sum </tmp/rebind | cut -d' ' -f1)" ] ||
	blk_fail "/dev/$dev (was $rebind) changed across $rounds rebinds under load"
echo "blk: rebind $rebind ok"

# ---- 3: resets with requests in flight -------------------------------------

for chaos in "$@"; do
	blk_step "chaos $chaos"
	reg=$(status_reg "$(cat "/sys/block/$chaos/size")") ||
		blk_fail "no virtio-mmio slot with the capacity of /dev/$chaos"
	loaders "$chaos"
	sleep 1
	# The driver's requests in flight are lost to it for good: its
	# loaders hang, and this disk is not touched again.
	devmem "$reg" 32 0
	echo "blk: chaos $chaos reset at $reg, status now $(devmem "$reg" 32)"
done

# ---- 4: the data disk ----------------------------------------------------------

wait $data_pid || blk_fail "/dev/$data did not read back what was written (status $?)"
echo "blk: data $data ok"
echo "blk: data-sum $want"
blk_step "reset done"
