#!/bin/sh
# --transport pci with Debian 12's stock kernels (issue #21, docs/pci.md):
# one boot each of debian-generic and debian-cloud (x86_64, ACPI on; arm64:
# debian-cloud, the device tree), 2 vCPUs, with
# the test initramfs of guests/build-debian.sh, whose /init loads
# virtio_pci and the virtio drivers by coldplug of the devices' modaliases
# (no list of modules). The guest (tests/guest/pci-stock.sh) finds every
# function bound to virtio-pci with an MSI-X vector for the configuration
# and one per queue, reads rng, logs through virtio-console (hvc0, a
# module there), writes files onto ext4 that this side checks with
# e2fsck and debugfs, spreads virtio-blk's two request queues' interrupts
# over both CPUs (tests/guest/pci-spread.sh), takes a DHCP lease over
# user networking and reads and writes a --share. Then the spread on
# kvmini's minimal kernel too, and (x86_64) INTx with pci=nomsi, which that
# kernel (no ACPI) routes by the MP table's PCI interrupt entries (arm64's
# INTx, by the device tree's interrupt-map, is pci.sh's).
#
# virtiofsd (and a dynamically linked kvmini, for user networking) come
# from the HOSTROOT (tests/lab/run.sh: the build host's /, the arm64
# sysroot in the arm64 lab), as in share.sh; mke2fs, e2fsck and debugfs too.
# lab-timeout: 600 (measured: x86_64 154 to 241 s passing, up to 300 s
# under load; arm64 58 to 124 s, the last under load)
. "$LIB"

case ${KVMINI_ARCH:-x86_64} in
x86_64) flavours="debian-generic debian-cloud" image=vmlinuz ;;
*) flavours=debian-cloud image=Image ;;
esac

if [ -n "${HOSTROOT:-}" ]; then
	kvmini()
	{
		chroot "$HOSTROOT" "$KVMINI_PATH" "$@"
	}
	host()
	{
		hostrun "$@"
	}
	G=$OUTER$GUEST K=$OUTER$KERNEL I=$OUTER$INITRD
	root=$HOSTROOT
else
	kvmini()
	{
		"$KVMINI" "$@"
	}
	host()
	{
		"$@"
	}
	G=$GUEST K=$KERNEL I=$INITRD
	root=
fi
[ -x "$root/usr/lib/qemu/virtiofsd" ] || { echo "pci-stock: no virtiofsd (qemu-system-common)"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "pci-stock: virtiofsd needs root"; exit 77; }
for f in mke2fs e2fsck debugfs; do
	[ -x "$root/usr/sbin/$f" ] || { echo "pci-stock: no $f (e2fsprogs)"; exit 77; }
done
# The static kvmini has no libslirp: no --net user (--dump-dtb sets the
# devices up, libslirp included, and boots nothing).
if ! kvmini run --kernel "$K" --dump-dtb "$T/probe.dtb" --net user >/dev/null 2>"$T/probe.err"; then
	echo "pci-stock: this kvmini has no --net user ($(cat "$T/probe.err")): the lab needs the dynamic build"
	exit 77
fi

# boot NAME WANT [kvmini run options...]: the console (virtio-console,
# on kvmini's stdout) in $T/NAME.log; says how long the boot took.
boot()
{
	name=$1 want=$2
	shift 2
	read -r t0 _ </proc/uptime
	rc=0
	kvmini run --timeout 600 --mem 512M "$@" </dev/null >"$T/$name.log" 2>"$T/$name.err" || rc=$?
	read -r t1 _ </proc/uptime
	echo "$name: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
	if [ "$rc" -eq "$want" ]; then
		echo "$name: exit status $rc ok"
		return 0
	fi
	fail "$name" "exit status $rc, expected $want"
	return 1
}

# check_ext4 NAME: e2fsck finds nothing wrong on $T/NAME.img, and every
# file of the guest's "blk-sum FILE SHA256" lines reads back here.
check_ext4()
{
	name=$1
	if ! host /usr/sbin/e2fsck -fn "$T/$name.img" >"$T/$name.fsck" 2>&1; then
		cat "$T/$name.fsck"
		fail "$name" "e2fsck -fn found errors"
		return
	fi
	mkdir -p "$T/$name.files"
	host /usr/sbin/debugfs -R "rdump / $T/$name.files" "$T/$name.img" >/dev/null 2>&1
	n=0 bad=0
	tr -d '\r' <"$T/$name.log" | grep '^blk-sum ' >"$T/$name.sums"
	while read -r _ file sum; do
		n=$((n + 1))
		got=$(sha256sum <"$T/$name.files/$file" 2>/dev/null | cut -d' ' -f1)
		[ "$got" = "$sum" ] || { echo "$name: $file: '$got', guest wrote $sum"; bad=$((bad + 1)); }
	done <"$T/$name.sums"
	if [ $n -ne 8 ] || [ $bad -ne 0 ]; then
		fail "$name" "$bad of $n files differ (8 expected)"
	else
		echo "$name: e2fsck clean, 8 files match"
	fi
}

for d in $flavours; do
	k=${d#debian-} dir=$G/$d
	host /usr/sbin/mke2fs -q -t ext4 -F "$T/$k.img" 32M >/dev/null 2>&1 ||
		{ fail "$k" "mke2fs $T/$k.img"; continue; }
	mkdir -p "$T/$k-share"
	echo "hello from $k's host" >"$T/$k-share/from-host"
	boot "$k" 0 --kernel "$dir/$image" --initrd "$dir/initramfs.cpio.gz" \
		--transport pci --cpus 2 --console virtio --disk "$T/$k.img" --net user \
		--share "$T/$k-share:share" \
		--cmdline "quiet kvmini.script=pci-stock kvmini.args=blk,net,fs=share"
	# What the guest saw.
	tr -d '\r' <"$T/$k.log" | grep -E '^(pci-stock|pci-spread): ' | sed "s/^/$k: guest: /"
	console "$k" "^kvmini-guest: init"
	console "$k" "pci-stock: console hvc0"
	console "$k" "pci-stock: virtio-pci bound to 5 functions"
	console "$k" "driver virtio_blk, config vector and 2 queue vectors"
	console "$k" "pci-spread: ok: 2 queues, each on a CPU of its own"
	console "$k" "pci-stock: net: lease 10.0.2.15 via 10.0.2.2"
	console "$k" "pci-stock: fs: host file says 'hello from $k's host'"
	console "$k" "pci-stock: ok"
	check_ext4 "$k"
	if [ "$(cat "$T/$k-share/new" 2>/dev/null)" = "made in the guest" ] &&
		tr -d '\r' <"$T/$k.log" | grep -q "^fs-sum big $(sha256sum <"$T/$k-share/big" | cut -d' ' -f1)\$"; then
		echo "$k: the share has the guest's files"
	else
		fail "$k" "the share lacks the guest's files"
	fi
done

# ---- the spread on kvmini's minimal kernel -----------------------------------

truncate -s 16M "$T/spread.img"
boot spread 0 --kernel "$K" --initrd "$I" --transport pci --cpus 2 --disk "$T/spread.img" \
	--cmdline "kvmini.script=pci-spread kvmini.args=vda"
tr -d '\r' <"$T/spread.log" | grep '^pci-spread: ' | sed 's/^/spread: guest: /'
console spread "pci-spread: ok: 2 queues, each on a CPU of its own"

# ---- INTx from the MP table ------------------------------------------------------
# The minimal kernel has no ACPI: with pci=nomsi it finds each function's
# INTA# in the MP table's PCI entries, and virtio-rng's reads wait for
# that level-triggered line. arm64 has no MP table: there pci.sh checks
# INTx from the device tree's interrupt-map.

if [ "${KVMINI_ARCH:-x86_64}" = x86_64 ]; then
	boot intx 0 --kernel "$K" --initrd "$I" --transport pci \
		--cmdline "pci=nomsi kvmini.script=rng kvmini.args=modern"
	console intx "PCI->APIC IRQ transform: INT A -> IRQ [0-9]+"
	tr -d '\r' <"$T/intx.log" | grep 'IRQ transform' | sed 's/^/intx: guest: /'
	console intx "rng.sh: read 1024 bytes"
	if grep -q "can't find IRQ for PCI INT" "$T/intx.log"; then
		fail intx "the kernel did not find INTA# in the MP table"
	else
		echo "intx: INTA# found in the MP table"
	fi
else
	echo "intx: the MP table is x86's (arm64's INTx is pci.sh's)"
fi
finish
