/*
 * check_random.c - the internal generator: reproducible from the seed, and
 * with the moments its distributions must have.
 */
#include <math.h>

#include "random.h"
#include "testutil.h"

START_TEST(same_seed_same_stream)
{
    lr_rng a, b, c;
    lr_rng_seed(&a, 42);
    lr_rng_seed(&b, 42);
    lr_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = lr_rng_u64(&a);
        ck_assert_uint_eq(x, lr_rng_u64(&b));
        differ += x != lr_rng_u64(&c);
    }
    ck_assert_int_gt(differ, 990);
}
END_TEST

/* Mean and variance of 200000 draws within 5 standard errors. */
START_TEST(moments)
{
    lr_rng r;
    lr_rng_seed(&r, 7);
    const int n = 200000;
    double su = 0, suu = 0, sn = 0, snn = 0, s4 = 0;
    for (int i = 0; i < n; i++) {
        double u = lr_rng_uniform(&r), z = lr_rng_normal(&r);
        ck_assert(u >= 0 && u < 1);
        su += u;
        suu += u * u;
        sn += z;
        snn += z * z;
        s4 += z * z * z * z;
    }
    ck_assert_double_eq_tol(su / n, 0.5, 5 * sqrt(1.0 / 12 / n));
    ck_assert_double_eq_tol(suu / n - (su / n) * (su / n), 1.0 / 12, 5 * sqrt(1.0 / 180 / n));
    ck_assert_double_eq_tol(sn / n, 0, 5 / sqrt(n));
    ck_assert_double_eq_tol(snn / n, 1, 5 * sqrt(2.0 / n));
    ck_assert_double_eq_tol(s4 / n, 3, 5 * sqrt(96.0 / n));
}
END_TEST

/* fill_normal gives the same numbers in both dtypes, odd lengths included. */
START_TEST(fill_matches_dtypes)
{
    lr_rng a, b;
    lr_rng_seed(&a, 9);
    lr_rng_seed(&b, 9);
    float f[7];
    double d[7];
    lr_rng_fill_normal(&a, LOWRANK_FLOAT32, f, 7);
    lr_rng_fill_normal(&b, LOWRANK_FLOAT64, d, 7);
    for (int i = 0; i < 7; i++)
        ck_assert_float_eq(f[i], (float)d[i]);
    ck_assert_uint_eq(lr_rng_u64(&a), lr_rng_u64(&b));
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("random");
    TCase *tc = tcase_create("random");
    tcase_add_test(tc, same_seed_same_stream);
    tcase_add_test(tc, moments);
    tcase_add_test(tc, fill_matches_dtypes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
