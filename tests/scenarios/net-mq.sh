#!/bin/sh
# Multi-queue virtio-net (VIRTIO_NET_F_MQ, docs/net.md) inside a network
# namespace of this scenario's own: --cpus 2 --net tap=tapmq0 makes kvmini
# create tapmq0 as a multi-queue tap with two queues, one per queue pair;
# this side puts 10.0.97.1/24 on it once it exists (the guest,
# tests/guest/net-mq.sh, is 10.0.97.2 and pings until then). One boot per
# transport, mmio and (x86_64) pci: the guest sees rx-0 rx-1 tx-0 tx-1, a
# TCP flow pinned to each vCPU sends MIB MiB each way (sums match), and
# kvmini counts frames both ways on both pairs (--verbose exit lines);
# over pci, /proc/interrupts has a vector with interrupts for each of
# input.0, input.1, output.0 and output.1. Then the guest unbinds its
# driver while a stream comes in (a reset mid-traffic on both pairs) and
# binds it again: two pairs again, and a ping. Needs tun (the lab loads it).
# lab-timeout: 900
. "$LIB"

[ -c /dev/net/tun ] || { echo "net-mq: no /dev/net/tun here"; exit 77; }
# Everything below in a fresh network namespace (lib-net.sh).
. "${LIB%/*}/lib-net.sh"

MIB=${NET_MQ_MIB:-4}
MAC=52:54:00:12:34:56

# guest_says NAME KEY: the value of the guest's "net: KEY VALUE" line.
guest_says()
{
	tr -d '\r' <"$T/$1.log" | sed -n "s/^net: $2 //p" | head -n 1
}

# tap_up NAME ADDR: once kvmini has made NAME, ADDR/24 on it, up.
tap_up()
{
	for _ in $(seq 1200); do
		if ip link show "$1" >/dev/null 2>&1; then
			ip addr add "$2/24" dev "$1" && ip link set "$1" up && return 0
		fi
		sleep 0.1
	done
	echo "net-mq: $1 never appeared"
	return 1
}

# mq TRANSPORT PORT: one boot, the guest's flows on PORT + 1, + 2 (to
# here) and PORT + 11, + 12 (from here).
mq()
{
	# guest() sets name, want and rc: none of them may hold our values.
	mqname=mq-$1 port=$2
	h2g=$(gen "$MIB" | sha256sum | cut -d' ' -f1)
	for c in 0 1; do
		nc -l -p $((port + 1 + c)) <>"$T/hold" | sha256sum | cut -d' ' -f1 >"$T/$mqname.g2h$c" &
		gen "$MIB" | nc -l -p $((port + 11 + c)) &
	done
	gen 64 | nc -l -p $((port + 21)) >/dev/null 2>&1 &
	tap_up tapmq0 10.0.97.1 &
	guest "$mqname" 0 --timeout 400 --cpus 2 --mem 256M --transport "$1" --verbose \
		--net tap=tapmq0 --cmdline "kvmini.script=net-mq kvmini.args=$MAC,$MIB,$port"
	tr -d '\r' <"$T/$mqname.log" | grep '^net: ' | sed "s/^/$mqname: guest /"
	console "$mqname" "^net: done"
	grep 'tap tapmq0: created' "$T/$mqname.err" | sed "s/^kvmini: /$mqname: /"
	[ "$(guest_says "$mqname" queues)" = "rx-0 rx-1 tx-0 tx-1 " ] ||
		fail "$mqname" "the guest's queues are '$(guest_says "$mqname" queues)', not rx-0 rx-1 tx-0 tx-1"
	for c in 0 1; do
		for _ in $(seq 50); do
			[ -s "$T/$mqname.g2h$c" ] && break
			sleep 0.2
		done
		got=$(cat "$T/$mqname.g2h$c")
		sent=$(guest_says "$mqname" tx-sum)
		[ -n "$got" ] && [ "$got" = "$sent" ] ||
			fail "$mqname" "flow $c guest to host: sha256 '$got', the guest sent '$sent'"
		got=$(guest_says "$mqname" "rx-sum $c")
		[ "$got" = "$h2g" ] || fail "$mqname" "flow $c host to guest: sha256 '$got', expected $h2g"
	done
	echo "$mqname: $MIB MiB each way on each of two flows checked"
	# Both pairs carried frames both ways, and nothing was malformed.
	grep 'virtio net0: ' "$T/$mqname.err" | sed "s/^kvmini: /$mqname: /"
	for p in 0 1; do
		line=$(grep "virtio net0: pair $p: " "$T/$mqname.err")
		tx=$(echo "$line" | sed -n 's/.* tx \([0-9]*\) frames.*/\1/p')
		rx=$(echo "$line" | sed -n 's/.* rx \([0-9]*\) frames.*/\1/p')
		[ "${tx:-0}" -gt 0 ] && [ "${rx:-0}" -gt 0 ] ||
			fail "$mqname" "pair $p moved tx '${tx}' rx '${rx}' frames: not both ways"
	done
	grep -q 'virtio net0: tx .* 0 malformed, 0 refused; rx .* 0 dropped' "$T/$mqname.err" ||
		fail "$mqname" "kvmini dropped or refused frames"
	console "$mqname" "^net: rebind ok"
	[ "$(guest_says "$mqname" "rebind queues")" = "rx-0 rx-1 tx-0 tx-1 " ] ||
		fail "$mqname" "after the reset the guest's queues are '$(guest_says "$mqname" "rebind queues")'"
}

mq mmio 6000
if [ "${KVMINI_ARCH:-x86_64}" = x86_64 ]; then
	mq pci 6100
	# A vector per queue, each of them used.
	for q in input.0 input.1 output.0 output.1; do
		n=$(tr -d '\r' <"$T/mq-pci.log" | sed -n "s/^net: irq virtio[0-9]*-$q \([0-9]*\)$/\1/p" | head -n 1)
		[ "${n:-0}" -gt 0 ] || fail mq-pci "no interrupts on the vector of $q ('$n')"
	done
else
	echo "net-mq: pci skipped (the arm64 lab boots over mmio)"
fi
finish
