/* resnet.h — torchvision ResNet (v1.5: stride on the 3x3 conv) for inference on the CPU:
 * the penultimate vector r (after the global average pool) and the fc logits, as
 * LinkingInStyle's load_encoder / get_full use torchvision.models.resnet50.
 *
 * The architecture is read from the weight file's tensor names and shapes (torchvision
 * state_dict names: conv1.weight, bn1.*, layer<L>.<B>.conv<i>.weight / bn<i>.* /
 * downsample.{0,1}.*, fc.weight, fc.bias): BasicBlock (conv1, conv2 3x3) or Bottleneck
 * (conv3 present), block counts per stage, widths. So ResNet-18/34/50/101/152 and
 * reduced-width variants (refs/resnet_small_ckpt, demo/classifier.safetensors) load the
 * same way; grouped convs (ResNeXt) and dilated stages are rejected. Every tensor must
 * be present with the expected shape and F32; a tensor the net does not use is an
 * error, except `*.num_batches_tracked` (unused in eval).
 *
 * BatchNorm (eval mode, eps from config "batchnorm_eps", default 1e-5) is folded into
 * the preceding conv at load, in float64, rounded once to float32 (spec/classifier.md
 * §2.1): W' = W * g/sqrt(v+eps), b' = beta - mean * g/sqrt(v+eps). The ReLU after bn1
 * is fused into the max pool (exact: padded cells never win the max).
 *
 * Optional `__metadata__["config"]` JSON (as written for demo/classifier.safetensors):
 * "batchnorm_eps", "class_names" (list of strings, one per class), and
 * "preprocessing": {"resize", "center_crop", "normalize_mean", "normalize_std"},
 * which feed lis_resnet.pre; absent keys keep the ImageNet defaults (256/224).
 *
 * Memory: weights are packed once at load; activations live in one arena sized by
 * lis_resnet_plan(N, H, W) (ping-pong block buffers, two bottleneck temporaries and
 * the conv workspace). lis_resnet_forward allocates nothing when it runs within the
 * last plan (any batch n <= N at the same H, W). A forward runs its batch in
 * sub-batches of at most `sub_batch` images (default LIS_RESNET_SUB_BATCH): with
 * more, the activations (3.2 MB per image and buffer at 56x56x256) no longer fit the
 * last-level cache and every conv pays DRAM traffic; with fewer, the 100 MB of
 * ResNet-50 weights are streamed once per sub-batch. Results do not depend on it. One forward at a time per lis_resnet
 * (the arena is shared); the forward itself runs on the process thread pool.
 *
 *   lis_resnet net;
 *   LIS_TRY(lis_resnet_load_file(&net, "r50.safetensors"));
 *   LIS_TRY(lis_resnet_forward(&net, n, 224, 224, x, r, logits, NULL));  // x: n x 3 x 224 x 224
 *   lis_resnet_free(&net);
 */
#ifndef LIS_RESNET_H
#define LIS_RESNET_H

#include "kernels/conv2d.h"
#include "kernels/winograd.h"
#include "kernels/preprocess.h"
#include "runtime/safetensors.h"

#define LIS_RESNET_SUB_BATCH 4

/* Stage outputs a forward can copy out (for tests and debugging), torchvision names. */
typedef enum {
    LIS_RESNET_STAGE_BN1 = 0, /* bn1(conv1(x)), before the ReLU            N x stem x H/2 x W/2 */
    LIS_RESNET_STAGE_MAXPOOL, /* maxpool(relu(bn1))                         N x stem x H/4 x W/4 */
    LIS_RESNET_STAGE_LAYER1,
    LIS_RESNET_STAGE_LAYER2,
    LIS_RESNET_STAGE_LAYER3,
    LIS_RESNET_STAGE_LAYER4,  /* N x feat x H/32 x W/32 */
    LIS_RESNET_NSTAGES
} lis_resnet_stage;

typedef struct {
    float *stage[LIS_RESNET_NSTAGES]; /* NULL, or a buffer of lis_resnet_stage_shape's size */
} lis_resnet_taps;

typedef struct {
    int cin, cout, k, stride, pad;
    float *b;                 /* folded bias, cout; owned */
    lis_conv2d_packed pk;     /* folded weights, packed (direct convolution); owned */
    lis_wino_packed wino;     /* or, for 3x3 stride-1 convs, Winograd F(2x2, 3x3)'s; owned */
    int use_wino;
} lis_resnet_conv;

typedef struct {
    int stride;               /* of the 3x3 conv (conv2 in a Bottleneck, conv1 in a BasicBlock) */
    int has_ds;               /* 1x1 downsample conv + BN on the identity path */
    int nconv;                /* 3 (Bottleneck) or 2 (BasicBlock) */
    lis_resnet_conv conv[3];
    lis_resnet_conv ds;
} lis_resnet_block;

typedef struct {
    /* architecture */
    int bottleneck;           /* 1: Bottleneck, 0: BasicBlock */
    int nblocks[4];           /* blocks per stage (ResNet-50: 3 4 6 3) */
    int stage_ch[4];          /* output channels per stage (ResNet-50: 256 512 1024 2048) */
    int in_ch;                /* input channels (3) */
    int stem_ch;              /* conv1 output channels (64) */
    int feat_dim;             /* r length = stage_ch[3] */
    int num_classes;          /* fc outputs */
    double bn_eps;
    lis_resnet_conv stem;
    lis_resnet_block *blocks; /* all stages in order; owned */
    int total_blocks;
    float *fc_w;              /* num_classes x feat_dim; owned */
    float *fc_b;              /* num_classes; owned */
    /* from the metadata config (defaults otherwise) */
    lis_preprocess_cfg pre;
    char **class_names;       /* num_classes strings or NULL; owned */
    char label[256];          /* weight file name, for messages */
    /* activation plan */
    int sub_batch;            /* images per internal pass; 0 = LIS_RESNET_SUB_BATCH */
    int plan_n, plan_h, plan_w;
    float *arena;             /* owned; the buffers below point into it */
    float *buf_x, *buf_y, *buf_t1, *buf_t2, *pooled;
    void *ws;
    size_t arena_bytes;
} lis_resnet;

/* Builds the net from a safetensors (a file, or an in-memory set from lis_synth_build).
 * Weights are copied (folded and packed), so st may be closed afterwards. */
lis_status lis_resnet_load(lis_resnet *net, const lis_safetensors *st);
lis_status lis_resnet_load_file(lis_resnet *net, const char *path);
void lis_resnet_free(lis_resnet *net);

/* Only the preprocessing of a weight file's metadata config (ImageNet defaults for
 * absent keys), without loading the net. */
lis_status lis_resnet_read_preprocess(const lis_safetensors *st, lis_preprocess_cfg *pre);

/* BatchNorm folded into a conv as every backend does it (float64, rounded once to float32):
 * wf[o][i] = w[o][i] * a, bf[o] = beta[o] - mean[o] * a, a = g[o] / sqrt(var[o] + eps), for
 * `per` weights per output channel. Fails, naming bname, where var + eps is not positive. */
lis_status lis_resnet_fold_bn(const float *w, const float *g, const float *beta, const float *mean, const float *var,
                              int cout, size_t per, double eps, const char *bname, float *wf, float *bf);
/* Reads conv `cname` (hc's shape) and BatchNorm `bname`.* from st and folds them: *wf
 * [cout][cin k k] and *bf [cout], malloc'd (for backends that need the raw weights again). */
lis_status lis_resnet_read_folded(const lis_safetensors *st, const lis_resnet_conv *hc, const char *cname,
                                  const char *bname, double eps, float **wf, float **bf);
/* The tensor names of a convolution: stage 0 the stem; else conv c (0-2, or 3: the downsample)
 * of block `block` of stage 1-4 ("layer2.0.conv1.weight", "layer2.0.bn1"). */
void lis_resnet_conv_names(int stage, int block, int c, char *cname, char *bname, size_t cap);

/* Sizes the activation arena for passes of up to N images of H x W (re-plans only
 * when something grows). lis_resnet_forward plans min(batch, sub_batch) itself. */
lis_status lis_resnet_plan(lis_resnet *net, int N, int H, int W);

/* One of the net's convolutions (BatchNorm folded; Winograd or direct, as loaded) over N
 * images of H x W, with its own workspace (lis_resnet_conv_workspace bytes); the forward
 * pass uses these, and so does lis-bench's per-layer breakdown. */
size_t lis_resnet_conv_workspace(const lis_resnet_conv *cv, int N, int H, int W);
void lis_resnet_conv_run(const lis_resnet_conv *cv, int N, int H, int W, const float *x, const float *res, float *y,
                         lis_act act, void *ws);

/* x: N x in_ch x H x W (preprocessed). r: N x feat_dim or NULL; logits: N x num_classes
 * or NULL; taps may be NULL. Plans first if (N, H, W) does not fit the current plan. */
lis_status lis_resnet_forward(lis_resnet *net, int N, int H, int W, const float *x, float *r, float *logits,
                              const lis_resnet_taps *taps);

/* Shape (C, h, w) of one stage's output for an H x W input; 0 if the input is too small. */
int lis_resnet_stage_shape(const lis_resnet *net, int stage, int H, int W, int *C, int *h, int *w);

/* Multiply-adds of one forward per image (convs + fc), for benchmarks. */
double lis_resnet_macs(const lis_resnet *net, int H, int W);

/* Name of class idx: the config's class_names, else the ImageNet-1k names when the
 * net has 1000 classes, else NULL. */
const char *lis_resnet_class_name(const lis_resnet *net, int idx);

#endif
