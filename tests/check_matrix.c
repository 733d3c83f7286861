/*
 * check_matrix.c - matrix handles: creation, wrapping, access, copies and
 * conversions, and their error paths.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const lowrank_dtype dtypes[] = {LOWRANK_FLOAT32, LOWRANK_FLOAT64};
static const lowrank_layout layouts[] = {LOWRANK_ROW_MAJOR, LOWRANK_COL_MAJOR};

START_TEST(new_is_zero_and_compact)
{
    lowrank_dtype t = dtypes[_i / 2];
    lowrank_layout l = layouts[_i % 2];
    lowrank_matrix *m;
    ck_assert_ok(lowrank_matrix_new(t, l, 3, 5, &m));
    ck_assert_int_eq(lowrank_matrix_rows(m), 3);
    ck_assert_int_eq(lowrank_matrix_cols(m), 5);
    ck_assert_int_eq(lowrank_matrix_dtype(m), t);
    ck_assert_int_eq(lowrank_matrix_layout(m), l);
    ck_assert_int_eq(lowrank_matrix_ld(m), l == LOWRANK_ROW_MAJOR ? 5 : 3);
    for (int64_t i = 0; i < 3; i++)
        for (int64_t j = 0; j < 5; j++) {
            double v = -1;
            ck_assert_ok(lowrank_matrix_get(m, i, j, &v));
            ck_assert_double_eq(v, 0);
        }
    lowrank_matrix_free(m);
}
END_TEST

START_TEST(new_errors)
{
    lowrank_matrix *m = (lowrank_matrix *)&m;
    ck_assert_fails(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 2, 2, NULL),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_new((lowrank_dtype)0, LOWRANK_ROW_MAJOR, 2, 2, &m),
                    LOWRANK_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_fails(lowrank_matrix_new(LOWRANK_FLOAT64, (lowrank_layout)100, 2, 2, &m),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 0, 2, &m),
                    LOWRANK_ESIZE);
    ck_assert_fails(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 2, -1, &m),
                    LOWRANK_ESIZE);
    ck_assert_fails(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, INT64_MAX, 2, &m),
                    LOWRANK_EOVERFLOW);
    ck_assert_fails(
        lowrank_matrix_new(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, INT64_C(1) << 31, INT64_C(1) << 31, &m),
        LOWRANK_EOVERFLOW);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(wrap_reads_and_writes_caller_memory)
{
    /* a 2 x 3 row-major block inside a 2 x 4 array, and its column-major twin */
    double rm[8] = {1, 2, 3, -9, 4, 5, 6, -9};
    double cm[9] = {1, 4, -9, 2, 5, -9, 3, 6, -9};
    lowrank_matrix *a, *b;
    ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 2, 3, rm, 4, &a));
    ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 2, 3, cm, 3, &b));
    ck_assert_ptr_eq(lowrank_matrix_data(a), rm);
    ck_assert_int_eq(lowrank_matrix_ld(a), 4);
    for (int64_t i = 0; i < 2; i++)
        for (int64_t j = 0; j < 3; j++) {
            double x, y;
            ck_assert_ok(lowrank_matrix_get(a, i, j, &x));
            ck_assert_ok(lowrank_matrix_get(b, i, j, &y));
            ck_assert_double_eq(x, (double)(3 * i + j + 1));
            ck_assert_double_eq(x, y);
        }
    ck_assert_ok(lowrank_matrix_set(a, 1, 2, 60));
    ck_assert_double_eq(rm[6], 60);
    ck_assert_ok(lowrank_matrix_set(b, 1, 0, 40));
    ck_assert_double_eq(cm[1], 40);
    ck_assert_double_eq(rm[3], -9); /* padding untouched */
    lowrank_matrix_free(a);
    lowrank_matrix_free(b);
    ck_assert_double_eq(rm[0], 1); /* the caller's memory outlives the handle */
}
END_TEST

START_TEST(wrap_errors)
{
    float data[6];
    lowrank_matrix *m = (lowrank_matrix *)&m;
    ck_assert_fails(lowrank_matrix_wrap(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 2, 3, NULL, 3, &m),
                    LOWRANK_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_fails(lowrank_matrix_wrap(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 2, 3, data, 3, NULL),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_wrap((lowrank_dtype)3, LOWRANK_ROW_MAJOR, 2, 3, data, 3, &m),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_wrap(LOWRANK_FLOAT32, (lowrank_layout)0, 2, 3, data, 3, &m),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_wrap(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 2, 3, data, 2, &m),
                    LOWRANK_ESIZE);
    ck_assert_str_eq(lowrank_last_error(), "ld = 2 is less than cols = 3");
    ck_assert_fails(lowrank_matrix_wrap(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 2, 3, data, 1, &m),
                    LOWRANK_ESIZE);
    ck_assert_fails(lowrank_matrix_wrap(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 0, 3, data, 1, &m),
                    LOWRANK_ESIZE);
    ck_assert_fails(lowrank_matrix_wrap(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 2, 3, data, INT64_MAX,
                                        &m),
                    LOWRANK_EOVERFLOW);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(accessors_accept_null)
{
    ck_assert_int_eq(lowrank_matrix_rows(NULL), 0);
    ck_assert_int_eq(lowrank_matrix_cols(NULL), 0);
    ck_assert_int_eq(lowrank_matrix_ld(NULL), 0);
    ck_assert_int_eq(lowrank_matrix_dtype(NULL), 0);
    ck_assert_int_eq(lowrank_matrix_layout(NULL), 0);
    ck_assert_ptr_null(lowrank_matrix_data(NULL));
    lowrank_matrix_free(NULL);
}
END_TEST

START_TEST(get_set_errors)
{
    lowrank_matrix *m;
    double v = 7;
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 2, 2, &m));
    ck_assert_fails(lowrank_matrix_get(NULL, 0, 0, &v), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_get(m, 0, 0, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_get(m, 2, 0, &v), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_matrix_get(m, 0, -1, &v), LOWRANK_ERANGE);
    ck_assert_double_eq(v, 7);
    ck_assert_fails(lowrank_matrix_set(NULL, 0, 0, 1), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_set(m, -1, 0, 1), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_matrix_set(m, 0, 2, 1), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_matrix_set(m, 0, 0, 1e39), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_matrix_set(m, 0, 0, -1e39), LOWRANK_ERANGE);
    ck_assert_ok(lowrank_matrix_get(m, 0, 0, &v));
    ck_assert_double_eq(v, 0);
    /* FLT_MAX itself, NaN and infinity are representable */
    ck_assert_ok(lowrank_matrix_set(m, 0, 0, FLT_MAX));
    ck_assert_ok(lowrank_matrix_set(m, 0, 1, INFINITY));
    ck_assert_ok(lowrank_matrix_set(m, 1, 1, NAN));
    ck_assert_ok(lowrank_matrix_get(m, 0, 1, &v));
    ck_assert(isinf(v));
    lowrank_matrix_free(m);
}
END_TEST

/* Convert every dtype/layout into every other and back: values survive
 * (float32 rounding aside) and the result is compact. */
START_TEST(convert_round_trip)
{
    lowrank_matrix *src = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 7, 4, 42);
    for (int a = 0; a < 4; a++) {
        lowrank_matrix *x, *y;
        ck_assert_ok(lowrank_matrix_convert(src, dtypes[a / 2], layouts[a % 2], &x));
        ck_assert_int_eq(lowrank_matrix_ld(x), layouts[a % 2] == LOWRANK_ROW_MAJOR ? 4 : 7);
        ck_assert_ok(lowrank_matrix_copy(x, &y));
        ck_assert_int_eq(lowrank_matrix_dtype(y), dtypes[a / 2]);
        ck_assert_int_eq(lowrank_matrix_layout(y), layouts[a % 2]);
        ck_assert_ptr_ne(lowrank_matrix_data(y), lowrank_matrix_data(x));
        for (int64_t i = 0; i < 7; i++)
            for (int64_t j = 0; j < 4; j++) {
                double s, v;
                ck_assert_ok(lowrank_matrix_get(src, i, j, &s));
                ck_assert_ok(lowrank_matrix_get(y, i, j, &v));
                ck_assert_double_eq(v, dtypes[a / 2] == LOWRANK_FLOAT32 ? (double)(float)s : s);
            }
        lowrank_matrix_free(x);
        lowrank_matrix_free(y);
    }
    lowrank_matrix_free(src);
}
END_TEST

START_TEST(copy_of_a_strided_view_is_compact)
{
    float data[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    lowrank_matrix *v, *c;
    /* rows 0..2 of columns 0..1 of a 4 x 3 column-major array */
    ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 3, 2, data, 4, &v));
    ck_assert_ok(lowrank_matrix_copy(v, &c));
    ck_assert_int_eq(lowrank_matrix_ld(c), 3);
    const float *d = lowrank_matrix_data(c);
    const float expect[6] = {1, 2, 3, 5, 6, 7};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(d[i], expect[i]);
    lowrank_matrix_free(v);
    lowrank_matrix_free(c);
}
END_TEST

START_TEST(convert_errors)
{
    lowrank_matrix *m, *out = (lowrank_matrix *)&out;
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 2, 2, &m));
    ck_assert_ok(lowrank_matrix_set(m, 1, 0, 1e300));
    ck_assert_fails(lowrank_matrix_convert(m, LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, &out),
                    LOWRANK_ERANGE);
    ck_assert_str_eq(lowrank_last_error(), "element (1, 0) = 1e+300 overflows float32");
    ck_assert_ptr_null(out);
    ck_assert_fails(lowrank_matrix_convert(NULL, LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, &out),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_convert(m, LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, NULL),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_convert(m, (lowrank_dtype)7, LOWRANK_ROW_MAJOR, &out),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_convert(m, LOWRANK_FLOAT64, (lowrank_layout)7, &out),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_copy(NULL, &out), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_copy(m, NULL), LOWRANK_EINVAL);
    ck_assert_ptr_null(out);
    lowrank_matrix_free(m);
}
END_TEST

static int new_matrix(void *ctx)
{
    (void)ctx;
    lowrank_matrix *m = (lowrank_matrix *)&m;
    int rc = lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 3, 3, &m);
    rc = output_status(rc, m);
    lowrank_matrix_free(m);
    return rc;
}

static int wrap_matrix(void *ctx)
{
    lowrank_matrix *m = (lowrank_matrix *)&m;
    int rc = lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 1, 1, ctx, 1, &m);
    rc = output_status(rc, m);
    lowrank_matrix_free(m);
    return rc;
}

static int convert_matrix(void *ctx)
{
    lowrank_matrix *m = (lowrank_matrix *)&m;
    int rc = lowrank_matrix_convert(ctx, LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, &m);
    rc = output_status(rc, m);
    lowrank_matrix_free(m);
    return rc;
}

START_TEST(allocation_failure)
{
    double one = 1;
    ck_assert_int_eq(check_alloc_failures(new_matrix, NULL), 2);
    ck_assert_int_eq(check_alloc_failures(wrap_matrix, &one), 1);
    lowrank_matrix *src = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 4, 4, 1);
    ck_assert_int_eq(check_alloc_failures(convert_matrix, src), 2);
    lowrank_matrix_free(src);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("matrix");
    TCase *tc = tcase_create("matrix");
    tcase_add_loop_test(tc, new_is_zero_and_compact, 0, 4);
    tcase_add_test(tc, new_errors);
    tcase_add_test(tc, wrap_reads_and_writes_caller_memory);
    tcase_add_test(tc, wrap_errors);
    tcase_add_test(tc, accessors_accept_null);
    tcase_add_test(tc, get_set_errors);
    tcase_add_test(tc, convert_round_trip);
    tcase_add_test(tc, copy_of_a_strided_view_is_compact);
    tcase_add_test(tc, convert_errors);
    tcase_add_test(tc, allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
