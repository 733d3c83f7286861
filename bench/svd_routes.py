#!/usr/bin/env python3
"""svd_routes.py - the exact method's Lanczos route against its Gram route: the shape rule.

    make bench
    PYTHON=/usr/bin/python3 $PYTHON bench/svd_routes.py [--bench bench/bench_svd] [--reps 5]
        [--rounds 3] [--sizes 256,384,512,768,1024] [--ks 8,16,32,64,128]
        [--spectra power,gauss] [--wait-load 0.7]

For every n x n float64 matrix and k with 4 k <= n it times bench/bench_svd --route lanczos
(the exact method started from block Lanczos, falling back to the Gram route when Lanczos
cannot certify) and --route gram (the Gram matrix's eigensolver) in turn, --rounds times,
keeping each route's fastest median of --reps runs, and prints both, the route whose result
came back from the Lanczos start, and lanczos / gram.  Spectra: power, s_i = i^-0.7 with
random orthogonal factors (svd_compare.py's matrices); gauss, independent standard normal
entries (a flat top: small relative gaps between the leading singular values).  The shape
rule in lib/svd.c starts with Lanczos where this ratio is clearly below 1 on the power
spectrum (docs/svd.md).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from svd_compare import kv, synthetic, wait_for_quiet  # noqa: E402


def matrix(n, spectrum):
    if spectrum == 'power':
        return synthetic(n, n, 'float64')[0]
    return np.random.default_rng(20261128).standard_normal((n, n))


def run(args, route, k, path):
    cmd = [args.bench, '--route', route, '-k', str(k), '--reps', str(args.reps), path]
    return kv(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bench', default=os.environ.get('BENCH_SVD', os.path.join(HERE, 'bench_svd')))
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--sizes', default='256,384,512,768,1024')
    ap.add_argument('--ks', default='8,16,32,64,128')
    ap.add_argument('--spectra', default='power,gauss')
    ap.add_argument('--wait-load', type=float, help='wait (up to 30 min) until the 1-minute load '
                    'is below this')
    args = ap.parse_args()
    if args.wait_load is not None:
        wait_for_quiet(args.wait_load)
    print('# load average at start:', os.getloadavg())
    print(f'# float64, seconds: best of {args.rounds} interleaved medians of {args.reps} runs')
    print(f'{"n":>5} {"spectrum":8} {"k":>4} {"lanczos":>9} {"taken":8} {"gram":>9} {"ratio":>6}')
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'a.npy')
        for spectrum in args.spectra.split(','):
            for n in (int(x) for x in args.sizes.split(',')):
                np.save(path, matrix(n, spectrum))
                for k in (int(x) for x in args.ks.split(',')):
                    if 4 * k > n:
                        continue
                    best = {'lanczos': float('inf'), 'gram': float('inf')}
                    for _ in range(args.rounds):
                        for route in best:
                            r = run(args, route, k, path)
                            best[route] = min(best[route], float(r['seconds']))
                            taken = r['route'] if route == 'lanczos' else taken
                    print(f'{n:5d} {spectrum:8} {k:4d} {best["lanczos"]:9.4f} {taken:8} '
                          f'{best["gram"]:9.4f} {best["lanczos"] / best["gram"]:6.2f}',
                          flush=True)
    print('# load average at end:', os.getloadavg())


if __name__ == '__main__':
    main()
