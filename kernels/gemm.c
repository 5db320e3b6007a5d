/* gemm.c — reference and fast CPU SGEMM (see gemm.h).
 *
 * Fast path, BLIS-style: A is packed into MR-row strips per KC block, B into NR-column
 * strips per (KC x NB) block held in L2; the 6x16 micro-kernel keeps 12 ymm
 * accumulators and does 6 broadcasts + 2 loads per k (AVX2 + FMA). Work is split over
 * column blocks of NB columns, each thread packing its own B block, so threads never
 * share writable memory. K is blocked by KC; the first block stores, later blocks add.
 */
#include "kernels/gemm.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

#define MR 6
#define NR 16
#define KC 256
#define NB 192 /* columns per task: B block KC x NB = 192 KB */

void lis_gemm_rows_from_matrix(const float *B, int K, int ldb, const float **rows) {
    for (int k = 0; k < K; k++) rows[k] = B + (size_t)k * (size_t)ldb;
}

void lis_gemm_ref(int M, int N, int K, const float *A, int lda, const float *const *brows, float *C, int ldc,
                  int accumulate) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float acc = accumulate ? C[(size_t)m * ldc + n] : 0.0f;
            for (int k = 0; k < K; k++) acc += A[(size_t)m * lda + k] * brows[k][n];
            C[(size_t)m * ldc + n] = acc;
        }
}

/* Packed A layout: for each KC block pc (kc = its length), for each MR strip s:
 * kc*MR floats, element (k, r) at [k*MR + r]. Rows past M are zero. */
static size_t apack_strips(int M) { return (size_t)((M + MR - 1) / MR); }

lis_status lis_gemm_pack_a(lis_gemm_apack *p, int M, int K, const float *A, int lda) {
    size_t ns = apack_strips(M);
    p->M = M;
    p->K = K;
    p->data = lis_alloc_aligned(ns * MR * (size_t)K * sizeof(float), "packed GEMM weights");
    if (!p->data) return LIS_ERR;
    float *dst = p->data;
    for (int pc = 0; pc < K; pc += KC) {
        int kc = K - pc < KC ? K - pc : KC;
        for (size_t s = 0; s < ns; s++) {
            for (int k = 0; k < kc; k++)
                for (int r = 0; r < MR; r++) {
                    int m = (int)s * MR + r;
                    *dst++ = m < M ? A[(size_t)m * lda + pc + k] : 0.0f;
                }
        }
    }
    return LIS_OK;
}

void lis_gemm_apack_free(lis_gemm_apack *p) {
    if (!p) return;
    free(p->data);
    p->data = NULL;
}

/* 6x16 micro-kernel: c[6][16] (ldc) (+)= a[kc][6] * b[kc][16]. */
static inline void kernel_6x16(int kc, const float *a, const float *b, float *c, int ldc, int accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(),
           c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(),
           c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(),
           c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 a0 = _mm256_broadcast_ss(a + 0), a1 = _mm256_broadcast_ss(a + 1);
        c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01);
        c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11);
        a0 = _mm256_broadcast_ss(a + 2); a1 = _mm256_broadcast_ss(a + 3);
        c20 = _mm256_fmadd_ps(a0, b0, c20); c21 = _mm256_fmadd_ps(a0, b1, c21);
        c30 = _mm256_fmadd_ps(a1, b0, c30); c31 = _mm256_fmadd_ps(a1, b1, c31);
        a0 = _mm256_broadcast_ss(a + 4); a1 = _mm256_broadcast_ss(a + 5);
        c40 = _mm256_fmadd_ps(a0, b0, c40); c41 = _mm256_fmadd_ps(a0, b1, c41);
        c50 = _mm256_fmadd_ps(a1, b0, c50); c51 = _mm256_fmadd_ps(a1, b1, c51);
        a += MR;
        b += NR;
    }
    __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    for (int r = 0; r < MR; r++) {
        float *cr = c + (size_t)r * ldc;
        if (accumulate) {
            _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), acc[2 * r]));
            _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc[2 * r + 1]));
        } else {
            _mm256_storeu_ps(cr, acc[2 * r]);
            _mm256_storeu_ps(cr + 8, acc[2 * r + 1]);
        }
    }
}

typedef struct {
    const lis_gemm_apack *A;
    int N;
    const float *const *brows;
    float *C;
    int ldc, accumulate;
} gemm_job;

/* Each thread packs its B block here: static thread-local storage, so a GEMM call
 * allocates nothing (192 KB per thread, L2-sized). */
static _Thread_local float bbuf_tl[KC * NB] __attribute__((aligned(64)));

static void pack_b(float *dst, const float *const *brows, int pc, int kc, int n0, int nb) {
    for (int j = 0; j < nb; j += NR) {
        int w = nb - j < NR ? nb - j : NR;
        if (w == NR) {
            for (int k = 0; k < kc; k++) {
                const float *src = brows[pc + k] + n0 + j;
                _mm256_store_ps(dst, _mm256_loadu_ps(src));
                _mm256_store_ps(dst + 8, _mm256_loadu_ps(src + 8));
                dst += NR;
            }
        } else {
            for (int k = 0; k < kc; k++) {
                const float *src = brows[pc + k] + n0 + j;
                int t = 0;
                for (; t < w; t++) dst[t] = src[t];
                for (; t < NR; t++) dst[t] = 0.0f;
                dst += NR;
            }
        }
    }
}

static void gemm_task(void *ctx, int64_t task, int tid) {
    gemm_job *g = ctx;
    const lis_gemm_apack *A = g->A;
    int M = A->M, K = A->K;
    int n0 = (int)task * NB;
    int nb = g->N - n0 < NB ? g->N - n0 : NB;
    float *bp = bbuf_tl;
    (void)tid;
    size_t ns = apack_strips(M);
    const float *apc = A->data;
    for (int pc = 0; pc < K; pc += KC) {
        int kc = K - pc < KC ? K - pc : KC;
        int acc = g->accumulate || pc > 0;
        pack_b(bp, g->brows, pc, kc, n0, nb);
        for (size_t s = 0; s < ns; s++) {
            const float *as = apc + s * (size_t)kc * MR;
            int m0 = (int)s * MR;
            int mr = M - m0 < MR ? M - m0 : MR;
            for (int j = 0; j < nb; j += NR) {
                int w = nb - j < NR ? nb - j : NR;
                float *c = g->C + (size_t)m0 * g->ldc + n0 + j;
                if (mr == MR && w == NR) {
                    kernel_6x16(kc, as, bp + (size_t)j * kc, c, g->ldc, acc);
                } else { /* edge tile through a temporary */
                    float tmp[MR * NR];
                    kernel_6x16(kc, as, bp + (size_t)j * kc, tmp, NR, 0);
                    for (int r = 0; r < mr; r++)
                        for (int t = 0; t < w; t++)
                            c[(size_t)r * g->ldc + t] = (acc ? c[(size_t)r * g->ldc + t] : 0.0f) + tmp[r * NR + t];
                }
            }
        }
        apc += ns * (size_t)kc * MR;
    }
}

void lis_gemm_packed(const lis_gemm_apack *A, int N, const float *const *brows, float *C, int ldc, int accumulate) {
    if (A->M <= 0 || N <= 0) return;
    if (A->K <= 0) {
        if (!accumulate)
            for (int m = 0; m < A->M; m++) memset(C + (size_t)m * ldc, 0, (size_t)N * sizeof(float));
        return;
    }
    gemm_job g = {A, N, brows, C, ldc, accumulate};
    lis_parallel_for((N + NB - 1) / NB, gemm_task, &g);
}

void lis_gemm_cpu(int M, int N, int K, const float *A, int lda, const float *const *brows, float *C, int ldc,
                  int accumulate) {
    lis_gemm_apack p;
    if (lis_gemm_pack_a(&p, M, K, A, lda) != LIS_OK) { /* out of memory: fall back */
        lis_gemm_ref(M, N, K, A, lda, brows, C, ldc, accumulate);
        return;
    }
    lis_gemm_packed(&p, N, brows, C, ldc, accumulate);
    lis_gemm_apack_free(&p);
}
