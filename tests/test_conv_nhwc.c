/* test_conv_nhwc.c — the host side of the NHWC convolution (kernels/conv_nhwc.h): the float ->
 * bf16 / fp16 conversions (round to nearest even, ties, subnormals, overflow, NaN) and the tf32
 * rounding (ties away from zero), the CPU reference against the float32 NCHW reference
 * convolution on the same operand values (through the weight packing and both layout
 * conversions) in bf16, fp16 and tf32, and the parameter checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernels/conv_nhwc.h"
#include "kernels/conv2d.h"
#include "runtime/tensor.h"

static float bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void conversions(void) {
    /* bf16: 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even -> 1; 1 + 3*2^-8 -> 1 + 2^-6 */
    LIS_CHECK(lis_f32_to_bf16(1.0f) == 0x3f80);
    LIS_CHECK(lis_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80);
    LIS_CHECK(lis_f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82);
    LIS_CHECK(lis_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 0x3f81);
    LIS_CHECK(lis_f32_to_bf16(-2.5f) == 0xc020);
    LIS_CHECK(lis_f32_to_bf16(bits(0x7f7fffff)) == 0x7f80); /* FLT_MAX rounds to infinity */
    LIS_CHECK(isnan(lis_bf16_to_f32(lis_f32_to_bf16(NAN))));
    LIS_CHECK(lis_f32_to_bf16(bits(0x00000001)) == 0x0000); /* the smallest subnormal rounds to 0 */
    /* fp16 */
    LIS_CHECK(lis_f32_to_f16(1.0f) == 0x3c00);
    LIS_CHECK(lis_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00);   /* tie, even */
    LIS_CHECK(lis_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02); /* tie, up to even */
    LIS_CHECK(lis_f32_to_f16(65504.0f) == 0x7bff);
    LIS_CHECK(lis_f32_to_f16(65520.0f) == 0x7c00);          /* half way to the next: infinity */
    LIS_CHECK(lis_f32_to_f16(0x1p-24f) == 0x0001);          /* the smallest subnormal */
    LIS_CHECK(lis_f32_to_f16(0x1p-25f) == 0x0000);          /* its half: a tie, even */
    LIS_CHECK(lis_f32_to_f16(-0.0f) == 0x8000);
    LIS_CHECK(isnan(lis_f16_to_f32(lis_f32_to_f16(NAN))));
    /* tf32: 10 mantissa bits, ties away from zero (cvt.rna) */
    LIS_CHECK(lis_round_tf32(1.0f + 0x1p-11f) == 1.0f + 0x1p-10f);   /* tie: away from zero */
    LIS_CHECK(lis_round_tf32(-1.0f - 0x1p-11f) == -1.0f - 0x1p-10f);
    LIS_CHECK(lis_round_tf32(1.0f + 0x1p-12f) == 1.0f);
    LIS_CHECK(lis_round_tf32(1.0f + 3 * 0x1p-12f) == 1.0f + 0x1p-10f);
    LIS_CHECK(isinf(lis_round_tf32(INFINITY)) && isnan(lis_round_tf32(NAN)));
    /* round trips of every finite 16-bit value */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        const float fb = lis_bf16_to_f32((uint16_t)h), fh = lis_f16_to_f32((uint16_t)h);
        if (!isnan(fb) && lis_f32_to_bf16(fb) != h) bad++;
        if (!isnan(fh) && lis_f32_to_f16(fh) != h) bad++;
    }
    lis_check(bad == 0, "every finite bf16 and fp16 value converts back to itself (%d do not)", bad);
}

/* lis_nhwc_conv_ref equals the float NCHW reference on the operand values as the tensor cores see
 * them (16-bit values, or tf32-rounded floats), its output rounded as the precision stores it */
static void reference(lis_precision prec, lis_nhwc_conv_params p, int cin) {
    int Ho, Wo;
    lis_nhwc_conv_out_shape(&p, &Ho, &Wo);
    const int HW = p.H * p.W, HWo = Ho * Wo;
    const size_t es = lis_nhwc_elem_size(prec);
    const size_t nx = (size_t)p.N * cin * HW, nw = (size_t)p.K * cin * p.R * p.S, ny = (size_t)p.N * p.K * HWo;
    float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw), *bias = malloc(sizeof(float) * p.K);
    float *res = malloc(sizeof(float) * ny), *yref = malloc(sizeof(float) * ny), *y = malloc(sizeof(float) * ny);
    void *xn = malloc(es * (size_t)p.N * HW * p.C), *wn = malloc(es * (size_t)p.K * p.R * p.S * p.C);
    void *rn = malloc(es * ny), *yn = malloc(es * ny);
    unsigned seed = 5;
    /* operand values exactly representable in the precision's element (x, w: also as tf32) */
    for (size_t i = 0; i < nx; i++) { seed = seed * 1664525u + 1013904223u; x[i] = (float)(seed >> 8) / 8388608.0f - 1.0f; }
    for (size_t i = 0; i < nw; i++) { seed = seed * 1664525u + 1013904223u; w[i] = (float)(seed >> 8) / 16777216.0f - 0.5f; }
    for (int k = 0; k < p.K; k++) bias[k] = 0.1f * (float)(k % 7) - 0.3f;
    for (size_t i = 0; i < ny; i++) { seed = seed * 1664525u + 1013904223u; res[i] = (float)(seed >> 8) / 8388608.0f - 1.0f; }
    lis_nchw_to_nhwc(x, p.N, cin, HW, p.C, prec, xn);
    lis_nhwc_conv_pack_weights(w, p.K, cin, p.R, p.S, p.C, prec, wn);
    lis_nchw_to_nhwc(res, p.N, p.K, HWo, p.K, prec, rn);
    /* the float reference's operands: what the NHWC tensors hold, tf32-rounded where tf32 rounds */
    lis_nhwc_to_nchw(xn, p.N, cin, HW, p.C, prec, x);
    lis_nhwc_to_nchw(rn, p.N, p.K, HWo, p.K, prec, res);
    if (prec != LIS_PREC_TF32)
        for (size_t i = 0; i < nw; i++) w[i] = lis_from16(lis_to16(w[i], prec), prec);
    else {
        for (size_t i = 0; i < nx; i++) x[i] = lis_round_tf32(x[i]);
        for (size_t i = 0; i < nw; i++) w[i] = lis_round_tf32(w[i]);
    }
    const lis_conv2d_params q = {p.N, cin, p.H, p.W, p.K, p.R, p.S, p.stride, p.stride, p.pad, p.pad, 1, 1,
                                 p.relu ? LIS_ACT_RELU : LIS_ACT_NONE, 0.0f};
    const int ok = lis_check_ok(lis_conv2d_ref(&q, x, w, bias, res, yref), "conv2d reference") &&
                   lis_check_ok(lis_nhwc_conv_ref(&p, prec, xn, wn, bias, rn, yn), "nhwc conv reference");
    if (ok) {
        lis_nhwc_to_nchw(yn, p.N, p.K, HWo, p.K, prec, y);
        if (prec != LIS_PREC_TF32)
            for (size_t i = 0; i < ny; i++) yref[i] = lis_from16(lis_to16(yref[i], prec), prec);
        char name[160];
        snprintf(name, sizeof name, "nhwc conv reference %s, %d (padded to %d) -> %d channels, %dx%d/%d: the float32 "
                 "convolution of the same values", lis_precision_name(prec), cin, p.C, p.K, p.R, p.S, p.stride);
        /* the two references sum in different orders: one 16-bit ulp where a sum sits on a tie */
        const double rtol = prec == LIS_PREC_BF16 ? 0x1p-7 : prec == LIS_PREC_FP16 ? 0x1p-10 : 1e-6;
        lis_check_close(name, y, yref, (int64_t)ny, 1e-6, rtol);
    }
    free(x); free(w); free(bias); free(res); free(yref); free(y); free(xn); free(wn); free(rn); free(yn);
}

static void checks(void) {
    lis_nhwc_conv_params p = {1, 8, 8, 12, 16, 3, 3, 1, 1, 0};
    LIS_CHECK(lis_nhwc_conv_check(&p, LIS_PREC_BF16) != LIS_OK && strstr(lis_err_msg(), "multiple of 8 in bf16"));
    p.C = 4; /* a row is whole 16-byte copies: 4 channels suffice in tf32, not in 16 bits */
    LIS_CHECK(lis_nhwc_conv_check(&p, LIS_PREC_TF32) == LIS_OK);
    LIS_CHECK(lis_nhwc_conv_check(&p, LIS_PREC_FP16) != LIS_OK && strstr(lis_err_msg(), "C = 4"));
    LIS_CHECK(lis_nhwc_conv_check(&p, LIS_PREC_FP32) != LIS_OK && strstr(lis_err_msg(), "fp32"));
    LIS_CHECK(lis_nhwc_pad_channels(3, LIS_PREC_TF32) == 4 && lis_nhwc_pad_channels(3, LIS_PREC_BF16) == 8 &&
              lis_nhwc_pad_channels(64, LIS_PREC_FP16) == 64);
    p.C = 16; p.K = 20;
    LIS_CHECK(lis_nhwc_conv_check(&p, LIS_PREC_BF16) != LIS_OK && strstr(lis_err_msg(), "K = 20"));
    p.K = 16; p.stride = 0;
    LIS_CHECK(lis_nhwc_conv_check(&p, LIS_PREC_BF16) != LIS_OK && strstr(lis_err_msg(), "stride"));
    p.stride = 1; p.H = 1; p.pad = 0;
    LIS_CHECK(lis_nhwc_conv_check(&p, LIS_PREC_BF16) != LIS_OK && strstr(lis_err_msg(), "does not fit"));
    p.H = 8; p.N = 0;
    LIS_CHECK(lis_nhwc_conv_check(&p, LIS_PREC_BF16) != LIS_OK && strstr(lis_err_msg(), "positive"));
    p.N = 40000; p.H = p.W = 224; p.C = 64;
    LIS_CHECK(lis_nhwc_conv_check(&p, LIS_PREC_BF16) != LIS_OK && strstr(lis_err_msg(), "int range"));
    p.N = 1;
    LIS_CHECK(lis_nhwc_conv_check(&p, LIS_PREC_BF16) == LIS_OK);
    uint16_t one = 0, y = 0;
    LIS_CHECK(lis_nhwc_conv_ref(&p, LIS_PREC_FP32, &one, &one, NULL, NULL, &y) != LIS_OK && strstr(lis_err_msg(), "fp32"));
    LIS_CHECK(lis_nhwc_elem_size(LIS_PREC_TF32) == 4 && lis_nhwc_elem_size(LIS_PREC_BF16) == 2 &&
              lis_nhwc_elem_size(LIS_PREC_FP32) == 0);
}

int main(void) {
    conversions();
    reference(LIS_PREC_BF16, (lis_nhwc_conv_params){2, 9, 7, 16, 24, 3, 3, 1, 1, 1}, 16);
    reference(LIS_PREC_FP16, (lis_nhwc_conv_params){2, 9, 7, 16, 24, 3, 3, 2, 1, 0}, 16);
    reference(LIS_PREC_BF16, (lis_nhwc_conv_params){1, 15, 15, 8, 16, 7, 7, 2, 3, 0}, 3); /* the stem, 3 -> 8 */
    reference(LIS_PREC_FP16, (lis_nhwc_conv_params){2, 6, 6, 32, 8, 1, 1, 1, 0, 1}, 32);
    reference(LIS_PREC_TF32, (lis_nhwc_conv_params){2, 9, 7, 16, 24, 3, 3, 2, 1, 1}, 16);
    reference(LIS_PREC_TF32, (lis_nhwc_conv_params){1, 15, 15, 8, 16, 7, 7, 2, 3, 0}, 3);
    checks();
    return lis_test_finish();
}
