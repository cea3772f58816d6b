#!/bin/sh
# make bench's block figures from inside the guest (bench/bench.sh boots it
# under kvmini and under QEMU alike). Args: RUNTIME [JOB...]: fio on the
# disk whose serial is "bench", from the tools disk (serial "tools"), each
# job for RUNTIME seconds after a second of ramp; one line per job,
# "blk-bench JOB TERSE", TERSE being fio's terse v3 line, then
# "blk-bench-irq JOB irqs=N ios=N": the disk's interrupts and the requests
# it completed during the job (ramp included), what a VMM's batching of
# completions shows in. Jobs:
# randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 randwrite-4k-qd32
# read-1m write-1m (all by default).
#
# The test kernel has neither AIO nor io_uring (tinyconfig), so queue
# depth 32 is 32 threads each doing synchronous O_DIRECT I/O (psync):
# what the device sees is the same, 32 requests in flight.
. /tests/blk-lib.sh
rt=${1:-10}
shift
[ $# -gt 0 ] || set -- randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 \
	randwrite-4k-qd32 read-1m write-1m

# by_serial SERIAL: the disk whose serial is SERIAL.
by_serial()
{
	for s in /sys/block/vd*/serial; do
		[ "$(cat "$s" 2>/dev/null)" = "$1" ] && basename "$(dirname "$s")" && return
	done
}

dev=$(by_serial bench)
tools=$(by_serial tools)
[ -n "$dev" ] && [ -n "$tools" ] || blk_fail "no disks with serials bench and tools"
blk_tools "$tools"
# The bench disk's virtio device names its interrupt in /proc/interrupts.
vdev=$(basename "$(readlink "/sys/block/$dev/device")")

# irqs: the bench disk's interrupts so far, summed over CPUs.
irqs()
{
	awk -v d="$vdev" '$NF == d { for (i = 2; i < NF; i++) if ($i ~ /^[0-9]+$/) n += $i }
		END { print n + 0 }' /proc/interrupts
}

# ios: requests the bench disk completed so far (reads and writes).
ios()
{
	awk '{ print $1 + $5 }' "/sys/block/$dev/stat"
}

for job in "$@"; do
	case $job in
	*-4k-qd1) bs=4k n=1 ;;
	*-4k-qd32) bs=4k n=32 ;;
	*-1m) bs=1M n=1 ;;
	*) blk_fail "unknown job $job" ;;
	esac
	i0=$(irqs) r0=$(ios)
	$FIO --name="$job" --filename="/dev/$dev" --direct=1 --ioengine=psync \
		--rw="${job%%-*}" --bs=$bs --numjobs=$n --thread --group_reporting \
		--time_based --runtime="$rt" --ramp_time=1 --randrepeat=0 \
		--output-format=terse --terse-version=3 >/tmp/fio.out 2>&1 ||
		{ cat /tmp/fio.out; blk_fail "fio $job"; }
	echo "blk-bench $job $(grep '^3;' /tmp/fio.out | tail -n 1)"
	echo "blk-bench-irq $job irqs=$(($(irqs) - i0)) ios=$(($(ios) - r0))"
done
blk_step "bench done"
