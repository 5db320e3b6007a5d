// gemm_mma16_frag.cuh — where the 16-bit GEMM kernel (kernels/gemm_mma16.cu) points ldmatrix
// for each lane, and which registers make which mma.m16n8k16 fragment: __host__ __device__ so
// that tests/test_cuda_emu_gemm16.cu can replay a warp's loads and products on the host against
// the PTX ISA's fragment layouts.
//
// Shared tiles per stage: A [BM][LDA] (row m, depth k), B [BK][LDB] (depth k, column n), 16-bit
// elements, rows padded by 8 so that the 8 row addresses of each ldmatrix phase fall in distinct
// 16-byte bank groups (A rows 80 bytes apart, B rows 272).
#ifndef LIS_GEMM_MMA16_FRAG_CUH
#define LIS_GEMM_MMA16_FRAG_CUH

namespace lis_g16 {

constexpr int BM = 128, BN = 128, BK = 32, LDA = BK + 8, LDB = BN + 8;

// A fragment i (rows wm*64 + i*16 .. +15) at depth kk: lanes 0-15 address rows 0-15 at depth kk,
// lanes 16-31 the same rows at kk + 8, so that ldmatrix.x4's matrices are a0..a3 of m16n8k16
// (rows 0-7 / 8-15 x depths 0-7 / 8-15)
__host__ __device__ inline int a_ldm_offset(int wm, int i, int kk, int lane) {
    return (wm * 64 + i * 16 + (lane & 15)) * LDA + kk + (lane >> 4) * 8;
}

// B at depth kk, columns wn*32 + jj*16 .. +15: lanes 0-15 address depths kk .. kk+15 at the
// first 8 columns, lanes 16-31 the same depths at the next 8; ldmatrix.x4.trans then gives
// b0, b1 of n8 tile 2jj and b0, b1 of n8 tile 2jj+1 (registers r0..r3)
__host__ __device__ inline int b_ldm_offset(int wn, int jj, int kk, int lane) {
    return (kk + (lane & 15)) * LDB + wn * 32 + jj * 16 + (lane >> 4) * 8;
}

// the output element of accumulator r (0..3) of fragment (i, j) of this lane (the C layout of
// m16n8: c0, c1 at row g, columns 2t, 2t+1; c2, c3 at row g+8), relative to the block's corner
__host__ __device__ inline int c_row(int wm, int i, int lane, int r) { return wm * 64 + i * 16 + (lane >> 2) + (r >> 1) * 8; }
__host__ __device__ inline int c_col(int wn, int j, int lane, int r) { return wn * 32 + j * 8 + 2 * (lane & 3) + (r & 1); }

} // namespace lis_g16

#endif
