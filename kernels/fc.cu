// fc.cu — StyleGAN's FullyConnectedLayer on the GPU (see kernels/fc_cuda.h).
//
// Variants (table at the end):
//   v1  one thread per (sample, output), sequential dot product (straight port of _ref)
//   v2  one warp per (sample, output), strided lanes + shuffle reduction
#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/fc_cuda.h"
}

namespace {

__device__ __forceinline__ float finish(int lrelu, float acc, float b) {
    if (!lrelu) return b + acc;
    float v = acc + b;
    if (v < 0.0f) v *= 0.2f;
    return v * (float)1.4142135623730951;
}

__global__ void fc_v1_kernel(const float *wt, const float *bias, int in, int out, int lrelu, const float *x,
                             int64_t ldx, float *y, int B) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)B * out) return;
    const int b = (int)(i / out), o = (int)(i - (int64_t)b * out);
    const float *xr = x + b * ldx, *w = wt + (int64_t)o * in;
    float acc = 0.0f;
    for (int k = 0; k < in; k++) acc += xr[k] * w[k];
    y[i] = finish(lrelu, acc, bias[o]);
}

__global__ void fc_v2_kernel(const float *wt, const float *bias, int in, int out, int lrelu, const float *x,
                             int64_t ldx, float *y, int B) {
    const int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (warp >= (int64_t)B * out) return; // uniform per warp
    const int b = (int)(warp / out), o = (int)(warp - (int64_t)b * out);
    const float *xr = x + b * ldx, *w = wt + (int64_t)o * in;
    float acc = 0.0f;
    for (int k = lane; k < in; k += 32) acc += xr[k] * w[k];
    acc = lis_warp_sum(acc);
    if (lane == 0) y[warp] = finish(lrelu, acc, bias[o]);
}

const lis_fc_cuda_variant g_variants[] = {
    {"v1", lis_fc_cuda_v1, "one thread per output, sequential dot product (straight port)"},
    {"v2", lis_fc_cuda_v2, "one warp per output, shuffle reduction"},
};

} // namespace

extern "C" {

lis_status lis_fc_cuda_upload(lis_fc_dev *d, const lis_fc *h) {
    memset(d, 0, sizeof *d);
    d->wt = (float *)lis_dev_upload(h->wt, sizeof(float) * (size_t)h->in * h->out, "fc weights");
    d->b = (float *)lis_dev_upload(h->b, sizeof(float) * (size_t)h->out, "fc bias");
    if (!d->wt || !d->b) { lis_fc_cuda_free(d); return LIS_ERR; }
    d->in = h->in;
    d->out = h->out;
    d->lrelu = h->lrelu;
    return LIS_OK;
}

void lis_fc_cuda_free(lis_fc_dev *d) {
    if (!d) return;
    lis_dev_free(d->wt);
    lis_dev_free(d->b);
    memset(d, 0, sizeof *d);
}

lis_status lis_fc_cuda_v1(const lis_fc_dev *fc, const float *x, int64_t ldx, float *y, int B, lis_stream s) {
    const int64_t n = (int64_t)B * fc->out;
    if (n == 0) return LIS_OK;
    fc_v1_kernel<<<(unsigned)lis_ceil_div(n, 128), 128, 0, LIS_STREAM(s)>>>(fc->wt, fc->b, fc->in, fc->out, fc->lrelu,
                                                                          x, ldx, y, B);
    return lis_cuda_launched("fc_v1", s);
}

lis_status lis_fc_cuda_v2(const lis_fc_dev *fc, const float *x, int64_t ldx, float *y, int B, lis_stream s) {
    const int64_t n = (int64_t)B * fc->out * 32;
    if (n == 0) return LIS_OK;
    fc_v2_kernel<<<(unsigned)lis_ceil_div(n, 256), 256, 0, LIS_STREAM(s)>>>(fc->wt, fc->b, fc->in, fc->out, fc->lrelu,
                                                                          x, ldx, y, B);
    return lis_cuda_launched("fc_v2", s);
}

lis_status lis_fc_cuda(const lis_fc_dev *fc, const float *x, int64_t ldx, float *y, int B, lis_stream s) {
    return lis_fc_cuda_v2(fc, x, ldx, y, B, s);
}

int lis_fc_cuda_variants(const lis_fc_cuda_variant **out) {
    *out = g_variants;
    return (int)(sizeof g_variants / sizeof g_variants[0]);
}

} // extern "C"
