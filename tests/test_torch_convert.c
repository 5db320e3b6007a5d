/* test_torch_convert.c — `convert` on real original-format files, then through the nets.
 *
 *  1. resnet_small_ckpt model.pth (zip), model_legacy.pth, model_mixed.pth (float16, views,
 *     shared storage): every tensor bit-exact vs weights.safetensors (float16 tensors vs the
 *     float16 rounding of the reference), state-dict order kept; --keep-dtype keeps F16;
 *     the converted file through nets/resnet: r, logits <= 1e-5, layer4 <= 2e-5 (README).
 *  2. fewshot_seg fewshot_S/M.pth: bit-exact vs weights_S/M.safetensors, size/in_ch/n_class
 *     recognised; the FewShotCNN forward on the bundle's concatenated input (dilated 3x3 convs
 *     + LeakyReLU 0.2 through kernels/conv2d): logits <= 1e-5 * max(1, max|ref|),
 *     labels equal where the reference top-1/top-2 gap exceeds 2 x that tolerance; the
 *     converted file loads into nets/fewshot_cnn.
 *  3. sgxl_tiny network-snapshot.pkl: G_ema bit-exact vs weights.safetensors; the canonical
 *     config read from the pickled attributes equals the one from config.json; --key G,
 *     --key D (None: refused); the generator on the converted file: ws <= 1e-5, img <= 1e-5.
 *  4. scikit-learn pickles (tests/data/sklearn_link, protocols 2/4/5, one-target, a dict):
 *     coef bit-exact (float32 rounding of coef_), predictions vs sklearn's <= 1e-5 relative.
 *  5. PUMP names (reduced width) in a stored zip and a deflated ZIP64 zip; a wrapped
 *     checkpoint with 'module.'; float16/bfloat16/float64/int/bool, views, 0-d and empty
 *     tensors in zip and legacy files; --list output for every kind.
 *  6. tests/hostile/: every file refused with the error listed in EXPECTED, nothing written.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernels/conv2d.h"
#include "nets/fewshot_cnn.h"
#include "nets/link.h"
#include "nets/resnet.h"
#include "nets/stylegan_xl.h"
#include "tests/harness.h"
#include "weights_tools/convert.h"

/* reference files need not align their data: read elements with memcpy */
static int64_t ld_i64(const void *p, int64_t i) {
    int64_t v;
    memcpy(&v, (const char *)p + 8 * i, 8);
    return v;
}
static double ld_f64(const void *p, int64_t i) {
    double v;
    memcpy(&v, (const char *)p + 8 * i, 8);
    return v;
}

static lis_convert_opts opts(const char *key, int keep) {
    lis_convert_opts o = {NULL, NULL, key ? key : "G_ema", keep};
    return o;
}

/* Every reference tensor present with the same shape and identical bytes, in the same
 * order. Names in `f16` were stored as float16: compare with the reference's rounding. */
static void compare_sd(const char *label, const lis_statedict *sd, const lis_safetensors *ref, const char *prefix,
                       const char *const *f16) {
    size_t n = 0, bad = 0, order_ok = 1, pl = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; i < ref->n; i++) {
        const lis_st_entry *r = &ref->entries[i];
        if (pl && strncmp(r->name, prefix, pl)) continue;
        const char *name = r->name + pl;
        const lis_sd_entry *e = lis_sd_find(sd, name);
        if (!e) { lis_check(0, "%s: tensor '%s' present", label, name); bad++; continue; }
        if (n < sd->n && strcmp(sd->e[n].name, name)) order_ok = 0;
        n++;
        int same_shape = e->t.ndim == r->t.ndim;
        for (int d = 0; same_shape && d < e->t.ndim; d++) same_shape = e->t.shape[d] == r->t.shape[d];
        if (!same_shape) { lis_check(0, "%s: '%s' shape", label, name); bad++; continue; }
        int is16 = 0;
        for (const char *const *p = f16; p && *p; p++) is16 |= !strcmp(*p, name);
        int64_t cnt = lis_tensor_numel(&r->t);
        if (is16 && e->t.dtype == LIS_DTYPE_F32 && r->t.dtype == LIS_DTYPE_F32) {
            const float *a = e->t.data, *b = r->t.data;
            for (int64_t k = 0; k < cnt; k++) {
                float w = lis_f16_to_f32(lis_f32_to_f16(b[k]));
                if (memcmp(&a[k], &w, 4)) { bad++; break; }
            }
        } else if (e->t.dtype != r->t.dtype || memcmp(e->t.data, r->t.data, lis_tensor_nbytes(&r->t))) {
            lis_check(0, "%s: '%s' bit-exact (dtype %s vs %s)", label, name, lis_dtype_name(e->t.dtype), lis_dtype_name(r->t.dtype));
            bad++;
        }
    }
    lis_check(bad == 0 && n == sd->n, "%s: %zu tensors bit-exact vs reference (%zu in file, %zu bad)", label, n, sd->n, bad);
    lis_check(order_ok, "%s: state-dict order kept", label);
}

static int read_ok(const char *file, lis_convert_opts o, lis_statedict *sd, const char **kind) {
    lis_status s = lis_convert_read(lis_test_data(file), &o, sd, kind);
    return lis_check_ok(s, file);
}

static void test_list(const char *file, lis_convert_opts o) {
    lis_statedict sd;
    const char *kind;
    if (!read_ok(file, o, &sd, &kind)) return;
    char *config = NULL, *text = NULL;
    size_t len = 0;
    if (lis_check_ok(lis_convert_config(&sd, &o, &config), file)) {
        FILE *f = open_memstream(&text, &len);
        lis_convert_list(&sd, config, f);
        fclose(f);
        char want[64];
        snprintf(want, sizeof want, "# %zu tensors", sd.n);
        lis_check(text && strstr(text, want) && strstr(text, "# config: {\"arch\":"), "--list %s (%s): %s ...", file, kind, want);
    }
    free(text);
    free(config);
    lis_sd_free(&sd);
}

/* ---- 1. ResNet checkpoints ---- */
static void test_resnet(void) {
    lis_safetensors ref;
    if (lis_test_open(&ref, "resnet_small_ckpt/weights.safetensors") != LIS_OK) return;
    static const char *const mixed_f16[] = {"conv1.weight", "fc.bias", NULL};
    const char *files[] = {"resnet_small_ckpt/model.pth", "resnet_small_ckpt/model_legacy.pth",
                           "resnet_small_ckpt/model_mixed.pth", "convert/wrapped.pth"};
    const char *kinds[] = {"torch-zip", "torch-legacy", "torch-zip", "torch-zip"};
    for (int i = 0; i < 4; i++) {
        lis_statedict sd;
        const char *kind;
        if (!read_ok(files[i], opts(NULL, 0), &sd, &kind)) continue;
        lis_check(!strcmp(kind, kinds[i]), "%s read as %s", files[i], kind);
        compare_sd(files[i], &sd, &ref, NULL, i == 2 ? mixed_f16 : NULL);
        if (i == 3) lis_check(strstr(sd.origin, "'state_dict'") && strstr(sd.origin, "'module.'"), "origin: %s", sd.origin);
        lis_sd_free(&sd);
    }
    /* --keep-dtype: float16 stays float16, bits = the reference's rounding */
    lis_statedict sd;
    const char *kind;
    if (read_ok("resnet_small_ckpt/model_mixed.pth", opts(NULL, 1), &sd, &kind)) {
        const lis_sd_entry *e = lis_sd_find(&sd, "conv1.weight");
        const lis_st_entry *r = lis_st_find(&ref, "conv1.weight");
        int ok = e && r && e->t.dtype == LIS_DTYPE_F16;
        for (int64_t k = 0; ok && k < lis_tensor_numel(&r->t); k++) {
            uint16_t h;
            memcpy(&h, (const char *)e->t.data + 2 * k, 2);
            ok = h == lis_f32_to_f16(((const float *)r->t.data)[k]);
        }
        lis_check(ok, "model_mixed.pth --keep-dtype: conv1.weight F16, bit-exact float16 rounding");
        lis_sd_free(&sd);
    }
    /* explicit --key, and a wrong one */
    if (read_ok("convert/wrapped.pth", opts("state_dict", 0), &sd, &kind)) lis_sd_free(&sd);
    lis_convert_opts o = opts("optimizer", 0);
    lis_status s = lis_convert_read(lis_test_data("convert/wrapped.pth"), &o, &sd, &kind);
    lis_check(s != LIS_OK && strstr(lis_err_msg(), "--key optimizer is a dict"), "--key optimizer refused: %s", lis_err_msg());
    lis_st_close(&ref);

    /* through the network: the converted zip and legacy files */
    lis_safetensors io;
    if (lis_test_open(&io, "resnet_small_ckpt/io.safetensors") != LIS_OK) return;
    const char *nets[] = {"resnet_small_ckpt/model.pth", "resnet_small_ckpt/model_legacy.pth"};
    for (int i = 0; i < 2; i++) {
        char path[4096], nm[256];
        if (!lis_check_ok(lis_test_convert(nets[i], NULL, NULL, path, sizeof path), nets[i])) continue;
        lis_resnet net;
        lis_status ls = lis_resnet_load_file(&net, path);
        unlink(path);
        if (!lis_check_ok(ls, "load converted resnet")) continue;
        int64_t nin, nr, nl, n4;
        const float *x = lis_test_ref(&io, "input", &nin), *rr = lis_test_ref(&io, "r", &nr),
                    *rl = lis_test_ref(&io, "logits", &nl), *r4 = lis_test_ref(&io, "layer4", &n4);
        if (x && rr && rl && r4 && nin == 2 * 3 * 224 * 224 && nr == 2 * net.feat_dim && nl == 2 * net.num_classes) {
            float *r = malloc(sizeof(float) * (size_t)nr), *logits = malloc(sizeof(float) * (size_t)nl);
            lis_resnet_taps t = {{0}};
            t.stage[LIS_RESNET_STAGE_LAYER4] = malloc(sizeof(float) * (size_t)n4);
            lis_check_ok(lis_resnet_forward(&net, 2, 224, 224, x, r, logits, &t), "resnet forward");
            snprintf(nm, sizeof nm, "%s -> resnet r", nets[i]);
            lis_check_close(nm, r, rr, nr, 1e-5, 0);
            snprintf(nm, sizeof nm, "%s -> resnet logits", nets[i]);
            lis_check_close(nm, logits, rl, nl, 1e-5, 0);
            snprintf(nm, sizeof nm, "%s -> resnet layer4", nets[i]);
            lis_check_close(nm, t.stage[LIS_RESNET_STAGE_LAYER4], r4, n4, 2e-5, 0);
            free(r); free(logits); free(t.stage[LIS_RESNET_STAGE_LAYER4]);
        }
        lis_resnet_free(&net);
    }
    lis_st_close(&io);
}

/* ---- 2. FewShotCNN ---- */
static void fewshot_forward(const lis_statedict *sd, const lis_safetensors *io, const char *size, const int *dil, int nconv) {
    int64_t nin;
    const float *x = lis_test_ref(io, "input", &nin);
    char ln[32], lb[32], name[128];
    snprintf(ln, sizeof ln, "logits_%s", size);
    snprintf(lb, sizeof lb, "label_%s", size);
    int64_t nref;
    const float *ref = lis_test_ref(io, ln, &nref);
    const lis_st_entry *lab = lis_st_find(io, lb);
    if (!x || !ref || !lab) return;
    int H = 128, W = 128, C = 40;
    float *a = malloc(sizeof(float) * 128 * H * W), *b = malloc(sizeof(float) * 128 * H * W);
    memcpy(a, x, sizeof(float) * (size_t)nin);
    for (int i = 0; i < nconv; i++) {
        char wn[64], bn[64];
        snprintf(wn, sizeof wn, "layers.%d.weight", 2 * i);
        snprintf(bn, sizeof bn, "layers.%d.bias", 2 * i);
        const lis_sd_entry *w = lis_sd_find(sd, wn), *bias = lis_sd_find(sd, bn);
        int K = (int)w->t.shape[0];
        lis_conv2d_params p = {1, C, H, W, K, 3, 3, 1, 1, dil[i], dil[i], dil[i], dil[i],
                               i + 1 < nconv ? LIS_ACT_LRELU : LIS_ACT_NONE, 0.2f};
        lis_check_ok(lis_conv2d_cpu(&p, a, w->t.data, bias->t.data, NULL, b), wn);
        float *t = a; a = b; b = t;
        C = K;
    }
    double tol = 1e-5 * fmax(1.0, lis_max_abs(ref, nref));
    snprintf(name, sizeof name, "fewshot_%s.pth -> FewShotCNN logits (n_class=%d)", size, C);
    lis_check_close(name, a, ref, nref, tol, 0);
    int64_t flips = 0, checked = 0;
    const void *labels = lab->t.data;
    for (int p = 0; p < H * W; p++) {
        int best = 0, rbest = 0;
        float r1 = -INFINITY, r2 = -INFINITY;
        for (int c = 0; c < C; c++) {
            float v = ref[(size_t)c * H * W + p];
            if (v > r1) { r2 = r1; r1 = v; rbest = c; } else if (v > r2) r2 = v;
            if (a[(size_t)c * H * W + p] > a[(size_t)best * H * W + p]) best = c;
        }
        if (r1 - r2 > 2 * tol) { checked++; flips += best != ld_i64(labels, p) || rbest != ld_i64(labels, p); }
    }
    lis_check(flips == 0, "fewshot_%s labels: %lld of %lld decided pixels differ", size, (long long)flips, (long long)checked);
    free(a);
    free(b);
}

static void test_fewshot(void) {
    lis_safetensors io;
    int have_io = lis_test_open(&io, "fewshot_seg/io.safetensors") == LIS_OK;
    static const int dS[] = {1, 2, 1, 2, 1}, dM[] = {1, 2, 4, 1, 2, 4, 1};
    const char *sizes[] = {"S", "M"};
    for (int i = 0; i < 2; i++) {
        char f[64], w[64];
        snprintf(f, sizeof f, "fewshot_seg/fewshot_%s.pth", sizes[i]);
        snprintf(w, sizeof w, "fewshot_seg/weights_%s.safetensors", sizes[i]);
        lis_safetensors ref;
        lis_statedict sd;
        const char *kind;
        if (lis_test_open(&ref, w) != LIS_OK) continue;
        if (read_ok(f, opts(NULL, 0), &sd, &kind)) {
            compare_sd(f, &sd, &ref, NULL, NULL);
            const lis_json *sz = lis_json_get(sd.config, "size");
            int64_t in_ch = 0, ncls = 0;
            lis_json_int(sd.config, "in_ch", &in_ch, f);
            lis_json_int(sd.config, "n_class", &ncls, f);
            lis_check(!strcmp(sd.arch, "fewshot_cnn") && sz && sz->type == LIS_JSON_STR && !strcmp(sz->str, sizes[i]) &&
                          in_ch == 40 && ncls == 10,
                      "%s recognised as FewShotCNN size %s, in_ch 40, 10 classes", f, sizes[i]);
            if (have_io) fewshot_forward(&sd, &io, sizes[i], i ? dM : dS, i ? 7 : 5);
            lis_sd_free(&sd);
        }
        /* the converted file loads into nets/fewshot_cnn */
        char path[4096];
        if (lis_check_ok(lis_test_convert(f, NULL, NULL, path, sizeof path), f)) {
            lis_fewshot net;
            lis_status s = lis_fewshot_load(&net, path);
            unlink(path);
            if (lis_check_ok(s, "lis_fewshot_load of the converted file")) {
                lis_check(net.size == sizes[i][0] && net.in_ch == 40 && net.n_class == 10 && net.n_conv == (i ? 7 : 5),
                          "%s -> nets/fewshot_cnn: size %c, in_ch %d, %d classes, %d convs", f, net.size, net.in_ch,
                          net.n_class, net.n_conv);
                lis_fewshot_free(&net);
            }
        }
        lis_st_close(&ref);
    }
    if (have_io) lis_st_close(&io);
}

/* ---- 3. StyleGAN-XL snapshot ---- */
static void test_sgxl(void) {
    lis_safetensors ref;
    if (lis_test_open(&ref, "sgxl_tiny/weights.safetensors") != LIS_OK) return;
    lis_statedict sd;
    const char *kind;
    lis_convert_opts o = opts(NULL, 0);
    if (read_ok("sgxl_tiny/network-snapshot.pkl", o, &sd, &kind)) {
        lis_check(!strcmp(kind, "sgxl-pkl"), "network-snapshot.pkl read as %s", kind);
        compare_sd("network-snapshot.pkl G_ema", &sd, &ref, NULL, NULL);
        /* the canonical config from the pickled attributes == the one from config.json */
        char *from_pkl = NULL, *from_json = NULL;
        lis_check_ok(lis_convert_config(&sd, &o, &from_pkl), "config from the pickle");
        lis_statedict sd2;
        char cfg[4096];
        snprintf(cfg, sizeof cfg, "%s", lis_test_data("sgxl_tiny/config.json"));
        lis_convert_opts o2 = {cfg, NULL, "G_ema", 0};
        if (read_ok("sgxl_tiny/weights.safetensors", o2, &sd2, &kind)) {
            lis_check_ok(lis_convert_config(&sd2, &o2, &from_json), "config from config.json");
            lis_check(from_pkl && from_json && !strcmp(from_pkl, from_json),
                      "canonical generator config from the pickle equals config.json's (%zu chars)", from_json ? strlen(from_json) : 0);
            if (from_pkl && from_json && strcmp(from_pkl, from_json)) printf("pickle: %s\njson:   %s\n", from_pkl, from_json);
            lis_sd_free(&sd2);
        }
        free(from_pkl);
        free(from_json);
        lis_sd_free(&sd);
    }
    if (read_ok("sgxl_tiny/network-snapshot.pkl", opts("G", 0), &sd, &kind)) {
        compare_sd("network-snapshot.pkl --key G", &sd, &ref, NULL, NULL);
        lis_sd_free(&sd);
    }
    lis_convert_opts od = opts("D", 0);
    lis_status s = lis_convert_read(lis_test_data("sgxl_tiny/network-snapshot.pkl"), &od, &sd, &kind);
    lis_check(s != LIS_OK && strstr(lis_err_msg(), "'D' is None"), "--key D refused: %s", lis_err_msg());
    lis_st_close(&ref);

    /* the generator on the converted snapshot, sample s1 of the bundle */
    char path[4096];
    if (!lis_check_ok(lis_test_convert("sgxl_tiny/network-snapshot.pkl", NULL, NULL, path, sizeof path), "convert snapshot")) return;
    lis_sgxl g;
    s = lis_sgxl_load(&g, path);
    unlink(path);
    if (!lis_check_ok(s, "load converted snapshot")) return;
    lis_safetensors io;
    if (lis_test_open(&io, "sgxl_tiny/io.safetensors") == LIS_OK) {
        size_t wsz = (size_t)g.num_ws * g.w_dim;
        float *ws = malloc(sizeof(float) * wsz), z[64];
        double zr[64]; /* reference data need not be aligned: copy, don't cast */
        int64_t cls;
        memcpy(zr, lis_st_find(&io, "s1.z")->t.data, sizeof zr);
        memcpy(&cls, lis_st_find(&io, "s1.class_idx")->t.data, sizeof cls);
        for (int d = 0; d < 64; d++) z[d] = (float)zr[d];
        lis_check_ok(lis_sgxl_mapping(&g, z, &cls, 1, 1.0f, 0, ws, NULL), "mapping");
        lis_sgxl_truncate(&g, &cls, 1, 0.7f, ws);
        lis_check_close("snapshot -> generator s1 ws (psi 0.7)", ws, lis_test_ref(&io, "s1.ws", NULL), (int64_t)wsz, 1e-5, 0);
        if (!lis_test_quick()) {
            size_t ni = (size_t)g.img_channels * g.img_resolution * g.img_resolution;
            float *img = malloc(sizeof(float) * ni);
            lis_check_ok(lis_sgxl_synthesis(&g, ws, 1, img, NULL, NULL), "synthesis");
            lis_check_close("snapshot -> generator s1 img", img, lis_test_ref(&io, "s1.img", NULL), (int64_t)ni, 1e-5, 0);
            free(img);
        }
        free(ws);
        lis_st_close(&io);
    }
    lis_sgxl_free(&g);
}

/* ---- 4. scikit-learn ---- */
static void test_sklearn(void) {
    lis_safetensors ex;
    if (lis_test_open(&ex, "sklearn_link/expected.safetensors") != LIS_OK) return;
    const char *names[] = {"ols_p4", "ridge_p2", "enet_p5", "ridge1_p4", "lasso_dict"};
    const char *models[] = {"ols", "ridge", "enet", "ridge", "enet"};
    int64_t nx;
    const float *X = lis_test_ref(&ex, "X_test", &nx);
    for (int i = 0; i < 5 && X; i++) {
        char f[128], k[256], path[4096];
        snprintf(f, sizeof f, "sklearn_link/%s.pkl", names[i]);
        if (!lis_check_ok(lis_test_convert(f, NULL, NULL, path, sizeof path), f)) continue;
        lis_link L;
        lis_status s = lis_link_load(&L, path);
        unlink(path);
        if (!lis_check_ok(s, "lis_link_load")) continue;
        snprintf(k, sizeof k, "%s.coef", names[i]);
        const lis_st_entry *c = lis_st_find(&ex, k);
        snprintf(k, sizeof k, "%s.pred", names[i]);
        const lis_st_entry *p = lis_st_find(&ex, k);
        int n_in = (int)c->t.shape[1], n_out = (int)c->t.shape[0];
        lis_check(L.n_in == n_in && L.n_out == n_out && !strcmp(lis_link_model_name(L.params.model), models[i]),
                  "%s: link %s %dx%d", f, models[i], n_out, n_in);
        int exact = 1;
        for (int64_t j = 0; j < (int64_t)n_in * n_out; j++) exact &= L.coef[j] == (float)ld_f64(c->t.data, j);
        lis_check(exact, "%s: coef = float32(coef_) bit-exact", f);
        int n = 8;
        float *Y = malloc(sizeof(float) * (size_t)n * n_out), *P = malloc(sizeof(float) * (size_t)n * n_out);
        for (int j = 0; j < n * n_out; j++) P[j] = (float)ld_f64(p->t.data, j);
        lis_check_ok(lis_link_apply(&L, n, X, n_in, Y, n_out), "apply");
        snprintf(k, sizeof k, "%s -> link predict vs sklearn", f);
        lis_check_close(k, Y, P, (int64_t)n * n_out, 1e-5 * fmax(1.0, lis_max_abs(P, (int64_t)n * n_out)), 1e-5);
        free(Y);
        free(P);
        lis_link_free(&L);
    }
    /* --keep-dtype keeps float64 coef_ bit for bit */
    lis_statedict sd;
    const char *kind;
    if (read_ok("sklearn_link/enet_p5.pkl", opts(NULL, 1), &sd, &kind)) {
        const lis_sd_entry *e = lis_sd_find(&sd, "coef");
        const lis_st_entry *c = lis_st_find(&ex, "enet_p5.coef");
        lis_check(e && e->t.dtype == LIS_DTYPE_F64 && !memcmp(e->t.data, c->t.data, lis_tensor_nbytes(&c->t)),
                  "enet_p5.pkl --keep-dtype: coef F64 bit-exact (Fortran-order array)");
        lis_sd_free(&sd);
    }
    lis_st_close(&ex);
}

/* ---- 5. PUMP, dtypes, --list ---- */
static void test_misc(void) {
    lis_safetensors ref;
    if (lis_test_open(&ref, "convert/ref.safetensors") != LIS_OK) return;
    lis_statedict sd;
    const char *kind;
    const char *pump[] = {"convert/pump_small.pth", "convert/pump_small_deflate64.pth"};
    for (int i = 0; i < 2; i++)
        if (read_ok(pump[i], opts(NULL, 0), &sd, &kind)) {
            lis_check(!strcmp(sd.arch, "pump") && sd.n == 114, "%s: arch pump, 114 tensors", pump[i]);
            compare_sd(pump[i], &sd, &ref, "pump_small.", NULL);
            lis_sd_free(&sd);
        }
    const char *dt[] = {"convert/dtypes.pth", "convert/dtypes_legacy.pth"};
    for (int i = 0; i < 2; i++) {
        if (read_ok(dt[i], opts(NULL, 0), &sd, &kind)) {
            compare_sd(dt[i], &sd, &ref, "dtypes.", NULL);
            lis_sd_free(&sd);
        }
        if (read_ok(dt[i], opts(NULL, 1), &sd, &kind)) {
            static const struct { const char *n; lis_dtype d; } want[] = {
                {"f16", LIS_DTYPE_F16}, {"bf16", LIS_DTYPE_BF16}, {"f64_t", LIS_DTYPE_F64}, {"scalar_f16", LIS_DTYPE_F16}};
            int ok = 1;
            for (int k = 0; k < 4; k++) ok &= lis_sd_find(&sd, want[k].n) && lis_sd_find(&sd, want[k].n)->t.dtype == want[k].d;
            const lis_sd_entry *s0 = lis_sd_find(&sd, "scalar_f16");
            ok &= s0 && s0->t.ndim == 0;
            lis_check(ok, "%s --keep-dtype: F16/BF16/F64 kept, 0-d tensor kept 0-d", dt[i]);
            lis_sd_free(&sd);
        }
    }
    lis_st_close(&ref);
    test_list("resnet_small_ckpt/model.pth", opts(NULL, 0));
    test_list("resnet_small_ckpt/model_legacy.pth", opts(NULL, 0));
    test_list("fewshot_seg/fewshot_S.pth", opts(NULL, 0));
    test_list("convert/pump_small_deflate64.pth", opts(NULL, 0));
    test_list("convert/wrapped.pth", opts(NULL, 0));
    test_list("sklearn_link/ridge_p2.pkl", opts(NULL, 0));
    test_list("sgxl_tiny/network-snapshot.pkl", opts(NULL, 0));
}

/* ---- 6. the hostile set ---- */
static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return n;
}

static void test_hostile(void) {
    char exp_path[4096];
    snprintf(exp_path, sizeof exp_path, "%s", lis_test_data("../hostile/EXPECTED"));
    FILE *f = fopen(exp_path, "r");
    lis_check(f != NULL, "open %s", exp_path);
    if (!f) return;
    char tmpdir[256];
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/lis-hostile-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir)) { lis_check(0, "mkdtemp"); fclose(f); return; }
    char line[1024], out[512];
    snprintf(out, sizeof out, "%s/out.safetensors", tmpdir);
    int n = 0, refused = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\n")] = 0;
        char *save = NULL, *file = strtok_r(line, "\t", &save), path[4096], rel[600];
        snprintf(rel, sizeof rel, "../hostile/%s", file);
        snprintf(path, sizeof path, "%s", lis_test_data(rel));
        lis_convert_opts o = opts(NULL, 0);
        lis_err_clear();
        lis_status s = lis_convert_file(path, &o, out);
        const char *msg = lis_err_msg();
        int ok = s != LIS_OK && msg && strstr(msg, file);
        for (char *sub = strtok_r(NULL, "\t", &save); sub; sub = strtok_r(NULL, "\t", &save)) ok &= msg && strstr(msg, sub) != NULL;
        int nothing = !lis_file_exists(out) && dir_entries(tmpdir) == 0;
        lis_check(ok && nothing, "hostile %s refused%s: %s", file, nothing ? "" : " (BUT AN OUTPUT WAS WRITTEN)", msg ? msg : "(no message)");
        n++;
        refused += ok && nothing;
    }
    fclose(f);
    unlink(out);
    rmdir(tmpdir);
    lis_check(n >= 60 && refused == n, "hostile set: %d of %d files refused with the expected error", refused, n);
}

int main(void) {
    test_resnet();
    test_fewshot();
    test_sgxl();
    test_sklearn();
    test_misc();
    test_hostile();
    return lis_test_finish();
}
