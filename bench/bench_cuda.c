/* bench_cuda.c — GPU benchmarks: kernel microbenchmarks against the library doing the same
 * op (cuBLAS GEMM, cuDNN convolution) and end-to-end images/s of the generator and the
 * classifier in each precision, with each reduced precision's deviation from float32.
 *
 *   lis-bench cuda [SUITES] [--filter S] [--seconds 0.3] [--precisions fp32,tf32,bf16,fp16]
 *                  [--gen-batch 1,8,32,64] [--cls-batch 1,64,256] [--e2e-batch 8]
 *                  [--weights G.safetensors] [--budget SECONDS] [--jsonl FILE]
 *   SUITES: comma list of ops, generator, classifier, e2e (default: all four)
 *
 * Method (STYLE.md §8): every case of lis is validated before it is timed: the small ops,
 * the synthesis input and filtered_lrelu against the CPU path; GEMMs and convolutions against
 * the float32 library result (else our float32 v2); the modulated conv's float32 v2 against
 * the straight port v1 first; the generator's float32 image 0 against the reference bundle
 * when the weights and ws are the bundle's (seed 3, class 291, psi 0.7 on the synth-init
 * ImageNet-256 weights); the classifier's image-0 logits against the CPU backend; every
 * network output finite, reduced-precision networks within 0.5 of float32 (gross errors
 * only: their deviation is the "dev" column). A variant that fails is reported as FAILED and
 * not timed; the library baselines (cuBLAS, cuDNN) are timed as they come. Timing: CUDA events
 * around each call after a warm-up, the L2 cache flushed (a memset of 2 x L2) before each
 * call of memory-bound ops, reps until about --seconds / 5, five repetitions -> mean ± std.
 * Networks: one warm-up batch, then --net-reps timed batches (default 2). Throughput:
 * TFLOP/s from 2 x multiply-adds (convolutions, GEMMs), GB/s from the bytes an op must
 * read and write at least once. "vs lib" = library time / our time (> 1: faster than the
 * library). "dev" = max |x - x_fp32| / max |x_fp32| of a reduced-precision result.
 * --budget stops starting new measurements once the suite has run that long (the rows
 * not measured are listed as skipped), so a GPU window is never overrun.
 * Rows go to stdout as a markdown table; --jsonl also appends one JSON object per row,
 * skipped and failed rows included ("ok": 0, "status" says why), with the device, commit
 * from $LIS_COMMIT and the date; numbers that are not finite are written as null.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/args.h"
#include "kernels/bias_act.h"
#include "kernels/bias_act_cuda.h"
#include "kernels/conv_nhwc_cuda.h"
#include "kernels/conv2d.h"
#include "kernels/conv2d_cuda.h"
#include "kernels/filtered_lrelu.h"
#include "kernels/filtered_lrelu_cuda.h"
#include "kernels/fc_cuda.h"
#include "kernels/gemm.h"
#include "kernels/gemm_cuda.h"
#include "kernels/linear.h"
#include "kernels/linear_cuda.h"
#include "kernels/modconv.h"
#include "kernels/modconv_cuda.h"
#include "kernels/pool_cuda.h"
#include "kernels/preprocess_cuda.h"
#include "kernels/stem_s2d.h"
#include "kernels/synth_input_cuda.h"
#include "kernels/to_u8.h"
#include "kernels/to_u8_cuda.h"
#include "kernels/winograd_cuda.h"
#include "nets/resnet.h"
#include "nets/resnet_cuda.h"
#include "nets/stylegan_xl.h"
#include "nets/stylegan_xl_cuda.h"
#include "runtime/backend.h"
#include "runtime/np_random.h"
#include "runtime/threads.h"
#include "weights_tools/convert.h"
#include "weights_tools/synth_init.h"

int lis_bench_cuda(int argc, char **argv); /* the `cuda` suite of bench/lis-bench */

/* ---------------------------------------------------------------- state */

static lis_stream S;
static lis_event E0, E1;
static void *l2buf;
static size_t l2bytes;
static double g_secs = 0.3, g_budget = 0, g_t0;
static int g_net_reps = 2;
static const char *g_filter = "";
static FILE *g_jsonl;
static char g_dev[320], g_commit[64] = "unknown", g_date[32];
static int g_prec_on[LIS_PREC_COUNT];
static int g_rows, g_failed, g_skipped;

static int over_budget(void) { return g_budget > 0 && lis_now() - g_t0 > g_budget; }

static float *drand(size_t n, unsigned seed, float scale) {
    float *h = malloc(n * sizeof(float) + 64);
    LIS_ASSERT(h);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        h[i] = ((float)((seed >> 9) & 0xffff) / 32768.0f - 1.0f) * scale;
    }
    float *d = lis_dev_upload(h, n * sizeof(float), "bench input");
    free(h);
    if (!d) { fprintf(stderr, "lis-bench cuda: %s\n", lis_err_msg()); exit(1); }
    return d;
}

static float *dalloc(size_t n) {
    float *d = lis_dev_alloc(n * sizeof(float) + 64, "bench buffer");
    if (!d) { fprintf(stderr, "lis-bench cuda: %s\n", lis_err_msg()); exit(1); }
    return d;
}

static float *host(const float *d, size_t n) {
    float *h = malloc(n * sizeof(float) + 64);
    LIS_ASSERT(h);
    if (lis_dev_d2h(h, d, n * sizeof(float), S) != LIS_OK) for (size_t i = 0; i < n; i++) h[i] = NAN;
    return h;
}

/* max |a - b| / max(|b|) (relative to the reference's range); +inf if any a is not finite */
static double rel_dev(const float *a, const float *b, size_t n) {
    double m = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) return INFINITY;
        double d = fabs((double)a[i] - b[i]);
        if (d > m) m = d;
        if (fabs(b[i]) > mb) mb = fabs(b[i]);
    }
    return m / (mb > 0 ? mb : 1);
}

static double dev_dev(const float *da, const float *db, size_t n) {
    float *a = host(da, n), *b = host(db, n);
    double d = rel_dev(a, b, n);
    free(a);
    free(b);
    return d;
}

/* ---------------------------------------------------------------- timing and rows */

typedef lis_status (*gfn)(void *ctx);
typedef struct {
    double mean, std; /* seconds per call */
    int ok;
} gres;

/* warm = 1: one untimed call first (nets pass 0: they have just run for the deviation check).
 * A single call longer than --seconds with nrep = 1 is the measurement itself (big batches). */
static gres gtime(gfn fn, void *ctx, int flush, int warm, int nrep) {
    gres r = {0, 0, 0};
    float ms;
    double t[8], sum = 0;
    if (nrep < 1) nrep = 1;
    if (nrep > 8) nrep = 8; /* t[8] (the classifier asks for --net-reps + 1, up to 9) */
    /* LIS_BENCH_ONCE=1: one call per measurement, nothing else (under a profiler such as ncu,
     * which replays each launch: every kernel of interest is then launched twice, validation
     * and timing, whatever --seconds says) */
    const char *once = getenv("LIS_BENCH_ONCE");
    if (once && !strcmp(once, "1")) { warm = 0; nrep = 1; }
    if (warm && (fn(ctx) != LIS_OK || lis_stream_sync(S) != LIS_OK)) return r;
    if (flush && lis_dev_memset(l2buf, 0, l2bytes, S) != LIS_OK) return r;
    if (lis_event_record(E0, S) || fn(ctx) || lis_event_record(E1, S) || lis_event_elapsed_ms(E0, E1, &ms)) return r;
    const double one = ms / 1e3;
    if (nrep == 1 && (one >= g_secs || (once && !strcmp(once, "1")))) {
        r.mean = one;
        r.ok = 1;
        return r;
    }
    int reps = 1;
    if (one > 0 && one * reps < g_secs / nrep) reps = (int)(g_secs / nrep / one) + 1;
    if (reps > 10000) reps = 10000;
    for (int k = 0; k < nrep; k++) {
        double acc = 0;
        for (int i = 0; i < reps; i++) {
            if (flush && lis_dev_memset(l2buf, i & 0xff, l2bytes, S) != LIS_OK) return r;
            if (lis_event_record(E0, S) || fn(ctx) || lis_event_record(E1, S) || lis_event_elapsed_ms(E0, E1, &ms)) return r;
            acc += ms / 1e3;
        }
        t[k] = acc / reps;
        sum += t[k];
    }
    r.mean = sum / nrep;
    for (int k = 0; k < nrep; k++) r.std += (t[k] - r.mean) * (t[k] - r.mean);
    r.std = nrep > 1 ? sqrt(r.std / (nrep - 1)) : 0;
    r.ok = 1;
    return r;
}

static void header(void) {
    printf("\n| suite | op | params | variant | precision | time (ms) | throughput | vs lib | dev vs fp32 |\n"
           "|---|---|---|---|---|---|---|---|---|\n");
}

/* ---- JSON lines: every printed row is also one object (skipped and failed rows too) ---- */

static void jstr(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* a number, or null when it is not finite (JSON has no inf / nan) */
static void jnum(FILE *f, const char *fmt, double v) {
    if (isfinite(v)) fprintf(f, fmt, v);
    else fputs("null", f);
}

static void jsonl_row(const char *suite, const char *op, const char *params, const char *variant, const char *prec, int ok,
                      double time_ms, double std_ms, double thr, const char *unit, double vs_lib, double dev,
                      const char *status) {
    if (!g_jsonl) return;
    FILE *f = g_jsonl;
    fputs("{\"suite\":", f); jstr(f, suite);
    fputs(",\"op\":", f); jstr(f, op);
    fputs(",\"params\":", f); jstr(f, params);
    fputs(",\"variant\":", f); jstr(f, variant);
    fputs(",\"precision\":", f); jstr(f, prec);
    fprintf(f, ",\"ok\":%d,\"time_ms\":", ok); jnum(f, "%.6f", time_ms);
    fputs(",\"std_ms\":", f); jnum(f, "%.6f", std_ms);
    fputs(",\"throughput\":", f); jnum(f, "%.6g", thr);
    fputs(",\"unit\":", f); jstr(f, unit ? unit : "");
    fputs(",\"vs_lib\":", f); jnum(f, "%.4f", vs_lib);
    fputs(",\"dev\":", f); jnum(f, "%.4g", dev);
    fputs(",\"device\":", f); jstr(f, g_dev);
    fputs(",\"commit\":", f); jstr(f, g_commit);
    fputs(",\"date\":", f); jstr(f, g_date);
    fputs(",\"status\":", f); jstr(f, status);
    fputs("}\n", f);
    fflush(f);
}

/* throughput: flops > 0 -> TFLOP/s; else bytes > 0 -> GB/s; else items > 0 -> items/s. */
static void row(const char *suite, const char *op, const char *params, const char *variant, lis_precision prec, gres r,
                double flops, double bytes, double items, const char *item_unit, double lib_mean, double dev) {
    char thr[64] = "-", ratio[32] = "-", dv[32] = "-", tm[320];
    double val = 0;
    const char *unit = "";
    if (!r.ok) {
        snprintf(tm, sizeof tm, "FAILED: %s", lis_err_msg());
        g_failed++;
    } else {
        snprintf(tm, sizeof tm, "%.4f ± %.4f", r.mean * 1e3, r.std * 1e3);
        if (flops > 0) { val = flops / r.mean / 1e12; unit = "TFLOP/s"; }
        else if (bytes > 0) { val = bytes / r.mean / 1e9; unit = "GB/s"; }
        else if (items > 0) { val = items / r.mean; unit = item_unit; }
        if (*unit) snprintf(thr, sizeof thr, "%.*f %s", val >= 100 ? 0 : 2, val, unit);
        if (lib_mean > 0) snprintf(ratio, sizeof ratio, "%.2fx", lib_mean / r.mean);
        if (dev >= 0) snprintf(dv, sizeof dv, "%.2e", dev);
    }
    printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", suite, op, params, variant, lis_precision_name(prec), tm, thr,
           ratio, dv);
    fflush(stdout);
    g_rows++;
    jsonl_row(suite, op, params, variant, lis_precision_name(prec), r.ok, r.mean * 1e3, r.std * 1e3, val, unit,
              lib_mean > 0 && r.ok ? lib_mean / r.mean : 0.0, r.ok ? dev : -1, r.ok ? "ok" : tm);
}

static void skipped_variant(const char *suite, const char *op, const char *params, const char *variant, const char *prec,
                            const char *why) {
    char st[512];
    snprintf(st, sizeof st, "skipped: %s", why);
    printf("| %s | %s | %s | %s | %s | %s | - | - | - |\n", suite, op, params, variant, prec, st);
    fflush(stdout);
    g_skipped++;
    jsonl_row(suite, op, params, variant, prec, 0, 0, 0, 0, "", 0, -1, st);
}

static void skipped(const char *suite, const char *op, const char *params, const char *why) {
    skipped_variant(suite, op, params, "-", "-", why);
}

static void failed_check(const char *suite, const char *op, const char *params, const char *variant, lis_precision prec,
                         double dev, double bound) {
    char st[160];
    snprintf(st, sizeof st, "FAILED validation: rel dev %.3g > %.3g", dev, bound);
    printf("| %s | %s | %s | %s | %s | %s | - | - | - |\n", suite, op, params, variant, lis_precision_name(prec), st);
    fflush(stdout);
    g_failed++;
    jsonl_row(suite, op, params, variant, lis_precision_name(prec), 0, 0, 0, 0, "", 0, dev, st);
}

/* A result checked before its variant is timed: rel_dev(got, ref) <= bound (relative to the
 * reference's range); otherwise a FAILED validation row. dgot is device memory on stream S. */
static int valid(const char *suite, const char *op, const char *params, const char *variant, lis_precision prec,
                 const float *dgot, const float *ref, size_t n, double bound) {
    float *got = host(dgot, n);
    const double d = rel_dev(got, ref, n);
    free(got);
    if (d <= bound) return 1; /* false for NaN */
    failed_check(suite, op, params, variant, prec, d, bound);
    return 0;
}

/* max |a - b| / max(1, max|b|): the tests' measure for network outputs; +inf if any a is not finite */
static double net_dev(const float *a, const float *b, size_t n) {
    double m = 0, mb = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) return INFINITY;
        const double d = fabs((double)a[i] - b[i]);
        if (d > m) m = d;
        if (fabs(b[i]) > mb) mb = fabs(b[i]);
    }
    return m / mb;
}

static int all_finite(const float *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

/* network validation bounds (net_dev): float32 vs the CPU backend or the bundle; the reduced
 * precisions only have to be sane (the tests' "grossly off" limit; their deviation is reported) */
#define NET_BOUND_FP32 1e-4
#define NET_BOUND_REDUCED 0.5

/* validation bound of a precision (relative to the reference's range) */
static double bound_of(lis_precision p) { return p == LIS_PREC_FP32 ? 1e-4 : p == LIS_PREC_BF16 ? 0.05 : 0.01; }

/* ---------------------------------------------------------------- ops: GEMM */

typedef struct {
    int M, N, K;
    const float *A, *B;
    const void *A16, *B16;
    float *C;
    lis_precision prec;
    int lib;
    lis_igemm_fn fn; /* a given igemm variant instead of the shipped one (FP32 comparisons) */
    int g16;         /* lis_gemm16_cuda_batched on A16, B16 (bf16 / fp16) */
} gemm_ctx;

static lis_status run_gemm(void *c) {
    gemm_ctx *g = c;
    if (g->g16) return lis_gemm16_cuda_batched(1, g->M, g->N, g->K, g->A16, g->K, 0, g->B16, g->N, 0, g->C, g->N, 0,
                                               g->prec, S);
    if (g->lib) return lis_gemm_cublas(g->M, g->N, g->K, g->prec >= LIS_PREC_BF16 ? g->A16 : g->A,
                                       g->prec >= LIS_PREC_BF16 ? g->B16 : g->B, g->C, g->prec, S);
    if (g->fn) { /* C = A B as the 1x1 convolution lis_gemm_cuda makes of it */
        lis_igemm_params p = {1, g->K, 1, g->N, g->M, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0.0f, NULL, NULL, NULL, NULL};
        return g->fn(&p, g->B, g->A, g->C, S);
    }
    return lis_gemm_cuda(g->M, g->N, g->K, g->A, g->B, g->C, g->prec, S);
}

static void bench_gemm(int M, int N, int K, const char *what) {
    char p[128];
    snprintf(p, sizeof p, "m=%d,n=%d,k=%d (%s)", M, N, K, what);
    if (!strstr("gemm", g_filter) && !strstr(p, g_filter)) return;
    if (over_budget()) { skipped("ops", "gemm", p, "time budget"); return; }
    float *A = drand((size_t)M * K, 1, 1.0f), *B = drand((size_t)K * N, 2, 1.0f / sqrtf((float)K));
    void *A16 = lis_dev_alloc((size_t)M * K * 2, "a16"), *B16 = lis_dev_alloc((size_t)K * N * 2, "b16");
    float *Cref = dalloc((size_t)M * N), *C = dalloc((size_t)M * N);
    const double fl = 2.0 * M * N * K;
    gemm_ctx ref = {M, N, K, A, B, NULL, NULL, Cref, LIS_PREC_FP32, 1, NULL, 0};
    if (run_gemm(&ref) != LIS_OK || lis_stream_sync(S) != LIS_OK) { skipped("ops", "gemm", p, lis_err_msg()); goto done; }
    for (int prec = 0; prec < LIS_PREC_COUNT; prec++) {
        if (!g_prec_on[prec]) continue;
        gemm_ctx lib = {M, N, K, A, B, A16, B16, C, (lis_precision)prec, 1, NULL, 0}, ours = lib;
        ours.lib = 0;
        gres rl = {0, 0, 0};
        if (prec >= LIS_PREC_BF16 &&
            (!A16 || !B16 || lis_cuda_convert_f32(A, A16, (size_t)M * K, (lis_precision)prec, S) != LIS_OK ||
             lis_cuda_convert_f32(B, B16, (size_t)K * N, (lis_precision)prec, S) != LIS_OK)) {
            skipped_variant("ops", "gemm", p, "cuBLAS", lis_precision_name((lis_precision)prec),
                            !A16 || !B16 ? "no memory for the 16-bit operands" : lis_err_msg());
        } else {
            rl = gtime(run_gemm, &lib, 0, 1, 5);
            double dl = dev_dev(C, Cref, (size_t)M * N);
            row("ops", "gemm", p, "cuBLAS", (lis_precision)prec, rl, fl, 0, 0, NULL, 0, prec ? dl : -1);
            if (prec >= LIS_PREC_BF16 && K % 8 == 0 && N % 8 == 0) { /* the 16-bit operand kernel, same operands */
                gemm_ctx g16 = lib;
                g16.lib = 0;
                g16.g16 = 1;
                const double d16 = run_gemm(&g16) == LIS_OK && lis_stream_sync(S) == LIS_OK ? dev_dev(C, Cref, (size_t)M * N) : 1e30;
                if (d16 <= bound_of((lis_precision)prec))
                    row("ops", "gemm", p, "gemm16 ldmatrix", (lis_precision)prec, gtime(run_gemm, &g16, 0, 1, 5), fl, 0, 0,
                        NULL, rl.ok ? rl.mean : 0, d16);
                else failed_check("ops", "gemm", p, "gemm16 ldmatrix", (lis_precision)prec, d16, bound_of((lis_precision)prec));
            }
        }
        if (run_gemm(&ours) != LIS_OK || lis_stream_sync(S) != LIS_OK) { row("ops", "gemm", p, "igemm", (lis_precision)prec, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1); continue; }
        double d = dev_dev(C, Cref, (size_t)M * N);
        if (!(d <= bound_of((lis_precision)prec))) { failed_check("ops", "gemm", p, "igemm", (lis_precision)prec, d, bound_of((lis_precision)prec)); continue; }
        row("ops", "gemm", p, prec ? (lis_igemm_mma_enabled() ? "igemm mma" : "igemm wmma (LIS_MMA_CUDA=0)") : "igemm v3", (lis_precision)prec, gtime(run_gemm, &ours, 0, 1, 5),
            fl, 0, 0, NULL, rl.ok ? rl.mean : 0, prec ? d : -1);
        { /* the previous kernel, same run: new vs old (v2 for fp32, WMMA for the tensor cores) */
            static const lis_igemm_fn olds[] = {lis_igemm_cuda_v2, lis_igemm_cuda_wmma_tf32, lis_igemm_cuda_wmma_bf16,
                                                lis_igemm_cuda_wmma_fp16};
            static const char *old_names[] = {"igemm v2", "igemm wmma", "igemm wmma", "igemm wmma"};
            gemm_ctx old = ours;
            old.fn = olds[prec];
            const double dold = run_gemm(&old) == LIS_OK && lis_stream_sync(S) == LIS_OK ? dev_dev(C, Cref, (size_t)M * N) : 1e30;
            if (dold <= bound_of((lis_precision)prec))
                row("ops", "gemm", p, old_names[prec], (lis_precision)prec, gtime(run_gemm, &old, 0, 1, 5), fl, 0, 0, NULL,
                    rl.ok ? rl.mean : 0, prec ? dold : -1);
            else failed_check("ops", "gemm", p, old_names[prec], (lis_precision)prec, dold, bound_of((lis_precision)prec));
        }
    }
done:
    lis_dev_free(A); lis_dev_free(B); lis_dev_free(A16); lis_dev_free(B16); lis_dev_free(Cref); lis_dev_free(C);
}

/* ---------------------------------------------------------------- ops: convolutions */

typedef struct {
    const lis_igemm_variant *v;
    lis_conv2d_params p;
    const float *x, *w, *b, *res;
    float *y;
    lis_cudnn_conv *dnn;
} conv_ctx;

static lis_status run_conv(void *c) {
    conv_ctx *k = c;
    if (k->dnn) return lis_cudnn_conv_run(k->dnn, k->x, k->w, k->b, k->res, k->y, S);
    return lis_conv2d_cuda_variant(k->v, &k->p, k->x, k->w, k->b, k->res, k->y, S);
}

/* The classifier's convolution on NHWC activations (kernels/conv_nhwc, the LIS_RESNET_NHWC path)
 * in tf32, bf16 and fp16, against cuDNN's own NHWC convolution in the same precision (the
 * convolution alone: cuDNN gets no bias or ReLU, so its rows are a lower bound of its time).
 * Checked against the float32 reference yref of bench_conv, through the layout conversions. */
typedef struct {
    lis_nhwc_conv_params q;
    const void *x, *w;
    const float *b;
    void *y;
    lis_precision prec;
    lis_cudnn_conv *dnn;
} nhwc_ctx;

static lis_status run_nhwc(void *c) {
    nhwc_ctx *k = c;
    if (k->dnn) return lis_cudnn_nhwc_conv_run(k->dnn, k->x, k->w, k->y, S);
    return lis_nhwc_conv_cuda(&k->q, k->x, k->w, k->b, NULL, k->y, k->prec, S);
}

/* An environment switch set for one measurement, and the caller's own setting put back after */
typedef struct {
    const char *name; /* NULL: nothing was set */
    char prev[32];
    int had;
} env_saved;
static void env_push(env_saved *s, const char *name, const char *value) {
    s->name = name;
    if (!name) return;
    const char *was = getenv(name);
    s->had = was != NULL;
    snprintf(s->prev, sizeof s->prev, "%s", was ? was : "");
    setenv(name, value, 1);
}
static void env_pop(const env_saved *s) {
    if (!s->name) return;
    if (s->had) setenv(s->name, s->prev, 1);
    else unsetenv(s->name);
}

static void bench_conv_nhwc(const char *op, const char *pr, const lis_conv2d_params *p, const float *x, const float *w,
                            const float *b, const float *yref, float *y, double fl) {
    const int cp = (p->C + 7) / 8 * 8, Ho = (p->H + 2 * p->pad_h - p->R) / p->stride_h + 1;
    const size_t nx = (size_t)p->N * p->H * p->W * cp, nw = (size_t)p->K * p->R * p->S * cp,
                 ny = (size_t)p->N * p->K * Ho * Ho;
    const lis_nhwc_conv_params q = {p->N, p->H, p->W, cp, p->K, p->R, p->S, p->stride_h, p->pad_h, p->act == LIS_ACT_RELU};
    /* channels padded to 8 in every precision (the network pads its stem to 4 in tf32) */
    if (p->K % 8 || lis_nhwc_conv_check(&q, LIS_PREC_BF16) != LIS_OK) return;
    float *hw = host(w, (size_t)p->K * p->C * p->R * p->S);
    void *wh = malloc(nw * 4), *xd = dalloc(nx + 8), *wd = dalloc(nw + 8), *yd = dalloc(ny + 8); /* 4 bytes each: room for tf32 */
    LIS_ASSERT(wh);
    for (int prec = LIS_PREC_TF32; prec <= LIS_PREC_FP16; prec++) {
        if (!g_prec_on[prec]) continue;
        const lis_precision pc = (lis_precision)prec;
        lis_nhwc_conv_pack_weights(hw, p->K, p->C, p->R, p->S, cp, pc, wh);
        if (lis_dev_h2d(wd, wh, nw * lis_nhwc_elem_size(pc), S) != LIS_OK ||
            lis_nchw_to_nhwc_cuda(x, p->N, p->C, p->H * p->W, cp, xd, pc, S) != LIS_OK) {
            skipped_variant("ops", op, pr, "nhwc conv", lis_precision_name(pc), lis_err_msg());
            continue;
        }
        double lib = 0;
        lis_cudnn_conv *d = NULL;
        if (lis_cudnn_nhwc_conv_plan(&d, &q, pc) == LIS_OK) {
            nhwc_ctx c = {q, xd, wd, NULL, yd, pc, d};
            gres r = gtime(run_nhwc, &c, 0, 1, 5);
            char vn[96];
            snprintf(vn, sizeof vn, "cuDNN NHWC %s (conv only)", lis_cudnn_conv_algo(d));
            row("ops", op, pr, vn, pc, r, fl, 0, 0, NULL, 0, -1);
            if (r.ok) lib = r.mean;
            lis_cudnn_conv_free(d);
        } else {
            char why[400];
            snprintf(why, sizeof why, "not available: %s", lis_err_msg());
            skipped_variant("ops", op, pr, "cuDNN NHWC", lis_precision_name(pc), why);
        }
        nhwc_ctx c = {q, xd, wd, b, yd, pc, NULL};
        char vn[64];
        snprintf(vn, sizeof vn, "nhwc conv (BN %d)", lis_nhwc_conv_block_n(p->N * Ho * Ho, p->K));
        if (run_nhwc(&c) != LIS_OK || lis_nhwc_to_nchw_cuda(yd, p->N, p->K, Ho * Ho, p->K, y, pc, S) != LIS_OK ||
            lis_stream_sync(S) != LIS_OK) {
            row("ops", op, pr, vn, pc, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1);
            continue;
        }
        const double dv = dev_dev(y, yref, ny);
        if (!(dv <= bound_of(pc))) { failed_check("ops", op, pr, vn, pc, dv, bound_of(pc)); continue; }
        row("ops", op, pr, vn, pc, gtime(run_nhwc, &c, 0, 1, 5), fl, 0, 0, NULL, lib, dv);
        /* the kernel's variants (switched by the environment at each call), same checks: the
         * 64-byte stages (the default off sm_90) and 4 warps only (every 0.1 s row counts
         * against the ops budget); the others have their own bench-cls-* steps, whose
         * per-convolution tables bench/cls_layers.py sets side by side */
        static const struct { const char *env[2], *value[2], *label; } exps[] = {
            {{"LIS_NHWC_CONV_DEEP", NULL}, {"0", NULL}, "stages64"},
            {{"LIS_NHWC_CONV_WARPS", NULL}, {"4", NULL}, "warps4"},
        };
        for (size_t e = 0; e < sizeof exps / sizeof exps[0] && !over_budget(); e++) {
            snprintf(vn, sizeof vn, "nhwc conv %s (BN %d)", exps[e].label, lis_nhwc_conv_block_n(p->N * Ho * Ho, p->K));
            env_saved saved[2];
            for (int v = 0; v < 2; v++) env_push(&saved[v], exps[e].env[v], exps[e].value[v]);
            gres r = {0, 0, 0};
            double de = NAN;
            if (run_nhwc(&c) == LIS_OK && lis_nhwc_to_nchw_cuda(yd, p->N, p->K, Ho * Ho, p->K, y, pc, S) == LIS_OK &&
                lis_stream_sync(S) == LIS_OK && (de = dev_dev(y, yref, ny)) <= bound_of(pc))
                r = gtime(run_nhwc, &c, 0, 1, 5);
            for (int v = 1; v >= 0; v--) env_pop(&saved[v]);
            if (!(de <= bound_of(pc))) failed_check("ops", op, pr, vn, pc, de, bound_of(pc));
            else row("ops", op, pr, vn, pc, r, fl, 0, 0, NULL, lib, de);
        }
    }
    free(hw);
    free(wh);
    lis_dev_free(xd); lis_dev_free(wd); lis_dev_free(yd);
}

/* A convolution (classifier, or the generator's modulated conv with the styles applied to
 * x beforehand: the same GEMM) with every igemm variant vs cuDNN. */
static void bench_conv(const char *op, int N, int C, int H, int K, int R, int stride, int pad, int relu, int bias,
                       int with_v1, const char *what) {
    lis_conv2d_params p = {N, C, H, H, K, R, R, stride, stride, pad, pad, 1, 1, relu ? LIS_ACT_RELU : LIS_ACT_NONE, 0};
    char pr[160];
    snprintf(pr, sizeof pr, "n=%d,c=%d,h=%d,k=%d,r=%d,s=%d,p=%d (%s)", N, C, H, K, R, stride, pad, what);
    if (!strstr(op, g_filter) && !strstr(pr, g_filter)) return;
    if (over_budget()) { skipped("ops", op, pr, "time budget"); return; }
    int Ho, Wo;
    lis_conv2d_out_shape(&p, &Ho, &Wo);
    const size_t nx = (size_t)N * C * H * H, ny = (size_t)N * K * Ho * Wo;
    float *x = drand(nx, 3, 1.0f), *w = drand((size_t)K * C * R * R, 4, 1.0f / sqrtf((float)(C * R * R)));
    float *b = bias ? drand((size_t)K, 5, 0.1f) : NULL, *yref = dalloc(ny), *y = dalloc(ny);
    const double fl = 2.0 * ny * C * R * R;
    const lis_igemm_variant *v;
    const int nv = lis_igemm_cuda_variants(&v);
    /* reference: the float32 library result, else our float32 v2 */
    conv_ctx ref = {&v[1], p, x, w, b, NULL, yref, NULL};
    double lib_t[LIS_PREC_COUNT] = {0};
    lis_cudnn_conv *dnn = NULL;
    if (lis_cudnn_conv_plan(&dnn, &p, LIS_PREC_FP32) == LIS_OK) ref.dnn = dnn;
    if (run_conv(&ref) != LIS_OK || lis_stream_sync(S) != LIS_OK) { skipped("ops", op, pr, lis_err_msg()); goto done; }
    for (int prec = LIS_PREC_FP32; prec <= LIS_PREC_TF32; prec++) {
        lis_cudnn_conv *d = NULL;
        if (!g_prec_on[prec] || lis_cudnn_conv_plan(&d, &p, (lis_precision)prec) != LIS_OK) {
            if (prec == LIS_PREC_FP32 && g_prec_on[prec]) {
                char why[400];
                snprintf(why, sizeof why, "not available: %s", lis_err_msg());
                skipped_variant("ops", op, pr, "cuDNN", "fp32", why);
            }
            continue;
        }
        conv_ctx c = {NULL, p, x, w, b, NULL, y, d};
        gres r = gtime(run_conv, &c, 0, 1, 5);
        char vn[64];
        snprintf(vn, sizeof vn, "cuDNN %s", lis_cudnn_conv_algo(d));
        row("ops", op, pr, vn, (lis_precision)prec, r, fl, 0, 0, NULL, 0, prec ? dev_dev(y, yref, ny) : -1);
        if (r.ok) lib_t[prec] = r.mean;
        lis_cudnn_conv_free(d);
    }
    for (int i = 0; i < nv; i++) {
        if (!g_prec_on[v[i].prec] || (!with_v1 && !strcmp(v[i].name, "v1"))) continue;
        if (!strcmp(v[i].name, "v3") && !(R == 1 && stride == 1 && pad == 0)) continue; /* = v2 there */
        conv_ctx c = {&v[i], p, x, w, b, NULL, y, NULL};
        if (run_conv(&c) != LIS_OK || lis_stream_sync(S) != LIS_OK) { row("ops", op, pr, v[i].name, v[i].prec, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1); continue; }
        const double d = dev_dev(y, yref, ny);
        if (!(d <= bound_of(v[i].prec))) { failed_check("ops", op, pr, v[i].name, v[i].prec, d, bound_of(v[i].prec)); continue; }
        char vn[64];
        snprintf(vn, sizeof vn, "igemm %s", v[i].name);
        row("ops", op, pr, vn, v[i].prec, gtime(run_conv, &c, 0, 1, 5), fl, 0, 0, NULL,
            v[i].prec <= LIS_PREC_TF32 ? lib_t[v[i].prec] : lib_t[LIS_PREC_TF32], v[i].prec ? d : -1);
    }
    if (strstr(op, "ResNet")) bench_conv_nhwc(op, pr, &p, x, w, b, yref, y, fl);
done:
    lis_cudnn_conv_free(dnn);
    lis_dev_free(x); lis_dev_free(w); lis_dev_free(b); lis_dev_free(yref); lis_dev_free(y);
}

/* The modulated convolution itself (styles, demodulation, folded conv) at batch B. */
typedef struct {
    const lis_modconv_cuda_variant *v;
    lis_modconv_cuda_weights *mw;
    lis_modconv_params p;
    const float *x, *s;
    float *y, *ws;
    int B, H;
} mc_ctx;

static lis_status run_mc(void *c) {
    mc_ctx *m = c;
    return m->v->fn(m->mw, &m->p, m->x, m->s, 0.9f, m->B, m->H, m->H, m->y, m->ws, S);
}

static void bench_modconv(int B, int I, int O, int H, const char *what) {
    char pr[160];
    snprintf(pr, sizeof pr, "b=%d,i=%d,o=%d,h=%d,k=3 (%s)", B, I, O, H, what);
    if (!strstr("modconv", g_filter) && !strstr(pr, g_filter)) return;
    if (over_budget()) { skipped("ops", "modconv", pr, "time budget"); return; }
    const int Hc = H + 2;
    const size_t ny = (size_t)B * O * Hc * Hc, nw = (size_t)O * I * 9;
    float *hw = malloc(nw * 4);
    for (size_t i = 0; i < nw; i++) hw[i] = (float)((i * 2654435761u) >> 8 & 0xffff) / 32768.0f - 1.0f;
    lis_modconv_cuda_weights mw;
    if (lis_modconv_cuda_prepare(&mw, hw, O, I, 3, 1, S) != LIS_OK) { free(hw); skipped("ops", "modconv", pr, lis_err_msg()); return; }
    free(hw);
    float *x = drand((size_t)B * I * H * H, 6, 1.0f), *s = drand((size_t)B * I, 7, 1.0f);
    float *yref = dalloc(ny), *y = dalloc(ny), *ws = dalloc(lis_modconv_cuda_workspace(&mw, B, 0));
    const lis_modconv_cuda_variant *v;
    const int nv = lis_modconv_cuda_variants(&v);
    const double fl = 2.0 * ny * I * 9;
    mc_ctx ref = {&v[1], &mw, {1, 2, 0}, x, s, yref, ws, B, H};
    int ref_ok = run_mc(&ref) == LIS_OK && lis_stream_sync(S) == LIS_OK;
    if (!ref_ok) {
        skipped("ops", "modconv", pr, lis_err_msg());
    } else {
        /* the reference (fp32) is checked first against the straight port v1 (per-sample weights
         * materialised, naive conv), once, untimed */
        float *ws1 = lis_dev_alloc(sizeof(float) * lis_modconv_cuda_workspace(&mw, B, 1), "modconv v1 workspace");
        if (!ws1) {
            printf("|   | modconv | %s | fp32 | fp32 | (not checked against v1: %s) | | | |\n", pr, lis_err_msg());
        } else {
            mc_ctx c1 = ref;
            c1.v = &v[0];
            c1.y = y;
            c1.ws = ws1;
            if (run_mc(&c1) != LIS_OK || lis_stream_sync(S) != LIS_OK) {
                row("ops", "modconv", pr, "v1 (check of fp32)", LIS_PREC_FP32, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1);
                ref_ok = 0;
            } else {
                const double d = dev_dev(yref, y, ny);
                if (!(d <= bound_of(LIS_PREC_FP32))) {
                    failed_check("ops", "modconv", pr, "fp32 vs v1", LIS_PREC_FP32, d, bound_of(LIS_PREC_FP32));
                    ref_ok = 0;
                }
            }
            lis_dev_free(ws1);
        }
    }
    if (ref_ok) {
        for (int i = 1; i < nv; i++) { /* v1 materialises B*O*I*9 weights: not a benchmark */
            if (!g_prec_on[v[i].prec]) continue;
            mc_ctx c = ref;
            c.v = &v[i];
            c.y = y;
            /* the reduced precisions run on the WMMA kernels with LIS_MMA_CUDA=0 */
            char vn[64];
            snprintf(vn, sizeof vn, "%s%s", v[i].name, v[i].prec && !lis_igemm_mma_enabled() ? " wmma" : "");
            if (run_mc(&c) != LIS_OK || lis_stream_sync(S) != LIS_OK) { row("ops", "modconv", pr, vn, v[i].prec, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1); continue; }
            const double d = dev_dev(y, yref, ny);
            if (!(d <= bound_of(v[i].prec))) { failed_check("ops", "modconv", pr, vn, v[i].prec, d, bound_of(v[i].prec)); continue; }
            row("ops", "modconv", pr, vn, v[i].prec, gtime(run_mc, &c, 0, 1, 5), fl, 0, 0, NULL, 0, v[i].prec ? d : -1);
        }
    }
    lis_modconv_cuda_weights_free(&mw);
    lis_dev_free(x); lis_dev_free(s); lis_dev_free(yref); lis_dev_free(y); lis_dev_free(ws);
}

/* ---------------------------------------------------------------- ops: filtered lrelu */

typedef struct {
    const lis_flrelu_cuda_variant *v;
    lis_flrelu_params p;
    const float *x, *b;
    float *y;
    int N, C, H;
} fl_ctx;

static lis_status run_fl(void *c) {
    fl_ctx *f = c;
    return f->v->fn(&f->p, f->x, f->H, (int64_t)f->H * f->H, NULL, f->b, f->y, f->N, f->C, f->H, f->H, S);
}

static void bench_flrelu(int N, int C, int H, int up, int tu, int x0, int x1, int with_v1, const char *what) {
    char pr[160];
    snprintf(pr, sizeof pr, "n=%d,c=%d,h=%d,up=%d,down=2,taps=%d/12 (%s)", N, C, H, up, tu, what);
    if (!strstr("filtered_lrelu", g_filter) && !strstr(pr, g_filter)) return;
    if (over_budget()) { skipped("ops", "filtered_lrelu", pr, "time budget"); return; }
    float fu[32], fd[32];
    for (int t = 0; t < tu; t++) fu[t] = 1.0f / (float)tu + 0.01f * (float)(t % 3);
    for (int t = 0; t < 12; t++) fd[t] = 1.0f / 12.0f + 0.01f * (float)(t % 2);
    lis_flrelu_params p = {fu, tu, fd, 12, up, 2, {x0, x1, x0, x1}, 1.41421356f, 0.2f, 256.0f};
    int Ho, Wo;
    lis_flrelu_out_shape(&p, H, H, &Ho, &Wo);
    const size_t nx = (size_t)N * C * H * H, ny = (size_t)N * C * Ho * Wo;
    float *x = drand(nx, 8, 2.0f), *b = drand((size_t)C, 9, 0.2f), *yref = dalloc(ny), *y = dalloc(ny);
    const lis_flrelu_cuda_variant *v;
    const int nv = lis_flrelu_cuda_variants(&v);
    const double bytes = 4.0 * (nx + ny);
    fl_ctx ref = {&v[nv - 1], p, x, b, yref, N, C, H};
    gres r1 = {0, 0, 0};
    if (run_fl(&ref) != LIS_OK || lis_stream_sync(S) != LIS_OK) { skipped("ops", "filtered_lrelu", pr, lis_err_msg()); goto done; }
    { /* validate the shipped kernel against the CPU fast path (itself checked against _ref) */
        float *hx = host(x, nx), *hb = host(b, (size_t)C), *hy = malloc(ny * 4), *gy = host(yref, ny);
        void *cws = lis_alloc_aligned(lis_flrelu_workspace_per_thread(&p, H, H) * (size_t)lis_threads_count(), "ws");
        lis_flrelu_cpu(&p, hx, H, (int64_t)H * H, NULL, hb, hy, N, C, H, H, cws);
        const double d = rel_dev(gy, hy, ny);
        free(hx); free(hb); free(hy); free(gy); free(cws);
        if (!(d <= 1e-5)) { failed_check("ops", "filtered_lrelu", pr, v[nv - 1].name, LIS_PREC_FP32, d, 1e-5); goto done; }
    }
    /* the ratio column: against v1 where it runs, else against v2 (the previous shipped kernel) */
    const char *base = with_v1 ? "v1" : "v2";
    for (int i = 0; i < nv; i++) {
        const int is_v1 = !strcmp(v[i].name, "v1"), is_base = !strcmp(v[i].name, base);
        if (is_v1 && !with_v1) continue;
        fl_ctx c = ref;
        c.v = &v[i];
        c.y = y;
        if (run_fl(&c) != LIS_OK || lis_stream_sync(S) != LIS_OK) { row("ops", "filtered_lrelu", pr, v[i].name, LIS_PREC_FP32, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1); continue; }
        const double d = dev_dev(y, yref, ny);
        if (!(d <= 1e-5)) { failed_check("ops", "filtered_lrelu", pr, v[i].name, LIS_PREC_FP32, d, 1e-5); continue; }
        gres r = gtime(run_fl, &c, 1, 1, 5);
        if (is_base) r1 = r;
        char vn[80];
        snprintf(vn, sizeof vn, "%s%s", v[i].name, is_v1 ? " (baseline: unfused per-output)" : "");
        row("ops", "filtered_lrelu", pr, vn, LIS_PREC_FP32, r, 0, bytes, 0, NULL, is_base ? 0 : (r1.ok ? r1.mean : 0), -1);
    }
done:
    lis_dev_free(x); lis_dev_free(b); lis_dev_free(yref); lis_dev_free(y);
}

/* ---------------------------------------------------------------- ops: small ones */

typedef struct {
    int kind; /* 0 bias_act v1, 1 bias_act v2, 2 fc v1, 3 fc v2, 4 linear v1, 5 linear v2, 6 maxpool, 7 avgpool,
                 8 preprocess, 9 to_u8, 10 synth_input, 11 maxpool NHWC, 12 avgpool NHWC, 13 NCHW -> NHWC */
    lis_bias_act_params ba;
    lis_fc_dev *fc;
    lis_maxpool_params mp;
    lis_preprocess_dev *pre;
    lis_synth_input_dev *si;
    lis_precision prec;
    const float *x, *w, *b;
    float *y;
    void *ws;
    const void *xn; /* NHWC tensors of prec's element type (kinds 11-13) */
    void *yn;
    int N, C, H, W, in, out;
    int64_t inner;
} small_ctx;

static lis_status run_small(void *c) {
    small_ctx *k = c;
    switch (k->kind) {
    case 0: return lis_bias_act_cuda_v1(&k->ba, k->x, k->b, k->y, k->N, k->C, k->inner, S);
    case 1: return lis_bias_act_cuda_v2(&k->ba, k->x, k->b, k->y, k->N, k->C, k->inner, S);
    case 2: return lis_fc_cuda_v1(k->fc, k->x, k->in, k->y, k->N, S);
    case 3: return lis_fc_cuda_v2(k->fc, k->x, k->in, k->y, k->N, S);
    case 4: return lis_linear_cuda_v1(k->N, k->in, k->out, k->x, k->w, k->b, k->y, S);
    case 5: return lis_linear_cuda_v2(k->N, k->in, k->out, k->x, k->w, k->b, k->y, S);
    case 6: return lis_maxpool_cuda(&k->mp, k->x, k->y, S);
    case 7: return lis_avgpool_global_cuda(k->N, k->C, k->H, k->W, k->x, k->y, S);
    case 8: return lis_preprocess_cuda(k->pre, k->N, k->ws, k->y, (char *)k->ws + (size_t)k->N * k->H * k->W * 3, S);
    case 9: return lis_to_u8_cuda(k->x, k->N, 3, k->H, k->W, k->ws, S);
    case 10: return lis_synth_input_cuda(k->si, k->x, k->in, k->y, NULL, k->N, k->ws, k->prec, S);
    case 11: return lis_maxpool_nhwc_cuda(&k->mp, k->xn, k->yn, k->prec, S);
    case 12: return lis_avgpool_nhwc_cuda(k->N, k->C, k->H * k->W, k->xn, k->y, k->prec, S);
    case 13: return lis_nchw_to_nhwc_cuda(k->x, k->N, k->C, k->H * k->W, 8, k->yn, k->prec, S);
    case 14: return lis_stem_s2d_cuda(k->x, k->N, k->C, k->H, k->W, lis_stem_s2d_channels(k->C, k->prec), k->yn, k->prec, S);
    }
    return lis_err_set("bad case");
}

/* Runs a small op once and validates it (against `ref`, bound relative to its range) before
 * it is timed; a failed run gives a FAILED row. */
static int small_ok(small_ctx *k, const char *op, const char *pr, const char *variant, const float *ref, size_t n,
                    double bound) {
    if (run_small(k) != LIS_OK || lis_stream_sync(S) != LIS_OK) {
        row("ops", op, pr, variant, LIS_PREC_FP32, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1);
        return 0;
    }
    return valid("ops", op, pr, variant, LIS_PREC_FP32, k->y, ref, n, bound);
}

/* a row for one of the classifier input's layout conversions (run_small kind 13 or 14) of a
 * batch of 64 224x224 RGB images into ny elements of pc's type */
static void input_layout_row(const char *op, int kind, const char *pr, lis_precision pc, size_t ny) {
    const size_t nx = (size_t)64 * 3 * 224 * 224, es = lis_nhwc_elem_size(pc);
    float *x = drand(nx, 18, 1.0f), *yn = dalloc(ny * es / 4 + 4);
    small_ctx k = {.kind = kind, .x = x, .yn = yn, .N = 64, .C = 3, .H = 224, .W = 224, .prec = pc};
    if (run_small(&k) == LIS_OK && lis_stream_sync(S) == LIS_OK)
        row("ops", op, pr, "v1", pc, gtime(run_small, &k, 1, 1, 5), 0, 4.0 * nx + (double)es * ny, 0, NULL, 0, -1);
    else row("ops", op, pr, "v1", pc, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1);
    lis_dev_free(x); lis_dev_free(yn);
}

/* The NHWC path's pools and input conversion (kernels/nhwc.cu) on ResNet-50's shapes at batch 64
 * in bf16 (16-bit elements) and tf32 (float32): each run once, brought back to NCHW float32 and
 * compared exactly with the float pool of the same values, then timed alone. */
static void bench_pools_nhwc(char *pr, size_t cap) {
    static const lis_precision precs[] = {LIS_PREC_BF16, LIS_PREC_TF32};
    for (int pi = 0; pi < 2; pi++) {
        const lis_precision pc = precs[pi];
        if (!g_prec_on[pc]) continue;
        const size_t es = lis_nhwc_elem_size(pc);
        snprintf(pr, cap, "n=64,c=64,h=112,k=3,s=2,p=1,relu (NHWC)");
        if ((strstr("maxpool", g_filter) || strstr(pr, g_filter)) && !over_budget()) {
            lis_maxpool_params mp = {64, 64, 112, 112, 3, 2, 1, 1};
            const size_t nx = (size_t)64 * 64 * 112 * 112, ny = (size_t)64 * 64 * 56 * 56;
            float *x = drand(nx, 16, 1.0f), *y = dalloc(ny), *hx = host(x, nx), *ref = malloc(sizeof(float) * ny);
            void *xn = dalloc(nx * es / 4 + 4), *yn = dalloc(ny * es / 4 + 4);
            LIS_ASSERT(ref);
            for (size_t i = 0; i < nx; i++) hx[i] = pc == LIS_PREC_TF32 ? hx[i] : lis_from16(lis_to16(hx[i], pc), pc);
            lis_maxpool_cpu(&mp, hx, ref); /* of the values the NHWC tensor holds: exact */
            small_ctx k = {.kind = 11, .mp = mp, .xn = xn, .yn = yn, .prec = pc};
            const int ok = lis_nchw_to_nhwc_cuda(x, 64, 64, 112 * 112, 64, xn, pc, S) == LIS_OK && run_small(&k) == LIS_OK &&
                           lis_nhwc_to_nchw_cuda(yn, 64, 64, 56 * 56, 64, y, pc, S) == LIS_OK && lis_stream_sync(S) == LIS_OK;
            float *hy = ok ? host(y, ny) : NULL;
            const double d = hy ? rel_dev(hy, ref, ny) : INFINITY;
            free(hy);
            if (!(d == 0)) failed_check("ops", "maxpool", pr, "nhwc", pc, d, 0);
            else row("ops", "maxpool", pr, "nhwc", pc, gtime(run_small, &k, 1, 1, 5), 0, (double)es * (nx + ny), 0, NULL, 0, -1);
            free(hx); free(ref);
            lis_dev_free(x); lis_dev_free(y); lis_dev_free(xn); lis_dev_free(yn);
        }
        snprintf(pr, cap, "n=256,c=2048,h=7,w=7 (NHWC)");
        if ((strstr("avgpool", g_filter) || strstr(pr, g_filter)) && !over_budget()) {
            const size_t nx = (size_t)256 * 2048 * 49;
            float *x = drand(nx, 17, 1.0f), *y = dalloc(256 * 2048), *hx = host(x, nx), *ref = malloc(sizeof(float) * 256 * 2048);
            void *xn = dalloc(nx * es / 4 + 4);
            LIS_ASSERT(ref);
            for (size_t i = 0; i < nx; i++) hx[i] = pc == LIS_PREC_TF32 ? hx[i] : lis_from16(lis_to16(hx[i], pc), pc);
            lis_avgpool_global_cpu(256, 2048, 7, 7, hx, ref); /* the same values in the same order: exact */
            small_ctx k = {.kind = 12, .xn = xn, .y = y, .N = 256, .C = 2048, .H = 7, .W = 7, .prec = pc};
            const int ok = lis_nchw_to_nhwc_cuda(x, 256, 2048, 49, 2048, xn, pc, S) == LIS_OK;
            if (ok && small_ok(&k, "avgpool_global", pr, "nhwc", ref, 256 * 2048, 0))
                row("ops", "avgpool_global", pr, "nhwc", pc, gtime(run_small, &k, 1, 1, 5), 0, (double)es * nx + 4.0 * 256 * 2048,
                    0, NULL, 0, -1);
            free(hx); free(ref);
            lis_dev_free(x); lis_dev_free(y); lis_dev_free(xn);
        }
        snprintf(pr, cap, "n=64,c=3->8,h=224 (the classifier's input)");
        if ((strstr("nchw_to_nhwc", g_filter) || strstr(pr, g_filter)) && !over_budget())
            input_layout_row("nchw_to_nhwc", 13, pr, pc, (size_t)64 * 8 * 224 * 224);
        /* the space-to-depth stem input (kernels/stem_s2d.h, LIS_RESNET_STEM_S2D): the same job */
        const int cs = lis_stem_s2d_channels(3, pc);
        snprintf(pr, cap, "n=64,c=3,h=224 -> 113x113x%d (the space-to-depth stem's input)", cs);
        if ((strstr("stem_s2d", g_filter) || strstr(pr, g_filter)) && !over_budget())
            input_layout_row("stem_s2d", 14, pr, pc, (size_t)64 * 113 * 113 * cs);
    }
}

static void bench_small(void) {
    char pr[160];
    /* bias_act (the generator's final output scale and ToRGB styles use it; a full-size plane here) */
    snprintf(pr, sizeof pr, "n=1,c=512,inner=276^2,lrelu,clamp");
    if ((strstr("bias_act", g_filter) || strstr(pr, g_filter)) && !over_budget()) {
        const int64_t C = 512, inner = 276 * 276;
        float *x = drand((size_t)(C * inner), 10, 2.0f), *b = drand((size_t)C, 11, 1.0f), *y = dalloc((size_t)(C * inner));
        small_ctx k = {.kind = 0, .ba = {1, 0.2f, 1.41421356f, 256.0f}, .x = x, .b = b, .y = y, .N = 1, .C = (int)C, .inner = inner};
        float *hx = host(x, (size_t)(C * inner)), *hb = host(b, (size_t)C), *ref = malloc(sizeof(float) * (size_t)(C * inner));
        lis_bias_act_ref(&k.ba, hx, hb, ref, 1, C, inner); /* the same float operations: exact */
        gres r0 = {0, 0, 0};
        if (small_ok(&k, "bias_act", pr, "v1", ref, (size_t)(C * inner), 0)) {
            r0 = gtime(run_small, &k, 1, 1, 5);
            row("ops", "bias_act", pr, "v1", LIS_PREC_FP32, r0, 0, 8.0 * C * inner, 0, NULL, 0, -1);
        }
        k.kind = 1;
        if (small_ok(&k, "bias_act", pr, "v2", ref, (size_t)(C * inner), 0))
            row("ops", "bias_act", pr, "v2", LIS_PREC_FP32, gtime(run_small, &k, 1, 1, 5), 0, 8.0 * C * inner, 0, NULL,
                r0.ok ? r0.mean : 0, -1);
        free(hx); free(hb); free(ref);
        lis_dev_free(x); lis_dev_free(b); lis_dev_free(y);
    }
    /* fc: the affines of a whole batch of 64 */
    snprintf(pr, sizeof pr, "in=512,out=1024,b=64 (affine)");
    if ((strstr("fc", g_filter) || strstr(pr, g_filter)) && !over_budget()) {
        float *hw = malloc(512 * 1024 * 4), *hb = malloc(1024 * 4);
        for (int i = 0; i < 512 * 1024; i++) hw[i] = (float)(i % 97) / 97.0f - 0.5f;
        for (int i = 0; i < 1024; i++) hb[i] = 1.0f;
        lis_fc fc;
        lis_fc_dev d;
        if (lis_fc_prepare(&fc, hw, hb, 512, 1024, 1.0, 0) == LIS_OK) {
            if (lis_fc_cuda_upload(&d, &fc) == LIS_OK) {
                float *x = drand(64 * 512, 12, 1.0f), *y = dalloc(64 * 1024);
                float *hx = host(x, 64 * 512), *ref = malloc(sizeof(float) * 64 * 1024);
                lis_fc_ref(&fc, hx, ref, 64);
                small_ctx k = {.kind = 2, .fc = &d, .x = x, .y = y, .N = 64, .in = 512};
                const double bytes = 4.0 * (512 * 1024 + 64 * 512 + 64 * 1024);
                gres r0 = {0, 0, 0};
                if (small_ok(&k, "fc", pr, "v1", ref, 64 * 1024, 1e-5)) {
                    r0 = gtime(run_small, &k, 1, 1, 5);
                    row("ops", "fc", pr, "v1", LIS_PREC_FP32, r0, 0, bytes, 0, NULL, 0, -1);
                }
                k.kind = 3;
                if (small_ok(&k, "fc", pr, "v2", ref, 64 * 1024, 1e-5))
                    row("ops", "fc", pr, "v2", LIS_PREC_FP32, gtime(run_small, &k, 1, 1, 5), 0, bytes, 0, NULL,
                        r0.ok ? r0.mean : 0, -1);
                free(hx); free(ref);
                lis_dev_free(x); lis_dev_free(y);
                lis_fc_cuda_free(&d);
            } else {
                skipped("ops", "fc", pr, lis_err_msg());
            }
            lis_fc_free(&fc);
        }
        free(hw); free(hb);
    }
    /* linear: the classifier's fc at batch 256 */
    snprintf(pr, sizeof pr, "n=256,in=2048,out=1000 (ResNet fc)");
    if ((strstr("linear", g_filter) || strstr(pr, g_filter)) && !over_budget()) {
        float *x = drand(256 * 2048, 13, 1.0f), *w = drand(1000 * 2048, 14, 0.02f), *b = drand(1000, 15, 0.1f), *y = dalloc(256 * 1000);
        float *hx = host(x, 256 * 2048), *hw = host(w, 1000 * 2048), *hb = host(b, 1000), *ref = malloc(sizeof(float) * 256 * 1000);
        lis_linear_cpu(256, 2048, 1000, hx, hw, hb, ref);
        small_ctx k = {.kind = 4, .x = x, .w = w, .b = b, .y = y, .N = 256, .in = 2048, .out = 1000};
        const double fl = 2.0 * 256 * 2048 * 1000;
        gres r0 = {0, 0, 0};
        if (small_ok(&k, "linear", pr, "v1", ref, 256 * 1000, 1e-5)) {
            r0 = gtime(run_small, &k, 0, 1, 5);
            row("ops", "linear", pr, "v1", LIS_PREC_FP32, r0, fl, 0, 0, NULL, 0, -1);
        }
        k.kind = 5;
        if (small_ok(&k, "linear", pr, "v2", ref, 256 * 1000, 1e-5))
            row("ops", "linear", pr, "v2", LIS_PREC_FP32, gtime(run_small, &k, 0, 1, 5), fl, 0, 0, NULL, r0.ok ? r0.mean : 0, -1);
        free(hx); free(hw); free(hb); free(ref);
        lis_dev_free(x); lis_dev_free(w); lis_dev_free(b); lis_dev_free(y);
    }
    /* pools: ResNet-50 at batch 64 */
    snprintf(pr, sizeof pr, "n=64,c=64,h=112,k=3,s=2,p=1,relu");
    if ((strstr("maxpool", g_filter) || strstr(pr, g_filter)) && !over_budget()) {
        lis_maxpool_params mp = {64, 64, 112, 112, 3, 2, 1, 1};
        const size_t nx = (size_t)64 * 64 * 112 * 112, ny = (size_t)64 * 64 * 56 * 56;
        float *x = drand(nx, 16, 1.0f), *y = dalloc(ny), *hx = host(x, nx), *ref = malloc(sizeof(float) * ny);
        lis_maxpool_cpu(&mp, hx, ref); /* a selection: exact */
        small_ctx k = {.kind = 6, .mp = mp, .x = x, .y = y};
        if (small_ok(&k, "maxpool", pr, "v1", ref, ny, 0))
            row("ops", "maxpool", pr, "v1", LIS_PREC_FP32, gtime(run_small, &k, 1, 1, 5), 0, 4.0 * (nx + ny), 0, NULL, 0, -1);
        free(hx); free(ref);
        lis_dev_free(x); lis_dev_free(y);
    }
    snprintf(pr, sizeof pr, "n=256,c=2048,h=7,w=7");
    if ((strstr("avgpool", g_filter) || strstr(pr, g_filter)) && !over_budget()) {
        const size_t nx = (size_t)256 * 2048 * 49;
        float *x = drand(nx, 17, 1.0f), *y = dalloc(256 * 2048), *hx = host(x, nx), *ref = malloc(sizeof(float) * 256 * 2048);
        lis_avgpool_global_cpu(256, 2048, 7, 7, hx, ref); /* the same summation order: exact */
        small_ctx k = {.kind = 7, .x = x, .y = y, .N = 256, .C = 2048, .H = 7, .W = 7};
        if (small_ok(&k, "avgpool_global", pr, "v1", ref, 256 * 2048, 0))
            row("ops", "avgpool_global", pr, "v1", LIS_PREC_FP32, gtime(run_small, &k, 1, 1, 5), 0, 4.0 * (nx + 256 * 2048), 0,
                NULL, 0, -1);
        free(hx); free(ref);
        lis_dev_free(x); lis_dev_free(y);
    }
    bench_pools_nhwc(pr, sizeof pr);
    /* preprocessing of 64 generator images (crop only) and of 64 512x384 photos (resize) */
    const int sizes[2][2] = {{256, 256}, {384, 512}};
    for (int t = 0; t < 2; t++) {
        const int h = sizes[t][0], w = sizes[t][1], n = 64;
        snprintf(pr, sizeof pr, "n=%d,%dx%d -> 256 -> 224", n, h, w);
        if ((!strstr("preprocess", g_filter) && !strstr(pr, g_filter)) || over_budget()) continue;
        lis_preprocess_cfg cfg;
        lis_preprocess_cfg_default(&cfg);
        lis_preprocess_plan pl;
        lis_preprocess_dev d;
        if (lis_preprocess_plan_init(&pl, &cfg, h, w) != LIS_OK) { skipped("ops", "preprocess", pr, lis_err_msg()); continue; }
        if (lis_preprocess_cuda_upload(&d, &pl) == LIS_OK) {
            const size_t nin = (size_t)n * h * w * 3, ny = (size_t)n * 3 * 224 * 224;
            uint8_t *buf = lis_dev_alloc(nin + lis_preprocess_cuda_workspace(&d, n), "images");
            float *y = dalloc(ny);
            uint8_t *himg = malloc(nin);
            float *ref = malloc(sizeof(float) * ny);
            for (size_t i = 0; i < nin; i++) himg[i] = (uint8_t)((i * 2654435761u) >> 13); /* not constant: the resampling is checked */
            if (buf && himg && ref && lis_dev_h2d(buf, himg, nin, S) == LIS_OK) {
                lis_preprocess_run(&pl, n, himg, ref); /* integer resampling + tables: bit-exact */
                small_ctx k = {.kind = 8, .pre = &d, .ws = buf, .y = y, .N = n, .H = h, .W = w};
                if (small_ok(&k, "preprocess", pr, "v1", ref, ny, 0))
                    row("ops", "preprocess", pr, "v1", LIS_PREC_FP32, gtime(run_small, &k, 1, 1, 5), 0,
                        (double)n * h * w * 3 + 4.0 * n * 3 * 224 * 224, 0, NULL, 0, -1);
            } else {
                skipped("ops", "preprocess", pr, lis_err_msg());
            }
            free(himg); free(ref);
            lis_dev_free(buf); lis_dev_free(y);
            lis_preprocess_cuda_free(&d);
        } else {
            skipped("ops", "preprocess", pr, lis_err_msg());
        }
        lis_preprocess_plan_free(&pl);
    }
    snprintf(pr, sizeof pr, "n=64,3x256x256");
    if ((strstr("to_u8", g_filter) || strstr(pr, g_filter)) && !over_budget()) {
        const size_t n = (size_t)64 * 3 * 256 * 256;
        float *x = drand(n, 18, 1.2f), *hx = host(x, n);
        uint8_t *u8 = lis_dev_alloc(n, "u8"), *ref = malloc(n), *got = malloc(n);
        small_ctx k = {.kind = 9, .x = x, .ws = u8, .N = 64, .H = 256, .W = 256};
        lis_to_u8_ref(hx, 64, 3, 256, 256, ref);
        if (!u8 || run_small(&k) != LIS_OK || lis_stream_sync(S) != LIS_OK || lis_dev_d2h(got, u8, n, S) != LIS_OK) {
            row("ops", "to_u8", pr, "v1", LIS_PREC_FP32, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1);
        } else {
            size_t bad = 0;
            for (size_t i = 0; i < n; i++) bad += got[i] != ref[i];
            if (bad) failed_check("ops", "to_u8", pr, "v1", LIS_PREC_FP32, (double)bad / (double)n, 0);
            else row("ops", "to_u8", pr, "v1", LIS_PREC_FP32, gtime(run_small, &k, 1, 1, 5), 0, 5.0 * n, 0, NULL, 0, -1);
        }
        free(hx); free(ref); free(got);
        lis_dev_free(x); lis_dev_free(u8);
    }
}

/* ---------------------------------------------------------------- ops suite */

static void suite_ops(void) {
    printf("\n## kernels\n");
    header();
    /* GEMM: the synthesis input's channel mixing, and a big square one */
    bench_gemm(1024, 1296, 1024, "input mixing, batch 1");
    bench_gemm(4096, 4096, 4096, "square");
    /* the generator's modulated convolutions: layer shapes of the ImageNet-256 network */
    bench_modconv(1, 1024, 1024, 36, "L1");
    bench_modconv(8, 1024, 1024, 36, "L1, batch 8");
    bench_modconv(1, 1024, 1024, 52, "L11");
    bench_modconv(1, 1024, 861, 148, "L21");
    bench_modconv(1, 512, 431, 276, "L26");
    /* the same GEMMs as plain convolutions, against cuDNN */
    bench_conv("conv (generator)", 1, 1024, 36, 1024, 3, 1, 2, 0, 0, 0, "L1 as a plain conv");
    bench_conv("conv (generator)", 1, 512, 276, 431, 3, 1, 2, 0, 0, 0, "L26 as a plain conv");
    /* ResNet-50 convolutions at batch 64 (bias + ReLU, BN folded) */
    bench_conv("conv2d (ResNet-50)", 64, 3, 224, 64, 7, 2, 3, 1, 1, 0, "stem 7x7/2");
    bench_conv("conv2d (ResNet-50)", 64, 64, 56, 64, 3, 1, 1, 1, 1, 0, "layer1 3x3");
    bench_conv("conv2d (ResNet-50)", 64, 256, 14, 256, 3, 1, 1, 1, 1, 0, "layer3 3x3");
    bench_conv("conv2d (ResNet-50)", 64, 64, 56, 256, 1, 1, 0, 1, 1, 0, "layer1 1x1 expand");
    bench_conv("conv2d (ResNet-50)", 64, 1024, 14, 256, 1, 1, 0, 1, 1, 0, "layer3 1x1 reduce");
    bench_conv("conv2d (ResNet-50)", 64, 512, 7, 2048, 1, 1, 0, 1, 1, 0, "layer4 1x1 expand");
    bench_conv("conv2d (small)", 2, 16, 20, 24, 3, 1, 1, 1, 1, 1, "v1 vs the rest");
    /* filtered lrelu: the fused kernel at the generator's shapes */
    bench_flrelu(1, 64, 38, 2, 12, 9, 8, 1, "L1-like, 64 channels");
    bench_flrelu(1, 1024, 38, 2, 12, 9, 8, 0, "L1");
    bench_flrelu(8, 1024, 38, 2, 12, 9, 8, 0, "L1, batch 8");
    bench_flrelu(1, 512, 150, 4, 24, -6, -9, 0, "L25 (up 4)");
    bench_flrelu(1, 431, 278, 2, 12, 9, 8, 0, "L26");
    bench_small();
    /* the synthesis input layer */
    if ((strstr("synth_input", g_filter) || strstr("c=1024", g_filter)) && !over_budget()) {
        const int C = 1024, S_ = 36, w_dim = 512;
        float *weight = malloc((size_t)C * C * 4), *aw = calloc(4 * w_dim, 4), ab[4] = {1, 0, 0, 0}, tr[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
        float *freqs = malloc((size_t)C * 8), *phases = malloc((size_t)C * 4);
        for (int i = 0; i < C * C; i++) weight[i] = (float)(i % 101) / 101.0f - 0.5f;
        for (int c = 0; c < C; c++) { freqs[2 * c] = 1.5f * cosf((float)c); freqs[2 * c + 1] = 1.5f * sinf((float)c); phases[c] = 0.3f; }
        lis_synth_input si;
        lis_synth_input_dev d;
        if (lis_synth_input_prepare(&si, C, S_, 16.0, 2.0, w_dim, weight, aw, ab, tr, freqs, phases) == LIS_OK) {
            if (lis_synth_input_cuda_upload(&d, &si) == LIS_OK) {
                for (int B = 1; B <= 8; B *= 8) {
                    char pr[96];
                    snprintf(pr, sizeof pr, "b=%d,c=1024,s=36", B);
                    if (over_budget()) { skipped("ops", "synth_input", pr, "time budget"); continue; }
                    const size_t ny = (size_t)B * C * S_ * S_;
                    float *w = drand((size_t)B * w_dim, 19, 1.0f), *y = dalloc(ny);
                    float *ws = dalloc(lis_synth_input_cuda_workspace(&d, B));
                    /* the CPU fast path (itself checked against _ref) validates every precision */
                    float *hw = host(w, (size_t)B * w_dim), *ref = malloc(sizeof(float) * ny);
                    void *cws = lis_alloc_aligned(lis_synth_input_workspace(&si), "ws");
                    if (ref && cws) lis_synth_input_cpu(&si, hw, ref, NULL, B, cws);
                    for (int prec = 0; prec < LIS_PREC_COUNT && ref && cws; prec++) {
                        if (!g_prec_on[prec]) continue;
                        small_ctx k = {.kind = 10, .si = &d, .prec = (lis_precision)prec, .x = w, .y = y, .ws = ws, .N = B, .in = w_dim};
                        if (run_small(&k) != LIS_OK || lis_stream_sync(S) != LIS_OK) {
                            row("ops", "synth_input", pr, "v1", (lis_precision)prec, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1);
                            continue;
                        }
                        float *got = host(y, ny);
                        const double dv = rel_dev(got, ref, ny);
                        free(got);
                        if (!(dv <= bound_of((lis_precision)prec))) {
                            failed_check("ops", "synth_input", pr, "v1", (lis_precision)prec, dv, bound_of((lis_precision)prec));
                            continue;
                        }
                        row("ops", "synth_input", pr, "v1", (lis_precision)prec, gtime(run_small, &k, 0, 1, 5),
                            2.0 * B * C * C * S_ * S_, 0, 0, NULL, 0, prec ? dv : -1);
                    }
                    free(hw); free(ref); free(cws);
                    lis_dev_free(w); lis_dev_free(y); lis_dev_free(ws);
                }
                lis_synth_input_cuda_free(&d);
            }
            lis_synth_input_free(&si);
        }
        free(weight); free(aw); free(freqs); free(phases);
    }
}

/* ---------------------------------------------------------------- networks */

static int parse_batches(const char *s, int *out, int cap) {
    int n = 0;
    char *dup = strdup(s), *save = NULL;
    for (char *tok = strtok_r(dup, ",", &save); tok && n < cap; tok = strtok_r(NULL, ",", &save))
        if (atoi(tok) > 0) out[n++] = atoi(tok);
    free(dup);
    return n;
}

typedef struct {
    lis_sgxl_cuda *gc;
    const float *ws;
    int B;
} gen_ctx;

static lis_status run_gen(void *c) {
    gen_ctx *g = c;
    return lis_sgxl_cuda_synthesis_dev(g->gc, g->ws, g->B, g->gc->img, NULL, NULL);
}

static double gen_flops(const lis_sgxl *g) {
    double f = 2.0 * g->input.C * g->input.C * g->input.S * g->input.S;
    for (int i = 0; i < g->n_layers; i++) {
        const lis_sgxl_layer *L = &g->layers[i];
        const double hc = L->in_size + L->k - 1;
        f += 2.0 * L->out_ch * L->in_ch * L->k * L->k * hc * hc;
    }
    return f;
}

static lis_status load_generator(lis_sgxl *g, const char *wpath) {
    if (wpath) return lis_sgxl_load(g, wpath);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "/tmp/lis-bench-cuda-%ld.safetensors", (long)getpid());
    lis_convert_opts o = {"tests/data/sgxl_imagenet256_synth/config.json",
                          "tests/data/sgxl_imagenet256_synth/weights.safetensors", "G_ema", 0};
    double t0 = lis_now();
    LIS_TRY(lis_convert_file("tests/data/sgxl_imagenet256_synth/weights.manifest", &o, tmp));
    printf("built the full-size ImageNet-256 generator (synth-init) in %.1f s\n", lis_now() - t0);
    lis_status s = lis_sgxl_load(g, tmp);
    unlink(tmp);
    return s;
}

/* ws of B images: seeds seed0.., class 291, psi 0.7 (mapping on the CPU) */
static float *make_ws(lis_sgxl *g, int B) {
    const size_t wsz = (size_t)g->num_ws * g->w_dim;
    float *ws = malloc(sizeof(float) * wsz * B), *z = malloc(sizeof(float) * g->z_dim);
    double *zd = malloc(sizeof(double) * g->z_dim);
    int64_t *cl = malloc(sizeof(int64_t) * B);
    for (int b = 0; b < B; b++) {
        lis_np_randn_seed((uint32_t)(3 + b), zd, g->z_dim);
        for (int d = 0; d < g->z_dim; d++) z[d] = (float)zd[d];
        cl[b] = g->c_dim > 291 ? 291 : 0;
        lis_sgxl_mapping(g, z, &cl[b], 1, 1.0f, 0, ws + b * wsz, NULL);
    }
    lis_sgxl_truncate(g, cl, B, 0.7f, ws);
    free(z); free(zd); free(cl);
    return ws;
}

/* The bundle's image when make_ws reproduces the bundle's ws for image 0 (seed 3, class 291,
 * psi 0.7 on the synth-init ImageNet-256 weights); NULL otherwise (other weights). */
static float *bundle_image(const float *ws0, size_t wsz, size_t isz) {
    lis_safetensors io;
    memset(&io, 0, sizeof io);
    if (lis_st_open(&io, "tests/data/sgxl_imagenet256_synth/io.safetensors") != LIS_OK) return NULL;
    const lis_st_entry *ew = lis_st_find(&io, "ws"), *ei = lis_st_find(&io, "img");
    float *img = NULL;
    if (ew && ei && ew->t.dtype == LIS_DTYPE_F32 && ei->t.dtype == LIS_DTYPE_F32 &&
        (size_t)lis_tensor_numel(&ew->t) == wsz && (size_t)lis_tensor_numel(&ei->t) == isz) {
        const float *wr = ew->t.data;
        double d = 0;
        for (size_t i = 0; i < wsz; i++) d = fmax(d, fabs((double)ws0[i] - wr[i]));
        if (d <= 1e-5 && (img = malloc(sizeof(float) * isz))) memcpy(img, ei->t.data, sizeof(float) * isz);
    }
    lis_st_close(&io);
    return img;
}

/* The row label of a network benchmark: "lis (cuda)" for the shipped path, else every
 * environment switch that turned part of it off or forced something, joined ("alternative" or,
 * for an experiment not yet shipped, "experimental" rows: bench/gpu_goals.py shows them as
 * context beside the shipped one). */
static const char *net_variant(void) {
    static const struct { const char *env, *value, *what; int experiment; } alt[] = {
        {"LIS_WINOGRAD_CUDA", "0", "no winograd", 0},
        {"LIS_WINOGRAD_CUDA", "1", "winograd everywhere", 0},
        {"LIS_WINO_CUDA_BATCHED", "0", "Winograd GEMMs one by one", 0},
        {"LIS_WINOGRAD_CUDA_TILE", "2", "Winograd F(2x2) only", 0},
        {"LIS_WINOGRAD_CUDA_TILE", "4", "Winograd F(4x4) everywhere", 0},
        {"LIS_WINOGRAD_CUDA_TC", "0", "reduced precisions without Winograd", 0},
        {"LIS_WINOGRAD_CUDA_TC", "1", "reduced precisions with Winograd everywhere", 0},
        {"LIS_SPLITK_CUDA", "0", "no split-K", 0},
        {"LIS_MMA_CUDA", "0", "wmma", 0},
        {"LIS_WINO_CUDA_GEMM16", "0", "Winograd on float32 operands", 0},
        {"LIS_SPLITK_MMA_CUDA", "1", "split-K on the mma kernels", 1},
        {"LIS_NHWC_CONV_A_L1", "1", "NHWC gather through L1", 1},
        {"LIS_NHWC_CONV_DEEP", "0", "NHWC 64-byte stages", 0},
        {"LIS_NHWC_CONV_WARPS", "4", "NHWC 4 warps of 64x64", 1},
        {"LIS_NHWC_CONV_TAPS_INNER", "1", "NHWC taps inside channel chunks", 1},
        {"LIS_NHWC_CONV_B_L1", "1", "NHWC weights through L1", 1},
        {"LIS_NHWC_CONV_BN", "64", "NHWC block width 64", 0},
        {"LIS_NHWC_CONV_BN", "128", "NHWC block width 128", 0},
        {"LIS_RESNET_STEM_S2D", "0", "7x7 stem", 0},
        {"LIS_RESNET_STEM_S2D", "1", "space-to-depth stem in tf32 too", 1},
        {"LIS_RESNET_NHWC", "0", "NCHW float32 activations", 0},
    };
    static char label[512];
    size_t n = (size_t)snprintf(label, sizeof label, "lis (cuda");
    int any = 0, experiment = 0;
    for (size_t i = 0; i < sizeof alt / sizeof alt[0] && n < sizeof label; i++) {
        const char *e = getenv(alt[i].env);
        if (!e || strcmp(e, alt[i].value)) continue;
        n += (size_t)snprintf(label + n, sizeof label - n, "%s%s", any ? " + " : ", ", alt[i].what);
        any = 1;
        experiment |= alt[i].experiment;
    }
    if (!any) return "lis (cuda)";
    if (n < sizeof label) snprintf(label + n, sizeof label - n, "%s)", experiment ? " experimental" : ", alternative");
    return label;
}

/* --layers: where one batch's time goes, layer by layer: the layers run exactly as in
 * lis_sgxl_cuda_synthesis_dev, with a CUDA event after each (one untimed pass first) */
static int g_layers;

static void gen_layers(lis_sgxl_cuda *gc, int B, lis_precision prec) {
    const lis_sgxl *g = gc->g;
    const int nev = g->n_layers + 2;
    lis_event *ev = calloc((size_t)nev, sizeof *ev);
    int made = 0;
    lis_status st = ev ? LIS_OK : lis_err_set("out of memory");
    for (; st == LIS_OK && made < nev; made++) st = lis_event_create(&ev[made]);
    const int64_t ldw = (int64_t)g->num_ws * g->w_dim;
    for (int pass = 0; pass < 2 && st == LIS_OK; pass++) {
        st = lis_event_record(ev[0], gc->stream);
        if (st == LIS_OK) st = lis_synth_input_cuda(&gc->input, gc->ws, ldw, gc->act[0], NULL, B, gc->conv, gc->prec, gc->stream);
        if (st == LIS_OK) st = lis_event_record(ev[1], gc->stream);
        int cur = 0;
        for (int i = 0; i < g->n_layers && st == LIS_OK; i++) {
            st = lis_sgxl_cuda_layer_run(&g->layers[i], &gc->layers[i], gc->act[cur], gc->ws + (size_t)(i + 1) * g->w_dim,
                                         ldw, B, gc->act[1 - cur], gc->conv, gc->scratch, NULL, 0, gc->prec, gc->stream);
            cur = 1 - cur;
            if (st == LIS_OK) st = lis_event_record(ev[i + 2], gc->stream);
        }
        if (st == LIS_OK) st = lis_stream_sync(gc->stream);
    }
    if (st != LIS_OK) {
        printf("(per-layer times not measured: %s)\n", lis_err_msg());
    } else {
        float total = 0, *ms = calloc((size_t)nev, sizeof *ms);
        const int nl = g->n_layers + 1; /* the input, then each layer */
        for (int i = 0; ms && i < nl; i++) {
            if (lis_event_elapsed_ms(ev[i], ev[i + 1], &ms[i]) != LIS_OK) ms[i] = 0;
            total += ms[i];
        }
        if (!ms) { printf("(per-layer times: out of memory)\n"); goto done; }
        printf("\nper layer, batch %d, %s (CUDA events; the layer = affine + modulated conv + filtered lrelu):\n\n"
               "| layer | in -> out | size | k | ms | share | conv TFLOP/s |\n|---|---|---|---|---|---|---|\n",
               B, lis_precision_name(prec));
        const double fi = 2.0 * g->input.C * g->input.C * g->input.S * g->input.S * B;
        printf("| input | %d | %d | - | %.3f | %.1f%% | %.1f |\n", g->input.C, g->input.S, ms[0],
               100.0 * ms[0] / total, ms[0] > 0 ? fi / (ms[0] * 1e-3) / 1e12 : 0.0);
        for (int i = 0; i + 1 < nl; i++) {
            const lis_sgxl_layer *L = &g->layers[i];
            const double hc = L->in_size + L->k - 1, f = 2.0 * L->out_ch * L->in_ch * L->k * L->k * hc * hc * B;
            printf("| %s | %d -> %d | %d -> %d | %d | %.3f | %.1f%% | %.1f |\n", L->name, L->in_ch, L->out_ch, L->in_size,
                   L->out_size, L->k, ms[i + 1], 100.0 * ms[i + 1] / total,
                   ms[i + 1] > 0 ? f / (ms[i + 1] * 1e-3) / 1e12 : 0.0);
        }
        printf("\n");
        free(ms);
    }
done:
    for (int i = 0; i < made; i++) lis_event_destroy(ev[i]);
    free(ev);
}

static void suite_generator(const char *wpath, const char *batches) {
    printf("\n## generator (synthesis, %s)\n", wpath ? wpath : "full-size ImageNet-256, synth-init weights");
    if (over_budget()) { skipped("generator", "synthesis", "-", "time budget"); return; }
    lis_sgxl g;
    if (load_generator(&g, wpath) != LIS_OK) { skipped("generator", "synthesis", "-", lis_err_msg()); return; }
    int bl[16];
    const int nb = parse_batches(batches, bl, 16);
    int maxb = 1;
    for (int i = 0; i < nb; i++) if (bl[i] > maxb) maxb = bl[i];
    const double fl = gen_flops(&g);
    const size_t wsz = (size_t)g.num_ws * g.w_dim, isz = (size_t)g.img_channels * g.img_resolution * g.img_resolution;
    float *ws = make_ws(&g, maxb), *ref = NULL;
    /* validation of image 0 before timing: float32 against the bundle (when it applies), every
     * precision finite and (reduced) within NET_BOUND_REDUCED of float32 */
    float *bundle = bundle_image(ws, wsz, isz);
    printf("per image: %.3f TFLOP (2 x multiply-adds of the convolutions and the channel mixing)\n", fl / 1e12);
    printf("validation of image 0: %s\n", bundle ? "float32 vs the sgxl_imagenet256_synth bundle (1e-4)" :
                                                   "finite, reduced precisions vs float32 (bundle not applicable)");
    header();
    for (int prec = 0; prec < LIS_PREC_COUNT; prec++) {
        if (!g_prec_on[prec]) continue;
        const char *pn = lis_precision_name((lis_precision)prec);
        if (over_budget()) { skipped_variant("generator", "synthesis", "-", net_variant(), pn, "time budget"); continue; }
        lis_sgxl_cuda gc;
        if (lis_sgxl_cuda_init(&gc, &g, (lis_precision)prec, 0) != LIS_OK) {
            skipped_variant("generator", "synthesis", "-", net_variant(), pn, lis_err_msg());
            continue;
        }
        for (int i = 0; i < nb; i++) {
            const int B = bl[i];
            char pr[64];
            snprintf(pr, sizeof pr, "batch %d", B);
            if (over_budget()) { skipped_variant("generator", "synthesis", pr, net_variant(), pn, "time budget"); continue; }
            if (lis_sgxl_cuda_plan(&gc, B) != LIS_OK || lis_dev_h2d(gc.ws, ws, sizeof(float) * wsz * B, gc.stream) != LIS_OK) {
                skipped_variant("generator", "synthesis", pr, net_variant(), pn, lis_err_msg());
                continue;
            }
            gen_ctx c = {&gc, gc.ws, B};
            S = gc.stream; /* validate and time on the net's stream */
            if (run_gen(&c) != LIS_OK || lis_stream_sync(gc.stream) != LIS_OK) {
                row("generator", "synthesis", pr, net_variant(), (lis_precision)prec, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1);
                continue;
            }
            /* deviation of image 0 from float32 (the fp32 run keeps it as the reference) */
            float *img = host(gc.img, isz);
            double dev = -1, vdev = 0, bound = NET_BOUND_FP32;
            if (!all_finite(img, isz)) vdev = INFINITY;
            else if (prec == LIS_PREC_FP32 && bundle) vdev = net_dev(img, bundle, isz);
            else if (prec != LIS_PREC_FP32) {
                bound = NET_BOUND_REDUCED;
                if (ref) vdev = net_dev(img, ref, isz);
                else if (bundle) vdev = net_dev(img, bundle, isz);
            }
            if (ref) dev = rel_dev(img, ref, isz);
            if (!(vdev <= bound)) {
                failed_check("generator", "synthesis", pr, net_variant(), (lis_precision)prec, vdev, bound);
                free(img);
                continue;
            }
            if (prec == LIS_PREC_FP32 && !ref) ref = img;
            else free(img);
            gres r = gtime(run_gen, &c, 0, 0, g_net_reps);
            row("generator", "synthesis", pr, net_variant(), (lis_precision)prec, r, fl * B, 0, 0, NULL, 0, dev);
            if (r.ok) printf("|   |   | %s | images/s | %s | %.2f | | | |\n", pr, pn, B / r.mean);
            if (g_layers && i == 0) gen_layers(&gc, B, (lis_precision)prec);
        }
        S = NULL;
        lis_sgxl_cuda_free(&gc);
    }
    free(ws);
    free(ref);
    free(bundle);
    lis_sgxl_free(&g);
}

typedef struct {
    lis_resnet_cuda *rc;
    int N;
} cls_ctx;

static lis_status run_cls(void *c) {
    cls_ctx *k = c;
    return lis_resnet_cuda_forward_dev(k->rc, k->N, 224, 224, k->rc->x, k->rc->pooled, k->rc->logits, NULL);
}

/* --layers for the classifier: the time of each convolution of one forward (a CUDA event after
 * each, one untimed pass first; the maxpool, adds and pooling count with the convolution that
 * follows them), summed over the convolutions of the same shape, with the kernel path that
 * lis_igemm_cuda takes for it */
#define CLS_MAX_CONVS 256
typedef struct {
    lis_event ev[CLS_MAX_CONVS + 1];
    lis_conv2d_params p[CLS_MAX_CONVS];
    int n;
    lis_stream s;
    lis_status st;
} cls_layer_ctx;

static void cls_on_conv(void *ctx, int index, const lis_conv2d_params *p) {
    cls_layer_ctx *c = ctx;
    if (index >= CLS_MAX_CONVS || c->st != LIS_OK) return;
    c->p[index] = *p;
    c->st = lis_event_record(c->ev[index + 1], c->s);
    if (index + 1 > c->n) c->n = index + 1;
}

static int same_conv(const lis_conv2d_params *a, const lis_conv2d_params *b) {
    return a->N == b->N && a->C == b->C && a->H == b->H && a->W == b->W && a->K == b->K && a->R == b->R &&
           a->S == b->S && a->stride_h == b->stride_h && a->stride_w == b->stride_w && a->pad_h == b->pad_h &&
           a->pad_w == b->pad_w && a->act == b->act;
}

static const char *conv_path(const lis_conv2d_params *cp, lis_precision prec, int nhwc, char *buf, size_t cap) {
    if (nhwc) { /* kernels/conv_nhwc.cu: the block width it picks */
        int Ho, Wo;
        lis_conv2d_out_shape(cp, &Ho, &Wo);
        snprintf(buf, cap, "nhwc conv, BN %d", lis_nhwc_conv_block_n(cp->N * Ho * Wo, cp->K));
        return buf;
    }
    const lis_igemm_params p = {cp->N, cp->C, cp->H, cp->W, cp->K, cp->R, cp->S, cp->stride_h, cp->stride_w, cp->pad_h,
                                cp->pad_w, cp->dil_h, cp->dil_w, 0, 0.0f, NULL, NULL, NULL, NULL};
    const int plain = cp->R == 1 && cp->S == 1 && cp->stride_h == 1 && cp->stride_w == 1 && cp->pad_h == 0 && cp->pad_w == 0;
    if (p.C >= 64 && lis_wino_igemm_applies(&p) && lis_wino_cuda_wanted(&p) &&
        (prec == LIS_PREC_FP32 || (lis_igemm_mma_enabled() && lis_wino_cuda_tc_wanted(&p)))) {
        const int t = lis_wino_cuda_tile(&p, prec);
        snprintf(buf, cap, "winograd F(%dx%d)", t, t);
    } else snprintf(buf, cap, "%s", prec != LIS_PREC_FP32 ? "mma" : plain ? "v3" : "v2 (split-K when small)");
    return buf;
}

static void cls_layers(lis_resnet_cuda *rc, int N, lis_precision prec) {
    cls_layer_ctx *c = calloc(1, sizeof *c);
    if (!c) { printf("(per-layer times: out of memory)\n"); return; }
    int made = 0;
    for (; c->st == LIS_OK && made <= CLS_MAX_CONVS; made++) c->st = lis_event_create(&c->ev[made]);
    c->s = rc->stream;
    rc->on_conv = cls_on_conv;
    rc->on_conv_ctx = c;
    for (int pass = 0; pass < 2 && c->st == LIS_OK; pass++) {
        c->st = lis_event_record(c->ev[0], rc->stream);
        if (c->st == LIS_OK) c->st = lis_resnet_cuda_forward_dev(rc, N, 224, 224, rc->x, rc->pooled, rc->logits, NULL);
        if (c->st == LIS_OK) c->st = lis_stream_sync(rc->stream);
    }
    rc->on_conv = NULL;
    rc->on_conv_ctx = NULL;
    if (c->st != LIS_OK) {
        printf("(per-layer times not measured: %s)\n", lis_err_msg());
    } else {
        /* shapes in order of first appearance: count, ms, multiply-adds */
        int key[CLS_MAX_CONVS], cnt[CLS_MAX_CONVS], nk = 0;
        double ms[CLS_MAX_CONVS], fl[CLS_MAX_CONVS], total = 0;
        for (int i = 0; i < c->n; i++) {
            float t = 0;
            if (lis_event_elapsed_ms(c->ev[i], c->ev[i + 1], &t) != LIS_OK) t = 0;
            const lis_conv2d_params *p = &c->p[i];
            int k = 0;
            while (k < nk && !same_conv(&c->p[key[k]], p)) k++;
            if (k == nk) { key[nk] = i; cnt[nk] = 0; ms[nk] = 0; fl[nk] = 0; nk++; }
            int Ho, Wo;
            lis_conv2d_out_shape(p, &Ho, &Wo);
            cnt[k]++;
            ms[k] += t;
            fl[k] += 2.0 * p->N * p->K * p->C * p->R * p->S * (double)Ho * Wo;
            total += t;
        }
        printf("\nper convolution shape, batch %d, %s (CUDA events, summed over the convolutions of that shape):\n\n"
               "| conv | in -> out | size | count | path | ms | share | TFLOP/s |\n|---|---|---|---|---|---|---|---|\n",
               N, lis_precision_name(prec));
        for (int k = 0; k < nk; k++) {
            const lis_conv2d_params *p = &c->p[key[k]];
            char path[64];
            printf("| %dx%d/%d | %d -> %d | %d | %d | %s | %.3f | %.1f%% | %.1f |\n", p->R, p->S, p->stride_h, p->C, p->K,
                   p->H, cnt[k], conv_path(p, prec, rc->nhwc, path, sizeof path), ms[k], total > 0 ? 100.0 * ms[k] / total : 0.0,
                   ms[k] > 0 ? fl[k] / (ms[k] * 1e-3) / 1e12 : 0.0);
        }
        printf("\n");
    }
    for (int i = 0; i < made; i++) lis_event_destroy(c->ev[i]);
    free(c);
}

static lis_status load_resnet50(lis_resnet *net, lis_safetensors *wts) {
    lis_manifest m;
    LIS_TRY(lis_manifest_read(&m, "tests/data/resnet50_synth_gain/weights.manifest"));
    lis_status s = lis_synth_build(wts, &m, NULL);
    lis_manifest_free(&m);
    if (s == LIS_OK) {
        s = lis_resnet_load(net, wts);
        if (s != LIS_OK) lis_st_close(wts);
    }
    return s;
}

/* The classifier's benchmark input: N images of 3 x 224 x 224 values in [-2, 2), image 0 the
 * same for every N. */
static void cls_input(float *hx, int N) {
    unsigned seed = 5;
    for (size_t k = 0; k < (size_t)N * 3 * 224 * 224; k++) {
        seed = seed * 1664525u + 1013904223u;
        hx[k] = (float)((seed >> 9) & 0xffff) / 16384.0f - 2.0f;
    }
}

static void suite_classifier(const char *batches) {
    printf("\n## classifier (ResNet-50, synth-init weights, 224x224 preprocessed input on the device)\n");
    if (over_budget()) { skipped("classifier", "forward", "-", "time budget"); return; }
    lis_resnet net;
    lis_safetensors wts;
    if (load_resnet50(&net, &wts) != LIS_OK) { skipped("classifier", "forward", "-", lis_err_msg()); return; }
    int bl[16];
    const int nb = parse_batches(batches, bl, 16);
    const double fl = 2.0 * lis_resnet_macs(&net, 224, 224);
    const size_t ncls = (size_t)net.num_classes;
    float *ref = NULL;
    /* validation before timing: image 0's logits against the CPU backend (the same input in every
     * batch); float32 within NET_BOUND_FP32, reduced precisions within NET_BOUND_REDUCED */
    float *x0 = malloc(sizeof(float) * 3 * 224 * 224), *lcpu = malloc(sizeof(float) * ncls);
    cls_input(x0, 1);
    if (lis_resnet_forward(&net, 1, 224, 224, x0, NULL, lcpu, NULL) != LIS_OK) {
        printf("(no CPU reference for the validation: %s)\n", lis_err_msg());
        free(lcpu);
        lcpu = NULL;
    }
    free(x0);
    header();
    for (int prec = 0; prec < LIS_PREC_COUNT; prec++) {
        if (!g_prec_on[prec]) continue;
        const char *pn = lis_precision_name((lis_precision)prec);
        if (over_budget()) { skipped_variant("classifier", "resnet50 forward", "-", net_variant(), pn, "time budget"); continue; }
        lis_resnet_cuda rc;
        if (lis_resnet_cuda_init(&rc, &net, &wts, (lis_precision)prec, 0) != LIS_OK) {
            skipped_variant("classifier", "resnet50 forward", "-", net_variant(), pn, lis_err_msg());
            continue;
        }
        for (int i = 0; i < nb; i++) {
            const int N = bl[i];
            char pr[64];
            snprintf(pr, sizeof pr, "batch %d", N);
            if (over_budget()) { skipped_variant("classifier", "resnet50 forward", pr, net_variant(), pn, "time budget"); continue; }
            if (lis_resnet_cuda_plan(&rc, N, 224, 224) != LIS_OK) {
                skipped_variant("classifier", "resnet50 forward", pr, net_variant(), pn, lis_err_msg());
                continue;
            }
            float *hx = malloc(sizeof(float) * N * 3 * 224 * 224);
            cls_input(hx, N);
            lis_status st = lis_dev_h2d(rc.x, hx, sizeof(float) * N * 3 * 224 * 224, rc.stream);
            free(hx);
            if (st != LIS_OK) { skipped_variant("classifier", "resnet50 forward", pr, net_variant(), pn, lis_err_msg()); continue; }
            cls_ctx c = {&rc, N};
            S = rc.stream; /* validate and time on the net's stream */
            if (run_cls(&c) != LIS_OK || lis_stream_sync(rc.stream) != LIS_OK) {
                row("classifier", "resnet50 forward", pr, net_variant(), (lis_precision)prec, (gres){0, 0, 0}, 0, 0, 0, NULL, 0, -1);
                S = NULL;
                continue;
            }
            float *lg = host(rc.logits, (size_t)N * ncls);
            const double bound = prec == LIS_PREC_FP32 ? NET_BOUND_FP32 : NET_BOUND_REDUCED;
            double dev = -1, vdev = all_finite(lg, (size_t)N * ncls) ? 0 : INFINITY;
            if (vdev == 0 && lcpu) vdev = net_dev(lg, lcpu, ncls);
            if (!(vdev <= bound)) {
                failed_check("classifier", "resnet50 forward", pr, net_variant(), (lis_precision)prec, vdev, bound);
                free(lg);
                S = NULL;
                continue;
            }
            if (N == bl[0]) { /* deviation of the first batch's logits from float32 */
                if (prec == LIS_PREC_FP32 && !ref) { ref = lg; lg = NULL; }
                else if (ref) dev = rel_dev(lg, ref, (size_t)N * ncls);
            }
            free(lg);
            gres r = gtime(run_cls, &c, 0, 0, g_net_reps + 1);
            row("classifier", "resnet50 forward", pr, net_variant(), (lis_precision)prec, r, fl * N, 0, 0, NULL, 0, dev);
            if (r.ok) printf("|   |   | %s | images/s | %s | %.1f | | | |\n", pr, pn, N / r.mean);
            if (g_layers && i == 0) cls_layers(&rc, N, (lis_precision)prec);
            S = NULL;
        }
        lis_resnet_cuda_free(&rc);
    }
    free(ref);
    free(lcpu);
    lis_resnet_free(&net);
    lis_st_close(&wts);
}

typedef struct {
    lis_sgxl_cuda *gc;
    lis_resnet_cuda *rc;
    int B;
} e2e_ctx;

static lis_status run_e2e(void *c) {
    e2e_ctx *e = c;
    LIS_TRY(lis_sgxl_cuda_synthesis_dev(e->gc, e->gc->ws, e->B, e->gc->img, NULL, NULL));
    LIS_TRY(lis_stream_sync(e->gc->stream));
    return lis_resnet_cuda_classify_images(e->rc, e->gc->img, e->B, e->gc->g->img_resolution, NULL, NULL);
}

static void suite_e2e(const char *wpath, const char *batches) {
    printf("\n## end to end: ws -> synthesis -> uint8 -> preprocess -> ResNet-50 -> r, logits (all on the GPU)\n");
    if (over_budget()) { skipped("e2e", "generate+classify", "-", "time budget"); return; }
    lis_sgxl g;
    lis_resnet net;
    lis_safetensors wts;
    if (load_generator(&g, wpath) != LIS_OK) { skipped("e2e", "generate+classify", "-", lis_err_msg()); return; }
    if (load_resnet50(&net, &wts) != LIS_OK) { skipped("e2e", "generate+classify", "-", lis_err_msg()); lis_sgxl_free(&g); return; }
    int bl[16];
    const int nb = parse_batches(batches, bl, 16);
    int maxb = 1;
    for (int i = 0; i < nb; i++) if (bl[i] > maxb) maxb = bl[i];
    float *ws = make_ws(&g, maxb);
    header();
    for (int prec = 0; prec < LIS_PREC_COUNT; prec++) {
        if (!g_prec_on[prec]) continue;
        const char *pn = lis_precision_name((lis_precision)prec);
        if (over_budget()) { skipped_variant("e2e", "generate+classify", "-", net_variant(), pn, "time budget"); continue; }
        lis_sgxl_cuda gc;
        lis_resnet_cuda rc;
        if (lis_sgxl_cuda_init(&gc, &g, (lis_precision)prec, 0) != LIS_OK) {
            skipped_variant("e2e", "generate+classify", "-", net_variant(), pn, lis_err_msg());
            continue;
        }
        if (lis_resnet_cuda_init(&rc, &net, &wts, (lis_precision)prec, 0) != LIS_OK) {
            skipped_variant("e2e", "generate+classify", "-", net_variant(), pn, lis_err_msg());
            lis_sgxl_cuda_free(&gc);
            continue;
        }
        for (int i = 0; i < nb; i++) {
            const int B = bl[i];
            char pr[64];
            snprintf(pr, sizeof pr, "batch %d", B);
            if (over_budget()) { skipped_variant("e2e", "generate+classify", pr, net_variant(), pn, "time budget"); continue; }
            if (lis_sgxl_cuda_plan(&gc, B) != LIS_OK ||
                lis_dev_h2d(gc.ws, ws, sizeof(float) * g.num_ws * g.w_dim * B, gc.stream) != LIS_OK) {
                skipped_variant("e2e", "generate+classify", pr, net_variant(), pn, lis_err_msg());
                continue;
            }
            e2e_ctx c = {&gc, &rc, B};
            S = rc.stream;
            /* validation before timing (the parts are checked in the other suites and the tests):
             * every r and logit finite */
            if (run_e2e(&c) != LIS_OK || lis_stream_sync(rc.stream) != LIS_OK) {
                row("e2e", "generate+classify", pr, net_variant(), (lis_precision)prec, (gres){0, 0, 0}, 0, 0, B, "images/s", 0, -1);
                S = NULL;
                continue;
            }
            float *lg = host(rc.logits, (size_t)B * net.num_classes), *fr = host(rc.pooled, (size_t)B * net.feat_dim);
            const int fin = all_finite(lg, (size_t)B * net.num_classes) && all_finite(fr, (size_t)B * net.feat_dim);
            free(lg);
            free(fr);
            if (!fin) {
                failed_check("e2e", "generate+classify", pr, net_variant(), (lis_precision)prec, INFINITY, 0);
                S = NULL;
                continue;
            }
            gres r = gtime(run_e2e, &c, 0, 0, g_net_reps);
            row("e2e", "generate+classify", pr, net_variant(), (lis_precision)prec, r, 0, 0, B, "images/s", 0, -1);
            S = NULL;
        }
        lis_resnet_cuda_free(&rc);
        lis_sgxl_cuda_free(&gc);
    }
    free(ws);
    lis_resnet_free(&net);
    lis_st_close(&wts);
    lis_sgxl_free(&g);
}

/* ---------------------------------------------------------------- entry */

int lis_bench_cuda(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) {
        printf("usage: lis-bench cuda [ops,generator,classifier,e2e] [--filter S] [--seconds 0.3]\n"
               "                      [--precisions fp32,tf32,bf16,fp16] [--gen-batch 1,8,32,64]\n"
               "                      [--cls-batch 1,64,256] [--e2e-batch 8] [--net-reps 2]\n"
               "                      [--weights G.safetensors] [--budget SECONDS] [--jsonl FILE] [--layers]\n"
               "  --layers: per-layer times for the first batch of each precision (generator: each layer;\n"
               "            classifier: each convolution shape, with the kernel path it takes)\n");
        return 0;
    }
    g_filter = lis_args_str(&a, "--filter", "");
    g_layers = lis_args_flag(&a, "--layers");
    const char *precs = lis_args_str(&a, "--precisions", "fp32,tf32,bf16,fp16");
    const char *gen_b = lis_args_str(&a, "--gen-batch", "1,8,32,64"), *cls_b = lis_args_str(&a, "--cls-batch", "1,64,256");
    const char *e2e_b = lis_args_str(&a, "--e2e-batch", "8"), *wpath = lis_args_str(&a, "--weights", NULL);
    const char *jsonl = lis_args_str(&a, "--jsonl", NULL);
    long reps;
    lis_status s;
    if ((s = lis_args_double(&a, "--seconds", 0.3, &g_secs)) || (s = lis_args_double(&a, "--budget", 0, &g_budget)) ||
        (s = lis_args_long(&a, "--net-reps", 2, &reps)) || (s = lis_args_done(&a))) {
        fprintf(stderr, "lis-bench cuda: %s\n", lis_err_msg());
        return 2;
    }
    g_net_reps = reps < 1 ? 1 : reps > 8 ? 8 : (int)reps;
    const char *suites = a.npos ? a.pos[0] : "ops,generator,classifier,e2e";
    char *dup = strdup(precs), *save = NULL;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        lis_precision p;
        if (lis_precision_parse(tok, &p) != LIS_OK) { fprintf(stderr, "lis-bench cuda: %s\n", lis_err_msg()); free(dup); return 2; }
        g_prec_on[p] = 1;
    }
    free(dup);
    lis_cuda_describe(g_dev, sizeof g_dev);
    if (lis_cuda_device_count() == 0) {
        printf("lis-bench cuda: %s: nothing to run\n", g_dev);
        return 0;
    }
    const char *cm = getenv("LIS_COMMIT");
    if (cm && *cm) snprintf(g_commit, sizeof g_commit, "%s", cm);
    time_t now = time(NULL);
    strftime(g_date, sizeof g_date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    printf("lis-bench cuda: %s\ncommit %s, %s, %s build, CPU threads %d\n", g_dev, g_commit, g_date,
#ifdef __OPTIMIZE__
           "optimised",
#else
           "WARNING: unoptimised",
#endif
           lis_threads_count());
    if (jsonl && !(g_jsonl = fopen(jsonl, "a"))) { fprintf(stderr, "lis-bench cuda: cannot open %s\n", jsonl); return 1; }
    lis_device_info info;
    if (lis_cuda_select(0) != LIS_OK || lis_cuda_device_info(0, &info) != LIS_OK || lis_event_create(&E0) != LIS_OK ||
        lis_event_create(&E1) != LIS_OK) {
        fprintf(stderr, "lis-bench cuda: %s\n", lis_err_msg());
        return 1;
    }
    l2bytes = info.l2_bytes ? 2 * info.l2_bytes : (size_t)128 << 20;
    if (!(l2buf = lis_dev_alloc(l2bytes, "L2 flush buffer"))) { fprintf(stderr, "lis-bench cuda: %s\n", lis_err_msg()); return 1; }
    g_t0 = lis_now();
    if (strstr(suites, "ops")) suite_ops();
    if (strstr(suites, "generator")) suite_generator(wpath, gen_b);
    if (strstr(suites, "classifier")) suite_classifier(cls_b);
    if (strstr(suites, "e2e")) suite_e2e(wpath, e2e_b);
    printf("\nlis-bench cuda: %d rows, %d failed, %d skipped, %.1f s\n", g_rows, g_failed, g_skipped, lis_now() - g_t0);
    lis_dev_free(l2buf);
    lis_event_destroy(E0);
    lis_event_destroy(E1);
    if (g_jsonl) fclose(g_jsonl);
    return g_failed ? 1 : 0;
}
