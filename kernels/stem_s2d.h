/* stem_s2d.h — ResNet's 7x7 stride-2 stem as a 4x4 stride-1 convolution on a space-to-depth
 * input, for the NHWC path (kernels/conv_nhwc.h).
 *
 * Why: the stem has 3 input channels, which the NHWC convolution pads to a whole 16-byte copy
 * per pixel: to 8 in bf16/fp16, so 5/8 of its depth (7 x 7 x 8 = 392) multiplies zeros. Folding
 * each 2x2 block of input pixels into one pixel of 12 channels (padded to 16) turns the 7x7/2
 * window into a 4x4/1 window of depth 4 x 4 x 16 = 256: 1.5x fewer multiply-adds, and the
 * converted input is half as many bytes (113 x 113 x 16 against 224 x 224 x 8 elements).
 *
 * The arithmetic: out[oy] = sum over r = 0..6 of w[r] x[2 oy - 3 + r]. With r = 2 R + a (R = 0..3,
 * a = 0, 1; the eighth row r = 7 has zero weights) the input row is 2 (oy - 1 + R) - 1 + a: the
 * block row Y = oy - 1 + R of blocks that start at odd rows, Y = 0 holding rows -1 (zero) and 0.
 * So xs[n][Y][X][(a, b, c)] = x[n][c][2Y - 1 + a][2X - 1 + b] (zero outside the image), a 4x4
 * convolution with padding 1 on (H + 2) / 2 blocks, and ws[k][R][S][(a, b, c)] = w[k][c][2R + a]
 * [2S + b] (zero where 2R + a or 2S + b is 7). The same products in another order: the result
 * equals the 7x7 convolution's up to float32 summation order (exactly, on integer data).
 * Applies to 7x7, stride 2, padding 3 and even H, W (ResNet at 224: 113 x 113 blocks). */
#ifndef LIS_STEM_S2D_H
#define LIS_STEM_S2D_H

#include "kernels/conv_nhwc.h"

/* Whether the stem p (its input channels before padding: c) can run as the 4x4 convolution. */
int lis_stem_s2d_applies(const lis_nhwc_conv_params *p, int c);
/* The 4x4 convolution's parameters for stem p: N, (H + 2) / 2 blocks square, cp channels, K,
 * 4x4, stride 1, pad 1, p's relu. Its output has p's shape. */
lis_nhwc_conv_params lis_stem_s2d_params(const lis_nhwc_conv_params *p, int cp);
/* Channels of a block: 4 c, padded to whole 16-byte copies (16 for c = 3 in bf16/fp16, 12 in tf32). */
int lis_stem_s2d_channels(int c, lis_precision prec);
/* x NCHW float32 [N][C][H][W] -> xs [N][Hs][Ws][Cp] (Hs = (H + 2) / 2, Ws = (W + 2) / 2) in prec's
 * element type, channel (a * 2 + b) * C + c, the rest zero: the CPU reference of the GPU's
 * lis_stem_s2d_cuda. */
void lis_stem_s2d(const float *x, int N, int C, int H, int W, int Cp, lis_precision prec, void *xs);
/* w KCRS float32 [K][C][7][7] -> ws [K][4][4][Cp] in prec's element type (see above). */
void lis_stem_s2d_pack_weights(const float *w, int K, int C, int Cp, lis_precision prec, void *ws);

#endif
