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

/* The operator keeps S, the CSR form of A or of A^T, whichever is tall
 * (rows >= cols): A's own arrays, or the transpose built here for a wide A.
 * Its column indices are an int32 copy when they fit (a third less memory
 * traffic than int64 in a product, which reads little else).  Both
 * products then read S row by row: S x gathers rows of x (cols x nvec, the
 * small side: its rows stay in cache), and S^T y scatters into rows of z
 * (cols x nvec again), never reading or writing the long side at random. */
typedef struct csr_state {
    const lowrank_csr *a;
    int swapped, narrow; /* S = A^T; S's indices are int32 */
    int64_t rows, cols;  /* S's, rows >= cols */
    const int64_t *ptr;
    const void *idx, *val;
    int64_t *own_ptr;    /* what the state allocated */
    void *own_idx, *own_val;
} csr_state;

/* The most columns of a block one scatter pass sums (its copies of z are
 * CHUNKS x cols x that many). */
enum { WIDTH = 32 };

/* The scatter's partial sums: a fixed number of chunks of S's rows, each
 * summing into its own copy of z, added in chunk order, so that results do
 * not depend on the number of threads; the columns of a block are done as
 * many at a time as fit in SCATTER_BYTES of copies. */
enum { CHUNKS = 4 };
#define SCATTER_BYTES (32u << 20)

/* Bands per thread of a gather: enough that a thread slowed down by another
 * process leaves its share to the others. */
enum { BANDS_PER_THREAD = 4, MAX_BANDS = 256 };

/* A product over S: a gather (y = S x, bands of rows) or a scatter
 * (z = S^T y, chunks of rows, then a sum over the chunks); the columns
 * [c0, c0 + width) of the block, x and y column-major, xr holding x
 * row-major (rows of width nvec) for a gather of several columns. */
typedef struct product {
    lowrank_dtype t;
    const csr_state *s;
    int64_t nvec, c0, width;
    const void *x, *xr;
    int64_t ldx;
    void *y;
    int64_t ldy;
    double *part; /* scatter: CHUNKS x cols x width */
    int64_t bands[MAX_BANDS + 1], nbands;
} product;

/* The kernels, for values of type `type` and indices of type `itype`, on
 * W columns of the block at a time, W a constant so that the W sums of a
 * row stay in registers: a product of several columns reads each entry of
 * S once per W columns.  One column gathers with two partial sums per row,
 * to overlap the latency of the loads from x. */
#define DEFINE_GATHER1(suffix, type, itype)                                                        \
    static void gather1_##suffix(const product *w, int64_t first, int64_t last)                    \
    {                                                                                              \
        const type *val = w->s->val, *x = w->x;                                                    \
        const itype *idx = w->s->idx;                                                              \
        const int64_t *ptr = w->s->ptr;                                                            \
        type *y = w->y;                                                                            \
        for (int64_t i = first; i < last; i++) {                                                   \
            double a0 = 0, a1 = 0;                                                                 \
            int64_t p = ptr[i], end = ptr[i + 1];                                                  \
            for (; p + 1 < end; p += 2) {                                                          \
                a0 += (double)val[p] * (double)x[idx[p]];                                          \
                a1 += (double)val[p + 1] * (double)x[idx[p + 1]];                                  \
            }                                                                                      \
            if (p < end)                                                                           \
                a0 += (double)val[p] * (double)x[idx[p]];                                          \
            y[i] = (type)(a0 + a1);                                                                \
        }                                                                                          \
    }

/* y rows [first, last), columns c0 .. c0 + W - 1 = S x, x read from xr
 * (row-major, rows of width nvec); part (cols x W) = the rows [first,
 * last) of S, transposed, times columns c0 .. c0 + W - 1 of x. */
#define DEFINE_BLOCK(suffix, type, itype, W)                                                       \
    static void gather_##suffix##_##W(const product *w, int64_t first, int64_t last, int64_t c0)   \
    {                                                                                              \
        const type *val = w->s->val, *xr = w->xr;                                                  \
        const itype *idx = w->s->idx;                                                              \
        const int64_t *ptr = w->s->ptr;                                                            \
        type *y = w->y;                                                                            \
        int64_t nvec = w->nvec, ldy = w->ldy;                                                      \
        for (int64_t i = first; i < last; i++) {                                                   \
            double acc[W] = {0};                                                                   \
            for (int64_t p = ptr[i]; p < ptr[i + 1]; p++) {                                        \
                double v = val[p];                                                                 \
                const type *row = xr + (int64_t)idx[p] * nvec + c0;                                \
                for (int c = 0; c < W; c++)                                                        \
                    acc[c] += v * (double)row[c];                                                  \
            }                                                                                      \
            for (int c = 0; c < W; c++)                                                            \
                y[i + (c0 + c) * ldy] = (type)acc[c];                                              \
        }                                                                                          \
    }                                                                                              \
    static void scatter_##suffix##_##W(const product *w, int64_t first, int64_t last, int64_t c0,  \
                                       double *part)                                               \
    {                                                                                              \
        const type *val = w->s->val, *x = w->x;                                                    \
        const itype *idx = w->s->idx;                                                              \
        const int64_t *ptr = w->s->ptr;                                                            \
        int64_t ldx = w->ldx, g = w->width;                                                        \
        for (int64_t i = first; i < last; i++) {                                                   \
            double xi[W];                                                                          \
            for (int c = 0; c < W; c++)                                                            \
                xi[c] = (double)x[i + (c0 + c) * ldx];                                             \
            for (int64_t p = ptr[i]; p < ptr[i + 1]; p++) {                                        \
                double v = val[p], *z = part + (int64_t)idx[p] * g + (c0 - w->c0);                 \
                for (int c = 0; c < W; c++)                                                        \
                    z[c] += v * xi[c];                                                             \
            }                                                                                      \
        }                                                                                          \
    }

#define DEFINE_KERNELS(suffix, type, itype)                                                        \
    DEFINE_GATHER1(suffix, type, itype)                                                            \
    DEFINE_BLOCK(suffix, type, itype, 1)                                                           \
    DEFINE_BLOCK(suffix, type, itype, 2)                                                           \
    DEFINE_BLOCK(suffix, type, itype, 4)                                                           \
    DEFINE_BLOCK(suffix, type, itype, 8)                                                           \
    static const kernels kernels_##suffix = {                                                      \
        gather1_##suffix,                                                                          \
        {gather_##suffix##_1, gather_##suffix##_2, gather_##suffix##_4, gather_##suffix##_8},      \
        {scatter_##suffix##_1, scatter_##suffix##_2, scatter_##suffix##_4, scatter_##suffix##_8}};

/* The kernels of one value and index type; [0..3] for W = 1, 2, 4, 8. */
typedef struct kernels {
    void (*gather1)(const product *w, int64_t first, int64_t last);
    void (*gather[4])(const product *w, int64_t first, int64_t last, int64_t c0);
    void (*scatter[4])(const product *w, int64_t first, int64_t last, int64_t c0, double *part);
} kernels;

DEFINE_KERNELS(f32_i32, float, int32_t)
DEFINE_KERNELS(f64_i32, double, int32_t)
DEFINE_KERNELS(f32_i64, float, int64_t)
DEFINE_KERNELS(f64_i64, double, int64_t)

static const kernels *kernels_of(const product *w)
{
    int single = w->t == LOWRANK_FLOAT32;
    return w->s->narrow ? (single ? &kernels_f32_i32 : &kernels_f64_i32)
                        : (single ? &kernels_f32_i64 : &kernels_f64_i64);
}

/* The widest of 8, 4, 2, 1 columns that fits in `left`, as an index. */
static int width_index(int64_t left) { return left >= 8 ? 3 : left >= 4 ? 2 : left >= 2 ? 1 : 0; }

static int gather_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
    const product *w = ctx;
    const kernels *k = kernels_of(w);
    int64_t first = w->bands[task], last = w->bands[task + 1];
    if (w->nvec == 1) {
        k->gather1(w, first, last);
        return 0;
    }
    for (int64_t c0 = 0; c0 < w->nvec;) {
        int wi = width_index(w->nvec - c0);
        k->gather[wi](w, first, last, c0);
        c0 += INT64_C(1) << wi;
    }
    return 0;
}

static int scatter_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
    const product *w = ctx;
    const kernels *k = kernels_of(w);
    double *part = w->part + task * w->s->cols * w->width;
    int64_t first = w->bands[task], last = w->bands[task + 1];
    memset(part, 0, (size_t)(w->s->cols * w->width) * sizeof *part);
    for (int64_t c0 = w->c0; c0 < w->c0 + w->width;) {
        int wi = width_index(w->c0 + w->width - c0);
        k->scatter[wi](w, first, last, c0, part);
        c0 += INT64_C(1) << wi;
    }
    return 0;
}

/* z = the chunks' partial sums, added in order (in the calling thread: a
 * few additions per element of z, less than waking the workers again). */
static void sum_chunks(const product *w)
{
    int64_t n = w->s->cols, g = w->width;
    for (int64_t j = 0; j < n; j++)
        for (int64_t c = 0; c < g; c++) {
            double sum = 0;
            for (int64_t k = 0; k < CHUNKS; k++)
                sum += w->part[(k * n + j) * g + c];
            if (w->t == LOWRANK_FLOAT32)
                ((float *)w->y)[j + (w->c0 + c) * w->ldy] = (float)sum;
            else
                ((double *)w->y)[j + (w->c0 + c) * w->ldy] = sum;
        }
}

/* Row boundaries of nbands bands of S of about equal numbers of entries
 * (plus one per row, for the rows' own cost). */
static void split_rows(product *w, int64_t nbands)
{
    const csr_state *s = w->s;
    int64_t total = s->ptr[s->rows] + s->rows;
    w->nbands = nbands;
    w->bands[0] = 0;
    for (int64_t t = 1; t < nbands; t++) {
        int64_t target = total / nbands * t, lo = w->bands[t - 1], hi = s->rows;
        while (lo < hi) { /* the first row whose start reaches the target */
            int64_t mid = lo + (hi - lo) / 2;
            if (s->ptr[mid] + mid < target)
                lo = mid + 1;
            else
                hi = mid;
        }
        w->bands[t] = lo;
    }
    w->bands[nbands] = s->rows;
}

/* x (S.cols x nvec, column-major) row by row, new: each entry of S then
 * reads one contiguous piece of it. */
static void *rows_of(const product *w)
{
    int64_t n = w->s->cols;
    void *xr = lr_malloc((size_t)(n * w->nvec), lr_dtype_size(w->t));
    for (int64_t j = 0; xr && j < w->nvec; j++)
        for (int64_t i = 0; i < n; i++)
            if (w->t == LOWRANK_FLOAT32)
                ((float *)xr)[i * w->nvec + j] = ((const float *)w->x)[i + j * w->ldx];
            else
                ((double *)xr)[i * w->nvec + j] = ((const double *)w->x)[i + j * w->ldx];
    return xr;
}

/* y = S x: x row by row, and bands of rows of y on the threads. */
static int gather(product *w, lr_pool *pool)
{
    const csr_state *s = w->s;
    void *xr = NULL;
    if (w->nvec > 1 && !(w->xr = xr = rows_of(w)))
        return LOWRANK_ENOMEM;
    int64_t nbands = (int64_t)lr_pool_threads(pool) * BANDS_PER_THREAD;
    split_rows(w, nbands > MAX_BANDS ? MAX_BANDS : nbands > s->rows ? s->rows : nbands);
    int rc = lr_pool_run(pool, w->nbands, gather_task, w);
    free(xr);
    return rc;
}

/* z = S^T x: for each group of columns, the chunks' partial sums on the
 * threads, then their sum. */
static int scatter(product *w, lr_pool *pool)
{
    const csr_state *s = w->s;
    int64_t fit = SCATTER_BYTES / ((int64_t)CHUNKS * s->cols * (int64_t)sizeof(double));
    int64_t g = fit < 1 ? 1 : fit > WIDTH ? WIDTH : fit;
    w->part = lr_malloc((size_t)(CHUNKS * s->cols * (g < w->nvec ? g : w->nvec)), sizeof(double));
    if (!w->part)
        return LOWRANK_ENOMEM;
    int rc = LOWRANK_OK;
    for (w->c0 = 0; rc == LOWRANK_OK && w->c0 < w->nvec; w->c0 += g) {
        w->width = w->nvec - w->c0 < g ? w->nvec - w->c0 : g;
        split_rows(w, s->rows < CHUNKS ? s->rows : CHUNKS);
        int64_t chunks = w->nbands;
        rc = lr_pool_run(pool, chunks, scatter_task, w);
        for (int64_t k = chunks; rc == LOWRANK_OK && k < CHUNKS; k++) /* fewer rows than chunks */
            memset(w->part + k * s->cols * w->width, 0,
                   (size_t)(s->cols * w->width) * sizeof(double));
        if (rc == LOWRANK_OK)
            sum_chunks(w);
    }
    free(w->part);
    return rc;
}

static int csr_apply(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                     int64_t ldx, void *y, int64_t ldy, const lr_products *pr)
{
    const csr_state *s = op->state;
    product w = {.t = op->dtype, .s = s, .nvec = nvec, .x = x, .ldx = ldx, .y = y, .ldy = ldy};
    lr_pool *pool = pr ? pr->pool : NULL;
    return (trans == 'T') == s->swapped ? gather(&w, pool) : scatter(&w, pool);
}

/* Rows [first, first + count) of S (transposed: of S^T) as doubles into
 * dst (count x width, zeroed first). */
static int csr_read(const lowrank_operator *op, char trans, int64_t first, int64_t count,
                    double *dst, int64_t ldd, const lr_products *pr)
{
    (void)pr;
    const csr_state *s = op->state;
    int transposed = (trans == 'T') != s->swapped;
    int64_t width = transposed ? s->rows : s->cols;
    for (int64_t j = 0; j < width; j++)
        memset(dst + j * ldd, 0, (size_t)count * sizeof *dst);
    int64_t lo = transposed ? 0 : first, hi = transposed ? s->rows : first + count;
    for (int64_t i = lo; i < hi; i++) /* rows of S^T: a sweep over S, keeping those columns */
        for (int64_t p = s->ptr[i]; p < s->ptr[i + 1]; p++) {
            int64_t j = s->narrow ? ((const int32_t *)s->idx)[p] : ((const int64_t *)s->idx)[p];
            double v = op->dtype == LOWRANK_FLOAT32 ? (double)((const float *)s->val)[p]
                                                    : ((const double *)s->val)[p];
            if (!transposed)
                dst[(i - first) + j * ldd] = v;
            else if (j >= first && j < first + count)
                dst[(j - first) + i * ldd] = v;
        }
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
    free(s->own_ptr);
    free(s->own_idx);
    free(s->own_val);
    free(s);
}

static const lr_operator_kind csr_kind = {"sparse", csr_apply, NULL, NULL, csr_read, csr_scan,
                                          csr_destroy};

/* The int64 array of n indices narrowed to a new int32 array. */
static int32_t *narrow_indices(const int64_t *wide, int64_t n)
{
    int32_t *v = lr_malloc(n > 0 ? (size_t)n : 1, sizeof *v);
    for (int64_t p = 0; v && p < n; p++)
        v[p] = (int32_t)wide[p];
    return v;
}

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
    *s = (csr_state){a, a->rows < a->cols, a->rows <= INT32_MAX && a->cols <= INT32_MAX,
                     a->rows, a->cols, a->indptr, a->indices, a->values, NULL, NULL, NULL};
    int rc = LOWRANK_OK;
    const int64_t *wide = a->indices;
    if (s->swapped) {
        int64_t *tidx;
        rc = lr_csr_transpose(a->dtype, a->rows, a->cols, a->indptr, a->indices, a->values,
                              &s->own_ptr, &tidx, &s->own_val);
        s->own_idx = tidx;
        s->rows = a->cols;
        s->cols = a->rows;
        s->ptr = s->own_ptr;
        s->idx = wide = tidx;
        s->val = s->own_val;
    }
    if (rc == LOWRANK_OK && s->narrow) {
        int32_t *idx = narrow_indices(wide, a->nnz);
        if (s->own_idx != idx)
            free(s->own_idx);
        s->own_idx = idx;
        s->idx = idx;
        rc = idx ? LOWRANK_OK : LOWRANK_ENOMEM;
    }
    if (rc != LOWRANK_OK) {
        lowrank_operator tmp = {.state = s};
        csr_destroy(&tmp);
        return rc;
    }
    return lr_operator_alloc(&csr_kind, a->dtype, a->rows, a->cols, s, out);
}
