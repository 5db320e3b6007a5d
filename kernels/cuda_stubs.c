/* cuda_stubs.c — the CPU-only build's stand-ins for every C-callable CUDA entry point
 * declared in kernels/<op>_cuda.h, so that nets, tests, benchmarks and the CLI link in
 * both builds without #ifdefs of their own. Each fails with "built without CUDA" (or
 * reports no variants / frees nothing). They are never reached in practice: callers ask
 * lis_cuda_device_count() first, and it is 0 in such a build (runtime/backend.c).
 * With the CUDA backend (LIS_HAVE_CUDA) this file is empty and the .cu files define the
 * real functions; a function added to a _cuda.h header needs a line here too.
 */
#ifndef LIS_HAVE_CUDA

#include "kernels/bias_act_cuda.h"
#include "kernels/conv_nhwc_cuda.h"
#include "kernels/conv2d_cuda.h"
#include "kernels/fc_cuda.h"
#include "kernels/filtered_lrelu_cuda.h"
#include "kernels/gemm_cuda.h"
#include "kernels/linear_cuda.h"
#include "kernels/modconv_cuda.h"
#include "kernels/nearest_concat_cuda.h"
#include "kernels/pool_cuda.h"
#include "kernels/preprocess_cuda.h"
#include "kernels/synth_input_cuda.h"
#include "kernels/to_u8_cuda.h"
#include "kernels/winograd_cuda.h"

#define NO_CUDA return lis_err_set("%s: this build has no CUDA backend", __func__)

/* NHWC path (kernels/conv_nhwc_cuda.h) */
lis_status lis_nhwc_conv_cuda(const lis_nhwc_conv_params *p, const void *x, const void *w, const float *bias,
                              const void *res, void *y, lis_precision prec, lis_stream s) { NO_CUDA; }
int lis_nhwc_conv_block_n(int M, int K) { return 64; }
lis_status lis_nhwc_conv_nchw_out_cuda(const lis_nhwc_conv_params *p, const void *x, const void *w,
                                       const float *out_scale, const float *bias, float *y, lis_precision prec,
                                       lis_stream s) { NO_CUDA; }
lis_status lis_nchw_to_nhwc_scaled_cuda(const float *x, const float *scale, int N, int C, int HW, int Cp, void *y,
                                        lis_precision prec, lis_stream s) { NO_CUDA; }
lis_status lis_nhwc_pack_weights_cuda(const float *w, int K, int C, int R, int S, int Cp, void *out, lis_precision prec,
                                      lis_stream s) { NO_CUDA; }
lis_status lis_nchw_to_nhwc_cuda(const float *x, int N, int C, int HW, int Cp, void *y, lis_precision prec,
                                 lis_stream s) { NO_CUDA; }
lis_status lis_stem_s2d_cuda(const float *x, int N, int C, int H, int W, int Cp, void *xs, lis_precision prec,
                             lis_stream s) { NO_CUDA; }
lis_status lis_nhwc_to_nchw_cuda(const void *x, int N, int C, int HW, int Cp, float *y, lis_precision prec,
                                 lis_stream s) { NO_CUDA; }
lis_status lis_maxpool_nhwc_cuda(const lis_maxpool_params *p, const void *x, void *y, lis_precision prec,
                                 lis_stream s) { NO_CUDA; }
lis_status lis_avgpool_nhwc_cuda(int N, int C, int HW, const void *x, float *y, lis_precision prec, lis_stream s) { NO_CUDA; }

/* gemm */
void lis_igemm_out_shape(const lis_igemm_params *p, int *Ho, int *Wo) {
    *Ho = (p->H + 2 * p->pad_h - p->dil_h * (p->R - 1) - 1) / p->stride_h + 1;
    *Wo = (p->W + 2 * p->pad_w - p->dil_w * (p->S - 1) - 1) / p->stride_w + 1;
}
lis_status lis_igemm_check(const lis_igemm_params *p) { NO_CUDA; }
double lis_igemm_macs(const lis_igemm_params *p) {
    int Ho, Wo;
    lis_igemm_out_shape(p, &Ho, &Wo);
    return (double)p->N * Ho * Wo * p->K * p->C * p->R * p->S;
}
int lis_igemm_cuda_variants(const lis_igemm_variant **out) { *out = NULL; return 0; }
lis_status lis_igemm_cuda_v1(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_v2(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_wino(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
int lis_igemm_mma_enabled(void) { return 0; }
lis_status lis_igemm_cuda_mma(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w, float *y,
                              lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_mma_tf32(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_mma_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_mma_fp16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_v3(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_wino4(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_v2_splitk(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_wmma_tf32(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_wmma_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_wmma_fp16(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_mma_splitk_tf32(const lis_igemm_params *p, const float *x, const float *w, float *y,
                                          lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda_mma_splitk_bf16(const lis_igemm_params *p, const float *x, const float *w, float *y,
                                          lis_stream s) { NO_CUDA; }
lis_status lis_igemm_cuda(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w, float *y,
                          lis_stream s) { NO_CUDA; }
lis_status lis_gemm_cuda(int M, int N, int K, const float *A, const float *B, float *C, lis_precision prec,
                         lis_stream s) { NO_CUDA; }
lis_status lis_gemm_cuda_batched(int batch, int M, int N, int K, const float *A, int64_t sA, const float *B,
                                 int64_t sB, float *C, int64_t sC, lis_precision prec, lis_stream s) { NO_CUDA; }
lis_status lis_gemm16_cuda_batched(int batch, int M, int N, int K, const void *A, int64_t lda, int64_t sA, const void *B,
                                   int64_t ldb, int64_t sB, float *C, int64_t ldc, int64_t sC, lis_precision prec,
                                   lis_stream s) { NO_CUDA; }
lis_status lis_gemm_cublas(int M, int N, int K, const void *A, const void *B, float *C, lis_precision prec,
                           lis_stream s) { NO_CUDA; }
lis_status lis_cuda_convert_f32(const float *src, void *dst, size_t n, lis_precision prec, lis_stream s) { NO_CUDA; }

/* modconv */
lis_status lis_modconv_cuda_prepare(lis_modconv_cuda_weights *mw, const float *w_host, int O, int I, int k,
                                    int demodulate, lis_stream s) { NO_CUDA; }
void lis_modconv_cuda_weights_free(lis_modconv_cuda_weights *mw) {}
lis_status lis_modconv_cuda_styles(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *s,
                                   float input_gain, int B, float *sm, float *dsc, lis_stream st) { NO_CUDA; }
size_t lis_modconv_cuda_workspace(const lis_modconv_cuda_weights *mw, int B, int v1) { return 0; }
int lis_modconv_cuda_variants(const lis_modconv_cuda_variant **out) { *out = NULL; return 0; }
lis_status lis_modconv_cuda_v1(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x,
                               const float *s, float input_gain, int B, int H, int W, float *y, float *ws,
                               lis_stream st) { NO_CUDA; }
lis_status lis_modconv_cuda(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x,
                            const float *s, float input_gain, int B, int H, int W, float *y, float *ws,
                            lis_precision prec, lis_stream st) { NO_CUDA; }

/* filtered_lrelu */
int lis_flrelu_cuda_variants(const lis_flrelu_cuda_variant **out) { *out = NULL; return 0; }
lis_status lis_flrelu_cuda_v1(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                              const float *xscale, const float *b, float *y, int N, int C, int H, int W,
                              lis_stream s) { NO_CUDA; }
lis_status lis_flrelu_cuda_v2(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                              const float *xscale, const float *b, float *y, int N, int C, int H, int W,
                              lis_stream s) { NO_CUDA; }
lis_status lis_flrelu_cuda_v3(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                              const float *xscale, const float *b, float *y, int N, int C, int H, int W,
                              lis_stream s) { NO_CUDA; }
lis_status lis_flrelu_cuda(const lis_flrelu_params *p, const float *x, int64_t x_row, int64_t x_plane,
                           const float *xscale, const float *b, float *y, int N, int C, int H, int W,
                           lis_stream s) { NO_CUDA; }

/* bias_act */
int lis_bias_act_cuda_variants(const lis_bias_act_cuda_variant **out) { *out = NULL; return 0; }
lis_status lis_bias_act_cuda_v1(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N,
                                int64_t C, int64_t inner, lis_stream s) { NO_CUDA; }
lis_status lis_bias_act_cuda_v2(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N,
                                int64_t C, int64_t inner, lis_stream s) { NO_CUDA; }
lis_status lis_bias_act_cuda(const lis_bias_act_params *p, const float *x, const float *b, float *y, int64_t N,
                             int64_t C, int64_t inner, lis_stream s) { NO_CUDA; }

/* fc */
lis_status lis_fc_cuda_upload(lis_fc_dev *d, const lis_fc *h) { NO_CUDA; }
void lis_fc_cuda_free(lis_fc_dev *d) {}
int lis_fc_cuda_variants(const lis_fc_cuda_variant **out) { *out = NULL; return 0; }
lis_status lis_fc_cuda_v1(const lis_fc_dev *fc, const float *x, int64_t ldx, float *y, int B, lis_stream s) { NO_CUDA; }
lis_status lis_fc_cuda_v2(const lis_fc_dev *fc, const float *x, int64_t ldx, float *y, int B, lis_stream s) { NO_CUDA; }
lis_status lis_fc_cuda(const lis_fc_dev *fc, const float *x, int64_t ldx, float *y, int B, lis_stream s) { NO_CUDA; }

/* synth_input */
lis_status lis_synth_input_cuda_upload(lis_synth_input_dev *d, const lis_synth_input *h) { NO_CUDA; }
void lis_synth_input_cuda_free(lis_synth_input_dev *d) {}
size_t lis_synth_input_cuda_workspace(const lis_synth_input_dev *si, int B) { return 0; }
lis_status lis_synth_input_cuda(const lis_synth_input_dev *si, const float *w, int64_t ldw, float *y,
                                float *affine_out, int B, float *ws, lis_precision prec, lis_stream s) { NO_CUDA; }

/* conv2d */
void lis_conv2d_igemm_params(const lis_conv2d_params *p, const float *bias, const float *res, lis_igemm_params *g) {
    lis_igemm_params z = {p->N, p->C, p->H, p->W, p->K, p->R, p->S, p->stride_h, p->stride_w, p->pad_h, p->pad_w,
                          p->dil_h, p->dil_w, (int)p->act, p->slope, NULL, NULL, bias, res};
    *g = z;
}
lis_status lis_conv2d_cuda(const lis_conv2d_params *p, const float *x, const float *w, const float *bias,
                           const float *res, float *y, lis_precision prec, lis_stream s) { NO_CUDA; }
lis_status lis_conv2d_cuda_variant(const lis_igemm_variant *v, const lis_conv2d_params *p, const float *x,
                                   const float *w, const float *bias, const float *res, float *y,
                                   lis_stream s) { NO_CUDA; }
int lis_cudnn_available(void) { lis_err_set("cuDNN: this build has no CUDA backend"); return 0; }
lis_status lis_cudnn_nhwc_conv_plan(lis_cudnn_conv **out, const lis_nhwc_conv_params *p, lis_precision prec) {
    *out = NULL;
    NO_CUDA;
}
lis_status lis_cudnn_nhwc_conv_run(lis_cudnn_conv *c, const void *x, const void *w, void *y, lis_stream s) { NO_CUDA; }
lis_status lis_cudnn_conv_plan(lis_cudnn_conv **out, const lis_conv2d_params *p, lis_precision prec) {
    *out = NULL;
    NO_CUDA;
}
lis_status lis_cudnn_conv_run(lis_cudnn_conv *c, const float *x, const float *w, const float *bias, const float *res,
                              float *y, lis_stream s) { NO_CUDA; }
void lis_cudnn_conv_free(lis_cudnn_conv *c) {}
const char *lis_cudnn_conv_algo(const lis_cudnn_conv *c) { return "-"; }

/* pool, linear */
lis_status lis_maxpool_cuda(const lis_maxpool_params *p, const float *x, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_avgpool_global_cuda(int N, int C, int H, int W, const float *x, float *y, lis_stream s) { NO_CUDA; }
int lis_linear_cuda_variants(const lis_linear_cuda_variant **out) { *out = NULL; return 0; }
lis_status lis_linear_cuda_v1(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y,
                              lis_stream s) { NO_CUDA; }
lis_status lis_linear_cuda_v2(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y,
                              lis_stream s) { NO_CUDA; }
lis_status lis_linear_cuda(int N, int IN, int OUT, const float *x, const float *W, const float *b, float *y,
                           lis_stream s) { NO_CUDA; }

/* preprocess */
lis_status lis_preprocess_cuda_upload(lis_preprocess_dev *d, const lis_preprocess_plan *pl) { NO_CUDA; }
void lis_preprocess_cuda_free(lis_preprocess_dev *d) {}
size_t lis_preprocess_cuda_workspace(const lis_preprocess_dev *d, int n) { return 0; }
lis_status lis_preprocess_cuda(const lis_preprocess_dev *d, int n, const uint8_t *imgs, float *out, void *ws,
                               lis_stream s) { NO_CUDA; }

/* to_u8 */
lis_status lis_to_u8_cuda(const float *img, int N, int C, int H, int W, uint8_t *u8, lis_stream s) { NO_CUDA; }

/* nearest_concat / tapconv (the segmentation head's input path) */
lis_status lis_nearest_concat_cuda(const lis_nc_params *p, const float *const *maps, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_nc_grid_cuda(const lis_nc_params *p, int m, const float *map, float *G, int *g_out, lis_stream s) { NO_CUDA; }
lis_status lis_tapconv_scatter_cuda(const lis_nc_params *p, int m, const float *Z, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_tapconv_cuda(const lis_nc_params *p, const float *const *maps, const float *A, const float *bias, float *y,
                            float *ws, lis_stream s) { NO_CUDA; }

/* winograd */
int lis_wino_cuda_wanted(const lis_igemm_params *p) { return 0; }
const char *lis_wino_cuda_mode(void) { return "off"; }
int lis_wino_igemm_applies(const lis_igemm_params *p) { return 0; }
lis_status lis_wino_igemm_cuda(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_wino4_igemm_cuda(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_wino_igemm_cuda_prec(const lis_igemm_params *p, lis_precision prec, int tile, const float *x,
                                    const float *w, float *y, lis_stream s) { NO_CUDA; }
lis_status lis_wino_igemm_cuda_g16(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w,
                                   float *y, lis_stream s) { NO_CUDA; }
int lis_wino_cuda_tile(const lis_igemm_params *p, lis_precision prec) { return 2; }
int lis_wino_cuda_tc_wanted(const lis_igemm_params *p) { return 0; }
void lis_wino_cuda_release(void) {}

#else
typedef int lis_cuda_stubs_unused; /* ISO C: a translation unit must not be empty */
#endif
