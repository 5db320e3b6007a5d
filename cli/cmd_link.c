/* cmd_link.c — `lis-run fit-link` and `lis-run apply-link`: fit the linking network r -> w
 * from .npy pairs, and apply a fitted one (nets/link.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "nets/link.h"
#include "runtime/npy.h"
#include "runtime/threads.h"

static const char fit_usage[] =
    "usage: lis-run fit-link --r R.npy --w W.npy -o LINK.safetensors [options]\n"
    "\n"
    "Fits the linking network w = coef . r + intercept like scikit-learn (fit_intercept=True,\n"
    "float64 solve) and writes coef [n_out, n_in] and intercept [n_out] as float32 safetensors.\n"
    "\n"
    "  --r FILE          features r, [N, n_in] (e.g. N x 2048; any numeric dtype)     required\n"
    "  --w FILE          latents w, [N, n_out] or [N, S, n_out]; of [N, 32, 512] the first\n"
    "                    row of each sample is used, as the original does               required\n"
    "  -o, --out FILE    output link file (.safetensors, written atomically)           required\n"
    "  --model M         ols (LinearRegression), ridge (Ridge), enet (ElasticNet)     default ols\n"
    "  --alpha A         ridge / enet penalty strength                                 default 1.0\n"
    "  --l1-ratio L      enet: L1 share of the penalty, in [0, 1]                      default 0.5\n"
    "  --max-iter N      enet: coordinate-descent sweeps per target                    default 1000\n"
    "  --tol T           enet: tolerance (duality gap < T ||y - mean y||^2)            default 1e-4\n"
    "  --rcond R         ols: singular values below R * s_max count as zero (minimum-norm\n"
    "                    solution); 1.1920929e-07 = float32 eps as sklearn < 1.3 passes it;\n"
    "                    sklearn >= 1.3 uses max(N, n_in) * 1.19e-7 (~3e-3 for 25000 pairs)\n"
    "                                                                                  default 1.1920929e-07\n"
    "  --holdout F       hold out a random fraction F in [0, 1) of the pairs (ceil(F N)\n"
    "                    rows) and report their MSE and R2                             default 0 (none)\n"
    "  --seed S          seed of the hold-out draw                                     default 0\n"
    "  --r-test FILE     separate held-out pairs (e.g. the test partition); needs\n"
    "  --w-test FILE     both; reported like --holdout                                 default none\n"
    "\n"
    "Prints the training MSE (the original's metric), held-out MSE and R2 (sklearn r2_score,\n"
    "uniform average over the n_out outputs), the OLS rank and timings.\n"
    "Environment: LIS_THREADS=N sets the CPU thread count.\n";

static const char apply_usage[] =
    "usage: lis-run apply-link --link LINK.safetensors --r R.npy -o W.npy [options]\n"
    "\n"
    "Computes w = coef . r + intercept (float32) for every row of r.\n"
    "\n"
    "  --link FILE       link file written by fit-link                                 required\n"
    "  --r FILE          features r, [N, n_in] or a single [n_in] vector (N = 1)        required\n"
    "  -o, --out FILE    output w .npy (float32, written atomically): [N, n_out], or\n"
    "                    [N, K, n_out] with --ws K                                     required\n"
    "  --ws K            repeat each w K times (StyleGAN-XL takes 32 ws per image)     default 0 (no repeat)\n"
    "  --w-true FILE     targets [N, n_out] or [N, S, n_out]: print MSE and R2 against them  default none\n";

/* ---------------------------------------------------------------- helpers */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Reads r as float32 [N, n_in] (1-D allowed when allow_1d: N = 1). */
static lis_status read_r(const char *opt, const char *path, int allow_1d, lis_tensor *t, int64_t *n, int64_t *d) {
    LIS_TRY(lis_npy_read_f32(path, t));
    char sh[128];
    if (t->ndim == 2) { *n = t->shape[0]; *d = t->shape[1]; }
    else if (t->ndim == 1 && allow_1d) { *n = 1; *d = t->shape[0]; }
    else {
        lis_status s = lis_err_usage("%s %s: expected %s, got shape %s", opt, path,
                                     allow_1d ? "[N, n_in] or [n_in]" : "[N, n_in] (2-D)",
                                     lis_shape_str(t->ndim, t->shape, sh, sizeof sh));
        lis_tensor_free(t);
        return s;
    }
    if (*n < 1 || *d < 1 || *d > (1 << 24)) {
        lis_status s = lis_err_usage("%s %s: shape %s has no usable rows/features", opt, path,
                                     lis_shape_str(t->ndim, t->shape, sh, sizeof sh));
        lis_tensor_free(t);
        return s;
    }
    return LIS_OK;
}

/* Reads w as float32 [N, n_out] or [N, S, n_out]; *ld = row stride (S * n_out). */
static lis_status read_w(const char *opt, const char *path, lis_tensor *t, int64_t *n, int64_t *k, int64_t *ld) {
    LIS_TRY(lis_npy_read_f32(path, t));
    char sh[128];
    if (t->ndim == 2) { *n = t->shape[0]; *k = t->shape[1]; *ld = *k; }
    else if (t->ndim == 3 && t->shape[1] >= 1) { *n = t->shape[0]; *k = t->shape[2]; *ld = t->shape[1] * t->shape[2]; }
    else {
        lis_status s = lis_err_usage("%s %s: expected [N, n_out] or [N, S, n_out], got shape %s", opt, path,
                                     lis_shape_str(t->ndim, t->shape, sh, sizeof sh));
        lis_tensor_free(t);
        return s;
    }
    if (*n < 1 || *k < 1 || *k > (1 << 24)) {
        lis_status s = lis_err_usage("%s %s: shape %s has no usable rows/outputs", opt, path,
                                     lis_shape_str(t->ndim, t->shape, sh, sizeof sh));
        lis_tensor_free(t);
        return s;
    }
    return LIS_OK;
}

/* Predicts X [n, d] with L and scores against Y (row stride ldy). */
static lis_status score(const lis_link *L, int64_t n, const float *X, const float *Y, int64_t ldy, double *mse,
                        double *r2) {
    float *P = lis_malloc(sizeof(float) * (size_t)n * (size_t)L->n_out, "predictions");
    if (!P) return LIS_ERR;
    lis_status s = lis_link_apply(L, n, X, L->n_in, P, L->n_out);
    if (s == LIS_OK) lis_link_score(n, L->n_out, Y, ldy, P, L->n_out, mse, r2);
    free(P);
    return s;
}

/* ---------------------------------------------------------------- fit-link */

static lis_status fit_link(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    const char *rpath = lis_args_str(&a, "--r", NULL), *wpath = lis_args_str(&a, "--w", NULL);
    const char *out = lis_args_str(&a, "--out", NULL), *o2 = lis_args_str(&a, "-o", NULL);
    const char *mname = lis_args_str(&a, "--model", "ols");
    const char *rtest = lis_args_str(&a, "--r-test", NULL), *wtest = lis_args_str(&a, "--w-test", NULL);
    lis_link_params p;
    lis_link_params_default(&p, LIS_LINK_OLS);
    double holdout;
    long seed, max_iter;
    LIS_TRY(lis_args_double(&a, "--alpha", p.alpha, &p.alpha));
    LIS_TRY(lis_args_double(&a, "--l1-ratio", p.l1_ratio, &p.l1_ratio));
    LIS_TRY(lis_args_long(&a, "--max-iter", p.max_iter, &max_iter));
    LIS_TRY(lis_args_double(&a, "--tol", p.tol, &p.tol));
    LIS_TRY(lis_args_double(&a, "--rcond", p.rcond, &p.rcond));
    LIS_TRY(lis_args_double(&a, "--holdout", 0.0, &holdout));
    LIS_TRY(lis_args_long(&a, "--seed", 0, &seed));
    LIS_TRY(lis_args_done(&a));
    if (a.npos) return lis_err_usage("unexpected argument '%s' (see --help)", a.pos[0]);
    if (o2) out = o2;
    if (!rpath || !*rpath) return lis_err_usage("--r R.npy is required (see --help)");
    if (!wpath || !*wpath) return lis_err_usage("--w W.npy is required (see --help)");
    if (!out || !*out) return lis_err_usage("-o LINK.safetensors is required (see --help)");
    if (!lis_link_model_parse(mname, &p.model)) return lis_err_usage("--model '%s': use ols, ridge or enet", mname);
    if (max_iter < 1 || max_iter > 100000000) return lis_err_usage("--max-iter %ld: must be in [1, 1e8]", max_iter);
    p.max_iter = (int)max_iter;
    if (!(holdout >= 0 && holdout < 1)) return lis_err_usage("--holdout %g: must be in [0, 1)", holdout);
    if ((rtest && *rtest) != (wtest && *wtest)) return lis_err_usage("--r-test and --w-test go together");
    if ((rtest && *rtest) && holdout > 0) return lis_err_usage("use either --holdout or --r-test/--w-test, not both");

    lis_tensor R = {0}, W = {0}, RT = {0}, WT = {0};
    float *Xtr = NULL, *Ytr = NULL, *Xte = NULL, *Yte = NULL;
    lis_link L = {0};
    int64_t n, d, nw, k, ldw;
    lis_status s = read_r("--r", rpath, 0, &R, &n, &d);
    if (s != LIS_OK) return s;
    if ((s = read_w("--w", wpath, &W, &nw, &k, &ldw)) != LIS_OK) goto done;
    if (nw != n) {
        s = lis_err_usage("--w %s has %lld samples but --r %s has %lld (rows must be paired)", wpath, (long long)nw,
                          rpath, (long long)n);
        goto done;
    }
    const float *X = R.data, *Y = W.data;
    int64_t ntr = n, nte = 0, ldy = ldw;
    if (holdout > 0) {
        nte = (int64_t)ceil(holdout * (double)n);
        ntr = n - nte;
        if (ntr < 1) { s = lis_err_usage("--holdout %g leaves no training pairs out of %lld", holdout, (long long)n); goto done; }
        int64_t *perm = lis_malloc(sizeof(int64_t) * (size_t)n, "hold-out permutation");
        Xtr = lis_malloc(sizeof(float) * (size_t)(ntr * d), "training r");
        Ytr = lis_malloc(sizeof(float) * (size_t)(ntr * k), "training w");
        Xte = lis_malloc(sizeof(float) * (size_t)(nte * d), "held-out r");
        Yte = lis_malloc(sizeof(float) * (size_t)(nte * k), "held-out w");
        if (!perm || !Xtr || !Ytr || !Xte || !Yte) { free(perm); s = LIS_ERR; goto done; }
        uint64_t st = (uint64_t)seed;
        for (int64_t i = 0; i < n; i++) perm[i] = i;
        for (int64_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
            int64_t j = (int64_t)(splitmix(&st) % (uint64_t)(i + 1)), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        /* the first nte of the permutation are held out; training rows keep file order */
        unsigned char *test = calloc((size_t)n, 1);
        if (!test) { free(perm); s = lis_err_set("out of memory"); goto done; }
        for (int64_t i = 0; i < nte; i++) test[perm[i]] = 1;
        int64_t a0 = 0, b0 = 0;
        for (int64_t i = 0; i < n; i++) {
            float *xd = test[i] ? Xte + b0 * d : Xtr + a0 * d, *yd = test[i] ? Yte + b0 * k : Ytr + a0 * k;
            memcpy(xd, X + i * d, sizeof(float) * (size_t)d);
            memcpy(yd, Y + i * ldw, sizeof(float) * (size_t)k);
            if (test[i]) b0++;
            else a0++;
        }
        free(test);
        free(perm);
        X = Xtr;
        Y = Ytr;
        ldy = k;
    }
    if (d > INT32_MAX || k > INT32_MAX) { s = lis_err_usage("too many features"); goto done; }

    uint64_t h = fnv1a(1469598103934665603ULL, X, sizeof(float) * (size_t)(ntr * d));
    for (int64_t i = 0; i < ntr; i++) h = fnv1a(h, Y + i * ldy, sizeof(float) * (size_t)k);
    printf("fit-link: %s, %lld training pairs, r %lld -> w %lld%s, %d threads\n", lis_link_model_name(p.model),
           (long long)ntr, (long long)d, (long long)k, ldw != k ? " (first w of each sample)" : "", lis_threads_count());
    lis_link_fit_info info;
    if ((s = lis_link_fit(&L, &p, ntr, (int)d, (int)k, X, d, Y, ldy, &info)) != LIS_OK) goto done;
    printf("  fit: means %.2f s, Gram (X^T [X Y], float64) %.2f s, solve %.2f s\n", info.t_moments, info.t_gram,
           info.t_solve);
    if (p.model == LIS_LINK_OLS) printf("  ols rank %d of %lld (rcond %g)\n", info.rank, (long long)d, p.rcond);
    if (info.ridge_fallback) printf("  ridge: matrix not positive definite, solved by eigendecomposition\n");
    if (p.model == LIS_LINK_ENET) {
        printf("  enet: max sweeps %d, max duality gap %.3g\n", info.enet_max_n_iter, info.enet_max_gap);
        if (info.enet_not_converged)
            fprintf(stderr,
                    "lis-run fit-link: warning: %d of %lld targets did not converge in %d sweeps (sklearn "
                    "ConvergenceWarning); raise --max-iter or --tol\n",
                    info.enet_not_converged, (long long)k, p.max_iter);
    }
    double mse, r2, tmse = NAN, tr2 = NAN;
    if ((s = score(&L, ntr, X, Y, ldy, &mse, &r2)) != LIS_OK) goto done;
    printf("  train: MSE %.6g, R2 %.6f\n", mse, r2);
    const char *test_src = NULL;
    if (rtest && *rtest) {
        int64_t nt2, dt, nwt, kt, ldt;
        if ((s = read_r("--r-test", rtest, 0, &RT, &nt2, &dt)) != LIS_OK) goto done;
        if ((s = read_w("--w-test", wtest, &WT, &nwt, &kt, &ldt)) != LIS_OK) goto done;
        if (dt != d || kt != k || nwt != nt2) {
            s = lis_err_usage("--r-test %s / --w-test %s: shapes [%lld, %lld] / [%lld, .., %lld] do not match the "
                              "training pairs (n_in %lld, n_out %lld)",
                              rtest, wtest, (long long)nt2, (long long)dt, (long long)nwt, (long long)kt, (long long)d,
                              (long long)k);
            goto done;
        }
        nte = nt2;
        if ((s = score(&L, nte, RT.data, WT.data, ldt, &tmse, &tr2)) != LIS_OK) goto done;
        test_src = rtest;
    } else if (nte > 0) {
        if ((s = score(&L, nte, Xte, Yte, k, &tmse, &tr2)) != LIS_OK) goto done;
        test_src = "holdout";
    }
    if (test_src) printf("  held-out (%s, %lld pairs): MSE %.6g, R2 %.6f\n", test_src, (long long)nte, tmse, tr2);

    char origin[2048];
    snprintf(origin, sizeof origin,
             "lis-run fit-link --r %s --w %s --model %s; n_train=%lld; data_fnv1a64=%016llx; train_mse=%.9g; "
             "train_r2=%.9g; holdout=%g seed=%ld; test=%s n_test=%lld test_mse=%.9g test_r2=%.9g",
             rpath, wpath, lis_link_model_name(p.model), (long long)ntr, (unsigned long long)h, mse, r2, holdout, seed,
             test_src ? test_src : "none", (long long)nte, tmse, tr2);
    if ((s = lis_link_save(&L, out, origin)) != LIS_OK) goto done;
    printf("wrote %s\n", out);
done:
    lis_link_free(&L);
    lis_tensor_free(&R); lis_tensor_free(&W); lis_tensor_free(&RT); lis_tensor_free(&WT);
    free(Xtr); free(Ytr); free(Xte); free(Yte);
    return s;
}

int lis_cmd_fit_link(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { fputs(fit_usage, stdout); return 0; }
    return lis_cli_fail("fit-link", fit_link(argc, argv));
}

/* ---------------------------------------------------------------- apply-link */

static lis_status apply_link(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    const char *lpath = lis_args_str(&a, "--link", NULL), *rpath = lis_args_str(&a, "--r", NULL);
    const char *out = lis_args_str(&a, "--out", NULL), *o2 = lis_args_str(&a, "-o", NULL);
    const char *wtrue = lis_args_str(&a, "--w-true", NULL);
    long ws;
    LIS_TRY(lis_args_long(&a, "--ws", 0, &ws));
    LIS_TRY(lis_args_done(&a));
    if (a.npos) return lis_err_usage("unexpected argument '%s' (see --help)", a.pos[0]);
    if (o2) out = o2;
    if (!lpath || !*lpath) return lis_err_usage("--link LINK.safetensors is required (see --help)");
    if (!rpath || !*rpath) return lis_err_usage("--r R.npy is required (see --help)");
    if (!out || !*out) return lis_err_usage("-o W.npy is required (see --help)");
    if (ws < 0 || ws > 4096) return lis_err_usage("--ws %ld: must be in [0, 4096]", ws);

    lis_link L;
    LIS_TRY(lis_link_load(&L, lpath));
    lis_tensor R = {0}, WT = {0};
    float *Y = NULL;
    int64_t n, d;
    lis_status s = read_r("--r", rpath, 1, &R, &n, &d);
    if (s != LIS_OK) { lis_link_free(&L); return s; }
    if (d != L.n_in) {
        s = lis_err_usage("--r %s: rows have %lld features but %s expects n_in = %d", rpath, (long long)d, lpath,
                          L.n_in);
        goto done;
    }
    int64_t rep = ws > 0 ? ws : 1, k = L.n_out;
    Y = lis_malloc(sizeof(float) * (size_t)n * (size_t)rep * (size_t)k, "output w");
    if (!Y) { s = LIS_ERR; goto done; }
    double t0 = lis_now();
    if ((s = lis_link_apply(&L, n, R.data, d, Y, rep * k)) != LIS_OK) goto done;
    for (int64_t i = 0; i < n; i++)
        for (int64_t r = 1; r < rep; r++) memcpy(Y + (i * rep + r) * k, Y + i * rep * k, sizeof(float) * (size_t)k);
    double t1 = lis_now();
    if (wtrue && *wtrue) {
        int64_t nw, kw, ldw;
        if ((s = read_w("--w-true", wtrue, &WT, &nw, &kw, &ldw)) != LIS_OK) goto done;
        if (nw != n || kw != k) {
            s = lis_err_usage("--w-true %s: %lld x %lld does not match the %lld x %lld predictions", wtrue,
                              (long long)nw, (long long)kw, (long long)n, (long long)k);
            goto done;
        }
        double mse, r2;
        lis_link_score(n, (int)k, WT.data, ldw, Y, rep * k, &mse, &r2);
        printf("apply-link: against %s: MSE %.6g, R2 %.6f\n", wtrue, mse, r2);
    }
    int64_t shape[3] = {n, rep, k}, shape2[2] = {n, k};
    if (ws > 0) s = lis_npy_write_f32(out, Y, 3, shape);
    else s = lis_npy_write_f32(out, Y, 2, shape2);
    if (s != LIS_OK) goto done;
    printf("apply-link: %s (%s, %d -> %d) on %lld rows in %.3f s -> %s\n", lpath, lis_link_model_name(L.params.model),
           L.n_in, L.n_out, (long long)n, t1 - t0, out);
done:
    free(Y);
    lis_tensor_free(&R);
    lis_tensor_free(&WT);
    lis_link_free(&L);
    return s;
}

int lis_cmd_apply_link(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { fputs(apply_usage, stdout); return 0; }
    return lis_cli_fail("apply-link", apply_link(argc, argv));
}
