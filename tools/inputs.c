/*
 * inputs.c - a layer's calibration inputs (one per row of an .npy file) into
 * input statistics, read by blocks of rows so that they are never held
 * whole: `lowrank svd --inputs` and `lowrank allocate` share it.  Apart from
 * args.c because it reports progress, which only the lowrank tool has.
 */
#include <stdio.h>

#include "tool.h"

/* Rows per block when reading inputs: about 8 MB of doubles. */
#define INPUT_BLOCK_VALUES (1 << 20)

int tool_load_stats(const char *path, int64_t dim, tool_progress *pr, lowrank_stats **out)
{
    int64_t rows, cols;
    lowrank_dtype dtype;
    lowrank_layout layout;
    *out = NULL;
    int rc = lowrank_npy_info(path, &rows, &cols, &dtype, &layout);
    if (rc != LOWRANK_OK)
        return tool_fail(path, rc);
    if (cols != dim) {
        fprintf(stderr, "lowrank: %s: %lld columns, but the weights have %lld rows (inputs)\n",
                path, (long long)cols, (long long)dim);
        return 1;
    }
    lowrank_stats *s = NULL;
    rc = lowrank_stats_new(dim, NULL, &s);
    int64_t block = INPUT_BLOCK_VALUES / dim > 0 ? INPUT_BLOCK_VALUES / dim : 1;
    for (int64_t first = 0; rc == LOWRANK_OK && first < rows; first += block) {
        if (tool_progress_report((double)first / (double)rows, pr)) {
            lowrank_stats_free(s);
            return tool_interrupt_status();
        }
        lowrank_matrix *x = NULL;
        rc = lowrank_matrix_load_npy_rows(path, first, rows - first < block ? rows - first : block,
                                          &x);
        if (rc == LOWRANK_OK)
            rc = lowrank_stats_add(s, x);
        lowrank_matrix_free(x);
    }
    if (rc != LOWRANK_OK) {
        lowrank_stats_free(s);
        return tool_fail(path, rc);
    }
    *out = s;
    return 0;
}
