/* pipeline_config.c — the pipeline's configuration keys, their defaults and checks, the
 * per-stage digests that make resuming safe, and the run-directory helpers.
 * Every key is documented in README.md (section "Pipeline configuration").
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pipeline.h"
#include "runtime/backend.h"
#include "runtime/fileio.h"
#include "runtime/npy.h"
#include "runtime/threads.h"

/* The original's named class subsets (spec/pipeline.md 1.1), in loop order. */
static const struct { const char *name; int n; long cls[8]; } class_sets[] = {
    {"dogs", 5, {232, 254, 151, 197, 178}},
    {"fungi", 4, {992, 993, 994, 997}},
    {"birds", 6, {10, 12, 14, 92, 95, 96}},
    {"cars", 6, {468, 609, 627, 717, 779, 817}},
};

/* FNV-1a 64 */
static uint64_t hash_str(uint64_t h, const char *s) {
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ull; }
    h ^= 0xff;
    h *= 1099511628211ull;
    return h;
}

void lis_pipe_note(lis_pipe *p, int first_stage, const char *key, const char *fmt, ...) {
    char v[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    /* a key influences its stage and every later one */
    for (int s = first_stage; s < ST_COUNT; s++) p->digest[s] = hash_str(hash_str(p->digest[s], key), v);
}

/* "dogs", "all", or a list "232, 254, 10-12" */
static lis_status parse_classes(lis_pipe *p, const char *v, int c_dim) {
    lis_pipe_cfg *c = &p->c;
    for (size_t i = 0; i < sizeof class_sets / sizeof *class_sets; i++)
        if (!strcmp(v, class_sets[i].name)) {
            c->classes = malloc(sizeof(long) * (size_t)class_sets[i].n);
            if (!c->classes) return lis_err_set("out of memory");
            memcpy(c->classes, class_sets[i].cls, sizeof(long) * (size_t)class_sets[i].n);
            c->n_classes = class_sets[i].n;
            goto check;
        }
    if (!strcmp(v, "all")) {
        c->classes = malloc(sizeof(long) * (size_t)(c_dim ? c_dim : 1));
        if (!c->classes) return lis_err_set("out of memory");
        for (int i = 0; i < c_dim; i++) c->classes[i] = i;
        c->n_classes = c_dim;
        goto check;
    }
    {
        size_t cap = 16;
        c->classes = malloc(sizeof(long) * cap);
        const char *s = v;
        while (*s) {
            char *end;
            long a = strtol(s, &end, 10), b = a;
            if (end == s) return lis_err_usage("%s: [sample] classes = '%s': expected a class set (dogs, fungi, birds, cars, all) or a list like 0, 3, 5-7", p->cfg_path, v);
            s = end;
            while (*s == ' ') s++;
            if (*s == '-') {
                b = strtol(s + 1, &end, 10);
                if (end == s + 1 || b < a) return lis_err_usage("%s: [sample] classes: bad range in '%s'", p->cfg_path, v);
                s = end;
            }
            for (long k = a; k <= b; k++) {
                if ((size_t)c->n_classes == cap) {
                    cap *= 2;
                    long *nc = realloc(c->classes, sizeof(long) * cap);
                    if (!nc) return lis_err_set("out of memory");
                    c->classes = nc;
                }
                c->classes[c->n_classes++] = k;
            }
            while (*s == ' ') s++;
            if (*s == ',') s++;
            else if (*s) return lis_err_usage("%s: [sample] classes: unexpected '%c' in '%s'", p->cfg_path, *s, v);
            while (*s == ' ') s++;
        }
    }
check:
    if (c->n_classes == 0) return lis_err_usage("%s: [sample] classes is empty", p->cfg_path);
    for (int i = 0; i < c->n_classes; i++) {
        if (c->classes[i] < 0 || c->classes[i] >= c_dim)
            return lis_err_usage("%s: [sample] classes: class %ld is out of range (the generator has %d classes)", p->cfg_path,
                                 c->classes[i], c_dim);
        for (int j = 0; j < i; j++)
            if (c->classes[j] == c->classes[i]) return lis_err_usage("%s: [sample] classes: class %ld appears twice", p->cfg_path, c->classes[i]);
    }
    return LIS_OK;
}

/* A path written in the config is relative to the config file's directory (so that a
 * config and its models can move together), unless it is absolute. */
char *lis_pipe_resolve(const lis_pipe *p, const char *rel) {
    if (!*rel) return NULL;
    if (rel[0] == '/') return strdup(rel);
    const char *slash = strrchr(p->cfg_path, '/');
    if (!slash) return strdup(rel);
    size_t n = (size_t)(slash - p->cfg_path) + 1 + strlen(rel) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%.*s/%s", (int)(slash - p->cfg_path), p->cfg_path, rel);
    return s;
}

/* Reads the sizes the config checks need without loading the networks. */
static lis_status peek_models(lis_pipe *p, int *c_dim, int *feat_dim) {
    lis_safetensors st;
    LIS_TRY(lis_st_open(&st, p->c.generator));
    const lis_st_entry *e = lis_st_find(&st, "mapping.embed.weight");
    *c_dim = e && e->t.ndim == 2 ? (int)e->t.shape[0] : 0;
    lis_st_close(&st);
    LIS_TRY(lis_st_open(&st, p->c.classifier));
    e = lis_st_find(&st, "fc.weight");
    *feat_dim = e && e->t.ndim == 2 ? (int)e->t.shape[1] : 0;
    lis_st_close(&st);
    if (*feat_dim <= 0) return lis_err_set("%s: no 'fc.weight' (not a classifier weight file)", p->c.classifier);
    return LIS_OK;
}

#define TRY(x) do { lis_status s_ = (x); if (s_) return s_; } while (0)

lis_status lis_pipe_read_config(lis_pipe *p, const char *out_override) {
    lis_cfg *cfg = p->cfg;
    lis_pipe_cfg *c = &p->c;
    const char *s;
    long v;
    /* [models] */
    const char *gen, *cls;
    TRY(lis_cfg_get_str(cfg, "models", "generator", "", &gen));
    TRY(lis_cfg_get_str(cfg, "models", "classifier", "", &cls));
    if (!*gen || !*cls) return lis_err_usage("%s: [models] generator and classifier are required (lis weight files)", p->cfg_path);
    c->generator = lis_pipe_resolve(p, gen);
    c->classifier = lis_pipe_resolve(p, cls);
    if (!c->generator || !c->classifier) return lis_err_set("out of memory");
    lis_pipe_note(p, ST_SAMPLE, "models.generator", "%s", gen);
    lis_pipe_note(p, ST_PAIRS, "models.classifier", "%s", cls);
    int c_dim, feat_dim;
    TRY(peek_models(p, &c_dim, &feat_dim));
    /* [run] */
    const char *base = strrchr(p->cfg_path, '/') ? strrchr(p->cfg_path, '/') + 1 : p->cfg_path;
    char defout[512];
    snprintf(defout, sizeof defout, "runs/%.*s", (int)(strlen(base) > 4 ? strlen(base) - 4 : strlen(base)), base);
    TRY(lis_cfg_get_str(cfg, "run", "out", defout, &c->out));
    if (out_override) c->out = out_override;
    TRY(lis_cfg_get_int(cfg, "run", "batch", 8, 1, 4096, &v)); c->batch = (int)v;
    TRY(lis_cfg_get_int(cfg, "run", "threads", 0, 0, 1024, &v)); c->threads = (int)v;
    /* where the renders (generator + classifier) run; recorded from the pairs stage on,
     * since the GPU agrees with the CPU to float32 tolerance, not bit for bit */
    TRY(lis_cfg_get_str(cfg, "run", "device", "auto", &c->device));
    lis_device dv;
    if (lis_device_parse(c->device, &dv) != LIS_OK) {
        char why[512];
        const char *m = lis_err_msg();
        if (!strncmp(m, "--device ", 9) && strstr(m, ": ")) m = strstr(m, ": ") + 2; /* the key says it already */
        snprintf(why, sizeof why, "%s", m);
        return lis_err_usage("%s: [run] device = %s: %s", p->cfg_path, c->device, why);
    }
    static const char *const precs[] = {"fp32", "tf32", "bf16", "fp16"};
    int prec;
    TRY(lis_cfg_get_enum(cfg, "run", "precision", precs, 4, 0, &prec));
    c->precision = precs[prec];
    if (prec != 0 && dv.kind == LIS_DEVICE_CPU)
        return lis_err_usage("%s: [run] precision = %s needs device = cuda; the CPU computes in fp32", p->cfg_path, precs[prec]);
    lis_pipe_note(p, ST_PAIRS, "run.device", "%s %s", dv.kind == LIS_DEVICE_CPU ? "cpu" : "cuda", c->precision);
    const char *stages;
    TRY(lis_cfg_get_str(cfg, "run", "stages", "all", &stages));
    if (!strcmp(stages, "all")) for (int i = 0; i < ST_COUNT; i++) p->stage_on[i] = lis_pipe_stages[i].run != NULL;
    else {
        char *dup = strdup(stages), *save = NULL;
        for (char *t = strtok_r(dup, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            int k = 0;
            while (k < ST_COUNT && strcmp(t, lis_pipe_stages[k].name)) k++;
            if (k == ST_COUNT || !lis_pipe_stages[k].run) {
                lis_status e = lis_err_usage("%s: [run] stages: '%s' is not a stage of this build", p->cfg_path, t);
                free(dup);
                return e;
            }
            p->stage_on[k] = 1;
        }
        free(dup);
    }
    /* [sample] */
    TRY(lis_cfg_get_str(cfg, "sample", "classes", "all", &s));
    TRY(parse_classes(p, s, c_dim));
    lis_pipe_note(p, ST_SAMPLE, "sample.classes", "%s", s);
    TRY(lis_cfg_get_int(cfg, "sample", "samples_per_class", 100, 1, 10000000, &v)); c->samples_per_class = (int)v;
    TRY(lis_cfg_get_int(cfg, "sample", "seed", 0, 0, 4294967295L, &c->seed));
    TRY(lis_cfg_get_double(cfg, "sample", "psi", 0.7, -10, 10, &c->psi));
    lis_pipe_note(p, ST_SAMPLE, "sample", "%d %ld %.17g", c->samples_per_class, c->seed, c->psi);
    /* [pairs] */
    static const char *const keeps[] = {"correct", "all"};
    int keep;
    TRY(lis_cfg_get_enum(cfg, "pairs", "keep", keeps, 2, 0, &keep)); c->keep_all = keep == 1;
    TRY(lis_cfg_get_bool(cfg, "pairs", "faithful", 0, &c->faithful));
    TRY(lis_cfg_get_int(cfg, "pairs", "max_draws_per_class", 0, 0, 2000000000L, &c->max_draws));
    if (c->max_draws == 0) c->max_draws = 100L * c->samples_per_class;
    lis_pipe_note(p, ST_PAIRS, "pairs", "%d %d %ld", c->keep_all, c->faithful, c->max_draws);
    /* [link] */
    static const char *const models[] = {"ols", "ridge", "enet"};
    int m;
    TRY(lis_cfg_get_enum(cfg, "link", "model", models, 3, 0, &m));
    lis_link_params_default(&c->link, (lis_link_model)m);
    TRY(lis_cfg_get_double(cfg, "link", "alpha", c->link.alpha, 0, 1e12, &c->link.alpha));
    TRY(lis_cfg_get_double(cfg, "link", "l1_ratio", c->link.l1_ratio, 0, 1, &c->link.l1_ratio));
    TRY(lis_cfg_get_double(cfg, "link", "rcond", c->link.rcond, 0, 1, &c->link.rcond));
    TRY(lis_cfg_get_int(cfg, "link", "max_iter", c->link.max_iter, 1, 1000000, &v)); c->link.max_iter = (int)v;
    TRY(lis_cfg_get_double(cfg, "link", "tol", c->link.tol, 0, 1, &c->link.tol));
    TRY(lis_cfg_get_double(cfg, "link", "holdout", 0.2, 0, 0.9, &c->holdout));
    TRY(lis_cfg_get_int(cfg, "link", "cycle_samples", 64, 0, 1000000, &v)); c->cycle_samples = (int)v;
    lis_pipe_note(p, ST_LINK, "link", "%d %.17g %.17g %.17g %d %.17g %.17g %d", m, c->link.alpha, c->link.l1_ratio, c->link.rcond,
         c->link.max_iter, c->link.tol, c->holdout, c->cycle_samples);
    /* [tune] */
    TRY(lis_cfg_get_int_list(cfg, "tune", "units", "all", 0, feat_dim - 1, &c->units, &c->n_units));
    if (c->n_units == 0) return lis_err_usage("%s: [tune] units is empty", p->cfg_path);
    TRY(lis_cfg_get_int(cfg, "tune", "samples_per_class", 2, 1, 100000, &v)); c->tune_spc = (int)v;
    TRY(lis_cfg_get_int(cfg, "tune", "seed", 136, 0, 4294967295L, &c->tune_seed));
    TRY(lis_cfg_get_double(cfg, "tune", "psi", 0.7, -10, 10, &c->tune_psi));
    TRY(lis_cfg_get_int(cfg, "tune", "n_steps", 3, 2, 1000, &v)); c->n_steps = (int)v;
    TRY(lis_cfg_get_bool(cfg, "tune", "classify", 1, &c->tune_classify));
    TRY(lis_cfg_get_int(cfg, "tune", "chunk", 32, 1, 100000, &v)); c->chunk = (int)v;
    lis_sbuf ub = {0};
    for (size_t i = 0; i < c->n_units; i++) lis_sbuf_printf(&ub, "%ld,", c->units[i]);
    lis_pipe_note(p, ST_TUNE, "tune.units", "%s", ub.s ? ub.s : "");
    lis_sbuf_free(&ub);
    lis_pipe_note(p, ST_TUNE, "tune", "%d %ld %.17g %d %d %d", c->tune_spc, c->tune_seed, c->tune_psi, c->n_steps, c->tune_classify, c->chunk);
    /* [report] */
    TRY(lis_cfg_get_int(cfg, "report", "units_shown", 48, 0, 1000000, &v)); c->report_units = (int)v;
    lis_pipe_note(p, ST_REPORT, "report", "%d", c->report_units);
    /* the optional stages' own sections */
    for (int st = 0; st < ST_COUNT; st++) {
        if (!lis_pipe_stages[st].read_config) continue;
        int enabled = 1;
        TRY(lis_pipe_stages[st].read_config(p, &enabled));
        if (!enabled) p->stage_on[st] = 0;
    }
    TRY(lis_cfg_check_unused(cfg));
    if (c->threads) lis_threads_set(c->threads);
    return LIS_OK;
}

lis_status lis_pipe_models(lis_pipe *p) {
    if (p->render_ready) return LIS_OK;
    if (!p->g_loaded) {
        TRY(lis_sgxl_load(&p->g, p->c.generator));
        p->g_loaded = 1;
    }
    if (!p->cls_loaded) {
        TRY(lis_resnet_load_file(&p->cls, p->c.classifier));
        p->cls_loaded = 1;
    }
    TRY(lis_render_init_on(&p->render, &p->g, &p->cls, p->c.classifier, p->c.batch, p->c.device, p->c.precision));
    p->render_ready = 1;
    char desc[320];
    lis_pipe_log(p, "rendering on %s", lis_render_describe(&p->render, desc, sizeof desc));
    return LIS_OK;
}

char *lis_pipe_path(const lis_pipe *p, const char *rel) { return lis_path_join(p->dir, rel); }

lis_status lis_pipe_mkdir(const lis_pipe *p, const char *rel) {
    char *d = lis_pipe_path(p, rel);
    if (!d) return LIS_ERR;
    lis_status s = lis_mkdirs(d);
    free(d);
    return s;
}

int lis_pipe_stage_done(lis_pipe *p, int stage, lis_status *err) {
    char rel[64], *text = NULL;
    snprintf(rel, sizeof rel, "stages/%s.done", lis_pipe_stages[stage].name);
    char *path = lis_pipe_path(p, rel);
    *err = LIS_OK;
    if (!path || !lis_file_exists(path)) { free(path); return 0; }
    size_t len;
    if (lis_read_file(path, &text, &len) != LIS_OK) { free(path); *err = LIS_ERR; return 0; }
    unsigned long long d = strtoull(text, NULL, 16);
    free(text);
    if (d != p->digest[stage]) {
        *err = lis_err_usage("%s: stage '%s' was finished with a different configuration; use a new --out directory "
                             "(or delete %s to redo it)", p->dir, lis_pipe_stages[stage].name, path);
        free(path);
        return 0;
    }
    free(path);
    return 1;
}

lis_status lis_pipe_mark_done(lis_pipe *p, int stage) {
    char rel[64], text[64];
    snprintf(rel, sizeof rel, "stages/%s.done", lis_pipe_stages[stage].name);
    int n = snprintf(text, sizeof text, "%016llx\n", (unsigned long long)p->digest[stage]);
    return lis_pipe_write_text(p, rel, text, (size_t)n);
}

void lis_pipe_log(lis_pipe *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "lis-run: %s\n", line);
    if (p->log) { fprintf(p->log, "%s\n", line); fflush(p->log); }
}

lis_status lis_pipe_save(lis_pipe *p, const char *rel, lis_dtype dt, int ndim, const int64_t *shape, const void *data) {
    return lis_npy_write_in(p->dir, rel, dt, ndim, shape, data);
}

lis_status lis_pipe_load(lis_pipe *p, const char *rel, lis_tensor *t) {
    char *path = lis_pipe_path(p, rel);
    if (!path) return LIS_ERR;
    lis_status s = lis_npy_read(path, t);
    free(path);
    return s;
}

lis_status lis_pipe_write_text(lis_pipe *p, const char *rel, const char *text, size_t len) {
    char *path = lis_pipe_path(p, rel);
    if (!path) return LIS_ERR;
    lis_status s = lis_write_file_atomic(path, text, len);
    free(path);
    return s;
}

void lis_pipe_free(lis_pipe *p) {
    for (int st = 0; st < ST_COUNT; st++)
        if (p->stage_data[st] && lis_pipe_stages[st].free_data) lis_pipe_stages[st].free_data(p->stage_data[st]);
    if (p->render_ready) lis_render_free(&p->render);
    if (p->g_loaded) lis_sgxl_free(&p->g);
    if (p->cls_loaded) lis_resnet_free(&p->cls);
    free(p->c.classes);
    free(p->c.generator);
    free(p->c.classifier);
    free(p->dir);
    if (p->log) fclose(p->log);
    lis_cfg_free(p->cfg);
    memset(p, 0, sizeof *p);
}
