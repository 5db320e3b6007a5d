/* stylegan_xl.c — StyleGAN-XL generator: loading, memory plan, mapping, synthesis. */
#include "nets/stylegan_xl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

#define SQRT2 1.4142135623730951

static lis_status get(const lis_safetensors *st, const char *prefix, const char *name, int ndim, const int64_t *shape,
                      const float **out) {
    char full[256];
    snprintf(full, sizeof full, "%s%s%s", prefix, prefix[0] ? "." : "", name);
    return lis_st_get_f32(st, full, ndim, shape, out);
}

lis_status lis_sgxl_layer_init(lis_sgxl_layer *L, const lis_safetensors *st, const char *prefix, const char *name,
                               int in_ch, int out_ch, int in_size, int out_size, int k, int up, int down,
                               const int pad[4], int torgb, float clamp, int w_dim) {
    memset(L, 0, sizeof *L);
    snprintf(L->name, sizeof L->name, "%s", name);
    L->in_ch = in_ch; L->out_ch = out_ch; L->in_size = in_size; L->out_size = out_size; L->k = k; L->torgb = torgb;
    const float *aw, *ab, *ema, *fu = NULL, *fd = NULL;
    int64_t wshape[4] = {out_ch, in_ch, k, k}, bshape[1] = {out_ch}, awshape[2] = {in_ch, w_dim}, abshape[1] = {in_ch};
    LIS_TRY(get(st, prefix, "weight", 4, wshape, &L->weight));
    LIS_TRY(get(st, prefix, "bias", 1, bshape, &L->bias));
    LIS_TRY(get(st, prefix, "affine.weight", 2, awshape, &aw));
    LIS_TRY(get(st, prefix, "affine.bias", 1, abshape, &ab));
    LIS_TRY(get(st, prefix, "magnitude_ema", 0, NULL, &ema));
    int tu = 1, td = 1;
    char full[256];
    snprintf(full, sizeof full, "%s.up_filter", prefix);
    const lis_st_entry *e = lis_st_find(st, full);
    if (e) {
        int64_t any[1] = {-1};
        LIS_TRY(lis_st_get_f32(st, full, 1, any, &fu));
        tu = (int)e->t.shape[0];
    }
    snprintf(full, sizeof full, "%s.down_filter", prefix);
    e = lis_st_find(st, full);
    if (e) {
        int64_t any[1] = {-1};
        LIS_TRY(lis_st_get_f32(st, full, 1, any, &fd));
        td = (int)e->t.shape[0];
    }
    if (tu > 32 || td > 32 || tu < 1 || td < 1) return lis_err_set("%s: layer %s: filters of %d / %d taps (max 32)", st->path, name, tu, td);
    if (!fu && up != 1) return lis_err_set("%s: layer %s: up = %d but no '%s.up_filter'", st->path, name, up, prefix);
    L->input_gain = 1.0f / sqrtf(ema[0]);
    L->fl = (lis_flrelu_params){fu, tu, fd, td, up, down, {pad[0], pad[1], pad[2], pad[3]},
                                torgb ? 1.0f : (float)SQRT2, torgb ? 1.0f : 0.2f, clamp};
    int Ho, Wo;
    lis_flrelu_out_shape(&L->fl, in_size + k - 1, in_size + k - 1, &Ho, &Wo);
    if (Ho != out_size || Wo != out_size)
        return lis_err_set("%s: layer %s: config says output %dx%d but the filters and padding give %dx%d", st->path, name,
                           out_size, out_size, Ho, Wo);
    LIS_TRY(lis_fc_prepare(&L->affine, aw, ab, w_dim, in_ch, 1.0, 0));
    lis_status s = lis_modconv_prepare(&L->mc, L->weight, out_ch, in_ch, k, !torgb);
    if (s != LIS_OK) { lis_fc_free(&L->affine); return s; }
    return LIS_OK;
}

void lis_sgxl_layer_free(lis_sgxl_layer *L) {
    if (!L) return;
    lis_fc_free(&L->affine);
    lis_modconv_weights_free(&L->mc);
}

/* Scratch sizes of one layer at batch B. */
static size_t layer_raw_floats(const lis_sgxl_layer *L, int B) {
    size_t Wp = (size_t)L->in_size + 2 * (L->k - 1), Ho = (size_t)L->in_size + L->k - 1;
    return (size_t)B * L->out_ch * Ho * Wp + 64;
}

static lis_modconv_params mc_params(const lis_sgxl_layer *L, int batch_style_norm) {
    return (lis_modconv_params){!L->torgb, L->k - 1, batch_style_norm};
}

/* The fast layer: styles -> modulated conv (raw + scale) -> fused filtered lrelu. */
static void layer_run(const lis_sgxl_layer *L, const float *x, const float *w, int B, float *y, float *styles,
                      float *raw, float *scale, void *mc_ws, void *fl_ws, int batch_style_norm) {
    lis_fc_cpu(&L->affine, w, styles, B);
    if (L->torgb) {
        float g = (float)(1.0 / sqrt((double)L->in_ch * L->k * L->k));
        for (int i = 0; i < B * L->in_ch; i++) styles[i] *= g;
    }
    lis_modconv_params mp = mc_params(L, batch_style_norm);
    lis_modconv_cpu_raw(&L->mc, &mp, x, styles, L->input_gain, B, L->in_size, L->in_size, raw, scale, mc_ws);
    int Hc = L->in_size + L->k - 1, Wp = L->in_size + 2 * (L->k - 1);
    lis_flrelu_cpu(&L->fl, raw, Wp, (int64_t)Hc * Wp, scale, L->bias, y, B, L->out_ch, Hc, Hc, fl_ws);
}

lis_status lis_sgxl_layer_forward(const lis_sgxl_layer *L, const float *x, const float *w, int B, int w_dim, float *y,
                                  float *styles_out, float *conv_out, int batch_style_norm, int reference) {
    (void)w_dim;
    int Hc = L->in_size + L->k - 1, Wp = L->in_size + 2 * (L->k - 1);
    float *styles = lis_malloc(sizeof(float) * (size_t)B * L->in_ch, "styles");
    if (!styles) return LIS_ERR;
    lis_status s = LIS_OK;
    if (reference) {
        float *conv = lis_malloc(sizeof(float) * (size_t)B * L->out_ch * Hc * Hc, "conv output");
        if (!conv) { free(styles); return LIS_ERR; }
        lis_fc_ref(&L->affine, w, styles, B);
        if (L->torgb) {
            float g = (float)(1.0 / sqrt((double)L->in_ch * L->k * L->k));
            for (int i = 0; i < B * L->in_ch; i++) styles[i] *= g;
        }
        lis_modconv_params mp = mc_params(L, batch_style_norm);
        lis_modconv_ref(&mp, x, L->weight, styles, L->input_gain, conv, B, L->in_ch, L->out_ch, L->in_size, L->in_size, L->k);
        lis_flrelu_ref(&L->fl, conv, L->bias, y, B, L->out_ch, Hc, Hc);
        if (conv_out) memcpy(conv_out, conv, sizeof(float) * (size_t)B * L->out_ch * Hc * Hc);
        free(conv);
    } else {
        lis_modconv_params mp = mc_params(L, batch_style_norm);
        float *raw = lis_alloc_aligned(sizeof(float) * layer_raw_floats(L, B), "conv output");
        float *scale = lis_malloc(sizeof(float) * (size_t)B * L->out_ch, "conv scale");
        void *mc_ws = lis_alloc_aligned(lis_modconv_workspace(&L->mc, &mp, L->in_size, L->in_size), "conv workspace");
        void *fl_ws = lis_alloc_aligned(lis_flrelu_workspace_per_thread(&L->fl, Hc, Hc) * (size_t)lis_threads_count(),
                                        "filter workspace");
        if (!raw || !scale || !mc_ws || !fl_ws) s = LIS_ERR;
        else {
            layer_run(L, x, w, B, y, styles, raw, scale, mc_ws, fl_ws, batch_style_norm);
            if (conv_out)
                for (int bo = 0; bo < B * L->out_ch; bo++)
                    for (int r = 0; r < Hc; r++)
                        for (int c = 0; c < Hc; c++)
                            conv_out[((size_t)bo * Hc + r) * Hc + c] = raw[((size_t)bo * Hc + r) * Wp + c] * scale[bo];
        }
        free(raw); free(scale); free(mc_ws); free(fl_ws);
    }
    if (s == LIS_OK && styles_out) memcpy(styles_out, styles, sizeof(float) * (size_t)B * L->in_ch);
    free(styles);
    return s;
}

/* ---------------------------------------------------------------- loading */

static lis_status cfg_int(const lis_json *o, const char *key, int *out, const char *ctx) {
    int64_t v;
    LIS_TRY(lis_json_int(o, key, &v, ctx));
    if (v < 0 || v > (1 << 24)) return lis_err_set("%s: '%s' = %lld is out of range", ctx, key, (long long)v);
    *out = (int)v;
    return LIS_OK;
}

static lis_status load_mapping(lis_sgxl *g, const lis_json *cfg, const char *path) {
    const lis_safetensors *st = &g->st;
    const lis_json *m = lis_json_get(cfg, "mapping");
    double lr = 0.01;
    int64_t nl = 2;
    if (m) {
        LIS_TRY(lis_json_double_opt(m, "lr_multiplier", &lr, "config.mapping"));
        LIS_TRY(lis_json_int_opt(m, "num_layers", &nl, "config.mapping"));
    }
    if (nl < 1 || nl > 8) return lis_err_set("%s: mapping.num_layers = %lld (1..8 supported)", path, (long long)nl);
    g->n_map = (int)nl;
    int64_t any2[2] = {-1, -1}, any1[1] = {-1};
    const float *w, *b;
    int proj_out = 0;
    if (g->c_dim > 0) {
        const lis_st_entry *e = lis_st_find(st, "mapping.embed.weight");
        if (!e || e->t.ndim != 2) return lis_err_set("%s: missing tensor 'mapping.embed.weight' (class embedding)", path);
        g->embed_dim = (int)e->t.shape[1];
        int64_t es[2] = {g->c_dim, g->embed_dim};
        LIS_TRY(lis_st_get_f32(st, "mapping.embed.weight", 2, es, &g->embed));
        LIS_TRY(lis_st_get_f32(st, "mapping.embed_proj.weight", 2, any2, &w));
        const lis_st_entry *pe = lis_st_find(st, "mapping.embed_proj.weight");
        proj_out = (int)pe->t.shape[0];
        int64_t ps[2] = {proj_out, g->embed_dim}, pb[1] = {proj_out};
        LIS_TRY(lis_st_get_f32(st, "mapping.embed_proj.weight", 2, ps, &w));
        LIS_TRY(lis_st_get_f32(st, "mapping.embed_proj.bias", 1, pb, &b));
        LIS_TRY(lis_fc_prepare(&g->embed_proj, w, b, g->embed_dim, proj_out, 1.0, 1));
    }
    int in = g->z_dim + proj_out;
    for (int i = 0; i < g->n_map; i++) {
        char wn[64], bn[64];
        snprintf(wn, sizeof wn, "mapping.fc%d.weight", i);
        snprintf(bn, sizeof bn, "mapping.fc%d.bias", i);
        int out = i == g->n_map - 1 ? g->w_dim : -1;
        const lis_st_entry *e = lis_st_find(st, wn);
        if (e && e->t.ndim == 2 && out < 0) out = (int)e->t.shape[0];
        int64_t ws[2] = {out, in}, bs[1] = {out};
        LIS_TRY(lis_st_get_f32(st, wn, 2, ws, &w));
        LIS_TRY(lis_st_get_f32(st, bn, 1, bs, &b));
        LIS_TRY(lis_fc_prepare(&g->map[i], w, b, in, out, lr, 1));
        in = out;
    }
    const lis_st_entry *e = lis_st_find(st, "mapping.w_avg");
    if (!e) return lis_err_set("%s: missing tensor 'mapping.w_avg'", path);
    g->w_avg_per_class = e->t.ndim == 2;
    if (g->w_avg_per_class) {
        int64_t s2[2] = {g->c_dim, g->w_dim};
        LIS_TRY(lis_st_get_f32(st, "mapping.w_avg", 2, s2, &g->w_avg));
    } else {
        int64_t s1[1] = {g->w_dim};
        LIS_TRY(lis_st_get_f32(st, "mapping.w_avg", 1, s1, &g->w_avg));
    }
    (void)any1;
    return LIS_OK;
}

static lis_status read_layer_cfg(const lis_json *l, int idx, int *v, int pad[4], int *torgb, double *clamp) {
    char ctx[64];
    snprintf(ctx, sizeof ctx, "config.layers[%d]", idx);
    static const char *keys[] = {"in_ch", "out_ch", "in_size", "out_size", "k", "up", "down"};
    for (int i = 0; i < 7; i++) LIS_TRY(cfg_int(l, keys[i], &v[i], ctx));
    const lis_json *p = lis_json_get(l, "padding");
    if (!p || p->type != LIS_JSON_ARR || p->len != 4) return lis_err_set("%s: 'padding' must be a list of 4 integers", ctx);
    for (int i = 0; i < 4; i++) {
        if (!lis_json_is_int(p->items[i]) || fabs(p->items[i]->num) > 4096) return lis_err_set("%s: bad 'padding'", ctx);
        pad[i] = (int)p->items[i]->num;
    }
    LIS_TRY(lis_json_bool(l, "torgb", torgb, ctx));
    *clamp = -1;
    const lis_json *c = lis_json_get(l, "clamp");
    if (c && c->type == LIS_JSON_NUM) *clamp = c->num;
    if (v[4] < 1 || v[4] > 7 || v[5] < 1 || v[5] > 8 || v[6] < 1 || v[6] > 8 || v[0] < 1 || v[1] < 1 || v[2] < 1 || v[3] < 1)
        return lis_err_set("%s: unsupported layer geometry", ctx);
    return LIS_OK;
}

lis_status lis_sgxl_load(lis_sgxl *g, const char *path) {
    memset(g, 0, sizeof *g);
    LIS_TRY(lis_st_open(&g->st, path));
    lis_status s = LIS_OK;
    lis_json *cfg = NULL;
    const char *ctext = lis_st_meta(&g->st, "config");
    if (!ctext) { s = lis_err_set("%s: no generator configuration in the metadata (convert the file with `lis-run convert`)", path); goto fail; }
    cfg = lis_json_parse(ctext, strlen(ctext));
    if (!cfg) { lis_err_prefix("%s: metadata 'config'", path); s = LIS_ERR; goto fail; }
    const lis_json *arch = lis_json_get(cfg, "arch");
    if (!arch || arch->type != LIS_JSON_STR || strcmp(arch->str, "stylegan_xl") != 0) {
        s = lis_err_set("%s: not a StyleGAN-XL weight file (config arch is '%s')", path,
                        arch && arch->type == LIS_JSON_STR ? arch->str : "missing");
        goto fail;
    }
    if ((s = cfg_int(cfg, "z_dim", &g->z_dim, path)) || (s = cfg_int(cfg, "w_dim", &g->w_dim, path)) ||
        (s = cfg_int(cfg, "c_dim", &g->c_dim, path)) || (s = cfg_int(cfg, "num_ws", &g->num_ws, path)) ||
        (s = cfg_int(cfg, "img_resolution", &g->img_resolution, path)) ||
        (s = cfg_int(cfg, "img_channels", &g->img_channels, path)))
        goto fail;
    double oscale = 0.25;
    if ((s = lis_json_double_opt(cfg, "output_scale", &oscale, path))) goto fail;
    g->output_scale = (float)oscale;
    if ((s = load_mapping(g, cfg, path))) goto fail;
    /* input layer */
    const lis_json *in = lis_json_get(cfg, "input");
    int ic, isz;
    double sr, bw;
    if (!in) { s = lis_err_set("%s: config has no 'input' section", path); goto fail; }
    if ((s = cfg_int(in, "channels", &ic, "config.input")) || (s = cfg_int(in, "size", &isz, "config.input")) ||
        (s = lis_json_double(in, "sampling_rate", &sr, "config.input")) ||
        (s = lis_json_double(in, "bandwidth", &bw, "config.input")))
        goto fail;
    {
        const float *iw, *tr, *fq, *ph, *aw, *ab;
        int64_t s_w[2] = {ic, ic}, s_t[2] = {3, 3}, s_f[2] = {ic, 2}, s_p[1] = {ic}, s_aw[2] = {4, g->w_dim}, s_ab[1] = {4};
        if ((s = lis_st_get_f32(&g->st, "synthesis.input.weight", 2, s_w, &iw)) ||
            (s = lis_st_get_f32(&g->st, "synthesis.input.transform", 2, s_t, &tr)) ||
            (s = lis_st_get_f32(&g->st, "synthesis.input.freqs", 2, s_f, &fq)) ||
            (s = lis_st_get_f32(&g->st, "synthesis.input.phases", 1, s_p, &ph)) ||
            (s = lis_st_get_f32(&g->st, "synthesis.input.affine.weight", 2, s_aw, &aw)) ||
            (s = lis_st_get_f32(&g->st, "synthesis.input.affine.bias", 1, s_ab, &ab)) ||
            (s = lis_synth_input_prepare(&g->input, ic, isz, sr, bw, g->w_dim, iw, aw, ab, tr, fq, ph)))
            goto fail;
    }
    /* synthesis layers */
    const lis_json *ls = lis_json_get(cfg, "layers");
    if (!ls || ls->type != LIS_JSON_ARR || ls->len == 0) { s = lis_err_set("%s: config has no 'layers' list", path); goto fail; }
    if ((int)ls->len + 1 != g->num_ws) {
        s = lis_err_set("%s: config has %zu synthesis layers but num_ws = %d (expected layers + 1)", path, ls->len, g->num_ws);
        goto fail;
    }
    g->layers = lis_calloc(ls->len, sizeof *g->layers, "layers");
    if (!g->layers) { s = LIS_ERR; goto fail; }
    int prev_ch = ic, prev_size = isz;
    for (size_t i = 0; i < ls->len; i++) {
        const lis_json *l = ls->items[i], *nm = lis_json_get(l, "name");
        int v[7], pad[4], torgb = 0;
        double clamp = -1;
        if (!nm || nm->type != LIS_JSON_STR || nm->len == 0 || nm->len > 48) { s = lis_err_set("%s: config.layers[%zu]: bad 'name'", path, i); goto fail; }
        if ((s = read_layer_cfg(l, (int)i, v, pad, &torgb, &clamp))) goto fail;
        if (v[0] != prev_ch || v[2] != prev_size) {
            s = lis_err_set("%s: layer %s takes %d channels at %d px but the previous module gives %d at %d px", path,
                            nm->str, v[0], v[2], prev_ch, prev_size);
            goto fail;
        }
        char prefix[80];
        snprintf(prefix, sizeof prefix, "synthesis.%s", nm->str);
        if ((s = lis_sgxl_layer_init(&g->layers[i], &g->st, prefix, nm->str, v[0], v[1], v[2], v[3], v[4], v[5], v[6],
                                     pad, torgb, (float)clamp, g->w_dim)))
            goto fail;
        g->n_layers = (int)i + 1;
        prev_ch = v[1];
        prev_size = v[3];
    }
    if (prev_ch != g->img_channels || prev_size != g->img_resolution) {
        s = lis_err_set("%s: the last layer gives %d channels at %d px, config says %d at %d", path, prev_ch, prev_size,
                        g->img_channels, g->img_resolution);
        goto fail;
    }
    const lis_json *cn = lis_json_get(cfg, "class_names");
    if (cn && cn->type == LIS_JSON_ARR && (int)cn->len == g->c_dim) {
        g->class_names = calloc(cn->len, sizeof(char *));
        for (size_t i = 0; g->class_names && i < cn->len; i++)
            g->class_names[i] = strdup(cn->items[i]->type == LIS_JSON_STR ? cn->items[i]->str : "?");
    }
    lis_json_free(cfg);
    return LIS_OK;
fail:
    lis_json_free(cfg);
    lis_sgxl_free(g);
    return s;
}

static void free_plan(lis_sgxl *g) {
    free(g->act[0]); free(g->act[1]); free(g->raw); free(g->scale); free(g->styles); free(g->wrow);
    free(g->mc_ws); free(g->fl_ws); free(g->in_ws);
    g->act[0] = g->act[1] = g->raw = g->scale = g->styles = g->wrow = NULL;
    g->mc_ws = g->fl_ws = g->in_ws = NULL;
    g->plan_batch = 0;
}

void lis_sgxl_free(lis_sgxl *g) {
    if (!g) return;
    free_plan(g);
    for (int i = 0; i < g->n_layers; i++) lis_sgxl_layer_free(&g->layers[i]);
    free(g->layers);
    if (g->class_names)
        for (int i = 0; i < g->c_dim; i++) free(g->class_names[i]);
    free(g->class_names);
    lis_synth_input_free(&g->input);
    lis_fc_free(&g->embed_proj);
    for (int i = 0; i < 8; i++) lis_fc_free(&g->map[i]);
    lis_st_close(&g->st);
    memset(g, 0, sizeof *g);
}

lis_status lis_sgxl_plan(lis_sgxl *g, int max_batch) {
    if (max_batch <= g->plan_batch) return LIS_OK;
    free_plan(g);
    size_t act = (size_t)g->input.C * g->input.S * g->input.S, raw = 0, mc = 0, fl = 0;
    int maxo = 1, maxi = 1;
    for (int i = 0; i < g->n_layers; i++) {
        const lis_sgxl_layer *L = &g->layers[i];
        size_t a = (size_t)L->out_ch * L->out_size * L->out_size;
        if (a > act) act = a;
        size_t r = layer_raw_floats(L, max_batch);
        if (r > raw) raw = r;
        lis_modconv_params mp = mc_params(L, 0);
        size_t m = lis_modconv_workspace(&L->mc, &mp, L->in_size, L->in_size);
        if (m > mc) mc = m;
        int Hc = L->in_size + L->k - 1;
        size_t f = lis_flrelu_workspace_per_thread(&L->fl, Hc, Hc);
        if (f > fl) fl = f;
        if (L->out_ch > maxo) maxo = L->out_ch;
        if (L->in_ch > maxi) maxi = L->in_ch;
    }
    act *= (size_t)max_batch;
    g->act[0] = lis_alloc_aligned(act * sizeof(float), "activations");
    g->act[1] = lis_alloc_aligned(act * sizeof(float), "activations");
    g->raw = lis_alloc_aligned(raw * sizeof(float), "conv output");
    g->scale = lis_malloc(sizeof(float) * (size_t)max_batch * maxo, "conv scale");
    g->styles = lis_malloc(sizeof(float) * (size_t)max_batch * maxi, "styles");
    g->wrow = lis_malloc(sizeof(float) * (size_t)max_batch * g->w_dim, "ws rows");
    g->mc_ws = lis_alloc_aligned(mc, "conv workspace");
    g->fl_ws = lis_alloc_aligned(fl * (size_t)lis_threads_count(), "filter workspace");
    g->in_ws = lis_alloc_aligned(lis_synth_input_workspace(&g->input), "input workspace");
    if (!g->act[0] || !g->act[1] || !g->raw || !g->scale || !g->styles || !g->wrow || !g->mc_ws || !g->fl_ws || !g->in_ws) {
        free_plan(g);
        return LIS_ERR;
    }
    g->plan_batch = max_batch;
    return LIS_OK;
}

/* ---------------------------------------------------------------- mapping */

static void normalize_2nd_moment(float *x, int n) {
    float acc = 0.0f;
    for (int i = 0; i < n; i++) acc += x[i] * x[i];
    float r = 1.0f / sqrtf(acc / (float)n + 1e-8f);
    for (int i = 0; i < n; i++) x[i] *= r;
}

/* torch.lerp(start, end, weight) as ATen computes it */
static inline float lerpf_aten(float start, float end, float weight) {
    return fabsf(weight) < 0.5f ? start + weight * (end - start) : end - (end - start) * (1.0f - weight);
}

lis_status lis_sgxl_mapping(const lis_sgxl *g, const float *z, const int64_t *cls, int B, float psi, int cutoff,
                            float *ws, float **acts) {
    int proj = g->c_dim > 0 ? g->embed_proj.out : 0;
    int maxw = g->z_dim + proj;
    for (int i = 0; i < g->n_map; i++) if (g->map[i].out > maxw) maxw = g->map[i].out;
    float *a = lis_malloc(sizeof(float) * (size_t)maxw, "mapping"), *bv = lis_malloc(sizeof(float) * (size_t)maxw, "mapping");
    if (!a || !bv) { free(a); free(bv); return LIS_ERR; }
    for (int b = 0; b < B; b++) {
        if (g->c_dim > 0 && (cls[b] < 0 || cls[b] >= g->c_dim)) {
            free(a); free(bv);
            return lis_err_set("class %lld is out of range (the generator has %d classes: 0..%d)", (long long)cls[b], g->c_dim,
                               g->c_dim - 1);
        }
        memcpy(a, z + (size_t)b * g->z_dim, sizeof(float) * (size_t)g->z_dim);
        normalize_2nd_moment(a, g->z_dim);
        int ai = 0;
        if (g->c_dim > 0) {
            const float *e = g->embed + (size_t)cls[b] * g->embed_dim;
            if (acts) memcpy(acts[ai++] + (size_t)b * g->embed_dim, e, sizeof(float) * (size_t)g->embed_dim);
            lis_fc_ref(&g->embed_proj, e, a + g->z_dim, 1);
            if (acts) memcpy(acts[ai++] + (size_t)b * proj, a + g->z_dim, sizeof(float) * (size_t)proj);
            normalize_2nd_moment(a + g->z_dim, proj);
        }
        float *cur = a, *nxt = bv;
        for (int i = 0; i < g->n_map; i++) {
            lis_fc_ref(&g->map[i], cur, nxt, 1);
            if (acts) memcpy(acts[ai++] + (size_t)b * g->map[i].out, nxt, sizeof(float) * (size_t)g->map[i].out);
            float *t = cur; cur = nxt; nxt = t;
        }
        const float *wa = g->w_avg_per_class ? g->w_avg + (size_t)(g->c_dim > 0 ? cls[b] : 0) * g->w_dim : g->w_avg;
        int cut = cutoff <= 0 || cutoff > g->num_ws ? g->num_ws : cutoff;
        for (int k = 0; k < g->num_ws; k++) {
            float *wk = ws + ((size_t)b * g->num_ws + k) * g->w_dim;
            for (int d = 0; d < g->w_dim; d++)
                wk[d] = psi != 1.0f && k < cut ? lerpf_aten(wa[d], cur[d], psi) : cur[d];
        }
    }
    free(a);
    free(bv);
    return LIS_OK;
}

void lis_sgxl_truncate(const lis_sgxl *g, const int64_t *cls, int B, float psi, float *ws) {
    for (int b = 0; b < B; b++) {
        const float *wa = g->w_avg_per_class ? g->w_avg + (size_t)(g->c_dim > 0 ? cls[b] : 0) * g->w_dim : g->w_avg;
        for (int k = 0; k < g->num_ws; k++) {
            float *wk = ws + ((size_t)b * g->num_ws + k) * g->w_dim;
            for (int d = 0; d < g->w_dim; d++) wk[d] = wa[d] + (wk[d] - wa[d]) * psi;
        }
    }
}

/* ---------------------------------------------------------------- synthesis */

static void gather_w(const lis_sgxl *g, const float *ws, int B, int idx, float *out) {
    for (int b = 0; b < B; b++)
        memcpy(out + (size_t)b * g->w_dim, ws + ((size_t)b * g->num_ws + idx) * g->w_dim, sizeof(float) * (size_t)g->w_dim);
}

lis_status lis_sgxl_synthesis(lis_sgxl *g, const float *ws, int B, float *img, lis_sgxl_tap_fn tap, void *tap_ctx) {
    LIS_TRY(lis_sgxl_plan(g, B));
    gather_w(g, ws, B, 0, g->wrow);
    lis_synth_input_cpu(&g->input, g->wrow, g->act[0], NULL, B, g->in_ws);
    if (tap) LIS_TRY(tap(tap_ctx, 0, "input", g->act[0], B, g->input.C, g->input.S));
    int cur = 0;
    for (int i = 0; i < g->n_layers; i++) {
        const lis_sgxl_layer *L = &g->layers[i];
        gather_w(g, ws, B, i + 1, g->wrow);
        layer_run(L, g->act[cur], g->wrow, B, g->act[1 - cur], g->styles, g->raw, g->scale, g->mc_ws, g->fl_ws, 0);
        cur = 1 - cur;
        if (tap) LIS_TRY(tap(tap_ctx, i + 1, L->name, g->act[cur], B, L->out_ch, L->out_size));
    }
    size_t n = (size_t)B * g->img_channels * g->img_resolution * g->img_resolution;
    for (size_t i = 0; i < n; i++) img[i] = g->act[cur][i] * g->output_scale;
    return LIS_OK;
}
