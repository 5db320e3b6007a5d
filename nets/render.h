/* render.h — the step every pipeline stage repeats: w -> generator -> uint8 image ->
 * preprocessing -> classifier -> (r, logits). As in LinkingInStyle, a single 512-d w is
 * tiled to all num_ws rows, the image is converted to uint8 exactly as w_to_img does
 * (kernels/to_u8.h), and the classifier sees torchvision's validation transform of that
 * uint8 image (the classifier's own preprocessing from its weight file).
 *
 * Buffers are planned once for a batch size; rendering allocates nothing per image.
 *
 * On a GPU (lis_render_init_on with device cuda; nets/render_cuda.c) the whole chain runs on
 * the device (synthesis, uint8, resize/crop/normalize, classifier) and only what the caller
 * asks for comes back: r/logits, the uint8 images (those the classifier saw), the float
 * images. Results agree with the CPU to float32 tolerance, not bit for bit.
 */
#ifndef LIS_RENDER_H
#define LIS_RENDER_H

#include <stdint.h>

#include "nets/resnet.h"
#include "nets/stylegan_xl.h"

typedef struct {
    lis_sgxl *g;
    lis_resnet *cls;           /* may be NULL: images only */
    int batch;
    lis_preprocess_plan pre;
    float *ws, *img, *x;       /* [batch, num_ws, w_dim], [batch, C, R, R], [batch, 3, ch, cw] */
    uint8_t *u8;               /* [batch, R, R, C] */
    void *dev;                 /* the GPU state (render_cuda.c); NULL on the CPU */
} lis_render;

/* On the CPU. */
lis_status lis_render_init(lis_render *r, lis_sgxl *g, lis_resnet *cls, int batch);
/* device: "cpu", "cuda", "cuda:N" or "auto"; precision: NULL or fp32/tf32/bf16/fp16 (GPU
 * only). The GPU classifier folds its BatchNorm from the weight file, cls_path (when cls).
 * With "auto" (and fp32), a GPU that is present but cannot take the networks (out of
 * memory, driver error) falls back to the CPU with a warning on stderr. */
lis_status lis_render_init_on(lis_render *r, lis_sgxl *g, lis_resnet *cls, const char *cls_path, int batch,
                              const char *device, const char *precision);
/* "cpu (fp32)" or "cuda:0 <GPU name>, <precision>" */
const char *lis_render_describe(const lis_render *r, char *buf, size_t cap);
void lis_render_free(lis_render *r);

/* n images from w [n, w_dim] (tiled to every ws row). Any output may be NULL:
 * u8 [n, R, R, C], img [n, C, R, R] (float synthesis output), feat [n, feat_dim],
 * logits [n, num_classes]. */
lis_status lis_render_w(lis_render *r, int64_t n, const float *w, uint8_t *u8, float *img, float *feat, float *logits);

/* Class index of the largest logit (first maximum, as torch.argmax). */
int lis_argmax(const float *x, int n);

#endif
