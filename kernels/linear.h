/* linear.h — fully connected layer, PyTorch nn.Linear: y = x W^T + b.
 *
 * x: N x IN, W: OUT x IN (PyTorch layout), b: OUT or NULL, y: N x OUT.
 *
 * Variants: _ref (double accumulator, the oracle) and _cpu (threads over blocks of
 * output features; each W row is read once per block of 8 inputs and dotted with AVX2
 * FMA in 8 lanes, then summed across lanes). At the ResNet fc sizes (2048 -> 1000)
 * it is memory-bound on W at batch 1 and cheap at any batch, so no GEMM is needed.
 */
#ifndef LIS_LINEAR_H
#define LIS_LINEAR_H

void lis_linear_ref(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y);
void lis_linear_cpu(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y);

#endif
