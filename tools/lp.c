/*
 * lp.c - `lowrank lp -k K -p P [--method lewis|lowner]
 * [--objective rows|entries] [--orientation rows|cols] [--refine N]
 * [--refine-tol T] [--coreset M] [--stream] [--time] IN [OUT.npy]
 * [--factors L.npy R.npy]`: the rank-k lp approximation of a matrix file
 * (.npy of any size, or scipy's sparse .npz), written as the approximation
 * (the input's shape, dtype and order) and/or as two factors L (m x k) and
 * R (k x n) with L R = the approximation; prints the final cost of the
 * objective (for a dense input) and the relative Frobenius error.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

static int objective_of(const char *name)
{
    return strcmp(name, "rows") == 0      ? LOWRANK_OBJECTIVE_ROWS
           : strcmp(name, "entries") == 0 ? LOWRANK_OBJECTIVE_ENTRIES
                                          : -1;
}

static int orientation_of(const char *name)
{
    return strcmp(name, "rows") == 0   ? LOWRANK_ORIENT_ROWS
           : strcmp(name, "cols") == 0 ? LOWRANK_ORIENT_COLS
                                       : -1;
}

/* The options named on the command line into opts; 0, or the exit status. */
static int set_options(lowrank_opts *opts, const char *method, const char *objective,
                       const char *orientation, const tool_flag *refine, long long iters,
                       const tool_flag *tol, double tolerance)
{
    int m = tool_rounding_method(method), obj = objective_of(objective),
        ori = orientation_of(orientation);
    if (m < 0)
        return tool_usage("lp", "--method takes lewis or lowner");
    if (obj < 0)
        return tool_usage("lp", "--objective takes rows or entries");
    if (ori < 0)
        return tool_usage("lp", "--orientation takes rows or cols");
    int rc = lowrank_opts_set_int(opts, LOWRANK_OPT_METHOD, m);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_OBJECTIVE, obj);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_ORIENTATION, ori);
    if (rc == LOWRANK_OK && refine->seen)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_REFINE_ITER, iters);
    if (rc == LOWRANK_OK && tol->seen)
        rc = lowrank_opts_set_double(opts, LOWRANK_OPT_REFINE_TOL, tolerance);
    return rc == LOWRANK_OK ? 0 : tool_fail("options", rc);
}

static int run(char **files, int nfiles, const char *const *factors, long long k, double p,
               int timed, int stream, int quiet, lowrank_opts *opts)
{
    tool_input in;
    lowrank_factors *f = NULL;
    int status = tool_input_open(files[0], stream, &in);
    if (status == 0 && nfiles == 2)
        status = tool_input_check_output(&in, "lp");
    if (status != 0) {
        tool_input_free(&in);
        return status;
    }
    tool_progress pr;
    tool_progress_start(&pr, "lp", opts, quiet);
    double t0 = tool_now();
    int rc = in.op ? lowrank_lp_op(in.op, k, p, opts, &f) : lowrank_lp(in.matrix, k, p, opts, &f);
    double seconds = tool_now() - t0;
    tool_progress_end(&pr);
    int64_t objective = LOWRANK_OBJECTIVE_ROWS;
    lowrank_opts_get_int(opts, LOWRANK_OPT_OBJECTIVE, &objective);
    double cost = NAN, error = NAN;
    if (rc == LOWRANK_OK && in.matrix) /* the cost needs the entries in memory */
        rc = lowrank_lp_cost(in.matrix, f, p, (lowrank_objective)objective, &cost);
    status = rc == LOWRANK_OK ? 0 : tool_fail(files[0], rc);
    if (!status) {
        if (timed) {
            fprintf(stderr, "compute_seconds=%.6f\n", seconds);
            tool_input_report(&in);
        }
        lowrank_factors_error(f, &error);
        if (in.matrix)
            printf("cost=%.9g error=%.6g\n", cost, error);
        else
            printf("error=%.6g\n", error);
    }
    if (!status && nfiles == 2)
        status = tool_write_input_approximation(f, &in, files[1]);
    if (!status && factors[0])
        status = tool_write_factors(f, 0, factors[0], factors[1]);
    lowrank_factors_free(f);
    tool_input_free(&in);
    return status;
}

int cmd_lp(int argc, char **argv)
{
    long long k = 0, iters = -1, coreset = 0;
    double p = NAN, tolerance = 0;
    const char *method = "lewis", *objective = "rows", *orientation = "rows";
    const char *factors[2] = {NULL, NULL};
    tool_flag flags[] = {
        {"-k", FLAG_INT, &k, 0, "K", "the rank, 1 <= K <= min(rows, cols)"},
        {"-p", FLAG_DOUBLE, &p, 0, "P", "the exponent, P >= 1 (1: most robust, 2: the SVD)"},
        {"--method", FLAG_STRING, &method, 0, "lewis|lowner",
         "the rounding: lp Lewis weights or the ellipsoid method\n(default: lewis)"},
        {"--objective", FLAG_STRING, &objective, 0, "rows|entries",
         "rows: sum of the rows' distances^P to a subspace;\n"
         "entries: sum of |A - LR|^P (default: rows)"},
        {"--orientation", FLAG_STRING, &orientation, 0, "rows|cols",
         "fit the rows or the columns as points (default: rows)"},
        {"--refine", FLAG_INT, &iters, 0, "N",
         "reweighted least-squares steps after the construction;\n"
         "0: none (default: 100 for P < 2, 0 for P >= 2)"},
        {"--refine-tol", FLAG_DOUBLE, &tolerance, 0, "T",
         "stop refining when a step gains less than T times the\ncost (default: 1e-6)"},
        {"--time", FLAG_BOOL, NULL, 0, NULL,
         "print compute_seconds=... on stderr, and for a sparse\nor streamed input passes=... bytes_read=..."},
        {"--factors", FLAG_PAIR, factors, 0, "L.npy R.npy",
         "write the factors L (m x k) and R (k x n), with or\ninstead of the approximation OUT.npy"},
        {"--coreset", FLAG_INT, &coreset, 0, "M",
         "sparse or streamed input: fit all points when there are\nat most M, else a coreset of M "
         "(default 0: max(16 d, 4096))"},
        {"--stream", FLAG_BOOL, NULL, 0, NULL,
         "read IN.npy block by block instead of loading it\n(default: only when it exceeds half the "
         "physical memory)"},
        TOOL_QUIET_FLAG,
        TOOL_FLAGS_END};
    char *files[2];
    int nfiles = tool_parse_some("lp", argc, argv, flags, files, 1, 2);
    if (nfiles < 0)
        return tool_parse_exit(nfiles);
    if (!flags[0].seen || !flags[1].seen)
        return tool_usage("lp", "-k K and -p P are required");
    if (nfiles == 1 && !factors[0])
        return tool_usage("lp", "expected OUT.npy, --factors L.npy R.npy, or both");
    lowrank_opts *opts;
    int rc = lowrank_opts_new(&opts);
    if (rc != LOWRANK_OK)
        return tool_fail("options", rc);
    int status =
        set_options(opts, method, objective, orientation, &flags[5], iters, &flags[6], tolerance);
    if (!status && flags[9].seen && (rc = lowrank_opts_set_int(opts, LOWRANK_OPT_CORESET_SIZE,
                                                                coreset)) != LOWRANK_OK)
        status = tool_fail("options", rc);
    if (!status)
        status = run(files, nfiles, factors, k, p, flags[7].seen, flags[10].seen, flags[11].seen,
                     opts);
    lowrank_opts_free(opts);
    return status;
}
