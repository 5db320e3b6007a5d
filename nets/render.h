/* render.h — the step every pipeline stage repeats: w -> generator -> uint8 image ->
 * preprocessing -> classifier -> (r, logits). As in LinkingInStyle, a single 512-d w is
 * tiled to all num_ws rows, the image is converted to uint8 exactly as w_to_img does
 * (kernels/to_u8.h), and the classifier sees torchvision's validation transform of that
 * uint8 image (the classifier's own preprocessing from its weight file).
 *
 * Buffers are planned once for a batch size; rendering allocates nothing per image.
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
} lis_render;

lis_status lis_render_init(lis_render *r, lis_sgxl *g, lis_resnet *cls, int batch);
void lis_render_free(lis_render *r);

/* n images from w [n, w_dim] (tiled to every ws row). Any output may be NULL:
 * u8 [n, R, R, C], img [n, C, R, R] (float synthesis output), feat [n, feat_dim],
 * logits [n, num_classes]. */
lis_status lis_render_w(lis_render *r, int64_t n, const float *w, uint8_t *u8, float *img, float *feat, float *logits);

/* Class index of the largest logit (first maximum, as torch.argmax). */
int lis_argmax(const float *x, int n);

#endif
