#!/bin/sh
# test_man.sh - every built man page renders without a groff or man warning.
set -u
. "$SRCDIR/tests/lib.sh"
if ! command -v man >/dev/null 2>&1; then
    echo "man is not installed (apt-get install man-db)" >&2
    exit 1
fi
for page in "$BUILDDIR"/man/*.[137]; do
    checks=$((checks + 1))
    warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "$(basename "$page"): $warnings"
done
[ "$checks" -gt 0 ] || fail "no man pages in $BUILDDIR/man"
finish
