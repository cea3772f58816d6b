# shellcheck shell=sh
# The kvmini exec scenarios' helpers (exec.sh, exec-host.sh,
# exec-snapshot.sh), sourced after lib.sh: . "${LIB%/*}/lib-exec.sh".

# secs_since T0: seconds since the /proc/uptime value T0.
secs_since()
{
	read -r t1 _ </proc/uptime
	awk "BEGIN { printf \"%.2f\", $t1 - $1 }"
}

# is NAME STREAM TEXT: the job's stdout or stderr (out, err) was exactly
# TEXT (printf format).
is()
{
	# shellcheck disable=SC2059
	if printf "$3" | cmp -s - "$T/$1.$2"; then
		echo "$1: std$2 ok"
		return 0
	fi
	fail "$1" "std$2 is not '$3': $(head -c 300 "$T/$1.$2" | od -c | head -n 8)"
}

# same NAME1 NAME2: the two runs' stdout and stderr were alike.
same()
{
	if cmp -s "$T/$1.out" "$T/$2.out" && cmp -s "$T/$1.err" "$T/$2.err"; then
		echo "$2: stdout and stderr as $1's"
		return 0
	fi
	fail "$2" "output differs from $1's: '$(head -c 200 "$T/$2.out")' '$(head -c 200 "$T/$2.err")'"
}

# exec_on_host NAME: kx ARGS... runs kvmini on the build host's / (in the
# lab chrooted there, HOSTROOT; natively this host's own), KX being that
# kvmini and K its guest kernel. Without that /, virtiofsd or root, the
# scenario NAME is skipped (exit 77).
exec_on_host()
{
	if [ -n "${HOSTROOT:-}" ]; then
		kx()
		{
			chroot "$HOSTROOT" "$@"
		}
		K=$OUTER$KERNEL
		KX=$KVMINI_PATH
	elif [ "${KVMINI_MODE:-}" = native ]; then
		kx()
		{
			"$@"
		}
		K=$KERNEL
		KX=$KVMINI
		HOSTROOT=
	else
		echo "$1: needs the build host's / (HOSTROOT, x86_64 lab)"
		exit 77
	fi
	[ -x "$HOSTROOT/usr/lib/qemu/virtiofsd" ] || { echo "$1: no virtiofsd (qemu-system-common)"; exit 77; }
	[ "$(id -u)" -eq 0 ] || { echo "$1: virtiofsd needs root"; exit 77; }
}

# hrun NAME WANT [exec options] [--] CMD...: kvmini exec on the host's /
# (exec_on_host) with stdout in $T/NAME.out and stderr in $T/NAME.err;
# checks the exit status.
hrun()
{
	name=$1 want=$2
	shift 2
	rc=0
	kx "$KX" exec --kernel "$K" --timeout 200 "$@" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null || rc=$?
	if [ "$rc" -eq "$want" ]; then
		echo "$name: exit status $rc ok"
		return 0
	fi
	fail "$name" "exit status $rc, expected $want: $(head -c 400 "$T/$name.err")"
	return 1
}
