#!/usr/bin/env python3
"""Write the .npy files that tests/check_npy.c reads, with numpy itself as the
independent writer.  Element (i, j) of every matrix is i * 100 + j + 0.25
(exact in float32).  Run from anywhere: /usr/bin/python3 tests/data/make_npy.py
"""
import os
import numpy as np
from numpy.lib import format as npf

HERE = os.path.dirname(os.path.abspath(__file__))


def grid(rows, cols, dtype):
    i, j = np.mgrid[0:rows, 0:cols]
    return (i * 100 + j + 0.25).astype(dtype)


def save(name, arr, version):
    with open(os.path.join(HERE, name), 'wb') as f:
        npf.write_array(f, arr, version=version)


save('v1_f8_c.npy', grid(3, 4, '<f8'), (1, 0))
save('v1_f4_f.npy', np.asfortranarray(grid(3, 4, '<f4')), (1, 0))
save('v1_f4_f_be.npy', np.asfortranarray(grid(3, 4, '>f4')), (1, 0))
save('v2_f8_f.npy', np.asfortranarray(grid(5, 2, '<f8')), (2, 0))
save('v3_f4_c.npy', grid(2, 6, '<f4'), (3, 0))
save('v1_f8_be_c.npy', grid(4, 3, '>f8'), (1, 0))
save('v1_f8_1d.npy', grid(5, 1, '<f8').ravel(), (1, 0))
save('v1_i8.npy', np.arange(6, dtype='<i8').reshape(2, 3), (1, 0))
save('v1_c16.npy', np.ones((2, 2), dtype='<c16'), (1, 0))
save('v1_f8_3d.npy', np.zeros((2, 2, 2)), (1, 0))
save('v1_f8_0d.npy', np.array(1.5), (1, 0))
save('v1_f8_empty.npy', np.zeros((0, 3)), (1, 0))
