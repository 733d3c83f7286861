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
