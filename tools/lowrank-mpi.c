/*
 * lowrank-mpi.c - the lowrank-mpi program, run as `mpirun -np N lowrank-mpi
 * svd|lp ... IN.npy [--factors L.npy R.npy]`: each rank reads only its own
 * block of rows of IN.npy (lowrank_matrix_load_npy_rows), the ranks compute
 * together (liblowrank_mpi), rank 0 prints what `lowrank svd` or `lowrank
 * lp` prints, with bytes_communicated=N (all ranks together, the library's
 * count), and writes the factors, gathering U S from the ranks.  Built on
 * the public APIs of both libraries and the lowrank program's parser.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lowrank_mpi.h"
#include "tool.h"

const char *const tool_program = "lowrank-mpi";

static int rank, nranks;

static int cmd_svd_mpi(int argc, char **argv);
static int cmd_lp_mpi(int argc, char **argv);

const tool_command tool_commands[] = {
    {"svd", "The best rank-k approximation of a matrix whose rows the ranks share",
     "svd (-k K | --tol T) [OPTIONS] IN.npy [--factors L.npy R.npy]", cmd_svd_mpi},
    {"lp", "An lp subspace fit of the rows of a matrix the ranks share, through coresets",
     "lp -k K -p P [OPTIONS] IN.npy [--factors L.npy R.npy]", cmd_lp_mpi},
};

const size_t tool_ncommands = sizeof tool_commands / sizeof tool_commands[0];

/* Usage errors are the same on every rank (the same command line): rank 0
 * says so. */
int tool_usage(const char *command, const char *message)
{
    if (rank == 0)
        fprintf(stderr,
                "lowrank-mpi %s: %s\nusage: lowrank-mpi %s\n(`lowrank-mpi %s --help` lists the "
                "options)\n",
                command, message, tool_find_command(command)->synopsis, command);
    return 2;
}

/* A failure of this rank alone (reading its block, writing the factors). */
int tool_fail(const char *context, int rc)
{
    fprintf(stderr, "lowrank-mpi: rank %d: %s: %s: %s\n", rank, context, lowrank_strerror(rc),
            lowrank_last_error());
    return 1;
}

/* A failure of liblowrank_mpi, the same on every rank: rank 0 says it. */
static int mpi_fail(const char *context, int rc)
{
    if (rank == 0)
        fprintf(stderr, "lowrank-mpi: %s: %s: %s\n", context, lowrank_strerror(rc),
                lowrank_mpi_last_error());
    return 1;
}

/* The worst exit status over the ranks: every rank stops together. */
static int agree(int status)
{
    int worst = status;
    MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}

/* This rank's rows of the file: an even split, in rank order. */
static int read_block(const char *path, lowrank_matrix **local, int64_t *rows, int64_t *cols)
{
    lowrank_dtype t;
    lowrank_layout l;
    *local = NULL;
    int rc = lowrank_npy_info(path, rows, cols, &t, &l);
    if (rc != LOWRANK_OK)
        return tool_fail(path, rc);
    if (*rows < nranks) {
        if (rank == 0)
            fprintf(stderr, "lowrank-mpi: %s: %lld rows for %d ranks: each needs one\n", path,
                    (long long)*rows, nranks);
        return 1;
    }
    int64_t base = *rows / nranks, extra = *rows % nranks;
    int64_t count = base + (rank < extra), first = rank * base + (rank < extra ? rank : extra);
    rc = lowrank_matrix_load_npy_rows(path, first, count, local);
    return rc == LOWRANK_OK ? 0 : tool_fail(path, rc);
}

/* L = U S (or U S^1/2 with balanced) gathered from the ranks, row by row,
 * and R, written by rank 0; *gathered gets the bytes the gather moved. */
static int write_factors(const lowrank_factors *f, int balanced, const char *const *names,
                         double *gathered)
{
    lowrank_matrix *l = NULL, *r = NULL, *all = NULL;
    int rc = lowrank_factors_split(f, balanced ? LOWRANK_SPLIT_BALANCED : LOWRANK_SPLIT_LEFT, &l,
                                   &r);
    int status = rc == LOWRANK_OK ? 0 : tool_fail("split", rc);
    lowrank_dtype t = lowrank_factors_s(f) ? lowrank_matrix_dtype(lowrank_factors_s(f))
                                           : LOWRANK_FLOAT64;
    int64_t k = lowrank_factors_rank(f), row_bytes = k * (t == LOWRANK_FLOAT32 ? 4 : 8);
    int rows = status ? 0 : (int)lowrank_matrix_rows(l), total = 0;
    int *counts = rank == 0 ? calloc((size_t)nranks, 2 * sizeof(int)) : NULL;
    MPI_Datatype row;
    MPI_Type_contiguous((int)row_bytes, MPI_BYTE, &row);
    MPI_Type_commit(&row);
    MPI_Gather(&rows, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        for (int i = 0; i < nranks; i++) {
            counts[nranks + i] = total;
            total += counts[i];
        }
        rc = lowrank_matrix_new(t, LOWRANK_ROW_MAJOR, total, k, &all);
        if (rc != LOWRANK_OK)
            status = tool_fail("the factor L", rc);
    }
    MPI_Gatherv(l ? lowrank_matrix_data(l) : NULL, rows, row, all ? lowrank_matrix_data(all) : NULL,
                counts, counts ? counts + nranks : NULL, row, 0, MPI_COMM_WORLD);
    MPI_Type_free(&row);
    *gathered = rank == 0 ? (double)(total - counts[0]) * (double)row_bytes : 0;
    if (rank == 0 && !status && (rc = lowrank_matrix_save_npy(all, names[0])) != LOWRANK_OK)
        status = tool_fail(names[0], rc);
    if (rank == 0 && !status && (rc = lowrank_matrix_save_npy(r, names[1])) != LOWRANK_OK)
        status = tool_fail(names[1], rc);
    free(counts);
    lowrank_matrix_free(all);
    lowrank_matrix_free(l);
    lowrank_matrix_free(r);
    return status;
}

/* What a command runs: read, compute (timed on every rank, the slowest
 * reported), print on rank 0, write the factors. */
typedef struct job {
    const char *in;
    const char *factors[2];
    int lp, timed, balanced;
    long long k;
    double p;
    lowrank_opts *opts;
} job;

static int run(const job *j)
{
    lowrank_matrix *local = NULL;
    int64_t rows = 0, cols = 0;
    int status = agree(read_block(j->in, &local, &rows, &cols));
    if (status) {
        lowrank_matrix_free(local);
        return status;
    }
    lowrank_factors *f = NULL;
    lowrank_mpi_stats *stats = NULL;
    int rc = lowrank_mpi_stats_new(&stats);
    status = agree(rc == LOWRANK_OK ? 0 : tool_fail("statistics", rc));
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = tool_now(), seconds;
    if (!status) {
        rc = j->lp ? lowrank_mpi_lp(MPI_COMM_WORLD, local, j->k, j->p, j->opts, &f, stats)
                   : lowrank_mpi_svd(MPI_COMM_WORLD, local, j->k, j->opts, &f, stats);
        status = rc == LOWRANK_OK ? 0 : mpi_fail(j->in, rc);
    }
    seconds = tool_now() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (!status && rank == 0) {
        double err = 0, bytes = 0, cost = 0;
        lowrank_factors_error(f, &err);
        lowrank_mpi_stats_get(stats, LOWRANK_MPI_STAT_BYTES, &bytes);
        lowrank_mpi_stats_get(stats, LOWRANK_MPI_STAT_COST, &cost);
        double matrix = (double)rows * (double)cols *
                        (lowrank_matrix_dtype(local) == LOWRANK_FLOAT32 ? 4 : 8);
        double core = 0, from = 0;
        lowrank_mpi_stats_get(stats, LOWRANK_MPI_STAT_CORESET_SIZE, &core);
        lowrank_mpi_stats_get(stats, LOWRANK_MPI_STAT_FIT_RANK, &from);
        if (j->lp)
            printf("cost=%.9g error=%.6g\ncoreset_rows=%.0f fit_from_rank=%.0f\n", cost, err,
                   core, from);
        else
            printf("rank=%lld error=%.6g\n", (long long)lowrank_factors_rank(f), err);
        printf("ranks=%d bytes_communicated=%.0f fraction_of_matrix=%.6f\n", nranks, bytes,
               bytes / matrix);
        if (j->timed)
            fprintf(stderr, "compute_seconds=%.6f\n", seconds);
    }
    if (!status && j->factors[0]) {
        double gathered = 0;
        status = agree(write_factors(f, j->balanced, j->factors, &gathered));
        if (!status && rank == 0)
            printf("bytes_gathered_for_L=%.0f\n", gathered);
    }
    lowrank_factors_free(f);
    lowrank_mpi_stats_free(stats);
    lowrank_matrix_free(local);
    return status;
}

static int method_of(const char *name, int lp)
{
    if (lp)
        return tool_rounding_method(name);
    return strcmp(name, "auto") == 0         ? LOWRANK_METHOD_AUTO
           : strcmp(name, "exact") == 0      ? LOWRANK_METHOD_EXACT
           : strcmp(name, "randomized") == 0 ? LOWRANK_METHOD_RANDOMIZED
                                             : -1;
}

/* Whether the flag called name was given. */
static int seen(const tool_flag *flags, const char *name)
{
    for (; flags->name; flags++)
        if (strcmp(flags->name, name) == 0)
            return flags->seen;
    return 0;
}

/* The command line of either command into j and its options; 0, -1 after
 * --help, or the exit status. */
static int parse(const char *command, int argc, char **argv, job *j)
{
    long long seed = 0, size = 0, iters = -1;
    double tol = 0, refine_tol = 0;
    const char *method = j->lp ? "lewis" : "auto";
    /* each flag's command: 'a' both, 's' svd, 'l' lp */
    const struct {
        char who;
        tool_flag flag;
    } all[] = {
        {'a', {"-k", FLAG_INT, &j->k, 0, "K", "the rank, 1 <= K <= min(rows, cols)"}},
        {'l', {"-p", FLAG_DOUBLE, &j->p, 0, "P", "the exponent, 1 <= P < infinity"}},
        {'s', {"--tol", FLAG_DOUBLE, &tol, 0, "T",
               "without -k: the smallest rank whose relative Frobenius\nerror is at most T"}},
        {'s', {"--method", FLAG_STRING, &method, 0, "auto|exact|randomized",
               "exact (certified), randomized (block Krylov) or auto\n(default: auto)"}},
        {'l', {"--method", FLAG_STRING, &method, 0, "lewis|lowner",
               "the rounding of each fit (default: lewis)"}},
        {'s', {"--seed", FLAG_INT, &seed, 0, "S", "seed of the random block (default: 20261128)"}},
        {'l', {"--seed", FLAG_INT, &seed, 0, "S", "seed of the coresets (default: 20261128)"}},
        {'l', {"--coreset-size", FLAG_INT, &size, 0, "M",
               "rows per coreset (default: 10 cols, at least 500)"}},
        {'l', {"--refine", FLAG_INT, &iters, 0, "N",
               "reweighted least-squares steps of each fit\n"
               "(default: 100 for P < 2, 0 for P >= 2)"}},
        {'l', {"--refine-tol", FLAG_DOUBLE, &refine_tol, 0, "T",
               "stop refining below this relative gain (default: 1e-6)"}},
        {'a', {"--time", FLAG_BOOL, NULL, 0, NULL,
               "print compute_seconds=... (the slowest rank) on stderr"}},
        {'a', {"--balanced", FLAG_BOOL, NULL, 0, NULL,
               "with --factors: L = U S^1/2, R = S^1/2 V^T (default: L = U S)"}},
        {'a', {"--factors", FLAG_PAIR, j->factors, 0, "L.npy R.npy",
               "rank 0 writes the factors L (m x k, gathered from the\nranks) and R (k x n)"}},
    };
    tool_flag flags[sizeof all / sizeof all[0] + 1];
    int nf = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i].who == 'a' || all[i].who == (j->lp ? 'l' : 's'))
            flags[nf++] = all[i].flag;
    flags[nf] = (tool_flag)TOOL_FLAGS_END;
    char *in[1];
    int n = tool_parse(command, argc, argv, flags, in, 1);
    if (n < 0)
        return n == TOOL_HELP ? -1 : tool_parse_exit(n);
    j->in = in[0];
    j->timed = seen(flags, "--time");
    j->balanced = seen(flags, "--balanced");
    int m = method_of(method, j->lp);
    if (m < 0)
        return tool_usage(command, j->lp ? "--method takes lewis or lowner"
                                         : "--method takes auto, exact or randomized");
    if (j->lp && (!seen(flags, "-k") || !seen(flags, "-p")))
        return tool_usage(command, "-k K and -p P are required");
    if (!j->lp && !seen(flags, "-k") && !seen(flags, "--tol"))
        return tool_usage(command, "give the rank with -k K or a tolerance with --tol T");
    if (!j->lp && seen(flags, "-k") && seen(flags, "--tol") && j->k != 0)
        return tool_usage(command, "give -k or --tol, not both");
    int rc = lowrank_opts_set_int(j->opts, LOWRANK_OPT_METHOD, m);
    if (rc == LOWRANK_OK && seen(flags, "--tol"))
        rc = lowrank_opts_set_double(j->opts, LOWRANK_OPT_TOLERANCE, tol);
    if (rc == LOWRANK_OK && seen(flags, "--seed"))
        rc = lowrank_opts_set_int(j->opts, LOWRANK_OPT_SEED, seed);
    if (rc == LOWRANK_OK && seen(flags, "--coreset-size"))
        rc = lowrank_opts_set_int(j->opts, LOWRANK_OPT_MPI_CORESET_SIZE, size);
    if (rc == LOWRANK_OK && seen(flags, "--refine"))
        rc = lowrank_opts_set_int(j->opts, LOWRANK_OPT_REFINE_ITER, iters);
    if (rc == LOWRANK_OK && seen(flags, "--refine-tol"))
        rc = lowrank_opts_set_double(j->opts, LOWRANK_OPT_REFINE_TOL, refine_tol);
    if (rc != LOWRANK_OK) { /* the same on every rank */
        if (rank == 0)
            fprintf(stderr, "lowrank-mpi %s: %s: %s\n", command, lowrank_strerror(rc),
                    lowrank_last_error());
        return 1;
    }
    return 0;
}

static int command(const char *name, int lp, int argc, char **argv)
{
    job j = {.lp = lp, .p = NAN};
    int rc = lowrank_opts_new(&j.opts);
    if (rc != LOWRANK_OK)
        return agree(tool_fail("options", rc));
    int status = parse(name, argc, argv, &j);
    if (status == 0)
        status = run(&j);
    lowrank_opts_free(j.opts);
    return status < 0 ? 0 : status;
}

static int cmd_svd_mpi(int argc, char **argv) { return command("svd", 0, argc, argv); }
static int cmd_lp_mpi(int argc, char **argv) { return command("lp", 1, argc, argv); }

static void print_help(FILE *f)
{
    fprintf(f, "usage: mpirun -np N lowrank-mpi COMMAND [OPTIONS] IN.npy [--factors L.npy R.npy]\n"
               "       lowrank-mpi --version | --help\n\n"
               "Low-rank approximation of an .npy matrix by N processes, each reading\n"
               "its own block of rows.\n\ncommands:\n");
    for (size_t i = 0; i < tool_ncommands; i++)
        fprintf(f, "  %-11s %s\n", tool_commands[i].name, tool_commands[i].summary);
    fprintf(f, "\n`lowrank-mpi COMMAND --help` lists a command's options; see lowrank-mpi(1).\n");
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        if (rank == 0)
            print_help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("lowrank-mpi %s\n", lowrank_version_string());
        return 0;
    }
    const tool_command *c = tool_find_command(argv[1]);
    if (c)
        return c->run(argc - 1, argv + 1);
    if (rank == 0)
        fprintf(stderr, "lowrank-mpi: unknown command '%s' (see lowrank-mpi --help)\n", argv[1]);
    return 2;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (rank != 0 && !freopen("/dev/null", "w", stdout)) /* rank 0 prints the results */
        perror("/dev/null");
    int status = dispatch(argc, argv);
    MPI_Finalize();
    return status;
}
