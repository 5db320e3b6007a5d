/* toyworld.c — the toy world's renderer (see toyworld.h and ../shared/demo/world.md).
 *
 * Everything is float64, in the order the original numpy renderer evaluates it, so the
 * uint8 images and the label maps come out identical to the bundled ground truth.
 */
#include "nets/toyworld.h"

#include <math.h>
#include <stddef.h>

const char *const lis_toy_class_names[LIS_TOY_N_CLASSES] = {"disk", "square", "triangle", "star", "ring", "cross"};
const char *const lis_toy_param_names[LIS_TOY_N_PARAMS] = {"hue", "value", "size", "aspect", "x",
                                                           "y", "rotation", "bg_value", "bg_hue"};
const char *const lis_toy_label_names[LIS_TOY_N_LABELS] = {"background", "object", "outline"};

#define LN15 0.40546510810816438198 /* ln 1.5: aspect ratios 2/3 .. 3/2 */
#define PI4 0.78539816339744830962
const double lis_toy_param_lo[LIS_TOY_N_PARAMS] = {0, 0.5, 0.33, -LN15, -0.35, -0.35, -PI4, 0.08, 0};
const double lis_toy_param_hi[LIS_TOY_N_PARAMS] = {1, 1, 0.62, LN15, 0.35, 0.35, PI4, 0.92, 1};

void lis_toy_params_from_z(const double *z, int z_dim, double *params) {
    double ms = 0;
    for (int i = 0; i < z_dim; i++) ms += z[i] * z[i];
    double r = 1.0 / sqrt(ms / z_dim + 1e-8);
    for (int k = 0; k < LIS_TOY_N_PARAMS; k++) {
        double u = 0.5 * erfc(-(z[k] * r) / sqrt(2.0)); /* Phi; erfc keeps the lower tail accurate */
        params[k] = lis_toy_param_lo[k] + (lis_toy_param_hi[k] - lis_toy_param_lo[k]) * u;
    }
}

/* ---- unit shapes ---- */

static double seg_dist(double px, double py, double ax, double ay, double bx, double by) {
    double dx = bx - ax, dy = by - ay;
    double t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy);
    t = t < 0 ? 0 : (t > 1 ? 1 : t);
    return hypot(px - ax - t * dx, py - ay - t * dy);
}

/* Exact distance to a closed polygon, negative inside (even-odd rule). */
static double poly_sdf(double px, double py, const double (*v)[2], int n) {
    double d = 1e300;
    int inside = 0;
    for (int i = 0; i < n; i++) {
        double ax = v[i][0], ay = v[i][1], bx = v[(i + 1) % n][0], by = v[(i + 1) % n][1];
        double e = seg_dist(px, py, ax, ay, bx, by);
        d = e < d ? e : d;
        if ((ay > py) != (by > py) && px < (bx - ax) * (py - ay) / (by - ay) + ax) inside ^= 1;
    }
    return inside ? -d : d;
}

double lis_toy_sdf(int cls, double px, double py) {
    switch (cls) {
    case LIS_TOY_DISK: return hypot(px, py) - 1.0;
    case LIS_TOY_SQUARE: {
        double qx = fabs(px) - 0.82, qy = fabs(py) - 0.82;
        double mx = qx > qy ? qx : qy;
        return hypot(qx > 0 ? qx : 0, qy > 0 ? qy : 0) + (mx < 0 ? mx : 0);
    }
    case LIS_TOY_TRIANGLE: { /* apex up on screen (y down), circumcentre shifted down 0.15 */
        double v[3][2];
        for (int k = 0; k < 3; k++) {
            double a = -M_PI / 2 + k * (2 * M_PI / 3);
            v[k][0] = 1.2 * cos(a);
            v[k][1] = 1.2 * sin(a) + 0.15;
        }
        return poly_sdf(px, py, (const double (*)[2])v, 3);
    }
    case LIS_TOY_STAR: { /* first point up, radii alternating 1.2 / 0.5 */
        double v[10][2];
        for (int k = 0; k < 10; k++) {
            double a = -M_PI / 2 + k * (M_PI / 5), r = k % 2 ? 0.5 : 1.2;
            v[k][0] = r * cos(a);
            v[k][1] = r * sin(a);
        }
        return poly_sdf(px, py, (const double (*)[2])v, 10);
    }
    case LIS_TOY_RING: return fabs(hypot(px, py) - 0.8) - 0.25; /* annulus 0.55 .. 1.05 */
    default: {                                                  /* cross: arms 1 long, 0.32 half-wide */
        static const double v[12][2] = {{0.32, 0.32},  {1, 0.32},     {1, -0.32},   {0.32, -0.32},
                                        {0.32, -1},    {-0.32, -1},   {-0.32, -0.32}, {-1, -0.32},
                                        {-1, 0.32},    {-0.32, 0.32}, {-0.32, 1},   {0.32, 1}};
        return poly_sdf(px, py, v, 12);
    }
    }
}

double lis_toy_distance(const double *p, int cls, double x, double y) {
    double dx = x - p[LIS_TOY_X], dy = y - p[LIS_TOY_Y];
    double c = cos(p[LIS_TOY_ROTATION]), s = sin(p[LIS_TOY_ROTATION]);
    /* p = R(-rotation) (xy - centre): clockwise on screen because y points down */
    double lx = c * dx + s * dy, ly = -s * dx + c * dy;
    double ea = exp(p[LIS_TOY_ASPECT] / 2), eb = exp(-p[LIS_TOY_ASPECT] / 2);
    double size = p[LIS_TOY_SIZE];
    return lis_toy_sdf(cls, lx / (size * ea), ly / (size * eb)) * size * (ea < eb ? ea : eb);
}

void lis_toy_hsv_to_rgb(double h, double s, double v, double *rgb) {
    h = fmod(h, 1.0);
    if (h < 0) h += 1.0;
    if (s == 0.0) { rgb[0] = rgb[1] = rgb[2] = v; return; }
    int i = (int)(h * 6.0);
    double f = h * 6.0 - i, pp = v * (1.0 - s), q = v * (1.0 - s * f), t = v * (1.0 - s * (1.0 - f));
    switch (i % 6) {
    case 0: rgb[0] = v; rgb[1] = t; rgb[2] = pp; break;
    case 1: rgb[0] = q; rgb[1] = v; rgb[2] = pp; break;
    case 2: rgb[0] = pp; rgb[1] = v; rgb[2] = t; break;
    case 3: rgb[0] = pp; rgb[1] = q; rgb[2] = v; break;
    case 4: rgb[0] = t; rgb[1] = pp; rgb[2] = v; break;
    default: rgb[0] = v; rgb[1] = pp; rgb[2] = q; break;
    }
}

static double clip01(double v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

void lis_toy_render(const double *p, int cls, int N, uint8_t *rgb, uint8_t *labels, float *dist) {
    double fill[3], out[3], bg[3], px = 2.0 / N;
    lis_toy_hsv_to_rgb(p[LIS_TOY_HUE], 0.8, p[LIS_TOY_VALUE], fill);
    lis_toy_hsv_to_rgb(p[LIS_TOY_BG_HUE], 0.25, p[LIS_TOY_BG_VALUE], bg);
    for (int c = 0; c < 3; c++) out[c] = 0.3 * fill[c];
    for (int i = 0; i < N; i++) {
        double y = (i + 0.5) * 2.0 / N - 1.0;
        for (int j = 0; j < N; j++) {
            double x = (j + 0.5) * 2.0 / N - 1.0;
            double d = lis_toy_distance(p, cls, x, y);
            size_t o = (size_t)i * N + j;
            if (dist) dist[o] = (float)d;
            if (labels) labels[o] = d >= 0 ? LIS_TOY_LABEL_BACKGROUND : (d >= -0.06 ? LIS_TOY_LABEL_OUTLINE : LIS_TOY_LABEL_OBJECT);
            if (!rgb) continue;
            double cov = clip01(0.5 - d / px), covf = clip01(0.5 - (d + 0.06) / px);
            for (int c = 0; c < 3; c++) {
                double col = out[c] * (1 - covf) + fill[c] * covf;
                double v = (bg[c] * (1 - cov) + col * cov) * 255.0;
                v = nearbyint(v); /* numpy round: half to even */
                rgb[o * 3 + c] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
            }
        }
    }
}
