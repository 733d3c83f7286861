/*
 * factors.h - the lowrank_factors handle, shared by every part that returns
 * an approximation U diag(S) V^T; not installed.
 */
#ifndef LOWRANK_FACTORS_H
#define LOWRANK_FACTORS_H

#include "lowrank.h"

/* New factors of an m x n matrix from U (m x k, orthonormal columns), S
 * (k x 1, descending, >= 0) and V^T (k x n, orthonormal rows), all of one
 * dtype and in any layout, and the relative Frobenius error of the
 * approximation (>= 0).  Takes ownership of u, s and vt, also on failure
 * (then they are freed).  Fails only with LOWRANK_ENOMEM. */
int lr_factors_new(lowrank_matrix *u, lowrank_matrix *s, lowrank_matrix *vt,
                   double relative_error, lowrank_factors **out);

/* The subspace the factors were fitted in, which the row-wise objective of
 * lowrank_lp_cost measures distances to: LOWRANK_ORIENT_ROWS (the rows of A
 * against span(V); every factors start so) or LOWRANK_ORIENT_COLS (the
 * columns of A against span(U); lowrank_lp sets it for a column fit). */
void lr_factors_set_orientation(lowrank_factors *f, lowrank_orientation orientation);
lowrank_orientation lr_factors_orientation(const lowrank_factors *f);

/* S times 2^e: factors computed on a copy of A scaled by 2^-e, back to A's
 * scale.  LOWRANK_ERANGE (f unchanged) when a value overflows S's dtype. */
int lr_factors_unscale(lowrank_factors *f, int e);

#endif
