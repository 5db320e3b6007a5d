/* sgxl_config.c — see sgxl_config.h. */
#include "weights_tools/sgxl_config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* First of the alternative keys that is present. */
static const lis_json *pick(const lis_json *o, const char *const *keys) {
    for (; *keys; keys++) {
        const lis_json *v = lis_json_get(o, *keys);
        if (v && v->type != LIS_JSON_NULL) return v;
    }
    return NULL;
}

/* An integer, or the first element of a [h, w] list (square maps only). */
static lis_status as_int(const lis_json *v, int64_t *out, const char *what, const char *label) {
    if (v && v->type == LIS_JSON_ARR && v->len >= 1) {
        if (v->len == 2 && lis_json_is_int(v->items[1]) && v->items[0]->num != v->items[1]->num)
            return lis_err_set("%s: %s is %gx%g; only square feature maps are supported", label, what, v->items[0]->num,
                               v->items[1]->num);
        v = v->items[0];
    }
    if (v && v->type == LIS_JSON_BOOL) { *out = (int64_t)v->num; return LIS_OK; }
    if (!lis_json_is_int(v)) return lis_err_set("%s: %s is missing or not an integer", label, what);
    *out = (int64_t)v->num;
    return LIS_OK;
}

static int64_t dim_of(const lis_statedict *sd, const char *name, int d) {
    const lis_sd_entry *e = lis_sd_find(sd, name);
    return e && e->t.ndim > d ? e->t.shape[d] : -1;
}

static const char *const K_IN_CH[] = {"in_ch", "in_channels", NULL}, *const K_OUT_CH[] = {"out_ch", "out_channels", NULL},
                         *const K_IN_SIZE[] = {"in_size", NULL}, *const K_OUT_SIZE[] = {"out_size", NULL},
                         *const K_K[] = {"k", "conv_kernel", NULL}, *const K_UP[] = {"up", "up_factor", NULL},
                         *const K_DOWN[] = {"down", "down_factor", NULL}, *const K_TORGB[] = {"torgb", "is_torgb", NULL},
                         *const K_CLAMP[] = {"clamp", "conv_clamp", NULL},
                         *const K_ICH[] = {"channels", "out_ch", "out_channels", NULL},
                         *const K_ISIZE[] = {"size", "out_size", NULL},
                         *const K_ISR[] = {"sampling_rate", "out_sr", "out_sampling_rate", NULL},
                         *const K_IBW[] = {"bandwidth", NULL};

static lis_status layer_json(lis_sbuf *o, const lis_json *l, const char *name, const char *label) {
    int64_t v[7];
    const char *const *keys[7] = {K_IN_CH, K_OUT_CH, K_IN_SIZE, K_OUT_SIZE, K_K, K_UP, K_DOWN};
    static const char *names[7] = {"in_ch", "out_ch", "in_size", "out_size", "k", "up", "down"};
    char what[128];
    for (int i = 0; i < 7; i++) {
        snprintf(what, sizeof what, "layer %s: '%s'", name, names[i]);
        LIS_TRY(as_int(pick(l, keys[i]), &v[i], what, label));
    }
    const lis_json *pad = lis_json_get(l, "padding"), *tg = pick(l, K_TORGB), *cl = pick(l, K_CLAMP);
    if (!pad || pad->type != LIS_JSON_ARR || pad->len != 4) return lis_err_set("%s: layer %s: 'padding' must list 4 integers", label, name);
    int64_t torgb;
    snprintf(what, sizeof what, "layer %s: 'torgb'", name);
    LIS_TRY(as_int(tg, &torgb, what, label));
    lis_sbuf_printf(o, "{\"name\":");
    lis_sbuf_json_str(o, name);
    for (int i = 0; i < 7; i++) lis_sbuf_printf(o, ",\"%s\":%lld", names[i], (long long)v[i]);
    lis_sbuf_printf(o, ",\"padding\":[");
    for (int i = 0; i < 4; i++) {
        if (!lis_json_is_int(pad->items[i])) return lis_err_set("%s: layer %s: bad 'padding'", label, name);
        lis_sbuf_printf(o, i ? ",%lld" : "%lld", (long long)pad->items[i]->num);
    }
    lis_sbuf_printf(o, "],\"torgb\":%s", torgb ? "true" : "false");
    if (cl && cl->type == LIS_JSON_NUM) lis_sbuf_printf(o, ",\"clamp\":%.17g", cl->num);
    lis_sbuf_printf(o, "}");
    return LIS_OK;
}

lis_status lis_sgxl_config_normalize(const lis_json *src, const lis_statedict *sd, lis_sbuf *out, const char *label) {
    if (!src || src->type != LIS_JSON_OBJ) return lis_err_set("%s: the generator configuration must be a JSON object", label);
    const lis_json *syn = lis_json_get(src, "synthesis");
    const lis_json *layers = lis_json_get(src, "layers");
    if (!layers || layers->type != LIS_JSON_ARR) layers = lis_json_get(syn, "layers");
    if (!layers || layers->type != LIS_JSON_ARR || layers->len < 2)
        return lis_err_set("%s: the configuration has no per-layer table ('layers' or 'synthesis.layers')", label);
    /* the input layer: an entry named "input", or a separate "input" object */
    const lis_json *input = lis_json_get(src, "input");
    size_t first = 0;
    const lis_json *l0n = lis_json_get(layers->items[0], "name");
    if (l0n && l0n->type == LIS_JSON_STR && !strcmp(l0n->str, "input")) { input = layers->items[0]; first = 1; }
    if (!input) return lis_err_set("%s: the configuration does not describe the input layer", label);
    int64_t ich, isz;
    LIS_TRY(as_int(pick(input, K_ICH), &ich, "input layer 'channels'", label));
    LIS_TRY(as_int(pick(input, K_ISIZE), &isz, "input layer 'size'", label));
    const lis_json *isr = pick(input, K_ISR), *ibw = pick(input, K_IBW);
    if (!isr || isr->type != LIS_JSON_NUM || !ibw || ibw->type != LIS_JSON_NUM)
        return lis_err_set("%s: input layer needs 'sampling_rate' and 'bandwidth'", label);

    const lis_json *map = lis_json_get(src, "mapping");
    double lr = 0.01;
    int64_t nmap = -1;
    LIS_TRY(lis_json_double_opt(map, "lr_multiplier", &lr, label));
    LIS_TRY(lis_json_int_opt(map, "num_layers", &nmap, label));
    if (nmap < 0) for (nmap = 0; nmap < 8; nmap++) {
        char n[64];
        snprintf(n, sizeof n, "mapping.fc%lld.weight", (long long)nmap);
        if (!lis_sd_find(sd, n)) break;
    }
    double oscale = 0.25;
    const lis_json *os = lis_json_get(syn, "output_scale");
    if (!os) os = lis_json_get(src, "output_scale");
    if (os && os->type == LIS_JSON_NUM) oscale = os->num;

    /* top-level sizes: from the config, else from the tensors */
    int64_t c_dim = dim_of(sd, "mapping.embed.weight", 0), w_dim = dim_of(sd, "mapping.w_avg", 1);
    if (w_dim < 0) w_dim = dim_of(sd, "mapping.w_avg", 0);
    int64_t z_dim = dim_of(sd, "mapping.fc0.weight", 1) - (c_dim > 0 ? dim_of(sd, "mapping.embed_proj.weight", 0) : 0);
    int64_t num_ws = (int64_t)(layers->len - first) + 1;
    const lis_json *last = layers->items[layers->len - 1];
    int64_t res = -1, ch = -1;
    as_int(pick(last, K_OUT_SIZE), &res, "", label);
    as_int(pick(last, K_OUT_CH), &ch, "", label);
    struct { const char *key; int64_t *v; } top[] = {{"z_dim", &z_dim}, {"w_dim", &w_dim}, {"c_dim", &c_dim},
                                                    {"num_ws", &num_ws}, {"img_resolution", &res}, {"img_channels", &ch}};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++) {
        const lis_json *v = lis_json_get(src, top[i].key);
        if (lis_json_is_int(v)) *top[i].v = (int64_t)v->num;
        if (*top[i].v < 0) {
            if (!strcmp(top[i].key, "c_dim")) *top[i].v = 0;
            else return lis_err_set("%s: cannot determine '%s' from the configuration or the tensors", label, top[i].key);
        }
    }

    lis_sbuf_printf(out, "{\"arch\":\"stylegan_xl\",\"format_version\":1");
    for (size_t i = 0; i < sizeof top / sizeof *top; i++) lis_sbuf_printf(out, ",\"%s\":%lld", top[i].key, (long long)*top[i].v);
    lis_sbuf_printf(out, ",\"output_scale\":%.17g,\"mapping\":{\"num_layers\":%lld,\"lr_multiplier\":%.17g}", oscale,
                    (long long)nmap, lr);
    lis_sbuf_printf(out, ",\"input\":{\"channels\":%lld,\"size\":%lld,\"sampling_rate\":%.17g,\"bandwidth\":%.17g}",
                    (long long)ich, (long long)isz, isr->num, ibw->num);
    lis_sbuf_printf(out, ",\"layers\":[");
    for (size_t i = first; i < layers->len; i++) {
        const lis_json *nm = lis_json_get(layers->items[i], "name");
        if (!nm || nm->type != LIS_JSON_STR) return lis_err_set("%s: layer %zu has no name", label, i);
        if (i > first) lis_sbuf_printf(out, ",");
        LIS_TRY(layer_json(out, layers->items[i], nm->str, label));
    }
    lis_sbuf_printf(out, "]");
    const lis_json *cn = lis_json_get(src, "class_names");
    if (cn && cn->type == LIS_JSON_ARR) {
        lis_sbuf_printf(out, ",\"class_names\":");
        lis_json_write(out, cn);
    }
    lis_sbuf_printf(out, "}");
    return out->oom ? lis_err_set("out of memory") : LIS_OK;
}
