/*
 * check_opts.c - the options handle: defaults, types, ranges, errors.
 */
#include <math.h>

#include "testutil.h"

START_TEST(defaults_match_the_header)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    int64_t i;
    double d;
    /* defaults as documented in lowrank.h, from a handle and from NULL */
    const lowrank_opts *both[2] = {o, NULL};
    for (int k = 0; k < 2; k++) {
        ck_assert_ok(lowrank_opts_get_int(both[k], LOWRANK_OPT_METHOD, &i));
        ck_assert_int_eq(i, LOWRANK_METHOD_AUTO);
        ck_assert_ok(lowrank_opts_get_int(both[k], LOWRANK_OPT_SEED, &i));
        ck_assert_int_eq(i, 20261128);
        ck_assert_ok(lowrank_opts_get_double(both[k], LOWRANK_OPT_TOLERANCE, &d));
        ck_assert_double_eq(d, 0);
        ck_assert_ok(lowrank_opts_get_int(both[k], LOWRANK_OPT_MAX_ITER, &i));
        ck_assert_int_eq(i, 0);
        ck_assert_ok(lowrank_opts_get_int(both[k], LOWRANK_OPT_OVERSAMPLING, &i));
        ck_assert_int_eq(i, -1);
        ck_assert_ok(lowrank_opts_get_int(both[k], LOWRANK_OPT_POWER_ITER, &i));
        ck_assert_int_eq(i, -1);
        ck_assert_ok(lowrank_opts_get_double(both[k], LOWRANK_OPT_EPS, &d));
        ck_assert_double_eq(d, 1e-3);
        ck_assert_ok(lowrank_opts_get_int(both[k], LOWRANK_OPT_OBJECTIVE, &i));
        ck_assert_int_eq(i, LOWRANK_OBJECTIVE_ROWS);
        ck_assert_ok(lowrank_opts_get_int(both[k], LOWRANK_OPT_ORIENTATION, &i));
        ck_assert_int_eq(i, LOWRANK_ORIENT_ROWS);
        ck_assert_ok(lowrank_opts_get_int(both[k], LOWRANK_OPT_REFINE_ITER, &i));
        ck_assert_int_eq(i, -1);
        ck_assert_ok(lowrank_opts_get_double(both[k], LOWRANK_OPT_REFINE_TOL, &d));
        ck_assert_double_eq(d, 1e-6);
    }
    lowrank_opts_free(o);
}
END_TEST

START_TEST(set_then_get)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, LOWRANK_METHOD_RANDOMIZED));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_SEED, INT64_MIN));
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, 0.25));
    int64_t i;
    double d;
    ck_assert_ok(lowrank_opts_get_int(o, LOWRANK_OPT_METHOD, &i));
    ck_assert_int_eq(i, LOWRANK_METHOD_RANDOMIZED);
    ck_assert_ok(lowrank_opts_get_int(o, LOWRANK_OPT_SEED, &i));
    ck_assert_int_eq(i, INT64_MIN);
    ck_assert_ok(lowrank_opts_get_double(o, LOWRANK_OPT_TOLERANCE, &d));
    ck_assert_double_eq(d, 0.25);
    /* a failed set leaves the value as it was */
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, 1.0), LOWRANK_ERANGE);
    ck_assert_ok(lowrank_opts_get_double(o, LOWRANK_OPT_TOLERANCE, &d));
    ck_assert_double_eq(d, 0.25);
    lowrank_opts_free(o);
}
END_TEST

START_TEST(errors)
{
    lowrank_opts *o;
    ck_assert_fails(lowrank_opts_new(NULL), LOWRANK_EINVAL);
    ck_assert_ok(lowrank_opts_new(&o));
    int64_t i;
    double d;
    ck_assert_fails(lowrank_opts_set_int(NULL, LOWRANK_OPT_SEED, 1), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_opts_set_double(NULL, LOWRANK_OPT_EPS, 1), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_opts_set_int(o, (lowrank_option)0, 1), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_opts_set_int(o, (lowrank_option)9999, 1), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_opts_set_int(o, (lowrank_option)-3, 1), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_opts_get_int(o, (lowrank_option)9999, &i), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_opts_get_double(NULL, (lowrank_option)9999, &d), LOWRANK_EINVAL);
    /* wrong type */
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_TOLERANCE, 0), LOWRANK_EINVAL);
    ck_assert_str_eq(lowrank_last_error(), "option LOWRANK_OPT_TOLERANCE takes a double value");
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_SEED, 1), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_opts_get_double(o, LOWRANK_OPT_METHOD, &d), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_opts_get_int(o, LOWRANK_OPT_EPS, &i), LOWRANK_EINVAL);
    /* NULL value */
    ck_assert_fails(lowrank_opts_get_int(o, LOWRANK_OPT_SEED, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_opts_get_double(o, LOWRANK_OPT_EPS, NULL), LOWRANK_EINVAL);
    /* ranges */
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, 5), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD, -1), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_OBJECTIVE, 0), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_ORIENTATION, 3), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_MAX_ITER, -1), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_OVERSAMPLING, -2), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, -0.1), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_TOLERANCE, NAN), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_EPS, 0), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_EPS, INFINITY), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_REFINE_TOL, -1), LOWRANK_ERANGE);
    lowrank_opts_free(o);
    lowrank_opts_free(NULL);
}
END_TEST

START_TEST(copy_holds_every_value)
{
    lowrank_opts *o, *c, *d;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_SEED, 7));
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_EPS, 0.5));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_MEDIAN, 3));
    ck_assert_ok(lowrank_opts_copy(o, &c));
    int64_t i;
    double x;
    ck_assert_ok(lowrank_opts_get_int(c, LOWRANK_OPT_SEED, &i));
    ck_assert_int_eq(i, 7);
    ck_assert_ok(lowrank_opts_get_double(c, LOWRANK_OPT_EPS, &x));
    ck_assert_double_eq(x, 0.5);
    ck_assert_ok(lowrank_opts_get_int(c, LOWRANK_OPT_BG_MEDIAN, &i));
    ck_assert_int_eq(i, 3);
    /* the copy is independent of its source */
    ck_assert_ok(lowrank_opts_set_int(c, LOWRANK_OPT_SEED, 8));
    ck_assert_ok(lowrank_opts_get_int(o, LOWRANK_OPT_SEED, &i));
    ck_assert_int_eq(i, 7);
    /* NULL: the defaults */
    ck_assert_ok(lowrank_opts_copy(NULL, &d));
    ck_assert_ok(lowrank_opts_get_int(d, LOWRANK_OPT_SEED, &i));
    ck_assert_int_eq(i, 20261128);
    ck_assert_fails(lowrank_opts_copy(o, NULL), LOWRANK_EINVAL);
    lowrank_opts_free(o);
    lowrank_opts_free(c);
    lowrank_opts_free(d);
}
END_TEST

static int copy_opts(void *ctx)
{
    lowrank_opts *o = (lowrank_opts *)&o;
    int rc = lowrank_opts_copy(ctx, &o);
    rc = output_status(rc, o);
    lowrank_opts_free(o);
    return rc;
}

static int new_opts(void *ctx)
{
    (void)ctx;
    lowrank_opts *o = (lowrank_opts *)&o; /* garbage: must become NULL on failure */
    int rc = lowrank_opts_new(&o);
    rc = output_status(rc, o);
    lowrank_opts_free(o);
    return rc;
}

START_TEST(allocation_failure)
{
    ck_assert_int_eq(check_alloc_failures(new_opts, NULL), 1);
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_int_eq(check_alloc_failures(copy_opts, o), 1);
    lowrank_opts_free(o);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("opts");
    TCase *tc = tcase_create("opts");
    tcase_add_test(tc, defaults_match_the_header);
    tcase_add_test(tc, set_then_get);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, copy_holds_every_value);
    tcase_add_test(tc, allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
