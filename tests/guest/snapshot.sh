#!/bin/sh
# The guest's side of tests/scenarios/snapshot.sh: state that a snapshot
# must carry, then a counter loop that the host snapshots mid-run and
# restores (three times, in parallel). Before the loop: a marker in RAM (a
# tmpfs file and a shell variable), a pattern on the disk with its
# SHA-256, and both NICs (eth0 on --net user, eth1 on a tap) tried once.
# The loop prints "count N" about every 0.2 s and reads the console with
# a timeout; on "check HOSTSECS" (a restored VM's host writes it) it prints
# what the host checks, then ends with 0 through the exit device.
# Every line the host parses starts with "snap: ".
# $1 = "user" when the VM has a --net user NIC (the static kvmini of the
# arm64 lab has no libslirp), else "nouser".
with_user=$1

say()
{
	echo "snap: $*"
}

die()
{
	say "FAILED: $*"
	exit 1
}

# net_try: both networks, as the host set them up (slirp's gateway and a
# TCP fetch through it; this side's tap address).
net_try()
{
	u=fail t=fail
	[ "$with_user" = user ] || u=none
	if [ "$u" != none ]; then
		# Both tried, each said: a failed ping does not hide the TCP
		# fetch's result.
		p=no-ping w=no-wget
		i=0
		while [ $i -lt 3 ]; do
			ping -c 1 -W 3 10.0.2.2 >/dev/null 2>&1 && { p=ping; break; }
			i=$((i + 1))
		done
		timeout 20 wget -q -O /tmp/hello http://10.0.2.2:8000/hello 2>/dev/null &&
			grep -q snap-hello /tmp/hello && w=wget
		rm -f /tmp/hello
		u=$p+$w
		[ "$u" != ping+wget ] || u=ok
	fi
	i=0
	while [ $i -lt 5 ]; do
		ping -c 1 -W 2 10.0.99.1 >/dev/null 2>&1 && { t=ok; break; }
		i=$((i + 1))
	done
	# What the tap NIC saw, for a failure's report.
	[ "$t" = ok ] || say "tap-stats $(ip -s link show "$tap" | tr -s ' \n' ' ') neigh $(ip neigh show dev "$tap" | tr '\n' ' ')"
	say "net $1 user $u tap $t"
}

# nic MAC: the interface with that address (the host gives both NICs
# theirs, so the order the guest finds them in does not matter).
nic()
{
	for a in /sys/class/net/*/address; do
		[ "$(cat "$a")" != "$1" ] || { basename "$(dirname "$a")"; return; }
	done
}
tap=$(nic 52:54:00:00:99:02)
[ -n "$tap" ] || die "no NIC with the tap's MAC: $(cat /sys/class/net/*/address | tr '\n' ' ')"
# Kernel messages (drop_caches' among them) would cut into the lines the
# host parses.
echo 1 >/proc/sys/kernel/printk
ip link set lo up
if [ "$with_user" = user ]; then
	user=$(nic 52:54:00:00:02:15)
	[ -n "$user" ] || die "no NIC with --net user's MAC"
	ip link set "$user" up && ip addr add 10.0.2.15/24 dev "$user" &&
		ip route add default via 10.0.2.2 || die "cannot set up $user"
fi
ip link set "$tap" up && ip addr add 10.0.99.2/24 dev "$tap" || die "cannot set up $tap"
net_try before

# RAM: the same random value in a tmpfs file and in this shell.
mark=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
echo "$mark" >/tmp/marker
say "marker $mark"

# Disk: 1 MiB of random bytes at the start of /dev/vda, on the disk for
# sure before the loop starts (sync, then the cache dropped and read back).
dd if=/dev/urandom of=/tmp/pattern bs=64k count=16 2>/dev/null
disk=$(sha256sum </tmp/pattern | cut -d' ' -f1)
dd if=/tmp/pattern of=/dev/vda bs=64k count=16 conv=fsync 2>/dev/null || die "cannot write /dev/vda"
rm -f /tmp/pattern
sync
say "disk $disk"

# msi: how many of /proc/interrupts' lines are a virtio device's MSI(-X)
# vectors, and their counts summed over the CPUs ("0 0" on virtio-mmio,
# or on arm64 without an ITS, where PCI functions have INTx only).
msi()
{
	awk '/MSI/ && /virtio/ { l++; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i }
	     END { printf "%d %d\n", l, n }' /proc/interrupts
}

# disk_sum: the pattern as the disk has it, not as the page cache does.
disk_sum()
{
	blockdev --flushbufs /dev/vda 2>/dev/null
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	dd if=/dev/vda bs=64k count=16 2>/dev/null | sha256sum | cut -d' ' -f1
}
[ "$(disk_sum)" = "$disk" ] || die "the pattern does not read back from /dev/vda"
# The wall clock before the snapshot: a guest without one (arm64:
# kvmini gives it no RTC) counts from 1970, and the host says so.
say "date-before $(date +%s)"
say "ready"

n=0
while :; do
	n=$((n + 1))
	# With the guest's clock: the host compares it with its own at the
	# pause, to tell a clock that drifted before the snapshot from one
	# the restore left behind.
	echo "count $n $(date +%s)"
	line=
	# A read that times out in mid-line (busybox reads a byte at a time
	# against one deadline, and a loaded host can stall this guest past
	# it) loses what it read: the host sends "check" again until this
	# guest answers, so only a whole line counts.
	if read -r -t 0.2 line; then
		case $line in
		"check "[0-9]*) break ;;
		esac
	fi
done
host=${line#check }
guest=$(date +%s)
say "date $guest host $host"
say "last count $n"
file=$(cat /tmp/marker 2>/dev/null)
# Around the disk's read and the pings: on a restored VM, interrupts on
# the vectors the snapshot had (the host wants the count to grow).
msi_before=$(msi)
sum=$(disk_sum)
say "marker-now $mark file $file"
say "disk-now $sum"
# One CPU's output: Linux keeps a generator per CPU, and two VMs that
# read on different vCPUs would differ without any reseeding.
say "random $(taskset 1 od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
net_try after
say "msi $msi_before after $(msi)"
exit 0
