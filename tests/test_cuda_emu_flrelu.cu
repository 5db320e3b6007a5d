// test_cuda_emu_flrelu.cu — filtered_lrelu v3's block code (kernels/filtered_lrelu_tile.cuh)
// run on the host: every block of a launch is emulated pass by pass, each pass looping over
// the block's 256 threads in order (the kernel separates the passes with __syncthreads, so
// this order is one the GPU may take). Shared memory is a host buffer filled with NaN, so a
// read of anything a pass did not write shows up in the result. Compared with the CPU
// reference (lis_flrelu_ref) on the test_cuda_ops cases at every tile size the launcher may
// pick. Built by nvcc, runs without a GPU: CI checks the CUDA kernel's index math this way.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/filtered_lrelu_tile.cuh"

extern "C" {
#include "tests/harness.h"
}

using namespace lis_fl;
using namespace lis_fl::v3;

static unsigned g_seed = 7;
static float frand(float scale) { // deterministic, in [-scale, scale]
    g_seed = g_seed * 1664525u + 1013904223u;
    return scale * ((float)(g_seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f);
}

template <int UP, int DOWN, int TU, int TD>
static void emu_case(const char *what, int N, int C, int H, int W, int x0, int x1, int y0, int y1, float clampv,
                     int strided, int target) {
    char name[200];
    snprintf(name, sizeof name, "flrelu_v3_emu(%s,up=%d,%dx%d,pad=%d/%d/%d/%d%s,tile~%d)", what, UP, H, W, x0, x1, y0,
             y1, strided ? ",strided+xscale" : "", target);
    float fu[TU], fd[TD];
    for (int t = 0; t < TU; t++) fu[t] = frand(0.5f) + 0.5f / TU;
    for (int t = 0; t < TD; t++) fd[t] = frand(0.5f);
    lis_flrelu_params p = {fu, TU, fd, TD, UP, DOWN, {x0, x1, y0, y1}, 1.41421356f, 0.2f, clampv};
    int Ho, Wo;
    lis_flrelu_out_shape(&p, H, W, &Ho, &Wo);
    const int Wp = strided ? W + 3 : W;
    const size_t nx = (size_t)N * C * H * Wp, nc = (size_t)N * C * H * W, ny = (size_t)N * C * Ho * Wo;
    float *x = (float *)malloc(nx * 4), *xc = (float *)malloc(nc * 4), *b = (float *)malloc((size_t)C * 4);
    float *xs = (float *)malloc((size_t)N * C * 4), *yr = (float *)malloc(ny * 4), *y = (float *)malloc(ny * 4);
    for (size_t i = 0; i < nx; i++) x[i] = frand(3.0f);
    for (int c = 0; c < C; c++) b[c] = frand(0.3f);
    for (int i = 0; i < N * C; i++) xs[i] = frand(1.0f);
    for (int pl = 0; pl < N * C; pl++)
        for (int r = 0; r < H; r++)
            for (int c = 0; c < W; c++)
                xc[((size_t)pl * H + r) * W + c] = x[((size_t)pl * H + r) * Wp + c] * (strided ? xs[pl] : 1.0f);
    lis_flrelu_ref(&p, xc, b, yr, N, C, H, W);
    for (size_t i = 0; i < ny; i++) y[i] = NAN;
    FlArgs a;
    if (lis_check_ok(make_args(&a, &p, x, Wp, (int64_t)H * Wp, strided ? xs : NULL, b, y, C, H, W), name)) {
        const Geo g = make_geo<UP, DOWN, TU, TD>(a, target);
        float *sm = (float *)malloc((size_t)g.smem_floats * 4);
        const int64_t blocks = (int64_t)N * C * g.tiles_x * g.tiles_y;
        const int nt = 256;
        for (int64_t bid = 0; bid < blocks; bid++) {
            for (int i = 0; i < g.smem_floats; i++) sm[i] = NAN;
            const Smem<UP, DOWN, TU, TD> m(sm, g);
            const Block k = block_of(a, g, bid);
            for (int t = 0; t < nt; t++) stage_filters(a, k, m, t, nt);
            for (int t = 0; t < nt; t++) stage_input(a, g, k, m, t, nt);
            for (int t = 0; t < nt; t++) pass_up_x(g, m, t, nt);
            for (int t = 0; t < nt; t++) pass_up_y(a, g, m, t, nt);
            for (int t = 0; t < nt; t++) pass_down_y(g, m, t, nt);
            for (int t = 0; t < nt; t++) pass_down_x(a, g, k, m, t, nt);
        }
        lis_check(g.TW % R == 0 && g.TH % R == 0 && g.tiles_x * g.TW >= Wo && g.tiles_y * g.TH >= Ho,
                  "%s: tiles %dx%d of %dx%d cover %dx%d", name, g.tiles_x, g.tiles_y, g.TW, g.TH, Wo, Ho);
        lis_check_close(name, y, yr, (int64_t)ny, 1e-5 * fmax(1.0, lis_max_abs(yr, (int64_t)ny)), 0);
        free(sm);
    }
    free(x); free(xc); free(b); free(xs); free(yr); free(y);
}

int main(void) {
    for (int target : {32, 16, 8}) {
        emu_case<2, 2, 12, 12>("L1", 2, 3, 38, 38, 9, 8, 9, 8, 256.0f, 0, target);
        emu_case<4, 2, 24, 12>("L10", 1, 2, 38, 38, -6, -9, -6, -9, 256.0f, 0, target);
        emu_case<2, 2, 12, 12>("L30", 1, 2, 40, 40, -11, -12, -11, -12, 256.0f, 0, target);
        emu_case<2, 2, 12, 12>("clamp", 1, 2, 21, 21, 9, 8, 9, 8, 0.5f, 0, target);
        emu_case<4, 2, 24, 12>("odd", 1, 2, 21, 17, -6, -9, -6, -9, -1.0f, 0, target);
        emu_case<2, 2, 12, 12>("L1", 2, 3, 14, 13, 9, 8, 9, 8, 256.0f, 1, target);
        emu_case<2, 2, 12, 12>("asymmetric pads", 1, 1, 23, 31, 3, 10, 7, 2, 256.0f, 1, target);
    }
    if (!lis_test_quick()) { // the generator's largest layers, one plane each
        emu_case<2, 2, 12, 12>("L26", 1, 1, 278, 278, 9, 8, 9, 8, 256.0f, 0, 32);
        emu_case<4, 2, 24, 12>("L25", 1, 1, 150, 150, -6, -9, -6, -9, 256.0f, 0, 32);
        emu_case<2, 2, 12, 12>("L30", 1, 1, 278, 278, -11, -12, -11, -12, 256.0f, 1, 32);
    }
    return lis_test_finish();
}
