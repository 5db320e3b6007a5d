// test_cuda_emu_conv_nhwc.cu — the NHWC convolution kernel (kernels/conv_nhwc.cu) replayed on the
// host, block by block, with its own index arithmetic (kernels/conv_nhwc_frag.cuh): each thread's
// 16-byte copies into a NaN-poisoned stage (zero-filled where the kernel's copy is), every warp's
// ldmatrix and mma as the PTX ISA defines them (tests/emu_mma.h: m16n8k16 on 16-bit elements for
// bf16 / fp16, m16n8k8 on 32-bit ones, loaded as pairs, for tf32), and the epilogue through its
// staged float32 tile. On small integers every sum is exact (and tf32 rounding changes nothing),
// so the output must equal the CPU reference (lis_nhwc_conv_ref) bit for bit, every element
// written once. Also: every copy 16-byte aligned at both ends and inside its tensor, every
// ldmatrix phase and staged store free of bank conflicts. Shapes cover 1x1, 3x3 and 7x7, strides
// 1 and 2, padding, partial pixel and channel blocks, both block widths (BN 64 and 128), a
// residual and the ReLU, in each precision, and the NCHW float32 output mode; each also with
// 128-byte stages (LIS_NHWC_CONV_DEEP), with 4 warps (LIS_NHWC_CONV_WARPS=4) and with the taps
// inside the channel chunks (LIS_NHWC_CONV_TAPS_INNER=1). Built by nvcc, runs without a GPU.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

#include "kernels/conv_nhwc_frag.cuh"
#include "tests/emu_mma.h"

extern "C" {
#include "kernels/conv_nhwc.h"
#include "tests/harness.h"
}

using namespace lis_cn;

namespace {

struct Case {
    lis_nhwc_conv_params p;
    int bn;
    lis_precision prec;
    bool bias, res;
    bool nchw; // the NCHW float32 output with per-(image, channel) scales (no residual)
    int db = 64; // bytes of depth per stage: 64, or 128 (LIS_NHWC_CONV_DEEP)
    int nw = 8;  // warps per block: 8, or 4 (LIS_NHWC_CONV_WARPS=4)
    bool taps = false; // LIS_NHWC_CONV_TAPS_INNER=1 (applied where taps_inner_fits)
};

bool g_banks_ok = true, g_aligned = true, g_inside = true, g_staged_once = true, g_in_stage = true;
int g_taps_inner_runs = 0; // cases that ran the taps-inner order

// every row an ldmatrix reads (16 bytes from each lane's address) inside the stage, and inside
// the depth a row holds (not its padding)
template <int BN, int E, int DB> void in_stage(const int (&addr)[32]) {
    using K = Elem<E, DB>;
    for (int lane = 0; lane < 32; lane++)
        g_in_stage = g_in_stage && addr[lane] >= 0 && addr[lane] + K::CH <= stage_elems<BN, E, DB>() &&
                     addr[lane] % K::LDK + K::CH <= K::BK;
}

// one mma step of a warp at depth kk of stage S: fragments loaded as the kernel does, products
// accumulated into acc[i][j][lane][r]
template <int BN, int E, int DB, int NW>
void warp_step(const std::vector<float> &S, int wm, int wn, int kk, float acc[4][8][32][4]) {
    using T = Warps<BN, NW>;
    static_assert(T::MI <= 4 && T::NJ <= 8, "the emulator's fragment arrays");
    int addr[32];
    if (E == 2) {
        static float a[4][32][4][2], b[8][32][2][2], r[32][4][2];
        for (int i = 0; i < T::MI; i++) {
            for (int lane = 0; lane < 32; lane++) addr[lane] = a_ldm<BN, E, DB, NW>(wm, i, kk, lane);
            in_stage<BN, E, DB>(addr);
            for (int ph = 0; ph < 4; ph++) g_banks_ok = g_banks_ok && emu_phase_conflict_free(addr, ph, E);
            emu_ldmatrix_x4(S.data(), addr, false, a[i]);
        }
        for (int jj = 0; jj < T::NJ / 2; jj++) {
            for (int lane = 0; lane < 32; lane++) addr[lane] = b_ldm<BN, E, DB, NW>(wn, jj, kk, lane);
            in_stage<BN, E, DB>(addr);
            for (int ph = 0; ph < 4; ph++) g_banks_ok = g_banks_ok && emu_phase_conflict_free(addr, ph, E);
            emu_ldmatrix_x4(S.data(), addr, false, r);
            emu_b_pair(r, jj, b);
        }
        for (int i = 0; i < T::MI; i++)
            for (int j = 0; j < T::NJ; j++) emu_mma16(a[i], b[j], acc[i][j]);
    } else {
        static float a[4][32][4], b[8][32][2], r[32][4];
        for (int i = 0; i < T::MI; i++) {
            for (int lane = 0; lane < 32; lane++) addr[lane] = a_ldm<BN, E, DB, NW>(wm, i, kk, lane);
            in_stage<BN, E, DB>(addr);
            for (int ph = 0; ph < 4; ph++) g_banks_ok = g_banks_ok && emu_phase_conflict_free(addr, ph, E);
            emu_ldmatrix_x4_b32(S.data(), addr, a[i]);
        }
        for (int jj = 0; jj < T::NJ / 2; jj++) {
            for (int lane = 0; lane < 32; lane++) addr[lane] = b_ldm<BN, E, DB, NW>(wn, jj, kk, lane);
            in_stage<BN, E, DB>(addr);
            for (int ph = 0; ph < 4; ph++) g_banks_ok = g_banks_ok && emu_phase_conflict_free(addr, ph, E);
            emu_ldmatrix_x4_b32(S.data(), addr, r);
            emu_b_pair_b32(r, jj, b);
        }
        for (int i = 0; i < T::MI; i++)
            for (int j = 0; j < T::NJ; j++) emu_mma_tf32(a[i], b[j], acc[i][j]);
    }
}

// one block (bx, by) of the kernel; writes its outputs into y (floats, rounded as the kernel's
// stores round) and counts them in hits
template <int BN, int E, int DB, int NW>
void run_block(const Geo &g, int bx, int by, const Case &cs, const std::vector<float> &x, const std::vector<float> &w,
               const std::vector<float> &bias, const std::vector<float> &res, const std::vector<float> &scale,
               std::vector<float> &y, std::vector<int> &hits) {
    using T = Tile<BN, E, DB, NW>;
    using K = Elem<E, DB>;
    const int m0 = bx * BM, n0 = by * BN, nk = (g.Kd + K::BK - 1) / K::BK, CH = K::CH;
    const bool taps_inner = cs.taps && taps_inner_fits<E, DB>(g); // as the kernel's launch decides
    static float acc[8][4][8][32][4]; // [warp][i][j][lane][r]
    memset(acc, 0, sizeof acc);
    std::vector<float> S(T::STAGE);
    for (int kt = 0; kt < nk; kt++) {
        for (float &v : S) v = NAN;
        for (int t = 0; t < T::THREADS; t++) { // issue(kt) of every thread
            const int ch = chunk_of<DB>(t), d = stage_depth<E, DB>(g, kt, t, taps_inner);
            const Tap e = tap_of(g, d);
            for (int q = 0; q < T::A_COPIES; q++) {
                const Pix px = pix_of(g, m0 + a_row<DB, NW>(t, q));
                const int64_t src = a_src(g, px, e);
                const int dst = a_dst<E, DB>(a_row<DB, NW>(t, q), ch);
                g_in_stage = g_in_stage && dst + CH <= T::STAGE && dst % K::LDK + CH <= K::BK;
                g_aligned = g_aligned && dst * E % 16 == 0 && (src < 0 || src * E % 16 == 0);
                g_inside = g_inside && src + CH <= (int64_t)x.size();
                for (int u = 0; u < CH; u++) S[dst + u] = src < 0 ? 0.0f : x[src + u];
            }
            for (int q = 0; q < T::B_COPIES; q++) {
                const int64_t src = b_src(g, n0 + b_row<DB, NW>(t, q), d);
                const int dst = b_dst<E, DB>(b_row<DB, NW>(t, q), ch);
                g_in_stage = g_in_stage && dst + CH <= T::STAGE && dst % K::LDK + CH <= K::BK;
                g_aligned = g_aligned && dst * E % 16 == 0 && (src < 0 || src * E % 16 == 0);
                g_inside = g_inside && src + CH <= (int64_t)w.size();
                for (int u = 0; u < CH; u++) S[dst + u] = src < 0 ? 0.0f : w[src + u];
            }
        }
        for (int warp = 0; warp < NW; warp++)
            for (int kk = 0; kk < K::BK; kk += K::KSTEP)
                warp_step<BN, E, DB, NW>(S, warp / T::WN, warp % T::WN, kk, acc[warp]);
    }
    // the epilogue, 1: every warp's accumulator pairs into the staged float32 tile
    std::vector<float> O((size_t)BM * out_lds<BN>(), NAN);
    std::vector<int> staged(O.size(), 0);
    for (int warp = 0; warp < NW; warp++) {
        const int wm = warp / T::WN, wn = warp % T::WN;
        for (int i = 0; i < T::MI; i++)
            for (int j = 0; j < T::NJ; j++)
                for (int h = 0; h < 2; h++) {
                    // one float2 store of the warp: each half-warp's 16 lanes must cover the 32 banks
                    for (int half = 0; half < 2; half++) {
                        unsigned banks = 0;
                        for (int lane = 16 * half; lane < 16 * half + 16; lane++) {
                            const int off = stage_off<BN>(c_row<BN, NW>(wm, i, lane, 2 * h), c_col<BN, NW>(wn, j, lane, 0));
                            banks |= 1u << (off % 32) | 1u << ((off + 1) % 32);
                        }
                        g_banks_ok = g_banks_ok && banks == 0xffffffffu;
                    }
                    for (int lane = 0; lane < 32; lane++) {
                        const int off = stage_off<BN>(c_row<BN, NW>(wm, i, lane, 2 * h), c_col<BN, NW>(wn, j, lane, 0));
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
    if (cs.nchw) { // 2': one channel plane per warp and step, 32 consecutive pixels per store
        const int HWo = g.Ho * g.Wo;
        for (int warp = 0; warp < NW; warp++)
            for (int i = 0; i < BN / NW; i++) {
                const int col = nchw_col<NW>(warp, i), n = n0 + col;
                if (n >= g.K) break;
                for (int j = 0; j < BM / 32; j++)
                    for (int lane = 0; lane < 32; lane++) {
                        const int row = nchw_row(lane, j), m = m0 + row;
                        if (m >= g.M) continue;
                        const int b = m / HWo, pix = m - b * HWo;
                        float v = O[stage_off<BN>(row, col)] * scale[(size_t)b * g.K + n];
                        if (cs.bias) v += bias[n];
                        if (cs.p.relu) v = fmaxf(v, 0.0f);
                        const size_t off = ((size_t)b * g.K + n) * HWo + pix;
                        y[off] = v;
                        hits[off]++;
                    }
            }
        return;
    }
    // 2: 8 channels of one pixel per thread and pass
    for (int t = 0; t < T::THREADS; t++) {
        const int col = out_col<BN, NW>(t), n = n0 + col;
        if (n >= g.K) continue;
        for (int pass = 0; pass < Out<BN, NW>::PASSES; pass++) {
            const int row = out_row<BN, NW>(t, pass), m = m0 + row;
            if (m >= g.M) continue;
            g_aligned = g_aligned && stage_off<BN>(row, col) % 4 == 0; // float4
            for (int e = 0; e < 8; e++) {
                float v = O[stage_off<BN>(row, col) + e];
                if (cs.bias) v += bias[n + e];
                const size_t off = (size_t)m * g.K + n + e;
                if (cs.res) v += res[off];
                if (cs.p.relu) v = fmaxf(v, 0.0f);
                y[off] = cs.prec == LIS_PREC_TF32 ? v : lis_from16(lis_to16(v, cs.prec), cs.prec);
                hits[off]++;
            }
        }
    }
}

// one block's inputs and outputs, for the dispatch over the kernel's template parameters
struct Block {
    const Geo &g;
    int bx, by;
    const Case &cs;
    const std::vector<float> &x, &w, &bias, &res, &scale;
    std::vector<float> &y;
    std::vector<int> &hits;
};
template <int BN, int NW> void run_block_db(const Block &b, bool tf32) {
    if (b.cs.db == 128) {
        if (tf32) run_block<BN, 4, 128, NW>(b.g, b.bx, b.by, b.cs, b.x, b.w, b.bias, b.res, b.scale, b.y, b.hits);
        else run_block<BN, 2, 128, NW>(b.g, b.bx, b.by, b.cs, b.x, b.w, b.bias, b.res, b.scale, b.y, b.hits);
    } else if (tf32) run_block<BN, 4, 64, NW>(b.g, b.bx, b.by, b.cs, b.x, b.w, b.bias, b.res, b.scale, b.y, b.hits);
    else run_block<BN, 2, 64, NW>(b.g, b.bx, b.by, b.cs, b.x, b.w, b.bias, b.res, b.scale, b.y, b.hits);
}
template <int NW> void run_block_bn(const Block &b, bool tf32) {
    if (b.cs.bn == 128) run_block_db<128, NW>(b, tf32);
    else run_block_db<64, NW>(b, tf32);
}

unsigned g_seed = 11;
float small_int(int lo, int hi) { // lo .. hi
    g_seed = g_seed * 1664525u + 1013904223u;
    return (float)(lo + (int)((g_seed >> 8) % (unsigned)(hi - lo + 1)));
}

// n random small integers stored in the precision's element type (t) and read back as floats (f)
void fill(std::vector<unsigned char> &t, std::vector<float> &f, size_t n, int lo, int hi, lis_precision prec) {
    t.assign(n * lis_nhwc_elem_size(prec) + 16, 0);
    f.resize(n);
    for (size_t i = 0; i < n; i++) {
        lis_nhwc_set(t.data(), i, small_int(lo, hi), prec);
        f[i] = lis_nhwc_get(t.data(), i, prec);
    }
}

// whether the kernel's launch takes the taps-inner order for this case (taps_inner_fits)
bool taps_applies(const Case &cs, const Geo &g) {
    if (!cs.taps) return false;
    const bool tf32 = cs.prec == LIS_PREC_TF32;
    if (cs.db == 128) return tf32 ? taps_inner_fits<4, 128>(g) : taps_inner_fits<2, 128>(g);
    return tf32 ? taps_inner_fits<4, 64>(g) : taps_inner_fits<2, 64>(g);
}

void run_case(const Case &cs) {
    const lis_nhwc_conv_params &p = cs.p;
    if ((cs.nchw ? lis_nhwc_conv_check_nchw_out(&p, cs.prec) : lis_nhwc_conv_check(&p, cs.prec)) != LIS_OK) {
        lis_check(0, "nhwc conv emu: case parameters valid: %s", lis_err_msg());
        return;
    }
    Geo g;
    g.N = p.N; g.H = p.H; g.W = p.W; g.C = p.C; g.K = p.K; g.R = p.R; g.S = p.S; g.stride = p.stride; g.pad = p.pad;
    lis_nhwc_conv_out_shape(&p, &g.Ho, &g.Wo);
    g.M = p.N * g.Ho * g.Wo;
    g.Kd = p.R * p.S * p.C;
    const size_t nx = (size_t)p.N * p.H * p.W * p.C, nw = (size_t)p.K * g.Kd, ny = (size_t)g.M * p.K;
    std::vector<unsigned char> xt, wt, rt, yt(ny * lis_nhwc_elem_size(cs.prec) + 16);
    std::vector<float> x, w, res, bias(p.K), y(ny, NAN), scale((size_t)p.N * p.K), want(ny);
    fill(xt, x, nx, -4, 4, cs.prec);
    fill(wt, w, nw, -3, 3, cs.prec);
    fill(rt, res, ny, -30, 30, cs.prec);
    for (int k = 0; k < p.K; k++) bias[k] = small_int(-20, 20);
    for (float &v : scale) v = small_int(-3, 3);
    if (cs.nchw) { // the sums in float (exact: small integers), then scale, bias and ReLU, NCHW
        std::vector<float> acc(ny);
        lis_nhwc_conv_params sums = p;
        sums.relu = 0; // applied after the scale
        if (lis_nhwc_conv_ref(&sums, LIS_PREC_TF32, x.data(), w.data(), NULL, NULL, acc.data()) != LIS_OK) {
            lis_check(0, "nhwc conv emu: reference: %s", lis_err_msg());
            return;
        }
        const int HWo = g.Ho * g.Wo;
        for (int m = 0; m < g.M; m++)
            for (int k = 0; k < p.K; k++) {
                const int b = m / HWo;
                float v = acc[(size_t)m * p.K + k] * scale[(size_t)b * p.K + k];
                if (cs.bias) v += bias[k];
                if (p.relu) v = fmaxf(v, 0.0f);
                want[((size_t)b * p.K + k) * HWo + (m - b * HWo)] = v;
            }
    } else {
        if (lis_nhwc_conv_ref(&p, cs.prec, xt.data(), wt.data(), cs.bias ? bias.data() : NULL,
                              cs.res ? rt.data() : NULL, yt.data()) != LIS_OK) {
            lis_check(0, "nhwc conv emu: reference: %s", lis_err_msg());
            return;
        }
        for (size_t i = 0; i < ny; i++) want[i] = lis_nhwc_get(yt.data(), i, cs.prec);
    }
    std::vector<int> hits(ny, 0);
    const int gx = (g.M + BM - 1) / BM, gy = (g.K + cs.bn - 1) / cs.bn;
    const bool tf32 = cs.prec == LIS_PREC_TF32;
    for (int by = 0; by < gy; by++)
        for (int bx = 0; bx < gx; bx++) {
            const Block blk = {g, bx, by, cs, x, w, bias, res, scale, y, hits};
            if (cs.nw == 4) run_block_bn<4>(blk, tf32);
            else run_block_bn<8>(blk, tf32);
        }
    const bool taps = taps_applies(cs, g);
    g_taps_inner_runs += taps;
    size_t missed = 0, wrong = 0;
    for (size_t i = 0; i < ny; i++) {
        if (hits[i] != 1) missed++;
        else if (y[i] != want[i]) wrong++;
    }
    lis_check(missed == 0 && wrong == 0,
              "nhwc conv emu %s BN %d%s%s%s: N%d %dx%dx%d -> K%d, %dx%d/%d pad %d%s%s%s%s: every output written once (%zu "
              "not), equal to the reference (%zu of %zu differ)",
              lis_precision_name(cs.prec), cs.bn, cs.db == 128 ? " deep" : "", cs.nw == 4 ? " 4 warps" : "", taps ? " taps inner" : "", p.N, p.H, p.W, p.C, p.K, p.R, p.S, p.stride, p.pad,
              cs.bias ? " +bias" : "", cs.res ? " +res" : "", p.relu ? " relu" : "", cs.nchw ? ", NCHW float out" : "",
              missed, wrong, ny);
}

} // namespace

int main(void) {
    const lis_precision precs[] = {LIS_PREC_BF16, LIS_PREC_FP16, LIS_PREC_TF32};
    for (lis_precision pr : precs) {
        const Case cases[] = {
            // {N, H, W, C, K, R, S, stride, pad, relu}, BN, precision, bias, residual
            {{2, 9, 9, 16, 24, 3, 3, 1, 1, 1}, 64, pr, true, false, false},    // 3x3, partial blocks
            {{2, 9, 9, 16, 24, 3, 3, 1, 1, 0}, 128, pr, true, true, false},    // the wide block, residual
            {{1, 11, 10, 32, 200, 3, 3, 2, 1, 1}, 64, pr, true, false, false}, // stride 2, 4 channel blocks
            {{3, 7, 7, 40, 136, 1, 1, 1, 0, 1}, 128, pr, true, true, false},   // 1x1 (depth 40: a partial tile)
            {{2, 8, 8, 24, 64, 1, 1, 2, 0, 0}, 64, pr, false, false, false},   // 1x1 stride 2 (downsample)
            {{1, 14, 13, 8, 64, 7, 7, 2, 3, 0}, 64, pr, true, false, false},   // the stem: 7x7/2, C = 8
            {{1, 4, 4, 8, 16, 3, 3, 1, 2, 1}, 128, pr, true, true, false},     // padding past the kernel's reach
            // the NCHW float32 output (the modulated convolution's): any K, scales, bias
            {{2, 9, 9, 16, 20, 3, 3, 1, 2, 0}, 64, pr, true, false, true},
            {{1, 7, 7, 24, 131, 3, 3, 1, 1, 1}, 128, pr, false, false, true},
        };
        for (const Case &c : cases) run_case(c);
        for (Case c : cases) { // the same with 128-byte stages (LIS_NHWC_CONV_DEEP)
            c.db = 128;
            run_case(c);
        }
        for (Case c : cases) { // with 4 warps (LIS_NHWC_CONV_WARPS=4), 64- and 128-byte stages
            c.nw = 4;
            run_case(c);
            c.db = 128;
            run_case(c);
        }
        // the taps inside the channel chunks (LIS_NHWC_CONV_TAPS_INNER=1): where C is a multiple
        // of a stage's depth (16 / 32 channels in tf32, 32 / 64 in 16 bits), every stage width
        // and warp count; elsewhere the kernel keeps channels fastest, which these cases run too
        const Case taps_cases[] = {
            {{2, 9, 9, 64, 24, 3, 3, 1, 1, 1}, 64, pr, true, false, false},
            {{1, 11, 10, 128, 136, 3, 3, 2, 1, 0}, 128, pr, true, true, false}, // stride 2, residual
            {{1, 6, 7, 64, 40, 5, 5, 1, 2, 1}, 64, pr, false, false, false},     // 5x5
            {{2, 9, 9, 64, 20, 3, 3, 1, 1, 0}, 64, pr, true, false, true},      // NCHW float out
        };
        const int widths[][2] = {{64, 8}, {128, 8}, {64, 4}, {128, 4}}; // {db, nw}
        for (const auto &wd : widths) {
            for (Case c : taps_cases) {
                c.taps = true; c.db = wd[0]; c.nw = wd[1];
                run_case(c);
            }
            for (Case c : cases) {
                c.taps = true; c.db = wd[0]; c.nw = wd[1];
                run_case(c);
            }
        }
    }
    // the tf32 stem: 4-byte elements need only C % 4 (the network pads its 3 channels to 4, not 8)
    run_case({{1, 14, 13, 4, 64, 7, 7, 2, 3, 0}, 64, LIS_PREC_TF32, true, false, false});
    run_case({{1, 14, 13, 4, 64, 7, 7, 2, 3, 0}, 64, LIS_PREC_TF32, true, false, false, 128});
    run_case({{1, 14, 13, 4, 64, 7, 7, 2, 3, 0}, 64, LIS_PREC_TF32, true, false, false, 64, 4});
    lis_check(g_taps_inner_runs >= 3 * 4 * 4, "nhwc conv emu: the taps-inner order ran (%d cases)", g_taps_inner_runs);
    lis_check(g_aligned, "nhwc conv emu: every 16-byte copy aligned in global and shared memory");
    lis_check(g_staged_once, "nhwc conv emu: the epilogue stages every accumulator of the block exactly once");
    lis_check(g_inside, "nhwc conv emu: every copy reads inside the input and weight tensors");
    lis_check(g_in_stage, "nhwc conv emu: every copy and every ldmatrix row inside its stage and its row's depth "
                          "(never the padding)");
    lis_check(g_banks_ok, "nhwc conv emu: every ldmatrix phase hits 8 distinct 16-byte bank groups, every staged "
                          "float2 store of a half-warp the 32 banks");
    return lis_test_finish();
}
