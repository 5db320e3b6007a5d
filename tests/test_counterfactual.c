/* test_counterfactual.c — counterfactual trajectories (nets/counterfactual.h):
 *  - the closed-form gradient of every loss variant against central finite differences
 *    and against PyTorch autograd (tests/data/counterfactual/, make_fixture.py there);
 *  - the optimisation loop (GD and torch.optim.AdamW) against PyTorch's trajectory;
 *  - on the toy world (cli/demo): a link fitted here, then a counterfactual that flips the
 *    generated image's class, with the trajectory's invariants and outputs;
 *  - `lis-run counterfactual` from a seed and from the resulting PNG (same trajectory);
 *  - stages `feasibility` and `counterfactual` of `lis-run pipeline.cfg` on the demo config:
 *    outputs, report sections, a rerun that redoes nothing, a killed run that resumes.
 * The command is compiled into this test from cli/cmd_counterfactual.c (with cli/args.c):
 * test binaries link only liblis.a, and the command table may not list it yet.
 */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nets/counterfactual.h"
#include "runtime/fileio.h"
#include "runtime/json.h"
#include "runtime/np_random.h"
#include "runtime/npy.h"
#include "tests/harness.h"


int lis_cli_fail(const char *cmd, int status) {
    if (status) fprintf(stderr, "lis-run %s: error: %s\n", cmd, lis_err_msg());
    return status == 0 ? 0 : status == LIS_ERR_USAGE ? 2 : 1;
}

#define GEN "cli/demo/generator.safetensors"
#define CLS "cli/demo/classifier.safetensors"

static char tmp[512];

/* a link with the given arrays (copied) */
static void make_link(lis_link *L, int n_in, int n_out, const float *coef, const float *icpt) {
    memset(L, 0, sizeof *L);
    L->n_in = n_in;
    L->n_out = n_out;
    L->rank = -1;
    L->coef = malloc(sizeof(float) * (size_t)n_in * n_out);
    L->coef_t = malloc(sizeof(float) * (size_t)n_in * n_out);
    L->intercept = malloc(sizeof(float) * (size_t)n_out);
    memcpy(L->coef, coef, sizeof(float) * (size_t)n_in * n_out);
    memcpy(L->intercept, icpt, sizeof(float) * (size_t)n_out);
    for (int o = 0; o < n_out; o++)
        for (int i = 0; i < n_in; i++) L->coef_t[(size_t)i * n_out + o] = coef[(size_t)o * n_in + i];
}

static void max_err(const double *got, const double *ref, int n, double *mabs, double *mrel, double atol, double rtol, int *bad) {
    *mabs = *mrel = 0;
    *bad = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs(got[i] - ref[i]);
        if (d > *mabs) *mabs = d;
        if (fabs(ref[i]) > 0 && d / fabs(ref[i]) > *mrel) *mrel = d / fabs(ref[i]);
        *bad += !(d <= atol + rtol * fabs(ref[i]));
    }
}

/* ---- gradient vs central differences on a small random problem */
static void test_gradient_fd(void) {
    int F = 12, K = 5, wd = 7;
    lis_np_rng g;
    lis_np_seed(&g, 42);
    float fw[5 * 12], fb[5], coef[7 * 12], icpt[7], r[12], wo[7];
    for (int i = 0; i < K * F; i++) fw[i] = (float)lis_np_randn(&g);
    for (int i = 0; i < K; i++) fb[i] = (float)lis_np_randn(&g);
    for (int i = 0; i < wd * F; i++) coef[i] = (float)(0.5 * lis_np_randn(&g));
    for (int i = 0; i < wd; i++) icpt[i] = (float)(0.2 * lis_np_randn(&g));
    for (int i = 0; i < F; i++) r[i] = (float)fabs(lis_np_randn(&g));
    for (int i = 0; i < wd; i++) wo[i] = (float)lis_np_randn(&g);
    lis_link L;
    make_link(&L, F, wd, coef, icpt);
    double s[12], gr[12], fd[12];
    for (int i = 0; i < F; i++) s[i] = lis_np_double(&g);
    for (int v = 0; v < LIS_CF_VARIANT_COUNT; v++) {
        lis_cf_params p;
        lis_cf_params_default(&p, (lis_cf_variant)v);
        lis_cf_loss lo;
        lis_check_ok(lis_cf_loss_init(&lo, &p, K, F, fw, fb, &L, r, wo, 1, 3), "loss init");
        lis_cf_loss_eval(&lo, s, gr);
        const double h = 1e-5;
        for (int i = 0; i < F; i++) {
            double sp[12], sm[12];
            memcpy(sp, s, sizeof sp);
            memcpy(sm, s, sizeof sm);
            sp[i] += h;
            sm[i] -= h;
            fd[i] = (lis_cf_loss_eval(&lo, sp, NULL) - lis_cf_loss_eval(&lo, sm, NULL)) / (2 * h);
        }
        double ma, mr;
        int bad;
        /* central differences in float64: truncation ~h^2 |f'''| ~ 1e-9, rounding ~eps/h ~ 1e-11 */
        max_err(gr, fd, F, &ma, &mr, 1e-7, 1e-6, &bad);
        lis_check(bad == 0, "closed-form gradient of loss %s (F=12, K=5, w=7) vs central differences (h=1e-5): max abs %.3g, "
                            "max rel %.3g (atol 1e-7, rtol 1e-6)", lis_cf_variant_name((lis_cf_variant)v), ma, mr);
        if (v == LIS_CF_V1) { /* by hand (spec 9.1): the logit part is the constant W_t - lambda W_o */
            double e = 0;
            for (int i = 0; i < F; i++) e = fmax(e, fabs(gr[i] - ((double)fw[3 * F + i] - 0.6 * fw[1 * F + i])));
            lis_check(e < 1e-12, "gradient of -z_t + 0.6 z_o is W_fc[t] - 0.6 W_fc[o] (max diff %.3g)", e);
        }
        lis_cf_loss_free(&lo);
    }
    /* v2 needs the original w */
    lis_cf_params p;
    lis_cf_params_default(&p, LIS_CF_V2);
    lis_cf_loss lo;
    lis_check(lis_cf_loss_init(&lo, &p, K, F, fw, fb, &L, r, NULL, 1, 3) == LIS_ERR_USAGE, "variant v2 without w_orig is refused");
    lis_link_free(&L);
}

/* ---- against PyTorch: the problem of tests/data/counterfactual/make_fixture.py */
typedef struct {
    lis_link L;
    float *r, *wo;
} torch_problem;

static void torch_problem_init(torch_problem *P) {
    int F = 768, wd = 512;
    double *tmpd = malloc(sizeof(double) * (size_t)F * wd);
    float *coef = malloc(sizeof(float) * (size_t)F * wd), icpt[512];
    lis_np_randn_seed(1, tmpd, (int64_t)F * wd);
    for (int i = 0; i < F * wd; i++) coef[i] = (float)(tmpd[i] * 0.02);
    lis_np_randn_seed(2, tmpd, wd);
    for (int i = 0; i < wd; i++) icpt[i] = (float)(tmpd[i] * 0.1);
    make_link(&P->L, F, wd, coef, icpt);
    P->r = malloc(sizeof(float) * F);
    P->wo = malloc(sizeof(float) * wd);
    lis_np_randn_seed(3, tmpd, F);
    for (int i = 0; i < F; i++) P->r[i] = (float)(fabs(tmpd[i]) * 0.3);
    lis_np_randn_seed(4, tmpd, wd);
    for (int i = 0; i < wd; i++) P->wo[i] = (float)(tmpd[i] * 0.5);
    free(tmpd);
    free(coef);
}

static void torch_problem_free(torch_problem *P) {
    lis_link_free(&P->L);
    free(P->r);
    free(P->wo);
}

static int load_f64(const char *name, lis_tensor *t) {
    char rel[256];
    snprintf(rel, sizeof rel, "counterfactual/%s", name);
    if (lis_npy_read(lis_test_data(rel), t) != LIS_OK || t->dtype != LIS_DTYPE_F64) {
        lis_check(0, "fixture %s (float64)", rel);
        return 0;
    }
    return 1;
}

static void test_torch(lis_render *rd) {
    torch_problem P;
    torch_problem_init(&P);
    const lis_resnet *cls = rd->cls;
    int F = 768;
    struct { lis_cf_variant v; int steps; } cases[] = {{LIS_CF_RELEASED, 5}, {LIS_CF_V2, 5}, {LIS_CF_V4, 25}, {LIS_CF_V5, 25}};
    double *s0 = malloc(sizeof(double) * F), *g = malloc(sizeof(double) * F);
    lis_np_rng rng;
    lis_np_seed(&rng, 0);
    for (int i = 0; i < F; i++) s0[i] = lis_np_double(&rng); /* = RandomState(0).random_sample(768) */
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const char *name = lis_cf_variant_name(cases[c].v);
        char f[64];
        lis_cf_params p;
        lis_cf_params_default(&p, cases[c].v);
        /* gradient at s0 vs autograd */
        lis_cf_loss lo;
        lis_tensor tg = {0}, tl = {0}, ts = {0};
        lis_check_ok(lis_cf_loss_init(&lo, &p, cls->num_classes, F, cls->fc_w, cls->fc_b, &P.L, P.r, P.wo, 2, 4), "loss init");
        lis_cf_loss_eval(&lo, s0, g);
        lis_cf_loss_free(&lo);
        snprintf(f, sizeof f, "%s_grad0.npy", name);
        if (load_f64(f, &tg)) {
            double ma, mr;
            int bad;
            max_err(g, tg.data, F, &ma, &mr, 1e-12, 1e-9, &bad);
            lis_check(bad == 0, "closed-form gradient of loss %s (F=768, K=6, w=512) vs torch autograd (float64): max abs %.3g, "
                                "max rel %.3g (atol 1e-12, rtol 1e-9)", name, ma, mr);
        }
        /* the loop: never stops early (eps < 0), steps = max_steps + 1 */
        p.stop = LIS_CF_STOP_PROB;
        p.eps = -1;
        p.max_steps = cases[c].steps - 1;
        lis_cf_result res;
        float *init = malloc(sizeof(float) * F);
        for (int i = 0; i < F; i++) init[i] = (float)s0[i];
        /* the default init draws the same s0 in float64; the file path (float32) is checked below */
        lis_status st = lis_cf_run(&p, rd, &P.L, P.r, P.wo, NULL, 2, 4, 1, &res);
        lis_check_ok(st, "lis_cf_run");
        snprintf(f, sizeof f, "%s_loss.npy", name);
        if (st == LIS_OK && load_f64(f, &tl)) {
            lis_check(res.steps == cases[c].steps && res.n_traj == cases[c].steps + 1, "%s: %d steps taken (max_steps %d)", name, res.steps,
                      p.max_steps);
            double ma, mr;
            int bad;
            max_err(res.loss + 1, tl.data, cases[c].steps, &ma, &mr, 1e-10, 1e-9, &bad);
            lis_check(bad == 0, "%s (%s): losses of %d steps vs torch: max abs %.3g, max rel %.3g (atol 1e-10, rtol 1e-9)", name,
                      p.opt == LIS_CF_ADAMW ? "AdamW" : "GD", cases[c].steps, ma, mr);
        }
        snprintf(f, sizeof f, "%s_s.npy", name);
        if (st == LIS_OK && load_f64(f, &ts)) {
            float *ref = malloc(sizeof(float) * F);
            for (int i = 0; i < F; i++) ref[i] = (float)((double *)ts.data)[i];
            snprintf(f, sizeof f, "%s: shift after %d steps vs torch", name, cases[c].steps);
            /* float64 on both sides; the trajectory is stored in float32 */
            lis_check_close(f, res.shift + (size_t)cases[c].steps * F, ref, F, 1e-6, 1e-6);
            free(ref);
        }
        if (st == LIS_OK && c == 0) {
            /* the trajectory's invariants */
            int ok = 1;
            for (int i = 0; i < F; i++) ok &= res.r[i] == P.r[i] && res.shift[i] == 0;
            for (int64_t k = 1; k < res.n_traj; k++)
                for (int i = 0; i < F; i++) {
                    float x = (float)((double)P.r[i] - (double)res.shift[(size_t)k * F + i]);
                    /* r_k was formed from the float64 shift: allow one float32 rounding */
                    ok &= fabsf(res.r[(size_t)k * F + i] - (x > 0 ? x : 0)) <= 1e-6f * (1 + fabsf(x));
                }
            lis_check(ok, "trajectory: row 0 is the unshifted r, rows k are ReLU(r - s_k)");
            float *w = malloc(sizeof(float) * (size_t)res.n_traj * 512);
            lis_link_apply(&P.L, res.n_traj, res.r, F, w, 512);
            lis_check(!memcmp(w, res.w, sizeof(float) * (size_t)res.n_traj * 512), "trajectory: w rows = link(r rows)");
            free(w);
            double sum = 0;
            for (int k = 0; k < res.K; k++) sum += res.probs_fc[k];
            lis_check(fabs(sum - 1) < 1e-6 && res.n_img == 1 && res.img_step[0] == res.n_traj - 1,
                      "prob rule: probabilities sum to 1 (%.9f); one image, of the last step", sum);
            lis_check(res.init_shift[0] == (float)s0[0] && res.init_shift[F - 1] == (float)s0[F - 1],
                      "initial shift = RandomState(0).random_sample(F)");
            /* the same run from the initial shift as an array (float32: close, not equal) */
            lis_cf_result r2;
            if (lis_cf_run(&p, rd, &P.L, P.r, P.wo, init, 2, 4, 1, &r2) == LIS_OK) {
                lis_check_close("released: trajectory from a float32 initial shift vs the drawn one", r2.shift + (size_t)res.steps * F,
                                res.shift + (size_t)res.steps * F, F, 1e-5, 1e-5);
                lis_cf_result_free(&r2);
            } else lis_check(0, "run from an initial shift");
        }
        free(init);
        lis_tensor_free(&tg); lis_tensor_free(&tl); lis_tensor_free(&ts);
        if (st == LIS_OK) lis_cf_result_free(&res);
    }
    free(s0);
    free(g);
    torch_problem_free(&P);
}

/* ---- the toy world: fit a link, flip a class */
typedef struct {
    int n;
    float *w, *r;
    int64_t *cls;
    int *pred;
    int *seed;
} toy_pairs;

/* w of RandomState(seed).randn(1, z_dim) for class c, psi 0.7 (as --seed S --class c) */
static void toy_w(lis_sgxl *g, int seed, int64_t c, float *w) {
    double zd[512];
    float z[512], *ws = malloc(sizeof(float) * (size_t)g->num_ws * g->w_dim);
    lis_np_randn_seed((uint32_t)seed, zd, g->z_dim);
    for (int d = 0; d < g->z_dim; d++) z[d] = (float)zd[d];
    lis_sgxl_mapping(g, z, &c, 1, 1.0f, 0, ws, NULL);
    lis_sgxl_truncate(g, &c, 1, 0.7f, ws);
    memcpy(w, ws, sizeof(float) * (size_t)g->w_dim);
    free(ws);
}

static int toy_pairs_make(lis_render *rd, int per, toy_pairs *tp) {
    lis_sgxl *g = rd->g;
    int K = rd->cls->num_classes, F = rd->cls->feat_dim, wd = g->w_dim, n = K * per;
    tp->n = n;
    tp->w = malloc(sizeof(float) * (size_t)n * wd);
    tp->r = malloc(sizeof(float) * (size_t)n * F);
    tp->cls = malloc(sizeof(int64_t) * (size_t)n);
    tp->pred = malloc(sizeof(int) * (size_t)n);
    tp->seed = malloc(sizeof(int) * (size_t)n);
    float *lg = malloc(sizeof(float) * (size_t)n * K);
    for (int c = 0; c < K; c++)
        for (int j = 0; j < per; j++) {
            int i = c * per + j;
            tp->cls[i] = c;
            tp->seed[i] = 1000 + j;
            toy_w(g, tp->seed[i], c, tp->w + (size_t)i * wd);
        }
    lis_status s = lis_render_w(rd, n, tp->w, NULL, NULL, tp->r, lg);
    for (int i = 0; s == LIS_OK && i < n; i++) tp->pred[i] = lis_argmax(lg + (size_t)i * K, K);
    free(lg);
    return lis_check_ok(s, "render the toy pairs");
}

static void toy_pairs_free(toy_pairs *tp) {
    free(tp->w); free(tp->r); free(tp->cls); free(tp->pred); free(tp->seed);
}

static void test_toy_world(lis_render *rd, lis_link *L, toy_pairs *tp, int *o_out, int *t_out, int *seed_out) {
    int K = rd->cls->num_classes, F = rd->cls->feat_dim, wd = rd->g->w_dim;
    lis_link_params lp;
    lis_link_params_default(&lp, LIS_LINK_RIDGE); /* as cli/demo/demo.cfg */
    lis_check_ok(lis_link_fit(L, &lp, tp->n, F, wd, tp->r, F, tp->w, wd, NULL), "fit a ridge link on the toy pairs");
    /* an original the classifier gets right, moved to the next class */
    int pick = -1;
    for (int i = 0; i < tp->n && pick < 0; i++)
        if (tp->pred[i] == tp->cls[i] && tp->cls[i] == 2) pick = i;
    for (int i = 0; i < tp->n && pick < 0; i++)
        if (tp->pred[i] == tp->cls[i]) pick = i;
    if (pick < 0) { lis_check(0, "a correctly classified toy sample"); return; }
    int o = (int)tp->cls[pick], t = (o + 1) % K;
    *o_out = o; *t_out = t; *seed_out = tp->seed[pick];
    lis_cf_params p;
    lis_cf_params_default(&p, LIS_CF_RELEASED);
    lis_cf_result res;
    lis_status st = lis_cf_run(&p, rd, L, tp->r + (size_t)pick * F, tp->w + (size_t)pick * wd, NULL, o, t, 1, &res);
    if (!lis_check_ok(st, "counterfactual on the toy world")) return;
    printf("     toy world: class %d -> %d (seed %d): %s after %d steps, final image class %d\n", o, t, tp->seed[pick],
           res.success ? "reached" : "not reached", res.steps, res.pred_final);
    lis_check(res.success && res.pred_final == t, "toy world, released loss: class %d -> %d flips (%d steps, last image class %d)", o, t,
              res.steps, res.pred_final);
    lis_check(res.n_img == res.n_traj && res.img_step[res.n_img - 1] == res.steps,
              "image rule: every step rendered and classified (%lld images, %lld rows)", (long long)res.n_img, (long long)res.n_traj);
    /* the last image, rendered again from scratch, is the target; the one before was not */
    float *lg = malloc(sizeof(float) * (size_t)K * 2);
    int64_t last = res.n_traj - 1;
    lis_render_w(rd, 1, res.w + (size_t)last * wd, NULL, NULL, NULL, lg);
    int before_ok = 1;
    if (last >= 1) {
        lis_render_w(rd, 1, res.w + (size_t)(last - 1) * wd, NULL, NULL, NULL, lg + K);
        before_ok = lis_argmax(lg + K, K) != t;
    }
    lis_check(lis_argmax(lg, K) == t && before_ok, "re-rendered: the last step's image is class %d, the previous one is not", t);
    free(lg);
    /* outputs */
    char dir[700];
    snprintf(dir, sizeof dir, "%s/toy", tmp);
    lis_cf_write_opts wo = {8, 10, 5, NULL, 0, 0, "test", NULL};
    lis_check_ok(lis_cf_write(dir, &p, &wo, rd, L, tp->r + (size_t)pick * F, &res), "write the trajectory");
    const char *files[] = {"strip.png", "counterfactual.png", "interp.png", "shift.npy", "r.npy", "w.npy", "probs_fc.npy", "loss.npy",
                           "image_steps.npy", "probs_image.npy", "init_shift.npy", "effective_shift.npy", "r_cycled.npy",
                           "w_cf.npy", "interp_alpha.npy", "interp_w.npy", "interp_probs.npy", "units.csv", "frames.npy",
                           "result.json"};
    int all = 1;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char f[800];
        snprintf(f, sizeof f, "%s/%s", dir, files[i]);
        if (!lis_file_exists(f)) { all = 0; printf("    missing %s\n", files[i]); }
    }
    lis_check(all, "all %zu output files written", sizeof files / sizeof *files);
    float *d = malloc(sizeof(float) * (size_t)F);
    int units[10];
    lis_cf_effective_shift(&res, tp->r + (size_t)pick * F, d, 10, units);
    int sorted = 1;
    for (int i = 1; i < 10; i++) sorted &= fabsf(d[units[i - 1]]) >= fabsf(d[units[i]]);
    for (int i = 0, u; i < F; i++) {
        int in = 0;
        for (u = 0; u < 10; u++) in |= units[u] == i;
        if (!in) sorted &= fabsf(d[i]) <= fabsf(d[units[9]]);
    }
    lis_check(sorted, "the 10 units that moved most are the 10 largest |r - ReLU(r - s)|, in order");
    free(d);
    lis_cf_result_free(&res);
}

static void test_command(lis_link *L, int o, int t, int seed) {
    char lpath[700], d1[700], d2[700], img[800], init[800], ss[32], so[16], st[16];
    snprintf(lpath, sizeof lpath, "%s/link.safetensors", tmp);
    snprintf(d1, sizeof d1, "%s/cmd_seed", tmp);
    snprintf(d2, sizeof d2, "%s/cmd_image", tmp);
    if (!lis_check_ok(lis_link_save(L, lpath, "test_counterfactual"), "save the link")) return;
    snprintf(ss, sizeof ss, "%d", seed);
    snprintf(so, sizeof so, "%d", o);
    snprintf(st, sizeof st, "%d", t);
    char *a1[] = {"counterfactual", "--generator", GEN, "--classifier", CLS, "--link", lpath, "--seed", ss, "--class", so, "--target", st,
                  "-o", d1, "--quiet", NULL};
    int rc = lis_test_lisrun(a1);
    lis_check(rc == 0, "lis-run counterfactual --seed %d --class %d --target %d exits 0 (rc %d)", seed, o, t, rc);
    /* from the original's PNG and the first run's initial shift: the same trajectory */
    snprintf(img, sizeof img, "%s/original.png", d1);
    snprintf(init, sizeof init, "%s/init_shift.npy", d1);
    char *a2[] = {"counterfactual", "--generator", GEN, "--classifier", CLS, "--link", lpath, "--image", img, "--target", st,
                  "--init-shift", init, "-o", d2, "--quiet", NULL};
    rc = lis_test_lisrun(a2);
    lis_check(rc == 0, "lis-run counterfactual --image original.png --init-shift init_shift.npy exits 0 (rc %d)", rc);
    char f1[800], f2[800];
    snprintf(f1, sizeof f1, "%s/w.npy", d1);
    snprintf(f2, sizeof f2, "%s/w.npy", d2);
    lis_tensor t1 = {0}, t2 = {0};
    int same = lis_npy_read(f1, &t1) == LIS_OK && lis_npy_read(f2, &t2) == LIS_OK && t1.shape[0] == t2.shape[0];
    lis_check(same, "the image-based run takes as many steps as the seed-based one (%lld)", (long long)t1.shape[0] - 1);
    /* the file holds the shift in float32 (the first run drew it in float64) */
    if (same) lis_check_close("image-based vs seed-based trajectory: w of every step", t2.data, t1.data, lis_tensor_numel(&t1), 1e-4, 1e-4);
    lis_tensor_free(&t1);
    lis_tensor_free(&t2);
    snprintf(f1, sizeof f1, "%s/r.npy", d1);
    snprintf(f2, sizeof f2, "%s/r.npy", d2);
    if (lis_npy_read(f1, &t1) == LIS_OK && lis_npy_read(f2, &t2) == LIS_OK)
        /* the same uint8 image through the same preprocessing and classifier (batch 1 vs a batch) */
        lis_check_close("r of original.png (--image) vs r of the rendered seed (--seed)", t2.data, t1.data, t1.shape[1], 1e-6, 1e-6);
    else lis_check(0, "r.npy of both runs");
    lis_tensor_free(&t1);
    lis_tensor_free(&t2);
    /* the original's class is the classifier's answer when --class is absent; json names it */
    snprintf(f2, sizeof f2, "%s/result.json", d2);
    char *text = NULL;
    size_t len;
    lis_json *j = lis_read_file(f2, &text, &len) == LIS_OK ? lis_json_parse(text, len) : NULL;
    const lis_json *jo = j ? lis_json_get(j, "origin") : NULL, *js = j ? lis_json_get(j, "success") : NULL;
    lis_check(jo && jo->num == o && js && js->num == 1, "result.json: origin %d, success", o);
    lis_json_free(j);
    free(text);
    /* usage errors */
    char *a3[] = {"counterfactual", "--generator", GEN, "--classifier", CLS, "--link", lpath, "--seed", ss, "--target", st, "-o", d1, NULL};
    lis_check(lis_test_lisrun(a3) == 2, "--seed without --class: usage error (2)");
    char *a4[] = {"counterfactual", "--generator", GEN, "--classifier", CLS, "--link", lpath, "--seed", ss, "--class", so, "--target", st,
                  "-o", d1, "--variant", "v9", NULL};
    lis_check(lis_test_lisrun(a4) == 2, "--variant v9: usage error (2)");
    char *a5[] = {"counterfactual", "--generator", GEN, "--classifier", CLS, "--link", lpath, "--image", img, "--target", st, "-o", d2,
                  "--variant", "v2", NULL};
    lis_check(lis_test_lisrun(a5) == 2, "--variant v2 with --image and no --w: usage error (2)");
    /* a run that cannot finish in 0 + 1 steps reports failure (exit 1) but writes the trajectory */
    char *a6[] = {"counterfactual", "--generator", GEN, "--classifier", CLS, "--link", lpath, "--seed", ss, "--class", so, "--target", st,
                  "-o", d2, "--max-steps", "0", "--lr", "1e-6", "--quiet", NULL};
    rc = lis_test_lisrun(a6);
    snprintf(f2, sizeof f2, "%s/strip.png", d2);
    lis_check(rc == 1 && lis_file_exists(f2), "a target not reached within --max-steps: exit 1, outputs written (rc %d)", rc);
}

static int sh(const char *fmt, ...) LIS_PRINTF(1, 2);
static int sh(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int files_equal(const char *a, const char *b) {
    char *x = NULL, *y = NULL;
    size_t lx = 0, ly = 0;
    int eq = lis_read_file(a, &x, &lx) == LIS_OK && lis_read_file(b, &y, &ly) == LIS_OK && lx == ly && !memcmp(x, y, lx);
    free(x);
    free(y);
    return eq;
}

/* the two stages through `lis-run pipeline.cfg` (the binary the user runs) */
static void test_pipeline_stages(void) {
    if (!lis_file_exists(lis_test_lisrun_path())) { lis_test_skip("lis-run not built"); return; }
    const char *set = "--set sample.samples_per_class=8 --set run.stages=sample,pairs,link,feasibility,counterfactual,report "
                      "--set feasibility.repeats=3 --set feasibility.samples_per_class=6 --set 'counterfactual.pairs=0>1, 2>3, 4>0'";
    int rc = sh("%s cli/demo/demo.cfg --out %s/run %s > %s/run.log 2>&1", lis_test_lisrun_path(), tmp, set, tmp);
    lis_check(rc == 0, "pipeline with feasibility and counterfactual exits 0 (rc %d, log %s/run.log)", rc, tmp);
    const char *must[] = {"feasibility/repeats.csv", "feasibility/summary.csv", "feasibility/metrics.npy", "feasibility/draws.npy",
                          "feasibility/centroid_corr_w.npy", "counterfactual/summary.csv",
                          "counterfactual/class_0_to_1_sample_0/strip.png", "counterfactual/class_2_to_3_sample_0/w.npy",
                          "counterfactual/class_4_to_0_sample_0/result.json", "counterfactual/class_4_to_0_sample_0/done",
                          "stages/feasibility.done", "stages/counterfactual.done"};
    for (size_t i = 0; i < sizeof must / sizeof *must; i++) {
        char f[800];
        snprintf(f, sizeof f, "%s/run/%s", tmp, must[i]);
        lis_check(lis_file_exists(f), "run directory has %s", must[i]);
    }
    lis_check(sh("grep -q 'Feasibility of the linking' %s/run/report/index.html && grep -q 'ari_w</code>' "
                 "%s/run/report/index.html && grep -q 'counterfactual/class_0_to_1_sample_0/strip.png' %s/run/report/index.html "
                 "&& grep -q '<polyline' %s/run/report/index.html", tmp, tmp, tmp, tmp) == 0,
              "report: feasibility table and box plot, counterfactual strips and probability plots");
    char f[800];
    snprintf(f, sizeof f, "%s/run/counterfactual/summary.csv", tmp);
    int lines = sh("test $(wc -l < %s) -eq 4", f);
    lis_check(lines == 0, "counterfactual/summary.csv: a header and 3 trajectories");
    rc = sh("%s cli/demo/demo.cfg --out %s/run %s > %s/run2.log 2>&1 && grep -q 'feasibility: done earlier' %s/run2.log && "
            "grep -q 'counterfactual: done earlier' %s/run2.log", lis_test_lisrun_path(), tmp, set, tmp, tmp, tmp);
    lis_check(rc == 0, "a finished run is not redone");
    /* killed while the trajectories are computed: resumes to the same files */
    sh("cp -r %s/run %s/killed && rm -rf %s/killed/counterfactual/class_2_to_3_sample_0 %s/killed/counterfactual/class_4_to_0_sample_0/done "
       "%s/killed/counterfactual/summary.csv %s/killed/stages/counterfactual.done %s/killed/stages/report.done",
       tmp, tmp, tmp, tmp, tmp, tmp, tmp);
    rc = sh("%s cli/demo/demo.cfg --out %s/killed %s > %s/run3.log 2>&1", lis_test_lisrun_path(), tmp, set, tmp);
    int same = 1;
    const char *cmp[] = {"counterfactual/summary.csv", "counterfactual/class_2_to_3_sample_0/w.npy",
                         "counterfactual/class_2_to_3_sample_0/result.json", "counterfactual/class_4_to_0_sample_0/shift.npy",
                         "counterfactual/class_4_to_0_sample_0/strip.png"};
    for (size_t i = 0; i < sizeof cmp / sizeof *cmp; i++) {
        char a[800], b[800];
        snprintf(a, sizeof a, "%s/run/%s", tmp, cmp[i]);
        snprintf(b, sizeof b, "%s/killed/%s", tmp, cmp[i]);
        if (!files_equal(a, b)) { same = 0; printf("    differs: %s\n", cmp[i]); }
    }
    lis_check(rc == 0 && same, "an interrupted counterfactual stage resumes to identical files (rc %d)", rc);
    rc = sh("%s cli/demo/demo.cfg --out %s/bad %s --set counterfactual.pairs=0-1 > %s/bad.log 2>&1", lis_test_lisrun_path(), tmp, set, tmp);
    lis_check(rc == 2 && sh("grep -q 'counterfactual. pairs' %s/bad.log", tmp) == 0, "a bad [counterfactual] pairs is a usage error (rc %d)", rc);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "%s/lis-test-counterfactual-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    lis_mkdirs(tmp);
    test_gradient_fd();
    if (!lis_file_exists(GEN) || !lis_file_exists(CLS)) {
        lis_test_skip("cli/demo models not found");
        return lis_test_finish();
    }
    lis_sgxl g;
    lis_resnet cls;
    lis_render rd;
    if (!lis_check_ok(lis_sgxl_load(&g, GEN), GEN)) return lis_test_finish();
    if (!lis_check_ok(lis_resnet_load_file(&cls, CLS), CLS)) return lis_test_finish();
    if (!lis_check_ok(lis_render_init(&rd, &g, &cls, 16), "render init")) return lis_test_finish();
    test_torch(&rd);
    toy_pairs tp = {0};
    lis_link L = {0};
    int o = -1, t = -1, seed = -1;
    if (toy_pairs_make(&rd, 16, &tp)) test_toy_world(&rd, &L, &tp, &o, &t, &seed);
    if (o >= 0) test_command(&L, o, t, seed);
    test_pipeline_stages();
    toy_pairs_free(&tp);
    lis_link_free(&L);
    lis_render_free(&rd);
    lis_resnet_free(&cls);
    lis_sgxl_free(&g);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return lis_test_finish();
}
