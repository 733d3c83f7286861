/*
 * bench_pdgesvd.c - the anchor of bench/mpi.sh: ScaLAPACK's pdgesvd (every
 * singular value, and with --vectors U and V^T too) of an .npy matrix on a
 * P x Q grid of MPI ranks, each reading only the rows of its blocks
 * (lowrank_matrix_load_npy_rows, liblowrank's public API, for the reading
 * alone).  Prints the time of the slowest rank; rank 0 writes the singular
 * values with --values.  The bytes it communicates are counted by Open MPI's
 * pml monitoring, as bench/mpi.sh runs it.
 *
 *   mpirun -np 4 bench/bench_pdgesvd A.npy [--vectors] [--grid 4x1] [--nb 64]
 *                                          [--values S.npy]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lowrank.h"

/* BLACS and ScaLAPACK (Fortran symbols; the hidden lengths of the
 * character arguments come last). */
void Cblacs_get(int icontxt, int what, int *val);
void Cblacs_gridinit(int *icontxt, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int icontxt, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int icontxt);
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
               const int *irsrc, const int *icsrc, const int *ictxt, const int *lld, int *info);
void pdgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a,
              const int *ia, const int *ja, const int *desca, double *s, double *u, const int *iu,
              const int *ju, const int *descu, double *vt, const int *ivt, const int *jvt,
              const int *descvt, double *work, const int *lwork, int *info, size_t ljobu,
              size_t ljobvt);

static int rank;

static void die(const char *what)
{
    fprintf(stderr, "bench_pdgesvd: rank %d: %s\n", rank, what);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

/* This rank's part of the m x n matrix in path, block-cyclic (mb x nb blocks
 * on the nprow x npcol grid), column-major with leading dimension lld. */
static double *read_blocks(const char *path, int m, int n, int mb, int nb, int nprow, int npcol,
                           int myrow, int mycol, int lld)
{
    int zero = 0, nloc = numroc_(&n, &nb, &mycol, &zero, &npcol);
    double *a = calloc((size_t)lld * (size_t)(nloc > 0 ? nloc : 1), sizeof *a);
    if (!a)
        die("out of memory");
    for (int b = myrow; b * mb < m; b += nprow) { /* this rank's row blocks */
        int first = b * mb, count = m - first < mb ? m - first : mb, lrow = (b / nprow) * mb;
        lowrank_matrix *rows;
        if (lowrank_matrix_load_npy_rows(path, first, count, &rows) != LOWRANK_OK)
            die(lowrank_last_error());
        for (int j = 0; j < n; j++) {
            if ((j / nb) % npcol != mycol)
                continue;
            int lcol = (j / nb / npcol) * nb + j % nb;
            for (int i = 0; i < count; i++)
                lowrank_matrix_get(rows, i, j, &a[(size_t)(lrow + i) + (size_t)lcol * lld]);
        }
        lowrank_matrix_free(rows);
    }
    return a;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *in = NULL, *values = NULL;
    int vectors = 0, nprow = size, npcol = 1, nb = 64;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--vectors") == 0)
            vectors = 1;
        else if (strcmp(argv[i], "--grid") == 0 && i + 1 < argc)
            sscanf(argv[++i], "%dx%d", &nprow, &npcol);
        else if (strcmp(argv[i], "--nb") == 0 && i + 1 < argc)
            nb = atoi(argv[++i]);
        else if (strcmp(argv[i], "--values") == 0 && i + 1 < argc)
            values = argv[++i];
        else
            in = argv[i];
    }
    if (!in || nprow * npcol != size || nb < 1)
        die("usage: bench_pdgesvd A.npy [--vectors] [--grid PxQ] [--nb NB] [--values S.npy]");
    int64_t rows64, cols64;
    lowrank_dtype t;
    lowrank_layout l;
    if (lowrank_npy_info(in, &rows64, &cols64, &t, &l) != LOWRANK_OK)
        die(lowrank_last_error());
    int m = (int)rows64, n = (int)cols64, mn = m < n ? m : n, zero = 0, one = 1, info, ctx;
    Cblacs_get(-1, 0, &ctx);
    Cblacs_gridinit(&ctx, "Row", nprow, npcol);
    int myrow, mycol;
    Cblacs_gridinfo(ctx, &nprow, &npcol, &myrow, &mycol);
    int mloc = numroc_(&m, &nb, &myrow, &zero, &nprow), lld = mloc > 1 ? mloc : 1;
    int desca[9], descu[9], descvt[9];
    descinit_(desca, &m, &n, &nb, &nb, &zero, &zero, &ctx, &lld, &info);
    double *a = read_blocks(in, m, n, nb, nb, nprow, npcol, myrow, mycol, lld);
    /* U (m x mn) like A; V^T (mn x n) */
    int ncu = numroc_(&mn, &nb, &mycol, &zero, &npcol),
        mvt = numroc_(&mn, &nb, &myrow, &zero, &nprow);
    int lldvt = mvt > 1 ? mvt : 1, ncvt = numroc_(&n, &nb, &mycol, &zero, &npcol);
    descinit_(descu, &m, &mn, &nb, &nb, &zero, &zero, &ctx, &lld, &info);
    descinit_(descvt, &mn, &n, &nb, &nb, &zero, &zero, &ctx, &lldvt, &info);
    double *s = malloc((size_t)mn * sizeof *s),
           *u = vectors ? malloc((size_t)lld * (size_t)(ncu > 0 ? ncu : 1) * sizeof *u) : NULL,
           *vt = vectors ? malloc((size_t)lldvt * (size_t)(ncvt > 0 ? ncvt : 1) * sizeof *vt)
                         : NULL;
    const char *job = vectors ? "V" : "N";
    double query;
    int lwork = -1;
    pdgesvd_(job, job, &m, &n, a, &one, &one, desca, s, u, &one, &one, descu, vt, &one, &one,
             descvt, &query, &lwork, &info, 1, 1);
    lwork = (int)query + 1;
    double *work = malloc((size_t)lwork * sizeof *work);
    if (!s || !work || (vectors && (!u || !vt)))
        die("out of memory");
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    pdgesvd_(job, job, &m, &n, a, &one, &one, desca, s, u, &one, &one, descu, vt, &one, &one,
             descvt, work, &lwork, &info, 1, 1);
    double seconds = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (info != 0)
        die("pdgesvd failed");
    if (rank == 0) {
        printf("pdgesvd m=%d n=%d grid=%dx%d nb=%d vectors=%d seconds=%.6f s1=%.17g\n", m, n, nprow,
               npcol, nb, vectors, seconds, s[0]);
        lowrank_matrix *sv;
        if (values && (lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_COL_MAJOR, mn, 1, s, mn, &sv) !=
                           LOWRANK_OK ||
                       lowrank_matrix_save_npy(sv, values) != LOWRANK_OK))
            die(lowrank_last_error());
        if (values)
            lowrank_matrix_free(sv);
    }
    free(a);
    free(s);
    free(u);
    free(vt);
    free(work);
    Cblacs_gridexit(ctx);
    MPI_Finalize();
    return 0;
}
