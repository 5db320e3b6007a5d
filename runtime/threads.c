/* threads.c — a small pthread pool with dynamic scheduling (atomic work counter). */
#include "runtime/threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define LIS_MAX_THREADS 256

static struct {
    pthread_once_t once;
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    pthread_mutex_t submit_mu; /* one parallel_for at a time from outside the pool */
    uint64_t generation;
    lis_task_fn fn;
    void *ctx;
    int64_t n;
    atomic_int_fast64_t next;
    int active; /* workers still running the current job */
} pool = {.once = PTHREAD_ONCE_INIT, .mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER, .submit_mu = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local int in_worker;
static _Thread_local int my_tid; /* 0 for the submitting thread */
static int requested_threads;

static void run_items(lis_task_fn fn, void *ctx, int64_t n, int tid) {
    for (;;) {
        int64_t i = atomic_fetch_add(&pool.next, 1);
        if (i >= n) break;
        fn(ctx, i, tid);
    }
}

static void *worker(void *arg) {
    int tid = (int)(intptr_t)arg;
    uint64_t seen = 0;
    in_worker = 1;
    my_tid = tid;
    for (;;) {
        pthread_mutex_lock(&pool.mu);
        while (pool.generation == seen) pthread_cond_wait(&pool.wake, &pool.mu);
        seen = pool.generation;
        lis_task_fn fn = pool.fn;
        void *ctx = pool.ctx;
        int64_t n = pool.n;
        pthread_mutex_unlock(&pool.mu);
        run_items(fn, ctx, n, tid);
        pthread_mutex_lock(&pool.mu);
        if (--pool.active == 0) pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.mu);
    }
    return NULL;
}

static void pool_start(void) {
    int n = requested_threads;
    if (n <= 0) {
        const char *env = getenv("LIS_THREADS");
        if (env && atoi(env) > 0) n = atoi(env);
    }
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0) n = 1;
    if (n > LIS_MAX_THREADS) n = LIS_MAX_THREADS;
    pool.nthreads = n;
    for (int t = 1; t < n; t++) {
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 8u << 20);
        if (pthread_create(&th, &at, worker, (void *)(intptr_t)t) != 0) { pool.nthreads = t; break; }
        pthread_detach(th);
        pthread_attr_destroy(&at);
    }
}

int lis_threads_count(void) {
    pthread_once(&pool.once, pool_start);
    return pool.nthreads;
}

int lis_threads_set(int n) {
    if (pool.nthreads) return 0;
    requested_threads = n;
    return 1;
}

void lis_parallel_for(int64_t n, lis_task_fn fn, void *ctx) {
    if (n <= 0) return;
    int nt = lis_threads_count();
    if (nt == 1 || n == 1 || in_worker) {
        for (int64_t i = 0; i < n; i++) fn(ctx, i, my_tid);
        return;
    }
    pthread_mutex_lock(&pool.submit_mu);
    in_worker = 1; /* nested calls from the caller's items run serially too */
    pthread_mutex_lock(&pool.mu);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    atomic_store(&pool.next, 0);
    pool.active = nt - 1;
    pool.generation++;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);
    run_items(fn, ctx, n, 0);
    pthread_mutex_lock(&pool.mu);
    while (pool.active > 0) pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
    in_worker = 0;
    pthread_mutex_unlock(&pool.submit_mu);
}

double lis_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
