/*
 * tsqr.c - the thin SVD of a tall matrix whose rows are spread over the
 * ranks, by a communication-avoiding tall-skinny QR (Demmel, Grigori,
 * Hoemmen, Langou 2012) over the binomial tree of mpi/comm.c.
 *
 * Up: each rank factors its m_r x L rows C_r = Q_r R_r (Householder; when
 * m_r < L the rows themselves are "R" and Q_r the identity); a parent stacks
 * its triangle on its child's and factors the stack, keeping the small Q of
 * every level.  Only triangles travel: L (L + 1) / 2 numbers at most per
 * edge (a block of fewer than L rows travels whole).  The root takes the SVD of the
 * last R = Ut S Wt^T.  Down: X = Ut's leading k columns; each level's Q
 * times X gives the rows of X that belong to the parent's own part (kept)
 * and to the child (sent), and each rank ends with U_r = Q_r X, its rows of
 * U = Q Ut.  Every factor is orthonormal, so U is, whatever the rank of C.
 */
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "mpi_internal.h"

static const lowrank_dtype F64 = LOWRANK_FLOAT64;

enum { MAX_LEVELS = 32 };

/* A merge: the stack [R_mine (ha x L); R_child (hb x L)] factored as Q R,
 * q ((ha + hb) x h) and the new h, or q NULL (identity) when the stack is
 * kept whole as the new R (fewer rows than L). */
typedef struct level {
    double *q;
    int64_t ha, hb;
} level;

typedef struct tsqr {
    int64_t m, L, k, nb;
    const double *basis;        /* nb x L at the root when nb > 0 (nb = 0: V is W) */
    lrm_rank_rule choose;
    void *ctx;
    double *q0;                 /* this rank's Q_r (m x L), or NULL (identity) */
    double *r;                  /* the current R, h x L, leading dimension h */
    int64_t h;
    int triangular;             /* r is upper triangular (from a QR), zeros below */
    level lv[MAX_LEVELS];
    int nlv;
    double *x;                  /* down: h x k */
    lrm_svd_result *out;
} tsqr;

static double *dalloc(int64_t count) { return lrm_malloc((size_t)count, sizeof(double)); }

/* This rank's rows factored: c overwritten by Q_r when m >= L. */
static int leaf(tsqr *t, double *c)
{
    int64_t h = t->m < t->L ? t->m : t->L;
    t->r = dalloc(h * t->L);
    if (!t->r)
        return LOWRANK_ENOMEM;
    t->h = h;
    if (t->m < t->L) { /* the rows are their own R */
        memcpy(t->r, c, (size_t)(t->m * t->L) * sizeof(double));
        return LOWRANK_OK;
    }
    t->q0 = c;
    t->triangular = 1;
    return lrm_qr(F64, t->m, t->L, c, t->m, t->r, t->L);
}

/* Rows of column j of an h-row R that travel: the triangle's, or all. */
static int64_t sent_rows(int64_t h, int triangular, int64_t j)
{
    return triangular && j + 1 < h ? j + 1 : h;
}

static int pack_r(void *state, lrm_buf *out)
{
    const tsqr *t = state;
    int rc = lrm_put_i64(out, t->h);
    if (rc == LOWRANK_OK)
        rc = lrm_put_i64(out, t->triangular);
    for (int64_t j = 0; rc == LOWRANK_OK && j < t->L; j++)
        rc = lrm_put(out, t->r + j * t->h,
                     (size_t)sent_rows(t->h, t->triangular, j) * sizeof(double));
    return rc;
}

static int merge_r(void *state, lrm_msg *in)
{
    tsqr *t = state;
    int64_t hb, tri, L = t->L;
    int rc = lrm_get_i64(in, &hb);
    if (rc == LOWRANK_OK)
        rc = lrm_get_i64(in, &tri);
    if (rc == LOWRANK_OK && (hb < 1 || hb > L))
        rc = lrm_fail(LOWRANK_EINTERNAL, "tsqr: a child's R has %lld rows", (long long)hb);
    if (rc == LOWRANK_OK && t->nlv == MAX_LEVELS)
        rc = lrm_fail(LOWRANK_EINTERNAL, "tsqr: more than %d levels", MAX_LEVELS);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t ha = t->h, hs = ha + hb, h = hs < L ? hs : L;
    double *s = dalloc(hs * L), *r = s ? dalloc(h * L) : NULL;
    if (!r) {
        free(s);
        return LOWRANK_ENOMEM;
    }
    /* the stack [R_mine; R_child], the child's triangle filled out with zeros */
    for (int64_t j = 0; rc == LOWRANK_OK && j < L; j++) {
        int64_t got = sent_rows(hb, (int)tri, j);
        memcpy(s + j * hs, t->r + j * ha, (size_t)ha * sizeof(double));
        rc = lrm_get(in, s + j * hs + ha, (size_t)got * sizeof(double));
        memset(s + j * hs + ha + got, 0, (size_t)(hb - got) * sizeof(double));
    }
    if (rc == LOWRANK_OK && hs > L)
        rc = lrm_qr(F64, hs, L, s, hs, r, L);
    if (rc != LOWRANK_OK) {
        free(r);
        free(s);
        return rc;
    }
    level *lv = &t->lv[t->nlv++];
    *lv = (level){hs > L ? s : NULL, ha, hb};
    if (hs <= L) { /* kept whole: the stack is the new R */
        memcpy(r, s, (size_t)(hs * L) * sizeof(double));
        free(s);
    }
    free(t->r);
    t->r = r;
    t->h = h;
    t->triangular = hs > L;
    return LOWRANK_OK;
}

/* The SVD of the root's R: every singular value, k (chosen when 0), V
 * (the basis times W, or W) and X = Ut's first k columns. */
static int root_svd(void *state)
{
    tsqr *t = state;
    lrm_svd_result *o = t->out;
    int64_t h = t->h, L = t->L, mn = h < L ? h : L;
    double *ut = dalloc(h * mn), *wt = dalloc(mn * L);
    o->all_s = dalloc(mn);
    int rc = ut && wt && o->all_s ? lrm_gesdd(F64, h, L, t->r, h, o->all_s, ut, h, wt, mn)
                                   : LOWRANK_ENOMEM;
    o->nall = mn;
    if (rc == LOWRANK_OK && t->k == 0)
        t->k = t->choose(o->all_s, mn, t->ctx);
    if (rc == LOWRANK_OK && (t->k < 1 || t->k > mn))
        rc = lrm_fail(LOWRANK_EINTERNAL, "tsqr: k = %lld of %lld values", (long long)t->k,
                      (long long)mn);
    int64_t k = t->k, nv = t->nb ? t->nb : L;
    double *w = rc == LOWRANK_OK ? dalloc(L * k) : NULL;
    if (rc == LOWRANK_OK && (!w || !(o->v = dalloc(nv * k)) || !(t->x = dalloc(h * k))))
        rc = LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        for (int64_t j = 0; j < k; j++)
            for (int64_t i = 0; i < L; i++)
                w[i + j * L] = wt[j + i * mn];
        memcpy(t->x, ut, (size_t)(h * k) * sizeof(double));
        if (t->nb)
            rc = lrm_gemm(F64, 'N', 'N', t->nb, k, L, 1.0, t->basis, t->nb, w, L, 0.0, o->v, t->nb);
        else
            memcpy(o->v, w, (size_t)(L * k) * sizeof(double));
    }
    free(ut);
    free(wt);
    free(w);
    o->k = k;
    return rc;
}

/* Down, to one child: the common part (k, every singular value, V) and the
 * child's rows of the last level's Q X; the parent keeps the top rows. */
static int pack_x(void *state, int child, lrm_buf *out)
{
    (void)child;
    tsqr *t = state;
    lrm_svd_result *o = t->out;
    level *lv = &t->lv[--t->nlv];
    int64_t k = o->k, hs = lv->ha + lv->hb, nv = t->nb ? t->nb : t->L;
    double *y = lv->q ? dalloc(hs * k) : t->x, *top = dalloc(lv->ha * k);
    int rc = y && top ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK && lv->q)
        rc = lrm_gemm(F64, 'N', 'N', hs, k, t->h, 1.0, lv->q, hs, t->x, t->h, 0.0, y, hs);
    if (rc == LOWRANK_OK)
        rc = lrm_put_i64(out, k);
    if (rc == LOWRANK_OK)
        rc = lrm_put_i64(out, o->nall);
    if (rc == LOWRANK_OK)
        rc = lrm_put(out, o->all_s, (size_t)o->nall * sizeof(double));
    if (rc == LOWRANK_OK)
        rc = lrm_put(out, o->v, (size_t)(nv * k) * sizeof(double));
    for (int64_t j = 0; rc == LOWRANK_OK && j < k; j++) {
        rc = lrm_put(out, y + j * hs + lv->ha, (size_t)lv->hb * sizeof(double));
        memcpy(top + j * lv->ha, y + j * hs, (size_t)lv->ha * sizeof(double));
    }
    if (y != t->x)
        free(y);
    free(lv->q);
    lv->q = NULL;
    if (rc != LOWRANK_OK) {
        free(top);
        return rc;
    }
    free(t->x);
    t->x = top;
    t->h = lv->ha;
    return LOWRANK_OK;
}

static int unpack_x(void *state, lrm_msg *in)
{
    tsqr *t = state;
    lrm_svd_result *o = t->out;
    int64_t k, nall, nv = t->nb ? t->nb : t->L;
    int rc = lrm_get_i64(in, &k);
    if (rc == LOWRANK_OK)
        rc = lrm_get_i64(in, &nall);
    if (rc == LOWRANK_OK && (k < 1 || k > t->L || nall < k || nall > t->L))
        rc = lrm_fail(LOWRANK_EINTERNAL, "tsqr: k = %lld of %lld values", (long long)k,
                      (long long)nall);
    if (rc == LOWRANK_OK && (!(o->all_s = dalloc(nall)) || !(o->v = dalloc(nv * k)) ||
                             !(t->x = dalloc(t->h * k))))
        rc = LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = lrm_get(in, o->all_s, (size_t)nall * sizeof(double));
    if (rc == LOWRANK_OK)
        rc = lrm_get(in, o->v, (size_t)(nv * k) * sizeof(double));
    /* this rank's X: the h rows it sent up as its R's */
    if (rc == LOWRANK_OK)
        rc = lrm_get(in, t->x, (size_t)(t->h * k) * sizeof(double));
    o->k = t->k = k;
    o->nall = nall;
    return rc;
}

/* U_r = Q_r X, this rank's rows of U. */
static int finish_leaf(tsqr *t)
{
    lrm_svd_result *o = t->out;
    int64_t k = o->k;
    o->u = dalloc(t->m * k);
    o->s = dalloc(k);
    if (!o->u || !o->s)
        return LOWRANK_ENOMEM;
    memcpy(o->s, o->all_s, (size_t)k * sizeof(double));
    if (!t->q0) { /* h = m: X holds this rank's rows */
        memcpy(o->u, t->x, (size_t)(t->m * k) * sizeof(double));
        return LOWRANK_OK;
    }
    return lrm_gemm(F64, 'N', 'N', t->m, k, t->L, 1.0, t->q0, t->m, t->x, t->L, 0.0, o->u, t->m);
}

int lrm_tsqr_svd(lrm_comm *comm, double *c, int64_t m, int64_t L, int64_t k, const double *basis,
                 int64_t nb, lrm_rank_rule choose, void *ctx, lrm_svd_result *out)
{
    memset(out, 0, sizeof *out);
    tsqr t = {.m = m, .L = L, .k = k, .nb = nb, .basis = basis, .choose = choose, .ctx = ctx,
              .out = out};
    if (lrm_ok(comm))
        lrm_local(comm, leaf(&t, c));
    lrm_round r = {&t, pack_r, merge_r, root_svd, pack_x, unpack_x};
    int rc = lrm_run(comm, &r);
    if (rc == LOWRANK_OK && lrm_ok(comm))
        lrm_local(comm, finish_leaf(&t));
    free(t.r);
    free(t.x);
    for (int i = 0; i < t.nlv; i++)
        free(t.lv[i].q);
    return rc;
}

void lrm_svd_result_free(lrm_svd_result *r)
{
    free(r->s);
    free(r->v);
    free(r->u);
    free(r->all_s);
    memset(r, 0, sizeof *r);
}
