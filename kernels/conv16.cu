// conv16.cu — the convolution on 16-bit NHWC activations (kernels/conv16.h, conv16_cuda.h):
// an implicit GEMM on mma.sync m16n8k16 whose operands reach shared memory in 16 bits by
// cp.async and reach the tensor cores by ldmatrix, the way cuDNN's NHWC kernels do.
//
// Why: the shipped reduced-precision classifier keeps float32 NCHW activations and rounds them
// when it reads a fragment (kernels/igemm_mma.cu): twice the operand traffic, scalar shared
// loads and a conversion per pair, and 4-byte gathers for every 3x3 tap. It runs ResNet-50 b64
// at 0.46x cuDNN in bf16 (H200, 2026-11-27). In NHWC one 16-byte copy is 8 channels of one
// pixel at one tap, for every layer (C % 8 == 0), so 1x1, 3x3 and strided convolutions share
// one gather; the epilogue (bias, residual, ReLU) stages the tile in shared memory and writes
// the next layer's 16-bit input with 16-byte stores, 8 channels of a pixel at a time.
//
// Tiles: 128 pixels x BN channels (128, or 64 for narrow layers and small grids) x 32 depth,
// 256 threads = 8 warps, 4 cp.async stages (80 KB at BN 128): two blocks per SM. The index
// arithmetic is in kernels/conv16_frag.cuh (replayed on the host by test_cuda_emu_conv16).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/conv16_frag.cuh"
#include "kernels/mma_ptx.cuh"
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/conv16_cuda.h"
}

namespace {

using namespace lis_c16;
constexpr int ST = 4;

template <int BN> constexpr size_t smem_bytes() { return sizeof(uint16_t) * ST * Tile<BN>::STAGE; }
static_assert(sizeof(float) * BM * Out<128>::LDS <= smem_bytes<128>() && sizeof(float) * BM * Out<64>::LDS <= smem_bytes<64>(),
              "the epilogue's float32 tile must fit in the pipeline's shared memory");

struct Args {
    Geo g;
    const uint16_t *x, *w, *res;
    const float *bias;
    uint16_t *y;
    int relu;
};

template <int P> __device__ __forceinline__ float from16(uint16_t h);
template <> __device__ __forceinline__ float from16<LIS_PREC_BF16>(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }
template <> __device__ __forceinline__ float from16<LIS_PREC_FP16>(uint16_t h) { return __half2float(__ushort_as_half(h)); }

template <int P, int BN>
__global__ __launch_bounds__(THREADS, 2) void conv16_kernel(Args a) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    using T = Tile<BN>;
    extern __shared__ float4 c16_smem[];
    uint16_t *const sm = reinterpret_cast<uint16_t *>(c16_smem);
    const Geo &g = a.g;
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
    const int wm = warp / T::WN, wn = warp % T::WN;
    const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
    const int nk = (g.Kd + BK - 1) / BK, ch = chunk_of(t);
    const Pix px0 = pix_of(g, m0 + a_row(t, 0)), px1 = pix_of(g, m0 + a_row(t, 1));

    auto issue = [&](int kt) {
        uint16_t *const S = sm + (kt % ST) * T::STAGE;
        const int d = kt * BK + ch * 8;
        const Tap e = tap_of(g, d); // one division pair per thread and stage, shared by its copies
        const int64_t s0 = a_src(g, px0, e), s1 = a_src(g, px1, e);
        cp16(S + a_dst(a_row(t, 0), ch), a.x + (s0 < 0 ? 0 : s0), s0 >= 0);
        cp16(S + a_dst(a_row(t, 1), ch), a.x + (s1 < 0 ? 0 : s1), s1 >= 0);
#pragma unroll
        for (int q = 0; q < T::B_COPIES; q++) {
            const int64_t sb = b_src(g, n0 + b_row(t, q), d);
            cp16(S + b_dst(b_row(t, q), ch), a.w + (sb < 0 ? 0 : sb), sb >= 0);
        }
    };

    float acc[T::MI][4][4];
    zero_acc(acc);

    pipeline_prologue<ST>(nk, issue);
    for (int kt = 0; kt < nk; kt++) {
        pipeline_advance<ST>(kt, nk, issue);
        const uint16_t *const S = sm + (kt % ST) * T::STAGE;
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            uint32_t af[T::MI][4], bf[4][2];
#pragma unroll
            for (int i = 0; i < T::MI; i++) ldmatrix_x4(af[i], S + a_ldm<BN>(wm, i, kk, lane));
#pragma unroll
            for (int jj = 0; jj < 2; jj++) ldmatrix_b_pair<false>(bf, jj, S + b_ldm(wn, jj, kk, lane));
#pragma unroll
            for (int i = 0; i < T::MI; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) mma16<P>(acc[i][j], af[i], bf[j]);
        }
    }
    cp_wait<0>();
    __syncthreads(); // every warp is done with the stages: they become the output tile

    // epilogue, 1: the accumulators into the float32 tile (pairs of adjacent channels)
    float *const O = reinterpret_cast<float *>(c16_smem);
#pragma unroll
    for (int i = 0; i < T::MI; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int h = 0; h < 2; h++)
                *reinterpret_cast<float2 *>(O + stage_off<BN>(c_row<BN>(wm, i, lane, 2 * h), c_col(wn, j, lane, 0))) =
                    make_float2(acc[i][j][2 * h], acc[i][j][2 * h + 1]);
    __syncthreads();
    // 2: 8 channels of one pixel per thread and pass: + bias, + residual (may alias y: each
    // thread reads its 8 values before it writes them), ReLU, one rounding, a 16-byte store
    const int col = out_col<BN>(t), n = n0 + col;
    if (n < g.K) { // K % 8 == 0: the 8 channels are all inside or all outside
        float bv[8];
#pragma unroll
        for (int e = 0; e < 8; e++) bv[e] = a.bias ? __ldg(a.bias + n + e) : 0.0f;
#pragma unroll
        for (int pass = 0; pass < Out<BN>::PASSES; pass++) {
            const int row = out_row<BN>(t, pass), m = m0 + row;
            if (m >= g.M) continue;
            const float4 *src = reinterpret_cast<const float4 *>(O + stage_off<BN>(row, col));
            const float4 lo = src[0], hi = src[1];
            float v[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
            const int64_t off = (int64_t)m * g.K + n;
            uint4 rr = make_uint4(0, 0, 0, 0);
            if (a.res) rr = *reinterpret_cast<const uint4 *>(a.res + off);
            const uint32_t rw[4] = {rr.x, rr.y, rr.z, rr.w};
            uint32_t o[4];
#pragma unroll
            for (int q = 0; q < 4; q++) {
                float v0 = v[2 * q] + bv[2 * q], v1 = v[2 * q + 1] + bv[2 * q + 1];
                if (a.res) {
                    v0 += from16<P>((uint16_t)(rw[q] & 0xffff));
                    v1 += from16<P>((uint16_t)(rw[q] >> 16));
                }
                if (a.relu) {
                    v0 = fmaxf(v0, 0.0f);
                    v1 = fmaxf(v1, 0.0f);
                }
                o[q] = pack2<P>(v0, v1);
            }
            *reinterpret_cast<uint4 *>(a.y + off) = make_uint4(o[0], o[1], o[2], o[3]);
        }
    }
#else
    __trap(); // mma.sync with bf16/fp16 and ldmatrix need sm_80 or newer
#endif
}

template <int P, int BN>
lis_status launch(const Args &a, lis_stream s) {
    cudaError_t e = cudaFuncSetAttribute(conv16_kernel<P, BN>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         (int)smem_bytes<BN>());
    if (e != cudaSuccess) return lis_err_set("conv16: %zu bytes of shared memory: %s", smem_bytes<BN>(), cudaGetErrorString(e));
    const dim3 grid((unsigned)lis_ceil_div(a.g.M, BM), (unsigned)lis_ceil_div(a.g.K, BN));
    conv16_kernel<P, BN><<<grid, THREADS, smem_bytes<BN>(), LIS_STREAM(s)>>>(a);
    return lis_cuda_launched(P == LIS_PREC_BF16 ? "conv16_bf16" : "conv16_fp16", s);
}

} // namespace

extern "C" {

int lis_conv16_block_n(int M, int K) {
    // read at every call (a few hundred per forward), so that a test can switch it between cases
    const char *e = getenv("LIS_CONV16_BN");
    if (e && !strcmp(e, "64")) return 64;
    if (e && !strcmp(e, "128")) return 128;
    // 128 channels per block when the layer is that wide and the grid still fills two blocks
    // per SM; else 64 (no half-empty tiles at K = 64, twice the blocks on small maps)
    const long blocks128 = (long)lis_ceil_div(M, BM) * lis_ceil_div(K, 128);
    return K % 128 == 0 && blocks128 >= 2L * lis_cuda_sm_count() ? 128 : 64;
}

lis_status lis_conv16_cuda(const lis_conv16_params *p, const void *x, const void *w, const float *bias,
                           const void *res, void *y, lis_precision prec, lis_stream s) {
    LIS_TRY(lis_conv16_check(p));
    if (prec != LIS_PREC_BF16 && prec != LIS_PREC_FP16)
        return lis_err_set("conv16: precision %s (bf16 or fp16 only)", lis_precision_name(prec));
    if (((uintptr_t)x | (uintptr_t)w | (uintptr_t)y | (uintptr_t)res) & 15)
        return lis_err_set("conv16: x, w, y and res must be 16-byte aligned");
    Args a;
    a.g.N = p->N; a.g.H = p->H; a.g.W = p->W; a.g.C = p->C; a.g.K = p->K; a.g.R = p->R; a.g.S = p->S;
    a.g.stride = p->stride; a.g.pad = p->pad;
    lis_conv16_out_shape(p, &a.g.Ho, &a.g.Wo);
    a.g.M = p->N * a.g.Ho * a.g.Wo;
    a.g.Kd = p->R * p->S * p->C;
    a.x = (const uint16_t *)x; a.w = (const uint16_t *)w; a.res = (const uint16_t *)res;
    a.bias = bias; a.y = (uint16_t *)y; a.relu = p->relu;
    if (lis_ceil_div(p->K, 64) > 65535) return lis_err_set("conv16: K = %d too large for the grid", p->K);
    const bool wide = lis_conv16_block_n(a.g.M, p->K) == 128;
    if (prec == LIS_PREC_BF16) return wide ? launch<LIS_PREC_BF16, 128>(a, s) : launch<LIS_PREC_BF16, 64>(a, s);
    return wide ? launch<LIS_PREC_FP16, 128>(a, s) : launch<LIS_PREC_FP16, 64>(a, s);
}

} // extern "C"
