/* pump_cuda_stubs.c — the CPU-only build's stand-ins for the C-callable CUDA entry points of
 * the PUMP ops (kernels/dwconv_cuda.h, chan_affine_cuda.h, pump_head_cuda.h,
 * pump_corr_cuda.h), in the manner of kernels/cuda_stubs.c: each fails with "built without
 * CUDA" or lists no variants. Never reached: callers ask lis_cuda_device_count() first. With
 * the CUDA backend (LIS_HAVE_CUDA) this file is empty and the .cu files define them. Kept
 * apart from cuda_stubs.c so the PUMP ops stay one unit.
 */
#ifndef LIS_HAVE_CUDA

#include "kernels/chan_affine_cuda.h"
#include "kernels/dwconv_cuda.h"
#include "kernels/pump_corr_cuda.h"
#include "kernels/pump_head_cuda.h"

#define NO_CUDA return lis_err_set("%s: this build has no CUDA backend", __func__)

int lis_dwconv_cuda_variants(const lis_dwconv_cuda_variant **out) { *out = NULL; return 0; }
lis_status lis_dwconv_cuda_v1(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x,
                              const float *res, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_dwconv_cuda_v2(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x,
                              const float *res, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_dwconv_cuda(const lis_dwconv_params *p, const lis_dwconv_weights *wt, const float *x, const float *res,
                           float *y, lis_stream s) { NO_CUDA; }

lis_status lis_chan_affine_cuda(const lis_chan_affine_params *p, const float *scale, const float *shift, const float *x,
                                float *y, lis_stream s) { NO_CUDA; }

lis_status lis_pump_head_full_cuda(const lis_pump_head_params *p, const float *x, float *out, lis_stream s) { NO_CUDA; }
lis_status lis_pump_head_grid_cuda(const lis_pump_head_params *p, const float *x, float *out, int ld, lis_stream s) {
    NO_CUDA;
}

int lis_pump_corr_cuda_variants(const lis_pump_corr_cuda_variant **out) { *out = NULL; return 0; }
lis_status lis_pump_corr_cuda_v1(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0,
                                 lis_stream s) { NO_CUDA; }
lis_status lis_pump_corr_cuda_v2(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0,
                                 lis_stream s) { NO_CUDA; }
lis_status lis_pump_corr_cuda(const lis_pump_geom *g, const float *desc1, const float *desc2, float *P0, lis_stream s) {
    NO_CUDA;
}
size_t lis_pump_fwd_level_cuda_workspace(const lis_pump_geom *g, int l) { return 0; }
int lis_pump_fwd_level_cuda_variants(const lis_pump_fwd_cuda_variant **out) { *out = NULL; return 0; }
lis_status lis_pump_fwd_level_cuda_v1(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo,
                                      const float *nrm, float *P_up, float *ws, lis_stream s) { NO_CUDA; }
lis_status lis_pump_fwd_level_cuda_v2(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo,
                                      const float *nrm, float *P_up, float *ws, lis_stream s) { NO_CUDA; }
lis_status lis_pump_fwd_level_cuda(const lis_pump_geom *g, int l, const float *P_lo, const float *w_lo,
                                   const float *nrm, float *P_up, float *ws, lis_stream s) { NO_CUDA; }
size_t lis_pump_bwd_level_cuda_workspace(const lis_pump_geom *g, int l) { return 0; }
lis_status lis_pump_bwd_level_cuda(const lis_pump_geom *g, int l, const float *P_up, float *P_lo, void *ws,
                                   lis_stream s) { NO_CUDA; }
size_t lis_pump_best_cuda_workspace(const lis_pump_geom *g) { return 0; }
lis_status lis_pump_best_cuda(const lis_pump_geom *g, const float *P0, float *pos1, float *score1, float *pos2,
                              float *score2, void *ws, lis_stream s) { NO_CUDA; }

#else
typedef int lis_pump_cuda_stubs_unused; /* ISO C: a translation unit needs a declaration */
#endif
