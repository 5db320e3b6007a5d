/* modconv.c — reference and fast modulated convolution (see modconv.h). */
#include "kernels/modconv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/status.h"

/* style normalisation factor(s): one per sample, or one for the whole batch */
static void style_norm(const float *s, int B, int I, int batch, float *out) {
    if (batch) {
        float acc = 0.0f;
        for (int i = 0; i < B * I; i++) acc += s[i] * s[i];
        float r = 1.0f / sqrtf(acc / (float)(B * I));
        for (int b = 0; b < B; b++) out[b] = r;
    } else {
        for (int b = 0; b < B; b++) {
            float acc = 0.0f;
            for (int i = 0; i < I; i++) acc += s[b * I + i] * s[b * I + i];
            out[b] = 1.0f / sqrtf(acc / (float)I);
        }
    }
}

void lis_modconv_ref(const lis_modconv_params *p, const float *x, const float *w, const float *s, float input_gain,
                     float *y, int B, int I, int O, int H, int W, int k) {
    int kk = k * k, pad = p->padding;
    int Ho = H + 2 * pad - k + 1, Wo = W + 2 * pad - k + 1;
    size_t nw = (size_t)O * I * kk;
    float *wn = malloc(sizeof(float) * nw), *wm = malloc(sizeof(float) * nw), *sn = malloc(sizeof(float) * (size_t)B * I);
    float *rs = malloc(sizeof(float) * (size_t)B);
    LIS_ASSERT(wn && wm && sn && rs);
    memcpy(wn, w, sizeof(float) * nw);
    memcpy(sn, s, sizeof(float) * (size_t)B * I);
    if (p->demodulate) {
        for (int o = 0; o < O; o++) {
            float acc = 0.0f;
            for (int t = 0; t < I * kk; t++) acc += wn[(size_t)o * I * kk + t] * wn[(size_t)o * I * kk + t];
            float r = 1.0f / sqrtf(acc / (float)(I * kk));
            for (int t = 0; t < I * kk; t++) wn[(size_t)o * I * kk + t] *= r;
        }
        style_norm(s, B, I, p->batch_style_norm, rs);
        for (int b = 0; b < B; b++)
            for (int i = 0; i < I; i++) sn[b * I + i] *= rs[b];
    }
    for (int b = 0; b < B; b++) {
        for (int o = 0; o < O; o++) {
            float *wo = wm + (size_t)o * I * kk;
            float acc = 0.0f;
            for (int i = 0; i < I; i++)
                for (int t = 0; t < kk; t++) {
                    float v = wn[((size_t)o * I + i) * kk + t] * sn[b * I + i];
                    wo[i * kk + t] = v;
                    acc += v * v;
                }
            float d = p->demodulate ? 1.0f / sqrtf(acc + 1e-8f) : 1.0f;
            for (int t = 0; t < I * kk; t++) {
                if (p->demodulate) wo[t] *= d;
                wo[t] *= input_gain;
            }
        }
        for (int o = 0; o < O; o++)
            for (int yy = 0; yy < Ho; yy++)
                for (int xx = 0; xx < Wo; xx++) {
                    float acc = 0.0f;
                    for (int i = 0; i < I; i++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = yy + ky - pad, ix = xx + kx - pad;
                                if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
                                acc += x[(((size_t)b * I + i) * H + iy) * W + ix] * wm[((size_t)o * I + i) * kk + ky * k + kx];
                            }
                    y[(((size_t)b * O + o) * Ho + yy) * Wo + xx] = acc;
                }
    }
    free(wn); free(wm); free(sn); free(rs);
}

lis_status lis_modconv_prepare(lis_modconv_weights *mw, const float *w, int O, int I, int k, int demodulate) {
    memset(mw, 0, sizeof *mw);
    int K = I * k * k;
    float *wn = lis_malloc(sizeof(float) * (size_t)O * K, "modulated conv weights");
    if (!wn) return LIS_ERR;
    memcpy(wn, w, sizeof(float) * (size_t)O * K);
    if (demodulate) {
        mw->w2 = lis_malloc(sizeof(float) * (size_t)O * I, "demodulation table");
        if (!mw->w2) { free(wn); return LIS_ERR; }
        for (int o = 0; o < O; o++) {
            float *row = wn + (size_t)o * K, acc = 0.0f;
            for (int t = 0; t < K; t++) acc += row[t] * row[t];
            float r = 1.0f / sqrtf(acc / (float)K);
            for (int t = 0; t < K; t++) row[t] *= r;
            for (int i = 0; i < I; i++) {
                float a = 0.0f;
                for (int t = 0; t < k * k; t++) a += row[i * k * k + t] * row[i * k * k + t];
                mw->w2[(size_t)o * I + i] = a;
            }
        }
    }
    mw->use_wino = k == 3 && lis_wino_wanted(I);
    lis_status st = mw->use_wino ? lis_wino_pack(&mw->wino, O, I, wn) : lis_gemm_pack_a(&mw->A, O, K, wn, K);
    free(wn);
    if (st != LIS_OK) { free(mw->w2); mw->w2 = NULL; return st; }
    mw->O = O; mw->I = I; mw->k = k; mw->demodulate = demodulate;
    return LIS_OK;
}

void lis_modconv_weights_free(lis_modconv_weights *mw) {
    if (!mw) return;
    lis_gemm_apack_free(&mw->A);
    lis_wino_packed_free(&mw->wino);
    free(mw->w2);
    memset(mw, 0, sizeof *mw);
}

/* slack after the last padded plane: shifted rows of junk columns read up to k-1 past it */
#define PLANE_SLACK 64

size_t lis_modconv_workspace(const lis_modconv_weights *mw, const lis_modconv_params *p, int H, int W) {
    size_t Hp = (size_t)H + 2 * p->padding, Wp = (size_t)W + 2 * p->padding;
    size_t b = sizeof(float) * ((size_t)mw->I * Hp * Wp + PLANE_SLACK) + sizeof(float *) * (size_t)mw->I * mw->k * mw->k + 64;
    if (mw->use_wino) b += lis_wino_workspace_size(&mw->wino, 1, (int)Hp, (int)Wp, 0, 0) + 64;
    return b;
}

void lis_modconv_cpu_raw(const lis_modconv_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                         float input_gain, int B, int H, int W, float *y, float *scale, void *ws) {
    int I = mw->I, O = mw->O, k = mw->k, pad = p->padding;
    int Hp = H + 2 * pad, Wp = W + 2 * pad, Ho = Hp - k + 1;
    size_t plane = (size_t)Hp * Wp;
    float *xp = ws;
    const float **rows = (const float **)((char *)ws + sizeof(float) * ((size_t)I * plane + PLANE_SLACK));
    void *wino_ws = (char *)rows + sizeof(float *) * (size_t)I * k * k + 64;
    float rsb_small[64]; /* per-sample style norms: no allocation for ordinary batches */
    float *rsb = B <= 64 ? rsb_small : malloc(sizeof(float) * (size_t)B);
    LIS_ASSERT(rsb);
    if (mw->demodulate) style_norm(s, B, I, p->batch_style_norm, rsb);
    else for (int b = 0; b < B; b++) rsb[b] = 1.0f;
    for (int i = 0; i < I; i++)
        for (int t = 0; t < k * k; t++) rows[i * k * k + t] = xp + (size_t)i * plane + (size_t)(t / k) * Wp + t % k;
    memset(xp + (size_t)I * plane, 0, sizeof(float) * PLANE_SLACK);
    for (int b = 0; b < B; b++) {
        const float *sb = s + (size_t)b * I;
        /* padded, modulated input */
        for (int i = 0; i < I; i++) {
            float si = mw->demodulate ? sb[i] * rsb[b] : sb[i];
            float *dst = xp + (size_t)i * plane;
            const float *src = x + ((size_t)b * I + i) * H * W;
            if (pad) memset(dst, 0, sizeof(float) * (size_t)pad * Wp);
            for (int r = 0; r < H; r++) {
                float *d = dst + (size_t)(r + pad) * Wp;
                for (int c = 0; c < pad; c++) d[c] = 0.0f;
                for (int c = 0; c < W; c++) d[pad + c] = src[(size_t)r * W + c] * si;
                for (int c = pad + W; c < Wp; c++) d[c] = 0.0f;
            }
            if (pad) memset(dst + (size_t)(pad + H) * Wp, 0, sizeof(float) * (size_t)pad * Wp);
        }
        /* per-output scale: demodulation and input gain */
        for (int o = 0; o < O; o++) {
            float d = 1.0f;
            if (mw->demodulate) {
                float acc = 0.0f;
                const float *w2 = mw->w2 + (size_t)o * I;
                for (int i = 0; i < I; i++) {
                    float si = sb[i] * rsb[b];
                    acc += w2[i] * (si * si);
                }
                d = 1.0f / sqrtf(acc + 1e-8f);
            }
            scale[(size_t)b * O + o] = d * input_gain;
        }
        float *yb = y + (size_t)b * O * Ho * Wp;
        if (mw->use_wino) {
            /* the padded planes as an unpadded image; rows of y keep the padded width, and
             * the junk columns >= Wo are zeroed (the GEMM path leaves finite junk there) */
            const int Wo = Wp - k + 1;
            lis_wino_io io = {1, Hp, Wp, 0, 0, xp, 0, yb, 0, Wp, (int64_t)Ho * Wp, NULL, NULL, LIS_ACT_NONE, 0.0f};
            lis_wino_conv(&mw->wino, &io, wino_ws);
            for (size_t r = 0; r < (size_t)O * Ho; r++)
                for (int c = Wo; c < Wp; c++) yb[r * Wp + c] = 0.0f;
        } else {
            /* N covers Ho full padded rows; columns >= Wo of each row are junk */
            lis_gemm_packed(&mw->A, Ho * Wp, rows, yb, Ho * Wp, 0);
        }
    }
    if (rsb != rsb_small) free(rsb);
}

lis_status lis_modconv_cpu(const lis_modconv_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                           float input_gain, int B, int H, int W, float *y) {
    int O = mw->O, k = mw->k, pad = p->padding;
    int Wp = W + 2 * pad, Ho = H + 2 * pad - k + 1, Wo = Wp - k + 1;
    float *raw = lis_alloc_aligned(sizeof(float) * (size_t)B * O * Ho * Wp, "modconv output");
    float *scale = lis_malloc(sizeof(float) * (size_t)B * O, "modconv scale");
    void *ws = lis_alloc_aligned(lis_modconv_workspace(mw, p, H, W), "modconv workspace");
    if (!raw || !scale || !ws) { free(raw); free(scale); free(ws); return LIS_ERR; }
    lis_modconv_cpu_raw(mw, p, x, s, input_gain, B, H, W, raw, scale, ws);
    for (int bo = 0; bo < B * O; bo++)
        for (int r = 0; r < Ho; r++)
            for (int c = 0; c < Wo; c++)
                y[((size_t)bo * Ho + r) * Wo + c] = raw[((size_t)bo * Ho + r) * Wp + c] * scale[bo];
    free(raw); free(scale); free(ws);
    return LIS_OK;
}
