# lib.sh - assertions for the shell tests; sourced, not run.
failures=0
checks=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect_status CODE CMD...: CMD exits with CODE.
expect_status() {
    want=$1; shift
    checks=$((checks + 1))
    "$@" >/dev/null 2>&1
    got=$?
    [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want"
}

# expect_output TEXT CMD...: CMD succeeds and prints exactly TEXT.
expect_output() {
    want=$1; shift
    checks=$((checks + 1))
    got=$("$@" 2>&1)
    status=$?
    [ "$status" -eq 0 ] || fail "$* exited $status"
    [ "$got" = "$want" ] || fail "$* printed '$got', expected '$want'"
}

# expect_failure_mentioning TEXT CMD...: CMD exits with 1 (an error, not a
# signal or a usage error) and its stderr contains TEXT.
expect_failure_mentioning() {
    want=$1; shift
    checks=$((checks + 1))
    err=$("$@" 2>&1 >/dev/null)
    status=$?
    [ "$status" -eq 1 ] || fail "$* exited $status, expected 1"
    case "$err" in
        *"$want"*) ;;
        *) fail "$* said '$err', which does not mention '$want'" ;;
    esac
}

# check_exports SO SONAME PREFIX HEADER MACRO MAP MANDIR: the shared object's
# promise: its SONAME, no RPATH/RUNPATH, only PREFIX* symbols exported, each
# declared in HEADER on a line starting with MACRO, listed in the version
# script MAP and given a man page MANDIR/SYMBOL.3.scd.
check_exports() {
    so=$1 soname=$2 prefix=$3 header=$4 macro=$5 map=$6 mandir=$7
    d=$(mktemp -d)
    checks=$((checks + 1))
    readelf -d "$so" | grep -q "SONAME.*\[$soname\]" || fail "SONAME is not $soname"
    checks=$((checks + 1))
    if readelf -d "$so" | grep -q -E 'RPATH|RUNPATH'; then fail "$so has an RPATH or RUNPATH"; fi
    nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' | sed 's/@.*//' | sort -u \
        > "$d/exported"
    checks=$((checks + 1))
    stray=$(grep -v "^$prefix" "$d/exported")
    [ -z "$stray" ] || fail "$so exports symbols without the $prefix prefix: $stray"
    # declared: the name before '(' on the lines that start with the macro
    grep "^$macro " "$header" | sed 's/(.*//; s/.*[ *]//' | sort -u > "$d/declared"
    checks=$((checks + 1))
    diff "$d/declared" "$d/exported" > "$d/diff" ||
        fail "$(basename "$header") and the exports differ: $(cat "$d/diff")"
    grep -o "$prefix[a-z0-9_]*;" "$map" | tr -d ';' | sort -u > "$d/mapped"
    checks=$((checks + 1))
    diff "$d/mapped" "$d/exported" > "$d/diff" ||
        fail "$(basename "$map") and the exports differ: $(cat "$d/diff")"
    for sym in $(cat "$d/exported"); do
        checks=$((checks + 1))
        [ -f "$mandir/$sym.3.scd" ] || fail "no man page $mandir/$sym.3.scd"
    done
    rm -rf "$d"
}

# mpi_run ARGS...: $MPIRUN ARGS, bounded (a hang is a failure too).  Open MPI
# refuses root without the two variables (CI runs as root) and more ranks
# than cores without --oversubscribe (CI has two cores).
mpi_run() {
    if "$MPIRUN" --version 2>/dev/null | grep -q 'Open MPI'; then
        OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
            timeout 300 "$MPIRUN" --oversubscribe "$@"
    else
        timeout 300 "$MPIRUN" "$@"
    fi
}

finish() {
    echo "$checks checks, $failures failed"
    [ "$failures" -eq 0 ]
}
