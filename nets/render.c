/* render.c — see render.h. */
#include "nets/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/to_u8.h"
#include "nets/render_cuda.h"

/* the host buffers both backends use; the CPU networks' own plans only on the CPU */
static lis_status init_host(lis_render *r, lis_sgxl *g, lis_resnet *cls, int batch, int cpu) {
    memset(r, 0, sizeof *r);
    r->g = g;
    r->cls = cls;
    r->batch = batch;
    int R = g->img_resolution, C = g->img_channels;
    if (cls && (C != 3 || cls->in_ch != 3))
        return lis_err_set("the classifier takes %d-channel images but the generator makes %d", cls ? cls->in_ch : 0, C);
    r->ws = lis_malloc(sizeof(float) * (size_t)batch * g->num_ws * g->w_dim, "ws");
    r->img = lis_alloc_aligned(sizeof(float) * (size_t)batch * C * R * R, "images");
    r->u8 = lis_malloc((size_t)batch * R * R * C, "uint8 images");
    if (!r->ws || !r->img || !r->u8) { lis_render_free(r); return LIS_ERR; }
    if (!cpu) return LIS_OK;
    lis_status s = lis_sgxl_plan(g, batch);
    if (s == LIS_OK && cls) {
        s = lis_preprocess_plan_init(&r->pre, &cls->pre, R, R);
        if (s == LIS_OK) {
            r->x = lis_alloc_aligned(sizeof(float) * (size_t)batch * 3 * cls->pre.crop_h * cls->pre.crop_w, "classifier input");
            if (!r->x) s = LIS_ERR;
        }
        if (s == LIS_OK) s = lis_resnet_plan(cls, batch, cls->pre.crop_h, cls->pre.crop_w);
    }
    if (s != LIS_OK) lis_render_free(r);
    return s;
}

lis_status lis_render_init(lis_render *r, lis_sgxl *g, lis_resnet *cls, int batch) {
    return init_host(r, g, cls, batch, 1);
}

lis_status lis_render_init_on(lis_render *r, lis_sgxl *g, lis_resnet *cls, const char *cls_path, int batch,
                              const char *device, const char *precision) {
    lis_device dev;
    lis_precision prec = LIS_PREC_FP32;
    memset(r, 0, sizeof *r);
    LIS_TRY(lis_device_parse(device, &dev));
    if (precision && *precision) LIS_TRY(lis_precision_parse(precision, &prec));
    if (dev.kind == LIS_DEVICE_CPU) {
        if (prec != LIS_PREC_FP32)
            return lis_err_usage("precision %s needs device cuda (the CPU computes in float32)", lis_precision_name(prec));
        return lis_render_init(r, g, cls, batch);
    }
    LIS_TRY(init_host(r, g, cls, batch, 0));
    lis_status s = lis_render_cuda_init(r, cls_path, &dev, prec);
    if (s != LIS_OK) lis_render_free(r);
    if (s != LIS_OK && (!device || !*device || !strcmp(device, "auto")) && prec == LIS_PREC_FP32) {
        /* auto: a GPU that cannot take the networks (memory, driver) leaves the CPU */
        fprintf(stderr, "lis-run: warning: the GPU could not be used (%s); rendering on the CPU\n", lis_err_msg());
        return lis_render_init(r, g, cls, batch);
    }
    return s;
}

const char *lis_render_describe(const lis_render *r, char *buf, size_t cap) {
    if (r->dev) return lis_render_cuda_describe(r, buf, cap);
    snprintf(buf, cap, "cpu (fp32)");
    return buf;
}

void lis_render_free(lis_render *r) {
    if (!r) return;
    if (r->dev) lis_render_cuda_free(r);
    free(r->ws);
    free(r->img);
    free(r->u8);
    free(r->x);
    if (r->cls) lis_preprocess_plan_free(&r->pre); /* zeroed when never planned */
    memset(r, 0, sizeof *r);
}

int lis_argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

lis_status lis_render_w(lis_render *r, int64_t n, const float *w, uint8_t *u8, float *img, float *feat, float *logits) {
    lis_sgxl *g = r->g;
    int R = g->img_resolution, C = g->img_channels;
    size_t isz = (size_t)C * R * R;
    if ((feat || logits) && !r->cls) return lis_err_set("internal: rendering without a classifier cannot give features");
    if (r->dev) return lis_render_cuda_w(r, n, w, u8, img, feat, logits);
    for (int64_t n0 = 0; n0 < n; n0 += r->batch) {
        int B = n - n0 < r->batch ? (int)(n - n0) : r->batch;
        for (int b = 0; b < B; b++)
            for (int k = 0; k < g->num_ws; k++)
                memcpy(r->ws + ((size_t)b * g->num_ws + k) * g->w_dim, w + (size_t)(n0 + b) * g->w_dim,
                       sizeof(float) * (size_t)g->w_dim);
        LIS_TRY(lis_sgxl_synthesis(g, r->ws, B, r->img, NULL, NULL));
        if (img) memcpy(img + (size_t)n0 * isz, r->img, sizeof(float) * (size_t)B * isz);
        lis_to_u8_ref(r->img, B, C, R, R, r->u8);
        if (u8) memcpy(u8 + (size_t)n0 * isz, r->u8, (size_t)B * isz);
        if (feat || logits) {
            lis_preprocess_run(&r->pre, B, r->u8, r->x);
            LIS_TRY(lis_resnet_forward(r->cls, B, r->cls->pre.crop_h, r->cls->pre.crop_w, r->x,
                                       feat ? feat + (size_t)n0 * r->cls->feat_dim : NULL,
                                       logits ? logits + (size_t)n0 * r->cls->num_classes : NULL, NULL));
        }
    }
    return LIS_OK;
}
