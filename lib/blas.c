/*
 * blas.c - the internal BLAS/LAPACK layer (see blas.h): checks sizes before
 * narrowing them to the BLAS integer, dispatches on the dtype, allocates
 * LAPACK's workspace and turns info into a status code.
 *
 * LAPACKE's *_work entry points with LAPACK_COL_MAJOR call LAPACK directly:
 * no transposed copy and no NaN scan (callers have already checked).
 */
#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"

#define BLAS_INT_MAX ((int64_t)INT_MAX)

static int all_fit(const int64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0 || v[i] > BLAS_INT_MAX)
            return 0;
    return 1;
}

/* Whether every argument is in [0, INT_MAX]: the BLAS integer here is 32-bit
 * (Debian's reference LAPACK and OpenBLAS alike). */
#define FITS(...)                                                                                  \
    all_fit((const int64_t[]){__VA_ARGS__}, sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

static int too_big(const char *routine)
{
    return lr_fail(LOWRANK_EOVERFLOW, "%s: a dimension exceeds the BLAS integer range (%d)",
                   routine, INT_MAX);
}

/* A leading dimension below max(1, rows) is a bug in the calling part; catch
 * it here rather than let xerbla print. */
static int bad_ld(const char *routine, int64_t ld, int64_t rows)
{
    return ld < (rows > 1 ? rows : 1)
               ? lr_fail(LOWRANK_EINTERNAL, "%s: leading dimension %lld below %lld", routine,
                         (long long)ld, (long long)rows)
               : LOWRANK_OK;
}

static int is_single(lowrank_dtype t) { return t == LOWRANK_FLOAT32; }

static enum CBLAS_TRANSPOSE cblas_trans(char trans)
{
    return trans == 'T' ? CblasTrans : CblasNoTrans;
}

static int64_t rows_of(char trans, int64_t r, int64_t c) { return trans == 'T' ? c : r; }

/* LAPACK reports an illegal argument as info < 0 and a numerical failure as
 * info > 0. */
static int lapack_status(const char *routine, lapack_int info, int failure_code,
                         const char *failure)
{
    if (info < 0)
        return lr_fail(LOWRANK_EINTERNAL, "%s rejected argument %d", routine, (int)-info);
    if (info > 0)
        return lr_fail(failure_code, "%s: %s (info = %d)", routine, failure, (int)info);
    return LOWRANK_OK;
}

/* Workspace sizes come back as floating point; float32 cannot hold every
 * integer above 2^24, so round the query up generously. */
static int64_t work_size(double query)
{
    return (int64_t)ceil(query * (1 + 1e-6)) + 1;
}

int lr_gemm(lowrank_dtype t, char transa, char transb, int64_t m, int64_t n, int64_t k,
            double alpha, const void *a, int64_t lda, const void *b, int64_t ldb, double beta,
            void *c, int64_t ldc)
{
    if (!FITS(m, n, k, lda, ldb, ldc))
        return too_big("gemm");
    int rc = bad_ld("gemm", lda, rows_of(transa, m, k));
    if (rc == LOWRANK_OK)
        rc = bad_ld("gemm", ldb, rows_of(transb, k, n));
    if (rc == LOWRANK_OK)
        rc = bad_ld("gemm", ldc, m);
    if (rc != LOWRANK_OK || m == 0 || n == 0)
        return rc;
    /* A single column or row is a matrix-vector product, which OpenBLAS
     * 0.3.21's gemm runs without forwarding to gemv, 4x slower (a 1024 x
     * 1024 double matrix: 1.0 ms against 0.25 ms) -- on every step of the
     * exact SVD's single-vector Lanczos. */
    if (n == 1) /* c = op(a) b */
        return lr_gemv(t, transa, transa == 'N' ? m : k, transa == 'N' ? k : m, alpha, a, lda, b,
                       transb == 'N' ? 1 : ldb, beta, c, 1);
    if (m == 1) /* c^T = op(b)^T op(a)^T */
        return lr_gemv(t, transb == 'N' ? 'T' : 'N', transb == 'N' ? k : n, transb == 'N' ? n : k,
                       alpha, b, ldb, a, transa == 'N' ? lda : 1, beta, c, ldc);
    if (is_single(t))
        cblas_sgemm(CblasColMajor, cblas_trans(transa), cblas_trans(transb), (int)m, (int)n,
                    (int)k, (float)alpha, a, (int)lda, b, (int)ldb, (float)beta, c, (int)ldc);
    else
        cblas_dgemm(CblasColMajor, cblas_trans(transa), cblas_trans(transb), (int)m, (int)n,
                    (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
    return LOWRANK_OK;
}

int lr_gemv(lowrank_dtype t, char trans, int64_t m, int64_t n, double alpha, const void *a,
            int64_t lda, const void *x, int64_t incx, double beta, void *y, int64_t incy)
{
    if (!FITS(m, n, lda, incx, incy))
        return too_big("gemv");
    int rc = bad_ld("gemv", lda, m);
    if (rc == LOWRANK_OK && (incx == 0 || incy == 0))
        rc = lr_fail(LOWRANK_EINTERNAL, "gemv: zero increment");
    if (rc != LOWRANK_OK || m == 0 || n == 0)
        return rc;
    if (is_single(t))
        cblas_sgemv(CblasColMajor, cblas_trans(trans), (int)m, (int)n, (float)alpha, a, (int)lda,
                    x, (int)incx, (float)beta, y, (int)incy);
    else
        cblas_dgemv(CblasColMajor, cblas_trans(trans), (int)m, (int)n, alpha, a, (int)lda, x,
                    (int)incx, beta, y, (int)incy);
    return LOWRANK_OK;
}

int lr_syrk(lowrank_dtype t, char uplo, char trans, int64_t n, int64_t k, double alpha,
            const void *a, int64_t lda, double beta, void *c, int64_t ldc)
{
    if (!FITS(n, k, lda, ldc))
        return too_big("syrk");
    int rc = bad_ld("syrk", lda, rows_of(trans, n, k));
    if (rc == LOWRANK_OK)
        rc = bad_ld("syrk", ldc, n);
    if (rc != LOWRANK_OK || n == 0)
        return rc;
    enum CBLAS_UPLO u = uplo == 'U' ? CblasUpper : CblasLower;
    if (is_single(t))
        cblas_ssyrk(CblasColMajor, u, cblas_trans(trans), (int)n, (int)k, (float)alpha, a,
                    (int)lda, (float)beta, c, (int)ldc);
    else
        cblas_dsyrk(CblasColMajor, u, cblas_trans(trans), (int)n, (int)k, alpha, a, (int)lda,
                    beta, c, (int)ldc);
    return LOWRANK_OK;
}

int lr_trsm(lowrank_dtype t, char side, char uplo, char transa, char diag, int64_t m, int64_t n,
            double alpha, const void *a, int64_t lda, void *b, int64_t ldb)
{
    if (!FITS(m, n, lda, ldb))
        return too_big("trsm");
    int rc = bad_ld("trsm", lda, side == 'L' ? m : n);
    if (rc == LOWRANK_OK)
        rc = bad_ld("trsm", ldb, m);
    if (rc != LOWRANK_OK || m == 0 || n == 0)
        return rc;
    enum CBLAS_SIDE s = side == 'L' ? CblasLeft : CblasRight;
    enum CBLAS_UPLO u = uplo == 'U' ? CblasUpper : CblasLower;
    enum CBLAS_DIAG d = diag == 'U' ? CblasUnit : CblasNonUnit;
    if (is_single(t))
        cblas_strsm(CblasColMajor, s, u, cblas_trans(transa), d, (int)m, (int)n, (float)alpha, a,
                    (int)lda, b, (int)ldb);
    else
        cblas_dtrsm(CblasColMajor, s, u, cblas_trans(transa), d, (int)m, (int)n, alpha, a,
                    (int)lda, b, (int)ldb);
    return LOWRANK_OK;
}

/* Scalar workspace of count elements of dtype t. */
static void *work_alloc(lowrank_dtype t, int64_t count)
{
    return lr_malloc((size_t)count, lr_dtype_size(t));
}

/* Copy the upper triangle of the n x n a into r, zeroing below. */
static void copy_upper(lowrank_dtype t, int64_t n, const void *a, int64_t lda, void *r,
                       int64_t ldr)
{
    size_t esz = lr_dtype_size(t);
    for (int64_t j = 0; j < n; j++) {
        char *rc = (char *)r + (size_t)j * (size_t)ldr * esz;
        memcpy(rc, (const char *)a + (size_t)j * (size_t)lda * esz, (size_t)(j + 1) * esz);
        memset(rc + (size_t)(j + 1) * esz, 0, (size_t)(n - j - 1) * esz);
    }
}

/* Householder QR (geqrf) of a, then the explicit Q (orgqr) over it; tau holds
 * the reflectors' scalars. */
static lapack_int qr_factor(lowrank_dtype t, lapack_int m, lapack_int n, void *a, lapack_int lda,
                            void *tau, void *work, lapack_int lwork)
{
    return is_single(t) ? LAPACKE_sgeqrf_work(LAPACK_COL_MAJOR, m, n, a, lda, tau, work, lwork)
                        : LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, n, a, lda, tau, work, lwork);
}

static lapack_int qr_form_q(lowrank_dtype t, lapack_int m, lapack_int n, void *a, lapack_int lda,
                            const void *tau, void *work, lapack_int lwork)
{
    return is_single(t) ? LAPACKE_sorgqr_work(LAPACK_COL_MAJOR, m, n, n, a, lda, tau, work, lwork)
                        : LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, m, n, n, a, lda, tau, work, lwork);
}

/* The first element of a workspace query's answer, as a double. */
static double first_as_double(lowrank_dtype t, const void *q)
{
    return is_single(t) ? (double)*(const float *)q : *(const double *)q;
}

int lr_qr(lowrank_dtype t, int64_t m, int64_t n, void *a, int64_t lda, void *r, int64_t ldr)
{
    if (!FITS(m, n, lda, ldr))
        return too_big("qr");
    if (m < n)
        return lr_fail(LOWRANK_EINTERNAL, "qr: %lld rows < %lld columns", (long long)m,
                       (long long)n);
    int rc = bad_ld("qr", lda, m);
    if (rc == LOWRANK_OK && r)
        rc = bad_ld("qr", ldr, n);
    if (rc != LOWRANK_OK || n == 0)
        return rc;
    double q1[2], q2[2];
    lapack_int info = qr_factor(t, (int)m, (int)n, a, (int)lda, q1, q1, -1);
    if (info == 0)
        info = qr_form_q(t, (int)m, (int)n, a, (int)lda, q2, q2, -1);
    if (info != 0)
        return lapack_status("geqrf/orgqr query", info, LOWRANK_EINTERNAL, "failed");
    int64_t lwork = work_size(fmax(first_as_double(t, q1), first_as_double(t, q2)));
    if (!FITS(lwork))
        return too_big("qr workspace");
    void *tau = work_alloc(t, n), *work = tau ? work_alloc(t, lwork) : NULL;
    if (!work) {
        free(tau);
        return LOWRANK_ENOMEM;
    }
    info = qr_factor(t, (int)m, (int)n, a, (int)lda, tau, work, (int)lwork);
    if (info == 0 && r)
        copy_upper(t, n, a, lda, r, ldr);
    if (info == 0)
        info = qr_form_q(t, (int)m, (int)n, a, (int)lda, tau, work, (int)lwork);
    free(tau);
    free(work);
    return lapack_status("geqrf/orgqr", info, LOWRANK_EINTERNAL, "failed");
}

static lapack_int syevd_call(lowrank_dtype t, lapack_int n, void *a, lapack_int lda, void *w,
                             void *work, lapack_int lwork, lapack_int *iwork, lapack_int liwork)
{
    return is_single(t) ? LAPACKE_ssyevd_work(LAPACK_COL_MAJOR, 'V', 'L', n, a, lda, w, work,
                                              lwork, iwork, liwork)
                        : LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', n, a, lda, w, work,
                                              lwork, iwork, liwork);
}

/* Workspace for a LAPACK call: lwork scalars and liwork integers. */
typedef struct workspace {
    void *work;
    lapack_int *iwork;
    lapack_int lwork, liwork;
} workspace;

static int workspace_alloc(lowrank_dtype t, const char *routine, double lwork_query,
                           int64_t liwork, workspace *ws)
{
    int64_t lwork = work_size(lwork_query);
    if (!FITS(lwork, liwork))
        return too_big(routine);
    ws->work = work_alloc(t, lwork);
    ws->iwork = ws->work ? lr_malloc((size_t)(liwork ? liwork : 1), sizeof(lapack_int)) : NULL;
    if (!ws->iwork) {
        free(ws->work);
        ws->work = NULL;
        return LOWRANK_ENOMEM;
    }
    ws->lwork = (lapack_int)lwork;
    ws->liwork = (lapack_int)liwork;
    return LOWRANK_OK;
}

static void workspace_free(workspace *ws)
{
    free(ws->work);
    free(ws->iwork);
}

int lr_syevd(lowrank_dtype t, int64_t n, void *a, int64_t lda, void *w)
{
    if (!FITS(n, lda))
        return too_big("syevd");
    int rc = bad_ld("syevd", lda, n);
    if (rc != LOWRANK_OK || n == 0)
        return rc;
    double q[2];
    lapack_int iq = 0;
    lapack_int info = syevd_call(t, (int)n, a, (int)lda, w, q, -1, &iq, -1);
    if (info != 0)
        return lapack_status("syevd query", info, LOWRANK_EINTERNAL, "failed");
    workspace ws;
    rc = workspace_alloc(t, "syevd", first_as_double(t, q), iq, &ws);
    if (rc != LOWRANK_OK)
        return rc;
    info = syevd_call(t, (int)n, a, (int)lda, w, ws.work, ws.lwork, ws.iwork, ws.liwork);
    workspace_free(&ws);
    return lapack_status("syevd", info, LOWRANK_ENOCONV, "eigenvalues did not converge");
}

static lapack_int syevr_call(lowrank_dtype t, lapack_int n, void *a, lapack_int lda,
                             lapack_int il, lapack_int iu, lapack_int *found, void *w, void *z,
                             lapack_int ldz, lapack_int *isuppz, workspace *ws)
{
    if (is_single(t))
        return LAPACKE_ssyevr_work(LAPACK_COL_MAJOR, 'V', 'I', 'L', n, a, lda, 0, 0, il, iu, 0,
                                   found, w, z, ldz, isuppz, ws->work, ws->lwork, ws->iwork,
                                   ws->liwork);
    return LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, 'V', 'I', 'L', n, a, lda, 0, 0, il, iu, 0, found,
                               w, z, ldz, isuppz, ws->work, ws->lwork, ws->iwork, ws->liwork);
}

static int check_subset(const char *routine, int64_t il, int64_t iu, int64_t n)
{
    if (il < 1 || iu < il || iu > n)
        return lr_fail(LOWRANK_EINTERNAL, "%s: index range %lld..%lld outside 1..%lld", routine,
                       (long long)il, (long long)iu, (long long)n);
    return LOWRANK_OK;
}

int lr_syevr(lowrank_dtype t, int64_t n, void *a, int64_t lda, int64_t il, int64_t iu, void *w,
             void *z, int64_t ldz)
{
    if (!FITS(n, lda, ldz, 2 * n))
        return too_big("syevr");
    int rc = bad_ld("syevr", lda, n);
    if (rc == LOWRANK_OK)
        rc = bad_ld("syevr", ldz, n);
    if (rc == LOWRANK_OK)
        rc = check_subset("syevr", il, iu, n);
    if (rc != LOWRANK_OK)
        return rc;
    double q[2];
    lapack_int iq = 0, found = 0;
    workspace query = {q, &iq, -1, -1};
    lapack_int info = syevr_call(t, (int)n, a, (int)lda, (int)il, (int)iu, &found, w, z,
                                 (int)ldz, NULL, &query);
    if (info != 0)
        return lapack_status("syevr query", info, LOWRANK_EINTERNAL, "failed");
    workspace ws = {0};
    rc = workspace_alloc(t, "syevr", first_as_double(t, q), iq, &ws);
    lapack_int *isuppz = rc == LOWRANK_OK ? lr_malloc((size_t)(2 * n), sizeof *isuppz) : NULL;
    if (rc == LOWRANK_OK && !isuppz)
        rc = LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK) {
        info = syevr_call(t, (int)n, a, (int)lda, (int)il, (int)iu, &found, w, z, (int)ldz,
                          isuppz, &ws);
        rc = lapack_status("syevr", info, LOWRANK_ENOCONV, "eigenvalues did not converge");
    }
    if (rc == LOWRANK_OK && found != iu - il + 1)
        rc = lr_fail(LOWRANK_ENOCONV, "syevr found %d of %lld eigenvalues", (int)found,
                     (long long)(iu - il + 1));
    free(isuppz);
    workspace_free(&ws);
    return rc;
}

static lapack_int gesdd_call(lowrank_dtype t, char jobz, lapack_int m, lapack_int n, void *a,
                             lapack_int lda, void *s, void *u, lapack_int ldu, void *vt,
                             lapack_int ldvt, workspace *ws)
{
    if (is_single(t))
        return LAPACKE_sgesdd_work(LAPACK_COL_MAJOR, jobz, m, n, a, lda, s, u, ldu, vt, ldvt,
                                   ws->work, ws->lwork, ws->iwork);
    return LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, jobz, m, n, a, lda, s, u, ldu, vt, ldvt,
                               ws->work, ws->lwork, ws->iwork);
}

int lr_gesdd(lowrank_dtype t, int64_t m, int64_t n, void *a, int64_t lda, void *s, void *u,
             int64_t ldu, void *vt, int64_t ldvt)
{
    int64_t mn = m < n ? m : n;
    char jobz = u ? 'S' : 'N';
    if (!u) { /* LAPACK wants valid leading dimensions even when unused */
        ldu = 1;
        ldvt = 1;
    }
    if (!FITS(m, n, lda, ldu, ldvt, 8 * mn))
        return too_big("gesdd");
    int rc = bad_ld("gesdd", lda, m);
    if (rc == LOWRANK_OK && u)
        rc = bad_ld("gesdd", ldu, m);
    if (rc == LOWRANK_OK && u)
        rc = bad_ld("gesdd", ldvt, mn);
    if (rc != LOWRANK_OK || mn == 0)
        return rc;
    double q[2];
    lapack_int iq[1];
    workspace query = {q, iq, -1, 0};
    lapack_int info =
        gesdd_call(t, jobz, (int)m, (int)n, a, (int)lda, s, u, (int)ldu, vt, (int)ldvt, &query);
    if (info != 0)
        return lapack_status("gesdd query", info, LOWRANK_EINTERNAL, "failed");
    workspace ws;
    rc = workspace_alloc(t, "gesdd", first_as_double(t, q), 8 * mn, &ws);
    if (rc != LOWRANK_OK)
        return rc;
    info = gesdd_call(t, jobz, (int)m, (int)n, a, (int)lda, s, u, (int)ldu, vt, (int)ldvt, &ws);
    workspace_free(&ws);
    return lapack_status("gesdd", info, LOWRANK_ENOCONV, "the SVD did not converge");
}

static lapack_int gesvdx_call(lowrank_dtype t, lapack_int m, lapack_int n, void *a,
                              lapack_int lda, lapack_int il, lapack_int iu, lapack_int *found,
                              void *s, void *u, lapack_int ldu, void *vt, lapack_int ldvt,
                              workspace *ws)
{
    if (is_single(t))
        return LAPACKE_sgesvdx_work(LAPACK_COL_MAJOR, 'V', 'V', 'I', m, n, a, lda, 0, 0, il, iu,
                                    found, s, u, ldu, vt, ldvt, ws->work, ws->lwork, ws->iwork);
    return LAPACKE_dgesvdx_work(LAPACK_COL_MAJOR, 'V', 'V', 'I', m, n, a, lda, 0, 0, il, iu, found,
                                s, u, ldu, vt, ldvt, ws->work, ws->lwork, ws->iwork);
}

int lr_gesvdx(lowrank_dtype t, int64_t m, int64_t n, void *a, int64_t lda, int64_t il,
              int64_t iu, void *s, void *u, int64_t ldu, void *vt, int64_t ldvt)
{
    int64_t mn = m < n ? m : n;
    if (!FITS(m, n, lda, ldu, ldvt, 12 * mn))
        return too_big("gesvdx");
    int rc = bad_ld("gesvdx", lda, m);
    if (rc == LOWRANK_OK)
        rc = bad_ld("gesvdx", ldu, m);
    if (rc == LOWRANK_OK)
        rc = bad_ld("gesvdx", ldvt, iu - il + 1);
    if (rc == LOWRANK_OK)
        rc = check_subset("gesvdx", il, iu, mn);
    if (rc != LOWRANK_OK)
        return rc;
    double q[2];
    lapack_int iq[1], found = 0;
    workspace query = {q, iq, -1, 0};
    lapack_int info = gesvdx_call(t, (int)m, (int)n, a, (int)lda, (int)il, (int)iu, &found, s, u,
                                  (int)ldu, vt, (int)ldvt, &query);
    if (info != 0)
        return lapack_status("gesvdx query", info, LOWRANK_EINTERNAL, "failed");
    workspace ws;
    rc = workspace_alloc(t, "gesvdx", first_as_double(t, q), 12 * mn, &ws);
    if (rc != LOWRANK_OK)
        return rc;
    info = gesvdx_call(t, (int)m, (int)n, a, (int)lda, (int)il, (int)iu, &found, s, u, (int)ldu,
                       vt, (int)ldvt, &ws);
    workspace_free(&ws);
    rc = lapack_status("gesvdx", info, LOWRANK_ENOCONV, "the SVD did not converge");
    if (rc == LOWRANK_OK && found != iu - il + 1)
        rc = lr_fail(LOWRANK_ENOCONV, "gesvdx found %d of %lld singular values", (int)found,
                     (long long)(iu - il + 1));
    return rc;
}

int lr_potrf(lowrank_dtype t, char uplo, int64_t n, void *a, int64_t lda)
{
    if (!FITS(n, lda))
        return too_big("potrf");
    int rc = bad_ld("potrf", lda, n);
    if (rc != LOWRANK_OK || n == 0)
        return rc;
    lapack_int info = is_single(t) ? LAPACKE_spotrf_work(LAPACK_COL_MAJOR, uplo, (int)n, a, (int)lda)
                                   : LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, uplo, (int)n, a, (int)lda);
    return lapack_status("potrf", info, LOWRANK_EDEGENERATE, "the matrix is not positive definite");
}

int lr_pstrf(lowrank_dtype t, char uplo, int64_t n, void *a, int64_t lda, int64_t *piv,
             int64_t *rank)
{
    if (!FITS(n, lda))
        return too_big("pstrf");
    int rc = bad_ld("pstrf", lda, n);
    if (rc != LOWRANK_OK || n == 0) {
        *rank = 0;
        return rc;
    }
    lapack_int *ip = lr_malloc((size_t)n, sizeof *ip), r = 0;
    void *work = work_alloc(t, 2 * n);
    if (!ip || !work) {
        free(ip);
        free(work);
        return LOWRANK_ENOMEM;
    }
    /* tol < 0: LAPACK's own, n u max_i a_ii */
    lapack_int info = is_single(t) ? LAPACKE_spstrf_work(LAPACK_COL_MAJOR, uplo, (int)n, a,
                                                         (int)lda, ip, &r, -1.0f, work)
                                   : LAPACKE_dpstrf_work(LAPACK_COL_MAJOR, uplo, (int)n, a,
                                                         (int)lda, ip, &r, -1.0, work);
    for (int64_t i = 0; i < n; i++)
        piv[i] = ip[i] - 1;
    *rank = r;
    free(ip);
    free(work);
    /* info > 0 only says the matrix is semidefinite, of rank r < n */
    return info < 0 ? lapack_status("pstrf", info, LOWRANK_EINTERNAL, "") : LOWRANK_OK;
}
