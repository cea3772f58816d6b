# Shared by bench/bench.sh and bench/net.sh (sourced; POSIX sh).

rec()
{
	echo "@@BENCH $*"
}

# show ARGS...: print a command line, quoting the arguments with spaces.
show()
{
	out=
	for a in "$@"; do
		case $a in
		*' '*) a="\"$a\"" ;;
		esac
		out="$out${out:+ }$a"
	done
	echo "$out"
}

# pair RUN [A B]: the order of the pair (kvmini and qemu unless named)
# alternates run by run (A B, B A, ...), so that a drift in the machine's
# load affects both alike. With A alone, A.
pair()
{
	pa=${2:-kvmini} pb=${3-qemu}
	if [ $(($1 % 2)) -eq 1 ]; then echo "$pa $pb"; else echo "$pb $pa"; fi
}

# rate_rounds ROUNDS N TIMEOUT CMDFN WHO...: the start-rate rounds. In
# round i, for each WHO in pair order (one or two of them), N VMs back to
# back, then 2 at a time (vmmrun -r N -j J; the next starts as soon as
# one ends): "CMDFN WHO PREFIX..." runs WHO's VM after PREFIX (vmmrun and
# its options; CMDFN adds any of its own, then "--"). Records "@@BENCH rate WHO J i n=N j=J wall=S ok=K";
# a round in which not every VM ended with 0 also gets a note.
rate_rounds()
{
	rr_rounds=$1 rr_n=$2 rr_to=$3 rr_fn=$4
	shift 4
	rr_i=1
	while [ $rr_i -le "$rr_rounds" ]; do
		for rr_v in $(pair $rr_i "$1" "${2:-}"); do
			for rr_j in 1 2; do
				rr_line=$("$rr_fn" "$rr_v" "$BENCH_VMMRUN" -r "$rr_n" -j $rr_j -t "$rr_to")
				rec rate "$rr_v" $rr_j $rr_i "$rr_line"
				case $rr_line in
				*" ok=$rr_n") ;;
				*) rec note "rate $rr_v j=$rr_j run $rr_i: not every VM ended with 0: $rr_line" ;;
				esac
			done
		done
		rr_i=$((rr_i + 1))
	done
}
