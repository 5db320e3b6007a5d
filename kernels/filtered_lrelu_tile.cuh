// filtered_lrelu_tile.cuh — the per-block work of filtered_lrelu v3 (kernels/filtered_lrelu.cu),
// written as __host__ __device__ passes over (thread, thread count) so that the same code runs
// in the kernel (passes separated by __syncthreads) and in a host emulation that loops over
// the threads of a block pass by pass (how its index math was checked without a GPU).
//
// Why v3: v2 evaluates every tap of every pass with a run-time polyphase loop; each tap costs
// a floor division by the run-time `up` and each element a division by the tile width, so
// on the H200 (2026-11-27) it ran at ~50-60 "GB/s", ~1/3 of the generator's high-resolution
// layers. v3 fixes up, down and the tap counts at compile time (the generator uses
// up 2 / down 2 / 12 taps and up 4 / down 2 / 24-12 taps) and gives each thread a strip of
// R outputs: the inputs of a strip are read once into registers and reused by every tap.
//
// Coordinates as in filtered_lrelu.cu. Along x (y alike), with c0 = ox0*down - x0 =
// up*a0 + b0 (0 <= b0 < up): the 2x-rate sample u = g*up + r of the tile (r < up) is
//   Hu[u] = sum_{k < KU} fu[p_r + k*up] * X[g + o_r + k]
// where X[j] is input column a0 + j, p_r = (-(b0 + r)) mod up and o_r = (b0 + r + p_r)/up
// (0, 1 or 2). Folding o_r into a filter of KE = KU + 2 taps, fe[r][j] = fu[p_r + (j-o_r)*up]
// (0 outside), gives Hu[g*up + r] = sum_{j < KE} fe[r][j] * X[g + j]: static indices only.
#ifndef LIS_FILTERED_LRELU_TILE_CUH
#define LIS_FILTERED_LRELU_TILE_CUH

#include <stdint.h>

#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/filtered_lrelu.h"
}

// the passes also compile for the host (emulation), where gcc would warn about the pragma
#ifdef __CUDA_ARCH__
#define LIS_FL_UNROLL _Pragma("unroll")
#else
#define LIS_FL_UNROLL
#endif

namespace lis_fl {

struct FlArgs {
    const float *x;
    int64_t x_row, x_plane;
    const float *xscale, *b;
    float *y;
    int C, H, W, Ho, Wo, up, down, tu, td, x0, y0;
    float gain, slope, clamp;
    float fu[32], fd[32]; // flipped and scaled taps
};

__host__ __device__ __forceinline__ float act(const FlArgs &a, float v) {
    v = v < 0.0f ? v * a.slope : v;
    v *= a.gain;
    if (a.clamp >= 0.0f) v = v < -a.clamp ? -a.clamp : (v > a.clamp ? a.clamp : v);
    return v;
}

// the kernels' arguments: flipped filters, the up filter scaled by up per 1-D pass
inline lis_status make_args(FlArgs *a, const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                     const float *xscale, const float *b, float *y, int C, int H, int W) {
    if (p->tu < 1 || p->td < 1 || p->tu > 32 || p->td > 32 || p->up < 1 || p->down < 1)
        return lis_err_set("filtered_lrelu (CUDA): filters of %d / %d taps, up %d, down %d (1..32 taps supported)", p->tu,
                           p->td, p->up, p->down);
    memset(a, 0, sizeof *a);
    a->x = x; a->x_row = x_row; a->x_plane = x_plane; a->xscale = xscale; a->b = b; a->y = y;
    a->C = C; a->H = H; a->W = W;
    lis_flrelu_out_shape(p, H, W, &a->Ho, &a->Wo);
    if (a->Ho < 1 || a->Wo < 1) return lis_err_set("filtered_lrelu (CUDA): empty output for a %dx%d input", H, W);
    a->up = p->up; a->down = p->down; a->tu = p->tu; a->td = p->td; a->x0 = p->pad[0]; a->y0 = p->pad[2];
    a->gain = p->gain; a->slope = p->slope; a->clamp = p->clamp;
    // flipped filters; the up filter carries sqrt(up^2) = up per 1-D pass (no filter: [[1]] * up^2)
    for (int t = 0; t < p->tu; t++) a->fu[t] = p->fu ? p->fu[p->tu - 1 - t] * (float)p->up : (float)p->up;
    for (int t = 0; t < p->td; t++) a->fd[t] = p->fd ? p->fd[p->td - 1 - t] : 1.0f;
    return LIS_OK;
}

namespace v3 {

constexpr int R = 4; // outputs per thread and pass

// run-time tile geometry (uniform over the launch; see make_geo in filtered_lrelu.cu)
struct Geo {
    int TH, TW;      // outputs per tile (TW, TH multiples of R)
    int G, Gy;       // groups of `up` 2x-rate columns / rows per tile (multiples of R)
    int IW, IH;      // input window: G + KE - 1 columns, Gy + KE - 1 rows
    int UW, UH;      // 2x-rate samples per tile: G*up, Gy*up
    int Xp, Hp;      // odd row pitches of X, and of Hu and D (threads of a warp walk different rows)
    int HD;          // floats of the region Hu and then D use: max(IH, TH) * Hp
    int tiles_x, tiles_y;
    int smem_floats; // layout below
};

template <int UP, int DOWN, int TU, int TD>
struct Cfg {
    static constexpr int KU = (TU + UP - 1) / UP; // taps per phase
    static constexpr int KE = KU + 2;             // with the phase offset folded in
    static constexpr int NF = 2 * UP * KE + TD;   // fx, fy, fd
};

// shared memory: fx[UP][KE] fy[UP][KE] fd[TD] | X[IH][Xp] | Hu[IH][Hp], later D[TH][Hp] (HD floats) | U[UH][UW]
template <int UP, int DOWN, int TU, int TD>
struct Smem {
    float *fx, *fy, *fd, *X, *Hu, *D, *U;
    __host__ __device__ Smem(float *s, const Geo &g) {
        fx = s;
        fy = fx + UP * Cfg<UP, DOWN, TU, TD>::KE;
        fd = fy + UP * Cfg<UP, DOWN, TU, TD>::KE;
        X = s + Cfg<UP, DOWN, TU, TD>::NF;
        Hu = X + g.IH * g.Xp;
        D = Hu;
        U = Hu + g.HD;
    }
};

struct Block {
    int64_t plane;
    int oy0, ox0;  // first output of the tile
    int a0x, b0x;  // c0x = ox0*down - x0 = up*a0x + b0x
    int a0y, b0y;
};

__host__ __device__ inline Block block_of(const FlArgs &a, const Geo &g, int64_t bid) {
    Block k;
    const int ntile = g.tiles_x * g.tiles_y;
    k.plane = bid / ntile;
    const int tile = (int)(bid - k.plane * ntile), tyi = tile / g.tiles_x, txi = tile - tyi * g.tiles_x;
    k.oy0 = tyi * g.TH;
    k.ox0 = txi * g.TW;
    const int cx = k.ox0 * a.down - a.x0, cy = k.oy0 * a.down - a.y0;
    k.a0x = lis_fdiv(cx, a.up);
    k.b0x = cx - k.a0x * a.up;
    k.a0y = lis_fdiv(cy, a.up);
    k.b0y = cy - k.a0y * a.up;
    return k;
}

// the phase filters fe[r][j] of one axis (b0 as above), and fd
template <int UP, int DOWN, int TU, int TD>
__host__ __device__ inline void stage_filters(const FlArgs &a, const Block &k, const Smem<UP, DOWN, TU, TD> &m, int t,
                                              int nt) {
    constexpr int KE = Cfg<UP, DOWN, TU, TD>::KE;
    for (int e = t; e < 2 * UP * KE + TD; e += nt) {
        if (e >= 2 * UP * KE) {
            m.fd[e - 2 * UP * KE] = a.fd[e - 2 * UP * KE];
            continue;
        }
        const int axis = e / (UP * KE), r = (e / KE) % UP, j = e % KE;
        const int b0 = axis ? k.b0y : k.b0x;
        const int p = (UP - (b0 + r) % UP) % UP, o = (b0 + r + p) / UP, kk = j - o, tt = p + kk * UP;
        (axis ? m.fy : m.fx)[r * KE + j] = kk >= 0 && tt < TU ? a.fu[tt] : 0.0f;
    }
}

// 1. the input window, bias and scale applied; zeros outside the input
template <int UP, int DOWN, int TU, int TD>
__host__ __device__ inline void stage_input(const FlArgs &a, const Geo &g, const Block &k,
                                            const Smem<UP, DOWN, TU, TD> &m, int t, int nt) {
    const float *xp = a.x + k.plane * a.x_plane;
    const float sc = a.xscale ? a.xscale[k.plane] : 1.0f, bias = a.b ? a.b[k.plane % a.C] : 0.0f;
    for (int i = t / 32; i < g.IH; i += nt / 32) { // a warp per row: coalesced reads
        const int iy = k.a0y + i;
        const bool row_in = iy >= 0 && iy < a.H;
        for (int j = t % 32; j < g.IW; j += 32) {
            const int ix = k.a0x + j;
            float v = 0.0f;
            if (row_in && ix >= 0 && ix < a.W) {
                v = xp[(int64_t)iy * a.x_row + ix];
                v = a.xscale ? v * sc + bias : v + bias;
            }
            m.X[i * g.Xp + j] = v;
        }
    }
}

// one up-filter pass over a strip (passes 2 and 3): v holds R + KE - 1 consecutive samples
// along the pass, out[q*UP + r] the 2x-rate samples of group q, phase r
template <int UP, int KE>
__host__ __device__ __forceinline__ void up_strip(const float (&f)[UP][KE], const float (&v)[R + KE - 1],
                                                  float (&out)[R * UP]) {
LIS_FL_UNROLL
    for (int q = 0; q < R; q++)
LIS_FL_UNROLL
        for (int r = 0; r < UP; r++) {
            float acc = 0.0f;
LIS_FL_UNROLL
            for (int j = 0; j < KE; j++) acc += f[r][j] * v[q + j];
            out[q * UP + r] = acc;
        }
}

template <int UP, int KE>
__host__ __device__ __forceinline__ void load_phase_filters(const float *src, float (&f)[UP][KE]) {
    for (int r = 0; r < UP; r++)
        for (int j = 0; j < KE; j++) f[r][j] = src[r * KE + j];
}

// 2. horizontal up-filter: a thread takes a row and R groups of UP columns
template <int UP, int DOWN, int TU, int TD>
__host__ __device__ inline void pass_up_x(const Geo &g, const Smem<UP, DOWN, TU, TD> &m, int t, int nt) {
    constexpr int KE = Cfg<UP, DOWN, TU, TD>::KE;
    float f[UP][KE], v[R + KE - 1], out[R * UP];
    load_phase_filters(m.fx, f);
    const int items = g.IH * (g.G / R);
    for (int e = t; e < items; e += nt) {
        const int i = e % g.IH, g0 = (e / g.IH) * R;
        const float *xr = m.X + i * g.Xp + g0;
LIS_FL_UNROLL
        for (int j = 0; j < R + KE - 1; j++) v[j] = xr[j];
        up_strip(f, v, out);
        float *hr = m.Hu + i * g.Hp + g0 * UP;
LIS_FL_UNROLL
        for (int o = 0; o < R * UP; o++) hr[o] = out[o];
    }
}

// 3. vertical up-filter and the activation: a thread takes a 2x-rate column and R groups of UP rows
template <int UP, int DOWN, int TU, int TD>
__host__ __device__ inline void pass_up_y(const FlArgs &a, const Geo &g, const Smem<UP, DOWN, TU, TD> &m, int t,
                                          int nt) {
    constexpr int KE = Cfg<UP, DOWN, TU, TD>::KE;
    float f[UP][KE], v[R + KE - 1], out[R * UP];
    load_phase_filters(m.fy, f);
    const int items = g.UW * (g.Gy / R);
    for (int e = t; e < items; e += nt) {
        const int u = e % g.UW, h0 = (e / g.UW) * R;
        const float *hc = m.Hu + h0 * g.Hp + u;
LIS_FL_UNROLL
        for (int j = 0; j < R + KE - 1; j++) v[j] = hc[j * g.Hp];
        up_strip(f, v, out);
        float *uc = m.U + (h0 * UP) * g.UW + u;
LIS_FL_UNROLL
        for (int o = 0; o < R * UP; o++) uc[o * g.UW] = act(a, out[o]);
    }
}

// 4. vertical down-filter: a thread takes a 2x-rate column and R output rows
template <int UP, int DOWN, int TU, int TD>
__host__ __device__ inline void pass_down_y(const Geo &g, const Smem<UP, DOWN, TU, TD> &m, int t, int nt) {
    constexpr int NV = (R - 1) * DOWN + TD;
    float f[TD];
    for (int j = 0; j < TD; j++) f[j] = m.fd[j];
    const int items = g.UW * (g.TH / R);
    for (int e = t; e < items; e += nt) {
        const int u = e % g.UW, r0 = (e / g.UW) * R;
        const float *uc = m.U + (r0 * DOWN) * g.UW + u;
        float v[NV];
LIS_FL_UNROLL
        for (int j = 0; j < NV; j++) v[j] = uc[j * g.UW];
LIS_FL_UNROLL
        for (int q = 0; q < R; q++) {
            float acc = 0.0f;
LIS_FL_UNROLL
            for (int j = 0; j < TD; j++) acc += f[j] * v[q * DOWN + j];
            m.D[(r0 + q) * g.Hp + u] = acc;
        }
    }
}

// 5. horizontal down-filter and the store: a thread takes an output row and R columns
template <int UP, int DOWN, int TU, int TD>
__host__ __device__ inline void pass_down_x(const FlArgs &a, const Geo &g, const Block &k,
                                            const Smem<UP, DOWN, TU, TD> &m, int t, int nt) {
    constexpr int NV = (R - 1) * DOWN + TD;
    float f[TD];
    for (int j = 0; j < TD; j++) f[j] = m.fd[j];
    float *yp = a.y + k.plane * a.Ho * a.Wo;
    const int items = g.TH * (g.TW / R);
    for (int e = t; e < items; e += nt) {
        const int rr = e % g.TH, c0 = (e / g.TH) * R, oy = k.oy0 + rr;
        if (oy >= a.Ho) continue;
        const float *dr = m.D + rr * g.Hp + c0 * DOWN;
        float v[NV];
LIS_FL_UNROLL
        for (int j = 0; j < NV; j++) v[j] = dr[j];
LIS_FL_UNROLL
        for (int q = 0; q < R; q++) {
            float acc = 0.0f;
LIS_FL_UNROLL
            for (int j = 0; j < TD; j++) acc += f[j] * v[q * DOWN + j];
            const int ox = k.ox0 + c0 + q;
            if (ox < a.Wo) yp[(int64_t)oy * a.Wo + ox] = acc;
        }
    }
}

inline int round_up(int v, int m) { return (v + m - 1) / m * m; }

// tiles of about target x target outputs, balanced over the output and rounded up to R
template <int UP, int DOWN, int TU, int TD>
inline Geo make_geo(const FlArgs &a, int target) {
    constexpr int KE = Cfg<UP, DOWN, TU, TD>::KE;
    Geo g;
    g.tiles_x = (int)lis_ceil_div(a.Wo, target);
    g.tiles_y = (int)lis_ceil_div(a.Ho, target);
    g.TW = round_up((int)lis_ceil_div(a.Wo, g.tiles_x), R);
    g.TH = round_up((int)lis_ceil_div(a.Ho, g.tiles_y), R);
    g.G = round_up((int)lis_ceil_div((g.TW - 1) * DOWN + TD, UP), R);
    g.Gy = round_up((int)lis_ceil_div((g.TH - 1) * DOWN + TD, UP), R);
    g.IW = g.G + KE - 1;
    g.IH = g.Gy + KE - 1;
    g.UW = g.G * UP;
    g.UH = g.Gy * UP;
    g.Xp = g.IW | 1;
    g.Hp = g.UW | 1;
    g.HD = (g.IH > g.TH ? g.IH : g.TH) * g.Hp; // up 4: D is the larger
    g.smem_floats = Cfg<UP, DOWN, TU, TD>::NF + g.IH * g.Xp + g.HD + g.UH * g.UW;
    return g;
}

} // namespace v3
} // namespace lis_fl

#endif
