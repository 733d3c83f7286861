"""PCA background models (lowrank_background_*): learn the background of a
fixed camera from frames, then mark the pixels of each new frame that differ
from it."""
import ctypes

import numpy as np

from ._core import Options, check, declare, int64, lib

_u8p = ctypes.POINTER(ctypes.c_uint8)
_vp, _i64 = ctypes.c_void_p, ctypes.c_int64
declare('lowrank_background_new', ctypes.c_int, _i64, _i64, _i64, _vp, ctypes.POINTER(_vp))
declare('lowrank_background_train', ctypes.c_int, _vp, ctypes.POINTER(_u8p), _i64, _i64)
declare('lowrank_background_apply', ctypes.c_int, _vp, _u8p, _i64, _u8p, _i64)
declare('lowrank_background_image', ctypes.c_int, _vp, _u8p, _i64)
declare('lowrank_background_free', None, _vp)


def _frame(f, shape):
    """f as a uint8 array of the model's shape whose rows are contiguous, and
    its row stride in bytes (no copy when f already qualifies)."""
    a = np.asarray(f)
    if a.dtype != np.uint8:
        raise TypeError('frames must be uint8, not %s' % a.dtype)
    if a.shape != shape:
        raise ValueError('frame of shape %s, the model expects %s' % (a.shape, shape))
    inner = a.strides[1:] == (shape[2], 1) if len(shape) == 3 else a.strides[1] == 1
    row = a.shape[1] * (shape[2] if len(shape) == 3 else 1)
    if not inner or a.strides[0] < row:   # reversed, or broadcast (stride 0) rows
        a = np.ascontiguousarray(a)
    return a, a.strides[0]


class Background:
    """Background(width, height, channels=1, **options): an untrained model.

    Options are those of lowrank_background_new without the LOWRANK_OPT_BG_
    prefix, lower case: mode ('adaptive' or 'seed'), rank, energy,
    threshold_mode ('pixel' or 'fixed'), threshold, sensitivity, robust,
    update_rate, update_interval, median, warmup, registration, shadows
    ('background', 'mark' (127 in the masks) or 'foreground'), shadow_ratio,
    absorb, neighbours; threads (LOWRANK_OPT_THREADS: 0, the default, for
    the cores available, 1 for none of the model's own); and progress,
    called during training (see Options).  Frames are uint8 arrays of shape
    (height, width) for one channel or (height, width, 3)."""

    def __init__(self, width, height, channels=1, progress=None, threads=None, **options):
        # the model keeps a copy of the options, callback included: keep
        # the callback alive as long as the model
        self._opts = Options(progress=progress, threads=threads,
                             **{'bg_' + k: v for k, v in options.items()})
        self.handle = ctypes.c_void_p()
        check(lib.lowrank_background_new(int64(width, 'width'), int64(height, 'height'),
                                         int64(channels, 'channels'), self._opts.handle,
                                         ctypes.byref(self.handle)))
        self.shape = (height, width) if channels == 1 else (height, width, channels)

    def __del__(self):
        if getattr(self, 'handle', None):
            lib.lowrank_background_free(self.handle)
            self.handle = None

    def train(self, frames):
        """Learn the background from a sequence of frames (read in place)."""
        arrays = [_frame(f, self.shape) for f in frames]
        strides = {s for _, s in arrays}
        if len(strides) > 1:
            arrays = [(np.ascontiguousarray(a), None) for a, _ in arrays]
            arrays = [(a, a.strides[0]) for a, _ in arrays]
        pointers = (_u8p * len(arrays))(*[a.ctypes.data_as(_u8p) for a, _ in arrays])
        stride = arrays[0][1] if arrays else 0
        self._opts.call(lib.lowrank_background_train, self.handle, pointers, len(arrays), stride)

    def apply(self, frame):
        """The foreground mask of frame (height x width, 0 or 255); updates
        the model when its update is on."""
        a, stride = _frame(frame, self.shape)
        mask = np.empty(self.shape[:2], dtype=np.uint8)
        check(lib.lowrank_background_apply(self.handle, a.ctypes.data_as(_u8p), stride,
                                           mask.ctypes.data_as(_u8p), mask.strides[0]))
        return mask

    def image(self):
        """The current background image."""
        out = np.empty(self.shape, dtype=np.uint8)
        check(lib.lowrank_background_image(self.handle, out.ctypes.data_as(_u8p),
                                           out.strides[0]))
        return out
