#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The manual pages list the same long options as --help: for `kvmini run`
# and `kvmini exec`, the options on --help's option lines ("  --NAME ...")
# (and `kvmini oci`'s flags) against those that open an entry (the line after .TP) in the page's
# OPTIONS section. Says which option is missing from which side.
# Usage: scripts/check-man.sh KVMINI [MANDIR]
set -eu
kvmini=${1:?usage: check-man.sh KVMINI [MANDIR]}
mandir=${2:-docs/man}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --help: the options that begin a line of the option list; for oci,
# whose commands name their flags on the command's line, every flag.
help_opts() {
	if [ "$1" = oci ]; then
		"$kvmini" "$1" --help | grep -o -- '--[a-z0-9][a-z0-9-]*' | grep -vx -- '--help' | sort -u
	else
		"$kvmini" "$1" --help | sed -n 's/^  \(--[a-z0-9][a-z0-9-]*\).*/\1/p' | sort -u
	fi
}

# The page: the first option of each entry's tag line under .SH OPTIONS
# (roff writes a dash as \-).
man_opts() {
	awk '/^\.SH / { in_opts = ($2 == "OPTIONS") }
	     in_opts && tag { print; tag = 0; next }
	     in_opts && /^\.TP/ { tag = 1 }' "$1" |
		sed 's/\\-/-/g' | grep -o -- '--[a-z0-9][a-z0-9-]*' |
		sort -u
}

rc=0
for cmd in run exec oci; do
	page=$mandir/kvmini-$cmd.1
	help_opts "$cmd" >"$tmp/help"
	man_opts "$page" >"$tmp/man"
	if [ ! -s "$tmp/help" ] || [ ! -s "$tmp/man" ]; then
		echo "check-man: kvmini $cmd: no options found in --help or in $page"
		rc=1
		continue
	fi
	only_help=$(comm -23 "$tmp/help" "$tmp/man" | tr '\n' ' ' | sed 's/ $//')
	only_man=$(comm -13 "$tmp/help" "$tmp/man" | tr '\n' ' ' | sed 's/ $//')
	if [ -n "$only_help" ]; then
		echo "check-man: kvmini $cmd: in --help, not in $page: $only_help"
		rc=1
	fi
	if [ -n "$only_man" ]; then
		echo "check-man: kvmini $cmd: in $page, not in --help: $only_man"
		rc=1
	fi
	[ -n "$only_help$only_man" ] ||
		echo "check-man: kvmini $cmd: $(wc -l <"$tmp/help") options, the same in --help and $page"
done
exit $rc
