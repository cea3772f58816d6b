#!/bin/sh
# A driver that resets a device, sets it up and breaks its queue, ROUNDS
# times on each DEV given (guests/tools/hostile.c reset): the device must
# say it needs a reset every time, and kvmini's log must stay short.
# Usage: hostile-reset.sh ROUNDS DEV...
rounds=$1
shift
for dev in "$@"; do
	hostile reset "$dev" "$rounds" || exit 1
done
