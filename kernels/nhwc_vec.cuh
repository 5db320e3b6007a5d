// nhwc_vec.cuh — the activation element of each tensor-core precision's NHWC path (CUDA only):
// bf16 / fp16 keep 16-bit values, tf32 float32 ones (kernels/conv_nhwc.h). Loads and stores of 8
// adjacent channels (16 or 32 bytes, aligned) as floats, shared by the convolution's epilogue
// (kernels/conv_nhwc.cu) and the layout and pooling kernels (kernels/nhwc.cu).
#ifndef LIS_NHWC_VEC_CUH
#define LIS_NHWC_VEC_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

extern "C" {
#include "runtime/backend.h"
}

namespace {

template <int P> struct Act { using T = uint16_t; };
template <> struct Act<LIS_PREC_TF32> { using T = float; };

template <int P> __device__ __forceinline__ float widen(typename Act<P>::T h);
template <> __device__ __forceinline__ float widen<LIS_PREC_BF16>(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }
template <> __device__ __forceinline__ float widen<LIS_PREC_FP16>(uint16_t h) { return __half2float(__ushort_as_half(h)); }
template <> __device__ __forceinline__ float widen<LIS_PREC_TF32>(float v) { return v; }

template <int P> __device__ __forceinline__ typename Act<P>::T narrow(float v);
template <> __device__ __forceinline__ uint16_t narrow<LIS_PREC_BF16>(float v) { return __bfloat16_as_ushort(__float2bfloat16_rn(v)); }
template <> __device__ __forceinline__ uint16_t narrow<LIS_PREC_FP16>(float v) { return __half_as_ushort(__float2half_rn(v)); }
template <> __device__ __forceinline__ float narrow<LIS_PREC_TF32>(float v) { return v; }

// v[0..7] = the 8 elements at p (16-byte aligned)
template <int P> __device__ __forceinline__ void load8(const typename Act<P>::T *p, float (&v)[8]) {
    if constexpr (P == LIS_PREC_TF32) {
        const float4 lo = reinterpret_cast<const float4 *>(p)[0], hi = reinterpret_cast<const float4 *>(p)[1];
        v[0] = lo.x; v[1] = lo.y; v[2] = lo.z; v[3] = lo.w; v[4] = hi.x; v[5] = hi.y; v[6] = hi.z; v[7] = hi.w;
    } else {
        const uint4 raw = *reinterpret_cast<const uint4 *>(p);
        const uint32_t w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
        for (int q = 0; q < 4; q++) {
            v[2 * q] = widen<P>((uint16_t)(w[q] & 0xffff));
            v[2 * q + 1] = widen<P>((uint16_t)(w[q] >> 16));
        }
    }
}

// elements per 16-byte copy: a row of an NHWC tensor is a whole number of them
template <int P> constexpr int kCopyElems = 16 / (int)sizeof(typename Act<P>::T);

// the kCopyElems<P> elements at p (16-byte aligned) = v[0..], rounded to the element type
template <int P> __device__ __forceinline__ void store_copy(typename Act<P>::T *p, const float *v) {
    if constexpr (P == LIS_PREC_TF32) {
        *reinterpret_cast<float4 *>(p) = make_float4(v[0], v[1], v[2], v[3]);
    } else {
        uint32_t w[4];
#pragma unroll
        for (int q = 0; q < 4; q++) w[q] = (uint32_t)narrow<P>(v[2 * q]) | (uint32_t)narrow<P>(v[2 * q + 1]) << 16;
        *reinterpret_cast<uint4 *>(p) = make_uint4(w[0], w[1], w[2], w[3]);
    }
}

// the 8 elements at p (16-byte aligned) = v[0..7], rounded to the element type
template <int P> __device__ __forceinline__ void store8(typename Act<P>::T *p, const float (&v)[8]) {
    store_copy<P>(p, v); // 8 elements: one copy in 16 bits, two in float32
    if constexpr (P == LIS_PREC_TF32) store_copy<P>(p + 4, v + 4);
}

} // namespace

#endif
