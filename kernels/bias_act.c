/* bias_act.c — see bias_act.h. */
#include "kernels/bias_act.h"

#include "runtime/threads.h"

static inline float act1(const lis_bias_act_params *p, float v) {
    if (p->lrelu && v < 0.0f) v *= p->slope;   /* torch leaky_relu: x if x >= 0 else x*slope */
    v *= p->gain;
    if (p->clamp >= 0.0f) v = v < -p->clamp ? -p->clamp : (v > p->clamp ? p->clamp : v);
    return v;
}

void lis_bias_act_ref(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N, int64_t C,
                      int64_t inner) {
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t k = (n * C + c) * inner + i;
                float v = x[k];
                if (b) v = v + b[c];
                y[k] = act1(p, v);
            }
}

typedef struct {
    const lis_bias_act_params *p;
    const float *x, *b;
    float *y;
    int64_t C, inner;
} ba_job;

static void ba_task(void *ctx, int64_t row, int tid) {
    ba_job *j = ctx;
    int64_t c = row % j->C;
    const float *x = j->x + row * j->inner;
    float *y = j->y + row * j->inner;
    float bias = j->b ? j->b[c] : 0.0f;
    for (int64_t i = 0; i < j->inner; i++) y[i] = act1(j->p, j->b ? x[i] + bias : x[i]);
}

void lis_bias_act_cpu(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N, int64_t C,
                      int64_t inner) {
    if (N * C * inner < (1 << 16)) { lis_bias_act_ref(p, x, b, y, N, C, inner); return; }
    ba_job j = {p, x, b, y, C, inner};
    lis_parallel_for(N * C, ba_task, &j);
}
