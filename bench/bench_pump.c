/* bench_pump.c — `lis-bench pump`: PUMP matching throughput (pairs/s for LinkingInStyle's whole
 * comp_vis_motion path) and the pyramid's kernels against memory bandwidth, on the CPU and,
 * with --cuda and a device, on the GPU.
 *
 * Validation first: the m128 matching-only case of tests/data/pump (if present) must give the
 * reference's reciprocal and post-filtered rows exactly; without the data, the fused driver is
 * checked against the _ref oracle on a small random case. The CUDA kernels are checked against
 * the CPU (bit-identical by construction) before they are timed.
 *
 * Inputs for timing: a deterministic procedural 256 x 256 texture and the same texture moved by a
 * known similarity (rotation 3 deg, scale 1.04, shift (4, -3)), so the path does real work and
 * the recovered motion is printed as a sanity check. Bytes per kernel (napkin math, float32):
 *   corr   writes level 0                                   4 * h0*w0*cs0
 *   fwd 1  reads level 0, writes level 1                    4 * (|L0| + |L1|)
 *   bwd 1  reads level 0 (windows), reads+writes level 0, reads level 1   4 * (3|L0| + |L1|)
 *   best   reads level 0 (twice on the GPU: per-cell and per-block passes)
 * Times: wall mean ± sd over >= 5 repetitions; "cpu" is the process CPU time of the fastest
 * repetition (robust on a shared machine).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "kernels/pump_backward.h"
#include "kernels/pump_corr.h"
#include "kernels/pump_corr_cuda.h"
#include "kernels/pump_filter.h"
#include "kernels/pump_pyramid.h"
#include "kernels/pump_recip.h"
#include "nets/pump.h"
#include "nets/pump_cuda.h"
#include "runtime/backend.h"
#include "runtime/safetensors.h"
#include "runtime/threads.h"

int lis_bench_pump(int argc, char **argv);

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef void (*job_fn)(void *);
typedef struct {
    double mean, sd, cpu; /* seconds */
    int n;
} tm_t;

static tm_t timeit(job_fn fn, void *ctx, int min_reps, double min_time) {
    fn(ctx); /* warm-up: plans, page faults */
    double t[1000], cmin = 1e30;
    int n = 0;
    const double start = lis_now();
    while (n < 1000 && (n < min_reps || lis_now() - start < min_time)) {
        const double t0 = lis_now(), c0 = cpu_now();
        fn(ctx);
        t[n++] = lis_now() - t0;
        const double c = cpu_now() - c0;
        cmin = c < cmin ? c : cmin;
    }
    tm_t r = {0, 0, cmin, n};
    for (int i = 0; i < n; i++) r.mean += t[i] / n;
    for (int i = 0; i < n && n > 1; i++) r.sd += (t[i] - r.mean) * (t[i] - r.mean) / (n - 1);
    r.sd = sqrt(r.sd);
    return r;
}

static void row(const char *op, const char *params, const char *variant, const char *dev, tm_t r, double flops,
                double bytes, const char *extra) {
    char thr[64] = "-";
    if (flops > 0) snprintf(thr, sizeof thr, "%.1f GFLOP/s", flops / r.mean / 1e9);
    else if (bytes > 0) snprintf(thr, sizeof thr, "%.2f GB/s", bytes / r.mean / 1e9);
    printf("| %s | %s | %s | %s | %d | %.3f ± %.3f | %.3f | %s | %s |\n", op, params, variant, dev,
           lis_threads_count(), r.mean * 1e3, r.sd * 1e3, r.cpu * 1e3, thr, extra ? extra : "");
    fflush(stdout);
}

/* ---- inputs ---- */

static float texture(double x, double y) {
    double v = 0;
    for (int o = 0; o < 5; o++) {
        const double f = 0.05 * (1 << o);
        v += sin(x * f * 1.3 + 0.7 * o) * cos(y * f * 0.9 - 1.1 * o) / (1 << o);
    }
    return (float)v;
}

static void make_pair(int S, uint8_t *a, uint8_t *b) {
    const double th = 3.0 * M_PI / 180, sc = 1.04, c = 0.5 * (S - 1), tx = 4, ty = -3;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int ch = 0; ch < 3; ch++) {
                /* b(q) = a(A^-1 q) with A = similarity about the centre */
                const double qx = x - c - tx, qy = y - c - ty;
                const double px = (cos(th) * qx + sin(th) * qy) / sc + c, py = (-sin(th) * qx + cos(th) * qy) / sc + c;
                const double va = texture(x + 17 * ch, y - 9 * ch), vb = texture(px + 17 * ch, py - 9 * ch);
                a[((size_t)y * S + x) * 3 + ch] = (uint8_t)fmin(255, fmax(0, 128 + 60 * va));
                b[((size_t)y * S + x) * 3 + ch] = (uint8_t)fmin(255, fmax(0, 128 + 60 * vb));
            }
}

/* ---- validation ---- */

static int validate(const char *data) {
    char path[512];
    snprintf(path, sizeof path, "%s/pump/io.safetensors", data);
    lis_safetensors io;
    if (lis_st_open(&io, path) != LIS_OK) {
        printf("validation: %s not readable; fused driver vs _ref on a random case instead\n", path);
        lis_pump_geom g;
        lis_pump_geom_init(&g, 16, 6, 7, 32, 28, 99, 5, 1.5, 0.9);
        float *d1 = calloc((size_t)16 * g.cs[0], sizeof(float)), *d2 = malloc(sizeof(float) * 32 * 28 * 16);
        unsigned s = 1;
        for (int i = 0; i < 16 * g.ncell[0]; i++) { s = s * 1664525u + 1013904223u; d1[(i % 16) * g.cs[0] + i / 16] = (float)(s >> 9) / 8388608.0f - 1; }
        for (int i = 0; i < 32 * 28 * 16; i++) { s = s * 1664525u + 1013904223u; d2[i] = (float)(s >> 9) / 8388608.0f - 1; }
        const int nc = g.ncell[0], nb = 8 * 7;
        float *a = malloc(16 * nc), *b = malloc(4 * nc), *c = malloc(16 * nb), *d = malloc(4 * nb);
        float *e = malloc(16 * nc), *f = malloc(4 * nc), *gg = malloc(16 * nb), *h = malloc(4 * nb);
        lis_pump_pyramid py;
        memset(&py, 0, sizeof py);
        int ok = lis_pump_pyramid_ref(&g, d1, d2, a, b, c, d, NULL, NULL) == LIS_OK && lis_pump_pyramid_plan(&py, &g, 0) == LIS_OK &&
                 lis_pump_pyramid_set_desc2(&py, d2) == LIS_OK && lis_pump_pyramid_forward(&py, d1) == LIS_OK;
        if (ok) lis_pump_pyramid_backward(&py, d1, e, f, gg, h);
        ok = ok && !memcmp(a, e, 16 * nc) && !memcmp(c, gg, 16 * nb);
        lis_pump_pyramid_free(&py);
        free(d1); free(d2); free(a); free(b); free(c); free(d); free(e); free(f); free(gg); free(h);
        printf("validation: fused driver == _ref best matches: %s\n", ok ? "yes" : "NO");
        return ok;
    }
    lis_pump_matcher m;
    memset(&m, 0, sizeof m);
    lis_pump_params prm;
    lis_pump_params_default(&prm);
    lis_tensor t1 = {0}, t2 = {0}, tc = {0};
    int ok = lis_pump_matcher_plan(&m, &prm, 128, 128, 128, 128, 128) == LIS_OK &&
             lis_tensor_to_f32(&lis_st_find(&io, "m128.desc1")->t, &t1) == LIS_OK &&
             lis_tensor_to_f32(&lis_st_find(&io, "m128.desc2")->t, &t2) == LIS_OK &&
             lis_tensor_to_f32(&lis_st_find(&io, "m128.corres")->t, &tc) == LIS_OK;
    if (ok) {
        for (int c = 0; c < 128; c++) memcpy(m.desc1 + (size_t)c * m.g.cs[0], (float *)t1.data + c * 1024, 4096);
        for (int c = 0; c < 128; c++)
            for (int q = 0; q < 16384; q++) m.desc2[(size_t)q * 128 + c] = ((float *)t2.data)[(size_t)c * 16384 + q];
        ok = lis_pump_matcher_set_desc2(&m) == LIS_OK && lis_pump_match_descs(&m) == LIS_OK;
        ok = ok && m.ncorres == tc.shape[0];
        for (int i = 0; ok && i < m.ncorres; i++)
            for (int k = 0; k < 4; k++) ok = ok && m.corres[6 * i + k] == ((float *)tc.data)[6 * i + k];
    }
    printf("validation: m128 corres (%d rows) identical to the reference: %s\n", m.ncorres, ok ? "yes" : "NO");
    lis_tensor_free(&t1);
    lis_tensor_free(&t2);
    lis_tensor_free(&tc);
    lis_pump_matcher_free(&m);
    lis_st_close(&io);
    return ok;
}

/* ---- CPU jobs ---- */

typedef struct {
    lis_pump_net *net;
    lis_pump_matcher *m;
    const uint8_t *a, *b;
    int S, full;
    float *out;
    lis_pump_geom *g;
    float *P0, *P1, *w0, *w1, *pos1, *s1, *pos2, *s2, *d1, *d2;
    lis_pump_motion *mo;
    lis_pump_motion_params *mp;
    lis_pump_pyramid *py;
} cpu_ctx;

static void j_describe(void *v) { cpu_ctx *c = v; lis_pump_net_describe(c->net, c->a, c->S, c->S, c->full, c->out, c->g->cs[0]); }
static void j_corr(void *v) { cpu_ctx *c = v; lis_pump_corr_cpu(c->g, c->d1, c->d2, c->P0); }
static void j_fwd1(void *v) { cpu_ctx *c = v; lis_pump_fwd_level_cpu(c->g, 1, c->P0, c->w0, c->P1, c->w1); }
static void j_bwd1(void *v) { cpu_ctx *c = v; lis_pump_bwd_level_cpu(c->g, 1, c->P1, c->P0); }
static void j_best(void *v) { cpu_ctx *c = v; lis_pump_best_cpu(c->g, c->P0, c->pos1, c->s1, c->pos2, c->s2); }
static void j_pyramid(void *v) {
    cpu_ctx *c = v;
    lis_pump_pyramid_forward(c->py, c->d1);
    lis_pump_pyramid_backward(c->py, c->d1, c->pos1, c->s1, c->pos2, c->s2);
}
static void j_run(void *v) { cpu_ctx *c = v; lis_pump_match_images(c->m, c->net, c->a, c->b, c->S, c->S, 0); }
static void j_pair(void *v) { cpu_ctx *c = v; lis_pump_motion_run(c->m, c->net, c->a, c->b, c->S, c->S, c->mp, c->mo); }

/* ---- CUDA ---- */

typedef struct {
    const lis_pump_geom *g;
    const float *d1, *d2;
    float *P0, *P1, *w0, *nrm1, *ws;
    void *bws, *best_ws;
    float *pos1, *s1, *pos2, *s2;
    int variant;
} gpu_ctx;

static void g_corr(void *v) {
    gpu_ctx *c = v;
    const lis_pump_corr_cuda_variant *vs;
    lis_pump_corr_cuda_variants(&vs);
    vs[c->variant].fn(c->g, c->d1, c->d2, c->P0, NULL);
    lis_dev_sync();
}
static void g_fwd(void *v) {
    gpu_ctx *c = v;
    const lis_pump_fwd_cuda_variant *vs;
    lis_pump_fwd_level_cuda_variants(&vs);
    vs[c->variant].fn(c->g, 1, c->P0, c->w0, c->nrm1, c->P1, c->ws, NULL);
    lis_dev_sync();
}
static void g_bwd(void *v) { gpu_ctx *c = v; lis_pump_bwd_level_cuda(c->g, 1, c->P1, c->P0, c->bws, NULL); lis_dev_sync(); }
static void g_best(void *v) {
    gpu_ctx *c = v;
    lis_pump_best_cuda(c->g, c->P0, c->pos1, c->s1, c->pos2, c->s2, c->best_ws, NULL);
    lis_dev_sync();
}

static void bench_cuda(lis_pump_net *net, const char *weights, const uint8_t *a, const uint8_t *b, int S,
                       const float *d1h, const float *d2h, const lis_pump_geom *g, const float *P0h, const float *P1h,
                       int min_reps, double min_time) {
    char info[256];
    printf("\nGPU: %s\n", lis_cuda_describe(info, sizeof info));
    const size_t n0 = lis_pump_level_floats(g, 0), n1 = lis_pump_level_floats(g, 1);
    gpu_ctx c;
    memset(&c, 0, sizeof c);
    c.g = g;
    float *w0h = malloc(sizeof(float) * g->cs[0]), *w1h = malloc(sizeof(float) * g->cs[1]),
          *nrh = malloc(sizeof(float) * 9 * g->cs[1]);
    lis_pump_weights0(g, w0h);
    lis_pump_level_norms(g, 1, w0h, w1h, nrh);
    c.d1 = lis_dev_upload(d1h, sizeof(float) * (size_t)g->C * g->cs[0], "d1");
    c.d2 = lis_dev_upload(d2h, sizeof(float) * (size_t)g->h[0] * g->w[0] * g->C, "d2");
    c.w0 = lis_dev_upload(w0h, sizeof(float) * g->cs[0], "w0");
    c.nrm1 = lis_dev_upload(nrh, sizeof(float) * 9 * g->cs[1], "nrm");
    c.P0 = lis_dev_alloc(sizeof(float) * n0, "P0");
    c.P1 = lis_dev_alloc(sizeof(float) * n1, "P1");
    c.ws = lis_dev_alloc(sizeof(float) * lis_pump_fwd_level_cuda_workspace(g, 1), "ws");
    c.bws = lis_dev_alloc(lis_pump_bwd_level_cuda_workspace(g, 1), "bws");
    c.best_ws = lis_dev_alloc(lis_pump_best_cuda_workspace(g), "best ws");
    c.pos1 = lis_dev_alloc(16 * (size_t)g->ncell[0], "pos1");
    c.s1 = lis_dev_alloc(4 * (size_t)g->ncell[0], "s1");
    c.pos2 = lis_dev_alloc(16 * (size_t)(g->h[0] / 4) * (g->w[0] / 4), "pos2");
    c.s2 = lis_dev_alloc(4 * (size_t)(g->h[0] / 4) * (g->w[0] / 4), "s2");
    if (!c.d1 || !c.d2 || !c.w0 || !c.nrm1 || !c.P0 || !c.P1 || !c.ws || !c.bws || !c.best_ws || !c.pos1 || !c.s1 ||
        !c.pos2 || !c.s2) {
        printf("GPU: %s\n", lis_err_msg());
        goto done;
    }
    char params[96];
    snprintf(params, sizeof params, "img %dx%d, cells %d", g->w[0], g->h[0], g->ncell[0]);
    float *chk = malloc(sizeof(float) * n0);
    const lis_pump_corr_cuda_variant *cv;
    const int ncv = lis_pump_corr_cuda_variants(&cv);
    for (int k = 0; k < ncv; k++) {
        c.variant = k;
        g_corr(&c);
        lis_dev_d2h(chk, c.P0, sizeof(float) * n0, NULL);
        const int same = !memcmp(chk, P0h, sizeof(float) * n0);
        tm_t r = timeit(g_corr, &c, min_reps, min_time);
        row("pump corr (level 0)", params, cv[k].name, "cuda", r, 2.0 * g->h[0] * g->w[0] * g->ncell[0] * g->C, 0,
            same ? "== CPU" : "DIFFERS from CPU");
        printf("|  |  |  |  |  |  |  | %.1f GB/s written |  |\n", 4.0 * n0 / r.mean / 1e9);
    }
    float *chk1 = malloc(sizeof(float) * n1);
    lis_dev_h2d(c.P0, P0h, sizeof(float) * n0, NULL);
    const lis_pump_fwd_cuda_variant *fv;
    const int nfv = lis_pump_fwd_level_cuda_variants(&fv);
    for (int k = 0; k < nfv; k++) {
        c.variant = k;
        g_fwd(&c);
        lis_dev_d2h(chk1, c.P1, sizeof(float) * n1, NULL);
        const int same = !memcmp(chk1, P1h, sizeof(float) * n1);
        tm_t r = timeit(g_fwd, &c, min_reps, min_time);
        row("pump fwd level 1", params, fv[k].name, "cuda", r, 0, 4.0 * (n0 + n1), same ? "== CPU" : "DIFFERS from CPU");
    }
    {
        /* the backward modifies level 0: time on a scratch copy, restoring it between reps
         * would dominate, so the rows time repeated refinement of the same data (same traffic) */
        tm_t r = timeit(g_bwd, &c, min_reps, min_time);
        row("pump bwd level 1->0", params, "v1", "cuda", r, 0, 4.0 * (3 * n0 + n1), NULL);
        r = timeit(g_best, &c, min_reps, min_time);
        row("pump best matches", params, "v1", "cuda", r, 0, 4.0 * 2 * n0, NULL);
    }
    free(chk);
    free(chk1);
    {
        lis_pump_cuda gpu;
        lis_pump_matcher m;
        memset(&m, 0, sizeof m);
        lis_pump_motion mo;
        memset(&mo, 0, sizeof mo);
        lis_pump_motion_params mp;
        lis_pump_motion_params_default(&mp);
        if (lis_pump_cuda_init_file(&gpu, net, weights, 0) != LIS_OK) {
            printf("GPU: %s\n", lis_err_msg());
            goto done;
        }
        m.gpu = &gpu;
        cpu_ctx cc = {.net = net, .m = &m, .a = a, .b = b, .S = S, .mo = &mo, .mp = &mp};
        tm_t r = timeit(j_run, &cc, min_reps, min_time);
        char extra[96];
        snprintf(extra, sizeof extra, "descriptors %.1f ms + pyramid %.1f ms", m.t_desc * 1e3, m.t_match * 1e3);
        row("PUMP run (2 images)", params, "fp32", "cuda", r, 0, 0, extra);
        r = timeit(j_pair, &cc, min_reps, min_time);
        snprintf(extra, sizeof extra, "%.2f pairs/s", 1.0 / r.mean);
        row("pair (comp_vis_motion)", params, "fp32", "cuda", r, 0, 0, extra);
        lis_pump_motion_free(&mo);
        lis_pump_matcher_free(&m);
        lis_pump_cuda_free(&gpu);
    }
done:
    lis_dev_free((void *)c.d1); lis_dev_free((void *)c.d2); lis_dev_free(c.w0); lis_dev_free(c.nrm1);
    lis_dev_free(c.P0); lis_dev_free(c.P1); lis_dev_free(c.ws); lis_dev_free(c.bws); lis_dev_free(c.best_ws);
    lis_dev_free(c.pos1); lis_dev_free(c.s1); lis_dev_free(c.pos2); lis_dev_free(c.s2);
    free(w0h); free(w1h); free(nrh);
}

int lis_bench_pump(int argc, char **argv) {
    int S = 256, threads = 0, min_reps = 5, cuda = 0, kernels = 1;
    double min_time = 1.0;
    const char *data = "tests/data", *weights = "synth";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--size") && v) { S = atoi(v); i++; }
        else if (!strcmp(a, "--threads") && v) { threads = atoi(v); i++; }
        else if (!strcmp(a, "--reps") && v) { min_reps = atoi(v); i++; }
        else if (!strcmp(a, "--min-time") && v) { min_time = atof(v); i++; }
        else if (!strcmp(a, "--data") && v) { data = v; i++; }
        else if (!strcmp(a, "--weights") && v) { weights = v; i++; }
        else if (!strcmp(a, "--cuda")) cuda = 1;
        else if (!strcmp(a, "--no-kernels")) kernels = 0;
        else {
            printf("usage: lis-bench pump [--size N] [--threads N] [--reps N] [--min-time S] [--cuda] [--no-kernels]\n"
                   "                      [--weights synth|FILE] [--data DIR]\n"
                   "defaults: 256 x 256 pairs, all cores (or LIS_THREADS), >= 5 reps and >= 1 s per row, CPU only;\n"
                   "--cuda adds the GPU rows (kernels checked against the CPU first). Validates on DIR/pump first.\n");
            return strcmp(a, "--help") ? 2 : 0;
        }
    }
    if (S < 16 || S % 4) { fprintf(stderr, "lis-bench pump: --size must be a multiple of 4, >= 16\n"); return 2; }
    if (threads > 0) lis_threads_set(threads);
    if (!validate(data)) { fprintf(stderr, "lis-bench pump: validation failed, not timing\n"); return 1; }
    lis_pump_net net;
    if (lis_pump_net_load_file(&net, weights) != LIS_OK) { fprintf(stderr, "lis-bench pump: %s\n", lis_err_msg()); return 1; }
    uint8_t *a = malloc((size_t)S * S * 3), *b = malloc((size_t)S * S * 3);
    make_pair(S, a, b);
    lis_pump_params prm;
    lis_pump_params_default(&prm);
    lis_pump_geom g;
    lis_pump_geom_init(&g, net.out_dim, S / 4, S / 4, S, S, prm.levels, prm.min_shape, prm.nlpow, prm.border);
    char params[96];
    snprintf(params, sizeof params, "img %dx%d, cells %d", S, S, g.ncell[0]);
    printf("\n| op | params | variant | device | threads | wall (ms) | cpu (ms) | throughput | note |\n"
           "|---|---|---|---|---|---|---|---|---|\n");
    const size_t n0 = lis_pump_level_floats(&g, 0), n1 = lis_pump_level_floats(&g, 1);
    float *d1 = calloc((size_t)g.C * g.cs[0], sizeof(float)), *d2 = malloc(sizeof(float) * (size_t)S * S * g.C);
    float *pos1 = malloc(16 * (size_t)g.ncell[0]), *s1 = malloc(4 * (size_t)g.ncell[0]);
    float *pos2 = malloc(16 * (size_t)(S / 4) * (S / 4) + 16), *s2 = malloc(4 * (size_t)(S / 4) * (S / 4) + 4);
    cpu_ctx c = {.net = &net, .a = a, .b = b, .S = S, .g = &g, .d1 = d1, .d2 = d2, .pos1 = pos1, .s1 = s1, .pos2 = pos2, .s2 = s2};
    lis_pump_net_describe(&net, a, S, S, 0, d1, g.cs[0]);
    lis_pump_net_describe(&net, b, S, S, 1, d2, 0);
    const double macs = lis_pump_net_macs(&net, S, S);
    c.full = 1;
    c.out = malloc(sizeof(float) * (size_t)S * S * g.C);
    tm_t r = timeit(j_describe, &c, min_reps, min_time);
    row("descriptor net (full)", params, "fp32", "cpu", r, 2 * macs, 0, NULL);
    free(c.out);
    float *P0 = NULL, *P1 = NULL;
    if (kernels) {
        P0 = lis_alloc_aligned(sizeof(float) * n0, "P0");
        P1 = lis_alloc_aligned(sizeof(float) * n1, "P1");
        c.w0 = malloc(sizeof(float) * g.cs[0]);
        c.w1 = malloc(sizeof(float) * g.cs[1]);
        lis_pump_weights0(&g, c.w0);
        c.P0 = P0;
        c.P1 = P1;
        r = timeit(j_corr, &c, 2, min_time);
        row("pump corr (level 0)", params, "cpu (GEMM + act)", "cpu", r, 2.0 * S * S * g.ncell[0] * g.C, 0, NULL);
        r = timeit(j_fwd1, &c, 2, min_time);
        row("pump fwd level 1", params, "cpu", "cpu", r, 0, 4.0 * (n0 + n1), NULL);
        r = timeit(j_best, &c, 2, min_time);
        row("pump best matches", params, "cpu", "cpu", r, 0, 4.0 * n0, NULL);
        r = timeit(j_bwd1, &c, 2, min_time); /* refines repeatedly: same traffic each time */
        row("pump bwd level 1->0", params, "cpu", "cpu", r, 0, 4.0 * (3 * n0 + n1), NULL);
        /* clean copies for the GPU comparison */
        lis_pump_corr_cpu(&g, d1, d2, P0);
        lis_pump_fwd_level_cpu(&g, 1, P0, c.w0, P1, c.w1);
    }
    for (int store = 1; store >= 0; store--) {
        lis_pump_pyramid py;
        memset(&py, 0, sizeof py);
        if (lis_pump_pyramid_plan(&py, &g, store ? (size_t)1 << 40 : 0) != LIS_OK || lis_pump_pyramid_set_desc2(&py, d2) != LIS_OK) {
            fprintf(stderr, "lis-bench pump: %s\n", lis_err_msg());
            break;
        }
        c.py = &py;
        r = timeit(j_pyramid, &c, 2, min_time);
        row("pump pyramid (fwd + bwd + best)", params, store ? "fused, level 0 kept" : "fused, level 0 recomputed", "cpu", r,
            0, 0, NULL);
        lis_pump_pyramid_free(&py);
    }
    {
        lis_pump_matcher m;
        memset(&m, 0, sizeof m);
        lis_pump_motion mo;
        memset(&mo, 0, sizeof mo);
        lis_pump_motion_params mp;
        lis_pump_motion_params_default(&mp);
        c.m = &m;
        c.mo = &mo;
        c.mp = &mp;
        r = timeit(j_run, &c, 2, min_time);
        char extra[128];
        snprintf(extra, sizeof extra, "descriptors %.0f ms + pyramid %.0f ms + recip/filter %.0f ms", m.t_desc * 1e3,
                 m.t_match * 1e3, m.t_post * 1e3);
        row("PUMP run (2 images)", params, "fp32", "cpu", r, 0, 0, extra);
        r = timeit(j_pair, &c, 2, min_time);
        snprintf(extra, sizeof extra, "%.3f pairs/s (cpu time: %.3f pairs/s per core-second); rot %.2f deg, scale %.4f",
                 1.0 / r.mean, 1.0 / r.cpu, mo.rot_deg, mo.scale);
        row("pair (comp_vis_motion)", params, "fp32", "cpu", r, 0, 0, extra);
        printf("(known motion of the synthetic pair: rotation 3.00 deg, scale 1.0400)\n");
        lis_pump_motion_free(&mo);
        lis_pump_matcher_free(&m);
    }
    if (cuda) {
        if (lis_cuda_device_count() <= 0) {
            char info[256];
            printf("\nSKIP cuda: %s\n", lis_cuda_describe(info, sizeof info));
        } else if (!kernels) {
            printf("\nSKIP cuda: needs the CPU kernel rows for the comparison (drop --no-kernels)\n");
        } else {
            bench_cuda(&net, weights, a, b, S, d1, d2, &g, P0, P1, min_reps, min_time);
        }
    }
    free(P0); free(P1); free(c.w0); free(c.w1);
    free(d1); free(d2); free(pos1); free(s1); free(pos2); free(s2); free(a); free(b);
    lis_pump_net_free(&net);
    return 0;
}
