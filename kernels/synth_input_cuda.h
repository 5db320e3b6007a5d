/* synth_input_cuda.h — StyleGAN3's SynthesisInput on the GPU (kernels/synth_input.cu).
 * Same computation as kernels/synth_input.h; the host lis_synth_input (prepared by
 * lis_synth_input_prepare) is uploaded once. Three steps per call:
 *   1. affine: t = affine(w), [B, 4], summed in lis_fc_ref's order (bit-identical);
 *   2. features: per (sample, channel) the transformed frequency, phase and amplitude,
 *      then feat[b, c, i, j] = sin((x_j fx + y_i fy + phase) * 2pi) * amp, every float
 *      operation in the original's order with explicitly rounded intrinsics (no FMA
 *      contraction: the sin argument is large when the translation is, spec 4(a)) and
 *      the accurate sinf;
 *   3. channel mixing: y[b] = wmix [C, C] x feat[b] [C, S*S], the igemm kernel (R = S = 1)
 *      in the requested precision.
 * Device pointers; C header, no CUDA types.
 */
#ifndef LIS_SYNTH_INPUT_CUDA_H
#define LIS_SYNTH_INPUT_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "kernels/fc_cuda.h"
#include "kernels/synth_input.h"

/* Device copy of a prepared lis_synth_input. */
typedef struct {
    int C, S, w_dim;
    float th, twopi, bw, half_minus_bw; /* float32 constants as the CPU path rounds them */
    lis_fc_dev affine;
    float *transform;  /* device [3, 3] */
    float *freqs;      /* device [C, 2] */
    float *phases;     /* device [C] */
    float *wmix;       /* device [C, C] = weight / sqrt(C) */
} lis_synth_input_dev;

lis_status lis_synth_input_cuda_upload(lis_synth_input_dev *d, const lis_synth_input *h);
void lis_synth_input_cuda_free(lis_synth_input_dev *d);
/* Floats of device workspace for a batch of B. */
size_t lis_synth_input_cuda_workspace(const lis_synth_input_dev *si, int B);
/* w [B, w_dim] (row stride ldw) -> y [B, C, S, S]; affine_out [B, 4] (device) may be NULL. */
lis_status lis_synth_input_cuda(const lis_synth_input_dev *si, const float *w, int64_t ldw, float *y,
                                float *affine_out, int B, float *ws, lis_precision prec, lis_stream s);

#ifdef __cplusplus
}
#endif

#endif
