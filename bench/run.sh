#!/bin/sh
# make bench: kvmini and QEMU (microvm) side by side, on the same guest.
#
# usage: bench/run.sh --kvmini KVMINI --static KVMINI_STATIC --guest DIR
#                     [--where auto|native|lab] [--out DIR]
#
# Measures boot to init, boot to exit, VMM start-up (exec → first KVM_RUN),
# VMM memory overhead and start rate for both VMMs, interleaved, where a
# Linux guest can run: natively when tests/lab/probe.sh says this host's KVM
# boots Linux (--where auto, the default), otherwise inside the KVM lab,
# QEMU packed into it. Writes RESULTS.md and results.json into --out
# (default bench/); the raw records and logs stay in build/bench/. See
# bench/README.md for the method. Benchmarks are not tests: the exit status
# says whether figures were produced, never whether they are good.
#
# Settings (environment): BENCH_RUNS (boot runs per VMM, 7), BENCH_MEM_RUNS
# (3 per configuration), BENCH_RATE_N (VMs per start-rate round: 4 in the
# lab, 20 natively), BENCH_RATE_ROUNDS (2 in the lab, 3 natively),
# BENCH_SETTLE_MS (1000), BENCH_QEMU_CPU (host), BENCH_HOLD_KEYS (1 in the
# lab, 0 natively: see bench/README.md); block: BENCH_BLK_RUNTIME (seconds
# per fio job, 10), BENCH_BLK_RUNS (1), BENCH_BLK_MIB (image size, 256),
# BENCH_BLK_JOBS (some of the fio jobs, by name: all by default);
# network: BENCH_NET_RUNS (boots per set-up, 5), BENCH_NET_SECS (seconds per
# iperf3 test, 5), BENCH_NET_PINGS (20), BENCH_NET_SETS ("tap user": the
# set-ups measured); vsock: BENCH_VSOCK_RUNS (boots per VMM, 5),
# BENCH_VSOCK_MIB (64 per stream), BENCH_VSOCK_PINGS (1000 round trips),
# BENCH_VSOCK_SIZE (64 bytes each); census: BENCH_CENSUS_RUNS (traced
# boots per VMM and configuration, 1); snapshot: BENCH_SNAP_RUNS (exec
# and restore runs each, 5), BENCH_SNAP_SHARE (restored VMs alive at once
# for the shared memory, 4); pci (transports): BENCH_PCI_RUNS (boots per
# VMM, 3), BENCH_PCI_RUNTIME (seconds per fio job, 5), BENCH_PCI_SECS
# (seconds per iperf3 test, 5), BENCH_PCI_VMMS and BENCH_PCI_FIGS (some of
# them). BENCH (boot,census,blk,net,vsock,snapshot,oci,pci by
# default) measures only the parts it names (BENCH=census: the exit census
# alone, a few minutes in the lab); a run of fewer than all of them writes
# its RESULTS.md and results.json into build/bench/, not --out.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$top/build/bench
cache=${KVMINI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvmini}

kvmini=
static=
guest=
where=auto
out=$here

usage()
{
	sed -n 's/^# \{0,1\}//; 4,5p' "$0" >&2
	exit 2
}

die()
{
	echo "bench: $*" >&2
	exit 1
}

abspath()
{
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

while [ $# -gt 0 ]; do
	case $1 in
	--kvmini) kvmini=$(abspath "${2:?}"); shift 2 ;;
	--static) static=$(abspath "${2:?}"); shift 2 ;;
	--guest) guest=$(abspath "${2:?}"); shift 2 ;;
	--where) where=${2:?}; shift 2 ;;
	--out) out=$(abspath "${2:?}"); shift 2 ;;
	-h | --help) usage ;;
	*) echo "bench: unknown argument $1" >&2; usage ;;
	esac
done
[ -n "$kvmini" ] && [ -n "$guest" ] || usage
case $where in
auto | native | lab) ;;
*) die "--where takes auto, native or lab" ;;
esac
[ -x "$kvmini" ] || die "no kvmini at $kvmini (make)"
for f in bzImage initramfs.cpio.gz; do
	[ -f "$guest/$f" ] || die "no $f in $guest (make guests)"
done
qemu=$(command -v qemu-system-x86_64) || die "no qemu-system-x86_64: run 'make deps'"
parts=$(echo "${BENCH:-boot census blk net vsock snapshot oci pci}" | tr ',' ' ')
all=1
for p in boot census blk net vsock snapshot oci pci; do
	case " $parts " in *" $p "*) ;; *) all=0 ;; esac
done
for p in $parts; do
	case $p in boot | census | blk | net | vsock | snapshot | oci | pci) ;; *) die "BENCH takes boot, census, blk, net, vsock, snapshot, oci and pci (got '$p')" ;; esac
done
# The block figures: fio here, and in the guest from its tools disk; the
# network figures: iperf3 here and, again, from the tools disk.
fio=$(command -v fio) || die "no fio: run 'make deps'"
iperf3=$(command -v iperf3) || die "no iperf3: run 'make deps'"
[ -f "$guest/tools.img" ] || die "no tools.img in $guest (make guests)"
# microvm's firmware, qboot, under both the names QEMU builds know it by.
for f in bios-microvm.bin qboot.rom; do
	[ -f "/usr/share/qemu/$f" ] ||
		die "no /usr/share/qemu/$f (qemu-system-data): run 'make deps'"
done

mkdir -p "$build" "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/kvmini-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

now_s()
{
	date +%s.%N
}
since()
{
	awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.0f", b - a }'
}
t_start=$(now_s)

# ---- the helpers: a static timer and the KVM_RUN shim ---------------------
cc=${CC:-gcc}
$cc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static \
	-o "$build/vmmrun" "$here/vmmrun.c"
$cc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -shared -fPIC \
	-o "$build/kvmrun-shim.so" "$here/kvmrun-shim.c"

# The census guest: the test initramfs with /tests/census.sh appended (the
# kernel unpacks concatenated archives in turn), which prints the guest's
# dmesg between two markers and reboots: the printk timeline of the boot.
census_initrd=$build/census-initramfs.cpio.gz
mkdir -p "$work/census/tests"
printf '%s\n' '#!/bin/sh' 'echo "census: dmesg"' dmesg 'echo "census: end"' \
	'reboot -f' 'sleep 30' 'exit 1' >"$work/census/tests/census.sh"
(cd "$work/census" && find tests | cpio -o -H newc -R 0:0 --quiet | gzip -9) >"$work/census.cpio.gz"
cat "$guest/initramfs.cpio.gz" "$work/census.cpio.gz" >"$census_initrd"

# The snapshot guest: the test initramfs with /tests/snapbench.sh, which
# ticks on its console until a "stop" line (bench/snapbench-guest.sh).
snap_initrd=$build/snapbench-initramfs.cpio.gz
mkdir -p "$work/snapbench/tests"
install -m 0755 "$here/snapbench-guest.sh" "$work/snapbench/tests/snapbench.sh"
(cd "$work/snapbench" && find tests | cpio -o -H newc -R 0:0 --quiet | gzip -9) >"$work/snapbench.cpio.gz"
cat "$guest/initramfs.cpio.gz" "$work/snapbench.cpio.gz" >"$snap_initrd"

# ---- where --------------------------------------------------------------------
if [ "$where" = auto ]; then
	if "$top/tests/lab/probe.sh" "$kvmini" "$guest" "$build/probe.log"; then
		where=native
		echo "bench: this host's KVM boots Linux (probe passed): measuring natively"
	else
		where=lab
		echo "bench: this host's KVM cannot boot Linux (probe failed; $build/probe.log):" \
			"measuring inside the KVM lab (nested KVM under QEMU TCG: emulated, slow)"
	fi
fi

# Every setting goes to bench.sh, natively through the environment and in
# the lab through /bench/conf. A boot takes seconds in the lab, a fraction
# of one natively: the start-rate rounds are sized for each, to keep the
# whole run within about 15 minutes in the lab.
if [ "$where" = lab ]; then
	rate_n=${BENCH_RATE_N:-4} rate_rounds=${BENCH_RATE_ROUNDS:-2}
else
	rate_n=${BENCH_RATE_N:-20} rate_rounds=${BENCH_RATE_ROUNDS:-3}
fi
runs=${BENCH_RUNS:-7}
mem_runs=${BENCH_MEM_RUNS:-3}
settle_ms=${BENCH_SETTLE_MS:-1000}
qemu_cpu=${BENCH_QEMU_CPU:-host}
blk_rt=${BENCH_BLK_RUNTIME:-10}
blk_runs=${BENCH_BLK_RUNS:-1}
blk_mib=${BENCH_BLK_MIB:-256}
net_runs=${BENCH_NET_RUNS:-5}
net_secs=${BENCH_NET_SECS:-5}
net_pings=${BENCH_NET_PINGS:-20}
vsock_runs=${BENCH_VSOCK_RUNS:-5}
vsock_mib=${BENCH_VSOCK_MIB:-64}
vsock_pings=${BENCH_VSOCK_PINGS:-1000}
vsock_size=${BENCH_VSOCK_SIZE:-64}
snap_runs=${BENCH_SNAP_RUNS:-5}
snap_share=${BENCH_SNAP_SHARE:-4}
pci_runs=${BENCH_PCI_RUNS:-3}
pci_rt=${BENCH_PCI_RUNTIME:-5}
pci_secs=${BENCH_PCI_SECS:-5}
for v in "$runs" "$mem_runs" "$rate_n" "$rate_rounds" "$settle_ms" "$blk_rt" \
	"$blk_runs" "$blk_mib" "$net_runs" "$net_secs" "$net_pings" \
	"$vsock_runs" "$vsock_mib" "$vsock_pings" "$vsock_size" "$snap_runs" "$snap_share" \
	"$pci_runs" "$pci_rt" "$pci_secs"; do
	case $v in '' | *[!0-9]*) die "BENCH_* counts take whole numbers" ;; esac
done

raw=$build/raw.txt
{
	echo "@@BENCH host date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "@@BENCH host cpu $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "@@BENCH host ncpu $(nproc)"
	echo "@@BENCH host kernel $(uname -r)"
	echo "@@BENCH host os $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")"
	echo "@@BENCH host loadavg_start $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "@@BENCH host qemu_package $(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || echo unknown)"
	echo "@@BENCH host git $(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "@@BENCH host where $where"
} >"$work/host"

# ---- natively ---------------------------------------------------------------
if [ "$where" = native ]; then
	mkdir -p "$work/t"
	env BENCH_KVMINI="$kvmini" BENCH_QEMU="$qemu" BENCH_VMMRUN="$build/vmmrun" \
		BENCH_SHIM="$build/kvmrun-shim.so" KERNEL="$guest/bzImage" \
		INITRD="$guest/initramfs.cpio.gz" T="$work/t" KVMINI_MODE=native \
		BENCH_RUNS="$runs" BENCH_MEM_RUNS="$mem_runs" BENCH_RATE_N="$rate_n" \
		BENCH_RATE_ROUNDS="$rate_rounds" BENCH_SETTLE_MS="$settle_ms" \
		BENCH_QEMU_CPU="$qemu_cpu" BENCH_RUN_TIMEOUT="${BENCH_RUN_TIMEOUT:-60}" \
		BENCH_HOLD_KEYS="${BENCH_HOLD_KEYS:-}" BENCH_FIO="$fio" \
		BENCH_TOOLS="$guest/tools.img" BENCH_BLK_RUNTIME="$blk_rt" \
		BENCH_BLK_RUNS="$blk_runs" BENCH_BLK_MIB="$blk_mib" BENCH_PARTS="$parts" \
		BENCH_BLK_JOBS="${BENCH_BLK_JOBS:-}" \
		BENCH_IPERF3="$iperf3" BENCH_NET_SH="$here/net.sh" BENCH_LIB="$here/lib.sh" BENCH_NET_RUNS="$net_runs" \
		BENCH_NET_SECS="$net_secs" BENCH_NET_PINGS="$net_pings" \
		BENCH_NET_SETS="${BENCH_NET_SETS:-tap user}" \
		BENCH_VSOCK_SH="$here/vsock.sh" BENCH_VSOCK_RUNS="$vsock_runs" \
		BENCH_VSOCK_MIB="$vsock_mib" BENCH_VSOCK_PINGS="$vsock_pings" \
		BENCH_VSOCK_SIZE="$vsock_size" BENCH_VSOCK_TOOL="$guest/vsock" \
		BENCH_CENSUS_SH="$here/census.sh" BENCH_CENSUS_INITRD="$census_initrd" \
		BENCH_CENSUS_RUNS="${BENCH_CENSUS_RUNS:-1}" \
		BENCH_SNAPSHOT_SH="$here/snapshot.sh" BENCH_SNAP_INITRD="$snap_initrd" \
		BENCH_KVCTL="$guest/kvctl" BENCH_SNAP_RUNS="$snap_runs" BENCH_SNAP_SHARE="$snap_share" \
		BENCH_OCI_SH="$here/oci.sh" BENCH_OCI_RUNS="${BENCH_OCI_RUNS:-5}" \
		BENCH_PCI_SH="$here/pci.sh" BENCH_PCI_RUNS="$pci_runs" BENCH_PCI_RUNTIME="$pci_rt" \
		BENCH_PCI_SECS="$pci_secs" BENCH_PCI_VMMS="${BENCH_PCI_VMMS:-}" \
		BENCH_PCI_FIGS="${BENCH_PCI_FIGS:-}" \
		sh "$here/bench.sh" </dev/null | tee "$build/bench.log" |
		sed -n 's/^@@BENCH \(boot\|mem\|rate\|blk\|net\|vsock\|exec\|restore\|snapmem\|snapshare\|oci\|pci\|note\) /bench: \1 /p'
	grep '^@@BENCH ' "$build/bench.log" >"$work/records" || true
fi

# vhost_modules DIR: the lab kernel's vhost_vsock and the modules it needs,
# in load order (DIR/load) with the release they are for (DIR/release),
# for QEMU's vsock peer (bench/vsock.sh loads them: the lab's tests do not
# need them). The package is the one tests/lab/run.sh boots, found the same
# way; the modules are cached in $cache/bench-vhost-RELEASE.
vhost_modules()
{
	vh_pkg=$(apt-cache depends linux-image-cloud-amd64:amd64 2>/dev/null |
		awk '$1 ~ /Depends:$/ { sub(/:.*/, "", $2) }
			$1 ~ /Depends:$/ && $2 ~ /^linux-image-.*-cloud-amd64$/ { print $2; exit }')
	if [ -z "$vh_pkg" ]; then
		vh_dir=
		for d in "$cache"/bench-vhost-*; do
			[ ! -f "$d/load" ] || vh_dir=$d
		done
		[ -n "$vh_dir" ] || { echo "bench: apt-cache cannot resolve linux-image-cloud-amd64: no vhost_vsock for QEMU's vsock peer"; return 0; }
	else
		vh_dir=$cache/bench-vhost-${vh_pkg#linux-image-}
	fi
	if [ ! -f "$vh_dir/load" ]; then
		vh_dl=$(mktemp -d "$work/vhost.XXXXXX")
		vh_sandbox=
		[ "$(id -u)" -ne 0 ] || vh_sandbox="-o APT::Sandbox::User=root"
		# shellcheck disable=SC2086
		if ! (cd "$vh_dl" && apt-get download -q $vh_sandbox "$vh_pkg:amd64" >apt.log 2>&1); then
			echo "bench: cannot download $vh_pkg: no vhost_vsock for QEMU's vsock peer"
			return 0
		fi
		dpkg -x "$vh_dl"/"$vh_pkg"_*.deb "$vh_dl/x"
		mkdir -p "$vh_dl/out"
		for m in net/vmw_vsock/vsock net/vmw_vsock/vmw_vsock_virtio_transport_common \
			drivers/vhost/vhost_iotlb drivers/vhost/vhost drivers/vhost/vhost_vsock; do
			f=
			for c in "$vh_dl"/x/lib/modules/*/kernel/$m.ko*; do
				[ ! -f "$c" ] || f=$c
			done
			case $f in
			*.ko) cp "$f" "$vh_dl/out/" ;;
			*.ko.xz) xz -dc "$f" >"$vh_dl/out/$(basename "$m").ko" ;;
			*.ko.zst) zstd -qdc "$f" >"$vh_dl/out/$(basename "$m").ko" ;;
			*) echo "bench: $vh_pkg has no $m.ko: no vhost_vsock for QEMU's vsock peer"; return 0 ;;
			esac
			echo "$(basename "$m").ko" >>"$vh_dl/out/load"
		done
		ls "$vh_dl/x/lib/modules" >"$vh_dl/out/release"
		mkdir -p "$cache"
		rm -rf "$vh_dir"
		mv "$vh_dl/out" "$vh_dir"
	fi
	cp -R "$vh_dir" "$1"
}

# ---- in the lab ---------------------------------------------------------------
# QEMU, the dynamic kvmini (the default build, like QEMU: the shim needs a
# dynamic loader), their libraries, qboot and the helpers go into the outer
# VM through an overlay; bench.sh is the lab's one scenario, streamed.
if [ "$where" = lab ]; then
	[ -n "$static" ] && [ -f "$static" ] || die "no static kvmini (make static)"
	ov=$work/overlay
	mkdir -p "$ov/bench" "$ov/usr/bin" "$ov/usr/share/qemu"
	cp "$build/vmmrun" "$build/kvmrun-shim.so" "$ov/bench/"
	cp "$kvmini" "$ov/bench/kvmini"
	cp -L "$qemu" "$ov/usr/bin/qemu-system-x86_64"
	cp -L "$fio" "$ov/usr/bin/fio"
	cp -L "$iperf3" "$ov/usr/bin/iperf3"
	cp "$here/net.sh" "$here/vsock.sh" "$here/lib.sh" "$here/census.sh" "$census_initrd" \
		"$here/snapshot.sh" "$snap_initrd" "$here/oci.sh" "$here/pci.sh" "$ov/bench/"
	case " $parts " in *" vsock "*) vhost_modules "$ov/bench/vhost" ;; esac
	cp -L /usr/share/qemu/bios-microvm.bin /usr/share/qemu/qboot.rom "$ov/usr/share/qemu/"
	# The pci part's q35 looks for these option ROMs even under qboot.
	case " $parts " in
	*" pci "*)
		for f in kvmvapic.bin linuxboot_dma.bin; do
			[ ! -f "/usr/share/qemu/$f" ] || cp -L "/usr/share/qemu/$f" "$ov/usr/share/qemu/"
		done
		;;
	esac
	for bin in "$qemu" "$kvmini" "$build/kvmrun-shim.so" "$fio" "$iperf3"; do
		ldd "$bin" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'
	done | sort -u | while read -r lib; do
		mkdir -p "$ov$(dirname "$lib")"
		cp -L "$lib" "$ov$lib"
	done
	cat >"$ov/bench/conf" <<-EOF
	BENCH_KVMINI=/bench/kvmini
	BENCH_QEMU=/usr/bin/qemu-system-x86_64
	BENCH_VMMRUN=/bench/vmmrun
	BENCH_SHIM=/bench/kvmrun-shim.so
	BENCH_RUNS=$runs
	BENCH_MEM_RUNS=$mem_runs
	BENCH_RATE_N=$rate_n
	BENCH_RATE_ROUNDS=$rate_rounds
	BENCH_SETTLE_MS=$settle_ms
	BENCH_QEMU_CPU=$qemu_cpu
	BENCH_RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-180}
	BENCH_HOLD_KEYS=${BENCH_HOLD_KEYS:-}
	BENCH_FIO=/usr/bin/fio
	BENCH_BLK_RUNTIME=$blk_rt
	BENCH_BLK_RUNS=$blk_runs
	BENCH_BLK_MIB=$blk_mib
	BENCH_BLK_JOBS="${BENCH_BLK_JOBS:-}"
	BENCH_PARTS="$parts"
	BENCH_IPERF3=/usr/bin/iperf3
	BENCH_NET_SH=/bench/net.sh
	BENCH_LIB=/bench/lib.sh
	BENCH_NET_RUNS=$net_runs
	BENCH_NET_SECS=$net_secs
	BENCH_NET_PINGS=$net_pings
	BENCH_NET_SETS="${BENCH_NET_SETS:-tap user}"
	BENCH_VSOCK_SH=/bench/vsock.sh
	BENCH_VSOCK_RUNS=$vsock_runs
	BENCH_VSOCK_MIB=$vsock_mib
	BENCH_VSOCK_PINGS=$vsock_pings
	BENCH_VSOCK_SIZE=$vsock_size
	BENCH_CENSUS_SH=/bench/census.sh
	BENCH_CENSUS_INITRD=/bench/$(basename "$census_initrd")
	BENCH_CENSUS_RUNS=${BENCH_CENSUS_RUNS:-1}
	BENCH_SNAPSHOT_SH=/bench/snapshot.sh
	BENCH_SNAP_INITRD=/bench/$(basename "$snap_initrd")
	BENCH_KVCTL=/usr/bin/kvctl
	BENCH_SNAP_RUNS=$snap_runs
	BENCH_SNAP_SHARE=$snap_share
	BENCH_OCI_SH=/bench/oci.sh
	BENCH_OCI_RUNS=${BENCH_OCI_RUNS:-5}
	BENCH_PCI_SH=/bench/pci.sh
	BENCH_PCI_RUNS=$pci_runs
	BENCH_PCI_RUNTIME=$pci_rt
	BENCH_PCI_SECS=$pci_secs
	BENCH_PCI_VMMS="${BENCH_PCI_VMMS:-}"
	BENCH_PCI_FIGS="${BENCH_PCI_FIGS:-}"
	EOF
	echo "bench: packed $(du -sk "$ov" | cut -f1) KiB into the lab (QEMU, fio, iperf3, their libraries, qboot, kvmini)"
	# A private copy of the lab's scripts, the rest of the tree linked: sh
	# reads a script while it runs it, and tests/lab/ may be edited during
	# the quarter of an hour this takes.
	tree=$work/tree
	mkdir -p "$tree/tests"
	for e in "$top"/* "$top"/tests/*; do
		case ${e#"$top"/} in
		tests | tests/lab) ;;
		*) ln -s "$e" "$tree/${e#"$top"/}" ;;
		esac
	done
	cp -R "$top/tests/lab" "$tree/tests/lab"
	# kvmini exec (the snapshot part) needs virtiofsd and a root to share:
	# the build host's /, which the lab gives a scenario that names
	# HOSTROOT. bench.sh is that scenario, so a copy of it that does.
	scenario=$here/bench.sh
	case " $parts " in
	*" snapshot "* | *" oci "*)
		mkdir -p "$work/scenario"
		scenario=$work/scenario/bench.sh
		{ cat "$here/bench.sh"; echo "# HOSTROOT: bench/snapshot.sh runs kvmini exec, bench/oci.sh podman, on the build host's /"; } >"$scenario"
		;;
	esac
	rc=0
	lab_cpus=${KVMINI_LAB_CPUS:-2}
	labdir=${KVMINI_LAB_LOGDIR:-$build/lab}
	# Two CPUs, unlike the tests' lab: a VMM's I/O thread beside its vCPU
	# is part of what is measured (and the figures stay comparable).
	KVMINI_LAB_CPUS=$lab_cpus KVMINI_LAB_LOGDIR=$labdir "$tree/tests/lab/run.sh" --kvmini "$static" \
		--guest "$guest" --native no --overlay "$ov" --stream \
		--scenario-timeout 3000 --timeout 3300 "$scenario" || rc=$?
	tr -d '\r' <"$labdir/serial.log" |
		sed -n 's/.*@@LAB out bench @@BENCH /@@BENCH /p' >"$work/records"
	[ $rc -eq 0 ] || echo "bench: the lab run ended with status $rc; using what it measured"
	echo "@@BENCH host lab_qemu qemu-system-x86_64 -accel tcg -M q35 -cpu max,la57=off -smp $lab_cpus -m 6144" >>"$work/host"
	lab_info=$(tr -d '\r' <"$labdir/serial.log" | sed -n 's/.*@@LAB info //p' | head -n 1)
	echo "@@BENCH host lab_info $lab_info" >>"$work/host"
fi

echo "@@BENCH host loadavg_end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$work/host"
echo "@@BENCH host wall_s $(since "$t_start")" >>"$work/host"
cat "$work/host" "$work/records" >"$raw"

grep -Eq '^@@BENCH (boot|mem|rate|census|blk|net|vsock|exec|restore|snapmem|snapshare|oci|pci) ' "$raw" || die "no measurements at all (raw records: $raw)"

# Into place only when the run is complete and has figures: a broken run
# leaves the last results as they were, and its own in build/bench/.
rc=0
awk -v md="$work/RESULTS.md" -v json="$work/results.json" -f "$here/report.awk" "$raw" || rc=$?
[ $rc -ne 3 ] || die "no run succeeded, no figures (raw records: $raw); $out/RESULTS.md left as it was"
[ $rc -eq 0 ] || die "report.awk failed (status $rc)"
complete=1
grep -q '^@@BENCH done' "$raw" || complete=0
dest=$out
[ $complete -eq 1 ] && [ $all -eq 1 ] || dest=$build
cp "$work/RESULTS.md" "$work/results.json" "$dest/"
sed -n '/^## Results/,/^## /p' "$dest/RESULTS.md" | sed '$d'
if [ $complete -eq 0 ]; then
	echo "bench: the measurements stopped early: partial figures in $dest/RESULTS.md;" \
		"$out/RESULTS.md left as it was (raw records: $raw)"
	exit 1
fi
if [ $all -eq 0 ]; then
	echo "bench: measured only $parts (BENCH): figures in $dest/RESULTS.md and" \
		"results.json; $out/RESULTS.md left as it was (raw records: $raw)"
	exit 0
fi
echo "bench: wrote $out/RESULTS.md and $out/results.json (raw records: $raw)"
