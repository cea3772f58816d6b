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

# The order of the pair alternates run by run (A B, B A, ...), so that a
# drift in the machine's load affects both alike.
pair()
{
	if [ $(($1 % 2)) -eq 1 ]; then echo "kvmini qemu"; else echo "qemu kvmini"; fi
}
