/*
 * ellipsoid.c - `lowrank ellipsoid -p P [--method lewis|cutting-plane]
 * A.npy G.npy`: the ellipsoidal rounding G of {x : ||Ax||_p <= 1}, with
 * ||Gx|| <= ||Ax||_p <= alpha ||Gx||; prints alpha.
 */
#include <math.h>
#include <stdio.h>

#include "tool.h"

static int run(char **files, double p, lowrank_opts *opts, int quiet)
{
    lowrank_matrix *a = NULL, *g = NULL;
    double alpha = NAN;
    int rc = lowrank_matrix_load_npy(files[0], &a);
    if (rc != LOWRANK_OK)
        return tool_fail(files[0], rc);
    tool_progress pr;
    tool_progress_start(&pr, "ellipsoid", opts, quiet);
    rc = lowrank_lp_rounding(a, p, opts, &g, &alpha);
    tool_progress_end(&pr);
    int status = rc != LOWRANK_OK ? tool_fail(files[0], rc) : 0;
    if (!status && (rc = lowrank_matrix_save_npy(g, files[1])) != 0)
        status = tool_fail(files[1], rc);
    if (!status)
        printf("alpha=%.6g\n", alpha);
    lowrank_matrix_free(g);
    lowrank_matrix_free(a);
    return status;
}

int cmd_ellipsoid(int argc, char **argv)
{
    double p = NAN;
    const char *method = "lewis";
    tool_flag flags[] = {
        {"-p", FLAG_DOUBLE, &p, 0, "P", "the exponent, P >= 1 (inf for the John ellipsoid)"},
        {"--method", FLAG_STRING, &method, 0, "lewis|cutting-plane",
         "lp Lewis weights or the ellipsoid method (default: lewis)"},
        TOOL_QUIET_FLAG,
        TOOL_FLAGS_END};
    char *files[2];
    int parsed = tool_parse("ellipsoid", argc, argv, flags, files, 2);
    if (parsed < 0)
        return tool_parse_exit(parsed);
    if (!flags[0].seen)
        return tool_usage("ellipsoid", "-p P is required");
    int m = tool_rounding_method(method);
    if (m < 0)
        return tool_usage("ellipsoid", "--method takes lewis or cutting-plane");
    lowrank_opts *opts;
    int rc = lowrank_opts_new(&opts);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_METHOD, m);
    int status = rc == LOWRANK_OK ? run(files, p, opts, flags[2].seen) : tool_fail("options", rc);
    lowrank_opts_free(opts);
    return status;
}
