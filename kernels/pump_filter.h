/* pump_filter.h — PUMP's post-filter of correspondences (spec/pump.md s.6c; naver/pump
 * post_filter.py filter_corres with densify 'no').
 *
 * Rows (x1, y1, x2, y2, score, code). Two rows i != j are neighbours when
 *   ||p1_j - p1_i|| <= 4*locality  and  ||p2_j - p2_i|| <= 4*locality   (p1 = (x1, y1), p2 = (x2, y2))
 *   and dot(u1, u2) >= cos(90 deg), u = the displacement divided by max(its norm, 1e-16),
 * everything in float32 as the original's numpy code (the angle test is then "strictly
 * positive" in practice). Only code 0 (single scale, no rotation) is supported, which is all
 * LinkingInStyle produces. Each row's score gets + log2(size of its connected component)
 * and the rows of components with more than min_cc_size members are kept, in order.
 * Candidates are found through a grid of 4*locality-pixel bins in img1 (both distance tests
 * are required, so this finds exactly the original's edges).
 */
#ifndef LIS_PUMP_FILTER_H
#define LIS_PUMP_FILTER_H

#include "runtime/status.h"

typedef struct {
    float locality;  /* PUMP default 2 (max distance 8 px) */
    int min_cc_size; /* PUMP default 50 */
} lis_pump_filter_params;

/* In place: corres n x 6 -> the kept rows, *n_out of them. Allocates its scratch. */
lis_status lis_pump_post_filter(const lis_pump_filter_params *p, float *corres, int n, int *n_out);

#endif
