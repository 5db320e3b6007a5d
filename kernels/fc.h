/* fc.h — StyleGAN's FullyConnectedLayer (networks_stylegan3.FullyConnectedLayer).
 *
 * weight [out, in], bias [out], weight_gain = lr_multiplier / sqrt(in),
 * bias_gain = lr_multiplier. For x [B, in]:
 *   Wt = weight * weight_gain                      (float32, elementwise, done at prepare)
 *   b  = bias * bias_gain   (only if bias_gain != 1; else the stored bias as is)
 *   linear: y = b + x @ Wt^T           lrelu: y = lrelu_0.2(x @ Wt^T + b) * sqrt(2)
 * The gains are Python floats rounded to float32 before the multiply, as PyTorch does.
 */
#ifndef LIS_FC_H
#define LIS_FC_H

#include "runtime/status.h"

typedef struct {
    int in, out, lrelu;
    float *wt; /* [out, in] weight * weight_gain (owned) */
    float *b;  /* [out] bias * bias_gain (owned) */
} lis_fc;

lis_status lis_fc_prepare(lis_fc *fc, const float *weight, const float *bias, int in, int out, double lr_multiplier,
                          int lrelu);
void lis_fc_free(lis_fc *fc);
/* x [B, in] -> y [B, out] (no aliasing). */
void lis_fc_ref(const lis_fc *fc, const float *x, float *y, int B);
void lis_fc_cpu(const lis_fc *fc, const float *x, float *y, int B);

#endif
