/* stylegan_xl_cuda.c — the synthesis network on the GPU (see stylegan_xl_cuda.h).
 *
 * Layer i reads its w straight out of the device ws tensor (row stride num_ws * w_dim),
 * so nothing is gathered; activations ping-pong between act[0] and act[1]. The order of
 * operations follows lis_sgxl_synthesis (nets/stylegan_xl.c) step by step.
 */
#include "nets/stylegan_xl_cuda.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bias_act_cuda.h"
#include "kernels/filtered_lrelu_cuda.h"
#include "runtime/threads.h"

/* ---------------------------------------------------------------- one layer */

lis_status lis_sgxl_cuda_layer_init(lis_sgxl_cuda_layer *d, const lis_sgxl_layer *L, lis_stream s) {
    memset(d, 0, sizeof *d);
    lis_status st = lis_fc_cuda_upload(&d->affine, &L->affine);
    if (st == LIS_OK) st = lis_modconv_cuda_prepare(&d->mc, L->weight, L->out_ch, L->in_ch, L->k, !L->torgb, s);
    if (st == LIS_OK && !(d->bias = lis_dev_upload(L->bias, sizeof(float) * (size_t)L->out_ch, "layer bias"))) st = LIS_ERR;
    if (st != LIS_OK) {
        lis_err_prefix("layer %s", L->name);
        lis_sgxl_cuda_layer_free(d);
    }
    return st;
}

void lis_sgxl_cuda_layer_free(lis_sgxl_cuda_layer *d) {
    if (!d) return;
    lis_fc_cuda_free(&d->affine);
    lis_modconv_cuda_weights_free(&d->mc);
    lis_dev_free(d->bias);
    memset(d, 0, sizeof *d);
}

size_t lis_sgxl_cuda_layer_scratch(const lis_sgxl_layer *L, int B) {
    /* styles [B, in] + modconv factors [B, in + out] */
    return (size_t)B * L->in_ch + (size_t)B * (L->in_ch + L->out_ch);
}

lis_status lis_sgxl_cuda_layer_run(const lis_sgxl_layer *L, const lis_sgxl_cuda_layer *d, const float *x,
                                   const float *w, int64_t ldw, int B, float *y, float *conv, float *scratch,
                                   float *styles_out, int batch_style_norm, lis_precision prec, lis_stream s) {
    float *styles = scratch, *mc_ws = scratch + (size_t)B * L->in_ch;
    LIS_TRY(lis_fc_cuda(&d->affine, w, ldw, styles, B, s));
    if (L->torgb) { /* styles *= 1/sqrt(in * k * k), one float32 multiply as the CPU path */
        lis_bias_act_params scale = {0, 0.0f, (float)(1.0 / sqrt((double)L->in_ch * L->k * L->k)), -1.0f};
        LIS_TRY(lis_bias_act_cuda(&scale, styles, NULL, styles, 1, 1, (int64_t)B * L->in_ch, s));
    }
    if (styles_out) LIS_TRY(lis_dev_d2d(styles_out, styles, sizeof(float) * (size_t)B * L->in_ch, s));
    lis_modconv_params mp = {!L->torgb, L->k - 1, batch_style_norm};
    LIS_TRY(lis_modconv_cuda(&d->mc, &mp, x, styles, L->input_gain, B, L->in_size, L->in_size, conv, mc_ws, prec, s));
    const int Hc = L->in_size + L->k - 1;
    return lis_flrelu_cuda(&L->fl, conv, Hc, (int64_t)Hc * Hc, NULL, d->bias, y, B, L->out_ch, Hc, Hc, s);
}

/* ---------------------------------------------------------------- the network */

lis_status lis_sgxl_cuda_init(lis_sgxl_cuda *gc, lis_sgxl *g, lis_precision prec, int device_index) {
    memset(gc, 0, sizeof *gc);
    gc->g = g;
    gc->prec = prec;
    LIS_TRY(lis_cuda_select(device_index));
    LIS_TRY(lis_stream_create(&gc->stream));
    lis_status st = lis_synth_input_cuda_upload(&gc->input, &g->input);
    if (st == LIS_OK) {
        gc->layers = lis_calloc((size_t)g->n_layers, sizeof *gc->layers, "device layers");
        if (!gc->layers) st = LIS_ERR;
    }
    for (int i = 0; st == LIS_OK && i < g->n_layers; i++) {
        st = lis_sgxl_cuda_layer_init(&gc->layers[i], &g->layers[i], gc->stream);
        if (st == LIS_OK) gc->n_layers = i + 1;
    }
    if (st == LIS_OK) st = lis_stream_sync(gc->stream);
    if (st != LIS_OK) {
        lis_err_prefix("uploading the generator to the GPU");
        lis_sgxl_cuda_free(gc);
    }
    return st;
}

static void free_plan(lis_sgxl_cuda *gc) {
    lis_dev_free(gc->ws);
    lis_dev_free(gc->act[0]);
    lis_dev_free(gc->act[1]);
    lis_dev_free(gc->conv);
    lis_dev_free(gc->scratch);
    lis_dev_free(gc->img);
    free(gc->host_tap);
    gc->ws = gc->act[0] = gc->act[1] = gc->conv = gc->scratch = gc->img = gc->host_tap = NULL;
    gc->plan_batch = 0;
}

void lis_sgxl_cuda_free(lis_sgxl_cuda *gc) {
    if (!gc) return;
    free_plan(gc);
    for (int i = 0; gc->layers && i < gc->n_layers; i++) lis_sgxl_cuda_layer_free(&gc->layers[i]);
    free(gc->layers);
    lis_synth_input_cuda_free(&gc->input);
    lis_stream_destroy(gc->stream);
    memset(gc, 0, sizeof *gc);
}

lis_status lis_sgxl_cuda_plan(lis_sgxl_cuda *gc, int max_batch) {
    if (max_batch < 1) return lis_err_set("generator plan: batch %d", max_batch);
    if (max_batch <= gc->plan_batch) return LIS_OK;
    free_plan(gc);
    const lis_sgxl *g = gc->g;
    const size_t B = (size_t)max_batch;
    size_t act = (size_t)g->input.C * g->input.S * g->input.S, conv = 0, scratch = 0;
    for (int i = 0; i < g->n_layers; i++) {
        const lis_sgxl_layer *L = &g->layers[i];
        const size_t hc = (size_t)L->in_size + L->k - 1, a = (size_t)L->out_ch * L->out_size * L->out_size;
        if (a > act) act = a;
        if ((size_t)L->out_ch * hc * hc > conv) conv = (size_t)L->out_ch * hc * hc;
        const size_t sc = lis_sgxl_cuda_layer_scratch(L, 1);
        if (sc > scratch) scratch = sc;
    }
    act *= B;
    conv *= B;
    scratch *= B;
    const size_t in_ws = lis_synth_input_cuda_workspace(&gc->input, max_batch);
    if (in_ws > conv) conv = in_ws;
    const size_t img = B * g->img_channels * g->img_resolution * g->img_resolution;
    gc->ws = lis_dev_alloc(sizeof(float) * B * g->num_ws * g->w_dim, "ws");
    gc->act[0] = lis_dev_alloc(sizeof(float) * act, "activations");
    gc->act[1] = gc->act[0] ? lis_dev_alloc(sizeof(float) * act, "activations") : NULL;
    gc->conv = gc->act[1] ? lis_dev_alloc(sizeof(float) * conv, "conv output") : NULL;
    gc->scratch = gc->conv ? lis_dev_alloc(sizeof(float) * scratch, "styles") : NULL;
    gc->img = gc->scratch ? lis_dev_alloc(sizeof(float) * img, "images") : NULL;
    if (!gc->ws || !gc->img) {
        lis_err_prefix("generator at batch %d (%.2f GiB of activations)", max_batch,
                       (double)(2 * act + conv) * sizeof(float) / (1 << 30));
        free_plan(gc);
        return LIS_ERR;
    }
    /* fresh buffers hold NaN (every byte 0xff), so an element a kernel forgets to write shows in
     * the tests instead of stale data; synchronised, so a caller may fill ws from any stream */
    const void *bufs[6] = {gc->ws, gc->act[0], gc->act[1], gc->conv, gc->scratch, gc->img};
    const size_t nfl[6] = {B * g->num_ws * g->w_dim, act, act, conv, scratch, img};
    lis_status st = LIS_OK;
    for (int i = 0; i < 6 && st == LIS_OK; i++) st = lis_dev_memset((void *)bufs[i], 0xff, sizeof(float) * nfl[i], gc->stream);
    if (st == LIS_OK) st = lis_stream_sync(gc->stream);
    if (st != LIS_OK) {
        free_plan(gc);
        return st;
    }
    gc->act_floats = act;
    gc->conv_floats = conv;
    gc->scratch_floats = scratch;
    gc->plan_batch = max_batch;
    return LIS_OK;
}

/* Copies a module's output to the host and hands it to the tap. */
static lis_status tap_out(lis_sgxl_cuda *gc, lis_sgxl_tap_fn tap, void *ctx, int index, const char *name,
                          const float *x, int B, int C, int S) {
    if (!gc->host_tap) {
        gc->host_tap = lis_malloc(sizeof(float) * gc->act_floats, "tap staging");
        if (!gc->host_tap) return LIS_ERR;
    }
    LIS_TRY(lis_dev_d2h(gc->host_tap, x, sizeof(float) * (size_t)B * C * S * S, gc->stream));
    return tap(ctx, index, name, gc->host_tap, B, C, S);
}

lis_status lis_sgxl_cuda_synthesis_dev(lis_sgxl_cuda *gc, const float *ws_dev, int B, float *img_dev,
                                       lis_sgxl_tap_fn tap, void *tap_ctx) {
    const lis_sgxl *g = gc->g;
    if (B < 1) return LIS_OK;
    if (B > gc->plan_batch) return lis_err_set("generator: batch %d exceeds the device plan (%d)", B, gc->plan_batch);
    const int64_t ldw = (int64_t)g->num_ws * g->w_dim;
    LIS_TRY(lis_synth_input_cuda(&gc->input, ws_dev, ldw, gc->act[0], NULL, B, gc->conv, gc->prec, gc->stream));
    if (tap) LIS_TRY(tap_out(gc, tap, tap_ctx, 0, "input", gc->act[0], B, g->input.C, g->input.S));
    int cur = 0;
    for (int i = 0; i < g->n_layers; i++) {
        const lis_sgxl_layer *L = &g->layers[i];
        lis_status st = lis_sgxl_cuda_layer_run(L, &gc->layers[i], gc->act[cur], ws_dev + (size_t)(i + 1) * g->w_dim,
                                                ldw, B, gc->act[1 - cur], gc->conv, gc->scratch, NULL, 0, gc->prec,
                                                gc->stream);
        if (st != LIS_OK) { lis_err_prefix("layer %s", L->name); return st; }
        cur = 1 - cur;
        if (tap) LIS_TRY(tap_out(gc, tap, tap_ctx, i + 1, L->name, gc->act[cur], B, L->out_ch, L->out_size));
    }
    /* img = x * output_scale (one float32 multiply, as the CPU path) */
    lis_bias_act_params scale = {0, 0.0f, g->output_scale, -1.0f};
    const int64_t n = (int64_t)B * g->img_channels * g->img_resolution * g->img_resolution;
    return lis_bias_act_cuda(&scale, gc->act[cur], NULL, img_dev, 1, 1, n, gc->stream);
}

lis_status lis_sgxl_cuda_synthesis(lis_sgxl_cuda *gc, const float *ws, int B, float *img, lis_sgxl_tap_fn tap,
                                   void *tap_ctx) {
    const lis_sgxl *g = gc->g;
    if (B < 1) return LIS_OK;
    LIS_TRY(lis_sgxl_cuda_plan(gc, B));
    LIS_TRY(lis_dev_h2d(gc->ws, ws, sizeof(float) * (size_t)B * g->num_ws * g->w_dim, gc->stream));
    LIS_TRY(lis_sgxl_cuda_synthesis_dev(gc, gc->ws, B, gc->img, tap, tap_ctx));
    const size_t n = (size_t)B * g->img_channels * g->img_resolution * g->img_resolution;
    return lis_dev_d2h(img, gc->img, sizeof(float) * n, gc->stream);
}

/* ---------------------------------------------------------------- runner */

lis_status lis_sgxl_runner_init(lis_sgxl_runner *r, lis_sgxl *g, const char *device, const char *precision,
                                int max_batch) {
    memset(r, 0, sizeof *r);
    r->g = g;
    LIS_TRY(lis_device_parse(device, &r->dev));
    r->prec = LIS_PREC_FP32;
    if (precision && *precision) LIS_TRY(lis_precision_parse(precision, &r->prec));
    if (r->dev.kind == LIS_DEVICE_CPU) {
        if (r->prec != LIS_PREC_FP32)
            return lis_err_usage("--precision %s needs --device cuda (the CPU computes in float32)",
                                 lis_precision_name(r->prec));
        return lis_sgxl_plan(g, max_batch);
    }
    r->gc = lis_malloc(sizeof *r->gc, "generator (GPU)");
    if (!r->gc) return LIS_ERR;
    lis_status st = lis_sgxl_cuda_init(r->gc, g, r->prec, r->dev.index);
    if (st == LIS_OK) st = lis_sgxl_cuda_plan(r->gc, max_batch);
    if (st != LIS_OK) lis_sgxl_runner_free(r);
    return st;
}

lis_status lis_sgxl_runner_synthesis(lis_sgxl_runner *r, const float *ws, int B, float *img, lis_sgxl_tap_fn tap,
                                     void *tap_ctx) {
    if (r->gc) return lis_sgxl_cuda_synthesis(r->gc, ws, B, img, tap, tap_ctx);
    return lis_sgxl_synthesis(r->g, ws, B, img, tap, tap_ctx);
}

const char *lis_sgxl_runner_describe(const lis_sgxl_runner *r, char *buf, size_t cap) {
    if (!r->gc) {
        snprintf(buf, cap, "cpu (%d threads, fp32)", lis_threads_count());
        return buf;
    }
    return lis_device_describe(r->dev, r->prec, buf, cap);
}

void lis_sgxl_runner_free(lis_sgxl_runner *r) {
    if (!r) return;
    if (r->gc) {
        lis_sgxl_cuda_free(r->gc);
        free(r->gc);
    }
    memset(r, 0, sizeof *r);
}
