/* pump.c — PUMP descriptor network, matcher and the motion path (see pump.h).
 *
 * Network forward for one H x W image (h = H/4, w = W/4), buffers of the plan:
 *   x0 (3 x H x W)  normalised input
 *   a0 (c0 x H x W) = BN2(ReLU(conv0(x0) + b))         conv2d epilogue ReLU, chan_affine BN
 *   X  (D x h x w)  = BN5(ReLU(patchify(a0) + b))
 *   per block:  T = X + BN(ReLU(dw(X) + b))           one dwconv call (residual fused)
 *               X = BN(ReLU(pw(T) + b))
 *   S  (4out x h x w) = head(X) + b
 *   descriptors = L2norm(bilinear_x2(shuffle(S)))      kernels/pump_head.h (full or grid)
 */
#include "nets/pump.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/chan_affine.h"
#include "kernels/densify.h"
#include "kernels/dwconv.h"
#include "kernels/pump_filter.h"
#include "kernels/pump_head.h"
#include "kernels/pump_recip.h"
#include "nets/pump_cuda.h"
#include "runtime/json.h"
#include "runtime/threads.h"
#include "weights_tools/synth_init.h"

#define BN_EPS 1e-5

/* ---- built-in synth-init manifest ---- */

static int synth_s(int64_t fan_in) { return (int)ceil(log2((double)fan_in) / 2.0) - 1; }

static void bn_lines(lis_sbuf *b, const char *name, int n) {
    lis_sbuf_printf(b, "%s.weight positive - %d\n%s.bias uniform 5 %d\n%s.running_mean uniform 5 %d\n"
                       "%s.running_var positive - %d\n", name, n, name, n, name, n, name, n);
}

char *lis_pump_synth_manifest(void) {
    const int c0 = 128, k0 = 5, D = 512, P = 4, depth = 7, kd = 9, out = 128;
    lis_sbuf b = {0};
    lis_sbuf_printf(&b, "# PUMP-stytrf synth-init (refs/pump rule)\n");
    lis_sbuf_printf(&b, "0.weight uniform %d %dx3x%dx%d\n0.bias uniform 4 %d\n", synth_s(3 * k0 * k0), c0, k0, k0, c0);
    bn_lines(&b, "2", c0);
    lis_sbuf_printf(&b, "3.weight uniform %d %dx%dx%dx%d\n3.bias uniform 4 %d\n", synth_s((int64_t)c0 * P * P), D, c0, P,
                    P, D);
    bn_lines(&b, "5", D);
    for (int k = 0; k < depth; k++) {
        char n[32];
        lis_sbuf_printf(&b, "%d.fn.0.weight uniform %d %dx1x%dx%d\n%d.fn.0.bias uniform 4 %d\n", 6 + 4 * k,
                        synth_s(kd * kd), D, kd, kd, 6 + 4 * k, D);
        snprintf(n, sizeof n, "%d.fn.2", 6 + 4 * k);
        bn_lines(&b, n, D);
        lis_sbuf_printf(&b, "%d.weight uniform %d %dx%dx1x1\n%d.bias uniform 4 %d\n", 7 + 4 * k, synth_s(D), D, D,
                        7 + 4 * k, D);
        snprintf(n, sizeof n, "%d", 9 + 4 * k);
        bn_lines(&b, n, D);
    }
    lis_sbuf_printf(&b, "%d.weight uniform %d %dx%dx1x1\n%d.bias uniform 4 %d\n", 6 + 4 * depth, synth_s(D), 4 * out, D,
                    6 + 4 * depth, 4 * out);
    if (b.oom) { lis_sbuf_free(&b); return NULL; }
    return b.s;
}

/* ---- weight loading ---- */

typedef struct {
    const lis_safetensors *st;
    unsigned char *used;
    const char *label;
} wsrc;

static lis_status wget(wsrc *s, const char *name, int ndim, const int64_t *shape, const float **out) {
    if (!lis_st_find(s->st, name))
        return lis_err_set("%s: missing tensor '%s' (expected a PUMP-stytrf ConvMixer state dict, spec/pump.md s.2)",
                           s->label, name);
    LIS_TRY(lis_st_get_f32(s->st, name, ndim, shape, out));
    s->used[lis_st_find(s->st, name) - s->st->entries] = 1;
    return LIS_OK;
}

static float *copy_f(const float *src, size_t n) {
    float *d = lis_malloc(sizeof(float) * n, "pump weights");
    if (d) memcpy(d, src, sizeof(float) * n);
    return d;
}

/* conv `name`.weight [K, C, R, S] packed, `name`.bias copied */
static lis_status load_conv(wsrc *s, const char *name, int K, int C, int R, lis_conv2d_packed *pk, float **bias) {
    char n[96];
    const float *w, *b;
    const int64_t ws[4] = {K, C, R, R}, bs[1] = {K};
    snprintf(n, sizeof n, "%s.weight", name);
    LIS_TRY(wget(s, n, 4, ws, &w));
    snprintf(n, sizeof n, "%s.bias", name);
    LIS_TRY(wget(s, n, 1, bs, &b));
    if (!(*bias = copy_f(b, (size_t)K))) return LIS_ERR;
    return lis_conv2d_pack(pk, K, C, R, R, w);
}

/* BatchNorm `name`.{weight,bias,running_mean,running_var} -> scale, shift */
static lis_status load_bn(wsrc *s, const char *name, int C, float **scale, float **shift) {
    char n[96];
    const float *g, *b, *m, *v;
    const int64_t sh[1] = {C};
    snprintf(n, sizeof n, "%s.weight", name);       LIS_TRY(wget(s, n, 1, sh, &g));
    snprintf(n, sizeof n, "%s.bias", name);         LIS_TRY(wget(s, n, 1, sh, &b));
    snprintf(n, sizeof n, "%s.running_mean", name); LIS_TRY(wget(s, n, 1, sh, &m));
    snprintf(n, sizeof n, "%s.running_var", name);  LIS_TRY(wget(s, n, 1, sh, &v));
    *scale = lis_malloc(sizeof(float) * (size_t)C, "pump BN");
    *shift = lis_malloc(sizeof(float) * (size_t)C, "pump BN");
    if (!*scale || !*shift) return LIS_ERR;
    char what[128];
    snprintf(what, sizeof what, "%s: '%s'", s->label, name);
    return lis_chan_affine_fold(C, g, b, m, v, BN_EPS, *scale, *shift, what);
}

static const lis_st_entry *find(const lis_safetensors *st, const char *name) { return lis_st_find(st, name); }

static lis_status load_arch(lis_pump_net *net, wsrc *s) {
    const lis_st_entry *e0 = find(s->st, "0.weight"), *e3 = find(s->st, "3.weight");
    if (!e0 || !e3)
        return lis_err_set("%s: missing tensor '%s' (expected a PUMP ConvMixer state dict, spec/pump.md s.2)", s->label,
                           e0 ? "3.weight" : "0.weight");
    char buf[128];
    if (e0->t.ndim != 4 || e0->t.shape[1] != 3 || e0->t.shape[2] != e0->t.shape[3] || e0->t.shape[2] % 2 == 0)
        return lis_err_set("%s: '0.weight' is %s, expected c0 x 3 x k x k with odd k", s->label,
                           lis_shape_str(e0->t.ndim, e0->t.shape, buf, sizeof buf));
    net->c0 = (int)e0->t.shape[0];
    net->k0 = (int)e0->t.shape[2];
    if (e3->t.ndim != 4 || e3->t.shape[1] != net->c0 || e3->t.shape[2] != e3->t.shape[3])
        return lis_err_set("%s: '3.weight' is %s, expected D x %d x P x P", s->label,
                           lis_shape_str(e3->t.ndim, e3->t.shape, buf, sizeof buf), net->c0);
    net->D = (int)e3->t.shape[0];
    net->P = (int)e3->t.shape[2];
    if (net->P != 4)
        return lis_err_set("%s: patch size %d: the PUMP head (PixelShuffle 2 + Upsample 2) needs 4", s->label, net->P);
    int depth = 0;
    for (;; depth++) {
        snprintf(buf, sizeof buf, "%d.fn.0.weight", 6 + 4 * depth);
        if (!find(s->st, buf)) break;
        if (depth == LIS_PUMP_MAX_DEPTH) return lis_err_set("%s: more than %d ConvMixer blocks", s->label, LIS_PUMP_MAX_DEPTH);
    }
    if (depth == 0) return lis_err_set("%s: missing tensor '6.fn.0.weight' (no ConvMixer block)", s->label);
    net->depth = depth;
    const lis_st_entry *ed = find(s->st, "6.fn.0.weight");
    if (ed->t.ndim != 4 || ed->t.shape[0] != net->D || ed->t.shape[1] != 1 || ed->t.shape[2] != ed->t.shape[3] ||
        ed->t.shape[2] % 2 == 0)
        return lis_err_set("%s: '6.fn.0.weight' is %s, expected %d x 1 x k x k with odd k", s->label,
                           lis_shape_str(ed->t.ndim, ed->t.shape, buf, sizeof buf), net->D);
    net->kd = (int)ed->t.shape[2];
    snprintf(buf, sizeof buf, "%d.weight", 6 + 4 * depth);
    const lis_st_entry *eh = find(s->st, buf);
    if (!eh) return lis_err_set("%s: missing tensor '%s' (the head conv after %d blocks)", s->label, buf, depth);
    if (eh->t.ndim != 4 || eh->t.shape[0] % 4 != 0 || eh->t.shape[0] < 4)
        return lis_err_set("%s: '%s' must be 4*out x %d x 1 x 1", s->label, buf, net->D);
    net->out_dim = (int)(eh->t.shape[0] / 4);

    LIS_TRY(load_conv(s, "0", net->c0, 3, net->k0, &net->conv0, &net->b0));
    LIS_TRY(load_bn(s, "2", net->c0, &net->s0, &net->t0));
    LIS_TRY(load_conv(s, "3", net->D, net->c0, net->P, &net->patch, &net->b1));
    LIS_TRY(load_bn(s, "5", net->D, &net->s1, &net->t1));
    for (int k = 0; k < depth; k++) {
        lis_pump_block *b = &net->blk[k];
        char n[64];
        const float *w, *bb;
        const int64_t ws[4] = {net->D, 1, net->kd, net->kd}, bs[1] = {net->D};
        snprintf(n, sizeof n, "%d.fn.0.weight", 6 + 4 * k);
        LIS_TRY(wget(s, n, 4, ws, &w));
        snprintf(n, sizeof n, "%d.fn.0.bias", 6 + 4 * k);
        LIS_TRY(wget(s, n, 1, bs, &bb));
        if (!(b->dw_w = copy_f(w, (size_t)net->D * net->kd * net->kd)) || !(b->dw_b = copy_f(bb, (size_t)net->D)))
            return LIS_ERR;
        snprintf(n, sizeof n, "%d.fn.2", 6 + 4 * k);
        LIS_TRY(load_bn(s, n, net->D, &b->dw_s, &b->dw_t));
        snprintf(n, sizeof n, "%d", 7 + 4 * k);
        LIS_TRY(load_conv(s, n, net->D, net->D, 1, &b->pw, &b->pw_b));
        snprintf(n, sizeof n, "%d", 9 + 4 * k);
        LIS_TRY(load_bn(s, n, net->D, &b->pw_s, &b->pw_t));
    }
    snprintf(buf, sizeof buf, "%d", 6 + 4 * depth);
    return load_conv(s, buf, 4 * net->out_dim, net->D, 1, &net->head, &net->bh);
}

lis_status lis_pump_net_load(lis_pump_net *net, const lis_safetensors *st) {
    memset(net, 0, sizeof *net);
    snprintf(net->label, sizeof net->label, "%s", st->path ? st->path : "PUMP weights");
    const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
    memcpy(net->mean, mean, sizeof mean);
    memcpy(net->std, stdv, sizeof stdv);
    const char *cfg = lis_st_meta(st, "config");
    if (cfg) {
        lis_json *j = lis_json_parse(cfg, strlen(cfg));
        if (!j) { lis_err_prefix("%s: metadata 'config'", net->label); return LIS_ERR; }
        const lis_json *a = j->type == LIS_JSON_OBJ ? lis_json_get(j, "arch") : NULL;
        const int ok = !a || (a->type == LIS_JSON_STR && !strcmp(a->str, "pump"));
        lis_status s = ok ? LIS_OK
                          : lis_err_set("%s: config arch '%s' is not a PUMP descriptor network (\"pump\")", net->label,
                                        a && a->type == LIS_JSON_STR ? a->str : "?");
        lis_json_free(j);
        LIS_TRY(s);
    }
    wsrc s = {st, calloc(st->n ? st->n : 1, 1), net->label};
    if (!s.used) return lis_err_set("out of memory");
    lis_status r = load_arch(net, &s);
    for (size_t i = 0; r == LIS_OK && i < st->n; i++) {
        if (s.used[i]) continue;
        const char *n = st->entries[i].name;
        const size_t len = strlen(n), sl = strlen(".num_batches_tracked");
        if (len > sl && !strcmp(n + len - sl, ".num_batches_tracked")) continue;
        r = lis_err_set("%s: unexpected tensor '%s' (not part of a PUMP ConvMixer)", net->label, n);
    }
    free(s.used);
    if (r != LIS_OK) lis_pump_net_free(net);
    return r;
}

lis_status lis_pump_weights_open(lis_safetensors *st, const char *path) {
    memset(st, 0, sizeof *st);
    lis_status s;
    const size_t n = strlen(path);
    if (!strcmp(path, "synth") || (n > 9 && !strcmp(path + n - 9, ".manifest"))) {
        lis_manifest m;
        memset(&m, 0, sizeof m);
        if (!strcmp(path, "synth")) {
            char *text = lis_pump_synth_manifest();
            if (!text) return lis_err_set("out of memory");
            s = lis_manifest_parse(&m, text, strlen(text), "synth (built-in PUMP manifest)");
            free(text);
        } else {
            s = lis_manifest_read(&m, path);
        }
        if (s == LIS_OK) s = lis_synth_build(st, &m, NULL);
        lis_manifest_free(&m);
    } else {
        s = lis_st_open(st, path);
    }
    return s;
}

lis_status lis_pump_net_load_file(lis_pump_net *net, const char *path) {
    lis_safetensors st;
    lis_status s = lis_pump_weights_open(&st, path);
    if (s == LIS_OK) s = lis_pump_net_load(net, &st);
    lis_st_close(&st);
    return s;
}

void lis_pump_net_free(lis_pump_net *net) {
    lis_conv2d_packed_free(&net->conv0);
    lis_conv2d_packed_free(&net->patch);
    lis_conv2d_packed_free(&net->head);
    free(net->b0); free(net->s0); free(net->t0);
    free(net->b1); free(net->s1); free(net->t1);
    free(net->bh);
    for (int k = 0; k < LIS_PUMP_MAX_DEPTH; k++) {
        lis_pump_block *b = &net->blk[k];
        free(b->dw_w); free(b->dw_b); free(b->dw_s); free(b->dw_t);
        lis_conv2d_packed_free(&b->pw);
        free(b->pw_b); free(b->pw_s); free(b->pw_t);
    }
    free(net->arena);
    memset(net, 0, sizeof *net);
}

/* ---- forward ---- */

static void conv_params(const lis_pump_net *net, int which, int H, int W, lis_conv2d_params *p) {
    const int h = H / 4, w = W / 4;
    memset(p, 0, sizeof *p);
    p->N = 1;
    p->stride_h = p->stride_w = p->dil_h = p->dil_w = 1;
    p->act = LIS_ACT_RELU;
    switch (which) {
    case 0: p->C = 3; p->H = H; p->W = W; p->K = net->c0; p->R = p->S = net->k0; p->pad_h = p->pad_w = net->k0 / 2; break;
    case 1: p->C = net->c0; p->H = H; p->W = W; p->K = net->D; p->R = p->S = net->P; p->stride_h = p->stride_w = net->P; break;
    case 2: p->C = net->D; p->H = h; p->W = w; p->K = net->D; p->R = p->S = 1; break;
    default: p->C = net->D; p->H = h; p->W = w; p->K = 4 * net->out_dim; p->R = p->S = 1; p->act = LIS_ACT_NONE; break;
    }
}

static lis_dwconv_params dw_params(const lis_pump_net *net, int H, int W) {
    lis_dwconv_params d = {1, net->D, H / 4, W / 4, net->kd, net->kd / 2, 1};
    return d;
}

lis_status lis_pump_net_plan(lis_pump_net *net, int H, int W) {
    if (H < 4 || W < 4 || H % 4 || W % 4 || (double)H * W > 1e8)
        return lis_err_set("pump: image %dx%d: sides must be positive multiples of 4", W, H);
    if (net->arena && net->plan_h == H && net->plan_w == W) return LIS_OK;
    free(net->arena);
    net->arena = NULL;
    const size_t hw = (size_t)H * W, hw4 = hw / 16;
    size_t ws = 0;
    for (int k = 0; k < 4; k++) {
        lis_conv2d_params p;
        conv_params(net, k, H, W, &p);
        LIS_TRY(lis_conv2d_check(&p));
        const size_t s = lis_conv2d_workspace_size(&p);
        ws = s > ws ? s : ws;
    }
    const lis_dwconv_params dp = dw_params(net, H, W);
    LIS_TRY(lis_dwconv_check(&dp));
    const size_t dws = lis_dwconv_workspace_size(&dp);
    ws = dws > ws ? dws : ws;
    const lis_pump_head_params hp = {net->out_dim, H / 4, W / 4};
    const size_t hws = lis_pump_head_workspace_size(&hp);
    ws = hws > ws ? hws : ws;
    const size_t nf[5] = {3 * hw, (size_t)net->c0 * hw, (size_t)net->D * hw4, (size_t)net->D * hw4,
                          (size_t)4 * net->out_dim * hw4};
    size_t total = (ws + 63) / 64 * 64;
    for (int k = 0; k < 5; k++) total += (nf[k] * sizeof(float) + 63) / 64 * 64;
    char *a = lis_alloc_aligned(total, "pump: activation arena");
    if (!a) return LIS_ERR;
    net->arena = (float *)a;
    net->arena_bytes = total;
    float **bufs[5] = {&net->x0, &net->a0, &net->X, &net->T, &net->S};
    size_t off = 0;
    for (int k = 0; k < 5; k++) {
        *bufs[k] = (float *)(a + off);
        off += (nf[k] * sizeof(float) + 63) / 64 * 64;
    }
    net->ws = a + off;
    net->plan_h = H;
    net->plan_w = W;
    return LIS_OK;
}

double lis_pump_net_macs(const lis_pump_net *net, int H, int W) {
    const double hw = (double)H * W, hw4 = hw / 16;
    return hw * net->c0 * 3 * net->k0 * net->k0 + hw4 * net->D * net->c0 * net->P * net->P +
           net->depth * (hw4 * net->D * net->kd * net->kd + hw4 * net->D * net->D) + hw4 * 4 * net->out_dim * net->D;
}

lis_status lis_pump_net_describe(lis_pump_net *net, const uint8_t *img, int H, int W, int full, float *out, int ld) {
    LIS_TRY(lis_pump_net_plan(net, H, W));
    const size_t hw = (size_t)H * W;
    /* torchvision: u8 -> float / 255, then (x - mean) / std, float32 */
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < hw; i++) {
            const float v = (float)img[i * 3 + c] / 255.0f;
            net->x0[(size_t)c * hw + i] = (v - net->mean[c]) / net->std[c];
        }
    lis_conv2d_params p;
    conv_params(net, 0, H, W, &p);
    lis_conv2d_cpu_packed(&p, &net->conv0, net->x0, net->b0, NULL, net->a0, net->ws);
    lis_chan_affine_params ap = {1, net->c0, (int64_t)hw, 0};
    lis_chan_affine_cpu(&ap, net->s0, net->t0, net->a0, net->a0);
    conv_params(net, 1, H, W, &p);
    lis_conv2d_cpu_packed(&p, &net->patch, net->a0, net->b1, NULL, net->X, net->ws);
    ap = (lis_chan_affine_params){1, net->D, (int64_t)(hw / 16), 0};
    lis_chan_affine_cpu(&ap, net->s1, net->t1, net->X, net->X);
    const lis_dwconv_params dp = dw_params(net, H, W);
    conv_params(net, 2, H, W, &p);
    for (int k = 0; k < net->depth; k++) {
        const lis_pump_block *b = &net->blk[k];
        const lis_dwconv_weights dw = {b->dw_w, b->dw_b, b->dw_s, b->dw_t};
        lis_dwconv_cpu(&dp, &dw, net->X, net->X, net->T, net->ws); /* T = X + BN(ReLU(dw(X))) */
        lis_conv2d_cpu_packed(&p, &b->pw, net->T, b->pw_b, NULL, net->X, net->ws);
        lis_chan_affine_cpu(&ap, b->pw_s, b->pw_t, net->X, net->X);
    }
    conv_params(net, 3, H, W, &p);
    lis_conv2d_cpu_packed(&p, &net->head, net->X, net->bh, NULL, net->S, net->ws);
    const lis_pump_head_params hp = {net->out_dim, H / 4, W / 4};
    if (full) {
        lis_pump_head_full_cpu(&hp, net->S, out, net->ws);
    } else if (ld == (H / 4) * (W / 4)) {
        lis_pump_head_grid_cpu(&hp, net->S, out);
    } else {
        /* a padded stride: through the (now free) T buffer */
        lis_pump_head_grid_cpu(&hp, net->S, net->T);
        for (int c = 0; c < net->out_dim; c++)
            memcpy(out + (size_t)c * ld, net->T + (size_t)c * (hw / 16), sizeof(float) * (hw / 16));
    }
    return LIS_OK;
}

/* ---- matcher ---- */

void lis_pump_params_default(lis_pump_params *p) {
    p->levels = 99;
    p->min_shape = 5;
    p->nlpow = 1.5;
    p->border = 0.9;
    p->post_filter = 1;
    p->locality = 2.0f;
    p->min_cc_size = 50;
    p->exact_keys = 0;
    p->level0_max_bytes = (size_t)2 << 30;
}

void lis_pump_matcher_free(lis_pump_matcher *m) {
    lis_pump_pyramid_free(&m->py);
    free(m->desc1); free(m->desc2);
    free(m->pos1); free(m->score1); free(m->pos2); free(m->score2);
    free(m->recip); free(m->corres);
    const lis_pump_pyramid keep = m->py; /* the caller's probe settings and GPU stay */
    struct lis_pump_cuda *gpu = m->gpu;
    memset(m, 0, sizeof *m);
    m->gpu = gpu;
    m->py.nprobe = keep.nprobe;
    m->py.probe_cells = keep.probe_cells;
    m->py.probe_fw = keep.probe_fw;
    m->py.probe_bw = keep.probe_bw;
}

lis_status lis_pump_matcher_plan(lis_pump_matcher *m, const lis_pump_params *p, int H1, int W1, int H2, int W2, int C) {
    if (m->desc1 && m->H1 == H1 && m->W1 == W1 && m->H2 == H2 && m->W2 == W2 && m->C == C &&
        !memcmp(&m->prm, p, sizeof *p))
        return LIS_OK;
    lis_pump_matcher_free(m);
    if (H1 % 4 || W1 % 4 || H2 % 4 || W2 % 4 || H1 < 4 || W1 < 4 || H2 < 8 || W2 < 8)
        return lis_err_set("pump: images %dx%d and %dx%d: sides must be multiples of 4 (img2 at least 8)", W1, H1, W2, H2);
    m->prm = *p;
    LIS_TRY(lis_pump_geom_init(&m->g, C, H1 / 4, W1 / 4, H2, W2, p->levels, p->min_shape, p->nlpow, p->border));
    m->H1 = H1; m->W1 = W1; m->H2 = H2; m->W2 = W2; m->C = C;
    const lis_pump_geom *g = &m->g;
    const size_t nc = (size_t)g->ncell[0], nb = (size_t)(H2 / 4) * (W2 / 4);
    m->desc1 = lis_alloc_aligned(sizeof(float) * (size_t)C * g->cs[0], "pump: img1 descriptors");
    m->desc2 = lis_alloc_aligned(sizeof(float) * (size_t)H2 * W2 * C, "pump: img2 descriptors");
    m->pos1 = lis_malloc(sizeof(float) * 4 * nc, "pump: matches");
    m->score1 = lis_malloc(sizeof(float) * nc, "pump: matches");
    m->pos2 = lis_malloc(sizeof(float) * 4 * nb, "pump: matches");
    m->score2 = lis_malloc(sizeof(float) * nb, "pump: matches");
    m->recip = lis_malloc(sizeof(float) * 6 * nc, "pump: matches");
    m->corres = lis_malloc(sizeof(float) * 6 * nc, "pump: matches");
    if (!m->desc1 || !m->desc2 || !m->pos1 || !m->score1 || !m->pos2 || !m->score2 || !m->recip || !m->corres) {
        lis_pump_matcher_free(m);
        return LIS_ERR;
    }
    memset(m->desc1, 0, sizeof(float) * (size_t)C * g->cs[0]);
    /* with a GPU the pyramid lives there (nets/pump_cuda.c plans it) */
    lis_status s = m->gpu ? LIS_OK : lis_pump_pyramid_plan(&m->py, g, p->level0_max_bytes);
    if (s != LIS_OK) lis_pump_matcher_free(m);
    return s;
}

lis_status lis_pump_matcher_set_desc2(lis_pump_matcher *m) { return lis_pump_pyramid_set_desc2(&m->py, m->desc2); }

lis_status lis_pump_match_descs(lis_pump_matcher *m) {
    const double t0 = lis_now();
    LIS_TRY(lis_pump_pyramid_forward(&m->py, m->desc1));
    lis_pump_pyramid_backward(&m->py, m->desc1, m->pos1, m->score1, m->pos2, m->score2);
    m->t_match = lis_now() - t0;
    return lis_pump_match_finish(m);
}

lis_status lis_pump_match_finish(lis_pump_matcher *m) {
    const lis_pump_geom *g = &m->g;
    const double t1 = lis_now();
    const lis_pump_recip_params rp = {g->n1w, g->h[0] / 4, g->w[0] / 4, m->prm.exact_keys};
    LIS_TRY(lis_pump_reciprocal(&rp, m->pos1, m->score1, g->ncell[0], m->pos2, (g->h[0] / 4) * (g->w[0] / 4), m->recip,
                                &m->nrecip));
    memcpy(m->corres, m->recip, sizeof(float) * 6 * (size_t)m->nrecip);
    m->ncorres = m->nrecip;
    if (m->prm.post_filter) {
        const lis_pump_filter_params fp = {m->prm.locality, m->prm.min_cc_size};
        LIS_TRY(lis_pump_post_filter(&fp, m->corres, m->nrecip, &m->ncorres));
    }
    m->t_post = lis_now() - t1;
    return LIS_OK;
}

lis_status lis_pump_match_images(lis_pump_matcher *m, lis_pump_net *net, const uint8_t *img1, const uint8_t *img2,
                                 int H, int W, int same_img2) {
    const int reuse = same_img2 && m->desc1 && m->py.have_desc2 && m->H2 == H && m->W2 == W;
    lis_pump_params p = m->desc1 ? m->prm : (lis_pump_params){0};
    if (!m->desc1) lis_pump_params_default(&p);
    LIS_TRY(lis_pump_matcher_plan(m, &p, H, W, H, W, net->out_dim));
    if (m->gpu) return lis_pump_cuda_match_images(m->gpu, m, img1, img2, H, W, same_img2);
    const double t0 = lis_now();
    LIS_TRY(lis_pump_net_describe(net, img1, H, W, 0, m->desc1, m->g.cs[0]));
    if (!(reuse && m->py.have_desc2)) {
        LIS_TRY(lis_pump_net_describe(net, img2, H, W, 1, m->desc2, 0));
        LIS_TRY(lis_pump_matcher_set_desc2(m));
    }
    m->t_desc = lis_now() - t0;
    return lis_pump_match_descs(m);
}

/* ---- motion ---- */

void lis_pump_motion_params_default(lis_pump_motion_params *p) {
    lis_affine_params_default(&p->affine);
    p->field_run = 1;
}

void lis_pump_motion_free(lis_pump_motion *mo) {
    free(mo->corres1); free(mo->corres2); free(mo->warped); free(mo->dense); free(mo->flow);
    memset(mo, 0, sizeof *mo);
}

static int cmp_desc(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return x > y ? -1 : (x < y ? 1 : 0);
}

/* mean |r|, top-10% share and |r|-weighted centroid of the local motion r */
static lis_status motion_stats(lis_pump_motion *mo, const double *A, int run) {
    const int H = mo->H, W = mo->W;
    const size_t n = (size_t)H * W;
    float *mag = lis_malloc(sizeof(float) * n, "pump: motion magnitudes");
    if (!mag) return LIS_ERR;
    double sum = 0, cx = 0, cy = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const size_t i = (size_t)y * W + x;
            double ex = x, ey = y;
            if (run == 1) {
                ex = A[0] * x + A[1] * y + A[2];
                ey = A[3] * x + A[4] * y + A[5];
            }
            const double rx = mo->dense[2 * i] - ex, ry = mo->dense[2 * i + 1] - ey, r = sqrt(rx * rx + ry * ry);
            mag[i] = (float)r;
            sum += r;
            cx += r * x;
            cy += r * y;
        }
    mo->mean_mag = sum / (double)n;
    mo->centroid_x = sum > 0 ? cx / sum : 0.5 * (W - 1);
    mo->centroid_y = sum > 0 ? cy / sum : 0.5 * (H - 1);
    qsort(mag, n, sizeof *mag, cmp_desc);
    double top = 0;
    const size_t k = (n + 9) / 10;
    for (size_t i = 0; i < k; i++) top += mag[i];
    mo->concentration = sum > 0 ? top / sum : 0.0;
    free(mag);
    return LIS_OK;
}

lis_status lis_pump_motion_run(lis_pump_matcher *m, lis_pump_net *net, const uint8_t *img_o, const uint8_t *img_p,
                               int H, int W, const lis_pump_motion_params *mp, lis_pump_motion *out) {
    lis_pump_motion_free(out);
    const double t0 = lis_now();
    out->H = H;
    out->W = W;
    const size_t n = (size_t)H * W;
    out->warped = lis_malloc(n * 3, "pump: warped image");
    out->dense = lis_malloc(sizeof(double) * 2 * n, "pump: dense field");
    out->flow = lis_malloc(sizeof(float) * 2 * n, "pump: flow");
    if (!out->warped || !out->dense || !out->flow) return LIS_ERR;
    /* run 1: I_o -> I_p */
    LIS_TRY(lis_pump_match_images(m, net, img_o, img_p, H, W, 0));
    out->n1 = m->ncorres;
    if (!(out->corres1 = copy_f(m->corres, 6 * (size_t)(out->n1 ? out->n1 : 1)))) return LIS_ERR;
    if (out->n1 < 4)
        return lis_err_set("pump: %d correspondences between the images (at least 4 needed for the affine fit)", out->n1);
    LIS_TRY(lis_affine_estimate(out->corres1, out->n1, 6, &mp->affine, out->A, NULL, &out->n_inliers));
    lis_warp_affine_u8(img_o, H, W, 3, out->A, out->warped);
    /* run 2: warped I_o -> I_p, same I_p descriptors */
    LIS_TRY(lis_pump_match_images(m, net, out->warped, img_p, H, W, 1));
    out->n2 = m->ncorres;
    if (!(out->corres2 = copy_f(m->corres, 6 * (size_t)(out->n2 ? out->n2 : 1)))) return LIS_ERR;
    if (out->n2 < 4)
        return lis_err_set("pump: %d correspondences after removing the global motion (at least 4 needed)", out->n2);
    if (mp->field_run == 2) LIS_TRY(lis_densify(out->corres2, out->n2, 6, H, W, out->dense));
    else LIS_TRY(lis_densify(out->corres1, out->n1, 6, H, W, out->dense));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const size_t i = (size_t)y * W + x;
            out->flow[2 * i] = (float)(out->dense[2 * i] - x);
            out->flow[2 * i + 1] = (float)(out->dense[2 * i + 1] - y);
        }
    LIS_TRY(motion_stats(out, out->A, mp->field_run == 2 ? 2 : 1));
    double rot;
    lis_affine_decompose(out->A, 0.5 * (W - 1), 0.5 * (H - 1), &rot, &out->scale, &out->tx, &out->ty);
    out->rot_deg = rot * 180.0 / M_PI;
    out->seconds = lis_now() - t0;
    return LIS_OK;
}
