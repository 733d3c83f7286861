/*
 * lp.c - `lowrank lp -k K -p P [--method lewis|lowner]
 * [--objective rows|entries] [--orientation rows|cols] [--refine N]
 * [--refine-tol T] [--starts N] [--sketch-dim R] [--seed S] [--coreset M]
 * [--stream] [--time] IN [OUT.npy] [--factors L.npy R.npy]`: the rank-k lp
 * approximation of a matrix file (.npy of any size, or scipy's sparse .npz),
 * written as the approximation (the input's shape, dtype and order) and/or
 * as two factors L (m x k) and R (k x n) with L R = the approximation;
 * prints the final cost of the objective (for a dense input) and the
 * relative Frobenius error.
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

/* indices of lp_args.flags */
enum { K, P, METHOD, OBJECTIVE, ORIENTATION, REFINE, REFINE_TOL, STARTS, SKETCH, SEED, TIME,
       FACTORS, CORESET, STREAM, QUIET, NFLAGS };

typedef struct lp_args {
    long long k, iters, starts, sketch, seed, coreset;
    double p, tol;
    const char *method, *objective, *orientation;
    const char *factors[2];
    tool_flag flags[NFLAGS + 1]; /* and TOOL_FLAGS_END */
    char *files[2];
    int nfiles;
} lp_args;

/* The command line into a; 0, the exit status of a usage error, or
 * TOOL_HELP. */
static int parse(int argc, char **argv, lp_args *a)
{
    const tool_flag flags[] = {
        {"-k", FLAG_INT, &a->k, 0, "K", "the rank, 1 <= K <= min(rows, cols)"},
        {"-p", FLAG_DOUBLE, &a->p, 0, "P", "the exponent, P >= 1 (1: most robust, 2: the SVD)"},
        {"--method", FLAG_STRING, &a->method, 0, "lewis|lowner",
         "the rounding: lp Lewis weights or the ellipsoid method\n(default: lewis)"},
        {"--objective", FLAG_STRING, &a->objective, 0, "rows|entries",
         "rows: sum of the rows' distances^P to a subspace;\n"
         "entries: sum of |A - LR|^P (default: rows)"},
        {"--orientation", FLAG_STRING, &a->orientation, 0, "rows|cols",
         "fit the rows or the columns as points (default: rows)"},
        {"--refine", FLAG_INT, &a->iters, 0, "N",
         "reweighted least-squares steps after the construction;\n"
         "0: the construction alone (default: 100 for P < 2,\n0 for P >= 2)"},
        {"--refine-tol", FLAG_DOUBLE, &a->tol, 0, "T",
         "stop refining when a step gains less than T times the\ncost (default: 1e-6)"},
        {"--starts", FLAG_INT, &a->starts, 0, "N",
         "rows objective: random starts spanned by K points each,\n"
         "besides the construction, the SVD and the spherical\nPCA (default: 16)"},
        {"--sketch-dim", FLAG_INT, &a->sketch, 0, "R",
         "fit in a randomized sketch of R dimensions; 0: in the\n"
         "points' own span (default: 2K + 16 when the points\nspan at least 4 times that)"},
        {"--seed", FLAG_INT, &a->seed, 0, "S",
         "seed of the random starts and sketch (default: 20261128)"},
        {"--time", FLAG_BOOL, NULL, 0, NULL,
         "print compute_seconds=... on stderr, and for a sparse\nor streamed input passes=... bytes_read=..."},
        {"--factors", FLAG_PAIR, a->factors, 0, "L.npy R.npy",
         "write the factors L (m x k) and R (k x n), with or\n"
         "instead of the approximation OUT.npy"},
        {"--coreset", FLAG_INT, &a->coreset, 0, "M",
         "sparse or streamed input: fit all points when there are\nat most M, else a coreset of M "
         "(default 0: max(16 d, 4096))"},
        {"--stream", FLAG_BOOL, NULL, 0, NULL,
         "read IN.npy block by block instead of loading it\n(default: only when it exceeds half the "
         "physical memory)"},
        TOOL_QUIET_FLAG,
        TOOL_FLAGS_END};
    _Static_assert(sizeof flags == sizeof a->flags, "one flag per index of the enum");
    memcpy(a->flags, flags, sizeof flags);
    a->nfiles = tool_parse_some("lp", argc, argv, a->flags, a->files, 1, 2);
    if (a->nfiles < 0)
        return a->nfiles;
    if (!a->flags[K].seen || !a->flags[P].seen)
        return tool_usage("lp", "-k K and -p P are required");
    if (a->nfiles == 1 && !a->factors[0])
        return tool_usage("lp", "expected OUT.npy, --factors L.npy R.npy, or both");
    if (tool_rounding_method(a->method) < 0)
        return tool_usage("lp", "--method takes lewis or lowner");
    if (objective_of(a->objective) < 0)
        return tool_usage("lp", "--objective takes rows or entries");
    if (orientation_of(a->orientation) < 0)
        return tool_usage("lp", "--orientation takes rows or cols");
    return 0;
}

/* The options named on the command line into opts; 0, or the exit status. */
static int set_options(const lp_args *a, lowrank_opts *opts)
{
    int rc = lowrank_opts_set_int(opts, LOWRANK_OPT_METHOD, tool_rounding_method(a->method));
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_OBJECTIVE, objective_of(a->objective));
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_ORIENTATION, orientation_of(a->orientation));
    const struct {
        int flag;
        lowrank_option key;
        long long value;
    } ints[] = {{REFINE, LOWRANK_OPT_REFINE_ITER, a->iters},
                {STARTS, LOWRANK_OPT_STARTS, a->starts},
                {SKETCH, LOWRANK_OPT_SKETCH_DIM, a->sketch},
                {SEED, LOWRANK_OPT_SEED, a->seed},
                {CORESET, LOWRANK_OPT_CORESET_SIZE, a->coreset}};
    for (size_t i = 0; rc == LOWRANK_OK && i < sizeof ints / sizeof ints[0]; i++)
        if (a->flags[ints[i].flag].seen)
            rc = lowrank_opts_set_int(opts, ints[i].key, ints[i].value);
    if (rc == LOWRANK_OK && a->flags[REFINE_TOL].seen)
        rc = lowrank_opts_set_double(opts, LOWRANK_OPT_REFINE_TOL, a->tol);
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
    lp_args a = {.iters = -1, .p = NAN, .method = "lewis", .objective = "rows",
                 .orientation = "rows"};
    int status = parse(argc, argv, &a);
    if (status != 0)
        return status < 0 ? tool_parse_exit(status) : status;
    lowrank_opts *opts;
    int rc = lowrank_opts_new(&opts);
    if (rc != LOWRANK_OK)
        return tool_fail("options", rc);
    status = set_options(&a, opts);
    if (!status)
        status = run(a.files, a.nfiles, a.factors, a.k, a.p, a.flags[TIME].seen,
                     a.flags[STREAM].seen, a.flags[QUIET].seen, opts);
    lowrank_opts_free(opts);
    return status;
}
