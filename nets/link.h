/* link.h — the linking network of "Linking in Style": a linear map from a classifier's
 * penultimate features r (n_in = 2048 for ResNet-50) to a StyleGAN-XL latent w (n_out = 512):
 *
 *     w = coef . r + intercept          (sklearn: predict(X) = X @ coef_.T + intercept_)
 *
 * fitted like scikit-learn's estimators with fit_intercept=True (spec/pipeline.md §3.2):
 * X and Y are centred, the model is solved on the centred data, and
 * intercept = mean(Y) - coef . mean(X). No feature scaling. All fitting is float64.
 *
 *  ols   LinearRegression(): minimum-norm least squares, like scipy.linalg.lstsq (gelsd):
 *        singular values of Xc below rcond * s_max count as zero. Solved from G = Xc^T Xc by
 *        eigendecomposition, dropping eigenvalues below max(rcond^2, n_in * eps64) * lambda_max
 *        (the n_in * eps64 floor is the eigensolver's own noise level; gelsd has a lower one).
 *        Default rcond = 1.1920929e-07 = float32 eps: what sklearn < 1.3 passes (via scipy's
 *        default) for the original's float32 data; sklearn >= 1.3 uses max(n, p) * eps, i.e.
 *        --rcond 3e-3 for 25,000 x 2048 float32 data (spec §3.2: record the sklearn version).
 *  ridge Ridge(alpha): (Xc^T Xc + alpha I) B = Xc^T Yc by Cholesky, one factorisation for all
 *        targets (sklearn 'cholesky'); intercept not penalised. If the matrix is not positive
 *        definite (alpha = 0 on rank-deficient data) it falls back to the eigendecomposition,
 *        as sklearn falls back to its SVD solver.
 *  enet  ElasticNet(alpha, l1_ratio): each target fitted independently by cyclic coordinate
 *        descent minimising 1/(2n)||y - Xc b||^2 + alpha l1_ratio ||b||_1
 *        + alpha (1 - l1_ratio)/2 ||b||^2, from b = 0, with sklearn's duality-gap stopping rule
 *        (max_iter, tol; gap checked after a sweep whose largest |db| / max|b| < tol, or the
 *        last one; stop when gap < tol ||yc||^2). The fast path is sklearn's Gram variant
 *        (enet_coordinate_descent_gram): same iterates as the residual form that
 *        ElasticNet(precompute=False) runs, at O(p^2) instead of O(n p) per sweep;
 *        lis_enet_cd_ref is the residual form, kept as the oracle.
 *
 * Weight file (safetensors, written atomically):
 *     coef       F32 [n_out, n_in]   sklearn coef_ (targets x features)
 *     intercept  F32 [n_out]         sklearn intercept_
 *     __metadata__ "config": {"arch":"link","version":1,"model":"ols","alpha":1,"l1_ratio":0.5,
 *                             "max_iter":1000,"tol":0.0001,"rcond":1.1920929e-07,
 *                             "n_in":2048,"n_out":512,"n_train":25000,"rank":2011}
 *                  "origin": free text (command line, inputs, data hash)
 * The loader also accepts F64 tensors (converted to float32) and rejects other tensors,
 * other versions and shapes that disagree with n_in/n_out.
 */
#ifndef LIS_NETS_LINK_H
#define LIS_NETS_LINK_H

#include <stdint.h>

#include "runtime/status.h"

typedef enum { LIS_LINK_OLS = 0, LIS_LINK_RIDGE, LIS_LINK_ENET, LIS_LINK_MODEL_COUNT } lis_link_model;

typedef struct {
    lis_link_model model;
    double alpha;    /* ridge, enet penalty (sklearn default 1.0) */
    double l1_ratio; /* enet: share of L1 in the penalty (0.5) */
    int max_iter;    /* enet: coordinate-descent sweeps (1000) */
    double tol;      /* enet: tolerance (1e-4) */
    double rcond;    /* ols: relative singular-value cutoff (1.1920929e-07) */
} lis_link_params;

typedef struct {
    int rank;                /* ols: directions kept (sklearn rank_); -1 otherwise */
    int ridge_fallback;      /* ridge: Cholesky failed, eigendecomposition used */
    int enet_max_n_iter;     /* enet: largest sweep count over targets (sklearn n_iter_) */
    int enet_not_converged;  /* enet: targets that ended at max_iter with gap >= tol */
    double enet_max_gap;     /* enet: largest final duality gap (sklearn dual_gap_) */
    double t_moments, t_gram, t_solve; /* seconds: means and checks, Xc^T [Xc Yc], solve */
} lis_link_fit_info;

typedef struct {
    int n_in, n_out;
    lis_link_params params;
    int64_t n_train;      /* samples fitted on (0 if unknown) */
    int rank;             /* ols rank, -1 if not applicable */
    float *coef;          /* [n_out, n_in] */
    float *intercept;     /* [n_out] */
    float *coef_t;        /* [n_in, n_out] transposed copy: the B operand of the apply GEMM */
    double *coef64;       /* [n_out, n_in] float64 fit result; NULL when loaded from a file */
    double *intercept64;  /* [n_out] */
} lis_link;

const char *lis_link_model_name(lis_link_model m); /* "ols", "ridge", "enet" */
int lis_link_model_parse(const char *s, lis_link_model *m); /* 1 if known */
void lis_link_params_default(lis_link_params *p, lis_link_model m);

/* Fits on X [n, n_in] (row stride ldx) -> Y [n, n_out] (row stride ldy; ldy = 32*512 takes
 * the first w of a [n, 32, 512] array). Rejects non-finite inputs, naming row and column.
 * info may be NULL. */
lis_status lis_link_fit(lis_link *L, const lis_link_params *p, int64_t n, int n_in, int n_out, const float *X,
                        int64_t ldx, const float *Y, int64_t ldy, lis_link_fit_info *info);

/* Y [n, n_out] (row stride ldy) = X [n, n_in] (row stride ldx) . coef^T + intercept,
 * float32 (as the original applies coef_ with torch/numpy float32). */
lis_status lis_link_apply(const lis_link *L, int64_t n, const float *X, int64_t ldx, float *Y, int64_t ldy);

/* Held-out metrics of predictions P against targets Y (both [n, k]):
 *   mse = mean over all n*k entries of (Y - P)^2            (the original's printed metric)
 *   r2  = sklearn r2_score(Y, P, multioutput='uniform_average'): mean over outputs of
 *         1 - SS_res/SS_tot; an output with SS_tot = 0 scores 1 if SS_res = 0 else 0;
 *         NaN when n < 2. */
void lis_link_score(int64_t n, int k, const float *Y, int64_t ldy, const float *P, int64_t ldp, double *mse,
                    double *r2);

lis_status lis_link_save(const lis_link *L, const char *path, const char *origin);
lis_status lis_link_load(lis_link *L, const char *path);
void lis_link_free(lis_link *L);

/* ---- ElasticNet coordinate descent for one target (exposed for tests) ----
 * alpha = l1 penalty * n, beta = l2 penalty * n (sklearn's internal scaling); w [p] holds the
 * start on entry and the solution on exit. */
typedef struct {
    int n_iter;      /* sweeps run (sklearn n_iter_) */
    double gap, tol; /* final duality gap and the scaled tolerance tol * ||y||^2 */
    int converged;   /* gap < tol */
} lis_enet_result;

/* sklearn enet_coordinate_descent (residual form). Xc: centred data, column-major [p][n]
 * (sklearn's Fortran-ordered X); y: centred target [n]. */
lis_status lis_enet_cd_ref(int64_t n, int p, const double *Xc, const double *y, double alpha, double beta,
                           int max_iter, double tol, double *w, lis_enet_result *res);
/* sklearn enet_coordinate_descent_gram: Q = Xc^T Xc [p, p] (row stride ldq), q = Xc^T y [p],
 * y_norm2 = ||y||^2. H, XtA: [p] scratch. */
lis_enet_result lis_enet_cd_gram(int p, const double *Q, int64_t ldq, const double *q, double y_norm2, double alpha,
                                 double beta, int max_iter, double tol, double *w, double *H, double *XtA);

#endif
