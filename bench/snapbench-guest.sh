#!/bin/sh
# make bench's snapshot guest (bench/snapshot.sh; run.sh appends it to the
# test initramfs as /tests/snapbench.sh): ticks on the console until a
# line "stop" arrives there, then ends the VM (status 0, the exit device).
# The host snapshots it while it ticks, with nothing on its console's
# input; each restore gets "stop" lines as its input (vmmrun -I), so the
# restored guest's first line is a tick or its "stop" answer, both
# starting "snapbench ", and then it ends at once.
n=0
while :; do
	n=$((n + 1))
	echo "snapbench tick $n"
	if read -r -t 0.2 line; then
		case $line in
		stop) echo "snapbench stop $n"; exit 0 ;;
		esac
	fi
done
