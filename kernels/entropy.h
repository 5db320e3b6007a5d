/* entropy.h — local Shannon entropy of an 8-bit image over a disk, as
 * skimage.filters.rank.entropy(image, skimage.morphology.disk(r)) (scikit-image 0.19):
 *
 *   out[y, x] = - sum_v p_v log2 p_v,  p_v = (count of value v in the disk) / pop
 *
 * The disk holds the offsets dx^2 + dy^2 <= r^2 (81 pixels for r = 5); pixels outside
 * the image are left out of the counts (pop shrinks near the border). The sum runs over
 * the values in increasing order and each term is p * log(p) / ln 2, the order and
 * arithmetic of skimage's _kernel_entropy, so results agree to the last bits.
 *
 * Also the grey image that feeds it: skimage.util.img_as_ubyte(skimage.color.rgb2gray(rgb)):
 * grey = (R/255) 0.2125 + (G/255) 0.7154 + (B/255) 0.0721 in float64, then
 * round-half-even(grey * 255).
 *
 * Variants: _ref recounts the disk at every pixel; _cpu slides a histogram along each row
 * (adds the disk's right edge, removes its left edge) and splits rows over threads.
 */
#ifndef LIS_ENTROPY_H
#define LIS_ENTROPY_H

#include <stdint.h>

#include "runtime/status.h"

/* img [H, W] uint8 -> out [H, W] float64 */
lis_status lis_entropy_disk_ref(const uint8_t *img, int H, int W, int radius, double *out);
lis_status lis_entropy_disk_cpu(const uint8_t *img, int H, int W, int radius, double *out);

/* rgb [n, 3] uint8 -> grey [n] uint8 */
void lis_rgb_to_grey_u8(const uint8_t *rgb, int64_t n, uint8_t *grey);

#endif
