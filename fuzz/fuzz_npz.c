/*
 * fuzz_npz.c - libFuzzer harness of the sparse .npz reader
 * (lowrank_csr_load_npz: zip archive, zip64, deflate, the .npy members,
 * CSC conversion), the input written to a memory file.  Beyond crashes and
 * sanitizer reports it checks that a matrix read is one lowrank_csr_wrap
 * accepts (indptr from 0, non-decreasing, ending at nnz, every index in
 * range, no entry twice: the wrap re-checks the arrays), and that the
 * sparse operator's two products agree, y^T (A x) = (A^T y)^T x, so that
 * the transposed structure and the threaded kernels read what was read.
 * See docs/fuzzing.md.
 */
#define _GNU_SOURCE /* memfd_create */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static int fd = -1;
static char path[64];

static void as_file(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("fuzz_npz", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
}

/* y^T (A x) against (A^T y)^T x for x = y = ones, in double. */
static void check_products(const lowrank_csr *a)
{
    lowrank_operator *op;
    if (lowrank_operator_csr(a, &op) != LOWRANK_OK)
        return; /* ENOMEM only */
    lowrank_dtype t = a->dtype;
    lowrank_matrix *x, *y, *ax, *aty;
    if (lowrank_matrix_new(t, LOWRANK_COL_MAJOR, a->cols, 1, &x) != LOWRANK_OK ||
        lowrank_matrix_new(t, LOWRANK_COL_MAJOR, a->rows, 1, &y) != LOWRANK_OK ||
        lowrank_matrix_new(t, LOWRANK_COL_MAJOR, a->rows, 1, &ax) != LOWRANK_OK ||
        lowrank_matrix_new(t, LOWRANK_COL_MAJOR, a->cols, 1, &aty) != LOWRANK_OK)
        abort(); /* the file's size bounds these */
    for (int64_t i = 0; i < a->cols; i++)
        lowrank_matrix_set(x, i, 0, 1);
    for (int64_t i = 0; i < a->rows; i++)
        lowrank_matrix_set(y, i, 0, 1);
    if (lowrank_operator_apply(op, LOWRANK_NO_TRANS, x, ax, NULL) == LOWRANK_OK &&
        lowrank_operator_apply(op, LOWRANK_TRANS, y, aty, NULL) == LOWRANK_OK) {
        double s1 = 0, s2 = 0, abs = 0, v;
        for (int64_t i = 0; i < a->rows; i++)
            s1 += (lowrank_matrix_get(ax, i, 0, &v), v);
        for (int64_t j = 0; j < a->cols; j++)
            s2 += (lowrank_matrix_get(aty, j, 0, &v), v);
        for (int64_t p = 0; p < a->nnz; p++)
            abs += fabs(t == LOWRANK_FLOAT32 ? ((const float *)a->values)[p]
                                             : ((const double *)a->values)[p]);
        if (isfinite(abs) && !(fabs(s1 - s2) <= 1e-5 * abs + 1e-300))
            abort();
    }
    lowrank_matrix_free(x);
    lowrank_matrix_free(y);
    lowrank_matrix_free(ax);
    lowrank_matrix_free(aty);
    lowrank_operator_free(op);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_file(data, size);
    lowrank_csr *a = (lowrank_csr *)1;
    int rc = lowrank_csr_load_npz(path, &a);
    if (rc != LOWRANK_OK) {
        if (a != NULL)
            abort();
        return 0;
    }
    lowrank_csr *again = NULL;
    if (a->rows < 1 || a->cols < 1 || a->nnz < 0 ||
        lowrank_csr_wrap(a->dtype, a->rows, a->cols, a->nnz, a->indptr, a->indices, a->values,
                         &again) != LOWRANK_OK)
        abort();
    lowrank_csr_free(again);
    if (a->rows <= 4096 && a->cols <= 4096)
        check_products(a);
    lowrank_csr_free(a);
    return 0;
}
