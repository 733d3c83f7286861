"""Data-aware compression of layers: input statistics (lowrank_stats_*), the
truncation that preserves a layer's outputs (lowrank_svd_data), the bias that
keeps its mean output (lowrank_factors_bias_shift) and ranks for several
layers under a budget (lowrank_allocate_ranks).  See docs/compress.md."""
import ctypes

import numpy as np

from ._core import Matrix, Options, check, declare, lib, take_matrix
from .factors import Factors

_vp = ctypes.c_void_p
_pp = ctypes.POINTER(_vp)
_dp = ctypes.POINTER(ctypes.c_double)
_i64 = ctypes.c_int64
declare('lowrank_stats_new', ctypes.c_int, _i64, _vp, _pp)
declare('lowrank_stats_free', None, _vp)
declare('lowrank_stats_add', ctypes.c_int, _vp, _vp)
declare('lowrank_stats_merge', ctypes.c_int, _vp, _vp)
declare('lowrank_stats_from_moments', ctypes.c_int, _i64, _vp, _vp, _vp, _pp)
declare('lowrank_stats_dim', _i64, _vp)
declare('lowrank_stats_count', _i64, _vp)
declare('lowrank_stats_mean', ctypes.c_int, _vp, _pp)
declare('lowrank_stats_covariance', ctypes.c_int, _vp, _pp)
declare('lowrank_svd_data', ctypes.c_int, _vp, _vp, _i64, _vp, _pp)
declare('lowrank_factors_bias_shift', ctypes.c_int, _vp, _vp, _vp, _pp)
declare('lowrank_allocate_ranks', ctypes.c_int, _i64, _pp, _pp, _dp, ctypes.c_double, _vp,
        ctypes.POINTER(_i64), ctypes.POINTER(ctypes.c_double))


class Stats:
    """The mean and covariance of a layer's inputs, accumulated from batches
    of rows (float32 or float64, one input vector per row) without keeping
    them: Stats(dim), then add(rows) as often as needed; merge() another
    Stats of the same dim (from another thread, or rebuilt with
    from_moments() from what another process saved).  progress: see
    Options; add() reports to it and may be cancelled (Cancelled, and the
    statistics stay as they were)."""

    def __init__(self, dim, progress=None, _handle=None):
        self._opts = Options(progress=progress)  # its callback lives as long as the handle
        if _handle is None:
            _handle = _vp()
            check(lib.lowrank_stats_new(int(dim), self._opts.handle, ctypes.byref(_handle)))
        self.handle = _handle

    def __del__(self):
        if getattr(self, 'handle', None):
            lib.lowrank_stats_free(self.handle)
            self.handle = None

    @classmethod
    def from_moments(cls, count, mean, covariance):
        """Statistics of count rows with this mean (dim,) and covariance
        (dim x dim), as .mean and .covariance return them."""
        out = _vp()
        m, c = Matrix(np.asarray(mean).reshape(1, -1)), Matrix(covariance)
        check(lib.lowrank_stats_from_moments(int(count), m.handle, c.handle, None,
                                              ctypes.byref(out)))
        return cls(0, _handle=out)

    def add(self, rows):
        """Add a batch of rows (count x dim); returns self."""
        m = Matrix(rows)  # alive until the call returns
        self._opts.call(lib.lowrank_stats_add, self.handle, m.handle)
        return self

    def merge(self, other):
        """Add the rows other summarises; returns self."""
        check(lib.lowrank_stats_merge(self.handle, other.handle))
        return self

    @property
    def dim(self):
        return lib.lowrank_stats_dim(self.handle)

    @property
    def count(self):
        return lib.lowrank_stats_count(self.handle)

    @property
    def mean(self):
        out = _vp()
        check(lib.lowrank_stats_mean(self.handle, ctypes.byref(out)))
        return take_matrix(out).ravel()

    @property
    def covariance(self):
        """The covariance, divided by the count."""
        out = _vp()
        check(lib.lowrank_stats_covariance(self.handle, ctypes.byref(out)))
        return take_matrix(out)


def _stats_of(inputs, dim):
    if inputs is None or isinstance(inputs, Stats):
        return inputs
    return Stats(dim).add(inputs)


def svd_data(w, inputs, k=0, tol=None, ridge=None, method=None, seed=None, oversampling=None,
             power_iter=None, progress=None):
    """The rank-k approximation of the weights w (n x d) of a layer
    y = x w + b that best preserves its centred outputs on the inputs: a
    Stats, or an array of inputs (rows of n values).  With k = 0, tol
    chooses the smallest rank whose relative output error is at most tol.
    Returns Factors; their error is the relative output error.  ridge
    shrinks towards the plain SVD; method, seed, oversampling and
    power_iter are lowrank_svd's, for the truncation of the whitened
    weights; progress: see Options."""
    stats = _stats_of(inputs, np.shape(w)[0])
    opts = Options(tol=tol, ridge=ridge, method=method, seed=seed, oversampling=oversampling,
                   power_iter=power_iter, progress=progress)
    out, m = _vp(), Matrix(w)
    opts.call(lib.lowrank_svd_data, m.handle, stats.handle, int(k), opts.handle,
              ctypes.byref(out))
    return Factors(out)


def bias_shift(factors, w, mean):
    """mean @ (w - the approximation), the vector to add to the layer's bias
    so that the compressed layer keeps the mean output on inputs of that
    mean (a Stats gives its own)."""
    if isinstance(mean, Stats):
        mean = mean.mean
    out, m, mu = _vp(), Matrix(w), Matrix(np.asarray(mean).reshape(1, -1))
    check(lib.lowrank_factors_bias_shift(factors.handle, m.handle, mu.handle, ctypes.byref(out)))
    return take_matrix(out).ravel()


def allocate_ranks(weights, inputs=None, budget=0.0, tol=None, ridge=None, progress=None,
                   importance=None):
    """Ranks for the layers weights[i] (n_i x d_i) with inputs[i] (a Stats,
    an array of inputs, or None for the plain SVD) that minimise the summed
    squared relative output errors, each times importance[i] (default: all
    1), while storing at most budget times the numbers of the weights (rank
    min(n_i, d_i): the layer kept whole); with budget 0, the fewest numbers
    whose weighted root mean square relative output error is at most tol.
    Returns (ranks, predicted relative errors).  progress: see Options."""
    count = len(weights)
    inputs = [None] * count if inputs is None else list(inputs)
    if len(inputs) != count:
        raise ValueError('weights and inputs differ in length')
    imp = None
    if importance is not None:
        if len(importance) != count:
            raise ValueError('weights and importance differ in length')
        imp = (ctypes.c_double * count)(*[float(a) for a in importance])
    mats = [Matrix(w) for w in weights]
    stats = [_stats_of(x, np.shape(w)[0]) for w, x in zip(weights, inputs)]
    wh = (_vp * count)(*[m.handle for m in mats])
    sh = (_vp * count)(*[s.handle if s is not None else None for s in stats])
    ranks, errors = (_i64 * count)(), (ctypes.c_double * count)()
    opts = Options(tol=tol, ridge=ridge, progress=progress)
    opts.call(lib.lowrank_allocate_ranks, count, wh, sh, imp, float(budget), opts.handle,
              ranks, errors)
    return list(ranks), list(errors)
