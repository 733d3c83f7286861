/*
 * check_core.c - versions, status codes and the per-thread error message.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

START_TEST(version_matches_header)
{
    ck_assert_uint_eq(lowrank_version_number(), LOWRANK_VERSION_NUMBER);
    ck_assert_uint_eq(LOWRANK_VERSION_NUMBER, LOWRANK_VERSION_MAJOR * 10000 +
                                                  LOWRANK_VERSION_MINOR * 100 +
                                                  LOWRANK_VERSION_PATCH);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", LOWRANK_VERSION_MAJOR, LOWRANK_VERSION_MINOR,
             LOWRANK_VERSION_PATCH);
    ck_assert_str_eq(lowrank_version_string(), expect);
    ck_assert_str_eq(LOWRANK_VERSION_STRING, expect);
}
END_TEST

START_TEST(strerror_is_distinct_for_every_code)
{
    const char *seen[16];
    for (int code = 0; code >= LOWRANK_ECANCELED; code--) {
        const char *s = lowrank_strerror(code);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_ne(s, "unknown error code");
        for (int prev = 0; prev > code; prev--)
            ck_assert_str_ne(seen[-prev], s);
        seen[-code] = s;
    }
    ck_assert_str_eq(lowrank_strerror(LOWRANK_ECALLBACK), "callback failed");
    ck_assert_str_eq(lowrank_strerror(LOWRANK_ECOMM), "communication failed");
    ck_assert_str_eq(lowrank_strerror(LOWRANK_ECANCELED - 1), "unknown error code");
    ck_assert_str_eq(lowrank_strerror(1), "unknown error code");
    ck_assert_str_eq(lowrank_strerror(LOWRANK_ENOMEM), "out of memory");
}
END_TEST

START_TEST(last_error_describes_the_failure)
{
    lowrank_matrix *m = (lowrank_matrix *)&m; /* must be reset to NULL */
    ck_assert_fails(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 0, 3, &m),
                    LOWRANK_ESIZE);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(lowrank_last_error(), "rows = 0 must be at least 1");
    /* success leaves the message alone, like errno */
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 1, 3, &m));
    ck_assert_str_eq(lowrank_last_error(), "rows = 0 must be at least 1");
    lowrank_matrix_free(m);
}
END_TEST

static void *fail_in_thread(void *arg)
{
    lowrank_matrix *m;
    const char **msg = arg;
    lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 5, -7, &m);
    *msg = lowrank_last_error();
    static char copy[128];
    snprintf(copy, sizeof copy, "%s", *msg);
    *msg = copy;
    return NULL;
}

START_TEST(last_error_is_per_thread)
{
    lowrank_matrix *m;
    lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 0, 3, &m);
    const char *other = NULL;
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, fail_in_thread, &other), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_str_eq(other, "cols = -7 must be at least 1");
    ck_assert_str_eq(lowrank_last_error(), "rows = 0 must be at least 1");
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, strerror_is_distinct_for_every_code);
    tcase_add_test(tc, last_error_describes_the_failure);
    tcase_add_test(tc, last_error_is_per_thread);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
