/* conv2d_cuda.h — the classifier's convolution on the GPU (kernels/conv2d.cu). Same
 * parameters and semantics as kernels/conv2d.h (lis_conv2d_params: NCHW, stride, padding,
 * dilation, groups 1; bias, residual added after the bias (may alias y), activation last),
 * BatchNorm folded into w and bias by the caller. Device pointers; C header.
 *
 * The convolution is the igemm kernel of kernels/gemm_cuda.h with the bias, residual and
 * ReLU in its epilogue (one pass over the output); its variants are the igemm variants
 * (lis_igemm_cuda_variants): v1, v2 (FP32), tf32, bf16, fp16.
 *
 * Library baseline: cuDNN's cudnnConvolutionForward (FP32 with CUDNN_FMA_MATH, i.e. no
 * TF32; TF32 with CUDNN_TENSOR_OP_MATH), then a small kernel for bias, residual and
 * activation (a residual that aliases y is blended in by cuDNN itself, beta = 1, since the
 * convolution overwrites y before the epilogue could read it). cuDNN is loaded at run time (dlopen "libcudnn.so.9", then "libcudnn.so"),
 * so lis neither links nor requires it; lis_cudnn_available() says whether it loaded and,
 * if not, why (lis_err_msg()).
 */
#ifndef LIS_CONV2D_CUDA_H
#define LIS_CONV2D_CUDA_H

#include <stddef.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/conv_nhwc.h"
#include "kernels/conv2d.h"
#include "kernels/gemm_cuda.h"

/* The igemm parameters of a conv (no scales). */
void lis_conv2d_igemm_params(const lis_conv2d_params *p, const float *bias, const float *res, lis_igemm_params *g);
/* x -> y with the igemm kernel of `prec` (v2 for FP32). */
lis_status lis_conv2d_cuda(const lis_conv2d_params *p, const float *x, const float *w, const float *bias,
                           const float *res, float *y, lis_precision prec, lis_stream s);
/* The same with a given igemm variant (tests and benchmarks). */
lis_status lis_conv2d_cuda_variant(const lis_igemm_variant *v, const lis_conv2d_params *p, const float *x,
                                   const float *w, const float *bias, const float *res, float *y, lis_stream s);

/* ---- cuDNN baseline ---- */
int lis_cudnn_available(void);
typedef struct lis_cudnn_conv_s lis_cudnn_conv; /* descriptors, algorithm and workspace */
/* Plans a conv (FP32 or TF32 only); *out = NULL and an error if cuDNN is missing. */
lis_status lis_cudnn_conv_plan(lis_cudnn_conv **out, const lis_conv2d_params *p, lis_precision prec);
lis_status lis_cudnn_conv_run(lis_cudnn_conv *c, const float *x, const float *w, const float *bias, const float *res,
                              float *y, lis_stream s);
/* The NHWC baseline for kernels/conv_nhwc (tf32: float32 tensors, bf16 / fp16: 16-bit ones; KRSC
 * filters, float32 sums on tensor cores): the convolution alone, no bias, residual or activation. */
lis_status lis_cudnn_nhwc_conv_plan(lis_cudnn_conv **out, const lis_nhwc_conv_params *p, lis_precision prec);
lis_status lis_cudnn_nhwc_conv_run(lis_cudnn_conv *c, const void *x, const void *w, void *y, lis_stream s);
void lis_cudnn_conv_free(lis_cudnn_conv *c);
const char *lis_cudnn_conv_algo(const lis_cudnn_conv *c); /* the algorithm cuDNN chose */

#ifdef __cplusplus
}
#endif

#endif
