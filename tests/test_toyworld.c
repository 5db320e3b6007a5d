/* test_toyworld.c — the toy world end to end.
 *
 *  1. The renderer against the bundled ground truth (shared/demo/samples/gt20, 20 scenes):
 *     z -> parameters within 1e-6 (params.npy is float32), label maps identical, RGB
 *     identical (the same float64 formula and round-half-even).
 *  2. `lis-run toyworld` writes scenes, masks (.npy in the original's [1, H, W] format and
 *     index PNG) and parameters that re-render identically.
 *  3. Metrics on EXACT masks follow the scene parameters: sweeping size grows the object's
 *     area, sweeping value raises its luminance (area unchanged), sweeping rotation turns
 *     its fitted ellipse by the same angle (within 3 degrees).
 *  4. The pipeline with segmentation (`[segment] toyworld = N`, a head trained on exact
 *     masks of generated scenes) on a small configuration: the head's masks on held-out
 *     scenes against the renderer's exact masks (seg/check.csv), units.csv and the report
 *     sections, and units whose sweep changes the object's area / luminance found.
 *
 * IoU bound for 4 (object label, generated images): the demo generator is under-trained
 * (world.md: objects come out as soft blobs, L1 0.17 inside the object), so even a perfect
 * head misses the object's boundary by 1-2 px, and the outline (a 1.9 px dark band that G
 * renders as a halo) is barely learnable. Measured with the renderer on the same scenes
 * (numpy, by hand): a 1 px boundary error costs the object label IoU 0.65 (the ceiling a
 * good head on these blurred images can approach); the location prior (the mean training
 * object mask, thresholded at 0.2 / 0.3 / 0.5) scores 0.28 / 0.27 / 0.12 on the held-out
 * scenes, and "all background" 0. We require object IoU >= 0.35: above any prior, so the
 * head must follow each scene's object, with margin below the blur ceiling for a short
 * training (12 epochs on 16 scenes; 0.47 measured). The outline IoU is reported, not bounded.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels/seg_metrics.h"
#include "nets/toyworld.h"
#include "runtime/fileio.h"
#include "runtime/npy.h"
#include "runtime/png_io.h"
#include "tests/harness.h"

#define GT "/work/shared/demo/samples/gt20"

static const char *gt(const char *name) {
    static char buf[512];
    const char *root = getenv("LIS_SHARED") ? getenv("LIS_SHARED") : "../shared";
    snprintf(buf, sizeof buf, "%s/demo/samples/gt20/%s", root, name);
    if (!lis_file_exists(buf)) snprintf(buf, sizeof buf, "%s/%s", GT, name);
    return buf;
}

static void test_gt20(void) {
    lis_tensor tz = {0}, tp = {0}, tl = {0}, tc = {0};
    if (lis_npy_read(gt("z.npy"), &tz) || lis_npy_read(gt("params.npy"), &tp) || lis_npy_read(gt("labels.npy"), &tl) ||
        lis_npy_read(gt("c.npy"), &tc)) {
        lis_test_skip("shared/demo/samples/gt20 not found (set LIS_SHARED)");
        return;
    }
    int n = (int)tz.shape[0], zd = (int)tz.shape[1];
    double maxp = 0;
    int lab_bad = 0, rgb_bad = 0, rgb_max = 0;
    for (int i = 0; i < n; i++) {
        double z[64], par[LIS_TOY_N_PARAMS], ref[LIS_TOY_N_PARAMS];
        for (int k = 0; k < zd; k++) z[k] = ((float *)tz.data)[i * zd + k];
        lis_toy_params_from_z(z, zd, par);
        for (int k = 0; k < LIS_TOY_N_PARAMS; k++) {
            ref[k] = ((float *)tp.data)[i * LIS_TOY_N_PARAMS + k];
            maxp = fmax(maxp, fabs(par[k] - ref[k]));
        }
        uint8_t lab[64 * 64], rgb[64 * 64 * 3];
        int cls = (int)((int64_t *)tc.data)[i];
        lis_toy_render(ref, cls, 64, rgb, lab, NULL);
        lab_bad += memcmp(lab, (uint8_t *)tl.data + i * 64 * 64, sizeof lab) != 0;
        char name[32];
        snprintf(name, sizeof name, "%02d_render.png", i);
        uint8_t *png = NULL;
        int h, w;
        if (lis_png_read_rgb(gt(name), &png, &h, &w) == LIS_OK && h == 64 && w == 64) {
            int bad = 0;
            for (int q = 0; q < 64 * 64 * 3; q++) {
                int d = abs(png[q] - rgb[q]);
                bad += d != 0;
                rgb_max = d > rgb_max ? d : rgb_max;
            }
            rgb_bad += bad != 0;
        } else rgb_bad++;
        free(png);
    }
    lis_check(maxp <= 1e-6, "z -> params for %d gt20 scenes: max |diff| %.3g (tol 1e-6, params.npy is float32)", n, maxp);
    lis_check(lab_bad == 0, "label maps of %d gt20 scenes identical to labels.npy (%d differ)", n, lab_bad);
    lis_check(rgb_bad == 0, "RGB of %d gt20 scenes identical to NN_render.png (%d differ, max |diff| %d)", n, rgb_bad, rgb_max);
    lis_tensor_free(&tz); lis_tensor_free(&tp); lis_tensor_free(&tl); lis_tensor_free(&tc);
}

static char tmp[256];

static void test_command(void) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s toyworld --n 7 --seed 5 -o %s/tw > %s/tw.log 2>&1", lis_test_lisrun_path(), tmp, tmp);
    int rc = system(cmd);
    lis_check(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "lis-run toyworld --n 7 exits 0");
    char path[512];
    snprintf(path, sizeof path, "%s/tw/params.npy", tmp);
    lis_tensor tp = {0}, tl = {0};
    if (lis_npy_read(path, &tp) != LIS_OK || tp.shape[0] != 7) { lis_check(0, "toyworld: params.npy [7, 9]"); return; }
    int ok = 1;
    for (int i = 0; i < 7; i++) {
        snprintf(path, sizeof path, "%s/tw/labels/sample_%d_class_%d_seed_%d.npy", tmp, i, i % 6, 5 + i);
        if (lis_npy_read(path, &tl) != LIS_OK || tl.ndim != 3 || tl.shape[0] != 1 || tl.dtype != LIS_DTYPE_U8) { ok = 0; break; }
        double par[LIS_TOY_N_PARAMS];
        for (int k = 0; k < LIS_TOY_N_PARAMS; k++) par[k] = ((float *)tp.data)[i * LIS_TOY_N_PARAMS + k];
        uint8_t lab[64 * 64];
        lis_toy_render(par, i % 6, 64, NULL, lab, NULL);
        /* params.npy is float32: a pixel centre may sit within rounding of a boundary */
        int diff = 0;
        for (int q = 0; q < 64 * 64; q++) diff += lab[q] != ((uint8_t *)tl.data)[q];
        ok &= diff <= 2;
        lis_tensor_free(&tl);
        uint8_t *idx = NULL;
        int h, w;
        snprintf(path, sizeof path, "%s/tw/labels/sample_%d_class_%d_seed_%d.png", tmp, i, i % 6, 5 + i);
        ok &= lis_png_read_index(path, &idx, &h, &w) == LIS_OK && h == 64 && w == 64;
        free(idx);
    }
    lis_check(ok, "toyworld: 7 label files ([1, 64, 64] uint8 .npy and index .png) re-render from params.npy");
    lis_tensor_free(&tp);
}
/* The change vector on exact toy-world masks follows the scene parameters: a larger size
 * grows the object's area, a higher value raises its luminance, a rotation of an
 * elongated object turns its ellipse by the same angle (clockwise on screen = larger
 * OpenCV angle, both measured with y down). */
static void test_change_toyworld(void) {
    const int N = 64, T = 3;
    double base[LIS_TOY_N_PARAMS] = {0.6, 0.7, 0.45, 0.35, 0.0, 0.0, 0.1, 0.3, 0.1};
    struct { int param; double lo, hi; int feat; double expect_sign; double expect_value; } sweeps[] = {
        {LIS_TOY_SIZE, 0.35, 0.6, LIS_SEG_AREA, 1, NAN},
        {LIS_TOY_VALUE, 0.55, 0.95, LIS_SEG_LUMINANCE, 1, NAN},
        {LIS_TOY_ROTATION, -0.3, 0.3, LIS_SEG_ANGLE, 1, 0.6 * 180 / M_PI},
    };
    lis_seg_metrics m[3] = {{0}};
    uint8_t rgb[3][64 * 64 * 3], lab[3][64 * 64];
    int *work = malloc(sizeof(int) * N * N);
    for (size_t s = 0; s < sizeof sweeps / sizeof *sweeps; s++) {
        for (int t = 0; t < T; t++) {
            double p[LIS_TOY_N_PARAMS];
            memcpy(p, base, sizeof p);
            p[sweeps[s].param] = sweeps[s].lo + (sweeps[s].hi - sweeps[s].lo) * t / (T - 1);
            lis_toy_render(p, LIS_TOY_DISK, N, rgb[t], lab[t], NULL);
            lis_seg_metrics_image(&m[t], rgb[t], lab[t], N, N, LIS_TOY_N_LABELS);
        }
        double ch[(LIS_TOY_N_LABELS - 1) * LIS_SEG_N_FEAT];
        lis_seg_change_params cp = {20, NULL};
        lis_check_ok(lis_seg_change(m, T, lab[0], lab[T - 1], &cp, work, ch, NULL), "seg_change");
        double v = ch[(LIS_TOY_LABEL_OBJECT - 1) * LIS_SEG_N_FEAT + sweeps[s].feat];
        const char *pn = lis_toy_param_names[sweeps[s].param], *fn = lis_seg_feat_names[sweeps[s].feat];
        lis_check(v * sweeps[s].expect_sign > 0, "toy sweep of %s: object d_%s = %.4g, sign %+g expected", pn, fn, v,
                  sweeps[s].expect_sign);
        if (!isnan(sweeps[s].expect_value))
            lis_check(fabs(v - sweeps[s].expect_value) < 3.0, "toy sweep of %s: object d_angle %.2f deg, rotation %.2f deg (within 3)",
                      pn, v, sweeps[s].expect_value);
        /* the other features of a pure size / colour sweep barely move */
        if (sweeps[s].param == LIS_TOY_VALUE)
            lis_check(ch[(LIS_TOY_LABEL_OBJECT - 1) * LIS_SEG_N_FEAT + LIS_SEG_AREA] == 0,
                      "toy sweep of value: object area unchanged (exact masks)");
    }
    for (int t = 0; t < 3; t++) lis_seg_metrics_free(&m[t]);
    free(work);
}

/* a CSV cell by header name and row (1-based data rows); NULL when absent */
static char *csv_text(const char *path) {
    char *t = NULL;
    size_t len;
    if (lis_read_file(path, &t, &len) != LIS_OK) return NULL;
    return t;
}

static void test_pipeline(void) {
    char cmd[2048];
    /* small and quick: 32 units, one reference sample per class, a head trained 12 epochs on
     * 16 toy scenes, checked on 8 others */
    snprintf(cmd, sizeof cmd,
             "%s cli/demo/demo.cfg --out %s/run --set sample.samples_per_class=12 --set tune.units=0-31 "
             "--set tune.chunk=16 --set run.batch=16 --set report.units_shown=6 --set segment.toyworld=16 "
             "--set segment.epochs=12 --set segment.check=8 --set quantify.tsne_iter=300 "
             "--set run.stages=sample,pairs,link,tune,segment,quantify,report > %s/run.log 2>&1", lis_test_lisrun_path(), tmp, tmp);
    int rc = system(cmd);
    lis_check(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "pipeline with [segment] toyworld = 16 exits 0 (log: %s/run.log)", tmp);
    char path[512];
    snprintf(path, sizeof path, "%s/run/seg/check.csv", tmp);
    char *t = csv_text(path);
    double iou[3] = {NAN, NAN, NAN};
    if (t) {
        char *save = NULL;
        for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            int l;
            char name[64];
            double v;
            if (sscanf(line, "%d,%63[^,],%lf", &l, name, &v) == 3 && l >= 0 && l < 3) iou[l] = v;
        }
        free(t);
    }
    printf("    toy world check: IoU background %.3f, object %.3f, outline %.3f\n", iou[0], iou[1], iou[2]);
    lis_check(iou[1] >= 0.35, "head vs renderer's exact masks on 8 held-out generated scenes: object IoU %.3f >= 0.35 "
                              "(outline %.3f, background %.3f; bound justified at the top of this file)", iou[1], iou[2], iou[0]);
    /* units.csv: one row per unit x label x metric */
    snprintf(path, sizeof path, "%s/run/quantify/units.csv", tmp);
    t = csv_text(path);
    int rows = 0;
    double best_area = 0, best_lum = 0;
    int unit_area = -1, unit_lum = -1;
    if (t) {
        char *save = NULL;
        for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            int u, l, nv;
            char name[64], metric[64];
            double mean, sd, ma;
            if (sscanf(line, "%d,%d,%63[^,],%63[^,],%lf,%lf,%lf,%d", &u, &l, name, metric, &mean, &sd, &ma, &nv) != 8) continue;
            rows++;
            if (l == 1 && !strcmp(metric, "area") && fabs(mean) > best_area) { best_area = fabs(mean); unit_area = u; }
            if (l == 1 && !strcmp(metric, "luminance") && fabs(mean) > best_lum) { best_lum = fabs(mean); unit_lum = u; }
        }
        free(t);
    }
    lis_check(rows == 32 * 2 * 5, "quantify/units.csv: %d rows = 32 units x 2 labels x 5 metrics", rows);
    lis_check(best_area > 0.05, "a unit whose sweep changes the object's area: unit %d, mean relative change %.3f (> 0.05)",
              unit_area, best_area);
    lis_check(best_lum > 0.005, "a unit whose sweep changes the object's luminance: unit %d, mean change %.4f of 85 (> 0.005)",
              unit_lum, best_lum);
    snprintf(path, sizeof path, "%s/run/report/index.html", tmp);
    t = csv_text(path);
    const char *need[] = {"<h2>Segmentation</h2>", "<h2>Quantification</h2>", "Label sparsity", "t-SNE of the unit vectors",
                          "Hierarchical clustering", "seg/overlays/unit_"};
    int have = 0;
    for (int k = 0; k < 6; k++) have += t && strstr(t, need[k]) != NULL;
    lis_check(have == 6, "report: segmentation and quantification sections, sparsity histogram, t-SNE, dendrogram, "
                         "links to the sweeps (%d of 6 found)", have);
    free(t);
    snprintf(path, sizeof path, "%s/run/seg/overlays/unit_%05d/class_0_sample_0.png", tmp, unit_area >= 0 ? unit_area : 0);
    lis_check(lis_file_exists(path), "overlay of the top area unit exists (%s)", path);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/lis_toyworld_XXXXXX");
    if (!mkdtemp(tmp)) { lis_check(0, "mkdtemp"); return lis_test_finish(); }
    test_gt20();
    test_change_toyworld();
    test_command();
    if (!lis_test_quick()) test_pipeline();
    char cmd[1024];
    if (!getenv("LIS_KEEP")) { snprintf(cmd, sizeof cmd, "rm -rf %s", tmp); if (system(cmd)) {} }
    return lis_test_finish();
}
