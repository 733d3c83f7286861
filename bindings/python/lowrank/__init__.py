"""liblowrank for Python: robust low-rank approximation on numpy arrays.

A thin ctypes binding of the C library (no compiler needed).  The library is
found through $LOWRANK_LIBRARY, the build tree this package sits in, or the
system's liblowrank.so.0.  Arrays are passed without copying whenever their
rows or columns have unit stride; svd() and lp() also take scipy.sparse
matrices and LinearOperator-like objects, which are never densified, and
Operator.npy() files larger than memory.  Failures raise LowrankError
carrying the library's status code and the calling thread's message.  Long
computations take progress=callable (return True to cancel, raising
Cancelled), and Ctrl-C cancels them (KeyboardInterrupt).
"""
from ._core import Cancelled, LowrankError, Matrix, Options, load_npy, save_npy, version
from .background import Background
from .factors import Factors, lp, lp_cost, svd
from .geometry import Coreset, Ellipsoid, coreset, lp_rounding, mvee
from .operator import Operator

__all__ = ['Background', 'Cancelled', 'Coreset', 'Ellipsoid', 'Factors', 'LowrankError', 'Matrix',
           'Operator', 'Options', 'coreset', 'load_npy', 'lp', 'lp_cost', 'lp_rounding', 'mvee',
           'save_npy', 'svd', 'version']
