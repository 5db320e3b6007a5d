/* conv16.h — the convolution on 16-bit NHWC activations (bf16 or fp16), the layout cuDNN's
 * tensor-core kernels use and the reduced-precision classifier's route to its speed
 * (nets/resnet_cuda.c, LIS_RESNET_NHWC16). This header is the host side: the parameters, the
 * weight packing and the CPU reference; the GPU kernels are in kernels/conv16_cuda.h.
 *
 *   y[n,oy,ox,k] = round16( act( bias[k] + res[n,oy,ox,k]
 *                  + sum_{r,s,c} w[k,r,s,c] * x[n, oy*stride - pad + r, ox*stride - pad + s, c] ) )
 *
 * x: N x H x W x C; w: K x R x S x C ("KRSC"); res, y: N x Ho x Wo x K, all 16-bit values
 * (uint16_t bit patterns of bf16 or IEEE half); bias float32 [K] or NULL; res NULL or any
 * tensor of y's shape (it may alias y: read before written, element by element). The sum is
 * float32 (the reference: float64), bias and residual are added in float32 in that order,
 * the ReLU (act = 1) comes last, then one rounding to 16 bits (round to nearest even).
 *
 * C and K must be multiples of 8 (16-byte rows of 8 elements): lis_conv16_pack_weights pads
 * the input channels of a net's first layer (3 -> 8) with zero weights, and
 * lis_nchw_to_nhwc16 pads the image with zero channels to match.
 */
#ifndef LIS_CONV16_H
#define LIS_CONV16_H

#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/status.h"

typedef struct {
    int N, H, W, C;    /* input, NHWC, C % 8 == 0 */
    int K, R, S;       /* weights, KRSC, K % 8 == 0 */
    int stride, pad;   /* >= 1, >= 0: the same in both directions */
    int relu;          /* 1: max(v, 0) after the bias and residual */
} lis_conv16_params;

/* Validates (positive sizes, C and K multiples of 8, output at least 1x1, element counts
 * within int range); the error names the offending field. */
lis_status lis_conv16_check(const lis_conv16_params *p);
void lis_conv16_out_shape(const lis_conv16_params *p, int *Ho, int *Wo);

/* Float <-> 16-bit for bf16 / fp16 (round to nearest even); prec must be one of the two. */
uint16_t lis_to16(float v, lis_precision prec);
float lis_from16(uint16_t h, lis_precision prec);

/* Weights KCRS float32 [K][C][R][S] -> KRSC 16-bit [K][R][S][Cp], channels C..Cp-1 zero. */
void lis_conv16_pack_weights(const float *w, int K, int C, int R, int S, int Cp, lis_precision prec, uint16_t *out);

/* The CPU reference (float64 sums, then the float32 epilogue and the rounding described above). */
lis_status lis_conv16_ref(const lis_conv16_params *p, lis_precision prec, const uint16_t *x, const uint16_t *w,
                          const float *bias, const uint16_t *res, uint16_t *y);

/* Layout references: NCHW float32 [N][C][HW] <-> NHWC 16-bit [N][HW][Cp] (Cp >= C; the
 * channels C..Cp-1 are written as zeros, and ignored on the way back). */
void lis_nchw_to_nhwc16(const float *x, int N, int C, int HW, int Cp, lis_precision prec, uint16_t *y);
void lis_nhwc16_to_nchw(const uint16_t *x, int N, int C, int HW, int Cp, lis_precision prec, float *y);

#endif
