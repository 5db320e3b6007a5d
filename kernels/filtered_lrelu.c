/* filtered_lrelu.c — reference (composition of the original's steps) and fused CPU path.
 *
 * Fused path, per (n, c) plane, in the cheapest order of passes:
 *   1. horizontal up-filter on the H input rows, polyphase: output column c = up*k + ph
 *      meets only the taps t with (c + t - pad0) % up == 0, i.e. input column
 *      k + (ph + t - pad0) / up; each phase is a dense filter of the compact row (Tu/up
 *      taps, vectorised over k), in ascending t as the dense form, so the sums are the
 *      same bit for bit without the up-1 of every up multiplies that hit stuffed zeros;
 *   2. vertical up-filter: output row r sums the Tu/up stuffed input rows that are
 *      non-zero (row axpys, vectorised); each finished row gets lrelu*gain and clamp;
 *   3. vertical down-filter over every `down`-th row window (row axpys);
 *   4. horizontal down-filter on the few remaining rows, from de-interleaved phases so
 *      that every inner loop reads contiguous memory.
 * The reference does horizontal-then-vertical for both filters; the separable passes
 * commute exactly in real arithmetic, so only float32 rounding differs (~1e-7 rel).
 */
#include "kernels/filtered_lrelu.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bias_act.h"
#include "kernels/upfirdn2d.h"
#include "runtime/status.h"
#include "runtime/threads.h"

void lis_flrelu_out_shape(const lis_flrelu_params *p, int H, int W, int *Ho, int *Wo) {
    *Wo = (W * p->up + p->pad[0] + p->pad[1] - (p->tu - 1) - (p->td - 1) + p->down - 1) / p->down;
    *Ho = (H * p->up + p->pad[2] + p->pad[3] - (p->tu - 1) - (p->td - 1) + p->down - 1) / p->down;
}

void lis_flrelu_ref(const lis_flrelu_params *p, const float *x, const float *b, float *y, int N, int C, int H, int W) {
    int64_t NC = (int64_t)N * C;
    float *xb = malloc(sizeof(float) * (size_t)NC * H * W);
    LIS_ASSERT(xb);
    lis_bias_act_params lin = {0, 0.0f, 1.0f, -1.0f};
    lis_bias_act_ref(&lin, x, b, xb, N, C, (int64_t)H * W);
    lis_upfirdn2d_params u = {p->fu, 1, p->tu, p->tu, p->up, 1, {p->pad[0], p->pad[1], p->pad[2], p->pad[3]},
                              (float)(p->up * p->up)};
    if (!p->fu) { u.f_ndim = 2; u.th = u.tw = 1; }
    int Hu, Wu;
    lis_upfirdn2d_out_shape(&u, H, W, &Hu, &Wu);
    float *xu = malloc(sizeof(float) * (size_t)NC * Hu * Wu);
    LIS_ASSERT(xu);
    lis_upfirdn2d_ref(&u, xb, xu, NC, H, W);
    lis_bias_act_params act = {1, p->slope, p->gain, p->clamp};
    lis_bias_act_ref(&act, xu, NULL, xu, NC, 1, (int64_t)Hu * Wu);
    lis_upfirdn2d_params d = {p->fd, 1, p->td, p->td, 1, p->down, {0, 0, 0, 0}, 1.0f};
    if (!p->fd) { d.f_ndim = 2; d.th = d.tw = 1; }
    lis_upfirdn2d_ref(&d, xu, y, NC, Hu, Wu);
    free(xb);
    free(xu);
}

/* Geometry of the fused path for one plane. */
typedef struct {
    int H, W;
    int Lz;       /* stuffed + padded row length */
    int Hz;       /* stuffed + padded column length */
    int Wu, Hu;   /* after the up filter */
    int Ho, Wo;   /* output */
    int Wq;       /* de-interleaved phase length for the horizontal down pass */
    int Kp;       /* outputs of one phase of the horizontal up pass (at most) */
    int M, Lx;    /* compact row: zero margin before the W inputs, total length */
} geom;

static geom make_geom(const lis_flrelu_params *p, int H, int W) {
    geom g;
    g.H = H;
    g.W = W;
    g.Lz = W * p->up + p->pad[0] + p->pad[1];
    g.Hz = H * p->up + p->pad[2] + p->pad[3];
    g.Wu = g.Lz - p->tu + 1;
    g.Hu = g.Hz - p->tu + 1;
    lis_flrelu_out_shape(p, H, W, &g.Ho, &g.Wo);
    g.Wq = (g.Wu + p->down - 1) / p->down + p->td;
    /* the polyphase up pass reads compact column k + off, off = (ph + t - pad0) / up over
     * ph < up, t < tu: a zero margin of -min(off) before and enough zeros after */
    const int up = p->up, x0 = p->pad[0];
    int offmin = 0, offmax = 0;
    for (int ph = 0; ph < up; ph++)
        for (int t = 0; t < p->tu; t++) {
            const int d = ph + t - x0;
            if (d % up) continue;
            offmin = d / up < offmin ? d / up : offmin;
            offmax = d / up > offmax ? d / up : offmax;
        }
    g.Kp = (g.Wu + up - 1) / up;
    g.M = -offmin;
    g.Lx = g.M + (g.Kp > W ? g.Kp : W) + offmax + 1;
    return g;
}

#define ALIGN16(n) (((size_t)(n) + 15) & ~(size_t)15)

size_t lis_flrelu_workspace_per_thread(const lis_flrelu_params *p, int H, int W) {
    geom g = make_geom(p, H, W);
    size_t n = ALIGN16(g.Lx + 16)        /* compact row with zero margins */
             + ALIGN16(g.Kp + 16)         /* one phase of the up-filtered row */
             + ALIGN16((size_t)H * g.Wu)  /* horizontally up-filtered input rows */
             + ALIGN16((size_t)g.Hu * g.Wu) /* up-filtered plane (2x grid) */
             + ALIGN16(g.Wu + 16)         /* one vertically down-filtered row */
             + ALIGN16((size_t)p->down * g.Wq) /* its phases */
             + 64;                        /* filters */
    return n * sizeof(float);
}

typedef struct {
    const lis_flrelu_params *p;
    const float *x;
    int64_t x_row, x_plane;
    const float *xscale, *b;
    float *y;
    int C;
    geom g;
    char *ws;
    size_t ws_per_thread;
} fl_job;

static void fl_plane(void *ctx, int64_t plane, int tid) {
    fl_job *j = ctx;
    const lis_flrelu_params *p = j->p;
    geom g = j->g;
    int up = p->up, down = p->down, tu = p->tu, td = p->td;
    float *xb = (float *)(j->ws + (size_t)tid * j->ws_per_thread);
    float *acc = xb + ALIGN16(g.Lx + 16);
    float *hu = acc + ALIGN16(g.Kp + 16);
    float *U = hu + ALIGN16((size_t)g.H * g.Wu);
    float *vrow = U + ALIGN16((size_t)g.Hu * g.Wu);
    float *ph = vrow + ALIGN16(g.Wu + 16);
    float *fu = ph + ALIGN16((size_t)down * g.Wq), *fd = fu + 32;
    /* flipped filters; the up filter carries sqrt(up^2) = up per 1-D pass */
    for (int t = 0; t < tu; t++) fu[t] = p->fu ? p->fu[tu - 1 - t] * (float)up : (float)up; /* [[1]]: gain up^2 over two passes */
    for (int t = 0; t < td; t++) fd[t] = p->fd ? p->fd[td - 1 - t] : 1.0f;

    const float *x = j->x + plane * j->x_plane;
    float sc = j->xscale ? j->xscale[plane] : 1.0f;
    float bias = j->b ? j->b[plane % j->C] : 0.0f;
    int x0 = p->pad[0], y0 = p->pad[2];

    /* 1. horizontal up-filter of every input row, one output phase at a time */
    memset(xb, 0, sizeof(float) * (size_t)g.Lx);
    for (int i = 0; i < g.H; i++) {
        const float *xr = x + (int64_t)i * j->x_row;
        float *xc = xb + g.M;
        for (int q = 0; q < g.W; q++) xc[q] = j->xscale ? xr[q] * sc + bias : xr[q] + bias;
        float *o = hu + (size_t)i * g.Wu;
        for (int e = 0; e < up && e < g.Wu; e++) {
            const int kp = (g.Wu - e + up - 1) / up;
            for (int k = 0; k < kp; k++) acc[k] = 0.0f;
            for (int t = 0; t < tu; t++) {
                const int d = e + t - x0;
                if (d % up) continue;
                const float f = fu[t], *src = xc + d / up;
                for (int k = 0; k < kp; k++) acc[k] += f * src[k];
            }
            for (int k = 0; k < kp; k++) o[(size_t)k * up + e] = acc[k];
        }
    }
    /* 2. vertical up-filter + activation on the 2x grid */
    float gain = p->gain, slope = p->slope, clampv = p->clamp;
    for (int r = 0; r < g.Hu; r++) {
        float *o = U + (size_t)r * g.Wu;
        for (int c = 0; c < g.Wu; c++) o[c] = 0.0f;
        for (int t = 0; t < tu; t++) {
            int q = r + t - y0; /* stuffed row index */
            if (q < 0 || q >= g.H * up || q % up) continue;
            float f = fu[t];
            const float *src = hu + (size_t)(q / up) * g.Wu;
            for (int c = 0; c < g.Wu; c++) o[c] += f * src[c];
        }
        /* lrelu as max(v,0) + slope*min(v,0), then gain and clamp: the same values as the
         * branchy form, written with AVX max/min so it vectorises */
        float lo = clampv >= 0.0f ? -clampv : -INFINITY, hi = clampv >= 0.0f ? clampv : INFINITY;
        __m256 vz = _mm256_setzero_ps(), vs = _mm256_set1_ps(slope), vg = _mm256_set1_ps(gain);
        __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
        int c = 0;
        for (; c + 8 <= g.Wu; c += 8) {
            __m256 v = _mm256_loadu_ps(o + c);
            v = _mm256_mul_ps(_mm256_add_ps(_mm256_max_ps(v, vz), _mm256_mul_ps(vs, _mm256_min_ps(v, vz))), vg);
            _mm256_storeu_ps(o + c, _mm256_min_ps(_mm256_max_ps(v, vlo), vhi));
        }
        for (; c < g.Wu; c++) {
            float v = o[c];
            v = ((v > 0.0f ? v : 0.0f) + slope * (v < 0.0f ? v : 0.0f)) * gain;
            o[c] = v < lo ? lo : (v > hi ? hi : v);
        }
    }
    /* 3 + 4. vertical then horizontal down-filter */
    float *y = j->y + plane * (int64_t)g.Ho * g.Wo;
    for (int r = 0; r < g.Ho; r++) {
        for (int c = 0; c < g.Wu; c++) vrow[c] = 0.0f;
        for (int t = 0; t < td; t++) {
            float f = fd[t];
            const float *src = U + (size_t)(r * down + t) * g.Wu;
            for (int c = 0; c < g.Wu; c++) vrow[c] += f * src[c];
        }
        float *yr = y + (size_t)r * g.Wo;
        if (down == 1) {
            for (int c = 0; c < g.Wo; c++) yr[c] = 0.0f;
            for (int t = 0; t < td; t++) {
                float f = fd[t];
                for (int c = 0; c < g.Wo; c++) yr[c] += f * vrow[c + t];
            }
            continue;
        }
        /* de-interleave: phase k holds vrow[k], vrow[k+down], ... */
        for (int k = 0; k < down; k++) {
            float *pk = ph + (size_t)k * g.Wq;
            int n = 0;
            for (int c = k; c < g.Wu; c += down) pk[n++] = vrow[c];
            for (; n < g.Wq; n++) pk[n] = 0.0f;
        }
        for (int c = 0; c < g.Wo; c++) yr[c] = 0.0f;
        for (int t = 0; t < td; t++) {
            float f = fd[t];
            const float *src = ph + (size_t)(t % down) * g.Wq + t / down;
            for (int c = 0; c < g.Wo; c++) yr[c] += f * src[c];
        }
    }
}

void lis_flrelu_cpu(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane, const float *xscale,
                    const float *b, float *y, int N, int C, int H, int W, void *ws) {
    LIS_ASSERT(p->tu <= 32 && p->td <= 32);
    fl_job j = {p, x, x_row, x_plane, xscale, b, y, C, make_geom(p, H, W), ws, lis_flrelu_workspace_per_thread(p, H, W)};
    LIS_ASSERT(j.g.Hu >= (j.g.Ho - 1) * p->down + p->td && j.g.Wu >= (j.g.Wo - 1) * p->down + p->td);
    lis_parallel_for((int64_t)N * C, fl_plane, &j);
}
