#!/bin/sh
# abi-check.sh BASELINE LIBRARY HEADERS_DIR...
# The ABI gate: fails on any change to the library's ABI against the committed
# baseline except symbols added in a version node the baseline does not have
# (see docs/abi.md).  The public types are those of the headers in the
# directories given (liblowrank_mpi's are in mpi/ and include/).
set -u
base=$1 lib=$2
shift 2
headers=
for dir in "$@"; do headers="$headers --headers-dir2 $dir"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Nothing that existed may change or go away.  Added symbols are judged in 2.
# shellcheck disable=SC2086
abidiff --no-added-syms $headers "$base" "$lib" > "$tmp/report"
status=$?
if [ "$status" -ne 0 ]; then
    cat "$tmp/report"
    echo "abi-check: the ABI changed against $base (abidiff status $status)" >&2
    exit 1
fi

# 2. A new symbol must live in a version node that is new too: released nodes
#    never grow.
grep -o "version='[^']*'" "$base" | sort -u | sed "s/version='\(.*\)'/\1/" > "$tmp/nodes"
grep -o "elf-symbol name='[^']*'" "$base" | sed "s/.*name='\(.*\)'/\1/" | sort -u > "$tmp/old"
bad=0
nm -D --defined-only "$lib" | awk '$2 != "A" {print $3}' | while IFS=@ read -r sym _ node; do
    node=${node#@}
    if ! grep -qx "$sym" "$tmp/old" && grep -qx "$node" "$tmp/nodes"; then
        echo "abi-check: $sym was added to the released version node $node;" \
             "add it to a new node in lib/lowrank.map" >&2
        echo bad
    fi
done > "$tmp/bad"
[ -s "$tmp/bad" ] && exit 1
echo "abi-check: compatible with $(basename "$base"): any change is an addition in a new version node"
