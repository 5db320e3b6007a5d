/* test_feasibility.c — the feasibility analysis (kernels/kmeans.h, kernels/ari.h,
 * kernels/rsa.h) against scikit-learn / scipy values (tests/data/feasibility/, made by its
 * make_fixture.py), on known small cases, and `lis-run feasibility` end to end.
 *
 * The command is compiled into this test from cli/cmd_feasibility.c (with cli/args.c):
 * test binaries link only liblis.a, and the command table may not list it yet.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/ari.h"
#include "kernels/kmeans.h"
#include "kernels/rsa.h"
#include "runtime/fileio.h"
#include "runtime/json.h"
#include "runtime/np_random.h"
#include "runtime/npy.h"
#include "tests/harness.h"


int lis_cli_fail(const char *cmd, int status) {
    if (status) fprintf(stderr, "lis-run %s: error: %s\n", cmd, lis_err_msg());
    return status == 0 ? 0 : status == LIS_ERR_USAGE ? 2 : 1;
}

static void close1(const char *name, double got, double ref, double atol, double rtol) {
    double d = fabs(got - ref);
    lis_check(d <= atol + rtol * fabs(ref), "%s: got %.12g ref %.12g (diff %.3g; atol %.3g rtol %.3g)", name, got, ref, d, atol, rtol);
}

static lis_json *load_expected(void) {
    char *text = NULL;
    size_t len;
    if (lis_read_file(lis_test_data("feasibility/expected.json"), &text, &len) != LIS_OK) return NULL;
    lis_json *j = lis_json_parse(text, len);
    free(text);
    return j;
}

static double jnum(const lis_json *j, const char *k) {
    const lis_json *v = lis_json_get(j, k);
    return v && v->type == LIS_JSON_NUM ? v->num : NAN;
}

static void test_ari(const lis_json *exp) {
    const lis_json *cases = lis_json_get(exp, "ari");
    LIS_CHECK(cases && cases->type == LIS_JSON_ARR && cases->len >= 10);
    for (size_t c = 0; cases && c < cases->len; c++) {
        const lis_json *a = lis_json_get(cases->items[c], "a"), *b = lis_json_get(cases->items[c], "b");
        int64_t n = (int64_t)a->len, *x = malloc(sizeof(int64_t) * a->len), *y = malloc(sizeof(int64_t) * a->len);
        for (int64_t i = 0; i < n; i++) { x[i] = (int64_t)a->items[i]->num; y[i] = (int64_t)b->items[i]->num; }
        double got = NAN;
        lis_check_ok(lis_ari(n, x, y, &got), "lis_ari");
        char name[96];
        snprintf(name, sizeof name, "ARI case %zu (n=%lld) vs sklearn", c, (long long)n);
        close1(name, got, jnum(cases->items[c], "ari"), 1e-12, 1e-12); /* same formula in float64 */
        free(x);
        free(y);
    }
    /* by hand: identical up to renaming = 1; symmetric; {0,0,1,1} vs {0,1,0,1} = -0.5 */
    int32_t p[6] = {0, 0, 1, 1, 2, 2}, q[6] = {7, 7, 3, 3, 5, 5}, r4[4] = {0, 0, 1, 1}, s4[4] = {0, 1, 0, 1};
    double v1, v2;
    lis_ari_i32(6, p, q, &v1);
    close1("ARI of a relabelled partition", v1, 1.0, 0, 0);
    lis_ari_i32(4, r4, s4, &v1);
    lis_ari_i32(4, s4, r4, &v2);
    close1("ARI {0,0,1,1} vs {0,1,0,1} (by hand: -0.5)", v1, -0.5, 1e-15, 0);
    close1("ARI is symmetric", v1, v2, 0, 0);
}

static float *load_f32(const char *name, int64_t *n, int *d) {
    lis_tensor t = {0};
    if (lis_npy_read_f32(lis_test_data(name), &t) != LIS_OK) { lis_check(0, "read %s", name); return NULL; }
    *n = t.shape[0];
    *d = t.ndim > 1 ? (int)t.shape[1] : 1;
    return t.data;
}

static void test_kmeans(const lis_json *exp) {
    int64_t n;
    int d;
    float *X = load_f32("feasibility/blobs_X.npy", &n, &d);
    lis_tensor tl = {0};
    lis_npy_read(lis_test_data("feasibility/blobs_labels.npy"), &tl);
    if (!X || tl.dtype != LIS_DTYPE_I64) { lis_check(0, "blobs fixture"); free(X); lis_tensor_free(&tl); return; }
    for (int ref = 0; ref < 2; ref++) {
        lis_kmeans_params p;
        lis_kmeans_params_default(&p, 3);
        p.reference = ref;
        int32_t lab[90];
        int64_t l64[90];
        lis_kmeans_info info;
        lis_check_ok(lis_kmeans(&p, n, d, X, lab, NULL, &info), "k-means blobs");
        for (int i = 0; i < n; i++) l64[i] = lab[i];
        double a;
        lis_ari(n, l64, tl.data, &a);
        char name[128];
        snprintf(name, sizeof name, "k-means(k=3, n=90, d=5, %s) on blobs: ARI vs sklearn labels", ref ? "_ref" : "_cpu");
        close1(name, a, 1.0, 0, 0);
        snprintf(name, sizeof name, "k-means(k=3, blobs, %s) inertia vs sklearn (float32 there)", ref ? "_ref" : "_cpu");
        close1(name, info.inertia, jnum(exp, "blobs_inertia"), 0, 1e-5);
    }
    free(X);
    lis_tensor_free(&tl);
    /* overlapping clusters: a local optimum is possible; ours must be as good as sklearn's
     * n_init = 10 up to 0.1 % and not below the best of 50 sklearn inits by more than that */
    X = load_f32("feasibility/mix_X.npy", &n, &d);
    if (!X) return;
    lis_kmeans_params p;
    lis_kmeans_params_default(&p, 4);
    int32_t *lab = malloc(sizeof(int32_t) * (size_t)n), *lab2 = malloc(sizeof(int32_t) * (size_t)n);
    lis_kmeans_info info, info2;
    lis_check_ok(lis_kmeans(&p, n, d, X, lab, NULL, &info), "k-means mix");
    double sk = jnum(exp, "mix_inertia_n10"), best = jnum(exp, "mix_inertia_best");
    lis_check(info.inertia <= sk * 1.001 && info.inertia >= best * 0.999,
              "k-means(k=4, n=200, d=8) overlapping: inertia %.6g, sklearn n_init=10 %.6g, best of 50 %.6g (tol 0.1%%)", info.inertia,
              sk, best);
    lis_check_ok(lis_kmeans(&p, n, d, X, lab2, NULL, &info2), "k-means mix again");
    lis_check(!memcmp(lab, lab2, sizeof(int32_t) * (size_t)n) && info.inertia == info2.inertia, "k-means is reproducible (same seed)");
    /* one initialisation is worse or equal than ten from the same stream start */
    p.n_init = 1;
    lis_check_ok(lis_kmeans(&p, n, d, X, lab2, NULL, &info2), "k-means n_init=1");
    lis_check(info2.inertia >= info.inertia, "k-means: n_init=10 (%.6g) at least as good as its first run (%.6g)", info.inertia, info2.inertia);
    free(lab); free(lab2); free(X);

    /* _cpu vs _ref assignment on random data (tie-free in practice) */
    int N = 1000, D = 37, K = 7;
    float *Y = malloc(sizeof(float) * (size_t)N * D), *Ct = malloc(sizeof(float) * (size_t)K * D), *scr = malloc(sizeof(float) * (size_t)N * K);
    double *C = malloc(sizeof(double) * (size_t)K * D), *xn = malloc(sizeof(double) * (size_t)N);
    double *d1 = malloc(sizeof(double) * (size_t)N), *d2 = malloc(sizeof(double) * (size_t)N);
    int32_t *l1 = malloc(sizeof(int32_t) * (size_t)N), *l2 = malloc(sizeof(int32_t) * (size_t)N);
    lis_np_rng rng;
    lis_np_seed(&rng, 11);
    for (int i = 0; i < N * D; i++) Y[i] = (float)lis_np_randn(&rng);
    for (int c = 0; c < K; c++)
        for (int j = 0; j < D; j++) { C[c * D + j] = lis_np_randn(&rng); Ct[j * K + c] = (float)C[c * D + j]; }
    for (int i = 0; i < N; i++) {
        double q = 0;
        for (int j = 0; j < D; j++) q += (double)Y[i * D + j] * Y[i * D + j];
        xn[i] = q;
    }
    double t1 = lis_kmeans_assign_ref(N, D, Y, K, C, l1, d1);
    double t2 = lis_kmeans_assign_cpu(N, D, Y, xn, K, C, Ct, scr, l2, d2);
    int same = 0;
    for (int i = 0; i < N; i++) same += l1[i] == l2[i];
    lis_check(same == N, "k-means assign _cpu vs _ref (n=1000, d=37, k=7): %d of %d labels equal", same, N);
    close1("k-means assign _cpu vs _ref: summed squared distance (float32 GEMM)", t2, t1, 0, 1e-5);
    free(Y); free(Ct); free(scr); free(C); free(xn); free(d1); free(d2); free(l1); free(l2);

    /* degenerate: n = k (every point its own cluster), duplicates (empty-cluster relocation) */
    float P[5 * 2] = {0, 0, 0, 0, 0, 0, 0, 0, 10, 10};
    int32_t lp[5];
    lis_kmeans_params_default(&p, 3);
    lis_check_ok(lis_kmeans(&p, 5, 2, P, lp, NULL, &info), "k-means with duplicate points");
    int inrange = 1;
    for (int i = 0; i < 5; i++) inrange &= lp[i] >= 0 && lp[i] < 3;
    lis_check(inrange && isfinite(info.inertia) && info.inertia == 0 && lp[4] != lp[0],
              "k-means(k=3) on 4 equal points + 1: labels in range, inertia %g (0 expected)", info.inertia);
    float Q[3] = {1, 5, 9};
    int32_t lq[3];
    lis_check_ok(lis_kmeans(&p, 3, 1, Q, lq, NULL, &info), "k-means n == k");
    lis_check(lq[0] != lq[1] && lq[1] != lq[2] && lq[0] != lq[2] && info.inertia == 0, "k-means n == k: one point per cluster");
    lis_check(lis_kmeans(&p, 2, 1, Q, lq, NULL, NULL) == LIS_ERR_USAGE, "k-means with n < k is refused");
    float bad[3] = {1, NAN, 2};
    lis_check(lis_kmeans(&p, 3, 1, bad, lq, NULL, NULL) == LIS_ERR, "k-means rejects NaN (%s)", lis_err_msg());
}

static void test_rsa(const lis_json *exp) {
    int64_t n, n2;
    int d, d2;
    float *X = load_f32("feasibility/rsa_X.npy", &n, &d), *Y = load_f32("feasibility/rsa_Y.npy", &n2, &d2);
    lis_tensor tc = {0}, te = {0};
    lis_npy_read(lis_test_data("feasibility/rsa_corr_X.npy"), &tc);
    lis_npy_read(lis_test_data("feasibility/rsa_euclid_X.npy"), &te);
    if (!X || !Y || tc.dtype != LIS_DTYPE_F64 || te.dtype != LIS_DTYPE_F64) { lis_check(0, "rsa fixture"); return; }
    double *S = malloc(sizeof(double) * (size_t)n * n), *S2 = malloc(sizeof(double) * (size_t)n * n);
    float *g = malloc(sizeof(float) * (size_t)n * n), *r = malloc(sizeof(float) * (size_t)n * n);
    const double *ref = tc.data;
    for (int pass = 0; pass < 4; pass++) {
        int euc = pass >= 2, cpu = pass & 1;
        if (euc) ref = te.data;
        if (!euc && !cpu) lis_rsa_corr_matrix_ref(n, d, X, S);
        if (!euc && cpu) lis_rsa_corr_matrix_cpu(n, d, X, S);
        if (euc && !cpu) lis_rsa_euclid_matrix_ref(n, d, X, S);
        if (euc && cpu) lis_rsa_euclid_matrix_cpu(n, d, X, S);
        for (int64_t i = 0; i < n * n; i++) { g[i] = (float)S[i]; r[i] = (float)ref[i]; }
        char name[128];
        snprintf(name, sizeof name, "%s matrix %s (n=12, d=6) vs %s", euc ? "Euclidean" : "correlation", cpu ? "_cpu" : "_ref",
                 euc ? "scipy cdist" : "numpy corrcoef");
        /* _ref: float64 like numpy (compared in float32); _cpu: float32 GEMM */
        lis_check_close(name, g, r, n * n, cpu ? 2e-5 : 1e-6, cpu ? 2e-5 : 1e-6);
    }
    /* triangle correlations */
    int64_t M = n * (n - 1) / 2;
    double *a = malloc(sizeof(double) * (size_t)M), *b = malloc(sizeof(double) * (size_t)M), rho;
    lis_rsa_corr_matrix_ref(n, d, X, S);
    lis_rsa_corr_matrix_ref(n, d2, Y, S2);
    lis_rsa_upper(n, S, a);
    lis_rsa_upper(n, S2, b);
    close1("Pearson of correlation-matrix triangles vs scipy pearsonr", lis_pearson(M, a, b), jnum(exp, "corr_pearson"), 1e-12, 1e-9);
    /* ranks of mathematically tied correlations depend on their last bit: Spearman is
     * checked on numpy's own matrices */
    lis_tensor ty = {0};
    lis_npy_read(lis_test_data("feasibility/rsa_corr_Y.npy"), &ty);
    if (ty.dtype == LIS_DTYPE_F64 && lis_tensor_numel(&ty) == n * n) {
        lis_rsa_upper(n, tc.data, a);
        lis_rsa_upper(n, ty.data, b);
        lis_spearman(M, a, b, &rho);
        close1("Spearman of numpy's correlation-matrix triangles vs scipy spearmanr", rho, jnum(exp, "corr_spearman"), 1e-12, 1e-9);
    } else lis_check(0, "feasibility/rsa_corr_Y.npy");
    lis_tensor_free(&ty);
    lis_rsa_euclid_matrix_ref(n, d, X, S);
    lis_rsa_euclid_matrix_ref(n, d2, Y, S2);
    lis_rsa_upper(n, S, a);
    lis_rsa_upper(n, S2, b);
    close1("Pearson of Euclidean-matrix triangles vs scipy", lis_pearson(M, a, b), jnum(exp, "euclid_pearson"), 1e-12, 1e-9);
    lis_spearman(M, a, b, &rho);
    /* integer data: many tied distances, so this checks the average ranks */
    close1("Spearman of Euclidean-matrix triangles (many ties) vs scipy", rho, jnum(exp, "euclid_spearman"), 1e-12, 1e-9);
    const lis_json *ta = lis_json_get(exp, "ties_a"), *tb = lis_json_get(exp, "ties_b");
    double va[10], vb[10];
    for (int i = 0; i < 10; i++) { va[i] = ta->items[i]->num; vb[i] = tb->items[i]->num; }
    lis_spearman(10, va, vb, &rho);
    close1("Spearman with ties (10 values) vs scipy", rho, jnum(exp, "ties_spearman"), 1e-12, 1e-12);
    lis_check(isnan(lis_pearson(3, (double[]){1, 1, 1}, (double[]){1, 2, 3})), "Pearson of a constant is NaN");
    free(S); free(S2); free(g); free(r); free(a); free(b); free(X); free(Y);
    lis_tensor_free(&tc);
    lis_tensor_free(&te);
}

/* synthetic pairs: k classes around centres in a latent space, W and R two different
 * (non-linear for R) maps of the same latent */
static void make_pairs(int k, int per, int dw, int dr, double sep, float **W, float **R, int64_t **cls, uint32_t seed) {
    int n = k * per, dz = 6;
    lis_np_rng g;
    lis_np_seed(&g, seed);
    double *cen = malloc(sizeof(double) * (size_t)k * dz), *A = malloc(sizeof(double) * (size_t)dz * dw), *B = malloc(sizeof(double) * (size_t)dz * dr);
    for (int i = 0; i < k * dz; i++) cen[i] = sep * lis_np_randn(&g);
    for (int i = 0; i < dz * dw; i++) A[i] = lis_np_randn(&g);
    for (int i = 0; i < dz * dr; i++) B[i] = lis_np_randn(&g);
    *W = malloc(sizeof(float) * (size_t)n * dw);
    *R = malloc(sizeof(float) * (size_t)n * dr);
    *cls = malloc(sizeof(int64_t) * (size_t)n);
    for (int i = 0; i < n; i++) {
        double z[6];
        (*cls)[i] = 100 + i % k; /* interleaved, arbitrary label values */
        for (int t = 0; t < dz; t++) z[t] = cen[(i % k) * dz + t] + lis_np_randn(&g);
        for (int o = 0; o < dw; o++) {
            double s = 0;
            for (int t = 0; t < dz; t++) s += z[t] * A[t * dw + o];
            (*W)[(size_t)i * dw + o] = (float)(s + 0.1 * lis_np_randn(&g));
        }
        for (int o = 0; o < dr; o++) {
            double s = 0;
            for (int t = 0; t < dz; t++) s += z[t] * B[t * dr + o];
            (*R)[(size_t)i * dr + o] = (float)(s > 0 ? s : 0);
        }
    }
    free(cen); free(A); free(B);
}

static void test_feasibility(void) {
    float *W, *R;
    int64_t *cls;
    int k = 4, per = 40, dw = 16, dr = 40;
    make_pairs(k, per, dw, dr, 6.0, &W, &R, &cls, 3);
    lis_feas_params p;
    lis_feas_params_default(&p);
    p.repeats = 4;
    p.samples_per_class = 25;
    lis_feas_result res, res2;
    lis_check_ok(lis_feasibility(&p, k * per, dw, W, dw, dr, R, dr, cls, &res), "feasibility on separated classes");
    lis_check(res.k == 4 && res.spc == 25 && res.n_draw == 100, "feasibility: 4 classes x 25 drawn (k %d, spc %d)", res.k, res.spc);
    double mu, sd, lo, hi;
    lis_feas_summary(&res, LIS_FEAS_ARI_W, &mu, &sd, &lo, &hi, NULL);
    close1("feasibility, separated classes: min ARI in W (by construction 1)", lo, 1.0, 1e-12, 0);
    lis_feas_summary(&res, LIS_FEAS_ARI_R, &mu, &sd, &lo, &hi, NULL);
    close1("feasibility, separated classes: min ARI in R", lo, 1.0, 1e-12, 0);
    lis_feas_summary(&res, LIS_FEAS_CORR_PEARSON, &mu, &sd, &lo, &hi, NULL);
    lis_check(lo > 0.5, "feasibility: W and R correlation matrices correlate (min r %.3f > 0.5)", lo);
    lis_feas_summary(&res, LIS_FEAS_CENTROID_CORR, &mu, &sd, &lo, &hi, NULL);
    lis_check(lo > 0.5, "feasibility: centroid matrices correlate (min r %.3f > 0.5)", lo);
    lis_feas_summary(&res, LIS_FEAS_CORR_SHUFFLED, &mu, &sd, &lo, &hi, NULL);
    lis_check(fabs(mu) < 0.1, "feasibility: shuffled control at chance (mean r %.3f, |r| < 0.1)", mu);
    /* drawn rows: from the right classes, no repeats within a draw */
    int good = 1;
    for (int rep = 0; rep < res.repeats; rep++)
        for (int i = 0; i < res.n_draw; i++) {
            int64_t row = res.idx[(size_t)rep * res.n_draw + i];
            good &= cls[row] == res.classes[i / res.spc];
            for (int j = 0; j < i; j++) good &= res.idx[(size_t)rep * res.n_draw + j] != row;
        }
    lis_check(good, "feasibility: each draw takes distinct rows of each class");
    lis_check_ok(lis_feasibility(&p, k * per, dw, W, dw, dr, R, dr, cls, &res2), "feasibility again");
    lis_check(!memcmp(res.metric, res2.metric, sizeof(double) * (size_t)res.repeats * LIS_FEAS_NMETRIC) &&
                  !memcmp(res.idx, res2.idx, sizeof(int64_t) * (size_t)res.repeats * res.n_draw),
              "feasibility is reproducible (same seed, same metrics and draws)");
    lis_feas_result_free(&res2);
    lis_feas_result_free(&res);
    /* labels unrelated to the data: ARI about 0 */
    for (int i = 0; i < k * per; i++) cls[i] = (int64_t)((i * 7919) % 13 % k);
    p.samples_per_class = 1000; /* capped by the smallest class */
    lis_check_ok(lis_feasibility(&p, k * per, dw, W, dw, dr, R, dr, cls, &res), "feasibility with random labels");
    lis_feas_summary(&res, LIS_FEAS_ARI_W, &mu, &sd, &lo, &hi, NULL);
    lis_check(fabs(mu) < 0.1 && res.spc < 1000, "feasibility, labels unrelated to W: mean ARI %.3f (|.| < 0.1), %d per class", mu, res.spc);
    lis_feas_result_free(&res);
    int64_t one[3] = {1, 1, 1};
    lis_check(lis_feasibility(&p, 3, dw, W, dw, dr, R, dr, one, &res) == LIS_ERR_USAGE, "feasibility with one class is refused");
    free(W); free(R); free(cls);
}

static void test_command(void) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/lis-test-feasibility-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    lis_mkdirs(tmp);
    float *W, *R;
    int64_t *cls;
    int k = 3, per = 20, dw = 8, dr = 12;
    make_pairs(k, per, dw, dr, 6.0, &W, &R, &cls, 5);
    char pw[600], pr[600], pc[600], out[600];
    snprintf(pw, sizeof pw, "%s/w.npy", tmp);
    snprintf(pr, sizeof pr, "%s/r.npy", tmp);
    snprintf(pc, sizeof pc, "%s/c.npy", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    int64_t sw[3] = {k * per, 1, dw}, sr[2] = {k * per, dr}, sc[1] = {k * per};
    lis_npy_write_f32(pw, W, 3, sw); /* [N, num_ws = 1, w_dim] */
    lis_npy_write_f32(pr, R, 2, sr);
    lis_tensor t = {.dtype = LIS_DTYPE_I64, .ndim = 1, .shape = {k * per}, .data = cls};
    (void)sc;
    lis_npy_write(pc, &t);
    char *argv[] = {"feasibility", "--w", pw, "--r", pr, "--classes", pc, "-o", out, "--repeats", "3", "--samples-per-class", "10", NULL};
    int rc = lis_test_lisrun(argv);
    lis_check(rc == 0, "lis-run feasibility exits 0 (rc %d)", rc);
    const char *files[] = {"repeats.csv", "summary.csv", "metrics.npy", "draws.npy", "labels_w.npy", "labels_r.npy", "classes.npy",
                           "centroid_corr_w.npy", "centroid_corr_r.npy", "centroid_euclid_w.npy", "centroid_euclid_r.npy"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char f[700];
        snprintf(f, sizeof f, "%s/%s", out, files[i]);
        lis_check(lis_file_exists(f), "feasibility output %s", files[i]);
    }
    lis_tensor tm = {0};
    char f[700];
    snprintf(f, sizeof f, "%s/metrics.npy", out);
    lis_check(lis_npy_read(f, &tm) == LIS_OK && tm.ndim == 2 && tm.shape[0] == 3 && tm.shape[1] == LIS_FEAS_NMETRIC &&
                  ((double *)tm.data)[LIS_FEAS_ARI_R] == 1.0,
              "metrics.npy is [3, %d] with ARI(R) = 1 on separated classes", LIS_FEAS_NMETRIC);
    lis_tensor_free(&tm);
    char *bad[] = {"feasibility", "--w", pw, "--r", pr, "-o", out, NULL};
    lis_check(lis_test_lisrun(bad) == 2, "lis-run feasibility without --classes: usage error (2)");
    char *bad2[] = {"feasibility", "--w", pw, "--r", pw, "--classes", pr, "-o", out, NULL};
    lis_check(lis_test_lisrun(bad2) == 2, "lis-run feasibility with float classes: usage error (2)");
    free(W); free(R); free(cls);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
}

int main(void) {
    lis_json *exp = load_expected();
    if (!exp) { lis_check(0, "tests/data/feasibility/expected.json readable"); return lis_test_finish(); }
    test_ari(exp);
    test_kmeans(exp);
    test_rsa(exp);
    test_feasibility();
    test_command();
    lis_json_free(exp);
    return lis_test_finish();
}
