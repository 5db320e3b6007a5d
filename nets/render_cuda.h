/* render_cuda.h — the GPU half of nets/render.h, called by render.c only (a render whose
 * r->dev is set). Plain C: it builds without CUDA, where init fails with "no CUDA device". */
#ifndef LIS_RENDER_CUDA_H
#define LIS_RENDER_CUDA_H

#include "nets/render.h"
#include "runtime/backend.h"

lis_status lis_render_cuda_init(lis_render *r, const char *cls_path, const lis_device *dev, lis_precision prec);
void lis_render_cuda_free(lis_render *r);
lis_status lis_render_cuda_w(lis_render *r, int64_t n, const float *w, uint8_t *u8, float *img, float *feat,
                             float *logits);
const char *lis_render_cuda_describe(const lis_render *r, char *buf, size_t cap);

#endif
