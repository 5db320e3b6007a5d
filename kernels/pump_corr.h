/* pump_corr.h — PUMP's correlation pyramid, forward half: the level-0 correlation volume
 * and the pyramid levels built on it (spec/pump.md s.3-4; naver/pump core/functional.py
 * first_level, forward_level = max_pool2d + sparse_conv, activation).
 *
 * Layout ("cells last"). Every level l is a float array [h_l][w_l][cs_l]: for each img2
 * position (y2, x2) of the level, the scores of all img1 cells side by side, cell index
 * i*gw_l + j, padded to a stride cs_l (a multiple of 8; padding entries stay 0). The
 * original stores [cells][h][w]; putting the cells last makes every operation of the
 * pyramid (pooling, aggregation, arg-max windows, reductions) the same instruction over 8
 * contiguous cells, and the level-0 volume one GEMM with A = img2 pixels, B = img1 cells.
 *   level 0:  cells gh x gw = n1h x n1w (img1 / 4), img2 H2 x W2
 *   level l:  cells (n1h+1) x (n1w+1), img2 h_l = (h_{l-1} - 1)/2 + 1 (floor), same for w
 *
 * Level 0:   P0[y][x][c] = A(<desc1[:, c], desc2[y, x, :]>),   A(v) = max(v, 0)^nlpow
 * Level l:   Q = 3x3 / stride 2 / pad 1 max-pool of P_{l-1} over the img2 axes (per cell);
 *            each parent p has up to 4 children c_d, d = (dx, dy) in the order
 *            (-1,-1) (+1,-1) (-1,+1) (+1,+1):
 *              l = 1: child (h + (dy-1)/2, w + (dx-1)/2) of the level-0 grid,
 *              l > 1: child (h + dy*g, w + dx*g), g = 2^(l-2), of the level-(l-1) grid;
 *            S[v][p] = sum_d w_{l-1}[c_d] * Q[v + d][c_d]   (children that exist, v + d inside;
 *                      summed in direction order, as index_add_ does)
 *            U[v][p] = S / (s_p^(1-border) * n_p(v)^border), powf in float32 as PyTorch,
 *              s_p  = 1e-8 + sum of the weights of all p's children (the new weight w_l[p]),
 *              n_p(v) = 1e-8 + the same over the children whose v + d is inside (it only depends
 *                     on whether v is on the first / last row / column: 3 x 3 classes);
 *            P_l = A(U).
 * A(v) for nlpow = 1.5 is v * sqrt(v) (both correctly rounded; PyTorch's pow is within an
 * ulp of either), otherwise powf.
 *
 * Variants of the whole-level operations (same arguments):
 *  - _ref: loops straight from the spec, double accumulation for the correlation. The oracle.
 *  - _cpu: threads over img2 rows, 8-wide AVX over cells; the correlation is one GEMM per
 *    img2 row (kernels/gemm.h) with the activation applied while the row is in cache.
 * The row primitives (lis_pump_*_row) are what the fused CPU driver (kernels/pump_pyramid.h)
 * is built from: it never stores level 0 (0.27 G values at 256 px).
 * CUDA: kernels/pump_corr_cuda.h.
 */
#ifndef LIS_PUMP_CORR_H
#define LIS_PUMP_CORR_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/gemm.h"
#include "runtime/status.h"

#define LIS_PUMP_MAX_LEVELS 16

typedef struct {
    int C;                              /* descriptor channels */
    int n1h, n1w;                       /* level-0 cell grid (img1 size / 4) */
    int nlev;                           /* levels kept: 0 .. nlev-1 */
    int h[LIS_PUMP_MAX_LEVELS];         /* img2 rows of level l */
    int w[LIS_PUMP_MAX_LEVELS];         /* img2 columns of level l */
    int gh[LIS_PUMP_MAX_LEVELS];        /* cell rows of level l */
    int gw[LIS_PUMP_MAX_LEVELS];        /* cell columns of level l */
    int ncell[LIS_PUMP_MAX_LEVELS];     /* gh * gw */
    int cs[LIS_PUMP_MAX_LEVELS];        /* cell stride: ncell rounded up to 8 */
    double nlpow, border;               /* as PUMP's Python floats (1.5, 0.9) */
    float pow_s, pow_n;                 /* (float)(1 - border), (float)border: the exponents
                                           PyTorch's float pow receives */
} lis_pump_geom;

/* The pyramid of an img1 of (4 n1h) x (4 n1w) pixels against an img2 of H2 x W2: levels are
 * added while l <= levels and stop after the first with min(h_l, w_l) <= min_shape
 * (PUMP's `levels` and `min_shape`; LinkingInStyle: 99 and 5). Needs nlpow in [1, 3]
 * (PUMP asserts it), border in [0, 1], n1h, n1w >= 1, H2, W2 >= 2. */
lis_status lis_pump_geom_init(lis_pump_geom *g, int C, int n1h, int n1w, int H2, int W2, int levels, int min_shape,
                              double nlpow, double border);
/* Floats of level l ([h][w][cs]). */
size_t lis_pump_level_floats(const lis_pump_geom *g, int l);

/* A(v) on n floats in place. */
void lis_pump_activate(const lis_pump_geom *g, float *v, int64_t n);

/* ---- level 0: correlation + activation ----
 * desc1: C x cs0 (channel-major; columns >= ncell0 zero), desc2: h0*w0 x C (pixel-major),
 * P0: h0 x w0 x cs0. Values are the same in both variants up to float32 rounding of the
 * dot products (the GEMM sums in k order, _ref in double). */
void lis_pump_corr_ref(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0);
void lis_pump_corr_cpu(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0);

/* desc2 packed for the GEMM, one A pack per img2 row (M = w0 pixels, K = C). */
typedef struct {
    int rows;
    lis_gemm_apack *row; /* owned */
} lis_pump_desc2_pack;
lis_status lis_pump_desc2_pack_init(lis_pump_desc2_pack *pk, const lis_pump_geom *g, const float *desc2);
void lis_pump_desc2_pack_free(lis_pump_desc2_pack *pk);
/* Level-0 row y for the cells [c0, c1) (activated): out row is w0 x cs0 (columns c0..c1-1
 * written). Single-threaded (call it from a task). */
void lis_pump_corr_row(const lis_pump_geom *g, const float *desc1, const lis_pump_desc2_pack *pk, int y, int c0,
                       int c1, float *out_row);

/* ---- forward levels ---- */
/* Level-0 weights: 1 for every cell (PUMP's first_level `norms > 0`), 0 in the padding. */
void lis_pump_weights0(const lis_pump_geom *g, float *w0);
/* s_p and the 9 border normalisers of level l >= 1: wl[cs_l] (the new weights) and
 * nrm[9][cs_l], class = 3 * row class + column class (0 first, 1 inner, 2 last). Returns
 * the sum of the weights (PUMP stops when it is 0). */
double lis_pump_level_norms(const lis_pump_geom *g, int l, const float *w_lo, float *wl, float *nrm);

/* P_{l} from P_{l-1} (l >= 1): pooling, aggregation, normalisation, activation. w_lo: the
 * weights of level l-1; w_up (out): those of level l. */
void lis_pump_fwd_level_ref(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo, float *P_up,
                            float *w_up);
void lis_pump_fwd_level_cpu(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo, float *P_up,
                            float *w_up);

/* Row primitives of the fused driver. Cells are given as cell-row ranges [r0, r1) of the
 * grid of the level the row belongs to.
 * pool_row: Q row vy (w_l x cs_{l-1}) of level l from the rows 2vy-1, 2vy, 2vy+1 of
 *   level l-1 (lo[0..2]; NULL where outside), cells of level l-1.
 * agg_row: level-l row vy (w_l x cs_l) from the pooled rows vy-1 and vy+1 (q_above,
 *   q_below; NULL outside), parent rows [r0, r1), normalised and activated. */
void lis_pump_pool_row(const lis_pump_geom *g, int l, const float *const lo[3], int r0, int r1, float *q_row);
void lis_pump_agg_row(const lis_pump_geom *g, int l, int vy, const float *q_above, const float *q_below,
                      const float *w_lo, const float *nrm, int r0, int r1, float *out_row);

#endif
