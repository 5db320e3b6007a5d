/* resnet_cuda.c — the ResNet classifier on the GPU (see resnet_cuda.h). The block
 * forward is lis_resnet_forward's (nets/resnet.c), with the device kernels:
 *   Bottleneck:  [ds: Y = bn(conv1x1/s(X))]  T1 = relu(conv1(X))  T2 = relu(conv2(T1))
 *                Y = relu(conv3(T2) + (ds ? Y : X))
 *   BasicBlock:  [ds]  T1 = relu(conv1(X))  Y = relu(conv2(T1) + (ds ? Y : X))
 * then X and Y swap. The residual may alias the output (the igemm epilogue reads it
 * before it writes, element by element). With NHWC activations (rc->nhwc) the same walk runs
 * on kernels/conv_nhwc_cuda.h: the input is converted to NHWC once, the max pool and the global
 * pool read NHWC, the fc stays float32.
 */
#include "nets/resnet_cuda.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/conv_nhwc_cuda.h"
#include "kernels/conv2d_cuda.h"
#include "kernels/linear_cuda.h"
#include "kernels/pool_cuda.h"
#include "kernels/stem_s2d.h"
#include "kernels/to_u8_cuda.h"

/* ---------------------------------------------------------------- weights */

/* Folds BatchNorm `bname` into conv `cname` as lis_resnet_load does and uploads both: the
 * weights as float32 KCRS, or (nhwc: tf32 / bf16 / fp16) packed KRSC for kernels/conv_nhwc. */
static lis_status upload_conv(lis_resnet_cuda_conv *d, const lis_resnet_conv *hc, const lis_safetensors *st,
                              const char *cname, const char *bname, double eps, lis_precision nhwc) {
    memset(d, 0, sizeof *d);
    d->cin = hc->cin; d->cout = hc->cout; d->k = hc->k; d->stride = hc->stride; d->pad = hc->pad;
    d->cin_p = nhwc != LIS_PREC_FP32 ? lis_nhwc_pad_channels(hc->cin, nhwc) : hc->cin;
    float *wf, *bf;
    LIS_TRY(lis_resnet_read_folded(st, hc, cname, bname, eps, &wf, &bf));
    const size_t per = (size_t)hc->cin * hc->k * hc->k;
    lis_status s = LIS_OK;
    if (nhwc != LIS_PREC_FP32) {
        const size_t bytes = (size_t)hc->cout * hc->k * hc->k * d->cin_p * lis_nhwc_elem_size(nhwc);
        void *pk = lis_malloc(bytes, "NHWC conv weights");
        if (!pk) s = LIS_ERR;
        else {
            lis_nhwc_conv_pack_weights(wf, hc->cout, hc->cin, hc->k, hc->k, d->cin_p, nhwc, pk);
            if (!(d->wn = lis_dev_upload(pk, bytes, cname))) s = LIS_ERR;
            free(pk);
        }
    } else if (!(d->w = lis_dev_upload(wf, sizeof(float) * per * (size_t)hc->cout, cname))) s = LIS_ERR;
    if (s == LIS_OK && !(d->b = lis_dev_upload(bf, sizeof(float) * (size_t)hc->cout, bname))) s = LIS_ERR;
    free(wf);
    free(bf);
    return s;
}

static void conv_free(lis_resnet_cuda_conv *d) {
    lis_dev_free(d->w);
    lis_dev_free(d->wn);
    lis_dev_free(d->wn_s2d);
    lis_dev_free(d->b);
    memset(d, 0, sizeof *d);
}

static int conv_fits_nhwc(const lis_resnet_conv *c) { return c->cin % 8 == 0 && c->cout % 8 == 0; }

/* The stem as a 4x4 convolution on a space-to-depth input (kernels/stem_s2d.h): the default in
 * bf16 / fp16 (the H100 check of 2026-11-27, run 14: the stem 0.423 -> 0.270 ms in bf16, 0.432
 * -> 0.274 in fp16; in tf32, where the 7x7 stem pads 3 channels only to 4, the same time);
 * LIS_RESNET_STEM_S2D=0 turns it off, =1 on in tf32 too */
static int stem_s2d_wanted(lis_precision prec) {
    const char *e = getenv("LIS_RESNET_STEM_S2D");
    if (e) return !strcmp(e, "1");
    return prec == LIS_PREC_BF16 || prec == LIS_PREC_FP16;
}

/* The stem's weights also packed for the space-to-depth 4x4 convolution, on the NHWC path, for a
 * 7x7/2 stem with padding 3 (stem_s2d_wanted). A forward takes it when its input's height and
 * width are even. */
static lis_status upload_stem_s2d(lis_resnet_cuda_conv *d, const lis_resnet_conv *hc, const lis_safetensors *st,
                                  const char *cname, const char *bname, double eps, lis_precision prec) {
    const lis_nhwc_conv_params shape = {1, 224, 224, d->cin_p, hc->cout, hc->k, hc->k, hc->stride, hc->pad, 0};
    if (!stem_s2d_wanted(prec) || !lis_stem_s2d_applies(&shape, hc->cin)) return LIS_OK;
    float *wf, *bf;
    LIS_TRY(lis_resnet_read_folded(st, hc, cname, bname, eps, &wf, &bf));
    d->cin_s2d = lis_stem_s2d_channels(hc->cin, prec);
    const size_t bytes = (size_t)hc->cout * 16 * d->cin_s2d * lis_nhwc_elem_size(prec);
    void *pk = lis_malloc(bytes, "space-to-depth stem weights");
    lis_status s = pk ? LIS_OK : LIS_ERR;
    if (pk) {
        lis_stem_s2d_pack_weights(wf, hc->cout, hc->cin, d->cin_s2d, prec, pk);
        if (!(d->wn_s2d = lis_dev_upload(pk, bytes, cname))) s = LIS_ERR;
    }
    free(pk);
    free(wf);
    free(bf);
    return s;
}

int lis_resnet_cuda_nhwc_wanted(const lis_resnet *net, lis_precision prec) {
    const char *e = getenv("LIS_RESNET_NHWC");
    if ((e && !strcmp(e, "0")) || !lis_nhwc_elem_size(prec) || net->stem.cout % 8) return 0;
    for (int i = 0; i < net->total_blocks; i++) {
        const lis_resnet_block *b = &net->blocks[i];
        for (int c = 0; c < b->nconv; c++)
            if (!conv_fits_nhwc(&b->conv[c])) return 0;
        if (b->has_ds && !conv_fits_nhwc(&b->ds)) return 0;
    }
    return 1;
}

lis_status lis_resnet_cuda_init(lis_resnet_cuda *rc, const lis_resnet *net, const lis_safetensors *st,
                                lis_precision prec, int device_index) {
    memset(rc, 0, sizeof *rc);
    rc->net = net;
    rc->prec = prec;
    rc->nhwc = lis_resnet_cuda_nhwc_wanted(net, prec);
    const lis_precision nhwc = rc->nhwc ? prec : LIS_PREC_FP32;
    LIS_TRY(lis_cuda_select(device_index));
    LIS_TRY(lis_stream_create(&rc->stream));
    char cn[128], bn[128];
    lis_resnet_conv_names(0, 0, 0, cn, bn, sizeof cn);
    lis_status s = upload_conv(&rc->stem, &net->stem, st, cn, bn, net->bn_eps, nhwc);
    if (s == LIS_OK && rc->nhwc) s = upload_stem_s2d(&rc->stem, &net->stem, st, cn, bn, net->bn_eps, prec);
    if (s == LIS_OK && !(rc->convs = lis_calloc((size_t)net->total_blocks * 4, sizeof *rc->convs, "device convs"))) s = LIS_ERR;
    int bi = 0;
    for (int L = 1; s == LIS_OK && L <= 4; L++)
        for (int b = 0; s == LIS_OK && b < net->nblocks[L - 1]; b++, bi++) {
            const lis_resnet_block *blk = &net->blocks[bi];
            for (int c = 0; s == LIS_OK && c < 4; c++) {
                if (c >= blk->nconv && !(c == 3 && blk->has_ds)) continue;
                lis_resnet_conv_names(L, b, c, cn, bn, sizeof cn);
                s = upload_conv(&rc->convs[4 * bi + c], c == 3 ? &blk->ds : &blk->conv[c], st, cn, bn, net->bn_eps, nhwc);
            }
        }
    if (s == LIS_OK) {
        const size_t nw = (size_t)net->num_classes * net->feat_dim;
        if (!(rc->fc_w = lis_dev_upload(net->fc_w, nw * sizeof(float), "fc weights")) ||
            !(rc->fc_b = lis_dev_upload(net->fc_b, (size_t)net->num_classes * sizeof(float), "fc bias")))
            s = LIS_ERR;
    }
    if (s != LIS_OK) {
        lis_err_prefix("%s: uploading the classifier to the GPU", net->label);
        lis_resnet_cuda_free(rc);
    }
    return s;
}

static void free_plan(lis_resnet_cuda *rc) {
    lis_dev_free(rc->x); lis_dev_free(rc->X); lis_dev_free(rc->Y); lis_dev_free(rc->T1); lis_dev_free(rc->T2);
    lis_dev_free(rc->pooled); lis_dev_free(rc->logits); lis_dev_free(rc->xn); lis_dev_free(rc->tapbuf);
    rc->x = rc->X = rc->Y = rc->T1 = rc->T2 = rc->pooled = rc->logits = rc->tapbuf = NULL;
    rc->xn = NULL;
    rc->tap_floats = 0;
    rc->plan_n = rc->plan_h = rc->plan_w = 0;
}

static void free_pre(lis_resnet_cuda *rc) {
    lis_preprocess_cuda_free(&rc->pre);
    lis_dev_free(rc->u8);
    lis_dev_free(rc->pre_ws);
    rc->u8 = NULL;
    rc->pre_ws = NULL;
    rc->pre_r = rc->pre_n = 0;
}

void lis_resnet_cuda_free(lis_resnet_cuda *rc) {
    if (!rc) return;
    free_plan(rc);
    free_pre(rc);
    conv_free(&rc->stem);
    for (int i = 0; rc->convs && rc->net && i < rc->net->total_blocks * 4; i++) conv_free(&rc->convs[i]);
    free(rc->convs);
    lis_dev_free(rc->fc_w);
    lis_dev_free(rc->fc_b);
    lis_stream_destroy(rc->stream);
    memset(rc, 0, sizeof *rc);
}

/* ---------------------------------------------------------------- plan */

static int conv_out(int in, const lis_resnet_cuda_conv *c) { return (in + 2 * c->pad - c->k) / c->stride + 1; }

/* Largest per-image sizes of the block buffers (as nets/resnet.c's walk). 0 if too small. */
static int sizes(const lis_resnet_cuda *rc, int H, int W, size_t *mxy, size_t *mt1, size_t *mt2) {
    const lis_resnet *net = rc->net;
    *mxy = *mt1 = *mt2 = 0;
    int h = conv_out(H, &rc->stem), w = conv_out(W, &rc->stem);
    if (h < 1 || w < 1) return 0;
    *mxy = (size_t)net->stem_ch * h * w;
    h = (h + 2 - 3) / 2 + 1; w = (w + 2 - 3) / 2 + 1;
    if (h < 1 || w < 1) return 0;
    int bi = 0;
    for (int L = 0; L < 4; L++)
        for (int b = 0; b < net->nblocks[L]; b++, bi++) {
            const lis_resnet_block *blk = &net->blocks[bi];
            int ch = h, cw = w;
            for (int c = 0; c < blk->nconv; c++) {
                const lis_resnet_cuda_conv *cv = &rc->convs[4 * bi + c];
                ch = conv_out(ch, cv); cw = conv_out(cw, cv);
                if (ch < 1 || cw < 1) return 0;
                const size_t sz = (size_t)cv->cout * ch * cw;
                if (c == 0 && sz > *mt1) *mt1 = sz;
                if (c == 1 && blk->nconv == 3 && sz > *mt2) *mt2 = sz;
            }
            h = ch; w = cw;
            const size_t so = (size_t)blk->conv[blk->nconv - 1].cout * h * w;
            if (so > *mxy) *mxy = so;
        }
    return 1;
}

lis_status lis_resnet_cuda_plan(lis_resnet_cuda *rc, int N, int H, int W) {
    if (N < 1 || H < 1 || W < 1) return lis_err_set("resnet (GPU): bad batch %d or input size %dx%d", N, H, W);
    if (rc->x && N <= rc->plan_n && H == rc->plan_h && W == rc->plan_w) return LIS_OK;
    free_plan(rc);
    size_t mxy, mt1, mt2;
    if (!sizes(rc, H, W, &mxy, &mt1, &mt2)) return lis_err_set("%s: input %dx%d is too small", rc->net->label, H, W);
    if (!mt2) mt2 = 1;
    const size_t n = (size_t)N;
    rc->x = lis_dev_alloc(sizeof(float) * n * rc->net->in_ch * H * W, "classifier input");
    rc->X = rc->x ? lis_dev_alloc(sizeof(float) * n * mxy, "classifier activations") : NULL;
    rc->Y = rc->X ? lis_dev_alloc(sizeof(float) * n * mxy, "classifier activations") : NULL;
    rc->T1 = rc->Y ? lis_dev_alloc(sizeof(float) * n * mt1, "classifier activations") : NULL;
    rc->T2 = rc->T1 ? lis_dev_alloc(sizeof(float) * n * mt2, "classifier activations") : NULL;
    rc->pooled = rc->T2 ? lis_dev_alloc(sizeof(float) * n * rc->net->feat_dim, "features") : NULL;
    rc->logits = rc->pooled ? lis_dev_alloc(sizeof(float) * n * rc->net->num_classes, "logits") : NULL;
    size_t xn_bytes = n * H * W * rc->stem.cin_p * lis_nhwc_elem_size(rc->prec);
    if (rc->stem.wn_s2d) { /* room for the space-to-depth form too */
        const size_t s2d = n * ((H + 2) / 2) * ((W + 2) / 2) * rc->stem.cin_s2d * lis_nhwc_elem_size(rc->prec);
        if (s2d > xn_bytes) xn_bytes = s2d;
    }
    if (rc->logits && rc->nhwc) rc->xn = lis_dev_alloc(xn_bytes, "classifier input (NHWC)");
    if (!rc->logits || (rc->nhwc && !rc->xn)) {
        lis_err_prefix("%s: batch %d at %dx%d", rc->net->label, N, H, W);
        free_plan(rc);
        return LIS_ERR;
    }
    /* fresh buffers hold NaN (every byte 0xff), so an element a kernel forgets to write shows in
     * the tests instead of stale data; synchronised, so a caller may fill x from any stream */
    float *bufs[7] = {rc->x, rc->X, rc->Y, rc->T1, rc->T2, rc->pooled, rc->logits};
    const size_t nfl[7] = {n * rc->net->in_ch * H * W, n * mxy, n * mxy, n * mt1, n * mt2,
                           n * rc->net->feat_dim, n * rc->net->num_classes};
    lis_status st = LIS_OK;
    for (int i = 0; i < 7 && st == LIS_OK; i++) st = lis_dev_memset(bufs[i], 0xff, sizeof(float) * nfl[i], rc->stream);
    if (st == LIS_OK && rc->xn) st = lis_dev_memset(rc->xn, 0xff, xn_bytes, rc->stream);
    if (st == LIS_OK) st = lis_stream_sync(rc->stream);
    if (st != LIS_OK) { free_plan(rc); return st; }
    rc->plan_n = N; rc->plan_h = H; rc->plan_w = W;
    rc->tap_floats = n * mxy;
    return LIS_OK;
}

/* ---------------------------------------------------------------- forward */

static lis_status run_conv(lis_resnet_cuda *rc, const lis_resnet_cuda_conv *cv, int N, int H, int W,
                           const float *x, const float *res, float *y, lis_act act) {
    lis_conv2d_params p = {.N = N, .C = cv->cin, .H = H, .W = W, .K = cv->cout, .R = cv->k, .S = cv->k,
                           .stride_h = cv->stride, .stride_w = cv->stride, .pad_h = cv->pad, .pad_w = cv->pad,
                           .dil_h = 1, .dil_w = 1, .act = act, .slope = 0.0f};
    LIS_TRY(lis_conv2d_cuda(&p, x, cv->w, cv->b, res, y, rc->prec, rc->stream));
    if (rc->on_conv) rc->on_conv(rc->on_conv_ctx, rc->conv_count, &p);
    rc->conv_count++;
    return LIS_OK;
}

static lis_status tap(lis_resnet_cuda *rc, const lis_resnet_taps *taps, int stage, const float *src, size_t n) {
    if (!taps || !taps->stage[stage]) return LIS_OK;
    return lis_dev_d2h(taps->stage[stage], src, n * sizeof(float), rc->stream);
}

/* ---- NHWC activations (kernels/conv_nhwc_cuda.h) ---- */

/* the hook describes convolution cv on an H x W input in conv2d terms */
static void report_conv(lis_resnet_cuda *rc, const lis_resnet_cuda_conv *cv, int N, int H, int W, int relu) {
    if (rc->on_conv) {
        const lis_conv2d_params q = {.N = N, .C = cv->cin, .H = H, .W = W, .K = cv->cout, .R = cv->k, .S = cv->k,
                                     .stride_h = cv->stride, .stride_w = cv->stride, .pad_h = cv->pad, .pad_w = cv->pad,
                                     .dil_h = 1, .dil_w = 1, .act = relu ? LIS_ACT_RELU : LIS_ACT_NONE, .slope = 0.0f};
        rc->on_conv(rc->on_conv_ctx, rc->conv_count, &q);
    }
    rc->conv_count++;
}

static lis_status run_nhwc_conv(lis_resnet_cuda *rc, const lis_resnet_cuda_conv *cv, int N, int H, int W, const void *x,
                             const void *res, void *y, int relu) {
    const lis_nhwc_conv_params p = {N, H, W, cv->cin_p, cv->cout, cv->k, cv->k, cv->stride, cv->pad, relu};
    LIS_TRY(lis_nhwc_conv_cuda(&p, x, cv->wn, cv->b, res, y, rc->prec, rc->stream));
    report_conv(rc, cv, N, H, W, relu);
    return LIS_OK;
}

/* a tapped stage: NHWC [N][hw][C] -> NCHW float32 on the host */
static lis_status tap_nhwc(lis_resnet_cuda *rc, const lis_resnet_taps *taps, int stage, const void *src, int N, int C,
                        int hw) {
    if (!taps || !taps->stage[stage]) return LIS_OK;
    const size_t n = (size_t)N * C * hw;
    if (n > rc->tap_floats) return lis_err_set("resnet (GPU): tap of %zu values exceeds the plan's %zu", n, rc->tap_floats);
    if (!rc->tapbuf && !(rc->tapbuf = lis_dev_alloc(sizeof(float) * rc->tap_floats, "classifier taps"))) return LIS_ERR;
    LIS_TRY(lis_nhwc_to_nchw_cuda(src, N, C, hw, C, rc->tapbuf, rc->prec, rc->stream));
    return lis_dev_d2h(taps->stage[stage], rc->tapbuf, n * sizeof(float), rc->stream);
}

static lis_status forward_nhwc(lis_resnet_cuda *rc, int N, int H, int W, const float *x, float *r, float *logits,
                            const lis_resnet_taps *taps) {
    const lis_resnet *net = rc->net;
    void *X = rc->X, *Y = rc->Y;
    rc->conv_count = 0;
    if (rc->stem.wn_s2d && H % 2 == 0 && W % 2 == 0) { /* the stem as a 4x4 convolution (kernels/stem_s2d.h) */
        LIS_TRY(lis_stem_s2d_cuda(x, N, net->in_ch, H, W, rc->stem.cin_s2d, rc->xn, rc->prec, rc->stream));
        const lis_nhwc_conv_params p7 = {N, H, W, rc->stem.cin_p, rc->stem.cout, 7, 7, 2, 3, 0};
        const lis_nhwc_conv_params p4 = lis_stem_s2d_params(&p7, rc->stem.cin_s2d);
        LIS_TRY(lis_nhwc_conv_cuda(&p4, rc->xn, rc->stem.wn_s2d, rc->stem.b, NULL, Y, rc->prec, rc->stream));
        report_conv(rc, &rc->stem, N, H, W, 0); /* as the 7x7/2 stem: its multiply-adds, comparable */
    } else {
        LIS_TRY(lis_nchw_to_nhwc_cuda(x, N, net->in_ch, H * W, rc->stem.cin_p, rc->xn, rc->prec, rc->stream));
        LIS_TRY(run_nhwc_conv(rc, &rc->stem, N, H, W, rc->xn, NULL, Y, 0));
    }
    int h = conv_out(H, &rc->stem), w = conv_out(W, &rc->stem);
    LIS_TRY(tap_nhwc(rc, taps, LIS_RESNET_STAGE_BN1, Y, N, net->stem_ch, h * w));
    lis_maxpool_params mp = {N, net->stem_ch, h, w, 3, 2, 1, 1};
    LIS_TRY(lis_maxpool_nhwc_cuda(&mp, Y, X, rc->prec, rc->stream));
    lis_maxpool_out_shape(&mp, &h, &w);
    LIS_TRY(tap_nhwc(rc, taps, LIS_RESNET_STAGE_MAXPOOL, X, N, net->stem_ch, h * w));
    int bi = 0;
    for (int L = 0; L < 4; L++) {
        for (int b = 0; b < net->nblocks[L]; b++, bi++) {
            const lis_resnet_block *blk = &net->blocks[bi];
            const lis_resnet_cuda_conv *cv = &rc->convs[4 * bi];
            if (blk->has_ds) LIS_TRY(run_nhwc_conv(rc, &cv[3], N, h, w, X, NULL, Y, 0));
            const void *idn = blk->has_ds ? Y : X;
            LIS_TRY(run_nhwc_conv(rc, &cv[0], N, h, w, X, NULL, rc->T1, 1));
            const int h1 = conv_out(h, &cv[0]), w1 = conv_out(w, &cv[0]);
            if (blk->nconv == 3) {
                LIS_TRY(run_nhwc_conv(rc, &cv[1], N, h1, w1, rc->T1, NULL, rc->T2, 1));
                const int h2 = conv_out(h1, &cv[1]), w2 = conv_out(w1, &cv[1]);
                LIS_TRY(run_nhwc_conv(rc, &cv[2], N, h2, w2, rc->T2, idn, Y, 1));
                h = conv_out(h2, &cv[2]); w = conv_out(w2, &cv[2]);
            } else {
                LIS_TRY(run_nhwc_conv(rc, &cv[1], N, h1, w1, rc->T1, idn, Y, 1));
                h = conv_out(h1, &cv[1]); w = conv_out(w1, &cv[1]);
            }
            void *t = X; X = Y; Y = t;
        }
        LIS_TRY(tap_nhwc(rc, taps, LIS_RESNET_STAGE_LAYER1 + L, X, N, net->stage_ch[L], h * w));
    }
    float *pooled = r ? r : rc->pooled;
    LIS_TRY(lis_avgpool_nhwc_cuda(N, net->feat_dim, h * w, X, pooled, rc->prec, rc->stream));
    if (logits) LIS_TRY(lis_linear_cuda(N, net->feat_dim, net->num_classes, pooled, rc->fc_w, rc->fc_b, logits, rc->stream));
    return LIS_OK;
}

lis_status lis_resnet_cuda_forward_dev(lis_resnet_cuda *rc, int N, int H, int W, const float *x, float *r,
                                       float *logits, const lis_resnet_taps *taps) {
    const lis_resnet *net = rc->net;
    if (!rc->x || N > rc->plan_n || H != rc->plan_h || W != rc->plan_w)
        return lis_err_set("resnet (GPU): batch %d at %dx%d does not fit the plan (%d at %dx%d)", N, H, W, rc->plan_n,
                           rc->plan_h, rc->plan_w);
    if (rc->nhwc) return forward_nhwc(rc, N, H, W, x, r, logits, taps);
    float *X = rc->X, *Y = rc->Y;
    rc->conv_count = 0;
    LIS_TRY(run_conv(rc, &rc->stem, N, H, W, x, NULL, Y, LIS_ACT_NONE));
    int h = conv_out(H, &rc->stem), w = conv_out(W, &rc->stem);
    LIS_TRY(tap(rc, taps, LIS_RESNET_STAGE_BN1, Y, (size_t)N * net->stem_ch * h * w));
    lis_maxpool_params mp = {N, net->stem_ch, h, w, 3, 2, 1, 1};
    LIS_TRY(lis_maxpool_cuda(&mp, Y, X, rc->stream));
    lis_maxpool_out_shape(&mp, &h, &w);
    LIS_TRY(tap(rc, taps, LIS_RESNET_STAGE_MAXPOOL, X, (size_t)N * net->stem_ch * h * w));
    int bi = 0;
    for (int L = 0; L < 4; L++) {
        for (int b = 0; b < net->nblocks[L]; b++, bi++) {
            const lis_resnet_block *blk = &net->blocks[bi];
            const lis_resnet_cuda_conv *cv = &rc->convs[4 * bi];
            if (blk->has_ds) LIS_TRY(run_conv(rc, &cv[3], N, h, w, X, NULL, Y, LIS_ACT_NONE));
            const float *idn = blk->has_ds ? Y : X;
            LIS_TRY(run_conv(rc, &cv[0], N, h, w, X, NULL, rc->T1, LIS_ACT_RELU));
            const int h1 = conv_out(h, &cv[0]), w1 = conv_out(w, &cv[0]);
            if (blk->nconv == 3) {
                LIS_TRY(run_conv(rc, &cv[1], N, h1, w1, rc->T1, NULL, rc->T2, LIS_ACT_RELU));
                const int h2 = conv_out(h1, &cv[1]), w2 = conv_out(w1, &cv[1]);
                LIS_TRY(run_conv(rc, &cv[2], N, h2, w2, rc->T2, idn, Y, LIS_ACT_RELU));
                h = conv_out(h2, &cv[2]); w = conv_out(w2, &cv[2]);
            } else {
                LIS_TRY(run_conv(rc, &cv[1], N, h1, w1, rc->T1, idn, Y, LIS_ACT_RELU));
                h = conv_out(h1, &cv[1]); w = conv_out(w1, &cv[1]);
            }
            float *t = X; X = Y; Y = t;
        }
        LIS_TRY(tap(rc, taps, LIS_RESNET_STAGE_LAYER1 + L, X, (size_t)N * net->stage_ch[L] * h * w));
    }
    float *pooled = r ? r : rc->pooled;
    LIS_TRY(lis_avgpool_global_cuda(N, net->feat_dim, h, w, X, pooled, rc->stream));
    if (logits) LIS_TRY(lis_linear_cuda(N, net->feat_dim, net->num_classes, pooled, rc->fc_w, rc->fc_b, logits, rc->stream));
    return LIS_OK;
}

lis_status lis_resnet_cuda_forward(lis_resnet_cuda *rc, int N, int H, int W, const float *x, float *r, float *logits,
                                   const lis_resnet_taps *taps) {
    LIS_TRY(lis_resnet_cuda_plan(rc, N, H, W));
    LIS_TRY(lis_dev_h2d(rc->x, x, sizeof(float) * (size_t)N * rc->net->in_ch * H * W, rc->stream));
    LIS_TRY(lis_resnet_cuda_forward_dev(rc, N, H, W, rc->x, rc->pooled, rc->logits, taps));
    if (r) LIS_TRY(lis_dev_d2h(r, rc->pooled, sizeof(float) * (size_t)N * rc->net->feat_dim, rc->stream));
    if (logits) LIS_TRY(lis_dev_d2h(logits, rc->logits, sizeof(float) * (size_t)N * rc->net->num_classes, rc->stream));
    return LIS_OK;
}

lis_status lis_resnet_cuda_classify_images(lis_resnet_cuda *rc, const float *img, int N, int R, float *r,
                                           float *logits) {
    const lis_resnet *net = rc->net;
    if (net->in_ch != 3) return lis_err_set("%s: classify_images needs a 3-channel classifier", net->label);
    if (rc->pre_r != R || N > rc->pre_n) {
        free_pre(rc);
        lis_preprocess_plan pl;
        LIS_TRY(lis_preprocess_plan_init(&pl, &net->pre, R, R));
        lis_status s = lis_preprocess_cuda_upload(&rc->pre, &pl);
        lis_preprocess_plan_free(&pl);
        LIS_TRY(s);
        rc->u8 = lis_dev_alloc((size_t)N * R * R * 3, "generated images (uint8)");
        rc->pre_ws = rc->u8 ? lis_dev_alloc(lis_preprocess_cuda_workspace(&rc->pre, N), "preprocessing") : NULL;
        if (!rc->pre_ws) { free_pre(rc); return LIS_ERR; }
        rc->pre_r = R;
        rc->pre_n = N;
    }
    const int ch = rc->pre.crop_h, cw = rc->pre.crop_w;
    LIS_TRY(lis_resnet_cuda_plan(rc, N, ch, cw));
    LIS_TRY(lis_to_u8_cuda(img, N, 3, R, R, rc->u8, rc->stream));
    LIS_TRY(lis_preprocess_cuda(&rc->pre, N, rc->u8, rc->x, rc->pre_ws, rc->stream));
    /* the plan above may have replaced rc->pooled / rc->logits: resolve NULL only now */
    return lis_resnet_cuda_forward_dev(rc, N, ch, cw, rc->x, r ? r : rc->pooled, logits ? logits : rc->logits, NULL);
}

/* ---------------------------------------------------------------- runner */

lis_status lis_resnet_runner_init(lis_resnet_runner *r, lis_resnet *net, const lis_safetensors *st,
                                  const char *device, const char *precision) {
    memset(r, 0, sizeof *r);
    r->net = net;
    LIS_TRY(lis_device_parse(device, &r->dev));
    r->prec = LIS_PREC_FP32;
    if (precision && *precision) LIS_TRY(lis_precision_parse(precision, &r->prec));
    if (r->dev.kind == LIS_DEVICE_CPU) {
        if (r->prec != LIS_PREC_FP32)
            return lis_err_usage("--precision %s needs --device cuda (the CPU computes in float32)",
                                 lis_precision_name(r->prec));
        return LIS_OK;
    }
    r->rc = lis_malloc(sizeof *r->rc, "classifier (GPU)");
    if (!r->rc) return LIS_ERR;
    lis_status s = lis_resnet_cuda_init(r->rc, net, st, r->prec, r->dev.index);
    if (s != LIS_OK) { free(r->rc); r->rc = NULL; }
    return s;
}

lis_status lis_resnet_runner_forward(lis_resnet_runner *r, int N, int H, int W, const float *x, float *feat,
                                     float *logits, const lis_resnet_taps *taps) {
    if (r->rc) return lis_resnet_cuda_forward(r->rc, N, H, W, x, feat, logits, taps);
    return lis_resnet_forward(r->net, N, H, W, x, feat, logits, taps);
}

const char *lis_resnet_runner_describe(const lis_resnet_runner *r, char *buf, size_t cap) {
    const lis_device cpu = {LIS_DEVICE_CPU, 0};
    return lis_device_describe(r->rc ? r->dev : cpu, r->prec, buf, cap);
}

void lis_resnet_runner_free(lis_resnet_runner *r) {
    if (!r) return;
    if (r->rc) {
        lis_resnet_cuda_free(r->rc);
        free(r->rc);
    }
    memset(r, 0, sizeof *r);
}
