# make bench's snapshot figures (issue 19; BENCH=snapshot): sourced by
# bench/bench.sh after its other parts, with its settings, vmm(), check()
# and bench/lib.sh's helpers. POSIX sh (busybox in the lab).
#
#   exec       `kvmini exec -- true`, fork → exit: cold (--no-snapshot)
#              against from the snapshot cache (one fresh --snapshot-dir,
#              its first run, the cache fill, left out), interleaved
#   restore    `kvmini run --restore DIR` of a guest snapshotted while it
#              ticks on its console (the test initramfs with
#              /tests/snapbench.sh, BENCH_SNAP_INITRD): fork → its first
#              console line (the guest running again), and → VMM exit (the
#              guest ends at the "stop" line vmmrun -I feeds its console)
#   rate       N restores of that snapshot, back to back then 2 at a time
#              (rate_rounds, as the cold boots'), beside QEMU's cold ones
#   memory     one restored VM, ticking: smaps as the boot part's memory
#              figure, guest RAM being the memory file's private mapping;
#              and BENCH_SNAP_SHARE restored VMs alive at once: for each,
#              the guest-RAM mapping's Rss, Pss, Shared_Clean,
#              Private_Clean, Private_Dirty (vmmrun -n)
# QEMU's cold boot to init and cold start rate are the ratios' peers: the
# boot part's when it ran, else measured here, interleaved.
#
# kvmini exec needs virtiofsd and a root to share: the build host's /
# (HOSTROOT, x86_64 lab; bench/run.sh makes this a HOSTROOT scenario),
# natively this host's own, as root.
#
# Records:
#   @@BENCH exec cold|warm|fill RUN status=N ... exit=S ...
#   @@BENCH restore kvmini 1 128 RUN status=N init=S idle=- exit=S kvmrun=S
#   @@BENCH rate restore J RUN n=N j=J wall=S ok=K
#   @@BENCH snapmem restore 1 128 RUN status=N ... rss_kib=... gpss_kib=...
#   @@BENCH snapshare N RUN vm=K init=S rss_kib=... gpss_kib=... gsc_kib=...
#   @@BENCH snapshare N RUN status=S1,S2,...

sn_runs=${BENCH_SNAP_RUNS:-5}
sn_share=${BENCH_SNAP_SHARE:-4}
sn_rate_n=${BENCH_RATE_N:-4}
sn_rate_rounds=${BENCH_RATE_ROUNDS:-2}
sn_mem_runs=${BENCH_MEM_RUNS:-3}
sn_initrd=${BENCH_SNAP_INITRD:-}
sn_kvctl=${BENCH_KVCTL:-$(command -v kvctl || echo "$(dirname "$INITRD")/kvctl")}
sn_dir=$scratch/snap
# Three lines: busybox's read -t loses a line it timed out in the middle
# of (tests/guest/snapshot.sh), the next one still ends the guest.
sn_stop='stop\nstop\nstop\n'
SNAP_LINE="snapbench "
SNAP_TICK="snapbench tick"

rec env snap_runs "$sn_runs"
rec env snap_share "$sn_share"
rec env snap_rate_n "$sn_rate_n"
rec env snap_rate_rounds "$sn_rate_rounds"

# ---- exec: cold against from a snapshot ---------------------------------------
# In the lab, vmmrun itself runs in the chroot of the build host's /, so
# that chroot(1) is not in the time; the outer VM's own files are at
# $OUTER there.
if [ "$mode" = lab ]; then
	sn_root=${HOSTROOT:-}
	sn_kernel=${OUTER:-}$KERNEL
	sn_kx=${OUTER:-}$BENCH_KVMINI
else
	sn_root=
	sn_kernel=$KERNEL
	sn_kx=$BENCH_KVMINI
fi

# sn_exec MODE PREFIX...: PREFIX and the exec of `true` (MODE cold or warm).
sn_exec()
{
	case $1 in
	cold) se_opt="--no-snapshot --snapshot-dir $sn_dir/exec-none" ;;
	*) se_opt="--snapshot-dir $sn_dir/exec-cache" ;;
	esac
	shift
	"$@" "$sn_kx" exec --kernel "$sn_kernel" \
		--mem 128M --cpus 1 --timeout "$run_timeout" $se_opt -- true
}

# sn_vmmrun ARGS...: vmmrun, in the lab inside the chroot.
sn_vmmrun()
{
	if [ "$mode" = lab ]; then
		chroot "$sn_root" "${OUTER:-}$BENCH_VMMRUN" "$@"
	else
		"$BENCH_VMMRUN" "$@"
	fi
}

mkdir -p "$sn_dir"
rm -rf "$sn_dir/exec-none" "$sn_dir/exec-cache"
sn_can_exec=1
if [ "$mode" = lab ] && [ -z "${HOSTROOT:-}" ]; then
	rec note "snapshot: no HOSTROOT (the build host's /) in this lab: no kvmini exec figures"
	sn_can_exec=0
elif [ ! -x "$sn_root/usr/lib/qemu/virtiofsd" ] || [ "$(id -u)" -ne 0 ]; then
	rec note "snapshot: kvmini exec needs root and $sn_root/usr/lib/qemu/virtiofsd: no exec figures"
	sn_can_exec=0
fi
rec cmd snap_exec_cold "$(sn_exec cold show)"
rec cmd snap_exec_warm "$(sn_exec warm show)"

# QEMU's cold boot to init, the exec ratio's peer, unless the boot part
# measured it in this run.
sn_qemu_boot()
{
	log=$scratch/snap-qemu-boot-$1.log
	line=$(vmm qemu 1 128 reboot "$BENCH_VMMRUN" -w "$INIT_LINE" \
		-p "$BENCH_SHIM" -t "$run_timeout" -l "$log" --)
	rec boot qemu 1 128 "$1" "$line"
	check boot qemu "$1" "$line" "$log" 0
}

if [ $sn_can_exec -eq 1 ]; then
	# The cache fill: a cold boot that saves the snapshot, not a figure.
	line=$(sn_exec warm sn_vmmrun -t "$run_timeout" -l "$scratch/snap-exec-fill.log" --)
	rec exec fill 0 "$line"
	case $line in
	"status=0 "*) ;;
	*) rec note "exec fill failed: $line"; tail -n 5 "$scratch/snap-exec-fill.log" |
		while IFS= read -r l; do rec note "  | $l"; done ;;
	esac
fi
i=1
while [ $i -le "$sn_runs" ]; do
	if [ $sn_can_exec -eq 1 ]; then
		for w in $(pair $i cold warm); do
			log=$scratch/snap-exec-$w-$i.log
			line=$(sn_exec $w sn_vmmrun -t "$run_timeout" -l "$log" --)
			rec exec $w $i "$line"
			case $line in
			"status=0 "*) ;;
			*) rec note "exec $w run $i failed: $line"; tail -n 5 "$log" |
				while IFS= read -r l; do rec note "  | $l"; done ;;
			esac
		done
	fi
	has boot || sn_qemu_boot $i
	i=$((i + 1))
done
[ ! -d "$sn_dir/exec-cache" ] ||
	rec env snap_exec_cache_kib "$(du -sk "$sn_dir/exec-cache" | cut -f1)"

# ---- the snapshot to restore --------------------------------------------------
# The guest ticks on its console; the control socket pauses it, writes
# the snapshot and stops it. Its standard input is /dev/null: no "stop"
# reaches it.
sn_snap=$sn_dir/vm
sn_ok=0

# sn_take [KVMINI OPTIONS]: boot the guest, snapshot it after its third
# tick; 0 when the snapshot is there.
sn_take()
{
	ctl=$sn_dir/ctl.sock
	rm -rf "$sn_snap" "$ctl"
	"$BENCH_KVMINI" run --kernel "$KERNEL" --initrd "$sn_initrd" \
		--mem 128M --cpus 1 --control "$ctl" --timeout "$run_timeout" "$@" \
		--cmdline "$KVMINI_APPEND kvmini.script=snapbench" \
		</dev/null >"$scratch/snap-orig.log" 2>&1 &
	orig=$!
	k=0
	while ! grep -q "^$SNAP_TICK 3" "$scratch/snap-orig.log" 2>/dev/null; do
		k=$((k + 1))
		[ $k -le $((run_timeout * 5)) ] && kill -0 $orig 2>/dev/null || break
		sleep 0.2
	done
	st_rc=1
	if grep -q "^$SNAP_TICK 3" "$scratch/snap-orig.log" &&
		"$sn_kvctl" "$ctl" '{"op":"pause"}' >"$scratch/snap-ctl.log" 2>&1 &&
		"$sn_kvctl" "$ctl" "{\"op\":\"snapshot\",\"path\":\"$sn_snap\"}" >>"$scratch/snap-ctl.log" 2>&1 &&
		[ -f "$sn_snap/memory" ]; then
		st_rc=0
	else
		rec note "snapshot: could not snapshot the ticking guest${1:+ ($*)}: $(tail -n 3 "$scratch/snap-ctl.log" 2>/dev/null | tr '\n' ' ')"
		tail -n 5 "$scratch/snap-orig.log" | while IFS= read -r l; do rec note "  | $l"; done
	fi
	"$sn_kvctl" "$ctl" '{"op":"stop"}' >/dev/null 2>&1 || kill $orig 2>/dev/null
	wait $orig 2>/dev/null
	return $st_rc
}

if [ -z "$sn_initrd" ] || [ ! -f "$sn_initrd" ] || [ ! -x "$sn_kvctl" ]; then
	rec note "snapshot: no snapbench initramfs ($sn_initrd) or no kvctl ($sn_kvctl): no restore figures"
else
	rec cmd snap_orig "$(show "$BENCH_KVMINI" run --kernel "$KERNEL" --initrd "$sn_initrd" \
		--mem 128M --cpus 1 --control CTL --cmdline "$KVMINI_APPEND kvmini.script=snapbench")"
	# Every VM keeps its seccomp filters. (Until 2cd81d3 the snapshot
	# thread's filter refused the clock_gettime system call the vDSO
	# falls back to off a TSC clock source, as in the two-CPU lab.)
	sn_take && sn_ok=1
	if [ $sn_ok -eq 1 ]; then
		rec env snap_state_bytes "$(wc -c <"$sn_snap/state")"
		rec env snap_memory_kib "$(du -k "$sn_snap/memory" | cut -f1)"
	fi
fi

# sn_restore PREFIX...: PREFIX (vmmrun and its options, without --), the
# "stop" lines for the guest's console, and the restore.
sn_restore()
{
	"$@" -I "$sn_stop" -- "$BENCH_KVMINI" run --restore "$sn_snap" --timeout "$run_timeout"
}
rec cmd snap_restore "$(show "$BENCH_KVMINI" run --restore "$sn_snap")  # stdin: stop"

# ---- restore → guest running again, → exit -----------------------------------
if [ $sn_ok -eq 1 ]; then
	i=1
	while [ $i -le "$sn_runs" ]; do
		log=$scratch/snap-restore-$i.log
		line=$(sn_restore "$BENCH_VMMRUN" -w "$SNAP_LINE" -p "$BENCH_SHIM" \
			-t "$run_timeout" -l "$log")
		rec restore kvmini 1 128 $i "$line"
		check restore kvmini $i "$line" "$log" 0
		i=$((i + 1))
	done
fi

# ---- start rate: restores against QEMU's cold boots --------------------------
# sn_rate WHO PREFIX...: one VM of a round: a restore that ends at once,
# or (qemu) the boot part's cold boot that reboots.
sn_rate()
{
	sr_v=$1
	shift
	case $sr_v in
	restore) sn_restore "$@" ;;
	*) rate_cold "$sr_v" "$@" ;;
	esac
}
if [ $sn_ok -eq 1 ]; then
	if has boot; then
		rate_rounds "$sn_rate_rounds" "$sn_rate_n" "$run_timeout" sn_rate restore
	else
		rate_rounds "$sn_rate_rounds" "$sn_rate_n" "$run_timeout" sn_rate restore qemu
	fi
fi

# ---- memory: one restored VM, and several sharing the snapshot -------------
if [ $sn_ok -eq 1 ]; then
	rec cmd snap_mem "$(show "$BENCH_KVMINI" run --restore "$sn_snap")  # stdin: /dev/null, ticking"
	i=1
	while [ $i -le "$sn_mem_runs" ]; do
		log=$scratch/snap-mem-$i.log
		line=$("$BENCH_VMMRUN" -w "$SNAP_LINE" -i "$SNAP_TICK" -s "$settle_ms" -m 128 \
			-f "$sn_snap/memory" -t "$run_timeout" -l "$log" -- \
			"$BENCH_KVMINI" run --restore "$sn_snap" --timeout "$run_timeout")
		rec snapmem restore 1 128 $i "$line"
		case $line in
		*rss_kib=[0-9]*) ;;
		*) check snapmem restore $i "$line" "$log" x ;;
		esac
		i=$((i + 1))
	done
	"$BENCH_VMMRUN" -n "$sn_share" -w "$SNAP_TICK" -s "$settle_ms" -m 128 \
		-f "$sn_snap/memory" -t "$run_timeout" -- \
		"$BENCH_KVMINI" run --restore "$sn_snap" --timeout "$run_timeout" |
		while IFS= read -r l; do rec snapshare "$sn_share" 1 "$l"; done
fi
