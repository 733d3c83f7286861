/*
 * svd_exact.c - the exact method of lowrank_svd (lib/svd.c): the double
 * Gram matrix, its Lanczos and eigensolver routes with their certificates,
 * and LAPACK's full SVD as the fallback (docs/svd.md).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "factors.h"
#include "internal.h"
#include "random.h"
#include "svd.h"

/* The share of the exact method's progress reports given to forming the
 * Gram matrix (about a third of the time on square matrices, docs/svd.md). */
#define GRAM_SHARE 0.3

/* ------------------------------------------------------------ exact */

/* g (n x n, lower triangle, double) = M^T M.  float32 data is converted to
 * double by panels of the summed index, so that the Gram matrix carries the
 * squares of small singular values to double precision without a full
 * double copy of M; an operator's rows are read in double by larger panels
 * (one pass over a file). */
static int gram_double(const problem *p, double *g)
{
    if (p->view && p->t == LOWRANK_FLOAT64)
        return lr_syrk(p->t, 'L', flip_op(p->op), p->n, p->m, 1.0, p->view, p->ld, 0.0, g, p->n);
    int64_t panel = (INT64_C(1) << (p->view ? 18 : 21)) / p->n;
    panel = panel < 64 ? 64 : panel > p->m ? p->m : panel;
    double *buf = lr_malloc((size_t)(panel * p->n), sizeof *buf);
    int rc = buf ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t i0 = 0; rc == LOWRANK_OK && i0 < p->m; i0 += panel) {
        int64_t cnt = p->m - i0 < panel ? p->m - i0 : panel;
        double beta = i0 == 0 ? 0.0 : 1.0;
        if ((rc = lr_progress_report(p->progress, GRAM_SHARE * (double)i0 / (double)p->m)))
            break;
        if (!p->view) { /* rows i0.. of M = scale op(A) */
            rc = lr_operator_read(p->a, p->op, i0, cnt, buf, cnt, p->products);
            for (int64_t i = 0; rc == LOWRANK_OK && p->scale != 1 && i < cnt * p->n; i++)
                buf[i] *= p->scale;
            if (rc == LOWRANK_OK)
                rc = lr_syrk(LOWRANK_FLOAT64, 'L', 'T', p->n, cnt, 1.0, buf, cnt, beta, g, p->n);
        } else if (p->op == 'N') { /* rows i0.. of the view */
            lr_svd_copy_columns(p->t, const_elem(p->t, p->view, i0), p->ld, LOWRANK_FLOAT64, buf,
                                cnt, cnt, p->n, 0);
            rc = lr_syrk(LOWRANK_FLOAT64, 'L', 'T', p->n, cnt, 1.0, buf, cnt, beta, g, p->n);
        } else { /* columns i0.. of the view */
            lr_svd_copy_columns(p->t, const_elem(p->t, p->view, i0 * p->ld), p->ld, LOWRANK_FLOAT64,
                                buf, p->n, p->n, cnt, 0);
            rc = lr_syrk(LOWRANK_FLOAT64, 'L', 'N', p->n, cnt, 1.0, buf, p->n, beta, g, p->n);
        }
    }
    free(buf);
    return rc;
}

/* A bound on the distance between the eigenvalues of the double Gram
 * matrix as computed and those of M^T M: the backward error of forming it
 * (gamma_m ||M||_F^2) and of diagonalising it, (m + n) u_double ||M||_F^2 in
 * all (Weyl's theorem turns it into the bound on each eigenvalue). */
static double gram_backward_error(const problem *p)
{
    return 1.01 * (double)(p->m + p->n) * 0x1p-53 * p->sumsq;
}

/* gamma_j = j u / (1 - j u) of double arithmetic: the classical bound on
 * the relative rounding error of a sum of j products. */
static double gamma_d(double j) { return j * 0x1p-53 / (1 - j * 0x1p-53); }

/* res (n x k, M's dtype) = M^T U - V diag(sigma), the residual of the
 * triplets in r (M V = U diag(sigma) holds by construction), and *norm2 its
 * squared Frobenius norm. */
int lr_svd_residual(const problem *p, const result *r, void *res, double *norm2)
{
    int rc = lr_svd_apply_t(p, r->k, r->um, p->m, res, p->n);
    *norm2 = 0;
    for (int64_t j = 0; rc == LOWRANK_OK && j < r->k; j++)
        for (int64_t i = 0; i < p->n; i++) {
            double d = get(p->t, res, i + j * p->n) - r->sigma[j] * get(p->t, r->vm, i + j * p->n);
            set(p->t, res, i + j * p->n, d);
            *norm2 += d * d;
        }
    return rc;
}

/* The certificate's accuracy: max(m, n) u sigma_1, LAPACK's form. */
double lr_svd_certified_tolerance(const problem *p, const result *r)
{
    return (double)p->m * roundoff(p->t) * r->sigma[0];
}

/* The residual the triplets are certified to, for sigma_1 = s1 and
 * sigma_k = sk: the value tolerance, or the precision of the double Gram
 * matrix the vectors come from, max(m, n) u_double sigma_1^2 / sigma_k (a
 * vector from the eigenvectors of M^T M carries an error of
 * u_double sigma_1^2 over the gap, which the singular triplet's residual
 * divides by sigma_k), when that is coarser: in float64, whenever
 * sigma_k < sigma_1. */
static double vector_tolerance(const problem *p, double s1, double sk)
{
    return fmax((double)p->m * roundoff(p->t) * s1,
                sk > 0 ? (double)p->m * 0x1p-53 * s1 * (s1 / sk) : INFINITY);
}

/* vector_tolerance() of the triplets in r. */
static double triplet_tolerance(const problem *p, const result *r)
{
    return vector_tolerance(p, r->sigma[0], r->sigma[r->k - 1]);
}

/* Whether the residual certifies the k triplets in r, given
 * next >= sigma_(k+1) and norm2 = ||R||_F^2 (see residual()): R is the
 * residual of the symmetric [0 M; M^T 0] on [U; V] / sqrt 2, of norm
 * rho = ||R||_F / sqrt 2.  The triplets are exact for a matrix within
 * sqrt 2 rho of M (M V - U diag(sigma) is zero up to the rounding of one
 * product), and rho must be within triplet_tolerance().  Once sigma_k - rho
 * exceeds next, the values are the k largest, each within
 * min(rho, ||R||_F^2 / (2 delta)), delta = sigma_k - next (Kahan's and the
 * quadratic residual bounds for Hermitian matrices), which must be within
 * certified_tolerance(). */
static int residual_certifies(const problem *p, const result *r, double norm2, double next)
{
    double rho = sqrt(norm2 / 2), last = r->sigma[r->k - 1];
    return rho <= triplet_tolerance(p, r) && last - rho > next &&
           fmin(rho, norm2 / (2 * (last - next))) <= lr_svd_certified_tolerance(p, r);
}

/* Whether the Gram route's triplets are certified: their residual within
 * triplet_tolerance(), and each value within certified_tolerance() by either
 * of two bounds:
 *  - sigma_i <= true sigma_i <= sqrt(lambda_i + e): the computed values are
 *    Ritz values from an orthonormal basis (interlacing), and the double
 *    Gram eigenvalues lambda_i are those of M^T M up to
 *    e = gram_backward_error() (Weyl), which needs no gap at k;
 *  - residual_certifies(), with sqrt(lambda_(k+1) + e) for sigma_(k+1).
 * lambda holds the k + 1 (k when k = n) leading Gram eigenvalues,
 * descending. */
static int certify(const problem *p, const double *lambda, const result *r, int *ok)
{
    int64_t k = r->k;
    double e = gram_backward_error(p), gram_worst = 0, norm2 = 0;
    for (int64_t i = 0; i < k; i++)
        gram_worst = fmax(gram_worst, sqrt(fmax(0.0, lambda[i]) + e) - r->sigma[i]);
    void *res = scratch(p->t, p->n * k);
    int rc = res ? lr_svd_residual(p, r, res, &norm2) : LOWRANK_ENOMEM;
    double next = k < p->n ? sqrt(fmax(0.0, lambda[k]) + e) : 0.0;
    *ok = rc == LOWRANK_OK && sqrt(norm2 / 2) <= triplet_tolerance(p, r) &&
          (gram_worst <= lr_svd_certified_tolerance(p, r) || residual_certifies(p, r, norm2, next));
    free(res);
    return rc;
}

/* The largest operator LAPACK's fallback reads into memory. */
#define FULL_SVD_OPERATOR_BYTES (INT64_C(1) << 30)

/* a (m x n, column-major, M's dtype) = M = scale op(A), read by panels. */
static int read_operator(const problem *p, void *a)
{
    int64_t panel = (INT64_C(1) << 18) / p->n;
    panel = panel < 1 ? 1 : panel > p->m ? p->m : panel;
    double *buf = lr_malloc((size_t)(panel * p->n), sizeof *buf);
    int rc = buf ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t i0 = 0; rc == LOWRANK_OK && i0 < p->m; i0 += panel) {
        int64_t cnt = p->m - i0 < panel ? p->m - i0 : panel;
        rc = lr_operator_read(p->a, p->op, i0, cnt, buf, cnt, p->products);
        for (int64_t j = 0; rc == LOWRANK_OK && j < p->n; j++)
            for (int64_t i = 0; i < cnt; i++)
                set(p->t, a, i0 + i + j * p->m, p->scale * buf[i + j * cnt]);
    }
    free(buf);
    return rc;
}

/* LAPACK's full SVD (divide and conquer) of M: the fallback of the exact
 * route.  k = 0 chooses the rank by tol from the whole spectrum.  An
 * operator's M is read into memory first, when it fits in
 * FULL_SVD_OPERATOR_BYTES (a file's, never: it is there because it does
 * not fit). */
static int full_svd(const problem *p, int64_t k, double tol, result *r)
{
    char op = p->view ? p->op : 'N';
    int64_t vm = op == 'N' ? p->m : p->n, vn = op == 'N' ? p->n : p->m, mn = p->n;
    if (!p->view && (streamed(p) || (double)vm * (double)vn * (double)esize(p->t) >
                                        (double)FULL_SVD_OPERATOR_BYTES))
        return lr_fail(LOWRANK_ENOCONV,
                       "the exact method cannot certify this %lld x %lld operator's values (no "
                       "gap at k, or values below the Gram matrix's resolution), and LAPACK's "
                       "full SVD would need it in memory: try LOWRANK_METHOD_RANDOMIZED",
                       (long long)p->m, (long long)p->n);
    void *a = scratch(p->t, vm * vn), *s = scratch(p->t, mn), *uv = scratch(p->t, vm * mn),
         *vtv = scratch(p->t, mn * vn);
    double *w = lr_malloc((size_t)mn, sizeof *w);
    int rc = a && s && uv && vtv && w ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK && !p->view)
        rc = read_operator(p, a);
    else if (rc == LOWRANK_OK)
        lr_svd_copy_columns(p->t, p->view, p->ld, p->t, a, vm, vm, vn, 0);
    if (rc == LOWRANK_OK)
        rc = lr_gesdd(p->t, vm, vn, a, vm, s, uv, vm, vtv, mn);
    for (int64_t i = 0; rc == LOWRANK_OK && i < mn; i++)
        w[i] = get(p->t, s, mn - 1 - i) * get(p->t, s, mn - 1 - i);
    if (rc == LOWRANK_OK)
        rc = lr_svd_result_alloc(p, k > 0 ? k : lr_svd_rank_for_tolerance(p, w, mn, tol), r);
    if (rc == LOWRANK_OK) {
        k = r->k;
        /* M = view: U = uv, V^T = vtv; M = view^T: U = vtv^T, V^T = uv^T */
        if (op == 'N') {
            lr_svd_copy_columns(p->t, uv, vm, p->t, r->um, p->m, p->m, k, 0);
            lr_svd_copy_transposed(p->t, vtv, mn, r->vm, p->n, k, p->n);
        } else {
            lr_svd_copy_columns(p->t, uv, vm, p->t, r->vm, p->n, p->n, k, 0);
            lr_svd_copy_transposed(p->t, vtv, mn, r->um, p->m, k, p->m);
        }
        double discarded = 0;
        for (int64_t i = 0; i < mn - k; i++)
            discarded += w[i];
        for (int64_t i = 0; i < k; i++)
            r->sigma[i] = get(p->t, s, i);
        r->error = p->sumsq > 0 ? sqrt(discarded / p->sumsq) : 0;
    }
    free(a);
    free(s);
    free(uv);
    free(vtv);
    free(w);
    return rc;
}

/* The relative error of the exact route's rank-k projection from the cnt
 * leading Gram eigenvalues w (ascending): from the discarded ones when they
 * are all there (cnt = n), from the identity ||M||_F^2 - sum of the kept
 * ones otherwise. */
static double gram_error(const problem *p, const double *w, int64_t cnt, int64_t k)
{
    double discarded = 0, kept = 0;
    for (int64_t i = 0; i < cnt - k; i++)
        discarded += fmax(0.0, w[i]);
    for (int64_t i = cnt - k; i < cnt; i++)
        kept += fmax(0.0, w[i]);
    if (cnt < p->n)
        return lr_svd_projection_error(p, kept);
    return sqrt(fmin(1.0, discarded / p->sumsq));
}

/* ------------------------------------------------------------ exact: Lanczos */

/* The Lanczos route (docs/svd.md has the measurements behind the values). */
enum {
    LANCZOS_BLOCK = 1,       /* block size b: a single vector needs the fewest columns */
                             /* and its products are matrix-vector ones, the fastest */
                             /* per column; exact multiplicities are left to the */
                             /* certificate, which sends them to the Gram route */
    LANCZOS_MIN_STEP = 8,    /* columns, at least, between two Rayleigh-Ritz steps */
    LANCZOS_SEED = 20261128, /* the start block: exact mode ignores LOWRANK_OPT_SEED */
    LANCZOS_MIN_SIDE = 256,  /* the shape rule: a small side of at least this, */
    LANCZOS_RANK_RATIO = 12  /* and at least this many times k */
};
/* The certificate's bound beta on sigma_(k+1)^2 sits this fraction of the
 * way from the (k+1)-th Ritz value of G up to sigma_k^2: the room below
 * covers the error of that Ritz value, the room above is the gap that the
 * quadratic residual bound divides by. */
static const double BETA_FRACTION = 0.25;

/* Fill the upper triangle of the n x n g from its lower triangle, so that
 * the products can use plain gemm: by tiles small enough for the strided
 * reads to stay in the cache, writing along columns (measured 3x faster
 * than writing along rows, and than larger tiles, for n = 1024). */
static void symmetrize(double *g, int64_t n)
{
    enum { TILE = 16 };
    for (int64_t i0 = 0; i0 < n; i0 += TILE)
        for (int64_t j0 = 0; j0 <= i0; j0 += TILE)
            for (int64_t i = i0; i < i0 + TILE && i < n; i++)
                for (int64_t j = j0; j < j0 + TILE && j < i; j++)
                    g[j + i * n] = g[i + j * n];
}

/* Block Lanczos on the double Gram matrix G, and Rayleigh-Ritz in the first
 * L columns of its basis, those whose projection T = V^T G V is known (all
 * but the newest block).  A Ritz pair (theta, y = V z) has the residual
 * G y - theta y = V_new S z_last (S the last subdiagonal block, z_last the
 * last b coordinates of z), so its norm comes without touching G; and a
 * Ritz pair with G residual g gives a singular triplet with residual about
 * g / sqrt(theta).  That predicts what residual_certifies() will find. */
typedef struct lanczos {
    krylov kr;
    int64_t k, L;
    double *t, *w; /* eigenvectors (L x L) and eigenvalues of T, ascending */
    double *e;     /* b x (k + 1): S z_last of the k + 1 leading Ritz pairs */
    double rho;    /* the predicted rho of residual_certifies() */
    double delta;  /* its predicted delta: sigma_k minus the bound on sigma_(k+1) */
    double needed; /* the rho at which the certificate's bounds meet their targets */
    int placed;    /* theta_(k+1) is close enough to its eigenvalue to place beta */
    double from;   /* the share of the call's progress done before the run */
} lanczos;

static void lanczos_free(lanczos *lz)
{
    lr_krylov_free(&lz->kr);
    free(lz->t);
    free(lz->w);
    free(lz->e);
}

/* theta_i, the i-th largest Ritz value (0-based). */
static double ritz_value(const lanczos *lz, int64_t i) { return lz->w[lz->L - 1 - i]; }

/* The prediction for a bound of target on the values: rho and delta as
 * residual_certifies() will see them, and the rho that makes
 * min(rho, rho^2 / delta) meet the target and rho half the vector
 * tolerance. */
static void lanczos_predict(const problem *p, lanczos *lz, double target)
{
    int64_t k = lz->k, b = lz->kr.b;
    double next = ritz_value(lz, k), last = ritz_value(lz, k - 1);
    double beta = next + BETA_FRACTION * (last - next), norm2 = 0, next_res = 0;
    for (int64_t i = 0; i < b; i++) /* column 0 holds the (k+1)-th pair */
        next_res += lz->e[i] * lz->e[i];
    for (int64_t j = 1; j <= k; j++) {
        double theta = ritz_value(lz, k - j), s = 0;
        for (int64_t i = 0; i < b; i++)
            s += lz->e[i + j * b] * lz->e[i + j * b];
        norm2 += theta > 0 ? s / theta : INFINITY;
    }
    lz->rho = sqrt(norm2 / 2);
    lz->delta = sqrt(fmax(last, 0.0)) - sqrt(fmax(beta, 0.0));
    double vectors = 0.5 * vector_tolerance(p, sqrt(fmax(ritz_value(lz, 0), 0.0)),
                                            sqrt(fmax(last, 0.0)));
    lz->needed = fmin(vectors, fmax(target, sqrt(fmax(lz->delta, 0.0) * target)));
    lz->placed = sqrt(next_res) <= 0.5 * BETA_FRACTION * (last - next);
}

/* Rayleigh-Ritz in the first L = cols - b columns of the basis, and the
 * prediction for a bound of rel sigma_1. */
static int lanczos_ritz(const problem *p, lanczos *lz, double rel)
{
    const krylov *kr = &lz->kr;
    int64_t L = kr->cols - kr->b, b = kr->b, k = lz->k;
    int rc = lr_svd_grow((void **)&lz->t, (size_t)(L * L), sizeof(double));
    if (rc == LOWRANK_OK)
        rc = lr_svd_grow((void **)&lz->w, (size_t)L, sizeof(double));
    if (rc != LOWRANK_OK)
        return rc;
    lz->L = L;
    memset(lz->t, 0, (size_t)(L * L) * sizeof(double));
    lr_krylov_blocks(kr, L, L, lz->t);
    rc = lr_syevd(LOWRANK_FLOAT64, L, lz->t, L, lz->w);
    if (rc == LOWRANK_OK) /* e = S (last b rows of the k + 1 leading eigenvectors) */
        rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', b, k + 1, b, 1.0,
                     elem(LOWRANK_FLOAT64, kr->s, (L - b) * b), b,
                     lz->t + (L - b) + (L - k - 1) * L, L, 0.0, lz->e, b);
    if (rc == LOWRANK_OK)
        lanczos_predict(p, lz, rel * sqrt(fmax(ritz_value(lz, 0), 0.0)));
    return rc;
}

/* Whether the prediction says the certificate will succeed. */
static int lanczos_converged(const lanczos *lz)
{
    return lz->rho <= lz->needed && lz->rho < lz->delta && lz->placed;
}

/* The fewest columns between two Rayleigh-Ritz steps: two blocks, and at
 * least LANCZOS_MIN_STEP, below which the change in the predicted rho is
 * noise (with a single vector, a 384 x 384 matrix's rho rose from 16 to 18
 * columns, and the route gave up). */
static int64_t lanczos_min_step(int64_t b)
{
    return 2 * b > LANCZOS_MIN_STEP ? 2 * b : LANCZOS_MIN_STEP;
}

/* The columns of the next Rayleigh-Ritz step after one at prev_L whose
 * predicted rho was prev, or 0 to give up and leave the matrix to the Gram
 * route.  While rho is too large: as many as the rate at which rho fell
 * says it needs (Krylov convergence is at least geometric in the
 * dimension), with 10% to spare, or an eighth more while there is no rate
 * to go by, at least lanczos_min_step() and at most half the dimension;
 * giving up when rho did not fall (a spectrum too hard for the basis) or
 * the need exceeds what the cap leaves by half again (early rates
 * underestimate a convergence that speeds up as the basis grows).  Once
 * rho is small enough: lanczos_min_step() more when only beta's placement
 * is missing, and giving up when there is no gap at k (no certificate will
 * come). */
static int64_t lanczos_next(const lanczos *lz, int64_t prev_L, double prev, int64_t cap)
{
    int64_t L = lz->L, b = lz->kr.b, least = lanczos_min_step(b);
    double step = 0.125 * (double)L;
    if (lz->rho <= lz->needed)
        return lz->rho < lz->delta ? (L + least < cap ? L + least : cap) : 0;
    if (prev_L > 0 && !(lz->rho < prev))
        return 0;
    if (prev_L > 0)
        step = 1.1 * log(lz->rho / lz->needed) / (log(prev / lz->rho) / (double)(L - prev_L));
    if (step > 1.5 * (double)(cap - L))
        return 0;
    step = fmin(fmax(step, (double)least), 0.5 * (double)L);
    int64_t next = L + ((int64_t)step + b - 1) / b * b;
    return next < cap ? next : cap;
}

/* The columns of the first Rayleigh-Ritz step for rank k with blocks of b:
 * 2k (the k wanted Ritz pairs converge no sooner), and at least two blocks
 * beyond k. */
static int64_t lanczos_start(int64_t k, int64_t b)
{
    int64_t want = 2 * k > k + 2 * b ? 2 * k : k + 2 * b;
    return (want + b - 1) / b * b;
}

/* Block Lanczos until the prediction for a bound of rel sigma_1 / 2 says
 * the certificate will succeed (*done set), or lanczos_next() gives up, or
 * the Rayleigh-Ritz space would exceed max_cols columns.  The Ritz state is
 * left in lz. */
static int lanczos_run(const problem *p, lanczos *lz, double rel, int64_t max_cols, int *done)
{
    krylov *kr = &lz->kr;
    int64_t b = kr->b, cap = max_cols / b * b, prev_L = 0, want = lanczos_start(lz->k, b);
    double prev = INFINITY;
    *done = 0;
    int rc = lr_krylov_reserve(p, kr, want + b);
    if (rc == LOWRANK_OK)
        rc = lr_krylov_start(p, kr, LANCZOS_SEED, 1);
    while (rc == LOWRANK_OK && want > 0) {
        if (want + b > kr->cap)
            rc = lr_krylov_reserve(p, kr, want + b);
        while (rc == LOWRANK_OK && kr->cols < want + b) {
            rc = lr_progress_report(p->progress, lz->from + (1 - lz->from) * (double)kr->cols /
                                                                 (double)max_cols);
            if (rc == LOWRANK_OK)
                rc = lr_krylov_extend(p, kr);
        }
        if (rc == LOWRANK_OK)
            rc = lanczos_ritz(p, lz, 0.5 * rel);
        if (rc != LOWRANK_OK)
            break;
        *done = lanczos_converged(lz);
        if (*done || want == cap)
            break;
        want = lanczos_next(lz, prev_L, prev, cap);
        prev_L = lz->L;
        prev = lz->rho;
    }
    return rc;
}

/* The bound on sigma_(k+1) behind the Lanczos route's certificate.  For x
 * orthogonal to the columns of V, x^T G x = x^T (G - c V V^T) x whatever c,
 * so by Courant-Fischer lambda_(k+1)(G) <= lambda_max(G - c V V^T), which
 * is below beta when the Cholesky factorisation of beta I - G + c V V^T
 * succeeds.  With c = 2 sigma_1^2, above every eigenvalue that V carries,
 * the factorisation succeeds when the rest of G's spectrum lies below beta
 * (up to the residual).  Rounding is accounted for: forming that matrix,
 * gamma_(k+2) (beta + ||G||_F + c ||V||_F^2); Cholesky's backward error,
 * gamma_(n+1) ||C||_F^2 for the factor C (Demmel); and G's own,
 * gram_backward_error().  *next is the bound, or infinity when the
 * factorisation fails.  g holds G in both triangles; its strictly upper
 * triangle is destroyed. */
static int next_value_bound(const problem *p, double *g, const result *r, double beta,
                            double *next)
{
    int64_t n = p->n, k = r->k;
    double *vd = lr_malloc((size_t)(n * k), sizeof *vd), *diag = lr_malloc((size_t)n, sizeof *diag);
    double c = 2 * r->sigma[0] * r->sigma[0], c2 = 0;
    int rc = vd && diag ? LOWRANK_OK : LOWRANK_ENOMEM;
    *next = INFINITY;
    if (rc == LOWRANK_OK) {
        lr_svd_copy_columns(p->t, r->vm, n, LOWRANK_FLOAT64, vd, n, n, k, 0);
        for (int64_t i = 0; i < n; i++)
            diag[i] = g[i + i * n];
        rc = lr_syrk(LOWRANK_FLOAT64, 'U', 'N', n, k, c, vd, n, -1.0, g, n);
    }
    for (int64_t i = 0; rc == LOWRANK_OK && i < n; i++)
        g[i + i * n] += beta;
    if (rc == LOWRANK_OK)
        rc = lr_potrf(LOWRANK_FLOAT64, 'U', n, g, n);
    for (int64_t j = 0; rc == LOWRANK_OK && j < n; j++)
        for (int64_t i = 0; i <= j; i++)
            c2 += g[i + j * n] * g[i + j * n];
    if (rc == LOWRANK_OK) {
        double forming = gamma_d((double)k + 2) *
                         (beta + 1.01 * p->sumsq + c * lr_svd_sum_sq(LOWRANK_FLOAT64, vd, n * k));
        *next = sqrt(beta + forming + gamma_d((double)n + 1) * c2 + gram_backward_error(p));
    }
    if (rc == LOWRANK_EDEGENERATE)
        rc = LOWRANK_OK; /* no certificate, which is not an error */
    if (vd && diag) /* the diagonal was saved: the lower triangle is G again */
        for (int64_t i = 0; i < n; i++)
            g[i + i * n] = diag[i];
    free(vd);
    free(diag);
    return rc;
}

/* The certificate of the Lanczos route: the residual bound of
 * residual_certifies(), with next_value_bound() for sigma_(k+1).  beta is
 * placed from theta_next, the (k+1)-th Ritz value of G. */
static int certify_lanczos(const problem *p, double *g, double theta_next, const result *r,
                           int *ok)
{
    int64_t k = r->k;
    double last = r->sigma[k - 1] * r->sigma[k - 1], norm2 = 0, next = INFINITY;
    *ok = 0;
    if (!(last > theta_next))
        return LOWRANK_OK;
    void *res = scratch(p->t, p->n * k);
    int rc = res ? lr_svd_residual(p, r, res, &norm2) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = next_value_bound(p, g, r, theta_next + BETA_FRACTION * (last - theta_next), &next);
    *ok = rc == LOWRANK_OK && residual_certifies(p, r, norm2, next);
    free(res);
    return rc;
}

/* The k leading Ritz vectors of the run, descending, as vk (n x k, M's dtype). */
static int ritz_vectors(const problem *p, const lanczos *lz, void *vk)
{
    int64_t n = p->n, k = lz->k, L = lz->L;
    double *wk = lr_malloc((size_t)(L * k), sizeof *wk),
           *vd = p->t == LOWRANK_FLOAT64 ? vk : lr_malloc((size_t)(n * k), sizeof *vd);
    int rc = wk && vd ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        lr_svd_copy_columns(LOWRANK_FLOAT64, lz->t + (L - k) * L, L, LOWRANK_FLOAT64, wk, L, L, k,
                            1);
        rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', n, k, L, 1.0, lz->kr.v, n, wk, L, 0.0, vd, n);
    }
    if (rc == LOWRANK_OK && vd != vk)
        lr_svd_copy_columns(LOWRANK_FLOAT64, vd, n, p->t, vk, n, n, k, 0);
    free(wk);
    if (vd != vk)
        free(vd);
    return rc;
}

/* The triplets of a Lanczos run into r: V_k its k leading Ritz vectors
 * (into *vk), C = M V_k (into *c, destroyed) and the tall SVD of C. */
static int lanczos_triplets(const problem *p, const lanczos *lz, result *r, void **vk, void **c)
{
    int rc = lr_svd_result_alloc_with_basis(p, lz->k, r, vk, c);
    if (rc == LOWRANK_OK)
        rc = ritz_vectors(p, lz, *vk);
    if (rc == LOWRANK_OK)
        rc = lr_svd_apply(p, lz->k, *vk, p->n, *c, p->m);
    return rc == LOWRANK_OK ? lr_svd_project_onto(p, *vk, *c, r) : rc;
}

/* The end of a Lanczos route: the certified result's error estimate, or
 * no result; the run's memory freed. */
static void lanczos_finish(const problem *p, lanczos *lz, result *r, int ok, void *vk, void *c)
{
    if (ok)
        r->error = lr_svd_projection_error(p, lr_svd_sum_sq(LOWRANK_FLOAT64, r->sigma, r->k));
    else
        lr_svd_result_free(r);
    lanczos_free(lz);
    free(vk);
    free(c);
}

/* The Lanczos route: Lanczos (the block code, with blocks of
 * LANCZOS_BLOCK columns) on the double Gram matrix g (lower triangle given;
 * the upper one is filled in and then destroyed) until its Ritz pairs
 * predict a certificate, the k leading Ritz vectors as V_k, one product
 * M V_k and the tall SVD for the triplets, then certify_lanczos().  *ok
 * reports the certificate; without it r is left empty and g's lower
 * triangle, which is all the Gram route reads, is intact.  The basis holds
 * at most max_cols columns. */
static int lanczos_route(const problem *p, double *g, int64_t k, int64_t max_cols, result *r,
                         int *ok)
{
    int64_t b = LANCZOS_BLOCK;
    lanczos lz = {.kr = {.t = LOWRANK_FLOAT64, .gram = g, .b = b}, .k = k, .from = GRAM_SHARE};
    void *vk = NULL, *c = NULL;
    int done = 0;
    *ok = 0;
    symmetrize(g, p->n);
    int rc = (lz.e = lr_malloc((size_t)(b * (k + 1)), sizeof *lz.e))
                 ? lanczos_run(p, &lz, (double)p->m * roundoff(p->t), max_cols, &done)
                 : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK && done)
        rc = lanczos_triplets(p, &lz, r, &vk, &c);
    if (rc == LOWRANK_OK && done)
        rc = certify_lanczos(p, g, ritz_value(&lz, k), r, ok);
    lanczos_finish(p, &lz, r, rc == LOWRANK_OK && *ok, vk, c);
    return rc;
}

/* The Gram route: the leading eigenvectors of the double Gram matrix g
 * (lower triangle; destroyed) span (to double precision, when the gap at k
 * allows) the leading right singular subspace; one product M V_k and a
 * tall SVD turn them into singular triplets whose values are Ritz values of
 * M itself.  certify() checks them; the rare input it cannot certify (a
 * tiny gap at k, a spectrum whose small values the Gram matrix cannot
 * resolve) goes to full_svd().  k = 0 chooses the rank by tol from the
 * Gram spectrum. */
static int gram_route(const problem *p, double *g, int64_t k_asked, double tol, result *r,
                      lr_exact_route *taken)
{
    int64_t n = p->n, k = k_asked, cnt = k == 0 || k == n ? n : k + 1;
    double *w = lr_malloc((size_t)n, sizeof *w),
           *z = k == 0 ? g : lr_malloc((size_t)(n * cnt), sizeof *z),
           *lambda = lr_malloc((size_t)n, sizeof *lambda);
    void *vk = NULL, *c = NULL;
    int rc = w && z && lambda ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = k == 0 ? lr_syevd(LOWRANK_FLOAT64, n, g, n, w)
                    : lr_syevr(LOWRANK_FLOAT64, n, g, n, n - cnt + 1, n, w, z, n);
    for (int64_t i = 0; rc == LOWRANK_OK && i < cnt; i++)
        lambda[i] = w[cnt - 1 - i];
    if (rc == LOWRANK_OK)
        rc = lr_svd_result_alloc_with_basis(p, k > 0 ? k : lr_svd_rank_for_tolerance(p, w, n, tol),
                                            r, &vk, &c);
    if (rc == LOWRANK_OK)
        k = r->k;
    if (rc == LOWRANK_OK) {
        lr_svd_copy_columns(LOWRANK_FLOAT64, elem(LOWRANK_FLOAT64, z, (cnt - k) * n), n, p->t, vk,
                            n, n, k, 1);
        rc = lr_svd_apply(p, k, vk, n, c, p->m);
    }
    if (rc == LOWRANK_OK)
        rc = lr_svd_project_onto(p, vk, c, r);
    int ok = 0;
    if (rc == LOWRANK_OK)
        rc = certify(p, lambda, r, &ok);
    if (rc == LOWRANK_OK && ok)
        r->error = gram_error(p, w, cnt, k);
    *taken = ok ? LR_ROUTE_GRAM : LR_ROUTE_LAPACK;
    if (rc == LOWRANK_OK && !ok) {
        lr_svd_result_free(r);
        rc = full_svd(p, k_asked, tol, r);
    }
    free(w);
    if (z != g)
        free(z);
    free(lambda);
    free(vk);
    free(c);
    return rc;
}

/* Whether the shape rule starts the exact method with the Lanczos route
 * (docs/svd.md: measured against the Gram route). */
static int lanczos_suits(const problem *p, int64_t k)
{
    return k > 0 && p->n >= LANCZOS_MIN_SIDE && LANCZOS_RANK_RATIO * k <= p->n;
}

/* The exact method, starting from the route `from` (the shape rule's
 * choice for LR_ROUTE_RULE); *taken gets the route whose result came back.
 * The Lanczos route needs k >= 1 and room for its first Rayleigh-Ritz step
 * in half of the small side (its basis's cap); otherwise the Gram route
 * starts. */
/* ------------------------------------------------------------ exact: operators */

/* An operator's Gram matrix is formed up to this n (128 MiB). */
enum { GRAM_MAX_SIDE = 4096 };

static int exact_with_gram(const problem *p, double *g, int64_t k, double tol,
                           lr_exact_route from, result *r, lr_exact_route *taken);

/* The exact method on an operator: the operator route first, unless the
 * operator is a file (its products are passes, and a Gram matrix takes
 * one); then, when n allows it, the Gram matrix's routes as for a dense
 * matrix, the Gram matrix formed from M's rows.  A callback's ||M||_F^2,
 * unknown until then, is the Gram matrix's trace. */
static int exact_operator(const problem *p, int64_t k, double tol, result *r,
                          lr_exact_route *taken)
{
    int ok = 0, rc = LOWRANK_OK;
    if (!streamed(p) && lr_svd_operator_usable(p, k))
        rc = lr_svd_operator_route(p, k, r, &ok);
    *taken = LR_ROUTE_OPERATOR;
    if (rc == LOWRANK_ENOCONV) /* its basis stopped growing: uncertified, not an error */
        rc = LOWRANK_OK;
    if (rc != LOWRANK_OK || ok)
        return rc;
    if (p->n > GRAM_MAX_SIDE)
        return lr_fail(LOWRANK_ENOCONV,
                       k > 0 ? "the operator route could not certify k = %lld values (basis of "
                               "%lld columns, LOWRANK_OPT_MAX_ITER), and the Gram matrix of %lld "
                               "columns is too large to fall back on: try the randomized method"
                             : "k = 0 (the rank by tolerance) needs the whole spectrum: the "
                               "Gram matrix, which is too large (%lld; %lld > %lld columns)",
                       (long long)k, (long long)lr_svd_operator_cap(p, k), (long long)p->n);
    double *g = lr_malloc((size_t)(p->n * p->n), sizeof *g);
    rc = g ? gram_double(p, g) : LOWRANK_ENOMEM;
    problem q = *p;
    if (rc == LOWRANK_OK && isnan(q.sumsq))
        for (int64_t i = q.sumsq = 0; i < p->n; i++)
            q.sumsq += g[i + i * p->n];
    if (rc == LOWRANK_OK)
        rc = exact_with_gram(&q, g, k, tol,
                             lanczos_suits(&q, k) ? LR_ROUTE_LANCZOS : LR_ROUTE_GRAM, r, taken);
    free(g);
    return rc;
}

/* The exact method from the route `from` on the Gram matrix g (lower
 * triangle; destroyed). */
static int exact_with_gram(const problem *p, double *g, int64_t k, double tol,
                           lr_exact_route from, result *r, lr_exact_route *taken)
{
    int64_t cap = p->n / 2;
    int rc = lr_progress_report(p->progress, GRAM_SHARE), ok = 0;
    *taken = from;
    if (rc == LOWRANK_OK && from == LR_ROUTE_LANCZOS && k > 0 &&
        lanczos_start(k, LANCZOS_BLOCK) <= cap)
        rc = lanczos_route(p, g, k, cap, r, &ok);
    if (rc == LOWRANK_OK && !ok)
        rc = gram_route(p, g, k, tol, r, taken);
    return rc;
}

int lr_svd_exact_method(const problem *p, int64_t k, double tol, lr_exact_route from, result *r,
                        lr_exact_route *taken)
{
    if (!p->view)
        return exact_operator(p, k, tol, r, taken);
    if (from == LR_ROUTE_RULE)
        from = lanczos_suits(p, k) ? LR_ROUTE_LANCZOS : LR_ROUTE_GRAM;
    *taken = from;
    if (from == LR_ROUTE_LAPACK)
        return full_svd(p, k, tol, r);
    double *g = lr_malloc((size_t)(p->n * p->n), sizeof *g);
    int rc = g ? gram_double(p, g) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = exact_with_gram(p, g, k, tol, from, r, taken);
    free(g);
    return rc;
}
