/* flow_plot.c — arrow selection and rendering of a dense field (see flow_plot.h). */
#include "kernels/flow_plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void lis_flow_plot_params_default(lis_flow_plot_params *p) {
    p->neigh = 3;
    p->step = 5;
    p->percentile = 90.0;
    p->scale = 0;
}

void lis_flow_arrows_free(lis_flow_arrows *a) {
    free(a->a);
    a->a = NULL;
    a->n = 0;
}

static int cmp_d(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : (x > y ? 1 : 0);
}

/* numpy.percentile(v, q), method 'linear' (numpy >= 1.22 _lerp) */
static double percentile(double *v, int n, double q) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    const double pos = q / 100.0 * (n - 1);
    int lo = (int)floor(pos);
    if (lo >= n - 1) return v[n - 1];
    if (lo < 0) lo = 0;
    const double t = pos - lo, a = v[lo], b = v[lo + 1], d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

/* matplotlib.colors.hsv_to_rgb for one colour */
static void hsv_rgb(double h, double s, double v, float *rgb) {
    const int i = (int)(h * 6.0);
    const double f = h * 6.0 - i, p = v * (1.0 - s), q = v * (1.0 - s * f), t = v * (1.0 - s * (1.0 - f));
    double r, g, b;
    switch (i % 6) {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
    }
    if (s == 0.0) r = g = b = v;
    rgb[0] = (float)r;
    rgb[1] = (float)g;
    rgb[2] = (float)b;
}

lis_status lis_flow_arrows_select(const lis_flow_plot_params *p, const double *dense, int H, int W,
                                  lis_flow_arrows *out) {
    lis_flow_arrows_free(out);
    const double lo = p->neigh, hix = W - 1 - p->neigh, hiy = H - 1 - p->neigh;
    const int step = p->step > 0 ? p->step : 1;
    int kept = 0, n = 0;
    /* steps 1-2: the kept rows */
    int *rows = malloc(sizeof(int) * ((size_t)H * W / step + 1));
    double *r = malloc(sizeof(double) * ((size_t)H * W / step + 1));
    double *tmp = malloc(sizeof(double) * ((size_t)H * W / step + 1));
    if (!rows || !r || !tmp) {
        free(rows); free(r); free(tmp);
        return lis_err_set("flow plot: out of memory");
    }
    for (int i = 0; i < H * W; i++) {
        const double x = i % W, y = i / W, x2 = dense[2 * i], y2 = dense[2 * i + 1];
        if (!(x >= lo && x <= hix && y >= lo && y <= hiy && x2 >= lo && x2 <= hix && y2 >= lo && y2 <= hiy)) continue;
        if (kept++ % step) continue;
        rows[n] = i;
        const double dx = x2 - x, dy = y2 - y;
        r[n] = sqrt(dx * dx + dy * dy);
        n++;
    }
    if (n == 0) {
        free(rows); free(r); free(tmp);
        return LIS_OK;
    }
    double rmax = 0;
    for (int k = 0; k < n; k++) rmax = r[k] > rmax ? r[k] : rmax;
    memcpy(tmp, r, sizeof(double) * (size_t)n);
    const double thr = p->percentile >= 0 ? percentile(tmp, n, p->percentile) : -1.0;
    out->a = malloc(sizeof(float) * 7 * (size_t)n);
    if (!out->a) {
        free(rows); free(r); free(tmp);
        return lis_err_set("flow plot: out of memory");
    }
    for (int k = 0; k < n; k++) {
        if (!(r[k] > thr)) continue;
        const int i = rows[k];
        const double x = i % W, y = i / W, dx = dense[2 * i] - x, dy = dense[2 * i + 1] - y;
        double h = fmod(atan2(dy, dx) + M_PI, 2 * M_PI);
        if (h < 0) h += 2 * M_PI;
        h /= 2 * M_PI;
        double s = rmax > 0 ? r[k] / rmax : 0.0;
        if (!(s > 0.5)) s = 0.5;
        float *a = out->a + 7 * (size_t)out->n++;
        a[0] = (float)x;
        a[1] = (float)y;
        a[2] = (float)dx;
        a[3] = (float)dy;
        hsv_rgb(h, s, 1.0, a + 4);
    }
    free(rows); free(r); free(tmp);
    return LIS_OK;
}

/* even-odd point-in-polygon */
static int inside(const double *px, const double *py, int n, double x, double y) {
    int c = 0;
    for (int i = 0, j = n - 1; i < n; j = i++)
        if (((py[i] > y) != (py[j] > y)) && (x < (px[j] - px[i]) * (y - py[i]) / (py[j] - py[i]) + px[i])) c = !c;
    return c;
}

lis_status lis_flow_render(const lis_flow_plot_params *p, const lis_flow_arrows *a, const uint8_t *img, int H, int W,
                           uint8_t **out, int *oh, int *ow) {
    int s = p->scale;
    if (s <= 0) {
        const int m = H > W ? H : W;
        s = (770 + m / 2) / (m > 0 ? m : 1);
        if (s < 1) s = 1;
    }
    const int OH = H * s, OW = W * s;
    float *acc = malloc(sizeof(float) * 3 * (size_t)OH * OW);
    uint8_t *o = malloc((size_t)OH * OW * 3);
    if (!acc || !o) {
        free(acc); free(o);
        return lis_err_set("flow plot: out of memory (%dx%d)", OW, OH);
    }
    for (int y = 0; y < OH; y++)
        for (int x = 0; x < OW; x++)
            for (int c = 0; c < 3; c++) {
                const int v = img[((size_t)(y / s) * W + x / s) * 3 + c];
                const float dark = (float)(int)(v + 0.75f * (0 - v)); /* PIL blend, truncated */
                acc[((size_t)y * OW + x) * 3 + c] = 0.7f * dark + 0.3f * 255.0f;
            }
    const double width = 1.0, head_w = 1.7, head_l = 1.5 * 1.7;
    for (int k = 0; k < a->n; k++) {
        const float *ar = a->a + 7 * (size_t)k;
        const double dx = ar[2], dy = ar[3], dist = hypot(dx, dy);
        if (dist == 0.0) continue;
        const double len = dist + head_l, ux = dx / dist, uy = dy / dist;
        /* FancyArrow 'full': tip at the origin, pointing +x, mirrored halves */
        const double cx[7] = {0, -head_l, -head_l, -len, -len, -head_l, -head_l};
        const double cy[7] = {0, -head_w / 2, -width / 2, -width / 2, width / 2, width / 2, head_w / 2};
        double px[7], py[7], x0 = 1e30, x1 = -1e30, y0 = 1e30, y1 = -1e30;
        for (int v = 0; v < 7; v++) {
            const double X = ar[0] + dx + cx[v] * ux - cy[v] * uy, Y = ar[1] + dy + cx[v] * uy + cy[v] * ux;
            px[v] = (X + 0.5) * s; /* image pixel x is centred at data x (imshow extent) */
            py[v] = (Y + 0.5) * s;
            x0 = px[v] < x0 ? px[v] : x0; x1 = px[v] > x1 ? px[v] : x1;
            y0 = py[v] < y0 ? py[v] : y0; y1 = py[v] > y1 ? py[v] : y1;
        }
        const int bx0 = (int)floor(x0) < 0 ? 0 : (int)floor(x0), by0 = (int)floor(y0) < 0 ? 0 : (int)floor(y0);
        const int bx1 = (int)ceil(x1) > OW ? OW : (int)ceil(x1), by1 = (int)ceil(y1) > OH ? OH : (int)ceil(y1);
        for (int y = by0; y < by1; y++)
            for (int x = bx0; x < bx1; x++) {
                int cov = 0;
                for (int sy = 0; sy < 4; sy++)
                    for (int sx = 0; sx < 4; sx++) cov += inside(px, py, 7, x + (sx + 0.5) / 4, y + (sy + 0.5) / 4);
                if (!cov) continue;
                const float al = 0.95f * (float)cov / 16.0f;
                float *d = acc + ((size_t)y * OW + x) * 3;
                for (int c = 0; c < 3; c++) d[c] = d[c] * (1.0f - al) + 255.0f * ar[4 + c] * al;
            }
    }
    for (size_t i = 0; i < (size_t)OH * OW * 3; i++) {
        const float v = acc[i] + 0.5f;
        o[i] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
    free(acc);
    *out = o;
    *oh = OH;
    *ow = OW;
    return LIS_OK;
}
