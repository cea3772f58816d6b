#!/bin/sh
# --net user (libslirp) end to end, inside a network namespace of its own
# with only a loopback, so that nothing leaves this outer VM. The guest
# (tests/guest/net-user.sh) takes its address by DHCP, pings the gateway,
# asks the DNS forwarder, and moves 8 MiB each way with servers on this
# side's 127.0.0.1 (busybox httpd and nc) through 10.0.2.2, checked by
# SHA-256 on both sides; a client here fetches a page from the guest's
# httpd through hostfwd. Also: a hostfwd port already in use is one clear
# error, before any boot.
# lab-timeout: 600
. "$LIB"

if [ -z "${NET_USER_NETNS:-}" ]; then
	NET_USER_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up

step()
{
	echo "net-user: [$(cut -d' ' -f1 /proc/uptime)] $*"
}

# ---- a hostfwd port in use: one line, naming the port ------------------------

sleep 30 | nc -l -p 8090 &
busy=$!
sleep 1
rc=0
"$KVMINI" run --kernel "$KERNEL" --dump-dtb "$T/busy.dtb" \
	--net user,hostfwd=tcp::8090-:80 >/dev/null 2>"$T/busy.err" || rc=$?
if [ $rc -ne 125 ]; then
	fail busy "exit status $rc, expected 125"
elif [ "$(wc -l <"$T/busy.err")" -ne 1 ]; then
	fail busy "not one line on stderr"
else
	stderr busy "127\.0\.0\.1:8090 .*in use"
fi
kill $busy 2>/dev/null

# ---- the servers on this side ------------------------------------------------

mkdir -p "$T/www"
dd if=/dev/urandom of="$T/www/big" bs=1M count=8 2>/dev/null
big_sum=$(sha256sum <"$T/www/big" | cut -d' ' -f1)
step "serving 8 MiB, sha256 $big_sum"
httpd -p 127.0.0.1:8000 -h "$T/www" || fail httpd "busybox httpd did not start"
# What the guest sends back: nc ends when the guest closes the connection.
(sleep 900 | nc -l -p 9000 | sha256sum | cut -d' ' -f1 >"$T/up.sum") &
# A host client for the guest's httpd behind hostfwd, until it answers;
# then it tells the guest so through the second hostfwd port.
(
	for i in $(seq 300); do
		if timeout 10 wget -q -O "$T/fwd.out" http://127.0.0.1:8080/hello 2>/dev/null &&
		   grep -q kvmini-hostfwd-ok "$T/fwd.out"; then
			echo fetched | nc 127.0.0.1 8081
			break
		fi
		sleep 2
	done
) &
# A resolv.conf for libslirp's DNS forwarder to read (nothing answers).
[ -e /etc/resolv.conf ] || { mkdir -p /etc && echo "nameserver 127.0.0.1" >/etc/resolv.conf; }

# ---- the guest -----------------------------------------------------------------

step "booting the guest"
guest net-user 0 --mem 512M --timeout 420 \
	--net user,hostfwd=tcp::8080-:80,hostfwd=tcp::8081-:81 \
	--cmdline "kvmini.script=net-user kvmini.args=$big_sum"
step "the guest ended"
console net-user "lease: address 10\.0\.2\.15, router 10\.0\.2\.2, DNS 10\.0\.2\.3"
console net-user "host to guest: 8388608 bytes, sha256 $big_sum"
console net-user "the host fetched the page through hostfwd"
up=$(cat "$T/up.sum" 2>/dev/null)
if [ "$up" = "$big_sum" ]; then
	echo "net-user: guest to host: sha256 matches"
else
	fail net-user "guest to host: sha256 '$up', sent $big_sum"
fi
grep -q kvmini-hostfwd-ok "$T/fwd.out" 2>/dev/null && echo "net-user: hostfwd page ok" ||
	fail net-user "the page through hostfwd: '$(cat "$T/fwd.out" 2>/dev/null)'"
finish
