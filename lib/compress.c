/*
 * compress.c - data-aware compression of layers (docs/compress.md): the
 * truncation that preserves a layer's outputs on the inputs summarised by a
 * lowrank_stats (lowrank_svd_data), the bias that keeps its mean output
 * (lowrank_factors_bias_shift), and ranks for several layers under a budget
 * of stored numbers (lowrank_allocate_ranks).
 *
 * For y = x W + b, W n x d, and inputs with covariance C, the output error
 * ||X_c (W - W_k)||_F^2 = tr((W - W_k)^T C (W - W_k)) is smallest for
 * W_k = W V_k V_k^T, V_k the leading eigenvectors of the output covariance
 * W^T C W: the rank-k matrices S W_k (S^T S = C) are at best [S W]_k, which
 * S W V_k V_k^T is.  So C is never inverted.  V_k comes from one of two
 * "whitened" forms of the problem, whichever costs fewer operations:
 *   route 1, B = L^T P^T W (r x d) from C's pivoted Cholesky factorisation
 *     P^T C P = L L^T of rank r, with B^T B = W^T C W: its truncation by
 *     lowrank_svd (exact, randomized or auto as the caller asks);
 *   route 2, G = W^T C W itself (d x d), by the symmetric eigensolver.
 * Everything runs in double on a copy of W scaled by a power of two.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "factors.h"
#include "internal.h"
#include "stats.h"

static const lowrank_dtype F64 = LOWRANK_FLOAT64;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ------------------------------------------------------------ the whitened problem */

/* W (n x d) with the input covariance C: route 1 keeps B (r x d), route 2
 * G (d x d, both triangles).  w is W scaled by 2^-wexp, column-major. */
typedef struct whitened {
    int64_t n, d, r;
    double *w, *b, *g;
    int wexp, route1;
} whitened;

static void whitened_free(whitened *wh)
{
    free(wh->w);
    free(wh->b);
    free(wh->g);
    wh->w = wh->b = wh->g = NULL;
}

/* Route 1 when its operation count is the smaller (the Cholesky
 * factorisation and B against forming G and its eigenproblem). */
static int route1_cheaper(int64_t n, int64_t d)
{
    double nn = (double)n, dd = (double)d;
    return nn * nn * nn / 3 + 2 * nn * nn * dd <= nn * nn * dd + nn * dd * dd + 4 * dd * dd * dd;
}

/* wh->w = w scaled by a power of two that brings its largest magnitude
 * into [1, 2) (exact), column-major. */
static int load_weights(const lowrank_matrix *w, whitened *wh)
{
    int64_t n = w->rows, d = w->cols;
    double *x = lr_malloc((size_t)n, (size_t)d * sizeof *x), top = 0;
    if (!x)
        return LOWRANK_ENOMEM;
    for (int64_t j = 0; j < d; j++)
        for (int64_t i = 0; i < n; i++) {
            x[i + j * n] = lr_matrix_at(w, i, j);
            top = fmax(top, fabs(x[i + j * n]));
        }
    wh->wexp = top > 0 ? ilogb(top) : 0;
    for (int64_t i = 0; i < n * d; i++)
        x[i] = ldexp(x[i], -wh->wexp);
    wh->w = x;
    return LOWRANK_OK;
}

/* The ridge alpha (trace(C) / n) added to C's diagonal. */
static double ridge_of(const lowrank_stats *st, double alpha)
{
    double trace = 0;
    for (int64_t i = 0; i < st->dim; i++)
        trace += st->scatter[i + i * st->dim];
    return alpha * trace / (double)st->dim;
}

/* Route 1: C + ridge = P L L^T P^T (pivoted Cholesky, rank r), then
 * B = L^T P^T W (r x d).  Without statistics (C = I), B = W. */
static int whiten_factor(const lowrank_stats *st, double ridge, whitened *wh)
{
    int64_t n = wh->n, d = wh->d;
    if (!st) {
        wh->r = n;
        wh->b = lr_malloc((size_t)n, (size_t)d * sizeof(double));
        if (!wh->b)
            return LOWRANK_ENOMEM;
        memcpy(wh->b, wh->w, (size_t)(n * d) * sizeof(double));
        return LOWRANK_OK;
    }
    double *c = lr_malloc((size_t)n, (size_t)n * sizeof *c);
    double *wp = lr_malloc((size_t)n, (size_t)d * sizeof *wp);
    int64_t *piv = lr_malloc((size_t)n, sizeof *piv), r = 0;
    int rc = c && wp && piv ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        memcpy(c, st->scatter, (size_t)(n * n) * sizeof *c);
        for (int64_t i = 0; i < n; i++)
            c[i + i * n] += ridge;
        rc = lr_pstrf(F64, 'L', n, c, n, piv, &r);
    }
    if (rc == LOWRANK_OK && r > 0) {
        for (int64_t j = 0; j < r; j++) /* L's first r columns, zero above */
            memset(c + j * n, 0, (size_t)j * sizeof *c);
        for (int64_t j = 0; j < d; j++)
            for (int64_t i = 0; i < n; i++)
                wp[i + j * n] = wh->w[piv[i] + j * n];
        wh->b = lr_malloc((size_t)r, (size_t)d * sizeof(double));
        rc = wh->b ? lr_gemm(F64, 'T', 'N', r, d, n, 1.0, c, n, wp, n, 0.0, wh->b, r)
                   : LOWRANK_ENOMEM;
    }
    wh->r = r;
    free(c);
    free(wp);
    free(piv);
    return rc;
}

/* Route 2: G = W^T (C + ridge) W, d x d, both triangles (C = I without
 * statistics), the product with C by blocks of columns between progress
 * reports in [lo, hi]. */
static int whiten_gram(const lowrank_stats *st, double ridge, lr_progress *pr, double lo,
                       double hi, whitened *wh)
{
    int64_t n = wh->n, d = wh->d, block = d / 8 > 64 ? d / 8 : 64;
    double *t = lr_malloc((size_t)n, (size_t)d * sizeof *t);
    wh->g = lr_malloc((size_t)d, (size_t)d * sizeof(double));
    int rc = t && wh->g ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t j = 0; rc == LOWRANK_OK && j < d; j += block) {
        int64_t c = min64(block, d - j);
        if (st)
            rc = lr_gemm(F64, 'N', 'N', n, c, n, 1.0, st->scatter, n, wh->w + j * n, n, 0.0,
                         t + j * n, n);
        else
            memcpy(t + j * n, wh->w + j * n, (size_t)(n * c) * sizeof *t);
        for (int64_t i = 0; st && ridge > 0 && i < n * c; i++)
            t[j * n + i] += ridge * wh->w[j * n + i];
        if (rc == LOWRANK_OK)
            rc = lr_progress_report(pr, lo + (hi - lo) * (double)(j + c) / (double)d);
    }
    if (rc == LOWRANK_OK)
        rc = lr_gemm(F64, 'T', 'N', d, d, n, 1.0, wh->w, n, t, n, 0.0, wh->g, d);
    for (int64_t j = 0; rc == LOWRANK_OK && j < d; j++)
        for (int64_t i = j + 1; i < d; i++)
            wh->g[i + j * d] = wh->g[j + i * d] = 0.5 * (wh->g[i + j * d] + wh->g[j + i * d]);
    free(t);
    return rc;
}

/* The whitened form of w with the inputs st (NULL: C = I) and the ridge
 * alpha, by the cheaper route. */
static int whiten(const lowrank_matrix *w, const lowrank_stats *st, double alpha,
                  lr_progress *pr, double lo, double hi, whitened *wh)
{
    *wh = (whitened){w->rows, w->cols, 0, NULL, NULL, NULL, 0, 0};
    wh->route1 = st ? route1_cheaper(wh->n, wh->d) : wh->n <= wh->d;
    int rc = load_weights(w, wh);
    double ridge = st ? ridge_of(st, alpha) : 0;
    if (rc == LOWRANK_OK)
        rc = wh->route1 ? whiten_factor(st, ridge, wh) : whiten_gram(st, ridge, pr, lo, hi, wh);
    if (rc == LOWRANK_OK)
        rc = lr_progress_report(pr, hi);
    if (rc != LOWRANK_OK)
        whitened_free(wh);
    return rc;
}

/* Whether sigma^2 = value is a whitened singular value the data
 * determine, against the largest, top (see lowrank_svd_data). */
static int determined(const whitened *wh, double value, double top)
{
    return value > (double)(wh->n > wh->d ? wh->n : wh->d) * 0x1p-52 * top;
}

/* The smallest rank whose relative error sqrt(tail / total) is at most
 * tol, from the count values lambda (descending) of a spectrum whose sum is
 * total; the tail is summed from the smallest value up.  At least 1. */
static int64_t rank_for_tolerance(const double *lambda, int64_t count, double total, double tol)
{
    double budget = tol * tol * total, tail = 0;
    int64_t k = count;
    for (int64_t i = count - 1; i >= 1; i--) {
        tail += fmax(0.0, lambda[i]);
        if (tail > budget)
            break;
        k = i;
    }
    return k;
}

/* ------------------------------------------------------------ lowrank_svd_data */

/* The leading directions: V (d x k, column-major) found so far, *found of
 * them determined by the data; *k the rank (chosen here when 0) and
 * *error the relative output error. */
typedef struct directions {
    int64_t k, found;
    double *v, error;
} directions;

/* A column-major double matrix as a handle, without copying. */
static lowrank_matrix view_of(double *x, int64_t rows, int64_t cols)
{
    return (lowrank_matrix){F64, LOWRANK_COL_MAJOR, rows, cols, rows, x, 0};
}

/* Route 1: V_k from lowrank_svd of B. */
static int directions_route1(const whitened *wh, const lowrank_opts *opts, directions *dir)
{
    if (wh->r == 0) { /* C = 0: the outputs do not vary */
        dir->k = dir->k ? dir->k : 1;
        return LOWRANK_OK;
    }
    lowrank_matrix b = view_of(wh->b, wh->r, wh->d);
    lowrank_opts nested;
    lowrank_factors *f = NULL;
    int64_t want = dir->k ? min64(dir->k, min64(wh->r, wh->d)) : 0;
    int rc = lowrank_svd(&b, want, lr_opts_nested(opts, 0.4, 0.9, &nested), &f);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t got = lowrank_factors_rank(f);
    dir->k = dir->k ? dir->k : got;
    const lowrank_matrix *s = lowrank_factors_s(f), *vt = lowrank_factors_vt(f);
    lowrank_factors_error(f, &dir->error);
    double top = lr_matrix_at(s, 0, 0) * lr_matrix_at(s, 0, 0);
    for (int64_t q = 0; q < got && determined(wh, lr_matrix_at(s, q, 0) * lr_matrix_at(s, q, 0),
                                                top); q++) {
        for (int64_t j = 0; j < wh->d; j++)
            dir->v[j + q * wh->d] = lr_matrix_at(vt, q, j);
        dir->found = q + 1;
    }
    lowrank_factors_free(f);
    return LOWRANK_OK;
}

/* Route 2: V_k, the leading eigenvectors of G (all of them when the
 * tolerance chooses the rank). */
static int directions_route2(const whitened *wh, double tol, directions *dir)
{
    int64_t d = wh->d, cnt = dir->k ? dir->k : d;
    double *w = lr_malloc((size_t)d, sizeof *w), *z = lr_malloc((size_t)d, (size_t)cnt * sizeof *z);
    double *lambda = lr_malloc((size_t)d, sizeof *lambda), total = 0;
    int rc = w && z && lambda ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t i = 0; rc == LOWRANK_OK && i < d; i++)
        total += wh->g[i + i * d];
    if (rc == LOWRANK_OK) /* (G is destroyed; nothing reads it afterwards) */
        rc = cnt == d ? lr_syevd(F64, d, wh->g, d, w) : lr_syevr(F64, d, wh->g, d, d - cnt + 1, d,
                                                                 w, z, d);
    const double *vecs = cnt == d ? wh->g : z;
    for (int64_t i = 0; rc == LOWRANK_OK && i < cnt; i++)
        lambda[i] = w[cnt - 1 - i];
    if (rc == LOWRANK_OK && !dir->k)
        dir->k = total > 0 ? rank_for_tolerance(lambda, cnt, total, tol) : 1;
    double kept = 0;
    for (int64_t q = 0; rc == LOWRANK_OK && q < dir->k; q++)
        kept += lambda[q];
    for (int64_t q = 0; rc == LOWRANK_OK && q < dir->k && determined(wh, lambda[q], lambda[0]);
         q++) {
        memcpy(dir->v + q * d, vecs + (cnt - 1 - q) * d, (size_t)d * sizeof *dir->v);
        dir->found = q + 1;
    }
    dir->error = total > 0 ? sqrt(fmax(0.0, total - kept) / total) : 0;
    free(w);
    free(z);
    free(lambda);
    return rc;
}

/* The directions the data leave open: the k - found leading right singular
 * vectors of W (I - V V^T), V the found ones, then V reorthonormalised. */
static int complete_directions(const whitened *wh, const lowrank_opts *opts, directions *dir)
{
    int64_t n = wh->n, d = wh->d, f = dir->found, k = dir->k;
    double *p = lr_malloc((size_t)n, (size_t)d * sizeof *p);
    double *wv = lr_malloc((size_t)n, (size_t)(f > 0 ? f : 1) * sizeof *wv);
    lowrank_factors *svd = NULL;
    lowrank_opts nested;
    int rc = p && wv ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        memcpy(p, wh->w, (size_t)(n * d) * sizeof *p);
        if (f > 0)
            rc = lr_gemm(F64, 'N', 'N', n, f, d, 1.0, wh->w, n, dir->v, d, 0.0, wv, n);
        if (rc == LOWRANK_OK && f > 0)
            rc = lr_gemm(F64, 'N', 'T', n, d, f, -1.0, wv, n, dir->v, d, 1.0, p, n);
    }
    lowrank_matrix pm = view_of(p, n, d);
    if (rc == LOWRANK_OK)
        rc = lowrank_svd(&pm, k - f, lr_opts_nested(opts, 0.9, 0.95, &nested), &svd);
    for (int64_t q = 0; rc == LOWRANK_OK && q < k - f; q++)
        for (int64_t j = 0; j < d; j++)
            dir->v[j + (f + q) * d] = lr_matrix_at(lowrank_factors_vt(svd), q, j);
    if (rc == LOWRANK_OK && f > 0)
        rc = lr_qr(F64, d, k, dir->v, d, NULL, 0);
    lowrank_factors_free(svd);
    free(p);
    free(wv);
    return rc;
}

/* The factors of W V V^T: W V = Q R (QR), R = X S Y^T (SVD), so
 * W V V^T = (Q X) S (V Y)^T; in dtype t, S scaled back by 2^wexp. */
static int make_factors(const whitened *wh, const directions *dir, lowrank_dtype t,
                        lowrank_factors **out)
{
    int64_t n = wh->n, d = wh->d, k = dir->k;
    double *l = lr_malloc((size_t)n, (size_t)k * sizeof *l);
    double *small = lr_malloc((size_t)k, (size_t)(3 * k + 1) * sizeof *small);
    double *u = lr_malloc((size_t)n, (size_t)k * sizeof *u);
    double *vy = lr_malloc((size_t)d, (size_t)k * sizeof *vy);
    lowrank_matrix *um = NULL, *sm = NULL, *vtm = NULL;
    if (!(l && small && u && vy)) {
        free(l);
        free(small);
        free(u);
        free(vy);
        return LOWRANK_ENOMEM;
    }
    double *r = small, *x = r + k * k, *yt = x + k * k, *s = yt + k * k;
    int rc = lr_gemm(F64, 'N', 'N', n, k, d, 1.0, wh->w, n, dir->v, d, 0.0, l, n);
    if (rc == LOWRANK_OK)
        rc = lr_qr(F64, n, k, l, n, r, k);
    if (rc == LOWRANK_OK)
        rc = lr_gesdd(F64, k, k, r, k, s, x, k, yt, k);
    if (rc == LOWRANK_OK)
        rc = lr_gemm(F64, 'N', 'N', n, k, k, 1.0, l, n, x, k, 0.0, u, n);
    if (rc == LOWRANK_OK) /* (V Y)^T = Y^T V^T, k x d */
        rc = lr_gemm(F64, 'N', 'T', k, d, k, 1.0, yt, k, dir->v, d, 0.0, vy, k);
    for (int64_t q = 0; rc == LOWRANK_OK && q < k; q++)
        s[q] = ldexp(s[q], wh->wexp);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(t, LOWRANK_COL_MAJOR, n, k, u, n, &um);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(t, LOWRANK_COL_MAJOR, k, 1, s, k, &sm);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(t, LOWRANK_COL_MAJOR, k, d, vy, k, &vtm);
    if (rc == LOWRANK_OK)
        rc = lr_factors_new(um, sm, vtm, dir->error, out);
    else {
        lowrank_matrix_free(um);
        lowrank_matrix_free(sm);
    }
    free(l);
    free(small);
    free(u);
    free(vy);
    return rc;
}

static int check_svd_data(const lowrank_matrix *w, const lowrank_stats *inputs, int64_t k,
                          const lowrank_opts *opts)
{
    if (!w || !inputs)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !w ? "w" : "inputs");
    int64_t method = lr_opt_int(opts, LOWRANK_OPT_METHOD), mn = min64(w->rows, w->cols);
    if (method != LOWRANK_METHOD_AUTO && method != LOWRANK_METHOD_EXACT &&
        method != LOWRANK_METHOD_RANDOMIZED)
        return lr_fail(LOWRANK_EINVAL,
                       "LOWRANK_OPT_METHOD = %lld is not a method of lowrank_svd_data (use "
                       "LOWRANK_METHOD_AUTO, _EXACT or _RANDOMIZED)",
                       (long long)method);
    if (inputs->dim != w->rows)
        return lr_fail(LOWRANK_ESIZE, "w is %lld x %lld but the inputs have dim %lld",
                       (long long)w->rows, (long long)w->cols, (long long)inputs->dim);
    if (k < 0 || k > mn)
        return lr_fail(LOWRANK_ERANGE, "k = %lld is outside [0, min(rows, cols) = %lld]",
                       (long long)k, (long long)mn);
    if (k == 0 && lr_opt_double(opts, LOWRANK_OPT_TOLERANCE) == 0)
        return lr_fail(LOWRANK_ERANGE, "k = 0 asks LOWRANK_OPT_TOLERANCE for the rank, but the "
                                       "tolerance is 0: give k >= 1 or a tolerance in (0, 1)");
    if (inputs->count == 0)
        return lr_fail(LOWRANK_EDEGENERATE, "no rows have been added to the inputs' statistics");
    return lr_check_finite(w, "w");
}

int lowrank_svd_data(const lowrank_matrix *w, const lowrank_stats *inputs, int64_t k,
                     const lowrank_opts *opts, lowrank_factors **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int rc = check_svd_data(w, inputs, k, opts);
    if (rc != LOWRANK_OK)
        return rc;
    lr_progress pr;
    lr_progress_begin(&pr, opts, "lowrank_svd_data");
    whitened wh;
    directions dir = {k, 0, NULL, 0};
    rc = whiten(w, inputs, lr_opt_double(opts, LOWRANK_OPT_RIDGE), &pr, 0, 0.4, &wh);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t most = min64(wh.n, wh.d);
    if (!(dir.v = lr_malloc((size_t)wh.d, (size_t)most * sizeof *dir.v)))
        rc = LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = wh.route1 ? directions_route1(&wh, opts, &dir)
                       : directions_route2(&wh, lr_opt_double(opts, LOWRANK_OPT_TOLERANCE), &dir);
    if (rc == LOWRANK_OK && dir.found < dir.k)
        rc = complete_directions(&wh, opts, &dir);
    if (rc == LOWRANK_OK)
        rc = lr_progress_report(&pr, 0.95);
    if (rc == LOWRANK_OK)
        rc = make_factors(&wh, &dir, w->dtype, out);
    free(dir.v);
    whitened_free(&wh);
    return rc;
}

/* ------------------------------------------------------------ bias shift */

int lowrank_factors_bias_shift(const lowrank_factors *f, const lowrank_matrix *w,
                               const lowrank_matrix *mean, lowrank_matrix **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!f || !w || !mean)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !f ? "f" : !w ? "w" : "mean");
    int64_t n = w->rows, d = w->cols, k = lowrank_factors_rank(f);
    if (lowrank_factors_rows(f) != n || lowrank_factors_cols(f) != d)
        return lr_fail(LOWRANK_ESIZE, "the factors approximate %lld x %lld, w is %lld x %lld",
                       (long long)lowrank_factors_rows(f), (long long)lowrank_factors_cols(f),
                       (long long)n, (long long)d);
    if ((mean->rows != 1 && mean->cols != 1) || mean->rows * mean->cols != n)
        return lr_fail(LOWRANK_ESIZE, "mean is %lld x %lld: expected 1 x %lld",
                       (long long)mean->rows, (long long)mean->cols, (long long)n);
    int rc = lr_check_finite(w, "w");
    if (rc == LOWRANK_OK)
        rc = lr_check_finite(mean, "mean");
    double *shift = lr_calloc((size_t)d, sizeof *shift), *mu = lr_calloc((size_t)k, sizeof *mu);
    if (rc == LOWRANK_OK && !(shift && mu))
        rc = LOWRANK_ENOMEM;
    const lowrank_matrix *u = lowrank_factors_u(f), *s = lowrank_factors_s(f),
                         *vt = lowrank_factors_vt(f);
    for (int64_t i = 0; rc == LOWRANK_OK && i < n; i++) {
        double m = lr_matrix_at(mean, mean->rows == 1 ? 0 : i, mean->rows == 1 ? i : 0);
        for (int64_t j = 0; j < d; j++)
            shift[j] += m * lr_matrix_at(w, i, j);
        for (int64_t q = 0; q < k; q++)
            mu[q] += m * lr_matrix_at(u, i, q);
    }
    for (int64_t q = 0; rc == LOWRANK_OK && q < k; q++) {
        double c = mu[q] * lr_matrix_at(s, q, 0);
        for (int64_t j = 0; j < d; j++)
            shift[j] -= c * lr_matrix_at(vt, q, j);
    }
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(w->dtype, LOWRANK_ROW_MAJOR, 1, d, shift, 1, out);
    free(shift);
    free(mu);
    return rc;
}

/* ------------------------------------------------------------ rank allocation */

/* One layer's curve: points j = 1 .. K (K = min(n, d)) of stored numbers
 * cost[j] and predicted error err[j] (relative, squared), K meaning the
 * layer kept whole; at is the current point.  The allocation weighs err by
 * the layer's importance.  Scaling a curve's errors leaves its lower convex
 * hull the same (for importance 0, every segment is worth nothing): only the
 * gains of steps are weighed. */
typedef struct curve {
    int64_t K, at;
    double *cost, *err; /* indexed 1 .. K */
    double importance;
} curve;

/* A segment of a layer's lower convex hull, from point `from` to `to`. */
typedef struct segment {
    int64_t layer, from, to;
    double ratio; /* error removed per stored number */
} segment;

/* The whitened spectrum of layer w (squared values, descending, K of them
 * with zeros beyond its rank) into the curve's errors. */
static int layer_curve(const lowrank_matrix *w, const lowrank_stats *st, double alpha,
                       lr_progress *pr, double lo, double hi, curve *cv)
{
    int64_t n = w->rows, d = w->cols, K = min64(n, d);
    whitened wh;
    int rc = whiten(w, st, alpha, pr, lo, hi, &wh);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t size = wh.route1 ? wh.r : d;
    double *h = wh.route1 ? lr_calloc((size_t)(size > 0 ? size : 1), (size_t)size * sizeof *h)
                          : wh.g;
    double *lambda = lr_calloc((size_t)(size > K ? size : K), sizeof *lambda);
    cv->K = K;
    cv->cost = lr_malloc((size_t)(K + 1), sizeof *cv->cost);
    cv->err = lr_malloc((size_t)(K + 1), sizeof *cv->err);
    rc = h && lambda && cv->cost && cv->err ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK && wh.route1 && size > 0)
        rc = lr_syrk(F64, 'L', 'N', size, d, 1.0, wh.b, size, 0.0, h, size);
    if (rc == LOWRANK_OK && size > 0)
        rc = lr_syevd(F64, size, h, size, lambda);
    double total = 0, tail = 0;
    for (int64_t i = 0; i < size && rc == LOWRANK_OK; i++)
        total += fmax(0.0, lambda[i]);
    /* ascending: error after keeping j values is the sum of the rest */
    for (int64_t j = K; rc == LOWRANK_OK && j >= 1; j--) {
        cv->err[j] = total > 0 ? tail / total : 0;
        int64_t idx = size - j; /* the j-th largest */
        if (idx >= 0)
            tail += fmax(0.0, lambda[idx]);
        cv->cost[j] = j == K ? (double)n * (double)d
                             : fmin((double)j * (double)(n + d), (double)n * (double)d);
    }
    if (rc == LOWRANK_OK)
        cv->err[K] = 0;
    if (wh.route1)
        free(h);
    free(lambda);
    whitened_free(&wh);
    return rc;
}

/* The lower convex hull of a curve from point start, appended to segs as
 * segments of the layer.  Costs never decrease and errors never increase
 * along the curve, so of the points of equal cost the last is the best;
 * the others are skipped and the costs on the hull increase strictly. */
static int64_t hull_segments(const curve *cv, int64_t layer, int64_t start, int64_t *stack,
                             segment *segs)
{
    int64_t top = 0, count = 0;
    stack[top++] = start;
    for (int64_t j = start + 1; j <= cv->K; j++) {
        if (j < cv->K && cv->cost[j + 1] <= cv->cost[j])
            continue;
        while (top >= 2) { /* drop b when it is not below the chord from a to j */
            int64_t a = stack[top - 2], b = stack[top - 1];
            double cross = (cv->err[b] - cv->err[a]) * (cv->cost[j] - cv->cost[a]) -
                           (cv->err[j] - cv->err[a]) * (cv->cost[b] - cv->cost[a]);
            if (cross < 0)
                break;
            top--;
        }
        stack[top++] = j;
    }
    for (int64_t t = 0; t + 1 < top; t++) {
        int64_t a = stack[t], b = stack[t + 1];
        segs[count++] = (segment){layer, a, b,
                                  cv->importance * (cv->err[a] - cv->err[b]) /
                                      (cv->cost[b] - cv->cost[a])};
    }
    return count;
}

static int by_ratio(const void *x, const void *y)
{
    const segment *a = x, *b = y;
    if (a->ratio != b->ratio)
        return a->ratio > b->ratio ? -1 : 1;
    if (a->layer != b->layer)
        return a->layer < b->layer ? -1 : 1;
    return a->from < b->from ? -1 : a->from > b->from;
}

/* The cheapest point of a curve, the last of those of the first cost. */
static int64_t cheapest(const curve *cv)
{
    int64_t j = 1;
    while (j < cv->K && cv->cost[j + 1] <= cv->cost[1])
        j++;
    return j;
}

/* Single steps j -> j + 1 that fit in *left, best error per number first,
 * until none fits or gains. */
static void fill_steps(curve *cv, int64_t count, double *left)
{
    for (;;) {
        int64_t best = -1;
        double best_ratio = 0;
        for (int64_t i = 0; i < count; i++) {
            int64_t j = cv[i].at;
            if (j >= cv[i].K)
                continue;
            double dc = cv[i].cost[j + 1] - cv[i].cost[j];
            double de = cv[i].importance * (cv[i].err[j] - cv[i].err[j + 1]);
            double ratio = dc > 0 ? de / dc : INFINITY;
            if (dc <= *left && de > 0 && ratio > best_ratio) {
                best = i;
                best_ratio = ratio;
            }
        }
        if (best < 0)
            return;
        int64_t j = cv[best].at;
        *left -= cv[best].cost[j + 1] - cv[best].cost[j];
        cv[best].at = j + 1;
    }
}

/* Take the segments in order while they fit in the budget, then the
 * single steps that still fit. */
static void spend_budget(curve *cv, int64_t count, const segment *segs, int64_t nsegs,
                         double budget)
{
    double spent = 0;
    for (int64_t i = 0; i < count; i++)
        spent += cv[i].cost[cv[i].at];
    for (int64_t s = 0; s < nsegs; s++) {
        curve *c = &cv[segs[s].layer];
        double dc = c->cost[segs[s].to] - c->cost[c->at];
        if (spent + dc > budget)
            break;
        spent += dc;
        c->at = segs[s].to;
    }
    double left = budget - spent;
    fill_steps(cv, count, &left);
}

/* Take the segments in order, rank by rank, until the weighted summed
 * error is at most target. */
static void meet_target(curve *cv, int64_t count, const segment *segs, int64_t nsegs,
                        double target)
{
    double error = 0;
    for (int64_t i = 0; i < count; i++)
        error += cv[i].importance * cv[i].err[cv[i].at];
    for (int64_t s = 0; s < nsegs && error > target; s++) {
        curve *c = &cv[segs[s].layer];
        for (int64_t j = segs[s].from; j < segs[s].to && error > target; j++) {
            error += c->importance * (c->err[j + 1] - c->err[j]);
            c->at = j + 1;
        }
    }
}

/* Importances finite, >= 0 and not all 0 (NULL: all 1). */
static int check_importance(int64_t count, const double *importance)
{
    double sum = 0;
    for (int64_t i = 0; importance && i < count; i++) {
        if (!(importance[i] >= 0 && importance[i] < INFINITY))
            return lr_fail(LOWRANK_ERANGE, "importance[%lld] = %g must be finite and >= 0",
                           (long long)i, importance[i]);
        sum += importance[i];
    }
    if (importance && sum == 0)
        return lr_fail(LOWRANK_ERANGE, "every importance is 0");
    return LOWRANK_OK;
}

static int check_allocate(int64_t count, const lowrank_matrix *const *weights,
                          const lowrank_stats *const *inputs, const double *importance,
                          double budget, const lowrank_opts *opts, const int64_t *ranks)
{
    if (!weights || !ranks)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !weights ? "weights" : "ranks");
    if (count < 1)
        return lr_fail(LOWRANK_ESIZE, "count = %lld must be at least 1", (long long)count);
    if (!(budget >= 0 && budget <= 1))
        return lr_fail(LOWRANK_ERANGE, "budget = %g is outside [0, 1]", budget);
    if (budget == 0 && lr_opt_double(opts, LOWRANK_OPT_TOLERANCE) == 0)
        return lr_fail(LOWRANK_ERANGE, "budget = 0 asks LOWRANK_OPT_TOLERANCE for the error, "
                                       "but the tolerance is 0");
    for (int64_t i = 0; i < count; i++) {
        const lowrank_stats *st = inputs ? inputs[i] : NULL;
        if (!weights[i])
            return lr_fail(LOWRANK_EINVAL, "weights[%lld] is NULL", (long long)i);
        if (st && st->dim != weights[i]->rows)
            return lr_fail(LOWRANK_ESIZE, "weights[%lld] is %lld x %lld but inputs[%lld] has "
                                          "dim %lld",
                           (long long)i, (long long)weights[i]->rows,
                           (long long)weights[i]->cols, (long long)i, (long long)st->dim);
        if (st && st->count == 0)
            return lr_fail(LOWRANK_EDEGENERATE, "inputs[%lld] holds no rows", (long long)i);
        int rc = lr_check_finite(weights[i], "weights[i]");
        if (rc != LOWRANK_OK)
            return rc;
    }
    return check_importance(count, importance);
}

/* The allocation itself, on the layers' curves. */
static int allocate(curve *cv, int64_t count, double budget, double tol, double total_numbers)
{
    int64_t nsegs = 0, most = 0;
    double start_cost = 0, total_importance = 0;
    for (int64_t i = 0; i < count; i++) {
        cv[i].at = cheapest(&cv[i]);
        start_cost += cv[i].cost[cv[i].at];
        most += cv[i].K;
        total_importance += cv[i].importance;
    }
    if (budget > 0 && start_cost > budget * total_numbers)
        return lr_fail(LOWRANK_ERANGE,
                       "budget = %g is below %g, the share that rank 1 in every layer stores",
                       budget, start_cost / total_numbers);
    segment *segs = lr_malloc((size_t)most, sizeof *segs);
    int64_t *stack = lr_malloc((size_t)most + 1, sizeof *stack);
    if (!segs || !stack) {
        free(segs);
        free(stack);
        return LOWRANK_ENOMEM;
    }
    for (int64_t i = 0; i < count; i++)
        nsegs += hull_segments(&cv[i], i, cv[i].at, stack, segs + nsegs);
    qsort(segs, (size_t)nsegs, sizeof *segs, by_ratio);
    if (budget > 0)
        spend_budget(cv, count, segs, nsegs, budget * total_numbers);
    else
        meet_target(cv, count, segs, nsegs, tol * tol * total_importance);
    free(segs);
    free(stack);
    return LOWRANK_OK;
}

int lowrank_allocate_ranks(int64_t count, const lowrank_matrix *const *weights,
                           const lowrank_stats *const *inputs, const double *importance,
                           double budget, const lowrank_opts *opts, int64_t *ranks,
                           double *errors)
{
    int rc = check_allocate(count, weights, inputs, importance, budget, opts, ranks);
    if (rc != LOWRANK_OK)
        return rc;
    curve *cv = lr_calloc((size_t)count, sizeof *cv);
    if (!cv)
        return LOWRANK_ENOMEM;
    lr_progress pr;
    lr_progress_begin(&pr, opts, "lowrank_allocate_ranks");
    double alpha = lr_opt_double(opts, LOWRANK_OPT_RIDGE), total_numbers = 0;
    for (int64_t i = 0; rc == LOWRANK_OK && i < count; i++) {
        double lo = (double)i / (double)count, hi = (double)(i + 1) / (double)count;
        rc = layer_curve(weights[i], inputs ? inputs[i] : NULL, alpha, &pr, lo, hi, &cv[i]);
        cv[i].importance = importance ? importance[i] : 1;
        total_numbers += (double)weights[i]->rows * (double)weights[i]->cols;
    }
    if (rc == LOWRANK_OK)
        rc = allocate(cv, count, budget, lr_opt_double(opts, LOWRANK_OPT_TOLERANCE),
                      total_numbers);
    for (int64_t i = 0; rc == LOWRANK_OK && i < count; i++) {
        ranks[i] = cv[i].at;
        if (errors)
            errors[i] = sqrt(cv[i].err[cv[i].at]);
    }
    for (int64_t i = 0; i < count; i++) {
        free(cv[i].cost);
        free(cv[i].err);
    }
    free(cv);
    return rc;
}
