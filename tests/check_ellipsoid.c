/*
 * check_ellipsoid.c - minimum-volume enclosing ellipsoids against closed
 * forms (simplices, cube vertices, points on an ellipsoid), affine
 * equivariance and their own certificate; the lp rounding against its
 * defining inequality on random directions and the p = 2 identity; every
 * error path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

static const lowrank_dtype dtypes[] = {LOWRANK_FLOAT32, LOWRANK_FLOAT64};
static const lowrank_layout layouts[] = {LOWRANK_ROW_MAJOR, LOWRANK_COL_MAJOR};

static double *dense(const lowrank_matrix *m);

static double at(const lowrank_matrix *m, int64_t i, int64_t j)
{
    double v = NAN;
    ck_assert_ok(lowrank_matrix_get(m, i, j, &v));
    return v;
}

/* A matrix of the given kind holding the row-major doubles v. */
static lowrank_matrix *from_rows(lowrank_dtype t, lowrank_layout l, int64_t n, int64_t d,
                                 const double *v)
{
    lowrank_matrix *m;
    ck_assert_ok(lowrank_matrix_new(t, l, n, d, &m));
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            ck_assert_ok(lowrank_matrix_set(m, i, j, v[i * d + j]));
    return m;
}

static lowrank_opts *opts_with(double eps, int64_t center)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_EPS, eps));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_CENTER, center));
    return o;
}

static lowrank_ellipsoid *mvee(const lowrank_matrix *p, double eps, int64_t center)
{
    lowrank_opts *o = opts_with(eps, center);
    lowrank_ellipsoid *e = NULL;
    ck_assert_ok(lowrank_mvee(p, o, &e));
    lowrank_opts_free(o);
    return e;
}

/* max over the rows x of p (or their negatives, with neg) of
 * (x - c)^T Q (x - c). */
static double max_level(const lowrank_ellipsoid *e, const lowrank_matrix *p, int neg)
{
    int64_t n = lowrank_matrix_rows(p), d = lowrank_ellipsoid_dim(e);
    double *x = dense(p), *c = dense(lowrank_ellipsoid_center(e));
    double *q = dense(lowrank_ellipsoid_shape(e)), worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t a = 0; a < d; a++)
            for (int64_t b = 0; b < d; b++)
                s += ((neg ? -1 : 1) * x[i * d + a] - c[a]) * q[a * d + b] *
                     ((neg ? -1 : 1) * x[i * d + b] - c[b]);
        worst = fmax(worst, s);
    }
    free(x);
    free(c);
    free(q);
    return worst;
}

static double log_unit_ball(int64_t d) { return 0.5 * (double)d * log(M_PI) - lgamma(0.5 * (double)d + 1); }

/* The log-volume of the ellipsoid from its shape, by Cholesky. */
static double log_volume_of_shape(const lowrank_ellipsoid *e)
{
    int64_t d = lowrank_ellipsoid_dim(e);
    double *q = malloc((size_t)(d * d) * sizeof *q), logdet = 0;
    for (int64_t j = 0; j < d; j++)
        for (int64_t i = 0; i < d; i++)
            q[i + j * d] = at(lowrank_ellipsoid_shape(e), i, j);
    for (int64_t j = 0; j < d; j++) { /* in-place Cholesky, lower */
        for (int64_t k = 0; k < j; k++)
            q[j + j * d] -= q[j + k * d] * q[j + k * d];
        ck_assert(q[j + j * d] > 0);
        q[j + j * d] = sqrt(q[j + j * d]);
        logdet += 2 * log(q[j + j * d]);
        for (int64_t i = j + 1; i < d; i++) {
            for (int64_t k = 0; k < j; k++)
                q[i + j * d] -= q[i + k * d] * q[j + k * d];
            q[i + j * d] /= q[j + j * d];
        }
    }
    free(q);
    return log_unit_ball(d) - 0.5 * logdet;
}

/* n points of R^d, N(0,1) scaled unevenly and shifted. */
static double *cloud(int64_t n, int64_t d, uint64_t seed)
{
    lr_rng r;
    lr_rng_seed(&r, seed);
    double *v = malloc((size_t)(n * d) * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            v[i * d + j] = (1 + (double)j) * lr_rng_normal(&r) + 3 - (double)j;
    return v;
}

/* ------------------------------------------------------------ mvee */

START_TEST(mvee_encloses_every_point_and_certifies_eps)
{
    lowrank_dtype t = dtypes[_i / 2];
    lowrank_layout l = layouts[_i % 2];
    const int64_t n = 300, d = 4;
    double *v = cloud(n, d, 1 + (uint64_t)_i), tol = t == LOWRANK_FLOAT32 ? 1e-5 : 1e-10;
    lowrank_matrix *p = from_rows(t, l, n, d, v);
    lowrank_ellipsoid *e = mvee(p, 1e-3, LOWRANK_CENTER_FREE);
    ck_assert_int_eq(lowrank_ellipsoid_dim(e), d);
    ck_assert(lowrank_ellipsoid_eps(e) >= 0 && lowrank_ellipsoid_eps(e) <= 1e-3);
    ck_assert_int_eq(lowrank_matrix_dtype(lowrank_ellipsoid_shape(e)), t);
    ck_assert_int_eq(lowrank_matrix_dtype(lowrank_ellipsoid_weights(e)), LOWRANK_FLOAT64);
    double worst = max_level(e, p, 0), usum = 0, c0 = 0;
    for (int64_t i = 0; i < n; i++) {
        double u = at(lowrank_ellipsoid_weights(e), i, 0);
        ck_assert(u >= 0);
        usum += u;
        c0 += u * v[i * d];
    }
    ck_assert_double_le(worst, 1 + tol);
    ck_assert_double_ge(worst, 1 - tol); /* the farthest point is on the boundary */
    ck_assert_double_eq_tol(usum, 1, 1e-12);
    ck_assert_double_eq_tol(c0, at(lowrank_ellipsoid_center(e), 0, 0), 1e3 * tol);
    ck_assert_double_eq_tol(lowrank_ellipsoid_log_volume(e), log_volume_of_shape(e), 1e2 * tol);
    lowrank_ellipsoid_free(e);
    lowrank_matrix_free(p);
    free(v);
}
END_TEST

/* Origin-centred: the points and their negatives inside, the centre 0. */
START_TEST(mvee_origin_encloses_points_and_negatives)
{
    const int64_t n = 200, d = 3;
    double *v = cloud(n, d, 7);
    lowrank_matrix *p = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, v);
    lowrank_ellipsoid *e = mvee(p, 1e-4, LOWRANK_CENTER_ORIGIN);
    ck_assert_double_eq_tol(fmax(max_level(e, p, 0), max_level(e, p, 1)), 1, 1e-10);
    for (int64_t j = 0; j < d; j++)
        ck_assert_double_eq(at(lowrank_ellipsoid_center(e), j, 0), 0);
    ck_assert(lowrank_ellipsoid_eps(e) <= 1e-4);
    lowrank_ellipsoid_free(e);
    lowrank_matrix_free(p);
    free(v);
}
END_TEST

/* Any simplex: the optimal weights are uniform, so c is the centroid and
 * Q = (sum_i (v_i - c)(v_i - c)^T / (d + 1))^-1 / d; for the regular
 * simplex that is the circumscribed ball. */
START_TEST(mvee_of_a_simplex)
{
    enum { d = 4, n = d + 1 };
    double v[n * d], q0[d * d];
    lr_rng r;
    lr_rng_seed(&r, 11);
    for (int64_t i = 0; i < n * d; i++)
        v[i] = lr_rng_normal(&r);
    lowrank_matrix *p = from_rows(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, n, d, v);
    lowrank_ellipsoid *e = mvee(p, 1e-12, LOWRANK_CENTER_FREE);
    double c[d], s[d * d];
    for (int64_t j = 0; j < d; j++) {
        c[j] = 0;
        for (int64_t i = 0; i < n; i++)
            c[j] += v[i * d + j] / (double)n;
        ck_assert_double_eq_tol(at(lowrank_ellipsoid_center(e), j, 0), c[j], 1e-9);
    }
    for (int64_t a = 0; a < d; a++)
        for (int64_t b = 0; b < d; b++) {
            s[a * d + b] = 0;
            for (int64_t i = 0; i < n; i++)
                s[a * d + b] += (v[i * d + a] - c[a]) * (v[i * d + b] - c[b]) / (double)n;
        }
    /* Q^-1 = d S: check Q (d S) = I */
    for (int64_t a = 0; a < d; a++)
        for (int64_t b = 0; b < d; b++) {
            q0[a * d + b] = 0;
            for (int64_t k = 0; k < d; k++)
                q0[a * d + b] += at(lowrank_ellipsoid_shape(e), a, k) * (double)d * s[k * d + b];
            ck_assert_double_eq_tol(q0[a * d + b], a == b, 1e-8);
        }
    for (int64_t i = 0; i < n; i++)
        ck_assert_double_eq_tol(at(lowrank_ellipsoid_weights(e), i, 0), 1.0 / (double)n, 1e-8);
    lowrank_ellipsoid_free(e);
    lowrank_matrix_free(p);

    /* the regular simplex: e_1..e_{d+1} of R^{d+1} seen in the hyperplane
     * they span; its circumradius is sqrt(d / (d + 1)) */
    double w[n * d];
    for (int64_t i = 0; i < n; i++) /* coordinates in a Helmert basis */
        for (int64_t k = 0; k < d; k++) {
            double norm = sqrt((double)((k + 1) * (k + 2)));
            w[i * d + k] = i <= k ? 1 / norm : i == k + 1 ? -(double)(k + 1) / norm : 0;
        }
    p = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, w);
    e = mvee(p, 1e-12, LOWRANK_CENTER_FREE);
    for (int64_t a = 0; a < d; a++) {
        ck_assert_double_eq_tol(at(lowrank_ellipsoid_center(e), a, 0), 0, 1e-9);
        for (int64_t b = 0; b < d; b++)
            ck_assert_double_eq_tol(at(lowrank_ellipsoid_shape(e), a, b),
                                    a == b ? (double)(d + 1) / (double)d : 0, 1e-8);
    }
    lowrank_ellipsoid_free(e);
    lowrank_matrix_free(p);
}
END_TEST

/* The 2^d vertices of the cube [-1, 1]^d: the ball of radius sqrt(d), with
 * either centring. */
START_TEST(mvee_of_cube_vertices)
{
    enum { d = 4, n = 16 };
    double v[n * d];
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            v[i * d + j] = (i >> j) & 1 ? 1 : -1;
    lowrank_matrix *p = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, v);
    for (int64_t center = LOWRANK_CENTER_FREE; center <= LOWRANK_CENTER_ORIGIN; center++) {
        lowrank_ellipsoid *e = mvee(p, 1e-10, center);
        for (int64_t a = 0; a < d; a++) {
            ck_assert_double_eq_tol(at(lowrank_ellipsoid_center(e), a, 0), 0, 1e-9);
            for (int64_t b = 0; b < d; b++)
                ck_assert_double_eq_tol(at(lowrank_ellipsoid_shape(e), a, b),
                                        a == b ? 1.0 / (double)d : 0, 1e-9);
        }
        ck_assert_double_eq_tol(lowrank_ellipsoid_log_volume(e),
                                log_unit_ball(d) + 0.5 * (double)d * log((double)d), 1e-9);
        lowrank_ellipsoid_free(e);
    }
    lowrank_matrix_free(p);
}
END_TEST

/* Points on the ellipsoid c0 + T S^(d-1), the ends of its axes among them:
 * that ellipsoid is the answer. */
START_TEST(mvee_of_points_on_an_ellipsoid)
{
    enum { d = 3, n = 60 };
    const double t[9] = {2, 0, 0, 0.5, 1, 0, -1, 0.3, 0.5}, c0[3] = {1, -2, 0.5};
    double v[n * d], x[3];
    lr_rng r;
    lr_rng_seed(&r, 5);
    for (int64_t i = 0; i < n; i++) {
        double norm = 0;
        for (int64_t k = 0; k < d; k++) {
            x[k] = i < 2 * d ? (i / 2 == k ? (i % 2 ? -1 : 1) : 0) : lr_rng_normal(&r);
            norm += x[k] * x[k];
        }
        for (int64_t a = 0; a < d; a++) {
            v[i * d + a] = c0[a];
            for (int64_t k = 0; k < d; k++)
                v[i * d + a] += t[a * d + k] * x[k] / sqrt(norm);
        }
    }
    lowrank_matrix *p = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, v);
    lowrank_ellipsoid *e = mvee(p, 1e-10, LOWRANK_CENTER_FREE);
    /* Q = T^-T T^-1, so T^T Q T = I */
    for (int64_t a = 0; a < d; a++) {
        ck_assert_double_eq_tol(at(lowrank_ellipsoid_center(e), a, 0), c0[a], 1e-6);
        for (int64_t b = 0; b < d; b++) {
            double s = 0;
            for (int64_t k = 0; k < d; k++)
                for (int64_t m = 0; m < d; m++)
                    s += t[k * d + a] * at(lowrank_ellipsoid_shape(e), k, m) * t[m * d + b];
            ck_assert_double_eq_tol(s, a == b, 1e-6);
        }
    }
    lowrank_ellipsoid_free(e);
    lowrank_matrix_free(p);
}
END_TEST

/* p -> M p + t maps the ellipsoid to c' = M c + t, Q' = M^-T Q M^-1 and
 * adds log |det M| to the log-volume. */
START_TEST(mvee_is_affinely_equivariant)
{
    enum { n = 80, d = 3 };
    const double m[9] = {3, 1, 0, 0, 0.2, 0, 1, 1, 50}, shift[3] = {1e3, -5, 2};
    const double det = 3 * (0.2 * 50) - 1 * (0 * 50 - 0 * 1); /* = 30 */
    double *v = cloud(n, d, 9), w[n * d];
    for (int64_t i = 0; i < n; i++)
        for (int64_t a = 0; a < d; a++) {
            w[i * d + a] = shift[a];
            for (int64_t k = 0; k < d; k++)
                w[i * d + a] += m[a * d + k] * v[i * d + k];
        }
    lowrank_matrix *p = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, v);
    lowrank_matrix *pm = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, w);
    lowrank_ellipsoid *e = mvee(p, 1e-10, LOWRANK_CENTER_FREE);
    lowrank_ellipsoid *f = mvee(pm, 1e-10, LOWRANK_CENTER_FREE);
    ck_assert_double_eq_tol(lowrank_ellipsoid_log_volume(f),
                            lowrank_ellipsoid_log_volume(e) + log(det), 1e-8);
    for (int64_t a = 0; a < d; a++) {
        double c = shift[a];
        for (int64_t k = 0; k < d; k++)
            c += m[a * d + k] * at(lowrank_ellipsoid_center(e), k, 0);
        ck_assert_double_eq_tol(at(lowrank_ellipsoid_center(f), a, 0), c, 1e-4 * (1 + fabs(c)));
        for (int64_t b = 0; b < d; b++) { /* M^T Q' M = Q */
            double s = 0;
            for (int64_t k = 0; k < d; k++)
                for (int64_t l = 0; l < d; l++)
                    s += m[k * d + a] * at(lowrank_ellipsoid_shape(f), k, l) * m[l * d + b];
            double q = at(lowrank_ellipsoid_shape(e), a, b);
            ck_assert_double_eq_tol(s, q, 1e-4 * (1 + fabs(q)));
        }
    }
    lowrank_ellipsoid_free(e);
    lowrank_ellipsoid_free(f);
    lowrank_matrix_free(p);
    lowrank_matrix_free(pm);
    free(v);
}
END_TEST

/* Every point twice: the same ellipsoid, the weight shared by the twins. */
START_TEST(mvee_of_duplicated_points)
{
    enum { n = 50, d = 2 };
    double *v = cloud(n, d, 3), w[2 * n * d];
    memcpy(w, v, (size_t)(n * d) * sizeof *w);
    memcpy(w + n * d, v, (size_t)(n * d) * sizeof *w);
    lowrank_matrix *p = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, v);
    lowrank_matrix *p2 = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 2 * n, d, w);
    lowrank_ellipsoid *e = mvee(p, 1e-9, LOWRANK_CENTER_FREE);
    lowrank_ellipsoid *f = mvee(p2, 1e-9, LOWRANK_CENTER_FREE);
    ck_assert_double_eq_tol(lowrank_ellipsoid_log_volume(e), lowrank_ellipsoid_log_volume(f),
                            2e-9);
    for (int64_t i = 0; i < n; i++)
        ck_assert_double_eq_tol(at(lowrank_ellipsoid_weights(e), i, 0),
                                at(lowrank_ellipsoid_weights(f), i, 0) +
                                    at(lowrank_ellipsoid_weights(f), i + n, 0),
                                1e-4);
    lowrank_ellipsoid_free(e);
    lowrank_ellipsoid_free(f);
    lowrank_matrix_free(p);
    lowrank_matrix_free(p2);
    free(v);
}
END_TEST

/* d = 1: the interval between the extremes. */
START_TEST(mvee_in_one_dimension)
{
    const double v[5] = {3, -1, 7, 2, 0.5};
    lowrank_matrix *p = from_rows(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 5, 1, v);
    lowrank_ellipsoid *e = mvee(p, 1e-12, LOWRANK_CENTER_FREE);
    ck_assert_double_eq_tol(at(lowrank_ellipsoid_center(e), 0, 0), 3, 1e-9);
    ck_assert_double_eq_tol(at(lowrank_ellipsoid_shape(e), 0, 0), 1.0 / 16, 1e-9);
    ck_assert_double_eq_tol(lowrank_ellipsoid_log_volume(e), log(8), 1e-9);
    lowrank_ellipsoid_free(e);
    e = mvee(p, 1e-12, LOWRANK_CENTER_ORIGIN);
    ck_assert_double_eq_tol(at(lowrank_ellipsoid_shape(e), 0, 0), 1.0 / 49, 1e-9);
    lowrank_ellipsoid_free(e);
    lowrank_matrix_free(p);
}
END_TEST

/* Points on a plane of R^3 (or, centred at the origin, a line through it;
 * or too few points): a clear LOWRANK_EDEGENERATE. */
START_TEST(mvee_of_a_flat_is_degenerate)
{
    const int64_t n = 30, d = 3;
    double *v = cloud(n, d, 4);
    for (int64_t i = 0; i < n; i++)
        v[i * d + 2] = 2 * v[i * d] - v[i * d + 1] + 1;
    lowrank_matrix *p = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, v);
    lowrank_ellipsoid *e = (lowrank_ellipsoid *)&e;
    lowrank_opts *free_ = opts_with(1e-3, LOWRANK_CENTER_FREE);
    lowrank_opts *origin = opts_with(1e-3, LOWRANK_CENTER_ORIGIN);
    ck_assert_fails(lowrank_mvee(p, free_, &e), LOWRANK_EDEGENERATE);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "flat"));
    lowrank_matrix_free(p);
    for (int64_t i = 0; i < n; i++) /* a line through the origin */
        for (int64_t j = 1; j < d; j++)
            v[i * d + j] = (double)(j + 1) * v[i * d];
    p = from_rows(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, n, d, v);
    ck_assert_fails(lowrank_mvee(p, origin, &e), LOWRANK_EDEGENERATE);
    lowrank_matrix_free(p);
    p = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, d, d, v); /* d points in R^d */
    ck_assert_fails(lowrank_mvee(p, free_, &e), LOWRANK_EDEGENERATE);
    ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "at least 4"));
    lowrank_matrix_free(p);
    lowrank_opts_free(free_);
    lowrank_opts_free(origin);
    free(v);
}
END_TEST

START_TEST(mvee_errors)
{
    double v[8] = {0, 0, 1, 0, 0, 1, 1, 1};
    lowrank_matrix *p = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 4, 2, v);
    lowrank_ellipsoid *e = (lowrank_ellipsoid *)&e;
    ck_assert_fails(lowrank_mvee(p, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_mvee(NULL, NULL, &e), LOWRANK_EINVAL);
    ck_assert_ptr_null(e);
    for (int k = 0; k < 2; k++) {
        double bad = k ? NAN : INFINITY;
        ck_assert_ok(lowrank_matrix_set(p, 2, 1, bad));
        ck_assert_fails(lowrank_mvee(p, NULL, &e), LOWRANK_ENONFINITE);
    }
    ck_assert_ok(lowrank_matrix_set(p, 2, 1, 1));
    lowrank_opts *o = opts_with(1e-12, LOWRANK_CENTER_FREE);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_MAX_ITER, 1));
    double *w = cloud(40, 3, 2);
    lowrank_matrix *big = from_rows(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 40, 3, w);
    ck_assert_fails(lowrank_mvee(big, o, &e), LOWRANK_ENOCONV);
    ck_assert_ptr_null(e);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_CENTER, 3), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_EPS, 0), LOWRANK_ERANGE);
    /* accessors on NULL */
    ck_assert_int_eq(lowrank_ellipsoid_dim(NULL), 0);
    ck_assert_ptr_null(lowrank_ellipsoid_center(NULL));
    ck_assert_ptr_null(lowrank_ellipsoid_shape(NULL));
    ck_assert_ptr_null(lowrank_ellipsoid_weights(NULL));
    ck_assert(isnan(lowrank_ellipsoid_log_volume(NULL)));
    ck_assert(isnan(lowrank_ellipsoid_eps(NULL)));
    lowrank_ellipsoid_free(NULL);
    lowrank_opts_free(o);
    lowrank_matrix_free(big);
    lowrank_matrix_free(p);
    free(w);
}
END_TEST

typedef struct call_ctx {
    const lowrank_matrix *m;
    lowrank_opts *opts;
    double p;
} call_ctx;

static int mvee_call(void *ctx)
{
    const call_ctx *c = ctx;
    lowrank_ellipsoid *e = (lowrank_ellipsoid *)&e;
    int rc = lowrank_mvee(c->m, c->opts, &e);
    rc = output_status(rc, e);
    lowrank_ellipsoid_free(e);
    return rc;
}

START_TEST(mvee_allocation_failure)
{
    double *v = cloud(60, 3, 6);
    lowrank_matrix *p = from_rows(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 60, 3, v);
    call_ctx c = {p, opts_with(1e-3, _i ? LOWRANK_CENTER_ORIGIN : LOWRANK_CENTER_FREE), 0};
    ck_assert(check_alloc_failures(mvee_call, &c) > 10);
    lowrank_opts_free(c.opts);
    lowrank_matrix_free(p);
    free(v);
}
END_TEST

/* ------------------------------------------------------------ rounding */

static lowrank_opts *method_opts(int64_t method)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, method));
    return o;
}

/* |v|^p without pow for the powers the tests use (valgrind makes pow slow). */
static double power(double v, double p)
{
    v = fabs(v);
    return p == 1 ? v : p == 1.5 ? v * sqrt(v) : p == 2 ? v * v : p == 3 ? v * v * v : pow(v, p);
}

static double norm_p(const double *y, int64_t n, double p)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s = isinf(p) ? fmax(s, fabs(y[i])) : s + power(y[i], p);
    return isinf(p) ? s : pow(s, 1 / p);
}

/* The elements of m, row-major, as doubles. */
static double *dense(const lowrank_matrix *m)
{
    int64_t r = lowrank_matrix_rows(m), c = lowrank_matrix_cols(m);
    double *v = malloc((size_t)(r * c) * sizeof *v);
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < c; j++)
            v[i * c + j] = lr_matrix_at(m, i, j);
    return v;
}

/* min and max over k random x of ||A x||_p / ||G x||_2. */
static void distortion(const lowrank_matrix *am, const lowrank_matrix *gm, double p, int k,
                       double *lo, double *hi)
{
    int64_t n = lowrank_matrix_rows(am), d = lowrank_matrix_cols(am);
    double x[16], *y = malloc((size_t)n * sizeof *y), *a = dense(am), *g = dense(gm);
    lr_rng r;
    lr_rng_seed(&r, 77);
    *lo = HUGE_VAL;
    *hi = 0;
    for (int t = 0; t < k; t++) {
        for (int64_t j = 0; j < d; j++)
            x[j] = lr_rng_normal(&r);
        for (int64_t i = 0; i < n; i++) {
            y[i] = 0;
            for (int64_t j = 0; j < d; j++)
                y[i] += a[i * d + j] * x[j];
        }
        double gx = 0;
        for (int64_t i = 0; i < d; i++) {
            double s = 0;
            for (int64_t j = 0; j < d; j++)
                s += g[i * d + j] * x[j];
            gx += s * s;
        }
        double ratio = norm_p(y, n, p) / sqrt(gx);
        *lo = fmin(*lo, ratio);
        *hi = fmax(*hi, ratio);
    }
    free(y);
    free(a);
    free(g);
}

/* Rows with heavy tails (some far larger than the rest) and a zero row. */
static lowrank_matrix *test_matrix(lowrank_dtype t, lowrank_layout l, int64_t n, int64_t d,
                                   uint64_t seed)
{
    lowrank_matrix *a = random_matrix(t, l, n, d, seed);
    for (int64_t i = 0; i < n; i++) {
        double s = i == 3 ? 0 : i % 10 == 0 ? 30 : 1;
        for (int64_t j = 0; j < d; j++)
            ck_assert_ok(lowrank_matrix_set(a, i, j, s * lr_matrix_at(a, i, j) * (1 + (double)j)));
    }
    return a;
}

static const double powers[] = {1, 1.5, 2, 3, INFINITY};

/* ||G x|| <= ||A x||_p <= alpha ||G x|| on 2000 random x, for both methods,
 * both dtypes and both layouts; alpha within its documented bound. */
START_TEST(rounding_inequality_holds)
{
    double p = powers[_i % 5];
    lowrank_dtype t = dtypes[(_i / 5) % 2];
    lowrank_layout l = layouts[(_i / 10) % 2];
    int64_t method = _i / 20 ? LOWRANK_METHOD_LOWNER : LOWRANK_METHOD_LEWIS;
    const int64_t n = 120, d = 5;
    lowrank_matrix *a = test_matrix(t, l, n, d, 31 + (uint64_t)_i), *g = NULL;
    lowrank_opts *o = method_opts(method);
    double alpha = 0, lo, hi, tol = t == LOWRANK_FLOAT32 ? 1e-5 : 1e-10;
    ck_assert_ok(lowrank_lp_rounding(a, p, o, &g, &alpha));
    ck_assert_int_eq(lowrank_matrix_dtype(g), t);
    ck_assert_int_eq(lowrank_matrix_rows(g), d);
    distortion(a, g, p, 2000, &lo, &hi);
    ck_assert_msg(lo >= 1 - tol, "p = %g: min ratio %.12g below 1", p, lo);
    ck_assert_msg(hi <= alpha * (1 + tol), "p = %g: max ratio %.12g above alpha %.12g", p, hi,
                  alpha);
    double ideal = pow((double)d, isinf(p) ? 0.5 : fabs(1 / p - 0.5));
    if (method == LOWRANK_METHOD_LEWIS)
        ck_assert_double_le(alpha, ideal * (1 + 1e-3));
    else
        ck_assert_double_le(alpha, sqrt((double)(d * (d + 1))) * (1 + 1e-12));
    for (int64_t i = 0; i < d; i++) /* G is symmetric */
        for (int64_t j = 0; j < i; j++)
            ck_assert_double_eq_tol(lr_matrix_at(g, i, j), lr_matrix_at(g, j, i),
                                    tol * fabs(lr_matrix_at(g, i, i)));
    lowrank_matrix_free(g);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
}
END_TEST

/* p = 2: G^T G = A^T A; Lewis certifies alpha = 1, the ellipsoid method
 * starts (and stops) at the exact ellipsoid with its sqrt(d) bound. */
START_TEST(rounding_p2_is_the_gram_root)
{
    const int64_t n = 40, d = 4;
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, n, d, 8), *g = NULL;
    lowrank_opts *o = method_opts(_i ? LOWRANK_METHOD_LOWNER : LOWRANK_METHOD_AUTO);
    double alpha = 0;
    ck_assert_ok(lowrank_lp_rounding(a, 2, o, &g, &alpha));
    ck_assert_double_eq_tol(alpha, _i ? sqrt((double)d) : 1, 1e-12);
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            double gg = 0, aa = 0;
            for (int64_t k = 0; k < d; k++)
                gg += lr_matrix_at(g, k, i) * lr_matrix_at(g, k, j);
            for (int64_t k = 0; k < n; k++)
                aa += lr_matrix_at(a, k, i) * lr_matrix_at(a, k, j);
            ck_assert_double_eq_tol(gg, aa, 1e-10 * (double)n);
        }
    lowrank_matrix_free(g);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
}
END_TEST

/* Stopped after one iteration or round, either method still returns a G and
 * an alpha for which the inequality holds (alpha is then just larger). */
START_TEST(rounding_capped_stays_certified)
{
    lowrank_matrix *a = test_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 200, 6, 12), *g = NULL;
    lowrank_opts *o = method_opts(_i ? LOWRANK_METHOD_LOWNER : LOWRANK_METHOD_LEWIS);
    double alpha = 0, full = 0, lo, hi;
    ck_assert_ok(lowrank_lp_rounding(a, 1, o, &g, &full));
    lowrank_matrix_free(g);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_MAX_ITER, 1));
    ck_assert_ok(lowrank_lp_rounding(a, 1, o, &g, &alpha));
    distortion(a, g, 1, 2000, &lo, &hi);
    ck_assert_double_ge(lo, 1 - 1e-10);
    ck_assert_double_le(hi, alpha * (1 + 1e-10));
    ck_assert_double_ge(alpha, full * (1 - 1e-12));
    lowrank_matrix_free(g);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
}
END_TEST

/* One column: the body is an interval and G = ||a||_p exactly. */
START_TEST(rounding_in_one_dimension)
{
    const double v[4] = {1, -2, 0, 4};
    lowrank_matrix *a = from_rows(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 4, 1, v), *g = NULL;
    for (int64_t method = LOWRANK_METHOD_LEWIS; method <= LOWRANK_METHOD_LOWNER; method++) {
        lowrank_opts *o = method_opts(method);
        double alpha = 0;
        ck_assert_ok(lowrank_lp_rounding(a, 1, o, &g, &alpha));
        ck_assert_double_eq_tol(lr_matrix_at(g, 0, 0), 7, 1e-9);
        ck_assert_double_eq_tol(alpha, 1, 1e-9);
        lowrank_matrix_free(g);
        lowrank_opts_free(o);
    }
    lowrank_matrix_free(a);
}
END_TEST

START_TEST(rounding_errors)
{
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 10, 3, 2);
    lowrank_matrix *g = (lowrank_matrix *)&g;
    double alpha;
    ck_assert_fails(lowrank_lp_rounding(a, 1, NULL, NULL, &alpha), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_lp_rounding(NULL, 1, NULL, &g, &alpha), LOWRANK_EINVAL);
    ck_assert_ptr_null(g);
    ck_assert_fails(lowrank_lp_rounding(a, 1, NULL, &g, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_lp_rounding(a, 0.5, NULL, &g, &alpha), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_lp_rounding(a, NAN, NULL, &g, &alpha), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_lp_rounding(a, -INFINITY, NULL, &g, &alpha), LOWRANK_ERANGE);
    lowrank_opts *o = method_opts(LOWRANK_METHOD_EXACT);
    ck_assert_fails(lowrank_lp_rounding(a, 1, o, &g, &alpha), LOWRANK_ERANGE);
    lowrank_opts_free(o);
    ck_assert_ok(lowrank_matrix_set(a, 4, 1, NAN));
    ck_assert_fails(lowrank_lp_rounding(a, 1, NULL, &g, &alpha), LOWRANK_ENONFINITE);
    for (int64_t i = 0; i < 10; i++) /* a repeated column */
        ck_assert_ok(lowrank_matrix_set(a, i, 1, lr_matrix_at(a, i, 2)));
    for (int64_t method = LOWRANK_METHOD_LEWIS; method <= LOWRANK_METHOD_LOWNER; method++) {
        o = method_opts(method);
        ck_assert_fails(lowrank_lp_rounding(a, 1, o, &g, &alpha), LOWRANK_EDEGENERATE);
        ck_assert_ptr_null(g);
        lowrank_opts_free(o);
    }
    ck_assert_fails(lowrank_lp_rounding(a, INFINITY, NULL, &g, &alpha), LOWRANK_EDEGENERATE);
    lowrank_matrix_free(a);
    a = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 2, 3, 2); /* n < d */
    ck_assert_fails(lowrank_lp_rounding(a, 1, NULL, &g, &alpha), LOWRANK_EDEGENERATE);
    lowrank_matrix_free(a);
}
END_TEST

static int rounding_call(void *ctx)
{
    const call_ctx *c = ctx;
    lowrank_matrix *g = (lowrank_matrix *)&g;
    double alpha;
    int rc = lowrank_lp_rounding(c->m, c->p, c->opts, &g, &alpha);
    rc = output_status(rc, g);
    lowrank_matrix_free(g);
    return rc;
}

START_TEST(rounding_allocation_failure)
{
    lowrank_matrix *a = test_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 30, 3, 5);
    call_ctx c = {a, method_opts(_i == 1 ? LOWRANK_METHOD_LOWNER : LOWRANK_METHOD_LEWIS),
                  _i == 2 ? INFINITY : 1};
    ck_assert(check_alloc_failures(rounding_call, &c) > 3);
    lowrank_opts_free(c.opts);
    lowrank_matrix_free(a);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("ellipsoid");
    TCase *tc = tcase_create("mvee");
    tcase_add_loop_test(tc, mvee_encloses_every_point_and_certifies_eps, 0, 4);
    tcase_add_test(tc, mvee_origin_encloses_points_and_negatives);
    tcase_add_test(tc, mvee_of_a_simplex);
    tcase_add_test(tc, mvee_of_cube_vertices);
    tcase_add_test(tc, mvee_of_points_on_an_ellipsoid);
    tcase_add_test(tc, mvee_is_affinely_equivariant);
    tcase_add_test(tc, mvee_of_duplicated_points);
    tcase_add_test(tc, mvee_in_one_dimension);
    tcase_add_test(tc, mvee_of_a_flat_is_degenerate);
    tcase_add_test(tc, mvee_errors);
    tcase_add_loop_test(tc, mvee_allocation_failure, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("rounding");
    tcase_add_loop_test(tc, rounding_inequality_holds, 0, 40);
    tcase_add_loop_test(tc, rounding_p2_is_the_gram_root, 0, 2);
    tcase_add_loop_test(tc, rounding_capped_stays_certified, 0, 2);
    tcase_add_test(tc, rounding_in_one_dimension);
    tcase_add_test(tc, rounding_errors);
    tcase_add_loop_test(tc, rounding_allocation_failure, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
