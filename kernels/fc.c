/* fc.c — see fc.h. The layers are small (<= 1024 x 1024, batch of a few samples), so
 * the fast path is a threaded dot-product loop over outputs rather than a GEMM. */
#include "kernels/fc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

lis_status lis_fc_prepare(lis_fc *fc, const float *weight, const float *bias, int in, int out, double lr_multiplier,
                          int lrelu) {
    memset(fc, 0, sizeof *fc);
    fc->wt = lis_malloc(sizeof(float) * (size_t)in * out, "fc weights");
    fc->b = lis_malloc(sizeof(float) * (size_t)out, "fc bias");
    if (!fc->wt || !fc->b) { lis_fc_free(fc); return LIS_ERR; }
    float wg = (float)(lr_multiplier / sqrt((double)in)), bg = (float)lr_multiplier;
    for (size_t i = 0; i < (size_t)in * out; i++) fc->wt[i] = weight[i] * wg;
    for (int o = 0; o < out; o++) fc->b[o] = bias ? (lr_multiplier != 1.0 ? bias[o] * bg : bias[o]) : 0.0f;
    fc->in = in;
    fc->out = out;
    fc->lrelu = lrelu;
    return LIS_OK;
}

void lis_fc_free(lis_fc *fc) {
    if (!fc) return;
    free(fc->wt);
    free(fc->b);
    memset(fc, 0, sizeof *fc);
}

static inline float finish(const lis_fc *fc, float acc, int o) {
    if (!fc->lrelu) return fc->b[o] + acc;
    float v = acc + fc->b[o];
    if (v < 0.0f) v *= 0.2f;
    return v * (float)1.4142135623730951;
}

void lis_fc_ref(const lis_fc *fc, const float *x, float *y, int B) {
    for (int b = 0; b < B; b++)
        for (int o = 0; o < fc->out; o++) {
            float acc = 0.0f;
            for (int i = 0; i < fc->in; i++) acc += x[(size_t)b * fc->in + i] * fc->wt[(size_t)o * fc->in + i];
            y[(size_t)b * fc->out + o] = finish(fc, acc, o);
        }
}

typedef struct { const lis_fc *fc; const float *x; float *y; int B; } fc_job;

static void fc_task(void *ctx, int64_t o0, int tid) {
    fc_job *j = ctx;
    const lis_fc *fc = j->fc;
    for (int o = (int)o0 * 64; o < fc->out && o < (int)o0 * 64 + 64; o++) {
        const float *w = fc->wt + (size_t)o * fc->in;
        for (int b = 0; b < j->B; b++) {
            const float *x = j->x + (size_t)b * fc->in;
            float acc = 0.0f;
            for (int i = 0; i < fc->in; i++) acc += x[i] * w[i];
            j->y[(size_t)b * fc->out + o] = finish(fc, acc, o);
        }
    }
}

void lis_fc_cpu(const lis_fc *fc, const float *x, float *y, int B) {
    fc_job j = {fc, x, y, B};
    lis_parallel_for((fc->out + 63) / 64, fc_task, &j);
}
