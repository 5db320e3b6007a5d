/* bench_seg.c — the segmentation head: inference and training throughput, and the cost of
 * the feature path (tap convolution on the maps at their own resolution) against the
 * naive one (materialise the nearest-resized concatenation, then a plain conv).
 * Every case is validated (tap path vs materialised) before it is timed.
 *
 *   lis-bench seg [--seconds 0.5] [--full]
 *
 * Cases: the toy world (51 channels from 24/40/72/64 px maps at 64x64, FewShotCNN-S, 3
 * classes) and, with --full, one ImageNet-256-shaped image (13,588 channels from 16 maps of
 * 36..276 px at 128x128; allocates ~1.5 GB for the naive path) — a few seconds per rep on
 * 2 cores. The GPU rows come from tests/gpu_check.sh (not yet run on a GPU).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/args.h"
#include "kernels/nearest_concat.h"
#include "nets/fewshot_cnn.h"
#include "runtime/threads.h"

static float *rnd(size_t n, unsigned seed) {
    float *x = lis_alloc_aligned(n * sizeof(float), "bench");
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 9) & 0xffff) / 32768.0f - 1.0f;
    }
    return x;
}

typedef struct {
    lis_nc_params nc;
    const float *const *maps;
    lis_tapconv_packed *pk;
    lis_conv2d_packed *cpk;
    const float *bias;
    float *x, *y;
    void *ws, *cws;
} feat_case;

static void run_tap(void *c) {
    feat_case *f = c;
    lis_tapconv_cpu_packed(&f->nc, f->pk, f->maps, f->bias, f->y, f->ws);
}

static void run_naive(void *c) {
    feat_case *f = c;
    int in_ch = 0;
    for (int m = 0; m < f->nc.n_maps; m++) in_ch += f->nc.C[m];
    lis_nearest_concat_cpu(&f->nc, f->maps, f->x);
    lis_conv2d_params cp = {.N = 1, .C = in_ch, .H = f->nc.out, .W = f->nc.out, .K = f->nc.K, .R = 3, .S = 3, .stride_h = 1,
                            .stride_w = 1, .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .act = LIS_ACT_LRELU, .slope = 0.2f};
    lis_conv2d_cpu_packed(&cp, f->cpk, f->x, f->bias, NULL, f->y, f->cws);
}

static double conv_macs(const lis_nc_params *nc) {
    double in = 0;
    for (int m = 0; m < nc->n_maps; m++) in += nc->C[m];
    return in * 9 * nc->K * nc->out * nc->out;
}

static void bench_features(const char *name, const lis_nc_params *nc0, double secs) {
    lis_nc_params nc = *nc0;
    nc.K = 128; nc.dil = 1; nc.act = LIS_ACT_LRELU; nc.slope = 0.2f;
    int in_ch;
    if (lis_nc_check(&nc, &in_ch) != LIS_OK) return;
    float *maps[LIS_NC_MAX_MAPS];
    for (int m = 0; m < nc.n_maps; m++) maps[m] = rnd((size_t)nc.C[m] * nc.size[m] * nc.size[m], 10 + m);
    float *w = rnd((size_t)nc.K * in_ch * 9, 3), *b = rnd(nc.K, 4);
    size_t ny = (size_t)nc.K * nc.out * nc.out, nx = (size_t)in_ch * nc.out * nc.out;
    float *y0 = rnd(ny, 5), *y1 = rnd(ny, 6), *x = lis_alloc_aligned(nx * sizeof(float), "concatenation");
    lis_tapconv_packed pk;
    lis_conv2d_packed cpk;
    lis_conv2d_params cp = {.N = 1, .C = in_ch, .H = nc.out, .W = nc.out, .K = nc.K, .R = 3, .S = 3, .stride_h = 1, .stride_w = 1,
                            .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .act = LIS_ACT_LRELU, .slope = 0.2f};
    if (!x || lis_tapconv_pack(&pk, &nc, w) != LIS_OK || lis_conv2d_pack(&cpk, nc.K, in_ch, 3, 3, w) != LIS_OK) {
        printf("| features | %s | out of memory |\n", name);
        return;
    }
    void *ws = lis_alloc_aligned(lis_tapconv_workspace_size(&nc), "ws"), *cws = lis_alloc_aligned(lis_conv2d_workspace_size(&cp), "ws");
    feat_case f = {nc, (const float *const *)maps, &pk, &cpk, b, x, y0, ws, cws};
    run_naive(&f);
    f.y = y1;
    run_tap(&f);
    double m = 0, mx = 0;
    for (size_t i = 0; i < ny; i++) { m = fmax(m, fabs(y0[i] - y1[i])); mx = fmax(mx, fabs(y0[i])); }
    if (m > 1e-4 * fmax(1, mx)) printf("| features | %s | FAILED validation: max |d| %.3g |\n", name, m);
    else {
        lis_bench_result rn = lis_bench_time(run_naive, &f, 1, secs), rt = lis_bench_time(run_tap, &f, 1, secs);
        char p[160];
        snprintf(p, sizeof p, "%s,in_ch=%d,K=%d,out=%d (concat %.0f MB)", name, in_ch, nc.K, nc.out, nx * 4 / 1e6);
        double flops = 2 * conv_macs(&nc);
        lis_bench_row("seg first conv", p, "materialised concat + conv2d", rn, flops, 0, rn.mean);
        lis_bench_row("seg first conv", p, "tap path (own resolution)", rt, flops, 0, rn.mean);
    }
    lis_tapconv_packed_free(&pk);
    lis_conv2d_packed_free(&cpk);
    free(ws); free(cws); free(w); free(b); free(y0); free(y1); free(x);
    for (int m2 = 0; m2 < nc.n_maps; m2++) free(maps[m2]);
}

typedef struct {
    lis_fewshot *net;
    lis_fewshot_trainer *tr;
    const float *const *maps;
    float *logits;
    uint8_t *lab;
} head_case;

static void run_infer(void *c) {
    head_case *h = c;
    lis_fewshot_forward(h->net, h->maps, h->logits);
}

static void run_train(void *c) {
    head_case *h = c;
    double l;
    lis_fewshot_train_step(h->net, h->tr, h->maps, h->lab, &l);
}

static void bench_head(const char *name, char size, const lis_nc_params *nc, int n_class, double secs) {
    int in_ch;
    if (lis_nc_check(nc, &in_ch) != LIS_OK) return;
    lis_fewshot net;
    if (lis_fewshot_init(&net, size, in_ch, n_class, nc->out, 1) != LIS_OK || lis_fewshot_plan(&net, nc) != LIS_OK) return;
    float *maps[LIS_NC_MAX_MAPS];
    for (int m = 0; m < nc->n_maps; m++) maps[m] = rnd((size_t)nc->C[m] * nc->size[m] * nc->size[m], 20 + m);
    size_t npx = (size_t)nc->out * nc->out;
    float *logits = lis_alloc_aligned(sizeof(float) * n_class * npx, "logits");
    uint8_t *lab = malloc(npx);
    for (size_t i = 0; i < npx; i++) lab[i] = (uint8_t)((i / 7) % n_class);
    lis_fewshot_trainer tr;
    lis_fewshot_trainer_init(&tr, &net, NULL);
    head_case h = {&net, &tr, (const float *const *)maps, logits, lab};
    double macs = 0;
    for (int i = 0; i < net.n_conv; i++) macs += 9.0 * net.ch[i] * net.ch[i + 1] * npx;
    char p[160];
    snprintf(p, sizeof p, "%s,FewShotCNN-%c,in_ch=%d,%dx%d", name, size, in_ch, nc->out, nc->out);
    lis_bench_result ri = lis_bench_time(run_infer, &h, 1, secs);
    lis_bench_row("seg head", p, "inference (images/s = 1/time)", ri, 2 * macs, 0, ri.mean);
    lis_bench_result rt = lis_bench_time(run_train, &h, 1, secs);
    lis_bench_row("seg head", p, "training step (fwd+bwd+Adam)", rt, 6 * macs, 0, ri.mean);
    lis_fewshot_trainer_free(&tr);
    lis_fewshot_free(&net);
    free(logits); free(lab);
    for (int m = 0; m < nc->n_maps; m++) free(maps[m]);
}

int lis_bench_seg(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) {
        printf("usage: lis-bench seg [--seconds S] [--full]\n  --full  adds one ImageNet-256-shaped image (13,588 channels, ~1.5 GB)\n");
        return 0;
    }
    double secs;
    int full = lis_args_flag(&a, "--full");
    if (lis_args_double(&a, "--seconds", 0.5, &secs) || lis_args_done(&a)) { fprintf(stderr, "lis-bench seg: %s\n", lis_err_msg()); return 2; }
    lis_bench_header();
    /* the toy world's taps: input 16@24, L1 16@40, L4 16@72, L6 3@64 -> 64x64 */
    lis_nc_params toy = {.n_maps = 4, .out = 64, .C = {16, 16, 16, 3}, .size = {24, 40, 72, 64}, .off = {0, 0, 0, 0},
                         .len = {24, 40, 72, 64}};
    bench_features("toy", &toy, secs);
    bench_head("toy", 'S', &toy, 3, secs);
    bench_head("toy", 'M', &toy, 3, secs);
    if (full) {
        /* ImageNet-256: input, L1, L3, L5, L7 (1024@36), L10, L12, L14 (1024@52), L16, L18 (1024@84), L20 (1024@148),
         * L22 (724@148), L24 (609@148), L26 (431@276), L28 (304@276), L30 (256@256) -> 128x128 */
        lis_nc_params in = {.n_maps = 16, .out = 128};
        int C[16] = {1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 724, 609, 431, 304, 256};
        int S[16] = {36, 36, 36, 36, 36, 52, 52, 52, 84, 84, 148, 148, 148, 276, 276, 256};
        for (int m = 0; m < 16; m++) { in.C[m] = C[m]; in.size[m] = S[m]; in.off[m] = 0; in.len[m] = S[m]; }
        bench_features("imagenet256", &in, secs);
        bench_head("imagenet256", 'S', &in, 10, secs);
    }
    return 0;
}
