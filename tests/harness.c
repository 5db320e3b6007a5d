/* harness.c — check helpers and the pass/fail tally. */
#include "tests/harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_pass, n_fail, n_skip;

int lis_check_close(const char *name, const float *got, const float *ref, int64_t n, double atol, double rtol) {
    int64_t bad = 0, imax = -1;
    double maxabs = 0, maxrel = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], r = ref[i];
        int ok;
        if (isnan(r) || isnan(g)) ok = isnan(r) && isnan(g);
        else if (isinf(r) || isinf(g)) ok = g == r;
        else {
            double d = fabs(g - r);
            if (d > maxabs) { maxabs = d; imax = i; }
            if (fabs(r) > 0 && d / fabs(r) > maxrel) maxrel = d / fabs(r);
            ok = d <= atol + rtol * fabs(r);
        }
        if (!ok) {
            if (bad < 5)
                fprintf(stderr, "    %s[%lld]: ref %.9g got %.9g (diff %.3g)\n", name, (long long)i, r, g, fabs(g - r));
            bad++;
        }
    }
    if (bad) {
        printf("FAIL %s: %lld of %lld elements off (atol %.3g, rtol %.3g); max abs %.3g at %lld, max rel %.3g\n", name,
               (long long)bad, (long long)n, atol, rtol, maxabs, (long long)imax, maxrel);
        n_fail++;
        return 0;
    }
    printf("ok   %s: n=%lld max abs %.3g, max rel %.3g (atol %.3g, rtol %.3g)\n", name, (long long)n, maxabs, maxrel,
           atol, rtol);
    n_pass++;
    return 1;
}

int lis_check_u8(const char *name, const uint8_t *got, const uint8_t *ref, int64_t n, int max_diff, int64_t max_count) {
    int64_t diff = 0, worse = 0;
    int maxd = 0;
    for (int64_t i = 0; i < n; i++) {
        int d = abs((int)got[i] - (int)ref[i]);
        if (d) diff++;
        if (d > maxd) maxd = d;
        if (d > max_diff) {
            if (worse < 5) fprintf(stderr, "    %s[%lld]: ref %d got %d\n", name, (long long)i, ref[i], got[i]);
            worse++;
        }
    }
    int ok = worse == 0 && diff <= max_count;
    printf("%s %s: %lld of %lld bytes differ, max diff %d (allowed: <= %lld differing by <= %d)\n", ok ? "ok  " : "FAIL",
           name, (long long)diff, (long long)n, maxd, (long long)max_count, max_diff);
    if (ok) n_pass++;
    else n_fail++;
    return ok;
}

void lis_check(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf(ok ? "ok   " : "FAIL ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok) n_pass++;
    else n_fail++;
}

int lis_check_ok(lis_status s, const char *what) {
    if (s == LIS_OK) return 1;
    printf("FAIL %s: %s\n", what, lis_err_msg());
    n_fail++;
    return 0;
}

void lis_test_skip(const char *why) {
    printf("SKIP %s\n", why);
    n_skip++;
}

int lis_test_finish(void) {
    printf("-- %d checks passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    if (n_fail) return 1;
    if (n_pass == 0 && n_skip) return 77;
    if (n_pass == 0) {
        printf("FAIL no check ran: a test that checks nothing must not pass\n");
        return 1;
    }
    return 0;
}

const char *lis_test_data(const char *name) {
    static char buf[4096];
    const char *dir = getenv("LIS_DATA");
    snprintf(buf, sizeof buf, "%s/%s", dir && *dir ? dir : "tests/data", name);
    return buf;
}

lis_status lis_test_open(lis_safetensors *st, const char *name) {
    lis_status s = lis_st_open(st, lis_test_data(name));
    if (s != LIS_OK) lis_check_ok(s, name);
    return s;
}

const lis_json *lis_test_case(const lis_json *cases, const char *name) {
    for (size_t i = 0; cases && i < cases->len; i++) {
        const lis_json *c = lis_json_get(cases->items[i], "case");
        if (c && c->type == LIS_JSON_STR && !strcmp(c->str, name)) return cases->items[i];
    }
    return NULL;
}

const float *lis_test_f32(const lis_safetensors *st, const char *prefix, const char *tensor, const lis_st_entry **e) {
    char n[128];
    snprintf(n, sizeof n, "%s.%s", prefix, tensor);
    const lis_st_entry *x = lis_st_find(st, n);
    LIS_ASSERT(x && x->t.dtype == LIS_DTYPE_F32);
    if (e) *e = x;
    return x->t.data;
}

void lis_test_layer_stats(const char *what, const lis_safetensors *io, const double *stats, int index,
                          const char *name, const float *x, int B, int C, int S) {
    int64_t n = (int64_t)B * C * S * S;
    double sum = 0, sq = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += x[i];
        sq += (double)x[i] * x[i];
        if (fabs(x[i]) > mx) mx = fabs(x[i]);
    }
    double mean = sum / (double)n, sd = sqrt((sq - sum * mean) / (double)(n - 1));
    const double *r = stats + 4 * index;
    double tol = 1e-4 * r[2];
    lis_check(fabs(mean - r[0]) <= tol && fabs(sd - r[1]) <= tol && fabs(mx - r[2]) <= tol && fabs(sq - r[3]) <= 1e-4 * r[3],
              "%s %-14s stats: mean %.6g (ref %.6g) std %.6g (%.6g) max|x| %.6g (%.6g) sumsq %.8g (%.8g), tol %.2g",
              what, name, mean, r[0], sd, r[1], mx, r[2], sq, r[3], tol);
    char ref[128];
    snprintf(ref, sizeof ref, "synthesis.%s.first_channels", name);
    const lis_st_entry *e = lis_st_find(io, ref);
    if (e) {
        int k = (int)e->t.shape[1];
        char nm[160];
        snprintf(nm, sizeof nm, "%s %s first %d channels", what, name, k);
        lis_check_close(nm, x, e->t.data, (int64_t)k * S * S, tol, 0);
    }
}

const float *lis_test_ref(const lis_safetensors *st, const char *name, int64_t *numel) {
    const lis_st_entry *e = lis_st_find(st, name);
    if (!e || e->t.dtype != LIS_DTYPE_F32) {
        lis_check(0, "reference tensor '%s' present and F32", name);
        return NULL;
    }
    if (numel) *numel = lis_tensor_numel(&e->t);
    return e->t.data;
}

int64_t lis_test_ref_i64(const lis_safetensors *st, const char *name, int64_t i) {
    const lis_st_entry *e = lis_st_find(st, name);
    if (!e || e->t.dtype != LIS_DTYPE_I64 || i >= lis_tensor_numel(&e->t)) {
        lis_check(0, "reference tensor '%s' present and I64", name);
        return -1;
    }
    int64_t v;
    memcpy(&v, (const char *)e->t.data + 8 * i, 8);
    return v;
}

double lis_max_abs(const float *x, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

int lis_test_quick(void) {
    const char *q = getenv("LIS_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

/* line-buffered stdout so that a crash does not swallow the lines before it */
__attribute__((constructor)) static void harness_init(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

#include <sys/wait.h>
#include <unistd.h>

#include "weights_tools/convert.h"

lis_status lis_test_convert(const char *input, const char *config, const char *shipped, char *out, size_t cap) {
    char in[4096], cfg[4096], sh[4096];
    snprintf(in, sizeof in, "%s", lis_test_data(input));
    if (config) snprintf(cfg, sizeof cfg, "%s", lis_test_data(config));
    if (shipped) snprintf(sh, sizeof sh, "%s", lis_test_data(shipped));
    lis_convert_opts o = {config ? cfg : NULL, shipped ? sh : NULL, "G_ema", 0};
    const char *tmp = getenv("TMPDIR");
    snprintf(out, cap, "%s/lis-test-%ld-%s.safetensors", tmp && *tmp ? tmp : "/tmp", (long)getpid(),
             strrchr(input, '/') ? strrchr(input, '/') + 1 : input);
    return lis_convert_file(in, &o, out);
}

const char *lis_test_lisrun_path(void) {
    const char *bin = getenv("LIS_RUN");
    return bin && *bin ? bin : "./lis-run";
}

int lis_test_lisrun(char *const argv[]) {
    const char *bin = lis_test_lisrun_path();
    int n = 0;
    while (argv[n]) n++;
    char **av = calloc((size_t)n + 2, sizeof(char *));
    if (!av) return -1;
    av[0] = (char *)bin;
    for (int i = 0; i < n; i++) av[i + 1] = argv[i];
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(2, 1); /* keep the tally on stdout clean */
        execv(bin, av);
        _exit(127);
    }
    free(av);
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
