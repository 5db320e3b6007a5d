/* statedict.h — the in-memory result of reading a checkpoint: named tensors plus the
 * source's own configuration (if it carries one), before `convert` writes a lis weight
 * file. Every reader in weights_tools/ fills one of these.
 */
#ifndef LIS_STATEDICT_H
#define LIS_STATEDICT_H

#include "runtime/json.h"
#include "runtime/tensor.h"

typedef struct {
    char *name;
    lis_tensor t; /* owned (t.owns = 1) or a view kept alive by the statedict's holders */
} lis_sd_entry;

typedef struct {
    lis_sd_entry *e;
    size_t n, cap;
    lis_json *config;      /* configuration found in the source (owned), or NULL */
    char arch[32];         /* "stylegan_xl", "resnet", ... if the reader knows; else "" */
    char origin[512];      /* what the file was, for the metadata */
    /* resources that views point into, released by lis_sd_free */
    void **holders;
    void (**releasers)(void *);
    size_t nholders;
} lis_statedict;

/* Adds a tensor; takes ownership of t's data if t->owns. Duplicate names are errors. */
lis_status lis_sd_add(lis_statedict *sd, const char *name, lis_tensor *t);
/* Adds a copy of a float32 array. */
lis_status lis_sd_add_f32(lis_statedict *sd, const char *name, const float *data, int ndim, const int64_t *shape);
lis_status lis_sd_keep(lis_statedict *sd, void *holder, void (*release)(void *));
const lis_sd_entry *lis_sd_find(const lis_statedict *sd, const char *name);
/* Converts every floating tensor (F16, BF16, F64) to F32 in place. */
lis_status lis_sd_to_f32(lis_statedict *sd);
void lis_sd_free(lis_statedict *sd);

#endif
