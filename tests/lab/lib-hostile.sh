# shellcheck shell=sh
# The hostile-guest scenarios' endless loops (tests/scenarios/hostile-blk,
# -tap and -user.sh, issue #17): a guest driver of its own
# (guests/tools/hostile.c) re-posts chains the device gives straight back;
# sigterm and timed check that kvmini still ends on time meanwhile.
# Sourced after lib.sh.

# SIGTERM must end kvmini within a second (issue #17). The allowance is
# TERM_LIMIT centiseconds: a second plus half of one for this outer VM,
# whose CPU QEMU emulates, while kvmini tears down a VM with a vCPU still
# spinning and the shell that measures shares the one emulated CPU. The
# rng, served by the same I/O thread as the loop, must answer each read
# within RNG_LIMIT ms, and --timeout fire within 2 s of its time.
TERM_LIMIT=${HOSTILE_TERM_LIMIT:-150}
RNG_LIMIT=${HOSTILE_RNG_LIMIT:-1000}

# cs: this machine's clock in centiseconds.
cs()
{
	awk '{ printf "%d\n", $1 * 100 }' /proc/uptime
}

alive()
{
	[ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]
}

# await NAME REGEX SECS: the console of kvmini $kpid matches REGEX.
await()
{
	i=0
	while ! grep -Eq -- "$2" "$T/$1.log" 2>/dev/null; do
		alive "$kpid" && [ $i -lt $(($3 * 5)) ] || return 1
		i=$((i + 1))
		sleep 0.2
	done
}

# reap SECS: waits for kvmini $kpid, killing it after SECS; sets rc.
reap()
{
	(sleep "$1"; kill -KILL "$kpid" 2>/dev/null) &
	wd=$!
	rc=0
	wait "$kpid" || rc=$?
	kill "$wd" 2>/dev/null
	[ $rc -ne 137 ] || echo "$name: kvmini still ran after $1 s: killed"
}

# short_log NAME: kvmini's stderr stays a few lines however long the loop.
short_log()
{
	n=$(wc -l <"$T/$1.err")
	[ "$n" -le 6 ] || fail "$1" "$n lines on stderr"
}

# sigterm NAME MODE [kvmini options]: the guest's MODE loop runs
# (tests/guest/hostile-loop.sh) and the rng still answers during it, each
# read within RNG_LIMIT; then SIGTERM ends kvmini with 143 within
# TERM_LIMIT. Sets reach: the seconds the guest took to start the loop.
sigterm()
{
	name=$1 mode=$2
	shift 2
	t0=$(cs)
	"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --timeout 200 \
		--console "file:$T/$name.log" "$@" \
		--cmdline "kvmini.script=hostile-loop kvmini.args=$mode" 2>"$T/$name.err" &
	kpid=$!
	if ! await "$name" "hostile: $mode loop running" 90; then
		reap 1
		fail "$name" "the $mode loop did not start"
		return 1
	fi
	t1=$(cs)
	reach=$(((t1 - t0 + 99) / 100))
	if ! await "$name" "hostile: rng: |the rng did not answer" 45; then
		reap 1
		fail "$name" "no word from the rng reader"
		return 1
	fi
	worst=$(tr -d '\r' <"$T/$name.log" | sed -n 's/^hostile: rng: .*, the longest \([0-9]*\) ms$/\1/p')
	tr -d '\r' <"$T/$name.log" | grep '^hostile: rng: ' | sed "s/^/$name: /"
	[ -n "$worst" ] && [ "$worst" -le "$RNG_LIMIT" ] ||
		fail "$name" "the longest rng read during the $mode loop took ${worst:-forever} ms"
	if grep -q "stopped taking" "$T/$name.log"; then
		fail "$name" "the device stopped taking the re-posted buffers"
	fi
	t2=$(cs)
	kill -TERM "$kpid"
	reap 10
	t3=$(cs)
	echo "$name: loop after $reach s; SIGTERM to exit $(((t3 - t2) * 10)) ms, status $rc"
	[ $rc -eq 143 ] || fail "$name" "exit status $rc after SIGTERM, expected 143"
	[ $((t3 - t2)) -le "$TERM_LIMIT" ] ||
		fail "$name" "SIGTERM took $(((t3 - t2) * 10)) ms, more than $((TERM_LIMIT * 10))"
	short_log "$name"
}

# timed NAME MODE [kvmini options]: the same loop, and --timeout (6 s
# more than sigterm's boot took to reach the loop) ends kvmini by itself
# with 124, within 2 s of its time, while the loop runs. A boot slower
# than that one (this outer VM's CPU is emulated, its host shared) gets
# one more try with twice the time.
timed()
{
	name=$1 mode=$2
	shift 2
	secs=$((${reach:-15} + 6))
	for try in 1 2; do
		t0=$(cs)
		"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --timeout "$secs" \
			--console "file:$T/$name.log" "$@" \
			--cmdline "kvmini.script=hostile-loop kvmini.args=$mode" 2>"$T/$name.err" &
		kpid=$!
		reap $((secs + 20))
		t1=$(cs)
		echo "$name: --timeout $secs: status $rc after $(((t1 - t0) / 100)) s"
		[ $rc -eq 124 ] && [ $try -eq 1 ] && ! grep -q "hostile: $mode loop running" "$T/$name.log" ||
			break
		echo "$name: the timeout came before the loop: again with --timeout $((secs * 2))"
		secs=$((secs * 2))
	done
	[ $rc -eq 124 ] || fail "$name" "exit status $rc, expected 124 (--timeout)"
	console "$name" "hostile: $mode loop running"
	[ $((t1 - t0)) -le $(((secs + 2) * 100)) ] ||
		fail "$name" "--timeout $secs ended it after $(((t1 - t0) / 100)) s"
	short_log "$name"
}
