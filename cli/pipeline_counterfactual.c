/* pipeline_counterfactual.c — stage `counterfactual` (spec/pipeline.md 9): for chosen
 * (origin, target) class pairs and the first samples of each origin class among the pairs
 * (pairs/r.npy: r of the generated image; pairs/w.npy: its w), optimise a shift of r until the image
 * rendered through the link (link/link.safetensors) and the generator is classified as the
 * target (nets/counterfactual.h), and keep the trajectory.
 *
 * Keys ([counterfactual]):
 *   pairs = next        next: each class of [sample] classes to the next one (cyclic);
 *                       all: every ordered pair; or a list "232>151, 254>151"
 *   samples_per_class = 1   the first n pairs of the origin class (pairs/ order)
 *   variant = released  released | v1 | v2 | v4 | v5 (nets/counterfactual.h)
 *   lr = 0.5  lambda = 0.6  cos_weight = 10  max_steps = 2000
 *   optimizer = auto (the variant's) | gd | adamw;  stop = auto | image | prob;
 *   eps = the variant's (1e-4; v4 1e-5)
 *   init = uniform | zeros;  init_seed = 0;  init_shift = FILE.npy (relative to the config)
 *   frames = 8  top_units = 10  interp = 5
 * Outputs: counterfactual/class_<o>_to_<t>_sample_<j>/ (the files of lis_cf_write, then a
 * `done` marker: an interrupted run redoes only unfinished trajectories, which are
 * deterministic) and counterfactual/summary.csv. A trajectory that does not reach its
 * target is a result (success = 0), not an error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pipeline.h"
#include "nets/counterfactual.h"
#include "runtime/fileio.h"
#include "runtime/npy.h"

lis_status lis_counterfactual_config(lis_pipe *p, int *enabled);
lis_status lis_stage_counterfactual(lis_pipe *p);
lis_status lis_counterfactual_report(lis_pipe *p, lis_sbuf *html);
void lis_counterfactual_free(void *data);

typedef struct {
    lis_cf_params p;
    long *orig, *targ;   /* [npairs] */
    int npairs, spc, frames, top, interp;
    char *init_file;     /* resolved path or NULL */
} cf_cfg;

#define TRY(x) do { lis_status s_ = (x); if (s_) return s_; } while (0)

void lis_counterfactual_free(void *data) {
    cf_cfg *c = data;
    if (!c) return;
    free(c->orig);
    free(c->targ);
    free(c->init_file);
    free(c);
}

static int class_pos(const lis_pipe *p, long c) {
    for (int i = 0; i < p->c.n_classes; i++)
        if (p->c.classes[i] == c) return i;
    return -1;
}

static lis_status add_pair(cf_cfg *c, long o, long t) {
    long *a = realloc(c->orig, sizeof(long) * (size_t)(c->npairs + 1)), *b;
    if (!a) return lis_err_set("out of memory");
    c->orig = a;
    b = realloc(c->targ, sizeof(long) * (size_t)(c->npairs + 1));
    if (!b) return lis_err_set("out of memory");
    c->targ = b;
    c->orig[c->npairs] = o;
    c->targ[c->npairs++] = t;
    return LIS_OK;
}

static lis_status parse_pairs(lis_pipe *p, cf_cfg *c, const char *v) {
    int n = p->c.n_classes;
    if (!strcmp(v, "next")) {
        for (int i = 0; n > 1 && i < n; i++) TRY(add_pair(c, p->c.classes[i], p->c.classes[(i + 1) % n]));
        return LIS_OK;
    }
    if (!strcmp(v, "all")) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) TRY(add_pair(c, p->c.classes[i], p->c.classes[j]));
        return LIS_OK;
    }
    const char *s = v;
    while (*s) {
        char *end;
        while (*s == ' ') s++;
        long o = strtol(s, &end, 10);
        if (end == s || *end != '>') goto bad;
        s = end + 1;
        long t = strtol(s, &end, 10);
        if (end == s) goto bad;
        s = end;
        while (*s == ' ') s++;
        if (*s == ',') s++;
        else if (*s) goto bad;
        if (class_pos(p, o) < 0)
            return lis_err_usage("%s: [counterfactual] pairs: origin class %ld is not in [sample] classes (the pairs hold only those)",
                                 p->cfg_path, o);
        if (t < 0 || t == o) return lis_err_usage("%s: [counterfactual] pairs: target %ld of %ld is not a different class", p->cfg_path, t, o);
        TRY(add_pair(c, o, t));
    }
    if (c->npairs) return LIS_OK;
bad:
    return lis_err_usage("%s: [counterfactual] pairs = '%s': expected next, all, or a list like 232>151, 254>151", p->cfg_path, v);
}

lis_status lis_counterfactual_config(lis_pipe *p, int *enabled) {
    cf_cfg *c = calloc(1, sizeof *c);
    if (!c) return lis_err_set("out of memory");
    p->stage_data[ST_COUNTERFACTUAL] = c;
    lis_cfg *cfg = p->cfg;
    static const char *const variants[] = {"released", "v1", "v2", "v4", "v5"};
    static const char *const opts[] = {"auto", "gd", "adamw"}, *const stops[] = {"auto", "image", "prob"};
    static const char *const inits[] = {"uniform", "zeros"};
    const char *pairs, *init_file;
    int var, opt, stop, init;
    long v;
    TRY(lis_cfg_get_str(cfg, "counterfactual", "pairs", "next", &pairs));
    TRY(parse_pairs(p, c, pairs));
    TRY(lis_cfg_get_int(cfg, "counterfactual", "samples_per_class", 1, 1, 100000, &v)); c->spc = (int)v;
    TRY(lis_cfg_get_enum(cfg, "counterfactual", "variant", variants, 5, 0, &var));
    lis_cf_params_default(&c->p, (lis_cf_variant)var);
    TRY(lis_cfg_get_double(cfg, "counterfactual", "lr", c->p.lr, 1e-12, 1e12, &c->p.lr));
    TRY(lis_cfg_get_double(cfg, "counterfactual", "lambda", c->p.lambda, -1e12, 1e12, &c->p.lambda));
    TRY(lis_cfg_get_double(cfg, "counterfactual", "cos_weight", c->p.cos_weight, -1e12, 1e12, &c->p.cos_weight));
    TRY(lis_cfg_get_int(cfg, "counterfactual", "max_steps", c->p.max_steps, 0, 100000000, &v)); c->p.max_steps = (int)v;
    TRY(lis_cfg_get_enum(cfg, "counterfactual", "optimizer", opts, 3, 0, &opt));
    if (opt) c->p.opt = opt == 1 ? LIS_CF_GD : LIS_CF_ADAMW;
    TRY(lis_cfg_get_enum(cfg, "counterfactual", "stop", stops, 3, 0, &stop));
    if (stop) c->p.stop = stop == 1 ? LIS_CF_STOP_IMAGE : LIS_CF_STOP_PROB;
    TRY(lis_cfg_get_double(cfg, "counterfactual", "eps", c->p.eps, 0, 1, &c->p.eps));
    TRY(lis_cfg_get_enum(cfg, "counterfactual", "init", inits, 2, 0, &init)); c->p.init = (lis_cf_init)init;
    TRY(lis_cfg_get_int(cfg, "counterfactual", "init_seed", 0, 0, 4294967295L, &v)); c->p.init_seed = (uint32_t)v;
    TRY(lis_cfg_get_str(cfg, "counterfactual", "init_shift", "", &init_file));
    if (*init_file && !(c->init_file = lis_pipe_resolve(p, init_file))) return lis_err_set("out of memory");
    TRY(lis_cfg_get_int(cfg, "counterfactual", "frames", 8, 1, 1000, &v)); c->frames = (int)v;
    TRY(lis_cfg_get_int(cfg, "counterfactual", "top_units", 10, 0, 100000, &v)); c->top = (int)v;
    TRY(lis_cfg_get_int(cfg, "counterfactual", "interp", 5, 2, 1000, &v)); c->interp = (int)v;
    lis_sbuf b = {0};
    for (int i = 0; i < c->npairs; i++) lis_sbuf_printf(&b, "%ld>%ld,", c->orig[i], c->targ[i]);
    lis_pipe_note(p, ST_COUNTERFACTUAL, "counterfactual.pairs", "%s", b.s ? b.s : "");
    lis_sbuf_free(&b);
    lis_pipe_note(p, ST_COUNTERFACTUAL, "counterfactual", "%d %d %.17g %.17g %.17g %d %d %d %.17g %d %u %s %d %d %d", c->spc, var,
                  c->p.lr, c->p.lambda, c->p.cos_weight, c->p.max_steps, (int)c->p.opt, (int)c->p.stop, c->p.eps, init,
                  c->p.init_seed, init_file, c->frames, c->top, c->interp);
    if (c->npairs == 0) *enabled = 0; /* one class: nothing to move to */
    return LIS_OK;
}

static void job_rel(char *rel, size_t cap, long o, long t, int j) {
    snprintf(rel, cap, "counterfactual/class_%ld_to_%ld_sample_%d", o, t, j);
}

static int exists_rel(lis_pipe *p, const char *rel) {
    char *path = lis_pipe_path(p, rel);
    int e = path && lis_file_exists(path);
    free(path);
    return e;
}

/* row of the j-th pair of class o, or -1 */
static int64_t pair_row(const lis_tensor *tc, long o, int j) {
    const int64_t *c = tc->data;
    for (int64_t i = 0, seen = 0; i < tc->shape[0]; i++)
        if (c[i] == o && seen++ == j) return i;
    return -1;
}

static lis_status read_json(lis_pipe *p, const char *rel, lis_json **j) {
    char *path = lis_pipe_path(p, rel), *text = NULL;
    size_t len;
    *j = NULL;
    lis_status s = path ? lis_read_file(path, &text, &len) : LIS_ERR;
    if (s == LIS_OK && !(*j = lis_json_parse(text, len))) s = LIS_ERR;
    if (s != LIS_OK) lis_err_prefix("%s", path ? path : rel);
    free(path);
    free(text);
    return s;
}

static double jnum(const lis_json *j, const char *key) {
    const lis_json *v = lis_json_get(j, key);
    return v && (v->type == LIS_JSON_NUM || v->type == LIS_JSON_BOOL) ? v->num : NAN;
}

lis_status lis_stage_counterfactual(lis_pipe *p) {
    cf_cfg *c = p->stage_data[ST_COUNTERFACTUAL];
    TRY(lis_pipe_models(p));
    TRY(lis_pipe_mkdir(p, "counterfactual"));
    int F = p->cls.feat_dim, K = p->cls.num_classes, wd = p->g.w_dim;
    for (int i = 0; i < c->npairs; i++)
        if (c->targ[i] >= K) return lis_err_usage("%s: [counterfactual] pairs: target %ld, but the classifier has %d classes", p->cfg_path, c->targ[i], K);
    lis_link L = {0};
    lis_tensor tw = {0}, tr = {0}, tc = {0}, ts = {0};
    char *lp = lis_pipe_path(p, "link/link.safetensors");
    lis_status s = lp ? lis_link_load(&L, lp) : LIS_ERR;
    free(lp);
    if (s == LIS_OK && (L.n_in != F || L.n_out != wd))
        s = lis_err_set("link/link.safetensors maps %d -> %d but the models need %d -> %d", L.n_in, L.n_out, F, wd);
    if (s == LIS_OK) s = lis_pipe_load(p, "pairs/w.npy", &tw);
    if (s == LIS_OK) s = lis_pipe_load(p, "pairs/r.npy", &tr);
    if (s == LIS_OK) s = lis_pipe_load(p, "pairs/classes.npy", &tc);
    if (s == LIS_OK && (tw.ndim != 2 || tw.shape[1] != wd || tr.ndim != 2 || tr.shape[1] != F || tc.ndim != 1 ||
                        tc.dtype != LIS_DTYPE_I64 || tw.shape[0] != tr.shape[0] || tc.shape[0] != tw.shape[0]))
        s = lis_err_set("%s/pairs: arrays do not match the models", p->dir);
    if (s == LIS_OK && c->init_file) {
        s = lis_npy_read_f32(c->init_file, &ts);
        if (s == LIS_OK && lis_tensor_numel(&ts) != F)
            s = lis_err_usage("%s: [counterfactual] init_shift %s has %lld values, the classifier %d features", p->cfg_path, c->init_file,
                              (long long)lis_tensor_numel(&ts), F);
    }
    size_t isz = (size_t)p->g.img_resolution * p->g.img_resolution * p->g.img_channels;
    uint8_t *orig = lis_malloc(isz, "original image");
    if (!orig) s = LIS_ERR;
    lis_sbuf sum = {0};
    lis_sbuf_printf(&sum, "origin,target,sample,pair_row,success,steps,pred_final,p_target_final,p_origin_final,top_units\n");
    int ran = 0, ok = 0, total = 0;
    for (int i = 0; s == LIS_OK && i < c->npairs; i++)
        for (int j = 0; s == LIS_OK && j < c->spc; j++) {
            long o = c->orig[i], t = c->targ[i];
            int64_t row = pair_row(&tc, o, j);
            if (row < 0) {
                if (j == 0) lis_pipe_log(p, "counterfactual: no pairs of class %ld; %ld -> %ld skipped", o, o, t);
                break;
            }
            char rel[256], done[300];
            job_rel(rel, sizeof rel, o, t, j);
            snprintf(done, sizeof done, "%s/done", rel);
            total++;
            if (!exists_rel(p, done)) {
                const float *r = (const float *)tr.data + (size_t)row * F, *w = (const float *)tw.data + (size_t)row * wd;
                lis_cf_result res = {0};
                if ((s = lis_render_w(&p->render, 1, w, orig, NULL, NULL, NULL))) break;
                if ((s = lis_cf_run(&c->p, &p->render, &L, r, w, ts.data, (int)o, (int)t, 0, &res))) break;
                char note[128], *dir = lis_pipe_path(p, rel);
                snprintf(note, sizeof note, "pairs row %lld (class %ld, sample %d)", (long long)row, o, j);
                lis_cf_write_opts wo = {c->frames, c->top, c->interp, orig, p->g.img_resolution, p->g.img_resolution, note,
                                        c->init_file};
                s = dir ? lis_cf_write(dir, &c->p, &wo, &p->render, &L, r, &res) : LIS_ERR;
                free(dir);
                if (s == LIS_OK) s = lis_pipe_write_text(p, done, "ok\n", 3);
                if (s == LIS_OK)
                    lis_pipe_log(p, "counterfactual: class %ld -> %ld, sample %d: %s after %d steps (image class %d), %.1f s", o, t, j,
                                 res.success ? "reached" : "NOT reached", res.steps, res.pred_final, res.seconds);
                lis_cf_result_free(&res);
                ran++;
                if (s) break;
            }
            /* summary row from what is on disk (also for trajectories of an earlier run) */
            char jrel[320];
            snprintf(jrel, sizeof jrel, "%s/result.json", rel);
            lis_json *jr;
            if ((s = read_json(p, jrel, &jr))) break;
            const lis_json *tu = lis_json_get(jr, "top_units");
            int succ = jnum(jr, "success") == 1;
            ok += succ;
            lis_sbuf_printf(&sum, "%ld,%ld,%d,%lld,%d,%.0f,%.0f,%.6g,%.6g,", o, t, j, (long long)row, succ, jnum(jr, "steps"),
                            jnum(jr, "pred_final"), jnum(jr, "p_target_final"), jnum(jr, "p_origin_final"));
            for (size_t q = 0; tu && tu->type == LIS_JSON_ARR && q < tu->len; q++)
                lis_sbuf_printf(&sum, "%s%.0f", q ? ";" : "", tu->items[q]->num);
            lis_sbuf_printf(&sum, "\n");
            lis_json_free(jr);
        }
    if (s == LIS_OK) s = sum.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "counterfactual/summary.csv", sum.s, sum.len);
    if (s == LIS_OK) lis_pipe_log(p, "counterfactual: %d of %d trajectories reached their target (%d computed now)", ok, total, ran);
    lis_sbuf_free(&sum);
    free(orig);
    lis_link_free(&L);
    lis_tensor_free(&tw); lis_tensor_free(&tr); lis_tensor_free(&tc); lis_tensor_free(&ts);
    return s;
}

/* ---- report */

/* probabilities of the target and the origin along the steps */
static void svg_probs(lis_sbuf *b, const int64_t *steps, const float *P, int64_t n, int K, int o, int t, int64_t T) {
    int W = 420, H = 160, L = 40, B = 28, Tp = 10;
    double xs = T > 0 ? (double)(W - 10 - L) / (double)T : 1;
    lis_sbuf_printf(b, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"10\" style=\"vertical-align:top\">\n", W, H);
    lis_sbuf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n",
                    L, H - B, W - 10, H - B, L, Tp, L, H - B);
    lis_sbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">1</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", L - 3,
                    Tp + 4, L - 3, H - B);
    lis_sbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">step (0 = original, %lld = last)</text>\n", (W + L) / 2, H - 6, (long long)T);
    const int cls[2] = {t, o};
    const char *col[2] = {"#b5534a", "#4a7ab5"};
    for (int c = 0; c < 2; c++) {
        lis_sbuf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", col[c]);
        for (int64_t i = 0; i < n; i++)
            lis_sbuf_printf(b, "%.1f,%.1f ", L + (double)steps[i] * xs, Tp + (1 - P[(size_t)i * K + cls[c]]) * (H - B - Tp));
        lis_sbuf_printf(b, "\"/>\n");
        lis_sbuf_printf(b, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s %d</text>\n", W - 120, Tp + 12 + 12 * c, col[c], c ? "origin" : "target", cls[c]);
    }
    lis_sbuf_printf(b, "</svg>\n");
}

lis_status lis_counterfactual_report(lis_pipe *p, lis_sbuf *html) {
    cf_cfg *c = p->stage_data[ST_COUNTERFACTUAL];
    lis_sbuf_printf(html, "<h2>Counterfactuals</h2>\n<p>A shift s of the classifier's features r, optimised (variant <code>%s</code>, "
                          "%s, lr %g, at most %d steps) until the image of ReLU(r &minus; s), rendered through the linking network "
                          "and the generator, %s. Each strip: the original G(w), then the trajectory from G(link(r)) (step 0) to "
                          "the last step; the plot: the classifier's probability of the target and of the origin along the way "
                          "(on the rendered images%s); below, the interpolation r &minus; a&middot;(r &minus; ReLU(r &minus; s)) for "
                          "a from 0 to 1 with the target probability, and the units that moved most. Files: "
                          "<code>counterfactual/</code>.</p>\n",
                    lis_cf_variant_name(c->p.variant), c->p.opt == LIS_CF_ADAMW ? "AdamW" : "gradient descent", c->p.lr,
                    c->p.max_steps + 1,
                    c->p.stop == LIS_CF_STOP_IMAGE ? "is classified as the target" : "gives the target probability 1 - eps",
                    c->p.stop == LIS_CF_STOP_IMAGE ? "" : "; with the probability rule, of fc(ReLU(r - s))");
    int counts[1 << 12] = {0}, F = 0;
    for (int i = 0; i < c->npairs; i++)
        for (int j = 0; j < c->spc; j++) {
            char rel[256], f[320];
            job_rel(rel, sizeof rel, c->orig[i], c->targ[i], j);
            snprintf(f, sizeof f, "%s/result.json", rel);
            if (!exists_rel(p, f)) continue;
            lis_json *jr;
            if (read_json(p, f, &jr) != LIS_OK) continue;
            int succ = jnum(jr, "success") == 1, steps = (int)jnum(jr, "steps");
            lis_sbuf_printf(html, "<div class=\"unit\"><b>class %ld &rarr; %ld, sample %d</b>: %s after %d steps; final image: class "
                                  "%.0f, p(target) = %.3f, p(origin) = %.3f<br>\n", c->orig[i], c->targ[i], j,
                            succ ? "target reached" : "<b>target not reached</b>", steps, jnum(jr, "pred_final"),
                            jnum(jr, "p_target_final"), jnum(jr, "p_origin_final"));
            lis_sbuf_printf(html, "<img class=\"strip\" src=\"../%s/strip.png\" title=\"original | trajectory\"><br>\n", rel);
            lis_tensor ts = {0}, tp = {0}, tf = {0};
            snprintf(f, sizeof f, "%s/image_steps.npy", rel);
            int use_img = c->p.stop == LIS_CF_STOP_IMAGE;
            lis_status ls = lis_pipe_load(p, f, &ts);
            snprintf(f, sizeof f, use_img ? "%s/probs_image.npy" : "%s/probs_fc.npy", rel);
            if (ls == LIS_OK) ls = lis_pipe_load(p, f, &tp);
            if (ls == LIS_OK && tp.ndim == 2 && tp.dtype == LIS_DTYPE_F32) {
                int64_t n = tp.shape[0];
                int64_t *st = NULL;
                if (!use_img) { /* every row of the trajectory */
                    int64_t sh[1] = {n};
                    if (lis_tensor_alloc(&tf, LIS_DTYPE_I64, 1, sh) == LIS_OK)
                        for (int64_t q = 0; q < n; q++) ((int64_t *)tf.data)[q] = q;
                    st = tf.data;
                } else if (ts.ndim == 1 && ts.shape[0] == n) st = ts.data;
                if (st) svg_probs(html, st, tp.data, n, (int)tp.shape[1], (int)c->orig[i], (int)c->targ[i], steps);
            }
            lis_tensor_free(&ts); lis_tensor_free(&tp); lis_tensor_free(&tf);
            lis_sbuf_printf(html, "<img class=\"strip\" src=\"../%s/interp.png\" title=\"interpolation\"> p(target):", rel);
            const lis_json *pi = lis_json_get(jr, "p_target_interp"), *tu = lis_json_get(jr, "top_units");
            for (size_t q = 0; pi && pi->type == LIS_JSON_ARR && q < pi->len; q++) lis_sbuf_printf(html, " %.2f", pi->items[q]->num);
            lis_sbuf_printf(html, "<br>units that moved most (unit: shift):");
            lis_tensor te = {0};
            snprintf(f, sizeof f, "%s/effective_shift.npy", rel);
            int have_e = lis_pipe_load(p, f, &te) == LIS_OK && te.dtype == LIS_DTYPE_F32;
            for (size_t q = 0; tu && tu->type == LIS_JSON_ARR && q < tu->len; q++) {
                int u = (int)tu->items[q]->num;
                if (u >= 0 && u < (int)(sizeof counts / sizeof *counts)) counts[u]++;
                F = u + 1 > F ? u + 1 : F;
                if (have_e && u >= 0 && u < lis_tensor_numel(&te)) lis_sbuf_printf(html, " %d: %+.3f", u, ((float *)te.data)[u]);
                else lis_sbuf_printf(html, " %d", u);
            }
            lis_tensor_free(&te);
            lis_sbuf_printf(html, "</div>\n");
            lis_json_free(jr);
        }
    /* relevant units over all trajectories (spec 9.3) */
    int shown = 0;
    lis_sbuf_printf(html, "<h3>Units among the largest shifts of several trajectories</h3>\n<p>");
    for (int u = 0; u < F && u < (int)(sizeof counts / sizeof *counts); u++)
        if (counts[u] > 1) { lis_sbuf_printf(html, "%sunit %d (%d)", shown ? ", " : "", u, counts[u]); shown++; }
    lis_sbuf_printf(html, "%s</p>\n", shown ? "" : "(none: every trajectory moved its own units)");
    return LIS_OK;
}
