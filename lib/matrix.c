/*
 * matrix.c - matrix handles: owning or wrapping float32/float64 storage in
 * either layout, element access, copies and conversions.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int check_kind(lowrank_dtype dtype, lowrank_layout layout)
{
    if (!lr_dtype_valid(dtype))
        return lr_fail(LOWRANK_EINVAL, "dtype %d is neither LOWRANK_FLOAT32 nor LOWRANK_FLOAT64",
                       (int)dtype);
    if (!lr_layout_valid(layout))
        return lr_fail(LOWRANK_EINVAL,
                       "layout %d is neither LOWRANK_ROW_MAJOR (101) nor LOWRANK_COL_MAJOR (102)",
                       (int)layout);
    return LOWRANK_OK;
}

static int check_dims(int64_t rows, int64_t cols)
{
    if (rows < 1)
        return lr_fail(LOWRANK_ESIZE, "rows = %lld must be at least 1", (long long)rows);
    if (cols < 1)
        return lr_fail(LOWRANK_ESIZE, "cols = %lld must be at least 1", (long long)cols);
    return LOWRANK_OK;
}

/* Bytes spanned by a matrix whose outer dimension is outer, inner inner and
 * leading dimension ld: (outer - 1) * ld + inner elements. */
static int extent_bytes(lowrank_dtype dtype, int64_t outer, int64_t inner, int64_t ld,
                        size_t *bytes)
{
    size_t elems, span;
    int rc = lr_mul_size((size_t)(outer - 1), (size_t)ld, &span);
    if (rc == LOWRANK_OK && span > (size_t)INT64_MAX - (size_t)inner)
        rc = lr_fail(LOWRANK_EOVERFLOW, "matrix extent overflows");
    if (rc == LOWRANK_OK)
        rc = lr_mul_size(span + (size_t)inner, lr_dtype_size(dtype), &elems);
    if (rc != LOWRANK_OK)
        return lr_fail(LOWRANK_EOVERFLOW,
                       "a %lld x %lld matrix (leading dimension %lld) overflows the address space",
                       (long long)outer, (long long)inner, (long long)ld);
    *bytes = elems;
    return LOWRANK_OK;
}

static int64_t inner_dim(lowrank_layout layout, int64_t rows, int64_t cols)
{
    return layout == LOWRANK_ROW_MAJOR ? cols : rows;
}

static int64_t outer_dim(lowrank_layout layout, int64_t rows, int64_t cols)
{
    return layout == LOWRANK_ROW_MAJOR ? rows : cols;
}

int lr_matrix_alloc(lowrank_dtype dtype, lowrank_layout layout, int64_t rows, int64_t cols,
                    int zero, lowrank_matrix **out)
{
    int64_t inner = inner_dim(layout, rows, cols);
    size_t bytes;
    int rc = extent_bytes(dtype, outer_dim(layout, rows, cols), inner, inner, &bytes);
    if (rc != LOWRANK_OK)
        return rc;
    lowrank_matrix *m = lr_malloc(1, sizeof *m);
    void *data = m ? (zero ? lr_calloc(bytes, 1) : lr_malloc(bytes, 1)) : NULL;
    if (!data) {
        free(m);
        return LOWRANK_ENOMEM;
    }
    *m = (lowrank_matrix){dtype, layout, rows, cols, inner, data, 1};
    *out = m;
    return LOWRANK_OK;
}

int lowrank_matrix_new(lowrank_dtype dtype, lowrank_layout layout, int64_t rows, int64_t cols,
                       lowrank_matrix **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int rc = check_kind(dtype, layout);
    if (rc == LOWRANK_OK)
        rc = check_dims(rows, cols);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_alloc(dtype, layout, rows, cols, 1, out);
    return rc;
}

int lowrank_matrix_wrap(lowrank_dtype dtype, lowrank_layout layout, int64_t rows, int64_t cols,
                        void *data, int64_t ld, lowrank_matrix **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!data)
        return lr_fail(LOWRANK_EINVAL, "data is NULL");
    int rc = check_kind(dtype, layout);
    if (rc == LOWRANK_OK)
        rc = check_dims(rows, cols);
    if (rc != LOWRANK_OK)
        return rc;
    int64_t inner = inner_dim(layout, rows, cols);
    if (ld < inner)
        return lr_fail(LOWRANK_ESIZE, "ld = %lld is less than %s = %lld", (long long)ld,
                       layout == LOWRANK_ROW_MAJOR ? "cols" : "rows", (long long)inner);
    size_t bytes;
    rc = extent_bytes(dtype, outer_dim(layout, rows, cols), inner, ld, &bytes);
    if (rc != LOWRANK_OK)
        return rc;
    lowrank_matrix *m = lr_malloc(1, sizeof *m);
    if (!m)
        return LOWRANK_ENOMEM;
    *m = (lowrank_matrix){dtype, layout, rows, cols, ld, data, 0};
    *out = m;
    return LOWRANK_OK;
}

void lowrank_matrix_free(lowrank_matrix *m)
{
    if (!m)
        return;
    if (m->owns_data)
        free(m->data);
    free(m);
}

int64_t lowrank_matrix_rows(const lowrank_matrix *m) { return m ? m->rows : 0; }
int64_t lowrank_matrix_cols(const lowrank_matrix *m) { return m ? m->cols : 0; }
int64_t lowrank_matrix_ld(const lowrank_matrix *m) { return m ? m->ld : 0; }
lowrank_dtype lowrank_matrix_dtype(const lowrank_matrix *m) { return m ? m->dtype : 0; }
lowrank_layout lowrank_matrix_layout(const lowrank_matrix *m) { return m ? m->layout : 0; }
void *lowrank_matrix_data(const lowrank_matrix *m) { return m ? m->data : NULL; }

/* Offset of element (i, j) in elements from the first one. */
static size_t offset_of(const lowrank_matrix *m, int64_t i, int64_t j)
{
    return m->layout == LOWRANK_ROW_MAJOR ? (size_t)i * (size_t)m->ld + (size_t)j
                                          : (size_t)i + (size_t)j * (size_t)m->ld;
}

double lr_matrix_at(const lowrank_matrix *m, int64_t i, int64_t j)
{
    size_t off = offset_of(m, i, j);
    return m->dtype == LOWRANK_FLOAT32 ? (double)((const float *)m->data)[off]
                                       : ((const double *)m->data)[off];
}

/* Store v at (i, j); the caller has checked that v fits the dtype. */
static void store_at(lowrank_matrix *m, int64_t i, int64_t j, double v)
{
    size_t off = offset_of(m, i, j);
    if (m->dtype == LOWRANK_FLOAT32)
        ((float *)m->data)[off] = (float)v;
    else
        ((double *)m->data)[off] = v;
}

static int check_index(const lowrank_matrix *m, int64_t i, int64_t j)
{
    if (i < 0 || i >= m->rows || j < 0 || j >= m->cols)
        return lr_fail(LOWRANK_ERANGE, "index (%lld, %lld) is outside the %lld x %lld matrix",
                       (long long)i, (long long)j, (long long)m->rows, (long long)m->cols);
    return LOWRANK_OK;
}

/* Whether a double rounds to a finite float32 when it is finite itself:
 * values past FLT_MAX by less than half an ulp still round to FLT_MAX. */
static int fits_float32(double v)
{
    const double limit = (double)FLT_MAX + ldexp(1.0, 127 - 24);
    return !isfinite(v) || fabs(v) < limit;
}

int lowrank_matrix_get(const lowrank_matrix *m, int64_t i, int64_t j, double *value)
{
    int rc = lr_check_matrix(m, "m");
    if (rc == LOWRANK_OK && !value)
        rc = lr_fail(LOWRANK_EINVAL, "value is NULL");
    if (rc == LOWRANK_OK)
        rc = check_index(m, i, j);
    if (rc == LOWRANK_OK)
        *value = lr_matrix_at(m, i, j);
    return rc;
}

int lowrank_matrix_set(lowrank_matrix *m, int64_t i, int64_t j, double value)
{
    int rc = lr_check_matrix(m, "m");
    if (rc == LOWRANK_OK)
        rc = check_index(m, i, j);
    if (rc == LOWRANK_OK && m->dtype == LOWRANK_FLOAT32 && !fits_float32(value))
        rc = lr_fail(LOWRANK_ERANGE, "value %g overflows float32", value);
    if (rc == LOWRANK_OK)
        store_at(m, i, j, value);
    return rc;
}

/* Copy elements column by column of the destination's outer dimension; the
 * same-dtype same-layout case is a memcpy per row or column. */
static void copy_elements(const lowrank_matrix *src, lowrank_matrix *dst)
{
    if (src->dtype == dst->dtype && src->layout == dst->layout) {
        int64_t outer = outer_dim(src->layout, src->rows, src->cols);
        size_t esz = lr_dtype_size(src->dtype);
        size_t row_bytes = (size_t)inner_dim(src->layout, src->rows, src->cols) * esz;
        for (int64_t o = 0; o < outer; o++)
            memcpy((char *)dst->data + (size_t)o * (size_t)dst->ld * esz,
                   (const char *)src->data + (size_t)o * (size_t)src->ld * esz, row_bytes);
        return;
    }
    for (int64_t j = 0; j < src->cols; j++)
        for (int64_t i = 0; i < src->rows; i++)
            store_at(dst, i, j, lr_matrix_at(src, i, j));
}

/* The first element of a float64 matrix that overflows float32, if any. */
static int check_fits_float32(const lowrank_matrix *src)
{
    for (int64_t j = 0; j < src->cols; j++)
        for (int64_t i = 0; i < src->rows; i++) {
            double v = lr_matrix_at(src, i, j);
            if (!fits_float32(v))
                return lr_fail(LOWRANK_ERANGE, "element (%lld, %lld) = %g overflows float32",
                               (long long)i, (long long)j, v);
        }
    return LOWRANK_OK;
}

int lowrank_matrix_convert(const lowrank_matrix *src, lowrank_dtype dtype, lowrank_layout layout,
                           lowrank_matrix **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int rc = lr_check_matrix(src, "src");
    if (rc == LOWRANK_OK)
        rc = check_kind(dtype, layout);
    if (rc == LOWRANK_OK && dtype == LOWRANK_FLOAT32 && src->dtype == LOWRANK_FLOAT64)
        rc = check_fits_float32(src);
    if (rc == LOWRANK_OK)
        rc = lr_matrix_alloc(dtype, layout, src->rows, src->cols, 0, out);
    if (rc == LOWRANK_OK)
        copy_elements(src, *out);
    return rc;
}

int lowrank_matrix_copy(const lowrank_matrix *src, lowrank_matrix **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int rc = lr_check_matrix(src, "src");
    return rc == LOWRANK_OK ? lowrank_matrix_convert(src, src->dtype, src->layout, out) : rc;
}

int lr_check_matrix(const lowrank_matrix *m, const char *name)
{
    return m ? LOWRANK_OK : lr_fail(LOWRANK_EINVAL, "%s is NULL", name);
}

int lr_check_finite(const lowrank_matrix *m, const char *name)
{
    int64_t vm, vn;
    int transposed;
    lr_colmajor_view(m, &vm, &vn, &transposed);
    for (int64_t j = 0; j < vn; j++) {
        size_t col = (size_t)j * (size_t)m->ld;
        for (int64_t i = 0; i < vm; i++) {
            double v = m->dtype == LOWRANK_FLOAT32 ? ((const float *)m->data)[col + i]
                                                   : ((const double *)m->data)[col + i];
            if (!isfinite(v))
                return lr_fail(LOWRANK_ENONFINITE, "%s(%lld, %lld) = %g is not finite", name,
                               (long long)(transposed ? j : i), (long long)(transposed ? i : j),
                               v);
        }
    }
    return LOWRANK_OK;
}

void lr_colmajor_view(const lowrank_matrix *m, int64_t *vm, int64_t *vn, int *transposed)
{
    *transposed = m->layout == LOWRANK_ROW_MAJOR;
    *vm = *transposed ? m->cols : m->rows;
    *vn = *transposed ? m->rows : m->cols;
}

int lr_matrix_from_f64(lowrank_dtype dtype, lowrank_layout layout, int64_t rows, int64_t cols,
                       const double *src, int64_t lds, lowrank_matrix **out)
{
    *out = NULL;
    for (int64_t j = 0; j < cols; j++)
        for (int64_t i = 0; i < rows; i++) {
            double v = src[i + j * lds];
            if (!isfinite(v) || (dtype == LOWRANK_FLOAT32 && !fits_float32(v)))
                return lr_fail(LOWRANK_ERANGE, "result element (%lld, %lld) = %g overflows %s",
                               (long long)i, (long long)j, v, lr_dtype_name(dtype));
        }
    int rc = lr_matrix_alloc(dtype, layout, rows, cols, 0, out);
    if (rc != LOWRANK_OK)
        return rc;
    for (int64_t j = 0; j < cols; j++)
        for (int64_t i = 0; i < rows; i++)
            store_at(*out, i, j, src[i + j * lds]);
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ magnitudes */

/* Exponents of the band in which the algorithms computing in a dtype run
 * unscaled: a largest magnitude 2^b gives squares 2^2b, and sums of up to
 * 2^62 of them (every size int64_t allows) stay below the dtype's largest
 * value, 2^128 or 2^1024; likewise 2^-b keeps squares above its smallest
 * normal, 2^-126 or 2^-1022.  svd.c applies the same band to itself. */
#define BAND_FLOAT32 20
#define BAND_FLOAT64 250

int lr_scale_exponent(double log2max, lowrank_dtype work)
{
    double band = work == LOWRANK_FLOAT32 ? BAND_FLOAT32 : BAND_FLOAT64;
    if (!isfinite(log2max) || (log2max >= -band && log2max <= band))
        return 0;
    return -(int)floor(log2max);
}

/* The largest magnitude of column j of the column-major view of m. */
static double column_max_abs(const lowrank_matrix *m, int64_t vm, int64_t j)
{
    double big = 0;
    size_t col = (size_t)j * (size_t)m->ld;
    if (m->dtype == LOWRANK_FLOAT32) {
        const float *x = (const float *)m->data + col;
        for (int64_t i = 0; i < vm; i++)
            big = isnan(x[i]) ? NAN : fmax(big, fabs((double)x[i]));
    } else {
        const double *x = (const double *)m->data + col;
        for (int64_t i = 0; i < vm; i++)
            big = isnan(x[i]) ? NAN : fmax(big, fabs(x[i]));
    }
    return big;
}

double lr_matrix_max_abs(const lowrank_matrix *m)
{
    int64_t vm, vn;
    int transposed;
    lr_colmajor_view(m, &vm, &vn, &transposed);
    double big = 0;
    for (int64_t j = 0; j < vn && !isnan(big); j++) {
        double c = column_max_abs(m, vm, j);
        big = isnan(c) ? c : fmax(big, c);
    }
    return big;
}

/* Every element of the column-major view of src times r 2^e into the compact
 * dst of the same dtype and layout (or in place, dst = src); exact for
 * r = 1 unless a value leaves the dtype's normal range. */
static void scale_elements(const lowrank_matrix *src, int e, double r, lowrank_matrix *dst)
{
    int64_t vm, vn;
    int transposed;
    lr_colmajor_view(src, &vm, &vn, &transposed);
    for (int64_t j = 0; j < vn; j++) {
        size_t from = (size_t)j * (size_t)src->ld, to = (size_t)j * (size_t)dst->ld;
        if (src->dtype == LOWRANK_FLOAT32)
            for (int64_t i = 0; i < vm; i++)
                ((float *)dst->data)[to + i] =
                    (float)ldexp(r * (double)((const float *)src->data)[from + i], e);
        else
            for (int64_t i = 0; i < vm; i++)
                ((double *)dst->data)[to + i] = ldexp(r * ((const double *)src->data)[from + i], e);
    }
}

int lr_scale_into_range(const lowrank_matrix *a, lowrank_dtype work, lr_scaled *s)
{
    *s = (lr_scaled){a, NULL, 0};
    if (!a)
        return LOWRANK_OK;
    double big = lr_matrix_max_abs(a);
    int e = big > 0 ? lr_scale_exponent(log2(big), work) : 0;
    if (e == 0)
        return LOWRANK_OK;
    int rc = lr_matrix_scaled_copy(a, e, 1.0, &s->copy);
    if (rc != LOWRANK_OK)
        return rc;
    s->m = s->copy;
    s->exp = e;
    return LOWRANK_OK;
}

int lr_matrix_scaled_copy(const lowrank_matrix *a, int e, double r, lowrank_matrix **out)
{
    int rc = lr_matrix_alloc(a->dtype, a->layout, a->rows, a->cols, 0, out);
    if (rc == LOWRANK_OK)
        scale_elements(a, e, r, *out);
    return rc;
}

void lr_scaled_free(lr_scaled *s)
{
    lowrank_matrix_free(s->copy);
    s->copy = NULL;
    s->m = NULL;
}

int lr_matrix_unscale(lowrank_matrix *m, int e, int keep_normal, const char *what)
{
    double big = lr_matrix_max_abs(m), scaled = ldexp(big, e);
    int f32 = m->dtype == LOWRANK_FLOAT32;
    if (!isfinite(big))
        return lr_fail(LOWRANK_ERANGE, "%s holds NaN or infinity: an intermediate overflowed",
                       what);
    if (!isfinite(scaled) || (f32 && !fits_float32(scaled)))
        return lr_fail(LOWRANK_ERANGE, "%s: a value of about 2^%.1f overflows %s", what,
                       log2(big) + e, lr_dtype_name(m->dtype));
    if (keep_normal && big == 0)
        return lr_fail(LOWRANK_ERANGE, "%s underflows %s: every value is below its range", what,
                       lr_dtype_name(m->dtype));
    if (keep_normal && scaled < (f32 ? FLT_MIN : DBL_MIN))
        return lr_fail(LOWRANK_ERANGE,
                       "%s: the largest value, about 2^%.1f, is below the normal range of %s",
                       what, log2(big) + e, lr_dtype_name(m->dtype));
    if (e != 0)
        scale_elements(m, e, 1.0, m);
    return LOWRANK_OK;
}

double lr_times_exp2(double v, double t)
{
    double whole = fmax(fmin(floor(t), 4096), -4096);
    if (t == whole)
        return ldexp(v, (int)whole);
    /* |v| 2^(t - whole - 1) <= |v| cannot overflow; ldexp rounds once */
    return ldexp(v * exp2(t - whole - 1), (int)whole + 1);
}

int lr_unscale_real(double v, double t, const char *what, double *out)
{
    double r = lr_times_exp2(v, t);
    if (!isfinite(r) || (v != 0 && fabs(r) < DBL_MIN))
        return lr_fail(LOWRANK_ERANGE, "%s, about 2^%.1f, is outside the range of double", what,
                       log2(fabs(v)) + t);
    *out = r;
    return LOWRANK_OK;
}
