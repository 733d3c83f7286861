/*
 * lp.c - lp robust low-rank approximation (lowrank_lp) and its two
 * objectives (lowrank_lp_cost).  docs/lp.md gives the methods, what is
 * proven about them and the measurements.
 *
 * The points are the rows of P = A (orientation rows) or A^T (orientation
 * columns): n points in R^d, read in place through the column-major view of
 * A (lr_view), whatever its layout.  The fit works in coordinates: the
 * n x s double matrix B with P = B Q^T for an orthonormal d x s basis Q of
 * the points' span (Q = I when n >= d points span R^d; the Q of a QR
 * factorisation of P^T when n < d; s below both when the points span fewer
 * dimensions, to a relative 1e-6).  So the rounding sees a bounded body, and
 * the work scales with s, not d.
 *
 *  1. The construction (Tukan, Maalouf, Weksler, Feldman 2021): G with
 *     ||G x|| <= ||B x||_p <= alpha ||G x|| from lowrank_lp_rounding (Lewis
 *     weights or the ellipsoid method), and V the k eigenvectors of the
 *     symmetric positive definite G with the largest eigenvalues (its top
 *     right singular vectors).
 *  2. Objective rows: iteratively reweighted least squares (IRLS) of
 *     sum_i dist(b_i, span V)^p, a weighted PCA per step (below).
 *  3. The approximation L R = (P V) V^T, the projection onto span(V).
 *  4. Objective entries: alternating IRLS of sum |A - L R|^p from there
 *     (lp_entries.c).
 *  5. The SVD form: QR factorisations of L and R^T and a k x k SVD.
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
/* Singular values of the points below this times the largest are dropped
 * from their span: the rounding would find the body unbounded there. */
#define SPAN_TOL 1e-6
/* IRLS distances are floored at this times the largest point's norm, so
 * that a point on the subspace gets a large but finite weight. */
#define DIST_FLOOR 1e-10
/* Entries of a chunk of points loaded as doubles. */
#define CHUNK_ENTRIES 32768
/* The share of lowrank_lp's progress reports given to the rounding; the
 * refinement's steps share the rest. */
#define ROUNDING_SHARE 0.4

static const lowrank_dtype F64 = LOWRANK_FLOAT64;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ------------------------------------------------------------ the points */

/* n points in R^d: point i is row i of v. */
typedef struct points {
    lr_view v;
    int64_t n, d;
} points;

/* The rows (cols = 0) or the columns of a as points, through a's
 * column-major view X: the rows of A are the rows of X unless X = A^T. */
static points points_of(const lowrank_matrix *a, int cols)
{
    int64_t vm, vn;
    int transposed;
    lr_colmajor_view(a, &vm, &vn, &transposed);
    int tr = (!cols) == transposed; /* the points are the columns of X */
    return (points){{a->dtype, a->data, a->ld, tr}, tr ? vn : vm, tr ? vm : vn};
}

/* The compact n x d column-major double matrix b as points. */
static points points_f64(double *b, int64_t n, int64_t d) { return (points){{F64, b, n, 0}, n, d}; }

/* The view from row i0 on. */
static lr_view rows_from(lr_view v, int64_t i0)
{
    size_t off = (size_t)(v.trans ? i0 * v.ld : i0) * lr_dtype_size(v.t);
    return (lr_view){v.t, (char *)v.data + off, v.ld, v.trans};
}

/* Scratch for passes over the points in chunks: the chunk as doubles and
 * its coefficients. */
typedef struct chunker {
    int64_t step;
    double *x, *c;
} chunker;

static int chunker_alloc(const points *pts, int64_t k, chunker *ch)
{
    int64_t step = CHUNK_ENTRIES / pts->d;
    ch->step = step < 1 ? 1 : min64(step, pts->n);
    ch->x = lr_malloc((size_t)(ch->step * (pts->d + k)), sizeof(double));
    ch->c = ch->x ? ch->x + ch->step * pts->d : NULL;
    return ch->x ? LOWRANK_OK : LOWRANK_ENOMEM;
}

/* For the d x k v with orthonormal columns, each when not NULL: proj
 * (n x k, column-major) = P V, and dist_i = ||p_i - V V^T p_i|| formed from
 * the residual itself (not ||p||^2 - ||V^T p||^2, which cancels for points
 * near the subspace). */
static int project(const points *pts, const double *v, int64_t k, const chunker *ch, double *proj,
                   double *dist)
{
    int64_t n = pts->n, d = pts->d;
    int rc = LOWRANK_OK;
    for (int64_t i0 = 0; i0 < n && rc == LOWRANK_OK; i0 += ch->step) {
        int64_t c = min64(ch->step, n - i0);
        lr_view_load_rows(rows_from(pts->v, i0), NULL, c, d, ch->x);
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

/* sum_i dist_i^p, or max_i dist_i for p = infinity. */
static double rows_cost(const double *dist, int64_t n, double p)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s = isinf(p) ? fmax(s, dist[i])
            : p == 1 ? s + dist[i]
            : p == 2 ? s + dist[i] * dist[i]
                     : s + pow(dist[i], p);
    return s;
}

/* ------------------------------------------------------------ coordinates */

/* The points as B (n x s, column-major, double) with P = B Q^T; q is NULL
 * when Q = I (s = d). */
typedef struct coords {
    int64_t n, d, s;
    double *b, *q;
} coords;

static void coords_free(coords *co)
{
    free(co->b);
    free(co->q);
    co->b = co->q = NULL;
}

/* B0 and Q0 spanning the points with r = min(n, d) columns: P itself when
 * n >= d, else B0 = R^T and Q0 = Q from P^T = Q R. */
static int initial_coords(const points *pts, coords *co)
{
    int64_t n = pts->n, d = pts->d;
    *co = (coords){n, d, min64(n, d), NULL, NULL};
    if (n >= d) {
        co->b = lr_malloc((size_t)(n * d), sizeof(double));
        if (!co->b)
            return LOWRANK_ENOMEM;
        lr_view_load_rows(pts->v, NULL, n, d, co->b);
        return LOWRANK_OK;
    }
    double *r = lr_malloc((size_t)(n * n), sizeof *r);
    co->q = r ? lr_malloc((size_t)(d * n), sizeof(double)) : NULL;
    co->b = co->q ? lr_malloc((size_t)(n * n), sizeof(double)) : NULL;
    int rc = co->b ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        lr_view pt = pts->v;
        pt.trans = !pt.trans;
        lr_view_load_rows(pt, NULL, d, n, co->q);
        rc = lr_qr(F64, d, n, co->q, d, r, n);
    }
    for (int64_t j = 0; rc == LOWRANK_OK && j < n; j++)
        for (int64_t i = 0; i < n; i++)
            co->b[i + j * n] = r[j + i * n];
    free(r);
    return rc;
}

/* out (rows x cnt) = x (rows x r, or the identity when x is NULL) times the
 * last cnt columns of w (r x r), in reverse order: the eigenvectors of the
 * largest eigenvalues first. */
static int times_top(const double *x, int64_t rows, int64_t r, const double *w, int64_t cnt,
                     double *out)
{
    for (int64_t a = 0; a < cnt; a++) {
        const double *col = w + (r - 1 - a) * r;
        int rc = x ? lr_gemv(F64, 'N', rows, r, 1.0, x, rows, col, 1, 0.0, out + a * rows, 1)
                   : LOWRANK_OK;
        if (!x)
            memcpy(out + a * rows, col, (size_t)r * sizeof *out);
        if (rc != LOWRANK_OK)
            return rc;
    }
    return LOWRANK_OK;
}

/* Reduce the points to the s dimensions they span (to SPAN_TOL), from the
 * eigen-decomposition of B0^T B0.  When s <= k the points lie in a
 * k-dimensional subspace, which is then written into v (d x k: Q0 times the
 * top k eigenvectors, the SVD's subspace) and *exact set. */
static int reduce(const points *pts, int64_t k, coords *co, double *v, int *exact)
{
    int rc = initial_coords(pts, co);
    int64_t n = co->n, r = co->s;
    double *h = rc == LOWRANK_OK ? lr_malloc((size_t)(r * r + r), sizeof *h) : NULL;
    if (rc == LOWRANK_OK && !h)
        rc = LOWRANK_ENOMEM;
    double *lambda = h ? h + r * r : NULL;
    if (rc == LOWRANK_OK)
        rc = lr_syrk(F64, 'L', 'T', r, n, 1.0, co->b, n, 0.0, h, r);
    if (rc == LOWRANK_OK)
        rc = lr_syevd(F64, r, h, r, lambda);
    int64_t s = 0;
    for (int64_t j = 0; rc == LOWRANK_OK && j < r; j++)
        s += lambda[j] > SPAN_TOL * SPAN_TOL * lambda[r - 1];
    *exact = rc == LOWRANK_OK && s <= k;
    if (*exact)
        rc = times_top(co->q, co->d, r, h, k, v);
    else if (rc == LOWRANK_OK && s < r) { /* B = B0 W_s, Q = Q0 W_s */
        double *b = lr_malloc((size_t)(n * s), sizeof *b);
        double *q = b ? lr_malloc((size_t)(co->d * s), sizeof *q) : NULL;
        rc = q ? times_top(co->b, n, r, h, s, b) : LOWRANK_ENOMEM;
        if (rc == LOWRANK_OK)
            rc = times_top(co->q, co->d, r, h, s, q);
        coords_free(co);
        co->b = b;
        co->q = q;
        co->s = s;
    }
    free(h);
    return rc;
}

/* The k eigenvectors of the s x s symmetric matrix h (destroyed; lower
 * triangle) with the largest eigenvalues, into v (s x k); w: s doubles. */
static int top_eigenvectors(int64_t s, double *h, int64_t k, double *w, double *v)
{
    return lr_syevr(F64, s, h, s, s - k + 1, s, w, v, s);
}

/* ------------------------------------------------------------ the fit */

/* The options lowrank_lp uses, checked. */
typedef struct settings {
    int entries, cols;
    int64_t rows_iter, entries_iter;
    double tol;
} settings;

/* V: the top k eigenvectors of G from the rounding of B's lp ball. */
static int construct(const coords *co, int64_t k, double p, const lowrank_opts *opts, double *v)
{
    lowrank_matrix b = {F64, LOWRANK_COL_MAJOR, co->n, co->s, co->n, co->b, 0};
    lowrank_matrix *g = NULL;
    double alpha, *w = lr_malloc((size_t)co->s, sizeof *w);
    lowrank_opts nested;
    int rc = w ? lowrank_lp_rounding(&b, p, lr_opts_nested(opts, 0, ROUNDING_SHARE, &nested), &g,
                                     &alpha)
               : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = top_eigenvectors(co->s, g->data, k, w, v);
    lowrank_matrix_free(g);
    free(w);
    return rc;
}

/* IRLS for sum_i dist(b_i, span V)^p, p <= 2 (Lerman and Maunu's fast
 * median subspace for p = 1): each step replaces V by the top k
 * eigenvectors of sum_i w_i b_i b_i^T with w_i = max(dist_i, floor)^(p-2).
 * That minimises sum_i w_i dist(b_i, S)^2 over subspaces S, a majoriser of
 * the floored objective touching it at V (t^(p/2) is concave), so the
 * floored objective never increases.  A step is kept only when it lowers
 * the true cost; the loop stops at the first that does not, when one lowers
 * it by tol times itself or less, or after iters.  v (s x k) in and out. */
typedef struct irls {
    double *base; /* the one allocation behind the rest */
    double *dist, *next, *scaled, *h, *w, *v;
} irls;

static int irls_step(const points *bp, int64_t k, double p, double floor, irls *it,
                     const chunker *ch)
{
    int64_t n = bp->n, s = bp->d;
    const double *b = bp->v.data;
    for (int64_t i = 0; i < n; i++)
        it->next[i] = pow(fmax(it->dist[i], floor), 0.5 * (p - 2));
    for (int64_t j = 0; j < s; j++)
        for (int64_t i = 0; i < n; i++)
            it->scaled[i + j * n] = it->next[i] * b[i + j * n];
    int rc = lr_syrk(F64, 'L', 'T', s, n, 1.0, it->scaled, n, 0.0, it->h, s);
    if (rc == LOWRANK_OK)
        rc = top_eigenvectors(s, it->h, k, it->w, it->v);
    return rc == LOWRANK_OK ? project(bp, it->v, k, ch, NULL, it->next) : rc;
}

static int refine_rows(const coords *co, int64_t k, double p, int64_t iters, double tol,
                       lr_progress *pr, double *v)
{
    int64_t n = co->n, s = co->s;
    points bp = points_f64(co->b, n, s);
    chunker ch = {0, NULL, NULL};
    irls it = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    it.base = lr_malloc((size_t)(2 * n + n * s + s * s + s + s * k), sizeof(double));
    int rc = it.base ? chunker_alloc(&bp, k, &ch) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        it.dist = it.base;
        it.next = it.dist + n;
        it.scaled = it.next + n;
        it.h = it.scaled + n * s;
        it.w = it.h + s * s;
        it.v = it.w + s;
        rc = project(&bp, v, k, &ch, NULL, it.dist);
    }
    double big = 0, cost = rc == LOWRANK_OK ? rows_cost(it.dist, n, p) : 0;
    for (int64_t i = 0; rc == LOWRANK_OK && i < n; i++) { /* largest norm */
        double sq = 0;
        for (int64_t j = 0; j < s; j++)
            sq += co->b[i + j * n] * co->b[i + j * n];
        big = fmax(big, sq);
    }
    for (int64_t step = 0; rc == LOWRANK_OK && step < iters && cost > 0; step++) {
        rc = lr_progress_report(pr, ROUNDING_SHARE + (1 - ROUNDING_SHARE) * (double)step /
                                                         (double)iters);
        if (rc == LOWRANK_OK)
            rc = irls_step(&bp, k, p, DIST_FLOOR * sqrt(big), &it, &ch);
        double next = rc == LOWRANK_OK ? rows_cost(it.next, n, p) : cost;
        if (!(next < cost))
            break;
        memcpy(v, it.v, (size_t)(s * k) * sizeof *v);
        double *t = it.dist;
        it.dist = it.next;
        it.next = t;
        int small = cost - next <= tol * cost;
        cost = next;
        if (small)
            break;
    }
    free(it.base);
    free(ch.x);
    return rc;
}

/* The subspace: v (d x k, orthonormal columns). */
static int fit_subspace(const points *pts, int64_t k, double p, const lowrank_opts *opts,
                        const settings *st, double *v)
{
    coords co = {0, 0, 0, NULL, NULL};
    int exact = 0;
    int rc = reduce(pts, k, &co, v, &exact);
    if (rc != LOWRANK_OK || exact) {
        coords_free(&co);
        return rc;
    }
    double *vs = co.q ? lr_malloc((size_t)(co.s * k), sizeof *vs) : v;
    rc = vs ? construct(&co, k, p, opts, vs) : LOWRANK_ENOMEM;
    lr_progress progress;
    lr_progress_begin(&progress, opts, "lowrank_lp");
    if (rc == LOWRANK_OK && !st->entries && st->rows_iter > 0)
        rc = refine_rows(&co, k, p, st->rows_iter, st->tol, &progress, vs);
    if (rc == LOWRANK_OK && co.q)
        rc = lr_gemm(F64, 'N', 'N', co.d, k, co.s, 1.0, co.q, co.d, vs, co.s, 0.0, v, co.d);
    if (vs != v)
        free(vs);
    coords_free(&co);
    return rc;
}

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
                          product *pr)
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
                                 (int)min64(st->entries_iter, INT_MAX), st->tol, flags, l, vm, r, k,
                                 &cost);
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
static int sum_squares(const points *pts, double *out)
{
    chunker ch;
    int rc = chunker_alloc(pts, 0, &ch);
    double s = 0;
    for (int64_t i0 = 0; rc == LOWRANK_OK && i0 < pts->n; i0 += ch.step) {
        int64_t c = min64(ch.step, pts->n - i0);
        lr_view_load_rows(rows_from(pts->v, i0), NULL, c, pts->d, ch.x);
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
    points all = points_of(a, 0);
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
    *st = (settings){lr_opt_int(opts, LOWRANK_OPT_OBJECTIVE) == LOWRANK_OBJECTIVE_ENTRIES,
                     lr_opt_int(opts, LOWRANK_OPT_ORIENTATION) == LOWRANK_ORIENT_COLS, 0, 0,
                     lr_opt_double(opts, LOWRANK_OPT_REFINE_TOL)};
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
    st->rows_iter = st->entries ? 0 : iters;
    st->entries_iter = st->entries ? iters : 0;
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
    points pts = points_of(a, st.cols);
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
    chunker ch = {0, NULL, NULL};
    rc = fit_subspace(&pts, k, p, opts, &st, v);
    if (rc == LOWRANK_OK)
        rc = chunker_alloc(&pts, k, &ch);
    if (rc == LOWRANK_OK)
        rc = project(&pts, v, k, &ch, pv, NULL);
    if (rc == LOWRANK_OK && st.entries_iter > 0)
        rc = refine_entries(a, p, &st, pts.v.trans, &pr);
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
    points pts = points_of(a, cols);
    int64_t k = lowrank_factors_rank(f), n = pts.n, d = pts.d;
    double *v = lr_malloc((size_t)(d * k + n), sizeof *v);
    chunker ch = {0, NULL, NULL};
    int rc = v ? chunker_alloc(&pts, k, &ch) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        double *dist = v + d * k;
        for (int64_t q = 0; q < k; q++)
            for (int64_t j = 0; j < d; j++)
                v[j + q * d] = cols ? lr_matrix_at(basis, j, q) : lr_matrix_at(basis, q, j);
        rc = project(&pts, v, k, &ch, NULL, dist);
        if (rc == LOWRANK_OK)
            *cost = rows_cost(dist, n, p);
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
