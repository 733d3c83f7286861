/*
 * threads.c - a pool of threads of the library's own (pthreads), for work
 * split into independent tasks: the bands of a video frame, the blocks of a
 * training pass, the bands of rows of a sparse product (operator.c).
 *
 * Why not BLAS's threads: the per-frame products of a background model are
 * far too small for a multi-threaded BLAS (OpenBLAS with two threads made it
 * slower), and the process-wide BLAS thread count is global state that other
 * threads of the program rely on.  A pool belongs to one handle, so a program
 * running several models in several threads sizes each pool itself (one
 * thread each: no worker at all).
 *
 * Tasks are claimed dynamically, in increasing order, by the calling thread
 * and the workers alike, so a worker that the system has not scheduled yet
 * delays nothing: the caller does the work itself.  A task's result must not
 * depend on which thread runs it (each thread gets its own scratch index),
 * which makes results independent of the number of threads.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* When the caller waits for the workers' last tasks longer than this share
 * of a job's time (an average over the last jobs), the workers are not
 * getting the cores -- another process has them -- and waiting for a
 * descheduled worker costs more than its help: the pool runs the next
 * SOLO_JOBS jobs in the caller alone, then tries the workers again.  The
 * results are the same either way. */
#define STALL_SHARE 0.25
#define SOLO_JOBS 64

/* Threads yield this many times (some tens of microseconds on an idle core)
 * waiting for the next job, or for the last task of one, before they sleep:
 * the phases of one frame follow each other within microseconds, and a
 * wake-up through the scheduler costs tens of them.  Yielding, not spinning,
 * leaves the core to any other process that wants it. */
#define SPIN_ROUNDS 200

struct lr_pool {
    int threads; /* the caller included */
    pthread_t *workers;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    /* the current job, written under lock before the generation changes */
    uint32_t generation;
    int stop;
    lr_task_fn fn;
    void *ctx;
    int64_t ntasks;
    /* generation << 32 | next task: a worker holding an old job cannot claim
     * a task of the new one */
    _Atomic uint64_t claim;
    _Atomic int64_t finished;
    _Atomic uint32_t published; /* the generation, readable without the lock */
    /* the caller's share of time spent waiting (an average), and the jobs
     * it still runs alone */
    double stall;
    int solo;
    /* the failure of the lowest failing task */
    int64_t fail_task;
    int fail_rc;
    char fail_message[512];
};

int lr_threads_available(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n < 1024 ? n : 1024) : 1;
}

static void record_failure(lr_pool *p, int64_t task, int rc)
{
    pthread_mutex_lock(&p->lock);
    if (p->fail_rc == 0 || task < p->fail_task) {
        p->fail_task = task;
        p->fail_rc = rc;
        snprintf(p->fail_message, sizeof p->fail_message, "%s", lowrank_last_error());
    }
    pthread_mutex_unlock(&p->lock);
}

/* Claim and run tasks of generation gen until none is left. */
static void work(lr_pool *p, uint32_t gen, lr_task_fn fn, void *ctx, int64_t ntasks, int thread)
{
    for (;;) {
        uint64_t c = atomic_load(&p->claim);
        if ((uint32_t)(c >> 32) != gen || (int64_t)(c & 0xffffffffu) >= ntasks)
            return;
        if (!atomic_compare_exchange_weak(&p->claim, &c, c + 1))
            continue;
        int64_t task = (int64_t)(c & 0xffffffffu);
        int rc = fn(ctx, task, thread);
        if (rc != 0)
            record_failure(p, task, rc);
        if (atomic_fetch_add(&p->finished, 1) + 1 == ntasks) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
}

typedef struct worker_arg {
    lr_pool *pool;
    int thread;
} worker_arg;

static void *worker_main(void *arg)
{
    lr_pool *p = ((worker_arg *)arg)->pool;
    int thread = ((worker_arg *)arg)->thread;
    free(arg);
    uint32_t seen = 0;
    for (;;) {
        for (int i = 0; i < SPIN_ROUNDS && atomic_load(&p->published) == seen; i++)
            sched_yield();
        pthread_mutex_lock(&p->lock);
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stop) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        seen = p->generation;
        lr_task_fn fn = p->fn;
        void *ctx = p->ctx;
        int64_t ntasks = p->ntasks;
        pthread_mutex_unlock(&p->lock);
        work(p, seen, fn, ctx, ntasks, thread);
    }
}

void lr_pool_free(lr_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->workers[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p);
}

/* Workers block every signal: signals are the program's, for its own
 * threads to take. */
static int start_workers(lr_pool *p)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = LOWRANK_OK;
    while (p->started < p->threads - 1) {
        worker_arg *arg = lr_malloc(1, sizeof *arg);
        if (!arg) {
            rc = LOWRANK_ENOMEM;
            break;
        }
        *arg = (worker_arg){p, p->started + 1};
        if (pthread_create(&p->workers[p->started], NULL, worker_main, arg) != 0) {
            free(arg);
            rc = lr_fail(LOWRANK_ENOMEM, "cannot start thread %d of %d", p->started + 2,
                         p->threads);
            break;
        }
        p->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int lr_pool_new(int threads, lr_pool **out)
{
    *out = NULL;
    lr_pool *p = lr_calloc(1, sizeof *p);
    if (!p)
        return LOWRANK_ENOMEM;
    p->threads = threads < 1 ? 1 : threads;
    p->workers = lr_calloc((size_t)p->threads, sizeof *p->workers);
    if (!p->workers) {
        free(p);
        return LOWRANK_ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    int rc = start_workers(p);
    if (rc != LOWRANK_OK) {
        lr_pool_free(p);
        return rc;
    }
    *out = p;
    return LOWRANK_OK;
}

int lr_pool_threads(const lr_pool *p) { return p ? p->threads : 1; }

int lr_pool_run(lr_pool *p, int64_t ntasks, lr_task_fn fn, void *ctx)
{
    if (p && p->solo > 0)
        p->solo--;
    if (!p || p->threads == 1 || ntasks <= 1 || p->solo > 0) {
        for (int64_t t = 0; t < ntasks; t++) {
            int rc = fn(ctx, t, 0);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    pthread_mutex_lock(&p->lock);
    uint32_t gen = p->generation + 1;
    p->generation = gen;
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    p->fail_rc = 0;
    atomic_store(&p->finished, 0);
    atomic_store(&p->claim, (uint64_t)gen << 32);
    atomic_store(&p->published, gen);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    double start = lr_now();
    work(p, gen, fn, ctx, ntasks, 0);
    double worked = lr_now();
    for (int i = 0; i < SPIN_ROUNDS && atomic_load(&p->finished) < ntasks; i++)
        sched_yield();
    pthread_mutex_lock(&p->lock);
    while (atomic_load(&p->finished) < ntasks)
        pthread_cond_wait(&p->done, &p->lock);
    int rc = p->fail_rc;
    pthread_mutex_unlock(&p->lock);
    double end = lr_now(), share = end > start ? (end - worked) / (end - start) : 0;
    p->stall += (share - p->stall) / 8;
    if (p->stall > STALL_SHARE) {
        p->solo = SOLO_JOBS;
        p->stall = 0;
    }
    if (rc != 0)
        lr_fail(rc, "%s", p->fail_message);
    return rc;
}
