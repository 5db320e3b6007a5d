/* affine_ransac.h — global 2-D affine motion from point correspondences, and warping by it:
 * OpenCV's cv::estimateAffine2D (method RANSAC, all defaults) and cv::warpAffine (bilinear,
 * BORDER_CONSTANT 0), as LinkingInStyle's comp_vis_motion calls them (spec/pump.md s.7).
 *
 * Estimation, exactly OpenCV 4.x's RANSACPointSetRegistrator + Affine2DEstimatorCallback:
 *  - points are float32 (x, y) -> (x', y');
 *  - sampling: a multiply-with-carry generator (cv::RNG: state = (uint32)state * 4164903690 +
 *    (state >> 32), output the low 32 bits), seeded with `seed` (OpenCV: all ones);
 *    an index is next() % n; each iteration draws 3 distinct indices (redrawing
 *    duplicates) and rejects the triple if it is collinear in either point set
 *    (|cross| <= FLT_EPSILON * (|dx1|+|dy1|+|dx2|+|dy2|), the last point against each earlier
 *    pair), up to 10000 draws per iteration;
 *  - model: the exact 3-point affine in double (Cramer's rule);
 *  - score: a point is an inlier when its float32 squared reprojection error is <= threshold^2
 *    (the model rounded to float32 first); a model with more inliers than the best so far
 *    (and at least 3) replaces it, and the iteration budget becomes
 *    round(log(1 - confidence) / log(1 - inlier_ratio^3)), capped at the current budget;
 *  - refinement (refine != 0): least squares of the affine on the RANSAC inliers, in double.
 *    OpenCV runs 10 Levenberg-Marquardt iterations on the same objective; since the model is
 *    linear in its parameters LM converges to this solution (the two agree to 2e-13 on the
 *    reference pairs, spec s.7). The returned inlier mask is RANSAC's, as OpenCV's.
 * Defaults (lis_affine_params_default): threshold 3 px, 2000 iterations, confidence 0.99,
 * refine on, seed 0xFFFFFFFFFFFFFFFF. Same input and seed -> same result, on any machine.
 *
 * Warping, exactly OpenCV's fixed-point bilinear warpAffine for 8-bit images: the matrix is
 * inverted in double; source coordinates in 1/1024 px are rounded (cvRound) per row and
 * column, then cut to 1/32 px (INTER_BITS = 5); the 2x2 taps carry 15-bit integer weights
 * (OpenCV's BilinearTab_i, including its quirk for the exact-pixel entry: 32767 and 1);
 * taps outside the image read 0; the result is (sum + 2^14) >> 15 saturated to 0..255.
 */
#ifndef LIS_AFFINE_RANSAC_H
#define LIS_AFFINE_RANSAC_H

#include <stdint.h>

#include "runtime/status.h"

typedef struct {
    double threshold;   /* max reprojection error of an inlier (px) */
    int max_iters;      /* RANSAC iteration budget */
    double confidence;  /* in (0, 1) */
    int refine;         /* 1: least-squares refinement on the inliers */
    uint64_t seed;      /* initial RNG state */
} lis_affine_params;

void lis_affine_params_default(lis_affine_params *p);

/* pts: n rows of `stride` floats, (x, y, x', y') in the first four (PUMP correspondence rows
 * have stride 6). A (out): [a b c; d e f] row-major with (x', y') ~ A (x, y, 1).
 * inliers (out, may be NULL): n bytes; *n_inliers (may be NULL). Errors: fewer than 3
 * points, or no non-degenerate sample found. */
lis_status lis_affine_estimate(const float *pts, int n, int stride, const lis_affine_params *p, double A[6],
                               uint8_t *inliers, int *n_inliers);

/* dst = warpAffine(src, A, (W, H)): src, dst H x W x C uint8 (C <= 4), dst(q) = src(A^-1 q). */
void lis_warp_affine_u8(const uint8_t *src, int H, int W, int C, const double A[6], uint8_t *dst);

/* Decomposition used for the motion statistics: rotation (radians, of the closest
 * similarity: atan2(d - b, a + e)), scale sqrt(|det|), and the translation of the point
 * (cx, cy): A (cx, cy, 1) - (cx, cy). */
void lis_affine_decompose(const double A[6], double cx, double cy, double *rot, double *scale, double *tx,
                          double *ty);

#endif
