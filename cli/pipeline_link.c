/* pipeline_link.c — stage `link` (spec/pipeline.md 3): fit r -> w on the pairs, score it
 * on held-out pairs, and check the cycle image -> r -> link -> G -> classifier.
 *
 * Split: per class, the last ceil(holdout * n_c) pairs (in draw order) are held out;
 * deterministic, so reruns and shards agree. Outputs: link/link.safetensors,
 * link/link_report.csv (one row: model, sizes, rank, train/test MSE and R2, cycle
 * metrics), link/cycle_examples.png (top: G(w), bottom: G(link(r)) for held-out pairs).
 * Cycle metrics over up to cycle_samples held-out pairs: Pearson correlation of r and the
 * re-encoded r~ (mean over samples), relative L2 error |r - r~| / |r|, the fraction whose
 * re-rendered image is classified as the pair's class, and the mean absolute uint8
 * difference between G(w) and G(link(r)).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pipeline.h"
#include "runtime/png_io.h"

static double pearson(const float *a, const float *b, int n) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
    ma /= n;
    mb /= n;
    for (int i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

lis_status lis_stage_link(lis_pipe *p) {
    lis_pipe_cfg *c = &p->c;
    LIS_TRY(lis_pipe_models(p));
    lis_tensor tw = {0}, tr = {0}, tc = {0};
    lis_status s = lis_pipe_load(p, "pairs/w.npy", &tw);
    if (s == LIS_OK) s = lis_pipe_load(p, "pairs/r.npy", &tr);
    if (s == LIS_OK) s = lis_pipe_load(p, "pairs/classes.npy", &tc);
    if (s != LIS_OK) { lis_tensor_free(&tw); lis_tensor_free(&tr); lis_tensor_free(&tc); return s; }
    int64_t N = tw.shape[0];
    int wd = (int)tw.shape[1], F = (int)tr.shape[1], K = p->cls.num_classes;
    const float *W = tw.data, *R = tr.data;
    const int64_t *C = tc.data;
    /* split */
    int *test = lis_calloc((size_t)N, sizeof(int), "split");
    int64_t ntest = 0;
    for (int64_t i = 0; test && i < N;) {
        int64_t j = i;
        while (j < N && C[j] == C[i]) j++;
        int64_t nh = (int64_t)ceil(c->holdout * (double)(j - i));
        if (nh >= j - i) nh = j - i - 1; /* keep at least one training pair per class */
        for (int64_t k = j - nh; k < j; k++) test[k] = 1, ntest++;
        i = j;
    }
    int64_t ntrain = N - ntest;
    float *Xtr = lis_malloc(sizeof(float) * (size_t)(ntrain ? ntrain : 1) * F, "train r");
    float *Ytr = lis_malloc(sizeof(float) * (size_t)(ntrain ? ntrain : 1) * wd, "train w");
    float *Xte = lis_malloc(sizeof(float) * (size_t)(ntest ? ntest : 1) * F, "test r");
    float *Yte = lis_malloc(sizeof(float) * (size_t)(ntest ? ntest : 1) * wd, "test w");
    int64_t *Cte = lis_malloc(sizeof(int64_t) * (size_t)(ntest ? ntest : 1), "test classes");
    float *P = lis_malloc(sizeof(float) * (size_t)(N ? N : 1) * wd, "predictions");
    if (!test || !Xtr || !Ytr || !Xte || !Yte || !Cte || !P) s = LIS_ERR;
    for (int64_t i = 0, a = 0, b = 0; s == LIS_OK && i < N; i++) {
        if (test[i]) {
            memcpy(Xte + (size_t)b * F, R + (size_t)i * F, sizeof(float) * (size_t)F);
            memcpy(Yte + (size_t)b * wd, W + (size_t)i * wd, sizeof(float) * (size_t)wd);
            Cte[b++] = C[i];
        } else {
            memcpy(Xtr + (size_t)a * F, R + (size_t)i * F, sizeof(float) * (size_t)F);
            memcpy(Ytr + (size_t)a * wd, W + (size_t)i * wd, sizeof(float) * (size_t)wd);
            a++;
        }
    }
    if (s == LIS_OK && ntrain < 2) s = lis_err_set("link: only %lld training pairs; raise [sample] samples_per_class", (long long)ntrain);
    lis_link L = {0};
    lis_link_fit_info info = {0};
    double trmse = NAN, trr2 = NAN, temse = NAN, ter2 = NAN;
    if (s == LIS_OK) s = lis_link_fit(&L, &c->link, ntrain, F, wd, Xtr, F, Ytr, wd, &info);
    if (s == LIS_OK) s = lis_link_apply(&L, ntrain, Xtr, F, P, wd);
    if (s == LIS_OK) lis_link_score(ntrain, wd, Ytr, wd, P, wd, &trmse, &trr2);
    if (s == LIS_OK && ntest) {
        s = lis_link_apply(&L, ntest, Xte, F, P, wd);
        if (s == LIS_OK) lis_link_score(ntest, wd, Yte, wd, P, wd, &temse, &ter2);
    }
    if (s == LIS_OK) s = lis_pipe_mkdir(p, "link");
    char origin[512];
    snprintf(origin, sizeof origin, "lis-run pipeline %s: %lld training pairs", p->cfg_path, (long long)ntrain);
    char *lpath = lis_pipe_path(p, "link/link.safetensors");
    if (s == LIS_OK) s = lpath ? lis_link_save(&L, lpath, origin) : LIS_ERR;
    free(lpath);
    /* cycle consistency on the first held-out pairs */
    int nc = (int)(ntest < c->cycle_samples ? ntest : c->cycle_samples);
    double corr = 0, relerr = 0, agree = 0, mae = 0;
    int R_ = p->g.img_resolution, Ch = p->g.img_channels;
    size_t isz = (size_t)R_ * R_ * Ch;
    if (s == LIS_OK && nc > 0) {
        float *rr = lis_malloc(sizeof(float) * (size_t)nc * F, "cycle r"), *lg = lis_malloc(sizeof(float) * (size_t)nc * K, "cycle logits");
        uint8_t *u0 = lis_malloc(isz * (size_t)nc, "images"), *u1 = lis_malloc(isz * (size_t)nc, "images");
        if (!rr || !lg || !u0 || !u1) s = LIS_ERR;
        if (s == LIS_OK) s = lis_render_w(&p->render, nc, Yte, u0, NULL, NULL, NULL);
        if (s == LIS_OK) s = lis_render_w(&p->render, nc, P, u1, NULL, rr, lg);
        for (int i = 0; s == LIS_OK && i < nc; i++) {
            const float *a = Xte + (size_t)i * F, *b = rr + (size_t)i * F;
            double num = 0, den = 0;
            for (int j = 0; j < F; j++) { num += (double)(a[j] - b[j]) * (a[j] - b[j]); den += (double)a[j] * a[j]; }
            corr += pearson(a, b, F);
            relerr += den > 0 ? sqrt(num / den) : 0;
            agree += lis_argmax(lg + (size_t)i * K, K) == Cte[i];
            double d = 0;
            for (size_t q = 0; q < isz; q++) d += abs((int)u0[(size_t)i * isz + q] - (int)u1[(size_t)i * isz + q]);
            mae += d / (double)isz;
        }
        corr /= nc; relerr /= nc; agree /= nc; mae /= nc;
        /* examples strip: up to 8 pairs, G(w) above G(link(r)) */
        int ne = nc < 8 ? nc : 8;
        uint8_t *strip = s == LIS_OK ? lis_malloc((size_t)2 * R_ * ne * R_ * Ch, "strip") : NULL;
        if (strip) {
            for (int e = 0; e < ne; e++)
                for (int y = 0; y < R_; y++) {
                    memcpy(strip + ((size_t)y * ne * R_ + (size_t)e * R_) * Ch, u0 + (size_t)e * isz + (size_t)y * R_ * Ch, (size_t)R_ * Ch);
                    memcpy(strip + ((size_t)(y + R_) * ne * R_ + (size_t)e * R_) * Ch, u1 + (size_t)e * isz + (size_t)y * R_ * Ch, (size_t)R_ * Ch);
                }
            char *pp = lis_pipe_path(p, "link/cycle_examples.png");
            s = pp ? lis_png_write(pp, strip, 2 * R_, ne * R_, Ch) : LIS_ERR;
            free(pp);
            free(strip);
        }
        free(rr); free(lg); free(u0); free(u1);
    }
    if (s == LIS_OK) {
        lis_sbuf csv = {0};
        lis_sbuf_printf(&csv, "model,alpha,l1_ratio,n_train,n_test,rank,train_mse,train_r2,test_mse,test_r2,"
                              "cycle_n,cycle_r_corr,cycle_r_relerr,cycle_class_agree,cycle_pixel_mae\n");
        lis_sbuf_printf(&csv, "%s,%g,%g,%lld,%lld,%d,%.6g,%.6g,%.6g,%.6g,%d,%.6g,%.6g,%.6g,%.6g\n",
                        lis_link_model_name(c->link.model), c->link.alpha, c->link.l1_ratio, (long long)ntrain,
                        (long long)ntest, L.rank, trmse, trr2, temse, ter2, nc, corr, relerr, agree, mae);
        s = csv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "link/link_report.csv", csv.s, csv.len);
        lis_sbuf_free(&csv);
        lis_pipe_log(p, "link: %s on %lld pairs (%lld held out): train MSE %.4g R2 %.4f, test MSE %.4g R2 %.4f; "
                     "cycle (%d): r corr %.3f, class kept %.0f%%, pixel MAE %.1f",
                     lis_link_model_name(c->link.model), (long long)ntrain, (long long)ntest, trmse, trr2, temse, ter2, nc,
                     corr, 100 * agree, mae);
    }
    lis_link_free(&L);
    free(test); free(Xtr); free(Ytr); free(Xte); free(Yte); free(Cte); free(P);
    lis_tensor_free(&tw); lis_tensor_free(&tr); lis_tensor_free(&tc);
    return s;
}
