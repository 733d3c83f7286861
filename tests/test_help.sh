#!/bin/sh
# help.sh - every subcommand explains itself: `lowrank CMD --help` exits 0 on
# stdout and names every flag its parser accepts (read from the flag tables
# in tools/CMD.c), and `lowrank --help` names every subcommand.  An unknown
# option is a usage error (status 2) that shows the usage on stderr.
set -u
. "$SRCDIR/tests/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$LOWRANK" --help > "$tmp/top" 2>&1
for cmd in info svd lp mvee ellipsoid coreset background; do
    checks=$((checks + 1))
    grep -q "^  $cmd  " "$tmp/top" || fail "lowrank --help does not list $cmd"

    expect_status 0 "$LOWRANK" "$cmd" --help
    "$LOWRANK" "$cmd" --help > "$tmp/help" 2> "$tmp/err"
    checks=$((checks + 1))
    [ -s "$tmp/err" ] && fail "lowrank $cmd --help wrote to stderr: $(cat "$tmp/err")"
    grep -q "^usage: lowrank $cmd" "$tmp/help" || fail "lowrank $cmd --help shows no usage line"

    # The flags of the parser: the first string of each tool_flag entry,
    # written {"--name", FLAG_... or MACRO("--name", ...
    flags=$(grep -o '[{(]"-[-a-z0-9]*",' "$SRCDIR/tools/$cmd.c" | sed 's/^[{(]"//; s/",$//' | sort -u)
    for flag in $flags; do
        checks=$((checks + 1))
        grep -q -- "^  $flag\( \|$\)" "$tmp/help" || fail "lowrank $cmd --help does not name $flag"
        # and the parser knows it (whatever else it then finds wrong)
        checks=$((checks + 1))
        "$LOWRANK" "$cmd" "$flag" 1 2 3 > /dev/null 2> "$tmp/err"
        grep -q "unknown option" "$tmp/err" && fail "lowrank $cmd does not accept $flag"
    done

    expect_status 2 "$LOWRANK" "$cmd" --no-such-option
    "$LOWRANK" "$cmd" --no-such-option > "$tmp/out" 2> "$tmp/err"
    checks=$((checks + 1))
    grep -q "usage: lowrank $cmd" "$tmp/err" || fail "lowrank $cmd shows no usage on an unknown option"
    [ -s "$tmp/out" ] && fail "lowrank $cmd wrote to stdout on an unknown option"
done
finish
