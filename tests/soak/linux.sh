#!/bin/sh
# The Linux soak (make soak; docs/soak.md), a lab scenario that make lab
# does not run: it takes most of an hour in the emulated lab.
#
# 1. BOOTS boots of the test guest with a disk and the rng, back to back,
#    each ending at once (arm64: poweroff, PSCI SYSTEM_OFF; x86_64:
#    reboot -f, the i8042 reset, as the minimal x86 guest has no ACPI to
#    power off with). Each must end with 0; kvmini's peak RSS per boot
#    (busybox time) must not grow from the first ten to the last ten; this
#    VM's allocated file handles and available memory must come back.
# 2. One kvmini whose guest resets its disk and rng ROUNDS times
#    (tests/guest/blk-soak.sh): kvmini's open descriptors and its memory
#    besides guest RAM, from /proc, the same before and after.
#
# tests/soak/run.sh sets BOOTS and ROUNDS in a copy of this file.
. "$LIB"

BOOTS=200
ROUNDS=100

if [ "${KVMINI_ARCH:-x86_64}" = arm64 ]; then
	ending=poweroff
else
	ending=reboot
fi

# maxof FILE FROM TO: the largest of lines FROM to TO of FILE.
maxof()
{
	sed -n "$2,$3p" "$1" | sort -n | tail -n 1
}

meminfo()
{
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

handles()
{
	cut -f1 /proc/sys/fs/file-nr
}

# ---- 1: boots ---------------------------------------------------------------

truncate -s 64M "$T/soak.img"
: >"$T/rss"
h0=$(handles) m0=$(meminfo MemAvailable)
read -r t0 _ </proc/uptime
i=0 bad=0
while [ $i -lt $BOOTS ]; do
	i=$((i + 1))
	rc=0
	busybox time -f %M -o "$T/time" "$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" \
		--timeout 120 --console "file:$T/boot.log" --disk "$T/soak.img" \
		--cmdline "kvmini.script=$ending" >/dev/null 2>"$T/boot.err" </dev/null || rc=$?
	if [ $rc -ne 0 ]; then
		bad=$((bad + 1))
		echo "soak: boot $i ended with $rc: $(head -n 1 "$T/boot.err")"
		continue
	fi
	tail -n 1 "$T/time" >>"$T/rss"
	[ $((i % 20)) -ne 0 ] || echo "soak: $i boots"
done
read -r t1 _ </proc/uptime
sync
echo 1 >/proc/sys/vm/drop_caches 2>/dev/null
h1=$(handles) m1=$(meminfo MemAvailable)
n=$(wc -l <"$T/rss")
from=$((n > 10 ? n - 9 : 1))
first=$(maxof "$T/rss" 1 10) last=$(maxof "$T/rss" "$from" "$n")
echo "soak: $BOOTS boots in $(awk "BEGIN { printf \"%.0f\", $t1 - $t0 }") s;" \
	"kvmini peak RSS ${first:-?} KiB (first 10), ${last:-?} KiB (last 10);" \
	"file handles $h0 -> $h1; MemAvailable $m0 -> $m1 KiB"
[ $bad -eq 0 ] || fail boots "$bad of $BOOTS boots did not end with 0"
[ -n "$first" ] && [ -n "$last" ] && [ "$last" -le $((first + first / 10)) ] ||
	fail boots "kvmini's peak RSS grew from ${first:-?} to ${last:-?} KiB"
# A leaked handle per boot would show as BOOTS more; the kernel's count
# is summed lazily over per-CPU batches (0 -> 32 seen with no leak).
[ "$h1" -le $((h0 + 64)) ] || fail boots "file handles went from $h0 to $h1"
[ "$m1" -ge $((m0 - 32768)) ] || fail boots "MemAvailable went from $m0 to $m1 KiB"

# ---- 2: one process, many device resets --------------------------------------

# overhead PID MIB: kvmini's resident memory besides guest RAM (the one
# mapping of exactly MIB MiB), in KiB.
overhead()
{
	awk -v ram=$(($2 * 1024)) '
		/^Size:/ { size = $2 }
		/^Rss:/ { rss += $2; if (size == ram) guest += $2 }
		END { print rss - guest }' "/proc/$1/smaps"
}

# wait_line REGEX SECS: until the guest's console has REGEX.
wait_line()
{
	s=0
	while ! grep -q "$1" "$T/resets.log" 2>/dev/null; do
		[ $s -lt $(($2 * 2)) ] || return 1
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.5
		s=$((s + 1))
	done
}

truncate -s 32M "$T/resets.img"
"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --mem 256M --timeout 3000 \
	--console "file:$T/resets.log" --disk "$T/resets.img" \
	--cmdline "kvmini.script=blk-soak kvmini.args=$ROUNDS,vda" 2>"$T/resets.err" </dev/null &
pid=$!
if wait_line "blk-soak: before" 300; then
	fd0=$(ls "/proc/$pid/fd" | wc -l) o0=$(overhead $pid 256)
	if wait_line "blk-soak: after" 3000; then
		fd1=$(ls "/proc/$pid/fd" | wc -l) o1=$(overhead $pid 256)
	fi
fi
rc=0
wait $pid || rc=$?
echo "soak: $ROUNDS resets of the disk and the rng in one kvmini:" \
	"descriptors ${fd0:-?} -> ${fd1:-?}, memory besides guest RAM ${o0:-?} -> ${o1:-?} KiB"
if [ $rc -ne 0 ] || [ -z "${fd1:-}" ]; then
	fail resets "kvmini ended with $rc, or the guest never got to the end"
elif [ "$fd1" -ne "$fd0" ]; then
	fail resets "kvmini had $fd0 descriptors before the resets and $fd1 after"
elif [ "$o1" -gt $((o0 + 512)) ]; then
	fail resets "kvmini's memory besides guest RAM grew from $o0 to $o1 KiB"
fi
console resets "blk-soak: $ROUNDS rounds done"
finish
