#!/bin/sh
# make bench's vsock figures (bench/bench.sh runs this after the network):
# the same guest (tests/guest/vsock-bench.sh, the vsock tool from the
# initramfs), 1 vCPU and 256 MiB, under
#   kvmini   --vsock 3,uds=PATH: the host end is Unix sockets
#            (docs/vsock.md: PATH_PORT for the guest's connects,
#            "CONNECT PORT" on PATH for the host's)
#   qemu     microvm, -device vhost-vsock-device,guest-cid=3: the host
#            kernel's vhost_vsock, whose host end is AF_VSOCK sockets
# Each VMM end to end through its own native host interface; the guest
# side is the same AF_VSOCK program. Each boot gives one of each figure,
# all timed here on the host by the vsock tool (guests/tools/vsock.c) from
# the moment its stream is established:
#   g2h  one stream of BENCH_VSOCK_MIB MiB from the guest, read to its end
#   h2g  one stream of as many MiB to the guest, until the guest's close
#   rtt  the median of BENCH_VSOCK_PINGS round trips of BENCH_VSOCK_SIZE
#        bytes to an echo in the guest
# QEMU's peer needs /dev/vhost-vsock: in the lab this loads the outer
# kernel's vhost_vsock and its dependencies from /bench/vhost (bench/run.sh
# packs them); without it, kvmini's figures alone and a note saying why.
#
# Records on standard output (bench.sh's settings in the environment):
#   @@BENCH vsock VMM METRIC RUN value=V  (g2h, h2g in MiB/s; rtt in µs)
#   @@BENCH env|cmd|note ...
set -u

: "${BENCH_KVMINI:?}" "${BENCH_QEMU:?}" "${KERNEL:?}" "${INITRD:?}"
: "${KVMINI_APPEND?}" "${QEMU_APPEND:?}"
qemu_cpu=${BENCH_QEMU_CPU:-host}
runs=${BENCH_VSOCK_RUNS:-5}
mib=${BENCH_VSOCK_MIB:-64}
pings=${BENCH_VSOCK_PINGS:-1000}
size=${BENCH_VSOCK_SIZE:-64}
boot_timeout=${BENCH_VSOCK_TIMEOUT:-300}
tool=${BENCH_VSOCK_TOOL:-$(command -v vsock || echo "$(dirname "$INITRD")/vsock")}
scratch=${T:-/tmp}/bench
mkdir -p "$scratch"
bytes=$((mib * 1024 * 1024))
CID=3

. "${BENCH_LIB:-$(dirname "$0")/lib.sh}"

# vsock_vmm VMM PREFIX...: PREFIX and VMM's command line, as bench.sh's
# vmm(), plus the vsock device.
vsock_vmm()
{
	v=$1
	shift
	args="kvmini.script=vsock-bench kvmini.args=$bytes,$pings,$size"
	case $v in
	kvmini)
		"$@" "$BENCH_KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" \
			--mem 256M --cpus 1 --timeout "$boot_timeout" \
			--vsock "$CID,uds=$uds" --cmdline "$KVMINI_APPEND $args"
		;;
	qemu)
		"$@" "$BENCH_QEMU" -nodefaults -no-user-config -enable-kvm \
			-cpu "$qemu_cpu" -M microvm,x-option-roms=off,rtc=off,acpi=off \
			-m 256M -smp 1 -display none -no-reboot -serial stdio \
			-device virtio-rng-device -device "vhost-vsock-device,guest-cid=$CID" \
			-kernel "$KERNEL" -initrd "$INITRD" -append "$QEMU_APPEND $args"
		;;
	esac
}

# ep VMM STEP PORT: the host's endpoint for STEP (see the vsock tool).
ep()
{
	case $1-$2 in
	kvmini-g2h) echo "ulisten:${uds}_$3" ;;
	kvmini-*) echo "unix:$uds:$3" ;;
	qemu-g2h) echo "listen:$3" ;;
	qemu-*) echo "vsock:$CID:$3" ;;
	esac
}

# field LINE KEY: the value after KEY in a vsock tool's line.
field()
{
	echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' | head -n 1
}

value()
{
	if [ -n "$5" ]; then
		rec vsock "$1 $2 $3 value=$5"
	else
		rec note "vsock $1 $2 run $3: no figure${4:+ ($4)}"
	fi
}

# vsock_run VMM RUN: one boot, its three figures.
vsock_run()
{
	v=$1 i=$2
	log=$scratch/vsock-$v-$i.log
	uds=$scratch/v$i.sock
	rm -f "$uds" "${uds}"_*
	# The host's reader waits before the guest boots.
	timeout "$boot_timeout" "$tool" sink "$(ep "$v" g2h 5100)" >"$log.g2h" 2>&1 &
	sink=$!
	vsock_vmm "$v" timeout "$boot_timeout" >"$log" 2>&1 </dev/null &
	pid=$!
	rc=0
	wait $sink || rc=$?
	line=$(grep '^vsock: sink ' "$log.g2h")
	value "$v" g2h "$i" "$(grep -v '^vsock: sink ' "$log.g2h" | tail -n 1)" "$(field "$line" mibps)"
	line=
	if kill -0 $pid 2>/dev/null; then
		line=$(timeout "$boot_timeout" "$tool" source "$(ep "$v" h2g 5101)" "$bytes" 2>&1)
	fi
	value "$v" h2g "$i" "$(echo "$line" | grep -v '^vsock: source' | tail -n 1)" "$(field "$line" mibps)"
	line=
	if kill -0 $pid 2>/dev/null; then
		line=$(timeout "$boot_timeout" "$tool" pingpong "$(ep "$v" rtt 5102)" "$pings" "$size" 2>&1)
		pp=$(echo "$line" | grep '^vsock: pingpong')
		[ -z "$pp" ] || rec env "vsock_rtt_${v}_$i" "${pp#vsock: pingpong }"
	fi
	value "$v" rtt "$i" "$(echo "$line" | grep -v '^vsock: pingpong' | tail -n 1)" "$(field "$line" median_us)"
	rc=0
	wait $pid || rc=$?
	# kvmini ends through its exit device with the guest's status; QEMU
	# on the guest's reboot=t, with 0: the guest's own lines tell.
	if [ $rc -ne 0 ] || ! grep -q '^vsock-bench done' "$log"; then
		rec note "vsock $v run $i ended with $rc"
		tr -d '\r' <"$log" | grep -v '^\[' | tail -n 5 | while IFS= read -r l; do
			rec note "  | $l"
		done
	fi
}

# QEMU's peer: /dev/vhost-vsock, loaded here from bench/run.sh's modules
# (in /bench/vhost, for the lab's kernel release) when it is missing.
vmms="kvmini qemu"
if [ ! -c /dev/vhost-vsock ] && [ -f /bench/vhost/load ]; then
	if [ "$(cat /bench/vhost/release)" = "$(uname -r)" ]; then
		while read -r m; do
			insmod "/bench/vhost/$m" 2>/dev/null || grep -q "^${m%.ko} " /proc/modules ||
				rec note "vsock: insmod $m failed"
		done </bench/vhost/load
	else
		rec note "vsock: /bench/vhost has $(cat /bench/vhost/release)'s modules, this kernel is $(uname -r)"
	fi
fi
if [ ! -c /dev/vhost-vsock ]; then
	rec note "vsock: no /dev/vhost-vsock (the kernel's vhost_vsock module): no QEMU figures"
	vmms=kvmini
fi
rec env vsock_vhost "$([ -c /dev/vhost-vsock ] && echo yes || echo no)"
[ -x "$tool" ] || { rec note "vsock: no vsock tool ($tool): no vsock figures"; exit 0; }

rec env vsock_runs "$runs"
rec env vsock_mib "$mib"
rec env vsock_pings "$pings"
rec env vsock_size "$size"
uds=$scratch/vN.sock
for v in kvmini qemu; do
	rec cmd "vsock_$v" "$(vsock_vmm $v show)"
done
rec cmd vsock_host_kvmini "vsock sink ulisten:${uds}_5100; vsock source unix:$uds:5101 $bytes;" \
	"vsock pingpong unix:$uds:5102 $pings $size"
rec cmd vsock_host_qemu "vsock sink listen:5100; vsock source vsock:$CID:5101 $bytes;" \
	"vsock pingpong vsock:$CID:5102 $pings $size"

i=1
while [ "$i" -le "$runs" ]; do
	for v in $(pair "$i"); do
		case " $vmms " in *" $v "*) vsock_run "$v" "$i" ;; esac
	done
	i=$((i + 1))
done
