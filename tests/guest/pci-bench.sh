#!/bin/sh
# make bench's transport figures (BENCH=pci) from inside the guest: bench/pci.sh
# boots it under kvmini --transport mmio, kvmini --transport pci and QEMU
# q35 with virtio-pci alike. Args: RUNTIME SECS [FIGURE...]: fio on the disk
# whose serial is "bench" (fio from the tools disk, serial "tools"), each
# job RUNTIME seconds after a second of ramp, then iperf3 over eth0 on a
# tap (10.0.99.2, the host 10.0.99.1): SECS seconds guest to host (g2h),
# then a server for the host's one test (h2g); first of all RUNTIME seconds
# of nothing (idle), the exits a guest makes without I/O. Figures:
# idle randread-4k-qd1 randread-4k-qd32 read-1m g2h h2g (all by default).
#
# Around each figure, for the host's count of KVM exits (it reads KVM's
# statistics when it sees a mark on the console, so the marks are printed
# before the figure's window opens and after it closes, and everything
# else the console prints, itself an exit per byte, outside the window):
#   pci-bench mark begin FIG      (then half a second's pause: the host reads)
#   pci-bench mark end FIG        (the same)
#   pci-bench serving             (h2g: the host runs its client now)
# and after it, outside the window:
#   pci-bench FIG TERSE           (fio's terse v3 line) or mbps=N (iperf3)
#   pci-bench-irq FIG irqs=N reqs=N secs=S lines=NAME:N,...
# irqs: the device's interrupts (its /proc/interrupts lines: "virtioN" on
# virtio-mmio, "virtioN-config", "virtioN-req.0"... with MSI-X), summed over
# CPUs; reqs: requests the disk completed, or packets eth0 sent and received;
# secs: the window's length by the guest's clock.
. /tests/blk-lib.sh
rt=${1:-5}
secs=${2:-5}
shift 2 2>/dev/null || shift $#
[ $# -gt 0 ] || set -- idle randread-4k-qd1 randread-4k-qd32 read-1m g2h h2g

pb_fail()
{
	echo "pci-bench FAIL: $*"
	exit 1
}

# by_serial SERIAL: the disk whose serial is SERIAL.
by_serial()
{
	for s in /sys/block/vd*/serial; do
		[ "$(cat "$s" 2>/dev/null)" = "$1" ] && basename "$(dirname "$s")" && return
	done
}

# lines VDEV: "NAME COUNT" for each of VDEV's /proc/interrupts lines, the
# count summed over CPUs.
lines()
{
	awk -v d="$1" '$NF == d || index($NF, d "-") == 1 {
		n = 0
		for (i = 2; i < NF; i++)
			if ($i ~ /^[0-9]+$/)
				n += $i
		print $NF, n
	}' /proc/interrupts
}

# irq_delta BEFORE AFTER: "irqs=N lines=NAME:N,..." from two lines() outputs.
irq_delta()
{
	awk 'NR == FNR { b[$1] = $2; next }
		{ d = $2 - b[$1]; n += d; l = l (l == "" ? "" : ",") $1 ":" d }
		END { printf "irqs=%d lines=%s\n", n, l }' "$1" "$2"
}

# mbps LOG: the receiver's Mbit/s in iperf3's closing summary (-f m).
mbps()
{
	awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }' "$1" |
		tail -n 1
}

dev=$(by_serial bench)
tools=$(by_serial tools)
[ -n "$dev" ] && [ -n "$tools" ] || pb_fail "no disks with serials bench and tools"
blk_tools "$tools"
IPERF3=/tools/usr/bin/iperf3
[ -x "$IPERF3" ] || pb_fail "no iperf3 on the tools disk (make guests)"
bdev=$(basename "$(readlink "/sys/block/$dev/device")")
ndev=$(basename "$(readlink /sys/class/net/eth0/device)")
[ -n "$ndev" ] || pb_fail "no eth0"
ip link set lo up
ip addr add 10.0.99.2/24 dev eth0 && ip link set eth0 up || pb_fail "cannot bring eth0 up"
# The first answer also settles ARP and the tap's carrier.
i=0
until ping -c 1 -W 2 10.0.99.1 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 10 ] || pb_fail "no answer from 10.0.99.1"
done
echo "pci-bench info blk_queues=$(ls "/sys/block/$dev/mq" | wc -l)" \
	"blk_lines=$(lines "$bdev" | awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }')" \
	"net_lines=$(lines "$ndev" | awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }')"

# reqs FIG: the disk's completed requests, or eth0's packets both ways.
reqs()
{
	case $1 in
	g2h | h2g)
		echo $(($(cat /sys/class/net/eth0/statistics/rx_packets) +
			$(cat /sys/class/net/eth0/statistics/tx_packets)))
		;;
	*) awk '{ print $1 + $5 }' "/sys/block/$dev/stat" ;;
	esac
}

for fig in "$@"; do
	case $fig in
	g2h | h2g) d=$ndev ;;
	*) d=$bdev ;;
	esac
	echo "pci-bench mark begin $fig"
	sleep 0.5
	lines "$d" >/tmp/irq0
	r0=$(reqs "$fig")
	t0=$(cut -d' ' -f1 /proc/uptime)
	case $fig in
	idle)
		sleep "$rt"
		;;
	*-4k-qd1 | *-4k-qd32 | *-1m)
		case $fig in
		*-4k-qd1) bs=4k n=1 ;;
		*-4k-qd32) bs=4k n=32 ;;
		*) bs=1M n=1 ;;
		esac
		$FIO --name="$fig" --filename="/dev/$dev" --direct=1 --ioengine=psync \
			--rw="${fig%%-*}" --bs=$bs --numjobs=$n --thread --group_reporting \
			--time_based --runtime="$rt" --ramp_time=1 --randrepeat=0 \
			--output-format=terse --terse-version=3 >/tmp/out 2>&1
		;;
	g2h)
		$IPERF3 -c 10.0.99.1 -p 5201 -t "$secs" -f m >/tmp/out 2>&1
		;;
	h2g)
		# One test, the host's; the server leaves once it is done.
		$IPERF3 -s -1 -p 5201 >/tmp/out 2>&1 &
		srv=$!
		i=0
		until netstat -ltn 2>/dev/null | grep -q ':5201 '; do
			i=$((i + 1))
			[ $i -lt 50 ] || pb_fail "the iperf3 server did not start: $(tail -n 1 /tmp/out)"
			sleep 0.1
		done
		echo "pci-bench serving"
		wait $srv
		;;
	*) pb_fail "unknown figure $fig" ;;
	esac
	rc=$?
	lines "$d" >/tmp/irq1
	r1=$(reqs "$fig")
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "pci-bench mark end $fig"
	sleep 0.5
	[ $rc -eq 0 ] || { cat /tmp/out; pb_fail "$fig ended with $rc"; }
	case $fig in
	g2h) echo "pci-bench $fig mbps=$(mbps /tmp/out)" ;;
	h2g | idle) ;;
	*) echo "pci-bench $fig $(grep '^3;' /tmp/out | tail -n 1)" ;;
	esac
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	echo "pci-bench-irq $fig $(irq_delta /tmp/irq0 /tmp/irq1 | sed "s/ / reqs=$((r1 - r0)) secs=$secs /")"
done
echo "pci-bench done"
