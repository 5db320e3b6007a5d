// cuda_common.cuh — private helpers shared by every .cu file (never included by C code).
//
//   LIS_CUDA(call)          a CUDA runtime / cuBLAS call that must not fail (a bug if it
//                           does): prints the expression, the error and file:line, aborts.
//   LIS_CUDA_TRY(call, ...) a call that may fail for environmental reasons (out of memory,
//                           no device): sets the lis error message and returns LIS_ERR.
//   lis_cuda_launched(op,s) after every kernel launch: checks cudaGetLastError() and,
//                           with LIS_CUDA_SYNC=1, synchronises the stream so an
//                           asynchronous fault is reported by the op that caused it.
//   LIS_STREAM(s)           the cudaStream_t behind an opaque lis_stream.
//
// C headers are included inside extern "C" (they have no C++ guards). The C library
// headers are included first so their guards keep libstdc++'s overloads out of the
// extern "C" block.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "runtime/backend.h"
#include "runtime/status.h"
}

#define LIS_CUDA(call)                                                                                      \
    do {                                                                                                    \
        cudaError_t lis_e_ = (call);                                                                        \
        if (lis_e_ != cudaSuccess) {                                                                        \
            fprintf(stderr, "lis: CUDA error %s (%s) in '%s' at %s:%d\n", cudaGetErrorName(lis_e_),         \
                    cudaGetErrorString(lis_e_), #call, __FILE__, __LINE__);                                 \
            abort();                                                                                        \
        }                                                                                                   \
    } while (0)

#define LIS_CUBLAS(call)                                                                                    \
    do {                                                                                                    \
        cublasStatus_t lis_b_ = (call);                                                                     \
        if (lis_b_ != CUBLAS_STATUS_SUCCESS) {                                                              \
            fprintf(stderr, "lis: cuBLAS error %d (%s) in '%s' at %s:%d\n", (int)lis_b_,                    \
                    cublasGetStatusString(lis_b_), #call, __FILE__, __LINE__);                              \
            abort();                                                                                        \
        }                                                                                                   \
    } while (0)

#define LIS_CUDA_TRY(call, ...)                                                                             \
    do {                                                                                                    \
        cudaError_t lis_e_ = (call);                                                                        \
        if (lis_e_ != cudaSuccess) {                                                                        \
            (void)cudaGetLastError(); /* clear a non-sticky error */                                        \
            return lis_cuda_fail(lis_e_, #call, __VA_ARGS__);                                               \
        }                                                                                                   \
    } while (0)

#define LIS_STREAM(s) (reinterpret_cast<cudaStream_t>(s))

// Defined in runtime/backend_cuda.cu.
// Sets "<what>: <CUDA error string> (<expression>)" and returns LIS_ERR.
lis_status lis_cuda_fail(cudaError_t e, const char *expr, const char *fmt, ...) LIS_PRINTF(3, 4);
lis_status lis_cuda_launched(const char *op, lis_stream s);
int lis_cuda_sync_each_op(void);
// The process's cuBLAS handle (created on first use, bound to stream s for this call);
// NULL with the error set when cuBLAS cannot start (out of memory, libcublasLt missing).
cublasHandle_t lis_cuda_cublas(lis_stream s);
// Max dynamic shared memory per block of the current device (bytes).
size_t lis_cuda_smem_optin(void);
// Streaming multiprocessors of the current device.
int lis_cuda_sm_count(void);
// Whether environment variable `name` equals `value`, read once into *cache (-1 = unread):
// the kernels' on/off switches (LIS_MMA_CUDA, LIS_WINO_CUDA_BATCHED), asked per launch.
static inline int lis_cuda_env_is(const char *name, const char *value, int *cache) {
    if (*cache < 0) {
        const char *e = getenv(name);
        *cache = e && !strcmp(e, value);
    }
    return *cache;
}

// Per-stream scratch (runtime/cuda_scratch.cu): a device buffer of at least `floats` floats
// for stream s, kept and grown between calls; NULL with the error set when out of memory.
// Work queued on s may use it until the next call for the same stream and kind.
// Environment variable `name` as an integer, `unset` when it is absent or not a number; read
// once into *cache, which must start as LIS_ENV_UNREAD: the kernels' three-way switches
// (LIS_WINOGRAD_CUDA_TILE=2|4, LIS_WINOGRAD_CUDA_TC=0|1, LIS_SPLITK_CUDA=0|1; unset: the rule).
#define LIS_ENV_UNREAD (-2147483647 - 1)
static inline int lis_cuda_env_int(const char *name, int unset, int *cache) {
    if (*cache == LIS_ENV_UNREAD) {
        const char *e = getenv(name);
        char *end = NULL;
        const long v = e && *e ? strtol(e, &end, 10) : 0;
        *cache = e && *e && end && !*end && v > -1000000 && v < 1000000 ? (int)v : unset;
    }
    return *cache;
}

enum { LIS_SCRATCH_WINOGRAD, LIS_SCRATCH_SPLITK, LIS_SCRATCH_NHWC, LIS_SCRATCH_KINDS };
float *lis_cuda_scratch(lis_stream s, int kind, size_t floats);
void lis_cuda_scratch_release(void); // frees every kind's buffers
// Unbinds stream s (about to be destroyed) from its slots after waiting for its work; the
// buffers stay for the next stream. Without it a later stream would rebind a slot by
// synchronising a destroyed handle (cudaErrorInvalidResourceHandle: the H200 check of session
// 5 met it once split-K gave the classifier's streams scratch buffers).
void lis_cuda_scratch_forget(lis_stream s);

static inline int64_t lis_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Floor division and non-negative modulo for possibly negative numerators (b > 0).
static __host__ __device__ __forceinline__ int lis_fdiv(int a, int b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}
static __host__ __device__ __forceinline__ int lis_fmod(int a, int b) { return a - lis_fdiv(a, b) * b; }

// Sum over a warp; every lane gets the result.
static __device__ __forceinline__ float lis_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the
// result. `sh` is shared scratch of at least 32 floats; calls may follow each other.
static __device__ __forceinline__ float lis_block_sum(float v, float *sh) {
    v = lis_warp_sum(v);
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    __syncthreads(); // an earlier call may still be reading sh
    if (lane == 0) sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : 0.0f;
    return lis_warp_sum(v);
}
