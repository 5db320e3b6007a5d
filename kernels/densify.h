/* densify.h — a dense correspondence field from sparse matches, as PUMP's
 * post_filter.densify_corres(corres, (H, W), full=True) (spec/pump.md s.8):
 *
 *  - inside the convex hull of the source points (x1, y1): piecewise-linear interpolation of
 *    (x2, y2) over the Delaunay triangulation of the source points (scipy's
 *    LinearNDInterpolator; pixels on the hull boundary count as inside);
 *  - outside: (x, y) + the mean displacement (x2 - x1, y2 - y1) of the 3 nearest source points
 *    (scipy's cKDTree; the mean in float32 as numpy's).
 * Evaluated at every pixel (x, y), x = 0..W-1, y = 0..H-1, row y*W + x; output (x2, y2) in
 * double (the original returns (x, y, x2, y2) float64 rows; (x, y) is implicit here).
 *
 * Triangulation: incremental Bowyer-Watson with exact predicates (integer coordinates in
 * 1/16 px, orientation and in-circle tests in 128-bit integers), so the degenerate inputs
 * PUMP produces (points on a regular 4-px grid: every grid square is co-circular) never
 * break it. Where Qhull's choice of diagonal in such a square is arbitrary, this one may
 * differ: the field then differs only where the square's four corners disagree, which is
 * why the reference is compared statistically. Nearest-neighbour ties go to the lower row.
 * Duplicate source points are used once (the first).
 */
#ifndef LIS_DENSIFY_H
#define LIS_DENSIFY_H

#include "runtime/status.h"

/* corres: n rows of `stride` floats, (x1, y1, x2, y2) first. out: H*W x 2 doubles.
 * Needs n >= 4 (as the original's assert); allocates its scratch. */
lis_status lis_densify(const float *corres, int n, int stride, int H, int W, double *out);

#endif
