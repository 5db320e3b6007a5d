/* upfirdn2d.h — upsample, pad, FIR filter, downsample (torch_utils/ops/upfirdn2d.py).
 *
 * For x [N, C, H, W]:
 *   1. zero-insertion upsampling by `up` (H*up x W*up, trailing zeros included);
 *   2. pad by max(pad, 0) and crop by max(-pad, 0) on each side, pad = (x0, x1, y0, y1);
 *   3. true convolution (flipped filter) with "valid" extent; a 1-D filter of T taps is
 *      scaled by sqrt(gain) and applied horizontally then vertically (separable); a 2-D
 *      filter [Th, Tw] is scaled by gain and applied in one pass; no filter = [[1]];
 *   4. keep every `down`-th sample.
 * Output: H_out = (H*up + y0 + y1 - Th + down) / down (integer division), likewise W.
 * Only the reference is provided: inside the generator the op runs fused in
 * filtered_lrelu's fast path.
 */
#ifndef LIS_UPFIRDN2D_H
#define LIS_UPFIRDN2D_H

#include <stdint.h>

typedef struct {
    const float *f;  /* filter taps, or NULL for [[1]] */
    int f_ndim;      /* 1: separable [T]; 2: [th, tw] */
    int th, tw;      /* taps (1-D: th = tw = T) */
    int up, down;
    int pad[4];      /* x0, x1, y0, y1 (negative = crop) */
    float gain;
} lis_upfirdn2d_params;

void lis_upfirdn2d_out_shape(const lis_upfirdn2d_params *p, int H, int W, int *Ho, int *Wo);
/* x: [NC planes, H, W] -> y: [NC, Ho, Wo]. */
void lis_upfirdn2d_ref(const lis_upfirdn2d_params *p, const float *x, float *y, int64_t NC, int H, int W);

#endif
