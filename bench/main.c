/* main.c — bench/lis-bench: `lis-bench ops|generator|resnet [options]`. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"

#pragma weak lis_bench_resnet

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: bench/lis-bench SUITE [options]   (SUITE --help for its options)\n\n"
               "suites:\n"
               "  ops        kernel microbenchmarks: every op's fast CPU path against its reference\n"
               "  generator  StyleGAN-XL images/s, per-layer time and GFLOP/s\n"
               "  resnet     classifier images/s and GFLOP/s\n"
               "environment: LIS_THREADS=N\n");
        return argc < 2 ? 2 : 0;
    }
    lis_bench_env();
    if (!strcmp(argv[1], "ops")) return lis_bench_ops(argc - 1, argv + 1);
    if (!strcmp(argv[1], "generator")) return lis_bench_generator(argc - 1, argv + 1);
    if (!strcmp(argv[1], "resnet")) {
        if (!lis_bench_resnet) { fprintf(stderr, "lis-bench: the resnet suite is not in this build\n"); return 1; }
        return lis_bench_resnet(argc - 1, argv + 1);
    }
    fprintf(stderr, "lis-bench: unknown suite '%s'\n", argv[1]);
    return 2;
}
