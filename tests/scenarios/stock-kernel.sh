#!/bin/sh
# A stock distribution kernel as the guest: Debian's arm64 cloud kernel (the
# arm64 lab's own outer kernel), with the UART, GIC, timer and PSCI drivers
# built in and virtio as modules that the initrd brings and /init loads.
# Only the arm64 lab has it.
. "$LIB"

[ -f "${STOCK_KERNEL:-}" ] || exit 77
guest stock-smp 0 --kernel "$STOCK_KERNEL" --initrd "$STOCK_INITRD" --cpus 2 \
	--cmdline "kvmini.script=cpus kvmini.args=2"
console stock-smp "Linux version 6\\.1\\.[0-9]+-[0-9]+-cloud-arm64"
guest stock-rng 0 --kernel "$STOCK_KERNEL" --initrd "$STOCK_INITRD" \
	--cmdline "kvmini.script=rng kvmini.args=modern"
console stock-rng "rng.sh: read 1024 bytes"
finish
