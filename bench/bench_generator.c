/* bench_generator.c — StyleGAN-XL generator throughput on the CPU: images/s at each batch
 * size, the per-layer time breakdown (time between consecutive layer taps) and the
 * achieved GFLOP/s of the modulated convolutions (2 * out * in * k^2 * (size + k - 1)^2
 * flops per layer; ~1.59 T multiply-adds per ImageNet-256 image).
 *
 *   lis-bench generator [--weights G.safetensors] [--batch 1,4] [--reps 1] [--seed 3 --class 291]
 * Without --weights the full-size ImageNet-256 network is built from the synth-init
 * manifest in tests/data/sgxl_imagenet256_synth (same architecture and cost as the real one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/args.h"
#include "nets/stylegan_xl.h"
#include "runtime/np_random.h"
#include "runtime/threads.h"
#include "weights_tools/convert.h"

typedef struct {
    double *t;    /* per module: accumulated seconds */
    double last;
} layer_clock;

static lis_status tick(void *ctx, int index, const char *name, const float *x, int B, int C, int S) {
    (void)name; (void)x; (void)B; (void)C; (void)S;
    layer_clock *lc = ctx;
    double now = lis_now();
    lc->t[index] += now - lc->last;
    lc->last = now;
    return LIS_OK;
}

static double conv_flops(const lis_sgxl_layer *L) {
    double hc = L->in_size + L->k - 1;
    return 2.0 * L->out_ch * L->in_ch * L->k * L->k * hc * hc;
}

int lis_bench_generator(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) {
        printf("usage: lis-bench generator [--weights G.safetensors] [--batch 1,4] [--reps 1] [--seed 3] [--class 291]\n");
        return 0;
    }
    const char *wpath = lis_args_str(&a, "--weights", NULL), *batches = lis_args_str(&a, "--batch", "1,4");
    long reps, seed, cls;
    lis_status s;
    if ((s = lis_args_long(&a, "--reps", 1, &reps)) || (s = lis_args_long(&a, "--seed", 3, &seed)) ||
        (s = lis_args_long(&a, "--class", 291, &cls)) || (s = lis_args_done(&a))) {
        fprintf(stderr, "lis-bench generator: %s\n", lis_err_msg());
        return 2;
    }
    char tmp[256] = "";
    if (!wpath) {
        snprintf(tmp, sizeof tmp, "/tmp/lis-bench-%ld.safetensors", (long)getpid());
        lis_convert_opts o = {"tests/data/sgxl_imagenet256_synth/config.json",
                              "tests/data/sgxl_imagenet256_synth/weights.safetensors", "G_ema", 0};
        double t0 = lis_now();
        if (lis_convert_file("tests/data/sgxl_imagenet256_synth/weights.manifest", &o, tmp) != LIS_OK) {
            fprintf(stderr, "lis-bench generator: %s\n", lis_err_msg());
            return 1;
        }
        printf("built the full-size ImageNet-256 generator from its synth-init manifest in %.1f s\n", lis_now() - t0);
        wpath = tmp;
    }
    lis_sgxl g;
    double t0 = lis_now();
    s = lis_sgxl_load(&g, wpath);
    if (tmp[0]) unlink(tmp);
    if (s != LIS_OK) { fprintf(stderr, "lis-bench generator: %s\n", lis_err_msg()); return 1; }
    printf("loaded %s in %.1f s (%d layers, %dx%d output)\n", tmp[0] ? "the generator" : wpath, lis_now() - t0, g.n_layers,
           g.img_resolution, g.img_resolution);
    double total_conv = 0;
    for (int i = 0; i < g.n_layers; i++) total_conv += conv_flops(&g.layers[i]);
    double in_flops = 2.0 * g.input.C * g.input.C * g.input.S * g.input.S;
    printf("per image: %.3f T multiply-adds in the convolutions and channel mixing\n\n", (total_conv + in_flops) / 2e12);

    int nb = 0;
    long bl[16];
    char *dup = strdup(batches), *save = NULL;
    for (char *tok = strtok_r(dup, ",", &save); tok && nb < 16; tok = strtok_r(NULL, ",", &save)) bl[nb++] = atol(tok);
    free(dup);
    int maxb = 1;
    for (int i = 0; i < nb; i++) if (bl[i] > maxb) maxb = (int)bl[i];
    size_t wsz = (size_t)g.num_ws * g.w_dim, isz = (size_t)g.img_channels * g.img_resolution * g.img_resolution;
    float *ws = malloc(sizeof(float) * wsz * maxb), *img = malloc(sizeof(float) * isz * maxb), z[4096];
    int64_t *cl = malloc(sizeof(int64_t) * maxb);
    double zd[4096];
    for (int b = 0; b < maxb; b++) {
        lis_np_randn_seed((uint32_t)(seed + b), zd, g.z_dim);
        for (int d = 0; d < g.z_dim; d++) z[d] = (float)zd[d];
        cl[b] = cls < g.c_dim ? cls : 0;
        lis_sgxl_mapping(&g, z, &cl[b], 1, 1.0f, 0, ws + b * wsz, NULL);
    }
    lis_sgxl_truncate(&g, cl, maxb, 0.7f, ws);
    layer_clock lc = {calloc((size_t)g.n_layers + 1, sizeof(double)), 0};
    printf("| batch | threads | s/image | images/s | conv GFLOP/s |\n|---|---|---|---|---|\n");
    for (int k = 0; k < nb; k++) {
        int B = (int)bl[k];
        if (B < 1) continue;
        if (lis_sgxl_plan(&g, B) != LIS_OK) { fprintf(stderr, "%s\n", lis_err_msg()); break; }
        memset(lc.t, 0, sizeof(double) * (size_t)(g.n_layers + 1));
        double start = lis_now();
        for (long r = 0; r < reps; r++) {
            lc.last = lis_now();
            lis_sgxl_synthesis(&g, ws, B, img, tick, &lc);
        }
        double el = (lis_now() - start) / reps / B;
        printf("| %d | %d | %.2f | %.4f | %.1f |\n", B, lis_threads_count(), el, 1.0 / el, (total_conv + in_flops) / el / 1e9);
        fflush(stdout);
        if (k == nb - 1) { /* per-layer breakdown of the last batch size */
            printf("\nper-layer time at batch %d (per image):\n\n| module | out | conv GFLOP | ms | conv GFLOP/s | share |\n|---|---|---|---|---|---|\n", B);
            double tot = 0;
            for (int i = 0; i <= g.n_layers; i++) tot += lc.t[i];
            for (int i = 0; i <= g.n_layers; i++) {
                double f = i ? conv_flops(&g.layers[i - 1]) : in_flops, ms = lc.t[i] / reps / B * 1e3;
                printf("| %s | %dx%d^2 | %.1f | %.1f | %.1f | %.1f%% |\n", i ? g.layers[i - 1].name : "input",
                       i ? g.layers[i - 1].out_ch : g.input.C, i ? g.layers[i - 1].out_size : g.input.S, f / 1e9, ms,
                       f / (ms / 1e3) / 1e9, 100 * lc.t[i] / tot);
            }
        }
    }
    free(lc.t); free(ws); free(img); free(cl);
    lis_sgxl_free(&g);
    return 0;
}
