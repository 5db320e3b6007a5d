/* cmd_counterfactual.c — `lis-run counterfactual`: one counterfactual trajectory from an
 * image or a seed (nets/counterfactual.h), written to a directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "nets/counterfactual.h"
#include "runtime/np_random.h"
#include "runtime/npy.h"
#include "runtime/png_io.h"

int lis_cmd_counterfactual(int argc, char **argv); /* also in cli/commands.h once listed there */

static void help(void) {
    printf("usage: lis-run counterfactual --generator G.safetensors --classifier C.safetensors --link L.safetensors\n"
           "                              (--image PNG [--class O] | --seed S --class O) --target T -o DIR [options]\n\n"
           "Shifts the classifier's features r of an image until the image rendered from them through the linking\n"
           "network and the generator is classified as T (Linking in Style, gen_counterfactual), and writes the\n"
           "trajectory: images (strip.png, counterfactual.png, interp.png), r, w and the shift per step (.npy), the\n"
           "class probabilities along the way, the units that moved most (units.csv) and result.json.\n\n"
           "the original (one of):\n"
           "  --image PNG         an RGB image of any size (through the classifier's preprocessing)\n"
           "  --seed S            the generator's image of numpy RandomState(S).randn(J+1, z_dim)[J] for class O,\n"
           "                      truncated with --psi (default 0.7); --index J (default 0)\n"
           "  --class O           origin class (required with --seed; with --image default: the classifier's answer)\n"
           "  --w W.npy           the original's w ([w_dim] or [1, num_ws, w_dim]); needed by --variant v2 with --image\n\n"
           "optimisation (defaults: the released code):\n"
           "  --variant V         released (= v7: -z_t + lambda z_o - 10 cos(link(r), link(r - s)), GD, image rule),\n"
           "                      v2 (cosine to the original w), v1 (logits only), v4 (-softmax_t, AdamW, prob rule,\n"
           "                      eps 1e-5), v5 (-softmax_t - lambda cos, AdamW, prob rule)\n"
           "  --lr F              step size (0.5)        --lambda F      origin-logit weight (0.6)\n"
           "  --cos-weight F      cosine weight (10)     --max-steps N   give up after N + 1 steps (2000)\n"
           "  --optimizer gd|adamw   --stop image|prob   --eps F (prob rule: stop when 1 - p_t <= eps)\n"
           "  --init uniform|zeros initial shift: numpy RandomState(--init-seed).random_sample(F) (default, seed 0),\n"
           "                      or zeros; --init-shift FILE.npy takes it from a file ([F])\n\n"
           "outputs:\n"
           "  -o, --out DIR       output directory\n"
           "  --frames N          images in strip.png (8)    --top-units N  units listed (10)\n"
           "  --interp N          steps of the interpolation r - a (r - ReLU(r - s)), a in [0, 1] (5)\n"
           "  --batch B           generator batch for the strips (8)    --quiet  no progress line\n");
}

static lis_status parse_choice(const char *v, const char *what, const char *a, const char *b, int *out) {
    if (!v) return LIS_OK;
    if (!strcmp(v, a)) *out = 0;
    else if (!strcmp(v, b)) *out = 1;
    else return lis_err_usage("%s %s: expected %s or %s", what, v, a, b);
    return LIS_OK;
}

/* w of seed S, sample J, class c, truncated with psi (as gen_utils.get_w_from_seed) */
static lis_status w_from_seed(lis_sgxl *g, long seed, long index, long c, double psi, float *w) {
    if (seed < 0 || seed > 0xffffffffL) return lis_err_usage("--seed %ld is outside 0..2^32-1", seed);
    double *zd = lis_malloc(sizeof(double) * (size_t)(index + 1) * g->z_dim, "z");
    float *z = lis_malloc(sizeof(float) * (size_t)g->z_dim, "z"), *ws = lis_malloc(sizeof(float) * (size_t)g->num_ws * g->w_dim, "ws");
    lis_status s = zd && z && ws ? LIS_OK : LIS_ERR;
    if (s == LIS_OK) {
        lis_np_randn_seed((uint32_t)seed, zd, (int64_t)(index + 1) * g->z_dim);
        for (int d = 0; d < g->z_dim; d++) z[d] = (float)zd[(size_t)index * g->z_dim + d];
        int64_t cl = c;
        s = lis_sgxl_mapping(g, z, &cl, 1, 1.0f, 0, ws, NULL);
        if (s == LIS_OK) {
            lis_sgxl_truncate(g, &cl, 1, (float)psi, ws);
            memcpy(w, ws, sizeof(float) * (size_t)g->w_dim);
        }
    }
    free(zd); free(z); free(ws);
    return s;
}

static const char *cname(const lis_resnet *cls, int c) {
    const char *n = lis_resnet_class_name(cls, c);
    return n ? n : "";
}

int lis_cmd_counterfactual(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { help(); return 0; }
    const char *gpath = lis_args_str(&a, "--generator", NULL), *cpath = lis_args_str(&a, "--classifier", NULL);
    const char *lpath = lis_args_str(&a, "--link", NULL), *image = lis_args_str(&a, "--image", NULL);
    const char *out = lis_args_str(&a, "--out", NULL), *wpath = lis_args_str(&a, "--w", NULL);
    if (!out) out = lis_args_str(&a, "-o", NULL);
    const char *variant_s = lis_args_str(&a, "--variant", "released"), *opt_s = lis_args_str(&a, "--optimizer", NULL);
    const char *stop_s = lis_args_str(&a, "--stop", NULL), *init_s = lis_args_str(&a, "--init", NULL);
    const char *init_file = lis_args_str(&a, "--init-shift", NULL);
    int quiet = lis_args_flag(&a, "--quiet");
    long seed = -1, cls_o = -1, target = -1, index = 0, max_steps, init_seed, frames, top, interp, batch;
    double psi, lr, lambda, cosw, eps;
    lis_cf_params p;
    lis_cf_variant var;
    lis_status s = LIS_OK;
    if (!lis_cf_variant_parse(variant_s, &var))
        return lis_cli_fail("counterfactual", lis_err_usage("--variant %s: expected released, v1, v2, v4 or v5", variant_s));
    lis_cf_params_default(&p, var);
    if ((s = lis_args_long(&a, "--seed", -1, &seed)) || (s = lis_args_long(&a, "--class", -1, &cls_o)) ||
        (s = lis_args_long(&a, "--target", -1, &target)) || (s = lis_args_long(&a, "--index", 0, &index)) ||
        (s = lis_args_double(&a, "--psi", 0.7, &psi)) || (s = lis_args_double(&a, "--lr", p.lr, &lr)) ||
        (s = lis_args_double(&a, "--lambda", p.lambda, &lambda)) || (s = lis_args_double(&a, "--cos-weight", p.cos_weight, &cosw)) ||
        (s = lis_args_double(&a, "--eps", p.eps, &eps)) || (s = lis_args_long(&a, "--max-steps", p.max_steps, &max_steps)) ||
        (s = lis_args_long(&a, "--init-seed", 0, &init_seed)) || (s = lis_args_long(&a, "--frames", 8, &frames)) ||
        (s = lis_args_long(&a, "--top-units", 10, &top)) || (s = lis_args_long(&a, "--interp", 5, &interp)) ||
        (s = lis_args_long(&a, "--batch", 8, &batch)) || (s = lis_args_done(&a)))
        return lis_cli_fail("counterfactual", s);
    int o_i = (int)p.opt, st_i = (int)p.stop, in_i = (int)p.init;
    if ((s = parse_choice(opt_s, "--optimizer", "gd", "adamw", &o_i)) || (s = parse_choice(stop_s, "--stop", "image", "prob", &st_i)) ||
        (s = parse_choice(init_s, "--init", "uniform", "zeros", &in_i)))
        return lis_cli_fail("counterfactual", s);
    p.opt = (lis_cf_optimizer)o_i; p.stop = (lis_cf_stop)st_i; p.init = (lis_cf_init)in_i;
    p.lr = lr; p.lambda = lambda; p.cos_weight = cosw; p.eps = eps;
    if (a.npos) s = lis_err_usage("unexpected argument '%s'", a.pos[0]);
    else if (!gpath || !cpath || !lpath) s = lis_err_usage("--generator, --classifier and --link are required");
    else if (!out || !*out) s = lis_err_usage("-o DIR is required");
    else if (!!image == (seed >= 0)) s = lis_err_usage("give exactly one of --image PNG and --seed S");
    else if (seed >= 0 && cls_o < 0) s = lis_err_usage("--seed needs --class (the origin class)");
    else if (target < 0) s = lis_err_usage("--target T is required");
    else if (max_steps < 0 || max_steps > 100000000L) s = lis_err_usage("--max-steps must be in 0..1e8");
    else if (!(lr > 0)) s = lis_err_usage("--lr must be > 0");
    else if (index < 0 || index > 1000000) s = lis_err_usage("--index must be in 0..1e6");
    else if (init_seed < 0 || init_seed > 0xffffffffL) s = lis_err_usage("--init-seed is outside 0..2^32-1");
    else if (frames < 1 || frames > 1000 || top < 0 || top > 100000 || interp < 2 || interp > 1000)
        s = lis_err_usage("--frames 1..1000, --top-units 0..1e5, --interp 2..1000");
    else if (batch < 1 || batch > 4096) s = lis_err_usage("--batch must be in 1..4096");
    if (s) return lis_cli_fail("counterfactual", s);
    p.max_steps = (int)max_steps;
    p.init_seed = (uint32_t)init_seed;

    lis_sgxl g;
    lis_resnet cls;
    lis_link L = {0};
    lis_render rd;
    int g_ok = 0, c_ok = 0, r_ok = 0;
    uint8_t *orig = NULL;
    int oh = 0, ow = 0;
    float *r = NULL, *w0 = NULL, *lg = NULL, *shift0 = NULL;
    lis_tensor tw = {0}, ts = {0};
    lis_cf_result res = {0};
    char note[1200];
    if ((s = lis_sgxl_load(&g, gpath))) goto done;
    g_ok = 1;
    if ((s = lis_resnet_load_file(&cls, cpath))) goto done;
    c_ok = 1;
    if ((s = lis_link_load(&L, lpath))) goto done;
    if (L.n_in != cls.feat_dim || L.n_out != g.w_dim) {
        s = lis_err_usage("%s maps %d -> %d, but the classifier gives %d features and the generator takes %d-d w", lpath, L.n_in,
                          L.n_out, cls.feat_dim, g.w_dim);
        goto done;
    }
    if (target >= cls.num_classes || cls_o >= cls.num_classes) {
        s = lis_err_usage("classes must be below %d (the classifier's classes)", cls.num_classes);
        goto done;
    }
    if (seed >= 0 && cls_o >= g.c_dim) { s = lis_err_usage("--class %ld: the generator has %d classes", cls_o, g.c_dim); goto done; }
    if ((s = lis_render_init(&rd, &g, &cls, (int)batch))) goto done;
    r_ok = 1;
    r = lis_malloc(sizeof(float) * (size_t)cls.feat_dim, "r");
    lg = lis_malloc(sizeof(float) * (size_t)cls.num_classes, "logits");
    w0 = lis_malloc(sizeof(float) * (size_t)g.w_dim, "w");
    if (!r || !lg || !w0) { s = LIS_ERR; goto done; }
    int have_w = 0;
    if (image) {
        if ((s = lis_png_read_rgb(image, &orig, &oh, &ow))) goto done;
        if ((s = lis_cf_encode_image(&cls, orig, oh, ow, r, lg))) goto done;
        int pred = lis_argmax(lg, cls.num_classes);
        if (cls_o < 0) cls_o = pred;
        else if (pred != cls_o) fprintf(stderr, "lis-run counterfactual: note: the classifier calls %s class %d, not %ld\n", image, pred, cls_o);
        snprintf(note, sizeof note, "image %s", image);
    } else {
        if ((s = w_from_seed(&g, seed, index, cls_o, psi, w0))) goto done;
        have_w = 1;
        size_t isz = (size_t)g.img_resolution * g.img_resolution * 3;
        orig = lis_malloc(isz, "original image");
        if (!orig) { s = LIS_ERR; goto done; }
        oh = ow = g.img_resolution;
        if ((s = lis_render_w(&rd, 1, w0, orig, NULL, r, lg))) goto done;
        int pred = lis_argmax(lg, cls.num_classes);
        if (pred != cls_o) fprintf(stderr, "lis-run counterfactual: note: the original image is classified as %d, not %ld\n", pred, cls_o);
        snprintf(note, sizeof note, "seed %ld index %ld class %ld psi %.17g", seed, index, cls_o, psi);
    }
    if (wpath) {
        if ((s = lis_npy_read_f32(wpath, &tw))) goto done;
        int64_t nw = lis_tensor_numel(&tw);
        if (nw != g.w_dim && nw != (int64_t)g.num_ws * g.w_dim) {
            s = lis_err_usage("%s: %lld values; expected w_dim = %d or num_ws x w_dim", wpath, (long long)nw, g.w_dim);
            goto done;
        }
        memcpy(w0, tw.data, sizeof(float) * (size_t)g.w_dim);
        have_w = 1;
    }
    if (init_file) {
        if ((s = lis_npy_read_f32(init_file, &ts))) goto done;
        if (lis_tensor_numel(&ts) != cls.feat_dim) {
            s = lis_err_usage("%s: %lld values; the initial shift needs %d (the classifier's features)", init_file,
                              (long long)lis_tensor_numel(&ts), cls.feat_dim);
            goto done;
        }
        shift0 = ts.data;
    }
    fprintf(stderr, "lis-run counterfactual: class %ld %s -> %ld %s, variant %s, lr %g, at most %d steps\n", cls_o,
            cname(&cls, (int)cls_o), target, cname(&cls, (int)target), lis_cf_variant_name(p.variant), p.lr, p.max_steps + 1);
    if ((s = lis_cf_run(&p, &rd, &L, r, have_w ? w0 : NULL, shift0, (int)cls_o, (int)target, quiet, &res))) goto done;
    char init_note[1100];
    snprintf(init_note, sizeof init_note, "file %s", init_file ? init_file : "");
    lis_cf_write_opts wo = {(int)frames, (int)top, (int)interp, orig, oh, ow, note, init_file ? init_note : NULL};
    if ((s = lis_cf_write(out, &p, &wo, &rd, &L, r, &res))) goto done;
    if (res.success)
        fprintf(stderr, "lis-run counterfactual: class %d -> %d after %d steps (%.1f s); written to %s\n", res.origin, res.target,
                res.steps, res.seconds, out);
    else
        s = lis_err_set("no counterfactual: the image did not become class %ld within %d steps (last class %d); the "
                        "trajectory is in %s", target, res.steps, res.pred_final, out);
done:
    lis_cf_result_free(&res);
    free(orig); free(r); free(w0); free(lg);
    lis_tensor_free(&tw);
    lis_tensor_free(&ts);
    if (r_ok) lis_render_free(&rd);
    lis_link_free(&L);
    if (c_ok) lis_resnet_free(&cls);
    if (g_ok) lis_sgxl_free(&g);
    return lis_cli_fail("counterfactual", s);
}
