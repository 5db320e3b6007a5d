/* dwconv_cuda.h — the depthwise convolution with its fused ReLU / affine / residual epilogue
 * on the GPU (kernels/dwconv.cu): same params and semantics as kernels/dwconv.h. Device
 * pointers (the lis_dwconv_weights pointers too); res may alias y, x must not. C header.
 *
 * Variants (lis_dwconv_cuda_variants):
 *   v1  one thread per output, the k x k loop over global memory (straight port)
 *   v2  one block per (plane, 32-row band): the band plus its halo staged in shared memory,
 *       each thread an output column strip; taps summed in the same (r, s) order as v1
 * lis_dwconv_cuda() runs v2. Sums are float32 in (r, s) order, then + bias.
 */
#ifndef LIS_DWCONV_CUDA_H
#define LIS_DWCONV_CUDA_H

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/dwconv.h"

typedef lis_status (*lis_dwconv_cuda_fn)(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x,
                                         const float *res, float *y, lis_stream s);
typedef struct {
    const char *name;
    lis_dwconv_cuda_fn fn;
    const char *what;
} lis_dwconv_cuda_variant;
int lis_dwconv_cuda_variants(const lis_dwconv_cuda_variant **out);

lis_status lis_dwconv_cuda_v1(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x,
                              const float *res, float *y, lis_stream s);
lis_status lis_dwconv_cuda_v2(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x,
                              const float *res, float *y, lis_stream s);
lis_status lis_dwconv_cuda(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x, const float *res,
                           float *y, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
