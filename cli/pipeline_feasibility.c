/* pipeline_feasibility.c — stage `feasibility` (spec/pipeline.md 4, Fig. 3A): is the
 * linking feasible, i.e. are W and R ordered alike by class? On the pairs of stage
 * `pairs` (pairs/w.npy, pairs/r.npy, pairs/classes.npy) it runs the analysis of
 * kernels/rsa.h: repeated class-balanced draws, k-means in W and in R with the adjusted
 * Rand index against the classes, and correlations between the similarity (correlation)
 * and dissimilarity (Euclidean) matrices of the two spaces.
 *
 * Keys ([feasibility]; defaults [inferred], spec 4: the paper's counts need the PDF):
 *   repeats = 10  samples_per_class = 100  seed = 0  n_init = 10  max_iter = 300
 *   tol = 1e-4  rsa = true
 * Outputs (feasibility/, atomic; the same files as `lis-run feasibility`):
 *   repeats.csv   one row per draw: every metric, the k-means inertia in W and R
 *   summary.csv   metric,mean,std,min,max,n (std with ddof = 1, NaN skipped)
 *   metrics.npy   [repeats, 10] float64 (columns as in repeats.csv)
 *   draws.npy     [repeats, n] int64 pair rows drawn; labels_w.npy, labels_r.npy [repeats, n] int32
 *   classes.npy   [k] int64; centroid_{corr,euclid}_{w,r}.npy [k, k] float64 (mean over draws)
 * Report: the table, a box plot over the draws and the class-centroid correlation matrices.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pipeline.h"
#include "kernels/rsa.h"
#include "runtime/fileio.h"

lis_status lis_feasibility_config(lis_pipe *p, int *enabled);
lis_status lis_stage_feasibility(lis_pipe *p);
lis_status lis_feasibility_report(lis_pipe *p, lis_sbuf *html);
void lis_feasibility_free(void *data);
/* cli/cmd_feasibility.c: the output files, shared with `lis-run feasibility` */
lis_status lis_feasibility_write(const char *dir, const lis_feas_result *r);

#define TRY(x) do { lis_status s_ = (x); if (s_) return s_; } while (0)

lis_status lis_feasibility_config(lis_pipe *p, int *enabled) {
    (void)enabled;
    lis_feas_params *fp = calloc(1, sizeof *fp);
    if (!fp) return lis_err_set("out of memory");
    p->stage_data[ST_FEASIBILITY] = fp;
    lis_feas_params_default(fp);
    lis_cfg *cfg = p->cfg;
    long v;
    TRY(lis_cfg_get_int(cfg, "feasibility", "repeats", fp->repeats, 1, 100000, &v)); fp->repeats = (int)v;
    TRY(lis_cfg_get_int(cfg, "feasibility", "samples_per_class", fp->samples_per_class, 2, 10000000, &v)); fp->samples_per_class = (int)v;
    TRY(lis_cfg_get_int(cfg, "feasibility", "seed", 0, 0, 4294967295L, &v)); fp->seed = (uint32_t)v; fp->km.seed = (uint32_t)v;
    TRY(lis_cfg_get_int(cfg, "feasibility", "n_init", fp->km.n_init, 1, 10000, &v)); fp->km.n_init = (int)v;
    TRY(lis_cfg_get_int(cfg, "feasibility", "max_iter", fp->km.max_iter, 1, 1000000, &v)); fp->km.max_iter = (int)v;
    TRY(lis_cfg_get_double(cfg, "feasibility", "tol", fp->km.tol, 0, 1, &fp->km.tol));
    TRY(lis_cfg_get_bool(cfg, "feasibility", "rsa", 1, &fp->rsa));
    /* Only this stage and the report depend on these keys: keep them out of the digests of
     * the stages in between (tune, ...), so tuning the analysis never invalidates a tuning
     * run, and run directories made before this stage existed still resume. */
    uint64_t keep[ST_COUNT];
    memcpy(keep, p->digest, sizeof keep);
    lis_pipe_note(p, ST_FEASIBILITY, "feasibility", "%d %d %u %d %d %.17g %d", fp->repeats, fp->samples_per_class, fp->seed,
                  fp->km.n_init, fp->km.max_iter, fp->km.tol, fp->rsa);
    for (int st = ST_FEASIBILITY + 1; st < ST_REPORT; st++) p->digest[st] = keep[st];
    return LIS_OK;
}

void lis_feasibility_free(void *data) { free(data); }

lis_status lis_stage_feasibility(lis_pipe *p) {
    const lis_feas_params *fp = p->stage_data[ST_FEASIBILITY];
    lis_tensor tw = {0}, tr = {0}, tc = {0};
    lis_feas_result res = {0};
    lis_status s = lis_pipe_load(p, "pairs/w.npy", &tw);
    if (s == LIS_OK) s = lis_pipe_load(p, "pairs/r.npy", &tr);
    if (s == LIS_OK) s = lis_pipe_load(p, "pairs/classes.npy", &tc);
    if (s == LIS_OK && (tw.dtype != LIS_DTYPE_F32 || tr.dtype != LIS_DTYPE_F32 || tc.dtype != LIS_DTYPE_I64 || tw.ndim != 2 ||
                        tr.ndim != 2 || tc.ndim != 1 || tw.shape[0] != tr.shape[0] || tc.shape[0] != tw.shape[0]))
        s = lis_err_set("%s/pairs: w, r and classes do not match (expected [N, w_dim] f32, [N, F] f32, [N] i64)", p->dir);
    if (s == LIS_OK) {
        lis_pipe_log(p, "feasibility: %lld pairs, %d draws of up to %d per class, k-means n_init %d%s", (long long)tw.shape[0],
                     fp->repeats, fp->samples_per_class, fp->km.n_init, fp->rsa ? ", similarity matrices" : "");
        s = lis_feasibility(fp, tw.shape[0], (int)tw.shape[1], tw.data, tw.shape[1], (int)tr.shape[1], tr.data, tr.shape[1], tc.data,
                            &res);
    }
    char *dir = s == LIS_OK ? lis_pipe_path(p, "feasibility") : NULL;
    if (s == LIS_OK) s = dir ? lis_feasibility_write(dir, &res) : LIS_ERR;
    free(dir);
    if (s == LIS_OK) {
        double a[3], sd;
        double lo, hi;
        lis_feas_summary(&res, LIS_FEAS_ARI_W, &a[0], &sd, &lo, &hi, NULL);
        lis_feas_summary(&res, LIS_FEAS_ARI_R, &a[1], &sd, &lo, &hi, NULL);
        lis_feas_summary(&res, LIS_FEAS_CORR_PEARSON, &a[2], &sd, &lo, &hi, NULL);
        lis_pipe_log(p, "feasibility: %d classes x %d per draw: ARI W %.3f, R %.3f; similarity matrices correlate r = %.3f", res.k,
                     res.spc, a[0], a[1], a[2]);
    }
    lis_feas_result_free(&res);
    lis_tensor_free(&tw); lis_tensor_free(&tr); lis_tensor_free(&tc);
    return s;
}

/* ---- report */
static const char *const pretty[LIS_FEAS_NMETRIC] = {
    "ARI k-means(W) vs classes", "ARI k-means(R) vs classes", "ARI k-means(W) vs k-means(R)",
    "correlation matrices, Pearson", "correlation matrices, Spearman", "Euclidean matrices, Pearson",
    "Euclidean matrices, Spearman", "class centroids, correlation matrices", "class centroids, Euclidean matrices",
    "control: R shuffled against W",
};

static void feas_table(lis_sbuf *b, const lis_feas_result *r) {
    lis_sbuf_printf(b, "<table>\n<tr><th>measure</th><th>mean</th><th>std</th><th>min</th><th>max</th><th>draws</th></tr>\n");
    for (int m = 0; m < LIS_FEAS_NMETRIC; m++) {
        double mu, sd, lo, hi;
        int c;
        lis_feas_summary(r, m, &mu, &sd, &lo, &hi, &c);
        lis_sbuf_printf(b, "<tr><td style=\"text-align:left\">%s <code>%s</code></td><td>%.3f</td><td>%.3f</td><td>%.3f</td>"
                           "<td>%.3f</td><td>%d</td></tr>\n", pretty[m], lis_feas_metric_names[m], mu, sd, lo, hi, c);
    }
    lis_sbuf_printf(b, "</table>\n");
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy.percentile (linear) of sorted v [n] */
static double pct(const double *v, int n, double q) {
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1) return v[n - 1];
    return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

/* box plot of every metric over the draws: box = quartiles, line = median, whiskers =
 * min..max, dots = the draws */
static void svg_boxes(lis_sbuf *b, const lis_feas_result *r) {
    int W = 1000, H = 300, L = 50, B = 110, T = 15, R = 130, nm = LIS_FEAS_NMETRIC; /* R: room for the last label */
    double y0 = -0.2, y1 = 1.0;
    for (int i = 0; i < r->repeats * nm; i++) {
        double v = r->metric[i];
        if (!isnan(v)) { y0 = v < y0 ? v : y0; y1 = v > y1 ? v : y1; }
    }
#define Y(v) (T + (y1 - (v)) / (y1 - y0) * (H - B - T))
    lis_sbuf_printf(b, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">\n", W, H);
    for (double g = ceil(y0 * 5) / 5; g <= y1 + 1e-9; g += 0.2)
        lis_sbuf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/><text x=\"%d\" y=\"%.1f\" "
                           "text-anchor=\"end\">%.1f</text>\n", L, W - R, Y(g), Y(g), fabs(g) < 1e-9 ? "#888" : "#e4e4e4", L - 4,
                        Y(g) + 4, g);
    double cw = (double)(W - R - L) / nm;
    double *v = malloc(sizeof(double) * (size_t)(r->repeats ? r->repeats : 1));
    for (int m = 0; v && m < nm; m++) {
        int n = 0;
        for (int i = 0; i < r->repeats; i++) {
            double x = r->metric[(size_t)i * nm + m];
            if (!isnan(x)) v[n++] = x;
        }
        double cx = L + (m + 0.5) * cw, bw = cw * 0.5;
        const char *col = m <= LIS_FEAS_ARI_WR ? "#4a7ab5" : m == LIS_FEAS_CORR_SHUFFLED ? "#999" : "#b5534a";
        if (n) {
            qsort(v, (size_t)n, sizeof *v, cmp_d);
            double q1 = pct(v, n, .25), q2 = pct(v, n, .5), q3 = pct(v, n, .75);
            lis_sbuf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", cx, cx, Y(v[0]), Y(v[n - 1]));
            lis_sbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.35\" "
                               "stroke=\"%s\"/>\n", cx - bw / 2, Y(q3), bw, Y(q1) - Y(q3) + 0.5, col, col);
            lis_sbuf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"2\"/>\n",
                            cx - bw / 2, cx + bw / 2, Y(q2), Y(q2));
            for (int i = 0; i < n; i++)
                lis_sbuf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\"/>\n", cx + bw * 0.3 * ((i % 5) - 2) / 2.0,
                                Y(v[i]), col);
        }
        lis_sbuf_printf(b, "<text transform=\"translate(%.1f %d) rotate(35)\">%s</text>\n", cx - 4, H - B + 12, lis_feas_metric_names[m]);
    }
#undef Y
    free(v);
    lis_sbuf_printf(b, "</svg>\n");
}

/* k x k matrix as a heat map: white at the smallest entry, red at the largest (the range
 * is in the title: class-mean vectors share a large common part, so their correlations
 * are all high and a fixed -1..1 scale would show one colour) */
static void svg_heat(lis_sbuf *b, const double *M, int k, const int64_t *cls, const char *title) {
    int cell = k <= 8 ? 34 : 272 / k, L = 40, T = 30, S = cell * k;
    double lo = M[0], hi = M[0];
    for (int i = 0; i < k * k; i++) { lo = M[i] < lo ? M[i] : lo; hi = M[i] > hi ? M[i] : hi; }
    lis_sbuf_printf(b, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"10\">\n", L + S + 10, T + S + 10);
    lis_sbuf_printf(b, "<text x=\"%d\" y=\"14\" font-size=\"12\">%s, %.3g (white) .. %.3g (red)</text>\n", 4, title, lo, hi);
    for (int i = 0; i < k; i++) {
        lis_sbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%lld</text>\n", L - 3, T + i * cell + cell / 2 + 4, (long long)cls[i]);
        for (int j = 0; j < k; j++) {
            double v = hi > lo ? (M[i * k + j] - lo) / (hi - lo) : 1;
            int gb = (int)(255 * (1 - 0.75 * v));
            lis_sbuf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(255,%d,%d)\"><title>%.4f</title></rect>\n",
                            L + j * cell, T + i * cell, cell, cell, gb, gb, M[i * k + j]);
            if (cell >= 30)
                lis_sbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"9\">%.2f</text>\n", L + j * cell + cell / 2,
                                T + i * cell + cell / 2 + 3, M[i * k + j]);
        }
    }
    lis_sbuf_printf(b, "</svg>\n");
}

lis_status lis_feasibility_report(lis_pipe *p, lis_sbuf *html) {
    lis_feas_result r = {0};
    lis_tensor tm = {0}, tc = {0}, cw = {0}, cr = {0};
    lis_status s = lis_pipe_load(p, "feasibility/metrics.npy", &tm);
    if (s == LIS_OK) s = lis_pipe_load(p, "feasibility/classes.npy", &tc);
    if (s == LIS_OK) s = lis_pipe_load(p, "feasibility/centroid_corr_w.npy", &cw);
    if (s == LIS_OK) s = lis_pipe_load(p, "feasibility/centroid_corr_r.npy", &cr);
    lis_sbuf_printf(html, "<h2>Feasibility of the linking</h2>\n");
    if (s != LIS_OK || tm.ndim != 2 || tm.shape[1] != LIS_FEAS_NMETRIC || tm.dtype != LIS_DTYPE_F64 || tc.dtype != LIS_DTYPE_I64) {
        lis_sbuf_printf(html, "<p>(feasibility results not available)</p>\n");
        lis_tensor_free(&tm); lis_tensor_free(&tc); lis_tensor_free(&cw); lis_tensor_free(&cr);
        return LIS_OK;
    }
    const lis_feas_params *fp = p->stage_data[ST_FEASIBILITY];
    r.repeats = (int)tm.shape[0];
    r.metric = tm.data;
    r.k = (int)tc.shape[0];
    lis_sbuf_printf(html, "<p>Are the classes ordered alike in the generator's W and the classifier's R? On the pairs, %d draws of "
                          "up to %d examples per class (%d classes): k-means with k = %d (k-means++, %d initialisations) in W and "
                          "in R, scored by the adjusted Rand index against the classes (1 = the clusters are the classes, 0 = "
                          "chance); and correlations between the upper triangles of the sample-by-sample similarity (Pearson "
                          "correlation) and dissimilarity (Euclidean) matrices of W and of R. The last row shuffles which R "
                          "belongs to which W (chance level). Files: <code>feasibility/</code>.</p>\n",
                    r.repeats, fp ? fp->samples_per_class : 0, r.k, r.k, fp ? fp->km.n_init : 0);
    feas_table(html, &r);
    svg_boxes(html, &r);
    if (cw.ndim == 2 && cr.ndim == 2 && cw.shape[0] == r.k && cr.shape[0] == r.k) {
        lis_sbuf_printf(html, "<p>Class centroids: correlation between the mean w (left) and between the mean r (right) of each "
                              "pair of classes, averaged over the draws.</p>\n");
        svg_heat(html, cw.data, r.k, tc.data, "W");
        svg_heat(html, cr.data, r.k, tc.data, "R");
    }
    lis_tensor_free(&tm); lis_tensor_free(&tc); lis_tensor_free(&cw); lis_tensor_free(&cr);
    return LIS_OK;
}
