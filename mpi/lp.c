/*
 * lp.c - lowrank_mpi_lp: an lp subspace fit of the rows of a matrix spread
 * over the ranks, through coresets merged up the tree.  docs/mpi.md has the
 * algorithm, why candidate fits travel with the coresets and are judged on
 * all the rows, the defaults and the measurements.
 *
 *  1. Each rank fits its own rows (lowrank_lp): a candidate subspace; and
 *     summarises them by a coreset (lowrank_coreset_build).
 *  2. Up the tree, coresets merge and reduce (lowrank_coreset_merge), and
 *     the candidates of the two subtrees go along; beyond MAX_CANDIDATES,
 *     those of highest cost on the merged coreset are dropped.
 *  3. The root fits the coreset of the whole matrix (lowrank_lp of its rows
 *     scaled by w^(1/p)): one more candidate.
 *  4. Every candidate goes down the tree; each rank measures each on its
 *     rows (lowrank_lp_cost); the sums come up, and the candidate of least
 *     cost on all the rows wins.  A coreset of a few hundred rows estimates
 *     costs to a few percent, but its own fit can land far off (measured:
 *     80 degrees from the planted subspace, 27% above the best cost), and
 *     it cannot always tell such a fit from a good one; all the rows can.
 *  5. U and S from the SVD of A V by TSQR.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "mpi_internal.h"

static const lowrank_dtype F64 = LOWRANK_FLOAT64;

/* Rows per coreset when LOWRANK_OPT_MPI_CORESET_SIZE is 0: CORESET_PER_COL
 * times the columns, at least CORESET_MIN; and the ranks' fits that reach
 * the root (docs/mpi.md has the measurements behind them). */
enum { CORESET_PER_COL = 10, CORESET_MIN = 500, MAX_CANDIDATES = 4 };

static double *dalloc(int64_t count) { return lrm_malloc((size_t)count, sizeof(double)); }

/* A candidate subspace: V (n x k, orthonormal columns in double) and the
 * rank whose rows it was fitted to (-1: the coreset's). */
typedef struct candidate {
    double *v;
    int64_t rank;
} candidate;

typedef struct fit {
    lrm_comm *c;
    const lowrank_matrix *local;
    const lrm_block *block; /* local, as a block */
    int64_t n, k, size; /* size: rows per coreset */
    double p;
    const lowrank_opts *opts;
    int64_t seed;
    int merges;
    lowrank_coreset *core;                    /* of this rank's subtree */
    candidate cand[2 * MAX_CANDIDATES];       /* of this rank's subtree (a merge holds
                                               * two subtrees'), then all of them */
    int ncand;
    int64_t core_rows;                        /* every rank: rows of the whole coreset */
    double cost[2 * MAX_CANDIDATES];          /* each candidate's, on all the rows */
    int64_t winner;
} fit;

static void drop(fit *f, int i)
{
    free(f->cand[i].v);
    f->cand[i] = f->cand[--f->ncand];
}

/* The seed of the coreset drawn by rank at step level (0: its own rows,
 * then its merges), from the caller's: distinct streams, fixed by the
 * caller's seed and the number of ranks. */
static int64_t derived_seed(int64_t seed, int rank, int level)
{
    uint64_t x = (uint64_t)seed + 0x9e3779b97f4a7c15u * (uint64_t)(1 + rank * 64 + level);
    x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9u;
    return (int64_t)(x ^ (x >> 29));
}

/* The caller's options with the seed of (rank, level) and a row offset. */
static int options(const fit *f, int level, int64_t offset, lowrank_opts **o)
{
    int rc = lowrank_opts_copy(f->opts, o);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(*o, LOWRANK_OPT_SEED, derived_seed(f->seed, f->c->rank, level));
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(*o, LOWRANK_OPT_ROW_OFFSET, offset);
    if (rc != LOWRANK_OK) {
        lowrank_opts_free(*o);
        *o = NULL;
        return lrm_fail_serial(rc, "options");
    }
    return LOWRANK_OK;
}

/* The candidate of lowrank_lp's fit of x (fitted by rank), appended. */
static int add_fit(fit *f, const lowrank_matrix *x, int64_t rank, const char *what)
{
    lowrank_factors *g = NULL;
    int rc = lowrank_lp(x, f->k, f->p, f->opts, &g);
    if (rc != LOWRANK_OK)
        return lrm_fail_serial(rc, what);
    int64_t n = f->n, k = f->k;
    double *v = dalloc(n * k);
    if (v) { /* V^T transposed, made orthonormal in double (a float32 fit's is
              * so only in float32) */
        for (int64_t j = 0; j < k; j++)
            for (int64_t i = 0; i < n; i++)
                lowrank_matrix_get(lowrank_factors_vt(g), j, i, &v[i + j * n]);
        rc = lrm_qr(F64, n, k, v, n, NULL, 0);
    }
    lowrank_factors_free(g);
    if (!v || rc != LOWRANK_OK) {
        free(v);
        return v ? rc : LOWRANK_ENOMEM;
    }
    f->cand[f->ncand++] = (candidate){v, rank};
    return LOWRANK_OK;
}

/* The lp cost of the rows of x (read as the block b) against span(v), by
 * lowrank_lp_cost on the factors of their projection, (x V) V^T. */
static int cost_of(const lowrank_matrix *x, const lrm_block *b, const double *v, int64_t n,
                   int64_t k, double p, double *cost)
{
    int64_t m = lowrank_matrix_rows(x);
    double *xv = dalloc(m * k), *ones = dalloc(k), *vv = dalloc(n * k);
    lowrank_factors *g = NULL;
    int rc = xv && ones && vv ? lrm_block_mul(b, k, v, xv) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        for (int64_t j = 0; j < k; j++)
            ones[j] = 1;
        memcpy(vv, v, (size_t)(n * k) * sizeof(double));
        rc = lrm_factors(F64, m, n, k, xv, ones, vv, NAN, &g);
    }
    if (rc == LOWRANK_OK && (rc = lowrank_lp_cost(x, g, p, LOWRANK_OBJECTIVE_ROWS, cost)) != 0)
        rc = lrm_fail_serial(rc, "lowrank_lp_cost");
    lowrank_factors_free(g);
    free(xv);
    free(ones);
    free(vv);
    return rc;
}

/* The rows of the coreset scaled by w^(1/p), whose lp cost is the
 * coreset's weighted cost, as a new column-major double matrix. */
static int scaled_points(const lowrank_coreset *core, double p, lowrank_matrix **out)
{
    const lowrank_matrix *pts = lowrank_coreset_points(core);
    const double *w = lowrank_matrix_data(lowrank_coreset_weights(core));
    int rc = lowrank_matrix_convert(pts, F64, LOWRANK_COL_MAJOR, out);
    if (rc != LOWRANK_OK)
        return lrm_fail_serial(rc, "the coreset's points");
    int64_t size = lowrank_matrix_rows(*out), d = lowrank_matrix_cols(*out);
    double *x = lowrank_matrix_data(*out);
    for (int64_t i = 0; i < size; i++) {
        double scale = pow(w[i], 1 / p);
        for (int64_t j = 0; j < d; j++)
            x[i + j * size] *= scale;
    }
    return LOWRANK_OK;
}

/* Keep the MAX_CANDIDATES of least cost on the coreset (ties: lower rank). */
static int prune(fit *f)
{
    if (f->ncand <= MAX_CANDIDATES)
        return LOWRANK_OK;
    lowrank_matrix *pts = NULL;
    lrm_block b;
    double cost[2 * MAX_CANDIDATES];
    int rc = scaled_points(f->core, f->p, &pts);
    if (rc == LOWRANK_OK)
        rc = lrm_block_init(pts, &b);
    for (int i = 0; rc == LOWRANK_OK && i < f->ncand; i++)
        rc = cost_of(pts, &b, f->cand[i].v, f->n, f->k, f->p, &cost[i]);
    lowrank_matrix_free(pts);
    while (rc == LOWRANK_OK && f->ncand > MAX_CANDIDATES) {
        int worst = 0;
        for (int i = 1; i < f->ncand; i++)
            if (cost[i] > cost[worst] ||
                (cost[i] == cost[worst] && f->cand[i].rank > f->cand[worst].rank))
                worst = i;
        cost[worst] = cost[f->ncand - 1];
        drop(f, worst);
    }
    return rc;
}

/* This rank's own fit (when it holds k rows or more) and coreset. */
static int local_work(fit *f, int64_t first)
{
    lowrank_opts *o = NULL;
    int rc = LOWRANK_OK;
    if (lowrank_matrix_rows(f->local) >= f->k)
        rc = add_fit(f, f->local, f->c->rank, "lowrank_lp of the rank's rows");
    if (rc == LOWRANK_OK)
        rc = options(f, 0, first, &o);
    if (rc == LOWRANK_OK &&
        (rc = lowrank_coreset_build(f->local, f->p, f->size, o, &f->core)) != LOWRANK_OK)
        rc = lrm_fail_serial(rc, "lowrank_coreset_build of the rank's rows");
    lowrank_opts_free(o);
    return rc;
}

/* ------------------------------------------------------------ candidates on the wire */

static int put_candidates(const fit *f, lrm_buf *out)
{
    int rc = lrm_put_i64(out, f->ncand);
    for (int i = 0; rc == LOWRANK_OK && i < f->ncand; i++) {
        rc = lrm_put_i64(out, f->cand[i].rank);
        if (rc == LOWRANK_OK)
            rc = lrm_put(out, f->cand[i].v, (size_t)(f->n * f->k) * sizeof(double));
    }
    return rc;
}

/* Candidates appended from a message, up to max of them in all. */
static int get_candidates(fit *f, lrm_msg *in, int max)
{
    int64_t count;
    int rc = lrm_get_i64(in, &count);
    if (rc == LOWRANK_OK && (count < 0 || count > max - f->ncand))
        rc = lrm_fail(LOWRANK_EINTERNAL, "%lld candidates", (long long)count);
    for (int64_t i = 0; rc == LOWRANK_OK && i < count; i++) {
        candidate *c = &f->cand[f->ncand];
        rc = lrm_get_i64(in, &c->rank);
        if (rc == LOWRANK_OK && !(c->v = dalloc(f->n * f->k)))
            rc = LOWRANK_ENOMEM;
        if (rc == LOWRANK_OK)
            f->ncand++;
        if (rc == LOWRANK_OK)
            rc = lrm_get(in, c->v, (size_t)(f->n * f->k) * sizeof(double));
    }
    return rc;
}

/* ------------------------------------------------------------ up: merging */

/* A coreset on the wire: size, indices, weights, the points row by row in
 * their dtype; then the subtree's candidates. */
static int pack_subtree(void *state, lrm_buf *out)
{
    const fit *f = state;
    const lowrank_matrix *pts = lowrank_coreset_points(f->core);
    int64_t size = lowrank_coreset_size(f->core);
    lowrank_matrix *rows = NULL;
    int rc = lowrank_matrix_convert(pts, lowrank_matrix_dtype(pts), LOWRANK_ROW_MAJOR, &rows);
    if (rc != LOWRANK_OK)
        return lrm_fail_serial(rc, "the coreset's points");
    rc = lrm_put_i64(out, size);
    if (rc == LOWRANK_OK)
        rc = lrm_put(out, lowrank_coreset_indices(f->core), (size_t)size * sizeof(int64_t));
    if (rc == LOWRANK_OK)
        rc = lrm_put(out, lowrank_matrix_data(lowrank_coreset_weights(f->core)),
                     (size_t)size * sizeof(double));
    if (rc == LOWRANK_OK)
        rc = lrm_put(out, lowrank_matrix_data(rows),
                     (size_t)(size * f->n) * lrm_dtype_size(lowrank_matrix_dtype(pts)));
    lowrank_matrix_free(rows);
    return rc == LOWRANK_OK ? put_candidates(f, out) : rc;
}

/* The child's coreset, rebuilt from the wire (lowrank_coreset_new). */
static int unpack_coreset(const fit *f, lrm_msg *in, lowrank_coreset **core)
{
    lowrank_dtype t = lowrank_matrix_dtype(lowrank_coreset_points(f->core));
    int64_t size;
    const void *idx, *w, *pts;
    int rc = lrm_get_i64(in, &size);
    if (rc == LOWRANK_OK && (size < 1 || size > f->size))
        rc = lrm_fail(LOWRANK_EINTERNAL, "a coreset of %lld rows", (long long)size);
    if (rc == LOWRANK_OK)
        rc = lrm_view(in, (size_t)size * sizeof(int64_t), &idx);
    if (rc == LOWRANK_OK)
        rc = lrm_view(in, (size_t)size * sizeof(double), &w);
    if (rc == LOWRANK_OK)
        rc = lrm_view(in, (size_t)(size * f->n) * lrm_dtype_size(t), &pts);
    if (rc != LOWRANK_OK)
        return rc;
    /* the message is this rank's memory, read only through the handles */
    lowrank_matrix *hp = NULL, *hw = NULL;
    void *p_pts, *p_w;
    memcpy(&p_pts, &pts, sizeof pts);
    memcpy(&p_w, &w, sizeof w);
    rc = lowrank_matrix_wrap(t, LOWRANK_ROW_MAJOR, size, f->n, p_pts, f->n, &hp);
    if (rc == LOWRANK_OK)
        rc = lowrank_matrix_wrap(F64, LOWRANK_COL_MAJOR, size, 1, p_w, size, &hw);
    if (rc == LOWRANK_OK)
        rc = lowrank_coreset_new(hp, hw, idx, f->p, core);
    lowrank_matrix_free(hp);
    lowrank_matrix_free(hw);
    return rc == LOWRANK_OK ? rc : lrm_fail_serial(rc, "a received coreset");
}

static int merge_subtree(void *state, lrm_msg *in)
{
    fit *f = state;
    lowrank_coreset *theirs = NULL, *merged = NULL;
    lowrank_opts *o = NULL;
    int rc = unpack_coreset(f, in, &theirs);
    if (rc == LOWRANK_OK)
        rc = get_candidates(f, in, 2 * MAX_CANDIDATES);
    if (rc == LOWRANK_OK)
        rc = options(f, ++f->merges, 0, &o);
    if (rc == LOWRANK_OK && (rc = lowrank_coreset_merge(f->core, theirs, f->size, o, &merged)) != 0)
        rc = lrm_fail_serial(rc, "lowrank_coreset_merge");
    if (rc == LOWRANK_OK) {
        lowrank_coreset_free(f->core);
        f->core = merged;
        rc = prune(f);
    }
    lowrank_coreset_free(theirs);
    lowrank_opts_free(o);
    return rc;
}

/* The root: the fit of the coreset of the whole matrix, one more candidate. */
static int root_fit(void *state)
{
    fit *f = state;
    f->core_rows = lowrank_coreset_size(f->core);
    lowrank_matrix *b = NULL;
    int rc = LOWRANK_OK;
    if (f->core_rows >= f->k) {
        rc = scaled_points(f->core, f->p, &b);
        if (rc == LOWRANK_OK)
            rc = add_fit(f, b, -1, "lowrank_lp of the coreset");
        lowrank_matrix_free(b);
    }
    if (rc == LOWRANK_OK && f->ncand == 0)
        rc = lrm_fail(LOWRANK_ERANGE, "no fit: the coreset (LOWRANK_OPT_MPI_CORESET_SIZE = %lld) "
                                      "and every rank hold fewer than k = %lld rows",
                      (long long)f->size, (long long)f->k);
    return rc;
}

/* Down: the coreset's size and every candidate. */
static int pack_candidates(void *state, int child, lrm_buf *out)
{
    (void)child;
    const fit *f = state;
    int rc = lrm_put_i64(out, f->core_rows);
    return rc == LOWRANK_OK ? put_candidates(f, out) : rc;
}

static int unpack_candidates(void *state, lrm_msg *in)
{
    fit *f = state;
    while (f->ncand > 0)
        drop(f, f->ncand - 1);
    int rc = lrm_get_i64(in, &f->core_rows);
    return rc == LOWRANK_OK ? get_candidates(f, in, MAX_CANDIDATES + 1) : rc;
}

/* ------------------------------------------------------------ the choice on all the rows */

static int pack_costs(void *state, lrm_buf *out)
{
    const fit *f = state;
    return lrm_put(out, f->cost, (size_t)f->ncand * sizeof(double));
}

static int merge_costs(void *state, lrm_msg *in)
{
    fit *f = state;
    double cost[2 * MAX_CANDIDATES];
    int rc = lrm_get(in, cost, (size_t)f->ncand * sizeof(double));
    for (int i = 0; rc == LOWRANK_OK && i < f->ncand; i++)
        f->cost[i] += cost[i];
    return rc;
}

/* The least cost wins; ties to the candidate listed first. */
static int choose(void *state)
{
    fit *f = state;
    f->winner = 0;
    for (int i = 1; i < f->ncand; i++)
        if (f->cost[i] < f->cost[f->winner])
            f->winner = i;
    return LOWRANK_OK;
}

static int pack_winner(void *state, int child, lrm_buf *out)
{
    (void)child;
    const fit *f = state;
    int rc = lrm_put_i64(out, f->winner);
    return rc == LOWRANK_OK ? lrm_put(out, f->cost, (size_t)f->ncand * sizeof(double)) : rc;
}

static int unpack_winner(void *state, lrm_msg *in)
{
    fit *f = state;
    int rc = lrm_get_i64(in, &f->winner);
    if (rc == LOWRANK_OK && (f->winner < 0 || f->winner >= f->ncand))
        rc = lrm_fail(LOWRANK_EINTERNAL, "candidate %lld of %d", (long long)f->winner, f->ncand);
    return rc == LOWRANK_OK ? lrm_get(in, f->cost, (size_t)f->ncand * sizeof(double)) : rc;
}

/* The ranks' fits and coresets up the tree, every candidate down, their
 * costs on all the rows up, the winner down. */
static int fit_subspace(fit *f, int64_t first)
{
    if (lrm_ok(f->c))
        lrm_local(f->c, local_work(f, first));
    lrm_round gather = {f, pack_subtree, merge_subtree, root_fit, pack_candidates,
                        unpack_candidates};
    int rc = lrm_run(f->c, &gather);
    for (int i = 0; rc == LOWRANK_OK && lrm_ok(f->c) && i < f->ncand; i++)
        lrm_local(f->c, cost_of(f->local, f->block, f->cand[i].v, f->n, f->k, f->p, &f->cost[i]));
    lrm_round judge = {f, pack_costs, merge_costs, choose, pack_winner, unpack_winner};
    return rc == LOWRANK_OK ? lrm_run(f->c, &judge) : rc;
}

/* ------------------------------------------------------------ the function */

enum { ARG_N, ARG_DTYPE, ARG_K, ARG_P, ARG_SEED, ARG_SIZE, ARG_METHOD, ARG_OBJECTIVE,
       ARG_ORIENTATION, ARG_REFINE, NARGS };
static const char *const arg_names[NARGS] = {
    "the number of columns",        "the dtype",           "k", "p", "LOWRANK_OPT_SEED",
    "LOWRANK_OPT_MPI_CORESET_SIZE", "LOWRANK_OPT_METHOD", "LOWRANK_OPT_OBJECTIVE",
    "LOWRANK_OPT_ORIENTATION",      "LOWRANK_OPT_REFINE_ITER"};

static int local_checks(const lowrank_matrix *local, int64_t k, double p, const lowrank_opts *opts,
                        lowrank_factors **out, int64_t *args)
{
    memset(args, 0, NARGS * sizeof *args);
    if (!out || !local)
        return lrm_fail(LOWRANK_EINVAL, "%s is NULL", out ? "local" : "out");
    const lowrank_option keys[] = {LOWRANK_OPT_SEED, LOWRANK_OPT_MPI_CORESET_SIZE,
                                   LOWRANK_OPT_METHOD, LOWRANK_OPT_OBJECTIVE,
                                   LOWRANK_OPT_ORIENTATION, LOWRANK_OPT_REFINE_ITER};
    for (int i = 0; i < 6; i++) {
        int rc = lowrank_opts_get_int(opts, keys[i], &args[ARG_SEED + i]);
        if (rc != LOWRANK_OK)
            return lrm_fail_serial(rc, "options");
    }
    args[ARG_N] = lowrank_matrix_cols(local);
    args[ARG_DTYPE] = lowrank_matrix_dtype(local);
    args[ARG_K] = k;
    memcpy(&args[ARG_P], &p, sizeof p); /* compared bit for bit */
    if (!(p >= 1) || isinf(p))
        return lrm_fail(LOWRANK_ERANGE, "p = %g is outside [1, infinity)", p);
    if (args[ARG_OBJECTIVE] != LOWRANK_OBJECTIVE_ROWS ||
        args[ARG_ORIENTATION] != LOWRANK_ORIENT_ROWS)
        return lrm_fail(LOWRANK_EUNSUPPORTED, "lowrank_mpi_lp fits the rows "
                                              "(LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS)");
    return LOWRANK_OK;
}

int lowrank_mpi_lp(MPI_Comm comm, const lowrank_matrix *local, int64_t k, double p,
                   const lowrank_opts *opts, lowrank_factors **out, lowrank_mpi_stats *stats)
{
    int64_t args[NARGS];
    lrm_call x;
    int rc = lrm_begin(&x, comm, local, local_checks(local, k, p, opts, out, args), args,
                       arg_names, NARGS, out, stats);
    if (!x.opened)
        return rc;
    int64_t n = args[ARG_N], mn = x.s.rows < n ? x.s.rows : n;
    fit f = {.c = &x.c, .local = local, .block = &x.b, .n = n, .k = k, .p = p, .opts = opts,
             .seed = args[ARG_SEED],
             .size = args[ARG_SIZE] > 0 ? args[ARG_SIZE]
                     : CORESET_PER_COL * n > CORESET_MIN ? CORESET_PER_COL * n : CORESET_MIN};
    if (rc == LOWRANK_OK && lrm_ok(&x.c) && (k < 1 || k > mn))
        lrm_local(&x.c, lrm_fail(LOWRANK_ERANGE, "k = %lld is outside [1, min(rows, cols) = %lld]",
                                 (long long)k, (long long)mn));
    if (rc == LOWRANK_OK)
        rc = fit_subspace(&f, x.s.first);
    lrm_svd_result res = {0};
    double *cm = NULL;
    const double *v = rc == LOWRANK_OK && lrm_ok(&x.c) ? f.cand[f.winner].v : NULL;
    if (v && !(cm = dalloc(x.b.m * k)))
        lrm_local(&x.c, LOWRANK_ENOMEM);
    if (cm)
        lrm_local(&x.c, lrm_block_mul(&x.b, k, v, cm));
    if (rc == LOWRANK_OK) /* the factors of A V V^T in SVD form */
        rc = lrm_tsqr_svd(&x.c, cm, x.b.m, k, k, v, n, NULL, NULL, &res);
    free(cm);
    if (rc == LOWRANK_OK && lrm_ok(&x.c)) {
        double kept = 0;
        for (int64_t i = 0; i < k; i++)
            kept += res.s[i] * res.s[i];
        lrm_local(&x.c, lrm_factors(x.b.t, x.b.m, n, k, res.u, res.s, res.v,
                                    lrm_projection_error(x.s.sumsq, kept), out));
    }
    lrm_svd_result_free(&res);
    rc = lrm_end(&x, NULL, 0, out, stats);
    if (rc == LOWRANK_OK) {
        lrm_stat(stats, LOWRANK_MPI_STAT_COST, f.cost[f.winner]);
        lrm_stat(stats, LOWRANK_MPI_STAT_CORESET_SIZE, (double)f.core_rows);
        lrm_stat(stats, LOWRANK_MPI_STAT_FIT_RANK, (double)f.cand[f.winner].rank);
    }
    while (f.ncand > 0)
        drop(&f, f.ncand - 1);
    lowrank_coreset_free(f.core);
    return rc;
}
