/* statedict.c — see statedict.h. */
#include "weights_tools/statedict.h"

#include <stdlib.h>
#include <string.h>

lis_status lis_sd_add(lis_statedict *sd, const char *name, lis_tensor *t) {
    if (lis_sd_find(sd, name)) return lis_err_set("tensor '%s' appears twice", name);
    if (sd->n == sd->cap) {
        size_t cap = sd->cap ? sd->cap * 2 : 64;
        lis_sd_entry *ne = realloc(sd->e, cap * sizeof *ne);
        if (!ne) return lis_err_set("out of memory");
        sd->e = ne;
        sd->cap = cap;
    }
    sd->e[sd->n].name = strdup(name);
    if (!sd->e[sd->n].name) return lis_err_set("out of memory");
    sd->e[sd->n].t = *t;
    t->owns = 0; /* ownership moved */
    sd->n++;
    return LIS_OK;
}

lis_status lis_sd_add_f32(lis_statedict *sd, const char *name, const float *data, int ndim, const int64_t *shape) {
    lis_tensor t;
    LIS_TRY(lis_tensor_alloc(&t, LIS_DTYPE_F32, ndim, shape));
    memcpy(t.data, data, lis_tensor_nbytes(&t));
    lis_status s = lis_sd_add(sd, name, &t);
    if (s != LIS_OK) lis_tensor_free(&t);
    return s;
}

lis_status lis_sd_keep(lis_statedict *sd, void *holder, void (*release)(void *)) {
    void **nh = realloc(sd->holders, (sd->nholders + 1) * sizeof *nh);
    if (!nh) return lis_err_set("out of memory");
    sd->holders = nh;
    void (**nr)(void *) = realloc(sd->releasers, (sd->nholders + 1) * sizeof *nr);
    if (!nr) return lis_err_set("out of memory");
    sd->releasers = nr;
    sd->holders[sd->nholders] = holder;
    sd->releasers[sd->nholders] = release;
    sd->nholders++;
    return LIS_OK;
}

const lis_sd_entry *lis_sd_find(const lis_statedict *sd, const char *name) {
    for (size_t i = 0; i < sd->n; i++)
        if (strcmp(sd->e[i].name, name) == 0) return &sd->e[i];
    return NULL;
}

lis_status lis_sd_to_f32(lis_statedict *sd) {
    for (size_t i = 0; i < sd->n; i++) {
        lis_tensor *t = &sd->e[i].t;
        if (t->dtype != LIS_DTYPE_F16 && t->dtype != LIS_DTYPE_BF16 && t->dtype != LIS_DTYPE_F64) continue;
        lis_tensor f;
        LIS_TRY(lis_tensor_to_f32(t, &f));
        lis_tensor_free(t);
        *t = f;
    }
    return LIS_OK;
}

void lis_sd_free(lis_statedict *sd) {
    if (!sd) return;
    for (size_t i = 0; i < sd->n; i++) {
        free(sd->e[i].name);
        lis_tensor_free(&sd->e[i].t);
    }
    free(sd->e);
    lis_json_free(sd->config);
    for (size_t i = sd->nholders; i-- > 0;) sd->releasers[i](sd->holders[i]);
    free(sd->holders);
    free(sd->releasers);
    memset(sd, 0, sizeof *sd);
}
