#!/bin/sh
# Build the minimal guest kernel from Debian's linux-source-6.1 and the config
# fragment in guests/kernel/, or reuse a cached build of the same inputs.
# Usage: build-kernel.sh ARCH OUTDIR   (ARCH: x86_64 or arm64)
# OUTDIR receives bzImage and vmlinux (x86_64) or Image (arm64, cross-built
# with aarch64-linux-gnu-gcc). The cache key covers the fragment, this script
# and the installed source package, so any change rebuilds.
set -eu

arch=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
frag=$here/kernel/$arch.config
src=/usr/src/linux-source-6.1.tar.xz
cache=${KVMINI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmini}

case $arch in
x86_64)
	kmake="ARCH=x86_64"
	target=bzImage
	outputs="arch/x86/boot/bzImage vmlinux"
	;;
arm64)
	kmake="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
	target=Image
	outputs=arch/arm64/boot/Image
	command -v aarch64-linux-gnu-gcc >/dev/null ||
		{ echo "build-kernel: aarch64-linux-gnu-gcc missing: run 'make deps'" >&2; exit 1; }
	;;
*)
	echo "build-kernel: unknown ARCH '$arch' (x86_64 or arm64)" >&2
	exit 1
	;;
esac
[ -f "$frag" ] || { echo "build-kernel: no config fragment for $arch ($frag)" >&2; exit 1; }
[ -f "$src" ] || { echo "build-kernel: $src missing: run 'make deps'" >&2; exit 1; }

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (cat "$frag" "$0"; echo "$srcver") | sha256sum | cut -c1-16)
dir=$cache/kernel-$arch-$key

# One build of a configuration at a time: a second make (another lab, a
# parallel test target) waits for the first and then takes its result.
mkdir -p "$cache"
exec 9>"$cache/.kernel-$arch.lock"
flock 9
if [ ! -f "$dir/$target" ]; then
	work=$(mktemp -d "$cache/build.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	echo "build-kernel: building $arch guest kernel (about 7 minutes on 2 cores)" >&2
	tar -xf "$src" -C "$work"
	ksrc=$work/linux-source-6.1
	make -C "$ksrc" -s $kmake tinyconfig >/dev/null
	"$ksrc/scripts/kconfig/merge_config.sh" -m -O "$ksrc" "$ksrc/.config" "$frag" >/dev/null
	make -C "$ksrc" -s $kmake olddefconfig >/dev/null
	# merge_config only warns when Kconfig drops an option; a silently
	# missing driver would surface much later as a hung boot, so fail here.
	missing=0
	for opt in $(grep -E '^CONFIG_[A-Z0-9_]+=y' "$frag"); do
		grep -qx "$opt" "$ksrc/.config" || { echo "build-kernel: $opt did not stick" >&2; missing=1; }
	done
	[ $missing -eq 0 ] || exit 1
	make -C "$ksrc" -s $kmake -j"$(nproc)" $target >"$work/build.log" 2>&1 ||
		{ tail -30 "$work/build.log" >&2; exit 1; }
	mkdir -p "$work/out"
	for f in $outputs .config; do
		cp "$ksrc/$f" "$work/out/"
	done
	rm -rf "$dir"
	mv "$work/out" "$dir"
fi
mkdir -p "$out"
for f in $outputs; do
	cp "$dir/$(basename "$f")" "$out/"
done
