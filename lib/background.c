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
 *  - adaptive: the background is L c + c0, where the V x k basis L is the
 *    entry-wise l1 fit of the training frames (so that objects moving
 *    through them do not leak into it), registered to each frame by a
 *    global translation, and the k + 1 coefficients (c, c0) and the
 *    translation are fitted to each frame robustly, on a sample of pixels:
 *    a global change of gain and offset, and a camera that drifts or
 *    shakes, are absorbed, not reported as motion.  Each pixel has its own
 *    noise level, the running median of its residual, and the threshold is
 *    a multiple of it; a changed pixel that is a darker version of its
 *    background is a shadow.  After each frame the model learns from the
 *    pixels judged background, and from those changed for so long that they
 *    are the scene.
 *
 * The parts: this file (options, the public functions), bg_train.c,
 * bg_register.c, bg_masks.c, bg_update.c (lib/background.h).  Per-frame work
 * runs over bands of image rows on the model's own threads (lib/threads.c);
 * masks do not depend on their number.  apply never allocates: every buffer,
 * and every thread, is made by new and train.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "background.h"

/* Bands per thread: enough that a thread the system delays costs little,
 * and that the changed pixels (the costly ones), which gather where the
 * objects are, spread over the threads.  Two threads against one on
 * highway, median of interleaved rounds: 1.24-1.40 with 4, 1.54-1.71 with
 * 8, 1.66 with 16 (which was slower on pedestrians, 1.56 against 1.76). */
#define BANDS_PER_THREAD 8
/* No band is thinner than this many rows. */
#define MIN_BAND_ROWS 4

/* ------------------------------------------------------------ new / free */

static int read_settings(const lowrank_opts *opts, bg_settings *s)
{
    s->mode = (int)lr_opt_int(opts, LOWRANK_OPT_BG_MODE);
    s->robust = (int)lr_opt_int(opts, LOWRANK_OPT_BG_ROBUST);
    s->threshold_mode = (int)lr_opt_int(opts, LOWRANK_OPT_BG_THRESHOLD_MODE);
    s->registration = (int)lr_opt_int(opts, LOWRANK_OPT_BG_REGISTRATION);
    s->shadows = (int)lr_opt_int(opts, LOWRANK_OPT_BG_SHADOWS);
    s->neighbours = (int)lr_opt_int(opts, LOWRANK_OPT_BG_NEIGHBOURS);
    s->rank = lr_opt_int(opts, LOWRANK_OPT_BG_RANK);
    s->interval = lr_opt_int(opts, LOWRANK_OPT_BG_UPDATE_INTERVAL);
    s->median = lr_opt_int(opts, LOWRANK_OPT_BG_MEDIAN);
    s->warmup = lr_opt_int(opts, LOWRANK_OPT_BG_WARMUP);
    s->absorb = lr_opt_int(opts, LOWRANK_OPT_BG_ABSORB);
    s->threads = lr_opt_int(opts, LOWRANK_OPT_THREADS);
    s->energy = lr_opt_double(opts, LOWRANK_OPT_BG_ENERGY);
    s->threshold = lr_opt_double(opts, LOWRANK_OPT_BG_THRESHOLD);
    s->sensitivity = lr_opt_double(opts, LOWRANK_OPT_BG_SENSITIVITY);
    s->rate = lr_opt_double(opts, LOWRANK_OPT_BG_UPDATE_RATE);
    s->shadow_ratio = lr_opt_double(opts, LOWRANK_OPT_BG_SHADOW_RATIO);
    if (s->median > 1 && s->median % 2 == 0)
        return lr_fail(LOWRANK_ERANGE,
                       "LOWRANK_OPT_BG_MEDIAN = %lld: a median filter size must be odd",
                       (long long)s->median);
    if (s->mode == LOWRANK_BG_MODE_SEED) { /* the seed's method, exactly */
        s->threshold_mode = LOWRANK_BG_THRESHOLD_FIXED;
        s->rate = 0;
        s->registration = 0;
        s->shadows = LOWRANK_BG_SHADOWS_OFF;
        s->neighbours = 0;
        s->absorb = 0;
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
    if (rc != LOWRANK_OK || width > INT32_MAX)
        return lr_fail(LOWRANK_EOVERFLOW, "a %lld x %lld x %lld frame overflows", (long long)width,
                       (long long)height, (long long)channels);
    *values = width * height * channels;
    return LOWRANK_OK;
}

static void free_scratch(bg_scratch *s)
{
    free(s->row);
    free(s->row2);
    free(s->rows);
    free(s->learn);
    free(s->count);
    free(s->count2);
    free(s->near);
    free(s->pad);
    free(s->flag);
}

void lowrank_background_free(lowrank_background *bg)
{
    if (!bg)
        return;
    int threads = lr_pool_threads(bg->pool);
    lr_pool_free(bg->pool);
    lr_bg_free_model(&bg->m);
    for (int t = 0; bg->scratch && t < threads; t++)
        free_scratch(&bg->scratch[t]);
    free(bg->scratch);
    free(bg->dist);
    free(bg->raw);
    free(bg->shade);
    free(bg->outside);
    free(bg->filtered);
    free(bg->rowsum);
    free(bg->shadesum);
    free(bg->nearsum);
    free(bg->rowsum_any);
    free(bg);
}

static int alloc_scratch(const lowrank_background *bg, bg_scratch *s)
{
    size_t w = (size_t)bg->width, row = w * (size_t)bg->channels;
    s->row = lr_malloc(row, sizeof *s->row);
    s->row2 = lr_malloc(row, sizeof *s->row2);
    s->rows = lr_malloc(3 * row, sizeof *s->rows);
    s->learn = lr_malloc(w, sizeof *s->learn);
    s->count = lr_malloc(w, sizeof *s->count);
    s->count2 = lr_malloc(w, sizeof *s->count2);
    s->near = lr_malloc(w, sizeof *s->near);
    s->pad = lr_malloc(w + 2 * 127, 1);
    s->flag = lr_malloc(w, 1);
    return s->row && s->row2 && s->rows && s->learn && s->count && s->count2 && s->near && s->pad &&
                   s->flag
               ? LOWRANK_OK
               : LOWRANK_ENOMEM;
}

/* The threads: the option, 0 meaning the cores available, never more than
 * there are bands of MIN_BAND_ROWS rows; the bands the threads share:
 * BANDS_PER_THREAD per thread (one thread takes the whole frame as one band,
 * as does a pool that runs solo: lowrank_background_apply). */
static int start_threads(lowrank_background *bg)
{
    int64_t threads = bg->set.threads > 0 ? bg->set.threads : lr_threads_available();
    int64_t most = (bg->height + MIN_BAND_ROWS - 1) / MIN_BAND_ROWS;
    threads = threads < most ? threads : most;
    threads = threads < 1024 ? threads : 1024;
    int64_t bands = threads > 1 ? threads * BANDS_PER_THREAD : 1;
    bg->shared_rows = (bg->height + bands - 1) / bands;
    bg->shared_rows = bg->shared_rows > MIN_BAND_ROWS ? bg->shared_rows : MIN_BAND_ROWS;
    bg->shared_bands = (bg->height + bg->shared_rows - 1) / bg->shared_rows;
    int rc = lr_pool_new((int)threads, &bg->pool);
    bg->scratch = rc == LOWRANK_OK ? lr_calloc((size_t)threads, sizeof *bg->scratch) : NULL;
    if (rc == LOWRANK_OK && !bg->scratch)
        rc = LOWRANK_ENOMEM;
    for (int64_t t = 0; rc == LOWRANK_OK && t < threads; t++)
        rc = alloc_scratch(bg, &bg->scratch[t]);
    return rc;
}

/* The per-frame passes for this processor: AVX2 where it has it (x86-64
 * builds carry both). */
static bg_passes choose_passes(void)
{
#ifdef LR_BG_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        return (bg_passes){lr_bg_classify_band_avx2, lr_bg_mask_band_avx2, lr_bg_update_band_avx2};
#endif
    return (bg_passes){lr_bg_classify_band, lr_bg_mask_band, lr_bg_update_band};
}

int lowrank_background_new(int64_t width, int64_t height, int64_t channels,
                           const lowrank_opts *opts, lowrank_background **out)
{
    if (!out)
        return lr_fail(LOWRANK_EINVAL, "out is NULL");
    *out = NULL;
    int64_t values = 0;
    bg_settings set;
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
    bg->passes = choose_passes();
    lr_opts_inherit_progress(&bg->opts, opts);
    size_t p = (size_t)bg->pixels;
    bg->dist = lr_malloc(p, sizeof *bg->dist);
    bg->raw = bg->dist ? lr_malloc(p, 1) : NULL;
    bg->shade = bg->raw ? lr_malloc(p, 1) : NULL;
    bg->outside = bg->shade ? lr_malloc(p, 1) : NULL;
    bg->filtered = bg->outside ? lr_malloc(p, 1) : NULL;
    bg->rowsum = bg->filtered ? lr_malloc(p, sizeof *bg->rowsum) : NULL;
    bg->shadesum = bg->rowsum ? lr_malloc(p, sizeof *bg->shadesum) : NULL;
    bg->nearsum = bg->shadesum ? lr_malloc(p, sizeof *bg->nearsum) : NULL;
    bg->rowsum_any = bg->nearsum ? lr_calloc(3 * (size_t)height, 1) : NULL;
    if (bg->rowsum_any) {
        bg->shadesum_any = bg->rowsum_any + height;
        bg->nearsum_any = bg->shadesum_any + height;
    }
    rc = bg->rowsum_any ? start_threads(bg) : LOWRANK_ENOMEM;
    if (rc != LOWRANK_OK) {
        lowrank_background_free(bg);
        return rc;
    }
    *out = bg;
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ training */

int lowrank_background_train(lowrank_background *bg, const uint8_t *const *frames,
                             int64_t nframes, int64_t stride)
{
    if (!bg)
        return lr_fail(LOWRANK_EINVAL, "bg is NULL");
    if (!frames)
        return lr_fail(LOWRANK_EINVAL, "frames is NULL");
    if (nframes < 2)
        return lr_fail(LOWRANK_ESIZE, "nframes = %lld: training needs at least 2 frames",
                       (long long)nframes);
    if (stride < bg->width * bg->channels)
        return lr_fail(LOWRANK_ESIZE, "stride = %lld is less than width x channels = %lld",
                       (long long)stride, (long long)(bg->width * bg->channels));
    for (int64_t j = 0; j < nframes; j++)
        if (!frames[j])
            return lr_fail(LOWRANK_EINVAL, "frames[%lld] is NULL", (long long)j);
    bg_model m;
    int rc = bg->set.mode == LOWRANK_BG_MODE_SEED
                 ? lr_bg_train_seed(bg, frames, nframes, stride, &m)
                 : lr_bg_train_adaptive(bg, frames, nframes, stride, &m);
    if (rc != LOWRANK_OK)
        return rc;
    lr_bg_free_model(&bg->m);
    bg->m = m;
    bg->trained = 1;
    bg->applied = 0;
    return LOWRANK_OK;
}

/* ------------------------------------------------------------ apply */

/* Seed mode: the coordinates c = U^T (x - m) of the frame, in double, in
 * the order of the values (the library's own loop: no BLAS thread for a
 * product this small). */
static void seed_coefficients(lowrank_background *bg, const uint8_t *frame, int64_t stride)
{
    bg_model *m = &bg->m;
    int64_t row = bg->width * bg->channels;
    for (int64_t a = 0; a < m->rank; a++) {
        const float *u = m->basis + a * bg->values, *mean = m->mean;
        double sum = 0;
        for (int64_t y = 0; y < bg->height; y++)
            for (int64_t i = 0; i < row; i++)
                sum += (double)u[y * row + i] * ((double)frame[y * stride + i] - mean[y * row + i]);
        m->coef[a] = sum;
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
    if (bg->set.mode == LOWRANK_BG_MODE_SEED)
        seed_coefficients(bg, frame, stride);
    else
        lr_bg_fit_frame(bg, frame, stride);
    bg->frame = frame;
    bg->stride = stride;
    bg->mask = mask;
    bg->mask_stride = mask_stride;
    /* The caller alone takes the frame as one band: each band computes one
     * background row more than it has, for the comparison with the
     * neighbours, and 16 bands one after the other cost up to 6% more than
     * one.  The masks are the same for any bands.  The band tasks never
     * fail. */
    int whole = lr_pool_solo(bg->pool);
    bg->band_rows = whole ? bg->height : bg->shared_rows;
    int64_t bands = whole ? 1 : bg->shared_bands;
    lr_pool_run(bg->pool, bands, bg->passes.classify, bg);
    lr_pool_run(bg->pool, bands, bg->passes.mask, bg);
    if (bg->set.rate > 0 && bg->applied % bg->set.interval == 0)
        lr_pool_run(bg->pool, bands, bg->passes.update, bg);
    bg->frame = NULL;
    bg->mask = NULL;
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
    const bg_model *m = &bg->m;
    int64_t w = bg->width, c = bg->channels;
    for (int64_t y = 0; y < bg->height; y++)
        for (int64_t x = 0; x < w; x++)
            for (int64_t ch = 0; ch < c; ch++) {
                int64_t v = (y * w + x) * c + ch;
                double b = m->mean ? m->mean[v] : m->coef[m->rank];
                for (int64_t a = 0; a < m->rank; a++)
                    b += m->coef[a] * (m->mean ? m->basis[a * bg->values + v]
                                               : lr_bg_bilinear(bg, m->basis + a * bg->values,
                                                                (double)x + m->shift[0],
                                                                (double)y + m->shift[1], ch));
                out[y * stride + x * c + ch] = (uint8_t)lrint(fmin(255, fmax(0, b)));
            }
    return LOWRANK_OK;
}
