/* status.c — thread-local error message and checked allocation. */
#include "runtime/status.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#define LIS_ERR_CAP 2048
static _Thread_local char err_buf[LIS_ERR_CAP];

static void vset(const char *fmt, va_list ap) { vsnprintf(err_buf, sizeof err_buf, fmt, ap); }

lis_status lis_err_set(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vset(fmt, ap);
    va_end(ap);
    return LIS_ERR;
}

lis_status lis_err_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vset(fmt, ap);
    va_end(ap);
    return LIS_ERR_USAGE;
}

void lis_err_prefix(const char *fmt, ...) {
    char pre[512], old[LIS_ERR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err_buf, sizeof old);
    size_t n = strlen(pre);
    if (n + 2 >= sizeof err_buf) return;
    memcpy(err_buf, pre, n);
    memcpy(err_buf + n, ": ", 2);
    size_t rest = sizeof err_buf - n - 3;
    size_t ol = strnlen(old, rest);
    memcpy(err_buf + n + 2, old, ol);
    err_buf[n + 2 + ol] = 0;
}

const char *lis_err_msg(void) { return err_buf[0] ? err_buf : "unknown error"; }
void lis_err_clear(void) { err_buf[0] = 0; }

void *lis_malloc(size_t n, const char *what) {
    void *p = malloc(n ? n : 1);
    if (!p) lis_err_set("out of memory allocating %zu bytes for %s", n, what);
    return p;
}

void *lis_calloc(size_t n, size_t size, const char *what) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) lis_err_set("out of memory allocating %zu x %zu bytes for %s", n, size, what);
    return p;
}

void *lis_alloc_aligned(size_t n, const char *what) {
    void *p = NULL;
    size_t r = (n + 63) & ~(size_t)63;
    if (r < n || posix_memalign(&p, 64, r ? r : 64) != 0) {
        lis_err_set("out of memory allocating %zu bytes for %s", n, what);
        return NULL;
    }
    return p;
}

int lis_mul_ok(size_t a, size_t b, size_t *out) {
    if (a && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

int lis_add_ok(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return 0;
    *out = a + b;
    return 1;
}
