/* to_u8_cuda.h — the generator's float -> uint8 conversion on the GPU (kernels/to_u8.cu),
 * exactly as lis_to_u8_ref (kernels/to_u8.h, LinkingInStyle's w_to_img):
 *   u8[n, y, x, c] = uint8(clamp((img[n, c, y, x] + 1) * 127.5, 0, 255))
 * float32, NCHW -> NHWC, truncation toward zero. One thread per byte; bit-exact.
 * Device pointers; C header, no CUDA types.
 */
#ifndef LIS_TO_U8_CUDA_H
#define LIS_TO_U8_CUDA_H

#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* img: [N, C, H, W] float32 -> u8: [N, H, W, C]. */
lis_status lis_to_u8_cuda(const float *img, int N, int C, int H, int W, uint8_t *u8, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
