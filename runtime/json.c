/* json.c — strict recursive-descent JSON parser with bounded depth. */
#include "runtime/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

typedef struct {
    const char *p, *end, *start;
    int depth;
} parser;

static lis_json *fail(parser *ps, const char *what) {
    lis_err_set("JSON: %s at byte %ld", what, (long)(ps->p - ps->start));
    return NULL;
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static lis_json *node(lis_json_type t) {
    lis_json *j = calloc(1, sizeof *j);
    if (j) j->type = t;
    else lis_err_set("JSON: out of memory");
    return j;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_hex4(parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0) return 0;
        v = v * 16 + (unsigned)h;
    }
    ps->p += 4;
    *out = v;
    return 1;
}

/* Parses a string at ps->p (which points at the opening quote). */
static char *parse_str(parser *ps, size_t *len_out) {
    ps->p++; /* opening quote */
    size_t cap = 16, len = 0;
    char *s = malloc(cap);
    if (!s) { fail(ps, "out of memory"); return NULL; }
    for (;;) {
        if (ps->p >= ps->end) { free(s); fail(ps, "unterminated string"); return NULL; }
        unsigned char c = (unsigned char)*ps->p++;
        unsigned cp;
        char tmp[4];
        int n = 0;
        if (c == '"') break;
        if (c < 0x20) { free(s); fail(ps, "control character in string"); return NULL; }
        if (c == '\\') {
            if (ps->p >= ps->end) { free(s); fail(ps, "unterminated escape"); return NULL; }
            char e = *ps->p++;
            switch (e) {
            case '"': tmp[n++] = '"'; break;
            case '\\': tmp[n++] = '\\'; break;
            case '/': tmp[n++] = '/'; break;
            case 'b': tmp[n++] = '\b'; break;
            case 'f': tmp[n++] = '\f'; break;
            case 'n': tmp[n++] = '\n'; break;
            case 'r': tmp[n++] = '\r'; break;
            case 't': tmp[n++] = '\t'; break;
            case 'u':
                if (!read_hex4(ps, &cp)) { free(s); fail(ps, "bad \\u escape"); return NULL; }
                if (cp >= 0xD800 && cp <= 0xDBFF) { /* surrogate pair */
                    unsigned lo;
                    if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') { free(s); fail(ps, "lone surrogate"); return NULL; }
                    ps->p += 2;
                    if (!read_hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) { free(s); fail(ps, "bad surrogate pair"); return NULL; }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) { free(s); fail(ps, "lone surrogate"); return NULL; }
                if (cp == 0) { free(s); fail(ps, "NUL character in string"); return NULL; }
                if (cp < 0x80) tmp[n++] = (char)cp;
                else if (cp < 0x800) { tmp[n++] = (char)(0xC0 | (cp >> 6)); tmp[n++] = (char)(0x80 | (cp & 0x3F)); }
                else if (cp < 0x10000) {
                    tmp[n++] = (char)(0xE0 | (cp >> 12)); tmp[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    tmp[n++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    tmp[n++] = (char)(0xF0 | (cp >> 18)); tmp[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                    tmp[n++] = (char)(0x80 | ((cp >> 6) & 0x3F)); tmp[n++] = (char)(0x80 | (cp & 0x3F));
                }
                break;
            default: free(s); fail(ps, "bad escape"); return NULL;
            }
        } else tmp[n++] = (char)c;
        if (len + (size_t)n + 1 > cap) {
            cap *= 2;
            char *ns = realloc(s, cap);
            if (!ns) { free(s); fail(ps, "out of memory"); return NULL; }
            s = ns;
        }
        memcpy(s + len, tmp, (size_t)n);
        len += (size_t)n;
    }
    s[len] = 0;
    *len_out = len;
    return s;
}

static lis_json *parse_value(parser *ps);

static int push_child(lis_json *j, lis_json *child, char *key) {
    if ((j->len & (j->len - 1)) == 0) { /* grow at powers of two */
        size_t cap = j->len ? j->len * 2 : 4;
        lis_json **ni = realloc(j->items, cap * sizeof *ni);
        if (!ni) return 0;
        j->items = ni;
        if (j->type == LIS_JSON_OBJ) {
            char **nk = realloc(j->keys, cap * sizeof *nk);
            if (!nk) return 0;
            j->keys = nk;
        }
    }
    j->items[j->len] = child;
    if (j->type == LIS_JSON_OBJ) j->keys[j->len] = key;
    j->len++;
    return 1;
}

static lis_json *parse_container(parser *ps, int is_obj) {
    if (++ps->depth > JSON_MAX_DEPTH) return fail(ps, "nesting too deep");
    lis_json *j = node(is_obj ? LIS_JSON_OBJ : LIS_JSON_ARR);
    if (!j) return NULL;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) { ps->p++; ps->depth--; return j; }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (is_obj) {
            size_t kl;
            if (ps->p >= ps->end || *ps->p != '"') { lis_json_free(j); return fail(ps, "expected object key"); }
            key = parse_str(ps, &kl);
            if (!key) { lis_json_free(j); return NULL; }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { free(key); lis_json_free(j); return fail(ps, "expected ':'"); }
            ps->p++;
        }
        lis_json *v = parse_value(ps);
        if (!v) { free(key); lis_json_free(j); return NULL; }
        if (!push_child(j, v, key)) { free(key); lis_json_free(v); lis_json_free(j); return fail(ps, "out of memory"); }
        skip_ws(ps);
        if (ps->p >= ps->end) { lis_json_free(j); return fail(ps, "unexpected end"); }
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == (is_obj ? '}' : ']')) { ps->p++; break; }
        lis_json_free(j);
        return fail(ps, "expected ',' or closing bracket");
    }
    ps->depth--;
    return j;
}

static lis_json *parse_number(parser *ps) {
    const char *q = ps->p;
    if (q < ps->end && *q == '-') q++;
    if (q >= ps->end || !(*q >= '0' && *q <= '9')) return fail(ps, "bad number");
    if (*q == '0') q++;
    else while (q < ps->end && *q >= '0' && *q <= '9') q++;
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || !(*q >= '0' && *q <= '9')) return fail(ps, "bad number");
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || !(*q >= '0' && *q <= '9')) return fail(ps, "bad number");
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    size_t n = (size_t)(q - ps->p);
    if (n > 400) return fail(ps, "number too long");
    char buf[416];
    memcpy(buf, ps->p, n);
    buf[n] = 0;
    lis_json *j = node(LIS_JSON_NUM);
    if (!j) return NULL;
    j->num = strtod(buf, NULL);
    ps->p = q;
    return j;
}

static int lit(parser *ps, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0) return 0;
    ps->p += n;
    return 1;
}

static lis_json *parse_value(parser *ps) {
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, "unexpected end");
    char c = *ps->p;
    if (c == '{') return parse_container(ps, 1);
    if (c == '[') return parse_container(ps, 0);
    if (c == '"') {
        lis_json *j = node(LIS_JSON_STR);
        if (!j) return NULL;
        j->str = parse_str(ps, &j->len);
        if (!j->str) { free(j); return NULL; }
        return j;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps);
    lis_json *j;
    if (lit(ps, "true")) { if ((j = node(LIS_JSON_BOOL))) j->num = 1; return j; }
    if (lit(ps, "false")) { if ((j = node(LIS_JSON_BOOL))) j->num = 0; return j; }
    if (lit(ps, "null")) return node(LIS_JSON_NULL);
    /* Python's json.dumps writes NaN / Infinity; accept them as numbers. */
    if (lit(ps, "NaN")) { if ((j = node(LIS_JSON_NUM))) j->num = NAN; return j; }
    if (lit(ps, "Infinity")) { if ((j = node(LIS_JSON_NUM))) j->num = INFINITY; return j; }
    if (lit(ps, "-Infinity")) { if ((j = node(LIS_JSON_NUM))) j->num = -INFINITY; return j; }
    return fail(ps, "unexpected character");
}

lis_json *lis_json_parse(const char *text, size_t n) {
    parser ps = {text, text + n, text, 0};
    lis_json *j = parse_value(&ps);
    if (!j) return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) { lis_json_free(j); return fail(&ps, "trailing characters"); }
    return j;
}

void lis_json_free(lis_json *j) {
    if (!j) return;
    for (size_t i = 0; i < j->len && j->items; i++) {
        lis_json_free(j->items[i]);
        if (j->keys) free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->str);
    free(j);
}

const lis_json *lis_json_get(const lis_json *obj, const char *key) {
    if (!obj || obj->type != LIS_JSON_OBJ) return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
    return NULL;
}

const lis_json *lis_json_path(const lis_json *obj, const char *path) {
    char part[256];
    while (obj && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part) return NULL;
        memcpy(part, path, n);
        part[n] = 0;
        obj = lis_json_get(obj, part);
        path += n + (dot ? 1 : 0);
    }
    return obj;
}

int lis_json_is_int(const lis_json *j) {
    return j && j->type == LIS_JSON_NUM && j->num == floor(j->num) && fabs(j->num) < 9.2e18;
}

lis_status lis_json_int(const lis_json *obj, const char *key, int64_t *out, const char *ctx) {
    const lis_json *v = lis_json_get(obj, key);
    if (!v) return lis_err_set("%s: missing key '%s'", ctx, key);
    if (v->type == LIS_JSON_BOOL) { *out = (int64_t)v->num; return LIS_OK; }
    if (!lis_json_is_int(v)) return lis_err_set("%s: key '%s' must be an integer", ctx, key);
    *out = (int64_t)v->num;
    return LIS_OK;
}

lis_status lis_json_double(const lis_json *obj, const char *key, double *out, const char *ctx) {
    const lis_json *v = lis_json_get(obj, key);
    if (!v) return lis_err_set("%s: missing key '%s'", ctx, key);
    if (v->type != LIS_JSON_NUM) return lis_err_set("%s: key '%s' must be a number", ctx, key);
    *out = v->num;
    return LIS_OK;
}

lis_status lis_json_bool(const lis_json *obj, const char *key, int *out, const char *ctx) {
    const lis_json *v = lis_json_get(obj, key);
    if (!v) return lis_err_set("%s: missing key '%s'", ctx, key);
    if (v->type != LIS_JSON_BOOL) return lis_err_set("%s: key '%s' must be true or false", ctx, key);
    *out = (int)v->num;
    return LIS_OK;
}

lis_status lis_json_int_opt(const lis_json *obj, const char *key, int64_t *out, const char *ctx) {
    const lis_json *v = lis_json_get(obj, key);
    if (!v || v->type == LIS_JSON_NULL) return LIS_OK;
    return lis_json_int(obj, key, out, ctx);
}

lis_status lis_json_double_opt(const lis_json *obj, const char *key, double *out, const char *ctx) {
    const lis_json *v = lis_json_get(obj, key);
    if (!v || v->type == LIS_JSON_NULL) return LIS_OK;
    return lis_json_double(obj, key, out, ctx);
}

void lis_sbuf_printf(lis_sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->oom = 1; return; }
        if ((size_t)n < room && b->s) { b->len += (size_t)n; return; }
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) { b->oom = 1; return; }
        b->s = ns;
        b->cap = cap;
    }
}

void lis_sbuf_json_str(lis_sbuf *b, const char *s) {
    lis_sbuf_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') lis_sbuf_printf(b, "\\%c", *p);
        else if (*p == '\n') lis_sbuf_printf(b, "\\n");
        else if (*p < 0x20) lis_sbuf_printf(b, "\\u%04x", *p);
        else lis_sbuf_printf(b, "%c", *p);
    }
    lis_sbuf_printf(b, "\"");
}

void lis_sbuf_free(lis_sbuf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

void lis_json_write(lis_sbuf *b, const lis_json *j) {
    switch (j->type) {
    case LIS_JSON_NULL: lis_sbuf_printf(b, "null"); break;
    case LIS_JSON_BOOL: lis_sbuf_printf(b, j->num ? "true" : "false"); break;
    case LIS_JSON_NUM:
        if (lis_json_is_int(j)) lis_sbuf_printf(b, "%lld", (long long)j->num);
        else lis_sbuf_printf(b, "%.17g", j->num);
        break;
    case LIS_JSON_STR: lis_sbuf_json_str(b, j->str); break;
    case LIS_JSON_ARR:
    case LIS_JSON_OBJ:
        lis_sbuf_printf(b, j->type == LIS_JSON_ARR ? "[" : "{");
        for (size_t i = 0; i < j->len; i++) {
            if (i) lis_sbuf_printf(b, ",");
            if (j->type == LIS_JSON_OBJ) { lis_sbuf_json_str(b, j->keys[i]); lis_sbuf_printf(b, ":"); }
            lis_json_write(b, j->items[i]);
        }
        lis_sbuf_printf(b, j->type == LIS_JSON_ARR ? "]" : "}");
        break;
    }
}
