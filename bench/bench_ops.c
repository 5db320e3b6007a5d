/* bench_ops.c — kernel microbenchmarks: each op's fast CPU path against its reference
 * (the baseline column), on shapes taken from the ImageNet-256 generator. Every case is
 * validated (fast vs reference) before it is timed; a case that fails is not reported.
 *
 *   lis-bench ops [--filter SUBSTR] [--seconds 0.5]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/args.h"
#include "kernels/bias_act.h"
#include "kernels/fc.h"
#include "kernels/filtered_lrelu.h"
#include "kernels/gemm.h"
#include "kernels/modconv.h"
#include "kernels/winograd.h"
#include "runtime/threads.h"

static float *rnd(size_t n, unsigned seed) {
    float *x = lis_alloc_aligned(n * sizeof(float), "bench");
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 9) & 0xffff) / 32768.0f - 1.0f;
    }
    return x;
}

static int agree(const char *what, const float *a, const float *b, size_t n, double tol) {
    double m = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
        if (fabs(b[i]) > mx) mx = fabs(b[i]);
    }
    if (m > tol * (mx > 1 ? mx : 1)) {
        printf("| %s | FAILED validation: max |d| %.3g |\n", what, m);
        return 0;
    }
    return 1;
}

/* ---- gemm */
typedef struct { int M, N, K; const float *A; const float **rows; float *C; int ref; } gemm_case;
static void run_gemm(void *c) {
    gemm_case *g = c;
    if (g->ref) lis_gemm_ref(g->M, g->N, g->K, g->A, g->K, g->rows, g->C, g->N, 0);
    else lis_gemm_cpu(g->M, g->N, g->K, g->A, g->K, g->rows, g->C, g->N, 0);
}

static void bench_gemm(int M, int N, int K, double secs) {
    float *A = rnd((size_t)M * K, 1), *B = rnd((size_t)K * N, 2), *C0 = rnd((size_t)M * N, 3), *C1 = rnd((size_t)M * N, 4);
    const float **rows = malloc(sizeof(float *) * (size_t)K);
    lis_gemm_rows_from_matrix(B, K, N, rows);
    char p[96];
    snprintf(p, sizeof p, "m=%d,n=%d,k=%d", M, N, K);
    gemm_case r = {M, N, K, A, rows, C0, 1}, f = {M, N, K, A, rows, C1, 0};
    int small = (double)M * N * K < 3e8;
    if (small) { run_gemm(&r); run_gemm(&f); }
    if (!small || agree("gemm", C1, C0, (size_t)M * N, 1e-5 * K)) {
        double fl = 2.0 * M * N * K;
        lis_bench_result rr = {0, 0, 0};
        if (small) { rr = lis_bench_time(run_gemm, &r, 1, secs); lis_bench_row("gemm", p, "ref", rr, fl, 0, 0); }
        lis_bench_row("gemm", p, "cpu (6x16 AVX2)", lis_bench_time(run_gemm, &f, 1, secs), fl, 0, rr.mean);
    }
    free(A); free(B); free(C0); free(C1); free(rows);
}

/* ---- modulated conv */
typedef struct {
    lis_modconv_params p; lis_modconv_weights *mw; const float *x, *w, *s; float *y, *scale; void *ws;
    int B, I, O, H; int ref;
} mc_case;
static void run_mc(void *c) {
    mc_case *m = c;
    if (m->ref) lis_modconv_ref(&m->p, m->x, m->w, m->s, 0.9f, m->y, m->B, m->I, m->O, m->H, m->H, 3);
    else lis_modconv_cpu_raw(m->mw, &m->p, m->x, m->s, 0.9f, m->B, m->H, m->H, m->y, m->scale, m->ws);
}

static void bench_modconv(int I, int O, int H, int with_ref, double secs) {
    int B = 1, Hc = H + 2, Wp = H + 4;
    float *x = rnd((size_t)B * I * H * H, 5), *w = rnd((size_t)O * I * 9, 6), *s = rnd((size_t)B * I, 7);
    float *y0 = rnd((size_t)B * O * Hc * Hc, 8), *y1 = rnd((size_t)B * O * Hc * Wp + 64, 9), *scale = rnd((size_t)B * O, 1);
    lis_modconv_weights mw;
    if (lis_modconv_prepare(&mw, w, O, I, 3, 1) != LIS_OK) return;
    mc_case r = {{1, 2, 0}, &mw, x, w, s, y0, scale, NULL, B, I, O, H, 1}, f = r;
    f.ref = 0;
    f.y = y1;
    f.ws = lis_alloc_aligned(lis_modconv_workspace(&mw, &f.p, H, H), "ws");
    char p[96];
    snprintf(p, sizeof p, "b=%d,i=%d,o=%d,h=%d,k=3", B, I, O, H);
    double fl = 2.0 * B * O * I * 9 * Hc * Hc;
    lis_bench_result rr = {0, 0, 0};
    int ok = 1;
    if (with_ref) {
        run_mc(&r);
        run_mc(&f);
        float *y = malloc(sizeof(float) * (size_t)O * Hc * Hc);
        for (int o = 0; o < O; o++)
            for (int i = 0; i < Hc; i++)
                for (int j = 0; j < Hc; j++) y[((size_t)o * Hc + i) * Hc + j] = y1[((size_t)o * Hc + i) * Wp + j] * scale[o];
        ok = agree("modconv", y, y0, (size_t)O * Hc * Hc, 1e-5);
        free(y);
        if (ok) { rr = lis_bench_time(run_mc, &r, 1, secs); lis_bench_row("modconv", p, "ref", rr, fl, 0, 0); }
    }
    if (ok) lis_bench_row("modconv", p, "cpu (folded styles, GEMM)", lis_bench_time(run_mc, &f, 1, secs), fl, 0, rr.mean);
    lis_modconv_weights_free(&mw);
    free(x); free(w); free(s); free(y0); free(y1); free(scale); free(f.ws);
}

/* ---- 3x3 convolution: Winograd F(2x2, 3x3) vs the direct (shifted-rows GEMM) path */
typedef struct {
    lis_conv2d_params p; const lis_conv2d_packed *pk; const lis_wino_packed *wk; const float *x, *b; float *y; void *ws;
} w3_case;
static void run_w3(void *c) {
    w3_case *k = c;
    if (k->pk) { lis_conv2d_cpu_packed(&k->p, k->pk, k->x, k->b, NULL, k->y, k->ws); return; }
    const int Ho = k->p.H + 2 * k->p.pad_h - 2, Wo = k->p.W + 2 * k->p.pad_w - 2;
    lis_wino_io io = {k->p.N, k->p.H, k->p.W, k->p.pad_h, k->p.pad_w, k->x, (int64_t)k->p.C * k->p.H * k->p.W, k->y,
                      (int64_t)k->p.K * Ho * Wo, Wo, (int64_t)Ho * Wo, k->b, NULL, k->p.act, 0.0f};
    lis_wino_conv(k->wk, &io, k->ws);
}

static void bench_winograd(int N, int C, int K, int H, int pad, const char *what, double secs) {
    lis_conv2d_params p = {N, C, H, H, K, 3, 3, 1, 1, pad, pad, 1, 1, LIS_ACT_RELU, 0.0f};
    const int Ho = H + 2 * pad - 2;
    const size_t ny = (size_t)N * K * Ho * Ho;
    float *x = rnd((size_t)N * C * H * H, 3), *w = rnd((size_t)K * C * 9, 4), *b = rnd((size_t)K, 5);
    float *y0 = rnd(ny, 6), *y1 = rnd(ny, 7);
    for (size_t i = 0; i < (size_t)K * C * 9; i++) w[i] *= 1.0f / sqrtf(9.0f * C);
    lis_conv2d_packed pk;
    lis_wino_packed wk;
    if (lis_conv2d_pack(&pk, K, C, 3, 3, w) != LIS_OK || lis_wino_pack(&wk, K, C, w) != LIS_OK) return;
    size_t wsz = lis_conv2d_workspace_size(&p), wsw = lis_wino_workspace_size(&wk, N, H, H, pad, pad);
    void *ws = lis_alloc_aligned(wsz > wsw ? wsz : wsw, "ws");
    w3_case d = {p, &pk, NULL, x, b, y0, ws}, g = {p, NULL, &wk, x, b, y1, ws};
    run_w3(&d);
    run_w3(&g);
    char pr[128];
    snprintf(pr, sizeof pr, "n=%d,c=%d,k=%d,h=%d,pad=%d (%s)", N, C, K, H, pad, what);
    const double fl = 2.0 * ny * C * 9; /* the direct convolution's work, for both rows */
    if (agree("conv3x3 winograd", y1, y0, ny, 1e-4)) {
        lis_bench_result rd = lis_bench_time(run_w3, &d, 1, secs);
        lis_bench_row("conv3x3", pr, "direct (shifted-rows GEMM)", rd, fl, 0, 0);
        lis_bench_row("conv3x3", pr, wk.mt == 4 ? "winograd F(4x4,3x3) (LIS_WINOGRAD_TILE=4)" : "winograd F(2x2,3x3)",
                      lis_bench_time(run_w3, &g, 1, secs), fl, 0, rd.mean);
    }
    lis_conv2d_packed_free(&pk);
    lis_wino_packed_free(&wk);
    free(x); free(w); free(b); free(y0); free(y1); free(ws);
}

/* ---- filtered lrelu */
typedef struct { lis_flrelu_params p; const float *x, *b; float *y; void *ws; int C, H; int ref; } fl_case;
static void run_fl(void *c) {
    fl_case *f = c;
    if (f->ref) lis_flrelu_ref(&f->p, f->x, f->b, f->y, 1, f->C, f->H, f->H);
    else lis_flrelu_cpu(&f->p, f->x, f->H, (int64_t)f->H * f->H, NULL, f->b, f->y, 1, f->C, f->H, f->H, f->ws);
}

static void bench_flrelu(int C, int H, int up, int tu, int pad, double secs) {
    float *fu = rnd((size_t)tu, 11), *fd = rnd(12, 12);
    lis_flrelu_params p = {fu, tu, fd, 12, up, 2, {pad, pad - 1, pad, pad - 1}, 1.41421356f, 0.2f, 256.0f};
    if (up == 4) { p.pad[0] = p.pad[2] = -6; p.pad[1] = p.pad[3] = -9; }
    int Ho, Wo;
    lis_flrelu_out_shape(&p, H, H, &Ho, &Wo);
    float *x = rnd((size_t)C * H * H, 13), *b = rnd((size_t)C, 14), *y0 = rnd((size_t)C * Ho * Wo, 15), *y1 = rnd((size_t)C * Ho * Wo, 16);
    fl_case r = {p, x, b, y0, NULL, C, H, 1}, f = r;
    f.ref = 0;
    f.y = y1;
    f.ws = lis_alloc_aligned(lis_flrelu_workspace_per_thread(&p, H, H) * (size_t)lis_threads_count(), "ws");
    run_fl(&r);
    run_fl(&f);
    char pr[96];
    snprintf(pr, sizeof pr, "c=%d,h=%d,up=%d,down=2,taps=%d/12", C, H, up, tu);
    if (agree("filtered_lrelu", y1, y0, (size_t)C * Ho * Wo, 1e-5)) {
        double bytes = 4.0 * C * ((double)H * H + (double)Ho * Wo);
        lis_bench_result rr = lis_bench_time(run_fl, &r, 1, secs);
        lis_bench_row("filtered_lrelu", pr, "ref", rr, 0, bytes, 0);
        lis_bench_row("filtered_lrelu", pr, "cpu (fused, polyphase)", lis_bench_time(run_fl, &f, 1, secs), 0, bytes, rr.mean);
    }
    free(fu); free(fd); free(x); free(b); free(y0); free(y1); free(f.ws);
}

/* ---- FC and bias_act */
typedef struct { lis_fc *fc; const float *x; float *y; int B; int ref; } fc_case;
static void run_fc(void *c) {
    fc_case *f = c;
    if (f->ref) lis_fc_ref(f->fc, f->x, f->y, f->B);
    else lis_fc_cpu(f->fc, f->x, f->y, f->B);
}

static void bench_fc(int in, int out, int B, double secs) {
    float *w = rnd((size_t)in * out, 21), *b = rnd((size_t)out, 22), *x = rnd((size_t)B * in, 23);
    float *y0 = rnd((size_t)B * out, 24), *y1 = rnd((size_t)B * out, 25);
    lis_fc fc;
    if (lis_fc_prepare(&fc, w, b, in, out, 1.0, 0) != LIS_OK) return;
    fc_case r = {&fc, x, y0, B, 1}, f = {&fc, x, y1, B, 0};
    run_fc(&r);
    run_fc(&f);
    char p[64];
    snprintf(p, sizeof p, "in=%d,out=%d,b=%d", in, out, B);
    if (agree("fc", y1, y0, (size_t)B * out, 1e-6)) {
        lis_bench_result rr = lis_bench_time(run_fc, &r, 1, secs);
        lis_bench_row("fc (affine)", p, "ref", rr, 2.0 * in * out * B, 0, 0);
        lis_bench_row("fc (affine)", p, "cpu (threads)", lis_bench_time(run_fc, &f, 1, secs), 2.0 * in * out * B, 0, rr.mean);
    }
    lis_fc_free(&fc);
    free(w); free(b); free(x); free(y0); free(y1);
}

typedef struct { lis_bias_act_params p; const float *x, *b; float *y; int64_t C, inner; int ref; } ba_case;
static void run_ba(void *c) {
    ba_case *a = c;
    if (a->ref) lis_bias_act_ref(&a->p, a->x, a->b, a->y, 1, a->C, a->inner);
    else lis_bias_act_cpu(&a->p, a->x, a->b, a->y, 1, a->C, a->inner);
}

static void bench_bias_act(int C, int H, double secs) {
    size_t n = (size_t)C * H * H;
    float *x = rnd(n, 31), *b = rnd((size_t)C, 32), *y0 = rnd(n, 33), *y1 = rnd(n, 34);
    ba_case r = {{1, 0.2f, 1.41421356f, 256.0f}, x, b, y0, C, (int64_t)H * H, 1}, f = r;
    f.ref = 0;
    f.y = y1;
    run_ba(&r);
    run_ba(&f);
    char p[64];
    snprintf(p, sizeof p, "c=%d,h=%d,lrelu,clamp", C, H);
    if (agree("bias_act", y1, y0, n, 0)) {
        lis_bench_result rr = lis_bench_time(run_ba, &r, 1, secs);
        lis_bench_row("bias_act", p, "ref", rr, 0, 8.0 * n, 0);
        lis_bench_row("bias_act", p, "cpu (threads)", lis_bench_time(run_ba, &f, 1, secs), 0, 8.0 * n, rr.mean);
    }
    free(x); free(b); free(y0); free(y1);
}

int lis_bench_ops(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { printf("usage: lis-bench ops [--filter SUBSTR] [--seconds S]\n"); return 0; }
    const char *filter = lis_args_str(&a, "--filter", "");
    double secs;
    if (lis_args_double(&a, "--seconds", 0.5, &secs) || lis_args_done(&a)) { fprintf(stderr, "%s\n", lis_err_msg()); return 2; }
    lis_bench_header();
#define WANT(name) (strstr(name, filter) != NULL)
    if (WANT("gemm")) {
        bench_gemm(64, 512, 256, secs);
        bench_gemm(1024, 1520, 9216, secs);   /* L11 at 52 px: O, Hc*Wp, 9*I */
        bench_gemm(512, 77280, 5481, secs);   /* L25: one image's conv */
    }
    if (WANT("modconv")) {
        bench_modconv(32, 32, 36, 1, secs);
        bench_modconv(1024, 1024, 36, 0, secs); /* L1 */
        bench_modconv(431, 362, 276, 0, secs);  /* L27 */
    }
    if (WANT("filtered_lrelu")) {
        bench_flrelu(64, 38, 2, 12, 9, secs);   /* L1-like */
        bench_flrelu(16, 278, 2, 12, 9, secs);  /* L26-like at 16 channels */
        bench_flrelu(16, 150, 4, 24, 0, secs);  /* L25-like (up 4) */
    }
    if (WANT("conv3x3") || WANT("winograd")) {
        bench_winograd(1, 64, 64, 56, 1, "ResNet-50 layer1", secs);
        bench_winograd(1, 128, 128, 28, 1, "ResNet-50 layer2", secs);
        bench_winograd(8, 128, 128, 28, 1, "ResNet-50 layer2, batch 8", secs);
        bench_winograd(1, 256, 256, 14, 1, "ResNet-50 layer3", secs);
        bench_winograd(1, 512, 512, 7, 1, "ResNet-50 layer4", secs);
        bench_winograd(1, 1024, 1024, 36, 2, "generator L1", secs);
        bench_winograd(1, 512, 431, 140, 2, "generator L26, half size", secs);
    }
    if (WANT("fc")) bench_fc(512, 1024, 1, secs);
    if (WANT("bias_act")) bench_bias_act(64, 148, secs);
    return 0;
}
