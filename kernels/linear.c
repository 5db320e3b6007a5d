/* linear.c — y = x W^T + b (see linear.h). */
#include "kernels/linear.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/threads.h"

void lis_linear_ref(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OUT; o++) {
            double acc = 0.0;
            for (int i = 0; i < IN; i++) acc += (double)x[(size_t)n * IN + i] * (double)W[(size_t)o * IN + i];
            float v = (float)acc;
            y[(size_t)n * OUT + o] = b ? v + b[o] : v;
        }
}

#define OBLOCK 32 /* output features per task */
#define NBLOCK 8  /* inputs sharing one pass over a W row */

typedef struct {
    int N, IN, OUT;
    const float *x, *W, *b;
    float *y;
} lin_job;

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static void lin_task(void *ctx, int64_t t, int tid) {
    const lin_job *j = ctx;
    int o0 = (int)t * OBLOCK, o1 = o0 + OBLOCK < j->OUT ? o0 + OBLOCK : j->OUT;
    int in8 = j->IN & ~7;
    for (int n0 = 0; n0 < j->N; n0 += NBLOCK) {
        int nb = j->N - n0 < NBLOCK ? j->N - n0 : NBLOCK;
        for (int o = o0; o < o1; o++) {
            const float *w = j->W + (size_t)o * j->IN;
            __m256 acc[NBLOCK];
            for (int q = 0; q < nb; q++) acc[q] = _mm256_setzero_ps();
            for (int i = 0; i < in8; i += 8) {
                __m256 wv = _mm256_loadu_ps(w + i);
                for (int q = 0; q < nb; q++)
                    acc[q] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(j->x + (size_t)(n0 + q) * j->IN + i), acc[q]);
            }
            for (int q = 0; q < nb; q++) {
                float s = hsum(acc[q]);
                const float *xr = j->x + (size_t)(n0 + q) * j->IN;
                for (int i = in8; i < j->IN; i++) s += w[i] * xr[i];
                j->y[(size_t)(n0 + q) * j->OUT + o] = j->b ? s + j->b[o] : s;
            }
        }
    }
}

void lis_linear_cpu(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y) {
    lin_job j = {N, IN, OUT, x, W, b, y};
    lis_parallel_for((OUT + OBLOCK - 1) / OBLOCK, lin_task, &j);
}
