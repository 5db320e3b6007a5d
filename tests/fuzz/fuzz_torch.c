/* fuzz_torch.c — libFuzzer target: a whole torch.save file (weights_tools/torch_file.c), zip
 * or legacy by its first bytes: storages by persistent id, legacy records, then every tensor
 * of the top-level dict materialised (offsets, strides, gathers). */
#include "weights_tools/torch_file.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    lis_torch_file tf = {0};
    if (lis_torch_parse(&tf, data, size, "fuzz.pth", 1 << 20) == LIS_OK && tf.root && tf.root->type == LIS_PK_DICT)
        for (size_t i = 0; i + 1 < tf.root->n; i += 2) {
            lis_tensor t;
            if (lis_pk_tensor(tf.root->items[i + 1], &t, "fuzz") == LIS_OK) lis_tensor_free(&t);
        }
    lis_torch_close(&tf);
    return 0;
}
