/* to_u8.c — see to_u8.h. A single pass over the image; cheap next to the generator,
 * so there is no separate fast variant on the CPU. */
#include "kernels/to_u8.h"

#include <stddef.h>

void lis_to_u8_ref(const float *img, int N, int C, int H, int W, uint8_t *u8) {
    size_t P = (size_t)H * W;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const float *x = img + ((size_t)n * C + c) * P;
            uint8_t *o = u8 + (size_t)n * P * C + c;
            for (size_t p = 0; p < P; p++) {
                float v = (x[p] + 1.0f) * 127.5f;
                v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
                o[p * C] = (uint8_t)v;
            }
        }
}
