/* gemm.h — single-precision matrix multiply, the engine of every convolution on the CPU.
 *
 *   C[M,N] (+)= A[M,K] * B[K,N]
 *
 * A is row-major (lda). B is given as K row pointers, row k being B[k, 0..N) stored
 * contiguously at brows[k]. This lets a stride-1 convolution run as ONE GEMM without
 * im2col: with the input zero-padded to rows of width Wp, the tap (c, ky, kx) of output
 * pixel p = y*Wp + x reads input element p + ky*Wp + kx of channel c, so row
 * (c, ky, kx) of B is simply the padded plane of channel c shifted by ky*Wp + kx
 * (see kernels/conv2d.c). Plain matrices use lis_gemm_rows_from_matrix().
 *
 * Variants: _ref (triple loop, the oracle) and _cpu (packed panels, 6x16 AVX2/FMA
 * micro-kernel, threads over column blocks). A can be packed once and reused for many
 * B (a conv layer over a batch): lis_gemm_pack_a + lis_gemm_packed.
 */
#ifndef LIS_GEMM_H
#define LIS_GEMM_H

#include <stddef.h>

#include "runtime/status.h"

void lis_gemm_ref(int M, int N, int K, const float *A, int lda, const float *const *brows, float *C, int ldc,
                  int accumulate);
void lis_gemm_cpu(int M, int N, int K, const float *A, int lda, const float *const *brows, float *C, int ldc,
                  int accumulate);

/* A packed into micro-panels, reusable across calls. */
typedef struct {
    int M, K;
    float *data; /* owned */
} lis_gemm_apack;

lis_status lis_gemm_pack_a(lis_gemm_apack *p, int M, int K, const float *A, int lda);
void lis_gemm_apack_free(lis_gemm_apack *p);
void lis_gemm_packed(const lis_gemm_apack *A, int N, const float *const *brows, float *C, int ldc, int accumulate);

/* Fills rows[k] = B + k*ldb (caller provides K slots). */
void lis_gemm_rows_from_matrix(const float *B, int K, int ldb, const float **rows);

#endif
