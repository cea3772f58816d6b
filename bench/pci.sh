#!/bin/sh
# make bench's transport figures (BENCH=pci, issue 21): the same guest
# (tests/guest/pci-bench.sh) with 2 vCPUs and 512 MiB under
#   kvmini-mmio   kvmini --transport mmio
#   kvmini-pci    kvmini --transport pci (virtio-pci modern, MSI-X)
#   qemu-pci      QEMU q35 (qboot, no ACPI: the kernel has none and finds
#                 the bus through conf1), virtio-*-pci with disable-legacy=on
# interleaved (the order rotates run by run), each with a bench disk (an
# image file here, through this side's page cache), the tools disk and a
# NIC on one tap. Per boot: fio 4k randread at queue depth 1 and 32 and
# 1M sequential read, iperf3 guest to host and host to guest; for each
# figure the guest's interrupts and requests (its own counts) and KVM's
# per-VM statistics (debugfs kvm/PID-FD/, census.sh's source) over the
# same window: exits per request, and by kind; first, RUNTIME seconds of
# an idle guest (idle): the exits per second there are without I/O, which
# each figure's window also holds for about a second. bench/bench.sh runs this
# inside a network namespace of its own (unshare -n).
#
# Records on standard output:
#   @@BENCH pci VMM FIG RUN value=V          (IOPS; MiB/s for read-1m;
#                                             Mbit/s for g2h and h2g)
#   @@BENCH pciirq VMM FIG RUN irqs=N reqs=N secs=S lines=NAME:N,...
#   @@BENCH pcikvm VMM FIG RUN exits=N io_exits=N ... (deltas)
#   @@BENCH pciinfo VMM RUN blk_queues=N blk_lines=... net_lines=...
#   @@BENCH pciblk VMM RUN TEXT              (kvmini: the bench disk's
#                                             counters over the whole boot,
#                                             --verbose, virtio/blk.c)
#   @@BENCH pcitrace VMM FIG RUN KIND ...     (the figures in BENCH_PCI_TRACE,
#                                             idle by default: census.sh's
#                                             trace of the window, exits by
#                                             reason, ports, MMIO, MSRs)
#   @@BENCH env|cmd|note ...
set -u

: "${BENCH_KVMINI:?}" "${BENCH_QEMU:?}" "${BENCH_IPERF3:?}" "${KERNEL:?}" "${INITRD:?}"
: "${BENCH_TOOLS:?}" "${KVMINI_APPEND?}" "${QEMU_APPEND:?}"
qemu_cpu=${BENCH_QEMU_CPU:-host}
runs=${BENCH_PCI_RUNS:-3}
rt=${BENCH_PCI_RUNTIME:-5}
secs=${BENCH_PCI_SECS:-5}
# BENCH_PCI_VMMS and BENCH_PCI_FIGS pick some (for a quicker look).
# kvmini-mmio-base and kvmini-pci-base, in BENCH_PCI_VMMS, run another
# kvmini, BENCH_PCI_BASE (default: the lab's own, $KVMINI, which is
# bench/run.sh's --static): an A/B of two builds in one run.
vmms=${BENCH_PCI_VMMS:-kvmini-mmio kvmini-pci qemu-pci}
figs=${BENCH_PCI_FIGS:-idle randread-4k-qd1 randread-4k-qd32 read-1m g2h h2g}
mib=${BENCH_PCI_MIB:-256}
# Figures whose window is traced (kvm_exit and friends, census.sh): only
# where the trace's cost does not matter, an idle guest by default.
trace_figs=${BENCH_PCI_TRACE-idle}
census=${BENCH_CENSUS_SH:-$(dirname "$0")/census.sh}
boot_timeout=${BENCH_PCI_TIMEOUT:-900}
scratch=${T:-/tmp}/bench
mkdir -p "$scratch"
img=$scratch/pci.img
dbg=/sys/kernel/debug

TAP=benchtap0
MAC=52:54:00:12:34:56
# KVM's statistics recorded per figure (debugfs names; deltas).
STATS="exits io_exits mmio_exits halt_exits irq_exits irq_window_exits request_irq_exits signal_exits irq_injections halt_wakeup insn_emulation"

. "${BENCH_LIB:-$(dirname "$0")/lib.sh}"

# The machine's own kernel arguments stay; QEMU's pci=off goes (q35's
# bus is the point), its UART console and reboot=t stay.
QEMU_PCI_APPEND=$(echo " $QEMU_APPEND " | sed 's/ pci=off / /; s/^ //; s/ $//')

# pci_vmm VMM PREFIX...: PREFIX and VMM's command line.
pci_vmm()
{
	v=$1
	shift
	args="kvmini.script=pci-bench kvmini.args=$rt,$secs,$(echo $figs | tr ' ' ',')"
	k=$BENCH_KVMINI
	case $v in
	*-base) k=${BENCH_PCI_BASE:-${KVMINI:-}} v=${v%-base} ;;
	esac
	case $v in
	kvmini-mmio | kvmini-pci)
		"$@" "$k" run --verbose --kernel "$KERNEL" --initrd "$INITRD" \
			--mem 512M --cpus 2 --timeout "$boot_timeout" --transport "${v#kvmini-}" \
			--disk "$img,serial=bench" --disk "$BENCH_TOOLS,ro,serial=tools" \
			--net "tap=$TAP,mac=$MAC" --cmdline "$KVMINI_APPEND $args"
		;;
	qemu-pci)
		"$@" "$BENCH_QEMU" -nodefaults -no-user-config -enable-kvm \
			-cpu "$qemu_cpu" -M q35,sata=off,smbus=off -bios qboot.rom \
			-m 512M -smp 2 -display none -no-reboot -serial stdio \
			-device virtio-rng-pci,disable-legacy=on \
			-drive "id=bench,file=$img,format=raw,if=none,aio=io_uring,cache=writeback" \
			-device virtio-blk-pci,drive=bench,serial=bench,disable-legacy=on \
			-drive "id=tools,file=$BENCH_TOOLS,format=raw,if=none,readonly=on,aio=io_uring" \
			-device virtio-blk-pci,drive=tools,serial=tools,disable-legacy=on \
			-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off" \
			-device "virtio-net-pci,netdev=n0,mac=$MAC,disable-legacy=on,romfile=" \
			-kernel "$KERNEL" -initrd "$INITRD" -append "$QEMU_PCI_APPEND $args"
		;;
	esac
}

# order RUN: the VMMs, rotated by one run by run (A B C, B C A, C A B).
order()
{
	o_k=$(($1 - 1))
	set -- $vmms
	o_k=$((o_k % $#))
	while [ $o_k -gt 0 ]; do
		o_x=$1
		shift
		set -- "$@" "$o_x"
		o_k=$((o_k - 1))
	done
	echo "$@"
}

# snap PID FILE: KVM's statistics of PID's VM into FILE ("NAME VALUE").
snap()
{
	: >"$2"
	for sd in "$dbg/kvm/$1"-*; do
		[ -d "$sd" ] || continue
		for s in $STATS; do
			[ -r "$sd/$s" ] && echo "$s $(cat "$sd/$s")" >>"$2"
		done
		return 0
	done
}

# delta A B: "NAME=B-A ..." over STATS.
delta()
{
	awk 'NR == FNR { a[$1] = $2; next }
		{ printf "%s%s=%d", n++ ? " " : "", $1, $2 - a[$1] }' "$1" "$2"
}

# traced FIG: whether FIG's window is traced.
traced()
{
	[ -n "$tracing" ] && case " $trace_figs " in *" $1 "*) true ;; *) false ;; esac
}

# trace_mark begin|end "VMM FIG RUN": the trace on at a window's begin mark;
# at its end off, and its records out.
trace_mark()
{
	case $1 in
	begin) sh "$census" start ;;
	end)
		sh "$census" parse pci "$scratch/none" /dev/null |
			sed -n "s/^@@BENCH census pci /@@BENCH pcitrace $2 /p"
		;;
	esac
}

# pci_run VMM RUN: one boot; the host reads KVM's statistics at each of the
# guest's marks, runs the h2g client when the guest serves.
pci_run()
{
	v=$1 i=$2
	log=$scratch/pci-$v-$i.log
	d=$scratch/pci-$v-$i
	rm -rf "$d"
	mkdir -p "$d"
	: >"$log"
	# exec: $! is the VMM itself, whose PID names its debugfs directory.
	(pci_vmm "$v" exec) >"$log" 2>&1 </dev/null &
	pid=$!
	(sleep "$boot_timeout"; kill "$pid" 2>/dev/null) &
	dog=$!
	seen=0
	h2g=
	while :; do
		alive=0
		kill -0 "$pid" 2>/dev/null && alive=1
		# Whole lines only: a mark caught half written would match as
		# another figure's, and the whole one would never be seen.
		tr -d '\r' <"$log" >"$d/now"
		[ -z "$(tail -c 1 "$d/now")" ] || sed -i '$d' "$d/now"
		grep -E '^pci-bench (mark (begin|end) [a-z0-9-]+|serving)$' "$d/now" >"$d/marks"
		n=$(wc -l <"$d/marks")
		while [ "$seen" -lt "$n" ]; do
			seen=$((seen + 1))
			m=$(sed -n "${seen}p" "$d/marks")
			case $m in
			"pci-bench mark "*)
				set -- $m
				[ $alive -eq 1 ] && snap "$pid" "$d/$3-$4"
				traced "$4" && trace_mark "$3" "$v $4 $i"
				;;
			"pci-bench serving")
				snap "$pid" "$d/h2g-host0"
				if "$BENCH_IPERF3" -c 10.0.99.2 -p 5201 -t "$secs" -f m >"$log.h2g" 2>&1; then
					h2g=$(awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }' "$log.h2g" | tail -n 1)
				else
					rec note "pci $v h2g run $i: $(tail -n 1 "$log.h2g")"
				fi
				snap "$pid" "$d/h2g-host1"
				;;
			esac
		done
		[ $alive -eq 1 ] || break
		sleep 0.2
	done
	kill "$dog" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q '^pci-bench done' "$log"; then
		rec note "pci $v run $i ended with $rc"
		tr -d '\r' <"$log" | grep -v '^\[' | tail -n 5 | while IFS= read -r l; do
			rec note "  | $l"
		done
	fi
	tr -d '\r' <"$log" | sed -n 's/^pci-bench info //p' | head -n 1 |
		while read -r l; do rec pciinfo "$v" "$i" "$l"; done
	# The bench disk is the first: blk0.
	tr -d '\r' <"$log" | sed -n 's/^kvmini: virtio blk0: //p' |
		while read -r l; do rec pciblk "$v" "$i" "$l"; done
	for fig in $figs; do
		case $fig in
		idle) val=- ;;
		g2h) val=$(tr -d '\r' <"$log" | sed -n "s/^pci-bench g2h mbps=\([0-9.]*\)$/\1/p" | tail -n 1) ;;
		h2g) val=$h2g ;;
		*)
			# fio's terse v3: read IOPS field 8, read KiB/s field 7.
			val=$(tr -d '\r' <"$log" | sed -n "s/^pci-bench $fig //p" | tail -n 1 |
				awk -F';' -v fig="$fig" 'NF > 49 { print fig ~ /-1m$/ ? sprintf("%.1f", $7 / 1024) : $8 }')
			;;
		esac
		if [ "$val" = - ]; then
			:
		elif [ -n "$val" ]; then
			rec pci "$v $fig $i value=$val"
		else
			rec note "pci $v $fig run $i: no figure"
		fi
		tr -d '\r' <"$log" | sed -n "s/^pci-bench-irq $fig \(irqs=.*\)$/\1/p" | tail -n 1 |
			while read -r l; do rec pciirq "$v $fig $i $l"; done
		# The host's own window for h2g (its client), the marks for the rest.
		a=$d/begin-$fig b=$d/end-$fig
		[ "$fig" != h2g ] || { a=$d/h2g-host0 b=$d/h2g-host1; }
		if [ -s "$a" ] && [ -s "$b" ]; then
			rec pcikvm "$v $fig $i $(delta "$a" "$b")"
		else
			rec note "pci $v $fig run $i: no KVM statistics (debugfs kvm/$pid-*)"
		fi
	done
}

[ -x "$BENCH_IPERF3" ] || { rec note "pci: no iperf3 ($BENCH_IPERF3): no pci figures"; exit 0; }
[ -f "$BENCH_TOOLS" ] || { rec note "pci: no tools.img ($BENCH_TOOLS): no pci figures"; exit 0; }
[ -d $dbg/kvm ] || mount -t debugfs debugfs $dbg 2>/dev/null
[ -d $dbg/kvm ] || rec note "pci: no debugfs kvm/ at $dbg: no exit counts"
tracing=
if [ -n "$trace_figs" ]; then
	if sh "$census" setup >"$scratch/trace-setup.log" 2>&1; then
		tracing=1
	else
		rec note "pci: no trace of $trace_figs: $(tail -n 1 "$scratch/trace-setup.log")"
	fi
fi

ip link set lo up
if ! { tunctl -t $TAP >/dev/null 2>&1 || ip tuntap add $TAP mode tap; } ||
	! ip addr add 10.0.99.1/24 dev $TAP || ! ip link set $TAP up; then
	rec note "pci: cannot set up the tap $TAP: no pci figures"
	exit 0
fi
"$BENCH_IPERF3" -s -p 5201 >"$scratch/pci-iperf3-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$img"; [ -z "$tracing" ] || sh "$census" off' EXIT
# Written through, not sparse: every read finds data.
dd if=/dev/urandom of="$img" bs=1M count="$mib" 2>/dev/null

rec env pci_runs "$runs"
rec env pci_runtime_s "$rt"
rec env pci_net_secs "$secs"
rec env pci_image_mib "$mib"
rec env pci_figs "$(echo $figs | tr ' ' ',')"
for v in $vmms; do
	rec cmd "pci_$v" "$(pci_vmm $v show)"
done

i=1
while [ "$i" -le "$runs" ]; do
	for v in $(order "$i"); do
		pci_run "$v" "$i"
	done
	i=$((i + 1))
done
