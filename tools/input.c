/*
 * input.c - the matrix a subcommand reads: an .npy file loaded into
 * memory, an .npy file streamed block by block (larger than memory, or
 * --stream), or scipy's sparse .npz; the last two as operators.
 */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

/* Whether a file of `bytes` of data is too large to load: more than half
 * the physical memory, so that the computation's own memory and the rest
 * of the system fit beside it. */
static int too_large(int64_t bytes)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 && (double)bytes > 0.5 * (double)pages * (double)size;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

int tool_input_open(const char *path, int stream, tool_input *in)
{
    *in = (tool_input){NULL, NULL, NULL};
    int rc;
    if (ends_with(path, ".npz")) {
        rc = lowrank_csr_load_npz(path, &in->csr);
        if (rc == LOWRANK_OK)
            rc = lowrank_operator_csr(in->csr, &in->op);
    } else {
        int64_t rows, cols;
        lowrank_dtype dtype;
        lowrank_layout layout;
        rc = lowrank_npy_info(path, &rows, &cols, &dtype, &layout);
        if (rc == LOWRANK_OK &&
            (stream || too_large(rows * cols * (dtype == LOWRANK_FLOAT32 ? 4 : 8))))
            rc = lowrank_operator_npy(path, &in->op);
        else if (rc == LOWRANK_OK || rc == LOWRANK_EUNSUPPORTED) /* a pipe: load it */
            rc = lowrank_matrix_load_npy(path, &in->matrix);
    }
    if (rc != LOWRANK_OK) {
        tool_input_free(in);
        return tool_fail(path, rc);
    }
    return 0;
}

void tool_input_free(tool_input *in)
{
    lowrank_operator_free(in->op);
    lowrank_csr_free(in->csr);
    lowrank_matrix_free(in->matrix);
    *in = (tool_input){NULL, NULL, NULL};
}

int64_t tool_input_rows(const tool_input *in)
{
    return in->op ? lowrank_operator_rows(in->op) : lowrank_matrix_rows(in->matrix);
}

int64_t tool_input_cols(const tool_input *in)
{
    return in->op ? lowrank_operator_cols(in->op) : lowrank_matrix_cols(in->matrix);
}

void tool_input_report(const tool_input *in)
{
    int64_t passes = 0, bytes = 0;
    if (in->op && lowrank_operator_passes(in->op, &passes, &bytes) == LOWRANK_OK)
        fprintf(stderr, "passes=%lld bytes_read=%lld\n", (long long)passes, (long long)bytes);
}

/* The approximation of an operator's matrix is dense: written only when it
 * takes at most this much memory, 2 GiB. */
#define DENSE_OUTPUT_BYTES (INT64_C(1) << 31)

int tool_input_check_output(const tool_input *in, const char *command)
{
    int64_t rows = tool_input_rows(in), cols = tool_input_cols(in);
    if (!in->op || (double)rows * (double)cols * (lowrank_operator_dtype(in->op) ==
                                                    LOWRANK_FLOAT32 ? 4 : 8) <=
                       (double)DENSE_OUTPUT_BYTES)
        return 0;
    char message[200];
    snprintf(message, sizeof message,
             "the %lld x %lld approximation would not fit in memory: write --factors L.npy "
             "R.npy instead of OUT.npy",
             (long long)rows, (long long)cols);
    return tool_usage(command, message);
}

int tool_write_input_approximation(const lowrank_factors *f, const tool_input *in,
                                   const char *out)
{
    return in->matrix ? tool_write_approximation(f, in->matrix, out)
                      : tool_write_dense(f, lowrank_operator_dtype(in->op), LOWRANK_ROW_MAJOR, out);
}
