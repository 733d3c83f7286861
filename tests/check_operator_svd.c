/*
 * check_operator_svd.c - lowrank_svd_op and lowrank_lp_op on every kind of
 * operator and every route, against LAPACK's SVD of the same matrix dense
 * (the independent truth) and against lowrank_svd and lowrank_lp.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "testutil.h"

/* ------------------------------------------------------------ inputs */

/* A rows x cols float64 row-major matrix with singular values decaying as
 * i^-0.5 plus a sparse-like pattern: it is dense here, stored sparse when
 * most of it is zero. */
static lowrank_matrix *spectrum_matrix(lowrank_dtype t, int64_t rows, int64_t cols, double keep,
                                       uint64_t seed)
{
    lowrank_matrix *a;
    lr_rng r;
    lr_rng_seed(&r, seed);
    ck_assert_ok(lowrank_matrix_new(t, LOWRANK_ROW_MAJOR, rows, cols, &a));
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            if (lr_rng_uniform(&r) < keep) /* rows and columns of decreasing weight */
                ck_assert_ok(lowrank_matrix_set(a, i, j,
                                                lr_rng_normal(&r) / sqrt(1.0 + (double)(i + j))));
    return a;
}

/* U diag(s) V^T with s_i = 0.8^i and random orthonormal U, V: a spectrum
 * Krylov methods resolve in a few dozen columns. */
static lowrank_matrix *decaying_matrix(lowrank_dtype t, int64_t m, int64_t n, uint64_t seed)
{
    int64_t r = m < n ? m : n;
    double *s = malloc((size_t)r * sizeof *s);
    for (int64_t i = 0; i < r; i++)
        s[i] = pow(0.8, (double)i);
    lowrank_matrix *a = with_spectrum(t, LOWRANK_ROW_MAJOR, m, n, s, seed);
    free(s);
    return a;
}

/* The CSR arrays of a dense matrix's nonzeros, and a handle on them. */
typedef struct csr_copy {
    int64_t *ptr, *idx;
    void *val;
    lowrank_csr *a;
} csr_copy;

static csr_copy csr_of(const lowrank_matrix *d)
{
    csr_copy c;
    size_t es = d->dtype == LOWRANK_FLOAT32 ? 4 : 8;
    c.ptr = malloc((size_t)(d->rows + 1) * sizeof *c.ptr);
    c.idx = malloc((size_t)(d->rows * d->cols) * sizeof *c.idx);
    c.val = malloc((size_t)(d->rows * d->cols) * es);
    int64_t nnz = 0;
    c.ptr[0] = 0;
    for (int64_t i = 0; i < d->rows; i++) {
        for (int64_t j = d->cols - 1; j >= 0; j--) { /* descending: any order is allowed */
            double v = lr_matrix_at(d, i, j);
            if (v == 0)
                continue;
            if (d->dtype == LOWRANK_FLOAT32)
                ((float *)c.val)[nnz] = (float)v;
            else
                ((double *)c.val)[nnz] = v;
            c.idx[nnz++] = j;
        }
        c.ptr[i + 1] = nnz;
    }
    ck_assert_ok(lowrank_csr_wrap(d->dtype, d->rows, d->cols, nnz, c.ptr, c.idx, c.val, &c.a));
    return c;
}

static void csr_copy_free(csr_copy *c)
{
    lowrank_csr_free(c->a);
    free(c->ptr);
    free(c->idx);
    free(c->val);
}

/* An implicit operator: the dense matrix through a callback. */
static int dense_apply(lowrank_trans trans, int64_t nvec, const void *x, int64_t ldx, void *y,
                       int64_t ldy, void *user)
{
    const lowrank_matrix *a = user;
    int64_t out = trans == LOWRANK_NO_TRANS ? a->rows : a->cols;
    int64_t in = trans == LOWRANK_NO_TRANS ? a->cols : a->rows;
    for (int64_t c = 0; c < nvec; c++)
        for (int64_t i = 0; i < out; i++) {
            double s = 0;
            for (int64_t j = 0; j < in; j++) {
                double xv = a->dtype == LOWRANK_FLOAT32 ? ((const float *)x)[j + c * ldx]
                                                        : ((const double *)x)[j + c * ldx];
                s += (trans == LOWRANK_NO_TRANS ? lr_matrix_at(a, i, j) : lr_matrix_at(a, j, i)) *
                     xv;
            }
            if (a->dtype == LOWRANK_FLOAT32)
                ((float *)y)[i + c * ldy] = (float)s;
            else
                ((double *)y)[i + c * ldy] = s;
        }
    return 0;
}

/* Every kind of operator over the dense matrix d. */
enum { KIND_MATRIX, KIND_CSR, KIND_FILE, KIND_CALLBACK, NKINDS };
static const char *const kind_names[] = {"matrix", "csr", "file", "callback"};

typedef struct any_op {
    lowrank_operator *op;
    csr_copy csr;
} any_op;

static any_op make_op(int kind, const lowrank_matrix *d)
{
    any_op o = {NULL, {NULL, NULL, NULL, NULL}};
    char path[4096];
    switch (kind) {
    case KIND_MATRIX:
        ck_assert_ok(lowrank_operator_matrix(d, &o.op));
        break;
    case KIND_CSR:
        o.csr = csr_of(d);
        ck_assert_ok(lowrank_operator_csr(o.csr.a, &o.op));
        break;
    case KIND_FILE:
        test_path(path, sizeof path, "svd_op.npy");
        ck_assert_ok(lowrank_matrix_save_npy(d, path));
        ck_assert_ok(lowrank_operator_npy(path, &o.op));
        break;
    default:
        ck_assert_ok(lowrank_operator_new(d->dtype, LOWRANK_COL_MAJOR, d->rows, d->cols,
                                          dense_apply, (void *)(uintptr_t)d, &o.op));
    }
    return o;
}

static void free_op(any_op *o)
{
    lowrank_operator_free(o->op);
    if (o->csr.a)
        csr_copy_free(&o->csr);
}

static lowrank_opts *method(int64_t m)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, m));
    return o;
}

static double tol(lowrank_dtype t) { return t == LOWRANK_FLOAT32 ? 5e-5 : 1e-12; }

static double frobenius(const lowrank_matrix *a)
{
    double s = 0;
    for (int64_t i = 0; i < a->rows; i++)
        for (int64_t j = 0; j < a->cols; j++)
            s += lr_matrix_at(a, i, j) * lr_matrix_at(a, i, j);
    return sqrt(s);
}

/* ------------------------------------------------------------ the exact method */

/* The exact method on every kind, both shapes and dtypes: values within
 * the certified max(m, n) u sigma_1 of LAPACK's (here tol, tighter, as
 * these matrices converge), orthonormal factors, triplets exact to that
 * residual.  A sparse matrix and a callback take the operator route (a
 * small side of 260 leaves it a basis of 130 columns), a file its Gram
 * matrix. */
START_TEST(exact_matches_lapack)
{
    int kind = _i % NKINDS, wide = (_i / NKINDS) % 2;
    lowrank_dtype t = _i / (2 * NKINDS) ? LOWRANK_FLOAT32 : LOWRANK_FLOAT64;
    int64_t k = 6, m = wide ? 260 : 500, n = wide ? 500 : 260;
    lowrank_matrix *d = decaying_matrix(t, m, n, (uint64_t)_i);
    double *s = svd_truth(d);
    any_op o = make_op(kind, d);
    lowrank_opts *opts = method(LOWRANK_METHOD_EXACT);
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd_op(o.op, k, opts, &f));
    const lowrank_matrix *sv = lowrank_factors_s(f);
    ck_assert_int_eq(lowrank_factors_rank(f), k);
    ck_assert_int_eq(sv->dtype, t);
    for (int64_t i = 0; i < k; i++)
        ck_assert_msg(fabs(lr_matrix_at(sv, i, 0) - s[i]) <= tol(t) * s[0],
                      "%s %s %s: value %lld: %.17g, LAPACK %.17g", kind_names[kind],
                      wide ? "wide" : "tall", t == LOWRANK_FLOAT32 ? "float32" : "float64",
                      (long long)i, lr_matrix_at(sv, i, 0), s[i]);
    ck_assert_double_le(orthonormality(lowrank_factors_u(f), 0), 100 * tol(t));
    ck_assert_double_le(orthonormality(lowrank_factors_vt(f), 1), 100 * tol(t));
    ck_assert_double_le(triplet_residual(d, f), (double)m * (t == LOWRANK_FLOAT32 ? 0x1p-24 : 0x1p-53) * s[0] * 4);
    double err;
    ck_assert_ok(lowrank_factors_error(f, &err)); /* a callback's: NaN (no ||A||_F) */
    if (kind == KIND_CALLBACK)
        ck_assert(isnan(err));
    else
        ck_assert_double_le(fabs(err - svd_distance(d, f) / frobenius(d)), 1e-6);
    lowrank_factors_free(f);
    lowrank_opts_free(opts);
    free_op(&o);
    free(s);
    lowrank_matrix_free(d);
}
END_TEST

/* The routes behind the operator route: a basis cap too small for it sends
 * the exact method to the Gram matrix (formed from the operator's rows),
 * and a spectrum without a gap (the identity's) on to LAPACK's fallback,
 * the operator read into memory; both certified, both right. */
START_TEST(exact_falls_back)
{
    int kind = 1 + _i % 3; /* csr, file, callback */
    lowrank_matrix *d = spectrum_matrix(LOWRANK_FLOAT64, 200, 60, 0.5, 42);
    double *s = svd_truth(d);
    any_op o = make_op(kind, d);
    lowrank_opts *opts = method(LOWRANK_METHOD_EXACT);
    ck_assert_ok(lowrank_opts_set_int(opts, LOWRANK_OPT_MAX_ITER, 12));
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd_op(o.op, 5, opts, &f));
    for (int64_t i = 0; i < 5; i++)
        ck_assert_double_le(fabs(lr_matrix_at(lowrank_factors_s(f), i, 0) - s[i]), 1e-12 * s[0]);
    double err;
    ck_assert_ok(lowrank_factors_error(f, &err)); /* a callback's from the Gram trace */
    ck_assert_double_le(fabs(err - svd_distance(d, f) / frobenius(d)), 1e-6);
    lowrank_factors_free(f);
    free_op(&o);
    lowrank_matrix_free(d);
    free(s);
    /* the identity: no gap at k */
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 70, 40, &d));
    for (int64_t i = 0; i < 40; i++)
        ck_assert_ok(lowrank_matrix_set(d, i, i, 3.0));
    o = make_op(kind, d);
    int rc = lowrank_svd_op(o.op, 5, opts, &f);
    if (kind == KIND_FILE) { /* LAPACK's fallback never reads a file into memory */
        ck_assert_int_eq(rc, LOWRANK_ENOCONV);
        ck_assert_ptr_null(f);
    } else {
        ck_assert_ok(rc);
        for (int64_t i = 0; i < 5; i++)
            ck_assert_double_le(fabs(lr_matrix_at(lowrank_factors_s(f), i, 0) - 3), 1e-13);
        ck_assert_double_le(triplet_residual(d, f), 1e-13);
        lowrank_factors_free(f);
    }
    free_op(&o);
    lowrank_matrix_free(d);
    lowrank_opts_free(opts);
}
END_TEST

/* A basis too small to hold the Krylov space the values need: the
 * operator route restarts on its leading Ritz vectors (thick restart) and
 * still certifies; and a matrix with equal leading values, 4 of them (the
 * block's size), which a single vector could not resolve. */
START_TEST(operator_route_restarts)
{
    int kind = _i ? KIND_CALLBACK : KIND_CSR;
    lowrank_matrix *d = decaying_matrix(LOWRANK_FLOAT64, 600, 300, 31);
    double *s = svd_truth(d);
    any_op o = make_op(kind, d);
    lowrank_opts *opts = method(LOWRANK_METHOD_EXACT);
    ck_assert_ok(lowrank_opts_set_int(opts, LOWRANK_OPT_MAX_ITER, 24));
    lowrank_factors *f;
    ck_assert_ok(lowrank_svd_op(o.op, 5, opts, &f));
    for (int64_t i = 0; i < 5; i++)
        ck_assert_double_le(fabs(lr_matrix_at(lowrank_factors_s(f), i, 0) - s[i]), 1e-12 * s[0]);
    int64_t passes;
    ck_assert_ok(lowrank_operator_passes(o.op, &passes, NULL));
    ck_assert_int_gt(passes, 2 * 24 / 4); /* more products than one basis's worth */
    lowrank_factors_free(f);
    free_op(&o);
    lowrank_matrix_free(d);
    free(s);
    /* sigma = 5, 5, 5, 5, 4, 3, ... */
    double spec[300];
    for (int i = 0; i < 300; i++)
        spec[i] = i < 4 ? 5 : 4.0 * pow(0.9, i - 4);
    d = with_spectrum(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 600, 300, spec, 32);
    o = make_op(kind, d);
    ck_assert_ok(lowrank_svd_op(o.op, 5, opts, &f));
    for (int64_t i = 0; i < 5; i++)
        ck_assert_double_le(fabs(lr_matrix_at(lowrank_factors_s(f), i, 0) - spec[i]), 1e-12 * 5);
    ck_assert_double_le(triplet_residual(d, f), 1e-12 * 5 * 600);
    lowrank_factors_free(f);
    free_op(&o);
    lowrank_matrix_free(d);
    lowrank_opts_free(opts);
}
END_TEST

/* ------------------------------------------------------------ the randomized method */

/* Randomized on every kind: near-optimal approximation, orthonormal
 * factors; on a file, the fused passes (q + 2, plus the scan) give what
 * the in-memory method gives to rounding. */
START_TEST(randomized_is_near_optimal)
{
    int kind = _i % NKINDS;
    lowrank_dtype t = _i / NKINDS ? LOWRANK_FLOAT32 : LOWRANK_FLOAT64;
    int64_t k = 5;
    lowrank_matrix *d = spectrum_matrix(t, 400, 150, 0.4, 7);
    double *s = svd_truth(d), opt = 0, norm = frobenius(d);
    for (int64_t i = k; i < 150; i++)
        opt += s[i] * s[i];
    opt = sqrt(opt);
    any_op o = make_op(kind, d);
    lowrank_opts *opts = method(LOWRANK_METHOD_RANDOMIZED);
    lowrank_factors *f, *g;
    ck_assert_ok(lowrank_svd_op(o.op, k, opts, &f));
    ck_assert_ok(lowrank_svd(d, k, opts, &g));
    double dist = svd_distance(d, f);
    ck_assert_double_le(dist, opt * 1.01);
    ck_assert_double_le(orthonormality(lowrank_factors_u(f), 0), 1e-3);
    ck_assert_double_le(orthonormality(lowrank_factors_vt(f), 1), 1e-3);
    /* the same Krylov space as the in-memory method's (the same seed) */
    for (int64_t i = 0; i < k; i++)
        ck_assert_double_le(fabs(lr_matrix_at(lowrank_factors_s(f), i, 0) -
                                 lr_matrix_at(lowrank_factors_s(g), i, 0)),
                            (t == LOWRANK_FLOAT32 ? 1e-4 : 1e-10) * s[0]);
    if (kind == KIND_FILE) {
        int64_t passes, bytes;
        ck_assert_ok(lowrank_operator_passes(o.op, &passes, &bytes));
        ck_assert_int_eq(passes, 1 + 2 + 2); /* scan, then q + 2 with q = 2 */
        ck_assert_int_eq(bytes, passes * 400 * 150 * (t == LOWRANK_FLOAT32 ? 4 : 8));
    }
    double err;
    ck_assert_ok(lowrank_factors_error(f, &err));
    if (kind != KIND_CALLBACK)
        ck_assert_double_le(fabs(err - dist / norm), t == LOWRANK_FLOAT32 ? 3e-4 : 1e-7);
    lowrank_factors_free(f);
    lowrank_factors_free(g);
    lowrank_opts_free(opts);
    free_op(&o);
    lowrank_matrix_free(d);
    free(s);
}
END_TEST

/* The rank by tolerance: randomized and exact, on the kinds that know
 * ||A||_F; the smallest rank whose error meets it. */
START_TEST(rank_by_tolerance)
{
    int kind = 1 + _i % 2;
    lowrank_matrix *d = spectrum_matrix(LOWRANK_FLOAT64, 300, 80, 0.5, 3);
    double *s = svd_truth(d), total = 0;
    for (int64_t i = 0; i < 80; i++)
        total += s[i] * s[i];
    any_op o = make_op(kind, d);
    for (int64_t m = LOWRANK_METHOD_AUTO; m <= LOWRANK_METHOD_RANDOMIZED; m++) {
        lowrank_opts *opts = method(m);
        ck_assert_ok(lowrank_opts_set_double(opts, LOWRANK_OPT_TOLERANCE, 0.5));
        lowrank_factors *f;
        ck_assert_ok(lowrank_svd_op(o.op, 0, opts, &f));
        int64_t k = lowrank_factors_rank(f), want = 0;
        double tail = total;
        while (tail > 0.25 * total)
            tail -= s[want] * s[want], want++;
        ck_assert_int_le(k, want + 1); /* randomized may overshoot by one */
        ck_assert_int_ge(k, want);
        ck_assert_double_le(svd_distance(d, f) / sqrt(total), 0.5 + 1e-9);
        lowrank_factors_free(f);
        lowrank_opts_free(opts);
    }
    free_op(&o);
    lowrank_matrix_free(d);
    free(s);
}
END_TEST

/* A dense matrix's operator is the dense computation: the same bits. */
START_TEST(matrix_operator_is_lowrank_svd)
{
    lowrank_matrix *d = spectrum_matrix(LOWRANK_FLOAT32, 120, 300, 1.0, 11);
    lowrank_operator *op;
    ck_assert_ok(lowrank_operator_matrix(d, &op));
    for (int64_t m = LOWRANK_METHOD_AUTO; m <= LOWRANK_METHOD_RANDOMIZED; m++) {
        lowrank_opts *opts = method(m);
        lowrank_factors *f, *g;
        ck_assert_ok(lowrank_svd_op(op, 7, opts, &f));
        ck_assert_ok(lowrank_svd(d, 7, opts, &g));
        const lowrank_matrix *fs[] = {lowrank_factors_u(f), lowrank_factors_s(f),
                                      lowrank_factors_vt(f)},
                             *gs[] = {lowrank_factors_u(g), lowrank_factors_s(g),
                                      lowrank_factors_vt(g)};
        for (int q = 0; q < 3; q++)
            ck_assert_mem_eq(fs[q]->data, gs[q]->data,
                             (size_t)(fs[q]->rows * fs[q]->cols) * sizeof(float));
        lowrank_factors_free(f);
        lowrank_factors_free(g);
        lowrank_opts_free(opts);
    }
    lowrank_operator_free(op);
    lowrank_matrix_free(d);
}
END_TEST

/* Results do not depend on the scale of A: 2^100 A in float64 gives
 * 2^100 times the values, through the scaling of an operator's products. */
START_TEST(scale_invariance)
{
    int kind = 1 + _i % 3;
    lowrank_matrix *d = spectrum_matrix(LOWRANK_FLOAT64, 150, 50, 0.5, 5), *big;
    ck_assert_ok(lowrank_matrix_copy(d, &big));
    for (int64_t i = 0; i < 150; i++)
        for (int64_t j = 0; j < 50; j++)
            ck_assert_ok(lowrank_matrix_set(big, i, j, ldexp(lr_matrix_at(d, i, j), 300)));
    any_op o = make_op(kind, d), ob = make_op(kind, big);
    lowrank_factors *f, *g;
    ck_assert_ok(lowrank_svd_op(o.op, 4, NULL, &f));
    ck_assert_ok(lowrank_svd_op(ob.op, 4, NULL, &g));
    for (int64_t i = 0; i < 4; i++)
        ck_assert_double_le(fabs(ldexp(lr_matrix_at(lowrank_factors_s(g), i, 0), -300) -
                                 lr_matrix_at(lowrank_factors_s(f), i, 0)),
                            1e-12 * lr_matrix_at(lowrank_factors_s(f), 0, 0));
    lowrank_factors_free(f);
    lowrank_factors_free(g);
    free_op(&o);
    free_op(&ob);
    lowrank_matrix_free(d);
    lowrank_matrix_free(big);
}
END_TEST

/* ------------------------------------------------------------ lp */

/* lowrank_lp_op: with all points in memory, lowrank_lp's fit of them;
 * through a coreset, a fit within a few percent of its cost. */
START_TEST(lp_op_matches_lowrank_lp)
{
    int kind = _i % NKINDS, cols = _i / NKINDS;
    lowrank_matrix *d = spectrum_matrix(LOWRANK_FLOAT64, cols ? 12 : 900, cols ? 900 : 12, 1.0,
                                        21);
    lowrank_opts *opts;
    ck_assert_ok(lowrank_opts_new(&opts));
    ck_assert_ok(lowrank_opts_set_int(opts, LOWRANK_OPT_ORIENTATION,
                                      cols ? LOWRANK_ORIENT_COLS : LOWRANK_ORIENT_ROWS));
    any_op o = make_op(kind, d);
    lowrank_factors *f, *g;
    double cf, cg;
    ck_assert_ok(lowrank_lp(d, 3, 1.0, opts, &g));
    ck_assert_ok(lowrank_lp_cost(d, g, 1.0, LOWRANK_OBJECTIVE_ROWS, &cg));
    ck_assert_ok(lowrank_lp_op(o.op, 3, 1.0, opts, &f));
    ck_assert_ok(lowrank_lp_cost(d, f, 1.0, LOWRANK_OBJECTIVE_ROWS, &cf));
    ck_assert_double_le(fabs(cf - cg), 1e-9 * cg); /* 900 points, all kept */
    double err;
    ck_assert_ok(lowrank_factors_error(f, &err));
    ck_assert_double_le(fabs(err - svd_distance(d, f) / frobenius(d)), 1e-7);
    lowrank_factors_free(f);
    /* a coreset of 200 of the 900 points */
    ck_assert_ok(lowrank_opts_set_int(opts, LOWRANK_OPT_CORESET_SIZE, 200));
    ck_assert_ok(lowrank_lp_op(o.op, 3, 1.0, opts, &f));
    ck_assert_ok(lowrank_lp_cost(d, f, 1.0, LOWRANK_OBJECTIVE_ROWS, &cf));
    ck_assert_msg(cf <= 1.05 * cg, "coreset fit cost %g, full %g", cf, cg);
    lowrank_factors_free(f);
    lowrank_factors_free(g);
    free_op(&o);
    lowrank_opts_free(opts);
    lowrank_matrix_free(d);
}
END_TEST

/* ------------------------------------------------------------ errors */

static int cancel_now(double fraction, void *user)
{
    (void)fraction;
    ++*(int *)user;
    return 1;
}

START_TEST(errors_and_cancel)
{
    lowrank_matrix *d = spectrum_matrix(LOWRANK_FLOAT64, 50, 20, 0.5, 2);
    any_op o = make_op(KIND_CSR, d), cb = make_op(KIND_CALLBACK, d);
    lowrank_factors *f = (lowrank_factors *)1;
    ck_assert_fails(lowrank_svd_op(NULL, 2, NULL, &f), LOWRANK_EINVAL);
    ck_assert_ptr_null(f);
    ck_assert_fails(lowrank_svd_op(o.op, 2, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_svd_op(o.op, 21, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_svd_op(o.op, -1, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_svd_op(o.op, 0, NULL, &f), LOWRANK_ERANGE); /* no tolerance */
    lowrank_opts *opts = method(LOWRANK_METHOD_LEWIS);
    ck_assert_fails(lowrank_svd_op(o.op, 2, opts, &f), LOWRANK_EINVAL);
    lowrank_opts_free(opts);
    ck_assert_ok(lowrank_opts_new(&opts));
    ck_assert_ok(lowrank_opts_set_double(opts, LOWRANK_OPT_TOLERANCE, 0.5));
    ck_assert_fails(lowrank_svd_op(cb.op, 0, opts, &f), LOWRANK_EUNSUPPORTED);
    lowrank_opts_free(opts);
    ck_assert_fails(lowrank_lp_op(NULL, 2, 1.0, NULL, &f), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_lp_op(o.op, 2, 1.0, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_lp_op(o.op, 2, INFINITY, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_lp_op(o.op, 2, 0.5, NULL, &f), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_lp_op(o.op, 0, 1.0, NULL, &f), LOWRANK_ERANGE);
    ck_assert_ok(lowrank_opts_new(&opts));
    ck_assert_ok(lowrank_opts_set_int(opts, LOWRANK_OPT_OBJECTIVE, LOWRANK_OBJECTIVE_ENTRIES));
    ck_assert_fails(lowrank_lp_op(o.op, 2, 1.0, opts, &f), LOWRANK_EUNSUPPORTED);
    lowrank_opts_free(opts);
    /* NaN in a sparse matrix, named */
    ((double *)o.csr.val)[3] = NAN;
    ck_assert_fails(lowrank_svd_op(o.op, 2, NULL, &f), LOWRANK_ENONFINITE);
    ck_assert_fails(lowrank_lp_op(o.op, 2, 1.0, NULL, &f), LOWRANK_ENONFINITE);
    ck_assert_ptr_null(f);
    /* a cancel at the first report of a pass over a file, 38 MB: the
     * report comes after 50 ms of work (lowrank_opts_set_progress) */
    int calls = 0;
    lowrank_matrix *tall = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 300000, 16, 4);
    any_op file = make_op(KIND_FILE, tall);
    lowrank_matrix_free(tall);
    for (int64_t m = LOWRANK_METHOD_AUTO; m <= LOWRANK_METHOD_RANDOMIZED; m++) {
        opts = method(m);
        ck_assert_ok(lowrank_opts_set_progress(opts, cancel_now, &calls));
        if (m == LOWRANK_METHOD_AUTO)
            ck_assert_fails(lowrank_lp_op(file.op, 2, 1.0, opts, &f), LOWRANK_ECANCELED);
        else
            ck_assert_fails(lowrank_svd_op(file.op, 2, opts, &f), LOWRANK_ECANCELED);
        ck_assert_ptr_null(f);
        lowrank_opts_free(opts);
    }
    ck_assert_int_ge(calls, 3);
    free_op(&file);
    free_op(&o);
    free_op(&cb);
    lowrank_matrix_free(d);
}
END_TEST

/* ------------------------------------------------------------ allocation failures */

typedef struct call_ctx {
    const lowrank_operator *op;
    lowrank_opts *opts;
    int lp;
} call_ctx;

static int svd_call(void *ctx)
{
    const call_ctx *c = ctx;
    lowrank_factors *f = (lowrank_factors *)1;
    int rc = c->lp ? lowrank_lp_op(c->op, 2, 1.0, c->opts, &f)
                   : lowrank_svd_op(c->op, 2, c->opts, &f);
    int st = output_status(rc, f);
    lowrank_factors_free(f);
    return st;
}

START_TEST(allocation_failure)
{
    lowrank_matrix *d = spectrum_matrix(LOWRANK_FLOAT64, 60, 16, 0.6, 8);
    for (int kind = 1; kind < NKINDS; kind++) {
        any_op o = make_op(kind, d);
        for (int64_t m = LOWRANK_METHOD_EXACT; m <= LOWRANK_METHOD_RANDOMIZED; m++) {
            call_ctx c = {o.op, method(m), 0};
            ck_assert_int_ge(check_alloc_failures(svd_call, &c), 8);
            lowrank_opts_free(c.opts);
        }
        call_ctx c = {o.op, method(LOWRANK_METHOD_AUTO), 1};
        ck_assert_ok(lowrank_opts_set_int(c.opts, LOWRANK_OPT_CORESET_SIZE, 40));
        ck_assert_int_ge(check_alloc_failures(svd_call, &c), 8);
        lowrank_opts_free(c.opts);
        free_op(&o);
    }
    lowrank_matrix_free(d);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("operator_svd");
    TCase *tc = tcase_create("operator_svd");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, exact_matches_lapack, 0, 4 * NKINDS);
    tcase_add_loop_test(tc, exact_falls_back, 0, 3);
    tcase_add_loop_test(tc, operator_route_restarts, 0, 2);
    tcase_add_loop_test(tc, randomized_is_near_optimal, 0, 2 * NKINDS);
    tcase_add_loop_test(tc, rank_by_tolerance, 0, 2);
    tcase_add_test(tc, matrix_operator_is_lowrank_svd);
    tcase_add_loop_test(tc, scale_invariance, 0, 3);
    tcase_add_loop_test(tc, lp_op_matches_lowrank_lp, 0, 2 * NKINDS);
    tcase_add_test(tc, errors_and_cancel);
    tcase_add_test(tc, allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
