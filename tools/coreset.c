/*
 * coreset.c - `lowrank coreset -p P -m SIZE [--seed S] [--offset N]
 * [--method lewis|cutting-plane] A.npy INDICES.npy WEIGHTS.npy`: a
 * sensitivity-sampling coreset of the rows of A for the lp cost; writes the
 * row indices (int64) and weights (float64) as 1-D arrays and prints the
 * number of rows kept.
 */
#include <math.h>
#include <stdio.h>

#include "tool.h"

static int run(char **files, double p, long long m, lowrank_opts *opts, int quiet)
{
    lowrank_matrix *a = NULL;
    lowrank_coreset *c = NULL;
    int rc = lowrank_matrix_load_npy(files[0], &a);
    if (rc != LOWRANK_OK)
        return tool_fail(files[0], rc);
    tool_progress pr;
    tool_progress_start(&pr, "coreset", opts, quiet);
    rc = lowrank_coreset_build(a, p, m, opts, &c);
    tool_progress_end(&pr);
    int status = rc != LOWRANK_OK ? tool_fail(files[0], rc) : 0;
    int64_t size = lowrank_coreset_size(c);
    if (!status)
        status = tool_save_int64_npy(files[1], lowrank_coreset_indices(c), size);
    if (!status)
        status = tool_save_float64_npy(files[2], lowrank_matrix_data(lowrank_coreset_weights(c)),
                                       size);
    if (!status)
        printf("rows=%lld\n", (long long)size);
    lowrank_coreset_free(c);
    lowrank_matrix_free(a);
    return status;
}

int cmd_coreset(int argc, char **argv)
{
    double p = NAN;
    long long m = 0, seed = 20261128, offset = 0;
    const char *method = "lewis";
    tool_flag flags[] = {
        {"-p", FLAG_DOUBLE, &p, 0, "P", "the exponent of the cost, 1 <= P < infinity"},
        {"-m", FLAG_INT, &m, 0, "SIZE", "the number of draws: the coreset has at most SIZE rows"},
        {"--seed", FLAG_INT, &seed, 0, "S", "seed of the draws (default: 20261128)"},
        {"--offset", FLAG_INT, &offset, 0, "N",
         "added to every row index written (default: 0)"},
        {"--method", FLAG_STRING, &method, 0, "lewis|cutting-plane",
         "the rounding behind the sensitivities (default: lewis)"},
        TOOL_QUIET_FLAG,
        TOOL_FLAGS_END};
    char *files[3];
    int parsed = tool_parse("coreset", argc, argv, flags, files, 3);
    if (parsed < 0)
        return tool_parse_exit(parsed);
    if (!flags[0].seen || !flags[1].seen)
        return tool_usage("coreset", "-p P and -m SIZE are required");
    int method_value = tool_rounding_method(method);
    if (method_value < 0)
        return tool_usage("coreset", "--method takes lewis or cutting-plane");
    lowrank_opts *opts;
    int rc = lowrank_opts_new(&opts);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_SEED, seed);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_ROW_OFFSET, offset);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_METHOD, method_value);
    int status = rc == LOWRANK_OK ? run(files, p, m, opts, flags[5].seen) : tool_fail("options", rc);
    lowrank_opts_free(opts);
    return status;
}
