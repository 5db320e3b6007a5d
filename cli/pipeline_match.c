/* pipeline_match.c — stage `match` (spec/pipeline.md 8): unsupervised quantification of what a
 * unit changes, LinkingInStyle's comp_vis_motion on every configured (unit, reference sample)
 * sweep: PUMP matching of the sweep's first image against its last, the global affine
 * (RANSAC), the warp, the second matching and the dense motion field (nets/pump.h).
 *
 * Off unless `[match] units` is set (`all`: every unit of [tune] units; two PUMP runs per
 * pair). The images are read from the
 * strips `tune` wrote: tune/strips/unit_<u>/class_<c>_sample_<j>.png holds the n_steps images
 * of the sweep side by side; `from_step` (default 0) is matched against `to_step` (default
 * the last). Every unit must be one of [tune] units.
 *
 * Outputs, all written atomically:
 *   match/unit_<u>/class_<c>_sample_<j>/  flow.npy (H x W x 2: the dense field minus the
 *       grid), affine.npy (2 x 3 float64), corres.npy and corres_warped.npy (N x 6 float32),
 *       warped.png, vis_warped.png and vis_target.png (the arrow plots, over the warped first
 *       image and over the last image)
 *   match/unit_<u>/pairs.csv   one row per pair: statistics (nets/pump.h), counts, status
 *   match/unit_<u>/done        written last: a finished unit is skipped on a rerun
 *   match/units.csv            per unit, the means over its successful pairs
 * A pair whose matching finds fewer than 4 correspondences (the original asserts) is kept as
 * a row with status "failed: <why>" and NaN statistics; the stage goes on.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pipeline.h"
#include "kernels/flow_plot.h"
#include "nets/pump.h"
#include "nets/pump_cuda.h"
#include "runtime/backend.h"
#include "runtime/fileio.h"
#include "runtime/npy.h"
#include "runtime/png_io.h"
#include "runtime/progress.h"

lis_status lis_match_config(lis_pipe *p, int *enabled);
lis_status lis_stage_match(lis_pipe *p);
lis_status lis_match_report(lis_pipe *p, lis_sbuf *html);
void lis_match_free(void *data);

#define TRY(x) do { lis_status s_ = (x); if (s_) return s_; } while (0)

typedef struct {
    const long *units;
    size_t n_units;
    const long *samples;
    size_t n_samples;
    const char *weights;
    int field_run, from_step, to_step, plots, exact_keys;
    double threshold;
    long seed; /* -1: OpenCV's state (all ones) */
} match_opts;

void lis_match_free(void *data) { free(data); }

lis_status lis_match_config(lis_pipe *p, int *enabled) {
    match_opts *o = calloc(1, sizeof *o);
    if (!o) return lis_err_set("out of memory");
    p->stage_data[ST_MATCH] = o;
    lis_cfg *cfg = p->cfg;
    lis_pipe_cfg *c = &p->c;
    long v;
    static const char *const fields[] = {"run1", "run2"};
    int f;
    /* read every key first (unknown-key checking), then decide whether the stage runs;
     * `units = all` means every unit of [tune] units */
    const char *utext;
    TRY(lis_cfg_get_str(cfg, "match", "units", "", &utext));
    long umax = 0;
    for (size_t i = 0; i < c->n_units; i++) umax = c->units[i] > umax ? c->units[i] : umax;
    if (!strcmp(utext, "all")) {
        o->units = c->units;
        o->n_units = c->n_units;
    } else {
        TRY(lis_cfg_get_int_list(cfg, "match", "units", "", 0, umax, &o->units, &o->n_units));
    }
    TRY(lis_cfg_get_int_list(cfg, "match", "samples", "0", 0, 100000, &o->samples, &o->n_samples));
    TRY(lis_cfg_get_str(cfg, "match", "weights", "synth", &o->weights));
    TRY(lis_cfg_get_enum(cfg, "match", "field", fields, 2, 0, &f));
    o->field_run = f + 1;
    TRY(lis_cfg_get_int(cfg, "match", "from_step", 0, 0, 1000, &v)); o->from_step = (int)v;
    TRY(lis_cfg_get_int(cfg, "match", "to_step", -1, -1, 1000, &v)); o->to_step = (int)v;
    TRY(lis_cfg_get_double(cfg, "match", "ransac_threshold", 3.0, 1e-6, 1e6, &o->threshold));
    TRY(lis_cfg_get_int(cfg, "match", "ransac_seed", -1, -1, 1L << 62, &o->seed));
    TRY(lis_cfg_get_bool(cfg, "match", "plots", 1, &o->plots));
    TRY(lis_cfg_get_bool(cfg, "match", "exact_keys", 0, &o->exact_keys));
    if (o->n_units == 0) { *enabled = 0; return LIS_OK; }
    if (o->to_step < 0) o->to_step = c->n_steps - 1;
    if (o->from_step >= c->n_steps || o->to_step >= c->n_steps || o->from_step == o->to_step)
        return lis_err_usage("%s: [match] from_step %d / to_step %d: need two different steps of the %d of [tune] n_steps",
                             p->cfg_path, o->from_step, o->to_step, c->n_steps);
    for (size_t i = 0; i < o->n_samples; i++)
        if (o->samples[i] >= c->tune_spc)
            return lis_err_usage("%s: [match] samples: sample %ld, but [tune] samples_per_class is %d", p->cfg_path,
                                 o->samples[i], c->tune_spc);
    for (size_t i = 0; i < o->n_units; i++) {
        size_t k = 0;
        while (k < c->n_units && c->units[k] != o->units[i]) k++;
        if (k == c->n_units)
            return lis_err_usage("%s: [match] units: unit %ld is not swept by [tune] units (match reads tune's strips)",
                                 p->cfg_path, o->units[i]);
    }
    /* the options feed this stage's digest and the report's, not the stages after match */
    uint64_t keep[ST_COUNT];
    memcpy(keep, p->digest, sizeof keep);
    lis_sbuf ub = {0};
    for (size_t i = 0; i < o->n_units; i++) lis_sbuf_printf(&ub, "%ld,", o->units[i]);
    lis_sbuf_printf(&ub, "|");
    for (size_t i = 0; i < o->n_samples; i++) lis_sbuf_printf(&ub, "%ld,", o->samples[i]);
    lis_pipe_note(p, ST_MATCH, "match", "%s|%s|%d %d %d %.17g %ld %d %d", ub.s ? ub.s : "", o->weights, o->field_run,
                  o->from_step, o->to_step, o->threshold, o->seed, o->plots, o->exact_keys);
    lis_sbuf_free(&ub);
    for (int st = ST_MATCH + 1; st < ST_REPORT; st++) p->digest[st] = keep[st];
    return LIS_OK;
}

/* ---- one pair ---- */

static lis_status save_npy(lis_pipe *p, const char *dir, const char *name, lis_dtype dt, int ndim, const int64_t *shape,
                           const void *data) {
    char rel[256];
    snprintf(rel, sizeof rel, "%s/%s", dir, name);
    return lis_pipe_save(p, rel, dt, ndim, shape, data);
}

static lis_status save_png(lis_pipe *p, const char *dir, const char *name, const uint8_t *img, int h, int w) {
    char rel[256];
    snprintf(rel, sizeof rel, "%s/%s", dir, name);
    char *path = lis_pipe_path(p, rel);
    lis_status s = path ? lis_png_write(path, img, h, w, 3) : LIS_ERR;
    free(path);
    return s;
}

static lis_status save_plots(lis_pipe *p, const char *dir, const lis_pump_motion *mo, const uint8_t *target) {
    lis_flow_plot_params fp;
    lis_flow_plot_params_default(&fp);
    lis_flow_arrows ar = {0};
    uint8_t *img = NULL;
    int oh, ow;
    lis_status s = lis_flow_arrows_select(&fp, mo->dense, mo->H, mo->W, &ar);
    if (s == LIS_OK) s = lis_flow_render(&fp, &ar, mo->warped, mo->H, mo->W, &img, &oh, &ow);
    if (s == LIS_OK) s = save_png(p, dir, "vis_warped.png", img, oh, ow);
    free(img);
    img = NULL;
    if (s == LIS_OK) s = lis_flow_render(&fp, &ar, target, mo->H, mo->W, &img, &oh, &ow);
    if (s == LIS_OK) s = save_png(p, dir, "vis_target.png", img, oh, ow);
    free(img);
    lis_flow_arrows_free(&ar);
    return s;
}

/* the first and last images of a strip */
static lis_status read_pair(lis_pipe *p, const match_opts *o, long u, long cls, long j, uint8_t **a, uint8_t **b, int *R) {
    char rel[160];
    snprintf(rel, sizeof rel, "tune/strips/unit_%05ld/class_%ld_sample_%ld.png", u, cls, j);
    char *path = lis_pipe_path(p, rel);
    uint8_t *strip = NULL;
    int h = 0, w = 0;
    lis_status s = path ? lis_png_read_rgb(path, &strip, &h, &w) : LIS_ERR;
    free(path);
    const int T = p->c.n_steps;
    if (s == LIS_OK && w != h * T) s = lis_err_set("%s/%s: %dx%d, expected %d images side by side", p->dir, rel, w, h, T);
    if (s == LIS_OK && (h % 4 || h < 16))
        s = lis_err_set("%s/%s: images of %d px: PUMP needs sides that are multiples of 4, at least 16", p->dir, rel, h);
    if (s == LIS_OK) {
        *a = malloc((size_t)h * h * 3);
        *b = malloc((size_t)h * h * 3);
        if (!*a || !*b) s = lis_err_set("out of memory");
    }
    for (int y = 0; s == LIS_OK && y < h; y++) {
        memcpy(*a + (size_t)y * h * 3, strip + ((size_t)y * w + (size_t)o->from_step * h) * 3, (size_t)h * 3);
        memcpy(*b + (size_t)y * h * 3, strip + ((size_t)y * w + (size_t)o->to_step * h) * 3, (size_t)h * 3);
    }
    free(strip);
    *R = h;
    return s;
}

typedef struct {
    double v[9]; /* mean_mag, concentration, cx, cy, rot, scale, tx, ty, n1 */
    int ok;
} pair_stats;

static const char *const stat_names[9] = {"local_motion_px", "concentration", "centroid_x", "centroid_y",
                                          "rotation_deg", "scale", "shift_x", "shift_y", "correspondences"};

static lis_status match_unit(lis_pipe *p, const match_opts *o, lis_pump_net *net, lis_pump_matcher *m, long u) {
    lis_pipe_cfg *c = &p->c;
    char udir[64];
    snprintf(udir, sizeof udir, "match/unit_%05ld", u);
    TRY(lis_pipe_mkdir(p, udir));
    lis_sbuf csv = {0};
    lis_sbuf_printf(&csv, "unit,class,sample");
    for (int k = 0; k < 9; k++) lis_sbuf_printf(&csv, ",%s", stat_names[k]);
    lis_sbuf_printf(&csv, ",correspondences_warped,ransac_inliers,seconds,status\n");
    lis_pump_motion_params mp;
    lis_pump_motion_params_default(&mp);
    mp.field_run = o->field_run;
    mp.affine.threshold = o->threshold;
    if (o->seed >= 0) mp.affine.seed = (uint64_t)o->seed;
    lis_status s = LIS_OK;
    for (int k = 0; k < c->n_classes && s == LIS_OK; k++)
        for (size_t js = 0; js < o->n_samples && s == LIS_OK; js++) {
            const long cls = c->classes[k], j = o->samples[js];
            uint8_t *ia = NULL, *ib = NULL;
            int R = 0;
            s = read_pair(p, o, u, cls, j, &ia, &ib, &R);
            if (s != LIS_OK) { free(ia); free(ib); break; }
            if (!m->desc1) { /* first pair: the matcher's parameters */
                lis_pump_params prm;
                lis_pump_params_default(&prm);
                prm.exact_keys = o->exact_keys;
                s = lis_pump_matcher_plan(m, &prm, R, R, R, R, net->out_dim);
            }
            lis_pump_motion mo;
            memset(&mo, 0, sizeof mo);
            lis_status ms = s == LIS_OK ? lis_pump_motion_run(m, net, ia, ib, R, R, &mp, &mo) : s;
            char dir[160];
            snprintf(dir, sizeof dir, "%s/class_%ld_sample_%ld", udir, cls, j);
            lis_sbuf_printf(&csv, "%ld,%ld,%ld", u, cls, j);
            if (ms == LIS_OK) {
                const double v[9] = {mo.mean_mag, mo.concentration, mo.centroid_x, mo.centroid_y, mo.rot_deg,
                                     mo.scale, mo.tx, mo.ty, (double)mo.n1};
                for (int q = 0; q < 9; q++) lis_sbuf_printf(&csv, ",%.9g", v[q]);
                lis_sbuf_printf(&csv, ",%d,%d,%.3f,ok\n", mo.n2, mo.n_inliers, mo.seconds);
                const int64_t sf[3] = {R, R, 2}, sa[2] = {2, 3}, s1[2] = {mo.n1, 6}, s2[2] = {mo.n2, 6};
                s = lis_pipe_mkdir(p, dir);
                if (s == LIS_OK) s = save_npy(p, dir, "flow.npy", LIS_DTYPE_F32, 3, sf, mo.flow);
                if (s == LIS_OK) s = save_npy(p, dir, "affine.npy", LIS_DTYPE_F64, 2, sa, mo.A);
                if (s == LIS_OK) s = save_npy(p, dir, "corres.npy", LIS_DTYPE_F32, 2, s1, mo.corres1);
                if (s == LIS_OK) s = save_npy(p, dir, "corres_warped.npy", LIS_DTYPE_F32, 2, s2, mo.corres2);
                if (s == LIS_OK) s = save_png(p, dir, "warped.png", mo.warped, R, R);
                if (s == LIS_OK && o->plots) s = save_plots(p, dir, &mo, ib);
            } else if (s == LIS_OK) {
                /* a pair PUMP cannot match: recorded, not fatal (commas would break the CSV) */
                char why[200];
                snprintf(why, sizeof why, "%s", lis_err_msg());
                for (char *q = why; *q; q++)
                    if (*q == ',' || *q == '\n') *q = ';';
                for (int q = 0; q < 9; q++) lis_sbuf_printf(&csv, ",nan");
                lis_sbuf_printf(&csv, ",0,0,0,failed: %s\n", why);
                lis_pipe_log(p, "match: unit %ld class %ld sample %ld: %s", u, cls, j, why);
            }
            lis_pump_motion_free(&mo);
            free(ia);
            free(ib);
        }
    char rel[96];
    snprintf(rel, sizeof rel, "%s/pairs.csv", udir);
    if (s == LIS_OK) s = csv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, rel, csv.s, csv.len);
    snprintf(rel, sizeof rel, "%s/done", udir);
    if (s == LIS_OK) s = lis_pipe_write_text(p, rel, "ok\n", 3);
    lis_sbuf_free(&csv);
    return s;
}

/* means of a finished unit, from its pairs.csv (a resumed run) */
static lis_status read_unit(lis_pipe *p, long u, pair_stats *mean) {
    char rel[96];
    snprintf(rel, sizeof rel, "match/unit_%05ld/pairs.csv", u);
    char *path = lis_pipe_path(p, rel), *text = NULL;
    size_t len;
    lis_status s = path ? lis_read_file(path, &text, &len) : LIS_ERR;
    free(path);
    memset(mean, 0, sizeof *mean);
    if (s != LIS_OK) return s;
    char *save = NULL;
    int row = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), row++) {
        if (row == 0 || !strstr(line, ",ok")) continue;
        double v[9];
        char *f = line;
        for (int q = 0; q < 3; q++) f = strchr(f, ',') ? strchr(f, ',') + 1 : f + strlen(f);
        for (int q = 0; q < 9; q++) {
            v[q] = strtod(f, &f);
            if (*f == ',') f++;
        }
        for (int q = 0; q < 9; q++) mean->v[q] += v[q];
        mean->ok++;
    }
    free(text);
    for (int q = 0; q < 9; q++) mean->v[q] = mean->ok ? mean->v[q] / mean->ok : NAN;
    return LIS_OK;
}

lis_status lis_stage_match(lis_pipe *p) {
    const match_opts *o = p->stage_data[ST_MATCH];
    TRY(lis_pipe_mkdir(p, "match"));
    lis_pump_net net;
    memset(&net, 0, sizeof net);
    lis_pump_matcher m;
    memset(&m, 0, sizeof m);
    lis_pump_cuda gpu;
    memset(&gpu, 0, sizeof gpu);
    pair_stats *st = calloc(o->n_units, sizeof *st);
    if (!st) return lis_err_set("out of memory");
    lis_status s = LIS_OK;
    int loaded = 0;
    lis_progress pr;
    lis_progress_init(&pr, "match", "units", (int64_t)o->n_units);
    for (size_t i = 0; i < o->n_units && s == LIS_OK; i++) {
        char rel[96];
        snprintf(rel, sizeof rel, "match/unit_%05ld/done", o->units[i]);
        char *path = lis_pipe_path(p, rel);
        const int done = path && lis_file_exists(path);
        free(path);
        if (!done) {
            if (!loaded) {
                s = lis_pump_net_load_file(&net, o->weights);
                if (s != LIS_OK) { lis_err_prefix("[match] weights"); break; }
                loaded = 1;
                /* [run] device: PUMP's descriptors and correlation pyramid on the GPU */
                lis_device dev;
                s = lis_device_parse(p->c.device, &dev);
                if (s == LIS_OK && dev.kind == LIS_DEVICE_CUDA) {
                    s = lis_pump_cuda_init_file(&gpu, &net, o->weights, dev.index);
                    if (s == LIS_OK) m.gpu = &gpu;
                }
                if (s != LIS_OK) break;
            }
            s = match_unit(p, o, &net, &m, o->units[i]);
        }
        /* the means always come from pairs.csv, so a resumed run writes the same units.csv */
        if (s == LIS_OK) s = read_unit(p, o->units[i], &st[i]);
        lis_progress_update(&pr, (int64_t)i + 1);
    }
    lis_progress_done(&pr, (int64_t)o->n_units);
    if (s == LIS_OK) {
        lis_sbuf csv = {0};
        lis_sbuf_printf(&csv, "unit,pairs_ok");
        for (int k = 0; k < 9; k++) lis_sbuf_printf(&csv, ",%s", stat_names[k]);
        lis_sbuf_printf(&csv, "\n");
        for (size_t i = 0; i < o->n_units; i++) {
            lis_sbuf_printf(&csv, "%ld,%d", o->units[i], st[i].ok);
            for (int k = 0; k < 9; k++) lis_sbuf_printf(&csv, ",%.9g", st[i].v[k]);
            lis_sbuf_printf(&csv, "\n");
        }
        s = csv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "match/units.csv", csv.s, csv.len);
        lis_sbuf_free(&csv);
    }
    lis_pump_matcher_free(&m);
    lis_pump_cuda_free(&gpu);
    if (loaded) lis_pump_net_free(&net);
    free(st);
    return s;
}

/* ---- report ---- */

static int cmp_motion(const void *a, const void *b) {
    const double x = ((const double *)a)[1], y = ((const double *)b)[1];
    if (isnan(x) != isnan(y)) return isnan(x) ? 1 : -1;
    return x > y ? -1 : (x < y ? 1 : 0);
}

lis_status lis_match_report(lis_pipe *p, lis_sbuf *html) {
    const match_opts *o = p->stage_data[ST_MATCH];
    lis_pipe_cfg *c = &p->c;
    lis_sbuf_printf(html, "<h2>Motion fields (PUMP)</h2>\n<p>For each unit, the first image of a sweep (step %d) is matched "
                          "against step %d with PUMP (%s weights); the global affine motion is removed (RANSAC) and the "
                          "remaining local motion is drawn as arrows (the strongest 10%%, coloured by direction) over the "
                          "aligned first image. <i>local motion</i>: mean length of the motion left after the affine, px; "
                          "<i>concentration</i>: share of it in the 10%% of pixels that move most (0.1 = spread evenly); "
                          "rotation and scale of the affine; shift: how far it moves the image centre. Means over the "
                          "unit's pairs; per-pair values in <code>match/unit_NNNNN/pairs.csv</code>, fields in "
                          "<code>flow.npy</code>.</p>\n", o->from_step, o->to_step, o->weights);
    /* units ordered by local motion */
    double (*rows)[12] = calloc(o->n_units, sizeof *rows);
    if (!rows) return lis_err_set("out of memory");
    for (size_t i = 0; i < o->n_units; i++) {
        pair_stats ps;
        rows[i][0] = (double)o->units[i];
        if (read_unit(p, o->units[i], &ps) != LIS_OK) ps.ok = 0;
        rows[i][1] = ps.ok ? ps.v[0] : NAN;
        for (int k = 0; k < 9; k++) rows[i][2 + k] = ps.v[k];
        rows[i][11] = ps.ok;
    }
    qsort(rows, o->n_units, sizeof *rows, cmp_motion);
    lis_sbuf_printf(html, "<table>\n<tr><th>unit</th><th>pairs</th><th>local motion (px)</th><th>concentration</th>"
                          "<th>centroid</th><th>rotation (deg)</th><th>scale</th><th>shift (px)</th><th>matches</th></tr>\n");
    for (size_t i = 0; i < o->n_units; i++) {
        const double *r = rows[i];
        lis_sbuf_printf(html, "<tr><td><a href=\"#m%ld\">%ld</a></td><td>%d</td><td>%.3f</td><td>%.2f</td><td>(%.0f, %.0f)</td>"
                              "<td>%.2f</td><td>%.4f</td><td>(%.2f, %.2f)</td><td>%.0f</td></tr>\n",
                        (long)r[0], (long)r[0], (int)r[11], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]);
    }
    lis_sbuf_printf(html, "</table>\n");
    const int shown = c->report_units < (int)o->n_units ? c->report_units : (int)o->n_units;
    for (int i = 0; i < shown; i++) {
        const long u = (long)rows[i][0];
        lis_sbuf_printf(html, "<div class=\"unit\" id=\"m%ld\"><b>unit %ld</b> — local motion %.3f px<br>\n", u, u, rows[i][2]);
        for (int k = 0; k < c->n_classes; k++)
            for (size_t js = 0; js < o->n_samples; js++) {
                const long cls = c->classes[k], j = o->samples[js];
                char rel[200];
                snprintf(rel, sizeof rel, "match/unit_%05ld/class_%ld_sample_%ld/vis_warped.png", u, cls, j);
                char *path = lis_pipe_path(p, rel);
                const int have = path && lis_file_exists(path);
                free(path);
                if (!have) continue;
                lis_sbuf_printf(html, "<a href=\"../%s\"><img src=\"../%s\" style=\"height:192px;margin:2px\" "
                                      "title=\"class %ld, sample %ld\"></a>\n", rel, rel, cls, j);
            }
        lis_sbuf_printf(html, "</div>\n");
    }
    if (shown < (int)o->n_units)
        lis_sbuf_printf(html, "<p>%d more units in the table above; their plots are in <code>match/</code>.</p>\n",
                        (int)o->n_units - shown);
    free(rows);
    return LIS_OK;
}
