#!/usr/bin/env python3
"""ooc_svd.py - `lowrank svd` of an .npy file read block by block (out of core), in one run.

    make
    /usr/bin/python3 bench/ooc_svd.py [--rows 1200000] [--small-rows 120000] [--cols 1000]
        [--k 10] [--dir DIR] [--keep]

Writes, in chunks (never the whole matrix in memory), float32 .npy files of A = Z S V^T + E:
V (cols x 10) a fixed random orthonormal basis (the planted subspace), S = diag(20, 19, ..., 11),
Z and E standard normal (the noise per entry is 1: each row's noise is larger than its planted
part).  Then, each in its own process, measured from outside:
  stream big     lowrank svd -k K --method randomized --stream --time --factors L R big.npy
  stream small   the same on the small file (the first --small-rows rows of the same matrix)
  memory small   lowrank svd -k K --method randomized --time --factors L R small.npy (loaded)
and prints for each: compute_seconds (the library call), passes and bytes read (--time), the peak
anonymous memory of the process (RssAnon polled every 20 ms, and VmHWM, which also counts the
program's own code), and the largest principal angle between span(R^T) and the planted V.
Deletes the files unless --keep.  The big file takes rows x cols x 4 bytes (4.8 GB by default).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, '..', 'tools', 'lowrank')
LIB = os.path.join(HERE, '..', 'lib')
SEED = 20261128
RANK = 10
CHUNK = 50000  # rows generated and written at a time


def planted(cols):
    rng = np.random.default_rng(SEED)
    v, _ = np.linalg.qr(rng.standard_normal((cols, RANK)))
    return v


def write_matrix(path, rows, cols, v):
    """Rows in chunks, each chunk from its own seed: the small file is the big one's first rows."""
    s = np.arange(20, 20 - RANK, -1, dtype=np.float64)
    header = {'descr': '<f4', 'fortran_order': False, 'shape': (rows, cols)}
    with open(path, 'wb') as f:
        np.lib.format.write_array_header_1_0(f, header)
        for c, first in enumerate(range(0, rows, CHUNK)):
            n = min(CHUNK, rows - first)
            rng = np.random.default_rng([SEED, c])
            block = (rng.standard_normal((n, RANK)) * s) @ v.T + rng.standard_normal((n, cols))
            f.write(block.astype('<f4').tobytes())


def watch(pid, peak):
    """Poll the process's RssAnon and VmHWM (kB) until it ends."""
    while True:
        try:
            with open('/proc/%d/status' % pid) as f:
                for line in f:
                    if line.startswith('RssAnon:'):
                        peak['anon'] = max(peak['anon'], int(line.split()[1]))
                    elif line.startswith('VmHWM:'):
                        peak['hwm'] = max(peak['hwm'], int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            return
        time.sleep(0.02)


def run(path, k, stream, tmp):
    left, right = os.path.join(tmp, 'L.npy'), os.path.join(tmp, 'R.npy')
    cmd = [TOOL, 'svd', '-k', str(k), '--method', 'randomized', '--time', '--factors', left,
           right, path] + (['--stream'] if stream else [])
    t0 = time.time()
    p = subprocess.Popen(cmd, env=dict(os.environ, LD_LIBRARY_PATH=LIB), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    peak = {'anon': 0, 'hwm': 0}
    w = threading.Thread(target=watch, args=(p.pid, peak))
    w.start()
    out, err = p.communicate()
    w.join()
    if p.returncode != 0:
        sys.exit('lowrank failed: %s' % err)
    info = dict(kv.split('=') for kv in err.split() if '=' in kv)
    return {'seconds': float(info['compute_seconds']), 'cpu': float(info['cpu_seconds']),
            'wall': time.time() - t0, 'passes': int(info.get('passes', 0)),
            'bytes': int(info.get('bytes_read', 0)), 'anon_mb': peak['anon'] / 1024.0,
            'hwm_mb': peak['hwm'] / 1024.0, 'r': np.load(right).astype(np.float64)}


def angle_degrees(r, v):
    q, _ = np.linalg.qr(r.T)
    cos = np.linalg.svd(q.T @ v, compute_uv=False)
    return float(np.degrees(np.arccos(min(1.0, cos.min()))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rows', type=int, default=1200000)
    ap.add_argument('--small-rows', type=int, default=120000)
    ap.add_argument('--cols', type=int, default=1000)
    ap.add_argument('--k', type=int, default=RANK)
    ap.add_argument('--dir', help='where to write the files (default: a new temporary directory)')
    ap.add_argument('--keep', action='store_true', help='keep the files (and reuse kept ones)')
    args = ap.parse_args()
    tmp = args.dir or tempfile.mkdtemp(prefix='ooc_svd.')
    os.makedirs(tmp, exist_ok=True)
    v = planted(args.cols)
    big, small = os.path.join(tmp, 'big.npy'), os.path.join(tmp, 'small.npy')
    for path, rows in ((big, args.rows), (small, args.small_rows)):
        if not (args.keep and os.path.exists(path)):
            t = time.time()
            write_matrix(path, rows, args.cols, v)
            print('# wrote %s (%d x %d float32, %.2f GB) in %.0f s'
                  % (path, rows, args.cols, os.path.getsize(path) / 1e9, time.time() - t))
    blas = os.path.realpath('/etc/alternatives/libblas.so.3-x86_64-linux-gnu')
    print('# BLAS %s; load average at start: %s' % (blas, os.getloadavg()))
    print('# %-13s %10s %10s %7s %12s %11s %9s %9s' % ('run', 'seconds', 'cpu', 'passes',
                                                     'bytes read', 'peak anon', 'VmHWM',
                                                     'angle'))
    rows = [('stream big', big, True), ('stream small', small, True),
            ('memory small', small, False)]
    for name, path, stream in rows:
        r = run(path, args.k, stream, tmp)
        print('  %-13s %9.2fs %9.2fs %7d %12d %8.0f MB %6.0f MB %8.3f deg'
              % (name, r['seconds'], r['cpu'], r['passes'], r['bytes'], r['anon_mb'],
                 r['hwm_mb'], angle_degrees(r['r'], v)), flush=True)
    print('# load average at end: %s' % (os.getloadavg(),))
    if not args.keep:
        for f in os.listdir(tmp):
            os.remove(os.path.join(tmp, f))
        if not args.dir:
            os.rmdir(tmp)


if __name__ == '__main__':
    main()
