/* winograd_cuda.h — Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions on the GPU
 * (kernels/winograd.cu), the CUDA side of kernels/winograd.h. C header, no CUDA types;
 * pointers are device memory.
 *
 * lis_igemm_cuda (so the generator's modulated convolutions and the classifier's 3x3
 * convolutions) uses it for the layers lis_wino_cuda_wanted picks: in float32 from 64 input
 * channels on, in the reduced precisions for the large layers (below). Per call: the weight
 * transform U = G g G^T (16 or 36 x O x I), the input transform of the modulated input
 * (16 or 36 x I x tiles), 16 or 36 GEMMs in one batched launch on the igemm kernels
 * (lis_gemm_cuda_batched), the output transform with the demodulation scale and the igemm
 * epilogue. Images are processed in groups whose transformed tiles fit a scratch buffer of at
 * most 2 GiB (LIS_WINO_CUDA_SCRATCH_MB sets another cap; runtime/cuda_scratch.cu: cached
 * between calls, one per stream for up to four streams, grown on demand; a fifth stream takes
 * over the first one's buffer after waiting for that stream; lis_wino_cuda_release frees every
 * scratch buffer).
 *
 * F(2x2) against the direct igemm v2 on an H200 (2026-11-27, gpu_check-20261127-h200-3): 2.1x
 * faster on the generator's L1 at batch 8, 1.7x on L26 at batch 1, 1.6x on ResNet-50's layer1
 * 3x3 at batch 64; slower on small problems (L1 at batch 1, ResNet-50's layer3 3x3: below
 * lis_wino_cuda_wanted's bounds). LIS_WINOGRAD_CUDA=0 in the environment turns it off, =1 on
 * for every 3x3 layer. The "wino", "wino4", "tf32 wino" and "bf16 wino" variants of the igemm
 * and modconv tables run one tile and precision alone.
 */
#ifndef LIS_WINOGRAD_CUDA_H
#define LIS_WINOGRAD_CUDA_H

#include "kernels/gemm_cuda.h"
#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The igemm convolution (kernels/gemm_cuda.h: in_scale, out_scale, bias, residual, activation,
 * in its epilogue's order) by Winograd F(2x2, 3x3), for 3x3 kernels with stride 1, dilation 1
 * and equal paddings (lis_wino_igemm_applies); an error for any other shape. */
int lis_wino_igemm_applies(const lis_igemm_params *p);
lis_status lis_wino_igemm_cuda(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
/* The same with F(4x4, 3x3): 36 GEMMs of 4x4-output tiles, 1.78x fewer multiplies than
 * F(2x2, 3x3), larger float32 rounding (tests/test_cuda_emu_winograd.cu measures it: 5-22x
 * F(2x2)'s, 9.5e-6 of max |y| at 512 input channels). */
lis_status lis_wino4_igemm_cuda(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
/* Either, with the GEMMs in precision prec (tf32 / bf16 / fp16 run on the mma.sync kernels;
 * the transforms stay float32). tile: 2, 4, or 0 for lis_wino_cuda_tile's choice. */
lis_status lis_wino_igemm_cuda_prec(const lis_igemm_params *p, lis_precision prec, int tile, const float *x,
                                    const float *w, float *y, lis_stream s);
/* The shipped path's choices, from the H200 check of session 5 (2026-11-27,
 * bench/results/gpu_check-20261127-h200-7: the generator b32 fp32 went 15.1 -> 23.7 img/s with
 * F(4x4), tf32 16.6 -> 28.7 and bf16 -> 30.9 img/s with Winograd on the tensor cores; on
 * ResNet-50's 3x3 layers both lost):
 *   lis_wino_cuda_large  at least 128 input channels and output maps of at least 32x32 (the
 *                        generator's layers; none of ResNet-50's);
 *   lis_wino_cuda_tile   F(4x4) for large float32 layers, F(2x2) otherwise (the reduced
 *                        precisions keep F(2x2): F(4x4) multiplies their rounding);
 *                        LIS_WINOGRAD_CUDA_TILE=2 or 4 in the environment forces one;
 *   lis_wino_cuda_tc_wanted  whether lis_igemm_cuda's tf32/bf16/fp16 path takes Winograd (on
 *                        the layers lis_wino_cuda_wanted picks): for large layers;
 *                        LIS_WINOGRAD_CUDA_TC=0 never, =1 wherever Winograd is wanted.
 * The 16 or 36 GEMMs go in one batched launch (lis_gemm_cuda_batched);
 * LIS_WINO_CUDA_BATCHED=0 launches them one by one. */
int lis_wino_cuda_large(const lis_igemm_params *p);
int lis_wino_cuda_tile(const lis_igemm_params *p, lis_precision prec);
int lis_wino_cuda_tc_wanted(const lis_igemm_params *p);
/* y [B, O, Ho, Wo] = dsc[b, o] * conv(x[b] * sm[b], w), Ho = H + 2 pad - 2 (3x3 kernel);
 * w [O, I, 3, 3]; sm [B, I] and dsc [B, O] may be NULL (factor 1). */
lis_status lis_wino_modconv_cuda(const float *w, int O, int I, const float *x, const float *sm, const float *dsc,
                                 int B, int H, int W, int pad, float *y, lis_stream s);
#define LIS_WINO_CUDA_MIN_COLS 8192     /* output pixels over the batch */
#define LIS_WINO_CUDA_MIN_WORK (1 << 20) /* tiles over the batch x min(in, out channels) */
/* Whether a float32 layer that lis_wino_igemm_applies to takes Winograd: LIS_WINOGRAD_CUDA=0
 * never, =1 always, otherwise when it has at least LIS_WINO_CUDA_MIN_COLS output pixels and
 * its 16 GEMMs at least LIS_WINO_CUDA_MIN_WORK (the transforms' cost is not repaid below). */
int lis_wino_cuda_wanted(const lis_igemm_params *p);
/* "off", "on" or "auto": the LIS_WINOGRAD_CUDA setting, for labels */
const char *lis_wino_cuda_mode(void);
void lis_wino_cuda_release(void);

#ifdef __cplusplus
}
#endif

#endif
