#!/bin/sh
# kvmini exec's snapshot cache (docs/exec.md): one job with a share run
# cold without the cache, cold saving its snapshot, then twice restored:
# stdout, stderr, status and the share's writes alike each time, and the
# two restores draw different random numbers; --verbose says which way a
# job started; two cold execs of one shape at once both run their job and
# leave one whole snapshot, and neither prints a line; a corrupted entry
# costs one warning and a cold boot that replaces it; with a bound of two
# entries a third shape evicts the least recently used, and
# --clear-snapshots empties the cache. On the build host's / (HOSTROOT),
# as exec-host.
# lab-timeout: 800
. "$LIB"
. "${LIB%/*}/lib-exec.sh"

exec_on_host exec-snapshot
# No default cache: every run here names its own.
export XDG_CACHE_HOME="$T/nocache"

# The job: both streams, the host's /, the share (written), its working
# directory, a status; its random numbers go to the share.
S=$T/snap
mkdir -p "$T/m"
job='echo out; echo err >&2; cat /etc/debian_version; echo $0 >>/m/log;
	od -An -N16 -tx1 /dev/urandom >/m/rand.$0; pwd; exit 3'
expect="out\n$(cat "$HOSTROOT/etc/debian_version")\n/m\n"

hrun nosnap 3 --no-snapshot --snapshot-dir "$S" --share "$T/m:/m" -- sh -c "$job" nosnap &&
	is nosnap out "$expect" && is nosnap err 'err\n'
[ -z "$(ls "$S" 2>/dev/null)" ] && echo "nosnap: nothing written to the cache" ||
	fail nosnap "--no-snapshot wrote $(ls "$S")"
read -r t0 _ </proc/uptime
hrun cold 3 --snapshot-dir "$S" --share "$T/m:/m" -- sh -c "$job" cold && same nosnap cold
echo "startup: cold boot saving a snapshot took $(secs_since "$t0") s"
n=$(ls "$S" | grep -c '^[0-9a-f]*$')
[ "$n" -eq 1 ] && [ "$(ls "$S" | grep -c '^[0-9a-f]*\.key$')" -eq 1 ] &&
	echo "cold: one snapshot and its key in the cache" || fail cold "cache holds: $(ls "$S" | tr '\n' ' ')"
read -r t0 _ </proc/uptime
hrun warm 3 --snapshot-dir "$S" --share "$T/m:/m" -- sh -c "$job" warm && same nosnap warm
echo "startup: from the snapshot took $(secs_since "$t0") s"
hrun warm2 3 --snapshot-dir "$S" --share "$T/m:/m" -- sh -c "$job" warm2 && same nosnap warm2
[ "$(cat "$T/m/log")" = "$(printf 'nosnap\ncold\nwarm\nwarm2')" ] &&
	echo "warm: the share took every job's write" || fail warm "share log '$(cat "$T/m/log")'"
if [ -s "$T/m/rand.warm" ] && ! cmp -s "$T/m/rand.warm" "$T/m/rand.warm2"; then
	echo "rand: two restores of one snapshot drew different random numbers"
else
	fail rand "both restores read '$(cat "$T/m/rand.warm")'"
fi

# --verbose (a key of its own: its kernel command line differs) says
# which way the job started.
V=$T/snapv
hrun verbose-cold 0 --verbose --snapshot-dir "$V" -- true &&
	stderr verbose-cold "exec: cold boot \\(snapshot saved to $V/"
hrun verbose-warm 0 --verbose --snapshot-dir "$V" -- true &&
	stderr verbose-warm "exec: from snapshot $V/"

# A corrupted entry: one warning, a cold boot, the job as ever, and the
# entry replaced by a whole one.
for st in "$S"/*/state; do
	printf 'garbage!' | dd of="$st" bs=1 seek=64 conv=notrunc 2>/dev/null
done
hrun corrupt 3 --snapshot-dir "$S" --share "$T/m:/m" -- sh -c "$job" corrupt &&
	is corrupt out "$expect" &&
	stderr corrupt "cannot be restored: booting cold and replacing it" &&
	{ [ "$(grep -c . "$T/corrupt.err")" -eq 2 ] && echo "corrupt: one warning line (and the job's)" ||
		fail corrupt "stderr is not one warning and the job's line"; }
if [ "$(ls "$S" | grep -c '^[0-9a-f]*$')" -eq 1 ] &&
	! dd if="$(ls -d "$S"/*/ | head -n 1)state" bs=1 skip=64 count=8 2>/dev/null | grep -q 'garbage!'; then
	echo "corrupt: the entry was replaced"
else
	fail corrupt "cache holds: $(ls "$S" | tr '\n' ' ')"
fi

# Two cold execs of one shape at once: both jobs run, one snapshot stays,
# nothing half-written is left.
C=$T/snapc
for i in 1 2; do
	kx "$KX" exec --kernel "$K" --timeout 200 --snapshot-dir "$C" -- echo "job $i" \
		>"$T/conc$i.out" 2>"$T/conc$i.err" </dev/null &
done
wait
if [ "$(cat "$T/conc1.out")" = "job 1" ] && [ "$(cat "$T/conc2.out")" = "job 2" ]; then
	echo "concurrent: both jobs ran"
else
	fail concurrent "outputs '$(cat "$T/conc1.out")' '$(cat "$T/conc2.out")': $(cat "$T/conc1.err" "$T/conc2.err")"
fi
[ "$(ls "$C" | grep -c .)" -eq 2 ] && [ "$(ls "$C" | grep -c '^[0-9a-f]*\.key$')" -eq 1 ] &&
	echo "concurrent: one snapshot, nothing half-written" ||
	fail concurrent "cache holds: $(ls "$C" | tr '\n' ' ')"
# The one that did not save says nothing about it.
[ ! -s "$T/conc1.err" ] && [ ! -s "$T/conc2.err" ] && echo "concurrent: no error line" ||
	fail concurrent "stderr: $(cat "$T/conc1.err" "$T/conc2.err")"

# Eviction: with a bound of 2 entries, shapes A and B saved, A used
# again, then a third shape C evicts the least recently used, B.
E=$T/snape
hrun evict-a 0 --snapshot-dir "$E" --snapshot-max-entries 2 --mem 256M -- true &&
	hrun evict-b 0 --snapshot-dir "$E" --snapshot-max-entries 2 --mem 320M -- true &&
	hrun evict-a2 0 --snapshot-dir "$E" --snapshot-max-entries 2 --mem 256M -- true &&
	hrun evict-c 0 --snapshot-dir "$E" --snapshot-max-entries 2 --mem 384M -- true
mems=$(cat "$E"/*.key 2>/dev/null | sed -n 's/^mem //p' | sort -n | tr '\n' ' ')
if [ "$mems" = "268435456 402653184 " ] && [ "$(ls "$E" | grep -c '^[0-9a-f]*$')" -eq 2 ]; then
	echo "evict: the third shape evicted the least recently used (B), A and C stay"
else
	fail evict "keys for mem '$mems', cache holds: $(ls -A "$E" | tr '\n' ' ')"
fi
hrun clear 0 --snapshot-dir "$E" --clear-snapshots &&
	{ [ -z "$(ls -A "$E")" ] && echo "clear: the cache is empty" ||
		fail clear "cache holds: $(ls -A "$E" | tr '\n' ' ')"; }

finish
