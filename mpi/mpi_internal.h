/*
 * mpi_internal.h - what the parts of liblowrank_mpi share; not installed.
 *
 * Every collective step is a round over a binomial tree rooted at rank 0
 * (lrm_run): contributions travel up, merging pairwise in rank order, the
 * root computes, and the result travels down.  Each message carries a status
 * ahead of its payload, so a failure on any rank, at any step, reaches every
 * rank instead of leaving the others waiting: the library's promise that an
 * error on one rank returns the same error on all.  The messages are this
 * library's own point-to-point sends on a duplicate of the caller's
 * communicator, counted as they go (the bytes the functions report), and
 * every sum is formed in the tree's fixed order, so that results depend on
 * the number of ranks but never on the run, and every rank holds the same
 * bits of the replicated results, which the root computes alone.
 */
#ifndef LOWRANK_MPI_INTERNAL_H
#define LOWRANK_MPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lowrank_mpi.h"

/* ------------------------------------------------------------ errors */

/* Record a failure in the calling thread's message (what
 * lowrank_mpi_last_error() returns) and return code. */
int lrm_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a failure of the serial library, with its message, as lrm_fail. */
int lrm_fail_serial(int code, const char *what);
/* The helpers that lib/blas.c and lib/random.c, compiled in (rename.h),
 * expect from the serial library's core. */
void *lrm_malloc(size_t count, size_t size);
size_t lrm_dtype_size(lowrank_dtype dtype);

/* ------------------------------------------------------------ messages */

/* A growing byte buffer: a message being packed.  The first LRM_SMALL
 * bytes live in the buffer itself, so that packing a small message (a
 * status, the totals of the last round) cannot fail.  Start it with
 * lrm_buf_init and release it with lrm_buf_free. */
enum { LRM_SMALL = 256 };
typedef struct lrm_buf {
    char *data;
    size_t len, cap;
    char small[LRM_SMALL];
} lrm_buf;

void lrm_buf_init(lrm_buf *b);
void lrm_buf_free(lrm_buf *b);

/* A received message being read. */
typedef struct lrm_msg {
    const char *data;
    size_t len, pos;
} lrm_msg;

int lrm_put(lrm_buf *b, const void *p, size_t bytes);
int lrm_put_i64(lrm_buf *b, int64_t v);
/* Read bytes (or one int64); LOWRANK_EINTERNAL on a message too short, a
 * bug: both sides of every message are this library's. */
int lrm_get(lrm_msg *m, void *p, size_t bytes);
int lrm_get_i64(lrm_msg *m, int64_t *v);
/* The next bytes in place, without copying. */
int lrm_view(lrm_msg *m, size_t bytes, const void **p);

/* ------------------------------------------------------------ rounds */

typedef struct lrm_comm {
    MPI_Comm comm; /* a duplicate of the caller's: our messages never meet theirs */
    int rank, size;
    int64_t bytes, messages; /* sent by this rank */
    int pending;             /* this rank's first failure not yet agreed, or 0 */
    int failed_rank;         /* the rank of an agreed failure */
    char message[512];       /* the message of pending (or the agreed failure) */
    char *sink;              /* where a message this rank cannot keep is read away */
    int broken;              /* an MPI call failed: no more messages */
} lrm_comm;

/* Check that MPI is usable and the communicator an intracommunicator, then
 * duplicate it (collective).  Errors: LOWRANK_EINVAL, LOWRANK_ECOMM. */
int lrm_open(MPI_Comm user, lrm_comm *c);
void lrm_close(lrm_comm *c);

/* Record a local failure (rc != 0) of this rank, to be agreed by the next
 * round; returns rc.  Local work is done only while lrm_ok(). */
int lrm_local(lrm_comm *c, int rc);
int lrm_ok(const lrm_comm *c);

/* One round.  The callbacks (any may be NULL) get the round's state:
 *  - pack_up: this rank's subtree's contribution, for its parent;
 *  - merge: combine a child's subtree (ranks after this one's, in order)
 *    into this rank's;
 *  - at_root: the computation at rank 0 once every contribution is in;
 *  - pack_down: the message for one child (child-specific, or the same for
 *    all);
 *  - unpack_down: what the parent sent.
 * A callback's failure (nonzero) becomes this rank's failure.  Returns 0, or
 * the failure agreed by every rank: one on any rank before the root
 * finished, or at the root.  A failure during the downward pass (unpacking)
 * stays pending on the ranks below it and is agreed by the next round: so
 * after every round, every rank either stops with the same status or
 * continues, and local work is guarded by lrm_ok(). */
typedef struct lrm_round {
    void *state;
    int (*pack_up)(void *state, lrm_buf *out);
    int (*merge)(void *state, lrm_msg *in);
    int (*at_root)(void *state);
    int (*pack_down)(void *state, int child, lrm_buf *out);
    int (*unpack_down)(void *state, lrm_msg *in);
} lrm_round;

int lrm_run(lrm_comm *c, const lrm_round *r);

/* An empty round: every pending failure agreed.  Where what a round sent
 * down decides which rounds follow (a route, a fallback), the ranks agree
 * first, so that none takes another path on data it failed to receive.
 * Its downward pass carries no payload and cannot fail. */
int lrm_agree(lrm_comm *c);

/* The last round of every function: agrees on every pending failure, sums
 * the bytes and messages sent (and the count values in sum, which may be
 * NULL when count is 0) and fills stats (which may be NULL).  Returns the
 * status every rank returns; on failure it sets this thread's message to
 * "rank R: ...". */
int lrm_finish(lrm_comm *c, double *sum, int count, lowrank_mpi_stats *stats);

/* Clear the statistics (NaN) as a call starts, and store one of them
 * (mpi/comm.c owns the layout).  s may be NULL. */
void lrm_stats_start(lowrank_mpi_stats *s);
void lrm_stat(lowrank_mpi_stats *s, lowrank_mpi_stat key, double value);

/* ------------------------------------------------------------ the local block */

/* This rank's rows A_r (m x n) of the distributed matrix, read in place
 * through the public accessors: the column-major view is A_r itself or,
 * row-major, its transpose (op 'T').  When the global magnitudes are
 * extreme, a copy scaled by 2^scale_exp replaces it (owned). */
typedef struct lrm_block {
    lowrank_dtype t;
    const void *data;
    int64_t ld, m, n;
    char op;           /* A_r = op(view): 'N' column-major, 'T' row-major */
    int64_t first;     /* the global index of row 0 */
    int scale_exp;     /* A_r here = 2^scale_exp times the caller's */
    lowrank_matrix *scaled;
} lrm_block;

/* The block of local (not NULL).  Checks its values: LOWRANK_ENONFINITE
 * names the first NaN or infinity. */
int lrm_block_init(const lowrank_matrix *local, lrm_block *b);
void lrm_block_free(lrm_block *b);
/* Largest magnitude and sum of squares (in double) of the block. */
void lrm_block_scan(const lrm_block *b, double *maxabs, double *sumsq);
/* The power of two that brings the global largest magnitude within the
 * range where Gram matrices and products neither overflow nor underflow
 * (0 when it already is), and the block scaled by it. */
int lrm_scale_exponent(lowrank_dtype t, double maxabs);
int lrm_block_scale(lrm_block *b, int e);

/* c (m x cols, double, leading dimension m) = A_r x, x n x cols double. */
int lrm_block_mul(const lrm_block *b, int64_t cols, const double *x, double *c);
/* z (n x cols, double, leading dimension n) = A_r^T y, y m x cols double. */
int lrm_block_tmul(const lrm_block *b, int64_t cols, const double *y, double *z);
/* g (n x n, double, upper triangle) = A_r^T A_r, formed in double. */
int lrm_block_gram(const lrm_block *b, double *g);
/* d (m x n, double, column-major) = A_r. */
void lrm_block_copy(const lrm_block *b, double *d);

/* ------------------------------------------------------------ TSQR */

/* The thin SVD of a tall matrix whose rows are spread over the ranks,
 * C = [C_0; C_1; ...] (C_r: this rank's m_r x L rows, double), by TSQR: each
 * rank factors its rows, the triangles are stacked pairwise and factored up
 * the tree, the root takes the SVD of the last one, R = Ut S Wt^T, and Ut's
 * leading columns travel down the tree, through the stored factors, to give
 * each rank its rows of the global U = Q Ut.  Every Q involved is orthonormal
 * (Householder; an identity where a block has fewer rows than columns), so U
 * is orthonormal whatever the rank of C or the rows per rank. */
typedef struct lrm_svd_result {
    int64_t k;     /* kept triplets */
    double *s;     /* k singular values, descending (every rank) */
    double *v;     /* nb x k: basis W_k, or L x k: W_k when nb = 0 (every rank) */
    double *u;     /* m_r x k: this rank's rows of U */
    double *all_s; /* the min(L, rows) singular values of C (every rank) */
    int64_t nall;
} lrm_svd_result;

/* With k = 0 the root chooses k by choose(every singular value, count, ctx),
 * and every rank receives it.  The right singular vectors W (L x k) come
 * back multiplied by basis (nb x L, needed at the root only; nb = 0: W
 * itself), computed once at the root, so that every rank holds the same
 * bits.  c (m_r x L, leading dimension m_r) is destroyed.  Returns the
 * agreed status of the round; a later local failure (the last product) is
 * pending in comm. */
typedef int64_t (*lrm_rank_rule)(const double *s, int64_t count, void *ctx);
int lrm_tsqr_svd(lrm_comm *comm, double *c, int64_t m, int64_t L, int64_t k, const double *basis,
                 int64_t nb, lrm_rank_rule choose, void *ctx, lrm_svd_result *out);
void lrm_svd_result_free(lrm_svd_result *r);

/* ------------------------------------------------------------ the setup round */

/* What every function first agrees on: the arguments every rank must share
 * (their minimum and maximum over the ranks must agree), the global sizes,
 * the largest magnitude and sum of squares, and each rank's first row. */
enum { LRM_MAX_ARGS = 12 };
typedef struct lrm_setup {
    int64_t nargs;
    int64_t arg_min[LRM_MAX_ARGS], arg_max[LRM_MAX_ARGS]; /* n, dtype, k, ... */
    const char *arg_name[LRM_MAX_ARGS];
    int64_t rows;        /* global */
    double maxabs, sumsq; /* global */
    int64_t first;       /* this rank's first row */
    /* internal: the rows of this rank's subtree before each child */
    int64_t subtree_rows, before_child[32];
} lrm_setup;

/* Agree on the arguments args[0..nargs) (names for the messages) and the
 * block's sizes and magnitudes.  b may be NULL on a rank whose checks
 * failed (its failure is pending).  Fails on every rank when an argument
 * differs between ranks. */
int lrm_setup_run(lrm_comm *c, const lrm_block *b, const int64_t *args, const char *const *names,
                  int nargs, lrm_setup *s);

/* ------------------------------------------------------------ a call */

/* A call of one of the library's functions, from its first step to its
 * last. */
typedef struct lrm_call {
    lrm_comm c;
    lrm_block b;
    lrm_setup s;
    int opened, have_block;
} lrm_call;

/* The first steps of every function: *out set to NULL and the statistics
 * cleared; the communicator; this rank's own checks (checked: their status,
 * run by the caller, which filled args) and its block; the setup round on
 * args.  When the communicator could not be opened (x->opened 0) the
 * failure is this rank's alone and the function returns it at once;
 * otherwise the status is the setup round's, agreed. */
int lrm_begin(lrm_call *x, MPI_Comm comm, const lowrank_matrix *local, int checked,
              const int64_t *args, const char *const *names, int nargs, lowrank_factors **out,
              lowrank_mpi_stats *stats);

/* The last steps: the final agreement (lrm_finish, summing the count values
 * of sum), *out freed and set to NULL on failure, the rows statistic, the
 * block and the communicator released.  Returns the status every rank
 * returns. */
int lrm_end(lrm_call *x, double *sum, int count, lowrank_factors **out, lowrank_mpi_stats *stats);

/* ------------------------------------------------------------ results */

/* Factors of this rank's rows: U (m_r x k, column-major), S and V^T given
 * as V (n x k, column-major), all double, in dtype t, via the public
 * lowrank_factors_new. */
int lrm_factors(lowrank_dtype t, int64_t m, int64_t n, int64_t k, double *u, double *s, double *v,
                double relative_error, lowrank_factors **out);

/* lowrank_mpi_svd, with the exact route's fallback forced when force_tsqr
 * (for the tests). */
int lrm_svd(MPI_Comm comm, const lowrank_matrix *local, int64_t k, const lowrank_opts *opts,
            lowrank_factors **out, lowrank_mpi_stats *stats, int force_tsqr);

/* The relative Frobenius error of an orthogonal projection that keeps
 * captured of a sum of squares sumsq: sqrt(max(0, sumsq - captured) / sumsq). */
double lrm_projection_error(double sumsq, double captured);

#endif
