#!/bin/sh
# The VM generation ID, for tests/scenarios/snapshot-vmgenid.sh (Debian's
# generic kernel: CONFIG_VMGENID=y). Checks that Linux's vmgenid driver
# took kvmini's device (VMGENCTR) and acpi-ged its Generic Event Device,
# then prints, every half second until the VM is ended from outside:
#
#   vmgenid.sh: rnd SEQ FORKS RESEEDS GUID BYTES UPTIME
#
# SEQ counts the lines; FORKS is how often the kernel said "crng reseeded
# due to virtual machine fork" (the vmgenid driver's doing), read before
# BYTES, so a line with FORKS > 0 read after that reseed; RESEEDS counts
# every crng_reseed() through a kprobe ("?" where the kernel has none),
# read after BYTES, so that the host can tell BYTES from a generator that
# no reseed of the kernel's own timing touched since the snapshot;
# GUID is the 16 bytes at kvmini's X86_VMGENID_ADDR (0x9f000, a reserved
# page /dev/mem may read); BYTES are four reads of 16 bytes from
# /dev/urandom in a row, comma-separated (the kernel's own draws may slip
# in before them in one guest and after in another: four in a row still
# overlap); UPTIME is /proc/uptime's first field.
failed()
{
	echo "vmgenid.sh: $1"
	dmesg | tail -n 30
	exit "$2"
}

dev=/sys/bus/acpi/devices/VMGENCTR:00
[ -e "$dev" ] || failed "no ACPI device VMGENCTR:00" 2
drv=$(readlink "$dev/driver" 2>/dev/null)
[ "${drv##*/}" = vmgenid ] || failed "VMGENCTR:00 has driver '${drv##*/}', not vmgenid" 3
ls /sys/bus/platform/drivers/acpi-ged 2>/dev/null | grep -q '^ACPI0013' ||
	failed "acpi-ged did not take the Generic Event Device" 4
echo "vmgenid.sh: bound: vmgenid on VMGENCTR:00, acpi-ged on ACPI0013"

t=/sys/kernel/tracing
mount -t tracefs tracefs $t 2>/dev/null
if echo 'p:kvmini/reseed crng_reseed' >>$t/kprobe_events 2>/dev/null &&
	echo 1 >$t/events/kvmini/reseed/enable 2>/dev/null; then
	reseeds() { grep -c ' reseed:' $t/trace; }
else
	echo "vmgenid.sh: no kprobe on crng_reseed: reseeds are not counted"
	reseeds() { echo '?'; }
fi

guid()
{
	echo "$(devmem 0x9f000 64 2>/dev/null)-$(devmem 0x9f008 64 2>/dev/null)"
}

i=0
while :; do
	i=$((i + 1))
	forks=$(dmesg | grep -c 'virtual machine fork')
	bytes=$(dd if=/dev/urandom bs=16 count=4 2>/dev/null | od -An -v -tx1 |
		awk '{ gsub(/ /, ""); s = s (NR > 1 ? "," : "") $0 } END { print s }')
	n=$(reseeds)
	read -r up _ </proc/uptime
	echo "vmgenid.sh: rnd $i $forks $n $(guid) $bytes $up"
	sleep 0.5
done
