#!/bin/bash
# Builds every fuzz target (tests/fuzz/fuzz_*.c) with clang's libFuzzer,
# ASan and UBSan, replays the regression inputs, then fuzzes each target
# for a bounded time from its committed seed corpus.
#
# usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 30); TARGETs default to all. FUZZ_JOBS
# targets run at once (default: the CPUs, at most 4). One line per target,
# then "fuzz: N passed, N failed"; non-zero on any crash, leak, hang or
# broken invariant. Details in tests/fuzz/README.md.
set -u

cd "$(dirname "$0")/../.."
secs=${1:-30}
[ $# -gt 0 ] && shift
case $secs in
'' | *[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

F=build/fuzz
if ! command -v clang >/dev/null; then
	echo "fuzz: clang is missing: run make deps (it installs clang and libclang-rt-14-dev)" >&2
	exit 1
fi

if [ $# -gt 0 ]; then
	targets=("$@")
else
	read -r -a targets < <(make -s -f tests/fuzz/fuzz.mk targets)
fi

jobs=${FUZZ_JOBS:-$(nproc)}
[ "$jobs" -gt 4 ] && jobs=4
[ "$jobs" -lt 1 ] && jobs=1

echo "fuzz: building ${#targets[@]} targets"
if ! make -s -f tests/fuzz/fuzz.mk -j"$jobs" "${targets[@]/#/$F/fuzz_}" >"$F.build.log" 2>&1; then
	tail -30 "$F.build.log"
	echo "fuzz: the build failed (log: $F.build.log)"
	exit 1
fi

# One target: regressions, then fuzzing. Writes its result line to
# $F/logs/TARGET.result and its whole output to $F/logs/TARGET.log.
fuzz_one() {
	local t=$1 bin=$F/fuzz_$1 log=$F/logs/$1.log res=$F/logs/$1.result
	local reg=tests/fuzz/regressions/$1 seeds=tests/fuzz/corpus/$1
	local args=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
	local runs cov ft corp

	case $t in
	bzimage | elf) args+=(-max_len=16384) ;;
	esac
	[ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
	mkdir -p "$F/corpus/$t" "$F/artifacts/$t"
	: >"$log"

	if compgen -G "$reg/*" >/dev/null &&
		! "$bin" "${args[@]}" "$reg"/* >>"$log" 2>&1; then
		echo "FAIL fuzz/$t: a regression input crashes again (log: $log)" >"$res"
		return
	fi
	if ! "$bin" "${args[@]}" -max_total_time="$secs" \
		-artifact_prefix="$F/artifacts/$t/" \
		"$F/corpus/$t" "$seeds" >>"$log" 2>&1; then
		local art
		art=$(grep -o "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')
		echo "FAIL fuzz/$t: ${art:+input $art; reproduce: $bin $art; }log: $log" >"$res"
		return
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	read -r cov ft corp < <(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1 |
		sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/\1 \2 \3/')
	echo "PASS fuzz/$t: $runs runs, cov $cov, ft $ft, corpus $corp" >"$res"
}

mkdir -p "$F/logs"
for t in "${targets[@]}"; do
	rm -f "$F/logs/$t.result" "$F/logs/$t.log"
done
for t in "${targets[@]}"; do
	if [ ! -x "$F/fuzz_$t" ]; then
		echo "FAIL fuzz/$t: no such target" >"$F/logs/$t.result"
		continue
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	fuzz_one "$t" &
done
wait

pass=0
fail=0
for t in "${targets[@]}"; do
	line=$(cat "$F/logs/$t.result" 2>/dev/null || echo "FAIL fuzz/$t: no result")
	echo "$line"
	case $line in
	PASS*) pass=$((pass + 1)) ;;
	*)
		fail=$((fail + 1))
		[ -s "$F/logs/$t.log" ] && grep -E "ERROR|SUMMARY|invariant|#[0-9]+ *in " "$F/logs/$t.log" | head -15 | sed 's/^/    /'
		;;
	esac
done
echo "fuzz: $pass passed, $fail failed"
[ $fail = 0 ]
