"""lp() and lp_cost() against independent truths: numpy's SVD at p = 2, the
planted subspace of a haystack, the clean matrix under sparse corruption, and
the objectives computed here with numpy."""
import unittest

import numpy as np

import lowrank


def largest_angle_deg(a, b):
    """The largest principal angle between the column spans of a and b."""
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    cos = np.linalg.svd(qa.T @ qb, compute_uv=False).min()
    return np.degrees(np.arccos(min(1.0, cos)))


def haystack(n, d, k, outliers, seed=0):
    """Inliers near a k-dimensional subspace, outliers spread in every direction."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((d, k)))
    n_out = int(outliers * n)
    inliers = rng.standard_normal((n - n_out, k)) @ basis.T
    points = np.vstack([inliers + 1e-3 * rng.standard_normal(inliers.shape),
                        3 * rng.standard_normal((n_out, d))])
    return points[rng.permutation(n)], basis


class TestLp(unittest.TestCase):
    def test_p2_is_the_svd_subspace(self):
        rng = np.random.default_rng(1)
        a = rng.standard_normal((80, 12)) * np.linspace(3, 0.1, 12)
        f = lowrank.lp(a, 3, p=2)
        v_ref = np.linalg.svd(a)[2][:3].T
        self.assertLess(largest_angle_deg(f.vt.T, v_ref), 1e-5)

    def test_l1_recovers_the_haystack_where_the_svd_does_not(self):
        a, basis = haystack(2000, 10, 2, 0.3)
        for dtype in (np.float64, np.float32):
            f = lowrank.lp(a.astype(dtype), 2, p=1)
            self.assertEqual(f.vt.dtype, dtype)
            self.assertLess(largest_angle_deg(f.vt.T.astype(np.float64), basis), 1.0)
        self.assertGreater(largest_angle_deg(lowrank.svd(a, 2).vt.T, basis), 10.0)

    def test_entries_objective_ignores_sparse_corruption(self):
        rng = np.random.default_rng(2)
        clean = rng.standard_normal((120, 3)) @ rng.standard_normal((3, 60))
        a = clean.copy()
        hit = rng.random(a.shape) < 0.1
        a[hit] = rng.choice([-40.0, 40.0], hit.sum())
        f = lowrank.lp(np.asfortranarray(a), 3, p=1, objective='entries')
        err = np.linalg.norm(f.reconstruct() - clean) / np.linalg.norm(clean)
        svd_err = np.linalg.norm(lowrank.svd(a, 3).reconstruct() - clean) / np.linalg.norm(clean)
        self.assertLess(err, 1e-3)
        self.assertGreater(svd_err, 0.1)

    def test_cost_matches_numpy(self):
        rng = np.random.default_rng(3)
        a = rng.standard_normal((50, 8))
        for orientation in ('rows', 'cols'):
            f = lowrank.lp(a, 2, p=1.5, orientation=orientation, refine_iter=0)
            approx = f.reconstruct()
            points = (a - approx) if orientation == 'rows' else (a - approx).T
            rows = (np.linalg.norm(points, axis=1) ** 1.5).sum()
            entries = (np.abs(a - approx) ** 1.5).sum()
            self.assertAlmostEqual(lowrank.lp_cost(a, f, 1.5, 'rows') / rows, 1.0, places=9)
            self.assertAlmostEqual(lowrank.lp_cost(a, f, 1.5, 'entries') / entries, 1.0,
                                   places=9)

    def test_refinement_never_raises_the_cost(self):
        a, _ = haystack(500, 6, 2, 0.4, seed=4)
        start = lowrank.lp_cost(a, lowrank.lp(a, 2, p=1, refine_iter=0), 1)
        refined = lowrank.lp_cost(a, lowrank.lp(a, 2, p=1, refine_iter=20), 1)
        self.assertLessEqual(refined, start)

    def test_the_search_options(self):
        """The sketch (sketch_dim) against the points' own span (0), the
        random starts and the seed: the same cost to the refinement's
        tolerance, the same bits for the same seed."""
        a = np.random.default_rng(6).standard_normal((200, 120))
        sketched = lowrank.lp(a, 3, p=1, sketch_dim=20, seed=4)
        full = lowrank.lp(a, 3, p=1, sketch_dim=0, starts=0)
        again = lowrank.lp(a, 3, p=1, sketch_dim=20, seed=4)
        c1, c2 = lowrank.lp_cost(a, sketched, 1), lowrank.lp_cost(a, full, 1)
        self.assertLess(abs(c1 - c2), 1e-4 * c2)
        np.testing.assert_array_equal(sketched.vt, again.vt)
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.lp(a, 3, sketch_dim=2)
        self.assertEqual(cm.exception.name, 'ERANGE')

    def test_errors(self):
        a = np.ones((6, 4))
        for kwargs, name, text in (({'k': 5}, 'ERANGE', 'k = 5'),
                                   ({'k': 2, 'p': 0.5}, 'ERANGE', 'p'),
                                   ({'k': 2, 'method': 'exact'}, 'ERANGE', 'LOWRANK_METHOD_LEWIS')):
            with self.assertRaises(lowrank.LowrankError) as cm:
                lowrank.lp(a, **kwargs)
            self.assertEqual(cm.exception.name, name)
            self.assertIn(text, cm.exception.detail)
        f = lowrank.lp(a, 1)
        with self.assertRaises(ValueError):
            lowrank.lp_cost(a, f, 1, 'columns')
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.lp_cost(np.ones((4, 6)), f, 1)
        self.assertEqual(cm.exception.name, 'ESIZE')
        a[0, 0] = np.inf
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.lp(a, 1)
        self.assertEqual(cm.exception.name, 'ENONFINITE')


if __name__ == '__main__':
    unittest.main()
