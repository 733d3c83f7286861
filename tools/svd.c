/*
 * svd.c - `lowrank svd`: the rank-k SVD truncation of a matrix file (.npy,
 * of any size, or scipy's sparse .npz), written as the approximation (same
 * shape, dtype and order as the input) or as two factors L (m x k) and R
 * (k x n) with L R = the approximation.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

typedef struct svd_args {
    long long k, seed, max_iter;
    double tol;
    const char *method;
    const char *factors[2];
    tool_flag flags[12];
    char *files[2];
    int nfiles;
} svd_args;

enum { K, METHOD, TOL, SEED, TIME, BALANCED, FACTORS, QUIET, STREAM, MAX_ITER }; /* svd_args.flags */

static int method_of(const char *name)
{
    return strcmp(name, "auto") == 0         ? LOWRANK_METHOD_AUTO
           : strcmp(name, "exact") == 0      ? LOWRANK_METHOD_EXACT
           : strcmp(name, "randomized") == 0 ? LOWRANK_METHOD_RANDOMIZED
                                             : -1;
}

/* The command line into a; 0, the exit status of a usage error, or
 * TOOL_HELP. */
static int parse(int argc, char **argv, svd_args *a)
{
    const tool_flag flags[] = {
        {"-k", FLAG_INT, &a->k, 0, "K", "the rank, 1 <= K <= min(rows, cols)"},
        {"--method", FLAG_STRING, &a->method, 0, "auto|exact|randomized",
         "exact (certified), randomized (block Krylov) or auto,\n"
         "randomized when k is small next to the matrix (default: auto)"},
        {"--tol", FLAG_DOUBLE, &a->tol, 0, "T",
         "without -k: the smallest rank whose relative Frobenius\nerror is at most T, 0 < T < 1"},
        {"--seed", FLAG_INT, &a->seed, 0, "S", "seed of the randomized method (default: 20261128)"},
        {"--time", FLAG_BOOL, NULL, 0, NULL,
         "print compute_seconds=... cpu_seconds=... on stderr, and\nfor a sparse or streamed input passes=... bytes_read=..."},
        {"--balanced", FLAG_BOOL, NULL, 0, NULL,
         "with --factors: split S evenly, L = U S^1/2, R = S^1/2 V^T\n(default: L = U S, R = V^T)"},
        {"--factors", FLAG_PAIR, a->factors, 0, "L.npy R.npy",
         "write the factors L (m x k) and R (k x n) instead of\nthe m x n approximation OUT.npy"},
        TOOL_QUIET_FLAG,
        {"--stream", FLAG_BOOL, NULL, 0, NULL,
         "read IN.npy block by block at every pass instead of\nloading it (default: only when "
         "it exceeds half the\nphysical memory)"},
        {"--max-iter", FLAG_INT, &a->max_iter, 0, "N",
         "exact method on a sparse input: at most N columns in\nits Lanczos basis, restarted "
         "when full (default 0:\nmax(64, 8 K))"},
        TOOL_FLAGS_END};
    memcpy(a->flags, flags, sizeof flags);
    a->nfiles = tool_parse_some("svd", argc, argv, a->flags, a->files, 1, 2);
    if (a->nfiles < 0)
        return a->nfiles;
    if (a->nfiles != (a->factors[0] ? 1 : 2))
        return tool_usage("svd", a->factors[0] ? "expected IN" : "expected IN OUT.npy");
    if (method_of(a->method) < 0)
        return tool_usage("svd", "--method takes auto, exact or randomized");
    if (!a->flags[K].seen && !a->flags[TOL].seen)
        return tool_usage("svd", "give the rank with -k K or a tolerance with --tol T");
    if (a->flags[K].seen && a->flags[TOL].seen && a->k != 0)
        return tool_usage("svd", "give -k or --tol, not both");
    return 0;
}

/* The options named on the command line; 0, or the exit status. */
static int set_options(const svd_args *a, lowrank_opts *opts)
{
    int rc = lowrank_opts_set_int(opts, LOWRANK_OPT_METHOD, method_of(a->method));
    if (rc == LOWRANK_OK && a->flags[TOL].seen)
        rc = lowrank_opts_set_double(opts, LOWRANK_OPT_TOLERANCE, a->tol);
    if (rc == LOWRANK_OK && a->flags[SEED].seen)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_SEED, a->seed);
    if (rc == LOWRANK_OK && a->flags[MAX_ITER].seen)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_MAX_ITER, a->max_iter);
    return rc == LOWRANK_OK ? 0 : tool_fail("options", rc);
}

int cmd_svd(int argc, char **argv)
{
    svd_args a = {.method = "auto"};
    int status = parse(argc, argv, &a);
    if (status != 0)
        return status < 0 ? tool_parse_exit(status) : status;
    lowrank_opts *opts;
    int rc = lowrank_opts_new(&opts);
    if (rc != LOWRANK_OK)
        return tool_fail("options", rc);
    status = set_options(&a, opts);
    tool_input in = {NULL, NULL, NULL};
    lowrank_factors *f = NULL;
    const char *name = a.files[0];
    if (status == 0)
        status = tool_input_open(name, a.flags[STREAM].seen, &in);
    if (status == 0 && !a.factors[0])
        status = tool_input_check_output(&in, "svd");
    if (status == 0) {
        tool_progress pr;
        tool_progress_start(&pr, "svd", opts, a.flags[QUIET].seen);
        double t0 = tool_now(), c0 = tool_cpu();
        rc = in.op ? lowrank_svd_op(in.op, a.k, opts, &f) : lowrank_svd(in.matrix, a.k, opts, &f);
        double seconds = tool_now() - t0, cpu = tool_cpu() - c0;
        tool_progress_end(&pr);
        if (rc != LOWRANK_OK)
            status = tool_fail(name, rc);
        else if (a.flags[TIME].seen) {
            fprintf(stderr, "compute_seconds=%.6f\ncpu_seconds=%.6f\n", seconds, cpu);
            tool_input_report(&in);
        }
    }
    if (status == 0) {
        double err = 0;
        lowrank_factors_error(f, &err);
        printf("rank=%lld error=%.6g\n", (long long)lowrank_factors_rank(f), err);
        status = a.factors[0] ? tool_write_factors(f, a.flags[BALANCED].seen, a.factors[0],
                                                   a.factors[1])
                              : tool_write_input_approximation(f, &in, a.files[1]);
    }
    lowrank_factors_free(f);
    tool_input_free(&in);
    lowrank_opts_free(opts);
    return status;
}
