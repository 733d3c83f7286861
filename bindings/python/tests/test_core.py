"""The binding's core: loading, versions, errors, matrices and options, with
numpy as the independent reference."""
import os
import re
import tempfile
import unittest

import numpy as np

import lowrank
from lowrank import _core

SRCDIR = os.environ.get('SRCDIR', os.path.join(os.path.dirname(__file__), '..', '..', '..'))
HEADER = open(os.path.join(SRCDIR, 'include', 'lowrank.h')).read()


def header_value(name):
    m = re.search(r'\b%s(?: =|) (-?\d+)' % name, HEADER)
    if not m:
        raise AssertionError('%s not in lowrank.h' % name)
    return int(m.group(1))


class TestConstants(unittest.TestCase):
    def test_enums_match_the_header(self):
        for code, name in _core.STATUS_NAMES.items():
            self.assertEqual(header_value('LOWRANK_' + name), code)
        self.assertEqual(header_value('LOWRANK_FLOAT32'), _core.FLOAT32)
        self.assertEqual(header_value('LOWRANK_COL_MAJOR'), _core.COL_MAJOR)
        for opt, (key, _) in _core.OPTION_KEYS.items():
            name = {'tol': 'TOLERANCE'}.get(opt, opt.upper())
            self.assertEqual(header_value('LOWRANK_OPT_' + name), key)
        for name, value in _core.METHODS.items():
            name = {'cutting-plane': 'lowner'}.get(name, name)   # the tool's word for it
            self.assertEqual(header_value('LOWRANK_METHOD_' + name.upper()), value)
        for table, prefix in ((_core.CENTERS, 'CENTER'), (_core.BG_MODES, 'BG_MODE'),
                              (_core.BG_THRESHOLDS, 'BG_THRESHOLD'),
                              (_core.OBJECTIVES, 'OBJECTIVE'), (_core.ORIENTATIONS, 'ORIENT')):
            for name, value in table.items():
                self.assertEqual(header_value('LOWRANK_%s_%s' % (prefix, name.upper())), value)

    def test_version(self):
        v = [header_value('LOWRANK_VERSION_' + p) for p in ('MAJOR', 'MINOR', 'PATCH')]
        self.assertEqual(lowrank.version(), '%d.%d.%d' % tuple(v))


class TestNpy(unittest.TestCase):
    def test_round_trip_every_kind(self):
        rng = np.random.default_rng(1)
        with tempfile.TemporaryDirectory() as d:
            for dtype in (np.float32, np.float64):
                for order in ('C', 'F'):
                    a = np.asarray(rng.standard_normal((7, 5)), dtype=dtype, order=order)
                    path = os.path.join(d, 'a.npy')
                    lowrank.save_npy(path, a)
                    np.testing.assert_array_equal(np.load(path), a)   # numpy reads ours
                    np.save(path, a)
                    b = lowrank.load_npy(path)                         # we read numpy's
                    self.assertEqual(b.dtype, a.dtype)
                    np.testing.assert_array_equal(b, a)

    def test_strided_views_are_wrapped(self):
        base = np.arange(60, dtype=np.float64).reshape(6, 10)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'v.npy')
            for view in (base[1:5, 2:7], base.T[3:8, 1:4], base[::2, 1:3].copy()):
                lowrank.save_npy(path, view)
                np.testing.assert_array_equal(np.load(path), view)

    def test_errors_carry_the_library_message(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'bad.npy')
            with open(path, 'wb') as f:
                f.write(b'\x93NUMPY\x01\x00\x10\x00{"descr": 1}   ')
            with self.assertRaises(lowrank.LowrankError) as cm:
                lowrank.load_npy(path)
            self.assertEqual(cm.exception.name, 'EFORMAT')
            self.assertIn('header', cm.exception.detail)
            np.save(path, np.zeros((2, 2), dtype=np.int32))
            with self.assertRaises(lowrank.LowrankError) as cm:
                lowrank.load_npy(path)
            self.assertEqual(cm.exception.name, 'EUNSUPPORTED')
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.load_npy('/nonexistent/x.npy')
        self.assertEqual(cm.exception.code, header_value('LOWRANK_EIO'))


class TestMatrix(unittest.TestCase):
    def test_wrap_is_zero_copy(self):
        a = np.zeros((4, 3), dtype=np.float32, order='F')
        m = lowrank.Matrix(a)
        self.assertIs(m.array, a)
        self.assertEqual(_core.lib.lowrank_matrix_data(m.handle), a.ctypes.data)
        self.assertEqual(_core.lib.lowrank_matrix_layout(m.handle), _core.COL_MAJOR)
        self.assertEqual(_core.lib.lowrank_matrix_ld(m.handle), 4)

    def test_other_dtypes_are_converted(self):
        m = lowrank.Matrix(np.arange(6).reshape(2, 3))
        self.assertEqual(m.array.dtype, np.float64)
        with self.assertRaises(ValueError):
            lowrank.Matrix(np.zeros((2, 2, 2)))
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.Matrix(np.zeros((0, 3)))
        self.assertEqual(cm.exception.name, 'ESIZE')


class TestOptions(unittest.TestCase):
    def test_values_are_checked(self):
        lowrank.Options(method='randomized', seed=-5, tol=0.1, eps=1e-4)
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.Options(tol=1.5)
        self.assertEqual(cm.exception.name, 'ERANGE')
        with self.assertRaises(ValueError):
            lowrank.Options(method='magic')
        with self.assertRaises(TypeError):
            lowrank.Options(colour='blue')


if __name__ == '__main__':
    unittest.main()
