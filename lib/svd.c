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
 *
 * The parts: this file holds the problem (M, its scan and scaling), the
 * results and the entry point with its dispatch between the methods;
 * svd_krylov.c the tall SVD and the block Krylov space behind the
 * randomized method; svd_exact.c the exact method (Gram matrix, Lanczos,
 * certificates, LAPACK fallback).  svd.h declares what they share.
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
    DEFAULT_DEPTH = 2          /* Krylov depth q: the space is [V, (M^T M) V, ... (M^T M)^q V] */
};

/* ------------------------------------------------------------ scalars */

/* dst (rows x cols, leading dimension ldd, dtype td) = src (lds, ts), with the
 * columns in reverse order when reverse is set; converts between dtypes. */
void lr_svd_copy_columns(lowrank_dtype ts, const void *src, int64_t lds, lowrank_dtype td,
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
void lr_svd_copy_transposed(lowrank_dtype t, const void *src, int64_t lds, void *dst, int64_t ldd,
                            int64_t rows, int64_t cols)
{
    for (int64_t j = 0; j < cols; j++)
        for (int64_t i = 0; i < rows; i++)
            set(t, dst, j + i * ldd, get(t, src, i + j * lds));
}

/* ------------------------------------------------------------ the problem */

/* y (rows x c, leading dimension ldy) *= s. */
static void scale_block(lowrank_dtype t, int64_t rows, int64_t c, void *y, int64_t ldy, double s)
{
    for (int64_t j = 0; j < c; j++)
        for (int64_t i = 0; i < rows; i++)
            set(t, y, i + j * ldy, s * get(t, y, i + j * ldy));
}

/* y (m x c) = M x, x n x c. */
int lr_svd_apply(const problem *p, int64_t c, const void *x, int64_t ldx, void *y, int64_t ldy)
{
    if (p->view)
        return lr_gemm(p->t, p->op, 'N', p->m, c, p->n, 1.0, p->view, p->ld, x, ldx, 0.0, y, ldy);
    int rc = lr_operator_apply(p->a, p->op, c, x, ldx, y, ldy, p->products);
    if (rc == LOWRANK_OK && p->scale != 1)
        scale_block(p->t, p->m, c, y, ldy, p->scale);
    return rc;
}

/* z (n x c) = M^T y, y m x c. */
int lr_svd_apply_t(const problem *p, int64_t c, const void *y, int64_t ldy, void *z, int64_t ldz)
{
    if (p->view)
        return lr_gemm(p->t, flip_op(p->op), 'N', p->n, c, p->m, 1.0, p->view, p->ld, y, ldy,
                       0.0, z, ldz);
    int rc = lr_operator_apply(p->a, flip_op(p->op), c, y, ldy, z, ldz, p->products);
    if (rc == LOWRANK_OK && p->scale != 1)
        scale_block(p->t, p->n, c, z, ldz, p->scale);
    return rc;
}

/* Whether M^T M comes in one fused pass, needing no m x c scratch. */
static int fused_gram(const problem *p) { return p->a && lr_operator_fuses(p->a, p->op); }

int64_t lr_svd_gram_scratch(const problem *p, lowrank_dtype t, int64_t c)
{
    int64_t elems = (fused_gram(p) ? 0 : p->m * c) + (t != p->t ? 2 * p->n * c : 0);
    return (elems * (int64_t)esize(p->t) + (int64_t)esize(t) - 1) / (int64_t)esize(t) + 1;
}

int lr_svd_gram(const problem *p, lowrank_dtype t, int64_t c, const void *x, void *z, void *w)
{
    int64_t n = p->n;
    const void *xm = x;
    void *zm = z, *mid = w;
    if (t != p->t) { /* x and z in M's dtype, in front of the product's scratch */
        xm = w;
        zm = elem(p->t, w, n * c);
        mid = elem(p->t, w, 2 * n * c);
        lr_svd_copy_columns(t, x, n, p->t, w, n, n, c, 0);
    }
    int rc;
    if (fused_gram(p)) {
        rc = lr_operator_gram(p->a, p->op, c, xm, n, zm, n, NULL, p->products);
        if (rc == LOWRANK_OK && p->scale != 1)
            scale_block(p->t, n, c, zm, n, p->scale * p->scale);
    } else {
        rc = lr_svd_apply(p, c, xm, n, mid, p->m);
        if (rc == LOWRANK_OK)
            rc = lr_svd_apply_t(p, c, mid, p->m, zm, n);
    }
    if (rc == LOWRANK_OK && t != p->t)
        lr_svd_copy_columns(p->t, zm, n, t, z, n, n, c, 0);
    return rc;
}

void lr_svd_span(const problem *p, double from, double to)
{
    if (p->products) {
        p->products->from = from;
        p->products->to = to;
    }
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
                   vm >= vn ? vn : vm, transposed == (vm < vn) ? 0 : 1, 0, 1.0, NULL, NULL,
                   NULL, 1.0, NULL, 0};
    double maxabs;
    scan(p->t, p->view, p->ld, vm, vn, &maxabs, &p->sumsq);
    if (!isfinite(p->sumsq)) {
        int rc = lr_check_finite(a, "a");
        if (rc != LOWRANK_OK)
            return rc;
    }
    return magnitude_safe(p->t, maxabs, p->sumsq) ? LOWRANK_OK : scale_copy(p, vm, vn, maxabs);
}

/* The problem of an operator (not a dense matrix's): its scan, or for a
 * callback, which cannot be scanned, one product with a random unit
 * vector, whose size puts the magnitudes of M's singular values within a
 * factor sqrt(n) of 1.  M = scale op(A) with scale a power of two (exact)
 * when the magnitudes need it, as scale_copy does for a dense matrix. */
static int problem_init_op(const lowrank_operator *a, problem *p)
{
    int wide = a->rows < a->cols;
    p->t = a->dtype;
    p->a = a;
    p->op = wide ? 'T' : 'N';
    p->m = wide ? a->cols : a->rows;
    p->n = wide ? a->rows : a->cols;
    p->flipped = wide;
    p->unscale = p->scale = 1.0;
    double maxabs = 0;
    int rc;
    if (lr_operator_can_scan(a)) {
        rc = lr_operator_scan(a, 1.0, &maxabs, &p->sumsq, p->products);
        if (rc != LOWRANK_OK || magnitude_safe(p->t, maxabs, p->sumsq))
            return rc;
        p->scale = ldexp(1.0, -ilogb(maxabs));
        p->unscale = 1 / p->scale;
        return lr_operator_scan(a, p->scale, &maxabs, &p->sumsq, p->products);
    }
    p->sumsq = NAN;
    void *x = scratch(p->t, p->n), *y = scratch(p->t, p->m);
    rc = x && y ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        lr_rng rng;
        lr_rng_seed(&rng, 20261128);
        lr_rng_fill_normal(&rng, p->t, x, p->n);
        double norm = sqrt(lr_svd_sum_sq(p->t, x, p->n));
        for (int64_t i = 0; i < p->n; i++)
            set(p->t, x, i, get(p->t, x, i) / norm);
        rc = lr_svd_apply(p, 1, x, p->n, y, p->m);
    }
    for (int64_t i = 0; rc == LOWRANK_OK && i < p->m; i++)
        maxabs = fmax(maxabs, fabs(get(p->t, y, i)));
    if (rc == LOWRANK_OK && maxabs > 0) {
        p->scale = ldexp(1.0, -ilogb(maxabs));
        p->unscale = 1 / p->scale;
    }
    free(x);
    free(y);
    return rc;
}

/* ------------------------------------------------------------ results */

int lr_svd_result_alloc(const problem *p, int64_t k, result *r)
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

void lr_svd_result_free(result *r)
{
    lowrank_matrix_free(r->left);
    lowrank_matrix_free(r->right);
    free(r->sigma);
    r->left = r->right = NULL;
    r->sigma = NULL;
}

/* The relative error sqrt(||M||_F^2 - captured) / ||M||_F of a projection
 * that keeps `captured` of the squared norm; 0 for M = 0. */
double lr_svd_projection_error(const problem *p, double captured)
{
    if (isnan(p->sumsq)) /* a callback's ||M||_F is unknown */
        return NAN;
    return p->sumsq > 0 ? sqrt(fmax(0.0, p->sumsq - captured) / p->sumsq) : 0.0;
}

/* The sum of squares, in double, of count elements of dtype t. */
double lr_svd_sum_sq(lowrank_dtype t, const void *x, int64_t count)
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
        lr_svd_result_free(r);
        return rc;
    }
    lowrank_matrix *u = p->flipped ? r->right : r->left, *vt = p->flipped ? r->left : r->right;
    double error = r->error;
    r->left = r->right = NULL;
    lr_svd_result_free(r);
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
int64_t lr_svd_rank_for_tolerance(const problem *p, const double *w, int64_t count, double tol)
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

/* ------------------------------------------------------------ entry point */

static int check_arguments(int64_t rows, int64_t cols, int64_t k, const lowrank_opts *opts)
{
    int64_t method = lr_opt_int(opts, LOWRANK_OPT_METHOD);
    if (method != LOWRANK_METHOD_AUTO && method != LOWRANK_METHOD_EXACT &&
        method != LOWRANK_METHOD_RANDOMIZED)
        return lr_fail(LOWRANK_EINVAL,
                       "LOWRANK_OPT_METHOD = %lld is not a method of lowrank_svd (use "
                       "LOWRANK_METHOD_AUTO, LOWRANK_METHOD_EXACT or LOWRANK_METHOD_RANDOMIZED)",
                       (long long)method);
    if (rows > INT_MAX || cols > INT_MAX)
        return lr_fail(LOWRANK_EOVERFLOW,
                       "a is %lld x %lld: a dimension exceeds the BLAS integer range (%d)",
                       (long long)rows, (long long)cols, INT_MAX);
    int64_t mn = rows < cols ? rows : cols;
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
        int rc = lr_svd_result_alloc(p, k > 0 ? k : 1, r);
        if (rc == LOWRANK_OK)
            zero_result(p, r);
        return rc;
    }
    /* a sparse or callback operator's products are cheap next to the dense
     * work of a randomized method, and its users expect converged values:
     * auto means exact for it, but for k = 0, which the exact route could
     * only do through its Gram matrix (docs/svd.md) */
    int cheap_products = p->a && !streamed(p);
    if (k == 0 && method == LOWRANK_METHOD_AUTO && cheap_products)
        method = LOWRANK_METHOD_RANDOMIZED;
    if (method == LOWRANK_METHOD_RANDOMIZED && k == 0) {
        int exhausted = 0;
        int grows = 2 * lr_svd_tolerance_block(p) <= p->n;
        int rc = grows ? lr_svd_randomized_tolerance(p, tol, q, seed, r, &exhausted) : LOWRANK_OK;
        if (rc != LOWRANK_OK || (grows && !exhausted))
            return rc;
        return lr_svd_exact_method(p, 0, tol, LR_ROUTE_RULE, r, taken);
    }
    /* b = k + over, the Krylov space has (q + 1) b <= n dimensions; auto
     * asks for at most half of n */
    int64_t b = k + (over < p->n ? over : p->n);
    int small = k > 0 && q < p->n && b <= p->n / (q + 1);
    int auto_randomized = small && b <= p->n / (2 * (q + 1)) && !cheap_products;
    if (small && (method == LOWRANK_METHOD_RANDOMIZED ||
                  (method == LOWRANK_METHOD_AUTO && auto_randomized)))
        return lr_svd_randomized(p, k, b, q, seed, r);
    return lr_svd_exact_method(p, k, tol, method == LOWRANK_METHOD_EXACT ? from : LR_ROUTE_RULE, r,
                               taken);
}

/* lowrank_svd of the matrix a or of the operator op by the given method,
 * the exact one starting from `from`.  The operator of a dense matrix is
 * that matrix's problem: the same computation. */
static int svd(const lowrank_matrix *a, const lowrank_operator *op, int64_t k,
               const lowrank_opts *opts, int64_t method, lr_exact_route from,
               lowrank_factors **out, lr_exact_route *taken)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (op && op->matrix) {
        a = op->matrix;
        op = NULL;
    }
    if (!a && !op)
        return lr_fail(LOWRANK_EINVAL, "a is NULL");
    int rc = a ? check_arguments(a->rows, a->cols, k, opts)
               : check_arguments(op->rows, op->cols, k, opts);
    if (rc == LOWRANK_OK && op && k == 0 && !lr_operator_can_scan(op))
        rc = lr_fail(LOWRANK_EUNSUPPORTED, "k = 0 chooses the rank from ||A||_F, which a "
                                           "callback operator does not give: give k >= 1");
    lr_progress progress;
    lr_progress_begin(&progress, opts, "lowrank_svd");
    lr_products products = {NULL, &progress, 0, 0};
    problem p = {.progress = &progress, .products = &products};
    if (rc == LOWRANK_OK && op)
        rc = lr_products_pool(opts, &products.pool);
    if (rc == LOWRANK_OK)
        rc = a ? problem_init(a, &p) : problem_init_op(op, &p);
    p.progress = &progress;
    p.products = &products;
    p.max_cols = lr_opt_int(opts, LOWRANK_OPT_MAX_ITER);
    result r = {0};
    if (rc == LOWRANK_OK)
        rc = dispatch(&p, k, opts, method, from, &r, taken);
    if (rc == LOWRANK_OK)
        rc = result_finish(&p, &r, out);
    else
        lr_svd_result_free(&r);
    lr_pool_free(products.pool);
    free(p.copy);
    return rc;
}

int lowrank_svd(const lowrank_matrix *a, int64_t k, const lowrank_opts *opts,
                lowrank_factors **out)
{
    lr_exact_route taken;
    return svd(a, NULL, k, opts, lr_opt_int(opts, LOWRANK_OPT_METHOD), LR_ROUTE_RULE, out,
               &taken);
}

int lowrank_svd_op(const lowrank_operator *a, int64_t k, const lowrank_opts *opts,
                   lowrank_factors **out)
{
    lr_exact_route taken;
    if (out && !a) {
        *out = NULL;
        return lr_fail(LOWRANK_EINVAL, "a is NULL");
    }
    return svd(NULL, a, k, opts, lr_opt_int(opts, LOWRANK_OPT_METHOD), LR_ROUTE_RULE, out,
               &taken);
}

int lr_svd_exact(const lowrank_matrix *a, int64_t k, const lowrank_opts *opts, lr_exact_route from,
                 lowrank_factors **out, lr_exact_route *taken)
{
    lr_exact_route ignored;
    return svd(a, NULL, k, opts, LOWRANK_METHOD_EXACT, from, out, taken ? taken : &ignored);
}
