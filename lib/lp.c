/*
 * lp.c - lp robust low-rank approximation (lowrank_lp) and its two
 * objectives (lowrank_lp_cost).  docs/lp.md gives the methods, what is
 * proven about them and the measurements.
 *
 * The points are the rows of P = A (orientation rows) or A^T (orientation
 * columns): n points in R^d, read in place through the column-major view of
 * A (lr_view), whatever its layout.
 *
 *  1. The subspace V (d x k) of the rows objective (lp_search.c): the
 *     construction of Tukan, Maalouf, Weksler and Feldman (2021) from the
 *     ellipsoidal rounding of the points' lp ball, and the search that
 *     refines it and other starts by iteratively reweighted least squares,
 *     in coordinates of a subspace of R^d (lp_space.c).
 *  2. The approximation L R = (P V) V^T, the projection onto span(V).
 *  3. Objective entries: alternating IRLS of sum |A - L R|^p from there
 *     (lp_entries.c).
 *  4. The SVD form: QR factorisations of L and R^T and a k x k SVD.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "factors.h"
#include "internal.h"
#include "lp.h"

/* Refinement iterations when LOWRANK_OPT_REFINE_ITER is -1 and p < 2
 * (docs/lp.md has the measurements behind them). */
enum { DEFAULT_ROWS_ITER = 100, DEFAULT_ENTRIES_ITER = 100 };
/* Entries of a chunk of points loaded as doubles. */
#define CHUNK_ENTRIES 32768
/* lowrank_lp's progress: the subspace's share, and its share when the
 * entry-wise refinement follows (the rest up to ROWS_FIT_SHARE). */
#define ROWS_FIT_SHARE 0.95
#define ROWS_FIT_SHARE_BEFORE_ENTRIES 0.2

static const lowrank_dtype F64 = LOWRANK_FLOAT64;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ------------------------------------------------------------ the points */

/* The rows (cols = 0) or the columns of a as points, through a's
 * column-major view X: the rows of A are the rows of X unless X = A^T. */
static lr_points points_of(const lowrank_matrix *a, int cols)
{
    int64_t vm, vn;
    int transposed;
    lr_colmajor_view(a, &vm, &vn, &transposed);
    int tr = (!cols) == transposed; /* the points are the columns of X */
    return (lr_points){{a->dtype, a->data, a->ld, tr}, tr ? vn : vm, tr ? vm : vn};
}

lr_view lr_view_rows_from(lr_view v, int64_t i0)
{
    size_t off = (size_t)(v.trans ? i0 * v.ld : i0) * lr_dtype_size(v.t);
    return (lr_view){v.t, (char *)v.data + off, v.ld, v.trans};
}

int lr_share_report(const lr_share *s, double x)
{
    return s ? lr_progress_report(s->pr, s->lo + (s->hi - s->lo) * x) : LOWRANK_OK;
}

lr_share lr_share_part(const lr_share *s, double a, double b)
{
    double w = s->hi - s->lo;
    return (lr_share){s->pr, s->opts, s->lo + w * a, s->lo + w * b};
}

const lowrank_opts *lr_share_opts(const lr_share *s, lowrank_opts *storage)
{
    return s ? lr_opts_nested(s->opts, s->lo, s->hi, storage) : NULL;
}

int lr_chunker_alloc(const lr_points *pts, int64_t k, const lr_share *beat, lr_chunker *ch)
{
    int64_t step = CHUNK_ENTRIES / pts->d;
    ch->beat = beat;
    ch->step = step < 1 ? 1 : min64(step, pts->n);
    ch->x = lr_malloc((size_t)(ch->step * (pts->d + k)), sizeof(double));
    ch->c = ch->x ? ch->x + ch->step * pts->d : NULL;
    return ch->x ? LOWRANK_OK : LOWRANK_ENOMEM;
}

int lr_chunk_load(const lr_points *pts, const lr_chunker *ch, int64_t i0, int64_t *c)
{
    *c = min64(ch->step, pts->n - i0);
    lr_view_load_rows(lr_view_rows_from(pts->v, i0), NULL, *c, pts->d, ch->x);
    return lr_share_report(ch->beat, 0);
}

int lr_points_project(const lr_points *pts, const double *v, int64_t k, const lr_chunker *ch,
                      double *proj, double *dist)
{
    int64_t n = pts->n, d = pts->d;
    int rc = LOWRANK_OK;
    for (int64_t i0 = 0; i0 < n && rc == LOWRANK_OK; i0 += ch->step) {
        int64_t c;
        rc = lr_chunk_load(pts, ch, i0, &c);
        if (rc == LOWRANK_OK)
            rc = lr_gemm(F64, 'N', 'N', c, k, d, 1.0, ch->x, c, v, d, 0.0, ch->c, c);
        for (int64_t a = 0; proj && a < k; a++)
            memcpy(proj + i0 + a * n, ch->c + a * c, (size_t)c * sizeof *proj);
        if (rc != LOWRANK_OK || !dist)
            continue;
        rc = lr_gemm(F64, 'N', 'T', c, d, k, -1.0, ch->c, c, v, d, 1.0, ch->x, c);
        memset(dist + i0, 0, (size_t)c * sizeof *dist);
        for (int64_t j = 0; j < d; j++)
            for (int64_t i = 0; i < c; i++)
                dist[i0 + i] += ch->x[i + j * c] * ch->x[i + j * c];
        for (int64_t i = 0; i < c; i++)
            dist[i0 + i] = sqrt(dist[i0 + i]);
    }
    return rc;
}

double lr_rows_cost(const double *dist, int64_t n, double p)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s = isinf(p) ? fmax(s, dist[i])
            : p == 1 ? s + dist[i]
            : p == 2 ? s + dist[i] * dist[i]
                     : s + pow(dist[i], p);
    return s;
}

/* The options lowrank_lp uses, checked. */
typedef struct settings {
    int entries, cols;
    int64_t entries_iter;
    lr_rows_fit fit;
} settings;

/* ------------------------------------------------------------ results */

/* An approximation X ~ L R of the column-major view X (vm x vn) of A, with
 * L (vm x k) and R^T (vn x k) column-major doubles. */
typedef struct product {
    int64_t vm, vn, k;
    double *l, *rt;
} product;

/* The alternating IRLS of the entry-wise cost, in A's dtype, from L R and
 * from the SVD of A with each coordinate of the points winsorized (the
 * columns of P: the rows of X when P = X^T); the latter's result is kept
 * unless it ends above the cost of L R (lr_lp_entrywise_fit). */
static int refine_entries(const lowrank_matrix *a, double p, const settings *st, int clip_rows,
                          const lr_share *share, product *pr)
{
    int64_t vm = pr->vm, vn = pr->vn, k = pr->k;
    size_t e = lr_dtype_size(a->dtype);
    void *l = lr_malloc((size_t)(vm * k), e), *r = l ? lr_malloc((size_t)(k * vn), e) : NULL;
    if (!r) {
        free(l);
        return LOWRANK_ENOMEM;
    }
    lr_view lv = {a->dtype, l, vm, 0}, rtv = {a->dtype, r, k, 1}; /* R^T through R */
    lr_view_store_rows(lv, NULL, vm, k, pr->l);
    lr_view_store_rows(rtv, NULL, vn, k, pr->rt);
    double cost;
    int flags = LR_FIT_START_GIVEN | (clip_rows ? LR_FIT_CLIP_ROWS : 0);
    int rc = lr_lp_entrywise_fit(a->dtype, vm, vn, a->data, a->ld, k, p,
                                 (int)min64(st->entries_iter, INT_MAX), st->fit.tol, flags,
                                 st->fit.seed, share, l, vm, r, k, &cost);
    if (rc == LOWRANK_OK) {
        lr_view_load_rows(lv, NULL, vm, k, pr->l);
        lr_view_load_rows(rtv, NULL, vn, k, pr->rt);
    }
    free(l);
    free(r);
    return rc;
}

/* The SVD form of L R: L = Q1 R1 and R^T = Q2 R2 (QR), R1 R2^T = X S Y^T
 * (SVD), so L R = (Q1 X) S (Q2 Y)^T: u (vm x k) and v (vn x k) get Q1 X and
 * Q2 Y, s the k singular values.  pr->l and pr->rt are destroyed. */
static int svd_form(product *pr, double *u, double *s, double *v)
{
    int64_t vm = pr->vm, vn = pr->vn, k = pr->k;
    double *r1 = lr_malloc((size_t)(4 * k * k), sizeof *r1);
    if (!r1)
        return LOWRANK_ENOMEM;
    double *r2 = r1 + k * k, *x = r2 + k * k, *yt = x + k * k;
    int rc = lr_qr(F64, vm, k, pr->l, vm, r1, k);
    if (rc == LOWRANK_OK)
        rc = lr_qr(F64, vn, k, pr->rt, vn, r2, k);
    if (rc == LOWRANK_OK) /* the core R1 R2^T over x, then its SVD over r1 */
        rc = lr_gemm(F64, 'N', 'T', k, k, k, 1.0, r1, k, r2, k, 0.0, x, k);
    if (rc == LOWRANK_OK)
        rc = lr_gesdd(F64, k, k, x, k, s, r1, k, yt, k);
    if (rc == LOWRANK_OK)
        rc = lr_gemm(F64, 'N', 'N', vm, k, k, 1.0, pr->l, vm, r1, k, 0.0, u, vm);
    if (rc == LOWRANK_OK)
        rc = lr_gemm(F64, 'N', 'T', vn, k, k, 1.0, pr->rt, vn, yt, k, 0.0, v, vn);
    free(r1);
    return rc;
}

/* sum |A - U diag(S) V^T|^p (max for p = infinity), in double. */
static int entries_cost(const lowrank_matrix *a, const lowrank_matrix *u, const lowrank_matrix *s,
                        const lowrank_matrix *vt, double p, double *cost)
{
    int64_t vm, vn, k = s->rows;
    int transposed;
    lr_colmajor_view(a, &vm, &vn, &transposed);
    /* X = A: L = U S, R = V^T; X = A^T: L = V S, R = U^T */
    const lowrank_matrix *left = transposed ? vt : u, *right = transposed ? u : vt;
    double *l = lr_malloc((size_t)(k * (vm + vn)), sizeof *l);
    if (!l)
        return LOWRANK_ENOMEM;
    double *r = l + vm * k;
    for (int64_t q = 0; q < k; q++) {
        double sq = lr_matrix_at(s, q, 0);
        for (int64_t i = 0; i < vm; i++)
            l[i + q * vm] = sq * (transposed ? lr_matrix_at(left, q, i) : lr_matrix_at(left, i, q));
        for (int64_t j = 0; j < vn; j++)
            r[q + j * k] = transposed ? lr_matrix_at(right, j, q) : lr_matrix_at(right, q, j);
    }
    int rc = lr_lp_entrywise_cost(a->dtype, vm, vn, a->data, a->ld, k, F64, l, vm, r, k, p, cost);
    free(l);
    return rc;
}

/* ||A||_F^2 in double. */
static int sum_squares(const lr_points *pts, double *out)
{
    lr_chunker ch;
    int rc = lr_chunker_alloc(pts, 0, NULL, &ch);
    double s = 0;
    for (int64_t i0 = 0; rc == LOWRANK_OK && i0 < pts->n; i0 += ch.step) {
        int64_t c;
        rc = lr_chunk_load(pts, &ch, i0, &c);
        for (int64_t i = 0; i < c * pts->d; i++)
            s += ch.x[i] * ch.x[i];
    }
    free(ch.x);
    *out = s;
    return rc;
}

/* The factors of A from the SVD form of L R in X's frame: U = Q1 X and
 * V = Q2 Y when X = A, swapped when X = A^T. */
static int make_factors(const lowrank_matrix *a, const settings *st, const double *ux,
                        const double *s, const double *vx, int64_t k, lowrank_factors **out)
{
    int64_t m = a->rows, n = a->cols;
    int transposed = a->layout == LOWRANK_ROW_MAJOR;
    const double *ua = transposed ? vx : ux, *va = transposed ? ux : vx;
    double *vt = lr_malloc((size_t)(k * n), sizeof *vt);
    lowrank_matrix *um = NULL, *sm = NULL, *vtm = NULL;
    int rc = vt ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t j = 0; rc == LOWRANK_OK && j < n; j++)
        for (int64_t q = 0; q < k; q++)
            vt[q + j * k] = va[j + q * n];
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(a->dtype, LOWRANK_COL_MAJOR, m, k, ua, m, &um);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(a->dtype, LOWRANK_COL_MAJOR, k, 1, s, k, &sm);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(a->dtype, LOWRANK_COL_MAJOR, k, n, vt, k, &vtm);
    free(vt);
    double error = 0, norm2 = 0;
    lr_points all = points_of(a, 0);
    if (rc == LOWRANK_OK)
        rc = entries_cost(a, um, sm, vtm, 2.0, &error);
    if (rc == LOWRANK_OK)
        rc = sum_squares(&all, &norm2);
    if (rc != LOWRANK_OK) {
        lowrank_matrix_free(um);
        lowrank_matrix_free(sm);
        lowrank_matrix_free(vtm);
        return rc;
    }
    rc = lr_factors_new(um, sm, vtm, norm2 > 0 ? sqrt(error / norm2) : 0, out);
    if (rc == LOWRANK_OK)
        lr_factors_set_orientation(*out, st->cols ? LOWRANK_ORIENT_COLS : LOWRANK_ORIENT_ROWS);
    return rc;
}

/* ------------------------------------------------------------ lowrank_lp */

static int check_lp(const lowrank_matrix *a, int64_t k, double p, const lowrank_opts *opts,
                    settings *st)
{
    int rc = lr_check_matrix(a, "a");
    if (rc != LOWRANK_OK)
        return rc;
    int64_t mn = min64(a->rows, a->cols), method = lr_opt_int(opts, LOWRANK_OPT_METHOD);
    int64_t iters = lr_opt_int(opts, LOWRANK_OPT_REFINE_ITER);
    *st = (settings){
        .entries = lr_opt_int(opts, LOWRANK_OPT_OBJECTIVE) == LOWRANK_OBJECTIVE_ENTRIES,
        .cols = lr_opt_int(opts, LOWRANK_OPT_ORIENTATION) == LOWRANK_ORIENT_COLS,
        .fit = {.k = k,
                .p = p,
                .tol = lr_opt_double(opts, LOWRANK_OPT_REFINE_TOL),
                .starts = lr_opt_int(opts, LOWRANK_OPT_STARTS),
                .dim = lr_opt_int(opts, LOWRANK_OPT_SKETCH_DIM),
                .seed = (uint64_t)lr_opt_int(opts, LOWRANK_OPT_SEED),
                .opts = opts}};
    if (!(p >= 1))
        return lr_fail(LOWRANK_ERANGE, "p = %g is outside [1, infinity]", p);
    if (k < 1 || k > mn)
        return lr_fail(LOWRANK_ERANGE, "k = %lld is outside [1, min(rows, cols) = %lld]",
                       (long long)k, (long long)mn);
    if (method != LOWRANK_METHOD_AUTO && method != LOWRANK_METHOD_LEWIS &&
        method != LOWRANK_METHOD_LOWNER)
        return lr_fail(LOWRANK_ERANGE,
                       "LOWRANK_OPT_METHOD = %lld: lowrank_lp takes LOWRANK_METHOD_LEWIS (3) or "
                       "LOWRANK_METHOD_LOWNER (4)",
                       (long long)method);
    if (iters > 0 && p > 2)
        return lr_fail(LOWRANK_ERANGE,
                       "LOWRANK_OPT_REFINE_ITER = %lld: refinement needs p <= 2, not p = %g",
                       (long long)iters, p);
    if (iters < 0) /* the method chooses: refine where it can gain */
        iters = p < 2 ? (st->entries ? DEFAULT_ENTRIES_ITER : DEFAULT_ROWS_ITER) : 0;
    st->fit.iters = st->entries ? 0 : iters;
    st->entries_iter = st->entries ? iters : 0;
    if (iters == 0 && st->fit.dim < 0) /* the construction alone: the paper's, unreduced */
        st->fit.dim = 0;
    if (st->fit.dim > 0 && st->fit.dim < k)
        return lr_fail(LOWRANK_ERANGE, "LOWRANK_OPT_SKETCH_DIM = %lld is below k = %lld",
                       (long long)st->fit.dim, (long long)k);
    return lr_check_finite(a, "a");
}

/* lowrank_lp on a matrix whose magnitudes the fit handles (see lowrank_lp). */
static int fit(const lowrank_matrix *a, int64_t k, double p, const lowrank_opts *opts,
               lowrank_factors **out)
{
    settings st;
    int rc = check_lp(a, k, p, opts, &st);
    if (rc != LOWRANK_OK)
        return rc;
    lr_points pts = points_of(a, st.cols);
    int64_t n = pts.n, d = pts.d;
    /* X ~ L R with L = P V, R^T = V when the points are X's rows, else
     * L = V, R^T = P V; the SVD form needs (vm + vn) k more */
    double *v = lr_malloc((size_t)(2 * (n + d) * k + k), sizeof *v);
    if (!v)
        return LOWRANK_ENOMEM;
    double *pv = v + d * k, *ux = pv + n * k, *vx = ux + (pts.v.trans ? d : n) * k,
           *s = vx + (pts.v.trans ? n : d) * k;
    product pr = {pts.v.trans ? d : n, pts.v.trans ? n : d, k, pts.v.trans ? v : pv,
                  pts.v.trans ? pv : v};
    lr_progress progress;
    lr_progress_begin(&progress, opts, "lowrank_lp");
    lr_share all = {&progress, opts, 0, 1};
    /* the entry-wise refinement takes most of the time when it runs */
    double fitted = st.entries_iter > 0 ? ROWS_FIT_SHARE_BEFORE_ENTRIES : ROWS_FIT_SHARE;
    st.fit.share = lr_share_part(&all, 0, fitted);
    lr_share entries = lr_share_part(&all, fitted, ROWS_FIT_SHARE);
    lr_chunker ch = {0, NULL, NULL, NULL};
    rc = lr_lp_fit_rows(&pts, &st.fit, v);
    if (rc == LOWRANK_OK)
        rc = lr_chunker_alloc(&pts, k, &all, &ch);
    if (rc == LOWRANK_OK)
        rc = lr_points_project(&pts, v, k, &ch, pv, NULL);
    if (rc == LOWRANK_OK && st.entries_iter > 0)
        rc = refine_entries(a, p, &st, pts.v.trans, &entries, &pr);
    if (rc == LOWRANK_OK)
        rc = svd_form(&pr, ux, s, vx);
    if (rc == LOWRANK_OK)
        rc = make_factors(a, &st, ux, s, vx, k, out);
    free(ch.x);
    free(v);
    return rc;
}

/* The fit runs on a copy of a scaled by a power of two when a's magnitudes
 * are extreme (lr_scale_into_range, the band of a's dtype, in which the
 * entry-wise refinement stores its factors); S is scaled back. */
int lowrank_lp(const lowrank_matrix *a, int64_t k, double p, const lowrank_opts *opts,
               lowrank_factors **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    lr_scaled sc;
    int rc = lr_scale_into_range(a, a ? a->dtype : F64, &sc);
    if (rc == LOWRANK_OK)
        rc = fit(sc.m, k, p, opts, out);
    if (rc == LOWRANK_OK)
        rc = lr_factors_unscale(*out, -sc.exp);
    if (rc != LOWRANK_OK) {
        lowrank_factors_free(*out);
        *out = NULL;
    }
    lr_scaled_free(&sc);
    return rc;
}

/* ------------------------------------------------------------ lowrank_lp_cost */

/* sum_i dist(p_i, S)^p over the points of the orientation the factors were
 * fitted in: the rows of A and S = span(V), or the columns and span(U). */
static int rows_objective(const lowrank_matrix *a, const lowrank_factors *f, double p, double *cost)
{
    int cols = lr_factors_orientation(f) == LOWRANK_ORIENT_COLS;
    const lowrank_matrix *basis = cols ? lowrank_factors_u(f) : lowrank_factors_vt(f);
    lr_points pts = points_of(a, cols);
    int64_t k = lowrank_factors_rank(f), n = pts.n, d = pts.d;
    double *v = lr_malloc((size_t)(d * k + n), sizeof *v);
    lr_chunker ch = {0, NULL, NULL, NULL};
    int rc = v ? lr_chunker_alloc(&pts, k, NULL, &ch) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        double *dist = v + d * k;
        for (int64_t q = 0; q < k; q++)
            for (int64_t j = 0; j < d; j++)
                v[j + q * d] = cols ? lr_matrix_at(basis, j, q) : lr_matrix_at(basis, q, j);
        rc = lr_points_project(&pts, v, k, &ch, NULL, dist);
        if (rc == LOWRANK_OK)
            *cost = lr_rows_cost(dist, n, p);
    }
    free(ch.x);
    free(v);
    return rc;
}

/* The objective of A = 2^-e a, with s = 2^e S (s of f when e = 0). */
static int cost_at(const lowrank_matrix *a, const lowrank_factors *f, const lowrank_matrix *s,
                   double p, lowrank_objective objective, double *cost)
{
    return objective == LOWRANK_OBJECTIVE_ROWS
               ? rows_objective(a, f, p, cost)
               : entries_cost(a, lowrank_factors_u(f), s, lowrank_factors_vt(f), p, cost);
}

/* a and f's S times r 2^e (a copy; s a float64 k x 1 matrix). */
static int scaled_problem(const lowrank_matrix *a, const lowrank_factors *f, int e, double r,
                          lowrank_matrix **as, lowrank_matrix **s)
{
    const lowrank_matrix *fs = lowrank_factors_s(f);
    *as = *s = NULL;
    int rc = lr_matrix_scaled_copy(a, e, r, as);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_alloc(F64, LOWRANK_COL_MAJOR, fs->rows, 1, 0, s);
    for (int64_t q = 0; rc == LOWRANK_OK && q < fs->rows; q++)
        ((double *)(*s)->data)[q] = ldexp(r * lr_matrix_at(fs, q, 0), e);
    return rc;
}

/* 2^WELL_INSIDE: far enough inside double's exponent range, 2^+-1022, that
 * 2^63 terms can neither overflow nor leave underflowed ones that matter. */
#define WELL_INSIDE 900

/* An upper bound on every distance or residual of a, whose largest
 * magnitude is big, against factors with singular values s: a point's norm
 * is at most sqrt(its length) big, an entry of U diag(S) V^T at most
 * k max S (U and V orthonormal); doubled for rounding. */
static double term_bound(const lowrank_matrix *a, const lowrank_matrix *s, double big)
{
    double len = (double)(a->rows > a->cols ? a->rows : a->cols);
    return 2 * (big * sqrt(len) + (double)s->rows * lr_matrix_max_abs(s));
}

/* The cost, a sum of terms r^p (any p >= 1), without overflow or underflow
 * inside it.  At a scale 2^e where a's magnitudes are safe, the sum is
 * formed directly when no term can overflow and the sum comes out well
 * above the underflow range (p up to about 10 on any data).  Otherwise the
 * p = infinity cost, the largest term's root top, is found first; when
 * top^p leaves double's range, A and S are scaled by 2^e / top, which makes
 * the largest term 1 (one rounding per element), the sum is formed and
 * multiplied by (top 2^-e)^p.  LOWRANK_ERANGE when the cost is outside
 * double's range. */
static int scaled_cost(const lowrank_matrix *a, const lowrank_factors *f, double p,
                       lowrank_objective objective, double *cost)
{
    double big = lr_matrix_max_abs(a);
    int e = big > 0 ? lr_scale_exponent(log2(big), F64) : 0;
    lowrank_matrix *as = NULL, *s = NULL;
    int rc = e ? scaled_problem(a, f, e, 1.0, &as, &s) : LOWRANK_OK;
    const lowrank_matrix *at = e ? as : a, *st = e ? s : lowrank_factors_s(f);
    double top = 0, c = 0, log2_unit = -e; /* the cost is c times 2^(p log2_unit) */
    int done = 0;
    if (rc == LOWRANK_OK && !isinf(p) &&
        p * log2(term_bound(at, st, ldexp(big, e))) < WELL_INSIDE) {
        rc = cost_at(at, f, st, p, objective, &c);
        done = c == 0 ? 0 : c >= ldexp(1, -WELL_INSIDE);
    }
    if (rc == LOWRANK_OK && !done)
        rc = cost_at(at, f, st, INFINITY, objective, &top);
    if (rc == LOWRANK_OK && !done && !isinf(p) && top > 0 && isfinite(top) &&
        p * fabs(log2(top)) > WELL_INSIDE) {
        lowrank_matrix_free(as);
        lowrank_matrix_free(s);
        int shift = -ilogb(top);
        rc = scaled_problem(a, f, e + shift, 1 / ldexp(top, shift), &as, &s);
        log2_unit += log2(top);
        at = as;
        st = s;
    }
    if (rc == LOWRANK_OK && !done && !isinf(p))
        rc = cost_at(at, f, st, p, objective, &c);
    if (rc == LOWRANK_OK)
        rc = lr_unscale_real(isinf(p) ? top : c, isinf(p) ? -e : p * log2_unit, "the cost",
                             cost);
    lowrank_matrix_free(as);
    lowrank_matrix_free(s);
    return rc;
}

int lowrank_lp_cost(const lowrank_matrix *a, const lowrank_factors *f, double p,
                    lowrank_objective objective, double *cost)
{
    int rc = lr_check_matrix(a, "a");
    if (rc != LOWRANK_OK)
        return rc;
    if (!f || !cost)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !f ? "f" : "cost");
    if (objective != LOWRANK_OBJECTIVE_ROWS && objective != LOWRANK_OBJECTIVE_ENTRIES)
        return lr_fail(LOWRANK_EINVAL,
                       "objective = %d is not LOWRANK_OBJECTIVE_ROWS or _ENTRIES (1, 2)",
                       (int)objective);
    if (!(p >= 1))
        return lr_fail(LOWRANK_ERANGE, "p = %g is outside [1, infinity]", p);
    if (lowrank_factors_rows(f) != a->rows || lowrank_factors_cols(f) != a->cols)
        return lr_fail(LOWRANK_ESIZE, "the factors are %lld x %lld, a is %lld x %lld",
                       (long long)lowrank_factors_rows(f), (long long)lowrank_factors_cols(f),
                       (long long)a->rows, (long long)a->cols);
    rc = lr_check_finite(a, "a");
    double c = 0;
    if (rc == LOWRANK_OK)
        rc = scaled_cost(a, f, p, objective, &c);
    if (rc == LOWRANK_OK)
        *cost = c;
    return rc;
}
