/* test_cuda_ops.c — every CUDA op and every variant against the CPU reference (_ref) on
 * fresh random inputs, with the device outputs poisoned (NaN bytes) before each run so an
 * element the kernel forgets to write fails the check.
 *
 *   build/tests/test_cuda_ops [--op NAME] [--params SUBSTR] [--quick] [--seed N]
 *     --op      only cases whose op name contains NAME (igemm, conv2d, gemm, cublas, modconv,
 *               filtered_lrelu, bias_act, fc, synth_input, maxpool, avgpool, linear,
 *               preprocess, to_u8, nearest_concat: also runs tapconv; nhwc_conv, nhwc)
 *     --params  only cases whose full name contains SUBSTR
 *     --quick   small shapes only, no library baselines (cuDNN, cuBLAS): for compute-sanitizer
 *     --seed    the random seed (default: from the clock; printed; LIS_TEST_SEED also works)
 * Without a CUDA device (or a CUDA build) it prints "SKIP cuda: no device" and exits 77.
 *
 * Tolerances. FP32 variants: |got - ref| <= atol + rtol |ref| with the CPU tests' bounds
 * (conv: 2e-5 + 1e-5 |ref| as test_resnet, outputs O(1); StyleGAN ops: 2e-6 * max(1, max|ref|)
 * as test_sgxl_ops, relaxed to 1e-5 * max(1, max|ref|) for sums over > 1000 terms; synthesis
 * input 5e-5; tapconv 1e-5). Integer / selection ops (bias_act, pools, preprocess, uint8,
 * nearest_concat): exact.
 * Tensor-core variants: the operands are rounded, so per element they are compared through
 * the normalised mean squared error NMSE = sum (got-ref)^2 / sum ref^2 against the rounding
 * model (unit roundoff u: tf32 and fp16 2^-11, bf16 2^-8; NMSE ~ u^2 for random-sign sums):
 * tf32 / fp16 <= 2e-6, bf16 <= 1e-4, plus max |got - ref| <= 0.02 (tf32, fp16) or 0.1 (bf16)
 * times max|ref| to catch isolated wrong elements. The cuDNN baseline (FP32 and TF32) is held
 * to the tf32 bounds: it may pick an FFT or Winograd algorithm. The "wino4" variants
 * (Winograd F(4x4, 3x3)) get 20x the FP32 bounds: their rounding is 5-22x F(2x2)'s
 * (measured by tests/test_cuda_emu_winograd.cu).
 * nhwc_conv (NHWC in and out, tf32 / bf16 / fp16): against lis_nhwc_conv_ref on the same
 * operands, which rounds the float64 sum once; the kernel's float32 sum differs by float32
 * rounding, and bf16 / fp16 outputs then by at most one 16-bit unit in the last place where the
 * two sums straddle a rounding boundary: |got - ref| <= 1e-5 max(1, max|ref|) + (1e-5 + ulp)
 * |ref|, ulp = 2^-7 (bf16), 2^-10 (fp16), 0 (tf32: float32 outputs). The layout conversions and
 * the NHWC pools: exact.
 * A filter (--op, --params) that matches no case fails (it would otherwise pass vacuously).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/bias_act.h"
#include "kernels/bias_act_cuda.h"
#include "kernels/conv_nhwc.h"
#include "kernels/conv_nhwc_cuda.h"
#include "kernels/conv2d.h"
#include "kernels/conv2d_cuda.h"
#include "kernels/fc.h"
#include "kernels/fc_cuda.h"
#include "kernels/filtered_lrelu.h"
#include "kernels/filtered_lrelu_cuda.h"
#include "kernels/gemm.h"
#include "kernels/gemm_cuda.h"
#include "kernels/linear.h"
#include "kernels/linear_cuda.h"
#include "kernels/modconv.h"
#include "kernels/modconv_cuda.h"
#include "kernels/nearest_concat.h"
#include "kernels/nearest_concat_cuda.h"
#include "kernels/pool.h"
#include "kernels/pool_cuda.h"
#include "kernels/preprocess.h"
#include "kernels/preprocess_cuda.h"
#include "kernels/stem_s2d.h"
#include "kernels/synth_input.h"
#include "kernels/synth_input_cuda.h"
#include "kernels/to_u8_cuda.h"
#include "runtime/backend.h"
#include "runtime/threads.h"
#include "tests/harness.h"

static const char *g_op = "", *g_params = "";
static int g_quick, g_cases;
static unsigned g_seed;
static lis_stream g_s;

/* ---------------------------------------------------------------- helpers */

/* Whether a case runs; counts the cases that do (a filter matching nothing must not pass). */
static int want(const char *op, const char *name) {
    const int yes = strstr(op, g_op) && strstr(name, g_params);
    g_cases += yes;
    return yes;
}

static float frand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *rnd(size_t n, float scale) {
    float *p = malloc(n * sizeof(float) + 64);
    LIS_ASSERT(p);
    for (size_t i = 0; i < n; i++) p[i] = frand(&g_seed) * scale;
    return p;
}

static void *up(const void *h, size_t bytes) {
    void *d = lis_dev_upload(h, bytes, "test input");
    if (!d) { fprintf(stderr, "%s\n", lis_err_msg()); abort(); }
    return d;
}

/* A poisoned device output buffer of n floats (every byte 0xff: a NaN). */
static float *dpoison(size_t n) {
    float *d = lis_dev_alloc(n * sizeof(float) + 64, "test output");
    if (!d || lis_dev_memset(d, 0xff, n * sizeof(float) + 64, g_s) != LIS_OK) { fprintf(stderr, "%s\n", lis_err_msg()); abort(); }
    return d;
}

static float *down(const float *d, size_t n) {
    float *h = malloc(n * sizeof(float) + 64);
    LIS_ASSERT(h);
    if (lis_dev_d2h(h, d, n * sizeof(float), g_s) != LIS_OK) {
        lis_check(0, "copy back: %s", lis_err_msg());
        for (size_t i = 0; i < n; i++) h[i] = NAN;
    }
    return h;
}

/* A status check that also synchronises, so an asynchronous fault is blamed here. */
static int ran(lis_status s, const char *name) {
    if (s == LIS_OK) s = lis_stream_sync(g_s);
    return lis_check_ok(s, name);
}

static double max_abs(const float *x, size_t n) { return lis_max_abs(x, (int64_t)n); }

/* Compares a variant of precision `prec` to the reference (see the file comment). */
static void check_prec(const char *name, const float *got, const float *ref, size_t n, lis_precision prec, double atol,
                       double rtol) {
    if (prec == LIS_PREC_FP32) { lis_check_close(name, got, ref, (int64_t)n, atol, rtol); return; }
    double num = 0, den = 0, mx = 0, mref = max_abs(ref, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) { bad++; continue; }
        double d = (double)got[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
        if (fabs(d) > mx) mx = fabs(d);
    }
    const double nmse = den > 0 ? num / den : num, bound = prec == LIS_PREC_BF16 ? 1e-4 : 2e-6;
    const double mbound = (prec == LIS_PREC_BF16 ? 0.1 : 0.02) * (mref > 1e-30 ? mref : 1.0);
    lis_check(bad == 0 && nmse <= bound && mx <= mbound,
              "%s [%s]: n=%zu NMSE %.3g (bound %.1g), max abs %.3g (bound %.3g), non-finite %zu", name,
              lis_precision_name(prec), n, nmse, bound, mx, mbound, bad);
}

/* ---------------------------------------------------------------- igemm as conv2d */

static void conv_case(int N, int C, int H, int W, int K, int R, int S, int sh, int sw, int ph, int pw, int dh, int dw,
                      lis_act act, int bias, int res, int alias) {
    lis_conv2d_params p = {N, C, H, W, K, R, S, sh, sw, ph, pw, dh, dw, act, 0.2f};
    char name[256];
    snprintf(name, sizeof name, "conv2d(n=%d,c=%d,h=%d,w=%d,k=%d,r=%d,s=%d,stride=%dx%d,pad=%dx%d,dil=%dx%d,act=%d%s%s%s)",
             N, C, H, W, K, R, S, sh, sw, ph, pw, dh, dw, act, bias ? ",bias" : "", res ? ",res" : "", alias ? "=y" : "");
    /* --quick (the sanitizer runs) leaves the library baselines out: not lis code, and slow there */
    if (!want(g_quick ? "conv2d igemm" : "conv2d igemm cudnn", name)) return;
    const int run_igemm = strstr("conv2d igemm", g_op) != NULL, run_cudnn = !g_quick && strstr("conv2d cudnn", g_op) != NULL;
    int Ho, Wo;
    lis_conv2d_out_shape(&p, &Ho, &Wo);
    size_t nx = (size_t)N * C * H * W, nw = (size_t)K * C * R * S, ny = (size_t)N * K * Ho * Wo;
    float *x = rnd(nx, 1.0f), *w = rnd(nw, 1.0f / sqrtf((float)(C * R * S)));
    float *b = bias ? rnd((size_t)K, 0.5f) : NULL, *r = res ? rnd(ny, 1.0f) : NULL, *yr = malloc(ny * sizeof(float));
    lis_conv2d_ref(&p, x, w, b, r, yr);
    float *dx = up(x, nx * 4), *dw_ = up(w, nw * 4), *db = b ? up(b, (size_t)K * 4) : NULL, *dr = r ? up(r, ny * 4) : NULL;
    const lis_igemm_variant *v;
    int nv = run_igemm ? lis_igemm_cuda_variants(&v) : 0;
    for (int i = 0; i < nv; i++) {
        char vn[320];
        snprintf(vn, sizeof vn, "igemm_%s %s", v[i].name, name);
        float *dy = dpoison(ny);
        if (alias) LIS_ASSERT(lis_dev_h2d(dy, r, ny * 4, g_s) == LIS_OK);
        if (ran(lis_conv2d_cuda_variant(&v[i], &p, dx, dw_, db, alias ? dy : dr, dy, g_s), vn)) {
            float *y = down(dy, ny);
            /* F(4x4, 3x3) rounds 5-22x more than F(2x2) (tests/test_cuda_emu_winograd.cu) */
            const double loose = strncmp(v[i].name, "wino4", 5) ? 1.0 : 20.0;
            check_prec(vn, y, yr, ny, v[i].prec, 2e-5 * loose, 1e-5 * loose);
            free(y);
        }
        lis_dev_free(dy);
    }
    /* the cuDNN baseline where present (FP32 and TF32). It only has to compute the same
     * function (the benchmarks compare against it): cuDNN may pick an FFT or Winograd algorithm
     * whose FP32 rounding is not bounded by the direct sum's tolerance, so both precisions are
     * held to the tf32 bounds (NMSE, max deviation) */
    if (run_cudnn) {
        for (int prec = LIS_PREC_FP32; prec <= LIS_PREC_TF32; prec++) {
            lis_cudnn_conv *c;
            char vn[360];
            if (lis_cudnn_conv_plan(&c, &p, (lis_precision)prec) != LIS_OK) {
                static int said;
                if (!said++) printf("     (cuDNN baseline not checked: %s)\n", lis_err_msg());
                break;
            }
            snprintf(vn, sizeof vn, "cudnn_%s(%s) %s", lis_precision_name((lis_precision)prec), lis_cudnn_conv_algo(c), name);
            float *dy = dpoison(ny);
            if (alias) LIS_ASSERT(lis_dev_h2d(dy, r, ny * 4, g_s) == LIS_OK);
            if (ran(lis_cudnn_conv_run(c, dx, dw_, db, alias ? dy : dr, dy, g_s), vn)) {
                float *y = down(dy, ny);
                check_prec(vn, y, yr, ny, LIS_PREC_TF32, 0, 0);
                free(y);
            }
            lis_dev_free(dy);
            lis_cudnn_conv_free(c);
        }
    }
    lis_dev_free(dx); lis_dev_free(dw_); lis_dev_free(db); lis_dev_free(dr);
    free(x); free(w); free(b); free(r); free(yr);
}

static void test_conv(void) {
    conv_case(2, 3, 11, 13, 5, 3, 3, 1, 1, 1, 1, 1, 1, LIS_ACT_RELU, 1, 0, 0);
    conv_case(2, 7, 5, 6, 13, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_RELU, 1, 1, 0);
    conv_case(2, 7, 5, 6, 13, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_RELU, 1, 1, 1);
    conv_case(1, 8, 9, 9, 16, 1, 1, 2, 2, 0, 0, 1, 1, LIS_ACT_NONE, 1, 0, 0);
    conv_case(2, 3, 20, 17, 8, 7, 7, 2, 2, 3, 3, 1, 1, LIS_ACT_NONE, 1, 0, 0);
    conv_case(1, 6, 8, 8, 130, 3, 3, 2, 2, 1, 1, 1, 1, LIS_ACT_RELU, 1, 0, 0);
    conv_case(2, 5, 12, 12, 7, 3, 3, 1, 1, 2, 2, 2, 2, LIS_ACT_LRELU, 1, 0, 0);
    conv_case(1, 2, 3, 3, 3, 1, 1, 1, 1, 2, 2, 1, 1, LIS_ACT_NONE, 0, 0, 0);
    conv_case(3, 4, 1, 1, 5, 3, 3, 1, 1, 1, 1, 1, 1, LIS_ACT_RELU, 1, 1, 1);
    conv_case(1, 3, 10, 11, 4, 3, 5, 2, 1, 1, 2, 1, 3, LIS_ACT_NONE, 1, 0, 0);
    /* plain GEMMs (igemm v3): float4 operands (C % 4, HW % 4), scalar A (C = 9) */
    conv_case(3, 8, 4, 6, 20, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_RELU, 1, 1, 0);
    conv_case(2, 9, 4, 4, 33, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_LRELU, 1, 1, 1);
    if (g_quick) return;
    conv_case(4, 128, 12, 12, 256, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_RELU, 1, 1, 0);  /* tiles across images */
    conv_case(2, 64, 16, 16, 130, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_NONE, 1, 0, 0);   /* M tail */
    conv_case(3, 36, 5, 7, 70, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_RELU, 0, 1, 0);      /* HW = 35: scalar B */
    conv_case(2, 64, 14, 14, 256, 3, 3, 1, 1, 1, 1, 1, 1, LIS_ACT_RELU, 1, 1, 0);
    conv_case(1, 96, 7, 7, 200, 1, 1, 1, 1, 0, 0, 1, 1, LIS_ACT_RELU, 1, 1, 1);
    conv_case(2, 3, 64, 64, 64, 7, 7, 2, 2, 3, 3, 1, 1, LIS_ACT_NONE, 1, 0, 0);      /* ResNet stem */
    conv_case(1, 300, 9, 9, 129, 3, 3, 1, 1, 1, 1, 1, 1, LIS_ACT_RELU, 1, 1, 0);    /* K tail, M tail */
    conv_case(1, 256, 20, 20, 260, 3, 3, 2, 2, 1, 1, 1, 1, LIS_ACT_RELU, 1, 0, 0);
}

/* ---------------------------------------------------------------- NHWC path */

/* n random values in prec's NHWC element type (16-bit or float) */
static void *rnd_nhwc(size_t n, float scale, lis_precision prec) {
    void *p = malloc(n * lis_nhwc_elem_size(prec) + 64);
    LIS_ASSERT(p);
    for (size_t i = 0; i < n; i++) lis_nhwc_set(p, i, frand(&g_seed) * scale, prec);
    return p;
}

static float *widen_nhwc(const void *h, size_t n, lis_precision prec) {
    float *f = malloc(n * sizeof(float) + 64);
    LIS_ASSERT(f);
    for (size_t i = 0; i < n; i++) f[i] = lis_nhwc_get(h, i, prec);
    return f;
}

/* a device tensor of prec's element type back on the host, widened to float */
static float *down_nhwc(const void *d, size_t n, lis_precision prec) {
    const size_t bytes = n * lis_nhwc_elem_size(prec);
    void *h = malloc(bytes + 64);
    LIS_ASSERT(h);
    if (lis_dev_d2h(h, d, bytes, g_s) != LIS_OK) {
        lis_check(0, "copy back: %s", lis_err_msg());
        memset(h, 0xff, bytes);
    }
    float *f = widen_nhwc(h, n, prec);
    free(h);
    return f;
}

/* set: the cases run with an experiment's switches (LIS_NHWC_CONV_A_L1=1: the input gather
 * through L1; LIS_NHWC_CONV_DEEP=1: 128-byte stages; LIS_NHWC_CONV_WARPS=4: 4 warps of 64 x 64;
 * LIS_NHWC_CONV_TAPS_INNER=1: the taps inside the channel chunks; LIS_NHWC_CONV_B_L1=1: the
 * weights through L1), one or two of them */
typedef struct {
    const char *env[2], *value[2];
    const char *label;
} nhwc_exp;
static const nhwc_exp *g_nhwc_exp;

/* bn: 0 lets the kernel pick its block width, 64 / 128 force one (LIS_NHWC_CONV_BN) */
static void nhwc_conv_case(int N, int H, int W, int C, int K, int R, int stride, int pad, int relu, int bias, int res,
                           int alias, int bn, lis_precision prec) {
    const lis_nhwc_conv_params p = {N, H, W, C, K, R, R, stride, pad, relu};
    char name[256];
    snprintf(name, sizeof name, "nhwc_conv(n=%d,h=%d,w=%d,c=%d,k=%d,r=%d,stride=%d,pad=%d,relu=%d%s%s%s,bn=%s%s%s) [%s]",
             N, H, W, C, K, R, stride, pad, relu, bias ? ",bias" : "", res ? ",res" : "", alias ? "=y" : "",
             bn == 64 ? "64" : bn == 128 ? "128" : "auto", g_nhwc_exp ? "," : "", g_nhwc_exp ? g_nhwc_exp->label : "",
             lis_precision_name(prec));
    if (!want("nhwc_conv", name)) return;
    int Ho, Wo;
    lis_nhwc_conv_out_shape(&p, &Ho, &Wo);
    const size_t es = lis_nhwc_elem_size(prec);
    const size_t nx = (size_t)N * H * W * C, nw = (size_t)K * R * R * C, ny = (size_t)N * Ho * Wo * K;
    void *x = rnd_nhwc(nx, 1.0f, prec), *w = rnd_nhwc(nw, 1.0f / sqrtf((float)(C * R * R)), prec);
    void *r = res ? rnd_nhwc(ny, 1.0f, prec) : NULL, *yr = malloc(ny * es + 64);
    float *b = bias ? rnd((size_t)K, 0.5f) : NULL;
    LIS_ASSERT(yr);
    if (!lis_check_ok(lis_nhwc_conv_ref(&p, prec, x, w, b, r, yr), name)) goto done;
    void *dx = up(x, nx * es), *dw_ = up(w, nw * es), *dr = r ? up(r, ny * es) : NULL;
    float *db = b ? up(b, (size_t)K * 4) : NULL;
    void *dy = dpoison(ny * es / 4 + 1);
    if (alias) LIS_ASSERT(lis_dev_h2d(dy, r, ny * es, g_s) == LIS_OK);
    if (bn) setenv("LIS_NHWC_CONV_BN", bn == 64 ? "64" : "128", 1);
    for (int e = 0; e < 2 && g_nhwc_exp && g_nhwc_exp->env[e]; e++) setenv(g_nhwc_exp->env[e], g_nhwc_exp->value[e], 1);
    const lis_status st = lis_nhwc_conv_cuda(&p, dx, dw_, db, alias ? dy : dr, dy, prec, g_s);
    if (bn) unsetenv("LIS_NHWC_CONV_BN");
    for (int e = 0; e < 2 && g_nhwc_exp && g_nhwc_exp->env[e]; e++) unsetenv(g_nhwc_exp->env[e]);
    if (ran(st, name)) {
        float *y = down_nhwc(dy, ny, prec), *yf = widen_nhwc(yr, ny, prec);
        const double mref = max_abs(yf, ny), ulp = prec == LIS_PREC_BF16 ? 0x1p-7 : prec == LIS_PREC_FP16 ? 0x1p-10 : 0;
        lis_check_close(name, y, yf, (int64_t)ny, 1e-5 * (mref > 1 ? mref : 1), 1.01 * ulp + 1e-5);
        free(y);
        free(yf);
    }
    lis_dev_free(dx); lis_dev_free(dw_); lis_dev_free(dr); lis_dev_free(db); lis_dev_free(dy);
done:
    free(x); free(w); free(r); free(yr); free(b);
}

/* the layout conversions and the NHWC pools, exact against the float references */
static void nhwc_cases(lis_precision prec) {
    const char *pn = lis_precision_name(prec);
    const size_t es = lis_nhwc_elem_size(prec);
    char name[160];
    const int N = 2, C = 3, H = 9, W = 7, Cp = lis_nhwc_pad_channels(C, prec), HW = H * W; /* 8, or 4 in tf32 */
    snprintf(name, sizeof name, "nchw_to_nhwc and back (n=%d,c=%d,hw=%d,cp=%d) [%s]", N, C, HW, Cp, pn);
    if (want("nhwc", name)) {
        float *x = rnd((size_t)N * C * HW, 2.0f), *back = malloc(sizeof(float) * N * C * HW);
        void *ref = malloc(es * N * HW * Cp);
        LIS_ASSERT(back && ref);
        lis_nchw_to_nhwc(x, N, C, HW, Cp, prec, ref);
        float *dx = up(x, sizeof(float) * N * C * HW), *db = dpoison((size_t)N * C * HW);
        void *dn = dpoison(es * N * HW * Cp / 4 + 1);
        if (ran(lis_nchw_to_nhwc_cuda(dx, N, C, HW, Cp, dn, prec, g_s), name) &&
            ran(lis_nhwc_to_nchw_cuda(dn, N, C, HW, Cp, db, prec, g_s), name)) {
            float *got = down_nhwc(dn, (size_t)N * HW * Cp, prec), *want_ = widen_nhwc(ref, (size_t)N * HW * Cp, prec);
            lis_check_close(name, got, want_, (int64_t)N * HW * Cp, 0, 0);
            float *y = down(db, (size_t)N * C * HW);
            lis_nhwc_to_nchw(ref, N, C, HW, Cp, prec, back);
            lis_check_close(name, y, back, (int64_t)N * C * HW, 0, 0);
            free(got); free(want_); free(y);
        }
        lis_dev_free(dx); lis_dev_free(db); lis_dev_free(dn);
        free(x); free(back); free(ref);
    }
    /* the space-to-depth stem input (kernels/stem_s2d.h): exact against the host's */
    const int SH = 10, SW = 14, Cs = lis_stem_s2d_channels(C, prec), Hs = (SH + 2) / 2, Ws = (SW + 2) / 2;
    snprintf(name, sizeof name, "stem_s2d (n=%d,c=%d,%dx%d,cp=%d) [%s]", N, C, SH, SW, Cs, pn);
    if (want("nhwc", name)) {
        const size_t nin = (size_t)N * C * SH * SW, nout = (size_t)N * Hs * Ws * Cs;
        float *x = rnd(nin, 2.0f);
        void *ref = malloc(es * nout);
        LIS_ASSERT(ref);
        lis_stem_s2d(x, N, C, SH, SW, Cs, prec, ref);
        float *dx = up(x, sizeof(float) * nin);
        void *dn = dpoison(es * nout / 4 + 1);
        if (ran(lis_stem_s2d_cuda(dx, N, C, SH, SW, Cs, dn, prec, g_s), name)) {
            float *got = down_nhwc(dn, nout, prec), *want_ = widen_nhwc(ref, nout, prec);
            lis_check_close(name, got, want_, (int64_t)nout, 0, 0);
            free(got); free(want_);
        }
        LIS_CHECK(lis_stem_s2d_cuda(dx, N, C, SH + 1, SW, Cs, dn, prec, g_s) != LIS_OK); /* odd height: refused */
        lis_dev_free(dx); lis_dev_free(dn);
        free(x); free(ref);
    }
    const int mp[][5] = {{2, 16, 9, 11, 0}, {1, 64, 112, 112, 1}, {1, 8, 2, 3, 1}};
    for (int i = 0; i < 3; i++) {
        lis_maxpool_params p = {mp[i][0], mp[i][1], mp[i][2], mp[i][3], 3, 2, 1, mp[i][4]};
        snprintf(name, sizeof name, "maxpool_nhwc(n=%d,c=%d,h=%d,w=%d,relu=%d) [%s]", p.N, p.C, p.H, p.W, p.relu, pn);
        if (!want("nhwc maxpool", name)) continue;
        int Ho, Wo;
        lis_maxpool_out_shape(&p, &Ho, &Wo);
        const size_t nx = (size_t)p.N * p.C * p.H * p.W, ny = (size_t)p.N * p.C * Ho * Wo;
        void *xh = rnd_nhwc(nx, 1.0f, prec), *yh = malloc(ny * es + 64);
        float *xf = malloc(sizeof(float) * nx), *yr = malloc(sizeof(float) * ny), *yn = malloc(sizeof(float) * ny);
        LIS_ASSERT(xf && yr && yn && yh);
        lis_nhwc_to_nchw(xh, p.N, p.C, p.H * p.W, p.C, prec, xf);
        lis_maxpool_ref(&p, xf, yr);
        void *dx = up(xh, nx * es), *dy = dpoison(ny * es / 4 + 1);
        if (ran(lis_maxpool_nhwc_cuda(&p, dx, dy, prec, g_s), name)) {
            if (lis_dev_d2h(yh, dy, ny * es, g_s) != LIS_OK) memset(yh, 0xff, ny * es);
            lis_nhwc_to_nchw(yh, p.N, p.C, Ho * Wo, p.C, prec, yn); /* compare in NCHW order */
            lis_check_close(name, yn, yr, (int64_t)ny, 0, 0);
        }
        lis_dev_free(dx); lis_dev_free(dy);
        free(xh); free(yh); free(xf); free(yr); free(yn);
    }
    const int ap[][3] = {{3, 2048, 49}, {2, 8, 1}};
    for (int i = 0; i < 2; i++) {
        const int n = ap[i][0], c = ap[i][1], hw = ap[i][2];
        snprintf(name, sizeof name, "avgpool_nhwc(n=%d,c=%d,hw=%d) [%s]", n, c, hw, pn);
        if (!want("nhwc avgpool", name)) continue;
        void *xh = rnd_nhwc((size_t)n * hw * c, 1.0f, prec);
        float *xf = malloc(sizeof(float) * n * hw * c), *yr = malloc(sizeof(float) * n * c);
        LIS_ASSERT(xf && yr);
        lis_nhwc_to_nchw(xh, n, c, hw, c, prec, xf);
        lis_avgpool_global_ref(n, c, hw, 1, xf, yr);
        void *dx = up(xh, (size_t)n * hw * c * es);
        float *dy = dpoison((size_t)n * c);
        if (ran(lis_avgpool_nhwc_cuda(n, c, hw, dx, dy, prec, g_s), name)) {
            float *y = down(dy, (size_t)n * c);
            lis_check_close(name, y, yr, (int64_t)n * c, 0, 0); /* the same values summed in the same order */
            free(y);
        }
        lis_dev_free(dx); lis_dev_free(dy);
        free(xh); free(xf); free(yr);
    }
}

static void test_nhwc(void) {
    const lis_precision precs[] = {LIS_PREC_BF16, LIS_PREC_FP16, LIS_PREC_TF32};
    for (int i = 0; i < 3; i++) {
        const lis_precision pc = precs[i];
        nhwc_cases(pc);
        nhwc_conv_case(2, 9, 7, 16, 24, 3, 1, 1, 1, 1, 0, 0, 0, pc);
        nhwc_conv_case(2, 9, 7, 16, 24, 3, 1, 1, 0, 1, 1, 1, 128, pc);   /* residual aliasing y, wide block */
        nhwc_conv_case(1, 11, 10, 32, 200, 3, 2, 1, 1, 1, 0, 0, 64, pc); /* stride 2, channel tail */
        nhwc_conv_case(3, 7, 7, 40, 136, 1, 1, 0, 1, 1, 1, 0, 128, pc);  /* 1x1, depth tail */
        nhwc_conv_case(2, 8, 8, 24, 64, 1, 2, 0, 0, 0, 0, 0, 0, pc);     /* 1x1 stride 2 */
        /* the stem, channels padded to lis_nhwc_pad_channels(3): 8, or 4 in tf32 */
        nhwc_conv_case(1, 20, 17, lis_nhwc_pad_channels(3, (lis_precision)pc), 64, 7, 2, 3, 0, 1, 0, 0, 0, pc);
        /* the stem's space-to-depth form (kernels/stem_s2d.h): 4x4, stride 1, padding 1 */
        nhwc_conv_case(1, 11, 9, lis_stem_s2d_channels(3, (lis_precision)pc), 64, 4, 1, 1, 0, 1, 0, 0, 0, pc);
        /* the experiments: the same results */
        static const nhwc_exp exps[] = {
            {{"LIS_NHWC_CONV_A_L1", NULL}, {"1", NULL}, "a_l1"},
            {{"LIS_NHWC_CONV_DEEP", NULL}, {"1", NULL}, "deep"},
            {{"LIS_NHWC_CONV_DEEP", NULL}, {"0", NULL}, "stages64"}, /* the default off sm_90 */
            {{"LIS_NHWC_CONV_WARPS", NULL}, {"4", NULL}, "warps4"},
            {{"LIS_NHWC_CONV_WARPS", "LIS_NHWC_CONV_DEEP"}, {"4", "1"}, "warps4,deep"},
            {{"LIS_NHWC_CONV_WARPS", "LIS_NHWC_CONV_DEEP"}, {"4", "0"}, "warps4,stages64"},
            {{"LIS_NHWC_CONV_TAPS_INNER", NULL}, {"1", NULL}, "taps_inner"},
            {{"LIS_NHWC_CONV_TAPS_INNER", "LIS_NHWC_CONV_WARPS"}, {"1", "4"}, "taps_inner,warps4"},
            {{"LIS_NHWC_CONV_TAPS_INNER", "LIS_NHWC_CONV_B_L1"}, {"1", "1"}, "taps_inner,b_l1"},
        };
        for (size_t e = 0; e < sizeof exps / sizeof exps[0]; e++) {
            g_nhwc_exp = &exps[e];
            nhwc_conv_case(2, 9, 7, 16, 24, 3, 1, 1, 0, 1, 1, 1, 128, pc);
            nhwc_conv_case(1, 11, 10, 32, 200, 3, 2, 1, 1, 1, 0, 0, 64, pc);
            nhwc_conv_case(3, 7, 7, 40, 136, 1, 1, 0, 1, 1, 1, 0, 128, pc); /* every warp's channels used */
            nhwc_conv_case(2, 9, 7, 64, 72, 3, 1, 1, 1, 1, 0, 0, 0, pc);    /* C = 64: taps inner applies */
            nhwc_conv_case(1, 20, 17, lis_nhwc_pad_channels(3, (lis_precision)pc), 64, 7, 2, 3, 0, 1, 0, 0, 0, pc);
            if (!g_quick) nhwc_conv_case(4, 14, 14, 256, 256, 3, 1, 1, 1, 1, 0, 0, 0, pc);
        }
        g_nhwc_exp = NULL;
        if (g_quick) continue;
        nhwc_conv_case(4, 14, 14, 256, 256, 3, 1, 1, 1, 1, 0, 0, 0, pc); /* ResNet layer3 */
        nhwc_conv_case(4, 14, 14, 1024, 256, 1, 1, 0, 1, 1, 0, 0, 128, pc);
        nhwc_conv_case(2, 7, 7, 512, 2048, 1, 1, 0, 1, 1, 1, 1, 0, pc);  /* layer4 expand + residual */
        nhwc_conv_case(2, 56, 56, 64, 64, 3, 1, 1, 1, 1, 0, 0, 0, pc);   /* layer1 */
    }
}

/* ---------------------------------------------------------------- plain GEMM and cuBLAS */

static void gemm_case(int M, int N, int K) {
    char name[128];
    snprintf(name, sizeof name, "gemm(m=%d,n=%d,k=%d)", M, N, K);
    if (!want(g_quick ? "gemm" : "gemm cublas", name)) return;
    float *A = rnd((size_t)M * K, 1.0f), *B = rnd((size_t)K * N, 1.0f / sqrtf((float)K)), *C = malloc((size_t)M * N * 4);
    const float **rows = malloc(sizeof(float *) * (size_t)K);
    lis_gemm_rows_from_matrix(B, K, N, rows);
    lis_gemm_ref(M, N, K, A, K, rows, C, N, 0);
    float *dA = up(A, (size_t)M * K * 4), *dB = up(B, (size_t)K * N * 4);
    double tol = 1e-5 * sqrt((double)K);
    for (int prec = 0; prec < LIS_PREC_COUNT; prec++) {
        char vn[192];
        snprintf(vn, sizeof vn, "gemm_cuda %s", name);
        float *dC = dpoison((size_t)M * N);
        if (ran(lis_gemm_cuda(M, N, K, dA, dB, dC, (lis_precision)prec, g_s), vn)) {
            float *c = down(dC, (size_t)M * N);
            check_prec(vn, c, C, (size_t)M * N, (lis_precision)prec, tol, 1e-5);
            free(c);
        }
        if (g_quick) { lis_dev_free(dC); continue; } /* no library baseline in the sanitizer runs */
        /* cuBLAS: 16-bit operands converted first */
        snprintf(vn, sizeof vn, "cublas %s", name);
        void *a16 = dA, *b16 = dB;
        if (prec >= LIS_PREC_BF16) {
            a16 = lis_dev_alloc((size_t)M * K * 2, "a16");
            b16 = lis_dev_alloc((size_t)K * N * 2, "b16");
            LIS_ASSERT(a16 && b16);
            LIS_ASSERT(lis_cuda_convert_f32(dA, a16, (size_t)M * K, (lis_precision)prec, g_s) == LIS_OK);
            LIS_ASSERT(lis_cuda_convert_f32(dB, b16, (size_t)K * N, (lis_precision)prec, g_s) == LIS_OK);
        }
        LIS_ASSERT(lis_dev_memset(dC, 0xff, (size_t)M * N * 4, g_s) == LIS_OK);
        if (ran(lis_gemm_cublas(M, N, K, a16, b16, dC, (lis_precision)prec, g_s), vn)) {
            float *c = down(dC, (size_t)M * N);
            check_prec(vn, c, C, (size_t)M * N, (lis_precision)prec, tol, 1e-5);
            free(c);
        }
        if (prec >= LIS_PREC_BF16) { lis_dev_free(a16); lis_dev_free(b16); }
        lis_dev_free(dC);
    }
    lis_dev_free(dA); lis_dev_free(dB);
    free(A); free(B); free(C); free(rows);
}

/* Z products in one launch (lis_gemm_cuda_batched, the Winograd's GEMMs): each slice against
 * the reference; `pad` floats between the matrices (a pad that is not a multiple of 4 takes
 * the kernels' scalar paths), which must stay poisoned */
static void gemm_batched_case(int Z, int M, int N, int K, int pad) {
    char name[128];
    snprintf(name, sizeof name, "gemm_batched(z=%d,m=%d,n=%d,k=%d,pad=%d)", Z, M, N, K, pad);
    if (!want("gemm", name)) return;
    const int64_t sA = (int64_t)M * K + pad, sB = (int64_t)K * N + pad, sC = (int64_t)M * N + pad;
    float *A = rnd((size_t)(Z * sA), 1.0f), *B = rnd((size_t)(Z * sB), 1.0f / sqrtf((float)K));
    float *C = malloc(sizeof(float) * (size_t)(Z * sC));
    const float **rows = malloc(sizeof(float *) * (size_t)K);
    LIS_ASSERT(C && rows);
    for (int z = 0; z < Z; z++) {
        lis_gemm_rows_from_matrix(B + z * sB, K, N, rows);
        lis_gemm_ref(M, N, K, A + z * sA, K, rows, C + z * sC, N, 0);
    }
    float *dA = up(A, sizeof(float) * (size_t)(Z * sA)), *dB = up(B, sizeof(float) * (size_t)(Z * sB));
    for (int prec = 0; prec < LIS_PREC_COUNT; prec++) {
        char vn[192];
        snprintf(vn, sizeof vn, "gemm_cuda_batched %s [%s]", name, lis_precision_name((lis_precision)prec));
        float *dC = dpoison((size_t)(Z * sC));
        if (ran(lis_gemm_cuda_batched(Z, M, N, K, dA, sA, dB, sB, dC, sC, (lis_precision)prec, g_s), vn)) {
            float *c = down(dC, (size_t)(Z * sC));
            size_t touched = 0;
            for (int z = 0; z < Z; z++) {
                check_prec(vn, c + z * sC, C + z * sC, (size_t)M * N, (lis_precision)prec, 1e-5 * sqrt((double)K), 1e-5);
                for (int64_t i = (int64_t)M * N; i < sC; i++) touched += !isnan(c[z * sC + i]);
            }
            lis_check(touched == 0, "%s: %zu elements written between the matrices", vn, touched);
            free(c);
        }
        lis_dev_free(dC);
    }
    lis_dev_free(dA); lis_dev_free(dB);
    free(A); free(B); free(C); free(rows);
}

/* lis_gemm16_cuda_batched: 16-bit operands in padded layouts (lda = K + 8, ldb = N rounded up
 * to 8, + 8). A's padding is NaN and must not be read; B's columns from N to the next multiple
 * of 8 are read but may only reach columns of C that are not stored (NaN there too) */
static void gemm16_case(int Z, int M, int N, int K) {
    char name[128];
    snprintf(name, sizeof name, "gemm16_batched(z=%d,m=%d,n=%d,k=%d)", Z, M, N, K);
    if (!want("gemm", name)) return;
    const int64_t lda = K + 8, ldb = (N + 7) / 8 * 8 + 8, ldc = N + 3;
    const int64_t sA = M * lda, sB = K * ldb, sC = M * ldc;
    float *A = malloc(sizeof(float) * (size_t)(Z * sA)), *B = malloc(sizeof(float) * (size_t)(Z * sB));
    float *C = malloc(sizeof(float) * (size_t)(Z * sC));
    const float **rows = malloc(sizeof(float *) * (size_t)K);
    float *Ad = malloc(sizeof(float) * (size_t)M * K), *Bd = malloc(sizeof(float) * (size_t)K * N);
    LIS_ASSERT(A && B && C && rows && Ad && Bd);
    for (int64_t i = 0; i < Z * sA; i++) A[i] = (i % lda) < K ? frand(&g_seed) : NAN;
    for (int64_t i = 0; i < Z * sB; i++) B[i] = (i % ldb) < N ? frand(&g_seed) / sqrtf((float)K) : NAN;
    for (int z = 0; z < Z; z++) { /* the reference on dense copies */
        for (int m = 0; m < M; m++) memcpy(Ad + (size_t)m * K, A + z * sA + m * lda, sizeof(float) * (size_t)K);
        for (int k = 0; k < K; k++) memcpy(Bd + (size_t)k * N, B + z * sB + k * ldb, sizeof(float) * (size_t)N);
        lis_gemm_rows_from_matrix(Bd, K, N, rows);
        lis_gemm_ref(M, N, K, Ad, K, rows, C + z * sC, (int)ldc, 0);
    }
    float *dA = up(A, sizeof(float) * (size_t)(Z * sA)), *dB = up(B, sizeof(float) * (size_t)(Z * sB));
    void *a16 = lis_dev_alloc((size_t)(Z * sA) * 2 + 64, "a16"), *b16 = lis_dev_alloc((size_t)(Z * sB) * 2 + 64, "b16");
    LIS_ASSERT(a16 && b16);
    for (int prec = LIS_PREC_BF16; prec <= LIS_PREC_FP16; prec++) {
        char vn[192];
        snprintf(vn, sizeof vn, "gemm16 %s [%s]", name, lis_precision_name((lis_precision)prec));
        LIS_ASSERT(lis_cuda_convert_f32(dA, a16, (size_t)(Z * sA), (lis_precision)prec, g_s) == LIS_OK);
        LIS_ASSERT(lis_cuda_convert_f32(dB, b16, (size_t)(Z * sB), (lis_precision)prec, g_s) == LIS_OK);
        float *dC = dpoison((size_t)(Z * sC));
        if (ran(lis_gemm16_cuda_batched(Z, M, N, K, a16, lda, sA, b16, ldb, sB, dC, ldc, sC, (lis_precision)prec, g_s),
                vn)) {
            float *c = down(dC, (size_t)(Z * sC)), *got = malloc(sizeof(float) * (size_t)M * N),
                  *ref = malloc(sizeof(float) * (size_t)M * N);
            LIS_ASSERT(got && ref);
            size_t touched = 0;
            for (int z = 0; z < Z; z++) {
                for (int m = 0; m < M; m++) {
                    memcpy(got + (size_t)m * N, c + z * sC + m * ldc, sizeof(float) * (size_t)N);
                    memcpy(ref + (size_t)m * N, C + z * sC + m * ldc, sizeof(float) * (size_t)N);
                    for (int64_t j = N; j < ldc; j++) touched += !isnan(c[z * sC + m * ldc + j]);
                }
                check_prec(vn, got, ref, (size_t)M * N, (lis_precision)prec, 0, 0);
            }
            lis_check(touched == 0, "%s: %zu elements written past N", vn, touched);
            free(c); free(got); free(ref);
        }
        lis_dev_free(dC);
    }
    /* the contract: a depth that is not a multiple of 8 is refused, not computed wrong */
    LIS_ASSERT(lis_gemm16_cuda_batched(Z, M, N, K + 1, a16, lda, sA, b16, ldb, sB, dA, ldc, sC, LIS_PREC_BF16, g_s) != LIS_OK);
    lis_dev_free(a16); lis_dev_free(b16); lis_dev_free(dA); lis_dev_free(dB);
    free(A); free(B); free(C); free(rows); free(Ad); free(Bd);
}

static void test_gemm(void) {
    gemm16_case(1, 1, 1, 8);
    gemm16_case(3, 130, 77, 40);
    gemm16_case(2, 64, 256, 512);
    gemm_batched_case(3, 64, 96, 40, 0);
    gemm_batched_case(4, 130, 129, 77, 3); /* scalar paths, tails in every dimension */
    gemm_batched_case(16, 33, 260, 64, 4);
    gemm_case(1, 1, 1);
    gemm_case(5, 7, 3);
    gemm_case(64, 96, 40);
    gemm_case(130, 129, 77);
    if (g_quick) return;
    gemm_case(256, 300, 1024);
    gemm_case(256, 500, 2048);
}

/* ---------------------------------------------------------------- modulated conv */

/* wino4: the shipped float32 variant takes Winograd F(4x4) on this case (lis_wino_cuda_wanted),
 * so it is held to the F(4x4) bound of the explicit "wino4" variant: F(4x4)'s float32 rounding
 * is 5-22x F(2x2)'s (test_cuda_emu_winograd), and the H100 check of 2026-11-27 (run 14) saw 3
 * of 1.1M outputs at 1.2x the direct kernels' bound */
static void modconv_case(int B, int I, int O, int H, int k, int demod, int bsn, int wino4) {
    lis_modconv_params p = {demod, k - 1, bsn};
    char name[160];
    snprintf(name, sizeof name, "modconv(b=%d,i=%d,o=%d,h=%d,k=%d,demod=%d,batch_norm=%d)", B, I, O, H, k, demod, bsn);
    if (!want("modconv", name)) return;
    const int Ho = H + 2 * p.padding - k + 1;
    size_t nx = (size_t)B * I * H * H, nw = (size_t)O * I * k * k, ny = (size_t)B * O * Ho * Ho;
    float *x = rnd(nx, 2.0f), *w = rnd(nw, 1.0f), *s = rnd((size_t)B * I, 1.0f), *yr = malloc(ny * 4);
    for (int i = 0; i < B * I; i++) s[i] += 1.0f; /* styles ~ 1 + O(1), as trained affines give */
    const float gain = 0.7f;
    lis_modconv_ref(&p, x, w, s, gain, yr, B, I, O, H, H, k);
    lis_modconv_cuda_weights mw;
    if (!ran(lis_modconv_cuda_prepare(&mw, w, O, I, k, demod, g_s), name)) return;
    float *dx = up(x, nx * 4), *ds = up(s, (size_t)B * I * 4);
    float *ws = lis_dev_alloc(lis_modconv_cuda_workspace(&mw, B, 1) * 4, "ws");
    const double tol = (I * k * k > 1000 ? 1e-5 : 2e-6) * fmax(1.0, max_abs(yr, ny));
    const lis_modconv_cuda_variant *v;
    int nv = lis_modconv_cuda_variants(&v);
    for (int i = 0; i < nv; i++) {
        char vn[256];
        snprintf(vn, sizeof vn, "modconv_%s %s", v[i].name, name);
        float *dy = dpoison(ny);
        if (ran(v[i].fn(&mw, &p, dx, ds, gain, B, H, H, dy, ws, g_s), vn)) {
            float *y = down(dy, ny);
            const int f4 = !strncmp(v[i].name, "wino4", 5) || (wino4 && !strcmp(v[i].name, "fp32"));
            check_prec(vn, y, yr, ny, v[i].prec, f4 ? 20.0 * tol : tol, 0);
            free(y);
        }
        lis_dev_free(dy);
    }
    lis_modconv_cuda_weights_free(&mw);
    lis_dev_free(dx); lis_dev_free(ds); lis_dev_free(ws);
    free(x); free(w); free(s); free(yr);
}

static void test_modconv(void) {
    modconv_case(2, 5, 7, 9, 3, 1, 0, 0);
    modconv_case(3, 16, 33, 12, 3, 1, 0, 0);
    modconv_case(3, 16, 33, 12, 3, 1, 1, 0);
    modconv_case(2, 8, 3, 16, 1, 0, 0, 0); /* ToRGB: 1x1, no demodulation */
    if (g_quick) return;
    modconv_case(2, 128, 130, 20, 3, 1, 0, 0);
    modconv_case(1, 256, 96, 36, 3, 1, 0, 0);
    /* big enough for lis_wino_cuda_wanted: the shipped variants ("fp32", "tf32", "bf16", "fp16")
     * take Winograd here (F(4x4) in float32, with its bound; F(2x2) on the mma kernels, whose
     * bounds are their precision's) */
    modconv_case(2, 128, 128, 64, 3, 1, 0, 1);
}

/* ---------------------------------------------------------------- filtered lrelu */

static void flrelu_case(const char *what, int N, int C, int H, int W, int up_, int down_, int tu, int td, int x0, int x1,
                        int y0, int y1, float clampv, int strided) {
    char name[256];
    snprintf(name, sizeof name, "filtered_lrelu(%s,up=%d,down=%d,taps=%d/%d,pad=%d/%d/%d/%d,n=%d,c=%d,h=%d,w=%d%s)", what,
             up_, down_, tu, td, x0, x1, y0, y1, N, C, H, W, strided ? ",strided+xscale" : "");
    if (!want("filtered_lrelu", name)) return;
    float *fu = tu > 1 ? rnd((size_t)tu, 0.5f) : NULL, *fd = td > 1 ? rnd((size_t)td, 0.5f) : NULL;
    for (int t = 0; fu && t < tu; t++) fu[t] += 0.5f / (float)tu;
    lis_flrelu_params p = {fu, tu, fd, td, up_, down_, {x0, x1, y0, y1}, tu > 1 ? 1.41421356f : 1.0f,
                           tu > 1 ? 0.2f : 1.0f, clampv};
    int Ho, Wo;
    lis_flrelu_out_shape(&p, H, W, &Ho, &Wo);
    const int Wp = strided ? W + 3 : W; /* row stride of the input */
    size_t nx = (size_t)N * C * H * Wp, ny = (size_t)N * C * Ho * Wo;
    float *x = rnd(nx, 3.0f), *b = rnd((size_t)C, 0.3f), *xs = strided ? rnd((size_t)N * C, 1.0f) : NULL;
    float *yr = malloc(ny * 4);
    if (!strided) {
        lis_flrelu_ref(&p, x, b, yr, N, C, H, W);
    } else { /* the reference takes contiguous, unscaled input: build it, or use the CPU fast path */
        float *xc = malloc((size_t)N * C * H * W * 4);
        for (int pl = 0; pl < N * C; pl++)
            for (int r = 0; r < H; r++)
                for (int c = 0; c < W; c++)
                    xc[((size_t)pl * H + r) * W + c] = x[((size_t)pl * H + r) * Wp + c] * xs[pl];
        lis_flrelu_ref(&p, xc, b, yr, N, C, H, W);
        free(xc);
    }
    float *dx = up(x, nx * 4), *db = up(b, (size_t)C * 4), *dxs = xs ? up(xs, (size_t)N * C * 4) : NULL;
    const double tol = 1e-5 * fmax(1.0, max_abs(yr, ny));
    const lis_flrelu_cuda_variant *v;
    int nv = lis_flrelu_cuda_variants(&v);
    for (int i = 0; i < nv; i++) {
        char vn[320];
        snprintf(vn, sizeof vn, "filtered_lrelu_%s %s", v[i].name, name);
        float *dy = dpoison(ny);
        if (ran(v[i].fn(&p, dx, Wp, (int64_t)H * Wp, dxs, db, dy, N, C, H, W, g_s), vn)) {
            float *y = down(dy, ny);
            /* a strided input scaled in the kernel rounds x*s + b in one step more or less: 1e-5 relative */
            lis_check_close(vn, y, yr, (int64_t)ny, tol, strided ? 1e-5 : 0);
            free(y);
        }
        lis_dev_free(dy);
    }
    lis_dev_free(dx); lis_dev_free(db); lis_dev_free(dxs);
    free(fu); free(fd); free(x); free(b); free(xs); free(yr);
}

static void test_flrelu(void) {
    flrelu_case("L1", 2, 3, 38, 38, 2, 2, 12, 12, 9, 8, 9, 8, 256.0f, 0);
    flrelu_case("L10", 1, 2, 38, 38, 4, 2, 24, 12, -6, -9, -6, -9, 256.0f, 0);
    flrelu_case("L30", 1, 2, 40, 40, 2, 2, 12, 12, -11, -12, -11, -12, 256.0f, 0);
    flrelu_case("ToRGB", 2, 3, 17, 17, 1, 1, 1, 1, 0, 0, 0, 0, 256.0f, 0);
    flrelu_case("clamp", 1, 2, 21, 21, 2, 2, 12, 12, 9, 8, 9, 8, 0.5f, 0);
    flrelu_case("odd", 1, 2, 21, 17, 4, 2, 24, 12, -6, -9, -6, -9, -1.0f, 0);
    flrelu_case("L1", 2, 3, 14, 13, 2, 2, 12, 12, 9, 8, 9, 8, 256.0f, 1);
    if (g_quick) return;
    flrelu_case("L26", 1, 2, 278, 278, 2, 2, 12, 12, 9, 8, 9, 8, 256.0f, 0);   /* > 48 KB of shared memory */
    flrelu_case("L25", 1, 2, 150, 150, 4, 2, 24, 12, -6, -9, -6, -9, 256.0f, 0);
    flrelu_case("L30", 1, 1, 278, 278, 2, 2, 12, 12, -11, -12, -11, -12, 256.0f, 1);
}

/* ---------------------------------------------------------------- bias_act, fc, linear */

static void test_bias_act(void) {
    const lis_bias_act_params ps[3] = {{1, 0.2f, 1.41421356f, -1.0f}, {1, 0.2f, 1.41421356f, 0.5f}, {0, 0.0f, 0.25f, -1.0f}};
    const int64_t shapes[3][3] = {{2, 3, 1}, {3, 5, 37}, {2, 64, 1300}};
    for (int k = 0; k < 3; k++)
        for (int sh = 0; sh < 3; sh++) {
            const int64_t N = shapes[sh][0], C = shapes[sh][1], inner = shapes[sh][2], n = N * C * inner;
            char name[160];
            snprintf(name, sizeof name, "bias_act(lrelu=%d,clamp=%g,n=%lld,c=%lld,inner=%lld)", ps[k].lrelu, ps[k].clamp,
                     (long long)N, (long long)C, (long long)inner);
            if (!want("bias_act", name)) continue;
            float *x = rnd((size_t)n, 2.0f), *b = rnd((size_t)C, 1.0f), *yr = malloc((size_t)n * 4);
            lis_bias_act_ref(&ps[k], x, b, yr, N, C, inner);
            float *dx = up(x, (size_t)n * 4), *db = up(b, (size_t)C * 4);
            const lis_bias_act_cuda_variant *v;
            int nv = lis_bias_act_cuda_variants(&v);
            for (int i = 0; i < nv; i++) {
                char vn[256];
                snprintf(vn, sizeof vn, "bias_act_%s %s", v[i].name, name);
                float *dy = dpoison((size_t)n);
                if (ran(v[i].fn(&ps[k], dx, db, dy, N, C, inner, g_s), vn)) {
                    float *y = down(dy, (size_t)n);
                    lis_check_close(vn, y, yr, n, 0, 0); /* the same float operations: exact */
                    free(y);
                }
                lis_dev_free(dy);
            }
            lis_dev_free(dx); lis_dev_free(db);
            free(x); free(b); free(yr);
        }
}

static void test_fc(void) {
    const int cases[][4] = {{512, 1024, 1, 0}, {512, 4, 3, 0}, {128, 512, 5, 1}, {320, 64, 2, 1}};
    for (int k = 0; k < 4; k++) {
        const int in = cases[k][0], out = cases[k][1], B = cases[k][2], lrelu = cases[k][3];
        char name[128];
        snprintf(name, sizeof name, "fc(in=%d,out=%d,b=%d,lrelu=%d)", in, out, B, lrelu);
        if (!want("fc", name)) continue;
        float *w = rnd((size_t)in * out, 1.0f), *bias = rnd((size_t)out, 1.0f);
        lis_fc fc;
        LIS_ASSERT(lis_fc_prepare(&fc, w, bias, in, out, lrelu ? 0.01 : 1.0, lrelu) == LIS_OK);
        const int64_t ldx = in + 7; /* rows read out of a wider tensor, as from ws */
        float *x = rnd((size_t)B * ldx, 1.0f), *xc = malloc((size_t)B * in * 4), *yr = malloc((size_t)B * out * 4);
        for (int b = 0; b < B; b++) memcpy(xc + (size_t)b * in, x + (size_t)b * ldx, (size_t)in * 4);
        lis_fc_ref(&fc, xc, yr, B);
        lis_fc_dev d;
        if (!ran(lis_fc_cuda_upload(&d, &fc), name)) continue;
        float *dx = up(x, (size_t)B * ldx * 4);
        const lis_fc_cuda_variant *v;
        int nv = lis_fc_cuda_variants(&v);
        for (int i = 0; i < nv; i++) {
            char vn[192];
            snprintf(vn, sizeof vn, "fc_%s %s", v[i].name, name);
            float *dy = dpoison((size_t)B * out);
            if (ran(v[i].fn(&d, dx, ldx, dy, B, g_s), vn)) {
                float *y = down(dy, (size_t)B * out);
                lis_check_close(vn, y, yr, (int64_t)B * out, 2e-6 * fmax(1.0, max_abs(yr, (size_t)B * out)), 0);
                free(y);
            }
            lis_dev_free(dy);
        }
        lis_fc_cuda_free(&d);
        lis_fc_free(&fc);
        lis_dev_free(dx);
        free(w); free(bias); free(x); free(xc); free(yr);
    }
}

static void test_linear(void) {
    const int lin[][3] = {{1, 2048, 1000}, {5, 13, 7}, {9, 256, 100}, {33, 100, 33}};
    for (int k = 0; k < 4; k++) {
        const int N = lin[k][0], IN = lin[k][1], OUT = lin[k][2];
        char name[96];
        snprintf(name, sizeof name, "linear(n=%d,in=%d,out=%d)", N, IN, OUT);
        if (!want("linear", name)) continue;
        float *x = rnd((size_t)N * IN, 1.0f), *w = rnd((size_t)OUT * IN, 1.0f / sqrtf((float)IN));
        float *b = rnd((size_t)OUT, 0.1f), *yr = malloc((size_t)N * OUT * 4);
        lis_linear_ref(N, IN, OUT, x, w, b, yr);
        float *dx = up(x, (size_t)N * IN * 4), *dw = up(w, (size_t)OUT * IN * 4), *db = up(b, (size_t)OUT * 4);
        const lis_linear_cuda_variant *v;
        int nv = lis_linear_cuda_variants(&v);
        for (int i = 0; i < nv; i++) {
            char vn[160];
            snprintf(vn, sizeof vn, "linear_%s %s", v[i].name, name);
            float *dy = dpoison((size_t)N * OUT);
            if (ran(v[i].fn(N, IN, OUT, dx, dw, db, dy, g_s), vn)) {
                float *y = down(dy, (size_t)N * OUT);
                lis_check_close(vn, y, yr, (int64_t)N * OUT, 1e-5, 1e-5);
                free(y);
            }
            lis_dev_free(dy);
        }
        lis_dev_free(dx); lis_dev_free(dw); lis_dev_free(db);
        free(x); free(w); free(b); free(yr);
    }
}

/* ---------------------------------------------------------------- synthesis input */

static void synth_input_case(int C, int B, int transform) {
    char name[128];
    snprintf(name, sizeof name, "synth_input(c=%d,s=36,b=%d,transform=%d)", C, B, transform);
    if (!want("synth_input", name)) return;
    const int S = 36, w_dim = 64;
    float *weight = rnd((size_t)C * C, 1.0f), *aw = rnd((size_t)4 * w_dim, 0.1f), *ab = rnd(4, 0.1f);
    ab[0] += 1.0f; /* as trained: t ~ [1, 0, 0, 0] + small */
    float tr[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    if (transform) { /* rotation by 0.3 rad and a translation (large sin arguments) */
        tr[0] = cosf(0.3f); tr[1] = -sinf(0.3f); tr[2] = 3.5f;
        tr[3] = sinf(0.3f); tr[4] = cosf(0.3f); tr[5] = -2.25f;
    }
    float *freqs = malloc((size_t)C * 2 * 4), *phases = rnd((size_t)C, 0.5f);
    for (int c = 0; c < C; c++) { /* inside the disc of radius bandwidth = 2 */
        float r = 2.0f * fabsf(frand(&g_seed)), a = 3.14159265f * frand(&g_seed);
        freqs[2 * c] = r * cosf(a);
        freqs[2 * c + 1] = r * sinf(a);
    }
    lis_synth_input si;
    LIS_ASSERT(lis_synth_input_prepare(&si, C, S, 16.0, 2.0, w_dim, weight, aw, ab, tr, freqs, phases) == LIS_OK);
    float *w = rnd((size_t)B * w_dim, 1.0f), *yr = malloc((size_t)B * C * S * S * 4);
    lis_synth_input_ref(&si, w, yr, NULL, B);
    lis_synth_input_dev d;
    if (ran(lis_synth_input_cuda_upload(&d, &si), name)) {
        float *dw = up(w, (size_t)B * w_dim * 4);
        float *ws = lis_dev_alloc(lis_synth_input_cuda_workspace(&d, B) * 4, "ws");
        const size_t ny = (size_t)B * C * S * S;
        for (int prec = 0; prec < LIS_PREC_COUNT; prec++) {
            char vn[192];
            snprintf(vn, sizeof vn, "synth_input_cuda %s", name);
            float *dy = dpoison(ny);
            if (ran(lis_synth_input_cuda(&d, dw, w_dim, dy, NULL, B, ws, (lis_precision)prec, g_s), vn)) {
                float *y = down(dy, ny);
                check_prec(vn, y, yr, ny, (lis_precision)prec, 5e-5, 0);
                free(y);
            }
            lis_dev_free(dy);
        }
        lis_dev_free(dw); lis_dev_free(ws);
        lis_synth_input_cuda_free(&d);
    }
    lis_synth_input_free(&si);
    free(weight); free(aw); free(ab); free(freqs); free(phases); free(w); free(yr);
}

static void test_synth_input(void) {
    synth_input_case(32, 2, 0);
    synth_input_case(32, 1, 1);
    if (!g_quick) synth_input_case(256, 3, 1);
}

/* ---------------------------------------------------------------- pools */

static void test_pools(void) {
    int mp[][6] = {{2, 3, 9, 11, 0, 0}, {1, 4, 112, 112, 1, 0}, {1, 2, 2, 3, 1, 0}, {1, 2, 7, 6, 0, 1}};
    for (size_t i = 0; i < sizeof mp / sizeof *mp; i++) {
        lis_maxpool_params p = {mp[i][0], mp[i][1], mp[i][2], mp[i][3], 3, 2, 1, mp[i][4]};
        if (mp[i][5]) { p.k = 2; p.stride = 2; p.pad = 0; }
        char name[128];
        snprintf(name, sizeof name, "maxpool(n=%d,c=%d,h=%d,w=%d,k=%d,s=%d,p=%d,relu=%d)", p.N, p.C, p.H, p.W, p.k,
                 p.stride, p.pad, p.relu);
        if (!want("maxpool", name)) continue;
        int Ho, Wo;
        lis_maxpool_out_shape(&p, &Ho, &Wo);
        size_t nx = (size_t)p.N * p.C * p.H * p.W, ny = (size_t)p.N * p.C * Ho * Wo;
        float *x = rnd(nx, 1.0f), *yr = malloc(ny * 4);
        lis_maxpool_ref(&p, x, yr);
        float *dx = up(x, nx * 4), *dy = dpoison(ny);
        if (ran(lis_maxpool_cuda(&p, dx, dy, g_s), name)) {
            float *y = down(dy, ny);
            lis_check_close(name, y, yr, (int64_t)ny, 0, 0);
            free(y);
        }
        lis_dev_free(dx); lis_dev_free(dy);
        free(x); free(yr);
    }
    const int ap[][4] = {{3, 300, 7, 7}, {2, 5, 1, 1}, {1, 7, 13, 11}};
    for (int i = 0; i < 3; i++) {
        const int N = ap[i][0], C = ap[i][1], H = ap[i][2], W = ap[i][3];
        char name[96];
        snprintf(name, sizeof name, "avgpool_global(n=%d,c=%d,h=%d,w=%d)", N, C, H, W);
        if (!want("avgpool", name)) continue;
        float *x = rnd((size_t)N * C * H * W, 1.0f), *yr = malloc((size_t)N * C * 4);
        lis_avgpool_global_ref(N, C, H, W, x, yr);
        float *dx = up(x, (size_t)N * C * H * W * 4), *dy = dpoison((size_t)N * C);
        if (ran(lis_avgpool_global_cuda(N, C, H, W, dx, dy, g_s), name)) {
            float *y = down(dy, (size_t)N * C);
            lis_check_close(name, y, yr, (int64_t)N * C, 0, 0); /* same summation order: exact */
            free(y);
        }
        lis_dev_free(dx); lis_dev_free(dy);
        free(x); free(yr);
    }
}

/* ---------------------------------------------------------------- preprocessing, uint8 */

static void preprocess_case(int n, int h, int w, int resize, int crop) {
    char name[128];
    snprintf(name, sizeof name, "preprocess(n=%d,h=%d,w=%d,resize=%d,crop=%d)", n, h, w, resize, crop);
    if (!want("preprocess", name)) return;
    lis_preprocess_cfg cfg;
    lis_preprocess_cfg_default(&cfg);
    cfg.resize = resize;
    cfg.crop_h = cfg.crop_w = crop;
    lis_preprocess_plan pl;
    if (!lis_check_ok(lis_preprocess_plan_init(&pl, &cfg, h, w), name)) return;
    const size_t nin = (size_t)n * h * w * 3, nout = (size_t)n * 3 * crop * crop;
    uint8_t *img = malloc(nin);
    for (size_t i = 0; i < nin; i++) img[i] = (uint8_t)(frand(&g_seed) * 128.0f + 128.0f);
    float *yr = malloc(nout * 4);
    lis_preprocess_run(&pl, n, img, yr);
    lis_preprocess_dev d;
    if (ran(lis_preprocess_cuda_upload(&d, &pl), name)) {
        uint8_t *dimg = up(img, nin);
        void *ws = lis_dev_alloc(lis_preprocess_cuda_workspace(&d, n), "ws");
        float *dy = dpoison(nout);
        if (ran(lis_preprocess_cuda(&d, n, dimg, dy, ws, g_s), name)) {
            float *y = down(dy, nout);
            lis_check_close(name, y, yr, (int64_t)nout, 0, 0); /* integer resampling + table: bit-exact */
            free(y);
        }
        lis_dev_free(dimg); lis_dev_free(ws); lis_dev_free(dy);
        lis_preprocess_cuda_free(&d);
    }
    lis_preprocess_plan_free(&pl);
    free(img); free(yr);
}

static void test_preprocess(void) {
    preprocess_case(2, 256, 256, 256, 224); /* generator output: no resize, crop only */
    preprocess_case(1, 300, 200, 256, 224); /* downscale + upscale axes */
    preprocess_case(2, 128, 128, 256, 224); /* upscale */
    preprocess_case(1, 240, 250, 200, 224); /* downscale both axes, crop larger than one side */
    preprocess_case(1, 64, 64, 0, 96);      /* crop larger than the image: zero padding */
    if (!g_quick) preprocess_case(1, 512, 384, 256, 224);
    const char *name = "to_u8(n=2,c=3,h=19,w=23)";
    if (!want("to_u8", name)) return;
    const int N = 2, C = 3, H = 19, W = 23;
    const size_t n = (size_t)N * C * H * W;
    float *img = rnd(n, 1.3f); /* beyond [-1, 1]: both clamps */
    img[0] = -1.0f; img[1] = 1.0f; img[2] = 0.0f; img[3] = -0.99607843f;
    uint8_t *ref = malloc(n), *got = malloc(n);
    for (int b = 0; b < N; b++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < H * W; p++) {
                float v = (img[((size_t)b * C + c) * H * W + p] + 1.0f) * 127.5f;
                v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
                ref[((size_t)b * H * W + p) * C + c] = (uint8_t)v;
            }
    float *dimg = up(img, n * 4);
    uint8_t *du8 = lis_dev_alloc(n, "u8"), *got2 = malloc(n);
    /* run under two poisons: a byte the kernel does not write keeps its poison, which may equal
     * the reference once, not twice */
    LIS_ASSERT(du8 && got2 && lis_dev_memset(du8, 0x5a, n, g_s) == LIS_OK);
    if (ran(lis_to_u8_cuda(dimg, N, C, H, W, du8, g_s), name)) {
        LIS_ASSERT(lis_dev_d2h(got, du8, n, g_s) == LIS_OK);
        lis_check_u8(name, got, ref, (int64_t)n, 0, 0);
        LIS_ASSERT(lis_dev_memset(du8, 0xa5, n, g_s) == LIS_OK);
        if (ran(lis_to_u8_cuda(dimg, N, C, H, W, du8, g_s), name)) {
            LIS_ASSERT(lis_dev_d2h(got2, du8, n, g_s) == LIS_OK);
            lis_check_u8("to_u8 writes every byte (second poison)", got2, got, (int64_t)n, 0, 0);
        }
    }
    lis_dev_free(dimg); lis_dev_free(du8);
    free(img); free(ref); free(got); free(got2);
}

/* ---------------------------------------------------------------- segmentation head */

/* The FewShotCNN head's input path: nearest-neighbour concatenation of generator taps and
 * the first 3x3 conv taken map by map (tapconv), vs the CPU references; the shapes of
 * test_fewshot's tapconv cases (cropped windows, odd sizes, dilation, a 1x1 map). */
static void test_nearest_concat(void) {
    static const struct { int n, out, K, dil; int C[4], size[4], off[4], len[4]; } cases[] = {
        {3, 16, 8, 1, {3, 2, 5}, {24, 40, 12}, {4, 4, 0}, {16, 32, 12}},
        {2, 13, 6, 2, {4, 1}, {7, 30}, {0, 0}, {7, 30}},
        {2, 8, 7, 1, {1, 3}, {1, 8}, {0, 0}, {1, 8}},
        {1, 5, 3, 4, {2}, {5}, {0}, {5}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        lis_nc_params p = {.n_maps = cases[c].n, .out = cases[c].out, .K = cases[c].K, .dil = cases[c].dil,
                           .act = LIS_ACT_LRELU, .slope = 0.2f};
        char name[160];
        snprintf(name, sizeof name, "nearest_concat(maps=%d,out=%d,K=%d,dil=%d)", p.n_maps, p.out, p.K, p.dil);
        if (!want("nearest_concat", name)) continue;
        float *maps[4], *dmaps[4];
        int in_ch = 0;
        for (int m = 0; m < p.n_maps; m++) {
            p.C[m] = cases[c].C[m]; p.size[m] = cases[c].size[m]; p.off[m] = cases[c].off[m]; p.len[m] = cases[c].len[m];
            in_ch += p.C[m];
            const size_t nm = (size_t)p.C[m] * p.size[m] * p.size[m];
            maps[m] = rnd(nm, 1.0f);
            dmaps[m] = up(maps[m], nm * 4);
        }
        const size_t nx = (size_t)in_ch * p.out * p.out, ny = (size_t)p.K * p.out * p.out, nw = (size_t)p.K * in_ch * 9;
        float *xref = malloc(nx * 4), *yref = malloc(ny * 4), *w = rnd(nw, 0.3f), *b = rnd((size_t)p.K, 0.1f);
        float *A = malloc(nw * 4);
        lis_nearest_concat_ref(&p, (const float *const *)maps, xref);
        LIS_ASSERT(lis_tapconv_ref(&p, (const float *const *)maps, w, b, yref) == LIS_OK);
        lis_tapconv_arrange_weights(&p, w, A);
        float *dx = dpoison(nx), *dy = dpoison(ny), *dA = up(A, nw * 4), *db = up(b, (size_t)p.K * 4);
        float *ws = dpoison(lis_tapconv_cuda_workspace_floats(&p));
        if (ran(lis_nearest_concat_cuda(&p, (const float *const *)dmaps, dx, g_s), name)) {
            float *got = down(dx, nx);
            lis_check_close(name, got, xref, (int64_t)nx, 0, 0); /* a gather: exact */
            free(got);
        }
        snprintf(name, sizeof name, "tapconv(maps=%d,out=%d,K=%d,dil=%d)", p.n_maps, p.out, p.K, p.dil);
        if (ran(lis_tapconv_cuda(&p, (const float *const *)dmaps, dA, db, dy, ws, g_s), name)) {
            float *got = down(dy, ny);
            lis_check_close(name, got, yref, (int64_t)ny, 1e-5 * fmax(1.0, max_abs(yref, ny)), 1e-5);
            free(got);
        }
        for (int m = 0; m < p.n_maps; m++) { lis_dev_free(dmaps[m]); free(maps[m]); }
        lis_dev_free(dx); lis_dev_free(dy); lis_dev_free(dA); lis_dev_free(db); lis_dev_free(ws);
        free(xref); free(yref); free(w); free(b); free(A);
    }
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    /* the shipped paths unless a case switches an experiment on itself */
    unsetenv("LIS_NHWC_CONV_A_L1");
    unsetenv("LIS_NHWC_CONV_DEEP");
    unsetenv("LIS_NHWC_CONV_WARPS");
    unsetenv("LIS_NHWC_CONV_TAPS_INNER");
    unsetenv("LIS_NHWC_CONV_B_L1");
    unsetenv("LIS_NHWC_CONV_BN");
    const char *env = getenv("LIS_TEST_SEED");
    g_seed = env && *env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--op") && i + 1 < argc) g_op = argv[++i];
        else if (!strcmp(argv[i], "--params") && i + 1 < argc) g_params = argv[++i];
        else if (!strcmp(argv[i], "--quick")) g_quick = 1;
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) g_seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else { fprintf(stderr, "usage: %s [--op NAME] [--params SUBSTR] [--quick] [--seed N]\n", argv[0]); return 2; }
    }
    if (lis_test_quick()) g_quick = 1;
    char dev[512];
    if (lis_cuda_device_count() == 0) {
        printf("SKIP cuda: no device (%s)\n", lis_cuda_describe(dev, sizeof dev));
        return 77;
    }
    printf("     device: %s\n     seed: %u (rerun with --seed %u)%s\n", lis_cuda_describe(dev, sizeof dev), g_seed, g_seed,
           g_quick ? ", quick" : "");
    if (!lis_check_ok(lis_cuda_select(0), "select device 0") || !lis_check_ok(lis_stream_create(&g_s), "stream"))
        return lis_test_finish();
    double t0 = lis_now();
    test_conv();
    test_nhwc();
    test_gemm();
    test_modconv();
    test_flrelu();
    test_bias_act();
    test_fc();
    test_linear();
    test_synth_input();
    test_pools();
    test_preprocess();
    test_nearest_concat();
    /* a filter that matches nothing must not pass */
    lis_check(g_cases > 0, "%d case(s) matched --op '%s' --params '%s'", g_cases, g_op, g_params);
    lis_check_ok(lis_dev_sync(), "device idle at the end (no pending fault)");
    printf("     %.1f s\n", lis_now() - t0);
    lis_stream_destroy(g_s);
    return lis_test_finish();
}
