/* np_random.c — MT19937 (Matsumoto & Nishimura) and NumPy's legacy gaussian. */
#include "runtime/np_random.h"

#include <math.h>

void lis_np_seed(lis_np_rng *r, uint32_t seed) {
    r->mt[0] = seed;
    for (int i = 1; i < 624; i++) r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->mti = 624;
    r->has_gauss = 0;
    r->gauss = 0;
}

uint32_t lis_np_next32(lis_np_rng *r) {
    if (r->mti >= 624) {
        for (int k = 0; k < 624; k++) {
            uint32_t y = (r->mt[k] & 0x80000000u) | (r->mt[(k + 1) % 624] & 0x7fffffffu);
            r->mt[k] = r->mt[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        r->mti = 0;
    }
    uint32_t y = r->mt[r->mti++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

double lis_np_double(lis_np_rng *r) {
    uint32_t a = lis_np_next32(r) >> 5, b = lis_np_next32(r) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

double lis_np_randn(lis_np_rng *r) {
    if (r->has_gauss) {
        r->has_gauss = 0;
        return r->gauss;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * lis_np_double(r) - 1.0;
        x2 = 2.0 * lis_np_double(r) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    double f = sqrt(-2.0 * log(r2) / r2);
    r->gauss = f * x1;
    r->has_gauss = 1;
    return f * x2;
}

void lis_np_randn_seed(uint32_t seed, double *out, int64_t n) {
    lis_np_rng r;
    lis_np_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) out[i] = lis_np_randn(&r);
}
