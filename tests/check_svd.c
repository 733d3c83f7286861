/*
 * check_svd.c - lowrank_svd() and the lowrank_factors handle, against
 * LAPACK's full SVD (through the internal layer) as the independent truth:
 * Eckart-Young, orthonormal factors, the kept singular values; shapes, both
 * layouts and dtypes, rank-deficient and zero matrices, the tolerance mode,
 * extreme magnitudes, determinism, and every error path including each
 * allocation failing.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "svd.h"
#include "testutil.h"

static const lowrank_dtype dtypes[] = {LOWRANK_FLOAT32, LOWRANK_FLOAT64};
static const lowrank_layout layouts[] = {LOWRANK_ROW_MAJOR, LOWRANK_COL_MAJOR};

/* Accuracy expected of a dtype, relative to the largest singular value. */
static double tol(lowrank_dtype t) { return t == LOWRANK_FLOAT32 ? 2e-5 : 1e-12; }

static lowrank_opts *opts_with(int64_t method, int64_t oversampling, int64_t power_iter)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, method));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_OVERSAMPLING, oversampling));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_POWER_ITER, power_iter));
    return o;
}

/* ------------------------------------------------------------ truth */

/* sqrt(sum_{i >= k} s_i^2) and sqrt(sum s_i^2). */
static double tail(const double *s, int64_t from, int64_t n)
{
    double t = 0;
    for (int64_t i = from; i < n; i++)
        t += s[i] * s[i];
    return sqrt(t);
}

/* Every property of an exact rank-k truncation of a, against LAPACK. */
static void check_exact(const lowrank_matrix *a, int64_t k, const lowrank_factors *f)
{
    int64_t mn = a->rows < a->cols ? a->rows : a->cols;
    double *s = svd_truth(a), eps = tol(a->dtype), norm = tail(s, 0, mn);
    ck_assert_int_eq(lowrank_factors_rank(f), k);
    ck_assert_int_eq(lowrank_factors_rows(f), a->rows);
    ck_assert_int_eq(lowrank_factors_cols(f), a->cols);
    const lowrank_matrix *u = lowrank_factors_u(f), *sv = lowrank_factors_s(f),
                         *vt = lowrank_factors_vt(f);
    ck_assert_int_eq(u->dtype, a->dtype);
    ck_assert_int_eq(vt->dtype, a->dtype);
    ck_assert_int_eq(sv->rows, k);
    ck_assert_int_eq(sv->cols, 1);
    for (int64_t i = 0; i < k; i++) {
        ck_assert_double_le(fabs(lr_matrix_at(sv, i, 0) - s[i]), eps * s[0] + 1e-300);
        if (i > 0)
            ck_assert_double_le(lr_matrix_at(sv, i, 0), lr_matrix_at(sv, i - 1, 0));
    }
    ck_assert_double_le(orthonormality(u, 0), 100 * eps);
    ck_assert_double_le(orthonormality(vt, 1), 100 * eps);
    /* the vectors: LAPACK's accuracy, max(m, n) u s_1, or when coarser the
     * double Gram matrix's, max(m, n) u_double s_1^2 / s_k */
    double side = (double)(a->rows > a->cols ? a->rows : a->cols),
           unit = a->dtype == LOWRANK_FLOAT32 ? 0x1p-24 : 0x1p-53,
           gram = s[k - 1] > 0 ? side * 0x1p-53 * s[0] * (s[0] / s[k - 1]) : INFINITY;
    ck_assert_double_le(triplet_residual(a, f), 4 * fmax(side * unit * s[0], gram) + 1e-300);
    /* Eckart-Young: the error is the discarded spectrum */
    ck_assert_double_le(fabs(svd_distance(a, f) - tail(s, k, mn)), 10 * eps * norm + 1e-300);
    double est;
    ck_assert_ok(lowrank_factors_error(f, &est));
    ck_assert_double_le(fabs(est - (norm > 0 ? tail(s, k, mn) / norm : 0)),
                        a->dtype == LOWRANK_FLOAT32 ? 1e-3 : 1e-7);
    free(s);
}

/* ------------------------------------------------------------ exact */

START_TEST(exact_matches_lapack)
{
    lowrank_dtype t = dtypes[_i / 2];
    lowrank_layout l = layouts[_i % 2];
    lowrank_opts *o = opts_with(LOWRANK_METHOD_EXACT, -1, -1);
    const int64_t shapes[][2] = {{40, 25}, {25, 40}, {30, 30}, {1, 9}, {9, 1}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        int64_t m = shapes[c][0], n = shapes[c][1], mn = m < n ? m : n;
        lowrank_matrix *a = random_matrix(t, l, m, n, 10 + c);
        const int64_t ks[] = {1, mn / 3 + 1, mn};
        for (int i = 0; i < 3; i++) {
            lowrank_factors *f;
            ck_assert_ok(lowrank_svd(a, ks[i], o, &f));
            check_exact(a, ks[i], f);
            lowrank_factors_free(f);
        }
        lowrank_matrix_free(a);
    }
    lowrank_opts_free(o);
}
END_TEST

/* A leading dimension beyond the rows or columns is honoured, and a
 * row-major matrix gives the factors of the same matrix stored
 * column-major. */
START_TEST(padding_and_layouts_agree)
{
    lowrank_dtype t = dtypes[_i];
    lowrank_matrix *a = random_matrix(t, LOWRANK_COL_MAJOR, 12, 7, 3), *b, *w;
    ck_assert_ok(lowrank_matrix_convert(a, t, LOWRANK_ROW_MAJOR, &b));
    size_t e = lr_dtype_size(t);
    char *buf = calloc(12 * 10, e);
    for (int64_t i = 0; i < 12; i++)
        memcpy(buf + (size_t)i * 10 * e, (char *)b->data + (size_t)i * 7 * e, 7 * e);
    ck_assert_ok(lowrank_matrix_wrap(t, LOWRANK_ROW_MAJOR, 12, 7, buf, 10, &w));
    lowrank_factors *fa, *fw;
    ck_assert_ok(lowrank_svd(a, 3, NULL, &fa));
    ck_assert_ok(lowrank_svd(w, 3, NULL, &fw));
    check_exact(w, 3, fw);
    for (int64_t i = 0; i < 3; i++)
        ck_assert_double_eq_tol(lr_matrix_at(lowrank_factors_s(fa), i, 0),
                                lr_matrix_at(lowrank_factors_s(fw), i, 0),
                                tol(t) * lr_matrix_at(lowrank_factors_s(fa), 0, 0));
    lowrank_factors_free(fa);
    lowrank_factors_free(fw);
    lowrank_matrix_free(a);
    lowrank_matrix_free(b);
    lowrank_matrix_free(w);
    free(buf);
}
END_TEST

/* Rank 3 with k = 5: two zero singular values, orthonormal factors still,
 * and an error of zero; the identity (all singular values equal, no gap at
 * k) takes the LAPACK fallback. */
START_TEST(rank_deficient_and_identity)
{
    lowrank_dtype t = dtypes[_i / 2];
    int64_t method = _i % 2 ? LOWRANK_METHOD_EXACT : LOWRANK_METHOD_RANDOMIZED;
    lowrank_opts *o = opts_with(method, 2, 1);
    double s[20] = {3, 2, 1};
    lowrank_matrix *a = with_spectrum(t, LOWRANK_ROW_MAJOR, 30, 20, s, 5), *id;
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd(a, 5, o, &f));
    check_exact(a, 5, f);
    lowrank_factors_free(f);
    /* no Krylov step: the sampled row space still holds the whole rank */
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_POWER_ITER, 0));
    ck_assert_ok(lowrank_svd(a, 5, o, &f));
    check_exact(a, 5, f);
    lowrank_factors_free(f);
    ck_assert_ok(lowrank_matrix_new(t, LOWRANK_COL_MAJOR, 12, 12, &id));
    for (int64_t i = 0; i < 12; i++)
        ck_assert_ok(lowrank_matrix_set(id, i, i, 1.0));
    ck_assert_ok(lowrank_svd(id, 4, o, &f));
    check_exact(id, 4, f);
    lowrank_factors_free(f);
    lowrank_matrix_free(id);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

START_TEST(zero_matrix)
{
    lowrank_dtype t = dtypes[_i / 2];
    int64_t method = _i % 2 ? LOWRANK_METHOD_EXACT : LOWRANK_METHOD_RANDOMIZED;
    lowrank_opts *o = opts_with(method, 1, 1);
    lowrank_matrix *a;
    ck_assert_ok(lowrank_matrix_new(t, LOWRANK_ROW_MAJOR, 7, 5, &a));
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd(a, 2, o, &f));
    check_exact(a, 2, f);
    lowrank_factors_free(f);
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, 0.5));
    ck_assert_ok(lowrank_svd(a, 0, o, &f));
    ck_assert_int_eq(lowrank_factors_rank(f), 1);
    lowrank_factors_free(f);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

/* Magnitudes near the ends of the dtype's range: the singular values scale
 * exactly with the matrix (the library scales by a power of two inside). */
START_TEST(extreme_magnitudes)
{
    lowrank_dtype t = dtypes[_i / 2];
    double scale = _i % 2 ? (t == LOWRANK_FLOAT32 ? 0x1p-100 : 0x1p-900)
                          : (t == LOWRANK_FLOAT32 ? 0x1p100 : 0x1p900);
    lowrank_matrix *a = random_matrix(t, LOWRANK_COL_MAJOR, 15, 9, 7), *b;
    ck_assert_ok(lowrank_matrix_copy(a, &b));
    for (int64_t j = 0; j < 9; j++)
        for (int64_t i = 0; i < 15; i++)
            ck_assert_ok(lowrank_matrix_set(b, i, j, lr_matrix_at(a, i, j) * scale));
    for (int method = 1; method <= 2; method++) {
        lowrank_opts *o = opts_with(method, 1, 1);
        lowrank_factors *fa, *fb;
        ck_assert_ok(lowrank_svd(a, 3, o, &fa));
        ck_assert_ok(lowrank_svd(b, 3, o, &fb));
        for (int64_t i = 0; i < 3; i++) {
            double x = lr_matrix_at(lowrank_factors_s(fa), i, 0),
                   y = lr_matrix_at(lowrank_factors_s(fb), i, 0);
            ck_assert(isfinite(y) && y > 0);
            ck_assert_double_eq_tol(y / scale, x, tol(t) * 10 * x);
        }
        double ea, eb;
        ck_assert_ok(lowrank_factors_error(fa, &ea));
        ck_assert_ok(lowrank_factors_error(fb, &eb));
        ck_assert_double_eq_tol(ea, eb, 1e-3);
        lowrank_factors_free(fa);
        lowrank_factors_free(fb);
        lowrank_opts_free(o);
    }
    lowrank_matrix_free(a);
    lowrank_matrix_free(b);
}
END_TEST

/* ------------------------------------------------------------ exact routes */

/* s_i = (i + 1)^-rate for i < n. */
static void power_law(double *s, int64_t n, double rate)
{
    for (int64_t i = 0; i < n; i++)
        s[i] = pow((double)(i + 1), -rate);
}

/* s_i = 1 for i < ones, then 0.95 ratio^(i - ones), i < n. */
static void ones_then_geometric(double *s, int64_t n, int64_t ones, double ratio)
{
    for (int64_t i = 0; i < n; i++)
        s[i] = i < ones ? 1.0 : 0.95 * pow(ratio, (double)(i - ones));
}

/* The exact method from route `from` on a, which must come back from
 * route `want` with every property of the exact truncation. */
static void check_route(const lowrank_matrix *a, int64_t k, lr_exact_route from,
                        lr_exact_route want)
{
    lowrank_factors *f;
    lr_exact_route taken;
    ck_assert_ok(lr_svd_exact(a, k, NULL, from, &f, &taken));
    ck_assert_int_eq(taken, want);
    check_exact(a, k, f);
    lowrank_factors_free(f);
}

/* On a decaying spectrum the Lanczos route certifies its own result; both
 * layouts of a tall (float32) and a wide (float64) matrix, so that M is
 * the view and its transpose for each dtype. */
START_TEST(lanczos_route_matches_lapack)
{
    lowrank_dtype t = dtypes[_i / 2];
    double s[96];
    power_law(s, 96, 2.0);
    lowrank_matrix *a = t == LOWRANK_FLOAT32 ? with_spectrum(t, layouts[_i % 2], 110, 96, s, 41)
                                             : with_spectrum(t, layouts[_i % 2], 96, 110, s, 43);
    check_route(a, 5, LR_ROUTE_LANCZOS, LR_ROUTE_LANCZOS);
    lowrank_matrix_free(a);
}
END_TEST

/* When the Lanczos route cannot certify, the next route's result comes
 * back, right; and where it can, even a tiny gap:
 *  - nine equal leading singular values: a single-vector Krylov space holds
 *    one direction of their eigenspace, and rounding brings in a few more
 *    (two or three equal values are found and certified) but not all nine
 *    within the basis; its Ritz values converge to a spectrum without some
 *    of them, and only the certificate notices (the shifted, deflated Gram
 *    matrix is not positive definite); the Gram route then gets every value
 *    right;
 *  - sigma_k = sigma_(k+1): in float64 neither certificate can separate the
 *    k values from the next, and LAPACK's full SVD answers; in float32 the
 *    Gram bound needs no gap (it bounds each value to float32 accuracy on
 *    its own);
 *  - a Gaussian matrix, whose flat top converges too slowly for the basis's
 *    cap in float64: the route gives up for the Gram route (float32's
 *    tolerance is reached and certified);
 *  - a gap of 1e-10 relative at k (float64 only: float32 cannot hold it):
 *    the single vector resolves both values and the route certifies. */
START_TEST(lanczos_route_falls_back)
{
    lowrank_dtype t = dtypes[_i];
    int f64 = t == LOWRANK_FLOAT64;
    double missed[80], tie[96], gap[96];
    ones_then_geometric(missed, 80, 9, 0.7);
    power_law(tie, 96, 1.5);
    tie[5] = tie[4];
    power_law(gap, 96, 1.5);
    gap[5] = gap[4] * (1 - 1e-10);
    const struct {
        const double *s; /* NULL: Gaussian */
        int64_t m, n, k;
        lr_exact_route want;
    } cases[] = {{missed, 90, 80, 10, LR_ROUTE_GRAM},
                 {tie, 110, 96, 5, f64 ? LR_ROUTE_LAPACK : LR_ROUTE_GRAM},
                 {NULL, 110, 96, 5, f64 ? LR_ROUTE_GRAM : LR_ROUTE_LANCZOS},
                 {gap, 110, 96, 5, LR_ROUTE_LANCZOS}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0] - !f64; c++) {
        lowrank_matrix *a =
            cases[c].s ? with_spectrum(t, LOWRANK_ROW_MAJOR, cases[c].m, cases[c].n, cases[c].s,
                                       45 + c)
                       : random_matrix(t, LOWRANK_ROW_MAJOR, cases[c].m, cases[c].n, 45 + c);
        check_route(a, cases[c].k, LR_ROUTE_LANCZOS, cases[c].want);
        lowrank_matrix_free(a);
    }
}
END_TEST

/* ------------------------------------------------------------ randomized */

/* A decaying spectrum: the randomized error is within 1% of the optimum,
 * the factors are orthonormal, and the same seed gives the same bits; with
 * the default parameters, and with a small block (oversampling 3, depth 3). */
START_TEST(randomized_is_near_optimal_and_deterministic)
{
    lowrank_dtype t = dtypes[_i / 2];
    lowrank_layout l = layouts[_i % 2];
    enum { M = 150, N = 80, K = 4 };
    double s[N];
    for (int i = 0; i < N; i++)
        s[i] = pow(i + 1, -0.7);
    lowrank_matrix *a = with_spectrum(t, l, M, N, s, 11);
    lowrank_opts *o = opts_with(LOWRANK_METHOD_RANDOMIZED, _i % 2 ? -1 : 3, _i % 2 ? -1 : 3);
    lowrank_factors *f, *g;
    ck_assert_ok(lowrank_svd(a, K, o, &f));
    ck_assert_ok(lowrank_svd(a, K, o, &g));
    double opt = tail(s, K, N), norm = tail(s, 0, N), d = svd_distance(a, f), est;
    ck_assert_double_le(d, 1.01 * opt);
    ck_assert_double_ge(d, opt * (1 - 10 * tol(t)));
    ck_assert_ok(lowrank_factors_error(f, &est));
    ck_assert_double_eq_tol(est, d / norm, t == LOWRANK_FLOAT32 ? 1e-3 : 1e-9);
    ck_assert_double_le(orthonormality(lowrank_factors_u(f), 0), 100 * tol(t));
    ck_assert_double_le(orthonormality(lowrank_factors_vt(f), 1), 100 * tol(t));
    size_t e = lr_dtype_size(t);
    ck_assert_mem_eq(lowrank_factors_u(f)->data, lowrank_factors_u(g)->data, M * K * e);
    ck_assert_mem_eq(lowrank_factors_vt(f)->data, lowrank_factors_vt(g)->data, N * K * e);
    ck_assert_mem_eq(lowrank_factors_s(f)->data, lowrank_factors_s(g)->data, K * e);
    /* another seed: other bits, as good an approximation */
    lowrank_factors_free(g);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_SEED, 7));
    ck_assert_ok(lowrank_svd(a, K, o, &g));
    ck_assert(memcmp(lowrank_factors_u(f)->data, lowrank_factors_u(g)->data, M * K * e) != 0);
    ck_assert_double_le(svd_distance(a, g), 1.01 * opt);
    lowrank_factors_free(f);
    lowrank_factors_free(g);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

/* When the Krylov space would span the whole small side, randomized mode
 * computes the exact truncation; so does auto on small matrices. */
START_TEST(randomized_falls_back_to_exact)
{
    lowrank_dtype t = dtypes[_i];
    lowrank_matrix *a = random_matrix(t, LOWRANK_ROW_MAJOR, 20, 14, 13);
    lowrank_opts *o = opts_with(LOWRANK_METHOD_RANDOMIZED, -1, -1);
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd(a, 4, o, &f));
    check_exact(a, 4, f);
    lowrank_factors_free(f);
    ck_assert_ok(lowrank_svd(a, 14, NULL, &f));
    check_exact(a, 14, f);
    lowrank_factors_free(f);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

/* ------------------------------------------------------------ tolerance */

/* Exact mode picks the smallest k whose discarded spectrum meets the
 * tolerance; randomized mode a k whose approximation meets it. */
START_TEST(tolerance_chooses_the_rank)
{
    lowrank_dtype t = dtypes[_i / 2];
    int exact = _i % 2;
    enum { M = 70, N = 48 };
    double s[N];
    for (int i = 0; i < N; i++)
        s[i] = pow(0.75, i);
    lowrank_matrix *a = with_spectrum(t, LOWRANK_COL_MAJOR, M, N, s, 17);
    lowrank_opts *o = opts_with(exact ? LOWRANK_METHOD_EXACT : LOWRANK_METHOD_RANDOMIZED, -1, -1);
    double *sv = svd_truth(a), norm = tail(sv, 0, N);
    /* float32 resolves squared errors to about 1e-7 of ||A||^2: tolerances
     * near sqrt of that are beyond it */
    const double taus[] = {0.5, 0.1, 0.01, 1e-3};
    for (int c = 0; c < (t == LOWRANK_FLOAT32 ? 3 : 4); c++) {
        int64_t want = 1;
        while (tail(sv, want, N) > taus[c] * norm)
            want++;
        ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, taus[c]));
        lowrank_factors *f;
        ck_assert_ok(lowrank_svd(a, 0, o, &f));
        int64_t k = lowrank_factors_rank(f);
        double d = svd_distance(a, f) / norm, est;
        ck_assert_ok(lowrank_factors_error(f, &est));
        if (exact) {
            ck_assert_int_eq(k, want);
            check_exact(a, k, f);
        } else {
            ck_assert_int_ge(k, want);
            ck_assert_int_le(k, want + 2);
        }
        double slack = t == LOWRANK_FLOAT32 ? 1.01 : 1 + 1e-6;
        ck_assert_double_le(d, taus[c] * slack);
        ck_assert_double_le(est, taus[c] * slack);
        lowrank_factors_free(f);
    }
    free(sv);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

/* ------------------------------------------------------------ factors */

START_TEST(split_and_reconstruct)
{
    lowrank_dtype t = dtypes[_i / 2];
    lowrank_layout l = layouts[_i % 2];
    lowrank_matrix *a = random_matrix(t, l, 11, 8, 19);
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd(a, 3, NULL, &f));
    /* the reconstruction in both dtypes, both layouts, with padding */
    lowrank_matrix *ref;
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 11, 8, &ref));
    ck_assert_ok(lowrank_factors_reconstruct(f, ref));
    for (int d = 0; d < 2; d++)
        for (int ly = 0; ly < 2; ly++) {
            size_t e = lr_dtype_size(dtypes[d]);
            char *buf = calloc(16 * 16, e);
            lowrank_matrix *dst;
            ck_assert_ok(lowrank_matrix_wrap(dtypes[d], layouts[ly], 11, 8, buf, 16, &dst));
            ck_assert_ok(lowrank_factors_reconstruct(f, dst));
            for (int64_t i = 0; i < 11; i++)
                for (int64_t j = 0; j < 8; j++)
                    ck_assert_double_eq_tol(lr_matrix_at(dst, i, j), lr_matrix_at(ref, i, j),
                                            1e-5);
            lowrank_matrix_free(dst);
            free(buf);
        }
    const lowrank_split hows[] = {LOWRANK_SPLIT_LEFT, LOWRANK_SPLIT_RIGHT, LOWRANK_SPLIT_BALANCED};
    for (int h = 0; h < 3; h++) {
        lowrank_matrix *left, *right;
        ck_assert_ok(lowrank_factors_split(f, hows[h], &left, &right));
        ck_assert_int_eq(left->rows, 11);
        ck_assert_int_eq(left->cols, 3);
        ck_assert_int_eq(right->rows, 3);
        ck_assert_int_eq(right->cols, 8);
        ck_assert_int_eq(left->layout, LOWRANK_ROW_MAJOR);
        ck_assert_int_eq(right->dtype, t);
        for (int64_t i = 0; i < 11; i++)
            for (int64_t j = 0; j < 8; j++) {
                double x = 0;
                for (int64_t p = 0; p < 3; p++)
                    x += lr_matrix_at(left, i, p) * lr_matrix_at(right, p, j);
                ck_assert_double_eq_tol(x, lr_matrix_at(ref, i, j), 10 * tol(t) * 8);
            }
        /* which side carries S: the other has orthonormal columns or rows */
        if (hows[h] == LOWRANK_SPLIT_LEFT)
            ck_assert_double_le(orthonormality(right, 1), 100 * tol(t));
        if (hows[h] == LOWRANK_SPLIT_RIGHT)
            ck_assert_double_le(orthonormality(left, 0), 100 * tol(t));
        if (hows[h] == LOWRANK_SPLIT_BALANCED)
            for (int64_t p = 0; p < 3; p++) {
                double nl = 0, nr = 0;
                for (int64_t i = 0; i < 11; i++)
                    nl += lr_matrix_at(left, i, p) * lr_matrix_at(left, i, p);
                for (int64_t j = 0; j < 8; j++)
                    nr += lr_matrix_at(right, p, j) * lr_matrix_at(right, p, j);
                ck_assert_double_eq_tol(nl, nr, 100 * tol(t) * nl);
            }
        lowrank_matrix_free(left);
        lowrank_matrix_free(right);
    }
    lowrank_matrix_free(ref);
    lowrank_factors_free(f);
    lowrank_matrix_free(a);
}
END_TEST

START_TEST(factors_errors)
{
    ck_assert_int_eq(lowrank_factors_rank(NULL), 0);
    ck_assert_int_eq(lowrank_factors_rows(NULL), 0);
    ck_assert_int_eq(lowrank_factors_cols(NULL), 0);
    ck_assert_ptr_null(lowrank_factors_u(NULL));
    ck_assert_ptr_null(lowrank_factors_s(NULL));
    ck_assert_ptr_null(lowrank_factors_vt(NULL));
    lowrank_factors_free(NULL);
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 6, 5, 23), *l, *r, *d;
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd(a, 2, NULL, &f));
    double e;
    ck_assert_fails(lowrank_factors_error(NULL, &e), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_factors_error(f, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_factors_split(NULL, LOWRANK_SPLIT_LEFT, &l, &r), LOWRANK_EINVAL);
    ck_assert_ptr_null(l);
    ck_assert_ptr_null(r);
    ck_assert_fails(lowrank_factors_split(f, LOWRANK_SPLIT_LEFT, NULL, &r), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_factors_split(f, LOWRANK_SPLIT_LEFT, &l, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_factors_split(f, (lowrank_split)0, &l, &r), LOWRANK_EINVAL);
    ck_assert_ptr_null(l);
    ck_assert_fails(lowrank_factors_reconstruct(NULL, a), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_factors_reconstruct(f, NULL), LOWRANK_EINVAL);
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 5, 6, &d));
    ck_assert_ok(lowrank_matrix_set(d, 1, 1, 42));
    ck_assert_fails(lowrank_factors_reconstruct(f, d), LOWRANK_ESIZE);
    ck_assert_double_eq(lr_matrix_at(d, 1, 1), 42); /* untouched */
    lowrank_matrix_free(d);
    lowrank_factors_free(f);
    /* float64 factors too large for a float32 destination */
    ck_assert_ok(lowrank_matrix_set(a, 0, 0, 1e300));
    ck_assert_ok(lowrank_svd(a, 1, NULL, &f));
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 6, 5, &d));
    ck_assert_fails(lowrank_factors_reconstruct(f, d), LOWRANK_ERANGE);
    ck_assert_double_eq(lr_matrix_at(d, 0, 0), 0);
    lowrank_matrix_free(d);
    lowrank_factors_free(f);
    lowrank_matrix_free(a);
}
END_TEST

/* Factors made from the parts of lowrank_svd's read like the originals:
 * the same reconstruction and the same lp costs; U may be any block of rows
 * of an orthonormal U; the parts are copied. */
START_TEST(factors_from_parts)
{
    lowrank_dtype t = dtypes[_i / 2];
    lowrank_matrix *a = random_matrix(t, layouts[_i % 2], 12, 7, 41), *u, *s, *vt, *ref, *dst;
    lowrank_factors *f, *g;
    ck_assert_ok(lowrank_svd(a, 3, NULL, &f));
    ck_assert_ok(lowrank_matrix_copy(lowrank_factors_u(f), &u));
    ck_assert_ok(lowrank_matrix_copy(lowrank_factors_s(f), &s));
    ck_assert_ok(lowrank_matrix_copy(lowrank_factors_vt(f), &vt));
    ck_assert_ok(lowrank_factors_new(u, s, vt, 0.25, &g));
    ck_assert_ok(lowrank_matrix_set(u, 0, 0, 9)); /* copied: g does not see this */
    double e, c1, c2;
    ck_assert_ok(lowrank_factors_error(g, &e));
    ck_assert_double_eq(e, 0.25);
    ck_assert_int_eq(lowrank_factors_rows(g), 12);
    ck_assert_int_eq(lowrank_factors_cols(g), 7);
    ck_assert_int_eq(lowrank_factors_rank(g), 3);
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 12, 7, &ref));
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 12, 7, &dst));
    ck_assert_ok(lowrank_factors_reconstruct(f, ref));
    ck_assert_ok(lowrank_factors_reconstruct(g, dst));
    for (int64_t i = 0; i < 12; i++)
        for (int64_t j = 0; j < 7; j++)
            ck_assert_double_eq(lr_matrix_at(dst, i, j), lr_matrix_at(ref, i, j));
    for (int obj = LOWRANK_OBJECTIVE_ROWS; obj <= LOWRANK_OBJECTIVE_ENTRIES; obj++) {
        ck_assert_ok(lowrank_lp_cost(a, f, 1.5, obj, &c1));
        ck_assert_ok(lowrank_lp_cost(a, g, 1.5, obj, &c2));
        ck_assert_double_eq_tol(c1, c2, 1e-12 * c1);
    }
    lowrank_factors_free(g);
    /* a block of rows of U (not orthonormal by itself) and an unknown error */
    lowrank_matrix *block;
    ck_assert_ok(lowrank_matrix_wrap(t, LOWRANK_COL_MAJOR, 5, 3, lowrank_matrix_data(
                                         lowrank_factors_u(f)), 12, &block));
    ck_assert_ok(lowrank_factors_new(block, s, vt, NAN, &g));
    ck_assert_ok(lowrank_factors_error(g, &e));
    ck_assert(isnan(e));
    ck_assert_int_eq(lowrank_factors_rows(g), 5);
    lowrank_factors_free(g);
    lowrank_matrix_free(block);
    lowrank_matrix_free(ref);
    lowrank_matrix_free(dst);
    lowrank_matrix_free(u);
    lowrank_matrix_free(s);
    lowrank_matrix_free(vt);
    lowrank_factors_free(f);
    lowrank_matrix_free(a);
}
END_TEST

START_TEST(factors_new_errors)
{
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 6, 5, 43), *u, *s, *vt,
                   *s32, *bad;
    lowrank_factors *f, *g = (lowrank_factors *)&g;
    ck_assert_ok(lowrank_svd(a, 2, NULL, &f));
    ck_assert_ok(lowrank_matrix_copy(lowrank_factors_u(f), &u));
    ck_assert_ok(lowrank_matrix_copy(lowrank_factors_s(f), &s));
    ck_assert_ok(lowrank_matrix_copy(lowrank_factors_vt(f), &vt));
    ck_assert_fails(lowrank_factors_new(u, s, vt, 0, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_factors_new(NULL, s, vt, 0, &g), LOWRANK_EINVAL);
    ck_assert_ptr_null(g);
    ck_assert_fails(lowrank_factors_new(u, NULL, vt, 0, &g), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_factors_new(u, s, NULL, 0, &g), LOWRANK_EINVAL);
    ck_assert_ok(lowrank_matrix_convert(s, LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, &s32));
    ck_assert_fails(lowrank_factors_new(u, s32, vt, 0, &g), LOWRANK_EINVAL);
    /* shapes: S 1 x 2, V^T with k = 2 against U with 2 columns but S of 1 */
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 1, 2, &bad));
    ck_assert_fails(lowrank_factors_new(u, bad, vt, 0, &g), LOWRANK_ESIZE);
    lowrank_matrix_free(bad);
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 1, 1, &bad));
    ck_assert_ok(lowrank_matrix_set(bad, 0, 0, 1));
    ck_assert_fails(lowrank_factors_new(u, bad, vt, 0, &g), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_factors_new(u, s, vt, -1, &g), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_factors_new(u, s, vt, INFINITY, &g), LOWRANK_ERANGE);
    /* S ascending, negative; a part not finite; V^T not orthonormal */
    double s0 = lr_matrix_at(s, 0, 0), s1 = lr_matrix_at(s, 1, 0);
    ck_assert_ok(lowrank_matrix_set(s, 1, 0, 2 * s0));
    ck_assert_fails(lowrank_factors_new(u, s, vt, 0, &g), LOWRANK_ERANGE);
    ck_assert_ok(lowrank_matrix_set(s, 1, 0, -s1));
    ck_assert_fails(lowrank_factors_new(u, s, vt, 0, &g), LOWRANK_ERANGE);
    ck_assert_ok(lowrank_matrix_set(s, 1, 0, s1));
    ck_assert_ok(lowrank_matrix_set(u, 3, 1, NAN));
    ck_assert_fails(lowrank_factors_new(u, s, vt, 0, &g), LOWRANK_ENONFINITE);
    ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "u(3, 1)"));
    ck_assert_ok(lowrank_matrix_set(u, 3, 1, 0));
    ck_assert_ok(lowrank_matrix_set(vt, 1, 4, lr_matrix_at(vt, 1, 4) + 1e-6));
    ck_assert_fails(lowrank_factors_new(u, s, vt, 0, &g), LOWRANK_ERANGE);
    ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "orthonormal"));
    ck_assert_ptr_null(g);
    lowrank_matrix_free(bad);
    lowrank_matrix_free(s32);
    lowrank_matrix_free(u);
    lowrank_matrix_free(s);
    lowrank_matrix_free(vt);
    lowrank_factors_free(f);
    lowrank_matrix_free(a);
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(svd_errors)
{
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 6, 4, 29);
    lowrank_factors *f = (lowrank_factors *)&f;
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_fails(lowrank_svd(a, 2, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_svd(NULL, 2, NULL, &f), LOWRANK_EINVAL);
    ck_assert_ptr_null(f);
    ck_assert_fails(lowrank_svd(a, -1, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_svd(a, 5, NULL, &f), LOWRANK_ERANGE);
    ck_assert_str_eq(lowrank_last_error(), "k = 5 exceeds min(rows, cols) = 4");
    ck_assert_fails(lowrank_svd(a, 0, NULL, &f), LOWRANK_ERANGE);
    ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "LOWRANK_OPT_TOLERANCE"));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, LOWRANK_METHOD_LEWIS));
    ck_assert_fails(lowrank_svd(a, 2, o, &f), LOWRANK_EINVAL);
    ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "LOWRANK_OPT_METHOD = 3"));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, LOWRANK_METHOD_LOWNER));
    ck_assert_fails(lowrank_svd(a, 2, o, &f), LOWRANK_EINVAL);
    ck_assert_ptr_null(f);
    lowrank_opts_free(o);
    /* a dimension beyond the BLAS integer, refused before the data is read */
    lowrank_matrix *tall;
    ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, INT64_C(1) << 31, 2,
                                     a->data, INT64_C(1) << 31, &tall));
    ck_assert_fails(lowrank_svd(tall, 1, NULL, &f), LOWRANK_EOVERFLOW);
    ck_assert_ptr_null(f);
    lowrank_matrix_free(tall);
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 3; i++) {
        ck_assert_ok(lowrank_matrix_set(a, 4, 2, bad[i]));
        ck_assert_fails(lowrank_svd(a, 2, NULL, &f), LOWRANK_ENONFINITE);
        ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "a(4, 2)"));
        ck_assert_ptr_null(f);
    }
    lowrank_matrix_free(a);
}
END_TEST

/* ------------------------------------------------------------ allocations */

typedef struct svd_case {
    const lowrank_matrix *a;
    int64_t k;
    const lowrank_opts *opts;
    lr_exact_route from; /* LR_ROUTE_RULE: lowrank_svd */
} svd_case;

static int svd_call(void *ctx)
{
    const svd_case *c = ctx;
    lowrank_factors *f;
    int rc = c->from == LR_ROUTE_RULE ? lowrank_svd(c->a, c->k, c->opts, &f)
                                      : lr_svd_exact(c->a, c->k, c->opts, c->from, &f, NULL);
    rc = output_status(rc, f);
    lowrank_factors_free(f);
    return rc;
}

static int split_call(void *ctx)
{
    lowrank_matrix *l, *r;
    int rc = lowrank_factors_split(ctx, LOWRANK_SPLIT_BALANCED, &l, &r);
    rc = output_status(rc, l) != rc ? OUTPUT_BROKEN : output_status(rc, r);
    lowrank_matrix_free(l);
    lowrank_matrix_free(r);
    return rc;
}

static int new_factors_call(void *ctx)
{
    const lowrank_factors *f = ctx;
    lowrank_factors *g;
    int rc = lowrank_factors_new(lowrank_factors_u(f), lowrank_factors_s(f), lowrank_factors_vt(f),
                                 0, &g);
    rc = output_status(rc, g);
    lowrank_factors_free(g);
    return rc;
}

static int reconstruct_call(void *ctx)
{
    lowrank_matrix *d;
    int rc = lowrank_matrix_new(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 9, 8, &d);
    if (rc == LOWRANK_OK)
        rc = lowrank_factors_reconstruct(ctx, d);
    lowrank_matrix_free(d);
    return rc;
}

/* Every allocation of every route fails in turn: exact (the Lanczos route
 * certified, and failing its certificate for the Gram route; the Gram route
 * certified and falling back to LAPACK), randomized (fixed rank and
 * tolerance), the scaled copy, the split and the reconstruction. */
START_TEST(allocation_failures)
{
    lowrank_dtype t = dtypes[_i];
    double s[64];
    ones_then_geometric(s, 64, 0, 0.7); /* small enough for valgrind, quick to certify */
    lowrank_matrix *lanczos = with_spectrum(t, LOWRANK_ROW_MAJOR, 70, 64, s, 49);
    check_route(lanczos, 2, LR_ROUTE_LANCZOS, LR_ROUTE_LANCZOS);
    ones_then_geometric(s, 64, 9, 0.5); /* a value missed, as in lanczos_route_falls_back */
    lowrank_matrix *missed = with_spectrum(t, LOWRANK_ROW_MAJOR, 70, 64, s, 45);
    lowrank_matrix *a = random_matrix(t, LOWRANK_ROW_MAJOR, 9, 8, 31), *id, *huge;
    ck_assert_ok(lowrank_matrix_new(t, LOWRANK_COL_MAJOR, 8, 8, &id));
    ck_assert_ok(lowrank_matrix_copy(a, &huge));
    for (int64_t i = 0; i < 8; i++) {
        ck_assert_ok(lowrank_matrix_set(id, i, i, 1.0));
        ck_assert_ok(lowrank_matrix_set(huge, i, i, t == LOWRANK_FLOAT32 ? 1e30 : 1e200));
    }
    lowrank_opts *exact = opts_with(LOWRANK_METHOD_EXACT, -1, -1),
                 *rand = opts_with(LOWRANK_METHOD_RANDOMIZED, 1, 1),
                 *rand_tol = opts_with(LOWRANK_METHOD_RANDOMIZED, 1, 1),
                 *exact_tol = opts_with(LOWRANK_METHOD_EXACT, 1, 1);
    ck_assert_ok(lowrank_opts_set_double(rand_tol, LOWRANK_OPT_TOLERANCE, 0.3));
    ck_assert_ok(lowrank_opts_set_double(exact_tol, LOWRANK_OPT_TOLERANCE, 0.3));
    const lr_exact_route rule = LR_ROUTE_RULE, from_lanczos = LR_ROUTE_LANCZOS;
    svd_case cases[] = {{a, 3, exact, rule},           {id, 3, exact, rule},
                        {a, 2, rand, rule},            {a, 0, rand_tol, rule},
                        {a, 0, exact_tol, rule},       {huge, 2, exact, rule},
                        {id, 0, exact_tol, rule},      {lanczos, 2, NULL, from_lanczos},
                        {missed, 10, NULL, from_lanczos}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        ck_assert_int_gt(check_alloc_failures(svd_call, &cases[c]), 3);
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd(a, 3, NULL, &f));
    ck_assert_int_gt(check_alloc_failures(split_call, f), 1);
    ck_assert_int_gt(check_alloc_failures(reconstruct_call, f), 1);
    ck_assert_int_gt(check_alloc_failures(new_factors_call, f), 3);
    lowrank_factors_free(f);
    lowrank_opts_free(exact);
    lowrank_opts_free(rand);
    lowrank_opts_free(rand_tol);
    lowrank_opts_free(exact_tol);
    lowrank_matrix_free(a);
    lowrank_matrix_free(id);
    lowrank_matrix_free(huge);
    lowrank_matrix_free(lanczos);
    lowrank_matrix_free(missed);
}
END_TEST

static Suite *svd_suite(void)
{
    Suite *s = suite_create("svd");
    TCase *tc = tcase_create("svd");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, exact_matches_lapack, 0, 4);
    tcase_add_loop_test(tc, padding_and_layouts_agree, 0, 2);
    tcase_add_loop_test(tc, rank_deficient_and_identity, 0, 4);
    tcase_add_loop_test(tc, zero_matrix, 0, 4);
    tcase_add_loop_test(tc, extreme_magnitudes, 0, 4);
    tcase_add_loop_test(tc, lanczos_route_matches_lapack, 0, 4);
    tcase_add_loop_test(tc, lanczos_route_falls_back, 0, 2);
    tcase_add_loop_test(tc, randomized_is_near_optimal_and_deterministic, 0, 4);
    tcase_add_loop_test(tc, randomized_falls_back_to_exact, 0, 2);
    tcase_add_loop_test(tc, tolerance_chooses_the_rank, 0, 4);
    tcase_add_loop_test(tc, split_and_reconstruct, 0, 4);
    tcase_add_test(tc, factors_errors);
    tcase_add_loop_test(tc, factors_from_parts, 0, 4);
    tcase_add_test(tc, factors_new_errors);
    tcase_add_test(tc, svd_errors);
    tcase_add_loop_test(tc, allocation_failures, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(svd_suite()); }
