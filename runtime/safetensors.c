/* safetensors.c — validated reader and atomic writer. */
#include "runtime/safetensors.h"

#include <string.h>

static lis_status parse_entry(lis_st_entry *e, const char *key, const lis_json *v, const unsigned char *data,
                              size_t data_size, const char *label) {
    const lis_json *dt = lis_json_get(v, "dtype"), *sh = lis_json_get(v, "shape"), *off = lis_json_get(v, "data_offsets");
    if (!dt || dt->type != LIS_JSON_STR || !sh || sh->type != LIS_JSON_ARR || !off || off->type != LIS_JSON_ARR ||
        off->len != 2)
        return lis_err_set("%s: tensor '%s': header entry needs dtype, shape and data_offsets", label, key);
    if (!lis_dtype_from_name(dt->str, &e->t.dtype))
        return lis_err_set("%s: tensor '%s': unknown dtype '%s'", label, key, dt->str);
    if (sh->len > LIS_MAX_DIMS) return lis_err_set("%s: tensor '%s': %zu dims (max %d)", label, key, sh->len, LIS_MAX_DIMS);
    size_t nbytes = lis_dtype_size(e->t.dtype);
    e->t.ndim = (int)sh->len;
    for (size_t i = 0; i < sh->len; i++) {
        const lis_json *d = sh->items[i];
        if (!lis_json_is_int(d) || d->num < 0) return lis_err_set("%s: tensor '%s': bad shape", label, key);
        e->t.shape[i] = (int64_t)d->num;
        if (!lis_mul_ok(nbytes, (size_t)d->num, &nbytes)) return lis_err_set("%s: tensor '%s': shape overflows", label, key);
    }
    const lis_json *b = off->items[0], *en = off->items[1];
    if (!lis_json_is_int(b) || !lis_json_is_int(en) || b->num < 0 || en->num < b->num)
        return lis_err_set("%s: tensor '%s': bad data_offsets", label, key);
    size_t begin = (size_t)b->num, end = (size_t)en->num;
    if (end > data_size)
        return lis_err_set("%s: tensor '%s': data_offsets [%zu, %zu) run past the end of the data (%zu bytes); file truncated?",
                           label, key, begin, end, data_size);
    if (end - begin != nbytes)
        return lis_err_set("%s: tensor '%s': data_offsets cover %zu bytes but its shape and dtype need %zu", label, key,
                           end - begin, nbytes);
    e->t.data = (void *)(data + begin);
    e->t.owns = 0;
    e->name = strdup(key);
    return e->name ? LIS_OK : lis_err_set("out of memory");
}

lis_status lis_st_parse(lis_safetensors *st, const unsigned char *buf, size_t size, const char *label) {
    if (size < 8) return lis_err_set("%s: not a safetensors file (only %zu bytes)", label, size);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | buf[i];
    if (hl > size - 8) return lis_err_set("%s: header length %llu exceeds the file size %zu (not safetensors, or truncated)",
                                          label, (unsigned long long)hl, size);
    if (hl > 100u * 1024 * 1024) return lis_err_set("%s: header of %llu bytes is too large", label, (unsigned long long)hl);
    lis_json *h = lis_json_parse((const char *)buf + 8, (size_t)hl);
    if (!h) { lis_err_prefix("%s: header", label); return LIS_ERR; }
    if (h->type != LIS_JSON_OBJ) { lis_json_free(h); return lis_err_set("%s: header is not a JSON object", label); }
    const unsigned char *data = buf + 8 + hl;
    size_t data_size = size - 8 - (size_t)hl;
    st->entries = calloc(h->len ? h->len : 1, sizeof *st->entries);
    if (!st->entries) { lis_json_free(h); return lis_err_set("out of memory"); }
    lis_status s = LIS_OK;
    for (size_t i = 0; i < h->len && s == LIS_OK; i++) {
        const char *key = h->keys[i];
        if (strcmp(key, "__metadata__") == 0) {
            const lis_json *m = h->items[i];
            if (m->type != LIS_JSON_OBJ) { s = lis_err_set("%s: __metadata__ is not an object", label); break; }
            for (size_t k = 0; k < m->len; k++)
                if (m->items[k]->type != LIS_JSON_STR) { s = lis_err_set("%s: __metadata__ value '%s' is not a string", label, m->keys[k]); break; }
            if (s != LIS_OK) break;
            st->meta = h->items[i];
            h->items[i] = NULL; /* take ownership */
            continue;
        }
        if (h->items[i]->type != LIS_JSON_OBJ) { s = lis_err_set("%s: tensor '%s': header entry is not an object", label, key); break; }
        for (size_t k = 0; k < st->n; k++)
            if (strcmp(st->entries[k].name, key) == 0) { s = lis_err_set("%s: tensor '%s' appears twice", label, key); break; }
        if (s != LIS_OK) break;
        s = parse_entry(&st->entries[st->n], key, h->items[i], data, data_size, label);
        if (s == LIS_OK) st->n++;
    }
    lis_json_free(h); /* the metadata node we kept is NULL in h and skipped */
    return s;
}

lis_status lis_st_open(lis_safetensors *st, const char *path) {
    memset(st, 0, sizeof *st);
    st->path = strdup(path);
    if (!st->path) return lis_err_set("out of memory");
    lis_status s = lis_map_file(&st->file, path);
    if (s == LIS_OK) s = lis_st_parse(st, st->file.data, st->file.size, path);
    if (s != LIS_OK) lis_st_close(st);
    return s;
}

void lis_st_close(lis_safetensors *st) {
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) free(st->entries[i].name);
    free(st->entries);
    lis_json_free(st->meta);
    lis_unmap_file(&st->file);
    free(st->path);
    memset(st, 0, sizeof *st);
}

const lis_st_entry *lis_st_find(const lis_safetensors *st, const char *name) {
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->entries[i].name, name) == 0) return &st->entries[i];
    return NULL;
}

const char *lis_st_meta(const lis_safetensors *st, const char *key) {
    const lis_json *v = lis_json_get(st->meta, key);
    return v && v->type == LIS_JSON_STR ? v->str : NULL;
}

lis_status lis_st_get_f32(const lis_safetensors *st, const char *name, int ndim, const int64_t *shape,
                          const float **out) {
    const char *label = st->path ? st->path : "safetensors";
    const lis_st_entry *e = lis_st_find(st, name);
    if (!e) return lis_err_set("%s: missing tensor '%s'", label, name);
    if (e->t.dtype != LIS_DTYPE_F32)
        return lis_err_set("%s: tensor '%s' is %s, expected F32", label, name, lis_dtype_name(e->t.dtype));
    int ok = e->t.ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = shape[i] < 0 || shape[i] == e->t.shape[i];
    if (!ok) {
        char a[128], b[128];
        return lis_err_set("%s: tensor '%s' is %s, expected %s", label, name, lis_shape_str(e->t.ndim, e->t.shape, a, sizeof a),
                           lis_shape_str(ndim, shape, b, sizeof b));
    }
    if (((uintptr_t)e->t.data & 3) != 0) return lis_err_set("%s: tensor '%s' is not 4-byte aligned", label, name);
    *out = e->t.data;
    return LIS_OK;
}

lis_status lis_st_writer_add(lis_st_writer *w, const char *name, lis_dtype dt, int ndim, const int64_t *shape,
                             const void *data) {
    if (ndim < 0 || ndim > LIS_MAX_DIMS) return lis_err_set("tensor '%s': bad ndim %d", name, ndim);
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        lis_st_wentry *ne = realloc(w->e, cap * sizeof *ne);
        if (!ne) return lis_err_set("out of memory");
        w->e = ne;
        w->cap = cap;
    }
    lis_st_wentry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    if (!e->name) return lis_err_set("out of memory");
    e->dtype = dt;
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
    e->data = data;
    w->n++;
    return LIS_OK;
}

lis_status lis_st_writer_meta(lis_st_writer *w, const char *key, const char *value) {
    char **nk = realloc(w->mkeys, (w->nmeta + 1) * sizeof *nk);
    if (!nk) return lis_err_set("out of memory");
    w->mkeys = nk;
    char **nv = realloc(w->mvals, (w->nmeta + 1) * sizeof *nv);
    if (!nv) return lis_err_set("out of memory");
    w->mvals = nv;
    w->mkeys[w->nmeta] = strdup(key);
    w->mvals[w->nmeta] = strdup(value);
    w->nmeta++;
    if (!w->mkeys[w->nmeta - 1] || !w->mvals[w->nmeta - 1]) return lis_err_set("out of memory");
    return LIS_OK;
}

lis_status lis_st_write(lis_st_writer *w, const char *path) {
    lis_sbuf h = {0};
    size_t off = 0;
    lis_sbuf_printf(&h, "{");
    if (w->nmeta) {
        lis_sbuf_printf(&h, "\"__metadata__\":{");
        for (size_t i = 0; i < w->nmeta; i++) {
            if (i) lis_sbuf_printf(&h, ",");
            lis_sbuf_json_str(&h, w->mkeys[i]);
            lis_sbuf_printf(&h, ":");
            lis_sbuf_json_str(&h, w->mvals[i]);
        }
        lis_sbuf_printf(&h, "}");
    }
    for (size_t i = 0; i < w->n; i++) {
        lis_st_wentry *e = &w->e[i];
        size_t nb = lis_dtype_size(e->dtype);
        for (int d = 0; d < e->ndim; d++) nb *= (size_t)e->shape[d];
        if (i || w->nmeta) lis_sbuf_printf(&h, ",");
        lis_sbuf_json_str(&h, e->name);
        lis_sbuf_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", lis_dtype_name(e->dtype));
        for (int d = 0; d < e->ndim; d++) lis_sbuf_printf(&h, d ? ",%lld" : "%lld", (long long)e->shape[d]);
        lis_sbuf_printf(&h, "],\"data_offsets\":[%zu,%zu]}", off, off + nb);
        off += nb;
    }
    lis_sbuf_printf(&h, "}");
    while (h.len % 8) lis_sbuf_printf(&h, " "); /* keep the data 8-byte aligned */
    if (h.oom) { lis_sbuf_free(&h); return lis_err_set("out of memory"); }
    lis_atomic_file a;
    lis_status s = lis_atomic_open(&a, path);
    if (s != LIS_OK) { lis_sbuf_free(&h); return s; }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    lis_atomic_write(&a, len8, 8);
    lis_atomic_write(&a, h.s, h.len);
    for (size_t i = 0; i < w->n; i++) {
        lis_st_wentry *e = &w->e[i];
        size_t nb = lis_dtype_size(e->dtype);
        for (int d = 0; d < e->ndim; d++) nb *= (size_t)e->shape[d];
        lis_atomic_write(&a, e->data, nb);
    }
    lis_sbuf_free(&h);
    return lis_atomic_commit(&a);
}

void lis_st_writer_free(lis_st_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) free(w->e[i].name);
    for (size_t i = 0; i < w->nmeta; i++) { free(w->mkeys[i]); free(w->mvals[i]); }
    free(w->e);
    free(w->mkeys);
    free(w->mvals);
    memset(w, 0, sizeof *w);
}
