#!/bin/sh
# test_demo.sh - demo/compress, the program `make demo` runs on the bundled
# layer: its usage and error exits, and, with numpy, every figure it prints
# for the SVD recomputed from numpy's SVD of the same matrix, the l1 fit no
# better than the SVD in l2 (Eckart-Young), and both exact at full rank.  Run by `make check` with BUILDDIR, SRCDIR, LD_LIBRARY_PATH
# and PYTHON.
set -u
. "$SRCDIR/tests/lib.sh"
demo="$BUILDDIR/demo/compress"
w="$SRCDIR/demo/data/mnist_mlp_W1.npy"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect_status 2 "$demo"
expect_failure_mentioning "no-such.npy" "$demo" "$tmp/no-such.npy"
expect_failure_mentioning "k = 51" "$demo" "$w" 51

checks=$((checks + 1))
"$demo" "$w" 1 7 50 > "$tmp/out" 2>&1 || fail "compress $w exited $?: $(cat "$tmp/out")"

if "$PYTHON" -c 'import numpy' 2>/dev/null; then
    checks=$((checks + 1))
    "$PYTHON" - "$w" "$tmp/out" <<'PY' || fail "the demo's figures"
import sys
import numpy as np
w = np.load(sys.argv[1]).astype(np.float64)
rows = [l.split() for l in open(sys.argv[2]) if l.split() and l.split()[0].isdigit()]
assert [int(r[0]) for r in rows] == [1, 7, 50], rows
_, s, vt = np.linalg.svd(w, full_matrices=False)
norms = np.linalg.norm(w, axis=1).sum()
for r in rows:
    k, stored = int(r[0]), int(r[1])
    svd_l2, svd_l1, lp_l2, lp_l1 = map(float, r[3:7])
    assert stored == k * sum(w.shape), r
    l2 = np.sqrt((s[k:] ** 2).sum() / (s ** 2).sum())
    l1 = np.linalg.norm(w - w @ vt[:k].T @ vt[:k], axis=1).sum() / norms
    assert abs(svd_l2 - l2) <= 1e-4 and abs(svd_l1 - l1) <= 1e-4, (r, l2, l1)
    assert lp_l2 >= svd_l2 - 1e-4, r  # the SVD is the l2 optimum (Eckart-Young)
    assert k < 50 or lp_l2 == lp_l1 == 0, r
print('demo figures match numpy at k = 1, 7, 50')
PY
fi
finish
