/* pump_cuda.c — PUMP descriptor network and pyramid on the GPU (see pump_cuda.h). The
 * network forward mirrors lis_pump_net_describe (nets/pump.c):
 *   a0 = BN2(ReLU(conv0(x0) + b))  X = BN5(ReLU(patchify(a0) + b))
 *   per block: T = X + BN(ReLU(dw(X) + b));  X = BN(ReLU(pw(T) + b))
 *   S = head(X) + b;  descriptors = head_full / head_grid(S)
 */
#include "nets/pump_cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/chan_affine.h"
#include "kernels/chan_affine_cuda.h"
#include "kernels/conv2d_cuda.h"
#include "kernels/dwconv_cuda.h"
#include "kernels/pump_corr_cuda.h"
#include "kernels/pump_head_cuda.h"
#include "runtime/threads.h"

#define BN_EPS 1e-5

/* ---------------------------------------------------------------- weights */

static lis_status up(float **dst, const float *src, size_t n, const char *what) {
    *dst = lis_dev_upload(src, sizeof(float) * n, what);
    return *dst ? LIS_OK : LIS_ERR;
}

static lis_status up_tensor(const lis_safetensors *st, const char *name, size_t n, float **dst) {
    const float *w;
    const lis_st_entry *e = lis_st_find(st, name);
    if (!e) return lis_err_set("%s: missing tensor '%s'", st->path ? st->path : "PUMP weights", name);
    LIS_TRY(lis_st_get_f32(st, name, e->t.ndim, e->t.shape, &w));
    if ((size_t)lis_tensor_numel(&e->t) != n)
        return lis_err_set("%s: tensor '%s' has %lld elements, expected %zu", st->path ? st->path : "PUMP weights", name,
                           (long long)lis_tensor_numel(&e->t), n);
    return up(dst, w, n, name);
}

/* BatchNorm `name` folded to (scale, shift) on the device */
static lis_status up_bn(const lis_safetensors *st, const char *name, int C, float **sc, float **sh) {
    char n[96];
    const float *g, *b, *m, *v;
    const int64_t shape[1] = {C};
    snprintf(n, sizeof n, "%s.weight", name);       LIS_TRY(lis_st_get_f32(st, n, 1, shape, &g));
    snprintf(n, sizeof n, "%s.bias", name);         LIS_TRY(lis_st_get_f32(st, n, 1, shape, &b));
    snprintf(n, sizeof n, "%s.running_mean", name); LIS_TRY(lis_st_get_f32(st, n, 1, shape, &m));
    snprintf(n, sizeof n, "%s.running_var", name);  LIS_TRY(lis_st_get_f32(st, n, 1, shape, &v));
    float *hs = malloc(sizeof(float) * (size_t)C), *ht = malloc(sizeof(float) * (size_t)C);
    lis_status s = hs && ht ? lis_chan_affine_fold(C, g, b, m, v, BN_EPS, hs, ht, name) : lis_err_set("out of memory");
    if (s == LIS_OK) s = up(sc, hs, (size_t)C, name);
    if (s == LIS_OK) s = up(sh, ht, (size_t)C, name);
    free(hs);
    free(ht);
    return s;
}

lis_status lis_pump_cuda_init(lis_pump_cuda *pc, const lis_pump_net *net, const lis_safetensors *st, int device) {
    memset(pc, 0, sizeof *pc);
    pc->device = device;
    pc->net = net;
    LIS_TRY(lis_cuda_select(device));
    LIS_TRY(lis_stream_create(&pc->stream));
    const size_t D = (size_t)net->D;
    char n[64];
    lis_status s = up_tensor(st, "0.weight", (size_t)net->c0 * 3 * net->k0 * net->k0, &pc->w0);
    if (s == LIS_OK) s = up_tensor(st, "0.bias", (size_t)net->c0, &pc->b0);
    if (s == LIS_OK) s = up_bn(st, "2", net->c0, &pc->s0, &pc->t0);
    if (s == LIS_OK) s = up_tensor(st, "3.weight", D * net->c0 * net->P * net->P, &pc->w1);
    if (s == LIS_OK) s = up_tensor(st, "3.bias", D, &pc->b1);
    if (s == LIS_OK) s = up_bn(st, "5", net->D, &pc->s1, &pc->t1);
    for (int k = 0; s == LIS_OK && k < net->depth; k++) {
        snprintf(n, sizeof n, "%d.fn.0.weight", 6 + 4 * k);
        s = up_tensor(st, n, D * net->kd * net->kd, &pc->dw_w[k]);
        snprintf(n, sizeof n, "%d.fn.0.bias", 6 + 4 * k);
        if (s == LIS_OK) s = up_tensor(st, n, D, &pc->dw_b[k]);
        snprintf(n, sizeof n, "%d.fn.2", 6 + 4 * k);
        if (s == LIS_OK) s = up_bn(st, n, net->D, &pc->dw_s[k], &pc->dw_t[k]);
        snprintf(n, sizeof n, "%d.weight", 7 + 4 * k);
        if (s == LIS_OK) s = up_tensor(st, n, D * D, &pc->pw_w[k]);
        snprintf(n, sizeof n, "%d.bias", 7 + 4 * k);
        if (s == LIS_OK) s = up_tensor(st, n, D, &pc->pw_b[k]);
        snprintf(n, sizeof n, "%d", 9 + 4 * k);
        if (s == LIS_OK) s = up_bn(st, n, net->D, &pc->pw_s[k], &pc->pw_t[k]);
    }
    snprintf(n, sizeof n, "%d.weight", 6 + 4 * net->depth);
    if (s == LIS_OK) s = up_tensor(st, n, (size_t)4 * net->out_dim * D, &pc->wh);
    snprintf(n, sizeof n, "%d.bias", 6 + 4 * net->depth);
    if (s == LIS_OK) s = up_tensor(st, n, (size_t)4 * net->out_dim, &pc->bh);
    if (s != LIS_OK) lis_pump_cuda_free(pc);
    return s;
}

lis_status lis_pump_cuda_init_file(lis_pump_cuda *pc, const lis_pump_net *net, const char *weights, int device) {
    lis_safetensors st;
    lis_status s = lis_pump_weights_open(&st, weights);
    if (s == LIS_OK) s = lis_pump_cuda_init(pc, net, &st, device);
    lis_st_close(&st);
    return s;
}

static void free_image_plan(lis_pump_cuda *pc) {
    free(pc->xh);
    lis_dev_free(pc->x0); lis_dev_free(pc->a0); lis_dev_free(pc->X); lis_dev_free(pc->T); lis_dev_free(pc->S);
    pc->xh = NULL;
    pc->x0 = pc->a0 = pc->X = pc->T = pc->S = NULL;
    pc->H = pc->W = 0;
}

static void free_pyramid_plan(lis_pump_cuda *pc) {
    for (int l = 0; l < LIS_PUMP_MAX_LEVELS; l++) {
        lis_dev_free(pc->lev[l]); lis_dev_free(pc->wts[l]); lis_dev_free(pc->nrm[l]);
        pc->lev[l] = pc->wts[l] = pc->nrm[l] = NULL;
    }
    lis_dev_free(pc->desc1); lis_dev_free(pc->desc2); lis_dev_free(pc->fws); lis_dev_free(pc->bws);
    lis_dev_free(pc->best_ws);
    lis_dev_free(pc->pos1); lis_dev_free(pc->score1); lis_dev_free(pc->pos2); lis_dev_free(pc->score2);
    pc->desc1 = pc->desc2 = pc->fws = NULL;
    pc->bws = pc->best_ws = NULL;
    pc->pos1 = pc->score1 = pc->pos2 = pc->score2 = NULL;
    pc->have_geom = pc->have_desc2 = 0;
}

void lis_pump_cuda_free(lis_pump_cuda *pc) {
    if (!pc->net && !pc->stream) {
        memset(pc, 0, sizeof *pc);
        return;
    }
    free_image_plan(pc);
    free_pyramid_plan(pc);
    float **w[] = {&pc->w0, &pc->b0, &pc->s0, &pc->t0, &pc->w1, &pc->b1, &pc->s1, &pc->t1, &pc->wh, &pc->bh};
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) lis_dev_free(*w[i]);
    for (int k = 0; k < LIS_PUMP_MAX_DEPTH; k++) {
        lis_dev_free(pc->dw_w[k]); lis_dev_free(pc->dw_b[k]); lis_dev_free(pc->dw_s[k]); lis_dev_free(pc->dw_t[k]);
        lis_dev_free(pc->pw_w[k]); lis_dev_free(pc->pw_b[k]); lis_dev_free(pc->pw_s[k]); lis_dev_free(pc->pw_t[k]);
    }
    lis_stream_destroy(pc->stream);
    memset(pc, 0, sizeof *pc);
}

/* ---------------------------------------------------------------- network */

static void conv_params(const lis_pump_net *net, int which, int H, int W, lis_conv2d_params *p) {
    memset(p, 0, sizeof *p);
    p->N = 1;
    p->stride_h = p->stride_w = p->dil_h = p->dil_w = 1;
    p->act = LIS_ACT_RELU;
    switch (which) {
    case 0: p->C = 3; p->H = H; p->W = W; p->K = net->c0; p->R = p->S = net->k0; p->pad_h = p->pad_w = net->k0 / 2; break;
    case 1: p->C = net->c0; p->H = H; p->W = W; p->K = net->D; p->R = p->S = net->P; p->stride_h = p->stride_w = net->P; break;
    case 2: p->C = net->D; p->H = H / 4; p->W = W / 4; p->K = net->D; p->R = p->S = 1; break;
    default: p->C = net->D; p->H = H / 4; p->W = W / 4; p->K = 4 * net->out_dim; p->R = p->S = 1; p->act = LIS_ACT_NONE; break;
    }
}

static lis_status image_plan(lis_pump_cuda *pc, int H, int W) {
    if (pc->x0 && pc->H == H && pc->W == W) return LIS_OK;
    free_image_plan(pc);
    const lis_pump_net *net = pc->net;
    const size_t hw = (size_t)H * W, hw4 = hw / 16;
    pc->xh = lis_malloc(sizeof(float) * 3 * hw, "pump: normalised input");
    pc->x0 = lis_dev_alloc(sizeof(float) * 3 * hw, "pump: input");
    pc->a0 = lis_dev_alloc(sizeof(float) * net->c0 * hw, "pump: conv0 output");
    pc->X = lis_dev_alloc(sizeof(float) * net->D * hw4, "pump: block activations");
    pc->T = lis_dev_alloc(sizeof(float) * net->D * hw4, "pump: block activations");
    pc->S = lis_dev_alloc(sizeof(float) * 4 * net->out_dim * hw4, "pump: head conv output");
    if (!pc->xh || !pc->x0 || !pc->a0 || !pc->X || !pc->T || !pc->S) {
        free_image_plan(pc);
        return LIS_ERR;
    }
    pc->H = H;
    pc->W = W;
    return LIS_OK;
}

lis_status lis_pump_cuda_describe(lis_pump_cuda *pc, const uint8_t *img, int H, int W, int full, float *out, int ld) {
    const lis_pump_net *net = pc->net;
    if (H < 4 || W < 4 || H % 4 || W % 4) return lis_err_set("pump: image %dx%d: sides must be multiples of 4", W, H);
    LIS_TRY(image_plan(pc, H, W));
    const size_t hw = (size_t)H * W;
    for (int c = 0; c < 3; c++) /* as lis_pump_net_describe: u8 / 255, then (x - mean) / std */
        for (size_t i = 0; i < hw; i++) pc->xh[(size_t)c * hw + i] = ((float)img[i * 3 + c] / 255.0f - net->mean[c]) / net->std[c];
    LIS_TRY(lis_dev_h2d(pc->x0, pc->xh, sizeof(float) * 3 * hw, pc->stream));
    lis_conv2d_params p;
    lis_stream s = pc->stream;
    conv_params(net, 0, H, W, &p);
    LIS_TRY(lis_conv2d_cuda(&p, pc->x0, pc->w0, pc->b0, NULL, pc->a0, LIS_PREC_FP32, s));
    lis_chan_affine_params ap = {1, net->c0, (int64_t)hw, 0};
    LIS_TRY(lis_chan_affine_cuda(&ap, pc->s0, pc->t0, pc->a0, pc->a0, s));
    conv_params(net, 1, H, W, &p);
    LIS_TRY(lis_conv2d_cuda(&p, pc->a0, pc->w1, pc->b1, NULL, pc->X, LIS_PREC_FP32, s));
    ap = (lis_chan_affine_params){1, net->D, (int64_t)(hw / 16), 0};
    LIS_TRY(lis_chan_affine_cuda(&ap, pc->s1, pc->t1, pc->X, pc->X, s));
    const lis_dwconv_params dp = {1, net->D, H / 4, W / 4, net->kd, net->kd / 2, 1};
    conv_params(net, 2, H, W, &p);
    for (int k = 0; k < net->depth; k++) {
        const lis_dwconv_weights dw = {pc->dw_w[k], pc->dw_b[k], pc->dw_s[k], pc->dw_t[k]};
        LIS_TRY(lis_dwconv_cuda(&dp, &dw, pc->X, pc->X, pc->T, s));
        LIS_TRY(lis_conv2d_cuda(&p, pc->T, pc->pw_w[k], pc->pw_b[k], NULL, pc->X, LIS_PREC_FP32, s));
        LIS_TRY(lis_chan_affine_cuda(&ap, pc->pw_s[k], pc->pw_t[k], pc->X, pc->X, s));
    }
    conv_params(net, 3, H, W, &p);
    LIS_TRY(lis_conv2d_cuda(&p, pc->X, pc->wh, pc->bh, NULL, pc->S, LIS_PREC_FP32, s));
    const lis_pump_head_params hp = {net->out_dim, H / 4, W / 4};
    if (full) LIS_TRY(lis_pump_head_full_cuda(&hp, pc->S, out, s));
    else LIS_TRY(lis_pump_head_grid_cuda(&hp, pc->S, out, ld, s));
    /* `out` is the caller's: complete before returning. pc->stream is non-blocking, so a
     * copy on the default stream (as a caller may do) would not wait for it. */
    return lis_stream_sync(s);
}

/* ---------------------------------------------------------------- pyramid */

static lis_status pyramid_plan(lis_pump_cuda *pc, const lis_pump_geom *g) {
    if (pc->have_geom && !memcmp(&pc->g, g, sizeof *g)) return LIS_OK;
    free_pyramid_plan(pc);
    pc->g = *g;
    size_t fws = 1, bws = 1;
    int ok = 1;
    float *wl = NULL, *nr = NULL, *wprev = malloc(sizeof(float) * (size_t)g->cs[0]);
    if (!wprev) return lis_err_set("out of memory");
    lis_pump_weights0(g, wprev);
    pc->wts[0] = lis_dev_upload(wprev, sizeof(float) * (size_t)g->cs[0], "pump: level weights");
    ok = pc->wts[0] != NULL;
    for (int l = 0; ok && l < g->nlev; l++) {
        pc->lev[l] = lis_dev_alloc(sizeof(float) * lis_pump_level_floats(g, l), "pump: pyramid level");
        ok = pc->lev[l] != NULL;
        if (!ok || l == 0) continue;
        /* the weights and border normalisers depend only on the geometry */
        wl = malloc(sizeof(float) * (size_t)g->cs[l]);
        nr = malloc(sizeof(float) * 9 * (size_t)g->cs[l]);
        ok = wl && nr;
        if (ok) {
            lis_pump_level_norms(g, l, wprev, wl, nr);
            pc->wts[l] = lis_dev_upload(wl, sizeof(float) * (size_t)g->cs[l], "pump: level weights");
            pc->nrm[l] = lis_dev_upload(nr, sizeof(float) * 9 * (size_t)g->cs[l], "pump: border normalisers");
            ok = pc->wts[l] && pc->nrm[l];
        }
        free(wprev);
        free(nr);
        wprev = wl;
        wl = nr = NULL;
        const size_t f = lis_pump_fwd_level_cuda_workspace(g, l), b = lis_pump_bwd_level_cuda_workspace(g, l);
        fws = f > fws ? f : fws;
        bws = b > bws ? b : bws;
    }
    free(wprev);
    if (ok) {
        const size_t nb = (size_t)(g->h[0] / 4) * (g->w[0] / 4) + 1;
        pc->fws = lis_dev_alloc(sizeof(float) * fws, "pump: pooled level");
        pc->bws = lis_dev_alloc(bws, "pump: backward codes");
        pc->best_ws = lis_dev_alloc(lis_pump_best_cuda_workspace(g) + 64, "pump: best-match partials");
        pc->desc1 = lis_dev_alloc(sizeof(float) * (size_t)g->C * g->cs[0], "pump: img1 descriptors");
        pc->desc2 = lis_dev_alloc(sizeof(float) * (size_t)g->h[0] * g->w[0] * g->C, "pump: img2 descriptors");
        pc->pos1 = lis_dev_alloc(sizeof(float) * 4 * (size_t)g->ncell[0], "pump: matches");
        pc->score1 = lis_dev_alloc(sizeof(float) * (size_t)g->ncell[0], "pump: matches");
        pc->pos2 = lis_dev_alloc(sizeof(float) * 4 * nb, "pump: matches");
        pc->score2 = lis_dev_alloc(sizeof(float) * nb, "pump: matches");
        ok = pc->fws && pc->bws && pc->best_ws && pc->desc1 && pc->desc2 && pc->pos1 && pc->score1 && pc->pos2 &&
             pc->score2;
    }
    if (ok) ok = lis_dev_memset(pc->desc1, 0, sizeof(float) * (size_t)g->C * g->cs[0], pc->stream) == LIS_OK;
    if (!ok) {
        free_pyramid_plan(pc);
        return LIS_ERR;
    }
    pc->have_geom = 1;
    return LIS_OK;
}

lis_status lis_pump_cuda_pyramid(lis_pump_cuda *pc, lis_pump_matcher *m) {
    const lis_pump_geom *g = &m->g;
    LIS_TRY(pyramid_plan(pc, g));
    lis_stream s = pc->stream;
    LIS_TRY(lis_pump_corr_cuda(g, pc->desc1, pc->desc2, pc->lev[0], s));
    for (int l = 1; l < g->nlev; l++)
        LIS_TRY(lis_pump_fwd_level_cuda(g, l, pc->lev[l - 1], pc->wts[l - 1], pc->nrm[l], pc->lev[l], pc->fws, s));
    for (int l = g->nlev - 1; l >= 1; l--) LIS_TRY(lis_pump_bwd_level_cuda(g, l, pc->lev[l], pc->lev[l - 1], pc->bws, s));
    LIS_TRY(lis_pump_best_cuda(g, pc->lev[0], pc->pos1, pc->score1, pc->pos2, pc->score2, pc->best_ws, s));
    const size_t nc = (size_t)g->ncell[0], nb = (size_t)(g->h[0] / 4) * (g->w[0] / 4);
    LIS_TRY(lis_dev_d2h(m->pos1, pc->pos1, sizeof(float) * 4 * nc, s));
    LIS_TRY(lis_dev_d2h(m->score1, pc->score1, sizeof(float) * nc, s));
    if (nb) {
        LIS_TRY(lis_dev_d2h(m->pos2, pc->pos2, sizeof(float) * 4 * nb, s));
        LIS_TRY(lis_dev_d2h(m->score2, pc->score2, sizeof(float) * nb, s));
    }
    return LIS_OK;
}

lis_status lis_pump_cuda_match_descs(lis_pump_cuda *pc, lis_pump_matcher *m) {
    const lis_pump_geom *g = &m->g;
    LIS_TRY(pyramid_plan(pc, g));
    LIS_TRY(lis_dev_h2d(pc->desc1, m->desc1, sizeof(float) * (size_t)g->C * g->cs[0], pc->stream));
    LIS_TRY(lis_dev_h2d(pc->desc2, m->desc2, sizeof(float) * (size_t)g->h[0] * g->w[0] * g->C, pc->stream));
    pc->have_desc2 = 0; /* no longer the descriptors of an image */
    const double t0 = lis_now();
    LIS_TRY(lis_pump_cuda_pyramid(pc, m));
    m->t_match = lis_now() - t0;
    return lis_pump_match_finish(m);
}

lis_status lis_pump_cuda_match_images(lis_pump_cuda *pc, lis_pump_matcher *m, const uint8_t *img1,
                                      const uint8_t *img2, int H, int W, int same_img2) {
    const double t0 = lis_now();
    LIS_TRY(pyramid_plan(pc, &m->g));
    LIS_TRY(lis_pump_cuda_describe(pc, img1, H, W, 0, pc->desc1, m->g.cs[0]));
    if (!(same_img2 && pc->have_desc2)) {
        pc->have_desc2 = 0;
        LIS_TRY(lis_pump_cuda_describe(pc, img2, H, W, 1, pc->desc2, 0));
        pc->have_desc2 = 1;
    }
    LIS_TRY(lis_stream_sync(pc->stream));
    const double t1 = lis_now();
    m->t_desc = t1 - t0;
    LIS_TRY(lis_pump_cuda_pyramid(pc, m));
    m->t_match = lis_now() - t1;
    return lis_pump_match_finish(m);
}
