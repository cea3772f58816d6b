#!/bin/sh
# make bench's vsock figures from inside the guest (bench/vsock.sh boots it
# under kvmini and under QEMU alike; the host side times each step). Args:
# BYTES N SIZE. With the vsock tool (guests/tools/vsock.c), in this order:
#   g2h: one stream of BYTES to the host, CID 2 port 5100;
#   h2g: one stream from the host, accepted on port 5101, read to its end;
#   rtt: an echo on port 5102 for the host's N round trips of SIZE bytes.
# Lines: "vsock-bench STEP vsock: ..." (the tool's), "vsock-bench FAIL: WHY".
B=$1 N=$2 SIZE=$3

vb()
{
	step=$1
	shift
	out=$("$@") || { echo "vsock-bench FAIL: $step ($out)"; exit 1; }
	echo "vsock-bench $step $out"
}

vb g2h vsock source vsock:2:5100 "$B"
vb h2g vsock sink listen:5101
vb rtt vsock echo listen:5102
echo "vsock-bench done ($N round trips of $SIZE bytes served)"
