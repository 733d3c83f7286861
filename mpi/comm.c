/*
 * comm.c - liblowrank_mpi's messages: the error message, counted
 * point-to-point sends, rounds over the binomial tree with failures carried
 * ahead of every payload, the final agreement and the statistics handle.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

/* ------------------------------------------------------------ errors */

static _Thread_local char last_error[512];

const char *lowrank_mpi_last_error(void) { return last_error; }

int lrm_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

int lrm_fail_serial(int code, const char *what)
{
    return lrm_fail(code, "%s: %s", what, lowrank_last_error());
}

void *lrm_malloc(size_t count, size_t size)
{
    size_t bytes = count * size;
    void *p = size != 0 && count > SIZE_MAX / size ? NULL : malloc(bytes ? bytes : 1);
    if (!p)
        lrm_fail(LOWRANK_ENOMEM, "cannot allocate %zu x %zu bytes", count, size);
    return p;
}

size_t lrm_dtype_size(lowrank_dtype dtype)
{
    return dtype == LOWRANK_FLOAT32 ? sizeof(float) : dtype == LOWRANK_FLOAT64 ? sizeof(double) : 0;
}

/* ------------------------------------------------------------ buffers */

void lrm_buf_init(lrm_buf *b)
{
    b->data = b->small;
    b->len = 0;
    b->cap = sizeof b->small;
}

void lrm_buf_free(lrm_buf *b)
{
    if (b->data != b->small)
        free(b->data);
    lrm_buf_init(b);
}

int lrm_put(lrm_buf *b, const void *p, size_t bytes)
{
    if (bytes > b->cap - b->len) {
        size_t cap = b->cap;
        while (cap - b->len < bytes)
            cap = cap > SIZE_MAX / 2 ? SIZE_MAX : 2 * cap;
        char *q = b->data == b->small ? malloc(cap) : realloc(b->data, cap);
        if (!q)
            return lrm_fail(LOWRANK_ENOMEM, "cannot allocate a message of %zu bytes", cap);
        if (b->data == b->small)
            memcpy(q, b->small, b->len);
        b->data = q;
        b->cap = cap;
    }
    if (bytes)
        memcpy(b->data + b->len, p, bytes);
    b->len += bytes;
    return LOWRANK_OK;
}

int lrm_put_i64(lrm_buf *b, int64_t v) { return lrm_put(b, &v, sizeof v); }

int lrm_view(lrm_msg *m, size_t bytes, const void **p)
{
    *p = NULL;
    if (bytes > m->len - m->pos)
        return lrm_fail(LOWRANK_EINTERNAL, "a message of %zu bytes is short of %zu at %zu", m->len,
                        bytes, m->pos);
    *p = m->data + m->pos;
    m->pos += bytes;
    return LOWRANK_OK;
}

int lrm_get(lrm_msg *m, void *p, size_t bytes)
{
    const void *q = NULL;
    int rc = lrm_view(m, bytes, &q);
    if (rc == LOWRANK_OK && bytes)
        memcpy(p, q, bytes);
    return rc;
}

int lrm_get_i64(lrm_msg *m, int64_t *v) { return lrm_get(m, v, sizeof *v); }

/* ------------------------------------------------------------ the communicator */

enum { TAG = 1617 };
/* A body goes in pieces of at most PIECE bytes: MPI counts are int, and a
 * rank that cannot allocate a body it is sent must still receive it (into
 * the sink, piece by piece) to keep in step with the sender.  At 1 MiB a
 * piece is large enough for full bandwidth on clusters' networks. */
#define PIECE ((size_t)1 << 20)

int lrm_open(MPI_Comm user, lrm_comm *c)
{
    memset(c, 0, sizeof *c);
    c->comm = MPI_COMM_NULL;
    int up = 0, down = 0, inter = 0;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (!up || down)
        return lrm_fail(LOWRANK_EINVAL, "MPI is %s", up ? "finalised" : "not initialised");
    if (user == MPI_COMM_NULL)
        return lrm_fail(LOWRANK_EINVAL, "comm is MPI_COMM_NULL");
    if (MPI_Comm_test_inter(user, &inter) != MPI_SUCCESS)
        return lrm_fail(LOWRANK_ECOMM, "MPI_Comm_test_inter failed");
    if (inter)
        return lrm_fail(LOWRANK_EINVAL, "comm is an intercommunicator");
    if (MPI_Comm_dup(user, &c->comm) != MPI_SUCCESS) {
        c->comm = MPI_COMM_NULL;
        return lrm_fail(LOWRANK_ECOMM, "MPI_Comm_dup failed");
    }
    MPI_Comm_rank(c->comm, &c->rank);
    MPI_Comm_size(c->comm, &c->size);
    /* without it the rank can still compute, but not survive failing to
     * allocate a message: its failure is agreed by the first round */
    if (!(c->sink = lrm_malloc(PIECE, 1)))
        lrm_local(c, LOWRANK_ENOMEM);
    return LOWRANK_OK;
}

void lrm_close(lrm_comm *c)
{
    free(c->sink);
    if (c->comm != MPI_COMM_NULL)
        MPI_Comm_free(&c->comm);
}

int lrm_local(lrm_comm *c, int rc)
{
    if (rc != LOWRANK_OK && !c->pending) {
        c->pending = rc;
        c->failed_rank = c->rank;
        snprintf(c->message, sizeof c->message, "%s", last_error);
    }
    return rc;
}

int lrm_ok(const lrm_comm *c) { return c->pending == 0; }

/* ------------------------------------------------------------ messages */


static int send_bytes(lrm_comm *c, int dest, const void *p, size_t n)
{
    for (const char *q = p; n > 0;) {
        int len = (int)(n < PIECE ? n : PIECE);
        if (MPI_Send(q, len, MPI_BYTE, dest, TAG, c->comm) != MPI_SUCCESS)
            return lrm_fail(LOWRANK_ECOMM, "MPI_Send from rank %d to rank %d failed", c->rank,
                            dest);
        c->bytes += len;
        c->messages++;
        q += len;
        n -= (size_t)len;
    }
    return LOWRANK_OK;
}

static int recv_bytes(lrm_comm *c, int src, void *p, size_t n)
{
    for (char *q = p; n > 0;) {
        int len = (int)(n < PIECE ? n : PIECE);
        if (MPI_Recv(q, len, MPI_BYTE, src, TAG, c->comm, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return lrm_fail(LOWRANK_ECOMM, "MPI_Recv on rank %d from rank %d failed", c->rank, src);
        q += len;
        n -= (size_t)len;
    }
    return LOWRANK_OK;
}

/* A round's knowledge of a failure: the failing rank (-1: none), its
 * status and message, and whether every rank will learn it in this round
 * (a failure at or before the root) or only the ranks below it. */
typedef struct verdict {
    int64_t rank, code, agreed;
    char message[512];
} verdict;

static void verdict_ok(verdict *v) { v->rank = -1; }

static void verdict_mine(verdict *v, const lrm_comm *c)
{
    if (!c->pending) {
        v->rank = -1;
        return;
    }
    v->rank = c->failed_rank;
    v->code = c->pending;
    v->agreed = 0;
    snprintf(v->message, sizeof v->message, "%s", c->message);
}

/* This rank's failure rc (from a callback) into v. */
static void verdict_fail(verdict *v, lrm_comm *c, int rc)
{
    lrm_local(c, rc);
    verdict_mine(v, c);
}

/* The failure of lower rank of the two into v. */
static void verdict_keep_first(verdict *v, const verdict *other)
{
    if (other->rank >= 0 && (v->rank < 0 || other->rank < v->rank))
        *v = *other;
}

/* A message: a header (failing rank or -1, status, body length, agreed),
 * then the body: the failure's text, or the payload. */
static int send_msg(lrm_comm *c, int dest, const verdict *v, const lrm_buf *payload)
{
    const char *body = v->rank >= 0 ? v->message : payload->data;
    size_t len = v->rank >= 0 ? strlen(v->message) + 1 : payload->len;
    int64_t head[4] = {v->rank, v->rank >= 0 ? v->code : 0, (int64_t)len, v->agreed};
    int rc = send_bytes(c, dest, head, sizeof head);
    return rc == LOWRANK_OK && len ? send_bytes(c, dest, body, len) : rc;
}

/* A received body: in the caller's small buffer when it fits (the status
 * and totals rounds then allocate nothing), otherwise allocated. */
enum { SMALL = 512 };
typedef struct inbox {
    char small[SMALL];
    char *body;
    size_t len;
} inbox;

static void inbox_free(inbox *in)
{
    if (in->body != in->small)
        free(in->body);
}

/* Receive a message: its verdict into v and, when it is not a failure, its
 * payload into in. */
static int recv_msg(lrm_comm *c, int src, verdict *v, inbox *in)
{
    int64_t head[4];
    in->body = in->small;
    in->len = 0;
    int rc = recv_bytes(c, src, head, sizeof head);
    if (rc != LOWRANK_OK)
        return rc;
    if (head[2] < 0 || (head[0] >= 0 && (size_t)head[2] > sizeof v->message))
        return lrm_fail(LOWRANK_ECOMM, "rank %d received a malformed header from rank %d",
                        c->rank, src);
    size_t len = (size_t)head[2];
    if (len > SMALL && !(in->body = lrm_malloc(len, 1))) {
        /* the payload cannot be kept: read it away to keep in step */
        in->body = in->small;
        if (!c->sink)
            return lrm_fail(LOWRANK_ECOMM, "rank %d is out of memory for a message", c->rank);
        for (size_t left = len; left > 0 && rc == LOWRANK_OK; left -= left < PIECE ? left : PIECE)
            rc = recv_bytes(c, src, c->sink, left < PIECE ? left : PIECE);
        return rc == LOWRANK_OK ? lrm_fail(LOWRANK_ENOMEM, "cannot allocate %zu bytes", len) : rc;
    }
    rc = recv_bytes(c, src, in->body, len);
    if (rc != LOWRANK_OK)
        return rc;
    v->rank = head[0];
    if (v->rank >= 0) {
        v->code = head[1];
        v->agreed = head[3];
        snprintf(v->message, sizeof v->message, "%.*s", (int)len, in->body);
    } else {
        in->len = len;
    }
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ rounds */

/* The lowest set bit of rank (rank > 0): rank's parent is rank - lowbit;
 * its children are rank + s for s = 1, 2, 4, ... below lowbit. */
static int lowbit(int rank) { return rank & -rank; }

/* A message received into v and in, or the failure of receiving it
 * (ENOMEM) as this rank's; ECOMM is returned to the caller, as the protocol
 * can no longer be trusted. */
static int receive(lrm_comm *c, int src, verdict *v, inbox *in, lrm_msg *m)
{
    verdict_ok(v);
    int rc = recv_msg(c, src, v, in);
    if (rc == LOWRANK_ECOMM)
        return rc;
    if (rc != LOWRANK_OK)
        verdict_fail(v, c, rc);
    *m = (lrm_msg){in->body, in->len, 0};
    return LOWRANK_OK;
}

/* The upward pass: children's contributions merged in rank order, then
 * this rank's subtree sent to its parent.  v: what this subtree knows of
 * failures. */
static int up(lrm_comm *c, const lrm_round *r, verdict *v)
{
    for (int s = 1; s < c->size; s <<= 1) {
        if (c->rank & s) {
            lrm_buf out;
            lrm_buf_init(&out);
            int rc = v->rank < 0 && r->pack_up ? r->pack_up(r->state, &out) : LOWRANK_OK;
            if (rc != LOWRANK_OK)
                verdict_fail(v, c, rc);
            rc = send_msg(c, c->rank - s, v, &out);
            lrm_buf_free(&out);
            return rc;
        }
        if (c->rank + s >= c->size)
            continue;
        verdict cv;
        inbox in;
        lrm_msg m;
        int rc = receive(c, c->rank + s, &cv, &in, &m);
        if (rc != LOWRANK_OK)
            return rc;
        if (v->rank < 0 && cv.rank < 0 && r->merge && (rc = r->merge(r->state, &m)) != 0)
            verdict_fail(v, c, rc);
        verdict_keep_first(v, &cv);
        inbox_free(&in);
    }
    return LOWRANK_OK;
}

/* The downward pass: v is the root's verdict, or what the parent sent. */
static int down(lrm_comm *c, const lrm_round *r, verdict *v)
{
    if (c->rank != 0) {
        inbox in;
        lrm_msg m;
        int rc = receive(c, c->rank - lowbit(c->rank), v, &in, &m);
        if (rc != LOWRANK_OK)
            return rc;
        if (v->rank < 0 && r->unpack_down && (rc = r->unpack_down(r->state, &m)) != 0)
            verdict_fail(v, c, rc);
        inbox_free(&in);
    }
    int top = c->rank ? lowbit(c->rank) : 1;
    if (!c->rank)
        while (top < c->size)
            top <<= 1;
    for (int s = top >> 1; s >= 1; s >>= 1) {
        int child = c->rank + s;
        if (child >= c->size)
            continue;
        lrm_buf out;
        lrm_buf_init(&out);
        int rc = v->rank < 0 && r->pack_down ? r->pack_down(r->state, child, &out) : LOWRANK_OK;
        if (rc != LOWRANK_OK)
            verdict_fail(v, c, rc);
        rc = send_msg(c, child, v, &out);
        lrm_buf_free(&out);
        if (rc != LOWRANK_OK)
            return rc;
    }
    return LOWRANK_OK;
}

int lrm_run(lrm_comm *c, const lrm_round *r)
{
    if (c->broken) /* an MPI call failed: nothing can be agreed any more */
        return c->pending;
    verdict v;
    verdict_mine(&v, c);
    int rc = up(c, r, &v);
    if (rc == LOWRANK_OK && c->rank == 0) {
        if (v.rank < 0 && r->at_root && (rc = r->at_root(r->state)) != 0)
            verdict_fail(&v, c, rc);
        v.agreed = 1; /* whatever the root knows now reaches every rank */
        rc = LOWRANK_OK;
    }
    if (rc == LOWRANK_OK)
        rc = down(c, r, &v);
    if (rc != LOWRANK_OK) { /* MPI failed: nothing can be agreed */
        c->broken = 1;
        c->pending = 0;
        return lrm_local(c, rc);
    }
    if (v.rank < 0)
        return LOWRANK_OK;
    /* a failure: agreed, or pending until the next round agrees it */
    c->pending = (int)v.code;
    c->failed_rank = (int)v.rank;
    snprintf(c->message, sizeof c->message, "%s", v.message);
    return v.agreed ? c->pending : LOWRANK_OK;
}

int lrm_agree(lrm_comm *c)
{
    const lrm_round none = {NULL, NULL, NULL, NULL, NULL, NULL};
    return lrm_run(c, &none);
}

/* ------------------------------------------------------------ the last round */

enum { MAX_SUMS = 4 };

typedef struct totals {
    int count;
    double value[2 + MAX_SUMS]; /* bytes, messages, then the caller's sums */
} totals;

static int totals_pack(void *state, lrm_buf *out)
{
    const totals *t = state;
    return lrm_put(out, t->value, (size_t)(2 + t->count) * sizeof(double));
}

static int totals_merge(void *state, lrm_msg *in)
{
    totals *t = state;
    const double *x = NULL;
    int rc = lrm_view(in, (size_t)(2 + t->count) * sizeof(double), (const void **)&x);
    for (int i = 0; rc == LOWRANK_OK && i < 2 + t->count; i++)
        t->value[i] += x[i];
    return rc;
}

static int totals_pack_down(void *state, int child, lrm_buf *out)
{
    (void)child;
    return totals_pack(state, out);
}

static int totals_unpack(void *state, lrm_msg *in)
{
    totals *t = state;
    return lrm_get(in, t->value, (size_t)(2 + t->count) * sizeof(double));
}

int lrm_finish(lrm_comm *c, double *sum, int count, lowrank_mpi_stats *stats)
{
    totals t = {count, {(double)c->bytes, (double)c->messages}};
    for (int i = 0; i < count && i < MAX_SUMS; i++)
        t.value[2 + i] = sum[i];
    int64_t mine = c->bytes;
    lrm_round r = {&t, totals_pack, totals_merge, NULL, totals_pack_down, totals_unpack};
    int rc = lrm_run(c, &r);
    if (rc == LOWRANK_OK && c->pending) /* unpacking the totals cannot fail, but be sure */
        rc = c->pending;
    if (rc != LOWRANK_OK) {
        if (c->broken) /* this rank's alone: the others may not know */
            lrm_fail(rc, "rank %d: %s", c->rank, c->message);
        else
            lrm_fail(rc, "rank %d: %s", c->failed_rank, c->message);
        return rc;
    }
    for (int i = 0; i < count; i++)
        sum[i] = t.value[2 + i];
    lrm_stat(stats, LOWRANK_MPI_STAT_BYTES, t.value[0]);
    lrm_stat(stats, LOWRANK_MPI_STAT_MESSAGES, t.value[1]);
    lrm_stat(stats, LOWRANK_MPI_STAT_BYTES_RANK, (double)mine);
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ statistics */

enum { NSTATS = LOWRANK_MPI_STAT_FIT_RANK + 1 };

struct lowrank_mpi_stats {
    double value[NSTATS];
};

static void stats_clear(lowrank_mpi_stats *s)
{
    for (int i = 0; i < NSTATS; i++)
        s->value[i] = NAN;
}

int lowrank_mpi_stats_new(lowrank_mpi_stats **out)
{
    if (!out)
        return lrm_fail(LOWRANK_EINVAL, "out is NULL");
    *out = lrm_malloc(1, sizeof **out);
    if (!*out)
        return LOWRANK_ENOMEM;
    stats_clear(*out);
    return LOWRANK_OK;
}

void lowrank_mpi_stats_free(lowrank_mpi_stats *stats) { free(stats); }

int lowrank_mpi_stats_get(const lowrank_mpi_stats *stats, lowrank_mpi_stat key, double *value)
{
    if (!stats || !value)
        return lrm_fail(LOWRANK_EINVAL, "%s is NULL", stats ? "value" : "stats");
    if ((int)key < 1 || (int)key >= NSTATS)
        return lrm_fail(LOWRANK_EINVAL, "unknown statistic %d", (int)key);
    *value = stats->value[key];
    return LOWRANK_OK;
}

void lrm_stat(lowrank_mpi_stats *s, lowrank_mpi_stat key, double value)
{
    if (s)
        s->value[key] = value;
}

/* Every function clears the statistics it is given as it starts. */
void lrm_stats_start(lowrank_mpi_stats *s)
{
    if (s)
        stats_clear(s);
}
