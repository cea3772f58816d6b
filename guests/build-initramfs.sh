#!/bin/sh
# Build the initramfs of kvmini's test guest: Debian's static busybox, the
# /init in guests/initramfs/ and the guest-side test scripts tests/guest/*.sh
# (as /tests/NAME.sh, run by kvmini.script=NAME). On x86_64 also
# OUTDIR/tools.img, the block device tests' programs (see below).
# Usage: build-initramfs.sh OUTDIR [ARCH]   (writes OUTDIR/initramfs.cpio.gz)
# ARCH: x86_64 (default), or arm64 with busybox from the arm64 sysroot
# (scripts/sysroot.sh; $KVMINI_SYSROOT_ARM64, else the cache's).
#
# Needs no root: the archive is written with every file owned by root, and
# /dev/console comes from the kernel's built-in initramfs. Timestamps are
# pinned so the same inputs give the same bytes.
set -eu
umask 022

out=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
busybox=/bin/busybox
# Lists the applets: the host's busybox, the same Debian build as the
# other architecture's, which cannot run here.
lister=/bin/busybox
case ${2:-x86_64} in
x86_64) ;;
arm64)
	cache=${KVMINI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmini}
	busybox=${KVMINI_SYSROOT_ARM64:-$cache/sysroot-arm64}/bin/busybox
	;;
*)
	echo "build-initramfs: unknown ARCH '$2' (x86_64 or arm64)" >&2
	exit 1
	;;
esac

# The guest kernel has no dynamic loader to offer: the busybox must be static.
if [ ! -x "$busybox" ] || ! "$lister" --list-full >/dev/null 2>&1; then
	echo "build-initramfs: $busybox missing: run 'make deps' (busybox-static)" >&2
	exit 1
fi
case $(file -b "$busybox" 2>/dev/null || echo static) in
*dynamically*)
	echo "build-initramfs: $busybox is dynamically linked: install busybox-static" >&2
	exit 1
	;;
esac

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/kvmini-initramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

mkdir -p "$root"
for d in bin sbin usr/bin usr/sbin dev proc sys tmp root tests etc; do
	mkdir -p "$root/$d"
done
cp "$busybox" "$root/bin/busybox"
"$lister" --list-full | while read -r applet; do
	case $applet in
	bin/busybox | "")
		continue
		;;
	esac
	# Relative links keep the tree valid wherever it is unpacked.
	case $applet in
	bin/* | sbin/*)
		ln -sf ../bin/busybox "$root/$applet"
		;;
	usr/bin/* | usr/sbin/*)
		ln -sf ../../bin/busybox "$root/$applet"
		;;
	esac
done

install -m 0755 "$here/initramfs/init" "$root/init"
# The test programs busybox lacks (Makefile: guests/tools/), when built.
for t in udpburst vsock; do
	[ ! -f "$out/$t" ] || install -m 0755 "$out/$t" "$root/bin/$t"
done
for t in "$top"/tests/guest/*.sh; do
	[ -f "$t" ] || continue
	install -m 0755 "$t" "$root/tests/$(basename "$t")"
done

# A fixed date and a sorted list make the archive depend on content only.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9 -n >"$work/initramfs.cpio.gz"
# Rename into place so an interrupted build never leaves a file that make
# would take as up to date.
mv "$work/initramfs.cpio.gz" "$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"

# Programs busybox lacks, for the block device tests (tests/guest/blk-*.sh):
# mke2fs and e2fsck (e2fsprogs), blkdiscard -z (util-linux) and fio; and
# iperf3 for make bench's network figures (tests/guest/net-bench.sh). Host
# programs with their libraries (x86_64 only), at their host paths, on a
# disk image of their own, tools.img (ext4, no journal), which those tests
# attach read-only: fio alone brings 80 MiB of libraries (ceph, gluster…),
# and even the small ones would slow every boot from the initramfs down.
# The files are the host's; unlike the initramfs, the image is not byte
# for byte reproducible (mke2fs -d keeps the staging files' change times).
if [ "${2:-x86_64}" = x86_64 ]; then
	tools=$work/tools
	mkdir -p "$tools"
	"$here/copy-tools.sh" "$tools" mke2fs e2fsck blkdiscard fio iperf3
	kib=$(du -sk "$tools" | cut -f1)
	truncate -s "$((kib + kib / 8 + 2048))k" "$work/tools.img"
	mke2fs -q -F -t ext4 -O ^has_journal -m 0 -N 256 -L kvmini-tools \
		-E root_owner=0:0 -d "$tools" "$work/tools.img"
	mv "$work/tools.img" "$out/tools.img.tmp"
	mv "$out/tools.img.tmp" "$out/tools.img"
fi
