#!/bin/sh
# Unpacks the arm64 packages in scripts/packages-arm64.txt into a sysroot for
# the cross build (headers, static and shared libraries), the arm64
# guests (busybox) and the arm64 lab, which serves it into its outer VM
# as the root to chroot into (HOSTROOT, tests/lab/run.sh): so it also gets
# busybox's applets where no package put a program, and the mount points
# the lab's /init uses. Needs no root, only apt lists that include arm64
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
# Another layout of the tree (below), another stamp.
want="layout 2 (usr merged, applets)
$want"
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
# /usr merged, as on an installed Debian 12 (and the x86_64 build host):
# the same paths (/usr/sbin/e2fsck) in both labs' HOSTROOT.
for d in bin sbin lib; do
	[ -d "$work/root/$d" ] && [ ! -L "$work/root/$d" ] || continue
	mkdir -p "$work/root/usr/$d"
	cp -a "$work/root/$d/." "$work/root/usr/$d/"
	rm -rf "${work:?}/root/$d"
	ln -s "usr/$d" "$work/root/$d"
done
# A -dev package may link libfoo.so to its runtime library by absolute
# path; point such links inside the sysroot instead.
find "$work/root" -type l -lname '/*' | while read -r l; do
	ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$work/root$(readlink "$l")")" "$l"
done
# A root to chroot into: busybox's applets where no package put a
# program (the host's busybox-static lists them: the same Debian build),
# and the mount points of the lab's /init (tests/lab/outer-init), since
# the outer VM sees this tree read-only.
r=$work/root
[ -x /bin/busybox ] || { echo "sysroot: /bin/busybox missing: run 'make deps' (busybox-static)" >&2; exit 1; }
/bin/busybox --list-full | while read -r a; do
	[ -e "$r/$a" ] || [ -L "$r/$a" ] || { mkdir -p "$(dirname "$r/$a")"; ln -s /bin/busybox "$r/$a"; }
done
mkdir -p "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/run" "$r/root" "$r/var/tmp" "$r/etc"
echo "$want" >"$work/root/.complete"
rm -rf "$dir"
mv "$work/root" "$dir"
