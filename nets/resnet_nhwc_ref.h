/* resnet_nhwc_ref.h — the CPU reference of the GPU classifier's NHWC path (nets/resnet_cuda.c
 * with LIS_RESNET_NHWC=1, kernels/conv_nhwc.h): the same network computing the values that path
 * computes, on the CPU's float32 convolutions. Layout does not change values, so the reference
 * stays NCHW; what it reproduces is the rounding:
 *   - bf16 / fp16: the input and every convolution's output (after bias, residual and ReLU) are
 *     rounded to 16 bits, as the NHWC tensors store them, and so are the folded weights;
 *   - tf32: every convolution's operands (its input and weights) are rounded to tf32 (ties away
 *     from zero, as cvt.rna), its output stays float32.
 * The max pool, the global average pool and the fc are float32 on those values. Sums differ from
 * the GPU's only in order (float32), so the two agree far more closely than either agrees with
 * float32, which is what test_cuda_nets checks.
 *
 *   lis_resnet_nhwc_ref_forward(&net, &st, LIS_PREC_BF16, N, 224, 224, x, r, logits);
 *
 * st is the weight file the net was loaded from (the folded weights are read again and rounded);
 * the net's activation buffers are used (it is planned for N images).
 */
#ifndef LIS_RESNET_NHWC_REF_H
#define LIS_RESNET_NHWC_REF_H

#include "nets/resnet.h"
#include "runtime/backend.h"
#include "runtime/safetensors.h"

/* x: N x in_ch x H x W (preprocessed, float32); r: N x feat_dim or NULL; logits: N x num_classes
 * or NULL. prec: tf32, bf16 or fp16. */
lis_status lis_resnet_nhwc_ref_forward(lis_resnet *net, const lis_safetensors *st, lis_precision prec, int N, int H,
                                       int W, const float *x, float *r, float *logits);

#endif
