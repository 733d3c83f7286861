/*
 * check_lp_entries.c - the internal entry-wise lp low-rank fit (lib/lp.h):
 * recovery of a planted low-rank matrix under sparse gross corruption, where
 * the SVD fails; the Eckart-Young optimum at p = 2; the weighted median as
 * the closed form of a rank-1 l1 row; a cost that never increases; errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "lp.h"
#include "testutil.h"

static const lowrank_dtype dtypes[] = {LOWRANK_FLOAT32, LOWRANK_FLOAT64};

static double at(lowrank_dtype t, const void *p, size_t i)
{
    return t == LOWRANK_FLOAT32 ? ((const float *)p)[i] : ((const double *)p)[i];
}

static void set(lowrank_dtype t, void *p, size_t i, double v)
{
    if (t == LOWRANK_FLOAT32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

static void *alloc(lowrank_dtype t, int64_t n)
{
    void *p = calloc((size_t)n, lr_dtype_size(t));
    ck_assert_ptr_nonnull(p);
    return p;
}

/* A planted problem: clean = L0 R0 of rank k (N(0,1) factors), x = clean
 * with a fraction of its entries replaced by values of magnitude 20..40,
 * far outside the clean entries' spread (about sqrt(k)), stored column-major
 * with leading dimension ld >= m. */
typedef struct planted {
    lowrank_dtype t;
    int64_t m, n, k, ld;
    double *clean; /* m x n, double */
    void *x;       /* ld x n, dtype t */
} planted;

static planted make_planted(lowrank_dtype t, int64_t m, int64_t n, int64_t k, double fraction,
                            int64_t ld, uint64_t seed)
{
    planted pl = {t, m, n, k, ld, malloc((size_t)(m * n) * sizeof(double)), alloc(t, ld * n)};
    ck_assert_ptr_nonnull(pl.clean);
    lr_rng r;
    lr_rng_seed(&r, seed);
    double *l0 = malloc((size_t)(m * k) * sizeof *l0), *r0 = malloc((size_t)(k * n) * sizeof *r0);
    ck_assert(l0 && r0);
    for (int64_t i = 0; i < m * k; i++)
        l0[i] = lr_rng_normal(&r);
    for (int64_t i = 0; i < k * n; i++)
        r0[i] = lr_rng_normal(&r);
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < m; i++) {
            double s = 0;
            for (int64_t a = 0; a < k; a++)
                s += l0[i + a * m] * r0[a + j * k];
            pl.clean[i + j * m] = s;
            double u = lr_rng_uniform(&r), v = lr_rng_uniform(&r);
            double value = u < fraction ? (v < 0.5 ? -1 : 1) * (20 + 40 * v) : s;
            set(t, pl.x, (size_t)(i + j * ld), value);
        }
    free(l0);
    free(r0);
    return pl;
}

static void free_planted(planted *pl)
{
    free(pl->clean);
    free(pl->x);
}

/* ||L R - clean||_F / ||clean||_F. */
static double relative_error(const planted *pl, const void *l, const void *r)
{
    double num = 0, den = 0;
    for (int64_t j = 0; j < pl->n; j++)
        for (int64_t i = 0; i < pl->m; i++) {
            double s = 0;
            for (int64_t a = 0; a < pl->k; a++)
                s += at(pl->t, l, (size_t)(i + a * pl->m)) * at(pl->t, r, (size_t)(a + j * pl->k));
            double c = pl->clean[i + j * pl->m];
            num += (s - c) * (s - c);
            den += c * c;
        }
    return sqrt(num / den);
}

/* The rank-k truncated SVD of the corrupted matrix, through LAPACK. */
static void truncated_svd(const planted *pl, void *l, void *r)
{
    int64_t m = pl->m, n = pl->n, mn = m < n ? m : n;
    void *a = alloc(pl->t, m * n), *s = alloc(pl->t, mn), *u = alloc(pl->t, m * mn),
         *vt = alloc(pl->t, mn * n);
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < m; i++)
            set(pl->t, a, (size_t)(i + j * m), at(pl->t, pl->x, (size_t)(i + j * pl->ld)));
    ck_assert_ok(lr_gesdd(pl->t, m, n, a, m, s, u, m, vt, mn));
    for (int64_t q = 0; q < pl->k; q++) {
        for (int64_t i = 0; i < m; i++)
            set(pl->t, l, (size_t)(i + q * m),
                at(pl->t, u, (size_t)(i + q * m)) * at(pl->t, s, (size_t)q));
        for (int64_t j = 0; j < n; j++)
            set(pl->t, r, (size_t)(q + j * pl->k), at(pl->t, vt, (size_t)(q + j * mn)));
    }
    free(a);
    free(s);
    free(u);
    free(vt);
}

/* 10% of the entries grossly corrupted: the l1 fit recovers the clean matrix
 * to well under 1% where the SVD is off by more than 10% (here by more than
 * the clean matrix itself). */
START_TEST(l1_recovers_planted_low_rank)
{
    lowrank_dtype t = dtypes[_i];
    planted pl = make_planted(t, 100, 60, 3, 0.10, 107, 11);
    void *l = alloc(t, pl.m * pl.k), *r = alloc(t, pl.k * pl.n);
    truncated_svd(&pl, l, r);
    double svd_error = relative_error(&pl, l, r);
    double cost;
    ck_assert_ok(lr_lp_entrywise_fit(t, pl.m, pl.n, pl.x, pl.ld, pl.k, 1.0, 200, 1e-9, 0, 1, NULL,
                                     l, pl.m, r, pl.k, &cost));
    double l1_error = relative_error(&pl, l, r);
    ck_assert_msg(svd_error > 0.10, "SVD error %g", svd_error);
    ck_assert_msg(l1_error < 0.01, "l1 error %g (SVD %g)", l1_error, svd_error);
    double check;
    ck_assert_ok(
        lr_lp_entrywise_cost(t, pl.m, pl.n, pl.x, pl.ld, pl.k, t, l, pl.m, r, pl.k, 1.0, &check));
    ck_assert_double_eq_tol(cost, check, 1e-6 * check);
    free(l);
    free(r);
    free_planted(&pl);
}
END_TEST

/* From the SVD, every alternation of the refinement lowers the cost or
 * leaves it, for p = 1 and p = 1.5, and the fit ends no higher than the SVD. */
START_TEST(cost_never_increases)
{
    lowrank_dtype t = dtypes[_i / 2];
    double p = _i % 2 ? 1.5 : 1.0;
    planted pl = make_planted(t, 40, 30, 2, 0.15, 40, 12);
    void *l = alloc(t, pl.m * pl.k), *r = alloc(t, pl.k * pl.n);
    truncated_svd(&pl, l, r);
    double start, prev, cost;
    ck_assert_ok(
        lr_lp_entrywise_cost(t, pl.m, pl.n, pl.x, pl.m, pl.k, t, l, pl.m, r, pl.k, p, &start));
    prev = start;
    for (int it = 0; it < 15; it++) {
        ck_assert_ok(lr_lp_entrywise_refine(t, pl.m, pl.n, pl.x, pl.m, pl.k, p, 1, 0, l, pl.m, r,
                                            pl.k, &cost));
        ck_assert_msg(cost <= prev, "iteration %d: cost %.9g > %.9g", it, cost, prev);
        prev = cost;
    }
    /* the corruption is heavy: l1 gains much over the SVD, p = 1.5 less */
    ck_assert_msg(cost < (p == 1 ? 0.8 : 0.97) * start, "15 iterations went from %g to %g only",
                  start, cost);
    double fitted;
    ck_assert_ok(lr_lp_entrywise_fit(t, pl.m, pl.n, pl.x, pl.m, pl.k, p, 50, 1e-6, 0, 1, NULL, l,
                                     pl.m, r, pl.k, &fitted));
    ck_assert_msg(fitted <= start, "fit cost %g above the SVD's %g", fitted, start);
    /* zero iterations: the better of the two starts, no worse than the SVD */
    ck_assert_ok(lr_lp_entrywise_fit(t, pl.m, pl.n, pl.x, pl.m, pl.k, p, 0, 0, 0, 1, NULL, l, pl.m,
                                     r, pl.k, &cost));
    ck_assert_msg(cost <= start * (1 + 1e-6), "cost %g above the SVD's %g", cost, start);
    free(l);
    free(r);
    free_planted(&pl);
}
END_TEST

/* p = 2 is least squares: the fit stays at the truncated SVD, whose cost is
 * the sum of the discarded squared singular values (Eckart-Young). */
START_TEST(p2_is_eckart_young)
{
    lowrank_dtype t = dtypes[_i];
    planted pl = make_planted(t, 30, 20, 2, 0.0, 30, 13);
    lr_rng rng;
    lr_rng_seed(&rng, 14);
    for (int64_t i = 0; i < pl.m * pl.n; i++) /* full rank, with a rank-2 dominant part */
        set(t, pl.x, (size_t)i, at(t, pl.x, (size_t)i) + 0.1 * lr_rng_normal(&rng));
    void *a = alloc(t, pl.m * pl.n), *s = alloc(t, pl.n);
    memcpy(a, pl.x, (size_t)(pl.m * pl.n) * lr_dtype_size(t));
    ck_assert_ok(lr_gesdd(t, pl.m, pl.n, a, pl.m, s, NULL, 1, NULL, 1));
    double tail = 0;
    for (int64_t q = pl.k; q < pl.n; q++)
        tail += at(t, s, (size_t)q) * at(t, s, (size_t)q);
    void *l = alloc(t, pl.m * pl.k), *r = alloc(t, pl.k * pl.n);
    double cost;
    ck_assert_ok(lr_lp_entrywise_fit(t, pl.m, pl.n, pl.x, pl.m, pl.k, 2.0, 20, 0, 0, 1, NULL, l,
                                     pl.m, r, pl.k, &cost));
    ck_assert_double_eq_tol(cost, tail, (t == LOWRANK_FLOAT32 ? 1e-3 : 1e-9) * tail);
    free(a);
    free(s);
    free(l);
    free(r);
    free_planted(&pl);
}
END_TEST

static int by_ratio(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* With a rank-1 right factor r > 0, the l1-best row coefficient is the
 * weighted median of x_j / r_j with weights r_j.  Two rows, one per layout
 * of the answer: the second row is the first scaled by -2. */
START_TEST(l1_row_is_weighted_median)
{
    lowrank_dtype t = dtypes[_i];
    enum { n = 25 };
    void *x = alloc(t, 2 * n), *r = alloc(t, n), *l = alloc(t, 2);
    double pairs[n][2], total = 0;
    lr_rng rng;
    lr_rng_seed(&rng, 15);
    for (int j = 0; j < n; j++) {
        double rj = 0.5 + lr_rng_uniform(&rng), xj = 3 * lr_rng_normal(&rng);
        set(t, r, (size_t)j, rj);
        set(t, x, (size_t)(2 * j), xj);
        set(t, x, (size_t)(2 * j + 1), -2 * xj);
        pairs[j][0] = at(t, x, (size_t)(2 * j)) / at(t, r, (size_t)j); /* as stored */
        pairs[j][1] = at(t, r, (size_t)j);
        total += pairs[j][1];
    }
    qsort(pairs, n, sizeof pairs[0], by_ratio);
    double acc = 0, median = 0;
    for (int j = 0; j < n && acc < total / 2; j++) {
        acc += pairs[j][1];
        median = pairs[j][0];
    }
    ck_assert_ok(lr_lp_entrywise_left(t, 2, n, x, 2, 1, r, 1, 1.0, 200, 0, l, 2));
    /* IRLS floors residuals at a millionth of max |x|: the answer is that
     * close to the exact weighted median, which is O(1) from the mean */
    double tol = 1e-4;
    ck_assert_double_eq_tol(at(t, l, 0), median, tol * (1 + fabs(median)));
    ck_assert_double_eq_tol(at(t, l, 1), -2 * median, tol * (1 + fabs(median)));
    /* p = 2, one step: the least-squares coefficient sum x r / sum r^2 */
    double sxr = 0, srr = 0;
    for (int j = 0; j < n; j++) {
        sxr += at(t, x, (size_t)(2 * j)) * at(t, r, (size_t)j);
        srr += at(t, r, (size_t)j) * at(t, r, (size_t)j);
    }
    set(t, l, 0, 0);
    ck_assert_ok(lr_lp_entrywise_left(t, 1, n, x, 2, 1, r, 1, 2.0, 1, 0, l, 1));
    ck_assert_double_eq_tol(at(t, l, 0), sxr / srr, tol);
    free(x);
    free(r);
    free(l);
}
END_TEST

START_TEST(errors)
{
    const lowrank_dtype t = LOWRANK_FLOAT64;
    double x[12] = {0}, l[8] = {0}, r[8] = {0}, cost;
    ck_assert_fails(
        lr_lp_entrywise_fit(t, 4, 3, NULL, 4, 1, 1, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost),
        LOWRANK_EINVAL);
    ck_assert_fails(
        lr_lp_entrywise_fit(t, 4, 3, x, 4, 1, 1, 5, 0, 0, 1, NULL, NULL, 4, r, 1, &cost),
        LOWRANK_EINVAL);
    ck_assert_fails(
        lr_lp_entrywise_fit(t, 4, 3, x, 4, 1, 1, 5, 0, 0, 1, NULL, l, 4, NULL, 1, &cost),
        LOWRANK_EINVAL);
    ck_assert_fails(lr_lp_entrywise_fit(t, 4, 3, x, 4, 1, 1, 5, 0, 0, 1, NULL, l, 4, r, 1, NULL),
                    LOWRANK_EINVAL);
    ck_assert_fails(lr_lp_entrywise_fit((lowrank_dtype)7, 4, 3, x, 4, 1, 1, 5, 0, 0, 1, NULL, l, 4,
                                        r, 1, &cost),
                    LOWRANK_EINVAL);
    ck_assert_fails(lr_lp_entrywise_fit(t, 0, 3, x, 4, 1, 1, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost),
                    LOWRANK_ESIZE);
    ck_assert_fails(lr_lp_entrywise_fit(t, 4, -1, x, 4, 1, 1, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost),
                    LOWRANK_ESIZE);
    ck_assert_fails(lr_lp_entrywise_fit(t, 4, 3, x, 3, 1, 1, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost),
                    LOWRANK_ESIZE);
    ck_assert_fails(lr_lp_entrywise_fit(t, 4, 3, x, 4, 1, 1, 5, 0, 0, 1, NULL, l, 3, r, 1, &cost),
                    LOWRANK_ESIZE);
    ck_assert_fails(lr_lp_entrywise_fit(t, 4, 3, x, 4, 2, 1, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost),
                    LOWRANK_ESIZE);
    ck_assert_fails(lr_lp_entrywise_fit(t, 4, 3, x, 4, 0, 1, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost),
                    LOWRANK_ERANGE);
    ck_assert_fails(lr_lp_entrywise_fit(t, 4, 3, x, 4, 4, 1, 5, 0, 0, 1, NULL, l, 4, r, 4, &cost),
                    LOWRANK_ERANGE);
    ck_assert_str_eq(lowrank_last_error(),
                     "lr_lp_entrywise_fit: k = 4 is outside [1, min(rows, cols) = 3]");
    ck_assert_fails(
        lr_lp_entrywise_fit(t, 4, 3, x, 4, 1, 0.5, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost),
        LOWRANK_ERANGE);
    ck_assert_fails(
        lr_lp_entrywise_fit(t, 4, 3, x, 4, 1, 2.5, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost),
        LOWRANK_ERANGE);
    ck_assert_fails(
        lr_lp_entrywise_fit(t, 4, 3, x, 4, 1, NAN, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost),
        LOWRANK_ERANGE);
    ck_assert_fails(lr_lp_entrywise_fit(t, 4, 3, x, 4, 1, 1, -1, 0, 0, 1, NULL, l, 4, r, 1, &cost),
                    LOWRANK_ERANGE);
    ck_assert_fails(lr_lp_entrywise_refine(t, 4, 3, x, 4, 1, 1, 5, -1e-3, l, 4, r, 1, &cost),
                    LOWRANK_ERANGE);
    ck_assert_fails(lr_lp_entrywise_left(t, 4, 3, x, 4, 1, r, 1, 1, -1, 0, l, 4), LOWRANK_ERANGE);
    ck_assert_fails(lr_lp_entrywise_left(t, 4, 3, x, 4, 1, NULL, 1, 1, 1, 0, l, 4),
                    LOWRANK_EINVAL);
    ck_assert_fails(lr_lp_entrywise_cost(t, 4, 3, x, 4, 1, t, l, 4, r, 1, 1, NULL),
                    LOWRANK_EINVAL);
    x[5] = NAN;
    ck_assert_fails(lr_lp_entrywise_fit(t, 4, 3, x, 4, 1, 1, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost),
                    LOWRANK_ENONFINITE);
    x[5] = INFINITY;
    ck_assert_fails(lr_lp_entrywise_left(t, 4, 3, x, 4, 1, r, 1, 1, 1, 0, l, 4),
                    LOWRANK_ENONFINITE);
    ck_assert_fails(lr_lp_entrywise_cost(t, 4, 3, x, 4, 1, t, l, 4, r, 1, 1, &cost),
                    LOWRANK_ENONFINITE);
    /* the zero matrix is fitted exactly */
    x[5] = 0;
    ck_assert_ok(lr_lp_entrywise_fit(t, 4, 3, x, 4, 1, 1, 5, 0, 0, 1, NULL, l, 4, r, 1, &cost));
    ck_assert_double_eq(cost, 0);
}
END_TEST

typedef struct fit_call {
    lowrank_dtype t;
    void *x, *l, *r;
} fit_call;

static int fit_once(void *ctx)
{
    fit_call *c = ctx;
    double cost;
    int rc =
        lr_lp_entrywise_fit(c->t, 6, 5, c->x, 6, 2, 1, 3, 0, 0, 1, NULL, c->l, 6, c->r, 2, &cost);
    if (rc == LOWRANK_OK)
        rc = lr_lp_entrywise_left(c->t, 6, 5, c->x, 6, 2, c->r, 2, 1, 3, 1e-3, c->l, 6);
    return rc;
}

START_TEST(allocation_failure)
{
    lowrank_dtype t = dtypes[_i];
    planted pl = make_planted(t, 6, 5, 2, 0.2, 6, 16);
    fit_call c = {t, pl.x, alloc(t, 12), alloc(t, 10)};
    /* fit: workspace 1, starts 4, and the two truncated SVDs' own (lowrank_svd's
     * business: their count depends on its route); left: workspace 1 */
    ck_assert_int_ge(check_alloc_failures(fit_once, &c), 6);
    free(c.l);
    free(c.r);
    free_planted(&pl);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("lp_entries");
    TCase *tc = tcase_create("lp_entries");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, l1_recovers_planted_low_rank, 0, 2);
    tcase_add_loop_test(tc, cost_never_increases, 0, 4);
    tcase_add_loop_test(tc, p2_is_eckart_young, 0, 2);
    tcase_add_loop_test(tc, l1_row_is_weighted_median, 0, 2);
    tcase_add_test(tc, errors);
    tcase_add_loop_test(tc, allocation_failure, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
