/*
 * stats.h - the lowrank_stats handle (lib/stats.c), read by the data-aware
 * truncation (lib/compress.c); not installed.
 */
#ifndef LOWRANK_STATS_H
#define LOWRANK_STATS_H

#include "internal.h"

/* The statistics of count rows of dim values: their mean and their scatter
 * sum_i (x_i - mean)(x_i - mean)^T (count times the covariance), dim x dim
 * column-major.  The updates work on the lower triangle and copy it to the
 * upper one when they finish, so that readers may use gemm (OpenBLAS's
 * symm runs 3-5 times slower on these shapes). */
struct lowrank_stats {
    int64_t dim, count;
    double *mean, *scatter;
    int has_opts;
    lowrank_opts opts; /* for its progress callback */
};

/* The largest magnitude a row may hold, and the least spread a batch of
 * rows that are not all equal may have (see lowrank_stats_add): squares of
 * values between the two neither overflow nor underflow. */
#define LR_STATS_MAX_VALUE 0x1p450
#define LR_STATS_MIN_SPREAD 0x1p-450

#endif
