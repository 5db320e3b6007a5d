/* pump_backward.h — PUMP's correlation pyramid, backward half: the top-down refinement and
 * the best-match reductions on the final level 0 (spec/pump.md s.5-6a; naver/pump
 * core/functional.py sparse_conv(reverse=True), max_unpool, best_correspondences).
 * Layouts and geometry: kernels/pump_corr.h (levels [h_l][w_l][cs_l], cells last).
 *
 * Backward from level l to l-1 (P_l already refined by the level above):
 *   R[v][c] = max(0, max_d P_l[v - d][parent_d(c)])  over the directions d in which c has a
 *             parent and v - d is inside level l (the adjoint of the aggregation, with max);
 *   for every level-l position v and lower cell c, k(v, c) = the first arg-max, in row-major
 *             order, of P_{l-1}[., ., c] over the 3x3 window centred at (2vy, 2vx), restricted
 *             to rows <= h_{l-1} - 2 and columns <= w_{l-1} - 2 (the last row and column are
 *             never targets: PUMP's exclude_border);
 *   P_{l-1}[pos][c] += max(0, max over the v with k(v, c) = pos of R[v][c])
 *             (all arg-maxes of a map before any update; overlapping windows take the max,
 *             not the sum). The arg-max is kept as a window code ry*3 + rx (0..8).
 * Best matches on the final level 0 (cells of img1 at pixel (4j+2, 4i+2)):
 *   pos1/score1: per cell, max over img2 and its first position in row-major order;
 *   pos2/score2: per 4x4 img2 block (by, bx), max over all cells and the block's 16 pixels,
 *     first in the order (cell, y2, x2) (PyTorch's max_pool3d over [cells, H2, W2]).
 *   pos rows are (x1, y1, x2, y2) floats; blocks are floor(h0/4) x floor(w0/4).
 *
 * Variants of the whole-level operations: _ref (loops from the spec, the oracle) and _cpu
 * (threads, AVX over cells; the backward streams window rows, finalising each lower row as
 * soon as no later window can reach it, so it needs only two rows of (k, R)). Same values:
 * the backward and the reductions are comparisons and one float add per entry.
 * The row primitives are used by the fused CPU driver (kernels/pump_pyramid.h).
 * CUDA: kernels/pump_corr_cuda.h.
 */
#ifndef LIS_PUMP_BACKWARD_H
#define LIS_PUMP_BACKWARD_H

#include <stdint.h>

#include "kernels/pump_corr.h"

/* In place: P_lo (level l-1) is refined from P_up (level l). */
void lis_pump_bwd_level_ref(const lis_pump_geom *g, int l, const float *P_up, float *P_lo);
void lis_pump_bwd_level_cpu(const lis_pump_geom *g, int l, const float *P_up, float *P_lo);
/* The same with caller buffers (allocates nothing): K and R of 2 * w_l * cs_{l-1} each. */
void lis_pump_bwd_level_cpu_ws(const lis_pump_geom *g, int l, const float *P_up, float *P_lo, int32_t *K, float *R);

/* Best matches of the final level 0. pos1: ncell0 x 4, score1: ncell0 (row i*n1w + j);
 * pos2: (h0/4)*(w0/4) x 4, score2: the same count (row by*(w0/4) + bx). */
void lis_pump_best_ref(const lis_pump_geom *g, const float *P0, float *pos1, float *score1, float *pos2,
                       float *score2);
void lis_pump_best_cpu(const lis_pump_geom *g, const float *P0, float *pos1, float *score1, float *pos2,
                       float *score2);

/* ---- row primitives (cells: cell-row ranges [r0, r1) of level l-1) ---- */

/* Window row vy of the backward l -> l-1: K_row / R_row (w_l x cs_{l-1}) from the lower rows
 * 2vy-1, 2vy, 2vy+1 (lo[0..2]; NULL for rows outside 0 .. h_{l-1}-2) and the whole level l. */
void lis_pump_bw_window_row(const lis_pump_geom *g, int l, int vy, const float *const lo[3], const float *P_up,
                            int r0, int r1, int32_t *K_row, float *R_row);
/* Adds the backward contributions to lower row r, reached by the window rows wy[0..1]
 * (-1 for none) whose codes and values are K[i], R[i]. */
void lis_pump_bw_finalize_row(const lis_pump_geom *g, int l, int r, float *lo_row, const int wy[2],
                              const int32_t *const K[2], const float *const R[2], int r0, int r1);

/* Running best of one img2 block: value, cell, position. */
typedef struct {
    float v;
    int32_t cell, y, x;
} lis_pump_best2;
/* 1 if (v, cell, y, x) comes first: larger value, then smaller cell, y, x. */
int lis_pump_best2_better(const lis_pump_best2 *a, const lis_pump_best2 *b);
/* Folds final level-0 row y of the cells [r0, r1) into the running per-cell maxima
 * (score1 / arg1 = y*w0 + x, first wins; start from -1 / -1) and into blk[w0/4], the
 * candidates of this row's blocks (start with v = -1). */
void lis_pump_best_row(const lis_pump_geom *g, int y, const float *row, int r0, int r1, float *score1, int32_t *arg1,
                       lis_pump_best2 *blk);
/* pos1/score1 and pos2/score2 from the running maxima (arg1: ncell0, blocks: (h0/4)*(w0/4)). */
void lis_pump_best_finish(const lis_pump_geom *g, const float *s1, const int32_t *arg1, const lis_pump_best2 *blocks,
                          float *pos1, float *score1, float *pos2, float *score2);

#endif
