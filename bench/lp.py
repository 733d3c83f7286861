#!/usr/bin/env python3
"""lp.py - lowrank_lp's robust subspace recovery and speed, side by side with
the SVD and with the paper's public code, in one run.

    make && $PYTHON bench/lp.py [--paper PATH] [--quick] [--only haystack,paper]

1. The haystack (bench/lp_data.py: inliers near a k = 5 dimensional subspace,
   outliers half spread in every direction, half near another 3-dimensional
   subspace), n = 10^4 and 10^5 points in d = 10, 50 and 100 dimensions, 0 to
   60% outliers: the largest principal angle between the inliers' subspace
   and the one fitted, and the time of the library call (`--time`, median of
   three runs; one for n = 10^5), for the SVD (`lowrank svd`), the l1
   construction over the paper's ellipsoid method (`lowrank lp -p 1
   --method lowner --refine 0`) and over Lewis weights (`--method lewis
   --refine 0`), and the refined l1 fit (`lowrank lp -p 1`, default options:
   Lewis weights and IRLS).  The last column compares the l1 objective of the
   true subspace with the refined fit's: above 1, l1 itself prefers another
   subspace, and no method that minimises it can recover the inliers'.
2. The paper's MVEEApprox (Tukan et al. 2021; github.com/muradtuk/
   LzModelCompression, fetched, never committed; run with a stub cvxpy as
   bench/geometry.py does) against `lowrank lp -p 1` on haystacks of
   2000 x 10, 5000 x 20 and 20000 x 50 (30% outliers, k = 5): the time to
   the subspace (the paper's: its ellipsoid alone; the SVD of its G adds
   milliseconds) and the subspace's largest angle to the inliers'.  Its
   time grows fast with n and d, so each run is capped (--paper-cap).

The script waits (up to --wait seconds) for the 1-minute load average to drop
below 0.7 before each section, and prints the load before every row.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import geometry  # noqa: E402  (the paper's code, the load, the BLAS)
import lp_data  # noqa: E402

TOOL, ENV = geometry.TOOL, geometry.ENV


def fit(args, path, tmp, repeat):
    """Run `lowrank ARGS --time PATH --factors` repeat times: (the median
    seconds of the library call, an orthonormal basis of the right factor's
    row space)."""
    l_path, r_path = os.path.join(tmp, "l.npy"), os.path.join(tmp, "r.npy")
    seconds = []
    for _ in range(repeat):
        out = subprocess.run([TOOL] + args + ["--time", path, "--factors", l_path, r_path],
                             env=ENV, capture_output=True, text=True, check=True)
        seconds.append(float(out.stderr.split("=")[1]))
    return float(np.median(seconds)), np.linalg.qr(np.load(r_path).T)[0]


def l1_cost(a, basis):
    return np.linalg.norm(a - (a @ basis) @ basis.T, axis=1).sum()


METHODS = [("SVD", ["svd"]),
           ("l1 lowner", ["lp", "-p", "1", "--method", "lowner", "--refine", "0"]),
           ("l1 lewis", ["lp", "-p", "1", "--method", "lewis", "--refine", "0"]),
           ("l1 refined", ["lp", "-p", "1"])]


def haystack_section(tmp, args):
    k = 5
    print(f"\n## 1. The haystack, k = {k} (load {geometry.wait_quiet(args.wait):.2f})\n")
    print("| n | d | outliers | load | " + " | ".join(f"{m} angle, time" for m, _ in METHODS)
          + " | l1 cost true / fit |")
    print("|---|---|---|---|" + "---|" * len(METHODS) + "---|")
    sizes = [(10**4, 10), (10**4, 50), (10**4, 100), (10**5, 10), (10**5, 50), (10**5, 100)]
    fractions = [0.0, 0.15, 0.3, 0.45, 0.6]
    if args.quick:
        sizes, fractions = sizes[:2], [0.0, 0.3, 0.6]
    path = os.path.join(tmp, "h.npy")
    for n, d in sizes:
        for frac in fractions:
            a, u = lp_data.haystack(n, d, k, frac, 1)
            np.save(path, a)
            load = geometry.load_average()
            cells = []
            for name, cmd in METHODS:  # the refined fit last
                seconds, basis = fit(cmd + ["-k", str(k)], path, tmp, 3 if n <= 10**4 else 1)
                cells.append(f"{lp_data.largest_angle(u, basis):.2f}° {seconds:.3f} s")
            ratio = l1_cost(a, u) / l1_cost(a, basis)
            print(f"| {n} | {d} | {frac:.0%} | {load:.2f} | " + " | ".join(cells)
                  + f" | {ratio:.3f} |", flush=True)


def paper_basis(g, k):
    """The paper's subspace from its G (MainRunner's pinv of the Cholesky
    factor L of the ellipsoid's matrix, which is lower triangular, not
    symmetric): its top k right singular vectors, the k directions in which
    the ellipsoid is thinnest."""
    return np.linalg.svd(g)[2][:k].T


def paper_section(tmp, args):
    print(f"\n## 2. Against the paper's MVEEApprox (load {geometry.wait_quiet(args.wait):.2f})\n")
    paper = geometry.paper_code(args.paper, tmp)
    sizes = [(2000, 10), (5000, 20)] if args.quick else [(2000, 10), (5000, 20), (20000, 50)]
    print("| haystack, 30% outliers | method | load | time | largest angle to the inliers' "
          "subspace |")
    print("|---|---|---|---|---|")
    path, g_path = os.path.join(tmp, "a.npy"), os.path.join(tmp, "g.npy")
    ours = [(f"lowrank lp --method {m} --refine 0", ["--method", m, "--refine", "0"])
            for m in ("lowner", "lewis")] + [("lowrank lp (default: lewis, refined)", [])]
    for n, d in sizes:
        a, u = lp_data.haystack(n, d, 5, 0.3, 1)
        np.save(path, a)
        name = f"{n} x {d}"
        for label, options in ours:
            load = geometry.load_average()
            seconds, basis = fit(["lp", "-k", "5", "-p", "1"] + options, path, tmp, 3)
            print(f"| {name} | {label} | {load:.2f} | {seconds:.3f} s "
                  f"| {lp_data.largest_angle(u, basis):.2f}° |", flush=True)
        load = geometry.load_average()
        seconds, why = geometry.run_paper(paper, path, g_path, args.paper_cap)
        if seconds is None:
            print(f"| {name} | MVEEApprox (paper) | {load:.2f} | {why} | |", flush=True)
            continue
        angle = lp_data.largest_angle(u, paper_basis(np.load(g_path), 5))
        print(f"| {name} | MVEEApprox (paper), top 5 right singular vectors of G | {load:.2f} "
              f"| {seconds:.1f} s | {angle:.2f}° |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paper", help="checkout or git directory of LzModelCompression")
    parser.add_argument("--paper-cap", type=float, default=600, help="seconds per MVEEApprox run")
    parser.add_argument("--wait", type=float, default=1800, help="longest wait for a quiet machine")
    parser.add_argument("--quick", action="store_true", help="the small cases only")
    parser.add_argument("--only", default="haystack,paper")
    args = parser.parse_args()
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    ldd = subprocess.run(["ldd", TOOL], env=ENV, capture_output=True, text=True).stdout.split()
    blas = next((os.path.realpath(w) for w in ldd if "blas" in w and w.startswith("/")), "?")
    print(f"# liblowrank lp benchmark, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"CPU {cpu} x {os.cpu_count()}; the tool's BLAS {blas}; numpy {np.__version__} "
          f"with {geometry.mapped_blas()}")
    sections = {"haystack": haystack_section, "paper": paper_section}
    tmp = tempfile.mkdtemp(prefix="lowrank-lp-bench-")
    try:
        for name in args.only.split(","):
            sections[name](tmp, args)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
