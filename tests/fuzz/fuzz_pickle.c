/* fuzz_pickle.c — libFuzzer target: the pickle VM (weights_tools/pickle.c) on arbitrary bytes,
 * with the callbacks a real reader installs (torch storages by persistent id, StyleGAN-XL
 * storage blobs through the legacy parser), then every consumer of values: JSON export,
 * tensor materialisation, dict lookups. A small allocation budget keeps each input cheap. */
#include <stdlib.h>
#include <string.h>

#include "weights_tools/pickle.h"
#include "weights_tools/torch_file.h"

static const unsigned char *g_data;
static size_t g_size;

/* any persistent id becomes a float32 storage over the input bytes themselves */
static lis_status pl(void *ctx, lis_pk_vm *vm, const lis_pk *pid, lis_pk **out) {
    (void)ctx;
    lis_pk *s = lis_pk_new(vm, LIS_PK_STORAGE);
    if (!s) return LIS_ERR;
    s->u.storage.dtype = LIS_DTYPE_F32;
    s->u.storage.key = pid;
    s->u.storage.numel = pid->type == LIS_PK_INT ? pid->i : (int64_t)(g_size / 4);
    s->u.storage.data = g_data;
    s->u.storage.nbytes = g_size;
    *out = s;
    return LIS_OK;
}

/* values form a DAG whose shared parts can double at each level: bound the visits */
static void consume(const lis_pk *v, int depth, int *budget) {
    if (!v || depth > 8 || --*budget < 0) return;
    lis_tensor t;
    if ((v->type == LIS_PK_TENSOR || v->type == LIS_PK_NDARRAY) && lis_pk_tensor(v, &t, "fuzz") == LIS_OK) {
        volatile unsigned char sink = 0;
        size_t nb = lis_tensor_nbytes(&t);
        if (nb) sink ^= ((const unsigned char *)t.data)[nb - 1];
        (void)sink;
        lis_tensor_free(&t);
    }
    char buf[64];
    lis_pk_class_name(v, buf, sizeof buf);
    lis_pk_str(v, buf, sizeof buf);
    consume(lis_pk_obj_state(v), depth + 1, budget);
    if (v->type == LIS_PK_DICT || v->type == LIS_PK_LIST || v->type == LIS_PK_TUPLE)
        for (size_t i = 0; i < v->n && i < 64; i++) consume(v->items[i], depth + 1, budget);
    lis_pk_dict_get(v, "state_dict");
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    g_data = data;
    g_size = size;
    lis_pk_opts o = {.label = "fuzz", .max_alloc = 64 << 20, .persistent_load = pl,
                     .load_from_bytes = lis_torch_load_from_bytes};
    lis_pk_vm *vm = NULL;
    if (lis_pk_vm_init(&vm, &o) != LIS_OK) return 0;
    size_t pos = 0;
    lis_pk *root = NULL;
    /* up to three pickles back to back, as in the legacy format */
    for (int i = 0; i < 3 && pos < size; i++) {
        if (lis_pk_run(vm, NULL, data, size, &pos, &root) != LIS_OK) break;
        lis_sbuf b = {0};
        lis_pk_to_json(&b, root, 64);
        lis_sbuf_free(&b);
        int budget = 10000;
        consume(root, 0, &budget);
    }
    lis_pk_vm_free(vm);
    return 0;
}
