/* contours.h — outer borders of a binary mask, as OpenCV 4.x
 * cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE) returns them.
 *
 * The algorithm is Suzuki & Abe's border following as OpenCV's contours.cpp implements it
 * (cvFindNextContour + icvFetchContour): the mask (non-zero = 1) gets a one-pixel zero
 * frame; a raster scan starts an outer border at every 0 -> 1 transition whose last
 * visited border pixel on the row is not inside an already traced outer border; the
 * border is followed clockwise (on screen, y down) marking visited pixels 2 or, for
 * "right bound" pixels, -126; CHAIN_APPROX_SIMPLE keeps a point where the chain code
 * changes. Holes and everything inside them are skipped (RETR_EXTERNAL).
 * Order: OpenCV inserts each new contour at the head of its list, so contours come
 * out in reverse raster order of their starting points; we return the same order.
 * Points are (x, y) = (column, row) in mask coordinates.
 *
 * Variants: lis_contours_external is the only one (border following is sequential and
 * costs O(pixels); a mask of 128 x 128 takes microseconds).
 */
#ifndef LIS_CONTOURS_H
#define LIS_CONTOURS_H

#include <stdint.h>

#include "runtime/status.h"

typedef struct {
    int *pts;           /* [n_points, 2] x, y of all contours, concatenated */
    int *start;         /* [count + 1]: contour i is points start[i] .. start[i+1]-1 */
    int count;
    /* storage, grown on demand and reused across calls */
    int cap_pts, cap_cnt;
    signed char *img;   /* (H+2) x (W+2) work image */
    int64_t cap_img;
} lis_contours;

/* mask [H, W] (non-zero = foreground). Results replace what *c held. */
lis_status lis_contours_external(lis_contours *c, const uint8_t *mask, int H, int W);
void lis_contours_free(lis_contours *c);

#endif
