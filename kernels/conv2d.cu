// conv2d.cu — the classifier's convolution on the GPU (see kernels/conv2d_cuda.h): the
// igemm kernel with bias, residual and activation in its epilogue, and the cuDNN baseline.
//
// Variants: the igemm variants (v1, v2, tf32, bf16, fp16; kernels/gemm.cu), plus "cudnn"
// (library baseline, FP32/TF32).
//
// cuDNN is optional at build time and at run time: this file declares the few legacy-API
// entry points it uses itself (C ABI: opaque handles, enums as int; values and the perf
// struct layout as in cuDNN 9's cudnn_graph.h / cudnn_cnn.h) and loads libcudnn with
// dlopen on first use, so neither cudnn.h nor -lcudnn is needed to build lis.
#include <dlfcn.h>

#include "runtime/cuda_common.cuh"

extern "C" {
#include "kernels/conv2d_cuda.h"
}

namespace {

// ---- minimal cuDNN declarations (see the file comment)
typedef int dnnStatus;
typedef void *dnnHandle, *dnnTensorDesc, *dnnFilterDesc, *dnnConvDesc;
constexpr int DNN_TENSOR_NCHW = 0, DNN_TENSOR_NHWC = 1, DNN_DATA_FLOAT = 0, DNN_DATA_HALF = 2, DNN_DATA_BFLOAT16 = 9;
constexpr int DNN_CROSS_CORRELATION = 1;
constexpr int DNN_TENSOR_OP_MATH = 1, DNN_FMA_MATH = 3;
struct DnnAlgoPerf {
    int algo;
    dnnStatus status;
    float time;
    size_t memory;
    int determinism;
    int mathType;
    int reserved[3];
};

struct Dnn {
    void *lib;
    dnnHandle h;
    dnnStatus (*Create)(dnnHandle *);
    dnnStatus (*SetStream)(dnnHandle, cudaStream_t);
    const char *(*GetErrorString)(dnnStatus);
    dnnStatus (*CreateTensorDescriptor)(dnnTensorDesc *);
    dnnStatus (*SetTensor4dDescriptor)(dnnTensorDesc, int fmt, int dtype, int n, int c, int h, int w);
    dnnStatus (*DestroyTensorDescriptor)(dnnTensorDesc);
    dnnStatus (*CreateFilterDescriptor)(dnnFilterDesc *);
    dnnStatus (*SetFilter4dDescriptor)(dnnFilterDesc, int dtype, int fmt, int k, int c, int h, int w);
    dnnStatus (*DestroyFilterDescriptor)(dnnFilterDesc);
    dnnStatus (*CreateConvolutionDescriptor)(dnnConvDesc *);
    dnnStatus (*SetConvolution2dDescriptor)(dnnConvDesc, int ph, int pw, int u, int v, int dh, int dw, int mode,
                                            int ctype);
    dnnStatus (*SetConvolutionMathType)(dnnConvDesc, int math);
    dnnStatus (*DestroyConvolutionDescriptor)(dnnConvDesc);
    dnnStatus (*GetConvolutionForwardAlgorithm_v7)(dnnHandle, dnnTensorDesc, dnnFilterDesc, dnnConvDesc,
                                                   dnnTensorDesc, int, int *, DnnAlgoPerf *);
    dnnStatus (*GetConvolutionForwardWorkspaceSize)(dnnHandle, dnnTensorDesc, dnnFilterDesc, dnnConvDesc,
                                                    dnnTensorDesc, int algo, size_t *);
    dnnStatus (*ConvolutionForward)(dnnHandle, const void *alpha, dnnTensorDesc, const void *x, dnnFilterDesc,
                                    const void *w, dnnConvDesc, int algo, void *ws, size_t ws_bytes,
                                    const void *beta, dnnTensorDesc, void *y);
};

Dnn g_dnn;
int g_dnn_state = 0; // 0 not tried, 1 loaded, -1 failed
char g_dnn_why[512];

template <typename F> bool sym(F *f, const char *name) {
    *f = reinterpret_cast<F>(dlsym(g_dnn.lib, name));
    if (!*f) snprintf(g_dnn_why, sizeof g_dnn_why, "libcudnn has no '%s'", name);
    return *f != NULL;
}

bool dnn_load(void) {
    if (g_dnn_state) return g_dnn_state > 0;
    g_dnn_state = -1;
    const char *names[] = {"libcudnn.so.9", "libcudnn.so"};
    for (const char *n : names)
        if ((g_dnn.lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
    if (!g_dnn.lib) {
        const char *e = dlerror();
        snprintf(g_dnn_why, sizeof g_dnn_why, "cuDNN not found (%s); put its lib directory on LD_LIBRARY_PATH",
                 e ? e : "dlopen failed");
        return false;
    }
#define SYM(f) sym(&g_dnn.f, "cudnn" #f)
    bool ok = SYM(Create) && SYM(SetStream) && SYM(GetErrorString) && SYM(CreateTensorDescriptor) &&
              SYM(SetTensor4dDescriptor) && SYM(DestroyTensorDescriptor) && SYM(CreateFilterDescriptor) &&
              SYM(SetFilter4dDescriptor) && SYM(DestroyFilterDescriptor) && SYM(CreateConvolutionDescriptor) &&
              SYM(SetConvolution2dDescriptor) && SYM(SetConvolutionMathType) && SYM(DestroyConvolutionDescriptor) &&
              SYM(GetConvolutionForwardAlgorithm_v7) && SYM(GetConvolutionForwardWorkspaceSize) &&
              SYM(ConvolutionForward);
#undef SYM
    if (!ok) return false;
    dnnStatus st = g_dnn.Create(&g_dnn.h);
    if (st != 0) {
        snprintf(g_dnn_why, sizeof g_dnn_why, "cudnnCreate failed: %s", g_dnn.GetErrorString(st));
        return false;
    }
    g_dnn_state = 1;
    return true;
}

#define DNN_TRY(call)                                                                                        \
    do {                                                                                                     \
        dnnStatus dnn_s_ = (call);                                                                           \
        if (dnn_s_ != 0) return lis_err_set("cuDNN: %s in %s", g_dnn.GetErrorString(dnn_s_), #call);         \
    } while (0)

// bias, residual and activation after cuDNN's conv (as the igemm epilogue does)
__global__ void epilogue_kernel(float *y, const float *bias, const float *res, int act, float slope, int K, int64_t HW,
                                int64_t total) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        float v = y[i];
        if (bias) v += bias[(i / HW) % K];
        if (res) v += res[i];
        if (act == 1) v = v > 0.0f ? v : 0.0f;
        else if (act == 2) v = v >= 0.0f ? v : v * slope;
        y[i] = v;
    }
}

} // namespace

struct lis_cudnn_conv_s {
    lis_conv2d_params p;
    dnnTensorDesc xd, yd;
    dnnFilterDesc wd;
    dnnConvDesc cd;
    int algo;
    void *ws;
    size_t ws_bytes;
};

extern "C" {

void lis_conv2d_igemm_params(const lis_conv2d_params *p, const float *bias, const float *res, lis_igemm_params *g) {
    *g = lis_igemm_params{p->N, p->C, p->H, p->W, p->K, p->R, p->S, p->stride_h, p->stride_w, p->pad_h, p->pad_w,
                          p->dil_h, p->dil_w, (int)p->act, p->slope, NULL, NULL, bias, res};
}

lis_status lis_conv2d_cuda(const lis_conv2d_params *p, const float *x, const float *w, const float *bias,
                           const float *res, float *y, lis_precision prec, lis_stream s) {
    lis_igemm_params g;
    lis_conv2d_igemm_params(p, bias, res, &g);
    return lis_igemm_cuda(&g, prec, x, w, y, s);
}

lis_status lis_conv2d_cuda_variant(const lis_igemm_variant *v, const lis_conv2d_params *p, const float *x,
                                   const float *w, const float *bias, const float *res, float *y, lis_stream s) {
    lis_igemm_params g;
    lis_conv2d_igemm_params(p, bias, res, &g);
    return v->fn(&g, x, w, y, s);
}

int lis_cudnn_available(void) {
    if (!dnn_load()) {
        lis_err_set("%s", g_dnn_why);
        return 0;
    }
    return 1;
}

// fmt / dtype: the tensors' layout and element type (float32 NCHW, or NHWC of float32 or 16-bit
// values); the sums are float32 either way
static lis_status plan_into(lis_cudnn_conv *c, const lis_conv2d_params *p, int fmt, int dtype, int math) {
    c->p = *p;
    int Ho, Wo;
    lis_conv2d_out_shape(p, &Ho, &Wo);
    DNN_TRY(g_dnn.CreateTensorDescriptor(&c->xd));
    DNN_TRY(g_dnn.CreateTensorDescriptor(&c->yd));
    DNN_TRY(g_dnn.CreateFilterDescriptor(&c->wd));
    DNN_TRY(g_dnn.CreateConvolutionDescriptor(&c->cd));
    DNN_TRY(g_dnn.SetTensor4dDescriptor(c->xd, fmt, dtype, p->N, p->C, p->H, p->W));
    DNN_TRY(g_dnn.SetTensor4dDescriptor(c->yd, fmt, dtype, p->N, p->K, Ho, Wo));
    DNN_TRY(g_dnn.SetFilter4dDescriptor(c->wd, dtype, fmt, p->K, p->C, p->R, p->S));
    DNN_TRY(g_dnn.SetConvolution2dDescriptor(c->cd, p->pad_h, p->pad_w, p->stride_h, p->stride_w, p->dil_h, p->dil_w,
                                             DNN_CROSS_CORRELATION, DNN_DATA_FLOAT));
    DNN_TRY(g_dnn.SetConvolutionMathType(c->cd, math));
    DnnAlgoPerf perf[8];
    int n = 0;
    DNN_TRY(g_dnn.GetConvolutionForwardAlgorithm_v7(g_dnn.h, c->xd, c->wd, c->cd, c->yd, 8, &n, perf));
    const size_t cap = (size_t)1 << 30; // take the best algorithm that needs at most 1 GiB of workspace
    int found = 0;
    for (int i = 0; i < n && !found; i++) {
        size_t need = 0;
        if (perf[i].status != 0) continue;
        if (g_dnn.GetConvolutionForwardWorkspaceSize(g_dnn.h, c->xd, c->wd, c->cd, c->yd, perf[i].algo, &need) != 0)
            continue;
        if (need > cap) continue;
        c->algo = perf[i].algo;
        c->ws_bytes = need;
        found = 1;
    }
    if (!found) return lis_err_set("cuDNN: no forward algorithm for this convolution");
    if (c->ws_bytes && !(c->ws = lis_dev_alloc(c->ws_bytes, "cuDNN workspace"))) return LIS_ERR;
    return LIS_OK;
}

lis_status lis_cudnn_conv_plan(lis_cudnn_conv **out, const lis_conv2d_params *p, lis_precision prec) {
    *out = NULL;
    if (!dnn_load()) return lis_err_set("%s", g_dnn_why);
    if (prec != LIS_PREC_FP32 && prec != LIS_PREC_TF32)
        return lis_err_set("cuDNN baseline: only fp32 and tf32 (float tensors), not %s", lis_precision_name(prec));
    lis_cudnn_conv *c = (lis_cudnn_conv *)calloc(1, sizeof *c);
    if (!c) return lis_err_set("out of memory");
    lis_status st = plan_into(c, p, DNN_TENSOR_NCHW, DNN_DATA_FLOAT, prec == LIS_PREC_TF32 ? DNN_TENSOR_OP_MATH : DNN_FMA_MATH);
    if (st != LIS_OK) { lis_cudnn_conv_free(c); return st; }
    *out = c;
    return LIS_OK;
}

lis_status lis_cudnn_nhwc_conv_plan(lis_cudnn_conv **out, const lis_nhwc_conv_params *p, lis_precision prec) {
    *out = NULL;
    if (!dnn_load()) return lis_err_set("%s", g_dnn_why);
    LIS_TRY(lis_nhwc_conv_check(p, prec));
    lis_cudnn_conv *c = (lis_cudnn_conv *)calloc(1, sizeof *c);
    if (!c) return lis_err_set("out of memory");
    const lis_conv2d_params q = {p->N, p->C, p->H, p->W, p->K, p->R, p->S, p->stride, p->stride, p->pad, p->pad, 1, 1,
                                 LIS_ACT_NONE, 0.0f};
    const int dtype = prec == LIS_PREC_BF16 ? DNN_DATA_BFLOAT16 : prec == LIS_PREC_FP16 ? DNN_DATA_HALF : DNN_DATA_FLOAT;
    lis_status st = plan_into(c, &q, DNN_TENSOR_NHWC, dtype, DNN_TENSOR_OP_MATH);
    if (st != LIS_OK) { lis_cudnn_conv_free(c); return st; }
    *out = c;
    return LIS_OK;
}

lis_status lis_cudnn_nhwc_conv_run(lis_cudnn_conv *c, const void *x, const void *w, void *y, lis_stream s) {
    const float one = 1.0f, zero = 0.0f;
    DNN_TRY(g_dnn.SetStream(g_dnn.h, LIS_STREAM(s)));
    DNN_TRY(g_dnn.ConvolutionForward(g_dnn.h, &one, c->xd, x, c->wd, w, c->cd, c->algo, c->ws, c->ws_bytes, &zero, c->yd, y));
    return lis_cuda_launched("cudnn_nhwc_conv", s);
}

lis_status lis_cudnn_conv_run(lis_cudnn_conv *c, const float *x, const float *w, const float *bias, const float *res,
                              float *y, lis_stream s) {
    // A residual that aliases y (allowed, as for the igemm path) would be overwritten by the
    // convolution before the epilogue reads it: let cuDNN blend it in (y = conv + 1 * y).
    const float one = 1.0f, zero = 0.0f;
    const bool res_in_y = res && res == y;
    DNN_TRY(g_dnn.SetStream(g_dnn.h, LIS_STREAM(s)));
    DNN_TRY(g_dnn.ConvolutionForward(g_dnn.h, &one, c->xd, x, c->wd, w, c->cd, c->algo, c->ws, c->ws_bytes,
                                     res_in_y ? &one : &zero, c->yd, y));
    LIS_TRY(lis_cuda_launched("cudnn_conv", s));
    if (res_in_y) res = NULL;
    if (!bias && !res && c->p.act == LIS_ACT_NONE) return LIS_OK;
    int Ho, Wo;
    lis_conv2d_out_shape(&c->p, &Ho, &Wo);
    const int64_t HW = (int64_t)Ho * Wo, total = (int64_t)c->p.N * c->p.K * HW;
    const int64_t blocks = lis_ceil_div(total, 256) < 65536 ? lis_ceil_div(total, 256) : 65536;
    epilogue_kernel<<<(unsigned)blocks, 256, 0, LIS_STREAM(s)>>>(y, bias, res, (int)c->p.act, c->p.slope, c->p.K, HW,
                                                                 total);
    return lis_cuda_launched("cudnn_epilogue", s);
}

void lis_cudnn_conv_free(lis_cudnn_conv *c) {
    if (!c) return;
    if (g_dnn_state > 0) {
        if (c->xd) g_dnn.DestroyTensorDescriptor(c->xd);
        if (c->yd) g_dnn.DestroyTensorDescriptor(c->yd);
        if (c->wd) g_dnn.DestroyFilterDescriptor(c->wd);
        if (c->cd) g_dnn.DestroyConvolutionDescriptor(c->cd);
    }
    lis_dev_free(c->ws);
    free(c);
}

const char *lis_cudnn_conv_algo(const lis_cudnn_conv *c) {
    static const char *names[] = {"implicit_gemm", "implicit_precomp_gemm", "gemm", "direct", "fft", "fft_tiling",
                                  "winograd", "winograd_nonfused"};
    return c && c->algo >= 0 && c->algo < 8 ? names[c->algo] : "?";
}

} // extern "C"
