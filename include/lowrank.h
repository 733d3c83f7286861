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
 *  - Scale.  Results do not depend on the scale of the input: for c A each
 *    numerical function returns c^q times its result for A, q as each
 *    function documents (1 for singular values, centres, G and coreset
 *    points; -2 for an ellipsoid's shape; p for a cost; 0 for singular
 *    vectors, weights, indices, alpha, eps and relative errors), for every c
 *    that keeps c A representable.  Inputs of extreme magnitude are computed
 *    on a copy scaled by a power of two, which loses no bit.  Where c^q
 *    times the result is outside the range of its dtype the function fails
 *    with LOWRANK_ERANGE: none returns inf, NaN or a vanished result with
 *    success.
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
#define LOWRANK_VERSION_MINOR 2
#define LOWRANK_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH: 0.2.0 is 200. */
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
    LOWRANK_EINTERNAL = -12,   /* a bug in liblowrank: please report it */
    LOWRANK_ECANCELED = -13,   /* the progress callback asked to stop (since 0.2) */
    /* -14 is taken by a code added beside these */
    LOWRANK_ECALLBACK = -15,   /* an operator's callback failed (since 0.2) */
    LOWRANK_ECOMM = -16        /* communication between processes failed
                                * (liblowrank_mpi, lowrank_mpi.h; since 0.2) */
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

/* lowrank_npy_info (since 0.2): the shape, dtype and layout of the .npy
 * file at path, read from its header, without reading its data: rows x cols
 * as lowrank_matrix_load_npy would give them, and LOWRANK_ROW_MAJOR for C
 * order, LOWRANK_COL_MAJOR for Fortran order.  path must be a regular file
 * holding exactly the data its header declares.
 * Errors: LOWRANK_EINVAL (an argument NULL), LOWRANK_EIO, LOWRANK_EFORMAT
 * (malformed header, data shorter or longer than declared),
 * LOWRANK_EUNSUPPORTED (another dtype or rank; not a regular file),
 * LOWRANK_EOVERFLOW, LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_npy_info(const char *path, int64_t *rows, int64_t *cols,
                                 lowrank_dtype *dtype, lowrank_layout *layout);

/* lowrank_matrix_load_npy_rows (since 0.2): rows first .. first + count - 1
 * of the .npy file at path, as a new count x cols matrix in the file's
 * dtype and layout, reading only those rows' bytes (one read for a C-order
 * file, one per column for a Fortran-order one): how a file larger than
 * memory, or one shared by several processes, is read block by block.  path
 * must be a regular file holding exactly the data its header declares.
 * Errors: LOWRANK_EINVAL (path or out NULL), LOWRANK_ERANGE (first < 0,
 * count < 1 or first + count beyond the rows), and those of
 * lowrank_npy_info. */
LOWRANK_API int lowrank_matrix_load_npy_rows(const char *path, int64_t first, int64_t count,
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
 * factorisation, 50-69 background models, 70-79 data-aware compression,
 * 80-89 operators, 90-99 distributed computation. */
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
    /* int >= -1; default -1 (the method chooses; see lowrank_lp).
     * Iterations of iteratively reweighted least squares refining a robust
     * fit; 0 turns refinement off. */
    LOWRANK_OPT_REFINE_ITER = 10,
    /* double >= 0; default 1e-6.  Refinement stops when the objective
     * decreases by less than this fraction in one iteration. */
    LOWRANK_OPT_REFINE_TOL = 11,
    /* int >= 0; default 0, meaning the cores this process may run on (its
     * CPU affinity).  Threads of the library's own that a handle runs its
     * work on (the background model: per-frame work over bands of rows, and
     * training; products with a sparse operator: bands of rows), the
     * calling thread included; 1 starts no thread.  Results
     * do not depend on it.  A program that runs several handles in several
     * threads of its own should set 1 (or its share of the cores) to avoid
     * oversubscribing them.  BLAS's own threads are not affected (see
     * docs/threadsafety.md). */
    LOWRANK_OPT_THREADS = 12,
    /* int, a lowrank_center; default LOWRANK_CENTER_FREE.  Which enclosing
     * ellipsoid lowrank_mvee computes. */
    LOWRANK_OPT_CENTER = 30,
    /* int >= 0; default 0.  Added to every row index a coreset records, so
     * that pieces of one matrix split over files or processes carry global
     * row numbers. */
    LOWRANK_OPT_ROW_OFFSET = 31,
    /* int >= 0; default 16 (since 0.2).  lowrank_lp, rows objective: how
     * many starts spanned by k points drawn at random the refinement tries
     * besides its three deterministic ones (docs/lp.md section 3). */
    LOWRANK_OPT_STARTS = 41,
    /* int >= -1; default -1 (since 0.2): chosen by the size (see
     * lowrank_lp).  lowrank_lp: the dimension of the sketch of R^d in which
     * the fit starts; 0 fits in the points' own span, whatever its
     * dimension. */
    LOWRANK_OPT_SKETCH_DIM = 42,

    /* Distributed computation (liblowrank_mpi, lowrank_mpi.h): keys 90-99. */

    /* int >= 0; default 0 (10 n, at least 500, for n columns).  Rows of
     * each coreset lowrank_mpi_lp builds and merges. */
    LOWRANK_OPT_MPI_CORESET_SIZE = 90,

    /* Background models (lowrank_background_new); see that section below
     * and docs/background.md for why each default is what it is. */

    /* int, a lowrank_bg_mode; default LOWRANK_BG_MODE_ADAPTIVE. */
    LOWRANK_OPT_BG_MODE = 50,
    /* int >= 0; default 0.  Number of components of the background basis;
     * 0 chooses the smallest number whose cumulative contribution reaches
     * LOWRANK_OPT_BG_ENERGY. */
    LOWRANK_OPT_BG_RANK = 51,
    /* double in (0, 1]; default 0.9.  Cumulative contribution (fraction of
     * the sum of the eigenvalues) that chooses the rank when
     * LOWRANK_OPT_BG_RANK is 0: of the training frames' covariance in the
     * seed mode, of their uncentred second moment in the adaptive mode
     * (where the background image itself is the first component). */
    LOWRANK_OPT_BG_ENERGY = 52,
    /* int, a lowrank_bg_threshold; default LOWRANK_BG_THRESHOLD_PIXEL.
     * The seed mode always uses the fixed threshold. */
    LOWRANK_OPT_BG_THRESHOLD_MODE = 53,
    /* double > 0; default 25.  The fixed threshold, in grey levels: a pixel
     * is foreground when the root mean square over its channels of the
     * difference between the frame and the background exceeds it. */
    LOWRANK_OPT_BG_THRESHOLD = 54,
    /* double > 0; default 4.  The per-pixel threshold, as a multiple of the
     * pixel's noise level (the median over time of its residual, root mean
     * square over channels, never below the median pixel's). */
    LOWRANK_OPT_BG_SENSITIVITY = 55,
    /* int, 0 or 1; default 1.  Adaptive mode: fit the training frames by
     * the entry-wise l1 low-rank fit, so that objects moving through them
     * do not leak into the background; 0 fits them by least squares. */
    LOWRANK_OPT_BG_ROBUST = 56,
    /* double in [0, 1]; default 0.01 (a memory of about 100 frames, the
     * length of a typical training window).  Adaptive mode: learning rate of
     * the update, which learns only from pixels judged background; 0 turns
     * the update off. */
    LOWRANK_OPT_BG_UPDATE_RATE = 57,
    /* int >= 1; default 1.  Update the model every this many frames. */
    LOWRANK_OPT_BG_UPDATE_INTERVAL = 58,
    /* int in [0, 255], odd or 0; default 5.  Size of the square median
     * filter applied to each mask; 0 or 1 turns it off. */
    LOWRANK_OPT_BG_MEDIAN = 59,
    /* int >= 0; default 0.  Adaptive mode: during the first this many
     * frames after training the update rate is at least 1 / (frames since
     * training + 1), a running average that replaces the training quickly. */
    LOWRANK_OPT_BG_WARMUP = 60,
    /* int, 0 or 1; default 1.  Adaptive mode: estimate each frame's global
     * translation against the model (sub-pixel, robustly, together with its
     * coefficients) and compare the frame with the model registered by it,
     * so that a camera that drifts or shakes by up to a few pixels is not
     * reported as motion.  Translation only: rotation and zoom are not
     * followed. */
    LOWRANK_OPT_BG_REGISTRATION = 61,
    /* int, a lowrank_bg_shadows; default LOWRANK_BG_SHADOWS_BACKGROUND.
     * Adaptive mode, colour frames: what to do with a changed pixel that is
     * a darker version of its background (brightness ratio in
     * [LOWRANK_OPT_BG_SHADOW_RATIO, 1), chromaticity within the pixel's
     * threshold): a cast shadow, not an object.  Grey frames have no
     * chromaticity to test: their shadows are foreground. */
    LOWRANK_OPT_BG_SHADOWS = 62,
    /* double in (0, 1); default 0.6 (OpenCV MOG2 takes 0.5).  The darkest a
     * shadow may be: the least ratio of its brightness to the
     * background's. */
    LOWRANK_OPT_BG_SHADOW_RATIO = 63,
    /* int >= 0; default 500 (OpenCV MOG2's and KNN's history, 20 s at 25
     * frames/s).  Adaptive mode, with the update on: a pixel that is not
     * learnt freely (changed, a shadow, next to foreground) moves towards
     * the frame by at most its threshold / LOWRANK_OPT_BG_ABSORB a frame, so
     * a stopped object, or a mistake of the model, c thresholds away is
     * absorbed after about (c - 1) x LOWRANK_OPT_BG_ABSORB frames.  0:
     * never. */
    LOWRANK_OPT_BG_ABSORB = 64,
    /* int, 0 or 1; default 1.  Adaptive mode: a changed pixel that matches
     * the background half a pixel away in one of the 8 directions is
     * background (an edge that moved by a fraction of a pixel). */
    LOWRANK_OPT_BG_NEIGHBOURS = 65,

    /* Data-aware compression (lowrank_svd_data, lowrank_allocate_ranks;
     * since 0.2). */

    /* double >= 0; default 0.  Ridge alpha: the input covariance C is
     * replaced by C + alpha (trace(C) / n) I, which shrinks the data-aware
     * truncation towards the plain SVD (alpha -> infinity gives it).  0 is
     * the exact minimiser of the output error; docs/compress.md measures
     * alpha from 0 to 10. */
    LOWRANK_OPT_RIDGE = 70,

    /* Operators (since 0.2; lowrank_lp_op). */

    /* int >= 0; default 0, meaning max(16 d, 4096) for points of dimension
     * d.  The points lowrank_lp_op fits: all of them when there are no
     * more, otherwise a coreset of this many built in one pass. */
    LOWRANK_OPT_CORESET_SIZE = 80
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

/* Values of LOWRANK_OPT_CENTER. */
typedef enum lowrank_center {
    LOWRANK_CENTER_FREE = 1,  /* the general ellipsoid, its centre computed */
    LOWRANK_CENTER_ORIGIN = 2 /* centred at 0: encloses the points and their negatives */
} lowrank_center;

/* Values of LOWRANK_OPT_BG_MODE. */
typedef enum lowrank_bg_mode {
    /* the robust, adaptive model: l1 training fit, mean and a constant kept
     * inside the projected span, robust projection, per-pixel thresholds,
     * update from background pixels */
    LOWRANK_BG_MODE_ADAPTIVE = 1,
    /* exactly the eigenbackground of Oliver, Rosario and Pentland (2000) as
     * Long, Shen and Chen (2012) use it: mean and covariance of the training
     * frames, eigenvectors by cumulative contribution, orthogonal projection
     * of the centred frame, fixed threshold, no update */
    LOWRANK_BG_MODE_SEED = 2
} lowrank_bg_mode;

/* Values of LOWRANK_OPT_BG_THRESHOLD_MODE. */
typedef enum lowrank_bg_threshold {
    LOWRANK_BG_THRESHOLD_PIXEL = 1, /* LOWRANK_OPT_BG_SENSITIVITY x the pixel's noise */
    LOWRANK_BG_THRESHOLD_FIXED = 2  /* LOWRANK_OPT_BG_THRESHOLD grey levels everywhere */
} lowrank_bg_threshold;

/* Values of LOWRANK_OPT_BG_SHADOWS. */
typedef enum lowrank_bg_shadows {
    LOWRANK_BG_SHADOWS_OFF = 1,        /* no shadow test: shadows are foreground */
    LOWRANK_BG_SHADOWS_BACKGROUND = 2, /* shadows are 0 in the mask */
    LOWRANK_BG_SHADOWS_MARK = 3        /* shadows are 127 in the mask (as OpenCV's MOG2) */
} lowrank_bg_shadows;

typedef struct lowrank_opts lowrank_opts;

/* lowrank_opts_new: a new options handle with every option at its default.
 * Errors: LOWRANK_EINVAL (out NULL), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_opts_new(lowrank_opts **out);

/* lowrank_opts_free: release an options handle.  NULL is accepted. */
LOWRANK_API void lowrank_opts_free(lowrank_opts *opts);

/* lowrank_opts_copy: a new options handle holding every value of src (src
 * NULL: every default), the progress callback and its user pointer
 * included, to change a few keys of a caller's options without touching
 * them or knowing its other keys.  Free it with lowrank_opts_free.
 * Errors: LOWRANK_EINVAL (out NULL), LOWRANK_ENOMEM.  (Since 0.2.) */
LOWRANK_API int lowrank_opts_copy(const lowrank_opts *src, lowrank_opts **out);

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

/* lowrank_progress_fn: a progress callback.  fraction is the share of the
 * call's work done so far, in [0, 1] and never decreasing within one call;
 * user is the pointer given to lowrank_opts_set_progress.  Return 0 to go
 * on, anything else to stop: the call then returns LOWRANK_ECANCELED
 * promptly, with its outputs set to NULL (or left unchanged, for a caller's
 * buffer or model) and nothing leaked. */
typedef int (*lowrank_progress_fn)(double fraction, void *user);

/* lowrank_opts_set_progress (since 0.2): report the progress of the long
 * computations that take opts -- lowrank_svd, lowrank_lp, lowrank_mvee,
 * lowrank_lp_rounding, lowrank_coreset_build, lowrank_coreset_merge and
 * lowrank_background_train -- to fn, which may cancel them.  fn is called
 * from the thread that made the call (never from a worker thread), about
 * every 50 ms of work and never more often, so a call that finishes sooner
 * may not call it at all; between two calls there is at most ~100 ms of work
 * on an idle core, except inside single LAPACK calls, which cannot be
 * interrupted.  fn NULL turns reporting off (the default).  Options handles
 * are copied by lowrank_background_new, callback included: training reports
 * to it.  fn must not call the library with the same options handle.
 * Errors: LOWRANK_EINVAL (opts NULL). */
LOWRANK_API int lowrank_opts_set_progress(lowrank_opts *opts, lowrank_progress_fn fn,
                                          void *user);

/* ------------------------------------------------------------------------
 * Sparse matrices (since 0.2)
 *
 * A lowrank_csr describes a rows x cols sparse matrix in compressed sparse
 * row (CSR) form, as scipy.sparse.csr_matrix holds one: the nonzeros of row
 * i are values[p] in column indices[p] for p in [indptr[i], indptr[i + 1]);
 * indptr has rows + 1 entries, indices and values nnz each.  Values are
 * float32 or float64, indices and indptr int64.  Within a row the entries
 * may come in any order, and an (i, j) given twice counts as the sum of its
 * values, as in scipy.  Like a lowrank_matrix, a lowrank_csr wraps the
 * caller's arrays without copying them (lowrank_csr_wrap) or owns arrays
 * it read (lowrank_csr_load_npz).
 * ------------------------------------------------------------------------ */

typedef struct lowrank_csr lowrank_csr;

/* lowrank_csr_wrap: a handle on the caller's CSR arrays, without copying
 * them; they must stay valid and unchanged until the handle and every
 * operator made from it are freed.  Checked here, reading exactly the
 * rows + 1 and nnz entries declared: indptr[0] = 0, indptr non-decreasing,
 * indptr[rows] = nnz, and every index in [0, cols).  Values are checked for
 * NaN and infinity by the computations that read them.
 * Errors: LOWRANK_EINVAL (out NULL, an array NULL while nnz > 0 or indptr
 * NULL, unknown dtype), LOWRANK_ESIZE (rows or cols < 1, nnz < 0),
 * LOWRANK_EFORMAT (indptr or indices break the rules above, naming the
 * first offending entry), LOWRANK_EOVERFLOW (rows, cols or nnz beyond what
 * size_t can address), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_csr_wrap(lowrank_dtype dtype, int64_t rows, int64_t cols, int64_t nnz,
                                 const int64_t *indptr, const int64_t *indices,
                                 const void *values, lowrank_csr **out);

/* lowrank_csr_load_npz: read a sparse matrix saved by
 * scipy.sparse.save_npz (compressed or not) into a new handle that owns
 * its arrays.  The file is a zip archive of .npy members: "format" ('csr'
 * or 'csc'; a CSC matrix is converted to CSR), "shape" (two integers),
 * "indptr" and "indices" (int32 or int64; widened to int64) and "data"
 * (float32 or float64; little- or big-endian), each stored or deflated.
 * Every length in the archive is checked against the bytes present before
 * anything is allocated, and the arrays are checked as lowrank_csr_wrap
 * checks them.  See lowrank_csr_load_npz(3) for the format in full.
 * Errors: LOWRANK_EINVAL (path or out NULL), LOWRANK_EIO (cannot open or
 * read), LOWRANK_EFORMAT (not a zip archive, a member missing, malformed,
 * truncated or inconsistent with the others, a deflate stream that does not
 * end where its sizes say), LOWRANK_EUNSUPPORTED (another format such as
 * 'coo', another dtype, zip64, encryption, a compression method other than
 * stored or deflate), LOWRANK_EOVERFLOW, LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_csr_load_npz(const char *path, lowrank_csr **out);

/* lowrank_csr_free: release a handle and, if it owns them, its arrays.
 * NULL is accepted. */
LOWRANK_API void lowrank_csr_free(lowrank_csr *a);

/* Accessors.  Given NULL they return 0. */
LOWRANK_API int64_t lowrank_csr_rows(const lowrank_csr *a);
LOWRANK_API int64_t lowrank_csr_cols(const lowrank_csr *a);
/* lowrank_csr_nnz: the entries stored (indptr[rows]). */
LOWRANK_API int64_t lowrank_csr_nnz(const lowrank_csr *a);
LOWRANK_API lowrank_dtype lowrank_csr_dtype(const lowrank_csr *a);

/* ------------------------------------------------------------------------
 * Linear operators (since 0.2)
 *
 * A lowrank_operator is a rows x cols matrix A of dtype float32 or float64
 * that the computations reach only through products Y = op(A) X, op(A) = A
 * or A^T, with blocks X of nvec vectors: lowrank_svd_op and lowrank_lp_op
 * take one.  It is made from
 *   - a dense lowrank_matrix (lowrank_operator_matrix): the computations are
 *     then exactly those of lowrank_svd and lowrank_lp on the matrix;
 *   - a sparse lowrank_csr (lowrank_operator_csr): products threaded by
 *     rows (see lowrank_operator_csr);
 *   - an .npy file, read block by block at every product, so that a matrix
 *     larger than memory can be approximated (lowrank_operator_npy);
 *   - a callback of the caller's that computes the products
 *     (lowrank_operator_new): an implicit matrix, never stored.
 * The operator borrows what it is made from (matrix, arrays, callback
 * data), which must outlive it.  An operator is read-only: one may be used
 * by several calls in several threads at once, as long as its callback (if
 * any) allows that.
 * ------------------------------------------------------------------------ */

typedef struct lowrank_operator lowrank_operator;

/* Which product.  The values equal CblasNoTrans and CblasTrans. */
typedef enum lowrank_trans {
    LOWRANK_NO_TRANS = 111, /* Y = A X: X is cols x nvec, Y rows x nvec */
    LOWRANK_TRANS = 112     /* Y = A^T X: X is rows x nvec, Y cols x nvec */
} lowrank_trans;

/* lowrank_apply_fn: the product of a callback operator, Y = op(A) X, with
 * X and Y of the operator's dtype (float * or double *), nvec >= 1 columns
 * each, in the layout given to lowrank_operator_new with leading dimensions
 * ldx and ldy: element (i, j) of X is x[i + j * ldx] in column-major layout
 * and x[i * ldx + j] in row-major layout.  The callback writes every element
 * of Y (Y's previous contents are undefined) and must not write X.  It
 * returns 0 on success and anything else to fail: the library call that
 * asked for the product then returns LOWRANK_ECALLBACK, its outputs set to
 * NULL and nothing leaked.  It is called from the thread that called the
 * library, one product at a time per call. */
typedef int (*lowrank_apply_fn)(lowrank_trans trans, int64_t nvec, const void *x, int64_t ldx,
                                void *y, int64_t ldy, void *user);

/* lowrank_operator_new: an operator computed by the caller's apply, which
 * gets user as its last argument, for a rows x cols matrix of the given
 * dtype; blocks are passed to apply in the given layout.  The computations
 * check every block apply returns for NaN and infinity
 * (LOWRANK_ENONFINITE).  They cannot scan a callback's matrix, so with one
 * lowrank_svd_op knows no ||A||_F: lowrank_factors_error() gives NaN and a
 * rank chosen by tolerance (k = 0) is LOWRANK_EUNSUPPORTED.
 * Errors: LOWRANK_EINVAL (apply or out NULL, unknown dtype or layout),
 * LOWRANK_ESIZE (rows or cols < 1), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_operator_new(lowrank_dtype dtype, lowrank_layout layout, int64_t rows,
                                     int64_t cols, lowrank_apply_fn apply, void *user,
                                     lowrank_operator **out);

/* lowrank_operator_matrix: the dense matrix a as an operator (borrowed, not
 * copied).  lowrank_svd_op(op, ...) computes exactly what lowrank_svd(a, ...)
 * computes, and lowrank_lp_op what lowrank_lp computes.
 * Errors: LOWRANK_EINVAL (a or out NULL), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_operator_matrix(const lowrank_matrix *a, lowrank_operator **out);

/* lowrank_operator_csr: the sparse matrix a as an operator.  It borrows a's
 * arrays and keeps, made here in one pass, a copy of their column indices
 * as int32 when they fit (a product reads little else), or, for a wide a
 * (rows < cols), the CSR structure of a^T: the operator works on the tall
 * one, S, whose products S x (gathering rows of x) and S^T y (scattering
 * into rows of z) touch the small side only at random.  Products are
 * threaded by bands of S's rows; every element of a result is summed in a
 * fixed order (S^T y through four fixed chunks added in order), so results
 * do not depend on the number of threads.
 * Errors: LOWRANK_EINVAL (a or out NULL), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_operator_csr(const lowrank_csr *a, lowrank_operator **out);

/* lowrank_operator_npy: the matrix in the .npy file at path as an operator
 * that reads it at every product, in blocks of rows of about 16 MiB (one
 * block in memory at a time; a Fortran-order file is read one column
 * segment at a time): products and computations need memory for the
 * blocks of vectors only, whatever the size of the file.  The file is kept
 * open and read with pread; it must be a regular file holding exactly the
 * data its header declares, and must not change while the operator lives
 * (a file that shrinks gives LOWRANK_EFORMAT, not a crash).
 * lowrank_operator_passes counts the passes and bytes read.
 * Errors: those of lowrank_npy_info, and LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_operator_npy(const char *path, lowrank_operator **out);

/* lowrank_operator_transpose: the operator A^T of the operator a (borrowed:
 * a must outlive it), whose products are a's with trans swapped: a matrix
 * held by columns (CSC: the CSR arrays of A^T) is A^T's CSR operator,
 * transposed, without a copy.  For a dense matrix's operator, the dense
 * matrix transposed (so lowrank_svd_op and lowrank_lp_op compute exactly
 * lowrank_svd's and lowrank_lp's of the transposed view).
 * Errors: LOWRANK_EINVAL (a or out NULL), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_operator_transpose(const lowrank_operator *a, lowrank_operator **out);

/* lowrank_operator_free: release an operator (not what it borrows).  NULL
 * is accepted. */
LOWRANK_API void lowrank_operator_free(lowrank_operator *op);

/* Accessors.  Given NULL they return 0. */
LOWRANK_API int64_t lowrank_operator_rows(const lowrank_operator *op);
LOWRANK_API int64_t lowrank_operator_cols(const lowrank_operator *op);
LOWRANK_API lowrank_dtype lowrank_operator_dtype(const lowrank_operator *op);

/* lowrank_operator_apply: y = op(A) x for the caller's matrices x
 * (cols x nvec for LOWRANK_NO_TRANS, rows x nvec for LOWRANK_TRANS) and
 * y (rows x nvec or cols x nvec), of the operator's dtype, in any layout
 * and leading dimension: the product the computations use, for programs
 * that build on operators (a distributed solver, say).  opts (NULL: the
 * defaults) gives the progress callback, reported to over long products
 * (an .npy file's pass).
 * Errors: LOWRANK_EINVAL (op, x or y NULL, trans unknown, x or y of
 * another dtype than the operator's), LOWRANK_ESIZE
 * (x or y of the wrong shape),
 * LOWRANK_ECALLBACK, LOWRANK_ECANCELED, LOWRANK_EIO and LOWRANK_EFORMAT (a
 * file operator's read), LOWRANK_ENOMEM.  On failure y is unchanged. */
LOWRANK_API int lowrank_operator_apply(const lowrank_operator *op, lowrank_trans trans,
                                       const lowrank_matrix *x, lowrank_matrix *y,
                                       const lowrank_opts *opts);

/* lowrank_operator_passes: how much work the operator has done since it
 * was made, summed over every call that used it: *passes gets the number
 * of passes over A's data (a product, or for a file operator one read of
 * the file, which may serve two products at once; a callback's calls),
 * *bytes_read the bytes read from a file (0 for other operators).  Either
 * pointer may be NULL.
 * Errors: LOWRANK_EINVAL (op NULL). */
LOWRANK_API int lowrank_operator_passes(const lowrank_operator *op, int64_t *passes,
                                        int64_t *bytes_read);

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

/* lowrank_factors_new: factors from their parts, copied: U (m x k), S (k x 1,
 * finite, non-negative and descending) and V^T (k x n, rows orthonormal to
 * within sqrt(u), u the unit roundoff of the dtype), all of one dtype,
 * in any layout; relative_error is what lowrank_factors_error() will report
 * (>= 0, or NaN when it is not known).  U is taken as given: in the factors
 * the library computes its columns are orthonormal, and here it may also be
 * a block of rows of such a U, as each process of liblowrank_mpi holds.  The
 * functions that read factors use V's rows as the basis of the fitted
 * subspace, U only as a matrix.  For factors computed elsewhere (another
 * process, a file) that the functions of this library should read.
 * Errors: LOWRANK_EINVAL (u, s, vt or out NULL; dtypes differ), LOWRANK_ESIZE
 * (s is not k x 1, or u is not m x k, or vt not k x n), LOWRANK_ENONFINITE
 * (a part holds NaN or infinity), LOWRANK_ERANGE (S negative or not
 * descending, V^T's rows not orthonormal, relative_error negative or
 * infinite), LOWRANK_ENOMEM.  (Since 0.2.) */
LOWRANK_API int lowrank_factors_new(const lowrank_matrix *u, const lowrank_matrix *s,
                                    const lowrank_matrix *vt, double relative_error,
                                    lowrank_factors **out);

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
 * For lowrank_svd_data it is the relative output error instead (see there).
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
 *    LOWRANK_METHOD_EXACT: singular values to working precision, singular
 *      vectors to the precision of the Gram matrix they come from.  The
 *      leading eigenvectors of the Gram matrix of the smaller side (formed
 *      in double precision) give V -- by Lanczos when the smaller
 *      side is at least 256 and 12 k, by the Gram matrix's eigensolver
 *      otherwise or when Lanczos cannot certify; one product A V and a tall
 *      QR/SVD give U and S as Ritz values of A itself.  Bounds certify every
 *      value to max(m, n) u sigma_1 (u the unit roundoff) and the triplets'
 *      residual (A V - U S, A^T U - V S) to sqrt 2 times the larger of
 *      max(m, n) u sigma_1 and max(m, n) 2^-53 sigma_1^2 / sigma_k: the
 *      triplets are exact for a matrix that close to A, which puts each
 *      vector within that over the gap to its neighbouring values.  When the bounds
 *      cannot certify, LAPACK's full SVD (divide and conquer) is used
 *      instead.  With k = 0 the rank comes from the whole Gram spectrum.
 *      Deterministic: LOWRANK_OPT_SEED is not used.
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
 *    LOWRANK_METHOD_AUTO (the default): the optimum to about 1e-5 of its
 *      error, at the lower cost.  Exact for k = 0, when 6 (k + p) >
 *      min(m, n), and when min(m, n) <= 20 (k + p), where its Gram matrix
 *      costs no more than the products block Krylov needs on flat spectra;
 *      otherwise block Krylov from depth 2, one block deeper at a time
 *      until the next adds less than 1e-5 of the squared error left to the
 *      energy of the k leading Ritz values (exact instead should the space
 *      pass min(m, n) / 2).  With LOWRANK_OPT_POWER_ITER set, the old rule:
 *      randomized at that depth when 2 (q + 1)(k + p) <= min(m, n).  Block
 *      Krylov at depth 2 alone stays up to 1e-2 of the error above the
 *      optimum on flat spectra (docs/svd.md).
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
 * (LAPACK did not converge, which it practically never does); LOWRANK_ERANGE
 * also when a singular value is beyond the dtype's range (c A gives U, c S,
 * V^T: a float32 matrix of FLT_MAX entries has sigma_1 > FLT_MAX). */
LOWRANK_API int lowrank_svd(const lowrank_matrix *a, int64_t k, const lowrank_opts *opts,
                            lowrank_factors **out);

/* lowrank_svd_op (since 0.2): lowrank_svd of the m x n matrix behind the
 * operator a (see "Linear operators" above), as factors in a's dtype.
 * For lowrank_operator_matrix(A) it is exactly lowrank_svd(A, ...).
 * Otherwise A is reached through products only (never m x n memory), and:
 *  - Magnitudes: A is scanned first (a sparse matrix's values; a pass over
 *    a file), for NaN and infinity (LOWRANK_ENONFINITE), ||A||_F and the
 *    scaling by a power of two lowrank_svd applies to extreme magnitudes; a
 *    callback is not scanned: its blocks are checked as they come, and the
 *    scale is taken from one product with a random unit vector.
 *  - LOWRANK_METHOD_RANDOMIZED: lowrank_svd's block Krylov method, 2q + 1
 *    products with blocks of k + p vectors.  Over a file, where every
 *    product is a pass: q + 2 passes (the products M^T M V fused into one
 *    pass each), plus the scan, and memory for (m + n)(k + p) numbers and
 *    one block of the file, nothing m x n.
 *  - LOWRANK_METHOD_EXACT: thick-restart block Lanczos on A^T A (or A A^T,
 *    the smaller side) through products, in double, from a fixed start,
 *    blocks of up to 4 vectors (as many as fit in 512 KiB), until the Ritz
 *    pairs predict a residual of sqrt(max(m, n)) u sigma_1, the basis
 *    restarting on its leading Ritz vectors whenever it holds
 *    LOWRANK_OPT_MAX_ITER columns (default max(64, 8 k), at most
 *    min(m, n) / 2).  Certified: the triplets' residual
 *    rho = ||(A V - U S, A^T U - V S)||_F / sqrt 2 is computed and must be
 *    at most max(m, n) u sigma_1 (u the dtype's unit roundoff): each value
 *    is then within rho of a singular value of A, and the triplets are
 *    exact for a matrix within sqrt 2 rho of A.  That these are the k
 *    largest is what the Krylov space makes near certain from its random
 *    start (and multiplicities up to the block's width by construction) but
 *    cannot prove without A^T A (the dense method's Cholesky test), as for
 *    ARPACK or svds.  When that route fails, or for a file (where a Gram
 *    matrix costs one pass) or k = 0, the dense method's routes run on the
 *    Gram matrix of the small side, formed from A's rows, when
 *    min(m, n) <= 4096, with their full certificates; LAPACK's fallback
 *    reads A into memory when it takes at most 1 GiB (never a file).
 *    Otherwise LOWRANK_ENOCONV.
 *  - LOWRANK_METHOD_AUTO: for a file, lowrank_svd's rule with a depth given
 *    (depth 2 where 6 (k + p) <= min(m, n): a deeper space would cost a
 *    pass over the file per block); for a sparse or
 *    callback operator, exact when k > 0 (its products are cheap next to
 *    the dense work of a randomized method, and it gives converged values,
 *    as svds does), randomized with the tolerance when k = 0.
 *  - k = 0 (rank by tolerance) needs ||A||_F: LOWRANK_EUNSUPPORTED for a
 *    callback.  Its randomized method keeps the image of its basis (m x
 *    the basis's columns).
 *  - lowrank_factors_error() is NaN for a callback (||A||_F unknown), unless
 *    the Gram matrix was formed (its trace).
 *  - Products are threaded (sparse operators) on the cores the process may
 *    use.  Progress reports and cancel work as for lowrank_svd, within
 *    passes over a file too.
 * Errors: those of lowrank_svd, and LOWRANK_EUNSUPPORTED (k = 0 with a
 * callback), LOWRANK_ECALLBACK, LOWRANK_EIO and LOWRANK_EFORMAT (a file
 * operator's reads), LOWRANK_ENOCONV (the exact method could not certify
 * and has no fallback: see above). */
LOWRANK_API int lowrank_svd_op(const lowrank_operator *a, int64_t k, const lowrank_opts *opts,
                               lowrank_factors **out);

/* ------------------------------------------------------------------------
 * lp robust low-rank approximation
 *
 * A rank-k approximation that outliers move less than they move the SVD:
 * the points (the rows of A, or its columns) are fitted by a k-dimensional
 * subspace in an lp sense, p >= 1, rather than in least squares (p = 2).
 * Two objectives, with dist the Euclidean distance:
 *   LOWRANK_OBJECTIVE_ROWS: sum over the points a_i of dist(a_i, S)^p
 *     (subspace fitting; max_i dist(a_i, S) for p = INFINITY), with
 *     A ~ the projection of the points onto S;
 *   LOWRANK_OBJECTIVE_ENTRIES: sum over the entries of |A - L R|^p
 *     (robust low rank under sparse gross corruption of single entries).
 * See docs/lp.md for the methods, what is proven about them and
 * measurements.
 * ------------------------------------------------------------------------ */

/* lowrank_lp: a rank-k lp approximation of the m x n matrix a as factors
 * U diag(S) V^T in a's dtype (U and V orthonormal, S descending), stored in
 * *out (free with lowrank_factors_free()).  a may have either layout and
 * any leading dimension; it is read in place and never modified.
 *
 * The construction (Tukan, Maalouf, Weksler, Feldman, "No fine-tuning, no
 * cry", Sensors 2021): with the points as the n rows of P (n x d) -- P = A
 * for LOWRANK_ORIENT_ROWS, P = A^T for LOWRANK_ORIENT_COLS -- round the
 * convex body {x : ||P x||_p <= 1} by an ellipsoid, i.e. find G with
 *     ||G x||_2 <= ||P x||_p <= alpha ||G x||_2   for all x
 * (lowrank_lp_rounding), keep the k eigenvectors V_k of G with the largest
 * eigenvalues, and approximate P by its projection P V_k V_k^T.  When the
 * points span fewer than d dimensions (n < d, or a rank-deficient P) the
 * body is rounded within their span, and when they lie in a subspace of
 * dimension k or less the approximation is exact (P itself).  With
 * LOWRANK_OPT_REFINE_ITER = 0 that is the result: O(n d min(n, d)) work and
 * n min(n, d) doubles.
 *
 * Refinement (the default for p < 2) fits the chosen objective from there:
 *   LOWRANK_OBJECTIVE_ROWS (default): sum_i dist(p_i, span V)^p.  Iteratively
 *     reweighted least squares (IRLS: a weighted PCA per step, weights
 *     max(dist_i, delta)^(p - 2), delta = 1e-10 times the largest point's
 *     norm; Lerman and Maunu's fast median subspace for p = 1) converges to
 *     a point near its start, so it starts from several subspaces: the
 *     construction, the SVD's, the PCA of the points projected onto the unit
 *     sphere, and LOWRANK_OPT_STARTS subspaces spanned by k points drawn at
 *     random.  Each is scored after a few IRLS steps on a sample of up to
 *     2000 points (the random ones only when their trimmed cost is among the
 *     3 lowest), the best -- and any the sample cannot tell from it -- is
 *     refined on all points, and the result is never above the cost of the
 *     construction or of the SVD's subspace.  When the points span at
 *     least 4 (2k + 16) dimensions (LOWRANK_OPT_SKETCH_DIM) all of this runs
 *     in the coordinates of a subspace of 2k + 16 dimensions: the top
 *     directions of P and of the points projected onto the unit sphere,
 *     from randomized subspace iteration; then the subspace is grown by the
 *     directions each IRLS step would take outside it until IRLS stops in
 *     all of R^d.  Work O(nnz(A) k) per pass over A and O((n + d) k) memory
 *     besides a; the construction and the SVD's subspace are then those of
 *     the sketch (the SVD's is the randomized SVD's).
 *   LOWRANK_OBJECTIVE_ENTRIES: sum |A - L R|^p by alternating IRLS over the
 *     rows of L and the columns of R, from the truncated SVD (lowrank_svd) of
 *     a copy of A with each coordinate winsorized, or from the
 *     construction's L R (in the sketch's coordinates when those are used)
 *     when that ends above its cost.  The copy takes A's memory.
 * The objective returned is never above the start's; the result is a
 * stationary point of IRLS, not a certified global optimum (the problems
 * are not convex; docs/lp.md says which outlier regimes are covered).  The
 * result is put in SVD form by QR factorisations of its two factors and a
 * k x k SVD.  The random parts are seeded by LOWRANK_OPT_SEED: the same
 * seed, input and BLAS thread count give the same bits on every run.
 *
 * k: 1 <= k <= min(m, n).  p: 1 <= p <= INFINITY; refinement needs p <= 2.
 *
 * Options (NULL for every default):
 *  - LOWRANK_OPT_METHOD: the rounding.  LOWRANK_METHOD_LEWIS (and
 *    LOWRANK_METHOD_AUTO, the default): lp Lewis weights, alpha =
 *    d^|1/p - 1/2| to a factor 1 + 1e-6; LOWRANK_METHOD_LOWNER: the paper's
 *    ellipsoid method with exact subgradients, alpha <= sqrt(d (d + 1)).
 *    Others give LOWRANK_ERANGE.  LOWRANK_OPT_MAX_ITER and LOWRANK_OPT_EPS
 *    are passed to lowrank_lp_rounding.  In a sketch, d is its dimension
 *    and the inequality holds for the x in it.
 *  - LOWRANK_OPT_ORIENTATION: LOWRANK_ORIENT_ROWS (default) fits the rows of
 *    a (points in R^n; the paper's setting for a layer A whose rows are the
 *    points), LOWRANK_ORIENT_COLS its columns.
 *  - LOWRANK_OPT_OBJECTIVE: what the refinement minimises (above).
 *  - LOWRANK_OPT_REFINE_ITER: the cap on the IRLS steps of the refinement
 *    of each start kept (the screening's steps are not counted); 0 returns
 *    the construction; -1 (the default) means 100 for p < 2 and 0 for
 *    p >= 2 (at p = 2 the construction is already the least-squares optimum
 *    for both objectives: the SVD truncation).  A positive value with p > 2
 *    is LOWRANK_ERANGE.
 *  - LOWRANK_OPT_REFINE_TOL (default 1e-6): refinement stops when a step
 *    lowers the objective by this fraction of it or less, or does not lower
 *    it at all (that step is not kept).
 *  - LOWRANK_OPT_STARTS (default 16): the random starts of the rows
 *    objective; 0 keeps the three deterministic ones.
 *  - LOWRANK_OPT_SKETCH_DIM (default -1): the dimension of the sketch; -1
 *    chooses 2k + 16 when the points span at least 4 times that, else their
 *    own span; 0 always their own span; r >= k a sketch of r dimensions
 *    (their own span if r is not below it).
 *  - LOWRANK_OPT_SEED: the random starts, the sample and the sketch.
 *  - lowrank_opts_set_progress: progress reports and cancel.
 *
 * lowrank_factors_error() gives ||A - U diag(S) V^T||_F / ||A||_F, computed
 * from the residual itself.
 *
 * Scale: c A gives U, c S, V^T (to the refinement's stopping tolerance) and
 * the same error.  An A of extreme magnitude (beyond 2^+-20 in float32,
 * 2^+-250 in float64) is fitted on a copy scaled by a power of two, which
 * takes A's memory once more.
 *
 * Errors: LOWRANK_EINVAL (a or out NULL), LOWRANK_ERANGE (p NaN or below 1;
 * k < 1 or k > min(m, n); a method other than the above; refinement with
 * p > 2; LOWRANK_OPT_SKETCH_DIM in [1, k); a singular value beyond the
 * dtype's range), LOWRANK_ENONFINITE (a holds NaN or infinity),
 * LOWRANK_ENOMEM, LOWRANK_EOVERFLOW (a dimension beyond the BLAS integer),
 * LOWRANK_ENOCONV (LAPACK or, for p = INFINITY, lowrank_mvee did not
 * converge), LOWRANK_ECANCELED (the progress callback asked to stop). */
LOWRANK_API int lowrank_lp(const lowrank_matrix *a, int64_t k, double p, const lowrank_opts *opts,
                           lowrank_factors **out);

/* lowrank_lp_op (since 0.2): lowrank_lp's rows fit (LOWRANK_OBJECTIVE_ROWS)
 * of the m x n matrix behind the operator a, its points the rows of A
 * (LOWRANK_ORIENT_ROWS) or its columns, for a finite p >= 1.  For
 * lowrank_operator_matrix(A) it is exactly lowrank_lp(A, ...).  Otherwise
 * the points are read from the operator (a sparse matrix's rows, a file's
 * blocks, a callback's products with blocks of the identity):
 *  - when there are at most LOWRANK_OPT_CORESET_SIZE = M of them (default
 *    max(16 d, 4096), d their dimension), all of them, into memory, and the
 *    fit is lowrank_lp's on them;
 *  - otherwise a coreset of at most M points, built in one pass by merge
 *    and reduce (lowrank_coreset_build on blocks of M points,
 *    lowrank_coreset_merge up a binary tree), fitted by lowrank_lp with
 *    each point scaled by its weight^(1/p): an approximation of the fit of
 *    all points, to the accuracy of the coreset (docs/lp.md has
 *    measurements).  Memory: a few times M x d.
 * Then one more pass gives every point's coordinates P V and the factors.
 * Options as lowrank_lp's (the objective must be rows: the entry-wise fit
 * needs the entries in memory), and LOWRANK_OPT_CORESET_SIZE; the coreset's
 * draws depend on LOWRANK_OPT_SEED.  lowrank_factors_error() is formed as
 * ||A||_F^2 - ||P V||_F^2 (the fit is a projection), accurate to about
 * 1e-7.
 * Errors: LOWRANK_EINVAL (a or out NULL), LOWRANK_ERANGE (p NaN, below 1 or
 * infinite; k out of range; an option lowrank_lp refuses),
 * LOWRANK_EUNSUPPORTED (LOWRANK_OBJECTIVE_ENTRIES), LOWRANK_EDEGENERATE
 * (points that do not span R^d where a coreset is built),
 * LOWRANK_ENONFINITE, LOWRANK_ECALLBACK, LOWRANK_EIO, LOWRANK_EFORMAT,
 * LOWRANK_ENOMEM, LOWRANK_ENOCONV. */
LOWRANK_API int lowrank_lp_op(const lowrank_operator *a, int64_t k, double p,
                              const lowrank_opts *opts, lowrank_factors **out);

/* lowrank_lp_cost: the objective of the factors f (from any function of
 * this library) on the m x n matrix a, computed in double into *cost:
 *   LOWRANK_OBJECTIVE_ROWS: sum over the points of dist(point, S)^p, where
 *     the points and S are those of the orientation f was fitted in: the
 *     rows of a and S = span(V) for factors from lowrank_lp with
 *     LOWRANK_ORIENT_ROWS and for every other factors (lowrank_svd's
 *     included), the columns of a and S = span(U) for factors from
 *     lowrank_lp with LOWRANK_ORIENT_COLS;
 *   LOWRANK_OBJECTIVE_ENTRIES: sum over the entries of |a - U diag(S) V^T|^p.
 * p = INFINITY gives the largest distance, or the largest entry.
 * Scale: a times c, with f's S times c, gives c^p times the cost (c for
 * p = INFINITY), for any p: when a term's p-th power could leave double's
 * range (large p, or extreme magnitudes), the largest term is found first
 * and the sum formed on a copy of a and S scaled so that it is 1.
 * Errors: LOWRANK_EINVAL (a, f or cost NULL, objective neither of the two),
 * LOWRANK_ERANGE (p NaN or below 1; the cost outside double's range: above
 * DBL_MAX, as for p = 1000 and distances above 2, or not zero and below
 * DBL_MIN, where it has lost its precision), LOWRANK_ESIZE (f is not m x n),
 * LOWRANK_ENONFINITE (a holds NaN or infinity), LOWRANK_ENOMEM.  On failure
 * *cost is unchanged. */
LOWRANK_API int lowrank_lp_cost(const lowrank_matrix *a, const lowrank_factors *f, double p,
                                lowrank_objective objective, double *cost);

/* ------------------------------------------------------------------------
 * Data-aware compression of layers (since 0.2)
 *
 * A layer y = x W + b with W of shape n x d (n inputs, d outputs) sees
 * inputs x that are far from isotropic.  The rank-k approximation that
 * preserves its outputs on those inputs best is not the SVD's: with mu the
 * mean and C the covariance of the inputs, it minimises
 *     ||X_c (W - W_k)||_F,   X_c = the inputs minus mu (one per row),
 * over rank-k W_k, and the bias b' = b + mu (W - W_k) keeps the mean output
 * (SVD-LLM, ASVD and FWSVD do this for language models).  The minimum is
 * reached by W_k = W V_k V_k^T, with V_k the k leading eigenvectors of the
 * output covariance W^T C W: no inverse of C is needed, so a singular or
 * ill-conditioned C is no obstacle.  A convolution is the same layer with
 * its im2col patches as inputs and its kernel in 2-D form (C kh kw x F).
 *
 * lowrank_stats accumulates mu and C from batches of rows, so calibration
 * data is never held whole; lowrank_svd_data truncates;
 * lowrank_factors_bias_shift gives mu (W - W_k); lowrank_allocate_ranks
 * shares a budget of stored numbers between layers.  See docs/compress.md.
 * ------------------------------------------------------------------------ */

typedef struct lowrank_stats lowrank_stats;

/* lowrank_stats_new: empty statistics of rows of dim values.  They take
 * dim^2 + dim doubles (an add with a progress callback twice the dim^2).
 * opts (may be NULL) is copied for its progress callback, to which
 * lowrank_stats_add reports.  Free with lowrank_stats_free.
 * Errors: LOWRANK_EINVAL (out NULL), LOWRANK_ESIZE (dim < 1),
 * LOWRANK_EOVERFLOW (dim^2 doubles overflow), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_stats_new(int64_t dim, const lowrank_opts *opts, lowrank_stats **out);

/* lowrank_stats_free: release statistics.  NULL is accepted. */
LOWRANK_API void lowrank_stats_free(lowrank_stats *s);

/* lowrank_stats_add: add the rows of rows (count x dim, float32 or
 * float64, any layout) to s.  Accumulated in double around the current mean
 * (the shifted form of Welford's update: a batch's scatter about the old
 * mean, then Chan et al.'s correction for the new one), panel by panel, so
 * that any split of the same rows into batches gives the same statistics
 * to rounding.  Work: count dim^2 flops.  Values are limited to
 * magnitudes of 2^450 (about 1e135), so that no sum of squares can
 * overflow, and a batch's rows must differ from the mean they are
 * accumulated around by at least 2^-450 somewhere (about 1e-135), unless
 * they all equal it, so that the sums do not underflow to noise.  On
 * failure s is unchanged.
 * Errors: LOWRANK_EINVAL (s or rows NULL), LOWRANK_ESIZE (rows->cols differs
 * from dim), LOWRANK_ENONFINITE, LOWRANK_ERANGE (a magnitude above 2^450,
 * a spread below 2^-450),
 * LOWRANK_EOVERFLOW (the count would overflow int64_t), LOWRANK_ENOMEM,
 * LOWRANK_ECANCELED. */
LOWRANK_API int lowrank_stats_add(lowrank_stats *s, const lowrank_matrix *rows);

/* lowrank_stats_merge: add the rows summarised by src to s (statistics of
 * the union, by Chan, Golub and LeVeque's pairwise update), for statistics
 * gathered by several threads or, through lowrank_stats_from_moments, by
 * several processes.  src is unchanged (it may be s itself: each row then
 * counts twice); on failure s is unchanged.
 * Errors: LOWRANK_EINVAL (s or src NULL), LOWRANK_ESIZE (the dims differ),
 * LOWRANK_EOVERFLOW (the count would overflow), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_stats_merge(lowrank_stats *s, const lowrank_stats *src);

/* lowrank_stats_from_moments: statistics of count rows with the given mean
 * (1 x dim or dim x 1) and covariance (dim x dim, symmetric: its lower
 * triangle is read), as lowrank_stats_mean and lowrank_stats_covariance
 * return them: how statistics saved by another process are merged.
 * count = 0 gives empty statistics (mean and covariance then ignored, but
 * their sizes still checked).  opts as for lowrank_stats_new.
 * Errors: LOWRANK_EINVAL (an argument NULL), LOWRANK_ESIZE (count < 0,
 * sizes inconsistent), LOWRANK_ENONFINITE, LOWRANK_ERANGE (a negative
 * variance, a mean above 2^450 or count times a covariance above 2^900),
 * LOWRANK_EOVERFLOW, LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_stats_from_moments(int64_t count, const lowrank_matrix *mean,
                                           const lowrank_matrix *covariance,
                                           const lowrank_opts *opts, lowrank_stats **out);

/* lowrank_stats_dim, lowrank_stats_count: dim, and the number of rows added
 * so far; 0 for NULL. */
LOWRANK_API int64_t lowrank_stats_dim(const lowrank_stats *s);
LOWRANK_API int64_t lowrank_stats_count(const lowrank_stats *s);

/* lowrank_stats_mean: a new 1 x dim float64 matrix holding the mean of the
 * rows.  Errors: LOWRANK_EINVAL (s or out NULL), LOWRANK_EDEGENERATE (no
 * rows yet), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_stats_mean(const lowrank_stats *s, lowrank_matrix **out);

/* lowrank_stats_covariance: a new dim x dim float64 matrix holding the
 * covariance of the rows, divided by the count (not count - 1).
 * Errors: as lowrank_stats_mean. */
LOWRANK_API int lowrank_stats_covariance(const lowrank_stats *s, lowrank_matrix **out);

/* lowrank_svd_data: the rank-k approximation W_k = W V_k V_k^T of the
 * n x d weights w of a layer y = x W + b that minimises the error of its
 * centred outputs ||X_c (W - W_k)||_F on the inputs summarised by inputs
 * (dim n), as factors U diag(S) V^T in w's dtype (free with
 * lowrank_factors_free).  The factors' lowrank_factors_error is the
 * relative output error ||X_c (W - W_k)||_F / ||X_c W||_F (0 when the
 * outputs do not vary).  Computed in double whatever the dtype.
 *
 * k: 1 <= k <= min(n, d), or k = 0 for the smallest rank whose relative
 * output error is at most LOWRANK_OPT_TOLERANCE (at least 1).
 *
 * Two routes, by the cheaper operation count (docs/compress.md):
 *   - B = L^T P^T W (r x d), where P^T C P = L L^T is C's Cholesky
 *     factorisation with complete pivoting (LAPACK's dpstrf), stopped at
 *     the rank r where the remaining pivots fall below n u max_i C_ii (u
 *     = 2^-53): its truncation by lowrank_svd (with opts: exact,
 *     randomized or auto) gives V_k.  Taken when n^3 / 3 + 2 n^2 d <=
 *     n^2 d + n d^2 + 4 d^3, e.g. whenever n <= d.
 *   - the d x d output covariance G = W^T C W, whose leading eigenvectors
 *     (LAPACK's dsyevr; dsyevd for k = 0) are V_k, whatever the method.
 * A whitened singular value sigma with sigma^2 <= max(n, d) 2^-52
 * sigma_1^2 is counted as zero: when fewer than k remain (the inputs span
 * too few directions, e.g. fewer rows than k), the rest of V_k is the
 * leading right singular vectors of W restricted to the complement of
 * those found, so that W_k is then as close to W as it can be.  With zero
 * covariance (a single row, or constant inputs) this gives the SVD of W.
 *
 * Options (NULL for every default): LOWRANK_OPT_RIDGE (default 0);
 * LOWRANK_OPT_TOLERANCE (k = 0); LOWRANK_OPT_METHOD, LOWRANK_OPT_SEED,
 * LOWRANK_OPT_OVERSAMPLING, LOWRANK_OPT_POWER_ITER: as for lowrank_svd, for
 * the first route's truncation.  Progress: reported as for lowrank_svd;
 * the factorisation of C, the products and the eigensolver are single
 * LAPACK/BLAS calls that are not interrupted.
 *
 * Errors: LOWRANK_EINVAL (w, inputs or out NULL; a method lowrank_svd
 * rejects), LOWRANK_ESIZE (the inputs' dim is not n), LOWRANK_ERANGE (k < 0
 * or k > min(n, d); k = 0 with a zero tolerance), LOWRANK_EDEGENERATE (no
 * rows in inputs), LOWRANK_ENONFINITE (w holds NaN or infinity),
 * LOWRANK_EOVERFLOW, LOWRANK_ENOMEM, LOWRANK_ENOCONV, LOWRANK_ECANCELED. */
LOWRANK_API int lowrank_svd_data(const lowrank_matrix *w, const lowrank_stats *inputs, int64_t k,
                                 const lowrank_opts *opts, lowrank_factors **out);

/* lowrank_factors_bias_shift: shift = mean (W - U diag(S) V^T), a new
 * 1 x d matrix in w's dtype, for factors f of any function of this library
 * approximating the n x d w, and mean (1 x n or n x 1, any dtype) the mean
 * of the layer's inputs (lowrank_stats_mean): with b' = b + shift the
 * compressed layer x U diag(S) V^T + b' has the original layer's mean
 * output on those inputs.  Computed in double.
 * Errors: LOWRANK_EINVAL (an argument NULL), LOWRANK_ESIZE (sizes
 * inconsistent), LOWRANK_ENONFINITE (w or mean holds NaN or infinity),
 * LOWRANK_ERANGE (the shift overflows float32), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_factors_bias_shift(const lowrank_factors *f, const lowrank_matrix *w,
                                           const lowrank_matrix *mean, lowrank_matrix **out);

/* lowrank_allocate_ranks: ranks for count layers, weights[i] (n_i x d_i)
 * with inputs[i] (dim n_i; inputs NULL, or an entry NULL, for the plain SVD,
 * C = I), that minimise the summed predicted error
 *     E = sum_i a_i e_i(k_i),  e_i(k) = relative output error of layer i at
 *                                       rank k, squared (lowrank_svd_data's)
 * under a budget of stored numbers: sum_i s_i(k_i) <= budget sum_i n_i d_i,
 * where s_i(k) = k (n_i + d_i) for the factors, or n_i d_i for a layer kept
 * whole, which ranks[i] = min(n_i, d_i) means (it is chosen over ranks
 * whose factors would store as much).  Biases are not counted.  e_i comes
 * from layer i's whole whitened spectrum (lowrank_svd_data's routes, exact).
 * a_i = importance[i] (count entries, finite, >= 0, not all 0; NULL: all 1)
 * is what a unit of layer i's squared relative error costs the net: e.g.
 * the loss a probe measures on calibration data, divided by e_i
 * (docs/compress.md, section 4).
 *
 * The rule: every layer starts at rank 1; the steps of every layer (to a
 * higher rank, or to kept whole) are taken along the lower convex hull of
 * its (s_i, a_i e_i) curve, all layers' hull segments in decreasing order
 * of error removed per stored number, while they fit.  That allocation is
 * optimal for the numbers it stores (it minimises E + lambda sum_i s_i for
 * the ratio lambda of the last step: Everett 1963), and its E is within the
 * error of the first segment that did not fit of the optimum for the budget
 * (Lagrangian duality).  The budget left, less than that segment, is then
 * filled by the single steps that fit, best ratio first.  With budget = 0,
 * LOWRANK_OPT_TOLERANCE = tau chooses instead the fewest numbers (by the
 * same order of steps) whose predicted root mean square relative output
 * error, sqrt(E / sum_i a_i), is at most tau.
 *
 * ranks (count entries) gets the ranks; errors (count entries, may be NULL)
 * the predicted relative output errors sqrt(e_i(k_i)).  Options:
 * LOWRANK_OPT_RIDGE, LOWRANK_OPT_TOLERANCE.  On failure ranks and errors are
 * unchanged.
 * Errors: LOWRANK_EINVAL (weights, a weight, ranks NULL), LOWRANK_ESIZE
 * (count < 1, an inputs' dim is not n_i), LOWRANK_ERANGE (budget outside
 * [0, 1] or NaN, below the share of rank 1 everywhere; budget 0 with a zero
 * tolerance; an importance negative, NaN or infinite, or all 0),
 * LOWRANK_EDEGENERATE (inputs with no rows), LOWRANK_ENONFINITE,
 * LOWRANK_EOVERFLOW, LOWRANK_ENOMEM, LOWRANK_ENOCONV, LOWRANK_ECANCELED. */
LOWRANK_API int lowrank_allocate_ranks(int64_t count, const lowrank_matrix *const *weights,
                                       const lowrank_stats *const *inputs,
                                       const double *importance, double budget,
                                       const lowrank_opts *opts, int64_t *ranks, double *errors);

/* ------------------------------------------------------------------------
 * Minimum-volume enclosing ellipsoids (Löwner ellipsoids of point sets)
 *
 * An ellipsoid is E = {x : (x - c)^T Q (x - c) <= 1} in R^d, with centre c
 * and symmetric positive definite shape Q.  lowrank_mvee computes, for the n
 * rows of a matrix, an enclosing ellipsoid whose volume is within a factor
 * 1 + eps of the smallest one, and proves it: the dual weights it returns
 * give a lower bound on the volume of every enclosing ellipsoid (Khachiyan
 * 1996; Todd and Yildirim 2007).  See docs/geometry.md.
 * ------------------------------------------------------------------------ */

typedef struct lowrank_ellipsoid lowrank_ellipsoid;

/* lowrank_mvee: an enclosing ellipsoid of the n rows of points (n x d), of
 * volume at most (1 + eps) times the minimum, eps = LOWRANK_OPT_EPS (default
 * 1e-3).  Every point satisfies (p - c)^T Q (p - c) <= 1 up to rounding, and
 * the farthest lies on the boundary.  Khachiyan's iteration with
 * Todd-Yildirim away steps on a working set of points, grown with the points
 * the current ellipsoid misses and started from Kumar-Yildirim extremes; it
 * stops when its own optimality condition certifies the volume ratio, which
 * lowrank_ellipsoid_eps reports.  The computation runs in float64; centre and
 * shape come back in the dtype and layout of points, the weights in float64.
 * Options: LOWRANK_OPT_EPS; LOWRANK_OPT_CENTER (LOWRANK_CENTER_FREE, the
 * default, or LOWRANK_CENTER_ORIGIN for the ellipsoid centred at the origin
 * enclosing the points and their negatives); LOWRANK_OPT_MAX_ITER (cap on
 * iterations, default 0 meaning 1000000).
 * Errors: LOWRANK_EINVAL (points or out NULL), LOWRANK_ENONFINITE,
 * LOWRANK_EDEGENERATE (the points lie on a lower-dimensional affine flat, or
 * for LOWRANK_CENTER_ORIGIN a linear subspace, to within a relative width of
 * 1e-6: fewer than d + 1 (origin: d) points, or a spread in some direction
 * below 1e-6 of the largest; project them onto the flat first),
 * LOWRANK_ENOCONV (the iteration cap was reached before the requested eps),
 * LOWRANK_ERANGE (the centre or Q beyond the dtype's range, or Q's largest
 * entry below its normal range), LOWRANK_ENOMEM.
 * Scale: c points give the centre times c, Q / c^2, the log volume plus
 * d log|c|, the same weights and eps; Q / c^2 leaves float32's range for
 * points beyond about 1e19 or below about 1e-19 (float64: 1e154), where
 * the call fails with LOWRANK_ERANGE. */
LOWRANK_API int lowrank_mvee(const lowrank_matrix *points, const lowrank_opts *opts,
                             lowrank_ellipsoid **out);

/* lowrank_ellipsoid_free: release an ellipsoid and the matrices it owns.
 * NULL is accepted. */
LOWRANK_API void lowrank_ellipsoid_free(lowrank_ellipsoid *e);

/* Accessors.  The matrices belong to the ellipsoid and live until
 * lowrank_ellipsoid_free.  Given NULL they return 0, NULL or NaN. */
/* lowrank_ellipsoid_dim: d. */
LOWRANK_API int64_t lowrank_ellipsoid_dim(const lowrank_ellipsoid *e);
/* lowrank_ellipsoid_center: c, d x 1 (zero for LOWRANK_CENTER_ORIGIN). */
LOWRANK_API const lowrank_matrix *lowrank_ellipsoid_center(const lowrank_ellipsoid *e);
/* lowrank_ellipsoid_shape: Q, d x d, symmetric positive definite. */
LOWRANK_API const lowrank_matrix *lowrank_ellipsoid_shape(const lowrank_ellipsoid *e);
/* lowrank_ellipsoid_weights: the dual weights u, n x 1 float64, u >= 0,
 * summing to 1.  The points with positive weight (the core set) determine
 * the ellipsoid: c = sum u_i p_i, and they lie on or near its boundary. */
LOWRANK_API const lowrank_matrix *lowrank_ellipsoid_weights(const lowrank_ellipsoid *e);
/* lowrank_ellipsoid_log_volume: the natural logarithm of the volume of E,
 * log(vol(unit ball)) - log(det Q) / 2. */
LOWRANK_API double lowrank_ellipsoid_log_volume(const lowrank_ellipsoid *e);
/* lowrank_ellipsoid_eps: the certified ratio minus one: the volume of E is at
 * most (1 + eps) times that of any ellipsoid enclosing the points. */
LOWRANK_API double lowrank_ellipsoid_eps(const lowrank_ellipsoid *e);

/* ------------------------------------------------------------------------
 * Ellipsoidal rounding of lp balls
 * ------------------------------------------------------------------------ */

/* lowrank_lp_rounding: for A (n x d, n >= d, rank d) and p >= 1, a d x d
 * symmetric positive definite G and a factor alpha >= 1 with
 *     ||G x||_2 <= ||A x||_p <= alpha ||G x||_2   for every x,
 * that is, the ellipsoid {x : ||G x|| <= 1} contains the convex body
 * {x : ||A x||_p <= 1}, which contains the ellipsoid shrunk by alpha.  alpha
 * is certified by the computation (up to rounding in the dtype of a), not
 * estimated.  G comes back in the dtype and layout of a.
 * Methods (LOWRANK_OPT_METHOD):
 *   LOWRANK_METHOD_LEWIS (and LOWRANK_METHOD_AUTO): lp Lewis weights (Cohen
 *     and Peng 2015) by a damped fixed-point iteration with Anderson
 *     acceleration, then G^T G = A^T W^(1 - 2/p) A suitably scaled;
 *     alpha = d^|1/p - 1/2| times a factor that tends to 1 (the iteration
 *     stops when it is below 1 + 1e-6, when it stalls, or after
 *     LOWRANK_OPT_MAX_ITER iterations, default 100).  p = 2 gives alpha = 1
 *     and G^T G = A^T A.  p = INFINITY: the John ellipsoid of the polytope,
 *     through lowrank_mvee of the rows of A centred at the origin, with
 *     alpha <= sqrt(d) (1 + eps)^(1/d), eps = LOWRANK_OPT_EPS.
 *   LOWRANK_METHOD_LOWNER: the ellipsoid method of Tukan et al. (2021) with
 *     exact subgradients: symmetric parallel cuts at the axis points of the
 *     current ellipsoid shrunk by sqrt(d + 1) that lie outside the body,
 *     from an enclosing ellipsoid given by the leverage scores, until the
 *     certified alpha = sqrt(sum_j ||A v_j||_p^2) over the semi-axes v_j is
 *     at most sqrt(d (d + 1)), the bound the paper's test (every shrunk axis
 *     point in the body) guarantees.  LOWRANK_OPT_MAX_ITER caps the rounds
 *     (default 1000); alpha remains certified if it is hit.
 * For p > 2 the Lewis iteration may stop short of its ideal alpha (the
 * weights grow uneven with p); when the alpha it certifies is above
 * sqrt(d) (1 + eps)^(1/d) n^(1/p), which the John ellipsoid of the p =
 * INFINITY route guarantees for every p (||Ax||_inf <= ||Ax||_p <= n^(1/p)
 * ||Ax||_inf over the n rows that are not zero), that route is taken.
 * Scale: c A gives c G and the same alpha.
 * Errors: LOWRANK_EINVAL (a, g or alpha NULL), LOWRANK_ERANGE (p NaN or below
 * 1, LOWRANK_OPT_METHOD not one of the above, G beyond the dtype's range),
 * LOWRANK_ENONFINITE,
 * LOWRANK_EDEGENERATE (rank of A below d, n < d included: the body is
 * unbounded), LOWRANK_ENOCONV (p = INFINITY: see lowrank_mvee),
 * LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_lp_rounding(const lowrank_matrix *a, double p, const lowrank_opts *opts,
                                    lowrank_matrix **g, double *alpha);

/* ------------------------------------------------------------------------
 * Coresets for lp subspace fitting and regression
 *
 * A coreset of the rows of A is a small set of rows with weights whose
 * weighted cost approximates the cost of all rows for every query: for a
 * subspace S, sum_i w_i dist(a_i, S)^p ~ sum over all rows of
 * dist(a_i, S)^p; for a vector x, sum_i w_i |a_i^T x|^p ~ ||A x||_p^p (put
 * the regression target in a column of A).  Rows are drawn with probability
 * proportional to an upper bound on their sensitivity (Feldman and Langberg
 * 2011), ||G^-1 a_i||^p with G from lowrank_lp_rounding, and weighted so
 * that every cost is estimated without bias.
 * ------------------------------------------------------------------------ */

typedef struct lowrank_coreset lowrank_coreset;

/* lowrank_coreset_build: a coreset of the rows of a (n x d, rank d) for the
 * lp cost, p in [1, infinity): m rows drawn independently (with replacement)
 * with probability q_i proportional to ||G^-1 a_i||^p, each draw weighing
 * 1 / (m q_i); a row drawn k times appears once with the k weights summed,
 * so the coreset holds at most m rows, in increasing row order.  With m >= n
 * the coreset is every row with weight 1.  G comes from lowrank_lp_rounding
 * with the same options (LOWRANK_OPT_METHOD chooses Lewis weights or the
 * ellipsoid method).  Draws depend only on LOWRANK_OPT_SEED.  Indices are
 * row numbers plus LOWRANK_OPT_ROW_OFFSET.
 * Scale: c A gives the same indices and weights and c times the points,
 * for any c; the probabilities are formed on a copy normalised by a power
 * of two (and, for large p, relative to the largest).
 * Errors: LOWRANK_EINVAL (a or out NULL), LOWRANK_ERANGE (p NaN, below 1 or
 * infinite; a method lowrank_lp_rounding refuses), LOWRANK_ESIZE (m < 1),
 * LOWRANK_ENONFINITE, LOWRANK_EDEGENERATE (rank of a below d), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_coreset_build(const lowrank_matrix *a, double p, int64_t m,
                                      const lowrank_opts *opts, lowrank_coreset **out);

/* lowrank_coreset_new: a coreset from its parts, copied: the size x d rows
 * points (float32 or float64, any layout), their size x 1 float64 weights
 * (finite, > 0), their size row indices (indices NULL: 0, 1, ..., size - 1)
 * and the p it was made for (finite, >= 1).  So a coreset sent by another
 * process, or stored, can be merged (lowrank_coreset_merge) with one made
 * here.  Errors: LOWRANK_EINVAL (points, weights or out NULL; weights not
 * float64), LOWRANK_ESIZE (weights not size x 1), LOWRANK_ERANGE (p NaN,
 * below 1 or infinite; a weight not positive; an index negative),
 * LOWRANK_ENONFINITE, LOWRANK_ENOMEM.  (Since 0.2.) */
LOWRANK_API int lowrank_coreset_new(const lowrank_matrix *points, const lowrank_matrix *weights,
                                    const int64_t *indices, double p, lowrank_coreset **out);

/* lowrank_coreset_free: release a coreset.  NULL is accepted. */
LOWRANK_API void lowrank_coreset_free(lowrank_coreset *c);

/* Accessors; what they return belongs to the coreset and lives until
 * lowrank_coreset_free.  Given NULL they return 0 or NULL. */
/* lowrank_coreset_size: the number of rows held, at most the m asked for. */
LOWRANK_API int64_t lowrank_coreset_size(const lowrank_coreset *c);
/* lowrank_coreset_indices: size row indices (plus LOWRANK_OPT_ROW_OFFSET). */
LOWRANK_API const int64_t *lowrank_coreset_indices(const lowrank_coreset *c);
/* lowrank_coreset_weights: size x 1 float64 weights. */
LOWRANK_API const lowrank_matrix *lowrank_coreset_weights(const lowrank_coreset *c);
/* lowrank_coreset_points: the size x d rows, in the dtype and layout of the
 * matrix they came from. */
LOWRANK_API const lowrank_matrix *lowrank_coreset_points(const lowrank_coreset *c);

/* lowrank_coreset_merge: merge and reduce.  The union of two coresets of the
 * same p, d and dtype (for instance of two pieces of one matrix) is a
 * weighted coreset of the union of their data; when it holds more than m rows
 * it is reduced to at most m by sensitivity sampling of the weighted rows
 * (row i counts as w_i^(1/p) a_i), otherwise returned whole.  Indices carry
 * over (LOWRANK_OPT_ROW_OFFSET is not added again); the other options are
 * those of lowrank_coreset_build.  Scale: as lowrank_coreset_build; the
 * weighted rows are normalised through logarithms of their norms and
 * weights, so that neither a large weight nor a large row overflows.
 * Errors: LOWRANK_EINVAL (a, b or out NULL; p, d or dtype differ),
 * LOWRANK_ESIZE (m < 1), LOWRANK_ERANGE, LOWRANK_EDEGENERATE (the union has
 * rank below d), LOWRANK_ENOMEM. */
LOWRANK_API int lowrank_coreset_merge(const lowrank_coreset *a, const lowrank_coreset *b,
                                      int64_t m, const lowrank_opts *opts, lowrank_coreset **out);

/* ------------------------------------------------------------------------
 * Background models (PCA background subtraction)
 *
 * A lowrank_background learns the background of a fixed camera's video as a
 * low-rank model of its frames, then tells, frame by frame, which pixels
 * differ from it (moving objects).  Frames are 8-bit, width x height pixels
 * of 1 (grey) or 3 (interleaved colour) channels, rows `stride` bytes apart;
 * they are read in place and never copied.  The model takes
 * O(width x height x channels x rank) memory, whatever the number of
 * frames.  See docs/background.md.
 * ------------------------------------------------------------------------ */

typedef struct lowrank_background lowrank_background;

/* lowrank_background_new: an untrained model for frames of the given size,
 * with the LOWRANK_OPT_BG_... options and LOWRANK_OPT_THREADS of opts (NULL:
 * defaults), which are copied, progress callback included.  The model's
 * threads are started here (LOWRANK_OPT_THREADS - 1 of them, or one less
 * than the cores available; none for 1) and wait between frames.  Free it
 * with lowrank_background_free.
 * Errors: LOWRANK_EINVAL (out NULL), LOWRANK_ESIZE (width or height < 1,
 * channels neither 1 nor 3), LOWRANK_ERANGE (an even median filter size),
 * LOWRANK_EOVERFLOW (the frame size overflows), LOWRANK_ENOMEM (memory, or a
 * thread that could not be started). */
LOWRANK_API int lowrank_background_new(int64_t width, int64_t height, int64_t channels,
                                       const lowrank_opts *opts, lowrank_background **out);

/* lowrank_background_train: learn the background from nframes frames;
 * frames[i] points at the first row of frame i.  The frames may hold moving
 * objects (the adaptive model's l1 fit ignores an object that covers a pixel
 * in fewer than about half of them).  Retraining replaces the model.  On
 * failure the model is left as it was.  Reports progress to the callback of
 * the options given to lowrank_background_new, which may cancel it.
 * Errors: LOWRANK_EINVAL (bg, frames or a frames[i] NULL), LOWRANK_ESIZE
 * (nframes < 2, stride < width x channels), LOWRANK_ERANGE (the rank is not
 * below nframes, or exceeds width x height x channels), LOWRANK_ENOMEM,
 * LOWRANK_ENOCONV (an eigen-decomposition failed), LOWRANK_EDEGENERATE (the
 * frames' coefficients are singular, e.g. all-zero frames), LOWRANK_ECANCELED
 * (the progress callback asked to stop). */
LOWRANK_API int lowrank_background_train(lowrank_background *bg, const uint8_t *const *frames,
                                         int64_t nframes, int64_t stride);

/* lowrank_background_apply: classify one frame: mask gets width x height
 * bytes, 255 where the frame differs from the background (foreground), 127
 * on cast shadows when LOWRANK_OPT_BG_SHADOWS is LOWRANK_BG_SHADOWS_MARK,
 * and 0 elsewhere, rows mask_stride bytes apart.  The adaptive model first
 * fits the frame's global translation, gain and offset.  With the update on,
 * the model then learns from the pixels judged background (and absorbs, at
 * the pace of LOWRANK_OPT_BG_ABSORB, what stays changed).  Never allocates
 * and starts no thread; the masks do not depend on LOWRANK_OPT_THREADS.
 * Errors: LOWRANK_EINVAL (bg, frame or mask NULL, model not trained),
 * LOWRANK_ESIZE (stride < width x channels, mask_stride < width). */
LOWRANK_API int lowrank_background_apply(lowrank_background *bg, const uint8_t *frame,
                                         int64_t stride, uint8_t *mask, int64_t mask_stride);

/* lowrank_background_image: the current background (the model's
 * reconstruction for the last frame applied, at its translation, or for the
 * last training frame before any), width x height x channels bytes, rows
 * stride bytes apart.
 * Errors: LOWRANK_EINVAL (bg or out NULL, model not trained), LOWRANK_ESIZE
 * (stride < width x channels). */
LOWRANK_API int lowrank_background_image(const lowrank_background *bg, uint8_t *out,
                                         int64_t stride);

/* lowrank_background_free: release a model.  NULL is accepted. */
LOWRANK_API void lowrank_background_free(lowrank_background *bg);

#ifdef __cplusplus
}
#endif

#endif /* LOWRANK_H */
