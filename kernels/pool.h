/* pool.h — max pooling and global average pooling, NCHW (PyTorch nn.MaxPool2d with
 * ceil_mode=False, dilation 1; nn.AdaptiveAvgPool2d(1)).
 *
 * Max pool: y[n,c,oy,ox] = max over the k x k window at (oy*s - p, ox*s - p) of the
 * cells inside the input. Padded cells never win (they count as -inf, as in PyTorch),
 * so relu(maxpool(x)) == maxpool(relu(x)) exactly, which lets a net fuse the ReLU
 * before the pool into the pool (`relu` = 1). Ho = (H + 2p - k)/s + 1 (floor).
 * Global average pool: y[n,c] = (sum over H*W of x[n,c]) / (H*W), float32.
 *
 * Variants: _ref (plain loops, the oracle) and _cpu (threads over planes; the max pool
 * forms the column-wise max of each band of k rows with AVX, then the max of k columns).
 * Same values as _ref (max is exact; the average sums in the same order).
 */
#ifndef LIS_POOL_H
#define LIS_POOL_H

#include "runtime/status.h"

typedef struct {
    int N, C, H, W; /* input NCHW */
    int k, stride, pad;
    int relu;       /* 1: max(result, 0) */
} lis_maxpool_params;

lis_status lis_maxpool_check(const lis_maxpool_params *p);
void lis_maxpool_out_shape(const lis_maxpool_params *p, int *Ho, int *Wo);
void lis_maxpool_ref(const lis_maxpool_params *p, const float *x, float *y);
void lis_maxpool_cpu(const lis_maxpool_params *p, const float *x, float *y);

/* x: N x C x H x W -> y: N x C */
void lis_avgpool_global_ref(int N, int C, int H, int W, const float *x, float *y);
void lis_avgpool_global_cpu(int N, int C, int H, int W, const float *x, float *y);

#endif
