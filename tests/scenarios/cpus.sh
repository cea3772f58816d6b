#!/bin/sh
# --cpus N gives the guest N CPUs through the MP table, all brought online.
. "$LIB"

for n in 1 2 4; do
	guest "cpus-$n" 0 --cpus "$n" --cmdline "kvmini.script=cpus kvmini.args=$n"
done
finish
