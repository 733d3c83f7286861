/*
 * npy.c - reading and writing NumPy .npy files (format versions 1.0, 2.0 and
 * 3.0) as matrix handles.  Files are untrusted: every length in them is
 * checked against the bytes actually present before anything is allocated
 * or read.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* numpy itself refuses headers beyond 10000 bytes unless told otherwise;
 * anything near a megabyte is an attack, not an array. */
#define NPY_MAX_HEADER (1u << 20)

typedef struct npy_header {
    lowrank_dtype dtype;
    int swap;          /* data byte order differs from the host's */
    int fortran_order; /* column-major */
    int ndim;
    int64_t shape[2];
    int any;           /* accept any simple dtype and 0-D arrays (lr_npy_parse_array) */
    char kind;         /* with any: the dtype's kind, 'f', 'i', 'u', 'S' or 'U' */
    int itemsize;      /* with any: its size in bytes */
} npy_header;

/* ---------------------------------------------------------------- parsing */

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int accept(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static int bad_header(const char *what)
{
    return lr_fail(LOWRANK_EFORMAT, "malformed .npy header: %s", what);
}

/* A Python string literal in single or double quotes, without escapes
 * (none of the values numpy writes needs one). */
static int parse_string(cursor *c, const char **s, size_t *len)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return bad_header("expected a string");
    char quote = *c->p++;
    const char *start = c->p;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p == '\\')
            return bad_header("escape in a string");
        c->p++;
    }
    if (c->p >= c->end)
        return bad_header("unterminated string");
    *s = start;
    *len = (size_t)(c->p - start);
    c->p++;
    return LOWRANK_OK;
}

static int is_word(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(s, word, len) == 0;
}

static int parse_bool(cursor *c, int *value)
{
    skip_space(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && memcmp(c->p, "True", 4) == 0) {
        c->p += 4;
        *value = 1;
    } else if (left >= 5 && memcmp(c->p, "False", 5) == 0) {
        c->p += 5;
        *value = 0;
    } else {
        return bad_header("fortran_order is neither True nor False");
    }
    return LOWRANK_OK;
}

static int parse_dim(cursor *c, int64_t *dim)
{
    skip_space(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return bad_header("a shape entry is not a non-negative integer");
    int64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        int digit = *c->p++ - '0';
        if (v > (INT64_MAX - digit) / 10)
            return lr_fail(LOWRANK_EOVERFLOW, ".npy shape entry overflows int64");
        v = v * 10 + digit;
    }
    if (c->p < c->end && *c->p == 'L') /* written by Python 2 */
        c->p++;
    *dim = v;
    return LOWRANK_OK;
}

/* A tuple of at most two integers, "(3, 4)", "(5,)" or "()"; a third entry
 * is reported as unsupported after the whole tuple parses. */
static int parse_shape(cursor *c, npy_header *h)
{
    if (!accept(c, '('))
        return bad_header("shape is not a tuple");
    int n = 0;
    while (!accept(c, ')')) {
        int64_t dim = 0;
        int rc = parse_dim(c, &dim);
        if (rc != LOWRANK_OK)
            return rc;
        if (n < 2)
            h->shape[n] = dim;
        n = n < 3 ? n + 1 : 3;
        if (!accept(c, ',')) {
            if (!accept(c, ')'))
                return bad_header("shape tuple is not closed");
            break;
        }
    }
    if ((n == 0 && !h->any) || n > 2)
        return lr_fail(LOWRANK_EUNSUPPORTED, ".npy array is %s-dimensional; only 1-D and 2-D arrays are matrices",
                       n == 0 ? "0" : "3- or more");
    h->ndim = n;
    return LOWRANK_OK;
}

static int parse_descr(cursor *c, npy_header *h)
{
    const char *s;
    size_t len;
    int rc = parse_string(c, &s, &len);
    if (rc != LOWRANK_OK)
        return rc;
    static const union { uint16_t u; unsigned char b[2]; } probe = {1};
    int host_little = probe.b[0] == 1;
    if (len == 3 && (s[0] == '<' || s[0] == '>' || s[0] == '=') && s[1] == 'f' &&
        (s[2] == '4' || s[2] == '8')) {
        h->dtype = s[2] == '4' ? LOWRANK_FLOAT32 : LOWRANK_FLOAT64;
        h->swap = s[0] != '=' && (s[0] == '<') != host_little;
        h->kind = 'f';
        h->itemsize = s[2] - '0';
        return LOWRANK_OK;
    }
    if (h->any && len >= 3 && len <= 5 && strchr("<>=|", s[0]) && strchr("fiuSU", s[1])) {
        int size = 0;
        for (size_t i = 2; i < len && size >= 0; i++)
            size = s[i] >= '0' && s[i] <= '9' ? size * 10 + (s[i] - '0') : -1;
        if (size > 0) {
            h->kind = s[1];
            h->itemsize = s[1] == 'U' ? 4 * size : size; /* 'U': UCS-4 characters */
            h->swap = (s[0] == '<' || s[0] == '>') && (s[0] == '<') != host_little;
            return LOWRANK_OK;
        }
    }
    return lr_fail(LOWRANK_EUNSUPPORTED, ".npy dtype '%.*s' is not float32 or float64 ('<f4', '>f4', '<f8', '>f8')",
                   (int)(len > 40 ? 40 : len), s);
}

/* The header dictionary: exactly the keys descr, fortran_order and shape. */
static int parse_header(const char *text, size_t len, npy_header *h)
{
    cursor c = {text, text + len};
    int seen[3] = {0, 0, 0};
    if (!accept(&c, '{'))
        return bad_header("not a dictionary");
    while (!accept(&c, '}')) {
        const char *key;
        size_t klen;
        int rc = parse_string(&c, &key, &klen);
        if (rc != LOWRANK_OK)
            return rc;
        if (!accept(&c, ':'))
            return bad_header("expected ':'");
        int which = is_word(key, klen, "descr")           ? 0
                    : is_word(key, klen, "fortran_order") ? 1
                    : is_word(key, klen, "shape")         ? 2
                                                          : -1;
        if (which < 0)
            return bad_header("unknown key");
        if (seen[which]++)
            return bad_header("repeated key");
        rc = which == 0 ? parse_descr(&c, h)
             : which == 1 ? parse_bool(&c, &h->fortran_order)
                          : parse_shape(&c, h);
        if (rc != LOWRANK_OK)
            return rc;
        if (!accept(&c, ',')) {
            if (!accept(&c, '}'))
                return bad_header("expected ',' or '}'");
            break;
        }
    }
    if (!seen[0] || !seen[1] || !seen[2])
        return bad_header("descr, fortran_order or shape is missing");
    skip_space(&c);
    if (c.p != c.end)
        return bad_header("text after the dictionary");
    return LOWRANK_OK;
}

/* The fixed prelude: magic, version, header length.  Returns the prelude's
 * length in *prelude_len and the header's in *header_len. */
static int parse_prelude(const unsigned char *b, size_t avail, size_t *prelude_len,
                         size_t *header_len)
{
    if (avail < 10 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return lr_fail(LOWRANK_EFORMAT, "not an .npy file (bad magic)");
    unsigned major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return lr_fail(LOWRANK_EUNSUPPORTED, ".npy format version %u.%u is not 1.0, 2.0 or 3.0",
                       major, minor);
    if (major == 1) {
        *prelude_len = 10;
        *header_len = (size_t)b[8] | (size_t)b[9] << 8;
    } else {
        if (avail < 12)
            return lr_fail(LOWRANK_EFORMAT, "truncated .npy prelude");
        *prelude_len = 12;
        *header_len = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    }
    if (*header_len > NPY_MAX_HEADER)
        return lr_fail(LOWRANK_EFORMAT, ".npy header of %zu bytes exceeds the %u-byte limit",
                       *header_len, NPY_MAX_HEADER);
    return LOWRANK_OK;
}

/* The matrix shape and data size a header describes; rejects empty arrays and
 * sizes that overflow. */
static int header_geometry(const npy_header *h, int64_t *rows, int64_t *cols, size_t *bytes)
{
    *rows = h->shape[0];
    *cols = h->ndim == 2 ? h->shape[1] : 1;
    if (*rows == 0 || *cols == 0)
        return lr_fail(LOWRANK_EUNSUPPORTED, ".npy array has a zero dimension (%lld x %lld)",
                       (long long)*rows, (long long)*cols);
    size_t elems;
    if (lr_mul_size((size_t)*rows, (size_t)*cols, &elems) != LOWRANK_OK ||
        lr_mul_size(elems, lr_dtype_size(h->dtype), bytes) != LOWRANK_OK)
        return lr_fail(LOWRANK_EOVERFLOW, ".npy shape (%lld, %lld) overflows", (long long)*rows,
                       (long long)*cols);
    return LOWRANK_OK;
}

static void swap_bytes(void *data, size_t count, size_t esz)
{
    unsigned char *p = data;
    for (size_t i = 0; i < count; i++, p += esz)
        for (size_t a = 0, b = esz - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* Allocate the matrix a parsed header describes, after checking that
 * data_avail bytes hold exactly its data. */
static int matrix_for_header(const npy_header *h, size_t data_avail, lowrank_matrix **m,
                             size_t *bytes)
{
    int64_t rows, cols;
    int rc = header_geometry(h, &rows, &cols, bytes);
    if (rc != LOWRANK_OK)
        return rc;
    if (data_avail < *bytes)
        return lr_fail(LOWRANK_EFORMAT, "truncated .npy file: the header declares %zu bytes of data, %zu are present",
                       *bytes, data_avail);
    if (data_avail > *bytes)
        return lr_fail(LOWRANK_EFORMAT, ".npy file has %zu bytes after its declared data",
                       data_avail - *bytes);
    return lr_matrix_alloc(h->dtype, h->fortran_order ? LOWRANK_COL_MAJOR : LOWRANK_ROW_MAJOR,
                           rows, cols, 0, m);
}

static void finish_data(const npy_header *h, lowrank_matrix *m, size_t bytes)
{
    if (h->swap)
        swap_bytes(m->data, bytes / lr_dtype_size(h->dtype), lr_dtype_size(h->dtype));
}

/* Prelude and header from the first bytes of a file or buffer; any as in
 * npy_header. */
static int parse_start(const unsigned char *b, size_t avail, int any, npy_header *h,
                       size_t *consumed)
{
    size_t prelude, hlen;
    int rc = parse_prelude(b, avail, &prelude, &hlen);
    if (rc != LOWRANK_OK)
        return rc;
    if (avail - prelude < hlen)
        return lr_fail(LOWRANK_EFORMAT, "truncated .npy header");
    *h = (npy_header){.any = any};
    rc = parse_header((const char *)b + prelude, hlen, h);
    *consumed = prelude + hlen;
    return rc;
}

int lowrank_matrix_load_npy_mem(const void *buf, int64_t size, lowrank_matrix **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!buf)
        return lr_fail(LOWRANK_EINVAL, "buf is NULL");
    if (size < 0)
        return lr_fail(LOWRANK_ESIZE, "size = %lld is negative", (long long)size);
    npy_header h;
    size_t used, bytes;
    lowrank_matrix *m = NULL;
    int rc = parse_start(buf, (size_t)size, 0, &h, &used);
    if (rc == LOWRANK_OK)
        rc = matrix_for_header(&h, (size_t)size - used, &m, &bytes);
    if (rc != LOWRANK_OK)
        return rc;
    memcpy(m->data, (const unsigned char *)buf + used, bytes);
    finish_data(&h, m, bytes);
    *out = m;
    return LOWRANK_OK;
}

static int io_error(const char *what, const char *path)
{
    return lr_fail(LOWRANK_EIO, "cannot %s '%s': %s", what, path, strerror(errno));
}

/* Read the prelude and header of an open file, leaving it positioned at the
 * data.  The first 12 bytes hold the prelude of every version; a version-1
 * header shorter than 2 bytes cannot hold a dictionary and is refused before
 * those bytes are taken for it. */
static int read_start(FILE *f, const char *path, npy_header *h)
{
    unsigned char pre[12];
    size_t got = fread(pre, 1, sizeof pre, f), prelude, hlen, consumed;
    if (ferror(f))
        return io_error("read", path);
    int rc = parse_prelude(pre, got, &prelude, &hlen);
    if (rc == LOWRANK_OK && prelude + hlen < got)
        rc = bad_header("too short");
    if (rc != LOWRANK_OK)
        return rc;
    unsigned char *whole = lr_malloc(prelude + hlen, 1);
    if (!whole)
        return LOWRANK_ENOMEM;
    memcpy(whole, pre, got);
    size_t rest = prelude + hlen - got;
    if (fread(whole + got, 1, rest, f) != rest)
        rc = ferror(f) ? io_error("read", path) : lr_fail(LOWRANK_EFORMAT, "truncated .npy header");
    else
        rc = parse_start(whole, prelude + hlen, 0, h, &consumed);
    free(whole);
    return rc;
}

/* Bytes left in a regular file after the current position; for other files
 * (pipes) *known is 0 and the data's length is checked as it is read. */
static void bytes_left(FILE *f, size_t *left, int *known)
{
    struct stat st;
    long pos = ftell(f);
    *known = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && pos >= 0 && st.st_size >= pos;
    *left = *known ? (size_t)(st.st_size - pos) : 0;
}

static int read_data(FILE *f, const char *path, const npy_header *h, lowrank_matrix **out)
{
    size_t left, bytes;
    int known;
    bytes_left(f, &left, &known);
    lowrank_matrix *m = NULL;
    int64_t rows, cols;
    int rc = known ? matrix_for_header(h, left, &m, &bytes)
                   : header_geometry(h, &rows, &cols, &bytes);
    if (rc == LOWRANK_OK && !known)
        rc = lr_matrix_alloc(h->dtype, h->fortran_order ? LOWRANK_COL_MAJOR : LOWRANK_ROW_MAJOR,
                             rows, cols, 0, &m);
    if (rc != LOWRANK_OK)
        return rc;
    if (fread(m->data, 1, bytes, f) != bytes)
        rc = ferror(f) ? io_error("read", path)
                       : lr_fail(LOWRANK_EFORMAT, "truncated .npy file: fewer data bytes than the header declares");
    else if (fgetc(f) != EOF)
        rc = lr_fail(LOWRANK_EFORMAT, ".npy file has bytes after its declared data");
    if (rc != LOWRANK_OK) {
        lowrank_matrix_free(m);
        return rc;
    }
    finish_data(h, m, bytes);
    *out = m;
    return LOWRANK_OK;
}

int lowrank_matrix_load_npy(const char *path, lowrank_matrix **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!path)
        return lr_fail(LOWRANK_EINVAL, "path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f)
        return io_error("open", path);
    npy_header h;
    int rc = read_start(f, path, &h);
    if (rc == LOWRANK_OK)
        rc = read_data(f, path, &h, out);
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------------- blocks of rows */

/* An .npy file opened for reads of parts of its data: its header, shape
 * and where the data starts.  Parts are read by offset, so the file must be
 * a regular file holding exactly the declared data. */
typedef struct npy_file {
    FILE *f;
    npy_header h;
    int64_t rows, cols;
    off_t data_at;
} npy_file;

static int npy_open(const char *path, npy_file *nf)
{
    nf->f = fopen(path, "rb");
    if (!nf->f)
        return io_error("open", path);
    size_t bytes;
    struct stat st;
    int rc = read_start(nf->f, path, &nf->h);
    if (rc == LOWRANK_OK)
        rc = header_geometry(&nf->h, &nf->rows, &nf->cols, &bytes);
    if (rc == LOWRANK_OK && (fstat(fileno(nf->f), &st) != 0 || !S_ISREG(st.st_mode)))
        rc = lr_fail(LOWRANK_EUNSUPPORTED, "'%s' is not a regular file: reading part of it "
                                           "needs to seek", path);
    if (rc == LOWRANK_OK && (nf->data_at = ftello(nf->f)) < 0)
        rc = io_error("seek in", path);
    if (rc == LOWRANK_OK && (uintmax_t)(st.st_size - nf->data_at) != (uintmax_t)bytes)
        rc = lr_fail(LOWRANK_EFORMAT, "'%s' holds %jd bytes of data where its header declares %zu",
                     path, (intmax_t)(st.st_size - nf->data_at), bytes);
    if (rc != LOWRANK_OK)
        fclose(nf->f);
    return rc;
}

int lowrank_npy_info(const char *path, int64_t *rows, int64_t *cols, lowrank_dtype *dtype,
                     lowrank_layout *layout)
{
    if (!path || !rows || !cols || !dtype || !layout)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL",
                       !path ? "path" : !rows ? "rows" : !cols ? "cols" : !dtype ? "dtype" : "layout");
    npy_file nf;
    int rc = npy_open(path, &nf);
    if (rc != LOWRANK_OK)
        return rc;
    fclose(nf.f);
    *rows = nf.rows;
    *cols = nf.cols;
    *dtype = nf.h.dtype;
    *layout = nf.h.fortran_order ? LOWRANK_COL_MAJOR : LOWRANK_ROW_MAJOR;
    return LOWRANK_OK;
}

int lr_npy_open_data(const char *path, int *fd, lr_npy_data *out)
{
    npy_file nf;
    int rc = npy_open(path, &nf);
    if (rc != LOWRANK_OK)
        return rc;
    *fd = fcntl(fileno(nf.f), F_DUPFD_CLOEXEC, 0);
    if (*fd < 0)
        rc = io_error("open", path);
    fclose(nf.f);
    *out = (lr_npy_data){nf.h.dtype, nf.h.swap, nf.h.fortran_order, nf.rows, nf.cols,
                         (int64_t)nf.data_at};
    return rc;
}

void lr_npy_swap(void *data, size_t count, size_t esz) { swap_bytes(data, count, esz); }

int lr_npy_parse_array(const void *buf, size_t size, lr_npy_array *out)
{
    npy_header h;
    size_t used, elems = 1, bytes;
    int rc = parse_start(buf, size, 1, &h, &used);
    for (int d = 0; rc == LOWRANK_OK && d < h.ndim; d++)
        if (lr_mul_size(elems, (size_t)h.shape[d], &elems) != LOWRANK_OK)
            rc = lr_fail(LOWRANK_EOVERFLOW, ".npy shape overflows");
    if (rc == LOWRANK_OK && lr_mul_size(elems, (size_t)h.itemsize, &bytes) != LOWRANK_OK)
        rc = lr_fail(LOWRANK_EOVERFLOW, ".npy shape overflows");
    if (rc == LOWRANK_OK && size - used != bytes)
        rc = lr_fail(LOWRANK_EFORMAT, ".npy array of %zu bytes holds %zu", bytes, size - used);
    if (rc == LOWRANK_OK)
        *out = (lr_npy_array){h.kind, h.itemsize, h.swap, h.fortran_order, h.ndim,
                              {h.shape[0], h.shape[1]}, used, (int64_t)elems};
    return rc;
}

/* count elements at element offset `at` of the data into dst. */
static int read_at(const npy_file *nf, const char *path, int64_t at, int64_t count, void *dst)
{
    size_t esz = lr_dtype_size(nf->h.dtype);
    if (fseeko(nf->f, nf->data_at + (off_t)at * (off_t)esz, SEEK_SET) != 0)
        return io_error("seek in", path);
    if (fread(dst, esz, (size_t)count, nf->f) != (size_t)count)
        return ferror(nf->f) ? io_error("read", path)
                             : lr_fail(LOWRANK_EFORMAT, "'%s' was truncated while it was read", path);
    return LOWRANK_OK;
}

int lowrank_matrix_load_npy_rows(const char *path, int64_t first, int64_t count,
                                 lowrank_matrix **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!path)
        return lr_fail(LOWRANK_EINVAL, "path is NULL");
    npy_file nf;
    int rc = npy_open(path, &nf);
    if (rc != LOWRANK_OK)
        return rc;
    if (first < 0 || count < 1 || first > nf.rows - count)
        rc = lr_fail(LOWRANK_ERANGE, "rows [%lld, %lld + %lld) are not within the %lld rows of '%s'",
                     (long long)first, (long long)first, (long long)count, (long long)nf.rows,
                     path);
    lowrank_matrix *m = NULL;
    if (rc == LOWRANK_OK)
        rc = lr_matrix_alloc(nf.h.dtype, nf.h.fortran_order ? LOWRANK_COL_MAJOR : LOWRANK_ROW_MAJOR,
                             count, nf.cols, 0, &m);
    size_t esz = lr_dtype_size(nf.h.dtype);
    if (rc == LOWRANK_OK && !nf.h.fortran_order) /* the rows are contiguous */
        rc = read_at(&nf, path, first * nf.cols, count * nf.cols, m->data);
    for (int64_t j = 0; rc == LOWRANK_OK && nf.h.fortran_order && j < nf.cols; j++)
        rc = read_at(&nf, path, j * nf.rows + first, count, (char *)m->data + (size_t)(j * count) * esz);
    fclose(nf.f);
    if (rc != LOWRANK_OK) {
        lowrank_matrix_free(m);
        return rc;
    }
    finish_data(&nf.h, m, (size_t)(count * nf.cols) * esz);
    *out = m;
    return LOWRANK_OK;
}

/* ---------------------------------------------------------------- writing */

/* Prelude and header for m, padded with spaces so that the data starts at a
 * multiple of 64 bytes, as numpy writes them.  Returns the length. */
static size_t format_header(const lowrank_matrix *m, char buf[256])
{
    static const union { uint16_t u; unsigned char b[2]; } probe = {1};
    char dict[160];
    int dlen = snprintf(dict, sizeof dict,
                        "{'descr': '%c%s', 'fortran_order': %s, 'shape': (%lld, %lld), }",
                        probe.b[0] == 1 ? '<' : '>', m->dtype == LOWRANK_FLOAT32 ? "f4" : "f8",
                        m->layout == LOWRANK_COL_MAJOR ? "True" : "False", (long long)m->rows,
                        (long long)m->cols);
    size_t prelude = 10;
    size_t total = (prelude + (size_t)dlen + 1 + 63) / 64 * 64;
    size_t hlen = total - prelude; /* at most 192: two int64 dimensions */
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + prelude, dict, (size_t)dlen);
    memset(buf + prelude + dlen, ' ', hlen - (size_t)dlen - 1);
    buf[total - 1] = '\n';
    return total;
}

/* Data in the file's order: C order for row-major, Fortran order for
 * column-major, one contiguous run per row (or column) of the matrix. */
static int write_data(FILE *f, const lowrank_matrix *m)
{
    int64_t vm, vn;
    int transposed;
    lr_colmajor_view(m, &vm, &vn, &transposed);
    size_t esz = lr_dtype_size(m->dtype);
    for (int64_t j = 0; j < vn; j++)
        if (fwrite((const char *)m->data + (size_t)j * (size_t)m->ld * esz, esz, (size_t)vm, f) !=
            (size_t)vm)
            return -1;
    return 0;
}

/* Create a new file next to path with a name no one else uses, so that the
 * finished file can be renamed over path. */
static FILE *create_temp(const char *path, char *tmp, size_t cap)
{
    static _Thread_local unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned tag = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 12) ^ (++counter * 2654435761u);
        snprintf(tmp, cap, "%s.%08x.tmp", path, tag);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd >= 0) {
            FILE *f = fdopen(fd, "wb");
            if (!f) {
                close(fd);
                unlink(tmp);
            }
            return f;
        }
        if (errno != EEXIST)
            return NULL;
    }
    return NULL;
}

int lowrank_matrix_save_npy(const lowrank_matrix *m, const char *path)
{
    int rc = lr_check_matrix(m, "m");
    if (rc != LOWRANK_OK)
        return rc;
    if (!path)
        return lr_fail(LOWRANK_EINVAL, "path is NULL");
    char header[256];
    size_t hlen = format_header(m, header);
    char *tmp = lr_malloc(strlen(path) + 32, 1);
    if (!tmp)
        return LOWRANK_ENOMEM;
    FILE *f = create_temp(path, tmp, strlen(path) + 32);
    if (!f) {
        rc = io_error("create a file beside", path);
    } else {
        int bad = fwrite(header, 1, hlen, f) != hlen || write_data(f, m) != 0;
        bad |= fclose(f) != 0;
        if (bad)
            rc = io_error("write", tmp);
        else if (rename(tmp, path) != 0)
            rc = io_error("rename the finished file to", path);
        if (rc != LOWRANK_OK)
            unlink(tmp);
    }
    free(tmp);
    return rc;
}
