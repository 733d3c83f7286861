"""Operators from Python: scipy.sparse matrices and LinearOperators (never densified) and
.npy/.npz files, against numpy's SVD of the same matrix dense, the independent truth."""
import os
import tempfile
import unittest

import numpy as np

import lowrank

try:
    import scipy.sparse as sp
    from scipy.sparse.linalg import LinearOperator, aslinearoperator
except ImportError:  # the binding itself does not need scipy
    sp = None


def sparse(m, n, dtype=np.float64, seed=1):
    return sp.random(m, n, 0.1, random_state=seed, format='csr', dtype=dtype)


@unittest.skipUnless(sp, 'scipy is not installed (apt-get install python3-scipy)')
class TestSparse(unittest.TestCase):
    def test_every_sparse_format_matches_numpy(self):
        for dtype, tol, shape in ((np.float64, 1e-12, (300, 120)), (np.float32, 1e-5, (120, 300))):
            a = sparse(*shape, dtype=dtype)
            ref = np.linalg.svd(a.toarray().astype(np.float64), compute_uv=False)
            for b in (a, a.tocsc(), a.tocoo(), sp.csr_array(a)):
                for method in ('exact', 'randomized'):
                    f = lowrank.svd(b, 5, method=method)
                    self.assertEqual(f.u.dtype, dtype)
                    self.assertEqual(f.shape, shape)
                    rtol = tol if method == 'exact' else 0.1
                    np.testing.assert_allclose(f.s, ref[:5], rtol=rtol, atol=tol * ref[0])

    def test_int32_indices_and_duplicates_are_handled_without_touching_the_input(self):
        a = sp.csr_matrix((np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 1, 2], np.int32),
                           np.array([0, 2, 3, 4], np.int32)), shape=(3, 3))
        self.assertFalse(a.has_canonical_format)     # (0, 0) stored twice
        f = lowrank.svd(a, 2, method='exact')
        np.testing.assert_allclose(f.s, np.linalg.svd(a.toarray(), compute_uv=False)[:2])
        self.assertEqual(a.nnz, 4)                   # the caller's matrix is unchanged

    def test_lp_of_sparse_matches_lp_of_dense(self):
        a = sparse(400, 15, seed=3)
        f, g = lowrank.lp(a, 3, p=1), lowrank.lp(a.toarray(), 3, p=1)
        d = a.toarray()
        self.assertAlmostEqual(lowrank.lp_cost(d, f, 1), lowrank.lp_cost(d, g, 1), places=8)


@unittest.skipUnless(sp, 'scipy is not installed (apt-get install python3-scipy)')
class TestLinearOperator(unittest.TestCase):
    def test_linear_operator_matches_numpy(self):
        rng = np.random.default_rng(4)
        dense = rng.standard_normal((200, 90)) * (np.arange(1, 91) ** -1.0)
        calls = []

        def matmat(x):
            calls.append(x.shape[1])
            return dense @ x

        op = LinearOperator(dense.shape, matvec=lambda x: dense @ x, matmat=matmat,
                            rmatvec=lambda y: dense.T @ y, dtype=np.float64)
        ref = np.linalg.svd(dense, compute_uv=False)
        for method, rtol in (('exact', 1e-12), ('randomized', 1e-3)):
            f = lowrank.svd(op, 4, method=method)
            np.testing.assert_allclose(f.s, ref[:4], rtol=rtol)
        self.assertGreater(max(calls), 1)            # blocks, not single vectors
        f = lowrank.svd(aslinearoperator(sp.csr_matrix(dense)), 4, method='exact')
        np.testing.assert_allclose(f.s, ref[:4], rtol=1e-12)

    def test_an_exception_in_the_callback_propagates(self):
        def boom(x):
            raise KeyError('from the callback')

        op = LinearOperator((30, 20), matvec=boom, rmatvec=boom, dtype=np.float64)
        with self.assertRaises(KeyError):
            lowrank.svd(op, 3)

    def test_nan_from_the_callback_is_an_error(self):
        op = LinearOperator((30, 20), matvec=lambda x: np.full(30, np.nan),
                            rmatvec=lambda y: np.full(20, np.nan), dtype=np.float64)
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.svd(op, 3)
        self.assertEqual(cm.exception.name, 'ENONFINITE')


class TestFiles(unittest.TestCase):
    def test_npy_read_block_by_block(self):
        rng = np.random.default_rng(5)
        a = rng.standard_normal((500, 40)).astype(np.float32)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'a.npy')
            np.save(path, a)
            op = lowrank.Operator.npy(path)
            self.assertEqual((op.shape, op.dtype), ((500, 40), np.float32))
            f = lowrank.svd(op, 5, method='randomized')
            g = lowrank.svd(a, 5, method='randomized')
            np.testing.assert_allclose(f.s, g.s, rtol=1e-4)
            passes, read = op.passes
            self.assertEqual(read, passes * a.nbytes)
            np.testing.assert_allclose(op.apply(np.eye(40, 2, dtype=np.float32)), a[:, :2])

    @unittest.skipUnless(sp, 'scipy is not installed')
    def test_npz_as_scipy_saved_it(self):
        a = sparse(60, 30, seed=6)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'a.npz')
            for compressed in (True, False):
                sp.save_npz(path, a, compressed=compressed)
                f = lowrank.svd(lowrank.Operator.npz(path), 3, method='exact')
                np.testing.assert_allclose(
                    f.s, np.linalg.svd(a.toarray(), compute_uv=False)[:3], rtol=1e-12)


if __name__ == '__main__':
    unittest.main()
