/*
 * svd.c - lowrank_mpi_svd: the rank-k SVD truncation of a matrix whose rows
 * are spread over the ranks.  docs/mpi.md has the algorithms, the cost
 * model and the measurements.
 *
 * The exact route: the Gram matrix A^T A, summed up the tree in double; its
 * leading eigenvectors at the root give V_k; the SVD of A V_k by TSQR gives
 * U, S (Ritz values of A itself) and V; the residual A^T U - V S, summed up
 * the tree, certifies the triplets as lowrank_svd's Gram route does.  When
 * it cannot, LAPACK's SVD of the R factor of A (TSQR) replaces them.
 *
 * The randomized route: lowrank_svd's block Krylov space from the same
 * random block, each product A^T (A V_j) summed up the tree and
 * orthonormalised at the root, then Rayleigh-Ritz by TSQR of A K.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "mpi_internal.h"
#include "random.h"

static const lowrank_dtype F64 = LOWRANK_FLOAT64;

/* Defaults of the randomized route: lowrank_svd's. */
enum { DEFAULT_OVERSAMPLING = 20, DEFAULT_POWER_ITER = 2 };

static double *dalloc(int64_t count) { return lrm_malloc((size_t)count, sizeof(double)); }

/* What the call computes with, after the setup round. */
typedef struct problem {
    lrm_comm *c;
    lrm_block *b;
    int64_t rows, n, k;
    double tol, sumsq; /* sumsq of the (scaled) matrix */
    int64_t seed, over, power;
} problem;

/* The smallest k whose approximation has relative error <= tol, given the
 * leading count values x (descending; squares of singular values, or the
 * singular values themselves when squared is 0; the whole spectrum when
 * count = min(rows, n)); at least 1. */
static int64_t rank_for_tolerance(const double *x, int64_t count, int squared, double tol,
                                  double sumsq)
{
    double budget = tol * tol * sumsq, kept = 0;
    for (int64_t k = 1; k <= count; k++) {
        kept += squared ? x[k - 1] : x[k - 1] * x[k - 1];
        if (sumsq - kept <= budget)
            return k;
    }
    return count;
}

/* ------------------------------------------------------------ the exact route */

/* The Gram round's state. */
typedef struct gram {
    const problem *p;
    double *g;      /* n x n, upper triangle summed; the root's eigenvectors */
    double *lambda; /* root: the leading eigenvalues, descending */
    int64_t count;  /* of them */
    int64_t k;
    double *vk;     /* n x k */
} gram;

static int gram_pack(void *state, lrm_buf *out)
{
    const gram *g = state;
    int64_t n = g->p->n;
    int rc = LOWRANK_OK;
    for (int64_t j = 0; rc == LOWRANK_OK && j < n; j++) /* the upper triangle, by columns */
        rc = lrm_put(out, g->g + j * n, (size_t)(j + 1) * sizeof(double));
    return rc;
}

static int gram_merge(void *state, lrm_msg *in)
{
    gram *g = state;
    int64_t n = g->p->n;
    for (int64_t j = 0; j < n; j++) {
        const double *col;
        int rc = lrm_view(in, (size_t)(j + 1) * sizeof(double), (const void **)&col);
        if (rc != LOWRANK_OK)
            return rc;
        for (int64_t i = 0; i <= j; i++)
            g->g[i + j * n] += col[i];
    }
    return LOWRANK_OK;
}

/* At the root: the k + 1 leading eigenpairs of G (every one when k = 0,
 * which chooses k), V_k the leading k vectors. */
static int gram_eigen(void *state)
{
    gram *g = state;
    const problem *p = g->p;
    int64_t n = p->n, k = p->k;
    for (int64_t j = 0; j < n; j++) /* LAPACK reads the lower triangle */
        for (int64_t i = j + 1; i < n; i++)
            g->g[i + j * n] = g->g[j + i * n];
    int64_t cnt = k == 0 || k + 1 > n ? n : k + 1;
    double *w = dalloc(n), *z = cnt < n ? dalloc(n * cnt) : NULL;
    g->lambda = dalloc(cnt);
    int rc = w && g->lambda && (cnt == n || z) ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = cnt == n ? lrm_syevd(F64, n, g->g, n, w)
                      : lrm_syevr(F64, n, g->g, n, n - cnt + 1, n, w, z, n);
    const double *vecs = cnt == n ? g->g : z; /* ascending: the leading ones last */
    if (rc == LOWRANK_OK) {
        for (int64_t i = 0; i < cnt; i++)
            g->lambda[i] = fmax(0.0, w[cnt - 1 - i]);
        g->count = cnt;
        g->k = k > 0 ? k : rank_for_tolerance(g->lambda, cnt, 1, p->tol, p->sumsq);
        if (!(g->vk = dalloc(n * g->k)))
            rc = LOWRANK_ENOMEM;
    }
    for (int64_t j = 0; rc == LOWRANK_OK && j < g->k; j++)
        memcpy(g->vk + j * n, vecs + (cnt - 1 - j) * n, (size_t)n * sizeof(double));
    free(w);
    free(z);
    return rc;
}

static int gram_pack_down(void *state, int child, lrm_buf *out)
{
    (void)child;
    const gram *g = state;
    int rc = lrm_put_i64(out, g->k);
    return rc == LOWRANK_OK ? lrm_put(out, g->vk, (size_t)(g->p->n * g->k) * sizeof(double)) : rc;
}

static int gram_unpack(void *state, lrm_msg *in)
{
    gram *g = state;
    int64_t n = g->p->n;
    int rc = lrm_get_i64(in, &g->k);
    if (rc == LOWRANK_OK && (g->k < 1 || g->k > n))
        rc = lrm_fail(LOWRANK_EINTERNAL, "gram: k = %lld", (long long)g->k);
    if (rc == LOWRANK_OK && !(g->vk = dalloc(n * g->k)))
        rc = LOWRANK_ENOMEM;
    return rc == LOWRANK_OK ? lrm_get(in, g->vk, (size_t)(n * g->k) * sizeof(double)) : rc;
}

/* The certificate round's state: the residual's sum at the root, and the
 * verdict and error every rank receives. */
typedef struct certificate {
    const problem *p;
    const gram *g;
    const lrm_svd_result *res;
    double *z;              /* n x k: A^T U, summed */
    int64_t certified;
    double error;
} certificate;

static int cert_pack(void *state, lrm_buf *out)
{
    const certificate *ct = state;
    return lrm_put(out, ct->z, (size_t)(ct->p->n * ct->res->k) * sizeof(double));
}

static int cert_merge(void *state, lrm_msg *in)
{
    certificate *ct = state;
    const double *z;
    int64_t count = ct->p->n * ct->res->k;
    int rc = lrm_view(in, (size_t)count * sizeof(double), (const void **)&z);
    for (int64_t i = 0; rc == LOWRANK_OK && i < count; i++)
        ct->z[i] += z[i];
    return rc;
}

/* lowrank_svd's certificate of the Gram route (lib/svd.c, certify()): the
 * triplets' residual R = A^T U - V S, of norm rho = ||R||_F / sqrt 2 for
 * the symmetric [0 A; A^T 0], within max(m, n) max(u s_1, 2^-53 s_1^2 / s_k)
 * (the vectors to the precision of the double Gram matrix), and every value
 * within max(m, n) u s_1 of the true one, by either bound:
 *  - s_i <= true s_i <= sqrt(lambda_i + e) (interlacing; Weyl with the
 *    backward error e of forming and diagonalising G), no gap needed;
 *  - once s_k - rho > next = sqrt(lambda_(k+1) + e) >= true s_(k+1), each
 *    value within min(rho, ||R||_F^2 / (2 (s_k - next))). */
static int cert_verdict(void *state)
{
    certificate *ct = state;
    const problem *p = ct->p;
    const double *s = ct->res->s, *v = ct->res->v, *lambda = ct->g->lambda;
    int64_t n = p->n, k = ct->res->k, mx = p->rows > n ? p->rows : n;
    double norm2 = 0;
    for (int64_t j = 0; j < k; j++)
        for (int64_t i = 0; i < n; i++) {
            double d = ct->z[i + j * n] - s[j] * v[i + j * n];
            norm2 += d * d;
        }
    double u = p->b->t == LOWRANK_FLOAT32 ? 0x1p-24 : 0x1p-53;
    double e = 1.01 * (double)(p->rows + n) * 0x1p-53 * p->sumsq;
    double values = (double)mx * u * s[0];
    double vectors = fmax(values, s[k - 1] > 0 ? (double)mx * 0x1p-53 * s[0] * (s[0] / s[k - 1])
                                              : INFINITY);
    double gram_worst = 0, rho = sqrt(norm2 / 2), last = s[k - 1];
    for (int64_t i = 0; i < k; i++)
        gram_worst = fmax(gram_worst, sqrt(lambda[i] + e) - s[i]);
    double next = k < ct->g->count ? sqrt(lambda[k] + e) : 0.0;
    int by_residual = last - rho > next && fmin(rho, norm2 / (2 * (last - next))) <= values;
    ct->certified = rho <= vectors && (gram_worst <= values || by_residual);
    double kept = 0, discarded = 0;
    for (int64_t i = 0; i < k; i++)
        kept += s[i] * s[i];
    for (int64_t i = k; i < ct->g->count; i++)
        discarded += lambda[i];
    /* the whole spectrum known: the discarded values; else the identity */
    ct->error = ct->g->count == n && p->sumsq > 0 ? sqrt(fmin(1.0, discarded / p->sumsq))
                                                  : lrm_projection_error(p->sumsq, kept);
    return LOWRANK_OK;
}

static int cert_pack_down(void *state, int child, lrm_buf *out)
{
    (void)child;
    const certificate *ct = state;
    int rc = lrm_put_i64(out, ct->certified);
    return rc == LOWRANK_OK ? lrm_put(out, &ct->error, sizeof ct->error) : rc;
}

static int cert_unpack(void *state, lrm_msg *in)
{
    certificate *ct = state;
    int rc = lrm_get_i64(in, &ct->certified);
    return rc == LOWRANK_OK ? lrm_get(in, &ct->error, sizeof ct->error) : rc;
}

/* The k with relative error within tol from every singular value. */
static int64_t tolerance_rule(const double *s, int64_t count, void *ctx)
{
    const problem *p = ctx;
    return rank_for_tolerance(s, count, 0, p->tol, p->sumsq);
}

/* The fallback: LAPACK's SVD of the R factor of A itself. */
static int tsqr_route(problem *p, lrm_svd_result *res, double *error)
{
    lrm_comm *c = p->c;
    double *d = NULL;
    if (lrm_ok(c) && !(d = dalloc(p->b->m * p->n)))
        lrm_local(c, LOWRANK_ENOMEM);
    if (d)
        lrm_block_copy(p->b, d);
    int rc = lrm_tsqr_svd(c, d, p->b->m, p->n, p->k, NULL, 0, tolerance_rule, p, res);
    free(d);
    if (rc == LOWRANK_OK && lrm_ok(c)) {
        double discarded = 0;
        for (int64_t i = res->k; i < res->nall; i++)
            discarded += res->all_s[i] * res->all_s[i];
        *error = p->sumsq > 0 ? sqrt(fmin(1.0, discarded / p->sumsq)) : 0;
    }
    return rc;
}

static int exact_route(problem *p, int force_tsqr, lrm_svd_result *res, double *error,
                       int *route)
{
    lrm_comm *c = p->c;
    int64_t n = p->n, m = p->b->m;
    gram g = {.p = p};
    if (lrm_ok(c) && !(g.g = dalloc(n * n)))
        lrm_local(c, LOWRANK_ENOMEM);
    if (lrm_ok(c))
        lrm_local(c, lrm_block_gram(p->b, g.g));
    lrm_round gr = {&g, gram_pack, gram_merge, gram_eigen, gram_pack_down, gram_unpack};
    int rc = lrm_run(c, &gr);
    free(g.g);
    g.g = NULL;
    double *cm = NULL;
    if (rc == LOWRANK_OK && lrm_ok(c) && !(cm = dalloc(m * g.k)))
        lrm_local(c, LOWRANK_ENOMEM);
    if (cm)
        lrm_local(c, lrm_block_mul(p->b, g.k, g.vk, cm));
    if (rc == LOWRANK_OK)
        rc = lrm_tsqr_svd(c, cm, m, g.k, g.k, g.vk, n, NULL, NULL, res);
    free(cm);
    certificate ct = {p, &g, res, NULL, 0, 0};
    if (rc == LOWRANK_OK && lrm_ok(c) && !(ct.z = dalloc(n * res->k)))
        lrm_local(c, LOWRANK_ENOMEM);
    if (ct.z)
        lrm_local(c, lrm_block_tmul(p->b, res->k, res->u, ct.z));
    lrm_round cr = {&ct, cert_pack, cert_merge, cert_verdict, cert_pack_down, cert_unpack};
    if (rc == LOWRANK_OK)
        rc = lrm_run(c, &cr);
    if (rc == LOWRANK_OK) /* the verdict decides whether the fallback's round follows */
        rc = lrm_agree(c);
    free(ct.z);
    free(g.lambda);
    free(g.vk);
    if (rc != LOWRANK_OK)
        return rc;
    if (ct.certified && !force_tsqr) {
        *error = ct.error;
        *route = LOWRANK_MPI_ROUTE_GRAM;
        return LOWRANK_OK;
    }
    lrm_svd_result_free(res);
    *route = LOWRANK_MPI_ROUTE_TSQR;
    return tsqr_route(p, res, error);
}

/* ------------------------------------------------------------ the randomized route */

/* The Krylov rounds' state: the basis at the root, the block every rank
 * multiplies by next. */
typedef struct krylov {
    const problem *p;
    int64_t b, cols;  /* block size; columns of the basis so far (root) */
    double *basis;    /* root: n x L */
    double *block;    /* n x b: the block just made (every rank) */
    double *w;        /* n x b: the product A^T A V_j, summed */
} krylov;

/* Root: the block w orthonormalised against the basis and within itself:
 * Householder QR of [basis w], whose trailing columns are orthogonal to the
 * basis to working precision whatever w is (inside the basis's span too). */
static int krylov_append(krylov *kr)
{
    int64_t n = kr->p->n, b = kr->b, cols = kr->cols;
    double *s = dalloc(n * (cols + b));
    if (!s)
        return LOWRANK_ENOMEM;
    memcpy(s, kr->basis, (size_t)(n * cols) * sizeof(double));
    memcpy(s + n * cols, kr->w, (size_t)(n * b) * sizeof(double));
    int rc = lrm_qr(F64, n, cols + b, s, n, NULL, 0);
    if (rc == LOWRANK_OK) {
        memcpy(kr->basis + n * cols, s + n * cols, (size_t)(n * b) * sizeof(double));
        memcpy(kr->block, s + n * cols, (size_t)(n * b) * sizeof(double));
        kr->cols += b;
    }
    free(s);
    return rc;
}

/* Root, first round: the random block, as lowrank_svd draws it. */
static int krylov_start(void *state)
{
    krylov *kr = state;
    lr_rng rng;
    lr_rng_seed(&rng, (uint64_t)kr->p->seed);
    lr_rng_fill_normal(&rng, F64, kr->w, kr->p->n * kr->b);
    return krylov_append(kr);
}

static int krylov_pack(void *state, lrm_buf *out)
{
    const krylov *kr = state;
    return lrm_put(out, kr->w, (size_t)(kr->p->n * kr->b) * sizeof(double));
}

static int krylov_merge(void *state, lrm_msg *in)
{
    krylov *kr = state;
    const double *w;
    int64_t count = kr->p->n * kr->b;
    int rc = lrm_view(in, (size_t)count * sizeof(double), (const void **)&w);
    for (int64_t i = 0; rc == LOWRANK_OK && i < count; i++)
        kr->w[i] += w[i];
    return rc;
}

static int krylov_extend(void *state) { return krylov_append(state); }

static int krylov_pack_down(void *state, int child, lrm_buf *out)
{
    (void)child;
    const krylov *kr = state;
    return lrm_put(out, kr->block, (size_t)(kr->p->n * kr->b) * sizeof(double));
}

static int krylov_unpack(void *state, lrm_msg *in)
{
    krylov *kr = state;
    return lrm_get(in, kr->block, (size_t)(kr->p->n * kr->b) * sizeof(double));
}

static int krylov_route(const problem *p, lrm_svd_result *res, double *error)
{
    lrm_comm *c = p->c;
    int64_t n = p->n, m = p->b->m, b = p->k + p->over, L = (p->power + 1) * b;
    krylov kr = {.p = p, .b = b};
    double *y = NULL; /* m x L: A times the basis, block by block */
    if (lrm_ok(c) && (!(kr.block = dalloc(n * b)) || !(kr.w = dalloc(n * b)) ||
                      !(y = dalloc(m * L)) || (c->rank == 0 && !(kr.basis = dalloc(n * L)))))
        lrm_local(c, LOWRANK_ENOMEM);
    lrm_round start = {&kr, NULL, NULL, krylov_start, krylov_pack_down, krylov_unpack};
    lrm_round extend = {&kr, krylov_pack, krylov_merge, krylov_extend, krylov_pack_down,
                        krylov_unpack};
    int rc = lrm_run(c, &start);
    for (int64_t j = 0; rc == LOWRANK_OK && j <= p->power; j++) {
        if (lrm_ok(c))
            lrm_local(c, lrm_block_mul(p->b, b, kr.block, y + j * b * m));
        if (j == p->power)
            break;
        if (lrm_ok(c))
            lrm_local(c, lrm_block_tmul(p->b, b, y + j * b * m, kr.w));
        rc = lrm_run(c, &extend);
    }
    if (rc == LOWRANK_OK)
        rc = lrm_tsqr_svd(c, y, m, L, p->k, kr.basis, n, NULL, NULL, res);
    if (rc == LOWRANK_OK && lrm_ok(c)) {
        double kept = 0;
        for (int64_t i = 0; i < res->k; i++)
            kept += res->s[i] * res->s[i];
        *error = lrm_projection_error(p->sumsq, kept);
    }
    free(kr.block);
    free(kr.w);
    free(kr.basis);
    free(y);
    return rc;
}

/* ------------------------------------------------------------ the function */

enum { ARG_N, ARG_DTYPE, ARG_K, ARG_METHOD, ARG_SEED, ARG_OVER, ARG_POWER, ARG_TOL, NARGS };
static const char *const arg_names[NARGS] = {
    "the number of columns", "the dtype", "k", "LOWRANK_OPT_METHOD", "LOWRANK_OPT_SEED",
    "LOWRANK_OPT_OVERSAMPLING", "LOWRANK_OPT_POWER_ITER", "LOWRANK_OPT_TOLERANCE"};

/* The arguments every rank must agree on, and this rank's own checks. */
static int local_checks(const lowrank_matrix *local, int64_t k, const lowrank_opts *opts,
                        lowrank_factors **out, int64_t *args)
{
    double tol = 0;
    memset(args, 0, NARGS * sizeof *args);
    if (!out || !local)
        return lrm_fail(LOWRANK_EINVAL, "%s is NULL", out ? "local" : "out");
    int rc = lowrank_opts_get_int(opts, LOWRANK_OPT_METHOD, &args[ARG_METHOD]);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_get_int(opts, LOWRANK_OPT_SEED, &args[ARG_SEED]);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_get_int(opts, LOWRANK_OPT_OVERSAMPLING, &args[ARG_OVER]);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_get_int(opts, LOWRANK_OPT_POWER_ITER, &args[ARG_POWER]);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_get_double(opts, LOWRANK_OPT_TOLERANCE, &tol);
    if (rc != LOWRANK_OK)
        return lrm_fail_serial(rc, "options");
    memcpy(&args[ARG_TOL], &tol, sizeof tol); /* compared bit for bit */
    args[ARG_N] = lowrank_matrix_cols(local);
    args[ARG_DTYPE] = lowrank_matrix_dtype(local);
    args[ARG_K] = k;
    int64_t method = args[ARG_METHOD];
    if (method != LOWRANK_METHOD_AUTO && method != LOWRANK_METHOD_EXACT &&
        method != LOWRANK_METHOD_RANDOMIZED)
        return lrm_fail(LOWRANK_EINVAL,
                        "LOWRANK_OPT_METHOD = %lld: lowrank_mpi_svd takes LOWRANK_METHOD_AUTO, "
                        "_EXACT or _RANDOMIZED (0, 1, 2)",
                        (long long)method);
    return LOWRANK_OK;
}

/* The checks every rank makes alike on the agreed sizes, and the route
 * (LOWRANK_MPI_ROUTE_GRAM for the exact route) into *route. */
static int choose_route(problem *p, int64_t method, double tol, int *route)
{
    int64_t mn = p->rows < p->n ? p->rows : p->n;
    if (p->k < 0 || p->k > mn)
        return lrm_fail(LOWRANK_ERANGE, "k = %lld is outside [0, min(rows, cols) = %lld]",
                        (long long)p->k, (long long)mn);
    if (p->k == 0 && tol == 0)
        return lrm_fail(LOWRANK_ERANGE, "k = 0 asks for the rank by LOWRANK_OPT_TOLERANCE, "
                                        "which is 0");
    p->over = p->over < 0 ? DEFAULT_OVERSAMPLING : p->over;
    p->power = p->power < 0 ? DEFAULT_POWER_ITER : p->power;
    int64_t space = (p->power + 1) * (p->k + p->over);
    int randomized = p->k > 0 && (method == LOWRANK_METHOD_RANDOMIZED ? space <= mn
                                  : method == LOWRANK_METHOD_AUTO     ? 2 * space <= mn
                                                                      : 0);
    *route = randomized ? LOWRANK_MPI_ROUTE_KRYLOV : LOWRANK_MPI_ROUTE_GRAM;
    return LOWRANK_OK;
}

int lrm_svd(MPI_Comm comm, const lowrank_matrix *local, int64_t k, const lowrank_opts *opts,
            lowrank_factors **out, lowrank_mpi_stats *stats, int force_tsqr)
{
    int64_t args[NARGS];
    lrm_call x;
    int rc = lrm_begin(&x, comm, local, local_checks(local, k, opts, out, args), args, arg_names,
                       NARGS, out, stats);
    if (!x.opened)
        return rc;
    if (rc == LOWRANK_OK) /* the sizes received decide the route */
        rc = lrm_agree(&x.c);
    double tol;
    memcpy(&tol, &args[ARG_TOL], sizeof tol);
    problem p = {&x.c, &x.b, x.s.rows, args[ARG_N], k, tol, 0, args[ARG_SEED], args[ARG_OVER],
                 args[ARG_POWER]};
    lrm_svd_result res = {0};
    double error = 0;
    int route = 0, e = 0;
    if (rc == LOWRANK_OK && lrm_ok(&x.c)) {
        lrm_local(&x.c, choose_route(&p, args[ARG_METHOD], tol, &route));
        e = lrm_scale_exponent(x.b.t, x.s.maxabs);
        p.sumsq = ldexp(x.s.sumsq, 2 * e);
        lrm_local(&x.c, lrm_block_scale(&x.b, e));
    }
    if (rc == LOWRANK_OK)
        rc = route == LOWRANK_MPI_ROUTE_KRYLOV ? krylov_route(&p, &res, &error)
                                               : exact_route(&p, force_tsqr, &res, &error, &route);
    if (rc == LOWRANK_OK && lrm_ok(&x.c)) {
        for (int64_t i = 0; i < res.k; i++)
            res.s[i] = ldexp(res.s[i], -e);
        lrm_local(&x.c, lrm_factors(x.b.t, x.b.m, p.n, res.k, res.u, res.s, res.v, error, out));
    }
    lrm_svd_result_free(&res);
    rc = lrm_end(&x, NULL, 0, out, stats);
    if (rc == LOWRANK_OK)
        lrm_stat(stats, LOWRANK_MPI_STAT_ROUTE, route);
    return rc;
}

int lowrank_mpi_svd(MPI_Comm comm, const lowrank_matrix *local, int64_t k, const lowrank_opts *opts,
                    lowrank_factors **out, lowrank_mpi_stats *stats)
{
    return lrm_svd(comm, local, k, opts, out, stats, 0);
}
