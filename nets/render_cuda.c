/* render_cuda.c — the GPU path of nets/render.h: w -> synthesis -> uint8 -> preprocessing
 * -> classifier, all on the device, with only the outputs the caller asks for copied back.
 *
 * Plain C over the device networks' C interfaces (nets/stylegan_xl_cuda.h,
 * nets/resnet_cuda.h), so it builds without CUDA too: there the networks' init fails with
 * "no CUDA device" and lis_render_init_on reports it.
 *
 * The generator and the classifier each own a stream; a batch waits for the synthesis
 * before the classifier reads its images. Host copies go through the render's host buffers
 * (r->img, r->u8), which lis_render_init_on sized for one batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/to_u8.h"
#include "nets/render_cuda.h"
#include "nets/resnet_cuda.h"
#include "nets/stylegan_xl_cuda.h"
#include "runtime/safetensors.h"

typedef struct {
    lis_device dev;
    lis_precision prec;
    lis_sgxl_cuda gc;
    lis_resnet_cuda rc;
    int gc_ok, rc_ok;
} render_dev;

lis_status lis_render_cuda_init(lis_render *r, const char *cls_path, const lis_device *dev, lis_precision prec) {
    render_dev *d = calloc(1, sizeof *d);
    if (!d) return lis_err_set("out of memory");
    r->dev = d;
    d->dev = *dev;
    d->prec = prec;
    lis_status s = lis_sgxl_cuda_init(&d->gc, r->g, prec, dev->index);
    if (s != LIS_OK) return s;
    d->gc_ok = 1;
    LIS_TRY(lis_sgxl_cuda_plan(&d->gc, r->batch));
    if (!r->cls) return LIS_OK;
    if (!cls_path) return lis_err_set("internal: the GPU classifier needs its weight file");
    lis_safetensors st;
    LIS_TRY(lis_st_open(&st, cls_path));
    s = lis_resnet_cuda_init(&d->rc, r->cls, &st, prec, dev->index);
    lis_st_close(&st);
    if (s != LIS_OK) return s;
    d->rc_ok = 1;
    return LIS_OK;
}

void lis_render_cuda_free(lis_render *r) {
    render_dev *d = r->dev;
    if (!d) return;
    if (d->rc_ok) lis_resnet_cuda_free(&d->rc);
    if (d->gc_ok) lis_sgxl_cuda_free(&d->gc);
    free(d);
    r->dev = NULL;
}

const char *lis_render_cuda_describe(const lis_render *r, char *buf, size_t cap) {
    const render_dev *d = r->dev;
    return lis_device_describe(d->dev, d->prec, buf, cap);
}

lis_status lis_render_cuda_w(lis_render *r, int64_t n, const float *w, uint8_t *u8, float *img, float *feat,
                             float *logits) {
    render_dev *d = r->dev;
    const lis_sgxl *g = r->g;
    const int R = g->img_resolution, C = g->img_channels;
    const size_t isz = (size_t)C * R * R, wsz = (size_t)g->num_ws * g->w_dim;
    /* uint8 images come from the classifier's input buffer when it runs anyway (the very
     * images it classified); otherwise from the float images, converted on the host */
    const int classify = feat || logits;
    for (int64_t n0 = 0; n0 < n; n0 += r->batch) {
        const int B = n - n0 < r->batch ? (int)(n - n0) : r->batch;
        for (int b = 0; b < B; b++)
            for (int k = 0; k < g->num_ws; k++)
                memcpy(r->ws + ((size_t)b * g->num_ws + k) * g->w_dim, w + (size_t)(n0 + b) * g->w_dim,
                       sizeof(float) * (size_t)g->w_dim);
        LIS_TRY(lis_dev_h2d(d->gc.ws, r->ws, sizeof(float) * wsz * B, d->gc.stream));
        LIS_TRY(lis_sgxl_cuda_synthesis_dev(&d->gc, d->gc.ws, B, d->gc.img, NULL, NULL));
        if (img || (u8 && !classify)) {
            LIS_TRY(lis_dev_d2h(r->img, d->gc.img, sizeof(float) * isz * B, d->gc.stream));
            if (img) memcpy(img + (size_t)n0 * isz, r->img, sizeof(float) * isz * B);
            if (u8 && !classify) {
                lis_to_u8_ref(r->img, B, C, R, R, r->u8);
                memcpy(u8 + (size_t)n0 * isz, r->u8, isz * B);
            }
        }
        if (!classify) continue;
        LIS_TRY(lis_stream_sync(d->gc.stream)); /* the classifier's stream reads the images */
        LIS_TRY(lis_resnet_cuda_classify_images(&d->rc, d->gc.img, B, R, NULL, NULL));
        const lis_resnet *cls = r->cls;
        if (feat)
            LIS_TRY(lis_dev_d2h(feat + (size_t)n0 * cls->feat_dim, d->rc.pooled, sizeof(float) * cls->feat_dim * B,
                                d->rc.stream));
        if (logits)
            LIS_TRY(lis_dev_d2h(logits + (size_t)n0 * cls->num_classes, d->rc.logits,
                                sizeof(float) * cls->num_classes * B, d->rc.stream));
        if (u8) LIS_TRY(lis_dev_d2h(u8 + (size_t)n0 * isz, d->rc.u8, isz * B, d->rc.stream));
    }
    return LIS_OK;
}
