/*
 * svd.h - the routes of lowrank_svd's exact method (lib/svd.c), internal to
 * the library; not installed.
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

#include "lowrank.h"

typedef enum lr_exact_route {
    LR_ROUTE_RULE,    /* start where lowrank_svd's shape rule says */
    LR_ROUTE_LANCZOS, /* block Lanczos; then the Gram route, then LAPACK */
    LR_ROUTE_GRAM,    /* the Gram eigensolver; then LAPACK */
    LR_ROUTE_LAPACK   /* LAPACK's full SVD */
} lr_exact_route;

/* lowrank_svd(a, k, opts, out) with LOWRANK_METHOD_EXACT (whatever opts
 * says of the method; NULL opts for the defaults), starting from the route
 * `from`; *taken (when not NULL) gets the route whose result came back, or
 * LR_ROUTE_RULE when none was needed (a zero matrix).  Errors as
 * lowrank_svd's. */
int lr_svd_exact(const lowrank_matrix *a, int64_t k, const lowrank_opts *opts,
                 lr_exact_route from, lowrank_factors **out, lr_exact_route *taken);

#endif
