// to_u8.cu — generator output to 8-bit RGB on the GPU (see kernels/to_u8_cuda.h).
// One variant: a thread per output byte (NHWC order, so the writes are coalesced).
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/to_u8_cuda.h"
}

namespace {

__global__ void to_u8_kernel(const float *img, uint8_t *u8, int C, int64_t HW, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; // NHWC output index
    if (i >= total) return;
    const int c = (int)(i % C);
    const int64_t pix = i / C, n = pix / HW, p = pix - n * HW;
    float v = (img[(n * C + c) * HW + p] + 1.0f) * 127.5f; // add, then multiply: nothing to contract
    v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
    u8[i] = (uint8_t)v; // truncation toward zero, as torch's .to(uint8)
}

} // namespace

extern "C" lis_status lis_to_u8_cuda(const float *img, int N, int C, int H, int W, uint8_t *u8, lis_stream s) {
    const int64_t total = (int64_t)N * C * H * W;
    if (total <= 0) return LIS_OK;
    to_u8_kernel<<<(unsigned)lis_ceil_div(total, 256), 256, 0, LIS_STREAM(s)>>>(img, u8, C, (int64_t)H * W, total);
    return lis_cuda_launched("to_u8", s);
}
