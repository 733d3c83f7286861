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

#include "tool.h"

#define MAX_PATH 4096

typedef struct job {
    const char *input, *output, *background, *groundtruth;
    int64_t train, channels, max_pixels;
    int verbose, quiet, skip_bad;
    int64_t nframes;
    char ext[5]; /* "jpg" or "png" */
} job;

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
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

/* Frame i into img, of first's size when first is given: 0, or -1 after
 * an error naming the file, or 1 after a warning when bad frames are
 * skipped (--skip-bad-frames); img->data is NULL unless 0. */
static int load_frame(const job *jb, int64_t i, const image *first, image *img)
{
    char path[MAX_PATH], err[320];
    frame_path(jb, i, path);
    if (image_read(path, jb->channels, jb->max_pixels, img, err, sizeof err) == 0 && first &&
        (img->width != first->width || img->height != first->height)) {
        snprintf(err, sizeof err, "%lldx%lld pixels, the frames before it %lldx%lld",
                 (long long)img->width, (long long)img->height, (long long)first->width,
                 (long long)first->height);
        free(img->data);
        img->data = NULL;
    }
    if (img->data)
        return 0;
    fprintf(stderr, "lowrank background: %s%s: %s\n", jb->skip_bad ? "skipping " : "", path, err);
    return jb->skip_bad ? 1 : -1;
}

/* ------------------------------------------------------------ options */

/* The command line, by index in cli.flags. */
enum {
    F_TRAIN, F_GREY, F_VERBOSE, F_BACKGROUND, F_TRUTH, F_QUIET, /* the tool's own */
    F_MAX_PIXELS, F_SKIP_BAD,
    F_SEED_METHOD, F_LEAST_SQUARES, F_NO_UPDATE,       /* switches of library options */
    F_NO_REGISTRATION, F_SHADOWS, F_NEIGHBOURS,
    F_RANK, F_ENERGY, F_THRESHOLD, F_SENSITIVITY,      /* library options by value */
    F_UPDATE_RATE, F_UPDATE_INTERVAL, F_MEDIAN, F_WARMUP,
    F_SHADOW_RATIO, F_ABSORB, F_THREADS,
    NFLAGS
};

typedef struct cli {
    const char *shadows;
    long long train, max_pixels, value_int[NFLAGS];
    double value_double[NFLAGS];
    tool_flag flags[NFLAGS + 1];
} cli;

/* The library option each F_RANK.. flag sets. */
static const lowrank_option option_of[NFLAGS] = {
    [F_RANK] = LOWRANK_OPT_BG_RANK,
    [F_ENERGY] = LOWRANK_OPT_BG_ENERGY,
    [F_THRESHOLD] = LOWRANK_OPT_BG_THRESHOLD,
    [F_SENSITIVITY] = LOWRANK_OPT_BG_SENSITIVITY,
    [F_UPDATE_RATE] = LOWRANK_OPT_BG_UPDATE_RATE,
    [F_UPDATE_INTERVAL] = LOWRANK_OPT_BG_UPDATE_INTERVAL,
    [F_MEDIAN] = LOWRANK_OPT_BG_MEDIAN,
    [F_WARMUP] = LOWRANK_OPT_BG_WARMUP,
    [F_SHADOW_RATIO] = LOWRANK_OPT_BG_SHADOW_RATIO,
    [F_ABSORB] = LOWRANK_OPT_BG_ABSORB,
    [F_THREADS] = LOWRANK_OPT_THREADS,
};

static void describe_flags(cli *c, job *jb)
{
#define INT(name, i, arg, help) {name, FLAG_INT, &c->value_int[i], 0, arg, help}
#define DBL(name, i, arg, help) {name, FLAG_DOUBLE, &c->value_double[i], 0, arg, help}
#define SWITCH(name, help) {name, FLAG_BOOL, NULL, 0, NULL, help}
    const tool_flag flags[NFLAGS + 1] = {
        [F_TRAIN] = {"--train", FLAG_INT, &c->train, 0, "N",
                     "train on the first N frames, N >= 2 (default: 100,\n"
                     "or all frames of a shorter video)"},
        [F_GREY] = SWITCH("--grey", "process grey frames (default: colour)"),
        [F_VERBOSE] = SWITCH("--verbose",
                             "report the training's size and time and the\n"
                             "classifying speed on stderr"),
        [F_BACKGROUND] = {"--background-image", FLAG_STRING, &jb->background, 0, "FILE.png",
                          "write the final background image"},
        [F_TRUTH] = {"--groundtruth", FLAG_STRING, &jb->groundtruth, 0, "DIR",
                     "score the masks against DIR/gt000001.png, ...\n(CDnet labels)"},
        [F_QUIET] = TOOL_QUIET_FLAG,
        [F_MAX_PIXELS] = {"--max-pixels", FLAG_INT, &c->max_pixels, 0, "N",
                          "refuse frames whose header claims more than N pixels\n"
                          "(default: 33554432, 2^25: up to 8K UHD)"},
        [F_SKIP_BAD] = SWITCH("--skip-bad-frames",
                              "skip, with a warning, a frame that is unreadable,\n"
                              "corrupt, truncated or of another size (default: fail)"),
        [F_SEED_METHOD] = SWITCH("--seed-method",
                                 "the classic eigenbackground: covariance eigenvectors,\n"
                                 "fixed threshold (25 unless --threshold), no update"),
        [F_LEAST_SQUARES] = SWITCH("--least-squares",
                                   "train by least squares instead of the robust l1 fit"),
        [F_NO_UPDATE] = SWITCH("--no-update", "do not learn after training"),
        [F_NO_REGISTRATION] = SWITCH("--no-registration",
                                     "do not register frames by their global translation\n"
                                     "(a camera that drifts or shakes)"),
        [F_SHADOWS] = {"--shadows", FLAG_STRING, &c->shadows, 0, "WHAT",
                       "cast shadows in colour frames are 'background' (the\n"
                       "default), 'mark'ed 127 in the masks, or 'foreground'"},
        [F_RANK] = INT("--rank", F_RANK, "K",
                       "components of the background (default: 0, chosen by\n--energy)"),
        [F_ENERGY] = DBL("--energy", F_ENERGY, "E",
                         "cumulative contribution that chooses the rank, 0 < E <= 1\n"
                         "(default: 0.9)"),
        [F_THRESHOLD] = DBL("--threshold", F_THRESHOLD, "T",
                            "a fixed threshold of T grey levels instead of per-pixel\n"
                            "thresholds"),
        [F_SENSITIVITY] = DBL("--sensitivity", F_SENSITIVITY, "S",
                              "per-pixel threshold as a multiple of each pixel's noise\n"
                              "level (default: 4)"),
        [F_UPDATE_RATE] = DBL("--update-rate", F_UPDATE_RATE, "R",
                              "learning rate of the update from background pixels,\n"
                              "0 <= R <= 1 (default: 0.01)"),
        [F_UPDATE_INTERVAL] = INT("--update-interval", F_UPDATE_INTERVAL, "N",
                                  "update every N frames (default: 1)"),
        [F_MEDIAN] = INT("--median", F_MEDIAN, "N",
                         "median filter size of the masks, odd; 0 or 1: none\n(default: 5)"),
        [F_WARMUP] = INT("--warmup", F_WARMUP, "N",
                         "update rate at least 1 / (frames since training + 1)\n"
                         "for N frames (default: 0)"),
        [F_SHADOW_RATIO] = DBL("--shadow-ratio", F_SHADOW_RATIO, "A",
                               "the darkest a shadow may be, as a ratio of its\n"
                               "brightness to the background's, 0 < A < 1 (default: 0.6)"),
        [F_ABSORB] = INT("--absorb", F_ABSORB, "N",
                         "changed pixels are learnt at a pace of one threshold\n"
                         "per N frames (stopped objects, the model's mistakes);\n"
                         "0: never (default: 500)"),
        [F_NEIGHBOURS] = SWITCH("--no-neighbours",
                                "do not compare changed pixels with the background\n"
                                "half a pixel away"),
        [F_THREADS] = INT("--threads", F_THREADS, "N",
                          "threads of the model, the caller's included\n"
                          "(default: 0, the cores available)"),
        [NFLAGS] = TOOL_FLAGS_END,
    };
#undef INT
#undef DBL
#undef SWITCH
    memcpy(c->flags, flags, sizeof flags);
}

/* The LOWRANK_OPT_BG_SHADOWS value a --shadows word names, or 0 (out of
 * range: the library reports it). */
static int64_t shadow_mode(const char *word)
{
    static const char *const words[] = {"foreground", "background", "mark"};
    for (int i = 0; i < 3; i++)
        if (strcmp(word, words[i]) == 0)
            return LOWRANK_BG_SHADOWS_OFF + i;
    return 0;
}

/* The library options the command line names. */
static int set_options(const cli *c, lowrank_opts *opts)
{
    int rc = LOWRANK_OK;
    for (int i = F_RANK; rc == LOWRANK_OK && i < NFLAGS; i++)
        if (c->flags[i].seen)
            rc = c->flags[i].type == FLAG_DOUBLE
                     ? lowrank_opts_set_double(opts, option_of[i], c->value_double[i])
                     : lowrank_opts_set_int(opts, option_of[i], c->value_int[i]);
    if (rc == LOWRANK_OK && c->flags[F_THRESHOLD].seen)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_BG_THRESHOLD_MODE, LOWRANK_BG_THRESHOLD_FIXED);
    if (rc == LOWRANK_OK && c->flags[F_SEED_METHOD].seen)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_BG_MODE, LOWRANK_BG_MODE_SEED);
    if (rc == LOWRANK_OK && c->flags[F_LEAST_SQUARES].seen)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_BG_ROBUST, 0);
    if (rc == LOWRANK_OK && c->flags[F_NO_UPDATE].seen)
        rc = lowrank_opts_set_double(opts, LOWRANK_OPT_BG_UPDATE_RATE, 0.0);
    if (rc == LOWRANK_OK && c->flags[F_NO_REGISTRATION].seen)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_BG_REGISTRATION, 0);
    if (rc == LOWRANK_OK && c->flags[F_NEIGHBOURS].seen)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_BG_NEIGHBOURS, 0);
    if (rc == LOWRANK_OK && c->flags[F_SHADOWS].seen)
        rc = lowrank_opts_set_int(opts, LOWRANK_OPT_BG_SHADOWS, shadow_mode(c->shadows));
    return rc == LOWRANK_OK ? 0 : tool_fail("options", rc);
}

/* Parse argv into opts and jb; returns 0, the exit status of an error, or
 * TOOL_HELP. */
static int parse_args(int argc, char **argv, lowrank_opts *opts, job *jb)
{
    cli c = {.train = jb->train, .max_pixels = jb->max_pixels};
    char *dirs[2];
    describe_flags(&c, jb);
    int parsed = tool_parse("background", argc, argv, c.flags, dirs, 2);
    if (parsed < 0)
        return parsed == TOOL_HELP ? TOOL_HELP : 2;
    if (c.train < 2)
        return tool_usage("background", "--train takes a number of frames, at least 2");
    if (c.max_pixels < 1)
        return tool_usage("background", "--max-pixels takes a number of pixels, at least 1");
    jb->input = dirs[0];
    jb->output = dirs[1];
    jb->train = c.train;
    jb->max_pixels = c.max_pixels;
    jb->channels = c.flags[F_GREY].seen ? 1 : 3;
    jb->verbose = c.flags[F_VERBOSE].seen;
    jb->quiet = c.flags[F_QUIET].seen;
    jb->skip_bad = c.flags[F_SKIP_BAD].seen;
    return set_options(&c, opts);
}

/* ------------------------------------------------------------ run */

typedef struct run {
    lowrank_background *bg;
    image *train; /* the training frames, decoded (data NULL: skipped) */
    int64_t ntrain;
    const image *first; /* the first good frame: every frame has its size */
    int64_t truths;     /* ground-truth files found */
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
    r->truths++;
    image gt;
    if (image_read(path, 1, jb->max_pixels, &gt, err, sizeof err) != 0) {
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
    int64_t good = 0;
    for (int64_t i = 0; i < r->ntrain; i++) {
        int got = load_frame(jb, i + 1, r->first, &r->train[i]);
        if (got < 0) {
            free(ptrs);
            return 1;
        }
        if (got == 0) {
            r->first = r->first ? r->first : &r->train[i];
            ptrs[good++] = r->train[i].data;
        }
    }
    if (good < 2) {
        free(ptrs);
        fprintf(stderr, "lowrank background: %lld of the %lld training frames could be read, "
                        "at least 2 are needed\n",
                (long long)good, (long long)r->ntrain);
        return 1;
    }
    const image *f = r->first;
    int rc = lowrank_background_new(f->width, f->height, f->channels, opts, &r->bg);
    double t0 = tool_now();
    if (rc == LOWRANK_OK)
        rc = lowrank_background_train(r->bg, ptrs, good, f->width * f->channels);
    r->train_seconds = tool_now() - t0;
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

/* Classify frame i (1-based) and write its mask (none for a frame
 * skipped as bad). */
static int classify(const job *jb, run *r, int64_t i)
{
    image own = {0};
    const image *first = r->first, *img = &own;
    int got = 0;
    if (i <= r->ntrain)
        img = &r->train[i - 1];
    else
        got = load_frame(jb, i, first, &own);
    if (got != 0 || !img->data)
        return got < 0;
    double t0 = tool_now();
    int rc = lowrank_background_apply(r->bg, img->data, img->width * img->channels, r->mask,
                                      img->width);
    r->seconds += tool_now() - t0;
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
    const image *f = r->first;
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
    job jb = {NULL, NULL, NULL, NULL, 100, 3, IMAGE_MAX_PIXELS, 0, 0, 0, 0, ""};
    lowrank_opts *opts;
    int rc = lowrank_opts_new(&opts);
    if (rc != LOWRANK_OK)
        return tool_fail("options", rc);
    int status = parse_args(argc, argv, opts, &jb);
    if (status == TOOL_HELP) {
        lowrank_opts_free(opts);
        return 0;
    }
    if (status == 0)
        status = count_frames(&jb) == 0 ? 0 : 1;
    if (status == 0 && jb.groundtruth && !is_directory(jb.groundtruth)) {
        fprintf(stderr, "lowrank background: --groundtruth %s: %s\n", jb.groundtruth,
                exists(jb.groundtruth) ? "not a directory" : strerror(ENOENT));
        status = 1;
    }
    if (status == 0 && mkdir(jb.output, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "lowrank background: %s: %s\n", jb.output, strerror(errno));
        status = 1;
    }
    run r = {0};
    tool_progress pr; /* training reports through opts, the frames here */
    tool_progress_start(&pr, "background", opts, jb.quiet);
    if (status == 0)
        status = train(&jb, opts, &r);
    for (int64_t i = 1; status == 0 && i <= jb.nframes; i++)
        status = tool_progress_report((double)(i - 1) / (double)jb.nframes, &pr)
                     ? tool_interrupt_status()
                     : classify(&jb, &r, i);
    tool_progress_end(&pr);
    if (status == 0 && jb.background)
        status = save_background(&jb, &r);
    if (status == 0 && jb.groundtruth && r.truths == 0) {
        fprintf(stderr,
                "lowrank background: %s holds no ground truth (gt000001.png, ...) for any of "
                "the %lld frames\n",
                jb.groundtruth, (long long)jb.nframes);
        status = 1;
    }
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
