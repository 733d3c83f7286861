#!/bin/sh
# test_mvee.sh - `lowrank mvee`: usage and error exits, the degenerate case,
# and on random points (with numpy) every point inside and the log-volume
# within the requested eps of an independent long numpy solve.
set -u
. "$SRCDIR/tests/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d="$SRCDIR/tests/data"

expect_status 2 "$LOWRANK" mvee
expect_status 2 "$LOWRANK" mvee "$d/v1_f8_c.npy" "$tmp/c.npy"
expect_status 2 "$LOWRANK" mvee --center middle "$d/v1_f8_c.npy" "$tmp/c.npy" "$tmp/q.npy"
expect_status 2 "$LOWRANK" mvee --eps lots "$d/v1_f8_c.npy" "$tmp/c.npy" "$tmp/q.npy"
expect_status 2 "$LOWRANK" mvee --frobnicate 1 "$d/v1_f8_c.npy" "$tmp/c.npy" "$tmp/q.npy"
expect_failure_mentioning "No such file" "$LOWRANK" mvee "$tmp/none.npy" "$tmp/c.npy" "$tmp/q.npy"
expect_failure_mentioning "LOWRANK_OPT_EPS" "$LOWRANK" mvee --eps -1 "$d/v1_f8_c.npy" "$tmp/c.npy" "$tmp/q.npy"
# 3 points in R^4 lie on a flat
expect_failure_mentioning "at least 5" "$LOWRANK" mvee "$d/v1_f8_c.npy" "$tmp/c.npy" "$tmp/q.npy"
# 5 points on a line of R^2
expect_failure_mentioning "affine flat" "$LOWRANK" mvee "$d/v2_f8_f.npy" "$tmp/c.npy" "$tmp/q.npy"
# the same 5 values as points of R^1: the interval [-400.25, 400.25] about 0
expect_status 0 "$LOWRANK" mvee --center origin "$d/v1_f8_1d.npy" "$tmp/c.npy" "$tmp/q.npy"
expect_output "shape=(1, 1) dtype=float64 order=C" "$LOWRANK" info "$tmp/q.npy"

if ! "$PYTHON" -c 'import numpy' 2>/dev/null; then
    echo "numpy missing: numerical checks skipped"
    finish
    exit $?
fi
"$PYTHON" "$SRCDIR/tests/mvee_check.py" make "$tmp/p.npy"
expect_status 0 "$LOWRANK" mvee "$tmp/p.npy" "$tmp/c.npy" "$tmp/q.npy"
expect_output "shape=(4, 1) dtype=float64 order=C" "$LOWRANK" info "$tmp/c.npy"
expect_output "shape=(4, 4) dtype=float64 order=C" "$LOWRANK" info "$tmp/q.npy"
for eps in 1e-2 1e-4 1e-7; do
    checks=$((checks + 1))
    out=$("$LOWRANK" mvee --eps "$eps" "$tmp/p.npy" "$tmp/c.npy" "$tmp/q.npy") ||
        fail "mvee --eps $eps failed"
    got=$(echo "$out" | sed -n 's/^eps=\([^ ]*\) log_volume=\([^ ]*\) core=.*/\1 \2/p')
    set -- $got
    awk -v e="$1" -v want="$eps" 'BEGIN { exit !(e >= 0 && e <= want) }' ||
        fail "certified eps $1 above $eps"
    checks=$((checks + 1))
    "$PYTHON" "$SRCDIR/tests/mvee_check.py" verify "$tmp/p.npy" "$tmp/c.npy" "$tmp/q.npy" \
        "$eps" "$2" || fail "eps $eps: the ellipsoid misses a point or the optimum"
done
checks=$((checks + 1))
"$LOWRANK" mvee --center origin "$tmp/p.npy" "$tmp/c.npy" "$tmp/q.npy" >/dev/null &&
    "$PYTHON" -c "
import numpy as np, sys
p, c, q = (np.load(f) for f in sys.argv[1:])
lev = np.einsum('ij,jk,ik->i', p, q, p)
sys.exit(not (np.all(c == 0) and lev.max() <= 1 + 1e-9 and lev.max() > 1 - 1e-9))" \
        "$tmp/p.npy" "$tmp/c.npy" "$tmp/q.npy" || fail "--center origin"
finish
