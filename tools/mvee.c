/*
 * mvee.c - `lowrank mvee [--eps E] [--center free|origin] POINTS.npy
 * CENTER.npy SHAPE.npy`: the minimum-volume enclosing ellipsoid of the rows
 * of POINTS, {x : (x - c)^T Q (x - c) <= 1}; prints the certified eps, the
 * log-volume and the size of the core set.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

static int run(char **files, lowrank_opts *opts, int quiet)
{
    lowrank_matrix *pts = NULL;
    lowrank_ellipsoid *e = NULL;
    int rc = lowrank_matrix_load_npy(files[0], &pts);
    if (rc != LOWRANK_OK)
        return tool_fail(files[0], rc);
    tool_progress pr;
    tool_progress_start(&pr, "mvee", opts, quiet);
    rc = lowrank_mvee(pts, opts, &e);
    tool_progress_end(&pr);
    int status = rc != LOWRANK_OK ? tool_fail(files[0], rc) : 0;
    if (!status && (rc = lowrank_matrix_save_npy(lowrank_ellipsoid_center(e), files[1])) != 0)
        status = tool_fail(files[1], rc);
    if (!status && (rc = lowrank_matrix_save_npy(lowrank_ellipsoid_shape(e), files[2])) != 0)
        status = tool_fail(files[2], rc);
    if (!status) {
        const lowrank_matrix *u = lowrank_ellipsoid_weights(e);
        const double *w = lowrank_matrix_data(u);
        long long core = 0;
        for (int64_t i = 0; i < lowrank_matrix_rows(u); i++)
            core += w[i] > 0;
        printf("eps=%.6g log_volume=%.17g core=%lld\n", lowrank_ellipsoid_eps(e),
               lowrank_ellipsoid_log_volume(e), core);
    }
    lowrank_ellipsoid_free(e);
    lowrank_matrix_free(pts);
    return status;
}

int cmd_mvee(int argc, char **argv)
{
    double eps = 1e-3;
    const char *center = "free";
    tool_flag flags[] = {
        {"--eps", FLAG_DOUBLE, &eps, 0, "E",
         "the volume is within a factor 1 + E of the minimum,\ncertified (default: 1e-3)"},
        {"--center", FLAG_STRING, &center, 0, "free|origin",
         "the general ellipsoid, or the one centred at the origin\n"
         "enclosing the points and their negatives (default: free)"},
        TOOL_QUIET_FLAG,
        TOOL_FLAGS_END};
    char *files[3];
    int parsed = tool_parse("mvee", argc, argv, flags, files, 3);
    if (parsed < 0)
        return tool_parse_exit(parsed);
    int origin = strcmp(center, "origin") == 0;
    if (!origin && strcmp(center, "free") != 0)
        return tool_usage("mvee", "--center takes free or origin");
    lowrank_opts *opts;
    int rc = lowrank_opts_new(&opts);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_double(opts, LOWRANK_OPT_EPS, eps);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_CENTER,
                                  origin ? LOWRANK_CENTER_ORIGIN : LOWRANK_CENTER_FREE);
    int status = rc == LOWRANK_OK ? run(files, opts, flags[2].seen) : tool_fail("--eps", rc);
    lowrank_opts_free(opts);
    return status;
}
