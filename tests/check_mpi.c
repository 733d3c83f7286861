/*
 * check_mpi.c - liblowrank_mpi, run by tests/test_mpi.sh under mpirun with
 * 1 to 4 ranks: the distributed results against liblowrank's on the whole
 * matrix (the independent truth: the serial library, itself checked against
 * LAPACK), for every route, dtype, layout and uneven splits of the rows;
 * determinism; every error reaching every rank; every allocation failing in
 * turn on one rank.  Not a Check suite: Check's assertions leave a test at
 * the first failure, which would leave the other ranks waiting; here every
 * rank runs every step and counts its failures, and the counts are summed.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "lowrank_mpi.h"
#include "mpi_internal.h"
#include "random.h"
#include "testutil.h"

static int rank, size, failures, checks;

static void check(int ok, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(int ok, int line, const char *fmt, ...)
{
    checks++;
    if (ok)
        return;
    failures++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL rank %d/%d, line %d: ", rank, size, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
#define CHECK(ok, ...) check((ok), __LINE__, __VA_ARGS__)

/* Every rank returned rc, and *out is NULL exactly on failure. */
static void check_everywhere(int rc, const void *out, int want, int line)
{
    int lo, hi;
    MPI_Allreduce(&rc, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&rc, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    check(lo == hi, line, "the ranks returned %d to %d", lo, hi);
    check(rc == want, line, "returned %d (%s: %s), expected %d", rc, lowrank_strerror(rc),
          lowrank_mpi_last_error(), want);
    check((rc == LOWRANK_OK) == (out != NULL), line, "output %p for status %d", out, rc);
}
/* The call first: its output is read after it. */
#define EVERYWHERE(call, out, want)                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        check_everywhere(rc_, (out), (want), __LINE__);                                            \
    } while (0)

/* ------------------------------------------------------------ matrices */

/* The first row and the rows of rank r of m rows over p ranks, split
 * evenly. */
static void even(int64_t m, int p, int r, int64_t *first, int64_t *rows)
{
    int64_t base = m / p, extra = m % p;
    *rows = base + (r < extra);
    *first = r * base + (r < extra ? r : extra);
}

/* This rank's rows: an even split or (uneven) one row on rank 0 and the
 * others' shared evenly. */
static void split(int64_t m, int r, int uneven, int64_t *first, int64_t *rows)
{
    if (!uneven || size == 1) {
        even(m, size, r, first, rows);
    } else if (r == 0) {
        *first = 0;
        *rows = 1;
    } else {
        even(m - 1, size - 1, r - 1, first, rows);
        *first += 1;
    }
}

/* A (m x n, column-major double) = U diag(s) V^T, U and V orthonormal from
 * Gaussian matrices of the seed; s has min(m, n) values. */
static double *columns_with_spectrum(int64_t m, int64_t n, const double *s, uint64_t seed)
{
    int64_t r = m < n ? m : n;
    double *u = malloc((size_t)(m * r) * sizeof *u), *v = malloc((size_t)(n * r) * sizeof *v),
           *a = malloc((size_t)(m * n) * sizeof *a);
    lr_rng g;
    lr_rng_seed(&g, seed);
    lr_rng_fill_normal(&g, LOWRANK_FLOAT64, u, m * r);
    lr_rng_fill_normal(&g, LOWRANK_FLOAT64, v, n * r);
    lr_qr(LOWRANK_FLOAT64, m, r, u, m, NULL, 1);
    lr_qr(LOWRANK_FLOAT64, n, r, v, n, NULL, 1);
    for (int64_t j = 0; j < r; j++)
        for (int64_t i = 0; i < m; i++)
            u[i + j * m] *= s[j];
    lr_gemm(LOWRANK_FLOAT64, 'N', 'T', m, n, r, 1.0, u, m, v, n, 0.0, a, m);
    free(u);
    free(v);
    return a;
}

/* Rows first..first+rows-1 of the column-major m x n a, as a new matrix of
 * the given kind. */
static lowrank_matrix *rows_of(const double *a, int64_t m, int64_t n, int64_t first, int64_t rows,
                               lowrank_dtype t, lowrank_layout l)
{
    lowrank_matrix *x;
    if (lowrank_matrix_new(t, l, rows, n, &x) != LOWRANK_OK)
        abort();
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < rows; i++)
            lowrank_matrix_set(x, i, j, a[first + i + j * m]);
    return x;
}

static double at(const lowrank_matrix *x, int64_t i, int64_t j)
{
    double v = NAN;
    lowrank_matrix_get(x, i, j, &v);
    return v;
}

/* ------------------------------------------------------------ comparisons */

/* The distributed factors f of the rows first.. against the serial g of the
 * whole matrix: singular values within tol_s * s_1, V and this rank's rows
 * of U within tol_v (up to each pair's sign), U orthonormal over the ranks,
 * the errors within tol_s. */
static void compare(const lowrank_factors *f, const lowrank_factors *g, int64_t first,
                    double tol_s, double tol_v, const char *what)
{
    int64_t k = lowrank_factors_rank(g), n = lowrank_factors_cols(g), m = lowrank_factors_rows(f);
    CHECK(lowrank_factors_rank(f) == k, "%s: rank %lld, expected %lld", what,
          (long long)lowrank_factors_rank(f), (long long)k);
    if (lowrank_factors_rank(f) != k)
        return;
    const lowrank_matrix *sf = lowrank_factors_s(f), *sg = lowrank_factors_s(g);
    double s1 = at(sg, 0, 0), worst_s = 0, worst_v = 0, worst_u = 0;
    for (int64_t j = 0; j < k; j++) {
        worst_s = fmax(worst_s, fabs(at(sf, j, 0) - at(sg, j, 0)) / s1);
        double dot = 0;
        for (int64_t i = 0; i < n; i++)
            dot += at(lowrank_factors_vt(f), j, i) * at(lowrank_factors_vt(g), j, i);
        double sign = dot < 0 ? -1 : 1;
        for (int64_t i = 0; i < n; i++)
            worst_v = fmax(worst_v, fabs(at(lowrank_factors_vt(f), j, i) -
                                         sign * at(lowrank_factors_vt(g), j, i)));
        for (int64_t i = 0; i < m; i++)
            worst_u = fmax(worst_u, fabs(at(lowrank_factors_u(f), i, j) -
                                         sign * at(lowrank_factors_u(g), first + i, j)));
    }
    CHECK(worst_s <= tol_s, "%s: singular values off by %.3g sigma_1", what, worst_s);
    CHECK(worst_v <= tol_v, "%s: V off by %.3g", what, worst_v);
    CHECK(worst_u <= tol_v, "%s: U off by %.3g", what, worst_u);
    /* U^T U = I summed over the ranks */
    double *gram = calloc((size_t)(k * k), sizeof *gram), worst = 0;
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++)
            for (int64_t i = 0; i < m; i++)
                gram[a + b * k] += at(lowrank_factors_u(f), i, a) * at(lowrank_factors_u(f), i, b);
    MPI_Allreduce(MPI_IN_PLACE, gram, (int)(k * k), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++)
            worst = fmax(worst, fabs(gram[a + b * k] - (a == b)));
    free(gram);
    CHECK(worst <= tol_v, "%s: U^T U - I = %.3g", what, worst);
    double ef, eg;
    lowrank_factors_error(f, &ef);
    lowrank_factors_error(g, &eg);
    CHECK(fabs(ef - eg) <= fmax(tol_s, 1e-6), "%s: error %.9g, serial %.9g", what, ef, eg);
}

static lowrank_opts *opts_of(int64_t method, int64_t over, int64_t power, double tol)
{
    lowrank_opts *o;
    lowrank_opts_new(&o);
    lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, method);
    lowrank_opts_set_int(o, LOWRANK_OPT_OVERSAMPLING, over);
    lowrank_opts_set_int(o, LOWRANK_OPT_POWER_ITER, power);
    lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, tol);
    return o;
}

static double stat_of(const lowrank_mpi_stats *s, lowrank_mpi_stat key)
{
    double v = NAN;
    lowrank_mpi_stats_get(s, key, &v);
    return v;
}

/* ------------------------------------------------------------ svd */

/* One case: the distributed SVD of the rows of a against the serial SVD of
 * all of a, with the same options; the route taken. */
static void svd_case(const double *a, int64_t m, int64_t n, int64_t k, lowrank_dtype t,
                     lowrank_layout l, int uneven, const lowrank_opts *o, int force_tsqr,
                     double tol_s, double tol_v, int route, const char *what)
{
    int64_t first, rows;
    split(m, rank, uneven, &first, &rows);
    lowrank_matrix *whole = rows_of(a, m, n, 0, m, t, l),
                   *local = rows_of(a, m, n, first, rows, t, l);
    lowrank_factors *f = NULL, *g = NULL;
    lowrank_mpi_stats *st;
    lowrank_mpi_stats_new(&st);
    int rc = lrm_svd(MPI_COMM_WORLD, local, k, o, &f, st, force_tsqr);
    EVERYWHERE(rc, f, LOWRANK_OK);
    CHECK(lowrank_svd(whole, k, o, &g) == LOWRANK_OK, "%s: serial: %s", what, lowrank_last_error());
    if (f && g)
        compare(f, g, first, tol_s, tol_v, what);
    CHECK(stat_of(st, LOWRANK_MPI_STAT_ROUTE) == route, "%s: route %g, expected %d", what,
          stat_of(st, LOWRANK_MPI_STAT_ROUTE), route);
    CHECK(stat_of(st, LOWRANK_MPI_STAT_ROWS) == (double)m, "%s: rows %g", what,
          stat_of(st, LOWRANK_MPI_STAT_ROWS));
    /* the bytes: each rank's, summed, and none with one rank */
    double mine = stat_of(st, LOWRANK_MPI_STAT_BYTES_RANK), all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    CHECK(all == stat_of(st, LOWRANK_MPI_STAT_BYTES), "%s: bytes %g, summed %g", what,
          stat_of(st, LOWRANK_MPI_STAT_BYTES), all);
    CHECK((size == 1) == (all == 0), "%s: %g bytes with %d ranks", what, all, size);
    CHECK(isnan(stat_of(st, LOWRANK_MPI_STAT_COST)), "%s: a cost from an SVD", what);
    lowrank_mpi_stats_free(st);
    lowrank_factors_free(f);
    lowrank_factors_free(g);
    lowrank_matrix_free(whole);
    lowrank_matrix_free(local);
}

static void svd_matches_serial(void)
{
    const int64_t m = 203, n = 37;
    double s[37];
    for (int i = 0; i < 37; i++)
        s[i] = pow(0.8, i);
    double *a = columns_with_spectrum(m, n, s, 11);
    lowrank_opts *exact = opts_of(LOWRANK_METHOD_EXACT, -1, -1, 0);
    const lowrank_dtype ts[] = {LOWRANK_FLOAT64, LOWRANK_FLOAT32};
    const lowrank_layout ls[] = {LOWRANK_ROW_MAJOR, LOWRANK_COL_MAJOR};
    for (int d = 0; d < 2; d++)
        for (int l = 0; l < 2; l++) {
            double tol = d == 0 ? 1e-12 : 2e-5, tolv = d == 0 ? 1e-9 : 2e-3;
            svd_case(a, m, n, 6, ts[d], ls[l], l, exact, 0, tol, tolv, LOWRANK_MPI_ROUTE_GRAM,
                     "exact");
            svd_case(a, m, n, 6, ts[d], ls[l], !l, exact, 1, tol, tolv, LOWRANK_MPI_ROUTE_TSQR,
                     "exact by TSQR");
            svd_case(a, m, n, n, ts[d], ls[l], l, exact, 0, tol, tolv, LOWRANK_MPI_ROUTE_GRAM,
                     "exact, k = n");
        }
    /* k = 0: the rank from the tolerance, whatever the method */
    lowrank_opts *tol = opts_of(LOWRANK_METHOD_EXACT, -1, -1, 0.3),
                 *rtol = opts_of(LOWRANK_METHOD_RANDOMIZED, -1, -1, 0.3);
    svd_case(a, m, n, 0, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 0, tol, 0, 1e-12, 1e-9,
             LOWRANK_MPI_ROUTE_GRAM, "tolerance");
    svd_case(a, m, n, 0, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 0, tol, 1, 1e-12, 1e-9,
             LOWRANK_MPI_ROUTE_TSQR, "tolerance by TSQR");
    lowrank_matrix *whole = rows_of(a, m, n, 0, m, LOWRANK_FLOAT64, LOWRANK_COL_MAJOR);
    int64_t first, rows;
    split(m, rank, 0, &first, &rows);
    lowrank_matrix *local = rows_of(a, m, n, first, rows, LOWRANK_FLOAT64, LOWRANK_COL_MAJOR);
    lowrank_factors *f, *g;
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, local, 0, rtol, &f, NULL), f, LOWRANK_OK);
    lowrank_svd(whole, 0, tol, &g);
    CHECK(lowrank_factors_rank(f) == lowrank_factors_rank(g), "tolerance: rank %lld, serial %lld",
          (long long)lowrank_factors_rank(f), (long long)lowrank_factors_rank(g));
    lowrank_factors_free(f);
    lowrank_factors_free(g);
    lowrank_matrix_free(whole);
    lowrank_matrix_free(local);
    lowrank_opts_free(exact);
    lowrank_opts_free(tol);
    lowrank_opts_free(rtol);
    free(a);
}

/* The randomized route from lowrank_svd's random block spans lowrank_svd's
 * Krylov space: the same values and vectors to rounding. */
static void randomized_matches_serial(void)
{
    const int64_t m = 300, n = 120;
    double s[120];
    for (int i = 0; i < 120; i++)
        s[i] = 1 / (1.0 + i);
    double *a = columns_with_spectrum(m, n, s, 13);
    lowrank_opts *r = opts_of(LOWRANK_METHOD_RANDOMIZED, 10, 2, 0),
                 *auto_ = opts_of(LOWRANK_METHOD_AUTO, 5, 1, 0);
    svd_case(a, m, n, 5, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 0, r, 0, 1e-10, 1e-6,
             LOWRANK_MPI_ROUTE_KRYLOV, "randomized");
    svd_case(a, m, n, 5, LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 1, r, 0, 1e-10, 1e-6,
             LOWRANK_MPI_ROUTE_KRYLOV, "randomized, uneven");
    svd_case(a, m, n, 5, LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 0, r, 0, 1e-5, 1e-2,
             LOWRANK_MPI_ROUTE_KRYLOV, "randomized float32");
    svd_case(a, m, n, 5, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 0, auto_, 0, 1e-10, 1e-6,
             LOWRANK_MPI_ROUTE_KRYLOV, "auto, randomized");
    svd_case(a, m, n, 40, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 0, auto_, 0, 1e-12, 1e-8,
             LOWRANK_MPI_ROUTE_GRAM, "auto, exact");
    lowrank_opts_free(r);
    lowrank_opts_free(auto_);
    free(a);
}

/* Fewer rows than ranks' worth of columns, the zero matrix, extreme
 * magnitudes (c A gives c times the values), determinism. */
static void svd_edges(void)
{
    double s[4] = {3, 2, 1, 0.5};
    double *a = columns_with_spectrum(9, 4, s, 17);
    lowrank_opts *exact = opts_of(LOWRANK_METHOD_EXACT, -1, -1, 0);
    svd_case(a, 9, 4, 3, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 1, exact, 0, 1e-13, 1e-10,
             LOWRANK_MPI_ROUTE_GRAM, "few rows");
    svd_case(a, 9, 4, 3, LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 1, exact, 1, 1e-13, 1e-10,
             LOWRANK_MPI_ROUTE_TSQR, "few rows by TSQR");
    int64_t first, rows;
    split(40, rank, 0, &first, &rows);
    lowrank_matrix *zero, *big, *small;
    lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, rows, 6, &zero);
    lowrank_factors *f = NULL, *f1 = NULL, *f2 = NULL;
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, zero, 2, exact, &f, NULL), f, LOWRANK_OK);
    if (f)
        CHECK(at(lowrank_factors_s(f), 0, 0) == 0, "zero matrix: s_1 = %g",
              at(lowrank_factors_s(f), 0, 0));
    lowrank_factors_free(f);
    double sb[6] = {5, 4, 3, 2, 1, 0.5};
    double *b = columns_with_spectrum(40, 6, sb, 19);
    for (int64_t i = 0; i < 240; i++)
        b[i] *= 0x1p900;
    big = rows_of(b, 40, 6, first, rows, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR);
    for (int64_t i = 0; i < 240; i++)
        b[i] = ldexp(b[i], -1800);
    small = rows_of(b, 40, 6, first, rows, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR);
    lowrank_opts *r = opts_of(LOWRANK_METHOD_RANDOMIZED, 1, 1, 0);
    for (int route = 0; route < 2; route++) {
        EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, big, 2, route ? r : exact, &f1, NULL), f1,
                   LOWRANK_OK);
        EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, small, 2, route ? r : exact, &f2, NULL), f2,
                   LOWRANK_OK);
        for (int64_t j = 0; f1 && f2 && j < 2; j++)
            CHECK(fabs(ldexp(at(lowrank_factors_s(f1), j, 0), -1800) /
                           at(lowrank_factors_s(f2), j, 0) - 1) < 1e-12 &&
                      fabs(at(lowrank_factors_s(f2), j, 0) / ldexp(sb[j], -900) - 1) < 1e-12,
                  "scaled: s_%lld = %g and %g", (long long)j, at(lowrank_factors_s(f1), j, 0),
                  at(lowrank_factors_s(f2), j, 0));
        lowrank_factors_free(f1);
        lowrank_factors_free(f2);
    }
    /* the same call twice: the same bits */
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, big, 2, r, &f1, NULL), f1, LOWRANK_OK);
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, big, 2, r, &f2, NULL), f2, LOWRANK_OK);
    if (f1 && f2)
        CHECK(memcmp(lowrank_matrix_data(lowrank_factors_u(f1)),
                     lowrank_matrix_data(lowrank_factors_u(f2)), (size_t)(rows * 2) * 8) == 0 &&
                  memcmp(lowrank_matrix_data(lowrank_factors_vt(f1)),
                         lowrank_matrix_data(lowrank_factors_vt(f2)), 12 * 8) == 0,
              "two runs differ");
    lowrank_factors_free(f1);
    lowrank_factors_free(f2);
    lowrank_opts_free(r);
    lowrank_opts_free(exact);
    lowrank_matrix_free(zero);
    lowrank_matrix_free(big);
    lowrank_matrix_free(small);
    free(a);
    free(b);
}

/* ------------------------------------------------------------ lp */

/* The largest principal angle between span(u) and the rows of vt, degrees. */
static double angle(const double *u, const lowrank_matrix *vt, int64_t d, int64_t k)
{
    double m[16], s[4];
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++) {
            double dot = 0;
            for (int64_t j = 0; j < d; j++)
                dot += u[j + a * d] * at(vt, b, j);
            m[a + b * k] = dot;
        }
    lr_gesdd(LOWRANK_FLOAT64, k, k, m, k, s, NULL, 1, NULL, 1);
    return acos(fmin(1.0, s[k - 1])) * 180 / M_PI;
}

/* The l1 fit recovers the haystack as the serial fit does, its cost (on
 * every rank) is that of its subspace on all the rows, within 5% of the
 * serial cost; the SVD form holds. */
static void lp_recovers_the_haystack(void)
{
    const int64_t n = 3000, d = 8, k = 2;
    double u[16], *x = malloc((size_t)(n * d) * sizeof *x);
    haystack(n, d, k, 0.3, 23, u, x);
    for (int uneven = 0; uneven < 2; uneven++) {
        int64_t first, rows;
        split(n, rank, uneven, &first, &rows);
        lowrank_dtype t = uneven ? LOWRANK_FLOAT32 : LOWRANK_FLOAT64;
        lowrank_matrix *whole = rows_of(x, n, d, 0, n, t, LOWRANK_ROW_MAJOR),
                       *local = rows_of(x, n, d, first, rows, t, LOWRANK_COL_MAJOR);
        lowrank_factors *f = NULL, *g = NULL, *h = NULL;
        lowrank_mpi_stats *st;
        lowrank_mpi_stats_new(&st);
        EVERYWHERE(lowrank_mpi_lp(MPI_COMM_WORLD, local, k, 1.0, NULL, &f, st), f, LOWRANK_OK);
        lowrank_lp(whole, k, 1.0, NULL, &g);
        double cost = stat_of(st, LOWRANK_MPI_STAT_COST), serial = 0, check_cost = 0, own = 0;
        lowrank_lp_cost(whole, g, 1.0, LOWRANK_OBJECTIVE_ROWS, &serial);
        if (f) {
            /* the cost of f's subspace on every row, from its V alone */
            lowrank_matrix *uz, *s;
            lowrank_matrix_new(t, LOWRANK_COL_MAJOR, n, k, &uz);
            lowrank_matrix_new(t, LOWRANK_COL_MAJOR, k, 1, &s);
            lowrank_factors_new(uz, s, lowrank_factors_vt(f), 0, &h);
            lowrank_lp_cost(whole, h, 1.0, LOWRANK_OBJECTIVE_ROWS, &check_cost);
            lowrank_lp_cost(local, f, 1.0, LOWRANK_OBJECTIVE_ROWS, &own);
            double a = angle(u, lowrank_factors_vt(f), d, k);
            CHECK(a < 1, "lp: %.3f degrees from the planted subspace", a);
            lowrank_matrix_free(uz);
            lowrank_matrix_free(s);
        }
        MPI_Allreduce(MPI_IN_PLACE, &own, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        double tol = t == LOWRANK_FLOAT32 ? 1e-5 : 1e-10;
        CHECK(fabs(cost - check_cost) <= tol * cost && fabs(own - cost) <= tol * cost,
              "lp: cost %.9g, of its subspace %.9g, summed %.9g", cost, check_cost, own);
        CHECK(cost <= 1.05 * serial, "lp: cost %.6g, serial %.6g", cost, serial);
        double fit_rank = stat_of(st, LOWRANK_MPI_STAT_FIT_RANK);
        CHECK(fit_rank >= -1 && fit_rank < size, "lp: fit from rank %g", fit_rank);
        CHECK(stat_of(st, LOWRANK_MPI_STAT_CORESET_SIZE) <= n &&
                  stat_of(st, LOWRANK_MPI_STAT_CORESET_SIZE) >= k,
              "lp: coreset of %g rows", stat_of(st, LOWRANK_MPI_STAT_CORESET_SIZE));
        CHECK(isnan(stat_of(st, LOWRANK_MPI_STAT_ROUTE)), "lp: a route");
        lowrank_mpi_stats_free(st);
        lowrank_factors_free(f);
        lowrank_factors_free(g);
        lowrank_factors_free(h);
        lowrank_matrix_free(whole);
        lowrank_matrix_free(local);
    }
    free(x);
}

/* ------------------------------------------------------------ errors */

/* local on every rank, but on rank `on` (-1: none) bad instead. */
static void errors(void)
{
    int64_t first, rows;
    split(60, rank, 0, &first, &rows);
    double s[5] = {5, 4, 3, 2, 1};
    double *a = columns_with_spectrum(60, 5, s, 29);
    lowrank_matrix *local = rows_of(a, 60, 5, first, rows, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR),
                   *wide = rows_of(a, 60, 4, first, rows, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR),
                   *f32 = rows_of(a, 60, 5, first, rows, LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR),
                   *nan = rows_of(a, 60, 5, first, rows, LOWRANK_FLOAT64, LOWRANK_COL_MAJOR);
    lowrank_matrix_set(nan, rows - 1, 2, NAN);
    lowrank_factors *f = (lowrank_factors *)&f;
    int last = size - 1;
    /* a NaN on the last rank only */
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, rank == last ? nan : local, 2, NULL, &f, NULL), f,
               LOWRANK_ENONFINITE);
    char want[64];
    snprintf(want, sizeof want, "rank %d: local(%lld, 2) = nan", last, (long long)rows - 1);
    CHECK(strstr(lowrank_mpi_last_error(), want) != NULL, "message '%s', expected '%s'",
          lowrank_mpi_last_error(), want);
    EVERYWHERE(lowrank_mpi_lp(MPI_COMM_WORLD, rank == last ? nan : local, 2, 1, NULL, &f, NULL), f,
               LOWRANK_ENONFINITE);
    /* k on one rank differs; too large everywhere; 0 without a tolerance */
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, local, rank == last ? 3 : 2, NULL, &f, NULL), f,
               size > 1 ? LOWRANK_EINVAL : LOWRANK_OK);
    if (size > 1)
        CHECK(strstr(lowrank_mpi_last_error(), "k differs between ranks (from 2 to 3)") != NULL,
              "message '%s'", lowrank_mpi_last_error());
    lowrank_factors_free(f);
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, local, 6, NULL, &f, NULL), f, LOWRANK_ERANGE);
    CHECK(strstr(lowrank_mpi_last_error(), "rank 0: k = 6 is outside [0, min(rows, cols) = 5]") !=
              NULL, "message '%s'", lowrank_mpi_last_error());
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, local, -1, NULL, &f, NULL), f, LOWRANK_ERANGE);
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, local, 0, NULL, &f, NULL), f, LOWRANK_ERANGE);
    EVERYWHERE(lowrank_mpi_lp(MPI_COMM_WORLD, local, 6, 1, NULL, &f, NULL), f, LOWRANK_ERANGE);
    EVERYWHERE(lowrank_mpi_lp(MPI_COMM_WORLD, local, 0, 1, NULL, &f, NULL), f, LOWRANK_ERANGE);
    /* blocks of another width or dtype on one rank; NULL block; NULL out */
    int want_rc = size > 1 ? LOWRANK_EINVAL : LOWRANK_OK;
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, rank == last ? wide : local, 2, NULL, &f, NULL), f,
               want_rc);
    lowrank_factors_free(f);
    EVERYWHERE(lowrank_mpi_lp(MPI_COMM_WORLD, rank == last ? f32 : local, 2, 1, NULL, &f, NULL), f,
               want_rc);
    lowrank_factors_free(f);
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, rank == last ? NULL : local, 2, NULL, &f, NULL), f,
               LOWRANK_EINVAL);
    int rc = lowrank_mpi_svd(MPI_COMM_WORLD, local, 2, NULL, rank == last ? NULL : &f, NULL);
    EVERYWHERE(rc, rank == last ? NULL : f, LOWRANK_EINVAL);
    rc = lowrank_mpi_lp(MPI_COMM_WORLD, local, 2, 1, NULL, rank == last ? NULL : &f, NULL);
    EVERYWHERE(rc, rank == last ? NULL : f, LOWRANK_EINVAL);
    /* options: a method svd does not take; p; the entries objective; one
     * rank's seed differs */
    lowrank_opts *o;
    lowrank_opts_new(&o);
    lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, LOWRANK_METHOD_LEWIS);
    EVERYWHERE(lowrank_mpi_svd(MPI_COMM_WORLD, local, 2, o, &f, NULL), f, LOWRANK_EINVAL);
    EVERYWHERE(lowrank_mpi_lp(MPI_COMM_WORLD, local, 2, INFINITY, NULL, &f, NULL), f,
               LOWRANK_ERANGE);
    EVERYWHERE(lowrank_mpi_lp(MPI_COMM_WORLD, local, 2, NAN, NULL, &f, NULL), f, LOWRANK_ERANGE);
    EVERYWHERE(lowrank_mpi_lp(MPI_COMM_WORLD, local, 2, 0.5, NULL, &f, NULL), f, LOWRANK_ERANGE);
    lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, LOWRANK_METHOD_AUTO);
    lowrank_opts_set_int(o, LOWRANK_OPT_OBJECTIVE, LOWRANK_OBJECTIVE_ENTRIES);
    EVERYWHERE(lowrank_mpi_lp(MPI_COMM_WORLD, local, 2, 1, o, &f, NULL), f, LOWRANK_EUNSUPPORTED);
    lowrank_opts_set_int(o, LOWRANK_OPT_OBJECTIVE, LOWRANK_OBJECTIVE_ROWS);
    lowrank_opts_set_int(o, LOWRANK_OPT_SEED, rank == last ? 5 : 6);
    EVERYWHERE(lowrank_mpi_lp(MPI_COMM_WORLD, local, 2, 1, o, &f, NULL), f, want_rc);
    lowrank_factors_free(f);
    lowrank_opts_free(o);
    /* communicators: these fail on each rank alone, without communicating */
    CHECK(lowrank_mpi_svd(MPI_COMM_NULL, local, 2, NULL, &f, NULL) == LOWRANK_EINVAL && !f,
          "MPI_COMM_NULL accepted");
    CHECK(lowrank_mpi_lp(MPI_COMM_NULL, local, 2, 1, NULL, &f, NULL) == LOWRANK_EINVAL && !f,
          "MPI_COMM_NULL accepted");
    /* the statistics handle */
    lowrank_mpi_stats *st;
    double v;
    CHECK(lowrank_mpi_stats_new(NULL) == LOWRANK_EINVAL, "stats_new(NULL)");
    lowrank_mpi_stats_new(&st);
    CHECK(lowrank_mpi_stats_get(st, LOWRANK_MPI_STAT_BYTES, &v) == LOWRANK_OK && isnan(v),
          "a new handle's bytes: %g", v);
    CHECK(lowrank_mpi_stats_get(NULL, LOWRANK_MPI_STAT_BYTES, &v) == LOWRANK_EINVAL, "NULL stats");
    CHECK(lowrank_mpi_stats_get(st, LOWRANK_MPI_STAT_BYTES, NULL) == LOWRANK_EINVAL, "NULL value");
    CHECK(lowrank_mpi_stats_get(st, (lowrank_mpi_stat)0, &v) == LOWRANK_EINVAL, "key 0");
    CHECK(lowrank_mpi_stats_get(st, (lowrank_mpi_stat)99, &v) == LOWRANK_EINVAL, "key 99");
    lowrank_mpi_stats_free(st);
    lowrank_mpi_stats_free(NULL);
    lowrank_matrix_free(local);
    lowrank_matrix_free(wide);
    lowrank_matrix_free(f32);
    lowrank_matrix_free(nan);
    free(a);
}

/* ------------------------------------------------------------ allocations */

typedef struct call {
    const lowrank_matrix *local;
    const lowrank_opts *opts;
    int lp, force_tsqr;
} call;

static int run(const call *c, lowrank_factors **f)
{
    return c->lp ? lowrank_mpi_lp(MPI_COMM_WORLD, c->local, 2, 1.0, c->opts, f, NULL)
                 : lrm_svd(MPI_COMM_WORLD, c->local, 2, c->opts, f, NULL, c->force_tsqr);
}

/* Allocation n of rank `on`'s call fails, for n = 0, 1, ... until that
 * rank's call needs fewer: every rank must return LOWRANK_ENOMEM (none
 * waits), with no output, and nothing may leak (valgrind, ASan). */
static void allocation_failures_on(int on, const call *c)
{
    for (long n = 0;; n++) {
        lowrank_factors *f = NULL;
        if (rank == 0 && getenv("CHECK_MPI_VERBOSE"))
            printf("  call %s%s, allocation %ld of rank %d\n", c->lp ? "lp" : "svd",
                   c->force_tsqr ? " (TSQR)" : "", n, on), fflush(stdout);
        if (rank == on)
            inject_alloc_failure(n);
        int rc = run(c, &f);
        int failed = rank == on && alloc_count() > n;
        inject_alloc_failure(-1);
        MPI_Bcast(&failed, 1, MPI_INT, on, MPI_COMM_WORLD);
        if (!failed) {
            EVERYWHERE(rc, f, LOWRANK_OK);
            lowrank_factors_free(f);
            CHECK(n > 3, "only %ld allocations", n);
            return;
        }
        check_everywhere(rc, f, LOWRANK_ENOMEM, __LINE__);
        if (rc != LOWRANK_ENOMEM)
            fprintf(stderr, "  (allocation %ld of rank %d)\n", n, on);
        lowrank_factors_free(f);
    }
}

static void allocation_failures(void)
{
    int64_t first, rows;
    split(50, rank, 1, &first, &rows);
    double s[6] = {6, 5, 4, 3, 2, 1};
    double *a = columns_with_spectrum(50, 6, s, 31);
    lowrank_matrix *local = rows_of(a, 50, 6, first, rows, LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR);
    lowrank_opts *exact = opts_of(LOWRANK_METHOD_EXACT, -1, -1, 0),
                 *rand = opts_of(LOWRANK_METHOD_RANDOMIZED, 1, 1, 0), *lp;
    lowrank_opts_new(&lp);
    lowrank_opts_set_int(lp, LOWRANK_OPT_MPI_CORESET_SIZE, 8);
    const call calls[] = {{local, exact, 0, 0}, {local, exact, 0, 1}, {local, rand, 0, 0},
                          {local, lp, 1, 0}};
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        allocation_failures_on(0, &calls[i]);
        if (size > 1)
            allocation_failures_on(size - 1, &calls[i]);
    }
    lowrank_opts_free(exact);
    lowrank_opts_free(rand);
    lowrank_opts_free(lp);
    lowrank_matrix_free(local);
    free(a);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const struct {
        const char *name;
        void (*run)(void);
    } tests[] = {{"svd_matches_serial", svd_matches_serial},
                 {"randomized_matches_serial", randomized_matches_serial},
                 {"svd_edges", svd_edges},
                 {"lp_recovers_the_haystack", lp_recovers_the_haystack},
                 {"errors", errors},
                 {"allocation_failures", allocation_failures}};
    const char *only = getenv("CHECK_MPI_ONLY"); /* one test, by name */
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (only && strcmp(only, tests[i].name) != 0)
            continue;
        if (rank == 0 && getenv("CHECK_MPI_VERBOSE"))
            printf("%s\n", tests[i].name), fflush(stdout);
        tests[i].run();
    }
    int total[2] = {checks, failures};
    MPI_Allreduce(MPI_IN_PLACE, total, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("check_mpi, %d ranks: %d checks, %d failed\n", size, total[0], total[1]);
    MPI_Finalize();
    return total[1] == 0 ? 0 : 1;
}
