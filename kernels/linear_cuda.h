/* linear_cuda.h — nn.Linear on the GPU (kernels/linear.cu): y = x W^T + b with x [N, IN],
 * W [OUT, IN] (PyTorch layout), b [OUT] or NULL. Device pointers; C header.
 *
 * Variants (lis_linear_cuda_variants):
 *   v1  one thread per (n, o), sequential float sum (straight port)
 *   v2  one warp per (n, o), lanes stride over IN, shuffle reduction
 * lis_linear_cuda() runs v2. (The classifier's fc is 2048 -> 1000: memory-bound on W at
 * small batch, a few GFLOP at batch 256; no GEMM needed.)
 */
#ifndef LIS_LINEAR_CUDA_H
#define LIS_LINEAR_CUDA_H

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef lis_status (*lis_linear_cuda_fn)(int N, int IN, int OUT, const float *x, const float *W, const float *b,
                                         float *y, lis_stream s);
typedef struct {
    const char *name;
    lis_linear_cuda_fn fn;
    const char *what;
} lis_linear_cuda_variant;
int lis_linear_cuda_variants(const lis_linear_cuda_variant **out);

lis_status lis_linear_cuda_v1(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y,
                              lis_stream s);
lis_status lis_linear_cuda_v2(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y,
                              lis_stream s);
lis_status lis_linear_cuda(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y,
                           lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
