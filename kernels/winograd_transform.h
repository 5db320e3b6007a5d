/* winograd_transform.h — Winograd's transforms for 3x3 kernels (Lavin & Gray, 2016), shared
 * by the CPU (kernels/winograd.c) and the GPU (kernels/winograd.cu, winograd_kernels.cuh) so
 * that both use the same arithmetic. Header-only; host and device under nvcc.
 *
 * F(2x2, 3x3): 4x4 input patches, 16 products per 2x2 outputs (2.25x fewer than direct).
 * F(4x4, 3x3): 6x6 input patches, 36 products per 4x4 outputs (4x fewer), interpolation
 * points 0, +-1, +-2 and infinity; its matrices have entries up to 8 (A^T) and 5 (B^T), so
 * float32 rounding grows by about an order of magnitude (the tests bound it). */
#ifndef LIS_WINOGRAD_TRANSFORM_H
#define LIS_WINOGRAD_TRANSFORM_H

#ifdef __CUDACC__
#define LIS_WINO_HD __host__ __device__ __forceinline__
#else
#define LIS_WINO_HD static inline
#endif

/* u = G g G^T for one 3x3 kernel g (row-major), G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1];
 * u row-major 4x4 (u[4 i + j] is position xi = 4 i + j) */
LIS_WINO_HD void lis_wino_weight_transform(const float *g, float u[16]) {
    float t[4][3];
    for (int j = 0; j < 3; j++) {
        const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
        t[0][j] = g0;
        t[1][j] = 0.5f * (g0 + g1 + g2);
        t[2][j] = 0.5f * (g0 - g1 + g2);
        t[3][j] = g2;
    }
    for (int i = 0; i < 4; i++) {
        const float a0 = t[i][0], a1 = t[i][1], a2 = t[i][2];
        u[4 * i + 0] = a0;
        u[4 * i + 1] = 0.5f * (a0 + a1 + a2);
        u[4 * i + 2] = 0.5f * (a0 - a1 + a2);
        u[4 * i + 3] = a2;
    }
}

/* v = B^T d B for one 4x4 patch, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]; v[4 i + j] */
LIS_WINO_HD void lis_wino_input_transform(const float d[4][4], float v[16]) {
    float e[4][4];
    for (int j = 0; j < 4; j++) {
        e[0][j] = d[0][j] - d[2][j];
        e[1][j] = d[1][j] + d[2][j];
        e[2][j] = d[2][j] - d[1][j];
        e[3][j] = d[1][j] - d[3][j];
    }
    for (int i = 0; i < 4; i++) {
        v[4 * i + 0] = e[i][0] - e[i][2];
        v[4 * i + 1] = e[i][1] + e[i][2];
        v[4 * i + 2] = e[i][2] - e[i][1];
        v[4 * i + 3] = e[i][1] - e[i][3];
    }
}

/* o = A^T m A for one 4x4 product tile m[4 i + j], A^T = [1 1 1 0; 0 1 -1 -1] */
LIS_WINO_HD void lis_wino_output_transform(const float m[16], float o[2][2]) {
    float s[2][4];
    for (int q = 0; q < 4; q++) {
        s[0][q] = m[q] + m[4 + q] + m[8 + q];
        s[1][q] = m[4 + q] - m[8 + q] - m[12 + q];
    }
    for (int i = 0; i < 2; i++) {
        o[i][0] = s[i][0] + s[i][1] + s[i][2];
        o[i][1] = s[i][1] - s[i][2] - s[i][3];
    }
}

/* F(4x4, 3x3): u = G g G^T, G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
 * 1/24 -1/12 1/6; 0 0 1]; u row-major 6x6 */
LIS_WINO_HD void lis_wino4_weight_transform(const float *g, float u[36]) {
    float t[6][3];
    for (int j = 0; j < 3; j++) {
        const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
        t[0][j] = 0.25f * g0;
        t[1][j] = -(g0 + g1 + g2) / 6.0f;
        t[2][j] = -(g0 - g1 + g2) / 6.0f;
        t[3][j] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
        t[4][j] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
        t[5][j] = g2;
    }
    for (int i = 0; i < 6; i++) {
        const float a0 = t[i][0], a1 = t[i][1], a2 = t[i][2];
        u[6 * i + 0] = 0.25f * a0;
        u[6 * i + 1] = -(a0 + a1 + a2) / 6.0f;
        u[6 * i + 2] = -(a0 - a1 + a2) / 6.0f;
        u[6 * i + 3] = a0 / 24.0f + a1 / 12.0f + a2 / 6.0f;
        u[6 * i + 4] = a0 / 24.0f - a1 / 12.0f + a2 / 6.0f;
        u[6 * i + 5] = a2;
    }
}

/* the rows of B^T for F(4x4, 3x3) applied to a column z[0..5] */
#define LIS_WINO4_BT(z, out)                                       \
    do {                                                           \
        (out)[0] = 4.0f * (z)[0] - 5.0f * (z)[2] + (z)[4];         \
        (out)[1] = -4.0f * ((z)[1] + (z)[2]) + (z)[3] + (z)[4];    \
        (out)[2] = 4.0f * ((z)[1] - (z)[2]) - (z)[3] + (z)[4];     \
        (out)[3] = -2.0f * ((z)[1] - (z)[3]) - (z)[2] + (z)[4];    \
        (out)[4] = 2.0f * ((z)[1] - (z)[3]) - (z)[2] + (z)[4];     \
        (out)[5] = 4.0f * (z)[1] - 5.0f * (z)[3] + (z)[5];         \
    } while (0)

/* The F(4x4) transforms' bodies, generic in the element type T (float here and on the GPU; a
 * vector of 8 floats, one tile per lane, in kernels/winograd.c's AVX2 path), so that every
 * user computes the same arithmetic. d[6][6] -> v[36] (v[6 i + j]); m[36] -> o[4][4]. */
#define LIS_WINO4_INPUT_BODY(T, d, v)                                                                \
    {                                                                                                \
        T e_[6][6], col_[6], out_[6];                                                                \
        for (int j_ = 0; j_ < 6; j_++) { /* B^T d: column by column */                               \
            for (int i_ = 0; i_ < 6; i_++) col_[i_] = (d)[i_][j_];                                   \
            LIS_WINO4_BT(col_, out_);                                                                \
            for (int i_ = 0; i_ < 6; i_++) e_[i_][j_] = out_[i_];                                    \
        }                                                                                            \
        for (int i_ = 0; i_ < 6; i_++) { /* (B^T d) B: row by row */                                 \
            LIS_WINO4_BT(e_[i_], out_);                                                              \
            for (int j_ = 0; j_ < 6; j_++) (v)[6 * i_ + j_] = out_[j_];                              \
        }                                                                                            \
    }
#define LIS_WINO4_OUTPUT_BODY(T, m, o)                                                               \
    {                                                                                                \
        T s_[4][6];                                                                                  \
        for (int q_ = 0; q_ < 6; q_++) {                                                             \
            const T m0 = (m)[q_], m1 = (m)[6 + q_], m2 = (m)[12 + q_], m3 = (m)[18 + q_],            \
                    m4 = (m)[24 + q_], m5 = (m)[30 + q_];                                            \
            const T p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4;                      \
            s_[0][q_] = m0 + p12 + p34;                                                              \
            s_[1][q_] = d12 + 2.0f * d34;                                                            \
            s_[2][q_] = p12 + 4.0f * p34;                                                            \
            s_[3][q_] = d12 + 8.0f * d34 + m5;                                                       \
        }                                                                                            \
        for (int i_ = 0; i_ < 4; i_++) {                                                             \
            const T *r_ = s_[i_];                                                                    \
            const T p12 = r_[1] + r_[2], d12 = r_[1] - r_[2], p34 = r_[3] + r_[4], d34 = r_[3] - r_[4]; \
            (o)[i_][0] = r_[0] + p12 + p34;                                                          \
            (o)[i_][1] = d12 + 2.0f * d34;                                                           \
            (o)[i_][2] = p12 + 4.0f * p34;                                                           \
            (o)[i_][3] = d12 + 8.0f * d34 + r_[5];                                                   \
        }                                                                                            \
    }

/* v = B^T d B for one 6x6 patch; v[6 i + j] */
LIS_WINO_HD void lis_wino4_input_transform(const float d[6][6], float v[36]) LIS_WINO4_INPUT_BODY(float, d, v)

/* o = A^T m A for one 6x6 product tile, A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0;
 * 0 1 -1 8 -8 1] */
LIS_WINO_HD void lis_wino4_output_transform(const float m[36], float o[4][4]) LIS_WINO4_OUTPUT_BODY(float, m, o)

#endif
