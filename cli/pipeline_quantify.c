/* pipeline_quantify.c — stage `quantify` (spec/pipeline.md 7): part metrics of every tuned
 * image, the change each unit's sweep causes, and statistics over the units.
 *
 * Per chunk (resumable, quantify/chunks/chunk_<j>/): for every (unit, reference sample)
 * the T images of its sweep (tune/strips, nearest-resized to the masks' size as the
 * original's composite) and their masks (seg/chunks) give per step and label the metrics
 * of kernels/seg_metrics.h (metrics.csv: the original's analysis_results.csv columns;
 * ellipses.csv: ellips_results.csv) and the change vector between the first and the last
 * step (change.npy [units, S, labels-1, 5]: area, luminance, entropy, eccentricity,
 * angle; NaN where the original gives NaN).
 *
 * Over units (7.3; the paper's definitions are not released, these are ours):
 *  - unit vector: per label and feature the mean over the reference samples of the change
 *    (NaN samples left out; none left: 0), divided by the feature's plotting range (area
 *    1, luminance/entropy/eccentricity 0.5, angle 180 degrees) so features are comparable;
 *  - label sparsity: the number of labels whose largest |scaled change| exceeds
 *    sparsity_threshold (default 0.1), histogram over units; also the Hoyer sparseness of
 *    the per-label magnitudes (1 = one label, 0 = all alike);
 *  - t-SNE of the unit vectors (kernels/tsne.h, sklearn's exact defaults, PCA init);
 *  - Ward hierarchical clustering of the unit vectors (kernels/hclust.h, scipy's format),
 *    cut into `clusters` groups for colouring.
 * Outputs: quantify/units.csv (one row per unit x label x metric: mean, std, mean |.|,
 * valid samples), quantify/change.npy, quantify/units.npy, quantify/unit_vectors.npy,
 * quantify/sparsity.csv, quantify/tsne.npy, quantify/linkage.npy, quantify/clusters.csv,
 * quantify/metrics.csv, quantify/ellipses.csv.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pipeline.h"
#include "kernels/hclust.h"
#include "kernels/nearest_concat.h"
#include "kernels/seg_metrics.h"
#include "kernels/tsne.h"
#include "nets/fewshot_cnn.h"
#include "runtime/fileio.h"
#include "runtime/png_io.h"
#include "runtime/progress.h"

lis_status lis_quantify_config(lis_pipe *p, int *enabled);
lis_status lis_stage_quantify(lis_pipe *p);
lis_status lis_quantify_report(lis_pipe *p, lis_sbuf *html);
void lis_quantify_free(void *data);

#define TRY(x) do { lis_status s_ = (x); if (s_) return s_; } while (0)
#define NF LIS_SEG_N_FEAT

typedef struct {
    double min_area, sparsity_threshold, perplexity;
    int tsne_iter, clusters, top;
    char single_blob[256];
    const char *single_blob_text;
} quant_opts;

void lis_quantify_free(void *data) { free(data); }

lis_status lis_quantify_config(lis_pipe *p, int *enabled) {
    quant_opts *o = calloc(1, sizeof *o);
    if (!o) return lis_err_set("out of memory");
    p->stage_data[ST_QUANTIFY] = o;
    lis_cfg *cfg = p->cfg;
    long v;
    TRY(lis_cfg_get_double(cfg, "quantify", "min_area", 20, 0, 1e12, &o->min_area));
    TRY(lis_cfg_get_str(cfg, "quantify", "single_blob", "body, tongue, nose, snout, head, stem, cap", &o->single_blob_text));
    TRY(lis_cfg_get_double(cfg, "quantify", "sparsity_threshold", 0.1, 0, 1e6, &o->sparsity_threshold));
    TRY(lis_cfg_get_double(cfg, "quantify", "tsne_perplexity", 30, 1, 1e6, &o->perplexity));
    TRY(lis_cfg_get_int(cfg, "quantify", "tsne_iter", 1000, 250, 100000, &v)); o->tsne_iter = (int)v;
    TRY(lis_cfg_get_int(cfg, "quantify", "clusters", 8, 1, 1000, &v)); o->clusters = (int)v;
    TRY(lis_cfg_get_int(cfg, "quantify", "top", 10, 1, 100000, &v)); o->top = (int)v;
    if (!p->stage_on[ST_SEGMENT] || !p->stage_data[ST_SEGMENT]) { *enabled = 0; return LIS_OK; }
    uint64_t keep[ST_COUNT];
    memcpy(keep, p->digest, sizeof keep);
    lis_pipe_note(p, ST_QUANTIFY, "quantify", "%.17g|%s|%.17g %.17g %d %d %d", o->min_area, o->single_blob_text,
                  o->sparsity_threshold, o->perplexity, o->tsne_iter, o->clusters, o->top);
    for (int st = ST_QUANTIFY + 1; st < ST_REPORT; st++) p->digest[st] = keep[st];
    return LIS_OK;
}

/* label names of the head (seg/head.safetensors) */
static lis_status head_labels(lis_pipe *p, int *L, char (*names)[LIS_FEWSHOT_NAME]) {
    lis_fewshot net;
    char *hp = lis_pipe_path(p, "seg/head.safetensors");
    lis_status s = hp ? lis_fewshot_load(&net, hp) : LIS_ERR;
    free(hp);
    if (s != LIS_OK) return s;
    *L = net.n_class;
    for (int l = 0; l < net.n_class && l < 256; l++) {
        if (l < net.n_labels_named && net.label_names[l][0]) snprintf(names[l], LIS_FEWSHOT_NAME, "%s", net.label_names[l]);
        else snprintf(names[l], LIS_FEWSHOT_NAME, "label_%d", l);
    }
    lis_fewshot_free(&net);
    return LIS_OK;
}

static lis_status quantify_chunk(lis_pipe *p, const quant_opts *o, int j, int L, const uint8_t *single) {
    lis_pipe_cfg *c = &p->c;
    char rel[160];
    lis_tensor tm = {0}, tu = {0};
    snprintf(rel, sizeof rel, "seg/chunks/chunk_%05d/masks.npy", j);
    lis_status s = lis_pipe_load(p, rel, &tm);
    snprintf(rel, sizeof rel, "seg/chunks/chunk_%05d/units.npy", j);
    if (s == LIS_OK) s = lis_pipe_load(p, rel, &tu);
    if (s == LIS_OK && (tm.ndim != 5 || tm.dtype != LIS_DTYPE_U8 || tm.shape[3] != tm.shape[4] || tu.shape[0] != tm.shape[0]))
        s = lis_err_set("%s/seg/chunks/chunk_%05d: masks.npy must be uint8 [units, S, T, H, H]", p->dir, j);
    if (s != LIS_OK) { lis_tensor_free(&tm); lis_tensor_free(&tu); return s; }
    int nu = (int)tm.shape[0], S = (int)tm.shape[1], T = (int)tm.shape[2], H = (int)tm.shape[3];
    size_t npx = (size_t)H * H;
    double *change = lis_malloc(sizeof(double) * (size_t)nu * S * (L - 1) * NF, "change vectors");
    float *chf = lis_malloc(sizeof(float) * (size_t)nu * S * (L - 1) * NF, "change vectors");
    uint8_t *small = lis_malloc(npx * 3 * T, "images");
    int *work = lis_malloc(sizeof(int) * npx, "work");
    lis_seg_metrics *m = calloc((size_t)T, sizeof *m);
    lis_sbuf mcsv = {0}, ecsv = {0};
    if (!change || !chf || !small || !work || !m) s = lis_err_set("out of memory");
    lis_seg_change_params cp = {o->min_area, single};
    int *blob = NULL;
    for (int a = 0; a < nu && s == LIS_OK; a++) {
        int u = (int)((int64_t *)tu.data)[a];
        for (int k = 0; k < S && s == LIS_OK; k++) {
            long cls = c->classes[k / c->tune_spc];
            int sj = k % c->tune_spc;
            snprintf(rel, sizeof rel, "tune/strips/unit_%05d/class_%ld_sample_%d.png", u, cls, sj);
            char *path = lis_pipe_path(p, rel);
            uint8_t *strip = NULL;
            int sh = 0, sw = 0;
            s = path ? lis_png_read_rgb(path, &strip, &sh, &sw) : LIS_ERR;
            free(path);
            if (s == LIS_OK && sw != sh * T) s = lis_err_set("%s/%s: %dx%d, expected %d images side by side", p->dir, rel, sh, sw, T);
            const uint8_t *mk = (const uint8_t *)tm.data + ((size_t)a * S + k) * T * npx;
            for (int t = 0; t < T && s == LIS_OK; t++) {
                uint8_t *im = small + (size_t)t * npx * 3;
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < H; x++)
                        memcpy(im + ((size_t)y * H + x) * 3,
                               strip + ((size_t)lis_nearest_src(y, sh, H) * sw + (size_t)t * sh + lis_nearest_src(x, sh, H)) * 3, 3);
                s = lis_seg_metrics_image(&m[t], im, mk + t * npx, H, H, L);
            }
            free(strip);
            if (s != LIS_OK) break;
            int total = 0;
            for (int t = 0; t < T; t++) total += m[t].n_ell;
            free(blob);
            blob = calloc((size_t)(total ? total : 1), sizeof(int));
            double *ch = change + ((size_t)a * S + k) * (L - 1) * NF;
            s = blob ? lis_seg_change(m, T, mk, mk + (size_t)(T - 1) * npx, &cp, work, ch, blob) : lis_err_set("out of memory");
            for (int t = 0, e0 = 0; t < T && s == LIS_OK; t++) {
                for (int l = 1; l < L; l++) {
                    const lis_seg_stats *st = &m[t].stats[l];
                    lis_sbuf_printf(&mcsv, "%d,%ld,%d,%d,%d,%.0f,%.10g,%.10g,%.10g,%.10g,%.10g\n", u, cls, sj, t, l, st->area,
                                    st->luminance, st->mean_entropy, st->std_entropy, st->min_entropy, st->max_entropy);
                }
                for (int e = 0; e < m[t].n_ell; e++, e0++) {
                    const lis_seg_ellipse *el = &m[t].ell[e];
                    lis_sbuf_printf(&ecsv, "%d,%ld,%d,%d,%d,", u, cls, sj, t, el->label);
                    if (blob[e0]) lis_sbuf_printf(&ecsv, "%d", blob[e0]);
                    else lis_sbuf_printf(&ecsv, "nan");
                    lis_sbuf_printf(&ecsv, ",%d,%.8g,%.8g,%.8g,%.8g,%.8g,%.8g\n", el->contour_i, el->eccentricity, el->e.angle,
                                    el->e.cx, el->e.cy, el->e.w, el->e.h);
                }
            }
        }
    }
    free(blob);
    char d[64];
    snprintf(d, sizeof d, "quantify/chunks/chunk_%05d", j);
    if (s == LIS_OK) s = lis_pipe_mkdir(p, d);
    for (size_t q = 0; s == LIS_OK && q < (size_t)nu * S * (L - 1) * NF; q++) chf[q] = (float)change[q];
    int64_t sc[4] = {nu, S, L - 1, NF};
    snprintf(rel, sizeof rel, "%s/change.npy", d);
    if (s == LIS_OK) s = lis_pipe_save(p, rel, LIS_DTYPE_F32, 4, sc, chf);
    snprintf(rel, sizeof rel, "%s/metrics.csv", d);
    if (s == LIS_OK) s = mcsv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, rel, mcsv.s ? mcsv.s : "", mcsv.len);
    snprintf(rel, sizeof rel, "%s/ellipses.csv", d);
    if (s == LIS_OK) s = ecsv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, rel, ecsv.s ? ecsv.s : "", ecsv.len);
    snprintf(rel, sizeof rel, "%s/done", d);
    if (s == LIS_OK) s = lis_pipe_write_text(p, rel, "ok\n", 3);
    for (int t = 0; m && t < T; t++) lis_seg_metrics_free(&m[t]);
    free(m); free(change); free(chf); free(small); free(work);
    lis_sbuf_free(&mcsv);
    lis_sbuf_free(&ecsv);
    lis_tensor_free(&tm);
    lis_tensor_free(&tu);
    return s;
}

static int chunk_done(lis_pipe *p, int j) {
    char rel[128];
    snprintf(rel, sizeof rel, "quantify/chunks/chunk_%05d/done", j);
    char *path = lis_pipe_path(p, rel);
    int d = path && lis_file_exists(path);
    free(path);
    return d;
}

/* concatenates a text file of every chunk below a header */
static lis_status concat_csv(lis_pipe *p, int nchunks, const char *name, const char *header) {
    lis_sbuf b = {0};
    lis_sbuf_printf(&b, "%s\n", header);
    lis_status s = LIS_OK;
    for (int j = 0; j < nchunks && s == LIS_OK; j++) {
        char rel[128];
        snprintf(rel, sizeof rel, "quantify/chunks/chunk_%05d/%s", j, name);
        char *path = lis_pipe_path(p, rel), *text = NULL;
        size_t len;
        s = path ? lis_read_file(path, &text, &len) : LIS_ERR;
        free(path);
        if (s == LIS_OK && len) lis_sbuf_printf(&b, "%s", text);
        free(text);
    }
    char rel[64];
    snprintf(rel, sizeof rel, "quantify/%s", name);
    if (s == LIS_OK) s = b.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, rel, b.s, b.len);
    lis_sbuf_free(&b);
    return s;
}

lis_status lis_stage_quantify(lis_pipe *p) {
    const quant_opts *o = p->stage_data[ST_QUANTIFY];
    lis_pipe_cfg *c = &p->c;
    int L;
    static char names[256][LIS_FEWSHOT_NAME];
    TRY(head_labels(p, &L, names));
    if (L < 2) return lis_err_set("quantify: the head has a single class");
    uint8_t single[256] = {0};
    for (int l = 0; l < L; l++) { /* the original's single-blob labels, by name */
        const char *t = o->single_blob_text;
        size_t n = strlen(names[l]);
        for (const char *q = strstr(t, names[l]); q; q = strstr(q + 1, names[l]))
            if ((q == t || q[-1] == ' ' || q[-1] == ',') && (q[n] == 0 || q[n] == ',' || q[n] == ' ')) single[l] = 1;
    }
    TRY(lis_pipe_mkdir(p, "quantify/chunks"));
    int nchunks = (int)((c->n_units + (size_t)c->chunk - 1) / (size_t)c->chunk), todo = 0;
    for (int j = 0; j < nchunks; j++) todo += !chunk_done(p, j);
    lis_pipe_log(p, "quantify: %d labels x %d features per sweep; %d of %d chunks to do", L - 1, NF, todo, nchunks);
    lis_progress pr;
    lis_progress_init(&pr, "quantify", "chunks", todo);
    lis_status s = LIS_OK;
    int done_now = 0;
    for (int j = 0; j < nchunks && s == LIS_OK; j++) {
        if (chunk_done(p, j)) continue;
        s = quantify_chunk(p, o, j, L, single);
        lis_progress_update(&pr, ++done_now);
    }
    lis_progress_done(&pr, done_now);
    if (s == LIS_OK)
        s = concat_csv(p, nchunks, "metrics.csv", "unit,class,sample,seq_i,label,area,luminance,mean_entropy,std_entropy,min_entropy,max_entropy");
    if (s == LIS_OK)
        s = concat_csv(p, nchunks, "ellipses.csv", "unit,class,sample,seq_i,label,ellips_i,contour_i,eccentricity,angle,center_x,center_y,width,height");
    if (s != LIS_OK) return s;
    /* gather every chunk's change vectors */
    int U = (int)c->n_units, S = c->n_classes * c->tune_spc, LF = (L - 1) * NF;
    float *chg = lis_malloc(sizeof(float) * (size_t)U * S * LF, "change vectors");
    int64_t *units = lis_malloc(sizeof(int64_t) * U, "units");
    double *vec = lis_malloc(sizeof(double) * (size_t)U * LF, "unit vectors");
    if (!chg || !units || !vec) { free(chg); free(units); free(vec); return LIS_ERR; }
    int u0 = 0;
    for (int j = 0; j < nchunks && s == LIS_OK; j++) {
        char rel[128];
        lis_tensor tc = {0}, tu = {0};
        snprintf(rel, sizeof rel, "quantify/chunks/chunk_%05d/change.npy", j);
        s = lis_pipe_load(p, rel, &tc);
        snprintf(rel, sizeof rel, "seg/chunks/chunk_%05d/units.npy", j);
        if (s == LIS_OK) s = lis_pipe_load(p, rel, &tu);
        if (s == LIS_OK && (tc.shape[1] != S || tc.shape[2] != L - 1 || u0 + tc.shape[0] > U))
            s = lis_err_set("%s/quantify/chunks/chunk_%05d: change.npy does not match the configuration", p->dir, j);
        if (s == LIS_OK) {
            memcpy(chg + (size_t)u0 * S * LF, tc.data, sizeof(float) * (size_t)tc.shape[0] * S * LF);
            memcpy(units + u0, tu.data, sizeof(int64_t) * (size_t)tu.shape[0]);
            u0 += (int)tc.shape[0];
        }
        lis_tensor_free(&tc);
        lis_tensor_free(&tu);
    }
    /* units.csv and the unit vectors */
    lis_sbuf csv = {0};
    lis_sbuf_printf(&csv, "unit,label,label_name,metric,mean,std,mean_abs,n_valid\n");
    for (int a = 0; a < U && s == LIS_OK; a++)
        for (int l = 1; l < L; l++)
            for (int f = 0; f < NF; f++) {
                double sum = 0, sq = 0, sa = 0;
                int nv = 0;
                for (int k = 0; k < S; k++) {
                    double v = chg[((size_t)a * S + k) * LF + (l - 1) * NF + f];
                    if (isnan(v)) continue;
                    sum += v; sq += v * v; sa += fabs(v); nv++;
                }
                double mean = nv ? sum / nv : NAN, sd = nv ? sqrt(fmax(0, sq / nv - mean * mean)) : NAN;
                vec[(size_t)a * LF + (l - 1) * NF + f] = nv ? mean / lis_seg_feat_range[f] : 0;
                lis_sbuf_printf(&csv, "%lld,%d,%s,%s,%.6g,%.6g,%.6g,%d\n", (long long)units[a], l, names[l], lis_seg_feat_names[f],
                                mean, sd, nv ? sa / nv : NAN, nv);
            }
    if (s == LIS_OK) s = csv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "quantify/units.csv", csv.s, csv.len);
    lis_sbuf_free(&csv);
    int64_t sc[4] = {U, S, L - 1, NF}, su[1] = {U}, sv[2] = {U, LF};
    if (s == LIS_OK) s = lis_pipe_save(p, "quantify/change.npy", LIS_DTYPE_F32, 4, sc, chg);
    if (s == LIS_OK) s = lis_pipe_save(p, "quantify/units.npy", LIS_DTYPE_I64, 1, su, units);
    if (s == LIS_OK) s = lis_pipe_save(p, "quantify/unit_vectors.npy", LIS_DTYPE_F64, 2, sv, vec);
    /* label sparsity */
    lis_sbuf sp = {0};
    lis_sbuf_printf(&sp, "unit,labels_changed,hoyer\n");
    for (int a = 0; a < U; a++) {
        int nchg = 0;
        double l1 = 0, l2 = 0;
        for (int l = 1; l < L; l++) {
            double mx = 0;
            for (int f = 0; f < NF; f++) mx = fmax(mx, fabs(vec[(size_t)a * LF + (l - 1) * NF + f]));
            nchg += mx > o->sparsity_threshold;
            l1 += mx;
            l2 += mx * mx;
        }
        int n = L - 1;
        double hoyer = l2 > 0 && n > 1 ? (sqrt((double)n) - l1 / sqrt(l2)) / (sqrt((double)n) - 1) : 0;
        lis_sbuf_printf(&sp, "%lld,%d,%.4f\n", (long long)units[a], nchg, hoyer);
    }
    if (s == LIS_OK) s = sp.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "quantify/sparsity.csv", sp.s, sp.len);
    lis_sbuf_free(&sp);
    /* t-SNE and Ward clustering of the unit vectors */
    if (s == LIS_OK && U >= 4) {
        double *Y = lis_malloc(sizeof(double) * 2 * U, "t-SNE"), *Z = lis_malloc(sizeof(double) * 4 * (U - 1), "linkage");
        int *cl = lis_malloc(sizeof(int) * U, "clusters");
        lis_tsne_params tp;
        lis_tsne_params_default(&tp);
        tp.perplexity = o->perplexity;
        tp.n_iter = o->tsne_iter;
        double kl = 0;
        s = Y && Z && cl ? lis_tsne(&tp, vec, U, LF, Y, &kl) : LIS_ERR;
        int64_t st2[2] = {U, 2}, sz[2] = {U - 1, 4};
        if (s == LIS_OK) s = lis_pipe_save(p, "quantify/tsne.npy", LIS_DTYPE_F64, 2, st2, Y);
        if (s == LIS_OK) s = lis_ward_linkage(vec, U, LF, Z);
        if (s == LIS_OK) s = lis_pipe_save(p, "quantify/linkage.npy", LIS_DTYPE_F64, 2, sz, Z);
        if (s == LIS_OK) {
            lis_linkage_cut(Z, U, o->clusters, cl);
            lis_sbuf cc = {0};
            lis_sbuf_printf(&cc, "unit,cluster,tsne_x,tsne_y\n");
            for (int a = 0; a < U; a++) lis_sbuf_printf(&cc, "%lld,%d,%.6g,%.6g\n", (long long)units[a], cl[a], Y[2 * a], Y[2 * a + 1]);
            s = cc.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "quantify/clusters.csv", cc.s, cc.len);
            lis_sbuf_free(&cc);
            lis_pipe_log(p, "quantify: t-SNE of %d unit vectors (KL %.3f), Ward clustering into %d groups", U, kl, o->clusters);
        }
        free(Y); free(Z); free(cl);
    }
    free(chg); free(units); free(vec);
    return s;
}

/* ---- report ---- */

typedef struct { double v; int i; } ranked;
static int cmp_ranked(const void *a, const void *b) {
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return x > y ? -1 : (x < y ? 1 : ((const ranked *)a)->i - ((const ranked *)b)->i);
}

/* the sweep of unit u on the first reference sample: its overlay (or the tuning strip) */
static void unit_link(lis_pipe *p, lis_sbuf *b, long u) {
    lis_sbuf_printf(b, "../seg/overlays/unit_%05ld/class_%ld_sample_0.png", u, p->c.classes[0]);
}

lis_status lis_quantify_report(lis_pipe *p, lis_sbuf *html) {
    const quant_opts *o = p->stage_data[ST_QUANTIFY];
    int L;
    static char names[256][LIS_FEWSHOT_NAME];
    TRY(head_labels(p, &L, names));
    lis_tensor tv = {0}, tu = {0}, ty = {0}, tz = {0};
    lis_status s = lis_pipe_load(p, "quantify/unit_vectors.npy", &tv);
    if (s == LIS_OK) s = lis_pipe_load(p, "quantify/units.npy", &tu);
    if (s != LIS_OK) { lis_tensor_free(&tv); lis_tensor_free(&tu); return s; }
    int U = (int)tu.shape[0], LF = (L - 1) * NF;
    const double *vec = tv.data;
    const int64_t *units = tu.data;
    lis_sbuf_printf(html, "<h2>Quantification</h2>\n<p>Per unit and label, the change from the first to the last step of the "
                          "sweep, averaged over the reference samples (spec 7.2: area relative, luminance / 85, entropy "
                          "absolute, eccentricity and angle of the fitted ellipses). Every row: <code>quantify/units.csv</code>; "
                          "change vectors: <code>quantify/change.npy</code>. Click a unit to see its sweep with the predicted parts.</p>\n");
    ranked *r = malloc(sizeof(ranked) * (U ? U : 1));
    for (int l = 1; l < L && r; l++) {
        lis_sbuf_printf(html, "<h3>Label %d: ", l);
        lis_sbuf_printf(html, "%s</h3>\n<table><tr>", names[l]);
        for (int f = 0; f < NF; f++) lis_sbuf_printf(html, "<th>%s: largest increase</th><th>largest decrease</th>", lis_seg_feat_names[f]);
        lis_sbuf_printf(html, "</tr>\n");
        /* columns of (unit, value) for the top-N increases and decreases of each feature */
        int top = o->top < U ? o->top : U;
        ranked *col[2 * NF];
        for (int f = 0; f < NF; f++)
            for (int sgn = 0; sgn < 2; sgn++) {
                ranked *cr = malloc(sizeof(ranked) * (U ? U : 1));
                for (int a = 0; a < U; a++) {
                    double v = vec[(size_t)a * LF + (l - 1) * NF + f] * lis_seg_feat_range[f];
                    cr[a].v = sgn ? -v : v;
                    cr[a].i = a;
                }
                qsort(cr, (size_t)U, sizeof *cr, cmp_ranked);
                col[2 * f + sgn] = cr;
            }
        for (int k = 0; k < top; k++) {
            lis_sbuf_printf(html, "<tr>");
            for (int q = 0; q < 2 * NF; q++) {
                ranked *cr = col[q];
                double v = q % 2 ? -cr[k].v : cr[k].v;
                if ((q % 2 == 0 && v <= 0) || (q % 2 == 1 && v >= 0)) { lis_sbuf_printf(html, "<td></td>"); continue; }
                lis_sbuf_printf(html, "<td><a href=\"");
                unit_link(p, html, (long)units[cr[k].i]);
                lis_sbuf_printf(html, "\">unit %lld</a> %+.3g</td>", (long long)units[cr[k].i], v);
            }
            lis_sbuf_printf(html, "</tr>\n");
        }
        lis_sbuf_printf(html, "</table>\n");
        for (int q = 0; q < 2 * NF; q++) free(col[q]);
    }
    free(r);
    /* sparsity histogram */
    int *hist = calloc((size_t)L, sizeof(int));
    for (int a = 0; a < U && hist; a++) {
        int n = 0;
        for (int l = 1; l < L; l++) {
            double mx = 0;
            for (int f = 0; f < NF; f++) mx = fmax(mx, fabs(vec[(size_t)a * LF + (l - 1) * NF + f]));
            n += mx > o->sparsity_threshold;
        }
        hist[n]++;
    }
    int W = 640, H = 220, Lm = 50, B = 40, mx = 1;
    for (int k = 0; k < L && hist; k++) mx = hist[k] > mx ? hist[k] : mx;
    lis_sbuf_printf(html, "<h3>Label sparsity</h3>\n<p>How many labels each unit changes (a label counts when one of its "
                          "scaled changes exceeds %.3g; <code>quantify/sparsity.csv</code> also gives the Hoyer sparseness).</p>\n"
                          "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">\n",
                    o->sparsity_threshold, W, H);
    double bw = (double)(W - 10 - Lm) / L;
    for (int k = 0; k < L && hist; k++) {
        double h = (double)hist[k] / mx * (H - B - 20);
        lis_sbuf_printf(html, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4a7ab5\"><title>%d labels: %d units</title></rect>"
                              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
                        Lm + k * bw + 2, H - B - h, bw - 4, h, k, hist[k], Lm + (k + 0.5) * bw, H - B + 14, k, Lm + (k + 0.5) * bw,
                        H - B - h - 3, hist[k]);
    }
    lis_sbuf_printf(html, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
                          "labels changed</text></svg>\n", Lm, H - B, W - 10, H - B, (W + Lm) / 2, H - 8);
    free(hist);
    /* t-SNE scatter, coloured by cluster */
    static const char *pal[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    int *cl = NULL;
    if (lis_pipe_load(p, "quantify/tsne.npy", &ty) == LIS_OK && lis_pipe_load(p, "quantify/linkage.npy", &tz) == LIS_OK &&
        ty.shape[0] == U) {
        const double *Y = ty.data, *Z = tz.data;
        cl = malloc(sizeof(int) * U);
        if (cl) lis_linkage_cut(Z, U, o->clusters, cl);
        double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
        for (int a = 0; a < U; a++) {
            x0 = fmin(x0, Y[2 * a]); x1 = fmax(x1, Y[2 * a]); y0 = fmin(y0, Y[2 * a + 1]); y1 = fmax(y1, Y[2 * a + 1]);
        }
        int S2 = 560;
        lis_sbuf_printf(html, "<h3>t-SNE of the unit vectors</h3>\n<p>Each point is a unit (its label x feature change vector, "
                              "scaled per feature); colours are the %d Ward clusters of the dendrogram below. Click a point for "
                              "the unit's sweep.</p>\n<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" "
                              "xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<rect width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n",
                        o->clusters, S2, S2, S2, S2);
        for (int a = 0; a < U; a++) {
            double px = 10 + (x1 > x0 ? (Y[2 * a] - x0) / (x1 - x0) : 0.5) * (S2 - 20);
            double py = 10 + (y1 > y0 ? (Y[2 * a + 1] - y0) / (y1 - y0) : 0.5) * (S2 - 20);
            lis_sbuf_printf(html, "<a xlink:href=\"");
            unit_link(p, html, (long)units[a]);
            lis_sbuf_printf(html, "\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" fill-opacity=\"0.8\"><title>unit %lld, cluster %d</title>"
                                  "</circle></a>\n", px, py, pal[(cl ? cl[a] - 1 : 0) % 10], (long long)units[a], cl ? cl[a] : 0);
        }
        lis_sbuf_printf(html, "</svg>\n");
        /* dendrogram: leaves in order along x, merge heights along y */
        int *leaves = malloc(sizeof(int) * U), *pos = malloc(sizeof(int) * U);
        double *cx = malloc(sizeof(double) * 2 * U), *cy = malloc(sizeof(double) * 2 * U);
        if (leaves && pos && cx && cy) {
            lis_linkage_leaves(Z, U, leaves);
            double hmax = Z[4 * (U - 2) + 2] > 0 ? Z[4 * (U - 2) + 2] : 1;
            int DW = 1000, DH = 300, ml = 40, mb = 20;
            for (int i = 0; i < U; i++) { cx[leaves[i]] = ml + (i + 0.5) * (DW - ml - 10) / U; cy[leaves[i]] = DH - mb; }
            lis_sbuf_printf(html, "<h3>Hierarchical clustering (Ward)</h3>\n<p>Dendrogram of the unit vectors "
                                  "(<code>quantify/linkage.npy</code>, scipy's linkage format; clusters in "
                                  "<code>quantify/clusters.csv</code>). Hover a leaf for its unit; click it for the sweep.</p>\n"
                                  "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n",
                            DW, DH);
            for (int i = 0; i < U - 1; i++) {
                int a = (int)Z[4 * i], b = (int)Z[4 * i + 1];
                double h = DH - mb - Z[4 * i + 2] / hmax * (DH - mb - 10);
                lis_sbuf_printf(html, "<polyline fill=\"none\" stroke=\"#555\" stroke-width=\"0.8\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>\n",
                                cx[a], cy[a], cx[a], h, cx[b], h, cx[b], cy[b]);
                cx[U + i] = (cx[a] + cx[b]) / 2;
                cy[U + i] = h;
            }
            for (int i = 0; i < U; i++) {
                int a = leaves[i];
                lis_sbuf_printf(html, "<a xlink:href=\"");
                unit_link(p, html, (long)units[a]);
                lis_sbuf_printf(html, "\"><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"8\" fill=\"%s\"><title>unit %lld</title></rect></a>\n",
                                cx[a] - 0.5 * (DW - ml - 10) / U, DH - mb + 2, (double)(DW - ml - 10) / U, pal[(cl ? cl[a] - 1 : 0) % 10],
                                (long long)units[a]);
            }
            lis_sbuf_printf(html, "<text x=\"4\" y=\"14\" font-size=\"11\">%.3g</text></svg>\n", hmax);
        }
        free(leaves); free(pos); free(cx); free(cy);
    }
    free(cl);
    lis_tensor_free(&tv); lis_tensor_free(&tu); lis_tensor_free(&ty); lis_tensor_free(&tz);
    return LIS_OK;
}
