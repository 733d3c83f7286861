/*
 * threads.c - threads of the library's own (pthreads) for work split into
 * independent tasks: the bands of rows of a sparse product.
 *
 * A run starts threads - 1 workers, which claim tasks in increasing order
 * alongside the calling thread, and joins them; it allocates nothing (a
 * pool is run by one thread at a time).  A task's result must not
 * depend on the thread that runs it, which makes results independent of the
 * number of threads.  Workers block every signal: signals are the
 * program's, for its own threads to take.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

struct lr_pool {
    int threads;  /* the caller included */
    pthread_t *ids; /* the workers' of a run */
    void *args;
};

int lr_threads_available(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n < 1024 ? n : 1024) : 1;
}

typedef struct run run;
typedef struct worker {
    run *r;
    int thread;
} worker;

int lr_pool_new(int threads, lr_pool **out)
{
    lr_pool *p = lr_malloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return LOWRANK_ENOMEM;
    p->threads = threads < 1 ? 1 : threads;
    p->ids = lr_malloc((size_t)p->threads, sizeof *p->ids);
    p->args = p->ids ? lr_malloc((size_t)p->threads, sizeof(worker)) : NULL;
    if (!p->args) {
        lr_pool_free(p);
        return LOWRANK_ENOMEM;
    }
    *out = p;
    return LOWRANK_OK;
}

void lr_pool_free(lr_pool *p)
{
    if (!p)
        return;
    free(p->ids);
    free(p->args);
    free(p);
}

int lr_pool_threads(const lr_pool *p) { return p ? p->threads : 1; }

/* One run: the tasks, the next to claim, and the lowest failure. */
struct run {
    lr_task_fn fn;
    void *ctx;
    int64_t ntasks;
    _Atomic int64_t next;
    pthread_mutex_t lock;
    int64_t fail_task;
    int fail_rc;
    char fail_message[512];
};

static void work(run *r, int thread)
{
    for (int64_t task; (task = atomic_fetch_add(&r->next, 1)) < r->ntasks;) {
        int rc = r->fn(r->ctx, task, thread);
        if (rc == 0)
            continue;
        pthread_mutex_lock(&r->lock);
        if (r->fail_rc == 0 || task < r->fail_task) {
            r->fail_task = task;
            r->fail_rc = rc;
            snprintf(r->fail_message, sizeof r->fail_message, "%s", lowrank_last_error());
        }
        pthread_mutex_unlock(&r->lock);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    work(w->r, w->thread);
    return NULL;
}

int lr_pool_run(lr_pool *p, int64_t ntasks, lr_task_fn fn, void *ctx)
{
    int threads = lr_pool_threads(p);
    if (threads > ntasks)
        threads = (int)ntasks;
    if (threads <= 1) {
        for (int64_t t = 0; t < ntasks; t++) {
            int rc = fn(ctx, t, 0);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    run r = {.fn = fn, .ctx = ctx, .ntasks = ntasks};
    atomic_init(&r.next, 0);
    pthread_mutex_init(&r.lock, NULL);
    pthread_t *ids = p->ids;
    worker *args = p->args;
    int started = 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (; started < threads - 1; started++) {
        args[started] = (worker){&r, started + 1};
        if (pthread_create(&ids[started], NULL, worker_main, &args[started]) != 0)
            break; /* fewer workers: the caller does their share */
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    work(&r, 0);
    for (int i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
    pthread_mutex_destroy(&r.lock);
    if (r.fail_rc != 0)
        lr_fail(r.fail_rc, "%s", r.fail_message);
    return r.fail_rc;
}
