"""svd() and Factors against numpy.linalg.svd, the independent truth."""
import unittest

import numpy as np

import lowrank


def decaying(m, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((m, min(m, n))))
    v, _ = np.linalg.qr(rng.standard_normal((n, min(m, n))))
    s = np.arange(1, min(m, n) + 1) ** -0.7
    return ((u * s) @ v.T).astype(dtype)


class TestSvd(unittest.TestCase):
    def test_matches_numpy_in_every_layout(self):
        for dtype, tol in ((np.float64, 1e-10), (np.float32, 2e-4)):
            for order in ('C', 'F'):
                for shape in ((60, 25), (25, 60)):
                    a = np.asarray(decaying(*shape, dtype), order=order)
                    s_ref = np.linalg.svd(a.astype(np.float64), compute_uv=False)
                    for method in ('exact', 'randomized'):
                        f = lowrank.svd(a, 5, method=method)
                        self.assertEqual(f.u.dtype, dtype)
                        self.assertEqual((f.u.shape, f.s.shape, f.vt.shape),
                                         ((shape[0], 5), (5,), (5, shape[1])))
                        rtol = tol if method == 'exact' else 1e-2
                        np.testing.assert_allclose(f.s, s_ref[:5], rtol=rtol)
                        best = np.sqrt((s_ref[5:] ** 2).sum() / (s_ref ** 2).sum())
                        err = np.linalg.norm(a - f.reconstruct()) / np.linalg.norm(a)
                        self.assertLess(err, best * (1 + 10 * rtol) + 10 * tol)

    def test_split_and_error(self):
        a = decaying(40, 30, np.float64, seed=2)
        f = lowrank.svd(a, 4, method='exact')
        approx = f.reconstruct()
        for how in ('left', 'right', 'balanced'):
            left, right = f.split(how)
            self.assertEqual((left.shape, right.shape), ((40, 4), (4, 30)))
            np.testing.assert_allclose(left @ right, approx, atol=1e-12)
        exact = np.linalg.norm(a - approx) / np.linalg.norm(a)
        self.assertAlmostEqual(f.error, exact, places=7)

    def test_reconstruct_in_place(self):
        a = decaying(20, 10, np.float32, seed=3)
        f = lowrank.svd(a, 3)
        out = np.zeros((10, 20), dtype=np.float64).T      # column-major, other dtype
        self.assertIs(f.reconstruct(out), out)
        np.testing.assert_allclose(out, f.reconstruct(), atol=1e-5)

    def test_tolerance_chooses_the_rank(self):
        a = decaying(50, 40, np.float64, seed=4)
        s = np.linalg.svd(a, compute_uv=False)
        tail = np.sqrt(np.cumsum((s ** 2)[::-1])[::-1] / (s ** 2).sum())
        want = int(np.argmax(np.append(tail[1:], 0) <= 0.3)) + 1
        self.assertEqual(lowrank.svd(a, tol=0.3, method='exact').rank, want)

    def test_errors(self):
        a = np.ones((5, 4))
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.svd(a, 9)
        self.assertEqual(cm.exception.name, 'ERANGE')
        self.assertIn('k = 9', cm.exception.detail)
        a[1, 1] = np.nan
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.svd(a, 2)
        self.assertEqual(cm.exception.name, 'ENONFINITE')


if __name__ == '__main__':
    unittest.main()
