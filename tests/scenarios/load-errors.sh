#!/bin/sh
# Kernels kvmini must refuse before it runs anything, each with one error
# line and status 125: a file that is no kernel, and (arm64, with the big
# stock kernel) a guest too small for its kernel and device tree.
. "$LIB"

# refused NAME REGEX [kvmini run options...]
refused()
{
	n=$1 re=$2
	shift 2
	guest "$n" 125 "$@" && stderr "$n" "$re" &&
		{ [ "$(wc -l <"$T/$n.err")" -eq 1 ] || fail "$n" "more than one error line"; }
}

refused not-a-kernel "kernel '.*': not (a Linux kernel|an arm64 Linux Image)" --kernel "$INITRD"
if [ -f "${STOCK_KERNEL:-}" ]; then
	refused too-small "does not fit in 16 MiB of guest memory.*use a larger --mem" \
		--kernel "$STOCK_KERNEL" --mem 16M
fi
finish
