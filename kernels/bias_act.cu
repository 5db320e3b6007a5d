// bias_act.cu — StyleGAN's bias_act on the GPU (see kernels/bias_act_cuda.h).
//
// Variants (table at the end):
//   v1  one thread per element, channel = (i / inner) % C (straight port of the reference)
//   v2  one block per row (n, c), bias read once, threads stride over the row
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/bias_act_cuda.h"
}

namespace {

struct BaArgs {
    int lrelu;
    float slope, gain, clamp;
};

// the reference's order: bias, activation, gain, clamp
__device__ __forceinline__ float act1(const BaArgs &p, float v) {
    if (p.lrelu && v < 0.0f) v *= p.slope;
    v *= p.gain;
    if (p.clamp >= 0.0f) v = v < -p.clamp ? -p.clamp : (v > p.clamp ? p.clamp : v);
    return v;
}

__global__ void bias_act_v1_kernel(BaArgs p, const float *x, const float *b, float *y, int64_t total, int64_t C,
                                   int64_t inner) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        float v = x[i];
        if (b) v = v + b[(i / inner) % C];
        y[i] = act1(p, v);
    }
}

__global__ void bias_act_v2_kernel(BaArgs p, const float *x, const float *b, float *y, int64_t rows, int64_t C,
                                   int64_t inner) {
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const float bias = b ? b[row % C] : 0.0f;
        const float *xr = x + row * inner;
        float *yr = y + row * inner;
        for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) yr[i] = act1(p, b ? xr[i] + bias : xr[i]);
    }
}

BaArgs args_of(const lis_bias_act_params *p) { return BaArgs{p->lrelu, p->slope, p->gain, p->clamp}; }

const lis_bias_act_cuda_variant g_variants[] = {
    {"v1", lis_bias_act_cuda_v1, "one thread per element (straight port)"},
    {"v2", lis_bias_act_cuda_v2, "one block per (n, c) row"},
};

} // namespace

extern "C" {

lis_status lis_bias_act_cuda_v1(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N,
                                int64_t C, int64_t inner, lis_stream s) {
    const int64_t total = N * C * inner;
    if (total <= 0) return LIS_OK;
    const int64_t blocks = lis_ceil_div(total, 256) < 1048576 ? lis_ceil_div(total, 256) : 1048576;
    bias_act_v1_kernel<<<(unsigned)blocks, 256, 0, LIS_STREAM(s)>>>(args_of(p), x, b, y, total, C, inner);
    return lis_cuda_launched("bias_act_v1", s);
}

lis_status lis_bias_act_cuda_v2(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N,
                                int64_t C, int64_t inner, lis_stream s) {
    const int64_t rows = N * C;
    if (rows <= 0 || inner <= 0) return LIS_OK;
    const int threads = inner >= 256 ? 256 : (int)((inner + 31) / 32 * 32);
    const int64_t blocks = rows < 1048576 ? rows : 1048576;
    bias_act_v2_kernel<<<(unsigned)blocks, threads, 0, LIS_STREAM(s)>>>(args_of(p), x, b, y, rows, C, inner);
    return lis_cuda_launched("bias_act_v2", s);
}

lis_status lis_bias_act_cuda(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N,
                             int64_t C, int64_t inner, lis_stream s) {
    // a block per row needs rows to fill the GPU; few long rows (an image scaled as one
    // row, styles as [1, 1, B*C]) go to the grid-stride v1
    if (N * C < 1024) return lis_bias_act_cuda_v1(p, x, b, y, N, C, inner, s);
    return lis_bias_act_cuda_v2(p, x, b, y, N, C, inner, s);
}

int lis_bias_act_cuda_variants(const lis_bias_act_cuda_variant **out) {
    *out = g_variants;
    return (int)(sizeof g_variants / sizeof g_variants[0]);
}

} // extern "C"
