/*
 * svd_operator.c - the exact method's operator route (lowrank_svd_op on a
 * sparse or callback operator, lib/svd_exact.c): thick-restart block
 * Lanczos on G = M^T M through products with M, in double, then the
 * triplets and their computed residual.  docs/operators.md has the
 * measurements behind the values.
 *
 * The basis V holds at most `cap` columns.  Each step multiplies its
 * newest block by G (lr_svd_gram: two products, or one fused pass) and
 * orthonormalises the result against the whole basis, twice (classical
 * Gram-Schmidt, BLAS-3, then Householder QR of the block): the
 * coefficients fill the projected matrix T = V^T G V column block by
 * column block, so that nothing assumes the Lanczos recurrence's
 * structure, and after a restart the kept Ritz vectors' coupling to the
 * residual block (an arrowhead) is simply computed.  When the basis is full
 * it restarts on its `keep` leading Ritz vectors and the residual block
 * (Wu and Simon's thick restart; Stathopoulos and Saad's TRLan): memory
 * stays n x cap, however hard the spectrum.  A Ritz pair (theta, V z) from
 * the columns whose T is known has the residual G V z - theta V z =
 * Q_new R z_last (R the last QR's triangle, z_last the rows of z on the
 * last complete block): its norm comes free, and it predicts the
 * triplet's residual as ||R z_last|| / sqrt(theta).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "random.h"
#include "svd.h"

enum {
    MAX_BLOCK = 4,     /* blocks of at most 4 vectors (multiplicities up to the block's */
                       /* width are found by construction), as wide as BLOCK_BYTES allow */
    CAP_PER_K = 8,     /* the basis's default cap: this many columns per value asked for, */
    CAP_MIN = 64,      /* and at least this many */
    STEPS_PER_CAP = 50 /* blocks multiplied, at most, per column of the cap */
};
#define START_SEED 20261128 /* a fixed start: the exact method is deterministic */
/* A block of vectors on the small side must stay in a core's cache: a
 * sparse product reads its rows at random, one per entry, and a block that
 * fills the cache costs more per vector than single vectors do, besides
 * the extra products a block method needs.  On the 200,000 x 50,000 matrix
 * of bench/sparse_svd.py, single vectors (400 KB) took the least CPU time,
 * blocks of 2 (800 KB) about 15% more, blocks of 4 (1.6 MB, beyond the
 * machine's 1.25 MB of L2) more still (docs/operators.md). */
#define BLOCK_BYTES (512u << 10)

/* The block's width: 4, 2 or 1, the widest whose n doubles per vector fit in
 * BLOCK_BYTES (4 up to n = 16,384, 2 up to 32,768). */
static int64_t block_width(const problem *p)
{
    int64_t b = MAX_BLOCK;
    while (b > 1 && p->n * b * (int64_t)sizeof(double) > (int64_t)BLOCK_BYTES)
        b /= 2;
    return b;
}

typedef struct trl {
    int64_t n, b, cap;
    int64_t cols; /* columns of V: the known ones and the newest block */
    double *v;    /* n x (cap + b) */
    double *t;    /* cap x cap: V^T G V on the known columns, both triangles */
    double *r;    /* b x b: the newest block's triangle (its coupling to the last) */
    double *h;    /* (cap + b) x b: coefficients */
    double *w;    /* n x b: G times the newest block, orthonormalised into the next */
    double *z, *theta; /* Rayleigh-Ritz: eigenvectors (cap x cap), values ascending */
    double *e;    /* b x cap: R z_last for every Ritz pair */
    void *gs;     /* lr_svd_gram's scratch */
} trl;

static void trl_free(trl *s)
{
    void *buf[] = {s->v, s->t, s->r, s->h, s->w, s->z, s->theta, s->e, s->gs};
    for (size_t i = 0; i < sizeof buf / sizeof buf[0]; i++)
        free(buf[i]);
}

static int trl_alloc(const problem *p, int64_t cap, trl *s)
{
    int64_t n = p->n, b = block_width(p);
    *s = (trl){.n = n, .b = b, .cap = cap};
    s->v = lr_malloc((size_t)(n * (cap + b)), sizeof(double));
    s->t = lr_calloc((size_t)(cap * cap), sizeof(double));
    s->r = lr_malloc((size_t)(b * b), sizeof(double));
    s->h = lr_malloc((size_t)((cap + b) * b), sizeof(double));
    s->w = lr_malloc((size_t)(n * b), sizeof(double));
    s->z = lr_malloc((size_t)(cap * cap), sizeof(double));
    s->theta = lr_malloc((size_t)cap, sizeof(double));
    s->e = lr_malloc((size_t)(b * cap), sizeof(double));
    s->gs = scratch(LOWRANK_FLOAT64, lr_svd_gram_scratch(p, LOWRANK_FLOAT64, b));
    return s->v && s->t && s->r && s->h && s->w && s->z && s->theta && s->e && s->gs
               ? LOWRANK_OK
               : LOWRANK_ENOMEM;
}

/* w (n x b) orthonormalised against the first cols columns of V, twice,
 * then within itself by Householder QR: w = V hsum + Q r, w overwritten by
 * Q.  When w lies (numerically) inside span(V) the space has stopped
 * growing: Q is then taken from a random block, r = 0. */
static int orthonormalise_block(trl *s, int64_t cols, lr_rng *rng)
{
    int64_t n = s->n, b = s->b;
    double before = lr_svd_sum_sq(LOWRANK_FLOAT64, s->w, n * b);
    double *sum = s->h + (s->cap + b) * 0; /* hsum accumulates in h, pass by pass */
    double *tmp = lr_malloc((size_t)((cols > 0 ? cols : 1) * b), sizeof *tmp);
    int rc = tmp ? LOWRANK_OK : LOWRANK_ENOMEM;
    memset(sum, 0, (size_t)((s->cap + b) * b) * sizeof *sum);
    for (int pass = 0; rc == LOWRANK_OK && cols > 0 && pass < 2; pass++) {
        rc = lr_gemm(LOWRANK_FLOAT64, 'T', 'N', cols, b, n, 1.0, s->v, n, s->w, n, 0.0, tmp,
                     cols);
        if (rc == LOWRANK_OK)
            rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', n, b, cols, -1.0, s->v, n, tmp, cols, 1.0,
                         s->w, n);
        for (int64_t j = 0; rc == LOWRANK_OK && j < b; j++)
            for (int64_t i = 0; i < cols; i++)
                sum[i + j * (s->cap + b)] += tmp[i + j * cols];
    }
    free(tmp);
    double after = rc == LOWRANK_OK ? lr_svd_sum_sq(LOWRANK_FLOAT64, s->w, n * b) : 0;
    if (rc == LOWRANK_OK)
        rc = lr_qr(LOWRANK_FLOAT64, n, b, s->w, n, s->r, b);
    if (rc == LOWRANK_OK && !(after > 1e-24 * before)) { /* an invariant subspace */
        memset(s->r, 0, (size_t)(b * b) * sizeof *s->r);
        lr_rng_fill_normal(rng, LOWRANK_FLOAT64, s->w, n * b);
        for (int pass = 0; rc == LOWRANK_OK && pass < 2; pass++) {
            double *c = lr_malloc((size_t)((cols > 0 ? cols : 1) * b), sizeof *c);
            rc = c ? lr_gemm(LOWRANK_FLOAT64, 'T', 'N', cols, b, n, 1.0, s->v, n, s->w, n, 0.0,
                             c, cols)
                   : LOWRANK_ENOMEM;
            if (rc == LOWRANK_OK)
                rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', n, b, cols, -1.0, s->v, n, c, cols, 1.0,
                             s->w, n);
            free(c);
        }
        double *junk = rc == LOWRANK_OK ? lr_malloc((size_t)(b * b), sizeof *junk) : NULL;
        if (rc == LOWRANK_OK && !junk)
            rc = LOWRANK_ENOMEM;
        if (rc == LOWRANK_OK)
            rc = lr_qr(LOWRANK_FLOAT64, n, b, s->w, n, junk, b);
        free(junk);
    }
    return rc;
}

/* One step: W = G V_last, its coefficients into T's column block (and
 * row block) of the last block, the orthonormal rest appended as the
 * newest block. */
static int trl_extend(const problem *p, trl *s, lr_rng *rng)
{
    int64_t n = s->n, b = s->b, last = s->cols - b, ldh = s->cap + b;
    int rc = lr_svd_gram(p, LOWRANK_FLOAT64, b, s->v + last * n, s->w, s->gs);
    if (rc == LOWRANK_OK)
        rc = orthonormalise_block(s, s->cols, rng);
    if (rc != LOWRANK_OK)
        return rc;
    for (int64_t j = 0; j < b; j++) /* T's column and row blocks of the last block */
        for (int64_t i = 0; i < s->cols; i++) {
            double v = s->h[i + j * ldh];
            if (i >= last) /* the diagonal block, symmetrised */
                v = 0.5 * (v + s->h[(last + j) + (i - last) * ldh]);
            s->t[i + (last + j) * s->cap] = v;
            s->t[(last + j) + i * s->cap] = v;
        }
    memcpy(s->v + s->cols * n, s->w, (size_t)(n * b) * sizeof *s->w);
    s->cols += b;
    return LOWRANK_OK;
}

/* Rayleigh-Ritz on the L = cols - b known columns: theta ascending, z, and
 * e = R z_last for every pair; returns the predicted rho of the k leading
 * triplets (lowrank_svd_op: sqrt(sum ||e_i||^2 / theta_i / 2)). */
static int trl_ritz(trl *s, int64_t k, double *rho)
{
    int64_t L = s->cols - s->b, b = s->b;
    for (int64_t j = 0; j < L; j++)
        memcpy(s->z + j * L, s->t + j * s->cap, (size_t)L * sizeof *s->z);
    int rc = lr_syevd(LOWRANK_FLOAT64, L, s->z, L, s->theta);
    if (rc == LOWRANK_OK) /* e = R (last b rows of z) */
        rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', b, L, b, 1.0, s->r, b, s->z + (L - b), L, 0.0,
                     s->e, b);
    double norm2 = 0;
    for (int64_t i = L - k; rc == LOWRANK_OK && i < L; i++) {
        double r2 = 0;
        for (int64_t q = 0; q < b; q++)
            r2 += s->e[q + i * b] * s->e[q + i * b];
        norm2 += s->theta[i] > 0 ? r2 / s->theta[i] : INFINITY;
    }
    *rho = sqrt(norm2 / 2);
    return rc;
}

/* Restart on the keep leading Ritz vectors and the newest block: V =
 * [V_L z_keep, Q_new], T = diag(theta_keep) there (its coupling to Q_new
 * comes with the next step's coefficients). */
static int trl_restart(trl *s, int64_t keep)
{
    int64_t n = s->n, b = s->b, L = s->cols - b;
    double *y = lr_malloc((size_t)(n * keep), sizeof *y);
    if (!y)
        return LOWRANK_ENOMEM;
    int rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', n, keep, L, 1.0, s->v, n, s->z + (L - keep) * L,
                     L, 0.0, y, n);
    if (rc == LOWRANK_OK) {
        memcpy(s->v, y, (size_t)(n * keep) * sizeof *y);
        memmove(s->v + keep * n, s->v + L * n, (size_t)(n * b) * sizeof *s->v);
        memset(s->t, 0, (size_t)(s->cap * s->cap) * sizeof *s->t);
        for (int64_t i = 0; i < keep; i++)
            s->t[i + i * s->cap] = s->theta[L - keep + i];
        s->cols = keep + b;
    }
    free(y);
    return rc;
}

/* The cap on the basis: LOWRANK_OPT_MAX_ITER, or max(8 k, 64); at most
 * n / 2 (a space near n columns is the Gram routes' to handle). */
int64_t lr_svd_operator_cap(const problem *p, int64_t k)
{
    int64_t cap = p->max_cols > 0 ? p->max_cols : CAP_PER_K * k > CAP_MIN ? CAP_PER_K * k : CAP_MIN;
    cap = cap < p->n / 2 ? cap : p->n / 2;
    return cap / block_width(p) * block_width(p);
}

int lr_svd_operator_usable(const problem *p, int64_t k)
{
    return k > 0 && lr_svd_operator_cap(p, k) >= k + 3 * block_width(p);
}

/* Lanczos until the prediction meets rel sigma_1, or the steps run out;
 * the Ritz state is left in s. */
static int trl_run(const problem *p, trl *s, int64_t k, double rel)
{
    lr_rng rng;
    lr_rng_seed(&rng, START_SEED);
    int64_t b = s->b, steps = STEPS_PER_CAP * s->cap / b, keep = k + (s->cap - k) / 2;
    double rho = INFINITY, first = 0;
    lr_rng_fill_normal(&rng, LOWRANK_FLOAT64, s->w, s->n * b);
    int rc = orthonormalise_block(s, 0, &rng);
    if (rc == LOWRANK_OK) {
        memcpy(s->v, s->w, (size_t)(s->n * b) * sizeof *s->w);
        s->cols = b;
    }
    for (int64_t step = 0; rc == LOWRANK_OK && step < steps; step++) {
        rc = trl_extend(p, s, &rng);
        if (rc != LOWRANK_OK || s->cols - b < k + b)
            continue;
        if ((rc = trl_ritz(s, k, &rho)) != LOWRANK_OK)
            break;
        double needed = rel * sqrt(fmax(s->theta[s->cols - b - 1], 0.0));
        if (rho <= needed)
            break;
        first = first > 0 ? first : rho; /* progress: the share of log(rho) covered */
        rc = lr_progress_report(p->progress, log(first / rho) / log(first / needed));
        if (rc == LOWRANK_OK && s->cols + b > s->cap + b)
            rc = trl_restart(s, keep);
    }
    return rc;
}

int lr_svd_operator_route(const problem *p, int64_t k, result *r, int *ok)
{
    trl s;
    void *vk = NULL, *c = NULL, *res = NULL;
    double norm2 = 0;
    *ok = 0;
    int rc = trl_alloc(p, lr_svd_operator_cap(p, k), &s);
    if (rc == LOWRANK_OK)
        rc = trl_run(p, &s, k, sqrt((double)p->m) * roundoff(p->t));
    /* the prediction meets its target, or stalled within a factor sqrt(m) of
     * it, which may still certify at max(m, n) u sigma_1 */
    int64_t L = s.cols - s.b;
    if (rc == LOWRANK_OK && L >= k)
        rc = lr_svd_result_alloc_with_basis(p, k, r, &vk, &c);
    double *wk = rc == LOWRANK_OK && L >= k ? lr_malloc((size_t)(L * k), sizeof *wk) : NULL;
    double *vd = wk && p->t != LOWRANK_FLOAT64 ? lr_malloc((size_t)(p->n * k), sizeof *vd) : vk;
    if (rc == LOWRANK_OK && L >= k && (!wk || !vd))
        rc = LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK && wk) { /* V_k: the k leading Ritz vectors, descending */
        lr_svd_copy_columns(LOWRANK_FLOAT64, s.z + (L - k) * L, L, LOWRANK_FLOAT64, wk, L, L, k,
                            1);
        rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', p->n, k, L, 1.0, s.v, p->n, wk, L, 0.0, vd, p->n);
        if (rc == LOWRANK_OK && vd != vk)
            lr_svd_copy_columns(LOWRANK_FLOAT64, vd, p->n, p->t, vk, p->n, p->n, k, 0);
    }
    if (rc == LOWRANK_OK && wk)
        rc = lr_svd_apply(p, k, vk, p->n, c, p->m);
    if (rc == LOWRANK_OK && wk)
        rc = lr_svd_project_onto(p, vk, c, r);
    if (rc == LOWRANK_OK && wk && !(res = scratch(p->t, p->n * k)))
        rc = LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK && wk)
        rc = lr_svd_residual(p, r, res, &norm2);
    *ok = rc == LOWRANK_OK && wk && sqrt(norm2 / 2) <= lr_svd_certified_tolerance(p, r);
    if (*ok)
        r->error = lr_svd_projection_error(p, lr_svd_sum_sq(LOWRANK_FLOAT64, r->sigma, k));
    else
        lr_svd_result_free(r);
    if (vd != vk)
        free(vd);
    free(wk);
    free(vk);
    free(c);
    free(res);
    trl_free(&s);
    return rc;
}
