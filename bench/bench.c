/* bench.c — timing loop, table rows and environment line (see bench.h). */
#include "bench/bench.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runtime/threads.h"

lis_bench_result lis_bench_time(lis_bench_fn fn, void *ctx, int min_reps, double min_seconds) {
    fn(ctx); /* warm-up */
    double t0 = lis_now();
    fn(ctx);
    double one = lis_now() - t0;
    int reps = min_reps;
    if (one > 0 && one * reps < min_seconds / 5) reps = (int)(min_seconds / 5 / one) + 1;
    double times[5], sum = 0;
    for (int r = 0; r < 5; r++) {
        t0 = lis_now();
        for (int i = 0; i < reps; i++) fn(ctx);
        times[r] = (lis_now() - t0) / reps;
        sum += times[r];
    }
    lis_bench_result res = {sum / 5, 0, reps};
    for (int r = 0; r < 5; r++) res.std += (times[r] - res.mean) * (times[r] - res.mean);
    res.std = sqrt(res.std / 4);
    return res;
}

void lis_bench_header(void) {
    printf("| op | params | variant | device | threads | time (ms) | throughput | vs baseline |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
}

void lis_bench_row(const char *op, const char *params, const char *variant, lis_bench_result r, double flops,
                   double bytes, double baseline_mean) {
    char thr[64] = "-", ratio[32] = "-";
    if (flops > 0) snprintf(thr, sizeof thr, "%.1f GFLOP/s", flops / r.mean / 1e9);
    else if (bytes > 0) snprintf(thr, sizeof thr, "%.2f GB/s", bytes / r.mean / 1e9);
    if (baseline_mean > 0) snprintf(ratio, sizeof ratio, "%.2fx", baseline_mean / r.mean);
    printf("| %s | %s | %s | cpu | %d | %.3f ± %.3f | %s | %s |\n", op, params, variant, lis_threads_count(), r.mean * 1e3,
           r.std * 1e3, thr, ratio);
    fflush(stdout);
}

void lis_bench_env(void) {
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *c = strchr(line, ':');
                if (c) { snprintf(model, sizeof model, "%s", c + 2); model[strcspn(model, "\n")] = 0; }
                break;
            }
        fclose(f);
    }
    time_t now = time(NULL);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    printf("lis-bench: %s, %d threads, %s, gcc %d.%d, %s\n", model, lis_threads_count(),
#ifdef __OPTIMIZE__
           "optimised build",
#else
           "WARNING: unoptimised build",
#endif
           __GNUC__, __GNUC_MINOR__, date);
}
