#!/bin/sh
# The status a guest writes to the exit device must come back intact as
# kvmini's own exit status, from 0 through 255; a missing guest script is
# the init's 127.
set -eu

fails=0

# check WANT CMDLINE
check()
{
	want=$1
	console=$T/console-$want.log
	rc=0
	"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --console "file:$console" \
		--timeout 120 --cmdline "$2" || rc=$?
	if [ $rc -eq "$want" ]; then
		echo "exit-status: '$2' -> $rc ok"
	else
		echo "exit-status: '$2' -> $rc, expected $want; end of the guest console:"
		tail -n 20 "$console" 2>/dev/null
		fails=$((fails + 1))
	fi
}

for s in 0 1 42 255; do
	check $s "kvmini.script=exit kvmini.args=$s"
done
check 127 "kvmini.script=no-such-script"

[ $fails -eq 0 ]
