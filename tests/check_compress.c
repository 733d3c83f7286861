/*
 * check_compress.c - input statistics (lowrank_stats_*), the data-aware
 * truncation (lowrank_svd_data), the bias shift and the rank allocation,
 * against independent truths: two-pass statistics, LAPACK's SVD of the
 * centred outputs X_c W (Eckart-Young gives the best output error any
 * rank-k W_k can reach, and the minimiser), lowrank_svd for C = I, an
 * exhaustive search of the allocations; and their error paths, allocation
 * failures, scale invariance and cancellation.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* the progress interval, lowered to see every report */
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

/* A row-major rows x cols float64 matrix of correlated inputs: N(0,1)
 * rows times a mixing matrix whose singular values fall from 1 to 1/cond,
 * plus an offset, so that C is far from I and the mean far from 0. */
static lowrank_matrix *inputs_matrix(int64_t rows, int64_t cols, double cond, double offset,
                                     uint64_t seed)
{
    lowrank_matrix *z = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, rows, cols, seed);
    lowrank_matrix *mix = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, cols, cols, seed + 1);
    lowrank_matrix *x;
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, rows, cols, &x));
    double *m = lowrank_matrix_data(mix);
    for (int64_t j = 0; j < cols; j++) /* column j of the mix scaled by cond^(-j/(cols-1)) */
        for (int64_t i = 0; i < cols; i++)
            m[i * cols + j] *= pow(cond, -(double)j / (double)(cols > 1 ? cols - 1 : 1));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)cols, (int)cols, 1.0,
                lowrank_matrix_data(z), (int)cols, m, (int)cols, 0.0, lowrank_matrix_data(x),
                (int)cols);
    double *xd = lowrank_matrix_data(x);
    for (int64_t i = 0; i < rows * cols; i++)
        xd[i] += offset * (double)(1 + i % cols);
    lowrank_matrix_free(z);
    lowrank_matrix_free(mix);
    return x;
}

/* A weight matrix whose singular values fall as i^-0.5. */
static lowrank_matrix *weights_matrix(lowrank_dtype t, lowrank_layout layout, int64_t n,
                                      int64_t d, uint64_t seed)
{
    lowrank_matrix *w = random_matrix(t, layout, n, d, seed);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) {
            double v;
            ck_assert_ok(lowrank_matrix_get(w, i, j, &v));
            ck_assert_ok(lowrank_matrix_set(w, i, j, v / sqrt(1.0 + (double)j)));
        }
    return w;
}

/* The mean (cols) and the centred copy (rows x cols, row-major) of x, in
 * two passes. */
static double *centred(const lowrank_matrix *x, double *mean)
{
    int64_t n = lowrank_matrix_rows(x), d = lowrank_matrix_cols(x);
    double *xc = malloc((size_t)(n * d) * sizeof *xc);
    ck_assert_ptr_nonnull(xc);
    for (int64_t j = 0; j < d; j++) {
        double s = 0, v;
        for (int64_t i = 0; i < n; i++) {
            ck_assert_ok(lowrank_matrix_get(x, i, j, &v));
            s += v;
        }
        mean[j] = s / (double)n;
        for (int64_t i = 0; i < n; i++) {
            ck_assert_ok(lowrank_matrix_get(x, i, j, &v));
            xc[i * d + j] = v - mean[j];
        }
    }
    return xc;
}

/* The rows x cols row-major double copy of any matrix. */
static double *dense(const lowrank_matrix *m)
{
    int64_t r = lowrank_matrix_rows(m), c = lowrank_matrix_cols(m);
    double *x = malloc((size_t)(r * c) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < c; j++)
            ck_assert_ok(lowrank_matrix_get(m, i, j, &x[i * c + j]));
    return x;
}

/* The approximation in f as a row-major double n x d array. */
static double *approximation(const lowrank_factors *f)
{
    lowrank_matrix *r;
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, lowrank_factors_rows(f),
                                    lowrank_factors_cols(f), &r));
    ck_assert_ok(lowrank_factors_reconstruct(f, r));
    double *x = dense(r);
    lowrank_matrix_free(r);
    return x;
}

/* ||Xc (W - Wk)||_F, Xc N x n, W and Wk n x d, row-major. */
static double output_error(const double *xc, int64_t N, int64_t n, const double *w,
                           const double *wk, int64_t d)
{
    double *diff = malloc((size_t)(n * d) * sizeof *diff), *y = malloc((size_t)(N * d) * sizeof *y);
    ck_assert_ptr_nonnull(diff);
    ck_assert_ptr_nonnull(y);
    for (int64_t i = 0; i < n * d; i++)
        diff[i] = w[i] - (wk ? wk[i] : 0);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)d, (int)n, 1.0, xc, (int)n,
                diff, (int)d, 0.0, y, (int)d);
    double s = 0;
    for (int64_t i = 0; i < N * d; i++)
        s += y[i] * y[i];
    free(diff);
    free(y);
    return sqrt(s);
}

/* The truth from LAPACK: the singular values of Y = Xc W (N x d) into
 * sigma (min(N, d)), and the minimiser W V_k V_k^T (row-major n x d) into
 * wopt when it is not NULL. */
static void truth(const double *xc, int64_t N, int64_t n, const double *w, int64_t d, int64_t k,
                  double *sigma, double *wopt)
{
    int64_t mn = N < d ? N : d;
    double *y = malloc((size_t)(N * d) * sizeof *y), *vt = malloc((size_t)(mn * d) * sizeof *vt);
    double *u = malloc((size_t)(N * mn) * sizeof *u);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_nonnull(vt);
    ck_assert_ptr_nonnull(u);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)d, (int)n, 1.0, xc, (int)n,
                w, (int)d, 0.0, y, (int)d);
    ck_assert_int_eq(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (int)N, (int)d, y, (int)d, sigma, u,
                                    (int)mn, vt, (int)d),
                     0);
    if (wopt) { /* W V_k V_k^T = (W V_k) V_k^T, V_k^T the first k rows of vt */
        double *wv = malloc((size_t)(n * k) * sizeof *wv);
        ck_assert_ptr_nonnull(wv);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)k, (int)d, 1.0, w,
                    (int)d, vt, (int)d, 0.0, wv, (int)k);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)k, 1.0, wv,
                    (int)k, vt, (int)d, 0.0, wopt, (int)d);
        free(wv);
    }
    free(y);
    free(vt);
    free(u);
}

static double tail(const double *sigma, int64_t count, int64_t k)
{
    double s = 0;
    for (int64_t i = count - 1; i >= k; i--)
        s += sigma[i] * sigma[i];
    return sqrt(s);
}

static double max_diff(const double *a, const double *b, int64_t count)
{
    double m = 0;
    for (int64_t i = 0; i < count; i++)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

static double max_abs(const double *a, int64_t count)
{
    double m = 0;
    for (int64_t i = 0; i < count; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* Statistics of the rows of x added in batches of `batch` rows. */
static lowrank_stats *stats_of(const lowrank_matrix *x, int64_t batch)
{
    lowrank_stats *s;
    int64_t n = lowrank_matrix_rows(x), d = lowrank_matrix_cols(x);
    ck_assert_ok(lowrank_stats_new(d, NULL, &s));
    double *data = lowrank_matrix_data(x);
    for (int64_t i = 0; i < n; i += batch) {
        lowrank_matrix *part;
        int64_t c = n - i < batch ? n - i : batch;
        ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, c, d,
                                         data + i * d, d, &part));
        ck_assert_ok(lowrank_stats_add(s, part));
        lowrank_matrix_free(part);
    }
    return s;
}

/* Mean and covariance of s against the two-pass ones of x, relative to the
 * largest. */
static void assert_stats_match(const lowrank_stats *s, const lowrank_matrix *x, double tol)
{
    int64_t n = lowrank_matrix_rows(x), d = lowrank_matrix_cols(x);
    double *mean = malloc((size_t)d * sizeof *mean), *xc = centred(x, mean);
    double *cov = calloc((size_t)(d * d), sizeof *cov);
    ck_assert_ptr_nonnull(cov);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)n, 1.0 / (double)n, xc,
                (int)d, 0.0, cov, (int)d);
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < i; j++)
            cov[i * d + j] = cov[j * d + i];
    lowrank_matrix *m, *c;
    ck_assert_int_eq(lowrank_stats_count(s), n);
    ck_assert_int_eq(lowrank_stats_dim(s), d);
    ck_assert_ok(lowrank_stats_mean(s, &m));
    ck_assert_ok(lowrank_stats_covariance(s, &c));
    ck_assert_int_eq(lowrank_matrix_rows(m), 1);
    double *md = dense(m), *cd = dense(c);
    double em = max_diff(md, mean, d) / max_abs(mean, d),
           ec = max_diff(cd, cov, d * d) / max_abs(cov, d * d);
    ck_assert_msg(em <= tol && ec <= tol, "mean off by %.2e, covariance by %.2e (tol %.0e)", em,
                  ec, tol);
    free(md);
    free(cd);
    free(mean);
    free(xc);
    free(cov);
    lowrank_matrix_free(m);
    lowrank_matrix_free(c);
}

/* ------------------------------------------------------------ statistics */

/* Rows with a mean 10^6 times their spread: the naive sum of squares would
 * lose every digit of the covariance; the shifted update keeps them. */
START_TEST(stats_match_two_pass)
{
    lowrank_matrix *x = inputs_matrix(700, 13, 10, 1e6, 11);
    const int64_t batches[] = {700, 1, 7, 256, 257, 300};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        lowrank_stats *s = stats_of(x, batches[b]);
        assert_stats_match(s, x, 1e-9);
        lowrank_stats_free(s);
    }
    lowrank_matrix_free(x);
}
END_TEST

/* float32, column-major with padding: the same statistics as the float64
 * row-major copy of the same values. */
START_TEST(stats_read_every_layout)
{
    lowrank_matrix *x = random_matrix(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 300, 9, 12), *y, *p;
    ck_assert_ok(lowrank_matrix_convert(x, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, &y));
    float *pad = calloc(310 * 9, sizeof *pad);
    for (int64_t j = 0; j < 9; j++)
        for (int64_t i = 0; i < 300; i++)
            pad[i + j * 310] = ((float *)lowrank_matrix_data(x))[i + j * 300];
    ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 300, 9, pad, 310, &p));
    lowrank_stats *s;
    ck_assert_ok(lowrank_stats_new(9, NULL, &s));
    ck_assert_ok(lowrank_stats_add(s, p));
    assert_stats_match(s, y, 1e-13);
    lowrank_stats_free(s);
    lowrank_matrix_free(p);
    free(pad);
    lowrank_matrix_free(x);
    lowrank_matrix_free(y);
}
END_TEST


/* Rows scaled by c: the covariance is c^2 times theirs as long as the
 * squares neither overflow nor underflow; a spread whose squares would
 * underflow is refused (rows all equal are not: their spread is 0). */
static void check_tiny_spreads(void)
{
    lowrank_matrix *x = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 5, 4, 14), *c0, *c1;
    lowrank_stats *s, *scaled, *tiny, *flat;
    ck_assert_ok(lowrank_stats_new(4, NULL, &s));
    ck_assert_ok(lowrank_stats_add(s, x));
    ck_assert_ok(lowrank_stats_covariance(s, &c0));
    double *v = lowrank_matrix_data(x);
    for (int i = 0; i < 20; i++)
        v[i] *= 0x1p-440;
    ck_assert_ok(lowrank_stats_new(4, NULL, &scaled));
    ck_assert_ok(lowrank_stats_add(scaled, x));
    ck_assert_ok(lowrank_stats_covariance(scaled, &c1));
    for (int64_t i = 0; i < 4; i++)
        for (int64_t j = 0; j < 4; j++)
            ck_assert_double_eq_tol(lr_matrix_at(c1, i, j) * 0x1p880, lr_matrix_at(c0, i, j),
                                    1e-14 * fabs(lr_matrix_at(c0, i, i)));
    for (int i = 0; i < 20; i++)
        v[i] *= 0x1p-40; /* 2^-480 of the rows */
    ck_assert_ok(lowrank_stats_new(4, NULL, &tiny));
    ck_assert_fails(lowrank_stats_add(tiny, x), LOWRANK_ERANGE);
    ck_assert_int_eq(lowrank_stats_count(tiny), 0);
    for (int i = 0; i < 20; i++)
        v[i] = 0x1p-480 * (1 + i % 4); /* five equal rows: their mean is exact */
    ck_assert_ok(lowrank_stats_new(4, NULL, &flat));
    ck_assert_ok(lowrank_stats_add(flat, x));
    ck_assert_int_eq(lowrank_stats_count(flat), 5);
    lowrank_matrix_free(c0);
    lowrank_matrix_free(c1);
    lowrank_matrix_free(x);
    lowrank_stats_free(s);
    lowrank_stats_free(scaled);
    lowrank_stats_free(tiny);
    lowrank_stats_free(flat);
}

/* merge(A, B) = statistics of the union; a handle merged with itself
 * counts its rows twice; from_moments rebuilds what the accessors give. */
START_TEST(stats_merge_is_the_union)
{
    lowrank_matrix *x = inputs_matrix(500, 8, 100, 3, 13);
    double *data = lowrank_matrix_data(x);
    lowrank_matrix *a, *b;
    ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 120, 8, data, 8, &a));
    ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 380, 8, data + 120 * 8, 8,
                                     &b));
    lowrank_stats *sa = stats_of(a, 50), *sb = stats_of(b, 1000), *empty;
    ck_assert_ok(lowrank_stats_new(8, NULL, &empty));
    ck_assert_ok(lowrank_stats_merge(empty, sa)); /* into empty statistics */
    ck_assert_ok(lowrank_stats_merge(empty, sb));
    assert_stats_match(empty, x, 1e-12);
    lowrank_stats *none;
    ck_assert_ok(lowrank_stats_new(8, NULL, &none));
    ck_assert_ok(lowrank_stats_merge(sa, none)); /* merging nothing changes nothing */
    assert_stats_match(sa, a, 1e-13);
    /* through the accessors, as another process would */
    lowrank_matrix *mean, *cov;
    ck_assert_ok(lowrank_stats_mean(sb, &mean));
    ck_assert_ok(lowrank_stats_covariance(sb, &cov));
    lowrank_stats *rebuilt;
    ck_assert_ok(lowrank_stats_from_moments(380, mean, cov, NULL, &rebuilt));
    ck_assert_ok(lowrank_stats_merge(sa, rebuilt));
    assert_stats_match(sa, x, 1e-12);
    /* itself: twice the rows, same moments */
    lowrank_stats *twice = stats_of(x, 500);
    ck_assert_ok(lowrank_stats_merge(twice, twice));
    ck_assert_int_eq(lowrank_stats_count(twice), 1000);
    lowrank_matrix *m2, *c2;
    ck_assert_ok(lowrank_stats_mean(twice, &m2));
    ck_assert_ok(lowrank_stats_covariance(twice, &c2));
    lowrank_stats *again;
    ck_assert_ok(lowrank_stats_from_moments(500, m2, c2, NULL, &again));
    assert_stats_match(again, x, 1e-12);
    lowrank_stats_free(again);
    lowrank_matrix_free(m2);
    lowrank_matrix_free(c2);
    lowrank_stats_free(twice);
    lowrank_stats_free(rebuilt);
    lowrank_matrix_free(mean);
    lowrank_matrix_free(cov);
    lowrank_stats_free(none);
    lowrank_stats_free(empty);
    lowrank_stats_free(sa);
    lowrank_stats_free(sb);
    lowrank_matrix_free(a);
    lowrank_matrix_free(b);
    lowrank_matrix_free(x);
}
END_TEST

START_TEST(stats_errors)
{
    lowrank_stats *s = (lowrank_stats *)&s, *t;
    lowrank_matrix *x = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 5, 4, 14), *m = NULL;
    ck_assert_fails(lowrank_stats_new(4, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_stats_new(0, NULL, &s), LOWRANK_ESIZE);
    ck_assert_ptr_null(s);
    ck_assert_fails(lowrank_stats_new(INT64_MAX / 2, NULL, &s), LOWRANK_EOVERFLOW);
    ck_assert_ok(lowrank_stats_new(4, NULL, &s));
    ck_assert_ok(lowrank_stats_new(3, NULL, &t));
    ck_assert_fails(lowrank_stats_add(NULL, x), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_stats_add(s, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_stats_add(t, x), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_stats_merge(s, t), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_stats_merge(NULL, t), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_stats_mean(s, &m), LOWRANK_EDEGENERATE); /* no rows yet */
    ck_assert_ptr_null(m);
    ck_assert_fails(lowrank_stats_covariance(s, &m), LOWRANK_EDEGENERATE);
    ck_assert_fails(lowrank_stats_mean(NULL, &m), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_stats_mean(s, NULL), LOWRANK_EINVAL);
    ck_assert_ok(lowrank_stats_add(s, x));
    /* bad rows leave the statistics as they were */
    ck_assert_ok(lowrank_matrix_set(x, 2, 1, NAN));
    ck_assert_fails(lowrank_stats_add(s, x), LOWRANK_ENONFINITE);
    ck_assert_ok(lowrank_matrix_set(x, 2, 1, 0x1p451));
    ck_assert_fails(lowrank_stats_add(s, x), LOWRANK_ERANGE);
    ck_assert_int_eq(lowrank_stats_count(s), 5);
    check_tiny_spreads();
    ck_assert_int_eq(lowrank_stats_count(NULL), 0);
    ck_assert_int_eq(lowrank_stats_dim(NULL), 0);
    lowrank_stats_free(NULL);
    /* from_moments */
    lowrank_matrix *mean, *cov, *bad;
    ck_assert_ok(lowrank_stats_mean(s, &mean));
    ck_assert_ok(lowrank_stats_covariance(s, &cov));
    lowrank_stats *r = (lowrank_stats *)&r;
    ck_assert_fails(lowrank_stats_from_moments(5, NULL, cov, NULL, &r), LOWRANK_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_fails(lowrank_stats_from_moments(5, mean, cov, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_stats_from_moments(-1, mean, cov, NULL, &r), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_stats_from_moments(5, cov, cov, NULL, &r), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_stats_from_moments(5, mean, mean, NULL, &r), LOWRANK_ESIZE);
    ck_assert_ok(lowrank_matrix_copy(cov, &bad));
    ck_assert_ok(lowrank_matrix_set(bad, 1, 1, -1));
    ck_assert_fails(lowrank_stats_from_moments(5, mean, bad, NULL, &r), LOWRANK_ERANGE);
    ck_assert_ok(lowrank_matrix_set(bad, 1, 1, INFINITY));
    ck_assert_fails(lowrank_stats_from_moments(5, mean, bad, NULL, &r), LOWRANK_ENONFINITE);
    ck_assert_ok(lowrank_matrix_set(bad, 1, 1, 0x1p890));
    ck_assert_fails(lowrank_stats_from_moments(2048, mean, bad, NULL, &r), LOWRANK_ERANGE);
    /* the count cannot overflow */
    ck_assert_ok(lowrank_stats_from_moments(INT64_MAX - 2, mean, cov, NULL, &r));
    ck_assert_fails(lowrank_stats_add(r, x), LOWRANK_EOVERFLOW);
    ck_assert_fails(lowrank_stats_merge(r, s), LOWRANK_EOVERFLOW);
    lowrank_stats_free(r);
    ck_assert_ok(lowrank_stats_from_moments(0, mean, cov, NULL, &r)); /* empty */
    ck_assert_int_eq(lowrank_stats_count(r), 0);
    lowrank_stats_free(r);
    lowrank_matrix_free(bad);
    lowrank_matrix_free(mean);
    lowrank_matrix_free(cov);
    lowrank_stats_free(s);
    lowrank_stats_free(t);
    lowrank_matrix_free(x);
}
END_TEST

/* ------------------------------------------------------------ lowrank_svd_data */

/* Shapes for both routes (tall n >> d: the d x d output covariance; wide:
 * the pivoted Cholesky factor), dtypes and layouts; full-rank inputs (N >
 * n) and rank-deficient ones (N < n). */
static const struct shape {
    int64_t N, n, d;
    lowrank_dtype t;
    lowrank_layout layout;
} shapes[] = {
    {400, 60, 12, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR},
    {400, 20, 50, LOWRANK_FLOAT64, LOWRANK_COL_MAJOR},
    {400, 30, 30, LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR},
    {25, 60, 40, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR}, /* rank(C) = 24 */
    {25, 80, 10, LOWRANK_FLOAT64, LOWRANK_COL_MAJOR},
};

/* The output error of lowrank_svd_data is the optimum of Eckart-Young on
 * Y = Xc W (no rank-k W_k makes Xc W_k closer to Xc W), the reported error
 * is the actual relative output error, and with a gap at k and full-rank
 * inputs W_k is the unique minimiser W V_k V_k^T. */
START_TEST(svd_data_reaches_the_optimum)
{
    const struct shape *sh = &shapes[_i];
    lowrank_matrix *x = inputs_matrix(sh->N, sh->n, 1e3, 5, 20 + (uint64_t)_i);
    lowrank_matrix *w = weights_matrix(sh->t, sh->layout, sh->n, sh->d, 30 + (uint64_t)_i);
    double *mean = malloc((size_t)sh->n * sizeof *mean), *xc = centred(x, mean), *wd = dense(w);
    int64_t mn = sh->N < sh->d ? sh->N : sh->d;
    double *sigma = malloc((size_t)mn * sizeof *sigma), *wopt = malloc((size_t)(sh->n * sh->d) * 8);
    lowrank_stats *s = stats_of(x, 64);
    double unit = sh->t == LOWRANK_FLOAT32 ? 1e-6 : 1e-12;
    const int64_t ks[] = {1, 3, 9};
    for (size_t c = 0; c < 3; c++) {
        int64_t k = ks[c];
        lowrank_factors *f;
        ck_assert_ok(lowrank_svd_data(w, s, k, NULL, &f));
        ck_assert_int_eq(lowrank_factors_rank(f), k);
        double *wk = approximation(f);
        truth(xc, sh->N, sh->n, wd, sh->d, k, sigma, wopt);
        double best = tail(sigma, mn, k), got = output_error(xc, sh->N, sh->n, wd, wk, sh->d);
        double all = output_error(xc, sh->N, sh->n, wd, NULL, sh->d), reported;
        ck_assert_msg(got <= best + 10 * unit * all, "shape %d k %lld: error %.10g, optimum %.10g",
                      _i, (long long)k, got, best);
        ck_assert_ok(lowrank_factors_error(f, &reported));
        ck_assert_msg(fabs(reported - got / all) <= 100 * unit, "reported %.10g, actual %.10g",
                      reported, got / all);
        if (sh->N > sh->n && sigma[k - 1] > 1.01 * sigma[k]) /* unique: compare W_k itself */
            ck_assert_msg(max_diff(wk, wopt, sh->n * sh->d) <= 1e3 * unit * max_abs(wd, sh->n * sh->d),
                          "W_k differs from W V_k V_k^T by %.3g",
                          max_diff(wk, wopt, sh->n * sh->d));
        free(wk);
        lowrank_factors_free(f);
    }
    /* k = 0: the smallest rank whose relative output error is at most tol */
    truth(xc, sh->N, sh->n, wd, sh->d, 1, sigma, NULL);
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, 0.3));
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd_data(w, s, 0, o, &f));
    int64_t k = lowrank_factors_rank(f);
    double all = tail(sigma, mn, 0);
    ck_assert_msg(tail(sigma, mn, k) <= 0.3 * all * (1 + 1e-9) &&
                      (k == 1 || tail(sigma, mn, k - 1) > 0.3 * all),
                  "tolerance chose k = %lld", (long long)k);
    lowrank_factors_free(f);
    lowrank_opts_free(o);
    lowrank_stats_free(s);
    free(mean);
    free(xc);
    free(wd);
    free(sigma);
    free(wopt);
    lowrank_matrix_free(x);
    lowrank_matrix_free(w);
}
END_TEST

/* C = I, mu = 0: the plain SVD, on both routes, whatever the method. */
START_TEST(identity_covariance_gives_the_svd)
{
    const int64_t dims[][2] = {{50, 20}, {20, 50}, {40, 40}};
    const int64_t methods[] = {LOWRANK_METHOD_AUTO, LOWRANK_METHOD_EXACT};
    for (int c = 0; c < 3; c++) {
        int64_t n = dims[c][0], d = dims[c][1];
        lowrank_matrix *w = weights_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, 40 + c);
        lowrank_matrix *mean, *cov;
        ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 1, n, &mean));
        ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, n, &cov));
        for (int64_t i = 0; i < n; i++)
            ck_assert_ok(lowrank_matrix_set(cov, i, i, 1.0));
        lowrank_stats *s;
        ck_assert_ok(lowrank_stats_from_moments(10, mean, cov, NULL, &s));
        for (int m = 0; m < 2; m++) {
            lowrank_opts *o;
            ck_assert_ok(lowrank_opts_new(&o));
            ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, methods[m]));
            lowrank_factors *f, *g;
            ck_assert_ok(lowrank_svd_data(w, s, 7, o, &f));
            ck_assert_ok(lowrank_svd(w, 7, NULL, &g));
            double *a = approximation(f), *b = approximation(g), ef, eg;
            ck_assert_msg(max_diff(a, b, n * d) <= 1e-12, "differs from lowrank_svd by %.3g",
                          max_diff(a, b, n * d));
            ck_assert_ok(lowrank_factors_error(f, &ef));
            ck_assert_ok(lowrank_factors_error(g, &eg));
            ck_assert_double_eq_tol(ef, eg, 1e-10);
            free(a);
            free(b);
            lowrank_factors_free(f);
            lowrank_factors_free(g);
            lowrank_opts_free(o);
        }
        lowrank_stats_free(s);
        lowrank_matrix_free(mean);
        lowrank_matrix_free(cov);
        lowrank_matrix_free(w);
    }
}
END_TEST

/* Inputs that span fewer directions than k: the output error is zero, the
 * rank is still k, and the directions the data leave open are W's own: with
 * zero covariance (a single row) the result is the plain SVD. */
START_TEST(rank_deficient_inputs)
{
    for (int c = 0; c < 2; c++) {
        int64_t n = c ? 12 : 40, d = c ? 40 : 12;
        lowrank_matrix *w = weights_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, n, d, 50 + c);
        lowrank_matrix *one = inputs_matrix(1, n, 1, 2, 60 + c);
        lowrank_stats *s = stats_of(one, 1);
        lowrank_factors *f, *g;
        ck_assert_ok(lowrank_svd_data(w, s, 5, NULL, &f));
        ck_assert_ok(lowrank_svd(w, 5, NULL, &g));
        double *a = approximation(f), *b = approximation(g), e;
        ck_assert_msg(max_diff(a, b, n * d) <= 1e-12, "C = 0: differs from the SVD by %.3g",
                      max_diff(a, b, n * d));
        ck_assert_ok(lowrank_factors_error(f, &e));
        ck_assert_double_eq(e, 0);
        free(a);
        free(b);
        lowrank_factors_free(f);
        lowrank_factors_free(g);
        lowrank_stats_free(s);
        lowrank_matrix_free(one);
        /* 3 input rows: C of rank 2 < k = 6 */
        lowrank_matrix *x = inputs_matrix(3, n, 1, 2, 70 + c);
        double *mean = malloc((size_t)n * sizeof *mean), *xc = centred(x, mean), *wd = dense(w);
        s = stats_of(x, 2);
        ck_assert_ok(lowrank_svd_data(w, s, 6, NULL, &f));
        ck_assert_int_eq(lowrank_factors_rank(f), 6);
        a = approximation(f);
        ck_assert_msg(output_error(xc, 3, n, wd, a, d) <=
                          1e-12 * output_error(xc, 3, n, wd, NULL, d),
                      "output error %.3g", output_error(xc, 3, n, wd, a, d));
        const lowrank_matrix *sv = lowrank_factors_s(f);
        double s6;
        ck_assert_ok(lowrank_matrix_get(sv, 5, 0, &s6));
        ck_assert_msg(s6 > 1e-3, "the open directions were left empty (sigma_6 = %g)", s6);
        free(a);
        free(mean);
        free(xc);
        free(wd);
        lowrank_factors_free(f);
        lowrank_stats_free(s);
        lowrank_matrix_free(x);
        lowrank_matrix_free(w);
    }
}
END_TEST

/* An input covariance with condition number 1e14: no failure, and still
 * the optimum (to the conditioning's effect on the output error). */
START_TEST(ill_conditioned_inputs)
{
    for (int c = 0; c < 2; c++) {
        int64_t N = 300, n = c ? 20 : 50, d = c ? 50 : 10;
        lowrank_matrix *x = inputs_matrix(N, n, 1e7, 1, 80 + c);
        lowrank_matrix *w = weights_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, 90 + c);
        double *mean = malloc((size_t)n * sizeof *mean), *xc = centred(x, mean), *wd = dense(w);
        double *sigma = malloc((size_t)d * sizeof *sigma);
        lowrank_stats *s = stats_of(x, 100);
        lowrank_factors *f;
        ck_assert_ok(lowrank_svd_data(w, s, 4, NULL, &f));
        double *wk = approximation(f);
        truth(xc, N, n, wd, d, 4, sigma, NULL);
        double got = output_error(xc, N, n, wd, wk, d), best = tail(sigma, d, 4);
        ck_assert_msg(got <= best * (1 + 1e-8) + 1e-12 * sigma[0], "error %.12g, optimum %.12g",
                      got, best);
        free(wk);
        lowrank_factors_free(f);
        lowrank_stats_free(s);
        free(mean);
        free(xc);
        free(wd);
        free(sigma);
        lowrank_matrix_free(x);
        lowrank_matrix_free(w);
    }
}
END_TEST

/* c X and c' W: W_k scales by c', the relative error stays, and the bias
 * shift scales by c c', for factors of 2^+-300 (powers of two keep the
 * comparison exact up to the algorithms' own rounding). */
START_TEST(scale_invariance)
{
    const double scales[][2] = {{0x1p300, 1}, {1, 0x1p-300}, {0x1p-200, 0x1p200}, {3.5, 1e-7}};
    for (int c = 0; c < 2; c++) {
        int64_t n = c ? 15 : 40, d = c ? 40 : 15;
        lowrank_matrix *x = inputs_matrix(200, n, 50, 1, 100 + c);
        lowrank_matrix *w = weights_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, 110 + c);
        lowrank_stats *s = stats_of(x, 200);
        lowrank_factors *f;
        lowrank_matrix *mean, *shift;
        ck_assert_ok(lowrank_svd_data(w, s, 3, NULL, &f));
        ck_assert_ok(lowrank_stats_mean(s, &mean));
        ck_assert_ok(lowrank_factors_bias_shift(f, w, mean, &shift));
        double *wk = approximation(f), *sh = dense(shift), e;
        ck_assert_ok(lowrank_factors_error(f, &e));
        for (size_t q = 0; q < sizeof scales / sizeof scales[0]; q++) {
            double cx = scales[q][0], cw = scales[q][1];
            lowrank_matrix *x2, *w2, *mean2, *shift2;
            ck_assert_ok(lowrank_matrix_copy(x, &x2));
            ck_assert_ok(lowrank_matrix_copy(w, &w2));
            for (int64_t i = 0; i < 200 * n; i++)
                ((double *)lowrank_matrix_data(x2))[i] *= cx;
            for (int64_t i = 0; i < n * d; i++)
                ((double *)lowrank_matrix_data(w2))[i] *= cw;
            lowrank_stats *s2 = stats_of(x2, 200);
            lowrank_factors *f2;
            ck_assert_ok(lowrank_svd_data(w2, s2, 3, NULL, &f2));
            ck_assert_ok(lowrank_stats_mean(s2, &mean2));
            ck_assert_ok(lowrank_factors_bias_shift(f2, w2, mean2, &shift2));
            double *wk2 = approximation(f2), *sh2 = dense(shift2), e2;
            for (int64_t i = 0; i < n * d; i++)
                wk2[i] /= cw;
            for (int64_t j = 0; j < d; j++)
                sh2[j] /= cx * cw;
            ck_assert_ok(lowrank_factors_error(f2, &e2));
            ck_assert_msg(max_diff(wk, wk2, n * d) <= 1e-10 * max_abs(wk, n * d),
                          "scales %g %g: W_k off by %.3g", cx, cw, max_diff(wk, wk2, n * d));
            ck_assert_msg(max_diff(sh, sh2, d) <= 1e-9 * max_abs(sh, d),
                          "scales %g %g: shift off by %.3g", cx, cw, max_diff(sh, sh2, d));
            ck_assert_double_eq_tol(e, e2, 1e-10);
            free(wk2);
            free(sh2);
            lowrank_factors_free(f2);
            lowrank_stats_free(s2);
            lowrank_matrix_free(mean2);
            lowrank_matrix_free(shift2);
            lowrank_matrix_free(x2);
            lowrank_matrix_free(w2);
        }
        free(wk);
        free(sh);
        lowrank_matrix_free(mean);
        lowrank_matrix_free(shift);
        lowrank_factors_free(f);
        lowrank_stats_free(s);
        lowrank_matrix_free(x);
        lowrank_matrix_free(w);
    }
}
END_TEST

/* The ridge: alpha -> infinity tends to the plain SVD, which alpha = 0
 * differs from; a negative alpha is refused. */
START_TEST(ridge_shrinks_to_the_svd)
{
    lowrank_matrix *x = inputs_matrix(300, 30, 1e3, 1, 120);
    lowrank_matrix *w = weights_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 30, 20, 121);
    lowrank_stats *s = stats_of(x, 300);
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_RIDGE, 1e12));
    lowrank_factors *f, *g, *h;
    ck_assert_ok(lowrank_svd_data(w, s, 4, o, &f));
    ck_assert_ok(lowrank_svd(w, 4, NULL, &g));
    ck_assert_ok(lowrank_svd_data(w, s, 4, NULL, &h));
    double *a = approximation(f), *b = approximation(g), *c = approximation(h);
    ck_assert_msg(max_diff(a, b, 600) <= 1e-6, "ridge 1e12: %.3g from the SVD", max_diff(a, b, 600));
    ck_assert_msg(max_diff(c, b, 600) > 1e-2, "the data made no difference");
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_RIDGE, -1), LOWRANK_ERANGE);
    free(a);
    free(b);
    free(c);
    lowrank_factors_free(f);
    lowrank_factors_free(g);
    lowrank_factors_free(h);
    lowrank_opts_free(o);
    lowrank_stats_free(s);
    lowrank_matrix_free(x);
    lowrank_matrix_free(w);
}
END_TEST

START_TEST(svd_data_errors)
{
    lowrank_matrix *x = inputs_matrix(50, 10, 10, 0, 130);
    lowrank_matrix *w = weights_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 10, 6, 131);
    lowrank_matrix *w8 = weights_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 8, 6, 132);
    lowrank_stats *s = stats_of(x, 50), *empty;
    ck_assert_ok(lowrank_stats_new(10, NULL, &empty));
    lowrank_factors *f = (lowrank_factors *)&f;
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_fails(lowrank_svd_data(w, s, 2, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_svd_data(NULL, s, 2, NULL, &f), LOWRANK_EINVAL);
    ck_assert_ptr_null(f);
    ck_assert_fails(lowrank_svd_data(w, NULL, 2, NULL, &f), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_svd_data(w8, s, 2, NULL, &f), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_svd_data(w, s, -1, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_svd_data(w, s, 7, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_svd_data(w, s, 0, NULL, &f), LOWRANK_ERANGE); /* no tolerance */
    ck_assert_fails(lowrank_svd_data(w, empty, 2, NULL, &f), LOWRANK_EDEGENERATE);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, LOWRANK_METHOD_LEWIS));
    ck_assert_fails(lowrank_svd_data(w, s, 2, o, &f), LOWRANK_EINVAL);
    ck_assert_ok(lowrank_matrix_set(w, 3, 2, INFINITY));
    ck_assert_fails(lowrank_svd_data(w, s, 2, NULL, &f), LOWRANK_ENONFINITE);
    ck_assert_ptr_null(f);
    /* bias shift */
    lowrank_matrix *mean, *sh = (lowrank_matrix *)&sh;
    lowrank_factors *g;
    ck_assert_ok(lowrank_stats_mean(s, &mean));
    ck_assert_ok(lowrank_svd(w8, 2, NULL, &g));
    ck_assert_fails(lowrank_factors_bias_shift(g, w8, mean, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_factors_bias_shift(NULL, w8, mean, &sh), LOWRANK_EINVAL);
    ck_assert_ptr_null(sh);
    ck_assert_fails(lowrank_factors_bias_shift(g, NULL, mean, &sh), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_factors_bias_shift(g, w8, NULL, &sh), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_factors_bias_shift(g, w8, mean, &sh), LOWRANK_ESIZE); /* 10 != 8 */
    ck_assert_fails(lowrank_factors_bias_shift(g, w, mean, &sh), LOWRANK_ESIZE);
    lowrank_factors_free(g);
    lowrank_matrix_free(mean);
    lowrank_opts_free(o);
    lowrank_stats_free(s);
    lowrank_stats_free(empty);
    lowrank_matrix_free(x);
    lowrank_matrix_free(w);
    lowrank_matrix_free(w8);
}
END_TEST

/* The bias shift of any factors: mean (W - W_k), which keeps the mean
 * output; in float32 for a float32 W. */
START_TEST(bias_shift_keeps_the_mean_output)
{
    lowrank_matrix *x = inputs_matrix(100, 12, 10, 4, 140);
    lowrank_matrix *w = weights_matrix(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 12, 9, 141);
    double *mean = malloc(12 * sizeof *mean), *xc = centred(x, mean), *wd = dense(w);
    lowrank_matrix *mm;
    ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 12, 1, mean, 12, &mm));
    lowrank_factors *f;
    ck_assert_ok(lowrank_lp(w, 3, 1.0, NULL, &f)); /* any factors */
    lowrank_matrix *sh;
    ck_assert_ok(lowrank_factors_bias_shift(f, w, mm, &sh));
    ck_assert_int_eq(lowrank_matrix_dtype(sh), LOWRANK_FLOAT32);
    ck_assert_int_eq(lowrank_matrix_rows(sh), 1);
    ck_assert_int_eq(lowrank_matrix_cols(sh), 9);
    double *wk = approximation(f), *s = dense(sh);
    for (int64_t j = 0; j < 9; j++) { /* mean x W = mean x W_k + shift */
        double full = 0, low = 0;
        for (int64_t i = 0; i < 12; i++) {
            full += mean[i] * wd[i * 9 + j];
            low += mean[i] * wk[i * 9 + j];
        }
        ck_assert_double_eq_tol(low + s[j], full, 1e-5 * (fabs(full) + 1));
    }
    free(wk);
    free(s);
    free(mean);
    free(xc);
    free(wd);
    lowrank_matrix_free(sh);
    lowrank_matrix_free(mm);
    lowrank_factors_free(f);
    lowrank_matrix_free(x);
    lowrank_matrix_free(w);
}
END_TEST

/* ------------------------------------------------------------ allocation */

/* Three 20 x 20 layers: every step below rank 10 costs 40 numbers, and
 * ranks 10 to 20 cost the whole layer (400), so every step of the curves
 * below costs the same 40 (rank 9 to whole included).  With decreasing
 * gains (also when each layer's are weighed by an importance), the greedy
 * allocation is then exactly optimal for every budget: compared with an
 * exhaustive search over the 10^3 allocations. */
typedef struct equal_steps {
    double err[3][21]; /* squared relative errors at ranks 1 .. 20 */
    double a[3];       /* importances */
} equal_steps;

/* Numbers stored and weighted error of ranks r (10: the whole layer). */
static double steps_cost(const int r[3])
{
    double cost = 0;
    for (int l = 0; l < 3; l++)
        cost += r[l] >= 10 ? 400 : 40 * r[l];
    return cost;
}

static double steps_error(const equal_steps *eq, const int r[3])
{
    double e = 0;
    for (int l = 0; l < 3; l++)
        e += r[l] >= 10 ? 0 : eq->a[l] * eq->err[l][r[l]];
    return e;
}

/* By exhaustive search: the least weighted error within cost_limit, or
 * (error_limit >= 0) the least cost with a weighted error <= error_limit. */
static double steps_best(const equal_steps *eq, double cost_limit, double error_limit)
{
    double best = INFINITY;
    for (int a = 1; a <= 10; a++)
        for (int c = 1; c <= 10; c++)
            for (int d = 1; d <= 10; d++) {
                int r[3] = {a, c, d};
                double cost = steps_cost(r), e = steps_error(eq, r);
                if (error_limit < 0 && cost <= cost_limit + 1e-9 && e < best)
                    best = e;
                if (error_limit >= 0 && e <= error_limit && cost < best)
                    best = cost;
            }
    return best;
}

/* The allocations for several budgets, and for a tolerance, against the
 * exhaustive search. */
static void check_equal_steps(lowrank_matrix **w, lowrank_stats **s, const equal_steps *eq,
                              const double *importance)
{
    const double budgets[] = {0.3, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0};
    double previous = INFINITY;
    int64_t ranks[3];
    double errors[3];
    for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
        ck_assert_ok(lowrank_allocate_ranks(3, (const lowrank_matrix *const *)w,
                                            (const lowrank_stats *const *)s, importance,
                                            budgets[b], NULL, ranks, errors));
        int r[3];
        for (int l = 0; l < 3; l++) {
            int64_t k = ranks[l];
            ck_assert_msg(k >= 1 && k <= 20, "rank %lld", (long long)k);
            ck_assert_double_eq_tol(errors[l] * errors[l], k == 20 ? 0 : eq->err[l][k], 1e-10);
            r[l] = k >= 10 ? 10 : (int)k;
        }
        ck_assert_msg(steps_cost(r) <= budgets[b] * 1200 + 1e-9, "stored %g over the budget",
                      steps_cost(r));
        double total = steps_error(eq, r), best = steps_best(eq, budgets[b] * 1200, -1);
        ck_assert_msg(total <= best + 1e-12, "budget %g: error %.10g, optimum %.10g", budgets[b],
                      total, best);
        ck_assert(total <= previous);
        previous = total;
    }
    /* by error: the fewest numbers with a weighted root mean square error
     * <= 0.2 */
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, 0.2));
    ck_assert_ok(lowrank_allocate_ranks(3, (const lowrank_matrix *const *)w,
                                        (const lowrank_stats *const *)s, importance, 0, o, ranks,
                                        errors));
    int r[3];
    double e = 0, sum_a = eq->a[0] + eq->a[1] + eq->a[2];
    for (int l = 0; l < 3; l++) {
        e += eq->a[l] * errors[l] * errors[l];
        r[l] = ranks[l] >= 10 ? 10 : (int)ranks[l];
    }
    ck_assert_msg(sqrt(e / sum_a) <= 0.2, "rms error %g", sqrt(e / sum_a));
    double cheapest = steps_best(eq, 0, 0.04 * sum_a);
    ck_assert_msg(steps_cost(r) <= cheapest, "stored %g, %g suffice", steps_cost(r), cheapest);
    lowrank_opts_free(o);
}

START_TEST(allocation_is_optimal_on_equal_steps)
{
    lowrank_matrix *w[3], *x[3];
    lowrank_stats *s[3];
    equal_steps eq;
    for (int l = 0; l < 3; l++) {
        w[l] = weights_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 20, 20, 150 + l);
        for (int64_t i = 0; i < 20; i++) /* spectra decaying at three rates */
            for (int64_t j = 0; j < 20; j++) {
                double v;
                ck_assert_ok(lowrank_matrix_get(w[l], i, j, &v));
                ck_assert_ok(lowrank_matrix_set(w[l], i, j, v * pow(1.0 + (double)j, -l)));
            }
        x[l] = inputs_matrix(200, 20, 10, 1, 160 + l);
        s[l] = stats_of(x[l], 200);
        for (int k = 1; k <= 20; k++) { /* the errors, from lowrank_svd_data */
            lowrank_factors *f;
            ck_assert_ok(lowrank_svd_data(w[l], s[l], k, NULL, &f));
            ck_assert_ok(lowrank_factors_error(f, &eq.err[l][k]));
            eq.err[l][k] *= eq.err[l][k];
            lowrank_factors_free(f);
        }
    }
    /* no importance; three weighings, one of which ignores a layer */
    const double weighings[][3] = {{1, 1, 1}, {0.2, 1, 5}, {30, 1, 0.01}, {0, 1, 3}};
    for (size_t i = 0; i < sizeof weighings / sizeof weighings[0]; i++) {
        memcpy(eq.a, weighings[i], sizeof eq.a);
        check_equal_steps(w, s, &eq, i == 0 ? NULL : weighings[i]);
    }
    for (int l = 0; l < 3; l++) {
        lowrank_matrix_free(w[l]);
        lowrank_matrix_free(x[l]);
        lowrank_stats_free(s[l]);
    }
}
END_TEST

/* Plain layers (no statistics): the errors are the SVD's; scaling a
 * layer's weights or inputs changes nothing; errors and edge cases. */
START_TEST(allocation_errors_and_invariance)
{
    lowrank_matrix *w[2] = {weights_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 30, 10, 170),
                            weights_matrix(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 8, 25, 171)};
    lowrank_matrix *x = inputs_matrix(100, 30, 20, 1, 172);
    lowrank_stats *s[2] = {stats_of(x, 100), NULL};
    int64_t ranks[2] = {-7, -7}, r2[2];
    double errors[2], e2[2];
    ck_assert_ok(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w,
                                        (const lowrank_stats *const *)s, NULL, 0.5, NULL, ranks,
                                        errors));
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd(w[1], ranks[1] < 8 ? ranks[1] : 7, NULL, &f));
    double e;
    ck_assert_ok(lowrank_factors_error(f, &e));
    if (ranks[1] < 8)
        ck_assert_double_eq_tol(errors[1], e, 1e-5);
    lowrank_factors_free(f);
    /* scaled copies: same ranks */
    lowrank_matrix *w0;
    ck_assert_ok(lowrank_matrix_copy(w[0], &w0));
    for (int64_t i = 0; i < 300; i++)
        ((double *)lowrank_matrix_data(w[0]))[i] *= 0x1p-400;
    for (int64_t i = 0; i < 3000; i++)
        ((double *)lowrank_matrix_data(x))[i] *= 0x1p300;
    lowrank_stats *s2[2] = {stats_of(x, 100), NULL};
    ck_assert_ok(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w,
                                        (const lowrank_stats *const *)s2, NULL, 0.5, NULL, r2, e2));
    ck_assert_int_eq(r2[0], ranks[0]);
    ck_assert_int_eq(r2[1], ranks[1]);
    ck_assert_double_eq_tol(e2[0], errors[0], 1e-10);
    /* errors */
    ck_assert_fails(lowrank_allocate_ranks(2, NULL, NULL, NULL, 0.5, NULL, r2, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w, NULL, NULL, 0.5, NULL,
                                           NULL, NULL),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_allocate_ranks(0, (const lowrank_matrix *const *)w, NULL, NULL, 0.5, NULL,
                                           r2, NULL),
                    LOWRANK_ESIZE);
    ck_assert_fails(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w, NULL, NULL, 1.5, NULL,
                                           r2, NULL),
                    LOWRANK_ERANGE);
    ck_assert_fails(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w, NULL, NULL, NAN, NULL,
                                           r2, NULL),
                    LOWRANK_ERANGE);
    ck_assert_fails(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w, NULL, NULL, 0, NULL, r2,
                                           NULL),
                    LOWRANK_ERANGE); /* no tolerance */
    ranks[0] = ranks[1] = -7;
    ck_assert_fails(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w, NULL, NULL, 0.05, NULL,
                                           ranks, NULL),
                    LOWRANK_ERANGE); /* below rank 1 everywhere */
    ck_assert_int_eq(ranks[0], -7);
    lowrank_stats *wrong[2] = {NULL, s[0]}; /* dim 30 for an 8 x 25 layer */
    ck_assert_fails(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w,
                                           (const lowrank_stats *const *)wrong, NULL, 0.5, NULL, r2,
                                           NULL),
                    LOWRANK_ESIZE);
    lowrank_stats *empty;
    ck_assert_ok(lowrank_stats_new(30, NULL, &empty));
    lowrank_stats *with_empty[2] = {empty, NULL};
    ck_assert_fails(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w,
                                           (const lowrank_stats *const *)with_empty, NULL, 0.5, NULL,
                                           r2, NULL),
                    LOWRANK_EDEGENERATE);
    const double bad_importance[][2] = {{-1, 1}, {NAN, 1}, {1, INFINITY}, {0, 0}};
    for (int i = 0; i < 4; i++) {
        ranks[0] = -7;
        ck_assert_fails(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w, NULL,
                                               bad_importance[i], 0.5, NULL, ranks, NULL),
                        LOWRANK_ERANGE);
        ck_assert_int_eq(ranks[0], -7);
    }
    const lowrank_matrix *holes[2] = {w[0], NULL};
    ck_assert_fails(lowrank_allocate_ranks(2, holes, NULL, NULL, 0.5, NULL, r2, NULL), LOWRANK_EINVAL);
    ck_assert_ok(lowrank_matrix_set(w0, 1, 1, NAN));
    const lowrank_matrix *nan[2] = {w0, w[1]};
    ck_assert_fails(lowrank_allocate_ranks(2, nan, NULL, NULL, 0.5, NULL, r2, NULL), LOWRANK_ENONFINITE);
    /* the whole budget keeps every layer whole */
    ck_assert_ok(lowrank_allocate_ranks(2, (const lowrank_matrix *const *)w, NULL, NULL, 1.0, NULL, r2,
                                        e2));
    ck_assert_int_eq(r2[0], 10);
    ck_assert_int_eq(r2[1], 8);
    ck_assert_double_eq(e2[0], 0);
    lowrank_stats_free(empty);
    lowrank_stats_free(s[0]);
    lowrank_stats_free(s2[0]);
    lowrank_matrix_free(w0);
    lowrank_matrix_free(w[0]);
    lowrank_matrix_free(w[1]);
    lowrank_matrix_free(x);
}
END_TEST

/* ------------------------------------------------------------ allocation failures */

typedef struct call_ctx {
    lowrank_stats *s, *src;
    const lowrank_matrix *x, *w, *mean;
    int64_t k;
    lowrank_opts *opts;
} call_ctx;

static int new_call(void *p)
{
    (void)p;
    lowrank_stats *s = (lowrank_stats *)&s;
    int rc = lowrank_stats_new(17, NULL, &s);
    rc = output_status(rc, s); /* (s read after the call) */
    lowrank_stats_free(rc == OUTPUT_BROKEN ? NULL : s);
    return rc;
}

/* stats_add into a copy of c->s; a failure must leave the count alone. */
static int add_call(void *p)
{
    call_ctx *c = p;
    lowrank_stats *s = NULL;
    int rc = lowrank_stats_new(lowrank_stats_dim(c->s), c->opts, &s);
    if (rc == LOWRANK_OK)
        rc = lowrank_stats_merge(s, c->s);
    int64_t before = lowrank_stats_count(s);
    if (rc == LOWRANK_OK && (rc = lowrank_stats_add(s, c->x)) != LOWRANK_OK &&
        lowrank_stats_count(s) != before)
        rc = OUTPUT_BROKEN;
    lowrank_stats_free(s);
    return rc;
}

static int merge_call(void *p)
{
    call_ctx *c = p;
    lowrank_stats *s = NULL;
    int rc = lowrank_stats_new(lowrank_stats_dim(c->s), NULL, &s);
    if (rc == LOWRANK_OK)
        rc = lowrank_stats_merge(s, c->s);
    if (rc == LOWRANK_OK)
        rc = lowrank_stats_merge(s, c->src);
    lowrank_stats_free(s);
    return rc;
}

static int moments_call(void *p)
{
    call_ctx *c = p;
    lowrank_matrix *mean = (lowrank_matrix *)&mean, *cov = NULL;
    lowrank_stats *s = NULL;
    int rc = lowrank_stats_mean(c->s, &mean);
    rc = output_status(rc, mean);
    if (rc == LOWRANK_OK) {
        rc = lowrank_stats_covariance(c->s, &cov);
        rc = output_status(rc, cov);
    }
    if (rc == LOWRANK_OK) {
        rc = lowrank_stats_from_moments(7, mean, cov, NULL, &s);
        rc = output_status(rc, s);
    }
    lowrank_stats_free(rc == OUTPUT_BROKEN ? NULL : s);
    if (rc != OUTPUT_BROKEN) {
        lowrank_matrix_free(mean);
        lowrank_matrix_free(cov);
    }
    return rc;
}

static int svd_data_call(void *p)
{
    call_ctx *c = p;
    lowrank_factors *f = (lowrank_factors *)&f;
    int rc = lowrank_svd_data(c->w, c->s, c->k, c->opts, &f);
    rc = output_status(rc, f);
    lowrank_factors_free(rc == OUTPUT_BROKEN ? NULL : f);
    return rc;
}

static int shift_call(void *p)
{
    call_ctx *c = p;
    lowrank_factors *f = NULL;
    lowrank_matrix *sh = (lowrank_matrix *)&sh;
    int rc = lowrank_svd(c->w, 2, NULL, &f);
    if (rc == LOWRANK_OK) {
        rc = lowrank_factors_bias_shift(f, c->w, c->mean, &sh);
        rc = output_status(rc, sh);
    }
    if (rc == LOWRANK_OK)
        lowrank_matrix_free(sh);
    lowrank_factors_free(f);
    return rc;
}

static int allocate_call(void *p)
{
    call_ctx *c = p;
    const lowrank_matrix *w[2] = {c->w, c->w};
    const lowrank_stats *s[2] = {c->s, NULL};
    int64_t ranks[2] = {-1, -1};
    int rc = lowrank_allocate_ranks(2, w, s, NULL, 0.5, NULL, ranks, NULL);
    if (rc != LOWRANK_OK && ranks[0] != -1)
        rc = OUTPUT_BROKEN;
    return rc;
}

static int never(double fraction, void *user)
{
    (void)fraction;
    (void)user;
    return 0;
}

START_TEST(allocation_failures)
{
    lowrank_matrix *x = inputs_matrix(300, 12, 10, 1, 180), *x2 = inputs_matrix(40, 12, 10, 1, 181);
    lowrank_matrix *tall = weights_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 12, 4, 182);
    lowrank_matrix *wide = weights_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 12, 30, 183);
    lowrank_matrix *mean;
    lowrank_stats *s = stats_of(x, 300), *src = stats_of(x2, 40);
    lowrank_opts *progress, *tol;
    ck_assert_ok(lowrank_opts_new(&progress));
    ck_assert_ok(lowrank_opts_set_progress(progress, never, NULL));
    ck_assert_ok(lowrank_opts_new(&tol));
    ck_assert_ok(lowrank_opts_set_double(tol, LOWRANK_OPT_TOLERANCE, 0.2));
    ck_assert_ok(lowrank_stats_mean(s, &mean));
    call_ctx c = {s, src, x2, tall, mean, 3, NULL};
    ck_assert_int_gt(check_alloc_failures(new_call, &c), 1);
    ck_assert_int_gt(check_alloc_failures(add_call, &c), 3);
    c.opts = progress; /* the batch's own accumulator */
    ck_assert_int_gt(check_alloc_failures(add_call, &c), 3);
    ck_assert_int_gt(check_alloc_failures(merge_call, &c), 2);
    ck_assert_int_gt(check_alloc_failures(moments_call, &c), 3);
    c.opts = NULL;
    ck_assert_int_gt(check_alloc_failures(svd_data_call, &c), 5); /* route 2 */
    c.opts = tol;
    c.k = 0;
    ck_assert_int_gt(check_alloc_failures(svd_data_call, &c), 5);
    c.w = wide; /* route 1 */
    ck_assert_int_gt(check_alloc_failures(svd_data_call, &c), 5);
    c.opts = NULL;
    c.k = 11; /* a high rank */
    ck_assert_int_gt(check_alloc_failures(svd_data_call, &c), 5);
    ck_assert_int_gt(check_alloc_failures(shift_call, &c), 2);
    ck_assert_int_gt(check_alloc_failures(allocate_call, &c), 5);
    /* completion of the directions: a single input row */
    lowrank_matrix *one = inputs_matrix(1, 12, 1, 1, 184);
    lowrank_stats *s1 = stats_of(one, 1);
    c.s = s1;
    c.k = 3;
    ck_assert_int_gt(check_alloc_failures(svd_data_call, &c), 5);
    lowrank_stats_free(s1);
    lowrank_matrix_free(one);
    lowrank_opts_free(progress);
    lowrank_opts_free(tol);
    lowrank_matrix_free(mean);
    lowrank_stats_free(s);
    lowrank_stats_free(src);
    lowrank_matrix_free(x);
    lowrank_matrix_free(x2);
    lowrank_matrix_free(tall);
    lowrank_matrix_free(wide);
}
END_TEST

/* ------------------------------------------------------------ cancellation */

typedef struct seen {
    int calls, cancel_at;
    double last;
} seen;

static int record(double fraction, void *user)
{
    seen *s = user;
    s->calls++;
    if (fraction < s->last)
        s->last = 2; /* a report went back: caught below */
    else if (s->last <= 1)
        s->last = fraction;
    return s->cancel_at && s->calls >= s->cancel_at;
}

/* Options reporting every report (the interval lowered from 50 ms to 0,
 * so that small problems exercise every cancel point, under valgrind too). */
static lowrank_opts *reporting(seen *sn)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_progress(o, record, sn));
    o->progress_interval = 0;
    return o;
}

/* A call canceled at its first, second, ... report, until one that
 * finishes: each cancel returns LOWRANK_ECANCELED with its output NULL and
 * its inputs as they were; the reports never go back.  Returns the number
 * of reports of the finished call. */
typedef int (*cancel_fn)(void *ctx, lowrank_opts *o);

static int cancels_at_every_report(cancel_fn call, void *ctx)
{
    for (int at = 1;; at++) {
        seen sn = {0, at, 0};
        lowrank_opts *o = reporting(&sn);
        int rc = call(ctx, o);
        lowrank_opts_free(o);
        ck_assert_msg(sn.last <= 1, "a report went back");
        if (sn.calls < at) {
            ck_assert_ok(rc);
            return sn.calls;
        }
        ck_assert_msg(rc == LOWRANK_ECANCELED, "canceled at report %d: returned %d", at, rc);
    }
}

typedef struct cancel_ctx {
    const lowrank_matrix *x, *w;
    const lowrank_stats *s;
} cancel_ctx;

static int add_canceled(void *p, lowrank_opts *o)
{
    cancel_ctx *c = p;
    lowrank_stats *s, *first = stats_of(c->x, 1000); /* (without reports) */
    ck_assert_ok(lowrank_stats_new(lowrank_matrix_cols(c->x), o, &s));
    ck_assert_ok(lowrank_stats_merge(s, first));
    lowrank_stats_free(first);
    int rc = lowrank_stats_add(s, c->x); /* canceled: the first batch stays */
    ck_assert_int_eq(lowrank_stats_count(s), rc == LOWRANK_OK ? 2 * lowrank_matrix_rows(c->x)
                                                              : lowrank_matrix_rows(c->x));
    lowrank_stats_free(s);
    return rc;
}

static int svd_data_canceled(void *p, lowrank_opts *o)
{
    cancel_ctx *c = p;
    lowrank_factors *f = (lowrank_factors *)&f;
    int rc = lowrank_svd_data(c->w, c->s, 3, o, &f);
    ck_assert(rc == LOWRANK_OK ? f != NULL : f == NULL);
    lowrank_factors_free(f);
    return rc;
}

static int allocate_canceled(void *p, lowrank_opts *o)
{
    cancel_ctx *c = p;
    const lowrank_matrix *w[2] = {c->w, c->w};
    const lowrank_stats *s[2] = {c->s, NULL};
    int64_t ranks[2] = {-1, -1};
    int rc = lowrank_allocate_ranks(2, w, s, NULL, 0.5, o, ranks, NULL);
    ck_assert(rc == LOWRANK_OK ? ranks[0] > 0 : ranks[0] == -1);
    return rc;
}

START_TEST(long_calls_report_and_cancel)
{
    /* the statistics of 600 rows: three panels, three reports */
    lowrank_matrix *x = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 600, 30, 190);
    cancel_ctx c = {x, NULL, NULL};
    ck_assert_int_ge(cancels_at_every_report(add_canceled, &c), 3);
    /* svd_data and the allocation on both routes: tall (the output
     * covariance, by blocks of columns) and wide (lowrank_svd nested) */
    const int64_t dims[][2] = {{30, 200}, {300, 40}};
    for (int d = 0; d < 2; d++) {
        lowrank_matrix *xs = inputs_matrix(100, dims[d][0], 10, 1, 191 + d);
        lowrank_matrix *w = weights_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, dims[d][0],
                                           dims[d][1], 193 + d);
        lowrank_stats *s = stats_of(xs, 100);
        c = (cancel_ctx){xs, w, s};
        ck_assert_int_ge(cancels_at_every_report(svd_data_canceled, &c), 2);
        ck_assert_int_ge(cancels_at_every_report(allocate_canceled, &c), 2);
        /* reports do not change the result */
        seen sn = {0, 0, 0};
        lowrank_opts *o = reporting(&sn);
        lowrank_factors *f, *g;
        ck_assert_ok(lowrank_svd_data(w, s, 5, o, &f));
        ck_assert_ok(lowrank_svd_data(w, s, 5, NULL, &g));
        double *a = approximation(f), *b = approximation(g);
        ck_assert_double_eq(max_diff(a, b, dims[d][0] * dims[d][1]), 0);
        free(a);
        free(b);
        lowrank_factors_free(f);
        lowrank_factors_free(g);
        lowrank_opts_free(o);
        lowrank_stats_free(s);
        lowrank_matrix_free(xs);
        lowrank_matrix_free(w);
    }
    lowrank_matrix_free(x);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("compress");
    TCase *tc = tcase_create("compress");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, stats_match_two_pass);
    tcase_add_test(tc, stats_read_every_layout);
    tcase_add_test(tc, stats_merge_is_the_union);
    tcase_add_test(tc, stats_errors);
    tcase_add_loop_test(tc, svd_data_reaches_the_optimum, 0,
                        (int)(sizeof shapes / sizeof shapes[0]));
    tcase_add_test(tc, identity_covariance_gives_the_svd);
    tcase_add_test(tc, rank_deficient_inputs);
    tcase_add_test(tc, ill_conditioned_inputs);
    tcase_add_test(tc, scale_invariance);
    tcase_add_test(tc, ridge_shrinks_to_the_svd);
    tcase_add_test(tc, svd_data_errors);
    tcase_add_test(tc, bias_shift_keeps_the_mean_output);
    tcase_add_test(tc, allocation_is_optimal_on_equal_steps);
    tcase_add_test(tc, allocation_errors_and_invariance);
    tcase_add_test(tc, allocation_failures);
    tcase_add_test(tc, long_calls_report_and_cancel);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
