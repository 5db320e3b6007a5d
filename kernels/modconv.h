/* modconv.h — StyleGAN3 modulated convolution (networks_stylegan3.modulated_conv2d).
 *
 * x [B, I, H, W], weight [O, I, k, k], styles s [B, I], scalar input_gain:
 *   if demodulate: w = w * rsqrt(mean_{i,ky,kx} w^2)   (per output channel)
 *                  s = s * rsqrt(mean s^2)             (ONE scalar over the whole [B, I]
 *                                                       tensor in the original; see below)
 *   wm[b,o,i] = w[o,i] * s[b,i]
 *   if demodulate: wm = wm * rsqrt(sum_{i,ky,kx} wm^2 + 1e-8)
 *   wm = wm * input_gain
 *   y[b] = conv2d(x[b], wm[b], padding)                (cross-correlation, stride 1)
 * Output [B, O, H + 2*padding - k + 1, ...]; the generator uses padding = k - 1.
 *
 * Style normalisation: the original normalises styles by their rms over the whole batch,
 * so an image depends on what else is in its batch. LinkingInStyle renders one image at a
 * time (batch 1); lis normalises per sample by default (= the original at batch 1) so
 * results do not depend on batching. batch_style_norm = 1 reproduces the batch-wide rms.
 *
 * Variants: _ref (the original's arithmetic, per-sample weights materialised) and the fast
 * path (_prepare once per layer, then _cpu_raw per call): styles are folded into the input
 * (x * s) and demodulation/input_gain into a per-(sample, output channel) scale, so one
 * packed weight matrix serves every sample and the conv is a single GEMM per sample over
 * shifted rows of the zero-padded input (kernels/gemm.h). Equal in real arithmetic.
 */
#ifndef LIS_MODCONV_H
#define LIS_MODCONV_H

#include <stddef.h>

#include "kernels/gemm.h"
#include "kernels/winograd.h"

typedef struct {
    int demodulate;
    int padding;
    int batch_style_norm; /* 1: rms over the whole batch (original); 0: per sample */
} lis_modconv_params;

void lis_modconv_ref(const lis_modconv_params *p, const float *x, const float *w, const float *s, float input_gain,
                     float *y, int B, int I, int O, int H, int W, int k);

typedef struct {
    int O, I, k, demodulate;
    lis_gemm_apack A; /* normalised weights as [O, I*k*k], packed (direct convolution) */
    lis_wino_packed wino; /* or Winograd F(2x2, 3x3)'s (lis_wino_wanted: k = 3, I >= 64) */
    int use_wino;
    float *w2;        /* [O, I]: sum over taps of the normalised weight squared (demodulate) */
} lis_modconv_weights;

lis_status lis_modconv_prepare(lis_modconv_weights *mw, const float *w, int O, int I, int k, int demodulate);
void lis_modconv_weights_free(lis_modconv_weights *mw);

/* Padded geometry: input rows of width Wp = W + 2*padding; output [O, Ho, Wp] with
 * junk in columns >= Wo (row stride Wp). */
size_t lis_modconv_workspace(const lis_modconv_weights *mw, const lis_modconv_params *p, int H, int W);
/* y: B * O * Ho * Wp floats; scale: [B, O] per-channel factor still to be applied. */
void lis_modconv_cpu_raw(const lis_modconv_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                         float input_gain, int B, int H, int W, float *y, float *scale, void *ws);
/* Complete result [B, O, Ho, Wo] (applies the scale, drops the junk columns). */
lis_status lis_modconv_cpu(const lis_modconv_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                           float input_gain, int B, int H, int W, float *y);

#endif
