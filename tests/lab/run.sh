#!/bin/sh
# Run scenario scripts against real Linux guests under real KVM.
#
# usage: run.sh [--arch x86_64|arm64] --kvmini STATIC_KVMINI --guest DIR
#               [--native auto|yes|no] [--timeout SECS]
#               [--scenario-timeout SECS] [--tail LINES] SCENARIO.sh...
#        run.sh [--arch ARCH] --kvmini STATIC_KVMINI --guest DIR --interactive "KVMINI ARGS"
#
# DIR holds bzImage, vmlinux and initramfs.cpio.gz (x86_64) or Image and
# initramfs.cpio.gz (arm64). Each scenario is a plain sh script that gets
# KVMINI, KERNEL, VMLINUX (on arm64 both the Image), INITRD, a scratch
# directory T, KVMINI_MODE (native or lab) and KVMINI_ARCH; status 0 passes,
# 77 skips, else fails.
#
# The scenarios run natively when this host's /dev/kvm can boot Linux (a
# probe decides under --native auto; never for another architecture), and
# always in "the lab": Debian's cloud kernel under QEMU's emulator, whose
# emulated CPU can virtualize (SVM on x86_64, EL2 on arm64), so that KVM
# gives kvmini a real KVM to run in. See tests/lab/README.md.
#
# Two more options (make bench uses them): --overlay DIR copies DIR's tree
# over the outer VM's root (extra programs and their libraries); --stream
# sends every line a scenario prints out as it comes ("@@LAB out NAME
# LINE"), for a long scenario whose output is its result.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${KVMINI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmini}
virtiofsd=${KVMINI_VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
logdir=${KVMINI_LAB_LOGDIR:-$top/build/lab}

arch=x86_64
# How this lab names itself in what it prints ("lab", "lab-arm64"): the
# two labs run side by side in make test.
lab=lab
kvmini=
guest=
native=auto
timeout=2100
scenario_timeout=300
tail_lines=60
interactive=
overlay=
stream=

usage()
{
	sed -n 's/^# \{0,1\}//; 4,7p' "$0" >&2
	exit 2
}

die()
{
	echo "$lab: $*" >&2
	exit 1
}

abspath()
{
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

is_uint()
{
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	esac
}

while [ $# -gt 0 ]; do
	case $1 in
	--arch) arch=${2:?}; shift 2 ;;
	--kvmini) kvmini=$(abspath "${2:?}"); shift 2 ;;
	--guest) guest=$(abspath "${2:?}"); shift 2 ;;
	--native) native=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--scenario-timeout) scenario_timeout=${2:?}; shift 2 ;;
	--tail) tail_lines=${2:?}; shift 2 ;;
	--interactive) interactive=${2:?}; shift 2 ;;
	--overlay) overlay=$(abspath "${2:?}"); shift 2 ;;
	--stream) stream=1; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) echo "$lab: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done

[ -n "$kvmini" ] && [ -n "$guest" ] && { [ $# -gt 0 ] || [ -n "$interactive" ]; } || usage
case $native in
auto | yes | no) ;;
*) die "--native takes auto, yes or no" ;;
esac
is_uint "$timeout" && is_uint "$scenario_timeout" && is_uint "$tail_lines" ||
	die "--timeout, --scenario-timeout and --tail take whole numbers"

# What differs between the architectures: the guest's files, the outer
# kernel's package and its KVM modules (paths in the package), QEMU.
sysroot=${KVMINI_SYSROOT_ARM64:-$cache/sysroot-arm64}
case $arch in
x86_64)
	debarch=amd64
	guest_files="bzImage vmlinux initramfs.cpio.gz"
	kernel_file=bzImage
	vmlinux_file=vmlinux
	# loop: an O_DIRECT file system for tests/scenarios/blk.sh (tmpfs has
	# no O_DIRECT before Linux 6.6).
	# tun: the virtio-net scenarios' tap devices; veth: the pair between
	# the network namespaces oci.sh makes.
	kvm_modules="virt/lib/irqbypass arch/x86/kvm/kvm arch/x86/kvm/kvm-amd drivers/block/loop
		drivers/net/tun drivers/net/veth"
	guest_modules=
	busybox=/bin/busybox
	hostroot_dir=/
	# la57=off: with 5-level paging the outer kernel, running nested
	# guests, died of recursive page faults in KVM_RUN (stack guard page
	# hit in exc_page_fault) or froze, twice in one run.
	# One CPU: with two (two TCG threads, and IPIs between them) the
	# outer kernel still died that way now and then, and nested guests
	# triple-faulted or stalled under heavy I/O (net-tap, exec's 200 MiB);
	# with one, a whole lab with net-tap passed. The nested guests' vCPUs
	# and kvmini's threads share it; KVMINI_LAB_CPUS=2 brings two back.
	qemu="qemu-system-x86_64 -accel tcg -M q35 -cpu max,la57=off -smp ${KVMINI_LAB_CPUS:-1} -m 6144"
	console=ttyS0
	;;
arm64)
	debarch=arm64
	guest_files="Image initramfs.cpio.gz"
	kernel_file=Image
	vmlinux_file=Image
	# Debian's arm64 kernels have KVM built in; tun is for the
	# virtio-net scenarios' tap devices, loop for the blk scenarios'
	# O_DIRECT file systems and the images they mount to check.
	kvm_modules="drivers/net/tun drivers/block/loop"
	# The outer kernel is also a stock guest (tests/scenarios/stock-kernel.sh),
	# whose virtio drivers are these modules, loaded in this order.
	guest_modules="drivers/virtio/virtio_ring drivers/virtio/virtio
		drivers/virtio/virtio_mmio drivers/char/hw_random/virtio-rng"
	busybox=$sysroot/bin/busybox
	# The HOSTROOT of this lab (below): the arm64 sysroot, an arm64
	# userland of Debian packages (scripts/packages-arm64.txt).
	hostroot_dir=$sysroot
	# pauth-impdef: QEMU's cheap pointer authentication, much faster
	# under TCG than the architected algorithm.
	qemu="qemu-system-aarch64 -accel tcg -M virt,virtualization=on,gic-version=3
		-cpu max,pauth-impdef=on -smp 2 -m 6144"
	console=ttyAMA0
	;;
*)
	die "--arch takes x86_64 or arm64"
	;;
esac
[ "$arch" = x86_64 ] || lab=lab-$arch
case $arch-$(uname -m) in
x86_64-x86_64 | arm64-aarch64) ;;
*) native=no ;;
esac
# Each architecture's logs of its own, so that one lab never reads the
# other's serial log.
[ -n "${KVMINI_LAB_LOGDIR:-}" ] || [ "$arch" = x86_64 ] || logdir=$top/build/lab-$arch

[ -f "$kvmini" ] || die "no kvmini at $kvmini (make static)"
[ -z "$overlay" ] || [ -d "$overlay" ] || die "no overlay directory $overlay"
# A dynamically linked kvmini travels with its libraries: the build host's
# (guests/copy-tools.sh) on x86_64, the arm64 sysroot's on arm64.
kvmini_dynamic=
if command -v readelf >/dev/null 2>&1 &&
	readelf -l "$kvmini" 2>/dev/null | grep -q 'program interpreter'; then
	case $arch in
	"$(uname -m)") ;;
	arm64) [ -f "$sysroot/.complete" ] || die "no arm64 sysroot at $sysroot: run 'make deps'" ;;
	*) die "$kvmini is dynamically linked; the $arch lab needs the static build (make ARCH=$arch static)" ;;
	esac
	kvmini_dynamic=1
fi
for f in $guest_files; do
	[ -f "$guest/$f" ] || die "no $f in $guest (make guests)"
done

# A scenario that names HOSTROOT gets a root file system of this lab's
# architecture inside the outer VM, read-only at /host (virtiofs from this
# host's virtiofsd), to chroot into for dynamic programs: virtiofsd, the
# dynamic kvmini with libslirp, e2fsprogs (and on x86_64, where it is
# this host's /, gcc, iperf3…). On arm64 it is the arm64 sysroot.
# (grep reads no stdin: with no scenarios, as under --interactive, it
# would wait on the user's terminal.)
hostroot=
if grep -qs HOSTROOT "$@" </dev/null; then
	[ -x "$virtiofsd" ] || die "no $virtiofsd: run 'make deps' (qemu-system-common)"
	[ -x "$hostroot_dir/usr/lib/qemu/virtiofsd" ] ||
		die "no virtiofsd in $hostroot_dir: run 'make deps'"
	hostroot=1
	kvm_modules="$kvm_modules drivers/virtio/virtio_ring drivers/virtio/virtio
		drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev
		drivers/virtio/virtio_pci fs/fuse/fuse fs/fuse/virtiofs"
fi

# --timeout is the budget of the whole run: the outer VMs of a split run
# and the boots again after a hang share it (a CI job has a limit of its
# own to keep).
[ -n "${KVMINI_LAB_DEADLINE:-}" ] || KVMINI_LAB_DEADLINE=$(($(date +%s) + timeout))
export KVMINI_LAB_DEADLINE
left=$((KVMINI_LAB_DEADLINE - $(date +%s)))
[ "$left" -ge "$timeout" ] || timeout=$left
[ "$timeout" -gt 60 ] || die "no time left of the run's budget (--timeout) for $*"

# The outer VM with the host's / (shared memory, a vhost-user device) has
# hung more often than the plain one: the scenarios that need it get an
# outer VM of their own, after the others.
if [ -n "$hostroot" ] && [ -z "${KVMINI_LAB_SPLIT:-}" ] &&
	[ -z "$interactive$overlay$stream" ]; then
	plain= with=
	for s in "$@"; do
		if grep -qs HOSTROOT "$s"; then with="$with $s"; else plain="$plain $s"; fi
	done
	if [ -n "$plain" ]; then
		rc=0
		# shellcheck disable=SC2086
		KVMINI_LAB_SPLIT=1 "$0" --arch "$arch" --kvmini "$kvmini" --guest "$guest" \
			--native "$native" --timeout "$timeout" --scenario-timeout "$scenario_timeout" \
			--tail "$tail_lines" $plain || rc=1
		# shellcheck disable=SC2086
		KVMINI_LAB_SPLIT=1 KVMINI_LAB_LOGDIR=$logdir/hostroot \
			"$0" --arch "$arch" --kvmini "$kvmini" --guest "$guest" \
			--native no --timeout "$timeout" --scenario-timeout "$scenario_timeout" \
			--tail "$tail_lines" $with || rc=1
		exit $rc
	fi
fi

# Scenario names travel in "@@LAB" lines split on spaces.
scenario_files=$*
names=
for s in "$@"; do
	[ -f "$s" ] || die "no scenario $s"
	n=$(basename "$s" .sh)
	case $n in
	'' | *[!A-Za-z0-9._-]*) die "scenario name '$n' must be [A-Za-z0-9._-]" ;;
	esac
	names="$names $n"
done

mkdir -p "$logdir"
work=$(mktemp -d "${TMPDIR:-/tmp}/kvmini-lab.XXXXXX")
dl=
trap 'rm -rf "$work" ${dl:+"$dl"}' EXIT
trap 'exit 130' INT TERM

# Each scenario's limit ("# lab-timeout: N", at least --scenario-timeout),
# for the outer VM's /init (lab/limits) and for the host, which gives it a
# grace period for the emulator's pace before it takes the outer VM for hung.
grace=${KVMINI_LAB_GRACE:-120}
for s in "$@"; do
	lim=$(sed -n 's/^# lab-timeout: *\([0-9][0-9]*\).*/\1/p' "$s" | head -n 1)
	[ -n "$lim" ] && [ "$lim" -gt "$scenario_timeout" ] || lim=$scenario_timeout
	echo "$(basename "$s" .sh) $lim"
done >"$work/limits"

# Counts carried over from earlier boots of this run (see the end).
# shellcheck disable=SC2086
set -- ${KVMINI_LAB_CARRY:-0 0 0} -- "$@"
passed=$1 failed=$2 skipped=$3
shift 4

# Elapsed seconds since $1 (from now_s), one decimal.
now_s()
{
	date +%s.%N
}
since()
{
	awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'
}

# ---- native ---------------------------------------------------------------

run_native()
{
	ndir=$logdir/native
	rm -rf "$ndir"
	mkdir -p "$ndir"
	for s in "$@"; do
		n=$(basename "$s" .sh)
		t=$(mktemp -d "${TMPDIR:-/tmp}/kvmini-scenario.XXXXXX")
		start=$(now_s)
		rc=0
		# timeout(1) signals the whole process group it runs in, so a
		# kvmini left behind by the scenario goes too.
		env KVMINI="$kvmini" KERNEL="$guest/$kernel_file" VMLINUX="$guest/$vmlinux_file" \
			INITRD="$guest/initramfs.cpio.gz" T="$t" KVMINI_MODE=native KVMINI_ARCH="$arch" \
			GUEST="$guest" \
			LIB="$here/lib.sh" \
			timeout -k 5 "$scenario_timeout" sh "$(abspath "$s")" \
			>"$ndir/$n.log" 2>&1 </dev/null || rc=$?
		secs=$(since "$start")
		if [ $rc -eq 0 ]; then
			echo "PASS native/$n ($secs s)"
			passed=$((passed + 1))
			rm -rf "$t"
		elif [ $rc -eq 77 ]; then
			echo "SKIP native/$n ($secs s)"
			skipped=$((skipped + 1))
			rm -rf "$t"
		else
			why="exit status $rc"
			[ $rc -ne 124 ] || why="timeout after ${scenario_timeout}s"
			echo "FAIL native/$n ($secs s, $why; log $ndir/$n.log, scratch $t)"
			tail -n "$tail_lines" "$ndir/$n.log" | sed 's/^/    | /'
			failed=$((failed + 1))
		fi
	done
}

native_probe()
{
	"$here/probe.sh" "$kvmini" "$guest" "$logdir/probe.log"
}

[ -n "$interactive" ] && native=no
case $native in
yes)
	echo "native: running scenarios on this host's KVM"
	run_native "$@"
	;;
auto)
	if native_probe; then
		echo "native: host KVM boots Linux (probe passed), running scenarios natively"
		run_native "$@"
	else
		echo "native: host KVM cannot boot Linux (probe failed), skipping native run"
		echo "native: (probe output in $logdir/probe.log)"
	fi
	;;
esac

# ---- the lab --------------------------------------------------------------

# Debian's current cloud kernel (its KVM modules are what we need), fetched
# once per kernel release into $cache/lab-RELEASE.
lab_kernel()
{
	meta=linux-image-cloud-$debarch
	pkg=$(apt-cache depends "$meta:$debarch" 2>/dev/null |
		awk -v a="$debarch" '$1 ~ /Depends:$/ { sub(/:.*/, "", $2) }
			$1 ~ /Depends:$/ && $2 ~ "^linux-image-.*-cloud-" a "$" { print $2; exit }')
	if [ -z "$pkg" ]; then
		# Offline or no package lists: any kernel fetched before will do.
		dir=$(for v in "$cache"/lab-*-cloud-"$debarch"/vmlinuz; do
			[ -f "$v" ] && dirname "$v"
		done | sort -V | tail -n 1)
		[ -n "$dir" ] ||
			die "apt-cache cannot resolve $meta: run 'apt-get update' (or 'make deps')"
		echo "$lab: apt-cache cannot resolve $meta; using cached $dir" >&2
		kdir=$dir
		return
	fi
	rel=${pkg#linux-image-}
	kdir=$cache/lab-$rel
	# A cache from before a module joined the list lacks it: fetch again.
	cached=1
	for m in $kvm_modules $guest_modules; do
		[ -f "$kdir/$(basename "$m").ko" ] || cached=
	done
	[ -f "$kdir/vmlinuz" ] && [ -n "$cached" ] && return

	echo "$lab: fetching $pkg (once; cached in $kdir)" >&2
	mkdir -p "$cache"
	dl=$(mktemp -d "$cache/.download.XXXXXX")
	# As root, apt drops to _apt for downloads, which cannot write here.
	sandbox=
	[ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	if ! (cd "$dl" && apt-get download -q $sandbox "$pkg:$debarch" >"$dl/apt.log" 2>&1); then
		cat "$dl/apt.log" >&2
		rm -rf "$dl"
		die "cannot download $pkg: run 'apt-get update' (or 'make deps')"
	fi
	dpkg -x "$dl"/"$pkg"_*.deb "$dl/x"
	mkdir -p "$dl/out"
	cp "$dl/x/boot/vmlinuz-$rel" "$dl/out/vmlinuz"
	for m in $kvm_modules $guest_modules; do
		base=$dl/x/lib/modules/$rel/kernel/$m.ko
		out=$dl/out/$(basename "$m").ko
		# busybox insmod takes plain modules only.
		if [ -f "$base" ]; then
			cp "$base" "$out"
		elif [ -f "$base.xz" ]; then
			xz -dc "$base.xz" >"$out"
		elif [ -f "$base.zst" ]; then
			zstd -qdc "$base.zst" >"$out"
		elif [ -f "$base.gz" ]; then
			gzip -dc "$base.gz" >"$out"
		else
			rm -rf "$dl"
			die "$pkg has no $m.ko"
		fi
	done
	dpkg-deb -f "$dl"/"$pkg"_*.deb Version >"$dl/out/version"
	rm -rf "$kdir"
	mv "$dl/out" "$kdir"
	rm -rf "$dl"
	dl=
}

# The stock guest: the outer kernel's own Image, and the test initramfs with
# its virtio modules appended as a second archive (the kernel unpacks both),
# with /lib/modules/load, their load order, which the guest's /init reads.
lab_stock_guest()
{
	s=$work/stock
	mkdir -p "$s/lib/modules"
	for m in $guest_modules; do
		cp "$kdir/$(basename "$m").ko" "$s/lib/modules/"
		echo "$(basename "$m").ko" >>"$s/lib/modules/load"
	done
	cp "$kdir/vmlinuz" "$1/stock-Image"
	{
		cat "$guest/initramfs.cpio.gz"
		(cd "$s" && find . -mindepth 1 | LC_ALL=C sort |
			cpio -o -H newc -R 0:0 --quiet | gzip -1)
	} >"$1/stock-initrd.cpio.gz"
}

# needed ELF: the sonames ELF (any architecture) needs.
needed()
{
	readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
}

# sysroot_libs ROOT SONAME...: the arm64 sysroot's shared libraries of
# those names and all they need in turn, into ROOT at their own paths,
# where the outer VM's loader finds them with no ld.so cache. (The build
# host's ldd cannot run an arm64 program: this follows DT_NEEDED.)
sysroot_libs()
{
	sl_root=$1
	shift
	sl_seen=
	while [ $# -gt 0 ]; do
		sl_name=$1
		shift
		case " $sl_seen " in *" $sl_name "*) continue ;; esac
		sl_seen="$sl_seen $sl_name"
		sl_lib=/usr/lib/aarch64-linux-gnu/$sl_name
		[ -f "$sysroot$sl_lib" ] || die "no $sl_name in $sysroot: run 'make deps'"
		mkdir -p "$sl_root${sl_lib%/*}"
		cp -L "$sysroot$sl_lib" "$sl_root$sl_lib"
		# shellcheck disable=SC2046
		set -- "$@" $(needed "$sysroot$sl_lib")
	done
}

# Everything the outer VM needs, as an uncompressed cpio: the emulated CPU
# would spend longer inflating it than QEMU spends loading it.
lab_initramfs()
{
	r=$work/outer
	mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/dev" "$r/proc" \
		"$r/sys" "$r/tmp" "$r/root" "$r/lib/modules" "$r/guest" "$r/scenarios" "$r/lab"
	[ -x /bin/busybox ] || die "/bin/busybox missing: run 'make deps' (busybox-static)"
	[ -x "$busybox" ] || die "$busybox missing: run 'make deps'"
	cp "$busybox" "$r/bin/busybox"
	# The host's busybox lists the applets: the same Debian build.
	/bin/busybox --list-full | while read -r a; do
		[ "$a" != bin/busybox ] || continue
		ln -sf /bin/busybox "$r/$a"
	done
	modules=
	for m in $kvm_modules; do
		modules="$modules $(basename "$m")"
		cp "$kdir/$(basename "$m").ko" "$r/lib/modules/"
	done
	if [ -n "$kvmini_dynamic" ]; then
		# Its libraries at their own paths; the binary in /opt, not at
		# its path here, which may be under /tmp (a tmpfs in the outer
		# VM hides what the initramfs has there). A HOSTROOT chroot runs
		# this same file as $OUTER/opt/kvmini/kvmini, with the host's
		# libraries (arm64: the sysroot's), which are these.
		# kvmini loads libslirp itself when --net user asks
		# (backend/slirp_lib.c): ldd does not list it, so it and
		# glib travel by name.
		mkdir -p "$r/opt/kvmini"
		if [ "$arch" = arm64 ]; then
			cp "$kvmini" "$r/opt/kvmini/kvmini"
			# shellcheck disable=SC2046
			sysroot_libs "$r" $(needed "$kvmini") libslirp.so.0
			cp -L "$sysroot/lib/ld-linux-aarch64.so.1" "$r/lib/"
		else
			slirp=$(/sbin/ldconfig -p | awk '$1 == "libslirp.so.0" { print $NF; exit }')
			"$top/guests/copy-tools.sh" "$r" "$kvmini" $slirp
			mv "$r$kvmini" "$r/opt/kvmini/kvmini"
		fi
		ln -sf /opt/kvmini/kvmini "$r/kvmini"
		kvmini_in_lab=/tmp/outer/opt/kvmini/kvmini
	else
		cp "$kvmini" "$r/kvmini"
		chmod 0755 "$r/kvmini"
		kvmini_in_lab=/tmp/outer/kvmini
	fi
	for f in $guest_files; do
		cp "$guest/$f" "$r/guest/"
	done
	# The guest's static test programs, for this side of the tests too.
	for c in "$top"/guests/tools/*.c; do
		f=$(basename "$c" .c)
		[ ! -f "$guest/$f" ] || install -m 0755 "$guest/$f" "$r/usr/bin/$f"
	done
	[ -z "$guest_modules" ] || lab_stock_guest "$r/guest"
	# A subdirectory of the guest directory that a scenario names
	# (debian-generic/ from guests/build-debian.sh…) travels too.
	for d in "$guest"/*/; do
		[ -d "$d" ] || continue
		n=$(basename "$d")
		! grep -qsF -- "$n" "$@" </dev/null || cp -R "$d" "$r/guest/$n"
	done
	# The block device tests: e2fsprogs to check the images the guest
	# writes, and the guest's tools disk, 100 MiB that only a scenario
	# which names it gets.
	if [ "$arch" = x86_64 ]; then
		"$top/guests/copy-tools.sh" "$r" e2fsck debugfs mke2fs
		if [ -f "$guest/tools.img" ] && grep -qs 'tools\.img' "$@" </dev/null; then
			cp "$guest/tools.img" "$r/guest/"
		fi
	fi
	for s in "$@"; do
		cp "$s" "$r/scenarios/$(basename "$s")"
	done
	install -m 0755 "$here/outer-init" "$r/init"
	cp "$here"/lib*.sh "$r/lab/"
	cp "$work/limits" "$r/lab/limits"
	cat >"$r/lab/conf" <<-EOF
	scenario_timeout=$scenario_timeout
	tail_lines=$tail_lines
	scenarios='$names'
	interactive='$interactive'
	stream='$stream'
	arch=$arch
	modules='$modules'
	kernel=/guest/$kernel_file
	vmlinux=/guest/$vmlinux_file
	hostroot=$hostroot
	kvmini_path=$kvmini_in_lab
	EOF
	[ -z "$overlay" ] || cp -a "$overlay/." "$r/"
	(cd "$r" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) >"$work/outer.cpio"
}

# Relay the serial console: everything into the log, "@@LAB" lines to the
# user as they come (a run takes minutes).
relay()
{
	cr=$(printf '\r')
	while IFS= read -r line; do
		line=${line%"$cr"}
		case $line in
		*"@@LAB "*) ;;
		*) continue ;;
		esac
		set -f
		# shellcheck disable=SC2086
		set -- ${line#*@@LAB }
		set +f
		case ${1:-} in
		start)
			# For the watchdog: when the host stops waiting for it.
			lim=$(awk -v n="$2" '$1 == n { print $2 }' "$work/limits")
			echo "$2 $(($(date +%s) + ${lim:-$scenario_timeout} + grace))" >"$work/current.tmp"
			mv "$work/current.tmp" "$work/current"
			;;
		begin) echo "$lab: outer VM up (kernel $2)" ;;
		info) shift; echo "$lab: $*" ;;
		error) shift; echo "$lab: error: $*" ;;
		result)
			rm -f "$work/current"
			n=$2 res=$3 secs=$4
			shift 4
			case $res in
			pass) echo "PASS $lab/$n ($secs s${*:+, $*})" ;;
			skip) echo "SKIP $lab/$n ($secs s)" ;;
			*) echo "FAIL $lab/$n ($secs s, $*)" ;;
			esac
			;;
		out)
			# Keep the line's own spacing: cut the prefix, not fields.
			rest=${line#*@@LAB out }
			echo "    | ${rest#* }"
			;;
		esac
	done
}

lab_kernel
lab_initramfs "$@"

# --interactive "ARGS": kvmini boots the guest on this terminal, inside the
# lab; no mux on the serial line, so Ctrl-A reaches kvmini, not QEMU. The
# outer /init says what it is doing (a user otherwise stares at nothing
# for a minute or two) and, last, "lab: kvmini exited with status N":
# that N is this script's status. tee, not a line-reading filter, so that
# a prompt with no newline shows at once.
if [ -n "$interactive" ]; then
	case $arch in
	x86_64) up="about 5 s" ;;
	*) up="about 20 s" ;;
	esac
	echo "$lab: booting the outer VM under QEMU's emulator ($up), then the guest inside it under nested KVM (under a minute more); Ctrl-A x quits"
	qrc=0
	# shellcheck disable=SC2086
	{ $qemu -nic none \
		-display none -monitor none -no-reboot \
		-chardev stdio,id=con,signal=off -serial chardev:con \
		-kernel "$kdir/vmlinuz" -initrd "$work/outer.cpio" \
		-append "console=$console quiet loglevel=0 panic=-1" || qrc=$?; } |
		tee "$work/console"
	status=$(tr -d '\r' <"$work/console" |
		sed -n 's/^lab: kvmini exited with status \([0-9][0-9]*\)$/\1/p' | tail -n 1)
	[ -n "$status" ] || die "the outer VM ended before kvmini did (QEMU status $qrc)"
	exit "$status"
fi

# The HOSTROOT scenarios' root (this host's /, or the arm64 sysroot):
# QEMU's guest RAM must be shared memory for a vhost-user device.
# virtiofsd serves one connection and then exits; the trap stops it
# should QEMU never connect.
hostroot_args=
if [ -n "$hostroot" ]; then
	"$virtiofsd" --socket-path="$work/hostroot.sock" -o source="$hostroot_dir" -o cache=auto -o sandbox=chroot \
		-o log_level=err >"$logdir/virtiofsd.log" 2>&1 &
	vfsd_pid=$!
	trap 'kill $vfsd_pid 2>/dev/null || :; rm -rf "$work" ${dl:+"$dl"}' EXIT
	for _ in $(seq 50); do
		[ -S "$work/hostroot.sock" ] && break
		sleep 0.1
	done
	[ -S "$work/hostroot.sock" ] || die "virtiofsd did not start (see $logdir/virtiofsd.log)"
	mem=$(echo "$qemu" | sed -n 's/.*-m \([0-9]*\).*/\1/p')
	hostroot_args="-object memory-backend-memfd,id=mem,size=${mem}M,share=on
		-machine memory-backend=mem -chardev socket,id=hostroot,path=$work/hostroot.sock
		-device vhost-user-fs-pci,chardev=hostroot,tag=hostroot"
fi

# The outer VM can hang (nested KVM under an emulator is not flawless):
# then it goes silent, while a live one says "@@LAB beat" every minute
# that a scenario runs; or a scenario outlives the limit its /init should
# have enforced. Either stops QEMU, and the scenarios it never reported
# get another boot below.
silence=${KVMINI_LAB_SILENCE:-180}
watchdog()
{
	while sleep 15; do
		[ -f "$work/qemu.pid" ] && [ -f "$serial" ] || continue
		quiet_for=$(($(date +%s) - $(stat -c %Y "$serial")))
		why=
		[ $quiet_for -le $silence ] ||
			why="the outer VM has said nothing for $quiet_for s"
		if [ -z "$why" ] && read -r cur due 2>/dev/null <"$work/current" &&
			[ "$(date +%s)" -gt "$due" ]; then
			why="$cur has outlived its limit by ${grace}s"
		fi
		[ -n "$why" ] || continue
		echo "$lab: error: $why: a post-mortem, then stopping the outer VM" >&2
		echo "$why" >"$work/stopped"
		postmortem "$(cat "$work/qemu.pid")" "$why"
		kill "$(cat "$work/qemu.pid")" 2>/dev/null
		return
	done
}

# monitor CMD: one command to QEMU's monitor (its answers go to
# $logdir/monitor.log).
monitor()
{
	printf '%s\n' "$1" >"$work/mon.in"
}

# postmortem QEMU_PID WHY: what a hung outer VM is doing, asked of the
# emulator and of the outer kernel itself, into $logdir/hang.N.txt:
# whether the emulator still runs (its CPU time), where the emulated CPU
# is (registers, twice: moving or not), and whether the outer kernel
# still takes interrupts at all (sysrq from the keyboard: backtraces of
# the CPUs and the blocked tasks; then an NMI, which it turns into a
# panic with the interrupted stack: unknown_nmi_panic).
postmortem()
{
	qpid=$1
	pm=$logdir/hang.$(($(ls "$logdir"/hang.*.txt 2>/dev/null | wc -l) + 1)).txt
	{
		echo "hang: $2"
		echo "hang: serial log has $(wc -l <"$serial") lines before the post-mortem"
		c0=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null)
		sleep 5
		c1=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null)
		echo "hang: QEMU used $(((${c1:-0} - ${c0:-0}) * 100 / 5))% of a host CPU over 5 s" \
			"(threads: $(ls /proc/"$qpid"/task 2>/dev/null | wc -l))"
		for t in /proc/"$qpid"/task/*; do
			echo "hang: thread $(cat "$t/comm" 2>/dev/null): state $(awk '{ print $3 }' "$t/stat" 2>/dev/null)," \
				"CPU ticks $(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null), wchan $(cat "$t/wchan" 2>/dev/null)"
		done
	} >"$pm" 2>&1
	lines=$(wc -l <"$serial")
	mon0=$(wc -l <"$logdir/monitor.log")
	# The frozen state first, twice (does anything move?), then the
	# kicks, which may wake it.
	for _ in 1 2; do
		monitor "info registers -a"
		monitor "info lapic"
		sleep 2
	done
	monitor "sendkey alt-sysrq-l"
	sleep 10
	monitor "sendkey alt-sysrq-w"
	sleep 10
	# KVMINI_LAB_TRACE (trace events from boot on): the trace buffer.
	[ -z "${KVMINI_LAB_TRACE:-}" ] || { monitor "sendkey alt-sysrq-z"; sleep 30; }
	sysrq=$(($(wc -l <"$serial") - lines))
	monitor "nmi"
	sleep 15
	{
		echo "hang: the outer kernel printed $sysrq lines after sysrq l and w," \
			"$(($(wc -l <"$serial") - lines - sysrq)) after the NMI"
		echo "hang: --- the monitor's answers"
		tail -n +"$((mon0 + 1))" "$logdir/monitor.log" | tr -d '\r' |
			grep -v '^(qemu)' | head -n 200
		echo "hang: --- the serial console after the post-mortem began"
		tail -n +"$((lines + 1))" "$serial" | tr -d '\r' | head -n 200
	} >>"$pm" 2>&1
	echo "$lab: post-mortem in $pm: $(sed -n 's/^hang: \(QEMU used .*\) (threads.*/\1/p' "$pm");" \
		"$sysrq lines from the outer kernel after sysrq" >&2
}

serial=$logdir/serial.log
echo "$lab: booting $(basename "$kdir") under QEMU TCG (timeout ${timeout}s; serial log $serial)"
lab_start=$(now_s)
rm -f "$serial"
[ -n "${KVMINI_LAB_RETRY:-}" ] || rm -f "$serial".boot* "$logdir"/hang.*.txt
# QEMU's monitor on a pair of fifos, for the post-mortem of a hang; a
# reader keeps its answers in monitor.log (and its pipe from filling).
mkfifo "$work/mon.in" "$work/mon.out"
cat "$work/mon.out" >"$logdir/monitor.log" &
monitor_pid=$!
watchdog &
watchdog_pid=$!
# QEMU's TCG loses wake-ups of the x86_64 outer VM (tests/lab/README.md,
# "Why the outer VM hung"): a timer interrupt left pending in the LAPIC
# while the emulated CPU sleeps in HLT, until some other interrupt comes.
# A key press (shift, which nothing reads) every 2 s is that interrupt,
# so a lost wake-up costs at most 2 s instead of the whole run.
# KVMINI_LAB_NUDGE=0 turns it off (to see the bug).
nudge_pid=
if [ "$arch" = x86_64 ] && [ "${KVMINI_LAB_NUDGE:-1}" != 0 ]; then
	while sleep 2; do monitor "sendkey shift"; done &
	nudge_pid=$!
fi
{
	rc=0
	# The outer kernel's own diagnostics for a hang: sysrq from the
	# keyboard, a panic (with the interrupted stack) on an NMI from the
	# monitor, and the soft-lockup and hung-task detectors, which print
	# whatever the console's level.
	# shellcheck disable=SC2086
	timeout -k 10 "$timeout" $qemu $hostroot_args -pidfile "$work/qemu.pid" \
		-nic none -display none -serial stdio -monitor "pipe:$work/mon" -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$work/outer.cpio" \
		-append "console=$console quiet panic=-1 sysrq_always_enabled unknown_nmi_panic=1 hung_task_timeout_secs=60${KVMINI_LAB_TRACE:+ trace_event=$KVMINI_LAB_TRACE trace_buf_size=${KVMINI_LAB_TRACE_BUF:-64k}}" \
		</dev/null 2>&1 || rc=$?
	echo $rc >"$work/qemu.rc"
} | tee "$serial" | relay
# A watchdog that stopped the VM finishes its post-mortem first.
[ -e "$work/stopped" ] || kill $watchdog_pid 2>/dev/null || :
wait $watchdog_pid 2>/dev/null || :
kill $monitor_pid $nudge_pid 2>/dev/null || :
wait $monitor_pid $nudge_pid 2>/dev/null || :
qemu_rc=$(cat "$work/qemu.rc")

# Tally from the log, so that a scenario without a result counts as failed.
tr -d '\r' <"$serial" | sed -n 's/.*@@LAB //p' >"$work/events"
lab_ok=1
if ! grep -q '^begin ' "$work/events"; then
	echo "$lab: error: the outer VM never reached its /init; end of its serial log:"
	tail -n 30 "$serial" | sed 's/^/    | /'
	lab_ok=0
elif ! grep -q '^end$' "$work/events"; then
	if [ -e "$work/stopped" ]; then
		echo "$lab: error: the outer VM hung ($(cat "$work/stopped")); end of its serial log:"
		tail -n 30 "$serial" | sed 's/^/    | /'
	elif [ "$qemu_rc" -eq 124 ]; then
		echo "$lab: error: timed out after ${timeout}s"
	else
		echo "$lab: error: the outer VM stopped early (QEMU status $qemu_rc); end of its serial log:"
		tail -n 30 "$serial" | sed 's/^/    | /'
	fi
	lab_ok=0
elif grep -q '^error ' "$work/events"; then
	lab_ok=0
fi
# Scenarios the outer /init ran a second time (x86_64), carried across
# boots like the counts.
KVMINI_LAB_RERUNS="${KVMINI_LAB_RERUNS:-} $(sed -n 's/^info \([^ ]*\) failed after .*running it again.*/\1/p' "$work/events" | tr '\n' ' ')"
export KVMINI_LAB_RERUNS
missing=
for n in $names; do
	res=$(awk -v n="$n" '$1 == "result" && $2 == n { print $3; exit }' "$work/events")
	case $res in
	pass) passed=$((passed + 1)) ;;
	skip) skipped=$((skipped + 1)) ;;
	fail) failed=$((failed + 1)) ;;
	*) missing="$missing $n" ;;
	esac
done
echo "$lab: whole run $(since "$lab_start") s"

# The outer VM itself can die or hang (nested KVM under an emulator is not
# flawless): boot it again (four times at most, within the budget) for the
# scenarios it never reported, rather than fail them for the lab's fault.
# The scenario that was running when the VM hung goes last in the next
# boot; hanging it a third time fails it (twice in a row happened to an
# innocent one), and the others go on without it.
culprit=
[ -z "$missing" ] || [ ! -f "$work/current" ] || read -r culprit _ <"$work/current"
if [ -n "$culprit" ]; then
	hangs=$(echo ${KVMINI_LAB_HUNG:-} | tr ' ' '\n' | grep -cx "$culprit" || :)
	if [ "$hangs" -ge 2 ]; then
		echo "FAIL $lab/$culprit (hung the outer VM three times)"
		failed=$((failed + 1))
		missing=$(echo "$missing" | tr ' ' '\n' | { grep -vx "$culprit" || :; } | tr '\n' ' ')
		culprit=
	else
		KVMINI_LAB_HUNG="${KVMINI_LAB_HUNG:-} $culprit"
	fi
fi
export KVMINI_LAB_HUNG
left=$((KVMINI_LAB_DEADLINE - $(date +%s)))
# shellcheck disable=SC2086
if [ -n "$(echo $missing)" ] && [ "${KVMINI_LAB_RETRY:-0}" -lt 4 ] && [ $left -gt 180 ] &&
	[ -z "$interactive$overlay$stream" ]; then
	retry= last=
	for s in $scenario_files; do
		n=$(basename "$s" .sh)
		case " $missing " in
		*" $n "*) if [ "$n" = "$culprit" ]; then last=$s; else retry="$retry $s"; fi ;;
		esac
	done
	retry="$retry $last"
	echo "$lab: the outer VM ended early after $passed passed, $failed failed; booting it again for:$missing"
	# The next boot writes serial.log afresh: keep this one's for the
	# post-mortem.
	mv "$serial" "$serial.boot$((${KVMINI_LAB_RETRY:-0} + 1))"
	echo "$lab: (this boot's serial log: $serial.boot$((${KVMINI_LAB_RETRY:-0} + 1)))"
	rm -rf "$work"
	# This boot's counts go on to the next, which adds its own.
	# shellcheck disable=SC2086
	KVMINI_LAB_CARRY="$passed $failed $skipped" \
		KVMINI_LAB_RETRY=$((${KVMINI_LAB_RETRY:-0} + 1)) exec "$0" --arch "$arch" --kvmini "$kvmini" --guest "$guest" \
		--native no --timeout "$left" --scenario-timeout "$scenario_timeout" \
		--tail "$tail_lines" $retry
fi
for n in $missing; do
	echo "FAIL $lab/$n (no result)"
	failed=$((failed + 1))
done

# A re-run hides bugs: how many boots and second runs this result took,
# always, and loudly when any.
reboots=${KVMINI_LAB_RETRY:-0}
# shellcheck disable=SC2086
reruns=$(set -- $KVMINI_LAB_RERUNS; echo $#)
# shellcheck disable=SC2086
rerun_names=$(echo $KVMINI_LAB_RERUNS)
echo "$lab: outer-VM re-boots: $reboots; scenario re-runs: $reruns${rerun_names:+ ($rerun_names)}"
if [ "$reboots" -gt 0 ] || [ "$reruns" -gt 0 ]; then
	echo "$lab: WARNING: this result needed $reboots re-boots of a hung outer VM and $reruns second runs:" \
		"the lab is not reliable (post-mortems: $logdir/hang.*.txt, serial logs: $serial.boot*)"
fi
summary="$lab: $passed passed, $failed failed"
[ $skipped -eq 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
[ $failed -eq 0 ] && [ $lab_ok -eq 1 ]
