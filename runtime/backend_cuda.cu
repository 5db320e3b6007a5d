// backend_cuda.cu — the CUDA backend's table of functions (see runtime/backend.h):
// device query, device memory, copies, streams, events, the launch check and the
// process's cuBLAS handle.
//
// The device count is asked once (cudaGetDeviceCount fails with "no device" or
// "insufficient driver" on machines without a GPU: that is a count of 0, not an error;
// the reason is kept for messages). LIS_CUDA_SYNC is read once.
#include <stdarg.h>

#include "runtime/cuda_common.cuh"

static int g_count = -1;            // set once by device_count()
static char g_why[256] = "not probed";
static int g_sync = -1;             // LIS_CUDA_SYNC, read once
static cublasHandle_t g_cublas;     // created on first use, per process (see lis_cuda_cublas)

static int device_count(void) {
    if (g_count >= 0) return g_count;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        snprintf(g_why, sizeof g_why, "%s: %s", cudaGetErrorName(e), cudaGetErrorString(e));
        (void)cudaGetLastError();
        n = 0;
    } else if (n == 0) {
        snprintf(g_why, sizeof g_why, "the driver reports no device");
    }
    g_count = n;
    return n;
}

static const char *why_none(void) { return g_why; }

static lis_status device_info(int index, lis_device_info *info) {
    memset(info, 0, sizeof *info);
    if (index < 0 || index >= device_count()) return lis_err_set("CUDA device %d does not exist", index);
    cudaDeviceProp p;
    LIS_CUDA_TRY(cudaGetDeviceProperties(&p, index), "device %d properties", index);
    snprintf(info->name, sizeof info->name, "%s", p.name);
    info->cc_major = p.major;
    info->cc_minor = p.minor;
    info->sm_count = p.multiProcessorCount;
    info->total_mem = p.totalGlobalMem;
    info->l2_bytes = (size_t)p.l2CacheSize;
    info->smem_optin = p.sharedMemPerBlockOptin;
    int cur = 0;
    LIS_CUDA_TRY(cudaGetDevice(&cur), "current device");
    if (cur == index) {
        size_t fr = 0, tot = 0;
        if (cudaMemGetInfo(&fr, &tot) == cudaSuccess) info->free_mem = fr;
        else (void)cudaGetLastError();
    }
    cudaDriverGetVersion(&info->driver_version);
    cudaRuntimeGetVersion(&info->runtime_version);
    return LIS_OK;
}

static lis_status select_dev(int index) {
    LIS_CUDA_TRY(cudaSetDevice(index), "select CUDA device %d", index);
    return LIS_OK;
}

static void *alloc(size_t bytes, const char *what) {
    void *p = NULL;
    if (bytes == 0) bytes = 1;
    cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        size_t fr = 0, tot = 0;
        if (cudaMemGetInfo(&fr, &tot) != cudaSuccess) (void)cudaGetLastError();
        lis_err_set("%s: cannot allocate %.1f MiB on the GPU (%s; %.2f of %.2f GiB free): use a smaller --batch",
                    what ? what : "device buffer", (double)bytes / (1 << 20), cudaGetErrorString(e),
                    (double)fr / (1 << 30), (double)tot / (1 << 30));
        return NULL;
    }
    return p;
}

// After a kernel fault every CUDA call fails; a free must not abort the process then, or
// the test that caught the fault could not report it (nor the ones after it).
static void dfree(void *p) {
    if (!p) return;
    cudaError_t e = cudaFree(p);
    if (e != cudaSuccess) {
        static int told;
        if (!told++) fprintf(stderr, "lis: cudaFree failed: %s (an earlier kernel fault?)\n", cudaGetErrorString(e));
        (void)cudaGetLastError();
    }
}

static lis_status copy(void *dst, const void *src, size_t bytes, int kind, lis_stream s) {
    if (bytes == 0) return LIS_OK;
    static const cudaMemcpyKind kinds[3] = {cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice};
    static const char *names[3] = {"host to device", "device to host", "device to device"};
    LIS_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, kinds[kind], LIS_STREAM(s)), "copy of %zu bytes %s", bytes,
                 names[kind]);
    if (kind != 2) LIS_CUDA_TRY(cudaStreamSynchronize(LIS_STREAM(s)), "copy of %zu bytes %s", bytes, names[kind]);
    return LIS_OK;
}

static lis_status dmemset(void *dst, int byte, size_t bytes, lis_stream s) {
    if (bytes == 0) return LIS_OK;
    LIS_CUDA_TRY(cudaMemsetAsync(dst, byte, bytes, LIS_STREAM(s)), "memset of %zu bytes", bytes);
    return LIS_OK;
}

static lis_status dsync(void) {
    LIS_CUDA_TRY(cudaDeviceSynchronize(), "device synchronisation (an earlier kernel failed; rerun with LIS_CUDA_SYNC=1)");
    return LIS_OK;
}

static lis_status stream_create(lis_stream *s) {
    cudaStream_t st;
    LIS_CUDA_TRY(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking), "stream creation");
    *s = reinterpret_cast<lis_stream>(st);
    return LIS_OK;
}

static void stream_destroy(lis_stream s) {
    if (!s) return;
    lis_cuda_scratch_forget(s); // its scratch slots must not outlive the handle
    LIS_CUDA(cudaStreamDestroy(LIS_STREAM(s)));
}

static lis_status stream_sync(lis_stream s) {
    LIS_CUDA_TRY(cudaStreamSynchronize(LIS_STREAM(s)), "stream synchronisation (an earlier kernel failed; rerun with LIS_CUDA_SYNC=1)");
    return LIS_OK;
}

static lis_status event_create(lis_event *e) {
    cudaEvent_t ev;
    LIS_CUDA_TRY(cudaEventCreate(&ev), "event creation");
    *e = reinterpret_cast<lis_event>(ev);
    return LIS_OK;
}

static void event_destroy(lis_event e) {
    if (e) LIS_CUDA(cudaEventDestroy(reinterpret_cast<cudaEvent_t>(e)));
}

static lis_status event_record(lis_event e, lis_stream s) {
    LIS_CUDA_TRY(cudaEventRecord(reinterpret_cast<cudaEvent_t>(e), LIS_STREAM(s)), "event record");
    return LIS_OK;
}

static lis_status event_elapsed(lis_event a, lis_event b, float *ms) {
    LIS_CUDA_TRY(cudaEventSynchronize(reinterpret_cast<cudaEvent_t>(b)), "event wait");
    LIS_CUDA_TRY(cudaEventElapsedTime(ms, reinterpret_cast<cudaEvent_t>(a), reinterpret_cast<cudaEvent_t>(b)),
                 "event time");
    return LIS_OK;
}

extern "C" const lis_backend_ops lis_cuda_backend_ops = {
    "cuda",        device_count, device_info,  select_dev,   why_none,     alloc,
    dfree,         copy,         dmemset,      dsync,        stream_create, stream_destroy,
    stream_sync,   event_create, event_destroy, event_record, event_elapsed,
};

lis_status lis_cuda_fail(cudaError_t e, const char *expr, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return lis_err_set("%s: %s (%s in %s)", what, cudaGetErrorString(e), cudaGetErrorName(e), expr);
}

int lis_cuda_sync_each_op(void) {
    if (g_sync < 0) {
        const char *v = getenv("LIS_CUDA_SYNC");
        g_sync = v && *v && strcmp(v, "0") != 0;
    }
    return g_sync;
}

lis_status lis_cuda_launched(const char *op, lis_stream s) {
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return lis_err_set("%s: kernel launch failed: %s (%s)", op, cudaGetErrorName(e), cudaGetErrorString(e));
    if (lis_cuda_sync_each_op()) {
        e = cudaStreamSynchronize(LIS_STREAM(s));
        if (e != cudaSuccess)
            return lis_err_set("%s: kernel failed: %s (%s) [LIS_CUDA_SYNC=1]", op, cudaGetErrorName(e), cudaGetErrorString(e));
    }
    return LIS_OK;
}

cublasHandle_t lis_cuda_cublas(lis_stream s) {
    cublasStatus_t st;
    if (!g_cublas && (st = cublasCreate(&g_cublas)) != CUBLAS_STATUS_SUCCESS) {
        g_cublas = NULL;
        lis_err_set("cuBLAS: cannot create a handle (%s)", cublasGetStatusString(st));
        return NULL;
    }
    if ((st = cublasSetStream(g_cublas, LIS_STREAM(s))) != CUBLAS_STATUS_SUCCESS) {
        lis_err_set("cuBLAS: cannot bind the stream (%s)", cublasGetStatusString(st));
        return NULL;
    }
    return g_cublas;
}

// an attribute of the current device, read once (the kernels ask at every launch)
static int device_attr(cudaDeviceAttr attr, int *cache) {
    if (!*cache) {
        int dev = 0, v = 0;
        LIS_CUDA(cudaGetDevice(&dev));
        LIS_CUDA(cudaDeviceGetAttribute(&v, attr, dev));
        *cache = v > 0 ? v : 1;
    }
    return *cache;
}

int lis_cuda_sm_count(void) {
    static int cached = 0;
    return device_attr(cudaDevAttrMultiProcessorCount, &cached);
}

size_t lis_cuda_smem_optin(void) {
    static int cached = 0;
    return (size_t)device_attr(cudaDevAttrMaxSharedMemoryPerBlockOptin, &cached);
}
