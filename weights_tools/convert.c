/* convert.c — reader table, architecture detection, canonical config, writing. */
#include "weights_tools/convert.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/fileio.h"
#include "runtime/safetensors.h"
#include "weights_tools/sgxl_config.h"
#include "weights_tools/synth_init.h"

#define LIS_CONVERTER_VERSION "lis-convert 1"

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- safetensors state dict */
static int detect_st(const char *path, const unsigned char *h, size_t n) {
    if (n < 9) return 0;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | h[i];
    return h[8] == '{' && hl > 1 && (ends_with(path, ".safetensors") || hl < (1u << 27));
}

static void release_st(void *p) {
    lis_st_close(p);
    free(p);
}

static lis_status add_views(lis_statedict *sd, lis_safetensors *st) {
    for (size_t i = 0; i < st->n; i++) {
        lis_tensor t = st->entries[i].t;
        t.owns = 0;
        LIS_TRY(lis_sd_add(sd, st->entries[i].name, &t));
    }
    return LIS_OK;
}

static lis_status read_st(const char *path, const lis_convert_opts *o, lis_statedict *sd) {
    (void)o;
    lis_safetensors *st = calloc(1, sizeof *st);
    if (!st) return lis_err_set("out of memory");
    lis_status s = lis_st_open(st, path);
    if (s != LIS_OK) { free(st); return s; }
    if ((s = lis_sd_keep(sd, st, release_st)) != LIS_OK) { release_st(st); return s; }
    const char *cfg = lis_st_meta(st, "config");
    if (cfg) {
        sd->config = lis_json_parse(cfg, strlen(cfg));
        if (!sd->config) { lis_err_prefix("%s: metadata 'config'", path); return LIS_ERR; }
    }
    snprintf(sd->origin, sizeof sd->origin, "safetensors state dict %s", path);
    return add_views(sd, st);
}

/* ---- synth-init manifest */
static int detect_manifest(const char *path, const unsigned char *h, size_t n) {
    (void)h; (void)n;
    return ends_with(path, ".manifest");
}

static lis_status read_manifest(const char *path, const lis_convert_opts *o, lis_statedict *sd) {
    lis_manifest m;
    LIS_TRY(lis_manifest_read(&m, path));
    lis_safetensors shipped = {0}, *built = calloc(1, sizeof *built);
    lis_status s = built ? LIS_OK : lis_err_set("out of memory");
    int need_shipped = 0;
    for (size_t i = 0; i < m.n; i++) need_shipped |= m.e[i].kind == LIS_SYNTH_SHIPPED;
    if (s == LIS_OK && need_shipped && !o->shipped_path)
        s = lis_err_set("%s: the manifest lists 'shipped' tensors; give the file that holds them with --shipped FILE.safetensors",
                        path);
    if (s == LIS_OK && o->shipped_path) s = lis_st_open(&shipped, o->shipped_path);
    if (s == LIS_OK) s = lis_synth_build(built, &m, o->shipped_path ? &shipped : NULL);
    lis_st_close(&shipped);
    lis_manifest_free(&m);
    if (s != LIS_OK) { free(built); return s; }
    /* the built tensors are copies, so the shipped file can be closed */
    if ((s = lis_sd_keep(sd, built, release_st)) != LIS_OK) { release_st(built); return s; }
    snprintf(sd->origin, sizeof sd->origin, "synth-init manifest %s", path);
    return add_views(sd, built);
}

/* readers of original checkpoints: convert_torch.c, convert_sklearn.c, convert_sgxl_pkl.c */
int lis_convert_detect_torch_zip(const char *path, const unsigned char *h, size_t n);
int lis_convert_detect_torch_legacy(const char *path, const unsigned char *h, size_t n);
lis_status lis_convert_read_torch(const char *path, const lis_convert_opts *o, lis_statedict *sd);
int lis_convert_detect_sklearn(const char *path, const unsigned char *h, size_t n);
lis_status lis_convert_read_sklearn(const char *path, const lis_convert_opts *o, lis_statedict *sd);
int lis_convert_detect_sgxl_pkl(const char *path, const unsigned char *h, size_t n);
lis_status lis_convert_read_sgxl_pkl(const char *path, const lis_convert_opts *o, lis_statedict *sd);

static const lis_convert_reader readers[] = {
    {"manifest", "synth-init manifest (*.manifest, spec/synth_init.md) [+ --shipped]", detect_manifest, read_manifest},
    {"safetensors", "safetensors state dict (*.safetensors)", detect_st, read_st},
    {"torch-zip", "torch.save zip file (*.pth, *.pt): torchvision ResNet, FewShotCNN, PUMP state dicts, or a checkpoint "
                  "wrapping one (--key NAME picks the dict)", lis_convert_detect_torch_zip, lis_convert_read_torch},
    {"torch-legacy", "legacy torch.save file (_use_new_zipfile_serialization=False), same contents",
     lis_convert_detect_torch_legacy, lis_convert_read_torch},
    {"sklearn-pkl", "pickled scikit-learn LinearRegression/Ridge/ElasticNet (LinkingNW_*.pkl) -> link",
     lis_convert_detect_sklearn, lis_convert_read_sklearn},
    {"sgxl-pkl", "StyleGAN-XL network snapshot (*.pkl): G_ema, or --key G / D", lis_convert_detect_sgxl_pkl,
     lis_convert_read_sgxl_pkl},
};

const lis_convert_reader *lis_convert_readers(size_t *n) {
    *n = sizeof readers / sizeof *readers;
    return readers;
}

lis_status lis_convert_read(const char *path, const lis_convert_opts *o, lis_statedict *sd, const char **kind) {
    memset(sd, 0, sizeof *sd);
    unsigned char head[64];
    size_t n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return lis_err_set("%s: cannot open", path);
    n = fread(head, 1, sizeof head, f);
    fclose(f);
    for (size_t i = 0; i < sizeof readers / sizeof *readers; i++) {
        if (!readers[i].detect(path, head, n)) continue;
        *kind = readers[i].name;
        lis_status s = readers[i].read(path, o, sd);
        if (s == LIS_OK && !o->keep_dtype) s = lis_sd_to_f32(sd);
        if (s != LIS_OK) lis_sd_free(sd);
        return s;
    }
    return lis_err_set("%s: unrecognised file kind (`lis-run convert --help` lists the supported kinds)", path);
}

static const char *detect_arch(const lis_statedict *sd) {
    if (sd->arch[0]) return sd->arch;
    if (lis_sd_find(sd, "mapping.w_avg") || lis_sd_find(sd, "synthesis.input.weight")) return "stylegan_xl";
    if (lis_sd_find(sd, "conv1.weight") && lis_sd_find(sd, "fc.weight")) return "resnet";
    if (lis_sd_find(sd, "layers.0.weight")) return "fewshot_cnn";
    if (lis_sd_find(sd, "0.weight") && lis_sd_find(sd, "3.weight") && lis_sd_find(sd, "6.fn.0.weight")) return "pump";
    if (lis_sd_find(sd, "coef") && lis_sd_find(sd, "intercept")) return "link";
    return NULL;
}

/* {"arch": arch} followed by every other key of src */
static void config_with_arch(lis_sbuf *b, const char *arch, const lis_json *src) {
    lis_sbuf_printf(b, "{\"arch\":");
    lis_sbuf_json_str(b, arch);
    for (size_t i = 0; src && src->type == LIS_JSON_OBJ && i < src->len; i++) {
        if (!strcmp(src->keys[i], "arch")) continue;
        lis_sbuf_printf(b, ",");
        lis_sbuf_json_str(b, src->keys[i]);
        lis_sbuf_printf(b, ":");
        lis_json_write(b, src->items[i]);
    }
    lis_sbuf_printf(b, "}");
}

lis_status lis_convert_config(lis_statedict *sd, const lis_convert_opts *o, char **config) {
    *config = NULL;
    lis_json *user = NULL;
    if (o->config_path) {
        char *text;
        size_t len;
        LIS_TRY(lis_read_file(o->config_path, &text, &len));
        user = lis_json_parse(text, len);
        free(text);
        if (!user) { lis_err_prefix("%s", o->config_path); return LIS_ERR; }
    }
    const lis_json *src = user ? user : sd->config;
    const char *arch = detect_arch(sd);
    lis_sbuf b = {0};
    lis_status s = LIS_OK;
    if (!arch) s = lis_err_set("cannot tell which network these tensors belong to (no mapping.*, conv1/fc, layers.* names)");
    else if (!strcmp(arch, "stylegan_xl")) {
        if (!src) s = lis_err_set("a StyleGAN-XL state dict carries no configuration: give it with --config CONFIG.json "
                                  "(the reference bundles ship one)");
        else s = lis_sgxl_config_normalize(src, sd, &b, o->config_path ? o->config_path : "the source's configuration");
    } else config_with_arch(&b, arch, src);
    lis_json_free(user);
    if (s == LIS_OK && b.oom) s = lis_err_set("out of memory");
    if (s != LIS_OK) { lis_sbuf_free(&b); return s; }
    *config = b.s;
    return LIS_OK;
}

lis_status lis_convert_write(const lis_statedict *sd, const char *config, const char *out_path) {
    lis_st_writer w = {0};
    lis_status s = LIS_OK;
    for (size_t i = 0; i < sd->n && s == LIS_OK; i++)
        s = lis_st_writer_add(&w, sd->e[i].name, sd->e[i].t.dtype, sd->e[i].t.ndim, sd->e[i].t.shape, sd->e[i].t.data);
    if (s == LIS_OK) s = lis_st_writer_meta(&w, "config", config);
    if (s == LIS_OK) s = lis_st_writer_meta(&w, "origin", sd->origin);
    if (s == LIS_OK) s = lis_st_writer_meta(&w, "converter", LIS_CONVERTER_VERSION);
    if (s == LIS_OK) s = lis_st_write(&w, out_path);
    lis_st_writer_free(&w);
    return s;
}

void lis_convert_list(const lis_statedict *sd, const char *config, FILE *f) {
    size_t total = 0;
    for (size_t i = 0; i < sd->n; i++) {
        char shp[128];
        fprintf(f, "%-60s %-5s %s\n", sd->e[i].name, lis_dtype_name(sd->e[i].t.dtype),
                lis_shape_str(sd->e[i].t.ndim, sd->e[i].t.shape, shp, sizeof shp));
        total += (size_t)lis_tensor_numel(&sd->e[i].t);
    }
    fprintf(f, "# %zu tensors, %zu elements; origin: %s\n", sd->n, total, sd->origin);
    fprintf(f, "# config: %s\n", config ? config : "(none)");
}

lis_status lis_convert_file(const char *in, const lis_convert_opts *o, const char *out_path) {
    lis_statedict sd;
    const char *kind;
    LIS_TRY(lis_convert_read(in, o, &sd, &kind));
    char *config = NULL;
    lis_status s = lis_convert_config(&sd, o, &config);
    if (s == LIS_OK) s = lis_convert_write(&sd, config, out_path);
    free(config);
    lis_sd_free(&sd);
    return s;
}
