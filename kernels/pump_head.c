/* pump_head.c — PixelShuffle(2) + bilinear x2 + L2 normalisation (see pump_head.h). */
#include "kernels/pump_head.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

/* PyTorch's area_pixel_compute_source_index for scale 0.5 (exact in float), then the two
 * taps and weights of output index o along an axis of n shuffled samples. */
static inline void taps(int o, int n, int *i0, int *i1, float *l0, float *l1) {
    float s = 0.5f * ((float)o + 0.5f) - 0.5f;
    if (s < 0.0f) s = 0.0f;
    *i0 = (int)s;
    *i1 = *i0 + (*i0 < n - 1 ? 1 : 0);
    *l1 = s - (float)*i0;
    *l0 = 1.0f - *l1;
}

/* value of the shuffled map s[c, R, X] */
static inline float shuf(const lis_pump_head_params *p, const float *x, int c, int R, int X) {
    size_t hw = (size_t)p->h * p->w;
    return x[(size_t)(4 * c + 2 * (R & 1) + (X & 1)) * hw + (size_t)(R >> 1) * p->w + (X >> 1)];
}

/* bilinear value of channel c at output pixel (Y, X), with PyTorch's order of operations */
static inline float bilin(const lis_pump_head_params *p, const float *x, int c, int Y, int X) {
    int y0, y1, x0, x1;
    float h0, h1, w0, w1;
    taps(Y, 2 * p->h, &y0, &y1, &h0, &h1);
    taps(X, 2 * p->w, &x0, &x1, &w0, &w1);
    float t0 = w0 * shuf(p, x, c, y0, x0) + w1 * shuf(p, x, c, y0, x1);
    float t1 = w0 * shuf(p, x, c, y1, x0) + w1 * shuf(p, x, c, y1, x1);
    return h0 * t0 + h1 * t1;
}

size_t lis_pump_head_workspace_size(const lis_pump_head_params *p) {
    return (size_t)4 * p->h * p->w * p->C * sizeof(float);
}

/* one pixel: C values of `v` normalised into out (stride os) */
static void normalise_ref(const float *v, int C, float *out, size_t os) {
    double ss = 0.0;
    for (int c = 0; c < C; c++) ss += (double)v[c] * v[c];
    float nrm = (float)sqrt(ss);
    if (nrm < 1e-12f) nrm = 1e-12f;
    for (int c = 0; c < C; c++) out[(size_t)c * os] = v[c] / nrm;
}

void lis_pump_head_full_ref(const lis_pump_head_params *p, const float *x, float *out, void *ws) {
    (void)ws;
    const int H = 4 * p->h, W = 4 * p->w, C = p->C;
    float *v = malloc(sizeof(float) * (size_t)C);
    LIS_ASSERT(v != NULL);
    for (int Y = 0; Y < H; Y++)
        for (int X = 0; X < W; X++) {
            for (int c = 0; c < C; c++) v[c] = bilin(p, x, c, Y, X);
            normalise_ref(v, C, out + ((size_t)Y * W + X) * C, 1);
        }
    free(v);
}

void lis_pump_head_grid_ref(const lis_pump_head_params *p, const float *x, float *out) {
    const int C = p->C;
    const size_t hw = (size_t)p->h * p->w;
    float *v = malloc(sizeof(float) * (size_t)C);
    LIS_ASSERT(v != NULL);
    for (int i = 0; i < p->h; i++)
        for (int j = 0; j < p->w; j++) {
            for (int c = 0; c < C; c++) v[c] = bilin(p, x, c, 4 * i + 2, 4 * j + 2);
            normalise_ref(v, C, out + (size_t)i * p->w + j, hw);
        }
    free(v);
}

/* ---- fast paths ---- */

typedef struct {
    const lis_pump_head_params *p;
    const float *x;
    float *out, *xq;
} head_job;

/* xq[q][pix][c] = x[4c + q][pix], one task per (q, block of 64 pixels) */
static void rearrange_task(void *ctx, int64_t t, int tid) {
    const head_job *j = ctx;
    const int C = j->p->C;
    const size_t hw = (size_t)j->p->h * j->p->w;
    const int nb = (int)((hw + 63) / 64);
    const int q = (int)(t / nb);
    const size_t p0 = (size_t)(t % nb) * 64, p1 = p0 + 64 < hw ? p0 + 64 : hw;
    float *dst = j->xq + (size_t)q * hw * C;
    for (int c = 0; c < C; c++) {
        const float *src = j->x + (size_t)(4 * c + q) * hw;
        for (size_t pix = p0; pix < p1; pix++) dst[pix * C + c] = src[pix];
    }
}

/* one output row Y: every pixel is 4 contiguous tap rows of C floats */
static void full_row_task(void *ctx, int64_t Y, int tid) {
    const head_job *j = ctx;
    const lis_pump_head_params *p = j->p;
    const int C = p->C, W = 4 * p->w;
    const size_t hw = (size_t)p->h * p->w;
    int y0, y1;
    float h0, h1;
    taps((int)Y, 2 * p->h, &y0, &y1, &h0, &h1);
    const __m256 vh0 = _mm256_set1_ps(h0), vh1 = _mm256_set1_ps(h1);
    for (int X = 0; X < W; X++) {
        int x0, x1;
        float w0, w1;
        taps(X, 2 * p->w, &x0, &x1, &w0, &w1);
        const __m256 vw0 = _mm256_set1_ps(w0), vw1 = _mm256_set1_ps(w1);
#define TAP(R, Xs) (j->xq + ((size_t)(2 * ((R) & 1) + ((Xs) & 1)) * hw + (size_t)((R) >> 1) * p->w + ((Xs) >> 1)) * C)
        const float *a = TAP(y0, x0), *b = TAP(y0, x1), *c2 = TAP(y1, x0), *d = TAP(y1, x1);
#undef TAP
        float *o = j->out + ((size_t)Y * W + X) * C;
        __m256 ss = _mm256_setzero_ps();
        int c = 0;
        for (; c + 8 <= C; c += 8) {
            __m256 t0 = _mm256_add_ps(_mm256_mul_ps(vw0, _mm256_loadu_ps(a + c)), _mm256_mul_ps(vw1, _mm256_loadu_ps(b + c)));
            __m256 t1 = _mm256_add_ps(_mm256_mul_ps(vw0, _mm256_loadu_ps(c2 + c)), _mm256_mul_ps(vw1, _mm256_loadu_ps(d + c)));
            __m256 v = _mm256_add_ps(_mm256_mul_ps(vh0, t0), _mm256_mul_ps(vh1, t1));
            _mm256_storeu_ps(o + c, v);
            ss = _mm256_fmadd_ps(v, v, ss);
        }
        float s8[8], sum = 0.0f;
        _mm256_storeu_ps(s8, ss);
        for (int k = 0; k < 8; k++) sum += s8[k];
        for (; c < C; c++) {
            float t0 = w0 * a[c] + w1 * b[c], t1 = w0 * c2[c] + w1 * d[c];
            o[c] = h0 * t0 + h1 * t1;
            sum += o[c] * o[c];
        }
        float nrm = sqrtf(sum);
        if (nrm < 1e-12f) nrm = 1e-12f;
        const __m256 vn = _mm256_set1_ps(nrm);
        for (c = 0; c + 8 <= C; c += 8) _mm256_storeu_ps(o + c, _mm256_div_ps(_mm256_loadu_ps(o + c), vn));
        for (; c < C; c++) o[c] /= nrm;
    }
}

void lis_pump_head_full_cpu(const lis_pump_head_params *p, const float *x, float *out, void *ws) {
    head_job j = {p, x, out, ws};
    const size_t hw = (size_t)p->h * p->w;
    lis_parallel_for(4 * (int64_t)((hw + 63) / 64), rearrange_task, &j);
    lis_parallel_for(4 * (int64_t)p->h, full_row_task, &j);
}

/* one row i of cells: v[c][j] from the cell's own 4 sub-pixel channels, then the norm */
static void grid_row_task(void *ctx, int64_t i, int tid) {
    const head_job *j = ctx;
    const lis_pump_head_params *p = j->p;
    const int C = p->C, w = p->w;
    const size_t hw = (size_t)p->h * w;
    float ss[1024];
    for (int j0 = 0; j0 < w; j0 += 1024) {
        const int nj = w - j0 < 1024 ? w - j0 : 1024;
        for (int t = 0; t < nj; t++) ss[t] = 0.0f;
        for (int c = 0; c < C; c++) {
            const float *a = j->x + (size_t)(4 * c) * hw + (size_t)i * w + j0;
            float *o = j->out + (size_t)c * hw + (size_t)i * w + j0;
            for (int t = 0; t < nj; t++) {
                /* rows 2i (a = 0) and 2i+1 (a = 1), columns 2j and 2j+1, weights 0.25 / 0.75 */
                float t0 = 0.25f * a[t] + 0.75f * a[t + hw];
                float t1 = 0.25f * a[t + 2 * hw] + 0.75f * a[t + 3 * hw];
                float v = 0.25f * t0 + 0.75f * t1;
                o[t] = v;
                ss[t] += v * v;
            }
        }
        for (int t = 0; t < nj; t++) {
            float nrm = sqrtf(ss[t]);
            ss[t] = nrm < 1e-12f ? 1e-12f : nrm;
        }
        for (int c = 0; c < C; c++) {
            float *o = j->out + (size_t)c * hw + (size_t)i * w + j0;
            for (int t = 0; t < nj; t++) o[t] /= ss[t];
        }
    }
}

void lis_pump_head_grid_cpu(const lis_pump_head_params *p, const float *x, float *out) {
    head_job j = {p, x, out, NULL};
    lis_parallel_for(p->h, grid_row_task, &j);
}
