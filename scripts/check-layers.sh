#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The include rule (ARCHITECTURE.md, "Layers"): a file may include
# headers of its own layer and of the layers below it, never above; and
# an arch/ header only from its own architecture's folder.
# Layers, bottom first; folders on one line share a layer. main.c is
# the top: it picks `kvmini run`, `kvmini exec` or `kvmini oci`.
#
# Every #include "..." line in the production tree is one check; headers
# are named from the top of the tree ("lib/log.h"), so the folder says
# the layer. Prints one line per failing include, then "layers: N
# passed, N failed", and fails if any did.
LAYERS='
lib
fdt
legacy
pci
virtio
backend
vmm arch
exec
oci
main.c
'

cd "$(dirname "$0")/.." || exit 1

# The layer of a path: the number of the line naming its first component.
rank() {
	top=${1%%/*}
	echo "$LAYERS" | awk -v t="$top" 'NF { n++; for (i = 1; i <= NF; i++) if ($i == t) { print n; exit } }'
}

pass=0
fail=0
files=$(find lib fdt legacy pci virtio backend vmm arch exec oci -name '*.[chS]' | sort)
for f in main.c $files; do
	from=$(rank "$f")
	if [ -z "$from" ]; then
		echo "layers: $f is in no layer (scripts/check-layers.sh lists them)"
		fail=$((fail + 1))
		continue
	fi
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		to=$(rank "$inc")
		case $inc in
		*/*) ;;
		*) to= ;;	# a bare name says no layer
		esac
		if [ -z "$to" ]; then
			echo "layers: FAIL $f includes \"$inc\": name a header from the top of the tree (lib/log.h)"
			fail=$((fail + 1))
		elif [ "${inc%%/*}" = arch ] && [ "${inc%/*}" != "${f%/*}" ]; then
			echo "layers: FAIL $f includes \"$inc\": only its own architecture's folder includes an arch/ header (vmm/arch.h is the door)"
			fail=$((fail + 1))
		elif [ "$to" -gt "$from" ]; then
			echo "layers: FAIL $f (layer $from) includes \"$inc\" (layer $to): includes point down only"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done
done
echo "layers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
