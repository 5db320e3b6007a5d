/* convert_sgxl_pkl.c — `convert` reader for StyleGAN-XL network snapshots
 * (imagenet256.pkl, network-snapshot-*.pkl; spec/stylegan_xl.md §5).
 *
 * The snapshot is a dill pickle of {'G', 'D', 'G_ema', 'augment_pipe',
 * 'training_set_kwargs', 'progress'}; modules are persistent objects
 * (_reconstruct_persistent_obj(meta): meta['class_name'], meta['state'] = the module's
 * __dict__) or plain torch modules (NEWOBJ + BUILD(state)). Tensors are parameters and
 * buffers rebuilt from legacy storage blobs (torch.storage._load_from_bytes).
 *
 * The network is the top-level value of --key (default G_ema; never "the first
 * generator", since the official file holds a separate G before it). Its state dict is
 * what `module.state_dict()` yields: for each module, its _parameters, then its _buffers
 * (minus _non_persistent_buffers_set), then its _modules recursively, None entries skipped.
 * The configuration is read from the pickled attributes, not recomputed: every plain
 * attribute of the generator, mapping (+ lr_multiplier = fc0.bias_gain) and synthesis,
 * and a `layers` table: {"name": "input", channels, size, sampling_rate, bandwidth, ...}
 * followed by one entry per name of synthesis.layer_names with all of that layer's plain
 * attributes (in_channels, out_channels, in_size, out_size, up_factor, down_factor,
 * padding, is_torgb, conv_kernel, conv_clamp, sampling rates, cutoffs, taps, ...).
 * weights_tools/sgxl_config.c turns that into the canonical generator config.
 */
#include <stdlib.h>
#include <string.h>

#include "weights_tools/convert.h"
#include "weights_tools/pickle.h"
#include "weights_tools/torch_file.h"

#define MAX_NAME 512
#define MAX_ATTR_ELEMS 256 /* numpy attributes up to this size go into the config */
#define MAX_MODULES 100000 /* module visits: shared submodules repeat, as in state_dict() */
#define MAX_TENSORS 65536

static lis_status walk_module(lis_statedict *sd, const lis_pk *mod, char *name, size_t len, int depth, size_t *visits,
                              const char *label) {
    if (depth > 64) return lis_err_set("%s: modules nested deeper than 64 levels", label);
    if (++*visits > MAX_MODULES || sd->n > MAX_TENSORS)
        return lis_err_set("%s: more than %d modules or %d tensors: refused", label, MAX_MODULES, MAX_TENSORS);
    const lis_pk *st = lis_pk_obj_state(mod);
    if (!st) return lis_err_set("%s: module '%s' has no state dict", label, len ? name : "(top)");
    const lis_pk *params = lis_pk_dict_get(st, "_parameters"), *bufs = lis_pk_dict_get(st, "_buffers"),
                 *mods = lis_pk_dict_get(st, "_modules"), *np = lis_pk_dict_get(st, "_non_persistent_buffers_set");
    const lis_pk *groups[2] = {params, bufs};
    for (int g = 0; g < 2; g++) {
        const lis_pk *d = groups[g];
        if (!d) continue;
        if (d->type != LIS_PK_DICT) return lis_err_set("%s: module '%s': _parameters/_buffers is a %s", label, name, lis_pk_type_name(d->type));
        for (size_t i = 0; i + 1 < d->n; i += 2) {
            const lis_pk *k = d->items[i], *v = d->items[i + 1];
            if (v->type == LIS_PK_NONE) continue;
            if (k->type != LIS_PK_STR || k->len == 0 || memchr(k->p, 0, k->len) || len + k->len + 1 >= MAX_NAME)
                return lis_err_set("%s: module '%s': bad tensor name", label, name);
            int skip = 0;
            for (size_t j = 0; g == 1 && np && (np->type == LIS_PK_SET || np->type == LIS_PK_LIST) && j < np->n; j++)
                if (np->items[j]->type == LIS_PK_STR && np->items[j]->len == k->len && !memcmp(np->items[j]->p, k->p, k->len)) skip = 1;
            if (skip) continue;
            memcpy(name + len, k->p, k->len);
            name[len + k->len] = 0;
            lis_tensor t;
            lis_status s = lis_pk_tensor(v, &t, name);
            if (s != LIS_OK) { lis_err_prefix("%s", label); return s; }
            s = lis_sd_add(sd, name, &t);
            if (s != LIS_OK) { lis_tensor_free(&t); lis_err_prefix("%s", label); return s; }
        }
    }
    if (mods && mods->type == LIS_PK_DICT)
        for (size_t i = 0; i + 1 < mods->n; i += 2) {
            const lis_pk *k = mods->items[i], *v = mods->items[i + 1];
            if (v->type == LIS_PK_NONE) continue;
            if (k->type != LIS_PK_STR || k->len == 0 || memchr(k->p, 0, k->len) || len + k->len + 2 >= MAX_NAME)
                return lis_err_set("%s: module '%s': bad child name", label, name);
            if (v->type != LIS_PK_OBJECT) {
                char kn[128];
                return lis_err_set("%s: module '%s%s' is a %s", label, name, lis_pk_str(k, kn, sizeof kn), lis_pk_type_name(v->type));
            }
            memcpy(name + len, k->p, k->len);
            name[len + k->len] = '.';
            name[len + k->len + 1] = 0;
            LIS_TRY(walk_module(sd, v, name, len + k->len + 1, depth + 1, visits, label));
            name[len] = 0;
        }
    return LIS_OK;
}

static const lis_pk *child(const lis_pk *mod, const char *name) {
    return lis_pk_dict_get(lis_pk_dict_get(lis_pk_obj_state(mod), "_modules"), name);
}

/* the plain public attributes of a module: ,"key":value ... (`skip`: a key already written) */
static void attrs_json(lis_sbuf *b, const lis_pk *mod, const char *skip) {
    const lis_pk *st = lis_pk_obj_state(mod);
    for (size_t i = 0; st && i + 1 < st->n; i += 2) {
        const lis_pk *k = st->items[i], *v = st->items[i + 1];
        if (k->type != LIS_PK_STR || !k->len || k->p[0] == '_' || lis_pk_is_str(k, "training")) continue;
        if (lis_pk_is_str(k, "class") || lis_pk_is_str(k, "name") || (skip && lis_pk_is_str(k, skip))) continue;
        if (!lis_pk_is_plain(k, 0) || !lis_pk_is_plain(v, MAX_ATTR_ELEMS) || v->type == LIS_PK_NONE) continue;
        lis_sbuf_printf(b, ",");
        lis_pk_to_json(b, k, 0);
        lis_sbuf_printf(b, ":");
        lis_pk_to_json(b, v, MAX_ATTR_ELEMS);
    }
}

static lis_status generator_config(lis_statedict *sd, const lis_pk *G, const char *label) {
    const lis_pk *map = child(G, "mapping"), *syn = child(G, "synthesis");
    const lis_pk *names = lis_pk_dict_get(lis_pk_obj_state(syn), "layer_names");
    const lis_pk *input = child(syn, "input");
    if (!names || names->type != LIS_PK_LIST || !input)
        return lis_err_set("%s: the synthesis network has no layer_names list or input layer", label);
    char cn[128];
    lis_sbuf b = {0};
    lis_sbuf_printf(&b, "{\"generator_class\":");
    lis_sbuf_json_str(&b, lis_pk_class_name(G, cn, sizeof cn));
    attrs_json(&b, G, "generator_class");
    lis_sbuf_printf(&b, ",\"mapping\":{\"class\":");
    lis_sbuf_json_str(&b, lis_pk_class_name(map, cn, sizeof cn));
    double lr;
    if (lis_pk_as_double(lis_pk_dict_get(lis_pk_obj_state(child(map, "fc0")), "bias_gain"), &lr))
        lis_sbuf_printf(&b, ",\"lr_multiplier\":%.17g", lr);
    attrs_json(&b, map, "lr_multiplier");
    lis_sbuf_printf(&b, "},\"synthesis\":{\"class\":");
    lis_sbuf_json_str(&b, lis_pk_class_name(syn, cn, sizeof cn));
    attrs_json(&b, syn, NULL);
    lis_sbuf_printf(&b, "},\"layers\":[{\"name\":\"input\"");
    attrs_json(&b, input, NULL);
    lis_sbuf_printf(&b, "}");
    for (size_t i = 0; i < names->n; i++) {
        char ln[128];
        const lis_pk *L = names->items[i]->type == LIS_PK_STR ? child(syn, lis_pk_str(names->items[i], ln, sizeof ln)) : NULL;
        if (!L || L->type != LIS_PK_OBJECT || !lis_pk_is_plain(names->items[i], 0)) {
            lis_sbuf_free(&b);
            return lis_err_set("%s: synthesis.layer_names[%zu] names no module of the synthesis network", label, i);
        }
        lis_sbuf_printf(&b, ",{\"name\":");
        lis_pk_to_json(&b, names->items[i], 0);
        attrs_json(&b, L, NULL);
        lis_sbuf_printf(&b, "}");
    }
    lis_sbuf_printf(&b, "]}");
    if (b.oom) { lis_sbuf_free(&b); return lis_err_set("out of memory"); }
    sd->config = lis_json_parse(b.s, b.len);
    lis_sbuf_free(&b);
    if (!sd->config) { lis_err_prefix("%s: configuration read from the pickle", label); return LIS_ERR; }
    return LIS_OK;
}

static void release_pk_file(void *p) {
    lis_pk_file_close(p);
    free(p);
}

static lis_status read_sgxl(const char *path, const lis_convert_opts *o, lis_statedict *sd) {
    lis_pk_file *f = calloc(1, sizeof *f);
    if (!f) return lis_err_set("out of memory");
    lis_pk_opts po = {.label = path, .load_from_bytes = lis_torch_load_from_bytes};
    lis_status s = lis_pk_file_open(f, path, &po);
    if (s != LIS_OK) { free(f); return s; }
    if ((s = lis_sd_keep(sd, f, release_pk_file)) != LIS_OK) { release_pk_file(f); return s; }
    const lis_pk *top = f->root;
    const char *key = o->key && *o->key ? o->key : "G_ema";
    char cn[160], keys[400] = "";
    if (top->type != LIS_PK_DICT)
        return lis_err_set("%s: not a StyleGAN-XL network snapshot: the pickle holds a %s%s%s", path, lis_pk_type_name(top->type),
                           top->type == LIS_PK_OBJECT ? " " : "", lis_pk_class_name(top, cn, sizeof cn));
    for (size_t i = 0; i + 1 < top->n; i += 2)
        if (top->items[i + 1]->type == LIS_PK_OBJECT && top->items[i]->type == LIS_PK_STR) {
            char k[64];
            size_t l = strlen(keys);
            snprintf(keys + l, sizeof keys - l, "%s%s", l ? ", " : "", lis_pk_str(top->items[i], k, sizeof k));
        }
    const lis_pk *net = lis_pk_dict_get(top, key);
    if (!net)
        return lis_err_set("%s: the snapshot has no '%s' (networks in it: %s); choose one with --key", path, key,
                           keys[0] ? keys : "none: not a network snapshot");
    if (net->type != LIS_PK_OBJECT)
        return lis_err_set("%s: '%s' is %s%s in this snapshot, not a network (networks in it: %s)", path, key,
                           net->type == LIS_PK_NONE ? "" : "a ", net->type == LIS_PK_NONE ? "None" : lis_pk_type_name(net->type),
                           keys[0] ? keys : "none");
    char name[MAX_NAME] = "";
    size_t visits = 0;
    LIS_TRY(walk_module(sd, net, name, 0, 0, &visits, path));
    if (sd->n == 0) return lis_err_set("%s: '%s' holds no tensors", path, key);
    lis_pk_class_name(net, cn, sizeof cn);
    if (child(net, "mapping") && child(net, "synthesis")) {
        LIS_TRY(generator_config(sd, net, path));
        snprintf(sd->arch, sizeof sd->arch, "stylegan_xl");
    } else {
        /* another network of the snapshot (D, augment_pipe): its tensors and attributes */
        lis_sbuf b = {0};
        lis_sbuf_printf(&b, "{\"class\":");
        lis_sbuf_json_str(&b, cn);
        attrs_json(&b, net, NULL);
        lis_sbuf_printf(&b, "}");
        sd->config = b.oom ? NULL : lis_json_parse(b.s, b.len);
        lis_sbuf_free(&b);
        snprintf(sd->arch, sizeof sd->arch, "torch_module");
    }
    /* a long path cuts the origin text: harmless */
    if (snprintf(sd->origin, sizeof sd->origin, "StyleGAN-XL network snapshot %s: '%s' (%.100s); networks in the file: %.200s", path,
                 key, cn, keys) >= (int)sizeof sd->origin) {
    }
    return LIS_OK;
}

static int is_pickle(const unsigned char *h, size_t n) { return n >= 2 && h[0] == 0x80 && h[1] >= 2 && h[1] <= 5; }

int lis_convert_detect_sgxl_pkl(const char *path, const unsigned char *h, size_t n) {
    (void)path;
    return is_pickle(h, n) && !lis_torch_is_legacy(h, n) && !memmem(h, n, "sklearn", 7);
}

lis_status lis_convert_read_sgxl_pkl(const char *path, const lis_convert_opts *o, lis_statedict *sd) {
    return read_sgxl(path, o, sd);
}
