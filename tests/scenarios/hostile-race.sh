#!/bin/sh
# A virtio-net header rewritten between the device's check and its send
# (issue #17), on a tap inside a network namespace of this scenario's own
# (nothing leaves it): a driver of the guest's own (guests/tools/hostile.c
# race) transmits one valid frame over and over on two vCPUs while a
# second thread flips its header's NEEDS_CSUM flag, which it never
# negotiated. The tap must only ever get the header the device checked:
# a packet socket here (PACKET_AUXDATA) sees no frame of it arrive with a
# partial checksum. A control run first, with CSUM negotiated and the flag
# always set, shows that the capture would see one.
# Needs tun in the kernel (the lab loads tun.ko).
. "$LIB"

[ -c /dev/net/tun ] || { echo "hostile-race: no /dev/net/tun here"; exit 77; }
if [ -z "${HOSTILE_NETNS:-}" ]; then
	HOSTILE_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
tunctl -t tap0 >/dev/null && ip link set tap0 up ||
	{ echo "hostile-race: cannot set up tap0"; exit 1; }

# This side's half is the same program (the lab installs the guest's
# tools here too).
command -v hostile >/dev/null || { echo "hostile-race: no hostile program here"; exit 1; }

# race NAME [control]: a guest transmitting for 4 s, captured here; sets
# frames and partial (frames with a partial checksum).
race()
{
	hostile capture tap0 90 >"$T/$1.cap" 2>&1 &
	cap=$!
	guest "$1" 0 --cpus 2 --net tap=tap0 \
		--cmdline "kvmini.script=hostile-race kvmini.args=4${2:+,$2}"
	wait "$cap"
	sed "s/^/$1: /" "$T/$1.cap"
	console "$1" "hostile: race: [0-9]+ frames posted"
	set -- $(sed -n 's/.*capture: \([0-9]*\) frames, \([0-9]*\) with a partial checksum, \([0-9]*\) altered/\1 \2 \3/p' \
		"$T/$1.cap")
	frames=${1:-0} partial=${2:-0} altered=${3:-0}
}

race control control
[ "$frames" -ge 100 ] || fail control "only $frames frames reached the tap"
[ "$partial" -eq "$frames" ] ||
	fail control "$partial of $frames frames with NEEDS_CSUM reached the tap with a partial checksum"

race race
[ "$frames" -ge 100 ] || fail race "only $frames frames reached the tap"
[ "$partial" -eq 0 ] || fail race "$partial frames reached the tap with the flag set after the check"
[ "$altered" -eq 0 ] || fail race "$altered frames reached the tap altered"
finish
