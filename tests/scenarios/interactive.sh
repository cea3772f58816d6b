#!/bin/sh
# Without kvmini.script the guest's /init starts a shell on the console:
# type into it through kvmini's stdio and end the VM with "exit 3", on the
# UART (ttyS0) and on virtio-console (hvc0).
. "$LIB"

# shell NAME CONSOLE TTY [kvmini options]: one interactive session.
shell()
{
	name=$1 con=$2 tty=$3
	shift 3
	in=$T/$name.in
	out=$T/$name.log
	mkfifo "$in"
	"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --console "$con" \
		--timeout 120 "$@" <"$in" >"$out" 2>"$T/$name.err" &
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
			fail "$name" "no shell prompt"
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
	if [ $rc -eq 3 ]; then echo "$name: exit status 3 ok"; else fail "$name" "exit status $rc, expected 3"; fi
	console "$name" "marker-42 on $tty"
}

shell uart stdio /dev/ttyS0
shell virtio-console virtio /dev/hvc0
shell virtio-console-legacy virtio /dev/hvc0 --virtio-legacy
finish
