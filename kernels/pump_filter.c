/* pump_filter.c — graph post-filter of PUMP correspondences (see pump_filter.h). */
#include "kernels/pump_filter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int uf_find(int *par, int a) {
    while (par[a] != a) {
        par[a] = par[par[a]];
        a = par[a];
    }
    return a;
}

/* numpy's float32 normalisation of a displacement (dx, dy): norm = sqrt(dx*dx + dy*dy),
 * clipped below at 1e-16, then a division per component */
static void normed(float dx, float dy, float *ux, float *uy) {
    const float sx = dx * dx, sy = dy * dy;
    float n = sqrtf(sx + sy);
    if (n < 1e-16f) n = 1e-16f;
    *ux = dx / n;
    *uy = dy / n;
}

/* the original's edge test for the pair (i, j), i < j */
static int linked(const float *a, const float *b, float max_dis, float cos_min) {
    const float dx1 = b[0] - a[0], dy1 = b[1] - a[1], dx2 = b[2] - a[2], dy2 = b[3] - a[3];
    const float s1 = dx1 * dx1, t1 = dy1 * dy1, s2 = dx2 * dx2, t2 = dy2 * dy2;
    const float d1 = sqrtf(s1 + t1), d2 = sqrtf(s2 + t2);
    if (!(d1 <= max_dis) || !(d2 <= max_dis)) return 0;
    float u1x, u1y, u2x, u2y;
    normed(dx1, dy1, &u1x, &u1y);
    normed(dx2, dy2, &u2x, &u2y);
    const float p0 = u1x * u2x, p1 = u1y * u2y;
    const float ang = p0 + p1;
    return ang >= cos_min;
}

typedef struct {
    int bx, by, row;
} binned;

static int cmp_bin(const void *x, const void *y) {
    const binned *a = x, *b = y;
    if (a->by != b->by) return a->by - b->by;
    if (a->bx != b->bx) return a->bx - b->bx;
    return a->row - b->row;
}

lis_status lis_pump_post_filter(const lis_pump_filter_params *p, float *corres, int n, int *n_out) {
    if (n <= 0) { *n_out = 0; return LIS_OK; }
    const float max_dis = p->locality * 4.0f;
    /* numpy compares the float32 angle with cos(90 deg) = 6.1e-17 as a float32 value */
    const float cos_min = (float)cos(90.0 * M_PI / 180.0);
    int *par = malloc(sizeof(int) * (size_t)n), *size = calloc((size_t)n, sizeof(int));
    binned *bins = malloc(sizeof(binned) * (size_t)n);
    if (!par || !size || !bins) goto oom;
    for (int i = 0; i < n; i++) {
        par[i] = i;
        const float x = corres[6 * (size_t)i] > 0 ? corres[6 * (size_t)i] : 0.0f;
        const float y = corres[6 * (size_t)i + 1] > 0 ? corres[6 * (size_t)i + 1] : 0.0f;
        bins[i] = (binned){(int)floorf(x / max_dis), (int)floorf(y / max_dis), i};
    }
    qsort(bins, (size_t)n, sizeof *bins, cmp_bin);
    /* every pair within max_dis in img1 lies in neighbouring bins: scan each row's 3x3 bins */
    for (int a = 0; a < n; a++) {
        const binned *ba = &bins[a];
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                const binned key = {ba->bx + dx, ba->by + dy, -1};
                int lo = 0, hi = n;
                while (lo < hi) {
                    const int mid = (lo + hi) / 2;
                    if (cmp_bin(&bins[mid], &key) < 0) lo = mid + 1;
                    else hi = mid;
                }
                for (int b = lo; b < n && bins[b].bx == key.bx && bins[b].by == key.by; b++) {
                    const int i = ba->row, j = bins[b].row;
                    if (j <= i) continue;
                    if (!linked(corres + 6 * (size_t)i, corres + 6 * (size_t)j, max_dis, cos_min)) continue;
                    const int ri = uf_find(par, i), rj = uf_find(par, j);
                    if (ri != rj) par[ri < rj ? rj : ri] = ri < rj ? ri : rj;
                }
            }
    }
    for (int i = 0; i < n; i++) size[uf_find(par, i)]++;
    int m = 0;
    for (int i = 0; i < n; i++) {
        const int cc = size[uf_find(par, i)];
        float *r = corres + 6 * (size_t)i;
        /* numpy: float32 column += float64 log2 -> computed in float64, stored as float32 */
        r[4] = (float)((double)r[4] + log2((double)cc));
        if (cc > p->min_cc_size) {
            if (m != i) memmove(corres + 6 * (size_t)m, r, 6 * sizeof(float));
            m++;
        }
    }
    *n_out = m;
    free(par); free(size); free(bins);
    return LIS_OK;
oom:
    free(par); free(size); free(bins);
    return lis_err_set("pump post-filter: out of memory (%d rows)", n);
}
