#!/bin/sh
# Installs every Debian package listed in scripts/packages.txt. Needs root
# (or sudo). `apt-get update` runs first so a fresh machine finds them all.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkgs=$(grep -v '^#' "$here/packages.txt" | tr '\n' ' ')
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $pkgs 2>/dev/null |
	awk '$NF == "installed" { print $1 }' | sort >/tmp/kvmini-have.$$;
	for p in $pkgs; do grep -qx "$p" /tmp/kvmini-have.$$ || echo "$p"; done;
	rm -f /tmp/kvmini-have.$$)
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
echo "deps: installing" $missing
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
