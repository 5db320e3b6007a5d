/* test_fewshot.c — the segmentation head and its feature path.
 *
 *  1. fewshot_seg bundle (tests/data/fewshot_seg, copied from refs/fewshot_seg: PyTorch
 *     1.13 FewShotCNN S and M on six random maps of 16..148 px resized to 128):
 *     - the nearest-resize concatenation is bit-exact (a pure gather);
 *     - logits within 1e-5 * max(1, max|ref|) (the bundle's tolerance; f32-vs-f64 noise
 *       is ~1e-6 relative), by the tap path, by the materialised input and by the oracle;
 *     - labels identical wherever the reference top-1/top-2 gap exceeds twice that;
 *     - the original-format .pth (torch.save of the state dict) through `convert` gives
 *       the same logits.
 *  2. The tap convolution and its weight gradient, _cpu against _ref, on edge geometries
 *     (cropped windows, maps larger and smaller than the output, dilation 2, 1x1 maps):
 *     relative max error 1e-5 (float32 sums in a different order).
 *  3. Training: analytic gradients against central differences (float32, step 3e-3,
 *     agreement within 3% of the gradient's scale); the loss on a fixed toy set falls;
 *     two runs give bit-identical weights (deterministic); weight file round trip.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/nearest_concat.h"
#include "nets/fewshot_cnn.h"
#include "nets/toyworld.h"
#include "runtime/safetensors.h"
#include "tests/harness.h"

static unsigned long long rs = 88172645463325252ULL;
static float frand(void) {
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (float)((rs >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

static void check_logits(const char *what, const float *got, const float *ref, int64_t n, double refmax) {
    lis_check_close(what, got, ref, n, 1e-5 * fmax(1.0, refmax), 0);
}

static void check_labels(const char *what, const float *logits, const float *ref_logits, const int64_t *ref_labels, int C,
                         int64_t npx, double tol) {
    uint8_t *lab = malloc((size_t)npx);
    lis_fewshot_argmax(logits, C, npx, lab);
    int64_t bad = 0, checked = 0;
    for (int64_t p = 0; p < npx; p++) {
        float b1 = -INFINITY, b2 = -INFINITY;
        for (int c = 0; c < C; c++) {
            float v = ref_logits[(size_t)c * npx + p];
            if (v > b1) { b2 = b1; b1 = v; } else if (v > b2) b2 = v;
        }
        if (b1 - b2 <= 2 * tol) continue;
        checked++;
        bad += lab[p] != ref_labels[p];
    }
    lis_check(bad == 0, "%s: labels identical on %lld of %lld pixels with top-1/top-2 gap > %.2g (%lld differ)", what,
              (long long)checked, (long long)npx, 2 * tol, (long long)bad);
    free(lab);
}

static void test_bundle(void) {
    lis_safetensors io;
    if (lis_test_open(&io, "fewshot_seg/io.safetensors") != LIS_OK) return;
    const int S = 128, NC = 10;
    lis_nc_params nc = {.n_maps = 6, .out = S};
    const float *maps[6];
    for (int m = 0; m < 6; m++) {
        char name[16];
        snprintf(name, sizeof name, "feat%d", m);
        const lis_st_entry *e = lis_st_find(&io, name);
        if (!e) { lis_check(0, "bundle: %s missing", name); return; }
        nc.C[m] = (int)e->t.shape[1];
        nc.size[m] = (int)e->t.shape[2];
        nc.off[m] = 0;
        nc.len[m] = nc.size[m];
        maps[m] = e->t.data;
    }
    int64_t n_in;
    const float *input = lis_test_ref(&io, "input", &n_in);
    float *x = malloc(sizeof(float) * (size_t)n_in);
    lis_nearest_concat_ref(&nc, maps, x);
    lis_check_close("nearest_concat_ref == input (bit-exact)", x, input, n_in, 0, 0);
    lis_nearest_concat_cpu(&nc, maps, x);
    lis_check_close("nearest_concat_cpu == input (bit-exact)", x, input, n_in, 0, 0);
    const char *sizes[2] = {"S", "M"};
    for (int k = 0; k < 2; k++) {
        char path[64], name[160];
        snprintf(path, sizeof path, "fewshot_seg/weights_%s.safetensors", sizes[k]);
        lis_fewshot net;
        if (!lis_check_ok(lis_fewshot_load(&net, lis_test_data(path)), path)) continue;
        lis_check(net.size == sizes[k][0] && net.in_ch == 40 && net.n_class == NC, "%s: size %c, in_ch %d, n_class %d", path,
                  net.size, net.in_ch, net.n_class);
        snprintf(name, sizeof name, "logits_%s", sizes[k]);
        int64_t nl;
        const float *ref = lis_test_ref(&io, name, &nl);
        snprintf(name, sizeof name, "label_%s", sizes[k]);
        const lis_st_entry *le = lis_st_find(&io, name);
        double refmax = lis_max_abs(ref, nl), tol = 1e-5 * fmax(1.0, refmax);
        float *lg = malloc(sizeof(float) * (size_t)nl);
        /* tap path */
        lis_check_ok(lis_fewshot_plan(&net, &nc), "plan (6 taps)");
        lis_check_ok(lis_fewshot_forward(&net, maps, lg), "forward (taps)");
        snprintf(name, sizeof name, "FewShotCNN-%s logits (taps)", sizes[k]);
        check_logits(name, lg, ref, nl, refmax);
        snprintf(name, sizeof name, "FewShotCNN-%s labels (taps)", sizes[k]);
        check_labels(name, lg, ref, le->t.data, NC, (int64_t)S * S, tol);
        /* materialised input: one map of 40 channels at 128 */
        lis_nc_params one = {.n_maps = 1, .out = S, .C = {40}, .size = {S}, .off = {0}, .len = {S}};
        const float *xin = input;
        lis_check_ok(lis_fewshot_plan(&net, &one), "plan (materialised)");
        lis_check_ok(lis_fewshot_forward(&net, &xin, lg), "forward (materialised)");
        snprintf(name, sizeof name, "FewShotCNN-%s logits (materialised input)", sizes[k]);
        check_logits(name, lg, ref, nl, refmax);
        /* oracle */
        if (!lis_test_quick()) {
            lis_check_ok(lis_fewshot_forward_ref(&net, &nc, maps, lg), "forward_ref");
            snprintf(name, sizeof name, "FewShotCNN-%s logits (reference loops)", sizes[k]);
            check_logits(name, lg, ref, nl, refmax);
        }
        /* the original .pth through convert */
        char conv[512], pth[64];
        snprintf(pth, sizeof pth, "fewshot_seg/fewshot_%s.pth", sizes[k]);
        if (lis_check_ok(lis_test_convert(pth, NULL, NULL, conv, sizeof conv), "convert fewshot .pth")) {
            lis_fewshot n2;
            if (lis_check_ok(lis_fewshot_load(&n2, conv), "load converted .pth")) {
                lis_check_ok(lis_fewshot_plan(&n2, &nc), "plan");
                lis_check_ok(lis_fewshot_forward(&n2, maps, lg), "forward");
                snprintf(name, sizeof name, "FewShotCNN-%s logits (from %s via convert)", sizes[k], pth);
                check_logits(name, lg, ref, nl, refmax);
                lis_fewshot_free(&n2);
            }
            unlink(conv);
        }
        free(lg);
        lis_fewshot_free(&net);
    }
    free(x);
    lis_st_close(&io);
}

/* _cpu == _ref for the tap conv and its weight gradient on edge geometries */
static void test_tapconv_shapes(void) {
    struct { int n, out, K, dil; int C[4], size[4], off[4], len[4]; } cases[] = {
        {3, 16, 8, 1, {3, 2, 5}, {24, 40, 12}, {4, 4, 0}, {16, 32, 12}},  /* cropped margins: up, down, up */
        {2, 13, 6, 2, {4, 1}, {7, 30}, {0, 0}, {7, 30}},                  /* odd sizes, dilation 2 */
        {2, 8, 7, 1, {1, 3}, {1, 8}, {0, 0}, {1, 8}},                     /* a 1x1 map, an identity map */
        {1, 5, 3, 4, {2}, {5}, {0}, {5}},                                 /* dilation > half the size */
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        lis_nc_params p = {.n_maps = cases[c].n, .out = cases[c].out, .K = cases[c].K, .dil = cases[c].dil,
                           .act = LIS_ACT_LRELU, .slope = 0.2f};
        float *maps[4];
        int in_ch = 0;
        for (int m = 0; m < p.n_maps; m++) {
            p.C[m] = cases[c].C[m]; p.size[m] = cases[c].size[m]; p.off[m] = cases[c].off[m]; p.len[m] = cases[c].len[m];
            in_ch += p.C[m];
            size_t nm = (size_t)p.C[m] * p.size[m] * p.size[m];
            maps[m] = malloc(sizeof(float) * nm);
            for (size_t i = 0; i < nm; i++) maps[m][i] = frand();
        }
        size_t nw = (size_t)p.K * in_ch * 9, ny = (size_t)p.K * p.out * p.out;
        float *w = malloc(sizeof(float) * nw), *b = malloc(sizeof(float) * p.K), *y0 = malloc(sizeof(float) * ny),
              *y1 = malloc(sizeof(float) * ny), *dy = malloc(sizeof(float) * ny), *g0 = calloc(nw, sizeof(float)),
              *g1 = calloc(nw, sizeof(float));
        for (size_t i = 0; i < nw; i++) w[i] = frand();
        for (int i = 0; i < p.K; i++) b[i] = frand();
        for (size_t i = 0; i < ny; i++) dy[i] = frand();
        char name[160];
        snprintf(name, sizeof name, "tapconv_cpu vs _ref (maps=%d,out=%d,K=%d,dil=%d,case %zu)", p.n_maps, p.out, p.K, p.dil, c);
        lis_tapconv_ref(&p, (const float *const *)maps, w, b, y0);
        lis_tapconv_cpu(&p, (const float *const *)maps, w, b, y1);
        lis_check_close(name, y1, y0, (int64_t)ny, 1e-5 * fmax(1, lis_max_abs(y0, (int64_t)ny)), 0);
        lis_tapconv_backward_w_ref(&p, (const float *const *)maps, dy, g0);
        void *ws = lis_alloc_aligned(lis_tapconv_workspace_size(&p), "ws");
        lis_tapconv_backward_w_cpu(&p, (const float *const *)maps, dy, g1, ws);
        snprintf(name, sizeof name, "tapconv_backward_w_cpu vs _ref (case %zu)", c);
        lis_check_close(name, g1, g0, (int64_t)nw, 1e-5 * fmax(1, lis_max_abs(g0, (int64_t)nw)), 0);
        free(ws); free(w); free(b); free(y0); free(y1); free(dy); free(g0); free(g1);
        for (int m = 0; m < p.n_maps; m++) free(maps[m]);
    }
}

/* a toy training set: the renderer's scenes as two maps (RGB at 32 and at 16) and their
 * exact labels at 32 */
#define TS 32
static void toy_set(int n, float (*m32)[3 * TS * TS], float (*m16)[3 * 16 * 16], uint8_t (*lab)[TS * TS]) {
    for (int i = 0; i < n; i++) {
        double z[64];
        for (int k = 0; k < 64; k++) z[k] = frand() * 1.7;
        double par[LIS_TOY_N_PARAMS];
        lis_toy_params_from_z(z, 64, par);
        uint8_t rgb[TS * TS * 3];
        lis_toy_render(par, i % LIS_TOY_N_CLASSES, TS, rgb, lab[i], NULL);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < TS * TS; p++) m32[i][c * TS * TS + p] = rgb[p * 3 + c] / 127.5f - 1;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++) m16[i][(c * 16 + y) * 16 + x] = m32[i][(c * TS + 2 * y) * TS + 2 * x];
    }
}

static lis_nc_params toy_nc(void) {
    lis_nc_params nc = {.n_maps = 2, .out = TS, .C = {3, 3}, .size = {TS, 16}, .off = {0, 0}, .len = {TS, 16}};
    return nc;
}

static void test_gradients(void) {
    lis_fewshot net;
    if (!lis_check_ok(lis_fewshot_init(&net, 'S', 6, 3, TS, 7), "init")) return;
    static float m32[1][3 * TS * TS], m16[1][3 * 16 * 16];
    static uint8_t lab[1][TS * TS];
    toy_set(1, m32, m16, lab);
    lis_nc_params nc = toy_nc();
    lis_fewshot_plan(&net, &nc);
    lis_fewshot_trainer t;
    lis_fewshot_train_params tp;
    lis_fewshot_train_params_default(&tp);
    tp.lr = 0; /* no update: we only want the gradient */
    tp.weight_decay = 0;
    if (!lis_check_ok(lis_fewshot_trainer_init(&t, &net, &tp), "trainer")) return;
    const float *maps[2] = {m32[0], m16[0]};
    double loss;
    lis_fewshot_train_step(&net, &t, maps, lab[0], &loss);
    float *logits = malloc(sizeof(float) * 3 * TS * TS);
    double worst = 0;
    int checked = 0;
    for (int i = 0; i < net.n_conv; i++) {
        size_t nw = (size_t)net.ch[i + 1] * net.ch[i] * 9;
        size_t picks[4] = {0, nw / 3, nw / 2 + 1, nw - 1};
        double scale = 0;
        for (size_t q = 0; q < nw; q++) scale = fmax(scale, fabs(t.grad[(net.w[i] - net.params) + q]));
        for (int k = 0; k < 5; k++) {
            float *pp = k < 4 ? &net.w[i][picks[k]] : &net.b[i][0];
            float g = t.grad[pp - net.params], old = *pp;
            double h = 3e-3, lp, lm;
            *pp = old + (float)h; net.weights_version++;
            lis_fewshot_forward(&net, maps, logits);
            lp = lis_fewshot_ce(logits, lab[0], 3, TS * TS, NULL);
            *pp = old - (float)h; net.weights_version++;
            lis_fewshot_forward(&net, maps, logits);
            lm = lis_fewshot_ce(logits, lab[0], 3, TS * TS, NULL);
            *pp = old; net.weights_version++;
            double fd = (lp - lm) / (2 * h);
            worst = fmax(worst, fabs(fd - g) / fmax(scale, 1e-6));
            if (getenv("LIS_GRAD_DEBUG")) printf("layer %d k %d fd %.6g an %.6g scale %.3g\n", i, k, fd, g, scale);
            checked++;
        }
    }
    lis_check(worst < 3e-2, "gradients vs central differences: %d parameters, max |fd - analytic| / max|grad| = %.3g (tol 3e-2)",
              checked, worst);
    free(logits);
    lis_fewshot_trainer_free(&t);
    lis_fewshot_free(&net);
}

/* trains n_epochs over the toy set; returns the first and last epoch's mean loss */
static void train_toy(lis_fewshot *net, int n, float (*m32)[3 * TS * TS], float (*m16)[3 * 16 * 16], uint8_t (*lab)[TS * TS],
                      int epochs, double *first, double *last) {
    lis_nc_params nc = toy_nc();
    lis_fewshot_plan(net, &nc);
    lis_fewshot_trainer t;
    lis_fewshot_trainer_init(&t, net, NULL);
    for (int e = 0; e < epochs; e++) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            const float *maps[2] = {m32[i], m16[i]};
            double l;
            lis_fewshot_train_step(net, &t, maps, lab[i], &l);
            sum += l;
        }
        if (e == 0) *first = sum / n;
        *last = sum / n;
        t.epoch++;
    }
    lis_fewshot_trainer_free(&t);
}

static void test_training(void) {
    enum { N = 6 };
    static float m32[N][3 * TS * TS], m16[N][3 * 16 * 16];
    static uint8_t lab[N][TS * TS];
    toy_set(N, m32, m16, lab);
    lis_fewshot a, b;
    lis_fewshot_init(&a, 'S', 6, 3, TS, 1);
    lis_fewshot_init(&b, 'S', 6, 3, TS, 1);
    double f1, l1, f2, l2;
    int epochs = lis_test_quick() ? 6 : 15;
    train_toy(&a, N, m32, m16, lab, epochs, &f1, &l1);
    train_toy(&b, N, m32, m16, lab, epochs, &f2, &l2);
    lis_check(l1 < 0.7 * f1, "training on %d toy scenes: mean loss %.4f (epoch 1) -> %.4f (epoch %d), at least 30%% lower", N, f1,
              l1, epochs);
    lis_check(a.n_params == b.n_params && !memcmp(a.params, b.params, sizeof(float) * a.n_params) && l1 == l2,
              "training is deterministic: two runs give bit-identical weights and losses");
    /* save / load round trip */
    char path[] = "/tmp/lis_fewshot_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    a.registration = LIS_REG_CROPPED;
    a.n_taps = 2;
    snprintf(a.tap_names[0], LIS_FEWSHOT_NAME, "rgb32");
    snprintf(a.tap_names[1], LIS_FEWSHOT_NAME, "rgb16");
    if (lis_check_ok(lis_fewshot_save(&a, path, "test"), "save")) {
        lis_fewshot c;
        if (lis_check_ok(lis_fewshot_load(&c, path), "load")) {
            lis_check(c.n_params == a.n_params && !memcmp(c.params, a.params, sizeof(float) * a.n_params) &&
                          c.registration == LIS_REG_CROPPED && c.n_taps == 2 && !strcmp(c.tap_names[1], "rgb16") &&
                          c.img_size == TS,
                      "weight file round trip: weights, registration, tap layers and img_size");
            lis_fewshot_free(&c);
        }
    }
    unlink(path);
    lis_fewshot_free(&a);
    lis_fewshot_free(&b);
}

int main(void) {
    test_bundle();
    test_tapconv_shapes();
    test_gradients();
    test_training();
    return lis_test_finish();
}
