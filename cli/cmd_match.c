/* cmd_match.c — `lis-run match IMG_A.png IMG_B.png -o DIR`: LinkingInStyle's comp_vis_motion on
 * one image pair (nets/pump.h): PUMP correspondences A -> B, the global affine (RANSAC as
 * OpenCV), A warped onto B, PUMP again, the dense motion field, its statistics and the
 * vector-field plots. Every file is written atomically. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "kernels/flow_plot.h"
#include "nets/pump.h"
#include "nets/pump_cuda.h"
#include "runtime/backend.h"
#include "runtime/fileio.h"
#include "runtime/json.h"
#include "runtime/npy.h"
#include "runtime/png_io.h"
#include "runtime/threads.h"

int lis_cmd_match(int argc, char **argv);

static void help(void) {
    printf("usage: lis-run match IMG_A.png IMG_B.png -o DIR [options]\n\n"
           "Measures how image B differs from image A as LinkingInStyle does (spec/pump.md): PUMP dense\n"
           "matching A -> B, the global affine motion (RANSAC, as OpenCV's estimateAffine2D), A warped onto B,\n"
           "PUMP again on (warped A, B), the dense field, and plots of the remaining motion as arrows.\n"
           "Images: RGB PNG, same size, sides multiples of 4.\n\n"
           "writes into DIR:\n"
           "  corres.npy          float32 N1 x 6: (x1, y1, x2, y2, score, 0), PUMP A -> B\n"
           "  corres_warped.npy   float32 N2 x 6: PUMP warped A -> B\n"
           "  affine.npy          float64 2 x 3: (x2, y2) = A (x1, y1, 1)\n"
           "  warped.png          A warped by the affine (OpenCV warpAffine, black outside)\n"
           "  flow.npy            float32 H x W x 2: dense field minus the pixel grid, (dx, dy) per pixel of A\n"
           "  vis_warped.png      arrows of the field over the warped A\n"
           "  vis_target.png      the same arrows over B\n"
           "  motion.json         affine rotation/scale/translation, mean local motion, its concentration\n"
           "                      and centroid, correspondence counts, timings\n\n"
           "options:\n"
           "  -o, --out DIR       output directory (created)\n"
           "  --weights W         PUMP descriptor weights: 'synth' (built-in synth-init manifest, default),\n"
           "                      a *.manifest, or a lis weight file from `lis-run convert PUMP-stytrf.pt`\n"
           "  --device D          cpu, cuda, cuda:N or auto (default auto: cuda when a GPU is present)\n"
           "  --field run1|run2   dense field from the first matching (run1, as LinkingInStyle, default) or\n"
           "                      from the matching after the affine (run2, in the warped frame)\n"
           "  --seed N            RANSAC seed (default: OpenCV's, 18446744073709551615)\n"
           "  --threshold PX      RANSAC inlier threshold (default 3)\n"
           "  --exact-keys        reciprocal check on exact integer keys (default: PUMP's float32 keys)\n\n"
           "environment: LIS_THREADS=N threads (default: all cores)\n");
}

static lis_status write_npy(const char *dir, const char *name, lis_dtype dt, int ndim, const int64_t *shape,
                            const void *data) {
    char *p = lis_path_join(dir, name);
    if (!p) return LIS_ERR;
    lis_tensor t = {.dtype = dt, .ndim = ndim, .data = (void *)data};
    for (int i = 0; i < ndim; i++) t.shape[i] = shape[i];
    lis_status s = lis_npy_write(p, &t);
    free(p);
    return s;
}

static lis_status write_png(const char *dir, const char *name, const uint8_t *img, int h, int w) {
    char *p = lis_path_join(dir, name);
    if (!p) return LIS_ERR;
    lis_status s = lis_png_write(p, img, h, w, 3);
    free(p);
    return s;
}

/* arrows over `img`, written as DIR/name */
static lis_status plot(const char *dir, const char *name, const lis_flow_arrows *ar, const uint8_t *img, int H, int W) {
    lis_flow_plot_params fp;
    lis_flow_plot_params_default(&fp);
    uint8_t *out = NULL;
    int oh, ow;
    LIS_TRY(lis_flow_render(&fp, ar, img, H, W, &out, &oh, &ow));
    lis_status s = write_png(dir, name, out, oh, ow);
    free(out);
    return s;
}

int lis_cmd_match(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { help(); return 0; }
    const char *out = lis_args_str(&a, "--out", NULL);
    if (!out) out = lis_args_str(&a, "-o", NULL);
    const char *weights = lis_args_str(&a, "--weights", "synth"), *device = lis_args_str(&a, "--device", "auto");
    const char *field = lis_args_str(&a, "--field", "run1"), *seed = lis_args_str(&a, "--seed", NULL);
    double thr = 3.0;
    lis_status s = lis_args_double(&a, "--threshold", 3.0, &thr);
    const int exact = lis_args_flag(&a, "--exact-keys");
    if (s == LIS_OK) s = lis_args_done(&a);
    if (s == LIS_OK && a.npos != 2) s = lis_err_usage("expected two images, IMG_A.png IMG_B.png (see --help)");
    if (s == LIS_OK && (!out || !*out)) s = lis_err_usage("-o DIR is required");
    if (s == LIS_OK && strcmp(field, "run1") && strcmp(field, "run2")) s = lis_err_usage("--field %s: expected run1 or run2", field);
    if (s == LIS_OK && !(thr > 0)) s = lis_err_usage("--threshold %g: must be positive", thr);
    lis_pump_motion_params mp;
    lis_pump_motion_params_default(&mp);
    mp.field_run = !strcmp(field, "run2") ? 2 : 1;
    mp.affine.threshold = thr;
    if (s == LIS_OK && seed) {
        char *end;
        unsigned long long v = strtoull(seed, &end, 10);
        if (!*seed || *end) s = lis_err_usage("--seed %s: expected an unsigned integer", seed);
        mp.affine.seed = v;
    }
    lis_device dev = {LIS_DEVICE_CPU, 0};
    if (s == LIS_OK) s = lis_device_parse(device, &dev);
    if (s != LIS_OK) return lis_cli_fail("match", s);

    uint8_t *ia = NULL, *ib = NULL;
    int ha, wa, hb, wb;
    lis_pump_net net;
    memset(&net, 0, sizeof net);
    lis_pump_matcher m;
    memset(&m, 0, sizeof m);
    lis_pump_motion mo;
    memset(&mo, 0, sizeof mo);
    lis_pump_cuda gpu;
    memset(&gpu, 0, sizeof gpu);
    lis_flow_arrows ar = {0};
    s = lis_png_read_rgb(a.pos[0], &ia, &ha, &wa);
    if (s == LIS_OK) s = lis_png_read_rgb(a.pos[1], &ib, &hb, &wb);
    if (s == LIS_OK && (ha != hb || wa != wb))
        s = lis_err_usage("%s is %dx%d but %s is %dx%d: the images must have the same size", a.pos[0], wa, ha, a.pos[1], wb, hb);
    if (s == LIS_OK && (ha % 4 || wa % 4 || ha < 16 || wa < 16))
        s = lis_err_usage("%s: %dx%d: sides must be multiples of 4, at least 16 (PUMP's 4-pixel cells)", a.pos[0], wa, ha);
    if (s == LIS_OK) s = lis_pump_net_load_file(&net, weights);
    if (s == LIS_OK && dev.kind == LIS_DEVICE_CUDA) {
        s = lis_pump_cuda_init_file(&gpu, &net, weights, dev.index);
        if (s == LIS_OK) m.gpu = &gpu;
    }
    if (s == LIS_OK) s = lis_mkdirs(out);
    if (s == LIS_OK) { /* planning first fixes the matcher's parameters for both runs */
        lis_pump_params prm;
        lis_pump_params_default(&prm);
        prm.exact_keys = exact;
        s = lis_pump_matcher_plan(&m, &prm, ha, wa, ha, wa, net.out_dim);
    }
    if (s == LIS_OK) s = lis_pump_motion_run(&m, &net, ia, ib, ha, wa, &mp, &mo);
    const int H = ha, W = wa;
    if (s == LIS_OK) {
        const int64_t sc1[2] = {mo.n1, 6}, sc2[2] = {mo.n2, 6}, sa[2] = {2, 3}, sf[3] = {H, W, 2};
        s = write_npy(out, "corres.npy", LIS_DTYPE_F32, 2, sc1, mo.corres1);
        if (s == LIS_OK) s = write_npy(out, "corres_warped.npy", LIS_DTYPE_F32, 2, sc2, mo.corres2);
        if (s == LIS_OK) s = write_npy(out, "affine.npy", LIS_DTYPE_F64, 2, sa, mo.A);
        if (s == LIS_OK) s = write_npy(out, "flow.npy", LIS_DTYPE_F32, 3, sf, mo.flow);
        if (s == LIS_OK) s = write_png(out, "warped.png", mo.warped, H, W);
    }
    if (s == LIS_OK) {
        lis_flow_plot_params fp;
        lis_flow_plot_params_default(&fp);
        s = lis_flow_arrows_select(&fp, mo.dense, H, W, &ar);
        if (s == LIS_OK) s = plot(out, "vis_warped.png", &ar, mo.warped, H, W);
        if (s == LIS_OK) s = plot(out, "vis_target.png", &ar, ib, H, W);
    }
    if (s == LIS_OK) {
        lis_sbuf j = {0};
        char dn[64];
        lis_sbuf_printf(&j, "{\n  \"image_a\": ");
        lis_sbuf_json_str(&j, a.pos[0]);
        lis_sbuf_printf(&j, ",\n  \"image_b\": ");
        lis_sbuf_json_str(&j, a.pos[1]);
        lis_sbuf_printf(&j, ",\n  \"device\": \"%s\",\n  \"field\": \"%s\",\n", lis_device_name(dev, dn, sizeof dn), field);
        lis_sbuf_printf(&j, "  \"affine\": [[%.17g, %.17g, %.17g], [%.17g, %.17g, %.17g]],\n", mo.A[0], mo.A[1], mo.A[2],
                        mo.A[3], mo.A[4], mo.A[5]);
        lis_sbuf_printf(&j, "  \"rotation_deg\": %.9g,\n  \"scale\": %.9g,\n  \"translation_center\": [%.9g, %.9g],\n",
                        mo.rot_deg, mo.scale, mo.tx, mo.ty);
        lis_sbuf_printf(&j, "  \"local_motion_mean_px\": %.9g,\n  \"local_motion_concentration\": %.9g,\n"
                            "  \"local_motion_centroid\": [%.9g, %.9g],\n", mo.mean_mag, mo.concentration, mo.centroid_x,
                        mo.centroid_y);
        lis_sbuf_printf(&j, "  \"correspondences\": %d,\n  \"correspondences_warped\": %d,\n  \"ransac_inliers\": %d,\n"
                            "  \"arrows\": %d,\n  \"seconds\": %.3f\n}\n", mo.n1, mo.n2, mo.n_inliers, ar.n, mo.seconds);
        char *p = lis_path_join(out, "motion.json");
        lis_atomic_file f;
        s = j.oom || !p ? lis_err_set("out of memory") : lis_atomic_open(&f, p);
        if (s == LIS_OK) {
            lis_atomic_write(&f, j.s, j.len);
            s = lis_atomic_commit(&f);
        }
        free(p);
        lis_sbuf_free(&j);
    }
    if (s == LIS_OK)
        printf("%s -> %s: %d + %d correspondences, affine rotation %.2f deg, scale %.4f, centre moves (%.2f, %.2f) px;\n"
               "local motion mean %.3f px, top-10%% share %.2f; %.2f s -> %s/\n",
               a.pos[0], a.pos[1], mo.n1, mo.n2, mo.rot_deg, mo.scale, mo.tx, mo.ty, mo.mean_mag, mo.concentration,
               mo.seconds, out);
    lis_flow_arrows_free(&ar);
    lis_pump_motion_free(&mo);
    lis_pump_matcher_free(&m);
    lis_pump_cuda_free(&gpu);
    lis_pump_net_free(&net);
    free(ia);
    free(ib);
    return lis_cli_fail("match", s);
}
