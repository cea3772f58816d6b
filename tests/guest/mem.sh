#!/bin/sh
# Exits 0 when the guest's MemTotal is within [$1, $2] MiB and it can use
# memory above 4 GiB (the e820/PVH map gave it the high region).
total=$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)
echo "mem.sh: MemTotal $total MiB"
[ "$total" -ge "$1" ] && [ "$total" -le "$2" ]
