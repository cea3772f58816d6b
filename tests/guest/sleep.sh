#!/bin/sh
# Never ends by itself: for --timeout and signals.
echo "sleep.sh: sleeping"
while :; do sleep 60; done
