/* filtered_lrelu_cuda.h — StyleGAN3's filtered leaky ReLU on the GPU
 * (kernels/filtered_lrelu.cu). Same parameters and argument order as lis_flrelu_cpu
 * (kernels/filtered_lrelu.h): x rows may be strided (x_row, x_plane), xscale [N*C] is an
 * optional per-plane factor applied before the bias, the filters in lis_flrelu_params
 * are HOST pointers (their taps travel with the launch). x, xscale, b, y are device
 * memory; y is contiguous [N, C, Ho, Wo] (lis_flrelu_out_shape).
 *
 * Variants (lis_flrelu_cuda_variants):
 *   v1  one thread per output, every tap of both filters evaluated from the definition
 *       (zero-stuffed input, up-filter, activation, down-filter): slow, obviously right
 *   v2  fused and tiled as NVIDIA's filtered_lrelu: a block computes a TH x TW output tile
 *       of one plane; in shared memory it holds the input window (bias, scale applied),
 *       the horizontally up-filtered rows, the activated 2x-rate tile and the vertically
 *       down-filtered rows; polyphase loops skip the stuffed zeros. The 2x-rate
 *       intermediate never reaches global memory.
 *   v3  v2's passes with up, down and the tap counts fixed at compile time (up 2 / down 2 /
 *       12 taps and up 4 / down 2 / 24-12 taps, the generator's layers; other filters go to
 *       v2) and R outputs per thread from registers (kernels/filtered_lrelu_tile.cuh)
 * lis_flrelu_cuda() runs v3.
 */
#ifndef LIS_FILTERED_LRELU_CUDA_H
#define LIS_FILTERED_LRELU_CUDA_H

#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/filtered_lrelu.h"

typedef lis_status (*lis_flrelu_cuda_fn)(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                                         const float *xscale, const float *b, float *y, int N, int C, int H, int W,
                                         lis_stream s);
typedef struct {
    const char *name;
    lis_flrelu_cuda_fn fn;
    const char *what;
} lis_flrelu_cuda_variant;
int lis_flrelu_cuda_variants(const lis_flrelu_cuda_variant **out);

lis_status lis_flrelu_cuda_v1(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                              const float *xscale, const float *b, float *y, int N, int C, int H, int W, lis_stream s);
lis_status lis_flrelu_cuda_v2(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                              const float *xscale, const float *b, float *y, int N, int C, int H, int W, lis_stream s);
lis_status lis_flrelu_cuda_v3(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                              const float *xscale, const float *b, float *y, int N, int C, int H, int W, lis_stream s);
lis_status lis_flrelu_cuda(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                           const float *xscale, const float *b, float *y, int N, int C, int H, int W, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
