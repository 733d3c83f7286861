"""mvee_check.py - independent checks of `lowrank mvee` for test_mvee.sh.

    mvee_check.py make POINTS.npy         random points (400 x 4, anisotropic, shifted)
    mvee_check.py verify POINTS.npy CENTER.npy SHAPE.npy EPS LOG_VOLUME

verify: every point inside (to 1e-9), the printed log-volume is that of the
shape, and it lies within log(1 + EPS) above the optimum found by a long
numpy run of Khachiyan's algorithm with Todd-Yildirim away steps, started
from uniform weights (written from the papers, sharing no code with the
library), whose own duality gap is below 1e-9.
"""
import sys
from math import lgamma, log, pi

import numpy as np


def optimum(points, gap=1e-11, max_iter=200000):
    """Log-volume of the minimum-volume enclosing ellipsoid, to within gap."""
    n, d = points.shape
    q = np.hstack([points, np.ones((n, 1))])
    big_d = d + 1
    u = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        x_inv = np.linalg.inv((q * u[:, None]).T @ q)
        omega = np.einsum("ij,jk,ik->i", q, x_inv, q)
        j = int(np.argmax(omega))
        live = np.flatnonzero(u > 0)
        k = int(live[np.argmin(omega[live])])
        up, down = omega[j] - big_d, big_d - omega[k]
        if up < gap and down < gap:
            break
        if up >= down:
            lam = up / (big_d * (omega[j] - 1))
            u *= 1 - lam
            u[j] += lam
        else:
            lam = min(down / (big_d * (omega[k] - 1)), u[k] / (1 - u[k]))
            u *= 1 + lam
            u[k] = max(u[k] - lam, 0.0)
    c = u @ points
    s = (points - c).T @ ((points - c) * u[:, None])
    # the dual bound: no enclosing ellipsoid is smaller than {(x-c)^T S^-1 (x-c) <= d}
    lower = d / 2 * log(pi) - lgamma(d / 2 + 1) + 0.5 * np.linalg.slogdet(d * s)[1]
    r2 = np.einsum("ij,jk,ik->i", points - c, np.linalg.inv(s), points - c).max()
    upper = lower + d / 2 * log(r2 / d)
    assert upper - lower < 1e-9, f"reference did not converge: gap {upper - lower}"
    return lower


def main():
    if sys.argv[1] == "make":
        rng = np.random.default_rng(2026)
        pts = rng.standard_normal((400, 4)) @ np.diag([1.0, 3.0, 0.2, 8.0]) + [5, -1, 0, 2]
        pts[:50] = rng.standard_t(2, (50, 4))  # a few heavy-tailed points
        np.save(sys.argv[2], pts)
        return 0
    pts, c, q = (np.load(f) for f in sys.argv[2:5])
    eps, printed = float(sys.argv[5]), float(sys.argv[6])
    c = c.ravel()
    levels = np.einsum("ij,jk,ik->i", pts - c, q, pts - c)
    d = pts.shape[1]
    from_shape = d / 2 * log(pi) - lgamma(d / 2 + 1) - 0.5 * np.linalg.slogdet(q)[1]
    best = optimum(pts)
    print(f"max level {levels.max():.12f}, log-volume {printed:.10f} (optimum {best:.10f}, "
          f"allowed excess {log(1 + eps):.3g}, excess {printed - best:.3g})")
    ok = levels.max() <= 1 + 1e-9 and abs(from_shape - printed) < 1e-9
    ok = ok and -1e-9 <= printed - best <= log(1 + eps) + 1e-12
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
