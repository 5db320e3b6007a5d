/* tsne.h — exact t-SNE (van der Maaten & Hinton 2008) with scikit-learn's defaults
 * (sklearn.manifold.TSNE 1.2, method='exact'): squared Euclidean distances, per-point
 * Gaussian bandwidths by binary search on the perplexity (tolerance 1e-5, 100 steps),
 * P symmetrised and normalised, Student-t (1 degree of freedom) in the embedding;
 * gradient descent with momentum 0.5 for the first 250 iterations under early
 * exaggeration 12, then momentum 0.8; per-parameter gains (+0.2 / x0.8, min 0.01);
 * learning rate 'auto' = max(n / 12 / 4, 50); 1000 iterations; PCA initialisation
 * scaled to a first-component standard deviation of 1e-4 (sklearn's init='pca').
 * Deterministic (no random draws). O(n^2) memory and time per iteration: meant for the
 * units of one layer (2048), not for millions of points.
 */
#ifndef LIS_TSNE_H
#define LIS_TSNE_H

#include "runtime/status.h"

typedef struct {
    double perplexity;         /* 30 (capped at (n - 1) / 3) */
    double early_exaggeration; /* 12 */
    int n_iter;                /* 1000 */
    int exaggeration_iter;     /* 250 */
    double learning_rate;      /* <= 0: 'auto' */
} lis_tsne_params;

void lis_tsne_params_default(lis_tsne_params *p);
/* X [n, d] -> Y [n, 2]; *kl (optional) the final KL divergence. n >= 2. */
lis_status lis_tsne(const lis_tsne_params *p, const double *X, int n, int d, double *Y, double *kl);

#endif
