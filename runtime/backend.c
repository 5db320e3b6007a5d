/* backend.c — the backend registry: the one place that knows whether the CUDA backend
 * was compiled in (see backend.h). Without it every device call fails with a message
 * and lis_cuda_device_count() is 0, so callers fall back to the CPU. */
#include "runtime/backend.h"

#include <stdio.h>
#include <string.h>

#ifdef LIS_HAVE_CUDA
extern const lis_backend_ops lis_cuda_backend_ops; /* runtime/backend_cuda.cu */
static const lis_backend_ops *cuda_ops(void) { return &lis_cuda_backend_ops; }
#else
static const lis_backend_ops *cuda_ops(void) { return NULL; }
#endif

static lis_status no_cuda(const char *what) {
    return lis_err_set("%s: this build has no CUDA backend (rebuild with nvcc on the PATH, `make CUDA=1`)", what);
}

int lis_cuda_compiled(void) { return cuda_ops() != NULL; }

int lis_cuda_device_count(void) { return cuda_ops() ? cuda_ops()->device_count() : 0; }

lis_status lis_cuda_device_info(int index, lis_device_info *info) {
    memset(info, 0, sizeof *info);
    if (!cuda_ops()) return no_cuda("device info");
    return cuda_ops()->device_info(index, info);
}

lis_status lis_cuda_select(int index) {
    if (!cuda_ops()) return no_cuda("select device");
    return cuda_ops()->select(index);
}

const char *lis_cuda_describe(char *buf, size_t cap) {
    if (!cuda_ops()) { snprintf(buf, cap, "no CUDA device (built without the CUDA backend)"); return buf; }
    if (cuda_ops()->device_count() == 0) {
        const char *why = cuda_ops()->why_none ? cuda_ops()->why_none() : "none found";
        snprintf(buf, cap, "no CUDA device (%s)", why);
        return buf;
    }
    lis_device_info d;
    if (lis_cuda_device_info(0, &d) != LIS_OK) { snprintf(buf, cap, "CUDA device 0: %s", lis_err_msg()); return buf; }
    snprintf(buf, cap, "%s (sm_%d%d, %d SMs, %.1f GiB, L2 %.0f MiB, driver %d.%d, runtime %d.%d)", d.name, d.cc_major,
             d.cc_minor, d.sm_count, (double)d.total_mem / (1 << 30), (double)d.l2_bytes / (1 << 20),
             d.driver_version / 1000, d.driver_version % 1000 / 10, d.runtime_version / 1000,
             d.runtime_version % 1000 / 10);
    return buf;
}

lis_status lis_device_parse(const char *s, lis_device *d) {
    d->kind = LIS_DEVICE_CPU;
    d->index = 0;
    if (!s || !*s || !strcmp(s, "auto")) {
        if (lis_cuda_device_count() > 0) d->kind = LIS_DEVICE_CUDA;
        return LIS_OK;
    }
    if (!strcmp(s, "cpu")) return LIS_OK;
    if (strncmp(s, "cuda", 4) != 0 || (s[4] != 0 && s[4] != ':'))
        return lis_err_usage("--device %s: expected cpu, cuda, cuda:N or auto", s);
    int idx = 0;
    if (s[4] == ':') {
        char *end;
        long v = strtol(s + 5, &end, 10);
        if (end == s + 5 || *end || v < 0 || v > 1024) return lis_err_usage("--device %s: bad device index", s);
        idx = (int)v;
    }
    int n = lis_cuda_device_count();
    if (idx >= n) {
        char why[320];
        return lis_err_usage("--device %s: %s", s, n ? "no such device" : lis_cuda_describe(why, sizeof why));
    }
    d->kind = LIS_DEVICE_CUDA;
    d->index = idx;
    return LIS_OK;
}

const char *lis_device_name(lis_device d, char *buf, size_t cap) {
    if (d.kind == LIS_DEVICE_CPU) snprintf(buf, cap, "cpu");
    else snprintf(buf, cap, "cuda:%d", d.index);
    return buf;
}

static const char *prec_names[LIS_PREC_COUNT] = {"fp32", "tf32", "bf16", "fp16"};

const char *lis_device_describe(lis_device d, lis_precision prec, char *buf, size_t cap) {
    if (d.kind == LIS_DEVICE_CPU) {
        snprintf(buf, cap, "cpu (fp32)");
        return buf;
    }
    lis_device_info info;
    if (lis_cuda_device_info(d.index, &info) != LIS_OK) snprintf(info.name, sizeof info.name, "?");
    snprintf(buf, cap, "cuda:%d %s, %s", d.index, info.name, lis_precision_name(prec));
    return buf;
}

lis_status lis_precision_parse(const char *s, lis_precision *p) {
    for (int i = 0; i < LIS_PREC_COUNT; i++)
        if (s && !strcmp(s, prec_names[i])) { *p = (lis_precision)i; return LIS_OK; }
    return lis_err_usage("--precision %s: expected fp32, tf32, bf16 or fp16", s ? s : "(null)");
}

const char *lis_precision_name(lis_precision p) {
    return (unsigned)p < LIS_PREC_COUNT ? prec_names[p] : "?";
}

/* ---- memory, streams, events: forwarded to the backend ---- */

void *lis_dev_alloc(size_t bytes, const char *what) {
    if (!cuda_ops()) { no_cuda(what); return NULL; }
    return cuda_ops()->alloc(bytes, what);
}

void lis_dev_free(void *p) {
    if (p && cuda_ops()) cuda_ops()->free(p);
}

lis_status lis_dev_h2d(void *dst, const void *src, size_t bytes, lis_stream s) {
    if (!cuda_ops()) return no_cuda("copy to device");
    return cuda_ops()->copy(dst, src, bytes, 0, s);
}

lis_status lis_dev_d2h(void *dst, const void *src, size_t bytes, lis_stream s) {
    if (!cuda_ops()) return no_cuda("copy from device");
    return cuda_ops()->copy(dst, src, bytes, 1, s);
}

lis_status lis_dev_d2d(void *dst, const void *src, size_t bytes, lis_stream s) {
    if (!cuda_ops()) return no_cuda("device copy");
    return cuda_ops()->copy(dst, src, bytes, 2, s);
}

lis_status lis_dev_memset(void *dst, int byte, size_t bytes, lis_stream s) {
    if (!cuda_ops()) return no_cuda("device memset");
    return cuda_ops()->memset(dst, byte, bytes, s);
}

void *lis_dev_upload(const void *src, size_t bytes, const char *what) {
    void *d = lis_dev_alloc(bytes, what);
    if (d && lis_dev_h2d(d, src, bytes, NULL) != LIS_OK) {
        lis_dev_free(d);
        return NULL;
    }
    return d;
}

lis_status lis_dev_sync(void) {
    if (!cuda_ops()) return no_cuda("device sync");
    return cuda_ops()->sync();
}

lis_status lis_stream_create(lis_stream *s) {
    *s = NULL;
    if (!cuda_ops()) return no_cuda("stream");
    return cuda_ops()->stream_create(s);
}

void lis_stream_destroy(lis_stream s) {
    if (s && cuda_ops()) cuda_ops()->stream_destroy(s);
}

lis_status lis_stream_sync(lis_stream s) {
    if (!cuda_ops()) return no_cuda("stream sync");
    return cuda_ops()->stream_sync(s);
}

lis_status lis_event_create(lis_event *e) {
    *e = NULL;
    if (!cuda_ops()) return no_cuda("event");
    return cuda_ops()->event_create(e);
}

void lis_event_destroy(lis_event e) {
    if (e && cuda_ops()) cuda_ops()->event_destroy(e);
}

lis_status lis_event_record(lis_event e, lis_stream s) {
    if (!cuda_ops()) return no_cuda("event");
    return cuda_ops()->event_record(e, s);
}

lis_status lis_event_elapsed_ms(lis_event a, lis_event b, float *ms) {
    if (!cuda_ops()) return no_cuda("event");
    return cuda_ops()->event_elapsed_ms(a, b, ms);
}
