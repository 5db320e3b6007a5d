/* stylegan_xl_cuda.h — the StyleGAN-XL synthesis network on the GPU, built from an
 * already-loaded host generator (nets/stylegan_xl.h). C code calling the C-callable
 * CUDA kernels; no CUDA types.
 *
 *   lis_sgxl g;            lis_sgxl_load(&g, path);
 *   lis_sgxl_cuda gc;      lis_sgxl_cuda_init(&gc, &g, LIS_PREC_FP32, 0);   uploads the weights once
 *                          lis_sgxl_cuda_plan(&gc, max_batch);              device memory, once
 *   lis_sgxl_cuda_synthesis(&gc, ws, B, img, tap, ctx);                     host ws in, host img out
 *
 * Per layer (B samples at once, on one stream): styles = affine(w) (fc_cuda), the modulated
 * convolution with styles folded into the gather and demodulation into the epilogue
 * (modconv_cuda / igemm), the fused filtered leaky ReLU (filtered_lrelu_cuda). Styles are
 * normalised per sample, as the CPU path does (kernels/modconv.h). The mapping network and
 * truncation stay on the CPU (0.35 M multiply-adds per image).
 *
 * Precision: `prec` applies to the convolutions and the input's channel mixing (tf32, bf16,
 * fp16 on tensor cores, float32 accumulation); filters, activations and reductions are
 * float32. FP32 is the validated default.
 *
 * Memory (planned once per batch size): two activation buffers, the conv output, styles
 * and factors, ws and the image; taps copy each layer's output to a host staging buffer
 * allocated on first use. Nothing is allocated while images are generated.
 *
 * lis_sgxl_runner is the device-agnostic entry for the CLI: the CPU path or this one.
 */
#ifndef LIS_STYLEGAN_XL_CUDA_H
#define LIS_STYLEGAN_XL_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/fc_cuda.h"
#include "kernels/modconv_cuda.h"
#include "kernels/synth_input_cuda.h"
#include "nets/stylegan_xl.h"
#include "runtime/backend.h"

/* One synthesis layer's device weights. */
typedef struct {
    lis_fc_dev affine;               /* w -> styles */
    lis_modconv_cuda_weights mc;     /* normalised conv weights + demodulation table */
    float *bias;                     /* device [out_ch] */
} lis_sgxl_cuda_layer;

typedef struct {
    lis_sgxl *g;                     /* the host generator (borrowed: config, filters) */
    lis_precision prec;
    lis_stream stream;               /* owned */
    lis_synth_input_dev input;
    lis_sgxl_cuda_layer *layers;     /* g->n_layers */
    int n_layers;
    /* plan: device memory unless noted */
    int plan_batch;
    float *ws;                       /* [B, num_ws, w_dim] */
    float *act[2];                   /* activations, act_floats each */
    float *conv;                     /* conv output / input-layer workspace, conv_floats */
    float *scratch;                  /* styles and modconv factors, scratch_floats */
    float *img;                      /* [B, img_channels, R, R] */
    size_t act_floats, conv_floats, scratch_floats;
    float *host_tap;                 /* host staging for taps (allocated on first use) */
} lis_sgxl_cuda;

/* Uploads every weight of g (which must outlive gc) to device `device_index`. */
lis_status lis_sgxl_cuda_init(lis_sgxl_cuda *gc, lis_sgxl *g, lis_precision prec, int device_index);
void lis_sgxl_cuda_free(lis_sgxl_cuda *gc);
/* Device memory for batches of up to max_batch (re-plans only to grow). Fresh buffers hold NaN
 * (so an element no kernel writes shows in the tests); returns with the stream idle. */
lis_status lis_sgxl_cuda_plan(lis_sgxl_cuda *gc, int max_batch);

/* Host in, host out: ws [B, num_ws, w_dim] -> img [B, C, R, R], as lis_sgxl_synthesis
 * (taps get HOST copies of each module's output). */
lis_status lis_sgxl_cuda_synthesis(lis_sgxl_cuda *gc, const float *ws, int B, float *img, lis_sgxl_tap_fn tap,
                                   void *tap_ctx);
/* Device in, device out (img_dev may be gc->img). ws_dev may be gc->ws. Asynchronous: the work
 * is queued on gc->stream (non-blocking: it does not order with the default stream), so
 * lis_stream_sync(gc->stream) before img_dev is read from another stream or the host. */
lis_status lis_sgxl_cuda_synthesis_dev(lis_sgxl_cuda *gc, const float *ws_dev, int B, float *img_dev,
                                       lis_sgxl_tap_fn tap, void *tap_ctx);

/* One layer on the device, as lis_sgxl_layer_forward (tests): x [B, in, S, S], w rows
 * [B, w_dim] with stride ldw -> y [B, out, So, So]; styles_out [B, in] and
 * conv_out [B, out, S+k-1, S+k-1] (device, may be NULL). scratch: device floats of
 * lis_sgxl_cuda_layer_scratch(L, B); conv: device floats B*out*(S+k-1)^2. */
lis_status lis_sgxl_cuda_layer_init(lis_sgxl_cuda_layer *d, const lis_sgxl_layer *L, lis_stream s);
void lis_sgxl_cuda_layer_free(lis_sgxl_cuda_layer *d);
size_t lis_sgxl_cuda_layer_scratch(const lis_sgxl_layer *L, int B);
lis_status lis_sgxl_cuda_layer_run(const lis_sgxl_layer *L, const lis_sgxl_cuda_layer *d, const float *x,
                                   const float *w, int64_t ldw, int B, float *y, float *conv, float *scratch,
                                   float *styles_out, int batch_style_norm, lis_precision prec, lis_stream s);

/* ---- device-agnostic runner for the CLI ---- */
typedef struct {
    lis_device dev;
    lis_precision prec;
    lis_sgxl *g;                     /* borrowed */
    lis_sgxl_cuda *gc;               /* NULL on the CPU */
} lis_sgxl_runner;

/* device: "cpu", "cuda", "cuda:N", or NULL/""/"auto" (cuda:0 when a GPU is present, else
 * cpu); precision: NULL or "fp32", "tf32", "bf16", "fp16" (the CPU runs fp32 only).
 * Plans for batches of up to max_batch. */
lis_status lis_sgxl_runner_init(lis_sgxl_runner *r, lis_sgxl *g, const char *device, const char *precision,
                                int max_batch);
lis_status lis_sgxl_runner_synthesis(lis_sgxl_runner *r, const float *ws, int B, float *img, lis_sgxl_tap_fn tap,
                                     void *tap_ctx);
/* "cpu (8 threads)" or "cuda:0 NVIDIA H100 ... fp32" */
const char *lis_sgxl_runner_describe(const lis_sgxl_runner *r, char *buf, size_t cap);
void lis_sgxl_runner_free(lis_sgxl_runner *r);

#endif
