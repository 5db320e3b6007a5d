/* conv_nhwc.h — the convolution on NHWC activations for the tensor-core precisions, the layout
 * cuDNN's tensor-core kernels use and the reduced-precision classifier's route to their speed
 * (nets/resnet_cuda.c, LIS_RESNET_NHWC): bf16 / fp16 keep 16-bit activations, tf32 float32 ones
 * (its operands are rounded to tf32 where the products are formed). This header is the host
 * side: the parameters, the weight packing, the layouts and the CPU reference; the GPU kernels
 * are in kernels/conv_nhwc_cuda.h.
 *
 *   y[n,oy,ox,k] = out( act( bias[k] + res[n,oy,ox,k]
 *                  + sum_{r,s,c} w[k,r,s,c] * x[n, oy*stride - pad + r, ox*stride - pad + s, c] ) )
 *
 * x: N x H x W x C; w: K x R x S x C ("KRSC"); res, y: N x Ho x Wo x K, all elements of the
 * precision's activation type (lis_nhwc_elem_size: uint16_t bit patterns of bf16 or IEEE half,
 * or float for tf32); bias float32 [K] or NULL; res NULL or any tensor of y's shape (it may
 * alias y: read before written, element by element). The sum is float32 (the reference:
 * float64; tf32 rounds x and w to tf32 first, round to nearest with ties away from zero as the
 * GPU's cvt.rna), bias and residual are added in float32 in that order, the ReLU (relu = 1)
 * comes last; out() rounds once to 16 bits (round to nearest even) or, for tf32, keeps float32.
 *
 * C and K must be multiples of 8 (rows of 8 elements, 16 or 32 bytes):
 * lis_nhwc_conv_pack_weights pads the input channels of a net's first layer (3 -> 8) with zero
 * weights, and lis_nchw_to_nhwc pads the image with zero channels to match.
 */
#ifndef LIS_CONV_NHWC_H
#define LIS_CONV_NHWC_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/status.h"

typedef struct {
    int N, H, W, C;    /* input, NHWC, rows of whole 16-byte copies: C % lis_nhwc_row_unit(prec) == 0 */
    int K, R, S;       /* weights, KRSC, K % 8 == 0 */
    int stride, pad;   /* >= 1, >= 0: the same in both directions */
    int relu;          /* 1: max(v, 0) after the bias and residual */
} lis_nhwc_conv_params;

/* Validates (positive sizes, C a multiple of lis_nhwc_row_unit(prec), K of 8, output at least
 * 1x1, element counts within int range); the error names the offending field. The _nchw_out
 * form is for the NCHW float32 output (lis_nhwc_conv_nchw_out_cuda), which takes any K. */
lis_status lis_nhwc_conv_check(const lis_nhwc_conv_params *p, lis_precision prec);
lis_status lis_nhwc_conv_check_nchw_out(const lis_nhwc_conv_params *p, lis_precision prec);
void lis_nhwc_conv_out_shape(const lis_nhwc_conv_params *p, int *Ho, int *Wo);

/* Bytes per activation / weight element: 2 (bf16, fp16), 4 (tf32), 0 (fp32: no NHWC path). */
size_t lis_nhwc_elem_size(lis_precision prec);
/* Elements per 16-byte copy: 8 (bf16, fp16), 4 (tf32), 0 (fp32). An NHWC row (the channels of
 * one pixel) is a whole number of copies, so that a copy never straddles two taps: the stem's
 * 3 input channels are padded to 8 in 16 bits but only to 4 in tf32 (half the stem's depth). */
int lis_nhwc_row_unit(lis_precision prec);
/* C rounded up to lis_nhwc_row_unit(prec) */
int lis_nhwc_pad_channels(int C, lis_precision prec);
/* An error naming `op` unless prec has an NHWC path (tf32, bf16, fp16). */
lis_status lis_nhwc_prec_check(lis_precision prec, const char *op);

/* Float <-> 16-bit for bf16 / fp16 (round to nearest even); prec must be one of the two. */
uint16_t lis_to16(float v, lis_precision prec);
float lis_from16(uint16_t h, lis_precision prec);
/* float -> tf32 (10 mantissa bits), round to nearest, ties away from zero (cvt.rna.tf32.f32) */
float lis_round_tf32(float v);

/* Element i of an NHWC tensor of `prec` as float, and v stored there (16-bit: rounded). */
float lis_nhwc_get(const void *t, size_t i, lis_precision prec);
void lis_nhwc_set(void *t, size_t i, float v, lis_precision prec);

/* Weights KCRS float32 [K][C][R][S] -> KRSC [K][R][S][Cp] of prec's element type, channels
 * C..Cp-1 zero. */
void lis_nhwc_conv_pack_weights(const float *w, int K, int C, int R, int S, int Cp, lis_precision prec, void *out);

/* The CPU reference (see above; any K). */
lis_status lis_nhwc_conv_ref(const lis_nhwc_conv_params *p, lis_precision prec, const void *x, const void *w,
                             const float *bias, const void *res, void *y);

/* Layouts: NCHW float32 [N][C][HW] <-> NHWC [N][HW][Cp] of prec's element type (Cp >= C; the
 * channels C..Cp-1 are written as zeros, and ignored on the way back). */
void lis_nchw_to_nhwc(const float *x, int N, int C, int HW, int Cp, lis_precision prec, void *y);
/* The same with x[n][c] scaled by scale[n*C + c] first (scale NULL: 1), as the generator's
 * modulated convolution applies its styles. */
void lis_nchw_to_nhwc_scaled(const float *x, const float *scale, int N, int C, int HW, int Cp, lis_precision prec,
                             void *y);
void lis_nhwc_to_nchw(const void *x, int N, int C, int HW, int Cp, lis_precision prec, float *y);

#endif
