/* resnet_cuda.h — the torchvision ResNet classifier on the GPU, built from an
 * already-loaded host net (nets/resnet.h) and the weight file it was loaded from. C code
 * calling the C-callable CUDA kernels; no CUDA types.
 *
 *   lis_resnet net;          lis_resnet_load(&net, &st);
 *   lis_resnet_cuda rc;      lis_resnet_cuda_init(&rc, &net, &st, LIS_PREC_FP32, 0);
 *   lis_resnet_cuda_forward(&rc, N, 224, 224, x, r, logits, NULL);        host in, host out
 *   lis_resnet_cuda_classify_images(&rc, img_dev, N, 256, r_dev, logits_dev);
 *                            generator images [N, 3, R, R] in [-1, 1], all on the device:
 *                            uint8 (w_to_img), resize / crop / normalize (the net's
 *                            preprocessing config), forward
 *
 * BatchNorm is folded into each conv at init exactly as lis_resnet_load does (float64,
 * rounded once to float32); the host net keeps only packed copies, so the raw weights are
 * read again from `st` (which may be closed after init). The forward mirrors
 * lis_resnet_forward: conv + bias (+ residual) + ReLU in one igemm epilogue, max pool with
 * the fused ReLU, global average pool, fc. `prec` applies to the convolutions.
 *
 * NHWC activations (tf32 / bf16 / fp16, the default; LIS_RESNET_NHWC=0 keeps the NCHW float32
 * activations of the fp32 path): the convolutions run on kernels/conv_nhwc_cuda.h instead,
 * activations NHWC from the stem to the global pool (16-bit for bf16 / fp16, float32 for tf32),
 * weights packed KRSC at init (the stem's 3 input channels padded to 8, or 4 in tf32). Needs
 * every other convolution's channel counts to be multiples of 8 (else the NCHW path runs).
 * Taps are converted back to NCHW float32.
 *
 * Memory: one plan per (N, H, W): input, block ping-pong buffers, two bottleneck
 * temporaries, pooled features and logits, plus the preprocessing buffers of
 * classify_images; nothing is allocated per forward.
 */
#ifndef LIS_RESNET_CUDA_H
#define LIS_RESNET_CUDA_H

#include <stdint.h>

#include "kernels/conv2d.h"
#include "kernels/preprocess_cuda.h"
#include "nets/resnet.h"
#include "runtime/backend.h"
#include "runtime/safetensors.h"

typedef struct {
    int cin, cout, k, stride, pad;
    float *w;   /* device [cout, cin*k*k], BatchNorm folded */
    float *b;   /* device [cout], BatchNorm folded */
    void *wn;   /* NHWC path: device [cout, k, k, cin_p] of the precision's element type, BatchNorm
                 * folded; w is NULL */
    int cin_p;  /* NHWC path: cin rounded up to whole 16-byte copies (lis_nhwc_pad_channels) */
    void *wn_s2d; /* the stem with LIS_RESNET_STEM_S2D=1: its weights for the 4x4 convolution on the
                   * space-to-depth input (kernels/stem_s2d.h), [cout, 4, 4, cin_s2d]; else NULL */
    int cin_s2d;  /* channels of a space-to-depth block: 4 cin padded (lis_stem_s2d_channels) */
} lis_resnet_cuda_conv;

/* Called after each convolution is queued (for per-layer timing: lis-bench cuda classifier
 * --layers records a CUDA event there): `index` counts the forward's convolutions from 0 (the
 * stem). The maxpool, residual adds and pooling fall between them. */
typedef void (*lis_resnet_cuda_conv_hook)(void *ctx, int index, const lis_conv2d_params *p);

typedef struct {
    const lis_resnet *net;          /* borrowed: architecture, preprocessing config */
    lis_precision prec;
    int nhwc;                       /* 1: NHWC activations (see above) */
    lis_stream stream;              /* owned */
    lis_resnet_cuda_conv stem;
    lis_resnet_cuda_conv *convs;    /* per block: conv[0..2], ds (4 slots per block) */
    float *fc_w, *fc_b;             /* device */
    /* plan */
    int plan_n, plan_h, plan_w;
    float *x, *X, *Y, *T1, *T2, *pooled, *logits; /* device (X .. T2 hold NHWC elements with nhwc) */
    void *xn;                       /* nhwc: the input, NHWC, channels padded to stem.cin_p (or its
                                     * space-to-depth form, stem.cin_s2d channels) */
    float *tapbuf;                  /* nhwc: a tapped stage in NCHW float32 (allocated on first use) */
    size_t tap_floats;
    /* classify_images: preprocessing of R x R generator images */
    int pre_r, pre_n;
    lis_preprocess_dev pre;
    uint8_t *u8;                    /* device [pre_n, R, R, 3] */
    void *pre_ws;
    lis_resnet_cuda_conv_hook on_conv; /* NULL: none */
    void *on_conv_ctx;
    int conv_count;                 /* convolutions queued by the current forward */
} lis_resnet_cuda;

lis_status lis_resnet_cuda_init(lis_resnet_cuda *rc, const lis_resnet *net, const lis_safetensors *st,
                                lis_precision prec, int device_index);
/* Whether init takes the NHWC path for this net and precision: tf32, bf16 or fp16 and channel
 * counts that allow it, unless LIS_RESNET_NHWC=0 (read at each init). The default since the H100
 * check of 2026-11-27: ResNet-50 b64 tf32 / bf16 / fp16 6664 / 13010 / 12993 img/s against 5019 /
 * 5429 / 5486 on NCHW float32 activations (torchvision + cuDNN: 6707 / 11397 / 11718). */
int lis_resnet_cuda_nhwc_wanted(const lis_resnet *net, lis_precision prec);
void lis_resnet_cuda_free(lis_resnet_cuda *rc);
/* Fresh buffers hold NaN (so an element no kernel writes shows in the tests); returns with the
 * stream idle. */
lis_status lis_resnet_cuda_plan(lis_resnet_cuda *rc, int N, int H, int W);

/* Device in, device out: x [N, in_ch, H, W]; r [N, feat_dim] and logits [N, classes] may
 * be NULL; taps (host buffers, may be NULL) as lis_resnet_forward. N must fit the plan.
 * Asynchronous on rc->stream (non-blocking): sync it before reading r / logits elsewhere. */
lis_status lis_resnet_cuda_forward_dev(lis_resnet_cuda *rc, int N, int H, int W, const float *x, float *r,
                                       float *logits, const lis_resnet_taps *taps);
/* Host in, host out (plans as needed). */
lis_status lis_resnet_cuda_forward(lis_resnet_cuda *rc, int N, int H, int W, const float *x, float *r, float *logits,
                                   const lis_resnet_taps *taps);
/* Generator output on the device [N, 3, R, R] -> r / logits on the device. img must be complete
 * (sync the generator's stream first); asynchronous on rc->stream like forward_dev. r or logits
 * NULL: the plan's own rc->pooled / rc->logits, which this call may (re)allocate, so a caller
 * must pass NULL rather than those fields (read them after the call). */
lis_status lis_resnet_cuda_classify_images(lis_resnet_cuda *rc, const float *img, int N, int R, float *r,
                                           float *logits);

/* ---- device-agnostic runner for the CLI ---- */
typedef struct {
    lis_device dev;
    lis_precision prec;
    lis_resnet *net;                /* borrowed */
    lis_resnet_cuda *rc;            /* NULL on the CPU */
} lis_resnet_runner;

/* device: "cpu", "cuda", "cuda:N", or NULL/""/"auto" (cuda:0 when a GPU is present);
 * precision: NULL or fp32 / tf32 / bf16 / fp16 (the CPU runs fp32 only). `st` is the file
 * the net was loaded from (read again for the GPU's weights; may be closed afterwards). */
lis_status lis_resnet_runner_init(lis_resnet_runner *r, lis_resnet *net, const lis_safetensors *st,
                                  const char *device, const char *precision);
/* Host in, host out, as lis_resnet_forward. */
lis_status lis_resnet_runner_forward(lis_resnet_runner *r, int N, int H, int W, const float *x, float *feat,
                                     float *logits, const lis_resnet_taps *taps);
const char *lis_resnet_runner_describe(const lis_resnet_runner *r, char *buf, size_t cap);
void lis_resnet_runner_free(lis_resnet_runner *r);

#endif
