/* nearest_concat_cuda.h — the segmentation head's feature path on the GPU
 * (kernels/nearest_concat.cu; same semantics as kernels/nearest_concat.h). C header, no
 * CUDA types; every data pointer is device memory, the params struct and the array of
 * map pointers live on the host.
 *
 * Variants (one each; NOT YET RUN ON A GPU, compile-checked only):
 *   concat   thread per output element: the nearest gather of one map into its channels
 *   grid     thread per grid element: a map's window, subsampled to out when larger
 *   scatter  thread per output element, summing its 9 taps' products from Z (no atomics)
 *   tapconv  bias, then per map: grid, Z = A_m G_m (lis_gemm_cuda, FP32), scatter; then the
 *            activation. A_m is the host-arranged [9K, C_m] slice of the weights
 *            (lis_tapconv_arrange_weights), all maps back to back.
 */
#ifndef LIS_NEAREST_CONCAT_CUDA_H
#define LIS_NEAREST_CONCAT_CUDA_H

#include <stddef.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/nearest_concat.h"

/* y [in_ch, out, out] */
lis_status lis_nearest_concat_cuda(const lis_nc_params *p, const float *const *maps, float *y, lis_stream s);
/* G [C_m, g, g]; *g_out = g */
lis_status lis_nc_grid_cuda(const lis_nc_params *p, int m, const float *map, float *G, int *g_out, lis_stream s);
/* y [K, out, out] += the taps of map m from Z [9K, g, g] */
lis_status lis_tapconv_scatter_cuda(const lis_nc_params *p, int m, const float *Z, float *y, lis_stream s);
/* The whole first conv. A: lis_tapconv_arrange_weights' layout (device), ws: device floats of
 * lis_tapconv_cuda_workspace_floats(p). */
lis_status lis_tapconv_cuda(const lis_nc_params *p, const float *const *maps, const float *A, const float *bias, float *y,
                            float *ws, lis_stream s);

/* Host helpers (defined in nearest_concat.c, present in every build): the weights
 * w [K, in_ch, 3, 3] rearranged per map into [9K, C_m] blocks, back to back (9 K in_ch
 * floats), and the workspace size (floats) of lis_tapconv_cuda. */
void lis_tapconv_arrange_weights(const lis_nc_params *p, const float *w, float *A);
size_t lis_tapconv_cuda_workspace_floats(const lis_nc_params *p);

#ifdef __cplusplus
}
#endif

#endif
