/*
 * rounding.c - ellipsoidal rounding of the lp ball of a matrix: a symmetric
 * positive definite G and a certified alpha with
 *     ||G x|| <= ||A x||_p <= alpha ||G x||   for every x.
 *
 * Lewis weights.  For positive weights w with M = sum w_i^(1-2/p) a_i a_i^T
 * and tau_i = a_i^T M^-1 a_i, Cauchy-Schwarz and Hoelder give (p <= 2)
 *     ||M^(1/2) x|| <= R^(1/p-1/2) ||A x||_p,  ||A x||_p <= S^(1/p-1/2) ||M^(1/2) x||
 * with R = max tau_i / w_i^(2/p) and S = sum w_i, and the mirror image for
 * p >= 2; so alpha = (R S)^|1/p-1/2| for any weights, and at the Lewis
 * weights (tau_i = w_i^(2/p), sum w = d) alpha = d^|1/p-1/2| (Lewis 1978;
 * Cohen and Peng 2015).  The weights come from the fixed point
 * log w = (p/2) log tau(w), damped by 4/(2+p) for p > 2 and accelerated by
 * Anderson mixing; every iterate is certified and the best one kept.
 *
 * Ellipsoid method (Tukan, Maalouf, Weksler, Feldman 2021, after Groetschel,
 * Lovasz and Schrijver): an ellipsoid E = {x : x^T P^-1 x <= 1} containing
 * the body is cut by the slab |g^T x| <= 1 that the exact subgradient g of
 * ||A x||_p at an axis point outside the body yields, until the axis points
 * of E shrunk by sqrt(d + 1) lie in the body; then E / sqrt(d (d + 1)) lies
 * in it too.
 *
 * Both run in float64 on scaled copies of A kept in A's own layout (the
 * algebra goes through A's column-major view, so a row-major A costs no
 * transposition), whatever A's dtype.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"

/* Lewis: iterations, stall limit, Anderson depth, target for alpha over its
 * ideal value. */
#define LEWIS_MAX_ITER 100
#define LEWIS_STALL 10
#define ANDERSON_DEPTH 4
#define LEWIS_TOL 1e-6
/* A pivot of the Cholesky factor of A^T A below this times the largest:
 * A counts as rank-deficient (its condition number is beyond 1e7). */
#define RANK_TOL 1e-7
/* Ellipsoid method: rounds, remembered cuts per dimension, sweeps. */
#define LOWNER_MAX_ROUNDS 1000
#define POOL_PER_DIM 4
#define SWEEPS 10

/* A (n x d) through its column-major view: vm x vn, leading dimension ld;
 * tr = 1 when the view is A^T (A row-major).  Scratch copies of A in
 * float64 use the same view with ld = vm. */
typedef struct view {
    const lowrank_matrix *a;
    int64_t n, d, vm, vn;
    int tr;
} view;

static view view_of(const lowrank_matrix *a)
{
    view v = {a, a->rows, a->cols, 0, 0, 0};
    lr_colmajor_view(a, &v.vm, &v.vn, &v.tr);
    return v;
}

/* b = diag(scale) A in float64, in the view's layout (scale NULL: 1); one
 * loop per dtype, as this runs over all of A in every iteration. */
static void scaled_copy(const view *v, const double *scale, double *b)
{
    const lowrank_matrix *a = v->a;
    for (int64_t c = 0; c < v->vn; c++) {
        double *out = b + c * v->vm, s = scale && v->tr ? scale[c] : 1.0;
        const double *sr = scale && !v->tr ? scale : NULL;
        if (a->dtype == LOWRANK_FLOAT32) {
            const float *in = (const float *)a->data + c * a->ld;
            for (int64_t r = 0; r < v->vm; r++)
                out[r] = (sr ? sr[r] : s) * (double)in[r];
        } else {
            const double *in = (const double *)a->data + c * a->ld;
            for (int64_t r = 0; r < v->vm; r++)
                out[r] = (sr ? sr[r] : s) * in[r];
        }
    }
}

/* m = B^T B (lower triangle), B n x d in the view's layout. */
static int gram(const view *v, const double *b, double *m)
{
    return lr_syrk(LOWRANK_FLOAT64, 'L', v->tr ? 'N' : 'T', v->d, v->n, 1.0, b, v->vm, 0.0, m,
                   v->d);
}

/* Rows b_i^T <- b_i^T L^-T for the lower triangular L. */
static int solve_rows(const view *v, const double *l, double *b)
{
    return v->tr ? lr_trsm(LOWRANK_FLOAT64, 'L', 'L', 'N', 'N', v->d, v->n, 1.0, l, v->d, b, v->vm)
                 : lr_trsm(LOWRANK_FLOAT64, 'R', 'L', 'T', 'N', v->n, v->d, 1.0, l, v->d, b,
                           v->vm);
}

/* ||b_i||^2 of every row. */
static void row_norms2(const view *v, const double *b, double *out)
{
    if (v->tr) { /* rows are the view's columns */
        for (int64_t c = 0; c < v->vn; c++) {
            double s = 0;
            for (int64_t r = 0; r < v->vm; r++)
                s += b[r + c * v->vm] * b[r + c * v->vm];
            out[c] = s;
        }
        return;
    }
    memset(out, 0, (size_t)v->n * sizeof *out);
    for (int64_t c = 0; c < v->vn; c++)
        for (int64_t r = 0; r < v->vm; r++)
            out[r] += b[r + c * v->vm] * b[r + c * v->vm];
}

/* The Cholesky factor of B^T B into l; with strict, refusing a numerically
 * singular one (B is A then: later weights may spread the pivots further). */
static int cholesky_gram(const view *v, const double *b, double *l, int strict)
{
    int64_t d = v->d;
    int rc = gram(v, b, l);
    if (rc == LOWRANK_OK)
        rc = lr_potrf(LOWRANK_FLOAT64, 'L', d, l, d);
    double big = 0, small = HUGE_VAL;
    for (int64_t k = 0; k < d && rc == LOWRANK_OK; k++) {
        big = fmax(big, l[k + k * d]);
        small = fmin(small, l[k + k * d]);
    }
    if (rc == LOWRANK_EDEGENERATE || (rc == LOWRANK_OK && strict && !(small > RANK_TOL * big)))
        return lr_fail(LOWRANK_EDEGENERATE,
                       "A is rank-deficient (or its condition number exceeds %g): "
                       "{x : ||Ax||_p <= 1} is unbounded",
                       1 / RANK_TOL);
    for (int64_t j = 1; j < d && rc == LOWRANK_OK; j++)
        memset(l + j * d, 0, (size_t)j * sizeof *l);
    return rc;
}

static double dot(int64_t n, const double *a, const double *b)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* ------------------------------------------------------------ Lewis weights */

/* Anderson mixing of the fixed-point iteration x <- x + g(x): the next x
 * is the affine combination of the last iterates whose residuals g cancel
 * best in the least-squares sense. */
typedef struct anderson {
    int64_t n;
    int count, head;
    double *dx, *dg, *prev_x, *prev_g; /* depth x n rings, n, n */
} anderson;

static int anderson_init(anderson *a, int64_t n)
{
    *a = (anderson){n, 0, -1, NULL, NULL, NULL, NULL};
    a->dx = lr_malloc((size_t)(2 * ANDERSON_DEPTH + 2), (size_t)n * sizeof(double));
    if (!a->dx)
        return LOWRANK_ENOMEM;
    a->dg = a->dx + ANDERSON_DEPTH * n;
    a->prev_x = a->dg + ANDERSON_DEPTH * n;
    a->prev_g = a->prev_x + n;
    return LOWRANK_OK;
}

/* Solve the k x k system a y = b (a overwritten, y into b) by elimination
 * with partial pivoting; 0 when it is singular. */
static int small_solve(int k, double *a, double *b)
{
    for (int c = 0; c < k; c++) {
        int piv = c;
        for (int r = c + 1; r < k; r++)
            if (fabs(a[r * k + c]) > fabs(a[piv * k + c]))
                piv = r;
        if (!(fabs(a[piv * k + c]) > 0))
            return 0;
        for (int j = 0; j < k; j++) {
            double t = a[c * k + j];
            a[c * k + j] = a[piv * k + j];
            a[piv * k + j] = t;
        }
        double t = b[c];
        b[c] = b[piv];
        b[piv] = t;
        for (int r = c + 1; r < k; r++) {
            double f = a[r * k + c] / a[c * k + c];
            for (int j = c; j < k; j++)
                a[r * k + j] -= f * a[c * k + j];
            b[r] -= f * b[c];
        }
    }
    for (int c = k - 1; c >= 0; c--) {
        for (int j = c + 1; j < k; j++)
            b[c] -= a[c * k + j] * b[j];
        b[c] /= a[c * k + c];
    }
    return 1;
}

/* x <- x + g, mixed with the history. */
static void anderson_step(anderson *a, double *x, const double *g)
{
    int64_t n = a->n;
    if (a->head >= 0) {
        a->head = (a->head + 1) % ANDERSON_DEPTH;
        double *dx = a->dx + a->head * n, *dg = a->dg + a->head * n;
        for (int64_t i = 0; i < n; i++) {
            dx[i] = x[i] - a->prev_x[i];
            dg[i] = g[i] - a->prev_g[i];
        }
        a->count = a->count < ANDERSON_DEPTH ? a->count + 1 : ANDERSON_DEPTH;
    } else {
        a->head = ANDERSON_DEPTH - 1;
    }
    memcpy(a->prev_x, x, (size_t)n * sizeof *x);
    memcpy(a->prev_g, g, (size_t)n * sizeof *g);
    int k = a->count;
    double gm[ANDERSON_DEPTH * ANDERSON_DEPTH], gamma[ANDERSON_DEPTH];
    for (int r = 0; r < k; r++) {
        for (int c = 0; c < k; c++)
            gm[r * k + c] = dot(n, a->dg + r * n, a->dg + c * n);
        gm[r * k + r] *= 1 + 1e-10; /* a touch of ridge against collinear residuals */
        gamma[r] = dot(n, a->dg + r * n, g);
    }
    if (k > 0 && !small_solve(k, gm, gamma)) {
        a->count = 0;
        k = 0;
    }
    for (int64_t i = 0; i < n; i++) {
        double v = x[i] + g[i];
        for (int r = 0; r < k; r++)
            v -= gamma[r] * (a->dx[r * n + i] + a->dg[r * n + i]);
        x[i] = v;
    }
}

/* The Lewis iteration's state: log-weights x, leverages tau, step g, the
 * scaled copy b and factor l, and the best certificate with its factor. */
typedef struct lewis_state {
    double p, *x, *tau, *g, *b, *l;
    double best, best_r, best_s, *best_l; /* certificate R S / d, M = L L^T */
} lewis_state;

/* One evaluation at the current weights: M = A^T W^(1-2/p) A = L L^T,
 * tau_i = a_i^T M^-1 a_i, and the certificate R S / d over the rows that
 * are not zero (live). */
static int lewis_evaluate(const view *v, lewis_state *s, const unsigned char *live, int first)
{
    int64_t n = v->n, d = v->d;
    double half = 0.5 - 1.0 / s->p, *scale = s->tau; /* sqrt(w^(1-2/p)) until tau is known */
    for (int64_t i = 0; i < n; i++)
        scale[i] = live[i] ? exp(half * s->x[i]) : 0.0;
    scaled_copy(v, scale, s->b);
    int rc = cholesky_gram(v, s->b, s->l, first);
    if (rc == LOWRANK_OK)
        rc = solve_rows(v, s->l, s->b);
    if (rc != LOWRANK_OK)
        return rc;
    row_norms2(v, s->b, s->tau);
    double r = 0, sum = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!live[i])
            continue;
        /* ||b_i||^2 = w_i^(1-2/p) tau_i */
        s->tau[i] = fmax(s->tau[i] * exp(-2 * half * s->x[i]), 0x1p-1000);
        r = fmax(r, s->tau[i] * exp(-2.0 / s->p * s->x[i]));
        sum += exp(s->x[i]);
    }
    double cert = r * sum / (double)d;
    if (cert < s->best) {
        s->best = cert;
        s->best_r = r;
        s->best_s = sum;
        memcpy(s->best_l, s->l, (size_t)(d * d) * sizeof *s->l);
    }
    return LOWRANK_OK;
}

/* Rows of A that are not zero; only they enter the weights.  live may be
 * NULL (then only counted). */
static int64_t mark_live(const lowrank_matrix *a, unsigned char *live)
{
    int64_t count = 0;
    for (int64_t i = 0; i < a->rows; i++) {
        int nonzero = 0;
        for (int64_t j = 0; j < a->cols && !nonzero; j++)
            nonzero = lr_matrix_at(a, i, j) != 0;
        if (live)
            live[i] = (unsigned char)nonzero;
        count += nonzero;
    }
    return count;
}

static int64_t live_rows(const lowrank_matrix *a) { return mark_live(a, NULL); }

/* G^T G into h and alpha from Lewis weights. */
static int lewis(const view *v, double p, const lowrank_opts *opts, lr_progress *pr, double *h,
                 double *alpha)
{
    int64_t n = v->n, d = v->d, cap = lr_opt_int(opts, LOWRANK_OPT_MAX_ITER);
    int64_t max_iter = cap > 0 ? cap : LEWIS_MAX_ITER;
    double e = fabs(1.0 / p - 0.5), theta = p > 2 ? 4.0 / (2.0 + p) : 1.0;
    lewis_state s = {p, NULL, NULL, NULL, NULL, NULL, HUGE_VAL, 0, 0, NULL};
    anderson acc = {0};
    unsigned char *live = lr_malloc((size_t)n, 1);
    s.x = live ? lr_malloc((size_t)(3 * n + 2 * d * d), sizeof(double)) : NULL;
    s.b = s.x ? lr_malloc((size_t)n, (size_t)d * sizeof(double)) : NULL;
    int rc = s.b ? anderson_init(&acc, n) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        s.tau = s.x + n;
        s.g = s.tau + n;
        s.l = s.g + n;
        s.best_l = s.l + d * d;
        double start = log((double)d / (double)mark_live(v->a, live));
        for (int64_t i = 0; i < n; i++)
            s.x[i] = start;
    }
    for (int64_t it = 1, stall = 0; rc == LOWRANK_OK; it++) {
        double before = s.best;
        rc = lr_progress_report(pr, (double)(it - 1) / (double)max_iter);
        if (rc == LOWRANK_OK)
            rc = lewis_evaluate(v, &s, live, it == 1);
        if (rc == LOWRANK_EDEGENERATE && it > 1) {
            /* weights so uneven (large p) that M is numerically singular:
             * the best iterate so far stands, certified */
            rc = LOWRANK_OK;
            break;
        }
        stall = s.best < before ? 0 : stall + 1;
        if (rc != LOWRANK_OK || pow(s.best, e) - 1 <= LEWIS_TOL || it >= max_iter ||
            stall >= LEWIS_STALL)
            break;
        for (int64_t i = 0; i < n; i++)
            s.g[i] = live[i] ? theta * (0.5 * p * log(s.tau[i]) - s.x[i]) : 0;
        anderson_step(&acc, s.x, s.g);
    }
    if (rc == LOWRANK_OK) {
        /* G^T G = M R^-(2/p-1) (p < 2) or M S^-(1-2/p) (p > 2) */
        double scale = p < 2 ? pow(s.best_r, 1 - 2 / p) : p > 2 ? pow(s.best_s, 2 / p - 1) : 1;
        rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'T', d, d, d, scale, s.best_l, d, s.best_l, d, 0.0, h,
                     d);
        *alpha = pow(s.best_r * s.best_s, e);
    }
    free(live);
    free(s.x);
    free(s.b);
    free(acc.dx);
    return rc;
}

/* ------------------------------------------------------------ ellipsoid method */

/* ||y||_p of the n values at y (scaled by the largest against overflow
 * unless p = 1). */
static double pnorm(int64_t n, const double *y, double p)
{
    double s = 0, big = 0;
    if (p == 1) {
        for (int64_t i = 0; i < n; i++)
            s += fabs(y[i]);
        return s;
    }
    for (int64_t i = 0; i < n; i++)
        big = fabs(y[i]) > big ? fabs(y[i]) : big;
    if (big == 0 || isinf(p))
        return big;
    for (int64_t i = 0; i < n; i++) {
        double t = fabs(y[i]) / big;
        s += p == 2 ? t * t : pow(t, p);
    }
    return big * pow(s, 1 / p);
}

/* Replace y (of norm f) by the dual vector s with s^T y = f and
 * ||s||_q = 1: A^T s is then a subgradient of ||A x||_p where A x = y. */
static void dual_vector(int64_t n, double *y, double p, double f)
{
    if (isinf(p)) {
        int64_t top = 0;
        for (int64_t i = 1; i < n; i++)
            if (fabs(y[i]) > fabs(y[top]))
                top = i;
        double sign = (y[top] > 0) - (y[top] < 0);
        memset(y, 0, (size_t)n * sizeof *y);
        y[top] = sign;
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        double s = (y[i] > 0) - (y[i] < 0);
        y[i] = p == 1 ? s : s * pow(fabs(y[i]) / f, p - 1);
    }
}

/* The ellipsoid method's state: A in float64 (view layout), P with
 * E = {x : x^T P^-1 x <= 1}, its eigenvectors and values, the remembered
 * cuts, and scratch. */
typedef struct lowner_state {
    const view *v;
    const double *a;
    int64_t pool_size, pool_used, pool_head;
    double *pm, *vec, *val, *pool, *pg, *fv, *z, *gr;
    double *y; /* n x d column-major */
} lowner_state;

/* y = A z (z d x k, y n x k column-major). */
static int times_a(const lowner_state *s, const double *z, int64_t k, double *y)
{
    const view *v = s->v;
    return lr_gemm(LOWRANK_FLOAT64, v->tr ? 'T' : 'N', 'N', v->n, k, v->d, 1.0, s->a, v->vm, z,
                   v->d, 0.0, y, v->n);
}

/* gr = A^T y (y n x k, gr d x k). */
static int times_at(const lowner_state *s, const double *y, int64_t k, double *gr)
{
    const view *v = s->v;
    return lr_gemm(LOWRANK_FLOAT64, v->tr ? 'N' : 'T', 'N', v->d, k, v->n, 1.0, s->a, v->vm, y,
                   v->n, 0.0, gr, v->d);
}

/* Cut E by the slab |g^T x| <= 1 when it is deep enough to shrink E by a
 * definite factor (half-width beta = 1/sqrt(g^T P g) below 1/sqrt(d + 1)):
 * P <- delta (P - sigma P g g^T P / g^T P g), the smallest ellipsoid holding
 * E between the two hyperplanes (Todd 1982). */
static int parallel_cut(lowner_state *s, const double *g)
{
    int64_t d = s->v->d;
    int rc = lr_gemv(LOWRANK_FLOAT64, 'N', d, d, 1.0, s->pm, d, g, 1, 0.0, s->pg, 1);
    double gpg = dot(d, g, s->pg), dd = (double)d;
    if (rc != LOWRANK_OK || !(gpg > dd + 1))
        return 0;
    double b2 = 1 / gpg, delta = dd * (1 - b2) / (dd - 1), sigma = (1 - dd * b2) / (1 - b2);
    for (int64_t j = 0; j < d; j++)
        for (int64_t i = 0; i < d; i++)
            s->pm[i + j * d] = delta * (s->pm[i + j * d] - sigma * s->pg[i] * s->pg[j] / gpg);
    return 1;
}

/* The axes of E: eigenvectors into vec, eigenvalues into val. */
static int axes(lowner_state *s)
{
    int64_t d = s->v->d;
    for (int64_t j = 0; j < d; j++) /* symmetrise against rounding */
        for (int64_t i = 0; i < j; i++)
            s->pm[i + j * d] = s->pm[j + i * d] = 0.5 * (s->pm[i + j * d] + s->pm[j + i * d]);
    memcpy(s->vec, s->pm, (size_t)(d * d) * sizeof *s->vec);
    int rc = lr_syevd(LOWRANK_FLOAT64, d, s->vec, d, s->val);
    if (rc == LOWRANK_OK && !(s->val[0] > 0))
        rc = lr_fail(LOWRANK_EINTERNAL, "the ellipsoid method lost positive definiteness");
    return rc;
}

/* The axis points v_j / sqrt(d + 1) of E through A (into y) and their
 * p-norms into fv.  *done when alpha^2 = (d + 1) sum_j fv_j^2 is at most
 * d (d + 1): the bound the paper's test, every fv_j <= 1, guarantees; the
 * test on the sum ends the long tail of rounds in which a few axis points
 * stay barely outside. */
static int measure(lowner_state *s, double p, int *done)
{
    int64_t n = s->v->n, d = s->v->d;
    double shrink = 1 / sqrt((double)d + 1);
    for (int64_t j = 0; j < d; j++)
        for (int64_t i = 0; i < d; i++)
            s->z[i + j * d] = s->vec[i + j * d] * sqrt(s->val[j]) * shrink;
    int rc = times_a(s, s->z, d, s->y);
    double f2 = 0;
    for (int64_t j = 0; j < d && rc == LOWRANK_OK; j++) {
        s->fv[j] = pnorm(n, s->y + j * n, p);
        f2 += s->fv[j] * s->fv[j];
    }
    *done = f2 <= (double)d;
    return rc;
}

/* Cut E with the subgradients at the axis points outside the body,
 * remember the cuts, apply every remembered cut deep enough, and recompute
 * the axes. */
static int cut_round(lowner_state *s, double p)
{
    int64_t n = s->v->n, d = s->v->d, k = 0;
    for (int64_t j = 0; j < d; j++) {
        if (s->fv[j] <= 1)
            continue;
        dual_vector(n, s->y + j * n, p, s->fv[j]);
        memmove(s->y + k++ * n, s->y + j * n, (size_t)n * sizeof *s->y);
    }
    int rc = times_at(s, s->y, k, s->gr);
    for (int64_t j = 0; j < k && rc == LOWRANK_OK; j++) {
        s->pool_head = (s->pool_head + 1) % s->pool_size;
        memcpy(s->pool + s->pool_head * d, s->gr + j * d, (size_t)d * sizeof *s->gr);
        s->pool_used = s->pool_used < s->pool_size ? s->pool_used + 1 : s->pool_size;
    }
    for (int sweep = 0, cuts = 1; sweep < SWEEPS && cuts && rc == LOWRANK_OK; sweep++) {
        cuts = 0;
        for (int64_t c = 0; c < s->pool_used; c++)
            cuts += parallel_cut(s, s->pool + c * d);
    }
    return rc == LOWRANK_OK ? axes(s) : rc;
}

/* The start: with M = A^T A = L L^T and h_i = a_i^T M^-1 a_i (the leverage
 * scores), E = {x : ||A x||_2 <= r0} = {x : x^T M x <= r0^2} contains the
 * body, since for y = A x, ||y||_inf <= sqrt(max h) ||y||_2 and so
 * ||y||_p >= (max h)^-(1/p-1/2) ||y||_2 for p <= 2, while Hoelder gives
 * ||y||_p >= n^-(1/2-1/p) ||y||_2 for p >= 2.  P = r0^2 L^-T L^-1. */
static int start_ellipsoid(lowner_state *s, double p, double *lev)
{
    const view *v = s->v;
    int64_t n = v->n, d = v->d;
    double *l = s->vec;
    memcpy(s->y, s->a, (size_t)(n * d) * sizeof *s->y); /* the view's layout, for solve_rows */
    int rc = cholesky_gram(v, s->a, l, 1);
    if (rc == LOWRANK_OK)
        rc = solve_rows(v, l, s->y);
    if (rc != LOWRANK_OK)
        return rc;
    row_norms2(v, s->y, lev);
    double hmax = 0;
    for (int64_t i = 0; i < n; i++)
        hmax = fmax(hmax, lev[i]);
    double r0 = p <= 2 ? pow(hmax, 1 / p - 0.5) : pow((double)n, 0.5 - (isinf(p) ? 0 : 1 / p));
    for (int64_t j = 0; j < d; j++)
        for (int64_t i = 0; i < d; i++)
            s->pm[i + j * d] = i == j;
    rc = lr_trsm(LOWRANK_FLOAT64, 'L', 'L', 'N', 'N', d, d, 1.0, l, d, s->pm, d); /* L^-1 */
    if (rc == LOWRANK_OK)
        rc = lr_gemm(LOWRANK_FLOAT64, 'T', 'N', d, d, d, r0 * r0, s->pm, d, s->pm, d, 0.0, s->z,
                     d);
    if (rc == LOWRANK_OK)
        memcpy(s->pm, s->z, (size_t)(d * d) * sizeof *s->pm);
    return rc == LOWRANK_OK ? axes(s) : rc;
}

/* The final E: alpha^2 = sum_j ||A v_j||_p^2 over the semi-axes v_j (which
 * measure found at (d + 1) fv_j^2), and G^T G = P^-1 into h. */
static int lowner_result(lowner_state *s, double *h, double *alpha)
{
    int64_t d = s->v->d;
    double a2 = 0;
    for (int64_t j = 0; j < d; j++) {
        a2 += s->fv[j] * s->fv[j] * ((double)d + 1);
        for (int64_t i = 0; i < d; i++)
            s->z[i + j * d] = s->vec[i + j * d] / sqrt(s->val[j]);
    }
    *alpha = sqrt(a2);
    return lr_gemm(LOWRANK_FLOAT64, 'N', 'T', d, d, d, 1.0, s->z, d, s->z, d, 0.0, h, d);
}

static int lowner(const view *v, double p, const lowrank_opts *opts, lr_progress *pr, double *h,
                  double *alpha)
{
    int64_t n = v->n, d = v->d, cap = lr_opt_int(opts, LOWRANK_OPT_MAX_ITER);
    int64_t pool = POOL_PER_DIM * d, rounds = cap > 0 ? cap : LOWNER_MAX_ROUNDS;
    lowner_state s = {v, NULL, pool, 0, -1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    double *a = lr_malloc((size_t)n, 2 * (size_t)d * sizeof(double) + sizeof(double));
    s.pm = a ? lr_malloc((size_t)(d * (4 * d + 3 + pool)), sizeof(double)) : NULL;
    int rc = s.pm ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        s.a = a;
        s.y = a + n * d;
        s.vec = s.pm + d * d;
        s.z = s.vec + d * d;
        s.gr = s.z + d * d;
        s.val = s.gr + d * d;
        s.pg = s.val + d;
        s.fv = s.pg + d;
        s.pool = s.fv + d;
        scaled_copy(v, NULL, a);
        rc = d == 1 ? LOWRANK_OK : start_ellipsoid(&s, p, s.y + n * d);
    }
    if (rc == LOWRANK_OK && d == 1) { /* the body is an interval: exact */
        h[0] = pow(pnorm(n, a, p), 2);
        *alpha = 1;
    } else if (rc == LOWRANK_OK) {
        for (int64_t r = 1; rc == LOWRANK_OK; r++) {
            int done = 0;
            rc = lr_progress_report(pr, (double)(r - 1) / (double)rounds);
            if (rc == LOWRANK_OK)
                rc = measure(&s, p, &done);
            if (rc != LOWRANK_OK || done || r >= rounds)
                break;
            rc = cut_round(&s, p);
        }
        if (rc == LOWRANK_OK)
            rc = lowner_result(&s, h, alpha);
    }
    free(a);
    free(s.pm);
    return rc;
}

/* ------------------------------------------------------------ p = infinity */

/* The John ellipsoid of {x : |a_i^T x| <= 1 for all i} is the polar of the
 * origin-centred enclosing ellipsoid {y : y^T Q y <= 1} of the rows: with
 * X = sum u_i a_i a_i^T from its dual weights, ||Ax||_inf >= ||X^(1/2) x||
 * and ||Ax||_inf <= sqrt(max omega) ||X^(1/2) x||, where Q = X^-1 / max omega
 * and max omega = d (1 + eps)^(2/d).  Into h: G^-2 = X^-1 = max omega Q.
 * For a finite p it rounds the lp ball too, as ||Ax||_inf <= ||Ax||_p <=
 * n^(1/p) ||Ax||_inf over the n rows that are not zero: alpha gains that
 * factor, which tends to 1 as p grows. */
static int john(const lowrank_matrix *a, double p, const lowrank_opts *opts, double *h,
                double *alpha)
{
    int64_t d = a->cols;
    lowrank_opts *o = NULL;
    lowrank_ellipsoid *e = NULL;
    lowrank_matrix *a64 = NULL; /* the shape, ~ 1 / A^2, could leave float32's range */
    int rc = a->dtype == LOWRANK_FLOAT64
                 ? LOWRANK_OK
                 : lowrank_matrix_convert(a, LOWRANK_FLOAT64, a->layout, &a64);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_new(&o);
    if (rc == LOWRANK_OK)
        lr_opts_inherit_progress(o, opts);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(o, LOWRANK_OPT_CENTER, LOWRANK_CENTER_ORIGIN);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_double(o, LOWRANK_OPT_EPS, lr_opt_double(opts, LOWRANK_OPT_EPS));
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(o, LOWRANK_OPT_MAX_ITER, lr_opt_int(opts, LOWRANK_OPT_MAX_ITER));
    if (rc == LOWRANK_OK)
        rc = lowrank_mvee(a64 ? a64 : a, o, &e);
    if (rc == LOWRANK_OK) {
        double omax = (double)d * exp(2.0 / (double)d * log1p(lowrank_ellipsoid_eps(e)));
        const lowrank_matrix *q = lowrank_ellipsoid_shape(e);
        for (int64_t j = 0; j < d; j++)
            for (int64_t i = 0; i < d; i++)
                h[i + j * d] = lr_matrix_at(q, i, j) * omax;
        *alpha = sqrt(omax) * (isinf(p) ? 1 : pow((double)live_rows(a), 1 / p));
    }
    lowrank_ellipsoid_free(e);
    lowrank_opts_free(o);
    lowrank_matrix_free(a64);
    return rc;
}

/* The alpha john() guarantees before it runs: sqrt(d) (1 + eps)^(1/d)
 * n^(1/p), within a factor (n d)^(1/p) (1 + eps)^(1/d) of the ideal
 * d^(1/2 - 1/p) that Lewis weights reach when their iteration converges. */
static double john_bound(const lowrank_matrix *a, double p, const lowrank_opts *opts)
{
    double d = (double)a->cols, eps = lr_opt_double(opts, LOWRANK_OPT_EPS);
    return sqrt(d) * exp(log1p(eps) / d) * pow((double)live_rows(a), 1 / p);
}

/* ------------------------------------------------------------ the result */

/* G = H^power for the symmetric positive definite d x d H, into a new
 * matrix of the dtype and layout of a. */
static int sym_power(int64_t d, const double *h, double power, const lowrank_matrix *a,
                     lowrank_matrix **g)
{
    double *w = lr_malloc((size_t)(2 * d * d + d), sizeof *w);
    if (!w)
        return LOWRANK_ENOMEM;
    double *val = w + d * d, *out = val + d;
    memcpy(w, h, (size_t)(d * d) * sizeof *w);
    int rc = lr_syevd(LOWRANK_FLOAT64, d, w, d, val);
    for (int64_t j = 0; j < d && rc == LOWRANK_OK; j++) {
        double s = val[j] > 0 ? pow(val[j], 0.5 * power) : 0; /* out = W W^T */
        for (int64_t i = 0; i < d; i++)
            w[i + j * d] *= s;
    }
    if (rc == LOWRANK_OK)
        rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'T', d, d, d, 1.0, w, d, w, d, 0.0, out, d);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(a->dtype, a->layout, d, d, out, d, g);
    free(w);
    return rc;
}

static int check_args(const lowrank_matrix *a, double p, int64_t method, double *alpha)
{
    int rc = lr_check_matrix(a, "a");
    if (rc == LOWRANK_OK && !alpha)
        rc = lr_fail(LOWRANK_EINVAL, "alpha is NULL");
    if (rc == LOWRANK_OK && !(p >= 1))
        rc = lr_fail(LOWRANK_ERANGE, "p = %g must be at least 1", p);
    if (rc == LOWRANK_OK && method != LOWRANK_METHOD_AUTO && method != LOWRANK_METHOD_LEWIS &&
        method != LOWRANK_METHOD_LOWNER)
        rc = lr_fail(LOWRANK_ERANGE,
                     "LOWRANK_OPT_METHOD = %lld: the rounding takes LOWRANK_METHOD_LEWIS (3) or "
                     "LOWRANK_METHOD_LOWNER (4)",
                     (long long)method);
    if (rc == LOWRANK_OK)
        rc = lr_check_finite(a, "a");
    if (rc == LOWRANK_OK && a->rows < a->cols)
        rc = lr_fail(LOWRANK_EDEGENERATE,
                     "A has %lld rows < %lld columns: {x : ||Ax||_p <= 1} is unbounded",
                     (long long)a->rows, (long long)a->cols);
    return rc;
}

/* G^T G (or G^-2, *power = -1/2) into h and alpha by the method asked for.
 * Lewis weights for p > 2 may stop short of their ideal alpha (the weights
 * grow so uneven with p that the iteration stalls); when the alpha they
 * certify is above john_bound, the John route is taken instead. */
static int rounding_gram(const lowrank_matrix *a, double p, const lowrank_opts *opts, double *h,
                         double *alpha, double *power)
{
    view v = view_of(a);
    lr_progress progress;
    lr_progress_begin(&progress, opts, "lowrank_lp_rounding");
    *power = 0.5;
    if (lr_opt_int(opts, LOWRANK_OPT_METHOD) == LOWRANK_METHOD_LOWNER)
        return lowner(&v, p, opts, &progress, h, alpha);
    int rc = isinf(p) ? LOWRANK_OK : lewis(&v, p, opts, &progress, h, alpha);
    if (rc != LOWRANK_OK || (!isinf(p) && !(p > 2 && *alpha > john_bound(a, p, opts))))
        return rc;
    lowrank_opts nested;
    double done = progress.hi > progress.lo
                      ? (progress.last - progress.lo) / (progress.hi - progress.lo)
                      : 0;
    double *hj = lr_malloc((size_t)(a->cols * a->cols), sizeof *hj), aj = 0;
    rc = hj ? john(a, p, lr_opts_nested(opts, done, 1, &nested), hj, &aj) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) { /* john gives G^-2 */
        memcpy(h, hj, (size_t)(a->cols * a->cols) * sizeof *h);
        *alpha = aj;
        *power = -0.5;
    } else if (rc == LOWRANK_ENOCONV && !isinf(p)) {
        rc = LOWRANK_OK; /* Lewis's G stands */
    }
    free(hj);
    return rc;
}

/* lowrank_lp_rounding on a matrix whose magnitudes are safe. */
static int rounding(const lowrank_matrix *a, double p, const lowrank_opts *opts,
                    lowrank_matrix **g, double *alpha)
{
    int rc = check_args(a, p, lr_opt_int(opts, LOWRANK_OPT_METHOD), alpha);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t d = a->cols;
    double *h = lr_malloc((size_t)(d * d), sizeof *h), al = 0, power = 0.5;
    rc = h ? rounding_gram(a, p, opts, h, &al, &power) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = sym_power(d, h, power, a, g);
    if (rc == LOWRANK_OK)
        *alpha = al;
    free(h);
    return rc;
}

/* Computed in float64 whatever a's dtype, on a copy scaled by a power of two
 * when a float64 a's magnitudes are extreme; G scales as A. */
int lowrank_lp_rounding(const lowrank_matrix *a, double p, const lowrank_opts *opts,
                        lowrank_matrix **g, double *alpha)
{
    if (!g)
        return lr_fail(LOWRANK_EINVAL, "g is NULL");
    *g = NULL;
    lr_scaled sc;
    int rc = lr_scale_into_range(a, LOWRANK_FLOAT64, &sc);
    if (rc == LOWRANK_OK)
        rc = rounding(sc.m, p, opts, g, alpha);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_unscale(*g, -sc.exp, 0, "G");
    if (rc != LOWRANK_OK) {
        lowrank_matrix_free(*g);
        *g = NULL;
    }
    lr_scaled_free(&sc);
    return rc;
}
