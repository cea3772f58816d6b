#!/bin/sh
# The writing half of tests/scenarios/blk.sh. Args: TOOLS DATA [FIO]
# (device names). Reports the data disk's serial and queue count, makes an
# ext4 file system on /dev/DATA, fills it with files of random content and
# prints their checksums ("blk-sum NAME SHA256"), unmounts it cleanly and,
# with FIO, runs a verifying fio job on /dev/FIO. Exit status 0 when all
# of it worked; the host checks the rest on the image.
. /tests/blk-lib.sh
tools=$1 data=$2 fio=${3:-}

blk_tools "$tools"
echo "blk: serial $data $(cat "/sys/block/$data/serial")"
echo "blk: mq $data $(ls "/sys/block/$data/mq" | wc -l)"
echo "blk: ro $data $(cat "/sys/block/$data/ro")"

blk_step mke2fs
# mke2fs discards the whole device first: DISCARD requests, many of them.
$MKE2FS -q -t ext4 -F "/dev/$data" || blk_fail "mke2fs /dev/$data"
mkdir -p /mnt
mount -t ext4 "/dev/$data" /mnt || blk_fail "mount /dev/$data"
blk_step files
dd if=/dev/urandom of=/mnt/big bs=1M count=8 2>/dev/null || blk_fail "write big"
echo "kvmini virtio-blk test file" >/mnt/small.txt
mkdir -p /mnt/dir/sub
i=0
while [ $i -lt 40 ]; do
	dd if=/dev/urandom of=/mnt/dir/f$i bs=512 count=$((i * 7 % 61 + 1)) 2>/dev/null ||
		blk_fail "write dir/f$i"
	i=$((i + 1))
done
dd if=/dev/urandom of=/mnt/dir/sub/odd bs=1 count=12345 2>/dev/null || blk_fail "write odd"
sync
blk_sums /mnt
umount /mnt || blk_fail "umount /dev/$data"

if [ -n "$fio" ]; then
	blk_step fio
	# Four jobs on disjoint 4 MiB regions, mixed random reads and
	# writes of 4 to 64 KiB, O_DIRECT in the guest, every block written
	# verified by its checksum. (Small: each request is a few exits of a
	# nested VM, slow in the lab.)
	$FIO --name=verify --filename="/dev/$fio" --direct=1 --ioengine=psync \
		--rw=randrw --bsrange=4k-64k --size=4M --numjobs=4 --offset_increment=4M \
		--verify=crc32c --verify_fatal=1 --group_reporting \
		--output-format=terse --terse-version=3 >/tmp/fio.out 2>&1
	rc=$?
	# Terse v3: "3;fio-VERSION;JOB;GROUP;ERROR;…".
	echo "blk: fio status $rc error $(grep '^3;' /tmp/fio.out | cut -d';' -f5)"
	[ $rc -eq 0 ] || { cat /tmp/fio.out; blk_fail "fio"; }
fi
blk_step "write done"
