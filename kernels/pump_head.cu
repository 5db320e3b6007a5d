// pump_head.cu — PixelShuffle(2) + bilinear x2 + L2 norm on the GPU (see kernels/pump_head_cuda.h).
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/pump_head_cuda.h"
}

namespace {

// PyTorch's source index for scale 0.5 along an axis of n shuffled samples
__device__ __forceinline__ void taps(int o, int n, int *i0, int *i1, float *l0, float *l1) {
    float s = __fsub_rn(__fmul_rn(0.5f, __fadd_rn((float)o, 0.5f)), 0.5f);
    if (s < 0.0f) s = 0.0f;
    *i0 = (int)s;
    *i1 = *i0 + (*i0 < n - 1 ? 1 : 0);
    *l1 = __fsub_rn(s, (float)*i0);
    *l0 = __fsub_rn(1.0f, *l1);
}

__device__ __forceinline__ float shuf(const float *x, int h, int w, int c, int R, int X) {
    return x[(int64_t)(4 * c + 2 * (R & 1) + (X & 1)) * h * w + (int64_t)(R >> 1) * w + (X >> 1)];
}

// one warp per output pixel
__global__ void head_full_kernel(int C, int h, int w, const float *x, float *out) {
    const int W = 4 * w, H = 4 * h;
    const int64_t pix = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x & 31;
    if (pix >= (int64_t)H * W) return;
    const int Y = (int)(pix / W), X = (int)(pix - (int64_t)Y * W);
    int y0, y1, x0, x1;
    float h0, h1, w0, w1;
    taps(Y, 2 * h, &y0, &y1, &h0, &h1);
    taps(X, 2 * w, &x0, &x1, &w0, &w1);
    float ss = 0.0f;
    float *o = out + pix * C;
    for (int c = lane; c < C; c += 32) {
        const float t0 = __fadd_rn(__fmul_rn(w0, shuf(x, h, w, c, y0, x0)), __fmul_rn(w1, shuf(x, h, w, c, y0, x1)));
        const float t1 = __fadd_rn(__fmul_rn(w0, shuf(x, h, w, c, y1, x0)), __fmul_rn(w1, shuf(x, h, w, c, y1, x1)));
        const float v = __fadd_rn(__fmul_rn(h0, t0), __fmul_rn(h1, t1));
        o[c] = v;
        ss = fmaf(v, v, ss);
    }
    ss = lis_warp_sum(ss);
    float nrm = sqrtf(ss);
    if (nrm < 1e-12f) nrm = 1e-12f;
    for (int c = lane; c < C; c += 32) o[c] = __fdiv_rn(o[c], nrm);
}

// one warp per cell: rows 2i / 2i+1 and columns 2j / 2j+1 of the shuffled map, weights 0.25 / 0.75
__global__ void head_grid_kernel(int C, int h, int w, const float *x, float *out, int ld) {
    const int64_t cell = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x & 31;
    if (cell >= (int64_t)h * w) return;
    const int64_t hw = (int64_t)h * w;
    float ss = 0.0f;
    for (int c = lane; c < C; c += 32) {
        const float *a = x + (int64_t)(4 * c) * hw + cell;
        const float t0 = __fadd_rn(__fmul_rn(0.25f, a[0]), __fmul_rn(0.75f, a[hw]));
        const float t1 = __fadd_rn(__fmul_rn(0.25f, a[2 * hw]), __fmul_rn(0.75f, a[3 * hw]));
        const float v = __fadd_rn(__fmul_rn(0.25f, t0), __fmul_rn(0.75f, t1));
        out[(int64_t)c * ld + cell] = v;
        ss = fmaf(v, v, ss);
    }
    ss = lis_warp_sum(ss);
    float nrm = sqrtf(ss);
    if (nrm < 1e-12f) nrm = 1e-12f;
    for (int c = lane; c < C; c += 32) out[(int64_t)c * ld + cell] = __fdiv_rn(out[(int64_t)c * ld + cell], nrm);
}

} // namespace

extern "C" {

lis_status lis_pump_head_full_cuda(const lis_pump_head_params *p, const float *x, float *out, lis_stream s) {
    const int64_t warps = (int64_t)16 * p->h * p->w;
    head_full_kernel<<<(unsigned)lis_ceil_div(warps * 32, 256), 256, 0, LIS_STREAM(s)>>>(p->C, p->h, p->w, x, out);
    return lis_cuda_launched("pump_head_full", s);
}

lis_status lis_pump_head_grid_cuda(const lis_pump_head_params *p, const float *x, float *out, int ld, lis_stream s) {
    const int64_t warps = (int64_t)p->h * p->w;
    head_grid_kernel<<<(unsigned)lis_ceil_div(warps * 32, 256), 256, 0, LIS_STREAM(s)>>>(p->C, p->h, p->w, x, out, ld);
    return lis_cuda_launched("pump_head_grid", s);
}

} // extern "C"
