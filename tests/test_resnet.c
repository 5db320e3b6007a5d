/* test_resnet.c — the ResNet classifier and its kernels against the reference bundles.
 *
 *  1. kernels: conv2d _cpu vs _ref on edge shapes (odd sizes, 1x1, padding > kernel,
 *     stride 2/3, dilation, anisotropic stride, residual aliasing the output), max and
 *     average pool, linear;
 *  2. resnet50_synth (synth-init ResNet-50 from the manifest): conv1 through the conv
 *     kernels, every stage for image 0 at batch 1, layer4 / r / logits at batch 4;
 *  3. resnet50_synth_gain: layer3/4 at batch 1, layer4 / r / logits at batch 4; the CPU
 *     reference of the GPU's NHWC path (nets/resnet_nhwc_ref.h) in tf32 / bf16 / fp16: its
 *     logits' NMSE from float32 within the op-level bounds of the tensor-core precisions
 *     (tf32 and fp16 2e-6, bf16 1e-4; tests/test_cuda_ops.c);
 *  4. resnet_small_ckpt: a reduced-width checkpoint through its weights.safetensors;
 *     random BasicBlock and Bottleneck nets at odd input sizes vs a forward built from
 *     the _ref kernels with unfolded BatchNorm (no bundle has a BasicBlock net);
 *  5. loader: metadata config (class names, preprocessing), and clear errors for a
 *     missing tensor, a wrong shape and an unexpected tensor;
 *  6. `lis-run classify`: outputs vs the small bundle, exit codes 1/2 and no output on error.
 * Tolerances are the bundle READMEs'.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include "kernels/conv2d.h"
#include "kernels/linear.h"
#include "runtime/fileio.h"
#include "runtime/npy.h"
#include "kernels/pool.h"
#include "nets/resnet_nhwc_ref.h"
#include "nets/resnet.h"
#include "runtime/threads.h"
#include "tests/harness.h"
#include "weights_tools/synth_init.h"

static float frand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *rand_buf(size_t n, unsigned seed, float scale) {
    float *p = malloc(n * sizeof(float) + 64);
    for (size_t i = 0; i < n; i++) p[i] = frand(&seed) * scale;
    return p;
}

/* ---- 1. kernels ---- */

static void conv_case(int N, int C, int H, int W, int K, int R, int S, int sh, int sw, int ph, int pw, int dh, int dw,
                      lis_act act, int bias, int res, int alias) {
    lis_conv2d_params p = {N, C, H, W, K, R, S, sh, sw, ph, pw, dh, dw, act, 0.2f};
    char name[200];
    snprintf(name, sizeof name, "conv2d(n=%d,c=%d,h=%d,w=%d,k=%d,r=%d,s=%d,stride=%dx%d,pad=%dx%d,dil=%dx%d,act=%d%s%s%s)",
             N, C, H, W, K, R, S, sh, sw, ph, pw, dh, dw, act, bias ? ",bias" : "", res ? ",res" : "",
             alias ? "=y" : "");
    if (!lis_check_ok(lis_conv2d_check(&p), name)) return;
    int Ho, Wo;
    lis_conv2d_out_shape(&p, &Ho, &Wo);
    size_t nx = (size_t)N * C * H * W, nw = (size_t)K * C * R * S, ny = (size_t)N * K * Ho * Wo;
    unsigned seed = (unsigned)(N * 7 + C * 131 + H * 17 + K * 3 + R + sh * 11 + dh * 5);
    float *x = rand_buf(nx, seed, 1.0f), *w = rand_buf(nw, seed + 1, 1.0f / sqrtf((float)(C * R * S)));
    float *b = bias ? rand_buf((size_t)K, seed + 2, 0.5f) : NULL, *r = res ? rand_buf(ny, seed + 3, 1.0f) : NULL;
    float *y0 = malloc(ny * sizeof(float)), *y1 = malloc(ny * sizeof(float));
    lis_conv2d_ref(&p, x, w, b, r, y0);
    if (alias) { /* the residual lives in y itself, as ResNet's downsample output does */
        memcpy(y1, r, ny * sizeof(float));
        lis_check_ok(lis_conv2d_cpu(&p, x, w, b, y1, y1), name);
    } else {
        lis_check_ok(lis_conv2d_cpu(&p, x, w, b, r, y1), name);
    }
    /* float32 GEMM sums vs the double-accumulated reference: outputs are O(1) (weights
     * scaled by 1/sqrt(fan_in)), rounding error ~ sqrt(CRS) * 6e-8 */
    lis_check_close(name, y1, y0, (int64_t)ny, 2e-5, 1e-5);
    free(x); free(w); free(b); free(r); free(y0); free(y1);
}

static void test_kernels(void) {
    conv_case(2, 3, 11, 13, 5, 3, 3, 1, 1, 1, 1, 1, 1, LIS_ACT_RELU, 1, 0, 0);
    conv_case(2, 7, 5, 6, 13, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_RELU, 1, 1, 0);
    conv_case(2, 7, 5, 6, 13, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_RELU, 1, 1, 1);
    conv_case(1, 8, 9, 9, 16, 1, 1, 2, 2, 0, 0, 1, 1, LIS_ACT_NONE, 1, 0, 0);
    conv_case(2, 3, 20, 17, 8, 7, 7, 2, 2, 3, 3, 1, 1, LIS_ACT_NONE, 1, 0, 0);
    conv_case(1, 6, 8, 8, 130, 3, 3, 2, 2, 1, 1, 1, 1, LIS_ACT_RELU, 1, 0, 0);
    conv_case(2, 5, 12, 12, 7, 3, 3, 1, 1, 2, 2, 2, 2, LIS_ACT_LRELU, 1, 0, 0);
    conv_case(1, 5, 12, 10, 9, 3, 3, 1, 1, 4, 4, 4, 4, LIS_ACT_LRELU, 1, 0, 0);
    conv_case(1, 2, 3, 3, 3, 1, 1, 1, 1, 2, 2, 1, 1, LIS_ACT_NONE, 0, 0, 0);
    conv_case(3, 4, 1, 1, 5, 3, 3, 1, 1, 1, 1, 1, 1, LIS_ACT_RELU, 1, 1, 1);
    conv_case(1, 3, 10, 11, 4, 3, 5, 2, 1, 1, 2, 1, 3, LIS_ACT_NONE, 1, 0, 0);
    conv_case(1, 4, 13, 14, 6, 5, 5, 3, 3, 0, 0, 1, 1, LIS_ACT_NONE, 0, 0, 0);
    conv_case(2, 64, 14, 14, 256, 3, 3, 1, 1, 1, 1, 1, 1, LIS_ACT_RELU, 1, 1, 0);
    conv_case(1, 96, 7, 7, 200, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_RELU, 1, 1, 1);

    /* invalid params are errors, not crashes */
    lis_conv2d_params bad = {1, 3, 2, 2, 4, 5, 5, 1, 1, 0, 0, 1, 1, LIS_ACT_NONE, 0.0f};
    LIS_CHECK(lis_conv2d_check(&bad) != LIS_OK);

    /* max pool (exact: max picks an input value), with and without the fused ReLU */
    int mp[][6] = {{2, 3, 9, 11, 0, 0}, {1, 4, 112, 112, 1, 0}, {1, 2, 2, 3, 1, 0}, {1, 2, 7, 6, 0, 1}};
    for (size_t i = 0; i < sizeof mp / sizeof *mp; i++) {
        lis_maxpool_params p = {mp[i][0], mp[i][1], mp[i][2], mp[i][3], 3, 2, 1, mp[i][4]};
        if (mp[i][5]) { p.k = 2; p.stride = 2; p.pad = 0; }
        int Ho, Wo;
        lis_maxpool_out_shape(&p, &Ho, &Wo);
        size_t nx = (size_t)p.N * p.C * p.H * p.W, ny = (size_t)p.N * p.C * Ho * Wo;
        float *x = rand_buf(nx, 5 + (unsigned)i, 1.0f), *y0 = malloc(ny * 4), *y1 = malloc(ny * 4);
        char name[128];
        snprintf(name, sizeof name, "maxpool(n=%d,c=%d,h=%d,w=%d,k=%d,s=%d,p=%d,relu=%d)", p.N, p.C, p.H, p.W, p.k,
                 p.stride, p.pad, p.relu);
        lis_check_ok(lis_maxpool_check(&p), name);
        lis_maxpool_ref(&p, x, y0);
        lis_maxpool_cpu(&p, x, y1);
        lis_check_close(name, y1, y0, (int64_t)ny, 0, 0);
        free(x); free(y0); free(y1);
    }
    /* NaN inputs propagate to the same outputs in both variants (PyTorch: a NaN wins) */
    {
        lis_maxpool_params p = {1, 2, 9, 10, 3, 2, 1, 1};
        float *x = rand_buf(2 * 9 * 10, 77, 1.0f), y0[2 * 5 * 5], y1[2 * 5 * 5];
        x[0] = NAN; x[9 * 10 + 37] = NAN; x[50] = -INFINITY;
        lis_maxpool_ref(&p, x, y0);
        lis_maxpool_cpu(&p, x, y1);
        lis_check_close("maxpool(n=1,c=2,h=9,w=10,k=3,s=2,p=1,relu=1) with NaN", y1, y0, 50, 0, 0);
        LIS_CHECK(isnan(y0[0]) && isnan(y1[0]));
        free(x);
    }
    /* global average pool: same summation order, exact */
    {
        int N = 3, C = 300, H = 7, W = 7;
        float *x = rand_buf((size_t)N * C * H * W, 9, 1.0f), *y0 = malloc(N * C * 4), *y1 = malloc(N * C * 4);
        lis_avgpool_global_ref(N, C, H, W, x, y0);
        lis_avgpool_global_cpu(N, C, H, W, x, y1);
        lis_check_close("avgpool_global(n=3,c=300,h=7,w=7)", y1, y0, N * C, 0, 0);
        free(x); free(y0); free(y1);
    }
    /* linear: 8-lane float sums vs double: |err| ~ sqrt(IN) * 6e-8 * |x||w| */
    int lin[][3] = {{1, 2048, 1000}, {5, 13, 7}, {9, 256, 100}, {33, 100, 33}};
    for (size_t i = 0; i < sizeof lin / sizeof *lin; i++) {
        int N = lin[i][0], IN = lin[i][1], OUT = lin[i][2];
        float *x = rand_buf((size_t)N * IN, 11 + (unsigned)i, 1.0f), *w = rand_buf((size_t)OUT * IN, 12, 1.0f / sqrtf((float)IN));
        float *b = rand_buf((size_t)OUT, 13, 0.1f), *y0 = malloc((size_t)N * OUT * 4), *y1 = malloc((size_t)N * OUT * 4);
        lis_linear_ref(N, IN, OUT, x, w, b, y0);
        lis_linear_cpu(N, IN, OUT, x, w, b, y1);
        char name[96];
        snprintf(name, sizeof name, "linear(n=%d,in=%d,out=%d)", N, IN, OUT);
        lis_check_close(name, y1, y0, (int64_t)N * OUT, 1e-5, 1e-5);
        free(x); free(w); free(b); free(y0); free(y1);
    }
}

/* ---- shared helpers for the bundles ---- */

/* The 4 bundle inputs: VAL_TRANSFORM tensors of the preprocess bundle, stacked. */
static float *load_inputs(void) {
    lis_safetensors st;
    if (lis_test_open(&st, "preprocess/io.safetensors") != LIS_OK) return NULL;
    const char *names[4] = {"img256_a.tensor", "img256_b.tensor", "img128.tensor", "img512.tensor"};
    size_t per = 3 * 224 * 224;
    float *x = lis_alloc_aligned(4 * per * sizeof(float), "inputs");
    for (int i = 0; i < 4 && x; i++) {
        int64_t n;
        const float *t = lis_test_ref(&st, names[i], &n);
        if (!t || n != (int64_t)per) { free(x); x = NULL; break; }
        memcpy(x + i * per, t, per * sizeof(float));
    }
    lis_st_close(&st);
    return x;
}

static int argmax(const float *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

static lis_status load_synth_net(lis_resnet *net, const char *bundle, lis_safetensors *weights_keep) {
    char path[256];
    snprintf(path, sizeof path, "%s/weights.manifest", bundle);
    lis_manifest m;
    LIS_TRY(lis_manifest_read(&m, lis_test_data(path)));
    lis_status s = lis_synth_build(weights_keep, &m, NULL);
    lis_manifest_free(&m);
    if (s == LIS_OK) s = lis_resnet_load(net, weights_keep);
    return s;
}

static void check_stage(const char *bundle, const char *what, const float *got, const lis_safetensors *io,
                        const char *ref_name, int64_t n_expected, double atol_scale, int relative) {
    int64_t n;
    const float *ref = lis_test_ref(io, ref_name, &n);
    if (!ref) return;
    char name[160];
    snprintf(name, sizeof name, "%s %s vs '%s'", bundle, what, ref_name);
    if (n != n_expected) { lis_check(0, "%s: %lld elements, expected %lld", name, (long long)n, (long long)n_expected); return; }
    double tol = relative ? atol_scale * fmax(1.0, lis_max_abs(ref, n)) : atol_scale;
    lis_check_close(name, got, ref, n, tol, 0);
}

/* Stage buffers for one image (batch 1) of a 224x224 input. */
static void alloc_taps(const lis_resnet *net, int N, lis_resnet_taps *t, int64_t sizes[LIS_RESNET_NSTAGES]) {
    for (int s = 0; s < LIS_RESNET_NSTAGES; s++) {
        int C, h, w;
        LIS_ASSERT(lis_resnet_stage_shape(net, s, 224, 224, &C, &h, &w));
        sizes[s] = (int64_t)N * C * h * w;
        t->stage[s] = malloc((size_t)sizes[s] * sizeof(float));
    }
}

static void free_taps(lis_resnet_taps *t) {
    for (int s = 0; s < LIS_RESNET_NSTAGES; s++) free(t->stage[s]);
}

/* ---- 2./3. synth-init ResNet-50 ---- */

static void test_synth(const char *bundle, const float *x, int gain) {
    lis_resnet net;
    lis_safetensors wts;
    double t0 = lis_now();
    if (!lis_check_ok(load_synth_net(&net, bundle, &wts), bundle)) return;
    printf("   %s: weights built, folded and packed in %.2f s\n", bundle, lis_now() - t0);
    LIS_CHECK(net.bottleneck == 1 && net.nblocks[0] == 3 && net.nblocks[1] == 4 && net.nblocks[2] == 6 &&
              net.nblocks[3] == 3 && net.feat_dim == 2048 && net.num_classes == 1000 && net.stem_ch == 64);
    lis_safetensors io;
    char path[256];
    snprintf(path, sizeof path, "%s/io.safetensors", bundle);
    if (lis_test_open(&io, path) != LIS_OK) { lis_resnet_free(&net); lis_st_close(&wts); return; }
    size_t per = 3 * 224 * 224;

    /* conv1 on its own, through the conv kernels with the raw (unfolded) weights */
    if (!gain) {
        const lis_st_entry *w1 = lis_st_find(&wts, "conv1.weight");
        lis_conv2d_params p = {1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, 1, LIS_ACT_NONE, 0.0f};
        float *y = malloc(64 * 112 * 112 * sizeof(float));
        lis_check_ok(lis_conv2d_cpu(&p, x, w1->t.data, NULL, NULL, y), "conv1 cpu");
        check_stage(bundle, "conv1 (conv2d_cpu)", y, &io, "act0.conv1", 64 * 112 * 112, 2e-5, 0);
        if (!lis_test_quick()) {
            lis_conv2d_ref(&p, x, w1->t.data, NULL, NULL, y);
            check_stage(bundle, "conv1 (conv2d_ref)", y, &io, "act0.conv1", 64 * 112 * 112, 2e-5, 0);
        }
        free(y);
    }
    lis_st_close(&wts); /* the net holds folded copies */

    /* batch 1, image 0: every stage */
    lis_resnet_taps taps = {{0}};
    int64_t sz[LIS_RESNET_NSTAGES];
    alloc_taps(&net, 1, &taps, sz);
    t0 = lis_now();
    lis_check_ok(lis_resnet_forward(&net, 1, 224, 224, x, NULL, NULL, &taps), "forward batch 1");
    printf("   %s: batch-1 forward %.3f s\n", bundle, lis_now() - t0);
    /* default variant: layers <= 2e-5 absolute; gain: <= 2e-5 * max(1, max|ref|) */
    if (!gain) {
        check_stage(bundle, "bn1 (folded conv1)", taps.stage[LIS_RESNET_STAGE_BN1], &io, "act0.bn1", sz[0], 2e-5, 0);
        check_stage(bundle, "maxpool(relu)", taps.stage[LIS_RESNET_STAGE_MAXPOOL], &io, "act0.maxpool", sz[1], 2e-5, 0);
        check_stage(bundle, "layer1", taps.stage[LIS_RESNET_STAGE_LAYER1], &io, "act0.layer1", sz[2], 2e-5, 0);
        check_stage(bundle, "layer2", taps.stage[LIS_RESNET_STAGE_LAYER2], &io, "act0.layer2", sz[3], 2e-5, 0);
    }
    check_stage(bundle, "layer3", taps.stage[LIS_RESNET_STAGE_LAYER3], &io, "act0.layer3", sz[4], 2e-5, gain);
    check_stage(bundle, "layer4", taps.stage[LIS_RESNET_STAGE_LAYER4], &io, "act0.layer4", sz[5], 2e-5, gain);
    free_taps(&taps);

    /* batch 4: layer4 of every image, r and logits */
    lis_resnet_taps t4 = {{0}};
    int64_t n4 = 4 * 2048 * 7 * 7;
    t4.stage[LIS_RESNET_STAGE_LAYER4] = malloc((size_t)n4 * sizeof(float));
    float *r = malloc(4 * 2048 * sizeof(float)), *logits = malloc(4 * 1000 * sizeof(float));
    if (gain) net.sub_batch = 3; /* batch 4 in passes of 3 + 1: the taps must land at their images */
    t0 = lis_now();
    lis_check_ok(lis_resnet_forward(&net, 4, 224, 224, x, r, logits, &t4), "forward batch 4");
    printf("   %s: batch-4 forward %.3f s\n", bundle, lis_now() - t0);
    check_stage(bundle, "layer4 (batch 4)", t4.stage[LIS_RESNET_STAGE_LAYER4], &io, "layer4", n4, 2e-5, gain);
    /* r, logits: max abs error <= 1e-5 * max(1, max|ref|) */
    check_stage(bundle, "r (batch 4)", r, &io, "r", 4 * 2048, 1e-5, 1);
    check_stage(bundle, "logits (batch 4)", logits, &io, "logits", 4 * 1000, 1e-5, 1);
    const float *lref = lis_test_ref(&io, "logits", NULL);
    for (int i = 0; lref && i < 4; i++)
        lis_check(argmax(logits + i * 1000, 1000) == argmax(lref + i * 1000, 1000), "%s argmax image %d: %d (ref %d)",
                  bundle, i, argmax(logits + i * 1000, 1000), argmax(lref + i * 1000, 1000));
    /* a smaller batch within the same plan gives the same bits as batch 4's first image */
    float *r1 = malloc(2048 * sizeof(float));
    lis_check_ok(lis_resnet_forward(&net, 1, 224, 224, x, r1, NULL, NULL), "forward batch 1 in the batch-4 plan");
    lis_check_close("r batch 1 == r batch 4 image 0", r1, r, 2048, 0, 0);
    (void)per;
    free(r1); free(r); free(logits); free(t4.stage[LIS_RESNET_STAGE_LAYER4]);
    lis_st_close(&io);
    lis_resnet_free(&net);
}

/* the NHWC path's roundings (nets/resnet_nhwc_ref.h) cost about what the shipped tensor-core
 * path's do (GPU, H200: NMSE tf32 1.1e-7, bf16 5.9e-6, fp16 1.1e-7 on these images) */
static void test_nhwc_ref(const float *x) {
    const char *bundle = "resnet50_synth_gain";
    lis_resnet net;
    lis_safetensors wts;
    if (!lis_check_ok(load_synth_net(&net, bundle, &wts), bundle)) return;
    float *lf = malloc(1000 * sizeof(float)), *ln = malloc(1000 * sizeof(float));
    LIS_ASSERT(lf && ln);
    if (lis_check_ok(lis_resnet_forward(&net, 1, 224, 224, x, NULL, lf, NULL), "float32 forward")) {
        static const struct { lis_precision prec; double bound; } c[] = {
            {LIS_PREC_BF16, 1e-4}, {LIS_PREC_TF32, 2e-6}, {LIS_PREC_FP16, 2e-6}};
        for (int i = 0; i < (lis_test_quick() ? 1 : 3); i++) {
            for (int k = 0; k < 1000; k++) ln[k] = NAN;
            const double t0 = lis_now();
            if (!lis_check_ok(lis_resnet_nhwc_ref_forward(&net, &wts, c[i].prec, 1, 224, 224, x, NULL, ln), "NHWC reference"))
                continue;
            double num = 0, den = 0;
            for (int k = 0; k < 1000; k++) {
                num += ((double)ln[k] - lf[k]) * ((double)ln[k] - lf[k]);
                den += (double)lf[k] * lf[k];
            }
            const double nmse = isfinite(num) ? num / den : INFINITY;
            lis_check(nmse <= c[i].bound && argmax(ln, 1000) == argmax(lf, 1000),
                      "%s NHWC reference [%s]: logits NMSE from float32 %.3g (bound %.0g), same argmax (%.2f s)", bundle,
                      lis_precision_name(c[i].prec), nmse, c[i].bound, lis_now() - t0);
        }
    }
    free(lf);
    free(ln);
    lis_resnet_free(&net);
    lis_st_close(&wts);
}

/* ---- 4. reduced-width checkpoint ---- */

static void test_small(void) {
    lis_resnet net;
    if (!lis_check_ok(lis_resnet_load_file(&net, lis_test_data("resnet_small_ckpt/weights.safetensors")), "small ckpt load"))
        return;
    LIS_CHECK(net.bottleneck == 1 && net.stem_ch == 8 && net.stage_ch[0] == 32 && net.stage_ch[3] == 256 &&
              net.feat_dim == 256 && net.num_classes == 100 && net.blocks[0].conv[0].cout == 4);
    lis_safetensors io;
    if (lis_test_open(&io, "resnet_small_ckpt/io.safetensors") != LIS_OK) { lis_resnet_free(&net); return; }
    int64_t nin;
    const float *x = lis_test_ref(&io, "input", &nin);
    if (x && nin == 2 * 3 * 224 * 224) {
        float r[2 * 256], logits[2 * 100];
        lis_resnet_taps t = {{0}};
        t.stage[LIS_RESNET_STAGE_LAYER4] = malloc(2 * 256 * 49 * sizeof(float));
        lis_check_ok(lis_resnet_forward(&net, 2, 224, 224, x, r, logits, &t), "small forward");
        /* README: r, logits <= 1e-5; layer4 <= 2e-5 */
        check_stage("resnet_small_ckpt", "r", r, &io, "r", 2 * 256, 1e-5, 0);
        check_stage("resnet_small_ckpt", "logits", logits, &io, "logits", 2 * 100, 1e-5, 0);
        check_stage("resnet_small_ckpt", "layer4", t.stage[LIS_RESNET_STAGE_LAYER4], &io, "layer4", 2 * 256 * 49, 2e-5, 0);
        LIS_CHECK(argmax(logits, 100) == 18 && argmax(logits + 100, 100) == 18);
        free(t.stage[LIS_RESNET_STAGE_LAYER4]);
        LIS_CHECK(lis_resnet_class_name(&net, 0) == NULL); /* 100 classes, no names */
    }
    lis_st_close(&io);
    lis_resnet_free(&net);
}

/* ---- 4b. any block type vs a forward built from the _ref kernels ----
 * The bundles only hold Bottleneck nets; this checks BasicBlock nets (ResNet-18/34
 * layout) and the BN folding against an unfused reference on an odd input size. */

static const float *T(const lis_safetensors *st, const char *fmt, ...) LIS_PRINTF(2, 3);
static const float *T(const lis_safetensors *st, const char *fmt, ...) {
    char n[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n, sizeof n, fmt, ap);
    va_end(ap);
    const lis_st_entry *e = lis_st_find(st, n);
    LIS_ASSERT(e && e->t.dtype == LIS_DTYPE_F32);
    return e->t.data;
}

/* x (N x C x H x W) -> bn(conv(x)) [+ res] [relu], BN in eval mode, unfolded, in double */
static float *ref_conv_bn(const lis_safetensors *st, const char *conv, const char *bn, const float *x, int N, int C,
                          int *H, int *W, int K, int k, int stride, const float *res, int relu) {
    lis_conv2d_params p = {N, C, *H, *W, K, k, k, stride, stride, k / 2, k / 2, 1, 1, LIS_ACT_NONE, 0.0f};
    int Ho, Wo;
    lis_conv2d_out_shape(&p, &Ho, &Wo);
    size_t plane = (size_t)Ho * Wo;
    float *y = malloc((size_t)N * K * plane * sizeof(float));
    lis_conv2d_ref(&p, x, T(st, "%s.weight", conv), NULL, NULL, y);
    const float *g = T(st, "%s.weight", bn), *b = T(st, "%s.bias", bn), *m = T(st, "%s.running_mean", bn),
                *v = T(st, "%s.running_var", bn);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < K; c++)
            for (size_t i = 0; i < plane; i++) {
                size_t o = ((size_t)n * K + c) * plane + i;
                float t = (float)(((double)y[o] - m[c]) / sqrt((double)v[c] + 1e-5) * g[c] + b[c]);
                if (res) t += res[o];
                y[o] = relu && t < 0 ? 0.0f : t;
            }
    *H = Ho;
    *W = Wo;
    return y;
}

static void ref_forward(const lis_safetensors *st, const lis_resnet *net, const float *x, int N, int H, int W, float *r,
                        float *logits) {
    int C = net->stem_ch;
    float *y = ref_conv_bn(st, "conv1", "bn1", x, N, net->in_ch, &H, &W, C, net->stem.k, 2, NULL, 1);
    lis_maxpool_params mp = {N, C, H, W, 3, 2, 1, 0};
    int Hm, Wm;
    lis_maxpool_out_shape(&mp, &Hm, &Wm);
    float *cur = malloc((size_t)N * C * Hm * Wm * sizeof(float));
    lis_maxpool_ref(&mp, y, cur);
    free(y);
    H = Hm; W = Wm;
    int bi = 0;
    for (int L = 1; L <= 4; L++)
        for (int b = 0; b < net->nblocks[L - 1]; b++, bi++) {
            const lis_resnet_block *blk = &net->blocks[bi];
            int s = blk->stride, cout = blk->conv[blk->nconv - 1].cout, h = H, w = W;
            char c1[64], b1[64], c2[64], b2[64];
            float *idn = cur;
            if (blk->has_ds) {
                int hd = H, wd = W;
                snprintf(c1, sizeof c1, "layer%d.%d.downsample.0", L, b);
                snprintf(b1, sizeof b1, "layer%d.%d.downsample.1", L, b);
                idn = ref_conv_bn(st, c1, b1, cur, N, C, &hd, &wd, cout, 1, s, NULL, 0);
            }
            float *t1, *out;
            snprintf(c1, sizeof c1, "layer%d.%d.conv1", L, b); snprintf(b1, sizeof b1, "layer%d.%d.bn1", L, b);
            snprintf(c2, sizeof c2, "layer%d.%d.conv2", L, b); snprintf(b2, sizeof b2, "layer%d.%d.bn2", L, b);
            if (blk->nconv == 2) {
                t1 = ref_conv_bn(st, c1, b1, cur, N, C, &h, &w, cout, 3, s, NULL, 1);
                out = ref_conv_bn(st, c2, b2, t1, N, cout, &h, &w, cout, 3, 1, idn, 1);
            } else {
                int width = blk->conv[0].cout;
                char c3[64], b3[64];
                snprintf(c3, sizeof c3, "layer%d.%d.conv3", L, b); snprintf(b3, sizeof b3, "layer%d.%d.bn3", L, b);
                t1 = ref_conv_bn(st, c1, b1, cur, N, C, &h, &w, width, 1, 1, NULL, 1);
                float *t2 = ref_conv_bn(st, c2, b2, t1, N, width, &h, &w, width, 3, s, NULL, 1);
                out = ref_conv_bn(st, c3, b3, t2, N, width, &h, &w, cout, 1, 1, idn, 1);
                free(t2);
            }
            free(t1);
            if (idn != cur) free(idn);
            free(cur);
            cur = out; C = cout; H = h; W = w;
        }
    lis_avgpool_global_ref(N, C, H, W, cur, r);
    lis_linear_ref(N, C, net->num_classes, r, T(st, "fc.weight"), T(st, "fc.bias"), logits);
    free(cur);
}

/* Writes a random net: BasicBlock (conv1/conv2 3x3) or Bottleneck, 4 stages. */
static lis_status write_random_net(const char *path, int bottleneck, const int *blocks, const int *width, int classes) {
    lis_st_writer w = {0};
    float *pool[512];
    int np = 0;
    unsigned seed = 12345;
    lis_status s = LIS_OK;
#define ADD(name, nd, ...)                                                                            \
    do {                                                                                              \
        int64_t sh_[4] = {__VA_ARGS__}, ne_ = 1;                                                      \
        for (int d_ = 0; d_ < nd; d_++) ne_ *= sh_[d_];                                               \
        float *t_ = pool[np++] = malloc((size_t)ne_ * sizeof(float));                                 \
        float sc_ = nd == 4 ? 1.5f / sqrtf((float)(sh_[1] * sh_[2] * sh_[3])) : nd == 2 ? 1.0f / sqrtf((float)sh_[1]) : 0.3f; \
        for (int64_t i_ = 0; i_ < ne_; i_++) t_[i_] = frand(&seed) * sc_;                             \
        if (s == LIS_OK) s = lis_st_writer_add(&w, name, LIS_DTYPE_F32, nd, sh_, t_);                 \
    } while (0)
#define BN(prefix, c)                                                                                 \
    do {                                                                                              \
        char n_[200];                                                                                 \
        snprintf(n_, sizeof n_, "%s.weight", prefix); ADD(n_, 1, c);                                  \
        for (int i_ = 0; i_ < c; i_++) pool[np - 1][i_] += 1.0f;                                      \
        snprintf(n_, sizeof n_, "%s.bias", prefix); ADD(n_, 1, c);                                    \
        snprintf(n_, sizeof n_, "%s.running_mean", prefix); ADD(n_, 1, c);                            \
        snprintf(n_, sizeof n_, "%s.running_var", prefix); ADD(n_, 1, c);                             \
        for (int i_ = 0; i_ < c; i_++) pool[np - 1][i_] = 1.0f + 0.5f * pool[np - 1][i_];            \
    } while (0)
    int stem = 8, inplanes = stem;
    ADD("conv1.weight", 4, stem, 3, 7, 7);
    BN("bn1", stem);
    for (int L = 1; L <= 4; L++)
        for (int b = 0; b < blocks[L - 1]; b++) {
            char n[96], pre[64];
            int wd = width[L - 1], cout = bottleneck ? 4 * wd : wd, st = (L > 1 && b == 0) ? 2 : 1;
            snprintf(pre, sizeof pre, "layer%d.%d", L, b);
            if (bottleneck) {
                snprintf(n, sizeof n, "%s.conv1.weight", pre); ADD(n, 4, wd, inplanes, 1, 1);
                snprintf(n, sizeof n, "%s.bn1", pre); BN(n, wd);
                snprintf(n, sizeof n, "%s.conv2.weight", pre); ADD(n, 4, wd, wd, 3, 3);
                snprintf(n, sizeof n, "%s.bn2", pre); BN(n, wd);
                snprintf(n, sizeof n, "%s.conv3.weight", pre); ADD(n, 4, cout, wd, 1, 1);
                snprintf(n, sizeof n, "%s.bn3", pre); BN(n, cout);
            } else {
                snprintf(n, sizeof n, "%s.conv1.weight", pre); ADD(n, 4, cout, inplanes, 3, 3);
                snprintf(n, sizeof n, "%s.bn1", pre); BN(n, cout);
                snprintf(n, sizeof n, "%s.conv2.weight", pre); ADD(n, 4, cout, cout, 3, 3);
                snprintf(n, sizeof n, "%s.bn2", pre); BN(n, cout);
            }
            if (st != 1 || inplanes != cout) {
                snprintf(n, sizeof n, "%s.downsample.0.weight", pre); ADD(n, 4, cout, inplanes, 1, 1);
                snprintf(n, sizeof n, "%s.downsample.1", pre); BN(n, cout);
            }
            inplanes = cout;
        }
    ADD("fc.weight", 2, classes, inplanes);
    ADD("fc.bias", 1, classes);
    static int64_t counter = 7;
    if (s == LIS_OK) s = lis_st_writer_add(&w, "bn1.num_batches_tracked", LIS_DTYPE_I64, 0, NULL, &counter);
    if (s == LIS_OK) s = lis_st_write(&w, path);
    lis_st_writer_free(&w);
    for (int i = 0; i < np; i++) free(pool[i]);
#undef ADD
#undef BN
    return s;
}

static void test_vs_reference(int bottleneck, const int *blocks, const int *width, int N, int H, int W) {
    char path[128], name[160];
    snprintf(path, sizeof path, "/tmp/lis_test_resnet_rand_%d.safetensors", (int)getpid());
    snprintf(name, sizeof name, "%s %d-%d-%d-%d widths %d/%d/%d/%d, input %dx3x%dx%d vs _ref kernels",
             bottleneck ? "Bottleneck" : "BasicBlock", blocks[0], blocks[1], blocks[2], blocks[3], width[0], width[1],
             width[2], width[3], N, H, W);
    if (!lis_check_ok(write_random_net(path, bottleneck, blocks, width, 7), name)) return;
    lis_resnet net;
    lis_safetensors st;
    if (lis_check_ok(lis_resnet_load_file(&net, path), name) && lis_check_ok(lis_st_open(&st, path), name)) {
        LIS_CHECK(net.bottleneck == bottleneck && net.nblocks[1] == blocks[1] && net.num_classes == 7);
        size_t nx = (size_t)N * 3 * H * W;
        float *x = rand_buf(nx, 99, 1.0f);
        float *r0 = malloc((size_t)N * net.feat_dim * 4), *r1 = malloc((size_t)N * net.feat_dim * 4);
        float l0[64], l1[64];
        ref_forward(&st, &net, x, N, H, W, r0, l0);
        lis_check_ok(lis_resnet_forward(&net, N, H, W, x, r1, l1, NULL), name);
        char n2[200];
        /* folded float32 vs unfolded double-accumulated reference: ~1e-6 relative */
        snprintf(n2, sizeof n2, "%s: r", name);
        lis_check_close(n2, r1, r0, (int64_t)N * net.feat_dim, 1e-5 * fmax(1.0, lis_max_abs(r0, (int64_t)N * net.feat_dim)), 0);
        snprintf(n2, sizeof n2, "%s: logits", name);
        lis_check_close(n2, l1, l0, (int64_t)N * 7, 1e-5 * fmax(1.0, lis_max_abs(l0, (int64_t)N * 7)), 0);
        free(x); free(r0); free(r1);
        lis_st_close(&st);
        lis_resnet_free(&net);
    }
    unlink(path);
}

/* ---- 5. loader: config metadata and errors ---- */

/* Writes the small checkpoint's tensors, minus `drop`, plus `extra`, with `config`. */
static lis_status write_variant(const char *path, const char *drop, const char *reshape, const char *extra,
                                const char *config) {
    lis_safetensors st;
    LIS_TRY(lis_st_open(&st, lis_test_data("resnet_small_ckpt/weights.safetensors")));
    lis_st_writer w = {0};
    lis_status s = LIS_OK;
    static float dummy[4] = {1, 2, 3, 4};
    for (size_t i = 0; i < st.n && s == LIS_OK; i++) {
        const lis_st_entry *e = &st.entries[i];
        if (drop && !strcmp(e->name, drop)) continue;
        int64_t shape[LIS_MAX_DIMS];
        memcpy(shape, e->t.shape, sizeof shape);
        int ndim = e->t.ndim;
        if (reshape && !strcmp(e->name, reshape)) { /* same bytes, flattened to 2-D */
            shape[1] = shape[1] * shape[2] * shape[3];
            ndim = 2;
        }
        s = lis_st_writer_add(&w, e->name, e->t.dtype, ndim, shape, e->t.data);
    }
    int64_t four[1] = {4};
    if (s == LIS_OK && extra) s = lis_st_writer_add(&w, extra, LIS_DTYPE_F32, 1, four, dummy);
    if (s == LIS_OK && config) s = lis_st_writer_meta(&w, "config", config);
    if (s == LIS_OK) s = lis_st_write(&w, path);
    lis_st_writer_free(&w);
    lis_st_close(&st);
    return s;
}

static void expect_load_error(const char *path, const char *needle, const char *what) {
    lis_resnet net;
    lis_status s = lis_resnet_load_file(&net, path);
    const char *msg = s == LIS_OK ? "(loaded)" : lis_err_msg();
    lis_check(s != LIS_OK && strstr(msg, needle) != NULL, "%s is an error naming '%s': %s", what, needle, msg);
    if (s == LIS_OK) lis_resnet_free(&net);
}

static void test_loader(void) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/lis_test_resnet_%d.safetensors", (int)getpid());
    char cfg[4096];
    int n = snprintf(cfg, sizeof cfg, "{\"batchnorm_eps\": 1e-05, \"preprocessing\": {\"resize\": 64, \"center_crop\": 56, "
                                      "\"normalize_mean\": [0.5, 0.25, 0.125], \"normalize_std\": [0.5, 0.5, 0.25]}, "
                                      "\"class_names\": [");
    for (int i = 0; i < 100; i++) n += snprintf(cfg + n, sizeof cfg - n, "%s\"class %d\"", i ? ", " : "", i);
    snprintf(cfg + n, sizeof cfg - n, "]}");
    if (lis_check_ok(write_variant(path, NULL, NULL, NULL, cfg), "write config variant")) {
        lis_resnet net;
        if (lis_check_ok(lis_resnet_load_file(&net, path), "load with config")) {
            LIS_CHECK(net.pre.resize == 64 && net.pre.crop_h == 56 && net.pre.crop_w == 56);
            LIS_CHECK(net.pre.mean[1] == 0.25f && net.pre.std[2] == 0.25f);
            LIS_CHECK(lis_resnet_class_name(&net, 42) && !strcmp(lis_resnet_class_name(&net, 42), "class 42"));
            lis_resnet_free(&net);
        }
    }
    if (lis_check_ok(write_variant(path, NULL, NULL, NULL, "{\"class_names\": [\"a\", \"b\"]}"), "write bad names"))
        expect_load_error(path, "class_names", "a class_names list of the wrong length");
    if (lis_check_ok(write_variant(path, "layer2.1.bn2.running_var", NULL, NULL, NULL), "write missing"))
        expect_load_error(path, "layer2.1.bn2.running_var", "a missing BN buffer");
    if (lis_check_ok(write_variant(path, NULL, "layer3.0.conv2.weight", NULL, NULL), "write reshaped"))
        expect_load_error(path, "layer3.0.conv2.weight", "a conv weight of the wrong shape");
    if (lis_check_ok(write_variant(path, NULL, NULL, "layer5.0.conv1.weight", NULL), "write extra"))
        expect_load_error(path, "layer5.0.conv1.weight", "an unexpected tensor");
    if (lis_check_ok(write_variant(path, "layer2.0.downsample.0.weight", NULL, NULL, NULL), "write no downsample"))
        expect_load_error(path, "downsample", "a missing downsample");
    unlink(path);
    expect_load_error("/nonexistent/r.safetensors", "/nonexistent/r.safetensors", "an unreadable file");

    /* the demo classifier (reduced ResNet, 1-1-1-1 Bottleneck, 6 named classes, 64/56
     * preprocessing) when the shared folder is next to the repository */
    const char *demo = "../shared/demo/classifier.safetensors";
    if (access(demo, R_OK) != 0) { lis_test_skip("demo classifier: ../shared/demo not present"); return; }
    lis_resnet net;
    if (lis_check_ok(lis_resnet_load_file(&net, demo), "demo classifier load")) {
        LIS_CHECK(net.nblocks[0] == 1 && net.nblocks[3] == 1 && net.stage_ch[3] == 768 && net.num_classes == 6);
        LIS_CHECK(net.pre.resize == 64 && net.pre.crop_h == 56);
        LIS_CHECK(!strcmp(lis_resnet_class_name(&net, 3), "star"));
        float x[2 * 3 * 56 * 56], r[2 * 768], lg[2 * 6];
        unsigned seed = 3;
        for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = frand(&seed);
        lis_check_ok(lis_resnet_forward(&net, 2, 56, 56, x, r, lg, NULL), "demo forward 56x56");
        int finite = 1;
        for (int i = 0; i < 12; i++) finite &= isfinite(lg[i]);
        LIS_CHECK(finite);
        lis_resnet_free(&net);
    }
}

/* ---- 6. the command: `lis-run classify` (skipped when lis-run is not built) ---- */

static int run_cmd(const char *errfile, const char *fmt, ...) LIS_PRINTF(2, 3);
static int run_cmd(const char *errfile, const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(cmd + n, sizeof cmd - (size_t)n, " >%s.out 2>%s", errfile, errfile);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int file_has(const char *path, const char *needle) {
    char *text = NULL;
    size_t len;
    if (lis_read_file(path, &text, &len) != LIS_OK) return 0;
    int ok = strstr(text, needle) != NULL;
    if (!ok) printf("    %s was: %s\n", path, text);
    free(text);
    return ok;
}

static void test_cli(void) {
    const char *lisrun = getenv("LIS_RUN") && *getenv("LIS_RUN") ? getenv("LIS_RUN") : "./lis-run";
    if (access(lisrun, X_OK) != 0) { lis_test_skip("classify command: lis-run not built"); return; }
    char dir[256], x[300], r[300], l[300], err[300], w[300], bad[300];
    snprintf(dir, sizeof dir, "%s/lis-test-classify-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    if (!lis_check_ok(lis_mkdirs(dir), dir)) return;
    snprintf(x, sizeof x, "%s/x.npy", dir);
    snprintf(r, sizeof r, "%s/r.npy", dir);
    snprintf(l, sizeof l, "%s/l.npy", dir);
    snprintf(err, sizeof err, "%s/err.txt", dir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    snprintf(w, sizeof w, "%s", lis_test_data("resnet_small_ckpt/weights.safetensors"));
    lis_safetensors io;
    if (lis_test_open(&io, "resnet_small_ckpt/io.safetensors") != LIS_OK) return;
    const lis_st_entry *in = lis_st_find(&io, "input");
    if (in && lis_check_ok(lis_npy_write(x, &in->t), "write input npy")) {
        lis_check(run_cmd(err, "%s classify --weights %s --tensor %s -o %s --logits %s --top 3 --batch 1", lisrun, w, x,
                          r, l) == 0,
                  "classify --tensor exits 0");
        lis_tensor tr, tl;
        if (lis_check_ok(lis_npy_read(r, &tr), "read r.npy")) {
            LIS_CHECK(tr.dtype == LIS_DTYPE_F32 && tr.ndim == 2 && tr.shape[0] == 2 && tr.shape[1] == 256);
            /* README: r, logits <= 1e-5 */
            if (lis_tensor_numel(&tr) == 512) check_stage("resnet_small_ckpt", "cli r", tr.data, &io, "r", 512, 1e-5, 0);
            lis_tensor_free(&tr);
        }
        if (lis_check_ok(lis_npy_read(l, &tl), "read l.npy")) {
            if (lis_tensor_numel(&tl) == 200) check_stage("resnet_small_ckpt", "cli logits", tl.data, &io, "logits", 200, 1e-5, 0);
            lis_tensor_free(&tl);
        }
        char outf[320];
        snprintf(outf, sizeof outf, "%s.out", err);
        lis_check(file_has(outf, "[1]") && file_has(outf, "   18 "), "--top 3 prints both images with class 18");
        /* errors: exit 1 naming the file / tensor, 2 for usage; outputs not written */
        unlink(r);
        lis_check(run_cmd(err, "%s classify --weights %s/none.safetensors --tensor %s -o %s", lisrun, dir, x, r) == 1 &&
                      file_has(err, "none.safetensors"),
                  "missing weights: exit 1 naming the file");
        if (lis_check_ok(write_variant(bad, "layer4.0.bn3.bias", NULL, NULL, NULL), "write bad weights"))
            lis_check(run_cmd(err, "%s classify --weights %s --tensor %s -o %s", lisrun, bad, x, r) == 1 &&
                          file_has(err, "layer4.0.bn3.bias"),
                      "weights missing a tensor: exit 1 naming it");
        lis_check(run_cmd(err, "%s classify --weights %s --tensor %s -o %s", lisrun, w, w, r) == 1 && file_has(err, w),
                  "a non-npy input: exit 1 naming it");
        lis_tensor small = {LIS_DTYPE_F32, 4, {1, 2, 8, 8}, (float[128]){0}, 0};
        lis_npy_write(x, &small);
        lis_check(run_cmd(err, "%s classify --weights %s --tensor %s -o %s", lisrun, w, x, r) == 1 &&
                      file_has(err, "x.npy") && file_has(err, "1x2x8x8"),
                  "a 2-channel input: exit 1 naming the file and its shape");
        lis_check(run_cmd(err, "%s classify --weights %s -o %s", lisrun, w, r) == 2, "no input: exit 2");
        lis_check(run_cmd(err, "%s classify --weights %s --tensor %s --batch 0 -o %s", lisrun, w, x, r) == 2,
                  "--batch 0: exit 2");
        LIS_CHECK(!lis_file_exists(r));
        lis_check(run_cmd(err, "%s classify --help", lisrun) == 0, "--help exits 0");
    }
    lis_st_close(&io);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("    (could not remove %s)\n", dir);
}

int main(void) {
    printf("   threads: %d\n", lis_threads_count());
    test_kernels();
    float *x = load_inputs();
    if (x) {
        test_synth("resnet50_synth", x, 0);
        test_synth("resnet50_synth_gain", x, 1);
        test_nhwc_ref(x);
        free(x);
    }
    test_small();
    {
        int b18[4] = {1, 2, 1, 1}, w18[4] = {8, 16, 24, 32}, b50[4] = {2, 1, 2, 1}, w50[4] = {4, 8, 12, 16};
        test_vs_reference(0, b18, w18, 2, 45, 38);
        test_vs_reference(1, b50, w50, 1, 33, 47);
    }
    test_loader();
    test_cli();
    return lis_test_finish();
}
