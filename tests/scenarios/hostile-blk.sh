#!/bin/sh
# A hostile guest against virtio-blk (issue #17): a driver of its own
# (guests/tools/hostile.c, with Linux's unbound) re-posts one request of
# an unknown type, which the device completes without I/O, as fast as the
# device gives it back, forever. kvmini must still serve the rng meanwhile,
# end within a second of SIGTERM with 143, and end by itself with 124 at
# --timeout. Then a driver that resets the rng and the disk, sets them up
# and breaks their queues, HOSTILE_ROUNDS times each: every round must end
# in DEVICE_NEEDS_RESET, and kvmini's log must stay a few lines.
. "$LIB"

# The endless loops, their SIGTERM and --timeout checks (as in
# hostile-blk, -tap and -user.sh).
. "${LIB%/*}/lib-hostile.sh"

truncate -s 8M "$T/disk.img"
sigterm blk-term blk --disk "$T/disk.img"
timed blk-timeout blk --disk "$T/disk.img"

# ---- reset, set up, break, again ------------------------------------------------

# Logged: the first three breaks of each queue and one "needs reset" per
# device; the rest is counted in one line at the exit.
rounds=${HOSTILE_ROUNDS:-100}
guest reset 0 --disk "$T/disk.img" \
	--cmdline "kvmini.script=hostile-reset kvmini.args=$rounds,rng,blk"
console reset "reset loop on rng: $rounds rounds, the device needed a reset after $rounds"
console reset "reset loop on blk: $rounds rounds, the device needed a reset after $rounds"
stderr reset "virtq .*: $((rounds - 3)) more breaks of the queue, not logged"
stderr reset "virtq .*: $((rounds - 3)) more breaks of the queue, not logged"
n=$(wc -l <"$T/reset.err")
echo "reset: $n lines on kvmini's stderr for $((2 * rounds)) broken queues"
[ "$n" -le 12 ] || fail reset "$n lines on stderr"
finish
