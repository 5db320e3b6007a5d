/* fuzz_npy.c — libFuzzer target: runtime/npy.c lis_npy_parse (magic, versions 1-3, the
 * Python-dict header, dtype, shape, data size) and a float32 conversion of the result. */
#include "runtime/npy.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    lis_tensor t;
    if (lis_npy_parse(data, size, &t, "fuzz.npy") == LIS_OK) {
        lis_tensor f;
        if (lis_tensor_numel(&t) < (1 << 20) && lis_tensor_to_f32(&t, &f) == LIS_OK) lis_tensor_free(&f);
        lis_tensor_free(&t);
    }
    return 0;
}
