/* ari.h — the adjusted Rand index of two labelings, as sklearn.metrics.adjusted_rand_score
 * (Hubert & Arabie 1985) computes it from the pair confusion matrix:
 *
 *   contingency n_ij (labels a = i, labels b = j), row sums a_i, column sums b_j, n points;
 *   S = sum n_ij^2,  tp = S - n,  fp = sum_j b_j^2 - S,  fn = sum_i a_i^2 - S,
 *   tn = n^2 - tp - fp - fn - n   (ordered pairs of distinct points)
 *   ARI = 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)),  1 when fn = fp = 0
 *
 * (= (sum C(n_ij,2) - E) / (mean(sum C(a_i,2), sum C(b_j,2)) - E), E the product over
 * C(n,2)). 1 for identical partitions (up to renaming), about 0 for independent ones,
 * negative below chance. Labels are any int64 values; counts are exact in int64.
 */
#ifndef LIS_ARI_H
#define LIS_ARI_H

#include <stdint.h>

#include "runtime/status.h"

/* *ari for labelings a [n], b [n]; n = 0 gives 1 (sklearn). */
lis_status lis_ari(int64_t n, const int64_t *a, const int64_t *b, double *ari);
/* Same for int32 labels (k-means output). */
lis_status lis_ari_i32(int64_t n, const int32_t *a, const int32_t *b, double *ari);

#endif
