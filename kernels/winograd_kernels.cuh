// winograd_kernels.cuh — the per-element work of the GPU Winograd kernels (kernels/winograd.cu)
// for output tiles of MT x MT (F(2x2, 3x3): MT = 2; F(4x4, 3x3): MT = 4), as __host__ __device__
// functions of the element index: the kernels call them once per thread, and the host test
// tests/test_cuda_emu_winograd.cu calls them in loops (with a host GEMM in between) to check
// the index math and the transforms without a GPU.
//
// Layouts, NX = (MT + 2)^2 transform positions xi, T tiles of a group of images (t fastest):
//   U[xi][o][i]   transformed weights                     (weights_at, one (o, i) per call)
//   V[xi][c][t]   sm[b, c] * (B^T d B)[xi], d the zero-padded (MT+2)^2 patch of tile t
//                 (U and V: float32, or bf16/fp16 with rows padded for the 16-bit GEMMs)
//   M[xi][o][t]   the GEMMs' products U[xi] V[xi]
//   y[b][o][MT x MT of tile t] = act(dsc[b, o] * (A^T M A) + bias[o] + res)  (output_at)
#ifndef LIS_WINOGRAD_KERNELS_CUH
#define LIS_WINOGRAD_KERNELS_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "kernels/winograd_transform.h"

// the bodies also compile for the host (emulation), where gcc would warn about the pragma
#ifdef __CUDA_ARCH__
#define LIS_WINO_UNROLL _Pragma("unroll")
#else
#define LIS_WINO_UNROLL
#endif

namespace lis_wino {

template <int MT>
struct Tile;
template <>
struct Tile<2> {
    static constexpr int P = 4, NX = 16; // patch side, transform positions
    __host__ __device__ static void weights(const float *g, float *u) { lis_wino_weight_transform(g, u); }
    __host__ __device__ static void input(const float (&d)[P][P], float *v) { lis_wino_input_transform(d, v); }
    __host__ __device__ static void output(const float *m, float (&o)[2][2]) { lis_wino_output_transform(m, o); }
};
template <>
struct Tile<4> {
    static constexpr int P = 6, NX = 36;
    __host__ __device__ static void weights(const float *g, float *u) { lis_wino4_weight_transform(g, u); }
    __host__ __device__ static void input(const float (&d)[P][P], float *v) { lis_wino4_input_transform(d, v); }
    __host__ __device__ static void output(const float *m, float (&o)[4][4]) { lis_wino4_output_transform(m, o); }
};

// the igemm epilogue's order: out_scale, bias, residual, activation
struct Epi {
    const float *dsc, *bias, *res;
    int act;
    float slope;
};

__host__ __device__ inline float epi(const Epi &e, float v, float f, float bo, int64_t off) {
    if (e.dsc) v *= f;
    if (e.bias) v += bo;
    if (e.res) v += e.res[off];
    if (e.act == 1) v = v > 0.0f ? v : 0.0f;
    else if (e.act == 2) v = v >= 0.0f ? v : v * e.slope;
    return v;
}

// The transforms' output elements: float32, or the 16-bit operands of the tensor-core GEMMs
// (rounded to nearest even once here, as the mma kernel would round them at fragment load)
template <typename E> __host__ __device__ inline E to_elem(float v);
template <> __host__ __device__ inline float to_elem<float>(float v) { return v; }
template <> __host__ __device__ inline __nv_bfloat16 to_elem<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __host__ __device__ inline __half to_elem<__half>(float v) { return __float2half_rn(v); }

// U[xi * xs + o * ld + i] for idx = o * ld + i (ld >= I columns per row): the transform of
// w[o][i], zero in the padding columns i >= I (the 16-bit GEMMs read their depth in groups of 8)
template <int MT, typename E = float>
__host__ __device__ inline void weights_at(const float *w, E *U, int I, int64_t ld, int64_t xs, int64_t idx) {
    const int64_t o = idx / ld;
    const int i = (int)(idx - o * ld);
    float u[Tile<MT>::NX];
    if (i < I) Tile<MT>::weights(w + (o * I + i) * 9, u);
    else
        for (int xi = 0; xi < Tile<MT>::NX; xi++) u[xi] = 0.0f;
    for (int xi = 0; xi < Tile<MT>::NX; xi++) U[(int64_t)xi * xs + idx] = to_elem<E>(u[xi]);
}

// V[xi * xs + c * ld + t] for idx = c * T + t (ld >= T); tiles of images b0 .. (th x tw per
// image); rows c >= C (the padding of the 16-bit GEMMs' depth) are zero
template <int MT, typename E = float>
__host__ __device__ inline void input_at(const float *x, const float *sm, E *V, int b0, int C, int H, int W, int pad,
                                         int th, int tw, int64_t T, int64_t ld, int64_t xs, int64_t idx) {
    constexpr int P = Tile<MT>::P;
    const int c = (int)(idx / T);
    const int64_t t = idx - (int64_t)c * T;
    E *vo = V + (int64_t)c * ld + t;
    if (c >= C) {
        for (int xi = 0; xi < Tile<MT>::NX; xi++) vo[xi * xs] = to_elem<E>(0.0f);
        return;
    }
    const int per = th * tw, bl = (int)(t / per), r = (int)(t - (int64_t)bl * per);
    const int b = b0 + bl, y0 = (r / tw) * MT - pad, x0 = (r % tw) * MT - pad;
    const float *xc = x + ((int64_t)b * C + c) * H * W;
    const float sc = sm ? sm[(int64_t)b * C + c] : 1.0f;
    float d[P][P];
    for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++) {
            const int yy = y0 + i, xx = x0 + j;
            d[i][j] = yy >= 0 && yy < H && xx >= 0 && xx < W ? xc[(int64_t)yy * W + xx] : 0.0f;
        }
    float v[Tile<MT>::NX];
    Tile<MT>::input(d, v);
    for (int xi = 0; xi < Tile<MT>::NX; xi++) vo[xi * xs] = to_elem<E>(sc * v[xi]);
}

// the MT x MT outputs of tile t of output channel o, for idx = o * T + t
template <int MT>
__host__ __device__ inline void output_at(const float *M, const Epi &e, float *y, int b0, int O, int Ho, int Wo, int th,
                                          int tw, int64_t T, int64_t idx) {
    const int o = (int)(idx / T);
    const int64_t t = idx - (int64_t)o * T;
    const int per = th * tw, bl = (int)(t / per), r = (int)(t - (int64_t)bl * per);
    const int b = b0 + bl, oy = (r / tw) * MT, ox = (r % tw) * MT;
    const int64_t ms = (int64_t)O * T;
    const float *mp = M + (int64_t)o * T + t;
    float m[Tile<MT>::NX], out[MT][MT];
    for (int xi = 0; xi < Tile<MT>::NX; xi++) m[xi] = mp[xi * ms];
    Tile<MT>::output(m, out);
    const float f = e.dsc ? e.dsc[(int64_t)b * O + o] : 1.0f, bo = e.bias ? e.bias[o] : 0.0f;
    const int64_t yo = ((int64_t)b * O + o) * Ho * Wo; // res (which may alias y) is read before y is written
    // unrolled with static indices: out[][] stays in registers
LIS_WINO_UNROLL
    for (int i = 0; i < MT; i++)
LIS_WINO_UNROLL
        for (int j = 0; j < MT; j++) {
            if (oy + i >= Ho || ox + j >= Wo) continue;
            const int64_t off = yo + (int64_t)(oy + i) * Wo + ox + j;
            y[off] = epi(e, out[i][j], f, bo, off);
        }
}

} // namespace lis_wino

#endif
