#!/bin/sh
# A hostile driver on virtio-vsock (guests/tools/hostile.c vsock), for
# tests/scenarios/hostile-vsock.sh: with Linux's driver unbound, forged
# and oversized packets, a table's worth of requests and more, data past
# the credit; then Linux's driver again, and a stream to the host and
# back with its bytes checksummed at both ends (guests/tools/vsock.c).
# Usage: hostile-vsock.sh LISTEN LISTEN2 CLOSED MAX PORT
listen=$1 listen2=$2 closed=$3 max=$4 port=$5

dev=
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device")" = 0x0013 ] && dev=$d
done
[ -n "$dev" ] || { echo "hostile-vsock: no virtio-vsock device"; exit 1; }
# Its platform device, for the rebind: virtio-mmio.N on x86 (the command
# line), ADDR.virtio_mmio on arm64 (the device tree).
p=$(basename "$(readlink -f "$dev/..")")

rc=0
hostile vsock "$listen" "$listen2" "$closed" "$max" || rc=$?
echo "hostile-vsock: hostile vsock ended with $rc"

echo "$p" >/sys/bus/platform/drivers/virtio-mmio/bind ||
	{ echo "hostile-vsock: $p did not bind again"; exit 1; }
drv=/sys/bus/virtio/drivers/vmw_vsock_virtio_transport
# The transport takes the device on the bind, or soon after.
bound='' n=0
while [ -z "$bound" ] && [ $n -lt 50 ]; do
	for b in "$drv"/virtio*; do
		[ -e "$b" ] && bound=$b
	done
	[ -n "$bound" ] || sleep 0.1
	n=$((n + 1))
done
out=$(vsock connect 2 "$port" 1 65536 7 2>&1) || rc=1
echo "hostile-vsock: after the rebind: $out"
exit $rc
