/*
 * check_scale.c - results must not depend on the scale of the input.  For
 * every numerical entry point and c A over the whole range of each dtype,
 * each result is c^q times the result for A -- q = 1 for singular values,
 * centres, G and coreset points, -2 for an ellipsoid's shape, p for a cost,
 * 0 for singular vectors, weights, indices, alpha and eps -- or, when that
 * value is outside the dtype's range, the call fails with LOWRANK_ERANGE:
 * never inf, NaN or zeros with success.
 *
 * Inputs: a rank-2 matrix plus noise with a few outlying rows, and the same
 * with rows of very different magnitudes (2^+-40 apart in float64, 2^+-4 in
 * float32); entries are rounded to 12 significant bits and are at least
 * 2^-10 of their row's largest, so that c A is exact for c a power of two
 * as long as its smallest entry stays normal.  The scales put the largest
 * magnitude of c A at 2^t for t in the tables below (float64 from about
 * 1e-301 to 1e301, float32 from the smallest entry at FLT_MIN, 1.2e-38, to
 * FLT_MAX's binade), with c an exact power of two -- where the computation
 * must be exact too, to rounding -- and with c times 0.7071 or 1.4142,
 * where c A is rounded and results agree to the dtype's precision times
 * the problem's sensitivity.  The reference is c = 1.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

static const lowrank_dtype dtypes[] = {LOWRANK_FLOAT32, LOWRANK_FLOAT64};

/* Tolerances (see tolerance()): sensitivities to the rounding of c A and
 * floors at the stopping tolerances of the iterative methods (lp's
 * refinement, 1e-6; Lewis weights, 1e-6 on alpha), measured on these
 * inputs with a margin of ten.  The entry-wise lp fit in float32 moves by
 * 1e-3 when its input is rounded differently (its cost by 0.1-0.4%, at any
 * scale, c = 1.1 included): LP_SENS covers it.  A scale bug shows as an
 * error of order one, or a failure. */
#define SVD_SENS 1e5
#define LP_SENS 1e6
#define LP_FLOOR 1e-6
#define COST_SENS 1e5
#define MVEE_SENS 1e5
#define MVEE_FLOOR 1e-6
#define ROUNDING_SENS 1e5
#define ROUNDING_FLOOR 1e-6
#define CORESET_FLOOR 1e-6

/* log2 of the largest magnitude of c A. */
static const double targets64[] = {-1000, -600, -250, -100, -30, 30, 100, 250, 600, 1000};
static const double targets32[] = {-126, -60, -25, 25, 60, 127};
#define NTARGETS64 (sizeof targets64 / sizeof targets64[0])
#define NTARGETS32 (sizeof targets32 / sizeof targets32[0])

/* A scale: c = 2^log2c exactly, or c = 2^log2c times r when not exact. */
typedef struct scale {
    double log2c, r;
    int exact;
} scale;

static double log2_of(const scale *s) { return s->log2c + log2(s->r); }

/* ------------------------------------------------------------ inputs */

/* v rounded to 12 significant bits. */
static double round12(double v)
{
    if (v == 0)
        return 0;
    int e = ilogb(v);
    return ldexp(nearbyint(ldexp(v, 11 - e)), e - 11);
}

/* An n x d matrix: rank 2 plus noise, three rows ten times off the plane,
 * row i times 2^spread_i (spread_i in [-spread, spread]) when mixed. */
static lowrank_matrix *test_matrix(lowrank_dtype t, lowrank_layout layout, int64_t n, int64_t d,
                                   int spread, uint64_t seed)
{
    lr_rng r;
    lr_rng_seed(&r, seed);
    double basis[2][64];
    for (int c = 0; c < 2; c++)
        for (int64_t j = 0; j < d; j++)
            basis[c][j] = lr_rng_normal(&r);
    lowrank_matrix *a;
    ck_assert_ok(lowrank_matrix_new(t, layout, n, d, &a));
    for (int64_t i = 0; i < n; i++) {
        double row[64], big = 0, u = lr_rng_normal(&r), v = lr_rng_normal(&r);
        double noise = i % 13 == 5 ? 10 : 0.05;
        for (int64_t j = 0; j < d; j++) {
            row[j] = u * basis[0][j] + v * basis[1][j] + noise * lr_rng_normal(&r);
            big = fmax(big, fabs(row[j]));
        }
        int shift = spread ? (int)floor((2 * spread + 1) * lr_rng_uniform(&r)) - spread : 0;
        for (int64_t j = 0; j < d; j++) {
            double x = fabs(row[j]) < 0x1p-10 * big ? copysign(0x1p-10 * big, row[j]) : row[j];
            ck_assert_ok(lowrank_matrix_set(a, i, j, ldexp(round12(x), shift)));
        }
    }
    return a;
}

/* c a: exact for a power of two (checked by the caller's choice of scales). */
static lowrank_matrix *times(const lowrank_matrix *a, const scale *s)
{
    lowrank_matrix *b;
    ck_assert_ok(lowrank_matrix_copy(a, &b));
    for (int64_t i = 0; i < a->rows; i++)
        for (int64_t j = 0; j < a->cols; j++)
            ck_assert_ok(lowrank_matrix_set(b, i, j,
                                            ldexp(s->r * lr_matrix_at(a, i, j), (int)s->log2c)));
    return b;
}

/* log2 of the smallest and largest magnitudes of a's non-zero entries. */
static void magnitudes(const lowrank_matrix *a, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int64_t i = 0; i < a->rows; i++)
        for (int64_t j = 0; j < a->cols; j++) {
            double v = fabs(lr_matrix_at(a, i, j));
            if (v > 0) {
                *lo = fmin(*lo, log2(v));
                *hi = fmax(*hi, log2(v));
            }
        }
}

/* The scales for a: each target as an exact power of two and, rounded, as
 * 0.7071 or 1.4142 times it (towards the middle of the range), keeping the
 * smallest entry of c A normal and its largest finite. */
static int scales_for(const lowrank_matrix *a, scale *out)
{
    int f32 = a->dtype == LOWRANK_FLOAT32, n = 0;
    const double *tg = f32 ? targets32 : targets64;
    size_t nt = f32 ? NTARGETS32 : NTARGETS64;
    double lo, hi, bottom = f32 ? -126 : -1022;
    magnitudes(a, &lo, &hi);
    for (size_t i = 0; i < nt; i++) {
        double k = tg[i] - floor(hi); /* the largest at 2^tg[i] .. 2^(tg[i] + 1) */
        if (floor(lo) + k < bottom)
            k = bottom - floor(lo);
        if (n > 0 && out[n - 2].log2c == k)
            continue;
        out[n++] = (scale){k, 1.0, 1};
        out[n++] = (scale){k, tg[i] < 0 ? M_SQRT2 : M_SQRT1_2, 0};
    }
    return n;
}

/* ------------------------------------------------------------ comparisons */

/* The largest magnitude of ref's elements, as log2 (-inf for zero). */
static double log2_max(const lowrank_matrix *ref)
{
    double big = 0;
    for (int64_t i = 0; i < ref->rows; i++)
        for (int64_t j = 0; j < ref->cols; j++)
            big = fmax(big, fabs(lr_matrix_at(ref, i, j)));
    return log2(big);
}

/* Whether 2^l2 times c^q is inside dtype t's range (its normal range with
 * keep_normal): 1 surely, 0 surely not, -1 within 0.01 of an edge. */
static int inside(double l2, double q, const scale *s, lowrank_dtype t, int keep_normal)
{
    double v = l2 + q * log2_of(s), top = t == LOWRANK_FLOAT32 ? 128 : 1024;
    double bottom = t == LOWRANK_FLOAT32 ? -126 : -1022;
    if (v > top + 0.01 || (keep_normal && v < bottom - 0.01))
        return 0;
    if (v > top - 0.01 || (keep_normal && v < bottom + 0.01))
        return -1;
    return 1;
}

/* The combined expectation of several outputs: 0 if one surely leaves the
 * range, -1 if one is on an edge, 1 otherwise. */
static int both(int a, int b) { return a == 0 || b == 0 ? 0 : a < 0 || b < 0 ? -1 : 1; }

/* max |x c^-q - ref| / max |ref|: c^-q applied through its exponent, so
 * that it neither overflows nor underflows. */
static double scaled_diff(const lowrank_matrix *x, const lowrank_matrix *ref, double q,
                          const scale *s)
{
    double diff = 0, big = 0;
    for (int64_t i = 0; i < ref->rows; i++)
        for (int64_t j = 0; j < ref->cols; j++) {
            double want = lr_matrix_at(ref, i, j);
            double got = lr_times_exp2(lr_matrix_at(x, i, j), -q * log2_of(s));
            diff = fmax(diff, fabs(got - want));
            big = fmax(big, fabs(want));
        }
    return big > 0 ? diff / big : diff;
}

static double scalar_diff(double x, double ref, double q, const scale *s)
{
    return fabs(lr_times_exp2(x, -q * log2_of(s)) - ref) / fabs(ref);
}

/* The tolerance of a comparison: sens (how much the computation amplifies
 * rounding, including where it is not exactly equivariant under a power of
 * two: LAPACK's internal scaling, iterations stopping a step earlier or
 * later) times the roundoff, and at least floor (the accuracy to which an
 * iterative method determines its result). */
static double tolerance(lowrank_dtype t, double sens, double floor)
{
    return fmax(sens * (t == LOWRANK_FLOAT32 ? 0x1p-24 : 0x1p-53), floor);
}

/* What the loops report when a check fails. */
typedef struct where {
    const char *fn, *what;
    lowrank_dtype t;
    int mixed;
    const scale *s;
} where;

#define CHECK_CLOSE(w, diff, tol)                                                                 \
    ck_assert_msg((diff) <= (tol), "%s %s, %s%s, c = 2^%g x %g: relative difference %g > %g",   \
                  (w)->fn, (w)->what ? (w)->what : "", lr_dtype_name((w)->t),                    \
                  (w)->mixed ? " (mixed rows)" : "", (w)->s->log2c, (w)->s->r, (diff), (tol))

/* rc against the expectation: OK when expect is 1, ERANGE when it is 0,
 * either on an edge; returns whether the results are there to compare. */
static int outcome(const where *w, int rc, int expect)
{
    ck_assert_msg(rc == LOWRANK_OK || (rc == LOWRANK_ERANGE && expect != 1),
                  "%s, %s%s, c = 2^%g x %g: %s (%s), expected %s", w->fn, lr_dtype_name(w->t),
                  w->mixed ? " (mixed rows)" : "", w->s->log2c, w->s->r, lowrank_strerror(rc),
                  lowrank_last_error(), expect == 1 ? "success" : "LOWRANK_ERANGE");
    ck_assert_msg(rc == LOWRANK_ERANGE || expect != 0,
                  "%s, %s%s, c = 2^%g x %g: succeeded where the result is out of range (%s)",
                  w->fn, lr_dtype_name(w->t), w->mixed ? " (mixed rows)" : "", w->s->log2c,
                  w->s->r, w->what ? w->what : "");
    return rc == LOWRANK_OK;
}

/* ------------------------------------------------------------ the loop */

/* One function's property over both dtypes, plain and mixed rows, every
 * scale: run(w, a, ca, s) compares the results for c A against those for A. */
typedef void (*property)(const where *w, const lowrank_matrix *a, const lowrank_matrix *ca,
                         const scale *s, const void *arg);

static void over_scales(const char *fn, int64_t n, int64_t d, property run, const void *arg)
{
    for (size_t ti = 0; ti < 2; ti++)
        for (int mixed = 0; mixed < 2; mixed++) {
            lowrank_dtype t = dtypes[ti];
            int spread = mixed ? (t == LOWRANK_FLOAT32 ? 4 : 40) : 0;
            lowrank_matrix *a = test_matrix(t, mixed ? LOWRANK_COL_MAJOR : LOWRANK_ROW_MAJOR, n,
                                            d, spread, 7 + mixed);
            scale sc[64];
            int ns = scales_for(a, sc);
            for (int i = 0; i < ns; i++) {
                lowrank_matrix *ca = times(a, &sc[i]);
                where w = {fn, NULL, t, mixed, &sc[i]};
                run(&w, a, ca, &sc[i], arg);
                lowrank_matrix_free(ca);
            }
            lowrank_matrix_free(a);
        }
}

/* ------------------------------------------------------------ factors */

/* U diag(S) V^T of f in float64, column-major. */
static lowrank_matrix *approximation(const lowrank_factors *f)
{
    lowrank_matrix *x;
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, lowrank_factors_rows(f),
                                    lowrank_factors_cols(f), &x));
    ck_assert_ok(lowrank_factors_reconstruct(f, x));
    return x;
}

/* f (for c A) against ref (for A): S and the approximation U diag(S) V^T
 * scale by c (the approximation rather than U and V, which are defined up
 * to signs, and to rotations where singular values are close), the
 * relative error not at all. */
static void compare_factors(const where *w, const lowrank_factors *f, const lowrank_factors *ref,
                            double tol)
{
    CHECK_CLOSE(w, scaled_diff(lowrank_factors_s(f), lowrank_factors_s(ref), 1, w->s), tol);
    lowrank_matrix *x = approximation(f), *xref = approximation(ref);
    CHECK_CLOSE(w, scaled_diff(x, xref, 1, w->s), tol);
    lowrank_matrix_free(x);
    lowrank_matrix_free(xref);
    double e, eref;
    ck_assert_ok(lowrank_factors_error(f, &e));
    ck_assert_ok(lowrank_factors_error(ref, &eref));
    CHECK_CLOSE(w, fabs(e - eref), tol);
}

typedef struct fit_args {
    int64_t method, objective; /* objective 0: lowrank_svd */
    double p, sens, floor;
} fit_args;

static int fit(const lowrank_matrix *a, const fit_args *fa, lowrank_factors **out)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, fa->method));
    if (fa->objective)
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_OBJECTIVE, fa->objective));
    int rc = fa->objective ? lowrank_lp(a, 2, fa->p, o, out) : lowrank_svd(a, 2, o, out);
    lowrank_opts_free(o);
    return rc;
}

static void fit_property(const where *w, const lowrank_matrix *a, const lowrank_matrix *ca,
                         const scale *s, const void *arg)
{
    const fit_args *fa = arg;
    lowrank_factors *ref, *f;
    ck_assert_ok(fit(a, fa, &ref));
    int rc = fit(ca, fa, &f);
    double l2s = log2_max(lowrank_factors_s(ref));
    if (outcome(w, rc, inside(l2s, 1, s, w->t, 0)))
        compare_factors(w, f, ref, tolerance(w->t, fa->sens, fa->floor));
    lowrank_factors_free(f);
    lowrank_factors_free(ref);
}

START_TEST(svd_scales)
{
    const fit_args exact = {LOWRANK_METHOD_EXACT, 0, 0, SVD_SENS, 0};
    const fit_args randomized = {LOWRANK_METHOD_RANDOMIZED, 0, 0, SVD_SENS, 0};
    over_scales("lowrank_svd exact", 40, 8, fit_property, &exact);
    over_scales("lowrank_svd randomized", 40, 8, fit_property, &randomized);
}
END_TEST

START_TEST(lp_scales)
{
    static const int64_t methods[] = {LOWRANK_METHOD_LEWIS, LOWRANK_METHOD_LOWNER};
    static const int64_t objectives[] = {LOWRANK_OBJECTIVE_ROWS, LOWRANK_OBJECTIVE_ENTRIES};
    static const char *names[2][2] = {{"lowrank_lp rows lewis", "lowrank_lp rows lowner"},
                                      {"lowrank_lp entries lewis", "lowrank_lp entries lowner"}};
    for (int o = 0; o < 2; o++)
        for (int m = 0; m < 2; m++) {
            fit_args fa = {methods[m], objectives[o], 1.0, LP_SENS, LP_FLOOR};
            over_scales(names[o][m], 40, 8, fit_property, &fa);
        }
}
END_TEST

/* ------------------------------------------------------------ costs */

static const double cost_ps[] = {1, 1.5, 2, 3, INFINITY};

/* The factors of A as float64 (exact for float32 A), from lowrank_svd. */
static lowrank_factors *factors_of(const lowrank_matrix *a)
{
    lowrank_matrix *a64;
    lowrank_factors *f;
    ck_assert_ok(lowrank_matrix_convert(a, LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, &a64));
    ck_assert_ok(lowrank_svd(a64, 2, NULL, &f));
    lowrank_matrix_free(a64);
    return f;
}

static void cost_property(const where *wc, const lowrank_matrix *a, const lowrank_matrix *ca,
                          const scale *s, const void *arg)
{
    lowrank_objective objective = *(const lowrank_objective *)arg;
    lowrank_factors *ref = factors_of(a), *f = factors_of(ca);
    static const char *names[] = {"p = 1", "p = 1.5", "p = 2", "p = 3", "p = inf"};
    for (size_t i = 0; i < sizeof cost_ps / sizeof cost_ps[0]; i++) {
        where wp = *wc;
        wp.what = names[i];
        const where *w = &wp;
        double p = cost_ps[i], cref, c = NAN;
        ck_assert_ok(lowrank_lp_cost(a, ref, p, objective, &cref));
        int rc = lowrank_lp_cost(ca, f, p, objective, &c);
        double q = isinf(p) ? 1 : p;
        if (outcome(w, rc, inside(log2(cref), q, s, LOWRANK_FLOAT64, 1)))
            CHECK_CLOSE(w, scalar_diff(c, cref, q, s), q * tolerance(w->t, COST_SENS, 0));
    }
    lowrank_factors_free(f);
    lowrank_factors_free(ref);
}

START_TEST(lp_cost_scales)
{
    static const lowrank_objective rows = LOWRANK_OBJECTIVE_ROWS, entries =
                                                                   LOWRANK_OBJECTIVE_ENTRIES;
    over_scales("lowrank_lp_cost rows", 40, 8, cost_property, &rows);
    over_scales("lowrank_lp_cost entries", 40, 8, cost_property, &entries);
}
END_TEST

/* ------------------------------------------------------------ ellipsoids */

static void mvee_property(const where *w, const lowrank_matrix *a, const lowrank_matrix *ca,
                          const scale *s, const void *arg)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_CENTER, *(const int64_t *)arg));
    lowrank_ellipsoid *ref, *e;
    ck_assert_ok(lowrank_mvee(a, o, &ref));
    int rc = lowrank_mvee(ca, o, &e);
    const lowrank_matrix *q = lowrank_ellipsoid_shape(ref), *c = lowrank_ellipsoid_center(ref);
    int expect = both(inside(log2_max(q), -2, s, w->t, 1), inside(log2_max(c), 1, s, w->t, 0));
    if (outcome(w, rc, expect)) {
        double tol = tolerance(w->t, MVEE_SENS, MVEE_FLOOR);
        CHECK_CLOSE(w, scaled_diff(lowrank_ellipsoid_shape(e), q, -2, s), tol);
        CHECK_CLOSE(w, scaled_diff(lowrank_ellipsoid_center(e), c, 1, s), tol);
        CHECK_CLOSE(w, scaled_diff(lowrank_ellipsoid_weights(e), lowrank_ellipsoid_weights(ref),
                                   0, s),
                    tol);
        double dv = lowrank_ellipsoid_log_volume(e) - lowrank_ellipsoid_log_volume(ref) -
                    3 * log2_of(s) * log(2.0);
        CHECK_CLOSE(w, fabs(dv) / fabs(lowrank_ellipsoid_log_volume(ref)), tol);
        CHECK_CLOSE(w, fabs(lowrank_ellipsoid_eps(e) - lowrank_ellipsoid_eps(ref)), tol);
    }
    lowrank_ellipsoid_free(e);
    lowrank_ellipsoid_free(ref);
    lowrank_opts_free(o);
}

START_TEST(mvee_scales)
{
    static const int64_t free_center = LOWRANK_CENTER_FREE, origin = LOWRANK_CENTER_ORIGIN;
    over_scales("lowrank_mvee free", 40, 3, mvee_property, &free_center);
    over_scales("lowrank_mvee origin", 40, 3, mvee_property, &origin);
}
END_TEST

typedef struct rounding_args {
    int64_t method;
    double p;
} rounding_args;

static void rounding_property(const where *w, const lowrank_matrix *a, const lowrank_matrix *ca,
                              const scale *s, const void *arg)
{
    const rounding_args *ra = arg;
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, ra->method));
    lowrank_matrix *ref, *g;
    double aref, al;
    ck_assert_ok(lowrank_lp_rounding(a, ra->p, o, &ref, &aref));
    int rc = lowrank_lp_rounding(ca, ra->p, o, &g, &al);
    if (outcome(w, rc, inside(log2_max(ref), 1, s, w->t, 0))) {
        double tol = tolerance(w->t, ROUNDING_SENS, ROUNDING_FLOOR);
        CHECK_CLOSE(w, scaled_diff(g, ref, 1, s), tol);
        CHECK_CLOSE(w, fabs(al - aref) / aref, tol);
    }
    lowrank_matrix_free(g);
    lowrank_matrix_free(ref);
    lowrank_opts_free(o);
}

START_TEST(rounding_scales)
{
    static const rounding_args cases[] = {
        {LOWRANK_METHOD_LEWIS, 1},  {LOWRANK_METHOD_LEWIS, 3},  {LOWRANK_METHOD_LEWIS, INFINITY},
        {LOWRANK_METHOD_LOWNER, 1}, {LOWRANK_METHOD_LOWNER, 3},
    };
    static const char *names[] = {"lowrank_lp_rounding lewis p=1", "lowrank_lp_rounding lewis p=3",
                                  "lowrank_lp_rounding john p=inf",
                                  "lowrank_lp_rounding lowner p=1",
                                  "lowrank_lp_rounding lowner p=3"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        over_scales(names[i], 40, 4, rounding_property, &cases[i]);
}
END_TEST

/* ------------------------------------------------------------ coresets */

/* c's rows against ref's: the same indices and weights, points times c. */
static void compare_coresets(const where *w, const lowrank_coreset *c, const lowrank_coreset *ref)
{
    int64_t n = lowrank_coreset_size(ref);
    ck_assert_int_eq(lowrank_coreset_size(c), n);
    ck_assert_mem_eq(lowrank_coreset_indices(c), lowrank_coreset_indices(ref),
                     (size_t)n * sizeof(int64_t));
    double tol = tolerance(w->t, COST_SENS, CORESET_FLOOR);
    CHECK_CLOSE(w, scaled_diff(lowrank_coreset_weights(c), lowrank_coreset_weights(ref), 0, w->s),
                tol);
    /* the points are c A's own rows: exact for an exact scale */
    CHECK_CLOSE(w, scaled_diff(lowrank_coreset_points(c), lowrank_coreset_points(ref), 1, w->s),
                w->s->exact ? 0 : tolerance(w->t, 4, 0));
}

/* Rows lo .. hi - 1 of a, as a matrix of their own. */
static lowrank_matrix *rows_of(const lowrank_matrix *a, int64_t lo, int64_t hi)
{
    lowrank_matrix *b;
    ck_assert_ok(lowrank_matrix_new(a->dtype, LOWRANK_ROW_MAJOR, hi - lo, a->cols, &b));
    for (int64_t i = lo; i < hi; i++)
        for (int64_t j = 0; j < a->cols; j++)
            ck_assert_ok(lowrank_matrix_set(b, i - lo, j, lr_matrix_at(a, i, j)));
    return b;
}

/* A coreset of 16 rows of a built in two halves and merged. */
static int merged(const lowrank_matrix *a, double p, lowrank_coreset **out)
{
    int64_t n = a->rows;
    lowrank_matrix *top = rows_of(a, 0, n / 2), *bottom = rows_of(a, n / 2, n);
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    lowrank_coreset *c1 = NULL, *c2 = NULL;
    int rc = lowrank_coreset_build(top, p, 24, o, &c1);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_ROW_OFFSET, n / 2));
    if (rc == LOWRANK_OK)
        rc = lowrank_coreset_build(bottom, p, 24, o, &c2);
    if (rc == LOWRANK_OK)
        rc = lowrank_coreset_merge(c1, c2, 16, NULL, out);
    lowrank_coreset_free(c1);
    lowrank_coreset_free(c2);
    lowrank_opts_free(o);
    lowrank_matrix_free(top);
    lowrank_matrix_free(bottom);
    return rc;
}

static void coreset_property(const where *w, const lowrank_matrix *a, const lowrank_matrix *ca,
                             const scale *s, const void *arg)
{
    (void)s;
    double p = *(const double *)arg;
    lowrank_coreset *ref, *c;
    ck_assert_ok(lowrank_coreset_build(a, p, 16, NULL, &ref));
    ck_assert_ok(lowrank_coreset_build(ca, p, 16, NULL, &c));
    compare_coresets(w, c, ref);
    lowrank_coreset_free(c);
    lowrank_coreset_free(ref);
    ck_assert_ok(merged(a, p, &ref));
    ck_assert_ok(merged(ca, p, &c));
    compare_coresets(w, c, ref);
    lowrank_coreset_free(c);
    lowrank_coreset_free(ref);
}

START_TEST(coreset_scales)
{
    static const double p1 = 1, p2 = 2, p3 = 3;
    over_scales("lowrank_coreset_build/merge p=1", 80, 4, coreset_property, &p1);
    over_scales("lowrank_coreset_build/merge p=2", 80, 4, coreset_property, &p2);
    over_scales("lowrank_coreset_build/merge p=3", 80, 4, coreset_property, &p3);
}
END_TEST

/* ------------------------------------------------------------ background */

/* n frames w x h, grey or colour, of a textured background with noise of
 * about 2 grey levels and a square moving across, values below 64 so that
 * they can be scaled by up to 4 within 8 bits. */
static uint8_t *video(int64_t w, int64_t h, int64_t ch, int n, uint64_t seed)
{
    lr_rng r;
    lr_rng_seed(&r, seed);
    int64_t size = w * h * ch;
    uint8_t *v = malloc((size_t)(size * n));
    ck_assert_ptr_nonnull(v);
    for (int f = 0; f < n; f++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                for (int64_t c = 0; c < ch; c++) {
                    double base = 20 + 8 * sin(0.3 * (double)x + (double)c) + 6 * cos(0.2 * (double)y);
                    int in_square = x >= 2 * f && x < 2 * f + 6 && y >= 4 && y < 10;
                    double val = (in_square ? 55 : base) + 2 * lr_rng_normal(&r);
                    v[f * size + (y * w + x) * ch + c] = (uint8_t)fmin(63, fmax(0, nearbyint(val)));
                }
    return v;
}

/* The masks of the last n - t frames after training on the first t, and
 * the final background image, for frames times scale and the fixed
 * threshold times scale (seed mode). */
static void masks_of(const uint8_t *v, int64_t w, int64_t h, int64_t ch, int n, int t, int gain,
                     int seed_mode, uint8_t *masks, uint8_t *image)
{
    int64_t size = w * h * ch;
    uint8_t *sv = malloc((size_t)(size * n));
    ck_assert_ptr_nonnull(sv);
    for (int64_t i = 0; i < size * n; i++)
        sv[i] = (uint8_t)(v[i] * gain);
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    if (seed_mode) {
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_MODE, LOWRANK_BG_MODE_SEED));
        ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_BG_THRESHOLD, 12.5 * gain));
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_RANK, 2));
    }
    lowrank_background *bg;
    const uint8_t *frames[64];
    for (int f = 0; f < t; f++)
        frames[f] = sv + f * size;
    ck_assert_ok(lowrank_background_new(w, h, ch, o, &bg));
    ck_assert_ok(lowrank_background_train(bg, frames, t, w * ch));
    for (int f = t; f < n; f++)
        ck_assert_ok(lowrank_background_apply(bg, sv + f * size, w * ch, masks + (f - t) * w * h, w));
    ck_assert_ok(lowrank_background_image(bg, image, w * ch));
    lowrank_background_free(bg);
    lowrank_opts_free(o);
    free(sv);
}

/* Frames are 8-bit, so the scales that mean something are brightness gains
 * that keep them in range: frames times 2 and 4.  The seed mode with its
 * threshold scaled alike must give the same masks (its arithmetic is
 * equivariant), the adaptive mode, whose per-pixel thresholds follow each
 * pixel's noise, nearly the same (its noise floor and IRLS floor are in
 * grey levels: a fixed 8-bit quantisation); the background image scales, to
 * the rounding of 8-bit values. */
START_TEST(background_scales)
{
    const int64_t w = 40, h = 16;
    const int n = 16, t = 8;
    for (int64_t ch = 1; ch <= 3; ch += 2)
        for (int seed_mode = 0; seed_mode < 2; seed_mode++) {
            uint8_t *v = video(w, h, ch, n, 31 + (uint64_t)ch);
            uint8_t ref[(16 - 8) * 40 * 16], masks[(16 - 8) * 40 * 16];
            uint8_t img_ref[40 * 16 * 3], img[40 * 16 * 3];
            masks_of(v, w, h, ch, n, t, 1, seed_mode, ref, img_ref);
            for (int gain = 2; gain <= 4; gain *= 2) {
                masks_of(v, w, h, ch, n, t, gain, seed_mode, masks, img);
                int64_t differ = 0, moving = 0;
                for (int64_t i = 0; i < (int64_t)sizeof ref; i++) {
                    differ += masks[i] != ref[i];
                    moving += ref[i] != 0;
                }
                ck_assert_msg(moving > 0, "no motion found at all");
                ck_assert_msg(seed_mode ? differ == 0 : differ <= (int64_t)sizeof ref / 100,
                              "background %s, %lld channels, frames x %d: %lld of %zu mask "
                              "pixels differ",
                              seed_mode ? "seed" : "adaptive", (long long)ch, gain,
                              (long long)differ, sizeof ref);
                for (int64_t i = 0; i < w * h * ch; i++)
                    ck_assert_msg(abs((int)img[i] - gain * (int)img_ref[i]) <= gain,
                                  "background image x %d: %d against %d", gain, img[i],
                                  img_ref[i]);
            }
            free(v);
        }
}
END_TEST

/* ------------------------------------------------------------ range */

/* A rows x cols matrix of dtype t with every entry v. */
static lowrank_matrix *constant(lowrank_dtype t, int64_t rows, int64_t cols, double v)
{
    lowrank_matrix *a;
    ck_assert_ok(lowrank_matrix_new(t, LOWRANK_COL_MAJOR, rows, cols, &a));
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            ck_assert_ok(lowrank_matrix_set(a, i, j, v));
    return a;
}

/* Singular values beyond the dtype: ERANGE (it was success with inf); a
 * largest representable one is still right. */
START_TEST(svd_top_of_range)
{
    static const int64_t methods[] = {LOWRANK_METHOD_EXACT, LOWRANK_METHOD_RANDOMIZED};
    for (int m = 0; m < 2; m++) {
        lowrank_opts *o;
        ck_assert_ok(lowrank_opts_new(&o));
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, methods[m]));
        lowrank_factors *f = NULL;
        lowrank_matrix *a = constant(LOWRANK_FLOAT32, 4, 3, FLT_MAX);
        ck_assert_fails(lowrank_svd(a, 1, o, &f), LOWRANK_ERANGE);
        ck_assert_ptr_null(f);
        ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "overflows float32"));
        lowrank_matrix_free(a);
        a = constant(LOWRANK_FLOAT64, 4, 3, DBL_MAX / 2);
        ck_assert_fails(lowrank_svd(a, 1, o, &f), LOWRANK_ERANGE);
        lowrank_matrix_free(a);
        /* one entry at FLT_MAX: sigma_1 = FLT_MAX exactly */
        a = constant(LOWRANK_FLOAT32, 4, 3, 0);
        ck_assert_ok(lowrank_matrix_set(a, 2, 1, FLT_MAX));
        ck_assert_ok(lowrank_svd(a, 1, o, &f));
        ck_assert_float_eq(((const float *)lowrank_matrix_data(lowrank_factors_s(f)))[0], FLT_MAX);
        lowrank_factors_free(f);
        lowrank_matrix_free(a);
        lowrank_opts_free(o);
    }
}
END_TEST

/* The entry-wise lp in float32 near FLT_MAX: ERANGE where S overflows (it
 * was cost = NaN and a NaN approximation with success), right below. */
START_TEST(lp_entries_float32_near_max)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_OBJECTIVE, LOWRANK_OBJECTIVE_ENTRIES));
    lowrank_matrix *a = test_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 40, 12, 0, 21);
    for (double p = 1; p <= 2; p += 0.5) {
        scale top = {127 - ilogb(lr_matrix_max_abs(a)), 1, 1}, below = {top.log2c - 10, 1, 1};
        lowrank_matrix *big = times(a, &top), *fine = times(a, &below);
        lowrank_factors *f = NULL;
        ck_assert_fails(lowrank_lp(big, 2, p, o, &f), LOWRANK_ERANGE);
        ck_assert_ptr_null(f);
        ck_assert_ok(lowrank_lp(fine, 2, p, o, &f));
        double cost;
        ck_assert_ok(lowrank_lp_cost(fine, f, p, LOWRANK_OBJECTIVE_ENTRIES, &cost));
        ck_assert(isfinite(cost) && cost > 0);
        lowrank_factors_free(f);
        lowrank_matrix_free(big);
        lowrank_matrix_free(fine);
    }
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

/* log2 of sum_i d_i^p over the rows' distances to span(V) of f, from
 * the residual rows, formed through logarithms. */
static double log2_rows_cost(const lowrank_matrix *a, const lowrank_factors *f, double p)
{
    lowrank_matrix *x = approximation(f);
    double d[64], top = 0, sum = 0;
    for (int64_t i = 0; i < a->rows; i++) {
        double s = 0;
        for (int64_t j = 0; j < a->cols; j++) {
            double r = lr_matrix_at(a, i, j) - lr_matrix_at(x, i, j);
            s += r * r;
        }
        d[i] = sqrt(s);
        top = fmax(top, d[i]);
    }
    for (int64_t i = 0; i < a->rows; i++)
        sum += pow(d[i] / top, p);
    lowrank_matrix_free(x);
    return p * log2(top) + log2(sum);
}

/* Costs for large p: right when double holds them (p = 1000 gave inf with
 * success), ERANGE when it does not. */
START_TEST(lp_cost_large_p)
{
    static const double ps[] = {50, 300, 700, 1000, 1e5};
    for (int k = -1; k <= 1; k++) {
        scale sc = {300.0 * k, 1, 1};
        lowrank_matrix *a0 = test_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 40, 6, 0, 22);
        lowrank_matrix *a = times(a0, &sc);
        lowrank_factors *f;
        ck_assert_ok(lowrank_svd(a, 2, NULL, &f));
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
            double want = log2_rows_cost(a, f, ps[i]), cost = NAN;
            int rc = lowrank_lp_cost(a, f, ps[i], LOWRANK_OBJECTIVE_ROWS, &cost);
            if (want > 1024.01 || want < -1022.01) {
                ck_assert_msg(rc == LOWRANK_ERANGE, "p = %g, 2^%g: %s", ps[i], want,
                              lowrank_strerror(rc));
                ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "the cost"));
            } else if (want < 1023.99 && want > -1021.99) {
                ck_assert_ok(rc);
                ck_assert_msg(fabs(log2(cost) - want) < 1e-9 * fmax(1, fabs(want)),
                              "p = %g: log2 cost %.12g, want %.12g", ps[i], log2(cost), want);
            }
        }
        lowrank_factors_free(f);
        lowrank_matrix_free(a);
        lowrank_matrix_free(a0);
    }
}
END_TEST

/* ||y||_p without overflow. */
static double pnorm(const double *y, int64_t n, double p)
{
    double top = 0, s = 0;
    for (int64_t i = 0; i < n; i++)
        top = fmax(top, fabs(y[i]));
    if (top == 0 || isinf(p))
        return top;
    for (int64_t i = 0; i < n; i++)
        s += pow(fabs(y[i]) / top, p);
    return top * pow(s, 1 / p);
}

/* The rounding for large p (1e5 was EDEGENERATE on a full-rank matrix):
 * ||G x|| <= ||A x||_p <= alpha ||G x|| in 200 random directions, alpha
 * within (n d)^(1/p) (1 + eps)^(1/d) of the ideal d^(1/2 - 1/p). */
START_TEST(rounding_large_p)
{
    static const double ps[] = {300, 1000, 1e5, 1e8};
    lr_rng r;
    lr_rng_seed(&r, 5);
    for (size_t ti = 0; ti < 2; ti++)
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
            const int64_t n = 200, d = 5;
            lowrank_matrix *a = random_matrix(dtypes[ti], LOWRANK_ROW_MAJOR, n, d, 40 + i);
            for (int64_t row = 0; row < n; row++) { /* row norms spread over e^+-4 */
                double s = exp(2 * lr_rng_normal(&r));
                for (int64_t j = 0; j < d; j++)
                    ck_assert_ok(lowrank_matrix_set(a, row, j, s * lr_matrix_at(a, row, j)));
            }
            lowrank_matrix *g;
            double alpha, p = ps[i];
            ck_assert_ok(lowrank_lp_rounding(a, p, NULL, &g, &alpha));
            double ideal = pow((double)d, 0.5 - 1 / p);
            ck_assert_msg(alpha >= ideal * (1 - 1e-9) &&
                              alpha <= ideal * pow((double)(n * d), 1 / p) * 1.001,
                          "p = %g: alpha = %g, ideal %g", p, alpha, ideal);
            double slack = dtypes[ti] == LOWRANK_FLOAT32 ? 1e-5 : 1e-12;
            for (int trial = 0; trial < 200; trial++) {
                double x[5], gx2 = 0, y[200];
                for (int64_t j = 0; j < d; j++)
                    x[j] = lr_rng_normal(&r);
                for (int64_t q = 0; q < d; q++) {
                    double v = 0;
                    for (int64_t j = 0; j < d; j++)
                        v += lr_matrix_at(g, q, j) * x[j];
                    gx2 += v * v;
                }
                for (int64_t row = 0; row < n; row++) {
                    y[row] = 0;
                    for (int64_t j = 0; j < d; j++)
                        y[row] += lr_matrix_at(a, row, j) * x[j];
                }
                double ax = pnorm(y, n, p), gx = sqrt(gx2);
                ck_assert_msg(gx <= ax * (1 + slack) && ax <= alpha * gx * (1 + slack),
                              "p = %g: ||Gx|| = %g, ||Ax||_p = %g, alpha = %g", p, gx, ax, alpha);
            }
            lowrank_matrix_free(g);
            lowrank_matrix_free(a);
        }
}
END_TEST

/* A coreset for p = 1000: probabilities from ||G^-1 a||^p overflowed to
 * NaN weights; now finite, positive, for valid rows. */
START_TEST(coreset_large_p)
{
    lowrank_matrix *a = test_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 80, 4, 0, 23);
    lowrank_coreset *c;
    ck_assert_ok(lowrank_coreset_build(a, 1000, 16, NULL, &c));
    const double *w = lowrank_matrix_data(lowrank_coreset_weights(c));
    const int64_t *idx = lowrank_coreset_indices(c);
    ck_assert_int_gt(lowrank_coreset_size(c), 0);
    for (int64_t i = 0; i < lowrank_coreset_size(c); i++) {
        ck_assert_msg(isfinite(w[i]) && w[i] > 0, "weight %g", w[i]);
        ck_assert(idx[i] >= 0 && idx[i] < 80 && (i == 0 || idx[i] > idx[i - 1]));
    }
    lowrank_coreset_free(c);
    lowrank_matrix_free(a);
}
END_TEST

/* An ellipsoid's shape Q scales as 1 / c^2: for float32 points near 1e30 it
 * underflows float32 (it was returned as zeros), for float64 points near
 * 1e-200 it overflows: ERANGE naming it. */
START_TEST(mvee_shape_out_of_range)
{
    lowrank_matrix *p = test_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 30, 3, 0, 24);
    scale big = {100, 1, 1}, tiny = {-660, 1, 1};
    lowrank_matrix *p32 = times(p, &big), *p64, *t64;
    ck_assert_ok(lowrank_matrix_convert(p, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, &p64));
    t64 = times(p64, &tiny);
    lowrank_ellipsoid *e = NULL;
    ck_assert_fails(lowrank_mvee(p32, NULL, &e), LOWRANK_ERANGE);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "the shape Q"));
    ck_assert_fails(lowrank_mvee(t64, NULL, &e), LOWRANK_ERANGE);
    ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "overflows float64"));
    lowrank_matrix_free(p);
    lowrank_matrix_free(p32);
    lowrank_matrix_free(p64);
    lowrank_matrix_free(t64);
}
END_TEST

/* The seed mode by cumulative contribution 1: every direction the centred
 * training frames span, n - 1 of them (it always failed: "rank 10 is not
 * below the 10 training frames"). */
START_TEST(seed_energy_one)
{
    uint8_t *v = video(40, 16, 1, 10, 41);
    const uint8_t *frames[10];
    for (int f = 0; f < 10; f++)
        frames[f] = v + f * 40 * 16;
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_MODE, LOWRANK_BG_MODE_SEED));
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_BG_ENERGY, 1.0));
    lowrank_background *bg;
    uint8_t mask[40 * 16];
    ck_assert_ok(lowrank_background_new(40, 16, 1, o, &bg));
    ck_assert_ok(lowrank_background_train(bg, frames, 10, 40));
    /* a training frame lies in the model's span: nothing moves */
    ck_assert_ok(lowrank_background_apply(bg, frames[3], 40, mask, 40));
    for (int i = 0; i < 40 * 16; i++)
        ck_assert_int_eq(mask[i], 0);
    lowrank_background_free(bg);
    lowrank_opts_free(o);
    free(v);
}
END_TEST

/* LOWRANK_OPT_TOLERANCE's range is [0, 1): 1 is refused and said so (the
 * message said [0, 1]). */
START_TEST(tolerance_range_message)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, 1.0), LOWRANK_ERANGE);
    ck_assert_str_eq(lowrank_last_error(), "LOWRANK_OPT_TOLERANCE = 1 is outside [0, 1)");
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, nextafter(1.0, 0)));
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, 0));
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_BG_ENERGY, 1.5), LOWRANK_ERANGE);
    ck_assert_ptr_nonnull(strstr(lowrank_last_error(), ", 1]"));
    lowrank_opts_free(o);
}
END_TEST

/* ------------------------------------------------------------ allocations */

/* Every entry point on an input whose magnitude needs the scaled copy (and
 * lp_cost with a p that needs its second rescaling): each allocation,
 * the copies' included, fails cleanly. */
typedef struct alloc_case {
    const lowrank_matrix *a, *points;
} alloc_case;

static int scaled_calls(void *arg)
{
    const alloc_case *c = arg;
    lowrank_factors *f = NULL;
    lowrank_ellipsoid *e = NULL;
    lowrank_matrix *g = NULL;
    lowrank_coreset *cs = NULL, *half = NULL, *merged_cs = NULL;
    double cost, alpha;
    int rc = lowrank_lp(c->a, 2, 1.0, NULL, &f);
    double top = 0;
    if (rc == LOWRANK_OK)
        rc = lowrank_lp_cost(c->a, f, INFINITY, LOWRANK_OBJECTIVE_ENTRIES, &top);
    /* top^p = 2^+-950: the cost's second rescaling, with a representable cost */
    double p = 950 / fabs(log2(top));
    if (rc == LOWRANK_OK)
        rc = lowrank_lp_cost(c->a, f, p, LOWRANK_OBJECTIVE_ENTRIES, &cost);
    if (rc == LOWRANK_OK && !(fabs(log2(cost)) > 900))
        rc = OUTPUT_BROKEN;
    if (rc == LOWRANK_OK)
        rc = lowrank_lp_cost(c->a, f, 2.4, LOWRANK_OBJECTIVE_ROWS, &cost);
    if (rc == LOWRANK_OK)
        rc = lowrank_mvee(c->points, NULL, &e);
    if (rc == LOWRANK_OK)
        rc = lowrank_lp_rounding(c->points, 1e5, NULL, &g, &alpha);
    if (rc == LOWRANK_OK)
        rc = lowrank_coreset_build(c->points, 1.0, 8, NULL, &cs);
    if (rc == LOWRANK_OK)
        rc = lowrank_coreset_build(c->points, 1.0, 10, NULL, &half);
    if (rc == LOWRANK_OK)
        rc = lowrank_coreset_merge(cs, half, 6, NULL, &merged_cs);
    lowrank_factors_free(f);
    lowrank_ellipsoid_free(e);
    lowrank_matrix_free(g);
    lowrank_coreset_free(cs);
    lowrank_coreset_free(half);
    lowrank_coreset_free(merged_cs);
    return rc;
}

START_TEST(allocation_failures)
{
    for (size_t ti = 0; ti < 2; ti++) {
        lowrank_matrix *a = test_matrix(dtypes[ti], LOWRANK_ROW_MAJOR, 12, 5, 0, 3);
        lowrank_matrix *p = test_matrix(dtypes[ti], LOWRANK_COL_MAJOR, 20, 3, 0, 4);
        scale tiny = {dtypes[ti] == LOWRANK_FLOAT32 ? -40 : -400, 1, 1};
        scale small = {dtypes[ti] == LOWRANK_FLOAT32 ? -100 : -400, 1, 1};
        lowrank_matrix *ta = times(a, &small), *tp = times(p, &tiny);
        alloc_case c = {ta, tp};
        ck_assert_int_gt(check_alloc_failures(scaled_calls, &c), 20);
        lowrank_matrix_free(a);
        lowrank_matrix_free(p);
        lowrank_matrix_free(ta);
        lowrank_matrix_free(tp);
    }
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("scale");
    TCase *tc = tcase_create("scale");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, svd_scales);
    tcase_add_test(tc, lp_scales);
    tcase_add_test(tc, lp_cost_scales);
    tcase_add_test(tc, mvee_scales);
    tcase_add_test(tc, rounding_scales);
    tcase_add_test(tc, coreset_scales);
    tcase_add_test(tc, background_scales);
    tcase_add_test(tc, allocation_failures);
    suite_add_tcase(s, tc);
    TCase *range = tcase_create("range");
    tcase_set_timeout(range, 60);
    tcase_add_test(range, svd_top_of_range);
    tcase_add_test(range, lp_entries_float32_near_max);
    tcase_add_test(range, lp_cost_large_p);
    tcase_add_test(range, rounding_large_p);
    tcase_add_test(range, coreset_large_p);
    tcase_add_test(range, mvee_shape_out_of_range);
    tcase_add_test(range, seed_energy_one);
    tcase_add_test(range, tolerance_range_message);
    suite_add_tcase(s, range);
    return s;
}

int main(void) { return run_suite(make_suite()); }
