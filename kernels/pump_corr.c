/* pump_corr.c — level-0 correlation and forward pyramid levels (see pump_corr.h). */
#include "kernels/pump_corr.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

#define MAX_C 4096 /* descriptor channels (GEMM row pointers on the stack) */

/* direction d = 0..3 in PUMP's order: (dx, dy) = (-1,-1) (+1,-1) (-1,+1) (+1,+1) */
static inline int dir_dx(int d) { return (d & 1) ? 1 : -1; }
static inline int dir_dy(int d) { return (d & 2) ? 1 : -1; }

lis_status lis_pump_geom_init(lis_pump_geom *g, int C, int n1h, int n1w, int H2, int W2, int levels, int min_shape,
                              double nlpow, double border) {
    memset(g, 0, sizeof *g);
    if (C < 1 || C > MAX_C) return lis_err_set("pump: %d descriptor channels (1..%d supported)", C, MAX_C);
    if (n1h < 1 || n1w < 1 || H2 < 2 || W2 < 2 || (double)n1h * n1w > 1e7 || (double)H2 * W2 > 1e8)
        return lis_err_set("pump: image sizes out of range (img1 cells %dx%d, img2 %dx%d)", n1h, n1w, H2, W2);
    if (!(nlpow >= 1.0 && nlpow <= 3.0)) return lis_err_set("pump: nlpow %g must be in [1, 3]", nlpow);
    if (!(border >= 0.0 && border <= 1.0)) return lis_err_set("pump: border %g must be in [0, 1]", border);
    if (levels < 0) return lis_err_set("pump: levels %d must be >= 0", levels);
    g->C = C;
    g->n1h = n1h;
    g->n1w = n1w;
    g->nlpow = nlpow;
    g->border = border;
    /* PyTorch: nrm ** (1 - norm) with norm the Python float 0.9: 1 - 0.9 is computed in double
     * (0.09999999999999998) and reaches the float pow as 0.1f. Computing it from a float 0.9f
     * instead gives 0.10000002f, a 2-ulp bias on every normaliser. */
    g->pow_s = (float)(1.0 - border);
    g->pow_n = (float)border;
    g->h[0] = H2;
    g->w[0] = W2;
    g->gh[0] = n1h;
    g->gw[0] = n1w;
    g->nlev = 1;
    for (int l = 1; l <= levels; l++) {
        if (l >= LIS_PUMP_MAX_LEVELS) return lis_err_set("pump: more than %d pyramid levels", LIS_PUMP_MAX_LEVELS);
        g->h[l] = (g->h[l - 1] - 1) / 2 + 1;
        g->w[l] = (g->w[l - 1] - 1) / 2 + 1;
        g->gh[l] = n1h + 1;
        g->gw[l] = n1w + 1;
        g->nlev = l + 1;
        if ((g->h[l] < g->w[l] ? g->h[l] : g->w[l]) <= min_shape) break;
    }
    for (int l = 0; l < g->nlev; l++) {
        g->ncell[l] = g->gh[l] * g->gw[l];
        g->cs[l] = (g->ncell[l] + 7) / 8 * 8;
    }
    return LIS_OK;
}

size_t lis_pump_level_floats(const lis_pump_geom *g, int l) { return (size_t)g->h[l] * g->w[l] * g->cs[l]; }

/* v^1.5 as v * sqrt(v) in double, rounded once: the correctly rounded power except in
 * vanishingly rare double-rounding cases. PyTorch's float pow (Sleef, <= 1 ulp) agrees with
 * the correctly rounded value on ~98 % of inputs; float32 v * sqrtf(v) only on ~76 %, and
 * those 1-ulp differences flip near-tied arg-maxes downstream. */
static inline float act1(const lis_pump_geom *g, float v) {
    if (!(v > 0.0f)) return 0.0f;
    if (g->nlpow == 1.5) {
        const double d = v;
        return (float)(d * sqrt(d));
    }
    return (float)pow((double)v, g->nlpow);
}

void lis_pump_activate(const lis_pump_geom *g, float *v, int64_t n) {
    int64_t i = 0;
    if (g->nlpow == 1.5) {
        const __m256 z = _mm256_setzero_ps();
        for (; i + 8 <= n; i += 8) {
            const __m256 x = _mm256_max_ps(_mm256_loadu_ps(v + i), z);
            const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
            const __m128 rl = _mm256_cvtpd_ps(_mm256_mul_pd(lo, _mm256_sqrt_pd(lo)));
            const __m128 rh = _mm256_cvtpd_ps(_mm256_mul_pd(hi, _mm256_sqrt_pd(hi)));
            _mm256_storeu_ps(v + i, _mm256_insertf128_ps(_mm256_castps128_ps256(rl), rh, 1));
        }
    }
    for (; i < n; i++) v[i] = act1(g, v[i]);
}

/* ---- level 0 ---- */

void lis_pump_corr_ref(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0) {
    const int cs = g->cs[0], np = g->h[0] * g->w[0];
    memset(P0, 0, sizeof(float) * (size_t)np * cs);
    for (int pix = 0; pix < np; pix++)
        for (int c = 0; c < g->ncell[0]; c++) {
            double acc = 0.0;
            for (int k = 0; k < g->C; k++) acc += (double)desc1[(size_t)k * cs + c] * desc2[(size_t)pix * g->C + k];
            P0[(size_t)pix * cs + c] = act1(g, (float)acc);
        }
}

typedef struct {
    const lis_pump_geom *g;
    const float *desc1, *desc2;
    float *P0;
} corr_job;

static void corr_task(void *ctx, int64_t y, int tid) {
    const corr_job *j = ctx;
    const lis_pump_geom *g = j->g;
    const float *brows[MAX_C];
    const int cs = g->cs[0];
    for (int k = 0; k < g->C; k++) brows[k] = j->desc1 + (size_t)k * cs;
    float *out = j->P0 + (size_t)y * g->w[0] * cs;
    lis_gemm_cpu(g->w[0], cs, g->C, j->desc2 + (size_t)y * g->w[0] * g->C, g->C, brows, out, cs, 0);
    lis_pump_activate(g, out, (int64_t)g->w[0] * cs);
}

void lis_pump_corr_cpu(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0) {
    corr_job j = {g, desc1, desc2, P0};
    lis_parallel_for(g->h[0], corr_task, &j);
}

lis_status lis_pump_desc2_pack_init(lis_pump_desc2_pack *pk, const lis_pump_geom *g, const float *desc2) {
    memset(pk, 0, sizeof *pk);
    pk->row = lis_calloc((size_t)g->h[0], sizeof *pk->row, "pump: packed img2 descriptors");
    if (!pk->row) return LIS_ERR;
    pk->rows = g->h[0];
    for (int y = 0; y < g->h[0]; y++)
        if (lis_gemm_pack_a(&pk->row[y], g->w[0], g->C, desc2 + (size_t)y * g->w[0] * g->C, g->C) != LIS_OK) {
            lis_pump_desc2_pack_free(pk);
            return LIS_ERR;
        }
    return LIS_OK;
}

void lis_pump_desc2_pack_free(lis_pump_desc2_pack *pk) {
    if (!pk->row) return;
    for (int y = 0; y < pk->rows; y++) lis_gemm_apack_free(&pk->row[y]);
    free(pk->row);
    memset(pk, 0, sizeof *pk);
}

void lis_pump_corr_row(const lis_pump_geom *g, const float *desc1, const lis_pump_desc2_pack *pk, int y, int c0,
                       int c1, float *out_row) {
    const float *brows[MAX_C];
    const int cs = g->cs[0];
    for (int k = 0; k < g->C; k++) brows[k] = desc1 + (size_t)k * cs + c0;
    lis_gemm_packed(&pk->row[y], c1 - c0, brows, out_row + c0, cs, 0);
    for (int x = 0; x < g->w[0]; x++) lis_pump_activate(g, out_row + (size_t)x * cs + c0, c1 - c0);
}

/* ---- pyramid geometry: children of parent rows ---- */

/* For parent row h of level l (>= 1) and direction d: the child row *ci (-1: none) and the
 * parents w in [*wa, *wb) whose child exists, child column = w + *off. */
static void child_run(const lis_pump_geom *g, int l, int d, int h, int *ci, int *wa, int *wb, int *off) {
    const int dx = dir_dx(d), dy = dir_dy(d);
    if (l == 1) {
        /* gap 1/2: children at (h - 1/2 + dy/2, w - 1/2 + dx/2) of the n1h x n1w grid */
        int i = h + (dy - 1) / 2;
        *ci = (i >= 0 && i < g->n1h) ? i : -1;
        *off = (dx - 1) / 2;
        *wa = dx < 0 ? 1 : 0;
        *wb = dx < 0 ? g->n1w + 1 : g->n1w;
    } else {
        const int gap = 1 << (l - 2);
        int i = h + dy * gap;
        *ci = (i >= 0 && i <= g->n1h) ? i : -1;
        *off = dx * gap;
        *wa = dx * gap < 0 ? -dx * gap : 0;
        *wb = dx * gap > 0 ? g->n1w + 1 - dx * gap : g->n1w + 1;
        if (*wb < *wa) *wb = *wa;
    }
}

void lis_pump_weights0(const lis_pump_geom *g, float *w0) {
    for (int c = 0; c < g->cs[0]; c++) w0[c] = c < g->ncell[0] ? 1.0f : 0.0f;
}

double lis_pump_level_norms(const lis_pump_geom *g, int l, const float *w_lo, float *wl, float *nrm) {
    const int cs = g->cs[l], gw = g->gw[l], gwlo = g->gw[l - 1];
    double sum = 0.0;
    memset(wl, 0, sizeof(float) * (size_t)cs);
    for (int k = 0; k < 9; k++) memset(nrm + (size_t)k * cs, 0, sizeof(float) * (size_t)cs);
    for (int h = 0; h < g->gh[l]; h++) {
        float n[9];
        for (int w = 0; w < gw; w++) {
            for (int k = 0; k < 9; k++) n[k] = 1e-8f; /* PyTorch: new_full(..., 1e-8) */
            for (int d = 0; d < 4; d++) {
                int ci, wa, wb, off;
                child_run(g, l, d, h, &ci, &wa, &wb, &off);
                if (ci < 0 || w < wa || w >= wb) continue;
                const float wc = w_lo[ci * gwlo + w + off];
                const int dx = dir_dx(d), dy = dir_dy(d);
                /* v + d is inside unless v is on the first row/column (d = -1) or the last (d = +1) */
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++)
                        if ((dy < 0 ? a != 0 : a != 2) && (dx < 0 ? b != 0 : b != 2)) n[a * 3 + b] += wc;
            }
            const int p = h * gw + w;
            wl[p] = n[4]; /* new_weights = nrm[..., 1, 1]: every child counts */
            sum += n[4];
            const float ks = powf(n[4], g->pow_s);
            for (int k = 0; k < 9; k++) nrm[(size_t)k * cs + p] = ks * powf(n[k], g->pow_n);
        }
    }
    return sum;
}

/* ---- forward level: reference ---- */

void lis_pump_fwd_level_ref(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo, float *P_up,
                            float *w_up) {
    const int hl = g->h[l], wl = g->w[l], hlo = g->h[l - 1], wlo = g->w[l - 1];
    const int cs = g->cs[l], cslo = g->cs[l - 1], gw = g->gw[l], gwlo = g->gw[l - 1];
    memset(P_up, 0, sizeof(float) * lis_pump_level_floats(g, l));
    memset(w_up, 0, sizeof(float) * (size_t)cs);
    for (int h = 0; h < g->gh[l]; h++)
        for (int w = 0; w < gw; w++) {
            const int p = h * gw + w;
            int child[4];
            for (int d = 0; d < 4; d++) {
                const int dx = dir_dx(d), dy = dir_dy(d);
                int ci, cj;
                if (l == 1) { ci = h + (dy - 1) / 2; cj = w + (dx - 1) / 2; }
                else { ci = h + dy * (1 << (l - 2)); cj = w + dx * (1 << (l - 2)); }
                child[d] = (ci >= 0 && ci < g->gh[l - 1] && cj >= 0 && cj < gwlo) ? ci * gwlo + cj : -1;
            }
            float s = 1e-8f;
            for (int d = 0; d < 4; d++)
                if (child[d] >= 0) s += w_lo[child[d]];
            w_up[p] = s;
            for (int vy = 0; vy < hl; vy++)
                for (int vx = 0; vx < wl; vx++) {
                    float S = 0.0f, n = 1e-8f;
                    for (int d = 0; d < 4; d++) {
                        const int qy = vy + dir_dy(d), qx = vx + dir_dx(d);
                        if (child[d] < 0 || qy < 0 || qy >= hl || qx < 0 || qx >= wl) continue;
                        /* Q[qy][qx] = max of P_lo over the 3x3 window at (2qy, 2qx), padding 1 */
                        float q = -INFINITY;
                        for (int yy = 2 * qy - 1; yy <= 2 * qy + 1; yy++)
                            for (int xx = 2 * qx - 1; xx <= 2 * qx + 1; xx++)
                                if (yy >= 0 && yy < hlo && xx >= 0 && xx < wlo) {
                                    float v = P_lo[((size_t)yy * wlo + xx) * cslo + child[d]];
                                    if (v > q) q = v;
                                }
                        const float t = q * w_lo[child[d]];
                        S += t;
                        n += w_lo[child[d]];
                    }
                    const float den = powf(s, g->pow_s) * powf(n, g->pow_n);
                    P_up[((size_t)vy * wl + vx) * cs + p] = act1(g, S / den);
                }
        }
}

/* ---- forward level: row primitives and the fast whole-level path ---- */

void lis_pump_pool_row(const lis_pump_geom *g, int l, const float *const lo[3], int r0, int r1, float *q_row) {
    const int wl = g->w[l], wlo = g->w[l - 1], cs = g->cs[l - 1];
    const int c0 = r0 * g->gw[l - 1], c1 = r1 * g->gw[l - 1];
    for (int vx = 0; vx < wl; vx++) {
        const float *src[9];
        int ns = 0;
        for (int k = 0; k < 3; k++) {
            if (!lo[k]) continue;
            for (int xx = 2 * vx - 1; xx <= 2 * vx + 1; xx++)
                if (xx >= 0 && xx < wlo) src[ns++] = lo[k] + (size_t)xx * cs;
        }
        float *dst = q_row + (size_t)vx * cs;
        int c = c0;
        for (; c + 8 <= c1; c += 8) {
            __m256 m = _mm256_loadu_ps(src[0] + c);
            for (int s = 1; s < ns; s++) m = _mm256_max_ps(m, _mm256_loadu_ps(src[s] + c));
            _mm256_storeu_ps(dst + c, m);
        }
        for (; c < c1; c++) {
            float m = src[0][c];
            for (int s = 1; s < ns; s++) m = src[s][c] > m ? src[s][c] : m;
            dst[c] = m;
        }
    }
}

void lis_pump_agg_row(const lis_pump_geom *g, int l, int vy, const float *q_above, const float *q_below,
                      const float *w_lo, const float *nrm, int r0, int r1, float *out_row) {
    const int hl = g->h[l], wl = g->w[l], cs = g->cs[l], cslo = g->cs[l - 1], gw = g->gw[l], gwlo = g->gw[l - 1];
    const int p0 = r0 * gw, p1 = r1 * gw;
    const int a = vy == 0 ? 0 : (vy == hl - 1 ? 2 : 1);
    for (int vx = 0; vx < wl; vx++) {
        float *o = out_row + (size_t)vx * cs;
        memset(o + p0, 0, sizeof(float) * (size_t)(p1 - p0));
        for (int d = 0; d < 4; d++) {
            const float *q = dir_dy(d) < 0 ? q_above : q_below;
            const int xs = vx + dir_dx(d);
            if (!q || xs < 0 || xs >= wl) continue;
            const float *src = q + (size_t)xs * cslo;
            for (int h = r0; h < r1; h++) {
                int ci, wa, wb, off;
                child_run(g, l, d, h, &ci, &wa, &wb, &off);
                if (ci < 0) continue;
                float *pd = o + h * gw;
                const float *sc = src + ci * gwlo + off, *wc = w_lo + ci * gwlo + off;
                int w = wa;
                /* S += Q * w_child, product then sum (PyTorch: corr *= weights; index_add_) */
                for (; w + 8 <= wb; w += 8)
                    _mm256_storeu_ps(pd + w, _mm256_add_ps(_mm256_loadu_ps(pd + w),
                                                           _mm256_mul_ps(_mm256_loadu_ps(sc + w), _mm256_loadu_ps(wc + w))));
                for (; w < wb; w++) {
                    const float t = sc[w] * wc[w];
                    pd[w] += t;
                }
            }
        }
        const int b = vx == 0 ? 0 : (vx == wl - 1 ? 2 : 1);
        const float *nr = nrm + (size_t)(a * 3 + b) * cs;
        int p = p0;
        for (; p + 8 <= p1; p += 8) _mm256_storeu_ps(o + p, _mm256_div_ps(_mm256_loadu_ps(o + p), _mm256_loadu_ps(nr + p)));
        for (; p < p1; p++) o[p] /= nr[p];
        lis_pump_activate(g, o + p0, p1 - p0);
    }
}

typedef struct {
    const lis_pump_geom *g;
    int l;
    const float *P_lo, *w_lo, *nrm;
    float *P_up, *Q;
} fwd_job;

static void pool_task(void *ctx, int64_t vy, int tid) {
    const fwd_job *j = ctx;
    const lis_pump_geom *g = j->g;
    const int hlo = g->h[j->l - 1];
    const size_t rowf = (size_t)g->w[j->l - 1] * g->cs[j->l - 1];
    const float *lo[3];
    for (int k = 0; k < 3; k++) {
        int yy = 2 * (int)vy - 1 + k;
        lo[k] = (yy >= 0 && yy < hlo) ? j->P_lo + (size_t)yy * rowf : NULL;
    }
    lis_pump_pool_row(g, j->l, lo, 0, g->gh[j->l - 1], j->Q + (size_t)vy * g->w[j->l] * g->cs[j->l - 1]);
}

static void agg_task(void *ctx, int64_t vy, int tid) {
    const fwd_job *j = ctx;
    const lis_pump_geom *g = j->g;
    const int hl = g->h[j->l];
    const size_t qrow = (size_t)g->w[j->l] * g->cs[j->l - 1];
    const float *qa = vy > 0 ? j->Q + (size_t)(vy - 1) * qrow : NULL;
    const float *qb = vy + 1 < hl ? j->Q + (size_t)(vy + 1) * qrow : NULL;
    lis_pump_agg_row(g, j->l, (int)vy, qa, qb, j->w_lo, j->nrm, 0, g->gh[j->l],
                     j->P_up + (size_t)vy * g->w[j->l] * g->cs[j->l]);
}

void lis_pump_fwd_level_cpu(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo, float *P_up,
                            float *w_up) {
    /* the pooled level (h_l x w_l x cs_{l-1}) and the normalisers: test/bench path, so it
     * allocates; the driver (pump_pyramid.c) streams rows through fixed buffers instead */
    float *Q = lis_alloc_aligned(sizeof(float) * ((size_t)g->h[l] * g->w[l] * g->cs[l - 1] + 9 * (size_t)g->cs[l]),
                                 "pump: pooled level");
    LIS_ASSERT(Q != NULL);
    float *nrm = Q + (size_t)g->h[l] * g->w[l] * g->cs[l - 1];
    lis_pump_level_norms(g, l, w_lo, w_up, nrm);
    memset(P_up, 0, sizeof(float) * lis_pump_level_floats(g, l));
    fwd_job j = {g, l, P_lo, w_lo, nrm, P_up, Q};
    lis_parallel_for(g->h[l], pool_task, &j);
    lis_parallel_for(g->h[l], agg_task, &j);
    free(Q);
}
