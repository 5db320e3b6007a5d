/* preprocess.h — torchvision's validation transform on uint8 RGB images, bit-exact:
 *
 *   Resize(resize) -> CenterCrop(crop) -> ToTensor -> Normalize(mean, std)
 *
 * as run by torchvision 0.14 on a PIL image (spec/classifier.md §1). Resize goes
 * through Pillow 9.4's BILINEAR resampler: separable, horizontal pass then vertical,
 * 22-bit fixed-point weights, the tent widened by the reduction factor when shrinking
 * (antialiasing), uint8 rounding after each pass. CenterCrop offsets use Python's
 * round (half to even); a crop larger than the image zero-pads first. ToTensor and
 * Normalize are one 256-entry float table per channel, T_c[u] = ((float)u/255 - m_c)/s_c
 * in float32, so the output equals torchvision's bit for bit.
 *
 * Variants: lis_resize_u8_ref (Pillow's algorithm written out, coefficients computed
 * inline: the oracle) and lis_resize_u8_cpu (coefficients precomputed once per size
 * pair in a lis_resize_plan, no allocation per image). Images are H x W x 3 (HWC).
 */
#ifndef LIS_PREPROCESS_H
#define LIS_PREPROCESS_H

#include <stdint.h>

#include "runtime/status.h"

typedef struct {
    int resize;        /* Resize(int): the short side becomes this; 0 = no resize */
    int crop_h, crop_w; /* CenterCrop size */
    float mean[3];     /* Normalize mean, per channel (float32 rounding of the double) */
    float std[3];      /* Normalize std */
} lis_preprocess_cfg;

/* ImageNet defaults: Resize(256), CenterCrop(224), mean (0.485, 0.456, 0.406),
 * std (0.229, 0.224, 0.225). */
void lis_preprocess_cfg_default(lis_preprocess_cfg *cfg);

/* torchvision Resize(size) output size for an h x w image: the short side becomes
 * `size`, the long side int(size * long / short) (float division, truncated). */
void lis_resize_out_size(int h, int w, int size, int *oh, int *ow);

/* CenterCrop offset for a side of length `in` cropped to `out`: Python
 * int(round((in - out) / 2.0)), half to even (383 -> 224 gives 80, not 79 or 80.5). */
int lis_center_crop_offset(int in, int out);

/* Pillow BILINEAR resize of an h x w x 3 image to oh x ow x 3 (the oracle): every output
 * pixel recomputes the horizontal-pass values it needs, so it needs no scratch. Any
 * sizes >= 1; equal sizes copy. */
void lis_resize_u8_ref(const uint8_t *src, int h, int w, uint8_t *dst, int oh, int ow);

/* Precomputed per-axis coefficients for one (h, w) -> (oh, ow) pair. */
typedef struct {
    int in, out;      /* axis lengths */
    int ksize;        /* taps per output (max) */
    int *bounds;      /* out x 2: first source index, number of taps */
    int32_t *k;       /* out x ksize fixed-point weights (2^22 = 1.0) */
} lis_resize_axis;

typedef struct {
    int h, w, oh, ow;
    lis_resize_axis x, y;  /* horizontal (w -> ow) and vertical (h -> oh) */
} lis_resize_plan;

lis_status lis_resize_plan_init(lis_resize_plan *pl, int h, int w, int oh, int ow);
void lis_resize_plan_free(lis_resize_plan *pl);
/* Bytes of scratch lis_resize_u8_cpu needs (the uint8 image between the passes). */
size_t lis_resize_tmp_size(const lis_resize_plan *pl);
/* Same result as _ref, bit for bit; single-threaded (callers parallelise over images). */
void lis_resize_u8_cpu(const lis_resize_plan *pl, const uint8_t *src, uint8_t *dst, uint8_t *tmp);

/* ToTensor + Normalize tables: table[c][u] = ((float)u / 255.0f - mean[c]) / std[c]. */
void lis_normalize_tables(const float mean[3], const float std[3], float table[3][256]);

/* The whole transform for images of one input size. */
typedef struct {
    lis_preprocess_cfg cfg;
    int h, w;               /* input size */
    int rh, rw;             /* after Resize */
    int top, left;          /* crop origin in the resized image (negative: zero padding) */
    int resize_needed;      /* 0 when Resize is the identity (e.g. 256x256 with resize 256) */
    lis_resize_plan rs;
    float table[3][256];
    int nthreads;
    uint8_t *scratch;       /* per thread: resized image + resampler tmp; owned */
    size_t scratch_per_thread;
} lis_preprocess_plan;

lis_status lis_preprocess_plan_init(lis_preprocess_plan *pl, const lis_preprocess_cfg *cfg, int h, int w);
void lis_preprocess_plan_free(lis_preprocess_plan *pl);

/* n images (n x h x w x 3, uint8 HWC) -> n x 3 x crop_h x crop_w float32 (NCHW).
 * Threads over images; nothing is allocated. */
void lis_preprocess_run(const lis_preprocess_plan *pl, int n, const uint8_t *imgs, float *out);

/* Step-by-step pieces for tests: resized (rh x rw x 3) and cropped (crop_h x crop_w x 3)
 * uint8 images of one input, computed with the _ref resampler. */
void lis_preprocess_steps_ref(const lis_preprocess_plan *pl, const uint8_t *img, uint8_t *resized, uint8_t *cropped);

#endif
