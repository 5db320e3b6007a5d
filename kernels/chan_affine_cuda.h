/* chan_affine_cuda.h — per-channel affine after an optional ReLU on the GPU
 * (kernels/chan_affine.cu), same params and values as kernels/chan_affine.h (one multiply, one
 * add, no FMA). Device pointers; y may alias x. One variant: a grid-stride loop over planes
 * (memory bound; the channel is read once per plane row of threads). C header. */
#ifndef LIS_CHAN_AFFINE_CUDA_H
#define LIS_CHAN_AFFINE_CUDA_H

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/chan_affine.h"

lis_status lis_chan_affine_cuda(const lis_chan_affine_params *p, const float *scale, const float *shift, const float *x,
                                float *y, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
