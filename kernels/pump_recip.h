/* pump_recip.h — PUMP's reciprocal check (spec/pump.md s.6b; naver/pump core/functional.py
 * reciprocal + intersection): keep the img1-side best matches (one per img1 cell) that are
 * also img2-side best matches (one per 4x4 img2 block).
 *
 * The original compares the rows (x1, y1, x2, y2) through float32 keys
 *   k = fl(fl(fl(fl(x1*K0) + fl(y1*K1)) + fl(x2*K2)) + fl(y2*K3)),
 *   K = (W1*H2'*W2', H2'*W2', W2', 1) as float32, H2' = 4*(h0/4) + 1, W2' = 4*(w0/4) + 1,
 * (PyTorch's CPU matrix-vector product sums in that order). Keys reach ~1e9 > 2^24, so they
 * are rounded and a row also "matches" an img2-side row with the same (x1, y1) and a nearby
 * (x2, y2): this is what the reference does, so it is the default. `exact` = 1 compares the
 * integer keys instead (1-2 % fewer rows on the reference pairs).
 * Output rows (x1, y1, x2, y2, score1, 0), sorted by increasing key (x1, then y1), as the
 * original's torch.unique ordering.
 */
#ifndef LIS_PUMP_RECIP_H
#define LIS_PUMP_RECIP_H

#include "runtime/status.h"

typedef struct {
    int n1w;      /* img1 cell columns (W1 of the key) */
    int bh, bw;   /* img2 blocks: h0/4, w0/4 */
    int exact;    /* 1: integer keys */
} lis_pump_recip_params;

/* pos1: n1 x 4, score1: n1; pos2: n2 x 4. out: up to n1 x 6. Returns the row count in *n_out.
 * Allocates its scratch (n1 + n2 keys); errors only on out-of-memory. */
lis_status lis_pump_reciprocal(const lis_pump_recip_params *p, const float *pos1, const float *score1, int n1,
                               const float *pos2, int n2, float *out, int *n_out);

#endif
