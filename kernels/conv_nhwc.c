/* conv_nhwc.c — the host side of the NHWC convolution (see conv_nhwc.h): parameter checks,
 * element access and conversions, weight packing, layouts and the CPU reference the GPU kernels
 * are tested against. */
#include "kernels/conv_nhwc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/tensor.h"

void lis_nhwc_conv_out_shape(const lis_nhwc_conv_params *p, int *Ho, int *Wo) {
    *Ho = (p->H + 2 * p->pad - p->R) / p->stride + 1;
    *Wo = (p->W + 2 * p->pad - p->S) / p->stride + 1;
}

static lis_status check(const lis_nhwc_conv_params *p, lis_precision prec, int k8) {
    LIS_TRY(lis_nhwc_prec_check(prec, "nhwc conv"));
    if (p->N < 1 || p->H < 1 || p->W < 1 || p->C < 1 || p->K < 1 || p->R < 1 || p->S < 1)
        return lis_err_set("nhwc conv: sizes must be positive (N %d, H %d, W %d, C %d, K %d, R %d, S %d)", p->N, p->H,
                           p->W, p->C, p->K, p->R, p->S);
    const int unit = lis_nhwc_row_unit(prec);
    if (p->C % unit)
        return lis_err_set("nhwc conv: C = %d must be a multiple of %d in %s (rows of whole 16-byte copies)", p->C,
                           unit, lis_precision_name(prec));
    if (k8 && p->K % 8)
        return lis_err_set("nhwc conv: K = %d must be a multiple of 8 (the epilogue writes 8 channels at once)", p->K);
    if (p->stride < 1 || p->pad < 0)
        return lis_err_set("nhwc conv: stride %d must be >= 1 and pad %d >= 0", p->stride, p->pad);
    if (p->H + 2 * p->pad < p->R || p->W + 2 * p->pad < p->S)
        return lis_err_set("nhwc conv: a %dx%d kernel does not fit the padded %dx%d input", p->R, p->S, p->H, p->W);
    int Ho, Wo;
    lis_nhwc_conv_out_shape(p, &Ho, &Wo);
    const int64_t nx = (int64_t)p->N * p->H * p->W * p->C, ny = (int64_t)p->N * Ho * Wo * p->K,
                  nw = (int64_t)p->K * p->R * p->S * p->C;
    if (nx >= INT32_MAX || ny >= INT32_MAX || nw >= INT32_MAX)
        return lis_err_set("nhwc conv: %lld input, %lld output or %lld weight elements exceed the int range",
                           (long long)nx, (long long)ny, (long long)nw);
    return LIS_OK;
}

lis_status lis_nhwc_conv_check(const lis_nhwc_conv_params *p, lis_precision prec) { return check(p, prec, 1); }
lis_status lis_nhwc_conv_check_nchw_out(const lis_nhwc_conv_params *p, lis_precision prec) { return check(p, prec, 0); }

size_t lis_nhwc_elem_size(lis_precision prec) {
    return prec == LIS_PREC_BF16 || prec == LIS_PREC_FP16 ? 2 : prec == LIS_PREC_TF32 ? 4 : 0;
}

int lis_nhwc_row_unit(lis_precision prec) {
    const size_t e = lis_nhwc_elem_size(prec);
    return e ? (int)(16 / e) : 0;
}

int lis_nhwc_pad_channels(int C, lis_precision prec) {
    const int u = lis_nhwc_row_unit(prec);
    return u ? (C + u - 1) / u * u : C;
}

lis_status lis_nhwc_prec_check(lis_precision prec, const char *op) {
    if (lis_nhwc_elem_size(prec)) return LIS_OK;
    return lis_err_set("%s: precision %s has no NHWC path (tf32, bf16 or fp16)", op, lis_precision_name(prec));
}

uint16_t lis_to16(float v, lis_precision prec) { return prec == LIS_PREC_FP16 ? lis_f32_to_f16(v) : lis_f32_to_bf16(v); }
float lis_from16(uint16_t h, lis_precision prec) { return prec == LIS_PREC_FP16 ? lis_f16_to_f32(h) : lis_bf16_to_f32(h); }

float lis_round_tf32(float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) { /* finite: add half of the dropped unit, truncate */
        u += 0x1000u;
        u &= 0xffffe000u;
    }
    memcpy(&v, &u, 4);
    return v;
}

float lis_nhwc_get(const void *t, size_t i, lis_precision prec) {
    if (prec == LIS_PREC_TF32) return ((const float *)t)[i];
    return lis_from16(((const uint16_t *)t)[i], prec);
}

void lis_nhwc_set(void *t, size_t i, float v, lis_precision prec) {
    if (prec == LIS_PREC_TF32) ((float *)t)[i] = v;
    else ((uint16_t *)t)[i] = lis_to16(v, prec);
}

void lis_nhwc_conv_pack_weights(const float *w, int K, int C, int R, int S, int Cp, lis_precision prec, void *out) {
    /* KCRS is NCHW with the output channels as images and the taps as pixels; KRSC is its NHWC */
    lis_nchw_to_nhwc(w, K, C, R * S, Cp, prec, out);
}

/* the operands as the tensor cores see them: 16-bit values exactly, tf32 rounded */
static float *operands(const void *t, size_t n, lis_precision prec) {
    float *f = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; f && i < n; i++) {
        f[i] = lis_nhwc_get(t, i, prec);
        if (prec == LIS_PREC_TF32) f[i] = lis_round_tf32(f[i]);
    }
    return f;
}

lis_status lis_nhwc_conv_ref(const lis_nhwc_conv_params *p, lis_precision prec, const void *x, const void *w,
                             const float *bias, const void *res, void *y) {
    LIS_TRY(lis_nhwc_conv_check_nchw_out(p, prec)); /* any K: the loops below need no 8-channel rows */
    int Ho, Wo;
    lis_nhwc_conv_out_shape(p, &Ho, &Wo);
    const int C = p->C, K = p->K;
    float *xf = operands(x, (size_t)p->N * p->H * p->W * C, prec), *wf = operands(w, (size_t)K * p->R * p->S * C, prec);
    if (!xf || !wf) {
        free(xf);
        free(wf);
        return lis_err_set("nhwc conv reference: out of memory");
    }
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
                    if (res) v += lis_nhwc_get(res, o + k, prec);
                    if (p->relu) v = v > 0.0f ? v : 0.0f;
                    lis_nhwc_set(y, o + k, v, prec);
                }
            }
    free(xf);
    free(wf);
    return LIS_OK;
}

void lis_nchw_to_nhwc_scaled(const float *x, const float *scale, int N, int C, int HW, int Cp, lis_precision prec,
                             void *y) {
    for (int b = 0; b < N; b++)
        for (int p = 0; p < HW; p++)
            for (int c = 0; c < Cp; c++) {
                float v = c < C ? x[((size_t)b * C + c) * HW + p] : 0.0f;
                if (scale && c < C) v *= scale[(size_t)b * C + c];
                lis_nhwc_set(y, ((size_t)b * HW + p) * Cp + c, v, prec);
            }
}

void lis_nchw_to_nhwc(const float *x, int N, int C, int HW, int Cp, lis_precision prec, void *y) {
    lis_nchw_to_nhwc_scaled(x, NULL, N, C, HW, Cp, prec, y);
}

void lis_nhwc_to_nchw(const void *x, int N, int C, int HW, int Cp, lis_precision prec, float *y) {
    for (int b = 0; b < N; b++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++) y[((size_t)b * C + c) * HW + p] = lis_nhwc_get(x, ((size_t)b * HW + p) * Cp + c, prec);
}
