// gemm.cu — implicit-GEMM convolution and plain GEMM on the GPU (see kernels/gemm_cuda.h).
//
// GEMM view of a convolution: rows m = output channel k (M = K), columns n = output
// pixel (b, oy, ox) over the whole batch (Ntot = N*Ho*Wo), depth kd = (c, r, s)
// (Kd = C*R*S, PyTorch's weight layout). A = w (row-major M x Kd), B = the im2col matrix,
// gathered tile by tile.
//
// Variants (one line each; the table at the end lists them):
//   v1    one thread per output, sequential sum over kd (straight port of the reference)
//   v2    128x128x8 tiles in shared memory, 256 threads x 8x8 outputs, register prefetch
//   v2 splitk  v2 with the depth split over blockIdx.z for grids that fill the GPU badly,
//         partial sums reduced (in order) by a second kernel that applies the epilogue;
//         the shipped path splits (LIS_SPLITK_CUDA=0 turns it off)
//   v3    plain GEMMs (1x1, stride 1, no padding): float4 loads, double-buffered tiles
//   wino  Winograd F(2x2, 3x3) (kernels/winograd.cu) on v3 GEMMs, for 3x3 stride 1
//   wino4 Winograd F(4x4, 3x3), the shipped float32 Winograd
//   tf32 wmma / bf16 wmma / fp16 wmma: WMMA, 128x128x32 tiles, 8 warps x (64x32), float
//         accumulators; operands rounded to the precision when they are stored to shared memory
//   (the shipped reduced-precision mma.sync kernels are in kernels/igemm_mma.cu)
//
// The gather: a thread's B column n is fixed for the whole kernel (its image base, top-left
// input coordinate), and for each tile of BK depth indices a small shared table holds
// (c*H*W + r*dh*W + s*dw, r*dh, s*dw, c) so that a load is two adds, a bounds check and a
// read: no integer division in the inner loop. Depth indices past Kd get an offset that
// fails the bounds check, so the tail of the last tile reads zeros.
//
// Synchronisation pattern of v2 and the WMMA kernels (single shared buffer,
// double-buffered offset table, operands prefetched into registers):
//     prologue: table(0); sync; regs <- tile 0
//     loop kt:  smem <- regs; table(kt+1) into the other half; sync;
//               regs <- tile kt+1 (global loads in flight) ; compute on smem; sync
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#include "kernels/igemm_common.cuh"
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/gemm_cuda.h"
#include "kernels/winograd_cuda.h"
}

using namespace nvcuda;

namespace {

using namespace lis_igemm;

// ---------------------------------------------------------------- v1: naive

__global__ void igemm_v1_kernel(Args a) {
    int n = blockIdx.x * blockDim.x + threadIdx.x, m = blockIdx.y;
    if (n >= a.Ntot) return;
    Col c = col_of(a, n);
    float acc = 0.0f;
    for (int k = 0; k < a.Kd; k++) acc += load_w(a, m, k) * gather(a, c, ktab_entry(a, k));
    store_out(a, m, n, acc);
}

// ---------------------------------------------------------------- v2: SIMT tiles

// One depth of the 128x128 SIMT tiles (v2, v3): acc[i][j] += a[i] * b[j] for this thread's rows
// ty*4 .. +3 and 64 + ty*4 .. +3 of arow and columns tx*4 .. +3 and 64 + tx*4 .. +3 of brow.
__device__ __forceinline__ void fma_8x8(const float *arow, const float *brow, int ty, int tx, float (&acc)[8][8]) {
    const float4 a0 = *reinterpret_cast<const float4 *>(arow + ty * 4);
    const float4 a1 = *reinterpret_cast<const float4 *>(arow + 64 + ty * 4);
    const float4 b0 = *reinterpret_cast<const float4 *>(brow + tx * 4);
    const float4 b1 = *reinterpret_cast<const float4 *>(brow + 64 + tx * 4);
    const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
    const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
}

constexpr int V2_BM = 128, V2_BN = 128, V2_BK = 8, V2_PAD = 4;

__global__ __launch_bounds__(256) void igemm_v2_kernel(Args a) {
    __shared__ __align__(16) float As[V2_BK][V2_BM + V2_PAD]; // As[k][m] (padded: conflict-free stores)
    __shared__ __align__(16) float Bs[V2_BK][V2_BN];          // Bs[k][n]
    __shared__ KTab tab[2][V2_BK];
    const int t = threadIdx.x, tx = t & 15, ty = t >> 4;
    const int m0 = blockIdx.y * V2_BM, n0 = blockIdx.x * V2_BN;
    // loads: A element q of this thread is (m = (t >> 3) + 32q, k = t & 7);
    //        B element q is (k = (t >> 7) + 2q, n = t & 127)
    const int a_k = t & 7, a_m = t >> 3, b_k = t >> 7, b_n = t & 127;
    const Col col = col_of(a, n0 + b_n);
    // depth tiles kt0 .. nk-1 of this block (all of them without split-K)
    const int nk_all = (a.Kd + V2_BK - 1) / V2_BK;
    const int kt0 = a.part ? (int)blockIdx.z * a.kt_per : 0;
    const int nk = a.part ? min(nk_all, kt0 + a.kt_per) : nk_all;
    float ra[4], rb[4];
    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.0f;

    if (t < V2_BK) tab[0][t] = ktab_entry(a, kt0 * V2_BK + t);
    __syncthreads();
#pragma unroll
    for (int q = 0; q < 4; q++) {
        ra[q] = load_w(a, m0 + a_m + 32 * q, kt0 * V2_BK + a_k);
        rb[q] = gather(a, col, tab[0][b_k + 2 * q]);
    }
    for (int kt = kt0; kt < nk; kt++) {
#pragma unroll
        for (int q = 0; q < 4; q++) {
            As[a_k][a_m + 32 * q] = ra[q];
            Bs[b_k + 2 * q][b_n] = rb[q];
        }
        const int nb = (kt + 1 - kt0) & 1;
        if (t < V2_BK && kt + 1 < nk) tab[nb][t] = ktab_entry(a, (kt + 1) * V2_BK + t);
        __syncthreads();
        if (kt + 1 < nk) {
            const int k0 = (kt + 1) * V2_BK;
#pragma unroll
            for (int q = 0; q < 4; q++) {
                ra[q] = load_w(a, m0 + a_m + 32 * q, k0 + a_k);
                rb[q] = gather(a, col, tab[nb][b_k + 2 * q]);
            }
        }
#pragma unroll
        for (int kk = 0; kk < V2_BK; kk++) fma_8x8(As[kk], Bs[kk], ty, tx, acc);
        __syncthreads();
    }
    float *part = a.part ? a.part + (int64_t)blockIdx.z * a.M * a.Ntot : NULL;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int m = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
#pragma unroll
        for (int j = 0; j < 8; j++) {
            int n = n0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + (j - 4));
            if (!part) store_out(a, m, n, acc[i][j]);
            else if (m < a.M && n < a.Ntot) part[(int64_t)m * a.Ntot + n] = acc[i][j];
        }
    }
}

// split-K: the sum of the partial products in split order (deterministic), then the epilogue
__global__ void splitk_reduce_kernel(Args a, int splits) {
    const int64_t total = (int64_t)a.M * a.Ntot;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        float acc = 0.0f;
        for (int z = 0; z < splits; z++) acc += a.part[(int64_t)z * total + i];
        const int m = (int)(i / a.Ntot);
        store_out(a, m, (int)(i - (int64_t)m * a.Ntot), acc);
    }
}

// ---------------------------------------------------------------- v3: plain GEMM, float32

// 1x1 convolutions with stride 1 and no padding are plain GEMMs: the B element (k, n) is
// x[b, k, p] with n = b*HW + p, so four consecutive columns are four consecutive floats
// when HW % 4 == 0 (VB) and four consecutive depths of a weight row are too when
// Kd % 4 == 0 (VA). v3 loads them as float4 (no offset table, no bounds check per element),
// double-buffers the shared tiles (one barrier per tile instead of two) and stores float4s.
// Tiling and the 8x8 outputs per thread as v2. The ResNet's 1x1 convolutions (half its
// multiply-adds), the Winograd GEMMs, the synthesis input's channel mixing and toRGB use it.
constexpr int V3_BM = 128, V3_BN = 128, V3_BK = 8, V3_PAD = 4;

template <bool VA, bool VB>
__global__ __launch_bounds__(256, 2) void igemm_v3_kernel(Args batched) { // <= 128 registers: two blocks per SM
    const Args a = batch_slice(batched);
    __shared__ __align__(16) float As[2][V3_BK][V3_BM + V3_PAD]; // As[buf][k][m]
    __shared__ __align__(16) float Bs[2][V3_BK][V3_BN];          // Bs[buf][k][n]
    const int t = threadIdx.x, tx = t & 15, ty = t >> 4;
    const int m0 = blockIdx.y * V3_BM, n0 = blockIdx.x * V3_BN;
    const int HW = a.HWo; // = H * W for these convolutions
    // loads: A row a_m, depths a_k .. a_k+3; B depth b_k, columns b_n .. b_n+3
    const int a_m = t >> 1, a_k = (t & 1) * 4, b_k = t >> 5, b_n = (t & 31) * 4;
    const int am = m0 + a_m;
    const float *arow = a.w + (int64_t)(am < a.M ? am : 0) * a.Kd;
    // the four B columns: image base and in_scale row (VB: one image for all four)
    int64_t cb[VB ? 1 : 4];
    int cs[VB ? 1 : 4];
    bool cv[VB ? 1 : 4];
#pragma unroll
    for (int j = 0; j < (VB ? 1 : 4); j++) {
        const int n = n0 + b_n + j, b = n / HW, p = n - b * HW;
        cv[j] = n < a.Ntot;
        cb[j] = cv[j] ? (int64_t)b * a.Kd * HW + p : 0;
        cs[j] = cv[j] ? b * a.Kd : 0;
    }
    float ra[4], rb[4];
    auto load = [&](int k0) {
        const int ka = k0 + a_k;
        if (VA) {
            float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
            if (am < a.M && ka < a.Kd) v = __ldg(reinterpret_cast<const float4 *>(arow + ka));
            ra[0] = v.x; ra[1] = v.y; ra[2] = v.z; ra[3] = v.w;
        } else {
#pragma unroll
            for (int j = 0; j < 4; j++) ra[j] = (am < a.M && ka + j < a.Kd) ? __ldg(arow + ka + j) : 0.0f;
        }
        const int kb = k0 + b_k;
        const bool kin = kb < a.Kd;
        if (VB) {
            float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
            if (kin && cv[0]) {
                v = __ldg(reinterpret_cast<const float4 *>(a.x + cb[0] + (int64_t)kb * HW));
                if (a.in_scale) {
                    const float sc = __ldg(a.in_scale + cs[0] + kb);
                    v.x *= sc; v.y *= sc; v.z *= sc; v.w *= sc;
                }
            }
            rb[0] = v.x; rb[1] = v.y; rb[2] = v.z; rb[3] = v.w;
        } else {
#pragma unroll
            for (int j = 0; j < 4; j++) {
                float v = 0.0f;
                if (kin && cv[j]) {
                    v = __ldg(a.x + cb[j] + (int64_t)kb * HW);
                    if (a.in_scale) v *= __ldg(a.in_scale + cs[j] + kb);
                }
                rb[j] = v;
            }
        }
    };
    auto stash = [&](int buf) {
#pragma unroll
        for (int j = 0; j < 4; j++) As[buf][a_k + j][a_m] = ra[j];
        *reinterpret_cast<float4 *>(&Bs[buf][b_k][b_n]) = make_float4(rb[0], rb[1], rb[2], rb[3]);
    };

    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.0f;
    const int nk = (a.Kd + V3_BK - 1) / V3_BK;
    load(0);
    stash(0);
    __syncthreads();
    for (int kt = 0; kt < nk; kt++) {
        const int cur = kt & 1;
        if (kt + 1 < nk) load((kt + 1) * V3_BK); // in flight during the products below
#pragma unroll
        for (int kk = 0; kk < V3_BK; kk++) fma_8x8(As[cur][kk], Bs[cur][kk], ty, tx, acc);
        // the other buffer was last read before the previous barrier: safe to refill
        if (kt + 1 < nk) stash(cur ^ 1);
        __syncthreads();
    }
    // epilogue: rows ty*4 + i (+64), columns tx*4 + j (+64)
#pragma unroll
    for (int g = 0; g < 2; g++) {
        const int n = n0 + g * 64 + tx * 4;
        if (VB) {
            if (n >= a.Ntot) continue; // Ntot % 4 == 0: the four columns are all in or all out
            const int b = n / HW, p = n - b * HW;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                const int m = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
                if (m >= a.M) continue;
                const int64_t off = ((int64_t)b * a.M + m) * HW + p;
                const float os = a.out_scale ? a.out_scale[(int64_t)b * a.M + m] : 1.0f;
                const float bi = a.bias ? a.bias[m] : 0.0f;
                float v[4];
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    float u = acc[i][g * 4 + j];
                    if (a.out_scale) u *= os;
                    if (a.bias) u += bi;
                    if (a.res) u += a.res[off + j];
                    if (a.act == 1) u = u > 0.0f ? u : 0.0f;
                    else if (a.act == 2) u = u >= 0.0f ? u : u * a.slope;
                    v[j] = u;
                }
                *reinterpret_cast<float4 *>(a.y + off) = make_float4(v[0], v[1], v[2], v[3]);
            }
        } else {
#pragma unroll
            for (int i = 0; i < 8; i++) {
                const int m = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
#pragma unroll
                for (int j = 0; j < 4; j++) store_out(a, m, n + j, acc[i][g * 4 + j]);
            }
        }
    }
}

// ---------------------------------------------------------------- tensor cores (WMMA)

template <int P> struct Tc;
template <> struct Tc<LIS_PREC_TF32> {
    using S = float;             // shared-memory operand type
    using F = wmma::precision::tf32;
    static constexpr int KF = 8; // fragment depth
    static __device__ __forceinline__ S cvt(float v) { return wmma::__float_to_tf32(v); }
};
template <> struct Tc<LIS_PREC_BF16> {
    using S = __nv_bfloat16;
    using F = __nv_bfloat16;
    static constexpr int KF = 16;
    static __device__ __forceinline__ S cvt(float v) { return __float2bfloat16_rn(v); }
};
template <> struct Tc<LIS_PREC_FP16> {
    using S = __half;
    using F = __half;
    static constexpr int KF = 16;
    static __device__ __forceinline__ S cvt(float v) { return __float2half_rn(v); }
};

constexpr int TC_BM = 128, TC_BN = 128, TC_BK = 32;

template <int P>
__global__ __launch_bounds__(256) void igemm_tc_kernel(Args a) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    using S = typename Tc<P>::S;
    using F = typename Tc<P>::F;
    constexpr int KF = Tc<P>::KF;
    // leading dimensions: multiples of 16 bytes, and every fragment origin 32-byte aligned
    constexpr int LDA = TC_BK + (sizeof(S) == 4 ? 4 : 8);  // As[m][k]
    constexpr int LDB = TC_BN + (sizeof(S) == 4 ? 4 : 8);  // Bs[k][n]
    __shared__ __align__(128) S As[TC_BM * LDA];
    __shared__ __align__(128) S Bs[TC_BK * LDB];
    __shared__ __align__(128) float Cs[8][16 * 16];         // one 16x16 staging tile per warp
    __shared__ KTab tab[2][TC_BK];

    const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
    const int wm = warp >> 2, wn = warp & 3; // warp tile: rows wm*64 .. +64, cols wn*32 .. +32
    const int m0 = blockIdx.y * TC_BM, n0 = blockIdx.x * TC_BN;
    // loads: A element q is (m = (t >> 5) + 8q, k = t & 31); B element q is (k = (t >> 7) + 2q, n = t & 127)
    const int a_k = t & 31, a_m = t >> 5, b_k = t >> 7, b_n = t & 127;
    const Col col = col_of(a, n0 + b_n);
    const int nk = (a.Kd + TC_BK - 1) / TC_BK;

    wmma::fragment<wmma::accumulator, 16, 16, KF, float> acc[4][2];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    float ra[16], rb[16];
    if (t < TC_BK) tab[0][t] = ktab_entry(a, t);
    __syncthreads();
#pragma unroll
    for (int q = 0; q < 16; q++) {
        ra[q] = load_w(a, m0 + a_m + 8 * q, a_k);
        rb[q] = gather(a, col, tab[0][b_k + 2 * q]);
    }
    for (int kt = 0; kt < nk; kt++) {
#pragma unroll
        for (int q = 0; q < 16; q++) {
            As[(a_m + 8 * q) * LDA + a_k] = Tc<P>::cvt(ra[q]);
            Bs[(b_k + 2 * q) * LDB + b_n] = Tc<P>::cvt(rb[q]);
        }
        const int nb = (kt + 1) & 1;
        if (t < TC_BK && kt + 1 < nk) tab[nb][t] = ktab_entry(a, (kt + 1) * TC_BK + t);
        __syncthreads();
        if (kt + 1 < nk) {
            const int k0 = (kt + 1) * TC_BK;
#pragma unroll
            for (int q = 0; q < 16; q++) {
                ra[q] = load_w(a, m0 + a_m + 8 * q, k0 + a_k);
                rb[q] = gather(a, col, tab[nb][b_k + 2 * q]);
            }
        }
#pragma unroll
        for (int kk = 0; kk < TC_BK; kk += KF) {
            wmma::fragment<wmma::matrix_a, 16, 16, KF, F, wmma::row_major> af[4];
            wmma::fragment<wmma::matrix_b, 16, 16, KF, F, wmma::row_major> bfr[2];
#pragma unroll
            for (int i = 0; i < 4; i++) wmma::load_matrix_sync(af[i], As + (wm * 64 + i * 16) * LDA + kk, LDA);
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(bfr[j], Bs + kk * LDB + wn * 32 + j * 16, LDB);
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], af[i], bfr[j], acc[i][j]);
        }
        __syncthreads();
    }
    // epilogue through a per-warp 16x16 staging tile
    float *cs = Cs[warp];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) {
            wmma::store_matrix_sync(cs, acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            for (int e = lane; e < 256; e += 32)
                store_out(a, m0 + wm * 64 + i * 16 + (e >> 4), n0 + wn * 32 + j * 16 + (e & 15), cs[e]);
            __syncwarp();
        }
#else
    __trap(); // tensor-core variants need sm_80 or newer
#endif
}

// ---------------------------------------------------------------- host side


lis_status run_v1(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    LIS_TRY(lis_igemm_check(p));
    if (p->K > 65535) return lis_err_set("igemm v1: K = %d > 65535 (grid limit)", p->K);
    Args a = make_args(p, x, w, y);
    dim3 grid((unsigned)lis_ceil_div(a.Ntot, 128), (unsigned)a.M);
    igemm_v1_kernel<<<grid, 128, 0, LIS_STREAM(s)>>>(a);
    return lis_cuda_launched("igemm_v1", s);
}

// split_k: 0 never, 1 when splitk_count finds it worth it
lis_status run_v2(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s,
                  int split_k = 0) {
    LIS_TRY(lis_igemm_check(p));
    Args a = make_args(p, x, w, y);
    dim3 grid((unsigned)lis_ceil_div(a.Ntot, V2_BN), (unsigned)lis_ceil_div(a.M, V2_BM));
    if (split_k) {
        static int per_sm = 0;
        if (!per_sm && cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, igemm_v2_kernel, 256, 0) != cudaSuccess) {
            (void)cudaGetLastError();
            per_sm = 1;
        }
        LIS_TRY(splitk_plan(a, grid, per_sm, V2_BK, s));
    }
    igemm_v2_kernel<<<grid, 256, 0, LIS_STREAM(s)>>>(a);
    LIS_TRY(lis_cuda_launched("igemm_v2", s));
    return a.part ? splitk_reduce(a, (int)grid.z, s) : LIS_OK;
}

// The shipped float32 path splits where splitk_plan finds it worth it (ResNet-50 b64 fp32
// 2623 -> 2890 img/s on the H200, bench/results/gpu_check-20261127-h200-7); LIS_SPLITK_CUDA=0
// turns it off
int splitk_wanted(void) {
    static int cache = -1;
    return !lis_cuda_env_is("LIS_SPLITK_CUDA", "0", &cache);
}

lis_status run_v2_splitk(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_v2(p, x, w, y, s, 1);
}

// v3 on prepared arguments of a plain GEMM, `batch` of them in z
lis_status launch_v3(const Args &a, int batch, lis_stream s) {
    const bool va = vec_w(a);
    const bool vb = a.HWo % 4 == 0 && aligned16(a.x) && aligned16(a.y) && a.zx % 4 == 0 && a.zy % 4 == 0;
    dim3 grid((unsigned)lis_ceil_div(a.Ntot, V3_BN), (unsigned)lis_ceil_div(a.M, V3_BM), (unsigned)batch);
    cudaStream_t st = LIS_STREAM(s);
    if (va && vb) igemm_v3_kernel<true, true><<<grid, 256, 0, st>>>(a);
    else if (va) igemm_v3_kernel<true, false><<<grid, 256, 0, st>>>(a);
    else if (vb) igemm_v3_kernel<false, true><<<grid, 256, 0, st>>>(a);
    else igemm_v3_kernel<false, false><<<grid, 256, 0, st>>>(a);
    return lis_cuda_launched("igemm_v3", s);
}

// v3 takes 1x1 convolutions with stride 1 and no padding (plain GEMMs); others go to v2
lis_status run_v3(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    if (!is_plain_gemm(p)) return run_v2(p, x, w, y, s, splitk_wanted());
    LIS_TRY(lis_igemm_check(p));
    return launch_v3(make_args(p, x, w, y), 1, s);
}

// The float32 choice: Winograd for big 3x3 layers (kernels/winograd_cuda.h) from 64 input
// channels on (fewer gain too little from the 2.25x fewer multiplies), with the tile
// lis_wino_cuda_tile picks; v3 for plain GEMMs, v2 (split where it fills the GPU better) for
// the rest.
lis_status run_fp32(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    if (p->C >= 64 && lis_wino_igemm_applies(p) && lis_wino_cuda_wanted(p))
        return lis_wino_igemm_cuda_prec(p, LIS_PREC_FP32, 0, x, w, y, s);
    return run_v3(p, x, w, y, s);
}

// the "wino" variant: Winograd wherever it applies, whatever the size; v3/v2 elsewhere
lis_status run_wino(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    if (lis_wino_igemm_applies(p)) return lis_wino_igemm_cuda(p, x, w, y, s);
    return run_v3(p, x, w, y, s);
}

// "wino4": F(4x4, 3x3) wherever it applies
lis_status run_wino4(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    if (lis_wino_igemm_applies(p)) return lis_wino4_igemm_cuda(p, x, w, y, s);
    return run_v3(p, x, w, y, s);
}

// "tf32 wino", "bf16 wino": F(2x2, 3x3) with the GEMMs on the tensor cores (float32 operands)
// wherever it applies, the precision's mma kernel elsewhere
template <int P>
lis_status run_wino_tc(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    if (lis_wino_igemm_applies(p)) return lis_wino_igemm_cuda_f32ops(p, (lis_precision)P, x, w, y, s);
    return lis_igemm_cuda_mma(p, (lis_precision)P, x, w, y, s);
}
lis_status wino_tf32(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_wino_tc<LIS_PREC_TF32>(p, x, w, y, s);
}
lis_status wino_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_wino_tc<LIS_PREC_BF16>(p, x, w, y, s);
}
// "bf16 wino16": the same with 16-bit operands on lis_gemm16_cuda_batched
lis_status wino16_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    if (lis_wino_igemm_applies(p)) return lis_wino_igemm_cuda_g16(p, LIS_PREC_BF16, x, w, y, s);
    return lis_igemm_cuda_mma(p, LIS_PREC_BF16, x, w, y, s);
}

template <int P>
lis_status run_wmma(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    LIS_TRY(lis_igemm_check(p));
    Args a = make_args(p, x, w, y);
    dim3 grid((unsigned)lis_ceil_div(a.Ntot, TC_BN), (unsigned)lis_ceil_div(a.M, TC_BM));
    igemm_tc_kernel<P><<<grid, 256, 0, LIS_STREAM(s)>>>(a);
    return lis_cuda_launched(P == LIS_PREC_TF32 ? "igemm_tf32" : P == LIS_PREC_BF16 ? "igemm_bf16" : "igemm_fp16", s);
}

template <typename T>
__global__ void convert_kernel(const float *src, T *dst, size_t n);
template <>
__global__ void convert_kernel<__nv_bfloat16>(const float *src, __nv_bfloat16 *dst, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __float2bfloat16_rn(src[i]);
}
template <>
__global__ void convert_kernel<__half>(const float *src, __half *dst, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __float2half_rn(src[i]);
}

const lis_igemm_variant g_variants[] = {
    {"v1", lis_igemm_cuda_v1, LIS_PREC_FP32, "one thread per output, sequential sum (straight port)"},
    {"v2", lis_igemm_cuda_v2, LIS_PREC_FP32, "128x128x8 smem tiles, 8x8 per thread, prefetch, offset table"},
    {"v3", lis_igemm_cuda_v3, LIS_PREC_FP32, "1x1/stride 1/no pad as plain GEMM: float4 loads, double buffer (else v2)"},
    {"v2 splitk", lis_igemm_cuda_v2_splitk, LIS_PREC_FP32, "v2 with the depth split over blockIdx.z when the grid fills the GPU badly"},
    {"wino", lis_igemm_cuda_wino, LIS_PREC_FP32, "Winograd F(2x2,3x3) for 3x3/stride 1/dilation 1 (else v3)"},
    {"wino4", lis_igemm_cuda_wino4, LIS_PREC_FP32, "Winograd F(4x4,3x3) for 3x3/stride 1/dilation 1 (else v3)"},
    // the shipped reduced-precision kernels (kernels/igemm_mma.cu; LIS_MMA_CUDA=0 falls back to WMMA)
    {"tf32", lis_igemm_cuda_mma_tf32, LIS_PREC_TF32, "mma.sync m16n8k8 tf32, cp.async 4 stages, 128x128x16"},
    {"bf16", lis_igemm_cuda_mma_bf16, LIS_PREC_BF16, "mma.sync m16n8k16 bf16, cp.async 4 stages, 128x128x16"},
    {"fp16", lis_igemm_cuda_mma_fp16, LIS_PREC_FP16, "mma.sync m16n8k16 fp16, cp.async 4 stages, 128x128x16"},
    // LIS_SPLITK_MMA_CUDA=1 ships it (no gain measured on the H100): the mma kernels with the depth split for small grids
    {"tf32 splitk", lis_igemm_cuda_mma_splitk_tf32, LIS_PREC_TF32, "tf32 with the depth split over blockIdx.z when the grid fills the GPU badly"},
    {"bf16 splitk", lis_igemm_cuda_mma_splitk_bf16, LIS_PREC_BF16, "bf16 with the depth split over blockIdx.z when the grid fills the GPU badly"},
    // Winograd F(2x2) with its GEMMs on the mma kernels (the shipped path's from 128 channels on)
    {"tf32 wino", wino_tf32, LIS_PREC_TF32, "Winograd F(2x2,3x3), its 16 GEMMs on the tf32 mma kernel (else tf32)"},
    {"bf16 wino", wino_bf16, LIS_PREC_BF16, "Winograd F(2x2,3x3), its 16 GEMMs on the bf16 mma kernel, float32 operands (else bf16)"},
    // the same on 16-bit operands (the shipped bf16/fp16 Winograd since 2026-11-27)
    {"bf16 wino16", wino16_bf16, LIS_PREC_BF16, "Winograd F(2x2,3x3), bf16 operands, GEMMs on the ldmatrix kernel (else bf16)"},
    // the previous tensor-core kernels, kept to compare against (3-8x slower on the H200)
    {"tf32 wmma", lis_igemm_cuda_wmma_tf32, LIS_PREC_TF32, "WMMA m16n16k8 tf32, 128x128x32 tiles, fp32 accumulate"},
    {"bf16 wmma", lis_igemm_cuda_wmma_bf16, LIS_PREC_BF16, "WMMA m16n16k16 bf16, 128x128x32 tiles, fp32 accumulate"},
    {"fp16 wmma", lis_igemm_cuda_wmma_fp16, LIS_PREC_FP16, "WMMA m16n16k16 fp16, 128x128x32 tiles, fp32 accumulate"},
};

} // namespace

// Split-K for grids that fill the GPU badly: ResNet-50's layer3 3x3 at batch 64 is 196 blocks
// of 128x128, 0.74 of one wave of 132 SMs x 2 blocks (ncu on the H200, 2026-11-27), layer4's
// 100 blocks 0.38. Splitting the depth S ways makes S x blocks; S (<= 8, >= 8 depth tiles
// per split) is the one that fills the last wave best, kept at 1 unless it gains 5%.
// The partial sums cost S x M x Ntot floats of extra traffic, small beside the convolution.
lis_status lis_igemm::splitk_plan(Args &a, dim3 &grid, int per_sm, int bk, lis_stream s) {
    const int64_t blocks = (int64_t)grid.x * grid.y;
    const int64_t slots = (int64_t)lis_cuda_sm_count() * (per_sm > 0 ? per_sm : 1);
    if (grid.z != 1 || blocks >= 2 * slots) return LIS_OK; // batched, or the tail wave matters little
    const int nk = (a.Kd + bk - 1) / bk;
    auto eff = [&](int64_t S) { return (double)(blocks * S) / (double)(lis_ceil_div(blocks * S, slots) * slots); };
    int best = 1;
    for (int S = 2; S <= 8 && nk / S >= 8; S++)
        if (eff(S) > eff(best) + 0.05) best = S;
    if (best == 1) return LIS_OK;
    a.kt_per = (nk + best - 1) / best;
    grid.z = (unsigned)((nk + a.kt_per - 1) / a.kt_per); // no empty split
    a.part = lis_cuda_scratch(s, LIS_SCRATCH_SPLITK, (size_t)grid.z * a.M * a.Ntot);
    return a.part ? LIS_OK : LIS_ERR;
}

lis_status lis_igemm::splitk_reduce(const Args &a, int splits, lis_stream s) {
    const int64_t total = (int64_t)a.M * a.Ntot;
    const int rblocks = (int)(total / 256 + 1 < 65536 ? total / 256 + 1 : 65536);
    splitk_reduce_kernel<<<rblocks, 256, 0, LIS_STREAM(s)>>>(a, splits);
    return lis_cuda_launched("igemm_splitk_reduce", s);
}

extern "C" {

void lis_igemm_out_shape(const lis_igemm_params *p, int *Ho, int *Wo) {
    *Ho = (p->H + 2 * p->pad_h - p->dil_h * (p->R - 1) - 1) / p->stride_h + 1;
    *Wo = (p->W + 2 * p->pad_w - p->dil_w * (p->S - 1) - 1) / p->stride_w + 1;
}

lis_status lis_igemm_check(const lis_igemm_params *p) {
    if (p->N < 1 || p->C < 1 || p->H < 1 || p->W < 1 || p->K < 1 || p->R < 1 || p->S < 1 || p->stride_h < 1 ||
        p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0 || p->dil_h < 1 || p->dil_w < 1 || p->act < 0 || p->act > 2)
        return lis_err_set("igemm: bad params (N %d C %d H %d W %d K %d R %d S %d stride %dx%d pad %dx%d dil %dx%d)",
                           p->N, p->C, p->H, p->W, p->K, p->R, p->S, p->stride_h, p->stride_w, p->pad_h, p->pad_w,
                           p->dil_h, p->dil_w);
    if ((int64_t)p->H + 2 * p->pad_h - (int64_t)p->dil_h * (p->R - 1) - 1 < 0 ||
        (int64_t)p->W + 2 * p->pad_w - (int64_t)p->dil_w * (p->S - 1) - 1 < 0)
        return lis_err_set("igemm: kernel larger than the padded input");
    int Ho, Wo;
    lis_igemm_out_shape(p, &Ho, &Wo);
    if ((int64_t)p->N * Ho * Wo >= (1LL << 31) - 256 || (int64_t)p->C * p->H * p->W >= (1LL << 31) ||
        (int64_t)p->C * p->R * p->S >= (1LL << 30) || (int64_t)p->N * p->C >= (1LL << 31) ||
        (int64_t)p->K > 65535LL * 128)
        return lis_err_set("igemm: problem too large for 32-bit indexing (N %d C %d H %d W %d K %d); use a smaller batch",
                           p->N, p->C, p->H, p->W, p->K);
    return LIS_OK;
}

double lis_igemm_macs(const lis_igemm_params *p) {
    int Ho, Wo;
    lis_igemm_out_shape(p, &Ho, &Wo);
    return (double)p->N * Ho * Wo * p->K * p->C * p->R * p->S;
}

lis_status lis_igemm_cuda_v1(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_v1(p, x, w, y, s);
}
lis_status lis_igemm_cuda_v2(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_v2(p, x, w, y, s);
}
lis_status lis_igemm_cuda_v2_splitk(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_v2_splitk(p, x, w, y, s);
}
lis_status lis_igemm_cuda_v3(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_v3(p, x, w, y, s);
}
lis_status lis_igemm_cuda_wino(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_wino(p, x, w, y, s);
}
lis_status lis_igemm_cuda_wino4(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_wino4(p, x, w, y, s);
}
lis_status lis_igemm_cuda_wmma_tf32(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_wmma<LIS_PREC_TF32>(p, x, w, y, s);
}
lis_status lis_igemm_cuda_wmma_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_wmma<LIS_PREC_BF16>(p, x, w, y, s);
}
lis_status lis_igemm_cuda_wmma_fp16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_wmma<LIS_PREC_FP16>(p, x, w, y, s);
}

int lis_igemm_cuda_variants(const lis_igemm_variant **out) {
    *out = g_variants;
    return (int)(sizeof g_variants / sizeof g_variants[0]);
}

lis_status lis_igemm_cuda(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w, float *y,
                          lis_stream s) {
    switch (prec) {
    case LIS_PREC_FP32: return run_fp32(p, x, w, y, s);
    case LIS_PREC_TF32:
    case LIS_PREC_BF16:
    case LIS_PREC_FP16:
        // Winograd with its GEMMs on the mma kernels from 128 input channels on (lis_wino_cuda_tc_wanted)
        if (lis_igemm_mma_enabled() && p->C >= 64 && lis_wino_igemm_applies(p) && lis_wino_cuda_wanted(p) &&
            lis_wino_cuda_tc_wanted(p))
            return lis_wino_igemm_cuda_prec(p, prec, 0, x, w, y, s);
        // the mma.sync kernels (kernels/igemm_mma.cu) unless LIS_MMA_CUDA=0 asks for WMMA
        if (lis_igemm_mma_enabled()) return lis_igemm_cuda_mma(p, prec, x, w, y, s);
        return prec == LIS_PREC_TF32 ? run_wmma<LIS_PREC_TF32>(p, x, w, y, s)
             : prec == LIS_PREC_BF16 ? run_wmma<LIS_PREC_BF16>(p, x, w, y, s)
                                     : run_wmma<LIS_PREC_FP16>(p, x, w, y, s);
    default: return lis_err_set("igemm: unknown precision %d", (int)prec);
    }
}

lis_status lis_gemm_cuda(int M, int N, int K, const float *A, const float *B, float *C, lis_precision prec,
                         lis_stream s) {
    // C[M, N] = A[M, K] B[K, N] is a 1x1 convolution of a 1 x K x 1 x N "image"
    lis_igemm_params p = {1, K, 1, N, M, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0.0f, NULL, NULL, NULL, NULL};
    return lis_igemm_cuda(&p, prec, B, A, C, s);
}

lis_status lis_gemm_cuda_batched(int batch, int M, int N, int K, const float *A, int64_t sA, const float *B,
                                 int64_t sB, float *C, int64_t sC, lis_precision prec, lis_stream s) {
    if (batch < 1 || batch > 65535) return lis_err_set("gemm (cuda): batch of %d GEMMs (1 to 65535)", batch);
    if (sA < 0 || sB < 0 || sC < 0) return lis_err_set("gemm (cuda): negative batch stride");
    lis_igemm_params p = {1, K, 1, N, M, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0.0f, NULL, NULL, NULL, NULL};
    LIS_TRY(lis_igemm_check(&p));
    Args a = make_args(&p, B, A, C);
    a.zw = sA;
    a.zx = sB;
    a.zy = sC;
    if (prec == LIS_PREC_FP32) return launch_v3(a, batch, s);
    if (lis_igemm_mma_enabled()) return mma_launch(a, prec, batch, s, false);
    for (int z = 0; z < batch; z++) // the WMMA kernels (LIS_MMA_CUDA=0) take one GEMM at a time
        LIS_TRY(lis_gemm_cuda(M, N, K, A + z * sA, B + z * sB, C + z * sC, prec, s));
    return LIS_OK;
}

lis_status lis_gemm_cublas(int M, int N, int K, const void *A, const void *B, float *C, lis_precision prec,
                           lis_stream s) {
    // row-major C = A B  <=>  column-major C^T (N x M) = B^T (N x K) * A^T (K x M)
    cublasHandle_t h = lis_cuda_cublas(s);
    if (!h) return LIS_ERR;
    const float one = 1.0f, zero = 0.0f;
    cublasStatus_t st;
    switch (prec) {
    case LIS_PREC_FP32:
        LIS_CUBLAS(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
        st = cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, (const float *)B, N, (const float *)A, K, &zero, C, N);
        break;
    case LIS_PREC_TF32:
        st = cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, CUDA_R_32F, N, A, CUDA_R_32F, K, &zero, C,
                          CUDA_R_32F, N, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT);
        break;
    case LIS_PREC_BF16:
    case LIS_PREC_FP16: {
        cudaDataType_t t = prec == LIS_PREC_BF16 ? CUDA_R_16BF : CUDA_R_16F;
        st = cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, t, N, A, t, K, &zero, C, CUDA_R_32F, N,
                          CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        break;
    }
    default: return lis_err_set("cublas gemm: unknown precision %d", (int)prec);
    }
    if (st != CUBLAS_STATUS_SUCCESS) return lis_err_set("cuBLAS GEMM %dx%dx%d (%s): %s", M, N, K, lis_precision_name(prec),
                                                        cublasGetStatusString(st));
    return lis_cuda_launched("cublas_gemm", s);
}

lis_status lis_cuda_convert_f32(const float *src, void *dst, size_t n, lis_precision prec, lis_stream s) {
    if (n == 0) return LIS_OK;
    if (prec == LIS_PREC_FP32 || prec == LIS_PREC_TF32) return lis_dev_d2d(dst, src, n * sizeof(float), s);
    unsigned blocks = (unsigned)(n / 256 + 1 < 65536 ? n / 256 + 1 : 65536);
    if (prec == LIS_PREC_BF16) convert_kernel<__nv_bfloat16><<<blocks, 256, 0, LIS_STREAM(s)>>>(src, (__nv_bfloat16 *)dst, n);
    else convert_kernel<__half><<<blocks, 256, 0, LIS_STREAM(s)>>>(src, (__half *)dst, n);
    return lis_cuda_launched("convert_f32", s);
}

} // extern "C"
