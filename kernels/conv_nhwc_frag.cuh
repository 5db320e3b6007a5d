// conv_nhwc_frag.cuh — the index arithmetic of the NHWC convolution kernel (kernels/conv_nhwc.cu):
// which global element each thread's 16-byte copies read, where they land in shared memory,
// where each lane points ldmatrix, and which output element each accumulator is. __host__
// __device__, so that tests/test_cuda_emu_conv_nhwc.cu replays whole blocks on the host (copies,
// ldmatrix, mma as the PTX ISA defines them, the epilogue) against the CPU reference.
//
// E is the element size: 2 (bf16 / fp16 activations, mma.m16n8k16) or 4 (float32 activations,
// tf32 mma.m16n8k8). Every stage is laid out in bytes the same way for both: a row holds DB = 64
// bytes of depth (32 or 16 elements) padded to 80, a copy is 16 bytes (8 or 4 elements), an
// mma step takes 32 bytes of depth (16 or 8 elements), and ldmatrix treats 4-byte elements as
// pairs of 16-bit ones, which puts (row g, element t) in lane (g, t): the tf32 fragment layout.
// DB = 128 ("deep" stages, the default on sm_90; LIS_NHWC_CONV_DEEP=0|1): rows of 128 bytes
// padded to 144, twice the mma steps per barrier, 3 stages instead of 4.
// NW is the number of warps: 8 (each warp 64 x 32 of a 128 x 128 tile, 32 x 32 of 128 x 64), or 4
// (LIS_NHWC_CONV_WARPS=4, an experiment: 64 x 64 of 128 x 128, 64 x 32 of 128 x 64). A warp's
// ldmatrix bytes per multiply-add fall with its tile's size: at BN 128 a block's warps read 4
// instead of 6 tile-widths of each stage (a quarter less shared traffic with the copies in),
// which matters where the bytes through shared memory bound the kernel (tf32 moves twice the
// bytes of bf16 per multiply-add).
//
// The GEMM: rows m = output pixels (n, oy, ox) in NHWC order, columns = output channels k,
// depth d = (r, s, c) with c fastest (the KRSC weights' row order). A [pixel][depth] is gathered
// from the input (one copy = 8 or 4 channels of one pixel at one tap; C % 8 == 0 keeps a copy
// inside one tap), B [channel][depth] is a weight row. The 8 row addresses of an ldmatrix phase
// are 80 bytes apart: 8 distinct 16-byte bank groups.
#ifndef LIS_CONV_NHWC_FRAG_CUH
#define LIS_CONV_NHWC_FRAG_CUH

#include <stdint.h>

namespace lis_cn {

constexpr int BM = 128;
constexpr int FAR = -(1 << 29); // a coordinate that fails every bounds check

template <int E, int DB = 64> struct Elem {
    static constexpr int CH = 16 / E;      // elements per 16-byte copy
    static constexpr int BK = DB / E;      // depth per stage
    static constexpr int LDK = BK + CH;    // elements per shared row (DB + 16 bytes: an odd number
                                           // of 16-byte groups, so 8 rows hit 8 distinct ones)
    static constexpr int KSTEP = 32 / E;   // depth per mma step (m16n8k16 / m16n8k8)
    static constexpr int CPR = DB / 16;    // 16-byte copies per row: 4 or 8
};

// BN (output channels per block) 128 or 64; NW warps as WM x WN, each (16 MI) x (8 NJ)
template <int BN, int NW> struct Warps {
    static_assert((BN == 64 || BN == 128) && (NW == 8 || NW == 4), "BN 64 or 128, 8 or 4 warps");
    static constexpr int THREADS = 32 * NW;
    static constexpr int WN = NW == 8 ? BN / 32 : 2; // warps across the channels
    static constexpr int WM = NW / WN;               // across the pixels
    static constexpr int MI = BM / WM / 16;          // m16 fragments of a warp: 4 or 2
    static constexpr int NJ = BN / WN / 8;           // n8 fragments of a warp: 4 or 8
};
// elements per pipeline stage: BM A rows, then BN B rows
template <int BN, int E, int DB> __host__ __device__ constexpr int stage_elems() { return (BM + BN) * Elem<E, DB>::LDK; }
template <int BN, int E, int DB, int NW> struct Tile : Warps<BN, NW> {
    static_assert(Warps<BN, NW>::THREADS == 32 * NW && BM * Elem<E, DB>::CPR % Warps<BN, NW>::THREADS == 0 &&
                      BN * Elem<E, DB>::CPR % Warps<BN, NW>::THREADS == 0,
                  "every thread the same whole number of A and B copies per stage");
    static constexpr int STAGE = stage_elems<BN, E, DB>();
    // 16-byte copies per thread of A (2, 4 or 8) and of B (1 .. 8)
    static constexpr int A_COPIES = BM * Elem<E, DB>::CPR / Warps<BN, NW>::THREADS;
    static constexpr int B_COPIES = BN * Elem<E, DB>::CPR / Warps<BN, NW>::THREADS;
};

struct Geo {
    int N, H, W, C, K, R, S, stride, pad, Ho, Wo;
    int M, Kd; // pixels N*Ho*Wo, depth R*S*C
};

// The A row (output pixel) of a thread's copy q: row t / CPR + (32 NW / CPR) q; depth chunk t % CPR
// (CPR copies of 16 bytes per DB-byte row; DB = 64, 8 warps: rows (t >> 2) + 64 q, chunk t & 3).
struct Pix {
    int64_t base; // first element of the image: b*H*W*C
    int iy0, ix0; // top-left input coordinate of the window; FAR past the last pixel
};
template <int DB, int NW> __host__ __device__ inline int a_row(int t, int q) {
    return t / (DB / 16) + (32 * NW / (DB / 16)) * q;
}
template <int DB = 64> __host__ __device__ inline int chunk_of(int t) { return t % (DB / 16); }
// the first depth index of a thread's copies of stage kt
template <int E, int DB = 64> __host__ __device__ inline int depth_of(int kt, int t) {
    return kt * Elem<E, DB>::BK + chunk_of<DB>(t) * Elem<E, DB>::CH;
}

__host__ __device__ inline Pix pix_of(const Geo &g, int m) {
    Pix p;
    if (m >= g.M) {
        p.base = 0; p.iy0 = FAR; p.ix0 = FAR;
        return p;
    }
    const int hw = g.Ho * g.Wo, b = m / hw, r = m - b * hw, oy = r / g.Wo, ox = r - oy * g.Wo;
    p.base = (int64_t)b * g.H * g.W * g.C;
    p.iy0 = oy * g.stride - g.pad;
    p.ix0 = ox * g.stride - g.pad;
    return p;
}

// The first depth index d = tap * C + c of a thread's copies in stage kt (d's order is the KRSC
// weight row's, whichever order the stages take). Channels fastest (the default): stage kt holds
// depth kt*BK .. +BK-1, so one tap's C / BK stages pass before the next tap re-reads the same
// input pixels, too far apart for L1. Taps inner (LIS_NHWC_CONV_TAPS_INNER=1, an experiment, for
// R*S > 1 and C % BK == 0, checked by the host): stage kt is tap kt % RS of channel chunk
// kt / RS, so consecutive stages gather the same input lines shifted by one tap, and the gather
// through L1 (cp.async.ca) can serve most of a 3x3 window's nine reads of a line from L1
// (measured on the H100: slower, see kernels/conv_nhwc.cu).
template <int E, int DB> __host__ __device__ inline int stage_depth(const Geo &g, int kt, int t, bool taps_inner) {
    if (!taps_inner) return depth_of<E, DB>(kt, t);
    const int rs = g.R * g.S, cb = kt / rs, tap = kt - cb * rs;
    return tap * g.C + cb * Elem<E, DB>::BK + chunk_of<DB>(t) * Elem<E, DB>::CH;
}
// whether the taps-inner order applies to a layer (every stage inside one tap and the channels)
template <int E, int DB> __host__ __device__ inline bool taps_inner_fits(const Geo &g) {
    return g.R * g.S > 1 && g.C % Elem<E, DB>::BK == 0;
}

// The tap and first channel of depth d (a multiple of the copy width); dy = FAR past the depth
struct Tap {
    int dy, dx, c;
};
__host__ __device__ inline Tap tap_of(const Geo &g, int d) {
    Tap e;
    if (d >= g.Kd) {
        e.dy = FAR; e.dx = 0; e.c = 0;
        return e;
    }
    const int rs = d / g.C, r = rs / g.S;
    e.c = d - rs * g.C;
    e.dy = r;
    e.dx = rs - r * g.S;
    return e;
}

// element offset in x of an A copy, or -1 when it is zero (padding, past the pixels or the depth)
__host__ __device__ inline int64_t a_src(const Geo &g, const Pix &p, const Tap &e) {
    const int iy = p.iy0 + e.dy, ix = p.ix0 + e.dx;
    if ((unsigned)iy >= (unsigned)g.H || (unsigned)ix >= (unsigned)g.W) return -1;
    return p.base + ((int64_t)iy * g.W + ix) * g.C + e.c;
}

// B copy q of thread t: weight row (output channel); its element offset in w, or -1 past the
// channels or the depth
template <int DB, int NW> __host__ __device__ inline int b_row(int t, int q) { return a_row<DB, NW>(t, q); }
__host__ __device__ inline int64_t b_src(const Geo &g, int k, int d) {
    return k < g.K && d < g.Kd ? (int64_t)k * g.Kd + d : -1;
}

// shared offsets (elements) of a copy within a stage: A rows first, then the BM.. B rows
template <int E, int DB = 64> __host__ __device__ inline int a_dst(int row, int chunk) {
    return row * Elem<E, DB>::LDK + chunk * Elem<E, DB>::CH;
}
template <int E, int DB = 64> __host__ __device__ inline int b_dst(int row, int chunk) {
    return (BM + row) * Elem<E, DB>::LDK + chunk * Elem<E, DB>::CH;
}

// A fragment i of warp row wm at depth kk: lanes 0-15 rows 0-15 at kk, lanes 16-31 the same rows
// 16 bytes further: ldmatrix.x4 gives a0..a3 of m16n8k16 (16-bit) or of m16n8k8 (tf32)
template <int BN, int E, int DB, int NW> __host__ __device__ inline int a_ldm(int wm, int i, int kk, int lane) {
    return (wm * Warps<BN, NW>::MI * 16 + i * 16 + (lane & 15)) * Elem<E, DB>::LDK + kk + (lane >> 4) * Elem<E, DB>::CH;
}
// B (rows = channels, depth contiguous: the "col" operand, no transpose) at depth kk, channels
// wn*8NJ + jj*16 .. +15: lanes 0-7 channels 0-7 at kk, 8-15 the same 16 bytes further, 16-23
// channels 8-15 at kk, 24-31 16 bytes further; ldmatrix.x4 gives b0, b1 of n8 tile 2jj, then b0,
// b1 of tile 2jj + 1
template <int BN, int E, int DB, int NW> __host__ __device__ inline int b_ldm(int wn, int jj, int kk, int lane) {
    return (BM + wn * Warps<BN, NW>::NJ * 8 + jj * 16 + (lane & 7) + ((lane >> 4) << 3)) * Elem<E, DB>::LDK + kk +
           ((lane >> 3) & 1) * Elem<E, DB>::CH;
}

// accumulator r (0..3) of fragment (i, j) of a lane: pixel row and channel relative to the block
// (the C layout of m16n8, the same for both mma shapes)
template <int BN, int NW> __host__ __device__ inline int c_row(int wm, int i, int lane, int r) {
    return wm * Warps<BN, NW>::MI * 16 + i * 16 + (lane >> 2) + (r >> 1) * 8;
}
template <int BN, int NW> __host__ __device__ inline int c_col(int wn, int j, int lane, int r) {
    return wn * Warps<BN, NW>::NJ * 8 + j * 8 + 2 * (lane & 3) + (r & 1);
}

// The epilogue goes through shared memory (the pipeline's stages, free by then): the warps store
// their float32 accumulators as pairs into a [BM][BN + 8] tile (row stride = 8 mod 32 floats: the
// 16 lanes of a half-warp, rows g = 0..3 x columns 2t, hit 32 distinct banks), then every thread
// takes 8 adjacent channels of one pixel at a time, so that the residual loads and the output
// stores are 16 bytes wide (two of them for float32) and a row of the tile is contiguous NHWC
// output.
template <int BN> __host__ __device__ constexpr int out_lds() { return BN + 8; } // floats per staged row
template <int BN, int NW> struct Out {
    static constexpr int CHUNKS = BN / 8;                                   // 8-channel chunks per row
    static constexpr int ROWS_PER_PASS = Warps<BN, NW>::THREADS / CHUNKS; // 8 .. 32
    static constexpr int PASSES = BM / ROWS_PER_PASS;                       // 4 .. 16
};
template <int BN> __host__ __device__ inline int stage_off(int row, int col) { return row * out_lds<BN>() + col; }
// the pixel row and first channel of pass `pass` of thread t
template <int BN, int NW> __host__ __device__ inline int out_row(int t, int pass) {
    return pass * Out<BN, NW>::ROWS_PER_PASS + t / Out<BN, NW>::CHUNKS;
}
template <int BN, int NW> __host__ __device__ inline int out_col(int t) { return (t % Out<BN, NW>::CHUNKS) * 8; }

// The NCHW float32 output instead (lis_nhwc_conv_nchw_out_cuda): warp w writes the tile's
// channels w, w + NW, ...; its lanes the pixels lane, lane + 32, ..., so that a store is 32
// consecutive pixels of one channel plane (the tile's pixels are consecutive NCHW positions
// within an image)
template <int NW> __host__ __device__ inline int nchw_col(int warp, int i) { return warp + NW * i; }
__host__ __device__ inline int nchw_row(int lane, int j) { return lane + 32 * j; }

} // namespace lis_cn

#endif
