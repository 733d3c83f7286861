#!/bin/sh
# svd.sh - `lowrank svd`: what it writes (shape, dtype and order of the input;
# factors whose product is the approximation), its options and error exits,
# and determinism: the same bytes on every run, and the same values to
# working precision for 1 and 2 BLAS threads.
# Run by `make check` with LOWRANK, SRCDIR, LD_LIBRARY_PATH and PYTHON.
set -u
. "$SRCDIR/tests/lib.sh"
d="$SRCDIR/tests/data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# usage errors: exit status 2
expect_status 2 "$LOWRANK" svd
expect_status 2 "$LOWRANK" svd -k 2 "$d/v1_f8_c.npy"
expect_status 2 "$LOWRANK" svd "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_status 2 "$LOWRANK" svd -k 2 --tol 0.1 "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_status 2 "$LOWRANK" svd -k two "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_status 2 "$LOWRANK" svd -k 2 --method lewis "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_status 2 "$LOWRANK" svd -k 2 --frobnicate "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_status 2 "$LOWRANK" svd -k 2 --factors "$tmp/l.npy" "$tmp/r.npy" "$d/v1_f8_c.npy" "$tmp/o.npy"

# errors from the library: exit status 1 and its message
expect_failure_mentioning "k = 4 exceeds min(rows, cols) = 3" \
    "$LOWRANK" svd -k 4 "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_failure_mentioning "LOWRANK_OPT_TOLERANCE" \
    "$LOWRANK" svd --tol 1.5 "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_failure_mentioning "missing.npy" "$LOWRANK" svd -k 1 "$tmp/missing.npy" "$tmp/o.npy"

# the approximation keeps the input's shape, dtype and order
for f in v1_f8_c v1_f4_f_be v2_f8_f v3_f4_c; do
    shape=$("$LOWRANK" info "$d/$f.npy")
    expect_status 0 "$LOWRANK" svd -k 1 "$d/$f.npy" "$tmp/$f.npy"
    expect_output "$shape" "$LOWRANK" info "$tmp/$f.npy"
done
expect_output "rank=1 error=0" "$LOWRANK" svd -k 1 "$d/v1_f8_1d.npy" "$tmp/o.npy"

# factors: L is m x k, R is k x n, row-major
expect_status 0 "$LOWRANK" svd -k 2 --factors "$tmp/l.npy" "$tmp/r.npy" "$d/v1_f8_c.npy"
expect_output "shape=(3, 2) dtype=float64 order=C" "$LOWRANK" info "$tmp/l.npy"
expect_output "shape=(2, 4) dtype=float64 order=C" "$LOWRANK" info "$tmp/r.npy"
expect_status 0 "$LOWRANK" svd --tol 0.5 --balanced --factors "$tmp/l.npy" "$tmp/r.npy" \
    "$d/v1_f4_f_be.npy"

# --time reports the library call on stderr
checks=$((checks + 1))
"$LOWRANK" svd -k 2 --time "$d/v1_f8_c.npy" "$tmp/o.npy" 2>"$tmp/err" >/dev/null
grep -q '^compute_seconds=[0-9.]*$' "$tmp/err" || fail "--time printed '$(cat "$tmp/err")'"

# With numpy: the values themselves, and determinism on a matrix large enough
# for the BLAS to use its threads.
if "$PYTHON" -c 'import numpy' 2>/dev/null; then
    "$PYTHON" - "$tmp" <<'EOF'
import sys, numpy as np
rng = np.random.default_rng(5)
u, _ = np.linalg.qr(rng.standard_normal((400, 240)))
v, _ = np.linalg.qr(rng.standard_normal((240, 240)))
a = (u * np.arange(1, 241) ** -0.7) @ v.T
np.save(sys.argv[1] + '/a64.npy', a)
np.save(sys.argv[1] + '/a32.npy', np.asfortranarray(a, dtype=np.float32))
u, s, vt = np.linalg.svd(a, full_matrices=False)
np.save(sys.argv[1] + '/ref.npy', (u[:, :12] * s[:12]) @ vt[:12])
EOF
    expect_status 0 "$LOWRANK" svd -k 12 --method exact "$tmp/a64.npy" "$tmp/exact.npy"
    expect_status 0 "$LOWRANK" svd -k 12 --method exact --factors "$tmp/l.npy" "$tmp/r.npy" \
        "$tmp/a64.npy"
    for a in a64 a32; do
        for m in randomized exact; do
            for t in 1 2; do
                for run in 1 2; do
                    OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$LOWRANK" svd -k 12 --method $m \
                        --seed 99 "$tmp/$a.npy" "$tmp/$a-$m-$t-$run.npy" >/dev/null
                done
                checks=$((checks + 1))
                cmp -s "$tmp/$a-$m-$t-1.npy" "$tmp/$a-$m-$t-2.npy" ||
                    fail "$a $m with $t BLAS threads: two runs differ"
            done
        done
    done
    # Across thread counts the BLAS rounds differently (OpenBLAS splits
    # products, and sums partial results, by thread), so the results agree to
    # working precision rather than bit for bit.
    checks=$((checks + 1))
    "$PYTHON" - "$tmp" <<'EOF' || fail "values differ (see above)"
import sys, numpy as np
t = sys.argv[1] + '/'
def close(what, x, y, tol):
    a, b = np.load(t + x).astype(float), np.load(t + y).astype(float)
    if np.abs(a - b).max() > tol * np.abs(a).max():
        print(f'FAIL: {what}: {x} and {y} differ by {np.abs(a - b).max():.2e}')
        return False
    return True
ok = close('exact vs numpy', 'ref.npy', 'exact.npy', 1e-12)
np.save(t + 'lr.npy', np.load(t + 'l.npy') @ np.load(t + 'r.npy'))
ok &= close('L R vs numpy', 'ref.npy', 'lr.npy', 1e-12)
for a, tol in (('a64', 1e-13), ('a32', 1e-5)):
    for m in ('randomized', 'exact'):
        ok &= close(f'{a} {m}, 1 and 2 threads', f'{a}-{m}-1-1.npy', f'{a}-{m}-2-1.npy', tol)
sys.exit(0 if ok else 1)
EOF
fi
finish
