/*
 * bg_masks.c - the per-frame passes of a background model over bands of
 * image rows (lib/background.h): each pixel's residual against the
 * registered background and its threshold, the comparison with the
 * background half a pixel away, the shadow test, then the median filter of
 * the mask and the mask itself.
 *
 * Every pass computes each pixel from inputs that no pass of the same phase
 * writes, so the result does not depend on how rows are split into bands,
 * nor on which thread takes a band.  The loops over whole rows are written
 * to vectorise (the Makefile compiles this file with -ftree-vectorize).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "background.h"

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ------------------------------------------------------------ interpolation */

/* out = offset + scale x the bilinear interpolation of a row at a shift,
 * or out += that when accumulate: rows r0 and r1 of an image of w pixels of
 * c channels, weights wy (r1) and wx (the next column), columns shifted by
 * ix.  Columns whose four neighbours are inside the image take the
 * vectorised loop; the few at either end clamp their neighbours to the
 * image.  Inline, so that each call's accumulate is a constant. */
static inline void shifted_row(const float *r0, const float *r1, int64_t w, int64_t c, int64_t ix,
                               float wx, float wy, float scale, float offset, int accumulate,
                               float *restrict out)
{
    float a00 = scale * (1 - wx) * (1 - wy), a01 = scale * wx * (1 - wy);
    float a10 = scale * (1 - wx) * wy, a11 = scale * wx * wy;
    int64_t lo = clamp64(-ix, 0, w), hi = clamp64(w - 1 - ix, lo, w);
    const float *s0 = r0 + ix * c, *s1 = r1 + ix * c;
    for (int64_t i = lo * c; i < hi * c; i++)
        out[i] = (accumulate ? out[i] : offset) + a00 * s0[i] + a01 * s0[i + c] + a10 * s1[i] +
                 a11 * s1[i + c];
    for (int64_t x = 0; x < w; x++) {
        if (x == lo)
            x = hi;
        if (x >= w)
            break;
        int64_t xa = clamp64(x + ix, 0, w - 1) * c, xb = clamp64(x + ix + 1, 0, w - 1) * c;
        for (int64_t ch = 0; ch < c; ch++)
            out[x * c + ch] = (accumulate ? out[x * c + ch] : offset) + a00 * r0[xa + ch] +
                              a01 * r0[xb + ch] + a10 * r1[xa + ch] + a11 * r1[xb + ch];
    }
}

/* The source rows and weights of row y at (dy) and the column shift. */
typedef struct shift_plan {
    int64_t y0, y1, ix;
    float wx, wy;
} shift_plan;

static shift_plan plan_shift(const lowrank_background *bg, int64_t y, double dx, double dy)
{
    double fx = floor(dx), fy = floor(dy);
    int64_t iy = (int64_t)fy;
    return (shift_plan){clamp64(y + iy, 0, bg->height - 1), clamp64(y + iy + 1, 0, bg->height - 1),
                        (int64_t)fx, (float)(dx - fx), (float)(dy - fy)};
}

void lr_bg_shifted_row(const lowrank_background *bg, const float *src, int64_t y, double dx,
                       double dy, float scale, float offset, int accumulate, float *restrict out)
{
    int64_t row = bg->width * bg->channels, w = bg->width, c = bg->channels;
    shift_plan p = plan_shift(bg, y, dx, dy);
    const float *restrict r0 = src + p.y0 * row, *r1 = src + p.y1 * row;
    if (p.wx == 0 && p.wy == 0 && p.ix == 0) { /* the row itself, faster */
        if (accumulate)
            for (int64_t i = 0; i < row; i++)
                out[i] += scale * r0[i];
        else
            for (int64_t i = 0; i < row; i++)
                out[i] = offset + scale * r0[i];
    } else if (accumulate)
        shifted_row(r0, r1, w, c, p.ix, p.wx, p.wy, scale, 0, 1, out);
    else
        shifted_row(r0, r1, w, c, p.ix, p.wx, p.wy, scale, offset, 0, out);
}

/* ------------------------------------------------------------ classify */

/* The background of image row y into b (width x channels values): the
 * seed's m + U c, or the adaptive model's L c + c0 at the frame's shift. */
static void background_row(const lowrank_background *bg, int64_t y, float *b)
{
    const bg_model *m = &bg->m;
    int64_t row = bg->width * bg->channels;
    if (m->mean) {
        memcpy(b, m->mean + y * row, (size_t)row * sizeof *b);
        for (int64_t a = 0; a < m->rank; a++) {
            const float *u = m->basis + a * bg->values + y * row;
            float ca = (float)m->coef[a];
            for (int64_t i = 0; i < row; i++)
                b[i] += u[i] * ca;
        }
        return;
    }
    for (int64_t a = 0; a < m->rank; a++)
        lr_bg_shifted_row(bg, m->basis + a * bg->values, y, m->shift[0], m->shift[1],
                          (float)m->coef[a], (float)m->coef[m->rank], a > 0, b);
}

/* Each pixel's mean square residual over channels into dist (e2: scratch of
 * width x channels): the squares first, over the values as stored, then
 * their sums by pixel, so that both loops are simple enough to vectorise. */
static void row_distances(const lowrank_background *bg, const uint8_t *restrict x,
                          const float *restrict b, float *restrict e2, float *restrict dist)
{
    int64_t w = bg->width, c = bg->channels;
    for (int64_t i = 0; i < w * c; i++) {
        float e = (float)x[i] - b[i];
        e2[i] = e * e;
    }
    if (c == 1) {
        memcpy(dist, e2, (size_t)w * sizeof *dist);
        return;
    }
    for (int64_t i = 0; i + 2 < 3 * w; i++) /* e2[i] + e2[i + 1] + e2[i + 2] at every i */
        e2[i] += e2[i + 1] + e2[i + 2];
    for (int64_t px = 0; px < w; px++)
        dist[px] = e2[3 * px] * (1.0f / 3);
}

/* The threshold decisions of row y into raw, and outside.  Pixel x is
 * compared with the noise level of the model's pixel nearest its registered
 * position, (x + rx, y + ry); pixels registered outside the model are not
 * compared. */
static void row_decisions(const lowrank_background *bg, int64_t y, const float *restrict dist,
                          uint8_t *restrict raw, uint8_t *restrict outside)
{
    int64_t w = bg->width;
    for (int64_t x = 0; x < w; x++)
        outside[x] = 0;
    if (bg->set.threshold_mode == LOWRANK_BG_THRESHOLD_FIXED) {
        float t = lr_bg_threshold(bg, 0);
        for (int64_t x = 0; x < w; x++)
            raw[x] = dist[x] > t;
    }
    if (!bg->m.noise) /* the seed mode: fixed threshold, no registration */
        return;
    int64_t rx = lrint(bg->m.shift[0]), ry = lrint(bg->m.shift[1]), qy = y + ry;
    int64_t lo = clamp64(-rx, 0, w), hi = clamp64(w - rx, lo, w);
    if (qy < 0 || qy >= bg->height)
        lo = hi = 0;
    if (bg->set.threshold_mode != LOWRANK_BG_THRESHOLD_FIXED) {
        const float *noise = bg->m.noise + qy * w + rx;
        float s2 = (float)(bg->set.sensitivity * bg->set.sensitivity), floor = (float)bg->m.floor;
        for (int64_t x = lo; x < hi; x++)
            raw[x] = dist[x] > s2 * (noise[x] > floor ? noise[x] : floor);
    }
    for (int64_t x = 0; x < lo; x++)
        raw[x] = 0, outside[x] = 1;
    for (int64_t x = hi; x < w; x++)
        raw[x] = 0, outside[x] = 1;
}

/* A changed pixel that matches, within its threshold t (mean square), the
 * background half a pixel away in one of the 8 directions (the mean of its
 * own background and a neighbour's) is background: an edge of the scene
 * that moved by a fraction of a pixel is not an object (a registration left
 * imperfect, a camera that turned a little, a shadow's edge creeping with
 * the sun, leaves or water that sway).  b[0..2] are the background rows y -
 * 1, y, y + 1 (clamped to the image). */
static int matches_neighbour(const lowrank_background *bg, int64_t px, const uint8_t *xv,
                             const float *const *b, float t)
{
    int64_t w = bg->width, c = bg->channels, l = px > 0 ? px - 1 : 0, r = px + 1 < w ? px + 1 : w - 1;
    /* the 8 neighbours, clamped at the image's ends (the pixel itself then,
     * which does not match: it is changed) */
    const float *n[8] = {b[0] + l * c, b[0] + px * c, b[0] + r * c, b[1] + l * c,
                         b[1] + r * c, b[2] + l * c,  b[2] + px * c, b[2] + r * c};
    const float *own = b[1] + px * c;
    float limit = t * (float)c;
    if (c == 3) { /* unrolled: this test runs on every changed pixel */
        float o0 = 0.5f * own[0] - xv[0], o1 = 0.5f * own[1] - xv[1], o2 = 0.5f * own[2] - xv[2];
        for (int i = 0; i < 8; i++) {
            float d0 = o0 + 0.5f * n[i][0], d1 = o1 + 0.5f * n[i][1], d2 = o2 + 0.5f * n[i][2];
            if (d0 * d0 + d1 * d1 + d2 * d2 <= limit)
                return 1;
        }
        return 0;
    }
    float o = 0.5f * own[0] - xv[0];
    for (int i = 0; i < 8; i++) {
        float d = o + 0.5f * n[i][0];
        if (d * d <= limit)
            return 1;
    }
    return 0;
}

/* A changed pixel x of brightness ratio a = x.b / b.b to its background b
 * in [LOWRANK_OPT_BG_SHADOW_RATIO, 1), whose colour differs from a b by no
 * more than its threshold t scaled by a (the noise of a darker pixel is
 * smaller), is like a shadow: darker, of the same chromaticity (Horprasert
 * et al. 1999; OpenCV's MOG2 makes the same test).
 *
 * A channel whose background is within its threshold (sqrt t) of full scale
 * may be clipped: the sensor gave 255 for a brighter true value (sunlit
 * grass is 255 in red and green).  A shadow darkens the true value, so such
 * a channel can stay near 255 while the others darken.  The ratio a is then
 * measured on the other channels, and a clipped channel only has to be no
 * darker than a times its background.  When every channel may be clipped, a
 * shadow darkens by at most the least of their ratios, and that is a. */
static int like_shadow(const lowrank_background *bg, const uint8_t *xv, const float *bv, float t)
{
    float full = 255 - sqrtf(t), xb = 0, bb = 0, least = FLT_MAX;
    int clipped[3], unclipped = 0;
    for (int ch = 0; ch < 3; ch++) {
        clipped[ch] = bv[ch] >= full && bv[ch] > 0;
        unclipped += !clipped[ch];
        xb += clipped[ch] ? 0 : xv[ch] * bv[ch];
        bb += clipped[ch] ? 0 : bv[ch] * bv[ch];
        least = clipped[ch] ? fminf(least, xv[ch] / bv[ch]) : least;
    }
    float lo = (float)bg->set.shadow_ratio;
    if (!unclipped)
        return least >= lo && least < 1;
    if (!(bb > 0))
        return 0;
    float a = xb / bb, e2 = 0;
    if (a < lo || a >= 1)
        return 0;
    for (int ch = 0; ch < 3; ch++) {
        float e = xv[ch] - a * bv[ch];
        e = clipped[ch] && e > 0 ? 0 : e;
        e2 += e * e;
    }
    return e2 * (1.0f / 3) <= a * a * t;
}

/* The changed pixels of row y (raw), one by one (they are few): those that
 * match the background half a pixel away become background, those like a
 * shadow move from raw to shade. */
static void row_changed(const lowrank_background *bg, int64_t y, const uint8_t *x,
                        const float *const *b, int neighbours, int shadows, uint8_t *raw,
                        uint8_t *shade)
{
    int64_t w = bg->width, c = bg->channels, rx = lrint(bg->m.shift[0]);
    int64_t qy = y + lrint(bg->m.shift[1]);
    for (int64_t px = lr_bg_next_set(raw, 0, w); px < w; px = lr_bg_next_set(raw, px + 1, w)) {
        float t = lr_bg_threshold(bg, qy * w + px + rx);
        const uint8_t *xv = x + px * c;
        if (neighbours && matches_neighbour(bg, px, xv, b, t))
            raw[px] = 0;
        else if (shadows && like_shadow(bg, xv, b[1] + px * c, t))
            raw[px] = 0, shade[px] = 1;
    }
}

static int detects_shadows(const lowrank_background *bg)
{
    return bg->m.noise && bg->channels == 3 && bg->set.shadows != LOWRANK_BG_SHADOWS_OFF;
}

int lr_bg_classify_band(void *ctx, int64_t band, int thread)
{
    lowrank_background *bg = ctx;
    bg_scratch *s = &bg->scratch[thread];
    int64_t y0, y1, w = bg->width, h = bg->set.median / 2, row = w * bg->channels;
    int shadows = detects_shadows(bg), neighbours = bg->m.noise && bg->set.neighbours;
    lr_bg_band(bg, band, &y0, &y1);
    /* the background rows y - 1, y, y + 1 in a ring of three (one when the
     * neighbours are not compared) */
    float *ring[3] = {s->rows, s->rows + row, s->rows + 2 * row};
    if (neighbours)
        background_row(bg, y0 > 0 ? y0 - 1 : 0, ring[(y0 + 2) % 3]);
    background_row(bg, y0, ring[y0 % 3]);
    for (int64_t y = y0; y < y1; y++) {
        const uint8_t *x = bg->frame + y * bg->stride;
        uint8_t *raw = bg->raw + y * w, *shade = bg->shade + y * w;
        float *b = ring[y % 3], *next = ring[(y + 1) % 3];
        if (neighbours)
            background_row(bg, y + 1 < bg->height ? y + 1 : y, next);
        row_distances(bg, x, b, s->row, bg->dist + y * w);
        row_decisions(bg, y, bg->dist + y * w, raw, bg->outside + y * w);
        const float *around[3] = {ring[(y + 2) % 3], b, next};
        memset(shade, 0, (size_t)w);
        if (neighbours || shadows)
            row_changed(bg, y, x, around, neighbours, shadows, raw, shade);
        if (h > 0)
            bg->rowsum_any[y] = (uint8_t)lr_bg_row_count(raw, w, h, s->pad, bg->rowsum + y * w);
        if (h > 0 && shadows)
            bg->shadesum_any[y] =
                (uint8_t)lr_bg_row_count(shade, w, h, s->pad, bg->shadesum + y * w);
        if (!neighbours && y + 1 < y1)
            background_row(bg, y + 1, next);
    }
    return 0;
}

/* ------------------------------------------------------------ masks */

/* Windows up to this half-width are summed directly (vectorised, 2 h + 1
 * adds a pixel); wider ones by a running sum (sequential, 2 a pixel). */
#define DIRECT_SUM 8

int lr_bg_row_count(const uint8_t *s, int64_t w, int64_t h, uint8_t *pad, uint16_t *rowsum)
{
    if (lr_bg_next_set(s, 0, w) == w) { /* most rows of most frames */
        memset(rowsum, 0, (size_t)w * sizeof *rowsum);
        return 0;
    }
    memset(pad, s[0], (size_t)h);
    memcpy(pad + h, s, (size_t)w);
    memset(pad + h + w, s[w - 1], (size_t)h);
    if (h <= DIRECT_SUM) {
        uint16_t *restrict out = rowsum;
        const uint8_t *restrict p = pad;
        for (int64_t x = 0; x < w; x++)
            out[x] = p[x];
        for (int64_t d = 1; d <= 2 * h; d++)
            for (int64_t x = 0; x < w; x++)
                out[x] = (uint16_t)(out[x] + p[x + d]);
        return 1;
    }
    unsigned acc = 0;
    for (int64_t d = 0; d < 2 * h; d++)
        acc += pad[d];
    for (int64_t x = 0; x < w; x++) {
        acc += pad[x + 2 * h];
        rowsum[x] = (uint16_t)acc;
        acc -= pad[x];
    }
    return 1;
}

int lr_bg_column_sum(const lowrank_background *bg, const uint16_t *rowsum, const uint8_t *any,
                     int64_t y, int64_t h, uint16_t *restrict out)
{
    int64_t w = bg->width, first = 1;
    for (int64_t d = -h; d <= h; d++) {
        int64_t yy = clamp64(y + d, 0, bg->height - 1);
        const uint16_t *restrict add = rowsum + yy * w;
        if (!any[yy])
            continue;
        if (first)
            memcpy(out, add, (size_t)w * sizeof *out);
        else
            for (int64_t x = 0; x < w; x++)
                out[x] = (uint16_t)(out[x] + add[x]);
        first = 0;
    }
    if (first)
        memset(out, 0, (size_t)w * sizeof *out);
    return !first;
}

/* The filtered row y into filtered and the caller's mask.  A pixel is
 * changed when most pixels of the median filter's square are (a majority
 * vote, the frame extended by its border); a changed pixel is a shadow when
 * every changed pixel of its square is like a shadow, and foreground
 * otherwise: a cast shadow is a region of such pixels, while dark grey
 * patches of an object (clothes, tyres, windows) pass the pixel test but lie
 * beside pixels that do not.  Mask: 255 foreground, 127 a shadow when
 * shadows are marked, 0. */
static void filter_row(const lowrank_background *bg, bg_scratch *s, int64_t y, int shadows)
{
    int64_t w = bg->width, size = bg->set.median, h = size / 2;
    uint8_t *restrict filtered = bg->filtered + y * w, *restrict mask = bg->mask + y * bg->mask_stride;
    uint8_t shadow_value = bg->set.shadows == LOWRANK_BG_SHADOWS_MARK ? 127 : 0;
    if (h == 0) { /* no filter */
        const uint8_t *raw = bg->raw + y * w, *shade = bg->shade + y * w;
        for (int64_t x = 0; x < w; x++) {
            filtered[x] = raw[x];
            mask[x] = (uint8_t)((0 - raw[x]) | (shade[x] ? shadow_value : 0));
        }
        return;
    }
    unsigned majority = (unsigned)(size * size / 2 + 1);
    const uint16_t *restrict fg = s->count, *restrict sh = s->count2;
    int any = lr_bg_column_sum(bg, bg->rowsum, bg->rowsum_any, y, h, s->count);
    if (shadows)
        any |= lr_bg_column_sum(bg, bg->shadesum, bg->shadesum_any, y, h, s->count2);
    if (!any) { /* nothing changed around the row */
        memset(filtered, 0, (size_t)w);
        memset(mask, 0, (size_t)w);
        return;
    }
    if (!shadows) {
        for (int64_t x = 0; x < w; x++)
            filtered[x] = fg[x] >= majority;
        for (int64_t x = 0; x < w; x++)
            mask[x] = (uint8_t)(0 - filtered[x]);
        return;
    }
    for (int64_t x = 0; x < w; x++) {
        unsigned changed = (unsigned)fg[x] + sh[x] >= majority, object = fg[x] > 0;
        filtered[x] = (uint8_t)(changed & object);
        mask[x] = (uint8_t)((0 - filtered[x]) | ((changed & !object) ? shadow_value : 0));
    }
}

/* The filtered row and mask, and the running sums of the filtered row that
 * the update's "near foreground" test adds up. */
int lr_bg_mask_band(void *ctx, int64_t band, int thread)
{
    lowrank_background *bg = ctx;
    bg_scratch *s = &bg->scratch[thread];
    int64_t y0, y1, w = bg->width, h = bg->set.median / 2;
    int shadows = detects_shadows(bg);
    lr_bg_band(bg, band, &y0, &y1);
    for (int64_t y = y0; y < y1; y++) {
        filter_row(bg, s, y, shadows);
        bg->nearsum_any[y] = (uint8_t)lr_bg_row_count(bg->filtered + y * w, w, h > 1 ? h : 1,
                                                      s->pad, bg->nearsum + y * w);
    }
    return 0;
}
