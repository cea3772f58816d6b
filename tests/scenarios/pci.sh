#!/bin/sh
# --transport pci (docs/pci.md) on kvmini's minimal kernel, which finds
# the bus through conf1: the guest (tests/guest/pci.sh) sees the host
# bridge and a virtio-pci function per device, bound by virtio_pci with
# an MSI-X vector for the configuration and one per queue; rng reads
# random data, blk writes 4 MiB that this side finds in the image, net
# takes a DHCP lease over user networking; virtio-console carries the
# console; with --no-acpi too; INTx when the guest has no MSI. A hostile boot writes garbage into every
# function's config space and BAR and must still end normally. Also: the
# option's errors.
# lab-timeout: 600
. "$LIB"

[ "${KVMINI_ARCH:-x86_64}" = x86_64 ] || { echo "pci: x86_64 only (phase 1)"; exit 77; }

# ---- errors found before any boot ----------------------------------------

rc=0
"$KVMINI" run --kernel "$KERNEL" --transport isa >/dev/null 2>"$T/bad.err" || rc=$?
[ $rc -eq 125 ] || fail bad "exit status $rc, expected 125"
stderr bad "--transport: unknown transport 'isa'"
rc=0
"$KVMINI" run --kernel "$KERNEL" --transport pci --control "$T/ctl" >/dev/null 2>"$T/ctl.err" || rc=$?
[ $rc -eq 125 ] || fail ctl "exit status $rc, expected 125"
[ "$(wc -l <"$T/ctl.err")" -eq 1 ] || fail ctl "not one line on stderr"
stderr ctl "--transport pci: not with .*--control"

# ---- rng, blk and net on PCI, with MSI-X ------------------------------------

truncate -s 64M "$T/pci.img"
guest pci 0 --transport pci --cpus 2 --disk "$T/pci.img" --net user \
	--cmdline "kvmini.script=pci kvmini.args=blk,net"
console pci "pci.sh: ok"
# What the guest saw: the functions, and the MSI-X vectors per queue.
tr -d '\r' <"$T/pci.log" | grep -E '^pci.sh: |PCI-MSI' | sed 's/^/pci: guest: /'
want=$(tr -d '\r' <"$T/pci.log" | sed -n 's/^pci-sum //p')
got=$(dd if="$T/pci.img" bs=1M count=4 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -n "$want" ] && [ "$want" = "$got" ]; then
	echo "pci: the image has the guest's 4 MiB (sha256 $got)"
else
	fail pci "image sha256 $got, guest wrote '$want'"
fi

# ---- virtio-console on PCI ------------------------------------------------

rc=0
"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --timeout 120 --transport pci \
	--console virtio --cmdline "kvmini.script=pci" \
	</dev/null >"$T/pci-console.log" 2>"$T/pci-console.err" || rc=$?
[ $rc -eq 0 ] || fail pci-console "exit status $rc, expected 0"
console pci-console "kvmini-guest: init"
console pci-console "pci.sh: ok"

# ---- without ACPI: conf1 alone; driver rebinding in a loop -------------------

guest pci-noacpi 0 --transport pci --no-acpi --cmdline "kvmini.script=pci kvmini.args=rebind"
console pci-noacpi "pci.sh: rebind: 10 times"
console pci-noacpi "pci.sh: ok"

# ---- INTx: a guest without MSI (pci=nomsi) ----------------------------------
# virtio-rng's reads wait for its interrupt, here the level on INTA#'s
# line (the minimal kernel takes it from the Interrupt Line register).

guest pci-intx 0 --transport pci --cmdline "pci=nomsi kvmini.script=rng kvmini.args=modern"
console pci-intx "rng.sh: read 1024 bytes"

# ---- the mmio transport has no PCI bus at all --------------------------------

guest mmio 0 --cmdline "kvmini.script=exit kvmini.args=0"
if tr -d '\r' <"$T/mmio.log" | grep -q 'PCI: Using configuration type 1'; then
	fail mmio "the kernel found a PCI bus without --transport pci"
fi

# ---- hostile: garbage into config space and BARs -----------------------------

guest pci-hostile 0 --transport pci --disk "$T/pci.img" \
	--cmdline "kvmini.script=pci kvmini.args=hostile"
console pci-hostile "pci.sh: hostile: still running"
finish
