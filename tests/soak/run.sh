#!/bin/sh
# make soak: the Linux soak (tests/soak/linux.sh) in the lab, natively too
# where this host's KVM boots Linux. See docs/soak.md.
# usage: tests/soak/run.sh [--arch ARCH] --kvmini STATIC --guest DIR
#                          [--boots N] [--rounds N]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
arch=x86_64 kvmini= guest= boots=200 rounds=100
while [ $# -gt 0 ]; do
	case $1 in
	--arch) arch=${2:?}; shift 2 ;;
	--kvmini) kvmini=${2:?}; shift 2 ;;
	--guest) guest=${2:?}; shift 2 ;;
	--boots) boots=${2:?}; shift 2 ;;
	--rounds) rounds=${2:?}; shift 2 ;;
	*) sed -n 's/^# \{0,1\}//; 4,5p' "$0" >&2; exit 2 ;;
	esac
done
[ -n "$kvmini" ] && [ -n "$guest" ] || { sed -n 's/^# \{0,1\}//; 4,5p' "$0" >&2; exit 2; }
case $boots$rounds in
*[!0-9]*) echo "soak: --boots and --rounds take whole numbers" >&2; exit 2 ;;
esac

# The counts go into a copy: a scenario travels into the lab alone.
work=$(mktemp -d "${TMPDIR:-/tmp}/kvmini-soak.XXXXXX")
trap 'rm -rf "$work"' EXIT
sed -e "s/^BOOTS=.*/BOOTS=$boots/" -e "s/^ROUNDS=.*/ROUNDS=$rounds/" \
	"$here/linux.sh" >"$work/soak.sh"
# About 7 s a boot in the x86_64 lab, 25 s when the machine is busy, and
# 0.2 s a reset round: the limit is generous.
secs=$((boots * 45 + rounds * 3 + 600))
# Not exec: the copy goes when the lab is done.
"$top/tests/lab/run.sh" --arch "$arch" --kvmini "$kvmini" --guest "$guest" \
	--scenario-timeout "$secs" --timeout "$((secs + 600))" --stream "$work/soak.sh"
