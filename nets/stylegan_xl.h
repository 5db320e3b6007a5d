/* stylegan_xl.h — the StyleGAN-XL generator (G_ema of training/networks_stylegan3_resetting):
 * mapping network with class embedding, LinkingInStyle's truncation, and the synthesis
 * network (SynthesisInput + N SynthesisLayers, the last one ToRGB), with a tap on every
 * synthesis layer. Built from a lis weight file: a safetensors state dict with the
 * original names (mapping.*, synthesis.*) and in __metadata__ "config" the canonical
 * configuration (written by `lis-run convert`, weights_tools/sgxl_config.c):
 *
 *   {"arch": "stylegan_xl", "z_dim": 64, "w_dim": 512, "c_dim": 1000, "num_ws": 32,
 *    "img_resolution": 256, "img_channels": 3, "output_scale": 0.25,
 *    "mapping": {"num_layers": 2, "lr_multiplier": 0.01},
 *    "input": {"channels": 1024, "size": 36, "sampling_rate": 16, "bandwidth": 2},
 *    "layers": [{"name": "L0_36_1024", "in_ch": 1024, "out_ch": 1024, "in_size": 36,
 *                "out_size": 36, "k": 3, "up": 2, "down": 2, "padding": [9, 8, 9, 8],
 *                "torgb": false, "clamp": 256}, ...]}
 *
 * Nothing here assumes the ImageNet-256 numbers: sizes, widths, layer count, num_ws and
 * class count all come from the file. Filters come from the up_filter / down_filter
 * tensors (their length gives the taps).
 *
 * Memory: weights stay mmapped; the convolution weights are normalised and packed once
 * at load; activations and scratch are planned once per maximum batch (lis_sgxl_plan)
 * and reused, so generating images allocates nothing.
 */
#ifndef LIS_STYLEGAN_XL_H
#define LIS_STYLEGAN_XL_H

#include "kernels/fc.h"
#include "kernels/filtered_lrelu.h"
#include "kernels/modconv.h"
#include "kernels/synth_input.h"
#include "runtime/safetensors.h"

typedef struct {
    char name[64];
    int in_ch, out_ch, in_size, out_size, k, torgb;
    lis_fc affine;              /* w -> styles [in_ch] */
    lis_modconv_weights mc;     /* packed, normalised conv weights */
    lis_flrelu_params fl;       /* filters, up/down, padding, gain, slope, clamp */
    const float *weight;        /* [out_ch, in_ch, k, k] (view, for the reference path) */
    const float *bias;          /* [out_ch] (view) */
    float input_gain;           /* rsqrt(magnitude_ema) */
} lis_sgxl_layer;

typedef struct {
    lis_safetensors st;
    int z_dim, w_dim, c_dim, num_ws, img_resolution, img_channels;
    float output_scale;
    /* mapping */
    int embed_dim, n_map;
    const float *embed;         /* [c_dim, embed_dim] */
    lis_fc embed_proj;          /* embed_dim -> z_dim-sized projection, lrelu */
    lis_fc map[8];              /* fc0.. (lrelu, lr_multiplier) */
    const float *w_avg;         /* [c_dim, w_dim] per class, or [w_dim] */
    int w_avg_per_class;
    /* synthesis */
    lis_synth_input input;
    lis_sgxl_layer *layers;
    int n_layers;
    char **class_names;         /* optional, from the config (NULL if absent) */
    /* plan (lis_sgxl_plan) */
    int plan_batch;
    float *act[2], *raw, *scale, *styles, *wrow;
    void *mc_ws, *fl_ws, *in_ws;
} lis_sgxl;

lis_status lis_sgxl_load(lis_sgxl *g, const char *path);
void lis_sgxl_free(lis_sgxl *g);
/* Allocates activations and scratch for batches of up to max_batch images. */
lis_status lis_sgxl_plan(lis_sgxl *g, int max_batch);

/* z [B, z_dim] (float32), class indices [B] -> ws [B, num_ws, w_dim] (psi = 1).
 * psi/cutoff: the mapping network's internal truncation (lerp toward w_avg[c] on the
 * first `cutoff` ws; psi = 1 disables it; cutoff <= 0 means all). acts (optional):
 * [B, embed_dim] embed, [B, z_dim] embed_proj, then each fc output, for tests. */
lis_status lis_sgxl_mapping(const lis_sgxl *g, const float *z, const int64_t *cls, int B, float psi, int cutoff,
                            float *ws, float **acts);
/* LinkingInStyle's get_w_from_seed truncation: w = w_avg[c] + (w - w_avg[c]) * psi. */
void lis_sgxl_truncate(const lis_sgxl *g, const int64_t *cls, int B, float psi, float *ws);

/* Called after every synthesis module with its output [B, C, S, S]; index 0 is the input
 * layer ("input"), index i >= 1 is layers[i-1]. The ToRGB output is before output_scale. */
typedef lis_status (*lis_sgxl_tap_fn)(void *ctx, int index, const char *name, const float *x, int B, int C, int S);

/* ws [B, num_ws, w_dim] -> img [B, img_channels, R, R] (synthesis output * output_scale).
 * B <= plan batch. */
lis_status lis_sgxl_synthesis(lis_sgxl *g, const float *ws, int B, float *img, lis_sgxl_tap_fn tap, void *tap_ctx);

/* One synthesis layer on B samples (exposed for tests):
 * x [B, in_ch, in_size, in_size], w [B, w_dim] -> y [B, out_ch, out_size, out_size].
 * styles_out [B, in_ch] and conv_out [B, out_ch, in_size+k-1, ...] may be NULL.
 * batch_style_norm: see kernels/modconv.h. reference = 1 runs the _ref kernels. */
lis_status lis_sgxl_layer_forward(const lis_sgxl_layer *L, const float *x, const float *w, int B, int w_dim, float *y,
                                  float *styles_out, float *conv_out, int batch_style_norm, int reference);
lis_status lis_sgxl_layer_init(lis_sgxl_layer *L, const lis_safetensors *st, const char *prefix, const char *name,
                               int in_ch, int out_ch, int in_size, int out_size, int k, int up, int down,
                               const int pad[4], int torgb, float clamp, int w_dim);
void lis_sgxl_layer_free(lis_sgxl_layer *L);

#endif
