#!/bin/sh
# kvmini exec end to end (docs/exec.md): the job's stdout and stderr
# arrive apart, in order, byte for byte, and nothing else with them; its
# exit status, 128+N for a signal, 124 on --timeout, 127 for a command
# that does not exist; 64 MiB of output with a checksum, through a slow
# reader, while kvmini's memory stays bounded. These run the job in the
# busybox initramfs (--root initrd); exec-host.sh runs jobs on the host's
# own / over virtio-fs.
. "$LIB"
. "${LIB%/*}/lib-exec.sh"

# xrun NAME WANT [exec options] [--] CMD...: kvmini exec with stdout in
# $T/NAME.out and stderr in $T/NAME.err; checks the exit status.
xrun()
{
	name=$1 want=$2
	shift 2
	rc=0
	"$KVMINI" exec --kernel "$KERNEL" --timeout 120 "$@" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null || rc=$?
	if [ "$rc" -eq "$want" ]; then
		echo "$name: exit status $rc ok"
		return 0
	fi
	fail "$name" "exit status $rc, expected $want"
	return 1
}

INITRD_ROOT="--root initrd --initrd $INITRD"

# ---- streams and status ----------------------------------------------------

# shellcheck disable=SC2086
xrun streams 7 $INITRD_ROOT -- sh -c 'echo out; echo err >&2; exit 7' &&
	is streams out 'out\n' && is streams err 'err\n'
# shellcheck disable=SC2086
xrun false 1 $INITRD_ROOT -- false && is false out '' && is false err ''
# shellcheck disable=SC2086
xrun sigkill 137 $INITRD_ROOT -- sh -c 'kill -KILL $$'
# shellcheck disable=SC2086
xrun sigterm 143 $INITRD_ROOT -- sh -c 'echo before; kill -TERM $$; echo after' &&
	is sigterm out 'before\n'
# shellcheck disable=SC2086
xrun notfound 127 $INITRD_ROOT -- no-such-command arg && stderr notfound 'no-such-command: command not found'
# shellcheck disable=SC2086
xrun notexec 126 $INITRD_ROOT -- /etc
# Arguments and the environment travel byte for byte (the job spec has no
# quoting); the working directory is set.
# shellcheck disable=SC2086
xrun args 0 $INITRD_ROOT --env 'FOO=x  y' --env "BAR=a'b" --workdir /tmp -- \
	sh -c 'printf "%s|" "$@" "$FOO" "$BAR" "$(pwd)"' sh 'a b' '' "c'd" 'e
f' '$HOME' &&
	is args out "a b||c'd|e\\nf|\$HOME|x  y|a'b|/tmp|"
# Each stream in order, the two apart.
# shellcheck disable=SC2086
xrun order 0 $INITRD_ROOT -- sh -c 'i=0; while [ $i -lt 2000 ]; do echo o$i; echo e$i >&2; i=$((i + 1)); done'
i=0
while [ $i -lt 2000 ]; do
	echo "o$i" >>"$T/order.want-out"
	echo "e$i" >>"$T/order.want-err"
	i=$((i + 1))
done
cmp -s "$T/order.out" "$T/order.want-out" && cmp -s "$T/order.err" "$T/order.want-err" &&
	echo "order: 2000 lines on each stream, in order" || fail order "streams out of order or mixed"

# $KVMINI_KERNEL is where kvmini looks without --kernel; a missing one is
# an error before anything boots.
rc=0
KVMINI_KERNEL=$T/none "$KVMINI" exec -- true >"$T/nokernel.out" 2>"$T/nokernel.err" </dev/null || rc=$?
[ $rc -eq 125 ] && stderr nokernel "cannot read kernel \(\\\$KVMINI_KERNEL\) '$T/none'" ||
	fail nokernel "exit status $rc, expected 125"

# Debian's stock cloud kernel: the agent loads its virtio drivers from
# the initramfs's /lib/modules/load (guests/build-debian.sh), and the
# kernel finds the devices through ACPI.
if [ "${KVMINI_ARCH:-x86_64}" = x86_64 ] && [ -f "$GUEST/debian-cloud/vmlinuz" ]; then
	xrun stock 5 --kernel "$GUEST/debian-cloud/vmlinuz" --root initrd \
		--initrd "$GUEST/debian-cloud/initramfs.cpio.gz" -- \
		sh -c 'echo out; echo err >&2; exit 5' &&
		is stock out 'out\n' && is stock err 'err\n'
else
	echo "stock: no Debian cloud kernel here (guests/build-debian.sh): skipped"
fi

# --timeout: 124, soon after the timeout, whatever the job does.
read -r t0 _ </proc/uptime
# shellcheck disable=SC2086
xrun timeout 124 $INITRD_ROOT --timeout 2 -- sleep 60
secs=$(secs_since "$t0")
echo "timeout: ended after $secs s"
awk "BEGIN { exit !($secs < 30) }" || fail timeout "took $secs s"

# Start-up: kvmini exec -- true, from exec to exit, best of two.
best=
for _ in 1 2; do
	read -r t0 _ </proc/uptime
	# shellcheck disable=SC2086
	xrun true 0 $INITRD_ROOT -- true
	s=$(secs_since "$t0")
	best=$(awk "BEGIN { b = \"$best\"; print (b == \"\" || $s < b) ? $s : b }")
done
echo "startup: kvmini exec -- true (initrd root) took $best s at best (lab: nested KVM under TCG)"

# ---- stdin and signals -------------------------------------------------------

# kvmini's stdin is the job's, byte for byte, to its end: from a pipe and
# from a file; /dev/null ends at once (xrun's own stdin).
# srun NAME WANT [exec options] [--] CMD... <INPUT: xrun with the caller's stdin.
srun()
{
	name=$1 want=$2
	shift 2
	rc=0
	"$KVMINI" exec --kernel "$KERNEL" --timeout 120 "$@" \
		>"$T/$name.out" 2>"$T/$name.err" || rc=$?
	if [ "$rc" -eq "$want" ]; then
		echo "$name: exit status $rc ok"
		return 0
	fi
	fail "$name" "exit status $rc, expected $want"
	return 1
}
# shellcheck disable=SC2086
printf 'a\0b' | srun stdin-nul 0 $INITRD_ROOT -- cat && is stdin-nul out 'a\0b'
# shellcheck disable=SC2086
printf 'a\0b' | srun stdin-od 0 $INITRD_ROOT -- od -c &&
	{ tr -s ' ' <"$T/stdin-od.out" | grep -q 'a \\0 b' && echo "stdin-od: od saw a \\0 b" ||
		fail stdin-od "od printed: $(cat "$T/stdin-od.out")"; }
# shellcheck disable=SC2086
xrun stdin-null 0 $INITRD_ROOT -- cat && is stdin-null out ''
head -c 1048576 /dev/urandom >"$T/mib"
mib=$(md5sum <"$T/mib" | cut -d' ' -f1)
# shellcheck disable=SC2086
cat "$T/mib" | srun stdin-pipe 0 $INITRD_ROOT -- md5sum &&
	{ [ "$(cut -d' ' -f1 "$T/stdin-pipe.out")" = "$mib" ] && echo "stdin-pipe: 1 MiB checksum ok" ||
		fail stdin-pipe "checksum $(cat "$T/stdin-pipe.out"), expected $mib"; }
# shellcheck disable=SC2086
srun stdin-file 0 $INITRD_ROOT -- md5sum <"$T/mib" &&
	{ [ "$(cut -d' ' -f1 "$T/stdin-file.out")" = "$mib" ] && echo "stdin-file: 1 MiB checksum ok" ||
		fail stdin-file "checksum $(cat "$T/stdin-file.out"), expected $mib"; }
# A job that stops reading early ends, and so does kvmini, with the
# input still coming (yes never ends: a kvmini that waited would be
# ended by --timeout, 124).
# shellcheck disable=SC2086
yes | srun stdin-head 0 $INITRD_ROOT -- head -c1 && is stdin-head out 'y'
# A job that never reads: kvmini reads no more than the guest takes, and
# the job's status is kvmini's.
# shellcheck disable=SC2086
yes | srun stdin-unread 3 $INITRD_ROOT -- sh -c 'sleep 2; exit 3'

# Signals to kvmini reach the job's process once it runs: a trap sees
# TERM; without one, 128+N; an ignored TERM leaves the job running.
# sig_job NAME SIGNAL SCRIPT: starts kvmini in the background, waits for
# the job to print "ready", sends SIGNAL to kvmini, waits for it.
sig_job()
{
	name=$1 sig=$2 script=$3
	# shellcheck disable=SC2086
	"$KVMINI" exec --kernel "$KERNEL" --timeout 120 $INITRD_ROOT -- sh -c "$script" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null &
	pid=$!
	i=0
	while ! grep -q ready "$T/$name.out" 2>/dev/null && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill "-$sig" $pid
	rc=0
	wait $pid || rc=$?
}
sig_job sig-trap TERM 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 1; done'
[ $rc -eq 3 ] && is sig-trap out 'ready\ngot TERM\n' || fail sig-trap "exit status $rc, expected 3"
sig_job sig-default HUP 'echo ready; exec sleep 100'
[ $rc -eq 129 ] && echo "sig-default: HUP ended the job, 129" || fail sig-default "exit status $rc, expected 129"
sig_job sig-ignored TERM 'trap "" TERM; echo ready; sleep 3; echo still here'
[ $rc -eq 0 ] && is sig-ignored out 'ready\nstill here\n' || fail sig-ignored "exit status $rc, expected 0"
sig_job sig-usr2 USR2 'trap "echo got USR2; exit 4" USR2; echo ready; while :; do sleep 1; done'
[ $rc -eq 4 ] && is sig-usr2 out 'ready\ngot USR2\n' || fail sig-usr2 "exit status $rc, expected 4"
# -t: the job on a terminal in the guest, its three streams on it (the
# pty turns \n into \r\n and echoes what it reads); kvmini's stdin is no
# terminal here, so nothing goes raw and no size is sent.
# shellcheck disable=SC2086
xrun tty 0 $INITRD_ROOT -t -- sh -c 'test -t 0 && test -t 1 && test -t 2 && echo tty; echo err >&2' &&
	is tty out 'tty\r\nerr\r\n' && is tty err ''
# shellcheck disable=SC2086
printf 'hello\n' | srun tty-in 0 $INITRD_ROOT --tty -- sh -c 'read -r l; echo "got $l"' &&
	is tty-in out 'hello\r\ngot hello\r\n'

# ---- 64 MiB through a slow reader --------------------------------------------

# The job writes 64 MiB; the reader sleeps first, so kvmini meets a full
# pipe and must hold the guest back rather than buffer. Guest RAM is 64
# MiB, of which the guest touches well under half, so a kvmini that
# buffered the output would pass 64 MiB of RSS. (Volume is make bench's
# business: this proves the flow control, no more.)
big=67108864
line=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz
want=$(yes "$line" | head -c $big | md5sum | cut -d' ' -f1)
mkfifo "$T/big.fifo"
{ sleep 5; md5sum | cut -d' ' -f1 >"$T/big.sum"; } <"$T/big.fifo" &
reader=$!
read -r t0 _ </proc/uptime
# shellcheck disable=SC2086
"$KVMINI" exec --kernel "$KERNEL" --timeout 280 --mem 64M $INITRD_ROOT -- \
	sh -c "yes $line | head -c $big" >"$T/big.fifo" 2>"$T/big.err" </dev/null &
pid=$!
hwm=0
while kill -0 $pid 2>/dev/null; do
	h=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\) kB/\1/p' /proc/$pid/status 2>/dev/null)
	[ -n "$h" ] && hwm=$h
	sleep 1
done
rc=0
wait $pid || rc=$?
wait $reader
secs=$(secs_since "$t0")
got=$(cat "$T/big.sum" 2>/dev/null)
echo "big: 64 MiB in $secs s, kvmini's peak RSS $((hwm / 1024)) MiB, exit status $rc"
[ "$rc" -eq 0 ] || fail big "exit status $rc"
[ "$got" = "$want" ] && echo "big: checksum ok" || fail big "checksum $got, expected $want"
[ "$hwm" -gt 0 ] && [ "$hwm" -lt $((64 * 1024)) ] || fail big "peak RSS $hwm kB"

finish
