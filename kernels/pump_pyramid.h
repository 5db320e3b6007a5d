/* pump_pyramid.h — the whole PUMP pyramid on the CPU: level-0 correlation, forward levels,
 * backward pass and best matches (spec/pump.md s.3-6a), from the descriptors of one pair.
 *
 * Fused driver (lis_pump_pyramid_*): the forward computes level 0 (n1h*n1w x H2*W2 scores:
 * 0.27 G floats, 1.07 GB for a 256 x 256 pair) one pair of img2 rows at a time (a GEMM per
 * row and chunk of cells, activated while in cache), pools it at once into a 3-row ring and
 * aggregates level 1 from the ring; the backward applies the level-1 contributions to the
 * same rows and folds every finished row into the best-match reductions. Level 0 is kept
 * when it fits `level0_max_bytes` (lis_pump_pyramid_plan); otherwise it lives in a 3-row
 * ring and the backward recomputes its rows (bit-identical: same GEMM on the same data),
 * trading a second GEMM + activation for ~1/4 of the memory. Levels >= 1 are stored (level 1
 * is ~1/4 of level 0) and streamed the same way, row by row. Work inside a row is split
 * into chunks of cell rows, a few per thread; nothing is allocated after
 * lis_pump_pyramid_plan.
 *
 * Reference (lis_pump_pyramid_ref): the whole-level _ref ops of pump_corr.h and
 * pump_backward.h in sequence, level 0 stored: the oracle (small sizes only).
 *
 * Inputs: desc1 C x cs0 (channel-major img1 cells, padding columns zero), desc2 H2*W2 x C
 * (pixel-major). Outputs as lis_pump_best_ref.
 */
#ifndef LIS_PUMP_PYRAMID_H
#define LIS_PUMP_PYRAMID_H

#include "kernels/pump_backward.h"
#include "kernels/pump_corr.h"

typedef struct {
    lis_pump_geom g;
    float *lev[LIS_PUMP_MAX_LEVELS];  /* levels 1 .. nlev-1, [h][w][cs]; lev[0] unused */
    float *wts[LIS_PUMP_MAX_LEVELS];  /* weights of every level, cs floats */
    float *nrm;                       /* 9 x max cs */
    float *ring0;                     /* 3 level-0 rows, w0 x cs0 each, or all of level 0 */
    int store0;                       /* 1: ring0 holds all h0 rows (no recomputation) */
    float *qring;                     /* 3 pooled rows */
    size_t qrow;                      /* floats per pooled row (max over levels) */
    int32_t *K;                       /* 2 backward code rows */
    float *R;                         /* 2 backward value rows */
    size_t krow;
    float *s1;                        /* running per-cell maxima, cs0 */
    int32_t *a1;
    lis_pump_best2 *part;             /* per chunk x block candidates */
    int crow0, nchunk0;               /* chunks of level-0 cell rows */
    lis_pump_desc2_pack pk;           /* img2 descriptors, packed per row */
    int have_desc2;
    /* optional probes (tests): level-0 maps of these cells before / after the backward,
     * written as [nprobe][h0][w0] into probe_fw / probe_bw when non-NULL */
    int nprobe;
    const int *probe_cells;
    float *probe_fw, *probe_bw;
} lis_pump_pyramid;

/* Allocates every buffer for the geometry (frees an earlier plan); py must be zeroed before
 * the first call. Level 0 is stored when it needs at most level0_max_bytes. */
lis_status lis_pump_pyramid_plan(lis_pump_pyramid *py, const lis_pump_geom *g, size_t level0_max_bytes);
void lis_pump_pyramid_free(lis_pump_pyramid *py);
/* Packs the img2 descriptors (kept for later pairs with the same img2). */
lis_status lis_pump_pyramid_set_desc2(lis_pump_pyramid *py, const float *desc2);
/* Forward: levels 1 .. nlev-1 (py->lev) from desc1 and the packed desc2. */
lis_status lis_pump_pyramid_forward(lis_pump_pyramid *py, const float *desc1);
/* Backward and best matches (after lis_pump_pyramid_forward with the same desc1). */
void lis_pump_pyramid_backward(lis_pump_pyramid *py, const float *desc1, float *pos1, float *score1, float *pos2,
                               float *score2);

/* The oracle: everything stored, _ref ops. levels (optional): nlev pointers that receive
 * copies of the forward levels (levels[0] = P0 before the backward, may be NULL each) and
 * levels_bw likewise after the backward. */
lis_status lis_pump_pyramid_ref(const lis_pump_geom *g, const float *desc1, const float *desc2, float *pos1,
                                float *score1, float *pos2, float *score2, float *const *levels,
                                float *const *levels_bw);

#endif
