/* bias_act.h — StyleGAN's bias_act: y = clamp(act(x + b) * gain, -clamp, clamp).
 *
 * Matches torch_utils/ops/bias_act.py (reference path): the bias runs along dim 1
 * (x is [N, C, ...inner]), act is linear or leaky ReLU with `slope`, gain is applied
 * after the activation, and clamp (if >= 0) after the gain. All in float32.
 */
#ifndef LIS_BIAS_ACT_H
#define LIS_BIAS_ACT_H

#include <stdint.h>

typedef struct {
    int lrelu;     /* 0: linear, 1: leaky ReLU */
    float slope;   /* leaky ReLU negative slope (0.2) */
    float gain;    /* multiplied after the activation */
    float clamp;   /* < 0: no clamp */
} lis_bias_act_params;

/* x, y: [N, C, inner] (may alias); b: [C] or NULL. */
void lis_bias_act_ref(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N, int64_t C,
                      int64_t inner);
void lis_bias_act_cpu(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N, int64_t C,
                      int64_t inner);

#endif
