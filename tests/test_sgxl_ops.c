/* test_sgxl_ops.c — every StyleGAN-XL inference op against ../shared/refs/sgxl_ops
 * (the original code's CPU reference ops), both the _ref and the fast _cpu variants,
 * plus _cpu vs _ref on edge shapes not in the bundle.
 *
 * Tolerance (bundle README): max|d| <= 2e-6 * max(1, max|y|) per op (clamped values are
 * exactly +-256 in both); SynthesisInput within 5e-5 (sin of large arguments); mapping
 * within 1e-5 (|w| ~ 1, tiny bundle weights).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bias_act.h"
#include "kernels/filtered_lrelu.h"
#include "kernels/modconv.h"
#include "kernels/synth_input.h"
#include "kernels/upfirdn2d.h"
#include "nets/stylegan_xl.h"
#include "runtime/threads.h"
#include "tests/harness.h"

static lis_safetensors io;
static lis_json *cases;

static const lis_json *case_of(const char *name) { return lis_test_case(cases, name); }

static const float *T(const char *c, const char *t, const lis_st_entry **e) { return lis_test_f32(&io, c, t, e); }

static double tol_op(const float *y, int64_t n) {
    double m = lis_max_abs(y, n);
    return 2e-6 * (m > 1 ? m : 1);
}

static void pad4(const lis_json *c, int pad[4]) {
    const lis_json *p = lis_json_get(c, "padding");
    for (int i = 0; i < 4; i++) pad[i] = (int)p->items[i]->num;
}

static void test_bias_act(void) {
    const char *names[] = {"biasact_lrelu_fc", "biasact_lrelu_clamp", "biasact_linear"};
    for (int k = 0; k < 3; k++) {
        const lis_json *c = case_of(names[k]);
        const lis_st_entry *ex;
        const float *x = T(names[k], "x", &ex), *b = T(names[k], "b", NULL), *yr = T(names[k], "y", NULL);
        const lis_json *cl = lis_json_get(c, "clamp");
        lis_bias_act_params p = {strcmp(lis_json_get(c, "act")->str, "lrelu") == 0, (float)lis_json_get(c, "alpha")->num,
                                 (float)lis_json_get(c, "gain")->num, cl && cl->type == LIS_JSON_NUM ? (float)cl->num : -1.0f};
        int64_t N = ex->t.shape[0], C = ex->t.shape[1], inner = lis_tensor_numel(&ex->t) / (N * C), n = N * C * inner;
        float *y = malloc(sizeof(float) * (size_t)n);
        char nm[160];
        lis_bias_act_ref(&p, x, b, y, N, C, inner);
        snprintf(nm, sizeof nm, "bias_act_ref(%s)", names[k]);
        lis_check_close(nm, y, yr, n, tol_op(yr, n), 0);
        lis_bias_act_cpu(&p, x, b, y, N, C, inner);
        snprintf(nm, sizeof nm, "bias_act_cpu(%s)", names[k]);
        lis_check_close(nm, y, yr, n, tol_op(yr, n), 0);
        free(y);
    }
}

static void test_upfirdn(void) {
    const char *names[] = {"upfirdn_up2", "upfirdn_down2", "upfirdn_mixedpad", "upfirdn_radial2d"};
    for (int k = 0; k < 4; k++) {
        const lis_json *c = case_of(names[k]);
        const lis_st_entry *ex, *ef, *ey;
        const float *x = T(names[k], "x", &ex), *f = T(names[k], "f", &ef), *yr = T(names[k], "y", &ey);
        lis_upfirdn2d_params p = {f, ef->t.ndim, (int)ef->t.shape[0], (int)ef->t.shape[ef->t.ndim - 1],
                                  (int)lis_json_get(c, "up")->num, (int)lis_json_get(c, "down")->num, {0}, (float)lis_json_get(c, "gain")->num};
        pad4(c, p.pad);
        int Ho, Wo;
        lis_upfirdn2d_out_shape(&p, (int)ex->t.shape[2], (int)ex->t.shape[3], &Ho, &Wo);
        LIS_CHECK(Ho == ey->t.shape[2] && Wo == ey->t.shape[3]);
        int64_t n = lis_tensor_numel(&ey->t);
        float *y = malloc(sizeof(float) * (size_t)n);
        lis_upfirdn2d_ref(&p, x, y, ex->t.shape[0] * ex->t.shape[1], (int)ex->t.shape[2], (int)ex->t.shape[3]);
        char nm[160];
        snprintf(nm, sizeof nm, "upfirdn2d_ref(%s,up=%d,down=%d)", names[k], p.up, p.down);
        lis_check_close(nm, y, yr, n, tol_op(yr, n), 0);
        free(y);
    }
}

static lis_flrelu_params flrelu_case(const char *name, const lis_json *c) {
    lis_flrelu_params p = {0};
    const lis_json *ft = lis_json_get(c, "fu_taps");
    if (ft && ft->type == LIS_JSON_NUM) {
        p.fu = T(name, "fu", NULL); p.tu = (int)ft->num;
        p.fd = T(name, "fd", NULL); p.td = (int)lis_json_get(c, "fd_taps")->num;
    } else {
        p.tu = p.td = 1;
    }
    p.up = (int)lis_json_get(c, "up")->num;
    p.down = (int)lis_json_get(c, "down")->num;
    pad4(c, p.pad);
    p.gain = (float)lis_json_get(c, "gain")->num;
    p.slope = (float)lis_json_get(c, "slope")->num;
    p.clamp = (float)lis_json_get(c, "clamp")->num;
    return p;
}

static void run_flrelu_cpu(const lis_flrelu_params *p, const float *x, const float *b, float *y, int N, int C, int H, int W) {
    void *ws = lis_alloc_aligned(lis_flrelu_workspace_per_thread(p, H, W) * (size_t)lis_threads_count(), "ws");
    lis_flrelu_cpu(p, x, W, (int64_t)H * W, NULL, b, y, N, C, H, W, ws);
    free(ws);
}

static void test_flrelu(void) {
    const char *names[] = {"flrelu_L1", "flrelu_L10", "flrelu_L30", "flrelu_L1_clamp", "flrelu_L31"};
    for (int k = 0; k < 5; k++) {
        const lis_json *c = case_of(names[k]);
        lis_flrelu_params p = flrelu_case(names[k], c);
        const lis_st_entry *ex, *ey;
        const float *x = T(names[k], "x", &ex), *b = T(names[k], "b", NULL), *yr = T(names[k], "y", &ey);
        int N = (int)ex->t.shape[0], C = (int)ex->t.shape[1], H = (int)ex->t.shape[2], W = (int)ex->t.shape[3];
        int Ho, Wo;
        lis_flrelu_out_shape(&p, H, W, &Ho, &Wo);
        LIS_CHECK(Ho == ey->t.shape[2] && Wo == ey->t.shape[3]);
        int64_t n = lis_tensor_numel(&ey->t);
        float *y = malloc(sizeof(float) * (size_t)n);
        char nm[200];
        lis_flrelu_ref(&p, x, b, y, N, C, H, W);
        snprintf(nm, sizeof nm, "filtered_lrelu_ref(%s,up=%d,down=%d,c=%d,h=%d)", names[k], p.up, p.down, C, H);
        lis_check_close(nm, y, yr, n, tol_op(yr, n), 0);
        memset(y, 0xff, sizeof(float) * (size_t)n); /* poison: every output must be written */
        run_flrelu_cpu(&p, x, b, y, N, C, H, W);
        snprintf(nm, sizeof nm, "filtered_lrelu_cpu(%s,up=%d,down=%d,c=%d,h=%d)", names[k], p.up, p.down, C, H);
        lis_check_close(nm, y, yr, n, tol_op(yr, n), 0);
        free(y);
    }
    /* _cpu vs _ref on shapes outside the bundle: odd sizes, non-square, up 4 with padding */
    const lis_json *c = case_of("flrelu_L10");
    lis_flrelu_params p = flrelu_case("flrelu_L10", c);
    int shapes[][4] = {{1, 2, 21, 17}, {2, 1, 13, 30}};
    for (int s = 0; s < 2; s++) {
        int N = shapes[s][0], C = shapes[s][1], H = shapes[s][2], W = shapes[s][3], Ho, Wo;
        lis_flrelu_out_shape(&p, H, W, &Ho, &Wo);
        float *x = malloc(sizeof(float) * (size_t)N * C * H * W), *b = malloc(sizeof(float) * (size_t)C);
        float *y0 = malloc(sizeof(float) * (size_t)N * C * Ho * Wo), *y1 = malloc(sizeof(float) * (size_t)N * C * Ho * Wo);
        for (int i = 0; i < N * C * H * W; i++) x[i] = sinf((float)i * 0.37f) * 3.0f;
        for (int i = 0; i < C; i++) b[i] = 0.1f * (float)i - 0.05f;
        lis_flrelu_ref(&p, x, b, y0, N, C, H, W);
        run_flrelu_cpu(&p, x, b, y1, N, C, H, W);
        char nm[160];
        snprintf(nm, sizeof nm, "filtered_lrelu_cpu_vs_ref(up=4,down=2,n=%d,c=%d,h=%d,w=%d)", N, C, H, W);
        lis_check_close(nm, y1, y0, (int64_t)N * C * Ho * Wo, tol_op(y0, (int64_t)N * C * Ho * Wo), 0);
        free(x); free(b); free(y0); free(y1);
    }
}

static void test_modconv(void) {
    const char *names[] = {"modconv_demod", "modconv_torgb"};
    for (int k = 0; k < 2; k++) {
        const lis_json *c = case_of(names[k]);
        const lis_st_entry *ex, *ew, *ey;
        const float *x = T(names[k], "x", &ex), *w = T(names[k], "w", &ew), *s = T(names[k], "s", NULL);
        const float *g = T(names[k], "input_gain", NULL), *yr = T(names[k], "y", &ey);
        int B = (int)ex->t.shape[0], I = (int)ex->t.shape[1], H = (int)ex->t.shape[2], W = (int)ex->t.shape[3];
        int O = (int)ew->t.shape[0], kk = (int)ew->t.shape[2];
        lis_modconv_params p = {lis_json_get(c, "demodulate")->num != 0, (int)lis_json_get(c, "padding")->num, 1};
        int64_t n = lis_tensor_numel(&ey->t);
        float *y = malloc(sizeof(float) * (size_t)n);
        char nm[160];
        lis_modconv_ref(&p, x, w, s, g[0], y, B, I, O, H, W, kk);
        snprintf(nm, sizeof nm, "modconv_ref(%s,b=%d,i=%d,o=%d,k=%d)", names[k], B, I, O, kk);
        lis_check_close(nm, y, yr, n, tol_op(yr, n), 0);
        lis_modconv_weights mw;
        lis_check_ok(lis_modconv_prepare(&mw, w, O, I, kk, p.demodulate), "modconv_prepare");
        memset(y, 0xff, sizeof(float) * (size_t)n);
        lis_check_ok(lis_modconv_cpu(&mw, &p, x, s, g[0], B, H, W, y), "modconv_cpu");
        snprintf(nm, sizeof nm, "modconv_cpu(%s,b=%d,i=%d,o=%d,k=%d)", names[k], B, I, O, kk);
        lis_check_close(nm, y, yr, n, tol_op(yr, n), 0);
        lis_modconv_weights_free(&mw);
        free(y);
    }
}

static void test_layers(void) {
    const char *names[] = {"layer_L1", "layer_L10", "layer_L29", "layer_L31_torgb"};
    for (int k = 0; k < 4; k++) {
        const lis_json *c = case_of(names[k]);
        const lis_st_entry *ex, *ew, *ey;
        const float *x = T(names[k], "x", &ex), *w = T(names[k], "w", &ew), *yr = T(names[k], "y", &ey);
        const float *sr = T(names[k], "styles", NULL), *mr = T(names[k], "modconv_out", NULL);
        int B = (int)ex->t.shape[0], I = (int)ex->t.shape[1], H = (int)ex->t.shape[2];
        int O = (int)lis_json_get(c, "out_channels")->num, torgb = strstr(names[k], "torgb") != NULL;
        int kk = torgb ? 1 : 3, pad[4];
        pad4(c, pad);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s.param", names[k]);
        lis_sgxl_layer L;
        if (!lis_check_ok(lis_sgxl_layer_init(&L, &io, prefix, names[k], I, O, H, (int)ey->t.shape[2], kk,
                                               (int)lis_json_get(c, "up")->num, (int)lis_json_get(c, "down")->num, pad,
                                               torgb, (float)lis_json_get(c, "clamp")->num, (int)ew->t.shape[1]),
                          names[k]))
            continue;
        int64_t n = lis_tensor_numel(&ey->t), ns = (int64_t)B * I, nm_ = (int64_t)B * O * (H + kk - 1) * (H + kk - 1);
        float *y = malloc(sizeof(float) * (size_t)n), *st = malloc(sizeof(float) * (size_t)ns), *mc = malloc(sizeof(float) * (size_t)nm_);
        for (int ref = 1; ref >= 0; ref--) {
            char nm[160];
            memset(y, 0xff, sizeof(float) * (size_t)n);
            lis_check_ok(lis_sgxl_layer_forward(&L, x, w, B, (int)ew->t.shape[1], y, st, mc, 1, ref), names[k]);
            snprintf(nm, sizeof nm, "layer_%s(%s).styles", ref ? "ref" : "cpu", names[k]);
            lis_check_close(nm, st, sr, ns, tol_op(sr, ns), 0);
            snprintf(nm, sizeof nm, "layer_%s(%s).modconv_out", ref ? "ref" : "cpu", names[k]);
            lis_check_close(nm, mc, mr, nm_, tol_op(mr, nm_), 0);
            snprintf(nm, sizeof nm, "layer_%s(%s).y", ref ? "ref" : "cpu", names[k]);
            lis_check_close(nm, y, yr, n, tol_op(yr, n), 0);
        }
        lis_sgxl_layer_free(&L);
        free(y); free(st); free(mc);
    }
}

static void test_input(void) {
    const char *names[] = {"input_identity", "input_transform"};
    for (int k = 0; k < 2; k++) {
        const lis_json *c = case_of(names[k]);
        const lis_st_entry *ew, *ey;
        const float *w = T(names[k], "w", &ew), *yr = T(names[k], "y", &ey), *ar = T(names[k], "affine_out", NULL);
        int C = (int)lis_json_get(c, "channels")->num, S = (int)lis_json_get(c, "size")->num, B = (int)ew->t.shape[0];
        lis_synth_input si;
        if (!lis_check_ok(lis_synth_input_prepare(&si, C, S, lis_json_get(c, "sampling_rate")->num,
                                                  lis_json_get(c, "bandwidth")->num, (int)ew->t.shape[1],
                                                  T(names[k], "param.weight", NULL), T(names[k], "param.affine.weight", NULL),
                                                  T(names[k], "param.affine.bias", NULL), T(names[k], "param.transform", NULL),
                                                  T(names[k], "param.freqs", NULL), T(names[k], "param.phases", NULL)),
                          names[k]))
            continue;
        int64_t n = lis_tensor_numel(&ey->t);
        float *y = malloc(sizeof(float) * (size_t)n), a[4 * 8];
        char nm[160];
        lis_synth_input_ref(&si, w, y, a, B);
        snprintf(nm, sizeof nm, "synth_input_ref(%s).affine", names[k]);
        lis_check_close(nm, a, ar, 4 * B, 2e-6, 0);
        snprintf(nm, sizeof nm, "synth_input_ref(%s,c=%d,s=%d)", names[k], C, S);
        lis_check_close(nm, y, yr, n, 5e-5, 0);
        void *ws = lis_alloc_aligned(lis_synth_input_workspace(&si), "ws");
        memset(y, 0xff, sizeof(float) * (size_t)n);
        lis_synth_input_cpu(&si, w, y, NULL, B, ws);
        snprintf(nm, sizeof nm, "synth_input_cpu(%s,c=%d,s=%d)", names[k], C, S);
        lis_check_close(nm, y, yr, n, 5e-5, 0);
        free(ws);
        free(y);
        lis_synth_input_free(&si);
    }
}

int main(void) {
    char *text;
    size_t len;
    if (lis_test_open(&io, "sgxl_ops/io.safetensors") != LIS_OK) return lis_test_finish();
    if (!lis_check_ok(lis_read_file(lis_test_data("sgxl_ops/cases.json"), &text, &len), "cases.json")) return lis_test_finish();
    cases = lis_json_parse(text, len);
    free(text);
    LIS_ASSERT(cases && cases->type == LIS_JSON_ARR);
    test_bias_act();
    test_upfirdn();
    test_flrelu();
    test_modconv();
    test_layers();
    test_input();
    lis_json_free(cases);
    lis_st_close(&io);
    return lis_test_finish();
}
