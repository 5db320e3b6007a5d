/* backend.h — devices, precisions, device memory and streams, for C code.
 *
 * lis runs on the CPU everywhere and on an NVIDIA GPU when the CUDA backend was compiled
 * in (the Makefile builds the .cu files of runtime/ and kernels/ when nvcc exists) AND a device is
 * present at run time. Nothing here exposes a CUDA type: a stream is the opaque
 * `lis_stream` (a cudaStream_t inside the .cu files; NULL = the default stream), device
 * memory is a plain pointer that host code must never dereference.
 *
 * runtime/backend.c is the one place that knows whether CUDA was compiled in
 * (LIS_HAVE_CUDA): it holds the CUDA backend's table of functions (lis_backend_ops,
 * defined in runtime/backend_cuda.cu) or none. Nets, tests and the CLI ask at run time:
 *
 *   if (lis_cuda_device_count() > 0) { ... lis_dev_alloc(...) ... }
 *
 * In a CPU-only build every lis_dev_* call fails with "built without CUDA" and
 * lis_cuda_device_count() is 0; kernels/cuda_stubs.c provides the CPU-only build's
 * stand-ins for the exported CUDA kernels (never reached, for the same reason).
 *
 * Errors: allocation, copies and launches return lis_status with a message (an OOM on
 * the device is an environment error); LIS_CUDA_SYNC=1 in the environment makes every
 * kernel launch synchronise and check, so an asynchronous fault is blamed on its op.
 */
#ifndef LIS_BACKEND_H
#define LIS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/status.h"

typedef struct lis_stream_s *lis_stream; /* opaque cudaStream_t; NULL = default stream */
typedef struct lis_event_s *lis_event;   /* opaque cudaEvent_t */

typedef enum {
    LIS_DEVICE_CPU = 0,
    LIS_DEVICE_CUDA = 1,
} lis_device_kind;

typedef struct {
    lis_device_kind kind;
    int index; /* CUDA device ordinal (0 for the CPU) */
} lis_device;

/* Arithmetic of the big matrix products (convolutions, channel mixing). Everything else
 * (filters, activations, reductions) stays float32. FP32 is the reference; the others
 * use tensor cores with float32 accumulation and are opt-in. */
typedef enum {
    LIS_PREC_FP32 = 0,
    LIS_PREC_TF32,
    LIS_PREC_BF16,
    LIS_PREC_FP16,
    LIS_PREC_COUNT
} lis_precision;

typedef struct {
    char name[256];
    int cc_major, cc_minor;  /* compute capability */
    int sm_count;
    size_t total_mem, free_mem;
    size_t l2_bytes;
    size_t smem_optin;       /* max dynamic shared memory per block (opt-in) */
    int driver_version, runtime_version; /* e.g. 13000 */
} lis_device_info;

/* ---- devices ---- */
int lis_cuda_compiled(void);      /* 1 if this build has the CUDA backend */
int lis_cuda_device_count(void);  /* 0 without the backend, a driver or a device */
lis_status lis_cuda_device_info(int index, lis_device_info *info);
lis_status lis_cuda_select(int index); /* cudaSetDevice */
/* One line: "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB, driver 13.0, runtime 13.0)"
 * or "no CUDA device (...why...)". */
const char *lis_cuda_describe(char *buf, size_t cap);

/* "cpu", "cuda", "cuda:N", or "auto"/NULL/"" = cuda:0 when a device exists, else cpu.
 * Asking for cuda without a device is a usage error that says why. */
lis_status lis_device_parse(const char *s, lis_device *d);
const char *lis_device_name(lis_device d, char *buf, size_t cap); /* "cpu", "cuda:0" */
/* What a network runs on, for progress lines: "cpu (fp32)" or "cuda:0 <GPU name>, bf16". */
const char *lis_device_describe(lis_device d, lis_precision prec, char *buf, size_t cap);

/* "fp32", "tf32", "bf16", "fp16" */
lis_status lis_precision_parse(const char *s, lis_precision *p);
const char *lis_precision_name(lis_precision p);

/* ---- device memory (pointers are device addresses) ---- */
void *lis_dev_alloc(size_t bytes, const char *what); /* NULL + message (names `what`) */
void lis_dev_free(void *p);                          /* accepts NULL */
/* Copies are complete when the call returns (they synchronise the stream). */
lis_status lis_dev_h2d(void *dst, const void *src, size_t bytes, lis_stream s);
lis_status lis_dev_d2h(void *dst, const void *src, size_t bytes, lis_stream s);
lis_status lis_dev_d2d(void *dst, const void *src, size_t bytes, lis_stream s); /* asynchronous */
lis_status lis_dev_memset(void *dst, int byte, size_t bytes, lis_stream s);     /* asynchronous */
/* lis_dev_alloc + lis_dev_h2d; NULL + message on failure. */
void *lis_dev_upload(const void *src, size_t bytes, const char *what);
lis_status lis_dev_sync(void); /* cudaDeviceSynchronize + error check */

/* ---- streams and events ---- */
lis_status lis_stream_create(lis_stream *s);
void lis_stream_destroy(lis_stream s); /* accepts NULL */
lis_status lis_stream_sync(lis_stream s);
lis_status lis_event_create(lis_event *e);
void lis_event_destroy(lis_event e);
lis_status lis_event_record(lis_event e, lis_stream s);
/* Waits for `stop`, then the time between the two events in milliseconds. */
lis_status lis_event_elapsed_ms(lis_event start, lis_event stop, float *ms);

/* ---- the backend's function table (implemented by runtime/backend_cuda.cu) ----
 * Every slot is required unless marked (optional). */
typedef struct {
    const char *name;
    int (*device_count)(void);
    lis_status (*device_info)(int index, lis_device_info *info);
    lis_status (*select)(int index);
    const char *(*why_none)(void); /* (optional) why device_count() is 0 */
    void *(*alloc)(size_t bytes, const char *what);
    void (*free)(void *p);
    lis_status (*copy)(void *dst, const void *src, size_t bytes, int kind /* 0 h2d, 1 d2h, 2 d2d */, lis_stream s);
    lis_status (*memset)(void *dst, int byte, size_t bytes, lis_stream s);
    lis_status (*sync)(void);
    lis_status (*stream_create)(lis_stream *s);
    void (*stream_destroy)(lis_stream s);
    lis_status (*stream_sync)(lis_stream s);
    lis_status (*event_create)(lis_event *e);
    void (*event_destroy)(lis_event e);
    lis_status (*event_record)(lis_event e, lis_stream s);
    lis_status (*event_elapsed_ms)(lis_event a, lis_event b, float *ms);
} lis_backend_ops;

#endif
