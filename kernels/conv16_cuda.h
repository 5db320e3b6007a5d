/* conv16_cuda.h — the 16-bit NHWC path on the GPU (kernels/conv16.cu, kernels/nhwc16.cu): the
 * convolution of kernels/conv16.h and the layout and pooling kernels around it, so that a
 * classifier in bf16 / fp16 keeps its activations in 16 bits from the first convolution to the
 * global average pool. Device pointers, 16-byte aligned; 16-bit tensors are void * (bf16 or
 * IEEE half bit patterns, by `prec`). C header.
 */
#ifndef LIS_CONV16_CUDA_H
#define LIS_CONV16_CUDA_H

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/conv16.h"
#include "kernels/pool.h"

/* y = conv16(x, w) + bias (+ res), ReLU if p->relu: exactly kernels/conv16.h's definition up to
 * the float32 order of the sum. prec: bf16 or fp16. */
lis_status lis_conv16_cuda(const lis_conv16_params *p, const void *x, const void *w, const float *bias,
                           const void *res, void *y, lis_precision prec, lis_stream s);
/* The output channels per block the convolution picks for M pixels and K channels (64 or
 * 128; LIS_CONV16_BN=64|128 forces one). */
int lis_conv16_block_n(int M, int K);

/* NCHW float32 [N][C][HW] -> NHWC 16-bit [N][HW][Cp], channels C..Cp-1 zero (Cp % 8 == 0). */
lis_status lis_nchw_to_nhwc16_cuda(const float *x, int N, int C, int HW, int Cp, void *y, lis_precision prec,
                                   lis_stream s);
/* NHWC 16-bit [N][HW][Cp] -> NCHW float32 [N][C][HW] (the first C channels; taps, tests). */
lis_status lis_nhwc16_to_nchw_cuda(const void *x, int N, int C, int HW, int Cp, float *y, lis_precision prec,
                                   lis_stream s);
/* Max pool of kernels/pool.h on NHWC 16-bit tensors (p->C % 8 == 0): the same value, bit for
 * bit, as the float pool of the widened input rounded back (rounding is monotonic). */
lis_status lis_maxpool_nhwc16_cuda(const lis_maxpool_params *p, const void *x, void *y, lis_precision prec,
                                   lis_stream s);
/* Global average pool: NHWC 16-bit [N][HW][C] -> float32 [N][C] (float32 sum over the
 * pixels in order, then the division, as the NCHW pool). */
lis_status lis_avgpool_nhwc16_cuda(int N, int C, int HW, const void *x, float *y, lis_precision prec, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
