#!/bin/sh
# make bench's network figures (bench/bench.sh runs this inside a network
# namespace of its own, `unshare -n`: no frame leaves it). Four set-ups,
# the same guest (tests/guest/net-bench.sh, iperf3 from the tools disk),
# 1 vCPU and 512 MiB each:
#   kvmini tap    --net tap=benchtap0 (10.0.99.1 here, the guest 10.0.99.2)
#   qemu tap      microvm, virtio-net-device on -netdev tap, vhost=off
#   kvmini user   --net user,hostfwd=tcp:127.0.0.1:5301-:5201
#   qemu user     -netdev user,hostfwd=tcp:127.0.0.1:5301-:5201
# Each boot gives one of each figure: the median of the guest's pings to
# this side (10.0.99.1; on user networking the gateway, 10.0.2.2, which
# the VMM's own libslirp answers), an iperf3 TCP test from the guest to a
# server here (guest to host), then one from here to a server in the guest
# (host to guest: straight to 10.0.99.2, or through hostfwd). Runs are
# interleaved like the rest of make bench.
#
# Records on standard output (bench.sh's settings in the environment):
#   @@BENCH net VMM NET METRIC RUN value=V     (NET tap|user; METRIC g2h and
#                                               h2g in Mbit/s, rtt in ms)
#   @@BENCH env|cmd|note ...
set -u

: "${BENCH_KVMINI:?}" "${BENCH_QEMU:?}" "${BENCH_IPERF3:?}" "${KERNEL:?}" "${INITRD:?}"
: "${BENCH_TOOLS:?}" "${KVMINI_APPEND?}" "${QEMU_APPEND:?}"
qemu_cpu=${BENCH_QEMU_CPU:-host}
runs=${BENCH_NET_RUNS:-5}
secs=${BENCH_NET_SECS:-5}
pings=${BENCH_NET_PINGS:-20}
# The set-ups to measure (both by default; "tap" alone for a quick look).
nets=${BENCH_NET_SETS:-tap user}
# A boot, three measurements and iperf3's start-ups; seconds in the lab.
boot_timeout=${BENCH_NET_TIMEOUT:-300}
scratch=${T:-/tmp}/bench
mkdir -p "$scratch"

TAP=benchtap0
MAC=52:54:00:12:34:56
FWD=5301

. "${BENCH_LIB:-$(dirname "$0")/lib.sh}"

# net_vmm VMM NET PREFIX...: PREFIX and VMM's command line, as bench.sh's
# vmm(): the same kernel, initramfs, RAM, vCPU, console and virtio-rng,
# plus the tools disk (read-only) and the NIC on NET.
net_vmm()
{
	v=$1 net=$2
	shift 2
	args="kvmini.script=net-bench kvmini.args=$net,$secs,$pings"
	case $v-$net in
	kvmini-tap) nic="tap=$TAP,mac=$MAC" ;;
	kvmini-user) nic="user,hostfwd=tcp:127.0.0.1:$FWD-:5201,mac=$MAC" ;;
	qemu-tap) nic="tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off" ;;
	qemu-user) nic="user,id=n0,hostfwd=tcp:127.0.0.1:$FWD-:5201" ;;
	esac
	case $v in
	kvmini)
		"$@" "$BENCH_KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" \
			--mem 512M --cpus 1 --timeout "$boot_timeout" \
			--disk "$BENCH_TOOLS,ro,serial=tools" --net "$nic" \
			--cmdline "$KVMINI_APPEND $args"
		;;
	qemu)
		"$@" "$BENCH_QEMU" -nodefaults -no-user-config -enable-kvm \
			-cpu "$qemu_cpu" -M microvm,x-option-roms=off,rtc=off,acpi=off \
			-m 512M -smp 1 -display none -no-reboot -serial stdio \
			-device virtio-rng-device \
			-drive "id=tools,file=$BENCH_TOOLS,format=raw,if=none,readonly=on,aio=io_uring" \
			-device virtio-blk-device,drive=tools,serial=tools \
			-netdev "$nic" -device "virtio-net-device,netdev=n0,mac=$MAC" \
			-kernel "$KERNEL" -initrd "$INITRD" -append "$QEMU_APPEND $args"
		;;
	esac
}

# said LOG KEY: the value of "net-bench KEY value=..." on the guest's console.
said()
{
	tr -d '\r' <"$1" | sed -n "s/^net-bench $2 [a-z]*=\([0-9.]*\).*/\1/p" | head -n 1
}

# mbps LOG: the receiver's Mbit/s in iperf3's closing summary (-f m).
mbps()
{
	awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }' "$1" |
		tail -n 1
}

# value VMM NET METRIC RUN V: a record, or a note when V is empty.
value()
{
	if [ -n "$5" ]; then
		rec net "$1 $2 $3 $4 value=$5"
	else
		rec note "net $1 $2 $3 run $4: no figure"
	fi
}

# net_run VMM NET RUN: boot, wait for the guest's server, run the host's
# client against it, let the guest end; records for the three figures.
net_run()
{
	v=$1 net=$2 i=$3
	log=$scratch/net-$v-$net-$i.log
	: >"$log"
	net_vmm "$v" "$net" timeout "$boot_timeout" >"$log" 2>&1 </dev/null &
	pid=$!
	while kill -0 $pid 2>/dev/null && ! grep -q '^net-bench serving' "$log"; do
		sleep 0.5
	done
	h2g=
	if grep -q '^net-bench serving' "$log"; then
		if [ "$net" = tap ]; then dst="10.0.99.2 -p 5201"; else dst="127.0.0.1 -p $FWD"; fi
		# shellcheck disable=SC2086
		if "$BENCH_IPERF3" -c $dst -t "$secs" -f m >"$log.h2g" 2>&1; then
			h2g=$(mbps "$log.h2g")
		else
			rec note "net $v $net h2g run $i: $(tail -n 1 "$log.h2g")"
		fi
	fi
	rc=0
	wait $pid || rc=$?
	# kvmini ends through its exit device with the guest's status; QEMU
	# on the guest's reboot=t, with 0: the guest's own lines tell.
	if [ $rc -ne 0 ] || grep -q '^net-bench \(FAIL\|g2h failed\)' "$log"; then
		rec note "net $v $net run $i ended with $rc"
		tr -d '\r' <"$log" | grep -v '^\[' | tail -n 5 | while IFS= read -r l; do
			rec note "  | $l"
		done
	fi
	value "$v" "$net" rtt "$i" "$(said "$log" rtt)"
	value "$v" "$net" g2h "$i" "$(said "$log" g2h)"
	value "$v" "$net" h2g "$i" "$h2g"
}

[ -x "$BENCH_IPERF3" ] || { rec note "net: no iperf3 ($BENCH_IPERF3): no network figures"; exit 0; }
[ -f "$BENCH_TOOLS" ] || { rec note "net: no tools.img ($BENCH_TOOLS): no network figures"; exit 0; }

ip link set lo up
# A persistent tap that both VMMs attach to in turn, this side 10.0.99.1.
if ! { tunctl -t $TAP >/dev/null 2>&1 || ip tuntap add $TAP mode tap; } ||
	! ip addr add 10.0.99.1/24 dev $TAP || ! ip link set $TAP up; then
	rec note "net: cannot set up the tap $TAP: no network figures"
	exit 0
fi

# The server for the guest-to-host tests: 10.0.99.1 for the tap, and
# 127.0.0.1, where user networking's 10.0.2.2 leads.
"$BENCH_IPERF3" -s -p 5201 >"$scratch/iperf3-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT

rec env net_runs "$runs"
rec env net_secs "$secs"
rec env net_pings "$pings"
rec env iperf3_version "$("$BENCH_IPERF3" --version 2>&1 | head -n 1)"
for v in kvmini qemu; do
	for net in tap user; do
		rec cmd "net_${v}_$net" "$(net_vmm $v $net show)"
	done
done
rec cmd net_iperf3 "iperf3 -c HOST -p PORT -t $secs -f m (guest: HOST 10.0.99.1 or 10.0.2.2, PORT 5201;" \
	"host: 10.0.99.2 port 5201, or 127.0.0.1 port $FWD through hostfwd); ping -c $pings -i 0.2 HOST"

i=1
while [ "$i" -le "$runs" ]; do
	for net in $nets; do
		for v in $(pair "$i"); do
			net_run "$v" "$net" "$i"
		done
	done
	i=$((i + 1))
done
