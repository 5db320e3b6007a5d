// igemm_common.cuh — the implicit-GEMM convolution's shared pieces (CUDA only): the kernel
// arguments, the per-column and per-depth gather offsets, the epilogue. Used by the SIMT and
// WMMA kernels (kernels/gemm.cu) and the mma.sync kernels (kernels/igemm_mma.cu); the GEMM
// view and the gather are described in kernels/gemm.cu.
#ifndef LIS_IGEMM_COMMON_CUH
#define LIS_IGEMM_COMMON_CUH

#include <stdint.h>

extern "C" {
#include "kernels/gemm_cuda.h"
}

namespace lis_igemm {

struct Args {
    const float *x, *w;
    float *y;
    const float *in_scale, *out_scale, *bias, *res;
    int N, C, H, W, K, R, S, sh, sw, ph, pw, dh, dw, Ho, Wo, act;
    float slope;
    int M, Kd, Ntot, HWo, RS;
    // split-K (v2, mma): blockIdx.z takes depth tiles [z*kt_per, (z+1)*kt_per) and writes its
    // raw sums to part[z][M][Ntot]; a reduction applies the epilogue. part == NULL: no split
    float *part;
    int kt_per;
    // batched plain GEMMs (v3 and mma only): blockIdx.z takes w + z*zw, x + z*zx, y + z*zy
    // (the Winograd's 16 or 36 GEMMs in one launch); zero strides otherwise
    int64_t zw, zx, zy;
};

// the matrices of this block's blockIdx.z in a batched plain GEMM
__device__ __forceinline__ Args batch_slice(Args a) {
    const int64_t z = blockIdx.z;
    a.w += z * a.zw;
    a.x += z * a.zx;
    a.y += z * a.zy;
    return a;
}

constexpr int FAR = -(1 << 29); // a coordinate offset that fails every bounds check

// Per-thread constants of one B column (output pixel).
struct Col {
    int64_t base; // b * C*H*W
    int pix;      // iy0 * W + ix0
    int iy0, ix0; // top-left input coordinate of the receptive field (FAR if n >= Ntot)
    int sbase;    // b * C (in_scale row)
};

__device__ __forceinline__ Col col_of(const Args &a, int n) {
    Col c;
    if (n >= a.Ntot) {
        c.base = 0; c.pix = 0; c.iy0 = FAR; c.ix0 = FAR; c.sbase = 0;
        return c;
    }
    int b = n / a.HWo, p = n - b * a.HWo;
    int oy = p / a.Wo, ox = p - oy * a.Wo;
    c.iy0 = oy * a.sh - a.ph;
    c.ix0 = ox * a.sw - a.pw;
    c.base = (int64_t)b * a.C * a.H * a.W;
    c.pix = c.iy0 * a.W + c.ix0;
    c.sbase = b * a.C;
    return c;
}

// Offset table of one tile of depth indices (entries k0 .. k0 + n - 1), filled by threads t < n.
struct KTab {
    int off, dy, dx, c;
};

__device__ __forceinline__ KTab ktab_entry(const Args &a, int k) {
    KTab e;
    if (k < a.Kd) {
        int ci = k / a.RS, rs = k - ci * a.RS;
        int r = rs / a.S, s = rs - r * a.S;
        e.dy = r * a.dh;
        e.dx = s * a.dw;
        e.off = (ci * a.H + e.dy) * a.W + e.dx;
        e.c = ci;
    } else {
        e.dy = FAR; e.dx = 0; e.off = 0; e.c = 0;
    }
    return e;
}

__device__ __forceinline__ float gather(const Args &a, const Col &c, const KTab &e) {
    int iy = c.iy0 + e.dy, ix = c.ix0 + e.dx;
    float v = 0.0f;
    if ((unsigned)iy < (unsigned)a.H && (unsigned)ix < (unsigned)a.W) {
        v = __ldg(a.x + c.base + c.pix + e.off);
        if (a.in_scale) v *= __ldg(a.in_scale + c.sbase + e.c);
    }
    return v;
}

__device__ __forceinline__ float load_w(const Args &a, int m, int k) {
    return (m < a.M && k < a.Kd) ? __ldg(a.w + (int64_t)m * a.Kd + k) : 0.0f;
}

// Epilogue: y = act(acc * out_scale + bias + res), in the reference's order.
__device__ __forceinline__ void store_out(const Args &a, int m, int n, float acc) {
    if (m >= a.M || n >= a.Ntot) return;
    int b = n / a.HWo, p = n - b * a.HWo;
    float v = acc;
    if (a.out_scale) v *= a.out_scale[(int64_t)b * a.M + m];
    if (a.bias) v += a.bias[m];
    int64_t off = ((int64_t)b * a.M + m) * a.HWo + p;
    if (a.res) v += a.res[off];
    if (a.act == 1) v = v > 0.0f ? v : 0.0f;
    else if (a.act == 2) v = v >= 0.0f ? v : v * a.slope;
    a.y[off] = v;
}

inline Args make_args(const lis_igemm_params *p, const float *x, const float *w, float *y) {
    Args a;
    a.x = x; a.w = w; a.y = y;
    a.in_scale = p->in_scale; a.out_scale = p->out_scale; a.bias = p->bias; a.res = p->res;
    a.N = p->N; a.C = p->C; a.H = p->H; a.W = p->W; a.K = p->K; a.R = p->R; a.S = p->S;
    a.sh = p->stride_h; a.sw = p->stride_w; a.ph = p->pad_h; a.pw = p->pad_w; a.dh = p->dil_h; a.dw = p->dil_w;
    lis_igemm_out_shape(p, &a.Ho, &a.Wo);
    a.act = p->act; a.slope = p->slope;
    a.M = p->K;
    a.Kd = p->C * p->R * p->S;
    a.HWo = a.Ho * a.Wo;
    a.Ntot = p->N * a.HWo;
    a.RS = p->R * p->S;
    a.part = NULL;
    a.kt_per = 0;
    a.zw = a.zx = a.zy = 0;
    return a;
}

// 1x1, stride 1, no padding: the B matrix is the input itself (a plain GEMM per image)
inline bool is_plain_gemm(const lis_igemm_params *p) {
    return p->R == 1 && p->S == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 && p->pad_w == 0;
}

inline bool aligned16(const void *q) { return ((uintptr_t)q & 15) == 0; }

// the same test on the arguments; the batch strides must keep every matrix 16-byte aligned too
inline bool is_plain_gemm(const Args &a) {
    return a.R == 1 && a.S == 1 && a.sh == 1 && a.sw == 1 && a.ph == 0 && a.pw == 0;
}
inline bool vec_w(const Args &a) { return a.Kd % 4 == 0 && aligned16(a.w) && a.zw % 4 == 0; }

// The mma.sync kernels on prepared arguments (kernels/igemm_mma.cu), `batch` GEMMs in z, or
// (batch 1, split) the depth split where splitk_plan finds it worth it.
lis_status mma_launch(const Args &a, lis_precision prec, int batch, lis_stream s, bool split);

// Split-K (kernels/gemm.cu), for kernels that take depth tiles [z*kt_per, (z+1)*kt_per) in
// blockIdx.z when a.part is set: splitk_plan picks the split count for a grid of per_sm blocks
// per SM and depth tiles of bk (or leaves a and grid alone), sets a.kt_per, grid.z and a.part
// (the stream's split-K scratch); splitk_reduce sums the partials in split order (deterministic)
// and applies the epilogue.
lis_status splitk_plan(Args &a, dim3 &grid, int per_sm, int bk, lis_stream s);
lis_status splitk_reduce(const Args &a, int splits, lis_stream s);

} // namespace lis_igemm

#endif
