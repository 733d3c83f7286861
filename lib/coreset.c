/*
 * coreset.c - sensitivity-sampling coresets for lp subspace fitting and
 * regression, and merge-and-reduce.
 *
 * The sensitivity of row a_i, sup over x of |a_i^T x|^p / ||A x||_p^p, is
 * at most ||G^-1 a_i||^p for any G with ||G x|| <= ||A x||_p (Cauchy-Schwarz:
 * |a_i^T x| = |(G^-1 a_i)^T G x|), and it bounds the row's share of the
 * subspace cost sum_j dist(a_j, S)^p too: dist(a_i, S) = |a_i^T y| for a unit
 * y orthogonal to S, and dist(a_j, S) >= |a_j^T y| for every j.  Sampling m
 * rows with probabilities q_i proportional to these bounds and weighting
 * each draw by 1 / (m q_i) estimates every cost without bias, with a
 * variance governed by their sum (Feldman and Langberg 2011); for Lewis
 * weights the sum is about d (p <= 2).  A weighted row (w, a) costs what the
 * row w^(1/p) a costs, which is how a weighted union is reduced.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "random.h"

struct lowrank_coreset {
    int64_t size, d;
    double p;
    int64_t *indices;
    lowrank_matrix *weights, *points;
};

/* Rows to sample from: n x d points (any layout), their weights (NULL: 1)
 * and global indices (NULL: offset + i). */
typedef struct rows {
    const lowrank_matrix *pts;
    const double *w;
    const int64_t *idx;
    int64_t offset;
} rows;

static size_t offset_of(const lowrank_matrix *m, int64_t i, int64_t j)
{
    return m->layout == LOWRANK_ROW_MAJOR ? (size_t)i * (size_t)m->ld + (size_t)j
                                          : (size_t)i + (size_t)j * (size_t)m->ld;
}

/* Row i of src into row k of dst, of the same dtype. */
static void copy_row(const lowrank_matrix *src, int64_t i, lowrank_matrix *dst, int64_t k)
{
    size_t esz = lr_dtype_size(src->dtype);
    for (int64_t j = 0; j < src->cols; j++)
        memcpy((char *)dst->data + offset_of(dst, k, j) * esz,
               (const char *)src->data + offset_of(src, i, j) * esz, esz);
}

/* The coreset of the rows with count[i] > 0, weighing w_i count_i / (m q_i)
 * (q NULL: weighing w_i), in row order. */
static int assemble(const rows *r, const int64_t *count, const double *q, int64_t m, double p,
                    lowrank_coreset **out)
{
    const lowrank_matrix *pts = r->pts;
    int64_t n = pts->rows, k = 0;
    for (int64_t i = 0; i < n; i++)
        k += count[i] > 0;
    lowrank_coreset *c = lr_calloc(1, sizeof *c);
    int rc = c ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        *c = (lowrank_coreset){k, pts->cols, p, lr_malloc((size_t)k, sizeof(int64_t)), NULL, NULL};
        rc = c->indices ? lr_matrix_alloc(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, k, 1, 0, &c->weights)
                        : LOWRANK_ENOMEM;
    }
    if (rc == LOWRANK_OK)
        rc = lr_matrix_alloc(pts->dtype, pts->layout, k, pts->cols, 0, &c->points);
    for (int64_t i = 0, j = 0; i < n && rc == LOWRANK_OK; i++) {
        if (count[i] == 0)
            continue;
        double w = r->w ? r->w[i] : 1.0;
        ((double *)c->weights->data)[j] = q ? w * (double)count[i] / ((double)m * q[i]) : w;
        c->indices[j] = r->idx ? r->idx[i] : r->offset + i;
        copy_row(pts, i, c->points, j++);
    }
    if (rc != LOWRANK_OK) {
        lowrank_coreset_free(c);
        return rc;
    }
    *out = c;
    return LOWRANK_OK;
}

/* The rows as a compact column-major matrix of their dtype, row i scaled by
 * w_i^(1/p), and all of them by the power of two that brings the largest
 * magnitude into [1, 2) when it is outside the band the dtype's arithmetic
 * handles (lr_scale_exponent): the sampling probabilities do not depend on
 * the scale, while G and its Cholesky factor, computed in the dtype, would
 * overflow or underflow.  Factors are applied through their logarithms, so
 * that neither a huge weight nor a huge row overflows on its own. */
static int scaled_copy(const rows *r, double p, lowrank_matrix **b)
{
    const lowrank_matrix *pts = r->pts;
    int64_t n = pts->rows, d = pts->cols;
    double *lw = lr_malloc((size_t)n, sizeof *lw), top = -INFINITY;
    int rc = lw ? lr_matrix_alloc(pts->dtype, LOWRANK_COL_MAJOR, n, d, 0, b) : LOWRANK_ENOMEM;
    for (int64_t i = 0; i < n && rc == LOWRANK_OK; i++) {
        double big = 0;
        for (int64_t j = 0; j < d; j++)
            big = fmax(big, fabs(lr_matrix_at(pts, i, j)));
        lw[i] = r->w ? log2(r->w[i]) / p : 0; /* log2 of w_i^(1/p) */
        if (big > 0)
            top = fmax(top, log2(big) + lw[i]);
    }
    int e = lr_scale_exponent(top, pts->dtype);
    for (int64_t j = 0; j < d && rc == LOWRANK_OK; j++)
        for (int64_t i = 0; i < n; i++) {
            double v = lr_times_exp2(lr_matrix_at(pts, i, j), lw[i] + e);
            if ((*b)->dtype == LOWRANK_FLOAT32)
                ((float *)(*b)->data)[i + j * n] = (float)v;
            else
                ((double *)(*b)->data)[i + j * n] = v;
        }
    free(lw);
    return rc;
}

/* q_i proportional to ||G^-1 b_i||^p, G = L L^T from the rounding of B:
 * the rows of B L^-T L^-1 are the (G^-1 b_i)^T. */
static int sampling_probabilities(lowrank_matrix *b, double p, const lowrank_opts *opts, double *q)
{
    lowrank_matrix *g = NULL;
    double alpha;
    int64_t n = b->rows, d = b->cols;
    lowrank_dtype t = b->dtype;
    int rc = lowrank_lp_rounding(b, p, opts, &g, &alpha);
    if (rc == LOWRANK_OK) /* G is symmetric: its layout does not matter */
        rc = lr_potrf(t, 'L', d, g->data, d);
    if (rc == LOWRANK_OK)
        rc = lr_trsm(t, 'R', 'L', 'T', 'N', n, d, 1.0, g->data, d, b->data, n);
    if (rc == LOWRANK_OK)
        rc = lr_trsm(t, 'R', 'L', 'N', 'N', n, d, 1.0, g->data, d, b->data, n);
    lowrank_matrix_free(g);
    if (rc == LOWRANK_EDEGENERATE)
        return lr_fail(rc, "the rounding matrix G is not positive definite");
    if (rc != LOWRANK_OK)
        return rc;
    /* ||.||^p relative to the largest, through logarithms: for a large p
     * the powers themselves leave double's range */
    double total = 0, top = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++) {
            double v = lr_matrix_at(b, i, j);
            s += v * v;
        }
        q[i] = 0.5 * p * log(s);
        top = fmax(top, q[i]);
    }
    for (int64_t i = 0; i < n; i++) {
        q[i] = exp(q[i] - top);
        total += q[i];
    }
    for (int64_t i = 0; i < n; i++)
        q[i] /= total;
    return LOWRANK_OK;
}

/* m independent draws from q into count, by bisection on the cumulative
 * sums (cum, n + 1 values). */
static void draw(int64_t n, const double *q, int64_t m, uint64_t seed, double *cum,
                 int64_t *count)
{
    lr_rng rng;
    lr_rng_seed(&rng, seed);
    cum[0] = 0;
    for (int64_t i = 0; i < n; i++)
        cum[i + 1] = cum[i] + q[i];
    for (int64_t k = 0; k < m; k++) {
        double x = lr_rng_uniform(&rng) * cum[n];
        int64_t lo = 0, hi = n - 1; /* the first i with cum[i + 1] > x */
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (cum[mid + 1] > x)
                hi = mid;
            else
                lo = mid + 1;
        }
        count[lo]++;
    }
}

/* A coreset of at most m rows: all of them when there are no more than m. */
static int reduce(const rows *r, double p, int64_t m, const lowrank_opts *opts,
                  lowrank_coreset **out)
{
    int64_t n = r->pts->rows;
    int64_t *count = lr_calloc((size_t)n, sizeof *count);
    if (!count)
        return LOWRANK_ENOMEM;
    if (n <= m) {
        for (int64_t i = 0; i < n; i++)
            count[i] = 1;
        int rc = assemble(r, count, NULL, m, p, out);
        free(count);
        return rc;
    }
    lowrank_matrix *b = NULL;
    double *q = lr_malloc((size_t)(2 * n + 1), sizeof *q);
    int rc = q ? scaled_copy(r, p, &b) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = sampling_probabilities(b, p, opts, q);
    if (rc == LOWRANK_OK) {
        draw(n, q, m, (uint64_t)lr_opt_int(opts, LOWRANK_OPT_SEED), q + n, count);
        rc = assemble(r, count, q, m, p, out);
    }
    lowrank_matrix_free(b);
    free(q);
    free(count);
    return rc;
}

static int check_p_m(double p, int64_t m, const lowrank_opts *opts)
{
    int64_t method = lr_opt_int(opts, LOWRANK_OPT_METHOD);
    if (!(p >= 1) || isinf(p))
        return lr_fail(LOWRANK_ERANGE, "p = %g: a coreset needs a finite p >= 1", p);
    if (m < 1)
        return lr_fail(LOWRANK_ESIZE, "m = %lld must be at least 1", (long long)m);
    if (method != LOWRANK_METHOD_AUTO && method != LOWRANK_METHOD_LEWIS &&
        method != LOWRANK_METHOD_LOWNER)
        return lr_fail(LOWRANK_ERANGE,
                       "LOWRANK_OPT_METHOD = %lld: coresets take LOWRANK_METHOD_LEWIS (3) or "
                       "LOWRANK_METHOD_LOWNER (4)",
                       (long long)method);
    return LOWRANK_OK;
}

int lowrank_coreset_build(const lowrank_matrix *a, double p, int64_t m, const lowrank_opts *opts,
                          lowrank_coreset **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int rc = lr_check_matrix(a, "a");
    if (rc == LOWRANK_OK)
        rc = check_p_m(p, m, opts);
    if (rc == LOWRANK_OK)
        rc = lr_check_finite(a, "a");
    int64_t offset = lr_opt_int(opts, LOWRANK_OPT_ROW_OFFSET);
    if (rc == LOWRANK_OK && offset > INT64_MAX - a->rows)
        rc = lr_fail(LOWRANK_EOVERFLOW, "LOWRANK_OPT_ROW_OFFSET = %lld plus %lld rows overflows",
                     (long long)offset, (long long)a->rows);
    if (rc != LOWRANK_OK)
        return rc;
    rows r = {a, NULL, NULL, offset};
    return reduce(&r, p, m, opts, out);
}

static int check_mergeable(const lowrank_coreset *a, const lowrank_coreset *b)
{
    if (!a || !b)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", a ? "b" : "a");
    if (a->p != b->p)
        return lr_fail(LOWRANK_EINVAL, "the coresets are for p = %g and p = %g", a->p, b->p);
    if (a->d != b->d)
        return lr_fail(LOWRANK_EINVAL, "the coresets have %lld and %lld columns",
                       (long long)a->d, (long long)b->d);
    if (a->points->dtype != b->points->dtype)
        return lr_fail(LOWRANK_EINVAL, "the coresets hold %s and %s points",
                       lr_dtype_name(a->points->dtype), lr_dtype_name(b->points->dtype));
    return LOWRANK_OK;
}

int lowrank_coreset_merge(const lowrank_coreset *a, const lowrank_coreset *b, int64_t m,
                          const lowrank_opts *opts, lowrank_coreset **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int rc = check_mergeable(a, b);
    if (rc == LOWRANK_OK)
        rc = check_p_m(a->p, m, opts);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t n = a->size + b->size;
    lowrank_matrix *u = NULL;
    double *w = lr_malloc((size_t)n, sizeof *w);
    int64_t *idx = w ? lr_malloc((size_t)n, sizeof *idx) : NULL;
    rc = idx ? lr_matrix_alloc(a->points->dtype, a->points->layout, n, a->d, 0, &u)
             : LOWRANK_ENOMEM;
    for (int64_t i = 0; i < n && rc == LOWRANK_OK; i++) {
        const lowrank_coreset *from = i < a->size ? a : b;
        int64_t k = i < a->size ? i : i - a->size;
        w[i] = ((const double *)from->weights->data)[k];
        idx[i] = from->indices[k];
        copy_row(from->points, k, u, i);
    }
    if (rc == LOWRANK_OK) {
        rows r = {u, w, idx, 0};
        rc = reduce(&r, a->p, m, opts, out);
    }
    lowrank_matrix_free(u);
    free(w);
    free(idx);
    return rc;
}

/* The parts of lowrank_coreset_new: size x 1 float64 positive weights and
 * non-negative indices for the rows of points, and p. */
static int check_parts(const lowrank_matrix *points, const lowrank_matrix *weights,
                       const int64_t *indices, double p)
{
    if (weights->dtype != LOWRANK_FLOAT64)
        return lr_fail(LOWRANK_EINVAL, "weights hold %s values, not float64",
                       lr_dtype_name(weights->dtype));
    if (weights->rows != points->rows || weights->cols != 1)
        return lr_fail(LOWRANK_ESIZE, "weights is %lld x %lld for %lld points",
                       (long long)weights->rows, (long long)weights->cols,
                       (long long)points->rows);
    if (!(p >= 1) || isinf(p))
        return lr_fail(LOWRANK_ERANGE, "p = %g: a coreset needs a finite p >= 1", p);
    int rc = lr_check_finite(points, "points");
    if (rc == LOWRANK_OK)
        rc = lr_check_finite(weights, "weights");
    for (int64_t i = 0; rc == LOWRANK_OK && i < points->rows; i++) {
        double w = lr_matrix_at(weights, i, 0);
        if (!(w > 0))
            rc = lr_fail(LOWRANK_ERANGE, "weight %lld is %g, not positive", (long long)i, w);
        else if (indices && indices[i] < 0)
            rc = lr_fail(LOWRANK_ERANGE, "index %lld is %lld, negative", (long long)i,
                         (long long)indices[i]);
    }
    return rc;
}

int lowrank_coreset_new(const lowrank_matrix *points, const lowrank_matrix *weights,
                        const int64_t *indices, double p, lowrank_coreset **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int rc = lr_check_matrix(points, "points");
    if (rc == LOWRANK_OK)
        rc = lr_check_matrix(weights, "weights");
    if (rc == LOWRANK_OK)
        rc = check_parts(points, weights, indices, p);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t n = points->rows;
    int64_t *count = lr_malloc((size_t)n, sizeof *count);
    double *w = count ? lr_malloc((size_t)n, sizeof *w) : NULL;
    if (!w) {
        free(count);
        return LOWRANK_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        count[i] = 1;
        w[i] = lr_matrix_at(weights, i, 0);
    }
    rows r = {points, w, indices, 0};
    rc = assemble(&r, count, NULL, n, p, out);
    free(w);
    free(count);
    return rc;
}

void lowrank_coreset_free(lowrank_coreset *c)
{
    if (!c)
        return;
    free(c->indices);
    lowrank_matrix_free(c->weights);
    lowrank_matrix_free(c->points);
    free(c);
}

int64_t lowrank_coreset_size(const lowrank_coreset *c) { return c ? c->size : 0; }

const int64_t *lowrank_coreset_indices(const lowrank_coreset *c) { return c ? c->indices : NULL; }

const lowrank_matrix *lowrank_coreset_weights(const lowrank_coreset *c)
{
    return c ? c->weights : NULL;
}

const lowrank_matrix *lowrank_coreset_points(const lowrank_coreset *c)
{
    return c ? c->points : NULL;
}
