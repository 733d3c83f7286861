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
 * Tasks are claimed dynamically by the calling thread and the workers
 * alike, so a worker that the system has not scheduled yet delays nothing:
 * the caller does the work itself.  Each thread first claims the tasks of
 * its own share of the job (thread i of T: tasks i n / T to (i + 1) n / T - 1,
 * in increasing order), then those left in the others' shares: a job run
 * again and again (a video's frames) finds the same rows in the same
 * thread's cache.  A task's result must not depend on which thread runs it
 * (each thread gets its own scratch index), which makes results independent
 * of the number of threads.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <math.h>
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
 * of a job's time and longer than STALL_SECONDS (a task takes microseconds,
 * a worker the system has descheduled milliseconds), the workers are not
 * getting the cores -- another process has them -- and waiting for them
 * costs more than their help: the pool runs the jobs of the next
 * SOLO_SECONDS in the caller alone, then tries the workers again.  The
 * results are the same either way. */
#define STALL_SHARE 0.25
#define STALL_SECONDS 2e-4
#define SOLO_SECONDS 0.01
/* A stall that ends a trial of the workers sooner than the time run alone
 * before it doubles that time, up to this long: a process that keeps the
 * other cores busy fails each trial within milliseconds, and then costs one
 * trial (a stalled job, a few milliseconds) a second.  A stall after a
 * longer time shared is a passing one (a worker's core taken for a moment:
 * on a virtual machine, every 0.1-0.5 s with nothing else running) and
 * costs SOLO_SECONDS again: doubling on those too ran 15-40% of an idle
 * machine's frames alone. */
#define SOLO_SECONDS_MOST 1.0

/* A worker that is running takes its first task of a job within
 * microseconds, one that slept within tens.  When the caller ran every task
 * of a job that took longer than ABSENT_SECONDS, no worker had a core: the
 * pool goes solo as after a stall.  Without this, a worker that another
 * process keeps off its core for milliseconds at a time costs more than it
 * helps: the caller runs the worker's share meanwhile, and those rows move
 * between the cores' caches whenever the worker comes back. */
#define ABSENT_SECONDS 1e-4

/* Threads yield for up to this long waiting for the next job, or for the
 * last task of one, before they sleep: a video's frames follow each other
 * within a millisecond and the phases of one frame within microseconds,
 * while waking a sleeping thread costs tens of microseconds (more in a
 * virtual machine, where the idle core itself must be woken).  Yielding,
 * not spinning, leaves the core to any other process that wants it; the
 * price is up to this much processor time per job that a thread spends
 * waiting instead of sleeping. */
#define SPIN_SECONDS 1e-3
/* For the first PAUSE_SECONDS of that they do not even yield, only pause
 * (a yield is a system call, and in a virtual machine a costly one): the
 * tasks of one phase take microseconds. */
#define PAUSE_SECONDS 50e-6

/* published while a job is being written (and before the first): no
 * generation is ever 0.  Without it a worker that read generation g late,
 * as the caller wrote job g + 1, could take g + 1's size for g's and claim
 * tasks past g's end: a task ran twice (check_threads' pool_keeps_jobs_apart
 * saw it, and ThreadSanitizer). */
#define JOB_WRITING 0u

/* The processor's hint that this is a wait loop. */
static inline void lr_cpu_pause(void)
{
#if defined __x86_64__ || defined __i386__
    __builtin_ia32_pause();
#elif defined __aarch64__
    __asm__ __volatile__("yield");
#endif
}

/* A thread's share of the current job, on a cache line of its own: each
 * thread claims from its own share. */
struct share {
    _Alignas(64) _Atomic uint64_t claim;
};

struct lr_pool {
    int threads; /* the caller included */
    pthread_t *workers;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    /* the generation of the current job, for sleeping workers (under lock) */
    uint32_t generation;
    int stop;
    /* the current job, read without the lock (a sequence lock): published
     * is JOB_WRITING while the caller writes a job, then the job's
     * generation; a worker reads the job between two reads of published
     * that agree and are not JOB_WRITING */
    _Atomic(lr_task_fn) fn;
    _Atomic(void *) ctx;
    _Atomic int64_t ntasks;
    _Atomic uint32_t published;
    /* per thread, its share's generation << 32 | next task: a worker
     * holding an old job cannot claim a task of the new one */
    struct share *shares;
    void *shares_block; /* shares' allocation */
    _Atomic int64_t finished;
    _Atomic int failed;          /* a task of the current job failed */
    _Atomic int caller_sleeping; /* the caller waits on done */
    /* the caller runs jobs alone until solo_until (lr_now), a time of
     * solo_next seconds from the last stall */
    double solo_until, solo_next;
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
    atomic_store(&p->failed, 1);
    if (p->fail_rc == 0 || task < p->fail_task) {
        p->fail_task = task;
        p->fail_rc = rc;
        snprintf(p->fail_message, sizeof p->fail_message, "%s", lowrank_last_error());
    }
    pthread_mutex_unlock(&p->lock);
}

/* The next task of share i of a job of generation gen, claimed, or -1. */
static int64_t claim_in(lr_pool *p, int i, uint32_t gen, int64_t ntasks)
{
    int64_t end = (int64_t)(i + 1) * ntasks / p->threads;
    for (;;) {
        uint64_t c = atomic_load(&p->shares[i].claim);
        if ((uint32_t)(c >> 32) != gen || (int64_t)(c & 0xffffffffu) >= end)
            return -1;
        if (atomic_compare_exchange_weak(&p->shares[i].claim, &c, c + 1))
            return (int64_t)(c & 0xffffffffu);
    }
}

/* Claim and run tasks of generation gen until none is left: thread's own
 * share first, then the others'.  Returns the number it ran. */
static int64_t work(lr_pool *p, uint32_t gen, lr_task_fn fn, void *ctx, int64_t ntasks,
                    int thread)
{
    int64_t ran = 0;
    for (int j = 0; j < p->threads; j++) {
        int i = (thread + j) % p->threads;
        for (int64_t task; (task = claim_in(p, i, gen, ntasks)) >= 0; ran++) {
            int rc = fn(ctx, task, thread);
            if (rc != 0)
                record_failure(p, task, rc);
            /* sequentially consistent, against the caller's store of
             * caller_sleeping and load of finished: one of the two sees the
             * other */
            if (atomic_fetch_add(&p->finished, 1) + 1 == ntasks &&
                atomic_load(&p->caller_sleeping)) {
                pthread_mutex_lock(&p->lock);
                pthread_cond_signal(&p->done);
                pthread_mutex_unlock(&p->lock);
            }
        }
    }
    return ran;
}

typedef struct worker_arg {
    lr_pool *pool;
    int thread;
} worker_arg;

/* Wait until ready(p, arg), from `since`: by pausing for PAUSE_SECONDS (the
 * next task or job of a frame comes within microseconds), then by yielding
 * until SPIN_SECONDS have passed.  Returns whether it is ready. */
static int spin_until(int (*ready)(lr_pool *, int64_t), lr_pool *p, int64_t arg, double since)
{
    while (!ready(p, arg) && lr_now() < since + PAUSE_SECONDS)
        for (int i = 0; i < 64 && !ready(p, arg); i++)
            lr_cpu_pause();
    while (!ready(p, arg) && lr_now() < since + SPIN_SECONDS)
        sched_yield();
    return ready(p, arg);
}

/* A generation other than seen is published. */
static int published_since(lr_pool *p, int64_t seen)
{
    return atomic_load(&p->published) != (uint32_t)seen;
}

/* Every task of a job of ntasks is finished. */
static int all_finished(lr_pool *p, int64_t ntasks) { return atomic_load(&p->finished) >= ntasks; }

static void *worker_main(void *arg)
{
    lr_pool *p = ((worker_arg *)arg)->pool;
    int thread = ((worker_arg *)arg)->thread;
    free(arg);
    uint32_t seen = 0;
    for (;;) {
        if (!spin_until(published_since, p, seen, lr_now())) {
            pthread_mutex_lock(&p->lock);
            while (!p->stop && p->generation == seen)
                pthread_cond_wait(&p->wake, &p->lock);
            int stop = p->stop;
            pthread_mutex_unlock(&p->lock);
            if (stop)
                return NULL;
        }
        uint32_t gen = atomic_load(&p->published);
        if (gen == JOB_WRITING)
            continue; /* the caller is writing the next job: a moment */
        lr_task_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
        int64_t ntasks = atomic_load_explicit(&p->ntasks, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&p->published, memory_order_relaxed) != gen)
            continue; /* the next job came meanwhile: read it again */
        seen = gen;
        work(p, gen, fn, ctx, ntasks, thread);
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
    free(p->shares_block);
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
    p->shares_block = lr_calloc((size_t)p->threads + 1, sizeof *p->shares);
    if (!p->workers || !p->shares_block) {
        free(p->workers);
        free(p->shares_block);
        free(p);
        return LOWRANK_ENOMEM;
    }
    p->shares = (struct share *)(((uintptr_t)p->shares_block + 63) / 64 * 64);
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

/* The workers' last tasks: spun for, then slept for. */
static void await_finished(lr_pool *p, int64_t ntasks, double since)
{
    if (spin_until(all_finished, p, ntasks, since))
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->caller_sleeping, 1);
    while (atomic_load(&p->finished) < ntasks)
        pthread_cond_wait(&p->done, &p->lock);
    atomic_store(&p->caller_sleeping, 0);
    pthread_mutex_unlock(&p->lock);
}

double lr_pool_solo_time(double solo_until, double solo_last, double stall)
{
    int failed_trial = solo_until > 0 && stall - solo_until < solo_last;
    return failed_trial ? fmin(2 * solo_last, SOLO_SECONDS_MOST) : SOLO_SECONDS;
}

/* After a job that started at start, whose caller ran out of tasks at
 * worked having run all of them or not (alone), and saw the last one
 * finished at end: go solo on a stall or on absent workers. */
static void note_workers(lr_pool *p, double start, double worked, int alone, double end)
{
    double waited = end - worked;
    if ((waited > STALL_SECONDS && waited > STALL_SHARE * (end - start)) ||
        (alone && end - start > ABSENT_SECONDS)) {
        p->solo_next = lr_pool_solo_time(p->solo_until, p->solo_next, end);
        p->solo_until = end + p->solo_next;
    }
}

int lr_pool_solo(const lr_pool *p)
{
    return !p || p->threads == 1 || (p->solo_until > 0 && lr_now() < p->solo_until);
}

int lr_pool_run(lr_pool *p, int64_t ntasks, lr_task_fn fn, void *ctx)
{
    if (ntasks <= 1 || lr_pool_solo(p)) {
        for (int64_t t = 0; t < ntasks; t++) {
            int rc = fn(ctx, t, 0);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    uint32_t gen = atomic_load_explicit(&p->published, memory_order_relaxed) + 1;
    gen += gen == JOB_WRITING; /* after 2^32 jobs */
    /* the job's fields may not be seen written before JOB_WRITING is */
    atomic_store_explicit(&p->published, JOB_WRITING, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&p->ntasks, ntasks, memory_order_relaxed);
    atomic_store(&p->failed, 0);
    p->fail_rc = 0; /* no worker touches it: the last job is over */
    atomic_store(&p->finished, 0);
    for (int i = 0; i < p->threads; i++)
        atomic_store(&p->shares[i].claim, (uint64_t)gen << 32 | (uint64_t)(i * ntasks / p->threads));
    atomic_store(&p->published, gen);
    pthread_mutex_lock(&p->lock);
    p->generation = gen;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    double start = lr_now();
    int alone = work(p, gen, fn, ctx, ntasks, 0) == ntasks;
    double worked = lr_now();
    if (!all_finished(p, ntasks))
        await_finished(p, ntasks, worked);
    int rc = 0;
    if (atomic_load(&p->failed)) {
        pthread_mutex_lock(&p->lock);
        rc = p->fail_rc;
        pthread_mutex_unlock(&p->lock);
    }
    note_workers(p, start, worked, alone, lr_now());
    if (rc != 0)
        lr_fail(rc, "%s", p->fail_message);
    return rc;
}
