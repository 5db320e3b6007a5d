/* pump_head_cuda.h — PUMP's descriptor head on the GPU (kernels/pump_head.cu): PixelShuffle(2),
 * bilinear x2 (align_corners=False) and L2 normalisation, as kernels/pump_head.h. Device
 * pointers. The bilinear products and sums are PyTorch's (and the CPU's), the norm is a
 * float32 sum in another order: values agree to rounding. C header.
 *
 * One variant each: a warp per output pixel (full; the 32 lanes split the channels, the
 * norm is a warp sum) and a thread per (cell, channel) with a per-cell warp norm (grid).
 */
#ifndef LIS_PUMP_HEAD_CUDA_H
#define LIS_PUMP_HEAD_CUDA_H

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/pump_head.h"

/* x: 4C x h x w -> out: (4h * 4w) x C, pixel-major */
lis_status lis_pump_head_full_cuda(const lis_pump_head_params *p, const float *x, float *out, lis_stream s);
/* x -> out: C x ld, column i*w + j = pixel (4j+2, 4i+2); ld >= h*w, columns beyond untouched */
lis_status lis_pump_head_grid_cuda(const lis_pump_head_params *p, const float *x, float *out, int ld, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
