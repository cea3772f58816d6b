#!/bin/sh
# `make run` as a user runs it: under a pseudo-terminal (script(1)), from
# an unattended start to the guest's shell. Checks that the user is told
# what is happening while the lab boots, that a typed command runs, and
# that "exit 3" ends the VM with status 3 (make reports a failed recipe
# as its own status 2; the status line says 3).
#
# usage: tests/lab/make-run.sh [MAKE ARGS...]   (from the top of the tree)
# Prints "make-run: N passed, N failed"; the session's screen is kept in
# build/make-run.log.
set -u

log=build/make-run.log
limit=${KVMINI_MAKE_RUN_LIMIT:-600}
mkdir -p build
work=$(mktemp -d "${TMPDIR:-/tmp}/kvmini-make-run.XXXXXX")
trap 'exec 3>&- 2>/dev/null; [ -z "${pid:-}" ] || kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
mkfifo "$work/in"
: >"$log"

passed=0 failed=0
ok()
{
	echo "PASS make-run: $1"
	passed=$((passed + 1))
}
bad()
{
	echo "FAIL make-run: $1"
	tail -n 40 "$log" | tr -d '\r' | sed 's/^/    | /'
	failed=$((failed + 1))
}
done_()
{
	echo "make-run: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# script(1) gives make a terminal of its own; its input is the fifo,
# held open here so that make never sees the end of input.
script -qfec "make run $*" /dev/null <"$work/in" >"$log" 2>&1 &
pid=$!
exec 3>"$work/in"

# screen_has REGEX: what the user has seen so far matches.
screen_has()
{
	tr -d '\r' <"$log" | grep -Eq -- "$1"
}

start=$(date +%s)
# The prompt ("/root # ", then busybox's cursor query) after the banner.
until tr -d '\r' <"$log" | sed -n '/kvmini-guest: interactive shell/,$p' | grep -q '# '; do
	if ! kill -0 "$pid" 2>/dev/null; then
		bad "make run ended before the guest's shell"
		done_
	fi
	if [ $(($(date +%s) - start)) -gt "$limit" ]; then
		bad "no shell prompt after $limit s"
		done_
	fi
	sleep 1
done
secs=$(($(date +%s) - start))
if screen_has '^lab: booting|^make run: (this host|booting)'; then
	ok "the user is told what happens while the VM boots"
else
	bad "no progress shown before the shell"
fi
ok "the guest's shell after $secs s"

# Typed as a user types: a line ending in Enter (CR).
# shellcheck disable=SC2016
printf 'echo marker-$((6 * 7)); exit 3\r' >&3
rc=0
i=0
while kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 120 ]; then
		bad "make run still running 120 s after 'exit 3'"
		done_
	fi
	sleep 1
done
wait "$pid" || rc=$?
pid=
if screen_has '^marker-42'; then ok "the typed command ran"; else bad "no output of the typed command"; fi
if screen_has 'exited with status 3|Error 3'; then
	ok "exit 3 ended the VM with status 3"
else
	bad "no status 3 on the screen"
fi
[ "$rc" -ne 0 ] || bad "make run exited 0 after the guest's exit 3"
done_
