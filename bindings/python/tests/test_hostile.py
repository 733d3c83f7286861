"""What a hostile or careless caller may pass the binding (issue 13): values
ctypes would silently wrap or truncate, read-only destinations and broadcast
frames.  Each fails with a Python exception or is handled, never passed on
mangled."""
import os
import tempfile
import unittest

import numpy as np

import lowrank


class TestIntegers(unittest.TestCase):
    def test_k_beyond_int64_is_refused_not_wrapped(self):
        a = np.random.default_rng(0).standard_normal((20, 10))
        for k in (2 ** 64 + 2, 2 ** 63, -2 ** 63 - 1):
            with self.assertRaises(OverflowError):
                lowrank.svd(a, k)
            with self.assertRaises(OverflowError):
                lowrank.lp(a, k, 1.0)
        with self.assertRaises(TypeError):
            lowrank.svd(a, 2.5)

    def test_seed_beyond_int64_is_refused_not_wrapped(self):
        a = np.random.default_rng(1).standard_normal((200, 60))
        with self.assertRaises(OverflowError):
            lowrank.svd(a, 2, method='randomized', seed=2 ** 64)
        # the largest int64 seed is a seed like any other
        f = lowrank.svd(a, 2, method='randomized', seed=2 ** 63 - 1)
        self.assertEqual(f.rank, 2)

    def test_sizes_beyond_int64_are_refused(self):
        a = np.random.default_rng(2).standard_normal((40, 4))
        with self.assertRaises(OverflowError):
            lowrank.coreset(a, 1.0, 2 ** 64 + 5)
        with self.assertRaises(OverflowError):
            lowrank.Background(2 ** 64 + 8, 8)


class TestPaths(unittest.TestCase):
    def test_nul_in_a_path_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            good = os.path.join(d, 'a.npy')
            lowrank.save_npy(good, np.eye(3))
            with self.assertRaises(ValueError):
                lowrank.load_npy(good + '\0.ignored')
            with self.assertRaises(ValueError):
                lowrank.save_npy(os.path.join(d, 'b.npy\0x'), np.eye(3))
            self.assertEqual(sorted(os.listdir(d)), ['a.npy'])


class TestReconstructOut(unittest.TestCase):
    def test_read_only_out_is_refused_and_left_alone(self):
        a = np.random.default_rng(3).standard_normal((6, 5))
        f = lowrank.svd(a, 2)
        frozen = np.zeros((6, 5))
        frozen.flags.writeable = False
        with self.assertRaises(ValueError):
            f.reconstruct(out=frozen)
        self.assertTrue((frozen == 0).all())
        raw = bytes(6 * 5 * 8)
        with self.assertRaises(ValueError):
            f.reconstruct(out=np.frombuffer(raw, dtype=np.float64).reshape(6, 5))
        self.assertEqual(raw, bytes(6 * 5 * 8))
        with self.assertRaises(ValueError):
            f.reconstruct(out=raw)

    def test_writeable_out_is_written_in_place(self):
        a = np.random.default_rng(4).standard_normal((6, 5))
        f = lowrank.svd(a, 5)
        out = np.zeros((6, 5))
        self.assertIs(f.reconstruct(out=out), out)
        np.testing.assert_allclose(out, a, atol=1e-12)


class TestBroadcastFrames(unittest.TestCase):
    def test_stride_zero_frames_are_copied(self):
        rng = np.random.default_rng(5)
        bg = lowrank.Background(16, 12, 1, mode='seed', rank=1)
        frames = [rng.integers(90, 110, (12, 16), dtype=np.uint8) for _ in range(5)]
        bg.train(frames)
        row = rng.integers(90, 110, 16, dtype=np.uint8)
        flat = np.broadcast_to(row, (12, 16))      # every row the same memory
        self.assertEqual(flat.strides[0], 0)
        mask = bg.apply(flat)
        np.testing.assert_array_equal(mask, bg.apply(np.ascontiguousarray(flat)))
        colour = lowrank.Background(16, 12, 3, mode='seed', rank=1)
        colour.train([rng.integers(90, 110, (12, 16, 3), dtype=np.uint8) for _ in range(4)])
        pixel = np.broadcast_to(np.array([100, 100, 100], np.uint8), (12, 16, 3))
        self.assertEqual(colour.apply(pixel).shape, (12, 16))
        colour.train([pixel, np.ascontiguousarray(pixel) + 1, pixel.copy() + 2])


if __name__ == '__main__':
    unittest.main()
