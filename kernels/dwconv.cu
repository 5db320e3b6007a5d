// dwconv.cu — depthwise convolution + ReLU + affine + residual on the GPU (see
// kernels/dwconv_cuda.h).
//
// Variants (table below):
//   v1  one thread per output, taps read from global memory (straight port of _ref)
//   v2  a block per (plane, band of BAND output rows): the band's input rows plus the k-1
//       halo rows, zero-padded, in shared memory; threads walk the band's outputs
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/dwconv_cuda.h"
}

namespace {

constexpr int BAND = 32;

__device__ __forceinline__ float epi(int relu, float z, float sc, float sh, float r) {
    if (relu && !(z > 0.0f)) z = 0.0f;
    return __fadd_rn(r, __fadd_rn(__fmul_rn(z, sc), sh));
}

__global__ void dw_v1_kernel(lis_dwconv_params p, lis_dwconv_weights wt, const float *x, const float *res, float *y,
                             int Ho, int Wo, int64_t total) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t pl = i / ((int64_t)Ho * Wo);
        const int rem = (int)(i - pl * Ho * Wo), oy = rem / Wo, ox = rem - oy * Wo, c = (int)(pl % p.C);
        const float *xp = x + pl * p.H * p.W, *wc = wt.w + (size_t)c * p.k * p.k;
        float acc = 0.0f;
        for (int r = 0; r < p.k; r++) {
            const int iy = oy - p.pad + r;
            for (int s = 0; s < p.k; s++) {
                const int ix = ox - p.pad + s;
                const float v = (iy >= 0 && iy < p.H && ix >= 0 && ix < p.W) ? xp[(int64_t)iy * p.W + ix] : 0.0f;
                acc = fmaf(wc[r * p.k + s], v, acc);
            }
        }
        const float z = acc + (wt.bias ? wt.bias[c] : 0.0f);
        y[i] = epi(p.relu, z, wt.scale ? wt.scale[c] : 1.0f, wt.shift ? wt.shift[c] : 0.0f, res ? res[i] : 0.0f);
    }
}

// dynamic shared memory: (BAND + k - 1) rows of (W + 2 pad) floats, then k*k weights
__global__ void dw_v2_kernel(lis_dwconv_params p, lis_dwconv_weights wt, const float *x, const float *res, float *y,
                             int Ho, int Wo) {
    extern __shared__ float sm[];
    const int pl = blockIdx.y, c = pl % p.C, oy0 = blockIdx.x * BAND;
    const int Wp = p.W + 2 * p.pad, rows = BAND + p.k - 1;
    float *wsm = sm + rows * Wp;
    const float *xp = x + (int64_t)pl * p.H * p.W;
    for (int t = threadIdx.x; t < p.k * p.k; t += blockDim.x) wsm[t] = wt.w[(size_t)c * p.k * p.k + t];
    for (int t = threadIdx.x; t < rows * Wp; t += blockDim.x) {
        const int ry = t / Wp, rx = t - ry * Wp, iy = oy0 - p.pad + ry, ix = rx - p.pad;
        sm[t] = (iy >= 0 && iy < p.H && ix >= 0 && ix < p.W) ? xp[(int64_t)iy * p.W + ix] : 0.0f;
    }
    __syncthreads();
    const float b = wt.bias ? wt.bias[c] : 0.0f, sc = wt.scale ? wt.scale[c] : 1.0f, sh = wt.shift ? wt.shift[c] : 0.0f;
    const int nrow = Ho - oy0 < BAND ? Ho - oy0 : BAND;
    for (int t = threadIdx.x; t < nrow * Wo; t += blockDim.x) {
        const int dy = t / Wo, ox = t - dy * Wo;
        float acc = 0.0f;
        for (int r = 0; r < p.k; r++) {
            const float *row = sm + (dy + r) * Wp + ox;
            for (int s = 0; s < p.k; s++) acc = fmaf(wsm[r * p.k + s], row[s], acc);
        }
        const int64_t o = ((int64_t)pl * Ho + oy0 + dy) * Wo + ox;
        y[o] = epi(p.relu, acc + b, sc, sh, res ? res[o] : 0.0f);
    }
}

const lis_dwconv_cuda_variant g_variants[] = {
    {"v1", lis_dwconv_cuda_v1, "one thread per output, global-memory taps (straight port)"},
    {"v2", lis_dwconv_cuda_v2, "row band + halo in shared memory, one block per (plane, band)"},
};

} // namespace

extern "C" {

lis_status lis_dwconv_cuda_v1(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x,
                              const float *res, float *y, lis_stream s) {
    LIS_TRY(lis_dwconv_check(p));
    int Ho, Wo;
    lis_dwconv_out_shape(p, &Ho, &Wo);
    const int64_t total = (int64_t)p->N * p->C * Ho * Wo;
    const int64_t blocks = lis_ceil_div(total, 256);
    dw_v1_kernel<<<(unsigned)(blocks < 65535 * 16 ? blocks : 65535 * 16), 256, 0, LIS_STREAM(s)>>>(*p, *wt, x, res, y,
                                                                                                 Ho, Wo, total);
    return lis_cuda_launched("dwconv_v1", s);
}

lis_status lis_dwconv_cuda_v2(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x,
                              const float *res, float *y, lis_stream s) {
    LIS_TRY(lis_dwconv_check(p));
    int Ho, Wo;
    lis_dwconv_out_shape(p, &Ho, &Wo);
    const size_t smem = sizeof(float) * ((size_t)(BAND + p->k - 1) * (p->W + 2 * p->pad) + (size_t)p->k * p->k);
    if (smem > 48 * 1024 || (int64_t)p->N * p->C > 65535) return lis_dwconv_cuda_v1(p, wt, x, res, y, s);
    const dim3 grid((unsigned)lis_ceil_div(Ho, BAND), (unsigned)(p->N * p->C));
    dw_v2_kernel<<<grid, 256, smem, LIS_STREAM(s)>>>(*p, *wt, x, res, y, Ho, Wo);
    return lis_cuda_launched("dwconv_v2", s);
}

lis_status lis_dwconv_cuda(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x, const float *res,
                           float *y, lis_stream s) {
    return lis_dwconv_cuda_v2(p, wt, x, res, y, s);
}

int lis_dwconv_cuda_variants(const lis_dwconv_cuda_variant **out) {
    *out = g_variants;
    return (int)(sizeof g_variants / sizeof g_variants[0]);
}

} // extern "C"
