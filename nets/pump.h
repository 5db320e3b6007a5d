/* pump.h — PUMP (Revaud et al. 2022) as LinkingInStyle uses it to measure what a unit changes
 * (spec/pump.md): the PUMP-stytrf descriptor network, the single-scale pyramid matcher with
 * its reciprocal check and post-filter, and the whole comp_vis_motion path (match, global
 * affine by RANSAC, warp, match again, dense field, motion statistics).
 *
 * Descriptor network (lis_pump_net): the ConvMixer of naver/pump core/conv_mixer.py, state-dict
 * names of a torch.nn.Sequential (spec s.2 table):
 *   0 Conv(3 -> c0, k0, pad k0/2) 1 ReLU 2 BN | 3 Conv(c0 -> D, P, stride P) 4 ReLU 5 BN |
 *   depth x [ (6+4k) x + BN(ReLU(DWConv_kd(x)))  (7+4k) Conv1x1(D -> D) (8+4k) ReLU (9+4k) BN ] |
 *   (6+4*depth) Conv1x1(D -> 4 out) | PixelShuffle(2) | Upsample x2 bilinear | L2 normalise.
 * PUMP-stytrf: c0 128, k0 5, D 512, P 4, depth 7, kd 9, out 128 (3.485 M parameters). The
 * architecture is read from the tensor shapes; P must be 4 (the head restores x4). Every
 * tensor must be present, F32, with the expected shape; `*.num_batches_tracked` is ignored,
 * any other extra tensor is an error. BatchNorm is eval-mode (eps 1e-5), applied after the
 * ReLU as in the original (so it is folded into a per-channel affine, not into the conv).
 * Weight sources: a lis weight file (`lis-run convert` of the PUMP-stytrf.pt state dict, config
 * {"arch": "pump"}), a synth-init manifest file (*.manifest), or "synth": the built-in
 * manifest, which is the reference bundle's rule (lis_pump_synth_manifest).
 * Input: 8-bit RGB, H and W multiples of 4; x = (u8/255 - mean) / std, ImageNet mean/std.
 *
 * Matcher (lis_pump_matcher): spec s.3-6 on the CPU through the fused pyramid driver
 * (kernels/pump_pyramid.h), then the reciprocal check (kernels/pump_recip.h) and the post-filter
 * (kernels/pump_filter.h). Output rows (x1, y1, x2, y2, score, 0) float32, sorted by x1 then y1.
 *
 * Motion (lis_pump_motion_run), LinkingInStyle's comp_vis_motion (spec s.0, pipeline.md s.8):
 *   corres1 = PUMP(I_o, I_p); A = estimateAffine2D(corres1) (nets/affine_ransac.h);
 *   I_w = warpAffine(I_o, A); corres2 = PUMP(I_w, I_p) (I_p's descriptors are reused);
 *   dense = densify(corres1) (field_run 1, as the original) or densify(corres2) (field_run 2,
 *   in I_w's frame); flow = dense - (x, y).
 * Statistics of the local motion r(p) that remains after the global affine:
 *   field_run 1: r(p) = dense(p) - A p;   field_run 2: r(p) = dense2(p) - p;
 *   mean_mag = mean |r|; concentration = the share of sum |r| carried by the 10 % of pixels with
 *   the largest |r| (0.1 = spread evenly, 1 = all in a tenth of the image); centroid = the
 *   |r|-weighted mean pixel; rotation (deg), scale and the translation of the image centre
 *   from A (lis_affine_decompose).
 */
#ifndef LIS_PUMP_H
#define LIS_PUMP_H

#include <stdint.h>

#include "kernels/conv2d.h"
#include "kernels/pump_pyramid.h"
#include "nets/affine_ransac.h"
#include "runtime/safetensors.h"

#define LIS_PUMP_MAX_DEPTH 64

typedef struct {
    float *dw_w, *dw_b, *dw_s, *dw_t; /* depthwise conv D x kd x kd, bias, BN scale / shift; owned */
    lis_conv2d_packed pw;             /* 1x1 conv D -> D */
    float *pw_b, *pw_s, *pw_t;        /* its bias and the BN after its ReLU; owned */
} lis_pump_block;

typedef struct {
    int c0, k0, D, P, depth, kd, out_dim;
    lis_conv2d_packed conv0, patch, head;
    float *b0, *s0, *t0;     /* conv0 bias, BN 2 scale / shift */
    float *b1, *s1, *t1;     /* patchify bias, BN 5 */
    float *bh;               /* head bias (4 out) */
    lis_pump_block blk[LIS_PUMP_MAX_DEPTH];
    float mean[3], std[3];
    char label[256];
    /* activation plan for one H x W image */
    int plan_h, plan_w;
    float *arena;            /* owned; the buffers below point into it */
    float *x0, *a0, *X, *T, *S;
    void *ws;
    size_t arena_bytes;
} lis_pump_net;

/* The built-in synth-init manifest (PUMP-stytrf shapes; conv weights uniform with
 * s = ceil(log2(fan_in)/2) - 1, biases uniform 4, BN weight / running_var positive, BN bias /
 * running_mean uniform 5: refs/pump's rule). Malloc'ed text. */
char *lis_pump_synth_manifest(void);

lis_status lis_pump_net_load(lis_pump_net *net, const lis_safetensors *st);
/* Opens a weight source as a safetensors ("synth", *.manifest or a file); lis_st_close it. */
lis_status lis_pump_weights_open(lis_safetensors *st, const char *path);
/* "synth", a *.manifest, or a lis weight file. */
lis_status lis_pump_net_load_file(lis_pump_net *net, const char *path);
void lis_pump_net_free(lis_pump_net *net);
lis_status lis_pump_net_plan(lis_pump_net *net, int H, int W);
/* Descriptors of one image (H x W x 3 uint8, H and W multiples of 4).
 * full = 1: out is H*W x out_dim (pixel-major, every pixel);
 * full = 0: out is out_dim x ld (channel-major), column i*(W/4) + j = pixel (4j+2, 4i+2),
 *           columns from (H/4)*(W/4) to ld-1 untouched. */
lis_status lis_pump_net_describe(lis_pump_net *net, const uint8_t *img, int H, int W, int full, float *out, int ld);
/* Multiply-adds of one image (for throughput numbers). */
double lis_pump_net_macs(const lis_pump_net *net, int H, int W);

/* ---- matcher ---- */
typedef struct {
    int levels, min_shape;  /* 99, 5 */
    double nlpow, border;   /* 1.5, 0.9 (doubles, as PUMP's Python floats) */
    int post_filter;        /* 1 */
    float locality;         /* 2 */
    int min_cc_size;        /* 50 */
    int exact_keys;         /* 0: the original's float32 reciprocal keys */
    size_t level0_max_bytes;/* keep level 0 (4 * n1h*n1w * H2*W2 bytes) up to this size, else
                               recompute it in the backward (kernels/pump_pyramid.h); 2 GiB */
} lis_pump_params;
void lis_pump_params_default(lis_pump_params *p);

struct lis_pump_cuda;

typedef struct {
    lis_pump_params prm;
    lis_pump_geom g;
    lis_pump_pyramid py;   /* probes may be set by tests */
    struct lis_pump_cuda *gpu; /* optional (borrowed): descriptors and pyramid on this GPU
                                  (nets/pump_cuda.h); reciprocal and post-filter stay here */
    int H1, W1, H2, W2, C;
    float *desc1;          /* C x cs0, padding columns zero */
    float *desc2;          /* H2*W2 x C */
    float *pos1, *score1;  /* ncell0 x 4, ncell0 */
    float *pos2, *score2;  /* nblock x 4, nblock */
    float *recip, *corres; /* ncell0 x 6 each */
    int nrecip, ncorres;
    double t_desc, t_match, t_post; /* seconds of the last call, for benchmarks */
} lis_pump_matcher;

/* Sizes every buffer for img1 H1 x W1 and img2 H2 x W2 (multiples of 4), C channels;
 * m must be zeroed before the first call. */
lis_status lis_pump_matcher_plan(lis_pump_matcher *m, const lis_pump_params *p, int H1, int W1, int H2, int W2, int C);
void lis_pump_matcher_free(lis_pump_matcher *m);
/* m->desc2 was filled: pack it for the correlation (once per img2). */
lis_status lis_pump_matcher_set_desc2(lis_pump_matcher *m);
/* Matching from m->desc1 and the packed desc2: pyramid, best matches, reciprocal, post-filter. */
lis_status lis_pump_match_descs(lis_pump_matcher *m);
/* Reciprocal check and post-filter of m->pos1/score1/pos2/score2 (the last step of both the
 * CPU and the GPU path). */
lis_status lis_pump_match_finish(lis_pump_matcher *m);
/* Descriptors + matching (on m->gpu when set). same_img2 = 1 reuses the img2 descriptors of
 * the last call. */
lis_status lis_pump_match_images(lis_pump_matcher *m, lis_pump_net *net, const uint8_t *img1, const uint8_t *img2,
                                 int H, int W, int same_img2);

/* ---- motion ---- */
typedef struct {
    lis_affine_params affine;
    int field_run;  /* 1 (LinkingInStyle) or 2 */
} lis_pump_motion_params;
void lis_pump_motion_params_default(lis_pump_motion_params *p);

typedef struct {
    int H, W;
    float *corres1, *corres2; /* n x 6, owned */
    int n1, n2;
    double A[6];
    int n_inliers;
    uint8_t *warped;          /* H x W x 3 */
    double *dense;            /* H*W x 2: (x2, y2) of the chosen field */
    float *flow;              /* H x W x 2: dense - (x, y) */
    /* statistics of the local motion (pump.h top comment) */
    double mean_mag, concentration, centroid_x, centroid_y;
    double rot_deg, scale, tx, ty;
    double seconds;
} lis_pump_motion;

/* Runs the whole path on one pair (H x W x 3 uint8 each); the matcher is (re)planned for
 * H x W. Fails (naming the run) when a run has fewer than 4 correspondences, as the
 * original's asserts. */
lis_status lis_pump_motion_run(lis_pump_matcher *m, lis_pump_net *net, const uint8_t *img_o, const uint8_t *img_p,
                               int H, int W, const lis_pump_motion_params *mp, lis_pump_motion *out);
void lis_pump_motion_free(lis_pump_motion *mo);

#endif
