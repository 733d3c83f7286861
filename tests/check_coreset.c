/*
 * check_coreset.c - sensitivity-sampling coresets: weighted costs against
 * the full costs for random subspaces and regression vectors, unbiasedness
 * over seeds, merge-and-reduce of pieces with global row numbers, and every
 * error path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

static const lowrank_dtype dtypes[] = {LOWRANK_FLOAT32, LOWRANK_FLOAT64};
static const lowrank_layout layouts[] = {LOWRANK_ROW_MAJOR, LOWRANK_COL_MAJOR};

/* Rows of very different sizes (a few hundred times the rest), so that
 * uniform sampling would miss what matters. */
static lowrank_matrix *heavy_rows(lowrank_dtype t, lowrank_layout l, int64_t n, int64_t d,
                                  uint64_t seed)
{
    lowrank_matrix *a = random_matrix(t, l, n, d, seed);
    lr_rng r;
    lr_rng_seed(&r, seed + 1);
    for (int64_t i = 0; i < n; i++) {
        double s = exp(2 * lr_rng_normal(&r));
        for (int64_t j = 0; j < d; j++)
            ck_assert_ok(lowrank_matrix_set(a, i, j, s * lr_matrix_at(a, i, j)));
    }
    return a;
}

/* sum_i w_i dist(x_i, S)^p for the span S of the k orthonormal columns of
 * basis (d x k, column-major); w NULL means 1. */
static double subspace_cost(const lowrank_matrix *x, const double *w, const double *basis,
                            int64_t k, double p)
{
    int64_t n = lowrank_matrix_rows(x), d = lowrank_matrix_cols(x);
    double total = 0, row[16];
    for (int64_t i = 0; i < n; i++) {
        double norm2 = 0, proj2 = 0;
        for (int64_t j = 0; j < d; j++) {
            row[j] = lr_matrix_at(x, i, j);
            norm2 += row[j] * row[j];
        }
        for (int64_t c = 0; c < k; c++) {
            double s = 0;
            for (int64_t j = 0; j < d; j++)
                s += row[j] * basis[j + c * d];
            proj2 += s * s;
        }
        double dist = sqrt(fmax(norm2 - proj2, 0));
        total += (w ? w[i] : 1) * (p == 1 ? dist : pow(dist, p));
    }
    return total;
}

/* A random k-dimensional subspace of R^d by Gram-Schmidt. */
static void random_subspace(int64_t d, int64_t k, lr_rng *r, double *basis)
{
    for (int64_t c = 0; c < k; c++) {
        double *v = basis + c * d, norm = 0;
        for (int64_t j = 0; j < d; j++)
            v[j] = lr_rng_normal(r);
        for (int64_t b = 0; b < c; b++) {
            double s = 0;
            for (int64_t j = 0; j < d; j++)
                s += v[j] * basis[j + b * d];
            for (int64_t j = 0; j < d; j++)
                v[j] -= s * basis[j + b * d];
        }
        for (int64_t j = 0; j < d; j++)
            norm += v[j] * v[j];
        for (int64_t j = 0; j < d; j++)
            v[j] /= sqrt(norm);
    }
}

static lowrank_opts *coreset_opts(int64_t seed, int64_t offset, int64_t method)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_SEED, seed));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_ROW_OFFSET, offset));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, method));
    return o;
}

static const double *weights(const lowrank_coreset *c)
{
    return lowrank_matrix_data(lowrank_coreset_weights(c));
}

/* The coreset's rows are a's rows at its indices (minus offset), in
 * increasing order, with positive weights. */
static void check_rows(const lowrank_coreset *c, const lowrank_matrix *a, int64_t offset)
{
    const int64_t *idx = lowrank_coreset_indices(c);
    const lowrank_matrix *pts = lowrank_coreset_points(c);
    ck_assert_int_eq(lowrank_matrix_dtype(pts), lowrank_matrix_dtype(a));
    ck_assert_int_eq(lowrank_matrix_layout(pts), lowrank_matrix_layout(a));
    ck_assert_int_eq(lowrank_matrix_rows(pts), lowrank_coreset_size(c));
    for (int64_t k = 0; k < lowrank_coreset_size(c); k++) {
        int64_t i = idx[k] - offset;
        ck_assert(i >= 0 && i < lowrank_matrix_rows(a));
        ck_assert(k == 0 || idx[k] > idx[k - 1]);
        ck_assert(weights(c)[k] > 0);
        for (int64_t j = 0; j < lowrank_matrix_cols(a); j++)
            ck_assert_double_eq(lr_matrix_at(pts, k, j), lr_matrix_at(a, i, j));
    }
}

/* For 20 random 2-dimensional subspaces the coreset's cost is within 10%
 * of the full cost, with both rounding methods, dtypes and layouts. */
START_TEST(coreset_cost_approximates_full_cost)
{
    lowrank_dtype t = dtypes[_i % 2];
    lowrank_layout l = layouts[(_i / 2) % 2];
    int64_t method = (_i + _i / 2) % 2 ? LOWRANK_METHOD_LOWNER : LOWRANK_METHOD_LEWIS;
    const int64_t n = 3000, d = 5, m = 800, k = 2;
    const double p = _i % 3 ? 1 : 1.5;
    lowrank_matrix *a = heavy_rows(t, l, n, d, 40 + (uint64_t)_i);
    lowrank_opts *o = coreset_opts(7, 100, method);
    lowrank_coreset *c = NULL;
    ck_assert_ok(lowrank_coreset_build(a, p, m, o, &c));
    ck_assert(lowrank_coreset_size(c) >= 1 && lowrank_coreset_size(c) <= m);
    check_rows(c, a, 100);
    lr_rng r;
    lr_rng_seed(&r, 3);
    double basis[10], worst = 0;
    for (int trial = 0; trial < 20; trial++) {
        random_subspace(d, k, &r, basis);
        double full = subspace_cost(a, NULL, basis, k, p);
        double approx = subspace_cost(lowrank_coreset_points(c), weights(c), basis, k, p);
        worst = fmax(worst, fabs(approx / full - 1));
    }
    ck_assert_msg(worst < 0.1, "worst relative error %g", worst);
    lowrank_coreset_free(c);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
}
END_TEST

/* Over 100 seeds the mean coreset cost of a fixed subspace and of a fixed
 * regression vector (the cost of the 0-dimensional subspace, ||A x||_1 for
 * the unit x normal to it) is the full cost, within 4 standard errors. */
START_TEST(coreset_cost_is_unbiased)
{
    const int64_t n = 300, d = 3, m = 30, seeds = 100;
    lowrank_matrix *a = heavy_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, 17);
    double basis[3] = {0.6, 0.8, 0}, full[2], sum[2] = {0, 0}, sum2[2] = {0, 0};
    for (int64_t k = 0; k <= 1; k++)
        full[k] = subspace_cost(a, NULL, basis, k, 1);
    for (int64_t s = 0; s < seeds; s++) {
        lowrank_opts *o = coreset_opts(s, 0, LOWRANK_METHOD_LEWIS);
        lowrank_coreset *c = NULL;
        ck_assert_ok(lowrank_coreset_build(a, 1, m, o, &c));
        for (int64_t k = 0; k <= 1; k++) {
            double v = subspace_cost(lowrank_coreset_points(c), weights(c), basis, k, 1);
            sum[k] += v;
            sum2[k] += v * v;
        }
        lowrank_coreset_free(c);
        lowrank_opts_free(o);
    }
    for (int64_t k = 0; k <= 1; k++) {
        double mean = sum[k] / (double)seeds, var = sum2[k] / (double)seeds - mean * mean;
        double se = sqrt(var / (double)seeds);
        ck_assert_msg(fabs(mean - full[k]) < 4 * se, "k = %lld: mean %g, full %g, se %g",
                      (long long)k, mean, full[k], se);
        ck_assert(se < 0.1 * full[k]); /* and the sampling is worth something */
    }
    lowrank_matrix_free(a);
}
END_TEST

/* The same seed draws the same rows; another seed, others; m >= n keeps
 * every row with weight 1. */
START_TEST(coreset_is_seeded_and_exact_when_small)
{
    lowrank_matrix *a = heavy_rows(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 200, 3, 5);
    lowrank_opts *o1 = coreset_opts(1, 0, LOWRANK_METHOD_AUTO);
    lowrank_opts *o2 = coreset_opts(2, 0, LOWRANK_METHOD_AUTO);
    lowrank_coreset *c1, *c1b, *c2, *all;
    ck_assert_ok(lowrank_coreset_build(a, 1, 40, o1, &c1));
    ck_assert_ok(lowrank_coreset_build(a, 1, 40, o1, &c1b));
    ck_assert_ok(lowrank_coreset_build(a, 1, 40, o2, &c2));
    ck_assert_int_eq(lowrank_coreset_size(c1), lowrank_coreset_size(c1b));
    ck_assert(memcmp(lowrank_coreset_indices(c1), lowrank_coreset_indices(c1b),
                     (size_t)lowrank_coreset_size(c1) * sizeof(int64_t)) == 0);
    ck_assert(lowrank_coreset_size(c1) != lowrank_coreset_size(c2) ||
              memcmp(lowrank_coreset_indices(c1), lowrank_coreset_indices(c2),
                     (size_t)lowrank_coreset_size(c1) * sizeof(int64_t)) != 0);
    ck_assert_ok(lowrank_coreset_build(a, 3, 200, o1, &all));
    ck_assert_int_eq(lowrank_coreset_size(all), 200);
    check_rows(all, a, 0);
    for (int64_t k = 0; k < 200; k++)
        ck_assert_double_eq(weights(all)[k], 1);
    lowrank_coreset_free(c1);
    lowrank_coreset_free(c1b);
    lowrank_coreset_free(c2);
    lowrank_coreset_free(all);
    lowrank_opts_free(o1);
    lowrank_opts_free(o2);
    lowrank_matrix_free(a);
}
END_TEST

/* Two halves of a matrix, each with its global row offset, merged and
 * reduced: the indices name rows of the whole matrix and the cost is close
 * to the whole matrix's. */
START_TEST(coreset_merge_and_reduce)
{
    const int64_t n = 4000, d = 4, half = n / 2, m = 800;
    lowrank_matrix *a = heavy_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, 23), *part[2];
    lowrank_coreset *c[2], *merged, *whole;
    for (int h = 0; h < 2; h++) {
        ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, half, d,
                                         (double *)lowrank_matrix_data(a) + h * half * d, d,
                                         &part[h]));
        lowrank_opts *o = coreset_opts(h + 1, h * half, LOWRANK_METHOD_LEWIS);
        ck_assert_ok(lowrank_coreset_build(part[h], 1, m, o, &c[h]));
        lowrank_opts_free(o);
    }
    lowrank_opts *o = coreset_opts(9, 0, LOWRANK_METHOD_LEWIS);
    ck_assert_ok(lowrank_coreset_merge(c[0], c[1], m, o, &merged));
    ck_assert(lowrank_coreset_size(merged) <= m);
    /* the union is returned whole when it fits */
    ck_assert_ok(lowrank_coreset_merge(c[0], c[1], 2 * m, o, &whole));
    ck_assert_int_eq(lowrank_coreset_size(whole),
                     lowrank_coreset_size(c[0]) + lowrank_coreset_size(c[1]));
    const int64_t *idx = lowrank_coreset_indices(merged);
    for (int64_t k = 0; k < lowrank_coreset_size(merged); k++)
        for (int64_t j = 0; j < d; j++)
            ck_assert_double_eq(lr_matrix_at(lowrank_coreset_points(merged), k, j),
                                lr_matrix_at(a, idx[k], j));
    lr_rng r;
    lr_rng_seed(&r, 4);
    double basis[8];
    for (int trial = 0; trial < 10; trial++) {
        random_subspace(d, 2, &r, basis);
        double full = subspace_cost(a, NULL, basis, 2, 1);
        double approx = subspace_cost(lowrank_coreset_points(merged), weights(merged), basis, 2, 1);
        double both = subspace_cost(lowrank_coreset_points(whole), weights(whole), basis, 2, 1);
        ck_assert_msg(fabs(approx / full - 1) < 0.1, "merged: %g vs %g", approx, full);
        ck_assert_msg(fabs(both / full - 1) < 0.1, "union: %g vs %g", both, full);
    }
    lowrank_coreset_free(merged);
    lowrank_coreset_free(whole);
    for (int h = 0; h < 2; h++) {
        lowrank_coreset_free(c[h]);
        lowrank_matrix_free(part[h]);
    }
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
}
END_TEST

/* A coreset rebuilt from its parts (as a process receiving one does) is the
 * same coreset: it merges with another exactly as the original does. */
START_TEST(coreset_from_parts)
{
    lowrank_matrix *a = heavy_rows(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 600, 3, 5);
    lowrank_opts *o = coreset_opts(3, 1000, LOWRANK_METHOD_LEWIS);
    lowrank_coreset *c, *copy, *m1, *m2;
    ck_assert_ok(lowrank_coreset_build(a, 1.5, 100, o, &c));
    ck_assert_ok(lowrank_coreset_new(lowrank_coreset_points(c), lowrank_coreset_weights(c),
                                     lowrank_coreset_indices(c), 1.5, &copy));
    int64_t size = lowrank_coreset_size(c);
    ck_assert_int_eq(lowrank_coreset_size(copy), size);
    for (int64_t i = 0; i < size; i++) {
        ck_assert_int_eq(lowrank_coreset_indices(copy)[i], lowrank_coreset_indices(c)[i]);
        ck_assert_double_eq(weights(copy)[i], weights(c)[i]);
        for (int64_t j = 0; j < 3; j++)
            ck_assert_double_eq(lr_matrix_at(lowrank_coreset_points(copy), i, j),
                                lr_matrix_at(lowrank_coreset_points(c), i, j));
    }
    ck_assert_ok(lowrank_coreset_merge(c, c, 50, o, &m1));
    ck_assert_ok(lowrank_coreset_merge(copy, c, 50, o, &m2));
    ck_assert_int_eq(lowrank_coreset_size(m1), lowrank_coreset_size(m2));
    for (int64_t i = 0; i < lowrank_coreset_size(m1); i++) {
        ck_assert_int_eq(lowrank_coreset_indices(m1)[i], lowrank_coreset_indices(m2)[i]);
        ck_assert_double_eq(weights(m1)[i], weights(m2)[i]);
    }
    lowrank_coreset_free(m1);
    lowrank_coreset_free(m2);
    lowrank_coreset_free(copy);
    /* indices NULL: 0, 1, ... */
    ck_assert_ok(lowrank_coreset_new(lowrank_coreset_points(c), lowrank_coreset_weights(c), NULL,
                                     1.5, &copy));
    ck_assert_int_eq(lowrank_coreset_indices(copy)[size - 1], size - 1);
    lowrank_coreset_free(copy);
    lowrank_coreset_free(c);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
}
END_TEST

START_TEST(coreset_new_errors)
{
    lowrank_matrix *pts = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 4, 2, 7), *w, *w32,
                   *w3;
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 4, 1, &w));
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 4, 1, &w32));
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 3, 1, &w3));
    for (int64_t i = 0; i < 4; i++)
        ck_assert_ok(lowrank_matrix_set(w, i, 0, 1 + (double)i));
    int64_t idx[4] = {5, 6, 7, 8};
    lowrank_coreset *c = (lowrank_coreset *)&c;
    ck_assert_fails(lowrank_coreset_new(pts, w, idx, 1, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_coreset_new(NULL, w, idx, 1, &c), LOWRANK_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_fails(lowrank_coreset_new(pts, NULL, idx, 1, &c), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_coreset_new(pts, w32, idx, 1, &c), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_coreset_new(pts, w3, idx, 1, &c), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_coreset_new(pts, w, idx, 0.5, &c), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_coreset_new(pts, w, idx, INFINITY, &c), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_coreset_new(pts, w, idx, NAN, &c), LOWRANK_ERANGE);
    idx[2] = -1;
    ck_assert_fails(lowrank_coreset_new(pts, w, idx, 1, &c), LOWRANK_ERANGE);
    idx[2] = 7;
    ck_assert_ok(lowrank_matrix_set(w, 1, 0, 0));
    ck_assert_fails(lowrank_coreset_new(pts, w, idx, 1, &c), LOWRANK_ERANGE);
    ck_assert_ok(lowrank_matrix_set(w, 1, 0, NAN));
    ck_assert_fails(lowrank_coreset_new(pts, w, idx, 1, &c), LOWRANK_ENONFINITE);
    ck_assert_ok(lowrank_matrix_set(w, 1, 0, 1));
    ck_assert_ok(lowrank_matrix_set(pts, 2, 1, INFINITY));
    ck_assert_fails(lowrank_coreset_new(pts, w, idx, 1, &c), LOWRANK_ENONFINITE);
    ck_assert_ptr_null(c);
    lowrank_matrix_free(pts);
    lowrank_matrix_free(w);
    lowrank_matrix_free(w32);
    lowrank_matrix_free(w3);
}
END_TEST

START_TEST(coreset_errors)
{
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 20, 3, 1);
    lowrank_matrix *a32 = random_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 20, 3, 1);
    lowrank_matrix *a4 = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 20, 4, 1);
    lowrank_coreset *c = (lowrank_coreset *)&c, *ok, *ok32, *ok4, *ok3;
    ck_assert_fails(lowrank_coreset_build(a, 1, 5, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_coreset_build(NULL, 1, 5, NULL, &c), LOWRANK_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_fails(lowrank_coreset_build(a, 0.9, 5, NULL, &c), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_coreset_build(a, NAN, 5, NULL, &c), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_coreset_build(a, INFINITY, 5, NULL, &c), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_coreset_build(a, 1, 0, NULL, &c), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_coreset_build(a, 1, -3, NULL, &c), LOWRANK_ESIZE);
    lowrank_opts *o = coreset_opts(1, INT64_MAX - 5, LOWRANK_METHOD_RANDOMIZED);
    ck_assert_fails(lowrank_coreset_build(a, 1, 5, o, &c), LOWRANK_ERANGE);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, LOWRANK_METHOD_LEWIS));
    ck_assert_fails(lowrank_coreset_build(a, 1, 5, o, &c), LOWRANK_EOVERFLOW);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_ROW_OFFSET, -1), LOWRANK_ERANGE);
    lowrank_opts_free(o);
    ck_assert_ok(lowrank_coreset_build(a, 1, 5, NULL, &ok));
    ck_assert_ok(lowrank_coreset_build(a, 1.5, 5, NULL, &ok3));
    ck_assert_ok(lowrank_coreset_build(a32, 1, 5, NULL, &ok32));
    ck_assert_ok(lowrank_coreset_build(a4, 1, 5, NULL, &ok4));
    ck_assert_ok(lowrank_matrix_set(a, 7, 2, INFINITY));
    ck_assert_fails(lowrank_coreset_build(a, 1, 5, NULL, &c), LOWRANK_ENONFINITE);
    for (int64_t i = 0; i < 20; i++) /* rank 2 */
        ck_assert_ok(lowrank_matrix_set(a, i, 2, lr_matrix_at(a, i, 0) - lr_matrix_at(a, i, 1)));
    ck_assert_fails(lowrank_coreset_build(a, 1, 5, NULL, &c), LOWRANK_EDEGENERATE);
    ck_assert_ptr_null(c);
    /* merge */
    ck_assert_fails(lowrank_coreset_merge(ok, ok, 5, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_coreset_merge(NULL, ok, 5, NULL, &c), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_coreset_merge(ok, NULL, 5, NULL, &c), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_coreset_merge(ok, ok3, 5, NULL, &c), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_coreset_merge(ok, ok32, 5, NULL, &c), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_coreset_merge(ok, ok4, 5, NULL, &c), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_coreset_merge(ok, ok, 0, NULL, &c), LOWRANK_ESIZE);
    ck_assert_ptr_null(c);
    /* accessors on NULL */
    ck_assert_int_eq(lowrank_coreset_size(NULL), 0);
    ck_assert_ptr_null(lowrank_coreset_indices(NULL));
    ck_assert_ptr_null(lowrank_coreset_weights(NULL));
    ck_assert_ptr_null(lowrank_coreset_points(NULL));
    lowrank_coreset_free(NULL);
    lowrank_coreset_free(ok);
    lowrank_coreset_free(ok3);
    lowrank_coreset_free(ok32);
    lowrank_coreset_free(ok4);
    lowrank_matrix_free(a);
    lowrank_matrix_free(a32);
    lowrank_matrix_free(a4);
}
END_TEST

typedef struct call_ctx {
    const lowrank_matrix *a;
    const lowrank_coreset *c;
    lowrank_opts *opts;
} call_ctx;

static int build_call(void *ctx)
{
    const call_ctx *x = ctx;
    lowrank_coreset *c = (lowrank_coreset *)&c;
    int rc = lowrank_coreset_build(x->a, 1, 10, x->opts, &c);
    rc = output_status(rc, c);
    lowrank_coreset_free(c);
    return rc;
}

static int new_call(void *ctx)
{
    const call_ctx *x = ctx;
    lowrank_coreset *c = (lowrank_coreset *)&c;
    int rc = lowrank_coreset_new(lowrank_coreset_points(x->c), lowrank_coreset_weights(x->c),
                                 lowrank_coreset_indices(x->c), 1, &c);
    rc = output_status(rc, c);
    lowrank_coreset_free(c);
    return rc;
}

static int merge_call(void *ctx)
{
    const call_ctx *x = ctx;
    lowrank_coreset *c = (lowrank_coreset *)&c;
    int rc = lowrank_coreset_merge(x->c, x->c, 10, x->opts, &c);
    rc = output_status(rc, c);
    lowrank_coreset_free(c);
    return rc;
}

START_TEST(coreset_allocation_failure)
{
    lowrank_matrix *a = heavy_rows(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 40, 3, 2);
    call_ctx x = {a, NULL, coreset_opts(1, 0, _i ? LOWRANK_METHOD_LOWNER : LOWRANK_METHOD_LEWIS)};
    ck_assert(check_alloc_failures(build_call, &x) > 5);
    lowrank_coreset *c;
    ck_assert_ok(lowrank_coreset_build(a, 1, 30, x.opts, &c));
    x.c = c;
    ck_assert(check_alloc_failures(merge_call, &x) > 5);
    ck_assert(check_alloc_failures(new_call, &x) > 3);
    lowrank_coreset_free(c);
    lowrank_opts_free(x.opts);
    lowrank_matrix_free(a);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("coreset");
    TCase *tc = tcase_create("coreset");
    tcase_add_loop_test(tc, coreset_cost_approximates_full_cost, 0, 4);
    tcase_add_test(tc, coreset_cost_is_unbiased);
    tcase_add_test(tc, coreset_is_seeded_and_exact_when_small);
    tcase_add_test(tc, coreset_merge_and_reduce);
    tcase_add_test(tc, coreset_errors);
    tcase_add_test(tc, coreset_from_parts);
    tcase_add_test(tc, coreset_new_errors);
    tcase_add_loop_test(tc, coreset_allocation_failure, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
