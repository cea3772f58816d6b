#!/bin/bash
# Tests that run kvmini directly on this host: every command-line and
# start-up error path, and the tiny guest (tests/native/tiny.S), which runs
# on any KVM, even one that cannot boot Linux.
# Usage: tests/native/run.sh KVMINI TINY_ELF GUEST_DIR TINY64_ELF
set -u

kvmini=$(realpath "$1")
tiny=$(realpath "$2")
guest=$(realpath "$3")
tiny64=$(realpath "$4")
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
	if { [ "$rc" = 125 ] || [ "$rc" = 159 ]; } && [ "$(wc -l <"$T/err")" != 1 ]; then
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

# --- disks --------------------------------------------------------------
truncate -s 16M "$T/disk.img" "$T/disk2.img"
expect disk-missing 125 "--disk '/nonexistent/disk.img': cannot open: No such file or directory" "" -- "$kvmini" run --kernel "$tiny" --disk /nonexistent/disk.img
expect disk-bad-flag 125 "--disk '.*disk.img,rw': unknown flag 'rw'" "" -- "$kvmini" run --kernel "$tiny" --disk "$T/disk.img,rw"
expect disk-directory 125 "--disk '/': is a directory" "" -- "$kvmini" run --kernel "$tiny" --disk /
expect disk-empty 125 "--disk '.*empty': is empty" "" -- "$kvmini" run --kernel "$tiny" --disk "$T/empty"
expect disk-twice 125 "in use by another VM" "" -- "$kvmini" run --kernel "$tiny" --disk "$T/disk.img" --disk "$T/disk.img,ro"
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	mkdir -p "$T/ro" && cp "$T/disk.img" "$T/ro/"
	expect disk-read-only-host 125 "read-only on this host .*add ,ro" "" -- \
		unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" &&
			exec "$0" run --kernel "$2" --disk "$1/disk.img"' "$kvmini" "$T/ro" "$tiny"
	expect disk-read-only-host-ro 0 "" "hello" -- \
		unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" &&
			exec "$0" run --kernel "$2" --timeout 20 --cmdline tiny=h --disk "$1/disk.img,ro"' \
		"$kvmini" "$T/ro" "$tiny"
else
	skipped disk-read-only-host "needs root and unshare"
fi
# Devices set up and torn down around a guest that never touches them.
expect disk-tiny 0 "" "hello" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --cpus 2 --disk "$T/disk.img,serial=tiny" --disk "$T/disk2.img,ro"
# A second VM may not write an image a running one has.
"$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=l --console none --disk "$T/disk.img" 2>/dev/null &
holder=$!
for _ in $(seq 100); do
	ls -l "/proc/$holder/fd" 2>/dev/null | grep -q disk.img && break
	sleep 0.1
done
expect disk-second-writer 125 "--disk '.*disk.img': in use by another VM" "" -- "$kvmini" run --kernel "$tiny" --disk "$T/disk.img,ro"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# libslirp and glib are mapped only when --net user asks for them
# (backend/slirp_lib.c); a kvmini built without libslirp skips this.
# maps_of ARGS...: libslirp and glib as a running kvmini has them mapped.
maps_of() {
	local pid libs
	"$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=l --console none "$@" 2>/dev/null &
	pid=$!
	# Set-up is over once the vCPU thread runs.
	for _ in $(seq 100); do
		[ "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" -gt 1 ] && break
		sleep 0.05
	done
	libs=$(awk '{ print $6 }' "/proc/$pid/maps" 2>/dev/null | grep -E 'libslirp|libglib' | sort -u | tr '\n' ' ')
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "$libs"
}
if ! "$kvmini" run --kernel "$tiny" --net user --dump-dtb /dev/null 2>&1 | grep -q "without libslirp"; then
	without=$(maps_of)
	with=$(maps_of --net user)
	if [ -z "$without" ] && echo "$with" | grep -q libslirp && echo "$with" | grep -q libglib; then
		ok slirp-on-demand
	else
		bad slirp-on-demand "mapped without --net user: '$without'; with it: '$with'"
	fi
else
	skipped slirp-on-demand "this kvmini has no user networking"
fi
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

# --- --net tap (in network namespaces of their own) ---------------------
expect net-bad-mac 125 "--net 'tap=t0,mac=01:00:5e:00:00:01': mac .* is a multicast address" "" -- "$kvmini" run --kernel "$tiny" --net tap=t0,mac=01:00:5e:00:00:01
expect net-bad-name 125 "--net 'tap=a/b': a tap name is" "" -- "$kvmini" run --kernel "$tiny" --net tap=a/b
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null && command -v setpriv >/dev/null; then
	expect net-create-no-cap 125 "--net tap=kvt0: no such tap, and creating one needs CAP_NET_ADMIN" "" -- \
		unshare -n setpriv --bounding-set -net_admin --inh-caps -net_admin \
		"$kvmini" run --kernel "$tiny" --net tap=kvt0
	expect net-attach-no-cap 125 "--net tap=kvt0: no permission to use this tap" "" -- \
		unshare -n sh -c 'ip tuntap add kvt0 mode tap user 12345 && exec setpriv --bounding-set -net_admin \
			--inh-caps -net_admin "$0" run --kernel "$1" --net tap=kvt0' "$kvmini" "$tiny"
	expect net-not-a-tap 125 "--net tap=lo: the interface exists and is not a single-queue tap" "" -- \
		unshare -n "$kvmini" run --kernel "$tiny" --net tap=lo
	expect net-no-tun 125 "--net tap=kvt0: no /dev/net/tun \(load the tun module" "" -- \
		unshare -m sh -c 'mount -t tmpfs none /dev/net && exec "$0" run --kernel "$1" --net tap=kvt0' \
		"$kvmini" "$tiny"
	# A tap kvmini creates is gone once kvmini is, even after SIGKILL; a
	# second kvmini cannot take it meanwhile.
	expect net-created-tap-goes 0 "" "gone after TERM and KILL" -- unshare -n sh -c '
		for sig in TERM KILL; do
			"$0" run --kernel "$1" --cmdline tiny=l --console none --timeout 20 --net tap=kvt0 &
			pid=$!
			for _ in $(seq 100); do ip link show kvt0 >/dev/null 2>&1 && break; sleep 0.1; done
			ip link show kvt0 >/dev/null 2>&1 || exit 1
			"$0" run --kernel "$1" --net tap=kvt0 2>&1 | grep -q "in use by another program" || exit 2
			kill -$sig $pid
			{ wait $pid; } 2>/dev/null
			# The last reference can be io_uring'"'"'s, dropped in a work
			# item after the exit (SIGKILL): allow a few seconds.
			for _ in $(seq 50); do ip link show kvt0 >/dev/null 2>&1 || break; sleep 0.1; done
			ip link show kvt0 >/dev/null 2>&1 && exit 3
		done
		echo gone after TERM and KILL' "$kvmini" "$tiny"
	# An existing tap stays; the guest that never drives the NIC runs.
	expect net-tiny 0 "" "hello" -- unshare -n sh -c 'ip tuntap add kvt1 mode tap &&
		"$0" run --kernel "$1" --timeout 20 --cmdline tiny=h --net tap=kvt1 --net tap=kvt2 &&
		ip link show kvt1 >/dev/null && ! ip link show kvt2 2>/dev/null' "$kvmini" "$tiny"
else
	skipped net-tap "needs root, unshare and setpriv"
fi

# --- the tiny guest: exits, devices, console ---------------------------
expect tiny-hello 0 "" "tiny: hello from the guest" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h
for n in 1 42 255; do
	expect "exit-status-$n" "$n" "" "hello" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline "tiny=x$n"
done
expect exit-status-low-byte 0 "" "hello" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=x256
expect timeout 124 "timeout: the guest ran for 1 s" "halting forever" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=l --timeout 1
expect reboot-i8042 0 "" "" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=r
# ACPI: the tables' registers, found through PVH's and the zero page's RSDP.
expect acpi-poweroff 0 "guest powered off \(ACPI S5\)" "" -- "$kvmini" run --kernel "$tiny" --timeout 20 --verbose --cmdline tiny=s
expect acpi-reset 0 "ACPI reset register" "" -- "$kvmini" run --kernel "$tiny" --timeout 20 --verbose --cmdline tiny=a
expect acpi-poweroff-64 0 "guest powered off \(ACPI S5\)" "" -- "$kvmini" run --kernel "$tiny64" --timeout 20 --verbose --cmdline tiny=s --cpus 4
expect no-acpi 98 "" "no ACPI tables" -- "$kvmini" run --kernel "$tiny" --timeout 20 --no-acpi --cmdline tiny=s
expect no-acpi-64 98 "" "no ACPI tables" -- "$kvmini" run --kernel "$tiny64" --timeout 20 --no-acpi --cmdline tiny=a
expect triple-fault 122 "guest crashed: triple fault" "" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=t
expect panic 122 "guest kernel panicked" "Kernel panic - not syncing" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=p
expect four-cpus 0 "" "hello" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --cpus 4
expect memory-above-4g 0 "" "hello" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --mem 5G
expect console-none 0 "" "" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --console none
expect console-file 0 "" "" -- "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --console "file:$T/console.log"
if grep -q "tiny: hello" "$T/console.log"; then ok console-file-content; else bad console-file-content "no guest output in the file"; fi

# The same guest entered in 64-bit mode: page tables, GDT, zero page.
expect tiny64-hello 0 "" "tiny: hello from the guest" -- "$kvmini" run --kernel "$tiny64" --timeout 20 --cmdline tiny=h
expect tiny64-exit-status 42 "" "hello" -- "$kvmini" run --kernel "$tiny64" --timeout 20 --cmdline tiny=x42
expect tiny64-triple-fault 122 "triple fault" "" -- "$kvmini" run --kernel "$tiny64" --timeout 20 --cmdline tiny=t

# --dump-dtb: the tree names every device and dtc reads it without a word.
expect dump-dtb 0 "" "" -- "$kvmini" run --kernel "$tiny" --console virtio --dump-dtb "$T/vm.dtb"
if dtc -I dtb -O dts "$T/vm.dtb" >"$T/vm.dts" 2>"$T/dtc.err" && [ ! -s "$T/dtc.err" ] &&
	[ "$(grep -c 'compatible = "virtio,mmio"' "$T/vm.dts")" = 2 ] &&
	grep -q 'virtio_mmio.device=0x200@0xd0001000:5' "$T/vm.dts" &&
	grep -q 'console=hvc0' "$T/vm.dts"; then
	ok dump-dtb-decompiles
else
	bad dump-dtb-decompiles "$(cat "$T/dtc.err")"
fi
expect dump-dtb-unwritable 125 "/nonexistent/x.dtb" "" -- "$kvmini" run --kernel "$tiny" --dump-dtb /nonexistent/x.dtb

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

# seccomp (vmm/seccomp.h): a forbidden call once set-up is over ends kvmini
# with one line and 159, from the I/O thread or a vCPU thread (before the
# guest ran there); --no-seccomp installs no filter at all.
expect seccomp-io 159 "^kvmini: error: forbidden system call [0-9]+ \(socket: arguments 0x[0-9a-f]+, 0x[0-9a-f]+, 0x[0-9a-f]+, \.\.\.\)$" "*" -- \
	env KVMINI_SECCOMP_SELFTEST=io "$kvmini" run --kernel "$tiny" --cmdline tiny=l --timeout 20
expect seccomp-vcpu 159 "^kvmini: error: forbidden system call [0-9]+ \(socket: arguments 0x[0-9a-f]+, 0x[0-9a-f]+, 0x[0-9a-f]+, \.\.\.\)$" "" -- \
	env KVMINI_SECCOMP_SELFTEST=vcpu "$kvmini" run --kernel "$tiny" --cmdline tiny=l --timeout 20 --cpus 2
# Disk I/O is io_uring's: the I/O thread has no synchronous form of it.
for call in pread64 pwrite64 preadv pwritev preadv2 pwritev2 fsync fdatasync fallocate; do
	expect "seccomp-io-$call" 159 "^kvmini: error: forbidden system call [0-9]+ \($call: arguments 0x[0-9a-f]+, 0x[0-9a-f]+, 0x[0-9a-f]+, \.\.\.\)$" "*" -- \
		env KVMINI_SECCOMP_SELFTEST=io:$call "$kvmini" run --kernel "$tiny" --cmdline tiny=l --timeout 20
done
expect no-seccomp 124 "timeout" "halting forever" -- \
	env KVMINI_SECCOMP_SELFTEST=io "$kvmini" run --kernel "$tiny" --cmdline tiny=l --timeout 1 --no-seccomp

# On a terminal: raw mode while running, restored afterwards, Ctrl-A x quits.
if command -v script >/dev/null; then
	script -qec "stty -g; '$kvmini' run --kernel '$tiny' --cmdline tiny=l --timeout 1; stty -g" /dev/null \
		</dev/null >"$T/tty" 2>&1
	modes=$(tr -d '\r' <"$T/tty" | grep -E '^[0-9a-f]+(:[0-9a-f]+)+$' | sort -u | wc -l)
	if [ "$modes" = 1 ]; then ok terminal-restored; else bad terminal-restored "terminal modes differ after kvmini"; fi
	script -qec "stty -g; KVMINI_SECCOMP_SELFTEST=io '$kvmini' run --kernel '$tiny' --cmdline tiny=l --timeout 20; stty -g" /dev/null \
		</dev/null >"$T/tty" 2>&1
	modes=$(tr -d '\r' <"$T/tty" | grep -E '^[0-9a-f]+(:[0-9a-f]+)+$' | sort -u | wc -l)
	if [ "$modes" = 1 ] && grep -q "forbidden system call" "$T/tty"; then
		ok terminal-restored-seccomp
	else
		bad terminal-restored-seccomp "no message, or terminal modes differ after a forbidden call"
	fi
	(sleep 1; printf '\001x') | script -qec "'$kvmini' run --kernel '$tiny' --cmdline tiny=l --timeout 20" /dev/null >"$T/out" 2>&1
	rc=$?
	if [ $rc = 0 ]; then ok escape-quits; else bad escape-quits "exit status $rc after Ctrl-A x"; fi
else
	skipped terminal "no script(1)"
fi

# Console output nobody reads (vmm/console.c): kvmini's stdout is a FIFO
# that this shell holds open and never reads. The guest floods the UART
# until the FIFO is full; then SIGTERM still ends kvmini with 143 within
# a second, and so does --timeout. Then a slow reader: nothing is lost,
# the guest waits for it.
mkfifo "$T/fifo"
exec 3<>"$T/fifo"
# fifo_full: a non-blocking write of one byte into the FIFO is refused.
fifo_full() {
	for _ in $(seq 200); do
		dd if=/dev/zero of="$T/fifo" bs=1 count=1 oflag=nonblock 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}
# ms_since T0: milliseconds since T0 (date +%s%N).
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# gone_within PID MS: PID has ended within MS milliseconds of now.
gone_within() {
	local t0
	t0=$(date +%s%N)
	while kill -0 "$1" 2>/dev/null; do
		[ "$(ms_since "$t0")" -gt "$2" ] && return 1
		sleep 0.02
	done
	return 0
}
stalled_start() {
	"$kvmini" run --kernel "$tiny" --cmdline tiny=f0 "$@" >"$T/fifo" 2>"$T/err" </dev/null &
	pid=$!
}
stalled_reap() {
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
stalled_start --timeout 60
if ! fifo_full; then
	bad console-stalled-sigterm "the guest's output never filled the FIFO"
	stalled_reap
else
	sleep 0.5	# and kvmini's own buffer behind it
	kill -TERM "$pid"
	t0=$(date +%s%N)
	if ! gone_within "$pid" 1000; then
		bad console-stalled-sigterm "kvmini still runs 1 s after SIGTERM"
		stalled_reap
	else
		wait "$pid"
		rc=$?
		if [ $rc = 143 ]; then ok console-stalled-sigterm; else bad console-stalled-sigterm "exit status $rc, expected 143"; fi
	fi
fi
stalled_start --timeout 2
t0=$(date +%s%N)
if ! gone_within "$pid" 3500; then
	bad console-stalled-timeout "kvmini still runs $(ms_since "$t0") ms after its start with --timeout 2"
	stalled_reap
else
	wait "$pid"
	rc=$?
	if [ $rc = 124 ] && fifo_full; then
		ok console-stalled-timeout
	else
		bad console-stalled-timeout "exit status $rc, expected 124 with the FIFO full"
	fi
fi
# The same FIFO as stderr too (2>&1): kvmini's own lines (the timeout's,
# the count of dropped output) wait at most LOG_WAIT_MS each, and then
# are dropped, so --timeout still ends it.
"$kvmini" run --kernel "$tiny" --cmdline tiny=f0 --timeout 2 --verbose >"$T/fifo" 2>&1 </dev/null &
pid=$!
t0=$(date +%s%N)
# 5.5 s: --timeout's 2 s, a few log lines' 200 ms each, and room for a
# loaded machine; kvmini that blocks on stderr runs on past 7 s.
if ! gone_within "$pid" 5500; then
	bad console-stalled-stderr "kvmini still runs $(ms_since "$t0") ms after its start with --timeout 2, stderr stalled"
	stalled_reap
else
	wait "$pid"
	rc=$?
	if [ $rc = 124 ]; then ok console-stalled-stderr; else bad console-stalled-stderr "exit status $rc, expected 124"; fi
fi
exec 3<&-
# A reader that starts late and reads slowly gets every byte, in order.
: >"$T/out"
timeout 60 "$kvmini" run --kernel "$tiny" --cmdline tiny=f4000 --timeout 50 2>"$T/err" </dev/null | {
	sleep 1
	while [ "$(dd bs=4096 count=4 iflag=fullblock status=none | tee -a "$T/out" | wc -c)" != 0 ]; do
		sleep 0.1
	done
}
rc=${PIPESTATUS[0]}
want=$(for _ in $(seq 4000); do echo "tiny: flood 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"; done | sed 's/$/\r/' | md5sum)
if [ $rc = 0 ] && [ "$(md5sum <"$T/out")" = "$want" ]; then
	ok console-slow-reader
else
	bad console-slow-reader "exit status $rc, $(wc -c <"$T/out") bytes of 256000, or not in order"
fi

# --- the control socket (docs/control.md) -----------------------------
# ctl SOCK LINE: one request, its reply on stdout.
ctl() { printf '%s\n' "$2" | timeout 10 socat -t 5 - "UNIX-CONNECT:$1" 2>/dev/null; }
# ctl_vm NAME ARGS...: a tiny guest that ticks (tiny=c) with --control
# $T/NAME.sock, its console in $T/NAME.con; sets $vm to its pid.
ctl_vm() {
	local name=$1
	shift
	rm -f "$T/$name.sock" "$T/$name.con"
	"$kvmini" run --kernel "$tiny" --cmdline tiny=c --console "file:$T/$name.con" \
		--control "$T/$name.sock" "$@" 2>"$T/$name.err" </dev/null &
	vm=$!
	for _ in $(seq 200); do
		[ -S "$T/$name.sock" ] && break
		sleep 0.05
	done
}
con_size() { wc -c <"$1" 2>/dev/null || echo 0; }
# ended PID WANT NAME SOCK: the VM ended with WANT within 20 s, its socket gone.
ended() {
	local got
	for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1"; bad "$3" "still running"; wait "$1" 2>/dev/null; return
	fi
	wait "$1"
	got=$?
	if [ "$got" != "$2" ]; then bad "$3" "exit status $got, expected $2"
	elif [ -e "$4" ]; then bad "$3" "the socket $4 is still there"
	else ok "$3"; fi
}
if command -v socat >/dev/null; then
	ctl_vm c1 --cpus 2 --timeout 60
	s=$T/c1.sock
	if [ "$(stat -c %a "$s" 2>/dev/null)" = 600 ]; then ok control-mode; else bad control-mode "mode $(stat -c %a "$s" 2>&1)"; fi
	r=$(ctl "$s" '{"op":"status"}')
	case $r in
	'{"ok":true,"state":"running","vcpus":2,"memory_mib":256}') ok control-status ;;
	*) bad control-status "reply '$r'" ;;
	esac
	# Ticking, then a pause: the reply comes once every vCPU is parked,
	# and the console stays still; a resume: it ticks again.
	for _ in $(seq 100); do [ "$(con_size "$T/c1.con")" -gt 24 ] && break; sleep 0.1; done
	r=$(ctl "$s" '{"op":"pause"}')
	# (Output the guest wrote before it parked may still be on its way.)
	sleep 0.3
	a=$(con_size "$T/c1.con"); sleep 1; b=$(con_size "$T/c1.con")
	r2=$(ctl "$s" '{"op":"pause"}')
	if [ "$r" = '{"ok":true,"state":"paused"}' ] && [ "$r2" = "$r" ] && [ "$a" -gt 24 ] && [ "$a" = "$b" ]; then
		ok control-pause
	else
		bad control-pause "replies '$r' '$r2', console $a then $b bytes"
	fi
	r=$(ctl "$s" '{"op":"resume"}')
	for _ in $(seq 100); do [ "$(con_size "$T/c1.con")" -gt "$b" ] && break; sleep 0.1; done
	c=$(con_size "$T/c1.con")
	if [ "$r" = '{"ok":true,"state":"running"}' ] && [ "$c" -gt "$b" ]; then ok control-resume
	else bad control-resume "reply '$r', console $b then $c bytes"; fi
	# Bad requests: an error reply each, the VM undisturbed.
	e1=$(ctl "$s" 'not json')
	e2=$(ctl "$s" '{"op":"frobnicate"}')
	e3=$(ctl "$s" '{"op":"snapshot","dir":"/tmp"}')
	e4=$(ctl "$s" "{\"op\":\"status\",\"pad\":\"$(head -c 5000 /dev/zero | tr '\0' x)\"}")
	r=$(ctl "$s" '{"op":"status"}')
	if echo "$e1" | grep -q '^{"ok":false,"error":"malformed request' &&
	   echo "$e2" | grep -q '"error":"unknown op \\"frobnicate\\"' &&
	   echo "$e3" | grep -q '"error":"op \\"snapshot\\" takes no member \\"dir\\"' &&
	   echo "$e4" | grep -q '"error":"request longer than 4096 bytes"' &&
	   echo "$r" | grep -q '"state":"running"'; then
		ok control-bad-requests
	else
		bad control-bad-requests "replies '$e1' '$e2' '$e3' '$e4' '$r'"
	fi
	# Someone listens there: refused.
	expect control-path-in-use 125 "--control .*c1.sock: another program listens there" "" -- \
		"$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --control "$s"
	# Another user (who may enter $T): the 0600 socket refuses to
	# connect; with the mode opened up, kvmini refuses the peer
	# (SO_PEERCRED).
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		chmod 711 "$T"
		r=$(printf '{"op":"stop"}\n' | timeout 10 setpriv --reuid 65534 --regid 65534 --clear-groups \
			socat -t 5 - "UNIX-CONNECT:$s" 2>&1)
		chmod 666 "$s"
		# Only read: kvmini answers and closes before a request could go.
		r2=$(timeout 10 setpriv --reuid 65534 --regid 65534 --clear-groups \
			socat -t 5 -u "UNIX-CONNECT:$s" - 2>&1 </dev/null)
		chmod 600 "$s"
		chmod 700 "$T"
		if echo "$r" | grep -qi 'permission denied' && ! echo "$r" | grep -q '"ok"' &&
		   echo "$r2" | grep -q '^{"ok":false,"error":"permission denied' && kill -0 "$vm"; then
			ok control-other-user
		else
			bad control-other-user "at 0600: '$r'; at 0666: '$r2'"
		fi
	else
		skipped control-other-user "needs root and setpriv"
	fi
	r=$(ctl "$s" '{"op":"stop"}')
	[ "$r" = '{"ok":true}' ] || bad control-stop "reply '$r'"
	ended "$vm" 0 control-stop "$s"

	# Stop, --timeout and signals end a paused VM; the socket goes.
	ctl_vm c2 --timeout 60
	ctl "$T/c2.sock" '{"op":"pause"}' >/dev/null
	ctl "$T/c2.sock" '{"op":"stop"}' >/dev/null
	ended "$vm" 0 control-stop-paused "$T/c2.sock"
	ctl_vm c3 --timeout 3 --cpus 2
	ctl "$T/c3.sock" '{"op":"pause"}' >/dev/null
	ended "$vm" 124 control-timeout-paused "$T/c3.sock"
	ctl_vm c4 --timeout 60
	ctl "$T/c4.sock" '{"op":"pause"}' >/dev/null
	kill -TERM "$vm"
	ended "$vm" 143 control-sigterm-paused "$T/c4.sock"

	# A kvmini killed outright: its janitor removes the socket.
	ctl_vm c5 --timeout 60
	kill -KILL "$vm"
	wait "$vm" 2>/dev/null
	for _ in $(seq 40); do [ -e "$T/c5.sock" ] || break; sleep 0.05; done
	if [ -e "$T/c5.sock" ]; then bad control-killed "the socket outlived kvmini by 2 s"
	else ok control-killed; fi
	# A socket nobody listens on any more (its owner killed with its
	# janitor, here a socat): the next kvmini takes the path.
	socat -u "UNIX-LISTEN:$T/c5.sock" /dev/null 2>/dev/null &
	sp=$!
	for _ in $(seq 100); do [ -S "$T/c5.sock" ] && break; sleep 0.05; done
	kill -KILL "$sp"
	wait "$sp" 2>/dev/null
	if [ -S "$T/c5.sock" ]; then
		"$kvmini" run --kernel "$tiny" --cmdline tiny=l --console none --control "$T/c5.sock" \
			--timeout 60 2>"$T/err" </dev/null &
		vm=$!
		for _ in $(seq 200); do r=$(ctl "$T/c5.sock" '{"op":"stop"}'); [ -n "$r" ] && break; sleep 0.05; done
		[ "$r" = '{"ok":true}' ] || bad control-stale-socket "reply '$r'"
		ended "$vm" 0 control-stale-socket "$T/c5.sock"
	else
		bad control-stale-socket "a killed socat left no socket to test with"
	fi
	# Anything else at the path: refused, left alone.
	touch "$T/file.sock"
	expect control-path-exists 125 "--control .*file.sock: the path exists: remove it or choose another path" "" -- \
		"$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h --control "$T/file.sock"
	[ -f "$T/file.sock" ] || bad control-path-exists "the file is gone"
else
	skipped control "no socat"
fi

# --- snapshots (docs/snapshot.md) ------------------------------------------
# The tiny guest ticking, paused, saved, and resumed from the snapshot by
# a kvmini that is given no kernel: the ticks can only come from the
# saved vCPU, memory and UART.
snap_restore() { # NAME SNAPDIR ARGS...: restore, 2 s, console in $T/NAME.con
	local name=$1 dir=$2
	shift 2
	timeout 30 "$kvmini" run --restore "$dir" --timeout 2 --console "file:$T/$name.con" \
		"$@" >"$T/out" 2>"$T/err" </dev/null
}
if command -v socat >/dev/null; then
	S=$T/snap
	ctl_vm s1 --cpus 2 --timeout 60
	for _ in $(seq 100); do [ "$(con_size "$T/s1.con")" -gt 24 ] && break; sleep 0.1; done
	r0=$(ctl "$T/s1.sock" "{\"op\":\"snapshot\",\"path\":\"$S\"}")
	ctl "$T/s1.sock" '{"op":"pause"}' >/dev/null
	r=$(ctl "$T/s1.sock" "{\"op\":\"snapshot\",\"path\":\"$S\"}")
	r2=$(ctl "$T/s1.sock" "{\"op\":\"snapshot\",\"path\":\"$S\"}")
	r3=$(ctl "$T/s1.sock" '{"op":"snapshot","path":"relative/dir"}')
	ctl "$T/s1.sock" '{"op":"resume"}' >/dev/null
	ctl "$T/s1.sock" '{"op":"stop"}' >/dev/null
	ended "$vm" 0 snapshot-vm-ends "$T/s1.sock"
	if echo "$r0" | grep -q '"error":"the VM is not paused' &&
	   [ "$r" = "{\"ok\":true,\"path\":\"$S\"}" ] &&
	   echo "$r2" | grep -q '"error":"the path exists already' &&
	   echo "$r3" | grep -q '"error":"snapshot takes \\"path\\": an absolute path'; then
		ok snapshot-replies
	else
		bad snapshot-replies "replies '$r0' '$r' '$r2' '$r3'"
	fi
	# 0700 and 0600 (a snapshot holds guest memory); memory sparse; no
	# temporary left beside it.
	if [ "$(stat -c %a "$S")" = 700 ] && [ "$(stat -c %a "$S/state")" = 600 ] &&
	   [ "$(stat -c %a "$S/memory")" = 600 ] &&
	   [ "$(stat -c %s "$S/memory")" = $((256 << 20)) ] &&
	   [ "$(du -k "$S/memory" | cut -f1)" -lt 4096 ] &&
	   [ "$(ls -A "$T" | grep -c '^\.snap\.tmp')" = 0 ]; then
		ok snapshot-files
	else
		bad snapshot-files "$(ls -la "$S" "$T" 2>&1 | tr '\n' ' ')"
	fi
	# Two VMs resumed from it at once, each ticking where it was.
	snap_restore r1 "$S" & p1=$!
	snap_restore r2 "$S"; rc2=$?
	wait $p1; rc1=$?
	if [ $rc1 = 124 ] && [ $rc2 = 124 ] && grep -q 'tiny: tick' "$T/r1.con" &&
	   grep -q 'tiny: tick' "$T/r2.con" && ! grep -q hello "$T/r1.con"; then
		ok snapshot-restore-twice
	else
		bad snapshot-restore-twice "exit statuses $rc1 $rc2, consoles $(con_size "$T/r1.con") $(con_size "$T/r2.con") bytes"
	fi
	# Bad snapshots: one line, 125, before any vCPU runs.
	expect restore-missing 125 "snapshot .*nonexistent/state" "" -- \
		"$kvmini" run --restore "$T/nonexistent" --timeout 5
	expect restore-with-kernel 125 "--restore: the snapshot has its kernel already" "" -- \
		"$kvmini" run --restore "$S" --kernel "$tiny" --timeout 5
	cp -r "$S" "$T/bad"
	truncate -s 1000 "$T/bad/state"
	expect restore-truncated 125 "snapshot .*bad/state" "" -- \
		"$kvmini" run --restore "$T/bad" --timeout 5
	cp "$S/state" "$T/bad/state"
	printf 'X' | dd of="$T/bad/state" bs=1 seek=3000 conv=notrunc status=none
	expect restore-corrupt 125 "snapshot .*bad/state" "" -- \
		"$kvmini" run --restore "$T/bad" --timeout 5
	cp "$S/state" "$T/bad/state"
	truncate -s 128M "$T/bad/memory"
	expect restore-memory-size 125 "snapshot .*bad/memory: not 268435456 bytes" "" -- \
		"$kvmini" run --restore "$T/bad" --timeout 5
	rm -rf "$T/bad"
	# The transport is the snapshot's: an mmio one is refused on pci; a
	# pci one (its bus and functions saved, docs/snapshot-devices.md)
	# resumes ticking with no --transport given.
	expect restore-mmio-as-pci 125 "the snapshot's devices are on virtio-mmio: drop --transport pci" "" -- \
		"$kvmini" run --restore "$S" --transport pci --timeout 5
	SP=$T/snap-pci
	ctl_vm sp --transport pci --timeout 60
	for _ in $(seq 100); do [ "$(con_size "$T/sp.con")" -gt 24 ] && break; sleep 0.1; done
	ctl "$T/sp.sock" '{"op":"pause"}' >/dev/null
	r=$(ctl "$T/sp.sock" "{\"op\":\"snapshot\",\"path\":\"$SP\"}")
	ctl "$T/sp.sock" '{"op":"stop"}' >/dev/null
	ended "$vm" 0 snapshot-pci-vm-ends "$T/sp.sock"
	snap_restore rp "$SP"; rc=$?
	if [ "$r" = "{\"ok\":true,\"path\":\"$SP\"}" ] && [ $rc = 124 ] &&
	   grep -q 'tiny: tick' "$T/rp.con" && ! grep -q hello "$T/rp.con"; then
		ok snapshot-pci-restore
	else
		bad snapshot-pci-restore "reply '$r', exit status $rc, console $(con_size "$T/rp.con") bytes"
	fi
else
	skipped snapshot "no socat"
fi

# --- kvmini exec's snapshot cache (docs/exec.md), no guest needed ------
# The bound's options, and --clear-snapshots on a cache of fake entries:
# this kvmini's and another version's go, with what a dead exec left
# (an old temporary of a gone process) and a key with no snapshot; a
# fresh temporary, a live exec's, and a name kvmini never makes stay.
expect exec-snapshot-max-entries 125 "--snapshot-max-entries '0': expected a number from 1 to" "" -- \
	"$kvmini" exec --snapshot-max-entries 0 -- true
expect exec-snapshot-max-size 125 "--snapshot-max-size 'big': expected a size" "" -- \
	"$kvmini" exec --snapshot-max-size big -- true
C=$T/exec-cache
mkdir -m 700 "$C"
ver=$("$kvmini" --version | sed -n 's/^kvmini //p')
sh -c 'exit 0' & dead=$!
wait "$dead"
for h in 00000000000000a1 00000000000000a2; do
	mkdir "$C/$h" && head -c 65536 /dev/urandom >"$C/$h/memory" && : >"$C/$h/state"
done
printf 'kvmini-exec-snapshot 1\nversion %s\nmem 1\n' "$ver" >"$C/00000000000000a1.key"
printf 'kvmini-exec-snapshot 1\nversion 0-other\nmem 1\n' >"$C/00000000000000a2.key"
: >"$C/00000000000000a3.key"
mkdir "$C/.00000000000000a4.tmp-$dead-0" "$C/.00000000000000a5.tmp-$dead-0" "$C/.00000000000000a6.tmp-$$-0"
touch -d '1 hour ago' "$C/.00000000000000a4.tmp-$dead-0" "$C/.00000000000000a6.tmp-$$-0"
: >"$C/notes"
expect exec-clear-snapshots 0 "" "" -- "$kvmini" exec --snapshot-dir "$C" --clear-snapshots
left=$(ls -A "$C" | tr '\n' ' ')
[ "$left" = ".00000000000000a5.tmp-$dead-0 .00000000000000a6.tmp-$$-0 notes " ] &&
	ok exec-clear-snapshots-left || bad exec-clear-snapshots-left "left: $left"
chmod 777 "$C"
expect exec-clear-snapshots-unsafe 125 "snapshot cache .*not this user's alone" "" -- \
	"$kvmini" exec --snapshot-dir "$C" --clear-snapshots
chmod 700 "$C"

# Memory (issue #22): once set-up is over, a running kvmini maps neither
# its kernel nor its initrd file (guest RAM has their copies), and its RSS
# apart from guest RAM is under 2 MiB. From /proc/PID/smaps: every
# mapping's Rss, less that of guest RAM (the anonymous mapping exactly as
# large as --mem). Polled for up to 10 s after the I/O thread's filter
# is on: the last thread to end its set-up gives back what set-up alone
# used (lib/trim.h).
# mem_overhead PID RAM_KIB: "TOTAL ANON" KiB apart from guest RAM.
mem_overhead() {
	awk -v ram="$2" '
	/^[0-9a-f]+-[0-9a-f]+ / { nameless = NF < 6; size = 0; next }
	/^Size:/ { size = $2 }
	/^Rss:/ { rss += $2; if (nameless && size == ram) grss = $2 }
	/^Anonymous:/ { anon += $2; if (nameless && size == ram) ganon = $2 }
	END { print rss - grss, anon - ganon }' "/proc/$1/smaps" 2>/dev/null
}
# mem_check NAME ARGS...: run the tiny guest with a 3 MiB initrd and ARGS.
mem_check() {
	local name=$1 pid mapped= ovh= anon= i
	shift
	"$kvmini" run --kernel "$tiny" --initrd "$T/mem.initrd" --mem 64M --timeout 20 \
		--cmdline tiny=l --console none "$@" >"$T/out" 2>"$T/err" </dev/null &
	pid=$!
	for i in $(seq 200); do
		sleep 0.05
		grep -Eq '^Seccomp:[[:space:]]+2' "/proc/$pid/status" 2>/dev/null || continue
		mapped=$(grep -F -e "$tiny" -e "$T/mem.initrd" "/proc/$pid/maps" | awk '{ print $6 }' | sort -u | tr '\n' ' ')
		read -r ovh anon <<<"$(mem_overhead "$pid" 65536)"
		[ -z "$mapped" ] && [ "${ovh:-99999}" -lt 2048 ] && break
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "native/$name: RSS apart from guest RAM ${ovh:-?} KiB, ${anon:-?} of it anonymous"
	if [ -n "$mapped" ]; then
		bad "$name" "the loaded files are still mapped: $mapped"
	elif [ -z "$ovh" ] || [ "$ovh" -ge 2048 ]; then
		bad "$name" "RSS apart from guest RAM is ${ovh:-unknown} KiB, not under 2048"
	else
		ok "$name"
	fi
}
if ldd "$kvmini" 2>/dev/null | grep -q libasan; then
	skipped mem-overhead "a sanitizer's shadow memory is in the RSS"
else
	head -c 3M /dev/urandom >"$T/mem.initrd"
	mem_check mem-overhead
	mem_check mem-overhead-2cpus --cpus 2
fi

# Soak (docs/soak.md): KVMINI_SOAK_BOOTS (200) boots and ends of the tiny
# guest with a disk (io_uring ring, image lock) and the rng, back to back
# from this shell. Every one ends with 0 and takes its disk (a lock or a
# ring the kernel has not let go would refuse the next); kvmini's peak
# RSS (GNU time) at the end is what it was at the start. (No count of
# this shell's descriptors: a child cannot change them, so it proved
# nothing of kvmini, and it once moved by one under the sanitizers' load.)
# Sockets kvmini listens on are gone when it ends: after the guest's own
# end, and after SIGKILL (the janitor, lib/janitor.h, removes them).
vsock_sock="$T/vsock.sock"
timeout 60 "$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=h \
	--vsock "3,uds=$vsock_sock" >"$T/out" 2>"$T/err" </dev/null
rc=$?
if [ $rc != 0 ] || ! grep -q hello "$T/out"; then
	bad vsock-socket-removed "exit status $rc, expected 0 and the guest's hello"
elif [ -e "$vsock_sock" ]; then
	bad vsock-socket-removed "$vsock_sock is still there after kvmini ended"
else
	ok vsock-socket-removed
fi
"$kvmini" run --kernel "$tiny" --timeout 20 --cmdline tiny=l --console none \
	--vsock "3,uds=$vsock_sock" 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -S "$vsock_sock" ] && break; sleep 0.05; done
if [ ! -S "$vsock_sock" ]; then
	bad vsock-socket-killed "kvmini made no socket at $vsock_sock"
	kill -9 "$pid" 2>/dev/null
else
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	for _ in $(seq 40); do [ -e "$vsock_sock" ] || break; sleep 0.05; done
	if [ -e "$vsock_sock" ]; then
		bad vsock-socket-killed "$vsock_sock is still there 2 s after kvmini was killed"
	else
		ok vsock-socket-killed
	fi
fi

soak() {
	local n=${KVMINI_SOAK_BOOTS:-200} i=0 bad=0 rss first= last= t0
	truncate -s 16M "$T/soak.img"
	t0=$(date +%s)
	while [ $i -lt "$n" ]; do
		i=$((i + 1))
		if ! /usr/bin/time -f %M -o "$T/soak.rss" "$kvmini" run --kernel "$tiny" \
			--timeout 20 --cmdline tiny=h --disk "$T/soak.img" >"$T/out" 2>"$T/err" </dev/null ||
			! grep -q hello "$T/out"; then
			bad=$((bad + 1))
			[ $bad -gt 1 ] || cp "$T/err" "$T/soak.err"
			continue
		fi
		rss=$(tail -n 1 "$T/soak.rss")
		[ $i -le 10 ] && first="$first $rss"
		[ $i -gt $((n - 10)) ] && last="$last $rss"
	done
	first=$(echo $first | tr ' ' '\n' | sort -n | tail -n 1)
	last=$(echo $last | tr ' ' '\n' | sort -n | tail -n 1)
	echo "native/soak: $n boots in $(($(date +%s) - t0)) s; peak RSS ${first:-?} KiB (first 10) and ${last:-?} KiB (last 10)"
	if [ $bad -ne 0 ]; then
		bad soak "$bad of $n boots failed; the first: $(head -n 1 "$T/soak.err")"
	elif [ -z "$first" ] || [ -z "$last" ] || [ "$last" -gt $((first + first / 10)) ]; then
		bad soak "kvmini's peak RSS grew from ${first:-?} to ${last:-?} KiB"
	else
		ok soak
	fi
}
if [ -x /usr/bin/time ]; then soak; else skipped soak "no /usr/bin/time (GNU time)"; fi

# kvmini oci (docs/oci.md): its command line and state, with no guest
# booted (a created container's VM starts only at start). Errors are one
# line and exit status 1, as runc's.
# oci_expect NAME RC STDERR_REGEX STDOUT_REGEX -- COMMAND...
oci_expect() {
	local name=$1
	expect "$@"
	if [ "$2" = 1 ] && [ "$(wc -l <"$T/err")" != 1 ]; then
		bad "$name" "expected exactly one error line"
		pass=$((pass - 1))
	fi
}
O=$T/oci-state
oci=("$kvmini" oci --root "$O")
B=$T/bundle
mkdir -p "$B/rootfs" "$T/nocfg"
cat >"$B/config.json" <<'JSON'
{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/","env":["PATH=/bin"]},"root":{"path":"rootfs"},
 "annotations":{"org.kvmini.cpus":"2"}}
JSON
oci_expect oci-help 0 "" "^usage: kvmini oci" -- "$kvmini" oci --help
oci_expect oci-no-command 1 "no command given" "" -- "$kvmini" oci
oci_expect oci-unknown-command 1 "unknown command 'bogus'" "" -- "$kvmini" oci bogus
oci_expect oci-unknown-global-flag 1 "unknown flag --bogus" "" -- "$kvmini" oci --bogus state x
oci_expect oci-unknown-flag 1 "create: unknown flag --bogus" "" -- "$kvmini" oci create --bogus x
oci_expect oci-flag-needs-value 1 "flag --bundle needs a value" "" -- "$kvmini" oci create --bundle
oci_expect oci-no-id 1 "create: expected a container ID" "" -- "$kvmini" oci create --bundle "$B"
oci_expect oci-log-format 1 "--log-format 'xml'" "" -- "$kvmini" oci --log-format xml features
oci_expect oci-bad-id 1 "container ID holds '/'" "" -- "${oci[@]}" create --bundle "$B" ../x
oci_expect oci-missing-bundle 1 "bundle '$T/none'" "" -- "${oci[@]}" create --bundle "$T/none" c
oci_expect oci-no-config 1 "cannot read $T/nocfg/config.json" "" -- "${oci[@]}" create --bundle "$T/nocfg" c
printf '{"ociVersion":"1.0.2",' >"$T/nocfg/config.json"
oci_expect oci-bad-json 1 "config.json is not valid JSON" "" -- "${oci[@]}" create --bundle "$T/nocfg" c
printf '{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"gone"}}' >"$T/nocfg/config.json"
oci_expect oci-rootfs-missing 1 "root.path '$T/nocfg/gone'" "" -- "${oci[@]}" create --bundle "$T/nocfg" c
printf '{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/","terminal":true},"root":{"path":"/"}}' >"$T/nocfg/config.json"
oci_expect oci-terminal 1 "process.terminal: create needs --console-socket" "" -- "${oci[@]}" create --bundle "$T/nocfg" c
oci_expect oci-console-socket-gone 1 "console-socket '$T/nosock': cannot send the terminal" "" -- \
	"${oci[@]}" create --bundle "$T/nocfg" --console-socket "$T/nosock" c
oci_expect oci-console-socket-no-terminal 1 "--console-socket is only for a config.json with process.terminal" "" -- \
	"${oci[@]}" create --bundle "$B" --console-socket "$T/nosock" c
[ ! -e "$O/c" ] && ok oci-failed-create-leaves-nothing || bad oci-failed-create-leaves-nothing "$O/c exists"
for cmd in state start kill delete; do
	oci_expect "oci-$cmd-unknown" 1 "container nope does not exist" "" -- "${oci[@]}" "$cmd" nope
done
oci_expect oci-kill-bad-signal 1 "unknown signal 'NOPE'" "" -- "${oci[@]}" kill c1 NOPE
# --log: the error again, as logrus's JSON.
oci_expect oci-log 1 "does not exist" "" -- "$kvmini" oci --root "$O" --log "$T/oci.log" --log-format json state nope
grep -q '^{"level":"error","msg":"container nope does not exist","time":"[0-9T:-]*Z"}$' "$T/oci.log" &&
	ok oci-log-json || bad oci-log-json "log: $(cat "$T/oci.log")"

# A created container: state, pid file, 0700 directory, a second create
# refused, delete kills its waiting process and leaves nothing.
oci_expect oci-create 0 "" "" -- "${oci[@]}" create --bundle "$B" --pid-file "$T/c1.pid" c1
pid=$(cat "$T/c1.pid" 2>/dev/null)
oci_expect oci-state-created 0 "" "^\{\"ociVersion\":\"1\.2\.0\",\"id\":\"c1\",\"status\":\"created\",\"pid\":$pid,\"bundle\":\"$B\",\"annotations\":\{\"org.kvmini.cpus\":\"2\"\}\}$" -- "${oci[@]}" state c1
[ "$(stat -c %a "$O/c1")" = 700 ] && kill -0 "$pid" && ok oci-state-dir || bad oci-state-dir "mode $(stat -c %a "$O/c1"), pid $pid"
oci_expect oci-create-twice 1 "container c1 exists already" "" -- "${oci[@]}" create --bundle "$B" c1
oci_expect oci-delete-created 0 "" "" -- "${oci[@]}" delete c1
# Gone, or a zombie its new parent has yet to reap.
{ [ ! -e "/proc/$pid" ] || grep -Eq '\) [ZX] ' "/proc/$pid/stat"; } && [ ! -e "$O/c1" ] &&
	ok oci-delete-created-gone ||
	bad oci-delete-created-gone "pid $pid alive or $O/c1 left"
# Killed before start: stopped; start refuses; delete clears it.
oci_expect oci-create-2 0 "" "" -- "${oci[@]}" create --bundle "$B" --pid-file "$T/c2.pid" c2
oci_expect oci-kill-created 0 "" "" -- "${oci[@]}" kill c2 SIGKILL
for _ in $(seq 100); do "${oci[@]}" state c2 2>/dev/null | grep -q '"status":"stopped"' && break; sleep 0.05; done
oci_expect oci-state-stopped 0 "" '"status":"stopped"' -- "${oci[@]}" state c2
oci_expect oci-start-stopped 1 "container c2 has stopped" "" -- "${oci[@]}" start c2
oci_expect oci-kill-stopped 1 "container c2 is not running" "" -- "${oci[@]}" kill c2 9
oci_expect oci-delete-stopped 0 "" "" -- "${oci[@]}" delete c2
# features: the spec's document; it parses (python3's reader, when there).
oci_expect oci-features 0 "" '"ociVersionMax":"1\.2\.0".*"hooks":\[\].*"mountOptions":\["bind","rbind","ro","rw"\]' -- "${oci[@]}" features
if command -v python3 >/dev/null; then
	python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["linux"]["seccomp"]["enabled"] is False' \
		<"$T/out" && ok oci-features-json || bad oci-features-json "python3 could not read it"
else
	skipped oci-features-json "no python3"
fi
# Called by its own name, as an engine's runtime path.
ln -s "$kvmini" "$T/kvmini-oci"
oci_expect oci-own-name 0 "" '"ociVersionMin"' -- "$T/kvmini-oci" --root "$O" features

echo "native: $pass passed, $fail failed${skip:+, $skip skipped}"
[ $fail = 0 ]
