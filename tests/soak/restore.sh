#!/bin/bash
# make soak, part 0 (docs/soak.md): N restores in a row from one snapshot
# of the tiny guest (tests/native/tiny.S, tiny=c: it ticks on the UART),
# on this host's own KVM. The snapshot is taken once through the control
# socket (2 vCPUs, a 16 MiB disk, the rng); every restore runs about a
# second, then ends by --timeout (exit status 124), with a control
# socket of its own. Checked:
#  - every restore ends with 124 and ticks, and never boots afresh (no
#    "hello": the ticks come from the saved vCPU, memory and UART);
#  - kvmini's open descriptors (/proc/PID/fd, counted while it runs, once
#    it ticks; a run that ticks too late is not counted, five of each ten
#    must be) are the same over the last ten restores as over the first
#    ten, and its peak RSS (GNU time) over the last ten is within 10 % of
#    the first ten's;
#  - nothing is left behind: no control socket after any restore, the
#    snapshot unchanged (restores map its memory copy-on-write), no other
#    file in the scratch directory.
# usage: tests/soak/restore.sh KVMINI TINY_ELF [N]
set -u

kvmini=$(realpath "$1")
tiny=$(realpath "$2")
n=${3:-100}
case $n in '' | *[!0-9]*) echo "soak-restore: N is a whole number" >&2; exit 2 ;; esac
command -v socat >/dev/null || { echo "soak-restore: SKIPPED: needs socat"; exit 0; }
[ -x /usr/bin/time ] || { echo "soak-restore: SKIPPED: needs /usr/bin/time (GNU time)"; exit 0; }
T=$(mktemp -d /tmp/kvmini-soak-restore.XXXXXX)
trap 'rm -rf "$T"' EXIT
S=$T/snap

die() {
	echo "soak-restore: FAILED: $*"
	for f in "$T"/*.err; do [ -s "$f" ] && sed "s|^|    $(basename "$f"): |" "$f" | head -5; done
	exit 1
}
ctl() { printf '%s\n' "$2" | timeout 20 socat -t 15 - "UNIX-CONNECT:$1" 2>/dev/null; }
# max LIST: the largest number in LIST.
max() { printf '%s\n' "$@" | sort -n | tail -n 1; }

# ---- the snapshot ------------------------------------------------------------
truncate -s 16M "$T/disk.img"
"$kvmini" run --kernel "$tiny" --cmdline tiny=c --cpus 2 --disk "$T/disk.img" \
	--timeout 60 --console "file:$T/orig.con" --control "$T/orig.sock" \
	2>"$T/orig.err" </dev/null &
vm=$!
for _ in $(seq 200); do
	[ "$(stat -c %s "$T/orig.con" 2>/dev/null || echo 0)" -gt 24 ] && break
	sleep 0.05
done
[ "$(ctl "$T/orig.sock" '{"op":"pause"}')" = '{"ok":true,"state":"paused"}' ] || die "pause refused"
r=$(ctl "$T/orig.sock" "{\"op\":\"snapshot\",\"path\":\"$S\"}")
[ "$r" = "{\"ok\":true,\"path\":\"$S\"}" ] || die "snapshot: reply '$r'"
ctl "$T/orig.sock" '{"op":"stop"}' >/dev/null
wait $vm || die "the snapshotted VM ended with $?, expected 0 after stop"
sum0=$(cat "$S/state" "$S/memory" | sha256sum)
rm -f "$T/orig.con" "$T/orig.err"

# ---- N restores ----------------------------------------------------------------
fds_first= fds_last= rss_first= rss_last= bad=0 unsampled=0 t0=$(date +%s)
for i in $(seq "$n"); do
	rm -f "$T/r.con"
	/usr/bin/time -f %M -o "$T/r.rss" "$kvmini" run --restore "$S" --timeout 1 \
		--console "file:$T/r.con" --control "$T/r.sock" 2>"$T/r.err" </dev/null &
	tpid=$!
	# kvmini is GNU time's only child; its descriptors once it ticks.
	fds=
	for _ in $(seq 100); do
		kpid=$(cat "/proc/$tpid/task/$tpid/children" 2>/dev/null | tr -d ' ')
		if [ -n "$kpid" ] && grep -q tick "$T/r.con" 2>/dev/null; then
			fds=$(ls "/proc/$kpid/fd" 2>/dev/null | wc -l)
			break
		fi
		sleep 0.02
	done
	wait $tpid
	rc=$?
	why=
	if [ $rc != 124 ]; then why="exit status $rc, expected 124"
	elif ! grep -q tick "$T/r.con" || grep -q hello "$T/r.con"; then why="console '$(head -c 80 "$T/r.con")': no ticks, or a fresh boot"
	elif [ -e "$T/r.sock" ]; then why="its control socket is still there"
	fi
	if [ -n "$why" ]; then
		bad=$((bad + 1))
		[ $bad -gt 1 ] || { first_bad="restore $i: $why"; cp "$T/r.err" "$T/first.err"; }
		continue
	fi
	rss=$(tail -n 1 "$T/r.rss")
	[ "$i" -le 10 ] && rss_first="$rss_first $rss"
	[ "$i" -gt $((n - 10)) ] && rss_last="$rss_last $rss"
	# On a loaded host the first tick may come too late in the run's
	# second to count its descriptors: such a run is not counted.
	if [ -z "$fds" ] || [ "$fds" = 0 ]; then
		unsampled=$((unsampled + 1))
		continue
	fi
	[ "$i" -le 10 ] && fds_first="$fds_first $fds"
	[ "$i" -gt $((n - 10)) ] && fds_last="$fds_last $fds"
done
secs=$(($(date +%s) - t0))
rm -f "$T/r.con" "$T/r.rss" "$T/r.err"

# ---- the verdict -----------------------------------------------------------------
# shellcheck disable=SC2086
{
	f1=$(max $fds_first) f2=$(max $fds_last) m1=$(max $rss_first) m2=$(max $rss_last)
	d1=$(printf '%s\n' $fds_first | sort -un | tr '\n' ' ') d2=$(printf '%s\n' $fds_last | sort -un | tr '\n' ' ')
}
echo "soak-restore: $n restores in $secs s; descriptors while running ${d1:-?}(first 10), ${d2:-?}(last 10); peak RSS ${m1:-?} KiB (first 10), ${m2:-?} KiB (last 10); $unsampled runs ticked too late to count"
[ $bad -eq 0 ] || die "$bad of $n restores failed; the first: $first_bad: $(head -n 1 "$T/first.err" 2>/dev/null)"
# At least five counts in each group of ten.
[ "$(echo $fds_first | wc -w)" -ge 5 ] && [ "$(echo $fds_last | wc -w)" -ge 5 ] ||
	die "too few descriptor counts: '$fds_first' (first 10), '$fds_last' (last 10); $unsampled runs ticked too late"
[ "$f1" = "$f2" ] && [ "$(echo $d1)" = "$(echo $d2)" ] || die "kvmini's descriptors went from ${f1:-?} to ${f2:-?}"
[ -n "$m1" ] && [ -n "$m2" ] && [ "$m2" -le $((m1 + m1 / 10)) ] || die "kvmini's peak RSS grew from ${m1:-?} to ${m2:-?} KiB"
[ "$(cat "$S/state" "$S/memory" | sha256sum)" = "$sum0" ] || die "the snapshot changed under the restores"
left=$(cd "$T" && ls -A | tr '\n' ' ')
[ "$left" = "disk.img snap " ] || die "left in the scratch directory: $left"
left=$(cd "$S" && ls -A | tr '\n' ' ')
[ "$left" = "memory state " ] || die "left in the snapshot: $left"
echo "soak-restore: passed"
