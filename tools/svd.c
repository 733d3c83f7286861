/*
 * svd.c - `lowrank svd`: the rank-k SVD truncation of a matrix file (.npy,
 * of any size, or scipy's sparse .npz), written as the approximation (same
 * shape, dtype and order as the input) or as two factors L (m x k) and R
 * (k x n) with L R = the approximation.  With --inputs X.npy the matrix (an
 * .npy file loaded whole) is a layer's weights W (y = x W + b) and the
 * truncation preserves its outputs on the rows of X (lowrank_svd_data);
 * --bias-out writes the bias that keeps the mean output.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

typedef struct svd_args {
    long long k, seed, max_iter;
    double tol, ridge;
    const char *method, *inputs, *bias, *bias_out;
    const char *factors[2];
    tool_flag flags[15];
    char *files[2];
    int nfiles;
} svd_args;

/* indices of svd_args.flags */
enum { K, METHOD, TOL, SEED, TIME, BALANCED, FACTORS, QUIET, STREAM, MAX_ITER, INPUTS, BIAS,
       BIAS_OUT, RIDGE };

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
         "exact (certified), randomized (block Krylov) or auto:\n"
         "the optimum to about 1e-5 of the error, by block Krylov\n"
         "deepened as needed when k is small next to the matrix,\n"
         "exact otherwise (default: auto)"},
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
        {"--inputs", FLAG_STRING, &a->inputs, 0, "X.npy",
         "IN.npy is a layer's weights W (y = x W + b): preserve its\noutputs on the rows of X "
         "(n columns; read by blocks);\nerror= is then the relative output error (default: "
         "none,\nthe plain SVD)"},
        {"--bias", FLAG_STRING, &a->bias, 0, "b.npy", "with --bias-out: the layer's bias b (d values)"},
        {"--bias-out", FLAG_STRING, &a->bias_out, 0, "b2.npy",
         "with --inputs: write b + mean(X) (W - W_k), the bias that\nkeeps the mean output "
         "(b = 0 without --bias)"},
        {"--ridge", FLAG_DOUBLE, &a->ridge, 0, "A",
         "with --inputs: use C + A trace(C)/n I for the inputs'\ncovariance C (default: 0)"},
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
    if (!a->inputs && (a->bias_out || a->bias || a->flags[RIDGE].seen))
        return tool_usage("svd", "--bias, --bias-out and --ridge need --inputs");
    if (a->bias && !a->bias_out)
        return tool_usage("svd", "--bias needs --bias-out");
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
    if (rc == LOWRANK_OK && a->flags[RIDGE].seen)
        rc = lowrank_opts_set_double(opts, LOWRANK_OPT_RIDGE, a->ridge);
    if (rc == LOWRANK_OK && a->flags[MAX_ITER].seen)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_MAX_ITER, a->max_iter);
    return rc == LOWRANK_OK ? 0 : tool_fail("options", rc);
}

/* --bias-out: b + mean (W - W_k), b from --bias or 0; 0 or the exit status. */
static int write_bias(const svd_args *a, const lowrank_factors *f, const lowrank_matrix *w,
                      const lowrank_stats *inputs)
{
    lowrank_matrix *mean = NULL, *shift = NULL, *b = NULL;
    int64_t d = lowrank_matrix_cols(w);
    int rc = lowrank_stats_mean(inputs, &mean), status = 0;
    if (rc == LOWRANK_OK)
        rc = lowrank_factors_bias_shift(f, w, mean, &shift);
    if (rc != LOWRANK_OK)
        status = tool_fail("bias", rc);
    if (status == 0 && a->bias && (rc = lowrank_matrix_load_npy(a->bias, &b)) != LOWRANK_OK)
        status = tool_fail(a->bias, rc);
    if (status == 0 && b && lowrank_matrix_rows(b) * lowrank_matrix_cols(b) != d) {
        fprintf(stderr, "lowrank: %s: %lld values, the layer has %lld outputs\n", a->bias,
                (long long)(lowrank_matrix_rows(b) * lowrank_matrix_cols(b)), (long long)d);
        status = 1;
    }
    for (int64_t j = 0; status == 0 && j < d; j++) {
        double s, v = 0;
        lowrank_matrix_get(shift, 0, j, &s);
        if (b)
            lowrank_matrix_get(b, lowrank_matrix_rows(b) == 1 ? 0 : j,
                               lowrank_matrix_rows(b) == 1 ? j : 0, &v);
        if ((rc = lowrank_matrix_set(shift, 0, j, v + s)) != LOWRANK_OK)
            status = tool_fail(a->bias_out, rc);
    }
    if (status == 0)
        status = tool_save_vector_npy(a->bias_out, shift);
    lowrank_matrix_free(mean);
    lowrank_matrix_free(shift);
    lowrank_matrix_free(b);
    return status;
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
    lowrank_stats *inputs = NULL;
    const char *name = a.files[0];
    if (status == 0)
        status = tool_input_open(name, a.flags[STREAM].seen, &in);
    if (status == 0 && a.inputs && !in.matrix) {
        fprintf(stderr, "lowrank: svd: --inputs needs the weights in an .npy file loaded whole\n");
        status = 1;
    }
    if (status == 0 && !a.factors[0])
        status = tool_input_check_output(&in, "svd");
    tool_progress pr;
    tool_progress_start(&pr, "svd", opts, a.flags[QUIET].seen);
    if (status == 0 && a.inputs)
        status = tool_load_stats(a.inputs, lowrank_matrix_rows(in.matrix), &pr, &inputs);
    if (status == 0) {
        double t0 = tool_now(), c0 = tool_cpu();
        rc = inputs  ? lowrank_svd_data(in.matrix, inputs, a.k, opts, &f)
             : in.op ? lowrank_svd_op(in.op, a.k, opts, &f)
                     : lowrank_svd(in.matrix, a.k, opts, &f);
        double seconds = tool_now() - t0, cpu = tool_cpu() - c0;
        tool_progress_end(&pr);
        if (rc != LOWRANK_OK)
            status = tool_fail(name, rc);
        else if (a.flags[TIME].seen) {
            fprintf(stderr, "compute_seconds=%.6f\ncpu_seconds=%.6f\n", seconds, cpu);
            tool_input_report(&in);
        }
    }
    tool_progress_end(&pr);
    if (status == 0) {
        double err = 0;
        lowrank_factors_error(f, &err);
        printf("rank=%lld error=%.6g\n", (long long)lowrank_factors_rank(f), err);
        status = a.factors[0] ? tool_write_factors(f, a.flags[BALANCED].seen, a.factors[0],
                                                   a.factors[1])
                              : tool_write_input_approximation(f, &in, a.files[1]);
    }
    if (status == 0 && a.bias_out)
        status = write_bias(&a, f, in.matrix, inputs);
    lowrank_stats_free(inputs);
    lowrank_factors_free(f);
    tool_input_free(&in);
    lowrank_opts_free(opts);
    return status;
}
