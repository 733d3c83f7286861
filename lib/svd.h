/*
 * svd.h - what the parts of lowrank_svd share (lib/svd.c, lib/svd_krylov.c,
 * lib/svd_exact.c), and the routes of its exact method; internal to the
 * library, not installed.
 *
 * The exact method has three routes (docs/svd.md): block Lanczos on the
 * double Gram matrix with its certificate, the Gram matrix's eigensolver
 * with its own, and LAPACK's full SVD, each the fallback of the one before.
 * lowrank_svd picks where to start by a shape rule; lr_svd_exact lets the
 * tests and the benchmark start from any of them on any matrix, and reports
 * which route's result came back.
 */
#ifndef LOWRANK_SVD_H
#define LOWRANK_SVD_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

typedef enum lr_exact_route {
    LR_ROUTE_RULE,    /* start where lowrank_svd's shape rule says */
    LR_ROUTE_LANCZOS, /* block Lanczos; then the Gram route, then LAPACK */
    LR_ROUTE_GRAM,    /* the Gram eigensolver; then LAPACK */
    LR_ROUTE_LAPACK,  /* LAPACK's full SVD */
    LR_ROUTE_OPERATOR /* an operator's Lanczos route, through its products */
} lr_exact_route;

/* lowrank_svd(a, k, opts, out) with LOWRANK_METHOD_EXACT (whatever opts
 * says of the method; NULL opts for the defaults), starting from the route
 * `from`; *taken (when not NULL) gets the route whose result came back, or
 * LR_ROUTE_RULE when none was needed (a zero matrix).  Errors as
 * lowrank_svd's. */
int lr_svd_exact(const lowrank_matrix *a, int64_t k, const lowrank_opts *opts, lr_exact_route from,
                 lowrank_factors **out, lr_exact_route *taken);

/* ------------------------------------------------------------ shared by the parts
 * of lowrank_svd: svd.c, svd_krylov.c, svd_exact.c */

/* Element access in either dtype, and scratch of count elements. */
static inline size_t esize(lowrank_dtype t) { return lr_dtype_size(t); }

/* Unit roundoff of the dtype. */
static inline double roundoff(lowrank_dtype t) { return t == LOWRANK_FLOAT32 ? 0x1p-24 : 0x1p-53; }

static inline void *elem(lowrank_dtype t, void *base, int64_t offset)
{
    return (char *)base + (size_t)offset * esize(t);
}

static inline const void *const_elem(lowrank_dtype t, const void *base, int64_t offset)
{
    return (const char *)base + (size_t)offset * esize(t);
}

static inline double get(lowrank_dtype t, const void *base, int64_t i)
{
    return t == LOWRANK_FLOAT32 ? (double)((const float *)base)[i] : ((const double *)base)[i];
}

static inline void set(lowrank_dtype t, void *base, int64_t i, double v)
{
    if (t == LOWRANK_FLOAT32)
        ((float *)base)[i] = (float)v;
    else
        ((double *)base)[i] = v;
}

static inline void *scratch(lowrank_dtype t, int64_t count)
{
    return lr_malloc((size_t)count, esize(t));
}

static inline void *scratch_zero(lowrank_dtype t, int64_t count)
{
    return lr_calloc((size_t)count, esize(t));
}

static inline char flip_op(char op) { return op == 'N' ? 'T' : 'N'; }

/* The problem: M, the caller's matrix or its transpose, whichever is tall:
 * op(view) of a dense matrix's column-major view, or scale op(A) of an
 * operator A (view NULL), reached through its products. */
typedef struct problem {
    lowrank_dtype t;
    const void *view; /* column-major data, ld; NULL for an operator */
    int64_t ld;
    char op;          /* M = view ('N') or view^T ('T'); or scale op(A) */
    int64_t m, n;     /* M is m x n, m >= n */
    int flipped;      /* the caller's matrix is M^T */
    double sumsq;     /* ||M||_F^2; NaN when unknown (a callback operator) */
    double unscale;   /* singular values of the caller's matrix = unscale * those of M */
    void *copy;       /* owned scaled copy behind view, when the magnitudes needed one */
    lr_progress *progress; /* the call's progress report (lowrank_opts_set_progress) */
    const lowrank_operator *a; /* the operator, when view is NULL */
    double scale;              /* its products are scaled by this power of two */
    lr_products *products;     /* their threads and progress span */
    int64_t max_cols;          /* LOWRANK_OPT_MAX_ITER: the operator Lanczos basis's cap */
} problem;

/* Whether M is an operator whose products are passes over a file. */
static inline int streamed(const problem *p) { return p->a && (p->a->flags & LR_OP_STREAMED); }

/* U of M (um, m x k) and V of M (vm, n x k), column-major, live in the
 * handles returned to the caller: for A = M they are U (column-major) and
 * V^T (row-major k x n); for A = M^T, V^T (row-major k x m) and U. */
typedef struct result {
    int64_t k;
    lowrank_matrix *left, *right; /* own um and vm */
    void *um, *vm;
    double *sigma; /* k singular values of M, descending */
    double error;  /* relative Frobenius error */
} result;

/* An orthonormal basis V (n x cols) of the block Krylov space
 * [V0, (M^T M) V0, ..., (M^T M)^q V0] of a random V0, in blocks of b
 * columns.  The randomized method multiplies by M and M^T, keeping
 * Y = M V (m x cols); the exact method's Lanczos route multiplies by the
 * double Gram matrix G = M^T M instead (gram set; the basis in double; no
 * Y).  Orthonormalising Z_j = M^T M V_j against the basis writes it as
 * Z_j = V H + V_(j+1) R, which gives the projection V^T M^T M V without
 * another pass over M: it is block tridiagonal (M^T M V_j lies in the span
 * of V_(j-1), V_j, V_(j+1)), with diagonal blocks D_j = V_j^T Z_j, the last
 * rows of H, and subdiagonal blocks S_j = V_(j+1)^T Z_j = R.  The last
 * diagonal block needs one more product: Y_last^T Y_last where Y is kept;
 * the Lanczos route leaves that block out of its Rayleigh-Ritz space
 * instead.  With products set, M^T M V_j comes from products with M
 * (lr_svd_gram: one fused pass over a file) and Y is not kept (m x cols
 * would not fit beside a matrix larger than memory, or is not worth its
 * memory to the Lanczos route); the basis may then be double for a
 * float32 M (the operator Lanczos route), converted around each product. */
typedef struct krylov {
    lowrank_dtype t;    /* of the basis: M's, or double on the Gram matrix */
    const double *gram; /* the n x n Gram matrix, both triangles, or NULL */
    int products;       /* M^T M V through products, Y not kept */
    int64_t b, cols, cap;
    void *v, *y;        /* n x cap; m x cap (Y), b x n on the Gram matrix, or the
                           scratch of lr_svd_gram */
    void *d, *s;        /* b x cap: D_j and S_j at column j b */
    void *h, *hacc;     /* cap x b: V^T w, and H as it accumulates */
    void *r, *racc, *x; /* b x b: a triangle, R as it accumulates, scratch */
} krylov;

/* svd.c */
/* dst (rows x cols, leading dimension ldd, dtype td) = src (lds, ts), with the
 * columns in reverse order when reverse is set; converts between dtypes. */
void lr_svd_copy_columns(lowrank_dtype ts, const void *src, int64_t lds, lowrank_dtype td,
                         void *dst, int64_t ldd, int64_t rows, int64_t cols, int reverse);

/* dst (cols x rows, leading dimension ldd) = the transpose of src. */
void lr_svd_copy_transposed(lowrank_dtype t, const void *src, int64_t lds, void *dst, int64_t ldd,
                            int64_t rows, int64_t cols);

/* y (m x c) = M x, x n x c. */
int lr_svd_apply(const problem *p, int64_t c, const void *x, int64_t ldx, void *y, int64_t ldy);

/* z (n x c) = M^T y, y m x c. */
int lr_svd_apply_t(const problem *p, int64_t c, const void *y, int64_t ldy, void *z, int64_t ldz);

/* z (n x c) = M^T M x, x n x c, with x and z of dtype t (M's or double),
 * through the scratch w of lr_svd_gram_scratch(p, t, c) elements of t: a
 * fused pass over a file operator, two products otherwise. */
int lr_svd_gram(const problem *p, lowrank_dtype t, int64_t c, const void *x, void *z, void *w);
int64_t lr_svd_gram_scratch(const problem *p, lowrank_dtype t, int64_t c);

/* The share [from, to] of the call's progress that the next products
 * cover, reported within them when they are long (passes over a file). */
void lr_svd_span(const problem *p, double from, double to);

/* A result for rank k, its handles allocated (uninitialised), and its
 * release (a zeroed or freed result is accepted). */
int lr_svd_result_alloc(const problem *p, int64_t k, result *r);
void lr_svd_result_free(result *r);

/* The relative error sqrt(||M||_F^2 - captured) / ||M||_F of a projection
 * that keeps `captured` of the squared norm; 0 for M = 0. */
double lr_svd_projection_error(const problem *p, double captured);

/* The sum of squares, in double, of count elements of dtype t. */
double lr_svd_sum_sq(lowrank_dtype t, const void *x, int64_t count);

/* The smallest rank whose relative error is at most tol, from count squared
 * singular values (or estimates of them) w, ascending: the leading count of
 * M's spectrum, the rest of ||M||_F^2 being discarded in any case.  The
 * discarded part is summed from the smallest value up, so that it is
 * accurate even when tiny.  At least 1, at most count. */
int64_t lr_svd_rank_for_tolerance(const problem *p, const double *w, int64_t count, double tol);

/* svd_krylov.c */
/* From the n x k orthonormal vk, whose span approximates M's leading right
 * singular subspace, and c = M vk (m x k, destroyed): the SVD of the
 * projection M vk vk^T into r (U, V, sigma). */
int lr_svd_project_onto(const problem *p, const void *vk, void *c, result *r);

/* The result for rank k, with the scratch both routes project through: vk
 * (n x k), the basis of the right singular subspace, and c (m x k) = M vk. */
int lr_svd_result_alloc_with_basis(const problem *p, int64_t k, result *r, void **vk, void **c);

/* realloc of *p to count * size bytes, LOWRANK_ENOMEM (and *p kept) on
 * failure. */
int lr_svd_grow(void **p, size_t count, size_t size);

/* Room for a basis of cap columns, and its release. */
int lr_krylov_reserve(const problem *p, krylov *kr, int64_t cap);
void lr_krylov_free(krylov *kr);

/* The first block: b random directions, or, with q = 0, where no Krylov
 * step will follow, M^T of b random directions on the long side: the row
 * space sampled as by the randomized range finder of Halko, Martinsson and
 * Tropp (the random block of the long side is made in Y's memory). */
int lr_krylov_start(const problem *p, krylov *kr, uint64_t seed, int64_t q);

/* The next block: Z = M^T M of the last block (M^T Y, or G V),
 * orthonormalised against the basis; its coefficients are the last block's
 * D and S. */
int lr_krylov_extend(const problem *p, krylov *kr);

/* g (L x L, zeroed, lower triangle) = V^T M^T M V on the first L columns,
 * from the blocks D_j (j < known) and the S_j between them. */
void lr_krylov_blocks(const krylov *kr, int64_t L, int64_t known, void *g);

/* Randomized SVD of rank k: block Krylov with blocks of b and depth q,
 * (q + 1) b <= n: 2q + 1 products with blocks of M (2 for q = 0), no
 * other pass over M. */
int lr_svd_randomized(const problem *p, int64_t k, int64_t b, int64_t q, uint64_t seed, result *r);

/* The block size of the tolerance mode: TOLERANCE_BLOCK, or n / 8 (at
 * least 4) on a smaller side below 256, so that the space can grow. */
int64_t lr_svd_tolerance_block(const problem *p);

/* Randomized SVD with the rank chosen by the tolerance: the Krylov space
 * grows by blocks of lr_svd_tolerance_block() until the projection onto it meets
 * the tolerance, then by q more blocks; the rank is the smallest whose Ritz
 * approximation meets the tolerance.  *exhausted reports a space that
 * would outgrow n before meeting the tolerance (the exact route then
 * does better). */
int lr_svd_randomized_tolerance(const problem *p, double tol, int64_t q, uint64_t seed, result *r,
                                int *exhausted);

/* svd_exact.c */
/* res (n x k, M's dtype) = M^T U - V diag(sigma), the residual of the
 * triplets in r (M V = U diag(sigma) holds by construction), and *norm2 its
 * squared Frobenius norm. */
int lr_svd_residual(const problem *p, const result *r, void *res, double *norm2);

/* The certificate's accuracy: max(m, n) u sigma_1, LAPACK's form. */
double lr_svd_certified_tolerance(const problem *p, const result *r);

/* The exact method, starting from the route `from` (the shape rule's
 * choice for LR_ROUTE_RULE); *taken gets the route whose result came back.
 * The Lanczos route needs k >= 1 and room for its first Rayleigh-Ritz step
 * in half of the small side (its basis's cap); otherwise the Gram route
 * starts. */
int lr_svd_exact_method(const problem *p, int64_t k, double tol, lr_exact_route from, result *r,
                        lr_exact_route *taken);

/* svd_operator.c: the exact method's operator route (docs/operators.md):
 * thick-restart block Lanczos on M^T M through products with M; *ok
 * reports the certificate, the computed residual within
 * lr_svd_certified_tolerance (r is left empty otherwise).  It is usable
 * when k >= 1 and its basis's cap leaves room for three blocks beyond k. */
int lr_svd_operator_route(const problem *p, int64_t k, result *r, int *ok);
int64_t lr_svd_operator_cap(const problem *p, int64_t k);
int lr_svd_operator_usable(const problem *p, int64_t k);

#endif
