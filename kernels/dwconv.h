/* dwconv.h — depthwise 2-D convolution (PyTorch nn.Conv2d with groups = C = K, stride 1,
 * symmetric zero padding, dilation 1) with a fused per-channel epilogue:
 *
 *   z[n,c,oy,ox] = bias[c] + sum_{r,s} w[c,r,s] * x[n, c, oy - pad + r, ox - pad + s]
 *   y[n,c,oy,ox] = res[n,c,oy,ox] + scale[c] * act(z) + shift[c]
 *
 * act is ReLU or the identity; scale/shift is an eval-mode BatchNorm folded into an affine
 * map (scale = gamma / sqrt(var + eps), shift = beta - mean * scale). This is the
 * residual module of PUMP's ConvMixer, `x + BN(ReLU(DWConv(x)))`, in one pass (spec/pump.md
 * s.2). x: N x C x H x W; w: C x 1 x k x k; Ho = H + 2 pad - k + 1 (likewise Wo).
 * Any of bias, scale, shift, res may be NULL (0, 1, 0, 0). res may alias y (it is read
 * before y is written, element by element); x must not alias y.
 *
 * Variants (same arguments):
 *  - lis_dwconv_ref: the plain loop nest, double accumulator. The oracle.
 *  - lis_dwconv_cpu: threads over (image, channel) planes; each plane is copied once into a
 *    zero-padded buffer (the caller's workspace, one per thread), then every output row is
 *    k*k shifted 8-wide FMAs (AVX2) over the padded rows. Sums in float32 in (r, s) order.
 *    ws: lis_dwconv_workspace_size(p) bytes, 64-byte aligned; _ref ignores it.
 * CUDA: kernels/dwconv_cuda.h.
 */
#ifndef LIS_DWCONV_H
#define LIS_DWCONV_H

#include <stddef.h>

#include "runtime/status.h"

typedef struct {
    int N, C, H, W; /* input NCHW; the output has C channels too */
    int k, pad;     /* square kernel, zero padding on every side */
    int relu;       /* 1: ReLU after the bias, before the affine */
} lis_dwconv_params;

typedef struct {
    const float *w;     /* C x k x k (PyTorch C x 1 x k x k) */
    const float *bias;  /* C or NULL */
    const float *scale; /* C or NULL (1) */
    const float *shift; /* C or NULL (0) */
} lis_dwconv_weights;

lis_status lis_dwconv_check(const lis_dwconv_params *p);
void lis_dwconv_out_shape(const lis_dwconv_params *p, int *Ho, int *Wo);
/* Multiply-adds of one call. */
double lis_dwconv_macs(const lis_dwconv_params *p);

/* Bytes of workspace of lis_dwconv_cpu (depends on the thread count, fixed once the pool
 * has started). */
size_t lis_dwconv_workspace_size(const lis_dwconv_params *p);
void lis_dwconv_ref(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x, const float *res,
                    float *y, void *ws);
void lis_dwconv_cpu(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x, const float *res,
                    float *y, void *ws);

#endif
