#!/bin/sh
# Build the minimal guest kernel from Debian's linux-source-6.1 and the config
# fragment in guests/kernel/, or reuse a cached build of the same inputs.
# Usage: build-kernel.sh ARCH OUTDIR   (ARCH: x86_64)
# OUTDIR receives bzImage and vmlinux. The cache key covers the fragment, this
# script and the installed source package, so any change rebuilds.
set -eu

arch=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
frag=$here/kernel/$arch.config
src=/usr/src/linux-source-6.1.tar.xz
cache=${KVMINI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmini}

[ -f "$frag" ] || { echo "build-kernel: no config fragment for $arch ($frag)" >&2; exit 1; }
[ -f "$src" ] || { echo "build-kernel: $src missing: run 'make deps'" >&2; exit 1; }

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (cat "$frag" "$0"; echo "$srcver") | sha256sum | cut -c1-16)
dir=$cache/kernel-$arch-$key

if [ ! -f "$dir/bzImage" ]; then
	mkdir -p "$cache"
	work=$(mktemp -d "$cache/build.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	echo "build-kernel: building $arch guest kernel (about 7 minutes on 2 cores)" >&2
	tar -xf "$src" -C "$work"
	ksrc=$work/linux-source-6.1
	make -C "$ksrc" -s ARCH=x86_64 tinyconfig >/dev/null
	"$ksrc/scripts/kconfig/merge_config.sh" -m -O "$ksrc" "$ksrc/.config" "$frag" >/dev/null
	make -C "$ksrc" -s ARCH=x86_64 olddefconfig >/dev/null
	# merge_config only warns when Kconfig drops an option; a silently
	# missing driver would surface much later as a hung boot, so fail here.
	missing=0
	for opt in $(grep -E '^CONFIG_[A-Z0-9_]+=y' "$frag"); do
		grep -qx "$opt" "$ksrc/.config" || { echo "build-kernel: $opt did not stick" >&2; missing=1; }
	done
	[ $missing -eq 0 ] || exit 1
	make -C "$ksrc" -s ARCH=x86_64 -j"$(nproc)" bzImage >"$work/build.log" 2>&1 ||
		{ tail -30 "$work/build.log" >&2; exit 1; }
	mkdir -p "$work/out"
	cp "$ksrc/arch/x86/boot/bzImage" "$ksrc/vmlinux" "$ksrc/.config" "$work/out/"
	rm -rf "$dir"
	mv "$work/out" "$dir"
fi
mkdir -p "$out"
cp "$dir/bzImage" "$dir/vmlinux" "$out/"
