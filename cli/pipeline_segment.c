/* pipeline_segment.c — stage `segment` (spec/pipeline.md 6): a FewShotCNN head on the
 * generator's own features labels every tuned image with semantic parts.
 *
 * Head: seg/head.safetensors. It is trained here when labelled images are given
 * ([segment] labels = DIR in the original's layout: DIR/labels/NAME.npy (uint8 [1, H, W])
 * or NAME.png (8-bit index / grey), and DIR/w/NAME.npy, the w that generated the image;
 * or [segment] toyworld = N: N toy-world scenes whose exact masks come from the renderer,
 * nets/toyworld.h), else copied from [segment] head = FILE. Training is the original's
 * train_seg_model (nets/fewshot_cnn.h), from features captured once per labelled image.
 *
 * Prediction: every w of the tuning chunks (tune/chunks/chunk_<j>/w.npy [units, S, T, w_dim])
 * is synthesised again with taps; the head's first convolution is accumulated from the taps
 * as they appear (no concatenated tensor). Per chunk: seg/chunks/chunk_<j>/masks.npy
 * (uint8 [units, S, T, img, img]) and units.npy, then a done marker, so an interrupted run
 * resumes at the chunk it was in. Overlays: seg/overlays/unit_<u>/class_<c>_sample_<j>.png,
 * the original's composite (top: the images at the head's size, nearest; bottom: the
 * colour-coded masks, label 0 black, label l Set3 colour l-1).
 *
 * Check (toy world only, [segment] check = N): N further scenes, not used for training,
 * are predicted and compared with the renderer's exact masks: seg/check.csv (IoU per label).
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pipeline.h"
#include "kernels/nearest_concat.h"
#include "kernels/seg_metrics.h"
#include "nets/fewshot_cnn.h"
#include "nets/toyworld.h"
#include "runtime/backend.h"
#include "runtime/fileio.h"
#include "runtime/np_random.h"
#include "runtime/npy.h"
#include "runtime/png_io.h"
#include "runtime/progress.h"

lis_status lis_segment_config(lis_pipe *p, int *enabled);
lis_status lis_stage_segment(lis_pipe *p);
lis_status lis_segment_report(lis_pipe *p, lis_sbuf *html);
void lis_segment_free(void *data);

#define TRY(x) do { lis_status s_ = (x); if (s_) return s_; } while (0)
#define MAX_NAMES 32

typedef struct {
    char *labels_dir, *head_path; /* resolved against the config's directory */
    int toyworld, check;
    long toy_seed, seed;
    char size;
    int img_size;                 /* 0: min(128, generator resolution) */
    lis_registration reg;
    lis_fewshot_train_params tp;
    int epochs, overlays;
    int n_names;
    char names[MAX_NAMES][LIS_FEWSHOT_NAME];
    lis_sgxl_runner gpu;          /* [run] device = cuda: the synthesis with taps on the GPU */
    int gpu_ready;
} seg_opts;

/* The GPU generator of this stage ([run] device), made on first use; *out NULL on the CPU. */
static lis_status seg_gpu(lis_pipe *p, seg_opts *o, lis_sgxl_runner **out) {
    *out = NULL;
    if (!o->gpu_ready) { /* gpu_ready with gpu.gc NULL: decided for the CPU */
        lis_device dev;
        LIS_TRY(lis_device_parse(p->c.device, &dev));
        if (dev.kind == LIS_DEVICE_CPU) return LIS_OK;
        lis_status s = lis_sgxl_runner_init(&o->gpu, &p->g, p->c.device, p->c.precision, p->c.batch);
        if (s != LIS_OK && !strcmp(p->c.device, "auto") && !strcmp(p->c.precision, "fp32")) {
            /* as the renders: auto leaves a GPU that cannot take the generator for the CPU */
            lis_pipe_log(p, "segment: warning: the GPU could not be used (%s); the taps come from the CPU", lis_err_msg());
            lis_sgxl_runner_free(&o->gpu);
            o->gpu_ready = 1;
            return LIS_OK;
        }
        if (s != LIS_OK) return s;
        o->gpu_ready = 1;
        char desc[320];
        lis_pipe_log(p, "segment: the generator's taps come from %s", lis_sgxl_runner_describe(&o->gpu, desc, sizeof desc));
    }
    *out = o->gpu.gc ? &o->gpu : NULL;
    return LIS_OK;
}

void lis_segment_free(void *data) {
    seg_opts *o = data;
    if (!o) return;
    lis_sgxl_runner_free(&o->gpu);
    free(o->labels_dir);
    free(o->head_path);
    free(o);
}

lis_status lis_segment_config(lis_pipe *p, int *enabled) {
    seg_opts *o = calloc(1, sizeof *o);
    if (!o) return lis_err_set("out of memory");
    p->stage_data[ST_SEGMENT] = o;
    lis_cfg *cfg = p->cfg;
    const char *labels, *head, *names;
    long v;
    TRY(lis_cfg_get_str(cfg, "segment", "labels", "", &labels));
    TRY(lis_cfg_get_str(cfg, "segment", "head", "", &head));
    TRY(lis_cfg_get_int(cfg, "segment", "toyworld", 0, 0, 1000000, &v)); o->toyworld = (int)v;
    TRY(lis_cfg_get_int(cfg, "segment", "toyworld_seed", 1000000, 0, 4294967295L, &o->toy_seed));
    TRY(lis_cfg_get_int(cfg, "segment", "check", 0, 0, 1000000, &v)); o->check = (int)v;
    static const char *const sizes[] = {"S", "M", "L"}, *const regs[] = {"original", "cropped"};
    int si, ri;
    TRY(lis_cfg_get_enum(cfg, "segment", "size", sizes, 3, 0, &si)); o->size = sizes[si][0];
    TRY(lis_cfg_get_int(cfg, "segment", "img_size", 0, 0, 4096, &v)); o->img_size = (int)v;
    TRY(lis_cfg_get_enum(cfg, "segment", "registration", regs, 2, 0, &ri)); o->reg = (lis_registration)ri;
    lis_fewshot_train_params_default(&o->tp);
    TRY(lis_cfg_get_int(cfg, "segment", "epochs", 100, 1, 1000000, &v)); o->epochs = (int)v;
    TRY(lis_cfg_get_double(cfg, "segment", "lr", o->tp.lr, 0, 10, &o->tp.lr));
    TRY(lis_cfg_get_double(cfg, "segment", "weight_decay", o->tp.weight_decay, 0, 10, &o->tp.weight_decay));
    TRY(lis_cfg_get_int(cfg, "segment", "step_size", o->tp.step_size, 1, 1000000, &v)); o->tp.step_size = (int)v;
    TRY(lis_cfg_get_double(cfg, "segment", "gamma", o->tp.gamma, 0, 1, &o->tp.gamma));
    TRY(lis_cfg_get_int(cfg, "segment", "seed", 0, 0, 4294967295L, &o->seed));
    TRY(lis_cfg_get_bool(cfg, "segment", "overlays", 1, &o->overlays));
    TRY(lis_cfg_get_str(cfg, "segment", "label_names", "", &names));
    /* "background, object, outline" */
    for (const char *s = names; *s && o->n_names < MAX_NAMES;) {
        while (*s == ' ' || *s == ',') s++;
        if (!*s) break;
        const char *e = s;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > s && t[-1] == ' ') t--;
        snprintf(o->names[o->n_names++], LIS_FEWSHOT_NAME, "%.*s", (int)(t - s), s);
        s = e;
    }
    if (o->toyworld && !o->n_names) {
        for (int l = 0; l < LIS_TOY_N_LABELS; l++) snprintf(o->names[l], LIS_FEWSHOT_NAME, "%s", lis_toy_label_names[l]);
        o->n_names = LIS_TOY_N_LABELS;
    }
    if (*labels && o->toyworld)
        return lis_err_usage("%s: [segment] give either labels = DIR or toyworld = N, not both", p->cfg_path);
    if (o->check && !o->toyworld)
        return lis_err_usage("%s: [segment] check = N compares with the toy world's exact masks: it needs toyworld = N", p->cfg_path);
    o->labels_dir = lis_pipe_resolve(p, labels);
    o->head_path = lis_pipe_resolve(p, head);
    if (!o->labels_dir && !o->head_path && !o->toyworld) { *enabled = 0; return LIS_OK; }
    /* segmentation feeds quantify and the report only: keep its keys out of the other
     * stages' digests, so adding it to a finished run does not invalidate the rest */
    uint64_t keep[ST_COUNT];
    memcpy(keep, p->digest, sizeof keep);
    lis_pipe_note(p, ST_SEGMENT, "segment", "%s|%s|%d %ld %d|%c %d %d|%d %.17g %.17g %d %.17g %ld|%s", labels, head, o->toyworld,
                  o->toy_seed, o->check, o->size, o->img_size, (int)o->reg, o->epochs, o->tp.lr, o->tp.weight_decay,
                  o->tp.step_size, o->tp.gamma, o->seed, names);
    lis_pipe_note(p, ST_SEGMENT, "segment.overlays", "%d", o->overlays);
    for (int st = ST_SEGMENT + 1; st < ST_REPORT; st++)
        if (st != ST_QUANTIFY) p->digest[st] = keep[st];
    return LIS_OK;
}

/* ---- training data ---- */

typedef struct {
    int n, cap, S;
    float *w;       /* [n, w_dim] */
    uint8_t *lab;   /* [n, S, S] */
    char **names;
} train_set;

static void train_set_free(train_set *t) {
    for (int i = 0; i < t->n; i++) free(t->names[i]);
    free(t->names); free(t->w); free(t->lab);
    memset(t, 0, sizeof *t);
}

static lis_status train_set_add(train_set *t, const char *name, const float *w, int wd, const uint8_t *lab, int H, int W) {
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        float *nw = realloc(t->w, sizeof(float) * (size_t)cap * wd);
        if (nw) t->w = nw;
        uint8_t *nl = realloc(t->lab, (size_t)cap * t->S * t->S);
        if (nl) t->lab = nl;
        char **nn = realloc(t->names, sizeof(char *) * cap);
        if (nn) t->names = nn;
        if (!nw || !nl || !nn) return lis_err_set("out of memory");
        t->cap = cap;
    }
    memcpy(t->w + (size_t)t->n * wd, w, sizeof(float) * wd);
    /* labels resized to the head's size by nearest, as the original (256 -> 128: every 2nd pixel) */
    uint8_t *dst = t->lab + (size_t)t->n * t->S * t->S;
    for (int y = 0; y < t->S; y++)
        for (int x = 0; x < t->S; x++)
            dst[y * t->S + x] = lab[(size_t)lis_nearest_src(y, H, t->S) * W + lis_nearest_src(x, W, t->S)];
    t->names[t->n] = strdup(name);
    t->n++;
    return LIS_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* DIR/labels/NAME.{npy,png} with DIR/w/NAME.npy, in name order */
static lis_status load_labels_dir(lis_pipe *p, const char *dir, train_set *t) {
    lis_sgxl *g = &p->g;
    char *ld = lis_path_join(dir, "labels");
    DIR *d = ld ? opendir(ld) : NULL;
    if (!d) { lis_status e = lis_err_set("%s: cannot open (expected DIR/labels/*.npy|png and DIR/w/*.npy)", ld ? ld : dir); free(ld); return e; }
    char **files = NULL;
    int nf = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || (strcmp(e->d_name + n - 4, ".npy") && strcmp(e->d_name + n - 4, ".png"))) continue;
        if (nf == cap) { cap = cap ? 2 * cap : 64; char **nfp = realloc(files, sizeof(char *) * cap); if (!nfp) break; files = nfp; }
        files[nf++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(files, (size_t)nf, sizeof(char *), cmp_str);
    lis_status s = LIS_OK;
    for (int i = 0; i < nf && s == LIS_OK; i++) {
        size_t n = strlen(files[i]);
        char base[512];
        snprintf(base, sizeof base, "%.*s", (int)(n - 4), files[i]);
        int is_png = !strcmp(files[i] + n - 4, ".png");
        if (is_png && i > 0 && !strncmp(files[i - 1], base, strlen(base)) && strlen(files[i - 1]) == n) continue; /* NAME.npy wins */
        char *lp = lis_path_join(ld, files[i]);
        uint8_t *lab = NULL;
        int H = 0, W = 0;
        lis_tensor lt = {0};
        if (is_png) s = lis_png_read_index(lp, &lab, &H, &W);
        else {
            s = lis_npy_read(lp, &lt);
            if (s == LIS_OK && !(lt.dtype == LIS_DTYPE_U8 && ((lt.ndim == 3 && lt.shape[0] == 1) || lt.ndim == 2)))
                s = lis_err_set("%s: labels must be uint8 [1, H, W] (the original's format) or [H, W]", lp);
            if (s == LIS_OK) { H = (int)lt.shape[lt.ndim - 2]; W = (int)lt.shape[lt.ndim - 1]; lab = lt.data; }
        }
        char wrel[600];
        snprintf(wrel, sizeof wrel, "w/%s.npy", base);
        char *wp = lis_path_join(dir, wrel);
        lis_tensor wt = {0};
        if (s == LIS_OK) s = lis_npy_read_f32(wp, &wt);
        if (s == LIS_OK && wt.shape[wt.ndim - 1] != g->w_dim)
            s = lis_err_set("%s: w of width %lld, the generator's is %d", wp, (long long)wt.shape[wt.ndim - 1], g->w_dim);
        /* [num_ws, w_dim], [1, num_ws, w_dim] or [w_dim]: the rows are identical, take the first */
        if (s == LIS_OK) s = train_set_add(t, base, wt.data, g->w_dim, lab, H, W);
        lis_tensor_free(&wt);
        if (is_png) free(lab);
        else lis_tensor_free(&lt);
        free(lp);
        free(wp);
    }
    for (int i = 0; i < nf; i++) free(files[i]);
    free(files);
    free(ld);
    if (s == LIS_OK && t->n == 0) s = lis_err_set("%s/labels: no label files (.npy or .png)", dir);
    return s;
}

/* toy-world scenes: z = RandomState(seed + i).randn(z_dim), class = the run's classes in turn */
static lis_status toy_scene(lis_pipe *p, long seed, int i, float *w, uint8_t *lab_R, double *params, int *cls_out) {
    lis_sgxl *g = &p->g;
    int64_t cls = p->c.classes[i % p->c.n_classes];
    if (cls >= LIS_TOY_N_CLASSES)
        return lis_err_usage("[segment] toyworld: class %lld is not a toy-world class (0..5): use the toy world's generator", (long long)cls);
    double z[4096];
    float zf[4096], *ws = malloc(sizeof(float) * g->num_ws * g->w_dim);
    if (!ws) return lis_err_set("out of memory");
    if (g->z_dim > 4096 || g->z_dim < 9) { free(ws); return lis_err_set("toy world: z_dim %d", g->z_dim); }
    lis_np_randn_seed((uint32_t)(seed + i), z, g->z_dim);
    for (int k = 0; k < g->z_dim; k++) zf[k] = (float)z[k];
    /* the scene follows the normalised float32 z the mapping sees; float64 here is within rounding */
    lis_toy_params_from_z(z, g->z_dim, params);
    lis_toy_render(params, (int)cls, g->img_resolution, NULL, lab_R, NULL);
    lis_status s = lis_sgxl_mapping(g, zf, &cls, 1, 1.0f, 0, ws, NULL); /* psi = 1: the scene itself */
    if (s == LIS_OK) memcpy(w, ws, sizeof(float) * g->w_dim);
    free(ws);
    *cls_out = (int)cls;
    return s;
}

static void shuffle(int *order, int n, lis_np_rng *rng) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(lis_np_double(rng) * (i + 1));
        int t = order[i]; order[i] = order[j]; order[j] = t;
    }
}

static lis_status train_head(lis_pipe *p, seg_opts *o, lis_fewshot *net, int img_size) {
    lis_sgxl *g = &p->g;
    train_set ts = {.S = img_size};
    lis_status s = LIS_OK;
    int R = g->img_resolution;
    if (o->toyworld) {
        uint8_t *lab = malloc((size_t)R * R);
        float *w = malloc(sizeof(float) * g->w_dim);
        if (!lab || !w) s = lis_err_set("out of memory");
        for (int i = 0; i < o->toyworld && s == LIS_OK; i++) {
            double par[LIS_TOY_N_PARAMS];
            int cls;
            char name[64];
            s = toy_scene(p, o->toy_seed, i, w, lab, par, &cls);
            snprintf(name, sizeof name, "toy_%d_class_%d_seed_%ld", i, cls, o->toy_seed + i);
            if (s == LIS_OK) s = train_set_add(&ts, name, w, g->w_dim, lab, R, R);
        }
        free(lab);
        free(w);
    } else {
        s = load_labels_dir(p, o->labels_dir, &ts);
    }
    int n_class = o->n_names;
    for (int64_t q = 0; s == LIS_OK && q < (int64_t)ts.n * img_size * img_size; q++)
        n_class = ts.lab[q] + 1 > n_class ? ts.lab[q] + 1 : n_class;
    if (s == LIS_OK && n_class < 2) s = lis_err_set("[segment] the labels hold a single class; nothing to learn");
    /* the head's input: the generator's taps (every second module, as the original) */
    int modules[LIS_FEWSHOT_MAX_TAPS], nt = 0;
    lis_nc_params nc;
    int in_ch = 0;
    if (s == LIS_OK) {
        nt = lis_fewshot_default_taps(g, modules, LIS_FEWSHOT_MAX_TAPS);
        s = lis_fewshot_tap_geometry(g, modules, nt, o->reg, img_size, &nc);
    }
    if (s == LIS_OK) s = lis_nc_check(&nc, &in_ch);
    if (s == LIS_OK) s = lis_fewshot_init(net, o->size, in_ch, n_class, img_size, (uint32_t)o->seed);
    if (s != LIS_OK) { train_set_free(&ts); return s; }
    net->registration = o->reg;
    net->n_labels_named = o->n_names < n_class ? o->n_names : n_class;
    for (int l = 0; l < net->n_labels_named; l++) snprintf(net->label_names[l], LIS_FEWSHOT_NAME, "%s", o->names[l]);
    lis_pipe_log(p, "segment: training FewShotCNN-%c on %d labelled images (%d classes, %d channels from %d generator layers, "
                    "%dx%d, %s registration), %d epochs", o->size, ts.n, n_class, in_ch, nt, img_size, img_size,
                 o->reg == LIS_REG_CROPPED ? "cropped" : "original", o->epochs);
    /* features of every labelled image, captured once (grids: see lis_nc_grid_copy) */
    lis_seg_gen sg;
    memset(&sg, 0, sizeof sg);
    lis_sgxl_runner *gpu = NULL;
    s = seg_gpu(p, o, &gpu);
    if (s == LIS_OK) s = lis_seg_gen_init(&sg, net, g, p->c.batch, gpu);
    float *grids = s == LIS_OK ? lis_malloc(sizeof(float) * sg.grid_floats * ts.n, "training features") : NULL;
    if (s == LIS_OK && !grids) s = LIS_ERR;
    for (int i0 = 0; i0 < ts.n && s == LIS_OK; i0 += p->c.batch) {
        int B = ts.n - i0 < p->c.batch ? ts.n - i0 : p->c.batch;
        s = lis_seg_gen_capture(&sg, ts.w + (size_t)i0 * g->w_dim, B, grids + (size_t)i0 * sg.grid_floats, NULL);
    }
    lis_nc_params gnc;
    lis_seg_gen_grid_geometry(&sg, &gnc);
    lis_fewshot_trainer tr = {0};
    if (s == LIS_OK) s = lis_fewshot_plan(net, &gnc);
    if (s == LIS_OK) s = lis_fewshot_trainer_init(&tr, net, &o->tp);
    int *order = malloc(sizeof(int) * ts.n);
    lis_np_rng rng;
    lis_np_seed(&rng, (uint32_t)o->seed);
    lis_sbuf csv = {0};
    lis_sbuf_printf(&csv, "epoch,lr,mean_loss\n");
    lis_progress pr;
    lis_progress_init(&pr, "segment: train", "epochs", o->epochs);
    for (int e = 0; e < o->epochs && s == LIS_OK; e++) {
        shuffle(order, ts.n, &rng);
        double sum = 0, lr = lis_fewshot_lr(&tr);
        for (int k = 0; k < ts.n && s == LIS_OK; k++) {
            const float *maps[LIS_FEWSHOT_MAX_TAPS];
            lis_seg_gen_grid_maps(&sg, grids + (size_t)order[k] * sg.grid_floats, maps);
            double l;
            s = lis_fewshot_train_step(net, &tr, maps, ts.lab + (size_t)order[k] * img_size * img_size, &l);
            sum += l;
        }
        tr.epoch++; /* StepLR.step() once per epoch */
        lis_sbuf_printf(&csv, "%d,%.6g,%.6f\n", e + 1, lr, sum / ts.n);
        lis_progress_update(&pr, e + 1);
    }
    lis_progress_done(&pr, o->epochs);
    if (s == LIS_OK) s = csv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "seg/train_loss.csv", csv.s, csv.len);
    lis_sbuf_free(&csv);
    free(order);
    lis_fewshot_trainer_free(&tr);
    free(grids);
    lis_seg_gen_free(&sg);
    train_set_free(&ts);
    return s;
}

/* ---- prediction ---- */

static void overlay_strip(const uint8_t *u8, int R, const uint8_t *masks, int H, int T, uint8_t *strip) {
    /* [2H, T*H, 3]: images on top (nearest R -> H), colour-coded masks below */
    int Wd = T * H;
    for (int t = 0; t < T; t++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < H; x++) {
                const uint8_t *src = u8 + ((size_t)t * R * R + (size_t)lis_nearest_src(y, R, H) * R + lis_nearest_src(x, R, H)) * 3;
                memcpy(strip + ((size_t)y * Wd + t * H + x) * 3, src, 3);
                lis_seg_label_color(masks[((size_t)t * H + y) * H + x], strip + ((size_t)(H + y) * Wd + t * H + x) * 3);
            }
}

static int chunk_done(lis_pipe *p, const char *stage_dir, int j) {
    char rel[128];
    snprintf(rel, sizeof rel, "%s/chunks/chunk_%05d/done", stage_dir, j);
    char *path = lis_pipe_path(p, rel);
    int d = path && lis_file_exists(path);
    free(path);
    return d;
}

static lis_status predict_chunk(lis_pipe *p, seg_opts *o, lis_seg_gen *sg, int j) {
    lis_sgxl *g = &p->g;
    lis_pipe_cfg *c = &p->c;
    char rel[160];
    lis_tensor tw = {0}, tu = {0};
    snprintf(rel, sizeof rel, "tune/chunks/chunk_%05d/w.npy", j);
    lis_status s = lis_pipe_load(p, rel, &tw);
    snprintf(rel, sizeof rel, "tune/chunks/chunk_%05d/units.npy", j);
    if (s == LIS_OK) s = lis_pipe_load(p, rel, &tu);
    if (s == LIS_OK && (tw.ndim != 4 || tw.dtype != LIS_DTYPE_F32 || tw.shape[3] != g->w_dim || tu.dtype != LIS_DTYPE_I64 ||
                        tu.shape[0] != tw.shape[0]))
        s = lis_err_set("%s/tune/chunks/chunk_%05d: w.npy must be float32 [units, S, T, %d] with units.npy beside it", p->dir, j, g->w_dim);
    if (s != LIS_OK) { lis_tensor_free(&tw); lis_tensor_free(&tu); return s; }
    int nu = (int)tw.shape[0], S = (int)tw.shape[1], T = (int)tw.shape[2], H = sg->net->img_size, R = g->img_resolution;
    int64_t n = (int64_t)nu * S * T;
    uint8_t *masks = lis_malloc((size_t)n * H * H, "masks"), *u8 = lis_malloc((size_t)c->batch * R * R * 3, "images");
    uint8_t *allu8 = o->overlays ? lis_malloc((size_t)T * R * R * 3 * S * nu, "images") : NULL;
    if (!masks || !u8 || (o->overlays && !allu8)) s = LIS_ERR;
    for (int64_t i0 = 0; i0 < n && s == LIS_OK; i0 += c->batch) {
        int B = n - i0 < c->batch ? (int)(n - i0) : c->batch;
        s = lis_seg_gen_predict(sg, (const float *)tw.data + i0 * g->w_dim, B, masks + i0 * H * H, allu8 ? allu8 + i0 * R * R * 3 : u8);
    }
    char d[64];
    snprintf(d, sizeof d, "seg/chunks/chunk_%05d", j);
    if (s == LIS_OK) s = lis_pipe_mkdir(p, d);
    if (s == LIS_OK && allu8) {
        uint8_t *strip = lis_malloc((size_t)2 * H * T * H * 3, "overlay");
        for (int a = 0; a < nu && s == LIS_OK && strip; a++) {
            int u = (int)((int64_t *)tu.data)[a];
            char od[64];
            snprintf(od, sizeof od, "seg/overlays/unit_%05d", u);
            s = lis_pipe_mkdir(p, od);
            for (int k = 0; k < S && s == LIS_OK; k++) {
                int64_t base = ((int64_t)a * S + k) * T;
                overlay_strip(allu8 + base * R * R * 3, R, masks + base * H * H, H, T, strip);
                snprintf(rel, sizeof rel, "%s/class_%ld_sample_%d.png", od, c->classes[k / c->tune_spc], k % c->tune_spc);
                char *path = lis_pipe_path(p, rel);
                s = path ? lis_png_write(path, strip, 2 * H, T * H, 3) : LIS_ERR;
                free(path);
            }
        }
        if (!strip) s = LIS_ERR;
        free(strip);
    }
    int64_t sm[5] = {nu, S, T, H, H};
    snprintf(rel, sizeof rel, "%s/masks.npy", d);
    if (s == LIS_OK) s = lis_pipe_save(p, rel, LIS_DTYPE_U8, 5, sm, masks);
    snprintf(rel, sizeof rel, "%s/units.npy", d);
    if (s == LIS_OK) s = lis_pipe_save(p, rel, LIS_DTYPE_I64, 1, tu.shape, tu.data);
    snprintf(rel, sizeof rel, "%s/done", d);
    if (s == LIS_OK) s = lis_pipe_write_text(p, rel, "ok\n", 3);
    free(masks); free(u8); free(allu8);
    lis_tensor_free(&tw);
    lis_tensor_free(&tu);
    return s;
}

/* IoU of the head against the renderer on scenes it was not trained on */
static lis_status check_toy(lis_pipe *p, seg_opts *o, lis_seg_gen *sg) {
    lis_sgxl *g = &p->g;
    int H = sg->net->img_size, R = g->img_resolution, L = sg->net->n_class;
    double inter[256] = {0}, uni[256] = {0};
    float *w = malloc(sizeof(float) * g->w_dim);
    uint8_t *labR = malloc((size_t)R * R), *pred = malloc((size_t)H * H), *u8 = malloc((size_t)R * R * 3);
    uint8_t *exact = malloc((size_t)H * H);
    lis_status s = w && labR && pred && u8 && exact ? LIS_OK : lis_err_set("out of memory");
    double pix_ok = 0, pix = 0;
    for (int i = 0; i < o->check && s == LIS_OK; i++) {
        double par[LIS_TOY_N_PARAMS];
        int cls;
        s = toy_scene(p, o->toy_seed, o->toyworld + i, w, labR, par, &cls);
        if (s == LIS_OK) s = lis_seg_gen_predict(sg, w, 1, pred, u8);
        for (int y = 0; y < H && s == LIS_OK; y++)
            for (int x = 0; x < H; x++) {
                int e = labR[(size_t)lis_nearest_src(y, R, H) * R + lis_nearest_src(x, R, H)], q = pred[y * H + x];
                exact[y * H + x] = (uint8_t)e;
                for (int l = 0; l < L; l++) {
                    inter[l] += (e == l) && (q == l);
                    uni[l] += (e == l) || (q == l);
                }
                pix_ok += e == q;
                pix++;
            }
    }
    lis_sbuf csv = {0};
    lis_sbuf_printf(&csv, "label,name,iou,exact_pixels_union\n");
    for (int l = 0; l < L; l++)
        lis_sbuf_printf(&csv, "%d,%s,%.4f,%.0f\n", l, l < sg->net->n_labels_named ? sg->net->label_names[l] : "", uni[l] > 0 ? inter[l] / uni[l] : NAN, uni[l]);
    lis_sbuf_printf(&csv, "all,pixel_accuracy,%.4f,%.0f\n", pix > 0 ? pix_ok / pix : NAN, pix);
    if (s == LIS_OK) s = csv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "seg/check.csv", csv.s, csv.len);
    if (s == LIS_OK)
        lis_pipe_log(p, "segment: check on %d held-out toy scenes: object IoU %.3f, outline IoU %.3f, pixel accuracy %.3f", o->check,
                     L > 1 && uni[1] > 0 ? inter[1] / uni[1] : NAN, L > 2 && uni[2] > 0 ? inter[2] / uni[2] : NAN, pix_ok / (pix > 0 ? pix : 1));
    lis_sbuf_free(&csv);
    free(w); free(labR); free(pred); free(u8); free(exact);
    return s;
}

lis_status lis_stage_segment(lis_pipe *p) {
    seg_opts *o = p->stage_data[ST_SEGMENT];
    TRY(lis_pipe_models(p));
    TRY(lis_pipe_mkdir(p, "seg/chunks"));
    lis_sgxl *g = &p->g;
    int img_size = o->img_size ? o->img_size : (g->img_resolution < 128 ? g->img_resolution : 128);
    lis_fewshot net;
    lis_status s;
    char *hp = lis_pipe_path(p, "seg/head.safetensors");
    if (!hp) return LIS_ERR;
    if (lis_file_exists(hp)) {
        s = lis_fewshot_load(&net, hp); /* trained before an interruption */
    } else if (o->labels_dir || o->toyworld) {
        s = train_head(p, o, &net, img_size);
        if (s == LIS_OK) s = lis_fewshot_save(&net, hp, o->toyworld ? "lis segment: trained on toy-world exact masks" : o->labels_dir);
    } else {
        s = lis_fewshot_load(&net, o->head_path);
        if (s == LIS_OK && net.n_labels_named == 0 && o->n_names) {
            net.n_labels_named = o->n_names < net.n_class ? o->n_names : net.n_class;
            for (int l = 0; l < net.n_labels_named; l++) snprintf(net.label_names[l], LIS_FEWSHOT_NAME, "%s", o->names[l]);
        }
        if (s == LIS_OK) s = lis_fewshot_save(&net, hp, o->head_path);
    }
    free(hp);
    if (s != LIS_OK) return s;
    lis_seg_gen sg;
    memset(&sg, 0, sizeof sg);
    lis_sgxl_runner *gpu = NULL;
    s = seg_gpu(p, o, &gpu);
    if (s == LIS_OK) s = lis_seg_gen_init(&sg, &net, g, p->c.batch, gpu);
    int nchunks = (int)((p->c.n_units + (size_t)p->c.chunk - 1) / (size_t)p->c.chunk), todo = 0;
    for (int j = 0; j < nchunks; j++) todo += !chunk_done(p, "seg", j);
    if (s == LIS_OK)
        lis_pipe_log(p, "segment: FewShotCNN-%c, %d classes, %dx%d masks from %d generator layers (%s registration); %d of %d chunks to do",
                     net.size, net.n_class, net.img_size, net.img_size, sg.n_taps,
                     net.registration == LIS_REG_CROPPED ? "cropped" : "original", todo, nchunks);
    lis_progress pr;
    lis_progress_init(&pr, "segment", "chunks", todo);
    int done_now = 0;
    for (int j = 0; j < nchunks && s == LIS_OK; j++) {
        if (chunk_done(p, "seg", j)) continue;
        s = predict_chunk(p, o, &sg, j);
        lis_progress_update(&pr, ++done_now);
    }
    lis_progress_done(&pr, done_now);
    if (s == LIS_OK && o->check) s = check_toy(p, o, &sg);
    lis_seg_gen_free(&sg);
    lis_fewshot_free(&net);
    return s;
}

/* ---- report ---- */

static void html_text(lis_sbuf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '<') lis_sbuf_printf(b, "&lt;");
        else if (*s == '>') lis_sbuf_printf(b, "&gt;");
        else if (*s == '&') lis_sbuf_printf(b, "&amp;");
        else lis_sbuf_printf(b, "%c", *s);
    }
}

lis_status lis_segment_report(lis_pipe *p, lis_sbuf *html) {
    seg_opts *o = p->stage_data[ST_SEGMENT];
    lis_fewshot net;
    char *hp = lis_pipe_path(p, "seg/head.safetensors");
    lis_status s = hp ? lis_fewshot_load(&net, hp) : LIS_ERR;
    free(hp);
    if (s != LIS_OK) return s;
    lis_sbuf_printf(html, "<h2>Segmentation</h2>\n<p>FewShotCNN-%c head on the generator's features (%d channels from %d layers, "
                          "nearest-resized to %dx%d, %s registration), %d classes:",
                    net.size, net.in_ch, net.n_taps, net.img_size, net.img_size,
                    net.registration == LIS_REG_CROPPED ? "StyleGAN3 margins cropped" : "margins kept, as the original",
                    net.n_class);
    for (int l = 0; l < net.n_class; l++) {
        uint8_t col[3];
        lis_seg_label_color(l, col);
        lis_sbuf_printf(html, " <span style=\"background:#%02x%02x%02x;color:%s;padding:0 4px\">%d ", col[0], col[1], col[2],
                        l ? "#000" : "#fff", l);
        html_text(html, l < net.n_labels_named ? net.label_names[l] : "");
        lis_sbuf_printf(html, "</span>");
    }
    lis_sbuf_printf(html, ". Weights: <code>seg/head.safetensors</code>; masks: <code>seg/chunks/chunk_NNNNN/masks.npy</code>.</p>\n");
    char *text = NULL;
    size_t len;
    char *lp = lis_pipe_path(p, "seg/train_loss.csv");
    if (lp && lis_file_exists(lp) && lis_read_file(lp, &text, &len) == LIS_OK) {
        /* loss curve */
        int cap = 1;
        for (const char *q = text; *q; q++) cap += *q == '\n';
        double *v = malloc(sizeof(double) * cap);
        int n = 0;
        if (!v) { free(text); free(lp); lis_fewshot_free(&net); return lis_err_set("out of memory"); }
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line && n < cap; line = strtok_r(NULL, "\n", &save)) {
            char *c2 = strrchr(line, ',');
            if (c2 && line[0] >= '0' && line[0] <= '9') v[n++] = atof(c2 + 1);
        }
        double mx = 0;
        for (int i = 0; i < n; i++) mx = v[i] > mx ? v[i] : mx;
        int W = 640, Hh = 180, L = 50, B = 30;
        lis_sbuf_printf(html, "<p>Training (%s): mean cross-entropy per epoch, %.4f after epoch 1, %.4f after epoch %d "
                              "(<code>seg/train_loss.csv</code>).</p>\n",
                        o->toyworld ? "toy-world scenes with the renderer's exact masks" : "labelled images",
                        n ? v[0] : NAN, n ? v[n - 1] : NAN, n);
        lis_sbuf_printf(html, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">"
                              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/><polyline fill=\"none\" stroke=\"#4a7ab5\" points=\"",
                        W, Hh, L, Hh - B, W - 10, Hh - B);
        for (int i = 0; i < n; i++)
            lis_sbuf_printf(html, "%.1f,%.1f ", L + (n > 1 ? (double)i / (n - 1) : 0) * (W - 10 - L),
                            Hh - B - (mx > 0 ? v[i] / mx : 0) * (Hh - B - 10));
        lis_sbuf_printf(html, "\"/><text x=\"4\" y=\"14\">%.3g</text><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">epoch</text></svg>\n",
                        mx, (W + L) / 2, Hh - 8);
        free(v);
        free(text);
        text = NULL;
    }
    free(lp);
    lp = lis_pipe_path(p, "seg/check.csv");
    if (lp && lis_file_exists(lp) && lis_read_file(lp, &text, &len) == LIS_OK) {
        lis_sbuf_printf(html, "<p>Check against the renderer's exact masks on %d held-out toy-world scenes (generated by G, "
                              "segmented by the head):</p>\n<table>", o->check);
        char *save = NULL;
        int r = 0;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), r++) {
            lis_sbuf_printf(html, "<tr>");
            char *save2 = NULL;
            for (char *f = strtok_r(line, ",", &save2); f; f = strtok_r(NULL, ",", &save2)) {
                lis_sbuf_printf(html, r ? "<td>" : "<th>");
                html_text(html, f);
                lis_sbuf_printf(html, r ? "</td>" : "</th>");
            }
            lis_sbuf_printf(html, "</tr>\n");
        }
        lis_sbuf_printf(html, "</table>\n");
        free(text);
    }
    free(lp);
    lis_sbuf_printf(html, "<p>Overlays (top: the images of a sweep at the head's size; bottom: predicted parts) are in "
                          "<code>seg/overlays/unit_NNNNN/</code>; the quantification below links to them.</p>\n");
    lis_fewshot_free(&net);
    return LIS_OK;
}
