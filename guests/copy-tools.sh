#!/bin/sh
# Copy host programs into a root directory together with the shared
# libraries they load (as ldd lists them, the dynamic loader included), each
# at its host path: ROOT then runs them as the host does, with no ld.so
# cache. For the test guest's tools disk (build-initramfs.sh) and the lab's
# outer VM (tests/lab/run.sh), both x86_64 like the host.
# Usage: copy-tools.sh ROOT PROGRAM...   (a name on PATH or sbin, or a path;
# a shared library's path, /….so…, travels the same way, with what it needs)
set -eu

root=$1
shift
libs=$(mktemp "${TMPDIR:-/tmp}/kvmini-libs.XXXXXX")
trap 'rm -f "$libs"' EXIT

for p in "$@"; do
	case $p in
	/*) bin=$p ;;
	*) bin=$(PATH=$PATH:/usr/sbin:/sbin command -v "$p") || bin= ;;
	esac
	case $bin in
	*.so | *.so.*) [ -r "$bin" ] || bin= ;;
	*) [ -z "$bin" ] || [ -x "$bin" ] || bin= ;;
	esac
	if [ -z "$bin" ]; then
		echo "copy-tools: $p not found: run 'make deps'" >&2
		exit 1
	fi
	mkdir -p "$root$(dirname "$bin")"
	# Never through a symlink already there (a busybox applet, say).
	rm -f "$root$bin"
	cp -L "$bin" "$root$bin"
	ldd "$bin" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' >>"$libs"
done
sort -u "$libs" | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	rm -f "$root$lib"
	cp -L "$lib" "$root$lib"
done
