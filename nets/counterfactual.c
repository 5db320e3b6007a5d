/* counterfactual.c — loss, closed-form gradient, optimisation loop, analyses and outputs of
 * counterfactual trajectories; see counterfactual.h. */
#include "nets/counterfactual.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/to_u8.h"
#include "runtime/fileio.h"
#include "runtime/json.h"
#include "runtime/np_random.h"
#include "runtime/npy.h"
#include "runtime/png_io.h"
#include "runtime/progress.h"
#include "runtime/threads.h"

static const char *const variant_names[LIS_CF_VARIANT_COUNT] = {"released", "v1", "v2", "v4", "v5"};

const char *lis_cf_variant_name(lis_cf_variant v) {
    return v >= 0 && v < LIS_CF_VARIANT_COUNT ? variant_names[v] : "?";
}

int lis_cf_variant_parse(const char *s, lis_cf_variant *v) {
    for (int i = 0; i < LIS_CF_VARIANT_COUNT; i++)
        if (!strcmp(s, variant_names[i])) { *v = (lis_cf_variant)i; return 1; }
    if (!strcmp(s, "v7")) { *v = LIS_CF_RELEASED; return 1; }
    return 0;
}

void lis_cf_params_default(lis_cf_params *p, lis_cf_variant v) {
    memset(p, 0, sizeof *p);
    p->variant = v;
    p->lr = 0.5;
    p->lambda = 0.6;
    p->cos_weight = 10;
    p->max_steps = 2000;
    p->opt = v == LIS_CF_V4 || v == LIS_CF_V5 ? LIS_CF_ADAMW : LIS_CF_GD;
    p->stop = v == LIS_CF_V4 || v == LIS_CF_V5 ? LIS_CF_STOP_PROB : LIS_CF_STOP_IMAGE;
    p->eps = v == LIS_CF_V4 ? 1e-5 : 1e-4;
    p->beta1 = 0.9;
    p->beta2 = 0.99;
    p->weight_decay = 0.01;
    p->adam_eps = 1e-8;
    p->init = LIS_CF_INIT_UNIFORM;
    p->init_seed = 0;
}

void lis_softmax(const float *x, int n, float *p) {
    double mx = x[0], s = 0;
    for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < n; i++) s += exp((double)x[i] - mx);
    for (int i = 0; i < n; i++) p[i] = (float)(exp((double)x[i] - mx) / s);
}

/* ---- loss */
lis_status lis_cf_loss_init(lis_cf_loss *L, const lis_cf_params *p, int K, int F, const float *fc_w, const float *fc_b,
                            const lis_link *link, const float *r, const float *w_orig, int origin, int target) {
    memset(L, 0, sizeof *L);
    if (link->n_in != F) return lis_err_set("the link takes %d features but the classifier gives %d", link->n_in, F);
    if (origin < 0 || origin >= K || target < 0 || target >= K)
        return lis_err_usage("counterfactual: classes %d -> %d, the classifier has %d", origin, target, K);
    L->F = F; L->K = K; L->wd = link->n_out; L->origin = origin; L->target = target;
    L->fc_w = fc_w; L->fc_b = fc_b; L->coef = link->coef; L->intercept = link->intercept;
    switch (p->variant) {
    case LIS_CF_RELEASED: case LIS_CF_V2: L->a_t = 1; L->a_o = p->lambda; L->c_w = p->cos_weight; break;
    case LIS_CF_V1: L->a_t = 1; L->a_o = p->lambda; break;
    case LIS_CF_V4: L->p_t = 1; break;
    case LIS_CF_V5: L->p_t = 1; L->c_w = p->lambda; break;
    default: return lis_err_usage("counterfactual: unknown variant %d", (int)p->variant);
    }
    if (p->variant == LIS_CF_V2 && !w_orig)
        return lis_err_usage("counterfactual variant v2 needs the original w (the cosine is to it)");
    int wd = L->wd;
    L->r = lis_malloc(sizeof(double) * (size_t)F, "r");
    L->x = lis_malloc(sizeof(double) * (size_t)F, "x");
    L->z = lis_malloc(sizeof(double) * (size_t)K, "z");
    L->gz = lis_malloc(sizeof(double) * (size_t)K, "dz");
    L->v = lis_malloc(sizeof(double) * (size_t)wd, "v");
    L->gv = lis_malloc(sizeof(double) * (size_t)wd, "dv");
    L->u = lis_malloc(sizeof(double) * (size_t)wd, "u");
    if (!L->r || !L->x || !L->z || !L->gz || !L->v || !L->gv || !L->u) { lis_cf_loss_free(L); return LIS_ERR; }
    for (int i = 0; i < F; i++) L->r[i] = r[i];
    for (int j = 0; j < wd; j++) {
        if (p->variant == LIS_CF_V2) { L->u[j] = w_orig[j]; continue; }
        /* released / v5: u = link(r) (float64 here; the original computes it in float32) */
        const float *a = L->coef + (size_t)j * F;
        double s = L->intercept[j];
        for (int i = 0; i < F; i++) s += (double)a[i] * r[i];
        L->u[j] = s;
    }
    return LIS_OK;
}

void lis_cf_loss_free(lis_cf_loss *L) {
    if (!L) return;
    free(L->r); free(L->x); free(L->z); free(L->gz); free(L->v); free(L->gv); free(L->u);
    memset(L, 0, sizeof *L);
}

double lis_cf_loss_eval(lis_cf_loss *L, const double *s, double *grad) {
    int F = L->F, K = L->K, wd = L->wd, t = L->target, o = L->origin;
    for (int i = 0; i < F; i++) L->x[i] = L->r[i] - s[i];
    for (int k = 0; k < K; k++) {
        const float *w = L->fc_w + (size_t)k * F;
        double a = L->fc_b[k];
        for (int i = 0; i < F; i++) a += (double)w[i] * L->x[i];
        L->z[k] = a;
        L->gz[k] = 0;
    }
    double loss = -L->a_t * L->z[t] + L->a_o * L->z[o];
    L->gz[t] -= L->a_t;
    L->gz[o] += L->a_o;
    if (L->p_t != 0) {
        double mx = L->z[0], den = 0;
        for (int k = 1; k < K; k++) mx = L->z[k] > mx ? L->z[k] : mx;
        for (int k = 0; k < K; k++) den += exp(L->z[k] - mx);
        double pt = exp(L->z[t] - mx) / den;
        loss -= L->p_t * pt;
        /* d p_t / d z_k = p_t (delta_tk - p_k) */
        for (int k = 0; k < K; k++) L->gz[k] -= L->p_t * pt * ((k == t) - exp(L->z[k] - mx) / den);
    }
    double cosv = 0, nu = 0, nv = 0, uv = 0;
    if (L->c_w != 0) {
        for (int j = 0; j < wd; j++) {
            const float *a = L->coef + (size_t)j * F;
            double v = L->intercept[j];
            for (int i = 0; i < F; i++) v += (double)a[i] * L->x[i];
            L->v[j] = v;
            nu += L->u[j] * L->u[j];
            nv += v * v;
            uv += L->u[j] * v;
        }
        nu = sqrt(nu);
        nv = sqrt(nv);
        /* torch 1.13: each norm clamped to >= 1e-8; a clamped norm is a constant */
        double cu = nu > 1e-8 ? nu : 1e-8, cv = nv > 1e-8 ? nv : 1e-8;
        cosv = uv / (cu * cv);
        loss -= L->c_w * cosv;
    }
    if (!grad) return loss;
    /* dloss/ds = -W_fc^T dloss/dz */
    for (int i = 0; i < F; i++) grad[i] = 0;
    for (int k = 0; k < K; k++) {
        double g = L->gz[k];
        if (g == 0) continue;
        const float *w = L->fc_w + (size_t)k * F;
        for (int i = 0; i < F; i++) grad[i] -= g * w[i];
    }
    if (L->c_w != 0) {
        double cu = nu > 1e-8 ? nu : 1e-8, cv = nv > 1e-8 ? nv : 1e-8;
        for (int j = 0; j < wd; j++) {
            double dc = L->u[j] / (cu * cv) - (nv > 1e-8 ? cosv * L->v[j] / (nv * nv) : 0);
            L->gv[j] = L->c_w * dc; /* dloss/ds = c_w A^T dcos/dv */
        }
        for (int j = 0; j < wd; j++) {
            const float *a = L->coef + (size_t)j * F;
            double g = L->gv[j];
            for (int i = 0; i < F; i++) grad[i] += g * a[i];
        }
    }
    return loss;
}

/* ---- result storage */
void lis_cf_result_free(lis_cf_result *res) {
    if (!res) return;
    free(res->init_shift); free(res->shift); free(res->r); free(res->w); free(res->probs_fc); free(res->loss);
    free(res->img_step); free(res->probs_img);
    memset(res, 0, sizeof *res);
}

static lis_status grow(void **p, size_t elem, int64_t cap) {
    void *q = realloc(*p, elem * (size_t)cap);
    if (!q) return lis_err_set("out of memory (counterfactual trajectory)");
    *p = q;
    return LIS_OK;
}

static lis_status reserve(lis_cf_result *res, int64_t rows) {
    if (rows <= res->cap) return LIS_OK;
    int64_t cap = res->cap ? res->cap : 64;
    while (cap < rows) cap *= 2;
    LIS_TRY(grow((void **)&res->shift, sizeof(float) * (size_t)res->F, cap));
    LIS_TRY(grow((void **)&res->r, sizeof(float) * (size_t)res->F, cap));
    LIS_TRY(grow((void **)&res->w, sizeof(float) * (size_t)res->wd, cap));
    LIS_TRY(grow((void **)&res->probs_fc, sizeof(float) * (size_t)res->K, cap));
    LIS_TRY(grow((void **)&res->loss, sizeof(double), cap));
    res->cap = cap;
    return LIS_OK;
}

static lis_status reserve_img(lis_cf_result *res, int64_t n) {
    if (n <= res->cap_img) return LIS_OK;
    int64_t cap = res->cap_img ? res->cap_img : 64;
    while (cap < n) cap *= 2;
    LIS_TRY(grow((void **)&res->img_step, sizeof(int64_t), cap));
    LIS_TRY(grow((void **)&res->probs_img, sizeof(float) * (size_t)res->K, cap));
    res->cap_img = cap;
    return LIS_OK;
}

/* row k of the trajectory from s: r_k = ReLU(r - s) (row 0 passes s = NULL: r itself) */
static lis_status record(lis_cf_result *res, const lis_link *link, const lis_resnet *cls, const float *r, const double *s,
                         double loss) {
    int64_t k = res->n_traj;
    LIS_TRY(reserve(res, k + 1));
    int F = res->F, K = res->K;
    float *sh = res->shift + (size_t)k * F, *rk = res->r + (size_t)k * F;
    for (int i = 0; i < F; i++) {
        sh[i] = s ? (float)s[i] : 0.0f;
        float x = s ? (float)((double)r[i] - s[i]) : r[i];
        rk[i] = x > 0 ? x : 0.0f;
    }
    LIS_TRY(lis_link_apply(link, 1, rk, F, res->w + (size_t)k * res->wd, res->wd));
    float z[4096];
    float *zz = K <= 4096 ? z : lis_malloc(sizeof(float) * (size_t)K, "logits");
    if (!zz) return LIS_ERR;
    for (int c = 0; c < K; c++) {
        const float *w = cls->fc_w + (size_t)c * F;
        double a = cls->fc_b[c];
        for (int i = 0; i < F; i++) a += (double)w[i] * rk[i];
        zz[c] = (float)a;
    }
    lis_softmax(zz, K, res->probs_fc + (size_t)k * K);
    if (zz != z) free(zz);
    res->loss[k] = loss;
    res->n_traj = k + 1;
    return LIS_OK;
}

/* renders row k and records its probabilities; *pred = argmax */
static lis_status render_check(lis_cf_result *res, lis_render *rd, int64_t k, int *pred) {
    LIS_TRY(reserve_img(res, res->n_img + 1));
    int K = res->K;
    float lg[4096];
    float *l = K <= 4096 ? lg : lis_malloc(sizeof(float) * (size_t)K, "logits");
    if (!l) return LIS_ERR;
    lis_status s = lis_render_w(rd, 1, res->w + (size_t)k * res->wd, NULL, NULL, NULL, l);
    if (s == LIS_OK) {
        *pred = lis_argmax(l, K);
        lis_softmax(l, K, res->probs_img + (size_t)res->n_img * K);
        res->img_step[res->n_img++] = k;
    }
    if (l != lg) free(l);
    return s;
}

lis_status lis_cf_run(const lis_cf_params *p, lis_render *rd, const lis_link *link, const float *r, const float *w_orig,
                      const float *init_shift, int origin, int target, int quiet, lis_cf_result *res) {
    memset(res, 0, sizeof *res);
    lis_resnet *cls = rd->cls;
    if (!cls) return lis_err_set("counterfactual: rendering has no classifier");
    if (link->n_out != rd->g->w_dim)
        return lis_err_set("the link gives %d-d w but the generator takes %d", link->n_out, rd->g->w_dim);
    if (p->lr <= 0 || !isfinite(p->lr) || p->max_steps < 0) return lis_err_usage("counterfactual: lr > 0 and max_steps >= 0 needed");
    int F = cls->feat_dim, K = cls->num_classes;
    res->F = F; res->K = K; res->wd = link->n_out; res->origin = origin; res->target = target; res->pred_final = -1;
    lis_cf_loss L;
    LIS_TRY(lis_cf_loss_init(&L, p, K, F, cls->fc_w, cls->fc_b, link, r, w_orig, origin, target));
    double *s = lis_malloc(sizeof(double) * (size_t)F, "shift"), *g = lis_malloc(sizeof(double) * (size_t)F, "gradient");
    double *m = lis_calloc((size_t)F, sizeof(double), "AdamW m"), *v = lis_calloc((size_t)F, sizeof(double), "AdamW v");
    res->init_shift = lis_malloc(sizeof(float) * (size_t)F, "initial shift");
    lis_status st = s && g && m && v && res->init_shift ? LIS_OK : LIS_ERR;
    double t0 = lis_now();
    if (st == LIS_OK) {
        if (init_shift) for (int i = 0; i < F; i++) s[i] = init_shift[i];
        else if (p->init == LIS_CF_INIT_ZEROS) for (int i = 0; i < F; i++) s[i] = 0;
        else {
            lis_np_rng rng;
            lis_np_seed(&rng, p->init_seed);
            for (int i = 0; i < F; i++) s[i] = lis_np_double(&rng);
        }
        for (int i = 0; i < F; i++) {
            if (!isfinite(s[i])) { st = lis_err_usage("counterfactual: the initial shift has a non-finite value at %d", i); break; }
            res->init_shift[i] = (float)s[i];
        }
    }
    /* row 0: the original, unshifted */
    int pred = -1;
    if (st == LIS_OK) st = record(res, link, cls, r, NULL, NAN);
    if (st == LIS_OK && p->stop == LIS_CF_STOP_IMAGE) st = render_check(res, rd, 0, &pred);
    lis_progress pr;
    lis_progress_init(&pr, "counterfactual", "steps", (int64_t)p->max_steps + 1);
    pr.quiet = quiet;
    double bc1 = 1, bc2 = 1;
    for (int step = 1; st == LIS_OK; step++) {
        double loss = lis_cf_loss_eval(&L, s, g);
        if (!isfinite(loss)) { st = lis_err_set("counterfactual: the loss became %g at step %d (lower lr?)", loss, step); break; }
        if (p->opt == LIS_CF_GD) {
            for (int i = 0; i < F; i++) s[i] -= p->lr * g[i];
        } else { /* torch.optim.AdamW (single tensor, amsgrad off, maximize off) */
            bc1 *= p->beta1;
            bc2 *= p->beta2;
            double step_size = p->lr / (1 - bc1), sq_bc2 = sqrt(1 - bc2);
            for (int i = 0; i < F; i++) {
                s[i] *= 1 - p->lr * p->weight_decay;
                m[i] = p->beta1 * m[i] + (1 - p->beta1) * g[i];
                v[i] = p->beta2 * v[i] + (1 - p->beta2) * g[i] * g[i];
                s[i] -= step_size * m[i] / (sqrt(v[i]) / sq_bc2 + p->adam_eps);
            }
        }
        res->steps = step;
        if ((st = record(res, link, cls, r, s, loss))) break;
        int64_t k = res->n_traj - 1;
        if (p->stop == LIS_CF_STOP_IMAGE) {
            if ((st = render_check(res, rd, k, &pred))) break;
            res->success = pred == target;
        } else {
            res->success = 1.0 - res->probs_fc[(size_t)k * K + target] <= p->eps;
        }
        lis_progress_update(&pr, step);
        if (res->success || step > p->max_steps) break;
    }
    lis_progress_done(&pr, res->steps);
    /* the last state's image, when the loop did not render it */
    if (st == LIS_OK && p->stop == LIS_CF_STOP_PROB) st = render_check(res, rd, res->n_traj - 1, &pred);
    res->pred_final = pred;
    res->seconds = lis_now() - t0;
    lis_cf_loss_free(&L);
    free(s); free(g); free(m); free(v);
    if (st != LIS_OK) lis_cf_result_free(res);
    return st;
}

/* ---- analyses */
lis_status lis_cf_render_rows(lis_render *rd, const lis_cf_result *res, int n, const int64_t *rows, uint8_t *u8,
                              float *probs) {
    float *w = lis_malloc(sizeof(float) * (size_t)(n ? n : 1) * res->wd, "frame w");
    float *lg = probs ? lis_malloc(sizeof(float) * (size_t)(n ? n : 1) * res->K, "frame logits") : NULL;
    lis_status s = w && (!probs || lg) ? LIS_OK : LIS_ERR;
    for (int i = 0; s == LIS_OK && i < n; i++) {
        if (rows[i] < 0 || rows[i] >= res->n_traj) s = lis_err_set("internal: trajectory row %lld of %lld", (long long)rows[i], (long long)res->n_traj);
        else memcpy(w + (size_t)i * res->wd, res->w + (size_t)rows[i] * res->wd, sizeof(float) * (size_t)res->wd);
    }
    if (s == LIS_OK) s = lis_render_w(rd, n, w, u8, NULL, NULL, lg);
    for (int i = 0; s == LIS_OK && probs && i < n; i++) lis_softmax(lg + (size_t)i * res->K, res->K, probs + (size_t)i * res->K);
    free(w);
    free(lg);
    return s;
}

int lis_cf_frames(const lis_cf_result *res, int n, int64_t *rows) {
    int64_t T = res->n_traj - 1;
    int c = 0;
    if (n < 2) { rows[0] = T; return 1; }
    for (int i = 0; i < n; i++) {
        int64_t k = (int64_t)llround((double)i * (double)T / (double)(n - 1));
        if (c == 0 || rows[c - 1] != k) rows[c++] = k;
    }
    return c;
}

void lis_cf_effective_shift(const lis_cf_result *res, const float *r, float *d, int top, int *units) {
    int F = res->F;
    const float *rk = res->r + (size_t)(res->n_traj - 1) * F;
    for (int i = 0; i < F; i++) d[i] = r[i] - rk[i];
    if (!units) return;
    if (top > F) top = F;
    for (int t = 0; t < top; t++) { /* selection of the largest |d|, lower unit on ties */
        int best = -1;
        for (int i = 0; i < F; i++) {
            int taken = 0;
            for (int q = 0; q < t && !taken; q++) taken = units[q] == i;
            if (taken) continue;
            if (best < 0 || fabsf(d[i]) > fabsf(d[best])) best = i;
        }
        units[t] = best;
    }
}

lis_status lis_cf_interpolate(lis_render *rd, const lis_link *link, const float *r, const float *d, int n, float *w,
                              uint8_t *u8, float *probs) {
    int F = link->n_in, K = rd->cls ? rd->cls->num_classes : 0;
    float *ra = lis_malloc(sizeof(float) * (size_t)n * F, "interpolated r");
    float *lg = probs ? lis_malloc(sizeof(float) * (size_t)n * (K ? K : 1), "logits") : NULL;
    lis_status s = ra && (!probs || lg) ? LIS_OK : LIS_ERR;
    for (int i = 0; s == LIS_OK && i < n; i++) {
        /* numpy linspace(0, 1, n): i * (1 / (n - 1)), the last exactly 1 */
        double a = n < 2 ? 1.0 : i == n - 1 ? 1.0 : (double)i * (1.0 / (double)(n - 1));
        for (int j = 0; j < F; j++) ra[(size_t)i * F + j] = (float)((double)r[j] - a * d[j]);
    }
    if (s == LIS_OK) s = lis_link_apply(link, n, ra, F, w, link->n_out);
    if (s == LIS_OK && (u8 || probs)) s = lis_render_w(rd, n, w, u8, NULL, NULL, lg);
    for (int i = 0; s == LIS_OK && probs && i < n; i++) lis_softmax(lg + (size_t)i * K, K, probs + (size_t)i * K);
    free(ra);
    free(lg);
    return s;
}

lis_status lis_cf_encode_image(lis_resnet *cls, const uint8_t *img, int h, int w, float *r, float *logits) {
    lis_preprocess_plan pl;
    LIS_TRY(lis_preprocess_plan_init(&pl, &cls->pre, h, w));
    float *x = lis_alloc_aligned(sizeof(float) * 3 * (size_t)cls->pre.crop_h * cls->pre.crop_w, "classifier input");
    lis_status s = x ? LIS_OK : LIS_ERR;
    if (s == LIS_OK) {
        lis_preprocess_run(&pl, 1, img, x);
        s = lis_resnet_forward(cls, 1, cls->pre.crop_h, cls->pre.crop_w, x, r, logits, NULL);
    }
    free(x);
    lis_preprocess_plan_free(&pl);
    return s;
}

/* ---- outputs */
static lis_status save_npy(const char *dir, const char *name, lis_dtype dt, int ndim, const int64_t *shape, const void *data) {
    return lis_npy_write_in(dir, name, dt, ndim, shape, data);
}

static lis_status save_png(const char *dir, const char *name, const uint8_t *img, int h, int w) {
    char *path = lis_path_join(dir, name);
    if (!path) return LIS_ERR;
    lis_status s = lis_png_write(path, img, h, w, 3);
    free(path);
    return s;
}

static lis_status save_text(const char *dir, const char *name, const lis_sbuf *b) {
    if (b->oom) return lis_err_set("out of memory");
    char *path = lis_path_join(dir, name);
    if (!path) return LIS_ERR;
    lis_status s = lis_write_file_atomic(path, b->s ? b->s : "", b->len);
    free(path);
    return s;
}

/* n images [n, R, R, 3] side by side (plus an optional first one of the same size) */
static lis_status save_strip(const char *dir, const char *name, const uint8_t *first, const uint8_t *imgs, int n, int R) {
    int cols = n + (first != NULL);
    uint8_t *strip = lis_malloc((size_t)R * R * 3 * cols, "strip");
    if (!strip) return LIS_ERR;
    for (int c = 0; c < cols; c++) {
        const uint8_t *im = first ? (c == 0 ? first : imgs + (size_t)(c - 1) * R * R * 3) : imgs + (size_t)c * R * R * 3;
        for (int y = 0; y < R; y++) memcpy(strip + ((size_t)y * cols * R + (size_t)c * R) * 3, im + (size_t)y * R * 3, (size_t)R * 3);
    }
    lis_status s = save_png(dir, name, strip, R, cols * R);
    free(strip);
    return s;
}

static const char *opt_name(lis_cf_optimizer o) { return o == LIS_CF_ADAMW ? "adamw" : "gd"; }
static const char *stop_name(lis_cf_stop s) { return s == LIS_CF_STOP_PROB ? "prob" : "image"; }

lis_status lis_cf_write(const char *dir, const lis_cf_params *p, const lis_cf_write_opts *o, lis_render *rd,
                        const lis_link *link, const float *r, const lis_cf_result *res) {
    LIS_TRY(lis_mkdirs(dir));
    lis_sgxl *g = rd->g;
    int R = g->img_resolution, F = res->F, K = res->K, wd = res->wd;
    size_t isz = (size_t)R * R * g->img_channels;
    if (g->img_channels != 3) return lis_err_set("counterfactual outputs need RGB images");
    int nf = o->frames < 1 ? 1 : o->frames, top = o->top_units < 0 ? 0 : (o->top_units > F ? F : o->top_units);
    int ni = o->interp < 2 ? 2 : o->interp;
    int64_t *rows = lis_malloc(sizeof(int64_t) * (size_t)nf, "frames");
    uint8_t *frames = lis_malloc(isz * (size_t)nf, "frames"), *iimg = lis_malloc(isz * (size_t)ni, "interpolation");
    float *d = lis_malloc(sizeof(float) * (size_t)F, "effective shift"), *iw = lis_malloc(sizeof(float) * (size_t)ni * wd, "interpolation w");
    float *ip = lis_malloc(sizeof(float) * (size_t)ni * K, "interpolation probabilities");
    float *rcyc = lis_malloc(sizeof(float) * (size_t)F, "r cycled"), *last_p = lis_malloc(sizeof(float) * (size_t)K, "probabilities");
    double *alpha = lis_malloc(sizeof(double) * (size_t)ni, "alpha");
    int *units = lis_malloc(sizeof(int) * (size_t)(top ? top : 1), "units");
    lis_sbuf b = {0};
    lis_status s = rows && frames && iimg && d && iw && ip && rcyc && last_p && alpha && units ? LIS_OK : LIS_ERR;
    int n = 0;
    if (s == LIS_OK) {
        n = lis_cf_frames(res, nf, rows);
        s = lis_cf_render_rows(rd, res, n, rows, frames, NULL);
    }
    int64_t last = res->n_traj - 1;
    /* the last image, its features (the original's r_cycled) and probabilities */
    if (s == LIS_OK) {
        float lg[4096];
        float *l = K <= 4096 ? lg : NULL;
        if (!l) s = lis_err_set("counterfactual outputs: %d classes (at most 4096)", K);
        else s = lis_render_w(rd, 1, res->w + (size_t)last * wd, frames + (size_t)(n - 1) * isz, NULL, rcyc, l);
        if (s == LIS_OK) lis_softmax(l, K, last_p);
    }
    if (s == LIS_OK && o->original && o->orig_h == R && o->orig_w == R) s = save_strip(dir, "strip.png", o->original, frames, n, R);
    else if (s == LIS_OK) s = save_strip(dir, "strip.png", NULL, frames, n, R);
    if (s == LIS_OK) s = save_png(dir, "counterfactual.png", frames + (size_t)(n - 1) * isz, R, R);
    if (s == LIS_OK && o->original) s = save_png(dir, "original.png", o->original, o->orig_h, o->orig_w);
    /* analyses */
    if (s == LIS_OK) {
        lis_cf_effective_shift(res, r, d, top, units);
        s = lis_cf_interpolate(rd, link, r, d, ni, iw, iimg, ip);
        for (int i = 0; i < ni; i++) alpha[i] = i == ni - 1 ? 1.0 : (double)i * (1.0 / (double)(ni - 1));
    }
    if (s == LIS_OK) s = save_strip(dir, "interp.png", NULL, iimg, ni, R);
    /* arrays */
    int64_t T1 = res->n_traj, sh[2];
    sh[0] = T1; sh[1] = F;
    if (s == LIS_OK) s = save_npy(dir, "shift.npy", LIS_DTYPE_F32, 2, sh, res->shift);
    if (s == LIS_OK) s = save_npy(dir, "r.npy", LIS_DTYPE_F32, 2, sh, res->r);
    sh[1] = wd;
    if (s == LIS_OK) s = save_npy(dir, "w.npy", LIS_DTYPE_F32, 2, sh, res->w);
    sh[1] = K;
    if (s == LIS_OK) s = save_npy(dir, "probs_fc.npy", LIS_DTYPE_F32, 2, sh, res->probs_fc);
    if (s == LIS_OK) s = save_npy(dir, "loss.npy", LIS_DTYPE_F64, 1, sh, res->loss);
    sh[0] = res->n_img;
    if (s == LIS_OK) s = save_npy(dir, "image_steps.npy", LIS_DTYPE_I64, 1, sh, res->img_step);
    if (s == LIS_OK) s = save_npy(dir, "probs_image.npy", LIS_DTYPE_F32, 2, sh, res->probs_img);
    sh[0] = n;
    if (s == LIS_OK) s = save_npy(dir, "frames.npy", LIS_DTYPE_I64, 1, sh, rows);
    sh[0] = F;
    if (s == LIS_OK) s = save_npy(dir, "init_shift.npy", LIS_DTYPE_F32, 1, sh, res->init_shift);
    if (s == LIS_OK) s = save_npy(dir, "effective_shift.npy", LIS_DTYPE_F32, 1, sh, d);
    if (s == LIS_OK) s = save_npy(dir, "r_cycled.npy", LIS_DTYPE_F32, 1, sh, rcyc);
    sh[0] = wd;
    if (s == LIS_OK) s = save_npy(dir, "w_cf.npy", LIS_DTYPE_F32, 1, sh, res->w + (size_t)last * wd);
    sh[0] = ni;
    if (s == LIS_OK) s = save_npy(dir, "interp_alpha.npy", LIS_DTYPE_F64, 1, sh, alpha);
    sh[1] = wd;
    if (s == LIS_OK) s = save_npy(dir, "interp_w.npy", LIS_DTYPE_F32, 2, sh, iw);
    sh[1] = K;
    if (s == LIS_OK) s = save_npy(dir, "interp_probs.npy", LIS_DTYPE_F32, 2, sh, ip);
    /* units.csv */
    if (s == LIS_OK) {
        const float *rk = res->r + (size_t)last * F;
        lis_sbuf_printf(&b, "rank,unit,r,r_cf,shift\n");
        for (int t = 0; t < top; t++)
            lis_sbuf_printf(&b, "%d,%d,%.9g,%.9g,%.9g\n", t + 1, units[t], r[units[t]], rk[units[t]], d[units[t]]);
        s = save_text(dir, "units.csv", &b);
        lis_sbuf_free(&b);
    }
    /* result.json */
    if (s == LIS_OK) {
        const float *pimg = res->n_img ? res->probs_img + (size_t)(res->n_img - 1) * K : last_p;
        lis_sbuf_printf(&b, "{\"origin\": %d, \"target\": %d, \"success\": %s, \"steps\": %d, \"pred_final\": %d,\n",
                        res->origin, res->target, res->success ? "true" : "false", res->steps, res->pred_final);
        lis_sbuf_printf(&b, " \"p_target_final\": %.6g, \"p_origin_final\": %.6g, \"p_target_fc_final\": %.6g,\n",
                        pimg[res->target], pimg[res->origin], res->probs_fc[(size_t)last * K + res->target]);
        lis_sbuf_printf(&b, " \"p_target_interp\": [");
        for (int i = 0; i < ni; i++) lis_sbuf_printf(&b, "%s%.6g", i ? ", " : "", ip[(size_t)i * K + res->target]);
        lis_sbuf_printf(&b, "],\n \"top_units\": [");
        for (int t = 0; t < top; t++) lis_sbuf_printf(&b, "%s%d", t ? ", " : "", units[t]);
        lis_sbuf_printf(&b, "],\n \"frames\": [");
        for (int i = 0; i < n; i++) lis_sbuf_printf(&b, "%s%lld", i ? ", " : "", (long long)rows[i]);
        lis_sbuf_printf(&b, "],\n \"variant\": \"%s\", \"optimizer\": \"%s\", \"stop\": \"%s\", \"lr\": %.17g, \"lambda\": %.17g, "
                            "\"cos_weight\": %.17g, \"max_steps\": %d, \"eps\": %.17g,\n",
                        lis_cf_variant_name(p->variant), opt_name(p->opt), stop_name(p->stop), p->lr, p->lambda, p->cos_weight,
                        p->max_steps, p->eps);
        lis_sbuf_printf(&b, " \"init\": ");
        lis_sbuf_json_str(&b, o->init_note ? o->init_note : p->init == LIS_CF_INIT_ZEROS ? "zeros" : "uniform");
        lis_sbuf_printf(&b, ", \"init_seed\": %u, \"source\": ", p->init_seed);
        lis_sbuf_json_str(&b, o->origin_note ? o->origin_note : "");
        lis_sbuf_printf(&b, "}\n");
        s = save_text(dir, "result.json", &b);
        lis_sbuf_free(&b);
    }
    free(rows); free(frames); free(iimg); free(d); free(iw); free(ip); free(rcyc); free(last_p); free(alpha); free(units);
    return s;
}
