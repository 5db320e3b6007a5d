// test_cuda_emu_conv16.cu — the 16-bit NHWC convolution kernel (kernels/conv16.cu) replayed
// on the host, block by block, with its own index arithmetic (kernels/conv16_frag.cuh): each
// thread's 16-byte copies into a NaN-poisoned stage (zero-filled where the kernel's copy is),
// every warp's ldmatrix and mma.m16n8k16 as the PTX ISA defines them (tests/emu_mma.h), and the
// epilogue through its staged float32 tile. On small integers every sum is exact, so the output
// must equal the CPU reference (lis_conv16_ref) bit for bit, every element written once. Also: every copy 16-byte
// aligned at both ends and inside its tensor, every ldmatrix phase free of bank conflicts.
// Shapes cover 1x1, 3x3 and 7x7, strides 1 and 2, padding, partial pixel and channel blocks,
// both block widths (BN 64 and 128), a residual and the ReLU. Built by nvcc, runs without a GPU.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

#include "kernels/conv16_frag.cuh"
#include "tests/emu_mma.h"

extern "C" {
#include "kernels/conv16.h"
#include "tests/harness.h"
}

using namespace lis_c16;

namespace {

struct Case {
    lis_conv16_params p;
    int bn;
    lis_precision prec;
    bool bias, res;
};

bool g_banks_ok = true, g_aligned = true, g_inside = true, g_staged_once = true;

// one block (bx, by) of the kernel; writes its outputs into y and counts them in hits
template <int BN>
void run_block(const Geo &g, int bx, int by, const Case &cs, const std::vector<float> &x, const std::vector<float> &w,
               const std::vector<float> &bias, const std::vector<uint16_t> &res, std::vector<uint16_t> &y,
               std::vector<int> &hits) {
    using T = Tile<BN>;
    const int m0 = bx * BM, n0 = by * BN, nk = (g.Kd + BK - 1) / BK;
    static float acc[8][4][4][32][4]; // [warp][i][j][lane][r]
    memset(acc, 0, sizeof acc);
    std::vector<float> S(T::STAGE);
    for (int kt = 0; kt < nk; kt++) {
        for (float &v : S) v = NAN;
        for (int t = 0; t < THREADS; t++) { // issue(kt) of every thread
            const int ch = chunk_of(t), d = kt * BK + ch * 8;
            const Tap e = tap_of(g, d);
            for (int q = 0; q < 2; q++) {
                const Pix px = pix_of(g, m0 + a_row(t, q));
                const int64_t src = a_src(g, px, e);
                const int dst = a_dst(a_row(t, q), ch);
                g_aligned = g_aligned && dst % 8 == 0 && (src < 0 || src % 8 == 0);
                g_inside = g_inside && src + 8 <= (int64_t)x.size();
                for (int u = 0; u < 8; u++) S[dst + u] = src < 0 ? 0.0f : x[src + u];
            }
            for (int q = 0; q < T::B_COPIES; q++) {
                const int64_t src = b_src(g, n0 + b_row(t, q), d);
                const int dst = b_dst(b_row(t, q), ch);
                g_aligned = g_aligned && dst % 8 == 0 && (src < 0 || src % 8 == 0);
                g_inside = g_inside && src + 8 <= (int64_t)w.size();
                for (int u = 0; u < 8; u++) S[dst + u] = src < 0 ? 0.0f : w[src + u];
            }
        }
        for (int warp = 0; warp < 8; warp++) {
            const int wm = warp / T::WN, wn = warp % T::WN;
            for (int kk = 0; kk < BK; kk += 16) {
                static float a[4][32][4][2], b[4][32][2][2], r[32][4][2];
                int addr[32];
                for (int i = 0; i < T::MI; i++) {
                    for (int lane = 0; lane < 32; lane++) addr[lane] = a_ldm<BN>(wm, i, kk, lane);
                    for (int ph = 0; ph < 4; ph++) g_banks_ok = g_banks_ok && emu_phase_conflict_free(addr, ph);
                    emu_ldmatrix_x4(S.data(), addr, false, a[i]);
                }
                for (int jj = 0; jj < 2; jj++) {
                    for (int lane = 0; lane < 32; lane++) addr[lane] = b_ldm(wn, jj, kk, lane);
                    for (int ph = 0; ph < 4; ph++) g_banks_ok = g_banks_ok && emu_phase_conflict_free(addr, ph);
                    emu_ldmatrix_x4(S.data(), addr, false, r);
                    emu_b_pair(r, jj, b);
                }
                for (int i = 0; i < T::MI; i++)
                    for (int j = 0; j < 4; j++) emu_mma16(a[i], b[j], acc[warp][i][j]);
            }
        }
    }
    // the epilogue, 1: every warp's accumulator pairs into the staged float32 tile
    std::vector<float> O((size_t)BM * Out<BN>::LDS, NAN);
    std::vector<int> staged(O.size(), 0);
    for (int warp = 0; warp < 8; warp++) {
        const int wm = warp / T::WN, wn = warp % T::WN;
        for (int i = 0; i < T::MI; i++)
            for (int j = 0; j < 4; j++)
                for (int h = 0; h < 2; h++) {
                    // one float2 store of the warp: each half-warp's 16 lanes must cover the 32 banks
                    for (int half = 0; half < 2; half++) {
                        unsigned banks = 0;
                        for (int lane = 16 * half; lane < 16 * half + 16; lane++) {
                            const int off = stage_off<BN>(c_row<BN>(wm, i, lane, 2 * h), c_col(wn, j, lane, 0));
                            banks |= 1u << (off % 32) | 1u << ((off + 1) % 32);
                        }
                        g_banks_ok = g_banks_ok && banks == 0xffffffffu;
                    }
                    for (int lane = 0; lane < 32; lane++) {
                        const int off = stage_off<BN>(c_row<BN>(wm, i, lane, 2 * h), c_col(wn, j, lane, 0));
                        g_aligned = g_aligned && off % 2 == 0; // float2
                        for (int e = 0; e < 2; e++) {
                            O[off + e] = acc[warp][i][j][lane][2 * h + e];
                            staged[off + e]++;
                        }
                    }
                }
    }
    for (int r = 0; r < BM; r++)
        for (int c = 0; c < BN; c++) g_staged_once = g_staged_once && staged[stage_off<BN>(r, c)] == 1;
    // 2: 8 channels of one pixel per thread and pass
    for (int t = 0; t < THREADS; t++) {
        const int col = out_col<BN>(t), n = n0 + col;
        if (n >= g.K) continue;
        for (int pass = 0; pass < Out<BN>::PASSES; pass++) {
            const int row = out_row<BN>(t, pass), m = m0 + row;
            if (m >= g.M) continue;
            g_aligned = g_aligned && stage_off<BN>(row, col) % 4 == 0; // float4
            for (int e = 0; e < 8; e++) {
                float v = O[stage_off<BN>(row, col) + e];
                if (cs.bias) v += bias[n + e];
                const size_t off = (size_t)m * g.K + n + e;
                if (cs.res) v += lis_from16(res[off], cs.prec);
                if (cs.p.relu) v = fmaxf(v, 0.0f);
                y[off] = lis_to16(v, cs.prec);
                hits[off]++;
            }
        }
    }
}

unsigned g_seed = 11;
float small_int(int lo, int hi) { // lo .. hi
    g_seed = g_seed * 1664525u + 1013904223u;
    return (float)(lo + (int)((g_seed >> 8) % (unsigned)(hi - lo + 1)));
}

void run_case(const Case &cs) {
    const lis_conv16_params &p = cs.p;
    if (lis_conv16_check(&p) != LIS_OK) {
        lis_check(0, "conv16 emu: case parameters valid: %s", lis_err_msg());
        return;
    }
    Geo g;
    g.N = p.N; g.H = p.H; g.W = p.W; g.C = p.C; g.K = p.K; g.R = p.R; g.S = p.S; g.stride = p.stride; g.pad = p.pad;
    lis_conv16_out_shape(&p, &g.Ho, &g.Wo);
    g.M = p.N * g.Ho * g.Wo;
    g.Kd = p.R * p.S * p.C;
    const size_t nx = (size_t)p.N * p.H * p.W * p.C, nw = (size_t)p.K * g.Kd, ny = (size_t)g.M * p.K;
    std::vector<uint16_t> x16(nx), w16(nw), res16(ny), yref(ny), y(ny, 0xffff);
    std::vector<float> x(nx), w(nw), bias(p.K);
    for (size_t i = 0; i < nx; i++) { x16[i] = lis_to16(small_int(-4, 4), cs.prec); x[i] = lis_from16(x16[i], cs.prec); }
    for (size_t i = 0; i < nw; i++) { w16[i] = lis_to16(small_int(-3, 3), cs.prec); w[i] = lis_from16(w16[i], cs.prec); }
    for (int k = 0; k < p.K; k++) bias[k] = small_int(-20, 20);
    for (size_t i = 0; i < ny; i++) res16[i] = lis_to16(small_int(-30, 30), cs.prec);
    const float *bp = cs.bias ? bias.data() : NULL;
    const uint16_t *rp = cs.res ? res16.data() : NULL;
    if (lis_conv16_ref(&p, cs.prec, x16.data(), w16.data(), bp, rp, yref.data()) != LIS_OK) {
        lis_check(0, "conv16 emu: reference: %s", lis_err_msg());
        return;
    }
    std::vector<int> hits(ny, 0);
    const int gx = (g.M + BM - 1) / BM, gy = (g.K + cs.bn - 1) / cs.bn;
    for (int by = 0; by < gy; by++)
        for (int bx = 0; bx < gx; bx++) {
            if (cs.bn == 128) run_block<128>(g, bx, by, cs, x, w, bias, res16, y, hits);
            else run_block<64>(g, bx, by, cs, x, w, bias, res16, y, hits);
        }
    size_t missed = 0, wrong = 0;
    for (size_t i = 0; i < ny; i++) {
        if (hits[i] != 1) missed++;
        else if (y[i] != yref[i]) wrong++;
    }
    lis_check(missed == 0 && wrong == 0,
              "conv16 emu %s BN %d: N%d %dx%dx%d -> K%d, %dx%d/%d pad %d%s%s%s: every output written once (%zu not), "
              "equal to the reference (%zu of %zu differ)",
              lis_precision_name(cs.prec), cs.bn, p.N, p.H, p.W, p.C, p.K, p.R, p.S, p.stride, p.pad,
              cs.bias ? " +bias" : "", cs.res ? " +res" : "", p.relu ? " relu" : "", missed, wrong, ny);
}

} // namespace

int main(void) {
    const Case cases[] = {
        // {N, H, W, C, K, R, S, stride, pad, relu}, BN, precision, bias, residual
        {{2, 9, 9, 16, 24, 3, 3, 1, 1, 1}, 64, LIS_PREC_BF16, true, false},    // 3x3, partial blocks
        {{2, 9, 9, 16, 24, 3, 3, 1, 1, 0}, 128, LIS_PREC_FP16, true, true},    // the wide block, residual
        {{1, 11, 10, 32, 200, 3, 3, 2, 1, 1}, 64, LIS_PREC_BF16, true, false}, // stride 2, 4 channel blocks
        {{3, 7, 7, 40, 136, 1, 1, 1, 0, 1}, 128, LIS_PREC_BF16, true, true},   // 1x1 (depth 40: a partial tile)
        {{2, 8, 8, 24, 64, 1, 1, 2, 0, 0}, 64, LIS_PREC_FP16, false, false},   // 1x1 stride 2 (downsample)
        {{1, 14, 13, 8, 64, 7, 7, 2, 3, 0}, 64, LIS_PREC_BF16, true, false},   // the stem: 7x7/2, C = 8
        {{1, 4, 4, 8, 16, 3, 3, 1, 2, 1}, 128, LIS_PREC_FP16, true, true},     // padding past the kernel's reach
    };
    for (const Case &c : cases) run_case(c);
    lis_check(g_aligned, "conv16 emu: every 16-byte copy aligned in global and shared memory");
    lis_check(g_staged_once, "conv16 emu: the epilogue stages every accumulator of the block exactly once");
    lis_check(g_inside, "conv16 emu: every copy reads inside the input and weight tensors");
    lis_check(g_banks_ok, "conv16 emu: every ldmatrix phase hits 8 distinct 16-byte bank groups, every staged float2 "
                          "store of a half-warp the 32 banks");
    return lis_test_finish();
}
