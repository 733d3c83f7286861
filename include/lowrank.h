/*
 * lowrank.h - the whole public API of liblowrank.
 *
 * liblowrank computes low-rank approximations of matrices and the geometry
 * behind robust ones.  Every function is documented here, where it is
 * declared; lowrank(7) is the map and each function has its own man page.
 *
 * Conventions that hold for every function below:
 *
 *  - Status.  A function that can fail returns int: 0 (LOWRANK_OK) on
 *    success, a negative LOWRANK_E... code on failure.  lowrank_strerror()
 *    turns a code into a static string; lowrank_last_error() gives the calling
 *    thread's detailed message for its last failure.  On failure every output
 *    handle is set to NULL, and a caller's buffer or matrix is left unchanged.
 *    The library never prints, never aborts and never exits.
 *
 *  - Handles.  Every object is an opaque handle made by a ..._new function
 *    (or by the function that computes it) and released by its ..._free
 *    function, which accepts NULL.
 *
 *  - Sizes and indices are int64_t.  Dimensions must be at least 1.
 *
 *  - Inputs are const and never modified.
 *
 *  - Threads.  The library has no mutable global state.  Distinct handles may
 *    be used from distinct threads at the same time.  One handle may be read
 *    (passed as const) from several threads at once, but must not be written
 *    by one thread while another uses it.  lowrank_last_error() is per thread.
 *    See docs/threadsafety.md.
 *
 * Copyright (c) 2026 the liblowrank authors.  MIT licence, see COPYING.
 */
#ifndef LOWRANK_H
#define LOWRANK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* LOWRANK_API marks the exported functions: the library is built with
 * -fvisibility=hidden, so nothing else leaves the shared object. */
#if defined(_WIN32) && defined(LOWRANK_BUILDING_DLL)
#define LOWRANK_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define LOWRANK_API __attribute__((visibility("default")))
#else
#define LOWRANK_API
#endif

/* ------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------ */

#define LOWRANK_VERSION_MAJOR 0
#define LOWRANK_VERSION_MINOR 1
#define LOWRANK_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH: 0.1.0 is 100. */
#define LOWRANK_VERSION_NUMBER                                                 \
    (LOWRANK_VERSION_MAJOR * 10000 + LOWRANK_VERSION_MINOR * 100 +             \
     LOWRANK_VERSION_PATCH)
#define LOWRANK_STRINGIFY_(x) #x
#define LOWRANK_STRINGIFY(x) LOWRANK_STRINGIFY_(x)
#define LOWRANK_VERSION_STRING                                                 \
    LOWRANK_STRINGIFY(LOWRANK_VERSION_MAJOR)                                   \
    "." LOWRANK_STRINGIFY(LOWRANK_VERSION_MINOR) "." LOWRANK_STRINGIFY(        \
        LOWRANK_VERSION_PATCH)

/* lowrank_version_number: LOWRANK_VERSION_NUMBER of the library linked at run
 * time, which may be newer than the header a program was compiled with. */
LOWRANK_API unsigned lowrank_version_number(void);

/* lowrank_version_string: the run-time library's version, "MAJOR.MINOR.PATCH".
 * The string is static. */
LOWRANK_API const char *lowrank_version_string(void);

/* ------------------------------------------------------------------------
 * Status codes and error messages
 * ------------------------------------------------------------------------ */

typedef enum lowrank_status {
    LOWRANK_OK = 0,
    LOWRANK_EINVAL = -1,       /* invalid argument: NULL, unknown enum value */
    LOWRANK_ESIZE = -2,        /* a size is zero, negative or inconsistent */
    LOWRANK_ERANGE = -3,       /* a parameter (k, p, an option) is out of range */
    LOWRANK_ENONFINITE = -4,   /* the input holds NaN or infinity */
    LOWRANK_EOVERFLOW = -5,    /* a size overflows int64_t, size_t or the BLAS integer */
    LOWRANK_ENOMEM = -6,       /* memory allocation failed */
    LOWRANK_EIO = -7,          /* a file could not be opened, read or written */
    LOWRANK_EFORMAT = -8,      /* a file is malformed or truncated */
    LOWRANK_EUNSUPPORTED = -9, /* well-formed input this library does not handle */
    LOWRANK_ENOCONV = -10,     /* an iterative method did not converge */
    LOWRANK_EDEGENERATE = -11, /* the input is degenerate where it must not be */
    LOWRANK_EINTERNAL = -12    /* a bug in liblowrank: please report it */
} lowrank_status;

/* lowrank_strerror: a static, constant description of a status code, e.g.
 * "invalid argument" for LOWRANK_EINVAL.  Unknown codes give
 * "unknown error code". */
LOWRANK_API const char *lowrank_strerror(int code);

/* lowrank_last_error: the detailed message of the calling thread's last
 * failing call into the library, e.g.
 * "lowrank_matrix_new: rows = 0 must be at least 1".
 * It is "" before the thread's first failure.  A successful call does not
 * clear it (like errno).  The string belongs to the library and stays valid
 * until the same thread's next failing call. */
LOWRANK_API const char *lowrank_last_error(void);

/* ------------------------------------------------------------------------
 * Matrices
 *
 * A lowrank_matrix describes a rows x cols array of float32 or float64 in
 * row-major or column-major layout with a leading dimension ld, exactly as
 * CBLAS and LAPACKE pass matrices: element (i, j) is data[i * ld + j] in
 * row-major layout and data[i + j * ld] in column-major layout.  A matrix
 * either owns its memory (lowrank_matrix_new and every matrix the library
 * returns) or wraps the caller's memory without copying it
 * (lowrank_matrix_wrap).
 * ------------------------------------------------------------------------ */

typedef enum lowrank_dtype {
    LOWRANK_FLOAT32 = 1,
    LOWRANK_FLOAT64 = 2
} lowrank_dtype;

/* The values equal CblasRowMajor/CblasColMajor and LAPACK_ROW_MAJOR/
 * LAPACK_COL_MAJOR. */
typedef enum lowrank_layout {
    LOWRANK_ROW_MAJOR = 101,
    LOWRANK_COL_MAJOR = 102
} lowrank_layout;

typedef struct lowrank_matrix lowrank_matrix;

/* lowrank_matrix_new: a new rows x cols matrix of the given dtype and layout,
 * filled with zeros and compact (ld = cols in row-major layout, rows in
 * column-major layout).  Free it with lowrank_matrix_free.
 * Errors: LOWRANK_EINVAL (out NULL, unknown dtype or layout), LOWRANK_ESIZE
 * (rows or cols < 1), LOWRANK_EOVERFLOW (rows * cols * element size does not
 * fit in memory addresses), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_matrix_new(lowrank_dtype dtype, lowrank_layout layout,
                                   int64_t rows, int64_t cols,
                                   lowrank_matrix **out);

/* lowrank_matrix_wrap: a handle on the caller's memory, without copying it.
 * data must stay valid, and must not be freed, until the handle is freed;
 * lowrank_matrix_free does not free data.  ld is the leading dimension: at
 * least cols in row-major layout, at least rows in column-major layout.
 * The library writes through the handle only when it is passed, non-const,
 * as an output (for instance to lowrank_matrix_set); wrapping read-only memory
 * is safe as long as the handle is only used as an input.
 * Errors: LOWRANK_EINVAL (data or out NULL, unknown dtype or layout),
 * LOWRANK_ESIZE (rows or cols < 1, ld too small), LOWRANK_EOVERFLOW (the
 * extent of the matrix in bytes overflows), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_matrix_wrap(lowrank_dtype dtype, lowrank_layout layout,
                                    int64_t rows, int64_t cols, void *data,
                                    int64_t ld, lowrank_matrix **out);

/* lowrank_matrix_free: release a matrix handle and, if it owns it, its memory.
 * NULL is accepted and ignored. */
LOWRANK_API void lowrank_matrix_free(lowrank_matrix *m);

/* Accessors.  Given NULL they return 0 (or NULL for lowrank_matrix_data). */
LOWRANK_API int64_t lowrank_matrix_rows(const lowrank_matrix *m);
LOWRANK_API int64_t lowrank_matrix_cols(const lowrank_matrix *m);
/* lowrank_matrix_ld: the leading dimension (see above). */
LOWRANK_API int64_t lowrank_matrix_ld(const lowrank_matrix *m);
/* lowrank_matrix_dtype: LOWRANK_FLOAT32 or LOWRANK_FLOAT64 (0 for NULL). */
LOWRANK_API lowrank_dtype lowrank_matrix_dtype(const lowrank_matrix *m);
/* lowrank_matrix_layout: LOWRANK_ROW_MAJOR or LOWRANK_COL_MAJOR (0 for NULL). */
LOWRANK_API lowrank_layout lowrank_matrix_layout(const lowrank_matrix *m);
/* lowrank_matrix_data: the first element (float * or double * by dtype).
 * The memory may be read and written by the caller while no library call
 * uses the handle. */
LOWRANK_API void *lowrank_matrix_data(const lowrank_matrix *m);

/* lowrank_matrix_get: element (i, j), 0-based, converted to double.
 * Errors: LOWRANK_EINVAL (m or value NULL), LOWRANK_ERANGE (i or j outside
 * the matrix). */
LOWRANK_API int lowrank_matrix_get(const lowrank_matrix *m, int64_t i,
                                   int64_t j, double *value);

/* lowrank_matrix_set: store value at (i, j), rounded to float32 for a float32
 * matrix.  Errors: LOWRANK_EINVAL (m NULL), LOWRANK_ERANGE (i or j outside the
 * matrix, or value finite but beyond float32's range for a float32 matrix). */
LOWRANK_API int lowrank_matrix_set(lowrank_matrix *m, int64_t i, int64_t j,
                                   double value);

/* lowrank_matrix_copy: a new compact matrix, owning its memory, with the same
 * dtype, layout and elements as src.
 * Errors: LOWRANK_EINVAL (src or out NULL), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_matrix_copy(const lowrank_matrix *src,
                                    lowrank_matrix **out);

/* lowrank_matrix_convert: a new compact matrix, owning its memory, holding
 * the elements of src in the given dtype and layout.  float64 to float32
 * rounds to nearest; a finite value beyond float32's range is an error rather
 * than a silent infinity.  NaN and infinities are carried over.
 * Errors: LOWRANK_EINVAL (src or out NULL, unknown dtype or layout),
 * LOWRANK_ERANGE (a value overflows float32), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_matrix_convert(const lowrank_matrix *src,
                                       lowrank_dtype dtype,
                                       lowrank_layout layout,
                                       lowrank_matrix **out);

/* ------------------------------------------------------------------------
 * .npy files (NumPy's format, versions 1.0, 2.0 and 3.0)
 *
 * Read: 2-D arrays of dtype float32 or float64 ('<f4', '>f4', '<f8', '>f8'),
 * C order (giving a row-major matrix) or Fortran order (column-major), are
 * read without transposing; big-endian data is converted to the host's byte
 * order.  A 1-D array of length n is read as an n x 1 matrix.  Other dtypes,
 * 0-D and 3-D (or more) arrays, and arrays with a zero dimension are
 * rejected.  Headers longer than 1 MiB are rejected as hostile.
 * Write: version 1.0 (2.0 if the header needs it), host byte order, C order for
 * a row-major matrix and Fortran order for a column-major one.
 * ------------------------------------------------------------------------ */

/* lowrank_matrix_load_npy: read the .npy file at path into a new matrix.
 * Errors: LOWRANK_EINVAL (path or out NULL), LOWRANK_EIO (cannot open or
 * read), LOWRANK_EFORMAT (not an .npy file, malformed header, truncated data,
 * trailing bytes), LOWRANK_EUNSUPPORTED (another dtype or rank),
 * LOWRANK_EOVERFLOW (the shape overflows), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_matrix_load_npy(const char *path, lowrank_matrix **out);

/* lowrank_matrix_load_npy_mem: the same from the size bytes at buf.
 * Errors: as lowrank_matrix_load_npy, but LOWRANK_EIO cannot occur and
 * LOWRANK_ESIZE reports a negative size. */
LOWRANK_API int lowrank_matrix_load_npy_mem(const void *buf, int64_t size,
                                            lowrank_matrix **out);

/* lowrank_matrix_save_npy: write m to path as an .npy file.  The file is
 * written under a temporary name in the same directory and renamed over path
 * when complete, so path is never left half-written.
 * Errors: LOWRANK_EINVAL (m or path NULL), LOWRANK_EIO (cannot create, write
 * or rename), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_matrix_save_npy(const lowrank_matrix *m,
                                        const char *path);

/* ------------------------------------------------------------------------
 * Options
 *
 * A lowrank_opts holds the tunable settings of the computing functions.
 * Passing NULL where a function takes options means every option at its
 * default.  Options a function does not use are ignored by it.  Each key
 * takes either an integer (lowrank_opts_set_int) or a double
 * (lowrank_opts_set_double); values are checked when set.
 * ------------------------------------------------------------------------ */

/* Keys are numbered by part so that parts can add keys independently:
 * 1-19 shared, 20-29 SVD, 30-39 ellipsoids and coresets, 40-49 lp
 * factorisation, 50-69 background models. */
typedef enum lowrank_option {
    /* int, a lowrank_method; default LOWRANK_METHOD_AUTO (each function's
     * documented default method). */
    LOWRANK_OPT_METHOD = 1,
    /* int, any value; default 20261128.  Seeds every randomized method, so
     * the same call gives the same result on every run. */
    LOWRANK_OPT_SEED = 2,
    /* double in [0, 1); default 0 (off).  Target relative error: for
     * instance the relative Frobenius error that chooses the rank when an
     * SVD is asked for rank k = 0. */
    LOWRANK_OPT_TOLERANCE = 3,
    /* int >= 0; default 0, meaning the method's own documented cap.
     * Iteration cap of iterative methods. */
    LOWRANK_OPT_MAX_ITER = 4,
    /* int >= 0; default -1 (the method chooses).  Extra random directions of
     * randomized range finders. */
    LOWRANK_OPT_OVERSAMPLING = 5,
    /* int >= 0; default -1 (the method chooses).  Power (subspace)
     * iterations of randomized range finders. */
    LOWRANK_OPT_POWER_ITER = 6,
    /* double > 0; default 1e-3.  Accuracy of the geometric solvers, e.g. the
     * (1 + eps) volume factor of a minimum-volume enclosing ellipsoid. */
    LOWRANK_OPT_EPS = 7,
    /* int, a lowrank_objective; default LOWRANK_OBJECTIVE_ROWS. */
    LOWRANK_OPT_OBJECTIVE = 8,
    /* int, a lowrank_orientation; default LOWRANK_ORIENT_ROWS. */
    LOWRANK_OPT_ORIENTATION = 9,
    /* int >= 0; default 0 (no refinement).  Iterations of iteratively
     * reweighted least squares refining a robust fit. */
    LOWRANK_OPT_REFINE_ITER = 10,
    /* double >= 0; default 1e-6.  Refinement stops when the objective
     * decreases by less than this fraction in one iteration. */
    LOWRANK_OPT_REFINE_TOL = 11
} lowrank_option;

/* Values of LOWRANK_OPT_METHOD.  Each function documents which it accepts. */
typedef enum lowrank_method {
    LOWRANK_METHOD_AUTO = 0,       /* the function's documented default */
    LOWRANK_METHOD_EXACT = 1,      /* dense LAPACK decomposition */
    LOWRANK_METHOD_RANDOMIZED = 2, /* randomized range finder */
    LOWRANK_METHOD_LEWIS = 3,      /* lp Lewis weights */
    LOWRANK_METHOD_LOWNER = 4      /* ellipsoid method (cutting planes) */
} lowrank_method;

/* Values of LOWRANK_OPT_OBJECTIVE. */
typedef enum lowrank_objective {
    LOWRANK_OBJECTIVE_ROWS = 1,   /* sum over rows of dist(row, subspace)^p */
    LOWRANK_OBJECTIVE_ENTRIES = 2 /* sum over entries of |A - LR|^p */
} lowrank_objective;

/* Values of LOWRANK_OPT_ORIENTATION. */
typedef enum lowrank_orientation {
    LOWRANK_ORIENT_ROWS = 1, /* fit the rows: project onto a row subspace */
    LOWRANK_ORIENT_COLS = 2  /* fit the columns: project onto a column subspace */
} lowrank_orientation;

typedef struct lowrank_opts lowrank_opts;

/* lowrank_opts_new: a new options handle with every option at its default.
 * Errors: LOWRANK_EINVAL (out NULL), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_opts_new(lowrank_opts **out);

/* lowrank_opts_free: release an options handle.  NULL is accepted. */
LOWRANK_API void lowrank_opts_free(lowrank_opts *opts);

/* lowrank_opts_set_int: set an integer-valued option.
 * Errors: LOWRANK_EINVAL (opts NULL, unknown key, or a key that takes a
 * double), LOWRANK_ERANGE (value outside the key's documented range). */
LOWRANK_API int lowrank_opts_set_int(lowrank_opts *opts, lowrank_option key,
                                     int64_t value);

/* lowrank_opts_set_double: set a double-valued option.
 * Errors: LOWRANK_EINVAL (opts NULL, unknown key, or a key that takes an
 * integer), LOWRANK_ERANGE (value NaN or outside the key's range). */
LOWRANK_API int lowrank_opts_set_double(lowrank_opts *opts, lowrank_option key,
                                        double value);

/* lowrank_opts_get_int: the current value of an integer-valued option; with
 * opts NULL, its default.
 * Errors: LOWRANK_EINVAL (value NULL, unknown key, or a key that takes a
 * double). */
LOWRANK_API int lowrank_opts_get_int(const lowrank_opts *opts,
                                     lowrank_option key, int64_t *value);

/* lowrank_opts_get_double: the current value of a double-valued option; with
 * opts NULL, its default.
 * Errors: LOWRANK_EINVAL (value NULL, unknown key, or a key that takes an
 * integer). */
LOWRANK_API int lowrank_opts_get_double(const lowrank_opts *opts,
                                        lowrank_option key, double *value);

/* ------------------------------------------------------------------------
 * Low-rank factors
 *
 * A lowrank_factors holds a rank-k approximation of an m x n matrix A in the
 * form A ~ U diag(S) V^T: U is m x k with orthonormal columns, S holds k
 * non-negative values in descending order, and V^T is k x n with orthonormal
 * rows; all three in A's dtype.  lowrank_svd() returns one (the l2 SVD
 * truncation) and so do the other factorisations of this library.
 * ------------------------------------------------------------------------ */

typedef struct lowrank_factors lowrank_factors;

/* How lowrank_factors_split() shares diag(S) between the two factors. */
typedef enum lowrank_split {
    LOWRANK_SPLIT_LEFT = 1,    /* L = U diag(S), R = V^T */
    LOWRANK_SPLIT_RIGHT = 2,   /* L = U, R = diag(S) V^T */
    LOWRANK_SPLIT_BALANCED = 3 /* L = U diag(sqrt(S)), R = diag(sqrt(S)) V^T */
} lowrank_split;

/* lowrank_factors_free: release factors and the matrices they own.  NULL is
 * accepted and ignored. */
LOWRANK_API void lowrank_factors_free(lowrank_factors *f);

/* Sizes: the rank k, and the rows m and columns n of the approximated
 * matrix.  Given NULL they return 0. */
LOWRANK_API int64_t lowrank_factors_rank(const lowrank_factors *f);
LOWRANK_API int64_t lowrank_factors_rows(const lowrank_factors *f);
LOWRANK_API int64_t lowrank_factors_cols(const lowrank_factors *f);

/* Borrowed views of U (m x k), S (k x 1) and V^T (k x n), owned by f and
 * valid until f is freed; NULL for NULL.  Do not free or write them.  Their
 * layout and leading dimension are whatever avoided a copy (for instance U
 * of a row-major A may be a row-major view); read them through
 * lowrank_matrix_layout() and lowrank_matrix_ld(), or convert them with
 * lowrank_matrix_convert(). */
LOWRANK_API const lowrank_matrix *lowrank_factors_u(const lowrank_factors *f);
LOWRANK_API const lowrank_matrix *lowrank_factors_s(const lowrank_factors *f);
LOWRANK_API const lowrank_matrix *lowrank_factors_vt(const lowrank_factors *f);

/* lowrank_factors_split: two new compact row-major matrices, L (m x k) and
 * R (k x n), in f's dtype, with L R = U diag(S) V^T; how chooses which
 * factor carries S (see lowrank_split).  This is the form that replaces a
 * weight matrix W by two layers.  Free them with lowrank_matrix_free().
 * Errors: LOWRANK_EINVAL (f, left or right NULL, unknown how),
 * LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_factors_split(const lowrank_factors *f, lowrank_split how,
                                      lowrank_matrix **left, lowrank_matrix **right);

/* lowrank_factors_reconstruct: write U diag(S) V^T into the caller's m x n
 * matrix dst, of any dtype, layout and leading dimension, with one matrix
 * product (no m x n temporary).  Between float64 factors and a float32 dst
 * the values are rounded to float32.
 * Errors: LOWRANK_EINVAL (f or dst NULL), LOWRANK_ESIZE (dst is not m x n),
 * LOWRANK_ERANGE (float64 factors hold a value beyond float32's range for a
 * float32 dst), LOWRANK_ENOMEM.  On failure dst is unchanged. */
LOWRANK_API int lowrank_factors_reconstruct(const lowrank_factors *f, lowrank_matrix *dst);

/* lowrank_factors_error: the relative Frobenius error
 * ||A - U diag(S) V^T||_F / ||A||_F of the approximation, as estimated when
 * it was computed; 0 when A = 0.  For lowrank_svd() every method returns a
 * projection of A, so the squared error is ||A||_F^2 minus the kept energy:
 * the sum of the discarded squared singular values when the whole spectrum
 * is known (exact mode with k = 0, k = min(m, n), or its LAPACK fallback),
 * accurate to the last digits; otherwise ||A||_F^2 minus the sum of the kept
 * ones, formed in double precision, which resolves relative errors down to
 * about 1e-7 (exact mode, and randomized mode for float64) or 3e-4
 * (randomized mode for float32); below that it reads as noise near 0.
 * Errors: LOWRANK_EINVAL (f or relative_error NULL). */
LOWRANK_API int lowrank_factors_error(const lowrank_factors *f, double *relative_error);

/* ------------------------------------------------------------------------
 * l2 SVD truncation
 * ------------------------------------------------------------------------ */

/* lowrank_svd: the best rank-k approximation of the m x n matrix a in the
 * Frobenius and spectral norms (Eckart-Young), as factors U diag(S) V^T in
 * a's dtype, stored in *out (free with lowrank_factors_free()).  a may have
 * either layout and any leading dimension; it is read in place, never
 * modified, and copied only when its magnitudes are extreme (beyond 2^+-20
 * for float32, 2^+-250 for float64, where squares of singular values would
 * leave the dtype's range; the copy is scaled by a power of two).
 *
 * k is the rank, 1 <= k <= min(m, n).  With k = 0 the rank is chosen by
 * LOWRANK_OPT_TOLERANCE = tau > 0: the smallest k whose approximation has
 * relative Frobenius error ||A - A_k||_F / ||A||_F <= tau (at least 1).
 *
 * Options (NULL for every default):
 *  - LOWRANK_OPT_METHOD:
 *    LOWRANK_METHOD_EXACT: singular values and vectors to working
 *      precision.  The leading eigenvectors of the Gram matrix of the
 *      smaller side (formed in double precision) give V; one product A V
 *      and a tall QR/SVD give U and S as Ritz values of A itself; two bounds
 *      certify every value to max(m, n) u sigma_1 (u the unit roundoff),
 *      and when they cannot, LAPACK's full SVD (divide and conquer) is used
 *      instead.  With k = 0 the rank comes from the whole Gram spectrum.
 *    LOWRANK_METHOD_RANDOMIZED: block Krylov: the space
 *      [V, (A^T A) V, ..., (A^T A)^q V] of a random block V of k + p
 *      columns on the smaller side, 2q + 1 products with A, then
 *      Rayleigh-Ritz.  The result is the best rank-k approximation within
 *      that space, an orthogonal projection of A; on slowly decaying
 *      spectra its relative error is within about 1e-3 of the optimum.
 *      When (q + 1)(k + p) > min(m, n) it computes the exact truncation.
 *      With k = 0 the space grows by blocks of 32 (min(m, n) / 8, at
 *      least 4, when min(m, n) < 256) until it meets the tolerance, then by
 *      q more, and the rank is the smallest whose approximation meets it
 *      (the exact route when the space would outgrow min(m, n)).
 *    LOWRANK_METHOD_AUTO (the default): randomized when k > 0 and
 *      2 (q + 1)(k + p) <= min(m, n), exact otherwise (and for k = 0).
 *    Other methods are rejected.
 *  - LOWRANK_OPT_TOLERANCE: see k = 0 above; ignored when k > 0.
 *  - LOWRANK_OPT_SEED: the random block.  The same seed, input and BLAS
 *    thread count give the same bits on every run; another BLAS thread
 *    count may round differently (OpenBLAS splits products by thread), so
 *    results then agree to working precision.
 *  - LOWRANK_OPT_OVERSAMPLING p (default 20) and LOWRANK_OPT_POWER_ITER q
 *    (default 2): the randomized block size k + p and Krylov depth q.  With
 *    q = 0 the block is A^T (or A) times a random block of the long side:
 *    the plain randomized range finder, two products with A.
 *
 * Errors: LOWRANK_EINVAL (a or out NULL, a method other than auto, exact or
 * randomized), LOWRANK_ERANGE (k < 0 or k > min(m, n); k = 0 with a zero
 * tolerance), LOWRANK_ENONFINITE (a holds NaN or infinity), LOWRANK_ENOMEM,
 * LOWRANK_EOVERFLOW (a dimension beyond the BLAS integer), LOWRANK_ENOCONV
 * (LAPACK did not converge, which it practically never does). */
LOWRANK_API int lowrank_svd(const lowrank_matrix *a, int64_t k, const lowrank_opts *opts,
                            lowrank_factors **out);

#ifdef __cplusplus
}
#endif

#endif /* LOWRANK_H */
