/*
 * blas.h - the internal BLAS/LAPACK layer; not installed.
 *
 * One entry point per operation for both precisions: the dtype selects the
 * s- or d- routine, pointers are float * or double * accordingly, and scalars
 * are passed as double.  Every matrix is column-major (see lr_colmajor_view)
 * with an explicit leading dimension.
 *
 * Every function checks that its int64_t sizes fit the BLAS integer and that
 * each leading dimension is valid before the BLAS or LAPACK routine sees
 * them (LAPACK's xerbla would print), and turns LAPACK's info into a status:
 * LOWRANK_EOVERFLOW for sizes beyond the BLAS integer, LOWRANK_ENOCONV for a
 * decomposition that did not converge, LOWRANK_EDEGENERATE for a matrix that
 * is not positive definite, LOWRANK_EINTERNAL for an argument LAPACK rejects
 * (a bug in the caller), LOWRANK_ENOMEM for workspace.
 *
 * trans is 'N' or 'T', uplo 'U' or 'L', side 'L' or 'R', diag 'N' or 'U'.
 */
#ifndef LOWRANK_BLAS_H
#define LOWRANK_BLAS_H

#include <stdint.h>

#include "lowrank.h"

/* C = alpha op(A) op(B) + beta C, with op(A) m x k and op(B) k x n. */
int lr_gemm(lowrank_dtype t, char transa, char transb, int64_t m, int64_t n, int64_t k,
            double alpha, const void *a, int64_t lda, const void *b, int64_t ldb, double beta,
            void *c, int64_t ldc);

/* y = alpha op(A) x + beta y, A m x n. */
int lr_gemv(lowrank_dtype t, char trans, int64_t m, int64_t n, double alpha, const void *a,
            int64_t lda, const void *x, int64_t incx, double beta, void *y, int64_t incy);

/* C = alpha op(A) op(A)^T + beta C on the uplo triangle of the n x n C; op(A)
 * is n x k ('N': A is n x k; 'T': A is k x n). */
int lr_syrk(lowrank_dtype t, char uplo, char trans, int64_t n, int64_t k, double alpha,
            const void *a, int64_t lda, double beta, void *c, int64_t ldc);

/* B = alpha op(A)^-1 B (side 'L') or alpha B op(A)^-1 (side 'R'), A triangular,
 * B m x n. */
int lr_trsm(lowrank_dtype t, char side, char uplo, char transa, char diag, int64_t m, int64_t n,
            double alpha, const void *a, int64_t lda, void *b, int64_t ldb);

/* Thin QR of the m x n A, m >= n: A is overwritten by Q (orthonormal
 * columns); when r is not NULL, the n x n upper triangular R is written
 * there with zeros below the diagonal. */
int lr_qr(lowrank_dtype t, int64_t m, int64_t n, void *a, int64_t lda, void *r, int64_t ldr);

/* All eigenvalues (ascending, into w) and eigenvectors (over A) of the
 * symmetric n x n A, from its lower triangle; divide and conquer. */
int lr_syevd(lowrank_dtype t, int64_t n, void *a, int64_t lda, void *w);

/* Eigenpairs il..iu (1-based, in ascending order of eigenvalue) of the
 * symmetric n x n A, from its lower triangle: values into the first
 * iu - il + 1 elements of w, which must hold n (LAPACK works in it), vectors
 * into the n x (iu - il + 1) z.  A is destroyed. */
int lr_syevr(lowrank_dtype t, int64_t n, void *a, int64_t lda, int64_t il, int64_t iu, void *w,
             void *z, int64_t ldz);

/* Thin SVD of the m x n A (divide and conquer): min(m, n) singular values,
 * descending, into s; U (m x min) and V^T (min x n) when u and vt are not
 * NULL (both or neither).  A is destroyed. */
int lr_gesdd(lowrank_dtype t, int64_t m, int64_t n, void *a, int64_t lda, void *s, void *u,
             int64_t ldu, void *vt, int64_t ldvt);

/* Singular triplets il..iu (1-based, in descending order of value) of the
 * m x n A: values into s, U (m x cnt) into u, V^T (cnt x n) into vt, where
 * cnt = iu - il + 1.  A is destroyed. */
int lr_gesvdx(lowrank_dtype t, int64_t m, int64_t n, void *a, int64_t lda, int64_t il,
              int64_t iu, void *s, void *u, int64_t ldu, void *vt, int64_t ldvt);

/* Cholesky factorisation of the symmetric positive definite n x n A, in its
 * uplo triangle.  LOWRANK_EDEGENERATE when A is not positive definite. */
int lr_potrf(lowrank_dtype t, char uplo, int64_t n, void *a, int64_t lda);

/* Cholesky factorisation with complete pivoting of the symmetric positive
 * semidefinite n x n A, in its uplo triangle: P^T A P = L L^T (uplo 'L'),
 * stopped at the rank *rank where the largest remaining pivot falls below
 * LAPACK's tolerance n u max_i a_ii.  piv (n entries) gets the permutation,
 * 0-based: column j of A P is column piv[j] of A.  Never fails on a
 * semidefinite or indefinite A (the rank then stops short); only the first
 * *rank columns of L are meaningful, and the triangle above L is left as
 * it was. */
int lr_pstrf(lowrank_dtype t, char uplo, int64_t n, void *a, int64_t lda, int64_t *piv,
             int64_t *rank);

#endif
