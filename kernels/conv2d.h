/* conv2d.h — 2-D convolution, NCHW, PyTorch nn.Conv2d semantics (cross-correlation,
 * symmetric zero padding, stride, dilation, groups = 1), with an optional bias, an
 * optional residual added after the bias, and an optional activation last:
 *
 *   y[n,k,oy,ox] = act( bias[k] + res[n,k,oy,ox]
 *                       + sum_{c,r,s} w[k,c,r,s] * x[n, c, oy*sh - ph + r*dh, ox*sw - pw + s*dw] )
 *
 * x: N x C x H x W; w: K x C x R x S; bias: K or NULL; res: N x K x Ho x Wo or NULL
 * (may alias y: it is read before y is written, element by element); y: N x K x Ho x Wo
 * with Ho = (H + 2ph - dh(R-1) - 1)/sh + 1 (floor), likewise Wo.
 *
 * Variants (same argument order):
 *  - lis_conv2d_ref: the 7-deep loop, double accumulator. The oracle.
 *  - lis_conv2d_cpu: convenience entry that packs w and allocates a workspace, then
 *    calls lis_conv2d_cpu_packed. Use the packed form in loops (nets pack once at load).
 *  - lis_conv2d_cpu_packed: every conv is ONE kind of GEMM, C[K, pixels] = W[K, CRS] *
 *    B[CRS, pixels], with B given as row pointers (kernels/gemm.h) and never
 *    materialised (no im2col):
 *      * 1x1, stride 1, no padding: row c of B is input plane c itself.
 *      * everything else: the input is copied once, zero-padded and split into
 *        stride_h x stride_w phase planes (phase (py,px) holds padded pixels
 *        (py + s_h*i, px + s_w*j)). Output pixel (oy, ox) -> column oy*Wq + ox; tap
 *        (c, r, s) reads phase ((r*dh) % sh, (s*dw) % sw) of channel c at row
 *        oy + (r*dh)/sh, column ox + (s*dw)/sw, i.e. the phase plane shifted by a
 *        constant. Row (c,r,s) of B is that shifted plane. Columns ox in [Wo, Wq) are
 *        computed and thrown away (a few % of the work: e.g. 58 vs 56 for 3x3 at 56x56).
 *        For stride 1 this is the classic shifted-row trick on the padded input; for
 *        stride 2 (ResNet's 7x7/2 stem, 3x3/2 and 1x1/2) it replaces im2col tiles with a
 *        copy the size of the input, and only the phases some tap reads are built.
 *    Work is split into tasks (image, block of <= 192 GEMM columns, block of <= 256
 *    output channels); each task runs the GEMM single-threaded into a per-thread tile
 *    and applies bias, residual and activation while the tile is in cache, writing y
 *    once. Blocks of columns shrink (down to 32) when an image has too few columns
 *    to give every thread a balanced share (batch 1, 14x14 and 7x7 maps).
 */
#ifndef LIS_CONV2D_H
#define LIS_CONV2D_H

#include <stddef.h>

#include "kernels/gemm.h"
#include "runtime/status.h"

typedef enum {
    LIS_ACT_NONE = 0,
    LIS_ACT_RELU,  /* max(v, 0) */
    LIS_ACT_LRELU, /* v >= 0 ? v : v * slope  (torch.nn.LeakyReLU) */
} lis_act;

typedef struct {
    int N, C, H, W;          /* input, NCHW */
    int K, R, S;             /* weights, KCRS (out channels, kernel height, width) */
    int stride_h, stride_w;  /* >= 1 */
    int pad_h, pad_w;        /* >= 0, zero padding on both sides */
    int dil_h, dil_w;        /* >= 1 */
    lis_act act;
    float slope;             /* LIS_ACT_LRELU only */
} lis_conv2d_params;

/* Validates the params (positive sizes, output at least 1x1, sizes within int range). */
lis_status lis_conv2d_check(const lis_conv2d_params *p);
void lis_conv2d_out_shape(const lis_conv2d_params *p, int *Ho, int *Wo);

lis_status lis_conv2d_ref(const lis_conv2d_params *p, const float *x, const float *w, const float *bias,
                          const float *res, float *y);
lis_status lis_conv2d_cpu(const lis_conv2d_params *p, const float *x, const float *w, const float *bias,
                          const float *res, float *y);

/* Weights packed for the GEMM, split into blocks of output channels (one per task). */
typedef struct {
    int K, C, R, S;
    int chunk_rows, nchunk;  /* K = sum of chunk sizes; all but the last hold chunk_rows */
    lis_gemm_apack *chunk;   /* nchunk packs, owned */
} lis_conv2d_packed;

lis_status lis_conv2d_pack(lis_conv2d_packed *pk, int K, int C, int R, int S, const float *w /* K x C x R x S */);
void lis_conv2d_packed_free(lis_conv2d_packed *pk);

/* Bytes of workspace lis_conv2d_cpu_packed needs for these params (64-byte aligned
 * buffer; depends on the thread count, which is fixed once the pool has started). */
size_t lis_conv2d_workspace_size(const lis_conv2d_params *p);
/* The fast path; pk must match p (K, C, R, S). Allocates nothing itself (gemm.c's
 * lis_gemm_packed allocates its B-panel buffer per call). */
void lis_conv2d_cpu_packed(const lis_conv2d_params *p, const lis_conv2d_packed *pk, const float *x,
                           const float *bias, const float *res, float *y, void *ws);

#endif
