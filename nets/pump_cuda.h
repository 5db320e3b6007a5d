/* pump_cuda.h — PUMP on the GPU: the descriptor network and the correlation pyramid, built
 * from an already-loaded host net (nets/pump.h) and its weight source. C code calling the
 * C-callable CUDA kernels (kernels/<op>_cuda.h); no CUDA types.
 *
 *   lis_pump_net net;      lis_pump_net_load_file(&net, "synth");
 *   lis_pump_cuda gpu;     lis_pump_cuda_init_file(&gpu, &net, "synth", 0);
 *   lis_pump_matcher m;    memset(&m, 0, sizeof m); m.gpu = &gpu;
 *   lis_pump_match_images(&m, &net, img1, img2, H, W, 0);   (or lis_pump_motion_run)
 *
 * Network: each conv is the igemm kernel (kernels/conv2d_cuda.h, FP32) with bias + ReLU in its
 * epilogue, the BatchNorm after the ReLU a chan_affine pass, each residual block one dwconv
 * call, the head kernels/pump_head_cuda.h. The input is normalised on the host (3 x H x W
 * floats) and uploaded. Pyramid: kernels/pump_corr_cuda.h, level 0 stored (1.07 GB at 256 px),
 * bit-identical to the CPU driver given the same descriptors (the descriptors themselves
 * differ from the CPU's by float rounding, ~1e-6). Best matches are downloaded; the
 * reciprocal check, post-filter, RANSAC, warp and densification run on the CPU
 * (lis_pump_match_finish), as in the original.
 *
 * Memory: one image plan (activations) and one pyramid plan (all levels, the pooled level of
 * the forward v2, the backward codes/values, the reduction partials), re-planned only when
 * the size changes; nothing is allocated per pair.
 */
#ifndef LIS_PUMP_CUDA_H
#define LIS_PUMP_CUDA_H

#include <stdint.h>

#include "kernels/pump_corr.h"
#include "nets/pump.h"
#include "runtime/backend.h"
#include "runtime/safetensors.h"

typedef struct lis_pump_cuda {
    int device;
    lis_stream stream;                 /* owned */
    const lis_pump_net *net;           /* borrowed: architecture */
    /* weights (device, owned): conv [K, C*R*S], bias, BN scale / shift */
    float *w0, *b0, *s0, *t0, *w1, *b1, *s1, *t1, *wh, *bh;
    float *dw_w[LIS_PUMP_MAX_DEPTH], *dw_b[LIS_PUMP_MAX_DEPTH], *dw_s[LIS_PUMP_MAX_DEPTH], *dw_t[LIS_PUMP_MAX_DEPTH];
    float *pw_w[LIS_PUMP_MAX_DEPTH], *pw_b[LIS_PUMP_MAX_DEPTH], *pw_s[LIS_PUMP_MAX_DEPTH], *pw_t[LIS_PUMP_MAX_DEPTH];
    /* image plan */
    int H, W;
    float *xh;                         /* host: normalised input 3 x H x W */
    float *x0, *a0, *X, *T, *S;        /* device activations */
    /* pyramid plan */
    lis_pump_geom g;
    int have_geom, have_desc2;
    float *desc1, *desc2;              /* device: C x cs0, H2*W2 x C */
    float *lev[LIS_PUMP_MAX_LEVELS];   /* device levels 0 .. nlev-1 */
    float *wts[LIS_PUMP_MAX_LEVELS];   /* device level weights */
    float *nrm[LIS_PUMP_MAX_LEVELS];   /* device border normalisers of levels >= 1 */
    float *fws;                        /* forward workspace (pooled level) */
    void *bws, *best_ws;               /* backward codes/values, reduction partials */
    float *pos1, *score1, *pos2, *score2; /* device results */
} lis_pump_cuda;

/* Uploads the weights of `net` read from `st` (the source the net was loaded from). */
lis_status lis_pump_cuda_init(lis_pump_cuda *pc, const lis_pump_net *net, const lis_safetensors *st, int device);
/* Same from a weight source path ("synth", *.manifest, lis weight file). */
lis_status lis_pump_cuda_init_file(lis_pump_cuda *pc, const lis_pump_net *net, const char *weights, int device);
/* Accepts a zeroed or half-built struct. */
void lis_pump_cuda_free(lis_pump_cuda *pc);

/* Descriptors of a host image (H x W x 3 uint8) into device memory: full = 1 -> H*W x C
 * pixel-major, full = 0 -> C x ld channel-major grid (as lis_pump_net_describe). Returns once
 * `out` is written (the stream is synchronised: it does not order with the default stream). */
lis_status lis_pump_cuda_describe(lis_pump_cuda *pc, const uint8_t *img, int H, int W, int full, float *out, int ld);
/* The pyramid and best matches of the device descriptors pc->desc1 / pc->desc2 for the
 * matcher's geometry; results into m->pos1, score1, pos2, score2 (host). */
lis_status lis_pump_cuda_pyramid(lis_pump_cuda *pc, lis_pump_matcher *m);
/* Host descriptors m->desc1 / m->desc2 (layouts of lis_pump_matcher) uploaded, then the GPU
 * pyramid and lis_pump_match_finish: lis_pump_match_descs on the GPU. */
lis_status lis_pump_cuda_match_descs(lis_pump_cuda *pc, lis_pump_matcher *m);
/* What lis_pump_match_images does when m->gpu is set: descriptors (img2's reused when
 * same_img2 and already there), pyramid, then lis_pump_match_finish. */
lis_status lis_pump_cuda_match_images(lis_pump_cuda *pc, lis_pump_matcher *m, const uint8_t *img1,
                                      const uint8_t *img2, int H, int W, int same_img2);

#endif
