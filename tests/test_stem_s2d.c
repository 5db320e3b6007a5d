/* test_stem_s2d.c — the space-to-depth stem (kernels/stem_s2d.h): the 4x4 stride-1 convolution
 * on the folded input with the folded weights equals ResNet's 7x7 stride-2 stem (padding 3) on
 * the plain NHWC input, through the CPU reference lis_nhwc_conv_ref, in bf16, fp16 and tf32. On
 * small integers every sum is exact, so the two must agree bit for bit; also the layouts' zero
 * padding and which stems the fold applies to. */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "kernels/conv_nhwc.h"
#include "kernels/stem_s2d.h"

static unsigned g_seed = 7;
static float small_int(int lo, int hi) {
    g_seed = g_seed * 1664525u + 1013904223u;
    return (float)(lo + (int)((g_seed >> 8) % (unsigned)(hi - lo + 1)));
}

static void same_as_stem(lis_precision prec, int N, int H, int W, int C, int K, int bias) {
    const char *pn = lis_precision_name(prec);
    const int cp = lis_nhwc_pad_channels(C, prec), cs = lis_stem_s2d_channels(C, prec);
    const lis_nhwc_conv_params p = {N, H, W, cp, K, 7, 7, 2, 3, 1};
    LIS_CHECK(lis_stem_s2d_applies(&p, C));
    const lis_nhwc_conv_params q = lis_stem_s2d_params(&p, cs);
    int Ho, Wo, Hq, Wq;
    lis_nhwc_conv_out_shape(&p, &Ho, &Wo);
    lis_nhwc_conv_out_shape(&q, &Hq, &Wq);
    lis_check(Ho == Hq && Wo == Wq, "stem s2d [%s] %dx%d: the 4x4 convolution's output is %dx%d, the stem's %dx%d", pn,
              H, W, Hq, Wq, Ho, Wo);
    if (Ho != Hq || Wo != Wq) return;
    const size_t es = lis_nhwc_elem_size(prec), nx = (size_t)N * C * H * W, nw = (size_t)K * C * 49;
    const size_t ny = (size_t)N * Ho * Wo * K;
    float *x = malloc(nx * sizeof(float)), *w = malloc(nw * sizeof(float)), *b = malloc((size_t)K * sizeof(float));
    void *xn = malloc(es * N * H * W * cp), *wn = malloc(es * K * 49 * cp);
    void *xs = malloc(es * N * q.H * q.W * cs), *ws = malloc(es * K * 16 * cs);
    void *y1 = malloc(es * ny), *y2 = malloc(es * ny);
    LIS_ASSERT(x && w && b && xn && wn && xs && ws && y1 && y2);
    for (size_t i = 0; i < nx; i++) x[i] = small_int(-4, 4);
    for (size_t i = 0; i < nw; i++) w[i] = small_int(-3, 3);
    for (int k = 0; k < K; k++) b[k] = small_int(-20, 20);
    lis_nchw_to_nhwc(x, N, C, H * W, cp, prec, xn);
    lis_nhwc_conv_pack_weights(w, K, C, 7, 7, cp, prec, wn);
    lis_stem_s2d(x, N, C, H, W, cs, prec, xs);
    lis_stem_s2d_pack_weights(w, K, C, cs, prec, ws);
    if (lis_check_ok(lis_nhwc_conv_ref(&p, prec, xn, wn, bias ? b : NULL, NULL, y1), "stem reference") &&
        lis_check_ok(lis_nhwc_conv_ref(&q, prec, xs, ws, bias ? b : NULL, NULL, y2), "stem s2d reference")) {
        size_t differ = 0;
        for (size_t i = 0; i < ny; i++) differ += lis_nhwc_get(y1, i, prec) != lis_nhwc_get(y2, i, prec);
        lis_check(differ == 0, "stem s2d [%s] N%d %dx%dx%d -> K%d%s: the 4x4 convolution equals the 7x7/2 stem "
                  "(%zu of %zu outputs differ)", pn, N, H, W, C, K, bias ? " +bias" : "", differ, ny);
    }
    /* the folded layouts: every element outside the image or past 4 C channels is zero */
    size_t nonzero = 0;
    for (int n = 0; n < N; n++)
        for (int Y = 0; Y < q.H; Y++)
            for (int X = 0; X < q.W; X++)
                for (int ch = 0; ch < cs; ch++) {
                    const int ab = ch / C, iy = 2 * Y - 1 + ab / 2, ix = 2 * X - 1 + ab % 2;
                    if (ab < 4 && iy >= 0 && iy < H && ix >= 0 && ix < W) continue;
                    nonzero += lis_nhwc_get(xs, (((size_t)n * q.H + Y) * q.W + X) * cs + ch, prec) != 0.0f;
                }
    lis_check(nonzero == 0, "stem s2d [%s]: the folded input is zero outside the image and past 4 C channels (%zu "
              "are not)", pn, nonzero);
    free(x); free(w); free(b); free(xn); free(wn); free(xs); free(ws); free(y1); free(y2);
}

static void applies(void) {
    lis_nhwc_conv_params p = {1, 224, 224, 8, 64, 7, 7, 2, 3, 0};
    LIS_CHECK(lis_stem_s2d_applies(&p, 3));
    lis_nhwc_conv_params q = lis_stem_s2d_params(&p, 16);
    LIS_CHECK(q.H == 113 && q.W == 113 && q.C == 16 && q.R == 4 && q.S == 4 && q.stride == 1 && q.pad == 1);
    p.H = 223; /* odd: the fold would need a different bottom padding */
    LIS_CHECK(!lis_stem_s2d_applies(&p, 3));
    p.H = 224; p.pad = 2;
    LIS_CHECK(!lis_stem_s2d_applies(&p, 3));
    p.pad = 3; p.R = p.S = 5;
    LIS_CHECK(!lis_stem_s2d_applies(&p, 3));
    LIS_CHECK(lis_stem_s2d_channels(3, LIS_PREC_BF16) == 16 && lis_stem_s2d_channels(3, LIS_PREC_TF32) == 12);
}

int main(void) {
    applies();
    same_as_stem(LIS_PREC_BF16, 2, 14, 10, 3, 16, 1);
    same_as_stem(LIS_PREC_FP16, 1, 8, 16, 3, 24, 0);
    same_as_stem(LIS_PREC_TF32, 2, 12, 12, 3, 16, 1);
    same_as_stem(LIS_PREC_BF16, 1, 6, 6, 1, 8, 1);  /* one channel: 4 -> 8 */
    return lis_test_finish();
}
