/*
 * rename.h - liblowrank_mpi compiles two internal parts of the serial
 * library into itself: its BLAS/LAPACK layer (lib/blas.c, checked sizes and
 * LAPACK status for both precisions) and its generator (lib/random.c, the
 * same random block for the same seed).  It calls the serial library itself
 * through its public API only.  Every file of liblowrank_mpi, and those two
 * when built for it, are compiled with this header first (-include), so that
 * their symbols carry the lrm_ prefix: a program linking both static
 * archives gets no duplicate definitions, and the three helpers they need
 * (lr_fail, lr_malloc, lr_dtype_size) come from mpi/comm.c, which records
 * failures for lowrank_mpi_last_error().  A function added to lib/blas.c or
 * lib/random.c needs its line here (tests/test_mpi.sh links both archives).
 * Not installed.
 */
#ifndef LOWRANK_MPI_RENAME_H
#define LOWRANK_MPI_RENAME_H

#define lr_fail lrm_fail
#define lr_malloc lrm_malloc
#define lr_dtype_size lrm_dtype_size

#define lr_gemm lrm_gemm
#define lr_gemv lrm_gemv
#define lr_syrk lrm_syrk
#define lr_trsm lrm_trsm
#define lr_qr lrm_qr
#define lr_syevd lrm_syevd
#define lr_syevr lrm_syevr
#define lr_gesdd lrm_gesdd
#define lr_gesvdx lrm_gesvdx
#define lr_potrf lrm_potrf

#define lr_rng_seed lrm_rng_seed
#define lr_rng_u64 lrm_rng_u64
#define lr_rng_uniform lrm_rng_uniform
#define lr_rng_normal lrm_rng_normal
#define lr_rng_fill_normal lrm_rng_fill_normal

#endif
