#!/usr/bin/env python3
"""dense_route.py - the dense SVD before and after a change, interleaved in one run.

    make bench
    /usr/bin/python3 bench/dense_route.py [--before main] [--rounds 3] [--reps 5]
        [--shapes 1024x1024,4096x1024,30000x768] [--k 64]

Builds bench/bench_svd from the git revision --before (exported with git archive into a temporary
directory, configured and built there; nothing is written to the source tree), and runs it and
this tree's bench/bench_svd in turn, round after round, on the same matrices (A = U diag(i^-0.7)
V^T, as bench/svd_compare.py makes them), exact and randomized, float32 and float64.  Prints the
median seconds of each and the ratio after/before, the fastest of the rounds' medians, so that a
burst of load falls on neither alone, and the CPU seconds per call (the whole process's over
--reps calls, the fastest round): on a loaded machine run it with OPENBLAS_NUM_THREADS=1, where
the CPU time is the work done and hardly moves with the load.  Issue 15 made the dense matrix an operator behind the same
code path; this measures that the dense route did not slow down.
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEED = 20261128


def build_before(rev, tmp):
    src = os.path.join(tmp, 'before')
    os.makedirs(src)
    archive = subprocess.run(['git', '-C', ROOT, 'archive', rev], check=True,
                             capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', src], input=archive, check=True)
    log = open(os.path.join(tmp, 'build.log'), 'w')
    subprocess.run(['make', '-C', src, 'bench'], check=True, stdout=log, stderr=log)
    return os.path.join(src, 'bench', 'bench_svd')


def matrix(path, m, n, dtype):
    rng = np.random.default_rng(SEED)
    r = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((m, r)))
    v, _ = np.linalg.qr(rng.standard_normal((n, r)))
    np.save(path, ((u * np.arange(1, r + 1) ** -0.7) @ v.T).astype(dtype))


def cpu_children():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def median(binary, path, k, method, reps):
    """The median elapsed seconds of one call (bench_svd's), and the CPU seconds of the whole
    process over reps (reading the file included, the same for both binaries)."""
    cpu = cpu_children()
    out = subprocess.run([binary, '-k', str(k), '--method', method, '--reps', str(reps), path],
                         check=True, capture_output=True, text=True).stdout
    cpu = (cpu_children() - cpu) / reps
    return float(re.search(r'(?:^| )seconds=([0-9.e+-]+)', out).group(1)), cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--before', default='main', help='git revision to compare with')
    ap.add_argument('--after', default=os.path.join(HERE, 'bench_svd'))
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--k', type=int, default=64)
    ap.add_argument('--shapes', default='1024x1024,4096x1024,30000x768')
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='dense_route.')
    before = build_before(args.before, tmp)
    rev = subprocess.run(['git', '-C', ROOT, 'rev-parse', '--short', args.before],
                         capture_output=True, text=True).stdout.strip()
    head = subprocess.run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'],
                          capture_output=True, text=True).stdout.strip()
    blas = os.path.realpath('/etc/alternatives/libblas.so.3-x86_64-linux-gnu')
    print('# before %s (%s), after %s (HEAD %s); BLAS %s' % (args.before, rev, args.after, head,
                                                             blas))
    print('# load average at start: %s' % (os.getloadavg(),))
    print('# OPENBLAS_NUM_THREADS=%s' % os.environ.get('OPENBLAS_NUM_THREADS', '(unset)'))
    print('# %-11s %-8s %-10s %10s %10s %7s %10s %10s %7s' % (
        'shape', 'dtype', 'method', 'before', 'after', 'ratio', 'cpu before', 'cpu after',
        'ratio'))
    ratios = []
    cpu_ratios = []
    for shape in args.shapes.split(','):
        m, n = (int(x) for x in shape.split('x'))
        for dtype in ('float32', 'float64'):
            path = os.path.join(tmp, 'a.npy')
            matrix(path, m, n, dtype)
            for method in ('exact', 'randomized'):
                best = {'before': float('inf'), 'after': float('inf')}
                cpu = dict(best)
                for _ in range(args.rounds):
                    for name, binary in (('before', before), ('after', args.after)):
                        wall, c = median(binary, path, args.k, method, args.reps)
                        best[name] = min(best[name], wall)
                        cpu[name] = min(cpu[name], c)
                ratios.append(best['after'] / best['before'])
                cpu_ratios.append(cpu['after'] / cpu['before'])
                print('  %-11s %-8s %-10s %9.4fs %9.4fs %7.3f %9.4fs %9.4fs %7.3f' % (
                    shape, dtype, method, best['before'], best['after'], ratios[-1],
                    cpu['before'], cpu['after'], cpu_ratios[-1]), flush=True)
    print('# load average at end: %s' % (os.getloadavg(),))
    print('# after/before: median %.3f, range %.3f..%.3f; cpu: median %.3f, range %.3f..%.3f' % (
        float(np.median(ratios)), min(ratios), max(ratios), float(np.median(cpu_ratios)),
        min(cpu_ratios), max(cpu_ratios)))
    subprocess.run(['rm', '-rf', tmp])


if __name__ == '__main__':
    sys.exit(main())
