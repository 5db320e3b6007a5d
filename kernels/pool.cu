// pool.cu — max pool and global average pool on the GPU (see kernels/pool_cuda.h).
// One variant each: a thread per output (max) and a thread per plane (average; the
// sequential float sum keeps the CPU's rounding exactly).
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/pool_cuda.h"
}

namespace {

__global__ void maxpool_kernel(lis_maxpool_params p, int Ho, int Wo, const float *x, float *y, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int64_t pl = i / ((int64_t)Ho * Wo);
    const int rem = (int)(i - pl * Ho * Wo), oy = rem / Wo, ox = rem - oy * Wo;
    const float *xp = x + pl * p.H * p.W;
    float m = -INFINITY;
    for (int a = 0; a < p.k; a++) {
        const int iy = oy * p.stride - p.pad + a;
        if (iy < 0 || iy >= p.H) continue;
        for (int b = 0; b < p.k; b++) {
            const int ix = ox * p.stride - p.pad + b;
            if (ix < 0 || ix >= p.W) continue;
            const float v = xp[(int64_t)iy * p.W + ix];
            if (v > m || isnan(v)) m = v; // PyTorch: a NaN wins
        }
    }
    if (p.relu && !(m >= 0.0f) && !isnan(m)) m = 0.0f;
    y[i] = m;
}

__global__ void avgpool_kernel(const float *x, float *y, int64_t planes, int hw) {
    const int64_t pl = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (pl >= planes) return;
    const float *xp = x + pl * hw;
    float s = 0.0f;
    for (int i = 0; i < hw; i++) s = __fadd_rn(s, xp[i]);
    y[pl] = s / (float)hw;
}

} // namespace

extern "C" {

lis_status lis_maxpool_cuda(const lis_maxpool_params *p, const float *x, float *y, lis_stream s) {
    LIS_TRY(lis_maxpool_check(p));
    int Ho, Wo;
    lis_maxpool_out_shape(p, &Ho, &Wo);
    const int64_t total = (int64_t)p->N * p->C * Ho * Wo;
    maxpool_kernel<<<(unsigned)lis_ceil_div(total, 256), 256, 0, LIS_STREAM(s)>>>(*p, Ho, Wo, x, y, total);
    return lis_cuda_launched("maxpool", s);
}

lis_status lis_avgpool_global_cuda(int N, int C, int H, int W, const float *x, float *y, lis_stream s) {
    const int64_t planes = (int64_t)N * C;
    if (planes <= 0) return LIS_OK;
    avgpool_kernel<<<(unsigned)lis_ceil_div(planes, 128), 128, 0, LIS_STREAM(s)>>>(x, y, planes, H * W);
    return lis_cuda_launched("avgpool_global", s);
}

} // extern "C"
