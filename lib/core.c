/*
 * core.c - version, status codes, the per-thread error message and checked
 * allocation: what every other part relies on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

unsigned lowrank_version_number(void) { return LOWRANK_VERSION_NUMBER; }

const char *lowrank_version_string(void) { return LOWRANK_VERSION_STRING; }

const char *lowrank_strerror(int code)
{
    switch (code) {
    case LOWRANK_OK: return "success";
    case LOWRANK_EINVAL: return "invalid argument";
    case LOWRANK_ESIZE: return "invalid size";
    case LOWRANK_ERANGE: return "parameter out of range";
    case LOWRANK_ENONFINITE: return "input holds NaN or infinity";
    case LOWRANK_EOVERFLOW: return "size overflow";
    case LOWRANK_ENOMEM: return "out of memory";
    case LOWRANK_EIO: return "input/output error";
    case LOWRANK_EFORMAT: return "malformed file";
    case LOWRANK_EUNSUPPORTED: return "unsupported input";
    case LOWRANK_ENOCONV: return "no convergence";
    case LOWRANK_EDEGENERATE: return "degenerate input";
    case LOWRANK_EINTERNAL: return "internal error";
    case LOWRANK_ECANCELED: return "canceled";
    case LOWRANK_ECALLBACK: return "callback failed";
    case LOWRANK_ECOMM: return "communication failed";
    default: return "unknown error code";
    }
}

/* One message per thread: the library has no other mutable state shared by
 * calls, so distinct handles can be used from distinct threads. */
static _Thread_local char last_error[512];

const char *lowrank_last_error(void) { return last_error; }

int lr_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

size_t lr_dtype_size(lowrank_dtype dtype)
{
    switch (dtype) {
    case LOWRANK_FLOAT32: return sizeof(float);
    case LOWRANK_FLOAT64: return sizeof(double);
    default: return 0;
    }
}

int lr_dtype_valid(lowrank_dtype dtype) { return lr_dtype_size(dtype) != 0; }

int lr_layout_valid(lowrank_layout layout)
{
    return layout == LOWRANK_ROW_MAJOR || layout == LOWRANK_COL_MAJOR;
}

const char *lr_dtype_name(lowrank_dtype dtype)
{
    return dtype == LOWRANK_FLOAT32 ? "float32" : "float64";
}

int lr_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)INT64_MAX / a)
        return lr_fail(LOWRANK_EOVERFLOW, "size %zu x %zu overflows", a, b);
    *out = a * b;
    return LOWRANK_OK;
}

/* Scratch sizes derive from matrices that already exist, so an overflowing
 * request is reported like any allocation that cannot be met. */
static void *checked_alloc(size_t count, size_t size, int zero)
{
    size_t bytes;
    if (size != 0 && count > SIZE_MAX / size) {
        lr_fail(LOWRANK_ENOMEM, "cannot allocate %zu x %zu bytes", count, size);
        return NULL;
    }
    bytes = count * size;
    if (bytes == 0) /* malloc(0) may return NULL on success */
        bytes = 1;
    void *p = zero ? calloc(bytes, 1) : malloc(bytes);
    if (!p)
        lr_fail(LOWRANK_ENOMEM, "cannot allocate %zu bytes", bytes);
    return p;
}

void *lr_malloc(size_t count, size_t size) { return checked_alloc(count, size, 0); }

void *lr_calloc(size_t count, size_t size) { return checked_alloc(count, size, 1); }
