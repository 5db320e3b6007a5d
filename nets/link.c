/* link.c — fit, apply, score, save and load the linking network (see link.h).
 *
 * Fit pipeline (all float64): column means -> G = Xc^T Xc and C = Xc^T Yc in one packed pass
 * over the data (kernels/linalg.c) -> model solve on (G, C) -> intercept. The data are read
 * twice (means, then Gram) and never copied whole; memory is O(n_in^2 + n_in n_out).
 * Cost for 25,000 x 2048 -> 512: the Gram pass is 25,000 * 2048 * (1024 + 512) FMA, the
 * eigendecomposition O(n_in^3), the enet sweeps O(n_in^2) each per target.
 */
#include "nets/link.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm.h"
#include "kernels/linalg.h"
#include "runtime/json.h"
#include "runtime/safetensors.h"
#include "runtime/threads.h"

static const char *const model_names[LIS_LINK_MODEL_COUNT] = {"ols", "ridge", "enet"};

const char *lis_link_model_name(lis_link_model m) {
    return (unsigned)m < LIS_LINK_MODEL_COUNT ? model_names[m] : "?";
}

int lis_link_model_parse(const char *s, lis_link_model *m) {
    for (int i = 0; i < LIS_LINK_MODEL_COUNT; i++)
        if (!strcmp(s, model_names[i])) { *m = (lis_link_model)i; return 1; }
    return 0;
}

void lis_link_params_default(lis_link_params *p, lis_link_model m) {
    p->model = m;
    p->alpha = 1.0;
    p->l1_ratio = 0.5;
    p->max_iter = 1000;
    p->tol = 1e-4;
    p->rcond = 1.1920928955078125e-07; /* numpy.finfo(float32).eps */
}

void lis_link_free(lis_link *L) {
    if (!L) return;
    free(L->coef); free(L->intercept); free(L->coef_t); free(L->coef64); free(L->intercept64);
    memset(L, 0, sizeof *L);
}

/* Allocates coef, coef_t and intercept (filled by the caller). */
static lis_status alloc_float(lis_link *L) {
    size_t nc = (size_t)L->n_in * (size_t)L->n_out;
    L->coef = lis_malloc(sizeof(float) * nc, "link: coef");
    L->coef_t = lis_malloc(sizeof(float) * nc, "link: coef");
    L->intercept = lis_malloc(sizeof(float) * (size_t)L->n_out, "link: intercept");
    return L->coef && L->coef_t && L->intercept ? LIS_OK : LIS_ERR;
}

static void fill_transpose(lis_link *L) {
    for (int o = 0; o < L->n_out; o++)
        for (int i = 0; i < L->n_in; i++) L->coef_t[(size_t)i * L->n_out + o] = L->coef[(size_t)o * L->n_in + i];
}

/* ---------------------------------------------------------------- elastic net */

static double soft(double x, double t) { return copysign(fmax(fabs(x) - t, 0.0), x); }

lis_status lis_enet_cd_ref(int64_t n, int p, const double *Xc, const double *y, double alpha, double beta,
                           int max_iter, double tol, double *w, lis_enet_result *res) {
    double *norm = lis_malloc(sizeof(double) * (size_t)p, "enet: workspace");
    double *R = lis_malloc(sizeof(double) * (size_t)n, "enet: workspace");
    double *XtA = lis_malloc(sizeof(double) * (size_t)p, "enet: workspace");
    if (!norm || !R || !XtA) { free(norm); free(R); free(XtA); return LIS_ERR; }
    for (int j = 0; j < p; j++) {
        double s = 0;
        for (int64_t r = 0; r < n; r++) s += Xc[(size_t)j * n + r] * Xc[(size_t)j * n + r];
        norm[j] = s;
    }
    double yy = 0;
    for (int64_t r = 0; r < n; r++) {
        double s = y[r];
        for (int j = 0; j < p; j++) s -= Xc[(size_t)j * n + r] * w[j];
        R[r] = s;
        yy += y[r] * y[r];
    }
    double d_w_tol = tol, gap = 0;
    tol *= yy;
    int it, done = 0;
    for (it = 0; it < max_iter && !done; it++) {
        double w_max = 0, d_w_max = 0;
        for (int ii = 0; ii < p; ii++) {
            if (norm[ii] == 0.0) continue;
            const double *x = Xc + (size_t)ii * n;
            double w_ii = w[ii];
            if (w_ii != 0.0)
                for (int64_t r = 0; r < n; r++) R[r] += w_ii * x[r];
            double tmp = 0;
            for (int64_t r = 0; r < n; r++) tmp += x[r] * R[r];
            w[ii] = soft(tmp, alpha) / (norm[ii] + beta);
            if (w[ii] != 0.0)
                for (int64_t r = 0; r < n; r++) R[r] -= w[ii] * x[r];
            d_w_max = fmax(d_w_max, fabs(w[ii] - w_ii));
            w_max = fmax(w_max, fabs(w[ii]));
        }
        if (w_max == 0.0 || d_w_max / w_max < d_w_tol || it == max_iter - 1) {
            double dual = 0, Rn2 = 0, wn2 = 0, l1 = 0, Ry = 0;
            for (int j = 0; j < p; j++) {
                double s = 0;
                for (int64_t r = 0; r < n; r++) s += Xc[(size_t)j * n + r] * R[r];
                XtA[j] = s - beta * w[j];
                dual = fmax(dual, fabs(XtA[j]));
                wn2 += w[j] * w[j];
                l1 += fabs(w[j]);
            }
            for (int64_t r = 0; r < n; r++) { Rn2 += R[r] * R[r]; Ry += R[r] * y[r]; }
            double cst;
            if (dual > alpha) {
                cst = alpha / dual;
                gap = 0.5 * (Rn2 + Rn2 * cst * cst);
            } else {
                cst = 1.0;
                gap = Rn2;
            }
            gap += alpha * l1 - cst * Ry + 0.5 * beta * (1 + cst * cst) * wn2;
            if (gap < tol) done = 1;
        }
    }
    free(norm); free(R); free(XtA);
    *res = (lis_enet_result){.n_iter = it, .gap = gap, .tol = tol, .converged = gap < tol};
    return LIS_OK;
}

lis_enet_result lis_enet_cd_gram(int p, const double *Q, int64_t ldq, const double *q, double y_norm2, double alpha,
                                 double beta, int max_iter, double tol, double *w, double *H, double *XtA) {
    memset(H, 0, sizeof(double) * (size_t)p); /* H = Q w, over the nonzero w (Q symmetric) */
    for (int j = 0; j < p; j++)
        if (w[j] != 0.0)
            for (int i = 0; i < p; i++) H[i] += w[j] * Q[j * ldq + i];
    double d_w_tol = tol, gap = 0;
    tol *= y_norm2;
    int it, done = 0;
    for (it = 0; it < max_iter && !done; it++) {
        double w_max = 0, d_w_max = 0;
        for (int ii = 0; ii < p; ii++) {
            const double *Qi = Q + ii * ldq;
            if (Qi[ii] == 0.0) continue;
            double w_ii = w[ii];
            if (w_ii != 0.0)
                for (int j = 0; j < p; j++) H[j] -= w_ii * Qi[j];
            w[ii] = soft(q[ii] - H[ii], alpha) / (Qi[ii] + beta);
            if (w[ii] != 0.0)
                for (int j = 0; j < p; j++) H[j] += w[ii] * Qi[j];
            d_w_max = fmax(d_w_max, fabs(w[ii] - w_ii));
            w_max = fmax(w_max, fabs(w[ii]));
        }
        if (w_max == 0.0 || d_w_max / w_max < d_w_tol || it == max_iter - 1) {
            double q_dot_w = 0, dual = 0, wH = 0, wn2 = 0, l1 = 0;
            for (int j = 0; j < p; j++) {
                q_dot_w += w[j] * q[j];
                XtA[j] = q[j] - H[j] - beta * w[j];
                dual = fmax(dual, fabs(XtA[j]));
                wH += w[j] * H[j];
                wn2 += w[j] * w[j];
                l1 += fabs(w[j]);
            }
            double Rn2 = y_norm2 + wH - 2.0 * q_dot_w, cst;
            if (dual > alpha) {
                cst = alpha / dual;
                gap = 0.5 * (Rn2 + Rn2 * cst * cst);
            } else {
                cst = 1.0;
                gap = Rn2;
            }
            gap += alpha * l1 - cst * y_norm2 + cst * q_dot_w + 0.5 * beta * (1 + cst * cst) * wn2;
            if (gap < tol) done = 1;
        }
    }
    return (lis_enet_result){.n_iter = it, .gap = gap, .tol = tol, .converged = gap < tol};
}

typedef struct {
    int p, k;
    const double *G, *C, *ynorm2;
    double alpha, beta, tol;
    int max_iter;
    double *coef;    /* [k, p] output rows */
    double *scratch; /* [nthreads][3p] */
    lis_enet_result *res;
} enet_ctx;

static void enet_task(void *vc, int64_t o, int tid) {
    enet_ctx *x = vc;
    int p = x->p;
    double *q = x->scratch + (size_t)tid * 3 * p, *H = q + p, *XtA = H + p;
    for (int j = 0; j < p; j++) q[j] = x->C[(size_t)j * x->k + o];
    double *w = x->coef + (size_t)o * p;
    memset(w, 0, sizeof(double) * (size_t)p);
    x->res[o] = lis_enet_cd_gram(p, x->G, p, q, x->ynorm2[o], x->alpha, x->beta, x->max_iter, x->tol, w, H, XtA);
}

/* ---------------------------------------------------------------- fit */

static lis_status check_params(const lis_link_params *p) {
    if ((unsigned)p->model >= LIS_LINK_MODEL_COUNT) return lis_err_usage("link: unknown model %d", (int)p->model);
    if (!(p->alpha >= 0) || !isfinite(p->alpha)) return lis_err_usage("link: alpha must be >= 0 (got %g)", p->alpha);
    if (!(p->l1_ratio >= 0 && p->l1_ratio <= 1))
        return lis_err_usage("link: l1_ratio must be in [0, 1] (got %g)", p->l1_ratio);
    if (p->max_iter < 1) return lis_err_usage("link: max_iter must be >= 1 (got %d)", p->max_iter);
    if (!(p->tol >= 0) || !isfinite(p->tol)) return lis_err_usage("link: tol must be >= 0 (got %g)", p->tol);
    if (!(p->rcond >= 0 && p->rcond < 1)) return lis_err_usage("link: rcond must be in [0, 1) (got %g)", p->rcond);
    return LIS_OK;
}

/* B [p, k] := V diag(f(eval)) V^T B, f(l) = 1/(l + shift) for l > cut, else 0. */
static lis_status eig_solve(const lis_symeig *e, double *B, int k, double shift, double cut, int *rank) {
    LIS_TRY(lis_symeig_apply_vt(e, B, k, k));
    int r = 0;
    for (int i = 0; i < e->n; i++) {
        double l = e->eval[i], f = 0;
        if (l > cut) { f = 1.0 / (l + shift); r++; }
        double *row = B + (size_t)i * k;
        for (int j = 0; j < k; j++) row[j] *= f;
    }
    if (rank) *rank = r;
    return lis_symeig_apply_v(e, B, k, k);
}

lis_status lis_link_fit(lis_link *L, const lis_link_params *prm, int64_t n, int n_in, int n_out, const float *X,
                        int64_t ldx, const float *Y, int64_t ldy, lis_link_fit_info *info) {
    lis_link_fit_info dummy;
    if (!info) info = &dummy;
    memset(info, 0, sizeof *info);
    info->rank = -1;
    memset(L, 0, sizeof *L);
    LIS_TRY(check_params(prm));
    if (n < 1 || n_in < 1 || n_out < 1)
        return lis_err_usage("link: need at least one sample, input and output (got n=%lld, n_in=%d, n_out=%d)",
                             (long long)n, n_in, n_out);
    if (ldx < n_in || ldy < n_out) return lis_err_set("link: row stride smaller than the row");
    L->n_in = n_in;
    L->n_out = n_out;
    L->params = *prm;
    L->n_train = n;
    L->rank = -1;

    size_t p = (size_t)n_in, k = (size_t)n_out;
    double *xm = lis_calloc(p, sizeof(double), "link: means"), *ym = lis_calloc(k, sizeof(double), "link: means");
    double *yn2 = lis_calloc(k, sizeof(double), "link: means");
    double *G = lis_malloc(sizeof(double) * p * p, "link: Gram matrix (n_in^2 doubles)");
    double *C = lis_malloc(sizeof(double) * p * k, "link: X^T Y");
    L->coef64 = lis_calloc(p * k, sizeof(double), "link: coef");
    L->intercept64 = lis_calloc(k, sizeof(double), "link: intercept");
    lis_status s = LIS_OK;
    lis_symeig eig = {0};
    if (!xm || !ym || !yn2 || !G || !C || !L->coef64 || !L->intercept64) { s = LIS_ERR; goto done; }

    /* means (and a finiteness check: sklearn rejects NaN/inf input) */
    double t0 = lis_now();
    for (int64_t r = 0; r < n; r++) {
        const float *x = X + r * ldx, *y = Y + r * ldy;
        for (size_t j = 0; j < p; j++) xm[j] += x[j];
        for (size_t j = 0; j < k; j++) ym[j] += y[j];
    }
    for (size_t j = 0; j < p; j++) xm[j] /= (double)n;
    for (size_t j = 0; j < k; j++) ym[j] /= (double)n;
    for (size_t j = 0; j < p && s == LIS_OK; j++)
        if (!isfinite(xm[j])) {
            for (int64_t r = 0; r < n; r++)
                if (!isfinite(X[r * ldx + j])) {
                    s = lis_err_set("link: r[%lld, %zu] is not finite (%g)", (long long)r, j, X[r * ldx + j]);
                    break;
                }
            if (s == LIS_OK) s = lis_err_set("link: column %zu of r overflows float64 when summed", j);
        }
    for (size_t j = 0; j < k && s == LIS_OK; j++)
        if (!isfinite(ym[j])) {
            for (int64_t r = 0; r < n; r++)
                if (!isfinite(Y[r * ldy + j])) {
                    s = lis_err_set("link: w[%lld, %zu] is not finite (%g)", (long long)r, j, Y[r * ldy + j]);
                    break;
                }
            if (s == LIS_OK) s = lis_err_set("link: column %zu of w overflows float64 when summed", j);
        }
    if (s != LIS_OK) goto done;
    for (int64_t r = 0; r < n; r++) {
        const float *y = Y + r * ldy;
        for (size_t j = 0; j < k; j++) {
            double d = y[j] - ym[j];
            yn2[j] += d * d;
        }
    }
    double t1 = lis_now();
    info->t_moments = t1 - t0;

    if ((s = lis_gram_centered_cpu(n, n_in, n_out, X, ldx, xm, Y, ldy, ym, G, C)) != LIS_OK) goto done;
    double t2 = lis_now();
    info->t_gram = t2 - t1;

    /* B [p, k] = solution on centred data; coef = B^T */
    double *B = C;
    switch (prm->model) {
    case LIS_LINK_OLS: {
        if ((s = lis_symeig_compute(&eig, n_in, G, n_in)) != LIS_OK) goto done;
        double lmax = 0;
        for (size_t i = 0; i < p; i++) lmax = fmax(lmax, eig.eval[i]);
        double floor_rel = (double)n_in * DBL_EPSILON, rel = prm->rcond * prm->rcond;
        double cut = lmax * (rel > floor_rel ? rel : floor_rel);
        if ((s = eig_solve(&eig, B, n_out, 0.0, cut, &info->rank)) != LIS_OK) goto done;
        L->rank = info->rank;
        break;
    }
    case LIS_LINK_RIDGE: {
        /* keep G for a possible fallback: factor a copy */
        double *A = lis_malloc(sizeof(double) * p * p, "link: ridge matrix");
        if (!A) { s = LIS_ERR; goto done; }
        memcpy(A, G, sizeof(double) * p * p);
        for (size_t i = 0; i < p; i++) A[i * p + i] += prm->alpha;
        if (lis_chol_factor(n_in, A, n_in) == 0) {
            s = lis_chol_solve(n_in, A, n_in, B, n_out, n_out);
            free(A);
            if (s != LIS_OK) goto done;
        } else {
            free(A);
            info->ridge_fallback = 1;
            if ((s = lis_symeig_compute(&eig, n_in, G, n_in)) != LIS_OK) goto done;
            double lmax = 0;
            for (size_t i = 0; i < p; i++) lmax = fmax(lmax, eig.eval[i]);
            if ((s = eig_solve(&eig, B, n_out, prm->alpha, lmax * (double)n_in * DBL_EPSILON, NULL)) != LIS_OK)
                goto done;
        }
        break;
    }
    case LIS_LINK_ENET: {
        int nt = lis_threads_count();
        enet_ctx x = {.p = n_in, .k = n_out, .G = G, .C = C, .ynorm2 = yn2, .max_iter = prm->max_iter,
                      .tol = prm->tol, .coef = L->coef64};
        x.alpha = prm->alpha * prm->l1_ratio * (double)n;
        x.beta = prm->alpha * (1.0 - prm->l1_ratio) * (double)n;
        x.scratch = lis_malloc(sizeof(double) * 3 * p * (size_t)nt, "link: enet workspace");
        x.res = lis_malloc(sizeof(lis_enet_result) * k, "link: enet results");
        if (!x.scratch || !x.res) { free(x.scratch); free(x.res); s = LIS_ERR; goto done; }
        lis_parallel_for(n_out, enet_task, &x);
        for (size_t o = 0; o < k; o++) {
            if (x.res[o].n_iter > info->enet_max_n_iter) info->enet_max_n_iter = x.res[o].n_iter;
            if (!x.res[o].converged) info->enet_not_converged++;
            if (x.res[o].gap > info->enet_max_gap) info->enet_max_gap = x.res[o].gap;
        }
        free(x.scratch);
        free(x.res);
        B = NULL; /* coef64 already holds the rows */
        break;
    }
    default: s = lis_err_set("link: unknown model"); goto done;
    }
    if (B)
        for (size_t o = 0; o < k; o++)
            for (size_t i = 0; i < p; i++) L->coef64[o * p + i] = B[i * k + o];
    for (size_t o = 0; o < k; o++) {
        double b = ym[o];
        for (size_t i = 0; i < p; i++) b -= L->coef64[o * p + i] * xm[i];
        L->intercept64[o] = b;
    }
    info->t_solve = lis_now() - t2;

    if ((s = alloc_float(L)) != LIS_OK) goto done;
    for (size_t i = 0; i < p * k; i++) L->coef[i] = (float)L->coef64[i];
    for (size_t o = 0; o < k; o++) L->intercept[o] = (float)L->intercept64[o];
    fill_transpose(L);
done:
    lis_symeig_free(&eig);
    free(xm); free(ym); free(yn2); free(G); free(C);
    if (s != LIS_OK) lis_link_free(L);
    return s;
}

/* ---------------------------------------------------------------- apply and score */

lis_status lis_link_apply(const lis_link *L, int64_t n, const float *X, int64_t ldx, float *Y, int64_t ldy) {
    if (ldx > INT32_MAX || ldy > INT32_MAX) return lis_err_set("link: row stride too large for the GEMM");
    const float **rows = lis_malloc(sizeof(float *) * (size_t)L->n_in, "link: row table");
    if (!rows) return LIS_ERR;
    lis_gemm_rows_from_matrix(L->coef_t, L->n_in, L->n_out, rows);
    const int64_t step = 1 << 20; /* gemm takes int M */
    for (int64_t r0 = 0; r0 < n; r0 += step) {
        int m = (int)(n - r0 < step ? n - r0 : step);
        lis_gemm_cpu(m, L->n_out, L->n_in, X + r0 * ldx, (int)ldx, rows, Y + r0 * ldy, (int)ldy, 0);
    }
    for (int64_t r = 0; r < n; r++)
        for (int o = 0; o < L->n_out; o++) Y[r * ldy + o] += L->intercept[o];
    free(rows);
    return LIS_OK;
}

void lis_link_score(int64_t n, int k, const float *Y, int64_t ldy, const float *P, int64_t ldp, double *mse,
                    double *r2) {
    double sse = 0, r2sum = 0;
    for (int j = 0; j < k; j++) {
        double mean = 0, res = 0, tot = 0;
        for (int64_t r = 0; r < n; r++) mean += Y[r * ldy + j];
        mean /= (double)(n > 0 ? n : 1);
        for (int64_t r = 0; r < n; r++) {
            double y = Y[r * ldy + j], d = y - P[r * ldp + j];
            res += d * d;
            tot += (y - mean) * (y - mean);
        }
        sse += res;
        r2sum += tot != 0 ? 1.0 - res / tot : (res == 0 ? 1.0 : 0.0);
    }
    *mse = n > 0 && k > 0 ? sse / ((double)n * k) : NAN;
    *r2 = n >= 2 && k > 0 ? r2sum / k : NAN;
}

/* ---------------------------------------------------------------- file */

lis_status lis_link_save(const lis_link *L, const char *path, const char *origin) {
    lis_sbuf cfg = {0};
    const lis_link_params *p = &L->params;
    lis_sbuf_printf(&cfg,
                    "{\"arch\":\"link\",\"version\":1,\"model\":\"%s\",\"alpha\":%.17g,\"l1_ratio\":%.17g,"
                    "\"max_iter\":%d,\"tol\":%.17g,\"rcond\":%.17g,\"n_in\":%d,\"n_out\":%d,\"n_train\":%lld,"
                    "\"rank\":%d}",
                    lis_link_model_name(p->model), p->alpha, p->l1_ratio, p->max_iter, p->tol, p->rcond, L->n_in,
                    L->n_out, (long long)L->n_train, L->rank);
    if (cfg.oom) { lis_sbuf_free(&cfg); return lis_err_set("out of memory"); }
    lis_st_writer w = {0};
    int64_t sc[2] = {L->n_out, L->n_in}, si[1] = {L->n_out};
    lis_status s = lis_st_writer_add(&w, "coef", LIS_DTYPE_F32, 2, sc, L->coef);
    if (s == LIS_OK) s = lis_st_writer_add(&w, "intercept", LIS_DTYPE_F32, 1, si, L->intercept);
    if (s == LIS_OK) s = lis_st_writer_meta(&w, "config", cfg.s);
    if (s == LIS_OK && origin) s = lis_st_writer_meta(&w, "origin", origin);
    if (s == LIS_OK) s = lis_st_write(&w, path);
    lis_st_writer_free(&w);
    lis_sbuf_free(&cfg);
    return s;
}

/* Copies tensor `name` of shape [d0] or [d0, d1] into a new float array (F32 or F64). */
static lis_status load_tensor(const lis_safetensors *st, const char *path, const char *name, int ndim,
                              const int64_t *shape, float **out) {
    const lis_st_entry *e = lis_st_find(st, name);
    if (!e) return lis_err_set("%s: missing tensor '%s'", path, name);
    char got[128], want[128];
    int ok = e->t.ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = e->t.shape[i] == shape[i];
    if (!ok)
        return lis_err_set("%s: '%s' is %s, expected %s (from the config's n_out x n_in)", path, name,
                           lis_shape_str(e->t.ndim, e->t.shape, got, sizeof got), lis_shape_str(ndim, shape, want, sizeof want));
    if (e->t.dtype != LIS_DTYPE_F32 && e->t.dtype != LIS_DTYPE_F64)
        return lis_err_set("%s: '%s' has dtype %s, expected F32 or F64", path, name, lis_dtype_name(e->t.dtype));
    lis_tensor f;
    LIS_TRY(lis_tensor_to_f32(&e->t, &f));
    *out = f.data; /* owned copy */
    return LIS_OK;
}

lis_status lis_link_load(lis_link *L, const char *path) {
    memset(L, 0, sizeof *L);
    lis_safetensors st;
    LIS_TRY(lis_st_open(&st, path));
    lis_status s = LIS_OK;
    lis_json *cfg = NULL;
    const char *text = lis_st_meta(&st, "config");
    if (!text) { s = lis_err_set("%s: no 'config' metadata: not a lis link file", path); goto done; }
    cfg = lis_json_parse(text, strlen(text));
    if (!cfg) { lis_err_prefix("%s: metadata 'config'", path); s = LIS_ERR; goto done; }
    const lis_json *arch = lis_json_get(cfg, "arch"), *model = lis_json_get(cfg, "model");
    if (!arch || arch->type != LIS_JSON_STR || strcmp(arch->str, "link") != 0) {
        s = lis_err_set("%s: config arch is not \"link\"", path);
        goto done;
    }
    int64_t ver = 0, n_in = 0, n_out = 0, n_train = 0, rank = -1, max_iter = 1000;
    char ctx[600];
    snprintf(ctx, sizeof ctx, "%s: config", path);
    if ((s = lis_json_int(cfg, "version", &ver, ctx)) != LIS_OK) goto done;
    if (ver != 1) { s = lis_err_set("%s: link file version %lld is not supported (this build reads 1)", path, (long long)ver); goto done; }
    if (!model || model->type != LIS_JSON_STR || !lis_link_model_parse(model->str, &L->params.model)) {
        s = lis_err_set("%s: config model must be \"ols\", \"ridge\" or \"enet\"", path);
        goto done;
    }
    lis_link_params_default(&L->params, L->params.model);
    if ((s = lis_json_int(cfg, "n_in", &n_in, ctx)) != LIS_OK || (s = lis_json_int(cfg, "n_out", &n_out, ctx)) != LIS_OK)
        goto done;
    if (n_in < 1 || n_out < 1 || n_in > (1 << 24) || n_out > (1 << 24)) {
        s = lis_err_set("%s: config n_in=%lld, n_out=%lld out of range", path, (long long)n_in, (long long)n_out);
        goto done;
    }
    if ((s = lis_json_double_opt(cfg, "alpha", &L->params.alpha, ctx)) != LIS_OK ||
        (s = lis_json_double_opt(cfg, "l1_ratio", &L->params.l1_ratio, ctx)) != LIS_OK ||
        (s = lis_json_double_opt(cfg, "tol", &L->params.tol, ctx)) != LIS_OK ||
        (s = lis_json_double_opt(cfg, "rcond", &L->params.rcond, ctx)) != LIS_OK ||
        (s = lis_json_int_opt(cfg, "max_iter", &max_iter, ctx)) != LIS_OK ||
        (s = lis_json_int_opt(cfg, "n_train", &n_train, ctx)) != LIS_OK ||
        (s = lis_json_int_opt(cfg, "rank", &rank, ctx)) != LIS_OK)
        goto done;
    L->params.max_iter = (int)(max_iter > INT32_MAX ? INT32_MAX : max_iter);
    L->n_in = (int)n_in;
    L->n_out = (int)n_out;
    L->n_train = n_train;
    L->rank = (int)rank;
    for (size_t i = 0; i < st.n; i++)
        if (strcmp(st.entries[i].name, "coef") && strcmp(st.entries[i].name, "intercept")) {
            s = lis_err_set("%s: unexpected tensor '%s' (a link file holds 'coef' and 'intercept')", path,
                            st.entries[i].name);
            goto done;
        }
    int64_t sc[2] = {n_out, n_in}, si[1] = {n_out};
    if ((s = load_tensor(&st, path, "coef", 2, sc, &L->coef)) != LIS_OK) goto done;
    if ((s = load_tensor(&st, path, "intercept", 1, si, &L->intercept)) != LIS_OK) goto done;
    L->coef_t = lis_malloc(sizeof(float) * (size_t)n_in * (size_t)n_out, "link: coef");
    if (!L->coef_t) { s = LIS_ERR; goto done; }
    fill_transpose(L);
    for (int64_t i = 0; i < n_in * n_out; i++)
        if (!isfinite(L->coef[i])) { s = lis_err_set("%s: coef holds a non-finite value", path); goto done; }
    for (int64_t i = 0; i < n_out; i++)
        if (!isfinite(L->intercept[i])) { s = lis_err_set("%s: intercept holds a non-finite value", path); goto done; }
done:
    lis_json_free(cfg);
    lis_st_close(&st);
    if (s != LIS_OK) lis_link_free(L);
    return s;
}
