/* test_winograd.c — Winograd F(2x2, 3x3) against the direct convolution's reference
 * (lis_conv2d_ref) on edge shapes: odd sizes (partial tiles), paddings 0/1/2 (the
 * classifier's 1, the generator's k-1 = 2), channel counts across the 256-row chunks and
 * the tile blocks, bias / residual / activations, batches; and the strided output rows the
 * generator writes into.
 *
 * Tolerance: |got - ref| <= 1e-5 * max|ref| + 1e-5 |ref|. The transforms add a few float32
 * roundings per tile; the observed error is printed with every check. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/modconv.h"
#include "kernels/winograd.h"
#include "runtime/threads.h"
#include "tests/harness.h"

static float frand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *rnd(size_t n, unsigned *seed, float scale) {
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) p[i] = frand(seed) * scale;
    return p;
}

static int g_tile4; /* the cases run twice: F(2x2, 3x3), then F(4x4, 3x3) (LIS_WINOGRAD_TILE=4) */

static void one(int N, int C, int H, int W, int K, int pad, int bias, int res, lis_act act) {
    unsigned seed = (unsigned)(N * 7 + C * 131 + H * 17 + W * 3 + K * 11 + pad);
    lis_conv2d_params p = {N, C, H, W, K, 3, 3, 1, 1, pad, pad, 1, 1, act, 0.2f};
    const int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
    const size_t nx = (size_t)N * C * H * W, ny = (size_t)N * K * Ho * Wo;
    float *x = rnd(nx, &seed, 1.0f), *w = rnd((size_t)K * C * 9, &seed, 1.0f / sqrtf(9.0f * C));
    float *b = bias ? rnd((size_t)K, &seed, 0.5f) : NULL, *r = res ? rnd(ny, &seed, 1.0f) : NULL;
    float *ref = malloc(sizeof(float) * ny), *got = malloc(sizeof(float) * ny);
    for (size_t i = 0; i < ny; i++) got[i] = NAN; /* an element not written fails */
    char name[160];
    snprintf(name, sizeof name, "winograd%s(n=%d,c=%d,h=%d,w=%d,k=%d,pad=%d%s%s%s)", g_tile4 ? " F(4x4)" : "", N, C, H, W, K,
             pad, bias ? ",bias" : "",
             res ? ",res" : "", act == LIS_ACT_RELU ? ",relu" : act == LIS_ACT_LRELU ? ",lrelu" : "");
    LIS_ASSERT(lis_wino_applies(&p));
    if (lis_check_ok(lis_conv2d_ref(&p, x, w, b, r, ref), "reference") &&
        lis_check_ok(lis_wino_conv2d_cpu(&p, x, w, b, r, got), name))
        lis_check_close(name, got, ref, (int64_t)ny, 1e-5 * fmax(1e-3, lis_max_abs(ref, (int64_t)ny)), 1e-5);
    free(x); free(w); free(b); free(r); free(ref); free(got);
}

/* The generator's use: the padded input as an unpadded image, output rows ldy = Wp apart,
 * the junk columns beyond Wo untouched. */
static void strided(void) {
    unsigned seed = 99;
    const int C = 5, K = 7, Hp = 11, Wp = 13, Ho = Hp - 2, Wo = Wp - 2;
    float *x = rnd((size_t)C * Hp * Wp, &seed, 1.0f), *w = rnd((size_t)K * C * 9, &seed, 0.3f);
    float *ref = malloc(sizeof(float) * K * Ho * Wo), *y = malloc(sizeof(float) * K * Ho * Wp);
    for (int i = 0; i < K * Ho * Wp; i++) y[i] = -7.0f;
    lis_conv2d_params p = {1, C, Hp, Wp, K, 3, 3, 1, 1, 0, 0, 1, 1, LIS_ACT_NONE, 0};
    lis_wino_packed pk;
    LIS_ASSERT(lis_conv2d_ref(&p, x, w, NULL, NULL, ref) == LIS_OK && lis_wino_pack(&pk, K, C, w) == LIS_OK);
    void *ws = lis_alloc_aligned(lis_wino_workspace_size(&pk, 1, Hp, Wp, 0, 0), "ws");
    lis_wino_io io = {1, Hp, Wp, 0, 0, x, 0, y, 0, Wp, (int64_t)Ho * Wp, NULL, NULL, LIS_ACT_NONE, 0};
    lis_wino_conv(&pk, &io, ws);
    double err = 0;
    int junk_ok = 1;
    for (int k = 0; k < K; k++)
        for (int r = 0; r < Ho; r++)
            for (int c = 0; c < Wp; c++) {
                float v = y[((size_t)k * Ho + r) * Wp + c];
                if (c < Wo) err = fmax(err, fabs(v - ref[((size_t)k * Ho + r) * Wo + c]));
                else junk_ok &= v == -7.0f;
            }
    lis_check(err <= 1e-5 && junk_ok, "winograd into rows of the padded width (ldy %d): max error %.3g, junk columns untouched %d",
              Wp, err, junk_ok);
    free(ws); lis_wino_packed_free(&pk);
    free(x); free(w); free(ref); free(y);
}

/* The generator's modulated convolution takes the Winograd path from 256 input channels:
 * against lis_modconv_ref (the original's arithmetic), as test_sgxl_ops bounds it. */
static void modconv(void) {
    unsigned seed = 5;
    const int B = 2, I = 256, O = 24, H = 9, pad = 2, Ho = H + 2 * pad - 2;
    float *x = rnd((size_t)B * I * H * H, &seed, 1.0f), *w = rnd((size_t)O * I * 9, &seed, 1.0f);
    float *s = rnd((size_t)B * I, &seed, 1.0f), *ref = malloc(sizeof(float) * B * O * Ho * Ho);
    float *got = malloc(sizeof(float) * B * O * Ho * Ho);
    lis_modconv_params p = {1, pad, 0};
    lis_modconv_weights mw;
    LIS_ASSERT(lis_modconv_prepare(&mw, w, O, I, 3, 1) == LIS_OK);
    /* the comparison below must exercise the Winograd path unless it was turned off */
    const char *off = getenv("LIS_WINOGRAD");
    lis_check(mw.use_wino || (off && !strcmp(off, "0")), "modconv with %d input channels takes the Winograd path (%s)",
              I, mw.use_wino ? "on" : "off");
    lis_modconv_ref(&p, x, w, s, 0.9f, ref, B, I, O, H, H, 3);
    if (lis_check_ok(lis_modconv_cpu(&mw, &p, x, s, 0.9f, B, H, H, got), "modconv_cpu"))
        lis_check_close("modconv_cpu (winograd) vs modconv_ref (b=2,i=256,o=24,h=9,pad=2)", got, ref,
                        (int64_t)B * O * Ho * Ho, 1e-5 * fmax(1.0, lis_max_abs(ref, (int64_t)B * O * Ho * Ho)), 0);
    lis_modconv_weights_free(&mw);
    free(x); free(w); free(s); free(ref); free(got);
}

static void cases(void) {
    one(1, 1, 3, 3, 1, 0, 0, 0, LIS_ACT_NONE);       /* one output pixel */
    one(1, 3, 5, 7, 4, 1, 1, 0, LIS_ACT_RELU);       /* odd sizes: partial tiles */
    one(2, 8, 9, 6, 5, 2, 1, 1, LIS_ACT_LRELU);      /* the generator's padding, residual, batch */
    one(1, 64, 14, 14, 64, 1, 1, 0, LIS_ACT_RELU);   /* ResNet layer3-like, small */
    one(1, 32, 7, 7, 300, 1, 1, 1, LIS_ACT_RELU);    /* K over one 256-row chunk, 7x7 (layer4) */
    one(3, 17, 31, 29, 33, 1, 0, 0, LIS_ACT_NONE);   /* several tile blocks */
    one(1, 300, 12, 12, 20, 0, 1, 0, LIS_ACT_NONE);  /* C over a GEMM depth block */
    one(2, 6, 11, 75, 5, 2, 1, 1, LIS_ACT_LRELU);    /* wide rows: the 8-tile vector transforms and their edges */
    one(1, 4, 18, 40, 3, 1, 1, 0, LIS_ACT_RELU);
    strided();
    modconv();
}

int main(void) {
    cases();
    /* F(4x4, 3x3): the same bounds hold (its rounding is 5-20x F(2x2)'s, still inside them) */
    setenv("LIS_WINOGRAD_TILE", "4", 1);
    g_tile4 = 1;
    cases();
    unsetenv("LIS_WINOGRAD_TILE");
    lis_wino_packed bad;
    lis_check(lis_wino_pack(&bad, 0, 3, NULL) != LIS_OK, "pack refuses K = 0");
    lis_conv2d_params s2 = {1, 3, 8, 8, 4, 3, 3, 2, 2, 1, 1, 1, 1, LIS_ACT_NONE, 0};
    lis_check(!lis_wino_applies(&s2), "stride 2 is not Winograd's");
    return lis_test_finish();
}
