#!/bin/sh
# Boot the test guest to its /init, run a guest script there and come back
# out through the exit device with status 0.
set -eu

console=$T/console.log
rc=0
"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --console "file:$console" \
	--timeout 120 --cmdline "kvmini.script=exit kvmini.args=0" || rc=$?

ok=1
if [ $rc -ne 0 ]; then
	echo "boot: kvmini exited with $rc, expected 0"
	ok=0
fi
# Both lines, in case the exit status was right by accident: the guest must
# have reached /init and run the script.
for want in "kvmini-guest: init" "exit.sh: exiting with 0"; do
	if ! grep -q "$want" "$console" 2>/dev/null; then
		echo "boot: '$want' missing from the guest console"
		ok=0
	fi
done
if [ $ok -eq 0 ]; then
	echo "boot: end of the guest console:"
	tail -n 40 "$console" 2>/dev/null
	exit 1
fi
echo "boot: ok"
