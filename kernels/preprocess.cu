// preprocess.cu — resize / crop / normalize on the GPU (see kernels/preprocess_cuda.h). One thread per output byte or float; integer arithmetic
// identical to kernels/preprocess.c (Pillow's), so the results are bit-exact.
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/preprocess_cuda.h"
}

namespace {

constexpr int PRECISION_BITS = 22;

__device__ __forceinline__ uint8_t clip8(int32_t acc) {
    if (acc >= (1 << PRECISION_BITS << 8)) return 255;
    if (acc <= 0) return 0;
    return (uint8_t)(acc >> PRECISION_BITS);
}

// horizontal pass: src n x h x w x 3 -> dst n x h x ow x 3
__global__ void hpass_kernel(const uint8_t *src, uint8_t *dst, int h, int w, int ow, const int *bounds,
                             const int32_t *k, int ks, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int c = (int)(i % 3);
    const int64_t pix = i / 3;                 // (img, r, j)
    const int j = (int)(pix % ow);
    const int64_t row = pix / ow;              // img * h + r
    const int x0 = bounds[2 * j], n = bounds[2 * j + 1];
    const uint8_t *s = src + row * w * 3;
    const int32_t *kj = k + (int64_t)j * ks;
    int32_t acc = 1 << (PRECISION_BITS - 1);
    for (int t = 0; t < n; t++) acc += (int32_t)s[(int64_t)(x0 + t) * 3 + c] * kj[t];
    dst[i] = clip8(acc);
}

// vertical pass: src n x h x ow x 3 -> dst n x oh x ow x 3
__global__ void vpass_kernel(const uint8_t *src, uint8_t *dst, int h, int oh, int ow, const int *bounds,
                             const int32_t *k, int ks, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int64_t rowlen = (int64_t)ow * 3;
    const int64_t e = i % rowlen;              // (j, c) within the row
    const int64_t orow = i / rowlen;           // img * oh + oi
    const int oi = (int)(orow % oh);
    const int64_t img = orow / oh;
    const int y0 = bounds[2 * oi], n = bounds[2 * oi + 1];
    const uint8_t *s = src + img * h * rowlen + e;
    const int32_t *ki = k + (int64_t)oi * ks;
    int32_t acc = 1 << (PRECISION_BITS - 1);
    for (int t = 0; t < n; t++) acc += (int32_t)s[(int64_t)(y0 + t) * rowlen] * ki[t];
    dst[i] = clip8(acc);
}

// crop (zero padding outside) + table: img n x rh x rw x 3 -> out n x 3 x ch x cw
__global__ void crop_normalize_kernel(const uint8_t *img, float *out, int rh, int rw, int top, int left, int ch,
                                      int cw, const float *table, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int x = (int)(i % cw);
    const int64_t r1 = i / cw;
    const int y = (int)(r1 % ch);
    const int64_t r2 = r1 / ch;
    const int c = (int)(r2 % 3);
    const int64_t n = r2 / 3;
    const int sy = y + top, sx = x + left;
    const bool inside = sy >= 0 && sy < rh && sx >= 0 && sx < rw;
    const uint8_t u = inside ? img[((n * rh + sy) * rw + sx) * 3 + c] : 0;
    out[i] = table[c * 256 + u];
}

unsigned blocks_for(int64_t n) { return (unsigned)lis_ceil_div(n, 256); }

} // namespace

extern "C" {

lis_status lis_preprocess_cuda_upload(lis_preprocess_dev *d, const lis_preprocess_plan *pl) {
    memset(d, 0, sizeof *d);
    d->h = pl->h; d->w = pl->w; d->rh = pl->rh; d->rw = pl->rw; d->top = pl->top; d->left = pl->left;
    d->crop_h = pl->cfg.crop_h; d->crop_w = pl->cfg.crop_w;
    d->hpass = pl->resize_needed && pl->rs.x.in != pl->rs.x.out;
    d->vpass = pl->resize_needed && pl->rs.y.in != pl->rs.y.out;
    lis_status st = LIS_OK;
    if (d->hpass) {
        d->xks = pl->rs.x.ksize;
        d->xb = (int *)lis_dev_upload(pl->rs.x.bounds, sizeof(int) * 2 * (size_t)pl->rw, "resize bounds");
        d->xk = (int32_t *)lis_dev_upload(pl->rs.x.k, sizeof(int32_t) * (size_t)pl->rw * d->xks, "resize weights");
        if (!d->xb || !d->xk) st = LIS_ERR;
    }
    if (st == LIS_OK && d->vpass) {
        d->yks = pl->rs.y.ksize;
        d->yb = (int *)lis_dev_upload(pl->rs.y.bounds, sizeof(int) * 2 * (size_t)pl->rh, "resize bounds");
        d->yk = (int32_t *)lis_dev_upload(pl->rs.y.k, sizeof(int32_t) * (size_t)pl->rh * d->yks, "resize weights");
        if (!d->yb || !d->yk) st = LIS_ERR;
    }
    if (st == LIS_OK && !(d->table = (float *)lis_dev_upload(pl->table, sizeof(float) * 3 * 256, "normalize tables")))
        st = LIS_ERR;
    if (st != LIS_OK) lis_preprocess_cuda_free(d);
    return st;
}

void lis_preprocess_cuda_free(lis_preprocess_dev *d) {
    if (!d) return;
    lis_dev_free(d->xb); lis_dev_free(d->xk); lis_dev_free(d->yb); lis_dev_free(d->yk); lis_dev_free(d->table);
    memset(d, 0, sizeof *d);
}

size_t lis_preprocess_cuda_workspace(const lis_preprocess_dev *d, int n) {
    size_t b = 0;
    if (d->hpass) b += (size_t)n * d->h * d->rw * 3;      // after the horizontal pass
    if (d->vpass) b += (size_t)n * d->rh * d->rw * 3;     // after the vertical pass
    return b + 256;
}

lis_status lis_preprocess_cuda(const lis_preprocess_dev *d, int n, const uint8_t *imgs, float *out, void *ws,
                               lis_stream s) {
    const uint8_t *cur = imgs;
    uint8_t *buf = (uint8_t *)ws;
    if (d->hpass) {
        const int64_t total = (int64_t)n * d->h * d->rw * 3;
        hpass_kernel<<<blocks_for(total), 256, 0, LIS_STREAM(s)>>>(cur, buf, d->h, d->w, d->rw, d->xb, d->xk, d->xks,
                                                                   total);
        LIS_TRY(lis_cuda_launched("resize_h", s));
        cur = buf;
        buf += total;
    }
    if (d->vpass) {
        const int64_t total = (int64_t)n * d->rh * d->rw * 3;
        // the vertical pass reads rows of width rw (after the horizontal pass, or the input when w == rw)
        vpass_kernel<<<blocks_for(total), 256, 0, LIS_STREAM(s)>>>(cur, buf, d->h, d->rh, d->rw, d->yb, d->yk, d->yks,
                                                                   total);
        LIS_TRY(lis_cuda_launched("resize_v", s));
        cur = buf;
    }
    const int64_t total = (int64_t)n * 3 * d->crop_h * d->crop_w;
    crop_normalize_kernel<<<blocks_for(total), 256, 0, LIS_STREAM(s)>>>(cur, out, d->rh, d->rw, d->top, d->left,
                                                                        d->crop_h, d->crop_w, d->table, total);
    return lis_cuda_launched("crop_normalize", s);
}

} // extern "C"
