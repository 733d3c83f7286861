#define _POSIX_C_SOURCE 200809L /* clock_gettime */
/*
 * bench/bench_svd.c - time lowrank_svd() on a matrix from an .npy file.
 *
 *   bench/bench_svd [-k K] [--tol T] [--method auto|exact|randomized] [--reps N]
 *             [--seed S] [--oversampling P] [--power-iter Q] [--out PREFIX]
 *             IN.npy
 *   bench/bench_svd --gemm-rate N
 *   bench/bench_svd --gesvdx -k K [--reps N] [--out PREFIX] IN.npy
 *   bench/bench_svd --route lanczos|gram|lapack -k K [--reps N] [--out PREFIX] IN.npy
 *
 * Times the library call alone (the file is read before the clock starts and
 * the factors are freed after it stops), N times (default 5), and prints one
 * line of key=value pairs: the median and minimum seconds, the rank, the
 * error estimate and the peak resident memory of the process, input matrix
 * included (VmHWM of /proc/self/status: getrusage's maxrss would also count
 * the memory of the parent that forked this program).  --out PREFIX writes
 * PREFIX.u.npy, PREFIX.s.npy and PREFIX.vt.npy from the last run, for the
 * comparison script to score.  --gemm-rate N times an N x N x N sgemm and
 * dgemm through the BLAS the library uses and prints GFLOP/s: the physical
 * limit of this work on this machine.  --gesvdx times LAPACK's subset SVD
 * driver (?gesvdx, the k largest triplets) instead of the library, on a
 * column-major copy made before each run: the exact alternative the
 * library's Gram route was measured against.  --route times the exact
 * method started from the given route whatever the shape rule says
 * (lib/svd.h; the measurements behind the rule) and adds route=, the route
 * whose result came back.
 */
#include <cblas.h>
#include <lapacke.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lowrank.h"
#include "svd.h" /* lr_svd_exact, for --route */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Peak resident set of this process in MB: VmHWM, else getrusage. */
static double peak_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = atof(line + 6);
    if (f)
        fclose(f);
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = (double)ru.ru_maxrss;
    }
    return kb / 1024.0;
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "bench/bench_svd: %s: %s: %s\n", what, lowrank_strerror(rc), lowrank_last_error());
    return 1;
}

/* The path of the BLAS this process runs, from its memory map (Debian's
 * alternatives decide it at run time). */
static void blas_path(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
        char *path = strchr(line, '/');
        if (path && strstr(path, "blas")) {
            path[strcspn(path, "\n")] = 0;
            snprintf(buf, cap, "%s", path);
            break;
        }
    }
    if (f)
        fclose(f);
}

/* Best of 3 runs of an n x n x n gemm in each precision, in GFLOP/s. */
static int gemm_rate(int n)
{
    size_t nn = (size_t)n * (size_t)n;
    float *fa = calloc(3 * nn, sizeof *fa);
    double *da = calloc(3 * nn, sizeof *da);
    if (!fa || !da)
        return 1;
    for (size_t i = 0; i < 2 * nn; i++) {
        fa[i] = (float)((i * 7919) % 1000) / 1000.0f;
        da[i] = (double)((i * 7919) % 1000) / 1000.0;
    }
    double best_s = 1e30, best_d = 1e30;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, fa, n, fa + nn, n,
                    0.0f, fa + 2 * nn, n);
        double t1 = now();
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, da, n, da + nn, n,
                    0.0, da + 2 * nn, n);
        double t2 = now();
        best_s = t1 - t0 < best_s ? t1 - t0 : best_s;
        best_d = t2 - t1 < best_d ? t2 - t1 : best_d;
    }
    double flops = 2.0 * n * (double)n * n;
    char blas[4096];
    blas_path(blas, sizeof blas);
    printf("sgemm_gflops=%.1f dgemm_gflops=%.1f n=%d blas=%s\n", flops / best_s / 1e9,
           flops / best_d / 1e9, n, blas);
    free(fa);
    free(da);
    return 0;
}

static int save(const lowrank_matrix *m, const char *prefix, const char *part)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.%s.npy", prefix, part);
    int rc = lowrank_matrix_save_npy(m, path);
    return rc == LOWRANK_OK ? 0 : die(path, rc);
}

/* The k leading singular triplets of a by LAPACK's ?gesvdx on a fresh
 * column-major copy (not timed): u (m x k), s (k) and vt (k x n), all
 * column-major in a's dtype.  Returns the seconds of the LAPACK call, or
 * a negative number on failure. */
static double gesvdx(const lowrank_matrix *a, int k, lowrank_matrix *u, lowrank_matrix *s,
                     lowrank_matrix *vt)
{
    lowrank_matrix *c;
    if (lowrank_matrix_convert(a, lowrank_matrix_dtype(a), LOWRANK_COL_MAJOR, &c) != LOWRANK_OK)
        return -1;
    int m = (int)lowrank_matrix_rows(a), n = (int)lowrank_matrix_cols(a), found = 0;
    int *iwork = malloc(12 * (size_t)(m < n ? m : n) * sizeof *iwork);
    double t0 = now();
    int info = lowrank_matrix_dtype(a) == LOWRANK_FLOAT32
                   ? LAPACKE_sgesvdx(LAPACK_COL_MAJOR, 'V', 'V', 'I', m, n,
                                     lowrank_matrix_data(c), m, 0, 0, 1, k, &found,
                                     lowrank_matrix_data(s), lowrank_matrix_data(u), m,
                                     lowrank_matrix_data(vt), k, iwork)
                   : LAPACKE_dgesvdx(LAPACK_COL_MAJOR, 'V', 'V', 'I', m, n,
                                     lowrank_matrix_data(c), m, 0, 0, 1, k, &found,
                                     lowrank_matrix_data(s), lowrank_matrix_data(u), m,
                                     lowrank_matrix_data(vt), k, iwork);
    double t = now() - t0;
    free(iwork);
    lowrank_matrix_free(c);
    return info == 0 && found == k ? t : -1;
}

/* --gesvdx: time LAPACK's subset driver on the same matrix. */
static int run_gesvdx(const lowrank_matrix *a, long long k, long long reps, const char *out)
{
    lowrank_dtype t = lowrank_matrix_dtype(a);
    int64_t m = lowrank_matrix_rows(a), n = lowrank_matrix_cols(a), mn = m < n ? m : n;
    lowrank_matrix *u, *s, *vt;
    if (k < 1 || k > mn || lowrank_matrix_new(t, LOWRANK_COL_MAJOR, m, k, &u) != LOWRANK_OK ||
        lowrank_matrix_new(t, LOWRANK_COL_MAJOR, mn, 1, &s) != LOWRANK_OK ||
        lowrank_matrix_new(t, LOWRANK_COL_MAJOR, k, n, &vt) != LOWRANK_OK)
        return fprintf(stderr, "bench/bench_svd: --gesvdx needs 1 <= k <= min(m, n)\n"), 2;
    double *times = calloc((size_t)reps, sizeof *times);
    for (long long r = 0; r < reps; r++)
        if ((times[r] = gesvdx(a, (int)k, u, s, vt)) < 0)
            return fprintf(stderr, "bench/bench_svd: gesvdx failed\n"), 1;
    double tmin = times[0];
    for (long long r = 1; r < reps; r++)
        tmin = times[r] < tmin ? times[r] : tmin;
    printf("seconds=%.6f min_seconds=%.6f rank=%lld error=nan maxrss_mb=%.1f\n",
           median(times, (int)reps), tmin, k, peak_mb());
    int status = 0;
    if (out)
        status = save(u, out, "u") || save(s, out, "s") || save(vt, out, "vt");
    free(times);
    lowrank_matrix_free(u);
    lowrank_matrix_free(s);
    lowrank_matrix_free(vt);
    return status;
}


int main(int argc, char **argv)
{
    long long k = 0, reps = 5;
    int lapack = 0, route = 0; /* 0: lowrank_svd */
    lr_exact_route taken = LR_ROUTE_RULE;
    const char *routes[] = {"rule", "lanczos", "gram", "lapack"};
    const char *in = NULL, *out = NULL;
    lowrank_opts *opts;
    if (lowrank_opts_new(&opts) != LOWRANK_OK)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = LOWRANK_OK;
        if (strcmp(a, "--gemm-rate") == 0 && v)
            return gemm_rate(atoi(v));
        else if (strcmp(a, "--gesvdx") == 0) {
            lapack = 1;
            continue;
        }
        else if (strcmp(a, "--route") == 0 && v) {
            for (route = 1; route < 4 && strcmp(v, routes[route]) != 0; route++)
                ;
            if (route == 4)
                return fprintf(stderr, "bench/bench_svd: unknown route '%s'\n", v), 2;
        } else if (strcmp(a, "-k") == 0 && v)
            k = atoll(v);
        else if (strcmp(a, "--reps") == 0 && v)
            reps = atoll(v);
        else if (strcmp(a, "--out") == 0 && v)
            out = v;
        else if (strcmp(a, "--tol") == 0 && v)
            rc = lowrank_opts_set_double(opts, LOWRANK_OPT_TOLERANCE, atof(v));
        else if (strcmp(a, "--seed") == 0 && v)
            rc = lowrank_opts_set_int(opts, LOWRANK_OPT_SEED, atoll(v));
        else if (strcmp(a, "--oversampling") == 0 && v)
            rc = lowrank_opts_set_int(opts, LOWRANK_OPT_OVERSAMPLING, atoll(v));
        else if (strcmp(a, "--power-iter") == 0 && v)
            rc = lowrank_opts_set_int(opts, LOWRANK_OPT_POWER_ITER, atoll(v));
        else if (strcmp(a, "--method") == 0 && v)
            rc = lowrank_opts_set_int(opts, LOWRANK_OPT_METHOD,
                                      strcmp(v, "exact") == 0        ? LOWRANK_METHOD_EXACT
                                      : strcmp(v, "randomized") == 0 ? LOWRANK_METHOD_RANDOMIZED
                                      : strcmp(v, "auto") == 0       ? LOWRANK_METHOD_AUTO
                                                                     : -1);
        else if (a[0] != '-' && !in) {
            in = a;
            continue;
        } else {
            fprintf(stderr, "bench/bench_svd: bad argument '%s' (see the comment in bench/bench_svd.c)\n", a);
            return 2;
        }
        if (rc != LOWRANK_OK)
            return die(a, rc);
        i++;
    }
    if (!in || reps < 1)
        return fprintf(stderr, "usage: bench/bench_svd [-k K] [options] IN.npy\n"), 2;
    lowrank_matrix *a;
    int rc = lowrank_matrix_load_npy(in, &a);
    if (rc != LOWRANK_OK)
        return die(in, rc);
    if (lapack) {
        int status = run_gesvdx(a, k, reps, out);
        lowrank_matrix_free(a);
        lowrank_opts_free(opts);
        return status;
    }
    double *t = calloc((size_t)reps, sizeof *t), err = 0;
    lowrank_factors *f = NULL;
    for (long long r = 0; r < reps; r++) {
        lowrank_factors_free(f);
        double t0 = now();
        rc = route ? lr_svd_exact(a, k, opts, (lr_exact_route)route, &f, &taken)
                   : lowrank_svd(a, k, opts, &f);
        t[r] = now() - t0;
        if (rc != LOWRANK_OK)
            return die("lowrank_svd", rc);
    }
    lowrank_factors_error(f, &err);
    double tmin = t[0];
    for (long long r = 1; r < reps; r++)
        tmin = t[r] < tmin ? t[r] : tmin;
    printf("seconds=%.6f min_seconds=%.6f rank=%lld error=%.9g maxrss_mb=%.1f",
           median(t, (int)reps), tmin, (long long)lowrank_factors_rank(f), err,
           peak_mb());
    printf(route ? " route=%s\n" : "\n", routes[taken]);
    int status = 0;
    if (out)
        status = save(lowrank_factors_u(f), out, "u") || save(lowrank_factors_s(f), out, "s") ||
                 save(lowrank_factors_vt(f), out, "vt");
    lowrank_factors_free(f);
    lowrank_matrix_free(a);
    lowrank_opts_free(opts);
    free(t);
    return status;
}
