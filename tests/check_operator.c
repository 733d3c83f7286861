/*
 * check_operator.c - sparse matrices and linear operators: CSR checks,
 * scipy's .npz files (read from files scipy wrote, and hostile ones), and
 * every kind of operator's products against the dense product.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "blas.h"
#include "internal.h"
#include "testutil.h"

/* ------------------------------------------------------------ sparse inputs */

/* A random sparse matrix: arrays and the same matrix dense (row-major
 * float64), each row's entries in a scrambled order. */
typedef struct sparse {
    lowrank_dtype t;
    int64_t rows, cols, nnz;
    int64_t *indptr, *indices;
    void *values;
    lowrank_matrix *dense;
} sparse;

static sparse make_sparse(lowrank_dtype t, int64_t rows, int64_t cols, double density,
                          uint64_t seed)
{
    sparse s = {t, rows, cols, 0, NULL, NULL, NULL, NULL};
    lr_rng r;
    lr_rng_seed(&r, seed);
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, rows, cols, &s.dense));
    double *d = s.dense->data;
    s.indptr = malloc((size_t)(rows + 1) * sizeof *s.indptr);
    s.indices = malloc((size_t)(rows * cols) * sizeof *s.indices);
    s.values = malloc((size_t)(rows * cols) * 8);
    ck_assert(s.indptr && s.indices && s.values);
    s.indptr[0] = 0;
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j0 = 0; j0 < cols; j0++) {
            int64_t j = (j0 * 7 + i) % cols; /* not in column order */
            if (lr_rng_uniform(&r) >= density)
                continue;
            double v = lr_rng_normal(&r);
            if (t == LOWRANK_FLOAT32)
                ((float *)s.values)[s.nnz] = (float)v, v = (float)v;
            else
                ((double *)s.values)[s.nnz] = v;
            s.indices[s.nnz++] = j;
            d[i * cols + j] = v;
        }
        s.indptr[i + 1] = s.nnz;
    }
    return s;
}

static void free_sparse(sparse *s)
{
    free(s->indptr);
    free(s->indices);
    free(s->values);
    lowrank_matrix_free(s->dense);
}

static lowrank_csr *wrap(const sparse *s)
{
    lowrank_csr *a;
    ck_assert_ok(lowrank_csr_wrap(s->t, s->rows, s->cols, s->nnz, s->indptr, s->indices,
                                  s->values, &a));
    return a;
}

/* ------------------------------------------------------------ CSR checks */

START_TEST(csr_wrap_checks_its_arrays)
{
    int64_t ptr[] = {0, 2, 3}, idx[] = {2, 0, 1};
    double val[] = {1, 2, 3};
    lowrank_csr *a = (lowrank_csr *)1;
    ck_assert_ok(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, 3, ptr, idx, val, &a));
    ck_assert_int_eq(lowrank_csr_rows(a), 2);
    ck_assert_int_eq(lowrank_csr_cols(a), 3);
    ck_assert_int_eq(lowrank_csr_nnz(a), 3);
    ck_assert_int_eq(lowrank_csr_dtype(a), LOWRANK_FLOAT64);
    lowrank_csr_free(a);
    ck_assert_int_eq(lowrank_csr_rows(NULL) + lowrank_csr_cols(NULL) + lowrank_csr_nnz(NULL), 0);
    ck_assert_int_eq(lowrank_csr_dtype(NULL), 0);
    lowrank_csr_free(NULL);
    /* an empty matrix: no entries, NULL indices and values allowed */
    int64_t zero[] = {0, 0};
    ck_assert_ok(lowrank_csr_wrap(LOWRANK_FLOAT32, 1, 4, 0, zero, NULL, NULL, &a));
    lowrank_csr_free(a);

    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, 3, ptr, idx, val, NULL),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, 3, NULL, idx, val, &a),
                    LOWRANK_EINVAL);
    ck_assert_ptr_null(a);
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, 3, ptr, NULL, val, &a),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, 3, ptr, idx, NULL, &a),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_csr_wrap((lowrank_dtype)9, 2, 3, 3, ptr, idx, val, &a),
                    LOWRANK_EINVAL);
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 0, 3, 3, ptr, idx, val, &a),
                    LOWRANK_ESIZE);
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 0, 3, ptr, idx, val, &a),
                    LOWRANK_ESIZE);
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, -1, ptr, idx, val, &a),
                    LOWRANK_ESIZE);
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, 2, ptr, idx, val, &a),
                    LOWRANK_EFORMAT); /* indptr[2] = 3 > nnz */
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 2, 3, ptr, idx, val, &a),
                    LOWRANK_EFORMAT); /* index 2 >= cols */
    int64_t first[] = {1, 2, 3}, down[] = {0, 3, 2}, neg[] = {2, -1, 1}, dup[] = {1, 1, 0};
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, 3, first, idx, val, &a),
                    LOWRANK_EFORMAT);
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, 3, down, idx, val, &a),
                    LOWRANK_EFORMAT);
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, 3, ptr, neg, val, &a),
                    LOWRANK_EFORMAT);
    ck_assert_fails(lowrank_csr_wrap(LOWRANK_FLOAT64, 2, 3, 3, ptr, dup, val, &a),
                    LOWRANK_EFORMAT);
    ck_assert(strstr(lowrank_last_error(), "stored twice") != NULL);
    ck_assert_ptr_null(a);
}
END_TEST

/* ------------------------------------------------------------ .npz files */

/* make_npz.py's 7 x 5 matrix: (i * 3 + j * 5) % 4 == 0 gives i * 10 + j + 0.5,
 * 0 elsewhere. */
static double npz_entry(int64_t i, int64_t j)
{
    return (i * 3 + j * 5) % 4 == 0 ? (double)(i * 10 + j) + 0.5 : 0;
}

/* The matrix of a as dense values, checked against npz_entry. */
static void assert_npz_matrix(const lowrank_csr *a, lowrank_dtype t)
{
    ck_assert_int_eq(lowrank_csr_rows(a), 7);
    ck_assert_int_eq(lowrank_csr_cols(a), 5);
    int64_t nnz = 0;
    for (int64_t i = 0; i < 7; i++)
        for (int64_t j = 0; j < 5; j++)
            nnz += npz_entry(i, j) != 0;
    ck_assert_int_eq(lowrank_csr_nnz(a), nnz);
    ck_assert_int_eq(lowrank_csr_dtype(a), t);
    double d[35] = {0};
    for (int64_t i = 0; i < 7; i++)
        for (int64_t p = a->indptr[i]; p < a->indptr[i + 1]; p++)
            d[i * 5 + a->indices[p]] += t == LOWRANK_FLOAT32 ? ((const float *)a->values)[p]
                                                             : ((const double *)a->values)[p];
    for (int64_t i = 0; i < 7; i++)
        for (int64_t j = 0; j < 5; j++)
            ck_assert_double_eq(d[i * 5 + j], npz_entry(i, j));
}

static void data_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", data_dir(), name);
}

START_TEST(reads_what_scipy_writes)
{
    static const struct {
        const char *name;
        lowrank_dtype t;
    } files[] = {{"csr_f8_deflate.npz", LOWRANK_FLOAT64},    {"csr_f4_stored.npz", LOWRANK_FLOAT32},
                 {"csc_f8_stored.npz", LOWRANK_FLOAT64},     {"csr_f8_i8_deflate.npz", LOWRANK_FLOAT64},
                 {"csr_f8_be_unicode.npz", LOWRANK_FLOAT64}};
    char path[4096];
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        data_path(path, sizeof path, files[f].name);
        lowrank_csr *a;
        ck_assert_ok(lowrank_csr_load_npz(path, &a));
        assert_npz_matrix(a, files[f].t);
        lowrank_csr_free(a);
    }
    lowrank_csr *a = (lowrank_csr *)1;
    data_path(path, sizeof path, "coo_f8.npz");
    ck_assert_fails(lowrank_csr_load_npz(path, &a), LOWRANK_EUNSUPPORTED);
    ck_assert(strstr(lowrank_last_error(), "'coo'") != NULL);
    ck_assert_ptr_null(a);
    data_path(path, sizeof path, "v1_f8_c.npy");
    ck_assert_fails(lowrank_csr_load_npz(path, &a), LOWRANK_EFORMAT);
    ck_assert_fails(lowrank_csr_load_npz("/nonexistent/a.npz", &a), LOWRANK_EIO);
    ck_assert_fails(lowrank_csr_load_npz(data_dir(), &a), LOWRANK_EUNSUPPORTED);
    ck_assert_fails(lowrank_csr_load_npz(NULL, &a), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_csr_load_npz(path, NULL), LOWRANK_EINVAL);
}
END_TEST

/* A load that either succeeds with the matrix scipy wrote or fails with a
 * file error, never anything else (ASan and valgrind watch the rest). */
static void load_mutant(const unsigned char *bytes, size_t len, const char *path)
{
    write_bytes(path, bytes, len);
    lowrank_csr *a = (lowrank_csr *)1;
    int rc = lowrank_csr_load_npz(path, &a);
    if (rc == LOWRANK_OK) {
        ck_assert_int_eq(lowrank_csr_rows(a) * lowrank_csr_cols(a) > 0, 1);
        lowrank_csr_free(a);
        return;
    }
    ck_assert_ptr_null(a);
    ck_assert_msg(rc == LOWRANK_EFORMAT || rc == LOWRANK_EUNSUPPORTED || rc == LOWRANK_EOVERFLOW ||
                      rc == LOWRANK_ENOMEM,
                  "rc %d: %s", rc, lowrank_last_error());
}

START_TEST(hostile_npz_never_crash)
{
    static const char *const names[] = {"csr_f8_deflate.npz", "csr_f4_stored.npz",
                                        "csc_f8_stored.npz"};
    char src[4096], path[4096];
    test_path(path, sizeof path, "mutant.npz");
    lr_rng r;
    lr_rng_seed(&r, 15);
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        data_path(src, sizeof src, names[f]);
        size_t len;
        unsigned char *whole = read_bytes(src, &len), *copy = malloc(len);
        ck_assert_ptr_nonnull(copy);
        for (size_t cut = 0; cut < len; cut += 5) /* truncations */
            load_mutant(whole, cut, path);
        for (int trial = 0; trial < 600; trial++) { /* bytes replaced, one to four */
            memcpy(copy, whole, len);
            for (int b = 0, n = 1 + (int)(lr_rng_u64(&r) % 4); b < n; b++)
                copy[lr_rng_u64(&r) % len] = (unsigned char)lr_rng_u64(&r);
            load_mutant(copy, len, path);
        }
        /* every 32-bit field of the central directory and the end records
         * (the archive's last 420 bytes), and of the first member's
         * headers, set to extremes: sizes, offsets, counts */
        for (size_t at = 0; at + 4 <= len; at += at == 120 && len > 560 ? len - 540 : 1) {
            static const uint32_t extremes[] = {0xffffffffu, 0x7fffffffu, 0};
            for (int e = 0; e < 3; e++) {
                memcpy(copy, whole, len);
                memcpy(copy + at, &extremes[e], 4);
                load_mutant(copy, len, path);
            }
        }
        free(copy);
        free(whole);
    }
}
END_TEST

/* ------------------------------------------------------------ products */

/* max |y - op(D) x| over a product by the operator, against the dense
 * product of D (float64), relative to the largest |D| |x| sum. */
static double product_error(const lowrank_operator *op, const lowrank_matrix *d, char trans,
                            int64_t nvec, lowrank_layout layout, uint64_t seed)
{
    lowrank_dtype t = lowrank_operator_dtype(op);
    int64_t in = trans == 'N' ? d->cols : d->rows, out = trans == 'N' ? d->rows : d->cols;
    lowrank_matrix *x = random_matrix(t, layout, in, nvec, seed), *y;
    ck_assert_ok(lowrank_matrix_new(t, layout, out, nvec, &y));
    ck_assert_ok(lowrank_operator_apply(op, trans == 'N' ? LOWRANK_NO_TRANS : LOWRANK_TRANS, x,
                                        y, NULL));
    double worst = 0, scale = 0;
    for (int64_t c = 0; c < nvec; c++)
        for (int64_t i = 0; i < out; i++) {
            double sum = 0, abs = 0;
            for (int64_t j = 0; j < in; j++) {
                double a = trans == 'N' ? lr_matrix_at(d, i, j) : lr_matrix_at(d, j, i);
                sum += a * lr_matrix_at(x, j, c);
                abs += fabs(a * lr_matrix_at(x, j, c));
            }
            worst = fmax(worst, fabs(sum - lr_matrix_at(y, i, c)));
            scale = fmax(scale, abs);
        }
    lowrank_matrix_free(x);
    lowrank_matrix_free(y);
    return scale > 0 ? worst / scale : worst;
}

static double eps_of(lowrank_dtype t) { return t == LOWRANK_FLOAT32 ? 1e-6 : 1e-14; }

/* Both products, widths 1 to 11 (every kernel and remainder), both
 * layouts of the blocks; the number of products. */
static int64_t assert_products(const lowrank_operator *op, const lowrank_matrix *d)
{
    lowrank_dtype t = lowrank_operator_dtype(op);
    int64_t count = 0;
    ck_assert_int_eq(lowrank_operator_rows(op), d->rows);
    ck_assert_int_eq(lowrank_operator_cols(op), d->cols);
    for (int64_t nvec = 1; nvec <= 11; nvec += 1 + (nvec > 4))
        for (int l = 0; l < 2; l++)
            for (int tr = 0; tr < 2; tr++) {
                double e = product_error(op, d, tr ? 'T' : 'N', nvec,
                                         l ? LOWRANK_COL_MAJOR : LOWRANK_ROW_MAJOR,
                                         (uint64_t)(nvec * 4 + l * 2 + tr));
                ck_assert_msg(e <= eps_of(t), "%s product, %lld vectors: error %g",
                              tr ? "transposed" : "plain", (long long)nvec, e);
                count++;
            }
    return count;
}

/* max |z - op(D)^T op(D) x| over a fused (or two-product) Gram product,
 * relative to the largest sum of magnitudes. */
static double gram_error(const lowrank_operator *op, const lowrank_matrix *d, char trans,
                         int64_t nvec)
{
    lowrank_dtype t = lowrank_operator_dtype(op);
    int64_t in = trans == 'N' ? d->cols : d->rows, mid = trans == 'N' ? d->rows : d->cols;
    lowrank_matrix *x = random_matrix(t, LOWRANK_COL_MAJOR, in, nvec, (uint64_t)nvec), *z;
    ck_assert_ok(lowrank_matrix_new(t, LOWRANK_COL_MAJOR, in, nvec, &z));
    void *w = malloc((size_t)(mid * nvec) * 8);
    ck_assert_ok(lr_operator_gram(op, trans, nvec, x->data, in, z->data, in, w, NULL));
    double worst = 0, scale = 0;
    for (int64_t c = 0; c < nvec; c++)
        for (int64_t i = 0; i < in; i++) {
            double sum = 0, abs = 0;
            for (int64_t q = 0; q < mid; q++) {
                double dx = 0, ad = 0;
                for (int64_t j = 0; j < in; j++) {
                    double a = trans == 'N' ? lr_matrix_at(d, q, j) : lr_matrix_at(d, j, q);
                    dx += a * lr_matrix_at(x, j, c);
                    ad += fabs(a * lr_matrix_at(x, j, c));
                }
                double a = trans == 'N' ? lr_matrix_at(d, q, i) : lr_matrix_at(d, i, q);
                sum += a * dx;
                abs += fabs(a) * ad;
            }
            worst = fmax(worst, fabs(sum - lr_matrix_at(z, i, c)));
            scale = fmax(scale, abs);
        }
    free(w);
    lowrank_matrix_free(x);
    lowrank_matrix_free(z);
    return scale > 0 ? worst / scale : worst;
}

START_TEST(sparse_products_match_dense)
{
    static const int64_t shapes[][2] = {{40, 25}, {25, 40}, {1, 30}, {30, 1}, {200, 170}};
    lowrank_dtype t = _i % 2 ? LOWRANK_FLOAT32 : LOWRANK_FLOAT64;
    const int64_t *sh = shapes[_i / 2];
    sparse s = make_sparse(t, sh[0], sh[1], 0.2, (uint64_t)_i);
    lowrank_csr *a = wrap(&s);
    lowrank_operator *op;
    ck_assert_ok(lowrank_operator_csr(a, &op));
    int64_t products = assert_products(op, s.dense), passes = -1, bytes = -1;
    ck_assert_ok(lowrank_operator_passes(op, &passes, &bytes));
    ck_assert_int_eq(passes, products);
    ck_assert_int_eq(bytes, 0);
    for (int tr = 0; tr < 2; tr++)
        for (int64_t nvec = 1; nvec <= 9; nvec += 4)
            ck_assert_double_le(gram_error(op, s.dense, tr ? 'T' : 'N', nvec), 10 * eps_of(t));
    lowrank_operator_free(op);
    lowrank_csr_free(a);
    free_sparse(&s);
}
END_TEST

START_TEST(dense_products_match_dense)
{
    lowrank_dtype t = _i % 2 ? LOWRANK_FLOAT32 : LOWRANK_FLOAT64;
    lowrank_layout l = _i / 2 ? LOWRANK_ROW_MAJOR : LOWRANK_COL_MAJOR;
    lowrank_matrix *a = random_matrix(t, l, 23, 17, 5), *d;
    ck_assert_ok(lowrank_matrix_convert(a, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, &d));
    lowrank_operator *op;
    ck_assert_ok(lowrank_operator_matrix(a, &op));
    assert_products(op, d);
    lowrank_operator_free(op);
    lowrank_matrix_free(a);
    lowrank_matrix_free(d);
}
END_TEST

/* A callback operator over a dense matrix in either layout, counting its
 * calls, failing or returning NaN on request. */
typedef struct implicit {
    const lowrank_matrix *a;
    lowrank_layout layout;
    int calls, fail_at, nan_at;
} implicit;

static int implicit_apply(lowrank_trans trans, int64_t nvec, const void *x, int64_t ldx, void *y,
                          int64_t ldy, void *user)
{
    implicit *im = user;
    im->calls++;
    if (im->fail_at && im->calls >= im->fail_at)
        return -1;
    const lowrank_matrix *a = im->a;
    int64_t out = trans == LOWRANK_NO_TRANS ? a->rows : a->cols;
    int64_t in = trans == LOWRANK_NO_TRANS ? a->cols : a->rows;
    int row = im->layout == LOWRANK_ROW_MAJOR;
    for (int64_t c = 0; c < nvec; c++)
        for (int64_t i = 0; i < out; i++) {
            double sum = 0;
            for (int64_t j = 0; j < in; j++) {
                double xv = a->dtype == LOWRANK_FLOAT32
                                ? ((const float *)x)[row ? j * ldx + c : j + c * ldx]
                                : ((const double *)x)[row ? j * ldx + c : j + c * ldx];
                sum += (trans == LOWRANK_NO_TRANS ? lr_matrix_at(a, i, j) : lr_matrix_at(a, j, i)) *
                       xv;
            }
            if (im->nan_at && im->calls >= im->nan_at)
                sum = NAN;
            if (a->dtype == LOWRANK_FLOAT32)
                ((float *)y)[row ? i * ldy + c : i + c * ldy] = (float)sum;
            else
                ((double *)y)[row ? i * ldy + c : i + c * ldy] = sum;
        }
    return 0;
}

START_TEST(callback_products_match_dense)
{
    lowrank_dtype t = _i % 2 ? LOWRANK_FLOAT32 : LOWRANK_FLOAT64;
    lowrank_layout l = _i / 2 ? LOWRANK_ROW_MAJOR : LOWRANK_COL_MAJOR;
    lowrank_matrix *a = random_matrix(t, LOWRANK_COL_MAJOR, 19, 13, 6), *d;
    ck_assert_ok(lowrank_matrix_convert(a, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, &d));
    implicit im = {a, l, 0, 0, 0};
    lowrank_operator *op;
    ck_assert_ok(lowrank_operator_new(t, l, 19, 13, implicit_apply, &im, &op));
    assert_products(op, d);
    int64_t passes;
    ck_assert_ok(lowrank_operator_passes(op, &passes, NULL));
    ck_assert_int_eq(passes, im.calls);
    /* a failing callback, and one that returns NaN: y untouched */
    lowrank_matrix *x = random_matrix(t, l, 13, 2, 1), *y = random_matrix(t, l, 19, 2, 2), *y0;
    ck_assert_ok(lowrank_matrix_copy(y, &y0));
    im.fail_at = im.calls + 1;
    ck_assert_fails(lowrank_operator_apply(op, LOWRANK_NO_TRANS, x, y, NULL), LOWRANK_ECALLBACK);
    im.fail_at = 0;
    im.nan_at = im.calls + 1;
    ck_assert_fails(lowrank_operator_apply(op, LOWRANK_NO_TRANS, x, y, NULL), LOWRANK_ENONFINITE);
    for (int64_t c = 0; c < 2; c++)
        for (int64_t i = 0; i < 19; i++)
            ck_assert_double_eq(lr_matrix_at(y, i, c), lr_matrix_at(y0, i, c));
    lowrank_matrix_free(x);
    lowrank_matrix_free(y);
    lowrank_matrix_free(y0);
    lowrank_operator_free(op);
    lowrank_matrix_free(a);
    lowrank_matrix_free(d);
}
END_TEST

START_TEST(file_products_match_dense)
{
    /* C and Fortran order, both dtypes; tall enough for several 16 MiB
     * blocks only in the large case, which make_sparse's size keeps cheap */
    lowrank_dtype t = _i % 2 ? LOWRANK_FLOAT32 : LOWRANK_FLOAT64;
    lowrank_layout l = _i / 2 ? LOWRANK_ROW_MAJOR : LOWRANK_COL_MAJOR;
    lowrank_matrix *a = random_matrix(t, l, 37, 11, 8), *d;
    ck_assert_ok(lowrank_matrix_convert(a, LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, &d));
    char path[4096];
    test_path(path, sizeof path, "op.npy");
    ck_assert_ok(lowrank_matrix_save_npy(a, path));
    lowrank_operator *op;
    ck_assert_ok(lowrank_operator_npy(path, &op));
    int64_t products = assert_products(op, d), passes, bytes;
    ck_assert_ok(lowrank_operator_passes(op, &passes, &bytes));
    ck_assert_int_eq(passes, products);
    ck_assert_int_eq(bytes, passes * 37 * 11 * (t == LOWRANK_FLOAT32 ? 4 : 8));
    /* the fused product A^T (A X) is one pass */
    double *x = malloc(11 * 3 * sizeof *x), *z = malloc(11 * 3 * sizeof *z);
    lowrank_matrix *xm, *zm;
    for (int i = 0; i < 33; i++)
        x[i] = sin(i + 1.0);
    ck_assert_ok(lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 11, 3, x, 11, &xm));
    ck_assert_ok(lowrank_matrix_convert(xm, t, LOWRANK_COL_MAJOR, &zm));
    void *xt = lowrank_matrix_data(zm), *zt = malloc(11 * 3 * 8);
    ck_assert_ok(lr_operator_gram(op, 'N', 3, xt, 11, zt, 11, NULL, NULL));
    ck_assert_ok(lowrank_operator_passes(op, &passes, NULL));
    ck_assert_int_eq(passes, products + 1);
    for (int c = 0; c < 3; c++)
        for (int j = 0; j < 11; j++) {
            double want = 0, scale = 0;
            for (int i = 0; i < 37; i++) {
                double ax = 0;
                for (int q = 0; q < 11; q++)
                    ax += lr_matrix_at(d, i, q) * lr_matrix_at(zm, q, c);
                want += lr_matrix_at(d, i, j) * ax;
                scale += fabs(lr_matrix_at(d, i, j) * ax);
            }
            double got = t == LOWRANK_FLOAT32 ? ((float *)zt)[j + 11 * c] : ((double *)zt)[j + 11 * c];
            ck_assert_double_le(fabs(got - want), 10 * eps_of(t) * scale);
        }
    free(x);
    free(z);
    free(zt);
    lowrank_matrix_free(xm);
    lowrank_matrix_free(zm);
    lowrank_operator_free(op);
    lowrank_matrix_free(a);
    lowrank_matrix_free(d);
}
END_TEST

/* The transpose of each kind of operator: its products are those of the
 * dense transpose; a dense matrix's is a dense matrix again. */
START_TEST(transposes_match_dense)
{
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 21, 9, 12), *dt;
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 9, 21, &dt));
    for (int64_t i = 0; i < 21; i++)
        for (int64_t j = 0; j < 9; j++)
            ck_assert_ok(lowrank_matrix_set(dt, j, i, lr_matrix_at(a, i, j)));
    sparse s = make_sparse(LOWRANK_FLOAT64, 21, 9, 1.0, 0);
    for (int64_t i = 0; i < 21; i++) /* the same matrix, stored sparse */
        for (int64_t p = s.indptr[i]; p < s.indptr[i + 1]; p++)
            ((double *)s.values)[p] = lr_matrix_at(a, i, s.indices[p]);
    lowrank_csr *c = wrap(&s);
    char path[4096];
    test_path(path, sizeof path, "transposed.npy");
    ck_assert_ok(lowrank_matrix_save_npy(a, path));
    implicit im = {a, LOWRANK_COL_MAJOR, 0, 0, 0};
    lowrank_operator *ops[4], *t;
    ck_assert_ok(lowrank_operator_matrix(a, &ops[0]));
    ck_assert_ok(lowrank_operator_csr(c, &ops[1]));
    ck_assert_ok(lowrank_operator_npy(path, &ops[2]));
    ck_assert_ok(lowrank_operator_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 21, 9, implicit_apply,
                                      &im, &ops[3]));
    for (int k = 0; k < 4; k++) {
        ck_assert_ok(lowrank_operator_transpose(ops[k], &t));
        assert_products(t, dt);
        lowrank_operator_free(t);
        lowrank_operator_free(ops[k]);
    }
    ck_assert_fails(lowrank_operator_transpose(NULL, &t), LOWRANK_EINVAL);
    ck_assert_ptr_null(t);
    lowrank_csr_free(c);
    free_sparse(&s);
    lowrank_matrix_free(a);
    lowrank_matrix_free(dt);
}
END_TEST

START_TEST(threads_give_the_same_bits)
{
    sparse s = make_sparse(LOWRANK_FLOAT64, 300, 120, 0.1, 77);
    lowrank_csr *a = wrap(&s);
    lowrank_operator *op;
    ck_assert_ok(lowrank_operator_csr(a, &op));
    lowrank_matrix *x = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 300, 5, 3);
    double *ref = malloc(120 * 5 * sizeof *ref), *got = malloc(120 * 5 * sizeof *got);
    for (int threads = 1; threads <= 5; threads++) {
        lr_products pr = {NULL, NULL, 0, 0};
        ck_assert_ok(lr_pool_new(threads, &pr.pool));
        for (int64_t nvec = 1; nvec <= 5; nvec += 4) {
            ck_assert_ok(lr_operator_apply(op, 'T', nvec, x->data, 300, got, 120, &pr));
            if (threads == 1 && nvec == 5)
                memcpy(ref, got, 120 * 5 * sizeof *ref);
            else if (nvec == 5)
                ck_assert_mem_eq(ref, got, 120 * 5 * sizeof *ref);
        }
        lr_pool_free(pr.pool);
    }
    free(ref);
    free(got);
    lowrank_matrix_free(x);
    lowrank_operator_free(op);
    lowrank_csr_free(a);
    free_sparse(&s);
}
END_TEST

/* The products' threads are LOWRANK_OPT_THREADS of the call's options (0:
 * the cores available; 1: no pool at all, the caller alone). */
START_TEST(products_pool_follows_the_threads_option)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    const int64_t want[3] = {3, 1, 0};
    for (int i = 0; i < 3; i++) {
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_THREADS, want[i]));
        lr_pool *pool = (lr_pool *)1;
        ck_assert_ok(lr_products_pool(o, &pool));
        int expect = want[i] > 0 ? (int)want[i] : lr_threads_available();
        ck_assert_int_eq(lr_pool_threads(pool), expect);
        if (expect == 1)
            ck_assert_ptr_null(pool);
        lr_pool_free(pool);
    }
    lowrank_opts_free(o);
}
END_TEST

static int never(lowrank_trans trans, int64_t nvec, const void *x, int64_t ldx, void *y,
                 int64_t ldy, void *user)
{
    (void)trans, (void)nvec, (void)x, (void)ldx, (void)y, (void)ldy, (void)user;
    return 1;
}

START_TEST(operator_argument_errors)
{
    lowrank_operator *op = (lowrank_operator *)1;
    ck_assert_fails(lowrank_operator_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 2, 2, never, NULL,
                                         NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 2, 2, NULL, NULL,
                                         &op), LOWRANK_EINVAL);
    ck_assert_ptr_null(op);
    ck_assert_fails(lowrank_operator_new((lowrank_dtype)3, LOWRANK_COL_MAJOR, 2, 2, never, NULL,
                                         &op), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_new(LOWRANK_FLOAT64, (lowrank_layout)3, 2, 2, never, NULL,
                                         &op), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 0, 2, never, NULL,
                                         &op), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_operator_matrix(NULL, &op), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_csr(NULL, &op), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_npy(NULL, &op), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_npy("/nonexistent.npy", &op), LOWRANK_EIO);
    ck_assert_fails(lowrank_operator_passes(NULL, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_int_eq(lowrank_operator_rows(NULL) + lowrank_operator_cols(NULL), 0);
    ck_assert_int_eq(lowrank_operator_dtype(NULL), 0);
    lowrank_operator_free(NULL);

    ck_assert_ok(lowrank_operator_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 3, 2, never, NULL, &op));
    lowrank_matrix *x = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 2, 1, 1),
                   *y = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 3, 1, 1),
                   *xf = random_matrix(LOWRANK_FLOAT32, LOWRANK_COL_MAJOR, 2, 1, 1);
    ck_assert_fails(lowrank_operator_apply(NULL, LOWRANK_NO_TRANS, x, y, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_apply(op, LOWRANK_NO_TRANS, NULL, y, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_apply(op, LOWRANK_NO_TRANS, x, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_apply(op, (lowrank_trans)5, x, y, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_apply(op, LOWRANK_NO_TRANS, xf, y, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_operator_apply(op, LOWRANK_TRANS, x, y, NULL), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_operator_apply(op, LOWRANK_NO_TRANS, x, y, NULL), LOWRANK_ECALLBACK);
    lowrank_matrix_free(x);
    lowrank_matrix_free(y);
    lowrank_matrix_free(xf);
    lowrank_operator_free(op);
}
END_TEST

START_TEST(file_that_shrinks_is_an_error)
{
    lowrank_matrix *a = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 50, 4, 9);
    char path[4096];
    test_path(path, sizeof path, "shrinks.npy");
    ck_assert_ok(lowrank_matrix_save_npy(a, path));
    lowrank_operator *op;
    ck_assert_ok(lowrank_operator_npy(path, &op));
    ck_assert_int_eq(truncate(path, 128 + 8 * 4 * 20), 0); /* header and 20 rows */
    lowrank_matrix *x = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 4, 1, 1), *y;
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 50, 1, &y));
    ck_assert_fails(lowrank_operator_apply(op, LOWRANK_NO_TRANS, x, y, NULL), LOWRANK_EFORMAT);
    lowrank_matrix_free(x);
    lowrank_matrix_free(y);
    lowrank_operator_free(op);
    lowrank_matrix_free(a);
}
END_TEST

/* ------------------------------------------------------------ allocation failures */

static int wrap_call(void *ctx)
{
    const sparse *s = ctx;
    lowrank_csr *a = (lowrank_csr *)1;
    int rc = lowrank_csr_wrap(s->t, s->rows, s->cols, s->nnz, s->indptr, s->indices, s->values,
                              &a);
    int st = output_status(rc, a);
    lowrank_csr_free(a);
    return st;
}

/* The operator over a, and both its products with x (30 x 3) and y (40 x 3). */
typedef struct products_ctx {
    const lowrank_csr *a;
    lowrank_matrix *x, *y;
} products_ctx;

static int operator_call(void *ctx)
{
    const products_ctx *c = ctx;
    lowrank_operator *op = (lowrank_operator *)1;
    int rc = lowrank_operator_csr(c->a, &op);
    int st = output_status(rc, op);
    if (rc == LOWRANK_OK)
        rc = lowrank_operator_apply(op, LOWRANK_NO_TRANS, c->x, c->y, NULL);
    if (rc == LOWRANK_OK) /* and the scatter */
        rc = lowrank_operator_apply(op, LOWRANK_TRANS, c->y, c->x, NULL);
    lowrank_operator_free(op);
    return st != LOWRANK_OK ? st : rc;
}

static int npz_call(void *ctx)
{
    lowrank_csr *a = (lowrank_csr *)1;
    int rc = lowrank_csr_load_npz(ctx, &a);
    int st = output_status(rc, a);
    lowrank_csr_free(a);
    return st;
}

static int npy_op_call(void *ctx)
{
    lowrank_operator *op = (lowrank_operator *)1;
    int rc = lowrank_operator_npy(ctx, &op);
    int st = output_status(rc, op);
    if (rc == LOWRANK_OK) {
        double z[4];
        rc = lr_operator_gram(op, 'N', 1, (double[]){1, 2, 3, 4}, 4, z, 4, NULL, NULL);
        st = rc;
    }
    lowrank_operator_free(op);
    return st;
}

START_TEST(allocation_failure)
{
    sparse s = make_sparse(LOWRANK_FLOAT64, 40, 30, 0.3, 4);
    ck_assert_int_ge(check_alloc_failures(wrap_call, &s), 2);
    lowrank_csr *a = wrap(&s);
    products_ctx pc = {a, random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 30, 3, 1), NULL};
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 40, 3, &pc.y));
    ck_assert_int_ge(check_alloc_failures(operator_call, &pc), 6);
    lowrank_matrix_free(pc.x);
    lowrank_matrix_free(pc.y);
    char path[4096];
    for (int f = 0; f < 2; f++) {
        data_path(path, sizeof path, f ? "csc_f8_stored.npz" : "csr_f8_deflate.npz");
        ck_assert_int_ge(check_alloc_failures(npz_call, path), 12);
    }
    lowrank_matrix *m = random_matrix(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 9, 4, 2);
    test_path(path, sizeof path, "alloc.npy");
    ck_assert_ok(lowrank_matrix_save_npy(m, path));
    ck_assert_int_ge(check_alloc_failures(npy_op_call, path), 3);
    lowrank_matrix_free(m);
    lowrank_csr_free(a);
    free_sparse(&s);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("operator");
    TCase *tc = tcase_create("operator");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, csr_wrap_checks_its_arrays);
    tcase_add_test(tc, reads_what_scipy_writes);
    tcase_add_test(tc, hostile_npz_never_crash);
    tcase_add_loop_test(tc, sparse_products_match_dense, 0, 10);
    tcase_add_loop_test(tc, dense_products_match_dense, 0, 4);
    tcase_add_loop_test(tc, callback_products_match_dense, 0, 4);
    tcase_add_loop_test(tc, file_products_match_dense, 0, 4);
    tcase_add_test(tc, transposes_match_dense);
    tcase_add_test(tc, threads_give_the_same_bits);
    tcase_add_test(tc, products_pool_follows_the_threads_option);
    tcase_add_test(tc, operator_argument_errors);
    tcase_add_test(tc, file_that_shrinks_is_an_error);
    tcase_add_test(tc, allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
