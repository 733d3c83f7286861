/*
 * svd_krylov.c - the block Krylov space of lowrank_svd (lib/svd.c): the
 * randomized method, the basis the exact method's Lanczos route grows on
 * the Gram matrix (lib/svd_exact.c), and the tall SVD both project through.
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

/* Block size when the tolerance chooses the rank (n >= 256; docs/svd.md). */
enum { TOLERANCE_BLOCK = 32 };

/* ------------------------------------------------------------ scalars */

static double max_abs(lowrank_dtype t, const void *x, int64_t count)
{
    double m = 0;
    for (int64_t i = 0; i < count; i++)
        m = fmax(m, fabs(get(t, x, i)));
    return m;
}

static void set_identity(lowrank_dtype t, void *x, int64_t n)
{
    memset(x, 0, (size_t)(n * n) * esize(t));
    for (int64_t i = 0; i < n; i++)
        set(t, x, i + i * n, 1.0);
}

/* ------------------------------------------------------------ tall SVD */

/* One CholeskyQR pass over the m x k c: r (k x k, upper triangular) with
 * c = Q r, and c overwritten by Q = c r^-1.  LOWRANK_EDEGENERATE, c left
 * alone, when the Cholesky factorisation of c^T c fails.  With x (k x k
 * scratch), also when ||r||_F ||r^-1||_F (an upper bound of cond(c))
 * exceeds 1 / (4 sqrt(u)), beyond which CholeskyQR2 loses orthogonality
 * and the rounding in c r^-1 may blur the span of c. */
static int cholesky_qr(lowrank_dtype t, int64_t m, int64_t k, void *c, void *r, void *x)
{
    memset(r, 0, (size_t)(k * k) * esize(t));
    int rc = lr_syrk(t, 'U', 'T', k, m, 1.0, c, m, 0.0, r, k);
    if (rc == LOWRANK_OK)
        rc = lr_potrf(t, 'U', k, r, k);
    if (rc == LOWRANK_OK && x) {
        set_identity(t, x, k);
        rc = lr_trsm(t, 'L', 'U', 'N', 'N', k, k, 1.0, r, k, x, k);
        double cond = sqrt(lr_svd_sum_sq(t, r, k * k) * lr_svd_sum_sq(t, x, k * k));
        if (rc == LOWRANK_OK && !(cond <= 0.25 / sqrt(roundoff(t))))
            rc = LOWRANK_EDEGENERATE;
    }
    return rc != LOWRANK_OK ? rc : lr_trsm(t, 'R', 'U', 'N', 'N', m, k, 1.0, r, k, c, m);
}

/* Whether the k x k triangle r is so near the identity (||r - I||_F <=
 * 1/8) that c r^-1 is already orthonormal to working precision: the
 * orthogonality CholeskyQR loses grows as cond(c)^2 u, and cond(c) <= 9/7. */
static int near_orthonormal(lowrank_dtype t, const void *r, int64_t k)
{
    double d = 0;
    for (int64_t j = 0; j < k; j++)
        for (int64_t i = 0; i <= j; i++) {
            double e = get(t, r, i + j * k) - (i == j);
            d += e * e;
        }
    return d <= 1.0 / 64;
}

/* Scale the columns of the m x k c to unit norm (zero columns stay zero)
 * and set acc = diag(norms), so that c_before = c acc. */
static void normalise_columns(lowrank_dtype t, int64_t m, int64_t k, void *c, void *acc)
{
    memset(acc, 0, (size_t)(k * k) * esize(t));
    for (int64_t j = 0; j < k; j++) {
        void *col = elem(t, c, j * m);
        double norm = sqrt(lr_svd_sum_sq(t, col, m));
        for (int64_t i = 0; norm > 0 && i < m; i++)
            set(t, col, i, get(t, col, i) / norm);
        set(t, acc, j + j * k, norm);
    }
}

/* The thin SVD of the m x k matrix c (m >= k), which it destroys:
 * c = u diag(sigma) pt, u (m x k) with orthonormal columns, pt (k x k)
 * orthogonal.  c is orthonormalised by CholeskyQR (all BLAS-3) after its
 * columns are scaled to unit norm: once when that leaves a triangle near
 * the identity, as it does for the nearly orthogonal columns both routes
 * produce, twice otherwise (CholeskyQR2), and by Householder QR when c is
 * too ill-conditioned for either (rank-deficient, say).  The k x k
 * triangle then goes to LAPACK's SVD. */
static int tall_svd(lowrank_dtype t, int64_t m, int64_t k, void *c, void *u, double *sigma,
                    void *pt)
{
    void *r = scratch(t, k * k), *acc = scratch(t, k * k), *x = scratch(t, k * k),
         *s = scratch(t, k);
    int rc = r && acc && x && s ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        normalise_columns(t, m, k, c, acc);
    for (int pass = 0; rc == LOWRANK_OK && pass < 2; pass++) {
        rc = cholesky_qr(t, m, k, c, r, x);
        int householder = rc == LOWRANK_EDEGENERATE;
        if (householder)
            rc = lr_qr(t, m, k, c, m, r, k);
        if (rc == LOWRANK_OK) /* acc = r acc: c = Q acc throughout */
            rc = lr_gemm(t, 'N', 'N', k, k, k, 1.0, r, k, acc, k, 0.0, x, k);
        if (rc == LOWRANK_OK)
            memcpy(acc, x, (size_t)(k * k) * esize(t));
        if (householder || (rc == LOWRANK_OK && near_orthonormal(t, r, k)))
            break;
    }
    if (rc == LOWRANK_OK)
        rc = lr_gesdd(t, k, k, acc, k, s, x, k, pt, k);
    if (rc == LOWRANK_OK)
        rc = lr_gemm(t, 'N', 'N', m, k, k, 1.0, c, m, x, k, 0.0, u, m);
    for (int64_t i = 0; rc == LOWRANK_OK && i < k; i++)
        sigma[i] = get(t, s, i);
    free(r);
    free(acc);
    free(x);
    free(s);
    return rc;
}

/* From the n x k orthonormal vk, whose span approximates M's leading right
 * singular subspace, and c = M vk (m x k, destroyed): the SVD of the
 * projection M vk vk^T into r (U, V, sigma). */
int lr_svd_project_onto(const problem *p, const void *vk, void *c, result *r)
{
    int64_t k = r->k;
    void *pt = scratch(p->t, k * k);
    int rc = pt ? tall_svd(p->t, p->m, k, c, r->um, r->sigma, pt) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = lr_gemm(p->t, 'N', 'T', p->n, k, k, 1.0, vk, p->n, pt, k, 0.0, r->vm, p->n);
    free(pt);
    return rc;
}

/* The result for rank k, with the scratch both routes project through: vk
 * (n x k), the basis of the right singular subspace, and c (m x k) = M vk. */
int lr_svd_result_alloc_with_basis(const problem *p, int64_t k, result *r, void **vk, void **c)
{
    int rc = lr_svd_result_alloc(p, k, r);
    if (rc == LOWRANK_OK) {
        *vk = scratch(p->t, p->n * k);
        *c = scratch(p->t, p->m * k);
        rc = *vk && *c ? LOWRANK_OK : LOWRANK_ENOMEM;
    }
    return rc;
}

/* ------------------------------------------------------------ block Krylov */

int lr_svd_grow(void **p, size_t count, size_t size)
{
    void *q = count > SIZE_MAX / size ? NULL : realloc(*p, count * size);
    if (!q)
        return lr_fail(LOWRANK_ENOMEM, "cannot allocate %zu x %zu bytes", count, size);
    *p = q;
    return LOWRANK_OK;
}

int lr_krylov_reserve(const problem *p, krylov *kr, int64_t cap)
{
    int64_t b = kr->b;
    void **buf[] = {&kr->v, &kr->y, &kr->d, &kr->s, &kr->h, &kr->hacc, &kr->r, &kr->racc, &kr->x};
    int64_t y = kr->gram       ? b * p->n
                : kr->products ? lr_svd_gram_scratch(p, kr->t, b)
                               : p->m * cap;
    const int64_t count[] = {p->n * cap, y, b * cap, b * cap, cap * b, cap * b, b * b, b * b, b * b};
    int rc = LOWRANK_OK;
    for (size_t i = 0; rc == LOWRANK_OK && i < sizeof buf / sizeof buf[0]; i++)
        rc = lr_svd_grow(buf[i], (size_t)count[i], esize(kr->t));
    if (rc == LOWRANK_OK)
        kr->cap = cap;
    return rc;
}

void lr_krylov_free(krylov *kr)
{
    void *buf[] = {kr->v, kr->y, kr->d, kr->s, kr->h, kr->hacc, kr->r, kr->racc, kr->x};
    for (size_t i = 0; i < sizeof buf / sizeof buf[0]; i++)
        free(buf[i]);
}

/* w (n x b) -= V h with h = V^T w, V the basis from column `from` on,
 * keeping Z = V hacc + w racc: hacc += h racc (its rows from `from` on). */
static int project_out(const problem *p, const krylov *kr, void *w, int64_t from)
{
    int64_t J = kr->cols - from, b = kr->b, n = p->n;
    const void *v = elem(kr->t, kr->v, from * n);
    int rc = lr_gemm(kr->t, 'T', 'N', J, b, n, 1.0, v, n, w, n, 0.0, kr->h, J);
    if (rc == LOWRANK_OK)
        rc = lr_gemm(kr->t, 'N', 'N', n, b, J, -1.0, v, n, kr->h, J, 1.0, w, n);
    return rc != LOWRANK_OK ? rc
                            : lr_gemm(kr->t, 'N', 'N', J, b, b, 1.0, kr->h, J, kr->racc, b, 1.0,
                                      elem(kr->t, kr->hacc, from), kr->cols);
}

/* w = Q r, w overwritten by Q (CholeskyQR, or Householder QR), keeping
 * Z = V hacc + w racc: racc = r racc. */
static int normalise(const problem *p, const krylov *kr, void *w, int householder)
{
    int64_t b = kr->b;
    int rc = householder ? lr_qr(kr->t, p->n, b, w, p->n, kr->r, b)
                         : cholesky_qr(kr->t, p->n, b, w, kr->r, NULL);
    if (rc == LOWRANK_OK)
        rc = lr_gemm(kr->t, 'N', 'N', b, b, b, 1.0, kr->r, b, kr->racc, b, 0.0, kr->x, b);
    if (rc == LOWRANK_OK)
        memcpy(kr->racc, kr->x, (size_t)(b * b) * esize(kr->t));
    return rc;
}

/* The robust orthonormalisation of w against V and within itself: block
 * Gram-Schmidt twice, then Householder QR, repeated until V^T w shows that
 * w was not (nearly) inside span(V), as it can be once the Krylov space
 * stops growing (a matrix of rank below the basis size). */
static int orthonormalise_robust(const problem *p, const krylov *kr, void *w)
{
    double limit = 64 * sqrt((double)p->n) * roundoff(kr->t);
    int rc = LOWRANK_OK;
    for (int round = 0; rc == LOWRANK_OK && round < 4; round++) {
        for (int pass = 0; rc == LOWRANK_OK && kr->cols > 0 && pass < 2; pass++)
            rc = project_out(p, kr, w, 0);
        if (rc == LOWRANK_OK)
            rc = normalise(p, kr, w, 1);
        if (rc != LOWRANK_OK || kr->cols == 0)
            return rc;
        rc = lr_gemm(kr->t, 'T', 'N', kr->cols, kr->b, p->n, 1.0, kr->v, p->n, w, p->n, 0.0,
                     kr->h, kr->cols);
        if (rc == LOWRANK_OK && max_abs(kr->t, kr->h, kr->cols * kr->b) <= limit)
            return LOWRANK_OK;
    }
    return rc != LOWRANK_OK ? rc
                            : lr_fail(LOWRANK_ENOCONV, "block orthogonalisation did not converge");
}

/* Whether the k x k r is within 1/2 of the identity, entry by entry. */
static int near_identity(lowrank_dtype t, const void *r, int64_t k)
{
    for (int64_t j = 0; j < k; j++)
        for (int64_t i = 0; i < k; i++)
            if (fabs(get(t, r, i + j * k) - (i == j)) > 0.5)
                return 0;
    return 1;
}

/* Orthonormalise w (n x b) against V and within itself, all in BLAS-3:
 * block Gram-Schmidt with CholeskyQR, twice (BCGS2), with H and R
 * accumulated in hacc and racc.  w = (M^T M) V_j is orthogonal to all but
 * the last two blocks in exact arithmetic (the block Lanczos recurrence),
 * so the first pass projects out only those and the second, over the
 * whole basis, what rounding left along the others: on a long basis that
 * halves the work.  The second pass acts on orthonormal columns, so its
 * triangle is near the identity unless w was nearly inside span(V) or too
 * ill-conditioned for CholeskyQR; those cases go to
 * orthonormalise_robust(). */
static int orthonormalise(const problem *p, const krylov *kr, void *w)
{
    if (kr->cols > 0)
        memset(kr->hacc, 0, (size_t)(kr->cols * kr->b) * esize(kr->t));
    set_identity(kr->t, kr->racc, kr->b);
    int rc = LOWRANK_OK, healthy = 1;
    int64_t recent = kr->cols > 2 * kr->b ? kr->cols - 2 * kr->b : 0;
    for (int pass = 0; rc == LOWRANK_OK && healthy && pass < 2; pass++) {
        if (kr->cols > 0)
            rc = project_out(p, kr, w, pass == 0 ? recent : 0);
        if (rc == LOWRANK_OK)
            rc = normalise(p, kr, w, 0);
        if (rc == LOWRANK_EDEGENERATE ||
            (rc == LOWRANK_OK && pass == 1 && !near_identity(kr->t, kr->r, kr->b))) {
            rc = LOWRANK_OK;
            healthy = 0;
        }
    }
    return rc != LOWRANK_OK || healthy ? rc : orthonormalise_robust(p, kr, w);
}

/* The block just orthonormalised in place at column cols of V, appended
 * (with its image Y = M w when Y is kept). */
static int krylov_append(const problem *p, krylov *kr)
{
    void *w = elem(kr->t, kr->v, kr->cols * p->n);
    int rc = orthonormalise(p, kr, w);
    if (rc == LOWRANK_OK && !kr->gram && !kr->products)
        rc = lr_svd_apply(p, kr->b, w, p->n, elem(p->t, kr->y, kr->cols * p->m), p->m);
    if (rc == LOWRANK_OK)
        kr->cols += kr->b;
    return rc;
}

/* The first block: b random directions, or, with q = 0, where no Krylov
 * step will follow, M^T of b random directions on the long side: the row
 * space sampled as by the randomized range finder of Halko, Martinsson and
 * Tropp (the random block of the long side is made in Y's memory, or in
 * its own where Y is not kept). */
int lr_krylov_start(const problem *p, krylov *kr, uint64_t seed, int64_t q)
{
    lr_rng rng;
    lr_rng_seed(&rng, seed);
    int rc = LOWRANK_OK;
    if (q > 0) {
        lr_rng_fill_normal(&rng, kr->t, kr->v, p->n * kr->b);
    } else {
        void *g = kr->products ? scratch(p->t, p->m * kr->b) : kr->y;
        if (g)
            lr_rng_fill_normal(&rng, p->t, g, p->m * kr->b);
        rc = g ? lr_svd_apply_t(p, kr->b, g, p->m, kr->v, p->n) : LOWRANK_ENOMEM;
        if (g != kr->y)
            free(g);
    }
    return rc == LOWRANK_OK ? krylov_append(p, kr) : rc;
}

/* z (n x b) = G x, x n x b, on the Gram matrix: as the transpose of x^T G,
 * through y, the orientation in which OpenBLAS 0.3.21 runs this narrow
 * product faster: a quarter for blocks of 8 to 12 (its packing of G costs
 * less), twice for the single vector of the Lanczos route (gemv reading G
 * along its columns). */
static int gram_product(const problem *p, const krylov *kr, const void *x, void *z)
{
    int64_t n = p->n, b = kr->b;
    int rc = lr_gemm(LOWRANK_FLOAT64, 'T', 'N', b, n, n, 1.0, x, n, kr->gram, n, 0.0, kr->y, b);
    if (rc == LOWRANK_OK)
        lr_svd_copy_transposed(LOWRANK_FLOAT64, kr->y, b, z, n, b, n);
    return rc;
}

/* The next block: Z = M^T M of the last block (M^T Y, G V, or products
 * with M), orthonormalised against the basis; its coefficients are the
 * last block's D and S. */
int lr_krylov_extend(const problem *p, krylov *kr)
{
    int64_t b = kr->b, last = kr->cols - b;
    void *z = elem(kr->t, kr->v, kr->cols * p->n);
    const void *vl = elem(kr->t, kr->v, last * p->n);
    int rc = kr->gram       ? gram_product(p, kr, vl, z)
             : kr->products ? lr_svd_gram(p, kr->t, b, vl, z, kr->y)
                            : lr_svd_apply_t(p, b, elem(p->t, kr->y, last * p->m), p->m, z, p->n);
    if (rc == LOWRANK_OK)
        rc = krylov_append(p, kr);
    if (rc == LOWRANK_OK) { /* hacc is (cols - b) x b: its last block rows are D */
        lr_svd_copy_columns(kr->t, elem(kr->t, kr->hacc, last), last + b, kr->t,
                     elem(kr->t, kr->d, last * b), b, b, b, 0);
        memcpy(elem(kr->t, kr->s, last * b), kr->racc, (size_t)(b * b) * esize(kr->t));
    }
    return rc;
}

/* g (L x L, zeroed, lower triangle) = V^T M^T M V on the first L columns,
 * from the blocks D_j (j < known) and the S_j between them. */
void lr_krylov_blocks(const krylov *kr, int64_t L, int64_t known, void *g)
{
    int64_t b = kr->b;
    for (int64_t j = 0; j < known; j += b) {
        lr_svd_copy_columns(kr->t, elem(kr->t, kr->d, j * b), b, kr->t, elem(kr->t, g, j + j * L),
                            L, b, b, 0);
        if (j + b < L)
            lr_svd_copy_columns(kr->t, elem(kr->t, kr->s, j * b), b, kr->t,
                         elem(kr->t, g, j + b + j * L), L, b, b, 0);
    }
}

/* g (cols x cols, zeroed, lower triangle) = Y^T Y = V^T M^T M V from the
 * blocks, the last diagonal one Y_last^T Y_last, or without Y
 * V_last^T (M^T M V_last) by one more product. */
static int krylov_gram(const problem *p, const krylov *kr, void *g)
{
    int64_t L = kr->cols, b = kr->b, last = L - b, n = p->n;
    lr_krylov_blocks(kr, L, last, g);
    if (!kr->products)
        return lr_syrk(p->t, 'L', 'T', b, p->m, 1.0, elem(p->t, kr->y, last * p->m), p->m, 0.0,
                       elem(p->t, g, last + last * L), L);
    const void *vl = elem(kr->t, kr->v, last * n);
    void *z = scratch(kr->t, n * b);
    int rc = z ? lr_svd_gram(p, kr->t, b, vl, z, kr->y) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = lr_gemm(kr->t, 'T', 'N', b, b, n, 1.0, vl, n, z, n, 0.0,
                     elem(kr->t, g, last + last * L), L);
    free(z);
    return rc;
}

/* Rayleigh-Ritz in the Krylov space: the eigen-decomposition of
 * G = Y^T Y (divide and conquer: for these sizes faster than a subset
 * driver) chooses the rank when k = 0, and with wk (L x k) its leading
 * eigenvectors, M V wk = Y wk: the projection onto span(V wk) needs no
 * further pass over M (one, without Y). */
static int krylov_ritz(const problem *p, const krylov *kr, int64_t k, double tol, result *r)
{
    int64_t L = kr->cols;
    void *g = scratch_zero(p->t, L * L), *w = scratch(p->t, L), *wk = NULL, *c = NULL,
         *vk = NULL;
    double *lambda = lr_malloc((size_t)L, sizeof *lambda);
    int rc = g && w && lambda ? krylov_gram(p, kr, g) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = lr_syevd(p->t, L, g, L, w);
    for (int64_t i = 0; rc == LOWRANK_OK && i < L; i++)
        lambda[i] = get(p->t, w, i);
    if (rc == LOWRANK_OK)
        rc = lr_svd_result_alloc_with_basis(
            p, k > 0 ? k : lr_svd_rank_for_tolerance(p, lambda, L, tol), r, &vk, &c);
    if (rc == LOWRANK_OK && !(wk = scratch(p->t, L * r->k)))
        rc = LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        k = r->k;
        lr_svd_copy_columns(p->t, elem(p->t, g, (L - k) * L), L, p->t, wk, L, L, k, 1);
        rc = lr_gemm(p->t, 'N', 'N', p->n, k, L, 1.0, kr->v, p->n, wk, L, 0.0, vk, p->n);
    }
    if (rc == LOWRANK_OK)
        rc = kr->products ? lr_svd_apply(p, k, vk, p->n, c, p->m)
                          : lr_gemm(p->t, 'N', 'N', p->m, k, L, 1.0, kr->y, p->m, wk, L, 0.0, c,
                                    p->m);
    if (rc == LOWRANK_OK)
        rc = lr_svd_project_onto(p, vk, c, r);
    if (rc == LOWRANK_OK)
        r->error = lr_svd_projection_error(p, lr_svd_sum_sq(LOWRANK_FLOAT64, r->sigma, k));
    free(g);
    free(w);
    free(lambda);
    free(wk);
    free(c);
    free(vk);
    return rc;
}

/* Randomized SVD of rank k: block Krylov with blocks of b and depth q,
 * (q + 1) b <= n: 2q + 1 products with blocks of M (2 for q = 0), no
 * other pass over M.  Over a file, Y is not kept, and q + 2 fused passes
 * (q + 1 for q = 0) do it: M^T M V_j for j < q, the last diagonal block,
 * and M V wk for the result. */
int lr_svd_randomized(const problem *p, int64_t k, int64_t b, int64_t q, uint64_t seed, result *r)
{
    krylov kr = {.t = p->t, .b = b, .products = streamed(p)};
    double steps = (double)(q + 2);
    int rc = lr_krylov_reserve(p, &kr, (q + 1) * b);
    lr_svd_span(p, 0, 1 / steps);
    if (rc == LOWRANK_OK)
        rc = lr_krylov_start(p, &kr, seed, q);
    for (int64_t j = 0; rc == LOWRANK_OK && j < q; j++) {
        rc = lr_progress_report(p->progress, (double)(j + 1) / steps);
        lr_svd_span(p, (double)(j + 1) / steps, (double)(j + 2) / steps);
        if (rc == LOWRANK_OK)
            rc = lr_krylov_extend(p, &kr);
    }
    lr_svd_span(p, (double)(q + 1) / steps, 1);
    if (rc == LOWRANK_OK)
        rc = krylov_ritz(p, &kr, k, 0, r);
    lr_krylov_free(&kr);
    return rc;
}

/* The block size of the tolerance mode: TOLERANCE_BLOCK, or n / 8 (at
 * least 4) on a smaller side below 256, so that the space can grow. */
int64_t lr_svd_tolerance_block(const problem *p)
{
    int64_t b = p->n / 8;
    return b > TOLERANCE_BLOCK ? TOLERANCE_BLOCK : b < 4 ? 4 : b;
}

/* Randomized SVD with the rank chosen by the tolerance: the Krylov space
 * grows by blocks of lr_svd_tolerance_block() until the projection onto it meets
 * the tolerance, then by q more blocks; the rank is the smallest whose Ritz
 * approximation meets the tolerance.  *exhausted reports a space that
 * would outgrow n before meeting the tolerance (the exact route then
 * does better). */
int lr_svd_randomized_tolerance(const problem *p, double tol, int64_t q, uint64_t seed, result *r,
                                int *exhausted)
{
    krylov kr = {.t = p->t, .b = lr_svd_tolerance_block(p)};
    int rc = lr_krylov_reserve(p, &kr, 4 * kr.b);
    if (rc == LOWRANK_OK)
        rc = lr_krylov_start(p, &kr, seed, q);
    double budget = tol * tol * p->sumsq;
    double captured = rc == LOWRANK_OK ? lr_svd_sum_sq(p->t, kr.y, p->m * kr.cols) : 0;
    int64_t more = -1; /* blocks still to add once the tolerance is met */
    *exhausted = 0;
    while (rc == LOWRANK_OK && more != 0) {
        if (more < 0 && p->sumsq - captured <= budget)
            more = q;
        if (more == 0 || kr.cols + kr.b > p->n) {
            *exhausted = more < 0;
            break;
        }
        more -= more > 0;
        rc = lr_progress_report(p->progress, (double)kr.cols / (double)p->n);
        if (rc == LOWRANK_OK && kr.cols + kr.b > kr.cap)
            rc = lr_krylov_reserve(p, &kr, 2 * kr.cap);
        if (rc == LOWRANK_OK)
            rc = lr_krylov_extend(p, &kr);
        if (rc == LOWRANK_OK)
            captured += lr_svd_sum_sq(p->t, elem(p->t, kr.y, (kr.cols - kr.b) * p->m), p->m * kr.b);
    }
    if (rc == LOWRANK_OK && !*exhausted)
        rc = krylov_ritz(p, &kr, 0, tol, r);
    lr_krylov_free(&kr);
    return rc;
}
