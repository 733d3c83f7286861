/*
 * csr.c - sparse matrices in CSR form (lowrank_csr) and the operator over
 * one: products with blocks of vectors, threaded by bands of rows.
 *
 * Why our own kernels rather than a sparse BLAS: Debian 12 packages no
 * maintained sparse BLAS with products by blocks of vectors for CSR in both
 * precisions and int64 indices (libsparskit is Fortran, int32 and double
 * only; the NIST sparse BLAS is not packaged), and the loop is short: for
 * each row, the sum of a few scaled rows of X.  A^T X is the same loop over
 * the transpose's structure, built once by the operator, so that every
 * element of Y is summed by one thread in a fixed order (no atomics, no
 * per-thread partial sums to reduce): results do not depend on the number
 * of threads.  Sums are formed in double, for float32 too: a column of
 * A^T may hold tens of thousands of entries.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------ the handle */

static int bad(const char *what, int64_t at, int64_t value)
{
    return lr_fail(LOWRANK_EFORMAT, "CSR %s[%lld] = %lld is invalid", what, (long long)at,
                   (long long)value);
}

/* The rules of lowrank_csr_wrap (lowrank.h), reading exactly rows + 1 and
 * nnz entries.  Duplicates are found with a marker per column: the last row
 * (plus one) that used it. */
static int check_arrays(int64_t rows, int64_t cols, int64_t nnz, const int64_t *indptr,
                        const int64_t *indices)
{
    if (indptr[0] != 0)
        return bad("indptr", 0, indptr[0]);
    for (int64_t i = 0; i < rows; i++)
        if (indptr[i + 1] < indptr[i] || indptr[i + 1] > nnz)
            return bad("indptr", i + 1, indptr[i + 1]);
    if (indptr[rows] != nnz)
        return lr_fail(LOWRANK_EFORMAT, "CSR indptr[%lld] = %lld, where nnz = %lld",
                       (long long)rows, (long long)indptr[rows], (long long)nnz);
    int64_t *mark = lr_calloc((size_t)cols, sizeof *mark);
    if (!mark)
        return LOWRANK_ENOMEM;
    int rc = LOWRANK_OK;
    for (int64_t i = 0; i < rows && rc == LOWRANK_OK; i++)
        for (int64_t p = indptr[i]; p < indptr[i + 1]; p++) {
            int64_t j = indices[p];
            if (j < 0 || j >= cols) {
                rc = bad("indices", p, j);
                break;
            }
            if (mark[j] == i + 1) {
                rc = lr_fail(LOWRANK_EFORMAT,
                             "CSR entry (%lld, %lld) is stored twice (indices[%lld]); sum the "
                             "duplicates first (scipy: A.sum_duplicates())",
                             (long long)i, (long long)j, (long long)p);
                break;
            }
            mark[j] = i + 1;
        }
    free(mark);
    return rc;
}

/* A handle over the arrays, checked; with own set it takes the arrays
 * (freeing them on failure too). */
int lr_csr_make(lowrank_dtype dtype, int64_t rows, int64_t cols, int64_t nnz, int64_t *indptr,
                int64_t *indices, void *values, int own, lowrank_csr **out)
{
    size_t bytes;
    int rc = LOWRANK_OK;
    if (rows >= INT64_MAX || lr_mul_size((size_t)nnz, sizeof(int64_t), &bytes) != LOWRANK_OK ||
        lr_mul_size((size_t)rows + 1, sizeof(int64_t), &bytes) != LOWRANK_OK)
        rc = lr_fail(LOWRANK_EOVERFLOW, "a %lld x %lld CSR matrix with %lld entries overflows",
                     (long long)rows, (long long)cols, (long long)nnz);
    if (rc == LOWRANK_OK)
        rc = check_arrays(rows, cols, nnz, indptr, indices);
    lowrank_csr *a = rc == LOWRANK_OK ? lr_malloc(1, sizeof *a) : NULL;
    if (rc == LOWRANK_OK && !a)
        rc = LOWRANK_ENOMEM;
    if (rc != LOWRANK_OK) {
        if (own) {
            free(indptr);
            free(indices);
            free(values);
        }
        return rc;
    }
    *a = (lowrank_csr){dtype, rows, cols, nnz, indptr, indices, values,
                       {own ? indptr : NULL, own ? indices : NULL, own ? values : NULL}};
    *out = a;
    return LOWRANK_OK;
}

int lowrank_csr_wrap(lowrank_dtype dtype, int64_t rows, int64_t cols, int64_t nnz,
                     const int64_t *indptr, const int64_t *indices, const void *values,
                     lowrank_csr **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!lr_dtype_valid(dtype))
        return lr_fail(LOWRANK_EINVAL, "dtype %d is neither LOWRANK_FLOAT32 nor LOWRANK_FLOAT64",
                       (int)dtype);
    if (rows < 1 || cols < 1 || nnz < 0)
        return lr_fail(LOWRANK_ESIZE, "a %lld x %lld CSR matrix with %lld entries",
                       (long long)rows, (long long)cols, (long long)nnz);
    if (!indptr || (nnz > 0 && (!indices || !values)))
        return lr_fail(LOWRANK_EINVAL, "%s is NULL",
                       !indptr ? "indptr" : !indices ? "indices" : "values");
    /* the handle never writes the arrays: the casts keep one struct for
     * wrapped and owned ones */
    return lr_csr_make(dtype, rows, cols, nnz, (int64_t *)(uintptr_t)indptr,
                       (int64_t *)(uintptr_t)indices, (void *)(uintptr_t)values, 0, out);
}

void lowrank_csr_free(lowrank_csr *a)
{
    if (!a)
        return;
    for (int i = 0; i < 3; i++)
        free(a->owned[i]);
    free(a);
}

int64_t lowrank_csr_rows(const lowrank_csr *a) { return a ? a->rows : 0; }
int64_t lowrank_csr_cols(const lowrank_csr *a) { return a ? a->cols : 0; }
int64_t lowrank_csr_nnz(const lowrank_csr *a) { return a ? a->nnz : 0; }
lowrank_dtype lowrank_csr_dtype(const lowrank_csr *a) { return a ? a->dtype : 0; }

/* ------------------------------------------------------------ the transpose */

int lr_csr_transpose(lowrank_dtype dtype, int64_t rows, int64_t cols, const int64_t *ptr,
                     const int64_t *idx, const void *val, int64_t **tptr, int64_t **tidx,
                     void **tval)
{
    int64_t nnz = ptr[rows];
    size_t es = lr_dtype_size(dtype);
    *tptr = lr_calloc((size_t)cols + 1, sizeof **tptr);
    *tidx = *tptr ? lr_malloc(nnz > 0 ? (size_t)nnz : 1, sizeof **tidx) : NULL;
    *tval = *tidx ? lr_malloc(nnz > 0 ? (size_t)nnz : 1, es) : NULL;
    int64_t *next = *tval ? lr_malloc((size_t)cols, sizeof *next) : NULL;
    if (!next) {
        free(*tptr);
        free(*tidx);
        free(*tval);
        *tptr = *tidx = NULL;
        *tval = NULL;
        return LOWRANK_ENOMEM;
    }
    for (int64_t p = 0; p < nnz; p++)
        (*tptr)[idx[p] + 1]++;
    for (int64_t j = 0; j < cols; j++)
        (*tptr)[j + 1] += (*tptr)[j];
    memcpy(next, *tptr, (size_t)cols * sizeof *next);
    for (int64_t i = 0; i < rows; i++) /* rows in order: each row of A^T comes sorted */
        for (int64_t p = ptr[i]; p < ptr[i + 1]; p++) {
            int64_t q = next[idx[p]]++;
            (*tidx)[q] = i;
            memcpy((char *)*tval + (size_t)q * es, (const char *)val + (size_t)p * es, es);
        }
    free(next);
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ products */

/* One side of the matrix as CSR: A itself, or A^T from the transpose. */
typedef struct side {
    int64_t rows, cols;
    const int64_t *ptr, *idx;
    const void *val;
} side;

typedef struct csr_state {
    const lowrank_csr *a;
    int64_t *tptr, *tidx;
    void *tval;
} csr_state;

static side side_of(const lowrank_operator *op, char trans)
{
    const csr_state *s = op->state;
    if (trans == 'N')
        return (side){s->a->rows, s->a->cols, s->a->indptr, s->a->indices, s->a->values};
    return (side){s->a->cols, s->a->rows, s->tptr, s->tidx, s->tval};
}

/* Accumulators per row: the columns of a block are done this many at a
 * time (a row's sums stay in registers or L1). */
enum { WIDTH = 32 };

/* A product task: rows [first, last) of y = S x, where xr holds x
 * row-major (rows of width nvec) when nvec > 1. */
typedef struct product {
    lowrank_dtype t;
    side s;
    int64_t nvec;
    const void *x, *xr;
    int64_t ldx;
    void *y;
    int64_t ldy;
    const int64_t *bands; /* ntasks + 1 row boundaries */
} product;

#define DEFINE_KERNELS(suffix, type)                                                               \
    static void matvec_##suffix(const product *w, int64_t first, int64_t last)                     \
    {                                                                                              \
        const type *val = w->s.val, *x = w->x;                                                     \
        type *y = w->y;                                                                            \
        for (int64_t i = first; i < last; i++) {                                                   \
            double acc = 0;                                                                        \
            for (int64_t p = w->s.ptr[i]; p < w->s.ptr[i + 1]; p++)                                \
                acc += (double)val[p] * (double)x[w->s.idx[p]];                                    \
            y[i] = (type)acc;                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void matmat_##suffix(const product *w, int64_t first, int64_t last)                     \
    {                                                                                              \
        const type *val = w->s.val, *xr = w->xr;                                                   \
        type *y = w->y;                                                                            \
        int64_t nvec = w->nvec;                                                                    \
        double acc[WIDTH];                                                                         \
        for (int64_t c0 = 0; c0 < nvec; c0 += WIDTH) {                                             \
            int64_t cw = nvec - c0 < WIDTH ? nvec - c0 : WIDTH;                                    \
            for (int64_t i = first; i < last; i++) {                                               \
                for (int64_t c = 0; c < cw; c++)                                                   \
                    acc[c] = 0;                                                                    \
                for (int64_t p = w->s.ptr[i]; p < w->s.ptr[i + 1]; p++) {                          \
                    double v = val[p];                                                             \
                    const type *row = xr + w->s.idx[p] * nvec + c0;                                \
                    for (int64_t c = 0; c < cw; c++)                                               \
                        acc[c] += v * (double)row[c];                                              \
                }                                                                                  \
                for (int64_t c = 0; c < cw; c++)                                                   \
                    y[i + (c0 + c) * w->ldy] = (type)acc[c];                                       \
            }                                                                                      \
        }                                                                                          \
    }
DEFINE_KERNELS(f32, float)
DEFINE_KERNELS(f64, double)

static int product_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
    const product *w = ctx;
    int64_t first = w->bands[task], last = w->bands[task + 1];
    if (w->t == LOWRANK_FLOAT32)
        (w->nvec == 1 ? matvec_f32 : matmat_f32)(w, first, last);
    else
        (w->nvec == 1 ? matvec_f64 : matmat_f64)(w, first, last);
    return 0;
}

/* Row boundaries of ntasks bands of about equal numbers of entries (plus
 * one per row, for the rows' own cost). */
static void split_rows(const side *s, int64_t ntasks, int64_t *bands)
{
    int64_t total = s->ptr[s->rows] + s->rows;
    bands[0] = 0;
    for (int64_t t = 1; t < ntasks; t++) {
        int64_t target = total / ntasks * t, lo = bands[t - 1], hi = s->rows;
        while (lo < hi) { /* the first row whose start reaches the target */
            int64_t mid = lo + (hi - lo) / 2;
            if (s->ptr[mid] + mid < target)
                lo = mid + 1;
            else
                hi = mid;
        }
        bands[t] = lo;
    }
    bands[ntasks] = s->rows;
}

/* Bands per thread: enough that a thread slowed down by another process
 * leaves its share to the others. */
enum { BANDS_PER_THREAD = 4, MAX_BANDS = 256 };

static int csr_apply(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                     int64_t ldx, void *y, int64_t ldy, const lr_products *pr)
{
    product w = {op->dtype, side_of(op, trans), nvec, x, NULL, ldx, y, ldy, NULL};
    size_t es = lr_dtype_size(op->dtype);
    int64_t ntasks = (int64_t)lr_pool_threads(pr ? pr->pool : NULL) * BANDS_PER_THREAD;
    ntasks = ntasks > MAX_BANDS ? MAX_BANDS : ntasks > w.s.rows ? w.s.rows : ntasks;
    int64_t bands[MAX_BANDS + 1];
    void *xr = NULL;
    if (nvec > 1) { /* x row by row: each entry then reads one contiguous piece */
        xr = lr_malloc((size_t)(w.s.cols * nvec), es);
        if (!xr)
            return LOWRANK_ENOMEM;
        for (int64_t j = 0; j < nvec; j++)
            for (int64_t i = 0; i < w.s.cols; i++)
                memcpy((char *)xr + (size_t)(i * nvec + j) * es,
                       (const char *)x + (size_t)(i + j * ldx) * es, es);
        w.xr = xr;
    }
    split_rows(&w.s, ntasks, bands);
    w.bands = bands;
    int rc = lr_pool_run(pr ? pr->pool : NULL, ntasks, product_task, &w);
    free(xr);
    return rc;
}

/* Rows of S as doubles into dst (count x S.cols, zeroed first). */
static int csr_read(const lowrank_operator *op, char trans, int64_t first, int64_t count,
                    double *dst, int64_t ldd, const lr_products *pr)
{
    (void)pr;
    side s = side_of(op, trans);
    for (int64_t j = 0; j < s.cols; j++)
        memset(dst + j * ldd, 0, (size_t)count * sizeof *dst);
    for (int64_t c = 0; c < count; c++)
        for (int64_t p = s.ptr[first + c]; p < s.ptr[first + c + 1]; p++)
            dst[c + s.idx[p] * ldd] = op->dtype == LOWRANK_FLOAT32
                                          ? (double)((const float *)s.val)[p]
                                          : ((const double *)s.val)[p];
    return LOWRANK_OK;
}

static double value_at(const lowrank_csr *a, int64_t p)
{
    return a->dtype == LOWRANK_FLOAT32 ? (double)((const float *)a->values)[p]
                                       : ((const double *)a->values)[p];
}

static int csr_scan(const lowrank_operator *op, double scale, double *maxabs, double *sumsq,
                    const lr_products *pr)
{
    (void)pr;
    const lowrank_csr *a = ((const csr_state *)op->state)->a;
    double m = 0, s[4] = {0, 0, 0, 0};
    for (int64_t p = 0; p < a->nnz; p++) {
        double v = value_at(a, p);
        s[p & 3] += (scale * v) * (scale * v);
        m = fabs(v) > m ? fabs(v) : m;
    }
    *maxabs = m;
    *sumsq = (s[0] + s[1]) + (s[2] + s[3]);
    for (int64_t i = 0; !isfinite(*sumsq) && i < a->rows; i++)
        for (int64_t p = a->indptr[i]; p < a->indptr[i + 1]; p++)
            if (!isfinite(value_at(a, p)))
                return lr_fail(LOWRANK_ENONFINITE, "a(%lld, %lld) = %g is not finite",
                               (long long)i, (long long)a->indices[p], value_at(a, p));
    return LOWRANK_OK;
}

static void csr_destroy(lowrank_operator *op)
{
    csr_state *s = op->state;
    if (!s)
        return;
    free(s->tptr);
    free(s->tidx);
    free(s->tval);
    free(s);
}

static const lr_operator_kind csr_kind = {"sparse", csr_apply, NULL, csr_read, csr_scan,
                                          csr_destroy};

int lowrank_operator_csr(const lowrank_csr *a, lowrank_operator **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!a)
        return lr_fail(LOWRANK_EINVAL, "a is NULL");
    csr_state *s = lr_calloc(1, sizeof *s);
    if (!s)
        return LOWRANK_ENOMEM;
    s->a = a;
    int rc = lr_csr_transpose(a->dtype, a->rows, a->cols, a->indptr, a->indices, a->values,
                              &s->tptr, &s->tidx, &s->tval);
    if (rc != LOWRANK_OK) {
        free(s);
        return rc;
    }
    return lr_operator_alloc(&csr_kind, a->dtype, a->rows, a->cols, s, out);
}
