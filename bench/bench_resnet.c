/* bench_resnet.c — ResNet classifier throughput on the CPU, and a per-conv table.
 *
 *   lis-bench resnet [--weights FILE | --manifest FILE] [--batch 1,32] [--threads N]
 *                    [--reps N] [--min-time S] [--sub-batch N] [--convs] [--csv] [--data DIR]
 *
 * Default weights: synth-init ResNet-50 from tests/data/resnet50_synth/weights.manifest;
 * then the forward is first validated against that bundle (r and logits of its 4
 * images, tolerance of its README) and nothing is timed if it fails (STYLE §8).
 * Timing: CLOCK_MONOTONIC, one warm-up forward, then repetitions until both --reps and
 * --min-time are reached; mean ± stddev of ms/image over the repetitions.
 * --convs: times every distinct conv of the net (shape, stride) at each batch through
 * lis_conv2d_cpu_packed, with GFLOP/s from 2*MACs, to show where the time goes.
 * Compare with torchvision: bench/torchvision_resnet50.py (same threads, batch).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nets/resnet.h"
#include "runtime/threads.h"
#include "weights_tools/synth_init.h"

int lis_bench_resnet(int argc, char **argv);

typedef struct {
    double mean, sd, min; /* wall ms/image; the min is the least disturbed by other load */
    double cpu;      /* min over reps of process CPU ms/image (all threads): robust when the machine is shared */
    int reps;
} timing;

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static timing time_forward(lis_resnet *net, int N, const float *x, float *r, float *lg, int min_reps, double min_time) {
    lis_resnet_forward(net, N, 224, 224, x, r, lg, NULL); /* warm-up (plans, faults pages) */
    double *t = malloc(sizeof(double) * 10000), cmin = 1e30;
    int n = 0;
    double start = lis_now();
    while (n < 10000 && (n < min_reps || lis_now() - start < min_time)) {
        double t0 = lis_now(), c0 = cpu_now();
        lis_resnet_forward(net, N, 224, 224, x, r, lg, NULL);
        t[n++] = (lis_now() - t0) * 1e3 / N;
        double c = (cpu_now() - c0) * 1e3 / N;
        if (c < cmin) cmin = c;
    }
    timing out = {0, 0, t[0], cmin, n};
    for (int i = 0; i < n; i++) {
        out.mean += t[i] / n;
        if (t[i] < out.min) out.min = t[i];
    }
    for (int i = 0; i < n && n > 1; i++) out.sd += (t[i] - out.mean) * (t[i] - out.mean) / (n - 1);
    out.sd = sqrt(out.sd);
    free(t);
    return out;
}

/* Validates r and logits against the resnet50_synth bundle (README tolerances). */
static int validate(lis_resnet *net, const char *dir) {
    char p[512];
    lis_safetensors pre, io;
    snprintf(p, sizeof p, "%s/preprocess/io.safetensors", dir);
    if (lis_st_open(&pre, p) != LIS_OK) { fprintf(stderr, "validate: %s\n", lis_err_msg()); return 0; }
    snprintf(p, sizeof p, "%s/resnet50_synth/io.safetensors", dir);
    if (lis_st_open(&io, p) != LIS_OK) { fprintf(stderr, "validate: %s\n", lis_err_msg()); lis_st_close(&pre); return 0; }
    const char *names[4] = {"img256_a.tensor", "img256_b.tensor", "img128.tensor", "img512.tensor"};
    size_t per = 3 * 224 * 224;
    float *x = malloc(4 * per * sizeof(float)), *r = malloc(4 * 2048 * sizeof(float)), *lg = malloc(4 * 1000 * sizeof(float));
    int ok = 1;
    for (int i = 0; i < 4 && ok; i++) {
        const lis_st_entry *e = lis_st_find(&pre, names[i]);
        ok = e && lis_tensor_numel(&e->t) == (int64_t)per && e->t.dtype == LIS_DTYPE_F32;
        if (ok) memcpy(x + i * per, e->t.data, per * sizeof(float));
    }
    const lis_st_entry *er = lis_st_find(&io, "r"), *el = lis_st_find(&io, "logits");
    ok = ok && er && el && lis_resnet_forward(net, 4, 224, 224, x, r, lg, NULL) == LIS_OK;
    double er_max = 0, el_max = 0, rmax = 1, lmax = 1;
    for (int i = 0; ok && i < 4 * 2048; i++) {
        er_max = fmax(er_max, fabs(r[i] - ((float *)er->t.data)[i]));
        rmax = fmax(rmax, fabs(((float *)er->t.data)[i]));
    }
    for (int i = 0; ok && i < 4 * 1000; i++) {
        el_max = fmax(el_max, fabs(lg[i] - ((float *)el->t.data)[i]));
        lmax = fmax(lmax, fabs(((float *)el->t.data)[i]));
    }
    /* refs/resnet50_synth README: r, logits max abs error <= 1e-5 * max(1, max|ref|) */
    ok = ok && er_max <= 1e-5 * rmax && el_max <= 1e-5 * lmax;
    printf("validation vs refs/resnet50_synth: max|r err| %.3g (tol %.3g), max|logit err| %.3g (tol %.3g): %s\n", er_max,
           1e-5 * rmax, el_max, 1e-5 * lmax, ok ? "OK" : "FAILED");
    free(x); free(r); free(lg);
    lis_st_close(&pre);
    lis_st_close(&io);
    return ok;
}

/* ---- per-conv table ---- */

typedef struct {
    const lis_resnet_conv *cv;
    int H, W, count;
} conv_row;

static void conv_table(lis_resnet *net, int N, int reps, double min_time, int csv) {
    /* distinct (cin, cout, k, stride, H) in network order */
    conv_row rows[64];
    int nrows = 0, h = 224, w = 224;
    const lis_resnet_conv *all[256];
    int allh[256], nall = 0;
    all[nall] = &net->stem; allh[nall++] = h;
    h = (h + 2 * net->stem.pad - net->stem.k) / net->stem.stride + 1;
    h = (h + 2 - 3) / 2 + 1;
    for (int b = 0; b < net->total_blocks && nall < 250; b++) {
        const lis_resnet_block *blk = &net->blocks[b];
        if (blk->has_ds) { all[nall] = &blk->ds; allh[nall++] = h; }
        int ch = h;
        for (int c = 0; c < blk->nconv; c++) {
            all[nall] = &blk->conv[c]; allh[nall++] = ch;
            ch = (ch + 2 * blk->conv[c].pad - blk->conv[c].k) / blk->conv[c].stride + 1;
        }
        h = ch;
    }
    (void)w;
    for (int i = 0; i < nall; i++) {
        int j = 0;
        for (; j < nrows; j++)
            if (rows[j].cv->cin == all[i]->cin && rows[j].cv->cout == all[i]->cout && rows[j].cv->k == all[i]->k &&
                rows[j].cv->stride == all[i]->stride && rows[j].H == allh[i])
                break;
        if (j == nrows && nrows < 64) { rows[nrows].cv = all[i]; rows[nrows].H = rows[nrows].W = allh[i]; rows[nrows].count = 0; nrows++; }
        if (j < 64) rows[j].count++;
    }
    if (!csv) printf("\n| conv (N=%d) | count | min ms/call | GFLOP/s | share of conv time |\n|---|---|---|---|---|\n", N);
    double total = 0, tms[64];
    for (int i = 0; i < nrows; i++) {
        const lis_resnet_conv *cv = rows[i].cv;
        lis_conv2d_params p = {N, cv->cin, rows[i].H, rows[i].W, cv->cout, cv->k, cv->k, cv->stride, cv->stride,
                               cv->pad, cv->pad, 1, 1, LIS_ACT_RELU, 0.0f};
        int Ho, Wo;
        lis_conv2d_out_shape(&p, &Ho, &Wo);
        size_t nx = (size_t)N * p.C * p.H * p.W, ny = (size_t)N * p.K * Ho * Wo;
        float *x = lis_alloc_aligned(nx * 4, "x"), *y = lis_alloc_aligned(ny * 4, "y");
        void *ws = lis_alloc_aligned(lis_resnet_conv_workspace(cv, N, p.H, p.W), "ws");
        for (size_t k = 0; k < nx; k++) x[k] = (float)((k * 2654435761u) >> 8 & 0xff) / 256.0f;
        lis_resnet_conv_run(cv, N, p.H, p.W, x, NULL, y, LIS_ACT_RELU, ws);
        int n = 0;
        double t0 = lis_now(), best = 1e30;
        while (n < reps || lis_now() - t0 < min_time) {
            double t1 = lis_now();
            lis_resnet_conv_run(cv, N, p.H, p.W, x, NULL, y, LIS_ACT_RELU, ws);
            t1 = lis_now() - t1;
            if (t1 < best) best = t1;
            n++;
        }
        tms[i] = best * 1e3; /* the minimum: least disturbed by other processes */
        total += tms[i] * rows[i].count;
        free(x); free(y); free(ws);
    }
    for (int i = 0; i < nrows; i++) {
        const lis_resnet_conv *cv = rows[i].cv;
        int Ho = (rows[i].H + 2 * cv->pad - cv->k) / cv->stride + 1;
        double flop = 2.0 * N * cv->cout * cv->cin * cv->k * cv->k * (double)Ho * Ho;
        char name[96];
        snprintf(name, sizeof name, "%dx%d/%d %d->%d @%d", cv->k, cv->k, cv->stride, cv->cin, cv->cout, rows[i].H);
        if (csv) printf("conv,%s,%d,%d,%.4f,%.2f\n", name, N, rows[i].count, tms[i], flop / tms[i] * 1e-6);
        else printf("| %s | %d | %.3f | %.1f | %.1f%% |\n", name, rows[i].count, tms[i], flop / tms[i] * 1e-6,
                    100.0 * tms[i] * rows[i].count / total);
    }
    if (!csv) printf("sum of conv time per forward: %.1f ms (%.2f ms/image)\n", total, total / N);
}

int lis_bench_resnet(int argc, char **argv) {
    const char *weights = NULL, *manifest = NULL, *batches = "1,32", *data = "tests/data";
    int threads = 0, reps = 5, convs = 0, csv = 0, sub_batch = 0;
    double min_time = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--weights") && v) { weights = v; i++; }
        else if (!strcmp(a, "--manifest") && v) { manifest = v; i++; }
        else if (!strcmp(a, "--batch") && v) { batches = v; i++; }
        else if (!strcmp(a, "--threads") && v) { threads = atoi(v); i++; }
        else if (!strcmp(a, "--reps") && v) { reps = atoi(v); i++; }
        else if (!strcmp(a, "--min-time") && v) { min_time = atof(v); i++; }
        else if (!strcmp(a, "--data") && v) { data = v; i++; }
        else if (!strcmp(a, "--sub-batch") && v) { sub_batch = atoi(v); i++; }
        else if (!strcmp(a, "--convs")) convs = 1;
        else if (!strcmp(a, "--csv")) csv = 1;
        else {
            printf("usage: lis-bench resnet [--weights FILE.safetensors | --manifest FILE] [--batch 1,32]\n"
                   "                        [--threads N] [--reps N] [--min-time S] [--sub-batch N] [--convs] [--csv]\n"
                   "                        [--data DIR]\n"
                   "defaults: synth-init ResNet-50 from DIR/resnet50_synth/weights.manifest (validated against the\n"
                   "bundle first), batches 1 and 32, all cores (or LIS_THREADS), >= 5 reps and >= 1 s per row.\n");
            return strcmp(a, "--help") ? 2 : 0;
        }
    }
    if (threads > 0 && !lis_threads_set(threads) && threads != lis_threads_count())
        fprintf(stderr, "lis-bench resnet: --threads %d ignored: the thread pool already runs %d threads "
                        "(set LIS_THREADS=%d instead)\n", threads, lis_threads_count(), threads);
#ifndef NDEBUG
    fprintf(stderr, "note: NDEBUG is not set (assertions on; they are cheap here)\n");
#endif
    lis_resnet net;
    char mpath[512];
    int synth_default = !weights && !manifest;
    if (synth_default) { snprintf(mpath, sizeof mpath, "%s/resnet50_synth/weights.manifest", data); manifest = mpath; }
    lis_status s;
    if (weights) {
        s = lis_resnet_load_file(&net, weights);
    } else {
        lis_manifest m;
        lis_safetensors set;
        s = lis_manifest_read(&m, manifest);
        if (s == LIS_OK) {
            s = lis_synth_build(&set, &m, NULL);
            lis_manifest_free(&m);
            if (s == LIS_OK) { s = lis_resnet_load(&net, &set); lis_st_close(&set); }
        }
    }
    if (s != LIS_OK) { fprintf(stderr, "lis-bench resnet: %s\n", lis_err_msg()); return 1; }
    net.sub_batch = sub_batch;
    if (synth_default && !validate(&net, data)) { lis_resnet_free(&net); return 1; }

    double macs = lis_resnet_macs(&net, 224, 224);
    if (csv) printf("op,params,variant,device,threads,batch,ms_per_image,sd,min_ms,cpu_ms_per_image,images_per_s,gmac_per_s\n");
    else printf("\n| net | threads | batch | wall ms/image (mean ± sd) | min | CPU ms/image (min) | images/s | GMAC/s | reps |\n"
                "|---|---|---|---|---|---|---|---|---|\n");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", batches);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int N = atoi(tok);
        if (N < 1) continue;
        size_t per = 3 * 224 * 224;
        float *x = lis_alloc_aligned((size_t)N * per * 4, "x"), *r = malloc((size_t)N * net.feat_dim * 4),
              *lg = malloc((size_t)N * net.num_classes * 4);
        unsigned seed = 1;
        for (size_t i = 0; i < (size_t)N * per; i++) { seed = seed * 1664525u + 1013904223u; x[i] = (float)(seed >> 8) / 16777216.0f * 4.0f - 2.0f; }
        timing t = time_forward(&net, N, x, r, lg, reps, min_time);
        char arch[64];
        snprintf(arch, sizeof arch, "resnet(%s %d-%d-%d-%d, %.2f GMAC)", net.bottleneck ? "bottleneck" : "basic",
                 net.nblocks[0], net.nblocks[1], net.nblocks[2], net.nblocks[3], macs * 1e-9);
        if (csv)
            printf("resnet_forward,\"%s\",cpu,cpu,%d,%d,%.3f,%.3f,%.3f,%.3f,%.2f,%.2f\n", arch, lis_threads_count(), N,
                   t.mean, t.sd, t.min, t.cpu, 1e3 / t.mean, macs / t.mean * 1e-6);
        else
            printf("| %s | %d | %d | %.1f ± %.1f | %.1f | %.1f | %.2f | %.1f | %d |\n", arch, lis_threads_count(), N,
                   t.mean, t.sd, t.min, t.cpu, 1e3 / t.mean, macs / t.mean * 1e-6, t.reps);
        fflush(stdout);
        free(x); free(r); free(lg);
        if (convs) conv_table(&net, N, 3, 0.3, csv);
    }
    lis_resnet_free(&net);
    return 0;
}
