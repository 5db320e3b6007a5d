/* modconv_cuda.h — StyleGAN3's modulated convolution on the GPU (kernels/modconv.cu).
 * Same semantics and parameters as kernels/modconv.h (lis_modconv_params: demodulate,
 * padding, batch_style_norm); C header, no CUDA types; pointers are device memory.
 *
 * The fast path folds everything into one implicit GEMM (kernels/gemm_cuda.h):
 *   prepare (once per layer): w <- w * rsqrt(mean_{i,ky,kx} w^2) per output channel,
 *                             w2[o,i] = sum_{ky,kx} w[o,i,ky,kx]^2
 *   styles (per call):        sm[b,i]  = s[b,i] * rsqrt(mean s^2)  (demodulate; per sample,
 *                                         or over the whole batch with batch_style_norm)
 *                             dsc[b,o] = rsqrt(sum_i w2[o,i] sm[b,i]^2 + 1e-8) * input_gain
 *   conv:                     y[b,o] = dsc[b,o] * conv(x[b] * sm[b], w)
 * so modulation is applied while the input tile is gathered and demodulation in the
 * epilogue: one weight matrix serves the whole batch and nothing per sample is
 * materialised. Equal to the reference in real arithmetic.
 *
 * Variants (lis_modconv_cuda_variants):
 *   v1    straight port of lis_modconv_ref: per-sample weights materialised (wm = w * sm,
 *         d from sum wm^2, wm *= d * gain), then the naive igemm v1 per sample
 *   fp32  folded, the float32 igemm as shipped (lis_igemm_cuda: Winograd for big 3x3 layers,
 *         v2 for the other 3x3, v3 for 1x1)       tf32 / bf16 / fp16: folded, tensor-core igemm
 *   wino  Winograd F(2x2, 3x3), kernels/winograd_cuda.h (3x3 only; others as v2); and the
 *         tensor-core alternatives (direct mma, Winograd on mma, on 16-bit operands)
 *   bf16 nhwc / fp16 nhwc  the styled input and the weights converted to NHWC 16-bit, the NHWC
 *         implicit GEMM of kernels/conv_nhwc_cuda.h with the demodulation in its NCHW float32
 *         epilogue (0.28 of the BF16 GEMM rate at L1 batch 8 on the H100, below the 16-bit Winograd)
 * lis_modconv_cuda: the folded igemm of the precision (lis_igemm_cuda, which in float32 takes
 * Winograd for the big 3x3 layers).
 */
#ifndef LIS_MODCONV_CUDA_H
#define LIS_MODCONV_CUDA_H

#include <stddef.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/modconv.h"

typedef struct {
    int O, I, k, demodulate;
    float *w;   /* device, O x I*k*k: normalised weights (demodulate) or the weights as given */
    float *w2;  /* device, O x I: per-input-channel sum of the normalised weight squared, or NULL */
    void **nhwc; /* host [2], allocated by prepare: the device weights packed KRSC for the bf16 / fp16
                  * "nhwc" variants, NULL until one first runs (then kept: the weights are fixed) */
} lis_modconv_cuda_weights;

/* Uploads w (host, O x I x k x k) and normalises it on the device. */
lis_status lis_modconv_cuda_prepare(lis_modconv_cuda_weights *mw, const float *w_host, int O, int I, int k,
                                    int demodulate, lis_stream s);
void lis_modconv_cuda_weights_free(lis_modconv_cuda_weights *mw);

/* The per-call factors: s [B, I] -> sm [B, I] (input modulation), dsc [B, O] (output scale). */
lis_status lis_modconv_cuda_styles(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *s,
                                   float input_gain, int B, float *sm, float *dsc, lis_stream st);

/* Floats of device workspace a call needs at batch B (v1 needs the per-sample weights). */
size_t lis_modconv_cuda_workspace(const lis_modconv_cuda_weights *mw, int B, int v1);

/* x [B, I, H, W], s [B, I] -> y [B, O, H + 2*pad - k + 1, W + 2*pad - k + 1]. */
typedef lis_status (*lis_modconv_cuda_fn)(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p,
                                          const float *x, const float *s, float input_gain, int B, int H, int W,
                                          float *y, float *ws, lis_stream st);
typedef struct {
    const char *name;
    lis_modconv_cuda_fn fn;
    lis_precision prec;
    int v1;               /* needs the v1 workspace */
    const char *what;
} lis_modconv_cuda_variant;
int lis_modconv_cuda_variants(const lis_modconv_cuda_variant **out);

lis_status lis_modconv_cuda_v1(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x,
                               const float *s, float input_gain, int B, int H, int W, float *y, float *ws,
                               lis_stream st);
/* The shipped path: folded, with the igemm kernel of `prec`. */
lis_status lis_modconv_cuda(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x,
                            const float *s, float input_gain, int B, int H, int W, float *y, float *ws,
                            lis_precision prec, lis_stream st);

#ifdef __cplusplus
}
#endif

#endif
