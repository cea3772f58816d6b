# shellcheck shell=sh
# What the vsock scenarios share (tests/scenarios/vsock.sh and
# hostile-vsock.sh); sourced after lib.sh, with pids set.

# The vsock tool (guests/tools/vsock.c): the lab's outer VM has it; else
# the one in the test initramfs.
if ! command -v vsock >/dev/null 2>&1; then
	mkdir -p "$T/initramfs"
	(cd "$T/initramfs" && zcat "$INITRD" | cpio -id 2>/dev/null)
	PATH=$T/initramfs/bin:$PATH
	command -v vsock >/dev/null 2>&1 || { echo "vsock: no vsock tool in $INITRD"; exit 1; }
fi

# host NAME CMD...: a host side in the background, its line in $T/NAME.host.
host()
{
	name=$1
	shift
	"$@" >"$T/$name.host" 2>&1 &
	pids="$pids $!"
}
