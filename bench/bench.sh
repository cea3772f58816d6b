#!/bin/sh
# The measuring half of `make bench` (bench/run.sh is the driver): boots the
# test guest under kvmini and under QEMU's microvm, interleaved, and prints
# one "@@BENCH" record per measurement on standard output. It runs where a
# Linux guest can run: natively, or inside the KVM lab as its one scenario
# (tests/lab/run.sh --stream), which is why it is plain POSIX sh (busybox in
# the lab) and takes its settings from the environment or /bench/conf.
#
# Records (fields separated by single spaces):
#   @@BENCH env KEY VALUE...
#   @@BENCH cmd VMM COMMAND...            (the command line, for RESULTS.md)
#   @@BENCH boot VMM VCPUS MIB RUN status=N init=S idle=S exit=S kvmrun=S
#   @@BENCH mem  VMM VCPUS MIB RUN status=N init=S ... rss_kib=K guest_kib=K ovh_kib=K ... [net=user]
#   @@BENCH rate VMM PARALLEL RUN n=N j=J wall=S ok=K
#   @@BENCH blk VMM JOB RUN iops=N bw_kib=N err=N
#   @@BENCH blkirq VMM JOB RUN irqs=N ios=N (the guest's count of both)
#   @@BENCH net VMM NET METRIC RUN value=V  (bench/net.sh)
#   @@BENCH vsock VMM METRIC RUN value=V    (bench/vsock.sh)
#   @@BENCH census VMM VCPUS MIB RUN KIND ... (bench/census.sh)
#   @@BENCH exec|restore|snapmem|snapshare ... (bench/snapshot.sh)
#   @@BENCH oci RUNTIME RUN ...           (bench/oci.sh)
#   @@BENCH pci|pciirq|pcikvm|pciinfo ... (bench/pci.sh)
#   @@BENCH note TEXT                     (a run that failed, and why)
#   @@BENCH done
# (the key=value parts are bench/vmmrun's output line, as is).
set -u

if [ "${KVMINI_MODE:-}" = lab ] && [ -f /bench/conf ]; then
	. /bench/conf
fi
. "${BENCH_LIB:-$(dirname "$0")/lib.sh}"

: "${BENCH_KVMINI:?}" "${BENCH_QEMU:?}" "${BENCH_VMMRUN:?}" "${BENCH_SHIM:?}"
: "${KERNEL:?}" "${INITRD:?}"
mode=${KVMINI_MODE:-native}
runs=${BENCH_RUNS:-7}
mem_runs=${BENCH_MEM_RUNS:-3}
rate_n=${BENCH_RATE_N:-4}
rate_rounds=${BENCH_RATE_ROUNDS:-2}
settle_ms=${BENCH_SETTLE_MS:-1000}
qemu_cpu=${BENCH_QEMU_CPU:-host}
# A boot in the lab takes seconds, natively a fraction of one.
run_timeout=${BENCH_RUN_TIMEOUT:-120}
# The parts to measure (BENCH in make bench): boot (boot, memory, start
# rate), census (exits and the printk timeline), blk (fio), net (iperf3
# and ping), vsock, snapshot (exec from a snapshot, restore), oci (podman
# run with kvmini oci, runc and crun); a part left
# out leaves no records, and its loops run zero times.
parts=" $(echo "${BENCH_PARTS:-boot census blk net vsock snapshot oci pci}" | tr ',' ' ') "
has()
{
	case $parts in *" $1 "*) return 0 ;; esac
	return 1
}
has boot || runs=0 mem_runs=0 rate_rounds=0
# census: bench/census.sh, below.
scratch=${T:-/tmp}/bench
mkdir -p "$scratch"

INIT_LINE="kvmini-guest: init"
IDLE_LINE="sleep.sh: sleeping"

# The guest command line both VMMs end up with, apart from the devices
# each adds (kvmini: virtio_mmio.device= for its rng; QEMU microvm: the same
# through auto-kernel-cmdline) and the reboot method: kvmini ends on the
# i8042 reset (reboot=k); microvm has no i8042, so reboot=k would spin in
# the kernel's keyboard-controller wait loop, and QEMU gets reboot=t, a
# triple fault, which -no-reboot turns into QEMU's exit.
KVMINI_APPEND="quiet"
QEMU_APPEND="console=ttyS0 reboot=t panic=-1 pci=off i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd quiet"

# vmm VMM VCPUS MIB SCRIPT PREFIX...: run PREFIX followed by VMM's command
# line (PREFIX: vmmrun and its options, or show to print it). Both VMMs get
# the same kernel, initrd, RAM and vCPUs, one UART console on standard
# output and one virtio-rng over virtio-mmio; with vmm_net=user, also a
# virtio-net NIC on user networking (kvmini --net user: libslirp; QEMU
# -netdev user, its own slirp), which the memory runs measure.
vmm_net=
vmm()
{
	v=$1 cpus=$2 mib=$3 script=$4
	shift 4
	case $v-$vmm_net in
	kvmini-user) nic="--net user" ;;
	qemu-user) nic="-netdev user,id=n0 -device virtio-net-device,netdev=n0" ;;
	*) nic= ;;
	esac
	case $v in
	kvmini)
		"$@" "$BENCH_KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" \
			--mem "${mib}M" --cpus "$cpus" $nic \
			--cmdline "$KVMINI_APPEND kvmini.script=$script"
		;;
	qemu)
		"$@" "$BENCH_QEMU" -nodefaults -no-user-config -enable-kvm \
			-cpu "$qemu_cpu" -M microvm,x-option-roms=off,rtc=off,acpi=off \
			-m "${mib}M" -smp "$cpus" -display none -no-reboot \
			-serial stdio -device virtio-rng-device $nic \
			-kernel "$KERNEL" -initrd "$INITRD" \
			-append "$QEMU_APPEND kvmini.script=$script"
		;;
	esac
}

# check KIND VMM RUN LINE LOG WANT_STATUS: note a run that went wrong.
check()
{
	case $4 in
	"status=$6 "*init=[0-9]*) return 0 ;;
	esac
	rec note "$1 $2 run $3 failed: $4"
	tail -n 5 "$5" 2>/dev/null | while IFS= read -r l; do rec note "  | $l"; done
}

# ---- the lab's static-key holder ---------------------------------------------
# In the lab, an idle VM whose one vCPU never runs stays open throughout
# (vmmrun -H): it keeps KVM's apic_sw_disabled static key above zero, so
# that the VMs starting and ending here do not make the lab's kernel
# live-patch KVM's code at every start and end, which QEMU's emulator gets
# wrong now and then (an int3 oops in kvm's __apic_accept_irq ended a run).
# It costs no CPU and is there for both VMMs alike. BENCH_HOLD_KEYS=1/0
# forces it on or off.
holder=
case ${BENCH_HOLD_KEYS:-$([ "$mode" = lab ] && echo 1 || echo 0)} in
1)
	"$BENCH_VMMRUN" -H >"$scratch/holder.log" 2>&1 &
	holder=$!
	trap 'kill $holder 2>/dev/null' EXIT
	i=0
	while ! grep -q holding "$scratch/holder.log" && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q holding "$scratch/holder.log" ||
		echo "@@BENCH note key holder did not start: $(head -n 1 "$scratch/holder.log")"
	;;
esac

# ---- environment ------------------------------------------------------------

rec env mode "$mode"
rec env parts "$(echo $parts)"
rec env kernel "$(uname -r)"
rec env cpu "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
rec env ncpu "$(grep -c '^processor' /proc/cpuinfo)"
rec env memtotal_kib "$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
rec env qemu_version "$("$BENCH_QEMU" --version | head -n 1)"
rec env kvmini_version "$("$BENCH_KVMINI" --version 2>&1 | head -n 1)"
for p in nested npt; do
	f=/sys/module/kvm_amd/parameters/$p
	[ -r "$f" ] && rec env "kvm_amd_$p" "$(cat "$f")"
done
for p in nested ept; do
	f=/sys/module/kvm_intel/parameters/$p
	[ -r "$f" ] && rec env "kvm_intel_$p" "$(cat "$f")"
done
rec env runs "$runs"
rec env mem_runs "$mem_runs"
rec env rate_n "$rate_n"
rec env rate_rounds "$rate_rounds"
rec env settle_ms "$settle_ms"
rec env kvm_key_holder "$([ -n "$holder" ] && echo 1 || echo 0)"
rec env kernel_kib "$(($(wc -c <"$KERNEL") / 1024))"
rec env initrd_kib "$(($(wc -c <"$INITRD") / 1024))"

rec cmd kvmini "$(vmm kvmini 1 128 reboot show)"
rec cmd qemu "$(vmm qemu 1 128 reboot show)"
vmm_net=user
rec cmd kvmini-user "$(vmm kvmini 1 128 sleep show)"
rec cmd qemu-user "$(vmm qemu 1 128 sleep show)"
vmm_net=

# ---- boot to init, boot to exit, exec → first KVM_RUN ----------------------
# The guest reboots at once (kvmini.script=reboot): one run gives all three.

i=1
while [ $i -le "$runs" ]; do
	for v in $(pair $i); do
		log=$scratch/boot-$v-$i.log
		line=$(vmm $v 1 128 reboot "$BENCH_VMMRUN" -w "$INIT_LINE" \
			-p "$BENCH_SHIM" -t "$run_timeout" -l "$log" --)
		rec boot $v 1 128 $i "$line"
		check boot $v $i "$line" "$log" 0
	done
	i=$((i + 1))
done

# ---- memory overhead, idle at init -----------------------------------------
# No shim here: nothing but the VMM's own pages in its RSS. The third
# configuration adds a NIC on user networking, idle (what libslirp, glib
# and their state cost); its records end in net=user.

for conf in "1 128" "2 1024" "1 128 user"; do
	set -- $conf
	cpus=$1 mib=$2 vmm_net=${3:-}
	i=1
	while [ $i -le "$mem_runs" ]; do
		for v in $(pair $i); do
			log=$scratch/mem-$v-$cpus-$mib${vmm_net:+-$vmm_net}-$i.log
			line=$(vmm $v "$cpus" "$mib" sleep "$BENCH_VMMRUN" \
				-w "$INIT_LINE" -i "$IDLE_LINE" -s "$settle_ms" \
				-m "$mib" -t "$run_timeout" -l "$log" --)
			rec mem $v "$cpus" "$mib" $i "$line${vmm_net:+ net=$vmm_net}"
			case $line in
			*rss_kib=[0-9]*) ;;
			*) check mem $v $i "$line" "$log" x ;;
			esac
		done
		i=$((i + 1))
	done
done
vmm_net=

# ---- start rate -------------------------------------------------------------
# rate_n VMs that boot and reboot (end) at once, back to back, then two at a
# time; VMs per second = rate_n / wall time.

# rate_cold VMM PREFIX...: one VM of the rounds, a cold boot that reboots
# (PREFIX: vmmrun and its options, without "--").
rate_cold()
{
	rc_v=$1
	shift
	vmm "$rc_v" 1 128 reboot "$@" --
}
rate_rounds "$rate_rounds" "$rate_n" "$run_timeout" rate_cold kvmini qemu

# ---- exit census (bench/census.sh) -------------------------------------------
# One traced boot per VMM and configuration, from VM creation to the
# guest's init line: KVM's trace events (every exit, its reason, port,
# address or MSR, and the time until the next entry) and its per-VM
# statistics, read by vmmrun's hook while the VM still runs; then the
# guest's dmesg (/tests/census.sh, appended to the initramfs by run.sh)
# for the printk timeline. Traced boots are slower: their times are not
# the boot figures above.
census_runs=${BENCH_CENSUS_RUNS:-1}
census_sh=${BENCH_CENSUS_SH:-$(dirname "$0")/census.sh}
if ! has census; then
	:
elif [ -z "${BENCH_CENSUS_INITRD:-}" ] || ! sh "$census_sh" setup >"$scratch/census-setup.log" 2>&1; then
	rec note "census: no census initramfs or no kvm trace events: $(head -n 1 "$scratch/census-setup.log" 2>/dev/null)"
else
	rec env census_runs "$census_runs"
	boot_initrd=$INITRD
	INITRD=$BENCH_CENSUS_INITRD
	rec cmd census_kvmini "$(vmm kvmini 1 128 census show)"
	rec cmd census_qemu "$(vmm qemu 1 128 census show)"
	for conf in "1 128" "2 1024"; do
		set -- $conf
		cpus=$1 mib=$2
		i=1
		while [ $i -le "$census_runs" ]; do
			for v in $(pair $i); do
				d=$scratch/census-$v-$cpus-$mib-$i
				mkdir -p "$d"
				sh "$census_sh" start
				line=$(vmm $v "$cpus" "$mib" census \
					"$BENCH_VMMRUN" -w "$INIT_LINE" -x "sh $census_sh hook $d" \
					-t "$run_timeout" -l "$d/log" -- 2>"$d/hook.log")
				rec census $v "$cpus" "$mib" $i run "$line"
				check census $v $i "$line" "$d/log" 0
				sh "$census_sh" parse "$v $cpus $mib $i" "$d" "$d/log"
			done
			i=$((i + 1))
		done
	done
	sh "$census_sh" off
	INITRD=$boot_initrd
fi

# ---- block: fio on one image file ---------------------------------------------
# The same image file, the same fio jobs (tests/guest/blk-bench.sh): inside
# a kvmini guest, inside a QEMU microvm guest (virtio-blk-device, aio=io_uring),
# and here on the host (fio's io_uring engine), in that interleaved order.
# Everyone goes through this side's page cache (kvmini without direct, QEMU
# cache=writeback, fio buffered here): the lab's tmpfs has no O_DIRECT.
# The guests use O_DIRECT on their /dev/vda, so each request reaches the
# device.

# BENCH_BLK_JOBS picks some of them (for a quicker look at one figure).
BLK_JOBS=${BENCH_BLK_JOBS:-randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 randwrite-4k-qd32 read-1m write-1m}
blk_args=$(echo "$BLK_JOBS" | tr ' ' ',')
blk_rt=${BENCH_BLK_RUNTIME:-10}
blk_runs=${BENCH_BLK_RUNS:-1}
blk_mib=${BENCH_BLK_MIB:-256}
# Six jobs of blk_rt s each, plus a boot and fio's start-up in the guest.
blk_timeout=${BENCH_BLK_TIMEOUT:-900}
tools=${BENCH_TOOLS:-$(dirname "$INITRD")/tools.img}
blk_img=$scratch/blk.img

# blk_vmm VMM PREFIX...: PREFIX and VMM's command line (as vmm() above)
# that boots the guest on the image and the tools disk, to run every job.
blk_vmm()
{
	v=$1
	shift
	case $v in
	kvmini)
		"$@" "$BENCH_KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" \
			--mem 512M --cpus 1 --timeout "$blk_timeout" \
			--disk "$blk_img,serial=bench" --disk "$tools,ro,serial=tools" \
			--cmdline "$KVMINI_APPEND kvmini.script=blk-bench kvmini.args=$blk_rt,$blk_args"
		;;
	qemu)
		"$@" "$BENCH_QEMU" -nodefaults -no-user-config -enable-kvm \
			-cpu "$qemu_cpu" -M microvm,x-option-roms=off,rtc=off,acpi=off \
			-m 512M -smp 1 -display none -no-reboot -serial stdio \
			-device virtio-rng-device \
			-drive "id=bench,file=$blk_img,format=raw,if=none,aio=io_uring,cache=writeback" \
			-device virtio-blk-device,drive=bench,serial=bench \
			-drive "id=tools,file=$tools,format=raw,if=none,readonly=on,aio=io_uring" \
			-device virtio-blk-device,drive=tools,serial=tools \
			-kernel "$KERNEL" -initrd "$INITRD" \
			-append "$QEMU_APPEND kvmini.script=blk-bench kvmini.args=$blk_rt,$blk_args"
		;;
	esac
}

# blk_host JOB: the same job on the image file here, fio's io_uring
# engine at the job's queue depth; prints fio's terse v3 line.
blk_host()
{
	case $1 in
	*-4k-qd1) bs=4k qd=1 ;;
	*-4k-qd32) bs=4k qd=32 ;;
	*-1m) bs=1M qd=1 ;;
	esac
	"$BENCH_FIO" --name="$1" --filename="$blk_img" --direct=0 --ioengine=io_uring \
		--iodepth=$qd --rw="${1%%-*}" --bs=$bs --time_based --runtime="$blk_rt" \
		--ramp_time=1 --randrepeat=0 --output-format=terse --terse-version=3 2>&1 |
		grep '^3;' | tail -n 1
}

# blk_rec VMM RUN JOB TERSE: a record from fio's terse v3 line (read
# bandwidth KiB/s and IOPS are fields 7 and 8, write 48 and 49).
blk_rec()
{
	echo "$4" | awk -F';' -v vmm="$1" -v run="$2" -v job="$3" '
		NF > 49 {
			w = job ~ /write/
			printf "@@BENCH blk %s %s %s iops=%s bw_kib=%s err=%s\n", vmm, job, run,
				w ? $49 : $8, w ? $48 : $7, $5
			ok = 1
		}
		END { if (!ok) printf "@@BENCH note blk %s %s run %s: no fio result\n", vmm, job, run }'
}

if ! has blk; then
	:
elif [ -f "$tools" ] && [ -x "${BENCH_FIO:-}" ]; then
	rec env blk_runtime_s "$blk_rt"
	rec env blk_runs "$blk_runs"
	rec env blk_image_mib "$blk_mib"
	rec env fio_version "$("$BENCH_FIO" --version 2>&1 | head -n 1)"
	rec cmd blk_kvmini "$(blk_vmm kvmini show)"
	rec cmd blk_qemu "$(blk_vmm qemu show)"
	rec cmd blk_host "$(echo "$BENCH_FIO" --filename="$blk_img" --direct=0 --ioengine=io_uring \
		--iodepth=QD --rw=RW --bs=BS --time_based --runtime="$blk_rt" --ramp_time=1)"
	# Written through, not sparse: every read finds data.
	dd if=/dev/urandom of="$blk_img" bs=1M count="$blk_mib" 2>/dev/null
	i=1
	while [ $i -le "$blk_runs" ]; do
		for v in $(pair $i) host; do
			if [ $v = host ]; then
				for job in $BLK_JOBS; do
					blk_rec host $i "$job" "$(blk_host "$job")"
				done
				continue
			fi
			log=$scratch/blk-$v-$i.log
			rc=0
			blk_vmm $v timeout "$blk_timeout" >"$log" 2>&1 </dev/null || rc=$?
			for job in $BLK_JOBS; do
				blk_rec $v $i "$job" "$(tr -d '\r' <"$log" | sed -n "s/^blk-bench $job //p" | tail -n 1)"
				tr -d '\r' <"$log" | sed -n "s/^blk-bench-irq $job \(irqs=[0-9]* ios=[0-9]*\)\$/\1/p" |
					tail -n 1 | while read -r n; do rec blkirq $v $job $i $n; done
			done
			[ $rc -eq 0 ] || { rec note "blk $v run $i ended with $rc"; tail -n 5 "$log" |
				while IFS= read -r l; do rec note "  | $l"; done; }
		done
		i=$((i + 1))
	done
	rm -f "$blk_img"
else
	rec note "blk: no tools.img ($tools) or no fio (BENCH_FIO): no block figures"
fi

# ---- network: iperf3 and ping (bench/net.sh) ----------------------------------
# In a network namespace of its own: the tap, the servers here and user
# networking's sockets all stay inside it.
if has net; then
	env BENCH_KVMINI="$BENCH_KVMINI" BENCH_QEMU="$BENCH_QEMU" \
		BENCH_IPERF3="${BENCH_IPERF3:-}" BENCH_TOOLS="$tools" KERNEL="$KERNEL" \
		INITRD="$INITRD" T="${T:-/tmp}" BENCH_QEMU_CPU="$qemu_cpu" \
		KVMINI_APPEND="$KVMINI_APPEND" QEMU_APPEND="$QEMU_APPEND" \
		BENCH_NET_RUNS="${BENCH_NET_RUNS:-5}" BENCH_NET_SECS="${BENCH_NET_SECS:-5}" \
		BENCH_NET_PINGS="${BENCH_NET_PINGS:-20}" BENCH_NET_SETS="${BENCH_NET_SETS:-tap user}" \
		BENCH_NET_TIMEOUT="${BENCH_NET_TIMEOUT:-300}" \
		BENCH_LIB="${BENCH_LIB:-$(dirname "$0")/lib.sh}" unshare -n sh "${BENCH_NET_SH:-$(dirname "$0")/net.sh}" ||
		rec note "net: bench/net.sh failed in its network namespace (unshare -n needs root)"
fi

# ---- vsock: throughput and round trip (bench/vsock.sh) ------------------------
if has vsock; then
	env BENCH_KVMINI="$BENCH_KVMINI" BENCH_QEMU="$BENCH_QEMU" KERNEL="$KERNEL" \
		INITRD="$INITRD" T="${T:-/tmp}" BENCH_QEMU_CPU="$qemu_cpu" \
		KVMINI_APPEND="$KVMINI_APPEND" QEMU_APPEND="$QEMU_APPEND" \
		BENCH_VSOCK_RUNS="${BENCH_VSOCK_RUNS:-5}" BENCH_VSOCK_MIB="${BENCH_VSOCK_MIB:-64}" \
		BENCH_VSOCK_PINGS="${BENCH_VSOCK_PINGS:-1000}" BENCH_VSOCK_SIZE="${BENCH_VSOCK_SIZE:-64}" \
		BENCH_VSOCK_TIMEOUT="${BENCH_VSOCK_TIMEOUT:-300}" \
		BENCH_LIB="${BENCH_LIB:-$(dirname "$0")/lib.sh}" \
		sh "${BENCH_VSOCK_SH:-$(dirname "$0")/vsock.sh}" ||
		rec note "vsock: bench/vsock.sh failed"
fi

# ---- transports: kvmini mmio and pci, QEMU pci (bench/pci.sh) ---------------
# fio and iperf3 with exits and interrupts per request; a network namespace
# of its own, as bench/net.sh.
if has pci; then
	env BENCH_KVMINI="$BENCH_KVMINI" BENCH_QEMU="$BENCH_QEMU" \
		BENCH_IPERF3="${BENCH_IPERF3:-}" BENCH_TOOLS="$tools" KERNEL="$KERNEL" \
		INITRD="$INITRD" T="${T:-/tmp}" BENCH_QEMU_CPU="$qemu_cpu" \
		KVMINI_APPEND="$KVMINI_APPEND" QEMU_APPEND="$QEMU_APPEND" \
		BENCH_PCI_RUNS="${BENCH_PCI_RUNS:-3}" BENCH_PCI_RUNTIME="${BENCH_PCI_RUNTIME:-5}" \
		BENCH_PCI_SECS="${BENCH_PCI_SECS:-5}" BENCH_PCI_VMMS="${BENCH_PCI_VMMS:-}" \
		BENCH_PCI_FIGS="${BENCH_PCI_FIGS:-}" BENCH_PCI_TIMEOUT="${BENCH_PCI_TIMEOUT:-900}" \
		BENCH_LIB="${BENCH_LIB:-$(dirname "$0")/lib.sh}" unshare -n sh "${BENCH_PCI_SH:-$(dirname "$0")/pci.sh}" ||
		rec note "pci: bench/pci.sh failed in its network namespace (unshare -n needs root)"
fi

# ---- snapshots: exec from the cache, restore, its start rate and memory ------
# bench/snapshot.sh, sourced: it uses vmm(), check() and rate_cold above.
if has snapshot; then
	. "${BENCH_SNAPSHOT_SH:-$(dirname "$0")/snapshot.sh}"
fi

# ---- oci: podman run's start-up with kvmini oci, runc and crun ----------------
if has oci; then
	. "${BENCH_OCI_SH:-$(dirname "$0")/oci.sh}"
fi

rec done
