/* resnet.c — torchvision ResNet inference (see resnet.h).
 *
 * Block forward, with X the block input, Y its output, T1/T2 temporaries:
 *   Bottleneck:  [ds: Y = bn(conv1x1/s(X))]  T1 = relu(bn1(conv1(X)))      1x1
 *                T2 = relu(bn2(conv2(T1)))   3x3, stride s (torchvision v1.5)
 *                Y  = relu(bn3(conv3(T2)) + (ds ? Y : X))
 *   BasicBlock:  [ds as above]  T1 = relu(bn1(conv1(X)))  3x3, stride s
 *                Y  = relu(bn2(conv2(T1)) + (ds ? Y : X))
 * The residual is added in the conv epilogue (kernels/conv2d.c reads res before it
 * writes y, so the downsample output can be both), then X and Y swap.
 */
#include "nets/resnet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/linear.h"
#include "kernels/pool.h"
#include "nets/imagenet_classes.h"
#include "runtime/threads.h"

/* ---- weight lookup with a record of which tensors were used ---- */

typedef struct {
    const lis_safetensors *st;
    unsigned char *used;
    const char *label;
} wsrc;

static const lis_st_entry *wfind(const wsrc *s, const char *name) { return lis_st_find(s->st, name); }

static lis_status wget(wsrc *s, const char *name, int ndim, const int64_t *shape, const float **out) {
    LIS_TRY(lis_st_get_f32(s->st, name, ndim, shape, out));
    s->used[lis_st_find(s->st, name) - s->st->entries] = 1;
    return LIS_OK;
}

lis_status lis_resnet_fold_bn(const float *w, const float *g, const float *beta, const float *mean, const float *var,
                              int cout, size_t per, double eps, const char *bname, float *wf, float *bf) {
    for (int o = 0; o < cout; o++) {
        const double ve = (double)var[o] + eps;
        if (!(ve > 0.0) || !isfinite(ve))
            return lis_err_set("'%s.running_var'[%d] = %g: running_var + eps must be positive", bname, o, (double)var[o]);
        const double a = (double)g[o] / sqrt(ve);
        for (size_t i = 0; i < per; i++) wf[(size_t)o * per + i] = (float)((double)w[(size_t)o * per + i] * a);
        bf[o] = (float)((double)beta[o] - (double)mean[o] * a);
    }
    return LIS_OK;
}

lis_status lis_resnet_read_folded(const lis_safetensors *st, const lis_resnet_conv *hc, const char *cname,
                                  const char *bname, double eps, float **wf, float **bf) {
    const int64_t wshape[4] = {hc->cout, hc->cin, hc->k, hc->k}, bshape[1] = {hc->cout};
    const float *w, *g, *beta, *mean, *var;
    char n[256];
    *wf = *bf = NULL;
    LIS_TRY(lis_st_get_f32(st, cname, 4, wshape, &w));
    snprintf(n, sizeof n, "%s.weight", bname);       LIS_TRY(lis_st_get_f32(st, n, 1, bshape, &g));
    snprintf(n, sizeof n, "%s.bias", bname);         LIS_TRY(lis_st_get_f32(st, n, 1, bshape, &beta));
    snprintf(n, sizeof n, "%s.running_mean", bname); LIS_TRY(lis_st_get_f32(st, n, 1, bshape, &mean));
    snprintf(n, sizeof n, "%s.running_var", bname);  LIS_TRY(lis_st_get_f32(st, n, 1, bshape, &var));
    const size_t per = (size_t)hc->cin * hc->k * hc->k;
    *wf = lis_malloc(sizeof(float) * per * (size_t)hc->cout, "folded conv weights");
    *bf = lis_malloc(sizeof(float) * (size_t)hc->cout, "folded conv bias");
    lis_status s = *wf && *bf ? lis_resnet_fold_bn(w, g, beta, mean, var, hc->cout, per, eps, bname, *wf, *bf) : LIS_ERR;
    if (s != LIS_OK) {
        free(*wf);
        free(*bf);
        *wf = *bf = NULL;
    }
    return s;
}

void lis_resnet_conv_names(int stage, int block, int c, char *cname, char *bname, size_t cap) {
    if (stage == 0) {
        snprintf(cname, cap, "conv1.weight");
        snprintf(bname, cap, "bn1");
    } else if (c == 3) {
        snprintf(cname, cap, "layer%d.%d.downsample.0.weight", stage, block);
        snprintf(bname, cap, "layer%d.%d.downsample.1", stage, block);
    } else {
        snprintf(cname, cap, "layer%d.%d.conv%d.weight", stage, block, c + 1);
        snprintf(bname, cap, "layer%d.%d.bn%d", stage, block, c + 1);
    }
}

/* Loads conv `cname` ([cout, cin, k, k]; cout < 0 = any) and BatchNorm `bname`.*,
 * folds the BN in float64 and packs the result. */
static lis_status load_conv_bn(wsrc *s, lis_resnet_conv *cv, const char *cname, const char *bname, int cin, int cout,
                               int k, int stride, int pad, double eps) {
    const float *w, *g, *beta, *mean, *var;
    int64_t wshape[4] = {cout, cin, k, k};
    LIS_TRY(wget(s, cname, 4, wshape, &w));
    cout = (int)lis_st_find(s->st, cname)->t.shape[0];
    if (cout < 1) return lis_err_set("%s: tensor '%s' has no output channels", s->label, cname);
    int64_t bshape[1] = {cout};
    char n[256];
    snprintf(n, sizeof n, "%s.weight", bname);       LIS_TRY(wget(s, n, 1, bshape, &g));
    snprintf(n, sizeof n, "%s.bias", bname);         LIS_TRY(wget(s, n, 1, bshape, &beta));
    snprintf(n, sizeof n, "%s.running_mean", bname); LIS_TRY(wget(s, n, 1, bshape, &mean));
    snprintf(n, sizeof n, "%s.running_var", bname);  LIS_TRY(wget(s, n, 1, bshape, &var));
    cv->cin = cin; cv->cout = cout; cv->k = k; cv->stride = stride; cv->pad = pad;
    size_t per = (size_t)cin * k * k;
    float *wf = lis_malloc(sizeof(float) * per * (size_t)cout, "folded conv weights");
    cv->b = lis_malloc(sizeof(float) * (size_t)cout, "folded conv bias");
    if (!wf || !cv->b) { free(wf); return LIS_ERR; }
    lis_status fs = lis_resnet_fold_bn(w, g, beta, mean, var, cout, per, eps, bname, wf, cv->b);
    if (fs != LIS_OK) {
        free(wf);
        lis_err_prefix("%s", s->label);
        return fs;
    }
    /* 3x3 stride-1 convs (conv2 of every Bottleneck but the three strided ones): Winograd,
     * 2.25x fewer multiplies */
    cv->use_wino = k == 3 && stride == 1 && lis_wino_wanted(cin);
    lis_status st = cv->use_wino ? lis_wino_pack(&cv->wino, cout, cin, wf) : lis_conv2d_pack(&cv->pk, cout, cin, k, k, wf);
    free(wf);
    return st;
}

static void conv_free(lis_resnet_conv *cv) {
    free(cv->b);
    lis_conv2d_packed_free(&cv->pk);
    lis_wino_packed_free(&cv->wino);
    memset(cv, 0, sizeof *cv);
}

/* ---- metadata config ---- */

static lis_status parse_floats3(const lis_json *pp, const char *key, float out[3], const char *label) {
    const lis_json *a = lis_json_get(pp, key);
    if (!a) return LIS_OK;
    if (a->type != LIS_JSON_ARR || a->len != 3)
        return lis_err_set("%s: config.preprocessing.%s must be a list of 3 numbers", label, key);
    for (int c = 0; c < 3; c++) {
        if (a->items[c]->type != LIS_JSON_NUM)
            return lis_err_set("%s: config.preprocessing.%s must be a list of 3 numbers", label, key);
        out[c] = (float)a->items[c]->num;
    }
    return LIS_OK;
}

/* Reads the optional metadata config: batchnorm_eps and preprocessing. *cfg_out keeps
 * the parsed JSON (for class_names, read once the class count is known). */
static lis_status parse_config(const lis_safetensors *st, const char *label, double *eps, lis_preprocess_cfg *pre,
                               lis_json **cfg_out) {
    *cfg_out = NULL;
    const char *text = lis_st_meta(st, "config");
    if (!text) return LIS_OK;
    lis_json *j = lis_json_parse(text, strlen(text));
    if (!j) { lis_err_prefix("%s: metadata 'config'", label); return LIS_ERR; }
    *cfg_out = j;
    if (j->type != LIS_JSON_OBJ) return lis_err_set("%s: metadata 'config' is not a JSON object", label);
    LIS_TRY(lis_json_double_opt(j, "batchnorm_eps", eps, label));
    if (!(*eps >= 0.0) || *eps > 1.0) return lis_err_set("%s: config.batchnorm_eps %g out of range", label, *eps);
    const lis_json *pp = lis_json_get(j, "preprocessing");
    if (pp) {
        int64_t resize = pre->resize, crop = pre->crop_h;
        if (pp->type != LIS_JSON_OBJ) return lis_err_set("%s: config.preprocessing is not an object", label);
        LIS_TRY(lis_json_int_opt(pp, "resize", &resize, label));
        LIS_TRY(lis_json_int_opt(pp, "center_crop", &crop, label));
        if (resize < 0 || resize > 65536 || crop < 1 || crop > 65536)
            return lis_err_set("%s: config.preprocessing resize %lld / center_crop %lld out of range", label,
                               (long long)resize, (long long)crop);
        pre->resize = (int)resize;
        pre->crop_h = pre->crop_w = (int)crop;
        LIS_TRY(parse_floats3(pp, "normalize_mean", pre->mean, label));
        LIS_TRY(parse_floats3(pp, "normalize_std", pre->std, label));
        for (int c = 0; c < 3; c++)
            if (!(pre->std[c] > 0.0f)) return lis_err_set("%s: config.preprocessing.normalize_std must be positive", label);
    }
    return LIS_OK;
}

lis_status lis_resnet_read_preprocess(const lis_safetensors *st, lis_preprocess_cfg *pre) {
    double eps = 1e-5;
    lis_json *cfg = NULL;
    lis_preprocess_cfg_default(pre);
    lis_status s = parse_config(st, st->path ? st->path : "weights", &eps, pre, &cfg);
    lis_json_free(cfg);
    return s;
}

static lis_status take_class_names(lis_resnet *net, const lis_json *cfg) {
    const lis_json *cn = cfg ? lis_json_get(cfg, "class_names") : NULL;
    if (!cn) return LIS_OK;
    if (cn->type != LIS_JSON_ARR || (int64_t)cn->len != net->num_classes)
        return lis_err_set("%s: config.class_names must list %d names (fc.weight has %d classes)", net->label,
                           net->num_classes, net->num_classes);
    net->class_names = lis_calloc(cn->len, sizeof(char *), "class names");
    if (!net->class_names) return LIS_ERR;
    for (size_t i = 0; i < cn->len; i++) {
        if (cn->items[i]->type != LIS_JSON_STR)
            return lis_err_set("%s: config.class_names[%zu] is not a string", net->label, i);
        net->class_names[i] = strdup(cn->items[i]->str);
        if (!net->class_names[i]) return lis_err_set("out of memory");
    }
    return LIS_OK;
}

/* ---- load ---- */

static lis_status load_arch(lis_resnet *net, wsrc *s) {
    const lis_st_entry *c1 = wfind(s, "conv1.weight");
    if (!c1) return lis_err_set("%s: missing tensor 'conv1.weight' (expected a torchvision ResNet state dict)", s->label);
    if (c1->t.ndim != 4 || c1->t.shape[2] != c1->t.shape[3] || c1->t.shape[2] % 2 == 0 || c1->t.shape[1] < 1) {
        char b[128];
        return lis_err_set("%s: tensor 'conv1.weight' is %s, expected stem x in_ch x k x k with odd k", s->label,
                           lis_shape_str(c1->t.ndim, c1->t.shape, b, sizeof b));
    }
    net->in_ch = (int)c1->t.shape[1];
    int k = (int)c1->t.shape[2];
    /* torchvision: conv1 7x7 stride 2 padding 3 */
    LIS_TRY(load_conv_bn(s, &net->stem, "conv1.weight", "bn1", net->in_ch, -1, k, 2, k / 2, net->bn_eps));
    net->stem_ch = net->stem.cout;
    net->bottleneck = wfind(s, "layer1.0.conv3.weight") != NULL;

    int total = 0;
    for (int L = 1; L <= 4; L++) {
        int b = 0;
        char n[128];
        for (;; b++) {
            snprintf(n, sizeof n, "layer%d.%d.conv1.weight", L, b);
            if (!wfind(s, n)) break;
        }
        if (b == 0) return lis_err_set("%s: missing tensor 'layer%d.0.conv1.weight' (a ResNet has 4 stages)", s->label, L);
        net->nblocks[L - 1] = b;
        total += b;
    }
    net->blocks = lis_calloc((size_t)total, sizeof *net->blocks, "resnet blocks");
    if (!net->blocks) return LIS_ERR;
    net->total_blocks = total;

    int inplanes = net->stem_ch, bi = 0;
    for (int L = 1; L <= 4; L++) {
        for (int b = 0; b < net->nblocks[L - 1]; b++, bi++) {
            lis_resnet_block *blk = &net->blocks[bi];
            blk->stride = (L > 1 && b == 0) ? 2 : 1;
            char cn[128], bn[128];
            int cout;
            if (net->bottleneck) {
                blk->nconv = 3;
                lis_resnet_conv_names(L, b, 0, cn, bn, sizeof cn);
                LIS_TRY(load_conv_bn(s, &blk->conv[0], cn, bn, inplanes, -1, 1, 1, 0, net->bn_eps));
                int width = blk->conv[0].cout;
                lis_resnet_conv_names(L, b, 1, cn, bn, sizeof cn);
                const lis_st_entry *e2 = wfind(s, cn);
                if (e2 && e2->t.ndim == 4 && e2->t.shape[0] == width && e2->t.shape[1] != width)
                    return lis_err_set("%s: tensor '%s' is %lldx%lldx3x3: grouped convolutions (ResNeXt) are not supported",
                                       s->label, cn, (long long)e2->t.shape[0], (long long)e2->t.shape[1]);
                LIS_TRY(load_conv_bn(s, &blk->conv[1], cn, bn, width, width, 3, blk->stride, 1, net->bn_eps));
                lis_resnet_conv_names(L, b, 2, cn, bn, sizeof cn);
                LIS_TRY(load_conv_bn(s, &blk->conv[2], cn, bn, width, -1, 1, 1, 0, net->bn_eps));
                cout = blk->conv[2].cout;
            } else {
                blk->nconv = 2;
                lis_resnet_conv_names(L, b, 0, cn, bn, sizeof cn);
                LIS_TRY(load_conv_bn(s, &blk->conv[0], cn, bn, inplanes, -1, 3, blk->stride, 1, net->bn_eps));
                cout = blk->conv[0].cout;
                lis_resnet_conv_names(L, b, 1, cn, bn, sizeof cn);
                LIS_TRY(load_conv_bn(s, &blk->conv[1], cn, bn, cout, cout, 3, 1, 1, net->bn_eps));
            }
            lis_resnet_conv_names(L, b, 3, cn, bn, sizeof cn);
            if (wfind(s, cn)) {
                blk->has_ds = 1;
                LIS_TRY(load_conv_bn(s, &blk->ds, cn, bn, inplanes, cout, 1, blk->stride, 0, net->bn_eps));
            } else if (blk->stride != 1 || inplanes != cout) {
                return lis_err_set("%s: missing tensor '%s' (block layer%d.%d changes %s and needs a downsample)", s->label,
                                   cn, L, b, blk->stride != 1 ? "resolution" : "channels");
            }
            inplanes = cout;
        }
        net->stage_ch[L - 1] = inplanes;
    }
    net->feat_dim = inplanes;

    const lis_st_entry *fe = wfind(s, "fc.weight");
    if (!fe) return lis_err_set("%s: missing tensor 'fc.weight'", s->label);
    int64_t fshape[2] = {-1, net->feat_dim};
    const float *fw, *fb;
    LIS_TRY(wget(s, "fc.weight", 2, fshape, &fw));
    net->num_classes = (int)fe->t.shape[0];
    if (net->num_classes < 1) return lis_err_set("%s: 'fc.weight' has no classes", s->label);
    int64_t bshape[1] = {net->num_classes};
    LIS_TRY(wget(s, "fc.bias", 1, bshape, &fb));
    size_t nw = (size_t)net->num_classes * net->feat_dim;
    net->fc_w = lis_alloc_aligned(nw * sizeof(float), "fc weights");
    net->fc_b = lis_malloc((size_t)net->num_classes * sizeof(float), "fc bias");
    if (!net->fc_w || !net->fc_b) return LIS_ERR;
    memcpy(net->fc_w, fw, nw * sizeof(float));
    memcpy(net->fc_b, fb, (size_t)net->num_classes * sizeof(float));

    for (size_t i = 0; i < s->st->n; i++) {
        if (s->used[i]) continue;
        const char *name = s->st->entries[i].name;
        size_t ln = strlen(name), lt = strlen(".num_batches_tracked");
        if (ln >= lt && strcmp(name + ln - lt, ".num_batches_tracked") == 0) continue;
        return lis_err_set("%s: unexpected tensor '%s' (not used by a torchvision ResNet with %s blocks %d-%d-%d-%d)",
                           s->label, name, net->bottleneck ? "Bottleneck" : "Basic", net->nblocks[0], net->nblocks[1],
                           net->nblocks[2], net->nblocks[3]);
    }
    return LIS_OK;
}

lis_status lis_resnet_load(lis_resnet *net, const lis_safetensors *st) {
    memset(net, 0, sizeof *net);
    snprintf(net->label, sizeof net->label, "%s", st->path ? st->path : "weights");
    net->bn_eps = 1e-5;
    lis_preprocess_cfg_default(&net->pre);
    lis_json *cfg = NULL;
    wsrc s = {st, lis_calloc(st->n ? st->n : 1, 1, "tensor flags"), net->label};
    lis_status rc = s.used ? LIS_OK : LIS_ERR;
    if (rc == LIS_OK) rc = parse_config(st, net->label, &net->bn_eps, &net->pre, &cfg);
    if (rc == LIS_OK) rc = load_arch(net, &s);
    if (rc == LIS_OK) rc = take_class_names(net, cfg);
    lis_json_free(cfg);
    free(s.used);
    if (rc != LIS_OK) lis_resnet_free(net);
    return rc;
}

lis_status lis_resnet_load_file(lis_resnet *net, const char *path) {
    lis_safetensors st;
    memset(net, 0, sizeof *net);
    LIS_TRY(lis_st_open(&st, path));
    lis_status rc = lis_resnet_load(net, &st);
    lis_st_close(&st);
    return rc;
}

void lis_resnet_free(lis_resnet *net) {
    if (!net) return;
    conv_free(&net->stem);
    for (int i = 0; net->blocks && i < net->total_blocks; i++) {
        for (int c = 0; c < 3; c++) conv_free(&net->blocks[i].conv[c]);
        conv_free(&net->blocks[i].ds);
    }
    free(net->blocks);
    free(net->fc_w);
    free(net->fc_b);
    for (int i = 0; net->class_names && i < net->num_classes; i++) free(net->class_names[i]);
    free(net->class_names);
    free(net->arena);
    memset(net, 0, sizeof *net);
}

/* ---- shapes and plan ---- */

static lis_conv2d_params conv_params(const lis_resnet_conv *cv, int N, int H, int W, lis_act act) {
    lis_conv2d_params p = {.N = N, .C = cv->cin, .H = H, .W = W, .K = cv->cout, .R = cv->k, .S = cv->k,
                           .stride_h = cv->stride, .stride_w = cv->stride, .pad_h = cv->pad, .pad_w = cv->pad,
                           .dil_h = 1, .dil_w = 1, .act = act, .slope = 0.0f};
    return p;
}

static int conv_out(int in, const lis_resnet_conv *cv) { return (in + 2 * cv->pad - cv->k) / cv->stride + 1; }

/* Walks the net for an H x W input, reporting each conv (with its input size) and the
 * stage outputs. Returns 0 if some map becomes empty. */
typedef void (*conv_visit)(void *ctx, const lis_resnet_conv *cv, int H, int W);

static int walk(const lis_resnet *net, int H, int W, conv_visit visit, void *ctx, int st_h[LIS_RESNET_NSTAGES],
                int st_w[LIS_RESNET_NSTAGES], size_t *max_xy, size_t *max_t1, size_t *max_t2) {
    size_t mxy = 0, mt1 = 0, mt2 = 0;
    if (H + 2 * net->stem.pad < net->stem.k || W + 2 * net->stem.pad < net->stem.k) return 0;
    if (visit) visit(ctx, &net->stem, H, W);
    int h = conv_out(H, &net->stem), w = conv_out(W, &net->stem);
    st_h[LIS_RESNET_STAGE_BN1] = h; st_w[LIS_RESNET_STAGE_BN1] = w;
    mxy = (size_t)net->stem_ch * h * w;
    if (h + 2 < 3 || w + 2 < 3) return 0;
    h = (h + 2 - 3) / 2 + 1; w = (w + 2 - 3) / 2 + 1; /* maxpool 3x3/2 pad 1 */
    st_h[LIS_RESNET_STAGE_MAXPOOL] = h; st_w[LIS_RESNET_STAGE_MAXPOOL] = w;
    if ((size_t)net->stem_ch * h * w > mxy) mxy = (size_t)net->stem_ch * h * w;
    int bi = 0;
    for (int L = 0; L < 4; L++) {
        for (int b = 0; b < net->nblocks[L]; b++, bi++) {
            const lis_resnet_block *blk = &net->blocks[bi];
            if (blk->has_ds && visit) visit(ctx, &blk->ds, h, w);
            int ch = h, cw = w;
            for (int c = 0; c < blk->nconv; c++) {
                const lis_resnet_conv *cv = &blk->conv[c];
                if (ch + 2 * cv->pad < cv->k || cw + 2 * cv->pad < cv->k) return 0;
                if (visit) visit(ctx, cv, ch, cw);
                ch = conv_out(ch, cv); cw = conv_out(cw, cv);
                size_t sz = (size_t)cv->cout * ch * cw;
                if (c == 0 && sz > mt1) mt1 = sz;
                if (c == 1 && blk->nconv == 3 && sz > mt2) mt2 = sz;
            }
            h = ch; w = cw;
            size_t so = (size_t)blk->conv[blk->nconv - 1].cout * h * w;
            if (so > mxy) mxy = so;
        }
        st_h[LIS_RESNET_STAGE_LAYER1 + L] = h; st_w[LIS_RESNET_STAGE_LAYER1 + L] = w;
    }
    if (max_xy) { *max_xy = mxy; *max_t1 = mt1; *max_t2 = mt2; }
    return 1;
}

int lis_resnet_stage_shape(const lis_resnet *net, int stage, int H, int W, int *C, int *h, int *w) {
    int sh[LIS_RESNET_NSTAGES], sw[LIS_RESNET_NSTAGES];
    if (stage < 0 || stage >= LIS_RESNET_NSTAGES || !walk(net, H, W, NULL, NULL, sh, sw, NULL, NULL, NULL)) return 0;
    *C = stage <= LIS_RESNET_STAGE_MAXPOOL ? net->stem_ch : net->stage_ch[stage - LIS_RESNET_STAGE_LAYER1];
    *h = sh[stage];
    *w = sw[stage];
    return 1;
}

typedef struct {
    int N;
    size_t ws;
    double macs;
} plan_acc;

size_t lis_resnet_conv_workspace(const lis_resnet_conv *cv, int N, int H, int W) {
    lis_conv2d_params p = conv_params(cv, N, H, W, LIS_ACT_NONE);
    return cv->use_wino ? lis_wino_workspace_size(&cv->wino, N, H, W, cv->pad, cv->pad) : lis_conv2d_workspace_size(&p);
}

void lis_resnet_conv_run(const lis_resnet_conv *cv, int N, int H, int W, const float *x, const float *res, float *y,
                         lis_act act, void *ws) {
    if (cv->use_wino) {
        const int Ho = H + 2 * cv->pad - 2, Wo = W + 2 * cv->pad - 2;
        lis_wino_io io = {N, H, W, cv->pad, cv->pad, x, (int64_t)cv->cin * H * W, y, (int64_t)cv->cout * Ho * Wo, Wo,
                          (int64_t)Ho * Wo, cv->b, res, act, 0.0f};
        lis_wino_conv(&cv->wino, &io, ws);
        return;
    }
    lis_conv2d_params p = conv_params(cv, N, H, W, act);
    lis_conv2d_cpu_packed(&p, &cv->pk, x, cv->b, res, y, ws);
}

static void visit_ws(void *ctx, const lis_resnet_conv *cv, int H, int W) {
    plan_acc *a = ctx;
    size_t b = lis_resnet_conv_workspace(cv, a->N, H, W);
    if (b > a->ws) a->ws = b;
    int Ho = conv_out(H, cv), Wo = conv_out(W, cv);
    a->macs += (double)cv->cout * cv->cin * cv->k * cv->k * Ho * Wo;
}

double lis_resnet_macs(const lis_resnet *net, int H, int W) {
    int sh[LIS_RESNET_NSTAGES], sw[LIS_RESNET_NSTAGES];
    plan_acc a = {1, 0, 0.0};
    if (!walk(net, H, W, visit_ws, &a, sh, sw, NULL, NULL, NULL)) return 0.0;
    return a.macs + (double)net->num_classes * net->feat_dim;
}

lis_status lis_resnet_plan(lis_resnet *net, int N, int H, int W) {
    if (N < 1 || H < 1 || W < 1) return lis_err_set("resnet: bad batch %d or input size %dx%d", N, H, W);
    if (net->arena && N <= net->plan_n && H == net->plan_h && W == net->plan_w) return LIS_OK;
    int sh[LIS_RESNET_NSTAGES], sw[LIS_RESNET_NSTAGES];
    size_t mxy, mt1, mt2;
    plan_acc a = {N, 0, 0.0};
    if (!walk(net, H, W, visit_ws, &a, sh, sw, &mxy, &mt1, &mt2))
        return lis_err_set("%s: input %dx%d is too small for this ResNet", net->label, H, W);
    /* one arena: X, Y (block ping-pong), T1, T2, pooled, conv workspace; 64-byte aligned pieces */
    size_t fl[5] = {mxy * N, mxy * N, mt1 * N, (mt2 ? mt2 : 1) * N, (size_t)net->feat_dim * N};
    size_t off[6], total = 0;
    for (int i = 0; i < 5; i++) {
        off[i] = total;
        total += (fl[i] * sizeof(float) + 63) & ~(size_t)63;
    }
    off[5] = total;
    total += a.ws;
    free(net->arena);
    net->arena = lis_alloc_aligned(total, "resnet activations");
    net->plan_n = net->plan_h = net->plan_w = 0;
    if (!net->arena) return LIS_ERR;
    char *base = (char *)net->arena;
    net->buf_x = (float *)(base + off[0]);
    net->buf_y = (float *)(base + off[1]);
    net->buf_t1 = (float *)(base + off[2]);
    net->buf_t2 = (float *)(base + off[3]);
    net->pooled = (float *)(base + off[4]);
    net->ws = base + off[5];
    net->arena_bytes = total;
    net->plan_n = N; net->plan_h = H; net->plan_w = W;
    return LIS_OK;
}

/* ---- forward ---- */

static void run_conv(const lis_resnet *net, const lis_resnet_conv *cv, int N, int H, int W, const float *x,
                     const float *res, float *y, lis_act act) {
    LIS_ASSERT(lis_resnet_conv_workspace(cv, N, H, W) <= net->arena_bytes - (size_t)((char *)net->ws - (char *)net->arena));
    lis_resnet_conv_run(cv, N, H, W, x, res, y, act, net->ws);
}

/* Copies a stage output of images [i0, i0+n) to its place in the caller's buffer. */
static void tap(const lis_resnet_taps *taps, int stage, int64_t i0, const float *src, size_t per_image, int n) {
    if (taps && taps->stage[stage])
        memcpy(taps->stage[stage] + (size_t)i0 * per_image, src, (size_t)n * per_image * sizeof(float));
}

/* One sub-batch of N <= plan_n images; i0 = index of its first image (for the taps). */
static void forward_part(lis_resnet *net, int N, int H, int W, const float *x, float *r, float *logits,
                         const lis_resnet_taps *taps, int64_t i0) {
    float *X = net->buf_x, *Y = net->buf_y;
    /* stem: Y = bn1(conv1(x)); X = maxpool(relu(Y)) */
    run_conv(net, &net->stem, N, H, W, x, NULL, Y, LIS_ACT_NONE);
    int h = conv_out(H, &net->stem), w = conv_out(W, &net->stem);
    tap(taps, LIS_RESNET_STAGE_BN1, i0, Y, (size_t)net->stem_ch * h * w, N);
    lis_maxpool_params mp = {N, net->stem_ch, h, w, 3, 2, 1, 1};
    lis_maxpool_cpu(&mp, Y, X);
    lis_maxpool_out_shape(&mp, &h, &w);
    tap(taps, LIS_RESNET_STAGE_MAXPOOL, i0, X, (size_t)net->stem_ch * h * w, N);

    int bi = 0;
    for (int L = 0; L < 4; L++) {
        for (int b = 0; b < net->nblocks[L]; b++, bi++) {
            const lis_resnet_block *blk = &net->blocks[bi];
            if (blk->has_ds) run_conv(net, &blk->ds, N, h, w, X, NULL, Y, LIS_ACT_NONE);
            const float *idn = blk->has_ds ? Y : X;
            const lis_resnet_conv *c0 = &blk->conv[0], *c1 = &blk->conv[1];
            run_conv(net, c0, N, h, w, X, NULL, net->buf_t1, LIS_ACT_RELU);
            int h1 = conv_out(h, c0), w1 = conv_out(w, c0);
            if (blk->nconv == 3) {
                run_conv(net, c1, N, h1, w1, net->buf_t1, NULL, net->buf_t2, LIS_ACT_RELU);
                int h2 = conv_out(h1, c1), w2 = conv_out(w1, c1);
                run_conv(net, &blk->conv[2], N, h2, w2, net->buf_t2, idn, Y, LIS_ACT_RELU);
                h = conv_out(h2, &blk->conv[2]); w = conv_out(w2, &blk->conv[2]);
            } else {
                run_conv(net, c1, N, h1, w1, net->buf_t1, idn, Y, LIS_ACT_RELU);
                h = conv_out(h1, c1); w = conv_out(w1, c1);
            }
            float *t = X; X = Y; Y = t;
        }
        tap(taps, LIS_RESNET_STAGE_LAYER1 + L, i0, X, (size_t)net->stage_ch[L] * h * w, N);
    }
    float *pooled = r ? r : net->pooled;
    lis_avgpool_global_cpu(N, net->feat_dim, h, w, X, pooled);
    if (logits) lis_linear_cpu(N, net->feat_dim, net->num_classes, pooled, net->fc_w, net->fc_b, logits);
}

lis_status lis_resnet_forward(lis_resnet *net, int N, int H, int W, const float *x, float *r, float *logits,
                              const lis_resnet_taps *taps) {
    if (N < 1) return lis_err_set("resnet: batch %d", N);
    int sb = net->sub_batch > 0 ? net->sub_batch : LIS_RESNET_SUB_BATCH;
    LIS_TRY(lis_resnet_plan(net, N < sb ? N : sb, H, W));
    size_t per = (size_t)net->in_ch * H * W;
    for (int64_t i0 = 0; i0 < N; i0 += sb) {
        int n = (int)(N - i0 < sb ? N - i0 : sb);
        forward_part(net, n, H, W, x + (size_t)i0 * per, r ? r + (size_t)i0 * net->feat_dim : NULL,
                     logits ? logits + (size_t)i0 * net->num_classes : NULL, taps, i0);
    }
    return LIS_OK;
}

const char *lis_resnet_class_name(const lis_resnet *net, int idx) {
    if (idx < 0 || idx >= net->num_classes) return NULL;
    if (net->class_names) return net->class_names[idx];
    if (net->num_classes == LIS_IMAGENET_NUM_CLASSES) return lis_imagenet_classes[idx];
    return NULL;
}
