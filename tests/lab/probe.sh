#!/bin/sh
# Can this host's KVM boot Linux? Boots the test guest's PVH vmlinux (no
# decompression, so a KVM that cannot run Linux fails in seconds rather
# than timing out) and asks it to exit with 0.
# Usage: tests/lab/probe.sh KVMINI GUEST_DIR [LOG]
kvmini=$1
guest=$2
log=${3:-/dev/null}
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || exit 1
timeout -k 5 60 "$kvmini" run --kernel "$guest/vmlinux" \
	--initrd "$guest/initramfs.cpio.gz" --console none --timeout 20 \
	--cmdline kvmini.script=probe >"$log" 2>&1 </dev/null
