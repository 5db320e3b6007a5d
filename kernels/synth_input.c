/* synth_input.c — see synth_input.h. */
#include "kernels/synth_input.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

lis_status lis_synth_input_prepare(lis_synth_input *si, int C, int S, double sampling_rate, double bandwidth, int w_dim,
                                   const float *weight, const float *affine_w, const float *affine_b,
                                   const float *transform, const float *freqs, const float *phases) {
    memset(si, 0, sizeof *si);
    si->C = C; si->S = S; si->w_dim = w_dim;
    si->sampling_rate = sampling_rate; si->bandwidth = bandwidth;
    si->transform = transform; si->freqs = freqs; si->phases = phases;
    LIS_TRY(lis_fc_prepare(&si->affine, affine_w, affine_b, w_dim, 4, 1.0, 0));
    si->wmix = lis_malloc(sizeof(float) * (size_t)C * C, "input channel mixing");
    if (!si->wmix) { lis_synth_input_free(si); return LIS_ERR; }
    float sq = (float)sqrt((double)C);
    for (size_t i = 0; i < (size_t)C * C; i++) si->wmix[i] = weight[i] / sq;
    if (lis_gemm_pack_a(&si->A, C, C, si->wmix, C) != LIS_OK) { lis_synth_input_free(si); return LIS_ERR; }
    return LIS_OK;
}

void lis_synth_input_free(lis_synth_input *si) {
    if (!si) return;
    lis_fc_free(&si->affine);
    free(si->wmix);
    lis_gemm_apack_free(&si->A);
    memset(si, 0, sizeof *si);
}

/* ATen's float linspace: symmetric evaluation from both ends. */
static float linspace_at(int i, int n) {
    float start = -1.0f, end = 1.0f, step = (end - start) / (float)(n - 1);
    return i < n / 2 ? start + step * (float)i : end - step * (float)(n - 1 - i);
}

/* Fourier features of one sample in channel-major layout feat[c][i*S + j]. */
static void features(const lis_synth_input *si, const float *t_raw, float *feat) {
    int C = si->C, S = si->S;
    float t[4];
    float nrm = sqrtf(t_raw[0] * t_raw[0] + t_raw[1] * t_raw[1]);
    for (int k = 0; k < 4; k++) t[k] = t_raw[k] / nrm;
    float mr[9] = {t[0], -t[1], 0, t[1], t[0], 0, 0, 0, 1};
    float mt[9] = {1, 0, -t[2], 0, 1, -t[3], 0, 0, 1};
    float m1[9], T[9];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) m1[r * 3 + c] = mr[r * 3 + 0] * mt[0 * 3 + c] + mr[r * 3 + 1] * mt[1 * 3 + c] + mr[r * 3 + 2] * mt[2 * 3 + c];
    const float *tr = si->transform;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) T[r * 3 + c] = m1[r * 3 + 0] * tr[0 * 3 + c] + m1[r * 3 + 1] * tr[1 * 3 + c] + m1[r * 3 + 2] * tr[2 * 3 + c];
    float th = (float)(0.5 * S / si->sampling_rate);
    float *gx = malloc(sizeof(float) * (size_t)S);
    LIS_ASSERT(gx);
    for (int j = 0; j < S; j++) gx[j] = ((linspace_at(j, S) * (float)(S - 1)) / (float)S) * th;
    float twopi = (float)(M_PI * 2), half_minus_bw = (float)(si->sampling_rate / 2 - si->bandwidth);
    float bw = (float)si->bandwidth;
    for (int c = 0; c < C; c++) {
        float f0 = si->freqs[2 * c], f1 = si->freqs[2 * c + 1];
        float ph = si->phases[c] + (f0 * T[2] + f1 * T[5]);
        float fx = f0 * T[0] + f1 * T[3], fy = f0 * T[1] + f1 * T[4];
        float amp = 1.0f - (sqrtf(fx * fx + fy * fy) - bw) / half_minus_bw;
        amp = amp < 0.0f ? 0.0f : (amp > 1.0f ? 1.0f : amp);
        float *fc = feat + (size_t)c * S * S;
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                float arg = (gx[j] * fx + gx[i] * fy) + ph;
                fc[i * S + j] = sinf(arg * twopi) * amp;
            }
    }
    free(gx);
}

void lis_synth_input_ref(const lis_synth_input *si, const float *w, float *y, float *affine_out, int B) {
    int C = si->C, P = si->S * si->S;
    float *feat = malloc(sizeof(float) * (size_t)C * P);
    LIS_ASSERT(feat);
    for (int b = 0; b < B; b++) {
        float t[4];
        lis_fc_ref(&si->affine, w + (size_t)b * si->w_dim, t, 1);
        if (affine_out) memcpy(affine_out + 4 * b, t, sizeof t);
        features(si, t, feat);
        for (int o = 0; o < C; o++)
            for (int p = 0; p < P; p++) {
                float acc = 0.0f;
                for (int c = 0; c < C; c++) acc += feat[(size_t)c * P + p] * si->wmix[(size_t)o * C + c];
                y[((size_t)b * C + o) * P + p] = acc;
            }
    }
    free(feat);
}

size_t lis_synth_input_workspace(const lis_synth_input *si) {
    return sizeof(float) * (((size_t)si->C * si->S * si->S + 15) & ~(size_t)15) + sizeof(float *) * (size_t)si->C + 64;
}

void lis_synth_input_cpu(const lis_synth_input *si, const float *w, float *y, float *affine_out, int B, void *ws) {
    int C = si->C, P = si->S * si->S;
    float *feat = ws;
    const float **rows = (const float **)(feat + (((size_t)C * P + 15) & ~(size_t)15));
    lis_gemm_rows_from_matrix(feat, C, P, rows);
    for (int b = 0; b < B; b++) {
        float t[4];
        lis_fc_ref(&si->affine, w + (size_t)b * si->w_dim, t, 1);
        if (affine_out) memcpy(affine_out + 4 * b, t, sizeof t);
        features(si, t, feat);
        lis_gemm_packed(&si->A, P, rows, y + (size_t)b * C * P, P, 0);
    }
}
