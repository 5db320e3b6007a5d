/* fewshot_cnn.c — FewShotCNN: weight file, inference from generator taps, training
 * (see fewshot_cnn.h). */
#include "nets/fewshot_cnn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/to_u8.h"
#include "runtime/np_random.h"
#include "runtime/safetensors.h"

#define SLOPE 0.2f

int lis_fewshot_arch(char size, int in_ch, int n_class, int *ch, int *dil) {
    static const int dS[] = {1, 2, 1, 2, 1}, cS[] = {128, 64, 64, 32};
    static const int dM[] = {1, 2, 4, 1, 2, 4, 1}, cM[] = {128, 64, 64, 64, 64, 32};
    static const int dL[] = {1, 2, 4, 8, 1, 2, 4, 8, 1}, cL[] = {128, 64, 64, 64, 64, 64, 64, 32};
    const int *d, *c;
    int n;
    switch (size) {
    case 'S': d = dS; c = cS; n = 5; break;
    case 'M': d = dM; c = cM; n = 7; break;
    case 'L': d = dL; c = cL; n = 9; break;
    default: return 0;
    }
    ch[0] = in_ch;
    for (int i = 0; i < n - 1; i++) ch[i + 1] = c[i];
    ch[n] = n_class;
    for (int i = 0; i < n; i++) dil[i] = d[i];
    return n;
}

static lis_status alloc_params(lis_fewshot *net, char size, int in_ch, int n_class, int img_size) {
    memset(net, 0, sizeof *net);
    if (in_ch < 1 || in_ch > (1 << 24) || n_class < 1 || n_class > 256 || img_size < 1 || img_size > 8192)
        return lis_err_set("fewshot_cnn: in_ch %d, n_class %d or img_size %d out of range", in_ch, n_class, img_size);
    net->n_conv = lis_fewshot_arch(size, in_ch, n_class, net->ch, net->dil);
    if (!net->n_conv) return lis_err_set("fewshot_cnn: size '%c' is not S, M or L", size);
    net->size = size;
    net->in_ch = in_ch;
    net->n_class = n_class;
    net->img_size = img_size;
    size_t n = 0;
    for (int i = 0; i < net->n_conv; i++) n += (size_t)net->ch[i + 1] * net->ch[i] * 9 + (size_t)net->ch[i + 1];
    net->params = lis_malloc(sizeof(float) * n, "fewshot_cnn weights");
    if (!net->params) return LIS_ERR;
    net->n_params = n;
    float *p = net->params;
    for (int i = 0; i < net->n_conv; i++) {
        net->w[i] = p;
        p += (size_t)net->ch[i + 1] * net->ch[i] * 9;
        net->b[i] = p;
        p += net->ch[i + 1];
    }
    return LIS_OK;
}

lis_status lis_fewshot_init(lis_fewshot *net, char size, int in_ch, int n_class, int img_size, uint32_t seed) {
    LIS_TRY(alloc_params(net, size, in_ch, n_class, img_size));
    lis_np_rng rng;
    lis_np_seed(&rng, seed);
    for (int i = 0; i < net->n_conv; i++) {
        double bound = 1.0 / sqrt((double)net->ch[i] * 9);
        size_t nw = (size_t)net->ch[i + 1] * net->ch[i] * 9;
        for (size_t k = 0; k < nw; k++) net->w[i][k] = (float)((2 * lis_np_double(&rng) - 1) * bound);
        for (int k = 0; k < net->ch[i + 1]; k++) net->b[i][k] = (float)((2 * lis_np_double(&rng) - 1) * bound);
    }
    return LIS_OK;
}

static void copy_name(char *dst, const char *src) {
    snprintf(dst, LIS_FEWSHOT_NAME, "%s", src);
}

lis_status lis_fewshot_load(lis_fewshot *net, const char *path) {
    memset(net, 0, sizeof *net);
    lis_safetensors st;
    LIS_TRY(lis_st_open(&st, path));
    lis_status s = LIS_OK;
    lis_json *cfg = NULL;
    char name[64];
    int n = 0;
    for (;; n++) {
        snprintf(name, sizeof name, "layers.%d.weight", 2 * n);
        if (!lis_st_find(&st, name)) break;
    }
    const lis_st_entry *w0 = lis_st_find(&st, "layers.0.weight");
    snprintf(name, sizeof name, "layers.%d.weight", 2 * (n - 1));
    const lis_st_entry *wl = n ? lis_st_find(&st, name) : NULL;
    if (!w0 || !wl || w0->t.ndim != 4 || wl->t.ndim != 4) {
        lis_st_close(&st);
        return lis_err_set("%s: no 'layers.0.weight' [c_out, c_in, 3, 3]: not a FewShotCNN weight file", path);
    }
    char size = n == 5 ? 'S' : n == 7 ? 'M' : n == 9 ? 'L' : '?';
    int img_size = 128;
    lis_registration reg = LIS_REG_ORIGINAL;
    const char *text = lis_st_meta(&st, "config");
    if (text) {
        cfg = lis_json_parse(text, strlen(text));
        if (!cfg) { lis_err_prefix("%s: metadata 'config'", path); lis_st_close(&st); return LIS_ERR; }
        const lis_json *arch = lis_json_get(cfg, "arch"), *sz = lis_json_get(cfg, "size"), *rg = lis_json_get(cfg, "registration");
        if (arch && (arch->type != LIS_JSON_STR || strcmp(arch->str, "fewshot_cnn") != 0)) {
            s = lis_err_set("%s: config arch is \"%s\", not \"fewshot_cnn\"", path, arch->type == LIS_JSON_STR ? arch->str : "?");
            goto done;
        }
        if (sz && (sz->type != LIS_JSON_STR || strlen(sz->str) != 1 || sz->str[0] != size)) {
            s = lis_err_set("%s: config size \"%s\" but the file has %d convolutions (S 5, M 7, L 9)", path,
                            sz->type == LIS_JSON_STR ? sz->str : "?", n);
            goto done;
        }
        int64_t v = img_size;
        if ((s = lis_json_int_opt(cfg, "img_size", &v, path))) goto done;
        img_size = (int)v;
        if (rg) {
            if (rg->type == LIS_JSON_STR && !strcmp(rg->str, "original")) reg = LIS_REG_ORIGINAL;
            else if (rg->type == LIS_JSON_STR && !strcmp(rg->str, "cropped")) reg = LIS_REG_CROPPED;
            else { s = lis_err_set("%s: config registration must be \"original\" or \"cropped\"", path); goto done; }
        }
    }
    if (size == '?') { s = lis_err_set("%s: %d convolutions; FewShotCNN has 5 (S), 7 (M) or 9 (L)", path, n); goto done; }
    if ((s = alloc_params(net, size, (int)w0->t.shape[1], (int)wl->t.shape[0], img_size))) goto done;
    net->registration = reg;
    for (int i = 0; i < n && s == LIS_OK; i++) {
        const float *w, *b;
        int64_t sw[4] = {net->ch[i + 1], net->ch[i], 3, 3}, sb[1] = {net->ch[i + 1]};
        snprintf(name, sizeof name, "layers.%d.weight", 2 * i);
        s = lis_st_get_f32(&st, name, 4, sw, &w);
        snprintf(name, sizeof name, "layers.%d.bias", 2 * i);
        if (s == LIS_OK) s = lis_st_get_f32(&st, name, 1, sb, &b);
        if (s == LIS_OK) {
            memcpy(net->w[i], w, sizeof(float) * (size_t)(sw[0] * sw[1] * 9));
            memcpy(net->b[i], b, sizeof(float) * (size_t)sb[0]);
        }
    }
    if (s == LIS_OK && st.n != (size_t)(2 * n))
        s = lis_err_set("%s: %zu tensors, expected %d (layers.<2i>.weight/bias); extra tensors are not allowed", path, st.n, 2 * n);
    if (s == LIS_OK && cfg) {
        const lis_json *ly = lis_json_get(cfg, "layers"), *lb = lis_json_get(cfg, "labels");
        if (ly && ly->type == LIS_JSON_ARR) {
            if (ly->len > LIS_FEWSHOT_MAX_TAPS) { s = lis_err_set("%s: config names %zu layers (max %d)", path, ly->len, LIS_FEWSHOT_MAX_TAPS); goto done; }
            for (size_t i = 0; i < ly->len; i++) {
                if (ly->items[i]->type != LIS_JSON_STR) { s = lis_err_set("%s: config layers must be strings", path); goto done; }
                copy_name(net->tap_names[i], ly->items[i]->str);
            }
            net->n_taps = (int)ly->len;
        }
        if (lb && lb->type == LIS_JSON_ARR && lb->len <= 32) {
            for (size_t i = 0; i < lb->len; i++)
                if (lb->items[i]->type == LIS_JSON_STR) copy_name(net->label_names[i], lb->items[i]->str);
            net->n_labels_named = (int)lb->len;
        }
    }
done:
    lis_json_free(cfg);
    lis_st_close(&st);
    if (s != LIS_OK) lis_fewshot_free(net);
    return s;
}

lis_status lis_fewshot_save(const lis_fewshot *net, const char *path, const char *origin) {
    lis_sbuf cfg = {0};
    lis_sbuf_printf(&cfg, "{\"arch\":\"fewshot_cnn\",\"size\":\"%c\",\"n_class\":%d,\"in_ch\":%d,\"img_size\":%d,"
                          "\"registration\":\"%s\",\"layers\":[",
                    net->size, net->n_class, net->in_ch, net->img_size,
                    net->registration == LIS_REG_CROPPED ? "cropped" : "original");
    for (int i = 0; i < net->n_taps; i++) {
        if (i) lis_sbuf_printf(&cfg, ",");
        lis_sbuf_json_str(&cfg, net->tap_names[i]);
    }
    lis_sbuf_printf(&cfg, "]");
    if (net->n_labels_named) {
        lis_sbuf_printf(&cfg, ",\"labels\":[");
        for (int i = 0; i < net->n_labels_named; i++) {
            if (i) lis_sbuf_printf(&cfg, ",");
            lis_sbuf_json_str(&cfg, net->label_names[i]);
        }
        lis_sbuf_printf(&cfg, "]");
    }
    lis_sbuf_printf(&cfg, "}");
    if (cfg.oom) { lis_sbuf_free(&cfg); return lis_err_set("out of memory"); }
    lis_st_writer w = {0};
    lis_status s = LIS_OK;
    char names[2 * LIS_FEWSHOT_MAX_CONV][32];
    for (int i = 0; i < net->n_conv && s == LIS_OK; i++) {
        int64_t sw[4] = {net->ch[i + 1], net->ch[i], 3, 3}, sb[1] = {net->ch[i + 1]};
        snprintf(names[2 * i], 32, "layers.%d.weight", 2 * i);
        snprintf(names[2 * i + 1], 32, "layers.%d.bias", 2 * i);
        s = lis_st_writer_add(&w, names[2 * i], LIS_DTYPE_F32, 4, sw, net->w[i]);
        if (s == LIS_OK) s = lis_st_writer_add(&w, names[2 * i + 1], LIS_DTYPE_F32, 1, sb, net->b[i]);
    }
    if (s == LIS_OK) s = lis_st_writer_meta(&w, "config", cfg.s);
    if (s == LIS_OK && origin) s = lis_st_writer_meta(&w, "origin", origin);
    if (s == LIS_OK) s = lis_st_write(&w, path);
    lis_st_writer_free(&w);
    lis_sbuf_free(&cfg);
    return s;
}

static void unplan(lis_fewshot *net) {
    lis_tapconv_packed_free(&net->pk0);
    for (int i = 0; i < LIS_FEWSHOT_MAX_CONV; i++) lis_conv2d_packed_free(&net->pk[i]);
    free(net->ws);
    free(net->act[0]);
    free(net->act[1]);
    net->ws = NULL;
    net->act[0] = net->act[1] = NULL;
    net->planned = 0;
}

void lis_fewshot_free(lis_fewshot *net) {
    if (!net) return;
    unplan(net);
    free(net->params);
    memset(net, 0, sizeof *net);
}

static lis_conv2d_params layer_params(const lis_fewshot *net, int i) {
    int S = net->img_size;
    lis_conv2d_params cp = {.N = 1, .C = net->ch[i], .H = S, .W = S, .K = net->ch[i + 1], .R = 3, .S = 3, .stride_h = 1,
                            .stride_w = 1, .pad_h = net->dil[i], .pad_w = net->dil[i], .dil_h = net->dil[i],
                            .dil_w = net->dil[i], .act = i < net->n_conv - 1 ? LIS_ACT_LRELU : LIS_ACT_NONE,
                            .slope = SLOPE};
    return cp;
}

static int same_geometry(const lis_nc_params *a, const lis_nc_params *b) {
    if (a->n_maps != b->n_maps || a->out != b->out) return 0;
    for (int m = 0; m < a->n_maps; m++)
        if (a->C[m] != b->C[m] || a->size[m] != b->size[m] || a->off[m] != b->off[m] || a->len[m] != b->len[m]) return 0;
    return 1;
}

/* (Re)packs the weights for inference after a training step changed them. */
static lis_status pack(lis_fewshot *net) {
    lis_tapconv_packed_free(&net->pk0);
    LIS_TRY(lis_tapconv_pack(&net->pk0, &net->nc, net->w[0]));
    for (int i = 1; i < net->n_conv; i++) {
        lis_conv2d_packed_free(&net->pk[i]);
        LIS_TRY(lis_conv2d_pack(&net->pk[i], net->ch[i + 1], net->ch[i], 3, 3, net->w[i]));
    }
    net->packed_version = net->weights_version;
    return LIS_OK;
}

lis_status lis_fewshot_plan(lis_fewshot *net, const lis_nc_params *nc_in) {
    lis_nc_params nc = *nc_in;
    nc.K = net->ch[1];
    nc.dil = net->dil[0];
    nc.act = LIS_ACT_LRELU;
    nc.slope = SLOPE;
    int in_ch;
    LIS_TRY(lis_nc_check(&nc, &in_ch));
    if (in_ch != net->in_ch)
        return lis_err_set("fewshot_cnn: the taps give %d channels but the head takes %d", in_ch, net->in_ch);
    if (nc.out != net->img_size)
        return lis_err_set("fewshot_cnn: taps resized to %d but the head was trained at %d", nc.out, net->img_size);
    if (net->planned && same_geometry(&nc, &net->nc)) return LIS_OK;
    unplan(net);
    net->nc = nc;
    size_t ws = lis_tapconv_workspace_size(&nc);
    int maxc = 0;
    for (int i = 1; i < net->n_conv; i++) {
        lis_conv2d_params cp = layer_params(net, i);
        size_t w = lis_conv2d_workspace_size(&cp);
        ws = w > ws ? w : ws;
        maxc = net->ch[i] > maxc ? net->ch[i] : maxc;
    }
    size_t npx = (size_t)net->img_size * net->img_size;
    net->ws = lis_alloc_aligned(ws, "fewshot_cnn workspace");
    net->act[0] = lis_alloc_aligned(sizeof(float) * maxc * npx, "fewshot_cnn activations");
    net->act[1] = lis_alloc_aligned(sizeof(float) * maxc * npx, "fewshot_cnn activations");
    if (!net->ws || !net->act[0] || !net->act[1]) { unplan(net); return LIS_ERR; }
    lis_status s = pack(net);
    if (s != LIS_OK) { unplan(net); return s; }
    net->planned = 1;
    return LIS_OK;
}

lis_status lis_fewshot_forward(lis_fewshot *net, const float *const *maps, float *logits) {
    if (!net->planned) return lis_err_set("fewshot_cnn: forward before lis_fewshot_plan");
    if (net->packed_version != net->weights_version) LIS_TRY(pack(net));
    lis_tapconv_cpu_packed(&net->nc, &net->pk0, maps, net->b[0], net->act[0], net->ws);
    for (int i = 1; i < net->n_conv; i++) {
        lis_conv2d_params cp = layer_params(net, i);
        float *dst = i == net->n_conv - 1 ? logits : net->act[i % 2];
        lis_conv2d_cpu_packed(&cp, &net->pk[i], net->act[(i - 1) % 2], net->b[i], NULL, dst, net->ws);
    }
    return LIS_OK;
}

lis_status lis_fewshot_forward_ref(const lis_fewshot *net, const lis_nc_params *nc_in, const float *const *maps, float *logits) {
    lis_nc_params nc = *nc_in;
    nc.K = net->ch[1];
    nc.dil = net->dil[0];
    nc.act = LIS_ACT_LRELU;
    nc.slope = SLOPE;
    size_t npx = (size_t)net->img_size * net->img_size;
    int maxc = 0;
    for (int i = 1; i < net->n_conv; i++) maxc = net->ch[i] > maxc ? net->ch[i] : maxc;
    float *a = lis_malloc(sizeof(float) * maxc * npx, "activations"), *b = lis_malloc(sizeof(float) * maxc * npx, "activations");
    lis_status s = a && b ? lis_tapconv_ref(&nc, maps, net->w[0], net->b[0], a) : LIS_ERR;
    for (int i = 1; i < net->n_conv && s == LIS_OK; i++) {
        lis_conv2d_params cp = layer_params(net, i);
        float *dst = i == net->n_conv - 1 ? logits : b;
        s = lis_conv2d_ref(&cp, a, net->w[i], net->b[i], NULL, dst);
        float *t = a; a = b; b = t;
    }
    free(a);
    free(b);
    return s;
}

void lis_fewshot_argmax(const float *logits, int n_class, int64_t npx, uint8_t *labels) {
    for (int64_t p = 0; p < npx; p++) {
        int best = 0;
        float bv = logits[p];
        for (int c = 1; c < n_class; c++) {
            float v = logits[(size_t)c * npx + p];
            if (v > bv) { bv = v; best = c; }
        }
        labels[p] = (uint8_t)best;
    }
}

/* ---- training ---- */

void lis_fewshot_train_params_default(lis_fewshot_train_params *p) {
    p->lr = 1e-3;
    p->beta1 = 0.9;
    p->beta2 = 0.999;
    p->eps = 1e-8;
    p->weight_decay = 1e-3;
    p->step_size = 50;
    p->gamma = 0.1;
}

double lis_fewshot_ce(const float *logits, const uint8_t *labels, int n_class, int64_t npx, float *grad) {
    double total = 0;
    for (int64_t p = 0; p < npx; p++) {
        float mx = logits[p];
        for (int c = 1; c < n_class; c++) mx = fmaxf(mx, logits[(size_t)c * npx + p]);
        double se = 0;
        for (int c = 0; c < n_class; c++) se += exp((double)logits[(size_t)c * npx + p] - mx);
        double lse = mx + log(se);
        total += lse - logits[(size_t)labels[p] * npx + p];
        if (grad)
            for (int c = 0; c < n_class; c++) {
                double sm = exp((double)logits[(size_t)c * npx + p] - lse);
                grad[(size_t)c * npx + p] = (float)((sm - (c == labels[p])) / (double)npx);
            }
    }
    return total / (double)npx;
}

/* the single-map geometry of a regular layer's input (for its weight gradient) */
static lis_nc_params layer_nc(const lis_fewshot *net, int i) {
    int S = net->img_size;
    lis_nc_params nc = {.n_maps = 1, .out = S, .K = net->ch[i + 1], .dil = net->dil[i], .act = LIS_ACT_NONE};
    nc.C[0] = net->ch[i];
    nc.size[0] = S;
    nc.off[0] = 0;
    nc.len[0] = S;
    return nc;
}

/* the conv giving the input gradient of layer i: dY [ch[i+1]] -> dX [ch[i]], flipped weights */
static lis_conv2d_params grad_params(const lis_fewshot *net, int i) {
    lis_conv2d_params cp = layer_params(net, i);
    cp.C = net->ch[i + 1];
    cp.K = net->ch[i];
    cp.act = LIS_ACT_NONE;
    return cp;
}


/* Weight gradient of a regular layer (3x3, dilation d, padding d, stride 1) without
 * scatters: for each tap t, dW_t^T [C, K] = X_t [C, P'] x dY^T [P', K], where X_t is the
 * zero-padded input shifted by the tap (rows c at a uniform stride: one plane each) and
 * positions run over the padded width Wp (columns x >= S carry dY = 0). ws must hold
 * C*Hp*Wp + S*Wp*K + C*K floats and max(C, S*Wp) pointers. */
static void dense_backward_w(int C, int K, int S, int d, const float *x, const float *dy, float *dw, float *ws) {
    int Wp = S + 2 * d, Hp = S + 2 * d;
    size_t plane = (size_t)Hp * Wp, P = (size_t)S * Wp;
    float *xp = ws, *dyt = xp + (size_t)C * plane + Wp, *D = dyt + P * K;
    const float **rows = (const float **)(D + (size_t)C * K);
    memset(xp, 0, sizeof(float) * ((size_t)C * plane + Wp));
    for (int c = 0; c < C; c++)
        for (int y = 0; y < S; y++) memcpy(xp + c * plane + (size_t)(y + d) * Wp + d, x + ((size_t)c * S + y) * S, sizeof(float) * S);
    for (int y = 0; y < S; y++)
        for (int xx = 0; xx < Wp; xx++)
            for (int k = 0; k < K; k++) dyt[((size_t)y * Wp + xx) * K + k] = xx < S ? dy[((size_t)k * S + y) * S + xx] : 0.0f;
    for (size_t q = 0; q < P; q++) rows[q] = dyt + q * K;
    for (int t = 0; t < 9; t++) {
        size_t off = (size_t)(t / 3) * d * Wp + (size_t)(t % 3) * d;
        lis_gemm_cpu(C, K, (int)P, xp + off, (int)plane, rows, D, K, 0);
        for (int c = 0; c < C; c++)
            for (int k = 0; k < K; k++) dw[((size_t)k * C + c) * 9 + t] += D[(size_t)c * K + k];
    }
}

static size_t dense_ws_floats(int C, int K, int S, int d) {
    size_t Wp = S + 2 * d, P = (size_t)S * Wp, plane = (size_t)(S + 2 * d) * Wp;
    size_t rows = (P > (size_t)C ? P : (size_t)C) * sizeof(float *) / sizeof(float) + 1;
    return (size_t)C * plane + Wp + P * K + (size_t)C * K + rows;
}

lis_status lis_fewshot_trainer_init(lis_fewshot_trainer *t, lis_fewshot *net, const lis_fewshot_train_params *p) {
    memset(t, 0, sizeof *t);
    if (!net->planned) return lis_err_set("fewshot_cnn: plan the taps before training");
    if (p) t->p = *p;
    else lis_fewshot_train_params_default(&t->p);
    size_t npx = (size_t)net->img_size * net->img_size, acts = 0, maxc = 0, maxw = 0;
    size_t ws = lis_tapconv_workspace_size(&net->nc);
    for (int i = 0; i < net->n_conv; i++) {
        acts += (size_t)net->ch[i + 1] * npx;
        maxc = (size_t)net->ch[i + 1] > maxc ? (size_t)net->ch[i + 1] : maxc;
        if (i == 0) continue;
        maxc = (size_t)net->ch[i] > maxc ? (size_t)net->ch[i] : maxc;
        maxw = (size_t)net->ch[i + 1] * net->ch[i] * 9 > maxw ? (size_t)net->ch[i + 1] * net->ch[i] * 9 : maxw;
        lis_conv2d_params cp = layer_params(net, i), gp = grad_params(net, i);
        lis_nc_params nc = layer_nc(net, i);
        size_t a = lis_conv2d_workspace_size(&cp), b = lis_conv2d_workspace_size(&gp), c = lis_tapconv_workspace_size(&nc);
        size_t dd = sizeof(float) * dense_ws_floats(net->ch[i], net->ch[i + 1], net->img_size, net->dil[i]);
        c = dd > c ? dd : c;
        ws = a > ws ? a : ws;
        ws = b > ws ? b : ws;
        ws = c > ws ? c : ws;
    }
    t->m = lis_calloc(net->n_params, sizeof(float), "Adam m");
    t->v = lis_calloc(net->n_params, sizeof(float), "Adam v");
    t->grad = lis_calloc(net->n_params, sizeof(float), "gradients");
    t->acts = lis_alloc_aligned(sizeof(float) * acts, "training activations");
    t->dy = lis_alloc_aligned(sizeof(float) * maxc * npx, "output gradient");
    t->dx = lis_alloc_aligned(sizeof(float) * maxc * npx, "input gradient");
    t->wflip = lis_malloc(sizeof(float) * (maxw ? maxw : 1), "flipped weights");
    t->ws = lis_alloc_aligned(ws, "training workspace");
    t->ws_size = ws;
    if (!t->m || !t->v || !t->grad || !t->acts || !t->dy || !t->dx || !t->wflip || !t->ws) {
        lis_fewshot_trainer_free(t);
        return LIS_ERR;
    }
    return LIS_OK;
}

void lis_fewshot_trainer_free(lis_fewshot_trainer *t) {
    if (!t) return;
    free(t->m); free(t->v); free(t->grad); free(t->acts); free(t->dy); free(t->dx); free(t->wflip); free(t->ws);
    memset(t, 0, sizeof *t);
}

double lis_fewshot_lr(const lis_fewshot_trainer *t) {
    return t->p.lr * pow(t->p.gamma, (double)(t->epoch / (t->p.step_size > 0 ? t->p.step_size : 1)));
}

lis_status lis_fewshot_train_step(lis_fewshot *net, lis_fewshot_trainer *t, const float *const *maps, const uint8_t *labels,
                                  double *loss) {
    int n = net->n_conv, S = net->img_size;
    int64_t npx = (int64_t)S * S;
    for (int64_t p = 0; p < npx; p++)
        if (labels[p] >= net->n_class)
            return lis_err_set("fewshot_cnn: label %d at pixel %lld but the head has %d classes", labels[p], (long long)p, net->n_class);
    if (net->packed_version != net->weights_version) LIS_TRY(pack(net));
    /* forward, keeping every layer's output */
    float *out[LIS_FEWSHOT_MAX_CONV] = {0};
    float *a = t->acts;
    for (int i = 0; i < n; i++) { out[i] = a; a += (size_t)net->ch[i + 1] * npx; }
    lis_tapconv_cpu_packed(&net->nc, &net->pk0, maps, net->b[0], out[0], t->ws);
    for (int i = 1; i < n; i++) {
        lis_conv2d_params cp = layer_params(net, i);
        lis_conv2d_cpu_packed(&cp, &net->pk[i], out[i - 1], net->b[i], NULL, out[i], t->ws);
    }
    double l = lis_fewshot_ce(out[n - 1], labels, net->n_class, npx, t->dy);
    if (loss) *loss = l;
    /* backward */
    memset(t->grad, 0, sizeof(float) * net->n_params);
    float *gw[LIS_FEWSHOT_MAX_CONV], *gb[LIS_FEWSHOT_MAX_CONV];
    for (int i = 0; i < n; i++) { gw[i] = t->grad + (net->w[i] - net->params); gb[i] = t->grad + (net->b[i] - net->params); }
    for (int i = n - 1; i >= 0; i--) {
        int K = net->ch[i + 1], C = net->ch[i];
        for (int k = 0; k < K; k++) {
            double sb = 0;
            const float *d = t->dy + (size_t)k * npx;
            for (int64_t p = 0; p < npx; p++) sb += d[p];
            gb[i][k] = (float)sb;
        }
        if (i == 0) {
            lis_tapconv_backward_w_cpu(&net->nc, maps, t->dy, gw[0], t->ws);
            break;
        }
        const float *x = out[i - 1];
        dense_backward_w(C, K, S, net->dil[i], x, t->dy, gw[i], t->ws);
        /* dX = conv(dY, W flipped and transposed), then the LeakyReLU of layer i-1 */
        for (int k = 0; k < K; k++)
            for (int c = 0; c < C; c++)
                for (int q = 0; q < 9; q++) t->wflip[((size_t)c * K + k) * 9 + q] = net->w[i][((size_t)k * C + c) * 9 + 8 - q];
        lis_conv2d_params gp = grad_params(net, i);
        lis_conv2d_packed pk;
        LIS_TRY(lis_conv2d_pack(&pk, C, K, 3, 3, t->wflip));
        lis_conv2d_cpu_packed(&gp, &pk, t->dy, NULL, NULL, t->dx, t->ws);
        lis_conv2d_packed_free(&pk);
        for (int64_t q = 0; q < (int64_t)C * npx; q++) t->dx[q] *= x[q] > 0.0f ? 1.0f : SLOPE;
        float *tmp = t->dy; t->dy = t->dx; t->dx = tmp;
    }
    /* Adam with L2 weight decay added to the gradient (torch.optim.Adam, PyTorch 1.13) */
    t->step++;
    double lr = lis_fewshot_lr(t);
    double bc1 = 1 - pow(t->p.beta1, (double)t->step), bc2 = 1 - pow(t->p.beta2, (double)t->step);
    float step_size = (float)(lr / bc1), bc2s = (float)sqrt(bc2), b1 = (float)t->p.beta1, b2 = (float)t->p.beta2;
    float wd = (float)t->p.weight_decay, eps = (float)t->p.eps;
    for (size_t k = 0; k < net->n_params; k++) {
        float g = t->grad[k] + wd * net->params[k];
        t->m[k] = t->m[k] * b1 + (1 - b1) * g;
        t->v[k] = t->v[k] * b2 + (1 - b2) * g * g;
        float denom = sqrtf(t->v[k]) / bc2s + eps;
        net->params[k] -= step_size * t->m[k] / denom;
    }
    net->weights_version++;
    return LIS_OK;
}

/* ---- generator features ---- */

static int n_modules(const lis_sgxl *g) { return g->n_layers + 1; }

static void module_shape(const lis_sgxl *g, int m, const char **name, int *C, int *S) {
    if (m == 0) { *name = "input"; *C = g->input.C; *S = g->input.S; return; }
    *name = g->layers[m - 1].name;
    *C = g->layers[m - 1].out_ch;
    *S = g->layers[m - 1].out_size;
}

int lis_fewshot_default_taps(const lis_sgxl *g, int *modules, int max) {
    int n = 0;
    for (int m = 0; m < n_modules(g) && n < max; m += 2) modules[n++] = m;
    return n;
}

lis_status lis_fewshot_resolve_taps(const lis_fewshot *net, const lis_sgxl *g, int *modules, int *n) {
    if (!net->n_taps) { *n = lis_fewshot_default_taps(g, modules, LIS_FEWSHOT_MAX_TAPS); return LIS_OK; }
    for (int t = 0; t < net->n_taps; t++) {
        int found = -1;
        for (int m = 0; m < n_modules(g) && found < 0; m++) {
            const char *name;
            int C, S;
            module_shape(g, m, &name, &C, &S);
            if (!strcmp(name, net->tap_names[t])) found = m;
        }
        if (found < 0) return lis_err_set("the head reads generator layer '%s', which this generator does not have", net->tap_names[t]);
        modules[t] = found;
    }
    *n = net->n_taps;
    return LIS_OK;
}

lis_status lis_fewshot_tap_geometry(const lis_sgxl *g, const int *modules, int n, lis_registration reg, int out,
                                    lis_nc_params *nc) {
    memset(nc, 0, sizeof *nc);
    if (n < 1 || n > LIS_NC_MAX_MAPS) return lis_err_set("fewshot_cnn: %d taps (1..%d)", n, LIS_NC_MAX_MAPS);
    int margin = (int)((g->input.S - g->input.sampling_rate) / 2 + 0.5);
    nc->n_maps = n;
    nc->out = out;
    for (int t = 0; t < n; t++) {
        const char *name;
        int C, S;
        if (modules[t] < 0 || modules[t] >= n_modules(g)) return lis_err_set("fewshot_cnn: tap module %d does not exist", modules[t]);
        module_shape(g, modules[t], &name, &C, &S);
        nc->C[t] = C;
        nc->size[t] = S;
        int mg = reg == LIS_REG_CROPPED && S != g->img_resolution ? margin : 0;
        if (2 * mg >= S) mg = 0;
        nc->off[t] = mg;
        nc->len[t] = S - 2 * mg;
    }
    return LIS_OK;
}

static lis_status seg_tap(void *ctx, int index, const char *name, const float *x, int B, int C, int S) {
    lis_seg_gen *s = ctx;
    if (index < 0 || index >= 1024 || s->slot[index] < 0) return LIS_OK;
    int m = s->slot[index];
    size_t per = (size_t)C * S * S;
    lis_fewshot *net = s->net;
    size_t y0 = (size_t)net->ch[1] * net->img_size * net->img_size;
    for (int b = 0; b < B; b++) {
        if (s->capture) lis_nc_grid_copy(&s->nc, m, x + b * per, s->capture + b * s->grid_floats + s->grid_off[m]);
        else lis_tapconv_add_map(&net->nc, &net->pk0, m, x + b * per, s->y0 + b * y0, net->ws);
    }
    return LIS_OK;
}

void lis_seg_gen_free(lis_seg_gen *s) {
    if (!s) return;
    free(s->y0); free(s->logits); free(s->img); free(s->ws_full);
    free(s->act[0]); free(s->act[1]); free(s->conv_ws);
    memset(s, 0, sizeof *s);
}

lis_status lis_seg_gen_init(lis_seg_gen *s, lis_fewshot *net, lis_sgxl *g, int batch, lis_sgxl_runner *gpu) {
    memset(s, 0, sizeof *s);
    s->net = net;
    s->g = g;
    s->batch = batch;
    s->gpu = gpu && gpu->gc ? gpu : NULL;
    LIS_TRY(lis_fewshot_resolve_taps(net, g, s->modules, &s->n_taps));
    LIS_TRY(lis_fewshot_tap_geometry(g, s->modules, s->n_taps, net->registration, net->img_size, &s->nc));
    LIS_TRY(lis_fewshot_plan(net, &s->nc));
    for (int i = 0; i < 1024; i++) s->slot[i] = -1;
    for (int t = 0; t < s->n_taps; t++) s->slot[s->modules[t]] = t;
    if (!net->n_taps) { /* record the default list in the head */
        net->n_taps = s->n_taps;
        for (int t = 0; t < s->n_taps; t++) {
            const char *name;
            int C, S;
            module_shape(g, s->modules[t], &name, &C, &S);
            copy_name(net->tap_names[t], name);
        }
    }
    size_t off = 0;
    for (int t = 0; t < s->n_taps; t++) {
        int g2 = s->nc.len[t] <= s->nc.out ? s->nc.len[t] : s->nc.out;
        s->grid_off[t] = off;
        off += (size_t)s->nc.C[t] * g2 * g2;
    }
    s->grid_floats = off;
    size_t S2 = (size_t)net->img_size * net->img_size, R = g->img_resolution;
    s->y0 = lis_alloc_aligned(sizeof(float) * batch * net->ch[1] * S2, "first conv accumulators");
    s->logits = lis_alloc_aligned(sizeof(float) * batch * net->n_class * S2, "logits");
    size_t cws = 0;
    int maxc = 0;
    for (int i = 1; i < net->n_conv; i++) {
        lis_conv2d_params cp = layer_params(net, i);
        cp.N = batch;
        size_t w = lis_conv2d_workspace_size(&cp);
        cws = w > cws ? w : cws;
        maxc = net->ch[i] > maxc ? net->ch[i] : maxc;
    }
    s->conv_ws = lis_alloc_aligned(cws, "conv workspace");
    s->act[0] = lis_alloc_aligned(sizeof(float) * batch * maxc * S2, "activations");
    s->act[1] = lis_alloc_aligned(sizeof(float) * batch * maxc * S2, "activations");
    if (!s->conv_ws || !s->act[0] || !s->act[1]) { lis_seg_gen_free(s); return LIS_ERR; }
    s->img = lis_alloc_aligned(sizeof(float) * batch * g->img_channels * R * R, "images");
    s->ws_full = lis_malloc(sizeof(float) * batch * g->num_ws * g->w_dim, "ws");
    if (!s->y0 || !s->logits || !s->img || !s->ws_full) { lis_seg_gen_free(s); return LIS_ERR; }
    if (s->gpu) return LIS_OK; /* the CPU generator's activations are not needed */
    lis_status st = lis_sgxl_plan(g, batch);
    if (st != LIS_OK) lis_seg_gen_free(s);
    return st;
}

static lis_status run_synthesis(lis_seg_gen *s, const float *w, int B, uint8_t *u8) {
    lis_sgxl *g = s->g;
    if (B > s->batch) return lis_err_set("seg_gen: batch %d > planned %d", B, s->batch);
    for (int b = 0; b < B; b++)
        for (int k = 0; k < g->num_ws; k++)
            memcpy(s->ws_full + ((size_t)b * g->num_ws + k) * g->w_dim, w + (size_t)b * g->w_dim, sizeof(float) * g->w_dim);
    if (s->gpu) LIS_TRY(lis_sgxl_runner_synthesis(s->gpu, s->ws_full, B, s->img, seg_tap, s));
    else LIS_TRY(lis_sgxl_synthesis(g, s->ws_full, B, s->img, seg_tap, s));
    if (u8) lis_to_u8_ref(s->img, B, g->img_channels, g->img_resolution, g->img_resolution, u8); /* as w_to_img */
    return LIS_OK;
}

lis_status lis_seg_gen_predict(lis_seg_gen *s, const float *w, int B, uint8_t *labels, uint8_t *u8) {
    lis_fewshot *net = s->net;
    LIS_TRY(lis_fewshot_plan(net, &s->nc)); /* training may have planned another geometry */
    if (net->packed_version != net->weights_version) LIS_TRY(pack(net));
    size_t S2 = (size_t)net->img_size * net->img_size, y0 = (size_t)net->ch[1] * S2;
    for (int b = 0; b < B; b++) lis_tapconv_begin(&net->nc, net->b[0], s->y0 + b * y0);
    s->capture = NULL;
    LIS_TRY(run_synthesis(s, w, B, u8));
    for (int b = 0; b < B; b++) lis_tapconv_end(&net->nc, s->y0 + b * y0);
    /* layers 1.. on the whole batch (conv2d with N = B; the workspace was sized for the
     * planned batch, and a smaller N needs no more) */
    for (int i = 1; i < net->n_conv; i++) {
        lis_conv2d_params cp = layer_params(net, i);
        cp.N = B;
        float *dst = i == net->n_conv - 1 ? s->logits : s->act[i % 2];
        const float *src = i == 1 ? s->y0 : s->act[(i - 1) % 2];
        lis_conv2d_cpu_packed(&cp, &net->pk[i], src, net->b[i], NULL, dst, s->conv_ws);
    }
    for (int b = 0; b < B; b++) lis_fewshot_argmax(s->logits + b * net->n_class * S2, net->n_class, (int64_t)S2, labels + b * S2);
    return LIS_OK;
}

lis_status lis_seg_gen_capture(lis_seg_gen *s, const float *w, int B, float *grids, uint8_t *u8) {
    s->capture = grids;
    lis_status st = run_synthesis(s, w, B, u8);
    s->capture = NULL;
    return st;
}

void lis_seg_gen_grid_geometry(const lis_seg_gen *s, lis_nc_params *nc) {
    *nc = s->nc;
    for (int t = 0; t < s->n_taps; t++) {
        int g2 = s->nc.len[t] <= s->nc.out ? s->nc.len[t] : s->nc.out;
        nc->size[t] = nc->len[t] = g2;
        nc->off[t] = 0;
    }
}

void lis_seg_gen_grid_maps(const lis_seg_gen *s, const float *grids_b, const float **maps) {
    for (int t = 0; t < s->n_taps; t++) maps[t] = grids_b + s->grid_off[t];
}
