#!/bin/sh
# virtio-vsock from the guest's side, one step after the other, for
# tests/scenarios/vsock.sh, whose host side waits for each: $1 bytes per
# stream, $2 streams at once. Each step's result is one "vsock: STEP …"
# line (the vsock tool's, guests/tools/vsock.c); any failure ends with 1.
# $3: bytes for the stream whose host reader pauses.
B=$1 N=$2 SLOW=$3

# step NAME CMD...: CMD's "vsock:" line, renamed to "vsock: NAME".
step()
{
	name=$1
	shift
	read -r t0 _ </proc/uptime
	out=$("$@") || { echo "vsock: $name FAILED ($out)"; exit 1; }
	read -r t1 _ </proc/uptime
	echo "$out" | sed "s/^vsock:/vsock: $name/;s/\$/ ($(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s)/"
}

dev=
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device")" = 0x0013 ] && dev=$(basename "$d")
done
[ -n "$dev" ] || { echo "vsock: no virtio-vsock device"; exit 1; }
drv=/sys/bus/virtio/drivers/vmw_vsock_virtio_transport
[ -e "$drv/$dev" ] || { echo "vsock: $dev not bound to $drv"; exit 1; }
echo "vsock: device $dev"

step g2h vsock connect 2 5000 1 "$B" 1
step refused vsock refused 2 5999
step h2g vsock listen 6000 1 "$B" 3
step socat vsock listen 6001 1 65536 5
step many vsock connect 2 5002 "$N" 4096 10
step slow vsock connect 2 5003 1 "$SLOW" 30

# A driver reset with a stream open: its host end closes. The stream
# sends more than the host reads in the second before the reset.
vsock connect 2 5004 1 1000000000 0 >/tmp/reset.out 2>&1 &
sleep 2
echo "$dev" >"$drv/unbind"
wait
echo "vsock: reset unbound ($(cat /tmp/reset.out | head -n 1))"
echo "$dev" >"$drv/bind"
[ -e "$drv/$dev" ] || { echo "vsock: $dev did not bind again"; exit 1; }
step after-reset vsock connect 2 5005 1 4096 40
echo "vsock: done"
