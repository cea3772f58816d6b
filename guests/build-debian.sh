#!/bin/sh
# Debian 12's stock kernels as kvmini guests: they find virtio-mmio devices
# and (cloud) their CPUs only through ACPI, so they test kvmini's tables,
# and virtio-pci devices through ACPI or conf1.
# Usage: build-debian.sh OUTDIR [ARCH]   (after build-initramfs.sh OUTDIR [ARCH])
#
# For each flavour (x86_64: amd64 = "generic", cloud-amd64 = "cloud"; arm64:
# cloud-arm64 = "cloud") writes OUTDIR/debian-FLAVOUR/vmlinuz (arm64: Image,
# which Debian ships uncompressed) and OUTDIR/debian-FLAVOUR/initramfs.cpio.gz:
# the test initramfs of OUTDIR/initramfs.cpio.gz with a second archive
# appended that holds /lib/modules/RELEASE/: the modules below, their
# dependencies and depmod's modules.dep and modules.alias. The common /init
# loads them as a distribution's initramfs does, by the modalias of the
# devices it finds (busybox modprobe), so one initramfs serves virtio-mmio
# and virtio-pci; kvmini exec's agent loads the same modules from the list
# /lib/modules/load. The kernel packages are fetched once with apt-get
# download and their files kept in
# ${KVMINI_CACHE:-~/.cache/kvmini}/debian-RELEASE-KEY/, KEY naming the
# module list and this layout.
set -eu
umask 022

out=$1
arch=${2:-x86_64}
cache=${KVMINI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmini}
base=$out/initramfs.cpio.gz
# Modules the guest tests need, by module name; their dependencies come
# from modules.dep (virtio_pci's: virtio_pci_modern_dev and
# virtio_pci_legacy_dev), and those built into a flavour are left out.
# ext4 and virtiofs load on mount, crc32c_generic for ext4's checksums
# (the kernel asks modprobe for each).
mods="virtio_ring virtio virtio_mmio virtio_pci virtio_rng virtio_blk failover net_failover virtio_net virtio_console virtiofs ext4 crc32c_generic"
# The cache directory's key: another module list or layout, another fetch.
key=$(printf '%s\n' "layout 3" "$mods" | sha256sum | cut -c1-12)

die()
{
	echo "build-debian: $*" >&2
	exit 1
}

[ -f "$base" ] || die "$base missing: run guests/build-initramfs.sh $out $arch first"

# A module file, uncompressed: busybox insmod takes plain modules only.
unpack_module()
{
	case $1 in
	*.ko) cp "$1" "$2" ;;
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*) die "unknown module format: $1" ;;
	esac
}

# Paths (relative to lib/modules/REL) of the wanted modules and their
# dependencies, each after what it needs.
load_order()
{
	awk -v want="$mods" -v builtin="$2" '
	function name(p) {
		sub(/.*\//, "", p)
		sub(/\.ko(\.[a-z]+)?$/, "", p)
		gsub(/-/, "_", p)
		return p
	}
	function visit(p,    n, i, d) {
		if (p in done)
			return
		done[p] = 1
		n = split(deps[p], d, " ")
		for (i = 1; i <= n; i++)
			visit(d[i])
		print p
	}
	BEGIN {
		while ((getline line < builtin) > 0)
			inside[name(line)] = 1
	}
	{
		p = $1
		sub(/:$/, "", p)
		path[name(p)] = p
		deps[p] = ""
		for (i = 2; i <= NF; i++)
			deps[p] = deps[p] " " $i
	}
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) {
			m = w[i]
			if (m in path)
				visit(path[m])
			else if (!(m in inside)) {
				print "no module " m > "/dev/stderr"
				exit 1
			}
		}
	}' "$1"
}

# Fetches linux-image-*-FLAVOUR of Debian architecture DEBARCH once; sets
# kdir to its cache directory.
fetch()
{
	flavour=$1 debarch=$2
	pkg=$(apt-cache depends "linux-image-$flavour:$debarch" 2>/dev/null |
		awk -v f="$flavour" '$1 ~ /Depends:$/ { sub(/:.*/, "", $2) }
			$1 ~ /Depends:$/ && $2 ~ ("^linux-image-.*-" f "$") { print $2; exit }')
	if [ -z "$pkg" ]; then
		# Offline or no package lists: any kernel of this flavour
		# fetched before will do.
		kdir=$(for v in "$cache"/debian-*-"$key"/flavour; do
			[ -f "$v" ] && [ "$(cat "$v")" = "$flavour" ] && dirname "$v"
		done | sort -V | tail -n 1)
		[ -n "$kdir" ] ||
			die "apt-cache cannot resolve linux-image-$flavour: run 'apt-get update' (or 'make deps')"
		echo "build-debian: apt-cache cannot resolve linux-image-$flavour; using cached $kdir" >&2
		return
	fi
	rel=${pkg#linux-image-}
	kdir=$cache/debian-$rel-$key
	[ -f "$kdir/vmlinuz" ] && return

	echo "build-debian: fetching $pkg (once; cached in $kdir)" >&2
	mkdir -p "$cache"
	dl=$(mktemp -d "$cache/.download.XXXXXX")
	trap 'rm -rf "$dl"' EXIT
	# As root, apt drops to _apt for downloads, which cannot write here.
	sandbox=
	[ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	(cd "$dl" && apt-get download -q $sandbox "$pkg:$debarch" >"$dl/apt.log" 2>&1) ||
		{ cat "$dl/apt.log" >&2; die "cannot download $pkg: run 'apt-get update' (or 'make deps')"; }
	dpkg -x "$dl"/"$pkg"_*.deb "$dl/x"
	mdir=$dl/x/lib/modules/$rel
	tree=$dl/out/modules/lib/modules/$rel
	mkdir -p "$tree"
	cp "$dl/x/boot/vmlinuz-$rel" "$dl/out/vmlinuz"
	# The package ships no modules.dep: depmod writes it on install.
	depmod -b "$dl/x" "$rel" || die "depmod failed on $pkg (kmod)"
	load_order "$mdir/modules.dep" "$mdir/modules.builtin" >"$dl/order" ||
		die "$pkg lacks a module kvmini's tests need"
	# The modules at their own paths, uncompressed; depmod again over
	# just these gives the guest's modprobe a modules.dep and a
	# modules.alias that name no module it lacks.
	# kvmini exec's agent (guests/agent/agent.c) reads no modalias: it
	# loads /lib/modules/load's list, paths below /lib/modules/, in order.
	while read -r m; do
		k=${m%.ko*}.ko
		mkdir -p "$tree/$(dirname "$k")"
		unpack_module "$mdir/$m" "$tree/$k"
		echo "$rel/$k" >>"$dl/out/modules/lib/modules/load"
	done <"$dl/order"
	cp "$mdir/modules.builtin" "$mdir/modules.builtin.modinfo" "$mdir/modules.order" "$tree/"
	depmod -b "$dl/out/modules" "$rel" || die "depmod failed on $pkg's modules (kmod)"
	# busybox modprobe reads the text files only.
	rm -f "$tree"/*.bin "$tree/modules.builtin.modinfo"
	dpkg-deb -f "$dl"/"$pkg"_*.deb Version >"$dl/out/version"
	echo "$flavour" >"$dl/out/flavour"
	rm -rf "$kdir"
	mv "$dl/out" "$kdir"
	rm -rf "$dl"
	trap - EXIT
}

# OUTDIR/debian-NAME/: the kernel as FILE, and the test initramfs plus
# modules.
assemble()
{
	dest=$out/debian-$1 file=$2
	work=$(mktemp -d "${TMPDIR:-/tmp}/kvmini-debian.XXXXXX")
	mkdir -p "$work/root" "$dest"
	cp -R "$kdir"/modules/. "$work/root/"
	find "$work/root" -exec touch -h -d @0 {} +
	(cd "$work/root" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9 -n >"$work/modules.cpio.gz"
	# The kernel unpacks concatenated archives in turn.
	cat "$base" "$work/modules.cpio.gz" >"$dest/initramfs.cpio.gz.tmp"
	cp "$kdir/vmlinuz" "$dest/$file.tmp"
	mv "$dest/$file.tmp" "$dest/$file"
	mv "$dest/initramfs.cpio.gz.tmp" "$dest/initramfs.cpio.gz"
	cp "$kdir/version" "$dest/version"
	rm -rf "$work"
}

case $arch in
x86_64)
	fetch amd64 amd64
	assemble generic vmlinuz
	fetch cloud-amd64 amd64
	assemble cloud vmlinuz
	;;
arm64)
	fetch cloud-arm64 arm64
	assemble cloud Image
	;;
*)
	die "unknown ARCH '$arch' (x86_64 or arm64)"
	;;
esac
