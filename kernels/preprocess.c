/* preprocess.c — torchvision VAL_TRANSFORM on uint8 RGB, bit-exact (see preprocess.h).
 *
 * Pillow 9.4 (libImaging/Resample.c) in brief, per axis of length in -> out:
 *   scale = in/out; filterscale = max(scale, 1); support = filterscale (bilinear: 1)
 *   center = (i + 0.5) * scale; xmin = max((int)(center - support + 0.5), 0);
 *   xmax = min((int)(center + support + 0.5), in); taps j in [0, xmax - xmin):
 *   w_j = tent((j + xmin - center + 0.5) * (1/filterscale)), normalised by their sum,
 *   k_j = (int)(w_j * 2^22 + 0.5)
 *   pass: acc = 2^21 + sum_j src[xmin + j] * k_j;  dst = clamp(acc >> 22, 0, 255)
 * Horizontal pass first (only if the width changes), its output stored as uint8, then
 * the vertical pass (only if the height changes). Every step is in integers, so any
 * float shortcut (one 2-D filter, no intermediate rounding) is off by a grey level.
 */
#include "kernels/preprocess.h"

#include <math.h>
#include <string.h>

#include "runtime/threads.h"

#define PRECISION_BITS 22

void lis_preprocess_cfg_default(lis_preprocess_cfg *cfg) {
    cfg->resize = 256;
    cfg->crop_h = cfg->crop_w = 224;
    /* float32 roundings of the Python floats, as torch.as_tensor(mean) makes them */
    cfg->mean[0] = (float)0.485; cfg->mean[1] = (float)0.456; cfg->mean[2] = (float)0.406;
    cfg->std[0] = (float)0.229;  cfg->std[1] = (float)0.224;  cfg->std[2] = (float)0.225;
}

void lis_resize_out_size(int h, int w, int size, int *oh, int *ow) {
    if (size <= 0) { *oh = h; *ow = w; return; }
    int s = h < w ? h : w, l = h < w ? w : h;
    /* Python: int(size * long / short): integer product, true division (correctly
     * rounded double, as is C's for these exact operands), truncation. */
    int nl = (int)((double)((int64_t)size * l) / (double)s);
    if (h <= w) { *oh = size; *ow = nl; }
    else { *oh = nl; *ow = size; }
}

int lis_center_crop_offset(int in, int out) {
    if (out > in) return -((out - in) / 2); /* torchvision pads left/top by (out-in)//2 */
    int d = in - out, k = d / 2;
    if (d % 2 == 0) return k;
    return (k % 2 == 0) ? k : k + 1; /* round(k + 0.5) to even */
}

/* Coefficients of output i on one axis, in double as Pillow computes them. Returns the
 * tap count; *first = first source index; w[0..ksize) (zero past the count). */
static int axis_coeffs(int in, int out, int i, double *w, int *first) {
    double scale = (double)in / (double)out;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale;
    double center = ((double)i + 0.5) * scale;
    double ss = 1.0 / filterscale;
    int xmin = (int)(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > in) xmax = in;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; x++) {
        double t = fabs(((double)(x + xmin) - center + 0.5) * ss);
        w[x] = t < 1.0 ? 1.0 - t : 0.0;
        ww += w[x];
    }
    for (int x = 0; x < xmax; x++)
        if (ww != 0.0) w[x] /= ww;
    *first = xmin;
    return xmax;
}

static int axis_ksize(int in, int out) {
    double scale = (double)in / (double)out;
    double support = scale < 1.0 ? 1.0 : scale;
    return (int)ceil(support) * 2 + 1;
}

static int32_t fixed_weight(double w) {
    return w < 0 ? (int32_t)(-0.5 + w * (1 << PRECISION_BITS)) : (int32_t)(0.5 + w * (1 << PRECISION_BITS));
}

static inline uint8_t clip8(int32_t acc) {
    if (acc >= (1 << PRECISION_BITS << 8)) return 255;
    if (acc <= 0) return 0;
    return (uint8_t)(acc >> PRECISION_BITS);
}

/* ---- reference ---- */

/* Value of the horizontal pass at (row r, output column j, channel c). */
static uint8_t ref_hpass(const uint8_t *src, int w, int ow, int r, int j, int c, double *wk) {
    if (w == ow) return src[((size_t)r * w + j) * 3 + c];
    int x0, n = axis_coeffs(w, ow, j, wk, &x0);
    int32_t acc = 1 << (PRECISION_BITS - 1);
    for (int t = 0; t < n; t++) acc += (int32_t)src[((size_t)r * w + x0 + t) * 3 + c] * fixed_weight(wk[t]);
    return clip8(acc);
}

void lis_resize_u8_ref(const uint8_t *src, int h, int w, uint8_t *dst, int oh, int ow) {
    /* ksize = 2*ceil(in/out)+1 <= 2003 for the reductions up to 1000x that plans accept */
    double wx[2048], wy[2048];
    LIS_ASSERT(axis_ksize(w, ow) <= 2048 && axis_ksize(h, oh) <= 2048);
    for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
            for (int c = 0; c < 3; c++) {
                uint8_t v;
                if (h == oh) {
                    v = ref_hpass(src, w, ow, i, j, c, wx);
                } else {
                    int y0, n = axis_coeffs(h, oh, i, wy, &y0);
                    int32_t acc = 1 << (PRECISION_BITS - 1);
                    for (int t = 0; t < n; t++)
                        acc += (int32_t)ref_hpass(src, w, ow, y0 + t, j, c, wx) * fixed_weight(wy[t]);
                    v = clip8(acc);
                }
                dst[((size_t)i * ow + j) * 3 + c] = v;
            }
}

/* ---- precomputed plan ---- */

static lis_status axis_init(lis_resize_axis *a, int in, int out) {
    memset(a, 0, sizeof *a);
    a->in = in;
    a->out = out;
    if (in == out) return LIS_OK; /* pass skipped */
    a->ksize = axis_ksize(in, out);
    a->bounds = lis_malloc(sizeof(int) * 2 * (size_t)out, "resize bounds");
    a->k = lis_calloc((size_t)out * (size_t)a->ksize, sizeof(int32_t), "resize weights");
    double *w = lis_malloc(sizeof(double) * (size_t)a->ksize, "resize weights");
    if (!a->bounds || !a->k || !w) { free(w); return LIS_ERR; }
    for (int i = 0; i < out; i++) {
        int x0, n = axis_coeffs(in, out, i, w, &x0);
        a->bounds[2 * i] = x0;
        a->bounds[2 * i + 1] = n;
        for (int t = 0; t < n; t++) a->k[(size_t)i * a->ksize + t] = fixed_weight(w[t]);
    }
    free(w);
    return LIS_OK;
}

lis_status lis_resize_plan_init(lis_resize_plan *pl, int h, int w, int oh, int ow) {
    memset(pl, 0, sizeof *pl);
    if (h < 1 || w < 1 || oh < 1 || ow < 1)
        return lis_err_set("resize: bad sizes %dx%d -> %dx%d", h, w, oh, ow);
    if ((double)h / oh > 1000.0 || (double)w / ow > 1000.0)
        return lis_err_set("resize: %dx%d -> %dx%d shrinks more than 1000x", h, w, oh, ow);
    pl->h = h; pl->w = w; pl->oh = oh; pl->ow = ow;
    if (axis_init(&pl->x, w, ow) != LIS_OK || axis_init(&pl->y, h, oh) != LIS_OK) {
        lis_resize_plan_free(pl);
        return LIS_ERR;
    }
    return LIS_OK;
}

void lis_resize_plan_free(lis_resize_plan *pl) {
    if (!pl) return;
    free(pl->x.bounds); free(pl->x.k);
    free(pl->y.bounds); free(pl->y.k);
    memset(pl, 0, sizeof *pl);
}

size_t lis_resize_tmp_size(const lis_resize_plan *pl) { return (size_t)pl->h * (size_t)pl->ow * 3; }

void lis_resize_u8_cpu(const lis_resize_plan *pl, const uint8_t *src, uint8_t *dst, uint8_t *tmp) {
    int h = pl->h, w = pl->w, oh = pl->oh, ow = pl->ow;
    const uint8_t *mid = src; /* the horizontally resampled image, h x ow x 3 */
    if (w != ow) {
        uint8_t *out = (h == oh) ? dst : tmp;
        const lis_resize_axis *a = &pl->x;
        for (int r = 0; r < h; r++) {
            const uint8_t *s = src + (size_t)r * w * 3;
            uint8_t *d = out + (size_t)r * ow * 3;
            for (int j = 0; j < ow; j++) {
                int x0 = a->bounds[2 * j], n = a->bounds[2 * j + 1];
                const int32_t *k = a->k + (size_t)j * a->ksize;
                int32_t a0 = 1 << (PRECISION_BITS - 1), a1 = a0, a2 = a0;
                for (int t = 0; t < n; t++) {
                    const uint8_t *p = s + (size_t)(x0 + t) * 3;
                    a0 += p[0] * k[t]; a1 += p[1] * k[t]; a2 += p[2] * k[t];
                }
                d[3 * j] = clip8(a0); d[3 * j + 1] = clip8(a1); d[3 * j + 2] = clip8(a2);
            }
        }
        mid = out;
    }
    if (h != oh) {
        const lis_resize_axis *a = &pl->y;
        size_t row = (size_t)ow * 3;
        int32_t acc[3 * 1024];
        for (int i = 0; i < oh; i++) {
            int y0 = a->bounds[2 * i], n = a->bounds[2 * i + 1];
            const int32_t *k = a->k + (size_t)i * a->ksize;
            uint8_t *d = dst + (size_t)i * row;
            /* row-wise accumulation in blocks of 1024 bytes: unit-stride, vectorises */
            for (size_t b0 = 0; b0 < row; b0 += 3 * 1024) {
                size_t nb = row - b0 < 3 * 1024 ? row - b0 : 3 * 1024;
                for (size_t e = 0; e < nb; e++) acc[e] = 1 << (PRECISION_BITS - 1);
                for (int t = 0; t < n; t++) {
                    const uint8_t *s = mid + (size_t)(y0 + t) * row + b0;
                    int32_t kt = k[t];
                    for (size_t e = 0; e < nb; e++) acc[e] += (int32_t)s[e] * kt;
                }
                for (size_t e = 0; e < nb; e++) d[b0 + e] = clip8(acc[e]);
            }
        }
    } else if (w == ow) {
        memcpy(dst, src, (size_t)h * w * 3); /* Pillow: same size -> unmodified copy */
    }
}

void lis_normalize_tables(const float mean[3], const float std[3], float table[3][256]) {
    for (int c = 0; c < 3; c++)
        for (int u = 0; u < 256; u++) {
            /* float32 divide, subtract, divide, in torchvision's order (spec §1.4) */
            float v = (float)u / 255.0f;
            table[c][u] = (v - mean[c]) / std[c];
        }
}

/* ---- the whole transform ---- */

lis_status lis_preprocess_plan_init(lis_preprocess_plan *pl, const lis_preprocess_cfg *cfg, int h, int w) {
    memset(pl, 0, sizeof *pl);
    if (h < 1 || w < 1 || h > 65536 || w > 65536) return lis_err_set("preprocess: bad image size %dx%d", h, w);
    if (cfg->crop_h < 1 || cfg->crop_w < 1 || cfg->crop_h > 65536 || cfg->crop_w > 65536 || cfg->resize < 0 ||
        cfg->resize > 65536)
        return lis_err_set("preprocess: bad resize %d / crop %dx%d", cfg->resize, cfg->crop_h, cfg->crop_w);
    for (int c = 0; c < 3; c++)
        if (!(cfg->std[c] != 0.0f) || !isfinite(cfg->std[c]) || !isfinite(cfg->mean[c]))
            return lis_err_set("preprocess: bad normalisation mean %g / std %g", cfg->mean[c], cfg->std[c]);
    pl->cfg = *cfg;
    pl->h = h;
    pl->w = w;
    lis_resize_out_size(h, w, cfg->resize, &pl->rh, &pl->rw);
    if (pl->rh < 1 || pl->rw < 1) return lis_err_set("preprocess: %dx%d resizes to an empty image", h, w);
    pl->resize_needed = pl->rh != h || pl->rw != w;
    pl->top = lis_center_crop_offset(pl->rh, cfg->crop_h);
    pl->left = lis_center_crop_offset(pl->rw, cfg->crop_w);
    lis_normalize_tables(cfg->mean, cfg->std, pl->table);
    pl->nthreads = lis_threads_count();
    if (pl->resize_needed) {
        if (lis_resize_plan_init(&pl->rs, h, w, pl->rh, pl->rw) != LIS_OK) return LIS_ERR;
        pl->scratch_per_thread = (size_t)pl->rh * pl->rw * 3 + lis_resize_tmp_size(&pl->rs);
        pl->scratch = lis_malloc(pl->scratch_per_thread * (size_t)pl->nthreads, "preprocess scratch");
        if (!pl->scratch) { lis_preprocess_plan_free(pl); return LIS_ERR; }
    }
    return LIS_OK;
}

void lis_preprocess_plan_free(lis_preprocess_plan *pl) {
    if (!pl) return;
    lis_resize_plan_free(&pl->rs);
    free(pl->scratch);
    memset(pl, 0, sizeof *pl);
}

/* Crop (with zero padding outside) + table lookup: resized (rh x rw x 3) -> 3 x ch x cw. */
static void crop_normalize(const lis_preprocess_plan *pl, const uint8_t *img, float *out) {
    int ch = pl->cfg.crop_h, cw = pl->cfg.crop_w;
    size_t plane = (size_t)ch * cw;
    for (int y = 0; y < ch; y++) {
        int sy = y + pl->top;
        for (int x = 0; x < cw; x++) {
            int sx = x + pl->left;
            int inside = sy >= 0 && sy < pl->rh && sx >= 0 && sx < pl->rw;
            const uint8_t *p = img + ((size_t)(inside ? sy : 0) * pl->rw + (inside ? sx : 0)) * 3;
            for (int c = 0; c < 3; c++) out[c * plane + (size_t)y * cw + x] = pl->table[c][inside ? p[c] : 0];
        }
    }
}

typedef struct {
    const lis_preprocess_plan *pl;
    const uint8_t *imgs;
    float *out;
} pre_job;

static void pre_task(void *ctx, int64_t i, int tid) {
    const pre_job *j = ctx;
    const lis_preprocess_plan *pl = j->pl;
    const uint8_t *img = j->imgs + (size_t)i * pl->h * pl->w * 3;
    if (pl->resize_needed) {
        uint8_t *rs = pl->scratch + (size_t)tid * pl->scratch_per_thread;
        lis_resize_u8_cpu(&pl->rs, img, rs, rs + (size_t)pl->rh * pl->rw * 3);
        img = rs;
    }
    crop_normalize(pl, img, j->out + (size_t)i * 3 * pl->cfg.crop_h * pl->cfg.crop_w);
}

void lis_preprocess_run(const lis_preprocess_plan *pl, int n, const uint8_t *imgs, float *out) {
    LIS_ASSERT(lis_threads_count() <= pl->nthreads || !pl->resize_needed);
    pre_job j = {pl, imgs, out};
    lis_parallel_for(n, pre_task, &j);
}

void lis_preprocess_steps_ref(const lis_preprocess_plan *pl, const uint8_t *img, uint8_t *resized, uint8_t *cropped) {
    lis_resize_u8_ref(img, pl->h, pl->w, resized, pl->rh, pl->rw);
    for (int y = 0; y < pl->cfg.crop_h; y++)
        for (int x = 0; x < pl->cfg.crop_w; x++)
            for (int c = 0; c < 3; c++) {
                int sy = y + pl->top, sx = x + pl->left;
                int inside = sy >= 0 && sy < pl->rh && sx >= 0 && sx < pl->rw;
                cropped[((size_t)y * pl->cfg.crop_w + x) * 3 + c] =
                    inside ? resized[((size_t)sy * pl->rw + sx) * 3 + c] : 0;
            }
}
