#!/usr/bin/env python3
"""svd_choices.py - the measurements behind the design of lowrank_svd's randomized method.

    PYTHON=/usr/bin/python3 $PYTHON bench/svd_choices.py [--quick]

1. Accuracy per product with A: subspace (power) iteration with re-orthonormalisation against
   block Krylov, both finished by Rayleigh-Ritz on the small side, on the benchmark matrices
   (s_i = i^-0.7, random orthogonal factors, numpy.random.default_rng(20261128)), k = 64.
   "products" counts the columns multiplied by A or A^T: the work that dominates.  Block
   Krylov keeps every iterate, so (2q + 1) b products buy a (q + 1) b-dimensional space.
2. Orthonormalising a tall-skinny block: Householder (LAPACK geqrf + orgqr) against
   CholeskyQR2 (syrk, Cholesky, triangular solve, twice), same BLAS.
3. Matrix products against their width: the GFLOP/s of A V for V with b columns.
4. (--auto) lowrank_svd's auto method against the old one (block Krylov at the default depth 2
   where its space fits in half the small side, the exact method elsewhere): the error above the
   optimum, relative to it, and the CPU time, interleaved (median of --reps), through the Python
   binding on the library of this tree, on flat spectra (Gaussian; 1/(1 + i/100); an LSTM-like
   exp(-1.5 i/n)), slowly decaying ones (i^-0.3, i^-0.7) and a fast one (i^-1.5), in float64 and
   float32.  --auto runs only this part.
Everything runs on the BLAS numpy uses (Debian's alternatives: the same as liblowrank's).
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import scipy.linalg as sl

SEED = 20261128


def synthetic(m, n):
    rng = np.random.default_rng(SEED)
    r = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((m, r)))
    v, _ = np.linalg.qr(rng.standard_normal((n, r)))
    s = np.arange(1, r + 1, dtype=np.float64) ** -0.7
    return (u * s) @ v.T, s


def orth(x):
    return np.linalg.qr(x)[0]


def ritz(a, v, k):
    """Best rank-k approximation of a within the row space span(v): (A V)_k V^T."""
    u, s, wt = np.linalg.svd(a @ v, full_matrices=False)
    return u[:, :k], s[:k], (v @ wt[:k].T).T


def subspace_iteration(a, k, l, q, rng):
    v = orth(rng.standard_normal((a.shape[1], l)))
    for _ in range(q):
        v = orth(a.T @ (a @ v))
    return ritz(a, v, k), (2 * q + 1) * l


def block_krylov(a, k, b, q, rng):
    blocks = [orth(rng.standard_normal((a.shape[1], b)))]
    for _ in range(q):
        z = a.T @ (a @ blocks[-1])
        basis = np.hstack(blocks)
        for _ in range(2):
            z -= basis @ (basis.T @ z)
        blocks.append(orth(z))
    return ritz(a, np.hstack(blocks), k), (2 * q + 1) * b


def accuracy(shapes, k):
    print(f'1. relative Frobenius error minus the optimum, k = {k}')
    configs = [('power', subspace_iteration, l, q) for l, q in ((74, 2), (74, 3), (74, 4), (96, 2))]
    configs += [('krylov', block_krylov, b, q)
                for b, q in ((k + 10, 2), (k + 20, 2), (k, 3), (k + 10, 3), (k // 2 + 8, 4))]
    print(f"   {'method':<8}{'block':>6}{'q':>3}{'products':>10}  " +
          ''.join(f"{f'{m}x{n}':<13}" for m, n in shapes))
    mats = [synthetic(m, n) for m, n in shapes]
    for name, f, b, q in configs:
        row, cols = [], 0
        for a, s in mats:
            (u, sv, vt), cols = f(a if a.shape[0] >= a.shape[1] else a.T, k, b, q,
                                  np.random.default_rng(1))
            if a.shape[0] < a.shape[1]:
                u, vt = vt.T, u.T
            opt = np.sqrt((s[k:] ** 2).sum() / (s ** 2).sum())
            row.append(np.linalg.norm(a - (u * sv) @ vt) / np.linalg.norm(a) - opt)
        print(f'   {name:<8}{b:>6}{q:>3}{cols:>10}  ' + ''.join(f'{e:<13.1e}' for e in row),
              flush=True)


def best_of(f, reps=5):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return min(t)


def householder(x):
    """LAPACK geqrf + orgqr, as lr_qr() calls them."""
    geqrf, orgqr = sl.get_lapack_funcs(('geqrf', 'orgqr'), (x,))
    qr, tau, _, _ = geqrf(x)
    return orgqr(qr, tau, overwrite_a=1)[0]


def cholesky_qr2(x):
    """syrk, potrf, trsm, twice, as the library calls them."""
    syrk, trsm = sl.get_blas_funcs(('syrk', 'trsm'), (x,))
    potrf = sl.get_lapack_funcs('potrf', (x,))
    for _ in range(2):
        r, _ = potrf(syrk(1.0, x, trans=1), lower=0, clean=1, overwrite_a=1)
        x = trsm(1.0, r, x, side=1, lower=0)
    return x


def qr_timing(shapes):
    print('2. orthonormalising an m x b block: seconds (best of 5), and ||Q^T Q - I||')
    for m, b in shapes:
        for dt in (np.float32, np.float64):
            x = np.asfortranarray(np.random.default_rng(2).standard_normal((m, b)).astype(dt))
            th = best_of(lambda: householder(x))
            tc = best_of(lambda: cholesky_qr2(x))
            q = cholesky_qr2(x)
            err = np.abs(q.T @ q - np.eye(b)).max()
            print(f'   {m}x{b} {np.dtype(dt).name}: Householder {th:.4f}  CholeskyQR2 {tc:.4f} '
                  f'({th / tc:.1f}x faster, orthogonality {err:.0e})', flush=True)


def gemm_widths(m, n):
    print(f'3. A V with A {m}x{n}: GFLOP/s against the width of V')
    for dt in (np.float32, np.float64):
        a = np.asfortranarray(np.random.default_rng(3).standard_normal((m, n)).astype(dt))
        rates = []
        for b in (16, 32, 64, 74, 84, 128, 256):
            v = np.asfortranarray(np.ones((n, b), dt))
            rates.append(f'{b}:{2 * m * n * b / best_of(lambda: a @ v) / 1e9:.0f}')
        print(f"   {np.dtype(dt).name}: " + '  '.join(rates), flush=True)


SPECTRA = {'gauss': None, 'flat': lambda i, r: 1 / (1 + 0.01 * i),
           'lstm': lambda i, r: np.exp(-1.5 * i / r), 'i^-0.3': lambda i, r: i ** -0.3,
           'i^-0.7': lambda i, r: i ** -0.7, 'i^-1.5': lambda i, r: i ** -1.5}


def spectrum_matrix(m, n, kind, rng):
    if SPECTRA[kind] is None:
        return rng.standard_normal((m, n)) / np.sqrt(n)
    r = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((m, r)))
    v, _ = np.linalg.qr(rng.standard_normal((n, r)))
    return (u * SPECTRA[kind](np.arange(1, r + 1.0), r)) @ v.T


def auto_rule(reps, quick):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault('LOWRANK_LIBRARY', os.path.join(here, 'lib', 'liblowrank.so.0'))
    sys.path.insert(0, os.path.join(here, 'bindings', 'python'))
    import lowrank
    with open('/proc/loadavg') as f:
        print('4. the auto rule: the old one (block Krylov at depth 2 where 6 (k + 20) <= min(m, n)),'
              ' the new one and the exact method; error above the optimum / optimum; CPU seconds of the'
              ' process (median of %d, interleaved; run with OPENBLAS_NUM_THREADS=1, or OpenBLAS\'s'
              ' spinning threads count too); load %s' % (reps, ' '.join(f.read().split()[:3])))
    shapes = [(1024, 1024), (3072, 768)] if quick else \
        [(256, 1024), (1024, 1024), (3072, 768), (4096, 1024), (2048, 8192)]
    print(f"   {'shape':<11}{'dtype':<9}{'spectrum':<9}{'k':>4}  {'old excess':>11}{'new excess':>11}"
          f"{'old s':>9}{'new s':>9}{'exact s':>9}{'new/old':>8}")
    rng = np.random.default_rng(SEED)
    worst, ratios = 0, []
    for m, n in shapes:
        for kind in SPECTRA:
            a64 = spectrum_matrix(m, n, kind, rng)
            sv = np.linalg.svd(a64, compute_uv=False)
            for dt in (np.float64, np.float32):
                a = a64.astype(dt)
                for k in (8, 16, 64):
                    b, small = k + 20, min(m, n)
                    old_method = 'randomized' if 6 * b <= small else 'exact'
                    opt = np.sqrt((sv[k:] ** 2).sum() / (sv ** 2).sum())
                    runs = {'old': lambda: lowrank.svd(a, k, method=old_method),
                            'new': lambda: lowrank.svd(a, k),
                            'exact': lambda: lowrank.svd(a, k, method='exact')}
                    times = {w: [] for w in runs}
                    for _ in range(reps):
                        for w, f in runs.items():
                            t0 = time.process_time()
                            f()
                            times[w].append(time.process_time() - t0)
                    excess = {}
                    for w in ('old', 'new'):
                        err = np.linalg.norm(a64 - runs[w]().reconstruct().astype(np.float64))
                        excess[w] = (err / np.linalg.norm(a64) - opt) / opt
                    to, tn, te = (statistics.median(times[w]) for w in ('old', 'new', 'exact'))
                    worst = max(worst, excess['new'])
                    ratios.append(tn / to)
                    print(f'   {m}x{n:<6}{np.dtype(dt).name:<9}{kind:<9}{k:>4}  {excess["old"]:>11.1e}'
                          f'{excess["new"]:>11.1e}{to:>9.4f}{tn:>9.4f}{te:>9.4f}{tn / to:>8.2f}',
                          flush=True)
    print(f'   largest excess of the new rule: {worst:.1e}; new/old time: median '
          f'{statistics.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='two shapes only')
    ap.add_argument('--auto', action='store_true', help='part 4 only: the auto rule')
    ap.add_argument('--reps', type=int, default=3, help='timing repetitions of part 4')
    args = ap.parse_args()
    if args.auto:
        auto_rule(args.reps, args.quick)
        return
    shapes = [(1024, 1024), (3072, 768)] if args.quick else \
        [(768, 3072), (3072, 768), (1024, 1024), (4096, 1024), (30000, 768)]
    accuracy(shapes, 64)
    qr_timing([(30000, 74), (4096, 84), (1024, 84)])
    gemm_widths(30000, 768)


if __name__ == '__main__':
    main()
