#!/usr/bin/env python3
"""geometry.py - liblowrank's ellipsoids, lp rounding and coresets side by side
with their anchors, in one run.

    make bench && $PYTHON bench/geometry.py [--paper PATH] [--quick]

1. Minimum-volume enclosing ellipsoids of 10^4 and 10^5 Gaussian points in
   R^10 and R^50 to eps = 1e-3: lowrank_mvee against a straightforward numpy
   Khachiyan iteration with the same certified stopping rule (capped in time).
2. l1 rounding of 2000 x 30, 10000 x 100 and 30000 x 768 Gaussian matrices and
   of a real 10000 x 100 embedding matrix: Lewis weights and the ellipsoid
   method against the paper's MVEEApprox (Tukan et al. 2021, fetched, never
   committed; run with a stub cvxpy module and a time cap), time and the
   distortion max/min of ||Ax||_1 / ||Gx|| over random directions; the
   `lowrank ellipsoid -p 1` run on 10000 x 100 end to end; and both methods
   on 20000 x 50 matrices, the size the lp factorisation's tests use.
3. Coreset size against achieved error: the worst and mean relative error of
   the weighted l1 subspace cost over 50 random 3-dimensional subspaces, for
   sensitivity sampling and for uniform sampling of the same size.

The paper's code: --paper names a checkout of github.com/muradtuk/
LzModelCompression or its bare git directory; without it the script tries
`git clone`; when neither works the paper's columns say so.  The script waits
(up to --wait seconds) for the 1-minute load average to drop below 0.7 before
each section and prints the load it ran at.
"""
import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILDDIR", SRC)
BENCH = os.path.join(BUILD, "bench", "bench_geometry")
TOOL = os.path.join(BUILD, "tools", "lowrank")
ENV = dict(os.environ, LD_LIBRARY_PATH=os.path.join(BUILD, "lib"))
DATA = os.environ.get("DATA", os.path.join(SRC, "..", "shared", "data"))
PAPER_REPO = "https://github.com/muradtuk/LzModelCompression"


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def wait_quiet(limit):
    """Sleep until the 1-minute load is below 0.7 or limit seconds passed."""
    start = time.time()
    while load_average() > 0.7 and time.time() - start < limit:
        time.sleep(15)
    return load_average()


def mapped_blas():
    """The BLAS library numpy loaded into this process."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line and "/" in line}
    return ", ".join(sorted(libs)) or "?"


def run(cmd):
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True, check=True)
    return dict(kv.split("=", 1) for kv in out.stdout.split())


# ---------------------------------------------------------------- anchors

def numpy_khachiyan(points, eps, cap):
    """The textbook iteration (Khachiyan 1996, as in Moshtagh's code): every
    step solves with X(u) for all omega_i and moves weight to the largest.
    Stops at the same certificate as lowrank_mvee or after cap seconds."""
    n, d = points.shape
    q = np.vstack([points.T, np.ones(n)])
    big_d = d + 1
    thr = big_d + d * np.expm1(2 / d * np.log1p(eps))
    u = np.full(n, 1.0 / n)
    start, steps = time.time(), 0
    while True:
        x = (q * u) @ q.T
        omega = np.einsum("ij,ij->j", q, np.linalg.solve(x, q))
        j = int(np.argmax(omega))
        if omega[j] <= thr or time.time() - start > cap:
            break
        lam = (omega[j] - big_d) / (big_d * (omega[j] - 1))
        u *= 1 - lam
        u[j] += lam
        steps += 1
    reached = np.expm1(d / 2 * np.log((omega[j] - 1) / d))
    c = u @ points
    s = (points - c).T @ ((points - c) * u[:, None])
    logvol = (d / 2 * np.log(np.pi) - math.lgamma(d / 2 + 1)
              + 0.5 * np.linalg.slogdet(s)[1] + d / 2 * np.log(omega[j] - 1))
    return time.time() - start, reached, logvol, steps


PAPER_CHILD = r"""
import contextlib, io, sys, time
import numpy as np
sys.path[:0] = [sys.argv[1]]
import MVEEApprox
a = np.load(sys.argv[2]).astype(float)
cost = lambda x: np.linalg.norm(a @ x, ord=1)
start = time.time()
with contextlib.redirect_stdout(io.StringIO()):
    e, c = MVEEApprox.MVEEApprox(a, cost, maxIter=100).compute_approximated_MVEE()
print(time.time() - start)
np.save(sys.argv[3], np.linalg.pinv(e))  # G as in the paper's MainRunner
"""


def paper_code(path, tmp):
    """A directory holding MVEEApprox.py and a stub cvxpy, or None."""
    src = os.path.join(tmp, "paper")
    os.makedirs(src)
    target = os.path.join(src, "MVEEApprox.py")
    try:
        if path and os.path.isfile(os.path.join(path, "MVEEApprox.py")):
            shutil.copy(os.path.join(path, "MVEEApprox.py"), target)
        else:
            if not path:
                path = os.path.join(tmp, "clone")
                subprocess.run(["git", "clone", "-q", "--depth", "1", PAPER_REPO, path],
                               check=True, capture_output=True, timeout=120)
            gitdir = path if os.path.isdir(os.path.join(path, "objects")) else os.path.join(path, ".git")
            with open(target, "w") as f:
                subprocess.run(["git", "--git-dir", gitdir, "show", "HEAD:MVEEApprox.py"],
                               stdout=f, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    with open(os.path.join(src, "cvxpy.py"), "w") as f:
        f.write("# stub: MVEEApprox imports cvxpy; its ellipsoid method never calls it\n")
    return src


def run_paper(src, a_path, g_path, cap):
    if src is None:
        return None, "not fetched"
    try:
        out = subprocess.run([sys.executable, "-c", PAPER_CHILD, src, a_path, g_path],
                             capture_output=True, text=True, timeout=cap, check=True)
        return float(out.stdout.split()[-1]), None
    except subprocess.TimeoutExpired:
        return None, f"> {cap:.0f} s"
    except subprocess.CalledProcessError as err:
        return None, "failed: " + (err.stderr.strip().splitlines() or ["?"])[-1]


def distortion(a, g, directions, seed=1):
    """min and max of ||Ax||_1 / ||Gx||_2 over random Gaussian x."""
    x = np.random.default_rng(seed).standard_normal((a.shape[1], directions))
    r = np.abs(a @ x).sum(0) / np.linalg.norm(g @ x, axis=0)
    return r.min(), r.max()


# ---------------------------------------------------------------- sections

def mvee_section(tmp, args):
    print(f"\n## 1. Minimum-volume enclosing ellipsoid, eps = 1e-3 "
          f"(load {wait_quiet(args.wait):.2f})\n")
    print("| points | load | lowrank_mvee | certified eps | core set | numpy Khachiyan "
          "| eps reached | steps | log-volume lowrank / numpy |")
    print("|---|---|---|---|---|---|---|---|---|")
    sizes = [(10**4, 10), (10**5, 10), (10**4, 50), (10**5, 50)]
    for n, d in sizes[:2] if args.quick else sizes:
        pts = np.random.default_rng(n + d).standard_normal((n, d))
        path = os.path.join(tmp, f"p{n}_{d}.npy")
        np.save(path, pts)
        load = load_average()
        ours = run([BENCH, "mvee", path, "1e-3", "3"])
        t, reached, logvol, steps = numpy_khachiyan(pts, 1e-3, args.numpy_cap)
        capped = ">" if reached > 1e-3 else ""
        print(f"| {n} x {d} | {load:.2f} | {float(ours['seconds']):.3f} s | {float(ours['eps']):.2e} "
              f"| {ours['core']} | {capped}{t:.1f} s | {reached:.2e} | {steps} "
              f"| {float(ours['log_volume']):.4f} / {logvol:.4f} |")
        sys.stdout.flush()


def rounding_section(tmp, args, paper):
    print(f"\n## 2. l1 rounding: ||Gx|| <= ||Ax||_1 <= alpha ||Gx|| "
          f"(load {wait_quiet(args.wait):.2f})\n")
    print("| A | method | load | time | alpha | measured min..max of ||Ax||_1/||Gx|| "
          "| distortion | holds |")
    print("|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(7)
    cases = [("Gaussian 2000 x 30", rng.standard_normal((2000, 30))),
             ("Gaussian 10000 x 100", rng.standard_normal((10000, 100)))]
    embed = os.path.join(DATA, "nn", "ptb_rnnlm", "embed_W.npy")
    if os.path.exists(embed):
        cases.append(("PTB embed_W 10000 x 100 (float32)", np.load(embed)))
    if not args.quick:
        cases.append(("Gaussian 30000 x 768", rng.standard_normal((30000, 768))))
    for name, a in cases:
        path, g_path = os.path.join(tmp, "a.npy"), os.path.join(tmp, "g.npy")
        np.save(path, a)
        a64 = a.astype(float)
        directions = 10000 if a.shape[1] <= 100 else 1000
        for method in ["lewis", "lowner", "paper"]:
            load = load_average()
            if method == "paper":
                if a.shape[1] > 100 and not args.paper_big:
                    print(f"| {name} | MVEEApprox | | not run (--paper-big) | | | | |")
                    continue
                t, why = run_paper(paper, path, g_path, args.paper_cap)
                if t is None:
                    print(f"| {name} | MVEEApprox | {load:.2f} | {why} | | | | |")
                    continue
                alpha, label = None, "MVEEApprox (paper)"
            else:
                out = run([BENCH, "rounding", path, "1", method, g_path, "3"])
                t, alpha = float(out["seconds"]), float(out["alpha"])
                label = "Lewis weights" if method == "lewis" else "ellipsoid method"
            lo, hi = distortion(a64, np.load(g_path).astype(float), directions)
            tol = 1e-5 if a.dtype == np.float32 else 1e-9
            holds = "-" if alpha is None else (
                "yes" if lo >= 1 - tol and hi <= alpha * (1 + tol) else "NO")
            alpha_text = "-" if alpha is None else f"{alpha:.8g}"
            print(f"| {name} | {label} | {load:.2f} | {t:.3f} s | {alpha_text} | {lo:.3f}..{hi:.3f} "
                  f"| {hi / lo:.3f} | {holds} |")
            sys.stdout.flush()


def tool_section(tmp, args):
    print(f"\n## 2b. `lowrank ellipsoid -p 1` on 10000 x 100, end to end "
          f"(load {wait_quiet(args.wait):.2f})\n")
    a = np.random.default_rng(11).standard_normal((10000, 100))
    path, g_path = os.path.join(tmp, "a.npy"), os.path.join(tmp, "g.npy")
    np.save(path, a)
    times, load = [], load_average()
    for _ in range(5):
        start = time.time()
        out = subprocess.run([TOOL, "ellipsoid", "-p", "1", path, g_path], env=ENV,
                             capture_output=True, text=True, check=True)
        times.append(time.time() - start)
    alpha = float(out.stdout.split("=")[1])
    lo, hi = distortion(a, np.load(g_path), 10000, seed=3)
    print(f"printed {out.stdout.strip()}; wall time at load {load:.2f} (process start, read, "
          f"compute, write) median "
          f"{np.median(times):.3f} s, best {min(times):.3f} s; over 10^4 random directions "
          f"{lo:.4f} <= ||Ax||_1/||Gx|| <= {hi:.4f} (<= alpha: {hi <= alpha}, >= 1: {lo >= 1})")


def haystack(n, d, k, rng):
    """Inliers near a k-dimensional subspace (70%), outliers spread in every
    direction (15%) and near another 3-dimensional subspace (15%)."""
    u = np.linalg.qr(rng.standard_normal((d, k)))[0]
    v = np.linalg.qr(rng.standard_normal((d, 3)))[0]
    ni, no = int(0.7 * n), int(0.15 * n)
    return np.vstack([3 * rng.standard_normal((ni, k)) @ u.T + 0.05 * rng.standard_normal((ni, d)),
                      rng.standard_normal((no, d)),
                      3 * rng.standard_normal((n - ni - no, 3)) @ v.T
                      + 0.05 * rng.standard_normal((n - ni - no, d))])


def sizes_section(tmp, args):
    print(f"\n## 2c. l1 rounding at the size of the lp factorisation's test, 20000 x 50 "
          f"(load {wait_quiet(args.wait):.2f})\n")
    print("| A | method | load | time | alpha | distortion | holds |")
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(5)
    n, d = 20000, 50
    cases = [("Gaussian", rng.standard_normal((n, d))),
             ("rows scaled by exp(3 N(0,1))", rng.standard_normal((n, d)) * rng.exponential(size=(n, 1)) ** 3),
             ("haystack, k = 5, 30% outliers", haystack(n, d, 5, rng))]
    for name, a in cases:
        path, g_path = os.path.join(tmp, "a.npy"), os.path.join(tmp, "g.npy")
        np.save(path, a)
        for method in ["lewis", "lowner"]:
            load = load_average()
            out = run([BENCH, "rounding", path, "1", method, g_path, "3"])
            alpha = float(out["alpha"])
            lo, hi = distortion(a, np.load(g_path), 10000)
            holds = "yes" if lo >= 1 - 1e-9 and hi <= alpha * (1 + 1e-9) else "NO"
            print(f"| {name} | {'Lewis weights' if method == 'lewis' else 'ellipsoid method'} "
                  f"| {load:.2f} | {float(out['seconds']):.3f} s | {alpha:.6g} | {hi / lo:.3f} "
                  f"| {holds} |")
            sys.stdout.flush()


def coreset_cost(x, w, bases):
    return np.array([(w * np.linalg.norm(x - (x @ v) @ v.T, axis=1)).sum() for v in bases])


def coreset_section(tmp, args):
    print(f"\n## 3. Coresets for the l1 subspace cost: size against error over 50 random "
          f"3-dimensional subspaces (load {wait_quiet(args.wait):.2f})\n")
    rng = np.random.default_rng(3)
    heavy = rng.standard_normal((100000, 10)) * np.exp(1.5 * rng.standard_normal((100000, 1)))
    cases = [("100000 x 10, rows scaled by exp(1.5 N(0,1))", heavy)]
    embed = os.path.join(DATA, "nn", "ptb_rnnlm", "embed_W.npy")
    if os.path.exists(embed):
        cases.append(("PTB embed_W 10000 x 100", np.load(embed).astype(float)))
    print("| A | m | rows kept | sensitivity: worst / mean error | uniform: worst / mean error |")
    print("|---|---|---|---|---|")
    for name, a in cases:
        path = os.path.join(tmp, "c.npy")
        np.save(path, a)
        n, d = a.shape
        bases = [np.linalg.qr(rng.standard_normal((d, 3)))[0] for _ in range(50)]
        full = coreset_cost(a, 1.0, bases)
        for m in [250, 500, 1000, 2000, 4000, 8000]:
            idx_path, w_path = os.path.join(tmp, "i.npy"), os.path.join(tmp, "w.npy")
            subprocess.run([TOOL, "coreset", "-p", "1", "-m", str(m), "--seed", "5", path,
                            idx_path, w_path], env=ENV, check=True, capture_output=True)
            idx, w = np.load(idx_path), np.load(w_path)
            err = np.abs(coreset_cost(a[idx], w, bases) / full - 1)
            uni = rng.integers(0, n, m)
            err_u = np.abs(coreset_cost(a[uni], n / m, bases) / full - 1)
            print(f"| {name} | {m} | {len(idx)} | {err.max():.4f} / {err.mean():.4f} "
                  f"| {err_u.max():.4f} / {err_u.mean():.4f} |")
            sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paper", help="checkout or git directory of LzModelCompression")
    parser.add_argument("--paper-cap", type=float, default=600, help="seconds per MVEEApprox run")
    parser.add_argument("--paper-big", action="store_true", help="also run MVEEApprox on 768 columns")
    parser.add_argument("--numpy-cap", type=float, default=120, help="seconds per numpy Khachiyan run")
    parser.add_argument("--wait", type=float, default=1800, help="longest wait for a quiet machine")
    parser.add_argument("--quick", action="store_true", help="the small cases only")
    parser.add_argument("--only", default="mvee,rounding,tool,sizes,coreset",
                        help="comma-separated sections to run (default: all)")
    args = parser.parse_args()
    blas = run([BENCH, "blas"]).get("blas", "?")
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    print(f"# liblowrank geometry benchmark, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"CPU {cpu} x {os.cpu_count()}; liblowrank's BLAS {blas}; numpy {np.__version__} "
          f"with {mapped_blas()}")
    tmp = tempfile.mkdtemp(prefix="lowrank-bench-")
    try:
        only = args.only.split(",")
        if "mvee" in only:
            mvee_section(tmp, args)
        if "rounding" in only:
            rounding_section(tmp, args, paper_code(args.paper, tmp))
        if "tool" in only:
            tool_section(tmp, args)
        if "sizes" in only:
            sizes_section(tmp, args)
        if "coreset" in only:
            coreset_section(tmp, args)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
