/* toyworld.h — the renderer of lis's toy world (../shared/demo/world.md): one shape on a
 * flat background, with its exact part masks and the fixed map z -> scene parameters
 * that the demo generator was trained to reproduce.
 *
 * Scenes span [-1, 1]^2, x right, y down (rows); pixel centres at (i + 0.5) * 2/N - 1.
 * Shapes are exact signed distance functions (negative inside); the object is rotated
 * (clockwise on screen), stretched by exp(+-aspect/2), scaled by size and moved to
 * (x, y); the image-space distance is sdf(p) * size * min(exp(+-aspect/2)).
 * Colours: fill = HSV(hue, 0.8, value), outline = 0.3 * fill, background =
 * HSV(bg_hue, 0.25, bg_value); coverage antialiasing clip(0.5 - d/px, 0, 1) for the
 * shape edge and for the fill/outline edge (d + 0.06); uint8 = round-half-even(v * 255).
 * Labels by the pixel centre: d >= 0 -> 0 background, -0.06 <= d < 0 -> 2 outline,
 * d < -0.06 -> 1 object.
 *
 * Matches the bundled ground truth (shared/demo/samples/gt20) pixel for pixel: labels
 * exactly, RGB exactly (tests/test_toyworld.c).
 */
#ifndef LIS_TOYWORLD_H
#define LIS_TOYWORLD_H

#include <stdint.h>

enum { LIS_TOY_DISK, LIS_TOY_SQUARE, LIS_TOY_TRIANGLE, LIS_TOY_STAR, LIS_TOY_RING, LIS_TOY_CROSS, LIS_TOY_N_CLASSES };
enum { LIS_TOY_HUE, LIS_TOY_VALUE, LIS_TOY_SIZE, LIS_TOY_ASPECT, LIS_TOY_X, LIS_TOY_Y, LIS_TOY_ROTATION, LIS_TOY_BG_VALUE,
       LIS_TOY_BG_HUE, LIS_TOY_N_PARAMS };
enum { LIS_TOY_LABEL_BACKGROUND, LIS_TOY_LABEL_OBJECT, LIS_TOY_LABEL_OUTLINE, LIS_TOY_N_LABELS };

extern const char *const lis_toy_class_names[LIS_TOY_N_CLASSES];
extern const char *const lis_toy_param_names[LIS_TOY_N_PARAMS];
extern const char *const lis_toy_label_names[LIS_TOY_N_LABELS];
/* Range of each parameter: param_k = lo_k + (hi_k - lo_k) * Phi(zn_k). The table of
 * world.md rounds two of them; the exact ends are +-ln(1.5) (aspect) and +-pi/4. */
extern const double lis_toy_param_lo[LIS_TOY_N_PARAMS], lis_toy_param_hi[LIS_TOY_N_PARAMS];

/* z [z_dim] (z_dim >= 9) -> params [9]: zn = z * rsqrt(mean(z^2) + 1e-8) over all z_dim
 * entries (the mapping network's own normalisation), u_k = Phi(zn_k). */
void lis_toy_params_from_z(const double *z, int z_dim, double *params);

/* Signed distance of the unit shape of class cls at (px, py) (shape coordinates). */
double lis_toy_sdf(int cls, double px, double py);
/* Image-space signed distance of the scene's object at image point (x, y). */
double lis_toy_distance(const double *params, int cls, double x, double y);

/* Renders an N x N scene. Any output may be NULL: rgb [N, N, 3] uint8, labels [N, N]
 * (0 background, 1 object, 2 outline), dist [N, N] image-space signed distances. */
void lis_toy_render(const double *params, int cls, int N, uint8_t *rgb, uint8_t *labels, float *dist);

/* colorsys.hsv_to_rgb (h taken mod 1). */
void lis_toy_hsv_to_rgb(double h, double s, double v, double *rgb);

#endif
