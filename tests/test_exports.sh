#!/bin/sh
# exports.sh - the shared object's promise: SONAME liblowrank.so.0, no
# RPATH/RUNPATH, only lowrank_* symbols exported, each declared in lowrank.h
# with LOWRANK_API, listed in the version script and given a man page.
set -u
. "$SRCDIR/tests/lib.sh"
check_exports "$BUILDDIR/lib/liblowrank.so.0" liblowrank.so.0 lowrank_ "$SRCDIR/include/lowrank.h" \
    LOWRANK_API "$SRCDIR/lib/lowrank.map" "$SRCDIR/man"
finish
