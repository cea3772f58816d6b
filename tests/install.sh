#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make install and make uninstall as a packager runs them: into a
# temporary DESTDIR with PREFIX=/usr. Checks that exactly the expected
# files land there (nothing outside DESTDIR/PREFIX), that the installed
# kvmini runs from there alone, that man finds and renders each page
# without a warning, that the bash completion loads and completes, that
# the binary holds no build path outside its debug sections, and that
# make uninstall takes every file away again.
# A stand-in guest kernel (INSTALL_KERNEL) keeps this free of a kernel
# build: what is checked is where it goes, not what it is.
# Usage: tests/install.sh [MAKE VARIABLES...] (e.g. SANITIZE=1), run from
# the top of the tree.
set -u

T=$(mktemp -d /tmp/kvmini-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
root=$T/root
pass=0
fail=0
ok() { echo "PASS install/$1"; pass=$((pass + 1)); }
bad() { echo "FAIL install/$1: $2"; fail=$((fail + 1)); }

# Its own make, not a job of the one that runs this test: no jobserver.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory \
		DESTDIR="$root" PREFIX=/usr INSTALL_KERNEL="$T/bzImage" "$@" \
		>"$T/make.out" 2>&1
}

echo 'not a kernel: tests/install.sh' >"$T/bzImage"
if mk install "$@"; then
	ok make-install
else
	bad make-install "$(tail -5 "$T/make.out")"
	echo "install: $pass passed, $fail failed"
	exit 1
fi

# Exactly these, and nothing else anywhere under DESTDIR.
cat >"$T/want" <<'LIST'
usr/bin/kvmini
usr/bin/kvmini-oci
usr/share/bash-completion/completions/kvmini
usr/share/kvmini/x86_64/bzImage
usr/share/man/man1/kvmini-exec.1
usr/share/man/man1/kvmini-oci.1
usr/share/man/man1/kvmini-run.1
usr/share/man/man1/kvmini.1
LIST
(cd "$root" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort) >"$T/have"
if diff -u "$T/want" "$T/have" >"$T/diff"; then
	ok file-list
else
	bad file-list "$(grep '^[-+][^-+]' "$T/diff" | tr '\n' ' ')"
fi
modes=$(cd "$root/usr" && stat -c '%a %n' bin/kvmini share/kvmini/x86_64/bzImage \
	share/man/man1/kvmini.1 | tr '\n' ' ')
[ "$modes" = "755 bin/kvmini 644 share/kvmini/x86_64/bzImage 644 share/man/man1/kvmini.1 " ] &&
	ok modes || bad modes "$modes"

# From the installed tree only: another directory, a PATH of just it.
out=$(cd / && env -i PATH="$root/usr/bin" kvmini --version 2>&1)
[[ $out == "kvmini "* ]] && ok version || bad version "kvmini --version said '$out'"
# kvmini-oci is kvmini by another name (a relative link: DESTDIR-proof).
link=$(readlink "$root/usr/bin/kvmini-oci")
out=$(cd / && env -i PATH="$root/usr/bin" kvmini-oci --help 2>&1 | head -n 1)
[ "$link" = kvmini ] && [[ $out == "usage: kvmini oci"* ]] && ok oci-link ||
	bad oci-link "kvmini-oci -> '$link', --help said '$out'"

# man finds each page by name in the installed tree, and renders it
# with every groff warning on, silently.
for page in kvmini kvmini-run kvmini-exec kvmini-oci; do
	if ! command -v man >/dev/null; then
		bad "man-$page" "no man on PATH: run 'make deps' (man-db)"
		continue
	fi
	path=$(man -M "$root/usr/share/man" -w "$page" 2>&1)
	if [ "$path" != "$root/usr/share/man/man1/$page.1" ]; then
		bad "man-$page" "man -w found '$path'"
		continue
	fi
	warn=$(MANWIDTH=80 man --warnings=w -l "$path" 2>&1 >/dev/null)
	if [ -n "$warn" ]; then
		bad "man-$page" "$warn"
	elif ! MANWIDTH=80 man -l "$path" 2>/dev/null | grep -q '^EXIT STATUS'; then
		bad "man-$page" "rendered without an EXIT STATUS section"
	else
		ok "man-$page"
	fi
done

# The completion: plain bash, without the bash-completion package.
got=$(bash -c '. "$1"; COMP_WORDS=("$2" run --no-); COMP_CWORD=2; _kvmini
	echo "${COMPREPLY[*]}"' - "$root/usr/share/bash-completion/completions/kvmini" \
	"$root/usr/bin/kvmini" 2>&1)
[ "$got" = "--no-rng --no-acpi --no-seccomp" ] && ok completion ||
	bad completion "kvmini run --no-<TAB> gave '$got'"

# No build path: the tree's own directory appears nowhere but in the
# debug information (which a package strips).
if ! objcopy --strip-debug "$root/usr/bin/kvmini" "$T/stripped"; then
	bad no-build-path "objcopy could not read the installed kvmini"
elif grep -q -F -e "$PWD" "$T/stripped"; then
	bad no-build-path "$(strings "$T/stripped" | grep -F -e "$PWD" | head -3 | tr '\n' ' ')"
else
	ok no-build-path
fi

if mk uninstall "$@"; then
	left=$(cd "$root" && find . ! -type d -o -name '*kvmini*' | tr '\n' ' ')
	[ -z "$left" ] && ok make-uninstall || bad make-uninstall "left behind: $left"
else
	bad make-uninstall "$(tail -5 "$T/make.out")"
fi

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
