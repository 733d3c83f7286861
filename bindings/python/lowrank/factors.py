"""Low-rank factors (lowrank_factors_*), the truncated SVD (lowrank_svd,
lowrank_svd_op) and the robust lp approximation (lowrank_lp, lowrank_lp_op,
lowrank_lp_cost)."""
import ctypes

import numpy as np

from ._core import OBJECTIVES, Matrix, Options, check, declare, int64, lib, to_numpy
from .operator import as_operator

_vp = ctypes.c_void_p
declare('lowrank_factors_free', None, _vp)
for _acc in ('rank', 'rows', 'cols'):
    declare('lowrank_factors_' + _acc, ctypes.c_int64, _vp)
for _acc in ('u', 's', 'vt'):
    declare('lowrank_factors_' + _acc, _vp, _vp)
declare('lowrank_factors_split', ctypes.c_int, _vp, ctypes.c_int, ctypes.POINTER(_vp),
        ctypes.POINTER(_vp))
declare('lowrank_factors_reconstruct', ctypes.c_int, _vp, _vp)
declare('lowrank_factors_error', ctypes.c_int, _vp, ctypes.POINTER(ctypes.c_double))
declare('lowrank_svd', ctypes.c_int, _vp, ctypes.c_int64, _vp, ctypes.POINTER(_vp))
declare('lowrank_svd_op', ctypes.c_int, _vp, ctypes.c_int64, _vp, ctypes.POINTER(_vp))
declare('lowrank_lp_op', ctypes.c_int, _vp, ctypes.c_int64, ctypes.c_double, _vp,
        ctypes.POINTER(_vp))
declare('lowrank_lp', ctypes.c_int, _vp, ctypes.c_int64, ctypes.c_double, _vp,
        ctypes.POINTER(_vp))
declare('lowrank_lp_cost', ctypes.c_int, _vp, _vp, ctypes.c_double, ctypes.c_int,
        ctypes.POINTER(ctypes.c_double))

SPLITS = {'left': 1, 'right': 2, 'balanced': 3}


class Factors:
    """A rank-k approximation U diag(S) V^T of an m x n matrix, as returned by
    svd() and lp(): u (m x k), s (k,), vt (k x n) numpy arrays in the input's
    dtype, error the estimated relative Frobenius error."""

    def __init__(self, handle):
        self.handle = handle

    def __del__(self):
        if getattr(self, 'handle', None):
            lib.lowrank_factors_free(self.handle)
            self.handle = None

    @property
    def rank(self):
        return lib.lowrank_factors_rank(self.handle)

    @property
    def shape(self):
        return (lib.lowrank_factors_rows(self.handle), lib.lowrank_factors_cols(self.handle))

    @property
    def u(self):
        return to_numpy(lib.lowrank_factors_u(self.handle))

    @property
    def s(self):
        return to_numpy(lib.lowrank_factors_s(self.handle)).ravel()

    @property
    def vt(self):
        return to_numpy(lib.lowrank_factors_vt(self.handle))

    @property
    def error(self):
        e = ctypes.c_double()
        check(lib.lowrank_factors_error(self.handle, ctypes.byref(e)))
        return e.value

    def split(self, how='left'):
        """(L, R) with L @ R the approximation: 'left' L = U diag(S), R = V^T;
        'right' L = U, R = diag(S) V^T; 'balanced' sqrt(S) on both sides."""
        left, right = _vp(), _vp()
        check(lib.lowrank_factors_split(self.handle, SPLITS[how], ctypes.byref(left),
                                        ctypes.byref(right)))
        try:
            return to_numpy(left), to_numpy(right)
        finally:
            lib.lowrank_matrix_free(left)
            lib.lowrank_matrix_free(right)

    def reconstruct(self, out=None):
        """The approximation as an m x n array, written into out (any float
        array of that shape, written in place) when given."""
        if out is None:
            out = np.empty(self.shape, dtype=self.u.dtype)
        if not isinstance(out, np.ndarray) or not out.flags.writeable:
            raise ValueError('out must be a writeable numpy array')
        dst = Matrix(out)
        if dst.array is not out:
            raise ValueError('out must be a float32 or float64 array with unit stride '
                             'along its rows or columns')
        check(lib.lowrank_factors_reconstruct(self.handle, dst.handle))
        return out


def svd(a, k=0, method=None, tol=None, seed=None, oversampling=None, power_iter=None,
        max_iter=None, progress=None):
    """Truncated SVD (lowrank_svd): the best rank-k approximation as Factors.
    a is a 2-D array (used in place, not copied), a scipy.sparse matrix, an
    object with shape, dtype and matmat/rmatmat such as scipy's
    LinearOperator (never densified), or an Operator (lowrank_svd_op).
    method: 'auto' (default), 'exact' or 'randomized'; with k = 0, tol
    chooses the smallest rank whose relative Frobenius error is at most tol;
    max_iter caps an operator's exact Lanczos basis.  progress: see Options
    (return True to cancel, raising Cancelled)."""
    opts = Options(method=method, tol=tol, seed=seed, oversampling=oversampling,
                   power_iter=power_iter, max_iter=max_iter, progress=progress)
    out = _vp()
    op = as_operator(a)
    if op is not None:
        op.call(opts, lib.lowrank_svd_op, int64(k, 'k'), opts.handle, ctypes.byref(out))
        return Factors(out)
    m = Matrix(a)
    opts.call(lib.lowrank_svd, m.handle, int64(k, 'k'), opts.handle, ctypes.byref(out))
    return Factors(out)


def lp(a, k, p=1.0, method=None, objective=None, orientation=None, refine_iter=None,
       refine_tol=None, max_iter=None, eps=None, starts=None, sketch_dim=None, coreset_size=None,
       seed=None, progress=None):
    """Robust rank-k approximation of a 2-D array in the lp sense, p >= 1
    (lowrank_lp), as Factors.  method: 'lewis' (default) or 'lowner' (the
    paper's ellipsoid method); objective: 'rows' (default; sum of the points'
    distances to the subspace to the p) or 'entries' (sum of |A - LR|^p);
    orientation: 'rows' (default; the points are the rows) or 'cols';
    refine_iter: IRLS steps (0 keeps the construction alone; the default
    lets the library choose); starts: the random starts of the rows
    objective (default 16); sketch_dim: the dimension of the sketch it fits
    in (0: the points' own span; the default lets the library choose);
    seed: the random starts and sketch.  The array is used in place, not
    copied.  A scipy.sparse matrix, a LinearOperator or an Operator is
    fitted by lowrank_lp_op (the rows objective; through a coreset of
    coreset_size points when it has more).  progress: see Options (return
    True to cancel, raising Cancelled)."""
    opts = Options(method=method, objective=objective, orientation=orientation,
                   refine_iter=refine_iter, refine_tol=refine_tol, max_iter=max_iter, eps=eps,
                   starts=starts, sketch_dim=sketch_dim, coreset_size=coreset_size, seed=seed,
                   progress=progress)
    out = _vp()
    op = as_operator(a)
    if op is not None:
        op.call(opts, lib.lowrank_lp_op, int64(k, 'k'), p, opts.handle, ctypes.byref(out))
        return Factors(out)
    m = Matrix(a)
    opts.call(lib.lowrank_lp, m.handle, int64(k, 'k'), p, opts.handle, ctypes.byref(out))
    return Factors(out)


def lp_cost(a, factors, p=1.0, objective='rows'):
    """The lp objective of factors on the array a (lowrank_lp_cost): 'rows'
    sums dist(point, subspace)^p in the orientation factors were fitted in,
    'entries' sums |a - U diag(S) V^T|^p.  p = inf gives the largest."""
    if objective not in OBJECTIVES:
        raise ValueError('objective must be one of %s' % sorted(OBJECTIVES))
    m, cost = Matrix(a), ctypes.c_double()
    check(lib.lowrank_lp_cost(m.handle, factors.handle, p, OBJECTIVES[objective],
                              ctypes.byref(cost)))
    return cost.value
