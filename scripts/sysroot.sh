#!/bin/sh
# Unpacks the arm64 packages in scripts/packages-arm64.txt into a sysroot for
# the cross build (headers, static and shared libraries) and the arm64
# guests (busybox). Needs no root, only apt lists that include arm64
# (`make deps` adds the architecture). A finished sysroot has a .complete
# stamp holding the package versions; a changed list rebuilds it.
# Usage: scripts/sysroot.sh DIR
set -eu

dir=${1:?usage: sysroot.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
pkgs=$(grep -v '^#' "$here/packages-arm64.txt" | sed 's/$/:arm64/' | tr '\n' ' ')

# shellcheck disable=SC2086
want=$(apt-cache policy $pkgs 2>/dev/null | awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }')
case $want in
'' | *"(none)"*)
	echo "sysroot: apt does not know every arm64 package ($pkgs):" \
		"run 'make deps' (it adds the arm64 architecture and updates the lists)" >&2
	exit 1
	;;
esac
if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$want" ]; then
	touch "$dir/.complete"	# up to date for make, too
	exit 0
fi

echo "sysroot: unpacking arm64 packages into $dir" >&2
parent=$(dirname "$dir")
mkdir -p "$parent"
work=$(mktemp -d "$parent/.sysroot.XXXXXX")
trap 'rm -rf "$work"' EXIT
# As root, apt drops to _apt for downloads, which cannot write here.
sandbox=
[ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"
# shellcheck disable=SC2086
if ! (cd "$work" && apt-get download -q $sandbox $pkgs >apt.log 2>&1); then
	cat "$work/apt.log" >&2
	echo "sysroot: cannot download the arm64 packages: run 'make deps'" >&2
	exit 1
fi
mkdir -p "$work/root"
for deb in "$work"/*.deb; do
	dpkg -x "$deb" "$work/root"
done
# A -dev package may link libfoo.so to its runtime library by absolute
# path; point such links inside the sysroot instead.
find "$work/root" -type l -lname '/*' | while read -r l; do
	ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$work/root$(readlink "$l")")" "$l"
done
echo "$want" >"$work/root/.complete"
rm -rf "$dir"
mv "$work/root" "$dir"
