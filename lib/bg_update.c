/*
 * bg_update.c - the update of an adaptive background model after each
 * frame, over bands of the model's rows (lib/background.h).
 *
 * The model learns, in its own coordinates, from the frame registered onto
 * them by whole pixels (see registered_row): model pixel q learns from the
 * frame's pixel q - r, r the shift (dx, dy) rounded.  Each value takes a
 * normalised least-mean-squares step on its row of the basis,
 * L_q <- L_q + rate (x(q - r) - L_q c - c0) c^T / |c|^2, at the pixels that
 * teach the background:
 *
 *  - pixels judged background with no foreground within the median filter's
 *    reach (object borders blur into their neighbours), not shadows, and
 *    registered inside the frame; their noise levels track the running
 *    median of their residual (a step of 1 + NOISE_STEP x rate up when
 *    above, down when below);
 *  - pixels changed for LOWRANK_OPT_BG_ABSORB frames in a row or more: what
 *    stays put that long is the scene (a parked car, a ghost left by an
 *    object in the training frames, a change the model missed), absorbed at
 *    the update's pace; their noise levels are kept.
 *
 * A pixel's learning reads the frame's decisions at the frame pixel nearest
 * q - d, which the earlier passes wrote: bands are independent.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "background.h"

/* The noise tracker moves by a factor 1 + NOISE_STEP x update rate: a
 * median tracker only sees signs; its +-10% jitter at the default rate is
 * harmless to a threshold. */
#define NOISE_STEP 10.0

/* The learning limits of model row qy: limited[x] = 1 where model pixel x
 * may move by at most limit[x] grey levels in this frame (0 where nothing
 * is learnt), 0 where it learns freely (background); and the noise levels'
 * steps.  bgf: scratch of width floats.  Returns 0 when nothing in the row
 * learns. */
static int row_limits(lowrank_background *bg, int64_t qy, uint16_t *near, float *restrict limit,
                      uint8_t *restrict limited, float *restrict bgf)
{
    int64_t w = bg->width, rx = lrint(bg->m.shift[0]), py = qy - lrint(bg->m.shift[1]);
    int64_t h = bg->set.median / 2, lo = rx > 0 ? rx : 0, hi = w + (rx < 0 ? rx : 0);
    for (int64_t x = 0; x < w; x++)
        limit[x] = 0, limited[x] = 1;
    if (py < 0 || py >= bg->height || lo >= hi)
        return 0;
    lr_bg_column_sum(bg, bg->nearsum, bg->nearsum_any, py, h > 1 ? h : 1, near);
    /* locals, restrict, one type a loop: the loops vectorise */
    const uint8_t *restrict shade = bg->shade + py * w - rx, *restrict out = bg->outside + py * w - rx;
    const uint16_t *restrict nr = near - rx;
    const float *restrict dist = bg->dist + py * w - rx;
    float *restrict noise = bg->m.noise + qy * w;
    float up = (float)(1 + NOISE_STEP * bg->set.rate), down = 1 / up;
    float pace = bg->set.absorb > 0 ? (float)(1.0 / (double)bg->set.absorb) : 0;
    float floor = (float)bg->m.floor, fixed = (float)bg->set.threshold;
    int adaptive = bg->set.threshold_mode != LOWRANK_BG_THRESHOLD_FIXED;
    float scale = pace * (float)(adaptive ? bg->set.sensitivity : 1);
    for (int64_t x = lo; x < hi; x++)
        limited[x] = nr[x] != 0;
    for (int64_t x = lo; x < hi; x++)
        limited[x] = limited[x] | shade[x] | out[x];
    /* a changed pixel's pace, in grey levels a frame; 0 outside */
    if (adaptive)
        for (int64_t x = lo; x < hi; x++)
            limit[x] = scale * sqrtf(noise[x] > floor ? noise[x] : floor);
    else
        for (int64_t x = lo; x < hi; x++)
            limit[x] = scale * fixed;
    for (int64_t x = lo; x < hi; x++)
        limit[x] = out[x] ? 0 : limit[x];
    /* the background pixels' noise levels move */
    for (int64_t x = lo; x < hi; x++)
        bgf[x] = (float)(1 - limited[x]);
    for (int64_t x = lo; x < hi; x++) {
        float n = noise[x], step = dist[x] > n ? up : down;
        noise[x] = n + bgf[x] * (n * step - n);
    }
    return 1;
}

/* The residual x(q - r) - L_q c - c0 of model row qy against the frame
 * moved onto the model by the whole pixels of its shift, (dx, dy) rounded
 * (model pixel q learns from frame pixel q - r), times rate, into e; 0
 * where no frame pixel is.
 *
 * Whole pixels, not the interpolated frame, because of what the update does
 * to the registration: learning a frame interpolated at a fractional shift
 * moves the model's content away from the camera, and the shifts estimated
 * against it grow without bound (measured: a frame shifted by 0.4 pixel,
 * estimated 0.45, then 0.9 after 600 frames).  Learning at whole pixels,
 * the model takes up the fraction of a pixel instead, and the frames'
 * shifts against it go to zero: a camera that has drifted is followed, and
 * the comparison stays registered to a fraction of a pixel. */
static void residual_row(const lowrank_background *bg, int64_t qy, float rate, float *restrict e)
{
    const bg_model *m = &bg->m;
    int64_t w = bg->width, c = bg->channels, row = w * c, k = m->rank, rx = lrint(m->shift[0]);
    int64_t py = qy - lrint(m->shift[1]), lo = (rx > 0 ? rx : 0) * c;
    int64_t hi = (w + (rx < 0 ? rx : 0)) * c;
    const uint8_t *restrict src = bg->frame + py * bg->stride - rx * c;
    const float *restrict l = m->basis + qy * row;
    float c0 = (float)m->coef[k], c1 = (float)m->coef[0];
    for (int64_t i = 0; i < lo; i++)
        e[i] = 0;
    for (int64_t i = hi; i < row; i++)
        e[i] = 0;
    if (k == 1) { /* the default rank, in one pass */
        for (int64_t i = lo; i < hi; i++)
            e[i] = rate * ((float)src[i] - c0 - l[i] * c1);
        return;
    }
    for (int64_t i = lo; i < hi; i++)
        e[i] = (float)src[i] - c0;
    for (int64_t a = 0; a < k; a++) {
        const float *restrict la = m->basis + a * bg->values + qy * row;
        float ca = (float)m->coef[a];
        for (int64_t i = lo; i < hi; i++)
            e[i] -= la[i] * ca;
    }
    for (int64_t i = lo; i < hi; i++)
        e[i] *= rate;
}

/* The steps e of the limited pixels of a row (the few: changed pixels and
 * their neighbours), within their limits. */
static void limit_steps(int64_t w, int64_t c, const uint8_t *limited, const float *limit,
                        float *e)
{
    for (int64_t x = lr_bg_next_set(limited, 0, w); x < w; x = lr_bg_next_set(limited, x + 1, w))
        for (int64_t ch = 0; ch < c; ch++) {
            float v = e[x * c + ch];
            e[x * c + ch] = v > limit[x] ? limit[x] : v < -limit[x] ? -limit[x] : v;
        }
}

int lr_bg_update_band(void *ctx, int64_t band, int thread)
{
    lowrank_background *bg = ctx;
    bg_model *m = &bg->m;
    bg_scratch *s = &bg->scratch[thread];
    int64_t y0, y1, w = bg->width, c = bg->channels, row = w * c, k = m->rank;
    double rate = bg->set.rate, cc = 0;
    if (bg->applied < bg->set.warmup)
        rate = fmax(rate, 1.0 / (double)(bg->applied + 1));
    for (int64_t a = 0; a < k; a++)
        cc += m->coef[a] * m->coef[a];
    if (!(cc > 0))
        return 0;
    lr_bg_band(bg, band, &y0, &y1);
    for (int64_t qy = y0; qy < y1; qy++) {
        if (!row_limits(bg, qy, s->near, s->learn, s->flag, s->row2))
            continue;
        float *restrict e = s->row;
        residual_row(bg, qy, (float)rate, e);
        limit_steps(w, c, s->flag, s->learn, e);
        for (int64_t a = 0; a < k; a++) {
            float g = (float)(m->coef[a] / cc), *restrict l = m->basis + a * bg->values + qy * row;
            for (int64_t i = 0; i < row; i++)
                l[i] += g * e[i];
        }
    }
    return 0;
}
