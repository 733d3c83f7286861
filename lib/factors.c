/*
 * factors.c - the lowrank_factors handle: an approximation U diag(S) V^T
 * with its accessors, the split into two layer factors, reconstruction into
 * a caller's matrix and the error estimate.  Every part that returns an
 * approximation in this form builds it with lr_factors_new().
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "blas.h"
#include "factors.h"
#include "internal.h"

struct lowrank_factors {
    lowrank_matrix *u, *s, *vt;
    double relative_error;
    int fitted_cols; /* 0 (the rows, as set by lr_factors_new) or 1 */
};

int lr_factors_new(lowrank_matrix *u, lowrank_matrix *s, lowrank_matrix *vt,
                   double relative_error, lowrank_factors **out)
{
    lowrank_factors *f = lr_malloc(1, sizeof *f);
    *out = f;
    if (!f) {
        lowrank_matrix_free(u);
        lowrank_matrix_free(s);
        lowrank_matrix_free(vt);
        return LOWRANK_ENOMEM;
    }
    *f = (lowrank_factors){u, s, vt, relative_error, 0};
    return LOWRANK_OK;
}

/* Whether the parts of lowrank_factors_new fit together: one dtype, U m x k,
 * S k x 1, V^T k x n. */
static int check_shapes(const lowrank_matrix *u, const lowrank_matrix *s, const lowrank_matrix *vt)
{
    if (u->dtype != s->dtype || u->dtype != vt->dtype)
        return lr_fail(LOWRANK_EINVAL, "u, s and vt hold %s, %s and %s values",
                       lr_dtype_name(u->dtype), lr_dtype_name(s->dtype), lr_dtype_name(vt->dtype));
    int64_t k = s->rows;
    if (s->cols != 1)
        return lr_fail(LOWRANK_ESIZE, "s is %lld x %lld, not k x 1", (long long)s->rows,
                       (long long)s->cols);
    if (u->cols != k || vt->rows != k)
        return lr_fail(LOWRANK_ESIZE, "u is %lld x %lld and vt %lld x %lld for k = %lld",
                       (long long)u->rows, (long long)u->cols, (long long)vt->rows,
                       (long long)vt->cols, (long long)k);
    return LOWRANK_OK;
}

/* S non-negative and descending; the rows of V^T orthonormal to within
 * sqrt(u): what any basis computed in the dtype, or in double and rounded
 * to it, reaches with room to spare (the library's own come within 1e-13
 * in float64), far below what a basis that was never orthonormalised shows,
 * and enough for the distances lowrank_lp_cost measures to that relative
 * accuracy. */
static int check_values(const lowrank_matrix *s, const lowrank_matrix *vt)
{
    int64_t k = s->rows, n = vt->cols;
    for (int64_t i = 0; i < k; i++) {
        double si = lr_matrix_at(s, i, 0);
        if (si < 0 || (i > 0 && si > lr_matrix_at(s, i - 1, 0)))
            return lr_fail(LOWRANK_ERANGE, "S(%lld) = %g: S must be non-negative and descending",
                           (long long)i, si);
    }
    double tol = vt->dtype == LOWRANK_FLOAT32 ? 0x1p-12 : 0x1p-26; /* sqrt(u) */
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b <= a; b++) {
            double dot = 0;
            for (int64_t j = 0; j < n; j++)
                dot += lr_matrix_at(vt, a, j) * lr_matrix_at(vt, b, j);
            if (fabs(dot - (a == b)) > tol)
                return lr_fail(LOWRANK_ERANGE,
                               "rows %lld and %lld of vt have inner product %g: they must be "
                               "orthonormal (to %.1e)",
                               (long long)a, (long long)b, dot, tol);
        }
    return LOWRANK_OK;
}

int lowrank_factors_new(const lowrank_matrix *u, const lowrank_matrix *s, const lowrank_matrix *vt,
                        double relative_error, lowrank_factors **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int rc = lr_check_matrix(u, "u");
    if (rc == LOWRANK_OK)
        rc = lr_check_matrix(s, "s");
    if (rc == LOWRANK_OK)
        rc = lr_check_matrix(vt, "vt");
    if (rc == LOWRANK_OK)
        rc = check_shapes(u, s, vt);
    if (rc == LOWRANK_OK)
        rc = lr_check_finite(u, "u");
    if (rc == LOWRANK_OK)
        rc = lr_check_finite(s, "s");
    if (rc == LOWRANK_OK)
        rc = lr_check_finite(vt, "vt");
    if (rc == LOWRANK_OK)
        rc = check_values(s, vt);
    if (rc == LOWRANK_OK && (relative_error < 0 || isinf(relative_error)))
        rc = lr_fail(LOWRANK_ERANGE, "relative_error = %g must be >= 0 (or NaN: unknown)",
                     relative_error);
    if (rc != LOWRANK_OK)
        return rc;
    lowrank_matrix *cu = NULL, *cs = NULL, *cvt = NULL;
    rc = lowrank_matrix_copy(u, &cu);
    if (rc == LOWRANK_OK)
        rc = lowrank_matrix_copy(s, &cs);
    if (rc == LOWRANK_OK)
        rc = lowrank_matrix_copy(vt, &cvt);
    if (rc != LOWRANK_OK) {
        lowrank_matrix_free(cu);
        lowrank_matrix_free(cs);
        return rc;
    }
    return lr_factors_new(cu, cs, cvt, relative_error, out);
}

void lr_factors_set_orientation(lowrank_factors *f, lowrank_orientation orientation)
{
    f->fitted_cols = orientation == LOWRANK_ORIENT_COLS;
}

lowrank_orientation lr_factors_orientation(const lowrank_factors *f)
{
    return f->fitted_cols ? LOWRANK_ORIENT_COLS : LOWRANK_ORIENT_ROWS;
}

int lr_factors_unscale(lowrank_factors *f, int e)
{
    return lr_matrix_unscale(f->s, e, 0, "a singular value of the approximation");
}

void lowrank_factors_free(lowrank_factors *f)
{
    if (!f)
        return;
    lowrank_matrix_free(f->u);
    lowrank_matrix_free(f->s);
    lowrank_matrix_free(f->vt);
    free(f);
}

int64_t lowrank_factors_rank(const lowrank_factors *f) { return f ? f->s->rows : 0; }
int64_t lowrank_factors_rows(const lowrank_factors *f) { return f ? f->u->rows : 0; }
int64_t lowrank_factors_cols(const lowrank_factors *f) { return f ? f->vt->cols : 0; }
const lowrank_matrix *lowrank_factors_u(const lowrank_factors *f) { return f ? f->u : NULL; }
const lowrank_matrix *lowrank_factors_s(const lowrank_factors *f) { return f ? f->s : NULL; }
const lowrank_matrix *lowrank_factors_vt(const lowrank_factors *f) { return f ? f->vt : NULL; }

int lowrank_factors_error(const lowrank_factors *f, double *relative_error)
{
    if (!f)
        return lr_fail(LOWRANK_EINVAL, "f is NULL");
    if (!relative_error)
        return lr_fail(LOWRANK_EINVAL, "relative_error is NULL");
    *relative_error = f->relative_error;
    return LOWRANK_OK;
}

/* The weight that multiplies column j of U (or row j of V^T) when factor
 * `side` (0 left, 1 right) receives the part `how` gives it of S_j. */
static double split_weight(const lowrank_factors *f, lowrank_split how, int side, int64_t j)
{
    double s = lr_matrix_at(f->s, j, 0);
    if (how == LOWRANK_SPLIT_BALANCED)
        return sqrt(s);
    return (how == LOWRANK_SPLIT_LEFT) == (side == 0) ? s : 1.0;
}

/* Store v at (i, j) of the compact matrix dst, rounding to its dtype. */
static void put(lowrank_matrix *dst, int64_t i, int64_t j, double v)
{
    size_t off = dst->layout == LOWRANK_ROW_MAJOR ? (size_t)i * (size_t)dst->ld + (size_t)j
                                                  : (size_t)i + (size_t)j * (size_t)dst->ld;
    if (dst->dtype == LOWRANK_FLOAT32)
        ((float *)dst->data)[off] = (float)v;
    else
        ((double *)dst->data)[off] = v;
}

/* dst = src with its columns (by_cols) or rows scaled by weight(f, how,
 * side, index); dst has src's shape. */
static void copy_scaled(const lowrank_matrix *src, const lowrank_factors *f, lowrank_split how,
                        int side, int by_cols, lowrank_matrix *dst)
{
    int64_t nw = by_cols ? src->cols : src->rows;
    for (int64_t w = 0; w < nw; w++) {
        double scale = split_weight(f, how, side, w);
        int64_t len = by_cols ? src->rows : src->cols;
        for (int64_t t = 0; t < len; t++) {
            int64_t i = by_cols ? t : w, j = by_cols ? w : t;
            put(dst, i, j, scale * lr_matrix_at(src, i, j));
        }
    }
}

int lowrank_factors_split(const lowrank_factors *f, lowrank_split how, lowrank_matrix **left,
                          lowrank_matrix **right)
{
    if (left)
        *left = NULL;
    if (right)
        *right = NULL;
    if (!f || !left || !right)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !f ? "f" : !left ? "left" : "right");
    if (how != LOWRANK_SPLIT_LEFT && how != LOWRANK_SPLIT_RIGHT && how != LOWRANK_SPLIT_BALANCED)
        return lr_fail(LOWRANK_EINVAL,
                       "how = %d is not LOWRANK_SPLIT_LEFT, _RIGHT or _BALANCED (1, 2, 3)",
                       (int)how);
    lowrank_matrix *l = NULL, *r = NULL;
    int rc = lr_matrix_alloc(f->u->dtype, LOWRANK_ROW_MAJOR, f->u->rows, f->u->cols, 0, &l);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_alloc(f->vt->dtype, LOWRANK_ROW_MAJOR, f->vt->rows, f->vt->cols, 0, &r);
    if (rc != LOWRANK_OK) {
        lowrank_matrix_free(l);
        return rc;
    }
    copy_scaled(f->u, f, how, 0, 1, l);
    copy_scaled(f->vt, f, how, 1, 0, r);
    *left = l;
    *right = r;
    return LOWRANK_OK;
}

/* A matrix handle as a column-major BLAS operand of op(x) (x itself or, with
 * transpose, its transpose): a row-major matrix is the transpose of its
 * column-major view. */
typedef struct operand {
    const void *data;
    int64_t ld;
    char trans;
} operand;

static operand as_operand(const lowrank_matrix *x, int transpose)
{
    int t = transpose != (x->layout == LOWRANK_ROW_MAJOR);
    return (operand){x->data, x->ld, t ? 'T' : 'N'};
}

/* dst = a b for matrix handles of dst's dtype in any layout, a m x k and
 * b k x n: a column-major dst is a b, a row-major one is b^T a^T. */
static int product_into(const lowrank_matrix *a, const lowrank_matrix *b, lowrank_matrix *dst)
{
    int rowmajor = dst->layout == LOWRANK_ROW_MAJOR;
    const lowrank_matrix *first = rowmajor ? b : a, *second = rowmajor ? a : b;
    operand x = as_operand(first, rowmajor), y = as_operand(second, rowmajor);
    int64_t m = rowmajor ? dst->cols : dst->rows, n = rowmajor ? dst->rows : dst->cols;
    return lr_gemm(dst->dtype, x.trans, y.trans, m, n, a->cols, 1.0, x.data, x.ld, y.data, y.ld,
                   0.0, dst->data, dst->ld);
}

/* The first value of f's factors beyond float32's range, for a float32
 * destination of float64 factors: U and V^T hold values <= 1, so only
 * S (and S V^T) can overflow. */
static int check_fits(const lowrank_factors *f, lowrank_dtype dtype)
{
    if (dtype != LOWRANK_FLOAT32 || f->s->dtype == LOWRANK_FLOAT32)
        return LOWRANK_OK;
    double s1 = lr_matrix_at(f->s, 0, 0);
    if (s1 > FLT_MAX)
        return lr_fail(LOWRANK_ERANGE, "singular value %g overflows float32", s1);
    return LOWRANK_OK;
}

int lowrank_factors_reconstruct(const lowrank_factors *f, lowrank_matrix *dst)
{
    if (!f || !dst)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !f ? "f" : "dst");
    int64_t m = f->u->rows, n = f->vt->cols, k = f->s->rows;
    if (dst->rows != m || dst->cols != n)
        return lr_fail(LOWRANK_ESIZE, "dst is %lld x %lld, the factors are %lld x %lld",
                       (long long)dst->rows, (long long)dst->cols, (long long)m, (long long)n);
    int rc = check_fits(f, dst->dtype);
    if (rc != LOWRANK_OK)
        return rc;
    /* diag(S) V^T and, when the dtypes differ, U, in dst's dtype: k-sized
     * temporaries, never an m x n one. */
    lowrank_matrix *w = NULL, *u = NULL;
    rc = lr_matrix_alloc(dst->dtype, LOWRANK_COL_MAJOR, k, n, 0, &w);
    if (rc == LOWRANK_OK && dst->dtype != f->u->dtype)
        rc = lr_matrix_alloc(dst->dtype, LOWRANK_COL_MAJOR, m, k, 0, &u);
    if (rc == LOWRANK_OK) {
        copy_scaled(f->vt, f, LOWRANK_SPLIT_RIGHT, 1, 0, w);
        if (u)
            copy_scaled(f->u, f, LOWRANK_SPLIT_RIGHT, 0, 1, u);
        rc = product_into(u ? u : f->u, w, dst);
    }
    lowrank_matrix_free(w);
    lowrank_matrix_free(u);
    return rc;
}
