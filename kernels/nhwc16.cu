// nhwc16.cu — the layout and pooling kernels of the 16-bit NHWC path (kernels/conv16_cuda.h):
// a few percent of a classifier's time, so one plain variant each: a thread per 8 channels of
// one pixel (16-byte loads and stores) where the layout allows it, a thread per element else.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/conv16_cuda.h"
}

namespace {

template <int P> __device__ __forceinline__ float widen(uint16_t h);
template <> __device__ __forceinline__ float widen<LIS_PREC_BF16>(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }
template <> __device__ __forceinline__ float widen<LIS_PREC_FP16>(uint16_t h) { return __half2float(__ushort_as_half(h)); }
template <int P> __device__ __forceinline__ uint16_t narrow(float v);
template <> __device__ __forceinline__ uint16_t narrow<LIS_PREC_BF16>(float v) { return __bfloat16_as_ushort(__float2bfloat16_rn(v)); }
template <> __device__ __forceinline__ uint16_t narrow<LIS_PREC_FP16>(float v) { return __half_as_ushort(__float2half_rn(v)); }

// a thread per (image, pixel, group of 8 channels): reads are coalesced along the pixels
template <int P>
__global__ void to_nhwc16_kernel(const float *x, int C, int HW, int Cp, uint16_t *y, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int groups = Cp / 8;
    const int64_t np = i / groups; // image * HW + pixel
    const int c0 = (int)(i - np * groups) * 8;
    const int64_t b = np / HW, p = np - b * HW;
    __align__(16) uint16_t v[8];
#pragma unroll
    for (int e = 0; e < 8; e++) v[e] = narrow<P>(c0 + e < C ? x[(b * C + c0 + e) * HW + p] : 0.0f);
    *reinterpret_cast<uint4 *>(y + np * Cp + c0) = *reinterpret_cast<const uint4 *>(v);
}

template <int P>
__global__ void to_nchw_kernel(const uint16_t *x, int C, int HW, int Cp, float *y, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int64_t bc = i / HW, p = i - bc * HW, b = bc / C, c = bc - b * C;
    y[i] = widen<P>(x[(b * HW + p) * Cp + c]);
}

// a thread per (output pixel, 8 channels); padded cells never win, a NaN does (kernels/pool.h)
template <int P>
__global__ void maxpool16_kernel(lis_maxpool_params p, int Ho, int Wo, const uint16_t *x, uint16_t *y, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int groups = p.C / 8;
    const int64_t op = i / groups; // image * Ho * Wo + output pixel
    const int c0 = (int)(i - op * groups) * 8;
    const int64_t b = op / ((int64_t)Ho * Wo);
    const int r = (int)(op - b * Ho * Wo), oy = r / Wo, ox = r - oy * Wo;
    float m[8];
#pragma unroll
    for (int e = 0; e < 8; e++) m[e] = -INFINITY;
    for (int a = 0; a < p.k; a++) {
        const int iy = oy * p.stride - p.pad + a;
        if (iy < 0 || iy >= p.H) continue;
        for (int c = 0; c < p.k; c++) {
            const int ix = ox * p.stride - p.pad + c;
            if (ix < 0 || ix >= p.W) continue;
            const uint4 raw = *reinterpret_cast<const uint4 *>(x + ((b * p.H + iy) * p.W + ix) * p.C + c0);
            const uint16_t *v = reinterpret_cast<const uint16_t *>(&raw);
#pragma unroll
            for (int e = 0; e < 8; e++) {
                const float f = widen<P>(v[e]);
                if (f > m[e] || isnan(f)) m[e] = f;
            }
        }
    }
    __align__(16) uint16_t o[8];
#pragma unroll
    for (int e = 0; e < 8; e++) {
        float f = m[e];
        if (p.relu && !(f >= 0.0f) && !isnan(f)) f = 0.0f;
        o[e] = narrow<P>(f); // exact: f is one of the 16-bit inputs, or 0 / -inf
    }
    *reinterpret_cast<uint4 *>(y + op * p.C + c0) = *reinterpret_cast<const uint4 *>(o);
}

// a thread per (image, channel): neighbouring threads read neighbouring channels
template <int P>
__global__ void avgpool16_kernel(const uint16_t *x, int C, int HW, float *y, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int64_t b = i / C, c = i - b * C;
    const uint16_t *xp = x + b * HW * C + c;
    float s = 0.0f;
    for (int p = 0; p < HW; p++) s = __fadd_rn(s, widen<P>(xp[(int64_t)p * C]));
    y[i] = s / (float)HW;
}

lis_status prec16(lis_precision prec, const char *op) {
    if (prec == LIS_PREC_BF16 || prec == LIS_PREC_FP16) return LIS_OK;
    return lis_err_set("%s: precision %s (bf16 or fp16 only)", op, lis_precision_name(prec));
}

#define LIS_LAUNCH16(kernel, total, s, ...)                                                                      \
    do {                                                                                                         \
        const unsigned blocks_ = (unsigned)lis_ceil_div((total), 256);                                           \
        if (prec == LIS_PREC_BF16) kernel<LIS_PREC_BF16><<<blocks_, 256, 0, LIS_STREAM(s)>>>(__VA_ARGS__);      \
        else kernel<LIS_PREC_FP16><<<blocks_, 256, 0, LIS_STREAM(s)>>>(__VA_ARGS__);                            \
    } while (0)

} // namespace

extern "C" {

lis_status lis_nchw_to_nhwc16_cuda(const float *x, int N, int C, int HW, int Cp, void *y, lis_precision prec,
                                   lis_stream s) {
    LIS_TRY(prec16(prec, "nchw_to_nhwc16"));
    if (N < 1 || C < 1 || HW < 1 || Cp < C || Cp % 8 || ((uintptr_t)y & 15))
        return lis_err_set("nchw_to_nhwc16: bad shape (N %d, C %d, HW %d, Cp %d) or unaligned output", N, C, HW, Cp);
    const int64_t total = (int64_t)N * HW * (Cp / 8);
    LIS_LAUNCH16(to_nhwc16_kernel, total, s, x, C, HW, Cp, (uint16_t *)y, total);
    return lis_cuda_launched("nchw_to_nhwc16", s);
}

lis_status lis_nhwc16_to_nchw_cuda(const void *x, int N, int C, int HW, int Cp, float *y, lis_precision prec,
                                   lis_stream s) {
    LIS_TRY(prec16(prec, "nhwc16_to_nchw"));
    if (N < 1 || C < 1 || HW < 1 || Cp < C)
        return lis_err_set("nhwc16_to_nchw: bad shape (N %d, C %d, HW %d, Cp %d)", N, C, HW, Cp);
    const int64_t total = (int64_t)N * C * HW;
    LIS_LAUNCH16(to_nchw_kernel, total, s, (const uint16_t *)x, C, HW, Cp, y, total);
    return lis_cuda_launched("nhwc16_to_nchw", s);
}

lis_status lis_maxpool_nhwc16_cuda(const lis_maxpool_params *p, const void *x, void *y, lis_precision prec,
                                   lis_stream s) {
    LIS_TRY(prec16(prec, "maxpool_nhwc16"));
    LIS_TRY(lis_maxpool_check(p));
    if (p->C % 8 || (((uintptr_t)x | (uintptr_t)y) & 15))
        return lis_err_set("maxpool_nhwc16: C = %d must be a multiple of 8, x and y 16-byte aligned", p->C);
    int Ho, Wo;
    lis_maxpool_out_shape(p, &Ho, &Wo);
    const int64_t total = (int64_t)p->N * Ho * Wo * (p->C / 8);
    LIS_LAUNCH16(maxpool16_kernel, total, s, *p, Ho, Wo, (const uint16_t *)x, (uint16_t *)y, total);
    return lis_cuda_launched("maxpool_nhwc16", s);
}

lis_status lis_avgpool_nhwc16_cuda(int N, int C, int HW, const void *x, float *y, lis_precision prec, lis_stream s) {
    LIS_TRY(prec16(prec, "avgpool_nhwc16"));
    if (N < 1 || C < 1 || HW < 1) return lis_err_set("avgpool_nhwc16: bad shape (N %d, C %d, HW %d)", N, C, HW);
    const int64_t total = (int64_t)N * C;
    LIS_LAUNCH16(avgpool16_kernel, total, s, (const uint16_t *)x, C, HW, y, total);
    return lis_cuda_launched("avgpool_nhwc16", s);
}

} // extern "C"
