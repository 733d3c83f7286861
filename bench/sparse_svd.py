#!/usr/bin/env python3
"""sparse_svd.py - `lowrank svd` on sparse matrices against scipy's svds, in one run.

    make
    /usr/bin/python3 bench/sparse_svd.py [--rounds 3] [--k 20] [--matrices zipf,uniform]
        [--method auto] [--keep DIR]

For each matrix (made here from a fixed seed and saved with scipy.sparse.save_npz, uncompressed),
every round runs, each in its own process, in turn:
  lowrank    tools/lowrank svd -k K --time --factors L.npy R.npy A.npz (default method: the exact
             route's Lanczos on the sparse operator); its compute_seconds, the library call alone
  svds       scipy.sparse.linalg.svds(A, k=K) with its defaults (solver 'arpack': eigsh on the
             operator A^T A, ncv = max(2k + 1, 20), tol = 0, i.e. machine precision; singular
             vectors returned, as lowrank returns its factors), timed alone
and prints each time side by side with the ratio lowrank/svds, then the median ratio, the largest
difference between the singular values (relative to sigma_1) and the products each did.  Both the
elapsed time and the CPU time (all threads of the process) are shown: on a loaded machine the
elapsed time measures the load as much as the work, the CPU time the work (OpenBLAS threads that
spin while they wait count in it, for both).

Matrices (200,000 x 50,000, 3.9M distinct nonzeros, values uniform in [0.5, 1.5), rows uniform):
  zipf     columns drawn with probability proportional to 1 / (rank + 10): the issue's matrix
  uniform  columns uniform: a flat spectrum below sigma_1, the hard case for Krylov methods
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, '..', 'tools', 'lowrank')
LIB = os.path.join(HERE, '..', 'lib')
SEED = 20261128
M, N, NNZ = 200000, 50000, 3900000


def make(kind, path):
    """The matrix, exactly NNZ distinct entries drawn row-uniform and column by `kind`."""
    import scipy.sparse as sp
    rng = np.random.default_rng(SEED)
    p = 1.0 / (np.arange(N) + 10.0) if kind == 'zipf' else np.ones(N)
    p /= p.sum()
    keys = np.empty(0, np.int64)
    while keys.size < NNZ:
        need = int((NNZ - keys.size) * 1.05) + 1000
        new = rng.integers(0, M, need).astype(np.int64) * N + rng.choice(N, need, p=p)
        keys = np.concatenate([keys, new])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]
    keys = keys[:NNZ]
    a = sp.csr_matrix((rng.uniform(0.5, 1.5, NNZ), (keys // N, keys % N)), shape=(M, N))
    a.sort_indices()
    sp.save_npz(path, a, compressed=False)


SVDS = r'''
import sys, time, json, numpy as np, scipy.sparse as sp
from scipy.sparse.linalg import svds, LinearOperator
a = sp.load_npz(sys.argv[1]); k = int(sys.argv[2]); at = a.T.tocsr()
count = [0]
def mv(x): count[0] += 1; return a @ x
def rmv(x): count[0] += 1; return at @ x
def mm(x): count[0] += 1; return a @ x
def rmm(x): count[0] += 1; return at @ x
op = LinearOperator(a.shape, matvec=mv, rmatvec=rmv, matmat=mm, rmatmat=rmm, dtype=a.dtype)
svds(op, k=k)  # the products it needs, counted once
products = count[0]
t, c = time.perf_counter(), time.process_time()
u, s, vt = svds(a, k=k)
t, c = time.perf_counter() - t, time.process_time() - c
print(json.dumps({'seconds': t, 'cpu': c, 's': sorted(s.tolist(), reverse=True), 'products': products}))
'''


def run_lowrank(path, k, method, tmp):
    env = dict(os.environ, LD_LIBRARY_PATH=LIB)
    left = os.path.join(tmp, 'L.npy')
    out = subprocess.run([TOOL, 'svd', '-k', str(k), '--method', method, '--time', '--factors',
                          left, os.path.join(tmp, 'R.npy'), path],
                         env=env, capture_output=True, text=True, check=True)
    info = dict(kv.split('=') for kv in out.stderr.split() if '=' in kv)
    s = np.linalg.norm(np.load(left).astype(np.float64), axis=0)  # L = U diag(S)
    return (float(info['compute_seconds']), float(info['cpu_seconds']), np.sort(s)[::-1],
            int(info['passes']))


def run_svds(path, k, python):
    import json
    out = subprocess.run([python, '-c', SVDS, path, str(k)], capture_output=True, text=True,
                         check=True)
    r = json.loads(out.stdout)
    return r['seconds'], r['cpu'], np.array(r['s']), r['products']


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--k', type=int, default=20)
    ap.add_argument('--matrices', default='zipf,uniform')
    ap.add_argument('--method', default='auto')
    ap.add_argument('--keep', help='directory for the matrices (kept between runs)')
    args = ap.parse_args()
    import scipy
    blas = subprocess.run(['sh', '-c', 'readlink -f /etc/alternatives/libblas.so.3-*'],
                          capture_output=True, text=True).stdout.strip()
    print('# scipy %s, numpy %s, BLAS %s' % (scipy.__version__, np.__version__, blas))
    print('# load average at start: %s' % (os.getloadavg(),))
    tmp = args.keep or tempfile.mkdtemp(prefix='sparse_svd.')
    os.makedirs(tmp, exist_ok=True)
    print('# %-8s %5s %10s %10s %7s %10s %10s %7s' % ('matrix', 'round', 'lowrank', 'svds',
                                                      'ratio', 'cpu', 'svds cpu', 'ratio'))
    summary = []
    for kind in args.matrices.split(','):
        path = os.path.join(tmp, '%s.npz' % kind)
        if not os.path.exists(path):
            make(kind, path)
        ratios, cpu_ratios = [], []
        for r in range(args.rounds):
            t_ours, c_ours, s_ours, passes = run_lowrank(path, args.k, args.method, tmp)
            t_svds, c_svds, s_svds, products = run_svds(path, args.k, sys.executable)
            ratios.append(t_ours / t_svds)
            cpu_ratios.append(c_ours / c_svds)
            print('  %-8s %5d %9.3fs %9.3fs %7.2f %9.3fs %9.3fs %7.2f'
                  % (kind, r, t_ours, t_svds, ratios[-1], c_ours, c_svds, cpu_ratios[-1]),
                  flush=True)
        diff = np.max(np.abs(s_ours - s_svds)) / s_svds[0]
        summary.append((kind, float(np.median(ratios)), float(np.median(cpu_ratios)), diff,
                        passes, products, s_svds[0], s_svds[-1]))
    print('# load average at end: %s' % (os.getloadavg(),))
    for kind, ratio, cpu_ratio, diff, passes, products, s1, sk in summary:
        print('# %-8s lowrank/svds median: time %.2f, cpu %.2f  max |s - s_svds| / s_1 = %.1e  '
              'products: lowrank %d, svds %d  (sigma_1 %.4g, sigma_%d %.4g)'
              % (kind, ratio, cpu_ratio, diff, passes, products, s1, args.k, sk))
    if not args.keep:
        for f in os.listdir(tmp):
            os.remove(os.path.join(tmp, f))
        os.rmdir(tmp)


if __name__ == '__main__':
    main()
