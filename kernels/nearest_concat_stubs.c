/* nearest_concat_stubs.c — CPU-only build stand-ins for kernels/nearest_concat_cuda.h (the
 * CUDA build defines them in nearest_concat.cu). Kept beside the op rather than in
 * kernels/cuda_stubs.c until that file's owner folds them in. Never reached: callers ask
 * lis_cuda_device_count() first. */
#ifndef LIS_HAVE_CUDA

#include "kernels/nearest_concat_cuda.h"

#define NO_CUDA return lis_err_set("%s: this build has no CUDA backend", __func__)

lis_status lis_nearest_concat_cuda(const lis_nc_params *p, const float *const *maps, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_nc_grid_cuda(const lis_nc_params *p, int m, const float *map, float *G, int *g_out, lis_stream s) { NO_CUDA; }
lis_status lis_tapconv_scatter_cuda(const lis_nc_params *p, int m, const float *Z, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_tapconv_cuda(const lis_nc_params *p, const float *const *maps, const float *A, const float *bias, float *y,
                            float *ws, lis_stream s) { NO_CUDA; }

#else
typedef int lis_nearest_concat_stubs_empty; /* ISO C: no empty translation unit */
#endif
