/* preprocess_cuda.h — the classifier's input transform on the GPU (kernels/preprocess.cu),
 * bit-exact with kernels/preprocess.h: Pillow's BILINEAR resize in 22-bit fixed point
 * (horizontal pass, uint8, vertical pass, uint8), center crop (zero padding outside),
 * ToTensor + Normalize through the per-channel 256-entry tables. The plan is made on the
 * host (lis_preprocess_plan_init: the per-axis coefficients) and uploaded once.
 * With kernels/to_u8_cuda.h (the generator's float -> uint8 conversion) the generated
 * images reach the classifier without leaving the GPU.
 * Device pointers; C header, no CUDA types. One variant each (integer work, exact).
 */
#ifndef LIS_PREPROCESS_CUDA_H
#define LIS_PREPROCESS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/preprocess.h"

/* Device copy of a lis_preprocess_plan. */
typedef struct {
    int h, w, rh, rw, top, left, crop_h, crop_w;
    int hpass, vpass;     /* which resampling passes run (Pillow skips an axis whose size is kept) */
    int xks, yks;         /* taps per output of each pass */
    int *xb, *yb;         /* device [rw * 2], [rh * 2]: first source index, tap count */
    int32_t *xk, *yk;     /* device [rw * xks], [rh * yks]: fixed-point weights */
    float *table;         /* device [3 * 256] */
} lis_preprocess_dev;

lis_status lis_preprocess_cuda_upload(lis_preprocess_dev *d, const lis_preprocess_plan *pl);
void lis_preprocess_cuda_free(lis_preprocess_dev *d);
/* Bytes of device workspace for n images. */
size_t lis_preprocess_cuda_workspace(const lis_preprocess_dev *d, int n);
/* imgs: n x h x w x 3 uint8 (device) -> out: n x 3 x crop_h x crop_w float32 (device). */
lis_status lis_preprocess_cuda(const lis_preprocess_dev *d, int n, const uint8_t *imgs, float *out, void *ws,
                               lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
