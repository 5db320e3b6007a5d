/* nearest_concat.h — the segmentation head's input: generator feature maps, each resized
 * to out x out by PyTorch's legacy 'nearest' and concatenated along channels
 * (LinkingInStyle src/utils.py concat_features_torch), and the head's first 3x3
 * convolution computed from the maps at their own resolution, without forming the
 * concatenation (13,588 x 128 x 128 floats = 890 MB per image for ImageNet-256).
 *
 * Nearest rule (spec/classifier.md 6.1): per axis, src = min(floor((float)dst * s), in - 1)
 * with s = (float)in / (float)out in float32; no half-pixel offset.
 *
 * Registration: each map can be read through a window [off, off + len) on both axes
 * before resizing. The original resizes the whole map (off = 0, len = size), so the
 * StyleGAN3 margins (10 px each side of the 36/52/84/148/276 grids) are squeezed in and
 * the features are mis-registered with the image by up to margin/size; lis can crop the
 * margins instead (off = margin, len = size - 2 margin).
 *
 * Tap convolution ("tapconv"): y = act(bias + conv3x3_dil(concat(maps))), padding =
 * dilation, i.e. nn.Conv2d(in_ch, K, 3, padding=d, dilation=d) on the concatenation. Each
 * map m contributes
 *     y[k, oy, ox] += sum_t Z_m[t, k, idx_m(oy + dy_t), idx_m(ox + dx_t)]
 *     Z_m[t, k, i, j] = sum_c w[k, c0_m + c, t] * G_m[c, i, j]
 * where G_m is the map's window at its own size when it is at most out (the upsampled
 * maps: the 9 tap products are computed once per SOURCE pixel, not per output pixel) and
 * the window subsampled to out x out otherwise (idx = identity); dy_t, dx_t = (r-1) d,
 * (s-1) d and taps falling outside [0, out) read zero, as the padded conv does. Z is one
 * GEMM per map (packed weights); the scatter adds 9 shifted gathers.
 * For ImageNet-256 (S = 128, 16 maps, 13,588 channels) this is ~97 GMAC instead of
 * ~256 GMAC per image (spec/pipeline.md 10) and the workspace is 9 K out^2 floats.
 *
 * The weight gradient of the same conv (training) is the transpose: the output gradient
 * is scattered back onto each map's grid, P_m[i, j, t, k] = sum over output pixels whose
 * tap t reads (i, j) of dy[k, .], then dW[k, c0 + c, t] = sum_ij G_m[c, i, j] P_m[i, j, t, k]
 * (one GEMM per map).
 *
 * Variants: _ref materialises the concatenation and runs the naive conv (the oracle);
 * _cpu is the tap path (threads inside the GEMMs and over output channels). CUDA: see
 * kernels/nearest_concat_cuda.h.
 */
#ifndef LIS_NEAREST_CONCAT_H
#define LIS_NEAREST_CONCAT_H

#include <stddef.h>

#include "kernels/conv2d.h"
#include "kernels/gemm.h"
#include "runtime/status.h"

#define LIS_NC_MAX_MAPS 64

/* PyTorch's legacy nearest source index. */
int lis_nearest_src(int dst, int in, int out);

typedef struct {
    int n_maps;
    int C[LIS_NC_MAX_MAPS];     /* channels of map m */
    int size[LIS_NC_MAX_MAPS];  /* its spatial size (square maps) */
    int off[LIS_NC_MAX_MAPS];   /* window start (0 for the original registration) */
    int len[LIS_NC_MAX_MAPS];   /* window length (size for the original registration) */
    int out;                    /* the head's size */
    /* the first convolution (tapconv only) */
    int K, dil;                 /* output channels, dilation (= padding) of the 3x3 conv */
    lis_act act;
    float slope;
} lis_nc_params;

/* Checks sizes and windows; returns the total channel count in *in_ch. */
lis_status lis_nc_check(const lis_nc_params *p, int *in_ch);

/* maps[m]: [C_m, size_m, size_m] of one image -> y [in_ch, out, out] */
void lis_nearest_concat_ref(const lis_nc_params *p, const float *const *maps, float *y);
void lis_nearest_concat_cpu(const lis_nc_params *p, const float *const *maps, float *y);

/* ---- the first conv from the maps ---- */

/* w: [K, in_ch, 3, 3], bias [K] or NULL, y [K, out, out]. Allocates (concatenation). */
lis_status lis_tapconv_ref(const lis_nc_params *p, const float *const *maps, const float *w, const float *bias, float *y);

typedef struct {
    int n_maps, K, in_ch;
    lis_gemm_apack a[LIS_NC_MAX_MAPS]; /* map m: [9K, C_m], row t*K + k = w[k, c0_m + ., t] */
} lis_tapconv_packed;

lis_status lis_tapconv_pack(lis_tapconv_packed *pk, const lis_nc_params *p, const float *w);
void lis_tapconv_packed_free(lis_tapconv_packed *pk);
/* Bytes of workspace for the forward and the weight gradient (64-byte aligned). */
size_t lis_tapconv_workspace_size(const lis_nc_params *p);
void lis_tapconv_cpu_packed(const lis_nc_params *p, const lis_tapconv_packed *pk, const float *const *maps,
                            const float *bias, float *y, void *ws);
/* The same, one map at a time (the generator's taps arrive one layer after the other
 * and need not be kept): begin (y = bias), add_map for each m in any order, end
 * (activation). lis_tapconv_cpu_packed = begin + add_map(0..n-1) + end. */
void lis_tapconv_begin(const lis_nc_params *p, const float *bias, float *y);
void lis_tapconv_add_map(const lis_nc_params *p, const lis_tapconv_packed *pk, int m, const float *map, float *y, void *ws);
void lis_tapconv_end(const lis_nc_params *p, float *y);
/* Convenience: packs and allocates a workspace, then runs the packed path. */
lis_status lis_tapconv_cpu(const lis_nc_params *p, const float *const *maps, const float *w, const float *bias, float *y);

/* Weight gradient: dw [K, in_ch, 3, 3] += d(loss)/dw for dy [K, out, out], the gradient of
 * the conv's output BEFORE the activation (the caller applies the activation's
 * derivative). _ref: materialised and naive. */
lis_status lis_tapconv_backward_w_ref(const lis_nc_params *p, const float *const *maps, const float *dy, float *dw);
void lis_tapconv_backward_w_cpu(const lis_nc_params *p, const float *const *maps, const float *dy, float *dw, void *ws);

/* Copies map m's grid (what the tap path reads: the window, subsampled to out when it is
 * larger) into G [C_m, g, g]; returns g. A map replaced by its grid has the geometry
 * size = len = g, off = 0 and gives the same results: a compact cache for training. */
int lis_nc_grid_copy(const lis_nc_params *p, int m, const float *map, float *G);

/* The subsampled / windowed grid a map is read on: g = len if len <= out, else out;
 * idx[0 .. out) = the grid index each output row/column reads. */
int lis_nc_grid(const lis_nc_params *p, int m, int *idx);

#endif
