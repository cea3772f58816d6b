#!/bin/sh
# virtio-net on a tap, the guest's side (tests/scenarios/net-tap.sh, which
# is 10.0.99.1 on tap0 and, with two NICs, 10.0.98.1 on tap1).
#   net-tap.sh basic MAC [MIB [PORT]]  eth0 is MAC with a carrier; ping;
#                                MIB MiB (default 8) to the host's PORT
#                                (5001) and back from PORT + 1, sums
#   net-tap.sh two MAC0 MAC1     eth0 and eth1, each pings its own host
#   net-tap.sh rx MAC COUNT      COUNT streams from 10.0.99.1:5002
#   net-tap.sh burst MAC SECS    small packets both ways for SECS seconds
#                                while a stream comes in; still responsive
# Lines "net: KEY VALUE" are what the scenario checks.

net_fail()
{
	echo "net: FAIL: $*"
	exit 1
}

net_step()
{
	echo "net: [$(cut -d' ' -f1 /proc/uptime)] $*"
}

# nic IF MAC ADDR: IF has MAC, comes up with ADDR/24 and a carrier.
nic()
{
	[ -e "/sys/class/net/$1" ] || net_fail "no $1"
	got=$(cat "/sys/class/net/$1/address")
	[ "$got" = "$2" ] || net_fail "$1 has address $got, expected $2"
	ip addr add "$3/24" dev "$1" && ip link set "$1" up || net_fail "cannot bring $1 up"
	i=0
	while [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" != 1 ]; do
		i=$((i + 1))
		[ $i -le 100 ] || net_fail "$1 has no carrier"
		sleep 0.1
	done
	echo "net: $1 mac $got carrier 1"
	echo "net: $1 features $(cat "/sys/class/net/$1/device/features")"
}

# gen MIB: MIB copies of one random MiB, the same bytes each time.
gen()
{
	n=0
	while [ $n -lt "$1" ]; do
		cat /tmp/rand
		n=$((n + 1))
	done
}

ping_host()
{
	ping -c 3 -W 5 "$1" >/tmp/ping.log 2>&1 || { cat /tmp/ping.log; net_fail "no answer from $1"; }
	echo "net: ping $1 ok"
}

# A stdin for nc that never ends: busybox nc stops at its end of input.
mkfifo /tmp/hold
dd if=/dev/urandom of=/tmp/rand bs=1M count=1 2>/dev/null
ip link set lo up

case $1 in
basic)
	mib=${3:-8}
	port=${4:-5001}
	nic eth0 "$2" 10.0.99.2
	ping_host 10.0.99.1
	net_step "tx start"
	gen "$mib" | nc 10.0.99.1 "$port" || net_fail "tx: nc failed"
	net_step "tx done"
	echo "net: tx-sum $(gen "$mib" | sha256sum | cut -d' ' -f1)"
	net_step "rx start"
	sum=$(nc 10.0.99.1 $((port + 1)) <>/tmp/hold | sha256sum | cut -d' ' -f1)
	net_step "rx done"
	echo "net: rx-sum $sum"
	ping_host 10.0.99.1
	;;
rx)
	# Receive only, $3 streams in a row (a stress run of the receive path).
	nic eth0 "$2" 10.0.99.2
	i=0
	while [ $i -lt "${3:-1}" ]; do
		i=$((i + 1))
		net_step "rx $i start"
		sum=$(nc 10.0.99.1 5002 <>/tmp/hold | sha256sum | cut -d' ' -f1)
		net_step "rx $i done"
		echo "net: rx-sum $i $sum"
	done
	;;
two)
	nic eth0 "$2" 10.0.99.2
	nic eth1 "$3" 10.0.98.2
	ping_host 10.0.99.1
	ping_host 10.0.98.1
	gen 4 | nc 10.0.98.1 5003 || net_fail "tx on eth1: nc failed"
	echo "net: tx-sum $(gen 4 | sha256sum | cut -d' ' -f1)"
	;;
burst)
	nic eth0 "$2" 10.0.99.2
	ping_host 10.0.99.1
	net_step "burst start"
	# Two senders of 64-byte UDP datagrams, a ping flood beside them.
	for i in 1 2; do
		udpburst send 10.0.99.1 5005 "$3" 64 >/tmp/flood$i.log 2>&1 &
	done
	ping -q -i 0.0001 -s 16 -w "$3" 10.0.99.1 >/tmp/flood3.log 2>&1 &
	sum=$(nc 10.0.99.1 5004 <>/tmp/hold | sha256sum | cut -d' ' -f1)
	echo "net: rx-sum $sum"
	wait
	for i in 1 2; do
		echo "net: flood $i: $(cat /tmp/flood$i.log)"
	done
	echo "net: flood 3: $(grep transmitted /tmp/flood3.log)"
	net_step "burst done"
	ping_host 10.0.99.1
	echo "net: responsive"
	;;
*)
	net_fail "unknown mode '$1'"
	;;
esac
echo "net: $1 done"
