/*
 * check_lp.c - lowrank_lp and lowrank_lp_cost: p = 2 reproduces the SVD;
 * refinement never raises the objective; the l1 fit recovers a planted
 * subspace among outliers (the haystack model) and a planted low-rank matrix
 * under gross corruption of single entries, where the SVD fails; the cost
 * against a direct computation; both dtypes, layouts and orientations;
 * points that span fewer dimensions than they have; errors and allocation
 * failure.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "factors.h"
#include "internal.h"
#include "testutil.h"

static const lowrank_dtype dtypes[] = {LOWRANK_FLOAT32, LOWRANK_FLOAT64};
static const lowrank_layout layouts[] = {LOWRANK_ROW_MAJOR, LOWRANK_COL_MAJOR};

static double get(const lowrank_matrix *m, int64_t i, int64_t j)
{
    double v;
    ck_assert_ok(lowrank_matrix_get(m, i, j, &v));
    return v;
}

static lowrank_matrix *new_matrix(lowrank_dtype t, lowrank_layout layout, int64_t rows,
                                  int64_t cols)
{
    lowrank_matrix *m;
    ck_assert_ok(lowrank_matrix_new(t, layout, rows, cols, &m));
    return m;
}

/* The rows x cols column-major doubles x as a matrix of the given kind. */
static lowrank_matrix *from_doubles(lowrank_dtype t, lowrank_layout layout, int64_t rows,
                                    int64_t cols, const double *x)
{
    lowrank_matrix *m = new_matrix(t, layout, rows, cols);
    for (int64_t j = 0; j < cols; j++)
        for (int64_t i = 0; i < rows; i++)
            ck_assert_ok(lowrank_matrix_set(m, i, j, x[i + j * rows]));
    return m;
}

static lowrank_opts *options(int64_t method, int64_t objective, int64_t orientation,
                             int64_t refine)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, method));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_OBJECTIVE, objective));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_ORIENTATION, orientation));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_REFINE_ITER, refine));
    return o;
}

/* Column q of the fitted basis: V (rows orientation) or U (columns), as
 * doubles into b (d x k column-major). */
static void basis_of(const lowrank_factors *f, int cols, double *b)
{
    int64_t k = lowrank_factors_rank(f);
    int64_t d = cols ? lowrank_factors_rows(f) : lowrank_factors_cols(f);
    for (int64_t q = 0; q < k; q++)
        for (int64_t j = 0; j < d; j++)
            b[j + q * d] =
                cols ? get(lowrank_factors_u(f), j, q) : get(lowrank_factors_vt(f), q, j);
}

/* The largest principal angle (radians) between the spans of the d x k
 * column-major a and b, both with orthonormal columns: the arcsine of the
 * largest singular value of (I - a a^T) b, through LAPACK (accurate for
 * small angles, unlike the arccosine of the smallest one of a^T b). */
static double largest_angle(const double *a, const double *b, int64_t d, int64_t k)
{
    double *c = malloc((size_t)(k * k + d * k + k) * sizeof *c);
    ck_assert_ptr_nonnull(c);
    double *res = c + k * k, *s = res + d * k;
    memcpy(res, b, (size_t)(d * k) * sizeof *res);
    ck_assert_ok(lr_gemm(LOWRANK_FLOAT64, 'T', 'N', k, k, d, 1.0, a, d, b, d, 0.0, c, k));
    ck_assert_ok(lr_gemm(LOWRANK_FLOAT64, 'N', 'N', d, k, k, -1.0, a, d, c, k, 1.0, res, d));
    ck_assert_ok(lr_gesdd(LOWRANK_FLOAT64, d, k, res, d, s, NULL, 1, NULL, 1));
    double largest = fmin(1.0, s[0]);
    free(c);
    return asin(largest);
}

/* ||reconstruction of f - x||_F / ||x||_F, x m x n column-major doubles. */
static double distance_to(const lowrank_factors *f, const double *x)
{
    int64_t m = lowrank_factors_rows(f), n = lowrank_factors_cols(f);
    lowrank_matrix *r = new_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, m, n);
    ck_assert_ok(lowrank_factors_reconstruct(f, r));
    const double *y = lowrank_matrix_data(r);
    double num = 0, den = 0;
    for (int64_t i = 0; i < m * n; i++) {
        num += (y[i] - x[i]) * (y[i] - x[i]);
        den += x[i] * x[i];
    }
    lowrank_matrix_free(r);
    return sqrt(num / den);
}

/* ------------------------------------------------------------ p = 2 */

/* At p = 2 the Lewis weights are the leverage scores and G^T G = A^T A:
 * the construction is the SVD truncation.  Every dtype, layout and
 * orientation; the subspace of the orientation and the singular values
 * match lowrank_svd's. */
START_TEST(p2_reproduces_the_svd)
{
    lowrank_dtype t = dtypes[_i % 2];
    lowrank_layout layout = layouts[_i / 2 % 2];
    int cols = _i / 4;
    const int64_t m = 40, n = 12, k = 3;
    lowrank_matrix *g = random_matrix(t, layout, m, n, 21);
    double *x = malloc((size_t)(m * n) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int64_t j = 0; j < n; j++) /* separated singular values */
        for (int64_t i = 0; i < m; i++)
            x[i + j * m] = get(g, i, j) * pow(0.7, (double)j);
    lowrank_matrix *a = from_doubles(t, layout, m, n, x);
    lowrank_opts *o = options(LOWRANK_METHOD_AUTO, LOWRANK_OBJECTIVE_ROWS,
                              cols ? LOWRANK_ORIENT_COLS : LOWRANK_ORIENT_ROWS, -1);
    lowrank_factors *lp, *svd;
    ck_assert_ok(lowrank_lp(a, k, 2.0, o, &lp));
    ck_assert_ok(lowrank_svd(a, k, NULL, &svd));
    int64_t d = cols ? m : n;
    double *b1 = malloc((size_t)(d * k) * sizeof *b1), *b2 = malloc((size_t)(d * k) * sizeof *b2);
    ck_assert(b1 && b2);
    basis_of(lp, cols, b1);
    basis_of(svd, cols, b2);
    double tol = t == LOWRANK_FLOAT32 ? 1e-3 : 1e-9;
    ck_assert_double_le(largest_angle(b1, b2, d, k), tol);
    for (int64_t q = 0; q < k; q++) {
        double s1 = get(lowrank_factors_s(lp), q, 0), s2 = get(lowrank_factors_s(svd), q, 0);
        ck_assert_double_eq_tol(s1, s2, tol * s2);
    }
    double e1, e2;
    ck_assert_ok(lowrank_factors_error(lp, &e1));
    ck_assert_ok(lowrank_factors_error(svd, &e2));
    ck_assert_double_eq_tol(e1, e2, 10 * tol);
    free(b1);
    free(b2);
    free(x);
    lowrank_factors_free(lp);
    lowrank_factors_free(svd);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
    lowrank_matrix_free(g);
}
END_TEST

/* ------------------------------------------------------------ the haystack */

/* 20% outliers: the default l1 fit (either rounding, refined) recovers the
 * inliers' subspace to within 1 degree, the SVD is more than 10 degrees off,
 * and the plain construction lies in between. */
START_TEST(l1_recovers_the_haystack)
{
    lowrank_dtype t = dtypes[_i % 2];
    int64_t method = _i / 2 ? LOWRANK_METHOD_LOWNER : LOWRANK_METHOD_LEWIS;
    const int64_t n = 600, d = 10, k = 2;
    double u[20], b[20], *x = malloc((size_t)(n * d) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    haystack(n, d, k, 0.2, 31, u, x);
    lowrank_matrix *a = from_doubles(t, LOWRANK_ROW_MAJOR, n, d, x);
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd(a, k, NULL, &f));
    basis_of(f, 0, b);
    double svd_angle = largest_angle(u, b, d, k);
    lowrank_factors_free(f);
    lowrank_opts *o = options(method, LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS, -1);
    ck_assert_ok(lowrank_lp(a, k, 1.0, o, &f));
    basis_of(f, 0, b);
    double lp_angle = largest_angle(u, b, d, k);
    lowrank_factors_free(f);
    const double degree = M_PI / 180;
    ck_assert_msg(svd_angle > 10 * degree, "SVD angle %g degrees", svd_angle / degree);
    ck_assert_msg(lp_angle < degree, "l1 angle %g degrees (SVD %g)", lp_angle / degree,
                  svd_angle / degree);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
    free(x);
}
END_TEST

/* ------------------------------------------------------------ the search */

/* n points in R^d into x (n x d, column-major), the planting: a
 * fraction 1 - outliers of inliers 10 N(0, I_k) on the span of u (d x k,
 * orthonormal) plus N(0, 0.05^2 I_d) noise, and outliers ratio * 10
 * N(0, I_od) on a random od-dimensional subspace plus the same noise. */
static void planted(int64_t n, int64_t d, int64_t k, double outliers, int64_t od, double ratio,
                    uint64_t seed, double *u, double *x)
{
    lr_rng r;
    lr_rng_seed(&r, seed);
    double *w = malloc((size_t)(d * od + k + od) * sizeof *w);
    ck_assert_ptr_nonnull(w);
    double *z = w + d * od;
    random_basis(&r, d, k, u);
    random_basis(&r, d, od, w);
    for (int64_t i = 0; i < n; i++) {
        int out = lr_rng_uniform(&r) < outliers;
        int64_t dim = out ? od : k;
        const double *basis = out ? w : u;
        for (int64_t a = 0; a < dim; a++)
            z[a] = (out ? ratio * 10 : 10) * lr_rng_normal(&r);
        for (int64_t j = 0; j < d; j++) {
            double v = 0.05 * lr_rng_normal(&r);
            for (int64_t a = 0; a < dim; a++)
                v += basis[j + a * d] * z[a];
            x[i + j * n] = v;
        }
    }
    free(w);
}

/* sum_i dist(x_i, span b)^p over the rows of the n x d column-major x; b
 * orthonormal d x k. */
static double planted_cost(const double *x, int64_t n, int64_t d, const double *b, int64_t k,
                           double p)
{
    double total = 0;
    for (int64_t i = 0; i < n; i++) {
        double s = 0, c[8];
        ck_assert_int_le(k, 8);
        for (int64_t a = 0; a < k; a++) {
            c[a] = 0;
            for (int64_t j = 0; j < d; j++)
                c[a] += b[j + a * d] * x[i + j * n];
        }
        for (int64_t j = 0; j < d; j++) {
            double e = x[i + j * n];
            for (int64_t a = 0; a < k; a++)
                e -= b[j + a * d] * c[a];
            s += e * e;
        }
        total += pow(sqrt(s), p);
    }
    return total;
}

/* The largest angle of a fit's subspace (rows orientation) to u's. */
static double angle_of(const lowrank_factors *f, const double *u, int64_t d, int64_t k)
{
    double *b = malloc((size_t)(d * k) * sizeof *b);
    ck_assert_ptr_nonnull(b);
    basis_of(f, 0, b);
    double angle = largest_angle(u, b, d, k);
    free(b);
    return angle;
}

/* The case, scaled down: 6% of the rows replaced by points of a
 * 2-dimensional subspace at 6 times the inliers' scale hold more energy
 * along it than the inliers along theirs, so the SVD's subspace passes
 * through the outliers, and IRLS from it stays there.  The l1 fit finds the
 * inliers' subspace, at or below its cost, in the points' own span (d = 40)
 * and in a sketch (d = 240), in both dtypes; the SVD is far off. */
START_TEST(structured_outliers_leave_the_svds_basin)
{
    lowrank_dtype t = dtypes[_i % 2];
    const int64_t n = 400, d = _i / 2 ? 240 : 40, k = 3;
    double *u = malloc((size_t)(d * k + n * d) * sizeof *u), *x = u + d * k;
    ck_assert_ptr_nonnull(u);
    planted(n, d, k, 0.06, 2, 6, 121 + (uint64_t)_i, u, x);
    lowrank_matrix *a = from_doubles(t, LOWRANK_ROW_MAJOR, n, d, x);
    lowrank_factors *svd, *lp;
    ck_assert_ok(lowrank_svd(a, k, NULL, &svd));
    ck_assert_ok(lowrank_lp(a, k, 1.0, NULL, &lp));
    double cost, truth = planted_cost(x, n, d, u, k, 1.0);
    ck_assert_ok(lowrank_lp_cost(a, lp, 1.0, LOWRANK_OBJECTIVE_ROWS, &cost));
    const double degree = M_PI / 180;
    ck_assert_msg(angle_of(svd, u, d, k) > 45 * degree, "SVD %g degrees",
                  angle_of(svd, u, d, k) / degree);
    ck_assert_msg(angle_of(lp, u, d, k) < degree, "l1 %g degrees", angle_of(lp, u, d, k) / degree);
    ck_assert_msg(cost <= truth * (1 + 1e-6), "l1 cost %.9g, planted %.9g", cost, truth);
    lowrank_factors_free(svd);
    lowrank_factors_free(lp);
    lowrank_matrix_free(a);
    free(u);
}
END_TEST

/* A line of outliers, 20% of the points at 3 times the inliers' scale:
 * projected onto the unit sphere they outweigh each inlier direction, so
 * every deterministic start (the construction, the SVD, the spherical PCA)
 * leads IRLS to a subspace through them, above the planted cost; among the
 * default random starts some are spanned by inliers alone, and from one of
 * them IRLS finds the inliers' subspace. */
START_TEST(random_starts_find_what_the_others_miss)
{
    const int64_t n = 600, d = 60, k = 5;
    double *u = malloc((size_t)(d * k + n * d) * sizeof *u), *x = u + d * k;
    ck_assert_ptr_nonnull(u);
    planted(n, d, k, 0.2, 1, 3, 131, u, x);
    lowrank_matrix *a = from_doubles(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, n, d, x);
    lowrank_opts *none =
        options(LOWRANK_METHOD_AUTO, LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS, -1);
    ck_assert_ok(lowrank_opts_set_int(none, LOWRANK_OPT_STARTS, 0));
    lowrank_factors *without, *with;
    ck_assert_ok(lowrank_lp(a, k, 1.0, none, &without));
    ck_assert_ok(lowrank_lp(a, k, 1.0, NULL, &with));
    double c0, c1, truth = planted_cost(x, n, d, u, k, 1.0);
    ck_assert_ok(lowrank_lp_cost(a, without, 1.0, LOWRANK_OBJECTIVE_ROWS, &c0));
    ck_assert_ok(lowrank_lp_cost(a, with, 1.0, LOWRANK_OBJECTIVE_ROWS, &c1));
    const double degree = M_PI / 180;
    ck_assert_msg(c0 > 1.02 * truth && angle_of(without, u, d, k) > 45 * degree,
                  "without random starts: cost %g (planted %g), %g degrees", c0, truth,
                  angle_of(without, u, d, k) / degree);
    ck_assert_msg(c1 <= truth && angle_of(with, u, d, k) < degree,
                  "with them: cost %g (planted %g), %g degrees", c1, truth,
                  angle_of(with, u, d, k) / degree);
    lowrank_factors_free(without);
    lowrank_factors_free(with);
    lowrank_opts_free(none);
    lowrank_matrix_free(a);
    free(u);
}
END_TEST

/* On points without structure (Gaussian) the fit in a sketch and the fit in
 * the points' own span reach the same cost (to the refinement's tolerance),
 * and neither is above the SVD's or the construction's cost; p = 1 and 1.5,
 * rows and columns (300 points in R^150, 150 in R^300). */
START_TEST(sketch_and_full_span_agree)
{
    double p = _i % 2 ? 1.5 : 1.0;
    int cols = _i / 2;
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 300, 150, 141);
    int64_t orient = cols ? LOWRANK_ORIENT_COLS : LOWRANK_ORIENT_ROWS, k = 4;
    lowrank_opts *sketch = options(LOWRANK_METHOD_AUTO, LOWRANK_OBJECTIVE_ROWS, orient, -1);
    lowrank_opts *full = options(LOWRANK_METHOD_AUTO, LOWRANK_OBJECTIVE_ROWS, orient, -1);
    lowrank_opts *construction = options(LOWRANK_METHOD_AUTO, LOWRANK_OBJECTIVE_ROWS, orient, 0);
    ck_assert_ok(lowrank_opts_set_int(full, LOWRANK_OPT_SKETCH_DIM, 0));
    lowrank_factors *fs, *ff, *fc, *svd;
    ck_assert_ok(lowrank_lp(a, k, p, sketch, &fs));
    ck_assert_ok(lowrank_lp(a, k, p, full, &ff));
    ck_assert_ok(lowrank_lp(a, k, p, construction, &fc));
    ck_assert_ok(lowrank_svd(a, k, NULL, &svd));
    if (cols) /* the SVD's factors measure the columns against span U too */
        lr_factors_set_orientation(svd, LOWRANK_ORIENT_COLS);
    double cs, cf, cc, cv;
    ck_assert_ok(lowrank_lp_cost(a, fs, p, LOWRANK_OBJECTIVE_ROWS, &cs));
    ck_assert_ok(lowrank_lp_cost(a, ff, p, LOWRANK_OBJECTIVE_ROWS, &cf));
    ck_assert_ok(lowrank_lp_cost(a, fc, p, LOWRANK_OBJECTIVE_ROWS, &cc));
    ck_assert_ok(lowrank_lp_cost(a, svd, p, LOWRANK_OBJECTIVE_ROWS, &cv));
    ck_assert_msg(fabs(cs - cf) <= 1e-4 * cf, "sketch %.9g, full span %.9g", cs, cf);
    ck_assert_msg(cs <= cv && cs <= cc && cf <= cv && cf <= cc,
                  "sketch %.9g, full %.9g, SVD %.9g, construction %.9g", cs, cf, cv, cc);
    lowrank_factors_free(fs);
    lowrank_factors_free(ff);
    lowrank_factors_free(fc);
    lowrank_factors_free(svd);
    lowrank_opts_free(sketch);
    lowrank_opts_free(full);
    lowrank_opts_free(construction);
    lowrank_matrix_free(a);
}
END_TEST

/* A sketch with little room to grow (3 of the 5 dimensions the points
 * span, k = 3: the starts coincide, and the growth must restart within its
 * room): the fit still ends below the SVD's cost, near the fit in the
 * points' own span (a stationary point of its own). */
START_TEST(a_sketch_with_little_room)
{
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 40, 5, 161);
    lowrank_opts *o =
        options(LOWRANK_METHOD_AUTO, LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS, -1);
    lowrank_factors *sketched, *full, *svd;
    double cs, cf, cv;
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_SKETCH_DIM, 3));
    ck_assert_ok(lowrank_lp(a, 3, 1.0, o, &sketched));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_SKETCH_DIM, 0));
    ck_assert_ok(lowrank_lp(a, 3, 1.0, o, &full));
    ck_assert_ok(lowrank_svd(a, 3, NULL, &svd));
    ck_assert_ok(lowrank_lp_cost(a, sketched, 1.0, LOWRANK_OBJECTIVE_ROWS, &cs));
    ck_assert_ok(lowrank_lp_cost(a, full, 1.0, LOWRANK_OBJECTIVE_ROWS, &cf));
    ck_assert_ok(lowrank_lp_cost(a, svd, 1.0, LOWRANK_OBJECTIVE_ROWS, &cv));
    ck_assert_msg(cs < cv && cs <= 1.01 * cf, "sketch %.9g, full span %.9g, SVD %.9g", cs, cf, cv);
    lowrank_factors_free(sketched);
    lowrank_factors_free(full);
    lowrank_factors_free(svd);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
}
END_TEST

/* The same seed gives the same bits; the fit depends on nothing else. */
START_TEST(the_seed_decides_the_random_parts)
{
    const int64_t n = 300, d = 200, k = 3;
    double *u = malloc((size_t)(d * k + n * d) * sizeof *u), *x = u + d * k;
    ck_assert_ptr_nonnull(u);
    planted(n, d, k, 0.1, 2, 4, 151, u, x);
    lowrank_matrix *a = from_doubles(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, n, d, x);
    lowrank_opts *o =
        options(LOWRANK_METHOD_AUTO, LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS, -1);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_SEED, 7));
    lowrank_factors *f1, *f2, *f3;
    ck_assert_ok(lowrank_lp(a, k, 1.0, o, &f1));
    ck_assert_ok(lowrank_lp(a, k, 1.0, o, &f2));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_SEED, 8));
    ck_assert_ok(lowrank_lp(a, k, 1.0, o, &f3));
    const lowrank_matrix *v1 = lowrank_factors_vt(f1), *v2 = lowrank_factors_vt(f2);
    ck_assert_int_eq(
        memcmp(lowrank_matrix_data(v1), lowrank_matrix_data(v2), (size_t)(k * d) * sizeof(float)),
        0);
    /* another seed: another sketch and other starts, the same subspace */
    ck_assert_double_le(angle_of(f3, u, d, k), M_PI / 180);
    lowrank_factors_free(f1);
    lowrank_factors_free(f2);
    lowrank_factors_free(f3);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
    free(u);
}
END_TEST

/* ------------------------------------------------------------ corruption */

/* clean = L0 R0 (m x n, rank k, N(0, 1) factors) and x = clean with a
 * fraction of its entries replaced by values of magnitude 20..60. */
static void corrupted(int64_t m, int64_t n, int64_t k, double fraction, uint64_t seed,
                      double *clean, double *x)
{
    lr_rng r;
    lr_rng_seed(&r, seed);
    double *l0 = malloc((size_t)(m + n) * (size_t)k * sizeof *l0);
    ck_assert_ptr_nonnull(l0);
    double *r0 = l0 + m * k;
    for (int64_t i = 0; i < (m + n) * k; i++)
        l0[i] = lr_rng_normal(&r);
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < m; i++) {
            double s = 0;
            for (int64_t a = 0; a < k; a++)
                s += l0[i + a * m] * r0[a + j * k];
            clean[i + j * m] = s;
            double v = lr_rng_uniform(&r);
            x[i + j * m] = lr_rng_uniform(&r) < fraction ? (v < 0.5 ? -1 : 1) * (20 + 80 * v) : s;
        }
    free(l0);
}

/* 10% of the entries grossly corrupted: the entry-wise l1 fit recovers the
 * clean matrix to 1e-3 in either orientation, where the SVD is off by more
 * than 10%. */
START_TEST(entrywise_l1_recovers_corrupted_low_rank)
{
    lowrank_dtype t = dtypes[_i % 2];
    lowrank_layout layout = layouts[_i / 2 % 2];
    int cols = _i / 4;
    const int64_t m = 60, n = 40, k = 2;
    double *clean = malloc((size_t)(2 * m * n) * sizeof *clean);
    ck_assert_ptr_nonnull(clean);
    double *x = clean + m * n;
    corrupted(m, n, k, 0.1, 41, clean, x);
    lowrank_matrix *a = from_doubles(t, layout, m, n, x);
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd(a, k, NULL, &f));
    double svd_error = distance_to(f, clean);
    lowrank_factors_free(f);
    lowrank_opts *o = options(LOWRANK_METHOD_AUTO, LOWRANK_OBJECTIVE_ENTRIES,
                              cols ? LOWRANK_ORIENT_COLS : LOWRANK_ORIENT_ROWS, -1);
    ck_assert_ok(lowrank_lp(a, k, 1.0, o, &f));
    double l1_error = distance_to(f, clean);
    ck_assert_msg(svd_error > 0.1, "SVD error %g", svd_error);
    ck_assert_msg(l1_error < 1e-3, "l1 error %g (SVD %g)", l1_error, svd_error);
    lowrank_factors_free(f);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
    free(clean);
}
END_TEST

/* ------------------------------------------------------------ monotone */

static double objective_after(const lowrank_matrix *a, int64_t k, double p, int64_t objective,
                              int64_t refine)
{
    lowrank_opts *o = options(LOWRANK_METHOD_LEWIS, objective, LOWRANK_ORIENT_ROWS, refine);
    lowrank_factors *f;
    double cost;
    ck_assert_ok(lowrank_lp(a, k, p, o, &f));
    ck_assert_ok(lowrank_lp_cost(a, f, p, (lowrank_objective)objective, &cost));
    lowrank_factors_free(f);
    lowrank_opts_free(o);
    return cost;
}

/* Each refinement step lowers the objective or stops: the cost after
 * 0, 1, 2, ... steps never increases, for both objectives (on outlying rows
 * and on corrupted entries), p = 1 and 1.5, and the refinement gains. */
START_TEST(refinement_never_increases_the_objective)
{
    int entries = _i / 2;
    int64_t objective = entries ? LOWRANK_OBJECTIVE_ENTRIES : LOWRANK_OBJECTIVE_ROWS;
    double p = _i % 2 ? 1.5 : 1.0;
    const int64_t m = entries ? 50 : 200, n = entries ? 30 : 10, k = 2;
    double u[20], *clean = malloc((size_t)(2 * m * n) * sizeof *clean), *x = clean + m * n;
    ck_assert_ptr_nonnull(clean);
    if (entries)
        corrupted(m, n, k, 0.15, 51, clean, x);
    else
        memcpy(x, haystack(m, n, k, 0.3, 52, u, clean), (size_t)(m * n) * sizeof *x);
    lowrank_matrix *a = from_doubles(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, m, n, x);
    double start = objective_after(a, k, p, objective, 0), prev = start, cost = start;
    for (int64_t it = 1; it <= 8; it++) {
        cost = objective_after(a, k, p, objective, it);
        ck_assert_msg(cost <= prev, "%lld steps: %.12g > %.12g", (long long)it, cost, prev);
        prev = cost;
    }
    /* at p = 1.5 the construction is closer to the optimum than at p = 1 */
    ck_assert_msg(cost < (p == 1 ? 0.99 : 1) * start, "8 steps went from %g to %g only", start,
                  cost);
    ck_assert_double_le(objective_after(a, k, p, objective, -1), cost);
    free(clean);
    lowrank_matrix_free(a);
}
END_TEST

/* ------------------------------------------------------------ the cost */

/* sum_i dist(x_i, span b)^p (max for infinity) over the rows (or, with
 * cols, the columns) of the m x n column-major x; b orthonormal d x k. */
static double direct_rows_cost(const double *x, int64_t m, int64_t n, int cols, const double *b,
                               int64_t k, double p)
{
    int64_t np = cols ? n : m, d = cols ? m : n;
    double total = 0, *pt = malloc((size_t)d * sizeof *pt);
    ck_assert_ptr_nonnull(pt);
    for (int64_t i = 0; i < np; i++) {
        for (int64_t j = 0; j < d; j++)
            pt[j] = cols ? x[j + i * m] : x[i + j * m];
        for (int64_t a = 0; a < k; a++) {
            double c = 0;
            for (int64_t j = 0; j < d; j++)
                c += b[j + a * d] * (cols ? x[j + i * m] : x[i + j * m]);
            for (int64_t j = 0; j < d; j++)
                pt[j] -= c * b[j + a * d];
        }
        double dist = 0;
        for (int64_t j = 0; j < d; j++)
            dist += pt[j] * pt[j];
        dist = sqrt(dist);
        total = isinf(p) ? fmax(total, dist) : total + pow(dist, p);
    }
    free(pt);
    return total;
}

static double direct_entries_cost(const double *x, const lowrank_factors *f, double p)
{
    int64_t m = lowrank_factors_rows(f), n = lowrank_factors_cols(f);
    lowrank_matrix *r = new_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, m, n);
    ck_assert_ok(lowrank_factors_reconstruct(f, r));
    const double *y = lowrank_matrix_data(r);
    double total = 0;
    for (int64_t i = 0; i < m * n; i++)
        total = isinf(p) ? fmax(total, fabs(x[i] - y[i])) : total + pow(fabs(x[i] - y[i]), p);
    lowrank_matrix_free(r);
    return total;
}

/* lowrank_lp_cost against a direct computation, for factors fitted in
 * either orientation and for lowrank_svd's, each dtype and layout, p = 1,
 * 1.5, 3 and infinity. */
START_TEST(cost_matches_a_direct_computation)
{
    lowrank_dtype t = dtypes[_i % 2];
    lowrank_layout layout = layouts[_i / 2];
    const int64_t m = 9, n = 7, k = 3;
    lowrank_matrix *g = random_matrix(t, layout, m, n, 61);
    double *x = malloc((size_t)(m * n + m * k) * sizeof *x), *b = x + m * n;
    ck_assert_ptr_nonnull(x);
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < m; i++)
            x[i + j * m] = get(g, i, j);
    const double ps[] = {1, 1.5, 3, INFINITY};
    double tol = t == LOWRANK_FLOAT32 ? 1e-5 : 1e-12;
    for (int c = 0; c < 3; c++) { /* rows, columns, the SVD */
        lowrank_factors *f;
        lowrank_opts *o = options(LOWRANK_METHOD_AUTO, LOWRANK_OBJECTIVE_ROWS,
                                  c == 1 ? LOWRANK_ORIENT_COLS : LOWRANK_ORIENT_ROWS, 3);
        ck_assert_ok(c == 2 ? lowrank_svd(g, k, NULL, &f) : lowrank_lp(g, k, 1.0, o, &f));
        basis_of(f, c == 1, b);
        for (size_t q = 0; q < sizeof ps / sizeof ps[0]; q++) {
            double rows, entries;
            ck_assert_ok(lowrank_lp_cost(g, f, ps[q], LOWRANK_OBJECTIVE_ROWS, &rows));
            ck_assert_ok(lowrank_lp_cost(g, f, ps[q], LOWRANK_OBJECTIVE_ENTRIES, &entries));
            double want = direct_rows_cost(x, m, n, c == 1, b, k, ps[q]);
            ck_assert_double_eq_tol(rows, want, tol * (1 + want));
            want = direct_entries_cost(x, f, ps[q]);
            ck_assert_double_eq_tol(entries, want, tol * (1 + want));
        }
        lowrank_factors_free(f);
        lowrank_opts_free(o);
    }
    free(x);
    lowrank_matrix_free(g);
}
END_TEST

/* ------------------------------------------------------------ layouts */

/* The same values in the other layout, or transposed and fitted in the
 * other orientation, give the same approximation. */
START_TEST(layouts_and_orientations_agree)
{
    lowrank_dtype t = dtypes[_i % 2];
    int64_t objective = _i / 2 ? LOWRANK_OBJECTIVE_ENTRIES : LOWRANK_OBJECTIVE_ROWS;
    const int64_t m = 30, n = 12, k = 2;
    double *clean = malloc((size_t)(3 * m * n) * sizeof *clean);
    ck_assert_ptr_nonnull(clean);
    double *x = clean + m * n, *y = x + m * n;
    corrupted(m, n, k, 0.1, 71, clean, x);
    lowrank_matrix *a = from_doubles(t, LOWRANK_ROW_MAJOR, m, n, x), *b, *at;
    ck_assert_ok(lowrank_matrix_convert(a, t, LOWRANK_COL_MAJOR, &b));
    /* a's memory read as the column-major n x m transpose */
    ck_assert_ok(lowrank_matrix_wrap(t, LOWRANK_COL_MAJOR, n, m, lowrank_matrix_data(a), n, &at));
    lowrank_opts *rows = options(LOWRANK_METHOD_AUTO, objective, LOWRANK_ORIENT_ROWS, -1);
    lowrank_opts *cols = options(LOWRANK_METHOD_AUTO, objective, LOWRANK_ORIENT_COLS, -1);
    lowrank_factors *fa, *fb, *ft;
    ck_assert_ok(lowrank_lp(a, k, 1.0, rows, &fa));
    ck_assert_ok(lowrank_lp(b, k, 1.0, rows, &fb));
    ck_assert_ok(lowrank_lp(at, k, 1.0, cols, &ft));
    lowrank_matrix *ra = new_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, m, n);
    ck_assert_ok(lowrank_factors_reconstruct(fa, ra));
    const double *za = lowrank_matrix_data(ra);
    /* the entry-wise alternation visits rows and columns in another order
     * in the other layout: the two stop within its tolerance */
    double tol = t == LOWRANK_FLOAT32 || objective == LOWRANK_OBJECTIVE_ENTRIES ? 1e-3 : 1e-8;
    ck_assert_double_le(distance_to(fb, za), tol);
    for (int64_t j = 0; j < n; j++) /* y = the transpose of a's approximation */
        for (int64_t i = 0; i < m; i++)
            y[j + i * n] = za[i + j * m];
    ck_assert_double_le(distance_to(ft, y), tol);
    ck_assert_int_eq(lowrank_matrix_dtype(lowrank_factors_u(fa)), t);
    lowrank_factors_free(fa);
    lowrank_factors_free(fb);
    lowrank_factors_free(ft);
    lowrank_opts_free(rows);
    lowrank_opts_free(cols);
    lowrank_matrix_free(ra);
    lowrank_matrix_free(at);
    lowrank_matrix_free(b);
    lowrank_matrix_free(a);
    free(clean);
}
END_TEST

/* ------------------------------------------------------------ spans */

/* Points that span fewer dimensions than the space: fewer points than
 * dimensions (rounded within their span), a rank-deficient matrix (rank 4
 * of 8 columns), and one whose rank is at most k (fitted exactly). */
START_TEST(points_spanning_fewer_dimensions)
{
    int64_t method = _i ? LOWRANK_METHOD_LOWNER : LOWRANK_METHOD_LEWIS;
    lowrank_opts *o = options(method, LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS, -1);
    lowrank_factors *f;
    double e;
    /* 6 points in R^15 */
    lowrank_matrix *wide = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 6, 15, 81);
    ck_assert_ok(lowrank_lp(wide, 2, 1.0, o, &f));
    ck_assert_ok(lowrank_factors_error(f, &e));
    ck_assert(e > 0.1 && e < 1);
    lowrank_factors_free(f);
    ck_assert_ok(lowrank_lp(wide, 6, 1.0, o, &f));
    ck_assert_ok(lowrank_factors_error(f, &e));
    ck_assert_double_le(e, 1e-12);
    lowrank_factors_free(f);
    /* 20 x 8 of rank 4 */
    const int64_t m = 20, n = 8, r = 4;
    lowrank_matrix *l = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, m, r, 82);
    lowrank_matrix *rr = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, r, n, 83);
    lowrank_matrix *a = new_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, m, n);
    ck_assert_ok(lr_gemm(LOWRANK_FLOAT64, 'N', 'N', m, n, r, 1.0, lowrank_matrix_data(l), m,
                         lowrank_matrix_data(rr), r, 0.0, lowrank_matrix_data(a), m));
    ck_assert_ok(lowrank_lp(a, 2, 1.0, o, &f));
    ck_assert_ok(lowrank_factors_error(f, &e));
    ck_assert(e > 0.01 && e < 1);
    lowrank_factors_free(f);
    for (int64_t k = 4; k <= 5; k++) {
        ck_assert_ok(lowrank_lp(a, k, 1.0, o, &f));
        ck_assert_ok(lowrank_factors_error(f, &e));
        ck_assert_double_le(e, 1e-12);
        lowrank_factors_free(f);
    }
    /* the zero matrix */
    lowrank_matrix *z = new_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 5, 4);
    ck_assert_ok(lowrank_lp(z, 2, 1.0, o, &f));
    ck_assert_ok(lowrank_factors_error(f, &e));
    ck_assert_double_eq(e, 0);
    lowrank_factors_free(f);
    lowrank_matrix_free(z);
    lowrank_matrix_free(a);
    lowrank_matrix_free(l);
    lowrank_matrix_free(rr);
    lowrank_matrix_free(wide);
    lowrank_opts_free(o);
}
END_TEST

/* p = infinity: the construction alone, over either rounding; the cost is
 * the largest distance, no larger than the SVD's by more than the rounding's
 * distortion allows to be worth reporting (here it is at least as good). */
START_TEST(p_infinity_constructs)
{
    int64_t method = _i ? LOWRANK_METHOD_LOWNER : LOWRANK_METHOD_LEWIS;
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 40, 5, 91);
    lowrank_opts *o = options(method, LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS, -1);
    lowrank_factors *f;
    double cost;
    ck_assert_ok(lowrank_lp(a, 2, INFINITY, o, &f));
    ck_assert_ok(lowrank_lp_cost(a, f, INFINITY, LOWRANK_OBJECTIVE_ROWS, &cost));
    ck_assert(cost > 0 && isfinite(cost));
    lowrank_factors_free(f);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_REFINE_ITER, 1));
    ck_assert_fails(lowrank_lp(a, 2, INFINITY, o, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_lp(a, 2, 3.0, o, &f), LOWRANK_ERANGE);
    ck_assert_ptr_null(f);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(errors)
{
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 6, 4, 101);
    static int sentinel;
    lowrank_factors *f = (lowrank_factors *)(void *)&sentinel, *good;
    ck_assert_fails(lowrank_lp(NULL, 2, 1, NULL, &f), LOWRANK_EINVAL);
    ck_assert_ptr_null(f);
    ck_assert_fails(lowrank_lp(a, 2, 1, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_lp(a, 2, 0.5, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_lp(a, 2, NAN, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_lp(a, 2, -INFINITY, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_lp(a, 0, 1, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_lp(a, 5, 1, NULL, &f), LOWRANK_ERANGE);
    ck_assert_str_eq(lowrank_last_error(), "k = 5 is outside [1, min(rows, cols) = 4]");
    lowrank_opts *o =
        options(LOWRANK_METHOD_EXACT, LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS, -1);
    ck_assert_fails(lowrank_lp(a, 2, 1, o, &f), LOWRANK_ERANGE);
    ck_assert_ptr_null(f);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, LOWRANK_METHOD_AUTO));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_SKETCH_DIM, 1));
    ck_assert_fails(lowrank_lp(a, 2, 1, o, &f), LOWRANK_ERANGE);
    ck_assert_str_eq(lowrank_last_error(), "LOWRANK_OPT_SKETCH_DIM = 1 is below k = 2");
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_SKETCH_DIM, -2), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_STARTS, -1), LOWRANK_ERANGE);
    ck_assert_ok(lowrank_lp(a, 2, 1, NULL, &good));
    double cost = -1;
    ck_assert_fails(lowrank_lp_cost(NULL, good, 1, LOWRANK_OBJECTIVE_ROWS, &cost), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_lp_cost(a, NULL, 1, LOWRANK_OBJECTIVE_ROWS, &cost), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_lp_cost(a, good, 1, LOWRANK_OBJECTIVE_ROWS, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_lp_cost(a, good, 1, (lowrank_objective)3, &cost), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_lp_cost(a, good, 0.9, LOWRANK_OBJECTIVE_ROWS, &cost), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_lp_cost(a, good, NAN, LOWRANK_OBJECTIVE_ENTRIES, &cost),
                    LOWRANK_ERANGE);
    lowrank_matrix *other = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 4, 6, 102);
    ck_assert_fails(lowrank_lp_cost(other, good, 1, LOWRANK_OBJECTIVE_ROWS, &cost), LOWRANK_ESIZE);
    double *x = lowrank_matrix_data(a);
    x[7] = NAN;
    ck_assert_fails(lowrank_lp(a, 2, 1, NULL, &f), LOWRANK_ENONFINITE);
    ck_assert_ptr_null(f);
    ck_assert_fails(lowrank_lp_cost(a, good, 1, LOWRANK_OBJECTIVE_ENTRIES, &cost),
                    LOWRANK_ENONFINITE);
    x[7] = INFINITY;
    ck_assert_fails(lowrank_lp(a, 2, 1, NULL, &f), LOWRANK_ENONFINITE);
    ck_assert_double_eq(cost, -1); /* untouched by the failures */
    lowrank_matrix_free(other);
    lowrank_factors_free(good);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
}
END_TEST

/* ------------------------------------------------------------ allocation */

typedef struct lp_call {
    const lowrank_matrix *a;
    int64_t k;
    lowrank_opts *o;
} lp_call;

static int lp_once(void *ctx)
{
    const lp_call *c = ctx;
    static int sentinel;
    lowrank_factors *f = (lowrank_factors *)(void *)&sentinel; /* must be reset */
    int rc = lowrank_lp(c->a, c->k, 1.0, c->o, &f);
    rc = output_status(rc, f);
    double cost;
    if (rc == LOWRANK_OK)
        rc = lowrank_lp_cost(c->a, f, 1.0, LOWRANK_OBJECTIVE_ROWS, &cost);
    if (rc == LOWRANK_OK)
        rc = lowrank_lp_cost(c->a, f, 1.0, LOWRANK_OBJECTIVE_ENTRIES, &cost);
    lowrank_factors_free(f);
    return rc;
}

/* Every allocation of every path: rows and entries objectives, both
 * roundings, tall and wide points, a rank-deficient matrix. */
START_TEST(allocation_failure)
{
    lowrank_matrix *tall = random_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 12, 4, 111);
    lowrank_matrix *wide = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 4, 9, 112);
    lowrank_matrix *low = new_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 8, 5);
    for (int64_t j = 0; j < 5; j++) /* rank 2 */
        for (int64_t i = 0; i < 8; i++)
            ck_assert_ok(lowrank_matrix_set(low, i, j, (double)(i + 1) * (j % 2) + (double)j));
    lowrank_opts *rows =
        options(LOWRANK_METHOD_LEWIS, LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS, 2);
    lowrank_opts *entries =
        options(LOWRANK_METHOD_LOWNER, LOWRANK_OBJECTIVE_ENTRIES, LOWRANK_ORIENT_COLS, 2);
    /* in a sketch of 5 dimensions of 30 x 20 points: the sketch, the starts,
     * the growth; and the entry-wise fit's starts from it */
    lowrank_matrix *big = random_matrix(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 30, 20, 113);
    lowrank_opts *sketched =
        options(LOWRANK_METHOD_LEWIS, LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS, 4);
    lowrank_opts *sketched_entries =
        options(LOWRANK_METHOD_LEWIS, LOWRANK_OBJECTIVE_ENTRIES, LOWRANK_ORIENT_ROWS, 2);
    ck_assert_ok(lowrank_opts_set_int(sketched, LOWRANK_OPT_SKETCH_DIM, 5));
    ck_assert_ok(lowrank_opts_set_int(sketched_entries, LOWRANK_OPT_SKETCH_DIM, 5));
    ck_assert_ok(lowrank_opts_set_int(sketched, LOWRANK_OPT_STARTS, 3));
    lp_call calls[] = {
        {tall, 2, rows}, {tall, 2, entries}, {wide, 2, rows},    {wide, 3, entries},
        {low, 1, rows},  {low, 3, rows},     {big, 2, sketched}, {big, 2, sketched_entries}};
    for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++)
        ck_assert_int_gt(check_alloc_failures(lp_once, &calls[c]), 5);
    lowrank_opts_free(rows);
    lowrank_opts_free(entries);
    lowrank_opts_free(sketched);
    lowrank_opts_free(sketched_entries);
    lowrank_matrix_free(big);
    lowrank_matrix_free(tall);
    lowrank_matrix_free(wide);
    lowrank_matrix_free(low);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("lp");
    TCase *tc = tcase_create("lp");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, p2_reproduces_the_svd, 0, 8);
    tcase_add_loop_test(tc, l1_recovers_the_haystack, 0, 4);
    tcase_add_loop_test(tc, structured_outliers_leave_the_svds_basin, 0, 4);
    tcase_add_test(tc, random_starts_find_what_the_others_miss);
    tcase_add_loop_test(tc, sketch_and_full_span_agree, 0, 4);
    tcase_add_test(tc, a_sketch_with_little_room);
    tcase_add_test(tc, the_seed_decides_the_random_parts);
    tcase_add_loop_test(tc, entrywise_l1_recovers_corrupted_low_rank, 0, 8);
    tcase_add_loop_test(tc, refinement_never_increases_the_objective, 0, 4);
    tcase_add_loop_test(tc, cost_matches_a_direct_computation, 0, 4);
    tcase_add_loop_test(tc, layouts_and_orientations_agree, 0, 4);
    tcase_add_loop_test(tc, points_spanning_fewer_dimensions, 0, 2);
    tcase_add_loop_test(tc, p_infinity_constructs, 0, 2);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
