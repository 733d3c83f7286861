#!/bin/sh
# test_progress.sh - the tool while the library works: on a terminal a
# progress bar appears on stderr once the work has lasted a second (not with
# --quiet, nor when stderr is not a terminal), and Ctrl-C stops the
# computation: "lowrank: interrupted", exit status 130, no output written.
# The terminal is script(1)'s pseudo-terminal.
set -u
. "$SRCDIR/tests/lib.sh"
if ! "$PYTHON" -c 'import numpy' 2>/dev/null || ! command -v script >/dev/null; then
    echo "skipped: needs numpy and script(1)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# an lp fit refined to the end: 10 s on the development machine (2 cores),
# so well over the one second the bar waits for on any machine likely to run this
"$PYTHON" -c "import numpy as np; np.save('$tmp/a.npy', np.random.default_rng(3).standard_normal((2000, 2000)))"
job="lp -k 5 -p 1 --refine 1000 --refine-tol 0 $tmp/a.npy $tmp/out.npy"

# run_then_interrupt WHEN [FLAGS]: the job on a terminal, Ctrl-C once WHEN is
# true (polled for up to 60 s); its terminal output goes to $tmp/tty, its
# exit status to $tmp/status
run_then_interrupt() {
    when=$1; shift
    rm -f "$tmp/pid" "$tmp/out.npy" "$tmp/tty"
    # a background job of a script ignores SIGINT, and the tool leaves an
    # ignored SIGINT ignored: give the job the default disposition back
    script -qfec "echo \$\$ > $tmp/pid; exec env --default-signal=INT $LOWRANK $job $*" \
        "$tmp/tty" >/dev/null 2>&1 &
    spid=$!
    i=0
    while [ $i -lt 600 ] && kill -0 "$spid" 2>/dev/null && ! eval "$when"; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -s "$tmp/pid" ] && kill -INT "$(cat "$tmp/pid")"
    wait "$spid"
    echo $? > "$tmp/status"
}

bar_shown="grep -q '%' '$tmp/tty' 2>/dev/null"
run_then_interrupt "$bar_shown"
checks=$((checks + 1))
grep -q 'lowrank lp: \[#*\.*\] *[0-9]*%' "$tmp/tty" || fail "no progress bar on the terminal: $(cat "$tmp/tty")"
checks=$((checks + 1))
grep -q 'lowrank: interrupted' "$tmp/tty" || fail "Ctrl-C did not say 'interrupted': $(cat "$tmp/tty")"
checks=$((checks + 1))
[ "$(cat "$tmp/status")" = 130 ] || fail "Ctrl-C gave exit status $(cat "$tmp/status"), expected 130"
checks=$((checks + 1))
[ -e "$tmp/out.npy" ] && fail "an interrupted run wrote its output"

run_then_interrupt 'sleep 1' --quiet
checks=$((checks + 1))
grep -q '\[#*\.*\]' "$tmp/tty" && fail "--quiet showed a progress bar"
checks=$((checks + 1))
[ "$(cat "$tmp/status")" = 130 ] || fail "Ctrl-C under --quiet gave exit status $(cat "$tmp/status")"

# not a terminal: no bar, whatever the time
"$LOWRANK" lp -k 2 -p 1 --refine 0 "$tmp/a.npy" "$tmp/out.npy" > /dev/null 2> "$tmp/err"
checks=$((checks + 1))
[ -s "$tmp/err" ] && fail "stderr, not a terminal, got: $(cat "$tmp/err")"
finish
