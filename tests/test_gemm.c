/* test_gemm.c — the fast GEMM against the reference loop on edge shapes. */
#include <stdlib.h>

#include "kernels/gemm.h"
#include "tests/harness.h"

static float frand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void one(int M, int N, int K, int acc) {
    unsigned seed = (unsigned)(M * 131 + N * 7 + K);
    int lda = K + 3, ldb = N + 5, ldc = N + 1;
    float *A = malloc(sizeof(float) * (size_t)M * lda), *B = malloc(sizeof(float) * (size_t)K * ldb);
    float *C0 = malloc(sizeof(float) * (size_t)M * ldc), *C1 = malloc(sizeof(float) * (size_t)M * ldc);
    const float **rows = malloc(sizeof(float *) * (size_t)(K ? K : 1));
    for (int i = 0; i < M * lda; i++) A[i] = frand(&seed);
    for (int i = 0; i < K * ldb; i++) B[i] = frand(&seed);
    for (int i = 0; i < M * ldc; i++) C0[i] = C1[i] = frand(&seed);
    lis_gemm_rows_from_matrix(B, K, ldb, rows);
    lis_gemm_ref(M, N, K, A, lda, rows, C0, ldc, acc);
    lis_gemm_cpu(M, N, K, A, lda, rows, C1, ldc, acc);
    char name[128];
    snprintf(name, sizeof name, "gemm(m=%d,n=%d,k=%d,acc=%d)", M, N, K, acc);
    /* float32 sums of K terms in a different order: |d| <= K * eps * sum|a*b| ~ 1e-5 here */
    lis_check_close(name, C1, C0, (int64_t)M * ldc, 2e-5 * (K > 0 ? K : 1) / 64.0 + 1e-6, 1e-5);
    free(A); free(B); free(C0); free(C1); free(rows);
}

int main(void) {
    int shapes[][3] = {{1, 1, 1}, {6, 16, 1}, {7, 17, 3}, {13, 100, 37}, {64, 192, 256}, {65, 385, 300},
                       {5, 3, 600},  {1, 1000, 9}, {130, 33, 513}, {3, 5, 0}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        one(shapes[i][0], shapes[i][1], shapes[i][2], 0);
        one(shapes[i][0], shapes[i][1], shapes[i][2], 1);
    }
    return lis_test_finish();
}
