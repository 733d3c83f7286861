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

#include "internal.h"
#include "lowrank.h"

/* A rows x cols matrix: element (i, j) at data[i + j * ld], or, when trans,
 * at data[j + i * ld] (the transpose of a column-major matrix). */
typedef struct lr_view {
    lowrank_dtype t;
    void *data;
    int64_t ld;
    int trans;
} lr_view;

/* A share [lo, hi] of lowrank_lp's progress (lr_progress, internal.h) for
 * one part of its work: pr NULL means no reports; opts are lowrank_lp's,
 * for the progress of nested public calls. */
typedef struct lr_share {
    lr_progress *pr;
    const lowrank_opts *opts;
    double lo, hi;
} lr_share;

/* Report that the fraction x of the share's work is done (s may be NULL);
 * LOWRANK_ECANCELED when the callback asks to stop.  x = 0 only lets the
 * callback cancel: reports never go back. */
int lr_share_report(const lr_share *s, double x);

/* The part [a, b] of s's work. */
lr_share lr_share_part(const lr_share *s, double a, double b);

/* Options for a nested public call doing all of s's work (lr_opts_nested);
 * s may be NULL. */
const lowrank_opts *lr_share_opts(const lr_share *s, lowrank_opts *storage);

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
 * and R), the refinement from the latter is returned instead.  The
 * truncated SVDs are lowrank_svd's with default options and the given
 * seed.  *cost is never above that start's cost.  Takes a copy of X.
 * Reports to share (NULL: none).  On failure (ENOMEM, ENOCONV, ECANCELED)
 * L and R may have been written. */
int lr_lp_entrywise_fit(lowrank_dtype t, int64_t m, int64_t n, const void *x, int64_t ldx,
                        int64_t k, double p, int max_iter, double tol, int flags, uint64_t seed,
                        const lr_share *share, void *l, int64_t ldl, void *r, int64_t ldr,
                        double *cost);

/* ------------------------------------------------------------ the rows objective
 *
 * lp.c reads the points, lp_space.c writes them in coordinates of a
 * subspace, lp_search.c fits a k-dimensional subspace to them. */

/* n points in R^d: point i is row i of v. */
typedef struct lr_points {
    lr_view v;
    int64_t n, d;
} lr_points;

/* The view from row i0 on. */
lr_view lr_view_rows_from(lr_view v, int64_t i0);

/* Scratch for passes over the points in chunks of rows: the chunk as
 * doubles (step x d) and its coefficients (step x k); a pass lets beat
 * (when not NULL) cancel after every chunk. */
typedef struct lr_chunker {
    int64_t step;
    double *x, *c;
    const lr_share *beat;
} lr_chunker;

/* beat: NULL, or the share whose callback may cancel a pass. */
int lr_chunker_alloc(const lr_points *pts, int64_t k, const lr_share *beat, lr_chunker *ch);

/* The chunk of a pass over the points that starts at point i0: its
 * *c <= ch->step points into ch->x (c x d, column-major doubles); then
 * ch->beat may cancel.  A pass reads for (i0 = 0; i0 < n; i0 += ch->step). */
int lr_chunk_load(const lr_points *pts, const lr_chunker *ch, int64_t i0, int64_t *c);

/* For the d x k v with orthonormal columns, each when not NULL: proj
 * (n x k, column-major) = P V, and dist_i = ||p_i - V V^T p_i|| formed from
 * the residual itself (not ||p||^2 - ||V^T p||^2, which cancels for points
 * near the subspace). */
int lr_points_project(const lr_points *pts, const double *v, int64_t k, const lr_chunker *ch,
                      double *proj, double *dist);

/* sum_i dist_i^p, or max_i dist_i for p = infinity. */
double lr_rows_cost(const double *dist, int64_t n, double p);

/* The points in coordinates of a subspace span Q (Q: d x r, orthonormal
 * columns): b_i = Q^T p_i and e_i = ||p_i - Q b_i||, so that for every
 * subspace S of span Q, dist(p_i, S)^2 = dist(b_i, Q^T S)^2 + e_i^2
 * exactly.  Q is NULL when it is the identity (r = d); e is NULL when the
 * points lie in span Q.  Room for cap columns in q and b. */
typedef struct lr_space {
    int64_t n, d, r, cap;
    double *q;   /* d x cap */
    double *b;   /* n x cap, column-major, leading dimension n */
    double *e;   /* n */
    double *top; /* r x k: the SVD's subspace, when known; else NULL */
} lr_space;

void lr_space_free(lr_space *sp);

/* Exact coordinates: Q spans the points to a relative 1e-6 (the identity
 * when n >= d points span R^d), r = that dimension, and top their top k
 * right singular vectors, which that takes.  When r <= k the points lie in
 * a k-dimensional subspace: then its basis is written into v (d x k) and
 * *exact is set. */
int lr_space_exact(const lr_points *pts, int64_t k, lr_space *sp, double *v, int *exact);

/* Sketched coordinates: Q spans the top r1 right singular directions of P
 * and the top r2 of D P, D = diag(1 / ||p_i||) (the points projected onto
 * the unit sphere), from randomized subspace iteration seeded with seed;
 * r = r1 + r2, room for cap >= r.  Reports to share. */
int lr_space_sketch(const lr_points *pts, int64_t r1, int64_t r2, int64_t cap, uint64_t seed,
                    const lr_share *share, lr_space *sp);

/* Grow span Q by the directions of P^T y (y: n x k, leading dimension n)
 * outside it, after restarting to span(Q w) when there is no room for k
 * more; w (r x k, orthonormal, leading dimension r; room for cap x k) is
 * rewritten in the new coordinates.  *added gets the number of new directions: 0 when P^T y
 * lies in span Q (to a relative 1e-8). */
int lr_space_grow(const lr_points *pts, lr_space *sp, const double *y, int64_t k,
                  const lr_share *beat, double *w, int64_t *added);

/* The k-dimensional subspace fitted to the points for the rows objective
 * (lp_search.c); docs/lp.md section 3. */
typedef struct lr_rows_fit {
    int64_t k;
    double p;
    int64_t iters;   /* refinement steps: 0 for the construction alone */
    double tol;      /* relative decrease that ends the refinement */
    int64_t starts;  /* random row-subset starts */
    int64_t dim;     /* the reduced dimension: -1 chosen, 0 never reduced */
    uint64_t seed;
    const lowrank_opts *opts; /* for the rounding */
    lr_share share;           /* the fit's part of the progress */
} lr_rows_fit;

/* The subspace as v (d x k, orthonormal columns). */
int lr_lp_fit_rows(const lr_points *pts, const lr_rows_fit *fit, double *v);

/* Solve the k x k symmetric positive definite a z = b in place (z over b),
 * by Cholesky on a's lower triangle (row-major, overwritten).  Returns 0,
 * leaving b unspecified, when a is not numerically positive definite.  For
 * the small systems of IRLS steps (k is a rank), where LAPACK's call costs
 * more than the work. */
int lr_small_spd_solve(int64_t k, double *a, double *b);

/* The median of the n >= 1 values at v, which are reordered; O(n). */
double lr_median(double *v, int64_t n);

#endif
