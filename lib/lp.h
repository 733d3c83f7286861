/*
 * lp.h - the entry-wise lp low-rank fit (lib/lp_entries.c), internal to the
 * library; not installed.
 *
 * Given the m x n column-major X, find L (m x k) and R (k x n) that make
 *
 *     cost(L, R) = sum over i, j of |X - L R|_ij ^ p,     1 <= p <= 2,
 *
 * small: robust low rank under sparse gross corruption for p near 1 (a few
 * wild entries move the fit far less than they move the SVD), least squares
 * for p = 2.  The problem is not convex; the fit starts from the truncated
 * SVD and alternates iteratively reweighted least squares (IRLS) steps on the
 * rows of L and the columns of R.  Each step solves, for one row of L (or one
 * column of R) with the other factor fixed, the weighted least-squares problem
 * whose weights max(|residual|, delta)^(p - 2) come from the current
 * residuals, and keeps the new row only if its own cost went down: rows of L
 * (and columns of R) are independent given the other factor, so the total
 * cost never increases.
 *
 * The public lowrank_lp (objective LOWRANK_OBJECTIVE_ENTRIES) refines its own
 * starting point with lr_lp_entrywise_refine; the background model calls
 * lr_lp_entrywise_fit on a sample of pixels and lr_lp_entrywise_left for
 * every pixel given the frames' coefficients.
 *
 * Every function checks its arguments (sizes >= 1, k in [1, min(m, n)],
 * p in [1, 2] (any p >= 1 for the cost), leading dimensions, NULL pointers,
 * finite X) and records a message with lr_fail.  Work is done in double
 * whatever the dtype; results are stored in the dtype t of the arguments.
 */
#ifndef LOWRANK_LP_H
#define LOWRANK_LP_H

#include <stdint.h>

#include "lowrank.h"

/* A rows x cols matrix: element (i, j) at data[i + j * ld], or, when trans,
 * at data[j + i * ld] (the transpose of a column-major matrix). */
typedef struct lr_view {
    lowrank_dtype t;
    void *data;
    int64_t ld;
    int trans;
} lr_view;

/* Rows idx[0 .. c - 1] of v (rows 0 .. c - 1 when idx is NULL, and then
 * the first c rows must exist), columns 0 .. n - 1, into the c x n
 * column-major dst, as doubles (fastest with idx increasing). */
void lr_view_load_rows(lr_view v, const int64_t *idx, int64_t c, int64_t n, double *dst);

/* The reverse: the c x n column-major src into those rows of v, rounded to
 * v's dtype. */
void lr_view_store_rows(lr_view v, const int64_t *idx, int64_t c, int64_t n, const double *src);

/* The cost sum |X - L R|^p (max |X - L R| for p = INFINITY) into *cost,
 * computed in double; here p may be any value >= 1, and the factors L and R
 * have their own dtype tf. */
int lr_lp_entrywise_cost(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                         int64_t k, lowrank_dtype tf, const void *l, int64_t ldl, const void *r,
                         int64_t ldr, double p, double *cost);

/* The rows of L for a fixed R: up to iters IRLS steps per row from the L
 * given on entry.  A step is kept only by the rows whose cost it lowers; a
 * row stops when a step lowers its cost by tol times the cost or less (so
 * the work goes to the rows far from their optimum, such as those with many
 * outliers).  With p = 2 one step gives the least-squares rows. */
int lr_lp_entrywise_left(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                         int64_t k, const void *r, int64_t ldr, double p, int iters, double tol,
                         void *l, int64_t ldl);

/* Alternate one IRLS step on the rows of L and one on the columns of R, from
 * the L and R given on entry, until an alternation lowers the cost by less
 * than tol times the cost, or max_iter alternations.  *cost gets the final
 * cost, never above the starting one. */
int lr_lp_entrywise_refine(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                           int64_t k, double p, int max_iter, double tol, void *l, int64_t ldl,
                           void *r, int64_t ldr, double *cost);

/* Flags of lr_lp_entrywise_fit. */
enum {
    LR_FIT_START_GIVEN = 1, /* L and R on entry are the start, instead of the SVD of X */
    LR_FIT_CLIP_ROWS = 2    /* winsorize each row of X, instead of each column */
};

/* lr_lp_entrywise_refine from the truncated SVD L = U_k S_k, R = V_k^T of
 * X with each column's (or, with LR_FIT_CLIP_ROWS, each row's) gross
 * outliers clipped (to its median +- 3 robust standard deviations), whose
 * start the outliers do not dominate; should that end above the cost of
 * X's own truncated SVD (or, with LR_FIT_START_GIVEN, of the start in L
 * and R), the refinement from the latter is returned instead.  *cost is
 * never above that start's cost.  On failure (ENOMEM, ENOCONV) L and R may
 * have been written. */
int lr_lp_entrywise_fit(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                        int64_t k, double p, int max_iter, double tol, int flags, void *l,
                        int64_t ldl, void *r, int64_t ldr, double *cost);

/* Solve the k x k symmetric positive definite a z = b in place (z over b),
 * by Cholesky on a's lower triangle (row-major, overwritten).  Returns 0,
 * leaving b unspecified, when a is not numerically positive definite.  For
 * the small systems of IRLS steps (k is a rank), where LAPACK's call costs
 * more than the work. */
int lr_small_spd_solve(int64_t k, double *a, double *b);

/* The median of the n >= 1 values at v, which are reordered; O(n). */
double lr_median(double *v, int64_t n);

#endif
