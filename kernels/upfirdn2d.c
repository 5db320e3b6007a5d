/* upfirdn2d.c — reference upfirdn2d, written as the original's sequence of steps
 * (materialised zero-stuffed, padded plane; horizontal then vertical 1-D pass, each
 * rounded to float32) so that it is the oracle for the fused fast paths. */
#include "kernels/upfirdn2d.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/status.h"

void lis_upfirdn2d_out_shape(const lis_upfirdn2d_params *p, int H, int W, int *Ho, int *Wo) {
    *Ho = (H * p->up + p->pad[2] + p->pad[3] - p->th + p->down) / p->down;
    *Wo = (W * p->up + p->pad[0] + p->pad[1] - p->tw + p->down) / p->down;
}

/* Value of the zero-stuffed, padded/cropped plane at padded coordinates (py, px). */
static inline float stuffed(const float *x, int H, int W, int up, int x0, int y0, int py, int px) {
    int qy = py - y0, qx = px - x0;
    if (qy < 0 || qx < 0 || qy >= H * up || qx >= W * up || qy % up || qx % up) return 0.0f;
    return x[(size_t)(qy / up) * W + qx / up];
}

void lis_upfirdn2d_ref(const lis_upfirdn2d_params *p, const float *x, float *y, int64_t NC, int H, int W) {
    int up = p->up, down = p->down, th = p->th, tw = p->tw;
    int Hp = H * up + p->pad[2] + p->pad[3], Wp = W * up + p->pad[0] + p->pad[1];
    int Hf = Hp - th + 1, Wf = Wp - tw + 1, Ho, Wo;
    lis_upfirdn2d_out_shape(p, H, W, &Ho, &Wo);
    LIS_ASSERT(Hf > 0 && Wf > 0 && Ho > 0 && Wo > 0);
    /* flipped, gain-scaled filter (true convolution) */
    float one = 1.0f;
    const float *f = p->f ? p->f : &one;
    int nf = p->f_ndim == 2 ? th * tw : th;
    float *ff = malloc(sizeof(float) * (size_t)nf);
    float *tmp = malloc(sizeof(float) * (size_t)Hp * Wf);
    float *flt = malloc(sizeof(float) * (size_t)Hf * Wf);
    LIS_ASSERT(ff && tmp && flt);
    float scale = p->f_ndim == 2 || !p->f ? p->gain : sqrtf(p->gain);
    if (!p->f) scale = p->gain; /* [[1]] is 2-D */
    for (int i = 0; i < nf; i++) ff[i] = f[nf - 1 - i] * scale;
    for (int64_t pl = 0; pl < NC; pl++) {
        const float *xp = x + pl * (int64_t)H * W;
        if (p->f && p->f_ndim == 1) {
            for (int py = 0; py < Hp; py++) /* horizontal pass */
                for (int j = 0; j < Wf; j++) {
                    float acc = 0.0f;
                    for (int t = 0; t < tw; t++) acc += stuffed(xp, H, W, up, p->pad[0], p->pad[2], py, j + t) * ff[t];
                    tmp[(size_t)py * Wf + j] = acc;
                }
            for (int i = 0; i < Hf; i++) /* vertical pass */
                for (int j = 0; j < Wf; j++) {
                    float acc = 0.0f;
                    for (int t = 0; t < th; t++) acc += tmp[(size_t)(i + t) * Wf + j] * ff[t];
                    flt[(size_t)i * Wf + j] = acc;
                }
        } else {
            for (int i = 0; i < Hf; i++)
                for (int j = 0; j < Wf; j++) {
                    float acc = 0.0f;
                    for (int ty = 0; ty < th; ty++)
                        for (int tx = 0; tx < tw; tx++)
                            acc += stuffed(xp, H, W, up, p->pad[0], p->pad[2], i + ty, j + tx) * ff[ty * tw + tx];
                    flt[(size_t)i * Wf + j] = acc;
                }
        }
        float *yp = y + pl * (int64_t)Ho * Wo;
        for (int i = 0; i < Ho; i++)
            for (int j = 0; j < Wo; j++) yp[(size_t)i * Wo + j] = flt[(size_t)(i * down) * Wf + j * down];
    }
    free(ff);
    free(tmp);
    free(flt);
}
