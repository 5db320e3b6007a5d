// nearest_concat.cu — nearest resize + concat and the tap convolution on the GPU
// (see kernels/nearest_concat_cuda.h). Not yet run on a GPU: compile-checked only.
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/gemm_cuda.h"
#include "kernels/nearest_concat_cuda.h"
}

namespace {

// PyTorch's legacy nearest: float32 scale, floor, clamp (same rounding as the CPU).
__device__ __forceinline__ int nearest_src(int dst, int in, int out) {
    if (out == in) return dst;
    if (out == 2 * in) return dst >> 1;
    const float scale = __fdiv_rn((float)in, (float)out);
    const int s = (int)__fmul_rn((float)dst, scale);
    return s < in - 1 ? s : in - 1;
}

__global__ void concat_kernel(const float *map, int C, int size, int off, int len, int out, float *y, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int ox = (int)(i % out), oy = (int)((i / out) % out);
    const int64_t c = i / ((int64_t)out * out);
    const int iy = off + nearest_src(oy, len, out), ix = off + nearest_src(ox, len, out);
    y[i] = map[(c * size + iy) * size + ix];
}

__global__ void grid_kernel(const float *map, int size, int off, int len, int out, int g, float *G, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int j = (int)(i % g), r = (int)((i / g) % g);
    const int64_t c = i / ((int64_t)g * g);
    const int sr = off + (len <= out ? r : nearest_src(r, len, out)), sc = off + (len <= out ? j : nearest_src(j, len, out));
    G[i] = map[(c * size + sr) * size + sc];
}

__global__ void scatter_kernel(const float *Z, int K, int g, int len, int out, int dil, float *y, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int ox = (int)(i % out), oy = (int)((i / out) % out), k = (int)(i / ((int64_t)out * out));
    float acc = 0.0f;
    for (int t = 0; t < 9; t++) {
        const int iy = oy + (t / 3 - 1) * dil, ix = ox + (t % 3 - 1) * dil;
        if (iy < 0 || iy >= out || ix < 0 || ix >= out) continue;
        const int gy = len <= out ? nearest_src(iy, len, out) : iy, gx = len <= out ? nearest_src(ix, len, out) : ix;
        acc += Z[((int64_t)(t * K + k) * g + gy) * g + gx];
    }
    y[i] += acc;
}

__global__ void bias_kernel(float *y, const float *bias, int hw, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    y[i] = bias ? bias[i / hw] : 0.0f;
}

__global__ void act_kernel(float *y, int act, float slope, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const float v = y[i];
    y[i] = act == 1 ? (v > 0.0f ? v : 0.0f) : (v >= 0.0f ? v : v * slope);
}

int grid_size(const lis_nc_params *p, int m) { return p->len[m] <= p->out ? p->len[m] : p->out; }

} // namespace

extern "C" {

lis_status lis_nearest_concat_cuda(const lis_nc_params *p, const float *const *maps, float *y, lis_stream s) {
    int in_ch;
    LIS_TRY(lis_nc_check(p, &in_ch));
    int64_t c0 = 0;
    for (int m = 0; m < p->n_maps; m++) {
        const int64_t total = (int64_t)p->C[m] * p->out * p->out;
        concat_kernel<<<(unsigned)lis_ceil_div(total, 256), 256, 0, LIS_STREAM(s)>>>(
            maps[m], p->C[m], p->size[m], p->off[m], p->len[m], p->out, y + c0 * p->out * p->out, total);
        LIS_TRY(lis_cuda_launched("nearest_concat", s));
        c0 += p->C[m];
    }
    return LIS_OK;
}

lis_status lis_nc_grid_cuda(const lis_nc_params *p, int m, const float *map, float *G, int *g_out, lis_stream s) {
    const int g = grid_size(p, m);
    *g_out = g;
    const int64_t total = (int64_t)p->C[m] * g * g;
    grid_kernel<<<(unsigned)lis_ceil_div(total, 256), 256, 0, LIS_STREAM(s)>>>(map, p->size[m], p->off[m], p->len[m], p->out, g, G,
                                                                               total);
    return lis_cuda_launched("nc_grid", s);
}

lis_status lis_tapconv_scatter_cuda(const lis_nc_params *p, int m, const float *Z, float *y, lis_stream s) {
    const int64_t total = (int64_t)p->K * p->out * p->out;
    scatter_kernel<<<(unsigned)lis_ceil_div(total, 256), 256, 0, LIS_STREAM(s)>>>(Z, p->K, grid_size(p, m), p->len[m], p->out,
                                                                                  p->dil, y, total);
    return lis_cuda_launched("tapconv_scatter", s);
}

lis_status lis_tapconv_cuda(const lis_nc_params *p, const float *const *maps, const float *A, const float *bias, float *y,
                            float *ws, lis_stream s) {
    int in_ch;
    LIS_TRY(lis_nc_check(p, &in_ch));
    const int64_t ny = (int64_t)p->K * p->out * p->out;
    bias_kernel<<<(unsigned)lis_ceil_div(ny, 256), 256, 0, LIS_STREAM(s)>>>(y, bias, p->out * p->out, ny);
    LIS_TRY(lis_cuda_launched("tapconv_bias", s));
    size_t gmax = 0;
    for (int m = 0; m < p->n_maps; m++) {
        const size_t g = (size_t)grid_size(p, m);
        gmax = (size_t)p->C[m] * g * g > gmax ? (size_t)p->C[m] * g * g : gmax;
    }
    float *G = ws, *Z = ws + gmax;
    const float *Am = A;
    for (int m = 0; m < p->n_maps; m++) {
        int g;
        LIS_TRY(lis_nc_grid_cuda(p, m, maps[m], G, &g, s));
        LIS_TRY(lis_gemm_cuda(9 * p->K, g * g, p->C[m], Am, G, Z, LIS_PREC_FP32, s));
        LIS_TRY(lis_tapconv_scatter_cuda(p, m, Z, y, s));
        Am += (size_t)9 * p->K * p->C[m];
    }
    if (p->act != LIS_ACT_NONE) {
        act_kernel<<<(unsigned)lis_ceil_div(ny, 256), 256, 0, LIS_STREAM(s)>>>(y, p->act == LIS_ACT_RELU ? 1 : 2, p->slope, ny);
        LIS_TRY(lis_cuda_launched("tapconv_act", s));
    }
    return LIS_OK;
}

} // extern "C"
