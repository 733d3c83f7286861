#!/usr/bin/env python3
"""mpi.py - liblowrank_mpi against the single-process library and against
ScaLAPACK's pdgesvd, on the same matrices, in one run (bench/mpi.sh builds
everything first).

    bench/mpi.sh [--ranks 4] [--rounds 3] [--coreset-ranks 16] [--wait SECONDS]
                 [--quick] [--only svd,pdgesvd,lp,coreset]

svd      `mpirun -np R lowrank-mpi svd -k 20` (exact and randomized) against
         `lowrank svd -k 20` on two 40000 x 500 float64 matrices: 500 frames
         of CDnet's highway video (a 200 x 200 grey crop, one frame per
         column: ../shared/data) and a synthetic one with singular values
         1/i.  The largest difference of the singular values (the column norms
         of L = U S) over sigma_1, each side's against LAPACK's (numpy); the
         bytes the library counted, and Open MPI's own count of every byte
         sent (pml monitoring: the library's, MPI_Comm_dup's, the tool's
         gather of L); the time of the library call (median of --rounds).
pdgesvd  ScaLAPACK's pdgesvd on the same matrices and ranks (a R x 1 grid,
         blocks of 64), singular values only and with U and V^T: time, bytes
         (monitoring), the values against LAPACK's.
lp       `lowrank-mpi lp -k 5 -p 1` on a 40000 x 50 haystack (bench/lp_data.py,
         as tests/test_lp.sh builds it) with 2 and R ranks against
         `lowrank lp -k 5 -p 1`: the largest angle to the planted subspace,
         the cost on all the rows over the single process's, the bytes.
coreset  the same with --coreset-ranks ranks (16: more than the four
         ranks' fits that reach the root, so that merges must choose among
         them by their cost on a coreset) for coresets of 125 to 4000 rows and
         three seeds: how the default size (10 n = 500) was chosen.

Ranks run with OPENBLAS_NUM_THREADS=1, the single process with the BLAS's
default threads.  With more ranks than cores (--oversubscribe) the times
measure the machine's sharing as much as the algorithms; the bytes do not
depend on it.  The load is printed before every section.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import geometry  # noqa: E402  (the load, the build directory)
import lp_data  # noqa: E402

BUILD = geometry.BUILD
TOOL = os.path.join(BUILD, "tools", "lowrank")
MPI_TOOL = os.path.join(BUILD, "tools", "lowrank-mpi")
PDGESVD = os.path.join(BUILD, "bench", "bench_pdgesvd")
ENV = dict(os.environ, LD_LIBRARY_PATH=os.path.join(BUILD, "lib") + ":" + os.path.join(BUILD, "mpi"),
           OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
RANK_ENV = dict(ENV, OPENBLAS_NUM_THREADS="1")


def header(title):
    print("\n## %s (load %.2f)\n" % (title, geometry.load_average()), flush=True)


def mpirun(ranks, argv, monitor=None):
    """Run argv on ranks ranks; with monitor (a path prefix), Open MPI counts
    every byte each rank sends.  Returns (stdout, stderr)."""
    cmd = ["mpirun", "--oversubscribe", "-np", str(ranks)]
    if monitor:
        cmd += ["--mca", "pml_monitoring_enable", "1", "--mca", "pml_monitoring_enable_output", "3",
                "--mca", "pml_monitoring_filename", monitor]
    out = subprocess.run(cmd + argv, env=RANK_ENV, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(argv), out.stdout, out.stderr))
    return out.stdout, out.stderr


def monitored(prefix, ranks):
    """The bytes and messages all ranks sent, from Open MPI's pml monitoring
    files (with monitoring enabled at 1, the E lines hold every message,
    collectives' included)."""
    total = messages = 0
    for r in range(ranks):
        path = "%s.%d.prof" % (prefix, r)
        with open(path) as f:
            for line in f:
                if line.startswith("E\t"):
                    fields = line.split()
                    total += int(fields[3])
                    messages += int(fields[5])
        os.remove(path)
    return total, messages


def values(name, key):
    """key=value from the tool's output."""
    return float(re.search(r"\b%s=([-0-9.e+]+)" % key, name).group(1))


def sigma(l_path):
    """The singular values of factors L = U S: the column norms of L."""
    return np.linalg.norm(np.load(l_path), axis=0)


def video_matrix(path):
    """500 frames (470..969) of CDnet highway, a 200 x 200 grey crop each, as
    the columns of a 40000 x 500 float64 matrix."""
    import cv2
    frames = []
    for i in range(470, 970):
        img = cv2.imread(os.path.join(geometry.DATA, "highway", "input", "in%06d.jpg" % i),
                         cv2.IMREAD_GRAYSCALE)
        if img is None:
            sys.exit("cannot read the highway frames under %s" % geometry.DATA)
        frames.append(img[20:220, 60:260].astype(np.float64).ravel())
    np.save(path, np.stack(frames, axis=1))


def synthetic_matrix(path, m, n):
    """m x n with singular values 1/i and random singular vectors."""
    rng = np.random.default_rng(7)
    u = np.linalg.qr(rng.standard_normal((m, n)))[0]
    v = np.linalg.qr(rng.standard_normal((n, n)))[0]
    np.save(path, (u / np.arange(1, n + 1)) @ v.T)


# ------------------------------------------------------------ the cost model

def model_bytes(method, n, k, ranks, p=20, q=2):
    """The payload docs/mpi.md's model predicts for lowrank_mpi_svd, in bytes
    (the headers and the setup add a few hundred bytes per edge)."""
    if method == "exact":
        words = n * (n + 1) / 2 + 3 * n * k + k * (k + 1) / 2 + k * k + k
    else:
        b = k + p
        L = (q + 1) * b
        words = n * b * (2 * q + 1) + L * (L + 1) / 2 + n * k + L * k + L
    return (ranks - 1) * 8 * words


# ------------------------------------------------------------ sections

def svd_section(args, tmp, matrices):
    header("SVD, k = 20, %d ranks against one process" % args.ranks)
    print("| matrix | method | max abs(s_mpi - s_1proc) / s_1 | 1 proc vs LAPACK | %d ranks vs "
          "LAPACK | bytes (library) | share of the matrix | model | bytes (Open MPI) | "
          "1 proc s | %d ranks s |" % (args.ranks, args.ranks))
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, path in matrices:
        a = np.load(path)
        m, n = a.shape
        exact = np.linalg.svd(a, compute_uv=False)[:20]
        for method in ("exact", "randomized"):
            l1, r1 = os.path.join(tmp, "l1.npy"), os.path.join(tmp, "r1.npy")
            lm, rm = os.path.join(tmp, "lm.npy"), os.path.join(tmp, "rm.npy")
            times1, timesm = [], []
            for rnd in range(args.rounds):  # interleaved
                out = subprocess.run([TOOL, "svd", "-k", "20", "--method", method, "--time", path,
                                      "--factors", l1, r1], env=ENV, capture_output=True,
                                     text=True, check=True)
                times1.append(values(out.stderr, "compute_seconds"))
                mon = os.path.join(tmp, "mon") if rnd == 0 else None
                so, se = mpirun(args.ranks, [MPI_TOOL, "svd", "-k", "20", "--method", method,
                                             "--time", path, "--factors", lm, rm], mon)
                timesm.append(values(se, "compute_seconds"))
                if rnd == 0:
                    counted, gathered = values(so, "bytes_communicated"), values(so, "bytes_gathered_for_L")
                    total = monitored(mon, args.ranks)[0]
            s1, sm = sigma(l1), sigma(lm)
            print("| %s | %s | %.1e | %.1e | %.1e | %d | %.2f%% | %d | %d (%d gathering L) | %.3f | "
                  "%.3f |" % (name, method, np.abs(sm - s1).max() / s1[0],
                              np.abs(s1 - exact).max() / exact[0],
                              np.abs(sm - exact).max() / exact[0], counted,
                              100 * counted / (8 * m * n), model_bytes(method, n, 20, args.ranks),
                              total, gathered, np.median(times1), np.median(timesm)), flush=True)


def pdgesvd_section(args, tmp, matrices):
    header("ScaLAPACK pdgesvd, %d x 1 grid, blocks of 64" % args.ranks)
    if not os.path.exists(PDGESVD):
        print("not built: apt-get install libscalapack-openmpi-dev, then make bench")
        return
    print("| matrix | computes | s vs LAPACK | bytes (Open MPI) | share of the matrix | messages | "
          "seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, path in matrices:
        a = np.load(path)
        exact = np.linalg.svd(a, compute_uv=False)
        for vectors in (0, 1):
            mon, s_path = os.path.join(tmp, "pmon"), os.path.join(tmp, "s.npy")
            argv = [PDGESVD, path, "--values", s_path] + (["--vectors"] if vectors else [])
            so, _ = mpirun(args.ranks, argv, mon)
            total, messages = monitored(mon, args.ranks)
            s = np.load(s_path).ravel()
            print("| %s | %s | %.1e | %d | %.2f%% | %d | %.3f |" % (
                name, "U, S, V^T" if vectors else "S", np.abs(s - exact).max() / exact[0], total,
                100 * total / (8 * a.size), messages, values(so, "seconds")), flush=True)


def lp_run(ranks, path, tmp, extra=()):
    """lowrank-mpi lp -k 5 -p 1: (cost, seconds, bytes, basis of R, output)."""
    l_path, r_path = os.path.join(tmp, "hl.npy"), os.path.join(tmp, "hr.npy")
    so, se = mpirun(ranks, [MPI_TOOL, "lp", "-k", "5", "-p", "1", "--time", path, "--factors",
                            l_path, r_path] + list(extra))
    return (values(so, "cost"), values(se, "compute_seconds"), values(so, "bytes_communicated"),
            np.linalg.qr(np.load(r_path).T)[0], so)


def lp_section(args, tmp, path, truth):
    u, matrix_bytes = np.load(truth), os.path.getsize(path) - 128
    header("lp, k = 5, p = 1, haystack %d x 50 (30%% outliers)" % (matrix_bytes // 400))
    l_path, r_path = os.path.join(tmp, "hl1.npy"), os.path.join(tmp, "hr1.npy")
    out = subprocess.run([TOOL, "lp", "-k", "5", "-p", "1", "--time", path, "--factors", l_path,
                          r_path], env=ENV, capture_output=True, text=True, check=True)
    cost1, sec1 = values(out.stdout, "cost"), values(out.stderr, "compute_seconds")
    angle1 = lp_data.largest_angle(u, np.linalg.qr(np.load(r_path).T)[0])
    print("| ranks | largest angle to the planted subspace | cost / 1 process's | bytes | share "
          "of the matrix | fit from | seconds |")
    print("|---|---|---|---|---|---|---|")
    print("| 1 process (lowrank lp) | %.3f deg | 1 | | | | %.3f |" % (angle1, sec1))
    for ranks in sorted({2, args.ranks}):
        cost, sec, counted, basis, so = lp_run(ranks, path, tmp)
        print("| %d | %.3f deg | %.6f | %d | %.2f%% | rank %d | %.3f |" % (
            ranks, lp_data.largest_angle(u, basis), cost / cost1, counted,
            100 * counted / matrix_bytes, values(so, "fit_from_rank"), sec), flush=True)
    return cost1


def coreset_section(args, tmp, path, truth, cost1):
    u, matrix_bytes = np.load(truth), os.path.getsize(path) - 128
    ranks = args.coreset_ranks
    header("lp coreset size, %d ranks, haystack %d x 50" % (ranks, matrix_bytes // 400))
    print("| rows per coreset | seed | coreset rows | fit from | largest angle | cost / 1 "
          "process's | bytes | share of the matrix |")
    print("|---|---|---|---|---|---|---|---|")
    for size in (125, 250, 500, 1000, 2000, 4000):
        for seed in (1, 2, 3):
            cost, _, counted, basis, so = lp_run(ranks, path, tmp, ["--coreset-size", str(size),
                                                                    "--seed", str(seed)])
            print("| %d | %d | %d | %d | %.3f deg | %.6f | %d | %.2f%% |" % (
                size, seed, values(so, "coreset_rows"), values(so, "fit_from_rank"),
                lp_data.largest_angle(u, basis), cost / cost1, counted,
                100 * counted / matrix_bytes), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--coreset-ranks", type=int, default=16)
    parser.add_argument("--wait", type=float, default=0,
                        help="wait up to this many seconds for the load to drop below 0.7")
    parser.add_argument("--quick", action="store_true", help="4000-row matrices, one round")
    parser.add_argument("--only", default="svd,pdgesvd,lp,coreset")
    args = parser.parse_args()
    only = args.only.split(",")
    if args.quick:
        args.rounds = 1
    rows = 4000 if args.quick else 40000
    print("# liblowrank_mpi, %d ranks (%d cores), BLAS %s, Open MPI %s" % (
        args.ranks, os.cpu_count(), os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"),
        subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout.split()[3]))
    with tempfile.TemporaryDirectory() as tmp:
        matrices = []
        if "svd" in only or "pdgesvd" in only:
            video, synth = os.path.join(tmp, "video.npy"), os.path.join(tmp, "synthetic.npy")
            video_matrix(video)
            if args.quick:
                np.save(video, np.ascontiguousarray(np.load(video)[:rows]))
            synthetic_matrix(synth, rows, 500)
            matrices = [("highway %d x 500" % rows, video), ("1/i %d x 500" % rows, synth)]
        geometry.wait_quiet(args.wait)
        if "svd" in only:
            svd_section(args, tmp, matrices)
        if "pdgesvd" in only:
            pdgesvd_section(args, tmp, matrices)
        if "lp" in only or "coreset" in only:
            hay, truth = os.path.join(tmp, "hay.npy"), os.path.join(tmp, "hayu.npy")
            a, u = lp_data.haystack(rows, 50, 5, 0.3, 1)
            np.save(hay, a)
            np.save(truth, u)
            cost1 = lp_section(args, tmp, hay, truth)
            if "coreset" in only:
                coreset_section(args, tmp, hay, truth, cost1)


if __name__ == "__main__":
    main()
