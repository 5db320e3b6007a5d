// pump_corr.cu — the PUMP pyramid on the GPU (see kernels/pump_corr_cuda.h).
//
// Variants:
//   corr  v1  one thread per (pixel, cell), fmaf over channels (straight port)
//         v2  64 x 64 output tiles, 16-channel slabs of both operands in shared memory, 4 x 4
//             outputs per thread; each output still sums its channels in order with fmaf
//   fwd   v1  one thread per (position, parent), 3x3 pooling of each child on the fly
//         v2  pooling kernel -> pooled level in the workspace, then the aggregation kernel
//   bwd   v1  codes/values kernel + gather kernel
//   best  v1  chunked per-cell maxima + combine; one block per img2 4x4 block
// Float operations use the explicit-rounding intrinsics (__fmul_rn, __fadd_rn, __fdiv_rn) so
// nvcc cannot contract them into FMAs: the CPU computes them separately.
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/pump_corr_cuda.h"
}

namespace {

__device__ __forceinline__ int dir_dx(int d) { return (d & 1) ? 1 : -1; }
__device__ __forceinline__ int dir_dy(int d) { return (d & 2) ? 1 : -1; }

// A(v) = max(v, 0)^nlpow, for 1.5 as v * sqrt(v) in double rounded once (the CPU's)
__device__ __forceinline__ float act(double nlpow, float v) {
    if (!(v > 0.0f)) return 0.0f;
    const double d = v;
    if (nlpow == 1.5) return __double2float_rn(__dmul_rn(d, __dsqrt_rn(d)));
    return __double2float_rn(pow(d, nlpow));
}

// child of parent (h, w) of level l in direction d (cell index of level l-1, or -1)
__device__ __forceinline__ int child_of(const lis_pump_geom &g, int l, int d, int h, int w) {
    int ci, cj;
    if (l == 1) {
        ci = h + (dir_dy(d) - 1) / 2;
        cj = w + (dir_dx(d) - 1) / 2;
    } else {
        const int gap = 1 << (l - 2);
        ci = h + dir_dy(d) * gap;
        cj = w + dir_dx(d) * gap;
    }
    return (ci >= 0 && ci < g.gh[l - 1] && cj >= 0 && cj < g.gw[l - 1]) ? ci * g.gw[l - 1] + cj : -1;
}

// parent of child cell (ci, cj) of level l-1 in direction d (cell index of level l, or -1)
__device__ __forceinline__ int parent_of(const lis_pump_geom &g, int l, int d, int ci, int cj) {
    int h, w;
    if (l == 1) {
        h = ci + (1 - dir_dy(d)) / 2;
        w = cj + (1 - dir_dx(d)) / 2;
    } else {
        const int gap = 1 << (l - 2);
        h = ci - dir_dy(d) * gap;
        w = cj - dir_dx(d) * gap;
    }
    return (h >= 0 && h < g.gh[l] && w >= 0 && w < g.gw[l]) ? h * g.gw[l] + w : -1;
}

// ---------------------------------------------------------------- level 0

__global__ void corr_v1_kernel(lis_pump_geom g, const float *desc1, const float *desc2, float *P0, int64_t total) {
    const int cs = g.cs[0];
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t pix = i / cs;
        const int c = (int)(i - pix * cs);
        const float *a = desc2 + pix * g.C;
        float acc = 0.0f;
        for (int k = 0; k < g.C; k++) acc = fmaf(a[k], desc1[(int64_t)k * cs + c], acc);
        P0[i] = act(g.nlpow, acc);
    }
}

constexpr int TM = 64, TN = 64, TK = 16;

// block: 256 threads, tile TM pixels x TN cells; thread (ty, tx) owns pixels ty*4.. and cells tx*4..
__global__ void __launch_bounds__(256) corr_v2_kernel(lis_pump_geom g, const float *desc1, const float *desc2,
                                                      float *P0) {
    __shared__ float As[TK][TM + 4]; // desc2 slab, transposed: As[k][pixel]
    __shared__ float Bs[TK][TN];     // desc1 slab: Bs[k][cell]
    const int cs = g.cs[0], C = g.C;
    const int64_t npix = (int64_t)g.h[0] * g.w[0];
    const int64_t p0 = (int64_t)blockIdx.y * TM;
    const int c0 = blockIdx.x * TN;
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    float acc[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < C; k0 += TK) {
        // A slab: TM pixels x TK channels (4 loads per thread), zero outside
        for (int t = threadIdx.x; t < TM * TK; t += 256) {
            const int pm = t / TK, kk = t - pm * TK;
            const int64_t pix = p0 + pm;
            As[kk][pm] = (pix < npix && k0 + kk < C) ? desc2[pix * C + k0 + kk] : 0.0f;
        }
        for (int t = threadIdx.x; t < TK * TN; t += 256) {
            const int kk = t / TN, cn = t - kk * TN;
            Bs[kk][cn] = (c0 + cn < cs && k0 + kk < C) ? desc1[(int64_t)(k0 + kk) * cs + c0 + cn] : 0.0f;
        }
        __syncthreads();
        const int kmax = C - k0 < TK ? C - k0 : TK; // padded channels would add +0 (exact) anyway
        for (int kk = 0; kk < kmax; kk++) {
            float a[4], b[4];
            for (int i = 0; i < 4; i++) a[i] = As[kk][ty * 4 + i];
            for (int j = 0; j < 4; j++) b[j] = Bs[kk][tx * 4 + j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; i++) {
        const int64_t pix = p0 + ty * 4 + i;
        if (pix >= npix) continue;
        for (int j = 0; j < 4; j++) {
            const int c = c0 + tx * 4 + j;
            if (c < cs) P0[pix * cs + c] = act(g.nlpow, acc[i][j]);
        }
    }
}

// ---------------------------------------------------------------- forward levels

// max over the 3x3 / stride-2 / pad-1 window of lower cell c at pooled position (qy, qx)
__device__ __forceinline__ float pool1(const lis_pump_geom &g, int l, const float *P_lo, int qy, int qx, int c) {
    const int hlo = g.h[l - 1], wlo = g.w[l - 1], cslo = g.cs[l - 1];
    float m = -1.0f; // scores are >= 0 and the window is never empty
    for (int yy = 2 * qy - 1; yy <= 2 * qy + 1; yy++) {
        if (yy < 0 || yy >= hlo) continue;
        for (int xx = 2 * qx - 1; xx <= 2 * qx + 1; xx++) {
            if (xx < 0 || xx >= wlo) continue;
            const float v = P_lo[((int64_t)yy * wlo + xx) * cslo + c];
            m = v > m ? v : m;
        }
    }
    return m;
}

// one (position, parent): Q from `pooled` (v2) or pooled on the fly (v1)
template <bool POOLED>
__global__ void fwd_kernel(lis_pump_geom g, int l, const float *src, const float *w_lo, const float *nrm, float *P_up,
                           int64_t total) {
    const int hl = g.h[l], wl = g.w[l], cs = g.cs[l], gw = g.gw[l], cslo = g.cs[l - 1];
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t v = i / cs;
        const int p = (int)(i - v * cs), vy = (int)(v / wl), vx = (int)(v - (int64_t)vy * wl);
        if (p >= g.ncell[l]) {
            P_up[i] = 0.0f;
            continue;
        }
        const int h = p / gw, w = p - h * gw;
        float S = 0.0f;
        for (int d = 0; d < 4; d++) {
            const int c = child_of(g, l, d, h, w), qy = vy + dir_dy(d), qx = vx + dir_dx(d);
            if (c < 0 || qy < 0 || qy >= hl || qx < 0 || qx >= wl) continue;
            const float q = POOLED ? src[((int64_t)qy * wl + qx) * cslo + c] : pool1(g, l, src, qy, qx, c);
            S = __fadd_rn(S, __fmul_rn(q, w_lo[c]));
        }
        const int a = vy == 0 ? 0 : (vy == hl - 1 ? 2 : 1), b = vx == 0 ? 0 : (vx == wl - 1 ? 2 : 1);
        P_up[i] = act(g.nlpow, __fdiv_rn(S, nrm[(a * 3 + b) * cs + p]));
    }
}

__global__ void pool_kernel(lis_pump_geom g, int l, const float *P_lo, float *Q, int64_t total) {
    const int wl = g.w[l], cslo = g.cs[l - 1];
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t v = i / cslo;
        const int c = (int)(i - v * cslo), qy = (int)(v / wl), qx = (int)(v - (int64_t)qy * wl);
        Q[i] = c < g.ncell[l - 1] ? pool1(g, l, P_lo, qy, qx, c) : 0.0f;
    }
}

// ---------------------------------------------------------------- backward levels

// per window v of level l and lower cell c: R (max of the parents' scores at v - d, floor 0)
// and the code ry*3 + rx of the first arg-max of the restricted 3x3 window of P_lo
__global__ void bwd_codes_kernel(lis_pump_geom g, int l, const float *P_up, const float *P_lo, int8_t *K, float *R,
                                 int64_t total) {
    const int hl = g.h[l], wl = g.w[l], cs = g.cs[l], hlo = g.h[l - 1], wlo = g.w[l - 1], cslo = g.cs[l - 1];
    const int gwlo = g.gw[l - 1];
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t v = i / cslo;
        const int c = (int)(i - v * cslo), vy = (int)(v / wl), vx = (int)(v - (int64_t)vy * wl);
        if (c >= g.ncell[l - 1]) continue;
        const int ci = c / gwlo, cj = c - ci * gwlo;
        float r = 0.0f;
        for (int d = 0; d < 4; d++) {
            const int p = parent_of(g, l, d, ci, cj), uy = vy - dir_dy(d), ux = vx - dir_dx(d);
            if (p < 0 || uy < 0 || uy >= hl || ux < 0 || ux >= wl) continue;
            const float u = P_up[((int64_t)uy * wl + ux) * cs + p];
            r = u > r ? u : r;
        }
        float best = -1.0f;
        int code = 0;
        for (int ky = 0; ky < 3; ky++) {
            const int yy = 2 * vy - 1 + ky;
            if (yy < 0 || yy > hlo - 2) continue;
            for (int kx = 0; kx < 3; kx++) {
                const int xx = 2 * vx - 1 + kx;
                if (xx < 0 || xx > wlo - 2) continue;
                const float u = P_lo[((int64_t)yy * wlo + xx) * cslo + c];
                if (u > best) { best = u; code = 3 * ky + kx; }
            }
        }
        K[i] = (int8_t)code;
        R[i] = r;
    }
}

// per lower position and cell: + the max R of the (<= 4) windows whose arg-max it is
__global__ void bwd_gather_kernel(lis_pump_geom g, int l, const int8_t *K, const float *R, float *P_lo, int64_t total) {
    const int hl = g.h[l], wl = g.w[l], wlo = g.w[l - 1], cslo = g.cs[l - 1];
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t pos = i / cslo;
        const int c = (int)(i - pos * cslo), r = (int)(pos / wlo), x = (int)(pos - (int64_t)r * wlo);
        if (c >= g.ncell[l - 1]) continue;
        int wys[2], nwy = 0, wxs[2], nwx = 0;
        if (r % 2 == 0) wys[nwy++] = r / 2;
        else { wys[nwy++] = (r - 1) / 2; wys[nwy++] = (r + 1) / 2; }
        if (x % 2 == 0) wxs[nwx++] = x / 2;
        else { wxs[nwx++] = (x - 1) / 2; wxs[nwx++] = (x + 1) / 2; }
        float add = 0.0f;
        for (int a = 0; a < nwy; a++) {
            const int wy = wys[a];
            if (wy >= hl) continue;
            for (int b = 0; b < nwx; b++) {
                const int wx = wxs[b];
                if (wx >= wl) continue;
                const int64_t j = ((int64_t)wy * wl + wx) * cslo + c;
                const int code = 3 * (r - (2 * wy - 1)) + (x - (2 * wx - 1));
                if (K[j] == code && R[j] > add) add = R[j];
            }
        }
        P_lo[i] = __fadd_rn(P_lo[i], add);
    }
}

// ---------------------------------------------------------------- best matches

constexpr int BEST_CHUNK = 256; // img2 pixels per partial maximum

// per (pixel chunk, cell): first maximum over the chunk's pixels in increasing order
__global__ void best1_partial_kernel(lis_pump_geom g, const float *P0, float *pv, int32_t *pi, int nchunk) {
    const int cs = g.cs[0];
    const int c = blockIdx.x * blockDim.x + threadIdx.x, chunk = blockIdx.y;
    if (c >= g.ncell[0]) return;
    const int64_t npix = (int64_t)g.h[0] * g.w[0];
    const int64_t q0 = (int64_t)chunk * BEST_CHUNK, q1 = q0 + BEST_CHUNK < npix ? q0 + BEST_CHUNK : npix;
    float best = -1.0f;
    int32_t arg = -1;
    for (int64_t q = q0; q < q1; q++) {
        const float v = P0[q * cs + c];
        if (v > best) { best = v; arg = (int32_t)q; }
    }
    pv[(int64_t)chunk * cs + c] = best;
    pi[(int64_t)chunk * cs + c] = arg;
}

__global__ void best1_combine_kernel(lis_pump_geom g, const float *pv, const int32_t *pi, int nchunk, float *pos1,
                                     float *score1) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= g.ncell[0]) return;
    const int cs = g.cs[0];
    float best = -1.0f;
    int32_t arg = -1;
    for (int k = 0; k < nchunk; k++) // chunks in pixel order: strict > keeps the first
        if (pv[(int64_t)k * cs + c] > best) { best = pv[(int64_t)k * cs + c]; arg = pi[(int64_t)k * cs + c]; }
    score1[c] = best;
    pos1[4 * c + 0] = (float)(4 * (c % g.n1w) + 2);
    pos1[4 * c + 1] = (float)(4 * (c / g.n1w) + 2);
    pos1[4 * c + 2] = (float)(arg % g.w[0]);
    pos1[4 * c + 3] = (float)(arg / g.w[0]);
}

struct Cand {
    float v;
    int cell, y, x;
};

__device__ __forceinline__ bool better(const Cand &a, const Cand &b) {
    if (a.v != b.v) return a.v > b.v;
    if (a.cell != b.cell) return a.cell < b.cell;
    if (a.y != b.y) return a.y < b.y;
    return a.x < b.x;
}

// one block per img2 4x4 block: threads over cells, then a tree reduction with the
// (value, cell, y, x) order of PyTorch's max_pool3d scan
__global__ void best2_kernel(lis_pump_geom g, const float *P0, float *pos2, float *score2) {
    __shared__ Cand red[256];
    const int bw = g.w[0] / 4, b = blockIdx.x, by = b / bw, bx = b - by * bw, cs = g.cs[0], w0 = g.w[0];
    Cand best = {-1.0f, 0, 0, 0};
    for (int c = threadIdx.x; c < g.ncell[0]; c += blockDim.x)
        for (int y = 4 * by; y < 4 * by + 4; y++)
            for (int x = 4 * bx; x < 4 * bx + 4; x++) {
                const Cand e = {P0[((int64_t)y * w0 + x) * cs + c], c, y, x};
                if (better(e, best)) best = e;
            }
    red[threadIdx.x] = best;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s && better(red[threadIdx.x + s], red[threadIdx.x])) red[threadIdx.x] = red[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        const Cand r = red[0];
        score2[b] = r.v;
        pos2[4 * b + 0] = (float)(4 * (r.cell % g.n1w) + 2);
        pos2[4 * b + 1] = (float)(4 * (r.cell / g.n1w) + 2);
        pos2[4 * b + 2] = (float)r.x;
        pos2[4 * b + 3] = (float)r.y;
    }
}

unsigned grid_for(int64_t total, int threads) {
    const int64_t b = lis_ceil_div(total, threads);
    return (unsigned)(b < (int64_t)1 << 30 ? b : (int64_t)1 << 30);
}

const lis_pump_corr_cuda_variant g_corr[] = {
    {"v1", lis_pump_corr_cuda_v1, "one thread per (pixel, cell) (straight port)"},
    {"v2", lis_pump_corr_cuda_v2, "64x64 tiles, 16-channel shared slabs, 4x4 outputs per thread"},
};
const lis_pump_fwd_cuda_variant g_fwd[] = {
    {"v1", lis_pump_fwd_level_cuda_v1, "one thread per output, pooling on the fly (straight port)"},
    {"v2", lis_pump_fwd_level_cuda_v2, "pooling kernel to the workspace, then aggregation"},
};

} // namespace

extern "C" {

lis_status lis_pump_corr_cuda_v1(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0, lis_stream s) {
    const int64_t total = (int64_t)g->h[0] * g->w[0] * g->cs[0];
    corr_v1_kernel<<<grid_for(total, 256), 256, 0, LIS_STREAM(s)>>>(*g, desc1, desc2, P0, total);
    return lis_cuda_launched("pump_corr_v1", s);
}

lis_status lis_pump_corr_cuda_v2(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0, lis_stream s) {
    const int64_t npix = (int64_t)g->h[0] * g->w[0];
    if (lis_ceil_div(npix, TM) > 65535) return lis_pump_corr_cuda_v1(g, desc1, desc2, P0, s);
    const dim3 grid((unsigned)lis_ceil_div(g->cs[0], TN), (unsigned)lis_ceil_div(npix, TM));
    corr_v2_kernel<<<grid, 256, 0, LIS_STREAM(s)>>>(*g, desc1, desc2, P0);
    return lis_cuda_launched("pump_corr_v2", s);
}

lis_status lis_pump_corr_cuda(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0, lis_stream s) {
    return lis_pump_corr_cuda_v2(g, desc1, desc2, P0, s);
}

int lis_pump_corr_cuda_variants(const lis_pump_corr_cuda_variant **out) {
    *out = g_corr;
    return (int)(sizeof g_corr / sizeof g_corr[0]);
}

size_t lis_pump_fwd_level_cuda_workspace(const lis_pump_geom *g, int l) {
    return (size_t)g->h[l] * g->w[l] * g->cs[l - 1];
}

lis_status lis_pump_fwd_level_cuda_v1(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo,
                                      const float *nrm, float *P_up, float *ws, lis_stream s) {
    const int64_t total = (int64_t)lis_pump_level_floats(g, l);
    fwd_kernel<false><<<grid_for(total, 256), 256, 0, LIS_STREAM(s)>>>(*g, l, P_lo, w_lo, nrm, P_up, total);
    return lis_cuda_launched("pump_fwd_level_v1", s);
}

lis_status lis_pump_fwd_level_cuda_v2(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo,
                                      const float *nrm, float *P_up, float *ws, lis_stream s) {
    const int64_t nq = (int64_t)lis_pump_fwd_level_cuda_workspace(g, l);
    pool_kernel<<<grid_for(nq, 256), 256, 0, LIS_STREAM(s)>>>(*g, l, P_lo, ws, nq);
    LIS_TRY(lis_cuda_launched("pump_pool", s));
    const int64_t total = (int64_t)lis_pump_level_floats(g, l);
    fwd_kernel<true><<<grid_for(total, 256), 256, 0, LIS_STREAM(s)>>>(*g, l, ws, w_lo, nrm, P_up, total);
    return lis_cuda_launched("pump_fwd_level_v2", s);
}

lis_status lis_pump_fwd_level_cuda(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo,
                                   const float *nrm, float *P_up, float *ws, lis_stream s) {
    return lis_pump_fwd_level_cuda_v2(g, l, P_lo, w_lo, nrm, P_up, ws, s);
}

int lis_pump_fwd_level_cuda_variants(const lis_pump_fwd_cuda_variant **out) {
    *out = g_fwd;
    return (int)(sizeof g_fwd / sizeof g_fwd[0]);
}

size_t lis_pump_bwd_level_cuda_workspace(const lis_pump_geom *g, int l) {
    const size_t n = (size_t)g->h[l] * g->w[l] * g->cs[l - 1];
    return (n + 255) / 256 * 256 + n * sizeof(float); /* codes, then values (aligned) */
}

lis_status lis_pump_bwd_level_cuda(const lis_pump_geom *g, int l, const float *P_up, float *P_lo, void *ws,
                                   lis_stream s) {
    const int64_t n = (int64_t)g->h[l] * g->w[l] * g->cs[l - 1];
    int8_t *K = (int8_t *)ws;
    float *R = (float *)((char *)ws + (n + 255) / 256 * 256);
    bwd_codes_kernel<<<grid_for(n, 256), 256, 0, LIS_STREAM(s)>>>(*g, l, P_up, P_lo, K, R, n);
    LIS_TRY(lis_cuda_launched("pump_bwd_codes", s));
    const int64_t total = (int64_t)lis_pump_level_floats(g, l - 1);
    bwd_gather_kernel<<<grid_for(total, 256), 256, 0, LIS_STREAM(s)>>>(*g, l, K, R, P_lo, total);
    return lis_cuda_launched("pump_bwd_gather", s);
}

size_t lis_pump_best_cuda_workspace(const lis_pump_geom *g) {
    const int64_t nchunk = lis_ceil_div((int64_t)g->h[0] * g->w[0], BEST_CHUNK);
    return (size_t)nchunk * g->cs[0] * (sizeof(float) + sizeof(int32_t));
}

lis_status lis_pump_best_cuda(const lis_pump_geom *g, const float *P0, float *pos1, float *score1, float *pos2,
                              float *score2, void *ws, lis_stream s) {
    const int nchunk = (int)lis_ceil_div((int64_t)g->h[0] * g->w[0], BEST_CHUNK);
    if (nchunk > 65535) return lis_err_set("pump_best_cuda: img2 of %dx%d is too large", g->w[0], g->h[0]);
    float *pv = (float *)ws;
    int32_t *pi = (int32_t *)(pv + (size_t)nchunk * g->cs[0]);
    const dim3 grid((unsigned)lis_ceil_div(g->ncell[0], 128), (unsigned)nchunk);
    best1_partial_kernel<<<grid, 128, 0, LIS_STREAM(s)>>>(*g, P0, pv, pi, nchunk);
    LIS_TRY(lis_cuda_launched("pump_best1_partial", s));
    best1_combine_kernel<<<(unsigned)lis_ceil_div(g->ncell[0], 128), 128, 0, LIS_STREAM(s)>>>(*g, pv, pi, nchunk, pos1,
                                                                                              score1);
    LIS_TRY(lis_cuda_launched("pump_best1_combine", s));
    const int nb = (g->h[0] / 4) * (g->w[0] / 4);
    if (nb > 0) {
        best2_kernel<<<(unsigned)nb, 256, 0, LIS_STREAM(s)>>>(*g, P0, pos2, score2);
        LIS_TRY(lis_cuda_launched("pump_best2", s));
    }
    return LIS_OK;
}

} // extern "C"
