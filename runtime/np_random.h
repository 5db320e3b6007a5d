/* np_random.h — NumPy's legacy RandomState, bit-exact: MT19937 seeded with
 * init_genrand(seed), random doubles from two 32-bit outputs, and the legacy polar
 * Box-Muller gaussian with its one-value cache. So `--seeds S` gives exactly the z of
 * the original's np.random.RandomState(S).randn(n, z_dim).
 */
#ifndef LIS_NP_RANDOM_H
#define LIS_NP_RANDOM_H

#include <stdint.h>

typedef struct {
    uint32_t mt[624];
    int mti;
    int has_gauss;
    double gauss;
} lis_np_rng;

void lis_np_seed(lis_np_rng *r, uint32_t seed);
uint32_t lis_np_next32(lis_np_rng *r);
double lis_np_double(lis_np_rng *r);  /* [0, 1), 53-bit */
double lis_np_randn(lis_np_rng *r);   /* legacy_gauss */
/* np.random.RandomState(seed).randn(n) into out[n] (float64). */
void lis_np_randn_seed(uint32_t seed, double *out, int64_t n);

#endif
