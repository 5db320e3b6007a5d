/* synth_init.c — the synth-init formula, manifest parsing and in-memory weight sets
 * (see synth_init.h and spec/synth_init.md). Matches tools' Python generator bit for bit:
 * all arithmetic is on uint32 and the values are exact dyadic floats. */
#include "weights_tools/synth_init.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "runtime/fileio.h"

uint32_t lis_fnv1a32(const char *s) {
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h;
}

void lis_synth_init_fill(const char *name, lis_synth_kind kind, int s, float *out, size_t n) {
    LIS_ASSERT(kind != LIS_SYNTH_SHIPPED);
    LIS_ASSERT(kind != LIS_SYNTH_UNIFORM || (s >= 0 && s <= 100));
    uint32_t x = lis_fnv1a32(name) ^ 0x9E3779B9u;
    if (x == 0) x = 0x6D2B79F5u;
    /* 2^-(23+s) built exactly; ldexp would do too, but this keeps libm out of it. */
    double scale = 1.0;
    if (kind == LIS_SYNTH_UNIFORM)
        for (int i = 0; i < 23 + s; i++) scale *= 0.5;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        switch (kind) {
        case LIS_SYNTH_UNIFORM: {
            int32_t k = (int32_t)(x >> 8) - 8388608;
            out[i] = (float)((double)k * scale); /* exact: |k| < 2^24 */
            break;
        }
        case LIS_SYNTH_POSITIVE: {
            int32_t k = (int32_t)(x >> 10) - 2097152;
            out[i] = (float)(1.0 + (double)k * (1.0 / 8388608.0)); /* exact: 1 + k*2^-23, |k| <= 2^21 */
            break;
        }
        default: out[i] = 0.0f; break;
        }
    }
}

/* ---- manifest ---- */

static const char *kind_names[] = {"uniform", "positive", "zero", "shipped"};

void lis_manifest_free(lis_manifest *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) free(m->e[i].name);
    free(m->e);
    free(m->path);
    memset(m, 0, sizeof *m);
}

const lis_manifest_entry *lis_manifest_find(const lis_manifest *m, const char *name) {
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].name, name) == 0) return &m->e[i];
    return NULL;
}

/* Parses "64x3x7x7" or "scalar". Each dim: decimal digits only, >= 1, <= INT32_MAX. */
static int parse_shape(const char *s, lis_manifest_entry *e) {
    if (strcmp(s, "scalar") == 0) { e->ndim = 0; return 1; }
    e->ndim = 0;
    const char *p = s;
    for (;;) {
        if (*p < '0' || *p > '9') return 0;
        int64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0');
            if (v > INT32_MAX) return 0;
            p++;
        }
        if (v < 1 || e->ndim == LIS_MAX_DIMS) return 0;
        e->shape[e->ndim++] = v;
        if (*p == 0) return 1;
        if (*p != 'x') return 0;
        p++;
    }
}

static lis_status parse_line(lis_manifest_entry *e, char *line, const char *label, int lineno) {
    char *f[5];
    int nf = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
        if (nf == 5) break;
        f[nf++] = tok;
    }
    if (nf != 4)
        return lis_err_set("%s:%d: expected 4 fields '<name> <kind> <s> <shape>', found %s%d", label, lineno,
                           nf > 4 ? "more than " : "", nf > 4 ? 4 : nf);
    int kind = -1;
    for (int k = 0; k < 4; k++)
        if (strcmp(f[1], kind_names[k]) == 0) kind = k;
    if (kind < 0)
        return lis_err_set("%s:%d: unknown kind '%s' (uniform, positive, zero or shipped)", label, lineno, f[1]);
    e->kind = (lis_synth_kind)kind;
    if (kind == LIS_SYNTH_UNIFORM) {
        char *end;
        errno = 0;
        long s = strtol(f[2], &end, 10);
        if (errno || *end || f[2][0] == '-' || f[2][0] == '+' || s < 0 || s > 100)
            return lis_err_set("%s:%d: exponent '%s' is not an integer in [0, 100]", label, lineno, f[2]);
        e->s = (int)s;
    } else {
        if (strcmp(f[2], "-") != 0)
            return lis_err_set("%s:%d: kind '%s' takes '-' as exponent, found '%s'", label, lineno, f[1], f[2]);
        e->s = -1;
    }
    if (!parse_shape(f[3], e))
        return lis_err_set("%s:%d: bad shape '%s' (dims >= 1 joined by 'x', or 'scalar')", label, lineno, f[3]);
    e->name = strdup(f[0]);
    e->line = lineno;
    return e->name ? LIS_OK : lis_err_set("out of memory");
}

lis_status lis_manifest_parse(lis_manifest *m, const char *text, size_t len, const char *label) {
    memset(m, 0, sizeof *m);
    lis_status s = LIS_OK;
    size_t cap = 0;
    m->path = strdup(label);
    if (!m->path) return lis_err_set("out of memory");
    int lineno = 0;
    for (size_t pos = 0; pos < len && s == LIS_OK;) {
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        lineno++;
        size_t n = end - pos;
        if (memchr(text + pos, 0, n)) { s = lis_err_set("%s:%d: NUL byte in line", label, lineno); break; }
        char *line = malloc(n + 1);
        if (!line) { s = lis_err_set("out of memory"); break; }
        memcpy(line, text + pos, n);
        line[n] = 0;
        pos = end + 1;
        const char *q = line;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (*q == 0 || *q == '#') { free(line); continue; }
        if (m->n == cap) {
            cap = cap ? cap * 2 : 256;
            lis_manifest_entry *ne = realloc(m->e, cap * sizeof *ne);
            if (!ne) { free(line); s = lis_err_set("out of memory"); break; }
            m->e = ne;
        }
        lis_manifest_entry *e = &m->e[m->n];
        memset(e, 0, sizeof *e);
        s = parse_line(e, line, label, lineno);
        free(line);
        if (s != LIS_OK) break;
        const lis_manifest_entry *dup = lis_manifest_find(m, e->name);
        m->n++;
        if (dup) s = lis_err_set("%s:%d: tensor '%s' already listed on line %d", label, lineno, e->name, dup->line);
    }
    if (s != LIS_OK) lis_manifest_free(m);
    return s;
}

lis_status lis_manifest_read(lis_manifest *m, const char *path) {
    char *text = NULL;
    size_t len = 0;
    memset(m, 0, sizeof *m);
    if (lis_read_file(path, &text, &len) != LIS_OK) return LIS_ERR;
    lis_status s = lis_manifest_parse(m, text, len, path);
    free(text);
    return s;
}

/* ---- in-memory weight set ---- */

lis_status lis_synth_build(lis_safetensors *out, const lis_manifest *m, const lis_safetensors *shipped) {
    memset(out, 0, sizeof *out);
    size_t total = 0;
    for (size_t i = 0; i < m->n; i++) {
        size_t numel = 1;
        for (int d = 0; d < m->e[i].ndim; d++)
            if (!lis_mul_ok(numel, (size_t)m->e[i].shape[d], &numel))
                return lis_err_set("%s: '%s' too large", m->path, m->e[i].name);
        /* round each tensor up to 16 floats so every tensor starts 64-byte aligned */
        if (!lis_add_ok(total, (numel + 15) & ~(size_t)15, &total)) return lis_err_set("%s: too large", m->path);
    }
    size_t bytes;
    if (!lis_mul_ok(total ? total : 1, sizeof(float), &bytes)) return lis_err_set("%s: too large", m->path);
    float *data = lis_alloc_aligned(bytes, "synth-init weights");
    if (!data) return LIS_ERR;
    /* The set owns its data through out->file (mapped = 0: lis_st_close frees it). */
    out->file.data = (const unsigned char *)data;
    out->file.size = bytes;
    out->file.mapped = 0;
    out->path = strdup(m->path);
    out->entries = calloc(m->n ? m->n : 1, sizeof *out->entries);
    if (!out->path || !out->entries) { lis_st_close(out); return lis_err_set("out of memory"); }
    size_t off = 0;
    for (size_t i = 0; i < m->n; i++) {
        const lis_manifest_entry *e = &m->e[i];
        lis_st_entry *se = &out->entries[i];
        se->t.dtype = LIS_DTYPE_F32;
        se->t.ndim = e->ndim;
        memcpy(se->t.shape, e->shape, sizeof e->shape);
        se->t.data = data + off;
        se->t.owns = 0;
        size_t numel = (size_t)lis_tensor_numel(&se->t);
        off += (numel + 15) & ~(size_t)15;
        se->name = strdup(e->name);
        if (!se->name) { lis_st_close(out); return lis_err_set("out of memory"); }
        out->n = i + 1;
        if (e->kind != LIS_SYNTH_SHIPPED) {
            lis_synth_init_fill(e->name, e->kind, e->s, se->t.data, numel);
            continue;
        }
        const lis_st_entry *src = shipped ? lis_st_find(shipped, e->name) : NULL;
        if (!src) {
            lis_status s = lis_err_set("%s:%d: '%s' is 'shipped' but %s", m->path, e->line, e->name,
                                       shipped ? "missing from the shipped weights file"
                                               : "no shipped weights file was given");
            lis_st_close(out);
            return s;
        }
        int same = src->t.ndim == e->ndim;
        for (int d = 0; same && d < e->ndim; d++) same = src->t.shape[d] == e->shape[d];
        if (!same) {
            char a[128], b[128];
            lis_status s = lis_err_set("%s: shipped tensor '%s' is %s, manifest line %d says %s",
                                       shipped->path ? shipped->path : "shipped weights", e->name,
                                       lis_shape_str(src->t.ndim, src->t.shape, a, sizeof a), e->line,
                                       lis_shape_str(e->ndim, e->shape, b, sizeof b));
            lis_st_close(out);
            return s;
        }
        lis_tensor f;
        if (lis_tensor_to_f32(&src->t, &f) != LIS_OK) {
            lis_err_prefix("shipped tensor '%s'", e->name);
            lis_st_close(out);
            return LIS_ERR;
        }
        memcpy(se->t.data, f.data, numel * sizeof(float));
        lis_tensor_free(&f);
    }
    return LIS_OK;
}
