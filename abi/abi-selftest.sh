#!/bin/sh
# abi-selftest.sh SRCDIR SONAME - shows that the ABI gate bites: builds the library
# from a copy of the sources changed in three ways and runs abi-check.sh on
# each against the committed baseline.
#   1. a public function's parameter type changed     -> must fail
#   2. a new function added to the released node      -> must fail
#   3. the same function added in a new node          -> must pass
# Run by `make abi-check` after the gate itself.
set -u
src=$1 soname=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# A copy of what building the shared library needs, configured once.
mkdir "$tmp/src"
(cd "$src" && cp -pR Makefile configure configure.ac config.mk.in lowrank.pc.in include lib \
    "$tmp/src/")
rm -f "$tmp/src"/lib/*.o "$tmp/src"/lib/*.d "$tmp/src"/lib/liblowrank.*
(cd "$tmp/src" && ./configure > configure.log 2>&1) || { cat "$tmp/src/configure.log"; exit 1; }

# variant NAME EXPECTED_STATUS: build the changed copy, run the gate.
variant() {
    if ! (cd "$tmp/src" && make -s CFLAGS=-O0 "lib/$soname" > build.log 2>&1); then
        cat "$tmp/src/build.log"
        echo "abi-selftest: $1: the changed library does not build" >&2
        failures=$((failures + 1))
        return
    fi
    sh "$src/abi/abi-check.sh" "$src/abi/liblowrank.abi" "$tmp/src/lib/$soname" \
        "$tmp/src/include" > "$tmp/out" 2>&1
    got=$?
    if [ $((got != 0)) -ne "$2" ]; then
        cat "$tmp/out"
        echo "abi-selftest: $1: abi-check exited $got" >&2
        failures=$((failures + 1))
    else
        echo "abi-selftest: $1: abi-check $([ "$2" = 1 ] && echo fails || echo passes), as it must"
    fi
}

# 1. lowrank_matrix_get(..., double *value) becomes float *value.
cp "$tmp/src/include/lowrank.h" "$tmp/lowrank.h"
cp "$tmp/src/lib/matrix.c" "$tmp/matrix.c"
sed -i '/lowrank_matrix_get(/,/;/s/double \*value/float *value/' "$tmp/src/include/lowrank.h"
sed -i '/^int lowrank_matrix_get(/s/double \*value/float *value/' "$tmp/src/lib/matrix.c"
variant "a parameter type changed" 1
cp "$tmp/lowrank.h" "$tmp/src/include/lowrank.h"
cp "$tmp/matrix.c" "$tmp/src/lib/matrix.c"

# 2 and 3. A new function, first in the released node, then in a new one.
cat >> "$tmp/src/include/lowrank.h" <<'H'
LOWRANK_API int lowrank_abi_selftest(void);
H
echo 'int lowrank_abi_selftest(void) { return 0; }' >> "$tmp/src/lib/core.c"
cp "$tmp/src/lib/lowrank.map" "$tmp/lowrank.map"
sed -i 's/^\(\s*\)lowrank_version_number;/\1lowrank_version_number;\n\1lowrank_abi_selftest;/' \
    "$tmp/src/lib/lowrank.map"
variant "a function added to the released node" 1
cp "$tmp/lowrank.map" "$tmp/src/lib/lowrank.map"
printf 'LOWRANK_0.999 {\n  global:\n    lowrank_abi_selftest;\n} LOWRANK_0.1;\n' \
    >> "$tmp/src/lib/lowrank.map"
variant "a function added in a new node" 0

[ "$failures" -eq 0 ]
