// gemm_mma16.cu — batched row-major GEMMs on 16-bit operands (bf16 or fp16) with float32
// results, on mma.sync (see kernels/gemm_cuda.h, lis_gemm16_cuda_batched). The Winograd's
// tensor-core GEMMs use it when its transforms write 16-bit operands (LIS_WINO_CUDA_GEMM16=1).
//
// Why: the shipped mma kernel (kernels/igemm_mma.cu) stages float32 operands and rounds them
// when it reads a fragment, so every operand crosses memory and shared memory at twice the
// width the tensor cores use, and each fragment costs scalar shared loads and conversions.
// Here the operands arrive in 16 bits: cp.async moves 8 of them per 16-byte copy, and
// ldmatrix loads whole fragments (x4 for A, x4.trans for the k-major B tile).
//
// Tiles: 128 x 128 x 32, 256 threads = 8 warps in 2 x 4, each 64 x 32 (4 x 4 m16n8k16 MMAs per
// 16 of depth), 4 cp.async stages. Shared rows are padded by 8 elements (A: 80 bytes, B: 272
// bytes), so that the 8 row addresses of each ldmatrix phase fall in distinct 16-byte bank
// groups. Copies are 16 bytes: the leading dimensions and batch strides must be multiples of 8
// elements and K a multiple of 8 (callers pad the depth with zeros); copies past M, N or K
// zero-fill. Columns of B between N and the next multiple of 8 are read (they only feed
// columns of C that are not stored), so ldb must cover them.
#include "kernels/gemm_mma16_frag.cuh"
#include "kernels/mma_ptx.cuh"
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/gemm_cuda.h"
}

namespace {

using namespace lis_g16;
constexpr int G_BM = BM, G_BN = BN, G_BK = BK, G_ST = 4;
constexpr int G_LDA = LDA, G_LDB = LDB;                  // elements per shared row
constexpr int G_STAGE = G_BM * G_LDA + G_BK * G_LDB;     // elements per stage
constexpr size_t G_SMEM = sizeof(uint16_t) * G_ST * G_STAGE; // 75,776 bytes

struct G16 {
    const uint16_t *A, *B;
    float *C;
    int M, N, K;
    int64_t lda, ldb, ldc, sA, sB, sC;
};

template <int P>
__global__ __launch_bounds__(256) void gemm16_kernel(G16 g) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    extern __shared__ float4 g16_smem[];
    uint16_t *const sm = reinterpret_cast<uint16_t *>(g16_smem);
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
    const int wm = warp >> 2, wn = warp & 3;
    const int m0 = blockIdx.y * G_BM, n0 = blockIdx.x * G_BN;
    const int64_t z = blockIdx.z;
    const uint16_t *const A = g.A + z * g.sA, *const B = g.B + z * g.sB;
    float *const C = g.C + z * g.sC;
    const int nk = (g.K + G_BK - 1) / G_BK;

    // copies of one stage, two 16-byte chunks per thread per operand:
    // A 128 rows x 4 chunks, B 32 rows x 16 chunks
    auto issue = [&](int kt) {
        uint16_t *As = sm + (kt % G_ST) * G_STAGE, *Bs = As + G_BM * G_LDA;
        const int k0 = kt * G_BK;
#pragma unroll
        for (int q = 0; q < 2; q++) {
            const int c = t + 256 * q;
            const int ra = c >> 2, ka = (c & 3) * 8;
            const bool ina = m0 + ra < g.M && k0 + ka < g.K;
            cp16(As + ra * G_LDA + ka, ina ? A + (int64_t)(m0 + ra) * g.lda + k0 + ka : A, ina);
            const int rb = c >> 4, nb = (c & 15) * 8;
            const bool inb = k0 + rb < g.K && n0 + nb < g.N;
            cp16(Bs + rb * G_LDB + nb, inb ? B + (int64_t)(k0 + rb) * g.ldb + n0 + nb : B, inb);
        }
    };

    float acc[4][4][4];
    zero_acc(acc);

    pipeline_prologue<G_ST>(nk, issue);
    for (int kt = 0; kt < nk; kt++) {
        pipeline_advance<G_ST>(kt, nk, issue);
        const uint16_t *As = sm + (kt % G_ST) * G_STAGE, *Bs = As + G_BM * G_LDA;
#pragma unroll
        for (int kk = 0; kk < G_BK; kk += 16) {
            // fragment addresses and register order: kernels/gemm_mma16_frag.cuh
            uint32_t a[4][4], b[4][2];
#pragma unroll
            for (int i = 0; i < 4; i++) ldmatrix_x4(a[i], As + a_ldm_offset(wm, i, kk, lane));
#pragma unroll
            for (int jj = 0; jj < 2; jj++) ldmatrix_b_pair<true>(b, jj, Bs + b_ldm_offset(wn, jj, kk, lane));
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) mma16<P>(acc[i][j], a[i], b[j]);
        }
    }
    cp_wait<0>();
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int m = m0 + c_row(wm, i, lane, r), n = n0 + c_col(wn, j, lane, r);
                if (m < g.M && n < g.N) C[(int64_t)m * g.ldc + n] = acc[i][j][r];
            }
#else
    __trap(); // mma.sync with bf16/fp16 needs sm_80 or newer
#endif
}

template <int P>
lis_status launch(const G16 &g, int batch, lis_stream s) {
    cudaError_t e = cudaFuncSetAttribute(gemm16_kernel<P>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)G_SMEM);
    if (e != cudaSuccess) return lis_err_set("gemm16: %zu bytes of shared memory: %s", G_SMEM, cudaGetErrorString(e));
    const dim3 grid((unsigned)lis_ceil_div(g.N, G_BN), (unsigned)lis_ceil_div(g.M, G_BM), (unsigned)batch);
    gemm16_kernel<P><<<grid, 256, G_SMEM, LIS_STREAM(s)>>>(g);
    return lis_cuda_launched(P == LIS_PREC_BF16 ? "gemm16_bf16" : "gemm16_fp16", s);
}

bool mult8(int64_t v) { return v % 8 == 0; }

} // namespace

extern "C" {

lis_status lis_gemm16_cuda_batched(int batch, int M, int N, int K, const void *A, int64_t lda, int64_t sA, const void *B,
                                   int64_t ldb, int64_t sB, float *C, int64_t ldc, int64_t sC, lis_precision prec,
                                   lis_stream s) {
    if (prec != LIS_PREC_BF16 && prec != LIS_PREC_FP16)
        return lis_err_set("gemm16: precision %s (bf16 or fp16 only)", lis_precision_name(prec));
    if (batch < 1 || batch > 65535 || M < 1 || N < 1 || K < 1)
        return lis_err_set("gemm16: bad shape (batch %d, M %d, N %d, K %d)", batch, M, N, K);
    if (!mult8(K) || !mult8(lda) || !mult8(ldb) || !mult8(sA) || !mult8(sB) || lda < K || ldb < (N + 7) / 8 * 8 ||
        ldc < N || sA < 0 || sB < 0 || sC < 0 || ((uintptr_t)A & 15) || ((uintptr_t)B & 15))
        return lis_err_set("gemm16: K %d, lda %lld, ldb %lld and the batch strides must be multiples of 8 elements "
                           "(ldb covering N %d rounded up to 8), A and B 16-byte aligned",
                           K, (long long)lda, (long long)ldb, N);
    if ((int64_t)M > 65535LL * G_BM) return lis_err_set("gemm16: M = %d too large for the grid", M);
    const G16 g = {(const uint16_t *)A, (const uint16_t *)B, C, M, N, K, lda, ldb, ldc, sA, sB, sC};
    return prec == LIS_PREC_BF16 ? launch<LIS_PREC_BF16>(g, batch, s) : launch<LIS_PREC_FP16>(g, batch, s);
}

} // extern "C"
