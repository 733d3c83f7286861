/*
 * background.c - `lowrank background [OPTIONS] INPUT_DIR OUTPUT_DIR`: PCA
 * background subtraction of the frames INPUT_DIR/in%06d.jpg (or .png),
 * numbered from 1, writing one mask OUTPUT_DIR/bin%06d.png per frame (the
 * CDnet layout).  Prints "frames=N fps=X", X counting the model alone
 * (training and every apply; decoding and writing excluded), and with
 * --groundtruth DIR the F-measure against DIR/gt%06d.png.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tool.h"

#define MAX_PATH 4096

typedef struct job {
    const char *input, *output, *background, *groundtruth;
    int64_t train, channels;
    int verbose;
    int64_t nframes;
    char ext[5]; /* "jpg" or "png" */
} job;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void frame_path(const job *jb, int64_t i, char *buf)
{
    snprintf(buf, MAX_PATH, "%s/in%06lld.%s", jb->input, (long long)i, jb->ext);
}

/* Frames are in000001.jpg, in000002.jpg, ... (or .png) up to the first gap. */
static int count_frames(job *jb)
{
    char path[MAX_PATH];
    snprintf(jb->ext, sizeof jb->ext, "jpg");
    frame_path(jb, 1, path);
    if (!exists(path)) {
        snprintf(jb->ext, sizeof jb->ext, "png");
        frame_path(jb, 1, path);
    }
    if (!exists(path)) {
        fprintf(stderr, "lowrank background: no frames: neither %s/in000001.jpg nor %s exists\n",
                jb->input, path);
        return -1;
    }
    jb->nframes = 0;
    do {
        jb->nframes++;
        frame_path(jb, jb->nframes + 1, path);
    } while (exists(path));
    return 0;
}

static int load_frame(const job *jb, int64_t i, const image *first, image *img)
{
    char path[MAX_PATH], err[256];
    frame_path(jb, i, path);
    if (image_read(path, jb->channels, img, err, sizeof err) != 0) {
        fprintf(stderr, "lowrank background: %s: %s\n", path, err);
        return -1;
    }
    if (first && (img->width != first->width || img->height != first->height)) {
        fprintf(stderr, "lowrank background: %s is %lldx%lld, the first frame %lldx%lld\n", path,
                (long long)img->width, (long long)img->height, (long long)first->width,
                (long long)first->height);
        free(img->data);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ options */

/* What follows a flag: a number for an integer or double option, a text,
 * or nothing (the flag sets its integer or double option to `fixed`). */
enum { INT_VALUE, DOUBLE_VALUE, TEXT_VALUE, SET_INT, SET_DOUBLE };

typedef struct flag {
    const char *name;
    int key;      /* a lowrank_option, or one of the tool's own (negative) */
    int kind;
    double fixed;
} flag;

static int takes_value(const flag *f) { return f->kind <= TEXT_VALUE; }

enum { OWN_TRAIN = -1, OWN_GREY = -2, OWN_VERBOSE = -3, OWN_BACKGROUND = -4, OWN_TRUTH = -5 };

static const flag flags[] = {
    {"--train", OWN_TRAIN, INT_VALUE, 0},
    {"--rank", LOWRANK_OPT_BG_RANK, INT_VALUE, 0},
    {"--energy", LOWRANK_OPT_BG_ENERGY, DOUBLE_VALUE, 0},
    {"--threshold", LOWRANK_OPT_BG_THRESHOLD, DOUBLE_VALUE, 0},
    {"--sensitivity", LOWRANK_OPT_BG_SENSITIVITY, DOUBLE_VALUE, 0},
    {"--update-rate", LOWRANK_OPT_BG_UPDATE_RATE, DOUBLE_VALUE, 0},
    {"--update-interval", LOWRANK_OPT_BG_UPDATE_INTERVAL, INT_VALUE, 0},
    {"--median", LOWRANK_OPT_BG_MEDIAN, INT_VALUE, 0},
    {"--warmup", LOWRANK_OPT_BG_WARMUP, INT_VALUE, 0},
    {"--seed-method", LOWRANK_OPT_BG_MODE, SET_INT, LOWRANK_BG_MODE_SEED},
    {"--least-squares", LOWRANK_OPT_BG_ROBUST, SET_INT, 0},
    {"--no-update", LOWRANK_OPT_BG_UPDATE_RATE, SET_DOUBLE, 0},
    {"--grey", OWN_GREY, SET_INT, 0},
    {"--verbose", OWN_VERBOSE, SET_INT, 0},
    {"--background-image", OWN_BACKGROUND, TEXT_VALUE, 0},
    {"--groundtruth", OWN_TRUTH, TEXT_VALUE, 0},
};

#define NFLAGS (sizeof flags / sizeof flags[0])

static const flag *find_flag(const char *arg, const char **value)
{
    for (size_t i = 0; i < NFLAGS; i++) {
        size_t n = strlen(flags[i].name);
        if (strncmp(arg, flags[i].name, n) != 0)
            continue;
        if (arg[n] == '\0' || (arg[n] == '=' && takes_value(&flags[i]))) {
            *value = arg[n] == '=' ? arg + n + 1 : NULL;
            return &flags[i];
        }
    }
    return NULL;
}

static int parse_number(const char *text, int is_double, double *d, int64_t *i)
{
    char *end;
    errno = 0;
    if (is_double)
        *d = strtod(text, &end);
    else
        *i = strtoll(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' ? 0 : -1;
}

/* A flag that sets a library option. */
static int apply_option(lowrank_opts *opts, const flag *f, const char *value)
{
    double d = f->fixed;
    int64_t i = (int64_t)f->fixed;
    int is_double = f->kind == DOUBLE_VALUE || f->kind == SET_DOUBLE;
    if (takes_value(f) && parse_number(value, is_double, &d, &i) != 0)
        return tool_usage("background", "an option's value is not a number");
    int rc = is_double ? lowrank_opts_set_double(opts, f->key, d)
                       : lowrank_opts_set_int(opts, f->key, i);
    if (rc == LOWRANK_OK && f->key == LOWRANK_OPT_BG_THRESHOLD)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_BG_THRESHOLD_MODE, LOWRANK_BG_THRESHOLD_FIXED);
    return rc == LOWRANK_OK ? 0 : tool_fail(f->name, rc);
}

static int apply_own(job *jb, const flag *f, const char *value)
{
    double d;
    switch (f->key) {
    case OWN_TRAIN:
        if (parse_number(value, 0, &d, &jb->train) != 0 || jb->train < 2)
            return tool_usage("background", "--train takes a number of frames, at least 2");
        return 0;
    case OWN_GREY: jb->channels = 1; return 0;
    case OWN_VERBOSE: jb->verbose = 1; return 0;
    case OWN_TRUTH: jb->groundtruth = value; return 0;
    default: jb->background = value; return 0;
    }
}

/* Parse argv into opts and jb; returns 0, or the exit status on error. */
static int parse_args(int argc, char **argv, lowrank_opts *opts, job *jb)
{
    int npos = 0;
    for (int a = 1; a < argc; a++) {
        const char *value = NULL;
        const flag *f = argv[a][0] == '-' && argv[a][1] == '-' ? find_flag(argv[a], &value) : NULL;
        if (!f && argv[a][0] == '-')
            return tool_usage("background", "unknown option");
        if (!f) {
            if (npos == 2)
                return tool_usage("background", "expected INPUT_DIR and OUTPUT_DIR only");
            *(npos++ ? &jb->output : &jb->input) = argv[a];
            continue;
        }
        if (takes_value(f) && !value) {
            if (a + 1 == argc)
                return tool_usage("background", "an option lacks its value");
            value = argv[++a];
        }
        int rc = f->key < 0 ? apply_own(jb, f, value) : apply_option(opts, f, value);
        if (rc != 0)
            return rc;
    }
    return npos == 2 ? 0 : tool_usage("background", "expected INPUT_DIR and OUTPUT_DIR");
}

/* ------------------------------------------------------------ run */

typedef struct run {
    lowrank_background *bg;
    image *train; /* the training frames, decoded */
    int64_t ntrain;
    uint8_t *mask;
    double seconds, train_seconds; /* in the library: in all, training */
    int64_t tp, fp, fn, tn, scored; /* against the ground truth */
} run;

/* Count the mask's agreement with DIR/gt%06d.png, when it exists, by the
 * CDnet labels: 255 motion, 0 static and 50 shadow are scored; 85 (outside
 * the region of interest) and 170 (unknown) are not. */
static int score(const job *jb, run *r, int64_t i, const image *shape)
{
    char path[MAX_PATH], err[256];
    snprintf(path, sizeof path, "%s/gt%06lld.png", jb->groundtruth, (long long)i);
    if (!exists(path))
        return 0;
    image gt;
    if (image_read(path, 1, &gt, err, sizeof err) != 0) {
        fprintf(stderr, "lowrank background: %s: %s\n", path, err);
        return 1;
    }
    int ok = gt.width == shape->width && gt.height == shape->height, any = 0;
    for (int64_t p = 0; ok && p < gt.width * gt.height; p++) {
        int label = gt.data[p], detected = r->mask[p] == 255;
        if (label == 85 || label == 170)
            continue;
        int moving = label == 255;
        any = 1;
        r->tp += detected && moving;
        r->fp += detected && !moving;
        r->fn += !detected && moving;
        r->tn += !detected && !moving;
    }
    free(gt.data);
    if (!ok) {
        fprintf(stderr, "lowrank background: %s is not the frames' size\n", path);
        return 1;
    }
    r->scored += any;
    return 0;
}

static void print_scores(const run *r)
{
    double re = r->tp + r->fn ? (double)r->tp / (double)(r->tp + r->fn) : 0;
    double pr = r->tp + r->fp ? (double)r->tp / (double)(r->tp + r->fp) : 0;
    double f = re + pr > 0 ? 2 * re * pr / (re + pr) : 0;
    printf("scored=%lld F=%.4f precision=%.4f recall=%.4f\n", (long long)r->scored, f, pr, re);
}

static int train(const job *jb, const lowrank_opts *opts, run *r)
{
    r->ntrain = jb->train < jb->nframes ? jb->train : jb->nframes;
    r->train = calloc((size_t)r->ntrain, sizeof *r->train);
    const uint8_t **ptrs = calloc((size_t)r->ntrain, sizeof *ptrs);
    if (!r->train || !ptrs) {
        free(ptrs);
        fprintf(stderr, "lowrank background: out of memory\n");
        return 1;
    }
    for (int64_t i = 0; i < r->ntrain; i++) {
        if (load_frame(jb, i + 1, i ? &r->train[0] : NULL, &r->train[i]) != 0) {
            free(ptrs);
            return 1;
        }
        ptrs[i] = r->train[i].data;
    }
    const image *f = &r->train[0];
    int rc = lowrank_background_new(f->width, f->height, f->channels, opts, &r->bg);
    double t0 = now();
    if (rc == LOWRANK_OK)
        rc = lowrank_background_train(r->bg, ptrs, r->ntrain, f->width * f->channels);
    r->train_seconds = now() - t0;
    r->seconds += r->train_seconds;
    free(ptrs);
    if (rc != LOWRANK_OK)
        return tool_fail(jb->input, rc);
    r->mask = malloc((size_t)(f->width * f->height));
    if (!r->mask) {
        fprintf(stderr, "lowrank background: out of memory\n");
        return 1;
    }
    return 0;
}

static int write_image(const char *path, const uint8_t *data, const image *shape,
                       int64_t channels)
{
    char err[256];
    if (image_write_png(path, data, shape->width, shape->height, channels,
                        shape->width * channels, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "lowrank background: %s: %s\n", path, err);
    return 1;
}

/* Classify frame i (1-based) and write its mask. */
static int classify(const job *jb, run *r, int64_t i)
{
    image own = {0};
    const image *first = &r->train[0], *img = first;
    if (i <= r->ntrain)
        img = &r->train[i - 1];
    else if (load_frame(jb, i, first, &own) != 0)
        return 1;
    else
        img = &own;
    double t0 = now();
    int rc = lowrank_background_apply(r->bg, img->data, img->width * img->channels, r->mask,
                                      img->width);
    r->seconds += now() - t0;
    free(own.data);
    if (rc != LOWRANK_OK)
        return tool_fail(jb->input, rc);
    if (jb->groundtruth && score(jb, r, i, first) != 0)
        return 1;
    char path[MAX_PATH];
    snprintf(path, sizeof path, "%s/bin%06lld.png", jb->output, (long long)i);
    return write_image(path, r->mask, first, 1);
}

static int save_background(const job *jb, const run *r)
{
    const image *f = &r->train[0];
    uint8_t *img = malloc((size_t)(f->width * f->height * f->channels));
    if (!img) {
        fprintf(stderr, "lowrank background: out of memory\n");
        return 1;
    }
    int rc = lowrank_background_image(r->bg, img, f->width * f->channels);
    int status = rc == LOWRANK_OK ? write_image(jb->background, img, f, f->channels)
                                  : tool_fail(jb->background, rc);
    free(img);
    return status;
}

static void free_run(run *r)
{
    for (int64_t i = 0; r->train && i < r->ntrain; i++)
        free(r->train[i].data);
    free(r->train);
    free(r->mask);
    lowrank_background_free(r->bg);
}

int cmd_background(int argc, char **argv)
{
    /* 100 training frames: 4 seconds of video at 25 frames/s, long enough
     * for objects to move off any pixel most of the time */
    job jb = {NULL, NULL, NULL, NULL, 100, 3, 0, 0, ""};
    lowrank_opts *opts;
    int rc = lowrank_opts_new(&opts);
    if (rc != LOWRANK_OK)
        return tool_fail("options", rc);
    int status = parse_args(argc, argv, opts, &jb);
    if (status == 0)
        status = count_frames(&jb) == 0 ? 0 : 1;
    if (status == 0 && mkdir(jb.output, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "lowrank background: %s: %s\n", jb.output, strerror(errno));
        status = 1;
    }
    run r = {0};
    if (status == 0)
        status = train(&jb, opts, &r);
    for (int64_t i = 1; status == 0 && i <= jb.nframes; i++)
        status = classify(&jb, &r, i);
    if (status == 0 && jb.background)
        status = save_background(&jb, &r);
    if (status == 0) {
        printf("frames=%lld fps=%.1f\n", (long long)jb.nframes,
               (double)jb.nframes / (r.seconds > 0 ? r.seconds : 1e-9));
        if (jb.groundtruth)
            print_scores(&r);
        if (jb.verbose)
            fprintf(stderr, "train_frames=%lld train_seconds=%.3f apply_fps=%.1f\n",
                    (long long)r.ntrain, r.train_seconds,
                    (double)jb.nframes / fmax(r.seconds - r.train_seconds, 1e-9));
    }
    free_run(&r);
    lowrank_opts_free(opts);
    return status;
}
