// winograd.cu — Winograd F(2x2, 3x3) and F(4x4, 3x3) on the GPU for the igemm convolution and
// the modulated convolution (see kernels/winograd_cuda.h).
//
// Kernels, one thread per element of each transform (the work of one element is in
// kernels/winograd_kernels.cuh, shared with a host emulation test):
//   weights  U[xi][o][i]  = (G g G^T)[xi] of w[o][i]
//   input    V[xi][c][t]  = sm[b, c] * (B^T d B)[xi], d the zero-padded patch of tile t
//            (tiles of the group's images, t fastest: coalesced stores)
//   output   y[b][o][tile t] = act(dsc[b, o] * (A^T M A) + bias[o] + res), M[xi][o][t]
//            from the GEMMs (the igemm epilogue's order)
#include <stdlib.h>
#include <string.h>

#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/gemm_cuda.h"
#include "kernels/winograd_cuda.h"
}
#include "kernels/winograd_kernels.cuh"

namespace {

using lis_wino::Epi;

template <int MT>
__global__ void weights_kernel(const float *w, float *U, int64_t OI) {
    const int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < OI) lis_wino::weights_at<MT>(w, U, OI, idx);
}

template <int MT>
__global__ void input_kernel(const float *x, const float *sm, float *V, int b0, int C, int H, int W, int pad, int th,
                             int tw, int64_t T) {
    const int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < (int64_t)C * T) lis_wino::input_at<MT>(x, sm, V, b0, C, H, W, pad, th, tw, T, idx);
}

template <int MT>
__global__ void output_kernel(const float *M, Epi e, float *y, int b0, int O, int Ho, int Wo, int th, int tw, int64_t T) {
    const int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < (int64_t)O * T) lis_wino::output_at<MT>(M, e, y, b0, O, Ho, Wo, th, tw, T, idx);
}

unsigned blocks_for(int64_t n) { return (unsigned)lis_ceil_div(n, 256); }

// The NX GEMMs in one batched launch (LIS_WINO_CUDA_BATCHED=0: one launch each, as before
// session 5; kept to compare)
int batched_gemms(void) {
    static int cache = -1;
    return !lis_cuda_env_is("LIS_WINO_CUDA_BATCHED", "0", &cache);
}

// The scratch cap in floats: 2 GiB, or LIS_WINO_CUDA_SCRATCH_MB. On the generator's 276 px
// layers 2 GiB holds one image's transforms, so each of the 16 GEMMs is 604 blocks (2.3 waves
// on an H200); a bigger cap groups images into bigger GEMMs (not yet measured).
int64_t scratch_cap_floats(void) {
    static int64_t cap = 0;
    if (!cap) {
        const char *e = getenv("LIS_WINO_CUDA_SCRATCH_MB");
        const long long mb = e ? atoll(e) : 0;
        cap = (mb >= 64 && mb <= (1LL << 20) ? mb : 2048) * (1LL << 20) / (int64_t)sizeof(float);
    }
    return cap;
}

} // namespace

extern "C" {

const char *lis_wino_cuda_mode(void) {
    const char *e = getenv("LIS_WINOGRAD_CUDA");
    return e && !strcmp(e, "0") ? "off" : e && !strcmp(e, "1") ? "on" : "auto";
}

int lis_wino_cuda_wanted(const lis_igemm_params *p) {
    const char *m = lis_wino_cuda_mode();
    if (m[1] == 'n') return 1;
    if (m[0] != 'a') return 0;
    int Ho, Wo;
    lis_igemm_out_shape(p, &Ho, &Wo);
    const long long cols = (long long)p->N * Ho * Wo, tiles = (long long)p->N * ((Ho + 1) / 2) * ((Wo + 1) / 2);
    return cols >= LIS_WINO_CUDA_MIN_COLS && tiles * (p->C < p->K ? p->C : p->K) >= LIS_WINO_CUDA_MIN_WORK;
}

void lis_wino_cuda_release(void) { lis_cuda_scratch_release(); }

int lis_wino_igemm_applies(const lis_igemm_params *p) {
    return p->R == 3 && p->S == 3 && p->stride_h == 1 && p->stride_w == 1 && p->dil_h == 1 && p->dil_w == 1 &&
           p->pad_h == p->pad_w && p->H + 2 * p->pad_h >= 3 && p->W + 2 * p->pad_w >= 3;
}

} // extern "C"

namespace {

// prec: the GEMMs' precision (the transforms are float32 whatever it is)
template <int MT>
lis_status run_tiles(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s,
                     lis_precision prec) {
    constexpr int NX = lis_wino::Tile<MT>::NX;
    if (!lis_wino_igemm_applies(p))
        return lis_err_set("winograd (cuda): needs a 3x3 kernel, stride 1, dilation 1, equal paddings (got %dx%d, "
                           "stride %dx%d, dilation %dx%d, pad %dx%d)", p->R, p->S, p->stride_h, p->stride_w, p->dil_h,
                           p->dil_w, p->pad_h, p->pad_w);
    LIS_TRY(lis_igemm_check(p));
    const int O = p->K, I = p->C, B = p->N, H = p->H, W = p->W, pad = p->pad_h;
    const int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
    const int th = (Ho + MT - 1) / MT, tw = (Wo + MT - 1) / MT;
    const int64_t per = (int64_t)th * tw, uf = NX * (int64_t)O * I, per_img = NX * (int64_t)(I + O) * per;
    // a group of images whose V and M fit beside U in the scratch cap (one image at least),
    // and whose GEMMs stay within the igemm's 32-bit indexing (I x T, O x T below 2^31)
    const int64_t cap = scratch_cap_floats();
    int64_t nb = cap > uf ? (cap - uf) / per_img : 1;
    const int64_t index_cap = 0x7fffffffLL / ((int64_t)(I > O ? I : O) * per);
    nb = nb > index_cap ? index_cap : nb;
    nb = nb < 1 ? 1 : nb > B ? B : nb;
    const size_t need = (size_t)(uf + per_img * nb);
    // U, then V and M of one group of images
    float *U = lis_cuda_scratch(s, LIS_SCRATCH_WINOGRAD, need);
    if (!U) return LIS_ERR;
    float *V = U + uf;
    weights_kernel<MT><<<blocks_for((int64_t)O * I), 256, 0, LIS_STREAM(s)>>>(w, U, (int64_t)O * I);
    LIS_TRY(lis_cuda_launched("winograd_weights", s));
    const Epi e = {p->out_scale, p->bias, p->res, p->act, p->slope};
    for (int b0 = 0; b0 < B; b0 += (int)nb) {
        const int n = B - b0 < nb ? B - b0 : (int)nb;
        const int64_t T = per * n;
        float *M = V + NX * (int64_t)I * T;
        if (T > 0x7fffffff) return lis_err_set("winograd (cuda): %lld tiles in one group", (long long)T);
        input_kernel<MT><<<blocks_for((int64_t)I * T), 256, 0, LIS_STREAM(s)>>>(x, p->in_scale, V, b0, I, H, W, pad, th, tw, T);
        LIS_TRY(lis_cuda_launched("winograd_input", s));
        if (batched_gemms())
            LIS_TRY(lis_gemm_cuda_batched(NX, O, (int)T, I, U, (int64_t)O * I, V, (int64_t)I * T, M, (int64_t)O * T,
                                          prec, s));
        else
            for (int xi = 0; xi < NX; xi++)
                LIS_TRY(lis_gemm_cuda(O, (int)T, I, U + (int64_t)xi * O * I, V + (int64_t)xi * I * T,
                                      M + (int64_t)xi * O * T, prec, s));
        output_kernel<MT><<<blocks_for((int64_t)O * T), 256, 0, LIS_STREAM(s)>>>(M, e, y, b0, O, Ho, Wo, th, tw, T);
        LIS_TRY(lis_cuda_launched("winograd_output", s));
    }
    return LIS_OK;
}

} // namespace

extern "C" {

int lis_wino_cuda_large(const lis_igemm_params *p) {
    int Ho, Wo;
    lis_igemm_out_shape(p, &Ho, &Wo);
    return p->C >= 128 && Ho >= 32 && Wo >= 32;
}

int lis_wino_cuda_tile(const lis_igemm_params *p, lis_precision prec) {
    static int cache = LIS_ENV_UNREAD;
    const int forced = lis_cuda_env_int("LIS_WINOGRAD_CUDA_TILE", 0, &cache);
    if (forced == 2 || forced == 4) return forced;
    return prec == LIS_PREC_FP32 && lis_wino_cuda_large(p) ? 4 : 2;
}

int lis_wino_cuda_tc_wanted(const lis_igemm_params *p) {
    static int cache = LIS_ENV_UNREAD;
    const int forced = lis_cuda_env_int("LIS_WINOGRAD_CUDA_TC", -1, &cache);
    return forced == 0 || forced == 1 ? forced : lis_wino_cuda_large(p);
}

lis_status lis_wino_igemm_cuda_prec(const lis_igemm_params *p, lis_precision prec, int tile, const float *x,
                                    const float *w, float *y, lis_stream s) {
    if (!tile) tile = lis_wino_cuda_tile(p, prec);
    if (tile != 2 && tile != 4) return lis_err_set("winograd (cuda): output tiles of %dx%d (2 or 4 supported)", tile, tile);
    return tile == 4 ? run_tiles<4>(p, x, w, y, s, prec) : run_tiles<2>(p, x, w, y, s, prec);
}

lis_status lis_wino_igemm_cuda(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return lis_wino_igemm_cuda_prec(p, LIS_PREC_FP32, 2, x, w, y, s);
}

lis_status lis_wino4_igemm_cuda(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return lis_wino_igemm_cuda_prec(p, LIS_PREC_FP32, 4, x, w, y, s);
}

lis_status lis_wino_modconv_cuda(const float *w, int O, int I, const float *x, const float *sm, const float *dsc,
                                 int B, int H, int W, int pad, float *y, lis_stream s) {
    const lis_igemm_params p = {B, I, H, W, O, 3, 3, 1, 1, pad, pad, 1, 1, 0, 0.0f, sm, dsc, NULL, NULL};
    return lis_wino_igemm_cuda(&p, x, w, y, s);
}

} // extern "C"
