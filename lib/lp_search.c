/*
 * lp_search.c - the k-dimensional subspace of the rows objective,
 * sum_i dist(p_i, S)^p (lr_lp_fit_rows, lp.h; docs/lp.md section 3).
 *
 * The objective is not convex, and iteratively reweighted least squares
 * (IRLS: Lerman and Maunu's fast median subspace for p = 1) converges to a
 * stationary point near its start.  From the SVD's subspace, when outliers
 * hold more energy along their own directions than the inliers hold along
 * theirs, that is a point near the outliers.  So the fit starts from
 * several subspaces, not all from the SVD:
 *
 *   - the construction of Tukan, Maalouf, Weksler and Feldman (2021): the
 *     top k axes of the ellipsoid rounding the points' lp ball;
 *   - the SVD's subspace;
 *   - the spherical start: the PCA of the points projected onto the unit
 *     sphere (Locantore et al. 1999), in which every point has the same say
 *     whatever its size;
 *   - LOWRANK_OPT_STARTS subspaces spanned by k points drawn at random (the
 *     RANSAC idea: with a fraction eps of outliers, k points are all inliers
 *     with probability (1 - eps)^k).
 *
 * Each start is scored on a sample of the points after a few IRLS steps (the
 * random ones only when their trimmed cost, over the half of the sample
 * nearest them, is among the lowest); the best, and any other the sample
 * cannot tell from it, is refined on the sample and then on all points,
 * and the result is never above the cost of the construction or of the
 * SVD's subspace.
 *
 * The fit runs in coordinates of a subspace of R^d (lp_space.c): the
 * points' own span when that is small, else a randomized sketch of their
 * top singular directions, grown after each refinement by the directions of
 * the next IRLS step's weighted least-squares gradient P^T W P V outside it,
 * until a step adds nothing or lowers the cost by less than the tolerance:
 * the fit then reaches a fixed point of IRLS in all of R^d at O(nnz k) per
 * growth and O(n r^2) per IRLS step in the r dimensions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "lp.h"
#include "random.h"

/* IRLS distances are floored at this times the largest point's norm, so
 * that a point on the subspace gets a large but finite weight. */
#define DIST_FLOOR 1e-10
/* The screening sample: at least this many points, and this many per
 * dimension of the coordinates. */
#define SCREEN_ROWS 2000
#define SCREEN_ROWS_PER_DIM 20
/* IRLS steps each start gets on the sample, and how many of the random
 * starts (those of lowest trimmed cost) get them. */
#define SCREEN_STEPS 5
#define SCREEN_RANDOM 3
/* Starts screened whose cost on the sample is within this many standard
 * errors of the best's are refined on all points too, up to this many in
 * all: the sample cannot tell them apart. */
#define FINALIST_SIGMAS 3
#define MAX_FINALISTS 3
/* Subspaces whose squared sines of principal angles add up to less than
 * this (one angle of 6 degrees) count as one for the finalists. */
#define DISTINCT 1e-2
/* The sketch: 2k + SKETCH_EXTRA directions, used when the points span at
 * least SKETCH_GAIN times that many; room for SKETCH_ROOM times as many
 * before the grown space restarts. */
#define SKETCH_EXTRA 16
#define SKETCH_GAIN 4
#define SKETCH_ROOM 2
/* Growths of the sketched coordinates, at most. */
#define MAX_GROWTHS 50

static const lowrank_dtype F64 = LOWRANK_FLOAT64;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* ------------------------------------------------------------ IRLS */

/* A fit in the coordinates sp and its scratch, sized for sp's n and cap;
 * its IRLS steps report done / budget of share. */
typedef struct fitter {
    const lr_space *sp;
    int64_t k;
    double p, floor;
    double *base; /* the one allocation behind the rest */
    double *dist, *next, *scaled, *h, *ev, *w;
    lr_chunker ch;
    lr_share share;
    int64_t done, budget;
} fitter;

static void fitter_free(fitter *f)
{
    free(f->base);
    free(f->ch.x);
    f->base = f->ch.x = NULL;
}

/* The fitter reports to share, whose life must span its own. */
static int fitter_alloc(const lr_space *sp, int64_t k, double p, double floor,
                        const lr_share *share, fitter *f)
{
    int64_t n = sp->n, cap = sp->cap;
    *f = (fitter){.sp = sp, .k = k, .p = p, .floor = floor, .share = *share};
    f->base = lr_malloc((size_t)(2 * n + n * cap + cap * cap + cap + cap * k), sizeof(double));
    lr_points bp = {{F64, sp->b, n, 0}, n, cap};
    int rc = f->base ? lr_chunker_alloc(&bp, k, share, &f->ch) : LOWRANK_ENOMEM;
    if (rc != LOWRANK_OK) {
        fitter_free(f);
        return rc;
    }
    f->dist = f->base;
    f->next = f->dist + n;
    f->scaled = f->next + n;
    f->h = f->scaled + n * cap;
    f->ev = f->h + cap * cap;
    f->w = f->ev + cap;
    return LOWRANK_OK;
}

/* dist_i = the distance of point i to span(Q w), w r x k. */
static int distances(const fitter *f, const double *w, double *dist)
{
    const lr_space *sp = f->sp;
    lr_points bp = {{F64, sp->b, sp->n, 0}, sp->n, sp->r};
    int rc = lr_points_project(&bp, w, f->k, &f->ch, NULL, dist);
    for (int64_t i = 0; rc == LOWRANK_OK && sp->e && i < sp->n; i++)
        dist[i] = hypot(dist[i], sp->e[i]);
    return rc;
}

/* The k eigenvectors of the r x r symmetric h (destroyed; lower triangle)
 * with the largest eigenvalues, into w (r x k); ev: r doubles. */
static int top_eigenvectors(int64_t r, double *h, int64_t k, double *ev, double *w)
{
    return lr_syevr(F64, r, h, r, r - k + 1, r, ev, w, r);
}

/* The weighted PCA of the coordinates: w (r x k) = the top k eigenvectors
 * of sum_i s_i^2 b_i b_i^T. */
static int weighted_pca(fitter *f, const double *s, double *w)
{
    const lr_space *sp = f->sp;
    int64_t n = sp->n, r = sp->r;
    for (int64_t j = 0; j < r; j++)
        for (int64_t i = 0; i < n; i++)
            f->scaled[i + j * n] = (s ? s[i] : 1.0) * sp->b[i + j * n];
    int rc = lr_syrk(F64, 'L', 'T', r, n, 1.0, f->scaled, n, 0.0, f->h, r);
    return rc == LOWRANK_OK ? top_eigenvectors(r, f->h, f->k, f->ev, w) : rc;
}

/* The square roots of the IRLS weights max(dist_i, floor)^(p - 2) into s. */
static void root_weights(const fitter *f, const double *dist, double *s)
{
    for (int64_t i = 0; i < f->sp->n; i++)
        s[i] = pow(fmax(dist[i], f->floor), 0.5 * (f->p - 2));
}

/* IRLS for sum_i dist(p_i, span Q w)^p, p <= 2, from w (r x k, in and
 * out): each step replaces w by the top k eigenvectors of
 * sum_i v_i b_i b_i^T with v_i = max(dist_i, floor)^(p-2).  That minimises
 * sum_i v_i dist(p_i, S)^2 over the subspaces S of span Q (the e_i^2 do not
 * depend on S), a majoriser of the floored objective touching it at w
 * (t^(p/2) is concave), so the floored objective never increases.  A step
 * is kept only when it lowers the true cost; the loop stops at the first
 * that does not, when one lowers it by tol times itself or less, or after
 * iters.  *cost gets the cost of w; f->dist its distances.  Every step
 * counts towards f->budget in the progress reports. */
static int refine(fitter *f, int64_t iters, double tol, double *w, double *cost)
{
    int64_t r = f->sp->r, k = f->k, n = f->sp->n;
    int rc = distances(f, w, f->dist);
    double c = rc == LOWRANK_OK ? lr_rows_cost(f->dist, n, f->p) : 0;
    for (int64_t step = 0; rc == LOWRANK_OK && step < iters && c > 0; step++) {
        root_weights(f, f->dist, f->next);
        rc = lr_share_report(&f->share, (double)f->done++ / (double)f->budget);
        if (rc == LOWRANK_OK)
            rc = weighted_pca(f, f->next, f->w);
        if (rc == LOWRANK_OK)
            rc = distances(f, f->w, f->next);
        double next = rc == LOWRANK_OK ? lr_rows_cost(f->next, n, f->p) : c;
        if (!(next < c))
            break;
        memcpy(w, f->w, (size_t)(r * k) * sizeof *w);
        double *t = f->dist;
        f->dist = f->next;
        f->next = t;
        int small = c - next <= tol * c;
        c = next;
        if (small)
            break;
    }
    *cost = c;
    return rc;
}

/* ------------------------------------------------------------ starts */

/* The construction: the top k eigenvectors of G from the rounding of the
 * coordinates' lp ball, ||G x|| <= ||B x||_p <= alpha ||G x||. */
static int construct(fitter *f, const lr_share *share, double *w)
{
    const lr_space *sp = f->sp;
    lowrank_matrix b = {F64, LOWRANK_COL_MAJOR, sp->n, sp->r, sp->n, sp->b, 0};
    lowrank_matrix *g = NULL;
    lowrank_opts nested;
    double alpha;
    int rc = lowrank_lp_rounding(&b, f->p, lr_share_opts(share, &nested), &g, &alpha);
    if (rc == LOWRANK_OK)
        rc = top_eigenvectors(sp->r, g->data, f->k, f->ev, w);
    lowrank_matrix_free(g);
    return rc;
}

/* The spherical start: the top k eigenvectors of sum_i p_i p_i^T /
 * ||p_i||^2, the PCA of the points projected onto the unit sphere. */
static int spherical(fitter *f, double *w)
{
    const lr_space *sp = f->sp;
    double big = 0;
    for (int64_t i = 0; i < sp->n; i++) {
        double s = 0;
        for (int64_t j = 0; j < sp->r; j++)
            s += sp->b[i + j * sp->n] * sp->b[i + j * sp->n];
        f->next[i] = sqrt(s + (sp->e ? sp->e[i] * sp->e[i] : 0));
        big = fmax(big, f->next[i]);
    }
    for (int64_t i = 0; i < sp->n; i++)
        f->next[i] = 1 / fmax(f->next[i], DIST_FLOOR * big);
    return weighted_pca(f, f->next, w);
}

/* The span of the coordinates of k distinct points drawn at random (rows
 * idx, scratch of n), orthonormalised into w; 0 when they are numerically
 * dependent. */
static int random_span(const lr_space *sp, int64_t k, lr_rng *rng, int64_t *idx, double *rr,
                       double *w, int *ok)
{
    int64_t n = sp->n, r = sp->r;
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    for (int64_t a = 0; a < k; a++) { /* a partial Fisher-Yates shuffle */
        int64_t j = a + (int64_t)(lr_rng_uniform(rng) * (double)(n - a));
        int64_t t = idx[a];
        idx[a] = idx[j];
        idx[j] = t;
        for (int64_t c = 0; c < r; c++)
            w[c + a * r] = sp->b[idx[a] + c * n];
    }
    int rc = lr_qr(F64, r, k, w, r, rr, k);
    double big = 0, small = INFINITY;
    for (int64_t a = 0; rc == LOWRANK_OK && a < k; a++) {
        big = fmax(big, fabs(rr[a + a * k]));
        small = fmin(small, fabs(rr[a + a * k]));
    }
    *ok = rc == LOWRANK_OK && small > 1e-8 * big;
    return rc;
}

/* ------------------------------------------------------------ screening */

/* Selection sampling (Knuth's algorithm S): m of the n rows, in order. */
static void sample_rows(int64_t n, int64_t m, lr_rng *rng, int64_t *idx)
{
    for (int64_t i = 0, got = 0; got < m; i++)
        if ((double)(n - i) * lr_rng_uniform(rng) < (double)(m - got))
            idx[got++] = i;
}

/* The coordinates of rows idx[0 .. m - 1] of sp, with room for sp->r
 * columns (the sample's cap). */
static int subspace_rows(const lr_space *sp, const int64_t *idx, int64_t m, lr_space *out)
{
    int64_t r = sp->r;
    *out = (lr_space){m, sp->d, r, r, NULL, NULL, NULL, NULL};
    out->b = lr_malloc((size_t)(m * r), sizeof(double));
    out->e = out->b && sp->e ? lr_malloc((size_t)m, sizeof(double)) : NULL;
    if (!out->b || (sp->e && !out->e)) {
        lr_space_free(out);
        return LOWRANK_ENOMEM;
    }
    for (int64_t j = 0; j < r; j++)
        for (int64_t i = 0; i < m; i++)
            out->b[i + j * m] = sp->b[idx[i] + j * sp->n];
    for (int64_t i = 0; sp->e && i < m; i++)
        out->e[i] = sp->e[idx[i]];
    return LOWRANK_OK;
}

/* The starts: cnt subspaces of r x k each. */
typedef struct starts {
    int64_t cnt, r, k;
    double *w;
    double *cost; /* on the sample */
} starts;

static double *start_at(const starts *s, int64_t i) { return s->w + i * s->r * s->k; }

/* The deterministic starts: 0 the construction and 1 the SVD's subspace,
 * of all points (f), and 2 the spherical start, of the sample (g). */
enum { START_CONSTRUCTION, START_SVD, START_SPHERICAL, DETERMINISTIC };

static int deterministic_starts(fitter *f, fitter *g, const lr_share *share, starts *s)
{
    int rc = construct(f, share, start_at(s, START_CONSTRUCTION));
    if (rc == LOWRANK_OK && f->sp->top)
        memcpy(start_at(s, START_SVD), f->sp->top, (size_t)(s->r * s->k) * sizeof(double));
    else if (rc == LOWRANK_OK)
        rc = weighted_pca(f, NULL, start_at(s, START_SVD));
    if (rc == LOWRANK_OK)
        rc = spherical(g, start_at(s, START_SPHERICAL));
    return rc;
}

/* The trimmed cost of the distances d (m of them; reordered): the sum of
 * d_i^p over the half of the points nearest the subspace, the least
 * trimmed sum that ranks a subspace by how well it fits a majority of the
 * points (Rousseeuw 1984), whatever the rest do. */
static double trimmed_cost(double *d, int64_t m, double p)
{
    double median = lr_median(d, m), sum = 0;
    int64_t taken = 0;
    for (int64_t i = 0; i < m; i++)
        if (d[i] < median) {
            sum += pow(d[i], p);
            taken++;
        }
    return sum + (double)(m / 2 - taken) * pow(median, p); /* the ties at the median */
}

/* The random starts on the sample g, and their trimmed costs: s->cnt grows
 * by those spanning k dimensions. */
static int random_starts(fitter *g, int64_t want, lr_rng *rng, starts *s)
{
    int64_t m = g->sp->n, k = g->k;
    int64_t *idx = lr_malloc((size_t)m, sizeof *idx);
    double *rr = idx ? lr_malloc((size_t)(k * k), sizeof *rr) : NULL;
    int rc = rr ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t t = 0; rc == LOWRANK_OK && t < want; t++) {
        int ok = 0;
        double *w = start_at(s, s->cnt);
        rc = random_span(g->sp, k, rng, idx, rr, w, &ok);
        if (rc == LOWRANK_OK && ok)
            rc = distances(g, w, g->dist);
        if (rc == LOWRANK_OK && ok)
            s->cost[s->cnt++] = trimmed_cost(g->dist, m, g->p);
    }
    free(rr);
    free(idx);
    return rc;
}

/* SCREEN_STEPS IRLS steps on the sample g from the deterministic starts and
 * the SCREEN_RANDOM random ones of lowest cost before them: those hold
 * their refined subspaces afterwards and s->cost their cost on the sample,
 * the others INFINITY; *best gets the lowest. */
static int screen(fitter *g, double tol, starts *s, int64_t *best)
{
    int64_t order[SCREEN_RANDOM];
    int64_t chosen = 0;
    for (int64_t i = DETERMINISTIC; i < s->cnt; i++) { /* insertion into the best few */
        int64_t at = min64(chosen, SCREEN_RANDOM - 1);
        if (chosen == SCREEN_RANDOM && s->cost[i] >= s->cost[order[at]])
            continue;
        while (at > 0 && s->cost[order[at - 1]] > s->cost[i]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = i;
        chosen = min64(chosen + 1, SCREEN_RANDOM);
    }
    for (int64_t i = DETERMINISTIC; i < s->cnt; i++)
        s->cost[i] = INFINITY;
    int rc = LOWRANK_OK;
    *best = START_CONSTRUCTION;
    for (int64_t t = 0; rc == LOWRANK_OK && t < DETERMINISTIC + chosen; t++) {
        int64_t i = t < DETERMINISTIC ? t : order[t - DETERMINISTIC];
        rc = refine(g, SCREEN_STEPS, tol, start_at(s, i), &s->cost[i]);
        if (rc == LOWRANK_OK && s->cost[i] < s->cost[*best])
            *best = i;
    }
    return rc;
}

/* Whether span Q a and span Q b lie apart: the sum of the squared sines of
 * their principal angles above DISTINCT (a, b: r x k, orthonormal): starts
 * screened into one basin differ by far less; c: k x k. */
static int distinct(const starts *s, const double *a, const double *b, double *c)
{
    int64_t r = s->r, k = s->k;
    if (lr_gemm(F64, 'T', 'N', k, k, r, 1.0, a, r, b, r, 0.0, c, k) != LOWRANK_OK)
        return 1;
    double cos2 = 0;
    for (int64_t i = 0; i < k * k; i++)
        cos2 += c[i] * c[i];
    return (double)k - cos2 > DISTINCT;
}

/* The starts screened on a sample of m of the n points that the sample
 * cannot tell from the best: distinct subspaces whose mean cost per point
 * on the sample is not above the best's by FINALIST_SIGMAS standard errors
 * of the paired difference (with the finite population correction), at
 * most MAX_FINALISTS - 1 of them, into list after best; *count gets how
 * many in all.  With the whole of the points as the sample the scores are
 * exact and best is the only finalist.  scratch: 2 m + k^2 doubles. */
static int finalists(fitter *g, int64_t n, const starts *s, int64_t best, double *scratch,
                     int64_t *list, int64_t *count)
{
    int64_t m = g->sp->n;
    double *base = scratch, *other = scratch + m, *c = other + m;
    list[0] = best;
    *count = 1;
    int rc = m < n ? distances(g, start_at(s, best), base) : LOWRANK_OK;
    for (int64_t i = 0; rc == LOWRANK_OK && m < n && i < s->cnt; i++) {
        if (i == best || !isfinite(s->cost[i]) || *count == MAX_FINALISTS ||
            !distinct(s, start_at(s, i), start_at(s, best), c))
            continue;
        rc = distances(g, start_at(s, i), other);
        double mean = 0, sq = 0;
        for (int64_t j = 0; rc == LOWRANK_OK && j < m; j++) {
            double diff = pow(other[j], g->p) - pow(base[j], g->p);
            mean += diff;
            sq += diff * diff;
        }
        mean /= (double)m;
        double var = fmax(sq / (double)m - mean * mean, 0) * (double)m / (double)(m - 1);
        double se = sqrt(var / (double)m * (1 - (double)m / (double)n));
        if (rc == LOWRANK_OK && mean <= FINALIST_SIGMAS * se)
            list[(*count)++] = i;
    }
    return rc;
}

/* ------------------------------------------------------------ the search */

/* The largest norm of a point. */
static double largest_norm(const lr_space *sp)
{
    double big = 0;
    for (int64_t i = 0; i < sp->n; i++) {
        double s = sp->e ? sp->e[i] * sp->e[i] : 0;
        for (int64_t j = 0; j < sp->r; j++)
            s += sp->b[i + j * sp->n] * sp->b[i + j * sp->n];
        big = fmax(big, s);
    }
    return sqrt(big);
}

/* The lower of the costs of the construction and of the SVD's subspace on
 * all points (their refinement's guarantee), and that subspace into w. */
static int guarantee(fitter *f, const starts *s, double *w, double *cost)
{
    int64_t size = s->r * s->k;
    int rc = LOWRANK_OK;
    *cost = INFINITY;
    for (int64_t i = START_CONSTRUCTION; rc == LOWRANK_OK && i <= START_SVD; i++) {
        rc = distances(f, start_at(s, i), f->dist);
        double c = rc == LOWRANK_OK ? lr_rows_cost(f->dist, f->sp->n, f->p) : INFINITY;
        if (c < *cost) {
            *cost = c;
            memcpy(w, start_at(s, i), (size_t)size * sizeof *w);
        }
    }
    return rc;
}

/* The starts, screened on a sample, the best refined on all points: w
 * (r x k) gets the result, never above the cost of the construction or of
 * the SVD's subspace, and *cost its cost.  The progress: the construction's
 * share, the screening's, then f's own for the refinement. */
static int search(fitter *f, const lr_rows_fit *o, const lr_share *construction,
                  const lr_share *screening, double *w, double *cost)
{
    const lr_space *sp = f->sp;
    int64_t n = sp->n, r = sp->r, k = o->k;
    int64_t m = min64(n, max64(SCREEN_ROWS, SCREEN_ROWS_PER_DIM * r));
    lr_rng rng;
    lr_rng_seed(&rng, o->seed);
    starts s = {DETERMINISTIC, r, k, NULL, NULL};
    s.w = lr_malloc((size_t)((DETERMINISTIC + o->starts) * (r * k + 1)), sizeof(double));
    s.cost = s.w ? s.w + (DETERMINISTIC + o->starts) * r * k : NULL;
    int64_t *idx = s.w ? lr_malloc((size_t)m, sizeof *idx) : NULL;
    lr_space sample = *sp;
    fitter g = *f;
    double floor_cost = INFINITY;
    int rc = idx ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK && m < n) {
        sample_rows(n, m, &rng, idx);
        rc = subspace_rows(sp, idx, m, &sample);
        if (rc == LOWRANK_OK)
            rc = fitter_alloc(&sample, k, o->p, f->floor, screening, &g);
    }
    if (rc == LOWRANK_OK)
        rc = deterministic_starts(f, &g, construction, &s);
    if (rc == LOWRANK_OK) /* w holds the fallback until the end */
        rc = guarantee(f, &s, w, &floor_cost);
    g.share = *screening;
    g.budget = SCREEN_STEPS * (DETERMINISTIC + SCREEN_RANDOM);
    if (rc == LOWRANK_OK)
        rc = random_starts(&g, o->starts, &rng, &s);
    int64_t best = START_CONSTRUCTION, list[MAX_FINALISTS], count = 0;
    if (rc == LOWRANK_OK)
        rc = screen(&g, o->tol, &s, &best);
    if (rc == LOWRANK_OK) /* f's distances as scratch: refine rewrites them */
        rc = finalists(&g, n, &s, best, f->scaled, list, &count);
    f->budget = count * o->iters;
    *cost = floor_cost; /* w holds the fallback, the best of the finalists replaces it */
    for (int64_t t = 0; rc == LOWRANK_OK && t < count; t++) {
        double c; /* to convergence on the sample first, where steps are cheaper */
        if (m < n)
            rc = refine(&g, o->iters, o->tol, start_at(&s, list[t]), &c);
        if (rc == LOWRANK_OK)
            rc = refine(f, o->iters, o->tol, start_at(&s, list[t]), &c);
        if (rc == LOWRANK_OK && c <= *cost) {
            memcpy(w, start_at(&s, list[t]), (size_t)(r * k) * sizeof *w);
            *cost = c;
        }
    }
    if (g.base != f->base)
        fitter_free(&g);
    if (sample.b != sp->b)
        lr_space_free(&sample);
    free(idx);
    free(s.w);
    return rc;
}

/* Grow the sketched coordinates by the gradient of the next IRLS step and
 * refine in them, until a growth adds nothing or lowers the cost by tol
 * times itself or less, within the IRLS steps left of f's budget. */
static int grow_and_refine(const lr_points *pts, lr_space *sp, fitter *f, const lr_rows_fit *o,
                           double *w, double *cost)
{
    int64_t n = sp->n, k = o->k;
    double *y = lr_malloc((size_t)(n * k), sizeof *y);
    int rc = y ? distances(f, w, f->dist) : LOWRANK_ENOMEM;
    for (int growth = 0; rc == LOWRANK_OK && growth < MAX_GROWTHS && f->done < f->budget;
         growth++) {
        /* y = W P V = diag(v) B w, the IRLS weights v of the current fit */
        rc = lr_gemm(F64, 'N', 'N', n, k, sp->r, 1.0, sp->b, n, w, sp->r, 0.0, y, n);
        root_weights(f, f->dist, f->next);
        for (int64_t a = 0; a < k; a++)
            for (int64_t i = 0; i < n; i++)
                y[i + a * n] *= f->next[i] * f->next[i];
        int64_t added = 0;
        if (rc == LOWRANK_OK)
            rc = lr_space_grow(pts, sp, y, k, &f->share, w, &added);
        if (rc != LOWRANK_OK || added == 0)
            break;
        double next;
        rc = refine(f, f->budget - f->done, o->tol, w, &next);
        int small = *cost - next <= o->tol * *cost;
        *cost = fmin(*cost, next);
        if (small)
            break;
    }
    free(y);
    return rc;
}

/* The dimension of the sketch, or 0 for the points' own span. */
static int64_t sketch_dim(const lr_points *pts, const lr_rows_fit *o)
{
    int64_t span = min64(pts->n, pts->d);
    if (o->dim > 0)
        return o->dim < span ? o->dim : 0;
    int64_t r = 2 * o->k + SKETCH_EXTRA;
    return o->dim < 0 && SKETCH_GAIN * r <= span ? r : 0;
}

/* The fit's progress: its coordinates, the construction, the screening, then
 * the refinement's steps. */
#define SHARE_SPACE 0.15
#define SHARE_CONSTRUCTION 0.35
#define SHARE_SCREENING 0.45

int lr_lp_fit_rows(const lr_points *pts, const lr_rows_fit *o, double *v)
{
    int64_t k = o->k, r = sketch_dim(pts, o);
    lr_share space = lr_share_part(&o->share, 0, SHARE_SPACE),
             construction =
                 lr_share_part(&o->share, SHARE_SPACE, o->iters > 0 ? SHARE_CONSTRUCTION : 1),
             screening = lr_share_part(&o->share, SHARE_CONSTRUCTION, SHARE_SCREENING),
             refinement = lr_share_part(&o->share, SHARE_SCREENING, 1);
    lr_space sp;
    int exact = 0;
    int rc = r ? lr_space_sketch(pts, r / 2, r - r / 2,
                                 min64(SKETCH_ROOM * r + 2 * k, min64(pts->n, pts->d)), o->seed,
                                 &space, &sp)
               : lr_space_exact(pts, k, &sp, v, &exact);
    if (rc != LOWRANK_OK || exact) {
        lr_space_free(&sp);
        return rc;
    }
    fitter f;
    rc = fitter_alloc(&sp, k, o->p, DIST_FLOOR * largest_norm(&sp), &refinement, &f);
    f.budget = o->iters;
    double *w = rc == LOWRANK_OK ? lr_malloc((size_t)(sp.cap * k), sizeof *w) : NULL;
    if (rc == LOWRANK_OK && !w)
        rc = LOWRANK_ENOMEM;
    double cost = 0;
    if (rc == LOWRANK_OK && o->iters == 0)
        rc = construct(&f, &construction, w);
    else if (rc == LOWRANK_OK)
        rc = search(&f, o, &construction, &screening, w, &cost);
    if (rc == LOWRANK_OK && sp.e && o->iters > 0)
        rc = grow_and_refine(pts, &sp, &f, o, w, &cost);
    if (rc == LOWRANK_OK && sp.q)
        rc = lr_gemm(F64, 'N', 'N', sp.d, k, sp.r, 1.0, sp.q, sp.d, w, sp.r, 0.0, v, sp.d);
    else if (rc == LOWRANK_OK)
        memcpy(v, w, (size_t)(sp.d * k) * sizeof *v);
    free(w);
    fitter_free(&f);
    lr_space_free(&sp);
    return rc;
}
