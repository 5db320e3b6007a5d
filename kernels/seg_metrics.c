/* seg_metrics.c — per-label metrics and change vectors (see seg_metrics.h). */
#include "kernels/seg_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/entropy.h"

const char *const lis_seg_feat_names[LIS_SEG_N_FEAT] = {"area", "luminance", "entropy", "eccentricity", "angle"};
const double lis_seg_feat_range[LIS_SEG_N_FEAT] = {1.0, 0.5, 0.5, 0.5, 180.0};

/* matplotlib Set3 * 255, truncated to uint8 (spec/pipeline.md 6.6) */
static const uint8_t set3[12][3] = {{141, 211, 199}, {255, 255, 179}, {190, 186, 218}, {251, 128, 114},
                                    {128, 177, 211}, {253, 180, 98},  {179, 222, 105}, {252, 205, 229},
                                    {217, 217, 217}, {188, 128, 189}, {204, 235, 197}, {255, 237, 111}};

void lis_seg_label_color(int l, uint8_t *rgb) {
    if (l <= 0) { rgb[0] = rgb[1] = rgb[2] = 0; return; }
    memcpy(rgb, set3[(l - 1) % 12], 3);
}

static lis_status reserve(lis_seg_metrics *m, int H, int W, int n_labels) {
    int64_t px = (int64_t)H * W;
    if (px > m->cap_px) {
        free(m->grey); free(m->mask); free(m->entropy);
        m->grey = malloc((size_t)px);
        m->mask = malloc((size_t)px);
        m->entropy = malloc(sizeof(double) * (size_t)px);
        if (!m->grey || !m->mask || !m->entropy) { m->cap_px = 0; return lis_err_set("seg_metrics: out of memory"); }
        m->cap_px = px;
    }
    if (n_labels > m->cap_labels) {
        free(m->stats);
        m->stats = calloc((size_t)n_labels, sizeof *m->stats);
        if (!m->stats) { m->cap_labels = 0; return lis_err_set("seg_metrics: out of memory"); }
        m->cap_labels = n_labels;
    }
    return LIS_OK;
}

static lis_status push_ell(lis_seg_metrics *m, const lis_seg_ellipse *e) {
    if (m->n_ell == m->cap_ell) {
        int cap = m->cap_ell ? 2 * m->cap_ell : 32;
        lis_seg_ellipse *n = realloc(m->ell, sizeof *n * (size_t)cap);
        if (!n) return lis_err_set("seg_metrics: out of memory");
        m->ell = n;
        m->cap_ell = cap;
    }
    m->ell[m->n_ell++] = *e;
    return LIS_OK;
}

lis_status lis_seg_metrics_image(lis_seg_metrics *m, const uint8_t *rgb, const uint8_t *labels, int H, int W,
                                 int n_labels) {
    if (H < 1 || W < 1 || n_labels < 1 || n_labels > 256)
        return lis_err_set("seg_metrics: bad size %dx%d or label count %d", H, W, n_labels);
    LIS_TRY(reserve(m, H, W, n_labels));
    m->H = H; m->W = W; m->n_labels = n_labels; m->n_ell = 0;
    memset(m->stats, 0, sizeof *m->stats * (size_t)n_labels);
    int64_t px = (int64_t)H * W;
    lis_rgb_to_grey_u8(rgb, px, m->grey);
    LIS_TRY(lis_entropy_disk_cpu(m->grey, H, W, 5, m->entropy));
    /* one pass for counts, sums and extremes; a second for the standard deviation */
    double lum[256] = {0}, es[256] = {0};
    for (int l = 1; l < n_labels; l++) { m->stats[l].min_entropy = HUGE_VAL; m->stats[l].max_entropy = -HUGE_VAL; }
    for (int64_t i = 0; i < px; i++) {
        int l = labels[i];
        if (l < 1 || l >= n_labels) continue;
        lis_seg_stats *s = &m->stats[l];
        s->area += 1;
        lum[l] += (0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]) / 3;
        double e = m->entropy[i];
        es[l] += e;
        s->min_entropy = e < s->min_entropy ? e : s->min_entropy;
        s->max_entropy = e > s->max_entropy ? e : s->max_entropy;
    }
    double var[256] = {0};
    for (int l = 1; l < n_labels; l++) {
        lis_seg_stats *s = &m->stats[l];
        if (s->area == 0) { memset(s, 0, sizeof *s); continue; }
        s->luminance = lum[l] / s->area;
        s->mean_entropy = es[l] / s->area;
    }
    for (int64_t i = 0; i < px; i++) {
        int l = labels[i];
        if (l < 1 || l >= n_labels) continue;
        double d = m->entropy[i] - m->stats[l].mean_entropy;
        var[l] += d * d;
    }
    for (int l = 1; l < n_labels; l++)
        if (m->stats[l].area > 0) m->stats[l].std_entropy = sqrt(var[l] / m->stats[l].area);
    /* ellipses of each label's external contours */
    for (int l = 1; l < n_labels; l++) {
        if (m->stats[l].area == 0) continue;
        for (int64_t i = 0; i < px; i++) m->mask[i] = labels[i] == l;
        LIS_TRY(lis_contours_external(&m->cont, m->mask, H, W));
        for (int c = 0; c < m->cont.count; c++) {
            int n = m->cont.start[c + 1] - m->cont.start[c];
            if (n < 5) continue;
            lis_seg_ellipse e = {.label = l, .contour_i = c};
            if (lis_fit_ellipse(m->cont.pts + 2 * m->cont.start[c], n, &e.e) != LIS_OK) continue; /* skipped, as a failed fit */
            e.eccentricity = lis_ellipse_eccentricity(&e.e);
            LIS_TRY(push_ell(m, &e));
        }
    }
    return LIS_OK;
}

void lis_seg_metrics_free(lis_seg_metrics *m) {
    if (!m) return;
    free(m->stats); free(m->ell); free(m->grey); free(m->mask); free(m->entropy);
    lis_contours_free(&m->cont);
    memset(m, 0, sizeof *m);
}

/* 4-connected components of (a == l AND b == l), numbered 1.. in raster order of their
 * first pixel; bbox [4*k] = min x, min y, max x, max y. Returns the count. */
static int components(const uint8_t *a, const uint8_t *b, int l, int H, int W, int *lab, int *stack, int *bbox, int maxc) {
    int64_t px = (int64_t)H * W;
    for (int64_t i = 0; i < px; i++) lab[i] = (a[i] == l && b[i] == l) ? -1 : 0;
    int n = 0;
    for (int64_t i = 0; i < px; i++) {
        if (lab[i] != -1) continue;
        n++;
        int *bb = n <= maxc ? bbox + 4 * (n - 1) : NULL;
        if (bb) { bb[0] = bb[2] = (int)(i % W); bb[1] = bb[3] = (int)(i / W); }
        int sp = 0;
        stack[sp++] = (int)i;
        lab[i] = n;
        while (sp) {
            int q = stack[--sp], x = q % W, y = q / W;
            if (bb) {
                bb[0] = x < bb[0] ? x : bb[0]; bb[1] = y < bb[1] ? y : bb[1];
                bb[2] = x > bb[2] ? x : bb[2]; bb[3] = y > bb[3] ? y : bb[3];
            }
            int nb[4] = {x > 0 ? q - 1 : -1, x < W - 1 ? q + 1 : -1, y > 0 ? q - W : -1, y < H - 1 ? q + W : -1};
            for (int k = 0; k < 4; k++)
                if (nb[k] >= 0 && lab[nb[k]] == -1) { lab[nb[k]] = n; stack[sp++] = nb[k]; }
        }
    }
    return n;
}

#define MAX_BLOBS 1024

lis_status lis_seg_change(const lis_seg_metrics *steps, int T, const uint8_t *labels0, const uint8_t *labels_last,
                          const lis_seg_change_params *p, int *work, double *change, int *ellips_i) {
    if (T < 2) return lis_err_set("seg_change: a sweep needs at least 2 steps (got %d)", T);
    int L = steps[0].n_labels, H = steps[0].H, W = steps[0].W;
    for (int t = 1; t < T; t++)
        if (steps[t].n_labels != L || steps[t].H != H || steps[t].W != W)
            return lis_err_set("seg_change: the steps of a sweep differ in size or label count");
    int64_t px = (int64_t)H * W;
    int *lab = work, *stack = NULL;
    int *bbox = malloc(sizeof(int) * 4 * MAX_BLOBS);
    stack = malloc(sizeof(int) * (size_t)px);
    int total = 0;
    for (int t = 0; t < T; t++) total += steps[t].n_ell;
    int *blob = malloc(sizeof(int) * (size_t)(total ? total : 1));
    if (!bbox || !stack || !blob) { free(bbox); free(stack); free(blob); return lis_err_set("seg_change: out of memory"); }
    const lis_seg_metrics *s0 = &steps[0], *sl = &steps[T - 1];
    for (int l = 1; l < L; l++) {
        double *ch = change + (size_t)(l - 1) * LIS_SEG_N_FEAT;
        double a0 = s0->stats[l].area, al = sl->stats[l].area;
        ch[LIS_SEG_AREA] = (al - a0) / (a0 == 0 ? 1 : a0);
        ch[LIS_SEG_LUMINANCE] = (sl->stats[l].luminance - s0->stats[l].luminance) / 85;
        ch[LIS_SEG_ENTROPY] = sl->stats[l].mean_entropy - s0->stats[l].mean_entropy;
        /* blob linking: components of the label present at both ends of the sweep */
        int nc = components(labels0, labels_last, l, H, W, lab, stack, bbox, MAX_BLOBS);
        if (nc > MAX_BLOBS) nc = MAX_BLOBS;
        int rows = 0, n_first = 0, n_last = 0, k = 0;
        for (int t = 0; t < T; t++)
            for (int e = 0; e < steps[t].n_ell; e++, k++) {
                const lis_seg_ellipse *el = &steps[t].ell[e];
                if (el->label != l) continue;
                rows++;
                n_first += t == 0;
                n_last += t == T - 1;
                int b = 0;
                for (int c = 0; c < nc && !b; c++) {
                    const int *bb = bbox + 4 * c;
                    if (el->e.cx >= bb[0] - 0.5 && el->e.cx <= bb[2] + 0.5 && el->e.cy >= bb[1] - 0.5 && el->e.cy <= bb[3] + 0.5)
                        b = c + 1;
                }
                blob[k] = b;
            }
        int single = p && p->single_blob && p->single_blob[l];
        for (int f = LIS_SEG_ECCENTRICITY; f <= LIS_SEG_ANGLE; f++) {
            double v = NAN;
            if ((rows == T || single) && n_first == 1 && n_last == 1) {
                double v0 = 0, v1 = 0;
                for (int e = 0; e < s0->n_ell; e++)
                    if (s0->ell[e].label == l) v0 = f == LIS_SEG_ANGLE ? s0->ell[e].e.angle : s0->ell[e].eccentricity;
                for (int e = 0; e < sl->n_ell; e++)
                    if (sl->ell[e].label == l) v1 = f == LIS_SEG_ANGLE ? sl->ell[e].e.angle : sl->ell[e].eccentricity;
                v = v1 - v0;
            } else {
                /* mean over the blobs seen in exactly T rows */
                double sum = 0;
                int used = 0;
                for (int b = 1; b <= nc; b++) {
                    int cnt = 0;
                    double v0 = NAN, v1 = NAN;
                    k = 0;
                    for (int t = 0; t < T; t++)
                        for (int e = 0; e < steps[t].n_ell; e++, k++) {
                            const lis_seg_ellipse *el = &steps[t].ell[e];
                            if (el->label != l || blob[k] != b) continue;
                            cnt++;
                            double val = f == LIS_SEG_ANGLE ? el->e.angle : el->eccentricity;
                            if (t == 0) v0 = val;
                            if (t == T - 1) v1 = val;
                        }
                    if (cnt != T) continue;
                    used++;
                    if (!isnan(v0) && !isnan(v1)) sum += v1 - v0; /* unreadable ends contribute 0 */
                }
                if (used) v = sum / used;
            }
            ch[f] = v;
        }
        if (ellips_i) {
            k = 0;
            for (int t = 0; t < T; t++)
                for (int e = 0; e < steps[t].n_ell; e++, k++)
                    if (steps[t].ell[e].label == l) ellips_i[k] = blob[k];
        }
        double mean_area = 0;
        for (int t = 0; t < T; t++) mean_area += steps[t].stats[l].area;
        mean_area /= T;
        if (mean_area < (p ? p->min_area : 20))
            for (int f = 0; f < LIS_SEG_N_FEAT; f++) ch[f] = 0;
    }
    free(bbox); free(stack); free(blob);
    (void)px;
    return LIS_OK;
}
