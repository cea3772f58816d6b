#!/bin/sh
# The exit census of `make bench` (BENCH=census; bench/bench.sh drives it):
# KVM's own view of one boot, from VM creation to the guest's /init, the
# same for kvmini and QEMU. POSIX sh and awk (busybox in the lab).
#
#   census.sh setup             mount debugfs and tracefs, size the trace
#                               buffer, enable the kvm events used below
#   census.sh start             empty the trace and start tracing
#   census.sh hook DIR          (vmmrun -x, at the init line, VM still up)
#                               stop tracing; KVM's per-VM statistics of
#                               $VMM_PID (debugfs kvm/PID-FD/) into DIR/stats
#   census.sh parse PREFIX DIR LOG
#                               records "@@BENCH census PREFIX ..." from the
#                               trace, DIR/stats and the guest's dmesg in LOG
#   census.sh off               disable the events, free the buffer
#
# Why a trace: kvm_exit gives every exit with its reason, handled in the
# kernel or not; kvm_pio/kvm_mmio/kvm_msr which port, address, MSR;
# kvm_userspace_exit → the next kvm_entry of the same thread is the time the
# VMM took for an exit; kvm_exit → kvm_entry the time out of the guest per
# reason (for hlt: the time halted); the first kvmclock MSR write is where
# the kernel proper starts (after firmware, boot loader, decompression).
# Trace time stamps are the outer kernel's clock (seconds).
set -u

trc=/sys/kernel/tracing
dbg=/sys/kernel/debug
EVENTS="kvm_exit kvm_entry kvm_userspace_exit kvm_pio kvm_mmio kvm_msr"

case ${1:-} in
setup)
	[ -d $dbg/kvm ] || mount -t debugfs debugfs $dbg 2>/dev/null
	[ -d $trc/events ] || mount -t tracefs tracefs $trc 2>/dev/null
	[ -d $trc/events/kvm ] || { echo "census: no kvm trace events in $trc"; exit 1; }
	echo 0 >$trc/tracing_on
	echo 65536 >$trc/buffer_size_kb
	echo global >$trc/trace_clock
	for e in $EVENTS; do
		echo 1 >"$trc/events/kvm/$e/enable" || exit 1
	done
	;;
start)
	echo 0 >$trc/tracing_on
	echo >$trc/trace
	echo 1 >$trc/tracing_on
	;;
hook)
	echo 0 >$trc/tracing_on
	: >"$2/stats"
	for d in "$dbg/kvm/$VMM_PID"-*; do
		[ -d "$d" ] || continue
		for f in "$d"/*; do
			[ -f "$f" ] || continue
			v=$(cat "$f" 2>/dev/null) || continue
			case $v in '' | *[!0-9]*) continue ;; esac
			[ "$v" = 0 ] || echo "${f##*/} $v" >>"$2/stats"
		done
	done
	;;
parse)
	p=$2 dir=$3 log=$4
	echo 0 >$trc/tracing_on
	awk -v p="$p" '
	function tid(    s) {
		# "comm-TID [CPU]": comm may hold spaces ("CPU 0/KVM").
		if (!match($0, /-[0-9]+ +\[[0-9]+\]/))
			return ""
		s = substr($0, RSTART + 1, RLENGTH)
		sub(/ .*/, "", s)
		return s
	}
	{
		ev = ""
		for (i = 1; i <= NF; i++)
			if ($i ~ /^kvm_[a-z_]+:$/) { ev = $i; break }
		if (ev == "")
			next
		ts = $(i - 1); sub(/:$/, "", ts); ts += 0
		if (first == "")
			first = ts
		last = ts
		t = tid()
		if (ev == "kvm_exit:") {
			for (j = i + 1; j < NF; j++)
				if ($j == "reason") { r = $(j + 1); break }
			n_exit[r]++
			nexits++
			ex_r[t] = r; ex_t[t] = ts
		} else if (ev == "kvm_entry:") {
			if (t in ex_t) {
				us_exit[ex_r[t]] += (ts - ex_t[t]) * 1e6
				delete ex_t[t]
			}
			if (t in ux_t) {
				us_user[ux_r[t]] += (ts - ux_t[t]) * 1e6
				delete ux_t[t]
			}
		} else if (ev == "kvm_userspace_exit:") {
			r = $(i + 2)
			n_user[r]++
			ux_r[t] = r; ux_t[t] = ts
		} else if (ev == "kvm_pio:") {
			# pio_write at 0x3f8 size 1 count 1 val 0x41
			d = $(i + 1); sub(/^pio_/, "", d)
			n_pio[$(i + 3) " " d]++
		} else if (ev == "kvm_mmio:") {
			# mmio write len 4 gpa 0xd0000000 val 0x0
			for (j = i + 1; j < NF; j++)
				if ($j == "gpa") { a = $(j + 1); break }
			n_mmio[a " " $(i + 2)]++
		} else if (ev == "kvm_msr:") {
			# msr_write 6e0 = 0x...
			d = $(i + 1); sub(/^msr_/, "", d)
			n_msr["0x" $(i + 2) " " d]++
			# The kernel proper registers kvmclock early in setup_arch:
			# firmware, boot loader and decompression come before.
			if (kclock == "" && d == "write" && $(i + 2) ~ /^4b564d0[01]$/)
				kclock = ts
		}
	}
	END {
		printf "@@BENCH census %s trace exits=%d span=%.6f kernel_at=%s\n", p, nexits, last - first,
			kclock == "" ? "-" : sprintf("%.6f", kclock - first)
		for (r in n_exit)
			printf "@@BENCH census %s exit %s n=%d us=%.0f\n", p, r, n_exit[r], us_exit[r]
		for (r in n_user)
			printf "@@BENCH census %s user %s n=%d us=%.0f\n", p, r, n_user[r], us_user[r]
		for (k in n_pio)
			printf "@@BENCH census %s pio %s n=%d\n", p, k, n_pio[k]
		for (k in n_mmio)
			printf "@@BENCH census %s mmio %s n=%d\n", p, k, n_mmio[k]
		for (k in n_msr)
			printf "@@BENCH census %s msr %s n=%d\n", p, k, n_msr[k]
	}' $trc/trace
	[ -f "$dir/stats" ] && while read -r k v; do
		echo "@@BENCH census $p stat $k n=$v"
	done <"$dir/stats"
	# What the guest wrote on its console before /init (quiet: warnings
	# and errors only), and its whole dmesg, for the raw records.
	tr -d '\r' <"$log" | sed -n '/kvmini-guest: init/q; p' | head -n 60 |
		while IFS= read -r l; do echo "@@BENCH census $p console $l"; done
	tr -d '\r' <"$log" | sed -n '/^census: dmesg$/,/^census: end$/p' |
		sed -n 's/^\[ *\([0-9]*\.[0-9]*\)\] \(.*\)$/\1 \2/p' |
		while IFS= read -r l; do echo "@@BENCH census $p dmesg $l"; done
	# The guest's printk timeline: its dmesg, which /tests/census.sh
	# prints after /init started (between two markers). Milestones by
	# their first line, and the largest gaps between consecutive lines.
	tr -d '\r' <"$log" | sed -n '/^census: dmesg$/,/^census: end$/p' |
		sed -n 's/^\[ *\([0-9]*\.[0-9]*\)\] \(.*\)$/\1 \2/p' | awk -v p="$p" '
	function ms(key, re) {
		if (!(key in at) && $0 ~ re)
			at[key] = $1
	}
	{
		ms("kvmclock", "kvm-clock: Using|clocksource: kvm-clock")
		ms("tsc", "tsc: (Detected|Fast TSC|Marking|Unable)")
		ms("calibrate", "Calibrating delay loop")
		ms("apic", "APIC: Switch|TSC deadline timer|APIC timer")
		ms("smp_start", "smp: Bringing up secondary CPUs")
		ms("smp_done", "smp: Brought up")
		ms("devtmpfs", "devtmpfs: initialized")
		ms("clocksource", "clocksource: Switched to clocksource")
		ms("apic_fail", "APIC timer disabled")
		ms("initrd_done", "Freeing initrd memory|rootfs image")
		ms("serial", "Serial: 8250/16550")
		ms("virtio", "virtio")
		ms("freeing", "Freeing unused kernel")
		ms("run_init", "Run /init as init process")
		if (nl++ && $1 - prev > 0) {
			g = $1 - prev
			line = $0; sub(/^[^ ]+ /, "", line)
			gsub(/[^ -~]/, "?", line)
			gaps[nl] = sprintf("%.6f %.6f %s", g, $1, substr(line, 1, 90))
		}
		prev = $1
	}
	END {
		for (k in at)
			printf "@@BENCH census %s printk %s t=%s\n", p, k, at[k]
		printf "@@BENCH census %s printk last t=%s\n", p, prev
		# The 8 largest gaps (the line after each), no sort(1) needed.
		for (r = 1; r <= 8; r++) {
			best = ""; bg = -1
			for (k in gaps) {
				split(gaps[k], f, " ")
				if (f[1] + 0 > bg) { bg = f[1] + 0; best = k }
			}
			if (best == "")
				break
			printf "@@BENCH census %s gap %s\n", p, gaps[best]
			delete gaps[best]
		}
	}'
	;;
off)
	echo 0 >$trc/tracing_on
	for e in $EVENTS; do
		echo 0 >"$trc/events/kvm/$e/enable"
	done
	echo 1408 >$trc/buffer_size_kb
	;;
*)
	echo "usage: census.sh setup|start|hook DIR|parse PREFIX DIR LOG|off" >&2
	exit 2
	;;
esac
