/*
 * compress.c - `make demo`: compress a real weight matrix by l2 (lowrank_svd)
 * and l1 (lowrank_lp) at a few ranks, printing what each stores and how far
 * each is from the matrix in both senses:
 *   l2: ||W - W_k||_F / ||W||_F, the error the SVD minimises;
 *   l1: sum_i dist(w_i, S) / sum_i ||w_i||, the rows' distances to the
 *       subspace S the approximation projects them on: the objective the
 *       lp fit lowers, which a few outlying rows move less.
 *
 *     compress W.npy [k ...]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <lowrank.h>

/* The l1 error of the rank-0 approximation: the sum of the rows' norms. */
static int sum_of_row_norms(const lowrank_matrix *w, double *sum)
{
    int64_t m = lowrank_matrix_rows(w), n = lowrank_matrix_cols(w);
    int rc = LOWRANK_OK;
    *sum = 0;
    for (int64_t i = 0; rc == LOWRANK_OK && i < m; i++) {
        double sq = 0, x = 0;
        for (int64_t j = 0; rc == LOWRANK_OK && j < n; j++) {
            rc = lowrank_matrix_get(w, i, j, &x);
            sq += x * x;
        }
        *sum += sqrt(sq);
    }
    return rc;
}

/* One row of the table: the factors' l2 and l1 errors. */
static int print_errors(const lowrank_matrix *w, const lowrank_factors *f, double l1_norm)
{
    double l2 = 0, l1 = 0;
    int rc = lowrank_factors_error(f, &l2);
    if (rc == LOWRANK_OK)
        rc = lowrank_lp_cost(w, f, 1.0, LOWRANK_OBJECTIVE_ROWS, &l1);
    if (rc == LOWRANK_OK)
        printf("   %8.4f %8.4f", l2, l1 / l1_norm);
    return rc;
}

/* Both approximations of rank k, side by side. */
static int compare_at_rank(const lowrank_matrix *w, int64_t k, double l1_norm)
{
    int64_t m = lowrank_matrix_rows(w), n = lowrank_matrix_cols(w);
    lowrank_factors *svd = NULL, *lp = NULL;
    int rc = lowrank_svd(w, k, NULL, &svd);
    if (rc == LOWRANK_OK)
        rc = lowrank_lp(w, k, 1.0, NULL, &lp); /* Lewis weights, then IRLS */
    if (rc == LOWRANK_OK) {
        printf("%5lld %8lld %7.1f%%", (long long)k, (long long)((m + n) * k),
               100.0 * (double)((m + n) * k) / (double)(m * n));
        rc = print_errors(w, svd, l1_norm);
    }
    if (rc == LOWRANK_OK)
        rc = print_errors(w, lp, l1_norm);
    printf("\n");
    lowrank_factors_free(lp);
    lowrank_factors_free(svd);
    return rc;
}

int main(int argc, char **argv)
{
    static const char *default_ranks[] = {"2", "5", "10", "20"};
    const char *const *ranks = argc > 2 ? (const char *const *)argv + 2 : default_ranks;
    int nranks = argc > 2 ? argc - 2 : 4;
    lowrank_matrix *w = NULL;
    double l1_norm = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: compress W.npy [k ...]\n");
        return 2;
    }
    int rc = lowrank_matrix_load_npy(argv[1], &w);
    if (rc == LOWRANK_OK)
        rc = sum_of_row_norms(w, &l1_norm);
    if (rc == LOWRANK_OK) {
        printf("%s: %lld x %lld, %lld numbers\n", argv[1], (long long)lowrank_matrix_rows(w),
               (long long)lowrank_matrix_cols(w),
               (long long)(lowrank_matrix_rows(w) * lowrank_matrix_cols(w)));
        printf("                          l2 (lowrank_svd)    l1 (lowrank_lp, p = 1)\n");
        printf("rank   stored    share   l2 error l1 error   l2 error l1 error\n");
    }
    for (int i = 0; rc == LOWRANK_OK && i < nranks; i++)
        rc = compare_at_rank(w, atoll(ranks[i]), l1_norm);
    if (rc != LOWRANK_OK)
        fprintf(stderr, "compress: %s: %s\n", lowrank_strerror(rc), lowrank_last_error());
    lowrank_matrix_free(w);
    return rc == LOWRANK_OK ? 0 : 1;
}
