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

template <int MT, typename E>
__global__ void weights_kernel(const float *w, E *U, int I, int64_t ld, int64_t xs, int64_t n) {
    const int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < n) lis_wino::weights_at<MT, E>(w, U, I, ld, xs, idx);
}

template <int MT, typename E>
__global__ void input_kernel(const float *x, const float *sm, E *V, int b0, int C, int H, int W, int pad, int th,
                             int tw, int64_t T, int64_t ld, int64_t xs, int64_t n) {
    const int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < n) lis_wino::input_at<MT, E>(x, sm, V, b0, C, H, W, pad, th, tw, T, ld, xs, idx);
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

// bf16/fp16: the transforms write 16-bit operands for lis_gemm16_cuda_batched, the default
// since the H100 check of 2026-11-27 (bench/results/gpu_check-20261127-h100-12: the generator
// b32 bf16 31.7 -> 45.8 img/s, L1 b8 225 -> 363 TFLOP/s, the same deviation from float32);
// LIS_WINO_CUDA_GEMM16=0 goes back to float32 operands on the mma kernel. force: 0 / 1, or -1
// for the environment's choice
bool gemm16_wanted(lis_precision prec, int force) {
    static int cache = -1;
    if (prec != LIS_PREC_BF16 && prec != LIS_PREC_FP16) return false;
    return force >= 0 ? force : !lis_cuda_env_is("LIS_WINO_CUDA_GEMM16", "0", &cache);
}

// The scratch cap in floats: 2 GiB, or LIS_WINO_CUDA_SCRATCH_MB. On the generator's 276 px
// layers 2 GiB holds one image's F(2x2) transforms; with the GEMMs batched (one launch of 16
// or 36 x 604 blocks at L26) a group of one image fills the GPU anyway.
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
    const long long tiles = (long long)p->N * ((Ho + 1) / 2) * ((Wo + 1) / 2);
    return Ho >= LIS_WINO_CUDA_MIN_SIDE && Wo >= LIS_WINO_CUDA_MIN_SIDE &&
           tiles * (p->C < p->K ? p->C : p->K) >= LIS_WINO_CUDA_MIN_WORK;
}

void lis_wino_cuda_release(void) { lis_cuda_scratch_release(); }

int lis_wino_igemm_applies(const lis_igemm_params *p) {
    return p->R == 3 && p->S == 3 && p->stride_h == 1 && p->stride_w == 1 && p->dil_h == 1 && p->dil_w == 1 &&
           p->pad_h == p->pad_w && p->H + 2 * p->pad_h >= 3 && p->W + 2 * p->pad_w >= 3;
}

} // extern "C"

namespace {

// The operands' layout in the scratch buffer: U [NX][O][ku], then per group of images
// V [NX][ku][ldv] and M [NX][O][T] (float32). Float32 operands: ku = I, ldv = T. 16-bit
// operands (gemm16): ku = I rounded up to 8 (zero padding), ldv = T rounded up to 8; each
// array starts on 16 bytes.
int64_t floats16(int64_t elems, int64_t esz) { return lis_ceil_div(elems * esz, 16) * 4; } // 16-byte multiple

template <int MT, typename E>
lis_status transforms_and_gemms(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s,
                                lis_precision prec) {
    constexpr int NX = lis_wino::Tile<MT>::NX;
    constexpr bool g16 = sizeof(E) == 2; // 16-bit operands for lis_gemm16_cuda_batched
    const int O = p->K, I = p->C, B = p->N, H = p->H, W = p->W, pad = p->pad_h;
    const int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
    const int th = (Ho + MT - 1) / MT, tw = (Wo + MT - 1) / MT;
    const int64_t esz = sizeof(E), ku = g16 ? (I + 7) / 8 * 8 : I, per = (int64_t)th * tw;
    // U's floats; V's and M's per image; V's row padding per group (up to 7 columns per row)
    const int64_t uf = floats16(NX * (int64_t)O * ku, esz);
    const int64_t per_img = lis_ceil_div(NX * ku * per * esz, 4) + NX * (int64_t)O * per;
    const int64_t slack = (g16 ? floats16(NX * ku * 8, esz) : 0) + 8; // and the 16-byte roundings
    // a group of images whose V and M fit beside U in the scratch cap (one image at least),
    // and whose GEMMs stay within 32-bit indexing (ku x T, O x T below 2^31)
    const int64_t cap = scratch_cap_floats();
    int64_t nb = cap > uf + slack ? (cap - uf - slack) / per_img : 1;
    const int64_t index_cap = 0x7fffffffLL / ((ku > O ? ku : (int64_t)O) * per + 8);
    nb = nb > index_cap ? index_cap : nb;
    nb = nb < 1 ? 1 : nb > B ? B : nb;
    float *S = lis_cuda_scratch(s, LIS_SCRATCH_WINOGRAD, (size_t)(uf + per_img * nb + slack));
    if (!S) return LIS_ERR;
    E *U = reinterpret_cast<E *>(S);
    const int64_t un = (int64_t)O * ku;
    weights_kernel<MT, E><<<blocks_for(un), 256, 0, LIS_STREAM(s)>>>(w, U, I, ku, un, un);
    LIS_TRY(lis_cuda_launched("winograd_weights", s));
    const Epi e = {p->out_scale, p->bias, p->res, p->act, p->slope};
    for (int b0 = 0; b0 < B; b0 += (int)nb) {
        const int n = B - b0 < nb ? B - b0 : (int)nb;
        const int64_t T = per * n, ldv = g16 ? (T + 7) / 8 * 8 : T;
        if (T > 0x7fffffff) return lis_err_set("winograd (cuda): %lld tiles in one group", (long long)T);
        E *V = reinterpret_cast<E *>(S + uf);
        float *M = S + uf + floats16(NX * ku * ldv, esz);
        input_kernel<MT, E><<<blocks_for(ku * T), 256, 0, LIS_STREAM(s)>>>(x, p->in_scale, V, b0, I, H, W, pad, th, tw, T,
                                                                          ldv, ku * ldv, ku * T);
        LIS_TRY(lis_cuda_launched("winograd_input", s));
        if constexpr (g16)
            LIS_TRY(lis_gemm16_cuda_batched(NX, O, (int)T, (int)ku, U, ku, un, V, ldv, ku * ldv, M, T, (int64_t)O * T,
                                            prec, s));
        else if (batched_gemms())
            LIS_TRY(lis_gemm_cuda_batched(NX, O, (int)T, I, U, un, V, I * T, M, (int64_t)O * T, prec, s));
        else
            for (int xi = 0; xi < NX; xi++)
                LIS_TRY(lis_gemm_cuda(O, (int)T, I, U + xi * un, V + xi * I * T, M + xi * (int64_t)O * T, prec, s));
        output_kernel<MT><<<blocks_for((int64_t)O * T), 256, 0, LIS_STREAM(s)>>>(M, e, y, b0, O, Ho, Wo, th, tw, T);
        LIS_TRY(lis_cuda_launched("winograd_output", s));
    }
    return LIS_OK;
}

// prec: the GEMMs' precision (the transforms compute in float32 whatever it is)
template <int MT>
lis_status run_tiles(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s,
                     lis_precision prec, int g16 = -1) {
    if (!lis_wino_igemm_applies(p))
        return lis_err_set("winograd (cuda): needs a 3x3 kernel, stride 1, dilation 1, equal paddings (got %dx%d, "
                           "stride %dx%d, dilation %dx%d, pad %dx%d)", p->R, p->S, p->stride_h, p->stride_w, p->dil_h,
                           p->dil_w, p->pad_h, p->pad_w);
    LIS_TRY(lis_igemm_check(p));
    if (gemm16_wanted(prec, g16))
        return prec == LIS_PREC_BF16 ? transforms_and_gemms<MT, __nv_bfloat16>(p, x, w, y, s, prec)
                                     : transforms_and_gemms<MT, __half>(p, x, w, y, s, prec);
    return transforms_and_gemms<MT, float>(p, x, w, y, s, prec);
}

} // namespace

extern "C" {

int lis_wino_cuda_tile(const lis_igemm_params *p, lis_precision prec) {
    static int cache = LIS_ENV_UNREAD;
    const int forced = lis_cuda_env_int("LIS_WINOGRAD_CUDA_TILE", 0, &cache);
    if (forced == 2 || forced == 4) return forced;
    return prec == LIS_PREC_FP32 ? 4 : 2;
}

int lis_wino_cuda_tc_wanted(const lis_igemm_params *p) {
    static int cache = LIS_ENV_UNREAD;
    const int forced = lis_cuda_env_int("LIS_WINOGRAD_CUDA_TC", -1, &cache);
    return forced == 0 || forced == 1 ? forced : p->C >= 128;
}

lis_status lis_wino_igemm_cuda_prec(const lis_igemm_params *p, lis_precision prec, int tile, const float *x,
                                    const float *w, float *y, lis_stream s) {
    if (!tile) tile = lis_wino_cuda_tile(p, prec);
    if (tile != 2 && tile != 4) return lis_err_set("winograd (cuda): output tiles of %dx%d (2 or 4 supported)", tile, tile);
    return tile == 4 ? run_tiles<4>(p, x, w, y, s, prec) : run_tiles<2>(p, x, w, y, s, prec);
}

lis_status lis_wino_igemm_cuda_g16(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w,
                                   float *y, lis_stream s) {
    if (prec != LIS_PREC_BF16 && prec != LIS_PREC_FP16)
        return lis_err_set("winograd (cuda): 16-bit operands need bf16 or fp16, not %s", lis_precision_name(prec));
    return run_tiles<2>(p, x, w, y, s, prec, 1);
}

lis_status lis_wino_igemm_cuda_f32ops(const lis_igemm_params *p, lis_precision prec, const float *x, const float *w,
                                      float *y, lis_stream s) {
    return run_tiles<2>(p, x, w, y, s, prec, 0);
}

lis_status lis_wino_igemm_cuda(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return lis_wino_igemm_cuda_prec(p, LIS_PREC_FP32, 2, x, w, y, s);
}

lis_status lis_wino4_igemm_cuda(const lis_igemm_params *p, const float *x, const float *w, float *y, lis_stream s) {
    return lis_wino_igemm_cuda_prec(p, LIS_PREC_FP32, 4, x, w, y, s);
}

} // extern "C"
