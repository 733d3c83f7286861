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

#include "background.h"

/* The noise tracker moves by a factor 1 + NOISE_STEP x update rate: a
 * median tracker only sees signs; its +-10% jitter at the default rate is
 * harmless to a threshold. */
#define NOISE_STEP 10.0

/* The learning limits of model row qy into limit (the most a value may
 * move in this frame, grey levels), and the noise levels' steps.  Returns 0
 * when nothing in the row learns. */
static int row_limits(lowrank_background *bg, int64_t qy, uint16_t *near, float *limit)
{
    int64_t w = bg->width, rx = lrint(bg->m.shift[0]), py = qy - lrint(bg->m.shift[1]);
    for (int64_t x = 0; x < w; x++)
        limit[x] = 0;
    if (py < 0 || py >= bg->height)
        return 0;
    int64_t h = bg->set.median / 2, lo = rx > 0 ? rx : 0, hi = w + (rx < 0 ? rx : 0);
    lr_bg_column_sum(bg, bg->nearsum, py, h > 1 ? h : 1, near);
    const uint8_t *shade = bg->shade + py * w - rx, *outside = bg->outside + py * w - rx;
    const uint16_t *nr = near - rx;
    const float *dist = bg->dist + py * w - rx;
    float *noise = bg->m.noise + qy * w;
    float up = (float)(1 + NOISE_STEP * bg->set.rate), down = 1 / up;
    float pace = bg->set.absorb > 0 ? (float)(1.0 / (double)bg->set.absorb) : 0;
    for (int64_t x = lo; x < hi; x++) {
        int background = !nr[x] && !shade[x] && !outside[x];
        if (background)
            noise[x] *= dist[x] > noise[x] ? up : down;
        limit[x] = outside[x]  ? 0
                   : background ? FLT_MAX
                                : pace * sqrtf(lr_bg_threshold(bg, qy * w + x));
    }
    return lo < hi;
}

/* Row qy of the frame moved onto the model by the whole pixels of its
 * shift, (dx, dy) rounded: model pixel q learns from frame pixel q - r.
 * Values with no frame pixel are 0 (their limit is 0).
 *
 * Whole pixels, not the interpolated frame, because of what the update does
 * to the registration: learning a frame interpolated at a fractional shift
 * moves the model's content away from the camera, and the shifts estimated
 * against it grow without bound (measured: a frame shifted by 0.4 pixel,
 * estimated 0.45, then 0.9 after 600 frames).  Learning at whole pixels,
 * the model takes up the fraction of a pixel instead, and the frames'
 * shifts against it go to zero: a camera that has drifted is followed, and
 * the comparison stays registered to a fraction of a pixel. */
static void registered_row(const lowrank_background *bg, int64_t qy, float *e)
{
    int64_t w = bg->width, c = bg->channels, rx = lrint(bg->m.shift[0]);
    int64_t py = qy - lrint(bg->m.shift[1]), lo = rx > 0 ? rx : 0, hi = w + (rx < 0 ? rx : 0);
    const uint8_t *src = bg->frame + py * bg->stride - rx * c;
    for (int64_t i = 0; i < lo * c; i++)
        e[i] = 0;
    for (int64_t i = lo * c; i < hi * c; i++)
        e[i] = src[i];
    for (int64_t i = hi * c; i < w * c; i++)
        e[i] = 0;
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
    float c0 = (float)m->coef[k], r = (float)rate;
    lr_bg_band(bg, band, &y0, &y1);
    for (int64_t qy = y0; qy < y1; qy++) {
        if (!row_limits(bg, qy, s->near, s->learn))
            continue;
        /* the step of each value: rate x the residual of the frame moved by
         * the whole pixels of its shift, within the pixel's limit */
        float *restrict e = s->row;
        registered_row(bg, qy, e);
        for (int64_t i = 0; i < row; i++)
            e[i] -= c0;
        for (int64_t a = 0; a < k; a++) {
            const float *l = m->basis + a * bg->values + qy * row;
            float ca = (float)m->coef[a];
            for (int64_t i = 0; i < row; i++)
                e[i] -= l[i] * ca;
        }
        for (int64_t x = 0; x < w; x++)
            for (int64_t ch = 0; ch < c; ch++) {
                float lim = s->learn[x], step = r * e[x * c + ch];
                e[x * c + ch] = step > lim ? lim : step < -lim ? -lim : step;
            }
        for (int64_t a = 0; a < k; a++) {
            float g = (float)(m->coef[a] / cc);
            float *restrict l = m->basis + a * bg->values + qy * row;
            for (int64_t i = 0; i < row; i++)
                l[i] += g * e[i];
        }
    }
    return 0;
}
