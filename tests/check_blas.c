/*
 * check_blas.c - the internal BLAS/LAPACK layer, against definitions and
 * closed forms: products against naive loops, factorisations against the
 * identities they must satisfy, and the size checks before narrowing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "testutil.h"

static const lowrank_dtype dtypes[] = {LOWRANK_FLOAT32, LOWRANK_FLOAT64};

/* Column-major scratch of n elements of dtype t, filled with N(0,1). */
static void *randn(lowrank_dtype t, size_t n, uint64_t seed)
{
    void *p = malloc(n * lr_dtype_size(t));
    ck_assert_ptr_nonnull(p);
    lr_rng r;
    lr_rng_seed(&r, seed);
    lr_rng_fill_normal(&r, t, p, (int64_t)n);
    return p;
}

static double at(lowrank_dtype t, const void *p, size_t i)
{
    return t == LOWRANK_FLOAT32 ? ((const float *)p)[i] : ((const double *)p)[i];
}

static double tol(lowrank_dtype t) { return t == LOWRANK_FLOAT32 ? 1e-4 : 1e-12; }

/* op(x) of a stored matrix: entry (i, j), with leading dimension ld. */
static double op_at(lowrank_dtype t, char trans, const void *x, int64_t ld, int64_t i, int64_t j)
{
    return trans == 'N' ? at(t, x, (size_t)(i + j * ld)) : at(t, x, (size_t)(j + i * ld));
}

/* Every transposition, with leading dimensions beyond the rows, on shapes
 * that include a single column and a single row (which lr_gemm hands to
 * gemv). */
START_TEST(gemm_matches_loops)
{
    lowrank_dtype t = dtypes[_i];
    const int64_t shapes[][3] = {{7, 5, 9}, {7, 1, 9}, {1, 5, 9}, {1, 1, 9}};
    const char ops[] = {'N', 'T'};
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int64_t m = shapes[sh][0], n = shapes[sh][1], k = shapes[sh][2];
                char opa = ops[ta], opb = ops[tb];
                int64_t lda = (opa == 'N' ? m : k) + 2, ldb = (opb == 'N' ? k : n) + 3, ldc = m + 1;
                void *a = randn(t, (size_t)(lda * (opa == 'N' ? k : m)), 1),
                     *b = randn(t, (size_t)(ldb * (opb == 'N' ? n : k)), 2),
                     *c = randn(t, (size_t)(ldc * n), 3);
                double c0[64];
                for (int64_t i = 0; i < ldc * n; i++)
                    c0[i] = at(t, c, (size_t)i);
                ck_assert_ok(lr_gemm(t, opa, opb, m, n, k, 2.0, a, lda, b, ldb, 0.5, c, ldc));
                for (int64_t i = 0; i < ldc; i++)
                    for (int64_t j = 0; j < n; j++) {
                        double want = c0[i + j * ldc]; /* the padding row is untouched */
                        if (i < m) {
                            double s = 0;
                            for (int64_t q = 0; q < k; q++)
                                s += op_at(t, opa, a, lda, i, q) * op_at(t, opb, b, ldb, q, j);
                            want = 2 * s + 0.5 * want;
                        }
                        ck_assert_double_eq_tol(at(t, c, (size_t)(i + j * ldc)), want,
                                                50 * tol(t));
                    }
                free(a);
                free(b);
                free(c);
            }
}
END_TEST

START_TEST(gemv_and_syrk_match_loops)
{
    lowrank_dtype t = dtypes[_i];
    const int64_t m = 6, n = 4;
    void *a = randn(t, (size_t)(m * n), 4), *x = randn(t, (size_t)m, 5),
         *y = calloc((size_t)n, lr_dtype_size(t)), *c = calloc((size_t)(n * n), lr_dtype_size(t));
    ck_assert_ok(lr_gemv(t, 'T', m, n, 1.0, a, m, x, 1, 0.0, y, 1));
    ck_assert_ok(lr_syrk(t, 'L', 'T', n, m, 1.0, a, m, 0.0, c, n));
    for (int64_t j = 0; j < n; j++) {
        double s = 0;
        for (int64_t i = 0; i < m; i++)
            s += at(t, a, (size_t)(i + j * m)) * at(t, x, (size_t)i);
        ck_assert_double_eq_tol(at(t, y, (size_t)j), s, 10 * tol(t));
        for (int64_t l = j; l < n; l++) { /* lower triangle of A^T A */
            double g = 0;
            for (int64_t i = 0; i < m; i++)
                g += at(t, a, (size_t)(i + j * m)) * at(t, a, (size_t)(i + l * m));
            ck_assert_double_eq_tol(at(t, c, (size_t)(l + j * n)), g, 10 * tol(t));
        }
    }
    free(a);
    free(x);
    free(y);
    free(c);
}
END_TEST

/* Q has orthonormal columns, R is upper triangular, and QR = A. */
START_TEST(qr_reconstructs)
{
    lowrank_dtype t = dtypes[_i];
    const int64_t m = 12, n = 5;
    void *a = randn(t, (size_t)(m * n), 6), *q = malloc((size_t)(m * n) * lr_dtype_size(t)),
         *r = randn(t, (size_t)(n * n), 7);
    memcpy(q, a, (size_t)(m * n) * lr_dtype_size(t));
    ck_assert_ok(lr_qr(t, m, n, q, m, r, n));
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            double g = 0;
            for (int64_t p = 0; p < m; p++)
                g += at(t, q, (size_t)(p + i * m)) * at(t, q, (size_t)(p + j * m));
            ck_assert_double_eq_tol(g, i == j, 10 * tol(t));
            if (i > j)
                ck_assert_double_eq(at(t, r, (size_t)(i + j * n)), 0);
        }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p <= j; p++)
                s += at(t, q, (size_t)(i + p * m)) * at(t, r, (size_t)(p + j * n));
            ck_assert_double_eq_tol(s, at(t, a, (size_t)(i + j * m)), 10 * tol(t));
        }
    free(a);
    free(q);
    free(r);
}
END_TEST

/* The symmetric tridiagonal matrix with 2 on the diagonal and -1 beside it
 * has eigenvalues 2 - 2 cos(k pi / (n + 1)), k = 1..n. */
static void *second_difference(lowrank_dtype t, int64_t n)
{
    void *a = calloc((size_t)(n * n), lr_dtype_size(t));
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            double v = i == j ? 2 : (i - j == 1 || j - i == 1) ? -1 : 0;
            if (t == LOWRANK_FLOAT32)
                ((float *)a)[i + j * n] = (float)v;
            else
                ((double *)a)[i + j * n] = v;
        }
    return a;
}

START_TEST(symmetric_eigen_closed_form)
{
    lowrank_dtype t = dtypes[_i];
    const int64_t n = 10;
    void *a = second_difference(t, n), *w = malloc((size_t)n * lr_dtype_size(t));
    ck_assert_ok(lr_syevd(t, n, a, n, w));
    for (int64_t k = 1; k <= n; k++)
        ck_assert_double_eq_tol(at(t, w, (size_t)(k - 1)), 2 - 2 * cos(k * M_PI / (n + 1)),
                                10 * tol(t));
    free(a);
    /* the top three by the subset driver; vectors satisfy A z = lambda z */
    a = second_difference(t, n);
    void *a2 = second_difference(t, n), *z = malloc((size_t)(n * 3) * lr_dtype_size(t));
    ck_assert_ok(lr_syevr(t, n, a, n, n - 2, n, w, z, n));
    for (int64_t c = 0; c < 3; c++) {
        int64_t k = n - 2 + c;
        double lambda = 2 - 2 * cos(k * M_PI / (n + 1));
        ck_assert_double_eq_tol(at(t, w, (size_t)c), lambda, 10 * tol(t));
        for (int64_t i = 0; i < n; i++) {
            double s = 0;
            for (int64_t j = 0; j < n; j++)
                s += at(t, a2, (size_t)(i + j * n)) * at(t, z, (size_t)(j + c * n));
            ck_assert_double_eq_tol(s, lambda * at(t, z, (size_t)(i + c * n)), 10 * tol(t));
        }
    }
    free(a);
    free(a2);
    free(w);
    free(z);
}
END_TEST

/* A = U diag(s) V^T with known s, built from QR factors; both SVD drivers
 * must return s (descending), and gesvdx's subset must match. */
START_TEST(svd_recovers_known_singular_values)
{
    lowrank_dtype t = dtypes[_i];
    const int64_t m = 9, n = 6;
    size_t e = lr_dtype_size(t);
    void *u = randn(t, (size_t)(m * n), 8), *v = randn(t, (size_t)(n * n), 9);
    ck_assert_ok(lr_qr(t, m, n, u, m, NULL, 1));
    ck_assert_ok(lr_qr(t, n, n, v, n, NULL, 1));
    double s[6] = {10, 5, 2, 1, 0.5, 0.25};
    void *us = malloc((size_t)(m * n) * e), *a = malloc((size_t)(m * n) * e);
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < m; i++) {
            double x = at(t, u, (size_t)(i + j * m)) * s[j];
            if (t == LOWRANK_FLOAT32)
                ((float *)us)[i + j * m] = (float)x;
            else
                ((double *)us)[i + j * m] = x;
        }
    ck_assert_ok(lr_gemm(t, 'N', 'T', m, n, n, 1, us, m, v, n, 0, a, m));
    void *copy = malloc((size_t)(m * n) * e), *sv = malloc((size_t)n * e),
         *uu = malloc((size_t)(m * n) * e), *vt = malloc((size_t)(n * n) * e);
    memcpy(copy, a, (size_t)(m * n) * e);
    ck_assert_ok(lr_gesdd(t, m, n, copy, m, sv, uu, m, vt, n));
    for (int j = 0; j < n; j++)
        ck_assert_double_eq_tol(at(t, sv, (size_t)j), s[j], 10 * tol(t));
    memcpy(copy, a, (size_t)(m * n) * e);
    ck_assert_ok(lr_gesdd(t, m, n, copy, m, sv, NULL, 1, NULL, 1));
    ck_assert_double_eq_tol(at(t, sv, 5), s[5], 10 * tol(t));
    memcpy(copy, a, (size_t)(m * n) * e);
    ck_assert_ok(lr_gesvdx(t, m, n, copy, m, 2, 3, sv, uu, m, vt, 2));
    ck_assert_double_eq_tol(at(t, sv, 0), s[1], 10 * tol(t));
    ck_assert_double_eq_tol(at(t, sv, 1), s[2], 10 * tol(t));
    free(u);
    free(v);
    free(us);
    free(a);
    free(copy);
    free(sv);
    free(uu);
    free(vt);
}
END_TEST

START_TEST(cholesky)
{
    lowrank_dtype t = dtypes[_i];
    void *a = second_difference(t, 5);
    ck_assert_ok(lr_potrf(t, 'L', 5, a, 5));
    /* L(0,0) = sqrt(2), L(1,0) = -1/sqrt(2) */
    ck_assert_double_eq_tol(at(t, a, 0), sqrt(2), tol(t));
    ck_assert_double_eq_tol(at(t, a, 1), -1 / sqrt(2), tol(t));
    free(a);
    a = second_difference(t, 5);
    if (t == LOWRANK_FLOAT32)
        ((float *)a)[0] = -1;
    else
        ((double *)a)[0] = -1;
    ck_assert_fails(lr_potrf(t, 'L', 5, a, 5), LOWRANK_EDEGENERATE);
    free(a);
}
END_TEST

/* Sizes beyond the BLAS integer are refused before any routine sees them
 * (the pointers are never dereferenced), and bad leading dimensions are
 * reported instead of reaching xerbla. */
START_TEST(sizes_are_checked_before_narrowing)
{
    double x = 0;
    int64_t big = (int64_t)1 << 31;
    ck_assert_fails(lr_gemm(LOWRANK_FLOAT64, 'N', 'N', big, 1, 1, 1, &x, big, &x, 1, 0, &x, big),
                    LOWRANK_EOVERFLOW);
    ck_assert_fails(lr_gemv(LOWRANK_FLOAT64, 'N', 1, big, 1, &x, 1, &x, 1, 0, &x, 1),
                    LOWRANK_EOVERFLOW);
    ck_assert_fails(lr_syrk(LOWRANK_FLOAT32, 'L', 'N', 2, big, 1, &x, 2, 0, &x, 2),
                    LOWRANK_EOVERFLOW);
    ck_assert_fails(lr_trsm(LOWRANK_FLOAT64, 'L', 'U', 'N', 'N', big, 1, 1, &x, big, &x, big),
                    LOWRANK_EOVERFLOW);
    ck_assert_fails(lr_qr(LOWRANK_FLOAT64, big, 1, &x, big, NULL, 1), LOWRANK_EOVERFLOW);
    ck_assert_fails(lr_syevd(LOWRANK_FLOAT64, big, &x, big, &x), LOWRANK_EOVERFLOW);
    ck_assert_fails(lr_syevr(LOWRANK_FLOAT64, big, &x, big, 1, 1, &x, &x, big),
                    LOWRANK_EOVERFLOW);
    ck_assert_fails(lr_gesdd(LOWRANK_FLOAT64, big, 1, &x, big, &x, NULL, 1, NULL, 1),
                    LOWRANK_EOVERFLOW);
    ck_assert_fails(lr_gesvdx(LOWRANK_FLOAT64, 1, big, &x, 1, 1, 1, &x, &x, 1, &x, 1),
                    LOWRANK_EOVERFLOW);
    ck_assert_fails(lr_potrf(LOWRANK_FLOAT64, 'L', big, &x, big), LOWRANK_EOVERFLOW);
    ck_assert_fails(lr_gemm(LOWRANK_FLOAT64, 'N', 'N', 3, 1, 1, 1, &x, 2, &x, 1, 0, &x, 3),
                    LOWRANK_EINTERNAL);
    ck_assert_fails(lr_qr(LOWRANK_FLOAT64, 1, 2, &x, 1, NULL, 1), LOWRANK_EINTERNAL);
    ck_assert_fails(lr_syevr(LOWRANK_FLOAT64, 2, &x, 2, 2, 3, &x, &x, 2), LOWRANK_EINTERNAL);
}
END_TEST

/* Buffers made before injection starts, so that only the layer's own
 * workspace allocations are made to fail. */
typedef struct {
    lowrank_dtype t;
    void *src, *a, *s, *u, *vt, *g, *z;
} svd_bufs;

static svd_bufs make_bufs(lowrank_dtype t)
{
    size_t e = lr_dtype_size(t);
    svd_bufs b = {t, randn(t, 30, 1), malloc(30 * e), malloc(3 * e), malloc(30 * e),
                  malloc(9 * e), malloc(9 * e), malloc(9 * e)};
    return b;
}

static void free_bufs(svd_bufs *b)
{
    void *p[] = {b->src, b->a, b->s, b->u, b->vt, b->g, b->z};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        free(p[i]);
}

static int qr_call(void *ctx)
{
    svd_bufs *b = ctx;
    memcpy(b->a, b->src, 30 * lr_dtype_size(b->t));
    return lr_qr(b->t, 10, 3, b->a, 10, b->g, 3);
}

/* gesdd, gesvdx, syevr and syevd in turn, each allocating its workspace. */
static int decompositions_call(void *ctx)
{
    svd_bufs *b = ctx;
    lowrank_dtype t = b->t;
    memcpy(b->a, b->src, 30 * lr_dtype_size(t));
    int rc = lr_gesdd(t, 10, 3, b->a, 10, b->s, b->u, 10, b->vt, 3);
    if (rc == LOWRANK_OK) {
        memcpy(b->a, b->src, 30 * lr_dtype_size(t));
        rc = lr_gesvdx(t, 10, 3, b->a, 10, 1, 2, b->s, b->u, 10, b->vt, 2);
    }
    if (rc == LOWRANK_OK)
        rc = lr_syrk(t, 'L', 'T', 3, 10, 1, b->src, 10, 0, b->g, 3);
    if (rc == LOWRANK_OK)
        rc = lr_syevr(t, 3, b->g, 3, 1, 2, b->s, b->z, 3);
    if (rc == LOWRANK_OK)
        rc = lr_syrk(t, 'L', 'T', 3, 10, 1, b->src, 10, 0, b->g, 3);
    if (rc == LOWRANK_OK)
        rc = lr_syevd(t, 3, b->g, 3, b->s);
    return rc;
}

START_TEST(allocation_failure)
{
    svd_bufs b = make_bufs(dtypes[_i]);
    ck_assert_int_eq(check_alloc_failures(qr_call, &b), 2);
    /* two blocks each for gesdd, gesvdx and syevd; three for syevr */
    ck_assert_int_eq(check_alloc_failures(decompositions_call, &b), 9);
    free_bufs(&b);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("blas");
    TCase *tc = tcase_create("blas");
    tcase_add_loop_test(tc, gemm_matches_loops, 0, 2);
    tcase_add_loop_test(tc, gemv_and_syrk_match_loops, 0, 2);
    tcase_add_loop_test(tc, qr_reconstructs, 0, 2);
    tcase_add_loop_test(tc, symmetric_eigen_closed_form, 0, 2);
    tcase_add_loop_test(tc, svd_recovers_known_singular_values, 0, 2);
    tcase_add_loop_test(tc, cholesky, 0, 2);
    tcase_add_test(tc, sizes_are_checked_before_narrowing);
    tcase_add_loop_test(tc, allocation_failure, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
