// chan_affine.cu — y = act(x) * scale[c] + shift[c] on the GPU (see kernels/chan_affine_cuda.h).
// One variant: blocks over (plane chunk, plane), bit-identical to the CPU (mul then add).
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/chan_affine_cuda.h"
}

namespace {

__global__ void chan_affine_kernel(int64_t planes, int C, int64_t HW, int relu, const float *scale, const float *shift,
                                   const float *x, float *y) {
    for (int64_t pl = blockIdx.y; pl < planes; pl += gridDim.y) { // grid-stride over planes (gridDim.y <= 65535)
        const int c = (int)(pl % C);
        const float a = scale[c], b = shift[c];
        const float *xp = x + pl * HW;
        float *yp = y + pl * HW;
        for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < HW; i += (int64_t)gridDim.x * blockDim.x) {
            float v = xp[i];
            if (relu && !(v > 0.0f)) v = 0.0f;
            yp[i] = __fadd_rn(__fmul_rn(v, a), b);
        }
    }
}

} // namespace

extern "C" lis_status lis_chan_affine_cuda(const lis_chan_affine_params *p, const float *scale, const float *shift,
                                           const float *x, float *y, lis_stream s) {
    const int64_t planes = (int64_t)p->N * p->C;
    if (planes <= 0 || p->HW <= 0) return LIS_OK;
    const int64_t bx = lis_ceil_div(p->HW, 256);
    const dim3 grid((unsigned)(bx < 1024 ? bx : 1024), (unsigned)(planes < 65535 ? planes : 65535));
    chan_affine_kernel<<<grid, 256, 0, LIS_STREAM(s)>>>(planes, p->C, p->HW, p->relu, scale, shift, x, y);
    return lis_cuda_launched("chan_affine", s);
}
