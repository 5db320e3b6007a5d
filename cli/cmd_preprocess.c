/* cmd_preprocess.c — `lis-run preprocess (--u8 IMGS.npy | --png FILE...) -o X.npy`:
 * torchvision's validation transform (Resize -> CenterCrop -> ToTensor -> Normalize),
 * bit-exact, on uint8 RGB images. Also exports the image-input helpers that
 * cmd_classify.c shares (declared there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "kernels/preprocess.h"
#include "nets/resnet.h"
#include "runtime/npy.h"
#include "runtime/png_io.h"

/* ---- helpers shared with cmd_classify.c ---- */

lis_status lis_cli_read_u8_images(const char *path, lis_tensor *t);
lis_status lis_cli_preprocess_opts(lis_args *a, const lis_preprocess_cfg *base, lis_preprocess_cfg *cfg);
lis_status lis_cli_preprocess_png(const char *path, const lis_preprocess_cfg *cfg, lis_preprocess_plan *pl, float *out);

/* Reads an N x H x W x 3 uint8 .npy (images as numpy/PIL hold them). */
lis_status lis_cli_read_u8_images(const char *path, lis_tensor *t) {
    LIS_TRY(lis_npy_read(path, t));
    if (t->dtype != LIS_DTYPE_U8 || t->ndim != 4 || t->shape[3] != 3 || t->shape[0] < 1 || t->shape[1] < 1 ||
        t->shape[2] < 1) {
        char b[128];
        lis_status s = lis_err_set("%s: expected uint8 images N x H x W x 3, found %s %s", path,
                                   t->dtype == LIS_DTYPE_U8 ? "uint8" : lis_dtype_name(t->dtype),
                                   lis_shape_str(t->ndim, t->shape, b, sizeof b));
        lis_tensor_free(t);
        return s;
    }
    if (t->shape[1] > 65536 || t->shape[2] > 65536 || t->shape[0] > INT32_MAX) {
        lis_tensor_free(t);
        return lis_err_set("%s: images too large", path);
    }
    return LIS_OK;
}

static lis_status parse_triple(const char *s, float out[3], const char *what) {
    if (!s) return LIS_OK;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    for (int i = 0; i < 3; i++) {
        double v;
        if (!tok) return lis_err_usage("%s needs three comma-separated numbers, got '%s'", what, s);
        LIS_TRY(lis_parse_double(tok, &v, what));
        out[i] = (float)v;
        tok = strtok_r(NULL, ",", &save);
    }
    if (tok) return lis_err_usage("%s needs three comma-separated numbers, got '%s'", what, s);
    return LIS_OK;
}

/* Preprocessing parameters: `base` (a weight file's config; NULL = ImageNet defaults),
 * overridden by --resize / --crop / --mean / --std. */
lis_status lis_cli_preprocess_opts(lis_args *a, const lis_preprocess_cfg *base, lis_preprocess_cfg *cfg) {
    if (base) *cfg = *base;
    else lis_preprocess_cfg_default(cfg);
    long resize = -1, crop = -1;
    LIS_TRY(lis_args_long(a, "--resize", -1, &resize));
    LIS_TRY(lis_args_long(a, "--crop", -1, &crop));
    const char *mean = lis_args_str(a, "--mean", NULL), *std = lis_args_str(a, "--std", NULL);
    if (resize != -1) {
        if (resize < 0 || resize > 65536) return lis_err_usage("--resize %ld out of range (0 = no resize)", resize);
        cfg->resize = (int)resize;
    }
    if (crop != -1) {
        if (crop < 1 || crop > 65536) return lis_err_usage("--crop %ld out of range", crop);
        cfg->crop_h = cfg->crop_w = (int)crop;
    }
    LIS_TRY(parse_triple(mean, cfg->mean, "--mean"));
    LIS_TRY(parse_triple(std, cfg->std, "--std"));
    for (int c = 0; c < 3; c++)
        if (!(cfg->std[c] > 0.0f)) return lis_err_usage("--std values must be positive");
    return LIS_OK;
}

/* Reads one PNG as RGB and preprocesses it into out (3 x crop_h x crop_w). The plan is
 * rebuilt only when the image size changes. */
lis_status lis_cli_preprocess_png(const char *path, const lis_preprocess_cfg *cfg, lis_preprocess_plan *pl, float *out) {
    uint8_t *img = NULL;
    int h, w;
    LIS_TRY(lis_png_read_rgb(path, &img, &h, &w));
    lis_status s = LIS_OK;
    if (pl->h != h || pl->w != w) {
        lis_preprocess_plan_free(pl);
        s = lis_preprocess_plan_init(pl, cfg, h, w);
        if (s != LIS_OK) lis_err_prefix("%s", path);
    }
    if (s == LIS_OK) lis_preprocess_run(pl, 1, img, out);
    free(img);
    return s;
}

/* ---- the command ---- */

static void help(void) {
    printf("usage: lis-run preprocess (--u8 IMGS.npy | --png FILE...) -o X.npy [options]\n\n"
           "torchvision's validation transform, bit-exact with torchvision 0.14 + Pillow 9.4:\n"
           "Resize(R) (Pillow bilinear, antialiased when shrinking) -> CenterCrop(C) -> ToTensor ->\n"
           "Normalize(mean, std). Writes float32 N x 3 x C x C (NCHW, channels R, G, B).\n\n"
           "options:\n"
           "  --u8 FILE.npy       input images: uint8 N x H x W x 3 (RGB, as numpy/PIL hold them)\n"
           "  --png FILE...       input images: PNG files (converted to 8-bit RGB; sizes may differ;\n"
           "                      the list ends at the next --option)\n"
           "  -o, --out FILE.npy  output tensor (written atomically)\n"
           "  --weights FILE      take resize, crop, mean and std from this classifier's metadata\n"
           "                      config (\"preprocessing\"); the options below override it\n"
           "  --resize N          Resize: the short side becomes N (default 256; 0 = no resize)\n"
           "  --crop N            CenterCrop size N x N (default 224)\n"
           "  --mean A,B,C        Normalize mean (default 0.485,0.456,0.406)\n"
           "  --std A,B,C         Normalize std (default 0.229,0.224,0.225)\n\n"
           "environment: LIS_THREADS=N threads (default: all cores)\n");
}

int lis_cmd_preprocess(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { help(); return 0; }
    const char *out = lis_args_str(&a, "--out", NULL);
    if (!out) out = lis_args_str(&a, "-o", NULL);
    const char *u8 = lis_args_str(&a, "--u8", NULL);
    const char *pngs[4096];
    int npng = lis_args_list(&a, "--png", pngs, 4096);
    const char *weights = lis_args_str(&a, "--weights", NULL);
    lis_preprocess_cfg base, cfg;
    lis_status s = LIS_OK;
    if (weights && *weights) {
        lis_safetensors st;
        s = lis_st_open(&st, weights);
        if (s == LIS_OK) {
            s = lis_resnet_read_preprocess(&st, &base);
            lis_st_close(&st);
        }
        if (s != LIS_OK) return lis_cli_fail("preprocess", s);
    }
    s = lis_cli_preprocess_opts(&a, weights && *weights ? &base : NULL, &cfg);
    if (s == LIS_OK) s = lis_args_done(&a);
    if (s == LIS_OK && a.npos) s = lis_err_usage("unexpected argument '%s' (see --help)", a.pos[0]);
    if (s == LIS_OK && (!out || !*out)) s = lis_err_usage("no output: give -o X.npy");
    if (s == LIS_OK && (u8 != NULL) == (npng > 0))
        s = lis_err_usage("give exactly one input: --u8 IMGS.npy or --png FILE...");
    if (s == LIS_OK && u8 && !*u8) s = lis_err_usage("--u8 needs a file");
    if (s == LIS_OK && npng > 4096) s = lis_err_usage("at most 4096 PNG files");
    for (int i = 0; s == LIS_OK && i < npng && i < 4096; i++)
        if (pngs[i][0] == '-') /* cli/args.c ends a list only at the next "--option" */
            s = lis_err_usage("'%s' after --png: the list runs to the next --option; use --out, or put -o first", pngs[i]);
    if (s == LIS_OK && weights && !*weights) s = lis_err_usage("--weights needs a file");
    if (s != LIS_OK) return lis_cli_fail("preprocess", s);

    lis_tensor imgs = {0};
    lis_preprocess_plan pl = {0};
    float *x = NULL;
    int64_t n = 0;
    size_t per = (size_t)3 * cfg.crop_h * cfg.crop_w;
    if (u8) {
        s = lis_cli_read_u8_images(u8, &imgs);
        if (s == LIS_OK) {
            n = imgs.shape[0];
            s = lis_preprocess_plan_init(&pl, &cfg, (int)imgs.shape[1], (int)imgs.shape[2]);
            if (s != LIS_OK) lis_err_prefix("%s", u8);
        }
        if (s == LIS_OK && !(x = lis_alloc_aligned((size_t)n * per * sizeof(float), "output tensor"))) s = LIS_ERR;
        if (s == LIS_OK) lis_preprocess_run(&pl, (int)n, imgs.data, x);
    } else {
        n = npng;
        if (!(x = lis_alloc_aligned((size_t)n * per * sizeof(float), "output tensor"))) s = LIS_ERR;
        for (int i = 0; i < npng && s == LIS_OK; i++) s = lis_cli_preprocess_png(pngs[i], &cfg, &pl, x + (size_t)i * per);
    }
    if (s == LIS_OK) {
        int64_t shape[4] = {n, 3, cfg.crop_h, cfg.crop_w};
        s = lis_npy_write_f32(out, x, 4, shape);
    }
    if (s == LIS_OK)
        fprintf(stderr, "lis-run preprocess: %lld image(s) -> %s (float32 %lldx3x%dx%d; resize %d, crop %d)\n",
                (long long)n, out, (long long)n, cfg.crop_h, cfg.crop_w, cfg.resize, cfg.crop_h);
    free(x);
    lis_preprocess_plan_free(&pl);
    lis_tensor_free(&imgs);
    return lis_cli_fail("preprocess", s);
}
