/*
 * check_npy.c - .npy reading and writing: files written by numpy (the
 * independent truth), round trips, and hostile or truncated input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

static lowrank_matrix *load_data(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", data_dir(), name);
    lowrank_matrix *m;
    ck_assert_ok(lowrank_matrix_load_npy(path, &m));
    return m;
}

/* make_npy.py writes element (i, j) = i * 100 + j + 0.25. */
static void assert_grid(const lowrank_matrix *m, int64_t rows, int64_t cols, lowrank_dtype t,
                        lowrank_layout l)
{
    ck_assert_int_eq(lowrank_matrix_rows(m), rows);
    ck_assert_int_eq(lowrank_matrix_cols(m), cols);
    ck_assert_int_eq(lowrank_matrix_dtype(m), t);
    ck_assert_int_eq(lowrank_matrix_layout(m), l);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) {
            double v;
            ck_assert_ok(lowrank_matrix_get(m, i, j, &v));
            ck_assert_double_eq(v, (double)(i * 100 + j) + 0.25);
        }
}

START_TEST(reads_what_numpy_writes)
{
    static const struct {
        const char *name;
        int64_t rows, cols;
        lowrank_dtype t;
        lowrank_layout l;
    } files[] = {
        {"v1_f8_c.npy", 3, 4, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR},
        {"v1_f4_f_be.npy", 3, 4, LOWRANK_FLOAT32, LOWRANK_COL_MAJOR},
        {"v2_f8_f.npy", 5, 2, LOWRANK_FLOAT64, LOWRANK_COL_MAJOR},
        {"v3_f4_c.npy", 2, 6, LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR},
        {"v1_f8_be_c.npy", 4, 3, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR},
        {"v1_f8_1d.npy", 5, 1, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR},
    };
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        lowrank_matrix *m = load_data(files[k].name);
        assert_grid(m, files[k].rows, files[k].cols, files[k].t, files[k].l);
        lowrank_matrix_free(m);
    }
}
END_TEST

START_TEST(rejects_other_arrays)
{
    static const char *names[] = {"v1_i8.npy", "v1_c16.npy", "v1_f8_3d.npy", "v1_f8_0d.npy",
                                  "v1_f8_empty.npy"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", data_dir(), names[k]);
        lowrank_matrix *m = (lowrank_matrix *)&m;
        ck_assert_fails(lowrank_matrix_load_npy(path, &m), LOWRANK_EUNSUPPORTED);
        ck_assert_ptr_null(m);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/v1_i8.npy", data_dir());
    lowrank_matrix *m;
    lowrank_matrix_load_npy(path, &m);
    ck_assert_str_eq(lowrank_last_error(),
                     ".npy dtype '<i8' is not float32 or float64 ('<f4', '>f4', '<f8', '>f8')");
}
END_TEST

/* Our writer produces numpy's own bytes for the same array. */
START_TEST(writes_what_numpy_writes)
{
    static const char *names[] = {"v1_f8_c.npy", "v1_f4_f.npy"};
    for (size_t k = 0; k < 2; k++) {
        char src[4096], dst[4096];
        snprintf(src, sizeof src, "%s/%s", data_dir(), names[k]);
        test_path(dst, sizeof dst, "copy.npy");
        lowrank_matrix *m = load_data(names[k]);
        ck_assert_ok(lowrank_matrix_save_npy(m, dst));
        size_t la, lb;
        unsigned char *a = read_bytes(src, &la), *b = read_bytes(dst, &lb);
        ck_assert_uint_eq(la, lb);
        ck_assert_int_eq(memcmp(a, b, la), 0);
        free(a);
        free(b);
        lowrank_matrix_free(m);
    }
}
END_TEST

START_TEST(round_trip_every_kind)
{
    static const lowrank_dtype t[] = {LOWRANK_FLOAT32, LOWRANK_FLOAT64};
    static const lowrank_layout l[] = {LOWRANK_ROW_MAJOR, LOWRANK_COL_MAJOR};
    lowrank_matrix *src = random_matrix(t[_i / 2], l[_i % 2], 37, 11, 7), *back;
    char path[4096];
    test_path(path, sizeof path, "rt.npy");
    ck_assert_ok(lowrank_matrix_save_npy(src, path));
    ck_assert_ok(lowrank_matrix_load_npy(path, &back));
    ck_assert_int_eq(lowrank_matrix_layout(back), l[_i % 2]);
    ck_assert_int_eq(lowrank_matrix_dtype(back), t[_i / 2]);
    size_t bytes = 37 * 11 * (t[_i / 2] == LOWRANK_FLOAT32 ? 4 : 8);
    ck_assert_int_eq(memcmp(lowrank_matrix_data(src), lowrank_matrix_data(back), bytes), 0);
    lowrank_matrix_free(src);
    lowrank_matrix_free(back);
}
END_TEST

START_TEST(round_trip_strided_view)
{
    double data[4 * 5];
    for (int i = 0; i < 20; i++)
        data[i] = i;
    lowrank_matrix *v, *back;
    /* 3 x 4 view with ld 5 in row-major layout */
    ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 3, 4, data, 5, &v));
    char path[4096];
    test_path(path, sizeof path, "view.npy");
    ck_assert_ok(lowrank_matrix_save_npy(v, path));
    ck_assert_ok(lowrank_matrix_load_npy(path, &back));
    for (int64_t i = 0; i < 3; i++)
        for (int64_t j = 0; j < 4; j++) {
            double x;
            ck_assert_ok(lowrank_matrix_get(back, i, j, &x));
            ck_assert_double_eq(x, (double)(i * 5 + j));
        }
    lowrank_matrix_free(v);
    lowrank_matrix_free(back);
}
END_TEST

/* A valid version-1 file for a 2 x 2 float64 array with the given header
 * dictionary text (padded by the caller's choice of text). */
static size_t make_file(unsigned char *buf, const char *dict, size_t data_bytes)
{
    size_t hlen = strlen(dict);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, dict, hlen);
    memset(buf + 10 + hlen, 0x3f, data_bytes);
    return 10 + hlen + data_bytes;
}

/* Load from memory and from a file; both must fail with code. */
static void assert_rejected(const unsigned char *buf, size_t len, int code)
{
    lowrank_matrix *m = (lowrank_matrix *)&m;
    int rc = lowrank_matrix_load_npy_mem(buf, (int64_t)len, &m);
    ck_assert_msg(rc == code, "%zu-byte input starting '%.40s': %d (%s), expected %d", len,
                  len > 10 ? (const char *)buf + 10 : "", rc, lowrank_last_error(), code);
    ck_assert_ptr_null(m);
    char path[4096];
    test_path(path, sizeof path, "hostile.npy");
    write_bytes(path, buf, len);
    m = (lowrank_matrix *)&m;
    ck_assert_fails(lowrank_matrix_load_npy(path, &m), code);
    ck_assert_ptr_null(m);
}

START_TEST(hostile_headers)
{
    static const struct {
        const char *dict;
        size_t data;
        int code;
    } cases[] = {
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n", 32, LOWRANK_OK},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n", 31, LOWRANK_EFORMAT},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n", 33, LOWRANK_EFORMAT},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", 32, LOWRANK_EFORMAT},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n", 32,
         LOWRANK_EOVERFLOW},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999, 1), }\n", 32,
         LOWRANK_EOVERFLOW},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976, 2), }\n", 32,
         LOWRANK_EOVERFLOW},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (-2, 2), }\n", 32, LOWRANK_EFORMAT},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 1), }\n", 32,
         LOWRANK_EUNSUPPORTED},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), 'x': 1}\n", 32,
         LOWRANK_EFORMAT},
        {"{'descr': '<f8', 'descr': '<f8', 'shape': (2, 2), }\n", 32, LOWRANK_EFORMAT},
        {"{'descr': '<f8', 'shape': (2, 2), }\n", 32, LOWRANK_EFORMAT},
        {"{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2, 2), }\n", 32, LOWRANK_EFORMAT},
        {"{'descr': '<f8", 0, LOWRANK_EFORMAT},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2 }\n", 32, LOWRANK_EFORMAT},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), } junk\n", 32,
         LOWRANK_EFORMAT},
        {"{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }\n", 32,
         LOWRANK_EUNSUPPORTED},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 2), }\n", 0,
         LOWRANK_EUNSUPPORTED},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': 4, }\n", 32, LOWRANK_EFORMAT},
        {"[1, 2]\n", 32, LOWRANK_EFORMAT},
        {"", 32, LOWRANK_EFORMAT},
        {"{", 0, LOWRANK_EFORMAT},
    };
    unsigned char buf[512];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t len = make_file(buf, cases[k].dict, cases[k].data);
        if (cases[k].code == LOWRANK_OK) {
            lowrank_matrix *m;
            ck_assert_ok(lowrank_matrix_load_npy_mem(buf, (int64_t)len, &m));
            lowrank_matrix_free(m);
        } else {
            assert_rejected(buf, len, cases[k].code);
        }
    }
}
END_TEST

START_TEST(hostile_preludes)
{
    unsigned char buf[512];
    size_t len = make_file(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n", 32);
    unsigned char bad[512];
    memcpy(bad, buf, len);
    bad[1] = 'X'; /* magic */
    assert_rejected(bad, len, LOWRANK_EFORMAT);
    memcpy(bad, buf, len);
    bad[6] = 4; /* version 4.0 */
    assert_rejected(bad, len, LOWRANK_EUNSUPPORTED);
    memcpy(bad, buf, len);
    bad[7] = 1; /* version 1.1 */
    assert_rejected(bad, len, LOWRANK_EUNSUPPORTED);
    memcpy(bad, buf, len);
    bad[8] = 0xff; /* header longer than the file */
    bad[9] = 0xff;
    assert_rejected(bad, len, LOWRANK_EFORMAT);
    memcpy(bad, buf, len);
    bad[8] = 1; /* a header of one byte */
    bad[9] = 0;
    assert_rejected(bad, len, LOWRANK_EFORMAT);
    /* version 2.0 with a 4 GiB header length */
    static const unsigned char v2[] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0xff, '{'};
    assert_rejected(v2, sizeof v2, LOWRANK_EFORMAT);
    ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "exceeds"));
    assert_rejected(v2, 11, LOWRANK_EFORMAT); /* prelude cut short */
    assert_rejected(buf, 0, LOWRANK_EFORMAT);
}
END_TEST

/* Every prefix of a valid file is an error, never a crash or an over-read
 * (AddressSanitizer and valgrind watch the reads). */
START_TEST(every_truncation_is_an_error)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/v2_f8_f.npy", data_dir());
    size_t len;
    unsigned char *whole = read_bytes(path, &len);
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *prefix = malloc(cut ? cut : 1); /* exact size: over-reads are caught */
        ck_assert_ptr_nonnull(prefix);
        memcpy(prefix, whole, cut);
        assert_rejected(prefix, cut, LOWRANK_EFORMAT);
        free(prefix);
    }
    free(whole);
}
END_TEST

/* Random single-byte corruptions anywhere: the loader returns a status, and
 * whatever it accepts is a consistent matrix. */
START_TEST(corrupted_bytes_never_crash)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/v1_f8_c.npy", data_dir());
    size_t len;
    unsigned char *whole = read_bytes(path, &len);
    lr_rng r;
    lr_rng_seed(&r, 99);
    for (int trial = 0; trial < 3000; trial++) {
        unsigned char *copy = malloc(len);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, whole, len);
        size_t where = lr_rng_u64(&r) % 128; /* prelude and header */
        copy[where] = (unsigned char)lr_rng_u64(&r);
        lowrank_matrix *m;
        int rc = lowrank_matrix_load_npy_mem(copy, (int64_t)len, &m);
        if (rc == LOWRANK_OK) {
            ck_assert_int_eq(lowrank_matrix_rows(m) * lowrank_matrix_cols(m) *
                                 (lowrank_matrix_dtype(m) == LOWRANK_FLOAT32 ? 4 : 8),
                             96);
            lowrank_matrix_free(m);
        } else {
            ck_assert_ptr_null(m);
            ck_assert(rc == LOWRANK_EFORMAT || rc == LOWRANK_EUNSUPPORTED ||
                      rc == LOWRANK_EOVERFLOW);
        }
        free(copy);
    }
    free(whole);
}
END_TEST

START_TEST(argument_errors)
{
    lowrank_matrix *m = (lowrank_matrix *)&m;
    unsigned char byte = 0;
    ck_assert_fails(lowrank_matrix_load_npy(NULL, &m), LOWRANK_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_fails(lowrank_matrix_load_npy("x.npy", NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_load_npy_mem(NULL, 10, &m), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_load_npy_mem(&byte, 1, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_load_npy_mem(&byte, -1, &m), LOWRANK_ESIZE);
    char path[4096];
    test_path(path, sizeof path, "does-not-exist.npy");
    ck_assert_fails(lowrank_matrix_load_npy(path, &m), LOWRANK_EIO);
    ck_assert_fails(lowrank_matrix_load_npy(test_dir(), &m), LOWRANK_EIO); /* a directory */
    ck_assert_ptr_null(m);
    lowrank_matrix *ok = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 2, 2, 1);
    ck_assert_fails(lowrank_matrix_save_npy(NULL, path), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_save_npy(ok, NULL), LOWRANK_EINVAL);
    test_path(path, sizeof path, "no-such-dir/x.npy");
    ck_assert_fails(lowrank_matrix_save_npy(ok, path), LOWRANK_EIO);
    lowrank_matrix_free(ok);
}
END_TEST

/* A failed save leaves an existing file as it was and no temporary behind. */
START_TEST(failed_save_loses_nothing)
{
    char dir[4096], path[4096];
    test_path(dir, sizeof dir, "target");
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/kept.npy", dir);
    lowrank_matrix *m = random_matrix(LOWRANK_FLOAT32, LOWRANK_ROW_MAJOR, 3, 3, 5);
    ck_assert_ok(lowrank_matrix_save_npy(m, path));
    /* the destination is now a non-empty directory: rename must fail */
    char blocker[4096];
    snprintf(blocker, sizeof blocker, "%s/blocked.npy", dir);
    ck_assert_int_eq(mkdir(blocker, 0755), 0);
    char inner[4096];
    snprintf(inner, sizeof inner, "%s/file", blocker);
    write_bytes(inner, "x", 1);
    ck_assert_fails(lowrank_matrix_save_npy(m, blocker), LOWRANK_EIO);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "test $(ls '%s' | wc -l) -eq 2", dir);
    ck_assert_int_eq(system(cmd), 0); /* kept.npy and blocked.npy, no temporary */
    lowrank_matrix *back;
    ck_assert_ok(lowrank_matrix_load_npy(path, &back));
    lowrank_matrix_free(back);
    lowrank_matrix_free(m);
}
END_TEST

/* Every block of rows of every file numpy wrote equals those rows of the
 * whole file, and the header alone gives its shape, dtype and layout. */
START_TEST(reads_blocks_of_rows)
{
    static const char *names[] = {"v1_f8_c.npy", "v1_f4_f_be.npy", "v2_f8_f.npy",
                                  "v3_f4_c.npy", "v1_f8_be_c.npy", "v1_f8_1d.npy"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", data_dir(), names[k]);
        lowrank_matrix *whole = load_data(names[k]);
        int64_t rows, cols;
        lowrank_dtype t;
        lowrank_layout l;
        ck_assert_ok(lowrank_npy_info(path, &rows, &cols, &t, &l));
        ck_assert_int_eq(rows, lowrank_matrix_rows(whole));
        ck_assert_int_eq(cols, lowrank_matrix_cols(whole));
        ck_assert_int_eq(t, lowrank_matrix_dtype(whole));
        ck_assert_int_eq(l, lowrank_matrix_layout(whole));
        for (int64_t first = 0; first < rows; first++)
            for (int64_t count = 1; first + count <= rows; count++) {
                lowrank_matrix *b;
                ck_assert_ok(lowrank_matrix_load_npy_rows(path, first, count, &b));
                ck_assert_int_eq(lowrank_matrix_rows(b), count);
                ck_assert_int_eq(lowrank_matrix_cols(b), cols);
                ck_assert_int_eq(lowrank_matrix_dtype(b), t);
                ck_assert_int_eq(lowrank_matrix_layout(b), l);
                for (int64_t i = 0; i < count; i++)
                    for (int64_t j = 0; j < cols; j++) {
                        double x, y;
                        ck_assert_ok(lowrank_matrix_get(b, i, j, &x));
                        ck_assert_ok(lowrank_matrix_get(whole, first + i, j, &y));
                        ck_assert_double_eq(x, y);
                    }
                lowrank_matrix_free(b);
            }
        lowrank_matrix_free(whole);
    }
}
END_TEST

START_TEST(block_reads_reject_what_they_cannot_trust)
{
    char path[4096], bad[4096];
    snprintf(path, sizeof path, "%s/v1_f8_c.npy", data_dir()); /* 3 x 4 */
    int64_t rows, cols;
    lowrank_dtype t;
    lowrank_layout l;
    lowrank_matrix *m = (lowrank_matrix *)&m;
    ck_assert_fails(lowrank_npy_info(NULL, &rows, &cols, &t, &l), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_npy_info(path, &rows, NULL, &t, &l), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_npy_info(path, &rows, &cols, &t, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_load_npy_rows(path, 0, 1, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_matrix_load_npy_rows(NULL, 0, 1, &m), LOWRANK_EINVAL);
    ck_assert_ptr_null(m);
    const int64_t ranges[][2] = {{-1, 1}, {0, 0}, {0, -2}, {3, 1}, {2, 2}, {INT64_MAX, 2}};
    for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; k++) {
        m = (lowrank_matrix *)&m;
        ck_assert_fails(lowrank_matrix_load_npy_rows(path, ranges[k][0], ranges[k][1], &m),
                        LOWRANK_ERANGE);
        ck_assert_ptr_null(m);
    }
    test_path(bad, sizeof bad, "missing.npy");
    ck_assert_fails(lowrank_npy_info(bad, &rows, &cols, &t, &l), LOWRANK_EIO);
    ck_assert_fails(lowrank_matrix_load_npy_rows(bad, 0, 1, &m), LOWRANK_EIO);
    ck_assert_fails(lowrank_npy_info(data_dir(), &rows, &cols, &t, &l), LOWRANK_EIO);
    /* a truncated and an overlong copy: the data must be exactly as declared */
    size_t len;
    unsigned char *whole = read_bytes(path, &len), *longer = malloc(len + 8);
    ck_assert_ptr_nonnull(longer);
    memcpy(longer, whole, len);
    memset(longer + len, 0, 8);
    test_path(bad, sizeof bad, "short.npy");
    write_bytes(bad, whole, len - 8);
    ck_assert_fails(lowrank_npy_info(bad, &rows, &cols, &t, &l), LOWRANK_EFORMAT);
    ck_assert_fails(lowrank_matrix_load_npy_rows(bad, 0, 1, &m), LOWRANK_EFORMAT);
    write_bytes(bad, longer, len + 8);
    ck_assert_fails(lowrank_matrix_load_npy_rows(bad, 0, 1, &m), LOWRANK_EFORMAT);
    ck_assert_ptr_null(m);
    /* other arrays are refused as by the whole-file reader */
    snprintf(bad, sizeof bad, "%s/v1_i8.npy", data_dir());
    ck_assert_fails(lowrank_npy_info(bad, &rows, &cols, &t, &l), LOWRANK_EUNSUPPORTED);
    free(whole);
    free(longer);
}
END_TEST

static int load_rows(void *ctx)
{
    lowrank_matrix *m = (lowrank_matrix *)&m;
    int rc = lowrank_matrix_load_npy_rows(ctx, 1, 3, &m);
    rc = output_status(rc, m);
    lowrank_matrix_free(m);
    return rc;
}

static int load_file(void *ctx)
{
    lowrank_matrix *m = (lowrank_matrix *)&m;
    int rc = lowrank_matrix_load_npy(ctx, &m);
    rc = output_status(rc, m);
    lowrank_matrix_free(m);
    return rc;
}

typedef struct {
    unsigned char *bytes;
    size_t len;
} buffer;

static int load_mem(void *ctx)
{
    buffer *b = ctx;
    lowrank_matrix *m = (lowrank_matrix *)&m;
    int rc = lowrank_matrix_load_npy_mem(b->bytes, (int64_t)b->len, &m);
    rc = output_status(rc, m);
    lowrank_matrix_free(m);
    return rc;
}

typedef struct {
    lowrank_matrix *m;
    char path[4096];
} save_args;

static int save_file(void *ctx)
{
    save_args *a = ctx;
    return lowrank_matrix_save_npy(a->m, a->path);
}

START_TEST(allocation_failure)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/v1_f8_c.npy", data_dir());
    ck_assert_int_ge(check_alloc_failures(load_file, path), 2);
    buffer b;
    b.bytes = read_bytes(path, &b.len);
    ck_assert_int_eq(check_alloc_failures(load_mem, &b), 2);
    free(b.bytes);
    save_args a = {random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 3, 2, 3), ""};
    test_path(a.path, sizeof a.path, "alloc.npy");
    ck_assert_int_ge(check_alloc_failures(save_file, &a), 1);
    snprintf(path, sizeof path, "%s/v2_f8_f.npy", data_dir());
    ck_assert_int_ge(check_alloc_failures(load_rows, path), 2);
    lowrank_matrix_free(a.m);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("npy");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reads_what_numpy_writes);
    tcase_add_test(tc, rejects_other_arrays);
    tcase_add_test(tc, writes_what_numpy_writes);
    tcase_add_loop_test(tc, round_trip_every_kind, 0, 4);
    tcase_add_test(tc, round_trip_strided_view);
    tcase_add_test(tc, hostile_headers);
    tcase_add_test(tc, hostile_preludes);
    tcase_add_test(tc, every_truncation_is_an_error);
    tcase_add_test(tc, corrupted_bytes_never_crash);
    tcase_add_test(tc, argument_errors);
    tcase_add_test(tc, failed_save_loses_nothing);
    tcase_add_test(tc, reads_blocks_of_rows);
    tcase_add_test(tc, block_reads_reject_what_they_cannot_trust);
    tcase_add_test(tc, allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
