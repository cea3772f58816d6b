#!/bin/sh
# Snapshots of a real Linux guest (issue #19; docs/snapshot.md). The test
# guest (tests/guest/snapshot.sh) with 2 vCPUs, a disk, --net user and a
# tap NIC, and a control socket puts a marker in RAM and a pattern on its
# disk, then counts. At count 5 this side pauses it, snapshots it through
# the control socket (kvctl: busybox has no Unix socket client) and stops
# it; then THREE VMs are restored from that one snapshot at once, each
# with a copy of the disk (--disk), a fresh slirp and a tap of another
# name in a network namespace of its own, and its console on stdio (stdin
# a fifo). Each must go on counting where it was, still have the marker
# and the disk pattern, print a date within 2 s of this side's clock,
# reach both networks, and end with 0. Their getrandom values are
# compared: this kernel has no ACPI, so nothing can tell it that it was
# restored (no vmgenid); equal values SKIP that check, saying so.
# Then the bad inputs: truncated and corrupt state, a foreign format
# version (its CRC32C recomputed, so that the version check itself
# refuses), memory of the wrong size, a disk of another size: 125 and
# one line each. Everything runs in a network namespace of its own.
# Run as snapshot-pci.sh (a link to this file) every virtio device is a
# virtio-pci function with MSI-X (--transport pci, docs/pci.md): the disk
# reads and the pings after restore complete on the vectors the restore
# routed again (the guest counts its virtio MSI-X interrupts around them:
# they must grow; on arm64 they go through the GICv3 ITS, whose tables
# and registers the snapshot carries); and the bad inputs add a pci snapshot whose header says
# mmio, and --transport pci given to restore an mmio snapshot.
# lab-timeout: 420
. "$LIB"

case $(basename "$0") in
snapshot-pci.sh) TRANSPORT=pci ;;
*) TRANSPORT=mmio ;;
esac

[ -c /dev/net/tun ] || { echo "snapshot: no /dev/net/tun here"; exit 77; }
if [ -z "${SNAPSHOT_NETNS:-}" ]; then
	SNAPSHOT_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up

MAC_USER=52:54:00:00:02:15
MAC_TAP=52:54:00:00:99:02
# This side of every tap: one MAC, so that the guest's ARP entry is
# still right on the tap a restored VM is given.
MAC_HOST=02:00:00:00:99:01
S=$T/snap
skips=0
t_start=$(cut -d' ' -f1 /proc/uptime)
t_last=$t_start

step()
{
	now=$(cut -d' ' -f1 /proc/uptime)
	echo "snapshot: [$(awk "BEGIN { printf \"%.1f s, step %.1f s\", $now - $t_start, $now - $t_last }")] $*"
	t_last=$now
}

skip()
{
	echo "snapshot: SKIPPED $1: $2"
	skips=$((skips + 1))
}

# tap NAME: a persistent tap with 10.0.99.1/24 here, up.
tap()
{
	tunctl -t "$1" >/dev/null && ip link set "$1" address $MAC_HOST &&
		ip addr add 10.0.99.1/24 dev "$1" && ip link set "$1" up
}

# says FILE KEY: the rest of the guest's first "snap: KEY ..." line.
says()
{
	tr -d '\r' <"$1" | sed -n "s/^snap: $2 //p" | head -n 1
}

# wait_for FILE REGEX SECS PID: until FILE matches REGEX; 1 when PID ends
# or SECS pass first.
wait_for()
{
	i=0
	while ! { [ -f "$1" ] && tr -d '\r' <"$1" | grep -Eq -- "$2"; }; do
		i=$((i + 1))
		[ $i -le $(($3 * 5)) ] && kill -0 "$4" 2>/dev/null || return 1
		sleep 0.2
	done
}

# crc32c FILE: the CRC32C (docs/snapshot.md) of FILE, as a decimal number.
crc32c()
{
	od -An -v -tu1 "$1" | awk 'BEGIN {
		for (n = 0; n < 256; n++) {
			c = n
			for (k = 0; k < 8; k++)
				c = and(c, 1) ? xor(rshift(c, 1), 2197175160) : rshift(c, 1)
			t[n] = c
		}
		c = 4294967295
	}
	{ for (i = 1; i <= NF; i++) c = xor(t[and(xor(c, $i), 255)], rshift(c, 8)) }
	END { printf "%.0f\n", xor(c, 4294967295) }'
}

# le32 N: N as 4 little-endian bytes.
le32()
{
	# shellcheck disable=SC2059
	printf "$(awk -v n="$1" 'BEGIN { for (i = 0; i < 4; i++) { printf "\\%o", n % 256; n = int(n / 256) } }')"
}

mkdir -p "$T/www"
echo snap-hello >"$T/www/hello"
httpd -p 127.0.0.1:8000 -h "$T/www" || fail httpd "busybox httpd did not start"
tap tapsnap || { echo "snapshot: cannot set up tapsnap"; exit 1; }
truncate -s 16M "$T/disk.img"
# --net user needs libslirp, which a static kvmini (the arm64 lab's) lacks.
if "$KVMINI" run --kernel "$KERNEL" --dump-dtb "$T/probe.dtb" --net user >/dev/null 2>"$T/probe.err"; then
	WITH_USER=user
	NET_USER="--net user,mac=$MAC_USER"
	NET_USER_RESTORE="--net user"
	NETS="user ok tap ok"
else
	WITH_USER=nouser NET_USER= NET_USER_RESTORE= NETS="user none tap ok"
	skip net-user "this kvmini has no --net user: $(cat "$T/probe.err")"
fi
export NET_USER_RESTORE
KVMINI_BIN=$KVMINI
export KVMINI_BIN

# ---- the VM to snapshot ---------------------------------------------------------

step "booting the guest (2 vCPUs, a disk, --net user and a tap, --control, --transport $TRANSPORT)"
"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --cpus 2 --timeout 200 --transport $TRANSPORT \
	--disk "$T/disk.img" $NET_USER --net "tap=tapsnap,mac=$MAC_TAP" \
	--control "$T/ctl.sock" --console "file:$T/orig.log" \
	--cmdline "kvmini.script=snapshot kvmini.args=$WITH_USER" 2>"$T/orig.err" &
vm=$!
if ! wait_for "$T/orig.log" '^count ([5-9]|[1-9][0-9]) ' 150 $vm; then
	kill $vm 2>/dev/null
	fail orig "the guest never counted to 5"
	exit 1
fi
step "count 5 reached; pausing and snapshotting"
kvctl "$T/ctl.sock" '{"op":"pause"}' >"$T/ctl.out" 2>&1 || fail orig "pause: $(cat "$T/ctl.out")"
pause_host=$(date +%s)
step "paused"
kvctl "$T/ctl.sock" "{\"op\":\"snapshot\",\"path\":\"$S\"}" >"$T/ctl.out" 2>&1 ||
	fail orig "snapshot: $(cat "$T/ctl.out") $(grep -i snapshot "$T/orig.err")"
step "snapshot written: state $(stat -c %s "$S/state") bytes, memory $(du -k "$S/memory" | cut -f1) KiB used of $(($(stat -c %s "$S/memory") >> 20)) MiB"
kvctl "$T/ctl.sock" '{"op":"stop"}' >"$T/ctl.out" 2>&1 || fail orig "stop: $(cat "$T/ctl.out")"
rc=0
wait $vm || rc=$?
if [ $rc -eq 0 ]; then
	echo "orig: exit status 0 ok"
else
	fail orig "exit status $rc after stop, expected 0"
	head -n 60 "$T/orig.err" | sed 's/^/orig: stderr: /'
fi
step "stopped"
[ -f "$S/state" ] && [ -f "$S/memory" ] || { fail orig "no $S/state or $S/memory"; exit 1; }

net_before=$(says "$T/orig.log" "net before")
mark=$(says "$T/orig.log" marker)
disk=$(says "$T/orig.log" disk)
# A guest whose clock is decades off before the snapshot has no wall
# clock to adjust: the check after restore can only be that it did not
# go back.
date_before=$(says "$T/orig.log" date-before)
clock=wall
if [ -n "$date_before" ] && [ $(($(date +%s) - date_before)) -gt 86400 ]; then
	clock=none
	skip date "the guest has no wall clock (date $date_before before the snapshot; arm64: kvmini gives it no RTC): only checked that it does not go back"
fi
last=$(tr -d '\r' <"$T/orig.log" | sed -n 's/^count \([0-9]*\) [0-9]*$/\1/p' | tail -n 1)
# The guest's clock less this side's at the pause, at most: its last
# count line came out before the pause.
last_date=$(tr -d '\r' <"$T/orig.log" | sed -n 's/^count [0-9]* \([0-9]*\)$/\1/p' | tail -n 1)
off_before=$((${last_date:-0} - pause_host))
echo "orig: the guest's clock at its last count: $last_date, this side's at the pause $pause_host (offset $off_before s)"
echo "orig: net before: $net_before; marker $mark; disk $disk; last count $last"
[ "$net_before" = "$NETS" ] || fail orig "networks before the snapshot: '$net_before'"
[ -n "$mark" ] && [ -n "$disk" ] && [ -n "$last" ] || { fail orig "no marker, disk sum or count"; exit 1; }

# ---- three VMs restored at once ---------------------------------------------------

# Each in a network namespace of its own (the three guests have one MAC
# and address between them), with its own tap, named anew, and the
# slirp side's web server.
cat >"$T/restore.sh" <<-'EOF'
	i=$1 T=$2
	ip link set lo up
	tunctl -t "taprest$i" >/dev/null && ip link set "taprest$i" address "$3" &&
		ip addr add 10.0.99.1/24 dev "taprest$i" && ip link set "taprest$i" up ||
		{ echo "cannot set up taprest$i" >&2; exit 1; }
	httpd -f -p 127.0.0.1:8000 -h "$T/www" &
	h=$!
	rc=0
	"$KVMINI_BIN" run --restore "$T/snap" --timeout 120 --disk "$T/disk$i.img" \
		$NET_USER_RESTORE --net "tap=taprest$i" --console stdio || rc=$?
	kill $h
	exit $rc
EOF
step "restoring three VMs"
for i in 1 2 3; do
	cp "$T/disk.img" "$T/disk$i.img"
	mkfifo "$T/in$i"
	unshare -n sh "$T/restore.sh" $i "$T" $MAC_HOST <"$T/in$i" >"$T/r$i.log" 2>"$T/r$i.err" &
	eval "pid$i=\$!"
done
# The fifos open here (held for writing until the end, so that no VM
# sees its input end early).
exec 4>"$T/in1" 5>"$T/in2" 6>"$T/in3"
for i in 1 2 3; do
	eval "p=\$pid$i"
	wait_for "$T/r$i.log" '^count [0-9]' 60 "$p" || fail "r$i" "no count from the restored VM"
done
step "all three counting again"
# "check NOW" to each, again every 2 s until it answers (the guest's
# read may time out in mid-line and lose one: tests/guest/snapshot.sh).
# The guest prints its date between the sending of the line it answers
# and the moment its answer is seen here: with this side's clock both
# ends of that window are known, whatever the guest's delays.
sent1=0 sent2=0 sent3=0 seen1= seen2= seen3=
for k in $(seq 300); do
	left=0
	for i in 1 2 3; do
		eval "p=\$pid$i seen=\$seen$i"
		[ -z "$seen" ] || continue
		if tr -d '\r' <"$T/r$i.log" | grep -q '^snap: date'; then
			eval "seen$i=$(date +%s)"
		elif kill -0 "$p" 2>/dev/null; then
			left=$((left + 1))
			if [ $((k % 10)) = 1 ]; then
				now=$(date +%s)
				echo "check $now" >&$((i + 3))
				eval "sent$i=\"\$sent$i $now\""
			fi
		fi
	done
	[ $left -gt 0 ] || break
	sleep 0.2
done
for i in 1 2 3; do
	eval "p=\$pid$i"
	rc=0
	wait "$p" || rc=$?
	[ $rc -eq 0 ] && echo "r$i: exit status 0 ok" || fail "r$i" "exit status $rc, expected 0"
done
exec 4>&- 5>&- 6>&-
step "all three ended"

for i in 1 2 3; do
	r=$T/r$i.log
	first=$(tr -d '\r' <"$r" | sed -n 's/.*count \([0-9]*\) [0-9]*$/\1/p' | head -n 1)
	if [ -n "$first" ] && [ "$first" -ge "$last" ] && [ "$first" -le $((last + 3)) ]; then
		echo "r$i: counting went on: first count $first after $last"
	else
		fail "r$i" "first count '$first', the snapshot's last was $last"
	fi
	m=$(says "$r" marker-now)
	[ "$m" = "$mark file $mark" ] && echo "r$i: marker unchanged" ||
		fail "r$i" "marker '$m', expected '$mark file $mark'"
	d=$(says "$r" disk-now)
	[ "$d" = "$disk" ] && echo "r$i: disk pattern intact" ||
		fail "r$i" "disk sha256 '$d', expected $disk"
	eval "seen=\$seen$i sent=\$sent$i"
	set -- $(says "$r" date)
	if [ "$clock" = none ]; then
		if [ $# -eq 3 ] && [ "$1" -ge "$date_before" ]; then
			echo "r$i: guest date $1 (no wall clock), not before its $date_before of the snapshot"
		else
			fail "r$i" "date line '$*': earlier than the snapshot's $date_before"
		fi
	elif [ $# -eq 3 ] && [ -n "$seen" ] && echo " $sent " | grep -q " $3 " &&
	   [ "$1" -ge $(($3 - 2)) ] && [ "$1" -le $((seen + 2)) ]; then
		echo "r$i: guest date $1, within 2 s of this side's $3 (sent) to $seen (answer seen)"
	elif [ $# -eq 3 ] && [ -n "$seen" ] && [ "$off_before" -lt -2 ] &&
	     [ "$1" -ge $(($3 + off_before - 2)) ] && [ "$1" -le $((seen + 2)) ]; then
		# Behind already before the snapshot (the guest's own
		# timekeeping under the lab's load), and no further after.
		echo "r$i: guest date $1, $(($3 - $1)) s behind this side's $3 (sent): no more than the $((-off_before)) s it was behind at the pause"
	else
		fail "r$i" "date line '$*', sent at$sent, seen at ${seen:-never}: not within 2 s of the host's clock"
	fi
	n=$(says "$r" "net after")
	if [ "$n" = "$NETS" ]; then
		echo "r$i: networks after restore: $n"
	else
		fail "r$i" "networks after restore: '$n'"
		echo "r$i: $(says "$r" tap-stats)"
	fi
	# MSI-X (pci): the restored VM's vectors still take interrupts (on
	# arm64 through the ITS whose tables the snapshot carried).
	set -- $(says "$r" msi)
	if [ "$TRANSPORT" != pci ]; then
		:
	elif [ $# -eq 5 ] && [ "$1" -gt 0 ] && [ "$1" = "$4" ] && [ "$5" -gt "$2" ]; then
		echo "r$i: MSI-X: $1 virtio vectors, interrupts $2 -> $5 after restore"
	elif [ $# -eq 5 ] && [ "$1" = 0 ] && [ "${KVMINI_ARCH:-x86_64}" = arm64 ]; then
		skip "msi-r$i" "no MSI-X vectors in the guest (arm64 without an ITS: INTx only)"
	else
		fail "r$i" "MSI-X interrupts after restore: '$*' (vectors, count before, 'after', vectors, count after)"
	fi
	eval "rand$i=\$(says \"\$r\" random)"
done
echo "snapshot: getrandom after restore: $rand1 $rand2 $rand3"
if [ -z "$rand1" ] || [ -z "$rand2" ] || [ -z "$rand3" ]; then
	fail random "a restored VM printed no random value"
elif [ "$rand1" != "$rand2" ] && [ "$rand1" != "$rand3" ] && [ "$rand2" != "$rand3" ]; then
	# Not kvmini's doing: without vmgenid only the guest's own reseeding
	# (every few seconds this soon after boot, then once a minute) can
	# tell them apart, so a later snapshot may well repeat.
	echo "random: three different values (the guest's own reseeding: this kernel has no vmgenid)"
else
	skip random "two restored VMs read the same getrandom bytes (minimal kernel: no vmgenid; see docs/snapshot.md)"
fi

# ---- bad inputs: 125, one line, nothing run --------------------------------------

# bad NAME REGEX [DISK]: a restore of $T/bad (with DISK, else a copy of
# the snapshot's) refused.
bad()
{
	name=$1 re=$2
	rc=0
	"$KVMINI" run --restore "$T/bad" --timeout 20 --console "file:$T/$name.log" \
		--disk "${3:-$T/disk1.img}" $NET_USER_RESTORE --net tap=tapsnap 2>"$T/$name.err" || rc=$?
	if [ $rc -ne 125 ]; then
		fail "$name" "exit status $rc, expected 125"
	elif [ "$(wc -l <"$T/$name.err")" -ne 1 ]; then
		fail "$name" "not one line on stderr"
	elif [ -s "$T/$name.log" ]; then
		fail "$name" "the guest wrote to its console"
	else
		stderr "$name" "$re"
	fi
}
step "bad inputs"
mkdir -m 0700 "$T/bad"
cp "$S/memory" "$T/bad/memory"
size=$(stat -c %s "$S/state")
head -c $((size / 2)) "$S/state" >"$T/bad/state"
bad bad-truncated "snapshot .*bad/state: (truncated|checksum)"
cp "$S/state" "$T/bad/state"
printf 'X' | dd of="$T/bad/state" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
bad bad-corrupt "snapshot .*bad/state: checksum mismatch"
# Version 2, with a checksum that matches: the check of the version is
# what refuses it. (The helper is checked on the untouched file first.)
head -c $((size - 4)) "$S/state" >"$T/body"
want=$(od -An -tu4 -j $((size - 4)) "$S/state" | tr -d ' ')
got=$(crc32c "$T/body")
if [ "$got" != "$want" ]; then
	fail bad-version "this script's CRC32C $got, the file's $want"
else
	le32 2 | dd of="$T/body" bs=1 seek=8 conv=notrunc 2>/dev/null
	{ cat "$T/body"; le32 "$(crc32c "$T/body")"; } >"$T/bad/state"
	bad bad-version "snapshot .*bad/state: written by format version 2, this kvmini reads 1"
fi
# The transport: a pci snapshot whose header says mmio (its checksum
# right), and --transport pci for an mmio snapshot.
if [ "$TRANSPORT" = pci ] && [ "$got" = "$want" ]; then
	head -c $((size - 4)) "$S/state" >"$T/body"
	le32 0 | dd of="$T/body" bs=1 seek=16 conv=notrunc 2>/dev/null
	{ cat "$T/body"; le32 "$(crc32c "$T/body")"; } >"$T/bad/state"
	# (arm64: the GICv3 ITS's section, loaded first, is the one named.)
	bad bad-transport "snapshot .*bad/state: (device state for virtio-pci|GICv3 ITS state) in a snapshot taken with --transport mmio"
elif [ "$TRANSPORT" = mmio ]; then
	rc=0
	"$KVMINI" run --restore "$S" --transport pci --timeout 20 --console "file:$T/bad-pci.log" \
		--disk "$T/disk1.img" $NET_USER_RESTORE --net tap=tapsnap 2>"$T/bad-pci.err" || rc=$?
	[ $rc -eq 125 ] || fail bad-pci "exit status $rc, expected 125"
	stderr bad-pci "the snapshot's devices are on virtio-mmio: drop --transport pci"
fi
cp "$S/state" "$T/bad/state"
truncate -s 64M "$T/bad/memory"
bad bad-memory-size "snapshot .*bad/memory: not [0-9]* bytes"
cp "$S/memory" "$T/bad/memory"
truncate -s 32M "$T/disk-big.img"
bad bad-disk-size "disk 0 .*is 33554432 bytes, it was 16777216" "$T/disk-big.img"
bad_files=$(ls -A "$T/bad" | tr '\n' ' ')
[ "$bad_files" = "memory state " ] && echo "bad inputs: nothing left behind" ||
	fail bad-leftovers "$T/bad holds: $bad_files"
step "done ($skips skipped)"
finish
