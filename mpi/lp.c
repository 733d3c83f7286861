/*
 * lp.c - lowrank_mpi_lp: an lp subspace fit of the rows of a matrix spread
 * over the ranks, through coresets merged up the tree.  docs/mpi.md has the
 * algorithm, why each rank's own fit travels with its coreset, the defaults
 * and the measurements.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "mpi_internal.h"

static const lowrank_dtype F64 = LOWRANK_FLOAT64;

/* Rows per coreset when LOWRANK_OPT_MPI_CORESET_SIZE is 0: CORESET_PER_COL
 * times the columns, at least CORESET_MIN (docs/mpi.md has the
 * measurements behind them). */
enum { CORESET_PER_COL = 10, CORESET_MIN = 500 };

static double *dalloc(int64_t count) { return lrm_malloc((size_t)count, sizeof(double)); }

/* A candidate subspace: V (n x k, orthonormal columns) and the rank whose
 * rows it was fitted to (-1: the coreset). */
typedef struct candidate {
    double *v;
    int64_t rank;
} candidate;

typedef struct fit {
    lrm_comm *c;
    int64_t n, k, size; /* size: rows per coreset */
    double p;
    const lowrank_opts *opts;
    int64_t seed;
    int merges;
    lowrank_coreset *core; /* of this rank's subtree */
    candidate best;        /* of this rank's subtree (v NULL: none) */
    int64_t core_rows;     /* every rank: rows of the whole coreset */
} fit;

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

/* V (n x k, column-major double) of factors: V^T transposed, made
 * orthonormal in double (a float32 fit's is so only in float32). */
static int subspace_of(const lowrank_factors *g, int64_t n, int64_t k, double **v)
{
    const lowrank_matrix *vt = lowrank_factors_vt(g);
    if (!(*v = dalloc(n * k)))
        return LOWRANK_ENOMEM;
    for (int64_t j = 0; j < k; j++)
        for (int64_t i = 0; i < n; i++)
            lowrank_matrix_get(vt, j, i, &(*v)[i + j * n]);
    return lrm_qr(F64, n, k, *v, n, NULL, 0);
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

/* The lp cost of the points b (size x n, column-major double) against
 * span(v), through lowrank_lp_cost: the factors of the projection of b
 * onto the span, (b V) V^T. */
static int cost_on(const lowrank_matrix *b, const double *v, int64_t n, int64_t k, double p,
                   double *cost)
{
    int64_t size = lowrank_matrix_rows(b);
    double *bv = dalloc(size * k), *ones = dalloc(k), *vv = dalloc(n * k);
    lowrank_factors *g = NULL;
    int rc = bv && ones && vv ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = lrm_gemm(F64, 'N', 'N', size, k, n, 1.0, lowrank_matrix_data(b), size, v, n, 0.0, bv,
                      size);
    if (rc == LOWRANK_OK) {
        for (int64_t j = 0; j < k; j++)
            ones[j] = 1;
        memcpy(vv, v, (size_t)(n * k) * sizeof(double));
        rc = lrm_factors(F64, size, n, k, bv, ones, vv, NAN, &g);
    }
    if (rc == LOWRANK_OK && (rc = lowrank_lp_cost(b, g, p, LOWRANK_OBJECTIVE_ROWS, cost)) != 0)
        rc = lrm_fail_serial(rc, "the coreset's cost");
    lowrank_factors_free(g);
    free(bv);
    free(ones);
    free(vv);
    return rc;
}

/* Of two candidates, the one of lower cost on the coreset into *a (the other
 * freed); ties to the lower rank. */
static int keep_better(const fit *f, const lowrank_coreset *core, candidate *a, candidate *b)
{
    if (!b->v)
        return LOWRANK_OK;
    if (!a->v) {
        *a = *b;
        b->v = NULL;
        return LOWRANK_OK;
    }
    lowrank_matrix *pts = NULL;
    double ca = 0, cb = 0;
    int rc = scaled_points(core, f->p, &pts);
    if (rc == LOWRANK_OK)
        rc = cost_on(pts, a->v, f->n, f->k, f->p, &ca);
    if (rc == LOWRANK_OK)
        rc = cost_on(pts, b->v, f->n, f->k, f->p, &cb);
    lowrank_matrix_free(pts);
    if (rc == LOWRANK_OK && (cb < ca || (cb == ca && b->rank < a->rank))) {
        candidate t = *a;
        *a = *b;
        *b = t;
    }
    free(b->v);
    b->v = NULL;
    return rc;
}

/* This rank's own fit (when it holds k rows or more) and coreset. */
static int local_work(fit *f, const lowrank_matrix *local, int64_t first)
{
    lowrank_factors *g = NULL;
    lowrank_opts *o = NULL;
    int rc = LOWRANK_OK;
    if (lowrank_matrix_rows(local) >= f->k) {
        if ((rc = lowrank_lp(local, f->k, f->p, f->opts, &g)) != LOWRANK_OK)
            rc = lrm_fail_serial(rc, "lowrank_lp of the rank's rows");
        if (rc == LOWRANK_OK && (rc = subspace_of(g, f->n, f->k, &f->best.v)) == LOWRANK_OK)
            f->best.rank = f->c->rank;
        lowrank_factors_free(g);
    }
    if (rc == LOWRANK_OK)
        rc = options(f, 0, first, &o);
    if (rc == LOWRANK_OK && (rc = lowrank_coreset_build(local, f->p, f->size, o, &f->core)) != 0)
        rc = lrm_fail_serial(rc, "lowrank_coreset_build of the rank's rows");
    lowrank_opts_free(o);
    return rc;
}

/* ------------------------------------------------------------ up: merging */

/* A coreset and a candidate on the wire: size, indices, weights, the points
 * row by row in their dtype; then the candidate's rank (-2: none) and V. */
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
    if (rc == LOWRANK_OK)
        rc = lrm_put_i64(out, f->best.v ? f->best.rank : -2);
    if (rc == LOWRANK_OK && f->best.v)
        rc = lrm_put(out, f->best.v, (size_t)(f->n * f->k) * sizeof(double));
    return rc;
}

/* The child's coreset, rebuilt from the wire (lowrank_coreset_new), and its
 * candidate. */
static int unpack_subtree(const fit *f, lrm_msg *in, lowrank_coreset **core, candidate *cand)
{
    lowrank_dtype t = lowrank_matrix_dtype(lowrank_coreset_points(f->core));
    int64_t size, rank;
    const int64_t *idx;
    const double *w;
    const void *pts;
    int rc = lrm_get_i64(in, &size);
    if (rc == LOWRANK_OK && (size < 1 || size > f->size))
        rc = lrm_fail(LOWRANK_EINTERNAL, "a coreset of %lld rows", (long long)size);
    if (rc == LOWRANK_OK)
        rc = lrm_view(in, (size_t)size * sizeof(int64_t), (const void **)&idx);
    if (rc == LOWRANK_OK)
        rc = lrm_view(in, (size_t)size * sizeof(double), (const void **)&w);
    if (rc == LOWRANK_OK)
        rc = lrm_view(in, (size_t)(size * f->n) * lrm_dtype_size(t), &pts);
    if (rc == LOWRANK_OK)
        rc = lrm_get_i64(in, &rank);
    if (rc != LOWRANK_OK)
        return rc;
    /* the message is this rank's own memory, read only through the handles */
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
    if (rc != LOWRANK_OK)
        return lrm_fail_serial(rc, "a received coreset");
    cand->rank = rank;
    cand->v = NULL;
    if (rank == -2)
        return LOWRANK_OK;
    if (!(cand->v = dalloc(f->n * f->k)))
        return LOWRANK_ENOMEM;
    return lrm_get(in, cand->v, (size_t)(f->n * f->k) * sizeof(double));
}

static int merge_subtree(void *state, lrm_msg *in)
{
    fit *f = state;
    lowrank_coreset *theirs = NULL, *merged = NULL;
    candidate cand = {NULL, -2};
    lowrank_opts *o = NULL;
    int rc = unpack_subtree(f, in, &theirs, &cand);
    if (rc == LOWRANK_OK)
        rc = options(f, ++f->merges, 0, &o);
    if (rc == LOWRANK_OK && (rc = lowrank_coreset_merge(f->core, theirs, f->size, o, &merged)) != 0)
        rc = lrm_fail_serial(rc, "lowrank_coreset_merge");
    if (rc == LOWRANK_OK) {
        lowrank_coreset_free(f->core);
        f->core = merged;
        rc = keep_better(f, f->core, &f->best, &cand);
    }
    free(cand.v);
    lowrank_coreset_free(theirs);
    lowrank_opts_free(o);
    return rc;
}

/* ------------------------------------------------------------ the root */

/* The fit of the whole coreset against the best rank's, on the coreset. */
static int root_fit(void *state)
{
    fit *f = state;
    f->core_rows = lowrank_coreset_size(f->core);
    candidate own = {NULL, -1};
    lowrank_matrix *b = NULL;
    lowrank_factors *g = NULL;
    int rc = LOWRANK_OK;
    if (f->core_rows >= f->k) {
        rc = scaled_points(f->core, f->p, &b);
        if (rc == LOWRANK_OK && (rc = lowrank_lp(b, f->k, f->p, f->opts, &g)) != 0)
            rc = lrm_fail_serial(rc, "lowrank_lp of the coreset");
        if (rc == LOWRANK_OK)
            rc = subspace_of(g, f->n, f->k, &own.v);
    }
    if (rc == LOWRANK_OK)
        rc = keep_better(f, f->core, &f->best, &own);
    if (rc == LOWRANK_OK && !f->best.v)
        rc = lrm_fail(LOWRANK_ERANGE, "no fit: the coreset (LOWRANK_OPT_MPI_CORESET_SIZE = %lld) "
                                      "and every rank hold fewer than k = %lld rows",
                      (long long)f->size, (long long)f->k);
    free(own.v);
    lowrank_factors_free(g);
    lowrank_matrix_free(b);
    return rc;
}

static int pack_fit(void *state, int child, lrm_buf *out)
{
    (void)child;
    const fit *f = state;
    int rc = lrm_put_i64(out, f->best.rank);
    if (rc == LOWRANK_OK)
        rc = lrm_put_i64(out, f->core_rows);
    return rc == LOWRANK_OK ? lrm_put(out, f->best.v, (size_t)(f->n * f->k) * sizeof(double)) : rc;
}

static int unpack_fit(void *state, lrm_msg *in)
{
    fit *f = state;
    free(f->best.v);
    int rc = lrm_get_i64(in, &f->best.rank);
    if (rc == LOWRANK_OK)
        rc = lrm_get_i64(in, &f->core_rows);
    if (rc == LOWRANK_OK && !(f->best.v = dalloc(f->n * f->k)))
        rc = LOWRANK_ENOMEM;
    return rc == LOWRANK_OK ? lrm_get(in, f->best.v, (size_t)(f->n * f->k) * sizeof(double)) : rc;
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
    if (args[ARG_OBJECTIVE] != LOWRANK_OBJECTIVE_ROWS || args[ARG_ORIENTATION] != LOWRANK_ORIENT_ROWS)
        return lrm_fail(LOWRANK_EUNSUPPORTED, "lowrank_mpi_lp fits the rows "
                                              "(LOWRANK_OBJECTIVE_ROWS, LOWRANK_ORIENT_ROWS)");
    return LOWRANK_OK;
}

/* The rows' fit and coresets up the tree, the chosen subspace down. */
static int fit_subspace(fit *f, const lowrank_matrix *local, int64_t first)
{
    if (lrm_ok(f->c))
        lrm_local(f->c, local_work(f, local, first));
    lrm_round r = {f, pack_subtree, merge_subtree, root_fit, pack_fit, unpack_fit};
    return lrm_run(f->c, &r);
}

int lowrank_mpi_lp(MPI_Comm comm, const lowrank_matrix *local, int64_t k, double p,
                   const lowrank_opts *opts, lowrank_factors **out, lowrank_mpi_stats *stats)
{
    if (out)
        *out = NULL;
    lrm_stats_start(stats);
    lrm_comm c;
    int rc = lrm_open(comm, &c);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t args[NARGS];
    lrm_block b = {0};
    int have_block = lrm_local(&c, local_checks(local, k, p, opts, out, args)) == LOWRANK_OK &&
                     lrm_local(&c, lrm_block_init(local, &b)) == LOWRANK_OK;
    lrm_setup s;
    rc = lrm_setup_run(&c, have_block ? &b : NULL, args, arg_names, NARGS, &s);
    int64_t n = args[ARG_N], mn = s.rows < n ? s.rows : n;
    fit f = {.c = &c, .n = n, .k = k, .p = p, .opts = opts, .seed = args[ARG_SEED],
             .size = args[ARG_SIZE] > 0 ? args[ARG_SIZE]
                     : CORESET_PER_COL * n > CORESET_MIN ? CORESET_PER_COL * n : CORESET_MIN,
             .best = {NULL, -2}};
    if (rc == LOWRANK_OK && lrm_ok(&c) && (k < 1 || k > mn))
        lrm_local(&c, lrm_fail(LOWRANK_ERANGE, "k = %lld is outside [1, min(rows, cols) = %lld]",
                               (long long)k, (long long)mn));
    if (rc == LOWRANK_OK)
        rc = fit_subspace(&f, local, s.first);
    lrm_svd_result res = {0};
    double *cm = NULL, cost = 0;
    if (rc == LOWRANK_OK && lrm_ok(&c) && !(cm = dalloc(b.m * k)))
        lrm_local(&c, LOWRANK_ENOMEM);
    if (cm)
        lrm_local(&c, lrm_block_mul(&b, k, f.best.v, cm));
    if (rc == LOWRANK_OK) /* the factors of A V V^T in SVD form */
        rc = lrm_tsqr_svd(&c, cm, b.m, k, k, f.best.v, n, NULL, NULL, &res);
    free(cm);
    if (rc == LOWRANK_OK && lrm_ok(&c)) {
        double kept = 0;
        for (int64_t i = 0; i < k; i++)
            kept += res.s[i] * res.s[i];
        lrm_local(&c, lrm_factors(b.t, b.m, n, k, res.u, res.s, res.v,
                                  lrm_projection_error(s.sumsq, kept), out));
    }
    if (rc == LOWRANK_OK && lrm_ok(&c)) {
        int crc = lowrank_lp_cost(local, *out, p, LOWRANK_OBJECTIVE_ROWS, &cost);
        if (crc != LOWRANK_OK)
            lrm_local(&c, lrm_fail_serial(crc, "lowrank_lp_cost of the rank's rows"));
    }
    rc = lrm_finish(&c, &cost, 1, stats);
    if (rc != LOWRANK_OK && out) {
        lowrank_factors_free(*out);
        *out = NULL;
    }
    if (rc == LOWRANK_OK) {
        lrm_stat(stats, LOWRANK_MPI_STAT_ROWS, (double)s.rows);
        lrm_stat(stats, LOWRANK_MPI_STAT_COST, cost);
        lrm_stat(stats, LOWRANK_MPI_STAT_CORESET_SIZE, (double)f.core_rows);
        lrm_stat(stats, LOWRANK_MPI_STAT_FIT_RANK, (double)f.best.rank);
    }
    lrm_svd_result_free(&res);
    free(f.best.v);
    lowrank_coreset_free(f.core);
    if (have_block)
        lrm_block_free(&b);
    lrm_close(&c);
    return rc;
}
