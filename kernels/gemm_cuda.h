/* gemm_cuda.h — matrix products on the GPU (kernels/gemm.cu). C header, no CUDA types.
 *
 * The engine of every convolution on the GPU is one implicit-GEMM kernel ("igemm"):
 *
 *   y[n,k,oy,ox] = act( out_scale[n,k] * sum_{c,r,s} w[k, c,r,s] * in_scale[n,c]
 *                                         * x[n, c, oy*sh - ph + r*dh, ox*sw - pw + s*dw]
 *                       + bias[k] + res[n,k,oy,ox] )
 *
 * i.e. the GEMM Y[K, N*Ho*Wo] = W[K, C*R*S] * X'[C*R*S, N*Ho*Wo] where X' (the im2col
 * matrix) is never materialised: each tile of it is gathered from x into shared memory.
 * The optional factors make the one kernel serve every caller:
 *   - generator (modconv.cu): in_scale = per-sample styles (modulation folded into the
 *     load), out_scale = demodulation * input_gain (folded into the epilogue);
 *   - classifier (conv2d.cu): bias = folded BatchNorm, res = the residual, act = ReLU;
 *   - channel mixing of the synthesis input and plain GEMMs: R = S = 1, H = 1.
 * Zero padding, stride and dilation as PyTorch's conv2d (cross-correlation). Sums are
 * float32 in every variant; the tensor-core variants round the OPERANDS to tf32, bf16 or
 * fp16 (on the way into shared memory) and accumulate in float32.
 *
 * Variants (lis_igemm_cuda_variants() lists them for tests and benchmarks):
 *   v1    one thread per output, plain loop over C*R*S (the straight port; for bisecting)
 *   v2    128x128x8 shared-memory tiles, 8x8 outputs per thread, register prefetch,
 *         per-tile table of (c, r, s) offsets so the gather needs no divisions (FP32)
 *   v2 splitk  v2 with the depth split over up to 8 blocks in z when the grid fills the
 *         last wave badly (ResNet-50's layer3/4 3x3 at batch 64); partial sums in a
 *         per-stream scratch, summed in order by a second kernel that applies the epilogue
 *         (FP32; shipped since session 5: ResNet-50 b64 fp32 2783 -> 3084 img/s on the H200;
 *         LIS_SPLITK_CUDA=0 turns it off)
 *   v3    1x1 convolutions with stride 1 and no padding (plain GEMMs): float4 loads where
 *         the layout allows (HW % 4, C % 4, 16-byte aligned pointers), double-buffered
 *         shared tiles, float4 stores; any other shape is passed to v2 (FP32)
 *   wino  Winograd F(2x2, 3x3) (kernels/winograd_cuda.h) for 3x3, stride 1, dilation 1:
 *         16 v3 GEMMs (one batched launch) between transforms; other shapes go to v3 (FP32)
 *   wino4 Winograd F(4x4, 3x3): 36 v3 GEMMs, 1.78x fewer multiplies (FP32)
 *   tf32, bf16, fp16  mma.sync with a 4-stage cp.async pipeline (kernels/igemm_mma.cu)
 *   tf32 splitk, bf16 splitk  the same with the depth split for small grids (no gain on
 *         ResNet-50 b64 on the H100, 2026-11-27: 0.99-1.0x; off)
 *   tf32 wino, bf16 wino  Winograd F(2x2, 3x3) with its GEMMs on the mma kernel
 *   bf16 wino16  the same on 16-bit operands (lis_gemm16_cuda_batched; what the shipped
 *         bf16/fp16 Winograd runs)
 *   tf32 wmma, bf16 wmma, fp16 wmma  the older WMMA kernels, 128x128x32 tiles, 8 warps of
 *         64x32 (LIS_MMA_CUDA=0 makes lis_igemm_cuda take them)
 * lis_igemm_cuda() in FP32: Winograd F(4x4) for 3x3 layers of at least 64 input channels that
 * are big enough (lis_wino_cuda_wanted, lis_wino_cuda_tile; LIS_WINOGRAD_CUDA=0/1 in the
 * environment: never/always), else v3 (v2, split where the grid fills the GPU badly, for every
 * shape but the plain GEMMs). TF32/BF16/FP16: Winograd F(2x2) with its GEMMs on the mma
 * kernel for those layers from 128 input channels on (lis_wino_cuda_tc_wanted), else the mma
 * kernel.
 * Library baselines: lis_gemm_cublas (cuBLAS, plain GEMM) and lis_conv2d_cudnn
 * (kernels/conv2d_cuda.h).
 *
 * Limits (lis_igemm_check): N*Ho*Wo, C*H*W and C*R*S below 2^31; K <= 65535 * 128.
 * Pointers are device memory; x and w must not alias y (res may).
 */
#ifndef LIS_GEMM_CUDA_H
#define LIS_GEMM_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int N, C, H, W;          /* input x: N x C x H x W */
    int K, R, S;             /* weights w: K x (C*R*S) row-major (PyTorch K x C x R x S) */
    int stride_h, stride_w;  /* >= 1 */
    int pad_h, pad_w;        /* >= 0 */
    int dil_h, dil_w;        /* >= 1 */
    int act;                 /* 0 none, 1 ReLU (v > 0 ? v : 0), 2 leaky ReLU (v >= 0 ? v : v*slope) */
    float slope;
    const float *in_scale;   /* N x C or NULL */
    const float *out_scale;  /* N x K or NULL */
    const float *bias;       /* K or NULL */
    const float *res;        /* N x K x Ho x Wo or NULL (may alias y) */
} lis_igemm_params;

void lis_igemm_out_shape(const lis_igemm_params *p, int *Ho, int *Wo);
lis_status lis_igemm_check(const lis_igemm_params *p);
/* Multiply-adds of one call (for throughput numbers). */
double lis_igemm_macs(const lis_igemm_params *p);

typedef lis_status (*lis_igemm_fn)(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
typedef struct {
    const char *name;     /* "v1", "v2", "tf32", ... */
    lis_igemm_fn fn;
    lis_precision prec;   /* the operand precision of this variant */
    const char *what;     /* one line: what it changes */
} lis_igemm_variant;

/* The table of variants; returns their count (0 in a CPU-only build). */
int lis_igemm_cuda_variants(const lis_igemm_variant **out);

lis_status lis_igemm_cuda_v1(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
lis_status lis_igemm_cuda_v2(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
lis_status lis_igemm_cuda_v2_splitk(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
lis_status lis_igemm_cuda_v3(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
lis_status lis_igemm_cuda_wino(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
lis_status lis_igemm_cuda_wino4(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
lis_status lis_igemm_cuda_wmma_tf32(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
lis_status lis_igemm_cuda_wmma_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
lis_status lis_igemm_cuda_wmma_fp16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
/* The reduced-precision kernels (kernels/igemm_mma.cu): mma.sync on tensor cores with a
 * 4-stage cp.async pipeline, TF32/BF16/FP16; lis_igemm_cuda takes them (variants "tf32",
 * "bf16", "fp16"). LIS_MMA_CUDA=0 in the environment makes lis_igemm_cuda take the older
 * WMMA kernels instead ("tf32 wmma", ...; lis_igemm_mma_enabled() then returns 0). */
int lis_igemm_mma_enabled(void);
lis_status lis_igemm_cuda_mma(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w, float *y,
                              lis_stream s);
lis_status lis_igemm_cuda_mma_tf32(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
lis_status lis_igemm_cuda_mma_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
lis_status lis_igemm_cuda_mma_fp16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s);
/* The same split over the depth where the grid fills the GPU badly (as "v2 splitk"; ResNet-50's
 * layer4 at batch 64 is 100 blocks). Not yet timed on a GPU: the "tf32 splitk" / "bf16 splitk"
 * variants run it, and LIS_SPLITK_MMA_CUDA=1 makes the shipped mma path (and the three
 * functions above) split. */
lis_status lis_igemm_cuda_mma_splitk_tf32(const lis_igemm_params *p, const float *x, const float *w, float *y,
                                          lis_stream s);
lis_status lis_igemm_cuda_mma_splitk_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y,
                                          lis_stream s);
/* The shipped kernel for a precision. */
lis_status lis_igemm_cuda(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w, float *y,
                          lis_stream s);

/* Plain row-major GEMM C[M,N] = A[M,K] * B[K,N] (contiguous), through the igemm kernel. */
lis_status lis_gemm_cuda(int M, int N, int K, const float *A, const float *B, float *C, lis_precision prec,
                         lis_stream s);
/* `batch` such products in one launch: C + z*sC = (A + z*sA) (B + z*sB) for z < batch (strides
 * in floats): the Winograd's 16 or 36 GEMMs, which one at a time fill the GPU badly (one
 * image of the generator's L26 is 604 blocks, 2.3 waves). FP32 on v3, the others on the
 * mma.sync kernels (one launch per GEMM with LIS_MMA_CUDA=0). */
lis_status lis_gemm_cuda_batched(int batch, int M, int N, int K, const float *A, int64_t sA, const float *B,
                                 int64_t sB, float *C, int64_t sC, lis_precision prec, lis_stream s);
/* Batched GEMMs on 16-bit operands (kernels/gemm_mma16.cu): C + z*sC (M x N, leading
 * dimension ldc, float32) = (A + z*sA) (M x K, lda) times (B + z*sB) (K x N, ldb) for z < batch,
 * A and B bf16 or fp16 bit patterns as prec says (strides and leading dimensions in elements).
 * K, lda, ldb and the strides sA, sB must be multiples of 8, ldb at least N rounded up to 8, A
 * and B 16-byte aligned (callers pad the depth with zeros). mma.sync m16n8k16 with ldmatrix
 * fragments, float32 accumulators. */
lis_status lis_gemm16_cuda_batched(int batch, int M, int N, int K, const void *A, int64_t lda, int64_t sA, const void *B,
                                   int64_t ldb, int64_t sB, float *C, int64_t ldc, int64_t sC, lis_precision prec,
                                   lis_stream s);
/* Same product with cuBLAS (the library baseline). A and B are float for FP32/TF32 and
 * 16-bit (from lis_cuda_convert_f32) for BF16/FP16; C is float. FP32 uses cublasSgemm in
 * the default math mode (no TF32), the others cublasGemmEx with float accumulation. */
lis_status lis_gemm_cublas(int M, int N, int K, const void *A, const void *B, float *C, lis_precision prec,
                           lis_stream s);
/* n floats -> n bf16 or fp16 values (round to nearest even); FP32/TF32: a copy. */
lis_status lis_cuda_convert_f32(const float *src, void *dst, size_t n, lis_precision prec, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
