/*
 * operator_npy.c - an .npy file as an operator (lowrank_operator_npy):
 * every product reads the file once, in blocks of rows, so that only one
 * block is in memory at a time.
 *
 * Reads are pread(2) into one buffer per product, not mmap(2): a mapped
 * file that shrinks under the reader raises SIGBUS, which would kill the
 * caller's process, where a short read is an error we can return; and the
 * copy out of the page cache costs a few percent of a product's time
 * (bench/ooc_svd.py measures the passes).  The header is parsed once by
 * npy.c's reader (lowrank_npy_info's checks), not at every block as
 * lowrank_matrix_load_npy_rows would.  posix_fadvise asks the kernel to
 * read the next block ahead while the current one is multiplied.
 *
 * A block of c rows of a C-order file is c x n row-major: its column-major
 * view is B^T (n x c), so Y_block = B X and Z += B^T Y_block are two gemm
 * calls on it.  The fused Gram product A^T (A X) does both on each block,
 * one pass for what would otherwise be two.
 */
#define _POSIX_C_SOURCE 200809L /* pread, posix_fadvise */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas.h"
#include "internal.h"

/* Bytes of a block of rows: large enough for gemm to run at full speed and
 * for reads to stream, small next to the vectors of a large problem. */
#define BLOCK_BYTES (16u << 20)

typedef struct npy_source {
    int fd;
    lr_npy_data d;
    int64_t block; /* rows per block */
    char *path;
} npy_source;

static int read_error(const npy_source *s, ssize_t got)
{
    if (got < 0)
        return lr_fail(LOWRANK_EIO, "cannot read '%s': %s", s->path, strerror(errno));
    return lr_fail(LOWRANK_EFORMAT, "'%s' was truncated while it was read", s->path);
}

/* count elements at element offset `at` of the data into dst. */
static int read_span(const lowrank_operator *op, int64_t at, int64_t count, void *dst)
{
    const npy_source *s = op->state;
    size_t es = lr_dtype_size(s->d.dtype), want = (size_t)count * es, done = 0;
    off_t base = (off_t)s->d.offset + (off_t)at * (off_t)es;
    while (done < want) {
        ssize_t got = pread(s->fd, (char *)dst + done, want - done, base + (off_t)done);
        if (got <= 0) {
            if (got < 0 && errno == EINTR)
                continue;
            return read_error(s, got);
        }
        done += (size_t)got;
    }
    atomic_fetch_add(&op->count->bytes_read, (int64_t)want);
    return LOWRANK_OK;
}

/* Rows [first, first + count) into buf as the column-major n x count
 * B^T (C order: one read) or count x n B (Fortran order: one read per
 * column); *bt tells which. */
static int read_block(const lowrank_operator *op, int64_t first, int64_t count, void *buf,
                      int *bt)
{
    const npy_source *s = op->state;
    int64_t n = s->d.cols;
    size_t es = lr_dtype_size(s->d.dtype);
    int rc = LOWRANK_OK;
    *bt = !s->d.fortran_order;
    if (!s->d.fortran_order)
        rc = read_span(op, first * n, count * n, buf);
    for (int64_t j = 0; rc == LOWRANK_OK && s->d.fortran_order && j < n; j++)
        rc = read_span(op, j * s->d.rows + first, count, (char *)buf + (size_t)(j * count) * es);
    if (rc == LOWRANK_OK && s->d.swap)
        lr_npy_swap(buf, (size_t)(count * n), es);
    if (!s->d.fortran_order && first + 2 * count <= s->d.rows) /* the next block, ahead */
        posix_fadvise(s->fd, (off_t)(s->d.offset + (first + count) * n * (int64_t)es),
                      (off_t)(count * n * (int64_t)es), POSIX_FADV_WILLNEED);
    return rc;
}

/* One pass over the blocks: for each, fn(op, first, count, block, bt, ctx). */
typedef int (*block_fn)(const lowrank_operator *op, int64_t first, int64_t count,
                        const void *block, int bt, void *ctx);

static int each_block(const lowrank_operator *op, block_fn fn, void *ctx, const lr_products *pr)
{
    const npy_source *s = op->state;
    void *buf = lr_malloc((size_t)(s->block * s->d.cols), lr_dtype_size(s->d.dtype));
    int rc = buf ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t first = 0; rc == LOWRANK_OK && first < s->d.rows; first += s->block) {
        int64_t count = s->d.rows - first < s->block ? s->d.rows - first : s->block;
        int bt;
        rc = lr_products_report(pr, (double)first / (double)s->d.rows);
        if (rc == LOWRANK_OK)
            rc = read_block(op, first, count, buf, &bt);
        if (rc == LOWRANK_OK)
            rc = fn(op, first, count, buf, bt, ctx);
    }
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ products */

typedef struct pass {
    lowrank_dtype t;
    int64_t nvec;
    const void *x;
    int64_t ldx;
    void *y; /* A x: rows x nvec, or NULL */
    int64_t ldy;
    void *z; /* A^T (x or A x): cols x nvec, or NULL */
    int64_t ldz;
    void *scratch; /* block x nvec */
} pass;

/* y rows = B x; z += B^T (y rows, or x's rows for A^T x). */
static int product_block(const lowrank_operator *op, int64_t first, int64_t count,
                         const void *block, int bt, void *ctx)
{
    const pass *w = ctx;
    int64_t n = op->cols, nv = w->nvec;
    size_t es = lr_dtype_size(w->t);
    char tn = bt ? 'T' : 'N', tt = bt ? 'N' : 'T'; /* B = op(block) */
    int64_t ldb = bt ? n : count;
    int rc = LOWRANK_OK;
    const void *yb = (const char *)w->x + (size_t)first * es; /* A^T x: x's rows */
    int64_t ldyb = w->ldx;
    if (w->y || (w->z && w->scratch)) { /* y block = B x */
        void *dst = w->y ? (char *)w->y + (size_t)first * es : w->scratch;
        int64_t ldd = w->y ? w->ldy : count;
        rc = lr_gemm(w->t, tn, 'N', count, nv, n, 1.0, block, ldb, w->x, w->ldx, 0.0, dst, ldd);
        yb = dst;
        ldyb = ldd;
    }
    if (rc == LOWRANK_OK && w->z)
        rc = lr_gemm(w->t, tt, 'N', n, nv, count, 1.0, block, ldb, yb, ldyb,
                     first == 0 ? 0.0 : 1.0, w->z, w->ldz);
    return rc;
}

static int npy_apply(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                     int64_t ldx, void *y, int64_t ldy, const lr_products *pr)
{
    pass w = {op->dtype, nvec, x, ldx, trans == 'N' ? y : NULL, ldy, trans == 'T' ? y : NULL,
              ldy, NULL};
    return each_block(op, product_block, &w, pr);
}

/* A file is read by rows: A^T (A x) fuses, A (A^T x) does not. */
static int npy_fuses(const lowrank_operator *op, char trans)
{
    (void)op;
    return trans == 'N';
}

static int npy_gram(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                    int64_t ldx, void *z, int64_t ldz, const lr_products *pr)
{
    (void)trans;
    const npy_source *s = op->state;
    pass w = {op->dtype, nvec, x, ldx, NULL, 0, z, ldz, NULL};
    w.scratch = lr_malloc((size_t)(s->block * nvec), lr_dtype_size(op->dtype));
    int rc = w.scratch ? each_block(op, product_block, &w, pr) : LOWRANK_ENOMEM;
    free(w.scratch);
    return rc;
}

/* ------------------------------------------------------------ rows and scan */

static int npy_read(const lowrank_operator *op, char trans, int64_t first, int64_t count,
                    double *dst, int64_t ldd, const lr_products *pr)
{
    (void)pr;
    const npy_source *s = op->state;
    if (trans == 'T') /* columns of A: products with the identity, a pass each */
        return LOWRANK_EUNSUPPORTED;
    void *buf = lr_malloc((size_t)(count * s->d.cols), lr_dtype_size(s->d.dtype));
    int bt = 0, rc = buf ? read_block(op, first, count, buf, &bt) : LOWRANK_ENOMEM;
    for (int64_t j = 0; rc == LOWRANK_OK && j < s->d.cols; j++)
        for (int64_t i = 0; i < count; i++) {
            int64_t at = bt ? j + i * s->d.cols : i + j * count;
            dst[i + j * ldd] = s->d.dtype == LOWRANK_FLOAT32 ? (double)((float *)buf)[at]
                                                             : ((double *)buf)[at];
        }
    free(buf);
    return rc;
}

typedef struct scan_state {
    double scale, maxabs, sumsq;
} scan_state;

static int scan_block(const lowrank_operator *op, int64_t first, int64_t count,
                      const void *block, int bt, void *ctx)
{
    scan_state *st = ctx;
    int64_t total = count * op->cols;
    double m = st->maxabs, s[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < total; i++) {
        double v = op->dtype == LOWRANK_FLOAT32 ? (double)((const float *)block)[i]
                                                : ((const double *)block)[i];
        s[i & 3] += (st->scale * v) * (st->scale * v);
        m = fabs(v) > m ? fabs(v) : m;
    }
    st->maxabs = m;
    st->sumsq += (s[0] + s[1]) + (s[2] + s[3]);
    for (int64_t i = 0; !isfinite(st->sumsq) && i < total; i++) {
        double v = op->dtype == LOWRANK_FLOAT32 ? (double)((const float *)block)[i]
                                                : ((const double *)block)[i];
        if (!isfinite(v)) {
            int64_t r = bt ? i / op->cols : i % count, c = bt ? i % op->cols : i / count;
            return lr_fail(LOWRANK_ENONFINITE, "a(%lld, %lld) = %g is not finite",
                           (long long)(first + r), (long long)c, v);
        }
    }
    return LOWRANK_OK;
}

static int npy_scan(const lowrank_operator *op, double scale, double *maxabs, double *sumsq,
                    const lr_products *pr)
{
    scan_state st = {scale, 0, 0};
    int rc = each_block(op, scan_block, &st, pr);
    if (rc == LOWRANK_OK)
        atomic_fetch_add(&op->count->passes, 1);
    *maxabs = st.maxabs;
    *sumsq = st.sumsq;
    return rc;
}

static void npy_destroy(lowrank_operator *op)
{
    npy_source *s = op->state;
    if (!s)
        return;
    close(s->fd);
    free(s->path);
    free(s);
}

static const lr_operator_kind npy_kind = {"file", npy_apply, npy_fuses, npy_gram, npy_read, npy_scan,
                                          npy_destroy};

int lowrank_operator_npy(const char *path, lowrank_operator **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!path)
        return lr_fail(LOWRANK_EINVAL, "path is NULL");
    npy_source *s = lr_calloc(1, sizeof *s);
    char *copy = s ? lr_malloc(strlen(path) + 1, 1) : NULL;
    if (!copy) {
        free(s);
        return LOWRANK_ENOMEM;
    }
    int rc = lr_npy_open_data(path, &s->fd, &s->d);
    if (rc != LOWRANK_OK) {
        free(copy);
        free(s);
        return rc;
    }
    s->path = strcpy(copy, path);
    int64_t row_bytes = s->d.cols * (int64_t)lr_dtype_size(s->d.dtype);
    s->block = row_bytes >= BLOCK_BYTES ? 1 : BLOCK_BYTES / row_bytes;
    if (s->block > s->d.rows)
        s->block = s->d.rows;
    rc = lr_operator_alloc(&npy_kind, s->d.dtype, s->d.rows, s->d.cols, s, out);
    if (rc == LOWRANK_OK)
        (*out)->flags = LR_OP_STREAMED;
    return rc;
}
