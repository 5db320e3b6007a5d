/* resnet_nhwc_ref.c — the CPU reference of the GPU classifier's NHWC path (see resnet_nhwc_ref.h):
 * lis_resnet_forward's block walk on lis_conv2d_cpu with the NHWC path's roundings. */
#include "nets/resnet_nhwc_ref.h"

#include <stdlib.h>
#include <string.h>

#include "kernels/conv2d.h"
#include "kernels/conv_nhwc.h"
#include "kernels/linear.h"
#include "kernels/pool.h"

/* v as the precision's NHWC tensors hold it (16-bit), or as its tensor cores read it (tf32) */
static float as_stored(float v, lis_precision prec) { return prec == LIS_PREC_TF32 ? v : lis_from16(lis_to16(v, prec), prec); }
static float as_operand(float v, lis_precision prec) { return prec == LIS_PREC_TF32 ? lis_round_tf32(v) : v; }

static int out_size(int in, const lis_resnet_conv *c) { return (in + 2 * c->pad - c->k) / c->stride + 1; }

/* y = store(act(conv(operand(x), operand(w)) + b + res)) for conv (stage, block, c) */
static lis_status conv(lis_resnet *net, const lis_safetensors *st, lis_precision prec, const lis_resnet_conv *hc,
                       int stage, int block, int c, int N, int H, int W, const float *x, const float *res, float *y,
                       int relu) {
    char cn[128], bn[128];
    lis_resnet_conv_names(stage, block, c, cn, bn, sizeof cn);
    float *wf, *bf;
    LIS_TRY(lis_resnet_read_folded(st, hc, cn, bn, net->bn_eps, &wf, &bf));
    const size_t nw = (size_t)hc->cout * hc->cin * hc->k * hc->k, nx = (size_t)N * hc->cin * H * W;
    for (size_t i = 0; i < nw; i++) wf[i] = as_operand(as_stored(wf[i], prec), prec);
    float *xo = NULL;
    if (prec == LIS_PREC_TF32) { /* 16-bit activations are operands as they are */
        if (!(xo = lis_malloc(sizeof(float) * nx, "tf32 operands"))) { free(wf); free(bf); return LIS_ERR; }
        for (size_t i = 0; i < nx; i++) xo[i] = lis_round_tf32(x[i]);
    }
    const lis_conv2d_params p = {N, hc->cin, H, W, hc->cout, hc->k, hc->k, hc->stride, hc->stride, hc->pad, hc->pad,
                                 1, 1, relu ? LIS_ACT_RELU : LIS_ACT_NONE, 0.0f};
    lis_status s = lis_conv2d_cpu(&p, xo ? xo : x, wf, bf, res, y);
    free(xo);
    free(wf);
    free(bf);
    if (s == LIS_OK && prec != LIS_PREC_TF32) {
        const size_t ny = (size_t)N * hc->cout * out_size(H, hc) * out_size(W, hc);
        for (size_t i = 0; i < ny; i++) y[i] = as_stored(y[i], prec);
    }
    return s;
}

lis_status lis_resnet_nhwc_ref_forward(lis_resnet *net, const lis_safetensors *st, lis_precision prec, int N, int H,
                                       int W, const float *x, float *r, float *logits) {
    LIS_TRY(lis_nhwc_prec_check(prec, "resnet NHWC reference"));
    LIS_TRY(lis_resnet_plan(net, N, H, W));
    float *X = net->buf_x, *Y = net->buf_y, *T1 = net->buf_t1, *T2 = net->buf_t2;
    /* the input as the NHWC path converts it: 16-bit values (tf32: the stem rounds its operands) */
    const size_t nx = (size_t)N * net->in_ch * H * W;
    float *xin = lis_malloc(sizeof(float) * nx, "resnet NHWC reference input");
    if (!xin) return LIS_ERR;
    for (size_t i = 0; i < nx; i++) xin[i] = as_stored(x[i], prec);
    lis_status s = conv(net, st, prec, &net->stem, 0, 0, 0, N, H, W, xin, NULL, Y, 0);
    free(xin);
    LIS_TRY(s);
    int h = out_size(H, &net->stem), w = out_size(W, &net->stem);
    lis_maxpool_params mp = {N, net->stem_ch, h, w, 3, 2, 1, 1}; /* ReLU fused: exact on stored values */
    lis_maxpool_cpu(&mp, Y, X);
    lis_maxpool_out_shape(&mp, &h, &w);
    int bi = 0;
    for (int L = 0; L < 4; L++)
        for (int b = 0; b < net->nblocks[L]; b++, bi++) {
            const lis_resnet_block *blk = &net->blocks[bi];
            if (blk->has_ds) LIS_TRY(conv(net, st, prec, &blk->ds, L + 1, b, 3, N, h, w, X, NULL, Y, 0));
            const float *idn = blk->has_ds ? Y : X;
            LIS_TRY(conv(net, st, prec, &blk->conv[0], L + 1, b, 0, N, h, w, X, NULL, T1, 1));
            const int h1 = out_size(h, &blk->conv[0]), w1 = out_size(w, &blk->conv[0]);
            if (blk->nconv == 3) {
                LIS_TRY(conv(net, st, prec, &blk->conv[1], L + 1, b, 1, N, h1, w1, T1, NULL, T2, 1));
                const int h2 = out_size(h1, &blk->conv[1]), w2 = out_size(w1, &blk->conv[1]);
                LIS_TRY(conv(net, st, prec, &blk->conv[2], L + 1, b, 2, N, h2, w2, T2, idn, Y, 1));
                h = out_size(h2, &blk->conv[2]); w = out_size(w2, &blk->conv[2]);
            } else {
                LIS_TRY(conv(net, st, prec, &blk->conv[1], L + 1, b, 1, N, h1, w1, T1, idn, Y, 1));
                h = out_size(h1, &blk->conv[1]); w = out_size(w1, &blk->conv[1]);
            }
            float *t = X; X = Y; Y = t;
        }
    float *pooled = r ? r : net->pooled;
    lis_avgpool_global_cpu(N, net->feat_dim, h, w, X, pooled);
    if (logits) lis_linear_cpu(N, net->feat_dim, net->num_classes, pooled, net->fc_w, net->fc_b, logits);
    return LIS_OK;
}
