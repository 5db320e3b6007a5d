/* pump_head.h — the output head of PUMP's descriptor network (spec/pump.md s.2):
 *
 *   x (4C x h x w, the last 1x1 conv)  --PixelShuffle(2)-->  C x 2h x 2w
 *     --Upsample(x2, bilinear, align_corners=False)-->  C x H x W   (H = 4h, W = 4w)
 *     --L2 normalisation over the C channels: d / max(||d||, 1e-12)
 *
 * PixelShuffle: s[c, 2i+a, 2j+b] = x[4c + 2a + b, i, j]. Bilinear (PyTorch's CPU kernel):
 * output index o reads source coordinate max((o + 0.5)/2 - 0.5, 0) of each axis, i0 its
 * floor, i1 = min(i0 + 1, n - 1), lambda its fraction, and
 *   out = h0 * (w0 * s[i0][j0] + w1 * s[i0][j1]) + h1 * (w0 * s[i1][j0] + w1 * s[i1][j1])
 * with (h0, h1) = (1 - lambda_y, lambda_y) — the same products and sums in both variants.
 *
 * Two outputs, for the two sides of the matcher:
 *  - full: every pixel, pixel-major: out[(Y*W + X)*C + c]  (img2 of PUMP: the A operand of
 *    the correlation GEMM wants one row of C channels per pixel);
 *  - grid: the pixels (4j+2, 4i+2) only (PUMP's desc1 = D[:, 2::4, 2::4]), channel-major:
 *    out[c*h*w + i*w + j]. For these the bilinear taps are rows 2i, 2i+1 and columns 2j, 2j+1
 *    of the shuffled map with weights (0.25, 0.75), i.e. the 4 sub-pixels of cell (i, j), so
 *    the grid needs nothing outside the cell's own channels.
 * Variants: _ref (explicit shuffled map, double-precision norm) and _cpu (full: the input is
 * first rearranged into 4 pixel-major planes xq[q][i*w+j][c] = x[4c+q][i][j] so every tap is
 * a contiguous run of C floats, 8-wide AVX; grid: threads over cells). Values agree to
 * rounding (the norm's summation order differs).
 * CUDA: kernels/pump_head_cuda.h.
 */
#ifndef LIS_PUMP_HEAD_H
#define LIS_PUMP_HEAD_H

#include <stddef.h>

#include "runtime/status.h"

typedef struct {
    int C;    /* output channels (128); the input has 4C */
    int h, w; /* input spatial size; the output is 4h x 4w */
} lis_pump_head_params;

/* Bytes of workspace of lis_pump_head_full_cpu (the rearranged input). */
size_t lis_pump_head_workspace_size(const lis_pump_head_params *p);

void lis_pump_head_full_ref(const lis_pump_head_params *p, const float *x, float *out, void *ws);
void lis_pump_head_full_cpu(const lis_pump_head_params *p, const float *x, float *out, void *ws);
void lis_pump_head_grid_ref(const lis_pump_head_params *p, const float *x, float *out);
void lis_pump_head_grid_cpu(const lis_pump_head_params *p, const float *x, float *out);

#endif
