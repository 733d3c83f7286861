/*
 * random.h - the library's pseudo-random numbers; not installed.
 *
 * Each randomized computation owns a generator seeded from LOWRANK_OPT_SEED,
 * so results depend on the seed alone: not on the run, the thread or the
 * number of BLAS threads.  xoshiro256** seeded through splitmix64.
 */
#ifndef LOWRANK_RANDOM_H
#define LOWRANK_RANDOM_H

#include <stdint.h>

#include "lowrank.h"

typedef struct lr_rng {
    uint64_t s[4];
} lr_rng;

void lr_rng_seed(lr_rng *r, uint64_t seed);
uint64_t lr_rng_u64(lr_rng *r);
/* Uniform on [0, 1), 53 random bits. */
double lr_rng_uniform(lr_rng *r);
/* Standard normal. */
double lr_rng_normal(lr_rng *r);
/* Fill n elements of dtype t at p with standard normal numbers. */
void lr_rng_fill_normal(lr_rng *r, lowrank_dtype t, void *p, int64_t n);

#endif
