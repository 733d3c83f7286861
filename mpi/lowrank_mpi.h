/*
 * lowrank_mpi.h - liblowrank_mpi: low-rank approximation of a matrix whose
 * rows are spread over the processes of an MPI communicator.
 *
 * liblowrank_mpi sits beside liblowrank as libfftw3_mpi sits beside
 * libfftw3: a separate library (liblowrank_mpi.so.0, pkg-config lowrank-mpi)
 * so that liblowrank itself needs no MPI.  It calls liblowrank through its
 * public API and returns its types: lowrank_matrix, lowrank_opts,
 * lowrank_factors, the LOWRANK_E... status codes (lowrank_strerror()).
 * lowrank_mpi(7) is the map, docs/mpi.md the algorithms, the cost model and
 * the measurements.
 *
 * The distributed matrix.  Rank r of the communicator holds a block of
 * consecutive rows, a lowrank_matrix of its own (any dtype, layout and
 * leading dimension, at least one row); the matrix is the blocks stacked in
 * rank order.  Every block has the same number of columns n and the same
 * dtype.
 *
 * Conventions that hold for every function below:
 *
 *  - Collective.  Every rank of comm calls the function, with its own block
 *    and the same other arguments (k, p, and options of the same values);
 *    arguments that differ between ranks are an error on every rank.  comm
 *    is duplicated for the call, so the library's messages never meet the
 *    caller's.  As for any MPI collective, one thread per process calls it
 *    at a time for a given communicator.
 *
 *  - Errors reach every rank.  When a check or a computation fails on any
 *    rank, every rank returns the same negative status; on every rank,
 *    lowrank_mpi_last_error() gives "rank R: " and the failing rank's
 *    message.  No rank is left waiting.  An MPI call that fails returns
 *    LOWRANK_ECOMM when the communicator's error handler lets it
 *    (MPI_ERRORS_RETURN; by default MPI aborts the job), and then the other
 *    ranks may be left waiting, as with any MPI failure.
 *
 *  - Results.  The factors are a lowrank_factors of this rank's rows:
 *    lowrank_factors_u() holds this rank's rows of U (U, stacked over the
 *    ranks, has orthonormal columns); S and V^T are the same on every rank,
 *    bit for bit; lowrank_factors_error() gives the relative Frobenius
 *    error of the whole approximation.  So lowrank_factors_reconstruct()
 *    writes this rank's rows of the approximation and lowrank_lp_cost() the
 *    cost of this rank's rows.  On failure *out is set to NULL.
 *
 *  - Reproducible.  For a fixed number of ranks, the same blocks and the
 *    same seed give the same result on every run.  Other numbers of ranks
 *    give the same result up to rounding (lowrank_mpi_svd) or to the
 *    documented tolerance (lowrank_mpi_lp).
 *
 *  - Communication is counted: a lowrank_mpi_stats handle passed to a
 *    function receives the bytes every rank sent, and what else the
 *    function reports.
 *
 * Copyright (c) 2026 the liblowrank authors.  MIT licence, see COPYING.
 */
#ifndef LOWRANK_MPI_H
#define LOWRANK_MPI_H

#include <mpi.h>
#include <stdint.h>

#include "lowrank.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define LOWRANK_MPI_API __attribute__((visibility("default")))
#else
#define LOWRANK_MPI_API
#endif

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

/* lowrank_mpi_last_error: the detailed message of the calling thread's last
 * failing call into liblowrank_mpi, "rank R: " and the message of the rank
 * where it failed, e.g. "rank 2: lowrank_mpi_svd: local(3, 4) = nan is not
 * finite".  "" before the first failure; a successful call does not clear
 * it.  The string belongs to the library and stays valid until the same
 * thread's next failing call. */
LOWRANK_MPI_API const char *lowrank_mpi_last_error(void);

/* ------------------------------------------------------------------------
 * Statistics of a call
 *
 * A lowrank_mpi_stats handle, passed to a function, receives figures of
 * that call, read by key (new keys may be added, never renumbered).  Every
 * value is a double (counts are exact below 2^53).  A key the last call did
 * not set reads as NaN.  A handle is written by the call it is passed to,
 * on every rank that passes one (it may be NULL on any rank).
 * ------------------------------------------------------------------------ */

typedef struct lowrank_mpi_stats lowrank_mpi_stats;

typedef enum lowrank_mpi_stat {
    /* bytes sent by all ranks together during the call: the payload and
     * headers of every message the library sent, each counted once (the
     * duplication of the communicator, inside MPI, is not counted) */
    LOWRANK_MPI_STAT_BYTES = 1,
    /* bytes this rank sent */
    LOWRANK_MPI_STAT_BYTES_RANK = 2,
    /* messages sent by all ranks together */
    LOWRANK_MPI_STAT_MESSAGES = 3,
    /* rows of the whole matrix */
    LOWRANK_MPI_STAT_ROWS = 4,
    /* lowrank_mpi_svd: the route taken, a lowrank_mpi_route */
    LOWRANK_MPI_STAT_ROUTE = 5,
    /* lowrank_mpi_lp: the lp cost (LOWRANK_OBJECTIVE_ROWS) of the factors
     * on all the rows */
    LOWRANK_MPI_STAT_COST = 6,
    /* lowrank_mpi_lp: rows of the coreset of the whole matrix */
    LOWRANK_MPI_STAT_CORESET_SIZE = 7,
    /* lowrank_mpi_lp: where the fitted subspace comes from: the rank whose
     * rows' fit won, or -1 for the fit of the coreset */
    LOWRANK_MPI_STAT_FIT_RANK = 8
} lowrank_mpi_stat;

/* Values of LOWRANK_MPI_STAT_ROUTE. */
typedef enum lowrank_mpi_route {
    /* exact: the Gram matrix's leading eigenvectors, certified */
    LOWRANK_MPI_ROUTE_GRAM = 1,
    /* exact: LAPACK's SVD of the matrix's R factor (TSQR), when the Gram
     * route could not be certified */
    LOWRANK_MPI_ROUTE_TSQR = 2,
    /* randomized: block Krylov */
    LOWRANK_MPI_ROUTE_KRYLOV = 3
} lowrank_mpi_route;

/* lowrank_mpi_stats_new: a new statistics handle, every key NaN.
 * Errors: LOWRANK_EINVAL (out NULL), LOWRANK_ENOMEM. */
LOWRANK_MPI_API int lowrank_mpi_stats_new(lowrank_mpi_stats **out);

/* lowrank_mpi_stats_free: release a statistics handle.  NULL is accepted. */
LOWRANK_MPI_API void lowrank_mpi_stats_free(lowrank_mpi_stats *stats);

/* lowrank_mpi_stats_get: the value of key from the last call stats was
 * passed to (NaN when that call did not set it).
 * Errors: LOWRANK_EINVAL (stats or value NULL, unknown key). */
LOWRANK_MPI_API int lowrank_mpi_stats_get(const lowrank_mpi_stats *stats, lowrank_mpi_stat key,
                                          double *value);

/* ------------------------------------------------------------------------
 * Distributed l2 SVD truncation
 * ------------------------------------------------------------------------ */

/* lowrank_mpi_svd: the best rank-k approximation of the distributed m x n
 * matrix A whose rows this rank holds in local, as lowrank_svd() computes
 * it, with U distributed as the rows are.  Designed for tall matrices
 * (m >> n): n-sized data are replicated.
 *
 * k: 1 <= k <= min(m, n), or 0 with LOWRANK_OPT_TOLERANCE = tau > 0 for the
 * smallest k whose relative Frobenius error is at most tau (the exact
 * route, whatever the method).
 *
 * Options (NULL for every default; the same values on every rank):
 *  - LOWRANK_OPT_METHOD:
 *    LOWRANK_METHOD_EXACT: the Gram matrix A^T A, summed up the tree in
 *      double; its k + 1 leading eigenpairs (LAPACK, at rank 0) give V; U
 *      and S from the SVD of A V by TSQR, so that S are Ritz values of A
 *      itself; then lowrank_svd's certificate, from the residual
 *      A^T U - V S (one more pass): every value within max(m, n) u sigma_1
 *      of the true one (u the dtype's unit roundoff), the triplets exact for
 *      a matrix within sqrt 2 max(m, n) max(u sigma_1,
 *      2^-53 sigma_1^2 / sigma_k) of A.  When it cannot certify: LAPACK's
 *      SVD of the R factor of A (TSQR), within LAPACK's accuracy.  Every rank
 *      forms an n x n matrix of doubles (its Gram matrix).
 *    LOWRANK_METHOD_RANDOMIZED: block Krylov as lowrank_svd's, from the
 *      same random block (the same seed gives the same space): blocks of
 *      k + p columns of [V, (A^T A) V, ..., (A^T A)^q V], each product
 *      summed up the tree and orthonormalised at rank 0, then
 *      Rayleigh-Ritz by TSQR of A times the basis.  When
 *      (q + 1)(k + p) > min(m, n) it computes the exact truncation.
 *    LOWRANK_METHOD_AUTO (the default): lowrank_svd's rule: randomized
 *      when k > 0 and 2 (q + 1)(k + p) <= min(m, n), exact otherwise.
 *  - LOWRANK_OPT_TOLERANCE, LOWRANK_OPT_SEED, LOWRANK_OPT_OVERSAMPLING p
 *    (default 20), LOWRANK_OPT_POWER_ITER q (default 2): as lowrank_svd.
 *
 * Communication (docs/mpi.md), in bytes, all ranks together, P ranks:
 * exact, 8 (P - 1)(n (n + 1) / 2 + 3 n k + 1.5 k^2 + k); randomized,
 * 8 (P - 1)(n b (2q + 1) + L (L + 1) / 2 + n k + L k + L) with b = k + p and
 * L = (q + 1) b; and 32 bytes of header per message.  Neither depends on m.
 *
 * Errors (on every rank): LOWRANK_EINVAL (local or out NULL, a method other
 * than the above, MPI not initialised, comm MPI_COMM_NULL or an
 * intercommunicator, an argument or option that differs between ranks,
 * blocks of different column counts or dtypes), LOWRANK_ERANGE (k < 0 or
 * k > min(m, n); k = 0 without a tolerance), LOWRANK_ENONFINITE (a block
 * holds NaN or infinity), LOWRANK_EOVERFLOW, LOWRANK_ENOMEM,
 * LOWRANK_ENOCONV, LOWRANK_ECOMM. */
LOWRANK_MPI_API int lowrank_mpi_svd(MPI_Comm comm, const lowrank_matrix *local, int64_t k,
                                    const lowrank_opts *opts, lowrank_factors **out,
                                    lowrank_mpi_stats *stats);

/* ------------------------------------------------------------------------
 * Distributed lp subspace fitting
 * ------------------------------------------------------------------------ */

/* lowrank_mpi_lp: a rank-k subspace S fitting the rows of the distributed
 * matrix A in the lp sense, sum over the rows of dist(a_i, S)^p
 * (LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS of lowrank_lp), with the
 * approximation A V V^T as factors.  p: 1 <= p < infinity.
 *
 *  1. Each rank fits its own rows (lowrank_lp, when it holds at least k)
 *     and summarises them by a coreset (lowrank_coreset_build, rows
 *     numbered globally).
 *  2. Up the tree, coresets merge and reduce (lowrank_coreset_merge), and
 *     each merge keeps whichever of the two subtrees' fits costs less on
 *     the merged coreset; rank 0 ends with a coreset of the whole matrix.
 *  3. Rank 0 also fits the coreset itself (lowrank_lp of its rows scaled by
 *     w^(1/p)) and keeps, of that fit and the best rank's, the one of lower
 *     cost on the coreset.  (The fit of a coreset alone can land far off,
 *     docs/mpi.md: a coreset holds few of the many rows near the subspace,
 *     with large weights.)
 *  4. The subspace goes down the tree; U and S from the SVD of A V by TSQR;
 *     the cost on all the rows is summed up the tree.
 * The cost comes back in LOWRANK_MPI_STAT_COST of stats.
 *
 * Options (NULL for every default; the same values on every rank):
 *  - LOWRANK_OPT_MPI_CORESET_SIZE: rows per coreset, each rank's and each
 *    merge's (default 0: 10 n, at least 500; docs/mpi.md has the
 *    measurements).
 *  - LOWRANK_OPT_SEED: the coresets' draws (each rank and each merge draw
 *    from a seed derived from it).
 *  - LOWRANK_OPT_METHOD, LOWRANK_OPT_REFINE_ITER, LOWRANK_OPT_REFINE_TOL,
 *    LOWRANK_OPT_EPS, LOWRANK_OPT_MAX_ITER: passed to lowrank_lp and the
 *    coreset functions.
 *  - LOWRANK_OPT_OBJECTIVE and LOWRANK_OPT_ORIENTATION must be rows.
 *
 * Each rank's block must have rank n unless it holds at most the coreset
 * size of rows (lowrank_coreset_build's condition).
 *
 * Errors (on every rank): as lowrank_mpi_svd, and LOWRANK_ERANGE (p NaN,
 * below 1 or infinite; k < 1 or k > min(m, n); refinement with p > 2),
 * LOWRANK_EUNSUPPORTED (the entries objective or the columns orientation),
 * LOWRANK_EDEGENERATE (a block, or a merged coreset, of rank below n). */
LOWRANK_MPI_API int lowrank_mpi_lp(MPI_Comm comm, const lowrank_matrix *local, int64_t k, double p,
                                   const lowrank_opts *opts, lowrank_factors **out,
                                   lowrank_mpi_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* LOWRANK_MPI_H */
