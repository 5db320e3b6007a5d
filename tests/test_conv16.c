/* test_conv16.c — the host side of the 16-bit NHWC convolution (kernels/conv16.h): the
 * float -> bf16 / fp16 conversions (round to nearest even, ties, subnormals, overflow, NaN), the
 * CPU reference against the float32 NCHW reference convolution on the same 16-bit values
 * (through the weight packing and both layout conversions), and the parameter checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernels/conv16.h"
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
    /* round trips of every finite 16-bit value */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        const float fb = lis_bf16_to_f32((uint16_t)h), fh = lis_f16_to_f32((uint16_t)h);
        if (!isnan(fb) && lis_f32_to_bf16(fb) != h) bad++;
        if (!isnan(fh) && lis_f32_to_f16(fh) != h) bad++;
    }
    lis_check(bad == 0, "every finite bf16 and fp16 value converts back to itself (%d do not)", bad);
}

/* lis_conv16_ref on 16-bit data equals the float NCHW reference on the widened data, rounded */
static void reference(lis_precision prec, lis_conv16_params p, int cin) {
    int Ho, Wo;
    lis_conv16_out_shape(&p, &Ho, &Wo);
    const int HW = p.H * p.W, HWo = Ho * Wo;
    const size_t nx = (size_t)p.N * cin * HW, nw = (size_t)p.K * cin * p.R * p.S, ny = (size_t)p.N * p.K * HWo;
    float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw), *bias = malloc(sizeof(float) * p.K);
    float *res = malloc(sizeof(float) * ny), *yref = malloc(sizeof(float) * ny), *y = malloc(sizeof(float) * ny);
    uint16_t *x16 = malloc(2 * (size_t)p.N * HW * p.C), *w16 = malloc(2 * (size_t)p.K * p.R * p.S * p.C);
    uint16_t *r16 = malloc(2 * ny), *y16 = malloc(2 * ny);
    unsigned seed = 5;
    for (size_t i = 0; i < nx; i++) { seed = seed * 1664525u + 1013904223u; x[i] = lis_from16(lis_to16((float)(seed >> 8) / 8388608.0f - 1.0f, prec), prec); }
    for (size_t i = 0; i < nw; i++) { seed = seed * 1664525u + 1013904223u; w[i] = lis_from16(lis_to16((float)(seed >> 8) / 16777216.0f - 0.5f, prec), prec); }
    for (int k = 0; k < p.K; k++) bias[k] = 0.1f * (float)(k % 7) - 0.3f;
    for (size_t i = 0; i < ny; i++) { seed = seed * 1664525u + 1013904223u; res[i] = lis_from16(lis_to16((float)(seed >> 8) / 8388608.0f - 1.0f, prec), prec); }
    lis_nchw_to_nhwc16(x, p.N, cin, HW, p.C, prec, x16);
    lis_conv16_pack_weights(w, p.K, cin, p.R, p.S, p.C, prec, w16);
    lis_nchw_to_nhwc16(res, p.N, p.K, HWo, p.K, prec, r16);
    const lis_conv2d_params q = {p.N, cin, p.H, p.W, p.K, p.R, p.S, p.stride, p.stride, p.pad, p.pad, 1, 1,
                                 p.relu ? LIS_ACT_RELU : LIS_ACT_NONE, 0.0f};
    const int ok = lis_check_ok(lis_conv2d_ref(&q, x, w, bias, res, yref), "conv2d reference") &&
                   lis_check_ok(lis_conv16_ref(&p, prec, x16, w16, bias, r16, y16), "conv16 reference");
    if (ok) {
        lis_nhwc16_to_nchw(y16, p.N, p.K, HWo, p.K, prec, y);
        for (size_t i = 0; i < ny; i++) yref[i] = lis_from16(lis_to16(yref[i], prec), prec);
        char name[160];
        snprintf(name, sizeof name, "conv16 reference %s, %d (padded to %d) -> %d channels, %dx%d/%d: the float32 "
                 "convolution of the same values, rounded once", lis_precision_name(prec), cin, p.C, p.K, p.R, p.S, p.stride);
        /* the two references sum in different orders: one 16-bit ulp where a sum sits on a tie */
        lis_check_close(name, y, yref, (int64_t)ny, 1e-6, prec == LIS_PREC_BF16 ? 0x1p-7 : 0x1p-10);
    }
    free(x); free(w); free(bias); free(res); free(yref); free(y); free(x16); free(w16); free(r16); free(y16);
}

static void checks(void) {
    lis_conv16_params p = {1, 8, 8, 12, 16, 3, 3, 1, 1, 0};
    LIS_CHECK(lis_conv16_check(&p) != LIS_OK && strstr(lis_err_msg(), "multiples of 8"));
    p.C = 16; p.K = 20;
    LIS_CHECK(lis_conv16_check(&p) != LIS_OK && strstr(lis_err_msg(), "K = 20"));
    p.K = 16; p.stride = 0;
    LIS_CHECK(lis_conv16_check(&p) != LIS_OK && strstr(lis_err_msg(), "stride"));
    p.stride = 1; p.H = 1; p.pad = 0;
    LIS_CHECK(lis_conv16_check(&p) != LIS_OK && strstr(lis_err_msg(), "does not fit"));
    p.H = 8; p.N = 0;
    LIS_CHECK(lis_conv16_check(&p) != LIS_OK && strstr(lis_err_msg(), "positive"));
    p.N = 40000; p.H = p.W = 224; p.C = 64;
    LIS_CHECK(lis_conv16_check(&p) != LIS_OK && strstr(lis_err_msg(), "int range"));
    p.N = 1;
    LIS_CHECK(lis_conv16_check(&p) == LIS_OK);
    uint16_t one = 0, y = 0;
    LIS_CHECK(lis_conv16_ref(&p, LIS_PREC_TF32, &one, &one, NULL, NULL, &y) != LIS_OK && strstr(lis_err_msg(), "tf32"));
}

int main(void) {
    conversions();
    reference(LIS_PREC_BF16, (lis_conv16_params){2, 9, 7, 16, 24, 3, 3, 1, 1, 1}, 16);
    reference(LIS_PREC_FP16, (lis_conv16_params){2, 9, 7, 16, 24, 3, 3, 2, 1, 0}, 16);
    reference(LIS_PREC_BF16, (lis_conv16_params){1, 15, 15, 8, 16, 7, 7, 2, 3, 0}, 3); /* the stem, 3 -> 8 */
    reference(LIS_PREC_FP16, (lis_conv16_params){2, 6, 6, 32, 8, 1, 1, 1, 0, 1}, 32);
    checks();
    return lis_test_finish();
}
