/* stem_s2d.c — the space-to-depth stem's layouts on the host (see stem_s2d.h). */
#include "kernels/stem_s2d.h"

int lis_stem_s2d_applies(const lis_nhwc_conv_params *p, int c) {
    return p->R == 7 && p->S == 7 && p->stride == 2 && p->pad == 3 && p->H % 2 == 0 && p->W % 2 == 0 && c >= 1;
}

int lis_stem_s2d_channels(int c, lis_precision prec) { return lis_nhwc_pad_channels(4 * c, prec); }

lis_nhwc_conv_params lis_stem_s2d_params(const lis_nhwc_conv_params *p, int cp) {
    const lis_nhwc_conv_params q = {p->N, (p->H + 2) / 2, (p->W + 2) / 2, cp, p->K, 4, 4, 1, 1, p->relu};
    return q;
}

void lis_stem_s2d(const float *x, int N, int C, int H, int W, int Cp, lis_precision prec, void *xs) {
    const int Hs = (H + 2) / 2, Ws = (W + 2) / 2;
    for (int n = 0; n < N; n++)
        for (int Y = 0; Y < Hs; Y++)
            for (int X = 0; X < Ws; X++) {
                const size_t o = (((size_t)n * Hs + Y) * Ws + X) * Cp;
                for (int ch = 0; ch < Cp; ch++) {
                    const int ab = ch / C, c = ch - ab * C, iy = 2 * Y - 1 + ab / 2, ix = 2 * X - 1 + ab % 2;
                    const int inside = ab < 4 && iy >= 0 && iy < H && ix >= 0 && ix < W;
                    lis_nhwc_set(xs, o + ch, inside ? x[(((size_t)n * C + c) * H + iy) * W + ix] : 0.0f, prec);
                }
            }
}

void lis_stem_s2d_pack_weights(const float *w, int K, int C, int Cp, lis_precision prec, void *ws) {
    for (int k = 0; k < K; k++)
        for (int R = 0; R < 4; R++)
            for (int S = 0; S < 4; S++) {
                const size_t o = (((size_t)k * 4 + R) * 4 + S) * Cp;
                for (int ch = 0; ch < Cp; ch++) {
                    const int ab = ch / C, c = ch - ab * C, r = 2 * R + ab / 2, s = 2 * S + ab % 2;
                    const int inside = ab < 4 && r < 7 && s < 7;
                    lis_nhwc_set(ws, o + ch, inside ? w[(((size_t)k * C + c) * 7 + r) * 7 + s] : 0.0f, prec);
                }
            }
}
