// mma_ptx.cuh — the PTX the tensor-core GEMM kernels share (kernels/igemm_mma.cu,
// kernels/gemm_mma16.cu): cp.async copies into shared memory, ldmatrix, the mma.sync
// instructions for tf32 (m16n8k8) and bf16 / fp16 (m16n8k16) with float32 accumulators, and the
// packing of two floats into one register of 16-bit values. CUDA only; sm_80 or newer at run time.
#ifndef LIS_MMA_PTX_CUH
#define LIS_MMA_PTX_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>
#include <stdint.h>

extern "C" {
#include "runtime/backend.h"
}

namespace {

// full false: the destination is zero-filled (src must still be a valid address)
__device__ __forceinline__ void cp16(void *dst, const void *src, bool full) {
    const unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(full ? 16 : 0));
}
// the same through L1 (.ca): for gathers that read a line again soon (a 3x3 window's taps)
__device__ __forceinline__ void cp16_ca(void *dst, const void *src, bool full) {
    const unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(full ? 16 : 0));
}
__device__ __forceinline__ void cp4(float *dst, const float *src, bool full) {
    const unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(d), "l"(src), "r"(full ? 4 : 0));
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// four 8x8 matrices of 16-bit values from shared memory; lane l gives the address of row l % 8
// of matrix l / 8. trans: each thread gets the transposed pairs (column-wise) instead
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void *p) {
    const unsigned a = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void *p) {
    const unsigned a = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

// the B fragments of two n8 tiles from one ldmatrix.x4 (TRANS: .trans, for a k-major tile): the
// lanes address them so that registers r0, r1 are b0, b1 of tile 2jj and r2, r3 those of 2jj + 1
template <bool TRANS, int NJ> __device__ __forceinline__ void ldmatrix_b_pair(uint32_t (&b)[NJ][2], int jj, const void *p) {
    uint32_t r[4];
    if (TRANS) ldmatrix_x4_trans(r, p);
    else ldmatrix_x4(r, p);
    b[2 * jj][0] = r[0];
    b[2 * jj][1] = r[1];
    b[2 * jj + 1][0] = r[2];
    b[2 * jj + 1][1] = r[3];
}

// two floats -> one register of two 16-bit values, the first in the low half (the MMA's order)
template <int P> __device__ __forceinline__ uint32_t pack2(float lo, float hi);
template <> __device__ __forceinline__ uint32_t pack2<LIS_PREC_BF16>(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}
template <> __device__ __forceinline__ uint32_t pack2<LIS_PREC_FP16>(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}
__device__ __forceinline__ uint32_t tf32(float v) { return __float_as_uint(nvcuda::wmma::__float_to_tf32(v)); }

template <int P> __device__ __forceinline__ void mma16(float *d, const uint32_t *a, const uint32_t *b);
template <> __device__ __forceinline__ void mma16<LIS_PREC_BF16>(float *d, const uint32_t *a, const uint32_t *b) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
template <> __device__ __forceinline__ void mma16<LIS_PREC_FP16>(float *d, const uint32_t *a, const uint32_t *b) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
__device__ __forceinline__ void mma8_tf32(float *d, const uint32_t *a, const uint32_t *b) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// the MI x NJ m16n8 float32 accumulators of a warp's (16 MI) x (8 NJ) tile, zeroed
template <int MI, int NJ> __device__ __forceinline__ void zero_acc(float (&acc)[MI][NJ][4]) {
#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int j = 0; j < NJ; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0.0f;
}

// a cp.async pipeline of ST stages: tiles 0 .. ST-2 in flight, one commit group each (empty
// past the end); the main loop then waits with cp_wait<ST - 2>() for tile kt
template <int ST, typename F>
__device__ __forceinline__ void pipeline_prologue(int nk, F issue) {
#pragma unroll
    for (int s = 0; s < ST - 1; s++) {
        if (s < nk) issue(s);
        cp_commit();
    }
}

// the top of main-loop iteration kt: this thread's copies of tile kt have landed, then
// everyone's (the barrier also frees the stage tile kt-1 used), then tile kt + ST - 1 goes into
// that stage (an empty commit group past the end)
template <int ST, typename F>
__device__ __forceinline__ void pipeline_advance(int kt, int nk, F issue) {
    cp_wait<ST - 2>();
    __syncthreads();
    if (kt + ST - 1 < nk) issue(kt + ST - 1);
    cp_commit();
}

} // namespace

#endif
