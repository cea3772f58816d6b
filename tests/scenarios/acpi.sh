#!/bin/sh
# ACPI with Debian 12's generic kernel, which finds kvmini's virtio-mmio
# transports (LNRO0005) and COM1 (PNP0501) only in its DSDT: 4 CPUs,
# virtio-rng, virtio-blk and virtio-net bound; poweroff goes through the FADT's sleep
# control register (S5) and reboot=a through its reset register, both ending
# kvmini with 0, as does the default reboot (i8042); halt leaves kvmini
# waiting. --no-acpi leaves the MP table and no virtio device. kvmini's own
# kernel has no ACPI and boots the same with and without --no-acpi. (The
# cloud kernel: acpi-cloud.sh.)
. "$LIB"

[ "${KVMINI_ARCH:-x86_64}" = x86_64 ] || exit 77

guest minimal 0 --cpus 2 --cmdline "kvmini.script=acpi kvmini.args=2,rng,exit"
guest minimal-no-acpi 0 --cpus 2 --no-acpi --cmdline "kvmini.script=acpi kvmini.args=2,rng,exit"

# quiet: every console line costs exits, and nested ones are slow. A disk
# and a NIC as well: more transports in the DSDT, on the next interrupts
# (user networking: the guest never brings eth0 up, and this outer VM has
# no network anyway).
dd if=/dev/zero of="$T/disk.img" bs=1M count=8 2>/dev/null
stock poweroff 0 debian-generic --cpus 4 --verbose --disk "$T/disk.img" --net user \
	--cmdline "quiet kvmini.script=acpi kvmini.args=4,rng,poweroff,blk+net" &&
	stderr poweroff "guest powered off \(ACPI S5\)" &&
	console poweroff "acpi.sh: vda, 16384 sectors" &&
	console poweroff "acpi.sh: eth0, virtio_net, 52:54:00:12:34:56"
stock acpi-reset 0 debian-generic --verbose \
	--cmdline "quiet kvmini.script=acpi kvmini.args=1,rng,reboot reboot=a" &&
	stderr acpi-reset "ACPI reset register"
stock reboot 0 debian-generic --verbose \
	--cmdline "quiet kvmini.script=acpi kvmini.args=1,rng,reboot" &&
	stderr reboot "guest rebooted"
stock no-acpi 0 debian-generic --cpus 2 --no-acpi \
	--cmdline "quiet kvmini.script=acpi kvmini.args=2,no-rng,exit"

# halt stops the CPUs and nothing more: kvmini keeps waiting, until here a
# SIGTERM ends it (143).
dir=$GUEST/debian-generic
"$KVMINI" run --kernel "$dir/vmlinuz" --initrd "$dir/initramfs.cpio.gz" \
	--console "file:$T/halt.log" --timeout 200 \
	--cmdline "quiet kvmini.script=acpi kvmini.args=1,rng,halt" 2>"$T/halt.err" &
pid=$!
i=0
while ! grep -q "acpi.sh: halt" "$T/halt.log" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.2
	i=$((i + 1))
done
sleep 5
if kill -0 $pid 2>/dev/null; then
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	if [ $rc -eq 143 ]; then echo "halt: still running, exit status 143 ok"; else fail halt "exit status $rc, expected 143"; fi
else
	rc=0
	wait $pid || rc=$?
	fail halt "kvmini ended (exit status $rc) on a halted guest"
fi
finish
