#!/bin/sh
# Multi-queue virtio-net, the guest's side (tests/scenarios/net-mq.sh,
# which is 10.0.97.1 on the tap kvmini made, and listens from PORT on).
#   net-mq.sh MAC MIB PORT   eth0 is MAC with two queue pairs; a TCP flow
#                            pinned to each vCPU (XPS maps CPU i to tx-i)
#                            sends MIB MiB to PORT + 1 + i, then another
#                            receives MIB MiB from PORT + 11 + i; sums;
#                            then the virtio lines of /proc/interrupts;
#                            then a reset mid-traffic: the driver unbound
#                            while a stream from PORT + 21 comes in, bound
#                            again, two pairs again, a ping
# Lines "net: KEY VALUE" are what the scenario checks.

net_fail()
{
	echo "net: FAIL: $*"
	exit 1
}

[ $# -eq 3 ] || net_fail "usage: net-mq.sh MAC MIB PORT"
mac=$1 mib=$2 port=$3
mkfifo /tmp/hold
dd if=/dev/urandom of=/tmp/rand bs=1M count=1 2>/dev/null
n=0
while [ $n -lt "$mib" ]; do
	cat /tmp/rand
	n=$((n + 1))
done >/tmp/data
ip link set lo up

[ -e /sys/class/net/eth0 ] || net_fail "no eth0"
got=$(cat /sys/class/net/eth0/address)
[ "$got" = "$mac" ] || net_fail "eth0 has address $got, expected $mac"
ip addr add 10.0.97.2/24 dev eth0 && ip link set eth0 up || net_fail "cannot bring eth0 up"
echo "net: cpus $(nproc)"
echo "net: queues $(ls /sys/class/net/eth0/queues | tr '\n' ' ')"
for q in 0 1; do
	[ -e "/sys/class/net/eth0/queues/tx-$q/xps_cpus" ] &&
		echo "net: xps tx-$q $(cat "/sys/class/net/eth0/queues/tx-$q/xps_cpus")"
done

# The host puts its address on the tap once kvmini has made it.
i=0
until ping -c 1 -W 1 10.0.97.1 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -le 60 ] || net_fail "no answer from 10.0.97.1"
done
echo "net: ping ok"

# Out: one flow per vCPU, side by side.
for c in 0 1; do
	taskset -c $c nc 10.0.97.1 $((port + 1 + c)) </tmp/data >/dev/null 2>&1 &
done
wait
echo "net: tx-sum $(sha256sum </tmp/data | cut -d' ' -f1)"

# In: one flow per vCPU, side by side.
for c in 0 1; do
	(taskset -c $c nc 10.0.97.1 $((port + 11 + c)) <>/tmp/hold | sha256sum |
		cut -d' ' -f1 >/tmp/rx$c.sum) &
done
wait
for c in 0 1; do
	echo "net: rx-sum $c $(cat /tmp/rx$c.sum)"
done

# Interrupts by name (virtio-pci: one vector per queue), both CPUs summed.
awk 'NR == 1 { cpus = NF }
	$NF ~ /^virtio[0-9]+/ { s = 0; for (i = 2; i <= cpus + 1; i++) s += $i;
		print "net: irq " $NF " " s }' /proc/interrupts

# A reset mid-traffic: the driver goes while a stream comes in (the
# device cancels what is in flight on both pairs), then comes back.
dev=$(basename "$(readlink /sys/class/net/eth0/device)")
nc 10.0.97.1 $((port + 21)) <>/tmp/hold >/dev/null 2>&1 &
ncpid=$!
sleep 2
echo "$dev" >/sys/bus/virtio/drivers/virtio_net/unbind || net_fail "cannot unbind $dev"
kill $ncpid 2>/dev/null
echo "$dev" >/sys/bus/virtio/drivers/virtio_net/bind || net_fail "cannot bind $dev again"
i=0
until [ -e /sys/class/net/eth0 ]; do
	i=$((i + 1))
	[ $i -le 50 ] || net_fail "no eth0 after binding $dev again"
	sleep 0.1
done
ip addr add 10.0.97.2/24 dev eth0 && ip link set eth0 up || net_fail "cannot bring eth0 up again"
echo "net: rebind queues $(ls /sys/class/net/eth0/queues | tr '\n' ' ')"
i=0
until ping -c 1 -W 1 10.0.97.1 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -le 30 ] || net_fail "no answer from 10.0.97.1 after binding $dev again"
done
echo "net: rebind ok"
echo "net: done"
