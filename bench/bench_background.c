#define _POSIX_C_SOURCE 200809L /* clock_gettime */
/*
 * bench/bench_background.c - frames per second of the background model on a
 * video held in memory, for thread counts side by side.
 *
 *   bench/bench_background [--train N] [--rounds R] [--threads LIST] [--grey]
 *                          SEQUENCE_DIR
 *
 * Reads SEQUENCE_DIR/input/in%06d.jpg (or .png), all frames, before any
 * clock starts; then, R times (default 3), for each thread count of LIST
 * (comma-separated LOWRANK_OPT_THREADS values, default "1,0": one thread,
 * then the default, the cores available) in turn, makes a model with the
 * default options and that count, trains it on the first N frames (default
 * 100) and applies it to every frame, and prints one line per run:
 *
 *   round=1 threads=1 train_s=0.512 apply_fps=1523.4 fps=1024.8 cpu_s=1.63
 *
 * apply_fps leaves the
 * training out, fps counts it; cpu_s is the process's CPU time over the run
 * (all threads), so that a run slowed by other work on the machine shows.
 * Runs of the counts are interleaved so that a change of load touches them
 * alike.  The last mask of each count is compared with the first count's:
 * a line "masks differ" says the thread counts disagreed (they must not).
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

/* One run: a model with `threads` threads, trained on ntrain frames, then
 * applied to all; the last mask into mask. */
static void run(const image *f, int64_t n, int64_t ntrain, int64_t threads, int round,
                uint8_t *mask)
{
    lowrank_opts *o;
    lowrank_background *bg;
    check(lowrank_opts_new(&o), "options");
    check(lowrank_opts_set_int(o, LOWRANK_OPT_THREADS, threads), "options");
    const uint8_t **ptrs = malloc((size_t)ntrain * sizeof *ptrs);
    if (!ptrs)
        exit(1);
    for (int64_t i = 0; i < ntrain; i++)
        ptrs[i] = f[i].data;
    int64_t w = f[0].width, stride = w * f[0].channels;
    double cpu0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_MONOTONIC);
    check(lowrank_background_new(w, f[0].height, f[0].channels, o, &bg), "new");
    check(lowrank_background_train(bg, ptrs, ntrain, stride), "train");
    double t1 = now(CLOCK_MONOTONIC), cpu1 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (int64_t i = 0; i < n; i++)
        check(lowrank_background_apply(bg, f[i].data, stride, mask, w), "apply");
    double t2 = now(CLOCK_MONOTONIC), cpu2 = now(CLOCK_PROCESS_CPUTIME_ID), cpu = cpu2 - cpu0;
    lowrank_background_free(bg);
    printf("round=%d threads=%lld train_s=%.3f apply_fps=%.1f fps=%.1f cpu_s=%.2f "
           "apply_cpu_fps=%.1f\n",
           round, (long long)threads, t1 - t0, (double)n / (t2 - t1), (double)n / (t2 - t0), cpu,
           (double)n / (cpu2 - cpu1));
    fflush(stdout);
    free(ptrs);
    lowrank_opts_free(o);
}

int main(int argc, char **argv)
{
    int64_t ntrain = 100, channels = 3, counts[16], ncounts = 0;
    int rounds = 3;
    const char *list = "1,0", *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--train") == 0 && i + 1 < argc)
            ntrain = atoll(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            list = argv[++i];
        else if (strcmp(argv[i], "--grey") == 0)
            channels = 1;
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else {
            fprintf(stderr, "usage: bench_background [--train N] [--rounds R] [--threads LIST] "
                            "[--grey] SEQUENCE_DIR\n");
            return 2;
        }
    }
    for (const char *p = list; dir && *p && ncounts < 16; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
        counts[ncounts++] = atoll(p);
    if (!dir || ncounts == 0 || ntrain < 2 || rounds < 1) {
        fprintf(stderr, "usage: bench_background [--train N] [--rounds R] [--threads LIST] "
                        "[--grey] SEQUENCE_DIR\n");
        return 2;
    }
    int64_t n;
    image *f = load_all(dir, channels, &n);
    ntrain = ntrain < n ? ntrain : n;
    size_t pixels = (size_t)(f[0].width * f[0].height);
    uint8_t *first = malloc(pixels), *mask = malloc(pixels);
    if (!first || !mask)
        return 1;
    printf("frames=%lld size=%lldx%lldx%lld train=%lld\n", (long long)n, (long long)f[0].width,
           (long long)f[0].height, (long long)channels, (long long)ntrain);
    for (int r = 1; r <= rounds; r++)
        for (int64_t c = 0; c < ncounts; c++) {
            run(f, n, ntrain, counts[c], r, c == 0 ? first : mask);
            if (c > 0 && memcmp(first, mask, pixels) != 0)
                printf("masks differ: threads=%lld against threads=%lld\n", (long long)counts[c],
                       (long long)counts[0]);
        }
    for (int64_t i = 0; i < n; i++)
        free(f[i].data);
    free(f);
    free(first);
    free(mask);
    return 0;
}
