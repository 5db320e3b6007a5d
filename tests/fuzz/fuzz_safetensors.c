/* fuzz_safetensors.c — libFuzzer target: runtime/safetensors.c lis_st_parse (header length,
 * JSON header, dtypes, shapes, offsets, metadata), then every tensor's bytes touched. */
#include "runtime/safetensors.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    lis_safetensors st = {0}; /* lis_st_parse expects a zeroed struct, as lis_st_open makes it */
    if (lis_st_parse(&st, data, size, "fuzz.safetensors") == LIS_OK) {
        for (size_t i = 0; i < st.n; i++) {
            size_t nb = lis_tensor_nbytes(&st.entries[i].t);
            if (nb) {
                volatile unsigned char sink = ((const unsigned char *)st.entries[i].t.data)[nb - 1];
                (void)sink;
            }
            if (lis_st_find(&st, st.entries[i].name) == NULL) __builtin_trap();
        }
        lis_st_meta(&st, "config");
    }
    lis_st_close(&st);
    return 0;
}
