/*
 * block.c - this rank's block of rows, read in place through the public
 * accessors of lowrank_matrix: checks, magnitudes, and the products with
 * it that the distributed algorithms need, in double or, for float32
 * blocks, in float32 with double inputs and outputs (as lowrank_svd computes
 * float32 products), the Gram matrix always in double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "mpi_internal.h"

static const lowrank_dtype F64 = LOWRANK_FLOAT64, F32 = LOWRANK_FLOAT32;

static void view_of(const lowrank_matrix *a, lrm_block *b)
{
    b->t = lowrank_matrix_dtype(a);
    b->data = lowrank_matrix_data(a);
    b->ld = lowrank_matrix_ld(a);
    b->m = lowrank_matrix_rows(a);
    b->n = lowrank_matrix_cols(a);
    b->op = lowrank_matrix_layout(a) == LOWRANK_ROW_MAJOR ? 'T' : 'N';
}

/* The view's sizes: vm x vn, column-major with leading dimension ld. */
static int64_t view_rows(const lrm_block *b) { return b->op == 'N' ? b->m : b->n; }
static int64_t view_cols(const lrm_block *b) { return b->op == 'N' ? b->n : b->m; }

/* Element p of column q of the view. */
static double view_at(const lrm_block *b, int64_t p, int64_t q)
{
    size_t off = (size_t)p + (size_t)q * (size_t)b->ld;
    return b->t == F32 ? ((const float *)b->data)[off] : ((const double *)b->data)[off];
}

int lrm_block_init(const lowrank_matrix *local, lrm_block *b)
{
    memset(b, 0, sizeof *b);
    view_of(local, b);
    for (int64_t q = 0; q < view_cols(b); q++)
        for (int64_t p = 0; p < view_rows(b); p++) {
            double v = view_at(b, p, q);
            if (!isfinite(v))
                return lrm_fail(LOWRANK_ENONFINITE, "local(%lld, %lld) = %g is not finite",
                                (long long)(b->op == 'N' ? p : q),
                                (long long)(b->op == 'N' ? q : p), v);
        }
    return LOWRANK_OK;
}

void lrm_block_free(lrm_block *b) { lowrank_matrix_free(b->scaled); }

void lrm_block_scan(const lrm_block *b, double *maxabs, double *sumsq)
{
    int64_t vm = view_rows(b), vn = view_cols(b);
    double mx = 0, s = 0;
    for (int64_t q = 0; q < vn; q++)
        for (int64_t p = 0; p < vm; p++)
            mx = fmax(mx, fabs(view_at(b, p, q)));
    /* squares of the values over the largest: neither overflow nor
     * underflow of what matters */
    double inv = mx > 0 ? 1 / mx : 0;
    for (int64_t q = 0; q < vn && mx > 0; q++)
        for (int64_t p = 0; p < vm; p++) {
            double v = view_at(b, p, q) * inv;
            s += v * v;
        }
    *maxabs = mx;
    *sumsq = s * mx * mx;
}

int lrm_scale_exponent(lowrank_dtype t, double maxabs)
{
    int lim = t == F32 ? 20 : 250; /* as lowrank_svd: squares stay far inside the range */
    if (maxabs == 0 || (maxabs >= ldexp(1, -lim) && maxabs <= ldexp(1, lim)))
        return 0;
    int e;
    frexp(maxabs, &e);
    return -e;
}

int lrm_block_scale(lrm_block *b, int e)
{
    if (e == 0)
        return LOWRANK_OK;
    lowrank_matrix *s;
    int rc = lowrank_matrix_new(b->t, LOWRANK_COL_MAJOR, b->m, b->n, &s);
    if (rc != LOWRANK_OK)
        return lrm_fail_serial(rc, "a scaled copy of the block");
    for (int64_t q = 0; q < view_cols(b); q++)
        for (int64_t p = 0; p < view_rows(b); p++) {
            size_t to = b->op == 'N' ? (size_t)(p + q * b->m) : (size_t)(q + p * b->m);
            double v = ldexp(view_at(b, p, q), e); /* exact: a power of two */
            if (b->t == F32)
                ((float *)lowrank_matrix_data(s))[to] = (float)v;
            else
                ((double *)lowrank_matrix_data(s))[to] = v;
        }
    int64_t first = b->first;
    view_of(s, b);
    b->first = first;
    b->scaled = s;
    b->scale_exp = e;
    return LOWRANK_OK;
}

/* A float32 copy of the count doubles at x, or NULL after the ENOMEM
 * message. */
static float *to_float(const double *x, int64_t count)
{
    float *f = lrm_malloc((size_t)count, sizeof *f);
    for (int64_t i = 0; f && i < count; i++)
        f[i] = (float)x[i];
    return f;
}

static void to_double(const float *f, int64_t count, double *x)
{
    for (int64_t i = 0; i < count; i++)
        x[i] = f[i];
}

/* out (rows x cols) = op_a(A_r) x, x inner x cols, in the block's dtype:
 * transpose 0 for A_r (rows m, inner n), 1 for A_r^T (rows n, inner m). */
static int product(const lrm_block *b, int transpose, int64_t cols, const double *x, double *out)
{
    int64_t rows = transpose ? b->n : b->m, inner = transpose ? b->m : b->n;
    /* op(view) = A_r: A_r^T is the other op */
    char op = (b->op == 'T') != (transpose != 0) ? 'T' : 'N';
    if (b->t == F64)
        return lrm_gemm(F64, op, 'N', rows, cols, inner, 1.0, b->data, b->ld, x, inner, 0.0, out,
                        rows);
    float *xf = to_float(x, inner * cols), *of = xf ? lrm_malloc((size_t)(rows * cols), 4) : NULL;
    int rc = of ? lrm_gemm(F32, op, 'N', rows, cols, inner, 1.0, b->data, b->ld, xf, inner, 0.0,
                           of, rows)
                : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        to_double(of, rows * cols, out);
    free(xf);
    free(of);
    return rc;
}

int lrm_block_mul(const lrm_block *b, int64_t cols, const double *x, double *c)
{
    return product(b, 0, cols, x, c);
}

int lrm_block_tmul(const lrm_block *b, int64_t cols, const double *y, double *z)
{
    return product(b, 1, cols, y, z);
}

int lrm_block_gram(const lrm_block *b, double *g)
{
    int64_t m = b->m, n = b->n;
    /* A_r^T A_r: with the view X = A_r ('N') it is X^T X, with X = A_r^T it is X X^T */
    if (b->t == F64)
        return lrm_syrk(F64, 'U', b->op == 'N' ? 'T' : 'N', n, m, 1.0, b->data, b->ld, 0.0, g, n);
    /* float32: panels of rows converted to double, so that the squares of
     * small singular values survive (as lowrank_svd's Gram matrix) */
    int64_t panel = (INT64_C(1) << 18) / n;
    panel = panel < 64 ? 64 : panel > m ? m : panel;
    double *buf = lrm_malloc((size_t)(panel * n), sizeof *buf);
    int rc = buf ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t i0 = 0; rc == LOWRANK_OK && i0 < m; i0 += panel) {
        int64_t cnt = m - i0 < panel ? m - i0 : panel;
        if (b->op == 'N')
            for (int64_t j = 0; j < n; j++)
                for (int64_t i = 0; i < cnt; i++)
                    buf[i + j * cnt] = view_at(b, i0 + i, j);
        else
            for (int64_t i = 0; i < cnt; i++)
                for (int64_t j = 0; j < n; j++)
                    buf[i + j * cnt] = view_at(b, j, i0 + i);
        rc = lrm_syrk(F64, 'U', 'T', n, cnt, 1.0, buf, cnt, i0 == 0 ? 0.0 : 1.0, g, n);
    }
    free(buf);
    return rc;
}

void lrm_block_copy(const lrm_block *b, double *d)
{
    for (int64_t q = 0; q < view_cols(b); q++)
        for (int64_t p = 0; p < view_rows(b); p++)
            d[b->op == 'N' ? p + q * b->m : q + p * b->m] = view_at(b, p, q);
}
