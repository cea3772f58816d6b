#!/bin/sh
# A stock kernel on --transport pci (tests/scenarios/pci-stock.sh): /init
# loaded virtio_pci and the virtio drivers by coldplug, with no list; every
# virtio-pci function is bound to virtio-pci and every virtio device to its
# driver, each with an MSI-X vector for its configuration and one per
# queue (blk: one request queue per CPU; x86 names the vectors PCI-MSI,
# arm64's GICv3 ITS ITS-MSI); the console is hvc0; rng reads
# random data. Then, by the arguments (comma-separated):
#   blk     ext4 on /dev/vda (made by the host): files of random data, a
#           "blk-sum NAME SHA256" line each for the host to check; then
#           pci-spread.sh: the queues' interrupts land on different CPUs
#   net     a DHCP lease over user networking, and pings of the gateway
#   fs=TAG  the virtio-fs share TAG: reads the host's file "from-host",
#           writes "new" and "big" ("fs-sum big SHA256" for the host)
say()
{
	echo "pci-stock: $*"
}

die()
{
	say "FAILED: $*"
	dmesg | tail -n 30
	exit 1
}

drv_of()
{
	basename "$(readlink "$1/driver" 2>/dev/null)"
}

say "kernel $(uname -r), $(grep -c '^processor' /proc/cpuinfo) CPUs"
say "modules: $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
grep -q '^virtio_pci ' /proc/modules || die "virtio_pci is not loaded"

# ---- every virtio function bound, every virtio device driven -------------

fns=0
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1af4 ] || continue
	fns=$((fns + 1))
	[ "$(drv_of "$d")" = virtio-pci ] || die "$(basename "$d") not bound to virtio-pci"
done
[ $fns -gt 0 ] || die "no virtio-pci functions"
nv=0
for v in /sys/bus/virtio/devices/*; do
	[ -e "$v" ] || continue
	nv=$((nv + 1))
	name=$(basename "$v")
	fn=$(basename "$(dirname "$(readlink -f "$v")")")
	drv=$(drv_of "$v")
	[ -n "$drv" ] || die "$name (device $(cat "$v/device")) has no driver"
	grep -Eq "(PCI|ITS)-MSI.*$name-config" /proc/interrupts || die "$name has no MSI-X config vector"
	nq=$(grep -Ec "(PCI|ITS)-MSI.*$name-[a-z]" /proc/interrupts)
	nq=$((nq - 1))
	[ $nq -ge 1 ] || die "$name has no MSI-X queue vectors"
	say "$name on $fn: driver $drv, config vector and $nq queue vectors"
done
[ $nv = $fns ] || die "$nv virtio devices on $fns functions"
say "virtio-pci bound to $fns functions"

# The console that console= names last (kvmini's --console virtio: hvc0).
cons=$(cat /sys/class/tty/console/active)
say "consoles: $cons"
case " $cons " in *" hvc0 "*) say "console hvc0" ;; esac

n=$(dd if=/dev/hwrng bs=64 count=16 2>/dev/null | wc -c)
[ "$n" -eq 1024 ] || die "read $n bytes from /dev/hwrng ($(cat /sys/class/misc/hw_random/rng_current))"
say "rng: 1024 bytes from $(cat /sys/class/misc/hw_random/rng_current)"

set -f
IFS=,
set -- $*
unset IFS
set +f
for what; do
	case $what in
	blk)
		[ -b /dev/vda ] || die "no /dev/vda"
		mkdir -p /mnt/blk
		# ext4 is a module on the generic kernel: mount asks for it.
		mount -t ext4 /dev/vda /mnt/blk || die "mount -t ext4 /dev/vda"
		i=0
		while [ $i -lt 8 ]; do
			dd if=/dev/urandom of=/mnt/blk/f$i bs=1k count=$((i * 97 + 3)) 2>/dev/null ||
				die "write /mnt/blk/f$i"
			i=$((i + 1))
		done
		(cd /mnt/blk && for f in f*; do echo "blk-sum $f $(sha256sum <"$f" | cut -d' ' -f1)"; done)
		umount /mnt/blk || die "umount /mnt/blk"
		say "blk: 8 files on ext4"
		sh /tests/pci-spread.sh vda || die "multi-queue spread"
		;;
	net)
		ip link set lo up
		ip link set eth0 up || die "no eth0"
		say "net: eth0 driver $(drv_of /sys/class/net/eth0/device)"
		udhcpc -i eth0 -s /tests/net-user-dhcp.sh -n -q -t 5 -T 3 >/dev/null || die "no DHCP lease"
		read -r addr router _ </tmp/dhcp.lease
		say "net: lease $addr via $router"
		ping -c 3 -W 5 "$router" >/dev/null || die "$router does not answer pings"
		say "net: $router answers pings"
		;;
	fs=*)
		tag=${what#fs=}
		mkdir -p /mnt/fs
		mount -t virtiofs "$tag" /mnt/fs || die "mount -t virtiofs $tag"
		say "fs: host file says '$(cat /mnt/fs/from-host)'"
		echo "made in the guest" >/mnt/fs/new || die "write /mnt/fs/new"
		dd if=/dev/urandom of=/mnt/fs/big bs=64k count=16 2>/dev/null || die "write /mnt/fs/big"
		echo "fs-sum big $(sha256sum </mnt/fs/big | cut -d' ' -f1)"
		umount /mnt/fs || die "umount /mnt/fs"
		;;
	*)
		die "unknown argument '$what'"
		;;
	esac
done
say "ok"
