/* torch_file.c — torch.save zip and legacy formats (see torch_file.h). */
#include "weights_tools/torch_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TORCH_MAX_KEY 64

/* legacy magic number 0x1950a86a20f9469cfc6c as LONG1 bytes (little-endian) */
static const unsigned char legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

int lis_torch_is_legacy(const unsigned char *h, size_t n) {
    /* \x80\x02 PROTO 2, \x8a\x0a LONG1 of 10 bytes */
    return n >= 14 && h[0] == 0x80 && h[1] == 2 && h[2] == 0x8a && h[3] == 10 && !memcmp(h + 4, legacy_magic, 10);
}

/* ---- persistent id -> storage: an open-addressing table keyed by the storage key ---- */
struct lis_torch_storages {
    lis_pk **slot;     /* STORAGE nodes */
    size_t cap, n;
    lis_pk **order;    /* in first-use order */
    size_t ocap;
};

static uint64_t hash_key(const unsigned char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static int same_key(const lis_pk *k, const lis_pk *x) { return k->len == x->len && !memcmp(k->p, x->p, k->len); }

static void storages_free(lis_torch_storages *t) {
    if (!t) return;
    free(t->slot);
    free(t->order);
    free(t);
}

static lis_pk **storages_find(lis_torch_storages *t, const lis_pk *key) {
    size_t m = t->cap - 1, i = (size_t)hash_key(key->p, key->len) & m;
    while (t->slot[i] && !same_key(t->slot[i]->u.storage.key, key)) i = (i + 1) & m;
    return &t->slot[i];
}

static lis_status storages_add(lis_torch_storages *t, lis_pk *s) {
    if (2 * (t->n + 1) > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        lis_pk **old = t->slot;
        size_t ocap = t->cap;
        t->slot = calloc(cap, sizeof *t->slot);
        if (!t->slot) { t->slot = old; return lis_err_set("out of memory"); }
        t->cap = cap;
        for (size_t i = 0; i < ocap; i++) if (old[i]) *storages_find(t, old[i]->u.storage.key) = old[i];
        free(old);
        lis_pk **no = realloc(t->order, cap * sizeof *no);
        if (!no) return lis_err_set("out of memory");
        t->order = no;
        t->ocap = cap;
    }
    *storages_find(t, s->u.storage.key) = s;
    t->order[t->n++] = s;
    return LIS_OK;
}

static lis_pk *storages_get(lis_torch_storages *t, const lis_pk *key) {
    return t->cap ? *storages_find(t, key) : NULL;
}

static int key_ok(const lis_pk *k) {
    if (!k || k->type != LIS_PK_STR || k->len == 0 || k->len > TORCH_MAX_KEY) return 0;
    for (size_t i = 0; i < k->len; i++)
        if (k->p[i] <= ' ' || k->p[i] >= 0x7f || k->p[i] == '/') return 0;
    return 1;
}

/* BINPERSID: ('storage', <storage type>, key, location, numel[, view_metadata]) */
static lis_status persistent_load(void *ctx, lis_pk_vm *vm, const lis_pk *pid, lis_pk **out) {
    lis_torch_storages *t = ctx;
    lis_dtype dt;
    if (!pid || pid->type != LIS_PK_TUPLE || (pid->n != 5 && pid->n != 6) || !lis_pk_is_str(pid->items[0], "storage"))
        return lis_err_set("persistent id is not a ('storage', type, key, location, numel) tuple");
    if (!lis_pk_storage_dtype(pid->items[1], &dt)) return lis_err_set("persistent id: the storage type is not a torch storage class");
    const lis_pk *key = pid->items[2], *numel = pid->items[4];
    if (!key_ok(key)) return lis_err_set("persistent id: bad storage key");
    if (pid->items[3]->type != LIS_PK_STR) return lis_err_set("persistent id: the location is not a string");
    if (numel->type != LIS_PK_INT || numel->i < 0 || (uint64_t)numel->i > SIZE_MAX / lis_dtype_size(dt))
        return lis_err_set("persistent id: bad element count");
    if (pid->n == 6 && pid->items[5]->type != LIS_PK_NONE)
        return lis_err_set("persistent id: storage views (view_metadata) of torch < 0.4 are not supported");
    lis_pk *s = storages_get(t, key);
    if (s) {
        if (s->u.storage.dtype != dt || s->u.storage.numel != numel->i) {
            char k[TORCH_MAX_KEY + 1];
            return lis_err_set("storage '%s' is declared twice with different types or sizes", lis_pk_str(key, k, sizeof k));
        }
        *out = s;
        return LIS_OK;
    }
    s = lis_pk_new(vm, LIS_PK_STORAGE);
    if (!s) return LIS_ERR;
    s->u.storage.dtype = dt;
    s->u.storage.key = key;
    s->u.storage.numel = numel->i;
    LIS_TRY(storages_add(t, s));
    *out = s;
    return LIS_OK;
}

/* ---- legacy stream ---- */
static lis_status legacy_parse(lis_pk_vm *vm, lis_torch_storages *t, const unsigned char *buf, size_t size,
                               const char *label, lis_pk **root, size_t *end) {
    char lab[5][600];
    static const char *what[5] = {"magic number", "protocol version", "system info", "object", "storage keys"};
    lis_pk *v[5];
    size_t pos = 0;
    for (int i = 0; i < 5; i++) {
        snprintf(lab[i], sizeof lab[i], "%s: pickle %d (%s)", label, i + 1, what[i]);
        lis_pk_run_opts ro = {lab[i], i == 3 ? persistent_load : NULL, t};
        LIS_TRY(lis_pk_run(vm, &ro, buf, size, &pos, &v[i]));
        if (i == 0 && (v[0]->type != LIS_PK_BIGINT || v[0]->len != 10 || memcmp(v[0]->p, legacy_magic, 10)))
            return lis_err_set("%s: not a torch.save stream (wrong magic number)", label);
        if (i == 1 && (v[1]->type != LIS_PK_INT || v[1]->i != 1001))
            return lis_err_set("%s: torch.save protocol version %lld is not supported (1001)", label,
                               v[1]->type == LIS_PK_INT ? (long long)v[1]->i : -1LL);
        if (i == 2) {
            const lis_pk *le = lis_pk_dict_get(v[2], "little_endian");
            if (!le || le->type != LIS_PK_BOOL || !le->i) return lis_err_set("%s: big-endian torch files are not supported", label);
        }
    }
    const lis_pk *keys = v[4];
    if (keys->type != LIS_PK_LIST) return lis_err_set("%s: the storage key list is a %s", label, lis_pk_type_name(keys->type));
    for (size_t i = 0; i < keys->n; i++) {
        char k[TORCH_MAX_KEY + 1];
        lis_pk *s = key_ok(keys->items[i]) ? storages_get(t, keys->items[i]) : NULL;
        lis_pk_str(keys->items[i], k, sizeof k);
        if (!s) return lis_err_set("%s: storage '%s' of the key list is not used by the object", label, k);
        if (s->u.storage.data) return lis_err_set("%s: storage '%s' is listed twice", label, k);
        if (size - pos < 8) return lis_err_set("%s: truncated before storage '%s'", label, k);
        uint64_t cnt = 0;
        for (int b = 7; b >= 0; b--) cnt = (cnt << 8) | buf[pos + (size_t)b];
        pos += 8;
        if (cnt != (uint64_t)s->u.storage.numel)
            return lis_err_set("%s: storage '%s' holds %llu elements but its persistent id says %lld", label, k,
                               (unsigned long long)cnt, (long long)s->u.storage.numel);
        size_t nb = (size_t)cnt * lis_dtype_size(s->u.storage.dtype); /* no overflow: checked in persistent_load */
        if (nb > size - pos)
            return lis_err_set("%s: storage '%s' needs %zu bytes, %zu remain (truncated file)", label, k, nb, size - pos);
        s->u.storage.data = buf + pos;
        s->u.storage.nbytes = nb;
        pos += nb;
    }
    for (size_t i = 0; i < t->n; i++)
        if (!t->order[i]->u.storage.data && t->order[i]->u.storage.numel > 0) {
            char k[TORCH_MAX_KEY + 1];
            return lis_err_set("%s: storage '%s' is used but its data are missing", label,
                               lis_pk_str(t->order[i]->u.storage.key, k, sizeof k));
        }
    *root = v[3];
    *end = pos;
    return LIS_OK;
}

lis_status lis_torch_load_from_bytes(void *ctx, lis_pk_vm *vm, const unsigned char *b, size_t n, lis_pk **out) {
    (void)ctx;
    lis_torch_storages *t = calloc(1, sizeof *t);
    if (!t) return lis_err_set("out of memory");
    lis_pk *root = NULL;
    size_t end = 0;
    lis_status s = legacy_parse(vm, t, b, n, "storage blob", &root, &end);
    if (s == LIS_OK && root->type != LIS_PK_STORAGE) s = lis_err_set("storage blob: holds a %s, not a storage", lis_pk_type_name(root->type));
    if (s == LIS_OK && end != n) s = lis_err_set("storage blob: %zu bytes of trailing data", n - end);
    storages_free(t);
    if (s == LIS_OK) *out = root;
    return s;
}

/* ---- zip archive ---- */
static lis_status keep_owned(lis_torch_file *tf, unsigned char *p) {
    unsigned char **no = realloc(tf->owned, (tf->nowned + 1) * sizeof *no);
    if (!no) { free(p); return lis_err_set("out of memory"); }
    tf->owned = no;
    tf->owned[tf->nowned++] = p;
    return LIS_OK;
}

static lis_status zip_parse(lis_torch_file *tf, lis_zip *z) {
    /* the archive folder: the one entry "<name>/data.pkl" */
    const lis_zip_entry *pkl = NULL;
    for (size_t i = 0; i < z->n; i++) {
        const char *nm = z->e[i].name, *sl = strchr(nm, '/');
        if (sl && sl != nm && !strcmp(sl, "/data.pkl")) {
            if (pkl) return lis_err_set("%s: two data.pkl entries ('%s', '%s')", tf->label, pkl->name, nm);
            pkl = &z->e[i];
        }
    }
    if (!pkl) return lis_err_set("%s: a zip archive without <name>/data.pkl: not a torch.save file", tf->label);
    size_t alen = (size_t)(strchr(pkl->name, '/') - pkl->name);
    if (alen >= sizeof tf->archive) return lis_err_set("%s: archive name too long", tf->label);
    memcpy(tf->archive, pkl->name, alen);
    tf->archive[alen] = 0;
    char name[sizeof tf->archive + 96];
    const unsigned char *d;
    unsigned char *own;
    snprintf(name, sizeof name, "%s/byteorder", tf->archive);
    const lis_zip_entry *bo = lis_zip_find(z, name);
    if (bo) {
        LIS_TRY(lis_zip_read(z, bo, &d, &own));
        int little = (bo->usize == 6 || (bo->usize == 7 && d[6] == '\n')) && !memcmp(d, "little", 6);
        free(own);
        if (!little) return lis_err_set("%s: big-endian torch files are not supported", tf->label);
    }
    LIS_TRY(lis_zip_read(z, pkl, &d, &own));
    if (own) LIS_TRY(keep_owned(tf, own));
    char lab[700];
    snprintf(lab, sizeof lab, "%s: %s", tf->label, pkl->name);
    lis_pk_run_opts ro = {lab, persistent_load, tf->st};
    size_t pos = 0;
    LIS_TRY(lis_pk_run(tf->vm, &ro, d, (size_t)pkl->usize, &pos, &tf->root));
    if (pos != pkl->usize) return lis_err_set("%s: %zu bytes after the pickle's STOP", lab, (size_t)pkl->usize - pos);
    for (size_t i = 0; i < tf->st->n; i++) {
        lis_pk *s = tf->st->order[i];
        char k[TORCH_MAX_KEY + 1];
        lis_pk_str(s->u.storage.key, k, sizeof k);
        snprintf(name, sizeof name, "%s/data/%s", tf->archive, k);
        const lis_zip_entry *e = lis_zip_find(z, name);
        if (!e) return lis_err_set("%s: storage '%s' is used but the entry '%s' is missing", tf->label, k, name);
        size_t need = (size_t)s->u.storage.numel * lis_dtype_size(s->u.storage.dtype);
        if (e->usize < need)
            return lis_err_set("%s: entry '%s' holds %llu bytes; storage '%s' needs %zu (%lld x %s)", tf->label, name,
                               (unsigned long long)e->usize, k, need, (long long)s->u.storage.numel,
                               lis_dtype_name(s->u.storage.dtype));
        LIS_TRY(lis_zip_read(z, e, &d, &own));
        if (own) LIS_TRY(keep_owned(tf, own));
        s->u.storage.data = d;
        s->u.storage.nbytes = (size_t)e->usize;
    }
    return LIS_OK;
}

lis_status lis_torch_parse(lis_torch_file *tf, const unsigned char *buf, size_t size, const char *label,
                           uint64_t zip_inflate_limit) {
    lis_mapped_file keep = tf->map; /* set by lis_torch_open */
    memset(tf, 0, sizeof *tf);
    tf->map = keep;
    snprintf(tf->label, sizeof tf->label, "%s", label);
    tf->st = calloc(1, sizeof *tf->st);
    if (!tf->st) return lis_err_set("out of memory");
    lis_pk_opts o = {.label = tf->label};
    lis_status s = lis_pk_vm_init(&tf->vm, &o);
    if (s != LIS_OK) return s;
    if (lis_torch_is_legacy(buf, size)) {
        size_t end;
        tf->legacy = 1;
        s = legacy_parse(tf->vm, tf->st, buf, size, tf->label, &tf->root, &end);
        if (s == LIS_OK && end != size) s = lis_err_set("%s: %zu bytes of trailing data after the last storage", tf->label, size - end);
        return s;
    }
    if (size < 4 || memcmp(buf, "PK\3\4", 4))
        return lis_err_set("%s: neither a zip archive nor a legacy torch.save stream", tf->label);
    lis_zip z;
    LIS_TRY(lis_zip_open(&z, buf, size, tf->label));
    if (zip_inflate_limit) z.inflate_limit = zip_inflate_limit;
    s = zip_parse(tf, &z);
    lis_zip_close(&z);
    return s;
}

lis_status lis_torch_open(lis_torch_file *tf, const char *path) {
    memset(tf, 0, sizeof *tf);
    LIS_TRY(lis_map_file(&tf->map, path));
    return lis_torch_parse(tf, tf->map.data, tf->map.size, path, 0);
}

void lis_torch_close(lis_torch_file *tf) {
    if (!tf) return;
    lis_pk_vm_free(tf->vm);
    storages_free(tf->st);
    for (size_t i = 0; i < tf->nowned; i++) free(tf->owned[i]);
    free(tf->owned);
    lis_unmap_file(&tf->map);
    memset(tf, 0, sizeof *tf);
}
