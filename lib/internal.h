/*
 * internal.h - helpers shared by the parts of liblowrank; not installed.
 */
#ifndef LOWRANK_INTERNAL_H
#define LOWRANK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lowrank.h"

/* The layout of a matrix handle.  Every part may read it; only matrix.c and
 * npy.c make one. */
struct lowrank_matrix {
    lowrank_dtype dtype;
    lowrank_layout layout;
    int64_t rows, cols, ld;
    void *data;
    int owns_data;
};

/* Record a failure in the calling thread's message buffer and return code,
 * so that a failing path reads `return lr_fail(LOWRANK_ESIZE, "...", ...);`. */
int lr_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Bytes per element of dtype; 0 for an unknown dtype. */
size_t lr_dtype_size(lowrank_dtype dtype);
int lr_dtype_valid(lowrank_dtype dtype);
int lr_layout_valid(lowrank_layout layout);
const char *lr_dtype_name(lowrank_dtype dtype);

/* a * b for non-negative sizes; fails with LOWRANK_EOVERFLOW when the product
 * does not fit in size_t or int64_t. */
int lr_mul_size(size_t a, size_t b, size_t *out);

/* malloc/calloc of count * size bytes that record the LOWRANK_ENOMEM message
 * and return NULL on failure (an overflowing product included); the caller
 * then returns LOWRANK_ENOMEM. */
void *lr_malloc(size_t count, size_t size);
void *lr_calloc(size_t count, size_t size);

/* A new owning matrix; like lowrank_matrix_new with the arguments checked by
 * the caller.  Contents are zero when zero is set, otherwise uninitialised. */
int lr_matrix_alloc(lowrank_dtype dtype, lowrank_layout layout, int64_t rows,
                    int64_t cols, int zero, lowrank_matrix **out);

/* Fail with LOWRANK_EINVAL naming the argument when m is NULL. */
int lr_check_matrix(const lowrank_matrix *m, const char *name);

/* Fail with LOWRANK_ENONFINITE, naming the first offending element, when m
 * holds NaN or an infinity. */
int lr_check_finite(const lowrank_matrix *m, const char *name);

/* The column-major view of m: a column-major matrix of size *vm x *vn with
 * leading dimension m->ld.  For a row-major m this is the transpose, and
 * *transposed is set to 1.  Algorithms work on the view, so neither layout
 * costs a copy. */
void lr_colmajor_view(const lowrank_matrix *m, int64_t *vm, int64_t *vn,
                      int *transposed);

/* A new owning rows x cols matrix of the given kind holding the column-major
 * double array src (leading dimension lds): how the parts return results
 * computed in double.  LOWRANK_ERANGE when a value overflows float32 or is
 * not finite (an intermediate overflowed: never returned as a result). */
int lr_matrix_from_f64(lowrank_dtype dtype, lowrank_layout layout, int64_t rows, int64_t cols,
                       const double *src, int64_t lds, lowrank_matrix **out);

/* Element (i, j) of m as double, without bounds checks. */
double lr_matrix_at(const lowrank_matrix *m, int64_t i, int64_t j);

/* Magnitudes.  Results must not depend on the scale of the input: c A gives
 * c times the answer.  Algorithms that square entries (Gram matrices,
 * Cholesky factors, sums of squares) overflow or underflow when the entries
 * are extreme, so a part runs them on a copy of its input multiplied by a
 * power of two -- exact: no bit of a finite value is lost -- and multiplies
 * its results back on the way out, failing with LOWRANK_ERANGE where the
 * true result is not representable, never returning inf, NaN or zeros. */

/* The exponent e for which 2^e brings a largest magnitude 2^log2max into
 * [1, 2), when it lies outside the band in which the algorithms that compute
 * in dtype work run unscaled -- [2^-20, 2^20] for float32, [2^-250, 2^250]
 * for float64, where sums of up to 2^62 squares stay in the normal range --
 * and 0 inside it (or for log2max not finite). */
int lr_scale_exponent(double log2max, lowrank_dtype work);

/* The matrix a part computes on: the input, or a scaled copy of it. */
typedef struct lr_scaled {
    const lowrank_matrix *m; /* the input, or copy */
    lowrank_matrix *copy;    /* owned, when the input's magnitude needed one */
    int exp;                 /* m = 2^exp times the input */
} lr_scaled;

/* a itself, or -- when its largest magnitude is outside the band of work --
 * a compact copy in a's dtype and layout times 2^exp.  a may be NULL or hold
 * NaN or infinity (then it is used as it is, for the caller's checks to
 * reject).  Fails only with LOWRANK_ENOMEM. */
int lr_scale_into_range(const lowrank_matrix *a, lowrank_dtype work, lr_scaled *s);
void lr_scaled_free(lr_scaled *s);

/* A compact copy of a, in its dtype and layout, times r 2^e: exact for
 * r = 1 (unless a value leaves the dtype's normal range), one rounding per
 * element otherwise. */
int lr_matrix_scaled_copy(const lowrank_matrix *a, int e, double r, lowrank_matrix **out);

/* The largest magnitude of m's elements (NaN when one is NaN). */
double lr_matrix_max_abs(const lowrank_matrix *m);

/* Multiply the owning matrix m by 2^e in place: the results of a computation
 * on a scaled copy, back to the caller's scale.  Fails with LOWRANK_ERANGE,
 * naming what and leaving m unchanged, when a value would exceed m's dtype,
 * or (keep_normal set, for a result that cannot be zero) when m's largest
 * magnitude would fall below the dtype's normal range, so that m would lose
 * its relative precision (e.g. an ellipsoid's shape Q, which scales as
 * 1 / c^2; zero then means it vanished in a conversion).  e = 0 only checks. */
int lr_matrix_unscale(lowrank_matrix *m, int e, int keep_normal, const char *what);

/* v times 2^t for a real t, without overflow or underflow in between;
 * exact when t is an integer (unless the result leaves the normal range). */
double lr_times_exp2(double v, double t);

/* v times 2^t, t real (a cost of scaled data scales as c^p): fails with
 * LOWRANK_ERANGE naming what when the result is not finite, or is not zero
 * and below double's normal range (DBL_MIN), where it has lost precision. */
int lr_unscale_real(double v, double t, const char *what, double *out);

/* An options handle: a value per key (keys are below LR_OPT_SLOTS), and the
 * progress callback with the share [progress_lo, progress_hi] of the
 * caller's work that the call it is passed to covers (see lr_opts_nested)
 * and the least time between two calls of it (LR_PROGRESS_INTERVAL; the
 * unit tests lower it to see every report).  Visible here so that a part
 * can keep a nested copy on its stack. */
#define LR_OPT_SLOTS 100
typedef union lr_option_value {
    int64_t i;
    double d;
} lr_option_value;

struct lowrank_opts {
    lr_option_value value[LR_OPT_SLOTS];
    lowrank_progress_fn progress;
    void *progress_user;
    double progress_lo, progress_hi, progress_interval;
};

/* Every option at its default, no progress callback: what
 * lowrank_opts_new makes, for a handle on the stack. */
void lr_opts_defaults(lowrank_opts *o);

/* The value of an option for the library's own use: key is one of the
 * library's keys, opts may be NULL (defaults). */
int64_t lr_opt_int(const lowrank_opts *opts, lowrank_option key);
double lr_opt_double(const lowrank_opts *opts, lowrank_option key);


/* Progress of one long computation (lowrank_opts_set_progress).  A public
 * function that may run for more than ~100 ms starts one with
 * lr_progress_begin and calls lr_progress_report from its loops, at least
 * every few milliseconds of work; the report calls the user's callback at
 * most every LR_PROGRESS_INTERVAL, mapped into the share of the user's [0, 1] that opts
 * covers, never decreasing.  It returns LOWRANK_ECANCELED (with the message
 * set) when the callback asks to stop, 0 otherwise; the caller then frees
 * what it holds and returns the code, outputs untouched. */
/* Often enough for a smooth progress bar and a prompt cancel, rarely enough
 * that a callback into an interpreter costs nothing measurable. */
#define LR_PROGRESS_INTERVAL 0.05

typedef struct lr_progress {
    lowrank_progress_fn fn;
    void *user;
    double lo, hi;    /* the share of the user's [0, 1] this call covers */
    double interval;  /* the least time between two calls of fn */
    double last;      /* the last fraction passed to fn, in the user's [0, 1] */
    double last_time; /* when fn was last called (or the call began) */
    const char *what; /* the public function, for the message */
} lr_progress;

void lr_progress_begin(lr_progress *pr, const lowrank_opts *opts, const char *what);
/* pr may be NULL (no reporting), for internal callers that have none. */
int lr_progress_report(lr_progress *pr, double fraction);

/* Options for a nested call into another public function that does the
 * part [lo, hi] (in [0, 1]) of the work of the call that got opts: opts
 * itself when it has no progress callback (or is NULL), otherwise *storage,
 * a copy whose progress range is that part of opts' range.  No allocation,
 * so no failure:  rc = lowrank_lp_rounding(a, p, lr_opts_nested(opts, 0,
 * 0.5, &tmp), ...); */
const lowrank_opts *lr_opts_nested(const lowrank_opts *opts, double lo, double hi,
                                   lowrank_opts *storage);

/* Give dst, a handle the library made for a nested call, the progress
 * callback and range of src (which may be NULL). */
void lr_opts_inherit_progress(lowrank_opts *dst, const lowrank_opts *src);

/* Seconds on a monotonic clock. */
double lr_now(void);

/* ------------------------------------------------------------ .npy internals (npy.c) */

/* Where the data of an .npy file is and how to read it. */
typedef struct lr_npy_data {
    lowrank_dtype dtype;
    int swap;          /* byte order differs from the host's */
    int fortran_order; /* column-major */
    int64_t rows, cols;
    int64_t offset; /* of the data in the file */
} lr_npy_data;

/* Open the .npy file at path, checked as lowrank_npy_info checks it, for
 * reads by offset: *fd (close-on-exec, the caller closes it). */
int lr_npy_open_data(const char *path, int *fd, lr_npy_data *out);

/* Reverse the byte order of count elements of esz bytes. */
void lr_npy_swap(void *data, size_t count, size_t esz);

/* An .npy array of any simple dtype (kind 'f', 'i', 'u', 'S' or 'U') and 0
 * to 2 dimensions, held in the size bytes at buf (a member of an .npz
 * archive): its header parsed and checked against size. */
typedef struct lr_npy_array {
    char kind;
    int itemsize; /* bytes per element ('U': 4 per character) */
    int swap, fortran_order, ndim;
    int64_t shape[2];
    size_t offset;  /* of the data in buf */
    int64_t count;  /* elements */
} lr_npy_array;
int lr_npy_parse_array(const void *buf, size_t size, lr_npy_array *out);

/* ------------------------------------------------------------ threads */

/* A pool of threads of the library's own (lib/threads.c).  lr_pool_run runs
 * fn(ctx, task, thread) for task = 0 .. ntasks - 1 on the pool's threads,
 * the caller included (thread 0; workers 1 .. threads - 1, an index for
 * per-thread scratch), and returns when every task is done: 0, or the
 * status of the lowest failing task, whose message it records in the
 * caller's thread.  A NULL pool or one of one thread runs the tasks in
 * order in the caller.  Results must not depend on which thread runs a
 * task. */
typedef int (*lr_task_fn)(void *ctx, int64_t task, int thread);
typedef struct lr_pool lr_pool;
int lr_pool_new(int threads, lr_pool **out);
void lr_pool_free(lr_pool *p);
int lr_pool_threads(const lr_pool *p);
int lr_pool_run(lr_pool *p, int64_t ntasks, lr_task_fn fn, void *ctx);
/* Whether lr_pool_run would now run a job of several tasks in the caller
 * alone (one thread, or solo after workers that lacked the cores). */
int lr_pool_solo(const lr_pool *p);
/* How long a pool runs alone after a stall of its workers at time stall
 * (lr_now), when it last ran alone until solo_until (0: never) for
 * solo_last seconds: twice solo_last, up to a second, when the stall ended
 * a trial of the workers sooner than solo_last; 10 ms otherwise.  (The
 * rule of lr_pool_run, apart to be tested.) */
double lr_pool_solo_time(double solo_until, double solo_last, double stall);

/* The number of cores this process may run on (its CPU affinity), at
 * least 1. */
int lr_threads_available(void);

/* ------------------------------------------------------------ operators */

/* What the products of one computation share (lib/operator.c): the
 * threads they may use and the progress report that long ones (a pass over
 * a file) advance from `from` to `to`, fractions of the computation's
 * work.  A zeroed lr_products means the calling thread and no reports. */
typedef struct lr_products {
    lr_pool *pool;
    lr_progress *progress;
    double from, to;
} lr_products;

/* One kind of operator: its products and what else it can do.  Matrices
 * are column-major with a leading dimension; trans is 'N' (A) or 'T'
 * (A^T).  Functions that a kind cannot provide are NULL, and the generic
 * lr_operator_... functions below fall back on products. */
typedef struct lr_operator_kind {
    const char *name;
    /* y = op(A) x, x (cols or rows) x nvec, y (rows or cols) x nvec */
    int (*apply)(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                 int64_t ldx, void *y, int64_t ldy, const lr_products *pr);
    /* z = op(A)^T (op(A) x), x and z of op(A)'s columns x nvec, in one pass
     * over A's data, for the trans that fuses says it can do */
    int (*fuses)(const lowrank_operator *op, char trans);
    int (*gram)(const lowrank_operator *op, char trans, int64_t nvec, const void *x, int64_t ldx,
                void *z, int64_t ldz, const lr_products *pr);
    /* rows first .. first + count - 1 of op(A), as doubles, into the
     * count x width column-major dst; LOWRANK_EUNSUPPORTED, without a
     * message, for a trans the kind cannot read (products then do it) */
    int (*read)(const lowrank_operator *op, char trans, int64_t first, int64_t count,
                double *dst, int64_t ldd, const lr_products *pr);
    /* the largest magnitude of A's entries and the sum of their squares
     * times scale^2, in double; LOWRANK_ENONFINITE naming a NaN or
     * infinity.  A sum that overflows comes back infinite: scan again with
     * a scale that fits (a power of two, exact). */
    int (*scan)(const lowrank_operator *op, double scale, double *maxabs, double *sumsq,
                const lr_products *pr);
    void (*destroy)(lowrank_operator *op);
} lr_operator_kind;

/* Whether products over the operator's data are passes over a file, to be
 * spared: the algorithms then prefer fused and fewer passes. */
enum { LR_OP_STREAMED = 1 };

/* What lowrank_operator_passes reports, updated by calls that see the
 * operator as const (from several threads at once). */
typedef struct lr_op_counters {
    _Atomic int64_t passes, rows_read, bytes_read;
} lr_op_counters;

struct lowrank_operator {
    const lr_operator_kind *kind;
    lowrank_dtype dtype;
    int64_t rows, cols;
    int flags;                    /* LR_OP_STREAMED */
    const lowrank_matrix *matrix; /* the dense matrix, for lowrank_operator_matrix */
    void *state;                  /* the kind's own */
    lr_op_counters *count;
};

/* A new operator of the given kind; state is the kind's, released by its
 * destroy (also when this fails). */
int lr_operator_alloc(const lr_operator_kind *kind, lowrank_dtype dtype, int64_t rows,
                      int64_t cols, void *state, lowrank_operator **out);

/* The kind behind lowrank_operator_new. */
extern const lr_operator_kind lr_callback_kind;

/* The kind's products, checked (sizes, a callback's failure and non-finite
 * output) and counted; trans 'N' or 'T'. */
int lr_operator_apply(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                      int64_t ldx, void *y, int64_t ldy, const lr_products *pr);

/* Whether op(A)^T op(A) x is one fused pass (no scratch needed). */
int lr_operator_fuses(const lowrank_operator *op, char trans);

/* z = A^T A x (trans 'N') or A A^T x ('T'), through one fused pass when the
 * kind has one, else two products through the scratch w, which must hold
 * (rows or cols) x nvec elements. */
int lr_operator_gram(const lowrank_operator *op, char trans, int64_t nvec, const void *x,
                     int64_t ldx, void *z, int64_t ldz, void *w, const lr_products *pr);

/* Rows first .. first + count - 1 of op(A) as doubles: the kind's read, or
 * products with blocks of the identity. */
int lr_operator_read(const lowrank_operator *op, char trans, int64_t first, int64_t count,
                     double *dst, int64_t ldd, const lr_products *pr);

/* Whether the operator can scan its entries (a callback cannot). */
int lr_operator_can_scan(const lowrank_operator *op);
/* The kind's scan (see lr_operator_kind). */
int lr_operator_scan(const lowrank_operator *op, double scale, double *maxabs, double *sumsq,
                     const lr_products *pr);

/* A sparse matrix handle (csr.c); parts may read it, only csr.c makes one. */
struct lowrank_csr {
    lowrank_dtype dtype;
    int64_t rows, cols, nnz;
    const int64_t *indptr, *indices;
    const void *values;
    void *owned[3]; /* the arrays, when the handle owns them */
};

/* Sparse matrices (csr.c): a handle over the arrays, checked as
 * lowrank_csr_wrap checks them; with own set it takes the arrays (freeing
 * them on failure too). */
int lr_csr_make(lowrank_dtype dtype, int64_t rows, int64_t cols, int64_t nnz, int64_t *indptr,
                int64_t *indices, void *values, int own, lowrank_csr **out);

/* The CSR arrays of the transpose of a rows x cols CSR matrix, new: each
 * row of the transpose sorted by column. */
int lr_csr_transpose(lowrank_dtype dtype, int64_t rows, int64_t cols, const int64_t *ptr,
                     const int64_t *idx, const void *val, int64_t **tptr, int64_t **tidx,
                     void **tval);

/* Advance pr's report to the share done (in [0, 1]) of a long product. */
int lr_products_report(const lr_products *pr, double done);

/* A pool for the products of one computation, sized by the options (NULL
 * when one thread will do: no pool is then needed). */
int lr_products_pool(const lowrank_opts *opts, lr_pool **out);

#endif
