/* conv16.c — the host side of the 16-bit NHWC convolution (see conv16.h): parameter checks,
 * weight packing, conversions and the CPU reference the GPU kernels are tested against. */
#include "kernels/conv16.h"

#include <stdlib.h>

#include "runtime/tensor.h"

void lis_conv16_out_shape(const lis_conv16_params *p, int *Ho, int *Wo) {
    *Ho = (p->H + 2 * p->pad - p->R) / p->stride + 1;
    *Wo = (p->W + 2 * p->pad - p->S) / p->stride + 1;
}

lis_status lis_conv16_check(const lis_conv16_params *p) {
    if (p->N < 1 || p->H < 1 || p->W < 1 || p->C < 1 || p->K < 1 || p->R < 1 || p->S < 1)
        return lis_err_set("conv16: sizes must be positive (N %d, H %d, W %d, C %d, K %d, R %d, S %d)", p->N, p->H,
                           p->W, p->C, p->K, p->R, p->S);
    if (p->C % 8 || p->K % 8)
        return lis_err_set("conv16: C = %d and K = %d must be multiples of 8 (16-byte rows)", p->C, p->K);
    if (p->stride < 1 || p->pad < 0) return lis_err_set("conv16: stride %d must be >= 1 and pad %d >= 0", p->stride, p->pad);
    if (p->H + 2 * p->pad < p->R || p->W + 2 * p->pad < p->S)
        return lis_err_set("conv16: a %dx%d kernel does not fit the padded %dx%d input", p->R, p->S, p->H, p->W);
    int Ho, Wo;
    lis_conv16_out_shape(p, &Ho, &Wo);
    const int64_t nx = (int64_t)p->N * p->H * p->W * p->C, ny = (int64_t)p->N * Ho * Wo * p->K,
                  nw = (int64_t)p->K * p->R * p->S * p->C;
    if (nx >= INT32_MAX || ny >= INT32_MAX || nw >= INT32_MAX)
        return lis_err_set("conv16: %lld input, %lld output or %lld weight elements exceed the int range",
                           (long long)nx, (long long)ny, (long long)nw);
    return LIS_OK;
}

uint16_t lis_to16(float v, lis_precision prec) { return prec == LIS_PREC_FP16 ? lis_f32_to_f16(v) : lis_f32_to_bf16(v); }
float lis_from16(uint16_t h, lis_precision prec) { return prec == LIS_PREC_FP16 ? lis_f16_to_f32(h) : lis_bf16_to_f32(h); }

void lis_conv16_pack_weights(const float *w, int K, int C, int R, int S, int Cp, lis_precision prec, uint16_t *out) {
    for (int k = 0; k < K; k++)
        for (int r = 0; r < R; r++)
            for (int s = 0; s < S; s++)
                for (int c = 0; c < Cp; c++)
                    out[(((size_t)k * R + r) * S + s) * Cp + c] =
                        c < C ? lis_to16(w[(((size_t)k * C + c) * R + r) * S + s], prec) : lis_to16(0.0f, prec);
}

lis_status lis_conv16_ref(const lis_conv16_params *p, lis_precision prec, const uint16_t *x, const uint16_t *w,
                          const float *bias, const uint16_t *res, uint16_t *y) {
    LIS_TRY(lis_conv16_check(p));
    if (prec != LIS_PREC_BF16 && prec != LIS_PREC_FP16)
        return lis_err_set("conv16: precision %s (bf16 or fp16 only)", lis_precision_name(prec));
    int Ho, Wo;
    lis_conv16_out_shape(p, &Ho, &Wo);
    const int C = p->C, K = p->K;
    float *xf = malloc(sizeof(float) * (size_t)p->N * p->H * p->W * C), *wf = malloc(sizeof(float) * (size_t)K * p->R * p->S * C);
    if (!xf || !wf) {
        free(xf);
        free(wf);
        return lis_err_set("conv16 reference: out of memory");
    }
    for (size_t i = 0, n = (size_t)p->N * p->H * p->W * C; i < n; i++) xf[i] = lis_from16(x[i], prec);
    for (size_t i = 0, n = (size_t)K * p->R * p->S * C; i < n; i++) wf[i] = lis_from16(w[i], prec);
    for (int b = 0; b < p->N; b++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++) {
                const size_t o = (((size_t)b * Ho + oy) * Wo + ox) * K;
                for (int k = 0; k < K; k++) {
                    double sum = 0.0;
                    for (int r = 0; r < p->R; r++) {
                        const int iy = oy * p->stride - p->pad + r;
                        if (iy < 0 || iy >= p->H) continue;
                        for (int s = 0; s < p->S; s++) {
                            const int ix = ox * p->stride - p->pad + s;
                            if (ix < 0 || ix >= p->W) continue;
                            const float *xr = xf + (((size_t)b * p->H + iy) * p->W + ix) * C;
                            const float *wr = wf + (((size_t)k * p->R + r) * p->S + s) * C;
                            for (int c = 0; c < C; c++) sum += (double)xr[c] * wr[c];
                        }
                    }
                    float v = (float)sum;
                    if (bias) v += bias[k];
                    if (res) v += lis_from16(res[o + k], prec);
                    if (p->relu) v = v > 0.0f ? v : 0.0f;
                    y[o + k] = lis_to16(v, prec);
                }
            }
    free(xf);
    free(wf);
    return LIS_OK;
}

void lis_nchw_to_nhwc16(const float *x, int N, int C, int HW, int Cp, lis_precision prec, uint16_t *y) {
    for (int b = 0; b < N; b++)
        for (int p = 0; p < HW; p++)
            for (int c = 0; c < Cp; c++)
                y[((size_t)b * HW + p) * Cp + c] = lis_to16(c < C ? x[((size_t)b * C + c) * HW + p] : 0.0f, prec);
}

void lis_nhwc16_to_nchw(const uint16_t *x, int N, int C, int HW, int Cp, lis_precision prec, float *y) {
    for (int b = 0; b < N; b++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++) y[((size_t)b * C + c) * HW + p] = lis_from16(x[((size_t)b * HW + p) * Cp + c], prec);
}
