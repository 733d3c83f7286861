#!/usr/bin/env python3
"""lp_data.py - the synthetic inputs of the lp factorisation's checks and
benchmarks, generated with numpy from a fixed seed.

    $PYTHON bench/lp_data.py haystack [-n 20000] [-d 50] [-k 5] [--outliers 0.3]
                                      [--seed 1] A.npy BASIS.npy
    $PYTHON bench/lp_data.py corrupted [-m 2000] [-n 500] [-k 5] [--fraction 0.1]
                                       [--seed 1] A.npy CLEAN.npy
    $PYTHON bench/lp_data.py planted [-m 3000] [-n 3000] [-k 5] [--outliers 0.05]
                                     [--kind structured|spread] [--ratio 6] [--outlier-dim 3]
                                     [--float32] [--seed 1] A.npy BASIS.npy

haystack: the "haystack" model of robust subspace recovery (Lerman, McCoy,
Tropp, Zhang 2015), made harder: n points in R^d, a fraction 1 - outliers of
them inliers z U^T + noise with z ~ N(0, I_k) on the k-dimensional subspace
spanned by the orthonormal columns of U (BASIS.npy, d x k) and noise
N(0, 1e-4 I_d); the outliers, in random order among them, half spread in
every direction (N(0, I_d)) and half concentrated near another 3-dimensional
subspace (3 N(0, I_3) on it, plus the inliers' noise), so that they hold
more energy along that subspace than the inliers hold along theirs and the
SVD's top k directions include it.

planted: the planting of issue 14 (planted() below): m points in R^n near
a k-dimensional subspace at scale 10 with noise 0.05, a fraction of them
replaced by outliers on a 3-dimensional subspace at 6 times the scale
(structured) or in every direction (spread).

corrupted: an m x n matrix of rank k (clean = L0 R0, N(0, 1) factors;
CLEAN.npy) with a fraction of its entries replaced by values of magnitude
uniform in [20, 60] and random sign, far outside the clean entries' spread
(about sqrt(k)).
"""
import argparse

import numpy as np


def haystack(n, d, k, outliers, seed):
    """(A, U): the points, n x d, and the inliers' orthonormal basis, d x k."""
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.standard_normal((d, k)))[0]
    w = np.linalg.qr(rng.standard_normal((d, 3)))[0]
    n_out = int(round(outliers * n))
    n_in, n_spread = n - n_out, n_out // 2
    n_conc = n_out - n_spread
    noise = 1e-2
    a = np.vstack([rng.standard_normal((n_in, k)) @ u.T + noise * rng.standard_normal((n_in, d)),
                   rng.standard_normal((n_spread, d)),
                   3 * rng.standard_normal((n_conc, 3)) @ w.T
                   + noise * rng.standard_normal((n_conc, d))])
    return a[rng.permutation(n)], u


def planted(m, n, k, outliers, kind, seed, scale=10.0, noise=0.05, ratio=6.0, outlier_dim=3,
            dtype=np.float64):
    """(A, U): m points in R^n near the k-dimensional subspace spanned by the
    orthonormal columns of U (n x k): scale N(0, I_k) coordinates plus
    N(0, noise^2 I_n); a fraction of the rows, in random places, replaced by
    outliers: "structured", points of a random outlier_dim-dimensional
    subspace at ratio times the scale (plus the noise); "spread",
    N(0, I_n) scaled to the same expected norm, in every direction."""
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.standard_normal((n, k)))[0]
    a = scale * rng.standard_normal((m, k)) @ u.T + noise * rng.standard_normal((m, n))
    bad = rng.permutation(m)[:int(round(outliers * m))]
    size = ratio * scale
    if kind == "structured":
        w = np.linalg.qr(rng.standard_normal((n, outlier_dim)))[0]
        a[bad] = size * rng.standard_normal((len(bad), outlier_dim)) @ w.T \
            + noise * rng.standard_normal((len(bad), n))
    else:
        a[bad] = size * np.sqrt(outlier_dim / n) * rng.standard_normal((len(bad), n))
    return np.asarray(a, dtype=dtype), u


def corrupted(m, n, k, fraction, seed):
    """(A, clean): the corrupted matrix and the clean rank-k one, m x n."""
    rng = np.random.default_rng(seed)
    clean = rng.standard_normal((m, k)) @ rng.standard_normal((k, n))
    a = clean.copy()
    hit = rng.random((m, n)) < fraction
    count = int(hit.sum())
    a[hit] = rng.choice([-1.0, 1.0], count) * rng.uniform(20, 60, count)
    return a, clean


def largest_angle(u, v):
    """The largest principal angle, in degrees, between span(u) and span(v)
    (orthonormal columns)."""
    s = np.linalg.svd(u.T @ v, compute_uv=False)
    return float(np.degrees(np.arccos(np.clip(s.min(), -1, 1))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="kind", required=True)
    h = sub.add_parser("haystack")
    h.add_argument("-n", type=int, default=20000)
    h.add_argument("-d", type=int, default=50)
    h.add_argument("-k", type=int, default=5)
    h.add_argument("--outliers", type=float, default=0.3)
    c = sub.add_parser("corrupted")
    c.add_argument("-m", type=int, default=2000)
    c.add_argument("-n", type=int, default=500)
    c.add_argument("-k", type=int, default=5)
    c.add_argument("--fraction", type=float, default=0.1)
    p = sub.add_parser("planted")
    p.add_argument("-m", type=int, default=3000)
    p.add_argument("-n", type=int, default=3000)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--outliers", type=float, default=0.05)
    p.add_argument("--kind", dest="outlier_kind", choices=("structured", "spread"),
                   default="structured")
    p.add_argument("--ratio", type=float, default=6.0)
    p.add_argument("--outlier-dim", type=int, default=3)
    p.add_argument("--float32", action="store_true")
    for s in (h, c, p):
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("matrix")
        s.add_argument("truth")
    args = parser.parse_args()
    if args.kind == "haystack":
        a, truth = haystack(args.n, args.d, args.k, args.outliers, args.seed)
    elif args.kind == "planted":
        a, truth = planted(args.m, args.n, args.k, args.outliers, args.outlier_kind, args.seed,
                           ratio=args.ratio, outlier_dim=args.outlier_dim,
                           dtype=np.float32 if args.float32 else np.float64)
    else:
        a, truth = corrupted(args.m, args.n, args.k, args.fraction, args.seed)
    np.save(args.matrix, a)
    np.save(args.truth, truth)


if __name__ == "__main__":
    main()
