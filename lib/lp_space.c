/*
 * lp_space.c - the coordinates the rows objective is fitted in (lr_space,
 * lp.h): the points p_i written as b_i = Q^T p_i for a d x r basis Q with
 * orthonormal columns, with e_i = ||p_i - Q b_i||, so that for every
 * subspace S of span Q
 *
 *     dist(p_i, S)^2 = dist(b_i, Q^T S)^2 + e_i^2      exactly.
 *
 * A fit within span Q then costs O(n r) per point pass instead of O(n d).
 *
 *  - Exact coordinates span the points themselves (the identity when n >= d
 *    points span R^d, the Q of a QR factorisation of P^T when n < d), less
 *    the directions in which their spread is below 1e-6 of the largest:
 *    O(n d min(n, d)) work and n min(n, d) doubles.
 *  - Sketched coordinates start from the top r right singular vectors of P
 *    (lowrank_svd, randomized block Krylov: O(nnz r) work) and grow by the
 *    directions of P^T y outside span Q for the y the fit asks for: the
 *    gradient of the weighted least-squares objective of an IRLS step, so
 *    that the fit within span Q can reach a fixed point of IRLS in all of
 *    R^d (lp_search.c).  Work O(nnz k) per growth, memory O((n + d) r).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "lp.h"
#include "random.h"

/* Singular values of the points below this times the largest are dropped
 * from their exact span: the rounding would find the body unbounded there. */
#define SPAN_TOL 1e-6
/* A direction of P^T y whose part outside span Q is below this times its
 * norm adds nothing (that part is rounding). */
#define NEW_DIRECTION_TOL 1e-8
/* The residual norms e_i are updated as e_i^2 - ||new coordinates||^2;
 * where that drops below this fraction of e_i^2 the difference has lost
 * too many digits, and e_i is recomputed from the point itself. */
#define CANCELLATION 1e-6
/* Steps of subspace iteration of the sketch. */
#define SKETCH_POWER 2

static const lowrank_dtype F64 = LOWRANK_FLOAT64;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

void lr_space_free(lr_space *sp)
{
    free(sp->q);
    free(sp->b);
    free(sp->e);
    free(sp->top);
    sp->q = sp->b = sp->e = sp->top = NULL;
}

/* ------------------------------------------------------------ exact */

/* B0 and Q0 spanning the points with r = min(n, d) columns: P itself when
 * n >= d, else B0 = R^T and Q0 = Q from P^T = Q R. */
static int initial_coords(const lr_points *pts, lr_space *sp)
{
    int64_t n = pts->n, d = pts->d, r = min64(n, d);
    *sp = (lr_space){n, d, r, r, NULL, NULL, NULL, NULL};
    if (n >= d) {
        sp->b = lr_malloc((size_t)(n * d), sizeof(double));
        if (!sp->b)
            return LOWRANK_ENOMEM;
        lr_view_load_rows(pts->v, NULL, n, d, sp->b);
        return LOWRANK_OK;
    }
    double *rr = lr_malloc((size_t)(n * n), sizeof *rr);
    sp->q = rr ? lr_malloc((size_t)(d * n), sizeof(double)) : NULL;
    sp->b = sp->q ? lr_malloc((size_t)(n * n), sizeof(double)) : NULL;
    int rc = sp->b ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        lr_view pt = pts->v;
        pt.trans = !pt.trans;
        lr_view_load_rows(pt, NULL, d, n, sp->q);
        rc = lr_qr(F64, d, n, sp->q, d, rr, n);
    }
    for (int64_t j = 0; rc == LOWRANK_OK && j < n; j++)
        for (int64_t i = 0; i < n; i++)
            sp->b[i + j * n] = rr[j + i * n];
    free(rr);
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

int lr_space_exact(const lr_points *pts, int64_t k, lr_space *sp, double *v, int *exact)
{
    int rc = initial_coords(pts, sp);
    int64_t n = sp->n, r = sp->r;
    double *h = rc == LOWRANK_OK ? lr_malloc((size_t)(r * r + r), sizeof *h) : NULL;
    if (rc == LOWRANK_OK && !h)
        rc = LOWRANK_ENOMEM;
    double *lambda = h ? h + r * r : NULL;
    if (rc == LOWRANK_OK)
        rc = lr_syrk(F64, 'L', 'T', r, n, 1.0, sp->b, n, 0.0, h, r);
    if (rc == LOWRANK_OK)
        rc = lr_syevd(F64, r, h, r, lambda);
    int64_t s = 0;
    for (int64_t j = 0; rc == LOWRANK_OK && j < r; j++)
        s += lambda[j] > SPAN_TOL * SPAN_TOL * lambda[r - 1];
    *exact = rc == LOWRANK_OK && s <= k;
    if (*exact)
        rc = times_top(sp->q, sp->d, r, h, k, v);
    else if (rc == LOWRANK_OK && s < r) { /* B = B0 W_s, Q = Q0 W_s */
        double *b = lr_malloc((size_t)(n * s), sizeof *b);
        double *q = b ? lr_malloc((size_t)(sp->d * s), sizeof *q) : NULL;
        rc = q ? times_top(sp->b, n, r, h, s, b) : LOWRANK_ENOMEM;
        if (rc == LOWRANK_OK)
            rc = times_top(sp->q, sp->d, r, h, s, q);
        lr_space_free(sp);
        sp->b = b;
        sp->q = q;
        sp->r = sp->cap = s;
    }
    if (rc == LOWRANK_OK && !*exact) { /* the top k of the eigenvectors */
        sp->top = lr_calloc((size_t)(sp->r * k), sizeof *sp->top);
        if (!sp->top)
            rc = LOWRANK_ENOMEM;
        else if (s < r) /* the coordinates are those eigenvectors, largest first */
            for (int64_t a = 0; a < k; a++)
                sp->top[a + a * s] = 1;
        else
            rc = times_top(NULL, r, r, h, k, sp->top);
    }
    free(h);
    return rc;
}

/* ------------------------------------------------------------ sketched */

/* out = P in (which 'N': n x cols from d x cols) or P^T in ('T': d x cols
 * from n x cols), in the points' dtype, on their storage. */
static int view_times(const lr_points *pts, char which, int64_t cols, const void *in, void *out)
{
    lr_view v = pts->v;
    int64_t n = pts->n, d = pts->d;
    char op = (which == 'N') == !v.trans ? 'N' : 'T'; /* the storage is P or P^T */
    return which == 'N' ? lr_gemm(v.t, op, 'N', n, cols, d, 1.0, v.data, v.ld, in, d, 0.0, out, n)
                        : lr_gemm(v.t, op, 'N', d, cols, n, 1.0, v.data, v.ld, in, n, 0.0, out, d);
}

/* Columns c0 .. c0 + cols - 1 of the rows x ? block x (dtype t, leading
 * dimension rows), each row i times s[i]. */
static void scale_rows(lowrank_dtype t, void *x, int64_t rows, int64_t c0, int64_t cols,
                       const double *s)
{
    for (int64_t j = c0; j < c0 + cols; j++)
        for (int64_t i = 0; i < rows; i++) {
            if (t == LOWRANK_FLOAT32)
                ((float *)x)[i + j * rows] *= (float)s[i];
            else
                ((double *)x)[i + j * rows] *= s[i];
        }
}

/* Orthonormal bases of the column blocks [0, r1) and [r1, r1 + r2) of the
 * rows x (r1 + r2) x, each on its own. */
static int orthonormalise(lowrank_dtype t, void *x, int64_t rows, int64_t r1, int64_t r2)
{
    size_t e = lr_dtype_size(t);
    int rc = lr_qr(t, rows, r1, x, rows, NULL, r1);
    if (rc == LOWRANK_OK && r2 > 0)
        rc = lr_qr(t, rows, r2, (char *)x + (size_t)(rows * r1) * e, rows, NULL, r2);
    return rc;
}

/* Element q of stored column (or row) o of the points' storage. */
static double stored(lr_view v, int64_t q, int64_t o)
{
    size_t at = (size_t)(q + o * v.ld);
    return v.t == LOWRANK_FLOAT32 ? (double)((const float *)v.data)[at]
                                  : ((const double *)v.data)[at];
}

/* The spherical scales 1 / max(||p_i||, floor) up to a common factor,
 * floor = 1e-10 times the largest norm (all 1 for the zero matrix), into s:
 * the rows of D P are the points projected onto a sphere.  The norms are
 * formed from the points divided by their largest element, so that no
 * square leaves the range of double (a norm that underflows is below the
 * floor); the loops follow the storage. */
static void spherical_scales(const lr_points *pts, double *s)
{
    lr_view v = pts->v;
    int64_t n = pts->n, d = pts->d, outer = v.trans ? n : d, inner = v.trans ? d : n;
    double big = 0, top = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t q = 0; q < inner; q++)
            big = fmax(big, fabs(stored(v, q, o)));
    double inv = big > 0 ? fmin(1 / big, DBL_MAX) : 0;
    memset(s, 0, (size_t)n * sizeof *s);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t q = 0; q < inner; q++) {
            double x = inv * stored(v, q, o);
            s[v.trans ? o : q] += x * x;
        }
    for (int64_t i = 0; i < n; i++)
        top = fmax(top, s[i] = sqrt(s[i]));
    for (int64_t i = 0; i < n; i++)
        s[i] = top > 0 ? 1 / fmax(s[i], 1e-10 * top) : 1;
}

/* q (d x (r1 + r2), double, orthonormal columns) spanning the top r1 right
 * singular directions of P and the top r2 of D P (the points on the unit
 * sphere), by randomized subspace iteration with SKETCH_POWER steps on
 * each, in the points' dtype on their storage (each block orthonormalised
 * after every product, so that no product squares the data's scale). */
static int top_directions(const lr_points *pts, int64_t r1, int64_t r2, uint64_t seed,
                          const lr_share *share, double *q)
{
    lowrank_dtype t = pts->v.t;
    int64_t n = pts->n, d = pts->d, l = r1 + r2;
    size_t e = lr_dtype_size(t);
    double *s = lr_malloc((size_t)n, sizeof *s);
    void *z = s ? lr_malloc((size_t)(n * l), e) : NULL,
         *y = z ? lr_malloc((size_t)(d * l), e) : NULL;
    int rc = y ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        lr_rng rng;
        lr_rng_seed(&rng, seed);
        lr_rng_fill_normal(&rng, t, z, n * l);
        spherical_scales(pts, s);
        scale_rows(t, z, n, r1, r2, s);
        rc = view_times(pts, 'T', l, z, y);
    }
    for (int it = 0; rc == LOWRANK_OK && it < SKETCH_POWER; it++) {
        rc = lr_share_report(share, (double)it / SKETCH_POWER);
        if (rc == LOWRANK_OK)
            rc = orthonormalise(t, y, d, r1, r2);
        if (rc == LOWRANK_OK)
            rc = view_times(pts, 'N', l, y, z);
        scale_rows(t, z, n, r1, r2, s);
        if (rc == LOWRANK_OK)
            rc = orthonormalise(t, z, n, r1, r2);
        scale_rows(t, z, n, r1, r2, s);
        if (rc == LOWRANK_OK)
            rc = view_times(pts, 'T', l, z, y);
    }
    lr_view yv = {t, y, d, 0};
    if (rc == LOWRANK_OK)
        lr_view_load_rows(yv, NULL, d, l, q);
    if (rc == LOWRANK_OK)
        rc = lr_qr(F64, d, l, q, d, NULL, l);
    free(y);
    free(z);
    free(s);
    return rc;
}

int lr_space_sketch(const lr_points *pts, int64_t r1, int64_t r2, int64_t cap, uint64_t seed,
                    const lr_share *share, lr_space *sp)
{
    int64_t n = pts->n, d = pts->d, r = r1 + r2;
    *sp = (lr_space){n, d, r, cap, NULL, NULL, NULL, NULL};
    sp->q = lr_malloc((size_t)(d * cap), sizeof(double));
    sp->b = sp->q ? lr_malloc((size_t)(n * cap), sizeof(double)) : NULL;
    sp->e = sp->b ? lr_malloc((size_t)n, sizeof(double)) : NULL;
    lr_chunker ch = {0, NULL, NULL, NULL};
    lr_share directions = lr_share_part(share, 0, SKETCH_POWER / (SKETCH_POWER + 1.0));
    int rc = sp->e ? lr_chunker_alloc(pts, r, share, &ch) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = top_directions(pts, r1, r2, seed, &directions, sp->q);
    if (rc == LOWRANK_OK)
        rc = lr_points_project(pts, sp->q, r, &ch, sp->b, sp->e);
    free(ch.x);
    if (rc != LOWRANK_OK)
        lr_space_free(sp);
    return rc;
}

/* ------------------------------------------------------------ growing */

/* Restart to span(Q w): Q <- Q w, B <- B w, e_i <- the distance of p_i to
 * span(Q w), w <- the identity.  Needs n k + d k doubles of scratch. */
static int restart(lr_space *sp, int64_t k, double *w, double *scratch)
{
    int64_t n = sp->n, d = sp->d, r = sp->r;
    double *bw = scratch, *qw = scratch + n * k;
    int rc = lr_gemm(F64, 'N', 'N', n, k, r, 1.0, sp->b, n, w, r, 0.0, bw, n);
    if (rc == LOWRANK_OK)
        rc = lr_gemm(F64, 'N', 'N', d, k, r, 1.0, sp->q, d, w, r, 0.0, qw, d);
    if (rc != LOWRANK_OK)
        return rc;
    /* the part of b_i outside span w, formed from the residual, joins e_i */
    for (int64_t i = 0; i < n; i++) {
        double out = 0;
        for (int64_t j = 0; j < r; j++) {
            double t = sp->b[i + j * n];
            for (int64_t a = 0; a < k; a++)
                t -= w[j + a * r] * bw[i + a * n];
            out += t * t;
        }
        sp->e[i] = sqrt(sp->e[i] * sp->e[i] + out);
    }
    memcpy(sp->b, bw, (size_t)(n * k) * sizeof *bw);
    memcpy(sp->q, qw, (size_t)(d * k) * sizeof *qw);
    memset(w, 0, (size_t)(k * k) * sizeof *w);
    for (int64_t a = 0; a < k; a++)
        w[a + a * k] = 1;
    sp->r = k;
    return LOWRANK_OK;
}

/* g (d x k) = P^T y, one pass over the points. */
static int gradient(const lr_points *pts, const double *y, int64_t k, const lr_chunker *ch,
                    double *g)
{
    int64_t n = pts->n, d = pts->d;
    int rc = LOWRANK_OK;
    memset(g, 0, (size_t)(d * k) * sizeof *g);
    for (int64_t i0 = 0; i0 < n && rc == LOWRANK_OK; i0 += ch->step) {
        int64_t c;
        rc = lr_chunk_load(pts, ch, i0, &c);
        if (rc == LOWRANK_OK)
            rc = lr_gemm(F64, 'T', 'N', d, k, c, 1.0, ch->x, c, y + i0, n, 1.0, g, d);
    }
    return rc;
}

static double norm2(int64_t d, const double *x)
{
    double s = 0;
    for (int64_t i = 0; i < d; i++)
        s += x[i] * x[i];
    return sqrt(s);
}

/* The columns of g with a part outside span Q above NEW_DIRECTION_TOL of
 * their norm, orthonormalised against Q and each other (classical
 * Gram-Schmidt, twice) and appended to Q while there is room; *added gets
 * how many.  c: cap doubles of scratch. */
static int append_directions(lr_space *sp, double *g, int64_t k, double *c, int64_t *added)
{
    int64_t d = sp->d, r0 = sp->r;
    int rc = LOWRANK_OK;
    for (int64_t a = 0; a < k && sp->r < sp->cap && rc == LOWRANK_OK; a++) {
        double *x = g + a * d, norm = norm2(d, x);
        for (int pass = 0; pass < 2 && rc == LOWRANK_OK; pass++) {
            rc = lr_gemv(F64, 'T', d, sp->r, 1.0, sp->q, d, x, 1, 0.0, c, 1);
            if (rc == LOWRANK_OK)
                rc = lr_gemv(F64, 'N', d, sp->r, -1.0, sp->q, d, c, 1, 1.0, x, 1);
        }
        double rest = norm2(d, x);
        if (rc != LOWRANK_OK || !(rest > NEW_DIRECTION_TOL * norm))
            continue;
        double *qn = sp->q + sp->r * d;
        for (int64_t i = 0; i < d; i++)
            qn[i] = x[i] / rest;
        sp->r++;
    }
    *added = sp->r - r0;
    return rc;
}

/* The coordinates of the points along the columns r0 .. r - 1 of Q, and
 * e_i updated; points whose e_i would lose too many digits to cancellation
 * get it from their own residual. */
static int new_coordinates(const lr_points *pts, lr_space *sp, int64_t r0, const lr_chunker *ch)
{
    int64_t n = sp->n, d = sp->d, add = sp->r - r0;
    const double *qn = sp->q + r0 * d;
    int rc = LOWRANK_OK;
    for (int64_t i0 = 0; i0 < n && rc == LOWRANK_OK; i0 += ch->step) {
        int64_t c;
        rc = lr_chunk_load(pts, ch, i0, &c);
        if (rc == LOWRANK_OK)
            rc = lr_gemm(F64, 'N', 'N', c, add, d, 1.0, ch->x, c, qn, d, 0.0, sp->b + i0 + r0 * n,
                         n);
        for (int64_t i = 0; rc == LOWRANK_OK && i < c; i++) {
            double e2 = sp->e[i0 + i] * sp->e[i0 + i], left = e2;
            for (int64_t a = r0; a < sp->r; a++)
                left -= sp->b[i0 + i + a * n] * sp->b[i0 + i + a * n];
            if (left >= CANCELLATION * e2) {
                sp->e[i0 + i] = sqrt(left);
                continue;
            }
            /* the residual of the point against all of Q, from the point */
            double *x = ch->x, out = 0;
            for (int64_t j = 0; j < d; j++) {
                double t = x[i + j * c];
                for (int64_t a = 0; a < sp->r; a++)
                    t -= sp->q[j + a * d] * sp->b[i0 + i + a * n];
                out += t * t;
            }
            sp->e[i0 + i] = sqrt(out);
        }
    }
    return rc;
}

int lr_space_grow(const lr_points *pts, lr_space *sp, const double *y, int64_t k,
                  const lr_share *beat, double *w, int64_t *added)
{
    int64_t n = sp->n, d = sp->d, cap = sp->cap;
    *added = 0;
    lr_chunker ch = {0, NULL, NULL, NULL};
    double *g = lr_malloc((size_t)(d * k + n * k + d * k + cap), sizeof *g);
    int rc = g ? lr_chunker_alloc(pts, k, beat, &ch) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK && sp->r + k > cap)
        rc = restart(sp, k, w, g + d * k);
    if (rc == LOWRANK_OK)
        rc = gradient(pts, y, k, &ch, g);
    int64_t r0 = sp->r;
    if (rc == LOWRANK_OK)
        rc = append_directions(sp, g, k, g + d * k + n * k + d * k, added);
    if (rc == LOWRANK_OK && *added > 0)
        rc = new_coordinates(pts, sp, r0, &ch);
    for (int64_t a = k - 1; rc == LOWRANK_OK && a >= 0; a--) { /* w in the new coordinates */
        memmove(w + a * sp->r, w + a * r0, (size_t)r0 * sizeof *w);
        memset(w + a * sp->r + r0, 0, (size_t)(sp->r - r0) * sizeof *w);
    }
    free(ch.x);
    free(g);
    return rc;
}
