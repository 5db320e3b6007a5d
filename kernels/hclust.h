/* hclust.h — agglomerative clustering with Ward's criterion, in scipy's output format
 * (scipy.cluster.hierarchy.linkage(X, 'ward'), Euclidean): Z [n-1, 4] rows
 * (cluster a, cluster b, distance, size), original points 0..n-1 and the cluster formed
 * at row i numbered n + i, rows in increasing distance, a < b in each row.
 * Lance-Williams update for Ward on Euclidean distances; the nearest-neighbour-chain
 * algorithm (O(n^2) time and memory), then the merges sorted by distance and relabelled
 * as scipy does. Also the dendrogram's leaf order (children in row order, a left of b)
 * and a flat cut into k clusters (scipy fcluster criterion='maxclust').
 */
#ifndef LIS_HCLUST_H
#define LIS_HCLUST_H

#include "runtime/status.h"

/* X [n, d] -> Z [(n-1) * 4]. n >= 2. */
lis_status lis_ward_linkage(const double *X, int n, int d, double *Z);
/* leaves [n]: the dendrogram's left-to-right order. */
void lis_linkage_leaves(const double *Z, int n, int *leaves);
/* cluster [n] in 1..k: cut below the last k-1 merges. */
void lis_linkage_cut(const double *Z, int n, int k, int *cluster);

#endif
