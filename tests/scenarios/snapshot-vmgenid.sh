#!/bin/sh
# lab-timeout: 600
# Randomness after restore (issue #19; docs/snapshot.md, "Randomness after
# restore"). Debian's generic kernel (CONFIG_VMGENID=y) boots with
# --control and tests/guest/vmgenid.sh, which checks that the vmgenid
# driver took kvmini's VM generation ID device and then prints, every
# half second or so, four /dev/urandom reads in a row. Just after the
# kernel reseeded on its own timing past 30 s of uptime (a kprobe counts
# reseeds), the VM is paused, snapshotted and stopped, and restored four
# times at once:
#
# - two as kvmini restores: each gets a new GUID and the GED's interrupt,
#   its kernel says "crng reseeded due to virtual machine fork", and the
#   two share none of their reads after that;
# - two with KVMINI_TEST_VMGENID=stale (the GUID left as the snapshot's,
#   no interrupt), the control: no fork reseed, the snapshot's GUID, and
#   reads in common, which shows that the first pair's difference is
#   vmgenid's doing and that this test can fail. Should the kernel reseed
#   on its own before the control's reads, the control proves nothing and
#   says so without failing; its reseed count tells.
#
# socat, for the control socket, is the build host's (HOSTROOT).
. "$LIB"

[ "${KVMINI_ARCH:-x86_64}" = x86_64 ] || exit 77

dir=$GUEST/debian-generic
if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/initramfs.cpio.gz" ]; then
	fail src "no $dir/vmlinuz or initramfs.cpio.gz (guests/build-debian.sh)"
	exit 1
fi

# ctl SOCKET REQUEST...: one connection, a request per line, the replies.
ctl()
{
	sock=$1
	shift
	if [ -n "${HOSTROOT:-}" ]; then
		printf '%s\n' "$@" | hostrun socat -t 30 - "UNIX-CONNECT:$sock"
	else
		printf '%s\n' "$@" | socat -t 30 - "UNIX-CONNECT:$sock"
	fi
}

# rnd NAME: the complete lines vmgenid.sh printed, as "SEQ FORKS RESEEDS
# GUID BYTES UPTIME" (a restored console may start with the end of a line).
rnd()
{
	[ -f "$T/$1.log" ] || return 0
	tr -d '\r' <"$T/$1.log" | awk '$1 == "vmgenid.sh:" && $2 == "rnd" &&
		NF == 8 && length($7) == 4 * 33 - 1 { print $3, $4, $5, $6, $7, $8 }'
}

# line NAME SEQ: that line of rnd's, or nothing.
line()
{
	rnd "$1" | awk -v s="$2" '$1 == s { print; exit }'
}

# until_line NAME SECS AWK-CONDITION: waits for a line of rnd's that meets
# the condition ($1 SEQ, $2 FORKS, $3 RESEEDS...); prints it.
until_line()
{
	n=0
	while [ $n -lt $(($2 * 5)) ]; do
		l=$(rnd "$1" | awk "$3 { print; exit }")
		[ -n "$l" ] && { echo "$l"; return 0; }
		sleep 0.2
		n=$((n + 1))
	done
	return 1
}

"$KVMINI" run --kernel "$dir/vmlinuz" --initrd "$dir/initramfs.cpio.gz" --timeout 500 \
	--control "$T/src.sock" --console "file:$T/src.log" \
	--cmdline "quiet kvmini.script=vmgenid" 2>"$T/src.err" &
src=$!
if ! until_line src 300 '$1 >= 3' >/dev/null; then
	kill -TERM $src 2>/dev/null
	wait $src
	fail src "no rnd lines from vmgenid.sh in 300 s"
	exit 1
fi
console src "vmgenid.sh: bound: vmgenid on VMGENCTR:00, acpi-ged on ACPI0013"

# The control's odds: Linux 6.1 reseeds its generator at its first use
# once the seed is older than half the uptime (5 s at least, 60 s from
# 2 minutes on), so reseeds come at about twice the time of the last one.
# The first reseed after 30 s of uptime is then followed by none for
# 30 s at least: snapshot just after it, and restoring (its clock jumps
# by the seconds it takes) and six more reads fit in that.
last=$(until_line src 120 '$6 >= 30')
r0=$(echo "$last" | cut -d' ' -f3)
if [ -n "$r0" ] && [ "$r0" != '?' ]; then
	if until_line src 120 "\$3 > $r0" >/dev/null; then
		echo "src: the kernel reseeded at $(rnd src | tail -n 1 | cut -d' ' -f6) s of uptime: snapshot"
	else
		echo "src: no reseed in 120 s: snapshot anyway"
	fi
fi
replies=$(ctl "$T/src.sock" '{"op":"pause"}' "{\"op\":\"snapshot\",\"path\":\"$T/snap\"}" \
	'{"op":"stop"}')
rc=0
wait $src || rc=$?
if [ "$(echo "$replies" | grep -c '"ok":true')" != 3 ] || [ $rc != 0 ]; then
	fail src "pause, snapshot, stop: replies '$(echo "$replies" | tr '\n' ' ')', exit status $rc"
	exit 1
fi
echo "src: paused, snapshotted, stopped"
# The last line the source printed whole: the control compares the
# reads of the line after the next, the first surely read after restore.
last=$(rnd src | tail -n 1)
s=$(echo "$last" | cut -d' ' -f1)
src_guid=$(echo "$last" | cut -d' ' -f4)
src_reseeds=$(echo "$last" | cut -d' ' -f3)

for vm in a b c d; do
	stale=
	[ $vm = c ] || [ $vm = d ] && stale=stale
	KVMINI_TEST_VMGENID=$stale "$KVMINI" run --restore "$T/snap" --timeout 200 --verbose \
		--console "file:$T/$vm.log" 2>"$T/$vm.err" &
	eval "pid_$vm=\$!"
done

# Six lines from each: from a and b read after their fork reseeds, from
# the control's c and d the lines after the next (s + 2 on, the first
# surely read after restore).
N=6
until_line a 120 "\$2 >= 1 && ++n >= $N" >/dev/null
until_line b 120 "\$2 >= 1 && ++n >= $N" >/dev/null
until_line c 120 "\$1 >= $s + 1 + $N" >/dev/null
until_line d 120 "\$1 >= $s + 1 + $N" >/dev/null
for vm in a b c d; do
	eval "kill -TERM \$pid_$vm 2>/dev/null; wait \$pid_$vm"
done
echo "src: last line $last"
for vm in a b c d; do
	rnd $vm | sed "s/^/$vm: /"
done
rnd a | awk '$2 >= 1' | head -n $N >"$T/a.rnd"
rnd b | awk '$2 >= 1' | head -n $N >"$T/b.rnd"
# The control's lines from before any reseed of the kernel's own.
rnd c | awk -v s="$s" -v r="$src_reseeds" '$1 >= s + 2 && $3 == r' | head -n $N >"$T/c.rnd"
rnd d | awk -v s="$s" -v r="$src_reseeds" '$1 >= s + 2 && $3 == r' | head -n $N >"$T/d.rnd"

# common X Y: the urandom reads X and Y have in common, whatever their
# lines (the kernel's own draws from the generator may come before a read
# in one guest and after it in the other).
common()
{
	awk 'NR == FNR { n = split($5, v, ","); for (i = 1; i <= n; i++) seen[v[i]] = 1; next }
		{ n = split($5, v, ","); for (i = 1; i <= n; i++) if (v[i] in seen) print v[i] }' \
		"$T/$1.rnd" "$T/$2.rnd"
}

stderr a "new VM generation ID, announced on interrupt 23"
stderr b "new VM generation ID, announced on interrupt 23"
ga=$(cut -d' ' -f4 "$T/a.rnd" | sort -u)
gb=$(cut -d' ' -f4 "$T/b.rnd" | sort -u)
if [ "$(wc -l <"$T/a.rnd")" -lt $N ] || [ "$(wc -l <"$T/b.rnd")" -lt $N ]; then
	fail a "not $N lines read after a fork reseed from both VMs"
elif [ "$ga" = "$src_guid" ] || [ "$gb" = "$src_guid" ] || [ "$ga" = "$gb" ] ||
	[ "$(echo "$ga" | wc -l)" != 1 ] || [ "$(echo "$gb" | wc -l)" != 1 ]; then
	fail a "GUIDs: snapshot $src_guid, a $ga, b $gb: two new ones expected"
elif [ -n "$(common a b)" ]; then
	fail a "after their fork reseeds both read $(common a b | tr '\n' ' ')"
else
	echo "vmgenid: $N lines of four reads each after the fork reseed, none in common"
fi

gc=$(cut -d' ' -f4 "$T/c.rnd" | sort -u)
gd=$(cut -d' ' -f4 "$T/d.rnd" | sort -u)
if rnd c | awk '$2 != 0 { bad = 1 } END { exit !bad }' ||
	rnd d | awk '$2 != 0 { bad = 1 } END { exit !bad }' ||
	{ [ -n "$gc$gd" ] && { [ "$gc" != "$src_guid" ] || [ "$gd" != "$src_guid" ]; }; }; then
	fail c "KVMINI_TEST_VMGENID=stale: a fork reseed, or GUIDs $gc $gd (snapshot's $src_guid)"
elif [ ! -s "$T/c.rnd" ] || [ ! -s "$T/d.rnd" ]; then
	echo "control: INCONCLUSIVE: the kernel reseeded on its own before line $((s + 2)) (reseeds $src_reseeds at the snapshot): it proves nothing this time"
elif [ -z "$(common c d)" ]; then
	fail c "without vmgenid, with no reseed since the snapshot, c and d read nothing in common"
else
	echo "control: without vmgenid both read $(common c d | head -n 1) (of $(common c d | wc -l) in common)"
fi
finish
