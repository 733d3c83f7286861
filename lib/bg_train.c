/*
 * bg_train.c - training of the background models (lib/background.h): the
 * seed's eigenbackground (mean and the covariance's eigenvectors through the
 * small Gram matrix of the frames) and the adaptive model (the entry-wise l1
 * fit of the frames: their coefficients on a sample of values, then every
 * value's row of the basis, and every pixel's noise level).  Frames are read
 * in place, block by block; nothing of size V x N is ever formed.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "background.h"
#include "blas.h"
#include "lp.h"

/* Frame coefficients are fitted on about this many values. */
#define FIT_SAMPLE 2048
/* Alternations of the l1 fit on the sample, and its tolerance. */
#define FIT_MAX_ITER 20
#define FIT_TOL 1e-3
/* IRLS steps of each value's l1 row, from least squares, at most, and the
 * relative decrease of its cost under which a row stops: IRLS converges
 * linearly for l1, slower the more outliers a row has, and the rows left are
 * the ones that need it. */
#define ROW_ITER 30
#define ROW_TOL 1e-3
/* Values per block (whole image rows) of the passes over the frames: a
 * block of every frame stays in cache while its rows are fitted. */
#define BLOCK_VALUES 1024
/* A pixel's first noise level is the median of its residual over this many
 * training frames: a median of 31 is within about 25% of the truth, and the
 * running median corrects it from the first frames on. */
#define NOISE_FRAMES 31
/* No pixel's noise level (mean square residual, grey levels squared) is
 * taken below this: 8-bit values are exact to half a grey level at best. */
#define NOISE_MIN 4.0
/* The share of the adaptive training's progress given to the frame
 * coefficients (a fit on a sample), the rest to the basis. */
#define COEF_SHARE 0.05

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

void lr_bg_free_model(bg_model *m)
{
    free(m->basis);
    free(m->mean);
    free(m->noise);
    free(m->coef);
    free(m->proj);
    free(m->sample);
    free(m->gathered);
    free(m->system);
    *m = (bg_model){0};
}

int lr_bg_alloc_model(const lowrank_background *bg, int64_t k, bg_model *m)
{
    *m = (bg_model){0};
    m->rank = k;
    int seed = bg->set.mode == LOWRANK_BG_MODE_SEED;
    m->basis = lr_malloc((size_t)max64(1, bg->values * k), sizeof *m->basis);
    m->coef = lr_calloc((size_t)(k + 1), sizeof *m->coef);
    m->proj = lr_malloc((size_t)(k + 1), sizeof *m->proj);
    if (seed)
        m->mean = lr_malloc((size_t)bg->values, sizeof *m->mean);
    else
        m->noise = lr_malloc((size_t)bg->pixels, sizeof *m->noise);
    if (m->basis && m->coef && m->proj && (seed ? !!m->mean : !!m->noise))
        return LOWRANK_OK;
    lr_bg_free_model(m);
    return LOWRANK_ENOMEM;
}

/* ------------------------------------------------------------ training */

/* A training set: the caller's frames, read in place. */
typedef struct frames {
    const uint8_t *const *f;
    int64_t n, stride;
} frames;

/* Value v of frame j. */
static double value_at(const lowrank_background *bg, const frames *fr, int64_t j, int64_t v)
{
    int64_t row = bg->width * bg->channels;
    return fr->f[j][(v / row) * fr->stride + v % row];
}

/* Image rows y0 .. y0 + rows - 1 of every frame, as the block's rows x n
 * column-major matrix of doubles (block value i is value y0 * W C + i). */
static void load_block(const lowrank_background *bg, const frames *fr, int64_t y0, int64_t rows,
                       double *x)
{
    int64_t row = bg->width * bg->channels, bv = rows * row;
    for (int64_t j = 0; j < fr->n; j++)
        for (int64_t y = 0; y < rows; y++) {
            const uint8_t *src = fr->f[j] + (y0 + y) * fr->stride;
            double *dst = x + j * bv + y * row;
            for (int64_t i = 0; i < row; i++)
                dst[i] = src[i];
        }
}

static int64_t block_rows(const lowrank_background *bg)
{
    return max64(1, min64(bg->height, BLOCK_VALUES / (bg->width * bg->channels)));
}

/* The smallest rank whose eigenvalues (descending, n of them) reach the
 * fraction energy of their sum; negative rounding noise counts as zero. */
static int64_t rank_by_energy(const double *eig, int64_t n, double energy)
{
    double total = 0, acc = 0;
    for (int64_t i = 0; i < n; i++)
        total += fmax(eig[i], 0);
    for (int64_t i = 0; i < n; i++) {
        acc += fmax(eig[i], 0);
        if (acc >= energy * total)
            return i + 1;
    }
    return n;
}

static int check_rank(const lowrank_background *bg, int64_t k, int64_t nframes)
{
    if (k >= nframes)
        return lr_fail(LOWRANK_ERANGE, "rank %lld is not below the %lld training frames",
                       (long long)k, (long long)nframes);
    if (k > bg->values)
        return lr_fail(LOWRANK_ERANGE, "rank %lld exceeds the %lld values of a frame",
                       (long long)k, (long long)bg->values);
    return LOWRANK_OK;
}

/* Seed mode.  The mean frame, then the Gram matrix G = Xc^T Xc of the
 * centred frames, accumulated block by block: its eigenpairs (l, v) give
 * the covariance's eigenvectors Xc v / sqrt(l) without forming the V x V
 * covariance (the N x N "snapshot" trick). */
static int seed_gram(const lowrank_background *bg, const frames *fr, float *mean, double *g,
                     double *block, lr_progress *pr)
{
    int64_t n = fr->n, rows = block_rows(bg), row = bg->width * bg->channels;
    for (int64_t y = 0; y < bg->height; y++)
        for (int64_t i = 0; i < row; i++) {
            double s = 0;
            for (int64_t j = 0; j < n; j++)
                s += fr->f[j][y * fr->stride + i];
            mean[y * row + i] = (float)(s / (double)n);
        }
    memset(g, 0, (size_t)(n * n) * sizeof *g);
    for (int64_t y0 = 0; y0 < bg->height; y0 += rows) {
        int64_t r = min64(rows, bg->height - y0), bv = r * row;
        load_block(bg, fr, y0, r, block);
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < bv; i++)
                block[j * bv + i] -= mean[y0 * row + i];
        int rc = lr_syrk(LOWRANK_FLOAT64, 'L', 'T', n, bv, 1.0, block, bv, 1.0, g, n);
        if (rc == LOWRANK_OK)
            rc = lr_progress_report(pr, 0.5 * (double)(y0 + r) / (double)bg->height);
        if (rc != LOWRANK_OK)
            return rc;
    }
    return LOWRANK_OK;
}

/* Seed mode: U = Xc V_k diag(1 / sqrt(l)), block by block, into m->basis. */
static int seed_basis(const lowrank_background *bg, const frames *fr, bg_model *m, const double *vk,
                      double *block, double *ub, lr_progress *pr)
{
    int64_t n = fr->n, rows = block_rows(bg), row = bg->width * bg->channels, k = m->rank;
    for (int64_t y0 = 0; y0 < bg->height; y0 += rows) {
        int64_t r = min64(rows, bg->height - y0), bv = r * row;
        load_block(bg, fr, y0, r, block);
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < bv; i++)
                block[j * bv + i] -= m->mean[y0 * row + i];
        int rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', bv, k, n, 1.0, block, bv, vk, n, 0.0, ub, bv);
        if (rc == LOWRANK_OK)
            rc = lr_progress_report(pr, 0.5 + 0.5 * (double)(y0 + r) / (double)bg->height);
        if (rc != LOWRANK_OK)
            return rc;
        for (int64_t a = 0; a < k; a++)
            for (int64_t i = 0; i < bv; i++)
                m->basis[a * bg->values + y0 * row + i] = (float)ub[a * bv + i];
    }
    return LOWRANK_OK;
}

static int train_seed(const lowrank_background *bg, const frames *fr, bg_model *out)
{
    int64_t n = fr->n, bvmax = block_rows(bg) * bg->width * bg->channels;
    double *g = lr_malloc((size_t)(n * n), sizeof *g);
    double *eig = g ? lr_malloc((size_t)n, sizeof *eig) : NULL;
    double *block = eig ? lr_malloc((size_t)(bvmax * n), sizeof *block) : NULL;
    /* ub: n x k eigenvectors, then a bvmax x k block of the basis (k < n) */
    double *ub = block ? lr_malloc((size_t)((bvmax + n) * n), sizeof *ub) : NULL;
    float *mean = ub ? lr_malloc((size_t)bg->values, sizeof *mean) : NULL;
    int rc = mean ? LOWRANK_OK : LOWRANK_ENOMEM;
    lr_progress pr;
    lr_progress_begin(&pr, &bg->opts, "lowrank_background_train");
    if (rc == LOWRANK_OK)
        rc = seed_gram(bg, fr, mean, g, block, &pr);
    if (rc == LOWRANK_OK)
        rc = lr_syevd(LOWRANK_FLOAT64, n, g, n, eig);
    int64_t k = 0;
    if (rc == LOWRANK_OK) {
        /* descending order: eigenvalue a is eig[n - 1 - a], its vector column n - 1 - a */
        for (int64_t a = 0; a < n / 2; a++) {
            double t = eig[a];
            eig[a] = eig[n - 1 - a];
            eig[n - 1 - a] = t;
        }
        k = bg->set.rank > 0 ? bg->set.rank : min64(rank_by_energy(eig, n, bg->set.energy), n - 1);
        rc = check_rank(bg, k, n);
        /* directions without variance (identical frames) carry nothing */
        while (rc == LOWRANK_OK && k > 0 && !(eig[k - 1] > 1e-9 * eig[0]))
            k--;
    }
    if (rc == LOWRANK_OK)
        rc = lr_bg_alloc_model(bg, k, out);
    if (rc == LOWRANK_OK) {
        memcpy(out->mean, mean, (size_t)bg->values * sizeof *mean);
        /* V_k diag(1 / sqrt(l)) over the free n x k start of ub's buffer,
         * which seed_basis then uses from column k on */
        double *vk = ub;
        ub += n * k;
        for (int64_t a = 0; a < k; a++) {
            for (int64_t j = 0; j < n; j++)
                vk[a * n + j] = g[(n - 1 - a) * n + j] / sqrt(eig[a]);
            /* the last training frame's coordinate u_a^T (x - m) = sqrt(l_a) v_a */
            out->coef[a] = vk[a * n + n - 1] * eig[a];
        }
        if (k > 0)
            rc = seed_basis(bg, fr, out, vk, block, ub, &pr);
        ub = vk;
        if (rc != LOWRANK_OK)
            lr_bg_free_model(out);
    }
    free(g);
    free(eig);
    free(block);
    free(ub);
    free(mean);
    return rc;
}

/* The eigenvalues of the n x n Gram matrix s^T s of the ms x n sample,
 * descending, into eig (n + n * n scratch in g). */
static int gram_eigenvalues(const double *s, int64_t ms, int64_t n, double *g, double *eig)
{
    int rc = lr_syrk(LOWRANK_FLOAT64, 'L', 'T', n, ms, 1.0, s, ms, 0.0, g, n);
    if (rc == LOWRANK_OK)
        rc = lr_syevd(LOWRANK_FLOAT64, n, g, n, eig);
    for (int64_t a = 0; rc == LOWRANK_OK && a < n / 2; a++) {
        double t = eig[a];
        eig[a] = eig[n - 1 - a];
        eig[n - 1 - a] = t;
    }
    return rc;
}

/* Adaptive mode, step 1: the frame coefficients R (k x n), fitted on an
 * evenly spread sample of values by the entry-wise l1 fit (or by the SVD
 * when not robust), rows scaled to unit root mean square.  Chooses k. */
static int adaptive_coefficients(const lowrank_background *bg, const frames *fr, int64_t *k,
                                 double **r_out)
{
    int64_t n = fr->n, ms = min64(bg->values, FIT_SAMPLE);
    double *s = lr_malloc((size_t)(ms * n), sizeof *s);
    double *l = s ? lr_malloc((size_t)(ms * n + n), sizeof *l) : NULL; /* also Gram scratch */
    double *r = l ? lr_malloc((size_t)(n * n), sizeof *r) : NULL;
    int rc = r ? LOWRANK_OK : LOWRANK_ENOMEM;
    for (int64_t i = 0; rc == LOWRANK_OK && i < ms; i++) {
        int64_t v = (int64_t)((double)i * (double)bg->values / (double)ms);
        for (int64_t j = 0; j < n; j++)
            s[j * ms + i] = value_at(bg, fr, j, v);
    }
    if (rc == LOWRANK_OK && bg->set.rank == 0) {
        rc = gram_eigenvalues(s, ms, n, r, l);
        if (rc == LOWRANK_OK)
            *k = min64(rank_by_energy(l, min64(ms, n), bg->set.energy), n - 1);
    } else if (rc == LOWRANK_OK) {
        *k = bg->set.rank;
        rc = check_rank(bg, *k, n);
    }
    double cost;
    if (rc == LOWRANK_OK)
        rc = lr_lp_entrywise_fit(LOWRANK_FLOAT64, ms, n, s, ms, *k, 1.0,
                                 bg->set.robust ? FIT_MAX_ITER : 0, FIT_TOL, 0,
                                 (uint64_t)lr_opt_int(NULL, LOWRANK_OPT_SEED), NULL, l, ms, r, *k,
                                 &cost);
    for (int64_t a = 0; rc == LOWRANK_OK && a < *k; a++) {
        double ss = 0, sum = 0;
        for (int64_t j = 0; j < n; j++) {
            ss += r[j * *k + a] * r[j * *k + a];
            sum += r[j * *k + a];
        }
        double scale = (sum < 0 ? -1 : 1) / sqrt(fmax(ss / (double)n, 1e-300));
        for (int64_t j = 0; j < n; j++)
            r[j * *k + a] *= scale;
    }
    free(s);
    free(l);
    if (rc != LOWRANK_OK) {
        free(r);
        r = NULL;
    }
    *r_out = r;
    return rc;
}

/* The n x k matrix M = R^T (R R^T)^-1: the least-squares rows of L for
 * the frames X are X M. */
static int least_squares_map(const double *r, int64_t k, int64_t n, double *m)
{
    double *g = lr_malloc((size_t)(k * k + k), sizeof *g), *col = g ? g + k * k : NULL;
    if (!g)
        return LOWRANK_ENOMEM;
    for (int64_t j = 0; j < n; j++) { /* row j of M solves (R R^T) m_j = r_j */
        for (int64_t a = 0; a < k; a++) {
            col[a] = r[j * k + a];
            for (int64_t b = 0; b <= a; b++) {
                double sum = 0;
                for (int64_t i = 0; i < n; i++)
                    sum += r[i * k + a] * r[i * k + b];
                g[a * k + b] = sum;
            }
        }
        if (!lr_small_spd_solve(k, g, col)) {
            free(g);
            return lr_fail(LOWRANK_EDEGENERATE, "the training frames' coefficients are singular");
        }
        for (int64_t a = 0; a < k; a++)
            m[a * n + j] = col[a];
    }
    free(g);
    return LOWRANK_OK;
}

/* Adaptive mode, step 2, as tasks over blocks of image rows: every value's
 * row of L, fitted on R (least squares, then l1 when robust), and every
 * pixel's noise level: the median of its mean square residual over
 * NOISE_FRAMES training frames evenly spread (or all, if fewer).  Each task
 * has its thread's buffers. */
typedef struct basis_job {
    const lowrank_background *bg;
    const frames *fr;
    const double *r, *lsmap;
    bg_model *m;
    int64_t rows, blocks;        /* image rows per block, blocks */
    double **block, **lb, **res; /* per thread */
    lr_progress *progress;       /* reported by the calling thread (thread 0) */
    _Atomic int64_t done;
    _Atomic int canceled;
    char message[512];           /* the cancel's, written by thread 0 */
} basis_job;

/* The least-squares rows lb (bv x k) of the block (bv x n) given the map
 * (n x k): lb = block map, in a loop of the library's own -- a product
 * this small would start a multi-threaded BLAS's threads from every thread
 * fitting a block. */
static void least_squares_rows(const double *block, int64_t bv, int64_t n, const double *map,
                               int64_t k, double *lb)
{
    for (int64_t a = 0; a < k; a++) {
        double *restrict o = lb + a * bv;
        memset(o, 0, (size_t)bv * sizeof *o);
        for (int64_t j = 0; j < n; j++) {
            const double *restrict x = block + j * bv;
            double mj = map[a * n + j];
            for (int64_t i = 0; i < bv; i++)
                o[i] += x[i] * mj;
        }
    }
}

/* The calling thread reports the blocks done; a cancel stops every task. */
static int report(basis_job *job, int thread)
{
    int64_t done = atomic_fetch_add(&job->done, 1) + 1;
    if (thread == 0 && !atomic_load(&job->canceled) &&
        lr_progress_report(job->progress, COEF_SHARE + (1 - COEF_SHARE) * (double)done /
                                                          (double)job->blocks) != LOWRANK_OK) {
        snprintf(job->message, sizeof job->message, "%s", lowrank_last_error());
        atomic_store(&job->canceled, 1);
    }
    return LOWRANK_OK;
}

static int basis_block(void *ctx, int64_t task, int thread)
{
    basis_job *job = ctx;
    if (atomic_load(&job->canceled))
        return LOWRANK_ECANCELED;
    const lowrank_background *bg = job->bg;
    const frames *fr = job->fr;
    const double *r = job->r;
    bg_model *m = job->m;
    double *block = job->block[thread], *lb = job->lb[thread], *res = job->res[thread];
    int64_t n = fr->n, k = m->rank, row = bg->width * bg->channels, c = bg->channels;
    int64_t nm = min64(n, NOISE_FRAMES), y0 = task * job->rows;
    int64_t h = min64(job->rows, bg->height - y0), bv = h * row;
    load_block(bg, fr, y0, h, block);
    least_squares_rows(block, bv, n, job->lsmap, k, lb);
    if (bg->set.robust) {
        int rc = lr_lp_entrywise_left(LOWRANK_FLOAT64, bv, n, block, bv, k, r, k, 1.0, ROW_ITER,
                                      ROW_TOL, lb, bv);
        if (rc != LOWRANK_OK)
            return rc;
    }
    for (int64_t a = 0; a < k; a++)
        for (int64_t i = 0; i < bv; i++)
            m->basis[a * bg->values + y0 * row + i] = (float)lb[a * bv + i];
    for (int64_t px = 0; px < bv / c; px++) {
        for (int64_t j = 0; j < nm; j++) {
            int64_t f = j * n / nm; /* evenly spread over the training frames */
            double d = 0;
            for (int64_t ch = 0; ch < c; ch++) {
                int64_t i = px * c + ch;
                double e = block[f * bv + i];
                for (int64_t a = 0; a < k; a++)
                    e -= lb[a * bv + i] * r[f * k + a];
                d += e * e;
            }
            res[j] = d / (double)c;
        }
        m->noise[y0 * bg->width + px] = (float)lr_median(res, nm);
    }
    return report(job, thread);
}

static void free_per_thread(double **v, int threads)
{
    for (int t = 0; v && t < threads; t++)
        free(v[t]);
    free(v);
}

static double **alloc_per_thread(int threads, size_t count)
{
    double **v = lr_calloc((size_t)threads, sizeof *v);
    for (int t = 0; v && t < threads; t++)
        if (!(v[t] = lr_malloc(count, sizeof **v))) {
            free_per_thread(v, threads);
            return NULL;
        }
    return v;
}

static int adaptive_basis(const lowrank_background *bg, const frames *fr, const double *r,
                          const double *lsmap, bg_model *m, lr_progress *pr)
{
    int threads = lr_pool_threads(bg->pool);
    int64_t rows = block_rows(bg), bvmax = rows * bg->width * bg->channels, n = fr->n;
    basis_job job = {.bg = bg, .fr = fr, .r = r, .lsmap = lsmap, .m = m, .rows = rows,
                     .blocks = (bg->height + rows - 1) / rows, .progress = pr};
    atomic_init(&job.done, 0);
    atomic_init(&job.canceled, 0);
    job.block = alloc_per_thread(threads, (size_t)(bvmax * n));
    job.lb = job.block ? alloc_per_thread(threads, (size_t)(bvmax * m->rank)) : NULL;
    job.res = job.lb ? alloc_per_thread(threads, (size_t)n) : NULL;
    int rc = job.res ? lr_pool_run(bg->pool, job.blocks, basis_block, &job) : LOWRANK_ENOMEM;
    if (atomic_load(&job.canceled))
        rc = lr_fail(LOWRANK_ECANCELED, "%s", job.message);
    else if (rc == LOWRANK_OK) /* the workers may have done every block */
        rc = lr_progress_report(pr, 1.0);
    free_per_thread(job.block, threads);
    free_per_thread(job.lb, threads);
    free_per_thread(job.res, threads);
    return rc;
}

/* The median of the noise levels, a floor for every pixel's threshold: no
 * pixel is taken to be quieter than the typical pixel of the scene. */
static int noise_floor(const float *noise, int64_t pixels, double *floor)
{
    double *v = lr_malloc((size_t)pixels, sizeof *v);
    if (!v)
        return LOWRANK_ENOMEM;
    for (int64_t i = 0; i < pixels; i++)
        v[i] = noise[i];
    *floor = fmax(NOISE_MIN, lr_median(v, pixels));
    free(v);
    return LOWRANK_OK;
}

static int train_adaptive(const lowrank_background *bg, const frames *fr, bg_model *out)
{
    int64_t n = fr->n, k = 0;
    double *r = NULL;
    int rc = adaptive_coefficients(bg, fr, &k, &r);
    if (rc != LOWRANK_OK)
        return rc;
    double *lsmap = lr_malloc((size_t)(n * k), sizeof *lsmap);
    rc = lsmap ? lr_bg_alloc_model(bg, k, out) : LOWRANK_ENOMEM;
    int allocated = rc == LOWRANK_OK;
    if (rc == LOWRANK_OK)
        rc = least_squares_map(r, k, n, lsmap);
    lr_progress pr;
    lr_progress_begin(&pr, &bg->opts, "lowrank_background_train");
    if (rc == LOWRANK_OK)
        rc = lr_progress_report(&pr, COEF_SHARE);
    if (rc == LOWRANK_OK)
        rc = adaptive_basis(bg, fr, r, lsmap, out, &pr);
    if (rc == LOWRANK_OK)
        rc = noise_floor(out->noise, bg->pixels, &out->floor);
    if (rc == LOWRANK_OK)
        rc = lr_bg_choose_sample(bg, out);
    if (rc == LOWRANK_OK) {
        for (int64_t a = 0; a < k; a++) /* start from the last training frame */
            out->coef[a] = r[(n - 1) * k + a];
    } else if (allocated) {
        lr_bg_free_model(out);
    }
    free(lsmap);
    free(r);
    return rc;
}

int lr_bg_train_seed(const lowrank_background *bg, const uint8_t *const *f, int64_t n,
                     int64_t stride, bg_model *out)
{
    frames fr = {f, n, stride};
    return train_seed(bg, &fr, out);
}

int lr_bg_train_adaptive(const lowrank_background *bg, const uint8_t *const *f, int64_t n,
                         int64_t stride, bg_model *out)
{
    frames fr = {f, n, stride};
    return train_adaptive(bg, &fr, out);
}
