#!/usr/bin/env python3
"""Cost of the Python binding over the C call: a 4096 x 1024 float32 truncated
SVD (k = 64, the default method) through lowrank.svd() against bench/bench_svd
timing lowrank_svd() alone in C, on the same matrix, interleaved.

    make && make bench && /usr/bin/python3 bench/python_overhead.py [--reps 15]

Prints the median seconds of each and the overhead in percent, against the C
program and against the bare library call made through ctypes in the same
process (prepared handle, no options, nothing copied out).  The binding
wraps the array without copying; its cost is the options handle, the call
through ctypes and copying U, S and V^T out of the library's memory.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'bindings', 'python'))
os.environ.setdefault('LOWRANK_LIBRARY', os.path.join(HERE, '..', 'lib', 'liblowrank.so.0'))

import numpy as np  # noqa: E402

import lowrank  # noqa: E402


def c_seconds(bench, path, k, reps):
    out = subprocess.run([bench, '-k', str(k), '--reps', str(reps), path], check=True,
                         capture_output=True, text=True,
                         env=dict(os.environ, LD_LIBRARY_PATH='')).stdout
    return float(re.search(r'\bseconds=([0-9.e+-]+)', out).group(1))


def raw_seconds(a, k, reps):
    from lowrank._core import Matrix, check, lib
    import ctypes
    m = Matrix(a)
    times = []
    for _ in range(reps):
        out = ctypes.c_void_p()
        t = time.perf_counter()
        check(lib.lowrank_svd(m.handle, k, None, ctypes.byref(out)))
        times.append(time.perf_counter() - t)
        lib.lowrank_factors_free(out)
    return float(np.median(times))


def python_seconds(a, k, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f = lowrank.svd(a, k)
        f.u, f.s, f.vt            # the arrays a user takes out
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--reps', type=int, default=15)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--bench', default=os.path.join(HERE, 'bench_svd'))
    a = ap.parse_args()
    rng = np.random.default_rng(20261128)
    m = rng.standard_normal((4096, 1024)).astype(np.float32)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'a.npy')
        np.save(path, m)
        c, raw, py = [], [], []
        for _ in range(a.rounds):           # interleaved, so load affects all alike
            c.append(c_seconds(a.bench, path, 64, a.reps))
            raw.append(raw_seconds(m, 64, a.reps))
            py.append(python_seconds(m, 64, a.reps))
    c_s, raw_s, py_s = min(c), min(raw), min(py)
    print('4096x1024 float32 k=64: C program %.4f s, bare call %.4f s, lowrank.svd %.4f s; '
          'overhead %+.1f%% over the C program, %+.1f%% over the bare call (load %s)'
          % (c_s, raw_s, py_s, 100 * (py_s / c_s - 1), 100 * (py_s / raw_s - 1),
             open('/proc/loadavg').read().split()[0]))


if __name__ == '__main__':
    main()
