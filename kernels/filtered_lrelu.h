/* filtered_lrelu.h — StyleGAN3's filtered leaky ReLU (torch_utils/ops/filtered_lrelu.py).
 *
 * For x [N, C, H, W] (rows may be strided) with bias b [C]:
 *   x = x * xscale[n,c] + b[c]                 (xscale: optional, see below)
 *   x = upfirdn2d(x, fu, up=up, padding=pad, gain=up*up)
 *   x = clamp(lrelu_slope(x) * gain, -clamp, clamp)
 *   y = upfirdn2d(x, fd, down=down)
 * Output size: W_out = (W*up + x0 + x1 - (Tu-1) - (Td-1) + down - 1) / down, likewise H.
 * fu / fd are 1-D separable filters (NULL = no filter, as for ToRGB).
 *
 * xscale lets the generator fold modulation/demodulation into the convolution and
 * apply the per-(sample, channel) output scale here, where the data is touched anyway.
 * With xscale = NULL the fast path computes exactly the reference's function (the
 * arithmetic order inside each filter pass differs, so results agree to float32
 * rounding, not bit for bit).
 *
 * Variants: _ref (the original's four steps, materialised), _cpu (one fused pass per
 * plane: polyphase up-filter, activation on the 2x grid, down-filter; threads over planes).
 */
#ifndef LIS_FILTERED_LRELU_H
#define LIS_FILTERED_LRELU_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const float *fu; int tu;  /* up filter [tu] or NULL (tu = 1) */
    const float *fd; int td;  /* down filter [td] or NULL (td = 1) */
    int up, down;
    int pad[4];               /* x0, x1, y0, y1 of the up-sampling upfirdn2d */
    float gain, slope, clamp; /* clamp < 0: none */
} lis_flrelu_params;

void lis_flrelu_out_shape(const lis_flrelu_params *p, int H, int W, int *Ho, int *Wo);

/* x: [N, C, H, W] contiguous; y: [N, C, Ho, Wo]. */
void lis_flrelu_ref(const lis_flrelu_params *p, const float *x, const float *b, float *y, int N, int C, int H, int W);

/* Bytes of scratch the fast path needs per thread for an H x W input. */
size_t lis_flrelu_workspace_per_thread(const lis_flrelu_params *p, int H, int W);
/* x rows have stride x_row (>= W) and planes stride x_plane; y is contiguous.
 * xscale: [N*C] or NULL. ws: lis_threads_count() * workspace_per_thread bytes, 64-aligned. */
void lis_flrelu_cpu(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane, const float *xscale,
                    const float *b, float *y, int N, int C, int H, int W, void *ws);

#endif
