#!/bin/sh
# busybox udhcpc's hook (udhcpc -s /tests/net-user-dhcp.sh, from
# net-user.sh): applies a lease to $interface and notes it in
# /tmp/dhcp.lease as "ADDRESS ROUTER DNS". udhcpc exports $ip, $mask (a
# prefix length), $router and $dns.
case $1 in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	set -- $router
	[ -n "$1" ] && ip route add default via "$1" dev "$interface"
	r=$1
	set -- $dns
	: >/etc/resolv.conf
	[ -n "$1" ] && echo "nameserver $1" >/etc/resolv.conf
	echo "$ip $r $1" >/tmp/dhcp.lease
	;;
esac
exit 0
