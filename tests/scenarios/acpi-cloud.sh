#!/bin/sh
# ACPI with Debian 12's cloud kernel, which has no MP table parser: it sees
# its 4 CPUs only in kvmini's MADT and its virtio-rng and virtio-net only in
# the DSDT, and poweroff (S5), the ACPI reset register (reboot=a) and the
# default reboot (i8042) each end kvmini with 0. (The generic kernel: acpi.sh.)
. "$LIB"

[ "${KVMINI_ARCH:-x86_64}" = x86_64 ] || exit 77

stock poweroff 0 debian-cloud --cpus 4 --verbose --net user \
	--cmdline "quiet kvmini.script=acpi kvmini.args=4,rng,poweroff,net" &&
	stderr poweroff "guest powered off \(ACPI S5\)" &&
	console poweroff "acpi.sh: eth0, virtio_net, 52:54:00:12:34:56"
stock acpi-reset 0 debian-cloud --cpus 2 --verbose \
	--cmdline "quiet kvmini.script=acpi kvmini.args=2,rng,reboot reboot=a" &&
	stderr acpi-reset "ACPI reset register"
stock reboot 0 debian-cloud --verbose \
	--cmdline "quiet kvmini.script=acpi kvmini.args=1,rng,reboot" &&
	stderr reboot "guest rebooted"
finish
