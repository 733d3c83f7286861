#!/usr/bin/env python3
"""svd_compare.py - lowrank_svd against the usual tools, side by side, in one run.

    make bench
    PYTHON=/usr/bin/python3 $PYTHON bench/svd_compare.py [--bench bench/bench_svd] [--reps 5]
        [--k 64] [--shapes 768x3072,...] [--dtypes float32,float64] [--no-layers]
        [--no-numpy] [--wait-load 0.7]

For every matrix it runs, each in its own process so that peak memory is its own:
  ours-rand    bench/bench_svd --method randomized (the library call alone is timed)
  ours-exact   bench/bench_svd --method exact
  gesvdx       bench/bench_svd --gesvdx: LAPACK's subset driver for the k leading triplets, the exact
               alternative to the library's Gram route (timed without its input copy)
  rsvd         sklearn.utils.extmath.randomized_svd(A, k, n_oversamples=10, n_iter=4)
  svds         scipy.sparse.linalg.svds(A, k)
  np.svd       numpy.linalg.svd(A, full_matrices=False)
and prints: seconds (median of --reps runs; with --rounds R, every implementation runs R times
in turn, interleaved, and the fastest of its R medians is shown, so that a burst of load from
other processes does not fall on one implementation alone), the relative Frobenius error minus the optimal one
(err-opt), the largest relative error of the k singular values (sv-err), our time divided by
theirs, the achieved GFLOP/s of the products with A (the work that dominates) against the
sgemm/dgemm rate measured in the same run, and the process's peak resident memory in MB
(VmHWM, which includes A itself and, for Python, the interpreter and its modules; getrusage's
maxrss would also count the memory of the parent that forked the process).  The parent only
orchestrates: matrices are made, and results scored, in child processes.

Matrices: A = U diag(s) V^T with s_i = i^-0.7 and U, V the Q factors of standard normal
matrices drawn by numpy.random.default_rng(20261128), stored in C order (row-major); the
optimum and the true singular values are known by construction.  Then the real layers in
../shared/data/nn (their own spectra from numpy's SVD in float64), with k = 8 and 16.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

SEED = 20261128
SHAPES = [(768, 3072), (3072, 768), (1024, 1024), (4096, 1024), (30000, 768)]
HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS = [('mnist_simple_convnet', 'W2'), ('mnist_mlp', 'W1'), ('ptb_rnnlm', 'embed_W'),
          ('ptb_rnnlm', 'affine_W')]


def synthetic(m, n, dtype):
    rng = np.random.default_rng(SEED)
    r = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((m, r)))
    v, _ = np.linalg.qr(rng.standard_normal((n, r)))
    s = np.arange(1, r + 1, dtype=np.float64) ** -0.7
    return ((u * s) @ v.T).astype(dtype), s


def score(a, s_true, u, s, vt, k):
    """Relative Frobenius error minus the optimum, and the worst relative singular value error."""
    a = a.astype(np.float64)
    u, s, vt = u[:, :k].astype(np.float64), s[:k].astype(np.float64), vt[:k].astype(np.float64)
    err = np.linalg.norm(a - (u * s) @ vt) / np.linalg.norm(a)
    opt = np.sqrt((s_true[k:] ** 2).sum() / (s_true ** 2).sum())
    top = s_true[:k]
    nz = top > 0
    sv = float(np.max(np.abs(s[nz] - top[nz]) / top[nz])) if nz.any() else 0.0
    return float(err - opt), sv


def peak_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return float(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_case(case, path, spectrum):
    """In a child process: write the matrix of case ('MxN:dtype' or a layer's path) and its
    singular values."""
    if case.endswith('.npy'):
        a = np.load(case)
        s = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    else:
        shape, dt = case.split(':')
        a, s = synthetic(*(int(x) for x in shape.split('x')), dt)
    np.save(path, a)
    np.save(spectrum, s)


def score_factors(prefix, path, spectrum, k):
    """In a child process: score the factors PREFIX.{u,s,vt}.npy, print JSON."""
    err, sv = score(np.load(path), np.load(spectrum), np.load(prefix + '.u.npy'),
                    np.load(prefix + '.s.npy').ravel(), np.load(prefix + '.vt.npy'), k)
    print(json.dumps({'err': err, 'sv': sv}))


def run_anchor(name, path, spectrum, k, reps):
    """In a child process: time one anchor on the matrix at path, print JSON."""
    a = np.load(path)
    s_true = np.load(spectrum)
    if name == 'rsvd':
        from sklearn.utils.extmath import randomized_svd
        f = lambda: randomized_svd(a, k, n_oversamples=10, n_iter=4, random_state=0)
    elif name == 'svds':
        from scipy.sparse.linalg import svds

        def f():
            u, s, vt = svds(a, k=k, random_state=0)
            order = np.argsort(s)[::-1]
            return u[:, order], s[order], vt[order]
    else:
        f = lambda: np.linalg.svd(a, full_matrices=False)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    err, sv = score(a, s_true, *out, k)
    print(json.dumps({'seconds': float(np.median(times)), 'err': err, 'sv': sv,
                      'maxrss_mb': peak_mb()}))


def python_child(args, *options):
    cmd = [args.python, os.path.abspath(__file__)] + [str(o) for o in options]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1]) if out.strip() else None


def child(args, name, path, spectrum, k):
    return python_child(args, '--anchor', name, '--file', path, '--spectrum', spectrum,
                        '--k', k, '--reps', args.reps)


def kv(line):
    return {p.split('=', 1)[0]: p.split('=', 1)[1] for p in line.split()}


def ours(args, method, path, spectrum, k, tmp):
    prefix = os.path.join(tmp, 'ours')
    how = ['--gesvdx'] if method == 'gesvdx' else ['--method', method]
    cmd = [args.bench, '-k', str(k)] + how + ['--reps', str(args.reps), '--out', prefix, path]
    r = kv(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    scored = python_child(args, '--score', prefix, '--file', path, '--spectrum', spectrum,
                          '--k', k)
    return {'seconds': float(r['seconds']), 'err': scored['err'], 'sv': scored['sv'],
            'maxrss_mb': float(r['maxrss_mb'])}


def product_flops(impl, m, n, k):
    """Flops of the products with A that dominate each method (None when not meaningful)."""
    lo, hi = min(m, n), max(m, n)
    krylov = 3 * (k + 20) <= lo  # otherwise randomized mode computes the exact truncation
    if impl == 'ours-rand' and krylov:  # block Krylov: blocks k + 20, depth 2: 5 products
        return 2.0 * m * n * 5 * (k + 20)
    if impl in ('ours-rand', 'ours-exact'):  # Gram matrix of the small side, A V_k, residual
        return hi * lo * lo + 4.0 * m * n * k
    if impl == 'rsvd':        # 2 n_iter + 2 products with k + 10 columns
        return 2.0 * m * n * 10 * (k + 10)
    return None


def wait_for_quiet(limit, patience=1800):
    t0 = time.time()
    while os.getloadavg()[0] > limit and time.time() - t0 < patience:
        time.sleep(30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bench', default=os.environ.get('BENCH_SVD', os.path.join(HERE, 'bench_svd')))
    ap.add_argument('--python', default=os.environ.get('PYTHON', '/usr/bin/python3'))
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--rounds', type=int, default=1)
    ap.add_argument('--k', type=int, default=64)
    ap.add_argument('--shapes', default=','.join(f'{m}x{n}' for m, n in SHAPES))
    ap.add_argument('--dtypes', default='float32,float64')
    ap.add_argument('--data', default=os.path.join(HERE, '..', '..', 'shared', 'data', 'nn'))
    ap.add_argument('--no-layers', action='store_true')
    ap.add_argument('--no-numpy', action='store_true')
    ap.add_argument('--wait-load', type=float, default=0,
                    help='wait (up to 30 min) until the 1-minute load is below this')
    ap.add_argument('--anchor')
    ap.add_argument('--make')
    ap.add_argument('--score')
    ap.add_argument('--file')
    ap.add_argument('--spectrum')
    args = ap.parse_args()
    if args.anchor:
        return run_anchor(args.anchor, args.file, args.spectrum, args.k, args.reps)
    if args.make:
        return make_case(args.make, args.file, args.spectrum)
    if args.score:
        return score_factors(args.score, args.file, args.spectrum, args.k)
    if args.wait_load:
        wait_for_quiet(args.wait_load)
    print(f'# load average at start: {os.getloadavg()}')
    rate = kv(subprocess.run([args.bench, '--gemm-rate', '2000'], check=True,
                             capture_output=True, text=True).stdout)
    print(f"# sgemm {rate['sgemm_gflops']} GFLOP/s, dgemm {rate['dgemm_gflops']} GFLOP/s "
          f"(2000^3, best of 3), BLAS {rate['blas']}")
    print(f'# numpy {np.__version__}; median of {args.reps} runs, best of {args.rounds} '
          f'interleaved rounds; seconds of the call alone')
    hdr = (f"{'matrix':<28}{'dtype':<8}{'k':>4}  {'impl':<11}{'seconds':>9}{'err-opt':>10}"
           f"{'sv-err':>9}  {'ours/this':<22}{'GFLOP/s':>8}{'%gemm':>6}{'MB':>7}")
    print(hdr)
    cases = []
    for shape in args.shapes.split(','):
        if not shape:
            continue
        m, n = (int(x) for x in shape.split('x'))
        for dt in args.dtypes.split(','):
            cases.append((f'{m}x{n} i^-0.7', dt, args.k, f'{m}x{n}:{dt}', (m, n)))
    if not args.no_layers:
        for model, layer in LAYERS:
            path = os.path.join(args.data, model, layer + '.npy')
            if not os.path.exists(path):
                continue
            w = np.load(path, mmap_mode='r')
            for k in (8, 16):
                cases.append((f'{model}:{layer}', str(w.dtype), k, path, w.shape))
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, dt, k, case, (m, n) in cases:
            path, spectrum = os.path.join(tmp, 'a.npy'), os.path.join(tmp, 's.npy')
            python_child(args, '--make', case, '--file', path, '--spectrum', spectrum)
            runs = {'ours-rand': lambda: ours(args, 'randomized', path, spectrum, k, tmp),
                    'ours-exact': lambda: ours(args, 'exact', path, spectrum, k, tmp),
                    'gesvdx': lambda: ours(args, 'gesvdx', path, spectrum, k, tmp),
                    'rsvd': lambda: child(args, 'rsvd', path, spectrum, k),
                    'svds': lambda: child(args, 'svds', path, spectrum, k)}
            if not args.no_numpy:
                runs['np.svd'] = lambda: child(args, 'np.svd', path, spectrum, k)
            res = {}
            for _ in range(args.rounds):
                for impl, run in runs.items():
                    r = run()
                    if impl not in res or r['seconds'] < res[impl]['seconds']:
                        res[impl] = r
            peak = float(rate['sgemm_gflops' if dt == 'float32' else 'dgemm_gflops'])
            best_anchor = min(res['rsvd']['seconds'], res['svds']['seconds'])
            for impl, r in res.items():
                if impl == 'ours-rand':
                    ratio = f"{r['seconds'] / best_anchor:.2f} of best(rsvd,svds)"
                elif impl == 'ours-exact':
                    ratio = f"{r['seconds'] / res['svds']['seconds']:.2f} of svds"
                elif impl == 'gesvdx':
                    ratio = f"exact {res['ours-exact']['seconds'] / r['seconds']:.2f}"
                else:
                    ratio = (f"rand {res['ours-rand']['seconds'] / r['seconds']:.2f} "
                             f"exact {res['ours-exact']['seconds'] / r['seconds']:.2f}")
                fl = product_flops(impl, m, n, k)
                gf = f"{fl / r['seconds'] / 1e9:8.1f}{100 * fl / r['seconds'] / 1e9 / peak:6.0f}" \
                    if fl else f"{'-':>8}{'-':>6}"
                print(f"{name:<28}{dt:<8}{k:>4}  {impl:<11}{r['seconds']:9.4f}{r['err']:10.1e}"
                      f"{r['sv']:9.1e}  {ratio:<22}{gf}{r['maxrss_mb']:7.0f}", flush=True)
            summary.append((name, dt, k, res))
    print(f'# load average at end: {os.getloadavg()}')
    print('# summary: randomized / best(rsvd, svds); exact / svds; exact / np.svd')
    for name, dt, k, res in summary:
        best = min(res['rsvd']['seconds'], res['svds']['seconds'])
        line = (f"#   {name:<28}{dt:<8}k={k:<3} rand {res['ours-rand']['seconds'] / best:.2f} "
                f"(err-opt {res['ours-rand']['err']:.1e})  exact/svds "
                f"{res['ours-exact']['seconds'] / res['svds']['seconds']:.2f}")
        if 'np.svd' in res:
            line += f"  exact/np.svd {res['ours-exact']['seconds'] / res['np.svd']['seconds']:.2f}"
        print(line)


if __name__ == '__main__':
    sys.exit(main())
