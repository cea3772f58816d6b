#!/bin/sh
# A hostile guest against virtio-vsock (issue #18): a driver of its own
# (guests/tools/hostile.c vsock, with Linux's unbound) sends, one at a
# time, headers short, forged and misaddressed, of unknown types and ops,
# lengths its chains do not hold or over 64 KiB, data for no stream,
# requests to a closed port (also faster than it takes the resets: 64
# wait in the device, the rest are dropped) and to a listener from more
# ports than the table holds (128, docs/vsock.md), bad packets on the
# streams it got, and data past its credit into a host reader that never
# reads; every reply must be the one each packet deserves
# (tests/guest/hostile-vsock.sh runs the guest's side). kvmini must keep
# running, its memory flat (less than 1 MiB more, guest RAM aside, from
# before the first packet to after the last) and its stderr a few lines;
# after the driver binds again, a stream to the host and back,
# checksummed at both ends; status 0.
. "$LIB"

U=$T/v.sock
pids=

. "${LIB%/*}/lib-vsock.sh"

# 7000: takes the table's 128 streams and never reads; 7001: one stream,
# which only a table with room again may bring; 7002: after the rebind.
host listen env VSOCK_PAUSE=3600 vsock ulisten "${U}_7000" 128 0 0
host listen2 vsock ulisten "${U}_7001" 1 0 0
host after vsock ulisten "${U}_7002" 1 65536 8
# own PID: kvmini's resident KiB but for the guest's RAM, its largest
# mapping, which the guest fills as it runs, 2 MiB at a time (huge pages).
own()
{
	awk '/^[0-9a-f]+-[0-9a-f]+ / { n++ }
	     /^Size:/ { size[n] = $2 }
	     /^Rss:/ { rss[n] = $2; all += $2 }
	     END { for (i = 1; i <= n; i++) if (size[i] > size[b]) b = i; print all - rss[b] }' \
		"/proc/$1/smaps" 2>/dev/null
}

# kvmini's memory before the first packet and after the last (none when
# kvmini ended before: $T/ended).
(
	for _ in $(seq 900); do
		grep -q '^hostile: vsock running' "$T/guest.log" 2>/dev/null && break
		[ -e "$T/ended" ] && break
		sleep 0.2
	done
	pid=$(pidof kvmini | cut -d' ' -f1)
	r1=$(own "$pid")
	for _ in $(seq 900); do
		grep -q '^hostile: vsock: .* packets; back' "$T/guest.log" 2>/dev/null && break
		[ -e "$T/ended" ] && break
		sleep 0.2
	done
	r2=$(own "$pid")
	echo "$r1 $r2" >"$T/rss"
) &
rss=$!

guest guest 0 --timeout 150 --vsock "3,uds=$U" \
	--cmdline "kvmini.script=hostile-vsock kvmini.args=7000,7001,7999,128,7002"
: >"$T/ended"
tr -d '\r' <"$T/guest.log" | grep '^hostile' | sed 's/^/guest: /'
wait "$rss"
for p in $pids; do
	kill "$p" 2>/dev/null
done
wait 2>/dev/null

console guest '^hostile: vsock: no stream: 47 packets, 38 resets back \(38 expected\)'
# Our 64 receive buffers, and the device's 64 resets waiting (docs/vsock.md).
console guest '^hostile: vsock: flood: 200 requests to a closed port, 128 resets back, 128 in order, 72 dropped'
console guest '^hostile: vsock: table: 192 requests, 128 accepted, 64 reset \(128 expected\)'
console guest '^hostile: vsock: streams: 10 packets, 6 resets back \(6 expected\)'
console guest '^hostile: vsock: overrun: reset after [0-9]+ KiB taken \(the credit: 128 KiB\)'
console guest '^hostile: vsock: .* packets; back: .*; 0 stray; as expected'
console guest '^hostile-vsock: hostile vsock ended with 0'
# The one stream the second listener got was the last request's, and
# the device reset closed it.
grep -q '^vsock: streams 1 sent 0 sum [0-9a-f]* recv 0 ' "$T/listen2.host" ||
	fail guest "second listener: '$(cat "$T/listen2.host")'"
# After the rebind: what the guest sent, the host received, and back.
g=$(tr -d '\r' <"$T/guest.log" | sed -n 's/^hostile-vsock: after the rebind: //p')
h=$(grep '^vsock: streams' "$T/after.host")
gs=$(echo "$g" | sed -n 's/.* sent 65536 sum \([0-9a-f]*\) recv 65536 sum \([0-9a-f]*\)$/\1 \2/p')
hs=$(echo "$h" | sed -n 's/.* sent 65536 sum \([0-9a-f]*\) recv 65536 sum \([0-9a-f]*\)$/\2 \1/p')
if [ -n "$gs" ] && [ "$gs" = "$hs" ]; then
	echo "after: guest '$g', host matches"
else
	fail guest "after the rebind: guest '$g', host '$h'"
fi
read -r r1 r2 <"$T/rss" || :
if [ -n "$r1" ] && [ -n "$r2" ] && [ $((r2 - r1)) -lt 1024 ]; then
	echo "guest: kvmini's RSS (but guest RAM) ${r1} KiB before the first packet, ${r2} KiB after the last"
else
	fail guest "kvmini's RSS (but guest RAM) went from '$r1' to '$r2' KiB"
fi
n=$(wc -l <"$T/guest.err")
echo "guest: $n lines on kvmini's stderr"
[ "$n" -le 6 ] || fail guest "$n lines on stderr"
finish
