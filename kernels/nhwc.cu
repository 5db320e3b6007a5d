// nhwc.cu — the layout and pooling kernels of the NHWC path (kernels/conv_nhwc_cuda.h): a few
// percent of a classifier's time, so one plain variant each: a thread per 8 channels of one
// pixel (16- or 32-byte loads and stores, kernels/nhwc_vec.cuh) where the layout allows it, a
// thread per element else.
#include "kernels/nhwc_vec.cuh"
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/conv_nhwc_cuda.h"
}

namespace {

// a thread per (image, pixel, 16-byte copy: 8 or 4 channels): reads are coalesced along the pixels
template <int P>
__global__ void to_nhwc_kernel(const float *x, const float *scale, int C, int HW, int Cp, typename Act<P>::T *y,
                               int64_t total) {
    constexpr int G = kCopyElems<P>;
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int groups = Cp / G;
    const int64_t np = i / groups; // image * HW + pixel
    const int c0 = (int)(i - np * groups) * G;
    const int64_t b = np / HW, p = np - b * HW;
    float v[G];
#pragma unroll
    for (int e = 0; e < G; e++) {
        v[e] = c0 + e < C ? x[(b * C + c0 + e) * HW + p] : 0.0f;
        if (scale && c0 + e < C) v[e] *= __ldg(scale + b * C + c0 + e);
    }
    store_copy<P>(y + np * Cp + c0, v);
}

// the space-to-depth stem input (kernels/stem_s2d.h): a thread per (image, block, 16-byte copy)
template <int P>
__global__ void stem_s2d_kernel(const float *x, int C, int H, int W, int Hs, int Ws, int Cp, typename Act<P>::T *y,
                                int64_t total) {
    constexpr int G = kCopyElems<P>;
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int groups = Cp / G;
    const int64_t np = i / groups; // (image * Hs + Y) * Ws + X
    const int c0 = (int)(i - np * groups) * G;
    const int64_t n = np / ((int64_t)Hs * Ws);
    const int r = (int)(np - n * Hs * Ws), Y = r / Ws, X = r - Y * Ws;
    float v[G];
#pragma unroll
    for (int e = 0; e < G; e++) {
        const int ab = (c0 + e) / C, c = c0 + e - ab * C, iy = 2 * Y - 1 + ab / 2, ix = 2 * X - 1 + ab % 2;
        v[e] = ab < 4 && iy >= 0 && iy < H && ix >= 0 && ix < W ? x[((n * C + c) * H + iy) * W + ix] : 0.0f;
    }
    store_copy<P>(y + np * Cp + c0, v);
}

template <int P>
__global__ void to_nchw_kernel(const typename Act<P>::T *x, int C, int HW, int Cp, float *y, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int64_t bc = i / HW, p = i - bc * HW, b = bc / C, c = bc - b * C;
    y[i] = widen<P>(x[(b * HW + p) * Cp + c]);
}

// a thread per (output pixel, 8 channels); padded cells never win, a NaN does (kernels/pool.h);
// the result is one of the inputs (or 0 with the fused ReLU), so storing it rounds nothing
template <int P>
__global__ void maxpool_kernel(lis_maxpool_params p, int Ho, int Wo, const typename Act<P>::T *x,
                               typename Act<P>::T *y, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int groups = p.C / 8;
    const int64_t op = i / groups; // image * Ho * Wo + output pixel
    const int c0 = (int)(i - op * groups) * 8;
    const int64_t b = op / ((int64_t)Ho * Wo);
    const int r = (int)(op - b * Ho * Wo), oy = r / Wo, ox = r - oy * Wo;
    float m[8], v[8];
#pragma unroll
    for (int e = 0; e < 8; e++) m[e] = -INFINITY;
    for (int a = 0; a < p.k; a++) {
        const int iy = oy * p.stride - p.pad + a;
        if (iy < 0 || iy >= p.H) continue;
        for (int c = 0; c < p.k; c++) {
            const int ix = ox * p.stride - p.pad + c;
            if (ix < 0 || ix >= p.W) continue;
            load8<P>(x + ((b * p.H + iy) * p.W + ix) * p.C + c0, v);
#pragma unroll
            for (int e = 0; e < 8; e++)
                if (v[e] > m[e] || isnan(v[e])) m[e] = v[e];
        }
    }
#pragma unroll
    for (int e = 0; e < 8; e++)
        if (p.relu && !(m[e] >= 0.0f) && !isnan(m[e])) m[e] = 0.0f;
    store8<P>(y + op * p.C + c0, m);
}

// a thread per (image, channel): neighbouring threads read neighbouring channels
template <int P>
__global__ void avgpool_kernel(const typename Act<P>::T *x, int C, int HW, float *y, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int64_t b = i / C, c = i - b * C;
    const typename Act<P>::T *xp = x + b * HW * C + c;
    float s = 0.0f;
    for (int p = 0; p < HW; p++) s = __fadd_rn(s, widen<P>(xp[(int64_t)p * C]));
    y[i] = s / (float)HW;
}

// kernel<P> over `total` threads for prec (checked by the caller); the arguments may name El, the
// precision's element type, to cast the tensors' void pointers
#define LIS_NHWC_LAUNCH(kernel, total, s, ...)                                                              \
    do {                                                                                                    \
        const unsigned blocks_ = (unsigned)lis_ceil_div((total), 256);                                      \
        switch (prec) {                                                                                     \
        case LIS_PREC_TF32: { using El = float; kernel<LIS_PREC_TF32><<<blocks_, 256, 0, LIS_STREAM(s)>>>(__VA_ARGS__); } break; \
        case LIS_PREC_BF16: { using El = uint16_t; kernel<LIS_PREC_BF16><<<blocks_, 256, 0, LIS_STREAM(s)>>>(__VA_ARGS__); } break; \
        default: { using El = uint16_t; kernel<LIS_PREC_FP16><<<blocks_, 256, 0, LIS_STREAM(s)>>>(__VA_ARGS__); } break; \
        }                                                                                                   \
    } while (0)

} // namespace

extern "C" {

lis_status lis_nchw_to_nhwc_scaled_cuda(const float *x, const float *scale, int N, int C, int HW, int Cp, void *y,
                                        lis_precision prec, lis_stream s) {
    LIS_TRY(lis_nhwc_prec_check(prec, "nchw_to_nhwc"));
    const int unit = lis_nhwc_row_unit(prec);
    if (N < 1 || C < 1 || HW < 1 || Cp < C || Cp % unit || ((uintptr_t)y & 15))
        return lis_err_set("nchw_to_nhwc: bad shape (N %d, C %d, HW %d, Cp %d: a multiple of %d) or unaligned output",
                           N, C, HW, Cp, unit);
    const int64_t total = (int64_t)N * HW * (Cp / unit);
    LIS_NHWC_LAUNCH(to_nhwc_kernel, total, s, x, scale, C, HW, Cp, static_cast<El *>(y), total);
    return lis_cuda_launched("nchw_to_nhwc", s);
}

lis_status lis_stem_s2d_cuda(const float *x, int N, int C, int H, int W, int Cp, void *xs, lis_precision prec,
                             lis_stream s) {
    LIS_TRY(lis_nhwc_prec_check(prec, "stem_s2d"));
    const int unit = lis_nhwc_row_unit(prec), Hs = (H + 2) / 2, Ws = (W + 2) / 2;
    if (N < 1 || C < 1 || H < 2 || W < 2 || H % 2 || W % 2 || Cp < 4 * C || Cp % unit || ((uintptr_t)xs & 15))
        return lis_err_set("stem_s2d: bad shape (N %d, C %d, %dx%d even, Cp %d >= 4 C, a multiple of %d) or unaligned "
                           "output", N, C, H, W, Cp, unit);
    const int64_t total = (int64_t)N * Hs * Ws * (Cp / unit);
    LIS_NHWC_LAUNCH(stem_s2d_kernel, total, s, x, C, H, W, Hs, Ws, Cp, static_cast<El *>(xs), total);
    return lis_cuda_launched("stem_s2d", s);
}

lis_status lis_nchw_to_nhwc_cuda(const float *x, int N, int C, int HW, int Cp, void *y, lis_precision prec, lis_stream s) {
    return lis_nchw_to_nhwc_scaled_cuda(x, NULL, N, C, HW, Cp, y, prec, s);
}

lis_status lis_nhwc_pack_weights_cuda(const float *w, int K, int C, int R, int S, int Cp, void *out, lis_precision prec,
                                      lis_stream s) {
    LIS_TRY(lis_nhwc_prec_check(prec, "nhwc_pack_weights"));
    if (K < 1 || C < 1 || R < 1 || S < 1 || Cp < C || Cp % lis_nhwc_row_unit(prec) || ((uintptr_t)out & 15))
        return lis_err_set("nhwc_pack_weights: bad shape (K %d, C %d, %dx%d, Cp %d) or unaligned output", K, C, R, S, Cp);
    // KCRS is NCHW with the output channels as images and the taps as pixels; KRSC is its NHWC
    return lis_nchw_to_nhwc_cuda(w, K, C, R * S, Cp, out, prec, s);
}

lis_status lis_nhwc_to_nchw_cuda(const void *x, int N, int C, int HW, int Cp, float *y, lis_precision prec, lis_stream s) {
    LIS_TRY(lis_nhwc_prec_check(prec, "nhwc_to_nchw"));
    if (N < 1 || C < 1 || HW < 1 || Cp < C)
        return lis_err_set("nhwc_to_nchw: bad shape (N %d, C %d, HW %d, Cp %d)", N, C, HW, Cp);
    const int64_t total = (int64_t)N * C * HW;
    LIS_NHWC_LAUNCH(to_nchw_kernel, total, s, static_cast<const El *>(x), C, HW, Cp, y, total);
    return lis_cuda_launched("nhwc_to_nchw", s);
}

lis_status lis_maxpool_nhwc_cuda(const lis_maxpool_params *p, const void *x, void *y, lis_precision prec, lis_stream s) {
    LIS_TRY(lis_nhwc_prec_check(prec, "maxpool_nhwc"));
    LIS_TRY(lis_maxpool_check(p));
    if (p->C % 8 || (((uintptr_t)x | (uintptr_t)y) & 15))
        return lis_err_set("maxpool_nhwc: C = %d must be a multiple of 8, x and y 16-byte aligned", p->C);
    int Ho, Wo;
    lis_maxpool_out_shape(p, &Ho, &Wo);
    const int64_t total = (int64_t)p->N * Ho * Wo * (p->C / 8);
    LIS_NHWC_LAUNCH(maxpool_kernel, total, s, *p, Ho, Wo, static_cast<const El *>(x), static_cast<El *>(y), total);
    return lis_cuda_launched("maxpool_nhwc", s);
}

lis_status lis_avgpool_nhwc_cuda(int N, int C, int HW, const void *x, float *y, lis_precision prec, lis_stream s) {
    LIS_TRY(lis_nhwc_prec_check(prec, "avgpool_nhwc"));
    if (N < 1 || C < 1 || HW < 1) return lis_err_set("avgpool_nhwc: bad shape (N %d, C %d, HW %d)", N, C, HW);
    const int64_t total = (int64_t)N * C;
    LIS_NHWC_LAUNCH(avgpool_kernel, total, s, static_cast<const El *>(x), C, HW, y, total);
    return lis_cuda_launched("avgpool_nhwc", s);
}

} // extern "C"
