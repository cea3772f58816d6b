#!/bin/sh
# Sourced by the blk-*.sh guest scripts (tests/scenarios/blk.sh): failing,
# and the tools disk. Run on its own it does nothing.

# blk_step TEXT: TEXT with the guest's uptime, for timing the steps.
blk_step()
{
	echo "blk: [$(cut -d' ' -f1 /proc/uptime)] $*"
}

blk_fail()
{
	echo "blk: FAIL: $*"
	exit 1
}

# blk_tools DEV: mounts the tools disk (tools.img, read-only, built by
# guests/build-initramfs.sh) on /tools and links its library directories
# into / (the initramfs has none), so /tools/usr/sbin/mke2fs and the
# others find their dynamic loader and libraries where they look.
blk_tools()
{
	mkdir -p /tools
	mount -t ext4 -o ro "/dev/$1" /tools || blk_fail "cannot mount the tools disk /dev/$1"
	for d in lib lib64 usr/lib; do
		[ -e "/tools/$d" ] && ln -sfn "/tools/$d" "/$d"
	done
	MKE2FS=/tools/usr/sbin/mke2fs
	BLKDISCARD_Z="/tools/usr/sbin/blkdiscard -f -z"
	FIO=/tools/usr/bin/fio
}

# blk_sums DIR: "blk-sum NAME SHA256" for every regular file under DIR,
# in a fixed order; the host compares them with what it reads itself.
blk_sums()
{
	(cd "$1" && find . -type f | sort | while read -r f; do
		echo "blk-sum ${f#./} $(sha256sum <"$f" | cut -d' ' -f1)"
	done)
}
