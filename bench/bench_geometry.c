/*
 * bench_geometry.c - times the geometry part of liblowrank on .npy inputs,
 * for bench/geometry.py to set side by side with its anchors.
 *
 *   bench_geometry blas
 *   bench_geometry mvee POINTS.npy EPS REPEAT
 *   bench_geometry rounding A.npy P lewis|lowner G.npy REPEAT
 *
 * Prints one line of key=value pairs; times are the median of REPEAT calls
 * of the library function alone (no file I/O), in seconds.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lowrank.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, by_value);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* The BLAS library mapped into this process. */
static void print_blas(void)
{
    char line[4096];
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "blas") && strchr(line, '/')) {
            printf("blas=%s", strchr(line, '/'));
            break;
        }
    if (f)
        fclose(f);
}

static lowrank_matrix *load(const char *path)
{
    lowrank_matrix *m;
    int rc = lowrank_matrix_load_npy(path, &m);
    if (rc != LOWRANK_OK) {
        fprintf(stderr, "%s: %s\n", path, lowrank_last_error());
        exit(1);
    }
    return m;
}

static void check(int rc, const char *what)
{
    if (rc != LOWRANK_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, lowrank_strerror(rc), lowrank_last_error());
        exit(1);
    }
}

static int mvee(char **argv)
{
    lowrank_matrix *p = load(argv[0]);
    int repeat = atoi(argv[2]);
    lowrank_opts *o;
    check(lowrank_opts_new(&o), "options");
    check(lowrank_opts_set_double(o, LOWRANK_OPT_EPS, atof(argv[1])), "eps");
    double t[32];
    lowrank_ellipsoid *e = NULL;
    for (int r = 0; r < repeat && r < 32; r++) {
        lowrank_ellipsoid_free(e);
        double t0 = now();
        check(lowrank_mvee(p, o, &e), "lowrank_mvee");
        t[r] = now() - t0;
    }
    const double *u = lowrank_matrix_data(lowrank_ellipsoid_weights(e));
    long core = 0;
    for (int64_t i = 0; i < lowrank_matrix_rows(p); i++)
        core += u[i] > 0;
    printf("seconds=%.4f eps=%.4g log_volume=%.10f core=%ld\n", median(t, repeat),
           lowrank_ellipsoid_eps(e), lowrank_ellipsoid_log_volume(e), core);
    lowrank_ellipsoid_free(e);
    lowrank_opts_free(o);
    lowrank_matrix_free(p);
    return 0;
}

static int rounding(char **argv)
{
    lowrank_matrix *a = load(argv[0]), *g = NULL;
    double p = strtod(argv[1], NULL), alpha = 0, t[32];
    int repeat = atoi(argv[4]);
    lowrank_opts *o;
    check(lowrank_opts_new(&o), "options");
    check(lowrank_opts_set_int(o, LOWRANK_OPT_METHOD,
                               strcmp(argv[2], "lowner") == 0 ? LOWRANK_METHOD_LOWNER
                                                              : LOWRANK_METHOD_LEWIS),
          "method");
    for (int r = 0; r < repeat && r < 32; r++) {
        lowrank_matrix_free(g);
        double t0 = now();
        check(lowrank_lp_rounding(a, p, o, &g, &alpha), "lowrank_lp_rounding");
        t[r] = now() - t0;
    }
    check(lowrank_matrix_save_npy(g, argv[3]), argv[3]);
    printf("seconds=%.4f alpha=%.10g\n", median(t, repeat), alpha);
    lowrank_matrix_free(g);
    lowrank_opts_free(o);
    lowrank_matrix_free(a);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "blas") == 0) {
        lowrank_matrix *m;
        double alpha; /* a call that loads BLAS */
        check(lowrank_matrix_new(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, 2, 1, &m), "matrix");
        check(lowrank_matrix_set(m, 0, 0, 1), "set");
        lowrank_matrix *g;
        check(lowrank_lp_rounding(m, 2, NULL, &g, &alpha), "rounding");
        print_blas();
        lowrank_matrix_free(g);
        lowrank_matrix_free(m);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "mvee") == 0)
        return mvee(argv + 2);
    if (argc == 7 && strcmp(argv[1], "rounding") == 0)
        return rounding(argv + 2);
    fprintf(stderr, "usage: bench_geometry blas | mvee POINTS.npy EPS REPEAT | "
                    "rounding A.npy P lewis|lowner G.npy REPEAT\n");
    return 2;
}
