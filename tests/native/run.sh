#!/bin/bash
# Tests that run kvmini directly on this host: every command-line and
# start-up error path, and the tiny guest (tests/native/tiny.S), which runs
# on any KVM, even one that cannot boot Linux.
# Usage: tests/native/run.sh KVMINI TINY_ELF GUEST_DIR
set -u

kvmini=$(realpath "$1")
tiny=$(realpath "$2")
guest=$(realpath "$3")
T=$(mktemp -d /tmp/kvmini-native.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
skip=0

ok() { echo "PASS native/$1"; pass=$((pass + 1)); }
bad() {
	echo "FAIL native/$1: $2"
	[ -s "$T/out" ] && sed 's/^/    stdout: /' "$T/out" | head -20
	[ -s "$T/err" ] && sed 's/^/    stderr: /' "$T/err" | head -20
	fail=$((fail + 1))
}
skipped() { echo "SKIP native/$1: $2"; skip=$((skip + 1)); }

# expect NAME RC STDERR_REGEX STDOUT_REGEX -- COMMAND...
# An empty regex means "must be empty"; "*" means "anything". A non-zero
# rc from kvmini's own errors must come with exactly one stderr line.
expect() {
	local name=$1 rc=$2 errre=$3 outre=$4 got
	shift 5
	timeout 60 "$@" >"$T/out" 2>"$T/err" </dev/null
	got=$?
	if [ "$got" != "$rc" ]; then
		bad "$name" "exit status $got, expected $rc"
		return
	fi
	if ! match "$T/err" "$errre"; then
		bad "$name" "stderr does not match '$errre'"
		return
	fi
	if ! match "$T/out" "$outre"; then
		bad "$name" "stdout does not match '$outre'"
		return
	fi
	if [ "$rc" = 125 ] && [ "$(wc -l <"$T/err")" != 1 ]; then
		bad "$name" "expected exactly one error line"
		return
	fi
	ok "$name"
}

match() {
	case $2 in
	"*") return 0 ;;
	"") [ ! -s "$1" ] ;;
	*) grep -Eq -- "$2" "$1" ;;
	esac
}


# --- the command line -------------------------------------------------
expect version 0 "" "^kvmini " -- "$kvmini" --version
expect help 0 "" "--kernel FILE" -- "$kvmini" run --help
expect no-command 125 "no command given" "" -- "$kvmini"
expect unknown-command 125 "unknown command 'frob'" "" -- "$kvmini" frob
expect unknown-option 125 "unknown option '--bogus'" "" -- "$kvmini" run --bogus
expect missing-value 125 "option '--kernel' needs a value" "" -- "$kvmini" run --kernel
expect no-kernel 125 "no kernel given" "" -- "$kvmini" run --mem 64M
expect extra-argument 125 "unexpected argument 'foo'" "" -- "$kvmini" run --kernel "$tiny" foo
expect mem-not-a-size 125 "--mem 'lots': not a size" "" -- "$kvmini" run --kernel "$tiny" --mem lots
expect mem-too-small 125 "--mem 1M: too small" "" -- "$kvmini" run --kernel "$tiny" --mem 1M
expect mem-unaligned 125 "multiple of 4 KiB" "" -- "$kvmini" run --kernel "$tiny" --mem 16385K
expect mem-too-big 125 "more than this host's" "" -- "$kvmini" run --kernel "$tiny" --mem 100T
expect cpus-zero 125 "--cpus '0': expected a number from 1 to 254" "" -- "$kvmini" run --kernel "$tiny" --cpus 0
expect cpus-too-many 125 "--cpus '300'" "" -- "$kvmini" run --kernel "$tiny" --cpus 300
expect cpus-not-a-number 125 "--cpus 'two'" "" -- "$kvmini" run --kernel "$tiny" --cpus two
expect timeout-zero 125 "--timeout '0'" "" -- "$kvmini" run --kernel "$tiny" --timeout 0
expect console-bad 125 "--console .tty.: expected stdio, virtio, none or file:PATH" "" -- "$kvmini" run --kernel "$tiny" --console tty

# --- files --------------------------------------------------------------
: >"$T/empty"
echo "just some text, not a kernel" >"$T/text"
head -c 100000 "$guest/bzImage" >"$T/truncated"
cp "$tiny" "$T/arm.elf" && printf '\xb7\x00' | dd of="$T/arm.elf" bs=1 seek=18 conv=notrunc 2>/dev/null
truncate -s 300M "$T/big.initrd"
expect kernel-missing 125 "cannot read kernel '/nonexistent/vmlinux': No such file or directory" "" -- "$kvmini" run --kernel /nonexistent/vmlinux
expect kernel-directory 125 "kernel '/' is a directory" "" -- "$kvmini" run --kernel /
expect kernel-empty 125 "is empty" "" -- "$kvmini" run --kernel "$T/empty"
expect kernel-not-a-kernel 125 "not a Linux kernel" "" -- "$kvmini" run --kernel "$T/text"
expect kernel-truncated 125 "truncated" "" -- "$kvmini" run --kernel "$T/truncated"
expect kernel-wrong-machine 125 "not an x86_64 executable ELF kernel" "" -- "$kvmini" run --kernel "$T/arm.elf"
expect kernel-needs-more-memory 125 "use a larger --mem" "" -- "$kvmini" run --kernel "$guest/bzImage" --mem 16M
expect initrd-missing 125 "cannot read initrd '/nonexistent/initrd'" "" -- "$kvmini" run --kernel "$tiny" --initrd /nonexistent/initrd
expect initrd-too-big 125 "initrd .* does not fit in guest memory" "" -- "$kvmini" run --kernel "$guest/bzImage" --initrd "$T/big.initrd" --mem 64M
expect console-file-unwritable 125 "cannot open console file '/nonexistent/dir/log'" "" -- "$kvmini" run --kernel "$tiny" --console file:/nonexistent/dir/log

# --- KVM itself ---------------------------------------------------------
expect kvm-device-missing 125 "/nonexistent/kvm does not exist" "" -- "$kvmini" run --kernel "$tiny" --kvm-device /nonexistent/kvm
expect kvm-device-not-kvm 125 "/dev/null is not a KVM device" "" -- "$kvmini" run --kernel "$tiny" --kvm-device /dev/null
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	expect no-dev-kvm 125 "/dev/kvm does not exist" "" -- \
		unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" run --kernel "$1"' "$kvmini" "$tiny"
else
	skipped no-dev-kvm "needs root and unshare"
fi
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$T" && chmod 644 "$T"/* && cp "$tiny" "$T/tiny" && chmod 644 "$T/tiny"
	expect kvm-no-permission 125 "no permission to open /dev/kvm" "" -- \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$kvmini" run --kernel "$T/tiny"
else
	skipped kvm-no-permission "needs root and setpriv"
fi

# --- the tiny guest: exits, devices, console ---------------------------
expect tiny-hello 0 "" "tiny: hello from the guest" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h
for n in 1 42 255; do
	expect "exit-status-$n" "$n" "" "hello" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline "tiny=x$n"
done
expect exit-status-low-byte 0 "" "hello" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=x256
expect timeout 124 "timeout: the guest ran for 1 s" "halting forever" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=l --timeout 1
expect reboot-i8042 0 "" "" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=r
expect triple-fault 122 "guest crashed: triple fault" "" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=t
expect panic 122 "guest kernel panicked" "Kernel panic - not syncing" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=p
expect four-cpus 0 "" "hello" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --cpus 4
expect memory-above-4g 0 "" "hello" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --mem 5G
expect console-none 0 "" "" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --console none
expect console-file 0 "" "" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --console "file:$T/console.log"
if grep -q "tiny: hello" "$T/console.log"; then ok console-file-content; else bad console-file-content "no guest output in the file"; fi

# Console input: piped stdin reaches the guest, which echoes it back.
printf 'ping from the host\nq' | timeout 60 "$kvmini" run --kernel "$tiny" --cmdline tiny=e --timeout 20 >"$T/out" 2>"$T/err"
rc=$?
if [ $rc = 0 ] && grep -q "ping from the host" "$T/out"; then ok console-input; else bad console-input "rc $rc"; fi

# Signals end the VM cleanly with 128 + signal.
for sig in TERM INT; do
	"$kvmini" run --kernel "$tiny" --cmdline tiny=l --timeout 30 >"$T/out" 2>"$T/err" </dev/null &
	pid=$!
	sleep 0.5
	kill -s $sig $pid
	wait $pid
	rc=$?
	want=$((128 + $(kill -l $sig)))
	if [ $rc = $want ]; then ok "signal-$sig"; else bad "signal-$sig" "exit status $rc, expected $want"; fi
done

# On a terminal: raw mode while running, restored afterwards, Ctrl-A x quits.
if command -v script >/dev/null; then
	script -qec "stty -g; '$kvmini' run --kernel '$tiny' --cmdline tiny=l --timeout 1; stty -g" /dev/null \
		</dev/null >"$T/tty" 2>&1
	modes=$(tr -d '\r' <"$T/tty" | grep -E '^[0-9a-f]+(:[0-9a-f]+)+$' | sort -u | wc -l)
	if [ "$modes" = 1 ]; then ok terminal-restored; else bad terminal-restored "terminal modes differ after kvmini"; fi
	(sleep 1; printf '\001x') | script -qec "'$kvmini' run --kernel '$tiny' --cmdline tiny=l --timeout 20" /dev/null >"$T/out" 2>&1
	rc=$?
	if [ $rc = 0 ]; then ok escape-quits; else bad escape-quits "exit status $rc after Ctrl-A x"; fi
else
	skipped terminal "no script(1)"
fi

echo "native: $pass passed, $fail failed${skip:+, $skip skipped}"
[ $fail = 0 ]
