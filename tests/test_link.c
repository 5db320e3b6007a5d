/* test_link.c — the linking network (nets/link.c) against scikit-learn 1.2.1 fits
 * (tests/data/linking/io.safetensors, copied from refs/linking), plus the float64 kernels it
 * is built on (kernels/linalg.c: Gram, Cholesky, eigendecomposition), the ElasticNet Gram
 * fast path against the residual-form oracle, metrics, and the weight file.
 *
 * Tolerances (refs/linking/README.md): OLS and ridge predictions within 1e-6 relative
 * (||pred - ref|| / ||ref||); coefficients of the rank-deficient OLS cases (collinear, wide)
 * are the minimum-norm solution within 1e-6 relative; ElasticNet predictions within 1e-3.
 *
 * The bundle's stored OLS fits of the rank-deficient cases are NOT the minimum-norm solution
 * its README describes: scipy's default cond = eps keeps the noise-level singular value
 * (4e-15 s_max) of the exact null direction, giving coefficients of norm 3.6e12 (collinear) and
 * a rank-80 fit (wide). They are checked as least-squares solutions (our residual is no worse,
 * our norm no larger); the minimum-norm criterion is checked against
 * tests/data/linking/minnorm.safetensors (scipy lstsq with cond=1e-10, see its README).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/linalg.h"
#include "nets/link.h"
#include "runtime/safetensors.h"
#include "runtime/threads.h"
#include "tests/harness.h"

static double urand(unsigned long long *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* ||got - ref|| / ||ref||, float64 */
static double rel_l2(const double *got, const double *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (got[i] - ref[i]) * (got[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static void check_rel(const char *name, const double *got, const double *ref, size_t n, double tol) {
    double e = rel_l2(got, ref, n);
    lis_check(e <= tol, "%s: rel L2 err %.3g (tol %.0e, n=%zu)", name, e, tol, n);
}

/* ---------------------------------------------------------------- linalg */

static void test_gram(int64_t n, int p, int q) {
    unsigned long long s = (unsigned long long)(n * 1000 + p * 10 + q);
    float *X = malloc(sizeof(float) * (size_t)(n * (p + 3) + 1)), *Y = malloc(sizeof(float) * (size_t)(n * (q + 2) + 1));
    double *xm = calloc((size_t)p, sizeof(double)), *ym = calloc((size_t)(q + 1), sizeof(double));
    double *G0 = malloc(sizeof(double) * (size_t)(p * p)), *G1 = malloc(sizeof(double) * (size_t)(p * p));
    double *C0 = malloc(sizeof(double) * (size_t)(p * q + 1)), *C1 = malloc(sizeof(double) * (size_t)(p * q + 1));
    for (int64_t i = 0; i < n * (p + 3); i++) X[i] = (float)(urand(&s) * 3.0);
    for (int64_t i = 0; i < n * (q + 2); i++) Y[i] = (float)(urand(&s) - 0.5);
    for (int j = 0; j < p; j++) xm[j] = 1.5 + 0.01 * j;
    for (int j = 0; j < q; j++) ym[j] = 0.1 * j;
    lis_gram_centered_ref(n, p, q, X, p + 3, xm, Y, q + 2, ym, G0, C0);
    lis_status st = lis_gram_centered_cpu(n, p, q, X, p + 3, xm, Y, q + 2, ym, G1, C1);
    char name[96];
    snprintf(name, sizeof name, "gram_centered_cpu vs ref (n=%lld,p=%d,q=%d) G", (long long)n, p, q);
    if (lis_check_ok(st, name)) {
        check_rel(name, G1, G0, (size_t)(p * p), 1e-13);
        if (q > 0) {
            snprintf(name, sizeof name, "gram_centered_cpu vs ref (n=%lld,p=%d,q=%d) C", (long long)n, p, q);
            check_rel(name, C1, C0, (size_t)(p * q), 1e-13);
        }
    }
    free(X); free(Y); free(xm); free(ym); free(G0); free(G1); free(C0); free(C1);
}

/* A V = V diag(eval), V^T V = I, and apply_v(apply_vt(C)) = C. zero_rows: rows/cols set to 0
 * (dead units); rank1: a rank-one matrix (many exact zero eigenvalues). */
static void test_eig(int n, int zero_rows, int rank1) {
    unsigned long long s = 77u + (unsigned long long)n;
    double *A = malloc(sizeof(double) * (size_t)(n * n)), *W = malloc(sizeof(double) * (size_t)(n * n));
    double *V = malloc(sizeof(double) * (size_t)(n * n)), *u = malloc(sizeof(double) * (size_t)n);
    for (int i = 0; i < n; i++) u[i] = urand(&s) - 0.5;
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double v = rank1 ? u[i] * u[j] : urand(&s) - 0.5;
            if (zero_rows && (i % 3 == 1 || j % 3 == 1)) v = 0;
            A[i * n + j] = A[j * n + i] = v;
        }
    memcpy(W, A, sizeof(double) * (size_t)(n * n));
    lis_symeig e;
    char name[96];
    snprintf(name, sizeof name, "symeig(n=%d,zero_rows=%d,rank1=%d)", n, zero_rows, rank1);
    if (!lis_check_ok(lis_symeig_compute(&e, n, W, n), name)) goto out;
    lis_check_ok(lis_symeig_vectors(&e, V, n), "symeig_vectors");
    double anorm = 0, res = 0, orth = 0;
    for (int i = 0; i < n * n; i++) anorm = fmax(anorm, fabs(A[i]));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double av = 0, vv = 0;
            for (int k = 0; k < n; k++) {
                av += A[i * n + k] * V[k * n + j];
                vv += V[k * n + i] * V[k * n + j];
            }
            res = fmax(res, fabs(av - V[i * n + j] * e.eval[j]));
            orth = fmax(orth, fabs(vv - (i == j)));
        }
    lis_check(res <= 1e-13 * n * (anorm > 0 ? anorm : 1) && orth <= 1e-13 * n,
              "%s: max|AV - V diag(eval)| %.3g, max|V^T V - I| %.3g, QL rotations %lld", name, res, orth,
              (long long)e.nrot);
    /* round trip on a block of 5 right-hand sides */
    int k = 5;
    double *C = malloc(sizeof(double) * (size_t)(n * k)), *C0 = malloc(sizeof(double) * (size_t)(n * k));
    for (int i = 0; i < n * k; i++) C[i] = C0[i] = urand(&s);
    lis_check_ok(lis_symeig_apply_vt(&e, C, k, k), "apply_vt");
    lis_check_ok(lis_symeig_apply_v(&e, C, k, k), "apply_v");
    snprintf(name, sizeof name, "symeig(n=%d) V (V^T C) = C", n);
    check_rel(name, C, C0, (size_t)(n * k), 1e-13 * n);
    free(C); free(C0);
    lis_symeig_free(&e);
out:
    free(A); free(W); free(V); free(u);
}

static void test_chol(int n, int k) {
    unsigned long long s = 5u + (unsigned long long)n;
    int m = n + 7;
    double *X = malloc(sizeof(double) * (size_t)(m * n)), *A = malloc(sizeof(double) * (size_t)(n * n));
    double *L = malloc(sizeof(double) * (size_t)(n * n)), *B = malloc(sizeof(double) * (size_t)(n * k));
    double *B0 = malloc(sizeof(double) * (size_t)(n * k)), *AX = malloc(sizeof(double) * (size_t)(n * k));
    for (int i = 0; i < m * n; i++) X[i] = urand(&s) - 0.5;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double v = i == j ? 0.5 : 0;
            for (int r = 0; r < m; r++) v += X[r * n + i] * X[r * n + j];
            A[i * n + j] = v;
        }
    memcpy(L, A, sizeof(double) * (size_t)(n * n));
    for (int i = 0; i < n * k; i++) B[i] = B0[i] = urand(&s) - 0.5;
    int bad = lis_chol_factor(n, L, n);
    lis_check(bad == 0, "chol_factor(n=%d) of an SPD matrix", n);
    lis_check_ok(lis_chol_solve(n, L, n, B, k, k), "chol_solve");
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) {
            double v = 0;
            for (int r = 0; r < n; r++) v += A[i * n + r] * B[r * k + j];
            AX[i * k + j] = v;
        }
    char name[64];
    snprintf(name, sizeof name, "chol_solve(n=%d,k=%d) A X = B", n, k);
    check_rel(name, AX, B0, (size_t)(n * k), 1e-12);
    /* not positive definite: reported, no crash */
    memcpy(L, A, sizeof(double) * (size_t)(n * n));
    L[(n / 2) * n + n / 2] = -1;
    lis_check(lis_chol_factor(n, L, n) != 0, "chol_factor(n=%d) rejects an indefinite matrix", n);
    free(X); free(A); free(L); free(B); free(B0); free(AX);
}

/* ---------------------------------------------------------------- the bundle */

static const double *ref_f64(const lis_safetensors *st, const char *name, size_t *numel) {
    const lis_st_entry *e = lis_st_find(st, name);
    if (!e || e->t.dtype != LIS_DTYPE_F64) {
        lis_check(0, "reference tensor '%s' present and F64", name);
        return NULL;
    }
    if (numel) *numel = (size_t)lis_tensor_numel(&e->t);
    return e->t.data;
}

static const float *ref_f32(const lis_safetensors *st, const char *name, int64_t *rows, int64_t *cols) {
    const lis_st_entry *e = lis_st_find(st, name);
    if (!e || e->t.dtype != LIS_DTYPE_F32 || e->t.ndim != 2) {
        lis_check(0, "reference tensor '%s' present, F32, 2-D", name);
        return NULL;
    }
    *rows = e->t.shape[0];
    *cols = e->t.shape[1];
    return e->t.data;
}

static double resid_norm(int64_t n, int64_t d, int64_t k, const float *R, const float *W, const double *coef,
                         const double *icpt) {
    double s = 0;
    for (int64_t r = 0; r < n; r++)
        for (int64_t o = 0; o < k; o++) {
            double v = icpt[o];
            for (int64_t i = 0; i < d; i++) v += coef[o * d + i] * R[r * d + i];
            s += (W[r * k + o] - v) * (W[r * k + o] - v);
        }
    return sqrt(s);
}

static double l2(const double *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i] * x[i];
    return sqrt(s);
}

static void test_case(const lis_safetensors *st, const lis_safetensors *mn, const char *cs, const char *mname,
                      lis_link_model model, double alpha) {
    char nm[128], nm2[400];
    int64_t n = 0, d = 0, k = 0, nt = 0, d2 = 0, n2 = 0;
    snprintf(nm, sizeof nm, "%s.r", cs);
    const float *R = ref_f32(st, nm, &n, &d);
    snprintf(nm, sizeof nm, "%s.w", cs);
    const float *W = ref_f32(st, nm, &n2, &k);
    snprintf(nm, sizeof nm, "%s.r_test", cs);
    const float *RT = ref_f32(st, nm, &nt, &d2);
    if (!R || !W || !RT || n2 != n || d2 != d) return;
    size_t nc = 0, ni = 0, np = 0;
    snprintf(nm, sizeof nm, "%s.%s.coef", cs, mname);
    const double *rcoef = ref_f64(st, nm, &nc);
    snprintf(nm, sizeof nm, "%s.%s.intercept", cs, mname);
    const double *rint = ref_f64(st, nm, &ni);
    snprintf(nm, sizeof nm, "%s.%s.pred_test", cs, mname);
    const double *rpred = ref_f64(st, nm, &np);
    if (!rcoef || !rint || !rpred || nc != (size_t)(d * k) || ni != (size_t)k || np != (size_t)(nt * k)) return;

    lis_link_params p;
    lis_link_params_default(&p, model);
    p.alpha = alpha;
    lis_link L;
    lis_link_fit_info info;
    snprintf(nm, sizeof nm, "link %s %s(alpha=%g) n=%lld d=%lld k=%lld", cs, lis_link_model_name(model), alpha,
             (long long)n, (long long)d, (long long)k);
    if (!lis_check_ok(lis_link_fit(&L, &p, n, (int)d, (int)k, R, d, W, k, &info), nm)) return;
    float *pred = malloc(sizeof(float) * (size_t)(nt * k));
    double *pred64 = malloc(sizeof(double) * (size_t)(nt * k)), *predf = malloc(sizeof(double) * (size_t)(nt * k));
    /* float32 apply (what lis-run apply-link does) and a float64 apply of the float64 fit */
    lis_check_ok(lis_link_apply(&L, nt, RT, d, pred, k), "apply");
    for (int64_t r = 0; r < nt; r++)
        for (int64_t o = 0; o < k; o++) {
            double v = L.intercept64[o];
            for (int64_t i = 0; i < d; i++) v += L.coef64[o * d + i] * RT[r * d + i];
            pred64[r * k + o] = v;
            predf[r * k + o] = pred[r * k + o];
        }
    double ptol = model == LIS_LINK_ENET ? 1e-3 : 1e-6;
    if (model == LIS_LINK_OLS && info.rank < d) {
        /* the bundle's fit is a noise-driven least-squares solution (see the top comment):
         * ours must fit the training data at least as well, with no larger norm */
        double rs_ref = resid_norm(n, d, k, R, W, rcoef, rint), rs = resid_norm(n, d, k, R, W, L.coef64, L.intercept64);
        double nr = l2(rcoef, nc), nb = l2(L.coef64, nc);
        lis_check(rs <= rs_ref * (1 + 1e-9) + 1e-12 && nb <= nr * (1 + 1e-9),
                  "%s: a least-squares solution no worse than sklearn's stored one (residual %.6g vs %.6g, "
                  "||coef|| %.6g vs %.6g); stored pred_test differs by %.3g rel (not minimum-norm, see header)",
                  nm, rs, rs_ref, nb, nr, rel_l2(pred64, rpred, (size_t)(nt * k)));
        /* minimum norm: against scipy lstsq(cond=1e-10) */
        snprintf(nm2, sizeof nm2, "%s.ols_minnorm.coef", cs);
        rcoef = ref_f64(mn, nm2, &nc);
        snprintf(nm2, sizeof nm2, "%s.ols_minnorm.intercept", cs);
        rint = ref_f64(mn, nm2, &ni);
        snprintf(nm2, sizeof nm2, "%s.ols_minnorm.pred_test", cs);
        rpred = ref_f64(mn, nm2, &np);
        if (!rcoef || !rint || !rpred || nc != (size_t)(d * k) || ni != (size_t)k || np != (size_t)(nt * k)) goto out;
    }
    snprintf(nm2, sizeof nm2, "%s: pred_test (float64 apply)", nm);
    check_rel(nm2, pred64, rpred, (size_t)(nt * k), ptol);
    snprintf(nm2, sizeof nm2, "%s: pred_test (float32 apply-link)", nm);
    check_rel(nm2, predf, rpred, (size_t)(nt * k), ptol);
    /* coefficients: unique for full-rank OLS and for ridge; for rank-deficient OLS the
     * minimum-norm solution (README); enet: informative at its prediction tolerance */
    snprintf(nm2, sizeof nm2, "%s: coef%s", nm, model == LIS_LINK_OLS && info.rank < d ? " = minimum-norm solution" : "");
    check_rel(nm2, L.coef64, rcoef, (size_t)(d * k), model == LIS_LINK_ENET ? 1e-3 : 1e-6);
    snprintf(nm2, sizeof nm2, "%s: intercept", nm);
    check_rel(nm2, L.intercept64, rint, (size_t)k, model == LIS_LINK_ENET ? 1e-3 : 1e-6);
    if (model == LIS_LINK_ENET)
        lis_check(info.enet_not_converged == 0, "%s: all targets converged (max n_iter %d, max gap %.3g)", nm,
                  info.enet_max_n_iter, info.enet_max_gap);
out:
    free(pred); free(pred64); free(predf);
    lis_link_free(&L);
}

static void test_rank(const lis_safetensors *st) {
    /* collinear: d=64 with column 32 = 2 x column 0 -> rank 63; wide: n=80 < d -> rank 79 */
    const char *cs[] = {"collinear", "wide", "full"};
    int want[] = {63, 79, 128};
    for (int c = 0; c < 3; c++) {
        char nm[64];
        int64_t n = 0, d = 0, n2 = 0, k = 0;
        snprintf(nm, sizeof nm, "%s.r", cs[c]);
        const float *R = ref_f32(st, nm, &n, &d);
        snprintf(nm, sizeof nm, "%s.w", cs[c]);
        const float *W = ref_f32(st, nm, &n2, &k);
        if (!R || !W) return;
        lis_link_params p;
        lis_link_params_default(&p, LIS_LINK_OLS);
        lis_link L;
        lis_link_fit_info info;
        if (!lis_check_ok(lis_link_fit(&L, &p, n, (int)d, (int)k, R, d, W, k, &info), "fit")) return;
        lis_check(info.rank == want[c], "ols %s: rank %d (expected %d, as numpy.linalg.matrix_rank of Xc)", cs[c],
                  info.rank, want[c]);
        if (c == 0) { /* min-norm: the collinear pair shares its weight 1:2 */
            double worst = 0;
            for (int64_t o = 0; o < k; o++) {
                double a = L.coef64[o * d + 0], b = L.coef64[o * d + 32];
                worst = fmax(worst, fabs(b - 2 * a) / (fabs(b) + 1e-300));
            }
            lis_check(worst < 1e-8, "ols collinear: coef[:,32] = 2 coef[:,0] (minimum norm), max rel dev %.3g", worst);
        }
        lis_link_free(&L);
    }
}

/* ---------------------------------------------------------------- elastic net */

static void test_enet_paths(void) {
    int64_t n = 120;
    int p = 20;
    unsigned long long s = 99;
    double *Xc = malloc(sizeof(double) * (size_t)(n * p)), *y = malloc(sizeof(double) * (size_t)n);
    double *Q = malloc(sizeof(double) * (size_t)(p * p)), *q = malloc(sizeof(double) * (size_t)p);
    double w0[20], w1[20], H[20], XtA[20];
    /* column-major random data with a planted sparse signal; column 7 all zero */
    for (int j = 0; j < p; j++) {
        double m = 0;
        for (int64_t r = 0; r < n; r++) m += (Xc[j * n + r] = j == 7 ? 0 : urand(&s) * 2);
        for (int64_t r = 0; r < n; r++) Xc[j * n + r] -= m / n;
    }
    double ym = 0;
    for (int64_t r = 0; r < n; r++) {
        y[r] = 0.8 * Xc[0 * n + r] - 0.5 * Xc[3 * n + r] + 0.3 * Xc[11 * n + r] + 0.2 * (urand(&s) - 0.5);
        ym += y[r];
    }
    double yy = 0;
    for (int64_t r = 0; r < n; r++) { y[r] -= ym / n; yy += y[r] * y[r]; }
    for (int i = 0; i < p; i++) {
        double v = 0;
        for (int64_t r = 0; r < n; r++) v += Xc[i * n + r] * y[r];
        q[i] = v;
        for (int j = 0; j < p; j++) {
            double g = 0;
            for (int64_t r = 0; r < n; r++) g += Xc[i * n + r] * Xc[j * n + r];
            Q[i * p + j] = g;
        }
    }
    double alphas[] = {0.001, 0.01, 0.1, 1.0}, ratios[] = {0.5, 0.9, 1.0, 0.1};
    for (int a = 0; a < 4; a++) {
        double al = alphas[a], l1r = ratios[a];
        double A = al * l1r * n, B = al * (1 - l1r) * n;
        memset(w0, 0, sizeof w0);
        memset(w1, 0, sizeof w1);
        lis_enet_result r0, r1;
        lis_check_ok(lis_enet_cd_ref(n, p, Xc, y, A, B, 1000, 1e-4, w0, &r0), "enet_cd_ref");
        r1 = lis_enet_cd_gram(p, Q, p, q, yy, A, B, 1000, 1e-4, w1, H, XtA);
        char nm[128];
        snprintf(nm, sizeof nm, "enet gram vs residual form (alpha=%g,l1_ratio=%g): coef", al, l1r);
        check_rel(nm, w1, w0, (size_t)p, 1e-9);
        lis_check(r0.n_iter == r1.n_iter && r0.converged && r1.converged,
                  "enet (alpha=%g,l1_ratio=%g): same sweep count %d/%d, both converged (gap %.3g/%.3g < tol %.3g)", al,
                  l1r, r0.n_iter, r1.n_iter, r0.gap, r1.gap, r0.tol);
        /* KKT at the optimum: |Xc_j.R/n - a(1-l1r) w_j| <= a l1r, = a l1r sign(w_j) when w_j != 0 */
        double worst = 0;
        for (int j = 0; j < p; j++) {
            if (j == 7) continue;
            double g = (q[j] - (Q[j * p + 0] * 0)) / n, hw = 0;
            for (int i = 0; i < p; i++) hw += Q[j * p + i] * w1[i];
            g = (q[j] - hw) / n - al * (1 - l1r) * w1[j];
            double viol = w1[j] != 0 ? fabs(g - al * l1r * (w1[j] > 0 ? 1 : -1)) : fmax(fabs(g) - al * l1r, 0);
            worst = fmax(worst, viol);
        }
        lis_check(worst < 2e-3 * (1 + al), "enet (alpha=%g,l1_ratio=%g): KKT violation %.3g", al, l1r, worst);
        lis_check(w1[7] == 0, "enet: zero column keeps coefficient 0");
    }
    free(Xc); free(y); free(Q); free(q);
}

/* ---------------------------------------------------------------- metrics, file, errors */

static void test_score(void) {
    float Y[] = {1, 10, 2, 10, 3, 10, 4, 10}; /* [4, 2]; column 1 constant */
    float P[] = {1, 10, 2, 10, 3, 10, 4, 10};
    double mse, r2;
    lis_link_score(4, 2, Y, 2, P, 2, &mse, &r2);
    lis_check(mse == 0 && r2 == 1, "score: perfect prediction mse %g r2 %g", mse, r2);
    float P2[] = {2, 10, 2, 10, 3, 10, 3, 11}; /* col0 ss_res 2 ss_tot 5 -> 0.6; col1 ss_tot 0, res>0 -> 0 */
    lis_link_score(4, 2, Y, 2, P2, 2, &mse, &r2);
    lis_check(fabs(mse - 3.0 / 8) < 1e-15 && fabs(r2 - 0.3) < 1e-15,
              "score: mse %g (expected 0.375), r2 %g (expected 0.3, sklearn uniform_average)", mse, r2);
    lis_link_score(1, 2, Y, 2, P2, 2, &mse, &r2);
    lis_check(isnan(r2), "score: r2 undefined for one sample");
}

static void test_file(const lis_safetensors *st) {
    int64_t n = 0, d = 0, n2 = 0, k = 0;
    const float *R = ref_f32(st, "full.r", &n, &d), *W = ref_f32(st, "full.w", &n2, &k);
    if (!R || !W) return;
    lis_link_params p;
    lis_link_params_default(&p, LIS_LINK_RIDGE);
    p.alpha = 10;
    lis_link L, M;
    if (!lis_check_ok(lis_link_fit(&L, &p, n, (int)d, (int)k, R, d, W, k, NULL), "fit ridge")) return;
    char path[256];
    snprintf(path, sizeof path, "/tmp/lis_test_link_%ld.safetensors", (long)getpid());
    if (lis_check_ok(lis_link_save(&L, path, "test_link"), "save") && lis_check_ok(lis_link_load(&M, path), "load")) {
        int same = M.n_in == L.n_in && M.n_out == L.n_out && M.params.model == LIS_LINK_RIDGE && M.params.alpha == 10 &&
                   M.n_train == n && !memcmp(M.coef, L.coef, sizeof(float) * (size_t)(d * k)) &&
                   !memcmp(M.intercept, L.intercept, sizeof(float) * (size_t)k) &&
                   !memcmp(M.coef_t, L.coef_t, sizeof(float) * (size_t)(d * k));
        lis_check(same, "link file round trip: config, coef and intercept bit-identical");
        lis_link_free(&M);
    }
    /* a file whose tensors disagree with the config is refused with both shapes named */
    lis_st_writer w = {0};
    int64_t bad[2] = {k, d - 1}, si[1] = {k};
    lis_st_writer_add(&w, "coef", LIS_DTYPE_F32, 2, bad, L.coef);
    lis_st_writer_add(&w, "intercept", LIS_DTYPE_F32, 1, si, L.intercept);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"arch\":\"link\",\"version\":1,\"model\":\"ols\",\"n_in\":%lld,\"n_out\":%lld}",
             (long long)d, (long long)k);
    lis_st_writer_meta(&w, "config", cfg);
    lis_check_ok(lis_st_write(&w, path), "write bad file");
    lis_st_writer_free(&w);
    lis_status s = lis_link_load(&M, path);
    lis_check(s != LIS_OK && strstr(lis_err_msg(), "32x127") && strstr(lis_err_msg(), "32x128"),
              "load rejects a coef of the wrong shape: %s", lis_err_msg());
    /* unknown version */
    memset(&w, 0, sizeof w);
    int64_t good[2] = {k, d};
    lis_st_writer_add(&w, "coef", LIS_DTYPE_F32, 2, good, L.coef);
    lis_st_writer_add(&w, "intercept", LIS_DTYPE_F32, 1, si, L.intercept);
    snprintf(cfg, sizeof cfg, "{\"arch\":\"link\",\"version\":7,\"model\":\"ols\",\"n_in\":%lld,\"n_out\":%lld}",
             (long long)d, (long long)k);
    lis_st_writer_meta(&w, "config", cfg);
    lis_st_write(&w, path);
    lis_st_writer_free(&w);
    s = lis_link_load(&M, path);
    lis_check(s != LIS_OK && strstr(lis_err_msg(), "version 7"), "load rejects version 7: %s", lis_err_msg());
    remove(path);
    lis_link_free(&L);

    /* non-finite inputs are refused with their position */
    float *R2 = malloc(sizeof(float) * (size_t)(n * d));
    memcpy(R2, R, sizeof(float) * (size_t)(n * d));
    R2[5 * d + 17] = NAN;
    lis_link_params_default(&p, LIS_LINK_OLS);
    s = lis_link_fit(&L, &p, n, (int)d, (int)k, R2, d, W, k, NULL);
    lis_check(s != LIS_OK && strstr(lis_err_msg(), "r[5, 17]"), "fit rejects NaN input: %s", lis_err_msg());
    free(R2);
    p.l1_ratio = 1.5;
    p.model = LIS_LINK_ENET;
    s = lis_link_fit(&L, &p, n, (int)d, (int)k, R, d, W, k, NULL);
    lis_check(s == LIS_ERR_USAGE, "fit rejects l1_ratio 1.5: %s", lis_err_msg());
}

/* ridge with alpha = 0 on rank-deficient data: Cholesky fails, the eigen fallback gives the
 * minimum-norm (OLS) solution, as sklearn's SVD fallback does */
static void test_ridge_fallback(const lis_safetensors *st, const lis_safetensors *mn) {
    int64_t n = 0, d = 0, n2 = 0, k = 0;
    const float *R = ref_f32(st, "collinear.r", &n, &d), *W = ref_f32(st, "collinear.w", &n2, &k);
    size_t nc = 0;
    const double *rcoef = ref_f64(mn, "collinear.ols_minnorm.coef", &nc);
    if (!R || !W || !rcoef) return;
    lis_link_params p;
    lis_link_params_default(&p, LIS_LINK_RIDGE);
    p.alpha = 0;
    lis_link L;
    lis_link_fit_info info;
    if (!lis_check_ok(lis_link_fit(&L, &p, n, (int)d, (int)k, R, d, W, k, &info), "ridge alpha=0")) return;
    lis_check(info.ridge_fallback, "ridge alpha=0 on collinear data falls back to the eigendecomposition");
    check_rel("ridge alpha=0 collinear: coef = OLS minimum-norm", L.coef64, rcoef, nc, 1e-6);
    lis_link_free(&L);
}

int main(void) {
    /* kernels */
    test_gram(1, 1, 1);
    test_gram(7, 5, 0);
    test_gram(300, 13, 5);
    test_gram(513, 64, 40);
    test_gram(600, 200, 70); /* several task blocks, some wholly below the diagonal */
    int eig_n[] = {1, 2, 3, 5, 40, 150};
    for (size_t i = 0; i < sizeof eig_n / sizeof *eig_n; i++) test_eig(eig_n[i], 0, 0);
    test_eig(60, 1, 0);
    test_eig(30, 0, 1);
    test_chol(1, 1);
    test_chol(37, 3);
    test_chol(130, 70);
    test_eig(100, 0, 0);

    /* scikit-learn references */
    lis_safetensors st, mn;
    if (lis_test_open(&st, "linking/io.safetensors") != LIS_OK) return lis_test_finish();
    if (lis_test_open(&mn, "linking/minnorm.safetensors") != LIS_OK) { lis_st_close(&st); return lis_test_finish(); }
    const char *cases[] = {"full", "collinear", "wide"};
    for (int c = 0; c < 3; c++) {
        test_case(&st, &mn, cases[c], "ols", LIS_LINK_OLS, 1.0);
        test_case(&st, &mn, cases[c], "ridge", LIS_LINK_RIDGE, 1.0);
        test_case(&st, &mn, cases[c], "ridge_a10", LIS_LINK_RIDGE, 10.0);
        test_case(&st, &mn, cases[c], "enet", LIS_LINK_ENET, 1.0);
    }
    test_rank(&st);
    test_ridge_fallback(&st, &mn);
    test_enet_paths();
    test_score();
    test_file(&st);
    lis_st_close(&st);
    lis_st_close(&mn);
    return lis_test_finish();
}
