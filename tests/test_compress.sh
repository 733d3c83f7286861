#!/bin/sh
# test_compress.sh - `lowrank svd --inputs` and `lowrank allocate`: usage and
# library errors, and with numpy the values themselves: the approximation is
# W V_k V_k^T from the SVD of the centred outputs Xc W (Eckart-Young), the
# printed error is the relative output error, the bias is b + mean(X)(W - W_k),
# inputs are read by blocks, and the allocation keeps to its budget.
# Run by `make check` with LOWRANK, SRCDIR, LD_LIBRARY_PATH and PYTHON.
set -u
. "$SRCDIR/tests/lib.sh"
d="$SRCDIR/tests/data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# usage errors: exit status 2
expect_status 2 "$LOWRANK" svd -k 1 --bias-out "$tmp/b.npy" "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_status 2 "$LOWRANK" svd -k 1 --ridge 1 "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_status 2 "$LOWRANK" svd -k 1 --inputs "$d/v1_f8_c.npy" --bias "$d/v1_f8_c.npy" \
    "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_status 2 "$LOWRANK" allocate "$d/v1_f8_c.npy"
expect_status 2 "$LOWRANK" allocate --budget 0.5 --tol 0.1 "$d/v1_f8_c.npy"
expect_status 2 "$LOWRANK" allocate --budget 0.5
expect_status 2 "$LOWRANK" allocate --budget half "$d/v1_f8_c.npy"
expect_status 2 "$LOWRANK" allocate --budget 0.5 --importance 1,2 "$d/v1_f8_c.npy"
expect_status 2 "$LOWRANK" allocate --budget 0.5 --importance 1, "$d/v1_f8_c.npy" \
    "$d/v1_f8_c.npy"

# library and file errors: exit status 1 and a message
expect_failure_mentioning "missing.npy" \
    "$LOWRANK" svd -k 1 --inputs "$tmp/missing.npy" "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_failure_mentioning "columns" \
    "$LOWRANK" svd -k 1 --inputs "$d/v2_f8_f.npy" "$d/v1_f8_c.npy" "$tmp/o.npy"
expect_failure_mentioning "budget" "$LOWRANK" allocate --budget 1.5 "$d/v1_f8_c.npy"
expect_failure_mentioning "missing.npy" "$LOWRANK" allocate --budget 0.5 "$tmp/missing.npy"
expect_failure_mentioning "importance" "$LOWRANK" allocate --budget 0.5 --importance -1 \
    "$d/v1_f8_c.npy"

if "$PYTHON" -c 'import numpy' 2>/dev/null; then
    # 3000 x 400 inputs: more than the tool's block of 2^20 values
    "$PYTHON" - "$tmp" <<'PY'
import sys, numpy as np
t = sys.argv[1] + '/'
rng = np.random.default_rng(7)
x = rng.standard_normal((3000, 400)) @ (rng.standard_normal((400, 400)) * np.logspace(0, -2, 400)) + 2
w = rng.standard_normal((400, 60)) / np.sqrt(1 + np.arange(60))
b = rng.standard_normal(60)
np.save(t + 'x.npy', x)
np.save(t + 'w.npy', w)
np.save(t + 'w32.npy', w.astype(np.float32))
np.save(t + 'b.npy', b)
xc = x - x.mean(0)
_, s, vt = np.linalg.svd(xc @ w, full_matrices=False)
wk = w @ vt[:5].T @ vt[:5]
np.save(t + 'ref.npy', wk)
np.save(t + 'bref.npy', b + x.mean(0) @ (w - wk))
open(t + 'err', 'w').write('%.6g\n' % np.sqrt((s[5:] ** 2).sum() / (s ** 2).sum()))
w2 = rng.standard_normal((50, 30))
np.save(t + 'w2.npy', w2)
np.save(t + 'x2.npy', rng.standard_normal((500, 50)) * np.logspace(0, -1, 50))
PY
    err=$(cat "$tmp/err")
    expect_output "rank=5 error=$err" "$LOWRANK" svd -k 5 --inputs "$tmp/x.npy" \
        --bias "$tmp/b.npy" --bias-out "$tmp/b2.npy" "$tmp/w.npy" "$tmp/wk.npy"
    expect_output "rank=5 error=$err" "$LOWRANK" svd -k 5 --inputs "$tmp/x.npy" \
        --bias-out "$tmp/shift.npy" --factors "$tmp/l.npy" "$tmp/r.npy" "$tmp/w.npy"
    expect_status 0 "$LOWRANK" svd -k 5 --inputs "$tmp/x.npy" --bias-out "$tmp/b32.npy" \
        "$tmp/w32.npy" "$tmp/wk32.npy"
    expect_output "shape=(60, 1) dtype=float64 order=C" "$LOWRANK" info "$tmp/b2.npy"
    expect_output "shape=(60, 1) dtype=float32 order=C" "$LOWRANK" info "$tmp/b32.npy"
    "$LOWRANK" allocate --budget 0.3 "$tmp/w.npy:$tmp/x.npy" "$tmp/w2.npy:$tmp/x2.npy" \
        "$tmp/w2.npy" > "$tmp/alloc" 2>&1 || fail "allocate: $(cat "$tmp/alloc")"
    "$LOWRANK" allocate --tol 0.2 "$tmp/w.npy:$tmp/x.npy" "$tmp/w2.npy:$tmp/x2.npy" \
        > "$tmp/alloc_tol" 2>&1 || fail "allocate --tol: $(cat "$tmp/alloc_tol")"
    for a in 1,1 1,1000 1000,1; do
        "$LOWRANK" allocate --budget 0.3 --importance $a "$tmp/w.npy:$tmp/x.npy" \
            "$tmp/w2.npy:$tmp/x2.npy" > "$tmp/alloc_$a" 2>&1 || fail "allocate: $(cat "$tmp/alloc_$a")"
    done
    checks=$((checks + 1))
    "$PYTHON" - "$tmp" <<'PY' || fail "values differ (see above)"
import re, sys, numpy as np
t = sys.argv[1] + '/'
ok = True
def close(what, a, b, tol):
    global ok
    if np.abs(a - b).max() > tol * np.abs(b).max():
        print(f'FAIL: {what}: off by {np.abs(a - b).max():.2e}')
        ok = False
ref, bref = np.load(t + 'ref.npy'), np.load(t + 'bref.npy')
close('W_k', np.load(t + 'wk.npy'), ref, 1e-10)
close('L R', np.load(t + 'l.npy') @ np.load(t + 'r.npy'), ref, 1e-10)
close('bias', np.load(t + 'b2.npy'), bref, 1e-10)
close('shift alone', np.load(t + 'shift.npy'), bref - np.load(t + 'b.npy'), 1e-9)
close('float32 W_k', np.load(t + 'wk32.npy'), ref, 1e-5)
lines = open(t + 'alloc').read().splitlines()
rows = [re.match(r'rank=(\d+) stored=(\d+) error=(\S+) (\S+)', l) for l in lines[:3]]
total = re.match(r'total stored=(\d+) share=(\S+) error_rms=(\S+)', lines[3])
if not all(rows) or not total or len(lines) != 4:
    print('FAIL: allocate printed', lines)
    ok = False
else:
    sizes = [400 * 60, 50 * 30, 50 * 30]
    if int(total.group(1)) > 0.3 * sum(sizes) or sum(int(r.group(2)) for r in rows) != int(total.group(1)):
        print('FAIL: allocate stored', total.group(1), 'of', sum(sizes))
        ok = False
lines = open(t + 'alloc_tol').read().splitlines()
rms = float(re.match(r'total stored=\d+ share=\S+ error_rms=(\S+)', lines[-1]).group(1))
if rms > 0.2:
    print('FAIL: allocate --tol 0.2 gave an rms error of', rms)
    ok = False
# weighing a layer more gives it no lower rank, and its weight counts in the rms
ranks = {}
for a in ('1,1', '1,1000', '1000,1'):
    lines = open(t + 'alloc_' + a).read().splitlines()
    rows = [re.match(r'rank=(\d+) stored=\d+ error=(\S+)', l) for l in lines[:2]]
    ranks[a] = [int(r.group(1)) for r in rows]
    e = np.array([float(r.group(2)) for r in rows])
    weights = np.array([float(v) for v in a.split(',')])
    rms = float(re.match(r'total stored=\d+ share=\S+ error_rms=(\S+)', lines[-1]).group(1))
    if abs(rms - np.sqrt((weights * e * e).sum() / weights.sum())) > 1e-5 * max(rms, 1e-300):
        print('FAIL: allocate --importance', a, 'printed error_rms', rms, 'for errors', e)
        ok = False
if not (ranks['1,1000'][1] >= ranks['1,1'][1] and ranks['1000,1'][0] >= ranks['1,1'][0]
        and ranks['1,1000'][1] == 30):
    print('FAIL: allocate --importance: ranks', ranks)
    ok = False
sys.exit(0 if ok else 1)
PY
fi
finish
