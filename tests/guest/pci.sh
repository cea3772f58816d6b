#!/bin/sh
# --transport pci from inside the guest (tests/scenarios/pci.sh): every
# virtio device is a virtio-pci function on bus 0 behind the host bridge,
# bound by virtio_pci, with an MSI-X vector for its configuration and
# one per queue (PCI-MSI on x86, ITS-MSI on arm64). Then, by the
# arguments (comma-separated):
#   blk      4 MiB of random data onto /dev/vda, read back with O_DIRECT;
#            the host checks the "pci-sum" line against its image
#   net      a DHCP lease over user networking, and pings of the gateway
#   tap      eth0 as 10.0.99.2/24, and pings of the host's tap (10.0.99.1)
#   intx     no MSI-X (pci=nomsi): the rng's interrupts came on its INTx
#            line, which the function's irq file names
#   rebind   the rng's function unbound from virtio-pci and bound again,
#            10 times (device reset, MSI-X off and on), then read again
#   hostile  garbage into every virtio function's config space and BAR
#            (common configuration, MSI-X table), then still alive
say()
{
	echo "pci.sh: $*"
}

die()
{
	say "FAILED: $*"
	exit 1
}

# ---- the bus, as lspci would show it ------------------------------------

bridge=0 fns=0
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || die "no PCI devices at all"
	id=$(cat "$d/vendor"):$(cat "$d/device")
	say "$(basename "$d") $id class $(cat "$d/class") irq $(cat "$d/irq") driver $(basename "$(readlink "$d/driver" 2>/dev/null)")"
	case $id in
	0x1b36:0x0008)
		bridge=1
		;;
	0x1af4:0x10[45]?)
		fns=$((fns + 1))
		[ "$(basename "$(readlink "$d/driver")")" = virtio-pci ] ||
			die "$(basename "$d") not bound to virtio-pci"
		[ "$(cat "$d/revision")" = 0x01 ] || die "$(basename "$d") revision not 1"
		;;
	esac
done
[ $bridge = 1 ] || die "no host bridge"
[ $fns -gt 0 ] || die "no virtio-pci functions"

# Each virtio device sits on a PCI function, and speaks virtio 1.0.
nv=0
for v in /sys/bus/virtio/devices/*; do
	[ -e "$v" ] || continue
	nv=$((nv + 1))
	parent=$(basename "$(dirname "$(readlink -f "$v")")")
	case $parent in
	0000:00:*) ;;
	*) die "$(basename "$v") is on $parent, not a PCI function" ;;
	esac
	[ "$(cut -c33 "$v/features")" = 1 ] || die "$(basename "$v") without VERSION_1"
done
[ $nv = $fns ] || die "$nv virtio devices on $fns functions"

# ---- MSI-X: a configuration vector and one per queue ---------------------

# The MSI irq chip's name: x86's PCI-MSI, arm64's GICv3 ITS.
MSI='(PCI|ITS)-MSI'
intx=0
case ",$*," in *,intx,*) intx=1 ;; esac
grep -E "$MSI|virtio" /proc/interrupts
for v in /sys/bus/virtio/devices/*; do
	[ $intx = 0 ] || break
	name=$(basename "$v")
	grep -Eq "$MSI.*$name-config" /proc/interrupts || die "$name has no MSI-X config vector"
	nq=$(grep -Ec "$MSI.*$name-[a-z]" /proc/interrupts)
	nq=$((nq - 1))
	[ $nq -ge 1 ] || die "$name has no MSI-X queue vectors"
	say "$name: config vector and $nq queue vectors"
done

# ---- rng ------------------------------------------------------------------

n=$(dd if=/dev/hwrng bs=64 count=16 2>/dev/null | wc -c)
[ "$n" -eq 1024 ] || die "read $n bytes from /dev/hwrng"
distinct=$(dd if=/dev/hwrng bs=256 count=1 2>/dev/null | od -An -v -tx1 | tr -s ' ' '\n' | sort -u | wc -l)
[ "$distinct" -gt 100 ] || die "$distinct distinct byte values in 256 from /dev/hwrng"
say "rng: 1024 bytes, $distinct distinct values in 256"
# Interrupts came through the rng's queue vector, not INTx (or, with
# intx, on the line the rng's function names, and no vector exists).
if [ $intx = 0 ]; then
	grep -E "$MSI.*virtio[0-9]+-input" /proc/interrupts |
		awk '{ s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; if (s > 0) ok = 1 } END { exit !ok }' ||
		die "no interrupt counted on an MSI-X queue vector"
else
	! grep -Eq "$MSI" /proc/interrupts || die "MSI vectors with pci=nomsi"
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/device")" = 0x1044 ] || continue
		irq=$(cat "$d/irq")
		grep -E "^ *$irq:" /proc/interrupts |
			awk '{ s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; if (s > 0) ok = 1 } END { exit !ok }' ||
			die "no interrupt counted on the rng's INTx line (irq $irq)"
		say "intx: the rng's interrupts on irq $irq"
	done
fi

set -f
IFS=,
set -- $*
unset IFS
set +f
for what; do
	case $what in
	blk)
		[ -b /dev/vda ] || die "no /dev/vda"
		dd if=/dev/urandom of=/tmp/data bs=1M count=4 2>/dev/null
		sum=$(sha256sum </tmp/data | cut -d' ' -f1)
		dd if=/tmp/data of=/dev/vda bs=1M oflag=direct 2>/dev/null || die "write to /dev/vda"
		sync
		back=$(dd if=/dev/vda bs=1M count=4 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "$back" = "$sum" ] || die "/dev/vda read back $back, wrote $sum"
		say "blk: 4 MiB written and read back"
		echo "pci-sum $sum"
		;;
	net)
		ip link set lo up
		ip link set eth0 up || die "no eth0"
		udhcpc -i eth0 -s /tests/net-user-dhcp.sh -n -q -t 5 -T 3 || die "no DHCP lease"
		read -r addr router _ </tmp/dhcp.lease
		say "net: lease $addr via $router"
		[ "$addr" = 10.0.2.15 ] || die "address $addr, not 10.0.2.15"
		ping -c 3 -W 5 10.0.2.2 || die "10.0.2.2 does not answer pings"
		;;
	tap)
		ip link set lo up
		ip addr add 10.0.99.2/24 dev eth0 && ip link set eth0 up || die "no eth0"
		ping -c 3 -W 5 10.0.99.1 || die "10.0.99.1 does not answer pings"
		say "net: 10.0.99.2 pings 10.0.99.1"
		;;
	rebind)
		bdf=
		for d in /sys/bus/pci/devices/*; do
			[ "$(cat "$d/device")" = 0x1044 ] && bdf=$(basename "$d")
		done
		[ -n "$bdf" ] || die "no virtio-rng function"
		drv=/sys/bus/pci/drivers/virtio-pci
		i=0
		while [ $i -lt 10 ]; do
			echo "$bdf" >$drv/unbind || die "unbind $bdf"
			echo "$bdf" >$drv/bind || die "bind $bdf"
			i=$((i + 1))
		done
		n=$(dd if=/dev/hwrng bs=64 count=4 2>/dev/null | wc -c)
		[ "$n" -eq 256 ] || die "read $n bytes from /dev/hwrng after rebinding"
		grep -Eq "$MSI.*virtio[0-9]*-input" /proc/interrupts || die "no MSI-X vectors after rebinding"
		say "rebind: 10 times, then 256 bytes from /dev/hwrng"
		;;
	hostile)
		for d in /sys/bus/pci/devices/*; do
			case $(cat "$d/vendor") in 0x1af4) ;; *) continue ;; esac
			bar=$(head -n1 "$d/resource" | cut -d' ' -f1)
			say "hostile: $(basename "$d"), BAR at $bar"
			# Garbage into config space past the header (capabilities,
			# MSI-X control), then into the header itself (BARs,
			# command), byte by byte and in one go.
			dd if=/dev/urandom of="$d/config" bs=1 seek=64 count=192 conv=notrunc 2>/dev/null
			dd if=/dev/urandom of="$d/config" bs=64 count=1 conv=notrunc 2>/dev/null
			# And into the BAR where it was: common configuration,
			# notify, the MSI-X table (absurd addresses and data).
			for off in 0x0 0x4 0x10 0x14 0x16 0x1c 0x20 0x3000 0x3004 0x4000 0x4004 0x4008 0x400c 0x4010 0x5000; do
				devmem $((bar + off)) 32 0x$(od -An -N4 -tx4 /dev/urandom | tr -d ' ') 2>/dev/null
			done
		done
		# Config space of functions that do not exist, read through sysfs.
		cat /sys/bus/pci/devices/*/config >/dev/null 2>&1
		say "hostile: still running"
		;;
	esac
done
say "ok"
exit 0
