/* winograd_transform.h — the Winograd F(2x2, 3x3) weight transform, shared by the CPU
 * (kernels/winograd.c) and the GPU (kernels/winograd.cu) so that both use the same arithmetic.
 * Header-only; host and device under nvcc. */
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

#endif
