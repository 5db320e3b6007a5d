/* conv_nhwc_cuda.h — the NHWC path of the tensor-core precisions on the GPU
 * (kernels/conv_nhwc.cu, kernels/nhwc.cu): the convolution of kernels/conv_nhwc.h and the
 * layout and pooling kernels around it, so that a classifier in tf32 / bf16 / fp16 keeps its
 * activations NHWC (16-bit for bf16 / fp16, float32 for tf32) from the first convolution to the
 * global average pool. Device pointers, 16-byte aligned; activation tensors are void * of the
 * precision's element type (lis_nhwc_elem_size). C header.
 */
#ifndef LIS_CONV_NHWC_CUDA_H
#define LIS_CONV_NHWC_CUDA_H

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/conv_nhwc.h"
#include "kernels/pool.h"

/* y = conv(x, w) + bias (+ res), ReLU if p->relu: kernels/conv_nhwc.h's definition up to the
 * float32 order of the sum. prec: tf32, bf16 or fp16. */
lis_status lis_nhwc_conv_cuda(const lis_nhwc_conv_params *p, const void *x, const void *w, const float *bias,
                              const void *res, void *y, lis_precision prec, lis_stream s);
/* The same convolution with a float32 NCHW output, for a caller whose next op reads NCHW (the
 * generator's modulated convolution): y [N][K][Ho][Wo] = act(acc * out_scale[n*K + k] + bias[k])
 * (out_scale and bias may be NULL; relu from p; no residual). Any K (C as lis_nhwc_conv_check). */
lis_status lis_nhwc_conv_nchw_out_cuda(const lis_nhwc_conv_params *p, const void *x, const void *w,
                                       const float *out_scale, const float *bias, float *y, lis_precision prec,
                                       lis_stream s);
/* The output channels per block the convolution picks for M pixels and K channels (64 or
 * 128; LIS_NHWC_CONV_BN=64|128 forces one). */
int lis_nhwc_conv_block_n(int M, int K);

/* NCHW float32 [N][C][HW] -> NHWC [N][HW][Cp], channels C..Cp-1 zero (Cp a multiple of
 * lis_nhwc_row_unit(prec): 8 in 16 bits, 4 in tf32). */
lis_status lis_nchw_to_nhwc_cuda(const float *x, int N, int C, int HW, int Cp, void *y, lis_precision prec,
                                 lis_stream s);
/* The same with x[n][c] scaled by scale[n*C + c] (device, may be NULL) on the way. */
lis_status lis_nchw_to_nhwc_scaled_cuda(const float *x, const float *scale, int N, int C, int HW, int Cp, void *y,
                                        lis_precision prec, lis_stream s);
/* NCHW float32 [N][C][H][W] -> the space-to-depth stem input [N][(H+2)/2][(W+2)/2][Cp] of
 * kernels/stem_s2d.h (H, W even, Cp >= 4 C a multiple of lis_nhwc_row_unit): lis_stem_s2d on the GPU. */
lis_status lis_stem_s2d_cuda(const float *x, int N, int C, int H, int W, int Cp, void *xs, lis_precision prec,
                             lis_stream s);
/* Weights KCRS float32 [K][C][R][S] (device) -> KRSC [K][R][S][Cp] of prec's element type (device),
 * channels C..Cp-1 zero: lis_nhwc_conv_pack_weights on the GPU, for weights that live there. */
lis_status lis_nhwc_pack_weights_cuda(const float *w, int K, int C, int R, int S, int Cp, void *out, lis_precision prec,
                                      lis_stream s);
/* NHWC [N][HW][Cp] -> NCHW float32 [N][C][HW] (the first C channels; taps, tests). */
lis_status lis_nhwc_to_nchw_cuda(const void *x, int N, int C, int HW, int Cp, float *y, lis_precision prec,
                                 lis_stream s);
/* Max pool of kernels/pool.h on NHWC tensors (p->C % 8 == 0): the same value, bit for bit, as
 * the float pool of the widened input (rounding to 16 bits is monotonic). */
lis_status lis_maxpool_nhwc_cuda(const lis_maxpool_params *p, const void *x, void *y, lis_precision prec,
                                 lis_stream s);
/* Global average pool: NHWC [N][HW][C] -> float32 [N][C] (float32 sum over the pixels in
 * order, then the division, as the NCHW pool). */
lis_status lis_avgpool_nhwc_cuda(int N, int C, int HW, const void *x, float *y, lis_precision prec, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
