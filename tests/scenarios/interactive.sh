#!/bin/sh
# Without kvmini.script the guest's /init starts a shell on the console: type
# into it through kvmini's stdio console and end the VM with "exit 3".
set -eu

in=$T/in
out=$T/console.log
mkfifo "$in"
"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --console stdio \
	--timeout 120 <"$in" >"$out" 2>&1 &
pid=$!
# Holding the fifo open keeps kvmini from seeing end of input too early.
exec 3>"$in"

# Input sent before the shell opens the serial port may be dropped, so wait
# for the prompt that follows the banner.
i=0
until sed -n '/kvmini-guest: interactive shell/,$p' "$out" | grep -q '# '; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
		echo "interactive: no shell prompt; end of the console:"
		tail -n 30 "$out"
		kill $pid 2>/dev/null || true
		exit 1
	fi
	sleep 0.2
done
# The guest's shell does the arithmetic, so the output differs from the echo.
# shellcheck disable=SC2016
echo 'echo marker-$((6 * 7)); exit 3' >&3

rc=0
wait $pid || rc=$?
exec 3>&-
ok=1
if [ $rc -ne 3 ]; then
	echo "interactive: kvmini exited with $rc, expected 3"
	ok=0
fi
if ! grep -q 'marker-42' "$out"; then
	echo "interactive: the shell's output is missing"
	ok=0
fi
if [ $ok -eq 0 ]; then
	echo "interactive: end of the console:"
	tail -n 30 "$out"
	exit 1
fi
echo "interactive: ok"
