#!/bin/sh
# test_coreset.sh - `lowrank coreset`: usage and error exits, the int64 and
# float64 1-D outputs, and (with numpy) on a 100000 x 10 matrix with heavy
# rows, -p 1 -m 2000: the weighted cost of 50 random 3-dimensional subspaces
# within 10% of the full cost; --offset shifts the indices.
set -u
. "$SRCDIR/tests/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d="$SRCDIR/tests/data"

expect_status 2 "$LOWRANK" coreset -p 1 "$d/v2_f8_f.npy" "$tmp/i.npy" "$tmp/w.npy"
expect_status 2 "$LOWRANK" coreset -m 3 "$d/v2_f8_f.npy" "$tmp/i.npy" "$tmp/w.npy"
expect_status 2 "$LOWRANK" coreset -p 1 -m 3 --method x "$d/v2_f8_f.npy" "$tmp/i.npy" "$tmp/w.npy"
expect_status 2 "$LOWRANK" coreset -p 1 -m 3 "$d/v2_f8_f.npy" "$tmp/i.npy"
expect_failure_mentioning "at least 1" "$LOWRANK" coreset -p 1 -m 0 "$d/v2_f8_f.npy" "$tmp/i.npy" "$tmp/w.npy"
expect_failure_mentioning "finite p" "$LOWRANK" coreset -p inf -m 3 "$d/v2_f8_f.npy" "$tmp/i.npy" "$tmp/w.npy"
expect_failure_mentioning "LOWRANK_OPT_ROW_OFFSET" "$LOWRANK" coreset -p 1 -m 3 --offset -2 "$d/v2_f8_f.npy" "$tmp/i.npy" "$tmp/w.npy"
expect_output "rows=5" "$LOWRANK" coreset -p 1 -m 5 "$d/v2_f8_f.npy" "$tmp/i.npy" "$tmp/w.npy"

if ! "$PYTHON" -c 'import numpy' 2>/dev/null; then
    echo "numpy missing: numerical checks skipped"
    finish
    exit $?
fi
checks=$((checks + 1))
"$PYTHON" -c "
import numpy as np, sys
i, w = np.load(sys.argv[1]), np.load(sys.argv[2])
sys.exit(not (i.dtype == np.int64 and w.dtype == np.float64 and i.shape == (5,)
              and list(i) == [0, 1, 2, 3, 4] and np.all(w == 1)))" "$tmp/i.npy" "$tmp/w.npy" ||
    fail "coreset of 5 rows with m = 5 is not every row with weight 1 (int64 and float64, 1-D)"
"$PYTHON" -c "
import numpy as np, sys
rng = np.random.default_rng(3)
a = rng.standard_normal((100000, 10)) * np.exp(1.5 * rng.standard_normal((100000, 1)))
np.save(sys.argv[1], a)" "$tmp/a.npy"
for method in lewis cutting-plane; do
    checks=$((checks + 1))
    "$LOWRANK" coreset -p 1 -m 2000 --seed 7 --offset 1000 --method "$method" "$tmp/a.npy" \
        "$tmp/i.npy" "$tmp/w.npy" >/dev/null || fail "coreset --method $method failed"
    "$PYTHON" -c "
import numpy as np, sys
a, idx, w = np.load(sys.argv[1]), np.load(sys.argv[2]) - 1000, np.load(sys.argv[3])
rng = np.random.default_rng(11)
def cost(x, weight):
    return (weight * np.linalg.norm(x - (x @ v) @ v.T, axis=1)).sum()
worst = 0
for _ in range(50):
    v = np.linalg.qr(rng.standard_normal((10, 3)))[0]
    worst = max(worst, abs(cost(a[idx], w) / cost(a, 1) - 1))
print('$method: %d rows, worst relative error over 50 subspaces %.4f' % (len(idx), worst))
sys.exit(not (len(idx) <= 2000 and idx.min() >= 0 and worst < 0.1))" \
        "$tmp/a.npy" "$tmp/i.npy" "$tmp/w.npy" || fail "coreset cost off by more than 10% ($method)"
done
finish
