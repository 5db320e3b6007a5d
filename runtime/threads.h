/* threads.h — the process-wide worker pool used by every CPU kernel.
 *
 * One pool per process, created on first use with all online cores, or LIS_THREADS
 * (lis_threads_set() before first use overrides both). We keep a single implicit pool
 * rather than passing a handle through every op: a lis process runs one network at a
 * time and an extra parameter on every kernel would buy nothing.
 *
 * lis_parallel_for(n, fn, ctx) calls fn(ctx, i, tid) for every i in [0, n), spread
 * over the workers and the calling thread (tid in [0, lis_threads_count())), and
 * returns when all calls are done. Calls nested inside a worker run serially.
 */
#ifndef LIS_THREADS_H
#define LIS_THREADS_H

#include <stdint.h>

typedef void (*lis_task_fn)(void *ctx, int64_t i, int tid);

void lis_parallel_for(int64_t n, lis_task_fn fn, void *ctx);
int lis_threads_count(void);
/* Sets the thread count before the pool starts; returns 0 if already started. */
int lis_threads_set(int n);
double lis_now(void); /* CLOCK_MONOTONIC seconds */

#endif
