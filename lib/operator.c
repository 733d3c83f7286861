/*
 * operator.c - linear operators: the handle, its products as the
 * algorithms see them (checked, counted, reported), and the two kinds that
 * need no storage of their own: a dense lowrank_matrix and a caller's
 * callback.  The sparse kind lives in csr.c, the file kind in
 * operator_npy.c.
 *
 * Inside the library every block is column-major with a leading dimension;
 * a callback that asked for row-major blocks gets them transposed.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"

static const lr_operator_kind matrix_kind;

/* ------------------------------------------------------------ the handle */

int lr_operator_alloc(const lr_operator_kind *kind, lowrank_dtype dtype, int64_t rows,
                      int64_t cols, void *state, lowrank_operator **out)
{
    lowrank_operator *op = lr_calloc(1, sizeof *op);
    lr_op_counters *count = op ? lr_malloc(1, sizeof *count) : NULL;
    if (!count) {
        free(op);
        if (kind->destroy) {
            lowrank_operator tmp = {.kind = kind, .state = state};
            kind->destroy(&tmp);
        }
        return LOWRANK_ENOMEM;
    }
    op->kind = kind;
    op->dtype = dtype;
    op->rows = rows;
    op->cols = cols;
    op->state = state;
    op->count = count;
    atomic_init(&count->passes, 0);
    atomic_init(&count->rows_read, 0);
    atomic_init(&count->bytes_read, 0);
    *out = op;
    return LOWRANK_OK;
}

void lowrank_operator_free(lowrank_operator *op)
{
    if (!op)
        return;
    if (op->kind->destroy)
        op->kind->destroy(op);
    free(op->count);
    free(op);
}

int64_t lowrank_operator_rows(const lowrank_operator *op) { return op ? op->rows : 0; }
int64_t lowrank_operator_cols(const lowrank_operator *op) { return op ? op->cols : 0; }
lowrank_dtype lowrank_operator_dtype(const lowrank_operator *op) { return op ? op->dtype : 0; }

int lowrank_operator_passes(const lowrank_operator *op, int64_t *passes, int64_t *bytes_read)
{
    if (!op)
        return lr_fail(LOWRANK_EINVAL, "op is NULL");
    if (passes)
        *passes = atomic_load(&op->count->passes) + atomic_load(&op->count->rows_read) / op->rows;
    if (bytes_read)
        *bytes_read = atomic_load(&op->count->bytes_read);
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ products */

static int64_t out_rows(const lowrank_operator *op, char trans)
{
    return trans == 'N' ? op->rows : op->cols;
}

static int64_t in_rows(const lowrank_operator *op, char trans)
{
    return trans == 'N' ? op->cols : op->rows;
}

/* The first NaN or infinity of the rows x cols column-major y, if any. */
static int check_block(const lowrank_operator *op, int64_t rows, int64_t cols, const void *y,
                       int64_t ldy)
{
    for (int64_t j = 0; j < cols; j++)
        for (int64_t i = 0; i < rows; i++) {
            double v = op->dtype == LOWRANK_FLOAT32 ? ((const float *)y)[i + j * ldy]
                                                    : ((const double *)y)[i + j * ldy];
            if (!isfinite(v))
                return lr_fail(LOWRANK_ENONFINITE,
                               "the operator's %s product gave %g at (%lld, %lld)",
                               op->kind->name, v, (long long)i, (long long)j);
        }
    return LOWRANK_OK;
}

int lr_operator_apply(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                      int64_t ldx, void *y, int64_t ldy, const lr_products *pr)
{
    if (nvec < 1 || ldx < in_rows(op, trans) || ldy < out_rows(op, trans))
        return lr_fail(LOWRANK_EINTERNAL, "operator product of %lld vectors, ld %lld and %lld",
                       (long long)nvec, (long long)ldx, (long long)ldy);
    int rc = op->kind->apply(op, trans, nvec, x, ldx, y, ldy, pr);
    if (rc == LOWRANK_OK && op->kind == &lr_callback_kind)
        rc = check_block(op, out_rows(op, trans), nvec, y, ldy);
    if (rc == LOWRANK_OK)
        atomic_fetch_add(&op->count->passes, 1);
    return rc;
}

int lr_operator_fuses(const lowrank_operator *op, char trans)
{
    return op->kind->fuses && op->kind->fuses(op, trans);
}

int lr_operator_gram(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                     int64_t ldx, void *z, int64_t ldz, void *w, const lr_products *pr)
{
    if (lr_operator_fuses(op, trans)) {
        int rc = op->kind->gram(op, trans, nvec, x, ldx, z, ldz, pr);
        if (rc == LOWRANK_OK)
            atomic_fetch_add(&op->count->passes, 1);
        return rc;
    }
    int64_t mid = out_rows(op, trans);
    lr_products first = pr ? *pr : (lr_products){0};
    lr_products second = first;
    first.to = second.from = 0.5 * (first.from + first.to);
    int rc = lr_operator_apply(op, trans, nvec, x, ldx, w, mid, &first);
    return rc != LOWRANK_OK ? rc
                            : lr_operator_apply(op, trans == 'N' ? 'T' : 'N', nvec, w, mid, z,
                                                ldz, &second);
}

/* Rows of op(A) through products with the identity's columns: op(A)^T E
 * gives the rows of op(A) as the columns of a width x count block. */
static int read_by_products(const lowrank_operator *op, char trans, int64_t first, int64_t count,
                            double *dst, int64_t ldd, const lr_products *pr)
{
    int64_t height = out_rows(op, trans), width = in_rows(op, trans);
    size_t es = lr_dtype_size(op->dtype);
    void *e = lr_calloc((size_t)(height * count), es), *t = lr_malloc((size_t)(width * count), es);
    int rc = e && t ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t c = 0; rc == LOWRANK_OK && c < count; c++) {
        if (op->dtype == LOWRANK_FLOAT32)
            ((float *)e)[first + c + c * height] = 1;
        else
            ((double *)e)[first + c + c * height] = 1;
    }
    if (rc == LOWRANK_OK)
        rc = lr_operator_apply(op, trans == 'N' ? 'T' : 'N', count, e, height, t, width, pr);
    for (int64_t j = 0; rc == LOWRANK_OK && j < width; j++)
        for (int64_t c = 0; c < count; c++)
            dst[c + j * ldd] = op->dtype == LOWRANK_FLOAT32 ? ((float *)t)[j + c * width]
                                                            : ((double *)t)[j + c * width];
    free(e);
    free(t);
    return rc;
}

int lr_operator_read(const lowrank_operator *op, char trans, int64_t first, int64_t count,
                     double *dst, int64_t ldd, const lr_products *pr)
{
    int rc = op->kind->read ? op->kind->read(op, trans, first, count, dst, ldd, pr)
                            : LOWRANK_EUNSUPPORTED;
    if (rc == LOWRANK_EUNSUPPORTED) /* the kind reads no such rows */
        rc = read_by_products(op, trans, first, count, dst, ldd, pr);
    if (rc == LOWRANK_OK && trans == 'N')
        atomic_fetch_add(&op->count->rows_read, count);
    return rc;
}

int lr_operator_can_scan(const lowrank_operator *op) { return op->kind->scan != NULL; }

int lr_operator_scan(const lowrank_operator *op, double scale, double *maxabs, double *sumsq,
                     const lr_products *pr)
{
    return op->kind->scan(op, scale, maxabs, sumsq, pr);
}

int lr_products_report(const lr_products *pr, double done)
{
    if (!pr || !pr->progress)
        return LOWRANK_OK;
    return lr_progress_report(pr->progress, pr->from + (pr->to - pr->from) * done);
}

int lr_products_pool(const lowrank_opts *opts, lr_pool **out)
{
    int64_t want = lr_opt_int(opts, LOWRANK_OPT_THREADS); /* 0: the cores available */
    int threads = want > 0 ? (int)(want < 1024 ? want : 1024) : lr_threads_available();
    *out = NULL;
    return threads > 1 ? lr_pool_new(threads, out) : LOWRANK_OK;
}

/* ------------------------------------------------------------ dense matrices */

/* The matrix's column-major view X: A = X, or A = X^T for a row-major one. */
static int matrix_apply(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                        int64_t ldx, void *y, int64_t ldy, const lr_products *pr)
{
    (void)pr;
    const lowrank_matrix *a = op->matrix;
    int64_t vm, vn;
    int transposed;
    lr_colmajor_view(a, &vm, &vn, &transposed);
    char t = (trans == 'T') == !transposed ? 'T' : 'N';
    return lr_gemm(a->dtype, t, 'N', out_rows(op, trans), nvec, in_rows(op, trans), 1.0, a->data,
                   a->ld, x, ldx, 0.0, y, ldy);
}

static const lr_operator_kind matrix_kind = {"dense", matrix_apply, NULL, NULL, NULL, NULL, NULL};

int lowrank_operator_matrix(const lowrank_matrix *a, lowrank_operator **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int rc = lr_check_matrix(a, "a");
    if (rc == LOWRANK_OK)
        rc = lr_operator_alloc(&matrix_kind, a->dtype, a->rows, a->cols, NULL, out);
    if (rc == LOWRANK_OK)
        (*out)->matrix = a;
    return rc;
}

/* ------------------------------------------------------------ transposes */

/* A^T of an operator: the inner operator's products with trans swapped. */
static char swapped(char trans) { return trans == 'N' ? 'T' : 'N'; }

static int transpose_apply(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                           int64_t ldx, void *y, int64_t ldy, const lr_products *pr)
{
    return lr_operator_apply(op->state, swapped(trans), nvec, x, ldx, y, ldy, pr);
}

static int transpose_read(const lowrank_operator *op, char trans, int64_t first, int64_t count,
                          double *dst, int64_t ldd, const lr_products *pr)
{
    return lr_operator_read(op->state, swapped(trans), first, count, dst, ldd, pr);
}

static int transpose_scan(const lowrank_operator *op, double scale, double *maxabs,
                          double *sumsq, const lr_products *pr)
{
    return lr_operator_scan(op->state, scale, maxabs, sumsq, pr);
}

static int transpose_fuses(const lowrank_operator *op, char trans)
{
    return lr_operator_fuses(op->state, swapped(trans));
}

static int transpose_gram(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                          int64_t ldx, void *z, int64_t ldz, const lr_products *pr)
{
    return lr_operator_gram(op->state, swapped(trans), nvec, x, ldx, z, ldz, NULL, pr);
}

static const lr_operator_kind transpose_kind = {"transposed",   transpose_apply, transpose_fuses,
                                                transpose_gram, transpose_read,  transpose_scan,
                                                NULL};

/* A dense matrix's transpose is a dense matrix: the same memory in the other
 * layout, which the transposed operator owns. */
static void transposed_matrix_destroy(lowrank_operator *op) { free(op->state); }

static const lr_operator_kind transposed_matrix_kind = {"dense", matrix_apply, NULL, NULL, NULL,
                                                        NULL, transposed_matrix_destroy};

int lowrank_operator_transpose(const lowrank_operator *a, lowrank_operator **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!a)
        return lr_fail(LOWRANK_EINVAL, "a is NULL");
    if (!a->matrix) {
        int rc = lr_operator_alloc(&transpose_kind, a->dtype, a->cols, a->rows,
                                   (void *)(uintptr_t)a, out);
        if (rc == LOWRANK_OK)
            (*out)->flags = a->flags;
        return rc;
    }
    const lowrank_matrix *m = a->matrix;
    lowrank_matrix *t = lr_malloc(1, sizeof *t);
    if (!t)
        return LOWRANK_ENOMEM;
    *t = (lowrank_matrix){m->dtype,
                          m->layout == LOWRANK_ROW_MAJOR ? LOWRANK_COL_MAJOR : LOWRANK_ROW_MAJOR,
                          m->cols, m->rows, m->ld, m->data, 0};
    int rc = lr_operator_alloc(&transposed_matrix_kind, a->dtype, a->cols, a->rows, t, out);
    if (rc == LOWRANK_OK)
        (*out)->matrix = t;
    return rc;
}

/* ------------------------------------------------------------ callbacks */

typedef struct callback {
    lowrank_apply_fn fn;
    void *user;
    lowrank_layout layout;
} callback;

/* dst (cols x rows, leading dimension cols) = the transpose of the
 * column-major rows x cols src: a column-major block as the row-major one
 * a callback asked for, and back. */
static void transpose_block(lowrank_dtype t, int64_t rows, int64_t cols, const void *src,
                            int64_t lds, void *dst, int64_t ldd)
{
    for (int64_t j = 0; j < cols; j++)
        for (int64_t i = 0; i < rows; i++) {
            if (t == LOWRANK_FLOAT32)
                ((float *)dst)[j + i * ldd] = ((const float *)src)[i + j * lds];
            else
                ((double *)dst)[j + i * ldd] = ((const double *)src)[i + j * lds];
        }
}

static int call(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                int64_t ldx, void *y, int64_t ldy)
{
    const callback *cb = op->state;
    int rc = cb->fn(trans == 'N' ? LOWRANK_NO_TRANS : LOWRANK_TRANS, nvec, x, ldx, y, ldy,
                    cb->user);
    return rc == 0 ? LOWRANK_OK
                   : lr_fail(LOWRANK_ECALLBACK, "the operator's callback failed (returned %d)",
                             rc);
}

static int callback_apply(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                          int64_t ldx, void *y, int64_t ldy, const lr_products *pr)
{
    const callback *cb = op->state;
    int rc = lr_products_report(pr, 0);
    if (rc != LOWRANK_OK || cb->layout == LOWRANK_COL_MAJOR)
        return rc != LOWRANK_OK ? rc : call(op, trans, nvec, x, ldx, y, ldy);
    int64_t in = in_rows(op, trans), out = out_rows(op, trans);
    size_t es = lr_dtype_size(op->dtype);
    void *xr = lr_malloc((size_t)(in * nvec), es), *yr = lr_malloc((size_t)(out * nvec), es);
    rc = xr && yr ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        transpose_block(op->dtype, in, nvec, x, ldx, xr, nvec);
        rc = call(op, trans, nvec, xr, nvec, yr, nvec);
    }
    if (rc == LOWRANK_OK)
        transpose_block(op->dtype, nvec, out, yr, nvec, y, ldy);
    free(xr);
    free(yr);
    return rc;
}

static void callback_destroy(lowrank_operator *op) { free(op->state); }

const lr_operator_kind lr_callback_kind = {"callback", callback_apply, NULL, NULL, NULL, NULL,
                                           callback_destroy};

int lowrank_operator_new(lowrank_dtype dtype, lowrank_layout layout, int64_t rows, int64_t cols,
                         lowrank_apply_fn apply, void *user, lowrank_operator **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!apply)
        return lr_fail(LOWRANK_EINVAL, "apply is NULL");
    if (!lr_dtype_valid(dtype) || !lr_layout_valid(layout))
        return lr_fail(LOWRANK_EINVAL, "unknown %s %d", lr_dtype_valid(dtype) ? "layout" : "dtype",
                       lr_dtype_valid(dtype) ? (int)layout : (int)dtype);
    if (rows < 1 || cols < 1)
        return lr_fail(LOWRANK_ESIZE, "the operator is %lld x %lld: sizes must be at least 1",
                       (long long)rows, (long long)cols);
    callback *cb = lr_malloc(1, sizeof *cb);
    if (!cb)
        return LOWRANK_ENOMEM;
    *cb = (callback){apply, user, layout};
    return lr_operator_alloc(&lr_callback_kind, dtype, rows, cols, cb, out);
}

/* ------------------------------------------------------------ lowrank_operator_apply */

/* dst (rows x cols, either layout) = the compact column-major src. */
static void store_block(lowrank_matrix *dst, const void *src)
{
    size_t es = lr_dtype_size(dst->dtype);
    if (dst->layout == LOWRANK_ROW_MAJOR) {
        transpose_block(dst->dtype, dst->rows, dst->cols, src, dst->rows, dst->data, dst->ld);
        return;
    }
    for (int64_t j = 0; j < dst->cols; j++)
        memcpy((char *)dst->data + (size_t)(j * dst->ld) * es,
               (const char *)src + (size_t)(j * dst->rows) * es, (size_t)dst->rows * es);
}

static int check_apply(const lowrank_operator *op, lowrank_trans trans, const lowrank_matrix *x,
                       const lowrank_matrix *y)
{
    if (!op || !x || !y)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !op ? "op" : !x ? "x" : "y");
    if (trans != LOWRANK_NO_TRANS && trans != LOWRANK_TRANS)
        return lr_fail(LOWRANK_EINVAL, "trans = %d is neither LOWRANK_NO_TRANS (111) nor "
                                       "LOWRANK_TRANS (112)", (int)trans);
    if (x->dtype != op->dtype || y->dtype != op->dtype)
        return lr_fail(LOWRANK_EINVAL, "x and y must be %s, as the operator is",
                       lr_dtype_name(op->dtype));
    char t = trans == LOWRANK_NO_TRANS ? 'N' : 'T';
    if (x->rows != in_rows(op, t) || y->rows != out_rows(op, t) || y->cols != x->cols)
        return lr_fail(LOWRANK_ESIZE,
                       "op(A) is %lld x %lld: x (%lld x %lld) and y (%lld x %lld) do not fit it",
                       (long long)out_rows(op, t), (long long)in_rows(op, t), (long long)x->rows,
                       (long long)x->cols, (long long)y->rows, (long long)y->cols);
    return LOWRANK_OK;
}

int lowrank_operator_apply(const lowrank_operator *op, lowrank_trans trans,
                           const lowrank_matrix *x, lowrank_matrix *y, const lowrank_opts *opts)
{
    int rc = check_apply(op, trans, x, y);
    if (rc != LOWRANK_OK)
        return rc;
    char t = trans == LOWRANK_NO_TRANS ? 'N' : 'T';
    int64_t nvec = x->cols, ldx = x->ld;
    size_t es = lr_dtype_size(op->dtype);
    const void *xc = x->data;
    void *xt = NULL, *yc = lr_malloc((size_t)(y->rows * nvec), es);
    if (yc && x->layout == LOWRANK_ROW_MAJOR) {
        xc = xt = lr_malloc((size_t)(x->rows * nvec), es);
        if (xt)
            transpose_block(op->dtype, nvec, x->rows, x->data, x->ld, xt, x->rows);
        ldx = x->rows;
    }
    lr_progress progress;
    lr_progress_begin(&progress, opts, "lowrank_operator_apply");
    lr_products pr = {NULL, &progress, 0, 1};
    rc = yc && xc ? lr_products_pool(opts, &pr.pool) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = lr_operator_apply(op, t, nvec, xc, ldx, yc, y->rows, &pr);
    if (rc == LOWRANK_OK)
        store_block(y, yc);
    lr_pool_free(pr.pool);
    free(xt);
    free(yc);
    return rc;
}
