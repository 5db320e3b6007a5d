/* cfg.c — INI configuration reader with typed getters, read tracking, --set overrides and
 * a resolved-config writer. Syntax and rules: cfg.h. Parsing never trusts the input: every
 * scan is bounded by the buffer length, NUL and control bytes are rejected, and numbers go
 * through strtol/strtod on a NUL-terminated copy with whole-string and range checks. */
#include "runtime/cfg.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/fileio.h"

#define CFG_MAX_LIST (1L << 24) /* elements in one list, `all` included */

enum { SRC_FILE, SRC_SET, SRC_DEFAULT };

typedef struct {
    char *key;
    char *val;     /* trimmed value text (file/--set) or the formatted default */
    size_t sec;    /* index into lis_cfg.secs */
    long line;     /* file line for SRC_FILE */
    int src;
    int used;      /* a getter read it */
    long *ilist;   /* cached parses of list values (owned) */
    double *dlist;
    size_t nlist;
} cfg_entry;

typedef struct {
    char *name;
    long line;     /* header line in the file, 0 if created by --set or a getter */
    int used;      /* a getter asked about this section */
} cfg_section;

struct lis_cfg {
    char *label;
    cfg_section *secs;
    size_t nsec, capsec;
    cfg_entry *ents;
    size_t nent, capent;
};

/* ---------------------------------------------------------------- helpers */

static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }

static int name_char(char ch, int allow_dot) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '-' || (allow_dot && ch == '.');
}

static int valid_name(const char *s, size_t n, int allow_dot) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i], allow_dot)) return 0;
    return 1;
}

static char *dup_n(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* Position where a comment starts in s[0..n): a '#' or ';' at 0 or after a blank; else n. */
static size_t comment_start(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((s[i] == '#' || s[i] == ';') && (i == 0 || is_blank(s[i - 1]))) return i;
    return n;
}

static void trim(const char **s, size_t *n) {
    while (*n && is_blank(**s)) { (*s)++; (*n)--; }
    while (*n && is_blank((*s)[*n - 1])) (*n)--;
}

static cfg_section *find_sec(const lis_cfg *c, const char *name, size_t *idx) {
    for (size_t i = 0; i < c->nsec; i++)
        if (!strcmp(c->secs[i].name, name)) {
            if (idx) *idx = i;
            return &c->secs[i];
        }
    return NULL;
}

static cfg_entry *find_ent(const lis_cfg *c, const char *sec, const char *key) {
    for (size_t i = 0; i < c->nent; i++) {
        cfg_entry *e = &c->ents[i];
        if (!strcmp(e->key, key) && !strcmp(c->secs[e->sec].name, sec)) return e;
    }
    return NULL;
}

static lis_status add_sec(lis_cfg *c, const char *name, size_t n, long line, size_t *idx) {
    if (c->nsec == c->capsec) {
        size_t cap = c->capsec ? 2 * c->capsec : 8;
        cfg_section *ns = realloc(c->secs, cap * sizeof *ns);
        if (!ns) return lis_err_set("out of memory");
        c->secs = ns;
        c->capsec = cap;
    }
    cfg_section *s = &c->secs[c->nsec];
    memset(s, 0, sizeof *s);
    if (!(s->name = dup_n(name, n))) return lis_err_set("out of memory");
    s->line = line;
    *idx = c->nsec++;
    return LIS_OK;
}

/* Appends an entry taking ownership of key/val only on success. */
static lis_status add_ent(lis_cfg *c, size_t sec, const char *key, size_t nk, const char *val, size_t nv, long line,
                          int src, cfg_entry **out) {
    if (c->nent == c->capent) {
        size_t cap = c->capent ? 2 * c->capent : 16;
        cfg_entry *ne = realloc(c->ents, cap * sizeof *ne);
        if (!ne) return lis_err_set("out of memory");
        c->ents = ne;
        c->capent = cap;
    }
    cfg_entry *e = &c->ents[c->nent];
    memset(e, 0, sizeof *e);
    e->key = dup_n(key, nk);
    e->val = dup_n(val, nv);
    if (!e->key || !e->val) {
        free(e->key);
        free(e->val);
        return lis_err_set("out of memory");
    }
    e->sec = sec;
    e->line = line;
    e->src = src;
    c->nent++;
    if (out) *out = e;
    return LIS_OK;
}

static void clear_lists(cfg_entry *e) {
    free(e->ilist);
    free(e->dlist);
    e->ilist = NULL;
    e->dlist = NULL;
    e->nlist = 0;
}

/* "FILE:LINE", "--set sec.key" or "default of [sec] key" into buf. */
static const char *where(const lis_cfg *c, const cfg_entry *e, char *buf, size_t cap) {
    const char *sec = c->secs[e->sec].name;
    if (e->src == SRC_FILE) snprintf(buf, cap, "%s:%ld", c->label, e->line);
    else if (e->src == SRC_SET) snprintf(buf, cap, "--set %s.%s", sec, e->key);
    else snprintf(buf, cap, "%s: default of [%s] %s", c->label, sec, e->key);
    return buf;
}

static lis_status bad_value(const lis_cfg *c, const cfg_entry *e, const char *why) {
    char w[512];
    return lis_err_usage("%s: key '%s': %s", where(c, e, w, sizeof w), e->key, why);
}

/* ---------------------------------------------------------------- parsing */

lis_status lis_cfg_new(lis_cfg **out, const char *label) {
    *out = NULL;
    lis_cfg *c = calloc(1, sizeof *c);
    if (!c || !(c->label = strdup(label ? label : "config"))) {
        free(c);
        return lis_err_set("out of memory");
    }
    *out = c;
    return LIS_OK;
}

void lis_cfg_free(lis_cfg *c) {
    if (!c) return;
    for (size_t i = 0; i < c->nent; i++) {
        free(c->ents[i].key);
        free(c->ents[i].val);
        clear_lists(&c->ents[i]);
    }
    for (size_t i = 0; i < c->nsec; i++) free(c->secs[i].name);
    free(c->ents);
    free(c->secs);
    free(c->label);
    free(c);
}

static lis_status parse_line(lis_cfg *c, const char *s, size_t n, long line, size_t *cur_sec, int *have_sec) {
    const char *L = c->label;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == 0) return lis_err_usage("%s:%ld: NUL byte in the file", L, line);
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return lis_err_usage("%s:%ld: control character 0x%02x", L, line, ch);
    }
    trim(&s, &n);
    if (n == 0 || s[0] == '#' || s[0] == ';') return LIS_OK;

    if (s[0] == '[') {
        size_t m = comment_start(s, n);
        trim(&s, &m);
        if (m < 2 || s[m - 1] != ']')
            return lis_err_usage("%s:%ld: section header must look like [name]", L, line);
        const char *name = s + 1;
        size_t nn = m - 2;
        trim(&name, &nn);
        if (!valid_name(name, nn, 0))
            return lis_err_usage("%s:%ld: bad section name '%.*s' (letters, digits, '_' and '-' only)", L, line,
                                 (int)(nn > 64 ? 64 : nn), name);
        char tmp[256];
        if (nn >= sizeof tmp) return lis_err_usage("%s:%ld: section name too long", L, line);
        memcpy(tmp, name, nn);
        tmp[nn] = 0;
        cfg_section *old = find_sec(c, tmp, NULL);
        if (old) return lis_err_usage("%s:%ld: duplicate section [%s] (first at line %ld)", L, line, tmp, old->line);
        LIS_TRY(add_sec(c, name, nn, line, cur_sec));
        *have_sec = 1;
        return LIS_OK;
    }

    const char *eq = memchr(s, '=', n);
    if (!eq) return lis_err_usage("%s:%ld: expected 'key = value', '[section]' or a comment", L, line);
    const char *key = s;
    size_t nk = (size_t)(eq - s);
    trim(&key, &nk);
    if (!valid_name(key, nk, 1))
        return lis_err_usage("%s:%ld: bad key '%.*s' (letters, digits, '_', '-' and '.' only)", L, line,
                             (int)(nk > 64 ? 64 : nk), key);
    if (!*have_sec) return lis_err_usage("%s:%ld: key '%.*s' outside of any [section]", L, line, (int)nk, key);
    const char *val = eq + 1;
    size_t nv = n - (size_t)(eq + 1 - s);
    nv = comment_start(val, nv);
    trim(&val, &nv);
    char tk[256];
    if (nk >= sizeof tk) return lis_err_usage("%s:%ld: key too long", L, line);
    memcpy(tk, key, nk);
    tk[nk] = 0;
    cfg_entry *old = find_ent(c, c->secs[*cur_sec].name, tk);
    if (old)
        return lis_err_usage("%s:%ld: duplicate key '%s' in section [%s] (first set at line %ld)", L, line, tk,
                             c->secs[*cur_sec].name, old->line);
    return add_ent(c, *cur_sec, key, nk, val, nv, line, SRC_FILE, NULL);
}

lis_status lis_cfg_parse(lis_cfg **out, const char *text, size_t len, const char *label) {
    *out = NULL;
    lis_cfg *c;
    LIS_TRY(lis_cfg_new(&c, label));
    size_t pos = 0;
    if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb && (unsigned char)text[2] == 0xbf)
        pos = 3;
    long line = 0;
    size_t cur = 0;
    int have_sec = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t n = end - pos;
        if (n && text[pos + n - 1] == '\r') n--;
        if (line == LONG_MAX) { lis_cfg_free(c); return lis_err_usage("%s: too many lines", label); }
        line++;
        lis_status s = parse_line(c, text + pos, n, line, &cur, &have_sec);
        if (s != LIS_OK) { lis_cfg_free(c); return s; }
        pos = end + 1;
    }
    *out = c;
    return LIS_OK;
}

lis_status lis_cfg_load(lis_cfg **out, const char *path) {
    *out = NULL;
    char *text;
    size_t len;
    LIS_TRY(lis_read_file(path, &text, &len));
    lis_status s = lis_cfg_parse(out, text, len, path);
    free(text);
    return s;
}

lis_status lis_cfg_set_override(lis_cfg *c, const char *spec) {
    const char *eq = strchr(spec, '=');
    const char *dot = eq ? memchr(spec, '.', (size_t)(eq - spec)) : NULL;
    if (!eq || !dot) return lis_err_usage("--set '%s': expected section.key=value", spec);
    const char *sec = spec, *key = dot + 1, *val = eq + 1;
    size_t ns = (size_t)(dot - spec), nk = (size_t)(eq - key), nv = strlen(val);
    trim(&sec, &ns);
    trim(&key, &nk);
    trim(&val, &nv);
    if (!valid_name(sec, ns, 0)) return lis_err_usage("--set '%s': bad section name", spec);
    if (!valid_name(key, nk, 1)) return lis_err_usage("--set '%s': bad key", spec);
    if (ns >= 256 || nk >= 256) return lis_err_usage("--set '%s': name too long", spec);
    for (size_t i = 0; i < nv; i++) {
        unsigned char ch = (unsigned char)val[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return lis_err_usage("--set '%s': control character in the value", spec);
    }
    /* the value must survive lis_cfg_write + re-parse */
    if (comment_start(val, nv) != nv)
        return lis_err_usage("--set '%s': a '#' or ';' at the start of the value or after a blank would begin a comment",
                             spec);
    char ts[256], tk[256];
    memcpy(ts, sec, ns);
    ts[ns] = 0;
    memcpy(tk, key, nk);
    tk[nk] = 0;
    cfg_entry *e = find_ent(c, ts, tk);
    if (e) {
        char *nvs = dup_n(val, nv);
        if (!nvs) return lis_err_set("out of memory");
        free(e->val);
        e->val = nvs;
        e->src = SRC_SET;
        clear_lists(e);
        return LIS_OK;
    }
    size_t si;
    if (!find_sec(c, ts, &si)) LIS_TRY(add_sec(c, sec, ns, 0, &si));
    return add_ent(c, si, key, nk, val, nv, 0, SRC_SET, NULL);
}

int lis_cfg_has(const lis_cfg *c, const char *sec, const char *key) {
    const cfg_entry *e = find_ent(c, sec, key);
    return e && e->src != SRC_DEFAULT;
}

/* ---------------------------------------------------------------- getters */

/* Finds (sec, key), or records the default text; marks both read. */
static lis_status lookup(lis_cfg *c, const char *sec, const char *key, const char *deftext, cfg_entry **out) {
    size_t si;
    cfg_section *s = find_sec(c, sec, &si);
    if (!s) {
        LIS_TRY(add_sec(c, sec, strlen(sec), 0, &si));
        s = &c->secs[si];
    }
    s->used = 1;
    cfg_entry *e = find_ent(c, sec, key);
    if (!e) LIS_TRY(add_ent(c, si, key, strlen(key), deftext, strlen(deftext), 0, SRC_DEFAULT, &e));
    e->used = 1;
    *out = e;
    return LIS_OK;
}

static int parse_long_str(const char *s, long *v) {
    if (!*s || is_blank(*s)) return 0;
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end) return 0;
    *v = x;
    return 1;
}

static int parse_double_str(const char *s, double *v) {
    if (!*s || is_blank(*s)) return 0;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || !isfinite(x)) return 0;
    if (errno == ERANGE && x != 0) return 0; /* overflow (underflow to a subnormal is fine) */
    *v = x;
    return 1;
}

/* Shortest %g form that reads back as the same double. */
/* text (the value, or one element of a list) as a finite number in [lo, hi] */
static lis_status parse_double_in(const lis_cfg *c, const cfg_entry *e, const char *text, double lo, double hi,
                                  double *v) {
    char why[256];
    if (!parse_double_str(text, v)) {
        snprintf(why, sizeof why, "'%.64s' is not a finite number", text);
        return bad_value(c, e, why);
    }
    if (!(*v >= lo && *v <= hi)) {
        snprintf(why, sizeof why, "%g is out of range [%g, %g]", *v, lo, hi);
        return bad_value(c, e, why);
    }
    return LIS_OK;
}

static void fmt_double(char *buf, size_t cap, double v) {
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, cap, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
}

lis_status lis_cfg_get_str(lis_cfg *c, const char *sec, const char *key, const char *def, const char **out) {
    cfg_entry *e;
    LIS_TRY(lookup(c, sec, key, def ? def : "", &e));
    *out = e->val;
    return LIS_OK;
}

lis_status lis_cfg_get_int(lis_cfg *c, const char *sec, const char *key, long def, long lo, long hi, long *out) {
    char d[32];
    snprintf(d, sizeof d, "%ld", def);
    cfg_entry *e;
    LIS_TRY(lookup(c, sec, key, d, &e));
    char why[256];
    long v;
    if (!*e->val) return bad_value(c, e, "empty value (expected an integer)");
    if (!parse_long_str(e->val, &v)) {
        snprintf(why, sizeof why, "'%.64s' is not an integer", e->val);
        return bad_value(c, e, why);
    }
    if (v < lo || v > hi) {
        snprintf(why, sizeof why, "%ld is out of range [%ld, %ld]", v, lo, hi);
        return bad_value(c, e, why);
    }
    *out = v;
    return LIS_OK;
}

lis_status lis_cfg_get_double(lis_cfg *c, const char *sec, const char *key, double def, double lo, double hi,
                              double *out) {
    char d[40];
    fmt_double(d, sizeof d, def);
    cfg_entry *e;
    LIS_TRY(lookup(c, sec, key, d, &e));
    if (!*e->val) return bad_value(c, e, "empty value (expected a number)");
    return parse_double_in(c, e, e->val, lo, hi, out);
}

lis_status lis_cfg_get_bool(lis_cfg *c, const char *sec, const char *key, int def, int *out) {
    cfg_entry *e;
    LIS_TRY(lookup(c, sec, key, def ? "true" : "false", &e));
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(e->val, yes[i])) { *out = 1; return LIS_OK; }
        if (!strcasecmp(e->val, no[i])) { *out = 0; return LIS_OK; }
    }
    char why[256];
    snprintf(why, sizeof why, "'%.64s' is not a boolean (true/false, yes/no, on/off, 1/0)", e->val);
    return bad_value(c, e, why);
}

lis_status lis_cfg_get_enum(lis_cfg *c, const char *sec, const char *key, const char *const *words, int nwords,
                            int def, int *out) {
    LIS_ASSERT(nwords > 0 && def >= 0 && def < nwords);
    cfg_entry *e;
    LIS_TRY(lookup(c, sec, key, words[def], &e));
    for (int i = 0; i < nwords; i++)
        if (!strcmp(e->val, words[i])) { *out = i; return LIS_OK; }
    char why[512];
    size_t n = (size_t)snprintf(why, sizeof why, "'%.64s' is not one of:", e->val);
    for (int i = 0; i < nwords && n < sizeof why; i++)
        n += (size_t)snprintf(why + n, sizeof why - n, "%s %s", i ? "," : "", words[i]);
    return bad_value(c, e, why);
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Parses one list item "a" or "a-b" (blanks allowed around '-') from s[0..n). */
static int parse_item(const char *s, size_t n, long *a, long *b) {
    char buf[128];
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (!(buf[0] == '-' || buf[0] == '+' || (buf[0] >= '0' && buf[0] <= '9'))) return 0;
    char *end;
    errno = 0;
    long x = strtol(buf, &end, 10);
    if (errno || end == buf) return 0;
    while (is_blank(*end)) end++;
    if (*end == 0) { *a = *b = x; return 1; }
    if (*end != '-') return 0;
    char *p = end + 1;
    while (is_blank(*p)) p++;
    if (!(*p == '-' || *p == '+' || (*p >= '0' && *p <= '9'))) return 0;
    errno = 0;
    long y = strtol(p, &end, 10);
    if (errno || end == p || *end) return 0;
    *a = x;
    *b = y;
    return 1;
}

static lis_status parse_int_list(const lis_cfg *c, cfg_entry *e, long lo, long hi) {
    char why[256];
    const char *s = e->val;
    size_t len = strlen(s), cap = 0, n = 0;
    long *v = NULL;
    lis_status st = LIS_OK;
    if (!strcmp(s, "all")) {
        if (lo > hi || (unsigned long)hi - (unsigned long)lo >= (unsigned long)CFG_MAX_LIST)
            return bad_value(c, e, "'all' needs a bounded range (internal: bad bounds)");
        n = (size_t)((unsigned long)hi - (unsigned long)lo) + 1;
        if (!(v = malloc(n * sizeof *v))) return lis_err_set("out of memory");
        for (size_t i = 0; i < n; i++) v[i] = lo + (long)i;
        goto done;
    }
    size_t pos = 0;
    while (len && pos <= len) {
        const char *comma = memchr(s + pos, ',', len - pos);
        size_t end = comma ? (size_t)(comma - s) : len;
        const char *it = s + pos;
        size_t ni = end - pos;
        trim(&it, &ni);
        long a, b;
        if (ni == 0) { st = bad_value(c, e, "empty element in the list"); goto fail; }
        if (!parse_item(it, ni, &a, &b)) {
            snprintf(why, sizeof why, "'%.*s' is not an integer or a range a-b", (int)(ni > 64 ? 64 : ni), it);
            st = bad_value(c, e, why);
            goto fail;
        }
        if (a > b) {
            snprintf(why, sizeof why, "range %ld-%ld is descending", a, b);
            st = bad_value(c, e, why);
            goto fail;
        }
        if (a < lo || b > hi) {
            snprintf(why, sizeof why, "%ld is out of range [%ld, %ld]", a < lo ? a : b, lo, hi);
            st = bad_value(c, e, why);
            goto fail;
        }
        unsigned long cnt = (unsigned long)b - (unsigned long)a + 1;
        if (cnt > (unsigned long)CFG_MAX_LIST || n + cnt > (size_t)CFG_MAX_LIST) {
            st = bad_value(c, e, "list too long (more than 16M elements)");
            goto fail;
        }
        if (n + cnt > cap) {
            size_t nc = cap ? cap : 16;
            while (nc < n + cnt) nc *= 2;
            long *nv = realloc(v, nc * sizeof *nv);
            if (!nv) { st = lis_err_set("out of memory"); goto fail; }
            v = nv;
            cap = nc;
        }
        for (unsigned long k = 0; k < cnt; k++) v[n++] = a + (long)k;
        if (!comma) break;
        pos = end + 1;
    }
    if (n > 1) {
        long *srt = malloc(n * sizeof *srt);
        if (!srt) { st = lis_err_set("out of memory"); goto fail; }
        memcpy(srt, v, n * sizeof *srt);
        qsort(srt, n, sizeof *srt, cmp_long);
        for (size_t i = 1; i < n; i++)
            if (srt[i] == srt[i - 1]) {
                snprintf(why, sizeof why, "%ld appears more than once", srt[i]);
                free(srt);
                st = bad_value(c, e, why);
                goto fail;
            }
        free(srt);
    }
done:
    clear_lists(e);
    e->ilist = v ? v : malloc(sizeof(long)); /* non-NULL even when empty */
    if (!e->ilist) return lis_err_set("out of memory");
    e->nlist = n;
    return LIS_OK;
fail:
    free(v);
    return st;
}

lis_status lis_cfg_get_int_list(lis_cfg *c, const char *sec, const char *key, const char *def, long lo, long hi,
                                const long **vals, size_t *n) {
    cfg_entry *e;
    LIS_TRY(lookup(c, sec, key, def ? def : "", &e));
    LIS_TRY(parse_int_list(c, e, lo, hi));
    *vals = e->ilist;
    *n = e->nlist;
    return LIS_OK;
}

lis_status lis_cfg_get_double_list(lis_cfg *c, const char *sec, const char *key, const char *def, double lo,
                                   double hi, const double **vals, size_t *n) {
    cfg_entry *e;
    LIS_TRY(lookup(c, sec, key, def ? def : "", &e));
    const char *s = e->val;
    size_t len = strlen(s), cnt = 0, cap = 0, pos = 0;
    double *v = NULL;
    lis_status st = LIS_OK;
    while (len && pos <= len) {
        const char *comma = memchr(s + pos, ',', len - pos);
        size_t end = comma ? (size_t)(comma - s) : len;
        const char *it = s + pos;
        size_t ni = end - pos;
        trim(&it, &ni);
        char buf[128];
        double x = 0;
        if (ni == 0) { st = bad_value(c, e, "empty element in the list"); goto fail; }
        if (ni >= sizeof buf) { st = bad_value(c, e, "list element too long"); goto fail; }
        memcpy(buf, it, ni);
        buf[ni] = 0;
        if ((st = parse_double_in(c, e, buf, lo, hi, &x))) goto fail;
        if (cnt == cap) {
            size_t nc = cap ? 2 * cap : 8;
            double *nv = realloc(v, nc * sizeof *nv);
            if (!nv) { st = lis_err_set("out of memory"); goto fail; }
            v = nv;
            cap = nc;
        }
        v[cnt++] = x;
        if (!comma) break;
        pos = end + 1;
    }
    clear_lists(e);
    e->dlist = v ? v : malloc(sizeof(double));
    if (!e->dlist) return lis_err_set("out of memory");
    e->nlist = cnt;
    *vals = e->dlist;
    *n = cnt;
    return LIS_OK;
fail:
    free(v);
    return st;
}

/* ---------------------------------------------------------------- checks and output */

lis_status lis_cfg_check_unused(const lis_cfg *c) {
    const cfg_entry *first = NULL;
    size_t count = 0;
    for (size_t i = 0; i < c->nent; i++)
        if (!c->ents[i].used) {
            if (!first) first = &c->ents[i];
            count++;
        }
    if (first) {
        char w[512];
        if (count > 1)
            return lis_err_usage("%s: unknown key '%s' in section [%s] (and %zu more unknown keys)",
                                 where(c, first, w, sizeof w), first->key, c->secs[first->sec].name, count - 1);
        return lis_err_usage("%s: unknown key '%s' in section [%s]", where(c, first, w, sizeof w), first->key,
                             c->secs[first->sec].name);
    }
    for (size_t i = 0; i < c->nsec; i++)
        if (!c->secs[i].used && c->secs[i].line > 0)
            return lis_err_usage("%s:%ld: unknown section [%s]", c->label, c->secs[i].line, c->secs[i].name);
    return LIS_OK;
}

lis_status lis_cfg_write(const lis_cfg *c, lis_sbuf *out) {
    lis_sbuf_printf(out, "# resolved configuration (read from %s); \"# default\" marks values not set in the file\n",
                    c->label);
    for (size_t si = 0; si < c->nsec; si++) {
        int any = 0;
        for (size_t i = 0; i < c->nent; i++)
            if (c->ents[i].sec == si && c->ents[i].used) any = 1;
        if (!any) continue;
        lis_sbuf_printf(out, "\n[%s]\n", c->secs[si].name);
        for (size_t i = 0; i < c->nent; i++) {
            const cfg_entry *e = &c->ents[i];
            if (e->sec != si || !e->used) continue;
            const char *tag = e->src == SRC_DEFAULT ? "   # default" : e->src == SRC_SET ? "   # --set" : "";
            lis_sbuf_printf(out, "%s = %s%s\n", e->key, e->val, tag);
        }
    }
    if (out->oom) return lis_err_set("out of memory");
    return LIS_OK;
}

lis_status lis_cfg_save(const lis_cfg *c, const char *path) {
    lis_sbuf b = {0};
    lis_status s = lis_cfg_write(c, &b);
    if (s == LIS_OK) {
        lis_atomic_file a;
        s = lis_atomic_open(&a, path);
        if (s == LIS_OK) {
            lis_atomic_write(&a, b.s, b.len);
            s = lis_atomic_commit(&a);
        }
    }
    lis_sbuf_free(&b);
    return s;
}
