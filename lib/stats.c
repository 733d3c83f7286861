/*
 * stats.c - input statistics (lowrank_stats): the mean and the scatter of
 * rows added batch by batch, mergeable, in double.  The data-aware
 * truncation (lib/compress.c) reads them; docs/compress.md.
 *
 * A batch is accumulated around a shift s, the current mean (or, for the
 * first batch, the mean of its first panel): A = sum (x - s)(x - s)^T by
 * syrk, panel by panel, and t = sum (x - s).  With N rows before and m in
 * the batch, the new mean is s + t / (N + m), and the scatter about it is
 * the old scatter plus A minus (N + m) delta delta^T, delta = t / (N + m):
 * the shifted form of Welford's update, exact in exact arithmetic and
 * stable because s is near the mean.  Merging two handles is Chan, Golub
 * and LeVeque's pairwise update.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "stats.h"

/* Rows per syrk: wide enough for BLAS-3 speed, small enough that the panel
 * (dim x PANEL doubles) stays a fraction of the scatter. */
#define PANEL 256

static const lowrank_dtype F64 = LOWRANK_FLOAT64;

static int alloc_stats(int64_t dim, const lowrank_opts *opts, lowrank_stats **out)
{
    size_t cells;
    *out = NULL;
    if (dim < 1)
        return lr_fail(LOWRANK_ESIZE, "dim = %lld must be at least 1", (long long)dim);
    int rc = lr_mul_size((size_t)dim, (size_t)dim, &cells);
    if (rc == LOWRANK_OK)
        rc = lr_mul_size(cells, sizeof(double), &cells);
    if (rc != LOWRANK_OK)
        return rc;
    lowrank_stats *s = lr_calloc(1, sizeof *s);
    if (!s)
        return LOWRANK_ENOMEM;
    s->dim = dim;
    s->mean = lr_calloc((size_t)dim, sizeof(double));
    s->scatter = s->mean ? lr_calloc((size_t)(dim * dim), sizeof(double)) : NULL;
    if (!s->scatter) {
        lowrank_stats_free(s);
        return LOWRANK_ENOMEM;
    }
    if (opts) {
        s->has_opts = 1;
        s->opts = *opts;
    }
    *out = s;
    return LOWRANK_OK;
}

int lowrank_stats_new(int64_t dim, const lowrank_opts *opts, lowrank_stats **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    return alloc_stats(dim, opts, out);
}

void lowrank_stats_free(lowrank_stats *s)
{
    if (!s)
        return;
    free(s->mean);
    free(s->scatter);
    free(s);
}

int64_t lowrank_stats_dim(const lowrank_stats *s) { return s ? s->dim : 0; }
int64_t lowrank_stats_count(const lowrank_stats *s) { return s ? s->count : 0; }

/* Element (i, j) of x, without bounds checks, as lr_matrix_at but with the
 * dtype and layout tests hoisted out of the caller's loops. */
typedef struct reader {
    const float *f;
    const double *d;
    size_t row_step, col_step;
} reader;

static reader reader_of(const lowrank_matrix *x)
{
    int rowmajor = x->layout == LOWRANK_ROW_MAJOR;
    reader r = {NULL, NULL, rowmajor ? (size_t)x->ld : 1, rowmajor ? 1 : (size_t)x->ld};
    if (x->dtype == LOWRANK_FLOAT32)
        r.f = x->data;
    else
        r.d = x->data;
    return r;
}

static double read_at(const reader *r, int64_t i, int64_t j)
{
    size_t off = (size_t)i * r->row_step + (size_t)j * r->col_step;
    return r->f ? (double)r->f[off] : r->d[off];
}

/* Every value finite and at most LR_STATS_MAX_VALUE in magnitude. */
static int check_values(const lowrank_matrix *x)
{
    reader r = reader_of(x);
    for (int64_t i = 0; i < x->rows; i++)
        for (int64_t j = 0; j < x->cols; j++) {
            double v = read_at(&r, i, j);
            if (!isfinite(v))
                return lr_fail(LOWRANK_ENONFINITE, "rows(%lld, %lld) = %g is not finite",
                               (long long)i, (long long)j, v);
            if (fabs(v) > LR_STATS_MAX_VALUE)
                return lr_fail(LOWRANK_ERANGE,
                               "rows(%lld, %lld) = %g: magnitudes above 2^450 could overflow "
                               "the sums of squares; scale the rows",
                               (long long)i, (long long)j, v);
        }
    return LOWRANK_OK;
}

/* z (dim x c, column-major: one row of x per column) = rows i0 .. i0 + c - 1
 * of x minus shift; t += the sum of those columns. */
static void load_panel(const lowrank_matrix *x, int64_t i0, int64_t c, const double *shift,
                       double *z, double *t)
{
    reader r = reader_of(x);
    int64_t n = x->cols;
    for (int64_t i = 0; i < c; i++) {
        double *col = z + i * n;
        for (int64_t j = 0; j < n; j++) {
            col[j] = read_at(&r, i0 + i, j) - shift[j];
            t[j] += col[j];
        }
    }
}

/* The shift of a batch: the current mean, or for empty statistics the mean
 * of the batch's first panel (z is scratch). */
static void batch_shift(const lowrank_stats *s, const lowrank_matrix *x, double *z,
                        double *shift)
{
    int64_t n = s->dim, c = x->rows < PANEL ? x->rows : PANEL;
    memcpy(shift, s->mean, (size_t)n * sizeof *shift);
    if (s->count > 0)
        return;
    double *t = z + n * c; /* z has room for one more column */
    memset(t, 0, (size_t)n * sizeof *t);
    load_panel(x, 0, c, s->mean, z, t);
    for (int64_t j = 0; j < n; j++)
        shift[j] = t[j] / (double)c;
}

/* Unless every row of x equals shift, its largest deviation from shift must
 * be at least LR_STATS_MIN_SPREAD: the squares of a smaller spread underflow,
 * and the covariance would come out as noise or zero. */
static int check_spread(const lowrank_matrix *x, const double *shift)
{
    reader r = reader_of(x);
    double spread = 0;
    for (int64_t i = 0; i < x->rows; i++)
        for (int64_t j = 0; j < x->cols; j++)
            spread = fmax(spread, fabs(read_at(&r, i, j) - shift[j]));
    if (spread > 0 && spread < LR_STATS_MIN_SPREAD)
        return lr_fail(LOWRANK_ERANGE,
                       "the rows differ from their mean by at most %g: spreads below 2^-450 "
                       "underflow the sums of squares; scale the rows",
                       spread);
    return LOWRANK_OK;
}

/* The upper triangle of the n x n x = its lower one. */
static void mirror(int64_t n, double *x)
{
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = j + 1; i < n; i++)
            x[j + i * n] = x[i + j * n];
}

/* The lower triangle of the n x n dst += src. */
static void add_lower(int64_t n, double *dst, const double *src)
{
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = j; i < n; i++)
            dst[i + j * n] += src[i + j * n];
}

/* Sum (x - shift)(x - shift)^T over the rows of x into the lower triangle
 * of acc (added to what it holds), and sum (x - shift) into t. */
static int accumulate(const lowrank_stats *s, const lowrank_matrix *x, const double *shift,
                      double *z, double *t, double *acc)
{
    int64_t n = s->dim, m = x->rows;
    lr_progress pr;
    lr_progress_begin(&pr, s->has_opts ? &s->opts : NULL, "lowrank_stats_add");
    int rc = LOWRANK_OK;
    for (int64_t i0 = 0; rc == LOWRANK_OK && i0 < m; i0 += PANEL) {
        int64_t c = m - i0 < PANEL ? m - i0 : PANEL;
        load_panel(x, i0, c, shift, z, t);
        rc = lr_syrk(F64, 'L', 'N', n, c, 1.0, z, n, 1.0, acc, n);
        if (rc == LOWRANK_OK)
            rc = lr_progress_report(&pr, (double)(i0 + c) / (double)m);
    }
    return rc;
}

int lowrank_stats_add(lowrank_stats *s, const lowrank_matrix *rows)
{
    if (!s || !rows)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !s ? "s" : "rows");
    if (rows->cols != s->dim)
        return lr_fail(LOWRANK_ESIZE, "rows has %lld columns, the statistics' dim is %lld",
                       (long long)rows->cols, (long long)s->dim);
    if (rows->rows > INT64_MAX - s->count)
        return lr_fail(LOWRANK_EOVERFLOW, "the count of rows overflows int64_t");
    int rc = check_values(rows);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t n = s->dim, m = rows->rows;
    /* With a callback the call may be canceled half-way: the batch then
     * goes to its own accumulator, so that s is left as it was. */
    int own = s->has_opts && s->opts.progress;
    double *z = lr_malloc((size_t)(n * ((m < PANEL ? m : PANEL) + 1)), sizeof *z);
    double *shift = lr_malloc((size_t)n, sizeof *shift), *t = lr_calloc((size_t)n, sizeof *t);
    double *acc = own ? lr_calloc((size_t)(n * n), sizeof *acc) : s->scatter;
    rc = z && shift && t && acc ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        batch_shift(s, rows, z, shift);
        rc = check_spread(rows, shift);
    }
    if (rc == LOWRANK_OK)
        rc = accumulate(s, rows, shift, z, t, acc);
    if (rc == LOWRANK_OK) {
        if (own)
            add_lower(n, s->scatter, acc);
        double total = (double)(s->count + m);
        for (int64_t j = 0; j < n; j++)
            t[j] /= total; /* delta, the new mean minus the shift */
        rc = lr_syrk(F64, 'L', 'N', n, 1, -total, t, n, 1.0, s->scatter, n);
        for (int64_t j = 0; j < n; j++)
            s->mean[j] = shift[j] + t[j];
        s->count += m;
        mirror(n, s->scatter);
    }
    free(z);
    free(shift);
    free(t);
    if (own)
        free(acc);
    return rc;
}

int lowrank_stats_merge(lowrank_stats *s, const lowrank_stats *src)
{
    if (!s || !src)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !s ? "s" : "src");
    if (s->dim != src->dim)
        return lr_fail(LOWRANK_ESIZE, "the dims differ: %lld and %lld", (long long)s->dim,
                       (long long)src->dim);
    if (src->count > INT64_MAX - s->count)
        return lr_fail(LOWRANK_EOVERFLOW, "the count of rows overflows int64_t");
    int64_t n = s->dim, na = s->count, nb = src->count;
    if (nb == 0)
        return LOWRANK_OK;
    double *delta = lr_malloc((size_t)n, sizeof *delta);
    if (!delta)
        return LOWRANK_ENOMEM;
    double total = (double)na + (double)nb;
    for (int64_t j = 0; j < n; j++)
        delta[j] = src->mean[j] - s->mean[j];
    add_lower(n, s->scatter, src->scatter); /* src may be s: read before the mean moves */
    int rc = lr_syrk(F64, 'L', 'N', n, 1, (double)na * (double)nb / total, delta, n, 1.0,
                     s->scatter, n);
    for (int64_t j = 0; j < n; j++)
        s->mean[j] += delta[j] * ((double)nb / total);
    s->count = na + nb;
    mirror(n, s->scatter);
    free(delta);
    return rc;
}

/* The checks of lowrank_stats_from_moments; *dim gets the dimension. */
static int check_moments(int64_t count, const lowrank_matrix *mean, const lowrank_matrix *cov,
                         int64_t *dim)
{
    if (!mean || !cov)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !mean ? "mean" : "covariance");
    if (count < 0)
        return lr_fail(LOWRANK_ESIZE, "count = %lld is negative", (long long)count);
    int64_t n = cov->rows;
    *dim = n;
    if (cov->cols != n || mean->rows * mean->cols != n || (mean->rows != 1 && mean->cols != 1))
        return lr_fail(LOWRANK_ESIZE,
                       "covariance is %lld x %lld and mean %lld x %lld: expected dim x dim and "
                       "1 x dim",
                       (long long)cov->rows, (long long)cov->cols, (long long)mean->rows,
                       (long long)mean->cols);
    int rc = lr_check_finite(mean, "mean");
    if (rc == LOWRANK_OK)
        rc = lr_check_finite(cov, "covariance");
    for (int64_t i = 0; rc == LOWRANK_OK && i < n; i++) {
        double mi = lr_matrix_at(mean, mean->rows == 1 ? 0 : i, mean->rows == 1 ? i : 0);
        if (fabs(mi) > LR_STATS_MAX_VALUE)
            rc = lr_fail(LOWRANK_ERANGE, "mean[%lld] = %g exceeds 2^450", (long long)i, mi);
        else if (lr_matrix_at(cov, i, i) < 0)
            rc = lr_fail(LOWRANK_ERANGE, "covariance(%lld, %lld) = %g: a variance is negative",
                         (long long)i, (long long)i, lr_matrix_at(cov, i, i));
        for (int64_t j = 0; rc == LOWRANK_OK && j <= i; j++)
            if ((double)count * fabs(lr_matrix_at(cov, i, j)) > 0x1p900)
                rc = lr_fail(LOWRANK_ERANGE, "count x covariance(%lld, %lld) exceeds 2^900",
                             (long long)i, (long long)j);
    }
    return rc;
}

int lowrank_stats_from_moments(int64_t count, const lowrank_matrix *mean,
                               const lowrank_matrix *covariance, const lowrank_opts *opts,
                               lowrank_stats **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int64_t n = 0;
    int rc = check_moments(count, mean, covariance, &n);
    if (rc == LOWRANK_OK)
        rc = alloc_stats(n, opts, out);
    if (rc != LOWRANK_OK || count == 0)
        return rc;
    lowrank_stats *s = *out;
    s->count = count;
    for (int64_t j = 0; j < n; j++) {
        s->mean[j] = lr_matrix_at(mean, mean->rows == 1 ? 0 : j, mean->rows == 1 ? j : 0);
        for (int64_t i = j; i < n; i++)
            s->scatter[i + j * n] = (double)count * lr_matrix_at(covariance, i, j);
    }
    mirror(n, s->scatter);
    return LOWRANK_OK;
}

/* The checks the accessors share. */
static int check_access(const lowrank_stats *s, lowrank_matrix **out)
{
    if (out)
        *out = NULL;
    if (!s || !out)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !s ? "s" : "out");
    if (s->count == 0)
        return lr_fail(LOWRANK_EDEGENERATE, "no rows have been added to the statistics");
    return LOWRANK_OK;
}

int lowrank_stats_mean(const lowrank_stats *s, lowrank_matrix **out)
{
    int rc = check_access(s, out);
    return rc != LOWRANK_OK ? rc
                            : lr_matrix_from_f64(F64, LOWRANK_ROW_MAJOR, 1, s->dim, s->mean, 1, out);
}

int lowrank_stats_covariance(const lowrank_stats *s, lowrank_matrix **out)
{
    int rc = check_access(s, out);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_alloc(F64, LOWRANK_COL_MAJOR, s->dim, s->dim, 0, out);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t n = s->dim;
    double *c = (*out)->data, inv = 1.0 / (double)s->count;
    for (int64_t i = 0; i < n * n; i++)
        c[i] = s->scatter[i] * inv;
    return LOWRANK_OK;
}
