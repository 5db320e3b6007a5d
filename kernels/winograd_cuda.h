/* winograd_cuda.h — Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions on the GPU
 * (kernels/winograd.cu), the CUDA side of kernels/winograd.h. C header, no CUDA types;
 * pointers are device memory.
 *
 * lis_igemm_cuda (so the generator's modulated convolutions and the classifier's 3x3
 * convolutions) uses it for the layers lis_wino_cuda_wanted picks: in float32 from 64 input
 * channels on, in the reduced precisions from 128 (below). Per call: the weight
 * transform U = G g G^T (16 or 36 x O x I), the input transform of the modulated input
 * (16 or 36 x I x tiles), 16 or 36 GEMMs in one batched launch on the igemm kernels
 * (lis_gemm_cuda_batched), the output transform with the demodulation scale and the igemm
 * epilogue. Images are processed in groups whose transformed tiles fit a scratch buffer of at
 * most 2 GiB (LIS_WINO_CUDA_SCRATCH_MB sets another cap; runtime/cuda_scratch.cu: cached
 * between calls, one per stream for up to four streams, grown on demand; a fifth stream takes
 * over the first one's buffer after waiting for that stream; lis_wino_cuda_release frees every
 * scratch buffer).
 *
 * When its 16 GEMMs ran one launch each (sessions 3-4), F(2x2) lost to the direct kernel on
 * small problems (the generator's L1 at batch 1, ResNet-50's layer3 3x3), and the bounds of
 * lis_wino_cuda_wanted kept it off them; batched, it wins there too (below).
 * LIS_WINOGRAD_CUDA=0 in the environment turns it off, =1 on for every 3x3 layer. The "wino",
 * "wino4", "tf32 wino" and "bf16 wino" variants of the igemm and modconv tables run one tile
 * and precision alone.
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
/* F(2x2) in bf16 / fp16 with 16-bit operands: the transforms round U and V once as they store
 * them (depth padded to a multiple of 8) and the GEMMs run on lis_gemm16_cuda_batched (cp.async
 * of 8 operands per copy, ldmatrix fragments) instead of the mma kernel that reads float32. The
 * same rounding as the float32-operand GEMMs, half the operand traffic: the shipped bf16/fp16
 * Winograd (lis_wino_igemm_cuda_prec) takes it unless LIS_WINO_CUDA_GEMM16=0 (on the H100,
 * 2026-11-27: L1 b8 bf16 225 -> 363 TFLOP/s, the generator b32 bf16 31.7 -> 45.8 img/s). */
lis_status lis_wino_igemm_cuda_g16(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w,
                                   float *y, lis_stream s);
/* F(2x2) with the GEMMs on the mma kernels reading float32 operands whatever the precision (the
 * bf16/fp16 path before 2026-11-27, kept to compare: the "bf16 wino" variants). */
lis_status lis_wino_igemm_cuda_f32ops(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w,
                                      float *y, lis_stream s);
/* The shipped path's choices, from the H200 checks of session 5 (2026-11-27,
 * bench/results/gpu_check-20261127-h200-7 and -8): with F(4x4) and the batched GEMMs the
 * generator b32 fp32 went 15.1 -> 29.4 img/s; with Winograd on the tensor cores tf32 16.6 ->
 * 31.0 and bf16 18.8 -> 34.3 img/s:
 *   lis_wino_cuda_tile   F(4x4) in float32 (faster on every measured layer: 1.1-2.4x F(2x2)),
 *                        F(2x2) in the reduced precisions, where F(4x4) multiplies the
 *                        operands' rounding (NMSE 30-50x, tests/test_cuda_emu_winograd.cu;
 *                        the generator b32 would go tf32 31 -> 45, bf16 34 -> 49 img/s);
 *                        LIS_WINOGRAD_CUDA_TILE=2 or 4 in the environment forces one;
 *   lis_wino_cuda_tc_wanted  whether the tf32/bf16/fp16 path takes Winograd (on the layers
 *                        lis_wino_cuda_wanted picks): from 128 input channels on (at 64,
 *                        ResNet-50's layer1, the direct mma kernel was faster: 0.43 vs 0.60 ms);
 *                        LIS_WINOGRAD_CUDA_TC=0 never, =1 wherever Winograd is wanted.
 * The 16 or 36 GEMMs go in one batched launch (lis_gemm_cuda_batched);
 * LIS_WINO_CUDA_BATCHED=0 launches them one by one (the generator b32 fp32: 24.1 img/s
 * against 29.4). */
int lis_wino_cuda_tile(const lis_igemm_params *p, lis_precision prec);
int lis_wino_cuda_tc_wanted(const lis_igemm_params *p);
#define LIS_WINO_CUDA_MIN_SIDE 14        /* output rows and columns */
#define LIS_WINO_CUDA_MIN_WORK (1 << 18) /* 2x2 tiles over the batch x min(in, out channels) */
/* Whether a layer that lis_wino_igemm_applies to takes Winograd (from 64 input channels on;
 * the reduced precisions also need lis_wino_cuda_tc_wanted): LIS_WINOGRAD_CUDA=0 never, =1
 * always, otherwise when its output is at least LIS_WINO_CUDA_MIN_SIDE on each side and its
 * GEMMs hold at least LIS_WINO_CUDA_MIN_WORK. With the GEMMs batched (session 5), Winograd won
 * on every measured shape down to the generator's L1 at batch 1 (1024 channels, 36 px: F(4x4)
 * 0.49 ms against the direct kernel's 1.03) and ResNet-50's layer3 3x3 at batch 64 (256
 * channels, 14 px: F(4x4) 0.23 ms, F(2x2) 0.26, the split direct kernel 0.57, cuDNN's FFT 0.28);
 * the bounds keep it off the unmeasured small layers (ResNet-50's 7 px layer4, batch 1). */
int lis_wino_cuda_wanted(const lis_igemm_params *p);
/* "off", "on" or "auto": the LIS_WINOGRAD_CUDA setting, for labels */
const char *lis_wino_cuda_mode(void);
void lis_wino_cuda_release(void);

#ifdef __cplusplus
}
#endif

#endif
