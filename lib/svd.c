/*
 * svd.c - l2 SVD truncation: the best rank-k approximation of a matrix,
 * exact (a Gram-matrix route certified by error bounds, LAPACK's full SVD as
 * the fallback) or randomized (block Krylov), with the rank optionally
 * chosen by a Frobenius error tolerance.  docs/svd.md gives the algorithms,
 * their guarantees and the measurements behind the choices.
 *
 * Every algorithm works on M, the caller's matrix or its transpose, whichever
 * is tall (m >= n), reached as op(view) of the column-major view: neither
 * layout nor shape costs a transposed copy.  The results, U of M (m x k) and
 * V of M (n x k), are computed straight into the memory of the handles the
 * caller gets back, in whichever layout makes that possible.
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

/* Defaults of the randomized method (docs/svd.md has the measurements). */
enum {
    DEFAULT_OVERSAMPLING = 20, /* block size b = k + oversampling */
    DEFAULT_DEPTH = 2,         /* Krylov depth q: the space is [V, (M^T M) V, ... (M^T M)^q V] */
    TOLERANCE_BLOCK = 32       /* block size when the tolerance chooses the rank (n >= 256) */
};

/* The share of the exact method's progress reports given to forming the
 * Gram matrix (about a third of the time on square matrices, docs/svd.md). */
#define GRAM_SHARE 0.3

/* ------------------------------------------------------------ scalars */

static size_t esize(lowrank_dtype t) { return lr_dtype_size(t); }

/* Unit roundoff of the dtype. */
static double roundoff(lowrank_dtype t) { return t == LOWRANK_FLOAT32 ? 0x1p-24 : 0x1p-53; }

static void *elem(lowrank_dtype t, void *base, int64_t offset)
{
    return (char *)base + (size_t)offset * esize(t);
}

static const void *const_elem(lowrank_dtype t, const void *base, int64_t offset)
{
    return (const char *)base + (size_t)offset * esize(t);
}

static double get(lowrank_dtype t, const void *base, int64_t i)
{
    return t == LOWRANK_FLOAT32 ? (double)((const float *)base)[i] : ((const double *)base)[i];
}

static void set(lowrank_dtype t, void *base, int64_t i, double v)
{
    if (t == LOWRANK_FLOAT32)
        ((float *)base)[i] = (float)v;
    else
        ((double *)base)[i] = v;
}

static void *scratch(lowrank_dtype t, int64_t count) { return lr_malloc((size_t)count, esize(t)); }

static void *scratch_zero(lowrank_dtype t, int64_t count)
{
    return lr_calloc((size_t)count, esize(t));
}

/* dst (rows x cols, leading dimension ldd, dtype td) = src (lds, ts), with the
 * columns in reverse order when reverse is set; converts between dtypes. */
static void copy_columns(lowrank_dtype ts, const void *src, int64_t lds, lowrank_dtype td,
                         void *dst, int64_t ldd, int64_t rows, int64_t cols, int reverse)
{
    for (int64_t j = 0; j < cols; j++) {
        int64_t from = reverse ? cols - 1 - j : j;
        if (ts == td) {
            memcpy(elem(td, dst, j * ldd), const_elem(ts, src, from * lds),
                   (size_t)rows * esize(td));
            continue;
        }
        for (int64_t i = 0; i < rows; i++)
            set(td, dst, i + j * ldd, get(ts, src, i + from * lds));
    }
}

/* dst (cols x rows, leading dimension ldd) = the transpose of src. */
static void copy_transposed(lowrank_dtype t, const void *src, int64_t lds, void *dst, int64_t ldd,
                            int64_t rows, int64_t cols)
{
    for (int64_t j = 0; j < cols; j++)
        for (int64_t i = 0; i < rows; i++)
            set(t, dst, j + i * ldd, get(t, src, i + j * lds));
}

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

/* ------------------------------------------------------------ the problem */

typedef struct problem {
    lowrank_dtype t;
    const void *view; /* column-major data, ld */
    int64_t ld;
    char op;          /* M = view ('N') or view^T ('T') */
    int64_t m, n;     /* M is m x n, m >= n */
    int flipped;      /* the caller's matrix is M^T */
    double sumsq;     /* ||M||_F^2 */
    double unscale;   /* singular values of the caller's matrix = unscale * those of M */
    void *copy;       /* owned scaled copy behind view, when the magnitudes needed one */
    lr_progress *progress; /* the call's progress report (lowrank_opts_set_progress) */
} problem;

static char flip_op(char op) { return op == 'N' ? 'T' : 'N'; }

/* y (m x c) = M x, x n x c. */
static int apply(const problem *p, int64_t c, const void *x, int64_t ldx, void *y, int64_t ldy)
{
    return lr_gemm(p->t, p->op, 'N', p->m, c, p->n, 1.0, p->view, p->ld, x, ldx, 0.0, y, ldy);
}

/* z (n x c) = M^T y, y m x c. */
static int apply_t(const problem *p, int64_t c, const void *y, int64_t ldy, void *z, int64_t ldz)
{
    return lr_gemm(p->t, flip_op(p->op), 'N', p->n, c, p->m, 1.0, p->view, p->ld, y, ldy, 0.0, z,
                   ldz);
}

/* Largest magnitude and sum of squares (in double) of a column, with four
 * independent partial sums the compiler can keep in vector registers.  NaN
 * escapes the maximum but not the sum, which turns NaN or infinite when the
 * column holds NaN or infinity. */
#define DEFINE_SCAN_COLUMN(name, type)                                                             \
    static void name(const type *x, int64_t n, double *maxabs, double *sumsq)                     \
    {                                                                                              \
        double s[4] = {0, 0, 0, 0}, m[4] = {0, 0, 0, 0};                                           \
        int64_t i = 0;                                                                             \
        for (; i + 4 <= n; i += 4)                                                                 \
            for (int r = 0; r < 4; r++) {                                                          \
                double v = x[i + r], a = v < 0 ? -v : v;                                           \
                s[r] += v * v;                                                                     \
                m[r] = a > m[r] ? a : m[r];                                                        \
            }                                                                                      \
        for (; i < n; i++) {                                                                       \
            double v = x[i], a = v < 0 ? -v : v;                                                   \
            s[0] += v * v;                                                                         \
            m[0] = a > m[0] ? a : m[0];                                                            \
        }                                                                                          \
        for (int r = 0; r < 4; r++)                                                                \
            *maxabs = m[r] > *maxabs ? m[r] : *maxabs;                                             \
        *sumsq += (s[0] + s[1]) + (s[2] + s[3]);                                                   \
    }
DEFINE_SCAN_COLUMN(scan_column_f32, float)
DEFINE_SCAN_COLUMN(scan_column_f64, double)

/* Largest magnitude and squared Frobenius norm of the rows x cols
 * column-major data. */
static void scan(lowrank_dtype t, const void *data, int64_t ld, int64_t rows, int64_t cols,
                 double *maxabs, double *sumsq)
{
    *maxabs = 0;
    *sumsq = 0;
    for (int64_t j = 0; j < cols; j++) {
        const void *col = const_elem(t, data, j * ld);
        if (t == LOWRANK_FLOAT32)
            scan_column_f32(col, rows, maxabs, sumsq);
        else
            scan_column_f64(col, rows, maxabs, sumsq);
    }
}

/* The magnitudes within which every algorithm below is free of overflow and
 * harmful underflow: squares of singular values (Gram matrices, Cholesky)
 * stay inside the dtype's range for any size the BLAS integer allows. */
static int magnitude_safe(lowrank_dtype t, double maxabs, double sumsq)
{
    double limit = t == LOWRANK_FLOAT32 ? 0x1p20 : 0x1p250;
    return isfinite(sumsq) && (maxabs == 0 || (maxabs <= limit && maxabs >= 1 / limit));
}

/* Replace the view by a compact copy scaled by a power of two (exact) that
 * brings the largest magnitude into [1, 2). */
static int scale_copy(problem *p, int64_t vm, int64_t vn, double maxabs)
{
    int e = -ilogb(maxabs);
    p->copy = scratch(p->t, vm * vn);
    if (!p->copy)
        return LOWRANK_ENOMEM;
    for (int64_t j = 0; j < vn; j++)
        for (int64_t i = 0; i < vm; i++)
            set(p->t, p->copy, i + j * vm, ldexp(get(p->t, p->view, i + j * p->ld), e));
    p->view = p->copy;
    p->ld = vm;
    p->unscale = ldexp(1.0, -e);
    scan(p->t, p->copy, vm, vm, vn, &maxabs, &p->sumsq);
    return LOWRANK_OK;
}

static int problem_init(const lowrank_matrix *a, problem *p)
{
    int64_t vm, vn;
    int transposed;
    lr_colmajor_view(a, &vm, &vn, &transposed);
    *p = (problem){a->dtype, a->data, a->ld, vm >= vn ? 'N' : 'T', vm >= vn ? vm : vn,
                   vm >= vn ? vn : vm, transposed == (vm < vn) ? 0 : 1, 0, 1.0, NULL, NULL};
    double maxabs;
    scan(p->t, p->view, p->ld, vm, vn, &maxabs, &p->sumsq);
    if (!isfinite(p->sumsq)) {
        int rc = lr_check_finite(a, "a");
        if (rc != LOWRANK_OK)
            return rc;
    }
    return magnitude_safe(p->t, maxabs, p->sumsq) ? LOWRANK_OK : scale_copy(p, vm, vn, maxabs);
}

/* ------------------------------------------------------------ results */

/* U of M (um, m x k) and V of M (vm, n x k), column-major, live in the
 * handles returned to the caller: for A = M they are U (column-major) and
 * V^T (row-major k x n); for A = M^T, V^T (row-major k x m) and U. */
typedef struct result {
    int64_t k;
    lowrank_matrix *left, *right; /* own um and vm */
    void *um, *vm;
    double *sigma; /* k singular values of M, descending */
    double error;  /* relative Frobenius error */
} result;

static int result_alloc(const problem *p, int64_t k, result *r)
{
    *r = (result){k, NULL, NULL, NULL, NULL, NULL, 0};
    lowrank_layout lu = p->flipped ? LOWRANK_ROW_MAJOR : LOWRANK_COL_MAJOR;
    lowrank_layout lv = p->flipped ? LOWRANK_COL_MAJOR : LOWRANK_ROW_MAJOR;
    int rc = lr_matrix_alloc(p->t, lu, p->flipped ? k : p->m, p->flipped ? p->m : k, 0, &r->left);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_alloc(p->t, lv, p->flipped ? p->n : k, p->flipped ? k : p->n, 0,
                             &r->right);
    if (rc == LOWRANK_OK && !(r->sigma = lr_malloc((size_t)k, sizeof(double))))
        rc = LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        r->um = r->left->data;
        r->vm = r->right->data;
    }
    return rc;
}

static void result_free(result *r)
{
    lowrank_matrix_free(r->left);
    lowrank_matrix_free(r->right);
    free(r->sigma);
    r->left = r->right = NULL;
    r->sigma = NULL;
}

/* The relative error sqrt(||M||_F^2 - captured) / ||M||_F of a projection
 * that keeps `captured` of the squared norm; 0 for M = 0. */
static double projection_error(const problem *p, double captured)
{
    return p->sumsq > 0 ? sqrt(fmax(0.0, p->sumsq - captured) / p->sumsq) : 0.0;
}

/* The sum of squares, in double, of count elements of dtype t. */
static double sum_sq(lowrank_dtype t, const void *x, int64_t count)
{
    double s = 0;
    for (int64_t i = 0; i < count; i++)
        s += get(t, x, i) * get(t, x, i);
    return s;
}

/* Hand the result over as factors of the caller's matrix. */
static int result_finish(const problem *p, result *r, lowrank_factors **out)
{
    lowrank_matrix *s = NULL;
    int rc = lr_matrix_alloc(p->t, LOWRANK_COL_MAJOR, r->k, 1, 0, &s);
    for (int64_t i = 0; rc == LOWRANK_OK && i < r->k; i++)
        set(p->t, s->data, i, r->sigma[i]);
    if (rc == LOWRANK_OK) /* back to the caller's scale: sigma_1 may overflow */
        rc = lr_matrix_unscale(s, ilogb(p->unscale), 0, "the largest singular value");
    if (rc != LOWRANK_OK) {
        lowrank_matrix_free(s);
        result_free(r);
        return rc;
    }
    lowrank_matrix *u = p->flipped ? r->right : r->left, *vt = p->flipped ? r->left : r->right;
    double error = r->error;
    r->left = r->right = NULL;
    result_free(r);
    return lr_factors_new(u, s, vt, error, out);
}

/* The zero matrix: any orthonormal factors will do; the leading unit
 * vectors are the simplest. */
static void zero_result(const problem *p, result *r)
{
    memset(r->um, 0, (size_t)(p->m * r->k) * esize(p->t));
    memset(r->vm, 0, (size_t)(p->n * r->k) * esize(p->t));
    for (int64_t i = 0; i < r->k; i++) {
        set(p->t, r->um, i + i * p->m, 1.0);
        set(p->t, r->vm, i + i * p->n, 1.0);
        r->sigma[i] = 0;
    }
    r->error = 0;
}

/* The smallest rank whose relative error is at most tol, from count squared
 * singular values (or estimates of them) w, ascending: the leading count of
 * M's spectrum, the rest of ||M||_F^2 being discarded in any case.  The
 * discarded part is summed from the smallest value up, so that it is
 * accurate even when tiny.  At least 1, at most count. */
static int64_t rank_for_tolerance(const problem *p, const double *w, int64_t count, double tol)
{
    double budget = tol * tol * p->sumsq, kept = 0;
    for (int64_t i = 0; i < count; i++)
        kept += fmax(0.0, w[i]);
    double discarded = fmax(0.0, p->sumsq - kept);
    int64_t k = count;
    for (int64_t i = 0; i + 1 < count; i++) {
        discarded += fmax(0.0, w[i]);
        if (discarded > budget)
            break;
        k = count - 1 - i;
    }
    return k;
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
        double cond = sqrt(sum_sq(t, r, k * k) * sum_sq(t, x, k * k));
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
        double norm = sqrt(sum_sq(t, col, m));
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
static int project_onto(const problem *p, const void *vk, void *c, result *r)
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
static int result_alloc_with_basis(const problem *p, int64_t k, result *r, void **vk, void **c)
{
    int rc = result_alloc(p, k, r);
    if (rc == LOWRANK_OK) {
        *vk = scratch(p->t, p->n * k);
        *c = scratch(p->t, p->m * k);
        rc = *vk && *c ? LOWRANK_OK : LOWRANK_ENOMEM;
    }
    return rc;
}

/* ------------------------------------------------------------ block Krylov */

/* An orthonormal basis V (n x cols) of the block Krylov space
 * [V0, (M^T M) V0, ..., (M^T M)^q V0] of a random V0, in blocks of b
 * columns.  The randomized method multiplies by M and M^T, keeping
 * Y = M V (m x cols); the exact method's Lanczos route multiplies by the
 * double Gram matrix G = M^T M instead (gram set; the basis in double; no
 * Y).  Orthonormalising Z_j = M^T M V_j against the basis writes it as
 * Z_j = V H + V_(j+1) R, which gives the projection V^T M^T M V without
 * another pass over M: it is block tridiagonal (M^T M V_j lies in the span
 * of V_(j-1), V_j, V_(j+1)), with diagonal blocks D_j = V_j^T Z_j, the last
 * rows of H, and subdiagonal blocks S_j = V_(j+1)^T Z_j = R.  The last
 * diagonal block needs one more product: Y_last^T Y_last where Y is kept;
 * the Lanczos route leaves that block out of its Rayleigh-Ritz space
 * instead. */
typedef struct krylov {
    lowrank_dtype t;    /* of the basis: M's, or double on the Gram matrix */
    const double *gram; /* the n x n Gram matrix, both triangles, or NULL */
    int64_t b, cols, cap;
    void *v, *y;        /* n x cap; m x cap (Y), or b x n on the Gram matrix */
    void *d, *s;        /* b x cap: D_j and S_j at column j b */
    void *h, *hacc;     /* cap x b: V^T w, and H as it accumulates */
    void *r, *racc, *x; /* b x b: a triangle, R as it accumulates, scratch */
} krylov;

static int grow(void **p, size_t count, size_t size)
{
    void *q = count > SIZE_MAX / size ? NULL : realloc(*p, count * size);
    if (!q)
        return lr_fail(LOWRANK_ENOMEM, "cannot allocate %zu x %zu bytes", count, size);
    *p = q;
    return LOWRANK_OK;
}

static int krylov_reserve(const problem *p, krylov *kr, int64_t cap)
{
    int64_t b = kr->b;
    void **buf[] = {&kr->v, &kr->y, &kr->d, &kr->s, &kr->h, &kr->hacc, &kr->r, &kr->racc, &kr->x};
    const int64_t count[] = {p->n * cap, kr->gram ? b * p->n : p->m * cap, b * cap, b * cap,
                             cap * b,    cap * b, b * b, b * b, b * b};
    int rc = LOWRANK_OK;
    for (size_t i = 0; rc == LOWRANK_OK && i < sizeof buf / sizeof buf[0]; i++)
        rc = grow(buf[i], (size_t)count[i], esize(kr->t));
    if (rc == LOWRANK_OK)
        kr->cap = cap;
    return rc;
}

static void krylov_free(krylov *kr)
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
    if (rc == LOWRANK_OK && !kr->gram)
        rc = apply(p, kr->b, w, p->n, elem(p->t, kr->y, kr->cols * p->m), p->m);
    if (rc == LOWRANK_OK)
        kr->cols += kr->b;
    return rc;
}

/* The first block: b random directions, or, with q = 0, where no Krylov
 * step will follow, M^T of b random directions on the long side: the row
 * space sampled as by the randomized range finder of Halko, Martinsson and
 * Tropp (the random block of the long side is made in Y's memory). */
static int krylov_start(const problem *p, krylov *kr, uint64_t seed, int64_t q)
{
    lr_rng rng;
    lr_rng_seed(&rng, seed);
    int rc = LOWRANK_OK;
    if (q > 0) {
        lr_rng_fill_normal(&rng, kr->t, kr->v, p->n * kr->b);
    } else {
        lr_rng_fill_normal(&rng, p->t, kr->y, p->m * kr->b);
        rc = apply_t(p, kr->b, kr->y, p->m, kr->v, p->n);
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
        copy_transposed(LOWRANK_FLOAT64, kr->y, b, z, n, b, n);
    return rc;
}

/* The next block: Z = M^T M of the last block (M^T Y, or G V),
 * orthonormalised against the basis; its coefficients are the last block's
 * D and S. */
static int krylov_extend(const problem *p, krylov *kr)
{
    int64_t b = kr->b, last = kr->cols - b;
    void *z = elem(kr->t, kr->v, kr->cols * p->n);
    int rc = kr->gram ? gram_product(p, kr, elem(kr->t, kr->v, last * p->n), z)
                      : apply_t(p, b, elem(p->t, kr->y, last * p->m), p->m, z, p->n);
    if (rc == LOWRANK_OK)
        rc = krylov_append(p, kr);
    if (rc == LOWRANK_OK) { /* hacc is (cols - b) x b: its last block rows are D */
        copy_columns(kr->t, elem(kr->t, kr->hacc, last), last + b, kr->t,
                     elem(kr->t, kr->d, last * b), b, b, b, 0);
        memcpy(elem(kr->t, kr->s, last * b), kr->racc, (size_t)(b * b) * esize(kr->t));
    }
    return rc;
}

/* g (L x L, zeroed, lower triangle) = V^T M^T M V on the first L columns,
 * from the blocks D_j (j < known) and the S_j between them. */
static void krylov_blocks(const krylov *kr, int64_t L, int64_t known, void *g)
{
    int64_t b = kr->b;
    for (int64_t j = 0; j < known; j += b) {
        copy_columns(kr->t, elem(kr->t, kr->d, j * b), b, kr->t, elem(kr->t, g, j + j * L), L, b,
                     b, 0);
        if (j + b < L)
            copy_columns(kr->t, elem(kr->t, kr->s, j * b), b, kr->t,
                         elem(kr->t, g, j + b + j * L), L, b, b, 0);
    }
}

/* g (cols x cols, zeroed, lower triangle) = Y^T Y from the blocks. */
static int krylov_gram(const problem *p, const krylov *kr, void *g)
{
    int64_t L = kr->cols, b = kr->b, last = L - b;
    krylov_blocks(kr, L, last, g);
    return lr_syrk(p->t, 'L', 'T', b, p->m, 1.0, elem(p->t, kr->y, last * p->m), p->m, 0.0,
                   elem(p->t, g, last + last * L), L);
}

/* Rayleigh-Ritz in the Krylov space: the eigen-decomposition of
 * G = Y^T Y (divide and conquer: for these sizes faster than a subset
 * driver) chooses the rank when k = 0, and with wk (L x k) its leading
 * eigenvectors, M V wk = Y wk: the projection onto span(V wk) needs no
 * further pass over M. */
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
        rc = result_alloc_with_basis(p, k > 0 ? k : rank_for_tolerance(p, lambda, L, tol), r,
                                     &vk, &c);
    if (rc == LOWRANK_OK && !(wk = scratch(p->t, L * r->k)))
        rc = LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        k = r->k;
        copy_columns(p->t, elem(p->t, g, (L - k) * L), L, p->t, wk, L, L, k, 1);
        rc = lr_gemm(p->t, 'N', 'N', p->m, k, L, 1.0, kr->y, p->m, wk, L, 0.0, c, p->m);
    }
    if (rc == LOWRANK_OK)
        rc = lr_gemm(p->t, 'N', 'N', p->n, k, L, 1.0, kr->v, p->n, wk, L, 0.0, vk, p->n);
    if (rc == LOWRANK_OK)
        rc = project_onto(p, vk, c, r);
    if (rc == LOWRANK_OK)
        r->error = projection_error(p, sum_sq(LOWRANK_FLOAT64, r->sigma, k));
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
 * other pass over M. */
static int randomized(const problem *p, int64_t k, int64_t b, int64_t q, uint64_t seed,
                      result *r)
{
    krylov kr = {.t = p->t, .b = b};
    int rc = krylov_reserve(p, &kr, (q + 1) * b);
    if (rc == LOWRANK_OK)
        rc = krylov_start(p, &kr, seed, q);
    for (int64_t j = 0; rc == LOWRANK_OK && j < q; j++) {
        rc = lr_progress_report(p->progress, (double)(j + 1) / (double)(q + 2));
        if (rc == LOWRANK_OK)
            rc = krylov_extend(p, &kr);
    }
    if (rc == LOWRANK_OK)
        rc = krylov_ritz(p, &kr, k, 0, r);
    krylov_free(&kr);
    return rc;
}

/* The block size of the tolerance mode: TOLERANCE_BLOCK, or n / 8 (at
 * least 4) on a smaller side below 256, so that the space can grow. */
static int64_t tolerance_block(const problem *p)
{
    int64_t b = p->n / 8;
    return b > TOLERANCE_BLOCK ? TOLERANCE_BLOCK : b < 4 ? 4 : b;
}

/* Randomized SVD with the rank chosen by the tolerance: the Krylov space
 * grows by blocks of tolerance_block() until the projection onto it meets
 * the tolerance, then by q more blocks; the rank is the smallest whose Ritz
 * approximation meets the tolerance.  *exhausted reports a space that
 * would outgrow n before meeting the tolerance (the exact route then
 * does better). */
static int randomized_tolerance(const problem *p, double tol, int64_t q, uint64_t seed,
                                result *r, int *exhausted)
{
    krylov kr = {.t = p->t, .b = tolerance_block(p)};
    int rc = krylov_reserve(p, &kr, 4 * kr.b);
    if (rc == LOWRANK_OK)
        rc = krylov_start(p, &kr, seed, q);
    double budget = tol * tol * p->sumsq;
    double captured = rc == LOWRANK_OK ? sum_sq(p->t, kr.y, p->m * kr.cols) : 0;
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
            rc = krylov_reserve(p, &kr, 2 * kr.cap);
        if (rc == LOWRANK_OK)
            rc = krylov_extend(p, &kr);
        if (rc == LOWRANK_OK)
            captured += sum_sq(p->t, elem(p->t, kr.y, (kr.cols - kr.b) * p->m), p->m * kr.b);
    }
    if (rc == LOWRANK_OK && !*exhausted)
        rc = krylov_ritz(p, &kr, 0, tol, r);
    krylov_free(&kr);
    return rc;
}

/* ------------------------------------------------------------ exact */

/* g (n x n, lower triangle, double) = M^T M.  float32 data is converted to
 * double by panels of the summed index, so that the Gram matrix carries the
 * squares of small singular values to double precision without a full
 * double copy of M. */
static int gram_double(const problem *p, double *g)
{
    if (p->t == LOWRANK_FLOAT64)
        return lr_syrk(p->t, 'L', flip_op(p->op), p->n, p->m, 1.0, p->view, p->ld, 0.0, g, p->n);
    int64_t panel = (INT64_C(1) << 18) / p->n;
    panel = panel < 64 ? 64 : panel > p->m ? p->m : panel;
    double *buf = lr_malloc((size_t)(panel * p->n), sizeof *buf);
    int rc = buf ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t i0 = 0; rc == LOWRANK_OK && i0 < p->m; i0 += panel) {
        int64_t cnt = p->m - i0 < panel ? p->m - i0 : panel;
        double beta = i0 == 0 ? 0.0 : 1.0;
        if ((rc = lr_progress_report(p->progress, GRAM_SHARE * (double)i0 / (double)p->m)))
            break;
        if (p->op == 'N') { /* rows i0.. of the view */
            copy_columns(p->t, const_elem(p->t, p->view, i0), p->ld, LOWRANK_FLOAT64, buf, cnt, cnt,
                         p->n, 0);
            rc = lr_syrk(LOWRANK_FLOAT64, 'L', 'T', p->n, cnt, 1.0, buf, cnt, beta, g, p->n);
        } else { /* columns i0.. of the view */
            copy_columns(p->t, const_elem(p->t, p->view, i0 * p->ld), p->ld, LOWRANK_FLOAT64, buf,
                         p->n, p->n, cnt, 0);
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
static int residual(const problem *p, const result *r, void *res, double *norm2)
{
    int rc = apply_t(p, r->k, r->um, p->m, res, p->n);
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
static double certified_tolerance(const problem *p, const result *r)
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
           fmin(rho, norm2 / (2 * (last - next))) <= certified_tolerance(p, r);
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
    int rc = res ? residual(p, r, res, &norm2) : LOWRANK_ENOMEM;
    double next = k < p->n ? sqrt(fmax(0.0, lambda[k]) + e) : 0.0;
    *ok = rc == LOWRANK_OK && sqrt(norm2 / 2) <= triplet_tolerance(p, r) &&
          (gram_worst <= certified_tolerance(p, r) || residual_certifies(p, r, norm2, next));
    free(res);
    return rc;
}

/* LAPACK's full SVD (divide and conquer) of M: the fallback of the exact
 * route.  k = 0 chooses the rank by tol from the whole spectrum. */
static int full_svd(const problem *p, int64_t k, double tol, result *r)
{
    int64_t vm = p->op == 'N' ? p->m : p->n, vn = p->op == 'N' ? p->n : p->m, mn = p->n;
    void *a = scratch(p->t, vm * vn), *s = scratch(p->t, mn), *uv = scratch(p->t, vm * mn),
         *vtv = scratch(p->t, mn * vn);
    double *w = lr_malloc((size_t)mn, sizeof *w);
    int rc = a && s && uv && vtv && w ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        copy_columns(p->t, p->view, p->ld, p->t, a, vm, vm, vn, 0);
        rc = lr_gesdd(p->t, vm, vn, a, vm, s, uv, vm, vtv, mn);
    }
    for (int64_t i = 0; rc == LOWRANK_OK && i < mn; i++)
        w[i] = get(p->t, s, mn - 1 - i) * get(p->t, s, mn - 1 - i);
    if (rc == LOWRANK_OK)
        rc = result_alloc(p, k > 0 ? k : rank_for_tolerance(p, w, mn, tol), r);
    if (rc == LOWRANK_OK) {
        k = r->k;
        /* M = view: U = uv, V^T = vtv; M = view^T: U = vtv^T, V^T = uv^T */
        if (p->op == 'N') {
            copy_columns(p->t, uv, vm, p->t, r->um, p->m, p->m, k, 0);
            copy_transposed(p->t, vtv, mn, r->vm, p->n, k, p->n);
        } else {
            copy_columns(p->t, uv, vm, p->t, r->vm, p->n, p->n, k, 0);
            copy_transposed(p->t, vtv, mn, r->um, p->m, k, p->m);
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
        return projection_error(p, kept);
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
} lanczos;

static void lanczos_free(lanczos *lz)
{
    krylov_free(&lz->kr);
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
    int rc = grow((void **)&lz->t, (size_t)(L * L), sizeof(double));
    if (rc == LOWRANK_OK)
        rc = grow((void **)&lz->w, (size_t)L, sizeof(double));
    if (rc != LOWRANK_OK)
        return rc;
    lz->L = L;
    memset(lz->t, 0, (size_t)(L * L) * sizeof(double));
    krylov_blocks(kr, L, L, lz->t);
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
    int rc = krylov_reserve(p, kr, want + b);
    if (rc == LOWRANK_OK)
        rc = krylov_start(p, kr, LANCZOS_SEED, 1);
    while (rc == LOWRANK_OK && want > 0) {
        if (want + b > kr->cap)
            rc = krylov_reserve(p, kr, want + b);
        while (rc == LOWRANK_OK && kr->cols < want + b) {
            rc = lr_progress_report(p->progress, GRAM_SHARE + (1 - GRAM_SHARE) *
                                                                  (double)kr->cols /
                                                                  (double)max_cols);
            if (rc == LOWRANK_OK)
                rc = krylov_extend(p, kr);
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
        copy_columns(p->t, r->vm, n, LOWRANK_FLOAT64, vd, n, n, k, 0);
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
                         (beta + 1.01 * p->sumsq + c * sum_sq(LOWRANK_FLOAT64, vd, n * k));
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
    int rc = res ? residual(p, r, res, &norm2) : LOWRANK_ENOMEM;
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
        copy_columns(LOWRANK_FLOAT64, lz->t + (L - k) * L, L, LOWRANK_FLOAT64, wk, L, L, k, 1);
        rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', n, k, L, 1.0, lz->kr.v, n, wk, L, 0.0, vd, n);
    }
    if (rc == LOWRANK_OK && vd != vk)
        copy_columns(LOWRANK_FLOAT64, vd, n, p->t, vk, n, n, k, 0);
    free(wk);
    if (vd != vk)
        free(vd);
    return rc;
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
    lanczos lz = {.kr = {.t = LOWRANK_FLOAT64, .gram = g, .b = b}, .k = k};
    void *vk = NULL, *c = NULL;
    int done = 0;
    *ok = 0;
    symmetrize(g, p->n);
    int rc = (lz.e = lr_malloc((size_t)(b * (k + 1)), sizeof *lz.e))
                 ? lanczos_run(p, &lz, (double)p->m * roundoff(p->t), max_cols, &done)
                 : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK && done)
        rc = result_alloc_with_basis(p, k, r, &vk, &c);
    if (rc == LOWRANK_OK && done)
        rc = ritz_vectors(p, &lz, vk);
    if (rc == LOWRANK_OK && done)
        rc = apply(p, k, vk, p->n, c, p->m);
    if (rc == LOWRANK_OK && done)
        rc = project_onto(p, vk, c, r);
    if (rc == LOWRANK_OK && done)
        rc = certify_lanczos(p, g, ritz_value(&lz, k), r, ok);
    if (rc == LOWRANK_OK && *ok)
        r->error = projection_error(p, sum_sq(LOWRANK_FLOAT64, r->sigma, k));
    else
        result_free(r);
    lanczos_free(&lz);
    free(vk);
    free(c);
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
        rc = result_alloc_with_basis(p, k > 0 ? k : rank_for_tolerance(p, w, n, tol), r, &vk,
                                     &c);
    if (rc == LOWRANK_OK)
        k = r->k;
    if (rc == LOWRANK_OK) {
        copy_columns(LOWRANK_FLOAT64, elem(LOWRANK_FLOAT64, z, (cnt - k) * n), n, p->t, vk, n, n,
                     k, 1);
        rc = apply(p, k, vk, n, c, p->m);
    }
    if (rc == LOWRANK_OK)
        rc = project_onto(p, vk, c, r);
    int ok = 0;
    if (rc == LOWRANK_OK)
        rc = certify(p, lambda, r, &ok);
    if (rc == LOWRANK_OK && ok)
        r->error = gram_error(p, w, cnt, k);
    *taken = ok ? LR_ROUTE_GRAM : LR_ROUTE_LAPACK;
    if (rc == LOWRANK_OK && !ok) {
        result_free(r);
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
static int exact(const problem *p, int64_t k, double tol, lr_exact_route from, result *r,
                 lr_exact_route *taken)
{
    int64_t cap = p->n / 2;
    if (from == LR_ROUTE_RULE)
        from = lanczos_suits(p, k) ? LR_ROUTE_LANCZOS : LR_ROUTE_GRAM;
    *taken = from;
    if (from == LR_ROUTE_LAPACK)
        return full_svd(p, k, tol, r);
    double *g = lr_malloc((size_t)(p->n * p->n), sizeof *g);
    int rc = g ? gram_double(p, g) : LOWRANK_ENOMEM, ok = 0;
    if (rc == LOWRANK_OK)
        rc = lr_progress_report(p->progress, GRAM_SHARE);
    if (rc == LOWRANK_OK && from == LR_ROUTE_LANCZOS && k > 0 &&
        lanczos_start(k, LANCZOS_BLOCK) <= cap)
        rc = lanczos_route(p, g, k, cap, r, &ok);
    if (rc == LOWRANK_OK && !ok)
        rc = gram_route(p, g, k, tol, r, taken);
    free(g);
    return rc;
}

/* ------------------------------------------------------------ entry point */

static int check_arguments(const lowrank_matrix *a, int64_t k, const lowrank_opts *opts)
{
    int rc = lr_check_matrix(a, "a");
    if (rc != LOWRANK_OK)
        return rc;
    int64_t method = lr_opt_int(opts, LOWRANK_OPT_METHOD);
    if (method != LOWRANK_METHOD_AUTO && method != LOWRANK_METHOD_EXACT &&
        method != LOWRANK_METHOD_RANDOMIZED)
        return lr_fail(LOWRANK_EINVAL,
                       "LOWRANK_OPT_METHOD = %lld is not a method of lowrank_svd (use "
                       "LOWRANK_METHOD_AUTO, LOWRANK_METHOD_EXACT or LOWRANK_METHOD_RANDOMIZED)",
                       (long long)method);
    if (a->rows > INT_MAX || a->cols > INT_MAX)
        return lr_fail(LOWRANK_EOVERFLOW,
                       "a is %lld x %lld: a dimension exceeds the BLAS integer range (%d)",
                       (long long)a->rows, (long long)a->cols, INT_MAX);
    int64_t mn = a->rows < a->cols ? a->rows : a->cols;
    if (k < 0)
        return lr_fail(LOWRANK_ERANGE, "k = %lld is negative", (long long)k);
    if (k > mn)
        return lr_fail(LOWRANK_ERANGE, "k = %lld exceeds min(rows, cols) = %lld", (long long)k,
                       (long long)mn);
    if (k == 0 && lr_opt_double(opts, LOWRANK_OPT_TOLERANCE) == 0)
        return lr_fail(LOWRANK_ERANGE, "k = 0 asks LOWRANK_OPT_TOLERANCE for the rank, but the "
                                       "tolerance is 0: give k >= 1 or a tolerance in (0, 1)");
    return LOWRANK_OK;
}

static int64_t opt_or(const lowrank_opts *opts, lowrank_option key, int64_t fallback)
{
    int64_t v = lr_opt_int(opts, key);
    return v < 0 ? fallback : v;
}

/* Compute into r by the method the options ask for (see lowrank.h and
 * docs/svd.md for the auto rule). */
static int dispatch(const problem *p, int64_t k, const lowrank_opts *opts, int64_t method,
                    lr_exact_route from, result *r, lr_exact_route *taken)
{
    double tol = lr_opt_double(opts, LOWRANK_OPT_TOLERANCE);
    int64_t over = opt_or(opts, LOWRANK_OPT_OVERSAMPLING, DEFAULT_OVERSAMPLING);
    int64_t q = opt_or(opts, LOWRANK_OPT_POWER_ITER, DEFAULT_DEPTH);
    uint64_t seed = (uint64_t)lr_opt_int(opts, LOWRANK_OPT_SEED);
    *taken = LR_ROUTE_RULE;
    if (p->sumsq == 0) {
        int rc = result_alloc(p, k > 0 ? k : 1, r);
        if (rc == LOWRANK_OK)
            zero_result(p, r);
        return rc;
    }
    if (method == LOWRANK_METHOD_RANDOMIZED && k == 0) {
        int exhausted = 0;
        int grows = 2 * tolerance_block(p) <= p->n;
        int rc = grows ? randomized_tolerance(p, tol, q, seed, r, &exhausted) : LOWRANK_OK;
        if (rc != LOWRANK_OK || (grows && !exhausted))
            return rc;
        return exact(p, 0, tol, LR_ROUTE_RULE, r, taken);
    }
    /* b = k + over, the Krylov space has (q + 1) b <= n dimensions; auto
     * asks for at most half of n */
    int64_t b = k + (over < p->n ? over : p->n);
    int small = k > 0 && q < p->n && b <= p->n / (q + 1);
    int auto_randomized = small && b <= p->n / (2 * (q + 1));
    if (small && (method == LOWRANK_METHOD_RANDOMIZED ||
                  (method == LOWRANK_METHOD_AUTO && auto_randomized)))
        return randomized(p, k, b, q, seed, r);
    return exact(p, k, tol, method == LOWRANK_METHOD_EXACT ? from : LR_ROUTE_RULE, r, taken);
}

/* lowrank_svd by the given method, the exact one starting from `from`. */
static int svd(const lowrank_matrix *a, int64_t k, const lowrank_opts *opts, int64_t method,
               lr_exact_route from, lowrank_factors **out, lr_exact_route *taken)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int rc = check_arguments(a, k, opts);
    problem p = {0};
    if (rc == LOWRANK_OK)
        rc = problem_init(a, &p);
    result r = {0};
    lr_progress progress;
    lr_progress_begin(&progress, opts, "lowrank_svd");
    p.progress = &progress;
    if (rc == LOWRANK_OK)
        rc = dispatch(&p, k, opts, method, from, &r, taken);
    if (rc == LOWRANK_OK)
        rc = result_finish(&p, &r, out);
    else
        result_free(&r);
    free(p.copy);
    return rc;
}

int lowrank_svd(const lowrank_matrix *a, int64_t k, const lowrank_opts *opts,
                lowrank_factors **out)
{
    lr_exact_route taken;
    return svd(a, k, opts, lr_opt_int(opts, LOWRANK_OPT_METHOD), LR_ROUTE_RULE, out, &taken);
}

int lr_svd_exact(const lowrank_matrix *a, int64_t k, const lowrank_opts *opts,
                 lr_exact_route from, lowrank_factors **out, lr_exact_route *taken)
{
    lr_exact_route ignored;
    return svd(a, k, opts, LOWRANK_METHOD_EXACT, from, out, taken ? taken : &ignored);
}
