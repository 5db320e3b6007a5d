/* dwconv.c — depthwise convolution with the fused ReLU / affine / residual epilogue
 * (see dwconv.h).
 *
 * Workspace of lis_dwconv_cpu: one zero-padded plane per thread,
 *   (H + 2 pad) rows of Wp = round_up(W + 2 pad + 8, 8) floats,
 * so that every 8-wide load of an output block (columns ox .. ox+7 plus the k-1 taps to
 * their right) stays inside the row, whatever Wo is.
 */
#include "kernels/dwconv.h"

#include <immintrin.h>
#include <string.h>

#include "runtime/threads.h"

void lis_dwconv_out_shape(const lis_dwconv_params *p, int *Ho, int *Wo) {
    *Ho = p->H + 2 * p->pad - p->k + 1;
    *Wo = p->W + 2 * p->pad - p->k + 1;
}

lis_status lis_dwconv_check(const lis_dwconv_params *p) {
    if (p->N < 1 || p->C < 1 || p->H < 1 || p->W < 1 || p->k < 1 || p->pad < 0)
        return lis_err_set("dwconv: bad params (N %d C %d H %d W %d k %d pad %d)", p->N, p->C, p->H, p->W, p->k, p->pad);
    int Ho, Wo;
    lis_dwconv_out_shape(p, &Ho, &Wo);
    if (Ho < 1 || Wo < 1)
        return lis_err_set("dwconv: kernel %d larger than the padded input %dx%d", p->k, p->H + 2 * p->pad,
                           p->W + 2 * p->pad);
    if ((double)(p->H + 2 * p->pad) * (p->W + 2 * p->pad + 16) > 1e9)
        return lis_err_set("dwconv: plane %dx%d too large", p->H, p->W);
    return LIS_OK;
}

double lis_dwconv_macs(const lis_dwconv_params *p) {
    int Ho, Wo;
    lis_dwconv_out_shape(p, &Ho, &Wo);
    return (double)p->N * p->C * Ho * Wo * p->k * p->k;
}

/* the epilogue shared by both variants: res + scale * act(z) + shift */
static inline float epilogue(const lis_dwconv_params *p, float z, float sc, float sh, float r) {
    if (p->relu && !(z > 0.0f)) z = 0.0f;
    return r + (z * sc + sh);
}

void lis_dwconv_ref(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x, const float *res,
                    float *y, void *ws) {
    (void)ws;
    int Ho, Wo, k = p->k;
    lis_dwconv_out_shape(p, &Ho, &Wo);
    for (int n = 0; n < p->N; n++)
        for (int c = 0; c < p->C; c++) {
            const float *xp = x + ((size_t)n * p->C + c) * p->H * p->W;
            const float *wc = wt->w + (size_t)c * k * k;
            size_t ob = ((size_t)n * p->C + c) * Ho * Wo;
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    double acc = 0.0;
                    for (int r = 0; r < k; r++) {
                        int iy = oy - p->pad + r;
                        if (iy < 0 || iy >= p->H) continue;
                        for (int s = 0; s < k; s++) {
                            int ix = ox - p->pad + s;
                            if (ix < 0 || ix >= p->W) continue;
                            acc += (double)wc[r * k + s] * xp[(size_t)iy * p->W + ix];
                        }
                    }
                    float z = (float)acc + (wt->bias ? wt->bias[c] : 0.0f);
                    size_t o = ob + (size_t)oy * Wo + ox;
                    y[o] = epilogue(p, z, wt->scale ? wt->scale[c] : 1.0f, wt->shift ? wt->shift[c] : 0.0f,
                                    res ? res[o] : 0.0f);
                }
        }
}

static int padded_width(const lis_dwconv_params *p) { return (p->W + 2 * p->pad + 8 + 7) / 8 * 8; }

size_t lis_dwconv_workspace_size(const lis_dwconv_params *p) {
    size_t per = (size_t)(p->H + 2 * p->pad) * padded_width(p) * sizeof(float);
    per = (per + 63) / 64 * 64;
    return per * (size_t)lis_threads_count();
}

typedef struct {
    const lis_dwconv_params *p;
    const lis_dwconv_weights *wt;
    const float *x, *res;
    float *y;
    char *ws;
    size_t per;
    int Ho, Wo, Wp;
} dw_job;

static void dw_task(void *ctx, int64_t pl, int tid) {
    const dw_job *j = ctx;
    const lis_dwconv_params *p = j->p;
    const int k = p->k, pad = p->pad, Wp = j->Wp, Ho = j->Ho, Wo = j->Wo, c = (int)(pl % p->C);
    float *buf = (float *)(j->ws + (size_t)tid * j->per);
    const float *xp = j->x + (size_t)pl * p->H * p->W;
    /* zero-padded copy of the plane */
    memset(buf, 0, (size_t)(p->H + 2 * pad) * Wp * sizeof(float));
    for (int iy = 0; iy < p->H; iy++) memcpy(buf + (size_t)(iy + pad) * Wp + pad, xp + (size_t)iy * p->W, (size_t)p->W * sizeof(float));
    const float *wc = j->wt->w + (size_t)c * k * k;
    const float b = j->wt->bias ? j->wt->bias[c] : 0.0f, sc = j->wt->scale ? j->wt->scale[c] : 1.0f,
                sh = j->wt->shift ? j->wt->shift[c] : 0.0f;
    const size_t ob = (size_t)pl * Ho * Wo;
    for (int oy = 0; oy < Ho; oy++) {
        for (int ox = 0; ox < Wo; ox += 8) {
            /* two accumulators halve the FMA dependency chain */
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            for (int r = 0; r < k; r++) {
                const float *row = buf + (size_t)(oy + r) * Wp + ox;
                const float *wr = wc + r * k;
                int s = 0;
                for (; s + 1 < k; s += 2) {
                    a0 = _mm256_fmadd_ps(_mm256_set1_ps(wr[s]), _mm256_loadu_ps(row + s), a0);
                    a1 = _mm256_fmadd_ps(_mm256_set1_ps(wr[s + 1]), _mm256_loadu_ps(row + s + 1), a1);
                }
                if (s < k) a0 = _mm256_fmadd_ps(_mm256_set1_ps(wr[s]), _mm256_loadu_ps(row + s), a0);
            }
            float z[8];
            _mm256_storeu_ps(z, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_set1_ps(b)));
            int nv = Wo - ox < 8 ? Wo - ox : 8;
            size_t o = ob + (size_t)oy * Wo + ox;
            for (int t = 0; t < nv; t++)
                j->y[o + t] = epilogue(p, z[t], sc, sh, j->res ? j->res[o + t] : 0.0f);
        }
    }
}

void lis_dwconv_cpu(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x, const float *res,
                    float *y, void *ws) {
    dw_job j = {p, wt, x, res, y, ws, 0, 0, 0, padded_width(p)};
    lis_dwconv_out_shape(p, &j.Ho, &j.Wo);
    j.per = ((size_t)(p->H + 2 * p->pad) * j.Wp * sizeof(float) + 63) / 64 * 64;
    lis_parallel_for((int64_t)p->N * p->C, dw_task, &j);
}
