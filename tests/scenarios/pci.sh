#!/bin/sh
# --transport pci (docs/pci.md) on kvmini's minimal kernel, which finds
# the bus through conf1 on x86_64 and through the device tree's
# pci-host-ecam-generic node on arm64: the guest (tests/guest/pci.sh)
# sees the host bridge and a virtio-pci function per device, bound by
# virtio_pci with an MSI-X vector for the configuration and one per queue
# (through the GICv3 ITS on arm64); rng reads random data, blk writes
# 4 MiB that this side finds in the image, net takes a DHCP lease over
# user networking (arm64, whose static kvmini has no libslirp: pings over
# a tap); virtio-console carries the console; with --no-acpi too (x86_64);
# INTx when the guest has no MSI. A hostile boot writes garbage into every
# function's config space and BAR and must still end normally. Also: the
# option's errors.
# lab-timeout: 900
. "$LIB"

ARCH=${KVMINI_ARCH:-x86_64}
# arm64's net is a tap: everything in a network namespace of our own.
if [ "$ARCH" = arm64 ] && [ -z "${PCI_NETNS:-}" ]; then
	[ -c /dev/net/tun ] || { echo "pci: no /dev/net/tun here"; exit 77; }
	PCI_NETNS=1 exec unshare -n sh "$0" "$@"
fi

# ---- errors found before any boot ----------------------------------------

rc=0
"$KVMINI" run --kernel "$KERNEL" --transport isa >/dev/null 2>"$T/bad.err" || rc=$?
[ $rc -eq 125 ] || fail bad "exit status $rc, expected 125"
stderr bad "--transport: unknown transport 'isa'"
rc=0
"$KVMINI" run --kernel "$KERNEL" --transport pci --virtio-legacy >/dev/null 2>"$T/legacy.err" || rc=$?
[ $rc -eq 125 ] || fail legacy "exit status $rc, expected 125"
[ "$(wc -l <"$T/legacy.err")" -eq 1 ] || fail legacy "not one line on stderr"
stderr legacy "--transport pci: virtio-pci here is modern only"

# ---- rng, blk and net on PCI, with MSI-X ------------------------------------

truncate -s 64M "$T/pci.img"
if [ "$ARCH" = arm64 ]; then
	ip link set lo up
	tunctl -t tap0 >/dev/null && ip addr add 10.0.99.1/24 dev tap0 && ip link set tap0 up ||
		{ echo "pci: cannot set up tap0"; exit 1; }
	net="tap=tap0" net_arg=tap
else
	net=user net_arg=net
fi
# Two vCPUs, a disk and a NIC take the arm64 lab minutes to boot.
guest pci 0 --timeout 300 --transport pci --cpus 2 --disk "$T/pci.img" --net "$net" \
	--cmdline "kvmini.script=pci kvmini.args=blk,$net_arg"
console pci "pci.sh: ok"
# What the guest saw: the functions, and the MSI-X vectors per queue.
tr -d '\r' <"$T/pci.log" | grep -E '^pci.sh: |(PCI|ITS)-MSI' | sed 's/^/pci: guest: /'
# arm64: the ITS, or the one line saying there is none.
[ "$ARCH" = x86_64 ] || grep -E 'ITS|INTx only' "$T/pci.err" | sed 's/^/pci: kvmini: /'
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

# ---- driver rebinding in a loop (x86_64: without ACPI, conf1 alone) ----------

noacpi=
[ "$ARCH" = x86_64 ] && noacpi=--no-acpi
guest pci-noacpi 0 --transport pci $noacpi --cmdline "kvmini.script=pci kvmini.args=rebind"
console pci-noacpi "pci.sh: rebind: 10 times"
console pci-noacpi "pci.sh: ok"

# ---- INTx: a guest without MSI (pci=nomsi) ----------------------------------
# virtio-rng's reads wait for its interrupt, here the level on INTA#'s
# line (x86_64's minimal kernel takes it from the Interrupt Line
# register, arm64's from the device tree's interrupt-map).

guest pci-intx 0 --transport pci --cmdline "pci=nomsi kvmini.script=pci kvmini.args=intx"
console pci-intx "pci.sh: intx: the rng's interrupts on irq [0-9]+"
console pci-intx "pci.sh: ok"

# ---- the mmio transport has no PCI bus at all --------------------------------

guest mmio 0 --cmdline "kvmini.script=exit kvmini.args=0"
if tr -d '\r' <"$T/mmio.log" | grep -Eq 'PCI: Using configuration type 1|PCI host bridge to bus'; then
	fail mmio "the kernel found a PCI bus without --transport pci"
fi

# ---- hostile: garbage into config space and BARs -----------------------------

guest pci-hostile 0 --transport pci --disk "$T/pci.img" \
	--cmdline "kvmini.script=pci kvmini.args=hostile"
console pci-hostile "pci.sh: hostile: still running"
finish
