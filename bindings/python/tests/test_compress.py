"""Stats, svd_data, bias_shift and allocate_ranks against numpy: two-pass
statistics, and the minimiser of the output error from the SVD of the
centred outputs Xc W (Eckart-Young)."""
import unittest

import numpy as np

import lowrank


def inputs(rows, cols, seed, offset=3.0):
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((cols, cols)) * np.logspace(0, -2, cols)
    return rng.standard_normal((rows, cols)) @ mix + offset


def weights(n, d, seed):
    return np.random.default_rng(seed).standard_normal((n, d)) / np.sqrt(1.0 + np.arange(d))


def best(w, x, k):
    """(W V_k V_k^T, the optimal output error, ||Xc W||) by numpy."""
    xc = x - x.mean(0)
    _, s, vt = np.linalg.svd(xc @ w, full_matrices=False)
    return w @ vt[:k].T @ vt[:k], np.sqrt((s[k:] ** 2).sum()), np.sqrt((s ** 2).sum())


class TestStats(unittest.TestCase):
    def test_batches_and_merge_match_numpy(self):
        x = inputs(500, 9, 1, offset=1e6)
        st = lowrank.Stats(9)
        for i in range(0, 500, 37):
            st.add(x[i:i + 37])
        self.assertEqual((st.count, st.dim), (500, 9))
        np.testing.assert_allclose(st.mean, x.mean(0), rtol=1e-13)
        np.testing.assert_allclose(st.covariance, np.cov(x.T, bias=True), rtol=1e-8, atol=1e-10)
        a, b = lowrank.Stats(9).add(x[:100]), lowrank.Stats(9).add(x[100:].astype(np.float32))
        c = lowrank.Stats.from_moments(b.count, b.mean, b.covariance)
        a.merge(c)
        both = np.vstack([x[:100], x[100:].astype(np.float32)])
        np.testing.assert_allclose(a.covariance, np.cov(both.T, bias=True), rtol=1e-8, atol=1e-10)
        with self.assertRaises(lowrank.LowrankError) as e:
            lowrank.Stats(9).mean
        self.assertEqual(e.exception.name, 'EDEGENERATE')
        with self.assertRaises(lowrank.LowrankError) as e:
            st.add(x[:, :8])
        self.assertEqual(e.exception.name, 'ESIZE')

    def test_progress_and_cancel(self):
        # long enough (7e9 flops) to outlast the first report's 0.05 s on a fast
        # idle machine; a slow one cancels at that report, after 0.05 s
        x = np.random.default_rng(3).standard_normal((20000, 600))
        seen = []
        st = lowrank.Stats(600, progress=lambda f: seen.append(f) or True)
        with self.assertRaises(lowrank.Cancelled):
            st.add(x)
        self.assertEqual(st.count, 0)   # unchanged by the cancelled batch
        self.assertTrue(seen)


class TestSvdData(unittest.TestCase):
    def test_is_the_minimiser(self):
        for n, d in ((40, 10), (10, 40), (30, 30)):
            for order in ('C', 'F'):
                x, w = inputs(300, n, 2), np.asarray(weights(n, d, 3), order=order)
                for k in (1, 4):
                    wk, opt, total = best(w, x, k)
                    f = lowrank.svd_data(w, x, k)   # an array of inputs will do
                    np.testing.assert_allclose(f.reconstruct(), wk, atol=1e-9)
                    self.assertAlmostEqual(f.error, opt / total, places=10)
                    shift = lowrank.bias_shift(f, w, lowrank.Stats(n).add(x))
                    np.testing.assert_allclose(shift, x.mean(0) @ (w - f.reconstruct()),
                                               atol=1e-10)

    def test_tolerance_ridge_and_float32(self):
        x, w = inputs(200, 20, 4), weights(20, 15, 5).astype(np.float32)
        st = lowrank.Stats(20).add(x)
        f = lowrank.svd_data(w, st, tol=0.2)
        self.assertLessEqual(f.error, 0.2)
        self.assertEqual(f.u.dtype, np.float32)
        plain = lowrank.svd(w, f.rank).reconstruct()
        shrunk = lowrank.svd_data(w, st, f.rank, ridge=1e12).reconstruct()
        np.testing.assert_allclose(shrunk, plain, atol=1e-5)
        with self.assertRaises(lowrank.LowrankError) as e:
            lowrank.svd_data(w, lowrank.Stats(19).add(x[:, :19]), 2)
        self.assertEqual(e.exception.name, 'ESIZE')


class TestAllocate(unittest.TestCase):
    def test_budget_and_tolerance(self):
        ws = [weights(30, 20, 6), weights(20, 40, 7), weights(50, 10, 8)]
        xs = [inputs(200, w.shape[0], 9 + i) for i, w in enumerate(ws)]
        total = sum(w.size for w in ws)
        for budget in (0.2, 0.5):
            ranks, errors = lowrank.allocate_ranks(ws, xs, budget)
            stored = sum(w.size if k == min(w.shape) else k * sum(w.shape)
                         for w, k in zip(ws, ranks))
            self.assertLessEqual(stored, budget * total)
            for w, x, k, e in zip(ws, xs, ranks, errors):
                if k < min(w.shape):
                    _, opt, all_ = best(w, x, k)
                    self.assertAlmostEqual(e, opt / all_, places=8)
        ranks, errors = lowrank.allocate_ranks(ws, xs, tol=0.1)
        self.assertLessEqual(np.sqrt(np.mean(np.square(errors))), 0.1)
        plain, _ = lowrank.allocate_ranks(ws, None, 0.5)   # the SVD's spectra
        self.assertEqual(len(plain), 3)
        with self.assertRaises(lowrank.LowrankError) as e:
            lowrank.allocate_ranks(ws, xs, 0.01)
        self.assertEqual(e.exception.name, 'ERANGE')

    def test_importance(self):
        ws = [weights(30, 20, 6), weights(20, 40, 7), weights(50, 10, 8)]
        xs = [inputs(200, w.shape[0], 9 + i) for i, w in enumerate(ws)]
        plain, _ = lowrank.allocate_ranks(ws, xs, 0.3)
        # only a common factor: the same ranks
        self.assertEqual(lowrank.allocate_ranks(ws, xs, 0.3, importance=[2.5] * 3)[0], plain)
        for i in range(3):
            heavy = [1.0] * 3
            heavy[i] = 1e6
            ranks, _ = lowrank.allocate_ranks(ws, xs, 0.3, importance=heavy)
            # the layer weighed most gets all the budget that rank 1 elsewhere leaves
            n, d = ws[i].shape
            left = 0.3 * sum(w.size for w in ws) - sum(sum(w.shape) for w in ws) + n + d
            most = min(n, d) if n * d <= left else int(left // (n + d))
            self.assertEqual(ranks[i], most)
            self.assertGreaterEqual(ranks[i], plain[i])
        ranks, errors = lowrank.allocate_ranks(ws, xs, tol=0.1, importance=[1, 2, 3])
        self.assertLessEqual(np.sqrt(np.dot([1, 2, 3], np.square(errors)) / 6), 0.1)
        with self.assertRaises(ValueError):
            lowrank.allocate_ranks(ws, xs, 0.3, importance=[1, 2])
        with self.assertRaises(lowrank.LowrankError) as e:
            lowrank.allocate_ranks(ws, xs, 0.3, importance=[1, -2, 3])
        self.assertEqual(e.exception.name, 'ERANGE')


if __name__ == '__main__':
    unittest.main()
