"""Linear operators (lowrank_operator_*): matrices the library reaches through
products only -- scipy.sparse matrices (wrapped, not densified), objects with
shape, dtype and matmat/rmatmat such as scipy's LinearOperator (called back
through ctypes), .npy files read block by block, and scipy's .npz files."""
import ctypes

import numpy as np

from ._core import (COL_MAJOR, FLOAT32, FLOAT64, LowrankError, Matrix, Options, check, declare,
                    lib, path_bytes, to_numpy)

_vp = ctypes.c_void_p
_i64 = ctypes.c_int64
NO_TRANS, TRANS = 111, 112

APPLY_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, _i64, _vp, _i64, _vp, _i64, _vp)
declare('lowrank_csr_wrap', ctypes.c_int, ctypes.c_int, _i64, _i64, _i64, _vp, _vp, _vp,
        ctypes.POINTER(_vp))
declare('lowrank_csr_load_npz', ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_vp))
declare('lowrank_csr_free', None, _vp)
for _acc in ('rows', 'cols', 'nnz'):
    declare('lowrank_csr_' + _acc, _i64, _vp)
declare('lowrank_csr_dtype', ctypes.c_int, _vp)
declare('lowrank_operator_new', ctypes.c_int, ctypes.c_int, ctypes.c_int, _i64, _i64, APPLY_FN,
        _vp, ctypes.POINTER(_vp))
declare('lowrank_operator_matrix', ctypes.c_int, _vp, ctypes.POINTER(_vp))
declare('lowrank_operator_csr', ctypes.c_int, _vp, ctypes.POINTER(_vp))
declare('lowrank_operator_npy', ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_vp))
declare('lowrank_operator_transpose', ctypes.c_int, _vp, ctypes.POINTER(_vp))
declare('lowrank_operator_free', None, _vp)
declare('lowrank_operator_rows', _i64, _vp)
declare('lowrank_operator_cols', _i64, _vp)
declare('lowrank_operator_dtype', ctypes.c_int, _vp)
declare('lowrank_operator_apply', ctypes.c_int, _vp, ctypes.c_int, _vp, _vp, _vp)
declare('lowrank_operator_passes', ctypes.c_int, _vp, ctypes.POINTER(_i64), ctypes.POINTER(_i64))

_C_TYPES = {FLOAT32: ctypes.c_float, FLOAT64: ctypes.c_double}


def _is_sparse(a):
    return hasattr(a, 'tocsr') and hasattr(a, 'nnz') and hasattr(a, 'format')


def _is_linear_operator(a):
    return (hasattr(a, 'shape') and hasattr(a, 'dtype') and
            (hasattr(a, 'matmat') or hasattr(a, 'matvec')) and not isinstance(a, np.ndarray))


class Operator:
    """A lowrank_operator.  Operator(a) wraps
      - a scipy.sparse matrix or array: CSR and CSC are wrapped without copying
        their values (int32 index arrays are widened to int64 copies; a matrix
        with duplicate entries is summed into a copy first), other formats are
        converted to CSR;
      - any object with shape, dtype and matmat/rmatmat (or matvec/rmatvec),
        scipy.sparse.linalg.LinearOperator for one: the library calls them
        back with blocks of vectors, never densifying;
      - a numpy array (the dense operator: the same computations as on the
        array itself).
    Operator.npy(path) reads an .npy file block by block at every product
    (files larger than memory); Operator.npz(path) reads scipy's save_npz."""

    def __init__(self, a=None, _handle=None, _keep=()):
        self._keep = list(_keep)  # what the handle borrows
        self._error = None
        if _handle is not None:
            self.handle = _handle
            return
        self.handle = _vp()
        if isinstance(a, Operator):
            raise TypeError('already an Operator')
        if _is_sparse(a):
            self._from_sparse(a)
        elif _is_linear_operator(a):
            self._from_callbacks(a)
        else:
            m = Matrix(a)
            self._keep.append(m)
            check(lib.lowrank_operator_matrix(m.handle, ctypes.byref(self.handle)))

    @classmethod
    def npy(cls, path):
        """An .npy file (float32/float64, any size), read at every product."""
        h = _vp()
        check(lib.lowrank_operator_npy(path_bytes(path), ctypes.byref(h)))
        return cls(_handle=h)

    @classmethod
    def npz(cls, path):
        """A sparse matrix saved by scipy.sparse.save_npz, read into memory."""
        csr = _vp()
        check(lib.lowrank_csr_load_npz(path_bytes(path), ctypes.byref(csr)))
        op = cls(_handle=_vp(), _keep=[_Csr(csr)])
        check(lib.lowrank_operator_csr(csr, ctypes.byref(op.handle)))
        return op

    def _from_sparse(self, a):
        fmt = a.format
        if fmt not in ('csr', 'csc'):
            a, fmt = a.tocsr(), 'csr'
        if not getattr(a, 'has_canonical_format', True):
            a = a.copy()
            a.sum_duplicates()
        if a.dtype not in (np.float32, np.float64):
            a = a.astype(np.float64)
        rows, cols = a.shape
        major, minor = (rows, cols) if fmt == 'csr' else (cols, rows)
        indptr = np.ascontiguousarray(a.indptr, dtype=np.int64)
        indices = np.ascontiguousarray(a.indices, dtype=np.int64)
        data = np.ascontiguousarray(a.data)
        csr = _vp()
        check(lib.lowrank_csr_wrap(FLOAT32 if data.dtype == np.float32 else FLOAT64, major, minor,
                                   len(data), indptr.ctypes.data, indices.ctypes.data,
                                   data.ctypes.data, ctypes.byref(csr)))
        self._keep += [indptr, indices, data, _Csr(csr)]
        if fmt == 'csr':
            check(lib.lowrank_operator_csr(csr, ctypes.byref(self.handle)))
            return
        inner = Operator(_handle=_vp())
        check(lib.lowrank_operator_csr(csr, ctypes.byref(inner.handle)))
        self._keep.append(inner)  # CSC: the CSR operator of A^T, transposed
        check(lib.lowrank_operator_transpose(inner.handle, ctypes.byref(self.handle)))

    def _from_callbacks(self, a):
        dtype = np.dtype(np.float32 if np.dtype(a.dtype) == np.float32 else np.float64)
        code = FLOAT32 if dtype == np.float32 else FLOAT64
        rows, cols = (int(d) for d in a.shape)
        ctype = _C_TYPES[code]

        def block(ptr, nrows, nvec, ld):
            """The column-major nrows x nvec block at ptr, as a numpy view."""
            buf = ctypes.cast(ptr, ctypes.POINTER(ctype * ((nvec - 1) * ld + nrows))).contents
            flat = np.frombuffer(buf, dtype=dtype)
            return np.lib.stride_tricks.as_strided(
                flat, shape=(nrows, nvec), strides=(dtype.itemsize, ld * dtype.itemsize))

        def product(x, trans):
            if trans:
                if hasattr(a, 'rmatmat'):
                    return a.rmatmat(x)
                return np.column_stack([a.rmatvec(x[:, j]) for j in range(x.shape[1])])
            if hasattr(a, 'matmat'):
                return a.matmat(x)
            return np.column_stack([a.matvec(x[:, j]) for j in range(x.shape[1])])

        def apply(trans, nvec, x, ldx, y, ldy, user):
            try:
                t = trans == TRANS
                xin = block(x, rows if t else cols, nvec, ldx)
                out = np.asarray(product(np.array(xin), t))
                block(y, cols if t else rows, nvec, ldy)[:] = out.reshape(-1, nvec)
                return 0
            except BaseException as e:  # reported after the library call returns
                self._error = e
                return 1

        self._callback = APPLY_FN(apply)
        self._keep.append(a)
        check(lib.lowrank_operator_new(code, COL_MAJOR, rows, cols, self._callback, None,
                                       ctypes.byref(self.handle)))

    def __del__(self):
        if getattr(self, 'handle', None):
            lib.lowrank_operator_free(self.handle)
            self.handle = None

    def call(self, opts, fn, *args):
        """The library call fn(self.handle, *args) through the Options opts
        (its progress and Ctrl-C), re-raising the exception a callback of
        this operator raised inside it."""
        self._error = None
        try:
            return opts.call(fn, self.handle, *args)
        except LowrankError:
            error, self._error = self._error, None
            if error is not None:
                raise error
            raise

    @property
    def shape(self):
        return (lib.lowrank_operator_rows(self.handle), lib.lowrank_operator_cols(self.handle))

    @property
    def dtype(self):
        return np.dtype(np.float32 if lib.lowrank_operator_dtype(self.handle) == FLOAT32
                        else np.float64)

    def apply(self, x, trans=False):
        """op(A) @ x for a 2-D x of the operator's dtype (lowrank_operator_apply)."""
        x = np.asarray(x, dtype=self.dtype)
        out = np.empty((self.shape[1] if trans else self.shape[0], x.shape[1]), dtype=self.dtype)
        xm, ym = Matrix(x), Matrix(out)
        opts = Options()
        self.call(opts, lib.lowrank_operator_apply, TRANS if trans else NO_TRANS, xm.handle,
                  ym.handle, opts.handle)
        return out

    @property
    def passes(self):
        """(passes over the data, bytes read from a file) since the operator was made."""
        p, b = _i64(), _i64()
        check(lib.lowrank_operator_passes(self.handle, ctypes.byref(p), ctypes.byref(b)))
        return p.value, b.value


class _Csr:
    """Owner of a lowrank_csr handle."""

    def __init__(self, handle):
        self.handle = handle

    def __del__(self):
        if getattr(self, 'handle', None):
            lib.lowrank_csr_free(self.handle)
            self.handle = None


def as_operator(a):
    """a as an Operator when it is not a numpy array (sparse, LinearOperator,
    Operator), else None."""
    if isinstance(a, Operator):
        return a
    if _is_sparse(a) or _is_linear_operator(a):
        return Operator(a)
    return None


__all__ = ['Operator', 'as_operator', 'LowrankError', 'to_numpy']
