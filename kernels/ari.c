/* ari.c — adjusted Rand index; see ari.h. Contingency counts come from sorting the label
 * pairs (O(n log n), any label values), not from a dense table. */
#include "kernels/ari.h"

#include <stdlib.h>

typedef struct { int64_t a, b; } pair;

static int cmp_pair(const void *x, const void *y) {
    const pair *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return 0;
}

static int cmp_i64(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* sum over distinct values of count^2, for a sorted array */
static int64_t sum_sq_runs(const int64_t *v, int64_t n) {
    int64_t s = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && v[j] == v[i]) j++;
        s += (j - i) * (j - i);
        i = j;
    }
    return s;
}

lis_status lis_ari(int64_t n, const int64_t *a, const int64_t *b, double *ari) {
    if (n <= 0) { *ari = 1.0; return LIS_OK; }
    if (n > 2000000000LL) return lis_err_usage("adjusted Rand index: %lld points (at most 2e9)", (long long)n);
    pair *pr = lis_malloc(sizeof(pair) * (size_t)n, "ARI pairs");
    int64_t *va = lis_malloc(sizeof(int64_t) * (size_t)n, "ARI labels"), *vb = lis_malloc(sizeof(int64_t) * (size_t)n, "ARI labels");
    if (!pr || !va || !vb) { free(pr); free(va); free(vb); return LIS_ERR; }
    for (int64_t i = 0; i < n; i++) { pr[i].a = a[i]; pr[i].b = b[i]; va[i] = a[i]; vb[i] = b[i]; }
    qsort(pr, (size_t)n, sizeof *pr, cmp_pair);
    qsort(va, (size_t)n, sizeof *va, cmp_i64);
    qsort(vb, (size_t)n, sizeof *vb, cmp_i64);
    int64_t S = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && pr[j].a == pr[i].a && pr[j].b == pr[i].b) j++;
        S += (j - i) * (j - i);
        i = j;
    }
    int64_t A = sum_sq_runs(va, n), B = sum_sq_runs(vb, n);
    free(pr); free(va); free(vb);
    /* ordered pairs of distinct points, exact in int64 for n <= 2e9 */
    int64_t tp = S - n, fp = B - S, fn = A - S, tn = n * n - fp - fn - S;
    if (fn == 0 && fp == 0) { *ari = 1.0; return LIS_OK; }
    double num = 2.0 * ((double)tp * (double)tn - (double)fn * (double)fp);
    double den = (double)(tp + fn) * (double)(fn + tn) + (double)(tp + fp) * (double)(fp + tn);
    *ari = num / den;
    return LIS_OK;
}

lis_status lis_ari_i32(int64_t n, const int32_t *a, const int32_t *b, double *ari) {
    int64_t *x = lis_malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1), "ARI labels");
    int64_t *y = lis_malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1), "ARI labels");
    lis_status s = x && y ? LIS_OK : LIS_ERR;
    if (s == LIS_OK) {
        for (int64_t i = 0; i < n; i++) { x[i] = a[i]; y[i] = b[i]; }
        s = lis_ari(n, x, y, ari);
    }
    free(x);
    free(y);
    return s;
}
