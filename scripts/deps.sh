#!/bin/sh
# Installs every Debian package listed in scripts/packages.txt. Needs root
# (or sudo). `apt-get update` runs first so a fresh machine finds them all.
# Then unpacks the arm64 packages of scripts/packages-arm64.txt into the
# arm64 sysroot (scripts/sysroot.sh), which needs arm64 in apt's lists.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkgs=$(grep -v '^#' "$here/packages.txt" | tr '\n' ' ')
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
cache=${KVMINI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmini}
sysroot=${KVMINI_SYSROOT_ARM64:-$cache/sysroot-arm64}

arm64=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
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
	[ -z "$missing" ] || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
fi
"$here/sysroot.sh" "$sysroot"
