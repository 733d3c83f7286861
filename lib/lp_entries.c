/*
 * lp_entries.c - the entry-wise lp low-rank fit (see lp.h): min sum
 * |X - L R|^p over rank-k products, by alternating iteratively reweighted
 * least squares, and the entry-wise cost.
 *
 * Both half-steps are one kernel: "fit the rows of a matrix on a fixed
 * factor".  The L step fits the rows of X on R; the R step fits the rows of
 * X^T (the columns of X) on L^T.  A view reads a column-major matrix or its
 * transpose, so neither step copies or transposes X as a whole.
 *
 * The kernel works on chunks of rows at once, so that every step is a few
 * matrix products (BLAS 3) and element-wise passes: for the chunk's rows X_c
 * with coefficients C_c and the fixed k x n factor F,
 *     E = X_c - C_c F                      residuals
 *     W = max(|E|, delta)^(p - 2)          IRLS weights
 *     B = (W o X_c) F^T                    right-hand sides, chunk x k
 *     A = W P, P_j = (F_aj F_bj), a <= b   normal matrices, chunk x k(k+1)/2
 * and each row solves its own k x k system.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "lp.h"

/* Entries of a chunk of rows: big enough for the products to run at BLAS 3
 * speed, small enough for the chunk's buffers to stay in cache. */
#define CHUNK_ENTRIES 32768

typedef lr_view view;

static view colmajor(lowrank_dtype t, const void *p, int64_t ld)
{
    return (view){t, (void *)(uintptr_t)p, ld, 0};
}

static view transposed(view v) { return (view){v.t, v.data, v.ld, !v.trans}; }

static size_t offset(view v, int64_t i, int64_t j)
{
    return (size_t)(v.trans ? j + i * v.ld : i + j * v.ld);
}

static double get(view v, int64_t i, int64_t j)
{
    size_t at = offset(v, i, j);
    return v.t == LOWRANK_FLOAT32 ? (double)((const float *)v.data)[at]
                                  : ((const double *)v.data)[at];
}

static void put(view v, int64_t i, int64_t j, double value)
{
    size_t at = offset(v, i, j);
    if (v.t == LOWRANK_FLOAT32)
        ((float *)v.data)[at] = (float)value;
    else
        ((double *)v.data)[at] = value;
}

/* The loops run along v's storage: down its columns when v is column-major
 * (the rows listed are increasing), along its rows when it is a transpose,
 * eight rows at a time, so that the writes into dst (column-major) are
 * runs of eight, not single elements c apart. */
#define LOAD_ROWS(type)                                                                            \
    do {                                                                                           \
        const type *p = v.data;                                                                    \
        if (v.trans) {                                                                             \
            int64_t i = 0;                                                                         \
            for (; i + 8 <= c; i += 8) {                                                           \
                const type *row[8];                                                                \
                for (int q = 0; q < 8; q++)                                                        \
                    row[q] = p + (idx ? idx[i + q] : i + q) * v.ld;                                \
                for (int64_t j = 0; j < n; j++)                                                    \
                    for (int q = 0; q < 8; q++)                                                    \
                        dst[i + q + j * c] = row[q][j];                                            \
            }                                                                                      \
            for (; i < c; i++) {                                                                   \
                const type *row = p + (idx ? idx[i] : i) * v.ld;                                   \
                for (int64_t j = 0; j < n; j++)                                                    \
                    dst[i + j * c] = row[j];                                                       \
            }                                                                                      \
        } else                                                                                     \
            for (int64_t j = 0; j < n; j++) {                                                      \
                const type *col = p + j * v.ld;                                                    \
                for (int64_t i = 0; i < c; i++)                                                    \
                    dst[i + j * c] = col[idx ? idx[i] : i];                                        \
            }                                                                                      \
    } while (0)

void lr_view_load_rows(view v, const int64_t *idx, int64_t c, int64_t n, double *dst)
{
    if (v.t == LOWRANK_FLOAT32)
        LOAD_ROWS(float);
    else
        LOAD_ROWS(double);
}

void lr_view_store_rows(view v, const int64_t *idx, int64_t c, int64_t n, const double *src)
{
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < c; i++)
            put(v, idx ? idx[i] : i, j, src[i + j * c]);
}

int lr_small_spd_solve(int64_t k, double *a, double *b)
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

/* Quickselect (Hoare's partition, middle pivot) for the upper middle, then
 * the largest value below it for an even n. */
double lr_median(double *v, int64_t n)
{
    int64_t want = n / 2, lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (want <= j)
            hi = j;
        else if (want >= i)
            lo = i;
        else
            break;
    }
    double upper = v[want];
    if (n % 2)
        return upper;
    double lower = v[0];
    for (int64_t i = 1; i < want; i++)
        lower = v[i] > lower ? v[i] : lower;
    return 0.5 * (lower + upper);
}

/* ------------------------------------------------------------ the row kernel */

/* Scratch of fit_rows, sized for the largest problem it will see. */
typedef struct workspace {
    double *f, *prod;             /* k x n factor; n x kk products */
    double *x, *e, *w, *e_new;    /* chunk x n */
    double *c, *c_new, *b, *a;    /* chunk x k (3) and chunk x kk */
    double *cost, *cost_new, *sys; /* chunk, chunk, k * k + k */
    int64_t *todo;                /* the rows still improving, up to max(m, n) */
    int64_t *here;                /* chunk: the rows of the chunk in hand */
    unsigned char *active;        /* chunk */
} workspace;

static int64_t chunk_rows(int64_t rows, int64_t n)
{
    int64_t c = CHUNK_ENTRIES / n;
    return c < 1 ? 1 : c > rows ? rows : c;
}

static void workspace_free(workspace *ws) { free(ws->f); }

/* For fitting the rows of an m x n matrix with rank k, and, when both, the
 * rows of its n x m transpose; or, when cost_only, for cost_of alone (no
 * normal matrices: their products take O(n k^2)).  One allocation, carved
 * into the buffers. */
static int workspace_alloc(int64_t m, int64_t n, int64_t k, int both, int cost_only,
                           workspace *ws)
{
    int64_t kk = cost_only ? 0 : k * (k + 1) / 2, cols = both && m > n ? m : n;
    int64_t chunk = chunk_rows(m, n), cells = chunk * n;
    if (both) {
        int64_t ct = chunk_rows(n, m);
        chunk = ct > chunk ? ct : chunk;
        cells = ct * m > cells ? ct * m : cells;
    }
    int64_t rows = both && n > m ? n : m;
    int64_t total =
        k * cols + cols * kk + 4 * cells + chunk * (3 * k + kk + 3) + k * k + k + rows + chunk;
    double *p = lr_malloc((size_t)total, sizeof *p);
    if (!p)
        return LOWRANK_ENOMEM;
    ws->f = p;
    ws->prod = ws->f + k * cols;
    ws->x = ws->prod + cols * kk;
    ws->e = ws->x + cells;
    ws->w = ws->e + cells;
    ws->e_new = ws->w + cells;
    ws->c = ws->e_new + cells;
    ws->c_new = ws->c + chunk * k;
    ws->b = ws->c_new + chunk * k;
    ws->a = ws->b + chunk * k;
    ws->cost = ws->a + chunk * kk;
    ws->cost_new = ws->cost + chunk;
    ws->sys = ws->cost_new + chunk;
    ws->todo = (int64_t *)(ws->sys + k * k + k); /* as many int64 as doubles */
    ws->here = ws->todo + rows;
    ws->active = (unsigned char *)(ws->here + chunk); /* chunk bytes in chunk doubles */
    return LOWRANK_OK;
}

/* One row problem set: c rows of n values fitted on the k x n factor. */
typedef struct chunk {
    int64_t c, n, k;
    double p, delta;
} chunk;

/* Ranks up to this compute e = x - coef f in one pass of their own; BLAS's
 * gemm would spend more on packing than on the product. */
#define SMALL_RANK 4

/* e = x - coef f for the chunk's rows, and each row's cost sum |e|^p
 * (max |e| for p = infinity). */
static void residuals(const chunk *ch, const workspace *ws, const double *coef, double *e,
                      double *cost)
{
    int64_t c = ch->c, n = ch->n, k = ch->k;
    if (k <= SMALL_RANK) {
        for (int64_t j = 0; j < n; j++) {
            const double *x = ws->x + j * c;
            double *ej = e + j * c;
            for (int64_t i = 0; i < c; i++)
                ej[i] = x[i];
            for (int64_t a = 0; a < k; a++) {
                double f = ws->f[a + j * k];
                const double *ca = coef + a * c;
                for (int64_t i = 0; i < c; i++)
                    ej[i] -= ca[i] * f;
            }
        }
    } else {
        memcpy(e, ws->x, (size_t)(c * n) * sizeof *e);
        /* cannot fail: the sizes were checked by the entry point */
        lr_gemm(LOWRANK_FLOAT64, 'N', 'N', c, n, k, -1.0, coef, c, ws->f, k, 1.0, e, c);
    }
    memset(cost, 0, (size_t)c * sizeof *cost);
    for (int64_t j = 0; j < n; j++) {
        const double *ej = e + j * c;
        if (isinf(ch->p))
            for (int64_t i = 0; i < c; i++)
                cost[i] = fmax(cost[i], fabs(ej[i]));
        else if (ch->p == 1)
            for (int64_t i = 0; i < c; i++)
                cost[i] += fabs(ej[i]);
        else if (ch->p == 2)
            for (int64_t i = 0; i < c; i++)
                cost[i] += ej[i] * ej[i];
        else
            for (int64_t i = 0; i < c; i++)
                cost[i] += pow(fabs(ej[i]), ch->p);
    }
}

/* The IRLS weights max(|e|, delta)^(p - 2) into ws->w, and w o x into
 * ws->e_new. */
static void weights(const chunk *ch, workspace *ws)
{
    int64_t cells = ch->c * ch->n;
    double p = ch->p, delta = ch->delta, *w = ws->w;
    const double *e = ws->e;
    /* one loop per exponent, so that the common ones vectorise; a ternary,
     * not fmax, as e is never NaN */
    if (p == 1)
        for (int64_t i = 0; i < cells; i++)
            w[i] = 1 / (fabs(e[i]) > delta ? fabs(e[i]) : delta);
    else if (p == 2)
        for (int64_t i = 0; i < cells; i++)
            w[i] = 1;
    else
        for (int64_t i = 0; i < cells; i++)
            w[i] = pow(fabs(e[i]) > delta ? fabs(e[i]) : delta, p - 2);
    for (int64_t i = 0; i < cells; i++)
        ws->e_new[i] = w[i] * ws->x[i];
}

/* C = A op(B) for the c x n chunk matrix A and an n x w op(B).  Narrow
 * products (w up to SMALL_RANK, the rank-1 background models' included) in
 * a loop of their own: BLAS's gemm would spend its time packing A, and a
 * multi-threaded BLAS would start its threads for a product this small --
 * from every thread of a caller that fits rows in parallel (lib/bg_train.c). */
static void chunk_product(char transb, int64_t c, int64_t w, int64_t n, const double *a,
                          const double *b, int64_t ldb, double *out)
{
    if (w > SMALL_RANK) {
        lr_gemm(LOWRANK_FLOAT64, 'N', transb, c, w, n, 1.0, a, c, b, ldb, 0.0, out, c);
        return;
    }
    for (int64_t q = 0; q < w; q++) {
        double *restrict o = out + q * c;
        memset(o, 0, (size_t)c * sizeof *o);
        for (int64_t j = 0; j < n; j++) {
            double bj = transb == 'T' ? b[q + j * ldb] : b[j + q * ldb];
            const double *restrict aj = a + j * c;
            for (int64_t i = 0; i < c; i++)
                o[i] += aj[i] * bj;
        }
    }
}

/* The weighted least-squares coefficients of every active row into
 * ws->c_new (inactive rows keep theirs); a row whose normal matrix is
 * singular becomes inactive. */
static void weighted_solve(const chunk *ch, workspace *ws)
{
    int64_t c = ch->c, n = ch->n, k = ch->k, kk = k * (k + 1) / 2;
    chunk_product('T', c, k, n, ws->e_new, ws->f, k, ws->b);
    chunk_product('N', c, kk, n, ws->w, ws->prod, n, ws->a);
    memcpy(ws->c_new, ws->c, (size_t)(c * k) * sizeof *ws->c);
    double *sys = ws->sys, *rhs = sys + k * k;
    for (int64_t i = 0; i < c; i++) {
        if (!ws->active[i])
            continue;
        for (int64_t a = 0, q = 0; a < k; a++) {
            rhs[a] = ws->b[i + a * c];
            for (int64_t b = 0; b <= a; b++, q++)
                sys[a * k + b] = ws->a[i + q * c];
        }
        if (!lr_small_spd_solve(k, sys, rhs)) {
            ws->active[i] = 0;
            continue;
        }
        for (int64_t a = 0; a < k; a++)
            ws->c_new[i + a * c] = rhs[a];
    }
}

/* Keep the new coefficients of the rows they improve, and list in todo
 * (from position *next on) those whose cost fell by more than tol times
 * itself: they take another step.  A step that does not lower a row's cost
 * is not kept, and the row stops. */
static void accept_improvements(const chunk *ch, workspace *ws, double tol, int64_t *next)
{
    int64_t c = ch->c;
    for (int64_t i = 0; i < c; i++) {
        if (!ws->active[i] || !(ws->cost_new[i] < ws->cost[i]))
            continue;
        for (int64_t a = 0; a < ch->k; a++)
            ws->c[i + a * c] = ws->c_new[i + a * c];
        if (ws->cost[i] - ws->cost_new[i] > tol * ws->cost[i])
            ws->todo[(*next)++] = ws->here[i];
    }
}

/* Fit every row of the rows x n matrix x on the k x n factor fv, from the
 * coefficients in out (rows x k): up to iters IRLS steps, each kept only by
 * the rows whose cost it lowers; a row stops when a step lowers its cost by
 * tol times the cost or less.  Each step takes the rows still going in
 * chunks (gathered: the work follows the rows left, and rows with many
 * outliers, which IRLS needs most steps for, do not hold the others up).
 * beat (NULL: none) may cancel after every chunk.  With iters = 1 every row
 * takes one step, and *total (when not NULL) gets the sum of their costs
 * after it. */
static int fit_rows(int64_t rows, int64_t n, int64_t k, view x, view fv, view out, double p,
                    double delta, int iters, double tol, const lr_share *beat, workspace *ws,
                    double *total)
{
    double sum = 0;
    lr_view_load_rows(fv, NULL, k, n, ws->f);
    for (int64_t j = 0; j < n; j++)
        for (int64_t a = 0, q = 0; a < k; a++)
            for (int64_t b = 0; b <= a; b++, q++)
                ws->prod[j + q * n] = ws->f[a + j * k] * ws->f[b + j * k];
    int64_t left = rows;
    int rc = LOWRANK_OK;
    for (int64_t i = 0; i < rows; i++)
        ws->todo[i] = i;
    for (int it = 0; it < iters && left > 0 && rc == LOWRANK_OK; it++) {
        int64_t step = chunk_rows(left, n), next = 0;
        /* todo is rewritten from its start while read further on: next never
         * passes the chunk in hand, whose rows were copied out first */
        for (int64_t i0 = 0; i0 < left && rc == LOWRANK_OK; i0 += step) {
            chunk ch = {left - i0 < step ? left - i0 : step, n, k, p, delta};
            memcpy(ws->here, ws->todo + i0, (size_t)ch.c * sizeof *ws->here);
            lr_view_load_rows(x, ws->here, ch.c, n, ws->x);
            lr_view_load_rows(out, ws->here, ch.c, k, ws->c);
            residuals(&ch, ws, ws->c, ws->e, ws->cost);
            for (int64_t i = 0; i < ch.c; i++)
                ws->active[i] = ws->cost[i] > 0;
            weights(&ch, ws);
            weighted_solve(&ch, ws);
            residuals(&ch, ws, ws->c_new, ws->e_new, ws->cost_new);
            for (int64_t i = 0; i < ch.c; i++) /* each row's cost after the step */
                sum += ws->active[i] && ws->cost_new[i] < ws->cost[i] ? ws->cost_new[i]
                                                                       : ws->cost[i];
            accept_improvements(&ch, ws, tol, &next);
            lr_view_store_rows(out, ws->here, ch.c, k, ws->c);
            rc = lr_share_report(beat, 0);
        }
        left = next;
    }
    if (total)
        *total = sum;
    return rc;
}

/* ------------------------------------------------------------ checks */

/* pmax: 2 for the fits, INFINITY for the cost. */
static int check_dims(const char *fn, lowrank_dtype t, int64_t m, int64_t n, int64_t k,
                      double p, double pmax)
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
    if (!(p >= 1 && p <= pmax))
        return lr_fail(LOWRANK_ERANGE, "%s: p = %g is outside [1, %g]", fn, p, pmax);
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
    lowrank_matrix handle = {t, LOWRANK_COL_MAJOR, m, n, ldx, (void *)(uintptr_t)x, 0};
    int rc = lr_check_finite(&handle, "X");
    double big = 0;
    view v = colmajor(t, x, ldx);
    for (int64_t j = 0; rc == LOWRANK_OK && j < n; j++)
        for (int64_t i = 0; i < m; i++) {
            double a = fabs(get(v, i, j));
            big = a > big ? a : big;
        }
    *maxabs = big;
    return rc;
}

/* The arguments shared by every entry point; *delta gets the IRLS floor. */
static int check_problem(const char *fn, lowrank_dtype t, int64_t m, int64_t n, const void *x,
                         int64_t ldx, int64_t k, double p, double pmax, double *delta)
{
    int rc = check_dims(fn, t, m, n, k, p, pmax);
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

/* The arguments of the fit and the refinement. */
static int check_fit(const char *fn, lowrank_dtype t, int64_t m, int64_t n, const void *x,
                     int64_t ldx, int64_t k, double p, int max_iter, double tol, const void *l,
                     int64_t ldl, const void *r, int64_t ldr, const double *cost, double *delta)
{
    if (!cost)
        return lr_fail(LOWRANK_EINVAL, "%s: cost is NULL", fn);
    int rc = check_problem(fn, t, m, n, x, ldx, k, p, 2, delta);
    if (rc == LOWRANK_OK)
        rc = check_factors(fn, m, k, l, ldl, r, ldr);
    if (rc == LOWRANK_OK && (max_iter < 0 || !(tol >= 0)))
        rc = lr_fail(LOWRANK_ERANGE, "%s: max_iter = %d and tol = %g must not be negative", fn,
                     max_iter, tol);
    return rc;
}

/* sum |X - L R|^p over the m x n entries (max |X - L R| for p = infinity),
 * in double whatever the dtypes of the views, chunk by chunk of rows with
 * the kernel's residuals; ws (any kind of workspace for X) is scratch. */
static double cost_of(view x, view l, view r, int64_t m, int64_t n, int64_t k, double p,
                      workspace *ws)
{
    lr_view_load_rows(r, NULL, k, n, ws->f);
    int64_t step = chunk_rows(m, n);
    double total = 0;
    for (int64_t i0 = 0; i0 < m; i0 += step) {
        chunk ch = {m - i0 < step ? m - i0 : step, n, k, p, 0};
        for (int64_t i = 0; i < ch.c; i++)
            ws->here[i] = i0 + i;
        lr_view_load_rows(x, ws->here, ch.c, n, ws->x);
        lr_view_load_rows(l, ws->here, ch.c, k, ws->c);
        residuals(&ch, ws, ws->c, ws->e, ws->cost);
        for (int64_t i = 0; i < ch.c; i++)
            total = isinf(p) ? fmax(total, ws->cost[i]) : total + ws->cost[i];
    }
    return total;
}

/* ------------------------------------------------------------ entry points */

int lr_lp_entrywise_cost(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                         int64_t k, lowrank_dtype tf, const void *l, int64_t ldl, const void *r,
                         int64_t ldr, double p, double *cost)
{
    const char *fn = "lr_lp_entrywise_cost";
    double delta;
    if (!cost)
        return lr_fail(LOWRANK_EINVAL, "%s: cost is NULL", fn);
    int rc = check_problem(fn, t, m, n, x, ldx, k, p, INFINITY, &delta);
    if (rc == LOWRANK_OK && !lr_dtype_valid(tf))
        rc = lr_fail(LOWRANK_EINVAL, "%s: factor dtype %d is neither float32 nor float64", fn,
                     (int)tf);
    if (rc == LOWRANK_OK)
        rc = check_factors(fn, m, k, l, ldl, r, ldr);
    workspace ws;
    if (rc == LOWRANK_OK)
        rc = workspace_alloc(m, n, k, 0, 1, &ws);
    if (rc != LOWRANK_OK)
        return rc;
    *cost = cost_of(colmajor(t, x, ldx), colmajor(tf, l, ldl), colmajor(tf, r, ldr), m, n, k, p,
                    &ws);
    workspace_free(&ws);
    return LOWRANK_OK;
}

int lr_lp_entrywise_left(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                         int64_t k, const void *r, int64_t ldr, double p, int iters, double tol,
                         void *l, int64_t ldl)
{
    const char *fn = "lr_lp_entrywise_left";
    double delta;
    int rc = check_problem(fn, t, m, n, x, ldx, k, p, 2, &delta);
    if (rc == LOWRANK_OK)
        rc = check_factors(fn, m, k, l, ldl, r, ldr);
    if (rc == LOWRANK_OK && (iters < 0 || !(tol >= 0)))
        rc = lr_fail(LOWRANK_ERANGE, "%s: iters = %d and tol = %g must not be negative", fn, iters,
                     tol);
    workspace ws;
    if (rc == LOWRANK_OK)
        rc = workspace_alloc(m, n, k, 0, 0, &ws);
    if (rc != LOWRANK_OK)
        return rc;
    fit_rows(m, n, k, colmajor(t, x, ldx), colmajor(t, r, ldr), colmajor(t, l, ldl), p, delta,
             iters, tol, NULL, &ws, NULL);
    workspace_free(&ws);
    return LOWRANK_OK;
}

/* The alternation of lr_lp_entrywise_refine, on checked arguments and
 * allocated scratch, reading the rows of X through rows (X's own view, or a
 * copy of X in the other layout, where a row is contiguous): it fails only
 * when share's callback cancels. */
static int alternate(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                     view rows, int64_t k, double p, double delta, int max_iter, double tol,
                     void *l, int64_t ldl, void *r, int64_t ldr, const lr_share *share,
                     workspace *ws, double *cost)
{
    view xv = colmajor(t, x, ldx), lv = colmajor(t, l, ldl), rv = colmajor(t, r, ldr);
    double c = cost_of(xv, lv, rv, m, n, k, p, ws);
    int rc = LOWRANK_OK;
    for (int it = 0; it < max_iter && c > 0 && rc == LOWRANK_OK; it++) {
        rc = lr_share_report(share, (double)it / max_iter);
        if (rc == LOWRANK_OK)
            rc = fit_rows(m, n, k, rows, rv, lv, p, delta, 1, 0, share, ws, NULL);
        /* the columns of X are the rows of X^T, fitted on L^T: their costs
         * after that step add up to the cost of the new L R */
        double next = c;
        if (rc == LOWRANK_OK)
            rc = fit_rows(n, m, k, transposed(xv), transposed(lv), transposed(rv), p, delta, 1, 0,
                          share, ws, &next);
        int small = c - next <= tol * c;
        c = next;
        if (small)
            break;
    }
    *cost = c;
    return rc;
}

int lr_lp_entrywise_refine(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                           int64_t k, double p, int max_iter, double tol, void *l, int64_t ldl,
                           void *r, int64_t ldr, double *cost)
{
    double delta;
    int rc = check_fit("lr_lp_entrywise_refine", t, m, n, x, ldx, k, p, max_iter, tol, l, ldl, r,
                       ldr, cost, &delta);
    workspace ws;
    if (rc == LOWRANK_OK)
        rc = workspace_alloc(m, n, k, 1, 0, &ws);
    if (rc != LOWRANK_OK)
        return rc;
    alternate(t, m, n, x, ldx, colmajor(t, x, ldx), k, p, delta, max_iter, tol, l, ldl, r, ldr,
              NULL, &ws, cost);
    workspace_free(&ws);
    return LOWRANK_OK;
}

/* Column j of x into column j of a, its entries beyond 3 robust standard
 * deviations (1.4826 median absolute deviations) of its median clipped
 * there.  Returns the number of entries clipped.  col: m doubles. */
static int64_t winsorize_column(view x, view a, int64_t j, int64_t m, double *col)
{
    for (int64_t i = 0; i < m; i++)
        col[i] = get(x, i, j);
    double med = lr_median(col, m);
    for (int64_t i = 0; i < m; i++)
        col[i] = fabs(get(x, i, j) - med);
    double reach = 3 * 1.4826 * lr_median(col, m);
    int64_t clipped = 0;
    for (int64_t i = 0; i < m; i++) {
        double v = get(x, i, j);
        double w = reach > 0 ? fmin(med + reach, fmax(med - reach, v)) : v;
        clipped += w != v;
        put(a, i, j, w);
    }
    return clipped;
}

/* The two starting points of the fit and their scratch: the truncated SVD
 * of X (or the caller's start), and the truncated SVD of X with each column
 * (or row) winsorized, when that clips anything: gross outliers dominate
 * the SVD, and from a start they dominate the alternation can settle in a
 * poor local optimum.  The truncated SVDs are lowrank_svd's (randomized
 * when k is small next to min(m, n)), so that the starts cost one copy of
 * X and O(m n k) work, not a full SVD. */
typedef struct starts {
    int64_t m, n, k;
    lowrank_dtype t;
    char *a, *l2, *r2; /* dtype t: m x n, m x k, k x n */
    double *col;       /* max(m, n) */
    int64_t clipped;
    uint64_t seed;
    lr_share share; /* the progress of the truncated SVDs */
} starts;

static void starts_free(starts *st)
{
    free(st->a);
    free(st->l2);
    free(st->r2);
    free(st->col);
}

static int starts_alloc(lowrank_dtype t, int64_t m, int64_t n, int64_t k, uint64_t seed,
                        const lr_share *share, starts *st)
{
    size_t e = lr_dtype_size(t);
    *st = (starts){m, n, k, t, NULL, NULL, NULL, NULL, 0, seed, {NULL, NULL, 0, 1}};
    if (share)
        st->share = *share;
    st->a = lr_malloc((size_t)(m * n), e);
    st->l2 = st->a ? lr_malloc((size_t)(m * k), e) : NULL;
    st->r2 = st->l2 ? lr_malloc((size_t)(k * n), e) : NULL;
    st->col = st->r2 ? lr_malloc((size_t)(m > n ? m : n), sizeof *st->col) : NULL;
    if (st->col)
        return LOWRANK_OK;
    starts_free(st);
    return LOWRANK_ENOMEM;
}

/* L = U_k S_k and R = V_k^T from the truncated SVD of st->a. */
static int truncated_svd(starts *st, view lv, view rv)
{
    lowrank_matrix a = {st->t, LOWRANK_COL_MAJOR, st->m, st->n, st->m, st->a, 0};
    lowrank_opts *o = NULL, nested;
    lowrank_factors *f = NULL;
    int rc = lowrank_opts_new(&o);
    if (rc == LOWRANK_OK)
        lr_opts_inherit_progress(o, lr_share_opts(&st->share, &nested));
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(o, LOWRANK_OPT_SEED, (int64_t)st->seed);
    if (rc == LOWRANK_OK)
        rc = lowrank_svd(&a, st->k, o, &f);
    for (int64_t q = 0; rc == LOWRANK_OK && q < st->k; q++) {
        double sq = lr_matrix_at(lowrank_factors_s(f), q, 0);
        for (int64_t i = 0; i < st->m; i++)
            put(lv, i, q, lr_matrix_at(lowrank_factors_u(f), i, q) * sq);
        for (int64_t j = 0; j < st->n; j++)
            put(rv, q, j, lr_matrix_at(lowrank_factors_vt(f), q, j));
    }
    lowrank_factors_free(f);
    lowrank_opts_free(o);
    return rc;
}

/* Both starts: the SVD's into l and r unless the flags say they hold the
 * caller's, the winsorized one into st->l2 and st->r2 when st->clipped. */
static int svd_starts(view x, starts *st, view lv, view rv, int flags)
{
    view av = colmajor(st->t, st->a, st->m);
    int rc = LOWRANK_OK;
    if (!(flags & LR_FIT_START_GIVEN)) {
        for (int64_t j = 0; j < st->n; j++)
            for (int64_t i = 0; i < st->m; i++)
                put(av, i, j, get(x, i, j));
        rc = truncated_svd(st, lv, rv);
    }
    if (flags & LR_FIT_CLIP_ROWS) /* the rows of X are the columns of X^T */
        for (int64_t i = 0; rc == LOWRANK_OK && i < st->m; i++)
            st->clipped += winsorize_column(transposed(x), transposed(av), i, st->n, st->col);
    else
        for (int64_t j = 0; rc == LOWRANK_OK && j < st->n; j++)
            st->clipped += winsorize_column(x, av, j, st->m, st->col);
    if (rc == LOWRANK_OK && st->clipped)
        rc = truncated_svd(st, colmajor(st->t, st->l2, st->m), colmajor(st->t, st->r2, st->k));
    return rc;
}

/* The m x n x into the view out, by blocks that stay in cache. */
static void transpose_into(view x, int64_t m, int64_t n, view out)
{
    const int64_t b = 64;
    for (int64_t i0 = 0; i0 < m; i0 += b)
        for (int64_t j0 = 0; j0 < n; j0 += b)
            for (int64_t i = i0; i < i0 + b && i < m; i++)
                for (int64_t j = j0; j < j0 + b && j < n; j++)
                    put(out, i, j, get(x, i, j));
}

/* Refine from the winsorized start, if there is one, and keep its result
 * unless it ends above the cost of the start in l and r: then refine from
 * that, so that the cost returned is never above its cost.  The starts'
 * copy of X, no longer needed, holds X in the other layout for the rows. */
static int fit_from_starts(const void *x, int64_t ldx, double p, double delta, int max_iter,
                           double tol, void *l, int64_t ldl, void *r, int64_t ldr, starts *st,
                           const lr_share *share, workspace *ws, double *cost)
{
    lowrank_dtype t = st->t;
    int64_t m = st->m, n = st->n, k = st->k;
    view xv = colmajor(t, x, ldx), lv = colmajor(t, l, ldl), rv = colmajor(t, r, ldr);
    view rows = transposed(colmajor(t, st->a, n)); /* X row-major over the starts' copy */
    transpose_into(xv, m, n, rows);
    if (st->clipped) {
        double svd_cost = cost_of(xv, lv, rv, m, n, k, p, ws), winsorized;
        int rc = alternate(t, m, n, x, ldx, rows, k, p, delta, max_iter, tol, st->l2, m, st->r2,
                           k, share, ws, &winsorized);
        if (rc != LOWRANK_OK)
            return rc;
        if (winsorized <= svd_cost) {
            view l2 = colmajor(t, st->l2, m), r2 = colmajor(t, st->r2, k);
            for (int64_t a = 0; a < k; a++) {
                for (int64_t i = 0; i < m; i++)
                    put(lv, i, a, get(l2, i, a));
                for (int64_t j = 0; j < n; j++)
                    put(rv, a, j, get(r2, a, j));
            }
            *cost = winsorized;
            return LOWRANK_OK;
        }
    }
    return alternate(t, m, n, x, ldx, rows, k, p, delta, max_iter, tol, l, ldl, r, ldr, share, ws,
                     cost);
}

/* The share of the fit's progress that the starts take. */
#define STARTS_SHARE 0.15

int lr_lp_entrywise_fit(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                        int64_t k, double p, int max_iter, double tol, int flags, uint64_t seed,
                        const lr_share *share, void *l, int64_t ldl, void *r, int64_t ldr,
                        double *cost)
{
    double delta;
    int rc = check_fit("lr_lp_entrywise_fit", t, m, n, x, ldx, k, p, max_iter, tol, l, ldl, r,
                       ldr, cost, &delta);
    workspace ws;
    starts st;
    if (rc == LOWRANK_OK)
        rc = workspace_alloc(m, n, k, 1, 0, &ws);
    if (rc != LOWRANK_OK)
        return rc;
    lr_share all = share ? *share : (lr_share){NULL, NULL, 0, 1};
    lr_share first = lr_share_part(&all, 0, STARTS_SHARE);
    lr_share rest = lr_share_part(&all, STARTS_SHARE, 1);
    rc = starts_alloc(t, m, n, k, seed, &first, &st);
    if (rc == LOWRANK_OK) {
        rc = svd_starts(colmajor(t, x, ldx), &st, colmajor(t, l, ldl), colmajor(t, r, ldr), flags);
        if (rc == LOWRANK_OK)
            rc = fit_from_starts(x, ldx, p, delta, max_iter, tol, l, ldl, r, ldr, &st, &rest, &ws,
                                 cost);
        starts_free(&st);
    }
    workspace_free(&ws);
    return rc;
}
