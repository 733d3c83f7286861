/*
 * check_progress.c - progress reports and cancellation
 * (lowrank_opts_set_progress): the reports' range, order and rate, and a
 * cancel that stops each long computation promptly with LOWRANK_ECANCELED,
 * its outputs NULL (leaks are valgrind's and ASan's to find).  Most tests
 * lower the options' internal report interval to 0, so that every report
 * reaches the callback and small, fast inputs exercise each cancel path.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <valgrind/valgrind.h>

#include "internal.h"
#include "testutil.h"

/* What a callback saw: every fraction and when, and when it cancelled. */
typedef struct seen {
    int calls, cancel_at; /* cancel on call number cancel_at (1-based); 0: never */
    double fraction[4096], time[4096];
    double canceled_time;
} seen;

static int record(double fraction, void *user)
{
    seen *s = user;
    if (s->calls < 4096) {
        s->fraction[s->calls] = fraction;
        s->time[s->calls] = lr_now();
    }
    s->calls++;
    if (s->cancel_at && s->calls >= s->cancel_at) {
        s->canceled_time = lr_now();
        return 1;
    }
    return 0;
}

static lowrank_opts *opts_reporting_to(seen *s, int cancel_at)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    s->calls = 0;
    s->cancel_at = cancel_at;
    ck_assert_ok(lowrank_opts_set_progress(o, record, s));
    return o;
}

/* The same, with every report passed on to the callback. */
static lowrank_opts *opts_reporting_everything_to(seen *s, int cancel_at)
{
    lowrank_opts *o = opts_reporting_to(s, cancel_at);
    o->progress_interval = 0;
    return o;
}

/* Every fraction in [0, 1], none below the one before. */
static void assert_fractions_ordered(const seen *s)
{
    for (int i = 0; i < s->calls && i < 4096; i++) {
        ck_assert_msg(s->fraction[i] >= 0 && s->fraction[i] <= 1, "fraction %g", s->fraction[i]);
        if (i > 0)
            ck_assert_msg(s->fraction[i] >= s->fraction[i - 1], "fraction %g after %g",
                          s->fraction[i], s->fraction[i - 1]);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

START_TEST(set_progress_needs_options)
{
    seen s = {0};
    ck_assert_fails(lowrank_opts_set_progress(NULL, record, &s), LOWRANK_EINVAL);
    lowrank_opts *o = opts_reporting_to(&s, 0);
    ck_assert_ok(lowrank_opts_set_progress(o, NULL, NULL)); /* off again */
    lr_progress pr;
    lr_progress_begin(&pr, o, "test");
    sleep_ms(60);
    ck_assert_ok(lr_progress_report(&pr, 0.5));
    ck_assert_int_eq(s.calls, 0);
    lowrank_opts_free(o);
    ck_assert_str_eq(lowrank_strerror(LOWRANK_ECANCELED), "canceled");
}
END_TEST

/* Reports are rate-limited, clamped to [0, 1], never decreasing, and a
 * nested call's reports land in its share of its caller's range. */
START_TEST(reports_are_mapped_ordered_and_rate_limited)
{
    seen s = {0};
    lowrank_opts *o = opts_reporting_to(&s, 0), nested, twice;
    lr_progress pr;
    lr_progress_begin(&pr, o, "test");
    ck_assert_ok(lr_progress_report(&pr, 0.9)); /* too soon after the start */
    ck_assert_int_eq(s.calls, 0);
    const double asked[] = {0.5, 0.2, NAN, 7};
    const double expected[] = {0.5, 0.5, 0.5, 1};
    for (int i = 0; i < 4; i++) {
        sleep_ms(60);
        ck_assert_ok(lr_progress_report(&pr, asked[i]));
        ck_assert_int_eq(s.calls, i + 1);
        ck_assert_double_eq(s.fraction[i], expected[i]);
    }
    /* [0.2, 0.6] of the call, then [0.5, 1] of that: [0.4, 0.6] */
    const lowrank_opts *sub = lr_opts_nested(o, 0.2, 0.6, &nested);
    ck_assert_ptr_eq(sub, &nested);
    lr_progress_begin(&pr, lr_opts_nested(sub, 0.5, 1, &twice), "nested");
    sleep_ms(60);
    ck_assert_ok(lr_progress_report(&pr, 0.5));
    ck_assert_double_eq_tol(s.fraction[4], 0.5, 1e-15);
    /* without a callback the options themselves are passed on */
    ck_assert_ptr_eq(lr_opts_nested(NULL, 0, 0.5, &nested), NULL);
    lowrank_opts *plain;
    ck_assert_ok(lowrank_opts_new(&plain));
    ck_assert_ptr_eq(lr_opts_nested(plain, 0, 0.5, &nested), plain);
    lowrank_opts_free(plain);
    lowrank_opts_free(o);
}
END_TEST

START_TEST(a_cancel_is_reported)
{
    seen s = {0};
    lowrank_opts *o = opts_reporting_to(&s, 1);
    lr_progress pr;
    lr_progress_begin(&pr, o, "lowrank_test");
    sleep_ms(60);
    ck_assert_fails(lr_progress_report(&pr, 0.25), LOWRANK_ECANCELED);
    ck_assert_str_eq(lowrank_last_error(), "lowrank_test: canceled by the progress callback at 25%");
    lowrank_opts_free(o);
}
END_TEST

/* The call is canceled at the callback's call cancel_at: it returns
 * LOWRANK_ECANCELED within 0.5 s of the cancel, with its output NULL. */
static void assert_canceled(int rc, const void *out, const seen *s)
{
    double now = lr_now();
    ck_assert_msg(s->calls >= s->cancel_at, "the callback was called %d times", s->calls);
    ck_assert_int_eq(rc, LOWRANK_ECANCELED);
    ck_assert_ptr_null(out);
    ck_assert_msg(now - s->canceled_time < 0.5, "returned %.3f s after the cancel",
                  now - s->canceled_time);
    assert_fractions_ordered(s);
}

START_TEST(svd_exact_cancels)
{
    seen s = {0};
    lowrank_opts *o = opts_reporting_everything_to(&s, 1);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, LOWRANK_METHOD_EXACT));
    /* square enough for the Lanczos route, float32 for the Gram panels */
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 400, 300, 1);
    lowrank_factors *f = (lowrank_factors *)&s;
    int rc = lowrank_svd(a, 20, o, &f);
    assert_canceled(rc, f, &s);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

START_TEST(svd_randomized_cancels)
{
    seen s = {0};
    lowrank_opts *o = opts_reporting_everything_to(&s, 2);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, LOWRANK_METHOD_RANDOMIZED));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_POWER_ITER, 4));
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 300, 200, 2);
    lowrank_factors *f = (lowrank_factors *)&s;
    int rc = lowrank_svd(a, 20, o, &f);
    assert_canceled(rc, f, &s);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

START_TEST(mvee_cancels)
{
    seen s = {0};
    lowrank_opts *o = opts_reporting_everything_to(&s, 3);
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_EPS, 1e-9));
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 500, 6, 3);
    lowrank_ellipsoid *e = (lowrank_ellipsoid *)&s;
    int rc = lowrank_mvee(a, o, &e);
    assert_canceled(rc, e, &s);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

START_TEST(rounding_cancels)
{
    const int64_t methods[] = {LOWRANK_METHOD_LEWIS, LOWRANK_METHOD_LOWNER};
    for (int i = 0; i < 2; i++) {
        seen s = {0};
        lowrank_opts *o = opts_reporting_everything_to(&s, 1);
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, methods[i]));
        lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 300, 8, 4);
        lowrank_matrix *g = (lowrank_matrix *)&s;
        double alpha = -1;
        int rc = lowrank_lp_rounding(a, 1.0, o, &g, &alpha);
    assert_canceled(rc, g, &s);
        ck_assert_double_eq(alpha, -1);
        lowrank_matrix_free(a);
        lowrank_opts_free(o);
    }
}
END_TEST

START_TEST(coreset_cancels)
{
    seen s = {0};
    lowrank_opts *o = opts_reporting_everything_to(&s, 1);
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 300, 8, 5);
    lowrank_coreset *c = (lowrank_coreset *)&s;
    int rc = lowrank_coreset_build(a, 1.0, 50, o, &c);
    assert_canceled(rc, c, &s);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

/* The same at every one of an lp fit's reports: the rounding's, nested, and
 * the refinement's. */
START_TEST(lp_cancels_at_any_report)
{
    for (int at = 1;; at++) {
        seen s = {0};
        lowrank_opts *o = opts_reporting_everything_to(&s, at);
        lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 60, 12, 8);
        lowrank_factors *f = (lowrank_factors *)&s;
        int rc = lowrank_lp(a, 2, 1.0, o, &f);
        lowrank_matrix_free(a);
        lowrank_opts_free(o);
        lowrank_factors_free(f);
        if (rc == LOWRANK_OK) { /* past the last report */
            ck_assert_int_lt(s.calls, at);
            ck_assert_int_gt(at, 3);
            break;
        }
        assert_canceled(rc, f, &s);
    }
}
END_TEST

/* The case, at the real report interval: an lp fit of a
 * 1500 x 1500 matrix canceled on the callback's second call.  (Not under
 * valgrind, where it would take minutes and its timing means nothing.) */
START_TEST(lp_cancels_on_the_second_report)
{
    if (RUNNING_ON_VALGRIND)
        return;
    seen s = {0};
    lowrank_opts *o = opts_reporting_to(&s, 2);
    /* refinement to the end, so that the fit lasts for two reports however
     * fast its other steps become */
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_REFINE_ITER, 1000));
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_REFINE_TOL, 0));
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 1500, 1500, 6);
    lowrank_factors *f = (lowrank_factors *)&s;
    int rc = lowrank_lp(a, 5, 1.0, o, &f);
    assert_canceled(rc, f, &s);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

/* Without a cancel the reports come in order and the result is the one
 * computed without a callback. */
START_TEST(reports_do_not_change_results)
{
    seen s = {0};
    lowrank_opts *o = opts_reporting_everything_to(&s, 0);
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 200, 30, 7);
    lowrank_factors *with, *without;
    ck_assert_ok(lowrank_lp(a, 4, 1.0, o, &with));
    ck_assert_ok(lowrank_lp(a, 4, 1.0, NULL, &without));
    assert_fractions_ordered(&s);
    ck_assert_int_gt(s.calls, 1);
    const lowrank_matrix *s1 = lowrank_factors_s(with), *s2 = lowrank_factors_s(without);
    for (int64_t i = 0; i < 4; i++) {
        double x, y;
        ck_assert_ok(lowrank_matrix_get(s1, i, 0, &x));
        ck_assert_ok(lowrank_matrix_get(s2, i, 0, &y));
        ck_assert_double_eq(x, y);
    }
    lowrank_factors_free(with);
    lowrank_factors_free(without);
    lowrank_matrix_free(a);
    lowrank_opts_free(o);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("progress");
    const struct {
        const char *name;
        const TTest *test;
    } tests[] = {
        {"set_progress_needs_options", set_progress_needs_options},
        {"reports_are_mapped_ordered_and_rate_limited", reports_are_mapped_ordered_and_rate_limited},
        {"a_cancel_is_reported", a_cancel_is_reported},
        {"svd_exact_cancels", svd_exact_cancels},
        {"svd_randomized_cancels", svd_randomized_cancels},
        {"mvee_cancels", mvee_cancels},
        {"rounding_cancels", rounding_cancels},
        {"coreset_cancels", coreset_cancels},
        {"lp_cancels_at_any_report", lp_cancels_at_any_report},
        {"lp_cancels_on_the_second_report", lp_cancels_on_the_second_report},
        {"reports_do_not_change_results", reports_do_not_change_results},
    };
    /* one case per test, so that CK_RUN_CASE=name runs one */
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        TCase *tc = tcase_create(tests[i].name);
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, tests[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void) { return run_suite(make_suite()); }
