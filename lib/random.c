/*
 * random.c - xoshiro256** (Blackman and Vigna, 2018) seeded by splitmix64,
 * with normal deviates by the Marsaglia polar method.
 */
#include <math.h>

#include "random.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void lr_rng_seed(lr_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lr_rng_u64(lr_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double lr_rng_uniform(lr_rng *r) { return (double)(lr_rng_u64(r) >> 11) * 0x1p-53; }

/* Polar method: exact, branch-light, no trigonometry. */
static void normal_pair(lr_rng *r, double *a, double *b)
{
    double u, v, s;
    do {
        u = 2 * lr_rng_uniform(r) - 1;
        v = 2 * lr_rng_uniform(r) - 1;
        s = u * u + v * v;
    } while (s >= 1 || s == 0);
    double f = sqrt(-2 * log(s) / s);
    *a = u * f;
    *b = v * f;
}

double lr_rng_normal(lr_rng *r)
{
    double a, b;
    normal_pair(r, &a, &b);
    return a;
}

void lr_rng_fill_normal(lr_rng *r, lowrank_dtype t, void *p, int64_t n)
{
    for (int64_t i = 0; i < n; i += 2) {
        double a, b;
        normal_pair(r, &a, &b);
        if (t == LOWRANK_FLOAT32) {
            ((float *)p)[i] = (float)a;
            if (i + 1 < n)
                ((float *)p)[i + 1] = (float)b;
        } else {
            ((double *)p)[i] = a;
            if (i + 1 < n)
                ((double *)p)[i + 1] = b;
        }
    }
}
