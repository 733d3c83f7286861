/*
 * testutil.c - helpers shared by the Check suites: allocation-failure
 * injection, temporary files, deterministic random inputs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas.h"
#include "internal.h"
#include "testutil.h"

/* ------------------------------------------------ allocation injection */
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

static long fail_at = -1, seen;

void inject_alloc_failure(long n)
{
    fail_at = n;
    seen = 0;
}

long alloc_count(void) { return seen; }

static int should_fail(void)
{
    return fail_at >= 0 && seen++ == fail_at;
}

void *__wrap_malloc(size_t size) { return should_fail() ? NULL : __real_malloc(size); }

void *__wrap_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return should_fail() ? NULL : __real_realloc(p, size);
}

/* ------------------------------------------------ the light mode */

/* LOWRANK_TEST_LIGHT in the environment (`make check-valgrind` sets it):
 * every LIGHT_ALLOC_STRIDE-th allocation failure and every
 * LIGHT_LOOP_STRIDE-th iteration of a loop test only.  Under valgrind the
 * numerical suites run 100 to 300 times slower, and every failure path and
 * every iteration (another shape, dtype or operator kind through the same
 * code) already runs in `make check`, and under AddressSanitizer and
 * LeakSanitizer in `make check-asan`. */
#define LIGHT_ALLOC_STRIDE 7
#define LIGHT_LOOP_STRIDE 3

static int light_mode(void) { return getenv("LOWRANK_TEST_LIGHT") != NULL; }

void light_add_loop_test(TCase *tc, const TTest *t, int start, int end)
{
    if (!light_mode()) {
        _tcase_add_test(tc, t, 0, 0, start, end);
        return;
    }
    for (int i = start; i < end; i += LIGHT_LOOP_STRIDE)
        _tcase_add_test(tc, t, 0, 0, i, i + 1);
}

long check_alloc_failures(int (*call)(void *ctx), void *ctx)
{
    long stride = light_mode() ? LIGHT_ALLOC_STRIDE : 1;
    for (long n = 0;; n += stride) {
        inject_alloc_failure(n);
        int rc = call(ctx);
        long used = alloc_count();
        inject_alloc_failure(-1);
        if (used <= n) { /* no allocation failed: the run made `used` of them */
            ck_assert_msg(rc == LOWRANK_OK, "call failed without an injected failure: %s: %s",
                          lowrank_strerror(rc), lowrank_last_error());
            return used;
        }
        ck_assert_msg(rc != OUTPUT_BROKEN, "allocation %ld failed: output not NULL", n);
        ck_assert_msg(rc == LOWRANK_ENOMEM, "allocation %ld failed but the call returned %d (%s)",
                      n, rc, lowrank_strerror(rc));
    }
}

int output_status(int rc, const void *out)
{
    return (rc == LOWRANK_OK) == (out != NULL) ? rc : OUTPUT_BROKEN;
}

/* ------------------------------------------------ files */
static char dir[256];

static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* Made by run_suite before Check forks the tests, and removed by it after
 * they ran: forked children exit without running atexit handlers. */
const char *test_dir(void)
{
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/lowrank-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror(dir);
            exit(EXIT_FAILURE);
        }
    }
    return dir;
}

void test_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", test_dir(), name);
}

void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

unsigned char *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            buf = realloc(buf, cap *= 2);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

const char *data_dir(void)
{
    static char path[4096];
    if (!path[0]) {
        const char *src = getenv("SRCDIR"); /* set by make check */
        snprintf(path, sizeof path, "%s/tests/data", src && *src ? src : ".");
    }
    return path;
}

/* ------------------------------------------------ random inputs */
lowrank_matrix *random_matrix(lowrank_dtype dtype, lowrank_layout layout, int64_t rows,
                              int64_t cols, uint64_t seed)
{
    lowrank_matrix *m;
    lr_rng r;
    lr_rng_seed(&r, seed);
    ck_assert_ok(lowrank_matrix_new(dtype, layout, rows, cols, &m));
    /* stored directly: an assertion per element would dominate large tests */
    int64_t ld = lowrank_matrix_ld(m), rs = layout == LOWRANK_ROW_MAJOR ? ld : 1,
            cs = layout == LOWRANK_ROW_MAJOR ? 1 : ld;
    void *data = lowrank_matrix_data(m);
    for (int64_t j = 0; j < cols; j++)
        for (int64_t i = 0; i < rows; i++) {
            double v = lr_rng_normal(&r);
            if (dtype == LOWRANK_FLOAT32)
                ((float *)data)[i * rs + j * cs] = (float)v;
            else
                ((double *)data)[i * rs + j * cs] = v;
        }
    return m;
}

void random_basis(lr_rng *r, int64_t d, int64_t k, double *q)
{
    double *rr = malloc((size_t)(k * k) * sizeof *rr);
    if (!rr)
        abort();
    for (int64_t i = 0; i < d * k; i++)
        q[i] = lr_rng_normal(r);
    if (lr_qr(LOWRANK_FLOAT64, d, k, q, d, rr, k) != LOWRANK_OK)
        abort();
    free(rr);
}

double *haystack(int64_t n, int64_t d, int64_t k, double outliers, uint64_t seed, double *u,
                 double *x)
{
    lr_rng r;
    lr_rng_seed(&r, seed);
    random_basis(&r, d, k, u);
    double z[8];
    if (k > 8)
        abort();
    for (int64_t i = 0; i < n; i++) {
        int out = lr_rng_uniform(&r) < outliers;
        for (int64_t a = 0; a < k; a++)
            z[a] = lr_rng_normal(&r);
        for (int64_t j = 0; j < d; j++) {
            double v = 0;
            for (int64_t a = 0; a < k; a++)
                v += u[j + a * d] * z[a];
            x[i + j * n] = out ? 5 * lr_rng_normal(&r) : v + 1e-3 * lr_rng_normal(&r);
        }
    }
    return x;
}

int run_suite(Suite *s)
{
    test_dir();
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_dir();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ------------------------------------------------ SVD truths */

/* All min(m, n) singular values of a, descending, by LAPACK's gesdd on a
 * float64 copy. */
double *svd_truth(const lowrank_matrix *a)
{
    lowrank_matrix *c;
    ck_assert_ok(lowrank_matrix_convert(a, LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, &c));
    int64_t mn = a->rows < a->cols ? a->rows : a->cols;
    double *s = malloc((size_t)mn * sizeof *s);
    ck_assert_ok(
        lr_gesdd(LOWRANK_FLOAT64, a->rows, a->cols, c->data, a->rows, s, NULL, 1, NULL, 1));
    lowrank_matrix_free(c);
    return s;
}

/* ||a - U diag(S) V^T||_F, the product formed in float64. */
double svd_distance(const lowrank_matrix *a, const lowrank_factors *f)
{
    lowrank_matrix *r;
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, a->rows, a->cols, &r));
    ck_assert_ok(lowrank_factors_reconstruct(f, r));
    double d = 0;
    for (int64_t j = 0; j < a->cols; j++)
        for (int64_t i = 0; i < a->rows; i++) {
            double e = lr_matrix_at(a, i, j) - lr_matrix_at(r, i, j);
            d += e * e;
        }
    lowrank_matrix_free(r);
    return sqrt(d);
}

/* max |X^T X - I| over the columns of x (rows when by_rows). */
double orthonormality(const lowrank_matrix *x, int by_rows)
{
    int64_t k = by_rows ? x->rows : x->cols, len = by_rows ? x->cols : x->rows;
    double worst = 0;
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = a; b < k; b++) {
            double d = 0;
            for (int64_t i = 0; i < len; i++)
                d += by_rows ? lr_matrix_at(x, a, i) * lr_matrix_at(x, b, i)
                             : lr_matrix_at(x, i, a) * lr_matrix_at(x, i, b);
            worst = fmax(worst, fabs(d - (a == b)));
        }
    return worst;
}

/* The largest residual of the triplets in f, max over i of
 * ||A v_i - s_i u_i|| and ||A^T u_i - s_i v_i||, in float64: below
 * max(m, n) u s_1 they are the exact triplets of a matrix that close to A,
 * LAPACK's own accuracy, which puts each vector within that distance over
 * the gap to its neighbours. */
double triplet_residual(const lowrank_matrix *a, const lowrank_factors *f)
{
    const lowrank_matrix *u = lowrank_factors_u(f), *sv = lowrank_factors_s(f),
                         *vt = lowrank_factors_vt(f);
    double worst = 0;
    for (int64_t c = 0; c < sv->rows; c++) {
        double s = lr_matrix_at(sv, c, 0), left = 0, right = 0;
        for (int64_t i = 0; i < a->rows; i++) {
            double d = -s * lr_matrix_at(u, i, c);
            for (int64_t j = 0; j < a->cols; j++)
                d += lr_matrix_at(a, i, j) * lr_matrix_at(vt, c, j);
            left += d * d;
        }
        for (int64_t j = 0; j < a->cols; j++) {
            double d = -s * lr_matrix_at(vt, c, j);
            for (int64_t i = 0; i < a->rows; i++)
                d += lr_matrix_at(a, i, j) * lr_matrix_at(u, i, c);
            right += d * d;
        }
        worst = fmax(worst, sqrt(fmax(left, right)));
    }
    return worst;
}

/* A = U diag(s) V^T with U, V the Q factors of Gaussian matrices. */
lowrank_matrix *with_spectrum(lowrank_dtype t, lowrank_layout l, int64_t m, int64_t n,
                                     const double *s, uint64_t seed)
{
    int64_t r = m < n ? m : n;
    lowrank_matrix *u = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, m, r, seed),
                   *v = random_matrix(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, n, r, seed + 1), *a64,
                   *a;
    double *ud = u->data;
    ck_assert_ok(lr_qr(LOWRANK_FLOAT64, m, r, ud, m, NULL, 1));
    ck_assert_ok(lr_qr(LOWRANK_FLOAT64, n, r, v->data, n, NULL, 1));
    for (int64_t j = 0; j < r; j++)
        for (int64_t i = 0; i < m; i++)
            ud[i + j * m] *= s[j];
    ck_assert_ok(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, m, n, &a64));
    ck_assert_ok(lr_gemm(LOWRANK_FLOAT64, 'N', 'T', m, n, r, 1.0, ud, m, v->data, n, 0.0,
                         a64->data, m));
    ck_assert_ok(lowrank_matrix_convert(a64, t, l, &a));
    lowrank_matrix_free(u);
    lowrank_matrix_free(v);
    lowrank_matrix_free(a64);
    return a;
}
