#!/usr/bin/env python3
"""lp.py - lowrank_lp's robust subspace recovery and speed, side by side with
the SVD and with the paper's public code, in one run.

    make && $PYTHON bench/lp.py [--paper PATH] [--quick] [--wait S]
                                [--only issue,family,starts,sketch,entries,haystack,paper]

1. issue: issue 14's acceptance cases: a 3000 x 3000 float32 matrix whose
   rows lie near a 5-dimensional subspace (scale 10, noise 0.05) with 5% of
   them replaced by points of a 3-dimensional subspace at 6 times the scale
   (bench/lp_data.py planted, numpy's default_rng(11)): `lowrank lp -k 5 -p 1`
   and `lowrank svd -k 5 --method exact` on the same file, interleaved, three
   times each: the library call's time (--time), the process's wall time and
   peak resident memory (/usr/bin/time), the largest angle to the planted
   subspace and the l1 cost against the planted subspace's; and the 20000 x 50
   haystack of section 6 at 30% outliers, seven runs of `lowrank lp -k 5 -p 1`.
2. family: planted problems of 1000 x 50 to 3000 x 3000 with 0 to 30%
   outliers of three kinds (spread in every direction; on a 3-dimensional
   subspace at 6 times the scale; on a line at 3 times the scale), p = 1 and
   1.5, seeds 1-3: the angle and time of `lowrank lp` and `lowrank svd`, and
   the fit's cost over the planted subspace's.  A cell is a failure of the
   search when that ratio is above 1 + 1e-3; where it is below 1 and the
   angle is large, the lp objective itself prefers another subspace.
3. starts: the sensitivity to LOWRANK_OPT_STARTS (--starts 0 to 64) on the
   problems where the random starts matter (a line of outliers at 15-22%).
4. sketch: the sensitivity to LOWRANK_OPT_SKETCH_DIM on 2000 x 1000 and
   3000 x 3000 cells: cost, angle and time.
5. entries: `--objective entries` on n x n float32 matrices of rank 5 with
   10% of the entries corrupted: time, memory and error against the exact
   SVD's.
6. haystack: inliers near a k = 5 dimensional subspace, outliers half
   spread in every direction, half near another 3-dimensional subspace, n =
   10^4 and 10^5 points in d = 10, 50 and 100 dimensions, 0 to 60% outliers:
   the largest principal angle between the inliers' subspace and the one
   fitted, and the time of the library call (`--time`, median of three
   runs; one for n = 10^5), for the SVD (`lowrank svd`), the l1
   construction over the paper's ellipsoid method (`lowrank lp -p 1
   --method lowner --refine 0`) and over Lewis weights (`--method lewis
   --refine 0`), and the refined l1 fit (`lowrank lp -p 1`, default options).
   The last column compares the l1 objective of the true subspace with the
   refined fit's: above 1, l1 itself prefers another subspace, and no method
   that minimises it can recover the inliers'.
7. paper: the paper's MVEEApprox (Tukan et al. 2021; github.com/muradtuk/
   LzModelCompression, fetched, never committed; run with a stub cvxpy as
   bench/geometry.py does) against `lowrank lp -p 1` on haystacks of
   2000 x 10, 5000 x 20 and 20000 x 50 (30% outliers, k = 5): the time to
   the subspace (the paper's: its ellipsoid alone; the SVD of its G adds
   milliseconds) and the subspace's largest angle to the inliers'.  Its
   time grows fast with n and d, so each run is capped (--paper-cap).

The script waits (up to --wait seconds) for the 1-minute load average to drop
below 0.7 before each section, and prints the load before every row; times
compared in a table are measured in the same run, interleaved.
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
        seconds.append(float(out.stderr.strip().splitlines()[-1].split("=")[1]))
    return float(np.median(seconds)), np.linalg.qr(np.load(r_path).T)[0]


def l1_cost(a, basis):
    return np.linalg.norm(a - (a @ basis) @ basis.T, axis=1).sum()


def lp_cost(a, basis, p):
    return (np.linalg.norm(a - (a @ basis) @ basis.T, axis=1) ** p).sum()


def measured(args, path, tmp):
    """`lowrank ARGS --time PATH --factors` under /usr/bin/time: (the library
    call's seconds, the process's wall seconds, its peak resident memory in
    bytes, an orthonormal basis of the right factor's row space, the
    process's CPU seconds, all threads)."""
    l_path, r_path = os.path.join(tmp, "l.npy"), os.path.join(tmp, "r.npy")
    stats = os.path.join(tmp, "time.txt")
    out = subprocess.run(["/usr/bin/time", "-o", stats, "-f", "%e %M %U %S", TOOL] + args
                         + ["--time", path, "--factors", l_path, r_path],
                         env=ENV, capture_output=True, text=True, check=True)
    wall, kb, user, system = open(stats).read().split()[-4:]
    seconds = float(out.stderr.strip().splitlines()[-1].split("=")[1])
    return seconds, float(wall), 1024 * int(kb), \
        np.linalg.qr(np.load(r_path).T.astype(np.float64))[0], float(user) + float(system)


def issue_section(tmp, args):
    print(f"\n## 1. Issue 14's acceptance case (load {geometry.wait_quiet(args.wait):.2f})\n")
    n = 1000 if args.quick else 3000
    a, u = lp_data.planted(n, n, 5, 0.05, "structured", 11, dtype=np.float32)
    path = os.path.join(tmp, "issue.npy")
    np.save(path, a)
    size = a.nbytes
    a = a.astype(np.float64)
    planted_cost = l1_cost(a, u)
    print(f"{n} x {n} float32 ({size / 1e6:.1f} MB), 5% of the rows on a 3-dimensional "
          f"subspace at 6 times the scale; planted subspace's l1 cost {planted_cost:.1f}\n")
    print("| run | command | load | library call | wall | CPU | peak memory / input | angle | "
          "l1 cost / planted |")
    print("|---|---|---|---|---|---|---|---|---|")
    ratios, cpu_ratios = [], []
    for run in range(3):
        times, cpu = {}, {}
        for name, cmd in (("svd exact", ["svd", "-k", "5", "--method", "exact"]),
                          ("lp", ["lp", "-k", "5", "-p", "1"])):
            load = geometry.load_average()
            seconds, wall, rss, basis, cpu[name] = measured(cmd, path, tmp)
            times[name] = seconds
            print(f"| {run + 1} | lowrank {' '.join(cmd)} | {load:.2f} | {seconds:.3f} s | "
                  f"{wall:.2f} s | {cpu[name]:.2f} s | {rss / 1e6:.0f} MB = {rss / size:.2f} | "
                  f"{lp_data.largest_angle(u, basis):.3f}° | "
                  f"{l1_cost(a, basis) / planted_cost:.5f} |", flush=True)
        ratios.append(times["lp"] / times["svd exact"])
        cpu_ratios.append(cpu["lp"] / cpu["svd exact"])
    print(f"\nlp / exact SVD time, library call: {', '.join(f'{r:.2f}' for r in ratios)} "
          f"(median {np.median(ratios):.2f}); process CPU time: "
          f"{', '.join(f'{r:.2f}' for r in cpu_ratios)} (median {np.median(cpu_ratios):.2f})")
    # issue 14's third check: the 20000 x 50 haystack of issue 5 (30% outliers), as fast as before
    a, u = lp_data.haystack(20000, 50, 5, 0.3, 1)
    np.save(path, a)
    runs = [measured(["lp", "-k", "5", "-p", "1"], path, tmp) for _ in range(7)]
    seconds = sorted(r[0] for r in runs)
    cpu = sorted(r[4] for r in runs)
    print(f"\nThe 20000 x 50 haystack (30% outliers), `lowrank lp -k 5 -p 1`, 7 runs at load "
          f"{geometry.load_average():.2f}: library call min {seconds[0]:.3f} s, median "
          f"{seconds[3]:.3f} s (process CPU min {cpu[0]:.2f} s); largest angle "
          f"{lp_data.largest_angle(u, runs[0][3]):.3f}°")


# The family of planted problems: (label, kind, outlier dimension, ratio).
KINDS = [("spread", "spread", 3, 6.0), ("subspace x6", "structured", 3, 6.0),
         ("line x3", "structured", 1, 3.0)]


def family_cells(args):
    sizes = [(1000, 50), (2000, 200), (2000, 1000), (3000, 3000)]
    fractions = [0.0, 0.05, 0.1, 0.2, 0.3]
    seeds = [1, 2, 3]
    if args.quick:
        sizes, fractions, seeds = sizes[:2], [0.0, 0.1, 0.2], [1]
    for m, d in sizes:
        for label, kind, od, ratio in KINDS:
            for frac in fractions:
                if frac == 0 and label != "spread":
                    continue  # no outliers: one row per size
                yield m, d, label, kind, od, ratio, frac, seeds


def family_section(tmp, args):
    print(f"\n## 2. Planted problems (load {geometry.wait_quiet(args.wait):.2f})\n")
    print("k = 5; each cell over seeds 1-3: the largest angle (worst seed), the time (median), "
          "the lp fit's cost over the planted subspace's (highest); `lowrank lp` default "
          "options, `lowrank svd` default (auto) and `--method exact`.\n")
    print("| size | outliers | fraction | p | load | lp angle | lp time | lp cost / planted | "
          "SVD angle | SVD time | exact SVD time |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    path = os.path.join(tmp, "family.npy")
    above = 0
    for m, d, label, kind, od, ratio, frac, seeds in family_cells(args):
        for p in (1.0, 1.5):
            load = geometry.load_average()
            angles, times, costs, sangles, stimes, etimes = [], [], [], [], [], []
            for seed in seeds:
                a, u = lp_data.planted(m, d, 5, frac, kind, seed, ratio=ratio, outlier_dim=od,
                                       dtype=np.float32)
                np.save(path, a)
                a = a.astype(np.float64)
                seconds, basis = fit(["lp", "-k", "5", "-p", f"{p:g}"], path, tmp, 1)
                angles.append(lp_data.largest_angle(u, basis))
                times.append(seconds)
                costs.append(lp_cost(a, basis, p) / lp_cost(a, u, p))
                seconds, basis = fit(["svd", "-k", "5"], path, tmp, 1)
                sangles.append(lp_data.largest_angle(u, basis))
                stimes.append(seconds)
                etimes.append(fit(["svd", "-k", "5", "--method", "exact"], path, tmp, 1)[0])
            worst = max(costs)
            above += worst > 1 + 1e-3
            flag = " (above)" if worst > 1 + 1e-3 else ""
            print(f"| {m} x {d} | {label} | {frac:.0%} | {p:g} | {load:.2f} | {max(angles):.2f}° | "
                  f"{np.median(times):.3f} s | {worst:.4f}{flag} | {max(sangles):.2f}° | "
                  f"{np.median(stimes):.3f} s | {np.median(etimes):.3f} s |", flush=True)
    print(f"\ncells where the fit costs more than 1.001 times the planted subspace: {above}")


def starts_section(tmp, args):
    print(f"\n## 3. Sensitivity to the number of random starts "
          f"(load {geometry.wait_quiet(args.wait):.2f})\n")
    counts = [0, 2, 4, 8, 16, 32, 64]
    seeds = range(1, 4 if args.quick else 11)
    cells = [(2000, 200, f) for f in (0.15, 0.18, 0.2, 0.22)] + [(2000, 1000, 0.2)]
    print(f"A line of outliers at 3 times the scale, k = 5, p = 1, seeds 1-{max(seeds)}: how many "
          "fits end above 1.001 times the planted subspace's cost, and the median time.\n")
    print("| size | fraction | load | " + " | ".join(f"--starts {c}" for c in counts) + " |")
    print("|---|---|---|" + "---|" * len(counts))
    path = os.path.join(tmp, "starts.npy")
    for m, d, frac in cells:
        load = geometry.load_average()
        above = {c: 0 for c in counts}
        times = {c: [] for c in counts}
        for seed in seeds:
            a, u = lp_data.planted(m, d, 5, frac, "structured", seed, ratio=3.0, outlier_dim=1)
            np.save(path, a)
            planted = l1_cost(a, u)
            for c in counts:
                seconds, basis = fit(["lp", "-k", "5", "-p", "1", "--starts", str(c)], path, tmp,
                                     1)
                above[c] += l1_cost(a, basis) > (1 + 1e-3) * planted
                times[c].append(seconds)
        print(f"| {m} x {d} | {frac:.0%} | {load:.2f} | " + " | ".join(
            f"{above[c]}/{len(seeds)}, {np.median(times[c]):.3f} s" for c in counts) + " |",
            flush=True)


def sketch_section(tmp, args):
    print(f"\n## 4. Sensitivity to the sketch's dimension "
          f"(load {geometry.wait_quiet(args.wait):.2f})\n")
    dims = [0, 10, 18, 26, 52, 104]
    sizes = [(2000, 1000)] + ([] if args.quick else [(3000, 3000)])
    print("k = 5, p = 1, 5% and 10% outliers on a 3-dimensional subspace at 6 times the scale; "
          "--sketch-dim 0 fits in the points' own span; the default is 2k + 16 = 26.  Each cell: "
          "angle, cost over the planted subspace's, time.\n")
    print("| size | fraction | load | " + " | ".join(f"--sketch-dim {r}" for r in dims) + " |")
    print("|---|---|---|" + "---|" * len(dims))
    path = os.path.join(tmp, "sketch.npy")
    for m, d in sizes:
        for frac in (0.05, 0.1):
            a, u = lp_data.planted(m, d, 5, frac, "structured", 1, dtype=np.float32)
            np.save(path, a)
            a = a.astype(np.float64)
            planted = l1_cost(a, u)
            load = geometry.load_average()
            cells = []
            for r in dims:
                if r == 0 and d > 1000:
                    cells.append("(skipped: O(d^3) per step)")
                    continue
                seconds, basis = fit(["lp", "-k", "5", "-p", "1", "--sketch-dim", str(r)], path,
                                     tmp, 1)
                cells.append(f"{lp_data.largest_angle(u, basis):.2f}°, "
                             f"{l1_cost(a, basis) / planted:.5f}, {seconds:.3f} s")
            print(f"| {m} x {d} | {frac:.0%} | {load:.2f} | " + " | ".join(cells) + " |",
                  flush=True)


def entries_section(tmp, args):
    print(f"\n## 5. The entry-wise objective on large matrices "
          f"(load {geometry.wait_quiet(args.wait):.2f})\n")
    sizes = [1000, 2000] if args.quick else [1000, 2000, 3000]
    print("n x n float32 of rank 5 (N(0, 1) factors), 10% of the entries replaced by values of "
          "size 20-60: `lowrank lp -k 5 -p 1 --objective entries` against `lowrank svd -k 5 "
          "--method exact`, interleaved; error = ||fit - clean||_F / ||clean||_F.\n")
    print("| n | input | command | load | library call | wall | CPU | peak memory / input | error |")
    print("|---|---|---|---|---|---|---|---|---|")
    path = os.path.join(tmp, "entries.npy")
    for n in sizes:
        a, clean = lp_data.corrupted(n, n, 5, 0.1, 1)
        np.save(path, a.astype(np.float32))
        size = 4 * n * n
        for name, cmd in (("svd exact", ["svd", "-k", "5", "--method", "exact"]),
                          ("lp entries", ["lp", "-k", "5", "-p", "1", "--objective", "entries"])):
            load = geometry.load_average()
            seconds, wall, rss, _, cpu = measured(cmd, path, tmp)
            fitted = np.load(os.path.join(tmp, "l.npy")).astype(np.float64) \
                @ np.load(os.path.join(tmp, "r.npy")).astype(np.float64)
            error = np.linalg.norm(fitted - clean) / np.linalg.norm(clean)
            print(f"| {n} | {size / 1e6:.0f} MB | lowrank {' '.join(cmd)} | {load:.2f} | "
                  f"{seconds:.3f} s | {wall:.2f} s | {cpu:.2f} s | {rss / 1e6:.0f} MB = "
                  f"{rss / size:.2f} | {error:.2e} |", flush=True)


METHODS = [("SVD", ["svd"]),
           ("l1 lowner", ["lp", "-p", "1", "--method", "lowner", "--refine", "0"]),
           ("l1 lewis", ["lp", "-p", "1", "--method", "lewis", "--refine", "0"]),
           ("l1 refined", ["lp", "-p", "1"])]


def haystack_section(tmp, args):
    k = 5
    print(f"\n## 6. The haystack, k = {k} (load {geometry.wait_quiet(args.wait):.2f})\n")
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
    print(f"\n## 7. Against the paper's MVEEApprox (load {geometry.wait_quiet(args.wait):.2f})\n")
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
    parser.add_argument("--only", default="issue,family,starts,sketch,entries,haystack,paper")
    args = parser.parse_args()
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    ldd = subprocess.run(["ldd", TOOL], env=ENV, capture_output=True, text=True).stdout.split()
    blas = next((os.path.realpath(w) for w in ldd if "blas" in w and w.startswith("/")), "?")
    print(f"# liblowrank lp benchmark, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"CPU {cpu} x {os.cpu_count()}; the tool's BLAS {blas}; numpy {np.__version__} "
          f"with {geometry.mapped_blas()}")
    sections = {"issue": issue_section, "family": family_section, "starts": starts_section,
                "sketch": sketch_section, "entries": entries_section,
                "haystack": haystack_section, "paper": paper_section}
    tmp = tempfile.mkdtemp(prefix="lowrank-lp-bench-")
    try:
        for name in args.only.split(","):
            sections[name](tmp, args)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
