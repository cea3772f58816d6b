#!/bin/sh
# make bench's network figures from inside the guest (bench/net.sh boots it
# under kvmini and under QEMU alike). Args: MODE SECS PINGS.
#   MODE tap: eth0 is 10.0.99.2/24, the host 10.0.99.1;
#        user: eth0 by DHCP (10.0.2.15), the host is the gateway 10.0.2.2.
# With iperf3 from the tools disk (serial "tools"), in this order: PINGS
# pings to the host, one every 0.2 s; an iperf3 TCP test of SECS seconds to
# the host's server on port 5201 (guest to host); then an iperf3 server on
# port 5201 for exactly one test, the host's (host to guest), after which
# the guest ends. Lines for bench/net.sh:
#   net-bench rtt ms=MEDIAN n=ANSWERED     net-bench g2h mbps=RECEIVED
#   net-bench serving                      net-bench FAIL: WHY
. /tests/blk-lib.sh
mode=$1
secs=${2:-5}
pings=${3:-20}

nb_fail()
{
	echo "net-bench FAIL: $*"
	exit 1
}

# by_serial SERIAL: the disk whose serial is SERIAL.
by_serial()
{
	for s in /sys/block/vd*/serial; do
		[ "$(cat "$s" 2>/dev/null)" = "$1" ] && basename "$(dirname "$s")" && return
	done
}

# mbps LOG: the receiver's Mbit/s in iperf3's closing summary (-f m).
mbps()
{
	awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }' "$1" |
		tail -n 1
}

tools=$(by_serial tools)
[ -n "$tools" ] || nb_fail "no tools disk (serial tools)"
blk_tools "$tools"
IPERF3=/tools/usr/bin/iperf3
[ -x "$IPERF3" ] || nb_fail "no iperf3 on the tools disk (make guests)"

ip link set lo up
case $mode in
tap)
	host=10.0.99.1
	ip addr add 10.0.99.2/24 dev eth0 && ip link set eth0 up || nb_fail "cannot bring eth0 up"
	;;
user)
	host=10.0.2.2
	ip link set eth0 up || nb_fail "no eth0"
	udhcpc -i eth0 -s /tests/net-user-dhcp.sh -n -q -t 5 -T 3 >/dev/null 2>&1 ||
		nb_fail "no DHCP lease"
	;;
*)
	nb_fail "unknown mode '$mode'"
	;;
esac

# The first answer also settles ARP (and, on a tap, the carrier): not timed.
i=0
until ping -c 1 -W 2 "$host" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 10 ] || nb_fail "no answer from $host"
done
ping -c "$pings" -i 0.2 -W 5 "$host" >/tmp/ping.log 2>&1
sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' /tmp/ping.log | sort -n | awk '
	{ v[NR] = $1 }
	END {
		if (NR)
			printf "net-bench rtt ms=%s n=%d\n",
				NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, NR
	}'

if $IPERF3 -c "$host" -p 5201 -t "$secs" -f m >/tmp/g2h.log 2>&1; then
	echo "net-bench g2h mbps=$(mbps /tmp/g2h.log)"
else
	echo "net-bench g2h failed: $(tail -n 1 /tmp/g2h.log)"
fi

# One test, the host's; the server leaves once it is done.
$IPERF3 -s -1 -p 5201 >/tmp/h2g.log 2>&1 &
srv=$!
i=0
until netstat -ltn 2>/dev/null | grep -q ':5201 '; do
	i=$((i + 1))
	[ $i -lt 50 ] || nb_fail "the iperf3 server did not start: $(tail -n 1 /tmp/h2g.log)"
	sleep 0.1
done
echo "net-bench serving"
wait $srv || nb_fail "the iperf3 server: $(tail -n 1 /tmp/h2g.log)"
echo "net-bench done"
