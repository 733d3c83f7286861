/*
 * check_threads.c - distinct handles used from distinct threads at once
 * (docs/threadsafety.md): each of THREADS threads runs lowrank_svd (both
 * methods, both dtypes), lowrank_lp (both objectives), lowrank_lp_cost, lowrank_mvee,
 * lowrank_lp_rounding, a coreset built and merged, and a background model
 * trained and applied, on its own handles and on one input matrix that all
 * of them read at once; every result must equal, to the bit, the one the
 * main thread computed alone beforehand.  And lowrank_last_error is per
 * thread: each thread fails in its own way, waits until every thread has
 * failed, then must still read its own message.  And the library's own
 * thread pool (lib/threads.c): every task runs once, whatever the threads,
 * the lowest failing task is the one reported, and a worker that stalls
 * (as one the system has descheduled) loses no task.  `make check-tsan`
 * runs this under ThreadSanitizer.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define THREADS 4
#define ROUNDS 2

/* What one run of the work computes, as bytes to compare. */
typedef struct outcome {
    double values[64];
    int count;
    uint8_t mask[32 * 24];
} outcome;

static void keep(outcome *o, double v)
{
    if (o->count < (int)(sizeof o->values / sizeof o->values[0]))
        o->values[o->count++] = v;
}

static void keep_matrix(outcome *o, const lowrank_matrix *m)
{
    for (int64_t i = 0; i < m->rows && i < 4; i++)
        for (int64_t j = 0; j < m->cols && j < 2; j++)
            keep(o, lr_matrix_at(m, i, j));
}

/* The shared, read-only inputs. */
static lowrank_matrix *shared_a, *shared_points;
static uint8_t *frames_data;

/* Every call, on handles of the calling thread; 0 or the first failure.
 * No assertion here: Check's are not thread-safe. */
static int work(outcome *o)
{
    memset(o, 0, sizeof *o);
    lowrank_opts *opts = NULL;
    lowrank_factors *f = NULL;
    lowrank_ellipsoid *e = NULL;
    lowrank_matrix *g = NULL;
    lowrank_coreset *c1 = NULL, *c2 = NULL, *cm = NULL;
    lowrank_background *bg = NULL;
    double v;
    int rc = lowrank_opts_new(&opts);
    for (int64_t method = LOWRANK_METHOD_EXACT; rc == LOWRANK_OK && method <= 2; method++) {
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_METHOD, method);
        for (int i = 0; rc == LOWRANK_OK && i < 2; i++) {
            rc = lowrank_svd(i ? shared_points : shared_a, 2, opts, &f);
            if (rc == LOWRANK_OK)
                keep_matrix(o, lowrank_factors_s(f));
            lowrank_factors_free(f);
            f = NULL;
        }
    }
    for (int64_t obj = 1; rc == LOWRANK_OK && obj <= 2; obj++) {
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_METHOD, LOWRANK_METHOD_AUTO);
        if (rc == LOWRANK_OK)
            rc = lowrank_opts_set_int(opts, LOWRANK_OPT_OBJECTIVE, obj);
        if (rc == LOWRANK_OK)
            rc = lowrank_lp(shared_a, 2, 1.0, opts, &f);
        if (rc == LOWRANK_OK)
            rc = lowrank_lp_cost(shared_a, f, 1.0, (lowrank_objective)obj, &v);
        if (rc == LOWRANK_OK) {
            keep(o, v);
            keep_matrix(o, lowrank_factors_s(f));
        }
        lowrank_factors_free(f);
        f = NULL;
    }
    if (rc == LOWRANK_OK)
        rc = lowrank_mvee(shared_points, NULL, &e);
    if (rc == LOWRANK_OK) {
        keep_matrix(o, lowrank_ellipsoid_shape(e));
        keep(o, lowrank_ellipsoid_eps(e));
    }
    if (rc == LOWRANK_OK)
        rc = lowrank_lp_rounding(shared_points, 1.0, NULL, &g, &v);
    if (rc == LOWRANK_OK) {
        keep_matrix(o, g);
        keep(o, v);
    }
    if (rc == LOWRANK_OK)
        rc = lowrank_coreset_build(shared_points, 1.0, 10, NULL, &c1);
    if (rc == LOWRANK_OK)
        rc = lowrank_coreset_build(shared_points, 2.0, 10, NULL, &c2);
    if (rc == LOWRANK_OK)
        rc = lowrank_coreset_merge(c1, c1, 8, NULL, &cm);
    if (rc == LOWRANK_OK) {
        keep_matrix(o, lowrank_coreset_weights(cm));
        keep(o, (double)lowrank_coreset_indices(c2)[0]);
    }
    const uint8_t *frames[8];
    for (int i = 0; i < 8; i++)
        frames[i] = frames_data + i * 32 * 24;
    if (rc == LOWRANK_OK)
        rc = lowrank_background_new(32, 24, 1, NULL, &bg);
    if (rc == LOWRANK_OK)
        rc = lowrank_background_train(bg, frames, 6, 32);
    if (rc == LOWRANK_OK)
        rc = lowrank_background_apply(bg, frames[7], 32, o->mask, 32);
    lowrank_background_free(bg);
    lowrank_coreset_free(c1);
    lowrank_coreset_free(c2);
    lowrank_coreset_free(cm);
    lowrank_matrix_free(g);
    lowrank_ellipsoid_free(e);
    lowrank_opts_free(opts);
    return rc;
}

static outcome reference;
static pthread_barrier_t failed_all;

typedef struct job {
    int id, rc, same, own_message;
    char message[128];
} job;

static void *run(void *arg)
{
    job *j = arg;
    j->same = 1;
    for (int r = 0; r < ROUNDS && j->rc == LOWRANK_OK; r++) {
        outcome o;
        j->rc = work(&o);
        j->same &= j->rc == LOWRANK_OK && memcmp(&o, &reference, sizeof o) == 0;
    }
    /* a failure of this thread's own, with a message naming its id */
    lowrank_matrix *m = NULL;
    lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 1, -j->id, &m);
    snprintf(j->message, sizeof j->message, "cols = %d must be at least 1", -j->id);
    pthread_barrier_wait(&failed_all);
    j->own_message = strcmp(lowrank_last_error(), j->message) == 0;
    return NULL;
}

START_TEST(distinct_handles_in_parallel)
{
    shared_a = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 60, 20, 1);
    shared_points = random_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 50, 4, 2);
    frames_data = malloc(8 * 32 * 24);
    ck_assert_ptr_nonnull(frames_data);
    lr_rng r;
    lr_rng_seed(&r, 3);
    for (int i = 0; i < 8 * 32 * 24; i++)
        frames_data[i] = (uint8_t)(100 + 10 * lr_rng_normal(&r));
    ck_assert_ok(work(&reference));
    ck_assert_int_gt(reference.count, 30);
    ck_assert_int_eq(pthread_barrier_init(&failed_all, NULL, THREADS), 0);
    pthread_t t[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){i + 1, LOWRANK_OK, 0, 0, ""};
        ck_assert_int_eq(pthread_create(&t[i], NULL, run, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&failed_all);
    for (int i = 0; i < THREADS; i++) {
        ck_assert_msg(jobs[i].rc == LOWRANK_OK, "thread %d: %s", i, lowrank_strerror(jobs[i].rc));
        ck_assert_msg(jobs[i].same, "thread %d computed other bits than the main thread", i);
        ck_assert_msg(jobs[i].own_message, "thread %d lost its own error message", i);
    }
    lowrank_matrix_free(shared_a);
    lowrank_matrix_free(shared_points);
    free(frames_data);
}
END_TEST

/* ------------------------------------------------------------ the pool */

#define MOST_TASKS 40

typedef struct tally {
    _Atomic int runs[MOST_TASKS];
    _Atomic int worker_ran; /* a worker ran a task */
    _Atomic int stalled;    /* the stall task was run by a worker, which slept */
    int fail_from;          /* tasks from this one on fail, with their index */
    int stall_task;         /* this task sleeps when a worker runs it */
    int wait_for_worker;    /* task 0 in the caller waits until a worker ran one */
} tally;

static void sleep_ms(long ms) { nanosleep(&(struct timespec){0, ms * 1000000}, NULL); }

static int count_task(void *ctx, int64_t task, int thread)
{
    tally *t = ctx;
    atomic_fetch_add(&t->runs[task], 1);
    if (thread != 0)
        atomic_store(&t->worker_ran, 1);
    if (thread != 0 && task == t->stall_task) {
        sleep_ms(5);
        atomic_store(&t->stalled, 1);
    }
    /* up to 2 s: under valgrind, which runs one thread at a time, the
     * caller would otherwise do every task before a worker starts */
    for (int i = 0; thread == 0 && task == 0 && t->wait_for_worker && i < 2000 &&
                    !atomic_load(&t->worker_ran);
         i++)
        sleep_ms(1);
    if (task >= t->fail_from)
        return lr_fail(LOWRANK_ERANGE, "task %d failed", (int)task);
    return 0;
}

static void assert_each_ran_once(const tally *t, int ntasks)
{
    for (int i = 0; i < MOST_TASKS; i++)
        ck_assert_msg(atomic_load(&t->runs[i]) == (i < ntasks),
                      "task %d of %d ran %d times", i, ntasks, atomic_load(&t->runs[i]));
}

START_TEST(pool_runs_every_task_once)
{
    for (int threads = 1; threads <= 5; threads++) {
        lr_pool *p;
        ck_assert_ok(lr_pool_new(threads, &p));
        ck_assert_int_eq(lr_pool_threads(p), threads);
        for (int ntasks = 0; ntasks <= MOST_TASKS; ntasks += 3) {
            tally t = {.fail_from = MOST_TASKS, .stall_task = -1};
            ck_assert_ok(lr_pool_run(p, ntasks, count_task, &t));
            assert_each_ran_once(&t, ntasks);
        }
        lr_pool_free(p);
    }
    tally t = {.fail_from = MOST_TASKS, .stall_task = -1};
    ck_assert_ok(lr_pool_run(NULL, 7, count_task, &t)); /* no pool: the caller alone */
    assert_each_ran_once(&t, 7);
}
END_TEST

START_TEST(pool_reports_the_lowest_failing_task)
{
    for (int threads = 1; threads <= 4; threads++) {
        lr_pool *p;
        ck_assert_ok(lr_pool_new(threads, &p));
        for (int round = 0; round < 20; round++) {
            tally t = {.fail_from = 11, .stall_task = -1};
            ck_assert_fails(lr_pool_run(p, 30, count_task, &t), LOWRANK_ERANGE);
            ck_assert_str_eq(lowrank_last_error(), "task 11 failed");
            /* the pool is still good for the next job */
            tally u = {.fail_from = MOST_TASKS, .stall_task = -1};
            ck_assert_ok(lr_pool_run(p, 30, count_task, &u));
            assert_each_ran_once(&u, 30);
        }
        lr_pool_free(p);
    }
}
END_TEST

/* A worker that sleeps in a task (as one the system has descheduled): the
 * job still runs every task once, and so do the jobs after it (which the
 * pool may then run in the caller alone for a while). */
START_TEST(pool_survives_a_stalled_worker)
{
    lr_pool *p;
    ck_assert_ok(lr_pool_new(2, &p));
    /* the worker claims the first task of its share first: the stall task */
    tally t = {.fail_from = MOST_TASKS, .stall_task = MOST_TASKS / 2, .wait_for_worker = 1};
    ck_assert_ok(lr_pool_run(p, MOST_TASKS, count_task, &t));
    assert_each_ran_once(&t, MOST_TASKS);
    ck_assert_int_eq(atomic_load(&t.stalled), 1);
    for (int next = 0; next < 20; next++) {
        tally u = {.fail_from = MOST_TASKS, .stall_task = -1};
        ck_assert_ok(lr_pool_run(p, 17, count_task, &u));
        assert_each_ran_once(&u, 17);
    }
    lr_pool_free(p);
}
END_TEST

/* Jobs back to back, of 40 tasks and of 3 in turn, each counting into a
 * tally at the same address: a worker that read one job's generation late,
 * while the next job was being written, must not take the next job's size
 * or context for that generation's (it would run a task twice, or before
 * the caller wrote the tally: ThreadSanitizer and the counts see both). */
START_TEST(pool_keeps_jobs_apart)
{
    for (int threads = 2; threads <= 4; threads++) {
        lr_pool *p;
        ck_assert_ok(lr_pool_new(threads, &p));
        for (int i = 0; i < 4000; i++) {
            int ntasks = i % 2 ? 3 : MOST_TASKS;
            tally t = {.fail_from = MOST_TASKS, .stall_task = -1};
            ck_assert_ok(lr_pool_run(p, ntasks, count_task, &t));
            assert_each_ran_once(&t, ntasks);
        }
        lr_pool_free(p);
    }
}
END_TEST

/* The time run alone after a stall (lib/threads.c): a trial of the workers
 * that fails sooner than the time run alone before it doubles that time, up
 * to a second, as a process that keeps the other core busy makes every
 * trial fail; a stall after a longer time shared is a passing one, 10 ms
 * whatever came before.  The rule as the pool applies it, at given times. */
START_TEST(pool_runs_alone_longer_only_after_failed_trials)
{
    ck_assert_double_eq(lr_pool_solo_time(0, 0, 5.0), 0.01); /* the first stall */
    double until = 0, last = 0, stall = 5.0;
    /* trials failing 2 ms after each time alone: 10, 20, ... 640 ms, then 1 s */
    double want[] = {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.0, 1.0};
    for (int i = 0; i < 9; i++) {
        last = lr_pool_solo_time(until, last, stall);
        ck_assert_double_eq_tol(last, want[i], 1e-12);
        until = stall + last;
        stall = until + 0.002;
    }
    /* a stall 1.5 s after a second alone, and one 50 ms after 10 ms alone,
     * are passing ones */
    ck_assert_double_eq(lr_pool_solo_time(until, last, until + 1.5), 0.01);
    ck_assert_double_eq(lr_pool_solo_time(7.0, 0.01, 7.05), 0.01);
    /* one that ends a trial shorter than the time alone before it is not */
    ck_assert_double_eq_tol(lr_pool_solo_time(7.0, 0.08, 7.05), 0.16, 1e-12);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, distinct_handles_in_parallel);
    tcase_add_test(tc, pool_runs_every_task_once);
    tcase_add_test(tc, pool_reports_the_lowest_failing_task);
    tcase_add_test(tc, pool_survives_a_stalled_worker);
    tcase_add_test(tc, pool_keeps_jobs_apart);
    tcase_add_test(tc, pool_runs_alone_longer_only_after_failed_trials);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
