/* seg_metrics.h — per-label part metrics of one image and the change of a unit's sweep,
 * as the original analysis computes them (spec/pipeline.md 7.1 and 7.2;
 * feature_analysis_piepeline.py and the notebook's post-processing).
 *
 * Per image (H x W RGB + label map) and label l >= 1, with M = (label == l):
 *   area          = count of M (the original compares colour-coded masks per channel and
 *                   averages, which can give fractional areas when two labels share a
 *                   channel value; label maps make that quirk impossible, and no
 *                   palette in use triggers it)
 *   luminance     = mean over M of (0.299 R + 0.587 G + 0.114 B) / 3   (0 .. 85)
 *   entropy stats = mean, std (population), min, max over M of the local entropy (disk of
 *                   radius 5, log2) of the 8-bit grey image (kernels/entropy.h)
 *   an empty label gives area 0 and every statistic 0, and no ellipses;
 *   ellipses      = cv2.fitEllipse of each external contour of M with >= 5 points
 *                   (kernels/contours.h, kernels/fit_ellipse.h); contour_i is the contour's
 *                   index in OpenCV's list, eccentricity sqrt(1 - w^2/h^2) (NaN if w > h).
 *
 * A sweep (steps 0 .. T-1 of one unit on one base sample) gives per label l >= 1 the
 * change vector (lis_seg_change, LIS_SEG_N_FEAT values, in this order):
 *   d_area       = (area_last - area_0) / (area_0, or 1 when area_0 = 0)
 *   d_luminance  = (lum_last - lum_0) / 85
 *   d_entropy    = mean_entropy_last - mean_entropy_0
 *   d_ecc, d_angle (degrees; plain difference of OpenCV's angles, as the original):
 *       each ellipse gets a blob index ellips_i = 1 + the index of the first 4-connected
 *       component of (M_0 AND M_last) (components numbered in raster order of their
 *       first pixel, like scipy.ndimage.label) whose bounding box contains the ellipse
 *       centre (pixel i covers [i - 0.5, i + 0.5]; our choice, the original's test is not
 *       known), else none (NaN). If the label has exactly T ellipse rows, or is marked
 *       single_blob (the original's list: body, tongue, nose, snout, head, stem, cap), and
 *       it has exactly one ellipse at step 0 and one at the last step: their difference.
 *       Otherwise: the mean over the blob indices that occur in exactly T rows of
 *       (value at the last step - value at step 0), a blob without a row at step 0 or at
 *       the last step contributing 0; no such blob: NaN.
 *   and every feature of a label whose mean area over the T steps is below min_area
 *   (20 px in the original) is set to 0.
 */
#ifndef LIS_SEG_METRICS_H
#define LIS_SEG_METRICS_H

#include <stdint.h>

#include "kernels/contours.h"
#include "kernels/fit_ellipse.h"
#include "runtime/status.h"

enum { LIS_SEG_AREA, LIS_SEG_LUMINANCE, LIS_SEG_ENTROPY, LIS_SEG_ECCENTRICITY, LIS_SEG_ANGLE, LIS_SEG_N_FEAT };
extern const char *const lis_seg_feat_names[LIS_SEG_N_FEAT];
/* The notebook's plotting range per feature (area 1, luminance/entropy/eccentricity 0.5,
 * angle 180): the scale used to compare features in the unit statistics. */
extern const double lis_seg_feat_range[LIS_SEG_N_FEAT];

typedef struct {
    double area, luminance, mean_entropy, std_entropy, min_entropy, max_entropy;
} lis_seg_stats;

typedef struct {
    int label, contour_i;
    lis_ellipse e;
    double eccentricity;
} lis_seg_ellipse;

/* Results of one image, plus reusable workspace. Zero-initialise; free with _free. */
typedef struct {
    int H, W, n_labels;
    lis_seg_stats *stats;       /* [n_labels]; entry 0 (background) is left zero */
    lis_seg_ellipse *ell;       /* [n_ell] in label order, then OpenCV's contour order */
    int n_ell, cap_ell;
    /* workspace */
    uint8_t *grey, *mask;
    double *entropy;
    int64_t cap_px;
    int cap_labels;
    lis_contours cont;
} lis_seg_metrics;

/* rgb [H, W, 3], labels [H, W] (values >= n_labels are ignored). */
lis_status lis_seg_metrics_image(lis_seg_metrics *m, const uint8_t *rgb, const uint8_t *labels, int H, int W,
                                 int n_labels);
void lis_seg_metrics_free(lis_seg_metrics *m);

typedef struct {
    double min_area;            /* 20 */
    const uint8_t *single_blob; /* [n_labels] flags, or NULL */
} lis_seg_change_params;

/* steps[T] metrics of the T images of a sweep (T >= 2); labels0 / labels_last the label
 * maps of the first and last step; work: int [H*W] scratch. change [(n_labels-1) *
 * LIS_SEG_N_FEAT] (label 1 first). ellips_i (optional) [sum of n_ell over steps] gets each
 * ellipse's blob index (0 = none), steps in order. */
lis_status lis_seg_change(const lis_seg_metrics *steps, int T, const uint8_t *labels0, const uint8_t *labels_last,
                          const lis_seg_change_params *p, int *work, double *change, int *ellips_i);

/* Colour of label l in the original's colour-coded masks: 0 black, l >= 1 matplotlib
 * Set3 colour l-1 (x 255, truncated), cycling after 12. */
void lis_seg_label_color(int l, uint8_t *rgb);

#endif
