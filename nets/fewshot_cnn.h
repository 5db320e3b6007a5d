/* fewshot_cnn.h — the segmentation head of LinkingInStyle (repurpose-GAN's FewShotCNN,
 * src/repurpose_gan/model.py; spec/classifier.md 6.2, spec/pipeline.md 6.4-6.6):
 * a stack of 3x3 convolutions (bias, padding = dilation) with LeakyReLU(0.2) between them
 * and none after the last, on the generator's features nearest-resized to img_size and
 * concatenated (kernels/nearest_concat.h), giving n_class logits per pixel.
 *
 *   size  dilations              channels
 *   S     1 2 1 2 1              in 128 64 64 32 n_class
 *   M     1 2 4 1 2 4 1          in 128 64 64 64 64 32 n_class
 *   L     1 2 4 8 1 2 4 8 1      in 128 64 64 64 64 64 64 32 n_class
 *
 * Weight file: safetensors with the original state-dict names layers.<2i>.weight
 * [c_out, c_in, 3, 3] and layers.<2i>.bias [c_out] (odd indices are the LeakyReLUs), and
 * __metadata__ "config":
 *   {"arch": "fewshot_cnn", "size": "S", "n_class": 3, "in_ch": 51, "img_size": 64,
 *    "registration": "original" | "cropped", "layers": ["input", "L1_40_16", ...],
 *    "labels": ["background", ...]}
 * "layers" names the generator modules whose outputs feed the head, in concatenation
 * order; "registration" says whether their StyleGAN3 margins were kept (the original) or
 * cropped. A converted original .pth (`lis-run convert FewShotSegmenter_S_128_128_dogs.pth`)
 * carries only the tensors: size, in_ch and n_class come from the shapes, img_size
 * defaults to 128 and registration to "original".
 *
 * Inference runs the first conv from the taps (no concatenation), the rest as packed
 * GEMM convolutions; buffers are planned once for a tap geometry (lis_fewshot_plan), so
 * predicting allocates nothing. Training (lis_fewshot_train_*) is the original's
 * train_seg_model: pixel-mean cross-entropy, batch size 1, Adam(lr 1e-3, betas
 * (0.9, 0.999), eps 1e-8) with weight_decay 1e-3 ADDED TO THE GRADIENT (L2, torch.optim.Adam,
 * not AdamW), StepLR(step 50 epochs, gamma 0.1) stepped per epoch, a fresh random order of
 * the images each epoch (seeded here; the original's np.random.shuffle is unseeded).
 */
#ifndef LIS_FEWSHOT_CNN_H
#define LIS_FEWSHOT_CNN_H

#include <stdint.h>

#include "kernels/conv2d.h"
#include "kernels/nearest_concat.h"
#include "nets/stylegan_xl.h"
#include "nets/stylegan_xl_cuda.h"

#define LIS_FEWSHOT_MAX_CONV 9
#define LIS_FEWSHOT_MAX_TAPS LIS_NC_MAX_MAPS
#define LIS_FEWSHOT_NAME 64

typedef enum { LIS_REG_ORIGINAL = 0, LIS_REG_CROPPED = 1 } lis_registration;

typedef struct {
    char size;                                 /* 'S', 'M' or 'L' */
    int n_conv, in_ch, n_class, img_size;
    int ch[LIS_FEWSHOT_MAX_CONV + 1];          /* ch[0] = in_ch ... ch[n_conv] = n_class */
    int dil[LIS_FEWSHOT_MAX_CONV];
    float *params;                             /* all weights and biases, owned */
    size_t n_params;
    float *w[LIS_FEWSHOT_MAX_CONV], *b[LIS_FEWSHOT_MAX_CONV]; /* views into params */
    lis_registration registration;
    int n_taps;                                /* 0: not recorded */
    char tap_names[LIS_FEWSHOT_MAX_TAPS][LIS_FEWSHOT_NAME];
    int n_labels_named;
    char label_names[32][LIS_FEWSHOT_NAME];    /* optional */
    /* plan (lis_fewshot_plan) */
    lis_nc_params nc;
    int planned, packed_version, weights_version;
    lis_tapconv_packed pk0;
    lis_conv2d_packed pk[LIS_FEWSHOT_MAX_CONV];
    void *ws;                                  /* max of the convs' workspaces */
    float *act[2];                             /* ping-pong activations [max ch, S, S] */
} lis_fewshot;

/* Architecture of a size letter (S, M, L); returns the conv count, or 0. */
int lis_fewshot_arch(char size, int in_ch, int n_class, int *ch, int *dil);

/* New net with PyTorch's default init (kaiming_uniform(a = sqrt 5): weights and biases
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in))), drawn from numpy's RandomState(seed) stream. */
lis_status lis_fewshot_init(lis_fewshot *net, char size, int in_ch, int n_class, int img_size, uint32_t seed);
lis_status lis_fewshot_load(lis_fewshot *net, const char *path);
/* Writes the weight file atomically (config as above; origin may be NULL). */
lis_status lis_fewshot_save(const lis_fewshot *net, const char *path, const char *origin);
void lis_fewshot_free(lis_fewshot *net);

/* Sets the tap geometry (nc: maps, windows, out = img_size; K, dil, act are filled in
 * here) and plans buffers. Re-planning with the same geometry is free. */
lis_status lis_fewshot_plan(lis_fewshot *net, const lis_nc_params *nc);

/* maps[m]: one image's tap m [C_m, size_m, size_m] -> logits [n_class, S, S]. */
lis_status lis_fewshot_forward(lis_fewshot *net, const float *const *maps, float *logits);
/* The oracle: concatenation + naive convolutions (allocates). */
lis_status lis_fewshot_forward_ref(const lis_fewshot *net, const lis_nc_params *nc, const float *const *maps, float *logits);

/* Per-pixel argmax over classes (first maximum, as torch.max): logits [n_class, npx] ->
 * labels [npx]. */
void lis_fewshot_argmax(const float *logits, int n_class, int64_t npx, uint8_t *labels);

/* ---- training ---- */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay; /* 1e-3, 0.9, 0.999, 1e-8, 1e-3 */
    int step_size;                              /* StepLR epochs (50) */
    double gamma;                               /* 0.1 */
} lis_fewshot_train_params;

void lis_fewshot_train_params_default(lis_fewshot_train_params *p);

typedef struct {
    lis_fewshot_train_params p;
    float *m, *v, *grad;        /* [n_params] */
    float *acts;                /* every layer's output, for the backward pass */
    float *dy, *dx, *wflip;     /* gradient buffers, flipped weights */
    void *ws;
    size_t ws_size;
    int64_t step;               /* Adam steps taken */
    int epoch;                  /* StepLR epoch counter */
} lis_fewshot_trainer;

lis_status lis_fewshot_trainer_init(lis_fewshot_trainer *t, lis_fewshot *net, const lis_fewshot_train_params *p);
void lis_fewshot_trainer_free(lis_fewshot_trainer *t);
/* Current learning rate (StepLR on the epoch counter). */
double lis_fewshot_lr(const lis_fewshot_trainer *t);
/* One Adam step on one image: maps as lis_fewshot_forward, labels [S, S] class ids
 * (< n_class). *loss = the pixel-mean cross-entropy before the step. */
lis_status lis_fewshot_train_step(lis_fewshot *net, lis_fewshot_trainer *t, const float *const *maps, const uint8_t *labels,
                                  double *loss);
/* Cross-entropy and its gradient (softmax - onehot) / npx, exposed for tests. grad may be
 * NULL. Returns the mean loss. */
double lis_fewshot_ce(const float *logits, const uint8_t *labels, int n_class, int64_t npx, float *grad);

/* ---- the generator's features (spec/pipeline.md 6.3) ----
 * Synthesis modules are numbered as the tap callback of nets/stylegan_xl.h numbers them:
 * 0 = "input", i >= 1 = layers[i-1]. The original hooks every module and keeps every
 * second one starting with the first ([::2] of the hooked outputs): input, L1, L3, ... for
 * ImageNet-256 (13,588 channels), input, L1, L4, L6 for the toy world (51 channels). */

/* The original's tap list; returns its length (<= max). */
int lis_fewshot_default_taps(const lis_sgxl *g, int *modules, int max);
/* The modules a head's file names (net->tap_names), or the default list when it names
 * none; errors name a missing layer. */
lis_status lis_fewshot_resolve_taps(const lis_fewshot *net, const lis_sgxl *g, int *modules, int *n);
/* Geometry of the taps resized to out: the original keeps the StyleGAN3 margins
 * (window = whole map); "cropped" reads the central window of each map that has a margin
 * (out_size != img_resolution; margin = (input size - input sampling rate) / 2, the
 * generator's margin_size). */
lis_status lis_fewshot_tap_geometry(const lis_sgxl *g, const int *modules, int n, lis_registration reg, int out,
                                    lis_nc_params *nc);

/* Predicting (and capturing training features) straight from w: the synthesis runs with a
 * tap callback that adds each tapped layer's contribution to the head's first conv as it
 * appears (lis_tapconv_add_map), so neither the concatenation nor the taps are kept. */
typedef struct {
    lis_fewshot *net;
    lis_sgxl *g;
    int n_taps, modules[LIS_FEWSHOT_MAX_TAPS];
    int slot[1024];            /* module index -> tap position, or -1 */
    lis_nc_params nc;          /* the taps' geometry (net planned with it) */
    int batch;
    float *y0;                 /* [batch, K, S, S] first conv accumulators */
    float *logits;             /* [n_class, S, S] */
    float *img;                /* [batch, C, R, R] synthesis output */
    float *ws_full;            /* [batch, num_ws, w_dim] */
    float *act[2];             /* [batch, max ch, S, S]: layers 1.. run on the whole batch */
    void *conv_ws;             /* conv workspace for N = batch */
    int conv_planned_n;
    /* capture mode (training): grids of each image, see lis_nc_grid_copy */
    float *capture;            /* [batch, grid_floats] or NULL */
    size_t grid_off[LIS_FEWSHOT_MAX_TAPS], grid_floats;
    lis_status cb_status;
    lis_sgxl_runner *gpu;      /* borrowed: the synthesis on the GPU (taps come back per layer), or NULL */
} lis_seg_gen;

/* net must already have the tap list and registration it will use (tap_names set or
 * default); plans the net for the generator's tap geometry at net->img_size. gpu: NULL (the
 * synthesis on the CPU) or a runner planned for batch; the head itself runs on the CPU. */
lis_status lis_seg_gen_init(lis_seg_gen *s, lis_fewshot *net, lis_sgxl *g, int batch, lis_sgxl_runner *gpu);
void lis_seg_gen_free(lis_seg_gen *s);
/* w [B, w_dim] (tiled to every ws row, as the pipeline renders) -> labels [B, S, S]; u8
 * (optional) [B, R, R, C] the image as w_to_img makes it. B <= batch. */
lis_status lis_seg_gen_predict(lis_seg_gen *s, const float *w, int B, uint8_t *labels, uint8_t *u8);
/* w [B, w_dim] -> grids [B, grid_floats] for training (and u8 as above). */
lis_status lis_seg_gen_capture(lis_seg_gen *s, const float *w, int B, float *grids, uint8_t *u8);
/* Geometry of captured grids and the per-map pointers of image b's grids. */
void lis_seg_gen_grid_geometry(const lis_seg_gen *s, lis_nc_params *nc);
void lis_seg_gen_grid_maps(const lis_seg_gen *s, const float *grids_b, const float **maps);

#endif
