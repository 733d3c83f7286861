/*
 * progress.c - progress reports and cancellation of long computations
 * (lowrank_opts_set_progress): the rate limit, the mapping of a nested
 * call's progress into its caller's share, and the clock they need.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <time.h>

#include "internal.h"

double lr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void lr_progress_begin(lr_progress *pr, const lowrank_opts *opts, const char *what)
{
    pr->fn = opts ? opts->progress : NULL;
    pr->user = opts ? opts->progress_user : NULL;
    pr->lo = opts ? opts->progress_lo : 0;
    pr->hi = opts ? opts->progress_hi : 1;
    pr->interval = opts ? opts->progress_interval : LR_PROGRESS_INTERVAL;
    pr->last = pr->lo;
    pr->last_time = pr->fn ? lr_now() : 0;
    pr->what = what;
}

int lr_progress_report(lr_progress *pr, double fraction)
{
    if (!pr || !pr->fn)
        return LOWRANK_OK;
    double now = lr_now();
    if (now - pr->last_time < pr->interval)
        return LOWRANK_OK;
    pr->last_time = now;
    /* NaN and out-of-range fractions clamp, so a report never goes back */
    double f = fraction > 0 ? (fraction < 1 ? fraction : 1) : 0;
    double at = pr->lo + (pr->hi - pr->lo) * f;
    if (at > pr->last)
        pr->last = at;
    if (pr->fn(pr->last, pr->user) != 0)
        return lr_fail(LOWRANK_ECANCELED, "%s: canceled by the progress callback at %.0f%%",
                       pr->what, 100 * pr->last);
    return LOWRANK_OK;
}

const lowrank_opts *lr_opts_nested(const lowrank_opts *opts, double lo, double hi,
                                   lowrank_opts *storage)
{
    if (!opts || !opts->progress)
        return opts;
    *storage = *opts;
    double width = opts->progress_hi - opts->progress_lo;
    storage->progress_lo = opts->progress_lo + width * lo;
    storage->progress_hi = opts->progress_lo + width * hi;
    return storage;
}

void lr_opts_inherit_progress(lowrank_opts *dst, const lowrank_opts *src)
{
    if (!src)
        return;
    dst->progress = src->progress;
    dst->progress_user = src->progress_user;
    dst->progress_lo = src->progress_lo;
    dst->progress_hi = src->progress_hi;
    dst->progress_interval = src->progress_interval;
}
