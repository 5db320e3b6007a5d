/* pool_cuda.h — max pooling and global average pooling on the GPU (kernels/pool.cu),
 * same parameters and results as kernels/pool.h, bit for bit: the max picks an input
 * value (NaN wins, padded cells never do; relu = 1 fuses the ReLU before the pool), and
 * the average sums each plane left to right in float32 as the CPU does, then divides.
 * Device pointers; C header. One variant each (a thread per output / per plane): both
 * ops are a few percent of the classifier's time.
 */
#ifndef LIS_POOL_CUDA_H
#define LIS_POOL_CUDA_H

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/pool.h"

lis_status lis_maxpool_cuda(const lis_maxpool_params *p, const float *x, float *y, lis_stream s);
/* x: N x C x H x W -> y: N x C */
lis_status lis_avgpool_global_cuda(int N, int C, int H, int W, const float *x, float *y, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
