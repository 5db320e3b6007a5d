// igemm_mma.cu — the implicit-GEMM convolution on tensor cores with mma.sync and a cp.async
// pipeline (see kernels/gemm_cuda.h, lis_igemm_cuda_mma): the shipped TF32/BF16/FP16 kernels
// since the H200 check of 2026-11-27 (session 4): 155 TFLOP/s on a 4096^3 bf16 GEMM against
// WMMA's 18, ResNet-50 b64 tf32 4900 img/s against 1547. LIS_MMA_CUDA=0 selects WMMA again.
//
// Why: the WMMA kernels of gemm.cu stage every operand through registers with one tile of
// prefetch, so with one 8-warp block per SM a warp waits ~75% of its cycles on global
// loads (ncu on an H200, 2026-11-27: 0.11 instructions issued per scheduler and cycle, 18
// TFLOP/s on a 4096^3 bf16 GEMM). Here the operands go to shared memory by cp.async, as
// float32, MM_ST tiles ahead; they are rounded to the precision when the fragments are read
// (one cvt per pair), and the products are mma.sync m16n8k16 (bf16, fp16) or m16n8k8 (tf32)
// with float32 accumulators.
//
// Tiles: 128 (output channels) x 128 (output pixels) x 16 (depth), 256 threads = 8 warps in
// 2 x 4, each 64 x 32 (4 x 4 MMA tiles). Shared: MM_ST stages of A [128][LDA] and B [16][LDB]
// floats, strides chosen so that the fragment reads are free of bank conflicts:
//   bf16/fp16: A reads float2 (row g, depth 2t) -> LDA = 24; B reads (depth 2t, column g)
//              -> LDB = 132 (2 LDB = 8 mod 32)
//   tf32:      A reads (row g, depth t) -> LDA = 20; B reads (depth t, column g) -> LDB = 136
// Loads: A (weights, row-major M x Kd) by 16-byte copies when Kd % 4 == 0 and w is aligned,
// else 4-byte copies; B by 16-byte copies when the convolution is a plain GEMM (1x1, stride
// 1, no padding, H*W % 4 == 0, aligned), else 4-byte copies of the gather (the offset table
// of gemm.cu, one per stage), out-of-bounds elements zero-filled by the copy itself.
// in_scale (the generator's styles): each thread multiplies the elements it copied itself, once
// they have landed and before the barrier that publishes the stage (the copy cannot scale).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/igemm_common.cuh"
#include "kernels/mma_ptx.cuh"
#include "runtime/cuda_common.cuh"

namespace {

using namespace lis_igemm;

constexpr int MM_BM = 128, MM_BN = 128, MM_BK = 16, MM_ST = 4;

template <int P> struct Mm;
template <> struct Mm<LIS_PREC_TF32> {
    static constexpr int LDA = 20, LDB = 136;
};
template <> struct Mm<LIS_PREC_BF16> {
    static constexpr int LDA = 24, LDB = 132;
};
template <> struct Mm<LIS_PREC_FP16> {
    static constexpr int LDA = 24, LDB = 132;
};

template <int P> __host__ __device__ constexpr int stage_floats() { return MM_BM * Mm<P>::LDA + MM_BK * Mm<P>::LDB; }
template <int P> constexpr size_t smem_bytes() { return sizeof(float) * (size_t)MM_ST * stage_floats<P>(); }

// One warp's 64 x 32 products of one stage: As [128][LDA], Bs [16][LDB] (float32).
// Fragment layouts (PTX ISA, mma.m16n8k16 / m16n8k8): g = lane / 4, t = lane % 4;
//   A 16x16: {a0,a1} (row g, depth 2t, 2t+1), {a2,a3} row g+8, {a4,a5} depth +8, {a6,a7} both
//   B 16x8:  {b0,b1} (depth 2t, 2t+1, column g), {b2,b3} depth +8
//   A 16x8 tf32: a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4); B 8x8: b0 (t, g), b1 (t+4, g)
//   C 16x8:  c0,c1 (row g, columns 2t, 2t+1), c2,c3 row g+8
template <int P>
__device__ __forceinline__ void stage_products(const float *As, const float *Bs, int wm, int wn, int g, int t,
                                               float (&acc)[4][4][4]) {
    constexpr int LDA = Mm<P>::LDA, LDB = Mm<P>::LDB;
    if constexpr (P == LIS_PREC_TF32) {
#pragma unroll
        for (int kb = 0; kb < MM_BK; kb += 8) {
            uint32_t a[4][4], b[4][2];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                const float *r0 = As + (wm * 64 + i * 16 + g) * LDA + kb + t, *r8 = r0 + 8 * LDA;
                a[i][0] = tf32(r0[0]); a[i][1] = tf32(r8[0]); a[i][2] = tf32(r0[4]); a[i][3] = tf32(r8[4]);
            }
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const float *c = Bs + (kb + t) * LDB + wn * 32 + j * 8 + g;
                b[j][0] = tf32(c[0]); b[j][1] = tf32(c[4 * LDB]);
            }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) mma8_tf32(acc[i][j], a[i], b[j]);
        }
    } else {
        uint32_t a[4][4], b[4][2];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const float *r0 = As + (wm * 64 + i * 16 + g) * LDA + 2 * t, *r8 = r0 + 8 * LDA;
            const float2 v00 = *reinterpret_cast<const float2 *>(r0), v10 = *reinterpret_cast<const float2 *>(r8);
            const float2 v01 = *reinterpret_cast<const float2 *>(r0 + 8), v11 = *reinterpret_cast<const float2 *>(r8 + 8);
            a[i][0] = pack2<P>(v00.x, v00.y); a[i][1] = pack2<P>(v10.x, v10.y);
            a[i][2] = pack2<P>(v01.x, v01.y); a[i][3] = pack2<P>(v11.x, v11.y);
        }
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const float *c = Bs + 2 * t * LDB + wn * 32 + j * 8 + g;
            b[j][0] = pack2<P>(c[0], c[LDB]);
            b[j][1] = pack2<P>(c[8 * LDB], c[9 * LDB]);
        }
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) mma16<P>(acc[i][j], a[i], b[j]);
    }
}

// VA: 16-byte copies of the weight rows; PLAIN: 16-byte copies of B (a plain GEMM)
template <int P, bool VA, bool PLAIN>
__global__ __launch_bounds__(256) void igemm_mma_kernel(Args batched) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    const Args a = batch_slice(batched);
    constexpr int LDA = Mm<P>::LDA, LDB = Mm<P>::LDB, SF = stage_floats<P>();
    extern __shared__ float4 mm_smem[];
    float *const sm = reinterpret_cast<float *>(mm_smem);
    __shared__ KTab tab[MM_ST][MM_BK]; // gather offsets of the tile of each stage slot
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5, g = lane >> 2, tq = lane & 3;
    const int wm = warp >> 2, wn = warp & 3;
    const int m0 = blockIdx.y * MM_BM, n0 = blockIdx.x * MM_BN;
    // split-K (a.part set, no batch): blockIdx.z takes the nk depth tiles from kt0 on and writes
    // raw sums to a.part; the indices kt below count from kt0
    const int nk_all = (a.Kd + MM_BK - 1) / MM_BK, kt0 = a.part ? (int)blockIdx.z * a.kt_per : 0;
    const int nk = a.part ? min(nk_all - kt0, a.kt_per) : nk_all;
    // A copies: VA: rows (t >> 2) + 64q, depths (t & 3) * 4 .. +3; else rows (t >> 4) + 16q, depth t & 15
    // B copies: PLAIN: depths (t >> 5) + 8q, columns (t & 31) * 4 .. +3; else column t & 127, depths (t >> 7) + 2q
    const int HW = a.HWo;
    int64_t pb = 0;
    int psb = 0; // in_scale row of the plain columns' image
    bool pv = false;
    Col col = {};
    if (PLAIN) {
        const int n = n0 + (t & 31) * 4, b = n / HW;
        pv = n < a.Ntot; // all four or none: H*W % 4 == 0
        pb = pv ? (int64_t)b * a.Kd * HW + (n - b * HW) : 0;
        psb = pv ? b * a.Kd : 0;
    } else {
        col = col_of(a, n0 + (t & 127));
        if (t < MM_ST * MM_BK) { // the tables of the first MM_ST tiles
            const int s = t / MM_BK, e = t % MM_BK;
            tab[s][e] = ktab_entry(a, (kt0 + s) * MM_BK + e);
        }
        __syncthreads();
    }
    auto issue = [&](int kt) {
        float *As = sm + (kt % MM_ST) * SF, *Bs = As + MM_BM * LDA;
        const int k0 = (kt0 + kt) * MM_BK;
        if (VA) {
#pragma unroll
            for (int q = 0; q < 2; q++) {
                const int r = (t >> 2) + 64 * q, k = k0 + (t & 3) * 4;
                const bool in = m0 + r < a.M && k < a.Kd;
                cp16(As + r * LDA + (t & 3) * 4, in ? a.w + (int64_t)(m0 + r) * a.Kd + k : a.w, in);
            }
        } else {
#pragma unroll
            for (int q = 0; q < 8; q++) {
                const int r = (t >> 4) + 16 * q, k = k0 + (t & 15);
                const bool in = m0 + r < a.M && k < a.Kd;
                cp4(As + r * LDA + (t & 15), in ? a.w + (int64_t)(m0 + r) * a.Kd + k : a.w, in);
            }
        }
        if (PLAIN) {
#pragma unroll
            for (int q = 0; q < 2; q++) {
                const int kk = (t >> 5) + 8 * q;
                const bool in = pv && k0 + kk < a.Kd;
                cp16(Bs + kk * LDB + (t & 31) * 4, in ? a.x + pb + (int64_t)(k0 + kk) * HW : a.x, in);
            }
        } else {
            const KTab *tb = tab[kt % MM_ST];
#pragma unroll
            for (int q = 0; q < 8; q++) {
                const int kk = (t >> 7) + 2 * q;
                const KTab e = tb[kk];
                const int iy = col.iy0 + e.dy, ix = col.ix0 + e.dx;
                const bool in = (unsigned)iy < (unsigned)a.H && (unsigned)ix < (unsigned)a.W;
                cp4(Bs + kk * LDB + (t & 127), in ? a.x + col.base + col.pix + e.off : a.x, in);
            }
        }
    };

    // in_scale on this thread's own copies of tile kt (indices stay in bounds for zero-filled
    // elements: the table gives channel 0 past the depth, col_of image 0 past the columns)
    auto scale_own = [&](int kt) {
        float *Bs = sm + (kt % MM_ST) * SF + MM_BM * LDA;
        const int k0 = (kt0 + kt) * MM_BK;
        if (PLAIN) {
#pragma unroll
            for (int q = 0; q < 2; q++) {
                const int kk = (t >> 5) + 8 * q;
                if (!pv || k0 + kk >= a.Kd) continue;
                const float sc = __ldg(a.in_scale + psb + k0 + kk);
                float4 *v = reinterpret_cast<float4 *>(Bs + kk * LDB + (t & 31) * 4);
                float4 u = *v;
                u.x *= sc; u.y *= sc; u.z *= sc; u.w *= sc;
                *v = u;
            }
        } else {
            const KTab *tb = tab[kt % MM_ST];
#pragma unroll
            for (int q = 0; q < 8; q++) {
                const int kk = (t >> 7) + 2 * q;
                Bs[kk * LDB + (t & 127)] *= __ldg(a.in_scale + col.sbase + tb[kk].c);
            }
        }
    };

    float acc[4][4][4];
    zero_acc(acc);

    pipeline_prologue<MM_ST>(nk, issue);
    for (int kt = 0; kt < nk; kt++) {
        cp_wait<MM_ST - 2>(); // this thread's copies of tile kt have landed...
        if (a.in_scale) scale_own(kt);
        __syncthreads();      // ...everyone's; and everyone is done with tile kt-1's stage
        const int nt = kt + MM_ST - 1;
        if (nt < nk) issue(nt); // into the stage tile kt-1 used
        cp_commit();
        // the table of tile kt + MM_ST into tile kt's slot (read only when tile kt was issued);
        // it is read after the barrier of the next iteration
        if (!PLAIN && t < MM_BK) tab[kt % MM_ST][t] = ktab_entry(a, (kt0 + kt + MM_ST) * MM_BK + t);
        const float *As = sm + (kt % MM_ST) * SF;
        stage_products<P>(As, As + MM_BM * LDA, wm, wn, g, tq, acc);
    }
    cp_wait<0>();
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int m = m0 + wm * 64 + i * 16 + g, n = n0 + wn * 32 + j * 8 + 2 * tq;
            if (a.part) {
                float *part = a.part + (int64_t)blockIdx.z * a.M * a.Ntot;
#pragma unroll
                for (int r = 0; r < 4; r++) {
                    const int mm = m + (r >> 1) * 8, nn = n + (r & 1);
                    if (mm < a.M && nn < a.Ntot) part[(int64_t)mm * a.Ntot + nn] = acc[i][j][r];
                }
                continue;
            }
            store_out(a, m, n, acc[i][j][0]);
            store_out(a, m, n + 1, acc[i][j][1]);
            store_out(a, m + 8, n, acc[i][j][2]);
            store_out(a, m + 8, n + 1, acc[i][j][3]);
        }
#else
    __trap(); // mma.sync with bf16/tf32 needs sm_80 or newer
#endif
}

template <int P, bool VA, bool PLAIN>
lis_status launch(Args a, dim3 grid, lis_stream s, bool split) {
    // dynamic shared memory above 48 KiB must be allowed; the setting is per device, so it is
    // made at every launch (a host call of about a microsecond) rather than cached once
    cudaError_t e = cudaFuncSetAttribute(igemm_mma_kernel<P, VA, PLAIN>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         (int)smem_bytes<P>());
    if (e != cudaSuccess) return lis_err_set("igemm mma: %zu bytes of shared memory: %s", smem_bytes<P>(), cudaGetErrorString(e));
    if (split) {
        static int per_sm = 0; // per instantiation
        if (!per_sm && cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, igemm_mma_kernel<P, VA, PLAIN>, 256,
                                                                     smem_bytes<P>()) != cudaSuccess) {
            (void)cudaGetLastError();
            per_sm = 1;
        }
        LIS_TRY(splitk_plan(a, grid, per_sm, MM_BK, s));
    }
    igemm_mma_kernel<P, VA, PLAIN><<<grid, 256, smem_bytes<P>(), LIS_STREAM(s)>>>(a);
    LIS_TRY(lis_cuda_launched(P == LIS_PREC_TF32 ? "igemm_mma_tf32" : P == LIS_PREC_BF16 ? "igemm_mma_bf16" : "igemm_mma_fp16", s));
    return a.part ? splitk_reduce(a, (int)grid.z, s) : LIS_OK;
}

template <int P>
lis_status dispatch(const Args &a, int batch, lis_stream s, bool split) {
    const bool va = vec_w(a);
    const bool plain = is_plain_gemm(a) && a.HWo % 4 == 0 && aligned16(a.x) && a.zx % 4 == 0;
    const dim3 grid((unsigned)lis_ceil_div(a.Ntot, MM_BN), (unsigned)lis_ceil_div(a.M, MM_BM), (unsigned)batch);
    split = split && batch == 1;
    if (va && plain) return launch<P, true, true>(a, grid, s, split);
    if (va) return launch<P, true, false>(a, grid, s, split);
    if (plain) return launch<P, false, true>(a, grid, s, split);
    return launch<P, false, false>(a, grid, s, split);
}

template <int P>
lis_status run_mma(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s, bool split) {
    LIS_TRY(lis_igemm_check(p));
    return dispatch<P>(make_args(p, x, w, y), 1, s, split);
}

// LIS_SPLITK_MMA_CUDA=1: the shipped tensor-core path splits the depth of small grids (not yet
// timed on a GPU: off by default; the "tf32 splitk" / "bf16 splitk" variants always may)
bool splitk_mma_wanted(void) {
    static int cache = -1;
    return lis_cuda_env_is("LIS_SPLITK_MMA_CUDA", "1", &cache);
}

} // namespace

lis_status lis_igemm::mma_launch(const Args &a, lis_precision prec, int batch, lis_stream s, bool split) {
    switch (prec) {
    case LIS_PREC_TF32: return dispatch<LIS_PREC_TF32>(a, batch, s, split);
    case LIS_PREC_BF16: return dispatch<LIS_PREC_BF16>(a, batch, s, split);
    case LIS_PREC_FP16: return dispatch<LIS_PREC_FP16>(a, batch, s, split);
    default: return lis_err_set("igemm mma: precision %s has no mma.sync kernel", lis_precision_name(prec));
    }
}

extern "C" {

int lis_igemm_mma_enabled(void) {
    static int cache = -1;
    return !lis_cuda_env_is("LIS_MMA_CUDA", "0", &cache);
}

lis_status lis_igemm_cuda_mma(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w, float *y,
                              lis_stream s) {
    LIS_TRY(lis_igemm_check(p));
    return lis_igemm::mma_launch(make_args(p, x, w, y), prec, 1, s, splitk_mma_wanted());
}

lis_status lis_igemm_cuda_mma_tf32(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_mma<LIS_PREC_TF32>(p, x, w, y, s, splitk_mma_wanted());
}
lis_status lis_igemm_cuda_mma_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_mma<LIS_PREC_BF16>(p, x, w, y, s, splitk_mma_wanted());
}
lis_status lis_igemm_cuda_mma_fp16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return run_mma<LIS_PREC_FP16>(p, x, w, y, s, splitk_mma_wanted());
}
lis_status lis_igemm_cuda_mma_splitk_tf32(const lis_igemm_params *p, const float *x, const float *w, float *y,
                                          lis_stream s) {
    return run_mma<LIS_PREC_TF32>(p, x, w, y, s, true);
}
lis_status lis_igemm_cuda_mma_splitk_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y,
                                          lis_stream s) {
    return run_mma<LIS_PREC_BF16>(p, x, w, y, s, true);
}

} // extern "C"
