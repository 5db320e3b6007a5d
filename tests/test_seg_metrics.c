/* test_seg_metrics.c — part metrics against the metrics bundle (tests/data/metrics, copied
 * from refs/metrics: scikit-image 0.19.3 + OpenCV 4.6.0 on four 128x128 cases), the fast
 * entropy against its reference on edge shapes, contours on hand-made masks. (The change
 * vector of a sweep on exact toy-world masks is checked in test_toyworld.c.)
 *
 * Tolerances (refs/metrics/README.md): grey exact (integer result of the same float64
 * formula); area exact; luminance and entropy statistics within 1e-9 relative; the entropy
 * map within 1e-9 absolute (the brief's bound; same summation order as skimage); ellipse
 * centre and axes within 1e-3 px, angle within 1e-2 degrees, eccentricity within 1e-4.
 * Contours are matched by label and centre, not by index (the README asks for that), but
 * the index is checked too: we follow OpenCV's order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/contours.h"
#include "kernels/entropy.h"
#include "kernels/fit_ellipse.h"
#include "kernels/seg_metrics.h"
#include "runtime/safetensors.h"
#include "tests/harness.h"

static const void *get(const lis_safetensors *st, const char *name, lis_dtype dt, int64_t numel) {
    const lis_st_entry *e = lis_st_find(st, name);
    if (!e || e->t.dtype != dt || lis_tensor_numel(&e->t) != numel) {
        lis_check(0, "bundle tensor %s missing or of the wrong type/size", name);
        return NULL;
    }
    return e->t.data;
}

static void test_bundle(void) {
    lis_safetensors st;
    if (lis_test_open(&st, "metrics/io.safetensors") != LIS_OK) return;
    lis_seg_metrics m = {0};
    double max_ent = 0, max_row = 0, max_c = 0, max_ax = 0, max_ang = 0, max_ecc = 0;
    int ell_total = 0, idx_same = 0;
    for (int k = 0; k < 4; k++) {
        char name[64];
        const int H = 128, W = 128;
        snprintf(name, sizeof name, "case%d.img", k);
        const uint8_t *img = get(&st, name, LIS_DTYPE_U8, H * W * 3);
        snprintf(name, sizeof name, "case%d.label", k);
        const uint8_t *lab = get(&st, name, LIS_DTYPE_U8, H * W);
        snprintf(name, sizeof name, "case%d.grey", k);
        const uint8_t *grey = get(&st, name, LIS_DTYPE_U8, H * W);
        snprintf(name, sizeof name, "case%d.entropy", k);
        const double *ent = get(&st, name, LIS_DTYPE_F64, H * W);
        snprintf(name, sizeof name, "case%d.rows", k);
        const double *rows = get(&st, name, LIS_DTYPE_F64, 3 * 7);
        snprintf(name, sizeof name, "case%d.ellipses", k);
        const lis_st_entry *ee = lis_st_find(&st, name);
        if (!img || !lab || !grey || !ent || !rows || !ee) break;
        int n_ell = (int)ee->t.shape[0];
        const double *ell = ee->t.data;
        /* grey, exact */
        uint8_t g[128 * 128];
        lis_rgb_to_grey_u8(img, H * W, g);
        snprintf(name, sizeof name, "grey(case%d)", k);
        lis_check_u8(name, g, grey, H * W, 0, 0);
        if (!lis_check_ok(lis_seg_metrics_image(&m, img, lab, H, W, 4), "seg_metrics_image")) break;
        for (int i = 0; i < H * W; i++) max_ent = fmax(max_ent, fabs(m.entropy[i] - ent[i]));
        /* rows: label, area, luminance, mean, std, min, max entropy */
        for (int r = 0; r < 3; r++) {
            const double *ref = rows + r * 7;
            int l = (int)ref[0];
            const lis_seg_stats *s = &m.stats[l];
            lis_check(s->area == ref[1], "area(case%d, label %d) = %.0f, bundle %.0f (exact)", k, l, s->area, ref[1]);
            double got[5] = {s->luminance, s->mean_entropy, s->std_entropy, s->min_entropy, s->max_entropy};
            for (int c = 0; c < 5; c++) {
                double e = fabs(got[c] - ref[2 + c]) / fmax(1e-300, fabs(ref[2 + c]));
                if (ref[2 + c] == 0) e = fabs(got[c]);
                max_row = fmax(max_row, e);
            }
        }
        /* ellipses: label, contour_i, ecc, angle, cx, cy, w, h */
        lis_check(m.n_ell == n_ell, "ellipses(case%d): %d found, bundle %d", k, m.n_ell, n_ell);
        for (int r = 0; r < n_ell; r++) {
            const double *ref = ell + r * 8;
            int best = -1;
            double bd = 1e30;
            for (int e = 0; e < m.n_ell; e++) {
                if (m.ell[e].label != (int)ref[0]) continue;
                double d = hypot(m.ell[e].e.cx - ref[4], m.ell[e].e.cy - ref[5]);
                if (d < bd) { bd = d; best = e; }
            }
            if (best < 0) { lis_check(0, "case%d: no ellipse of label %d near (%.2f, %.2f)", k, (int)ref[0], ref[4], ref[5]); continue; }
            const lis_seg_ellipse *e = &m.ell[best];
            ell_total++;
            idx_same += e->contour_i == (int)ref[1];
            max_c = fmax(max_c, fmax(fabs(e->e.cx - ref[4]), fabs(e->e.cy - ref[5])));
            max_ax = fmax(max_ax, fmax(fabs(e->e.w - ref[6]), fabs(e->e.h - ref[7])));
            max_ang = fmax(max_ang, fabs(e->e.angle - ref[3]));
            if (isnan(ref[2])) lis_check(isnan(e->eccentricity), "case%d: eccentricity NaN in the bundle", k);
            else max_ecc = fmax(max_ecc, fabs(e->eccentricity - ref[2]));
        }
    }
    lis_check(max_ent <= 1e-9, "entropy map: max |diff| %.3g (tol 1e-9)", max_ent);
    lis_check(max_row <= 1e-9, "label rows (luminance, entropy mean/std/min/max): max rel diff %.3g (tol 1e-9)", max_row);
    lis_check(max_c <= 1e-3 && max_ax <= 1e-3, "ellipse centre max diff %.3g px, axes %.3g px (tol 1e-3)", max_c, max_ax);
    lis_check(max_ang <= 1e-2, "ellipse angle max diff %.3g deg (tol 1e-2)", max_ang);
    lis_check(max_ecc <= 1e-4, "eccentricity max diff %.3g (tol 1e-4)", max_ecc);
    lis_check(ell_total > 0 && idx_same == ell_total, "contour index as OpenCV's for %d of %d ellipses", idx_same, ell_total);
    lis_seg_metrics_free(&m);
    lis_st_close(&st);
}

/* fast entropy == reference, bit for bit, on odd shapes (1x1, thin strips, radius > size) */
static void test_entropy_shapes(void) {
    int shapes[][3] = {{1, 1, 5}, {1, 37, 5}, {37, 1, 5}, {3, 4, 5}, {65, 70, 5}, {20, 20, 0}, {9, 13, 2}};
    unsigned s = 12345;
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++) {
        int H = shapes[c][0], W = shapes[c][1], r = shapes[c][2];
        uint8_t *img = malloc((size_t)H * W);
        double *a = malloc(sizeof(double) * H * W), *b = malloc(sizeof(double) * H * W);
        for (int i = 0; i < H * W; i++) { s = s * 1103515245u + 12345u; img[i] = (uint8_t)((s >> 16) % (c % 2 ? 7 : 256)); }
        lis_entropy_disk_ref(img, H, W, r, a);
        lis_entropy_disk_cpu(img, H, W, r, b);
        int same = !memcmp(a, b, sizeof(double) * H * W);
        lis_check(same, "entropy_cpu == entropy_ref (H=%d,W=%d,r=%d), bit-exact", H, W, r);
        free(img); free(a); free(b);
    }
}

/* contours: nested shapes, holes, single pixels, border-touching blobs */
static void test_contours(void) {
    const int H = 12, W = 14;
    uint8_t m[12 * 14] = {0};
    /* a ring (outer border traced, hole and the dot inside it skipped) */
    for (int y = 1; y <= 7; y++)
        for (int x = 1; x <= 7; x++) m[y * W + x] = (y == 1 || y == 7 || x == 1 || x == 7);
    m[4 * W + 4] = 1;             /* inside the ring's hole: not external */
    m[10 * W + 12] = 1;           /* a single pixel */
    for (int y = 0; y < 3; y++) m[y * W + 13] = 1; /* touching the image border */
    lis_contours c = {0};
    lis_check_ok(lis_contours_external(&c, m, H, W), "contours");
    lis_check(c.count == 3, "contours: 3 external borders (got %d)", c.count);
    /* OpenCV order: reverse raster order of the starts: single pixel, ring, border strip */
    if (c.count == 3) {
        lis_check(c.start[1] - c.start[0] == 1 && c.pts[0] == 12 && c.pts[1] == 10, "contours: single pixel (12,10) first");
        int n_ring = c.start[2] - c.start[1];
        lis_check(n_ring == 4 && c.pts[2 * c.start[1]] == 1 && c.pts[2 * c.start[1] + 1] == 1,
                  "contours: ring as its 4 corners from (1,1) (got %d points)", n_ring);
        lis_check(c.start[3] - c.start[2] == 2, "contours: vertical strip as 2 end points");
    }
    lis_contours_free(&c);
}

/* fitEllipse on exact ellipse points and a degenerate line (values from cv2 4.6.0) */
static void test_fit_ellipse(void) {
    int line[6][2] = {{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}};
    lis_ellipse e;
    lis_fit_ellipse(&line[0][0], 6, &e);
    /* cv2.fitEllipse: ((2.5825186, 2.5806623), (0.0056218607, 8.387319), 134.95947) */
    lis_check(fabs(e.cx - 2.5825186) < 1e-3 && fabs(e.cy - 2.5806623) < 1e-3 && fabs(e.h - 8.387319) < 1e-3 &&
                  fabs(e.angle - 134.95947) < 1e-2,
              "fit_ellipse(collinear): (%.6f, %.6f) %.6g x %.6g at %.5f, cv2 (2.582519, 2.580662) 0.005622 x 8.387319 at 134.95947",
              e.cx, e.cy, e.w, e.h, e.angle);
    int five[5][2] = {{0, 0}, {10, 1}, {0, 10}, {12, 10}, {5, 20}};
    lis_fit_ellipse(&five[0][0], 5, &e);
    /* cv2: ((5.753009, 7.990871), (12.032417, 26.068325), 171.07533) */
    lis_check(fabs(e.cx - 5.753009) < 1e-3 && fabs(e.cy - 7.990871) < 1e-3 && fabs(e.w - 12.032417) < 1e-3 &&
                  fabs(e.h - 26.068325) < 1e-3 && fabs(e.angle - 171.07533) < 1e-2,
              "fit_ellipse(5 points, direct): (%.6f, %.6f) %.6f x %.6f at %.5f", e.cx, e.cy, e.w, e.h, e.angle);
}

int main(void) {
    test_bundle();
    test_entropy_shapes();
    test_contours();
    test_fit_ellipse();
    return lis_test_finish();
}
