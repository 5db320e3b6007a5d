/* bench.h — shared timing and table helpers for bench/lis-bench.
 *
 * lis_bench_time() runs fn once to warm up, then repeats it until at least `min_reps`
 * calls and about `min_seconds` have passed, five times over, and reports the mean and
 * standard deviation of the per-call time (CLOCK_MONOTONIC). Results are rows of an
 * aligned markdown table with the device, threads and build flags (STYLE.md §8).
 */
#ifndef LIS_BENCH_H
#define LIS_BENCH_H

typedef void (*lis_bench_fn)(void *ctx);

typedef struct {
    double mean, std; /* seconds per call */
    int reps;         /* calls per repetition */
} lis_bench_result;

lis_bench_result lis_bench_time(lis_bench_fn fn, void *ctx, int min_reps, double min_seconds);
/* "| op | params | variant | device | time | throughput | ratio |" */
void lis_bench_header(void);
void lis_bench_row(const char *op, const char *params, const char *variant, lis_bench_result r, double flops,
                   double bytes, double baseline_mean);
/* One line about the machine and build: CPU model, threads, compiler flags, date. */
void lis_bench_env(void);

int lis_bench_ops(int argc, char **argv);
int lis_bench_generator(int argc, char **argv);
int lis_bench_resnet(int argc, char **argv);
int lis_bench_cuda(int argc, char **argv);
int lis_bench_pump(int argc, char **argv);
int lis_bench_seg(int argc, char **argv);

#endif
