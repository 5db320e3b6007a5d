/* to_u8.h — generator output to 8-bit RGB, exactly as LinkingInStyle's w_to_img:
 *   u8[n, y, x, c] = uint8(clamp((img[n, c, y, x] + 1) * 127.5, 0, 255))
 * float32 arithmetic, NCHW -> NHWC, the cast truncating toward zero (torch .to(uint8)).
 */
#ifndef LIS_TO_U8_H
#define LIS_TO_U8_H

#include <stdint.h>

/* img: [N, C, H, W] float32 -> u8: [N, H, W, C]. */
void lis_to_u8_ref(const float *img, int N, int C, int H, int W, uint8_t *u8);

#endif
