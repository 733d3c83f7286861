/*
 * bg_register.c - each frame's place against an adaptive background model
 * (lib/background.h): the coefficients (c, c0) of its background L c + c0,
 * which absorb a global change of light, and its global translation (dx,
 * dy), which absorbs a camera that drifts or shakes, fitted together and
 * robustly on a sample of pixels.
 *
 * The frame's pixel p shows the model's point p + d.  Linearised around the
 * shift d at which the basis was sampled, the model of a value is
 *
 *     sum_a c_a (L_a + dL_a/dx ex + dL_a/dy ey) + c0,     e = the shift's change,
 *
 * and a Gauss-Newton step solves for (c, c0, e) by weighted least squares
 * (the Lucas-Kanade registration of a frame against a low-rank model, as in
 * RASL and t-GRASTA, with the model's own coefficients in the same system).
 * Steps: least squares on the coefficients alone from the previous frame's
 * shift, then COEF_L1_STEPS joint IRLS steps towards the l1 fit (moving
 * objects do not pull it), then COEF_TRIM_STEPS joint least-squares steps on
 * the pixels under their thresholds.  When the shift has moved more than
 * REGATHER pixels from where the basis was sampled, it is sampled again.
 *
 * The sample: a grid of about COEF_SAMPLE pixels, for the coefficients, and,
 * when registering, the pixel of strongest gradient of the background in
 * each cell of the grid, for the shift (Lucas-Kanade is only informed by
 * gradients; taking one per cell spreads them over the frame).  A scene
 * without texture in some direction leaves the shift there where it was
 * (a ridge of SHIFT_RIDGE on the shift's change).
 *
 * Limits: translation only.  A rotation or a zoom of the camera is not
 * followed; it leaves a residual that grows with the distance from the
 * centre, which the thresholds then see.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "background.h"
#include "lp.h"

/* About this many grid cells: 512 pixels fit k + 3 numbers with a standard
 * error far under a grey level. */
#define COEF_SAMPLE 256
#define COEF_L1_STEPS 2
#define COEF_TRIM_STEPS 2
/* IRLS residual floor, grey levels. */
#define COEF_DELTA 0.5
/* Sample the basis again when the shift has moved this many pixels from
 * where it was sampled: the linearisation is good to about half a pixel. */
#define REGATHER 0.5
/* A Gauss-Newton step moves the shift by at most this many pixels. */
#define MAX_STEP 1.0
/* Ridge on the shift's change, per sample pixel: as if every pixel pulled
 * it to zero with a gradient of 0.1 grey level per pixel, nothing next to an
 * edge's tens. */
#define SHIFT_RIDGE 0.01
/* A jump of the camera is searched for up to this many whole pixels from
 * the last frame's shift (lr_bg_fit_frame)... */
#define SEARCH 4
/* ... when fewer edge pixels than this share match at the shift found, and
 * a whole-pixel shift must match this share more of them. */
#define SEARCH_BELOW 0.8
#define SEARCH_GAIN 0.1
/* The sample is gathered and summed in this many chunks, the tasks of
 * the model's threads: a chunk is a run of consecutive grid pixels and one
 * of edge pixels (each its share of the costlier edges).  Each chunk sums
 * its own normal equations and the chunks' sums are added in their order,
 * so the fit is the same for any number of threads. */
#define FIT_CHUNKS 8

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Floats gathered per sample value: the frame's value, then L_a, dL_a/dx,
 * dL_a/dy for each a; per sample pixel, first its threshold (negative when
 * it is registered outside the model). */
static int64_t per_value(int64_t k) { return 1 + 3 * k; }
static int64_t per_pixel(const lowrank_background *bg, int64_t k)
{
    return 1 + bg->channels * per_value(k);
}

/* Doubles of one chunk's sums (sums_of): the normal equations of the
 * coefficients (q * q, q), of the shift (4, 2), the counts (3), scratch (q);
 * rounded up to whole cache lines of 64 bytes, that chunks summed by two
 * threads do not share. */
static int64_t chunk_sums(int64_t q) { return (q * q + 2 * q + 9 + 7) / 8 * 8; }

/* Chunk `chunk`'s run of the grid pixels (part 0) or of the edge pixels
 * (part 1) of the sample: [*from, *to). */
static void chunk_run(const bg_model *m, int part, int64_t chunk, int64_t *from, int64_t *to)
{
    int64_t lo = part ? m->ngrid : 0, n = (part ? m->nsample : m->ngrid) - lo;
    *from = lo + n * chunk / FIT_CHUNKS;
    *to = lo + n * (chunk + 1) / FIT_CHUNKS;
}

typedef struct sums {
    double *a, *b, *as, *bs, *f, *count; /* count: used, valid, edges */
} sums;

static sums sums_of(const bg_model *m, int64_t chunk)
{
    int64_t q = m->rank + 1;
    uintptr_t first = (uintptr_t)(m->system + q * q + 3 * q);
    double *at = (double *)((first + 63) / 64 * 64) + chunk * chunk_sums(q);
    return (sums){at, at + q * q, at + q * q + q, at + q * q + q + 4, at + q * q + q + 6,
                  at + q * q + 2 * q + 6};
}

/* The luminance gradient's squared norm of the first basis column at the
 * interior pixel (x, y). */
static double gradient2(const lowrank_background *bg, const float *l, int64_t x, int64_t y)
{
    int64_t w = bg->width, c = bg->channels;
    double gx = 0, gy = 0;
    for (int64_t ch = 0; ch < c; ch++) {
        gx += l[(y * w + x + 1) * c + ch] - l[(y * w + x - 1) * c + ch];
        gy += l[((y + 1) * w + x) * c + ch] - l[((y - 1) * w + x) * c + ch];
    }
    return gx * gx + gy * gy;
}

/* The interior pixel of strongest gradient in the cell at (x0, y0), or -1. */
static int64_t strongest(const lowrank_background *bg, const float *l, int64_t x0, int64_t y0,
                         int64_t step)
{
    int64_t best = -1;
    double most = 0;
    for (int64_t y = y0 > 1 ? y0 : 1; y < y0 + step && y < bg->height - 1; y++)
        for (int64_t x = x0 > 1 ? x0 : 1; x < x0 + step && x < bg->width - 1; x++) {
            double g = gradient2(bg, l, x, y);
            if (g > most) {
                most = g;
                best = y * bg->width + x;
            }
        }
    return best;
}

int lr_bg_choose_sample(const lowrank_background *bg, bg_model *m)
{
    int64_t step = (int64_t)ceil(sqrt((double)bg->pixels / COEF_SAMPLE));
    int64_t cells = ((bg->height + step - 1) / step) * ((bg->width + step - 1) / step);
    int64_t most = cells * (bg->set.registration ? 2 : 1), k = m->rank, q = k + 1;
    m->sample = lr_malloc((size_t)most, sizeof *m->sample);
    m->gathered = m->sample ? lr_malloc((size_t)(most * per_pixel(bg, k)), sizeof *m->gathered)
                            : NULL;
    /* the normal equations (q * q + q), the last frame's coefficients and
     * the fitted ones (2 q), then each chunk's sums */
    m->system = m->gathered ? lr_malloc((size_t)(q * q + 3 * q + 8 + FIT_CHUNKS * chunk_sums(q)),
                                        sizeof *m->system)
                            : NULL;
    if (!m->system)
        return LOWRANK_ENOMEM;
    m->nsample = 0;
    for (int64_t y = 0; y < bg->height; y += step)
        for (int64_t x = 0; x < bg->width; x += step)
            m->sample[m->nsample++] = y * bg->width + x;
    m->ngrid = m->nsample;
    for (int64_t y = 0; bg->set.registration && y < bg->height; y += step)
        for (int64_t x = 0; x < bg->width; x += step) {
            int64_t edge = strongest(bg, m->basis, x, y, step);
            if (edge >= 0)
                m->sample[m->nsample++] = edge;
        }
    return LOWRANK_OK;
}

double lr_bg_bilinear(const lowrank_background *bg, const float *l, double sx, double sy,
                      int64_t ch)
{
    int64_t w = bg->width, h = bg->height, c = bg->channels;
    double fx = floor(sx), fy = floor(sy), wx = sx - fx, wy = sy - fy;
    int64_t x0 = clamp64((int64_t)fx, 0, w - 1), x1 = clamp64((int64_t)fx + 1, 0, w - 1);
    int64_t y0 = clamp64((int64_t)fy, 0, h - 1), y1 = clamp64((int64_t)fy + 1, 0, h - 1);
    return (1 - wy) * ((1 - wx) * l[(y0 * w + x0) * c + ch] + wx * l[(y0 * w + x1) * c + ch]) +
           wy * ((1 - wx) * l[(y1 * w + x0) * c + ch] + wx * l[(y1 * w + x1) * c + ch]);
}

/* Keys' cubic convolution kernel (a = -1/2) at the four taps around t in
 * [0, 1): weights w[0..3] for the taps at -1, 0, 1, 2, and their
 * derivatives dw in t.  Its bias in a sub-pixel shift is far smaller than
 * bilinear interpolation's, and its derivative is continuous, so that the
 * Gauss-Newton steps converge where the interpolated model is best. */
static void keys_weights(double t, double *w, double *dw)
{
    double a = -0.5, u[4] = {t + 1, t, 1 - t, 2 - t};
    for (int i = 0; i < 4; i++) {
        double x = u[i], sign = i < 2 ? 1 : -1; /* d|x|/dt */
        if (x <= 1) {
            w[i] = ((a + 2) * x - (a + 3)) * x * x + 1;
            dw[i] = sign * (3 * (a + 2) * x - 2 * (a + 3)) * x;
        } else {
            w[i] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
            dw[i] = sign * ((3 * a * x - 10 * a) * x + 8 * a);
        }
    }
}

/* Sampling the basis at the pixels of the sample shifted by d: the shift
 * is the same for every pixel, so are the weights; only the taps' offsets
 * (into a basis column, clamped to the image) depend on the pixel.  Cubic
 * convolution (4 x 4 taps: the value and the two derivatives) at the edges,
 * bilinear (2 x 2 taps, the value) on the grid. */
typedef struct taps {
    int64_t ix, iy;                  /* floor(d) */
    double w[16], wx[16], wy[16];    /* cubic: value, d/dx, d/dy */
    double b[4];                     /* bilinear */
} taps;

static void plan_taps(const double *d, taps *t)
{
    double fx = floor(d[0]), fy = floor(d[1]), ax[4], dax[4], ay[4], day[4];
    double u = d[0] - fx, v = d[1] - fy;
    t->ix = (int64_t)fx;
    t->iy = (int64_t)fy;
    keys_weights(u, ax, dax);
    keys_weights(v, ay, day);
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 4; i++) {
            t->w[4 * j + i] = ay[j] * ax[i];
            t->wx[4 * j + i] = ay[j] * dax[i];
            t->wy[4 * j + i] = day[j] * ax[i];
        }
    t->b[0] = (1 - u) * (1 - v);
    t->b[1] = u * (1 - v);
    t->b[2] = (1 - u) * v;
    t->b[3] = u * v;
}

/* The offsets of the n x n taps (n = 4: from -1, cubic; n = 2: from 0,
 * bilinear) of pixel (x, y). */
static void place_taps(const lowrank_background *bg, int64_t x, int64_t y, int n, const taps *t,
                       int64_t *at)
{
    int64_t w = bg->width, h = bg->height, c = bg->channels, first = n == 4 ? -1 : 0;
    for (int j = 0; j < n; j++) {
        int64_t yy = clamp64(y + t->iy + first + j, 0, h - 1);
        for (int i = 0; i < n; i++)
            at[n * j + i] = (yy * w + clamp64(x + t->ix + first + i, 0, w - 1)) * c;
    }
}

/* Channel ch of the basis column l and its gradient at the placed cubic
 * taps, into out[0..2]. */
static void cubic_at(const taps *t, const int64_t *at, const float *l, int64_t ch, float *out)
{
    double v = 0, gx = 0, gy = 0;
    for (int i = 0; i < 16; i++) {
        double x = l[at[i] + ch];
        v += t->w[i] * x;
        gx += t->wx[i] * x;
        gy += t->wy[i] * x;
    }
    out[0] = (float)v;
    out[1] = (float)gx;
    out[2] = (float)gy;
}

/* What the fit's chunk tasks read: the frame, and for the pass at hand
 * the shift's taps (gather), the step and the shift's change (normal
 * equations), or the whole-pixel offset (edges_within). */
typedef struct fit_job {
    lowrank_background *bg;
    const uint8_t *frame;
    int64_t stride;
    taps plan;
    int64_t rx, ry;
    int step;
    const double *e;
    int64_t ox, oy;
} fit_job;

/* Gather sample pixel i: the frame and the basis there, registered by the
 * planned shift: on the grid the basis's values (bilinear), at the edges
 * its values and gradients (cubic).  at: scratch of 16. */
static void gather_sample(const fit_job *job, int64_t i, int64_t *at)
{
    const lowrank_background *bg = job->bg;
    const bg_model *m = &bg->m;
    const taps *t = &job->plan;
    int64_t w = bg->width, h = bg->height, c = bg->channels, k = m->rank, pv = per_value(k);
    float *g = m->gathered + i * per_pixel(bg, k);
    int64_t x = m->sample[i] % w, y = m->sample[i] / w, qx = x + job->rx, qy = y + job->ry;
    if (qx < 0 || qx >= w || qy < 0 || qy >= h) {
        g[0] = -1;
        return;
    }
    g[0] = lr_bg_threshold(bg, qy * w + qx);
    int edge = i >= m->ngrid;
    place_taps(bg, x, y, edge ? 4 : 2, t, at);
    for (int64_t ch = 0; ch < c; ch++) {
        float *v = g + 1 + ch * pv;
        v[0] = job->frame[y * job->stride + x * c + ch];
        for (int64_t a = 0; a < k; a++) {
            const float *l = m->basis + a * bg->values;
            if (edge) {
                cubic_at(t, at, l, ch, v + 1 + 3 * a);
            } else { /* the coefficients need no gradient */
                v[1 + 3 * a] = (float)(t->b[0] * l[at[0] + ch] + t->b[1] * l[at[1] + ch] +
                                       t->b[2] * l[at[2] + ch] + t->b[3] * l[at[3] + ch]);
                v[2 + 3 * a] = v[3 + 3 * a] = 0;
            }
        }
    }
}

/* Gather, chunk of the sample (a task of the model's threads). */
static int gather_chunk(void *ctx, int64_t chunk, int thread)
{
    (void)thread;
    const fit_job *job = ctx;
    int64_t at[16], from, to;
    for (int part = 0; part < 2; part++) {
        chunk_run(&job->bg->m, part, chunk, &from, &to);
        for (int64_t i = from; i < to; i++)
            gather_sample(job, i, at);
    }
    return 0;
}

/* Sample the frame and the basis at the sample pixels registered by the
 * shift d. */
static void gather(fit_job *job, const double *d)
{
    plan_taps(d, &job->plan);
    job->rx = lrint(d[0]);
    job->ry = lrint(d[1]);
    lr_pool_run(job->bg->pool, FIT_CHUNKS, gather_chunk, job);
}

/* The model of sample value v (gathered) at the shift's change e. */
static double model_at(const float *v, const double *c, int64_t k, const double *e)
{
    double model = c[k];
    for (int64_t j = 0; j < k; j++)
        model += c[j] * (v[1 + 3 * j] + v[2 + 3 * j] * e[0] + v[3 + 3 * j] * e[1]);
    return model;
}

/* The weight of a sample pixel of mean square residual d2 and threshold t
 * in the given step: 1 (step 0), l1 (IRLS), or 1 under the threshold
 * (trimmed). */
static double weight(int step, double d2, double t)
{
    double delta2 = COEF_DELTA * COEF_DELTA;
    return step == 0 ? 1 : step > COEF_L1_STEPS ? d2 <= t : 1 / sqrt(d2 > delta2 ? d2 : delta2);
}

/* Sample pixel i's terms of the weighted normal equations of one step,
 * from the coefficients and the shift's change, added to s: the grid
 * pixels' for the coefficients (the k + 1 values c and c0: lower triangle of
 * a, right-hand side b), the edge pixels' for the shift's change (the
 * Gauss-Newton step with the coefficients fixed: the 2 x 2 as, bs), and the
 * counts: grid pixels of non-zero weight, grid pixels inside the model, edge
 * pixels inside. */
static void add_sample(const fit_job *job, int64_t i, const sums *s)
{
    const lowrank_background *bg = job->bg;
    const bg_model *m = &bg->m;
    const double *c = m->coef, *e = job->e;
    int64_t k = m->rank, ch = bg->channels, pv = per_value(k), q = k + 1;
    double r[3];
    const float *g = m->gathered + i * per_pixel(bg, k);
    int edge = i >= m->ngrid;
    if (g[0] < 0)
        return;
    s->count[edge ? 2 : 1] += 1;
    double d2 = 0;
    for (int64_t cc = 0; cc < ch; cc++) {
        const float *v = g + 1 + cc * pv;
        r[cc] = v[0] - model_at(v, c, k, e);
        d2 += r[cc] * r[cc];
    }
    double wgt = weight(job->step, d2 / (double)ch, g[0]);
    if (wgt == 0)
        return;
    s->count[0] += !edge;
    for (int64_t cc = 0; cc < ch; cc++) {
        const float *v = g + 1 + cc * pv;
        if (edge) { /* the residual, on the gradient of the model */
            double gx = 0, gy = 0;
            for (int64_t j = 0; j < k; j++) {
                gx += c[j] * v[2 + 3 * j];
                gy += c[j] * v[3 + 3 * j];
            }
            s->as[0] += wgt * gx * gx;
            s->as[2] += wgt * gy * gx;
            s->as[3] += wgt * gy * gy;
            s->bs[0] += wgt * r[cc] * gx;
            s->bs[1] += wgt * r[cc] * gy;
            continue;
        }
        /* the value, on the basis and the constant */
        s->f[k] = 1;
        for (int64_t j = 0; j < k; j++)
            s->f[j] = v[1 + 3 * j] + v[2 + 3 * j] * e[0] + v[3 + 3 * j] * e[1];
        for (int64_t rr = 0; rr < q; rr++) {
            s->b[rr] += wgt * v[0] * s->f[rr];
            for (int64_t t = 0; t <= rr; t++)
                s->a[rr * q + t] += wgt * s->f[rr] * s->f[t];
        }
    }
}

/* The normal equations of one step, chunk of the sample (a task of the
 * model's threads), into the chunk's sums. */
static int normal_equations_chunk(void *ctx, int64_t chunk, int thread)
{
    (void)thread;
    const fit_job *job = ctx;
    const bg_model *m = &job->bg->m;
    sums s = sums_of(m, chunk);
    int64_t from, to;
    memset(s.a, 0, (size_t)chunk_sums(m->rank + 1) * sizeof *s.a);
    for (int part = 0; part < 2; part++) {
        chunk_run(m, part, chunk, &from, &to);
        for (int64_t i = from; i < to; i++)
            add_sample(job, i, &s);
    }
    return 0;
}

/* The normal equations of step `step` at the shift's change e, summed over
 * the chunks in their order into a (q x q), b (q), as (2 x 2), bs (2).
 * Returns the number of grid pixels with a non-zero weight; *valid gets the
 * number inside the model, *edges the number of edge pixels inside. */
static int64_t normal_equations(fit_job *job, int step, const double *e, double *a, double *b,
                                double *as, double *bs, int64_t *valid, int64_t *edges)
{
    const bg_model *m = &job->bg->m;
    int64_t q = m->rank + 1;
    double count[3] = {0, 0, 0};
    job->step = step;
    job->e = e;
    lr_pool_run(job->bg->pool, FIT_CHUNKS, normal_equations_chunk, job);
    memset(a, 0, (size_t)(q * q) * sizeof *a);
    memset(b, 0, (size_t)q * sizeof *b);
    memset(as, 0, 4 * sizeof *as);
    memset(bs, 0, 2 * sizeof *bs);
    for (int64_t chunk = 0; chunk < FIT_CHUNKS; chunk++) {
        sums s = sums_of(m, chunk);
        for (int64_t i = 0; i < q * q; i++)
            a[i] += s.a[i];
        for (int64_t i = 0; i < q; i++)
            b[i] += s.b[i];
        for (int i = 0; i < 4; i++)
            as[i] += s.as[i];
        for (int i = 0; i < 2; i++)
            bs[i] += s.bs[i];
        for (int i = 0; i < 3; i++)
            count[i] += s.count[i];
    }
    *valid = (int64_t)count[1];
    *edges = (int64_t)count[2];
    return (int64_t)count[0];
}

/* Edges within, chunk of the sample: into the chunk's counts, the
 * number of its edge pixels inside the model at the job's offset, and of
 * those whose model, with the current coefficients, is within their
 * threshold. */
static int edges_within_chunk(void *ctx, int64_t chunk, int thread)
{
    (void)thread;
    const fit_job *job = ctx;
    const lowrank_background *bg = job->bg;
    const bg_model *m = &bg->m;
    int64_t w = bg->width, c = bg->channels, k = m->rank, within = 0, n = 0, from, to;
    chunk_run(m, 1, chunk, &from, &to);
    for (int64_t i = from; i < to; i++, n++) {
        int64_t x = m->sample[i] % w, y = m->sample[i] / w, qx = x + job->ox, qy = y + job->oy;
        if (qx < 0 || qx >= w || qy < 0 || qy >= bg->height)
            continue;
        double d2 = 0;
        for (int64_t ch = 0; ch < c; ch++) {
            double r = job->frame[y * job->stride + x * c + ch] - m->coef[k];
            for (int64_t a = 0; a < k; a++)
                r -= m->coef[a] * m->basis[a * bg->values + (qy * w + qx) * c + ch];
            d2 += r * r;
        }
        within += d2 / (double)c <= lr_bg_threshold(bg, qy * w + qx);
    }
    sums s = sums_of(m, chunk);
    s.count[0] = (double)within;
    s.count[1] = (double)n;
    return 0;
}

/* The share of the sample's edge pixels whose model, at the shift d plus
 * the whole pixels (tx, ty) and nearest, is within their threshold. */
static double edges_within(fit_job *job, const double *d, int64_t tx, int64_t ty)
{
    const bg_model *m = &job->bg->m;
    job->ox = lrint(d[0]) + tx;
    job->oy = lrint(d[1]) + ty;
    lr_pool_run(job->bg->pool, FIT_CHUNKS, edges_within_chunk, job);
    double within = 0, n = 0;
    for (int64_t chunk = 0; chunk < FIT_CHUNKS; chunk++) {
        sums s = sums_of(m, chunk);
        within += s.count[0];
        n += s.count[1];
    }
    return n ? within / n : 1;
}

/* The whole-pixel shift, by up to SEARCH pixels from d, at which most edge
 * pixels match the model with the current coefficients, into d, if
 * SEARCH_GAIN more of them match there than at d.  Returns 1 when d
 * changed. */
static int search_jump(fit_job *job, double *d)
{
    double best = edges_within(job, d, 0, 0) + SEARCH_GAIN;
    int64_t bx = 0, by = 0;
    for (int64_t ty = -SEARCH; ty <= SEARCH; ty++)
        for (int64_t tx = -SEARCH; tx <= SEARCH; tx++) {
            double share = tx || ty ? edges_within(job, d, tx, ty) : 0;
            if (share > best) {
                best = share;
                bx = tx;
                by = ty;
            }
        }
    d[0] += (double)bx;
    d[1] += (double)by;
    return bx || by;
}

static double clamp_shift(const lowrank_background *bg, double v)
{
    double limit = 0.25 * (double)(bg->width < bg->height ? bg->width : bg->height);
    return fmax(-limit, fmin(limit, v));
}

/* The fit from the shift d: COEF_L1_STEPS + COEF_TRIM_STEPS + 1 steps;
 * the shift found into d. */
static void fit_from(fit_job *job, double *d)
{
    lowrank_background *bg = job->bg;
    bg_model *m = &bg->m;
    int64_t k = m->rank, q = k + 1, valid, edges;
    double *a = m->system, *b = a + q * q, as[4], bs[2], e[2] = {0, 0};
    int regathered = 0, registration = bg->set.registration && m->nsample > m->ngrid;
    gather(job, d);
    for (int step = 0; step <= COEF_L1_STEPS + COEF_TRIM_STEPS; step++) {
        int64_t used = normal_equations(job, step, e, a, b, as, bs, &valid, &edges);
        /* too few background pixels to trust: keep the l1 fit */
        if (step > COEF_L1_STEPS && used * 10 < valid)
            break;
        /* a frame is never a negative image of the background */
        if (lr_small_spd_solve(q, a, b) && b[0] > 0)
            memcpy(m->coef, b, (size_t)q * sizeof *b);
        /* the shift from the l1 steps on: least squares moves it too far */
        if (!registration || step == 0)
            continue;
        as[0] += SHIFT_RIDGE * (double)edges;
        as[3] += SHIFT_RIDGE * (double)edges;
        if (!lr_small_spd_solve(2, as, bs))
            continue;
        double len = hypot(bs[0], bs[1]), scale = len > MAX_STEP ? MAX_STEP / len : 1;
        e[0] += scale * bs[0];
        e[1] += scale * bs[1];
        if (hypot(e[0], e[1]) > REGATHER && regathered < 2) {
            d[0] = clamp_shift(bg, d[0] + e[0]);
            d[1] = clamp_shift(bg, d[1] + e[1]);
            e[0] = e[1] = 0;
            gather(job, d);
            regathered++;
        }
    }
    d[0] = clamp_shift(bg, d[0] + e[0]);
    d[1] = clamp_shift(bg, d[1] + e[1]);
}

/* A camera that jumped by whole pixels since the last frame is not
 * followed by the Gauss-Newton steps (they converge within a pixel or two),
 * and at the wrong shift the coefficients fit what they can: when fewer than
 * SEARCH_BELOW of the edge pixels match the model after the fit, the
 * whole-pixel shifts around the last frame's are tried with the last
 * frame's coefficients, and the fit from the best one is kept if more edge
 * pixels match after it. */
void lr_bg_fit_frame(lowrank_background *bg, const uint8_t *frame, int64_t stride)
{
    bg_model *m = &bg->m;
    int64_t q = m->rank + 1;
    double *last = m->system + q * q + q, *fitted = last + q, d[2] = {m->shift[0], m->shift[1]};
    fit_job job = {.bg = bg, .frame = frame, .stride = stride};
    memcpy(last, m->coef, (size_t)q * sizeof *last);
    fit_from(&job, d);
    double share = edges_within(&job, d, 0, 0), jump[2] = {m->shift[0], m->shift[1]};
    if (bg->set.registration && m->nsample > m->ngrid && share < SEARCH_BELOW) {
        memcpy(fitted, m->coef, (size_t)q * sizeof *fitted);
        memcpy(m->coef, last, (size_t)q * sizeof *last);
        if (search_jump(&job, jump)) {
            fit_from(&job, jump);
            if (edges_within(&job, jump, 0, 0) > share)
                d[0] = jump[0], d[1] = jump[1];
            else
                memcpy(m->coef, fitted, (size_t)q * sizeof *fitted);
        } else {
            memcpy(m->coef, fitted, (size_t)q * sizeof *fitted);
        }
    }
    m->shift[0] = d[0];
    m->shift[1] = d[1];
}
