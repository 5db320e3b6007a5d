/* flow_plot.h — vector-field plots of a dense correspondence field, like LinkingInStyle's
 * motion_visualization.plot_corres (run.py values: percentile 90, neigh 3, step 5;
 * spec/pump.md s.9).
 *
 * Selection (lis_flow_arrows_select), on the dense rows (x, y) -> (x2, y2) in row-major order:
 *   1. keep rows with both ends inside [neigh, W-1-neigh] x [neigh, H-1-neigh];
 *   2. keep every step-th of them (0, step, 2 step, ...);
 *   3. dx = x2 - x, dy = y2 - y, r = hypot(dx, dy), theta = atan2(dy, dx);
 *   4. keep r > the percentile-th percentile of r over step 2's rows (numpy's linear
 *      interpolation, including its two-sided lerp);
 *   5. colour: hue ((theta + pi) mod 2 pi) / 2 pi, saturation max(r / max r, 0.5) (max over
 *      step 2's rows), value 1, matplotlib's hsv_to_rgb.
 * Arrows are (x, y, dx, dy, r, g, b) float32 rows.
 *
 * Rendering (lis_flow_render): the image darkened as the original (PIL blend 75 % towards
 * black, truncated; shown at alpha 0.7 over white), upscaled `scale` times (nearest), then
 * each arrow as matplotlib's FancyArrow (width 1, head width 1.7, head length 2.55 in image
 * pixels, tip at (x + dx, y + dy), the tail head-length behind (x, y)) filled at alpha 0.95
 * with 4 x 4 supersampled coverage. Pixel-exact agreement with matplotlib's Agg output is not
 * a goal (the spec leaves it unspecified); scale 0 picks ~770 px like the original's figure.
 */
#ifndef LIS_FLOW_PLOT_H
#define LIS_FLOW_PLOT_H

#include <stdint.h>

#include "runtime/status.h"

typedef struct {
    int neigh;          /* 3 */
    int step;           /* 5 */
    double percentile;  /* 90; < 0 keeps every row of step 2 */
    int scale;          /* output pixels per image pixel; 0 = about 770 px wide */
} lis_flow_plot_params;

typedef struct {
    float *a; /* n x 7, owned */
    int n;
} lis_flow_arrows;

void lis_flow_plot_params_default(lis_flow_plot_params *p);
/* dense: H*W x 2 doubles (x2, y2) of pixel (x, y) at row y*W + x. */
lis_status lis_flow_arrows_select(const lis_flow_plot_params *p, const double *dense, int H, int W,
                                  lis_flow_arrows *out);
void lis_flow_arrows_free(lis_flow_arrows *a);
/* img: H x W x 3 uint8 -> *out malloc'ed (*oh) x (*ow) x 3. */
lis_status lis_flow_render(const lis_flow_plot_params *p, const lis_flow_arrows *a, const uint8_t *img, int H, int W,
                           uint8_t **out, int *oh, int *ow);

#endif
