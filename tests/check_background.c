/*
 * check_background.c - PCA background models, on frames synthesised with a
 * known background and known moving blocks: exact masks, the background
 * read back, robustness to objects in every training frame, strides, 1 and 3
 * channels, global illumination changes, the update, the seed mode against
 * an eigenbackground computed here through LAPACK, the median filter against
 * a naive one, and every error path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"
#include "testutil.h"

enum { W = 40, H = 30, NTRAIN = 16 };

/* A synthetic scene: a textured background, blocks of a colour far from
 * it, small noise, a global gain and offset. */
typedef struct scene {
    int64_t channels, stride; /* stride >= W * channels */
    double noise;             /* uniform in [-noise, noise] */
    double gain, offset;
    double lamp; /* added to the lamp's region, the bottom left corner */
} scene;

static int in_lamp(int64_t x, int64_t y) { return x < 12 && y >= 18; }

/* The background value of pixel (x, y), channel c: a smooth gradient plus
 * a texture, between 60 and 180. */
static double background_value(int64_t x, int64_t y, int64_t c)
{
    return 100 + 30 * sin(0.3 * (double)x + (double)c) * cos(0.2 * (double)y) +
           (double)((x * 7 + y * 13 + c * 5) % 17) + 0.5 * (double)c;
}

/* A block: top-left (bx, by), size bw x bh.  Its colour is 240 where the
 * background is below 120 and 10 elsewhere: at least 60 away. */
typedef struct block {
    int64_t bx, by, bw, bh;
} block;

static int inside(const block *b, int nb, int64_t x, int64_t y)
{
    for (int i = 0; i < nb; i++)
        if (x >= b[i].bx && x < b[i].bx + b[i].bw && y >= b[i].by && y < b[i].by + b[i].bh)
            return 1;
    return 0;
}

/* A frame of the scene with the blocks, in a new buffer of H rows of
 * sc->stride bytes, the padding filled with 0xAB. */
static uint8_t *make_frame(const scene *sc, const block *b, int nb, uint64_t seed)
{
    uint8_t *f = malloc((size_t)(H * sc->stride));
    ck_assert_ptr_nonnull(f);
    memset(f, 0xAB, (size_t)(H * sc->stride));
    lr_rng r;
    lr_rng_seed(&r, seed);
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++)
            for (int64_t c = 0; c < sc->channels; c++) {
                double bgv = background_value(x, y, c);
                double v = inside(b, nb, x, y) ? (bgv < 120 ? 240 : 10)
                                               : sc->gain * bgv + sc->offset +
                                                     sc->lamp * in_lamp(x, y) +
                                                     sc->noise * (2 * lr_rng_uniform(&r) - 1);
                f[y * sc->stride + x * sc->channels + c] = (uint8_t)lrint(fmin(255, fmax(0, v)));
            }
    return f;
}

/* NTRAIN training frames with a 6 x 6 block crossing the scene and a 4 x 8
 * one going down beside its path: every training frame holds objects, and
 * no pixel is covered in more than 6 of the 16 (where the median, the l1
 * fit of rank 1, is still the background). */
static uint8_t **make_training(const scene *sc)
{
    uint8_t **t = malloc(NTRAIN * sizeof *t);
    ck_assert_ptr_nonnull(t);
    for (int j = 0; j < NTRAIN; j++) {
        block b[2] = {{2 * j, 3, 6, 6}, {36, (int64_t)j * 3 / 2, 4, 8}};
        t[j] = make_frame(sc, b, 2, 100 + (uint64_t)j);
    }
    return t;
}

static void free_frames(uint8_t **t, int n)
{
    for (int j = 0; j < n; j++)
        free(t[j]);
    free(t);
}

static lowrank_opts *opts_with(int64_t median)
{
    lowrank_opts *o;
    ck_assert_ok(lowrank_opts_new(&o));
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_MEDIAN, median));
    return o;
}

static lowrank_background *trained(const scene *sc, const lowrank_opts *o, uint8_t **t)
{
    lowrank_background *bg;
    ck_assert_ok(lowrank_background_new(W, H, sc->channels, o, &bg));
    ck_assert_ok(lowrank_background_train(bg, (const uint8_t *const *)t, NTRAIN, sc->stride));
    return bg;
}

/* The mask (W x H, stride ms) is 255 exactly on the blocks and 0 elsewhere. */
static void assert_mask_is_blocks(const uint8_t *mask, int64_t ms, const block *b, int nb)
{
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++)
            ck_assert_msg(mask[y * ms + x] == (inside(b, nb, x, y) ? 255 : 0),
                          "mask(%lld, %lld) = %d", (long long)x, (long long)y, mask[y * ms + x]);
}

static const scene plain[2] = {{1, W, 2, 1, 0, 0}, {3, 3 * W, 2, 1, 0, 0}};

/* Exact masks, frame after frame, in grey and colour, with the update on. */
START_TEST(exact_masks)
{
    const scene *sc = &plain[_i];
    uint8_t **t = make_training(sc);
    lowrank_opts *o = opts_with(0);
    lowrank_background *bg = trained(sc, o, t);
    uint8_t mask[W * H];
    for (int j = 0; j < 8; j++) {
        block b[2] = {{3 + 3 * j, 4 + j, 5, 7}, {25, 20 - j, 9, 3}};
        uint8_t *f = make_frame(sc, b, 2, 500 + (uint64_t)j);
        ck_assert_ok(lowrank_background_apply(bg, f, sc->stride, mask, W));
        assert_mask_is_blocks(mask, W, b, 2);
        free(f);
    }
    lowrank_background_free(bg);
    lowrank_opts_free(o);
    free_frames(t, NTRAIN);
}
END_TEST

/* Every training frame holds objects, at different places: the l1 fit
 * ignores them and reads back the true background; least squares does not. */
START_TEST(robust_fit_ignores_objects_in_training)
{
    const scene *sc = &plain[_i];
    uint8_t **t = make_training(sc);
    lowrank_opts *o = opts_with(5);
    uint8_t img[W * H * 3];
    double worst[2];
    for (int robust = 0; robust < 2; robust++) {
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_ROBUST, robust));
        lowrank_background *bg = trained(sc, o, t);
        ck_assert_ok(lowrank_background_image(bg, img, W * sc->channels));
        worst[robust] = 0;
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++)
                for (int64_t c = 0; c < sc->channels; c++)
                    worst[robust] = fmax(worst[robust],
                                         fabs(img[(y * W + x) * sc->channels + c] -
                                              background_value(x, y, c)));
        lowrank_background_free(bg);
    }
    /* the noise is up to 2 grey levels, rounding half of one */
    ck_assert_msg(worst[1] <= 5, "l1 background off by %g", worst[1]);
    ck_assert_msg(worst[0] > 20, "least squares off by only %g", worst[0]);
    lowrank_opts_free(o);
    free_frames(t, NTRAIN);
}
END_TEST

/* Frames and masks with strides beyond the row: the same masks as compact
 * buffers, and neither the frames' padding nor the mask's is touched. */
START_TEST(strides)
{
    scene wide = plain[_i];
    wide.stride = W * wide.channels + 13;
    uint8_t **t = make_training(&wide);
    lowrank_opts *o = opts_with(5);
    lowrank_background *bg = trained(&wide, o, t);
    enum { MS = W + 7 };
    uint8_t mask[MS * H];
    memset(mask, 0x5A, sizeof mask);
    block b = {10, 10, 9, 9};
    uint8_t *f = make_frame(&wide, &b, 1, 77);
    ck_assert_ok(lowrank_background_apply(bg, f, wide.stride, mask, MS));
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = W; x < MS; x++)
            ck_assert_int_eq(mask[y * MS + x], 0x5A);
    /* the compact model on compact frames agrees */
    const scene *sc = &plain[_i];
    uint8_t **tc = make_training(sc);
    lowrank_background *bgc = trained(sc, o, tc);
    uint8_t *fc = make_frame(sc, &b, 1, 77), maskc[W * H];
    ck_assert_ok(lowrank_background_apply(bgc, fc, sc->stride, maskc, W));
    for (int64_t y = 0; y < H; y++)
        ck_assert_mem_eq(mask + y * MS, maskc + y * W, W);
    int fg = 0;
    for (int i = 0; i < W * H; i++)
        fg += maskc[i] == 255;
    ck_assert_int_gt(fg, 60); /* the block, corners rounded by the median */
    /* the background image with a stride: padding untouched */
    uint8_t img[(3 * W + 5) * H];
    memset(img, 0x33, sizeof img);
    int64_t is = W * sc->channels + 5;
    ck_assert_ok(lowrank_background_image(bg, img, is));
    for (int64_t y = 0; y < H; y++)
        for (int64_t i = W * sc->channels; i < is; i++)
            ck_assert_int_eq(img[y * is + i], 0x33);
    free(f);
    free(fc);
    lowrank_background_free(bg);
    lowrank_background_free(bgc);
    lowrank_opts_free(o);
    free_frames(t, NTRAIN);
    free_frames(tc, NTRAIN);
}
END_TEST

/* A global gain and offset (lights, clouds, camera gain) is absorbed by the
 * adaptive model: only the blocks are reported.  The seed's model reports
 * most of the frame. */
START_TEST(illumination_change)
{
    const scene *sc = &plain[_i];
    uint8_t **t = make_training(sc);
    lowrank_opts *o = opts_with(0);
    lowrank_background *bg = trained(sc, o, t);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_MODE, LOWRANK_BG_MODE_SEED));
    lowrank_background *seed = trained(sc, o, t);
    const double changes[3][2] = {{1.3, 10}, {0.6, 0}, {1.0, 35}};
    uint8_t mask[W * H];
    for (int j = 0; j < 3; j++) {
        scene lit = *sc;
        lit.gain = changes[j][0];
        lit.offset = changes[j][1];
        block b[2] = {{4, 4, 6, 6}, {22, 15, 10, 5}};
        uint8_t *f = make_frame(&lit, b, 2, 900 + (uint64_t)j);
        ck_assert_ok(lowrank_background_apply(bg, f, lit.stride, mask, W));
        assert_mask_is_blocks(mask, W, b, 2);
        ck_assert_ok(lowrank_background_apply(seed, f, lit.stride, mask, W));
        int fg = 0;
        for (int i = 0; i < W * H; i++)
            fg += mask[i] == 255;
        ck_assert_msg(fg > W * H / 2, "seed mode flagged only %d pixels", fg);
        free(f);
    }
    lowrank_background_free(bg);
    lowrank_background_free(seed);
    lowrank_opts_free(o);
    free_frames(t, NTRAIN);
}
END_TEST

/* The update learns from background pixels only: a region whose background
 * drifts slowly (a grey level every 10 frames, under its threshold from one
 * frame to the next, as daylight does) is followed, and the background read
 * back shows it, while an object standing still is never learnt.  Without
 * the update the drifted region ends up reported.  (A rate of 0.05, five
 * times the default, keeps the test short: the default follows a drift five
 * times slower as well.) */
START_TEST(update_learns_background_only)
{
    const scene *sc = &plain[1];
    uint8_t **t = make_training(sc);
    lowrank_opts *o = opts_with(5);
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_BG_UPDATE_RATE, 0.05));
    lowrank_background *bg = trained(sc, o, t);
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_BG_UPDATE_RATE, 0));
    lowrank_background *fixed = trained(sc, o, t);
    block still = {5, 5, 6, 6};
    uint8_t mask[W * H], fixed_mask[W * H];
    uint8_t *f = make_frame(sc, &still, 1, 31);
    for (int j = 1; j <= 240; j++) {
        if (j % 10 == 0) /* a 12 x 10 patch grows 24 grey levels brighter */
            for (int64_t y = 15; y < 25; y++)
                for (int64_t x = 22; x < 34; x++)
                    for (int64_t c = 0; c < 3; c++)
                        f[y * sc->stride + x * 3 + c] += 1;
        ck_assert_ok(lowrank_background_apply(bg, f, sc->stride, mask, W));
        ck_assert_ok(lowrank_background_apply(fixed, f, sc->stride, fixed_mask, W));
        ck_assert_int_eq(mask[20 * W + 28], 0);
    }
    ck_assert_int_eq(fixed_mask[20 * W + 28], 255);
    for (int64_t y = 6; y < 10; y++) /* the standing object, corners aside */
        for (int64_t x = 6; x < 10; x++)
            ck_assert_int_eq(mask[y * W + x], 255);
    uint8_t img[W * H * 3];
    ck_assert_ok(lowrank_background_image(bg, img, W * 3));
    ck_assert_int_le(abs(img[(20 * W + 28) * 3] - f[20 * sc->stride + 28 * 3]), 3);
    ck_assert_int_ge(abs(img[(7 * W + 7) * 3] - f[7 * sc->stride + 7 * 3]), 50);
    free(f);
    lowrank_background_free(bg);
    lowrank_background_free(fixed);
    lowrank_opts_free(o);
    free_frames(t, NTRAIN);
}
END_TEST

/* The seed mode against the eigenbackground computed here: mean, thin SVD
 * of the centred training matrix (LAPACK), rank by 90% cumulative
 * contribution, orthogonal projection, fixed threshold 25.  Training frames
 * vary by a gain and a local pattern, so several components carry energy. */
START_TEST(seed_mode_is_the_eigenbackground)
{
    const int64_t c = plain[_i].channels, v = W * H * c, n = NTRAIN;
    uint8_t **t = malloc(n * sizeof *t);
    lr_rng r;
    lr_rng_seed(&r, 3);
    for (int j = 0; j < n; j++) {
        scene s = plain[_i];
        s.gain = 0.8 + 0.4 * lr_rng_uniform(&r);
        s.noise = 6;
        block b = {(int64_t)(lr_rng_uniform(&r) * 30), (int64_t)(lr_rng_uniform(&r) * 20), 8, 8};
        t[j] = make_frame(&s, &b, 1, 40 + (uint64_t)j);
    }
    /* the truth */
    double *x = malloc((size_t)(v * n) * sizeof *x), *mean = calloc((size_t)v, sizeof *mean);
    double *s = malloc((size_t)n * sizeof *s), *u = malloc((size_t)(v * n) * sizeof *u);
    double *vt = malloc((size_t)(n * n) * sizeof *vt);
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < v; i++)
            mean[i] += t[j][i] / (double)n;
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < v; i++)
            x[i + j * v] = t[j][i] - mean[i];
    ck_assert_ok(lr_gesdd(LOWRANK_FLOAT64, v, n, x, v, s, u, v, vt, n));
    double total = 0, acc = 0;
    for (int64_t q = 0; q < n; q++)
        total += s[q] * s[q];
    int64_t k = 0;
    while (acc < 0.9 * total)
        acc += s[k] * s[k], k++;
    ck_assert_int_ge(k, 2);
    lowrank_opts *o = opts_with(0);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_MODE, LOWRANK_BG_MODE_SEED));
    lowrank_background *bg;
    ck_assert_ok(lowrank_background_new(W, H, c, o, &bg));
    ck_assert_ok(lowrank_background_train(bg, (const uint8_t *const *)t, n, W * c));
    /* before any frame: the last training frame's reconstruction */
    uint8_t first[W * H * 3];
    ck_assert_ok(lowrank_background_image(bg, first, W * c));
    double *last = calloc((size_t)k, sizeof *last);
    for (int64_t q = 0; q < k; q++)
        for (int64_t p = 0; p < v; p++)
            last[q] += u[p + q * v] * (t[n - 1][p] - mean[p]);
    for (int64_t i = 0; i < v; i++) {
        double b = mean[i];
        for (int64_t q = 0; q < k; q++)
            b += u[i + q * v] * last[q];
        ck_assert_msg(fabs(first[i] - fmin(255, fmax(0, b))) <= 1, "first image[%lld] = %d, truth %g",
                      (long long)i, first[i], b);
    }
    scene test = plain[_i];
    test.gain = 1.1;
    block b = {12, 9, 10, 7};
    uint8_t *f = make_frame(&test, &b, 1, 99), mask[W * H], img[W * H * 3];
    ck_assert_ok(lowrank_background_apply(bg, f, W * c, mask, W));
    ck_assert_ok(lowrank_background_image(bg, img, W * c));
    double *coef = calloc((size_t)k, sizeof *coef), *bgv = malloc((size_t)v * sizeof *bgv);
    for (int64_t q = 0; q < k; q++)
        for (int64_t i = 0; i < v; i++)
            coef[q] += u[i + q * v] * (f[i] - mean[i]);
    int disagree = 0, fg = 0;
    for (int64_t i = 0; i < v; i++) {
        bgv[i] = mean[i];
        for (int64_t q = 0; q < k; q++)
            bgv[i] += u[i + q * v] * coef[q];
        ck_assert_msg(fabs(img[i] - fmin(255, fmax(0, bgv[i]))) <= 1, "image[%lld] = %d, truth %g",
                      (long long)i, img[i], bgv[i]);
    }
    for (int64_t px = 0; px < W * H; px++) {
        double d = 0;
        for (int64_t ch = 0; ch < c; ch++)
            d += (f[px * c + ch] - bgv[px * c + ch]) * (f[px * c + ch] - bgv[px * c + ch]);
        double rms = sqrt(d / (double)c);
        int want = rms > 25;
        fg += want;
        if (fabs(rms - 25) > 0.05) /* away from the threshold, float and double agree */
            disagree += (mask[px] == 255) != want;
    }
    ck_assert_int_eq(disagree, 0);
    ck_assert_int_gt(fg, 40);
    free(x);
    free(mean);
    free(s);
    free(u);
    free(vt);
    free(coef);
    free(last);
    free(bgv);
    free(f);
    lowrank_background_free(bg);
    lowrank_opts_free(o);
    free_frames(t, (int)n);
}
END_TEST

/* The median filter is a majority vote over the size x size square, the
 * frame extended by repeating its border: against a naive filter of the
 * unfiltered mask, with blocks at the edges and single-pixel specks. */
START_TEST(median_filter_is_a_majority_vote)
{
    const scene *sc = &plain[0];
    uint8_t **t = make_training(sc);
    lowrank_opts *o = opts_with(0);
    lowrank_background *raw = trained(sc, o, t);
    lowrank_opts_free(o);
    int64_t size = _i == 0 ? 3 : _i == 1 ? 5 : 9, h = size / 2;
    o = opts_with(size);
    lowrank_background *filtered = trained(sc, o, t);
    block b[5] = {{0, 0, 7, 5}, {W - 6, 12, 6, 9}, {15, H - 4, 12, 4}, {20, 8, 1, 1}, {9, 14, 2, 1}};
    uint8_t *f = make_frame(sc, b, 5, 5), m0[W * H], m1[W * H];
    ck_assert_ok(lowrank_background_apply(raw, f, W, m0, W));
    ck_assert_ok(lowrank_background_apply(filtered, f, W, m1, W));
    assert_mask_is_blocks(m0, W, b, 5);
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++) {
            int votes = 0;
            for (int64_t dy = -h; dy <= h; dy++)
                for (int64_t dx = -h; dx <= h; dx++) {
                    int64_t yy = y + dy < 0 ? 0 : y + dy >= H ? H - 1 : y + dy;
                    int64_t xx = x + dx < 0 ? 0 : x + dx >= W ? W - 1 : x + dx;
                    votes += m0[yy * W + xx] == 255;
                }
            ck_assert_int_eq(m1[y * W + x], votes > size * size / 2 ? 255 : 0);
        }
    free(f);
    lowrank_background_free(raw);
    lowrank_background_free(filtered);
    lowrank_opts_free(o);
    free_frames(t, NTRAIN);
}
END_TEST

/* A lamp whose brightness varies from frame to frame makes the background
 * two-dimensional: rank 2 follows it, rank 1 reports it (fixed threshold of
 * 20 grey levels, so that the thresholds do not adapt to it either).  The
 * rank must stay below the number of training frames.  (No objects in
 * training here: a rank above 1 gives the fit room to follow them too.) */
START_TEST(rank_follows_a_second_component)
{
    scene sc = plain[1];
    uint8_t **t = malloc(NTRAIN * sizeof *t);
    lr_rng r;
    lr_rng_seed(&r, 4);
    for (int j = 0; j < NTRAIN; j++) {
        sc.lamp = 60 * lr_rng_uniform(&r);
        t[j] = make_frame(&sc, NULL, 0, 200 + (uint64_t)j);
    }
    lowrank_opts *o = opts_with(0);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_THRESHOLD_MODE, LOWRANK_BG_THRESHOLD_FIXED));
    ck_assert_ok(lowrank_opts_set_double(o, LOWRANK_OPT_BG_THRESHOLD, 20));
    sc.lamp = 55;
    block b = {20, 6, 8, 11};
    uint8_t *f = make_frame(&sc, &b, 1, 8), mask[W * H];
    for (int64_t rank = 1; rank <= 2; rank++) {
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_RANK, rank));
        lowrank_background *bg = trained(&sc, o, t);
        ck_assert_ok(lowrank_background_apply(bg, f, sc.stride, mask, W));
        if (rank == 2) {
            assert_mask_is_blocks(mask, W, &b, 1);
        } else {
            int lamp = 0;
            for (int64_t y = 0; y < H; y++)
                for (int64_t x = 0; x < W; x++)
                    lamp += in_lamp(x, y) && mask[y * W + x] == 255;
            ck_assert_msg(lamp > 60, "rank 1 reports %d lamp pixels", lamp);
        }
        lowrank_background_free(bg);
    }
    lowrank_background *bg;
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_RANK, NTRAIN));
    ck_assert_ok(lowrank_background_new(W, H, 3, o, &bg));
    ck_assert_fails(lowrank_background_train(bg, (const uint8_t *const *)t, NTRAIN, W * 3),
                    LOWRANK_ERANGE);
    lowrank_background_free(bg);
    free(f);
    lowrank_opts_free(o);
    free_frames(t, NTRAIN);
}
END_TEST

/* ------------------------------------------------------------ registration */

/* A background made of sinusoids of wavelengths 10 to 30 pixels (smooth:
 * interpolation between pixels is accurate to a grey level or two), value at
 * any real (x, y), steep enough (up to ~40 grey levels a pixel) that a shift
 * of a pixel changes most pixels by far more than their thresholds. */
static double wavy(double x, double y, int64_t c)
{
    return 120 + 40 * sin(0.5 * x + 0.2 * y + (double)c) + 30 * cos(0.17 * x - 0.45 * y) +
           15 * sin(0.31 * x * (1 + 0.01 * y) + 2.0 * (double)c);
}

/* A W x H 3-channel frame of value(x, y, c, arg) plus uniform noise of up
 * to 2 grey levels, clamped to 0-255. */
static uint8_t *noisy_frame(double (*value)(int64_t, int64_t, int64_t, const void *),
                            const void *arg, uint64_t seed)
{
    uint8_t *f = malloc(W * H * 3);
    ck_assert_ptr_nonnull(f);
    lr_rng r;
    lr_rng_seed(&r, seed);
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++)
            for (int64_t c = 0; c < 3; c++) {
                double v = value(x, y, c, arg) + 2 * (2 * lr_rng_uniform(&r) - 1);
                f[(y * W + x) * 3 + c] = (uint8_t)lrint(fmin(255, fmax(0, v)));
            }
    return f;
}

static double shifted_value(int64_t x, int64_t y, int64_t c, const void *arg)
{
    const double *d = arg;
    return wavy((double)x - d[0], (double)y - d[1], c);
}

/* A 3-channel frame of the wavy background seen by a camera shifted by
 * (dx, dy) (pixel (x, y) shows the scene at (x - dx, y - dy)), noise of up
 * to 2 grey levels, the blocks drawn over it in frame coordinates. */
static uint8_t *shifted_frame(double dx, double dy, const block *b, int nb, uint64_t seed)
{
    const double d[2] = {dx, dy};
    uint8_t *f = noisy_frame(shifted_value, d, seed);
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++)
            if (inside(b, nb, x, y))
                memset(f + (y * W + x) * 3, 240, 3);
    return f;
}

/* The foreground pixels of the mask in [m, W - m) x [m, H - m) that are
 * not in the blocks, and the pixels of the blocks that are not foreground. */
static int mask_errors(const uint8_t *mask, const block *b, int nb, int64_t m)
{
    int wrong = 0;
    for (int64_t y = m; y < H - m; y++)
        for (int64_t x = m; x < W - m; x++)
            wrong += (mask[y * W + x] == 255) != inside(b, nb, x, y);
    return wrong;
}

/* The camera moves by known global shifts, sub-pixel and of whole pixels,
 * after training on steady frames: the registered model reports exactly
 * the planted blocks (within 3 pixels of the edges: the scene there was
 * never seen, or is seen against the model's clamped edge); the model
 * without registration reports the moved edges by the hundred. */
START_TEST(global_shift)
{
    uint8_t *t[NTRAIN];
    for (int j = 0; j < NTRAIN; j++)
        t[j] = shifted_frame(0, 0, NULL, 0, 700 + (uint64_t)j);
    lowrank_opts *o = opts_with(0);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_REGISTRATION, _i == 0));
    lowrank_background *bg;
    ck_assert_ok(lowrank_background_new(W, H, 3, o, &bg));
    ck_assert_ok(lowrank_background_train(bg, (const uint8_t *const *)t, NTRAIN, W * 3));
    /* sub-pixel, then a pixel and a half, then a jump of 2.9 pixels */
    const double shifts[][2] = {{0.4, -0.3}, {0.4, -0.3}, {1.6, 0.7}, {1.6, 0.7},
                                {-1.3, 1.2}, {-1.3, 1.2}, {-0.8, -0.5}};
    int worst = 0, total = 0;
    for (int j = 0; j < (int)(sizeof shifts / sizeof shifts[0]); j++) {
        block b[2] = {{6 + j, 5, 6, 6}, {22, 14 + j / 2, 8, 5}};
        uint8_t *f = shifted_frame(shifts[j][0], shifts[j][1], b, 2, 800 + (uint64_t)j);
        uint8_t mask[W * H];
        ck_assert_ok(lowrank_background_apply(bg, f, W * 3, mask, W));
        int wrong = mask_errors(mask, b, 2, 3);
        worst = wrong > worst ? wrong : worst;
        total += wrong;
        free(f);
    }
    if (_i == 0)
        ck_assert_msg(worst == 0, "registered: %d wrong pixels in a frame", worst);
    else
        ck_assert_msg(total > 500, "unregistered: only %d wrong pixels", total);
    lowrank_background_free(bg);
    lowrank_opts_free(o);
    for (int j = 0; j < NTRAIN; j++)
        free(t[j]);
}
END_TEST

/* ------------------------------------------------------------ shadows */

/* A colour frame of the plain scene with a block object and, beside it, a
 * cast shadow: the background darkened by the factor dim (same
 * chromaticity). */
static uint8_t *shadowed_frame(const block *object, const block *shadow, double dim, uint64_t seed)
{
    scene sc = plain[1];
    uint8_t *f = make_frame(&sc, object, 1, seed);
    for (int64_t y = shadow->by; y < shadow->by + shadow->bh; y++)
        for (int64_t x = shadow->bx; x < shadow->bx + shadow->bw; x++)
            for (int64_t c = 0; c < 3; c++)
                f[(y * W + x) * 3 + c] = (uint8_t)lrint(dim * background_value(x, y, c));
    return f;
}

/* A cast shadow (the background at 70% of its brightness) beside an object:
 * by default the object alone is foreground; marked, the shadow is 127; with
 * the test off, the shadow is foreground too.  A dark object of another
 * colour is never a shadow.  Without the median filter, pixel by pixel;
 * with it, the shadow's region away from the object. */
START_TEST(cast_shadow)
{
    const scene *sc = &plain[1];
    uint8_t **t = make_training(sc);
    const block object = {4, 6, 8, 14}, shade = {12, 14, 14, 8};
    const int modes[3] = {LOWRANK_BG_SHADOWS_BACKGROUND, LOWRANK_BG_SHADOWS_MARK,
                          LOWRANK_BG_SHADOWS_OFF};
    const uint8_t in_shadow[3] = {0, 127, 255};
    uint8_t *f = shadowed_frame(&object, &shade, 0.7, 41), mask[W * H];
    for (int median = 0; median <= 5; median += 5)
        for (int m = 0; m < 3; m++) {
            lowrank_opts *o = opts_with(median);
            ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_SHADOWS, modes[m]));
            lowrank_background *bg = trained(sc, o, t);
            ck_assert_ok(lowrank_background_apply(bg, f, W * 3, mask, W));
            for (int64_t y = 0; y < H; y++)
                for (int64_t x = 0; x < W; x++) {
                    /* with the filter, what is 3 pixels away from the object
                     * (and from the shadow), and the object's core */
                    block near_obj = {object.bx - 3, object.by - 3, object.bw + 6, object.bh + 6};
                    block near_sh = {shade.bx - 3, shade.by - 3, shade.bw + 6, shade.bh + 6};
                    block core = {object.bx + 2, object.by + 2, object.bw - 4, object.bh - 4};
                    block shade_core = {shade.bx + 2, shade.by + 2, shade.bw - 4, shade.bh - 4};
                    int want = median == 0 ? (inside(&object, 1, x, y)  ? 255
                                              : inside(&shade, 1, x, y) ? in_shadow[m]
                                                                        : 0)
                             : inside(&core, 1, x, y) ? 255
                             : inside(&near_obj, 1, x, y) ? -1
                             : inside(&shade_core, 1, x, y) ? in_shadow[m]
                             : inside(&near_sh, 1, x, y) ? -1
                                                         : 0;
                    if (want >= 0)
                        ck_assert_msg(mask[y * W + x] == want, "median %d, mode %d: (%lld, %lld) = %d",
                                      median, modes[m], (long long)x, (long long)y, mask[y * W + x]);
                }
            lowrank_background_free(bg);
            lowrank_opts_free(o);
        }
    free(f);
    /* a dark object of another colour: the blue channel darkened more */
    f = shadowed_frame(&object, &shade, 1, 42);
    for (int64_t y = shade.by; y < shade.by + shade.bh; y++)
        for (int64_t x = shade.bx; x < shade.bx + shade.bw; x++)
            f[(y * W + x) * 3 + 2] = (uint8_t)(f[(y * W + x) * 3 + 2] / 3);
    lowrank_opts *o = opts_with(0);
    lowrank_background *bg = trained(sc, o, t);
    ck_assert_ok(lowrank_background_apply(bg, f, W * 3, mask, W));
    block both[2] = {object, shade};
    assert_mask_is_blocks(mask, W, both, 2);
    lowrank_background_free(bg);
    lowrank_opts_free(o);
    free(f);
    free_frames(t, NTRAIN);
}
END_TEST

/* A scene in full sun: channels 1 and 2 at 220-460, which the sensor clips
 * to 255 over most of the frame; channel 0 (blue) at 60-180, or with glare
 * at 246-258, within the threshold of full scale too.  In the block shadow
 * the true light is dim times what it was; in the block dark (if any)
 * channel 1 falls to a third, which no shadow does. */
typedef struct sunlit {
    int glare;
    block shadow, dark;
    double dim;
} sunlit;

static double sunlit_value(int64_t x, int64_t y, int64_t c, const void *arg)
{
    const sunlit *sun = arg;
    double v = background_value(x, y, c);
    v = c > 0 ? 2 * v + 100 : sun->glare ? 0.1 * v + 240 : v;
    v *= inside(&sun->shadow, 1, x, y) ? sun->dim : 1;
    return v / (c == 1 && inside(&sun->dark, 1, x, y) ? 3 : 1);
}

/* A shadow on a background whose channels the sensor clipped (sunlit grass
 * at 255 in red and green): the clipped channels may stay at 255 in the
 * shadow while the others darken, and the pixel is still a shadow; a patch
 * that darkens a clipped channel far more than the others is not.  With
 * glare every channel may be clipped, and the darkest gives the ratio. */
START_TEST(shadow_on_clipped_channels)
{
    uint8_t *t[NTRAIN];
    for (int j = 0; j < NTRAIN; j++)
        t[j] = noisy_frame(sunlit_value, &(sunlit){.glare = _i}, 300 + (uint64_t)j);
    lowrank_opts *o = opts_with(0);
    ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_SHADOWS, LOWRANK_BG_SHADOWS_MARK));
    lowrank_background *bg;
    ck_assert_ok(lowrank_background_new(W, H, 3, o, &bg));
    ck_assert_ok(lowrank_background_train(bg, (const uint8_t *const *)t, NTRAIN, W * 3));
    const block shade = {4, 4, 14, 20}, dark = {24, 4, 10, 20};
    uint8_t *f = noisy_frame(sunlit_value, &(sunlit){_i, shade, dark, 0.75}, 400), mask[W * H];
    ck_assert_ok(lowrank_background_apply(bg, f, W * 3, mask, W));
    int clipped = 0;
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++) {
            int want = inside(&shade, 1, x, y) ? 127 : inside(&dark, 1, x, y) ? 255 : 0;
            clipped += inside(&shade, 1, x, y) && f[(y * W + x) * 3 + 1] == 255;
            ck_assert_msg(mask[y * W + x] == want, "(%lld, %lld) = %d, not %d", (long long)x,
                          (long long)y, mask[y * W + x], want);
        }
    ck_assert_int_gt(clipped, 50); /* the test is about clipped channels */
    lowrank_background_free(bg);
    lowrank_opts_free(o);
    free(f);
    for (int j = 0; j < NTRAIN; j++)
        free(t[j]);
}
END_TEST

/* ------------------------------------------------------------ absorption */

/* An object stops and stays.  It is not absorbed at once: with
 * LOWRANK_OPT_BG_ABSORB = 10 it is still reported 20 frames on; a change c
 * thresholds away is absorbed at one threshold per 10 frames, so after 250
 * frames (this one is about 17 thresholds away) it is background.  With 0
 * it is never absorbed; with the default (500) it is reported all along. */
START_TEST(stopped_object)
{
    const scene *sc = &plain[1];
    uint8_t **t = make_training(sc);
    const block still = {14, 8, 9, 9};
    const int64_t absorb[3] = {10, 0, 500};
    for (int a = 0; a < 3; a++) {
        lowrank_opts *o = opts_with(5);
        if (absorb[a] != 500) /* 500: the default */
            ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_ABSORB, absorb[a]));
        lowrank_background *bg = trained(sc, o, t);
        uint8_t mask[W * H];
        for (int j = 1; j <= 250; j++) {
            uint8_t *f = make_frame(sc, &still, 1, 1000 + (uint64_t)j);
            ck_assert_ok(lowrank_background_apply(bg, f, W * 3, mask, W));
            free(f);
            int centre = mask[12 * W + 18];
            if (j == 20)
                ck_assert_msg(centre == 255, "absorb %lld: gone after 20 frames", (long long)absorb[a]);
        }
        ck_assert_msg(mask[12 * W + 18] == (absorb[a] == 10 ? 0 : 255),
                      "absorb %lld: centre %d after 250 frames", (long long)absorb[a],
                      mask[12 * W + 18]);
        lowrank_background_free(bg);
        lowrank_opts_free(o);
    }
    free_frames(t, NTRAIN);
}
END_TEST

/* ------------------------------------------------------------ threads */

/* The masks and the background do not depend on the number of threads:
 * bit for bit, frame after frame, with the camera moving, objects, cast
 * shadows and the update on; 1, 2, 3 and 7 threads (more than the frame has
 * bands of rows: the model takes fewer). */
START_TEST(threads_give_the_same_masks)
{
    enum { N = 40 };
    uint8_t *t[NTRAIN], *masks[4], img[4][W * H * 3];
    for (int j = 0; j < NTRAIN; j++) {
        block b = {2 * j, 20, 5, 5};
        t[j] = shifted_frame(0, 0, &b, 1, 300 + (uint64_t)j);
    }
    const int64_t threads[4] = {1, 2, 3, 7};
    for (int k = 0; k < 4; k++) {
        lowrank_opts *o = opts_with(5);
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_THREADS, threads[k]));
        lowrank_background *bg;
        ck_assert_ok(lowrank_background_new(W, H, 3, o, &bg));
        ck_assert_ok(lowrank_background_train(bg, (const uint8_t *const *)t, NTRAIN, W * 3));
        masks[k] = malloc(N * W * H);
        ck_assert_ptr_nonnull(masks[k]);
        for (int j = 0; j < N; j++) {
            block b[2] = {{j % 30, 4, 7, 6}, {30 - j % 25, 15, 6, 9}};
            uint8_t *f = shifted_frame(0.05 * j, -0.03 * j, b, 2, 400 + (uint64_t)j);
            for (int64_t y = 18; y < 26; y++) /* a shadow crossing the frame */
                for (int64_t x = j % 20; x < j % 20 + 12; x++)
                    for (int64_t c = 0; c < 3; c++)
                        f[(y * W + x) * 3 + c] = (uint8_t)(f[(y * W + x) * 3 + c] * 3 / 4);
            ck_assert_ok(lowrank_background_apply(bg, f, W * 3, masks[k] + j * W * H, W));
            free(f);
        }
        ck_assert_ok(lowrank_background_image(bg, img[k], W * 3));
        if (k > 0) {
            ck_assert_mem_eq(masks[k], masks[0], N * W * H);
            ck_assert_mem_eq(img[k], img[0], W * H * 3);
        }
        lowrank_background_free(bg);
        lowrank_opts_free(o);
    }
    int fg = 0;
    for (int i = 0; i < N * W * H; i++)
        fg += masks[0][i] == 255;
    ck_assert_int_gt(fg, 1000); /* the masks compared are not empty */
    for (int k = 0; k < 4; k++)
        free(masks[k]);
    for (int j = 0; j < NTRAIN; j++)
        free(t[j]);
}
END_TEST

/* ------------------------------------------------------------ progress */

typedef struct reports {
    int calls, cancel_at;
    double last;
    int decreased;
} reports;

static int count_report(double fraction, void *user)
{
    reports *r = user;
    r->decreased |= fraction < r->last || fraction < 0 || fraction > 1;
    r->last = fraction;
    return ++r->calls == r->cancel_at;
}

/* Training reports its progress through the options given to new (every
 * report passed on: the interval lowered to 0), in [0, 1] and never back,
 * from the calling thread whatever the thread count; a cancel returns
 * LOWRANK_ECANCELED and leaves the model as it was (untrained here, trained
 * before); both modes. */
START_TEST(training_reports_and_cancels)
{
    const scene *sc = &plain[1];
    uint8_t **t = make_training(sc), mask[W * H];
    for (int threads = 1; threads <= 2; threads++) {
        reports r = {0, 0, 0, 0};
        lowrank_opts *o = opts_with(5);
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_BG_MODE,
                                          _i ? LOWRANK_BG_MODE_SEED : LOWRANK_BG_MODE_ADAPTIVE));
        ck_assert_ok(lowrank_opts_set_int(o, LOWRANK_OPT_THREADS, threads));
        ck_assert_ok(lowrank_opts_set_progress(o, count_report, &r));
        o->progress_interval = 0;
        lowrank_background *bg;
        ck_assert_ok(lowrank_background_new(W, H, 3, o, &bg));
        ck_assert_ok(lowrank_background_train(bg, (const uint8_t *const *)t, NTRAIN, W * 3));
        ck_assert_int_ge(r.calls, 2);
        ck_assert(!r.decreased);
        /* cancelled at the second report: the trained model stays */
        uint8_t before[W * H * 3], after[W * H * 3];
        ck_assert_ok(lowrank_background_image(bg, before, W * 3));
        r = (reports){0, 2, 0, 0};
        ck_assert_fails(lowrank_background_train(bg, (const uint8_t *const *)t, NTRAIN, W * 3),
                        LOWRANK_ECANCELED);
        ck_assert_ptr_nonnull(strstr(lowrank_last_error(), "canceled"));
        ck_assert_ok(lowrank_background_image(bg, after, W * 3));
        ck_assert_mem_eq(before, after, sizeof before);
        lowrank_background_free(bg);
        /* a model never trained stays untrained */
        ck_assert_ok(lowrank_background_new(W, H, 3, o, &bg));
        r = (reports){0, 1, 0, 0};
        ck_assert_fails(lowrank_background_train(bg, (const uint8_t *const *)t, NTRAIN, W * 3),
                        LOWRANK_ECANCELED);
        ck_assert_fails(lowrank_background_apply(bg, t[0], W * 3, mask, W), LOWRANK_EINVAL);
        lowrank_background_free(bg);
        lowrank_opts_free(o);
    }
    free_frames(t, NTRAIN);
}
END_TEST

START_TEST(errors)
{
    lowrank_background *bg = (lowrank_background *)&bg;
    ck_assert_fails(lowrank_background_new(W, H, 3, NULL, NULL), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_background_new(0, H, 3, NULL, &bg), LOWRANK_ESIZE);
    ck_assert_ptr_null(bg);
    ck_assert_fails(lowrank_background_new(W, -1, 3, NULL, &bg), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_background_new(W, H, 2, NULL, &bg), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_background_new(W, H, 4, NULL, &bg), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_background_new(INT64_MAX / 2, 4, 3, NULL, &bg), LOWRANK_EOVERFLOW);
    lowrank_opts *o = opts_with(4);
    ck_assert_fails(lowrank_background_new(W, H, 3, o, &bg), LOWRANK_ERANGE);
    /* the options of issue 12, out of their ranges */
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_THREADS, -1), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_BG_REGISTRATION, 2), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_BG_NEIGHBOURS, -1), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_BG_SHADOWS, 0), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_BG_SHADOWS, 4), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_BG_SHADOW_RATIO, 0), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_double(o, LOWRANK_OPT_BG_SHADOW_RATIO, 1), LOWRANK_ERANGE);
    ck_assert_fails(lowrank_opts_set_int(o, LOWRANK_OPT_BG_ABSORB, -1), LOWRANK_ERANGE);
    lowrank_opts_free(o);

    const scene *sc = &plain[1];
    uint8_t **t = make_training(sc);
    const uint8_t *const *tc = (const uint8_t *const *)t;
    ck_assert_ok(lowrank_background_new(W, H, 3, NULL, &bg));
    uint8_t mask[W * H], img[W * H * 3];
    /* not trained */
    ck_assert_fails(lowrank_background_apply(bg, t[0], W * 3, mask, W), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_background_image(bg, img, W * 3), LOWRANK_EINVAL);
    /* training arguments */
    ck_assert_fails(lowrank_background_train(NULL, tc, NTRAIN, W * 3), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_background_train(bg, NULL, NTRAIN, W * 3), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_background_train(bg, tc, 1, W * 3), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_background_train(bg, tc, 0, W * 3), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_background_train(bg, tc, NTRAIN, W * 3 - 1), LOWRANK_ESIZE);
    uint8_t *keep = t[5];
    t[5] = NULL;
    ck_assert_fails(lowrank_background_train(bg, tc, NTRAIN, W * 3), LOWRANK_EINVAL);
    ck_assert_str_eq(lowrank_last_error(), "frames[5] is NULL");
    t[5] = keep;
    ck_assert_ok(lowrank_background_train(bg, tc, NTRAIN, W * 3));
    /* apply and image arguments */
    ck_assert_fails(lowrank_background_apply(NULL, t[0], W * 3, mask, W), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_background_apply(bg, NULL, W * 3, mask, W), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_background_apply(bg, t[0], W * 3, NULL, W), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_background_apply(bg, t[0], W * 3 - 1, mask, W), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_background_apply(bg, t[0], W * 3, mask, W - 1), LOWRANK_ESIZE);
    ck_assert_fails(lowrank_background_image(NULL, img, W * 3), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_background_image(bg, NULL, W * 3), LOWRANK_EINVAL);
    ck_assert_fails(lowrank_background_image(bg, img, 2), LOWRANK_ESIZE);
    /* a failed retraining leaves the model as it was */
    uint8_t before[W * H * 3], after[W * H * 3];
    ck_assert_ok(lowrank_background_image(bg, before, W * 3));
    ck_assert_fails(lowrank_background_train(bg, tc, 1, W * 3), LOWRANK_ESIZE);
    ck_assert_ok(lowrank_background_image(bg, after, W * 3));
    ck_assert_mem_eq(before, after, sizeof before);
    lowrank_background_free(bg);
    lowrank_background_free(NULL);
    free_frames(t, NTRAIN);
}
END_TEST

typedef struct session {
    uint8_t **t;
    int mode;
} session;

/* new, train, apply and image in a row, on the 16 x 8 top left corner of the
 * frames (their stride as it is) and 6 training frames, to keep the runs
 * short: every allocation failure is reported as LOWRANK_ENOMEM with no
 * handle; apply and image never allocate. */
enum { AW = 16, AH = 8, AN = 6 };
static int whole_session(void *ctx)
{
    session *s = ctx;
    lowrank_opts *o = NULL;
    lowrank_background *bg = NULL;
    int rc = lowrank_opts_new(&o);
    if (rc == LOWRANK_OK)
        rc = lowrank_opts_set_int(o, LOWRANK_OPT_BG_MODE, s->mode);
    if (rc == LOWRANK_OK) {
        lowrank_background *out = (lowrank_background *)&out; /* must become NULL on failure */
        int made = lowrank_background_new(AW, AH, 3, o, &out);
        rc = output_status(made, out);
        bg = made == LOWRANK_OK ? out : NULL;
    }
    if (rc == LOWRANK_OK)
        rc = lowrank_background_train(bg, (const uint8_t *const *)s->t, AN, W * 3);
    uint8_t mask[AW * AH], img[AW * AH * 3];
    long before = alloc_count();
    if (rc == LOWRANK_OK)
        rc = lowrank_background_apply(bg, s->t[3], W * 3, mask, AW);
    if (rc == LOWRANK_OK)
        rc = lowrank_background_image(bg, img, AW * 3);
    if (rc == LOWRANK_OK && alloc_count() != before)
        rc = OUTPUT_BROKEN; /* apply and image must not allocate */
    lowrank_background_free(bg);
    lowrank_opts_free(o);
    return rc;
}

START_TEST(allocation_failure)
{
    session s = {make_training(&plain[1]), _i ? LOWRANK_BG_MODE_SEED : LOWRANK_BG_MODE_ADAPTIVE};
    ck_assert_int_gt(check_alloc_failures(whole_session, &s), 10);
    free_frames(s.t, NTRAIN);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("background");
    TCase *tc = tcase_create("background");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, exact_masks, 0, 2);
    tcase_add_loop_test(tc, robust_fit_ignores_objects_in_training, 0, 2);
    tcase_add_loop_test(tc, strides, 0, 2);
    tcase_add_loop_test(tc, illumination_change, 0, 2);
    tcase_add_test(tc, update_learns_background_only);
    tcase_add_loop_test(tc, seed_mode_is_the_eigenbackground, 0, 2);
    tcase_add_loop_test(tc, median_filter_is_a_majority_vote, 0, 3);
    tcase_add_test(tc, rank_follows_a_second_component);
    tcase_add_loop_test(tc, global_shift, 0, 2);
    tcase_add_test(tc, cast_shadow);
    tcase_add_loop_test(tc, shadow_on_clipped_channels, 0, 2);
    tcase_add_test(tc, stopped_object);
    tcase_add_test(tc, threads_give_the_same_masks);
    tcase_add_loop_test(tc, training_reports_and_cancels, 0, 2);
    tcase_add_test(tc, errors);
    tcase_add_loop_test(tc, allocation_failure, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(make_suite()); }
