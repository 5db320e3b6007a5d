/* rsa.h — representational-similarity statistics and the feasibility analysis of the
 * linking (spec/pipeline.md 4, Fig. 3A): is the class structure of the generator's W the
 * same as that of the classifier's R?
 *
 * Matrices over the rows (samples) of X [n, d]:
 *   correlation  S_ij = Pearson r of rows i and j (numpy.corrcoef(X)); a constant row
 *                has no correlation: its row and column are 0 (numpy gives NaN), S_ii = 1.
 *   Euclidean    D_ij = |x_i - x_j| (scipy.spatial.distance.cdist), D_ii = 0.
 *   _ref: float64 loops (the oracle). _cpu: float32 GEMM of the standardised (correlation)
 *   or column-centred (Euclidean: |a|^2 + |b|^2 - 2ab after centring, which keeps the
 *   cancellation small) rows, threaded; agrees with _ref to ~1e-6 relative.
 * Comparisons of two matrices use their strict upper triangles (i < j, row by row):
 *   Pearson r (scipy.stats.pearsonr) and Spearman rho = Pearson r of the ranks, ties
 *   sharing their average rank (scipy.stats.spearmanr). A constant input gives NaN.
 *
 * The feasibility analysis ([inferred] procedure, spec 4; the paper's numbers need the PDF):
 *   repeat `repeats` times: draw `samples_per_class` examples of every class without
 *   replacement (fewer when a class has fewer; all classes then use the smallest count);
 *   k-means (k = number of classes, kernels/kmeans.h) separately in W and in R; the
 *   adjusted Rand index (kernels/ari.h) of each clustering against the class labels and of
 *   the two clusterings against each other; Pearson and Spearman correlations between the
 *   upper triangles of the W and R correlation matrices and of the W and R Euclidean
 *   matrices; the same (Pearson) for the class-centroid matrices (k x k); and, as a
 *   control, the correlation-matrix Pearson r after shuffling which R belongs to which W
 *   (chance level, about 0).
 * Randomness: one numpy RandomState(seed) stream for the draws (per repeat, per class in
 * order of first appearance: a partial Fisher-Yates shuffle of that class's indices,
 * j <-> j + floor(u (m - j)), the first samples_per_class kept) and the shuffle control;
 * k-means of repeat r uses seed km.seed + r.
 */
#ifndef LIS_RSA_H
#define LIS_RSA_H

#include <stdint.h>

#include "kernels/kmeans.h"
#include "runtime/status.h"

void lis_rsa_corr_matrix_ref(int64_t n, int d, const float *X, double *S);
lis_status lis_rsa_corr_matrix_cpu(int64_t n, int d, const float *X, double *S);
void lis_rsa_euclid_matrix_ref(int64_t n, int d, const float *X, double *D);
lis_status lis_rsa_euclid_matrix_cpu(int64_t n, int d, const float *X, double *D);

/* out [n (n - 1) / 2] = M[i, j] for i < j, row by row, M [n, n]. */
void lis_rsa_upper(int64_t n, const double *M, double *out);
/* Pearson r of a [m] and b [m]; NaN if either is constant or m < 2. */
double lis_pearson(int64_t m, const double *a, const double *b);
/* Ranks 1..m with ties averaged (scipy.stats.rankdata 'average'). */
lis_status lis_rank_average(int64_t m, const double *a, double *rank);
lis_status lis_spearman(int64_t m, const double *a, const double *b, double *rho);

/* ---- feasibility */
enum {
    LIS_FEAS_ARI_W,       /* k-means in W vs classes */
    LIS_FEAS_ARI_R,       /* k-means in R vs classes */
    LIS_FEAS_ARI_WR,      /* k-means in W vs k-means in R */
    LIS_FEAS_CORR_PEARSON,   /* correlation matrices of W and R: Pearson of the triangles */
    LIS_FEAS_CORR_SPEARMAN,
    LIS_FEAS_EUCLID_PEARSON, /* Euclidean matrices */
    LIS_FEAS_EUCLID_SPEARMAN,
    LIS_FEAS_CENTROID_CORR,  /* class-centroid correlation matrices, Pearson */
    LIS_FEAS_CENTROID_EUCLID,
    LIS_FEAS_CORR_SHUFFLED,  /* control: R rows shuffled against W rows */
    LIS_FEAS_NMETRIC
};
extern const char *const lis_feas_metric_names[LIS_FEAS_NMETRIC]; /* "ari_w", ... (CSV columns) */

typedef struct {
    int repeats;           /* draws (10) */
    int samples_per_class; /* per class and draw (100) */
    uint32_t seed;         /* draws and shuffle control (0) */
    int rsa;               /* 1: the similarity metrics as well (else NaN) */
    lis_kmeans_params km;  /* k is set to the number of classes */
} lis_feas_params;

void lis_feas_params_default(lis_feas_params *p);

typedef struct {
    int repeats, k, spc, n_draw;  /* n_draw = k * spc */
    int64_t *classes;             /* [k] class labels, in order of first appearance */
    double *metric;               /* [repeats, LIS_FEAS_NMETRIC] */
    int64_t *idx;                 /* [repeats, n_draw] rows drawn (grouped by class) */
    int32_t *labels_w, *labels_r; /* [repeats, n_draw] k-means labels */
    double *centroid_corr_w, *centroid_corr_r;     /* [k, k], mean over repeats */
    double *centroid_euclid_w, *centroid_euclid_r; /* [k, k], mean over repeats */
    double *inertia;              /* [repeats, 2] k-means inertia in W, R */
} lis_feas_result;

/* W [n, dw] (row stride ldw), R [n, dr] (row stride ldr), cls [n]: row i of W and of R
 * are one pair. Needs at least 2 classes with at least 2 examples each. */
lis_status lis_feasibility(const lis_feas_params *p, int64_t n, int dw, const float *W, int64_t ldw, int dr,
                           const float *R, int64_t ldr, const int64_t *cls, lis_feas_result *res);
void lis_feas_result_free(lis_feas_result *r);

/* mean, sample standard deviation (ddof = 1), min, max of column m over the repeats,
 * NaN values skipped (count in *nvalid, may be NULL) */
void lis_feas_summary(const lis_feas_result *r, int m, double *mean, double *std, double *mn, double *mx, int *nvalid);

#endif
