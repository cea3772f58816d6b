#!/bin/sh
# Build the initramfs of kvmini's test guest: Debian's static busybox, the
# /init in guests/initramfs/ and the guest-side test scripts tests/guest/*.sh
# (as /tests/NAME.sh, run by kvmini.script=NAME).
# Usage: build-initramfs.sh OUTDIR   (writes OUTDIR/initramfs.cpio.gz)
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

# The guest kernel has no dynamic loader to offer: the busybox must be static.
if [ ! -x "$busybox" ] || ! "$busybox" --list-full >/dev/null 2>&1; then
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
"$busybox" --list-full | while read -r applet; do
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
