/* cmd_generate.c — `lis-run generate`: ws, z or seeds -> images (and taps). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "kernels/to_u8.h"
#include "nets/stylegan_xl.h"
#include "nets/stylegan_xl_cuda.h"
#include "runtime/fileio.h"
#include "runtime/np_random.h"
#include "runtime/npy.h"
#include "runtime/png_io.h"
#include "runtime/progress.h"

static void help(void) {
    printf("usage: lis-run generate --weights G.safetensors INPUT [outputs] [options]\n\n"
           "Renders images with a StyleGAN-XL generator (synthesis in float32, noise_mode='none').\n\n"
           "input (one of):\n"
           "  --ws WS.npy          w latents, [N, num_ws, w_dim] or [N, w_dim] (repeated to all ws)\n"
           "  --z Z.npy --class C  z latents [N, z_dim] (float64 or float32) for class C\n"
           "  --seeds S1,S2,.. --class C\n"
           "                       z = numpy RandomState(S).randn(1, z_dim) per seed, bit-exact\n"
           "                       (the original's gen_utils.get_w_from_seed)\n"
           "  --class C            one class for all samples, or a comma list with one per sample\n"
           "  --psi F              truncation toward the class's w_avg for --z/--seeds:\n"
           "                       w = w_avg[c] + (w - w_avg[c]) * psi (default 0.7, as the paper)\n\n"
           "outputs (at least one):\n"
           "  -o, --out IMG.npy    float32 [N, C, H, W], the synthesis output in [-1, 1]\n"
           "  --ws-out WS.npy      the ws used, float32 [N, num_ws, w_dim]\n"
           "  --png DIR            DIR/000000.png ...: uint8 as the original's w_to_img:\n"
           "                       (x + 1) * 127.5, clamped to [0, 255], truncated toward zero\n"
           "  --taps DIR           every synthesis layer's output as DIR/<layer name>.npy\n"
           "                       [N, C, S, S] (input, L0_..., ToRGB before output_scale);\n"
           "                       memory grows with N (about 2 GB per image at ImageNet-256)\n\n"
           "options:\n"
           "  --batch B            images per batch (default 4)\n"
           "  --device DEV         cpu, cuda, cuda:N or auto (default auto: cuda when a GPU is present)\n"
           "  --precision P        fp32 (default), or tf32, bf16, fp16 on tensor cores with float32\n"
           "                       accumulation (--device cuda only; faster, not bit-compatible:\n"
           "                       `lis-bench cuda generator` prints each one's deviation)\n\n"
           "Every output is written only after all images are done (temp file + rename).\n");
}

typedef struct {
    int n_total, base;
    char **names;
    float **data;
    int *C, *S;
    int n_layers;
} taps_ctx;

static lis_status tap_fn(void *ctx, int index, const char *name, const float *x, int B, int C, int S) {
    taps_ctx *t = ctx;
    if (!t->data[index]) {
        t->data[index] = lis_malloc(sizeof(float) * (size_t)t->n_total * C * S * S, "layer taps");
        if (!t->data[index]) return LIS_ERR;
        t->names[index] = strdup(name);
        t->C[index] = C;
        t->S[index] = S;
    }
    memcpy(t->data[index] + (size_t)t->base * C * S * S, x, sizeof(float) * (size_t)B * C * S * S);
    return LIS_OK;
}

static lis_status parse_list(const char *s, int64_t **out, int *n, const char *what) {
    *n = 0;
    *out = NULL;
    if (!s || !*s) return lis_err_usage("%s needs a value", what);
    int cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    *out = malloc(sizeof(int64_t) * (size_t)cap);
    if (!*out) return lis_err_set("out of memory");
    char *dup = strdup(s), *save = NULL;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long v;
        lis_status st = lis_parse_long(tok, &v, what);
        if (st != LIS_OK) { free(dup); free(*out); *out = NULL; return st; }
        (*out)[(*n)++] = v;
    }
    free(dup);
    if (*n == 0) { free(*out); *out = NULL; return lis_err_usage("%s: empty list", what); }
    return LIS_OK;
}

static lis_status write_pngs(const char *dir, const float *img, int N, int C, int R) {
    LIS_TRY(lis_mkdirs(dir));
    uint8_t *u8 = lis_malloc((size_t)R * R * C, "png");
    if (!u8) return LIS_ERR;
    lis_status s = LIS_OK;
    for (int n = 0; n < N && s == LIS_OK; n++) {
        lis_to_u8_ref(img + (size_t)n * C * R * R, 1, C, R, R, u8);
        char name[64];
        snprintf(name, sizeof name, "%06d.png", n);
        char *path = lis_path_join(dir, name);
        s = path ? lis_png_write(path, u8, R, R, C) : LIS_ERR;
        free(path);
    }
    free(u8);
    return s;
}

int lis_cmd_generate(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { help(); return 0; }
    const char *wpath = lis_args_str(&a, "--weights", NULL), *ws_in = lis_args_str(&a, "--ws", NULL);
    const char *z_in = lis_args_str(&a, "--z", NULL), *seeds_s = lis_args_str(&a, "--seeds", NULL);
    const char *cls_s = lis_args_str(&a, "--class", NULL), *out = lis_args_str(&a, "--out", NULL);
    if (!out) out = lis_args_str(&a, "-o", NULL);
    const char *ws_out = lis_args_str(&a, "--ws-out", NULL), *png = lis_args_str(&a, "--png", NULL);
    const char *taps = lis_args_str(&a, "--taps", NULL), *device = lis_args_str(&a, "--device", "auto");
    const char *precision = lis_args_str(&a, "--precision", NULL);
    double psi;
    long batch;
    lis_status s;
    if ((s = lis_args_double(&a, "--psi", 0.7, &psi)) || (s = lis_args_long(&a, "--batch", 4, &batch)) ||
        (s = lis_args_done(&a)))
        return lis_cli_fail("generate", s);
    if (a.npos) return lis_cli_fail("generate", lis_err_usage("unexpected argument '%s'", a.pos[0]));
    if (!wpath || !*wpath) return lis_cli_fail("generate", lis_err_usage("--weights G.safetensors is required"));
    if (!!ws_in + !!z_in + !!seeds_s != 1) return lis_cli_fail("generate", lis_err_usage("give exactly one of --ws, --z, --seeds"));
    if (!out && !ws_out && !png && !taps) return lis_cli_fail("generate", lis_err_usage("no output requested (-o, --ws-out, --png, --taps)"));
    if (batch < 1 || batch > 4096) return lis_cli_fail("generate", lis_err_usage("--batch must be in 1..4096"));
    if (!ws_in && !cls_s) return lis_cli_fail("generate", lis_err_usage("--z and --seeds need --class C"));

    lis_sgxl g;
    if ((s = lis_sgxl_load(&g, wpath))) return lis_cli_fail("generate", s);
    int N = 0, nc = 0, nseeds = 0;
    int64_t *cls = NULL, *seeds = NULL;
    float *ws = NULL, *img = NULL;
    lis_tensor t = {0};
    taps_ctx tc = {0};
    lis_sgxl_runner run = {0};
    size_t wsz = (size_t)g.num_ws * g.w_dim;
    if (ws_in) {
        if ((s = lis_npy_read_f32(ws_in, &t))) goto done;
        if (t.ndim == 3 && t.shape[1] == g.num_ws && t.shape[2] == g.w_dim) N = (int)t.shape[0];
        else if (t.ndim == 2 && t.shape[1] == g.w_dim) N = (int)t.shape[0];
        else {
            char b[128];
            s = lis_err_usage("%s: ws of shape %s; the generator takes [N, %d, %d] or [N, %d]", ws_in,
                              lis_shape_str(t.ndim, t.shape, b, sizeof b), g.num_ws, g.w_dim, g.w_dim);
            goto done;
        }
        if (N < 1) { s = lis_err_usage("%s: no samples", ws_in); goto done; }
        ws = lis_malloc(sizeof(float) * (size_t)N * wsz, "ws");
        if (!ws) { s = LIS_ERR; goto done; }
        for (int n = 0; n < N; n++)
            for (int k = 0; k < g.num_ws; k++)
                memcpy(ws + (size_t)n * wsz + (size_t)k * g.w_dim,
                       (float *)t.data + (size_t)n * (t.ndim == 3 ? wsz : (size_t)g.w_dim) + (t.ndim == 3 ? (size_t)k * g.w_dim : 0),
                       sizeof(float) * (size_t)g.w_dim);
    } else {
        float *z = NULL;
        if (z_in) {
            if ((s = lis_npy_read_f32(z_in, &t))) goto done;
            if (t.ndim != 2 || t.shape[1] != g.z_dim || t.shape[0] < 1) {
                char b[128];
                s = lis_err_usage("%s: z of shape %s; expected [N, %d]", z_in, lis_shape_str(t.ndim, t.shape, b, sizeof b), g.z_dim);
                goto done;
            }
            N = (int)t.shape[0];
            z = t.data;
        } else {
            if ((s = parse_list(seeds_s, &seeds, &nseeds, "--seeds"))) goto done;
            N = nseeds;
            z = lis_malloc(sizeof(float) * (size_t)N * g.z_dim, "z");
            double *zd = lis_malloc(sizeof(double) * (size_t)g.z_dim, "z");
            if (!z || !zd) { free(z); free(zd); s = LIS_ERR; goto done; }
            for (int n = 0; n < N; n++) {
                if (seeds[n] < 0 || seeds[n] > 0xffffffffLL) { free(z); free(zd); s = lis_err_usage("seed %lld is outside 0..2^32-1", (long long)seeds[n]); goto done; }
                lis_np_randn_seed((uint32_t)seeds[n], zd, g.z_dim);
                for (int d = 0; d < g.z_dim; d++) z[(size_t)n * g.z_dim + d] = (float)zd[d];
            }
            free(zd);
        }
        if ((s = parse_list(cls_s, &cls, &nc, "--class"))) { if (!z_in) free(z); goto done; }
        if (nc != 1 && nc != N) { if (!z_in) free(z); s = lis_err_usage("--class lists %d classes for %d samples", nc, N); goto done; }
        if (nc == 1 && N > 1) {
            int64_t *c = realloc(cls, sizeof(int64_t) * (size_t)N);
            if (!c) { if (!z_in) free(z); s = lis_err_set("out of memory"); goto done; }
            cls = c;
            for (int n = 1; n < N; n++) cls[n] = cls[0];
        }
        ws = lis_malloc(sizeof(float) * (size_t)N * wsz, "ws");
        if (!ws) { if (!z_in) free(z); s = LIS_ERR; goto done; }
        s = lis_sgxl_mapping(&g, z, cls, N, 1.0f, 0, ws, NULL);
        if (!z_in) free(z);
        if (s) goto done;
        lis_sgxl_truncate(&g, cls, N, (float)psi, ws);
    }
    size_t isz = (size_t)g.img_channels * g.img_resolution * g.img_resolution;
    if (out || png || taps) {
        img = lis_malloc(sizeof(float) * (size_t)N * isz, "images");
        if (!img) { s = LIS_ERR; goto done; }
        if (taps) {
            tc.n_total = N;
            tc.n_layers = g.n_layers + 1;
            tc.names = calloc((size_t)tc.n_layers, sizeof(char *));
            tc.data = calloc((size_t)tc.n_layers, sizeof(float *));
            tc.C = calloc((size_t)tc.n_layers, sizeof(int));
            tc.S = calloc((size_t)tc.n_layers, sizeof(int));
            if (!tc.names || !tc.data || !tc.C || !tc.S) { s = lis_err_set("out of memory"); goto done; }
        }
        if ((s = lis_sgxl_runner_init(&run, &g, device, precision, (int)(batch < N ? batch : N)))) goto done;
        char desc[320];
        fprintf(stderr, "generate: %s\n", lis_sgxl_runner_describe(&run, desc, sizeof desc));
        lis_progress pr;
        lis_progress_init(&pr, "generate", "images", N);
        for (int n0 = 0; n0 < N; n0 += (int)batch) {
            int B = N - n0 < batch ? N - n0 : (int)batch;
            tc.base = n0;
            if ((s = lis_sgxl_runner_synthesis(&run, ws + (size_t)n0 * wsz, B, img + (size_t)n0 * isz, taps ? tap_fn : NULL, &tc)))
                goto done;
            lis_progress_update(&pr, n0 + B);
        }
        lis_progress_done(&pr, N);
    }
    int64_t ishape[4] = {N, g.img_channels, g.img_resolution, g.img_resolution}, wshape[3] = {N, g.num_ws, g.w_dim};
    if (out && (s = lis_npy_write_f32(out, img, 4, ishape))) goto done;
    if (ws_out && (s = lis_npy_write_f32(ws_out, ws, 3, wshape))) goto done;
    if (png && (s = write_pngs(png, img, N, g.img_channels, g.img_resolution))) goto done;
    if (taps) {
        if ((s = lis_mkdirs(taps))) goto done;
        for (int i = 0; i < tc.n_layers && s == LIS_OK; i++) {
            if (!tc.data[i]) continue;
            char name[96];
            snprintf(name, sizeof name, "%s.npy", tc.names[i]);
            char *p = lis_path_join(taps, name);
            int64_t sh[4] = {N, tc.C[i], tc.S[i], tc.S[i]};
            s = p ? lis_npy_write_f32(p, tc.data[i], 4, sh) : LIS_ERR;
            free(p);
        }
    }
done:
    if (tc.data)
        for (int i = 0; i < tc.n_layers; i++) { free(tc.data[i]); free(tc.names[i]); }
    free(tc.data); free(tc.names); free(tc.C); free(tc.S);
    lis_tensor_free(&t);
    free(ws); free(img); free(cls); free(seeds);
    lis_sgxl_runner_free(&run);
    lis_sgxl_free(&g);
    return lis_cli_fail("generate", s);
}
