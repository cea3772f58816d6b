# Shared by the scenarios (sourced as ". "$LIB""): run the guest, check how
# it ended and what it printed, count failures. POSIX sh.

fails=0

# guest NAME WANT_STATUS [kvmini run options...]
# Boots the test guest with its console in $T/NAME.log and checks kvmini's
# exit status. Defaults (kernel, initrd, console, a timeout) come first so
# the options given can override them.
guest()
{
	name=$1 want=$2
	shift 2
	rc=0
	"$KVMINI" run --kernel "$KERNEL" --initrd "$INITRD" --timeout 120 \
		--console "file:$T/$name.log" "$@" 2>"$T/$name.err" || rc=$?
	if [ "$rc" -eq "$want" ]; then
		echo "$name: exit status $rc ok"
		return 0
	fi
	fail "$name" "exit status $rc, expected $want"
	return 1
}

# stock NAME WANT DIR [kvmini run options...]: guest, on the Debian kernel
# and initramfs in $GUEST/DIR (guests/build-debian.sh; the lab copies the
# guest subdirectories a scenario names). Says how long the run took.
stock()
{
	name=$1 want=$2 dir=$GUEST/$3
	shift 3
	if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/initramfs.cpio.gz" ]; then
		fail "$name" "no $dir/vmlinuz or initramfs.cpio.gz (guests/build-debian.sh)"
		return 1
	fi
	read -r t0 _ </proc/uptime
	ok=0
	guest "$name" "$want" --kernel "$dir/vmlinuz" --initrd "$dir/initramfs.cpio.gz" \
		"$@" || ok=1
	read -r t1 _ </proc/uptime
	echo "$name: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
	return $ok
}

# console NAME REGEX: the guest's console output matched REGEX.
console()
{
	if grep -Eq -- "$2" "$T/$1.log" 2>/dev/null; then
		echo "$1: console has '$2'"
		return 0
	fi
	fail "$1" "console lacks '$2'"
}

# stderr NAME REGEX: kvmini's stderr matched REGEX.
stderr()
{
	if grep -Eq -- "$2" "$T/$1.err" 2>/dev/null; then
		echo "$1: stderr has '$2'"
		return 0
	fi
	fail "$1" "stderr lacks '$2'"
}

fail()
{
	echo "$1: FAILED: $2"
	for f in "$T/$1.err" "$T/$1.log"; do
		[ -s "$f" ] || continue
		echo "--- end of $f"
		tail -n 30 "$f"
	done
	fails=$((fails + 1))
}

# The scenario's exit status.
# hostrun CMD [ARGS...]: CMD from the build host's own / (HOSTROOT
# scenarios: tests/lab/run.sh), with a plain environment plus T; paths
# into this outer VM's root start with $OUTER there.
hostrun()
{
	[ -n "${HOSTROOT:-}" ] || { echo "hostrun: not a HOSTROOT scenario" >&2; return 2; }
	chroot "$HOSTROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root T="$T" "$@"
}

finish()
{
	[ "$fails" -eq 0 ]
}
