#!/bin/sh
# --net user from inside the guest; tests/scenarios/net-user.sh runs the
# host side in the lab. The guest takes its address by DHCP, pings the
# gateway, asks the DNS forwarder, fetches 8 MiB from a server on the
# host's 127.0.0.1 through 10.0.2.2 and sends them back, with matching
# SHA-256; then it serves a page with busybox httpd on port 80, which the
# host fetches through hostfwd (host 8080), and waits for the host to say
# so on port 81 (host 8081).
# $1 = the SHA-256 of the host's http://10.0.2.2:8000/big.
want=$1

say()
{
	echo "net-user.sh: [$(cut -d' ' -f1 /proc/uptime)] $*"
}

die()
{
	say "FAILED: $*"
	exit 1
}

ip link set lo up
ip link set eth0 up || die "no eth0"
udhcpc -i eth0 -s /tests/net-user-dhcp.sh -n -q -t 5 -T 3 || die "no DHCP lease"
read -r addr router dns </tmp/dhcp.lease
say "lease: address $addr, router $router, DNS $dns"
[ "$addr" = 10.0.2.15 ] || die "address $addr, not 10.0.2.15"
[ "$router" = 10.0.2.2 ] || die "router $router, not 10.0.2.2"
[ "$dns" = 10.0.2.3 ] || die "DNS $dns, not 10.0.2.3"

ping -c 3 -W 5 10.0.2.2 || die "10.0.2.2 does not answer pings"

# The forwarder reads the host's resolv.conf (under kvmini's seccomp
# filter) and passes the query on; the host side answers nothing, so
# only kvmini's survival counts here.
nslookup kvmini.test 10.0.2.3 >/dev/null 2>&1
say "asked the DNS forwarder"

say "fetching 8 MiB from the host"
timeout 150 wget -q -O /tmp/big http://10.0.2.2:8000/big || die "wget from 10.0.2.2:8000 failed (or took over 150 s)"
got=$(sha256sum </tmp/big | cut -d' ' -f1)
say "host to guest: $(wc -c </tmp/big) bytes, sha256 $got"
[ "$got" = "$want" ] || die "sha256 $got, host has $want"

say "sending them back"
timeout 150 nc 10.0.2.2 9000 </tmp/big || die "nc to 10.0.2.2:9000 failed (or took over 150 s)"
rm -f /tmp/big
say "guest to host: sent"

mkdir -p /tmp/www
echo kvmini-hostfwd-ok >/tmp/www/hello
httpd -p 80 -h /tmp/www || die "httpd did not start"
sleep 600 | nc -l -p 81 >/tmp/ack &
i=0
while ! grep -q fetched /tmp/ack 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 180 ] || die "the host never came through hostfwd"
	sleep 1
done
say "the host fetched the page through hostfwd"
exit 0
