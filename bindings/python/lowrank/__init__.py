"""liblowrank for Python: robust low-rank approximation on numpy arrays.

A thin ctypes binding of the C library (no compiler needed).  The library is
found through $LOWRANK_LIBRARY, the build tree this package sits in, or the
system's liblowrank.so.0.  Arrays are passed without copying whenever their
rows or columns have unit stride.  Failures raise LowrankError carrying the
library's status code and the calling thread's message.  Long computations
take progress=callable (return True to cancel, raising Cancelled), and
Ctrl-C cancels them (KeyboardInterrupt).
"""
from ._core import Cancelled, LowrankError, Matrix, Options, load_npy, save_npy, version
from .background import Background
from .factors import Factors, lp, lp_cost, svd
from .geometry import Coreset, Ellipsoid, coreset, lp_rounding, mvee

__all__ = ['Background', 'Cancelled', 'Coreset', 'Ellipsoid', 'Factors', 'LowrankError', 'Matrix', 'Options',
           'coreset', 'load_npy', 'lp', 'lp_cost', 'lp_rounding', 'mvee', 'save_npy', 'svd',
           'version']
