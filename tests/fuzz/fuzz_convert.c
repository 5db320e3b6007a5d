/* fuzz_convert.c — libFuzzer target: `lis-run convert --list` end to end on one input file:
 * kind detection, every reader (torch zip/legacy, StyleGAN-XL snapshot, scikit-learn,
 * safetensors), state-dict extraction, network recognition and the canonical config. The
 * input is written to a file in /dev/shm (readers map files). Nothing is converted to disk. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "weights_tools/convert.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/dev/shm/lis-fuzz-convert-%ld.bin", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    lis_convert_opts o = {NULL, NULL, "G_ema", size & 1};
    lis_statedict sd;
    const char *kind;
    if (lis_convert_read(path, &o, &sd, &kind) == LIS_OK) {
        char *config = NULL;
        if (lis_convert_config(&sd, &o, &config) == LIS_OK) {
            FILE *null = fopen("/dev/null", "w");
            if (null) { lis_convert_list(&sd, config, null); fclose(null); }
        }
        free(config);
        lis_sd_free(&sd);
    }
    unlink(path);
    return 0;
}
