/* args.c — see args.h. */
#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void lis_args_init(lis_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->argc = argc < 512 ? argc : 512;
    a->argv = argv;
    a->used[0] = 1; /* the command name */
}

int lis_args_help(const lis_args *a) {
    for (int i = 1; i < a->argc; i++)
        if (!strcmp(a->argv[i], "--help") || !strcmp(a->argv[i], "-h")) return 1;
    return 0;
}

/* Finds --name or --name=...; returns the index, sets *val to the inline value or NULL. */
static int find(lis_args *a, const char *name, const char **val) {
    size_t n = strlen(name);
    for (int i = 1; i < a->argc; i++) {
        if (strncmp(a->argv[i], name, n) != 0) continue;
        if (a->argv[i][n] == 0) { *val = NULL; return i; }
        if (a->argv[i][n] == '=') { *val = a->argv[i] + n + 1; return i; }
    }
    return -1;
}

int lis_args_flag(lis_args *a, const char *name) {
    const char *v;
    int i = find(a, name, &v);
    if (i < 0) return 0;
    a->used[i] = 1;
    return 1;
}

const char *lis_args_str(lis_args *a, const char *name, const char *def) {
    const char *v;
    int i = find(a, name, &v);
    if (i < 0) return def;
    a->used[i] = 1;
    if (v) return v;
    if (i + 1 < a->argc) { a->used[i + 1] = 1; return a->argv[i + 1]; }
    return ""; /* missing value: callers treat "" as an error */
}

lis_status lis_parse_long(const char *s, long *out, const char *what) {
    if (!s || !*s) return lis_err_usage("%s needs a value", what);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end) return lis_err_usage("%s: '%s' is not an integer", what, s);
    *out = v;
    return LIS_OK;
}

lis_status lis_parse_double(const char *s, double *out, const char *what) {
    if (!s || !*s) return lis_err_usage("%s needs a value", what);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return lis_err_usage("%s: '%s' is not a number", what, s);
    *out = v;
    return LIS_OK;
}

lis_status lis_args_long(lis_args *a, const char *name, long def, long *out) {
    const char *s = lis_args_str(a, name, NULL);
    if (!s) { *out = def; return LIS_OK; }
    return lis_parse_long(s, out, name);
}

lis_status lis_args_double(lis_args *a, const char *name, double def, double *out) {
    const char *s = lis_args_str(a, name, NULL);
    if (!s) { *out = def; return LIS_OK; }
    return lis_parse_double(s, out, name);
}

int lis_args_list(lis_args *a, const char *name, const char **out, int cap) {
    const char *v;
    int i = find(a, name, &v), n = 0;
    if (i < 0) return 0;
    a->used[i] = 1;
    if (v) { if (n < cap) out[n++] = v; }
    for (int j = i + 1; j < a->argc && !(a->argv[j][0] == '-' && a->argv[j][1]); j++) { /* up to the next option */
        a->used[j] = 1;
        if (n < cap) out[n++] = a->argv[j];
    }
    return n;
}

int lis_args_multi(lis_args *a, const char *name, const char **out, int cap) {
    size_t nl = strlen(name);
    int n = 0;
    for (int i = 1; i < a->argc; i++) {
        if (strncmp(a->argv[i], name, nl) != 0) continue;
        const char *v = NULL;
        if (a->argv[i][nl] == '=') v = a->argv[i] + nl + 1;
        else if (a->argv[i][nl] == 0 && i + 1 < a->argc) { v = a->argv[i + 1]; a->used[i + 1] = 1; }
        else if (a->argv[i][nl] != 0) continue;
        a->used[i] = 1;
        if (v && n < cap) out[n++] = v;
    }
    return n;
}

lis_status lis_args_done(lis_args *a) {
    for (int i = 1; i < a->argc; i++) {
        if (a->used[i]) continue;
        if (a->argv[i][0] == '-' && a->argv[i][1] != 0)
            return lis_err_usage("unknown option '%s' (see --help)", a->argv[i]);
        if (a->npos == 64) return lis_err_usage("too many arguments");
        a->pos[a->npos++] = a->argv[i];
        a->used[i] = 1;
    }
    return LIS_OK;
}
