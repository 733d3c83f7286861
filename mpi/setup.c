/*
 * setup.c - what every function of liblowrank_mpi does first and last: the
 * setup round, which checks that the ranks agree on the arguments, and
 * learns the global sizes, magnitudes and each rank's first row; and the
 * factors each rank returns.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

/* The setup round's state: s, and this rank's children in merge order. */
typedef struct setup_state {
    lrm_setup *s;
    int nchild;
} setup_state;

/* Up: the arguments' minimum and maximum, the rows, the largest magnitude
 * and the sum of squares of this rank's subtree. */
static int setup_pack(void *state, lrm_buf *out)
{
    const lrm_setup *s = ((setup_state *)state)->s;
    size_t bytes = (size_t)s->nargs * sizeof(int64_t);
    int rc = lrm_put(out, s->arg_min, bytes);
    if (rc == LOWRANK_OK)
        rc = lrm_put(out, s->arg_max, bytes);
    if (rc == LOWRANK_OK)
        rc = lrm_put_i64(out, s->subtree_rows);
    if (rc == LOWRANK_OK)
        rc = lrm_put(out, &s->maxabs, sizeof s->maxabs);
    return rc == LOWRANK_OK ? lrm_put(out, &s->sumsq, sizeof s->sumsq) : rc;
}

static int setup_merge(void *state, lrm_msg *in)
{
    setup_state *st = state;
    lrm_setup *s = st->s;
    int64_t lo[LRM_MAX_ARGS], hi[LRM_MAX_ARGS], rows;
    double maxabs, sumsq;
    size_t bytes = (size_t)s->nargs * sizeof(int64_t);
    int rc = lrm_get(in, lo, bytes);
    if (rc == LOWRANK_OK)
        rc = lrm_get(in, hi, bytes);
    if (rc == LOWRANK_OK)
        rc = lrm_get_i64(in, &rows);
    if (rc == LOWRANK_OK)
        rc = lrm_get(in, &maxabs, sizeof maxabs);
    if (rc == LOWRANK_OK)
        rc = lrm_get(in, &sumsq, sizeof sumsq);
    if (rc == LOWRANK_OK && st->nchild == 32)
        rc = lrm_fail(LOWRANK_EINTERNAL, "setup: more than 32 children");
    if (rc != LOWRANK_OK)
        return rc;
    for (int i = 0; i < s->nargs; i++) {
        s->arg_min[i] = lo[i] < s->arg_min[i] ? lo[i] : s->arg_min[i];
        s->arg_max[i] = hi[i] > s->arg_max[i] ? hi[i] : s->arg_max[i];
    }
    s->before_child[st->nchild++] = s->subtree_rows;
    if (rows > INT64_MAX - s->subtree_rows)
        return lrm_fail(LOWRANK_EOVERFLOW, "the blocks' rows overflow int64_t");
    s->subtree_rows += rows;
    s->maxabs = fmax(s->maxabs, maxabs);
    s->sumsq += sumsq;
    return LOWRANK_OK;
}

static int setup_root(void *state)
{
    lrm_setup *s = ((setup_state *)state)->s;
    for (int i = 0; i < s->nargs; i++)
        if (s->arg_min[i] != s->arg_max[i])
            return lrm_fail(LOWRANK_EINVAL, "%s differs between ranks (from %lld to %lld)",
                            s->arg_name[i], (long long)s->arg_min[i], (long long)s->arg_max[i]);
    s->rows = s->subtree_rows;
    s->first = 0;
    return LOWRANK_OK;
}

/* Down: the global rows, magnitude and sum of squares, and the child's
 * first row: this rank's plus the rows of its subtree merged before it. */
static int setup_pack_down(void *state, int child, lrm_buf *out)
{
    (void)child;
    setup_state *st = state;
    const lrm_setup *s = st->s;
    int rc = lrm_put_i64(out, s->rows);
    if (rc == LOWRANK_OK)
        rc = lrm_put(out, &s->maxabs, sizeof s->maxabs);
    if (rc == LOWRANK_OK)
        rc = lrm_put(out, &s->sumsq, sizeof s->sumsq);
    return rc == LOWRANK_OK ? lrm_put_i64(out, s->first + s->before_child[--st->nchild]) : rc;
}

static int setup_unpack(void *state, lrm_msg *in)
{
    lrm_setup *s = ((setup_state *)state)->s;
    int rc = lrm_get_i64(in, &s->rows);
    if (rc == LOWRANK_OK)
        rc = lrm_get(in, &s->maxabs, sizeof s->maxabs);
    if (rc == LOWRANK_OK)
        rc = lrm_get(in, &s->sumsq, sizeof s->sumsq);
    return rc == LOWRANK_OK ? lrm_get_i64(in, &s->first) : rc;
}

int lrm_setup_run(lrm_comm *c, const lrm_block *b, const int64_t *args, const char *const *names,
                  int nargs, lrm_setup *s)
{
    memset(s, 0, sizeof *s);
    s->nargs = nargs;
    for (int i = 0; i < nargs; i++) {
        s->arg_min[i] = s->arg_max[i] = args[i];
        s->arg_name[i] = names[i];
    }
    if (b) {
        s->subtree_rows = b->m;
        lrm_block_scan(b, &s->maxabs, &s->sumsq);
    }
    setup_state st = {s, 0};
    lrm_round r = {&st, setup_pack, setup_merge, setup_root, setup_pack_down, setup_unpack};
    return lrm_run(c, &r);
}

/* ------------------------------------------------------------ a call */

int lrm_begin(lrm_call *x, MPI_Comm comm, const lowrank_matrix *local, int checked,
              const int64_t *args, const char *const *names, int nargs, lowrank_factors **out,
              lowrank_mpi_stats *stats)
{
    memset(x, 0, sizeof *x);
    if (out)
        *out = NULL;
    lrm_stats_start(stats);
    int rc = lrm_open(comm, &x->c);
    if (rc != LOWRANK_OK)
        return rc;
    x->opened = 1;
    x->have_block = lrm_local(&x->c, checked) == LOWRANK_OK &&
                    lrm_local(&x->c, lrm_block_init(local, &x->b)) == LOWRANK_OK;
    rc = lrm_setup_run(&x->c, x->have_block ? &x->b : NULL, args, names, nargs, &x->s);
    x->b.first = x->s.first;
    return rc;
}

int lrm_end(lrm_call *x, double *sum, int count, lowrank_factors **out, lowrank_mpi_stats *stats)
{
    int rc = lrm_finish(&x->c, sum, count, stats);
    if (rc != LOWRANK_OK && out) {
        lowrank_factors_free(*out);
        *out = NULL;
    }
    if (rc == LOWRANK_OK)
        lrm_stat(stats, LOWRANK_MPI_STAT_ROWS, (double)x->s.rows);
    if (x->have_block)
        lrm_block_free(&x->b);
    lrm_close(&x->c);
    return rc;
}

/* ------------------------------------------------------------ results */

double lrm_projection_error(double sumsq, double captured)
{
    return sumsq > 0 ? sqrt(fmax(0.0, sumsq - captured) / sumsq) : 0.0;
}

/* A handle on the double array x (read only), in dtype t (a converted copy
 * when float32). */
static int handle(lowrank_dtype t, lowrank_layout layout, int64_t rows, int64_t cols, double *x,
                  int64_t ld, lowrank_matrix **out)
{
    lowrank_matrix *w;
    int rc = lowrank_matrix_wrap(LOWRANK_FLOAT64, layout, rows, cols, x, ld, &w);
    if (rc == LOWRANK_OK && t == LOWRANK_FLOAT32) {
        rc = lowrank_matrix_convert(w, t, layout, out);
        lowrank_matrix_free(w);
    } else {
        *out = w;
    }
    return rc == LOWRANK_OK ? rc : lrm_fail_serial(rc, "the factors");
}

int lrm_factors(lowrank_dtype t, int64_t m, int64_t n, int64_t k, double *u, double *s, double *v,
                double relative_error, lowrank_factors **out)
{
    lowrank_matrix *hu = NULL, *hs = NULL, *hvt = NULL;
    int rc = handle(t, LOWRANK_COL_MAJOR, m, k, u, m, &hu);
    if (rc == LOWRANK_OK)
        rc = handle(t, LOWRANK_COL_MAJOR, k, 1, s, k, &hs);
    if (rc == LOWRANK_OK) /* V (n x k, column-major) is V^T in row-major layout */
        rc = handle(t, LOWRANK_ROW_MAJOR, k, n, v, n, &hvt);
    if (rc == LOWRANK_OK && (rc = lowrank_factors_new(hu, hs, hvt, relative_error, out)) != 0)
        rc = lrm_fail_serial(rc, "the factors");
    lowrank_matrix_free(hu);
    lowrank_matrix_free(hs);
    lowrank_matrix_free(hvt);
    return rc;
}
