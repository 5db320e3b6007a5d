/* chan_affine.c — per-channel affine map after an optional ReLU (see chan_affine.h). */
#include "kernels/chan_affine.h"

#include <immintrin.h>
#include <math.h>

#include "runtime/threads.h"

lis_status lis_chan_affine_fold(int C, const float *gamma, const float *beta, const float *mean, const float *var,
                                double eps, float *scale, float *shift, const char *what) {
    for (int c = 0; c < C; c++) {
        double ve = (double)var[c] + eps;
        if (!(ve > 0.0) || !isfinite(ve))
            return lis_err_set("%s: running_var[%d] = %g: running_var + eps must be positive", what, c, (double)var[c]);
        double a = (double)gamma[c] / sqrt(ve);
        scale[c] = (float)a;
        shift[c] = (float)((double)beta[c] - (double)mean[c] * a);
    }
    return LIS_OK;
}

static inline float one(float v, int relu, float a, float b) {
    if (relu && !(v > 0.0f)) v = 0.0f;
    float t = v * a; /* separate statements: no FMA contraction, same as the vector path */
    return t + b;
}

void lis_chan_affine_ref(const lis_chan_affine_params *p, const float *scale, const float *shift, const float *x,
                         float *y) {
    for (int64_t pl = 0; pl < (int64_t)p->N * p->C; pl++) {
        int c = (int)(pl % p->C);
        for (int64_t i = 0; i < p->HW; i++) y[pl * p->HW + i] = one(x[pl * p->HW + i], p->relu, scale[c], shift[c]);
    }
}

typedef struct {
    const lis_chan_affine_params *p;
    const float *scale, *shift, *x;
    float *y;
} ca_job;

static void ca_task(void *ctx, int64_t pl, int tid) {
    const ca_job *j = ctx;
    const int64_t n = j->p->HW;
    const int c = (int)(pl % j->p->C);
    const float *x = j->x + pl * n;
    float *y = j->y + pl * n;
    const __m256 a = _mm256_set1_ps(j->scale[c]), b = _mm256_set1_ps(j->shift[c]), z = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        if (j->p->relu) v = _mm256_and_ps(v, _mm256_cmp_ps(v, z, _CMP_GT_OQ)); /* NaN -> 0 like !(v > 0) */
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_mul_ps(v, a), b));
    }
    for (; i < n; i++) y[i] = one(x[i], j->p->relu, j->scale[c], j->shift[c]);
}

void lis_chan_affine_cpu(const lis_chan_affine_params *p, const float *scale, const float *shift, const float *x,
                         float *y) {
    ca_job j = {p, scale, shift, x, y};
    lis_parallel_for((int64_t)p->N * p->C, ca_task, &j);
}
