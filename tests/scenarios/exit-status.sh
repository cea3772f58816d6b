#!/bin/sh
# The status a guest writes to the exit device comes back intact as
# kvmini's own exit status, from 0 through 255; a missing guest script is
# the init's 127.
. "$LIB"

for s in 0 1 42 255; do
	guest "exit-$s" "$s" --cmdline "kvmini.script=exit kvmini.args=$s"
done
guest no-script 127 --cmdline "kvmini.script=no-such-script"
finish
