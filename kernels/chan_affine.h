/* chan_affine.h — per-channel affine map with an optional ReLU before it, NCHW:
 *
 *   y[n,c,i] = act(x[n,c,i]) * scale[c] + shift[c]       act = ReLU or the identity
 *
 * This is an eval-mode BatchNorm that follows a ReLU (PUMP's ConvMixer orders each stage
 * Conv -> ReLU -> BatchNorm, so the BN cannot be folded into the conv before it; spec/pump.md
 * s.2): scale = gamma / sqrt(running_var + eps), shift = beta - running_mean * scale,
 * computed once at load (lis_chan_affine_fold). y may alias x.
 *
 * Variants: _ref (plain loop) and _cpu (threads over planes, 8-wide AVX); identical values
 * (one multiply and one add per element, no FMA contraction in either).
 * CUDA: kernels/chan_affine_cuda.h.
 */
#ifndef LIS_CHAN_AFFINE_H
#define LIS_CHAN_AFFINE_H

#include <stdint.h>

#include "runtime/status.h"

typedef struct {
    int N, C;
    int64_t HW;  /* elements per plane */
    int relu;    /* 1: max(x, 0) first */
} lis_chan_affine_params;

/* BatchNorm (eval) -> scale, shift (float64 math, rounded once); an error names `what`
 * when running_var + eps is not positive. */
lis_status lis_chan_affine_fold(int C, const float *gamma, const float *beta, const float *mean, const float *var,
                                double eps, float *scale, float *shift, const char *what);

void lis_chan_affine_ref(const lis_chan_affine_params *p, const float *scale, const float *shift, const float *x,
                         float *y);
void lis_chan_affine_cpu(const lis_chan_affine_params *p, const float *scale, const float *shift, const float *x,
                         float *y);

#endif
