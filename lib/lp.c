/*
 * lp.c - the entry-wise lp low-rank fit (see lp.h): min sum |X - L R|^p over
 * rank-k products, by alternating iteratively reweighted least squares.
 *
 * Both half-steps are one kernel: "fit the rows of a matrix on a fixed
 * factor".  The L step fits the rows of X on R; the R step fits the rows of
 * X^T (the columns of X) on L^T.  A strided view reads X either way, so
 * neither step copies or transposes X.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "lp.h"

/* Element (i, j) of a matrix stored at base with element (i, j) at
 * base[i * rs + j * cs], whatever the dtype. */
typedef struct strided {
    lowrank_dtype t;
    void *base;
    int64_t rs, cs;
} strided;

static double get(strided v, int64_t i, int64_t j)
{
    size_t at = (size_t)(i * v.rs + j * v.cs);
    return v.t == LOWRANK_FLOAT32 ? (double)((const float *)v.base)[at]
                                  : ((const double *)v.base)[at];
}

static void put(strided v, int64_t i, int64_t j, double value)
{
    size_t at = (size_t)(i * v.rs + j * v.cs);
    if (v.t == LOWRANK_FLOAT32)
        ((float *)v.base)[at] = (float)value;
    else
        ((double *)v.base)[at] = value;
}

static strided colmajor(lowrank_dtype t, const void *p, int64_t ld)
{
    return (strided){t, (void *)(uintptr_t)p, 1, ld};
}

static strided transposed(strided v) { return (strided){v.t, v.base, v.cs, v.rs}; }

/* |e|^p, without pow for the common exponents. */
static double abs_pow(double e, double p)
{
    e = fabs(e);
    return p == 1 ? e : p == 2 ? e * e : pow(e, p);
}

/* The IRLS weight of a residual: max(|e|, delta)^(p - 2). */
static double irls_weight(double e, double p, double delta)
{
    e = fmax(fabs(e), delta);
    return p == 1 ? 1 / e : p == 2 ? 1 : pow(e, p - 2);
}

/* Solve the k x k symmetric positive definite a z = b in place (z over b) by
 * Cholesky, a's lower triangle overwritten.  0 when a is not numerically
 * positive definite.  k is small (a rank), so this stays out of LAPACK. */
static int cholesky_solve(int64_t k, double *a, double *b)
{
    for (int64_t j = 0; j < k; j++) {
        double d = a[j * k + j];
        for (int64_t q = 0; q < j; q++)
            d -= a[j * k + q] * a[j * k + q];
        if (!(d > 0))
            return 0;
        a[j * k + j] = sqrt(d);
        for (int64_t i = j + 1; i < k; i++) {
            double s = a[i * k + j];
            for (int64_t q = 0; q < j; q++)
                s -= a[i * k + q] * a[j * k + q];
            a[i * k + j] = s / a[j * k + j];
        }
    }
    for (int64_t i = 0; i < k; i++) { /* L y = b */
        for (int64_t q = 0; q < i; q++)
            b[i] -= a[i * k + q] * b[q];
        b[i] /= a[i * k + i];
    }
    for (int64_t i = k - 1; i >= 0; i--) { /* L^T z = y */
        for (int64_t q = i + 1; q < k; q++)
            b[i] -= a[q * k + i] * b[q];
        b[i] /= a[i * k + i];
    }
    return 1;
}

/* One row problem: fit the n values x on the fixed factor f (n x k, row j
 * at f + j k) with coefficients c (k, in/out). */
typedef struct row_fit {
    int64_t n, k;
    const double *f;
    double p, delta;
    double *x, *e, *e_new, *a, *c_new; /* scratch: n, n, n, k * k, k */
} row_fit;

/* Residuals x - f c into e; returns their cost. */
static double row_residuals(const row_fit *rf, const double *c, double *e)
{
    double cost = 0;
    for (int64_t j = 0; j < rf->n; j++) {
        const double *fj = rf->f + j * rf->k;
        double s = rf->x[j];
        for (int64_t a = 0; a < rf->k; a++)
            s -= fj[a] * c[a];
        e[j] = s;
        cost += abs_pow(s, rf->p);
    }
    return cost;
}

/* The weighted least-squares coefficients for the weights of the residuals
 * e, into rf->c_new; 0 if the weighted normal matrix is singular. */
static int weighted_step(row_fit *rf, const double *e)
{
    int64_t k = rf->k;
    memset(rf->a, 0, (size_t)(k * k) * sizeof *rf->a);
    memset(rf->c_new, 0, (size_t)k * sizeof *rf->c_new);
    for (int64_t j = 0; j < rf->n; j++) {
        const double *fj = rf->f + j * k;
        double w = irls_weight(e[j], rf->p, rf->delta), wx = w * rf->x[j];
        for (int64_t a = 0; a < k; a++) {
            rf->c_new[a] += wx * fj[a];
            double wf = w * fj[a];
            for (int64_t b = 0; b <= a; b++)
                rf->a[a * k + b] += wf * fj[b];
        }
    }
    return cholesky_solve(k, rf->a, rf->c_new);
}

/* Up to iters IRLS steps on c, each kept only when it lowers the cost. */
static void irls_row(row_fit *rf, double *c, int iters)
{
    double cost = row_residuals(rf, c, rf->e);
    for (int it = 0; it < iters && cost > 0; it++) {
        if (!weighted_step(rf, rf->e))
            return;
        double next = row_residuals(rf, rf->c_new, rf->e_new);
        if (!(next < cost))
            return;
        cost = next;
        memcpy(c, rf->c_new, (size_t)rf->k * sizeof *c);
        double *swap = rf->e;
        rf->e = rf->e_new;
        rf->e_new = swap;
    }
}

/* Scratch for fit_rows on problems up to `longest` values per row. */
typedef struct workspace {
    double *f, *scratch;
} workspace;

static int workspace_alloc(int64_t longest, int64_t k, workspace *ws)
{
    ws->f = lr_malloc((size_t)(longest * k), sizeof *ws->f);
    ws->scratch = ws->f ? lr_malloc((size_t)(3 * longest + k * k + 2 * k), sizeof *ws->scratch)
                        : NULL;
    if (ws->scratch)
        return LOWRANK_OK;
    free(ws->f);
    return LOWRANK_ENOMEM;
}

static void workspace_free(workspace *ws)
{
    free(ws->f);
    free(ws->scratch);
}

/* Fit every row i of the rows x n matrix x on the factor fv (element (a, j)
 * of the k x n factor), coefficients in out (element (i, a)), in place. */
static void fit_rows(int64_t rows, int64_t n, int64_t k, strided x, strided fv, strided out,
                     double p, double delta, int iters, const workspace *ws)
{
    double *f = ws->f, *s = ws->scratch;
    for (int64_t j = 0; j < n; j++)
        for (int64_t a = 0; a < k; a++)
            f[j * k + a] = get(fv, a, j);
    row_fit rf = {n, k, f, p, delta, s, s + n, s + 2 * n, s + 3 * n, s + 3 * n + k * k};
    double *c = rf.c_new + k;
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < n; j++)
            rf.x[j] = get(x, i, j);
        for (int64_t a = 0; a < k; a++)
            c[a] = get(out, i, a);
        irls_row(&rf, c, iters);
        for (int64_t a = 0; a < k; a++)
            put(out, i, a, c[a]);
    }
}

/* ------------------------------------------------------------ checks */

static int check_dims(const char *fn, lowrank_dtype t, int64_t m, int64_t n, int64_t k,
                      double p)
{
    if (!lr_dtype_valid(t))
        return lr_fail(LOWRANK_EINVAL, "%s: dtype %d is neither float32 nor float64", fn, (int)t);
    if (m < 1 || n < 1)
        return lr_fail(LOWRANK_ESIZE, "%s: a %lld x %lld matrix has no entries", fn,
                       (long long)m, (long long)n);
    int64_t mn = m < n ? m : n;
    if (k < 1 || k > mn)
        return lr_fail(LOWRANK_ERANGE, "%s: k = %lld is outside [1, min(rows, cols) = %lld]", fn,
                       (long long)k, (long long)mn);
    if (!(p >= 1 && p <= 2))
        return lr_fail(LOWRANK_ERANGE, "%s: p = %g is outside [1, 2]", fn, p);
    return LOWRANK_OK;
}

static int check_ld(const char *fn, const char *name, const void *ptr, int64_t ld, int64_t rows)
{
    if (!ptr)
        return lr_fail(LOWRANK_EINVAL, "%s: %s is NULL", fn, name);
    if (ld < rows)
        return lr_fail(LOWRANK_ESIZE, "%s: leading dimension of %s = %lld is below %lld", fn,
                       name, (long long)ld, (long long)rows);
    return LOWRANK_OK;
}

/* Fail on NaN or infinity in x; *maxabs gets the largest magnitude. */
static int check_finite(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                        double *maxabs)
{
    lowrank_matrix view = {t, LOWRANK_COL_MAJOR, m, n, ldx, (void *)(uintptr_t)x, 0};
    int rc = lr_check_finite(&view, "X");
    double big = 0;
    strided v = colmajor(t, x, ldx);
    for (int64_t j = 0; rc == LOWRANK_OK && j < n; j++)
        for (int64_t i = 0; i < m; i++)
            big = fmax(big, fabs(get(v, i, j)));
    *maxabs = big;
    return rc;
}

/* The arguments shared by every entry point; *delta gets the IRLS floor. */
static int check_problem(const char *fn, lowrank_dtype t, int64_t m, int64_t n, const void *x,
                         int64_t ldx, int64_t k, double p, double *delta)
{
    int rc = check_dims(fn, t, m, n, k, p);
    if (rc == LOWRANK_OK)
        rc = check_ld(fn, "X", x, ldx, m);
    double maxabs = 0;
    if (rc == LOWRANK_OK)
        rc = check_finite(t, m, n, x, ldx, &maxabs);
    /* Residuals below a millionth of the data's scale are rounding: weighting
     * them more would only make the weighted systems ill conditioned. */
    *delta = maxabs > 0 ? 1e-6 * maxabs : 1;
    return rc;
}

static int check_factors(const char *fn, int64_t m, int64_t k, const void *l, int64_t ldl,
                         const void *r, int64_t ldr)
{
    int rc = check_ld(fn, "L", l, ldl, m);
    return rc == LOWRANK_OK ? check_ld(fn, "R", r, ldr, k) : rc;
}

static double cost_of(strided x, strided l, strided r, int64_t m, int64_t n, int64_t k, double p)
{
    double cost = 0;
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < m; i++) {
            double s = get(x, i, j);
            for (int64_t a = 0; a < k; a++)
                s -= get(l, i, a) * get(r, a, j);
            cost += abs_pow(s, p);
        }
    return cost;
}

/* ------------------------------------------------------------ entry points */

int lr_lp_entrywise_cost(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                         int64_t k, const void *l, int64_t ldl, const void *r, int64_t ldr,
                         double p, double *cost)
{
    const char *fn = "lr_lp_entrywise_cost";
    double delta;
    if (!cost)
        return lr_fail(LOWRANK_EINVAL, "%s: cost is NULL", fn);
    int rc = check_problem(fn, t, m, n, x, ldx, k, p, &delta);
    if (rc == LOWRANK_OK)
        rc = check_factors(fn, m, k, l, ldl, r, ldr);
    if (rc == LOWRANK_OK)
        *cost = cost_of(colmajor(t, x, ldx), colmajor(t, l, ldl), colmajor(t, r, ldr), m, n, k, p);
    return rc;
}

int lr_lp_entrywise_left(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                         int64_t k, const void *r, int64_t ldr, double p, int iters, void *l,
                         int64_t ldl)
{
    const char *fn = "lr_lp_entrywise_left";
    double delta;
    int rc = check_problem(fn, t, m, n, x, ldx, k, p, &delta);
    if (rc == LOWRANK_OK)
        rc = check_factors(fn, m, k, l, ldl, r, ldr);
    if (rc == LOWRANK_OK && iters < 0)
        rc = lr_fail(LOWRANK_ERANGE, "%s: iters = %d is negative", fn, iters);
    workspace ws;
    if (rc == LOWRANK_OK)
        rc = workspace_alloc(n, k, &ws);
    if (rc != LOWRANK_OK)
        return rc;
    fit_rows(m, n, k, colmajor(t, x, ldx), colmajor(t, r, ldr), colmajor(t, l, ldl), p, delta,
             iters, &ws);
    workspace_free(&ws);
    return LOWRANK_OK;
}

/* The alternation of lr_lp_entrywise_refine, on checked arguments and
 * allocated scratch: it cannot fail. */
static void alternate(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                      int64_t k, double p, double delta, int max_iter, double tol, void *l,
                      int64_t ldl, void *r, int64_t ldr, const workspace *ws, double *cost)
{
    strided xv = colmajor(t, x, ldx), lv = colmajor(t, l, ldl), rv = colmajor(t, r, ldr);
    double c = cost_of(xv, lv, rv, m, n, k, p);
    for (int it = 0; it < max_iter && c > 0; it++) {
        fit_rows(m, n, k, xv, rv, lv, p, delta, 1, ws);
        /* the columns of X are the rows of X^T, fitted on L^T */
        fit_rows(n, m, k, transposed(xv), transposed(lv), transposed(rv), p, delta, 1, ws);
        double next = cost_of(xv, lv, rv, m, n, k, p);
        int small = c - next <= tol * c;
        c = next;
        if (small)
            break;
    }
    *cost = c;
}

int lr_lp_entrywise_refine(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                           int64_t k, double p, int max_iter, double tol, void *l, int64_t ldl,
                           void *r, int64_t ldr, double *cost)
{
    const char *fn = "lr_lp_entrywise_refine";
    double delta;
    if (!cost)
        return lr_fail(LOWRANK_EINVAL, "%s: cost is NULL", fn);
    int rc = check_problem(fn, t, m, n, x, ldx, k, p, &delta);
    if (rc == LOWRANK_OK)
        rc = check_factors(fn, m, k, l, ldl, r, ldr);
    if (rc == LOWRANK_OK && (max_iter < 0 || !(tol >= 0)))
        rc = lr_fail(LOWRANK_ERANGE, "%s: max_iter = %d and tol = %g must not be negative", fn,
                     max_iter, tol);
    workspace ws;
    if (rc == LOWRANK_OK)
        rc = workspace_alloc(m > n ? m : n, k, &ws);
    if (rc != LOWRANK_OK)
        return rc;
    alternate(t, m, n, x, ldx, k, p, delta, max_iter, tol, l, ldl, r, ldr, &ws, cost);
    workspace_free(&ws);
    return LOWRANK_OK;
}

/* L = U_k S_k and R = V_k^T from the thin SVD of a copy of X. */
static int svd_start(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx, int64_t k,
                     void *l, int64_t ldl, void *r, int64_t ldr)
{
    int64_t mn = m < n ? m : n;
    size_t e = lr_dtype_size(t);
    char *a = lr_malloc((size_t)(m * n), e);
    char *s = a ? lr_malloc((size_t)mn, e) : NULL;
    char *u = s ? lr_malloc((size_t)(m * mn), e) : NULL;
    char *vt = u ? lr_malloc((size_t)(mn * n), e) : NULL;
    int rc = vt ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t j = 0; rc == LOWRANK_OK && j < n; j++)
        memcpy(a + (size_t)(j * m) * e, (const char *)x + (size_t)(j * ldx) * e, (size_t)m * e);
    if (rc == LOWRANK_OK)
        rc = lr_gesdd(t, m, n, a, m, s, u, m, vt, mn);
    if (rc == LOWRANK_OK) {
        strided sv = colmajor(t, s, 1), uv = colmajor(t, u, m), vv = colmajor(t, vt, mn),
                lv = colmajor(t, l, ldl), rv = colmajor(t, r, ldr);
        for (int64_t q = 0; q < k; q++) {
            double sq = get(sv, q, 0);
            for (int64_t i = 0; i < m; i++)
                put(lv, i, q, get(uv, i, q) * sq);
            for (int64_t j = 0; j < n; j++)
                put(rv, q, j, get(vv, q, j));
        }
    }
    free(a);
    free(s);
    free(u);
    free(vt);
    return rc;
}

int lr_lp_entrywise_fit(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                        int64_t k, double p, int max_iter, double tol, void *l, int64_t ldl,
                        void *r, int64_t ldr, double *cost)
{
    const char *fn = "lr_lp_entrywise_fit";
    double delta;
    if (!cost)
        return lr_fail(LOWRANK_EINVAL, "%s: cost is NULL", fn);
    int rc = check_problem(fn, t, m, n, x, ldx, k, p, &delta);
    if (rc == LOWRANK_OK)
        rc = check_factors(fn, m, k, l, ldl, r, ldr);
    if (rc == LOWRANK_OK && (max_iter < 0 || !(tol >= 0)))
        rc = lr_fail(LOWRANK_ERANGE, "%s: max_iter = %d and tol = %g must not be negative", fn,
                     max_iter, tol);
    workspace ws;
    if (rc == LOWRANK_OK)
        rc = workspace_alloc(m > n ? m : n, k, &ws);
    if (rc != LOWRANK_OK)
        return rc;
    rc = svd_start(t, m, n, x, ldx, k, l, ldl, r, ldr);
    if (rc == LOWRANK_OK)
        alternate(t, m, n, x, ldx, k, p, delta, max_iter, tol, l, ldl, r, ldr, &ws, cost);
    workspace_free(&ws);
    return rc;
}
