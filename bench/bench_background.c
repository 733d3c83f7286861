#define _POSIX_C_SOURCE 200809L /* clock_gettime */
/*
 * bench/bench_background.c - frames per second of the background model on a
 * video held in memory, for thread counts side by side.
 *
 *   bench/bench_background [--train N] [--rounds R] [--threads LIST] [--block B]
 *                          [--grey] SEQUENCE_DIR
 *
 * Reads SEQUENCE_DIR/input/in%06d.jpg (or .png), all frames, before any
 * clock starts; then, R times (default 3): makes a model with the default
 * options for each thread count of LIST (comma-separated
 * LOWRANK_OPT_THREADS values, default "1,0": one thread, then the default,
 * the cores available), trains each on the first N frames (default 100),
 * and applies them to every frame in blocks of B frames (default 50), each
 * block through every model in turn, the order reversed from one block to
 * the next.  One line per model and round:
 *
 *   round=1 threads=0 train_s=0.312 apply_fps=2210.4 fps=1523.0 apply_cpu_fps=1190.2 block_ratio=1.652
 *
 * apply_fps leaves the training out, fps counts it; apply_cpu_fps counts the
 * process's CPU time (all threads) instead of wall time, so that a run
 * slowed by other work on the machine shows.  block_ratio (every count but
 * the first) is the median over blocks of this model's speed over the first
 * count's on the same block: the two ran within milliseconds of each other,
 * so a change of load touches both alike, where runs of whole videos one
 * after the other differ by the machine's moods (on a virtual machine with
 * another process busy, by 15% and more).  The last masks of the counts are
 * compared: a line "masks differ" says the thread counts disagreed (they
 * must not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../tools/tool.h"

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Every frame of dir/input, into a new array of n images. */
static image *load_all(const char *dir, int64_t channels, int64_t *n)
{
    char path[4096], err[256];
    const char *ext = "jpg";
    snprintf(path, sizeof path, "%s/input/in%06d.jpg", dir, 1);
    if (!exists(path))
        ext = "png";
    image *v = NULL;
    for (*n = 0;; ++*n) {
        snprintf(path, sizeof path, "%s/input/in%06lld.%s", dir, (long long)*n + 1, ext);
        if (!exists(path))
            break;
        image *grown = realloc(v, (size_t)(*n + 1) * sizeof *v);
        if (!grown ||
            image_read(path, channels, IMAGE_MAX_PIXELS, &grown[*n], err, sizeof err) != 0) {
            fprintf(stderr, "bench_background: %s: %s\n", path, grown ? err : "out of memory");
            exit(1);
        }
        v = grown;
    }
    if (*n < 2) {
        fprintf(stderr, "bench_background: fewer than 2 frames in %s/input\n", dir);
        exit(1);
    }
    return v;
}

static void check(int rc, const char *what)
{
    if (rc != LOWRANK_OK) {
        fprintf(stderr, "bench_background: %s: %s: %s\n", what, lowrank_strerror(rc),
                lowrank_last_error());
        exit(1);
    }
}

/* A model of one thread count in a round, and the time it took. */
typedef struct model {
    int64_t threads;
    lowrank_background *bg;
    double train_s, apply_s, apply_cpu_s; /* wall and process CPU seconds */
    double *block_s;                      /* each block's apply seconds */
} model;

static void train(model *m, const image *f, int64_t ntrain)
{
    lowrank_opts *o;
    check(lowrank_opts_new(&o), "options");
    check(lowrank_opts_set_int(o, LOWRANK_OPT_THREADS, m->threads), "options");
    const uint8_t **ptrs = malloc((size_t)ntrain * sizeof *ptrs);
    if (!ptrs)
        exit(1);
    for (int64_t i = 0; i < ntrain; i++)
        ptrs[i] = f[i].data;
    double t0 = now(CLOCK_MONOTONIC);
    check(lowrank_background_new(f[0].width, f[0].height, f[0].channels, o, &m->bg), "new");
    check(lowrank_background_train(m->bg, ptrs, ntrain, f[0].width * f[0].channels), "train");
    m->train_s = now(CLOCK_MONOTONIC) - t0;
    free(ptrs);
    lowrank_opts_free(o);
}

/* Frames from to to - 1 through model m, timed as its block b. */
static void apply_block(model *m, const image *f, int64_t from, int64_t to, int64_t b,
                        uint8_t *mask)
{
    int64_t w = f[0].width;
    double cpu0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_MONOTONIC);
    for (int64_t i = from; i < to; i++)
        check(lowrank_background_apply(m->bg, f[i].data, w * f[0].channels, mask, w), "apply");
    m->block_s[b] = now(CLOCK_MONOTONIC) - t0;
    m->apply_s += m->block_s[b];
    m->apply_cpu_s += now(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median over blocks of the speed of m against m0 (m0's block time
 * over m's). */
static double median_block_ratio(const model *m0, const model *m, int64_t nblocks)
{
    double *r = malloc((size_t)nblocks * sizeof *r);
    if (!r)
        exit(1);
    for (int64_t b = 0; b < nblocks; b++)
        r[b] = m0->block_s[b] / m->block_s[b];
    qsort(r, (size_t)nblocks, sizeof *r, by_value);
    double med = nblocks % 2 ? r[nblocks / 2] : (r[nblocks / 2 - 1] + r[nblocks / 2]) / 2;
    free(r);
    return med;
}

/* One round: a model per thread count, trained in turn; then the frames in
 * blocks of `block`, each block through every model in turn, the order of
 * the models reversed from one block to the next, so that the models meet
 * the same load; the last masks into masks (ncounts x pixels). */
static void run_round(const image *f, int64_t n, int64_t ntrain, const int64_t *counts,
                      int64_t ncounts, int64_t block, int round, uint8_t *masks)
{
    int64_t nblocks = (n + block - 1) / block, pixels = f[0].width * f[0].height;
    model *ms = calloc((size_t)ncounts, sizeof *ms);
    if (!ms)
        exit(1);
    for (int64_t c = 0; c < ncounts; c++) {
        ms[c].threads = counts[c];
        ms[c].block_s = calloc((size_t)nblocks, sizeof *ms[c].block_s);
        if (!ms[c].block_s)
            exit(1);
        train(&ms[c], f, ntrain);
    }
    for (int64_t b = 0; b < nblocks; b++)
        for (int64_t k = 0; k < ncounts; k++) {
            int64_t c = b % 2 ? ncounts - 1 - k : k;
            int64_t to = (b + 1) * block < n ? (b + 1) * block : n;
            /* the last model's idle threads wait for its next frame for up
             * to a millisecond before they sleep (lib/threads.c): not in
             * this model's time */
            nanosleep(&(struct timespec){0, 2000000}, NULL);
            apply_block(&ms[c], f, b * block, to, b, masks + c * pixels);
        }
    for (int64_t c = 0; c < ncounts; c++) {
        model *m = &ms[c];
        printf("round=%d threads=%lld train_s=%.3f apply_fps=%.1f fps=%.1f apply_cpu_fps=%.1f",
               round, (long long)m->threads, m->train_s, (double)n / m->apply_s,
               (double)n / (m->train_s + m->apply_s), (double)n / m->apply_cpu_s);
        if (c > 0)
            printf(" block_ratio=%.3f", median_block_ratio(&ms[0], m, nblocks));
        printf("\n");
        lowrank_background_free(m->bg);
        free(m->block_s);
    }
    fflush(stdout);
    free(ms);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_background [--train N] [--rounds R] [--threads LIST] "
                    "[--block B] [--grey] SEQUENCE_DIR\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int64_t ntrain = 100, channels = 3, counts[16], ncounts = 0, block = 50;
    int rounds = 3;
    const char *list = "1,0", *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--train") == 0 && i + 1 < argc)
            ntrain = atoll(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            list = argv[++i];
        else if (strcmp(argv[i], "--block") == 0 && i + 1 < argc)
            block = atoll(argv[++i]);
        else if (strcmp(argv[i], "--grey") == 0)
            channels = 1;
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else
            usage();
    }
    for (const char *p = list; dir && *p && ncounts < 16; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
        counts[ncounts++] = atoll(p);
    if (!dir || ncounts == 0 || ntrain < 2 || rounds < 1 || block < 1)
        usage();
    int64_t n;
    image *f = load_all(dir, channels, &n);
    ntrain = ntrain < n ? ntrain : n;
    size_t pixels = (size_t)(f[0].width * f[0].height);
    uint8_t *masks = malloc((size_t)ncounts * pixels);
    if (!masks)
        return 1;
    printf("frames=%lld size=%lldx%lldx%lld train=%lld block=%lld\n", (long long)n,
           (long long)f[0].width, (long long)f[0].height, (long long)channels, (long long)ntrain,
           (long long)block);
    for (int r = 1; r <= rounds; r++) {
        run_round(f, n, ntrain, counts, ncounts, block, r, masks);
        for (int64_t c = 1; c < ncounts; c++)
            if (memcmp(masks, masks + c * pixels, pixels) != 0)
                printf("masks differ: threads=%lld against threads=%lld\n", (long long)counts[c],
                       (long long)counts[0]);
    }
    for (int64_t i = 0; i < n; i++)
        free(f[i].data);
    free(f);
    free(masks);
    return 0;
}
