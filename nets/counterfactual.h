/* counterfactual.h — counterfactual trajectories in R (spec/pipeline.md 9, the original's
 * gen_counterfactual): a shift s of the classifier's penultimate features r that moves
 * the image of r from its class o to a target class t, rendered at every step through the
 * linking network and the generator.
 *
 * The loss is a function of s alone (r, the classifier's final layer fc = (W_fc, b_fc),
 * the link w = A r + c and the classes are fixed):
 *
 *   x = r - s                (no ReLU inside the loss, as the original)
 *   z = W_fc x + b_fc        logits of the shifted features
 *   v = A x + c              the link of the shifted features
 *   loss = -a_t z_t + a_o z_o - p_t softmax(z)_t - c_w cos(u, v)
 *
 * with u the cosine's reference and the weights set by the variant:
 *
 *   variant   loss                                          u          optimiser stop
 *   released  -z_t + lambda z_o - 10 cos(u, v)   (loss v7)   A r + c    GD        image
 *   v2        -z_t + lambda z_o - 10 cos(u, v)   (paper-era) w_orig     GD        image
 *   v1        -z_t + lambda z_o                  (logits)    -          GD        image
 *   v4        -softmax(z)_t                                  -          AdamW     prob, eps 1e-5
 *   v5        -softmax(z)_t - lambda cos(u, v)               A r + c    AdamW     prob, eps 1e-4
 *
 * (lambda = 0.6 and the cosine weight 10 are options). cos is torch 1.13's
 * cosine_similarity: (u / max(|u|, 1e-8)) . (v / max(|v|, 1e-8)).
 *
 * Gradient in closed form (every term is linear in s or a cosine of a linear map):
 *   dloss/dz = -a_t e_t + a_o e_o - p_t p_t (e_t - p),  p = softmax(z)
 *   dcos/dv  = u / (|u||v|) - cos v / |v|^2             (clamped norms: the clamped factor
 *                                                         is a constant, as in torch)
 *   dloss/ds = -W_fc^T dloss/dz + c_w A^T dcos/dv       (dz/ds = -W_fc, dv/ds = -A)
 * so ascending the target logit moves r - s along W_fc[t] - lambda W_fc[o] and the cosine
 * keeps the linked w pointing where the original's did.
 *
 * Optimisers: GD s <- s - lr g (the released code); AdamW as torch.optim.AdamW (betas
 * (0.9, 0.99), eps 1e-8, weight decay 0.01; decoupled decay s <- s (1 - lr wd), bias
 * corrections, s <- s - (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps)), as the paper-era
 * counterfactual.py.
 *
 * Loop (steps counted from 1, as the original): compute the gradient at s, update s, then
 * check the stopping rule on r_k = ReLU(r - s_k):
 *   image  w_k = A r_k + c tiled to every ws row -> generator -> uint8 -> classifier's
 *          preprocessing -> classifier; success when its argmax == t (released)
 *   prob   p = softmax(fc(r_k)); success when 1 - p_t <= eps (no image in the loop)
 * and fail when the counter passes max_steps: at most max_steps + 1 steps (the original's
 * MAX_STEPS = 2000 gives up after 2001 steps).
 *
 * Initial shift [own RNG, documented]: the original draws torch.rand(2048) on the device
 * with torch.manual_seed(seed) (CUDA's Philox stream, not reproducible here). lis draws
 * s_0[i] = numpy.random.RandomState(init_seed).random_sample(F)[i] (MT19937, 53-bit
 * doubles, runtime/np_random.h), or zeros, or takes s_0 from a file (.npy, [F]).
 *
 * Trajectory: row 0 is the unshifted original (s = 0: r itself and its link), row k >= 1
 * the state after step k. Recorded per row: s_k, r_k = ReLU(r - s_k), w_k = A r_k + c,
 * softmax(fc(r_k)) and the loss before step k; and, for every rendered image, the
 * classifier's probabilities on it (every step with the image rule; with the prob rule
 * images are rendered afterwards for chosen rows only, lis_cf_render_rows).
 *
 * Analyses (spec 9.3): the effective shift d = r - ReLU(r - s*) and its largest |d_u| (the
 * units that moved most); the interpolation r_a = r - a d for a = linspace(0, 1, n) (no
 * ReLU, as the original) rendered with the target probability per a.
 */
#ifndef LIS_NETS_COUNTERFACTUAL_H
#define LIS_NETS_COUNTERFACTUAL_H

#include <stdint.h>

#include "nets/link.h"
#include "nets/render.h"

typedef enum { LIS_CF_RELEASED = 0, LIS_CF_V1, LIS_CF_V2, LIS_CF_V4, LIS_CF_V5, LIS_CF_VARIANT_COUNT } lis_cf_variant;
typedef enum { LIS_CF_GD = 0, LIS_CF_ADAMW } lis_cf_optimizer;
typedef enum { LIS_CF_STOP_IMAGE = 0, LIS_CF_STOP_PROB } lis_cf_stop;
typedef enum { LIS_CF_INIT_UNIFORM = 0, LIS_CF_INIT_ZEROS } lis_cf_init;

const char *lis_cf_variant_name(lis_cf_variant v); /* "released", "v1", "v2", "v4", "v5" */
int lis_cf_variant_parse(const char *s, lis_cf_variant *v); /* 1 if known */

typedef struct {
    lis_cf_variant variant;
    double lr;            /* 0.5 */
    double lambda;        /* 0.6: origin-logit weight (released, v1, v2), cosine weight (v5) */
    double cos_weight;    /* 10: cosine weight (released, v2) */
    int max_steps;        /* 2000: give up after max_steps + 1 steps */
    lis_cf_optimizer opt; /* variant default */
    lis_cf_stop stop;     /* variant default */
    double eps;           /* prob rule: 1 - p_t <= eps (1e-4; v4 1e-5) */
    double beta1, beta2, weight_decay, adam_eps; /* AdamW: 0.9, 0.99, 0.01, 1e-8 */
    lis_cf_init init;     /* uniform */
    uint32_t init_seed;   /* 0, the original's manual seed default */
} lis_cf_params;

/* Defaults of a variant (optimiser, stopping rule, eps follow it). */
void lis_cf_params_default(lis_cf_params *p, lis_cf_variant v);

/* ---- the loss and its gradient */
typedef struct {
    int F, K, wd, origin, target;
    const float *fc_w, *fc_b;          /* [K, F], [K] (views) */
    const float *coef, *intercept;     /* [wd, F], [wd] (views) */
    double *r;                         /* [F] */
    double *u;                         /* [wd] cosine reference (NULL when c_w = 0) */
    double a_t, a_o, p_t, c_w;         /* term weights (see the top of this file) */
    double *x, *z, *gz, *v, *gv;       /* scratch: [F], [K], [K], [wd], [wd] */
} lis_cf_loss;

/* fc_w [K, F], fc_b [K]; L: the link (n_in = F); r [F]; w_orig [wd] (needed by v2 only,
 * may be NULL otherwise). */
lis_status lis_cf_loss_init(lis_cf_loss *L, const lis_cf_params *p, int K, int F, const float *fc_w, const float *fc_b,
                            const lis_link *link, const float *r, const float *w_orig, int origin, int target);
void lis_cf_loss_free(lis_cf_loss *L);
/* loss(s); grad [F] = dloss/ds in closed form (may be NULL). Float64 throughout. */
double lis_cf_loss_eval(lis_cf_loss *L, const double *s, double *grad);

/* ---- the optimisation */
typedef struct {
    int F, K, wd, origin, target;
    int steps;            /* gradient steps taken */
    int success;          /* the stopping rule was met at the last step */
    int pred_final;       /* class of the last rendered image (-1 if none) */
    int64_t n_traj;       /* steps + 1 */
    float *init_shift;    /* [F] s_0 */
    float *shift, *r, *w; /* [n_traj, F], [n_traj, F], [n_traj, wd] */
    float *probs_fc;      /* [n_traj, K] softmax(fc(r_k)) */
    double *loss;         /* [n_traj] loss before step k (row 0: NaN) */
    int64_t n_img;
    int64_t *img_step;    /* [n_img] trajectory rows with a rendered image */
    float *probs_img;     /* [n_img, K] classifier probabilities on those images */
    double seconds;
    int64_t cap, cap_img; /* allocated rows */
} lis_cf_result;

/* Runs the loop. rd: generator + classifier (rd->cls provides fc); r [F] the original's
 * features; w_orig [wd] (v2; may be NULL otherwise); init_shift [F] or NULL (then
 * p->init). quiet = 0 shows a progress line. */
lis_status lis_cf_run(const lis_cf_params *p, lis_render *rd, const lis_link *link, const float *r, const float *w_orig,
                      const float *init_shift, int origin, int target, int quiet, lis_cf_result *res);
void lis_cf_result_free(lis_cf_result *res);

/* Images u8 [n, R, R, C] and probabilities probs [n, K] (either may be NULL) of the
 * trajectory rows rows[0..n). */
lis_status lis_cf_render_rows(lis_render *rd, const lis_cf_result *res, int n, const int64_t *rows, uint8_t *u8,
                              float *probs);

/* Rows of n evenly spaced frames from 0 to steps (round(i * steps / (n - 1)), repeats
 * dropped); returns the count (<= n). */
int lis_cf_frames(const lis_cf_result *res, int n, int64_t *rows);

/* The effective shift d = r - ReLU(r - s_final) [F] and the `top` units with the largest
 * |d| (ties: lower unit first). units [top], may be NULL. */
void lis_cf_effective_shift(const lis_cf_result *res, const float *r, float *d, int top, int *units);

/* Interpolation along d: r_a = r - a d, a = linspace(0, 1, n): w [n, wd], u8 [n, R, R, C],
 * probs [n, K] (any may be NULL but w). */
lis_status lis_cf_interpolate(lis_render *rd, const lis_link *link, const float *r, const float *d, int n, float *w,
                              uint8_t *u8, float *probs);

/* r [F] and logits [K] (either may be NULL) of an 8-bit RGB image of any size h x w, through
 * the classifier's own preprocessing. */
lis_status lis_cf_encode_image(lis_resnet *cls, const uint8_t *img, int h, int w, float *r, float *logits);

/* softmax of x [n] into p [n] (float64 accumulation) */
void lis_softmax(const float *x, int n, float *p);

/* ---- outputs: everything a counterfactual leaves in its directory (atomic files):
 *   original.png        the original image (if given)
 *   strip.png           original | frames of the trajectory (row 0 = G(link(r)), ..., last)
 *   counterfactual.png  the last image
 *   interp.png          G(link(r - a d)) for a = linspace(0, 1, n_interp)
 *   shift.npy r.npy w.npy probs_fc.npy loss.npy   the trajectory ([T+1, ...])
 *   image_steps.npy probs_image.npy               rows with a rendered image, its probabilities
 *   init_shift.npy  effective_shift.npy  w_cf.npy [wd]  r_cycled.npy [F] (r of the last image)
 *   interp_alpha.npy interp_w.npy interp_probs.npy
 *   units.csv           rank,unit,r,r_cf,shift (the units that moved most)
 *   frames.npy          trajectory rows shown in strip.png
 *   result.json         classes, success, steps, final probabilities, every parameter
 * Nothing in them depends on time or thread count: reruns give identical files.
 */
typedef struct {
    int frames;       /* 8 */
    int top_units;    /* 10 */
    int interp;       /* 5 */
    const uint8_t *original; /* [R0, R0, 3] image or NULL */
    int orig_h, orig_w;
    const char *origin_note; /* free text for result.json (source of the original) */
    const char *init_note;   /* result.json "init" when the shift came from a file (else the params') */
} lis_cf_write_opts;

lis_status lis_cf_write(const char *dir, const lis_cf_params *p, const lis_cf_write_opts *o, lis_render *rd,
                        const lis_link *link, const float *r, const lis_cf_result *res);

#endif
