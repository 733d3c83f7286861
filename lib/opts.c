/*
 * opts.c - the options handle.  Every key, its type, default and range live
 * in one table, so a new option is one new line here and one new enum value
 * in lowrank.h.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

typedef struct option_spec {
    const char *name;
    int is_double;
    double def, min, max; /* integer keys hold their bounds as doubles too */
    int open_max;         /* max itself is excluded: [min, max) */
} option_spec;

#define INT_KEY(name, def, min, max) {name, 0, def, min, max, 0}
#define DBL_KEY(name, def, min, max) {name, 1, def, min, max, 0}
#define DBL_KEY_BELOW(name, def, min, max) {name, 1, def, min, max, 1}

/* Indexed by lowrank_option; index 0 is unused. */
static const option_spec specs[] = {
    [LOWRANK_OPT_METHOD] = INT_KEY("LOWRANK_OPT_METHOD", LOWRANK_METHOD_AUTO, 0, 4),
    [LOWRANK_OPT_SEED] = INT_KEY("LOWRANK_OPT_SEED", 20261128, -HUGE_VAL, HUGE_VAL),
    [LOWRANK_OPT_TOLERANCE] = DBL_KEY_BELOW("LOWRANK_OPT_TOLERANCE", 0, 0, 1),
    [LOWRANK_OPT_MAX_ITER] = INT_KEY("LOWRANK_OPT_MAX_ITER", 0, 0, HUGE_VAL),
    [LOWRANK_OPT_OVERSAMPLING] = INT_KEY("LOWRANK_OPT_OVERSAMPLING", -1, -1, HUGE_VAL),
    [LOWRANK_OPT_POWER_ITER] = INT_KEY("LOWRANK_OPT_POWER_ITER", -1, -1, HUGE_VAL),
    [LOWRANK_OPT_EPS] = DBL_KEY("LOWRANK_OPT_EPS", 1e-3, 0x1p-52, HUGE_VAL),
    [LOWRANK_OPT_OBJECTIVE] = INT_KEY("LOWRANK_OPT_OBJECTIVE", LOWRANK_OBJECTIVE_ROWS, 1, 2),
    [LOWRANK_OPT_ORIENTATION] = INT_KEY("LOWRANK_OPT_ORIENTATION", LOWRANK_ORIENT_ROWS, 1, 2),
    [LOWRANK_OPT_REFINE_ITER] = INT_KEY("LOWRANK_OPT_REFINE_ITER", -1, -1, HUGE_VAL),
    [LOWRANK_OPT_REFINE_TOL] = DBL_KEY("LOWRANK_OPT_REFINE_TOL", 1e-6, 0, HUGE_VAL),
    [LOWRANK_OPT_THREADS] = INT_KEY("LOWRANK_OPT_THREADS", 0, 0, HUGE_VAL),
    [LOWRANK_OPT_CENTER] = INT_KEY("LOWRANK_OPT_CENTER", LOWRANK_CENTER_FREE, 1, 2),
    [LOWRANK_OPT_ROW_OFFSET] = INT_KEY("LOWRANK_OPT_ROW_OFFSET", 0, 0, HUGE_VAL),
    [LOWRANK_OPT_STARTS] = INT_KEY("LOWRANK_OPT_STARTS", 16, 0, HUGE_VAL),
    [LOWRANK_OPT_SKETCH_DIM] = INT_KEY("LOWRANK_OPT_SKETCH_DIM", -1, -1, HUGE_VAL),
    /* background models (keys 50-69) */
    [LOWRANK_OPT_BG_MODE] = INT_KEY("LOWRANK_OPT_BG_MODE", LOWRANK_BG_MODE_ADAPTIVE, 1, 2),
    [LOWRANK_OPT_BG_RANK] = INT_KEY("LOWRANK_OPT_BG_RANK", 0, 0, HUGE_VAL),
    [LOWRANK_OPT_BG_ENERGY] = DBL_KEY("LOWRANK_OPT_BG_ENERGY", 0.9, 0x1p-52, 1),
    [LOWRANK_OPT_BG_THRESHOLD_MODE] =
        INT_KEY("LOWRANK_OPT_BG_THRESHOLD_MODE", LOWRANK_BG_THRESHOLD_PIXEL, 1, 2),
    [LOWRANK_OPT_BG_THRESHOLD] = DBL_KEY("LOWRANK_OPT_BG_THRESHOLD", 25, 0x1p-52, HUGE_VAL),
    [LOWRANK_OPT_BG_SENSITIVITY] = DBL_KEY("LOWRANK_OPT_BG_SENSITIVITY", 4, 0x1p-52, HUGE_VAL),
    [LOWRANK_OPT_BG_ROBUST] = INT_KEY("LOWRANK_OPT_BG_ROBUST", 1, 0, 1),
    [LOWRANK_OPT_BG_UPDATE_RATE] = DBL_KEY("LOWRANK_OPT_BG_UPDATE_RATE", 0.01, 0, 1),
    [LOWRANK_OPT_BG_UPDATE_INTERVAL] = INT_KEY("LOWRANK_OPT_BG_UPDATE_INTERVAL", 1, 1, HUGE_VAL),
    [LOWRANK_OPT_BG_MEDIAN] = INT_KEY("LOWRANK_OPT_BG_MEDIAN", 5, 0, 255),
    [LOWRANK_OPT_BG_WARMUP] = INT_KEY("LOWRANK_OPT_BG_WARMUP", 0, 0, HUGE_VAL),
    [LOWRANK_OPT_BG_REGISTRATION] = INT_KEY("LOWRANK_OPT_BG_REGISTRATION", 1, 0, 1),
    [LOWRANK_OPT_BG_SHADOWS] =
        INT_KEY("LOWRANK_OPT_BG_SHADOWS", LOWRANK_BG_SHADOWS_BACKGROUND, 1, 3),
    [LOWRANK_OPT_BG_SHADOW_RATIO] =
        DBL_KEY("LOWRANK_OPT_BG_SHADOW_RATIO", 0.6, 0x1p-52, 0x1.fffffffffffffp-1),
    [LOWRANK_OPT_BG_ABSORB] = INT_KEY("LOWRANK_OPT_BG_ABSORB", 500, 0, HUGE_VAL),
    [LOWRANK_OPT_BG_NEIGHBOURS] = INT_KEY("LOWRANK_OPT_BG_NEIGHBOURS", 1, 0, 1),
    /* data-aware compression (keys 70-79) */
    [LOWRANK_OPT_RIDGE] = DBL_KEY("LOWRANK_OPT_RIDGE", 0, 0, HUGE_VAL),
    /* operators (keys 80-89) */
    [LOWRANK_OPT_CORESET_SIZE] = INT_KEY("LOWRANK_OPT_CORESET_SIZE", 0, 0, HUGE_VAL),
    /* distributed computation, liblowrank_mpi (keys 90-99) */
    [LOWRANK_OPT_MPI_CORESET_SIZE] = INT_KEY("LOWRANK_OPT_MPI_CORESET_SIZE", 0, 0, HUGE_VAL),
};

#define NKEYS ((int)(sizeof specs / sizeof specs[0]))

typedef lr_option_value option_value;

_Static_assert(NKEYS <= LR_OPT_SLOTS, "raise LR_OPT_SLOTS in internal.h");

static const option_spec *find_spec(lowrank_option key, int want_double)
{
    if ((int)key <= 0 || (int)key >= NKEYS || !specs[key].name) {
        lr_fail(LOWRANK_EINVAL, "unknown option key %d", (int)key);
        return NULL;
    }
    if (specs[key].is_double != want_double) {
        lr_fail(LOWRANK_EINVAL, "option %s takes %s value", specs[key].name,
                specs[key].is_double ? "a double" : "an integer");
        return NULL;
    }
    return &specs[key];
}

static option_value default_value(const option_spec *s)
{
    option_value v;
    if (s->is_double)
        v.d = s->def;
    else
        v.i = (int64_t)s->def;
    return v;
}

void lr_opts_defaults(lowrank_opts *o)
{
    for (int k = 1; k < NKEYS; k++)
        if (specs[k].name)
            o->value[k] = default_value(&specs[k]);
    o->progress = NULL;
    o->progress_user = NULL;
    o->progress_lo = 0;
    o->progress_hi = 1;
    o->progress_interval = LR_PROGRESS_INTERVAL;
}

int lowrank_opts_new(lowrank_opts **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    lowrank_opts *o = lr_malloc(1, sizeof *o);
    *out = o;
    if (!o)
        return LOWRANK_ENOMEM;
    lr_opts_defaults(o);
    return LOWRANK_OK;
}

int lowrank_opts_set_progress(lowrank_opts *opts, lowrank_progress_fn fn, void *user)
{
    if (!opts)
        return lr_fail(LOWRANK_EINVAL, "opts is NULL");
    opts->progress = fn;
    opts->progress_user = user;
    return LOWRANK_OK;
}

void lowrank_opts_free(lowrank_opts *opts) { free(opts); }

int lowrank_opts_copy(const lowrank_opts *src, lowrank_opts **out)
{
    int rc = lowrank_opts_new(out);
    if (rc == LOWRANK_OK && src)
        **out = *src;
    return rc;
}

int lowrank_opts_set_int(lowrank_opts *opts, lowrank_option key, int64_t value)
{
    if (!opts)
        return lr_fail(LOWRANK_EINVAL, "opts is NULL");
    const option_spec *s = find_spec(key, 0);
    if (!s)
        return LOWRANK_EINVAL;
    if ((double)value < s->min || (double)value > s->max)
        return lr_fail(LOWRANK_ERANGE, "%s = %lld is outside [%.0f, %.0f]", s->name,
                       (long long)value, s->min, s->max);
    opts->value[key].i = value;
    return LOWRANK_OK;
}

int lowrank_opts_set_double(lowrank_opts *opts, lowrank_option key, double value)
{
    if (!opts)
        return lr_fail(LOWRANK_EINVAL, "opts is NULL");
    const option_spec *s = find_spec(key, 1);
    if (!s)
        return LOWRANK_EINVAL;
    if (!isfinite(value) || value < s->min || value > s->max || (s->open_max && value == s->max))
        return lr_fail(LOWRANK_ERANGE, "%s = %g is outside [%g, %g%c", s->name, value, s->min,
                       s->max, s->open_max ? ')' : ']');
    opts->value[key].d = value;
    return LOWRANK_OK;
}

static int get_value(const lowrank_opts *opts, lowrank_option key, int want_double,
                     const void *value, option_value *v)
{
    if (!value)
        return lr_fail(LOWRANK_EINVAL, "value is NULL");
    const option_spec *s = find_spec(key, want_double);
    if (!s)
        return LOWRANK_EINVAL;
    *v = opts ? opts->value[key] : default_value(s);
    return LOWRANK_OK;
}

int lowrank_opts_get_int(const lowrank_opts *opts, lowrank_option key, int64_t *value)
{
    option_value v = {0};
    int rc = get_value(opts, key, 0, value, &v);
    if (rc == LOWRANK_OK)
        *value = v.i;
    return rc;
}

int lowrank_opts_get_double(const lowrank_opts *opts, lowrank_option key, double *value)
{
    option_value v = {0};
    int rc = get_value(opts, key, 1, value, &v);
    if (rc == LOWRANK_OK)
        *value = v.d;
    return rc;
}

int64_t lr_opt_int(const lowrank_opts *opts, lowrank_option key)
{
    return opts ? opts->value[key].i : (int64_t)specs[key].def;
}

double lr_opt_double(const lowrank_opts *opts, lowrank_option key)
{
    return opts ? opts->value[key].d : specs[key].def;
}
