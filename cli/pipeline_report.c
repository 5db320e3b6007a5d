/* pipeline_report.c — stage `report`: report/index.html, one self-contained page (images
 * are linked, plots are inline SVG) with the run's configuration, the pairs' acceptance,
 * the linking metrics and cycle examples, the activation ranges, the distribution of how
 * much each unit changes the image, and the sweeps of the units that change it most
 * (every unit of tune/units.csv is listed; its strips are in tune/strips/unit_<u>/).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/pipeline.h"
#include "runtime/fileio.h"

typedef struct {
    char **cell;
    int rows, cols;
} csv_t;

static void csv_free(csv_t *t) {
    for (int i = 0; i < t->rows * t->cols; i++) free(t->cell[i]);
    free(t->cell);
    memset(t, 0, sizeof *t);
}

/* Small CSV without quoting (the files lis writes). Missing file: empty table. */
static lis_status csv_read(lis_pipe *p, const char *rel, csv_t *t) {
    memset(t, 0, sizeof *t);
    char *path = lis_pipe_path(p, rel), *text = NULL;
    size_t len;
    if (!path) return LIS_ERR;
    if (!lis_file_exists(path)) { free(path); return LIS_OK; }
    lis_status s = lis_read_file(path, &text, &len);
    free(path);
    if (s) return s;
    size_t cap = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int n = 1;
        for (char *q = line; *q; q++) n += *q == ',';
        if (t->rows == 0) t->cols = n;
        if (n != t->cols) continue;
        if ((size_t)(t->rows + 1) * (size_t)t->cols > cap) {
            cap = cap ? cap * 2 : 256;
            while (cap < (size_t)(t->rows + 1) * (size_t)t->cols) cap *= 2;
            char **nc = realloc(t->cell, cap * sizeof *nc);
            if (!nc) { free(text); return lis_err_set("out of memory"); }
            t->cell = nc;
        }
        char *save2 = NULL, *f = line;
        for (int c = 0; c < n; c++) {
            char *comma = strchr(f, ',');
            if (comma) *comma = 0;
            t->cell[t->rows * t->cols + c] = strdup(f);
            f = comma ? comma + 1 : f + strlen(f);
        }
        (void)save2;
        t->rows++;
    }
    free(text);
    return LIS_OK;
}

static void html_escape(lis_sbuf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '<') lis_sbuf_printf(b, "&lt;");
        else if (*s == '>') lis_sbuf_printf(b, "&gt;");
        else if (*s == '&') lis_sbuf_printf(b, "&amp;");
        else lis_sbuf_printf(b, "%c", *s);
    }
}

static void csv_table(lis_sbuf *b, const csv_t *t) {
    if (!t->rows) { lis_sbuf_printf(b, "<p>(not available)</p>\n"); return; }
    lis_sbuf_printf(b, "<table>\n");
    for (int r = 0; r < t->rows; r++) {
        lis_sbuf_printf(b, "<tr>");
        for (int c = 0; c < t->cols; c++) {
            lis_sbuf_printf(b, r ? "<td>" : "<th>");
            html_escape(b, t->cell[r * t->cols + c]);
            lis_sbuf_printf(b, r ? "</td>" : "</th>");
        }
        lis_sbuf_printf(b, "</tr>\n");
    }
    lis_sbuf_printf(b, "</table>\n");
}

static int col_of(const csv_t *t, const char *name) {
    for (int c = 0; c < t->cols; c++)
        if (!strcmp(t->cell[c], name)) return c;
    return -1;
}

/* Bar chart of values (e.g. a histogram) as inline SVG. */
static void svg_bars(lis_sbuf *b, const double *v, int n, const char *xlabel, const char *ylabel, double x0, double x1) {
    double mx = 0;
    for (int i = 0; i < n; i++) mx = v[i] > mx ? v[i] : mx;
    int W = 640, H = 220, L = 50, B = 40;
    lis_sbuf_printf(b, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">\n", W, H);
    lis_sbuf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", L, H - B, W - 10, H - B);
    lis_sbuf_printf(b, "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", L, L, H - B);
    double bw = (double)(W - 10 - L) / (n ? n : 1);
    for (int i = 0; i < n; i++) {
        double h = mx > 0 ? v[i] / mx * (H - B - 20) : 0;
        lis_sbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4a7ab5\"/>\n", L + i * bw,
                        H - B - h, bw > 1.5 ? bw - 1 : bw, h);
    }
    lis_sbuf_printf(b, "<text x=\"%d\" y=\"%d\">%.3g</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text>\n", L,
                    H - B + 14, x0, W - 10, H - B + 14, x1);
    lis_sbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", (W + L) / 2, H - 8, xlabel);
    lis_sbuf_printf(b, "<text x=\"12\" y=\"%d\" transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">%s (max %.3g)</text>\n",
                    (H - B) / 2, (H - B) / 2, ylabel, mx);
    lis_sbuf_printf(b, "</svg>\n");
}

/* Activation ranges: min..max of each unit as vertical segments, units sorted by max. */
static void svg_ranges(lis_sbuf *b, const float *rg, int F) {
    int *idx = malloc(sizeof(int) * (size_t)F);
    if (!idx) return;
    for (int i = 0; i < F; i++) idx[i] = i;
    for (int i = 1; i < F; i++) { /* insertion sort by max, descending */
        int k = idx[i], j = i - 1;
        while (j >= 0 && rg[2 * idx[j] + 1] < rg[2 * k + 1]) { idx[j + 1] = idx[j]; j--; }
        idx[j + 1] = k;
    }
    double mx = F ? rg[2 * idx[0] + 1] : 1;
    if (mx <= 0) mx = 1;
    int W = 640, H = 220, L = 50, B = 30;
    lis_sbuf_printf(b, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">\n", W, H);
    lis_sbuf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", L, H - B, W - 10, H - B);
    double dx = (double)(W - 10 - L) / (F ? F : 1);
    for (int i = 0; i < F; i++) {
        double lo = rg[2 * idx[i]], hi = rg[2 * idx[i] + 1];
        lis_sbuf_printf(b, "<line x1=\"%.2f\" x2=\"%.2f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#b5534a\" stroke-width=\"%.2f\"/>\n",
                        L + i * dx, L + i * dx, H - B - lo / mx * (H - B - 20), H - B - hi / mx * (H - B - 20), dx > 1 ? dx : 1.0);
    }
    lis_sbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">units, sorted by their largest activation</text>\n", (W + L) / 2, H - 8);
    lis_sbuf_printf(b, "<text x=\"4\" y=\"16\">%.3g</text><text x=\"30\" y=\"%d\">0</text>\n", mx, H - B);
    lis_sbuf_printf(b, "</svg>\n");
    free(idx);
}

lis_status lis_stage_report(lis_pipe *p) {
    lis_pipe_cfg *c = &p->c;
    LIS_TRY(lis_pipe_mkdir(p, "report"));
    lis_sbuf b = {0};
    time_t now = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    lis_sbuf_printf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lis run: ");
    html_escape(&b, p->cfg_path);
    lis_sbuf_printf(&b, "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
                        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
                        "img.strip{image-rendering:pixelated;height:96px;margin:2px;border:1px solid #ddd}"
                        ".unit{margin:1em 0;padding:.5em;border-top:1px solid #ddd}pre{background:#f6f6f6;padding:1em;font-size:12px}"
                        "</style></head><body>\n");
    lis_sbuf_printf(&b, "<h1>Linking in Style — run report</h1>\n<p>Config <code>");
    html_escape(&b, p->cfg_path);
    lis_sbuf_printf(&b, "</code>, generated %s by lis. Generator <code>", date);
    html_escape(&b, c->generator);
    lis_sbuf_printf(&b, "</code>, classifier <code>");
    html_escape(&b, c->classifier);
    lis_sbuf_printf(&b, "</code>.</p>\n");

    csv_t t;
    lis_sbuf_printf(&b, "<h2>Paired data</h2>\n<p>Samples per class drawn and kept (keep = %s%s).</p>\n",
                    c->keep_all ? "all" : "correct", c->faithful ? ", faithful re-draws" : "");
    LIS_TRY(csv_read(p, "pairs/acceptance.csv", &t));
    csv_table(&b, &t);
    csv_free(&t);

    lis_sbuf_printf(&b, "<h2>Linking network</h2>\n");
    LIS_TRY(csv_read(p, "link/link_report.csv", &t));
    csv_table(&b, &t);
    csv_free(&t);
    lis_sbuf_printf(&b, "<p>Cycle check on held-out pairs: top row G(w), bottom row G(link(classifier(G(w))))."
                        "</p><img src=\"../link/cycle_examples.png\" style=\"image-rendering:pixelated;max-width:100%%\">\n");

    lis_sbuf_printf(&b, "<h2>Unit tuning</h2>\n");
    lis_tensor rg = {0};
    if (lis_pipe_load(p, "tune/ranges.npy", &rg) == LIS_OK && rg.ndim == 2) {
        lis_sbuf_printf(&b, "<h3>Activation ranges over the reference samples</h3>\n");
        svg_ranges(&b, rg.data, (int)rg.shape[0]);
    }
    lis_tensor_free(&rg);
    LIS_TRY(csv_read(p, "tune/units.csv", &t));
    int cu = col_of(&t, "unit"), cm = col_of(&t, "mean_pixel_change"), cf = col_of(&t, "class_flip_frac");
    int cmin = col_of(&t, "min"), cmax = col_of(&t, "max");
    int nu = t.rows > 0 ? t.rows - 1 : 0;
    if (nu > 0 && cu >= 0 && cm >= 0) {
        double *chg = malloc(sizeof(double) * (size_t)nu), lo = 1e300, hi = -1e300;
        int *order = malloc(sizeof(int) * (size_t)nu);
        for (int i = 0; i < nu; i++) {
            chg[i] = atof(t.cell[(i + 1) * t.cols + cm]);
            order[i] = i;
            lo = chg[i] < lo ? chg[i] : lo;
            hi = chg[i] > hi ? chg[i] : hi;
        }
        double hist[40] = {0};
        for (int i = 0; i < nu; i++) hist[hi > lo ? (int)fmin(39, (chg[i] - lo) / (hi - lo) * 40) : 0]++;
        lis_sbuf_printf(&b, "<h3>How much each unit changes the image</h3>\n<p>Mean absolute difference (0–255) between the "
                            "first and last step of a unit's sweep, averaged over the reference samples; %d units.</p>\n", nu);
        svg_bars(&b, hist, 40, "mean pixel change", "units", lo, hi);
        for (int i = 1; i < nu; i++) { /* sort by change, descending */
            int k = order[i], j = i - 1;
            while (j >= 0 && chg[order[j]] < chg[k]) { order[j + 1] = order[j]; j--; }
            order[j + 1] = k;
        }
        int shown = c->report_units < nu ? c->report_units : nu;
        lis_sbuf_printf(&b, "<h3>The %d units that change the image most</h3>\n<p>Each strip: one reference sample, the unit "
                            "set to %d values from its minimum to its maximum activation (left to right), everything else "
                            "unchanged, mapped through the linking network and the generator.</p>\n", shown, c->n_steps);
        for (int i = 0; i < shown; i++) {
            const char *const *row = (const char *const *)&t.cell[(order[i] + 1) * t.cols];
            int u = atoi(row[cu]);
            lis_sbuf_printf(&b, "<div class=\"unit\" id=\"u%d\"><b>unit %d</b>: range [%s, %s], mean pixel change %s", u, u,
                            cmin >= 0 ? row[cmin] : "?", cmax >= 0 ? row[cmax] : "?", row[cm]);
            if (cf >= 0) lis_sbuf_printf(&b, ", class flips in %s of the sweeps", row[cf]);
            lis_sbuf_printf(&b, "<br>\n");
            for (int k = 0; k < c->n_classes; k++)
                for (int j = 0; j < c->tune_spc; j++)
                    lis_sbuf_printf(&b, "<img class=\"strip\" src=\"../tune/strips/unit_%05d/class_%ld_sample_%d.png\" "
                                        "title=\"class %ld sample %d\">", u, c->classes[k], j, c->classes[k], j);
            lis_sbuf_printf(&b, "</div>\n");
        }
        lis_sbuf_printf(&b, "<h3>All units</h3>\n<p>From <code>tune/units.csv</code>, sorted by mean pixel change; "
                            "strips of every unit are in <code>tune/strips/unit_NNNNN/</code>.</p>\n<table>\n<tr>");
        for (int cc = 0; cc < t.cols; cc++) lis_sbuf_printf(&b, "<th>%s</th>", t.cell[cc]);
        lis_sbuf_printf(&b, "</tr>\n");
        for (int i = 0; i < nu; i++) {
            lis_sbuf_printf(&b, "<tr>");
            for (int cc = 0; cc < t.cols; cc++) {
                const char *v = t.cell[(order[i] + 1) * t.cols + cc];
                if (cc == cu && i < shown) lis_sbuf_printf(&b, "<td><a href=\"#u%s\">%s</a></td>", v, v);
                else lis_sbuf_printf(&b, "<td>%s</td>", v);
            }
            lis_sbuf_printf(&b, "</tr>\n");
        }
        lis_sbuf_printf(&b, "</table>\n");
        free(chg);
        free(order);
    } else lis_sbuf_printf(&b, "<p>(tuning results not available)</p>\n");
    csv_free(&t);

    /* sections of the optional stages that ran */
    for (int st = 0; st < ST_COUNT; st++) {
        if (!lis_pipe_stages[st].report || !p->stage_on[st]) continue;
        lis_status e;
        if (!lis_pipe_stage_done(p, st, &e)) continue;
        lis_status rs = lis_pipe_stages[st].report(p, &b);
        if (rs != LIS_OK) { lis_sbuf_free(&b); return rs; }
    }
    lis_sbuf_printf(&b, "<h2>Configuration</h2>\n<pre>");
    lis_sbuf cb = {0};
    lis_cfg_write(p->cfg, &cb);
    if (cb.s) html_escape(&b, cb.s);
    lis_sbuf_free(&cb);
    lis_sbuf_printf(&b, "</pre>\n</body></html>\n");
    lis_status s = b.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "report/index.html", b.s, b.len);
    lis_sbuf_free(&b);
    if (s == LIS_OK) lis_pipe_log(p, "report: %s/report/index.html", p->dir);
    return s;
}
