/* kmeans.h — k-means clustering as scikit-learn's KMeans(algorithm="lloyd") runs it, for
 * the feasibility analysis (spec/pipeline.md 4): are the classes clusters in W and in R?
 *
 *   init     greedy k-means++ (sklearn _kmeans_plusplus): first centre a uniformly drawn
 *            point; then, per centre, n_local_trials = 2 + floor(ln k) candidates drawn
 *            with probability proportional to the squared distance to the closest centre
 *            so far (inverse CDF on the running sum), keeping the candidate that lowers
 *            the potential (sum of squared distances) most.
 *   Lloyd    assign every point to its nearest centre (ties: the lower index), move each
 *            centre to the mean of its points; a cluster left empty takes the point that
 *            is farthest from its centre (sklearn _relocate_empty_clusters). Stops when the
 *            labels repeat ("strict convergence") or the summed squared centre shift is
 *            <= tol * mean_d(var(X[:, d])) (sklearn's _tolerance), or after max_iter
 *            iterations; then labels are recomputed for the final centres.
 *   n_init   independent runs from the same random stream; the run with the lowest
 *            inertia (sum of squared distances to the assigned centre) wins, the first on
 *            ties. sklearn < 1.4 uses n_init = 10, >= 1.4 'auto' = 1 for k-means++.
 *
 * Randomness: numpy's legacy MT19937 (runtime/np_random.h) seeded with `seed`; a uniform
 * index is floor(u * n) with u = random_sample(). So runs are reproducible, but the
 * draws are not sklearn's (which uses randint/searchsorted on its own stream): results
 * agree with sklearn where the optimum is clear, not draw for draw.
 *
 * Variants of the assignment step (the cost: n * k * d per iteration):
 *   _ref  squared distances summed in float64 per (point, centre): the oracle.
 *   _cpu  sklearn's form |x|^2 - 2 x.c + |c|^2 with the cross term from one float32 GEMM
 *         (kernels/gemm.h), threaded; near-ties may resolve differently from _ref.
 * Every value is computed in a fixed order, so results do not depend on the thread count.
 */
#ifndef LIS_KMEANS_H
#define LIS_KMEANS_H

#include <stdint.h>

#include "runtime/status.h"

typedef struct {
    int k;          /* clusters */
    int n_init;     /* independent initialisations (10) */
    int max_iter;   /* Lloyd iterations per run (300) */
    double tol;     /* relative tolerance on the centre shift (1e-4) */
    uint32_t seed;  /* random stream (0) */
    int reference;  /* 1: use the _ref assignment (tests) */
} lis_kmeans_params;

void lis_kmeans_params_default(lis_kmeans_params *p, int k);

typedef struct {
    double inertia;  /* of the winning run */
    int n_iter;      /* Lloyd iterations of the winning run */
    int best_init;   /* index of the winning run */
} lis_kmeans_info;

/* X [n, d] float32 rows -> labels [n] in 0..k-1 and centers [k, d] (may be NULL).
 * Needs n >= k >= 1. info may be NULL. */
lis_status lis_kmeans(const lis_kmeans_params *p, int64_t n, int d, const float *X, int32_t *labels, double *centers,
                      lis_kmeans_info *info);

/* One assignment step: labels [n] = nearest centre, dist2 [n] = its squared distance.
 * C [k, d] float64 centres. _cpu needs Ct [d, k] float32 (transposed centres) and xn [n]
 * (|x|^2, float64) precomputed; scratch [n, k] float32. Returns the summed dist2. */
double lis_kmeans_assign_ref(int64_t n, int d, const float *X, int k, const double *C, int32_t *labels,
                             double *dist2);
double lis_kmeans_assign_cpu(int64_t n, int d, const float *X, const double *xn, int k, const double *C,
                             const float *Ct, float *scratch, int32_t *labels, double *dist2);

#endif
