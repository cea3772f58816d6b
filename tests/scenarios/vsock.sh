#!/bin/sh
# virtio-vsock (--vsock 3,uds=PATH, docs/vsock.md) with Linux's driver:
# 4 MiB each way in both directions of connecting (the guest to the Unix
# socket PATH_PORT, a host program through PATH's "CONNECT PORT"), every
# stream's bytes checksummed at both ends (tests/guest/vsock.sh runs the
# guest's side of each step); a port nobody listens on resets the guest's
# connect; socat (from HOSTROOT: the build host's / in the x86_64 lab,
# the arm64 sysroot in the arm64 lab) speaks the CONNECT
# protocol; 50 streams at once; a host reader that reads nothing for 6 s
# (the guest's writer waits, nothing is lost, kvmini's memory stays flat:
# less than 4 MiB more over 4 s of the 16 MiB it could take); a driver
# reset (unbind)
# with a stream open closes its host end, and the device works after it.
# The vsock tool is the guest's own (guests/tools/vsock.c), taken out of
# the test initramfs when the outer VM lacks it. Run as vsock-pci.sh (a
# link to this file), the device is a virtio-pci function
# (--transport pci) and the same checks hold.
# lab-timeout: 600
. "$LIB"

case $(basename "$0") in
vsock-pci.sh) TRANSPORT=pci ;;
*) TRANSPORT=mmio ;;
esac

B=$((4 * 1024 * 1024))
N=50
SLOW=$((16 * 1024 * 1024))
U=$T/v.sock
pids=

. "${LIB%/*}/lib-vsock.sh"

# reap: the host sides get 20 s to end after the guest did; then they are
# stopped (a step the guest never reached leaves its listener waiting).
reap()
{
	for _ in $(seq 100); do
		alive=
		for p in $pids; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ -n "$alive" ] || return 0
		sleep 0.2
	done
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
}

# sums NAME: "SENT_SUM RECV_SUM" of a vsock line.
sums()
{
	sed -n 's/.* sent [0-9]* sum \([0-9a-f]*\) recv [0-9]* sum \([0-9a-f]*\).*/\1 \2/p'
}

# pair STEP HOSTFILE: the guest's step line and the host's line must be
# each other's mirror: what one sent, the other received, sums alike.
pair()
{
	g=$(tr -d '\r' <"$T/guest.log" | grep "^vsock: $1 streams" | head -n 1)
	h=$(grep '^vsock: streams' "$T/$2.host" | head -n 1)
	gs=$(echo "$g" | sums) hs=$(echo "$h" | sums)
	set -- "$1" "$2" $gs $hs
	if [ $# -eq 6 ] && [ "$3" = "$6" ] && [ "$4" = "$5" ]; then
		echo "$1: guest '${g#vsock: }', host matches"
	else
		fail guest "$1: guest '$g' and host '$h' do not match"
	fi
}

# The host's ends, waiting before the guest boots.
host g2h vsock ulisten "${U}_5000" 1 "$B" 2
host h2g vsock uconnect "$U" 6000 1 "$B" 4
host many vsock ulisten "${U}_5002" "$N" 4096 20
host slow env VSOCK_PAUSE=6 vsock ulisten "${U}_5003" 1 "$SLOW" 31
# kvmini's memory while that reader pauses and the guest's writer has
# 16 MiB to send: what kvmini holds for it is bounded by the credit.
(
	for _ in $(seq 1500); do
		grep -q '^vsock: many' "$T/guest.log" 2>/dev/null && break
		sleep 0.2
	done
	sleep 1
	pid=$(pidof kvmini | cut -d' ' -f1)
	r1=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	sleep 4
	r2=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	echo "$r1 $r2" >"$T/rss"
) &
pids="$pids $!"
host reset vsock ulisten "${U}_5004" 1 0 0
host after-reset vsock ulisten "${U}_5005" 1 4096 41
# socat: once the guest is past h2g it listens on 6001; until it does,
# the guest resets the stream and socat reads nothing: retried. Without
# the build host's / (arm64), the vsock tool's client instead.
[ -n "${HOSTROOT:-}" ] || host socat vsock uconnect "$U" 6001 1 65536 5
[ -z "${HOSTROOT:-}" ] || (
	for _ in $(seq 1500); do
		grep -q '^vsock: h2g' "$T/guest.log" 2>/dev/null && break
		sleep 0.2
	done
	for _ in $(seq 60); do
		printf 'CONNECT 6001\n' |
			hostrun socat -t 30 - "UNIX-CONNECT:$U" >"$T/socat.out" 2>"$T/socat.err"
		head -n 1 "$T/socat.out" | grep -q '^OK [0-9][0-9]*$' && break
		sleep 0.5
	done
) &
pids="$pids $!"

guest guest 0 --timeout 400 --mem 256M --verbose --vsock "3,uds=$U" \
	--transport "$TRANSPORT" --cmdline "kvmini.script=vsock kvmini.args=$B,$N,$SLOW"
tr -d '\r' <"$T/guest.log" | grep '^vsock:' | sed 's/^/guest: /'
reap
console guest "vsock: refused .*Connection reset by peer"
grep 'virtio vsock' "$T/guest.err" | sed 's/^kvmini: /guest: /'
console guest "vsock: done"
pair g2h g2h
pair h2g h2g
pair many many
pair slow slow
read -r r1 r2 <"$T/rss" || :
if [ -n "$r1" ] && [ -n "$r2" ] && [ $((r2 - r1)) -lt 4096 ]; then
	echo "slow: kvmini's RSS ${r1} KiB, then ${r2} KiB while the reader paused"
else
	fail guest "slow: kvmini's RSS went from '$r1' to '$r2' KiB while the reader paused"
fi
pair after-reset after-reset
grep -q "^vsock: streams $N sent $((N * 4096)) " "$T/many.host" ||
	fail many "host side: $(cat "$T/many.host")"
# The reset stream's host end was closed, by an end of file or a reset.
grep -q 'recv [0-9]* sum\|Connection reset' "$T/reset.host" ||
	fail reset "host side did not see the stream end: $(cat "$T/reset.host")"
echo "reset: host side '$(cat "$T/reset.host")'"

# socat's bytes: "OK PORT" and then the guest's 64 KiB stream 5.
if [ -z "${HOSTROOT:-}" ]; then
	pair socat socat
	echo "socat: none without the build host's / (the vsock tool's client stood in)"
elif hostrun socat -V >/dev/null 2>&1; then
	line=$(head -n 1 "$T/socat.out")
	want=$(vsock gen 65536 5 | sha256sum | cut -d' ' -f1)
	got=$(tail -c +$((${#line} + 2)) "$T/socat.out" | sha256sum | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then
		echo "socat: '$line' then 64 KiB, sums match"
	else
		fail guest "socat: '$line', then sha256 $got, expected $want ($(cat "$T/socat.err"))"
	fi
else
	fail guest "no socat on the build host (make deps)"
fi
# Where kvmini put the device: a virtio-mmio slot, or a PCI function.
if [ "$TRANSPORT" = pci ]; then
	stderr guest "virtio vsock on pci "
else
	stderr guest "virtio vsock at"
fi
finish
