#!/usr/bin/env python3
"""Write the sparse .npz files that tests/check_operator.c reads, with scipy itself as the
independent writer (scipy.sparse.save_npz).  Every matrix is 7 x 5 with entry (i, j) =
i * 10 + j + 0.5 where (i * 3 + j * 5) % 4 == 0, and 0 elsewhere (12 nonzeros, exact in
float32).  Run from anywhere: /usr/bin/python3 tests/data/make_npz.py
"""
import os
import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))


def dense(dtype):
    i, j = np.mgrid[0:7, 0:5]
    return np.where((i * 3 + j * 5) % 4 == 0, i * 10 + j + 0.5, 0).astype(dtype)


def save(name, m, compressed):
    sp.save_npz(os.path.join(HERE, name), m, compressed=compressed)


save('csr_f8_deflate.npz', sp.csr_matrix(dense('<f8')), True)       # int32 indices
save('csr_f4_stored.npz', sp.csr_matrix(dense('<f4')), False)
save('csc_f8_stored.npz', sp.csc_matrix(dense('<f8')), False)
big = sp.csr_matrix(dense('<f8'))
big.indices = big.indices.astype(np.int64)
big.indptr = big.indptr.astype(np.int64)
save('csr_f8_i8_deflate.npz', big, True)                             # int64 indices
# save_npz's own layout written by numpy.savez, as older scipy wrote it: the format as a
# unicode string, and big-endian values
m = sp.csr_matrix(dense('<f8'))
np.savez(os.path.join(HERE, 'csr_f8_be_unicode.npz'), indices=m.indices, indptr=m.indptr,
         format='csr', shape=m.shape, data=m.data.astype('>f8'))
save('coo_f8.npz', sp.coo_matrix(dense('<f8')), False)               # a format not read
