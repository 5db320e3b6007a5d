/* bias_act_cuda.h — StyleGAN's bias_act on the GPU (kernels/bias_act.cu): same params and
 * semantics as kernels/bias_act.h, y = clamp(act(x + b[c]) * gain) over x [N, C, inner].
 * Device pointers; x and y may alias. C header, no CUDA types.
 *
 * Variants (lis_bias_act_cuda_variants):
 *   v1  one thread per element, channel from a division (straight port)
 *   v2  one block per row (n, c): the bias is read once, threads stride over the row
 * lis_bias_act_cuda() runs v2, or v1 when there are fewer than 1024 rows.
 */
#ifndef LIS_BIAS_ACT_CUDA_H
#define LIS_BIAS_ACT_CUDA_H

#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/bias_act.h"

typedef lis_status (*lis_bias_act_cuda_fn)(const lis_bias_act_params *p, const float *x, const float *b, float *y,
                                           int64_t N, int64_t C, int64_t inner, lis_stream s);
typedef struct {
    const char *name;
    lis_bias_act_cuda_fn fn;
    const char *what;
} lis_bias_act_cuda_variant;
int lis_bias_act_cuda_variants(const lis_bias_act_cuda_variant **out);

lis_status lis_bias_act_cuda_v1(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N,
                                int64_t C, int64_t inner, lis_stream s);
lis_status lis_bias_act_cuda_v2(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N,
                                int64_t C, int64_t inner, lis_stream s);
lis_status lis_bias_act_cuda(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N,
                             int64_t C, int64_t inner, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
