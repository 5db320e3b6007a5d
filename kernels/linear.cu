// linear.cu — nn.Linear on the GPU (see kernels/linear_cuda.h).
//
// Variants (table at the end):
//   v1  one thread per (n, o), sequential sum (straight port of the reference)
//   v2  one warp per (n, o), strided lanes, shuffle reduction
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/linear_cuda.h"
}

namespace {

__global__ void linear_v1_kernel(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)N * OUT) return;
    const int n = (int)(i / OUT), o = (int)(i - (int64_t)n * OUT);
    const float *xr = x + (int64_t)n * IN, *wr = W + (int64_t)o * IN;
    float acc = 0.0f;
    for (int k = 0; k < IN; k++) acc += xr[k] * wr[k];
    y[i] = b ? acc + b[o] : acc;
}

__global__ void linear_v2_kernel(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y) {
    const int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (warp >= (int64_t)N * OUT) return; // uniform per warp
    const int n = (int)(warp / OUT), o = (int)(warp - (int64_t)n * OUT);
    const float *xr = x + (int64_t)n * IN, *wr = W + (int64_t)o * IN;
    float acc = 0.0f;
    for (int k = lane; k < IN; k += 32) acc += xr[k] * wr[k];
    acc = lis_warp_sum(acc);
    if (lane == 0) y[warp] = b ? acc + b[o] : acc;
}

const lis_linear_cuda_variant g_variants[] = {
    {"v1", lis_linear_cuda_v1, "one thread per output, sequential sum (straight port)"},
    {"v2", lis_linear_cuda_v2, "one warp per output, shuffle reduction"},
};

} // namespace

extern "C" {

lis_status lis_linear_cuda_v1(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y,
                              lis_stream s) {
    const int64_t n = (int64_t)N * OUT;
    if (n <= 0) return LIS_OK;
    linear_v1_kernel<<<(unsigned)lis_ceil_div(n, 128), 128, 0, LIS_STREAM(s)>>>(N, IN, OUT, x, W, b, y);
    return lis_cuda_launched("linear_v1", s);
}

lis_status lis_linear_cuda_v2(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y,
                              lis_stream s) {
    const int64_t n = (int64_t)N * OUT * 32;
    if (n <= 0) return LIS_OK;
    linear_v2_kernel<<<(unsigned)lis_ceil_div(n, 256), 256, 0, LIS_STREAM(s)>>>(N, IN, OUT, x, W, b, y);
    return lis_cuda_launched("linear_v2", s);
}

lis_status lis_linear_cuda(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y,
                           lis_stream s) {
    return lis_linear_cuda_v2(N, IN, OUT, x, W, b, y, s);
}

int lis_linear_cuda_variants(const lis_linear_cuda_variant **out) {
    *out = g_variants;
    return (int)(sizeof g_variants / sizeof g_variants[0]);
}

} // extern "C"
