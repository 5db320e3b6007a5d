/* main.c — bench/lis-bench: `lis-bench ops|generator|resnet [options]`. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"

#pragma weak lis_bench_resnet
#pragma weak lis_bench_cuda
#pragma weak lis_bench_pump
#pragma weak lis_bench_seg

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: bench/lis-bench SUITE [options]   (SUITE --help for its options)\n\n"
               "suites:\n"
               "  ops        kernel microbenchmarks: every op's fast CPU path against its reference\n"
               "  generator  StyleGAN-XL images/s, per-layer time and GFLOP/s\n"
               "  resnet     classifier images/s and GFLOP/s\n"
               "  cuda       CUDA kernels against cuBLAS/cuDNN, generate/classify images/s per precision\n"
               "  pump       PUMP matching pairs/s, correlation and pooling kernels\n"
               "  seg        segmentation head inference and training throughput\n"
               "environment: LIS_THREADS=N\n");
        return argc < 2 ? 2 : 0;
    }
    lis_bench_env();
    if (!strcmp(argv[1], "ops")) return lis_bench_ops(argc - 1, argv + 1);
    if (!strcmp(argv[1], "generator")) return lis_bench_generator(argc - 1, argv + 1);
    static const struct { const char *name; int (*fn)(int, char **); } optional[] = {
        {"resnet", lis_bench_resnet}, {"cuda", lis_bench_cuda}, {"pump", lis_bench_pump}, {"seg", lis_bench_seg}};
    for (size_t i = 0; i < sizeof optional / sizeof *optional; i++) {
        if (strcmp(argv[1], optional[i].name) != 0) continue;
        if (!optional[i].fn) { fprintf(stderr, "lis-bench: the %s suite is not in this build\n", argv[1]); return 1; }
        return optional[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "lis-bench: unknown suite '%s'\n", argv[1]);
    return 2;
}
