"""Enclosing ellipsoids (lowrank_mvee), the ellipsoidal rounding of lp balls
(lowrank_lp_rounding) and coresets (lowrank_coreset_*)."""
import ctypes
from collections import namedtuple

import numpy as np

from ._core import Matrix, Options, check, declare, int64, lib, take_matrix, to_numpy

_vp = ctypes.c_void_p
_pvp = ctypes.POINTER(_vp)
declare('lowrank_mvee', ctypes.c_int, _vp, _vp, _pvp)
declare('lowrank_ellipsoid_free', None, _vp)
for _acc in ('center', 'shape', 'weights'):
    declare('lowrank_ellipsoid_' + _acc, _vp, _vp)
declare('lowrank_ellipsoid_log_volume', ctypes.c_double, _vp)
declare('lowrank_ellipsoid_eps', ctypes.c_double, _vp)
declare('lowrank_lp_rounding', ctypes.c_int, _vp, ctypes.c_double, _vp, _pvp,
        ctypes.POINTER(ctypes.c_double))
declare('lowrank_coreset_build', ctypes.c_int, _vp, ctypes.c_double, ctypes.c_int64, _vp, _pvp)
declare('lowrank_coreset_merge', ctypes.c_int, _vp, _vp, ctypes.c_int64, _vp, _pvp)
declare('lowrank_coreset_free', None, _vp)
declare('lowrank_coreset_size', ctypes.c_int64, _vp)
declare('lowrank_coreset_indices', ctypes.POINTER(ctypes.c_int64), _vp)
declare('lowrank_coreset_weights', _vp, _vp)
declare('lowrank_coreset_points', _vp, _vp)


Ellipsoid = namedtuple('Ellipsoid', 'center shape weights log_volume eps')
Ellipsoid.__doc__ = """{x : (x - center)^T shape (x - center) <= 1}; weights are the
dual weights of the points, eps the certified volume ratio minus one."""


def mvee(points, eps=None, center='free', max_iter=None, progress=None):
    """Minimum-volume enclosing ellipsoid of the rows of points, within a
    volume factor 1 + eps of the smallest, certified (lowrank_mvee)."""
    m = Matrix(points)
    opts = Options(eps=eps, max_iter=max_iter, center=center, progress=progress)
    out = _vp()
    opts.call(lib.lowrank_mvee, m.handle, opts.handle, ctypes.byref(out))
    try:
        return Ellipsoid(to_numpy(lib.lowrank_ellipsoid_center(out)).ravel(),
                         to_numpy(lib.lowrank_ellipsoid_shape(out)),
                         to_numpy(lib.lowrank_ellipsoid_weights(out)).ravel(),
                         lib.lowrank_ellipsoid_log_volume(out), lib.lowrank_ellipsoid_eps(out))
    finally:
        lib.lowrank_ellipsoid_free(out)


def lp_rounding(a, p, method=None, max_iter=None, eps=None, progress=None):
    """(G, alpha) with ||G x|| <= ||A x||_p <= alpha ||G x|| for every x
    (lowrank_lp_rounding); method 'lewis' (default) or 'lowner'
    ('cutting-plane'), p >= 1 or numpy.inf."""
    m = Matrix(a)
    opts = Options(method=method, max_iter=max_iter, eps=eps, progress=progress)
    g, alpha = _vp(), ctypes.c_double()
    opts.call(lib.lowrank_lp_rounding, m.handle, float(p), opts.handle, ctypes.byref(g),
              ctypes.byref(alpha))
    return take_matrix(g), alpha.value


class Coreset:
    """A weighted subset of rows whose lp cost approximates that of all rows:
    indices (int64), weights (float64) and points (the rows), numpy arrays."""

    def __init__(self, handle):
        self.handle = handle
        n = lib.lowrank_coreset_size(handle)
        self.indices = np.ctypeslib.as_array(lib.lowrank_coreset_indices(handle), (n,)).copy()
        self.weights = to_numpy(lib.lowrank_coreset_weights(handle)).ravel()
        self.points = to_numpy(lib.lowrank_coreset_points(handle))

    def __del__(self):
        if getattr(self, 'handle', None):
            lib.lowrank_coreset_free(self.handle)
            self.handle = None

    def __len__(self):
        return len(self.indices)

    def merge(self, other, m, seed=None, method=None, progress=None):
        """Merge and reduce: a coreset of at most m rows for the union."""
        opts = Options(seed=seed, method=method, progress=progress)
        out = _vp()
        opts.call(lib.lowrank_coreset_merge, self.handle, other.handle, int64(m, 'm'),
                  opts.handle, ctypes.byref(out))
        return Coreset(out)


def coreset(a, p, m, seed=None, method=None, row_offset=None, progress=None):
    """A coreset of at most m rows of a for the lp cost (lowrank_coreset_build);
    row_offset is added to the indices (pieces of one matrix)."""
    mat = Matrix(a)
    opts = Options(seed=seed, method=method, row_offset=row_offset, progress=progress)
    out = _vp()
    opts.call(lib.lowrank_coreset_build, mat.handle, float(p), int64(m, 'm'), opts.handle,
              ctypes.byref(out))
    return Coreset(out)
