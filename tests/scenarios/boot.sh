#!/bin/sh
# Both kernel formats boot to the test guest's /init and run a script
# there: the bzImage through the 64-bit boot protocol, the vmlinux through
# PVH. arm64 has one format, the Image (KERNEL and VMLINUX both).
. "$LIB"

kernels=$KERNEL
[ "$VMLINUX" = "$KERNEL" ] || kernels="$kernels $VMLINUX"
for k in $kernels; do
	n=boot-$(basename "$k")
	guest "$n" 0 --kernel "$k" --cmdline "kvmini.script=exit kvmini.args=0"
	console "$n" "kvmini-guest: init"
	console "$n" "exit.sh: exiting with 0"
done
finish
