/* status.h — error handling for lis.
 *
 * Two kinds of failure (see STYLE.md §4):
 *  - bugs / impossible states: LIS_ASSERT prints the expression and file:line and aborts;
 *  - input and environment errors: functions return lis_status (LIS_OK = 0) after
 *    setting a message with lis_err_set(); callers add context with lis_err_prefix()
 *    and propagate. Only main() turns a status into an exit code.
 * The message lives in thread-local storage (like errno), so worker threads do not race.
 */
#ifndef LIS_STATUS_H
#define LIS_STATUS_H

#include <stdio.h>
#include <stdlib.h>

typedef enum {
    LIS_OK = 0,
    LIS_ERR = 1,       /* runtime error: bad file, bad data, OOM, unsupported */
    LIS_ERR_USAGE = 2, /* bad command line or config */
} lis_status;

#if defined(__GNUC__)
#define LIS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LIS_PRINTF(a, b)
#endif

/* Sets the current message (replacing any earlier one); returns LIS_ERR. */
lis_status lis_err_set(const char *fmt, ...) LIS_PRINTF(1, 2);
/* Same, returning LIS_ERR_USAGE. */
lis_status lis_err_usage(const char *fmt, ...) LIS_PRINTF(1, 2);
/* Prepends "<context>: " to the current message. */
void lis_err_prefix(const char *fmt, ...) LIS_PRINTF(1, 2);
const char *lis_err_msg(void);
void lis_err_clear(void);

#define LIS_TRY(expr)                                                                  \
    do {                                                                               \
        lis_status lis_try_s_ = (expr);                                                \
        if (lis_try_s_ != LIS_OK) return lis_try_s_;                                   \
    } while (0)

#define LIS_ASSERT(cond)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "lis: internal error: assertion '%s' failed at %s:%d\n",  \
                    #cond, __FILE__, __LINE__);                                        \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* Checked allocation helpers: on failure they set an error naming `what`. */
void *lis_malloc(size_t n, const char *what);
void *lis_calloc(size_t n, size_t size, const char *what);
/* 64-byte aligned allocation (SIMD and cache lines); free with free(). */
void *lis_alloc_aligned(size_t n, const char *what);

/* Overflow-checked size arithmetic for parsers: returns 0 on overflow. */
int lis_mul_ok(size_t a, size_t b, size_t *out);
int lis_add_ok(size_t a, size_t b, size_t *out);

#endif
