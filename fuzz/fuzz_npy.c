/*
 * fuzz_npy.c - libFuzzer harness of the .npy reader: the input as a whole
 * file in memory (lowrank_matrix_load_npy_mem) and as a file on disk
 * (lowrank_matrix_load_npy, lowrank_npy_info, lowrank_matrix_load_npy_rows
 * over several blocks of rows).  Beyond crashes and sanitizer reports it
 * checks that the readers agree: the same accept/reject verdict, the same
 * shape, and every block of rows equal to those rows of the whole matrix.
 * See docs/fuzzing.md.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lowrank.h"

static int fd = -1;
static char path[64];

/* The input as a regular file (a memory file: nothing touches the disk). */
static void as_file(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("fuzz_npy", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
}

/* Rows first .. first + count - 1 read alone must equal those of whole. */
static void check_block(const lowrank_matrix *whole, int64_t first, int64_t count)
{
    lowrank_matrix *block = NULL;
    if (lowrank_matrix_load_npy_rows(path, first, count, &block) != LOWRANK_OK)
        abort(); /* the whole file was read: its rows must be */
    for (int64_t i = 0; i < count; i++)
        for (int64_t j = 0; j < lowrank_matrix_cols(whole); j++) {
            double a, b;
            if (lowrank_matrix_get(whole, first + i, j, &a) != LOWRANK_OK ||
                lowrank_matrix_get(block, i, j, &b) != LOWRANK_OK ||
                memcmp(&a, &b, sizeof a) != 0)
                abort();
        }
    lowrank_matrix_free(block);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lowrank_matrix *mem = NULL, *file = NULL, *none = NULL;
    int rc_mem = lowrank_matrix_load_npy_mem(data, (int64_t)size, &mem);
    as_file(data, size);
    int rc_file = lowrank_matrix_load_npy(path, &file);
    int64_t rows = 0, cols = 0;
    lowrank_dtype dtype;
    lowrank_layout layout;
    int rc_info = lowrank_npy_info(path, &rows, &cols, &dtype, &layout);
    /* one reader's verdict is every reader's (ENOMEM aside: a huge shape) */
    if (rc_mem != LOWRANK_ENOMEM && rc_file != LOWRANK_ENOMEM && rc_mem != rc_file)
        abort();
    if (rc_mem == LOWRANK_OK && (rc_info != LOWRANK_OK || lowrank_matrix_rows(mem) != rows ||
                                 lowrank_matrix_cols(mem) != cols ||
                                 lowrank_matrix_dtype(mem) != dtype ||
                                 lowrank_matrix_layout(mem) != layout))
        abort();
    if (rc_mem == LOWRANK_OK) {
        check_block(mem, 0, rows);
        check_block(mem, rows / 2, rows - rows / 2);
        check_block(mem, rows - 1, 1);
        if (lowrank_matrix_load_npy_rows(path, rows, 1, &none) != LOWRANK_ERANGE || none)
            abort();
    } else if (rc_info == LOWRANK_OK && rows > 0) {
        /* a header the info accepts over data it does not hold: a block
         * read may fail, but cleanly */
        lowrank_matrix_load_npy_rows(path, 0, 1, &none);
        lowrank_matrix_free(none);
    }
    lowrank_matrix_free(mem);
    lowrank_matrix_free(file);
    return 0;
}
