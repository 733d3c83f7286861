"""mvee(), lp_rounding() and coreset() against their defining properties."""
import unittest

import numpy as np

import lowrank


class TestGeometry(unittest.TestCase):
    def test_mvee_encloses_and_is_certified(self):
        pts = np.random.default_rng(5).standard_normal((500, 4))
        e = lowrank.mvee(pts, eps=1e-4)
        d = pts - e.center
        dist = np.einsum('ij,jk,ik->i', d, e.shape, d)
        self.assertLessEqual(dist.max(), 1 + 1e-6)
        self.assertLessEqual(e.eps, 1e-4)
        self.assertAlmostEqual(e.weights.sum(), 1.0, places=10)
        np.testing.assert_allclose(e.center, e.weights @ pts, atol=1e-10)
        sym = lowrank.mvee(pts, center='origin')
        np.testing.assert_array_equal(sym.center, np.zeros(4))
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.mvee(np.zeros((10, 3)))
        self.assertEqual(cm.exception.name, 'EDEGENERATE')

    def test_rounding_inequality(self):
        a = np.random.default_rng(6).standard_normal((300, 6))
        x = np.random.default_rng(7).standard_normal((6, 2000))
        for p in (1, 1.5, 2, 3):
            for method in ('lewis', 'lowner'):
                g, alpha = lowrank.lp_rounding(a, p, method=method)
                ratio = np.linalg.norm(a @ x, ord=p, axis=0) / np.linalg.norm(g @ x, axis=0)
                self.assertGreaterEqual(ratio.min(), 1 - 1e-9)
                self.assertLessEqual(ratio.max(), alpha * (1 + 1e-9))
        g, alpha = lowrank.lp_rounding(a, 2)
        self.assertAlmostEqual(alpha, 1.0, places=9)
        np.testing.assert_allclose(g.T @ g, a.T @ a, rtol=1e-9)

    def test_coreset_cost_and_merge(self):
        rng = np.random.default_rng(8)
        a = rng.standard_normal((20000, 5)) * rng.exponential(size=(20000, 1))
        c = lowrank.coreset(a, 1, 1500, seed=3, row_offset=100)
        self.assertLessEqual(len(c), 1500)
        np.testing.assert_array_equal(c.points, a[c.indices - 100])
        x = rng.standard_normal((5, 20))
        full = np.abs(a @ x).sum(axis=0)
        approx = c.weights @ np.abs(c.points @ x)
        self.assertLess(np.max(np.abs(approx / full - 1)), 0.1)
        half = lowrank.coreset(a[:10000], 1, 800, seed=1)
        other = lowrank.coreset(a[10000:], 1, 800, seed=2, row_offset=10000)
        merged = half.merge(other, 1000, seed=4)
        self.assertLessEqual(len(merged), 1000)
        np.testing.assert_array_equal(merged.points, a[merged.indices])
        approx = merged.weights @ np.abs(merged.points @ x)
        self.assertLess(np.max(np.abs(approx / full - 1)), 0.15)
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.coreset(a, 0.5, 10)
        self.assertEqual(cm.exception.name, 'ERANGE')


if __name__ == '__main__':
    unittest.main()
