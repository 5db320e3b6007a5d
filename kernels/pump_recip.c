/* pump_recip.c — reciprocal check with PUMP's float32 keys (see pump_recip.h). */
#include "kernels/pump_recip.h"

#include <stdlib.h>

typedef struct {
    double key; /* float32 key (exact in double) or the integer key */
    int row;
} keyed;

static double row_key(const lis_pump_recip_params *p, const float *r) {
    const double h2 = 4.0 * p->bh + 1, w2 = 4.0 * p->bw + 1;
    if (p->exact) return (double)r[0] * (p->n1w * h2 * w2) + (double)r[1] * (h2 * w2) + (double)r[2] * w2 + r[3];
    const float K0 = (float)(p->n1w * h2 * w2), K1 = (float)(h2 * w2), K2 = (float)w2, K3 = 1.0f;
    /* one rounding per product and per sum, in this order (no FMA under -std=c11) */
    const float a = r[0] * K0, b = r[1] * K1, c = r[2] * K2, d = r[3] * K3;
    float k = a + b;
    k = k + c;
    k = k + d;
    return k;
}

static int cmp_keyed(const void *x, const void *y) {
    const keyed *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->row - b->row;
}

static int cmp_double(const void *x, const void *y) {
    const double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : (a > b ? 1 : 0);
}

lis_status lis_pump_reciprocal(const lis_pump_recip_params *p, const float *pos1, const float *score1, int n1,
                               const float *pos2, int n2, float *out, int *n_out) {
    keyed *k1 = malloc(sizeof(keyed) * (size_t)(n1 > 0 ? n1 : 1));
    double *k2 = malloc(sizeof(double) * (size_t)(n2 > 0 ? n2 : 1));
    if (!k1 || !k2) {
        free(k1);
        free(k2);
        return lis_err_set("pump reciprocal: out of memory (%d + %d rows)", n1, n2);
    }
    for (int i = 0; i < n1; i++) k1[i] = (keyed){row_key(p, pos1 + 4 * (size_t)i), i};
    for (int i = 0; i < n2; i++) k2[i] = row_key(p, pos2 + 4 * (size_t)i);
    qsort(k1, (size_t)n1, sizeof *k1, cmp_keyed);
    qsort(k2, (size_t)n2, sizeof *k2, cmp_double);
    int m = 0;
    for (int i = 0; i < n1; i++) {
        /* torch.unique: equal keys of set1 are one value (the first row in key order here) */
        if (i > 0 && k1[i].key == k1[i - 1].key) continue;
        int lo = 0, hi = n2;
        while (lo < hi) {
            const int mid = (lo + hi) / 2;
            if (k2[mid] < k1[i].key) lo = mid + 1;
            else hi = mid;
        }
        if (lo == n2 || k2[lo] != k1[i].key) continue;
        const int r = k1[i].row;
        float *o = out + 6 * (size_t)m++;
        for (int t = 0; t < 4; t++) o[t] = pos1[4 * (size_t)r + t];
        o[4] = score1[r];
        o[5] = 0.0f;
    }
    *n_out = m;
    free(k1);
    free(k2);
    return LIS_OK;
}
