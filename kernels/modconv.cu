// modconv.cu — modulated convolution on the GPU (see kernels/modconv_cuda.h).
//
// Variants (table at the end):
//   v1    straight port of lis_modconv_ref: per-sample weights materialised, naive conv
//   fp32  styles folded into the gather, demodulation into the epilogue, the float32 igemm as
//         shipped (lis_igemm_cuda: Winograd for big 3x3 layers, else v2; v3 for 1x1)
//   tf32 / bf16 / fp16: the same folding on the tensor-core igemm kernels
//   wino, wino4  Winograd F(2x2, 3x3) / F(4x4, 3x3), kernels/winograd.cu (the float32 path
//         takes F(4x4) for big 3x3 layers); tf32 wino / bf16 wino: F(2x2) on the mma kernels,
//         bf16 wino16 on 16-bit operands; tf32 direct / bf16 direct: the mma kernel everywhere
//
// Kernels: normalize (prepare: one block per output channel), style_norm (one block per
// sample, or one for the batch-wide rms), demod (one warp per (sample, output channel)),
// materialize (v1: one block per (sample, output channel)). Reductions are float32 tree
// sums; the CPU sums sequentially, so results agree to float32 rounding.
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/conv_nhwc_cuda.h"
#include "kernels/gemm_cuda.h"
#include "kernels/modconv_cuda.h"
#include "kernels/winograd_cuda.h"
}

namespace {

// w [O, K] in place: w *= rsqrt(mean w^2) per row; w2[o, i] = sum over the kk taps of w^2.
__global__ void normalize_kernel(float *w, float *w2, int K, int I, int kk) {
    __shared__ float sh[32];
    float *row = w + (int64_t)blockIdx.x * K;
    float acc = 0.0f;
    for (int t = threadIdx.x; t < K; t += blockDim.x) acc += row[t] * row[t];
    acc = lis_block_sum(acc, sh);
    const float r = 1.0f / sqrtf(acc / (float)K);
    __syncthreads(); // every thread has read the row before it is rescaled
    for (int t = threadIdx.x; t < K; t += blockDim.x) row[t] *= r;
    __syncthreads();
    for (int i = threadIdx.x; i < I; i += blockDim.x) {
        float a = 0.0f;
        for (int t = 0; t < kk; t++) a += row[i * kk + t] * row[i * kk + t];
        w2[(int64_t)blockIdx.x * I + i] = a;
    }
}

// sm = s * rsqrt(mean s^2): grid = B blocks (per sample) or 1 block (over all B*I values).
__global__ void style_norm_kernel(const float *s, float *sm, int n_per_block, int demodulate) {
    __shared__ float sh[32];
    const float *src = s + (int64_t)blockIdx.x * n_per_block;
    float *dst = sm + (int64_t)blockIdx.x * n_per_block;
    float r = 1.0f;
    if (demodulate) {
        float acc = 0.0f;
        for (int i = threadIdx.x; i < n_per_block; i += blockDim.x) acc += src[i] * src[i];
        acc = lis_block_sum(acc, sh);
        r = 1.0f / sqrtf(acc / (float)n_per_block);
    }
    for (int i = threadIdx.x; i < n_per_block; i += blockDim.x) dst[i] = demodulate ? src[i] * r : src[i];
}

// dsc[b, o] = (demodulate ? rsqrt(sum_i w2[o,i] * sm[b,i]^2 + 1e-8) : 1) * gain; one warp each.
__global__ void demod_kernel(const float *w2, const float *sm, float *dsc, int B, int O, int I, int demodulate,
                             float gain) {
    const int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (warp >= (int64_t)B * O) return; // uniform per warp
    const int b = (int)(warp / O), o = (int)(warp - (int64_t)b * O);
    float d = 1.0f;
    if (demodulate) {
        float acc = 0.0f;
        for (int i = lane; i < I; i += 32) {
            float si = sm[(int64_t)b * I + i];
            acc += w2[(int64_t)o * I + i] * (si * si);
        }
        acc = lis_warp_sum(acc);
        d = 1.0f / sqrtf(acc + 1e-8f);
    }
    if (lane == 0) dsc[warp] = d * gain;
}

// v1: wm[b, o, :] = w[o, :] * sm[b, i]; d = rsqrt(sum wm^2 + 1e-8); wm *= d; wm *= gain.
__global__ void materialize_kernel(const float *w, const float *sm, float *wm, int O, int I, int kk, int demodulate,
                                   float gain) {
    __shared__ float sh[32];
    const int bo = blockIdx.x, b = bo / O, o = bo - b * O, K = I * kk;
    const float *wr = w + (int64_t)o * K;
    float *dst = wm + (int64_t)bo * K;
    float acc = 0.0f;
    for (int e = threadIdx.x; e < K; e += blockDim.x) {
        float v = wr[e] * sm[(int64_t)b * I + e / kk];
        dst[e] = v;
        acc += v * v;
    }
    acc = lis_block_sum(acc, sh);
    const float d = demodulate ? 1.0f / sqrtf(acc + 1e-8f) : 1.0f;
    for (int e = threadIdx.x; e < K; e += blockDim.x) { // each thread rescales what it wrote
        float v = dst[e];
        if (demodulate) v *= d;
        dst[e] = v * gain;
    }
}

// The styles, then a convolution entry point on the folded igemm parameters (the modulation
// applied in the gather or input transform, the demodulation in the epilogue or output
// transform)
template <typename F>
lis_status styled(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *s, float g, int B,
                  int H, int W, float *ws, lis_stream st, F run) {
    float *sm = ws, *dsc = ws + (size_t)B * mw->I;
    LIS_TRY(lis_modconv_cuda_styles(mw, p, s, g, B, sm, dsc, st));
    const lis_igemm_params gp = {B, mw->I, H, W, mw->O, mw->k, mw->k, 1, 1, p->padding, p->padding, 1, 1, 0, 0.0f,
                                 sm, dsc, NULL, NULL};
    return run(&gp);
}

// the shipped igemm in precision prec
lis_status folded(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                  float gain, int B, int H, int W, float *y, float *ws, lis_precision prec, lis_stream st) {
    return styled(mw, p, s, gain, B, H, W, ws, st,
                  [&](const lis_igemm_params *gp) { return lis_igemm_cuda(gp, prec, x, mw->w, y, st); });
}

// a Winograd entry point for 3x3 layers; other kernels take the shipped igemm in precision prec
template <typename F>
lis_status wino_or_folded(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x,
                          const float *s, float g, int B, int H, int W, float *y, float *ws, lis_stream st,
                          lis_precision prec, F run) {
    if (mw->k != 3) return folded(mw, p, x, s, g, B, H, W, y, ws, prec, st);
    return styled(mw, p, s, g, B, H, W, ws, st, run);
}

lis_status v2(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s, float g,
              int B, int H, int W, float *y, float *ws, lis_stream st) {
    return folded(mw, p, x, s, g, B, H, W, y, ws, LIS_PREC_FP32, st);
}
lis_status vtf32(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                 float g, int B, int H, int W, float *y, float *ws, lis_stream st) {
    return folded(mw, p, x, s, g, B, H, W, y, ws, LIS_PREC_TF32, st);
}
lis_status vbf16(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                 float g, int B, int H, int W, float *y, float *ws, lis_stream st) {
    return folded(mw, p, x, s, g, B, H, W, y, ws, LIS_PREC_BF16, st);
}
lis_status vfp16(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                 float g, int B, int H, int W, float *y, float *ws, lis_stream st) {
    return folded(mw, p, x, s, g, B, H, W, y, ws, LIS_PREC_FP16, st);
}

// float32 Winograd F(2x2, 3x3)
lis_status vwino(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                 float g, int B, int H, int W, float *y, float *ws, lis_stream st) {
    return wino_or_folded(mw, p, x, s, g, B, H, W, y, ws, st, LIS_PREC_FP32,
                  [&](const lis_igemm_params *gp) { return lis_wino_igemm_cuda(gp, x, mw->w, y, st); });
}

// F(4x4, 3x3): the same with 36 GEMMs (the shipped float32 Winograd)
lis_status vwino4(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                  float g, int B, int H, int W, float *y, float *ws, lis_stream st) {
    return wino_or_folded(mw, p, x, s, g, B, H, W, y, ws, st, LIS_PREC_FP32,
                  [&](const lis_igemm_params *gp) { return lis_wino4_igemm_cuda(gp, x, mw->w, y, st); });
}

// Winograd F(2x2) with the GEMMs on the tensor cores
template <int P>
lis_status vwino_tc(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                    float g, int B, int H, int W, float *y, float *ws, lis_stream st) {
    return wino_or_folded(mw, p, x, s, g, B, H, W, y, ws, st, (lis_precision)P, [&](const lis_igemm_params *gp) {
        return lis_wino_igemm_cuda_f32ops(gp, (lis_precision)P, x, mw->w, y, st);
    });
}

// Winograd F(2x2) on 16-bit operands (lis_wino_igemm_cuda_g16; the shipped bf16 takes it)
lis_status vwino16(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                   float g, int B, int H, int W, float *y, float *ws, lis_stream st) {
    return wino_or_folded(mw, p, x, s, g, B, H, W, y, ws, st, LIS_PREC_BF16, [&](const lis_igemm_params *gp) {
        return lis_wino_igemm_cuda_g16(gp, LIS_PREC_BF16, x, mw->w, y, st);
    });
}

// the direct mma kernel whatever the layer (the shipped reduced precisions take Winograd for
// 3x3 layers from 128 channels on): the comparison that decided it
template <int P>
lis_status vdirect(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                   float g, int B, int H, int W, float *y, float *ws, lis_stream st) {
    return styled(mw, p, s, g, B, H, W, ws, st, [&](const lis_igemm_params *gp) {
        return lis_igemm_cuda_mma(gp, (lis_precision)P, x, mw->w, y, st);
    });
}

// the NHWC convolution (kernels/conv_nhwc_cuda.h; slower than the 16-bit Winograd on the H100): the styles applied
// while the input is converted to NHWC 16-bit, the weights packed KRSC 16-bit once (on first use,
// kept in mw->nhwc), ldmatrix fragments, and the demodulation applied as the epilogue writes the
// NCHW float32 output. Operands in 16 bits in memory: the route to the BF16 matrix-rate target
// besides the 16-bit Winograd
template <int P>
lis_status vnhwc(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x, const float *s,
                 float g, int B, int H, int W, float *y, float *ws, lis_stream st) {
    const int I = mw->I, O = mw->O, k = mw->k, Ip = (I + 7) / 8 * 8;
    const lis_nhwc_conv_params q = {B, H, W, Ip, O, k, k, 1, p->padding, 0};
    if (lis_nhwc_conv_check_nchw_out(&q, (lis_precision)P) != LIS_OK) return folded(mw, p, x, s, g, B, H, W, y, ws, (lis_precision)P, st);
    void **wn = &mw->nhwc[P == LIS_PREC_BF16 ? 0 : 1];
    if (!*wn) {
        const size_t bytes = sizeof(uint16_t) * O * k * k * Ip;
        if (!(*wn = lis_dev_alloc(bytes, "modconv weights (NHWC)"))) return LIS_ERR;
        const lis_status ps = lis_nhwc_pack_weights_cuda(mw->w, O, I, k, k, Ip, *wn, (lis_precision)P, st);
        if (ps != LIS_OK) {
            lis_dev_free(*wn);
            *wn = NULL;
            return ps;
        }
    }
    float *sm = ws, *dsc = ws + (size_t)B * I;
    LIS_TRY(lis_modconv_cuda_styles(mw, p, s, g, B, sm, dsc, st));
    float *xn = lis_cuda_scratch(st, LIS_SCRATCH_NHWC, ((size_t)B * H * W * Ip + 1) / 2); // 16-bit [B][H][W][Ip]
    if (!xn) return LIS_ERR;
    LIS_TRY(lis_nchw_to_nhwc_scaled_cuda(x, sm, B, I, H * W, Ip, xn, (lis_precision)P, st));
    return lis_nhwc_conv_nchw_out_cuda(&q, xn, *wn, dsc, NULL, y, (lis_precision)P, st);
}

const lis_modconv_cuda_variant g_variants[] = {
    {"v1", lis_modconv_cuda_v1, LIS_PREC_FP32, 1, "per-sample weights materialised, naive conv (straight port)"},
    {"fp32", v2, LIS_PREC_FP32, 0, "styles folded into the gather, demodulation into the epilogue, the float32 igemm as shipped (Winograd F(4x4) / F(2x2) for big 3x3 layers)"},
    {"tf32", vtf32, LIS_PREC_TF32, 0, "folded, the tf32 igemm as shipped (Winograd on mma for 3x3 layers from 128 channels, else direct mma)"},
    {"bf16", vbf16, LIS_PREC_BF16, 0, "folded, the bf16 igemm as shipped (Winograd on mma for 3x3 layers from 128 channels, else direct mma)"},
    {"fp16", vfp16, LIS_PREC_FP16, 0, "folded, the fp16 igemm as shipped (Winograd on mma for 3x3 layers from 128 channels, else direct mma)"},
    {"tf32 direct", vdirect<LIS_PREC_TF32>, LIS_PREC_TF32, 0, "folded, the direct tf32 mma kernel on every layer"},
    {"bf16 direct", vdirect<LIS_PREC_BF16>, LIS_PREC_BF16, 0, "folded, the direct bf16 mma kernel on every layer"},
    {"wino", vwino, LIS_PREC_FP32, 0, "Winograd F(2x2,3x3), float32 (3x3 layers; others: v2)"},
    {"wino4", vwino4, LIS_PREC_FP32, 0, "Winograd F(4x4,3x3), float32 (3x3 layers; others: v2)"},
    {"tf32 wino", vwino_tc<LIS_PREC_TF32>, LIS_PREC_TF32, 0, "Winograd F(2x2,3x3), GEMMs on the tf32 mma kernel"},
    {"bf16 wino", vwino_tc<LIS_PREC_BF16>, LIS_PREC_BF16, 0, "Winograd F(2x2,3x3), GEMMs on the bf16 mma kernel, float32 operands (the bf16 path before 2026-11-27)"},
    {"bf16 wino16", vwino16, LIS_PREC_BF16, 0, "Winograd F(2x2,3x3), bf16 operands, GEMMs on the ldmatrix kernel (what the shipped bf16 takes for 3x3 layers)"},
    {"bf16 nhwc", vnhwc<LIS_PREC_BF16>, LIS_PREC_BF16, 0, "styled input and weights in NHWC bf16, the NHWC implicit GEMM (ldmatrix), demodulated NCHW float output (direct: 0.28 of the BF16 rate at L1 b8 on the H100)"},
    {"fp16 nhwc", vnhwc<LIS_PREC_FP16>, LIS_PREC_FP16, 0, "the same in fp16"},
};

} // namespace

extern "C" {

lis_status lis_modconv_cuda_prepare(lis_modconv_cuda_weights *mw, const float *w_host, int O, int I, int k,
                                    int demodulate, lis_stream s) {
    memset(mw, 0, sizeof *mw);
    if (O < 1 || I < 1 || k < 1) return lis_err_set("modconv: bad weight shape %dx%dx%dx%d", O, I, k, k);
    const size_t K = (size_t)I * k * k;
    mw->w = (float *)lis_dev_upload(w_host, sizeof(float) * (size_t)O * K, "modulated conv weights");
    if (!mw->w) return LIS_ERR;
    mw->O = O; mw->I = I; mw->k = k; mw->demodulate = demodulate;
    if (!(mw->nhwc = (void **)lis_calloc(2, sizeof *mw->nhwc, "modconv NHWC weight slots"))) {
        lis_modconv_cuda_weights_free(mw);
        return LIS_ERR;
    }
    if (demodulate) {
        mw->w2 = (float *)lis_dev_alloc(sizeof(float) * (size_t)O * I, "demodulation table");
        if (!mw->w2) { lis_modconv_cuda_weights_free(mw); return LIS_ERR; }
        normalize_kernel<<<O, 256, 0, LIS_STREAM(s)>>>(mw->w, mw->w2, (int)K, I, k * k);
        lis_status st = lis_cuda_launched("modconv_normalize", s);
        if (st == LIS_OK) st = lis_stream_sync(s);
        if (st != LIS_OK) { lis_modconv_cuda_weights_free(mw); return st; }
    }
    return LIS_OK;
}

void lis_modconv_cuda_weights_free(lis_modconv_cuda_weights *mw) {
    if (!mw) return;
    lis_dev_free(mw->w);
    lis_dev_free(mw->w2);
    for (int i = 0; mw->nhwc && i < 2; i++) lis_dev_free(mw->nhwc[i]);
    free(mw->nhwc);
    memset(mw, 0, sizeof *mw);
}

lis_status lis_modconv_cuda_styles(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *s,
                                   float input_gain, int B, float *sm, float *dsc, lis_stream st) {
    const int I = mw->I, O = mw->O;
    if (mw->demodulate && p->batch_style_norm) style_norm_kernel<<<1, 1024, 0, LIS_STREAM(st)>>>(s, sm, B * I, 1);
    else style_norm_kernel<<<B, 256, 0, LIS_STREAM(st)>>>(s, sm, I, mw->demodulate);
    LIS_TRY(lis_cuda_launched("modconv_style_norm", st));
    const int64_t threads = (int64_t)B * O * 32;
    demod_kernel<<<(unsigned)lis_ceil_div(threads, 256), 256, 0, LIS_STREAM(st)>>>(mw->w2, sm, dsc, B, O, I,
                                                                                   mw->demodulate, input_gain);
    return lis_cuda_launched("modconv_demod", st);
}

size_t lis_modconv_cuda_workspace(const lis_modconv_cuda_weights *mw, int B, int v1) {
    size_t n = (size_t)B * (mw->I + mw->O);
    if (v1) n += (size_t)B * mw->O * mw->I * mw->k * mw->k;
    return n;
}

lis_status lis_modconv_cuda_v1(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x,
                               const float *s, float input_gain, int B, int H, int W, float *y, float *ws,
                               lis_stream st) {
    const int I = mw->I, O = mw->O, k = mw->k, pad = p->padding;
    float *sm = ws, *dsc = ws + (size_t)B * I, *wm = dsc + (size_t)B * O;
    LIS_TRY(lis_modconv_cuda_styles(mw, p, s, input_gain, B, sm, dsc, st)); // dsc unused: v1 recomputes d from wm
    materialize_kernel<<<B * O, 256, 0, LIS_STREAM(st)>>>(mw->w, sm, wm, O, I, k * k, mw->demodulate, input_gain);
    LIS_TRY(lis_cuda_launched("modconv_materialize", st));
    const int Ho = H + 2 * pad - k + 1, Wo = W + 2 * pad - k + 1;
    for (int b = 0; b < B; b++) {
        lis_igemm_params g = {1, I, H, W, O, k, k, 1, 1, pad, pad, 1, 1, 0, 0.0f, NULL, NULL, NULL, NULL};
        LIS_TRY(lis_igemm_cuda_v1(&g, x + (size_t)b * I * H * W, wm + (size_t)b * O * I * k * k,
                                  y + (size_t)b * O * Ho * Wo, st));
    }
    return LIS_OK;
}

lis_status lis_modconv_cuda(const lis_modconv_cuda_weights *mw, const lis_modconv_params *p, const float *x,
                            const float *s, float input_gain, int B, int H, int W, float *y, float *ws,
                            lis_precision prec, lis_stream st) {
    return folded(mw, p, x, s, input_gain, B, H, W, y, ws, prec, st);
}

int lis_modconv_cuda_variants(const lis_modconv_cuda_variant **out) {
    *out = g_variants;
    return (int)(sizeof g_variants / sizeof g_variants[0]);
}

} // extern "C"
