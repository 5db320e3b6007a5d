/* winograd_cuda.h — Winograd F(2x2, 3x3) for the generator's modulated convolution on the
 * GPU (kernels/winograd.cu), the CUDA side of kernels/winograd.h. C header, no CUDA types;
 * pointers are device memory.
 *
 * lis_igemm_cuda's float32 path (so the generator's modulated convolutions and the
 * classifier's 3x3 convolutions) uses it for the layers lis_wino_cuda_wanted picks. Measured on
 * an H200 (2026-11-27, bench/results/gpu_check-20261127-h200-3), against the direct igemm v2:
 * 2.1x faster on the generator's L1 at batch 8 (1024 channels, 36x36), 1.7x on L26 at batch 1
 * (512 -> 431, 276x276), 1.6x on ResNet-50's layer1 3x3 at batch 64; slower on small
 * problems: 1.75x slower on L1 at batch 1, 1.35x on L11 at batch 1 (below the column bound),
 * 1.25x on ResNet-50's layer3 3x3 at batch 64 (256 channels, 14x14: below the work bound).
 * LIS_WINOGRAD_CUDA=0 in the environment turns it off, =1 on for every 3x3 layer. The "wino"
 * variants of the igemm and modconv tables are it alone. Per call: the weight transform U = G g G^T (16 x O x I), the input transform of the
 * modulated input (16 x I x tiles), 16 float32 GEMMs on the igemm kernels
 * (lis_gemm_cuda), the output transform with the demodulation scale. Images are processed
 * in groups whose transformed tiles fit a scratch buffer of at most 2 GiB (LIS_WINO_CUDA_SCRATCH_MB sets another cap; runtime/cuda_scratch.cu:
 * cached between calls, one per stream for up to four streams, grown on demand; a fifth
 * stream takes over the first one's buffer after waiting for that stream;
 * lis_wino_cuda_release frees every scratch buffer).
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
 * in its epilogue's order) by Winograd, for 3x3 kernels with stride 1, dilation 1 and equal
 * paddings (lis_wino_igemm_applies); an error for any other shape. lis_igemm_cuda's float32
 * path calls it for the layers lis_wino_cuda_wanted picks, from 64 input channels on. */
int lis_wino_igemm_applies(const lis_igemm_params *p);
lis_status lis_wino_igemm_cuda(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
/* The same with F(4x4, 3x3): 36 GEMMs of 4x4-output tiles, 1.78x fewer multiplies than
 * F(2x2, 3x3), larger float32 rounding (tests/test_cuda_emu_winograd.cu measures it). Not yet
 * timed on a GPU: the "wino4" variants run it, and LIS_WINOGRAD_CUDA_TILE=4 makes
 * lis_wino_igemm_cuda (the shipped path) take it. */
lis_status lis_wino4_igemm_cuda(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
/* Either, with the GEMMs in precision prec (tf32 / bf16 / fp16 run on the mma.sync kernels;
 * the transforms stay float32). tile: 2, 4, or 0 for LIS_WINOGRAD_CUDA_TILE's choice. The
 * reduced precisions on Winograd are not yet timed on a GPU: the "tf32 wino" / "bf16 wino"
 * variants run them, and LIS_WINOGRAD_CUDA_TC=1 (lis_wino_cuda_tc_wanted) lets lis_igemm_cuda
 * take them for the layers lis_wino_cuda_wanted picks. */
lis_status lis_wino_igemm_cuda_prec(const lis_igemm_params *p, lis_precision prec, int tile, const float *x,
                                    const float *w, float *y, lis_stream s);
int lis_wino_cuda_tc_wanted(void);
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
