/*
 * svd.c - `lowrank svd`: the rank-k SVD truncation of a matrix file, written
 * as the approximation (same shape, dtype and order as the input) or as two
 * factors L (m x k) and R (k x n) with L R = the approximation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

typedef struct svd_args {
    long long k;
    int have_k, time, balanced;
    const char *factors[2];
    const char *in, *out;
} svd_args;

static int parse_ll(const char *s, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno == 0 && end != s && *end == '\0';
}

static int parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0';
}

static int method_of(const char *name, long long *method)
{
    static const struct {
        const char *name;
        lowrank_method method;
    } methods[] = {{"auto", LOWRANK_METHOD_AUTO},
                   {"exact", LOWRANK_METHOD_EXACT},
                   {"randomized", LOWRANK_METHOD_RANDOMIZED}};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(name, methods[i].name) == 0) {
            *method = methods[i].method;
            return 1;
        }
    return 0;
}

/* Options into a and opts; returns 0, or the exit status of a usage error. */
static int parse(int argc, char **argv, svd_args *a, lowrank_opts *opts)
{
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        double d;
        int rc = LOWRANK_OK;
        if (strcmp(o, "--time") == 0) {
            a->time = 1;
            continue;
        }
        if (strcmp(o, "--balanced") == 0) {
            a->balanced = 1;
            continue;
        }
        if (o[0] != '-' || strcmp(o, "-") == 0) {
            if (npos == 2)
                return tool_usage("svd", "too many files");
            *(npos++ == 0 ? &a->in : &a->out) = o;
            continue;
        }
        if (!v)
            return tool_usage("svd", "an option lacks its value");
        i++;
        if (strcmp(o, "-k") == 0 && parse_ll(v, &a->k))
            a->have_k = 1;
        else if (strcmp(o, "--method") == 0 && method_of(v, &n))
            rc = lowrank_opts_set_int(opts, LOWRANK_OPT_METHOD, n);
        else if (strcmp(o, "--tol") == 0 && parse_double(v, &d))
            rc = lowrank_opts_set_double(opts, LOWRANK_OPT_TOLERANCE, d);
        else if (strcmp(o, "--seed") == 0 && parse_ll(v, &n))
            rc = lowrank_opts_set_int(opts, LOWRANK_OPT_SEED, n);
        else if (strcmp(o, "--factors") == 0 && i + 1 < argc) {
            a->factors[0] = v;
            a->factors[1] = argv[++i];
        } else
            return tool_usage("svd", "unknown option or bad value");
        if (rc != LOWRANK_OK)
            return tool_fail(o, rc);
    }
    if (!a->in || (a->factors[0] ? a->out != NULL : a->out == NULL))
        return tool_usage("svd", a->factors[0] ? "expected IN.npy" : "expected IN.npy OUT.npy");
    double tol = 0;
    lowrank_opts_get_double(opts, LOWRANK_OPT_TOLERANCE, &tol);
    if (!a->have_k && tol == 0)
        return tool_usage("svd", "give the rank with -k K or a tolerance with --tol T");
    if (a->have_k && tol > 0 && a->k != 0)
        return tool_usage("svd", "give -k or --tol, not both");
    return 0;
}

int cmd_svd(int argc, char **argv)
{
    svd_args a = {0};
    lowrank_opts *opts;
    int rc = lowrank_opts_new(&opts);
    if (rc != LOWRANK_OK)
        return tool_fail("svd", rc);
    int status = parse(argc, argv, &a, opts);
    lowrank_matrix *m = NULL;
    lowrank_factors *f = NULL;
    if (status == 0 && (rc = lowrank_matrix_load_npy(a.in, &m)) != LOWRANK_OK)
        status = tool_fail(a.in, rc);
    if (status == 0) {
        double t0 = tool_now();
        rc = lowrank_svd(m, a.have_k ? a.k : 0, opts, &f);
        double seconds = tool_now() - t0;
        if (rc != LOWRANK_OK)
            status = tool_fail(a.in, rc);
        else if (a.time)
            fprintf(stderr, "compute_seconds=%.6f\n", seconds);
    }
    if (status == 0) {
        double err = 0;
        lowrank_factors_error(f, &err);
        printf("rank=%lld error=%.6g\n", (long long)lowrank_factors_rank(f), err);
        status = a.factors[0] ? tool_write_factors(f, a.balanced, a.factors[0], a.factors[1])
                              : tool_write_approximation(f, m, a.out);
    }
    lowrank_factors_free(f);
    lowrank_matrix_free(m);
    lowrank_opts_free(opts);
    return status;
}
