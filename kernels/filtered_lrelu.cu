// filtered_lrelu.cu — fused filtered leaky ReLU on the GPU (see filtered_lrelu_cuda.h).
//
// Variants (table at the end):
//   v1  one thread per output from the definition (no shared memory, every tap)
//   v2  one block per (plane, TH x TW output tile), all four passes in shared memory
//
// Coordinates (per plane; x-axis shown, y-axis alike). The zero-stuffed, padded input z
// has z[m] = xb[(m - x0) / up] when (m - x0) is a multiple of up inside [0, W*up), else 0,
// where xb = x * xscale + b. The up-filtered 2x-rate signal is U[u] = act(sum_t fu[t] z[u+t])
// (fu = flipped filter * up per 1-D pass; act = lrelu * gain, clamp), and the output
// y[o] = sum_t fd[t] U[o*down + t] (fd = flipped down filter). A tile of outputs
// o0 .. o0+TW-1 needs U[u_lo .. u_lo+UW-1] with u_lo = o0*down, UW = (TW-1)*down + td, which
// needs input columns q_lo = floor((u_lo - x0)/up) .. q_lo + IW - 1 with
// IW = (UW + tu - 2)/up + 2 (enough for every tile alignment). Pass order as the CPU fast
// path: horizontal up, vertical up + activation, vertical down, horizontal down (the
// reference does each filter horizontal-first; the passes commute in real arithmetic).
#include "runtime/cuda_common.cuh"
#include "kernels/filtered_lrelu_tile.cuh"

extern "C" {
#include "kernels/filtered_lrelu_cuda.h"
}

namespace {

using lis_fl::FlArgs;
using lis_fl::act;
using lis_fl::make_args;

// ---------------------------------------------------------------- v1

// xb at padded, stuffed coordinates (my, mx), 0 where z is a stuffed or padding zero.
__device__ __forceinline__ float z_at(const FlArgs &a, const float *xp, float sc, float bias, int my, int mx) {
    int qy = my - a.y0, qx = mx - a.x0;
    if (qy < 0 || qx < 0 || qy >= a.H * a.up || qx >= a.W * a.up || qy % a.up || qx % a.up) return 0.0f;
    float v = xp[(int64_t)(qy / a.up) * a.x_row + qx / a.up];
    return a.xscale ? v * sc + bias : v + bias;
}

__global__ void flrelu_v1_kernel(FlArgs a, int64_t total) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int64_t plane = i / ((int64_t)a.Ho * a.Wo);
    const int rem = (int)(i - plane * a.Ho * a.Wo), oy = rem / a.Wo, ox = rem - oy * a.Wo;
    const float *xp = a.x + plane * a.x_plane;
    const float sc = a.xscale ? a.xscale[plane] : 1.0f, bias = a.b ? a.b[plane % a.C] : 0.0f;
    float out = 0.0f;
    for (int ty = 0; ty < a.td; ty++) {      // vertical down tap: 2x-rate row v
        const int v = oy * a.down + ty;
        float row = 0.0f;
        for (int tx = 0; tx < a.td; tx++) {  // horizontal down tap: 2x-rate column u
            const int u = ox * a.down + tx;
            float up = 0.0f;
            for (int t1 = 0; t1 < a.tu; t1++) {      // vertical up tap
                float h = 0.0f;
                for (int t2 = 0; t2 < a.tu; t2++)   // horizontal up tap
                    h += a.fu[t2] * z_at(a, xp, sc, bias, v + t1, u + t2);
                up += a.fu[t1] * h;
            }
            row += a.fd[tx] * act(a, up);
        }
        out += a.fd[ty] * row;
    }
    a.y[i] = out;
}

// ---------------------------------------------------------------- v2

struct Tile {
    int TH, TW;   // outputs per tile
    int UH, UW;   // 2x-rate samples per tile
    int IH, IW;   // input window
    int tiles_x, tiles_y;
};

__global__ __launch_bounds__(256) void flrelu_v2_kernel(FlArgs a, Tile g) {
    extern __shared__ float smem[];
    float *fu = smem, *fd = smem + 32;
    float *X = smem + 64;          // IH x IW    input window, bias and scale applied
    float *Hu = X + g.IH * g.IW;   // IH x UW    horizontally up-filtered rows
    float *U = Hu + g.IH * g.UW;   // UH x UW    activated 2x-rate tile
    float *D = U + g.UH * g.UW;    // TH x UW    vertically down-filtered rows
    const int t = threadIdx.x, nt = blockDim.x;
    const int ntile = g.tiles_x * g.tiles_y;
    const int64_t plane = blockIdx.x / ntile;
    const int tile = (int)(blockIdx.x - plane * ntile), tyi = tile / g.tiles_x, txi = tile - tyi * g.tiles_x;
    const int oy0 = tyi * g.TH, ox0 = txi * g.TW;
    const int u_lo = ox0 * a.down, v_lo = oy0 * a.down;
    const int q_lo = lis_fdiv(u_lo - a.x0, a.up), p_lo = lis_fdiv(v_lo - a.y0, a.up);
    const float *xp = a.x + plane * a.x_plane;
    const float sc = a.xscale ? a.xscale[plane] : 1.0f, bias = a.b ? a.b[plane % a.C] : 0.0f;

    if (t < a.tu) fu[t] = a.fu[t];
    if (t < a.td) fd[t] = a.fd[t];
    // 1. input window (zeros outside the input: padding and the stuffed tail)
    for (int e = t; e < g.IH * g.IW; e += nt) {
        const int i = e / g.IW, j = e - i * g.IW, iy = p_lo + i, ix = q_lo + j;
        float v = 0.0f;
        if (iy >= 0 && iy < a.H && ix >= 0 && ix < a.W) {
            v = xp[(int64_t)iy * a.x_row + ix];
            v = a.xscale ? v * sc + bias : v + bias;
        }
        X[e] = v;
    }
    __syncthreads();
    // 2. horizontal up-filter: only taps t with up | (u_lo + u + t - x0) meet a sample
    for (int e = t; e < g.IH * g.UW; e += nt) {
        const int i = e / g.UW, u = e - i * g.UW;
        const int d0 = u_lo + u - a.x0;
        const float *xr = X + i * g.IW;
        float acc = 0.0f;
        for (int tt = lis_fmod(-d0, a.up); tt < a.tu; tt += a.up) acc += fu[tt] * xr[lis_fdiv(d0 + tt, a.up) - q_lo];
        Hu[e] = acc;
    }
    __syncthreads();
    // 3. vertical up-filter and activation
    for (int e = t; e < g.UH * g.UW; e += nt) {
        const int v = e / g.UW, u = e - v * g.UW;
        const int d0 = v_lo + v - a.y0;
        float acc = 0.0f;
        for (int tt = lis_fmod(-d0, a.up); tt < a.tu; tt += a.up)
            acc += fu[tt] * Hu[(lis_fdiv(d0 + tt, a.up) - p_lo) * g.UW + u];
        U[e] = act(a, acc);
    }
    __syncthreads();
    // 4. vertical down-filter
    for (int e = t; e < g.TH * g.UW; e += nt) {
        const int r = e / g.UW, u = e - r * g.UW;
        const float *src = U + (r * a.down) * g.UW + u;
        float acc = 0.0f;
        for (int tt = 0; tt < a.td; tt++) acc += fd[tt] * src[tt * g.UW];
        D[e] = acc;
    }
    __syncthreads();
    // 5. horizontal down-filter and store
    float *yp = a.y + plane * a.Ho * a.Wo;
    for (int e = t; e < g.TH * g.TW; e += nt) {
        const int r = e / g.TW, c = e - r * g.TW, oy = oy0 + r, ox = ox0 + c;
        if (oy >= a.Ho || ox >= a.Wo) continue;
        const float *src = D + r * g.UW + c * a.down;
        float acc = 0.0f;
        for (int tt = 0; tt < a.td; tt++) acc += fd[tt] * src[tt];
        yp[(int64_t)oy * a.Wo + ox] = acc;
    }
}

size_t tile_floats(const Tile &g) {
    return 64 + (size_t)g.IH * g.IW + (size_t)g.IH * g.UW + (size_t)g.UH * g.UW + (size_t)g.TH * g.UW;
}

Tile make_tile(const FlArgs &a, int target) {
    Tile g;
    g.tiles_x = (int)lis_ceil_div(a.Wo, target);
    g.tiles_y = (int)lis_ceil_div(a.Ho, target);
    g.TW = (int)lis_ceil_div(a.Wo, g.tiles_x); // balanced tiles: 36 -> 2 x 18, 276 -> 9 x 31
    g.TH = (int)lis_ceil_div(a.Ho, g.tiles_y);
    g.UW = (g.TW - 1) * a.down + a.td;
    g.UH = (g.TH - 1) * a.down + a.td;
    g.IW = (g.UW + a.tu - 2) / a.up + 2;
    g.IH = (g.UH + a.tu - 2) / a.up + 2;
    return g;
}

// ---------------------------------------------------------------- v3

// one block per (plane, tile); the passes are in filtered_lrelu_tile.cuh
template <int UP, int DOWN, int TU, int TD>
__global__ __launch_bounds__(256) void flrelu_v3_kernel(FlArgs a, lis_fl::v3::Geo g) {
    using namespace lis_fl::v3;
    extern __shared__ float smem[];
    const Smem<UP, DOWN, TU, TD> m(smem, g);
    const Block k = block_of(a, g, blockIdx.x);
    const int t = threadIdx.x, nt = blockDim.x;
    stage_filters(a, k, m, t, nt);
    stage_input(a, g, k, m, t, nt);
    __syncthreads();
    pass_up_x(g, m, t, nt);
    __syncthreads();
    pass_up_y(a, g, m, t, nt);
    __syncthreads();
    pass_down_y(g, m, t, nt);
    __syncthreads();
    pass_down_x(a, g, k, m, t, nt);
}

template <int UP, int DOWN, int TU, int TD>
lis_status launch_v3(const FlArgs &a, int N, lis_stream s) {
    const size_t limit = lis_cuda_smem_optin();
    lis_fl::v3::Geo g = lis_fl::v3::make_geo<UP, DOWN, TU, TD>(a, 32);
    for (int target = 16; (size_t)g.smem_floats * sizeof(float) > limit && target >= 4; target /= 2)
        g = lis_fl::v3::make_geo<UP, DOWN, TU, TD>(a, target);
    const size_t bytes = (size_t)g.smem_floats * sizeof(float);
    if (bytes > limit) return lis_err_set("filtered_lrelu v3 (CUDA): tile needs %zu bytes of shared memory (limit %zu)", bytes, limit);
    const int64_t blocks = (int64_t)N * a.C * g.tiles_x * g.tiles_y;
    if (blocks >= (1LL << 31)) return lis_err_set("filtered_lrelu (CUDA): too many planes (%d x %d)", N, a.C);
    if (blocks == 0) return LIS_OK;
    if (bytes > 48 * 1024)
        LIS_CUDA_TRY(cudaFuncSetAttribute(flrelu_v3_kernel<UP, DOWN, TU, TD>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes),
                     "filtered_lrelu v3: %zu bytes of shared memory", bytes);
    flrelu_v3_kernel<UP, DOWN, TU, TD><<<(unsigned)blocks, 256, bytes, LIS_STREAM(s)>>>(a, g);
    return lis_cuda_launched("filtered_lrelu_v3", s);
}

// the instantiated configurations (StyleGAN3/-XL's layers); anything else takes v2
bool v3_applies(const lis_flrelu_params *p) {
    return (p->up == 2 && p->down == 2 && p->tu == 12 && p->td == 12) ||
           (p->up == 4 && p->down == 2 && p->tu == 24 && p->td == 12);
}

const lis_flrelu_cuda_variant g_variants[] = {
    {"v1", lis_flrelu_cuda_v1, "one thread per output, every tap from the definition (straight port)"},
    {"v2", lis_flrelu_cuda_v2, "fused: tile of one plane in shared memory, polyphase up, 4 passes"},
    {"v3", lis_flrelu_cuda_v3, "v2 with up/down/taps fixed at compile time, R outputs per thread from registers (else v2)"},
};

} // namespace

extern "C" {

lis_status lis_flrelu_cuda_v1(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                              const float *xscale, const float *b, float *y, int N, int C, int H, int W, lis_stream s) {
    FlArgs a;
    LIS_TRY(make_args(&a, p, x, x_row, x_plane, xscale, b, y, C, H, W));
    const int64_t total = (int64_t)N * C * a.Ho * a.Wo;
    if (total == 0) return LIS_OK;
    flrelu_v1_kernel<<<(unsigned)lis_ceil_div(total, 128), 128, 0, LIS_STREAM(s)>>>(a, total);
    return lis_cuda_launched("filtered_lrelu_v1", s);
}

lis_status lis_flrelu_cuda_v2(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                              const float *xscale, const float *b, float *y, int N, int C, int H, int W, lis_stream s) {
    FlArgs a;
    LIS_TRY(make_args(&a, p, x, x_row, x_plane, xscale, b, y, C, H, W));
    const size_t limit = lis_cuda_smem_optin();
    Tile g = make_tile(a, 32);
    for (int target = 16; tile_floats(g) * sizeof(float) > limit && target >= 4; target /= 2) g = make_tile(a, target);
    const size_t bytes = tile_floats(g) * sizeof(float);
    if (bytes > limit) return lis_err_set("filtered_lrelu (CUDA): tile needs %zu bytes of shared memory (limit %zu)", bytes, limit);
    const int64_t blocks = (int64_t)N * C * g.tiles_x * g.tiles_y;
    if (blocks >= (1LL << 31)) return lis_err_set("filtered_lrelu (CUDA): too many planes (%d x %d)", N, C);
    if (blocks == 0) return LIS_OK;
    if (bytes > 48 * 1024)
        LIS_CUDA_TRY(cudaFuncSetAttribute(flrelu_v2_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes),
                     "filtered_lrelu: %zu bytes of shared memory", bytes);
    flrelu_v2_kernel<<<(unsigned)blocks, 256, bytes, LIS_STREAM(s)>>>(a, g);
    return lis_cuda_launched("filtered_lrelu_v2", s);
}

lis_status lis_flrelu_cuda_v3(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                              const float *xscale, const float *b, float *y, int N, int C, int H, int W, lis_stream s) {
    if (!v3_applies(p)) return lis_flrelu_cuda_v2(p, x, x_row, x_plane, xscale, b, y, N, C, H, W, s);
    FlArgs a;
    LIS_TRY(make_args(&a, p, x, x_row, x_plane, xscale, b, y, C, H, W));
    return p->up == 2 ? launch_v3<2, 2, 12, 12>(a, N, s) : launch_v3<4, 2, 24, 12>(a, N, s);
}

lis_status lis_flrelu_cuda(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                           const float *xscale, const float *b, float *y, int N, int C, int H, int W, lis_stream s) {
    return lis_flrelu_cuda_v3(p, x, x_row, x_plane, xscale, b, y, N, C, H, W, s);
}

int lis_flrelu_cuda_variants(const lis_flrelu_cuda_variant **out) {
    *out = g_variants;
    return (int)(sizeof g_variants / sizeof g_variants[0]);
}

} // extern "C"
