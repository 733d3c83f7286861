/*
 * allocate.c - `lowrank allocate (--budget F | --tol T) [--ridge A]
 * [--importance A1,A2,...] [--time] W1.npy[:X1.npy] ...`: ranks for several
 * layers y = x W_i + b_i, W_i read from W_i.npy and their inputs (one per
 * row) from X_i.npy (without X_i: the plain SVD's errors), that minimise the
 * summed squared relative output errors, each weighed by its layer's
 * importance, under a budget of stored numbers (lowrank_allocate_ranks).  Prints
 * one line per layer, "rank=K stored=S error=E FILE", then the totals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* One layer argument: the weights' path, and the inputs' path or NULL. */
typedef struct layer_arg {
    char *weights, *inputs;
} layer_arg;

/* Split "W.npy:X.npy" at its last ':' (when both sides are non-empty). */
static layer_arg split_layer(char *arg)
{
    char *colon = strrchr(arg, ':');
    if (!colon || colon == arg || colon[1] == '\0')
        return (layer_arg){arg, NULL};
    *colon = '\0';
    return (layer_arg){arg, colon + 1};
}

/* Load the layers' weights and statistics; 0 or the exit status. */
static int load_layers(char **pos, int count, lowrank_matrix **w, lowrank_stats **st,
                       tool_progress *pr)
{
    for (int i = 0; i < count; i++) {
        layer_arg la = split_layer(pos[i]);
        pos[i] = la.weights;
        int rc = lowrank_matrix_load_npy(la.weights, &w[i]);
        if (rc != LOWRANK_OK)
            return tool_fail(la.weights, rc);
        if (la.inputs) {
            int status = tool_load_stats(la.inputs, lowrank_matrix_rows(w[i]), pr, &st[i]);
            if (status != 0)
                return status;
        }
    }
    return 0;
}

/* "A1,A2,..." into count importances; 0 or the exit status. */
static int parse_importance(const char *text, int count, double *out)
{
    const char *at = text;
    for (int i = 0; i < count; i++) {
        char *end;
        out[i] = strtod(at, &end);
        if (end == at || *end != (i + 1 < count ? ',' : '\0'))
            return tool_usage("allocate",
                              "--importance needs one number per layer, separated by commas");
        at = end + 1;
    }
    return 0;
}

/* One line per layer, then the totals and the root mean square error,
 * weighed by the importances as the allocation weighs it. */
static void print_allocation(char **names, int count, lowrank_matrix **w, const int64_t *ranks,
                             const double *errors, const double *importance)
{
    double stored = 0, total = 0, sumsq = 0, sum_importance = 0;
    for (int i = 0; i < count; i++) {
        double n = (double)lowrank_matrix_rows(w[i]), d = (double)lowrank_matrix_cols(w[i]);
        int whole = ranks[i] == (n < d ? (int64_t)n : (int64_t)d);
        double s = whole ? n * d : (double)ranks[i] * (n + d);
        printf("rank=%lld stored=%.0f error=%.6g %s%s\n", (long long)ranks[i], s, errors[i],
               names[i], whole ? " (kept whole)" : "");
        stored += s;
        total += n * d;
        sumsq += importance[i] * errors[i] * errors[i];
        sum_importance += importance[i];
    }
    printf("total stored=%.0f share=%.6g error_rms=%.6g\n", stored, stored / total,
           sqrt(sumsq / sum_importance));
}

int cmd_allocate(int argc, char **argv)
{
    double budget = 0, tol = 0, ridge = 0;
    const char *importance_text = NULL;
    tool_flag flags[] = {
        {"--budget", FLAG_DOUBLE, &budget, 0, "F",
         "keep at most the share F (0 < F <= 1) of the weights'\nnumbers"},
        {"--tol", FLAG_DOUBLE, &tol, 0, "T",
         "instead of --budget: the fewest numbers whose root mean\nsquare relative output "
         "error over the layers is at most T"},
        {"--ridge", FLAG_DOUBLE, &ridge, 0, "A",
         "use C + A trace(C)/n I for each covariance C (default: 0)"},
        {"--importance", FLAG_STRING, &importance_text, 0, "A1,A2,...",
         "weigh layer i's squared error by Ai (default: all 1)"},
        {"--time", FLAG_BOOL, NULL, 0, NULL, "print compute_seconds=... on stderr"},
        TOOL_QUIET_FLAG,
        TOOL_FLAGS_END};
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos)
        return tool_fail("allocate", LOWRANK_ENOMEM);
    int count = tool_parse_some("allocate", argc, argv, flags, pos, 1, argc);
    if (count < 0) {
        free(pos);
        return tool_parse_exit(count);
    }
    int status = 0;
    if (flags[0].seen == flags[1].seen)
        status = tool_usage("allocate", "give --budget F or --tol T");
    lowrank_matrix **w = status == 0 ? calloc((size_t)count, sizeof *w) : NULL;
    lowrank_stats **st = status == 0 ? calloc((size_t)count, sizeof *st) : NULL;
    int64_t *ranks = status == 0 ? calloc((size_t)count, sizeof *ranks) : NULL;
    double *errors = status == 0 ? calloc((size_t)count, sizeof *errors) : NULL;
    double *importance = status == 0 ? calloc((size_t)count, sizeof *importance) : NULL;
    if (status == 0 && !(w && st && ranks && errors && importance))
        status = tool_fail("allocate", LOWRANK_ENOMEM);
    for (int i = 0; status == 0 && i < count; i++)
        importance[i] = 1;
    if (status == 0 && importance_text)
        status = parse_importance(importance_text, count, importance);
    lowrank_opts *opts = NULL;
    int rc = LOWRANK_OK;
    if (status == 0 && (rc = lowrank_opts_new(&opts)) == LOWRANK_OK) {
        if (flags[1].seen)
            rc = lowrank_opts_set_double(opts, LOWRANK_OPT_TOLERANCE, tol);
        if (rc == LOWRANK_OK && flags[2].seen)
            rc = lowrank_opts_set_double(opts, LOWRANK_OPT_RIDGE, ridge);
    }
    if (status == 0 && rc != LOWRANK_OK)
        status = tool_fail("options", rc);
    tool_progress pr;
    tool_progress_start(&pr, "allocate", opts, flags[5].seen);
    if (status == 0)
        status = load_layers(pos, count, w, st, &pr);
    if (status == 0) {
        double t0 = tool_now();
        rc = lowrank_allocate_ranks(count, (const lowrank_matrix *const *)w,
                                    (const lowrank_stats *const *)st,
                                    importance,
                                    flags[0].seen ? budget : 0, opts, ranks, errors);
        tool_progress_end(&pr);
        if (rc != LOWRANK_OK)
            status = tool_fail("allocate", rc);
        else if (flags[4].seen)
            fprintf(stderr, "compute_seconds=%.6f\n", tool_now() - t0);
    }
    tool_progress_end(&pr);
    if (status == 0)
        print_allocation(pos, count, w, ranks, errors, importance);
    for (int i = 0; w && st && i < count; i++) {
        lowrank_matrix_free(w[i]);
        lowrank_stats_free(st[i]);
    }
    lowrank_opts_free(opts);
    free(w);
    free(st);
    free(ranks);
    free(errors);
    free(importance);
    free(pos);
    return status;
}
