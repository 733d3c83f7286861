/*
 * background.c - PCA background models: learn a low-rank background from
 * training frames, then classify each new frame's pixels as background or
 * foreground by the residual of its projection on the model, and update it.
 *
 * A frame of P pixels with C channels is a vector x of V = P C values
 * (interleaved, as stored).  Two models (docs/background.md has the full
 * account and the reasons behind every constant):
 *
 *  - seed: the eigenbackground of Oliver, Rosario and Pentland (2000), as
 *    Long, Shen and Chen (2012) use it.  Mean m and covariance of the
 *    training frames (through the small N x N Gram matrix of the centred
 *    frames), the eigenvectors U with the largest cumulative contribution;
 *    background m + U U^T (x - m); fixed threshold; no update.
 *
 *  - adaptive: the background is L c + c0 1, where the V x k basis L is the
 *    entry-wise l1 fit of the training frames (so that objects moving
 *    through them do not leak into it) and the k + 1 coefficients (c, c0)
 *    are fitted to each frame robustly, on a sample of pixels.  The mean is
 *    inside the span (the first column of L is the background image up to a
 *    gain) and so is the constant vector 1: a global change of gain and
 *    offset is absorbed by the coefficients, not reported as motion.  Each
 *    pixel has its own noise level, the running median of its residual, and
 *    the threshold is a multiple of it.  After each frame, the rows of L at
 *    pixels judged background (and not next to foreground) take a small
 *    least-mean-squares step towards the frame.
 *
 * Masks are cleaned by a square median filter (a majority vote, as masks are
 * binary).  apply never allocates: every per-frame buffer is made by new.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "lp.h"

/* Training: frame coefficients are fitted on about this many values. */
#define FIT_SAMPLE 2048
/* Training: alternations of the l1 fit on the sample, and its tolerance. */
#define FIT_MAX_ITER 20
#define FIT_TOL 1e-3
/* Training: IRLS steps of each value's l1 row, from least squares, at most,
 * and the relative decrease of its cost under which a row stops: IRLS
 * converges linearly for l1, slower the more outliers a row has, and the
 * rows left are the ones that need it. */
#define ROW_ITER 30
#define ROW_TOL 1e-3
/* Training: values per block (whole image rows) of the passes over the
 * frames: a block of every frame stays in cache while its rows are fitted. */
#define BLOCK_VALUES 1024
/* Apply: frame coefficients are estimated on a grid of about this many
 * pixels: least squares, then this many l1 (IRLS) steps, then this many
 * least-squares steps on the pixels under their thresholds. */
#define COEF_SAMPLE 512
#define COEF_L1_STEPS 2
#define COEF_TRIM_STEPS 2
/* Apply: IRLS residual floor, grey levels. */
#define COEF_DELTA 0.5
/* Training: a pixel's first noise level is the median of its residual over
 * this many training frames: a median of 31 is within about 25% of the
 * truth, and the running median corrects it from the first frames on. */
#define NOISE_FRAMES 31
/* No pixel's noise level (mean square residual, grey levels squared) is
 * taken below this: 8-bit values are exact to half a grey level at best. */
#define NOISE_MIN 1.0
/* The noise tracker moves by a factor 1 + NOISE_STEP x update rate. */
#define NOISE_STEP 10.0

typedef struct settings {
    int mode, robust, threshold_mode;
    int64_t rank, interval, median, warmup;
    double energy, threshold, sensitivity, rate;
} settings;

/* The learned model; replaced as a whole by training. */
typedef struct model {
    int64_t rank;   /* k, columns of basis */
    float *basis;   /* V x k, column-major */
    float *mean;    /* V, seed mode; NULL in adaptive mode */
    float *noise;   /* P, adaptive mode: noise level (mean square over channels) */
    double *coef;   /* k + 1: the current frame's coefficients, then the offset */
    double *system; /* (k + 1)^2 + 2 (k + 1): scratch of the coefficient fit */
    float *proj;    /* k: scratch of the seed mode's projection */
    double floor;   /* the smallest noise level used in a threshold */
} model;

struct lowrank_background {
    int64_t width, height, channels, pixels, values;
    settings set;
    int trained;
    model m;
    int64_t applied; /* frames applied since training */
    /* per-frame scratch */
    float *work;       /* V: the frame's residuals (seed mode: centred frame first) */
    float *dist;       /* P: mean square residual over channels */
    uint8_t *raw;      /* P: threshold decisions, 0 or 1 */
    uint8_t *filtered; /* P: after the median filter */
    uint16_t *rowsum, *count;
    uint8_t *pad;      /* a mask row padded on both sides by a filter's radius (< 128) */
};

/* ------------------------------------------------------------ helpers */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static void free_model(model *m)
{
    free(m->basis);
    free(m->mean);
    free(m->noise);
    free(m->coef);
    free(m->system);
    free(m->proj);
    *m = (model){0};
}

static int alloc_model(const lowrank_background *bg, int64_t k, model *m)
{
    *m = (model){0};
    m->rank = k;
    int seed = bg->set.mode == LOWRANK_BG_MODE_SEED;
    m->basis = lr_malloc((size_t)max64(1, bg->values * k), sizeof *m->basis);
    m->coef = lr_calloc((size_t)(k + 1), sizeof *m->coef);
    m->system = lr_malloc((size_t)((k + 1) * (k + 3)), sizeof *m->system);
    m->proj = lr_malloc((size_t)(k + 1), sizeof *m->proj);
    if (seed)
        m->mean = lr_malloc((size_t)bg->values, sizeof *m->mean);
    else
        m->noise = lr_malloc((size_t)bg->pixels, sizeof *m->noise);
    if (m->basis && m->coef && m->system && m->proj && (seed ? !!m->mean : !!m->noise))
        return LOWRANK_OK;
    free_model(m);
    return LOWRANK_ENOMEM;
}

/* ------------------------------------------------------------ new / free */

static int read_settings(const lowrank_opts *opts, settings *s)
{
    s->mode = (int)lr_opt_int(opts, LOWRANK_OPT_BG_MODE);
    s->robust = (int)lr_opt_int(opts, LOWRANK_OPT_BG_ROBUST);
    s->threshold_mode = (int)lr_opt_int(opts, LOWRANK_OPT_BG_THRESHOLD_MODE);
    s->rank = lr_opt_int(opts, LOWRANK_OPT_BG_RANK);
    s->interval = lr_opt_int(opts, LOWRANK_OPT_BG_UPDATE_INTERVAL);
    s->median = lr_opt_int(opts, LOWRANK_OPT_BG_MEDIAN);
    s->warmup = lr_opt_int(opts, LOWRANK_OPT_BG_WARMUP);
    s->energy = lr_opt_double(opts, LOWRANK_OPT_BG_ENERGY);
    s->threshold = lr_opt_double(opts, LOWRANK_OPT_BG_THRESHOLD);
    s->sensitivity = lr_opt_double(opts, LOWRANK_OPT_BG_SENSITIVITY);
    s->rate = lr_opt_double(opts, LOWRANK_OPT_BG_UPDATE_RATE);
    if (s->median > 1 && s->median % 2 == 0)
        return lr_fail(LOWRANK_ERANGE,
                       "LOWRANK_OPT_BG_MEDIAN = %lld: a median filter size must be odd",
                       (long long)s->median);
    if (s->mode == LOWRANK_BG_MODE_SEED) { /* the seed's method, exactly */
        s->threshold_mode = LOWRANK_BG_THRESHOLD_FIXED;
        s->rate = 0;
    }
    return LOWRANK_OK;
}

static int check_frame_size(int64_t width, int64_t height, int64_t channels, int64_t *values)
{
    if (width < 1 || height < 1)
        return lr_fail(LOWRANK_ESIZE, "a %lld x %lld frame has no pixels", (long long)width,
                       (long long)height);
    if (channels != 1 && channels != 3)
        return lr_fail(LOWRANK_ESIZE, "channels = %lld: frames have 1 (grey) or 3 (colour)",
                       (long long)channels);
    size_t p, v;
    int rc = lr_mul_size((size_t)width, (size_t)height, &p);
    if (rc == LOWRANK_OK)
        rc = lr_mul_size(p, (size_t)channels * 2 * sizeof(float), &v);
    if (rc != LOWRANK_OK)
        return lr_fail(LOWRANK_EOVERFLOW, "a %lld x %lld x %lld frame overflows", (long long)width,
                       (long long)height, (long long)channels);
    *values = width * height * channels;
    return LOWRANK_OK;
}

void lowrank_background_free(lowrank_background *bg)
{
    if (!bg)
        return;
    free_model(&bg->m);
    free(bg->work);
    free(bg->dist);
    free(bg->raw);
    free(bg->filtered);
    free(bg->rowsum);
    free(bg->count);
    free(bg->pad);
    free(bg);
}

int lowrank_background_new(int64_t width, int64_t height, int64_t channels,
                           const lowrank_opts *opts, lowrank_background **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int64_t values = 0;
    settings set;
    int rc = check_frame_size(width, height, channels, &values);
    if (rc == LOWRANK_OK)
        rc = read_settings(opts, &set);
    if (rc != LOWRANK_OK)
        return rc;
    lowrank_background *bg = lr_calloc(1, sizeof *bg);
    if (!bg)
        return LOWRANK_ENOMEM;
    bg->width = width;
    bg->height = height;
    bg->channels = channels;
    bg->pixels = width * height;
    bg->values = values;
    bg->set = set;
    size_t p = (size_t)bg->pixels;
    bg->work = lr_malloc((size_t)values, sizeof *bg->work);
    bg->dist = bg->work ? lr_malloc(p, sizeof *bg->dist) : NULL;
    bg->raw = bg->dist ? lr_malloc(p, 1) : NULL;
    bg->filtered = bg->raw ? lr_malloc(p, 1) : NULL;
    bg->rowsum = bg->filtered ? lr_malloc(p, sizeof *bg->rowsum) : NULL;
    bg->count = bg->rowsum ? lr_malloc(p, sizeof *bg->count) : NULL;
    bg->pad = bg->count ? lr_malloc((size_t)width + 2 * 127, 1) : NULL;
    if (!bg->pad) {
        lowrank_background_free(bg);
        return LOWRANK_ENOMEM;
    }
    *out = bg;
    return LOWRANK_OK;
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
                     double *block)
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
        if (rc != LOWRANK_OK)
            return rc;
    }
    return LOWRANK_OK;
}

/* Seed mode: U = Xc V_k diag(1 / sqrt(l)), block by block, into m->basis. */
static int seed_basis(const lowrank_background *bg, const frames *fr, model *m, const double *vk,
                      double *block, double *ub)
{
    int64_t n = fr->n, rows = block_rows(bg), row = bg->width * bg->channels, k = m->rank;
    for (int64_t y0 = 0; y0 < bg->height; y0 += rows) {
        int64_t r = min64(rows, bg->height - y0), bv = r * row;
        load_block(bg, fr, y0, r, block);
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < bv; i++)
                block[j * bv + i] -= m->mean[y0 * row + i];
        int rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', bv, k, n, 1.0, block, bv, vk, n, 0.0, ub, bv);
        if (rc != LOWRANK_OK)
            return rc;
        for (int64_t a = 0; a < k; a++)
            for (int64_t i = 0; i < bv; i++)
                m->basis[a * bg->values + y0 * row + i] = (float)ub[a * bv + i];
    }
    return LOWRANK_OK;
}

static int train_seed(const lowrank_background *bg, const frames *fr, model *out)
{
    int64_t n = fr->n, bvmax = block_rows(bg) * bg->width * bg->channels;
    double *g = lr_malloc((size_t)(n * n), sizeof *g);
    double *eig = g ? lr_malloc((size_t)n, sizeof *eig) : NULL;
    double *block = eig ? lr_malloc((size_t)(bvmax * n), sizeof *block) : NULL;
    /* ub: n x k eigenvectors, then a bvmax x k block of the basis (k < n) */
    double *ub = block ? lr_malloc((size_t)((bvmax + n) * n), sizeof *ub) : NULL;
    float *mean = ub ? lr_malloc((size_t)bg->values, sizeof *mean) : NULL;
    int rc = mean ? LOWRANK_OK : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = seed_gram(bg, fr, mean, g, block);
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
        /* n centred frames span at most n - 1 directions: energy 1 means all of them */
        k = bg->set.rank > 0 ? bg->set.rank : min64(rank_by_energy(eig, n, bg->set.energy), n - 1);
        rc = check_rank(bg, k, n);
        /* directions without variance (identical frames) carry nothing */
        while (rc == LOWRANK_OK && k > 0 && !(eig[k - 1] > 1e-9 * eig[0]))
            k--;
    }
    if (rc == LOWRANK_OK)
        rc = alloc_model(bg, k, out);
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
            rc = seed_basis(bg, fr, out, vk, block, ub);
        ub = vk;
        if (rc != LOWRANK_OK)
            free_model(out);
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

/* Adaptive mode, step 2: every value's row of L, fitted on R block by block
 * (least squares, then l1 when robust), and every pixel's noise level: the
 * median of its mean square residual over NOISE_FRAMES training frames
 * evenly spread (or all, if fewer). */
static int adaptive_basis(const lowrank_background *bg, const frames *fr, const double *r,
                          const double *lsmap, model *m, double *block, double *lb, double *res)
{
    int64_t n = fr->n, k = m->rank, rows = block_rows(bg), row = bg->width * bg->channels;
    int64_t c = bg->channels, nm = min64(n, NOISE_FRAMES);
    for (int64_t y0 = 0; y0 < bg->height; y0 += rows) {
        int64_t h = min64(rows, bg->height - y0), bv = h * row;
        load_block(bg, fr, y0, h, block);
        int rc = lr_gemm(LOWRANK_FLOAT64, 'N', 'N', bv, k, n, 1.0, block, bv, lsmap, n, 0.0, lb,
                         bv);
        if (rc == LOWRANK_OK && bg->set.robust)
            rc = lr_lp_entrywise_left(LOWRANK_FLOAT64, bv, n, block, bv, k, r, k, 1.0, ROW_ITER,
                                      ROW_TOL, lb, bv);
        if (rc != LOWRANK_OK)
            return rc;
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
    }
    return LOWRANK_OK;
}

/* The median of the noise levels, a floor for every pixel's threshold: no
 * pixel is taken to be quieter than the typical pixel of the scene. */
static double noise_floor(const float *noise, int64_t pixels, double *scratch)
{
    for (int64_t i = 0; i < pixels; i++)
        scratch[i] = noise[i];
    return fmax(NOISE_MIN, lr_median(scratch, pixels));
}

static int train_adaptive(const lowrank_background *bg, const frames *fr, model *out)
{
    int64_t n = fr->n, k = 0, bvmax = block_rows(bg) * bg->width * bg->channels;
    double *r = NULL;
    int rc = adaptive_coefficients(bg, fr, &k, &r);
    if (rc != LOWRANK_OK)
        return rc;
    double *block = lr_malloc((size_t)(bvmax * n), sizeof *block);
    double *lb = block ? lr_malloc((size_t)(bvmax * k), sizeof *lb) : NULL;
    double *scratch = lb ? lr_malloc((size_t)max64(n, bg->pixels), sizeof *scratch) : NULL;
    double *lsmap = scratch ? lr_malloc((size_t)(n * k), sizeof *lsmap) : NULL;
    rc = lsmap ? alloc_model(bg, k, out) : LOWRANK_ENOMEM;
    if (rc == LOWRANK_OK)
        rc = least_squares_map(r, k, n, lsmap);
    if (rc == LOWRANK_OK)
        rc = adaptive_basis(bg, fr, r, lsmap, out, block, lb, scratch);
    if (rc == LOWRANK_OK) {
        out->floor = noise_floor(out->noise, bg->pixels, scratch);
        for (int64_t a = 0; a < k; a++) /* start from the last training frame */
            out->coef[a] = r[(n - 1) * k + a];
    } else if (lsmap) {
        free_model(out);
    }
    free(lsmap);
    free(r);
    free(block);
    free(lb);
    free(scratch);
    return rc;
}

int lowrank_background_train(lowrank_background *bg, const uint8_t *const *frames_in,
                             int64_t nframes, int64_t stride)
{
    if (!bg)
        return lr_fail(LOWRANK_EINVAL, "bg is NULL");
    if (!frames_in)
        return lr_fail(LOWRANK_EINVAL, "frames is NULL");
    if (nframes < 2)
        return lr_fail(LOWRANK_ESIZE, "nframes = %lld: training needs at least 2 frames",
                       (long long)nframes);
    if (stride < bg->width * bg->channels)
        return lr_fail(LOWRANK_ESIZE, "stride = %lld is less than width x channels = %lld",
                       (long long)stride, (long long)(bg->width * bg->channels));
    for (int64_t j = 0; j < nframes; j++)
        if (!frames_in[j])
            return lr_fail(LOWRANK_EINVAL, "frames[%lld] is NULL", (long long)j);
    frames fr = {frames_in, nframes, stride};
    model m;
    int rc = bg->set.mode == LOWRANK_BG_MODE_SEED ? train_seed(bg, &fr, &m)
                                                   : train_adaptive(bg, &fr, &m);
    if (rc != LOWRANK_OK)
        return rc;
    free_model(&bg->m);
    bg->m = m;
    bg->trained = 1;
    bg->applied = 0;
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ masks */

/* rowsum[x] = the number of set bytes of the w bytes at s in the 2h + 1
 * window around x, the row extended by repeating its end bytes: a running
 * sum over the row padded into pad (w + 2h bytes). */
static void row_count(const uint8_t *s, int64_t w, int64_t h, uint8_t *pad, uint16_t *rowsum)
{
    memset(pad, s[0], (size_t)h);
    memcpy(pad + h, s, (size_t)w);
    memset(pad + h + w, s[w - 1], (size_t)h);
    unsigned acc = 0;
    for (int64_t d = 0; d < 2 * h; d++)
        acc += pad[d];
    for (int64_t x = 0; x < w; x++) {
        acc += pad[x + 2 * h];
        rowsum[x] = (uint16_t)acc;
        acc -= pad[x];
    }
}

/* count[i] = the number of set pixels of src in the (2h + 1)^2 square
 * around pixel i, the image extended by repeating its border pixels:
 * separable running sums, O(1) per pixel whatever h. */
static void box_count(const lowrank_background *bg, const uint8_t *src, int64_t h)
{
    int64_t w = bg->width, ht = bg->height;
    uint16_t *rs = bg->rowsum, *out = bg->count;
    for (int64_t y = 0; y < ht; y++)
        row_count(src + y * w, w, h, bg->pad, rs + y * w);
    memset(out, 0, (size_t)w * sizeof *out);
    for (int64_t d = -h; d <= h; d++) {
        const uint16_t *add = rs + (d < 0 ? 0 : d >= ht ? ht - 1 : d) * w;
        for (int64_t x = 0; x < w; x++)
            out[x] = (uint16_t)(out[x] + add[x]);
    }
    for (int64_t y = 1; y < ht; y++) {
        int64_t ya = y + h < ht ? y + h : ht - 1, ys = y - h - 1 > 0 ? y - h - 1 : 0;
        const uint16_t *add = rs + ya * w, *sub = rs + ys * w, *prev = out + (y - 1) * w;
        uint16_t *o = out + y * w;
        for (int64_t x = 0; x < w; x++)
            o[x] = (uint16_t)(prev[x] + add[x] - sub[x]);
    }
}

/* The median filter of a binary mask is a majority vote in the window. */
static void median_filter(lowrank_background *bg)
{
    int64_t size = bg->set.median;
    if (size <= 1) {
        memcpy(bg->filtered, bg->raw, (size_t)bg->pixels);
        return;
    }
    box_count(bg, bg->raw, size / 2);
    /* locals, restrict: a store through uint8_t * may alias anything,
     * bg's own fields included, which would keep the loop from vectorising */
    uint16_t majority = (uint16_t)(size * size / 2 + 1);
    const uint16_t *restrict count = bg->count;
    uint8_t *restrict filtered = bg->filtered;
    for (int64_t i = 0, n = bg->pixels; i < n; i++)
        filtered[i] = count[i] >= majority;
}

/* ------------------------------------------------------------ apply */

/* The per-pixel threshold on the mean square residual. */
static double threshold_at(const lowrank_background *bg, int64_t px)
{
    if (bg->set.threshold_mode == LOWRANK_BG_THRESHOLD_FIXED)
        return bg->set.threshold * bg->set.threshold;
    double s = bg->set.sensitivity, noise = bg->m.noise[px];
    return s * s * (noise > bg->m.floor ? noise : bg->m.floor);
}

/* Adaptive mode: the background value v is sum_a basis[a][v] c[a] + c0. */
static double model_value(const lowrank_background *bg, int64_t v, const double *c)
{
    const model *m = &bg->m;
    double b = c[m->rank];
    for (int64_t a = 0; a < m->rank; a++)
        b += (double)m->basis[a * bg->values + v] * c[a];
    return b;
}

/* Adaptive mode: the coefficients (c, c0) of the frame, fitted on a grid
 * of about COEF_SAMPLE pixels from the previous frame's: COEF_L1_STEPS IRLS
 * steps towards the l1 fit (robust whatever changed since, a global gain or
 * offset included), then COEF_TRIM_STEPS least-squares fits on the pixels
 * whose residual is under their threshold (the background pixels). */
static void fit_coefficients(lowrank_background *bg, const uint8_t *frame, int64_t stride)
{
    model *m = &bg->m;
    int64_t k = m->rank, q = k + 1, ch = bg->channels;
    int64_t step = (int64_t)ceil(sqrt((double)bg->pixels / COEF_SAMPLE));
    int64_t nsample = ((bg->height + step - 1) / step) * ((bg->width + step - 1) / step);
    double *a = m->system, *b = a + q * q, *f = b + q, delta2 = COEF_DELTA * COEF_DELTA;
    f[k] = 1; /* the constant column */
    for (int it = 0; it <= COEF_L1_STEPS + COEF_TRIM_STEPS; it++) {
        int trimmed = it > COEF_L1_STEPS;
        int64_t inliers = 0;
        memset(a, 0, (size_t)(q * q) * sizeof *a);
        memset(b, 0, (size_t)q * sizeof *b);
        for (int64_t y = 0; y < bg->height; y += step)
            for (int64_t x = 0; x < bg->width; x += step) {
                int64_t px = y * bg->width + x;
                const uint8_t *xv = frame + y * stride + x * ch;
                double d = 0;
                for (int64_t c = 0; c < ch; c++) {
                    double e = xv[c] - model_value(bg, px * ch + c, m->coef);
                    d += e * e;
                }
                d /= (double)ch;
                double w = it == 0 ? 1
                       : trimmed ? d <= threshold_at(bg, px)
                                 : 1 / sqrt(d > delta2 ? d : delta2);
                if (w == 0)
                    continue;
                inliers++;
                for (int64_t c = 0; c < ch; c++) {
                    for (int64_t i = 0; i < k; i++)
                        f[i] = m->basis[i * bg->values + px * ch + c];
                    for (int64_t i = 0; i < q; i++) {
                        b[i] += w * xv[c] * f[i];
                        for (int64_t j = 0; j <= i; j++)
                            a[i * q + j] += w * f[i] * f[j];
                    }
                }
            }
        /* too few background pixels to trust: keep the l1 coefficients */
        if (trimmed && inliers * 10 < nsample)
            break;
        if (lr_small_spd_solve(q, a, b))
            memcpy(m->coef, b, (size_t)q * sizeof *b);
    }
}

/* Each pixel's mean square residual over channels (from the residuals in
 * bg->work) into dist, and whether it exceeds the pixel's threshold into
 * raw: the fixed threshold, or sensitivity^2 x max(noise, floor).  Branch
 * free, one loop per case: these loops run over every pixel of every frame. */
static void classify_pixels(lowrank_background *bg)
{
    int64_t pixels = bg->pixels;
    const float *r = bg->work;
    float *dist = bg->dist;
    uint8_t *raw = bg->raw;
    if (bg->channels == 1) {
        for (int64_t px = 0; px < pixels; px++)
            dist[px] = r[px] * r[px];
    } else {
        for (int64_t px = 0; px < pixels; px++) {
            const float *e = r + 3 * px;
            dist[px] = (e[0] * e[0] + e[1] * e[1] + e[2] * e[2]) * (1.0f / 3);
        }
    }
    if (bg->set.threshold_mode == LOWRANK_BG_THRESHOLD_FIXED) {
        float t = (float)(bg->set.threshold * bg->set.threshold);
        for (int64_t px = 0; px < pixels; px++)
            raw[px] = dist[px] > t;
        return;
    }
    const float *noise = bg->m.noise;
    float s2 = (float)(bg->set.sensitivity * bg->set.sensitivity), floor = (float)bg->m.floor;
    for (int64_t px = 0; px < pixels; px++)
        raw[px] = dist[px] > s2 * (noise[px] > floor ? noise[px] : floor);
}

/* Adaptive mode: the residuals x - L c - c0 of the whole frame into
 * bg->work, row by row in float (the loops the compiler vectorises). */
static void adaptive_residuals(lowrank_background *bg, const uint8_t *frame, int64_t stride)
{
    const model *m = &bg->m;
    int64_t row = bg->width * bg->channels;
    float c0 = (float)m->coef[m->rank];
    for (int64_t y = 0; y < bg->height; y++) {
        float *r = bg->work + y * row;
        const uint8_t *x = frame + y * stride;
        for (int64_t i = 0; i < row; i++)
            r[i] = (float)x[i] - c0;
        for (int64_t a = 0; a < m->rank; a++) {
            const float *l = m->basis + a * bg->values + y * row;
            float ca = (float)m->coef[a];
            for (int64_t i = 0; i < row; i++)
                r[i] -= l[i] * ca;
        }
    }
}

/* Seed mode: the residual of the orthogonal projection of x - mean on the
 * eigenvectors, mean square per pixel. */
static void seed_residuals(lowrank_background *bg, const uint8_t *frame, int64_t stride)
{
    model *m = &bg->m;
    int64_t row = bg->width * bg->channels;
    for (int64_t y = 0; y < bg->height; y++)
        for (int64_t i = 0; i < row; i++)
            bg->work[y * row + i] = (float)frame[y * stride + i] - m->mean[y * row + i];
    if (m->rank > 0) {
        float *c = m->proj;
        /* sizes were checked at training; these calls cannot fail */
        lr_gemv(LOWRANK_FLOAT32, 'T', bg->values, m->rank, 1.0, m->basis, bg->values, bg->work,
                1, 0.0, c, 1);
        lr_gemv(LOWRANK_FLOAT32, 'N', bg->values, m->rank, -1.0, m->basis, bg->values, c, 1, 1.0,
                bg->work, 1);
        for (int64_t a = 0; a < m->rank; a++)
            m->coef[a] = c[a];
    }
}

/* Adaptive mode: learn from the pixels judged background that have no
 * foreground within the median filter's reach (object borders blur into
 * their neighbours).  Each value takes a normalised LMS step on its row of
 * the basis, from its residual in bg->work; each pixel's noise level moves
 * towards the median of its residual (up when above, down when below). */
static void update(lowrank_background *bg)
{
    model *m = &bg->m;
    double rate = bg->set.rate;
    if (bg->applied < bg->set.warmup)
        rate = fmax(rate, 1.0 / (double)(bg->applied + 1));
    double cc = 0;
    for (int64_t a = 0; a < m->rank; a++)
        cc += m->coef[a] * m->coef[a];
    if (!(cc > 0))
        return;
    box_count(bg, bg->filtered, max64(1, bg->set.median / 2));
    /* branch free (the learnt pixels form no predictable pattern): a pixel
     * not learnt from has its residual zeroed and its noise kept */
    int64_t ch = bg->channels, pixels = bg->pixels;
    float up = (float)(1 + NOISE_STEP * bg->set.rate), down = 1 / up;
    float *noise = m->noise, *work = bg->work;
    const float *dist = bg->dist;
    const uint16_t *near = bg->count;
    for (int64_t px = 0; px < pixels; px++) {
        float step = dist[px] > noise[px] ? up : down;
        noise[px] *= near[px] ? 1.0f : step;
    }
    if (ch == 1) {
        for (int64_t px = 0; px < pixels; px++)
            work[px] = near[px] ? 0.0f : work[px];
    } else {
        for (int64_t px = 0; px < pixels; px++) {
            float keep = near[px] ? 0.0f : 1.0f;
            work[3 * px] *= keep;
            work[3 * px + 1] *= keep;
            work[3 * px + 2] *= keep;
        }
    }
    for (int64_t a = 0; a < m->rank; a++) {
        float g = (float)(rate * m->coef[a] / cc), *l = m->basis + a * bg->values;
        for (int64_t v = 0; v < bg->values; v++)
            l[v] += g * work[v];
    }
}

/* The filtered mask as 0 and 255 into the caller's mask. */
static void write_mask(const lowrank_background *bg, uint8_t *mask, int64_t mask_stride)
{
    int64_t w = bg->width;
    for (int64_t y = 0; y < bg->height; y++) {
        const uint8_t *restrict src = bg->filtered + y * w;
        uint8_t *restrict dst = mask + y * mask_stride;
        for (int64_t x = 0; x < w; x++)
            dst[x] = (uint8_t)(0 - src[x]);
    }
}

static int check_trained(const lowrank_background *bg)
{
    return bg->trained ? LOWRANK_OK
                       : lr_fail(LOWRANK_EINVAL,
                                 "the model is not trained: call lowrank_background_train first");
}

int lowrank_background_apply(lowrank_background *bg, const uint8_t *frame, int64_t stride,
                             uint8_t *mask, int64_t mask_stride)
{
    if (!bg || !frame || !mask)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !bg ? "bg" : !frame ? "frame" : "mask");
    int rc = check_trained(bg);
    if (rc != LOWRANK_OK)
        return rc;
    if (stride < bg->width * bg->channels)
        return lr_fail(LOWRANK_ESIZE, "stride = %lld is less than width x channels = %lld",
                       (long long)stride, (long long)(bg->width * bg->channels));
    if (mask_stride < bg->width)
        return lr_fail(LOWRANK_ESIZE, "mask_stride = %lld is less than width = %lld",
                       (long long)mask_stride, (long long)bg->width);
    if (bg->set.mode == LOWRANK_BG_MODE_SEED) {
        seed_residuals(bg, frame, stride);
    } else {
        fit_coefficients(bg, frame, stride);
        adaptive_residuals(bg, frame, stride);
    }
    classify_pixels(bg);
    median_filter(bg);
    write_mask(bg, mask, mask_stride);
    if (bg->set.rate > 0 && bg->applied % bg->set.interval == 0)
        update(bg);
    bg->applied++;
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ image */

int lowrank_background_image(const lowrank_background *bg, uint8_t *out, int64_t stride)
{
    if (!bg || !out)
        return lr_fail(LOWRANK_EINVAL, "%s is NULL", !bg ? "bg" : "out");
    int rc = check_trained(bg);
    if (rc != LOWRANK_OK)
        return rc;
    if (stride < bg->width * bg->channels)
        return lr_fail(LOWRANK_ESIZE, "stride = %lld is less than width x channels = %lld",
                       (long long)stride, (long long)(bg->width * bg->channels));
    const model *m = &bg->m;
    int64_t row = bg->width * bg->channels;
    for (int64_t y = 0; y < bg->height; y++)
        for (int64_t i = 0; i < row; i++) {
            int64_t v = y * row + i;
            double b;
            if (m->mean) {
                b = m->mean[v];
                for (int64_t a = 0; a < m->rank; a++)
                    b += (double)m->basis[a * bg->values + v] * m->coef[a];
            } else {
                b = model_value(bg, v, m->coef);
            }
            out[y * stride + i] = (uint8_t)lrint(fmin(255, fmax(0, b)));
        }
    return LOWRANK_OK;
}
