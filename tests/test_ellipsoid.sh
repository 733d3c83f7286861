#!/bin/sh
# test_ellipsoid.sh - `lowrank ellipsoid`: usage and error exits, and (with
# numpy) ||Gx|| <= ||Ax||_p <= alpha ||Gx|| on 2000 random directions for
# both methods, alpha within its bound, and p = 2 giving G^T G = A^T A.
set -u
. "$SRCDIR/tests/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d="$SRCDIR/tests/data"

expect_status 2 "$LOWRANK" ellipsoid "$d/v2_f8_f.npy" "$tmp/g.npy"
expect_status 2 "$LOWRANK" ellipsoid -p 1 "$d/v2_f8_f.npy"
expect_status 2 "$LOWRANK" ellipsoid -p one "$d/v2_f8_f.npy" "$tmp/g.npy"
expect_status 2 "$LOWRANK" ellipsoid -p 1 --method svd "$d/v2_f8_f.npy" "$tmp/g.npy"
expect_failure_mentioning "at least 1" "$LOWRANK" ellipsoid -p 0.5 "$d/v2_f8_f.npy" "$tmp/g.npy"
expect_failure_mentioning "at least 1" "$LOWRANK" ellipsoid -p nan "$d/v2_f8_f.npy" "$tmp/g.npy"
expect_failure_mentioning "unbounded" "$LOWRANK" ellipsoid -p 1 "$d/v1_f8_c.npy" "$tmp/g.npy"
expect_output "alpha=1" "$LOWRANK" ellipsoid -p 2 "$d/v2_f8_f.npy" "$tmp/g.npy"
expect_output "shape=(2, 2) dtype=float64 order=F" "$LOWRANK" info "$tmp/g.npy"

if ! "$PYTHON" -c 'import numpy' 2>/dev/null; then
    echo "numpy missing: numerical checks skipped"
    finish
    exit $?
fi
"$PYTHON" -c "
import numpy as np, sys
rng = np.random.default_rng(5)
a = rng.standard_normal((3000, 8)) * np.exp(rng.standard_normal((3000, 1)))
np.save(sys.argv[1], a)
np.save(sys.argv[2], np.asfortranarray(a.astype(np.float32)))" "$tmp/a.npy" "$tmp/a32.npy"
for f in a a32; do
    for method in lewis cutting-plane; do
        : > "$tmp/alphas"
        for p in 1 1.5 2 3 inf; do
            checks=$((checks + 1))
            out=$("$LOWRANK" ellipsoid -p "$p" --method "$method" "$tmp/$f.npy" "$tmp/g$p.npy") ||
                fail "ellipsoid -p $p --method $method $f failed"
            echo "$p ${out#alpha=}" >> "$tmp/alphas"
        done
        checks=$((checks + 1))
        "$PYTHON" -c "
import numpy as np, sys
tmp, f, lewis = sys.argv[1], sys.argv[2], sys.argv[3] == 'lewis'
a = np.load(tmp + '/' + f + '.npy').astype(float)
tol = 1e-5 if f == 'a32' else 1e-9
d = a.shape[1]
x = np.random.default_rng(1).standard_normal((d, 2000))
bad = 0
for line in open(tmp + '/alphas'):
    name, alpha = line.split()
    p, alpha = float(name), float(alpha)
    g = np.load(tmp + '/g' + name + '.npy').astype(float)
    ax = np.abs(a @ x).max(0) if np.isinf(p) else (np.abs(a @ x) ** p).sum(0) ** (1 / p)
    r = ax / np.linalg.norm(g @ x, axis=0)
    ideal = d ** abs((0 if np.isinf(p) else 1 / p) - 0.5)
    bound = ideal * (1 + 1e-3) if lewis else np.sqrt(d * (d + 1))
    ok = r.min() >= 1 - tol and r.max() <= alpha * (1 + tol) and alpha <= bound * (1 + 1e-6)
    if p == 2 and lewis:
        gram = a.T @ a
        ok = ok and np.abs(g.T @ g - gram).max() <= 10 * tol * np.abs(gram).max()
    if not ok:
        print(f, sys.argv[3], 'p', p, 'alpha', alpha, 'ratios', r.min(), r.max(), 'bound', bound)
        bad += 1
sys.exit(bad)" "$tmp" "$f" "$method" || fail "$f, $method: the rounding inequality fails"
    done
done
finish
