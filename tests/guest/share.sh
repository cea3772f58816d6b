#!/bin/sh
# The guest half of tests/scenarios/share.sh. Args: TAG MODE [ROOT], MODE
# rw or ro. Mounts the virtio-fs share TAG on /mnt and prints "share: ..."
# lines the host checks. rw: reads the host's file, then creates, modifies
# and deletes files for the host to find; then resets the device (driver
# unbound and bound again) and reads the share once more. ro: reads, and
# every write fails, also after remounting read-write. ROOT: the tag of
# the host's / (read-only), which must show its /etc and refuse writes.
tag=$1 mode=$2 root=${3:-}

die()
{
	echo "share: FAILED: $*"
	exit 1
}

mkdir -p /mnt
mount -t virtiofs "$tag" /mnt || die "mount -t virtiofs $tag"
echo "share: host file says '$(cat /mnt/from-host)'"

if [ "$mode" = ro ]; then
	for op in "touch /mnt/new" "rm /mnt/from-host" "mkdir /mnt/newdir"; do
		out=$($op 2>&1) && die "$op succeeded on a read-only share"
		echo "share: ro: $op: $out"
	done
	mount -o remount,rw /mnt || die "remount,rw"
	echo "share: remounted: $(grep " /mnt " /proc/mounts)"
	for op in "touch /mnt/new" "rm /mnt/from-host" "mkdir /mnt/newdir"; do
		out=$($op 2>&1) && die "$op succeeded after remount,rw"
		echo "share: ro after remount: $op: $out"
	done
	out=$(echo x 2>&1 >>/mnt/from-host) && die "append succeeded on a read-only share"
	echo "share: ro append: $out"
	if [ -n "$root" ]; then
		mkdir -p /host
		mount -t virtiofs "$root" /host || die "mount -t virtiofs $root"
		echo "share: host root: $(grep -m 1 '^ID=' /host/etc/os-release)"
		out=$(mkdir /host/kvmini-was-here 2>&1) && die "mkdir in the host's / succeeded"
		echo "share: host root mkdir: $out"
		umount /host
	fi
	echo "share: ro done"
	exit 0
fi

echo "made in the guest" >/mnt/new || die "create"
echo "and more" >>/mnt/modify-me || die "append"
rm /mnt/delete-me || die "rm"
mkdir -p /mnt/dir/sub || die "mkdir"
dd if=/dev/urandom of=/mnt/dir/sub/big bs=1M count=8 2>/dev/null || die "write 8 MiB"
echo "share: big $(sha256sum /mnt/dir/sub/big | cut -d' ' -f1)"
sync
umount /mnt || die "umount"

# A device reset: unbinding the driver resets it, binding starts it anew.
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device")" = 0x001a ] || continue
	dev=$(basename "$d")
	echo "$dev" >/sys/bus/virtio/drivers/virtiofs/unbind || die "unbind $dev"
	echo "$dev" >/sys/bus/virtio/drivers/virtiofs/bind || die "bind $dev"
done
mount -t virtiofs "$tag" /mnt || die "mount after the reset"
echo "share: after reset '$(cat /mnt/new)'"
umount /mnt
echo "share: rw done"
