// conv_nhwc.cu — the convolution on NHWC activations (kernels/conv_nhwc.h, conv_nhwc_cuda.h):
// an implicit GEMM on mma.sync whose operands reach shared memory by 16-byte cp.async and reach
// the tensor cores by ldmatrix, the way cuDNN's NHWC kernels do. bf16 / fp16: 16-bit activations,
// m16n8k16; tf32: float32 activations rounded to tf32 at the fragment (cvt.rna), m16n8k8.
//
// Why: the shipped tensor-core classifier keeps float32 NCHW activations and rounds them when
// it reads a fragment (kernels/igemm_mma.cu): scalar shared loads and a conversion per pair,
// twice the operand traffic in bf16/fp16, and 4-byte gathers for every 3x3 tap. It runs
// ResNet-50 b64 at 0.64x / 0.46x / 0.43x cuDNN in tf32 / bf16 / fp16 (H200, 2026-11-27). In
// NHWC one 16-byte copy is 8 (or 4) channels of one pixel at one tap, for every layer
// (C % 8 == 0), so 1x1, 3x3 and strided convolutions share one gather; the epilogue (bias,
// residual, ReLU) stages the tile in shared memory and writes the next layer's input with
// 16-byte stores, 8 channels of a pixel at a time.
//
// Tiles: 128 pixels x BN channels (128, or 64 for narrow layers and small grids) x 128 bytes of
// depth (sm_90; 64 elsewhere), 256 threads = 8 warps (4 in an experiment below), 3 cp.async
// stages (108 KiB at BN 128; 4 stages of 64 bytes, 80 KiB): two blocks per SM. The index
// arithmetic is in kernels/conv_nhwc_frag.cuh (replayed on the host by
// test_cuda_emu_conv_nhwc). Switched by the environment at each call (read_switches):
//   LIS_NHWC_CONV_DEEP=0|1      64- or 128-byte stages (default: 128 where two blocks of them
//                               fit an SM, deep_by_default);
// and four experiments, timed on the H100 (run 14) and not shipped:
//   LIS_NHWC_CONV_A_L1=1        the input gather through L1;
//   LIS_NHWC_CONV_WARPS=4       4 warps of 64 x 64 at BN 128: a third fewer ldmatrix bytes per
//                               multiply-add;
//   LIS_NHWC_CONV_TAPS_INNER=1  the stages loop over the taps inside each channel chunk, the
//                               gather through L1;
//   LIS_NHWC_CONV_B_L1=1        the weights through L1 too.
//
// Why taps inner was tried: run 13's tf32 layer3 3x3 (BN 64) moves 693 MB from L2 into shared
// memory per convolution, each input line fetched once per tap and per channel block, and bf16,
// half the bytes, ran at twice the rate, as if bound by L2 -> SM traffic; L1 can only serve the
// 3x3 window's re-reads if they come in consecutive stages. Measured on the H100 (run 14) it was
// slower (layer3's 3x3 1.33 -> 1.46 ms), and 128-byte stages, half the barriers per
// multiply-add, gained 13-15% everywhere: the kernel was bound by its per-stage overhead, not
// by L2. Kept as an experiment beside the others (bench/RESULTS.md, session 8).
#include "kernels/conv_nhwc_frag.cuh"
#include "kernels/mma_ptx.cuh"
#include "kernels/nhwc_vec.cuh"
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/conv_nhwc_cuda.h"
}

namespace {

using namespace lis_cn;
// pipeline stages: 4 of 64 bytes of depth (80 KiB at BN 128), or 3 of 128 (108 KiB: still two
// blocks per SM on sm_90's 228 KiB, the default there; one on sm_80's 164, and over the 99 KiB
// a block may have on sm_86/89, so those keep 64-byte stages)
template <int DB> __host__ __device__ constexpr int stages() {
    static_assert(DB == 64 || DB == 128, "64 or 128 bytes of depth per stage");
    return DB == 64 ? 4 : 3;
}

template <int P> __host__ __device__ constexpr int elem_bytes() { return P == LIS_PREC_TF32 ? 4 : 2; }
template <int BN, int DB> constexpr size_t smem_bytes() { return (size_t)stages<DB>() * stage_elems<BN, 2, DB>() * 2; }
static_assert((size_t)4 * stage_elems<128, 4, 64>() * 4 == smem_bytes<128, 64>(), "both element sizes, the same stage bytes");
static_assert(sizeof(float) * BM * out_lds<128>() <= smem_bytes<128, 64>() &&
                  sizeof(float) * BM * out_lds<64>() <= smem_bytes<64, 64>(),
              "the epilogue's float32 tile must fit in the pipeline's shared memory");
static_assert(sizeof(float) * BM * out_lds<128>() <= smem_bytes<128, 128>() &&
                  sizeof(float) * BM * out_lds<64>() <= smem_bytes<64, 128>(),
              "the epilogue's float32 tile must fit in the deep pipeline's shared memory too");
static_assert(2 * smem_bytes<128, 128>() + 2048 <= 228 * 1024, "deep stages: two blocks per sm_90 SM");

struct Args {
    Geo g;
    const void *x, *w, *res;
    const float *bias;
    void *y;
    int relu;
    float *y_nchw;          // set: the NCHW float32 output instead of y (no residual)
    const float *out_scale; // with y_nchw: [N][K] factors of the accumulators, or NULL
    int a_l1;               // 1: the input gather through L1 (LIS_NHWC_CONV_A_L1=1, an experiment)
    int deep;               // 1: 128-byte stages (the default where two blocks fit an SM)
    int warps4;             // 1: 4 warps of 64 x BN/2 (LIS_NHWC_CONV_WARPS=4, an experiment)
    int taps_inner;         // 1: taps inside channel chunks, A through L1 (LIS_NHWC_CONV_TAPS_INNER=1)
    int b_l1;               // 1: the weights through L1 too (LIS_NHWC_CONV_B_L1=1, an experiment)
};

// one 16-byte copy of element off of src into shared dst, zero-filled where off < 0 (padding,
// past the pixels, channels or depth); through L1 (cp.async.ca) or around it (.cg), a choice
// uniform over the grid
template <typename El> __device__ __forceinline__ void copy16(bool l1, El *dst, const El *src, int64_t off) {
    if (l1) cp16_ca(dst, src + (off < 0 ? 0 : off), off >= 0);
    else cp16(dst, src + (off < 0 ? 0 : off), off >= 0);
}

// one mma step of a warp: fragments of its MI x NJ tiles at depth kk of stage S
template <int P, int BN, int DB, int NW, int MI, int NJ>
__device__ __forceinline__ void mma_step(const typename Act<P>::T *S, int wm, int wn, int kk, int lane,
                                         float (&acc)[MI][NJ][4]) {
    constexpr int E = elem_bytes<P>();
    uint32_t af[MI][4], bf[NJ][2];
#pragma unroll
    for (int i = 0; i < MI; i++) ldmatrix_x4(af[i], S + a_ldm<BN, E, DB, NW>(wm, i, kk, lane));
#pragma unroll
    for (int jj = 0; jj < NJ / 2; jj++) ldmatrix_b_pair<false>(bf, jj, S + b_ldm<BN, E, DB, NW>(wn, jj, kk, lane));
    if constexpr (P == LIS_PREC_TF32) { // round the float32 operands (cvt.rna), as igemm_mma does
#pragma unroll
        for (int i = 0; i < MI; i++)
#pragma unroll
            for (int r = 0; r < 4; r++) af[i][r] = tf32(__uint_as_float(af[i][r]));
#pragma unroll
        for (int j = 0; j < NJ; j++)
#pragma unroll
            for (int r = 0; r < 2; r++) bf[j][r] = tf32(__uint_as_float(bf[j][r]));
#pragma unroll
        for (int i = 0; i < MI; i++)
#pragma unroll
            for (int j = 0; j < NJ; j++) mma8_tf32(acc[i][j], af[i], bf[j]);
    } else {
#pragma unroll
        for (int i = 0; i < MI; i++)
#pragma unroll
            for (int j = 0; j < NJ; j++) mma16<P>(acc[i][j], af[i], bf[j]);
    }
}

// blocks per SM the registers must allow: two, and three of the 4-warp BN 64 tile at 64-byte
// stages (60 KiB of shared memory: three fit in sm_90's 228 KiB, not in sm_80's 164; on a
// 132-SM H100 / H200 ResNet's layer3 at b64, 392 blocks, is then one wave instead of 1.5)
template <int BN, int DB, int NW> constexpr int min_blocks() { return NW == 4 && BN == 64 && DB == 64 ? 3 : 2; }

template <int P, int BN, int DB, int NW>
__global__ __launch_bounds__(32 * NW, min_blocks<BN, DB, NW>()) void nhwc_conv_kernel(Args a) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    constexpr int E = elem_bytes<P>(), ST = stages<DB>();
    using T = Tile<BN, E, DB, NW>;
    using K = Elem<E, DB>;
    using El = typename Act<P>::T;
    extern __shared__ float4 cn_smem[];
    El *const sm = reinterpret_cast<El *>(cn_smem);
    const El *const x = static_cast<const El *>(a.x), *const w = static_cast<const El *>(a.w);
    const Geo &g = a.g;
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
    const int wm = warp / T::WN, wn = warp % T::WN;
    const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
    const int nk = (g.Kd + K::BK - 1) / K::BK, ch = chunk_of<DB>(t);
    Pix px[T::A_COPIES];
#pragma unroll
    for (int q = 0; q < T::A_COPIES; q++) px[q] = pix_of(g, m0 + a_row<DB, NW>(t, q));

    auto issue = [&](int kt) {
        El *const S = sm + (kt % ST) * T::STAGE;
        const int d = stage_depth<E, DB>(g, kt, t, a.taps_inner);
        const Tap e = tap_of(g, d); // one division pair per thread and stage, shared by its copies
#pragma unroll
        for (int q = 0; q < T::A_COPIES; q++) {
            copy16(a.a_l1 || a.taps_inner, S + a_dst<E, DB>(a_row<DB, NW>(t, q), ch), x, a_src(g, px[q], e));
        }
#pragma unroll
        for (int q = 0; q < T::B_COPIES; q++) {
            copy16(a.b_l1, S + b_dst<E, DB>(b_row<DB, NW>(t, q), ch), w, b_src(g, n0 + b_row<DB, NW>(t, q), d));
        }
    };

    float acc[T::MI][T::NJ][4];
    zero_acc(acc);
    pipeline_prologue<ST>(nk, issue);
    for (int kt = 0; kt < nk; kt++) {
        pipeline_advance<ST>(kt, nk, issue);
        const El *const S = sm + (kt % ST) * T::STAGE;
#pragma unroll
        for (int kk = 0; kk < K::BK; kk += K::KSTEP) mma_step<P, BN, DB, NW>(S, wm, wn, kk, lane, acc);
    }
    cp_wait<0>();
    __syncthreads(); // every warp is done with the stages: they become the output tile

    // epilogue, 1: the accumulators into the float32 tile (pairs of adjacent channels)
    float *const O = reinterpret_cast<float *>(cn_smem);
#pragma unroll
    for (int i = 0; i < T::MI; i++)
#pragma unroll
        for (int j = 0; j < T::NJ; j++)
#pragma unroll
            for (int h = 0; h < 2; h++)
                *reinterpret_cast<float2 *>(O + stage_off<BN>(c_row<BN, NW>(wm, i, lane, 2 * h), c_col<BN, NW>(wn, j, lane, 0))) =
                    make_float2(acc[i][j][2 * h], acc[i][j][2 * h + 1]);
    __syncthreads();
    if (a.y_nchw) { // 2': one channel plane per warp and step, 32 consecutive pixels per store
        const int HWo = g.Ho * g.Wo;
        for (int i = 0; i < BN / NW; i++) {
            const int col = nchw_col<NW>(warp, i), n = n0 + col;
            if (n >= g.K) break;
            const float bn = a.bias ? __ldg(a.bias + n) : 0.0f;
#pragma unroll
            for (int j = 0; j < BM / 32; j++) {
                const int row = nchw_row(lane, j), m = m0 + row;
                if (m >= g.M) break;
                const int b = m / HWo, pix = m - b * HWo;
                float v = O[stage_off<BN>(row, col)];
                if (a.out_scale) v *= __ldg(a.out_scale + (int64_t)b * g.K + n);
                v += bn;
                if (a.relu) v = fmaxf(v, 0.0f);
                a.y_nchw[((int64_t)b * g.K + n) * HWo + pix] = v;
            }
        }
        return;
    }
    // 2: 8 channels of one pixel per thread and pass: + bias, + residual (may alias y: each
    // thread reads its 8 values before it writes them), ReLU, the output type, wide stores
    const El *const res = static_cast<const El *>(a.res);
    El *const y = static_cast<El *>(a.y);
    const int col = out_col<BN, NW>(t), n = n0 + col;
    if (n < g.K) { // K % 8 == 0: the 8 channels are all inside or all outside
        float bv[8];
#pragma unroll
        for (int e = 0; e < 8; e++) bv[e] = a.bias ? __ldg(a.bias + n + e) : 0.0f;
#pragma unroll
        for (int pass = 0; pass < Out<BN, NW>::PASSES; pass++) {
            const int row = out_row<BN, NW>(t, pass), m = m0 + row;
            if (m >= g.M) continue;
            const float4 *src = reinterpret_cast<const float4 *>(O + stage_off<BN>(row, col));
            const float4 lo = src[0], hi = src[1];
            float v[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w}, rv[8];
            const int64_t off = (int64_t)m * g.K + n;
            if (res) load8<P>(res + off, rv);
#pragma unroll
            for (int e = 0; e < 8; e++) {
                v[e] += bv[e];
                if (res) v[e] += rv[e];
                if (a.relu) v[e] = fmaxf(v[e], 0.0f);
            }
            store8<P>(y + off, v);
        }
    }
#else
    __trap(); // mma.sync and ldmatrix need sm_80 or newer
#endif
}

template <int P, int BN, int DB, int NW>
lis_status launch(Args a, lis_stream s) {
    constexpr size_t smem = smem_bytes<BN, DB>();
    a.taps_inner = a.taps_inner && taps_inner_fits<elem_bytes<P>(), DB>(a.g); // else channels fastest
    cudaError_t e = cudaFuncSetAttribute(nhwc_conv_kernel<P, BN, DB, NW>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return lis_err_set("nhwc conv: %zu bytes of shared memory: %s", smem, cudaGetErrorString(e));
    const dim3 grid((unsigned)lis_ceil_div(a.g.M, BM), (unsigned)lis_ceil_div(a.g.K, BN));
    nhwc_conv_kernel<P, BN, DB, NW><<<grid, Warps<BN, NW>::THREADS, smem, LIS_STREAM(s)>>>(a);
    return lis_cuda_launched(P == LIS_PREC_TF32 ? "nhwc_conv_tf32" : P == LIS_PREC_BF16 ? "nhwc_conv_bf16" : "nhwc_conv_fp16", s);
}

template <int P, int NW> lis_status launch_bn(const Args &a, bool wide, lis_stream s) {
    if (a.deep) return wide ? launch<P, 128, 128, NW>(a, s) : launch<P, 64, 128, NW>(a, s);
    return wide ? launch<P, 128, 64, NW>(a, s) : launch<P, 64, 64, NW>(a, s);
}
template <int P> lis_status launch_warps(const Args &a, bool wide, lis_stream s) {
    return a.warps4 ? launch_bn<P, 4>(a, wide, s) : launch_bn<P, 8>(a, wide, s);
}

} // namespace

extern "C" {

int lis_nhwc_conv_block_n(int M, int K) {
    // read at every call (a few hundred per forward), so that a test can switch it between cases
    const char *e = getenv("LIS_NHWC_CONV_BN");
    if (e && !strcmp(e, "64")) return 64;
    if (e && !strcmp(e, "128")) return 128;
    // 128 channels per block when the layer is that wide and the grid still fills two blocks
    // per SM; else 64 (no half-empty tiles at K = 64, twice the blocks on small maps)
    const long blocks128 = (long)lis_ceil_div(M, BM) * lis_ceil_div(K, 128);
    return K % 128 == 0 && blocks128 >= 2L * lis_cuda_sm_count() ? 128 : 64;
}

// 128-byte stages, where two blocks of them fit an SM (sm_90: 227 KiB per block): measured on
// the H100 (bench/results/gpu_check-20261127-h100-14, code c12e7c6), ResNet-50 b64 9.41 -> 8.18
// ms in tf32, 4.84 -> 4.20 in bf16, 4.86 -> 4.21 in fp16, faster on all 24 of its convolution
// shapes in tf32 and 21 in bf16/fp16: half the barriers and tap computations per multiply-add
static int deep_by_default(void) { return lis_cuda_smem_optin() >= 2 * smem_bytes<128, 128>(); }

// The kernel's variants, read from the environment at every call (a few hundred per forward,
// like LIS_NHWC_CONV_BN) so that tests and benchmarks switch them per case: VAR=on sets one,
// any other value clears it, unset leaves its default. To ship one, give it its default here,
// or choose it per layer from a.g (its geometry).
using Flag = int Args::*; // a switch's field
static void read_switches(Args &a) {
    const int deep = deep_by_default();
    const struct {
        const char *env, *on;
        Flag field;
        int dflt;
    } sw[] = {
        // the tf32 convolutions run at half the bf16 rate, bound by the bytes that reach shared
        // memory from L2, and a 3x3 window reads each input line up to 9 times: through L1
        {"LIS_NHWC_CONV_A_L1", "1", &Args::a_l1, 0},
        // 128 bytes of depth per stage (3 stages): twice the mma steps per barrier and per tap
        // computation (shipped where it fits twice, see deep_by_default; LIS_NHWC_CONV_DEEP=0
        // keeps 64-byte stages)
        {"LIS_NHWC_CONV_DEEP", "1", &Args::deep, deep},
        // 4 warps of 64 x 64 (at BN 128) instead of 8 of 64 x 32: each A fragment a warp loads
        // feeds twice the mma, so a block's ldmatrix reads a third fewer bytes per multiply-add
        {"LIS_NHWC_CONV_WARPS", "4", &Args::warps4, 0},
        // the taps inside each channel chunk, so that L1 serves a window's re-reads of a line
        {"LIS_NHWC_CONV_TAPS_INNER", "1", &Args::taps_inner, 0},
        // the weights through L1 as well: co-resident blocks of the same channel block read the
        // same weight stage at about the same time (every block of a layer whose K fits one
        // block width, e.g. layer1's 3x3); once the gather mostly hits L1 the weights are most of
        // the remaining L2 traffic
        {"LIS_NHWC_CONV_B_L1", "1", &Args::b_l1, 0},
    };
    for (const auto &w : sw) {
        const char *e = getenv(w.env);
        a.*(w.field) = e ? !strcmp(e, w.on) : w.dflt;
    }
}

static lis_status run(const lis_nhwc_conv_params *p, Args &a, lis_precision prec, lis_stream s) {
    LIS_TRY(lis_nhwc_prec_check(prec, "nhwc conv"));
    if (((uintptr_t)a.x | (uintptr_t)a.w | (uintptr_t)a.y | (uintptr_t)a.res) & 15)
        return lis_err_set("nhwc conv: x, w, y and res must be 16-byte aligned");
    a.g.N = p->N; a.g.H = p->H; a.g.W = p->W; a.g.C = p->C; a.g.K = p->K; a.g.R = p->R; a.g.S = p->S;
    a.g.stride = p->stride; a.g.pad = p->pad;
    lis_nhwc_conv_out_shape(p, &a.g.Ho, &a.g.Wo);
    a.g.M = p->N * a.g.Ho * a.g.Wo;
    a.g.Kd = p->R * p->S * p->C;
    a.relu = p->relu;
    read_switches(a);
    if (lis_ceil_div(p->K, 64) > 65535) return lis_err_set("nhwc conv: K = %d too large for the grid", p->K);
    const bool wide = lis_nhwc_conv_block_n(a.g.M, p->K) == 128;
    switch (prec) {
    case LIS_PREC_TF32: return launch_warps<LIS_PREC_TF32>(a, wide, s);
    case LIS_PREC_BF16: return launch_warps<LIS_PREC_BF16>(a, wide, s);
    default: return launch_warps<LIS_PREC_FP16>(a, wide, s);
    }
}

lis_status lis_nhwc_conv_cuda(const lis_nhwc_conv_params *p, const void *x, const void *w, const float *bias,
                              const void *res, void *y, lis_precision prec, lis_stream s) {
    LIS_TRY(lis_nhwc_conv_check(p, prec));
    Args a = {};
    a.x = x; a.w = w; a.res = res; a.bias = bias; a.y = y;
    return run(p, a, prec, s);
}

lis_status lis_nhwc_conv_nchw_out_cuda(const lis_nhwc_conv_params *p, const void *x, const void *w,
                                       const float *out_scale, const float *bias, float *y, lis_precision prec,
                                       lis_stream s) {
    LIS_TRY(lis_nhwc_conv_check_nchw_out(p, prec));
    Args a = {};
    a.x = x; a.w = w; a.bias = bias; a.y_nchw = y; a.out_scale = out_scale;
    return run(p, a, prec, s);
}

} // extern "C"
