/* test_cfg.c — the INI config reader (runtime/cfg.c): a good config through every getter,
 * each kind of bad config rejected with FILE:LINE, bad values, unknown keys and sections,
 * --set overrides, the resolved-config writer (round trip), file load/save, and a fuzz loop
 * over mutated and truncated texts (no crash; whatever parses also re-parses after writing). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cfg.h"
#include "tests/harness.h"

static const char good[] =
    "\xef\xbb\xbf# pipeline config used by the tests\r\n"
    "; semicolon comment\n"
    "\n"
    "[sample]\n"
    "seeds      = 0-9, 15, 20-22   # ranges and single values\n"
    "classes    = 232,254 , 151\n"
    "truncation = 0.7\n"
    "  batch=8\n"
    "name = dogs#1                  ; '#' inside a word is part of the value\n"
    "\t empty_ok =   \n"
    "[link]\r\n"
    "model = ridge\n"
    "alpha = 1e-2\n"
    "fast  = yes\n"
    "psis  = 0.5, 0.7,1\n"
    "shift = -3--1, 4\n"
    "units = all\n"
    "out   = runs/a b/c\n";

static lis_cfg *parse(const char *text, const char *label) {
    lis_cfg *c = NULL;
    lis_status s = lis_cfg_parse(&c, text, strlen(text), label);
    if (s != LIS_OK) printf("    (parse error: %s)\n", lis_err_msg());
    return c;
}

/* parse must fail and the message must contain `want` */
static void bad_parse(const char *text, const char *want) {
    lis_cfg *c = NULL;
    lis_status s = lis_cfg_parse(&c, text, strlen(text), "bad.cfg");
    lis_check(s == LIS_ERR_USAGE && c == NULL && strstr(lis_err_msg(), want), "rejects %-28s -> %s", want,
              s ? lis_err_msg() : "(accepted)");
    lis_cfg_free(c);
}

static const char *const models[] = {"ols", "ridge", "enet"};

/* Reads every key of `good` (and a few defaults). Returns 0 if any getter failed. */
static int read_all(lis_cfg *c, int verbose) {
    const long *seeds, *classes, *shift, *units;
    const double *psis;
    size_t ns, nc, nsh, nu, np;
    long batch, steps;
    double trunc, alpha;
    int fast, model, resume;
    const char *name, *empty, *out, *dev;
    int ok = 1;
    ok &= lis_cfg_get_int_list(c, "sample", "seeds", "0", 0, 1000000, &seeds, &ns) == LIS_OK;
    ok &= lis_cfg_get_int_list(c, "sample", "classes", "", 0, 999, &classes, &nc) == LIS_OK;
    ok &= lis_cfg_get_double(c, "sample", "truncation", 1.0, 0, 1, &trunc) == LIS_OK;
    ok &= lis_cfg_get_int(c, "sample", "batch", 1, 1, 4096, &batch) == LIS_OK;
    ok &= lis_cfg_get_str(c, "sample", "name", "", &name) == LIS_OK;
    ok &= lis_cfg_get_str(c, "sample", "empty_ok", "x", &empty) == LIS_OK;
    ok &= lis_cfg_get_enum(c, "link", "model", models, 3, 0, &model) == LIS_OK;
    ok &= lis_cfg_get_double(c, "link", "alpha", 1.0, 0, 1e9, &alpha) == LIS_OK;
    ok &= lis_cfg_get_bool(c, "link", "fast", 0, &fast) == LIS_OK;
    ok &= lis_cfg_get_double_list(c, "link", "psis", "0.7", 0, 1, &psis, &np) == LIS_OK;
    ok &= lis_cfg_get_int_list(c, "link", "shift", "", -10, 10, &shift, &nsh) == LIS_OK;
    ok &= lis_cfg_get_int_list(c, "link", "units", "", 0, 2047, &units, &nu) == LIS_OK;
    ok &= lis_cfg_get_str(c, "link", "out", "", &out) == LIS_OK;
    /* keys absent from the file: defaults */
    ok &= lis_cfg_get_int(c, "tune", "n_steps", 3, 1, 100, &steps) == LIS_OK;
    ok &= lis_cfg_get_bool(c, "tune", "resume", 1, &resume) == LIS_OK;
    ok &= lis_cfg_get_str(c, "run", "device", "cpu", &dev) == LIS_OK;
    if (!verbose || !ok) return ok;
    long want_seeds[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 20, 21, 22};
    lis_check(ns == 14 && !memcmp(seeds, want_seeds, sizeof want_seeds), "int list '0-9, 15, 20-22' -> %zu values", ns);
    lis_check(nc == 3 && classes[0] == 232 && classes[1] == 254 && classes[2] == 151, "int list with blanks, order kept");
    lis_check(trunc == 0.7 && batch == 8 && alpha == 0.01, "double 0.7, int 8 (indented key), double 1e-2");
    lis_check(!strcmp(name, "dogs#1"), "'#' not after a blank stays in the value: '%s'", name);
    lis_check(!strcmp(empty, ""), "empty string value");
    lis_check(model == 1 && fast == 1, "enum ridge -> 1, bool yes -> 1");
    lis_check(np == 3 && psis[0] == 0.5 && psis[1] == 0.7 && psis[2] == 1.0, "double list");
    lis_check(nsh == 4 && shift[0] == -3 && shift[1] == -2 && shift[2] == -1 && shift[3] == 4, "negative range -3--1");
    lis_check(nu == 2048 && units[0] == 0 && units[2047] == 2047, "'all' = lo..hi (%zu values)", nu);
    lis_check(!strcmp(out, "runs/a b/c"), "inner blanks kept: '%s'", out);
    lis_check(steps == 3 && resume == 1 && !strcmp(dev, "cpu"), "defaults for absent keys");
    lis_check(lis_cfg_has(c, "sample", "batch") && !lis_cfg_has(c, "tune", "n_steps"), "lis_cfg_has: file vs default");
    return ok;
}

static void test_good(void) {
    lis_cfg *c = parse(good, "good.cfg");
    lis_check(c != NULL, "good config parses (BOM, CRLF, comments, blanks)");
    if (!c) return;
    lis_check(read_all(c, 1), "every getter succeeds on the good config");
    lis_check_ok(lis_cfg_check_unused(c), "no unknown keys after reading all");
    /* resolved config: defaults included, and it re-parses to the same values */
    lis_sbuf b = {0};
    lis_check_ok(lis_cfg_write(c, &b), "write resolved config");
    lis_check(b.s && strstr(b.s, "n_steps = 3   # default") && strstr(b.s, "device = cpu   # default") &&
                  strstr(b.s, "seeds = 0-9, 15, 20-22\n") && strstr(b.s, "[tune]"),
              "resolved config lists file values and defaults");
    lis_cfg *c2 = b.s ? parse(b.s, "resolved.cfg") : NULL;
    lis_check(c2 && read_all(c2, 0) && lis_cfg_check_unused(c2) == LIS_OK, "resolved config re-parses, same keys");
    if (c2) {
        lis_sbuf b2 = {0};
        lis_cfg_write(c2, &b2);
        /* identical apart from the label in the first line and the "# default" marks (the
         * defaults are file values the second time) */
        char *x = strchr(b.s, '\n'), *m;
        const char *y = b2.s ? strchr(b2.s, '\n') : NULL;
        while (x && (m = strstr(x, "   # default")) != NULL) memmove(m, m + 12, strlen(m + 12) + 1);
        lis_check(x && y && !strcmp(x, y), "resolved config is a fixed point of parse + write");
        lis_sbuf_free(&b2);
    }
    lis_cfg_free(c2);
    lis_sbuf_free(&b);
    lis_cfg_free(c);
}

static void test_bad_syntax(void) {
    bad_parse("a = 1\n", "bad.cfg:1: key 'a' outside of any [section]");
    bad_parse("[s]\n\n[t\n", "bad.cfg:3: section header must look like [name]");
    bad_parse("[s]\nx = 1\n# c\nx = 2\n", "bad.cfg:4: duplicate key 'x' in section [s] (first set at line 2)");
    bad_parse("[s]\n[t]\n[s]\n", "bad.cfg:3: duplicate section [s] (first at line 1)");
    bad_parse("[s]\njust words\n", "bad.cfg:2: expected 'key = value'");
    bad_parse("[s]\nmy key = 1\n", "bad.cfg:2: bad key 'my key'");
    bad_parse("[s]\n = 1\n", "bad.cfg:2: bad key ''");
    bad_parse("[a.b]\n", "bad.cfg:1: bad section name 'a.b'");
    bad_parse("[]\n", "bad.cfg:1: bad section name");
    bad_parse("[s]\nx = a\x01" "b\n", "bad.cfg:2: control character 0x01");
    {
        static const char nul[] = "[s]\nx = 1\ny = \0\n";
        lis_cfg *c = NULL;
        lis_status s = lis_cfg_parse(&c, nul, sizeof nul - 1, "bad.cfg");
        lis_check(s != LIS_OK && strstr(lis_err_msg(), "bad.cfg:3: NUL byte"), "rejects a NUL byte -> %s",
                  lis_err_msg());
        lis_cfg_free(c);
    }
    /* a missing file names itself */
    lis_cfg *c = NULL;
    lis_status s = lis_cfg_load(&c, "/nonexistent/lis.cfg");
    lis_check(s != LIS_OK && c == NULL && strstr(lis_err_msg(), "/nonexistent/lis.cfg"), "missing file: %s",
              lis_err_msg());
}

/* A getter on `text` must fail with a message containing `want`. */
typedef enum { G_INT, G_DBL, G_BOOL, G_ENUM, G_LIST, G_DLIST } getter;

static void bad_value(const char *value, getter g, const char *want) {
    char text[256];
    snprintf(text, sizeof text, "[s]\nk = %s\n", value);
    lis_cfg *c = parse(text, "v.cfg");
    if (!c) { lis_check(0, "parse %s", text); return; }
    long l;
    double d;
    int i;
    const long *lv;
    const double *dv;
    size_t n;
    lis_status s = LIS_OK;
    switch (g) {
    case G_INT: s = lis_cfg_get_int(c, "s", "k", 1, 1, 100, &l); break;
    case G_DBL: s = lis_cfg_get_double(c, "s", "k", 0.5, 0, 1, &d); break;
    case G_BOOL: s = lis_cfg_get_bool(c, "s", "k", 0, &i); break;
    case G_ENUM: s = lis_cfg_get_enum(c, "s", "k", models, 3, 0, &i); break;
    case G_LIST: s = lis_cfg_get_int_list(c, "s", "k", "", 0, 99, &lv, &n); break;
    case G_DLIST: s = lis_cfg_get_double_list(c, "s", "k", "", 0, 1, &dv, &n); break;
    }
    lis_check(s == LIS_ERR_USAGE && strstr(lis_err_msg(), want), "k = %-26s -> %s", value,
              s ? lis_err_msg() : "(accepted)");
    lis_cfg_free(c);
}

static void test_bad_values(void) {
    bad_value("1e3", G_INT, "v.cfg:2: key 'k': '1e3' is not an integer");
    bad_value("12abc", G_INT, "v.cfg:2: key 'k': '12abc' is not an integer");
    bad_value("", G_INT, "v.cfg:2: key 'k': empty value");
    bad_value("0", G_INT, "v.cfg:2: key 'k': 0 is out of range [1, 100]");
    bad_value("99999999999999999999999", G_INT, "is not an integer");
    bad_value("1.5x", G_DBL, "v.cfg:2: key 'k': '1.5x' is not a finite number");
    bad_value("nan", G_DBL, "'nan' is not a finite number");
    bad_value("1e999", G_DBL, "'1e999' is not a finite number");
    bad_value("1.5", G_DBL, "1.5 is out of range [0, 1]");
    bad_value("maybe", G_BOOL, "v.cfg:2: key 'k': 'maybe' is not a boolean");
    bad_value("OLS", G_ENUM, "v.cfg:2: key 'k': 'OLS' is not one of: ols, ridge, enet");
    bad_value("1,,2", G_LIST, "v.cfg:2: key 'k': empty element");
    bad_value("1,2,", G_LIST, "empty element");
    bad_value("5-3", G_LIST, "range 5-3 is descending");
    bad_value("1-", G_LIST, "'1-' is not an integer or a range");
    bad_value("x", G_LIST, "'x' is not an integer or a range");
    bad_value("1.5", G_LIST, "'1.5' is not an integer or a range");
    bad_value("90-120", G_LIST, "120 is out of range [0, 99]");
    bad_value("3, 0-5", G_LIST, "3 appears more than once");
    bad_value("all, 3", G_LIST, "'all' is not an integer");
    bad_value("0.5,,1", G_DLIST, "empty element");
    bad_value("0.5, 2", G_DLIST, "2 is out of range [0, 1]");
    bad_value("0.5, a", G_DLIST, "'a' is not a finite number");
    /* good edge values */
    lis_cfg *c = parse("[s]\na = TRUE\nb = off\nc = 0\nd = 1\ne = +7\nf = -0.0\ng =\n", "v.cfg");
    int a, b, cc, d;
    long e;
    double f;
    const long *g;
    size_t ng;
    int ok = c && lis_cfg_get_bool(c, "s", "a", 0, &a) == LIS_OK && lis_cfg_get_bool(c, "s", "b", 1, &b) == LIS_OK &&
             lis_cfg_get_bool(c, "s", "c", 1, &cc) == LIS_OK && lis_cfg_get_bool(c, "s", "d", 0, &d) == LIS_OK &&
             lis_cfg_get_int(c, "s", "e", 0, -10, 10, &e) == LIS_OK &&
             lis_cfg_get_double(c, "s", "f", 1, -1, 1, &f) == LIS_OK &&
             lis_cfg_get_int_list(c, "s", "g", "1-3", 0, 9, &g, &ng) == LIS_OK;
    lis_check(ok && a == 1 && b == 0 && cc == 0 && d == 1 && e == 7 && f == 0 && ng == 0,
              "TRUE/off/0/1 booleans, '+7', '-0.0', empty list");
    lis_cfg_free(c);
}

static void test_unknown(void) {
    /* a misspelt key: reported with its line even though every other key was read */
    lis_cfg *c = parse("[link]\nmodel = ols\nalpah = 2\n[tune]\nn_steps = 3\n", "u.cfg");
    int m;
    long st;
    double al;
    if (!c) return;
    lis_cfg_get_enum(c, "link", "model", models, 3, 0, &m);
    lis_cfg_get_double(c, "link", "alpha", 1, 0, 10, &al);
    lis_cfg_get_int(c, "tune", "n_steps", 3, 1, 10, &st);
    lis_status s = lis_cfg_check_unused(c);
    lis_check(s == LIS_ERR_USAGE && !strcmp(lis_err_msg(), "u.cfg:3: unknown key 'alpah' in section [link]"),
              "unknown key -> %s", lis_err_msg());
    lis_cfg_free(c);
    /* several: the first is named and the rest counted */
    c = parse("[a]\nx = 1\ny = 2\nz = 3\n", "u.cfg");
    s = lis_cfg_check_unused(c);
    lis_check(s != LIS_OK && strstr(lis_err_msg(), "u.cfg:2: unknown key 'x' in section [a] (and 2 more"), "-> %s",
              lis_err_msg());
    lis_cfg_free(c);
    /* an empty section nobody asks about */
    c = parse("[link]\nmodel = ols\n[tunning]\n", "u.cfg");
    lis_cfg_get_enum(c, "link", "model", models, 3, 0, &m);
    s = lis_cfg_check_unused(c);
    lis_check(s != LIS_OK && !strcmp(lis_err_msg(), "u.cfg:3: unknown section [tunning]"), "unknown section -> %s",
              lis_err_msg());
    lis_cfg_free(c);
    /* a key of the right name in the wrong section */
    c = parse("[tune]\nalpha = 1\n", "u.cfg");
    lis_cfg_get_double(c, "link", "alpha", 1, 0, 10, &al);
    lis_cfg_get_int(c, "tune", "n_steps", 3, 1, 10, &st);
    s = lis_cfg_check_unused(c);
    lis_check(s != LIS_OK && strstr(lis_err_msg(), "u.cfg:2: unknown key 'alpha' in section [tune]"), "-> %s",
              lis_err_msg());
    lis_cfg_free(c);
}

static void test_overrides(void) {
    lis_cfg *c = parse("[link]\nmodel = ols\nalpha = 1\n", "o.cfg");
    if (!c) return;
    lis_check_ok(lis_cfg_set_override(c, "link.alpha=0.25"), "--set link.alpha=0.25");
    lis_check_ok(lis_cfg_set_override(c, "link.model = enet"), "--set with blanks");
    lis_check_ok(lis_cfg_set_override(c, "tune.n_steps=5"), "--set of a key absent from the file");
    lis_check_ok(lis_cfg_set_override(c, "tune.n_steps=7"), "--set twice: the later wins");
    int m;
    double al;
    long st;
    lis_status s1 = lis_cfg_get_enum(c, "link", "model", models, 3, 0, &m);
    lis_status s2 = lis_cfg_get_double(c, "link", "alpha", 1, 0, 10, &al);
    lis_status s3 = lis_cfg_get_int(c, "tune", "n_steps", 3, 1, 10, &st);
    lis_check(!s1 && !s2 && !s3 && m == 2 && al == 0.25 && st == 7, "overrides replace and add values");
    lis_check_ok(lis_cfg_check_unused(c), "overridden keys count as read");
    lis_sbuf b = {0};
    lis_cfg_write(c, &b);
    lis_check(b.s && strstr(b.s, "alpha = 0.25   # --set") && strstr(b.s, "n_steps = 7   # --set"),
              "resolved config marks overrides");
    lis_sbuf_free(&b);
    /* bad specs */
    const char *bad[][2] = {{"linkalpha=1", "expected section.key=value"},
                            {"link.alpha", "expected section.key=value"},
                            {".alpha=1", "bad section name"},
                            {"link.=1", "bad key"},
                            {"a b.c=1", "bad section name"},
                            {"link.out=x #y", "would begin a comment"},
                            {"link.out=#y", "would begin a comment"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lis_status s = lis_cfg_set_override(c, bad[i][0]);
        lis_check(s == LIS_ERR_USAGE && strstr(lis_err_msg(), bad[i][1]), "--set '%s' rejected -> %s", bad[i][0],
                  lis_err_msg());
    }
    /* a bad override value names the override, not a file line */
    lis_cfg_set_override(c, "link.alpha=lots");
    lis_status s = lis_cfg_get_double(c, "link", "alpha", 1, 0, 10, &al);
    lis_check(s != LIS_OK && !strcmp(lis_err_msg(), "--set link.alpha: key 'alpha': 'lots' is not a finite number"),
              "bad --set value -> %s", lis_err_msg());
    /* an override of a key nobody reads is an unknown key */
    lis_cfg_set_override(c, "link.alhpa=3");
    s = lis_cfg_check_unused(c);
    lis_check(s != LIS_OK && !strcmp(lis_err_msg(), "--set link.alhpa: unknown key 'alhpa' in section [link]"),
              "unknown --set key -> %s", lis_err_msg());
    lis_cfg_free(c);
    /* --set without a file */
    lis_check_ok(lis_cfg_new(&c, "(no file)"), "empty config");
    lis_cfg_set_override(c, "run.batch=4");
    long bt;
    lis_check(lis_cfg_get_int(c, "run", "batch", 1, 1, 64, &bt) == LIS_OK && bt == 4, "--set on an empty config");
    lis_cfg_free(c);
}

static void test_files(void) {
    char path[256], out[300];
    snprintf(path, sizeof path, "/tmp/lis_test_cfg_%ld.cfg", (long)getpid());
    snprintf(out, sizeof out, "%s.resolved", path);
    FILE *f = fopen(path, "wb");
    if (!f) { lis_check(0, "create %s", path); return; }
    fputs(good, f);
    fclose(f);
    lis_cfg *c = NULL;
    if (!lis_check_ok(lis_cfg_load(&c, path), "load from a file")) return;
    read_all(c, 0);
    lis_check_ok(lis_cfg_save(c, out), "save the resolved config");
    lis_cfg_free(c);
    c = NULL;
    lis_check(lis_cfg_load(&c, out) == LIS_OK && read_all(c, 0) && lis_cfg_check_unused(c) == LIS_OK,
              "saved config loads back");
    lis_cfg_free(c);
    /* error messages carry the path */
    f = fopen(path, "wb");
    if (f) { fputs("[s]\n\nx = 1\nx = 2\n", f); fclose(f); }
    lis_status s = lis_cfg_load(&c, path);
    char want[300];
    snprintf(want, sizeof want, "%s:4: duplicate key 'x'", path);
    lis_check(s != LIS_OK && strstr(lis_err_msg(), want), "file errors name PATH:LINE -> %s", lis_err_msg());
    remove(path);
    remove(out);
}

/* ---------------------------------------------------------------- fuzz */

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Parses buf; if it parses, reads keys, writes the resolved config and re-parses that. */
static int fuzz_one(const char *buf, size_t len, long *parsed) {
    lis_cfg *c = NULL;
    if (lis_cfg_parse(&c, buf, len, "fuzz.cfg") != LIS_OK) return 1;
    (*parsed)++;
    read_all(c, 0); /* getters may fail on mutated values; they must not crash */
    lis_cfg_set_override(c, "sample.batch=3");
    lis_cfg_check_unused(c);
    lis_sbuf b = {0};
    int ok = lis_cfg_write(c, &b) == LIS_OK;
    lis_cfg *c2 = NULL;
    if (ok) ok = lis_cfg_parse(&c2, b.s, b.len, "fuzz-resolved.cfg") == LIS_OK;
    if (!ok) printf("    fuzz: resolved config does not re-parse: %s\n%.*s\n", lis_err_msg(), (int)b.len, b.s);
    lis_cfg_free(c2);
    lis_sbuf_free(&b);
    lis_cfg_free(c);
    return ok;
}

static void test_fuzz(void) {
    size_t n0 = sizeof good - 1;
    long parsed = 0, runs = 0;
    int ok = 1;
    /* every truncation of the good config */
    for (size_t n = 0; n <= n0; n++, runs++) {
        char *t = malloc(n ? n : 1); /* exact size: reads past the end show up under ASan */
        memcpy(t, good, n);
        ok &= fuzz_one(t, n, &parsed);
        free(t);
    }
    /* random mutations */
    static const char palette[] = "[]=#;,-. \t\r\n\0azAZ09+e\x7f\xff";
    int iters = lis_test_quick() ? 3000 : 20000;
    for (int it = 0; it < iters; it++, runs++) {
        size_t cap = n0 * 2 + 64, n = n0;
        char *t = malloc(cap);
        memcpy(t, good, n0);
        int muts = 1 + (int)rnd(6);
        for (int m = 0; m < muts; m++) {
            unsigned op = rnd(5), pos = n ? rnd((unsigned)n) : 0;
            if (op == 0 && n) t[pos] = palette[rnd(sizeof palette - 1)];           /* replace */
            else if (op == 1 && n + 1 < cap) {                                      /* insert */
                memmove(t + pos + 1, t + pos, n - pos);
                t[pos] = palette[rnd(sizeof palette - 1)];
                n++;
            } else if (op == 2 && n) {                                              /* delete a run */
                unsigned k = 1 + rnd(8);
                if (pos + k > n) k = (unsigned)(n - pos);
                memmove(t + pos, t + pos + k, n - pos - k);
                n -= k;
            } else if (op == 3 && n) {                                              /* duplicate a run */
                unsigned k = 1 + rnd(24);
                if (pos + k > n) k = (unsigned)(n - pos);
                if (n + k <= cap) {
                    memmove(t + pos + k, t + pos, n - pos);
                    n += k;
                }
            } else if (op == 4) t[pos] = (char)rnd(256);                            /* random byte */
        }
        size_t cut = rnd(4) == 0 && n ? rnd((unsigned)n) : n; /* sometimes truncate too */
        char *exact = malloc(cut ? cut : 1);
        memcpy(exact, t, cut);
        ok &= fuzz_one(exact, cut, &parsed);
        free(exact);
        free(t);
    }
    lis_check(ok, "fuzz: %ld texts (truncated + mutated), %ld parsed, no crash, resolved output always re-parses",
              runs, parsed);
}

int main(void) {
    test_good();
    test_bad_syntax();
    test_bad_values();
    test_unknown();
    test_overrides();
    test_files();
    test_fuzz();
    return lis_test_finish();
}
