// synth_input.cu — StyleGAN3's SynthesisInput on the GPU (see kernels/synth_input_cuda.h).
//
// Kernels: affine (one thread per (sample, output), the CPU's sequential order), params (one thread per (sample, channel): the sample's transform T from its
// affine output, then the channel's frequency, phase and amplitude), features (one thread
// per (sample, channel, pixel)); the channel mixing is igemm.
// Float arithmetic is written with __fmul_rn / __fadd_rn / __fdiv_rn / __fsqrt_rn so that
// nvcc cannot contract it into FMAs: the CPU code (gcc, ISO C, no contraction) and the
// original evaluate each product and sum rounded, and the sin argument is large.
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/gemm_cuda.h"
#include "kernels/synth_input_cuda.h"
}

namespace {

#define MUL __fmul_rn
#define ADD __fadd_rn

struct SiArgs {
    int C, S;
    float th, twopi, bw, half_minus_bw;
};

// t_raw[b, k] = b_k + sum_i w[b, i] * Wt[k, i], sequential and rounded like lis_fc_ref,
// so the transform (and the large sin arguments) match the CPU bit for bit.
__global__ void affine_kernel(const float *wt, const float *bias, int in, const float *w, int64_t ldw, float *t_raw,
                              int B) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= B * 4) return;
    const int b = i >> 2, k = i & 3;
    const float *x = w + b * ldw, *wr = wt + (int64_t)k * in;
    float acc = 0.0f;
    for (int j = 0; j < in; j++) acc = ADD(acc, MUL(x[j], wr[j]));
    t_raw[i] = ADD(bias[k], acc);
}

// prm[b, c, 0..3] = (fx, fy, phase, amp)
__global__ void params_kernel(SiArgs a, const float *t_raw, const float *tr, const float *freqs, const float *phases,
                              float *prm, int B) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)B * a.C) return;
    const int b = (int)(i / a.C), c = (int)(i - (int64_t)b * a.C);
    const float *tb = t_raw + 4 * (int64_t)b;
    const float nrm = __fsqrt_rn(ADD(MUL(tb[0], tb[0]), MUL(tb[1], tb[1])));
    float t[4];
    for (int k = 0; k < 4; k++) t[k] = __fdiv_rn(tb[k], nrm);
    const float mr[9] = {t[0], -t[1], 0.0f, t[1], t[0], 0.0f, 0.0f, 0.0f, 1.0f};
    const float mt[9] = {1.0f, 0.0f, -t[2], 0.0f, 1.0f, -t[3], 0.0f, 0.0f, 1.0f};
    float m1[9], T[9];
    for (int r = 0; r < 3; r++)
        for (int q = 0; q < 3; q++)
            m1[r * 3 + q] = ADD(ADD(MUL(mr[r * 3 + 0], mt[0 * 3 + q]), MUL(mr[r * 3 + 1], mt[1 * 3 + q])),
                                MUL(mr[r * 3 + 2], mt[2 * 3 + q]));
    for (int r = 0; r < 3; r++)
        for (int q = 0; q < 3; q++)
            T[r * 3 + q] = ADD(ADD(MUL(m1[r * 3 + 0], tr[0 * 3 + q]), MUL(m1[r * 3 + 1], tr[1 * 3 + q])),
                               MUL(m1[r * 3 + 2], tr[2 * 3 + q]));
    const float f0 = freqs[2 * c], f1 = freqs[2 * c + 1];
    const float ph = ADD(phases[c], ADD(MUL(f0, T[2]), MUL(f1, T[5])));
    const float fx = ADD(MUL(f0, T[0]), MUL(f1, T[3])), fy = ADD(MUL(f0, T[1]), MUL(f1, T[4]));
    float amp = 1.0f - __fdiv_rn(__fsqrt_rn(ADD(MUL(fx, fx), MUL(fy, fy))) - a.bw, a.half_minus_bw);
    amp = amp < 0.0f ? 0.0f : (amp > 1.0f ? 1.0f : amp);
    float *o = prm + 4 * i;
    o[0] = fx; o[1] = fy; o[2] = ph; o[3] = amp;
}

// ATen's float linspace(-1, 1, n)[i]: evaluated from both ends
__device__ __forceinline__ float linspace_at(int i, int n) {
    const float step = __fdiv_rn(2.0f, (float)(n - 1));
    return i < n / 2 ? ADD(-1.0f, MUL(step, (float)i)) : 1.0f - MUL(step, (float)(n - 1 - i));
}

__device__ __forceinline__ float grid_at(const SiArgs &a, int j) {
    return MUL(__fdiv_rn(MUL(linspace_at(j, a.S), (float)(a.S - 1)), (float)a.S), a.th);
}

__global__ void features_kernel(SiArgs a, const float *prm, float *feat, int64_t total) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= total) return;
    const int P = a.S * a.S;
    const int64_t bc = e / P;
    const int p = (int)(e - bc * P), i = p / a.S, j = p - i * a.S;
    const float *q = prm + 4 * bc;
    const float arg = ADD(ADD(MUL(grid_at(a, j), q[0]), MUL(grid_at(a, i), q[1])), q[2]);
    feat[e] = MUL(sinf(MUL(arg, a.twopi)), q[3]);
}

#undef MUL
#undef ADD

} // namespace

extern "C" {

lis_status lis_synth_input_cuda_upload(lis_synth_input_dev *d, const lis_synth_input *h) {
    memset(d, 0, sizeof *d);
    d->C = h->C; d->S = h->S; d->w_dim = h->w_dim;
    // the float32 constants exactly as kernels/synth_input.c rounds them
    d->th = (float)(0.5 * h->S / h->sampling_rate);
    d->twopi = (float)(M_PI * 2);
    d->bw = (float)h->bandwidth;
    d->half_minus_bw = (float)(h->sampling_rate / 2 - h->bandwidth);
    const size_t C = (size_t)h->C;
    if (lis_fc_cuda_upload(&d->affine, &h->affine) != LIS_OK ||
        !(d->transform = (float *)lis_dev_upload(h->transform, 9 * sizeof(float), "input transform")) ||
        !(d->freqs = (float *)lis_dev_upload(h->freqs, 2 * C * sizeof(float), "input freqs")) ||
        !(d->phases = (float *)lis_dev_upload(h->phases, C * sizeof(float), "input phases")) ||
        !(d->wmix = (float *)lis_dev_upload(h->wmix, C * C * sizeof(float), "input channel mixing"))) {
        lis_synth_input_cuda_free(d);
        return LIS_ERR;
    }
    return LIS_OK;
}

void lis_synth_input_cuda_free(lis_synth_input_dev *d) {
    if (!d) return;
    lis_fc_cuda_free(&d->affine);
    lis_dev_free(d->transform);
    lis_dev_free(d->freqs);
    lis_dev_free(d->phases);
    lis_dev_free(d->wmix);
    memset(d, 0, sizeof *d);
}

size_t lis_synth_input_cuda_workspace(const lis_synth_input_dev *si, int B) {
    // features + per-(sample, channel) parameters + the affine output
    return (size_t)B * si->C * si->S * si->S + (size_t)B * si->C * 4 + (size_t)B * 4;
}

lis_status lis_synth_input_cuda(const lis_synth_input_dev *si, const float *w, int64_t ldw, float *y,
                                float *affine_out, int B, float *ws, lis_precision prec, lis_stream s) {
    const int C = si->C, S = si->S;
    float *feat = ws, *prm = feat + (size_t)B * C * S * S, *t_raw = prm + (size_t)B * C * 4;
    if (si->affine.out != 4 || si->affine.lrelu) return lis_err_set("synthesis input: the affine layer must be linear 4-d");
    affine_kernel<<<(unsigned)lis_ceil_div(4 * (int64_t)B, 128), 128, 0, LIS_STREAM(s)>>>(si->affine.wt, si->affine.b,
                                                                                        si->affine.in, w, ldw, t_raw, B);
    LIS_TRY(lis_cuda_launched("synth_input_affine", s));
    SiArgs a = {C, S, si->th, si->twopi, si->bw, si->half_minus_bw};
    const int64_t nbc = (int64_t)B * C, total = nbc * S * S;
    params_kernel<<<(unsigned)lis_ceil_div(nbc, 128), 128, 0, LIS_STREAM(s)>>>(a, t_raw, si->transform, si->freqs,
                                                                              si->phases, prm, B);
    LIS_TRY(lis_cuda_launched("synth_input_params", s));
    features_kernel<<<(unsigned)lis_ceil_div(total, 256), 256, 0, LIS_STREAM(s)>>>(a, prm, feat, total);
    LIS_TRY(lis_cuda_launched("synth_input_features", s));
    lis_igemm_params g = {B, C, S, S, C, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0.0f, NULL, NULL, NULL, NULL};
    LIS_TRY(lis_igemm_cuda(&g, prec, feat, si->wmix, y, s));
    if (affine_out) LIS_TRY(lis_dev_d2d(affine_out, t_raw, sizeof(float) * 4 * (size_t)B, s));
    return LIS_OK;
}

} // extern "C"
