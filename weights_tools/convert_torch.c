/* convert_torch.c — `convert` readers for torch.save files (.pth / .pt), zip and legacy:
 * torchvision classifier state dicts, checkpoints wrapping one (under 'state_dict',
 * 'model', ... with a DataParallel 'module.' prefix), FewShotCNN and PUMP.
 *
 * Which dict holds the weights: the top level if all its values are tensors; else --key
 * (a dotted path, e.g. --key model.ema); else the first of state_dict, model_state_dict,
 * model, net, network, module, params, weights, ema that is a tensor dict; else the only
 * tensor dict among the top-level values. A 'module.' (or torch.compile '_orig_mod.')
 * prefix shared by every name is removed.
 *
 * Networks recognised from names and shapes (then written as their lis arch):
 *   FewShotCNN  layers.{0,2,..}.{weight,bias}, 5/7/9 3x3 convs (sizes S/M/L,
 *               spec/classifier.md §6.2)  -> "fewshot_cnn" + size, in_ch, n_class, dilations
 *   PUMP        0.weight Kx3x5x5, 3.weight (4x4 patchify), 6.fn.0.weight (depthwise 9x9),
 *               34.weight (spec/pump.md §2)  -> "pump"
 *   ResNet      conv1 + fc (convert.c's rule)  -> "resnet"
 */
#include <stdlib.h>
#include <string.h>

#include "weights_tools/convert.h"
#include "weights_tools/torch_file.h"

#define MAX_NAME 512
#define MAX_TENSORS 65536

static int is_tensor_dict(const lis_pk *d) {
    if (!d || d->type != LIS_PK_DICT || d->n == 0) return 0;
    for (size_t i = 0; i + 1 < d->n; i += 2)
        if (d->items[i]->type != LIS_PK_STR || d->items[i + 1]->type != LIS_PK_TENSOR) return 0;
    return 1;
}

static const char *describe(const lis_pk *v, char *buf, size_t cap) {
    if (v && v->type == LIS_PK_OBJECT) {
        char cn[200];
        snprintf(buf, cap, "a %s object", lis_pk_class_name(v, cn, sizeof cn));
    } else {
        snprintf(buf, cap, "a %s", v ? lis_pk_type_name(v->type) : "missing value");
    }
    return buf;
}

/* Finds the tensor dict; `where` says how (for the origin text). */
static lis_status find_state_dict(const lis_pk *root, const char *key, const char *label, const lis_pk **out, char *where,
                                  size_t cap) {
    char d[256];
    where[0] = 0;
    if (key) {
        const lis_pk *v = root;
        char path[256], *save = NULL;
        snprintf(path, sizeof path, "%s", key);
        for (char *c = strtok_r(path, ".", &save); c; c = strtok_r(NULL, ".", &save)) {
            const lis_pk *nx = lis_pk_dict_get(v, c);
            if (!nx) return lis_err_set("%s: --key %s: no entry '%s' in %s", label, key, c, describe(v, d, sizeof d));
            v = nx;
        }
        if (!is_tensor_dict(v)) return lis_err_set("%s: --key %s is %s, not a dict of tensors", label, key, describe(v, d, sizeof d));
        snprintf(where, cap, "under '%s'", key);
        *out = v;
        return LIS_OK;
    }
    if (is_tensor_dict(root)) { *out = root; return LIS_OK; }
    if (root->type == LIS_PK_OBJECT)
        return lis_err_set("%s: the file holds %s (a whole pickled module), not a state dict: re-save it with "
                           "torch.save(model.state_dict(), path)", label, describe(root, d, sizeof d));
    if (root->type != LIS_PK_DICT) return lis_err_set("%s: the file holds %s, not a state dict", label, describe(root, d, sizeof d));
    static const char *pref[] = {"state_dict", "model_state_dict", "model", "net", "network", "module", "params", "weights", "ema"};
    for (size_t i = 0; i < sizeof pref / sizeof *pref; i++) {
        const lis_pk *v = lis_pk_dict_get(root, pref[i]);
        if (is_tensor_dict(v)) {
            snprintf(where, cap, "under '%s'", pref[i]);
            *out = v;
            return LIS_OK;
        }
    }
    const lis_pk *found = NULL;
    char names[400] = "";
    size_t nfound = 0;
    for (size_t i = 0; i + 1 < root->n; i += 2)
        if (is_tensor_dict(root->items[i + 1]) && root->items[i]->type == LIS_PK_STR) {
            char k[64];
            found = root->items[i + 1];
            nfound++;
            snprintf(where, cap, "under '%s'", lis_pk_str(root->items[i], k, sizeof k));
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s'%s'", l ? ", " : "", k);
        }
    if (nfound == 1) { *out = found; return LIS_OK; }
    if (nfound > 1) return lis_err_set("%s: several state dicts (%s): choose one with --key NAME", label, names);
    return lis_err_set("%s: a checkpoint dict without a dict of tensors (looked for state_dict, model, ...; use --key NAME)", label);
}

static int all_have_prefix(const lis_pk *d, const char *pre) {
    size_t n = strlen(pre);
    for (size_t i = 0; i + 1 < d->n; i += 2)
        if (d->items[i]->len < n || memcmp(d->items[i]->p, pre, n)) return 0;
    return 1;
}

static const lis_sd_entry *find4(const lis_statedict *sd, const char *name) {
    const lis_sd_entry *e = lis_sd_find(sd, name);
    return e && e->t.ndim == 4 ? e : NULL;
}

/* FewShotCNN: exactly 2k tensors layers.{0,2,..,2k-2}.{weight,bias}, 3x3 convs, k = 5/7/9 */
static int recognise_fewshot(lis_statedict *sd) {
    static const struct { const char *size; int n; int dil[9]; } sizes[] = {
        {"S", 5, {1, 2, 1, 2, 1}}, {"M", 7, {1, 2, 4, 1, 2, 4, 1}}, {"L", 9, {1, 2, 4, 8, 1, 2, 4, 8, 1}}};
    for (size_t s = 0; s < 3; s++) {
        int k = sizes[s].n, ok = sd->n == (size_t)(2 * k);
        int64_t prev = -1;
        for (int i = 0; i < k && ok; i++) {
            char wn[64], bn[64];
            snprintf(wn, sizeof wn, "layers.%d.weight", 2 * i);
            snprintf(bn, sizeof bn, "layers.%d.bias", 2 * i);
            const lis_sd_entry *w = find4(sd, wn), *b = lis_sd_find(sd, bn);
            ok = w && b && w->t.shape[2] == 3 && w->t.shape[3] == 3 && b->t.ndim == 1 && b->t.shape[0] == w->t.shape[0] &&
                 (prev < 0 || w->t.shape[1] == prev);
            if (ok) prev = w->t.shape[0];
        }
        if (!ok) continue;
        lis_sbuf c = {0};
        lis_sbuf_printf(&c, "{\"size\":\"%s\",\"in_ch\":%lld,\"n_class\":%lld,\"dilations\":[", sizes[s].size,
                        (long long)lis_sd_find(sd, "layers.0.weight")->t.shape[1], (long long)prev);
        for (int i = 0; i < k; i++) lis_sbuf_printf(&c, i ? ",%d" : "%d", sizes[s].dil[i]);
        lis_sbuf_printf(&c, "],\"negative_slope\":0.2}");
        sd->config = c.oom ? NULL : lis_json_parse(c.s, c.len);
        lis_sbuf_free(&c);
        snprintf(sd->arch, sizeof sd->arch, "fewshot_cnn");
        return 1;
    }
    return 0;
}

/* PUMP-stytrf ConvMixer (Sequential indices as names) */
static int recognise_pump(lis_statedict *sd) {
    const lis_sd_entry *c0 = find4(sd, "0.weight"), *c3 = find4(sd, "3.weight"), *dw = find4(sd, "6.fn.0.weight"),
                       *last = find4(sd, "34.weight");
    if (!c0 || !c3 || !dw || !last || c0->t.shape[1] != 3 || c0->t.shape[2] != 5 || c3->t.shape[2] != 4 ||
        c3->t.shape[3] != 4 || dw->t.shape[1] != 1 || dw->t.shape[2] != 9)
        return 0;
    lis_sbuf c = {0};
    lis_sbuf_printf(&c, "{\"desc\":\"PUMP-stytrf\",\"stem_channels\":%lld,\"channels\":%lld,\"out_channels\":%lld}",
                    (long long)c0->t.shape[0], (long long)c3->t.shape[0], (long long)last->t.shape[0] / 4);
    sd->config = c.oom ? NULL : lis_json_parse(c.s, c.len);
    lis_sbuf_free(&c);
    snprintf(sd->arch, sizeof sd->arch, "pump");
    return 1;
}

static void release_torch(void *p) {
    lis_torch_close(p);
    free(p);
}

static lis_status read_torch(const char *path, const lis_convert_opts *o, lis_statedict *sd) {
    lis_torch_file *tf = calloc(1, sizeof *tf);
    if (!tf) return lis_err_set("out of memory");
    lis_status s = lis_torch_open(tf, path);
    if (s != LIS_OK) { release_torch(tf); return s; }
    if ((s = lis_sd_keep(sd, tf, release_torch)) != LIS_OK) { release_torch(tf); return s; }
    /* --key defaults to G_ema (a snapshot's network); for torch files it means "not given" */
    const char *key = o->key && *o->key && strcmp(o->key, "G_ema") ? o->key : NULL;
    const lis_pk *dict = NULL;
    char where[128];
    LIS_TRY(find_state_dict(tf->root, key, path, &dict, where, sizeof where));
    if (dict->n / 2 > MAX_TENSORS) return lis_err_set("%s: more than %d tensors: refused", path, MAX_TENSORS);
    const char *strip = all_have_prefix(dict, "module.") ? "module." : all_have_prefix(dict, "_orig_mod.") ? "_orig_mod." : "";
    size_t sl = strlen(strip);
    for (size_t i = 0; i + 1 < dict->n; i += 2) {
        const lis_pk *k = dict->items[i];
        if (k->len - sl >= MAX_NAME || k->len == sl || memchr(k->p, 0, k->len))
            return lis_err_set("%s: a tensor name is empty, too long or holds a NUL byte", path);
        char name[MAX_NAME];
        memcpy(name, k->p + sl, k->len - sl);
        name[k->len - sl] = 0;
        lis_tensor t;
        if ((s = lis_pk_tensor(dict->items[i + 1], &t, name)) != LIS_OK) { lis_err_prefix("%s", path); return s; }
        if ((s = lis_sd_add(sd, name, &t)) != LIS_OK) {
            lis_tensor_free(&t);
            lis_err_prefix("%s", path);
            return s;
        }
    }
    if (!recognise_fewshot(sd)) recognise_pump(sd);
    if (snprintf(sd->origin, sizeof sd->origin, "torch.save %s file %s%s%s%s%s%s", tf->legacy ? "legacy" : "zip", path,
             tf->legacy ? "" : " (archive '", tf->legacy ? "" : tf->archive, tf->legacy ? "" : "')", where[0] ? ", state dict " : "",
             where) >= (int)sizeof sd->origin) {
        /* a long path cuts the origin text: harmless */
    }
    if (sl) {
        size_t l = strlen(sd->origin);
        if (snprintf(sd->origin + l, sizeof sd->origin - l, ", prefix '%s' removed", strip) >= (int)(sizeof sd->origin - l)) {
            /* cut, harmless */
        }
    }
    return LIS_OK;
}

int lis_convert_detect_torch_zip(const char *path, const unsigned char *h, size_t n) {
    (void)path;
    return n >= 4 && !memcmp(h, "PK\3\4", 4);
}

int lis_convert_detect_torch_legacy(const char *path, const unsigned char *h, size_t n) {
    (void)path;
    return lis_torch_is_legacy(h, n);
}

lis_status lis_convert_read_torch(const char *path, const lis_convert_opts *o, lis_statedict *sd) {
    return read_torch(path, o, sd);
}
