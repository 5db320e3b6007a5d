/* fuzz_legacy.c — libFuzzer target: the legacy torch.save stream parser as StyleGAN-XL
 * snapshots use it for every storage blob (torch.storage._load_from_bytes): five pickles,
 * the key list, the storage records. The seeds start with the legacy magic, so mutations
 * reach the later pickles and the records. */
#include "weights_tools/torch_file.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    lis_pk_opts o = {.label = "fuzz", .max_alloc = 64 << 20};
    lis_pk_vm *vm = NULL;
    if (lis_pk_vm_init(&vm, &o) != LIS_OK) return 0;
    lis_pk *st = NULL;
    if (lis_torch_load_from_bytes(NULL, vm, data, size, &st) == LIS_OK) {
        if (st->type != LIS_PK_STORAGE || st->u.storage.nbytes > size) __builtin_trap();
    }
    lis_pk_vm_free(vm);
    /* the same bytes as a whole legacy file */
    lis_torch_file tf = {0};
    if (lis_torch_parse(&tf, data, size, "fuzz.pth", 1 << 20) == LIS_OK && tf.root && tf.root->type == LIS_PK_DICT)
        for (size_t i = 0; i + 1 < tf.root->n; i += 2) {
            lis_tensor t;
            if (lis_pk_tensor(tf.root->items[i + 1], &t, "fuzz") == LIS_OK) lis_tensor_free(&t);
        }
    lis_torch_close(&tf);
    return 0;
}
