/* winograd.h — 3x3, stride-1 convolution on the CPU by Winograd's minimal filtering
 * F(2x2, 3x3) (Lavin & Gray, 2016): 16 multiplies per 2x2 output tile and input channel
 * instead of 36, so the GEMM work of a 3x3 layer drops by 2.25x.
 *
 *   U = G g G^T     (weights, 4x4 per (k, c); once, at load time)
 *   V = B^T d B     (4x4 input patch d of each 2x2 output tile, per channel)
 *   M_xi = U_xi V_xi  for the 16 positions xi of the 4x4 tile: 16 GEMMs [K x C] x [C x tiles]
 *   Y = A^T M A     (the 2x2 outputs of each tile), then bias, residual, activation
 *
 * The GEMMs run on kernels/gemm.h's packed micro-kernel; the transforms are exact in
 * exact arithmetic and add a few float32 roundings (the tests bound the difference to the
 * direct convolution at 1e-5 relative, well inside the networks' tolerances).
 *
 * Used where it applies (lis_wino_applies: 3x3, stride 1, dilation 1, any padding) by the
 * classifier's convolutions (nets/resnet.c) and the generator's modulated convolutions
 * (kernels/modconv.c); kernels/conv2d.h's direct path is the reference for both.
 */
#ifndef LIS_WINOGRAD_H
#define LIS_WINOGRAD_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/conv2d.h"
#include "kernels/gemm.h"
#include "runtime/status.h"

typedef struct {
    int K, C;
    int mt, nx;               /* output tile side (2: F(2x2, 3x3), 4: F(4x4, 3x3)), positions (mt+2)^2 */
    int chunk_rows, nchunk;   /* output channels per pack (the last chunk may hold fewer) */
    lis_gemm_apack *u;        /* [nchunk * nx]: chunk ci, position xi -> u[ci * nx + xi] (owned) */
} lis_wino_packed;

/* Whether Winograd F(2x2, 3x3) computes this convolution. */
int lis_wino_applies(const lis_conv2d_params *p);

/* Whether a 3x3 stride-1 layer with C input channels should use it: the transforms cost
 * ~1/C of the GEMM work saved (measured with the AVX2 transforms, 2-core Zen 3, lis-bench ops
 * --filter conv3x3: 64 channels at 56 px 1.2x, 128 at 28 px 1.2-1.5x, 256-1024 1.1-1.8x;
 * below 64 untested, so left to the direct path). LIS_WINOGRAD=0 turns it off. */
#define LIS_WINO_MIN_C 64
int lis_wino_wanted(int C);

/* w: [K, C, 3, 3] (PyTorch's layout). F(2x2, 3x3), or F(4x4, 3x3) with LIS_WINOGRAD_TILE=4
 * in the environment: 36 GEMMs per 4x4 tile, 1.78x fewer multiplies, 5-22x the float32
 * rounding (tests/test_winograd.c runs every case with both). Its transforms run 8 tiles
 * at a time as AVX2 vectors. On the 2-core Zen 3 (lis-bench, 2026-11-27, noisy) against
 * F(2x2): the generator's L26 3x3 1.35-1.64x, ResNet layer2 at batch 8 1.2-1.8x, generator L1
 * 0.9-1.3x, but 7x7 maps 0.3x (few, mostly padded tiles); the whole generator 12.43 -> 11.72
 * s/image (1.06x). So it stays opt-in. It shares its transforms with the GPU's F(4x4)
 * (winograd_transform.h), and the full-size generator with it still matches the bundle
 * (test_sgxl_full, 47 checks). */
lis_status lis_wino_pack(lis_wino_packed *pk, int K, int C, const float *w);
/* The same with the tile size given (2 or 4). */
lis_status lis_wino_pack_tile(lis_wino_packed *pk, int K, int C, const float *w, int mt);
void lis_wino_packed_free(lis_wino_packed *pk);

/* N images: x [N][C, H, W] (images xstride floats apart) zero-padded by (pad_h, pad_w) ->
 * y [N][K, Ho, Wo] (images ystride floats apart) with Ho = H + 2 pad_h - 2,
 * Wo = W + 2 pad_w - 2, rows ldy floats apart and planes ldp floats apart (ldy >= Wo,
 * ldp >= Ho * ldy: the generator writes into rows of its padded width). bias [K] and res
 * (y's layout) may be NULL; act as conv2d.h. */
typedef struct {
    int N, H, W, pad_h, pad_w;
    const float *x;
    int64_t xstride;
    float *y;
    int64_t ystride, ldy, ldp;
    const float *bias, *res;
    lis_act act;
    float slope;
} lis_wino_io;

/* Workspace (bytes) of lis_wino_conv for this geometry, all threads. */
size_t lis_wino_workspace_size(const lis_wino_packed *pk, int N, int H, int W, int pad_h, int pad_w);
/* Runs on the thread pool (or on the calling thread when called from a pool task). */
void lis_wino_conv(const lis_wino_packed *pk, const lis_wino_io *io, void *ws);

/* Convenience: a whole lis_conv2d_params batch (N images, stride 1, 3x3), packing the
 * weights and allocating the workspace for this call. */
lis_status lis_wino_conv2d_cpu(const lis_conv2d_params *p, const float *x, const float *w, const float *bias,
                               const float *res, float *y);

#endif
