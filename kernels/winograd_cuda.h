/* winograd_cuda.h — Winograd F(2x2, 3x3) for the generator's modulated convolution on the
 * GPU (kernels/winograd.cu), the CUDA side of kernels/winograd.h. C header, no CUDA types;
 * pointers are device memory.
 *
 * lis_modconv_cuda's float32 path uses it for 3x3 layers with at least LIS_WINO_CUDA_MIN_COLS
 * output pixels over the batch (lis_wino_cuda_wanted): on an H200 (2026-11-27) it was 1.3-1.4x
 * faster than the direct igemm from 8 images of 36x36 or one of 276x276, 2x slower on one image
 * of 52x52. LIS_WINOGRAD_CUDA=0 in the environment turns it off, =1 on for every 3x3 layer.
 * The "wino" variant of lis_modconv_cuda_variants is it alone. Per call: the weight transform U = G g G^T (16 x O x I), the input transform of the
 * modulated input (16 x I x tiles), 16 float32 GEMMs on the igemm kernels
 * (lis_gemm_cuda), the output transform with the demodulation scale. Images are processed
 * in groups whose transformed tiles fit a scratch buffer of at most 2 GiB (cached between
 * calls, one per stream for up to four streams, grown on demand; lis_wino_cuda_release frees
 * them). A fifth stream takes over the first one's buffer after waiting for that stream.
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
/* y [B, O, Ho, Wo] = dsc[b, o] * conv(x[b] * sm[b], w), Ho = H + 2 pad - 2 (3x3 kernel);
 * w [O, I, 3, 3]; sm [B, I] and dsc [B, O] may be NULL (factor 1). */
lis_status lis_wino_modconv_cuda(const float *w, int O, int I, const float *x, const float *sm, const float *dsc,
                                 int B, int H, int W, int pad, float *y, lis_stream s);
#define LIS_WINO_CUDA_MIN_COLS 8192
/* Whether a 3x3 float32 layer with `cols` output pixels (batch x Ho x Wo) takes Winograd:
 * LIS_WINOGRAD_CUDA=0 never, =1 always, otherwise cols >= LIS_WINO_CUDA_MIN_COLS. */
int lis_wino_cuda_wanted(long long cols);
/* "off", "on" or "auto": the LIS_WINOGRAD_CUDA setting, for labels */
const char *lis_wino_cuda_mode(void);
void lis_wino_cuda_release(void);

#ifdef __cplusplus
}
#endif

#endif
