#!/bin/sh
# Installs the Debian packages kvmini needs, without their recommendations:
#   scripts/deps.sh               scripts/packages-build.txt and
#                                 scripts/packages-test.txt (make deps), then
#                                 the arm64 sysroot
#   scripts/deps.sh --build-only  only packages-build.txt: build and run
#                                 kvmini, its guest kernel and initramfs
#   scripts/deps.sh --print [--build-only]   the package names, nothing else
# Needs root (or sudo). `apt-get update` runs first so a fresh machine finds
# them all. The full set then unpacks the arm64 packages of
# scripts/packages-arm64.txt into the arm64 sysroot (scripts/sysroot.sh),
# which needs arm64 in apt's lists.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lists="$here/packages-build.txt $here/packages-test.txt"
build_only=0
print=0
for a in "$@"; do
	case $a in
	--build-only) build_only=1 lists=$here/packages-build.txt ;;
	--print) print=1 ;;
	*) echo "usage: deps.sh [--build-only] [--print]" >&2; exit 2 ;;
	esac
done
# shellcheck disable=SC2086
pkgs=$(cat $lists | grep -v -e '^#' -e '^$' | tr '\n' ' ')
if [ $print -eq 1 ]; then
	echo $pkgs
	exit 0
fi
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
cache=${KVMINI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmini}
sysroot=${KVMINI_SYSROOT_ARM64:-$cache/sysroot-arm64}

arm64=0
if [ $build_only -eq 0 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "deps: adding the arm64 architecture to apt (for the arm64 sysroot)"
	$sudo dpkg --add-architecture arm64
	arm64=1
fi
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $pkgs 2>/dev/null |
	awk '$NF == "installed" { print $1 }' | sort >/tmp/kvmini-have.$$;
	for p in $pkgs; do grep -qx "$p" /tmp/kvmini-have.$$ || echo "$p"; done;
	rm -f /tmp/kvmini-have.$$)
if [ -z "$missing" ] && [ $arm64 -eq 0 ]; then
	echo "deps: all packages present"
else
	[ -z "$missing" ] || echo "deps: installing" $missing
	$sudo apt-get update -q
	[ -z "$missing" ] || DEBIAN_FRONTEND=noninteractive \
		$sudo apt-get install -y -q --no-install-recommends $missing
fi
[ $build_only -eq 1 ] || "$here/sysroot.sh" "$sysroot"
