#!/bin/sh
# Without kvmini.script the guest's /init starts a shell on the console:
# type into it through kvmini's stdio and end the VM with "exit 3", on the
# UART (ttyS0) and on virtio-console (hvc0).
. "$LIB"

# shell NAME CONSOLE: one interactive session.
shell()
{
	in=$T/$1.in
	out=$T/$1.log
	mkfifo "$in"
	"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --console "$2" \
		--timeout 120 <"$in" >"$out" 2>"$T/$1.err" &
	pid=$!
	# Holding the fifo open keeps kvmini from seeing end of input early.
	exec 3>"$in"

	# Input sent before the shell opens its console may be dropped, so
	# wait for the prompt that follows the banner.
	i=0
	until sed -n '/kvmini-guest: interactive shell/,$p' "$out" | grep -q '# '; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
			kill $pid 2>/dev/null
			exec 3>&-
			fail "$1" "no shell prompt"
			return
		fi
		sleep 0.2
	done
	# The guest's shell does the arithmetic, so output differs from echo.
	# shellcheck disable=SC2016
	echo 'echo marker-$((6 * 7)) on $(tty); exit 3' >&3
	rc=0
	wait $pid || rc=$?
	exec 3>&-
	if [ $rc -eq 3 ]; then echo "$1: exit status 3 ok"; else fail "$1" "exit status $rc, expected 3"; fi
	console "$1" "marker-42 on $3"
}

shell uart stdio /dev/ttyS0
shell virtio-console virtio /dev/hvc0
finish
