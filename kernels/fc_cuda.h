/* fc_cuda.h — StyleGAN's FullyConnectedLayer on the GPU (kernels/fc.cu), for the affine
 * layers of the synthesis network. The layer is prepared on the host (lis_fc_prepare:
 * gains folded into the weights) and uploaded once. Same arithmetic as lis_fc_ref:
 *   linear: y = b + x . Wt      lrelu: y = lrelu_0.2(x . Wt + b) * sqrt(2)
 * x rows are `ldx` floats apart, so a synthesis layer reads its w straight out of the
 * [B, num_ws, w_dim] ws tensor (ldx = num_ws * w_dim). Device pointers; C header.
 *
 * Variants (lis_fc_cuda_variants):
 *   v1  one thread per (sample, output), sequential dot product (straight port)
 *   v2  one warp per (sample, output), lanes stride over the inputs, shuffle reduction
 * lis_fc_cuda() runs v2.
 */
#ifndef LIS_FC_CUDA_H
#define LIS_FC_CUDA_H

#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/fc.h"

/* Device copy of a prepared lis_fc. */
typedef struct {
    int in, out, lrelu;
    float *wt; /* device [out, in] (weight * weight_gain) */
    float *b;  /* device [out] */
} lis_fc_dev;

lis_status lis_fc_cuda_upload(lis_fc_dev *d, const lis_fc *h);
void lis_fc_cuda_free(lis_fc_dev *d);

typedef lis_status (*lis_fc_cuda_fn)(const lis_fc_dev *fc, const float *x, int64_t ldx, float *y, int B, lis_stream s);
typedef struct {
    const char *name;
    lis_fc_cuda_fn fn;
    const char *what;
} lis_fc_cuda_variant;
int lis_fc_cuda_variants(const lis_fc_cuda_variant **out);

/* x [B, in] (row stride ldx) -> y [B, out] (contiguous). */
lis_status lis_fc_cuda_v1(const lis_fc_dev *fc, const float *x, int64_t ldx, float *y, int B, lis_stream s);
lis_status lis_fc_cuda_v2(const lis_fc_dev *fc, const float *x, int64_t ldx, float *y, int B, lis_stream s);
lis_status lis_fc_cuda(const lis_fc_dev *fc, const float *x, int64_t ldx, float *y, int B, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
