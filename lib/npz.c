/*
 * npz.c - scipy's sparse .npz files (scipy.sparse.save_npz): a zip archive
 * of .npy members, stored or deflated, read into a lowrank_csr.
 *
 * Files are untrusted.  The archive is read from its central directory
 * (not by scanning local headers), zip64 included, which numpy writes for
 * every member; every offset and size is checked against the file's size
 * before anything is read or allocated: a stored member holds what its
 * sizes say, a deflated one at most 1032 times its compressed size (the
 * most deflate can expand), and its stream must end exactly at its
 * declared sizes with the declared CRC-32.  The members are then parsed as
 * .npy arrays by npy.c and checked against each other, and the matrix as
 * lowrank_csr_wrap checks one.
 */
#define _POSIX_C_SOURCE 200809L /* pread */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"

/* The deflate format's largest expansion: 258 bytes from a code of 2 bits,
 * about 1032:1. */
#define DEFLATE_MAX_RATIO 1032
/* scipy writes five members; an archive with many more is not one of its. */
#define MAX_MEMBERS 64
/* Compressed input is inflated in chunks of this size. */
#define CHUNK (256u << 10)

enum { FORMAT, SHAPE, INDPTR, INDICES, DATA, NMEMBERS };
static const char *const member_names[NMEMBERS] = {"format.npy", "shape.npy", "indptr.npy",
                                                   "indices.npy", "data.npy"};

typedef struct archive {
    int fd;
    const char *path;
    uint64_t size; /* of the file */
} archive;

typedef struct member {
    int found;
    uint16_t method;
    uint32_t crc;
    uint64_t csize, usize, offset; /* offset of the local header */
} member;

static uint64_t le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int corrupt(const archive *z, const char *what)
{
    return lr_fail(LOWRANK_EFORMAT, "'%s' is not a valid .npz archive: %s", z->path, what);
}

/* n bytes at offset at, which the caller has checked lie within the file. */
static int read_at(const archive *z, uint64_t at, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(z->fd, (char *)buf + done, n - done, (off_t)(at + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return lr_fail(LOWRANK_EIO, "cannot read '%s': %s", z->path, strerror(errno));
        if (got == 0)
            return corrupt(z, "the file ended early (was it truncated while read?)");
        done += (size_t)got;
    }
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ the central directory */

/* Where the central directory is and how many entries it holds, from the
 * end of central directory record (and its zip64 form when present). */
static int find_directory(const archive *z, uint64_t *at, uint64_t *bytes, uint64_t *entries)
{
    unsigned char tail[22 + 65535];
    size_t n = z->size < sizeof tail ? (size_t)z->size : sizeof tail;
    if (n < 22)
        return corrupt(z, "too short for a zip archive");
    int rc = read_at(z, z->size - n, tail, n);
    if (rc != LOWRANK_OK)
        return rc;
    size_t e = n - 22; /* the record ends the file, after its comment */
    while (!(memcmp(tail + e, "PK\5\6", 4) == 0 && e + 22 + le(tail + e + 20, 2) == n)) {
        if (e == 0)
            return corrupt(z, "no end of central directory record");
        e--;
    }
    const unsigned char *r = tail + e;
    uint64_t eocd = z->size - n + e;
    if (le(r + 4, 2) != 0 || le(r + 6, 2) != 0)
        return lr_fail(LOWRANK_EUNSUPPORTED, "'%s' is a multi-part zip archive", z->path);
    *entries = le(r + 10, 2);
    *bytes = le(r + 12, 4);
    *at = le(r + 16, 4);
    if (*entries == 0xffff || *bytes == 0xffffffff || *at == 0xffffffff) {
        unsigned char loc[20], rec[56];
        if (eocd < 20 || (rc = read_at(z, eocd - 20, loc, 20)) != LOWRANK_OK)
            return rc != LOWRANK_OK ? rc : corrupt(z, "no zip64 locator");
        uint64_t at64 = le(loc + 8, 8);
        if (memcmp(loc, "PK\6\7", 4) != 0 || at64 > eocd - 20 || eocd - 20 - at64 < 56)
            return corrupt(z, "bad zip64 end of central directory locator");
        if ((rc = read_at(z, at64, rec, 56)) != LOWRANK_OK)
            return rc;
        if (memcmp(rec, "PK\6\6", 4) != 0)
            return corrupt(z, "bad zip64 end of central directory record");
        *entries = le(rec + 32, 8);
        *bytes = le(rec + 40, 8);
        *at = le(rec + 48, 8);
        eocd = at64;
    }
    if (*at > eocd || *bytes > eocd - *at)
        return corrupt(z, "the central directory lies outside the file");
    if (*entries > MAX_MEMBERS || *entries > *bytes / 46)
        return corrupt(z, "implausible number of members");
    return LOWRANK_OK;
}

/* The zip64 extended information field of a central directory entry
 * replaces the sizes and offset that are 0xffffffff, in that order. */
static int zip64_fields(const archive *z, const unsigned char *extra, size_t len, member *m)
{
    while (len >= 4) {
        size_t id = (size_t)le(extra, 2), size = (size_t)le(extra + 2, 2);
        if (size > len - 4)
            return corrupt(z, "an extra field overruns its entry");
        if (id == 1) {
            uint64_t *fields[] = {&m->usize, &m->csize, &m->offset};
            size_t used = 0;
            for (int f = 0; f < 3; f++) {
                if (*fields[f] != 0xffffffff)
                    continue;
                if (used + 8 > size)
                    return corrupt(z, "a zip64 field is missing");
                *fields[f] = le(extra + 4 + used, 8);
                used += 8;
            }
        }
        extra += 4 + size;
        len -= 4 + size;
    }
    return LOWRANK_OK;
}

/* The members scipy writes, from the central directory (found or not). */
static int read_directory(const archive *z, member members[NMEMBERS])
{
    uint64_t at, bytes, entries;
    int rc = find_directory(z, &at, &bytes, &entries);
    unsigned char *cd = rc == LOWRANK_OK ? lr_malloc(bytes ? (size_t)bytes : 1, 1) : NULL;
    if (rc == LOWRANK_OK && !cd)
        rc = LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = read_at(z, at, cd, (size_t)bytes);
    size_t pos = 0;
    for (uint64_t i = 0; rc == LOWRANK_OK && i < entries; i++) {
        const unsigned char *e = cd + pos;
        if (bytes - pos < 46 || memcmp(e, "PK\1\2", 4) != 0) {
            rc = corrupt(z, "bad central directory entry");
            break;
        }
        size_t nlen = (size_t)le(e + 28, 2), xlen = (size_t)le(e + 30, 2),
               clen = (size_t)le(e + 32, 2);
        if (bytes - pos - 46 < nlen + xlen + clen) {
            rc = corrupt(z, "a central directory entry overruns the directory");
            break;
        }
        member m = {1, (uint16_t)le(e + 10, 2), (uint32_t)le(e + 16, 4), le(e + 20, 4),
                    le(e + 24, 4), le(e + 42, 4)};
        if (le(e + 8, 2) & 1)
            rc = lr_fail(LOWRANK_EUNSUPPORTED, "'%s' has an encrypted member", z->path);
        if (rc == LOWRANK_OK)
            rc = zip64_fields(z, e + 46 + nlen, xlen, &m);
        for (int k = 0; rc == LOWRANK_OK && k < NMEMBERS; k++) {
            if (nlen != strlen(member_names[k]) || memcmp(e + 46, member_names[k], nlen) != 0)
                continue;
            if (members[k].found)
                rc = corrupt(z, "a member appears twice");
            members[k] = m;
        }
        pos += 46 + nlen + xlen + clen;
    }
    free(cd);
    return rc;
}

/* ------------------------------------------------------------ members */

/* The compressed bytes of m start here, after its local header. */
static int member_data(const archive *z, const member *m, uint64_t *at)
{
    unsigned char h[30];
    if (m->offset > z->size || z->size - m->offset < 30)
        return corrupt(z, "a member's header lies outside the file");
    int rc = read_at(z, m->offset, h, 30);
    if (rc != LOWRANK_OK)
        return rc;
    if (memcmp(h, "PK\3\4", 4) != 0)
        return corrupt(z, "bad local header");
    *at = m->offset + 30 + le(h + 26, 2) + le(h + 28, 2);
    if (*at > z->size || m->csize > z->size - *at)
        return corrupt(z, "a member's data lies outside the file");
    return LOWRANK_OK;
}

/* Inflate the raw deflate stream of csize bytes at `at` into the usize
 * bytes of out, which it must fill exactly, ending where its input does. */
static int inflate_member(const archive *z, const member *m, uint64_t at, unsigned char *out)
{
    unsigned char *in = lr_malloc(CHUNK, 1);
    z_stream s;
    memset(&s, 0, sizeof s);
    if (!in)
        return LOWRANK_ENOMEM;
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK) {
        free(in);
        return lr_fail(LOWRANK_ENOMEM, "zlib: cannot start inflating");
    }
    uint64_t left = m->csize, produced = 0;
    int rc = LOWRANK_OK;
    for (;;) {
        if (s.avail_in == 0 && left > 0) {
            size_t n = left < CHUNK ? (size_t)left : CHUNK;
            if ((rc = read_at(z, at + (m->csize - left), in, n)) != LOWRANK_OK)
                break;
            s.next_in = in;
            s.avail_in = (uInt)n;
            left -= n;
        }
        uint64_t room = m->usize - produced;
        uInt give = room > (1u << 30) ? (1u << 30) : (uInt)room;
        s.next_out = out + produced;
        s.avail_out = give;
        int zr = inflate(&s, Z_NO_FLUSH);
        produced += give - s.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && s.avail_in == 0 && left == 0) {
            rc = corrupt(z, "a deflate stream ends before its end marker");
            break;
        }
        if (zr == Z_BUF_ERROR && produced == m->usize) {
            rc = corrupt(z, "a deflate stream holds more than its member's size");
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = zr == Z_MEM_ERROR ? LOWRANK_ENOMEM : corrupt(z, "a deflate stream is corrupt");
            break;
        }
    }
    if (rc == LOWRANK_OK && (produced != m->usize || s.avail_in != 0 || left != 0))
        rc = corrupt(z, "a member's deflate stream does not match its sizes");
    inflateEnd(&s);
    free(in);
    return rc;
}

/* The member's bytes, new, checked against its sizes and CRC-32. */
static int load_member(const archive *z, const member *m, unsigned char **out)
{
    uint64_t at = 0;
    int rc = member_data(z, m, &at);
    if (rc != LOWRANK_OK)
        return rc;
    if (m->method != 0 && m->method != 8)
        return lr_fail(LOWRANK_EUNSUPPORTED, "'%s' has a member compressed by method %u (only "
                                             "stored and deflate are read)", z->path, m->method);
    if (m->method == 0 ? m->usize != m->csize
                       : m->usize / DEFLATE_MAX_RATIO > m->csize + 1)
        return corrupt(z, "a member's sizes are inconsistent");
    if (m->usize > SIZE_MAX - 1)
        return lr_fail(LOWRANK_EOVERFLOW, "a member of '%s' overflows memory", z->path);
    unsigned char *buf = lr_malloc(m->usize ? (size_t)m->usize : 1, 1);
    if (!buf)
        return LOWRANK_ENOMEM;
    rc = m->method == 0 ? read_at(z, at, buf, (size_t)m->usize) : inflate_member(z, m, at, buf);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (uint64_t done = 0; rc == LOWRANK_OK && done < m->usize;) {
        uInt n = m->usize - done > (1u << 30) ? (1u << 30) : (uInt)(m->usize - done);
        crc = crc32(crc, buf + done, n);
        done += n;
    }
    if (rc == LOWRANK_OK && crc != m->crc)
        rc = corrupt(z, "a member's CRC-32 does not match");
    if (rc != LOWRANK_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ arrays */

/* An array parsed from a member, with its bytes (owned). */
typedef struct array {
    unsigned char *buf;
    size_t size;
    lr_npy_array a;
} array;

static int bad_member(const archive *z, int k, const char *what)
{
    return lr_fail(LOWRANK_EFORMAT, "'%s': %s %s", z->path, member_names[k], what);
}

/* Element i of an integer array (kind 'i' or 'u', 4 or 8 bytes), host order. */
static int64_t int_at(const array *r, int64_t i)
{
    unsigned char b[8];
    const unsigned char *p = r->buf + r->a.offset + (size_t)i * (size_t)r->a.itemsize;
    memcpy(b, p, (size_t)r->a.itemsize);
    if (r->a.swap)
        lr_npy_swap(b, 1, (size_t)r->a.itemsize);
    if (r->a.itemsize == 8) {
        int64_t v;
        memcpy(&v, b, 8);
        return v;
    }
    if (r->a.kind == 'u') {
        uint32_t v;
        memcpy(&v, b, 4);
        return v;
    }
    int32_t v;
    memcpy(&v, b, 4);
    return v;
}

static int is_integer(const array *r)
{
    return (r->a.kind == 'i' || r->a.kind == 'u') && (r->a.itemsize == 4 || r->a.itemsize == 8) &&
           r->a.ndim == 1;
}

/* The format string, 'csr' or 'csc': a 0-D (or one element) bytes ('S') or
 * UCS-4 ('U') array. */
static int read_format(const archive *z, const array *r, int *csc)
{
    char text[8] = {0};
    int chars = r->a.kind == 'S' ? r->a.itemsize : r->a.kind == 'U' ? r->a.itemsize / 4 : 0;
    if (chars == 0 || r->a.count != 1 || chars > 7)
        return bad_member(z, FORMAT, "is not a short string");
    for (int i = 0; i < chars; i++) {
        const unsigned char *p = r->buf + r->a.offset + (size_t)(r->a.kind == 'S' ? i : 4 * i);
        unsigned char c[4] = {p[0], 0, 0, 0};
        if (r->a.kind == 'U') {
            memcpy(c, p, 4);
            if (r->a.swap)
                lr_npy_swap(c, 1, 4);
        }
        uint32_t code;
        memcpy(&code, c, 4);
        text[i] = (char)(r->a.kind == 'S' ? p[0] : code < 128 ? code : '?');
    }
    if (strcmp(text, "csr") != 0 && strcmp(text, "csc") != 0)
        return lr_fail(LOWRANK_EUNSUPPORTED, "'%s' holds a sparse matrix in format '%s'; only "
                                             "'csr' and 'csc' are read (convert with .tocsr())",
                       z->path, text);
    *csc = text[2] == 'c';
    return LOWRANK_OK;
}

/* The integer array as a new int64 array of r->a.count elements. */
static int widen(const array *r, int64_t **out)
{
    int64_t n = r->a.count;
    *out = lr_malloc(n > 0 ? (size_t)n : 1, sizeof **out);
    if (!*out)
        return LOWRANK_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        (*out)[i] = int_at(r, i);
    return LOWRANK_OK;
}

/* The values as a new array of their dtype, in host byte order. */
static int take_values(const archive *z, array *r, lowrank_dtype *dtype, void **out)
{
    if (r->a.kind != 'f' || (r->a.itemsize != 4 && r->a.itemsize != 8) || r->a.ndim != 1)
        return lr_fail(LOWRANK_EUNSUPPORTED, "'%s': data.npy is not a float32 or float64 "
                                             "vector", z->path);
    *dtype = r->a.itemsize == 4 ? LOWRANK_FLOAT32 : LOWRANK_FLOAT64;
    size_t bytes = (size_t)r->a.count * (size_t)r->a.itemsize;
    memmove(r->buf, r->buf + r->a.offset, bytes);
    if (r->a.swap)
        lr_npy_swap(r->buf, (size_t)r->a.count, (size_t)r->a.itemsize);
    *out = r->buf;
    r->buf = NULL;
    return LOWRANK_OK;
}

/* The matrix from the five arrays: lengths checked against each other; a
 * CSC matrix is the CSR matrix of the transpose, transposed back. */
static int assemble(const archive *z, int csc, array arr[NMEMBERS], lowrank_csr **out)
{
    int rc = LOWRANK_OK;
    if ((!is_integer(&arr[SHAPE]) || arr[SHAPE].a.count != 2))
        rc = bad_member(z, SHAPE, "is not two integers");
    for (int k = INDPTR; rc == LOWRANK_OK && k <= INDICES; k++)
        if (!is_integer(&arr[k]))
            rc = bad_member(z, k, "is not an integer vector");
    if (rc != LOWRANK_OK)
        return rc;
    int64_t rows = int_at(&arr[SHAPE], 0), cols = int_at(&arr[SHAPE], 1);
    int64_t major = csc ? cols : rows, nnz = arr[INDICES].a.count;
    if (rows < 1 || cols < 1)
        return lr_fail(LOWRANK_EUNSUPPORTED, "'%s' holds a %lld x %lld matrix: a dimension is "
                                             "not positive", z->path, (long long)rows,
                       (long long)cols);
    if (arr[INDPTR].a.count != major + 1)
        return bad_member(z, INDPTR, "does not have one more entry than the matrix has rows");
    if (arr[DATA].a.count != nnz)
        return bad_member(z, DATA, "and indices.npy differ in length");
    lowrank_dtype dtype = LOWRANK_FLOAT64;
    int64_t *ptr = NULL, *idx = NULL;
    void *val = NULL;
    rc = widen(&arr[INDPTR], &ptr);
    if (rc == LOWRANK_OK)
        rc = widen(&arr[INDICES], &idx);
    if (rc == LOWRANK_OK)
        rc = take_values(z, &arr[DATA], &dtype, &val);
    if (rc == LOWRANK_OK && csc) { /* checked as the CSR matrix of A^T first */
        lowrank_csr *t = NULL;
        int64_t *tptr, *tidx;
        void *tval;
        rc = lr_csr_make(dtype, cols, rows, nnz, ptr, idx, val, 1, &t);
        ptr = idx = NULL;
        val = NULL;
        if (rc == LOWRANK_OK)
            rc = lr_csr_transpose(dtype, cols, rows, t->indptr, t->indices, t->values, &tptr,
                                  &tidx, &tval);
        lowrank_csr_free(t);
        if (rc == LOWRANK_OK)
            return lr_csr_make(dtype, rows, cols, nnz, tptr, tidx, tval, 1, out);
    }
    if (rc == LOWRANK_OK)
        return lr_csr_make(dtype, rows, cols, nnz, ptr, idx, val, 1, out);
    free(ptr);
    free(idx);
    free(val);
    return rc;
}

int lowrank_csr_load_npz(const char *path, lowrank_csr **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    if (!path)
        return lr_fail(LOWRANK_EINVAL, "path is NULL");
    archive z = {open(path, O_RDONLY | O_CLOEXEC), path, 0};
    if (z.fd < 0)
        return lr_fail(LOWRANK_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    member members[NMEMBERS] = {{0}};
    array arr[NMEMBERS] = {{0}};
    int rc = fstat(z.fd, &st) == 0 && S_ISREG(st.st_mode)
                 ? LOWRANK_OK
                 : lr_fail(LOWRANK_EUNSUPPORTED, "'%s' is not a regular file", path);
    z.size = (uint64_t)st.st_size;
    if (rc == LOWRANK_OK)
        rc = read_directory(&z, members);
    int csc = 0; /* the format first: another one than CSR or CSC has other members */
    for (int k = 0; rc == LOWRANK_OK && k < NMEMBERS; k++) {
        if (!members[k].found) {
            rc = lr_fail(LOWRANK_EFORMAT, "'%s' has no member %s: not a scipy.sparse .npz file",
                         path, member_names[k]);
            break;
        }
        rc = load_member(&z, &members[k], &arr[k].buf);
        arr[k].size = (size_t)members[k].usize;
        if (rc == LOWRANK_OK && (rc = lr_npy_parse_array(arr[k].buf, arr[k].size, &arr[k].a))) {
            char why[256];
            snprintf(why, sizeof why, "%s", lowrank_last_error());
            rc = lr_fail(rc, "'%s': %s: %s", path, member_names[k], why);
        }
        if (rc == LOWRANK_OK && k == FORMAT)
            rc = read_format(&z, &arr[FORMAT], &csc);
    }
    if (rc == LOWRANK_OK)
        rc = assemble(&z, csc, arr, out);
    for (int k = 0; k < NMEMBERS; k++)
        free(arr[k].buf);
    close(z.fd);
    return rc;
}
