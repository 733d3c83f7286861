#!/bin/sh
# exports.sh - the shared object's promise: SONAME liblowrank.so.0, no
# RPATH/RUNPATH, only lowrank_* symbols exported, each declared in lowrank.h
# with LOWRANK_API, listed in the version script and given a man page.
set -u
. "$SRCDIR/tests/lib.sh"
so="$BUILDDIR/lib/liblowrank.so.0"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

checks=$((checks + 1))
readelf -d "$so" | grep -q 'SONAME.*\[liblowrank\.so\.0\]' || fail "SONAME is not liblowrank.so.0"
checks=$((checks + 1))
if readelf -d "$so" | grep -q -E 'RPATH|RUNPATH'; then fail "$so has an RPATH or RUNPATH"; fi

nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' | sed 's/@.*//' | sort -u > "$tmp/exported"
checks=$((checks + 1))
stray=$(grep -v '^lowrank_' "$tmp/exported")
[ -z "$stray" ] || fail "exported symbols without the lowrank_ prefix: $stray"

# Declared: the name before '(' on the lines that start with LOWRANK_API.
grep '^LOWRANK_API ' "$SRCDIR/include/lowrank.h" | sed 's/(.*//; s/.*[ *]//' | sort -u \
    > "$tmp/declared"
checks=$((checks + 1))
diff "$tmp/declared" "$tmp/exported" > "$tmp/diff" ||
    fail "lowrank.h and the exports differ: $(cat "$tmp/diff")"

grep -o 'lowrank_[a-z0-9_]*;' "$SRCDIR/lib/lowrank.map" | tr -d ';' | sort -u > "$tmp/mapped"
checks=$((checks + 1))
diff "$tmp/mapped" "$tmp/exported" > "$tmp/diff" ||
    fail "lib/lowrank.map and the exports differ: $(cat "$tmp/diff")"

for sym in $(cat "$tmp/exported"); do
    checks=$((checks + 1))
    [ -f "$SRCDIR/man/$sym.3.scd" ] || fail "no man page man/$sym.3.scd"
done
finish
