/* cmd_toyworld.c — `lis-run toyworld`: renders toy-world scenes (../shared/demo/world.md)
 * with their exact part masks and parameters, in the original's segmentation data layout
 * (data/seg/{partition}/{dataset}/: imgs/, labels/, w/), so they can train a head
 * (`[segment] labels = DIR`) or check one.
 *
 * Sample i uses z = numpy RandomState(seed + i).randn(z_dim) (StyleGAN's gen_images
 * convention: one seed per image) and class C, or class i % 6 with --class all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "kernels/seg_metrics.h"
#include "nets/stylegan_xl.h"
#include "nets/toyworld.h"
#include "runtime/fileio.h"
#include "runtime/np_random.h"
#include "runtime/npy.h"
#include "runtime/png_io.h"

static void help(void) {
    printf("usage: lis-run toyworld --n N -o DIR [options]\n\n"
           "Renders N toy-world scenes with exact part masks (0 background, 1 object, 2 outline).\n\n"
           "options:\n"
           "  --n N              number of scenes (required)\n"
           "  -o, --out DIR      output directory (required)\n"
           "  --seed S           first seed: scene i uses z = RandomState(S + i).randn(z_dim) (default 0)\n"
           "  --class C          class index 0..5 (disk square triangle star ring cross) or 'all'\n"
           "                     (scene i gets class i %% 6; default all)\n"
           "  --size PX          image size (default 64, the demo generator's)\n"
           "  --z-dim D          length of z (default 64; only the first 9 entries and the norm matter)\n"
           "  --generator G      also write w/NAME.npy [num_ws, w_dim] = mapping(z, c) (psi below) and\n"
           "                     generated/NAME.png, G's own image of the scene\n"
           "  --psi F            truncation for --generator (default 1: the scene the renderer draws)\n\n"
           "writes: imgs/NAME.png (rendered RGB), labels/NAME.npy (uint8 [1, H, W], the original's label\n"
           "format), labels/NAME.png (8-bit index PNG), previews/NAME.png (colour-coded masks),\n"
           "params.csv, params.npy [N, 9], z.npy [N, z_dim], c.npy [N] (int64);\n"
           "NAME = sample_<i>_class_<c>_seed_<s>.\n");
}

int lis_cmd_toyworld(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { help(); return 0; }
    const char *out = lis_args_str(&a, "--out", NULL);
    if (!out) out = lis_args_str(&a, "-o", NULL);
    const char *cls_s = lis_args_str(&a, "--class", "all"), *gpath = lis_args_str(&a, "--generator", NULL);
    long n, seed, size, zdim;
    double psi;
    lis_status s;
    if ((s = lis_args_long(&a, "--n", 0, &n)) || (s = lis_args_long(&a, "--seed", 0, &seed)) ||
        (s = lis_args_long(&a, "--size", 64, &size)) || (s = lis_args_long(&a, "--z-dim", 64, &zdim)) ||
        (s = lis_args_double(&a, "--psi", 1.0, &psi)) || (s = lis_args_done(&a)))
        return lis_cli_fail("toyworld", s);
    if (a.npos) return lis_cli_fail("toyworld", lis_err_usage("unexpected argument '%s'", a.pos[0]));
    if (!out || !*out) return lis_cli_fail("toyworld", lis_err_usage("-o DIR is required"));
    if (n < 1 || n > 1000000) return lis_cli_fail("toyworld", lis_err_usage("--n must be in 1..1000000"));
    if (size < 4 || size > 4096) return lis_cli_fail("toyworld", lis_err_usage("--size must be in 4..4096"));
    if (zdim < 9 || zdim > 4096) return lis_cli_fail("toyworld", lis_err_usage("--z-dim must be in 9..4096"));
    if (seed < 0 || seed > 4294967295L) return lis_cli_fail("toyworld", lis_err_usage("--seed must be in 0..2^32-1"));
    long fixed_cls = -1;
    if (strcmp(cls_s, "all") != 0) {
        if ((s = lis_parse_long(cls_s, &fixed_cls, "--class"))) return lis_cli_fail("toyworld", s);
        if (fixed_cls < 0 || fixed_cls >= LIS_TOY_N_CLASSES)
            return lis_cli_fail("toyworld", lis_err_usage("--class must be 0..%d or 'all'", LIS_TOY_N_CLASSES - 1));
    }
    lis_sgxl g;
    int have_g = 0;
    if (gpath) {
        if ((s = lis_sgxl_load(&g, gpath))) return lis_cli_fail("toyworld", s);
        have_g = 1;
        if (g.z_dim != zdim) { s = lis_err_usage("%s: z_dim %d but --z-dim %ld", gpath, g.z_dim, zdim); goto done_g; }
        if (g.c_dim < LIS_TOY_N_CLASSES) { s = lis_err_usage("%s: %d classes, the toy world has 6", gpath, g.c_dim); goto done_g; }
    }
    const char *sub[] = {"imgs", "labels", "previews", "w", "generated"};
    for (int i = 0; i < (have_g ? 5 : 3) && s == LIS_OK; i++) {
        char *d = lis_path_join(out, sub[i]);
        s = d ? lis_mkdirs(d) : LIS_ERR;
        free(d);
    }
    size_t px = (size_t)size * size;
    uint8_t *rgb = malloc(px * 3), *lab = malloc(px), *prev = malloc(px * 3), *gu8 = NULL;
    double *z = malloc(sizeof(double) * zdim);
    float *zf = malloc(sizeof(float) * zdim * n), *P = malloc(sizeof(float) * LIS_TOY_N_PARAMS * n), *ws = NULL, *img = NULL;
    int64_t *C = malloc(sizeof(int64_t) * n);
    if (have_g) {
        ws = malloc(sizeof(float) * g.num_ws * g.w_dim);
        img = malloc(sizeof(float) * g.img_channels * g.img_resolution * g.img_resolution);
        gu8 = malloc((size_t)g.img_channels * g.img_resolution * g.img_resolution);
        if (s == LIS_OK) s = lis_sgxl_plan(&g, 1);
    }
    if (!rgb || !lab || !prev || !z || !zf || !P || !C || (have_g && (!ws || !img || !gu8))) s = lis_err_set("out of memory");
    lis_sbuf csv = {0};
    lis_sbuf_printf(&csv, "name,index,class,class_name,seed");
    for (int k = 0; k < LIS_TOY_N_PARAMS; k++) lis_sbuf_printf(&csv, ",%s", lis_toy_param_names[k]);
    lis_sbuf_printf(&csv, "\n");
    for (long i = 0; i < n && s == LIS_OK; i++) {
        int cls = fixed_cls >= 0 ? (int)fixed_cls : (int)(i % LIS_TOY_N_CLASSES);
        uint32_t sd = (uint32_t)(seed + i);
        lis_np_randn_seed(sd, z, zdim);
        double par[LIS_TOY_N_PARAMS];
        lis_toy_params_from_z(z, (int)zdim, par);
        lis_toy_render(par, cls, (int)size, rgb, lab, NULL);
        for (size_t p = 0; p < px; p++) lis_seg_label_color(lab[p], prev + 3 * p);
        char name[96], rel[160];
        snprintf(name, sizeof name, "sample_%ld_class_%d_seed_%u", i, cls, sd);
        for (int k = 0; k < zdim; k++) zf[i * zdim + k] = (float)z[k];
        for (int k = 0; k < LIS_TOY_N_PARAMS; k++) P[i * LIS_TOY_N_PARAMS + k] = (float)par[k];
        C[i] = cls;
        lis_sbuf_printf(&csv, "%s,%ld,%d,%s,%u", name, i, cls, lis_toy_class_names[cls], sd);
        for (int k = 0; k < LIS_TOY_N_PARAMS; k++) lis_sbuf_printf(&csv, ",%.9g", par[k]);
        lis_sbuf_printf(&csv, "\n");
        char *path;
        snprintf(rel, sizeof rel, "imgs/%s.png", name);
        path = lis_path_join(out, rel);
        s = path ? lis_png_write(path, rgb, (int)size, (int)size, 3) : LIS_ERR;
        free(path);
        snprintf(rel, sizeof rel, "labels/%s.png", name);
        path = lis_path_join(out, rel);
        if (s == LIS_OK) s = path ? lis_png_write(path, lab, (int)size, (int)size, 1) : LIS_ERR;
        free(path);
        snprintf(rel, sizeof rel, "labels/%s.npy", name);
        path = lis_path_join(out, rel);
        lis_tensor lt = {.dtype = LIS_DTYPE_U8, .ndim = 3, .shape = {1, size, size}, .data = lab};
        if (s == LIS_OK) s = path ? lis_npy_write(path, &lt) : LIS_ERR;
        free(path);
        snprintf(rel, sizeof rel, "previews/%s.png", name);
        path = lis_path_join(out, rel);
        if (s == LIS_OK) s = path ? lis_png_write(path, prev, (int)size, (int)size, 3) : LIS_ERR;
        free(path);
        if (have_g && s == LIS_OK) {
            int64_t c64 = cls;
            float *zz = zf + i * zdim;
            s = lis_sgxl_mapping(&g, zz, &c64, 1, 1.0f, 0, ws, NULL);
            if (s == LIS_OK) lis_sgxl_truncate(&g, &c64, 1, (float)psi, ws);
            snprintf(rel, sizeof rel, "w/%s.npy", name);
            path = lis_path_join(out, rel);
            lis_tensor wt = {.dtype = LIS_DTYPE_F32, .ndim = 2, .shape = {g.num_ws, g.w_dim}, .data = ws};
            if (s == LIS_OK) s = path ? lis_npy_write(path, &wt) : LIS_ERR;
            free(path);
            if (s == LIS_OK) s = lis_sgxl_synthesis(&g, ws, 1, img, NULL, NULL);
            if (s == LIS_OK) {
                int R = g.img_resolution;
                for (int c = 0; c < g.img_channels; c++)
                    for (int p = 0; p < R * R; p++) {
                        float v = (img[c * R * R + p] + 1.0f) * 127.5f;
                        gu8[p * g.img_channels + c] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
                    }
                snprintf(rel, sizeof rel, "generated/%s.png", name);
                path = lis_path_join(out, rel);
                s = path ? lis_png_write(path, gu8, R, R, g.img_channels) : LIS_ERR;
                free(path);
            }
        }
    }
    if (s == LIS_OK) {
        char *path = lis_path_join(out, "params.csv");
        lis_atomic_file af;
        s = path ? lis_atomic_open(&af, path) : LIS_ERR;
        if (s == LIS_OK) { lis_atomic_write(&af, csv.s, csv.len); s = lis_atomic_commit(&af); }
        free(path);
    }
    int64_t sp[2] = {n, LIS_TOY_N_PARAMS}, sz[2] = {n, zdim};
    const struct { const char *name; lis_dtype dt; int nd; const int64_t *sh; void *d; } arrs[] = {
        {"params.npy", LIS_DTYPE_F32, 2, sp, P}, {"z.npy", LIS_DTYPE_F32, 2, sz, zf}, {"c.npy", LIS_DTYPE_I64, 1, sp, C}};
    for (int k = 0; k < 3 && s == LIS_OK; k++) {
        char *path = lis_path_join(out, arrs[k].name);
        lis_tensor t = {.dtype = arrs[k].dt, .ndim = arrs[k].nd, .data = arrs[k].d};
        for (int d = 0; d < arrs[k].nd; d++) t.shape[d] = arrs[k].sh[d];
        s = path ? lis_npy_write(path, &t) : LIS_ERR;
        free(path);
    }
    if (s == LIS_OK) printf("toyworld: %ld scenes of %ldx%ld in %s\n", n, size, size, out);
    lis_sbuf_free(&csv);
    free(rgb); free(lab); free(prev); free(z); free(zf); free(P); free(C); free(ws); free(img); free(gu8);
done_g:
    if (have_g) lis_sgxl_free(&g);
    return lis_cli_fail("toyworld", s);
}
