/*
 * background.h - what the parts of the background model share; internal,
 * not installed.  docs/background.md has the full account.
 *
 *   background.c   the public functions: options, new, train, apply, image
 *   bg_train.c     training: the seed's eigenbackground, the adaptive l1 fit
 *   bg_register.c  each frame's coefficients and global translation
 *   bg_masks.c     per band of rows: thresholds, shadows, median filter, mask
 *   bg_update.c    per band of rows: the update of the basis and noise levels
 *
 * Coordinates: the model is kept in the coordinates of the training frames.
 * A frame is registered by its shift (dx, dy): its pixel (x, y) shows the
 * model's point (x + dx, y + dy), sampled by bilinear interpolation.
 */
#ifndef LOWRANK_BACKGROUND_H
#define LOWRANK_BACKGROUND_H

#include <stdint.h>
#include <string.h>

#include "internal.h"

/* bg_masks.c and bg_update.c are compiled twice on x86-64: for the
 * baseline instruction set and, with the suffix _avx2 on their functions,
 * for AVX2 (twice as wide vectors, the same arithmetic, so the same masks);
 * lowrank_background_new picks one set by what the processor has. */
#ifdef LR_BG_SUFFIX
#define LR_BG_CAT_(a, b) a##b
#define LR_BG_CAT(a, b) LR_BG_CAT_(a, b)
#define lr_bg_classify_band LR_BG_CAT(lr_bg_classify_band, LR_BG_SUFFIX)
#define lr_bg_mask_band LR_BG_CAT(lr_bg_mask_band, LR_BG_SUFFIX)
#define lr_bg_update_band LR_BG_CAT(lr_bg_update_band, LR_BG_SUFFIX)
#define lr_bg_row_count LR_BG_CAT(lr_bg_row_count, LR_BG_SUFFIX)
#define lr_bg_column_sum LR_BG_CAT(lr_bg_column_sum, LR_BG_SUFFIX)
#define lr_bg_shifted_row LR_BG_CAT(lr_bg_shifted_row, LR_BG_SUFFIX)
#endif

/* The band tasks of apply (lr_task_fn), in its three phases. */
typedef struct bg_passes {
    lr_task_fn classify, mask, update;
} bg_passes;


typedef struct bg_settings {
    int mode, robust, threshold_mode, registration, shadows, neighbours;
    int64_t rank, interval, median, warmup, absorb, threads;
    double energy, threshold, sensitivity, rate, shadow_ratio;
} bg_settings;

/* The learned model; replaced as a whole by training. */
typedef struct bg_model {
    int64_t rank;     /* k, columns of basis */
    float *basis;     /* V x k, column-major */
    float *mean;      /* V, seed mode; NULL in adaptive mode */
    float *noise;     /* P, adaptive mode: noise level (mean square over channels) */
    double *coef;     /* k + 1: the current frame's coefficients, then the offset */
    double shift[2];  /* the current frame's (dx, dy) */
    double floor;     /* the smallest noise level used in a threshold */
    float *proj;      /* k: scratch of the seed mode's projection */
    /* adaptive mode: the pixels each frame's coefficients and shift are
     * fitted on, and the per-frame scratch of that fit */
    int64_t nsample, ngrid;
    int64_t *sample;  /* pixel indices: ngrid on a grid, then edges */
    float *gathered;  /* per sample value: the frame's value, L, dL/dx, dL/dy */
    double *system;   /* normal equations of the fit */
} bg_model;

/* Per-thread scratch of the band tasks. */
typedef struct bg_scratch {
    float *row, *row2;               /* width x channels each */
    float *rows;                     /* 3 x width x channels */
    float *learn;                    /* width */
    uint16_t *count, *count2, *near; /* width each */
    uint8_t *pad;                    /* width + 2 x 127 */
    uint8_t *flag;                   /* width */
} bg_scratch;

struct lowrank_background {
    int64_t width, height, channels, pixels, values;
    bg_settings set;
    lowrank_opts opts; /* the progress callback of opts, for training */
    int trained;
    bg_model m;
    int64_t applied; /* frames applied since training */
    lr_pool *pool;
    bg_passes passes;    /* for this processor */
    bg_scratch *scratch; /* one per thread of the pool */
    int64_t shared_rows, shared_bands; /* the bands of a frame the threads share */
    int64_t band_rows;                 /* the bands of the current frame */
    /* per-pixel state and per-frame buffers */
    float *dist;       /* mean square residual over channels */
    uint8_t *raw;      /* 1: over the threshold, not like a shadow */
    uint8_t *shade;    /* 1: over the threshold, like a shadow */
    uint8_t *outside;  /* 1: registered outside the model: not compared, not learnt */
    uint8_t *filtered; /* after the median filter: 1 foreground, 0 not */
    uint16_t *rowsum;  /* running sums of raw along rows, for the median filter */
    uint16_t *shadesum; /* the same of shade */
    uint16_t *nearsum; /* the same of the filtered mask, for the update */
    /* per row of each: 1 when a byte of the row was set (most rows of most
     * frames have none, and their sums are skipped) */
    uint8_t *rowsum_any, *shadesum_any, *nearsum_any;
    /* the frame being applied */
    const uint8_t *frame;
    int64_t stride;
    uint8_t *mask;
    int64_t mask_stride;
};

/* bg_train.c: train the seed's eigenbackground or the adaptive model into
 * out (allocated here). */
int lr_bg_train_seed(const lowrank_background *bg, const uint8_t *const *frames, int64_t n,
                     int64_t stride, bg_model *out);
int lr_bg_train_adaptive(const lowrank_background *bg, const uint8_t *const *frames, int64_t n,
                         int64_t stride, bg_model *out);
void lr_bg_free_model(bg_model *m);
int lr_bg_alloc_model(const lowrank_background *bg, int64_t k, bg_model *m);

/* bg_register.c: choose the fit's sample pixels (after training), and fit
 * the frame's coefficients and shift (each frame). */
int lr_bg_choose_sample(const lowrank_background *bg, bg_model *m);
void lr_bg_fit_frame(lowrank_background *bg, const uint8_t *frame, int64_t stride);

/* Row y of the image src (a basis column: height rows of width x channels
 * values) at (x + dx, y + dy), x = 0 .. width - 1, bilinear, neighbours
 * clamped to the image, times scale: plus offset into out, or added to out
 * when accumulate. */
void lr_bg_shifted_row(const lowrank_background *bg, const float *src, int64_t y, double dx,
                       double dy, float scale, float offset, int accumulate, float *out);

/* Channel ch of the image l (a basis column) at the model point (sx, sy),
 * bilinear, the neighbours clamped to the image. */
double lr_bg_bilinear(const lowrank_background *bg, const float *l, double sx, double sy,
                      int64_t ch);

/* The per-pixel threshold on the mean square residual of pixel px of the
 * model. */
static inline float lr_bg_threshold(const lowrank_background *bg, int64_t px)
{
    if (bg->set.threshold_mode == LOWRANK_BG_THRESHOLD_FIXED)
        return (float)(bg->set.threshold * bg->set.threshold);
    float noise = bg->m.noise[px], floor = (float)bg->m.floor;
    return (float)(bg->set.sensitivity * bg->set.sensitivity) * (noise > floor ? noise : floor);
}

/* bg_masks.c: the band tasks of apply (lr_task_fn): classify the pixels of
 * a band, then (after every band is classified) filter the band's mask and
 * write it. */
int lr_bg_classify_band(void *bg, int64_t band, int thread);
int lr_bg_mask_band(void *bg, int64_t band, int thread);
/* rowsum[x] = the number of set bytes in the 2h + 1 window around x of the w
 * bytes at s, the row extended by its end bytes (pad: w + 2h bytes).
 * Returns 1 when a byte is set, 0 when rowsum is all 0. */
int lr_bg_row_count(const uint8_t *s, int64_t w, int64_t h, uint8_t *pad, uint16_t *rowsum);
/* out[x] = the sum of rowsum rows y - h .. y + h (clamped) at x; any: the
 * rows' results of lr_bg_row_count.  Returns 0 when out is all 0. */
int lr_bg_column_sum(const lowrank_background *bg, const uint16_t *rowsum, const uint8_t *any,
                     int64_t y, int64_t h, uint16_t *out);

/* bg_update.c: the band task of the update (after every band's mask). */
int lr_bg_update_band(void *bg, int64_t band, int thread);
#if defined LR_BG_AVX2 && !defined LR_BG_SUFFIX
int lr_bg_classify_band_avx2(void *bg, int64_t band, int thread);
int lr_bg_mask_band_avx2(void *bg, int64_t band, int thread);
int lr_bg_update_band_avx2(void *bg, int64_t band, int thread);
#endif

/* The first x >= from with flags[x] set, or w: a scan of sparse flags (the
 * changed pixels of a row), skipping 8 unset ones at a time. */
static inline int64_t lr_bg_next_set(const uint8_t *flags, int64_t from, int64_t w)
{
    int64_t x = from;
    for (uint64_t word; x + 8 <= w && (memcpy(&word, flags + x, 8), word == 0);)
        x += 8;
    while (x < w && !flags[x])
        x++;
    return x;
}

/* The rows of band b of the current frame. */
static inline void lr_bg_band(const lowrank_background *bg, int64_t b, int64_t *y0, int64_t *y1)
{
    *y0 = b * bg->band_rows;
    *y1 = *y0 + bg->band_rows < bg->height ? *y0 + bg->band_rows : bg->height;
}

#endif
