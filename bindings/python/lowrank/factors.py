"""Low-rank factors (lowrank_factors_*) and the truncated SVD (lowrank_svd)."""
import ctypes

import numpy as np

from ._core import Matrix, Options, check, declare, lib, to_numpy

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
        dst = Matrix(out)
        if dst.array is not out:
            raise ValueError('out must be a float32 or float64 array with unit stride '
                             'along its rows or columns')
        check(lib.lowrank_factors_reconstruct(self.handle, dst.handle))
        return out


def svd(a, k=0, method=None, tol=None, seed=None, oversampling=None, power_iter=None):
    """Truncated SVD of a 2-D array (lowrank_svd): the best rank-k
    approximation as Factors.  method: 'auto' (default), 'exact' or
    'randomized'; with k = 0, tol chooses the smallest rank whose relative
    Frobenius error is at most tol.  The array is used in place, not copied."""
    m = Matrix(a)
    opts = Options(method=method, tol=tol, seed=seed, oversampling=oversampling,
                   power_iter=power_iter)
    out = _vp()
    check(lib.lowrank_svd(m.handle, k, opts.handle, ctypes.byref(out)))
    return Factors(out)
