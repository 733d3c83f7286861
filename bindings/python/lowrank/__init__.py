"""liblowrank for Python: robust low-rank approximation on numpy arrays.

A thin ctypes binding of the C library (no compiler needed).  The library is
found through $LOWRANK_LIBRARY, the build tree this package sits in, or the
system's liblowrank.so.0.  Failures raise LowrankError carrying the library's
status code and message.
"""
from ._core import LowrankError, Matrix, Options, load_npy, save_npy, version
from .background import Background

__all__ = ['Background', 'LowrankError', 'Matrix', 'Options', 'load_npy', 'save_npy',
           'version']
