/* hclust.c — Ward linkage by the nearest-neighbour chain (see hclust.h). */
#include "kernels/hclust.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int a, b; double d; } merge_t;

static int cmp_merge(const void *x, const void *y) {
    const merge_t *a = x, *b = y;
    return a->d < b->d ? -1 : (a->d > b->d ? 1 : 0);
}

static int uf_find(int *parent, int x) {
    while (parent[x] != x) { parent[x] = parent[parent[x]]; x = parent[x]; }
    return x;
}

lis_status lis_ward_linkage(const double *X, int n, int d, double *Z) {
    if (n < 2) return lis_err_set("ward_linkage: %d points", n);
    double *D = malloc(sizeof(double) * (size_t)n * n);
    int *size = malloc(sizeof(int) * n), *chain = malloc(sizeof(int) * n), *alive = malloc(sizeof(int) * n);
    merge_t *mg = malloc(sizeof(merge_t) * n);
    int *parent = malloc(sizeof(int) * 2 * n), *label = malloc(sizeof(int) * 2 * n);
    if (!D || !size || !chain || !alive || !mg || !parent || !label) {
        free(D); free(size); free(chain); free(alive); free(mg); free(parent); free(label);
        return lis_err_set("ward_linkage: out of memory for %d points", n);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) { double t = X[(size_t)i * d + k] - X[(size_t)j * d + k]; s += t * t; }
            D[(size_t)i * n + j] = sqrt(s);
        }
    for (int i = 0; i < n; i++) { size[i] = 1; alive[i] = 1; }
    int len = 0, nm = 0;
    while (nm < n - 1) {
        if (len == 0) {
            for (int i = 0; i < n; i++) if (alive[i]) { chain[len++] = i; break; }
        }
        int x = chain[len - 1], y = -1;
        double best = INFINITY;
        if (len > 1) { y = chain[len - 2]; best = D[(size_t)x * n + y]; } /* prefer the previous element on ties */
        for (int i = 0; i < n; i++) {
            if (!alive[i] || i == x) continue;
            double v = D[(size_t)x * n + i];
            if (v < best) { best = v; y = i; }
        }
        if (len > 1 && y == chain[len - 2]) {
            len -= 2;
            /* merge x and y into y's slot (x dies); Lance-Williams for Ward */
            int a = x < y ? x : y, b = x < y ? y : x;
            mg[nm].a = a; mg[nm].b = b; mg[nm].d = best;
            nm++;
            int nx = size[x], ny = size[y];
            for (int k = 0; k < n; k++) {
                if (!alive[k] || k == x || k == y) continue;
                int nk = size[k];
                double dxk = D[(size_t)x * n + k], dyk = D[(size_t)y * n + k];
                double v = sqrt(((nx + nk) * dxk * dxk + (ny + nk) * dyk * dyk - nk * best * best) / (nx + ny + nk));
                D[(size_t)b * n + k] = D[(size_t)k * n + b] = v;
            }
            alive[a] = 0;
            size[b] = nx + ny;
        } else {
            chain[len++] = y;
        }
    }
    /* sort by distance (stable for ties: scipy keeps the chain order), then relabel */
    for (int i = 0; i < nm; i++) mg[i].d = mg[i].d; /* (distances already final) */
    /* insertion sort keeps equal distances in merge order */
    for (int i = 1; i < nm; i++) {
        merge_t t = mg[i];
        int j = i - 1;
        while (j >= 0 && cmp_merge(&mg[j], &t) > 0) { mg[j + 1] = mg[j]; j--; }
        mg[j + 1] = t;
    }
    for (int i = 0; i < 2 * n; i++) { parent[i] = i; label[i] = i; }
    int *csize = size;
    for (int i = 0; i < n; i++) csize[i] = 1;
    int *sz2 = malloc(sizeof(int) * 2 * n);
    for (int i = 0; i < 2 * n; i++) sz2[i] = 1;
    for (int i = 0; i < nm; i++) {
        int ra = uf_find(parent, mg[i].a), rb = uf_find(parent, mg[i].b);
        int la = label[ra], lb = label[rb];
        int lo = la < lb ? la : lb, hi = la < lb ? lb : la;
        Z[4 * i] = lo;
        Z[4 * i + 1] = hi;
        Z[4 * i + 2] = mg[i].d;
        Z[4 * i + 3] = sz2[ra] + sz2[rb];
        parent[ra] = rb;
        sz2[rb] = sz2[ra] + sz2[rb];
        label[rb] = n + i;
    }
    free(sz2);
    free(D); free(size); free(chain); free(alive); free(mg); free(parent); free(label);
    return LIS_OK;
}

void lis_linkage_leaves(const double *Z, int n, int *leaves) {
    int *stack = malloc(sizeof(int) * 2 * n), sp = 0, k = 0;
    if (!stack) { for (int i = 0; i < n; i++) leaves[i] = i; return; }
    stack[sp++] = 2 * n - 2;
    while (sp) {
        int c = stack[--sp];
        if (c < n) { leaves[k++] = c; continue; }
        const double *r = Z + 4 * (c - n);
        stack[sp++] = (int)r[1]; /* right pushed first: left comes out first */
        stack[sp++] = (int)r[0];
    }
    free(stack);
}

void lis_linkage_cut(const double *Z, int n, int k, int *cluster) {
    if (k < 1) k = 1;
    if (k > n) k = n;
    /* the clusters alive after the first n - k merges are the roots; number them by the
     * order of their leftmost leaf in the dendrogram */
    int *parent = malloc(sizeof(int) * 2 * n), *leaves = malloc(sizeof(int) * n), *id = malloc(sizeof(int) * 2 * n);
    for (int i = 0; i < 2 * n; i++) { parent[i] = i; id[i] = 0; }
    for (int i = 0; i < n - k; i++) {
        parent[(int)Z[4 * i]] = n + i;
        parent[(int)Z[4 * i + 1]] = n + i;
    }
    lis_linkage_leaves(Z, n, leaves);
    int next = 0;
    for (int i = 0; i < n; i++) {
        int r = leaves[i];
        while (parent[r] != r) r = parent[r];
        if (!id[r]) id[r] = ++next;
        cluster[leaves[i]] = id[r];
    }
    free(parent); free(leaves); free(id);
}
