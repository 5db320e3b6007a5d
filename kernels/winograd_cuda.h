/* winograd_cuda.h — Winograd F(2x2, 3x3) for the generator's modulated convolution on the
 * GPU (kernels/winograd.cu), the CUDA side of kernels/winograd.h. C header, no CUDA types;
 * pointers are device memory.
 *
 * EXPERIMENTAL, opt-in: not yet run on a GPU. With LIS_WINOGRAD_CUDA=1 in the environment,
 * lis_modconv_cuda's float32 path and the "wino" variant of lis_modconv_cuda_variants use it
 * (tests/gpu_check.sh validates and times it in a step of its own); otherwise nothing calls
 * it. Per call: the weight transform U = G g G^T (16 x O x I), the input transform of the
 * modulated input (16 x I x tiles), 16 float32 GEMMs on the igemm kernels
 * (lis_gemm_cuda), the output transform with the demodulation scale. Images are processed
 * in groups whose transformed tiles fit a scratch buffer of at most 2 GiB (cached between
 * calls, grown on demand; lis_wino_cuda_release frees it). That buffer is shared by every
 * call of the process: calls on different streams must not overlap (lis runs one network
 * at a time and synchronises between them).
 */
#ifndef LIS_WINOGRAD_CUDA_H
#define LIS_WINOGRAD_CUDA_H

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y [B, O, Ho, Wo] = dsc[b, o] * conv(x[b] * sm[b], w), Ho = H + 2 pad - 2 (3x3 kernel);
 * w [O, I, 3, 3]; sm [B, I] and dsc [B, O] may be NULL (factor 1). */
lis_status lis_wino_modconv_cuda(const float *w, int O, int I, const float *x, const float *sm, const float *dsc,
                                 int B, int H, int W, int pad, float *y, lis_stream s);
/* LIS_WINOGRAD_CUDA=1 */
int lis_wino_cuda_enabled(void);
void lis_wino_cuda_release(void);

#ifdef __cplusplus
}
#endif

#endif
