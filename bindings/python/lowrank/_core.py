"""Loading liblowrank, its status codes and errors, and the bridge between
numpy arrays and lowrank_matrix handles.  Everything here goes through the C
ABI with ctypes: no compiler is needed."""
import ctypes
import ctypes.util
import operator
import os
import signal
import threading

import numpy as np

# Values of the enums in lowrank.h; tests/test_core.py checks them against the header.
OK = 0
STATUS_NAMES = {
    -1: 'EINVAL', -2: 'ESIZE', -3: 'ERANGE', -4: 'ENONFINITE', -5: 'EOVERFLOW', -6: 'ENOMEM',
    -7: 'EIO', -8: 'EFORMAT', -9: 'EUNSUPPORTED', -10: 'ENOCONV', -11: 'EDEGENERATE',
    -12: 'EINTERNAL', -13: 'ECANCELED', -15: 'ECALLBACK', -16: 'ECOMM',
}
ECANCELED = -13
FLOAT32, FLOAT64 = 1, 2
ROW_MAJOR, COL_MAJOR = 101, 102

_c_matrix_p = ctypes.c_void_p   # lowrank_matrix * (opaque)


def _candidates():
    """Where the shared library may be: $LOWRANK_LIBRARY, the build tree this
    package sits in (bindings/python/lowrank -> lib/), then the system."""
    env = os.environ.get('LOWRANK_LIBRARY')
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, '..', '..', '..', 'lib', 'liblowrank.so.0')
    found = ctypes.util.find_library('lowrank')
    if found:
        yield found
    yield 'liblowrank.so.0'


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append('%s: %s' % (path, e))
    raise ImportError('cannot load liblowrank (set LOWRANK_LIBRARY to its path):\n  '
                      + '\n  '.join(errors))


lib = _load()


def declare(name, restype, *argtypes):
    """Give the library's function name its C prototype."""
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_i64 = ctypes.c_int64
_int = ctypes.c_int
_dbl = ctypes.c_double
_pp = ctypes.POINTER(ctypes.c_void_p)

declare('lowrank_version_number', ctypes.c_uint)
declare('lowrank_version_string', ctypes.c_char_p)
declare('lowrank_strerror', ctypes.c_char_p, _int)
declare('lowrank_last_error', ctypes.c_char_p)
declare('lowrank_matrix_new', _int, _int, _int, _i64, _i64, _pp)
declare('lowrank_matrix_wrap', _int, _int, _int, _i64, _i64, ctypes.c_void_p, _i64, _pp)
declare('lowrank_matrix_free', None, ctypes.c_void_p)
for _acc in ('rows', 'cols', 'ld'):
    declare('lowrank_matrix_' + _acc, _i64, ctypes.c_void_p)
declare('lowrank_matrix_dtype', _int, ctypes.c_void_p)
declare('lowrank_matrix_layout', _int, ctypes.c_void_p)
declare('lowrank_matrix_data', ctypes.c_void_p, ctypes.c_void_p)
declare('lowrank_matrix_load_npy', _int, ctypes.c_char_p, _pp)
declare('lowrank_matrix_save_npy', _int, ctypes.c_void_p, ctypes.c_char_p)
declare('lowrank_opts_new', _int, _pp)
declare('lowrank_opts_free', None, ctypes.c_void_p)
declare('lowrank_opts_set_int', _int, ctypes.c_void_p, _int, _i64)
declare('lowrank_opts_set_double', _int, ctypes.c_void_p, _int, _dbl)
_PROGRESS_FN = ctypes.CFUNCTYPE(_int, _dbl, ctypes.c_void_p)
declare('lowrank_opts_set_progress', _int, ctypes.c_void_p, _PROGRESS_FN, ctypes.c_void_p)


class LowrankError(Exception):
    """A liblowrank call failed.  code is the negative LOWRANK_E... status,
    name its suffix ('EINVAL', ...), detail lowrank_last_error()'s message."""

    def __init__(self, code, detail):
        self.code = code
        self.name = STATUS_NAMES.get(code, str(code))
        self.detail = detail
        super().__init__('%s: %s' % (lib.lowrank_strerror(code).decode(), detail))


class Cancelled(LowrankError):
    """A computation stopped because its progress callback asked it to
    (returned a true value); code is ECANCELED."""


def check(rc):
    """Raise LowrankError for a failed status; the message is read at once,
    in the calling thread, as lowrank_last_error() is per thread."""
    if rc != OK:
        raise LowrankError(rc, lib.lowrank_last_error().decode(errors='replace'))
    return rc


_INT64_MIN, _INT64_MAX = -2 ** 63, 2 ** 63 - 1


def int64(value, name):
    """value as an int that fits the C API's int64_t: ctypes would silently
    wrap 2**64 + 2 to 2.  OverflowError otherwise, TypeError for a
    non-integer."""
    v = operator.index(value)
    if not _INT64_MIN <= v <= _INT64_MAX:
        raise OverflowError('%s = %d does not fit in int64' % (name, v))
    return v


def path_bytes(path):
    """A file system path for the C API; a NUL would silently cut it short."""
    b = os.fsencode(path)
    if b'\0' in b:
        raise ValueError('embedded null byte in path %r' % (path,))
    return b


def version():
    """The version of the loaded library, e.g. '0.1.0'."""
    return lib.lowrank_version_string().decode()


# ------------------------------------------------------------ matrices
_DTYPES = {np.dtype(np.float32): FLOAT32, np.dtype(np.float64): FLOAT64}


class Matrix:
    """A lowrank_matrix handle over a numpy array's memory, without copying
    when the array allows it (float32/float64 with unit stride along rows or
    columns).  Other arrays are converted to a C-ordered float64 or their own
    float dtype first.  Keeps the array alive as long as the handle."""

    def __init__(self, array):
        a = np.asarray(array)
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        if a.ndim != 2:
            raise ValueError('a matrix must be 1-D or 2-D, not %d-D' % a.ndim)
        if a.dtype not in _DTYPES:
            a = a.astype(np.float64)
        layout, ld = _layout_of(a)
        if layout is None:
            a = np.ascontiguousarray(a)
            layout, ld = ROW_MAJOR, a.shape[1]
        self.array = a
        self.handle = ctypes.c_void_p()
        check(lib.lowrank_matrix_wrap(_DTYPES[a.dtype], layout, a.shape[0], a.shape[1],
                                      a.ctypes.data_as(ctypes.c_void_p), ld,
                                      ctypes.byref(self.handle)))

    def __del__(self):
        if getattr(self, 'handle', None):
            lib.lowrank_matrix_free(self.handle)
            self.handle = None

    @property
    def as_parameter(self):
        return self.handle


def _layout_of(a):
    """(layout, ld) describing a without a copy, or (None, None)."""
    item = a.itemsize
    r, c = a.shape
    s0, s1 = a.strides
    if (s1 == item or c == 1) and s0 % item == 0 and s0 // item >= max(c, 1) and s0 > 0:
        return ROW_MAJOR, s0 // item
    if (s0 == item or r == 1) and s1 % item == 0 and s1 // item >= max(r, 1) and s1 > 0:
        return COL_MAJOR, s1 // item
    if a.flags.c_contiguous:
        return ROW_MAJOR, max(c, 1)
    return None, None


def to_numpy(handle):
    """A numpy copy of the matrix behind a lowrank_matrix * (the caller frees
    the handle if it owns it)."""
    dtype = np.float32 if lib.lowrank_matrix_dtype(handle) == FLOAT32 else np.float64
    rows, cols = lib.lowrank_matrix_rows(handle), lib.lowrank_matrix_cols(handle)
    ld = lib.lowrank_matrix_ld(handle)
    item = np.dtype(dtype).itemsize
    row_major = lib.lowrank_matrix_layout(handle) == ROW_MAJOR
    span = ((rows - 1) * ld + cols) if row_major else ((cols - 1) * ld + rows)
    buf = (ctypes.c_char * (span * item)).from_address(lib.lowrank_matrix_data(handle))
    flat = np.frombuffer(buf, dtype=dtype, count=span)
    strides = (ld * item, item) if row_major else (item, ld * item)
    view = np.lib.stride_tricks.as_strided(flat, shape=(rows, cols), strides=strides)
    return np.array(view, order='C' if row_major else 'F', copy=True)


def take_matrix(handle):
    """to_numpy, then free the handle the library gave us."""
    try:
        return to_numpy(handle)
    finally:
        lib.lowrank_matrix_free(handle)


def load_npy(path):
    """Read an .npy file with liblowrank's reader (float32/float64, 1-D or 2-D)."""
    h = ctypes.c_void_p()
    check(lib.lowrank_matrix_load_npy(path_bytes(path), ctypes.byref(h)))
    return take_matrix(h)


def save_npy(path, array):
    """Write a float matrix with liblowrank's writer (atomic replace)."""
    m = Matrix(array)
    check(lib.lowrank_matrix_save_npy(m.handle, path_bytes(path)))


# ------------------------------------------------------------ options
OPTION_KEYS = {
    'method': (1, int), 'seed': (2, int), 'tol': (3, float), 'max_iter': (4, int),
    'oversampling': (5, int), 'power_iter': (6, int), 'eps': (7, float),
    'objective': (8, int), 'orientation': (9, int), 'refine_iter': (10, int),
    'refine_tol': (11, float), 'threads': (12, int), 'center': (30, int), 'row_offset': (31, int),
    'starts': (41, int), 'sketch_dim': (42, int),
    'bg_mode': (50, int), 'bg_rank': (51, int), 'bg_energy': (52, float),
    'bg_threshold_mode': (53, int), 'bg_threshold': (54, float), 'bg_sensitivity': (55, float),
    'bg_robust': (56, int), 'bg_update_rate': (57, float), 'bg_update_interval': (58, int),
    'bg_median': (59, int), 'bg_warmup': (60, int), 'bg_registration': (61, int),
    'bg_shadows': (62, int), 'bg_shadow_ratio': (63, float), 'bg_absorb': (64, int),
    'bg_neighbours': (65, int), 'ridge': (70, float), 'coreset_size': (80, int),
}
METHODS = {'auto': 0, 'exact': 1, 'randomized': 2, 'lewis': 3, 'lowner': 4,
           'cutting-plane': 4}
OBJECTIVES = {'rows': 1, 'entries': 2}
ORIENTATIONS = {'rows': 1, 'cols': 2}
CENTERS = {'free': 1, 'origin': 2}
BG_MODES = {'adaptive': 1, 'seed': 2}
BG_THRESHOLDS = {'pixel': 1, 'fixed': 2}
BG_SHADOWS = {'foreground': 1, 'background': 2, 'mark': 3}
_NAMED = {'method': METHODS, 'objective': OBJECTIVES, 'orientation': ORIENTATIONS,
          'center': CENTERS, 'bg_mode': BG_MODES, 'bg_threshold_mode': BG_THRESHOLDS,
          'bg_shadows': BG_SHADOWS}


class Options:
    """A lowrank_opts handle built from keyword arguments, e.g.
    Options(method='randomized', seed=7, tol=0.05); None values are skipped.

    progress, when given, is called as progress(fraction) during long
    computations (about every 50 ms, fraction in [0, 1]); a true return value
    cancels the computation, which then raises Cancelled.  Whether or not it
    is given, Ctrl-C (KeyboardInterrupt) during a computation cancels it and
    is raised once the library has returned, as is any exception the
    callback raises; make the calls through these options with self.call."""

    def __init__(self, progress=None, **kw):
        self.handle = ctypes.c_void_p()
        check(lib.lowrank_opts_new(ctypes.byref(self.handle)))
        self._progress, self._pending = progress, None
        self._callback = _PROGRESS_FN(self._report)  # kept alive with the handle
        check(lib.lowrank_opts_set_progress(self.handle, self._callback, None))
        for name, value in kw.items():
            if value is None:
                continue
            if name not in OPTION_KEYS:
                raise TypeError('unknown option %r' % name)
            key, kind = OPTION_KEYS[name]
            if name in _NAMED and isinstance(value, str):
                if value not in _NAMED[name]:
                    raise ValueError('%s must be one of %s' % (name, sorted(_NAMED[name])))
                value = _NAMED[name][value]
            if kind is int:
                check(lib.lowrank_opts_set_int(self.handle, key, int64(value, name)))
            else:
                check(lib.lowrank_opts_set_double(self.handle, key, float(value)))

    def _report(self, fraction, _user):
        """The C callback: an exception cannot cross the library, so it is
        kept, the computation cancelled, and call() raises it."""
        if self._pending is not None:  # Ctrl-C came (see _interrupt)
            return 1
        try:
            return 1 if self._progress is not None and self._progress(fraction) else 0
        except BaseException as e:
            self._pending = e
            return 1

    def _interrupt(self, _signum, _frame):
        """SIGINT during a call: Python runs this at the next bytecode, which
        is the callback's first; the default handler would raise there,
        before the callback could catch it, and ctypes would drop it."""
        self._pending = KeyboardInterrupt()

    def call(self, function, *args):
        """function(*args), a library call taking these options, checked:
        raises what stopped it (the callback's exception, KeyboardInterrupt,
        or Cancelled) or LowrankError.  Ctrl-C cancels it when Python's
        default SIGINT handler is in force in the main thread."""
        previous = None
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            previous = signal.signal(signal.SIGINT, self._interrupt)
        try:
            rc = function(*args)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        pending, self._pending = self._pending, None
        if rc == ECANCELED:
            if pending is not None:
                raise pending
            raise Cancelled(rc, lib.lowrank_last_error().decode(errors='replace'))
        if isinstance(pending, KeyboardInterrupt):  # came after the last report
            raise pending
        return check(rc)

    def __del__(self):
        if getattr(self, 'handle', None):
            lib.lowrank_opts_free(self.handle)
            self.handle = None
