/* synth_input.h — StyleGAN3's SynthesisInput: Fourier features with a learned transform.
 *
 * Parameters: weight [C, C], affine (FC w_dim -> 4, linear, lr 1), buffers transform [3,3],
 * freqs [C, 2], phases [C]; constants size S, sampling_rate, bandwidth. For w [B, w_dim]:
 *   t = affine(w); t = t / |t[0:2]|
 *   T = [[t0,-t1,0],[t1,t0,0],[0,0,1]] @ [[1,0,-t2],[0,1,-t3],[0,0,1]] @ transform
 *   phases' = phases + freqs @ T[0:2,2];  freqs' = freqs @ T[0:2,0:2]
 *   amp = clamp(1 - (|freqs'| - bandwidth) / (sampling_rate/2 - bandwidth), 0, 1)
 *   grid x_j = ((linspace(-1,1,S)[j] * (S-1)) / S) * (0.5*S/sampling_rate), y likewise
 *   feat[c, i, j] = sin((x_j fx'_c + y_i fy'_c + phases'_c) * 2pi) * amp_c
 *   y[b, o] = sum_c feat[c] * (weight[o, c] / sqrt(C))
 * Every step in float32 in the original's order (the sin argument is large when the
 * translation is; see spec 4(a)). Variants: _ref (naive channel mixing) and _cpu (GEMM).
 */
#ifndef LIS_SYNTH_INPUT_H
#define LIS_SYNTH_INPUT_H

#include "kernels/fc.h"
#include "kernels/gemm.h"

typedef struct {
    int C, S, w_dim;
    double sampling_rate, bandwidth;
    lis_fc affine;
    const float *transform, *freqs, *phases; /* views into the weight file */
    float *wmix;                             /* [C, C] weight / sqrt(C) (owned) */
    lis_gemm_apack A;                        /* packed wmix */
} lis_synth_input;

lis_status lis_synth_input_prepare(lis_synth_input *si, int C, int S, double sampling_rate, double bandwidth, int w_dim,
                                   const float *weight, const float *affine_w, const float *affine_b,
                                   const float *transform, const float *freqs, const float *phases);
void lis_synth_input_free(lis_synth_input *si);
/* w [B, w_dim] -> y [B, C, S, S]; affine_out [B, 4] (raw affine output) may be NULL. */
void lis_synth_input_ref(const lis_synth_input *si, const float *w, float *y, float *affine_out, int B);
/* Scratch for _cpu: C*S*S features + C row pointers. */
size_t lis_synth_input_workspace(const lis_synth_input *si);
void lis_synth_input_cpu(const lis_synth_input *si, const float *w, float *y, float *affine_out, int B, void *ws);

#endif
