/*
 * testutil.h - helpers shared by the Check suites.
 */
#ifndef LOWRANK_TESTUTIL_H
#define LOWRANK_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "lowrank.h"
#include "random.h" /* test inputs come from the library's own generator */

/* Loop tests: every iteration, or with LOWRANK_TEST_LIGHT in the
 * environment (`make check-valgrind`) every third, the first included
 * (testutil.c says why). */
void light_add_loop_test(TCase *tc, const TTest *t, int start, int end);
#undef tcase_add_loop_test
#define tcase_add_loop_test(tc, ttest, s, e) light_add_loop_test((tc), (ttest), (s), (e))

/* Make the n-th allocation from now on (0-based) fail, and every later one
 * succeed; n < 0 turns injection off.  Works through the linker's --wrap of
 * malloc, calloc and realloc, so the library carries no test hook. */
void inject_alloc_failure(long n);
/* Allocations seen since the last inject_alloc_failure call. */
long alloc_count(void);

/* Run call(ctx) with allocation n failing, for n = 0, 1, ... (every 7th
 * in the light mode, above) until a run needs fewer than n + 1 allocations
 * and succeeds.  Every run in which an allocation failed must return
 * LOWRANK_ENOMEM; the call must free whatever it got.  Returns the number of
 * allocations the successful run made, the same in either mode.
 * Check itself allocates in every assertion, so call must not assert: it
 * reports a broken invariant by returning OUTPUT_BROKEN (see output_status). */
long check_alloc_failures(int (*call)(void *ctx), void *ctx);

#define OUTPUT_BROKEN 1000
/* rc, or OUTPUT_BROKEN unless the output handle is NULL exactly when rc
 * reports a failure. */
int output_status(int rc, const void *out);

/* A fresh directory for this process's files, removed at exit. */
const char *test_dir(void);
/* test_dir()/name in a static buffer of the caller's choosing. */
void test_path(char *buf, size_t cap, const char *name);
void write_bytes(const char *path, const void *data, size_t len);
/* The whole file; *len gets its length.  Free the result. */
unsigned char *read_bytes(const char *path, size_t *len);

/* Directory of the committed test data (SRCDIR/tests/data). */
const char *data_dir(void);

/* A new rows x cols matrix of the given kind with N(0,1) entries. */
lowrank_matrix *random_matrix(lowrank_dtype dtype, lowrank_layout layout, int64_t rows,
                              int64_t cols, uint64_t seed);

/* A = U diag(s) V^T (s: min(m, n) values) with U, V the Q factors of
 * Gaussian matrices, in the given dtype and layout. */
lowrank_matrix *with_spectrum(lowrank_dtype t, lowrank_layout l, int64_t m, int64_t n,
                              const double *s, uint64_t seed);

/* All min(m, n) singular values of a, descending, by LAPACK's gesdd on a
 * float64 copy (free the result). */
double *svd_truth(const lowrank_matrix *a);
/* ||a - U diag(S) V^T||_F, the product formed in float64. */
double svd_distance(const lowrank_matrix *a, const lowrank_factors *f);
/* max |X^T X - I| over the columns of x (rows when by_rows). */
double orthonormality(const lowrank_matrix *x, int by_rows);
/* The largest residual of the triplets in f, max over i of
 * ||A v_i - s_i u_i|| and ||A^T u_i - s_i v_i||, in float64. */
double triplet_residual(const lowrank_matrix *a, const lowrank_factors *f);

/* An orthonormal d x k basis into q (d x k, column-major): the Q of a QR
 * factorisation of Gaussian columns from r. */
void random_basis(lr_rng *r, int64_t d, int64_t k, double *q);

/* n points in R^d into x (n x d, column-major), from the library's own
 * generator: inliers on the span of the orthonormal u (d x k, k <= 8, filled
 * here) with noise 1e-3, and a fraction of outliers N(0, 25 I) far off it.
 * Returns x.  (Plain C, no Check assertion: check_mpi uses it too.) */
double *haystack(int64_t n, int64_t d, int64_t k, double outliers, uint64_t seed, double *u,
                 double *x);

/* Run a Check suite built by make_suite and return the process exit status. */
int run_suite(Suite *s);

#define ck_assert_ok(expr)                                                                         \
    do {                                                                                           \
        int ck_rc_ = (expr);                                                                       \
        ck_assert_msg(ck_rc_ == LOWRANK_OK, "%s failed: %s: %s", #expr, lowrank_strerror(ck_rc_),  \
                      lowrank_last_error());                                                       \
    } while (0)

#define ck_assert_fails(expr, code)                                                                \
    do {                                                                                           \
        int ck_rc_ = (expr);                                                                       \
        ck_assert_msg(ck_rc_ == (code), "%s returned %d (%s), expected %s", #expr, ck_rc_,         \
                      lowrank_strerror(ck_rc_), #code);                                            \
        ck_assert_msg(lowrank_last_error()[0] != '\0', "%s left no message", #expr);              \
    } while (0)

#endif
