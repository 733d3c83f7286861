/*
 * lp_op.c - the lp rows fit of an operator (lowrank_lp_op): the points are
 * read from it block by block, a bounded number of passes.
 *
 *  1. The fit set: every point when there are at most LOWRANK_OPT_CORESET_SIZE
 *     of them (they are read into memory), otherwise a coreset of that size
 *     built in one pass by merge and reduce (lowrank_coreset_build on each
 *     block, lowrank_coreset_merge up a binary tree of levels, so that a
 *     point goes through about log2(blocks) reductions, not one per block).
 *  2. lowrank_lp of the fit set with each point scaled by its weight^(1/p):
 *     w dist(a, S)^p = dist(w^(1/p) a, S)^p, so the weighted rows cost is
 *     the plain rows cost of the scaled points.  Its V (d x k) is the fit.
 *  3. One more pass: L = P V, the coordinates of every point, and the SVD
 *     form of the projection L V^T by a QR of L and a k x k SVD.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "factors.h"
#include "internal.h"

/* The fit set's size when LOWRANK_OPT_CORESET_SIZE is 0: a sample several
 * times the total sensitivity (about d for Lewis weights), at least a few
 * thousand points (docs/lp.md has the measurement behind it). */
enum { CORESET_PER_DIM = 16, CORESET_MIN = 4096 };

/* The points as the rows of P = op(A): trans 'N' (rows of A) or 'T'. */
typedef struct source {
    const lowrank_operator *a;
    char trans;
    int64_t n, d; /* points, and their dimension */
    lr_products *pr;
    double sumsq; /* ||A||_F^2 of the points read so far */
} source;

/* Points [first, first + count) as a new count x d matrix of A's dtype. */
static int read_points(source *s, int64_t first, int64_t count, lowrank_matrix **out)
{
    double *buf = lr_malloc((size_t)(count * s->d), sizeof *buf);
    int rc = buf ? lr_operator_read(s->a, s->trans, first, count, buf, count, s->pr)
                 : LOWRANK_ENOMEM;
    for (int64_t i = 0; rc == LOWRANK_OK && i < count * s->d; i++) {
        if (!isfinite(buf[i])) { /* point first + i % count, coordinate i / count */
            int64_t point = first + i % count, coord = i / count;
            rc = lr_fail(LOWRANK_ENONFINITE, "a(%lld, %lld) = %g is not finite",
                         (long long)(s->trans == 'N' ? point : coord),
                         (long long)(s->trans == 'N' ? coord : point), buf[i]);
        }
        s->sumsq += buf[i] * buf[i];
    }
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(s->a->dtype, LOWRANK_COL_MAJOR, count, s->d, buf, count, out);
    free(buf);
    return rc;
}

/* A coreset of at most m of the points, in one pass over them: blocks of m
 * points, each its own coreset (all its points, weight 1), merged up the
 * levels of a binary counter: levels[l] summarises 2^l blocks. */
static int stream_coreset(source *s, double p, int64_t m, const lowrank_opts *opts,
                          lowrank_coreset **out)
{
    lowrank_coreset *levels[64] = {NULL};
    lowrank_opts o;
    int rc = LOWRANK_OK;
    for (int64_t first = 0; rc == LOWRANK_OK && first < s->n; first += m) {
        int64_t count = s->n - first < m ? s->n - first : m;
        lowrank_matrix *block = NULL;
        lowrank_coreset *carry = NULL;
        double at = s->pr->from + (s->pr->to - s->pr->from) * (double)first / (double)s->n;
        rc = lr_products_report(s->pr, (double)first / (double)s->n);
        /* the nested calls report at this point of the pass, and may cancel */
        if (opts)
            lr_opts_nested(opts, at, at, &o), o = opts->progress ? o : *opts;
        else
            lr_opts_defaults(&o);
        if (rc == LOWRANK_OK)
            rc = read_points(s, first, count, &block);
        o.value[LOWRANK_OPT_ROW_OFFSET].i = first;
        if (rc == LOWRANK_OK)
            rc = lowrank_coreset_build(block, p, m, &o, &carry);
        lowrank_matrix_free(block);
        for (int l = 0; rc == LOWRANK_OK && carry; l++) {
            if (!levels[l]) {
                levels[l] = carry;
                carry = NULL;
                break;
            }
            lowrank_coreset *merged = NULL;
            rc = lowrank_coreset_merge(levels[l], carry, m, &o, &merged);
            lowrank_coreset_free(levels[l]);
            lowrank_coreset_free(carry);
            levels[l] = NULL;
            carry = merged;
        }
        lowrank_coreset_free(carry);
    }
    lowrank_coreset *all = NULL;
    for (int l = 0; l < 64; l++) {
        if (rc == LOWRANK_OK && levels[l] && all) {
            lowrank_coreset *merged = NULL;
            rc = lowrank_coreset_merge(all, levels[l], m, &o, &merged);
            lowrank_coreset_free(all);
            lowrank_coreset_free(levels[l]);
            all = merged;
        } else if (rc == LOWRANK_OK && levels[l]) {
            all = levels[l];
        } else {
            lowrank_coreset_free(levels[l]);
        }
    }
    if (rc != LOWRANK_OK)
        lowrank_coreset_free(all);
    else
        *out = all;
    return rc;
}

/* The fit set as a matrix whose rows are the points scaled by their
 * weights^(1/p) (1 for every point when all are kept), and the coreset
 * behind it (NULL when all are kept). */
static int fit_set(source *s, double p, const lowrank_opts *opts, lowrank_matrix **out)
{
    int64_t m = lr_opt_int(opts, LOWRANK_OPT_CORESET_SIZE);
    if (m == 0)
        m = CORESET_PER_DIM * s->d > CORESET_MIN ? CORESET_PER_DIM * s->d : CORESET_MIN;
    if (s->n <= m)
        return read_points(s, 0, s->n, out);
    lowrank_coreset *c = NULL;
    int rc = stream_coreset(s, p, m, opts, &c);
    if (rc == LOWRANK_OK)
        rc = lowrank_matrix_convert(lowrank_coreset_points(c), s->a->dtype, LOWRANK_COL_MAJOR,
                                    out);
    for (int64_t i = 0; rc == LOWRANK_OK && i < (*out)->rows; i++) {
        double w = pow(((const double *)lowrank_coreset_weights(c)->data)[i], 1 / p);
        for (int64_t j = 0; j < s->d; j++)
            lowrank_matrix_set(*out, i, j, w * lr_matrix_at(*out, i, j));
    }
    lowrank_coreset_free(c);
    return rc;
}

/* v (d x k, double) = the right factor V of f, fitted on the fit set. */
static void right_factor(const lowrank_factors *f, int64_t d, int64_t k, double *v)
{
    const lowrank_matrix *vt = lowrank_factors_vt(f);
    for (int64_t q = 0; q < k; q++)
        for (int64_t j = 0; j < d; j++)
            v[j + q * d] = lr_matrix_at(vt, q, j);
}

/* l (n x k, double) = P v: the points' coordinates in span(v), by one
 * product in A's dtype. */
static int coordinates(const source *s, int64_t k, const double *v, double *l)
{
    size_t es = lr_dtype_size(s->a->dtype);
    void *x = lr_malloc((size_t)(s->d * k), es), *y = x ? lr_malloc((size_t)(s->n * k), es) : NULL;
    int rc = y ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t i = 0; rc == LOWRANK_OK && i < s->d * k; i++)
        if (s->a->dtype == LOWRANK_FLOAT32)
            ((float *)x)[i] = (float)v[i];
        else
            ((double *)x)[i] = v[i];
    if (rc == LOWRANK_OK)
        rc = lr_operator_apply(s->a, s->trans, k, x, s->d, y, s->n, s->pr);
    for (int64_t i = 0; rc == LOWRANK_OK && i < s->n * k; i++)
        l[i] = s->a->dtype == LOWRANK_FLOAT32 ? (double)((float *)y)[i] : ((double *)y)[i];
    free(x);
    free(y);
    return rc;
}

/* The SVD form of L V^T, L = P V (n x k) and V (d x k) orthonormal:
 * L = Q R, R = X S Y^T, so L V^T = (Q X) S (V Y)^T; l becomes Q X, v V Y. */
static int svd_form(int64_t n, int64_t d, int64_t k, double *l, double *v, double *s)
{
    double *r = lr_malloc((size_t)(3 * k * k + d * k), sizeof *r);
    if (!r)
        return LOWRANK_ENOMEM;
    double *x = r + k * k, *yt = x + k * k, *tmp = yt + k * k;
    int rc = lr_qr(LOWRANK_FLOAT64, n, k, l, n, r, k);
    if (rc == LOWRANK_OK)
        rc = lr_gesdd(LOWRANK_FLOAT64, k, k, r, k, s, x, k, yt, k);
    if (rc == LOWRANK_OK) /* l = Q X, in place through tmp by blocks of rows */
        for (int64_t i0 = 0; rc == LOWRANK_OK && i0 < n; i0 += d) {
            int64_t c = n - i0 < d ? n - i0 : d;
            rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', c, k, k, 1.0, l + i0, n, x, k, 0.0, tmp, c);
            for (int64_t q = 0; rc == LOWRANK_OK && q < k; q++)
                memcpy(l + i0 + q * n, tmp + q * c, (size_t)c * sizeof *l);
        }
    if (rc == LOWRANK_OK)
        rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'T', d, k, k, 1.0, v, d, yt, k, 0.0, tmp, d);
    if (rc == LOWRANK_OK)
        memcpy(v, tmp, (size_t)(d * k) * sizeof *v);
    free(r);
    return rc;
}

/* The factors of A: P = A (rows) gives U = L, V^T = V^T; P = A^T (the
 * columns) U = V, V^T = L^T.  error from ||A||_F^2 - ||P V||_F^2. */
static int make_factors(const source *s, int64_t k, const double *l, const double *v,
                        const double *sv, double sumsq, lowrank_factors **out)
{
    int cols = s->trans == 'T';
    lowrank_matrix *u = NULL, *sm = NULL, *vt = NULL;
    const double *left = cols ? v : l, *right = cols ? l : v;
    int64_t m = cols ? s->d : s->n, n = cols ? s->n : s->d;
    double *rt = lr_malloc((size_t)(k * n), sizeof *rt), kept = 0;
    int rc = rt ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t j = 0; rc == LOWRANK_OK && j < n; j++)
        for (int64_t q = 0; q < k; q++)
            rt[q + j * k] = right[j + q * n];
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(s->a->dtype, LOWRANK_COL_MAJOR, m, k, left, m, &u);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(s->a->dtype, LOWRANK_COL_MAJOR, k, 1, sv, k, &sm);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(s->a->dtype, LOWRANK_COL_MAJOR, k, n, rt, k, &vt);
    free(rt);
    for (int64_t q = 0; q < k; q++)
        kept += sv[q] * sv[q];
    if (rc != LOWRANK_OK) {
        lowrank_matrix_free(u);
        lowrank_matrix_free(sm);
        lowrank_matrix_free(vt);
        return rc;
    }
    double error = sumsq > 0 ? sqrt(fmax(0.0, sumsq - kept) / sumsq) : isnan(sumsq) ? NAN : 0;
    rc = lr_factors_new(u, sm, vt, error, out);
    if (rc == LOWRANK_OK)
        lr_factors_set_orientation(*out, cols ? LOWRANK_ORIENT_COLS : LOWRANK_ORIENT_ROWS);
    return rc;
}

static int check_lp_op(const lowrank_operator *a, int64_t k, double p, const lowrank_opts *opts)
{
    int64_t mn = a->rows < a->cols ? a->rows : a->cols;
    if (lr_opt_int(opts, LOWRANK_OPT_OBJECTIVE) == LOWRANK_OBJECTIVE_ENTRIES)
        return lr_fail(LOWRANK_EUNSUPPORTED, "the entry-wise objective needs the entries in "
                                             "memory: use lowrank_lp on a lowrank_matrix");
    if (!(p >= 1) || isinf(p))
        return lr_fail(LOWRANK_ERANGE, "p = %g: lowrank_lp_op needs a finite p >= 1", p);
    if (k < 1 || k > mn)
        return lr_fail(LOWRANK_ERANGE, "k = %lld is outside [1, min(rows, cols) = %lld]",
                       (long long)k, (long long)mn);
    return LOWRANK_OK;
}

int lowrank_lp_op(const lowrank_operator *a, int64_t k, double p, const lowrank_opts *opts,
                  lowrank_factors **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!a)
        return lr_fail(LOWRANK_EINVAL, "a is NULL");
    if (a->matrix) /* a dense matrix: the in-memory fit itself */
        return lowrank_lp(a->matrix, k, p, opts, out);
    int rc = check_lp_op(a, k, p, opts);
    if (rc != LOWRANK_OK)
        return rc;
    lr_progress progress;
    lr_progress_begin(&progress, opts, "lowrank_lp_op");
    lr_products pr = {NULL, &progress, 0, 0.5};
    int cols = lr_opt_int(opts, LOWRANK_OPT_ORIENTATION) == LOWRANK_ORIENT_COLS;
    source s = {a, cols ? 'T' : 'N', cols ? a->cols : a->rows, cols ? a->rows : a->cols, &pr, 0};
    lowrank_matrix *set = NULL;
    lowrank_factors *f = NULL;
    lowrank_opts fit; /* lowrank_lp fits the rows of the fit set, its share of the progress */
    if (opts)
        fit = *opts;
    else
        lr_opts_defaults(&fit);
    if (opts && opts->progress)
        lr_opts_nested(opts, 0.5, 0.8, &fit);
    fit.value[LOWRANK_OPT_ORIENTATION].i = LOWRANK_ORIENT_ROWS;
    double *v = lr_malloc((size_t)((s.d + s.n) * k + k), sizeof *v), *l = v + s.d * k,
           *sv = l + s.n * k;
    rc = v ? lr_products_pool(opts, &pr.pool) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = fit_set(&s, p, opts, &set);
    if (rc == LOWRANK_OK)
        rc = lowrank_lp(set, k, p, &fit, &f);
    if (rc == LOWRANK_OK) {
        right_factor(f, s.d, k, v);
        pr.from = 0.8;
        pr.to = 1;
        rc = coordinates(&s, k, v, l);
    }
    if (rc == LOWRANK_OK)
        rc = svd_form(s.n, s.d, k, l, v, sv);
    if (rc == LOWRANK_OK)
        rc = make_factors(&s, k, l, v, sv, s.sumsq, out);
    lowrank_factors_free(f);
    lowrank_matrix_free(set);
    lr_pool_free(pr.pool);
    free(v);
    return rc;
}
