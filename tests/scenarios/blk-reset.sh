#!/bin/sh
# virtio-blk resets with requests in flight (tests/guest/blk-reset.sh): the
# guest rebinds one disk's driver three times under load, then resets six
# more disks through their status register while a dozen readers and
# writers keep each busy (their requests held up on this side, so that
# each reset finds dozens in flight), all the while writing and reading a data
# disk. kvmini must run to the end (a reset waits for the io_uring on the
# vCPU thread that wrote the status: a seccomp filter without
# io_uring_enter there once ended kvmini with 159), say with --verbose
# that at least one reset found requests in flight (else this proves
# nothing), and the images must hold what the guest wrote and nothing
# where it did not write. Runs on x86_64 and arm64 (busybox only).
. "$LIB"

# The chaos disks are opened O_DIRECT, on a file system that has it, so
# that their requests are truly in flight, in the host's block layer,
# rather than done as soon as submitted (from the page cache). tmpfs has
# O_DIRECT from Linux 6.6 on only: before, an ext2 on a loop device.
ddir=$T
loop=
throttle=
cleanup()
{
	[ -z "$throttle" ] || { rmdir "$throttle"; umount "$T/cg"; } 2>/dev/null
	[ -z "$loop" ] || { umount "$T/scratch"; losetup -d "$loop"; } 2>/dev/null
}
trap cleanup EXIT
if ! dd if=/dev/zero of="$T/probe" bs=4096 count=1 oflag=direct 2>/dev/null; then
	[ -e /dev/loop-control ] || insmod /lib/modules/loop.ko 2>/dev/null
	truncate -s 448M "$T/scratch.img"
	mkdir -p "$T/scratch"
	loop=$(losetup -f) && losetup "$loop" "$T/scratch.img" &&
		mke2fs -F "$loop" >/dev/null 2>&1 && mount "$loop" "$T/scratch" ||
		{ echo "blk-reset: no file system with O_DIRECT (loop.ko?)"; exit 1; }
	ddir=$T/scratch
fi
rm -f "$T/probe"

# And slow: the guest issues requests more slowly than this side serves
# them, so a reset would often find none in flight. kvmini alone goes
# into a cgroup whose reads and writes on the loop device are held to 20
# a second (cgroup v2 io.max): requests wait there, in flight, and a
# reset must wait for them (a second or two per disk).
if [ -n "$loop" ] && mkdir -p "$T/cg" && mount -t cgroup2 none "$T/cg" 2>/dev/null; then
	echo +io >"$T/cg/cgroup.subtree_control" 2>/dev/null
	mkdir -p "$T/cg/blk-reset"
	if echo "$(cat "/sys/block/${loop#/dev/}/dev") riops=20 wiops=20" \
		>"$T/cg/blk-reset/io.max" 2>/dev/null; then
		throttle=$T/cg/blk-reset
	else
		rmdir "$T/cg/blk-reset"
		umount "$T/cg"
	fi
fi
if [ -n "$throttle" ]; then
	printf '#!/bin/sh\necho $$ >%s/cgroup.procs && exec %s "$@"\n' \
		"$throttle" "$KVMINI" >"$T/kvmini"
	chmod +x "$T/kvmini"
	KVMINI=$T/kvmini
	echo "blk-reset: the chaos disks' file system held to 20 requests a second"
else
	echo "blk-reset: no cgroup io.max here: the resets may find nothing in flight"
fi

# Each disk its own size: the guest finds a disk's registers by capacity.
mkimg()
{
	dd if=/dev/urandom of="$1" bs=1M count="$2" 2>/dev/null
}
mkimg "$T/data.img" 32
truncate -s 24M "$T/rebind.img"
CHAOS="1 2 3 4 5 6"
for c in $CHAOS; do
	mkimg "$ddir/chaos$c.img" $((40 + c * 4))
done

# region FILE FROM COUNT: sha256 of COUNT MiB of FILE from MiB FROM.
region()
{
	dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null | sha256sum | cut -d' ' -f1
}

# What the guest must not change: each chaos disk but the 4 MiB its
# writers write (MiB 4 to 8).
for c in $CHAOS; do
	size=$((40 + c * 4))
	eval "keep_lo$c=\$(region \"\$ddir/chaos$c.img\" 0 4)"
	eval "keep_hi$c=\$(region \"\$ddir/chaos$c.img\" 8 $((size - 8)))"
done

guest reset 0 --timeout 240 --cpus 2 --mem 1G --verbose \
	--disk "$T/data.img" --disk "$T/rebind.img" \
	--disk "$ddir/chaos1.img,direct" --disk "$ddir/chaos2.img,direct" \
	--disk "$ddir/chaos3.img,direct" --disk "$ddir/chaos4.img,direct" \
	--disk "$ddir/chaos5.img,direct" --disk "$ddir/chaos6.img,direct" \
	--cmdline "kvmini.script=blk-reset kvmini.args=vda,vdb,vdc,vdd,vde,vdf,vdg,vdh"
tr -d '\r' <"$T/reset.log" | grep '^blk: ' | sed 's/^/reset: guest /'
for r in 1 2 3; do
	console reset "blk: rebind round $r done"
done
console reset "blk: rebind vdb ok"
for d in vdc vdd vde vdf vdg vdh; do
	console reset "blk: chaos $d reset at 0x[0-9a-f]+, status now 0x0+"
done
console reset "blk: data vda ok"
console reset "blk: .* reset done"

# kvmini's own account: resets that found requests in flight. Held up by
# the cgroup, every one must have; without it, at least one.
n=$(grep -c 'reset with [0-9]* requests in flight' "$T/reset.err")
grep 'reset with [0-9]* requests in flight' "$T/reset.err" | sed 's/^/reset: kvmini /'
want=1
[ -z "$throttle" ] || want=$(echo $CHAOS | wc -w)
if [ "$n" -ge "$want" ]; then
	echo "reset: $n resets with requests in flight"
else
	fail reset "$n resets found requests in flight, $want expected: the test proved less than it should"
fi
if grep -Eq 'error|forbidden|warning' "$T/reset.err"; then
	fail reset "kvmini reported a problem"
fi

# The images: what the guest wrote, and nothing where it did not write.
want=$(tr -d '\r' <"$T/reset.log" | sed -n 's/^blk: data-sum //p')
[ "$(region "$T/data.img" 0 8)" = "$want" ] || fail reset "data.img does not hold what the guest wrote"
want=$(tr -d '\r' <"$T/reset.log" | sed -n 's/^blk: rebind-sum //p')
[ "$(region "$T/rebind.img" 0 8)" = "$want" ] || fail reset "rebind.img does not hold what the guest wrote"
for c in $CHAOS; do
	size=$((40 + c * 4))
	eval "lo=\$keep_lo$c hi=\$keep_hi$c"
	[ "$(region "$ddir/chaos$c.img" 0 4)" = "$lo" ] &&
		[ "$(region "$ddir/chaos$c.img" 8 $((size - 8)))" = "$hi" ] ||
		fail reset "chaos$c.img changed outside what the guest wrote"
done
echo "reset: images checked"
finish
