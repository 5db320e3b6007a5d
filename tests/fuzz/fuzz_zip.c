/* fuzz_zip.c — libFuzzer target: the zip reader (weights_tools/torch_zip.c): central
 * directory, ZIP64 records, local headers, overlap and name checks, then every entry read
 * (CRC, inflate into the declared size) under a 1 MiB inflate budget. */
#include <stdlib.h>

#include "weights_tools/torch_zip.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    lis_zip z;
    if (lis_zip_open(&z, data, size, "fuzz.zip") != LIS_OK) return 0;
    z.inflate_limit = 1 << 20;
    for (size_t i = 0; i < z.n; i++) {
        const unsigned char *d;
        unsigned char *own = NULL;
        if (lis_zip_find(&z, z.e[i].name) != &z.e[i]) __builtin_trap(); /* names are unique */
        if (lis_zip_read(&z, &z.e[i], &d, &own) == LIS_OK && z.e[i].usize) {
            volatile unsigned char sink = d[z.e[i].usize - 1];
            (void)sink;
        }
        free(own);
    }
    lis_zip_close(&z);
    return 0;
}
