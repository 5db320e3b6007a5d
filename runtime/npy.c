/* npy.c — .npy reader (validated) and writer (atomic). */
#include "runtime/npy.h"

#include <string.h>

#include "runtime/fileio.h"

static const char *skip_sp(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/* Finds the value text after 'key': in the header dict. */
static const char *find_key(const char *h, size_t n, const char *key) {
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 2 <= n; i++) {
        if ((h[i] == '\'' || h[i] == '"') && memcmp(h + i + 1, key, kl) == 0 && h[i + 1 + kl] == h[i]) {
            const char *p = skip_sp(h + i + kl + 2, h + n);
            if (p < h + n && *p == ':') return skip_sp(p + 1, h + n);
        }
    }
    return NULL;
}

static lis_status parse_descr(const char *p, const char *e, lis_dtype *dt, const char *label) {
    if (p >= e || (*p != '\'' && *p != '"')) return lis_err_set("%s: npy header: bad 'descr'", label);
    char q = *p++;
    const char *s = p;
    while (p < e && *p != q) p++;
    if (p >= e) return lis_err_set("%s: npy header: bad 'descr'", label);
    size_t n = (size_t)(p - s);
    static const struct { const char *d; lis_dtype t; } map[] = {
        {"<f4", LIS_DTYPE_F32}, {"<f8", LIS_DTYPE_F64}, {"<f2", LIS_DTYPE_F16}, {"<i8", LIS_DTYPE_I64},
        {"<i4", LIS_DTYPE_I32}, {"<i2", LIS_DTYPE_I16}, {"|i1", LIS_DTYPE_I8},  {"|u1", LIS_DTYPE_U8},
        {"|b1", LIS_DTYPE_BOOL},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (n == 3 && memcmp(s, map[i].d, 3) == 0) { *dt = map[i].t; return LIS_OK; }
    return lis_err_set("%s: npy dtype '%.*s' is not supported (little-endian f2/f4/f8, i1-i8, u1, b1 are)", label,
                       (int)(n > 20 ? 20 : n), s);
}

lis_status lis_npy_parse(const unsigned char *buf, size_t size, lis_tensor *t, const char *label) {
    memset(t, 0, sizeof *t);
    if (size < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) return lis_err_set("%s: not a .npy file (bad magic)", label);
    int major = buf[6];
    size_t hl, hoff;
    if (major == 1) { hl = buf[8] | (size_t)buf[9] << 8; hoff = 10; }
    else if (major == 2 || major == 3) {
        if (size < 12) return lis_err_set("%s: truncated .npy header", label);
        hl = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hoff = 12;
    } else return lis_err_set("%s: unsupported .npy version %d", label, major);
    if (hl > size - hoff) return lis_err_set("%s: .npy header runs past the end of the file", label);
    const char *h = (const char *)buf + hoff, *he = h + hl;
    const char *p = find_key(h, hl, "descr");
    lis_dtype dt = LIS_DTYPE_F32;
    if (!p) return lis_err_set("%s: npy header has no 'descr'", label);
    LIS_TRY(parse_descr(p, he, &dt, label));
    p = find_key(h, hl, "fortran_order");
    if (!p) return lis_err_set("%s: npy header has no 'fortran_order'", label);
    if ((size_t)(he - p) >= 4 && memcmp(p, "True", 4) == 0) return lis_err_set("%s: Fortran-order arrays are not supported", label);
    if (!((size_t)(he - p) >= 5 && memcmp(p, "False", 5) == 0)) return lis_err_set("%s: npy header: bad 'fortran_order'", label);
    p = find_key(h, hl, "shape");
    if (!p || p >= he || *p != '(') return lis_err_set("%s: npy header has no 'shape' tuple", label);
    p++;
    int64_t shape[LIS_MAX_DIMS];
    int nd = 0;
    size_t nbytes = lis_dtype_size(dt);
    for (;;) {
        p = skip_sp(p, he);
        if (p >= he) return lis_err_set("%s: npy header: unterminated shape", label);
        if (*p == ')') break;
        if (*p < '0' || *p > '9') return lis_err_set("%s: npy header: bad shape", label);
        int64_t v = 0;
        while (p < he && *p >= '0' && *p <= '9') {
            if (v > (INT64_MAX - 9) / 10) return lis_err_set("%s: npy shape too large", label);
            v = v * 10 + (*p++ - '0');
        }
        if (nd == LIS_MAX_DIMS) return lis_err_set("%s: npy array has more than %d dims", label, LIS_MAX_DIMS);
        shape[nd++] = v;
        if (!lis_mul_ok(nbytes, (size_t)v, &nbytes)) return lis_err_set("%s: npy shape too large", label);
        p = skip_sp(p, he);
        if (p < he && *p == ',') p++;
    }
    size_t doff = hoff + hl;
    if (nbytes > size - doff)
        return lis_err_set("%s: .npy data is truncated (%zu bytes, shape needs %zu)", label, size - doff, nbytes);
    LIS_TRY(lis_tensor_alloc(t, dt, nd, shape));
    memcpy(t->data, buf + doff, nbytes);
    return LIS_OK;
}

lis_status lis_npy_read(const char *path, lis_tensor *t) {
    lis_mapped_file m;
    LIS_TRY(lis_map_file(&m, path));
    lis_status s = lis_npy_parse(m.data, m.size, t, path);
    lis_unmap_file(&m);
    return s;
}

lis_status lis_npy_read_f32(const char *path, lis_tensor *t) {
    lis_tensor raw;
    LIS_TRY(lis_npy_read(path, &raw));
    if (raw.dtype == LIS_DTYPE_F32) { *t = raw; return LIS_OK; }
    lis_status s = lis_tensor_to_f32(&raw, t);
    lis_tensor_free(&raw);
    return s;
}

lis_status lis_npy_write(const char *path, const lis_tensor *t) {
    static const char *descr[LIS_DTYPE_COUNT] = {
        [LIS_DTYPE_F32] = "<f4", [LIS_DTYPE_F64] = "<f8", [LIS_DTYPE_F16] = "<f2", [LIS_DTYPE_I64] = "<i8",
        [LIS_DTYPE_I32] = "<i4", [LIS_DTYPE_I16] = "<i2", [LIS_DTYPE_I8] = "|i1", [LIS_DTYPE_U8] = "|u1",
        [LIS_DTYPE_BOOL] = "|b1",
    };
    if ((unsigned)t->dtype >= LIS_DTYPE_COUNT || !descr[t->dtype])
        return lis_err_set("%s: dtype %s cannot be written as .npy", path, lis_dtype_name(t->dtype));
    char h[512];
    int n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr[t->dtype]);
    for (int i = 0; i < t->ndim; i++)
        n += snprintf(h + n, sizeof h - (size_t)n, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    n += snprintf(h + n, sizeof h - (size_t)n, t->ndim == 1 ? ",), }" : "), }"); /* (N,) is a 1-tuple */
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    size_t hl = (size_t)n + pad + 1;
    pre[8] = (unsigned char)(hl & 0xff);
    pre[9] = (unsigned char)(hl >> 8);
    lis_atomic_file a;
    LIS_TRY(lis_atomic_open(&a, path));
    lis_atomic_write(&a, pre, 10);
    lis_atomic_write(&a, h, (size_t)n);
    for (size_t i = 0; i < pad; i++) lis_atomic_write(&a, " ", 1);
    lis_atomic_write(&a, "\n", 1);
    lis_atomic_write(&a, t->data, lis_tensor_nbytes(t));
    return lis_atomic_commit(&a);
}

lis_status lis_npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape) {
    lis_tensor t = {.dtype = LIS_DTYPE_F32, .ndim = ndim, .data = (void *)data};
    for (int i = 0; i < ndim; i++) t.shape[i] = shape[i];
    return lis_npy_write(path, &t);
}

lis_status lis_npy_write_in(const char *dir, const char *name, lis_dtype dt, int ndim, const int64_t *shape,
                            const void *data) {
    char *path = lis_path_join(dir, name);
    if (!path) return LIS_ERR;
    lis_tensor t = {.dtype = dt, .ndim = ndim, .data = (void *)data};
    for (int i = 0; i < ndim; i++) t.shape[i] = shape[i];
    lis_status s = lis_npy_write(path, &t);
    free(path);
    return s;
}
