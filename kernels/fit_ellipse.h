/* fit_ellipse.h — cv2.fitEllipse of OpenCV 4.6 on integer contour points.
 *
 * OpenCV 4.6 routes 5 points to fitEllipseDirect (Fitzgibbon's direct least squares,
 * whose 5-point solution is the conic through them) and more to fitEllipseNoDirect
 * (Weiss's algebraic fit: least squares for A..E of -Ax^2 - By^2 - Cxy + Dx + Ey = 10000
 * on centred, scaled points, centre from the gradient equations, then a re-fit of A..C
 * about that centre; nearly collinear point sets are nudged by +-eps first).
 * Both return OpenCV's RotatedRect: centre, full axes (width <= height after OpenCV's swap,
 * which adds 90 degrees to the angle) and the angle in degrees, rounded to float as
 * OpenCV does. The least-squares solves use an SVD (one-sided Jacobi here, LAPACK-free);
 * the solution is the same as OpenCV's SVD to rounding (tests: 1e-3 px, 1e-2 degrees).
 */
#ifndef LIS_FIT_ELLIPSE_H
#define LIS_FIT_ELLIPSE_H

#include "runtime/status.h"

typedef struct {
    float cx, cy;  /* centre (x = column, y = row) */
    float w, h;    /* full axes as returned (w <= h unless the fit degenerated) */
    float angle;   /* degrees */
} lis_ellipse;

/* pts [n, 2] integer (x, y); n >= 5 (else LIS_ERR with a message). Allocates nothing
 * for n <= 4096 points; larger contours use a temporary buffer. */
lis_status lis_fit_ellipse(const int *pts, int n, lis_ellipse *e);

/* sqrt(1 - w^2/h^2), NaN when w > h (the original's eccentricity, no swap). */
double lis_ellipse_eccentricity(const lis_ellipse *e);

#endif
