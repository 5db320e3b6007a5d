/* pool.c — max pool and global average pool (see pool.h). */
#include "kernels/pool.h"

#include <immintrin.h>
#include <math.h>

#include "runtime/threads.h"

void lis_maxpool_out_shape(const lis_maxpool_params *p, int *Ho, int *Wo) {
    *Ho = (p->H + 2 * p->pad - p->k) / p->stride + 1;
    *Wo = (p->W + 2 * p->pad - p->k) / p->stride + 1;
}

lis_status lis_maxpool_check(const lis_maxpool_params *p) {
    if (p->N < 1 || p->C < 1 || p->H < 1 || p->W < 1 || p->k < 1 || p->stride < 1 || p->pad < 0)
        return lis_err_set("maxpool: bad params (N %d C %d H %d W %d k %d stride %d pad %d)", p->N, p->C, p->H, p->W,
                           p->k, p->stride, p->pad);
    /* PyTorch: pad must be at most half the kernel, so no window is all padding */
    if (2 * p->pad > p->k) return lis_err_set("maxpool: pad %d exceeds half the kernel %d", p->pad, p->k);
    if (p->H + 2 * p->pad < p->k || p->W + 2 * p->pad < p->k)
        return lis_err_set("maxpool: kernel %d larger than the padded input %dx%d", p->k, p->H + 2 * p->pad,
                           p->W + 2 * p->pad);
    return LIS_OK;
}

static void maxpool_plane_ref(const lis_maxpool_params *p, const float *x, float *y, int Ho, int Wo) {
    for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
            float m = -INFINITY;
            for (int i = 0; i < p->k; i++) {
                int iy = oy * p->stride - p->pad + i;
                if (iy < 0 || iy >= p->H) continue;
                for (int j = 0; j < p->k; j++) {
                    int ix = ox * p->stride - p->pad + j;
                    if (ix < 0 || ix >= p->W) continue;
                    float v = x[(size_t)iy * p->W + ix];
                    /* PyTorch: a NaN wins (val > max || isnan(val)) */
                    if (v > m || isnan(v)) m = v;
                }
            }
            if (p->relu && !(m >= 0.0f) && !isnan(m)) m = 0.0f;
            y[(size_t)oy * Wo + ox] = m;
        }
}

void lis_maxpool_ref(const lis_maxpool_params *p, const float *x, float *y) {
    int Ho, Wo;
    lis_maxpool_out_shape(p, &Ho, &Wo);
    for (size_t pl = 0; pl < (size_t)p->N * p->C; pl++)
        maxpool_plane_ref(p, x + pl * p->H * p->W, y + pl * Ho * Wo, Ho, Wo);
}

typedef struct {
    const lis_maxpool_params *p;
    const float *x;
    float *y;
    int Ho, Wo;
} mp_job;

/* max that lets a NaN through from either side, like PyTorch's (val > max || isnan(val)) */
static inline __m256 max8(__m256 m, __m256 v) {
    __m256 r = _mm256_max_ps(v, m); /* = v > m ? v : m, m if either is NaN */
    return _mm256_blendv_ps(r, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}
static inline float max1(float m, float v) { return (v > m || isnan(v)) ? v : m; }

/* One plane. Rows: the column-wise max of the k input rows of each output row is formed
 * first with 8-wide vectors (unit stride), then each output takes the max of k
 * neighbours of that row, so the strided window costs k + k loads per output rather
 * than k*k scalar compares. Padded cells are skipped (-inf), as in _ref. */
static void mp_task(void *ctx, int64_t pl, int tid) {
    const mp_job *j = ctx;
    const lis_maxpool_params *p = j->p;
    const float *x = j->x + (size_t)pl * p->H * p->W;
    float *y = j->y + (size_t)pl * j->Ho * j->Wo;
    float colmax[4096 + 8];
    if (p->W > 4096) { /* very wide rows: the plain loop */
        lis_maxpool_params one = *p;
        one.N = one.C = 1;
        lis_maxpool_ref(&one, x, y);
        return;
    }
    for (int oy = 0; oy < j->Ho; oy++) {
        int iy0 = oy * p->stride - p->pad, iy1 = iy0 + p->k;
        if (iy0 < 0) iy0 = 0;
        if (iy1 > p->H) iy1 = p->H;
        const float *r0 = x + (size_t)iy0 * p->W;
        int xw = 0;
        for (; xw + 8 <= p->W; xw += 8) {
            __m256 m = _mm256_loadu_ps(r0 + xw);
            for (int iy = iy0 + 1; iy < iy1; iy++) m = max8(m, _mm256_loadu_ps(x + (size_t)iy * p->W + xw));
            _mm256_storeu_ps(colmax + xw, m);
        }
        for (; xw < p->W; xw++) {
            float m = r0[xw];
            for (int iy = iy0 + 1; iy < iy1; iy++) m = max1(m, x[(size_t)iy * p->W + xw]);
            colmax[xw] = m;
        }
        float *yr = y + (size_t)oy * j->Wo;
        for (int ox = 0; ox < j->Wo; ox++) {
            int ix0 = ox * p->stride - p->pad, ix1 = ix0 + p->k;
            if (ix0 < 0) ix0 = 0;
            if (ix1 > p->W) ix1 = p->W;
            float m = colmax[ix0];
            for (int ix = ix0 + 1; ix < ix1; ix++) m = max1(m, colmax[ix]);
            if (p->relu && !(m >= 0.0f) && !isnan(m)) m = 0.0f;
            yr[ox] = m;
        }
    }
}

void lis_maxpool_cpu(const lis_maxpool_params *p, const float *x, float *y) {
    mp_job j = {p, x, y, 0, 0};
    lis_maxpool_out_shape(p, &j.Ho, &j.Wo);
    lis_parallel_for((int64_t)p->N * p->C, mp_task, &j);
}

/* The reduction order is the plain left-to-right float sum in both variants. (PyTorch
 * computes x.mean((-1,-2)) with its own summation order: ~1 ulp apart.) */
static float plane_mean(const float *x, int hw) {
    float s = 0.0f;
    for (int i = 0; i < hw; i++) s += x[i];
    return s / (float)hw;
}

void lis_avgpool_global_ref(int N, int C, int H, int W, const float *x, float *y) {
    for (size_t pl = 0; pl < (size_t)N * C; pl++) y[pl] = plane_mean(x + pl * H * W, H * W);
}

typedef struct {
    const float *x;
    float *y;
    int hw;
} ap_job;

static void ap_task(void *ctx, int64_t i, int tid) {
    const ap_job *j = ctx;
    /* 256 planes per task: a plane is only 49 floats in ResNet-50 */
    for (int64_t pl = i * 256; pl < (i + 1) * 256; pl++) j->y[pl] = plane_mean(j->x + (size_t)pl * j->hw, j->hw);
}

void lis_avgpool_global_cpu(int N, int C, int H, int W, const float *x, float *y) {
    int64_t planes = (int64_t)N * C;
    ap_job j = {x, y, H * W};
    lis_parallel_for(planes / 256, ap_task, &j);
    for (int64_t pl = planes / 256 * 256; pl < planes; pl++) y[pl] = plane_mean(x + (size_t)pl * H * W, H * W);
}
