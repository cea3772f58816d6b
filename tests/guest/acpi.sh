#!/bin/sh
# What a kernel with ACPI finds in kvmini's tables: $1 CPUs, all online;
# with $2 = rng the virtio-rng transport (LNRO0005) bound and working, with
# no-rng no virtio device at all; COM1 as PNP0501 when ACPI is on. Then $3:
# poweroff, reboot or halt, forced, as busybox does them without an init
# system, or exit (status 0 through the exit device). $4 lists more
# virtio devices that must be there, joined by "+": blk (a disk vda), net
# (eth0, bound to virtio_net, with kvmini's first MAC). A failed check
# shows the end of the kernel log and ends the VM with a non-zero status.
ncpus=$1 rng=$2 action=$3 blk=${4:-}

failed()
{
	echo "acpi.sh: $1"
	dmesg | tail -n 40
	exit "$2"
}

if [ -d /sys/firmware/acpi/tables ]; then
	echo "acpi.sh: ACPI tables: $(ls /sys/firmware/acpi/tables | tr '\n' ' ')"
	echo "acpi.sh: ACPI devices: $(ls /sys/bus/acpi/devices | tr '\n' ' ')"
	grep -qs PNP0501 /sys/bus/pnp/devices/*/id || failed "no PNP0501 device" 2
else
	echo "acpi.sh: no ACPI"
fi
sh /tests/cpus.sh "$ncpus" || failed "not $ncpus CPUs" 3
if [ "$rng" = rng ]; then
	sh /tests/rng.sh modern || failed "no virtio-rng" 4
else
	devs=$(ls /sys/bus/virtio/devices 2>/dev/null)
	echo "acpi.sh: virtio devices: ${devs:-none}"
	[ -z "$devs" ] || failed "virtio devices where none should be" 4
fi
for dev in $(echo "$blk" | tr + ' '); do
	case $dev in
	blk)
		[ -b /dev/vda ] || failed "no virtio-blk disk vda" 6
		echo "acpi.sh: vda, $(cat /sys/block/vda/size) sectors"
		;;
	net)
		drv=$(readlink /sys/class/net/eth0/device/driver 2>/dev/null)
		[ "${drv##*/}" = virtio_net ] || failed "no virtio-net eth0 (driver '${drv##*/}')" 7
		mac=$(cat /sys/class/net/eth0/address)
		[ "$mac" = 52:54:00:12:34:56 ] || failed "eth0 has MAC $mac" 7
		echo "acpi.sh: eth0, virtio_net, $mac"
		;;
	esac
done
echo "acpi.sh: $action"
[ "$action" != exit ] || exit 0
# The console's last lines leave before the VM ends (as in /init).
stty -F /dev/console onlcr 2>/dev/null
"$action" -f
sleep 30
exit 5
