#!/bin/sh
# Multi-queue virtio-blk over virtio-pci spreads its interrupts over the
# vCPUs (tests/scenarios/pci-stock.sh): the disk $1 (vda) has a request
# queue per CPU, each with an MSI-X vector of its own; reads pinned to
# each CPU in turn (taskset) complete through that CPU's queue, and each
# queue's new interrupts land on a different CPU. Prints the per-CPU
# counts it saw; exits non-zero when they do not spread.
dev=${1:-vda}

say()
{
	echo "pci-spread: $*"
}

die()
{
	say "FAILED: $*"
	grep -E 'CPU|virtio' /proc/interrupts
	exit 1
}

[ -b "/dev/$dev" ] || die "no /dev/$dev"
name=$(basename "$(readlink -f "/sys/block/$dev/device")")
case $name in
virtio[0-9]*) ;;
*) die "/dev/$dev is not a virtio device ($name)" ;;
esac
ncpu=$(grep -c '^processor' /proc/cpuinfo)
[ "$ncpu" -ge 2 ] || die "$ncpu CPU: the spread needs 2 or more"
# The columns of /proc/interrupts are the online CPUs, in order.
nq=$(grep -cE "(PCI|ITS)-MSI.*$name-req\.[0-9]+ *\$" /proc/interrupts)
say "$dev ($name): $nq request queues with MSI-X vectors, $ncpu CPUs"
[ "$nq" -eq "$ncpu" ] || die "$nq request queues for $ncpu CPUs"

# counts: "QUEUE N0 N1 ..." per request queue, the per-CPU columns.
counts()
{
	grep -E "(PCI|ITS)-MSI.*$name-req\.[0-9]+ *\$" /proc/interrupts |
		awk -v n="$ncpu" '{ q = $NF; sub(/.*-req\./, "", q); s = q
			for (i = 2; i < 2 + n; i++) s = s " " $i; print s }'
}

counts >/tmp/spread.before
c=0
while [ $c -lt "$ncpu" ]; do
	taskset -c $c dd if="/dev/$dev" of=/dev/null bs=4k count=512 skip=$((c * 512)) \
		iflag=direct 2>/dev/null || die "reads pinned to CPU $c"
	c=$((c + 1))
done
counts >/tmp/spread.after

# Each queue's busiest CPU by new interrupts, and that no two queues
# share one.
paste -d' ' /tmp/spread.before /tmp/spread.after | awk -v n="$ncpu" '
	{
		best = -1; most = 0; line = ""
		for (i = 0; i < n; i++) {
			d = $(n + 3 + i) - $(2 + i)
			line = line " cpu" i "+" d
			if (d > most) { most = d; best = i }
		}
		print "pci-spread: req." $1 ":" line
		if (best < 0) { print "pci-spread: req." $1 " had no interrupt"; bad = 1; next }
		if (best in owner) { print "pci-spread: req." $1 " and req." owner[best] " both on CPU " best; bad = 1 }
		owner[best] = $1
	}
	END { exit bad }' || die "the queues' interrupts do not spread over the CPUs"
say "ok: $nq queues, each on a CPU of its own"
