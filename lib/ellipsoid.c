/*
 * ellipsoid.c - minimum-volume enclosing ellipsoids of point sets.
 *
 * Khachiyan's algorithm is Frank-Wolfe on the dual problem
 *     maximise log det X(u),  X(u) = sum u_i q_i q_i^T,  u >= 0, sum u = 1,
 * where q_i = (p_i, 1) in R^(d+1) (the general ellipsoid) or q_i = p_i (the
 * ellipsoid centred at the origin).  With omega_i = q_i^T X^-1 q_i, every u
 * has max omega >= D (the dimension of q) and the ellipsoid
 * {x : (x - c)^T S^-1 (x - c) <= max omega - (D - d)}, c = sum u_i p_i,
 * S = sum u_i (p_i - c)(p_i - c)^T, encloses every point, while the same
 * ellipsoid with right-hand side d has a volume no enclosing ellipsoid can
 * beat (weak duality).  Their volume ratio is the certificate:
 *     1 + eps = ((max omega - D + d) / d)^(d/2).
 * Todd and Yildirim's away steps move weight off the points with the
 * smallest omega, which keeps the support small and the convergence linear.
 *
 * The iteration runs on a working set of points (Kumar-Yildirim style
 * extremes to start); a full pass over all points computes every omega, and
 * the points the current ellipsoid misses join the set until none does.
 * Points are first whitened (p -> Lc^-1 (p - mu), Lc Lc^T their covariance),
 * which changes nothing in the answer (the problem is affinely equivariant)
 * and keeps the arithmetic well conditioned whatever the scale of the data.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"

struct lowrank_ellipsoid {
    int64_t d;
    lowrank_matrix *center, *shape, *weights;
    double log_volume, eps;
};

/* Relative width below which points count as lying on a flat: the smallest
 * eigenvalue of their covariance below this squared times the largest. */
#define FLAT_WIDTH 1e-6
/* The working set's iteration stops at this fraction of the slack the
 * certificate allows, so that the last full pass usually finds nothing;
 * while the full pass still finds points far outside, it stops earlier, at
 * LOOSE times the excess the pass found. */
#define INNER_FRACTION 0.5
#define LOOSE 0.05
/* Points the full pass adds at most, per dimension of q. */
#define ADD_PER_DIM 8
/* The rank-one updates of X^-1 and omega are recomputed from scratch this
 * often, so rounding errors cannot accumulate. */
#define REFRESH_EVERY 256
/* Rows per block of the full pass. */
#define SCAN_BLOCK 4096
#define DEFAULT_MAX_ITER 1000000
#define PI 3.14159265358979323846

/* The points after whitening: p = mu + Lc x. */
typedef struct cloud {
    int64_t n, d, D; /* D: dimension of q, d + 1 (free) or d (origin) */
    int origin;
    double *x;  /* n x d column-major */
    double *mu; /* d */
    double *lc; /* d x d lower triangular, zero above */
} cloud;

/* The working set: m points of the cloud with their lifted q (row-major,
 * q[i * D + k]), weights and omegas, X^-1, and scratch of matching size. */
typedef struct wset {
    int64_t m, cap, D;
    int64_t *idx;
    double *q, *u, *om, *v, *tmp; /* tmp: cap x D */
    double *xi, *lx, *xq;         /* D x D, D x D, D */
    unsigned char *in;            /* n flags: in the set */
} wset;

static void cloud_free(cloud *c)
{
    free(c->x);
    free(c->mu);
    free(c->lc);
}

/* The arrays sized by the capacity. */
static void free_per_point(wset *w)
{
    free(w->idx);
    free(w->q);
    free(w->u);
    free(w->om);
    free(w->v);
    free(w->tmp);
}

static void wset_free(wset *w)
{
    free_per_point(w);
    free(w->xi);
    free(w->lx);
    free(w->xq);
    free(w->in);
}

/* ------------------------------------------------------------ whitening */

static void copy_to_f64(const lowrank_matrix *m, double *x)
{
    int64_t n = m->rows, d = m->cols;
    for (int64_t j = 0; j < d; j++)
        for (int64_t i = 0; i < n; i++)
            x[i + j * n] = lr_matrix_at(m, i, j);
}

static void zero_upper(int64_t d, double *a)
{
    for (int64_t j = 1; j < d; j++)
        memset(a + j * d, 0, (size_t)j * sizeof *a);
}

/* Fail with LOWRANK_EDEGENERATE when the symmetric positive semidefinite
 * d x d matrix c (lower triangle) is singular to within FLAT_WIDTH^2. */
static int check_full_width(int64_t d, const double *c, int origin)
{
    double *e = lr_malloc((size_t)(d * d + d), sizeof *e);
    if (!e)
        return LOWRANK_ENOMEM;
    memcpy(e, c, (size_t)(d * d) * sizeof *e);
    double *w = e + d * d;
    int rc = lr_syevd(LOWRANK_FLOAT64, d, e, d, w);
    if (rc == LOWRANK_OK && !(w[0] > FLAT_WIDTH * FLAT_WIDTH * w[d - 1]))
        rc = lr_fail(LOWRANK_EDEGENERATE,
                     "the points lie on a lower-dimensional %s: their spread in one direction is "
                     "%.3g of the largest (below %g); project them onto it first",
                     origin ? "subspace" : "affine flat",
                     w[d - 1] > 0 ? sqrt(fmax(w[0], 0) / w[d - 1]) : 0.0,
                     FLAT_WIDTH);
    free(e);
    return rc;
}

static int whiten(const lowrank_matrix *pts, int origin, cloud *c)
{
    int64_t n = pts->rows, d = pts->cols;
    c->n = n;
    c->d = d;
    c->D = origin ? d : d + 1;
    c->origin = origin;
    c->x = lr_malloc((size_t)n, (size_t)d * sizeof(double));
    c->mu = c->x ? lr_calloc((size_t)d, sizeof(double)) : NULL;
    c->lc = c->mu ? lr_calloc((size_t)(d * d), sizeof(double)) : NULL;
    if (!c->lc)
        return LOWRANK_ENOMEM;
    copy_to_f64(pts, c->x);
    for (int64_t j = 0; j < d && !origin; j++) {
        double *col = c->x + j * n, s = 0;
        for (int64_t i = 0; i < n; i++)
            s += col[i];
        c->mu[j] = s / (double)n;
        for (int64_t i = 0; i < n; i++)
            col[i] -= c->mu[j];
    }
    int rc = lr_syrk(LOWRANK_FLOAT64, 'L', 'T', d, n, 1.0 / (double)n, c->x, n, 0.0, c->lc, d);
    if (rc == LOWRANK_OK)
        rc = check_full_width(d, c->lc, origin);
    if (rc != LOWRANK_OK)
        return rc;
    rc = lr_potrf(LOWRANK_FLOAT64, 'L', d, c->lc, d);
    if (rc != LOWRANK_OK)
        return rc == LOWRANK_EDEGENERATE
                   ? lr_fail(rc, "the points lie on a lower-dimensional flat (covariance singular)")
                   : rc;
    zero_upper(d, c->lc);
    return lr_trsm(LOWRANK_FLOAT64, 'R', 'L', 'T', 'N', n, d, 1.0, c->lc, d, c->x, n);
}

/* ------------------------------------------------------------ working set */

static int wset_init(wset *w, const cloud *c)
{
    int64_t D = c->D;
    memset(w, 0, sizeof *w);
    w->D = D;
    w->xi = lr_malloc((size_t)(D * D), sizeof(double));
    w->lx = w->xi ? lr_malloc((size_t)(D * D), sizeof(double)) : NULL;
    w->xq = w->lx ? lr_malloc((size_t)D, sizeof(double)) : NULL;
    w->in = w->xq ? lr_calloc((size_t)c->n, 1) : NULL;
    return w->in ? LOWRANK_OK : LOWRANK_ENOMEM;
}

static int wset_reserve(wset *w, int64_t need)
{
    if (need <= w->cap)
        return LOWRANK_OK;
    int64_t cap = w->cap ? w->cap : 2 * w->D;
    while (cap < need)
        cap *= 2;
    size_t D = (size_t)w->D;
    wset g = *w;
    g.cap = cap;
    g.idx = lr_malloc((size_t)cap, sizeof *g.idx);
    g.q = g.idx ? lr_malloc((size_t)cap * D, sizeof *g.q) : NULL;
    g.u = g.q ? lr_malloc((size_t)cap, sizeof *g.u) : NULL;
    g.om = g.u ? lr_malloc((size_t)cap, sizeof *g.om) : NULL;
    g.v = g.om ? lr_malloc((size_t)cap, sizeof *g.v) : NULL;
    g.tmp = g.v ? lr_malloc((size_t)cap * D, sizeof *g.tmp) : NULL;
    wset *drop = g.tmp ? w : &g; /* the old arrays, or the partial new ones */
    size_t m = (size_t)w->m;
    if (g.tmp && m) {
        memcpy(g.idx, w->idx, m * sizeof *g.idx);
        memcpy(g.q, w->q, m * D * sizeof *g.q);
        memcpy(g.u, w->u, m * sizeof *g.u);
        memcpy(g.om, w->om, m * sizeof *g.om);
    }
    free_per_point(drop);
    if (!g.tmp)
        return LOWRANK_ENOMEM;
    *w = g;
    return LOWRANK_OK;
}

/* The lifted q of point i into out (D values). */
static void lift(const cloud *c, int64_t i, double *out)
{
    for (int64_t k = 0; k < c->d; k++)
        out[k] = c->x[i + k * c->n];
    if (!c->origin)
        out[c->d] = 1.0;
}

/* Add point i with weight 0, unless it is in the set already. */
static int wset_add(wset *w, const cloud *c, int64_t i)
{
    if (w->in[i])
        return LOWRANK_OK;
    int rc = wset_reserve(w, w->m + 1);
    if (rc != LOWRANK_OK)
        return rc;
    w->idx[w->m] = i;
    lift(c, i, w->q + w->m * w->D);
    w->u[w->m] = 0;
    w->om[w->m] = 0;
    w->in[i] = 1;
    w->m++;
    return LOWRANK_OK;
}

/* Drop the points whose weight the away steps took to zero. */
static void wset_prune(wset *w)
{
    int64_t D = w->D, k = 0;
    for (int64_t i = 0; i < w->m; i++) {
        if (w->u[i] == 0) {
            w->in[w->idx[i]] = 0;
            continue;
        }
        if (k != i) {
            w->idx[k] = w->idx[i];
            w->u[k] = w->u[i];
            w->om[k] = w->om[i];
            memmove(w->q + k * D, w->q + i * D, (size_t)D * sizeof *w->q);
        }
        k++;
    }
    w->m = k;
}

/* X = sum u_i q_i q_i^T into the lower triangle of w->lx. */
static int gram(wset *w)
{
    int64_t D = w->D, m = w->m;
    for (int64_t i = 0; i < m; i++) {
        double s = sqrt(w->u[i]);
        for (int64_t k = 0; k < D; k++)
            w->tmp[i * D + k] = s * w->q[i * D + k];
    }
    return lr_syrk(LOWRANK_FLOAT64, 'L', 'N', D, m, 1.0, w->tmp, D, 0.0, w->lx, D);
}

/* Recompute X^-1 and every omega from the weights. */
static int refresh(wset *w)
{
    int64_t D = w->D, m = w->m;
    int rc = gram(w);
    if (rc == LOWRANK_OK)
        rc = lr_potrf(LOWRANK_FLOAT64, 'L', D, w->lx, D);
    if (rc == LOWRANK_EDEGENERATE)
        return lr_fail(LOWRANK_EDEGENERATE,
                       "the working set of %lld points lost full dimension", (long long)m);
    if (rc != LOWRANK_OK)
        return rc;
    memcpy(w->tmp, w->q, (size_t)(m * D) * sizeof *w->tmp);
    rc = lr_trsm(LOWRANK_FLOAT64, 'L', 'L', 'N', 'N', D, m, 1.0, w->lx, D, w->tmp, D);
    for (int64_t i = 0; i < m && rc == LOWRANK_OK; i++) {
        double s = 0;
        for (int64_t k = 0; k < D; k++)
            s += w->tmp[i * D + k] * w->tmp[i * D + k];
        w->om[i] = s;
    }
    /* X^-1 = L^-T L^-1: L^-1 into tmp's first D columns, then its Gram. */
    if (rc == LOWRANK_OK) {
        memset(w->tmp, 0, (size_t)(D * D) * sizeof *w->tmp);
        for (int64_t k = 0; k < D; k++)
            w->tmp[k * D + k] = 1;
        rc = lr_trsm(LOWRANK_FLOAT64, 'L', 'L', 'N', 'N', D, D, 1.0, w->lx, D, w->tmp, D);
    }
    if (rc == LOWRANK_OK)
        rc = lr_syrk(LOWRANK_FLOAT64, 'L', 'T', D, D, 1.0, w->tmp, D, 0.0, w->xi, D);
    for (int64_t j = 0; j < D && rc == LOWRANK_OK; j++)
        for (int64_t i = 0; i < j; i++)
            w->xi[i + j * D] = w->xi[j + i * D];
    return rc;
}

/* u <- (1 - lam) u + lam e_j with X^-1 and omega updated by Sherman and
 * Morrison's formula (lam < 0 moves weight away from j). */
static int move_weight(wset *w, int64_t j, double lam)
{
    int64_t D = w->D, m = w->m;
    const double *qj = w->q + j * D;
    int rc = lr_gemv(LOWRANK_FLOAT64, 'N', D, D, 1.0, w->xi, D, qj, 1, 0.0, w->xq, 1);
    if (rc == LOWRANK_OK)
        rc = lr_gemv(LOWRANK_FLOAT64, 'T', D, m, 1.0, w->q, D, w->xq, 1, 0.0, w->v, 1);
    if (rc != LOWRANK_OK)
        return rc;
    double keep = 1 - lam, den = keep + lam * w->v[j];
    for (int64_t i = 0; i < m; i++)
        w->om[i] = (w->om[i] - lam * w->v[i] * w->v[i] / den) / keep;
    for (int64_t b = 0; b < D; b++)
        for (int64_t a = 0; a < D; a++)
            w->xi[a + b * D] = (w->xi[a + b * D] - lam * w->xq[a] * w->xq[b] / den) / keep;
    for (int64_t i = 0; i < m; i++)
        w->u[i] *= keep;
    w->u[j] += lam;
    return LOWRANK_OK;
}

typedef struct budget {
    int64_t used, cap;
    lr_progress *progress;
    double done; /* how far the volume ratio has come to eps, for the reports */
} budget;

/* One Frank-Wolfe or away step: toward the point with the largest omega, or
 * away from the weighted point with the smallest, whichever is further from
 * optimality (omega = D); step lengths maximise log det X along the line.
 * Sets *done when max omega <= thr. */
static int khachiyan_step(wset *w, double thr, int *done)
{
    int64_t m = w->m, jmax = 0, jmin = -1;
    double D = (double)w->D;
    for (int64_t i = 0; i < m; i++) {
        if (w->om[i] > w->om[jmax])
            jmax = i;
        if (w->u[i] > 0 && (jmin < 0 || w->om[i] < w->om[jmin]))
            jmin = i;
    }
    double up = w->om[jmax], down = w->om[jmin];
    *done = up <= thr;
    if (*done)
        return LOWRANK_OK;
    if (up - D >= D - down) {
        double lam = (up - D) / (D * (up - 1));
        if (lam >= 1 - 1e-12) { /* the whole weight jumps (D = 1) */
            memset(w->u, 0, (size_t)m * sizeof *w->u);
            w->u[jmax] = 1;
            return refresh(w);
        }
        return move_weight(w, jmax, lam);
    }
    double uk = w->u[jmin], drop = uk / (1 - uk);
    double lam = down > 1 ? (D - down) / (D * (down - 1)) : drop;
    int rc = move_weight(w, jmin, -fmin(lam, drop));
    if (lam >= drop)
        w->u[jmin] = 0;
    return rc;
}

/* Iterate on the working set until its max omega is at most thr. */
static int solve_working_set(wset *w, double thr, budget *b)
{
    int rc = refresh(w);
    for (int done = 0; rc == LOWRANK_OK;) {
        rc = khachiyan_step(w, thr, &done);
        if (rc != LOWRANK_OK || done)
            break;
        if (++b->used >= b->cap)
            return LOWRANK_ENOCONV;
        if ((rc = lr_progress_report(b->progress, b->done)) != LOWRANK_OK)
            break;
        if (b->used % REFRESH_EVERY == 0)
            rc = refresh(w);
    }
    return rc;
}

/* ------------------------------------------------------------ full pass */

/* The candidates the full pass found: a min-heap of (omega, index) holding
 * the largest omegas seen outside the working set. */
typedef struct heap {
    int64_t size, cap;
    double *key;
    int64_t *idx;
} heap;

static void heap_swap(heap *h, int64_t a, int64_t b)
{
    double k = h->key[a];
    int64_t i = h->idx[a];
    h->key[a] = h->key[b];
    h->idx[a] = h->idx[b];
    h->key[b] = k;
    h->idx[b] = i;
}

static void heap_offer(heap *h, double key, int64_t idx)
{
    if (h->size == h->cap) {
        if (key <= h->key[0])
            return;
        h->key[0] = key;
        h->idx[0] = idx;
        for (int64_t i = 0;;) { /* sift down */
            int64_t l = 2 * i + 1, r = l + 1, s = i;
            if (l < h->size && h->key[l] < h->key[s])
                s = l;
            if (r < h->size && h->key[r] < h->key[s])
                s = r;
            if (s == i)
                return;
            heap_swap(h, i, s);
            i = s;
        }
    }
    int64_t i = h->size++;
    h->key[i] = key;
    h->idx[i] = idx;
    for (; i > 0 && h->key[(i - 1) / 2] > h->key[i]; i = (i - 1) / 2)
        heap_swap(h, i, (i - 1) / 2);
}

/* Every omega_i = ||Z^T q_i||^2 with Z = L^-T, X = L L^T, block by block:
 * the largest into *omax, and the points outside the set with omega above
 * thr into the heap. */
static int scan_all(const cloud *c, wset *w, double thr, double *omax, heap *h)
{
    int64_t n = c->n, d = c->d, D = c->D;
    int rc = gram(w);
    if (rc == LOWRANK_OK)
        rc = lr_potrf(LOWRANK_FLOAT64, 'L', D, w->lx, D);
    if (rc != LOWRANK_OK)
        return rc == LOWRANK_EDEGENERATE ? lr_fail(rc, "the working set lost full dimension") : rc;
    double *z = w->xi; /* free until the next refresh */
    memset(z, 0, (size_t)(D * D) * sizeof *z);
    for (int64_t k = 0; k < D; k++)
        z[k * D + k] = 1;
    rc = lr_trsm(LOWRANK_FLOAT64, 'L', 'L', 'T', 'N', D, D, 1.0, w->lx, D, z, D);
    int64_t bs = n < SCAN_BLOCK ? n : SCAN_BLOCK;
    double *y = rc == LOWRANK_OK ? lr_malloc((size_t)(bs * D), sizeof *y) : NULL;
    if (rc == LOWRANK_OK && !y)
        rc = LOWRANK_ENOMEM;
    *omax = 0;
    h->size = 0;
    for (int64_t r0 = 0; r0 < n && rc == LOWRANK_OK; r0 += bs) {
        int64_t b = n - r0 < bs ? n - r0 : bs;
        rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', b, D, d, 1.0, c->x + r0, n, z, D, 0.0, y, b);
        for (int64_t i = 0; i < b && rc == LOWRANK_OK; i++) {
            double s = 0;
            for (int64_t k = 0; k < D; k++) {
                double t = y[i + k * b] + (c->origin ? 0 : z[d + k * D]);
                s += t * t;
            }
            *omax = fmax(*omax, s);
            if (s > thr && !w->in[r0 + i])
                heap_offer(h, s, r0 + i);
        }
    }
    free(y);
    return rc;
}

/* ------------------------------------------------------------ the start */

/* The extremes of the cloud along each coordinate (the cloud is white, so
 * every direction counts alike), then, while the set does not span R^D,
 * the point furthest along a direction it misses (Kumar and Yildirim's
 * initial core set, lazily). */
static int initial_set(wset *w, const cloud *c)
{
    int64_t n = c->n, d = c->d, D = c->D;
    int rc = LOWRANK_OK;
    for (int64_t k = 0; k < d && rc == LOWRANK_OK; k++) {
        const double *col = c->x + k * n;
        int64_t lo = 0, hi = 0;
        for (int64_t i = 1; i < n; i++) {
            double v = c->origin ? fabs(col[i]) : col[i];
            if (v > (c->origin ? fabs(col[hi]) : col[hi]))
                hi = i;
            if (col[i] < col[lo])
                lo = i;
        }
        rc = wset_add(w, c, hi);
        if (rc == LOWRANK_OK && !c->origin)
            rc = wset_add(w, c, lo);
    }
    double *e = rc == LOWRANK_OK ? lr_malloc((size_t)(D * D + D + n), sizeof *e) : NULL;
    if (rc == LOWRANK_OK && !e)
        rc = LOWRANK_ENOMEM;
    for (int spans = 0; rc == LOWRANK_OK && !spans;) {
        for (int64_t i = 0; i < w->m; i++)
            w->u[i] = 1.0 / (double)w->m;
        rc = gram(w);
        if (rc == LOWRANK_OK) {
            memcpy(e, w->lx, (size_t)(D * D) * sizeof *e);
            rc = lr_syevd(LOWRANK_FLOAT64, D, e, D, e + D * D);
        }
        spans = rc == LOWRANK_OK && e[D * D] > 1e-10 * e[D * D + D - 1];
        if (rc != LOWRANK_OK || spans)
            break;
        /* e's first column: the direction the set misses most */
        double *proj = e + D * D + D;
        rc = lr_gemv(LOWRANK_FLOAT64, 'N', n, d, 1.0, c->x, n, e, 1, 0.0, proj, 1);
        int64_t best = 0;
        double shift = c->origin ? 0 : e[d];
        for (int64_t i = 1; i < n; i++)
            if (fabs(proj[i] + shift) > fabs(proj[best] + shift))
                best = i;
        if (rc == LOWRANK_OK && w->in[best])
            rc = lr_fail(LOWRANK_EDEGENERATE, "the points do not span R^%lld", (long long)d);
        if (rc == LOWRANK_OK)
            rc = wset_add(w, c, best);
    }
    free(e);
    return rc;
}

/* ------------------------------------------------------------ the result */

/* log of the volume of the unit ball in R^d, pi^(d/2) / Gamma(d/2 + 1).
 * Not lgamma(): it writes the global signgam, a data race between threads
 * (ThreadSanitizer saw it), and Gamma at d/2 + 1 is a product of halves:
 * Gamma(d/2 + 1) = (d/2)(d/2 - 1)... down to Gamma(1) = 1 or Gamma(1/2) = sqrt(pi). */
static double log_unit_ball_volume(int64_t d)
{
    double log_gamma = d % 2 ? 0.5 * log(PI) : 0;
    for (double x = 0.5 * (double)d; x > 0; x -= 1)
        log_gamma += log(x);
    return 0.5 * (double)d * log(PI) - log_gamma;
}

/* Back from whitened coordinates.  S (d x d) = sum u x x^T - c c^T in the
 * whitened frame, S = Ls Ls^T, T = Lc Ls; then
 * Q = T^-T T^-1 / r2 with r2 = max omega - (D - d), c = mu + Lc chat. */
static int make_result(const cloud *c, wset *w, double omax, const lowrank_matrix *pts,
                       lowrank_ellipsoid *e)
{
    int64_t n = c->n, d = c->d, D = c->D, m = w->m;
    double *s = lr_calloc((size_t)(4 * d * d + 2 * d), sizeof *s);
    if (!s)
        return LOWRANK_ENOMEM;
    double *t = s + d * d, *ti = t + d * d, *q = ti + d * d, *ch = q + d * d, *cen = ch + d;
    for (int64_t i = 0; i < m; i++)
        for (int64_t k = 0; k < d && !c->origin; k++)
            ch[k] += w->u[i] * w->q[i * D + k];
    for (int64_t i = 0; i < m; i++) { /* sqrt(u_i) x_i as column i of tmp (d x m) */
        double r = sqrt(w->u[i]);
        for (int64_t k = 0; k < d; k++)
            w->tmp[i * d + k] = r * w->q[i * D + k];
    }
    int rc = lr_syrk(LOWRANK_FLOAT64, 'L', 'N', d, m, 1.0, w->tmp, d, 0.0, s, d);
    for (int64_t j = 0; j < d; j++)
        for (int64_t i = j; i < d; i++)
            s[i + j * d] -= ch[i] * ch[j];
    if (rc == LOWRANK_OK)
        rc = lr_potrf(LOWRANK_FLOAT64, 'L', d, s, d);
    if (rc == LOWRANK_EDEGENERATE)
        rc = lr_fail(rc, "the core set does not span R^%lld", (long long)d);
    zero_upper(d, s);
    if (rc == LOWRANK_OK)
        rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', d, d, d, 1.0, c->lc, d, s, d, 0.0, t, d);
    for (int64_t k = 0; k < d; k++)
        ti[k + k * d] = 1;
    if (rc == LOWRANK_OK)
        rc = lr_trsm(LOWRANK_FLOAT64, 'L', 'L', 'N', 'N', d, d, 1.0, t, d, ti, d);
    double r2 = omax - (double)(D - d), logdet_t = 0;
    if (rc == LOWRANK_OK)
        rc = lr_syrk(LOWRANK_FLOAT64, 'L', 'T', d, d, 1.0 / r2, ti, d, 0.0, q, d);
    for (int64_t j = 0; j < d; j++) {
        logdet_t += log(fabs(t[j + j * d]));
        for (int64_t i = 0; i < j; i++)
            q[i + j * d] = q[j + i * d];
        cen[j] = c->mu[j];
        for (int64_t k = 0; k <= j; k++)
            cen[j] += c->lc[j + k * d] * ch[k];
    }
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(pts->dtype, pts->layout, d, 1, cen, d, &e->center);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_from_f64(pts->dtype, pts->layout, d, d, q, d, &e->shape);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_alloc(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, n, 1, 1, &e->weights);
    for (int64_t i = 0; i < m && rc == LOWRANK_OK; i++)
        ((double *)e->weights->data)[w->idx[i]] = w->u[i];
    double dd = (double)d;
    /* log vol = log vol(unit ball) + log |det T| + (d/2) log r2 */
    e->log_volume = log_unit_ball_volume(d) + logdet_t + 0.5 * dd * log(r2);
    e->eps = expm1(0.5 * dd * log(r2 / dd));
    e->d = d;
    free(s);
    return rc;
}

/* ------------------------------------------------------------ the driver */

/* Grow the working set until the full pass certifies thr. */
static int solve(const cloud *c, wset *w, double thr, budget *b, double *omax)
{
    double inner = c->D + INNER_FRACTION * (thr - c->D), target = inner;
    int64_t most = ADD_PER_DIM * c->D;
    heap h = {0, most, lr_malloc((size_t)most, sizeof(double)),
              lr_malloc((size_t)most, sizeof(int64_t))};
    int rc = h.key && h.idx ? initial_set(w, c) : LOWRANK_ENOMEM;
    double first = 0;
    while (rc == LOWRANK_OK) {
        rc = solve_working_set(w, target, b);
        if (rc == LOWRANK_OK)
            rc = scan_all(c, w, thr, omax, &h);
        if (rc != LOWRANK_OK || *omax <= thr)
            break;
        /* progress: the log of the excess of omax over thr, from the first pass to 0 */
        first = first > 0 ? first : log(*omax - c->D) - log(thr - c->D);
        b->done = fmax(b->done, 1 - (log(*omax - c->D) - log(thr - c->D)) / first);
        wset_prune(w);
        for (int64_t k = 0; k < h.size && rc == LOWRANK_OK; k++)
            rc = wset_add(w, c, h.idx[k]);
        if (h.size == 0) /* rounding separated the set's omegas from the pass's */
            inner = c->D + 0.5 * (inner - c->D);
        target = fmax(inner, c->D + LOOSE * (*omax - c->D));
    }
    free(h.key);
    free(h.idx);
    return rc;
}

static int check_points(const lowrank_matrix *points, int origin)
{
    int rc = lr_check_matrix(points, "points");
    if (rc == LOWRANK_OK)
        rc = lr_check_finite(points, "points");
    int64_t need = rc == LOWRANK_OK ? points->cols + !origin : 0;
    if (rc == LOWRANK_OK && points->rows < need)
        rc = lr_fail(LOWRANK_EDEGENERATE,
                     "%lld points lie on a lower-dimensional flat of R^%lld: a full-dimensional "
                     "ellipsoid needs at least %lld",
                     (long long)points->rows, (long long)points->cols, (long long)need);
    return rc;
}

/* lowrank_mvee on points whose magnitudes are safe. */
static int mvee(const lowrank_matrix *points, const lowrank_opts *opts, lowrank_ellipsoid **out)
{
    int origin = lr_opt_int(opts, LOWRANK_OPT_CENTER) == LOWRANK_CENTER_ORIGIN;
    int rc = check_points(points, origin);
    if (rc != LOWRANK_OK)
        return rc;
    double eps = lr_opt_double(opts, LOWRANK_OPT_EPS);
    int64_t cap = lr_opt_int(opts, LOWRANK_OPT_MAX_ITER);
    lr_progress progress;
    lr_progress_begin(&progress, opts, "lowrank_mvee");
    budget b = {0, cap > 0 ? cap : DEFAULT_MAX_ITER, &progress, 0};
    cloud c = {0};
    wset w = {0};
    lowrank_ellipsoid *e = lr_calloc(1, sizeof *e);
    rc = e ? whiten(points, origin, &c) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = wset_init(&w, &c);
    double omax = 0;
    if (rc == LOWRANK_OK) {
        /* certified when ((omax - D + d) / d)^(d/2) <= 1 + eps */
        double d = (double)c.d, thr = (double)c.D + d * expm1(2.0 / d * log1p(eps));
        rc = solve(&c, &w, thr, &b, &omax);
    }
    if (rc == LOWRANK_ENOCONV)
        rc = lr_fail(rc, "no certificate of eps = %g after %lld iterations (LOWRANK_OPT_MAX_ITER)",
                     eps, (long long)b.used);
    if (rc == LOWRANK_OK)
        rc = make_result(&c, &w, omax, points, e);
    cloud_free(&c);
    wset_free(&w);
    if (rc != LOWRANK_OK) {
        lowrank_ellipsoid_free(e);
        return rc;
    }
    *out = e;
    return LOWRANK_OK;
}

/* The ellipsoid of points computed from 2^s points: centre 2^-s c, shape
 * 2^2s Q, volume 2^-sd times; weights and eps unchanged.  Q scales as
 * 1 / c^2 for points c P, so it may leave the dtype's range where the points
 * do not: LOWRANK_ERANGE rather than an infinite or vanishing shape. */
static int unscale(lowrank_ellipsoid *e, int s)
{
    int rc = lr_matrix_unscale(e->center, -s, 0, "the centre");
    if (rc == LOWRANK_OK)
        rc = lr_matrix_unscale(e->shape, 2 * s, 1, "the shape Q");
    e->log_volume -= (double)s * (double)e->d * log(2.0);
    return rc;
}

/* Computed in float64 whatever the dtype of points, on a copy scaled by a
 * power of two when float64 points have extreme magnitudes. */
int lowrank_mvee(const lowrank_matrix *points, const lowrank_opts *opts, lowrank_ellipsoid **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    lr_scaled sc;
    int rc = lr_scale_into_range(points, LOWRANK_FLOAT64, &sc);
    if (rc == LOWRANK_OK)
        rc = mvee(sc.m, opts, out);
    if (rc == LOWRANK_OK)
        rc = unscale(*out, sc.exp);
    if (rc != LOWRANK_OK) {
        lowrank_ellipsoid_free(*out);
        *out = NULL;
    }
    lr_scaled_free(&sc);
    return rc;
}

void lowrank_ellipsoid_free(lowrank_ellipsoid *e)
{
    if (!e)
        return;
    lowrank_matrix_free(e->center);
    lowrank_matrix_free(e->shape);
    lowrank_matrix_free(e->weights);
    free(e);
}

int64_t lowrank_ellipsoid_dim(const lowrank_ellipsoid *e) { return e ? e->d : 0; }

const lowrank_matrix *lowrank_ellipsoid_center(const lowrank_ellipsoid *e)
{
    return e ? e->center : NULL;
}

const lowrank_matrix *lowrank_ellipsoid_shape(const lowrank_ellipsoid *e)
{
    return e ? e->shape : NULL;
}

const lowrank_matrix *lowrank_ellipsoid_weights(const lowrank_ellipsoid *e)
{
    return e ? e->weights : NULL;
}

double lowrank_ellipsoid_log_volume(const lowrank_ellipsoid *e) { return e ? e->log_volume : NAN; }

double lowrank_ellipsoid_eps(const lowrank_ellipsoid *e) { return e ? e->eps : NAN; }
