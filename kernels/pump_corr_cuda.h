/* pump_corr_cuda.h — the PUMP correlation pyramid on the GPU (kernels/pump_corr.cu): level-0
 * correlation, forward levels, backward levels and the best-match reductions, with the
 * geometry, layouts and semantics of kernels/pump_corr.h and kernels/pump_backward.h (levels
 * [h][w][cs], cells last). Device pointers; C header, no CUDA types.
 *
 * The arithmetic is the CPU's, operation for operation, so the GPU pyramid is bit-identical
 * to the CPU driver's: dot products as one fmaf per channel in channel order (what the CPU
 * GEMM's micro-kernel does for K <= 256), the activation v^1.5 as v * sqrt(v) in double
 * rounded once, aggregation sums as separate float multiply and add in direction order,
 * division by the host-computed normalisers (lis_pump_level_norms), max and compare
 * elsewhere. Tests compare every variant with the CPU at zero tolerance.
 *
 * Memory traffic (256 x 256 pair: level 0 = 0.27 G floats = 1.07 GB):
 *   corr       writes level 0 once (GEMM tiles, activation in the epilogue)
 *   fwd level  v1: pooling on the fly in the aggregation (each output reads 4 children x
 *              3x3 windows through L1/L2; straight port of the reference);
 *              v2: a pooling kernel (reads the lower level once, writes a quarter) and an
 *              aggregation kernel over the pooled level (PUMP's forward_agg after max_pool2d)
 *   bwd level  one kernel writes, per window and lower cell, the arg-max code (int8) and R;
 *              a gather kernel then adds, per lower position, the max R of the <= 4 windows
 *              that chose it (deterministic: no atomics, unlike the original's scatter-max)
 *   best       per-cell maxima over img2 in pixel chunks (coalesced over cells) + a combine,
 *              and one block per 4x4 img2 block for the img2-side maxima
 * Every kernel reads consecutive cells with consecutive threads (coalesced).
 */
#ifndef LIS_PUMP_CORR_CUDA_H
#define LIS_PUMP_CORR_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/pump_corr.h"

/* ---- level 0: desc1 C x cs0, desc2 h0*w0 x C -> P0 h0 x w0 x cs0 ---- */
typedef lis_status (*lis_pump_corr_cuda_fn)(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0,
                                            lis_stream s);
typedef struct {
    const char *name;
    lis_pump_corr_cuda_fn fn;
    const char *what;
} lis_pump_corr_cuda_variant;
int lis_pump_corr_cuda_variants(const lis_pump_corr_cuda_variant **out);
lis_status lis_pump_corr_cuda_v1(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0, lis_stream s);
lis_status lis_pump_corr_cuda_v2(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0, lis_stream s);
lis_status lis_pump_corr_cuda(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0, lis_stream s);

/* ---- forward level l >= 1: w_lo (cs_{l-1}) and nrm (9 x cs_l) from lis_pump_level_norms ---- */
/* floats of workspace (the pooled level, v2) */
size_t lis_pump_fwd_level_cuda_workspace(const lis_pump_geom *g, int l);
typedef lis_status (*lis_pump_fwd_cuda_fn)(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo,
                                           const float *nrm, float *P_up, float *ws, lis_stream s);
typedef struct {
    const char *name;
    lis_pump_fwd_cuda_fn fn;
    const char *what;
} lis_pump_fwd_cuda_variant;
int lis_pump_fwd_level_cuda_variants(const lis_pump_fwd_cuda_variant **out);
lis_status lis_pump_fwd_level_cuda_v1(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo,
                                      const float *nrm, float *P_up, float *ws, lis_stream s);
lis_status lis_pump_fwd_level_cuda_v2(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo,
                                      const float *nrm, float *P_up, float *ws, lis_stream s);
lis_status lis_pump_fwd_level_cuda(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo,
                                   const float *nrm, float *P_up, float *ws, lis_stream s);

/* ---- backward level l -> l-1, in place on P_lo; workspace bytes: codes + values ---- */
size_t lis_pump_bwd_level_cuda_workspace(const lis_pump_geom *g, int l);
lis_status lis_pump_bwd_level_cuda(const lis_pump_geom *g, int l, const float *P_up, float *P_lo, void *ws,
                                   lis_stream s);

/* ---- best matches on the final level 0 (outputs on the device, layouts of pump_backward.h) ---- */
size_t lis_pump_best_cuda_workspace(const lis_pump_geom *g);
lis_status lis_pump_best_cuda(const lis_pump_geom *g, const float *P0, float *pos1, float *score1, float *pos2,
                              float *score2, void *ws, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
