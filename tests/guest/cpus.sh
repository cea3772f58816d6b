#!/bin/sh
# Exits 0 when the guest sees exactly $1 CPUs, online and in /proc/cpuinfo.
want=$1
seen=$(grep -c '^processor' /proc/cpuinfo)
online=$(cat /sys/devices/system/cpu/online)
echo "cpus.sh: $seen CPUs in /proc/cpuinfo, online $online"
[ "$seen" -eq "$want" ] || exit 1
[ "$want" -eq 1 ] && [ "$online" = 0 ] && exit 0
[ "$online" = "0-$((want - 1))" ]
