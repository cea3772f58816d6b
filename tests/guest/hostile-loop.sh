#!/bin/sh
# A driver that keeps a device busy forever (guests/tools/hostile.c MODE:
# blk, net-tx, net-rx): once its loop runs, another device kvmini serves
# on the same I/O thread, the rng, must still answer, each read soon
# (hostile rng says how long the longest took). Never ends by itself: the
# scenario stops kvmini (tests/scenarios/hostile-*.sh).
mode=$1
: >/tmp/hostile.log
hostile "$mode" >>/tmp/hostile.log 2>&1 &
pid=$!
tail -f /tmp/hostile.log &
while ! grep -q "loop running" /tmp/hostile.log; do
	kill -0 $pid 2>/dev/null || { wait $pid; echo "hostile-loop: hostile $mode failed"; exit 1; }
	sleep 0.2
done
timeout 30 hostile rng 3 || echo "hostile-loop: the rng did not answer during the $mode loop"
wait $pid
echo "hostile-loop: hostile $mode ended"
exit 1
