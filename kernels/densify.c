/* densify.c — Delaunay interpolation + 3-NN extrapolation of sparse matches (see densify.h).
 *
 * Triangles are stored with counter-clockwise vertices v[0..2] and neighbours nb[i] across
 * the edge opposite v[i] (edge i runs v[i+1] -> v[i+2]). Three "super" vertices far outside
 * the data (2^24 px away, in 1/16-px units) start the triangulation; triangles that touch
 * them cover the outside of the convex hull and are what point location reports for pixels
 * outside it.
 */
#include "kernels/densify.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 i128; /* exact predicates: coordinates < 2^29, in-circle terms < 2^120 */

#define SCALE 16.0      /* 1/16 px grid for the exact predicates */
#define SUPER (1 << 28) /* super-triangle extent in grid units */

typedef struct {
    int v[3], nb[3];
    int dead;
} tri_t;

typedef struct {
    int64_t *x, *y;   /* n + 3 points (the last 3: super vertices) */
    int n;
    tri_t *t;
    int nt, cap;
    int *stack, *cav, *free_list;
    int nfree;
    int *start_of, *end_of; /* per vertex: new triangle starting / ending there (insertion) */
} dt_t;

static i128 orient(const dt_t *d, int a, int b, int64_t px, int64_t py) {
    return (i128)(d->x[b] - d->x[a]) * (py - d->y[a]) - (i128)(d->y[b] - d->y[a]) * (px - d->x[a]);
}

/* > 0 when (px, py) is strictly inside the circumcircle of the ccw triangle t */
static int incircle(const dt_t *d, const tri_t *t, int64_t px, int64_t py) {
    const i128 adx = d->x[t->v[0]] - px, ady = d->y[t->v[0]] - py;
    const i128 bdx = d->x[t->v[1]] - px, bdy = d->y[t->v[1]] - py;
    const i128 cdx = d->x[t->v[2]] - px, cdy = d->y[t->v[2]] - py;
    const i128 al = adx * adx + ady * ady, bl = bdx * bdx + bdy * bdy, cl = cdx * cdx + cdy * cdy;
    const i128 det = al * (bdx * cdy - cdx * bdy) + bl * (cdx * ady - adx * cdy) + cl * (adx * bdy - bdx * ady);
    return det > 0;
}

static int new_tri(dt_t *d, int a, int b, int c) {
    int i;
    if (d->nfree) i = d->free_list[--d->nfree];
    else {
        if (d->nt == d->cap) return -1; /* sized in advance: 2n + 1 live triangles at most */
        i = d->nt++;
    }
    d->t[i] = (tri_t){{a, b, c}, {-1, -1, -1}, 0};
    return i;
}

/* visibility walk from triangle `from` to the triangle containing (px, py) */
static int locate(const dt_t *d, int from, int64_t px, int64_t py) {
    int t = from, step = 0;
    for (int guard = 0; guard < 4 * d->nt + 64; guard++) {
        const tri_t *tr = &d->t[t];
        int moved = 0;
        for (int k = 0; k < 3; k++) {
            const int i = (k + step) % 3; /* rotate the first edge tried: no cycling on ties */
            if (orient(d, tr->v[(i + 1) % 3], tr->v[(i + 2) % 3], px, py) < 0 && tr->nb[i] >= 0) {
                t = tr->nb[i];
                moved = 1;
                break;
            }
        }
        if (!moved) return t;
        step++;
    }
    return t;
}

static int is_super(const dt_t *d, int v) { return v >= d->n; }

/* Bowyer-Watson insertion of point p; returns a live triangle next to it, or -1 (duplicate
 * or out of memory, in which case *oom is set) */
static int insert(dt_t *d, int p, int hint, int *oom) {
    const int64_t px = d->x[p], py = d->y[p];
    const int t0 = locate(d, hint, px, py);
    for (int k = 0; k < 3; k++)
        if (d->x[d->t[t0].v[k]] == px && d->y[d->t[t0].v[k]] == py) return t0; /* duplicate: skip */
    /* cavity: triangles whose circumcircle strictly contains p, grown from t0 */
    int ns = 0, nc = 0;
    d->stack[ns++] = t0;
    d->t[t0].dead = 1;
    while (ns) {
        const int t = d->stack[--ns];
        d->cav[nc++] = t;
        for (int i = 0; i < 3; i++) {
            const int u = d->t[t].nb[i];
            if (u < 0 || d->t[u].dead) continue;
            if (incircle(d, &d->t[u], px, py)) {
                d->t[u].dead = 1;
                d->stack[ns++] = u;
            }
        }
    }
    /* one new triangle (a, b, p) per boundary edge a -> b of the cavity */
    int last = -1;
    for (int c = 0; c < nc; c++) {
        const tri_t tr = d->t[d->cav[c]];
        for (int i = 0; i < 3; i++) {
            const int u = tr.nb[i];
            if (u >= 0 && d->t[u].dead) continue;
            const int a = tr.v[(i + 1) % 3], b = tr.v[(i + 2) % 3];
            const int nt = new_tri(d, a, b, p);
            if (nt < 0) { *oom = 1; return -1; }
            d->t[nt].nb[2] = u; /* across a -> b */
            if (u >= 0)
                for (int k = 0; k < 3; k++)
                    if (d->t[u].nb[k] == d->cav[c]) d->t[u].nb[k] = nt;
            d->start_of[a] = nt;
            d->end_of[b] = nt;
            last = nt;
        }
    }
    /* link the fan: (a, b, p) meets (b, c, p) across b -> p and (z, a, p) across p -> a */
    for (int c = 0; c < nc; c++) {
        const tri_t tr = d->t[d->cav[c]];
        for (int i = 0; i < 3; i++) {
            const int u = tr.nb[i];
            if (u >= 0 && d->t[u].dead) continue;
            const int a = tr.v[(i + 1) % 3], b = tr.v[(i + 2) % 3];
            const int nt = d->start_of[a];
            d->t[nt].nb[0] = d->start_of[b]; /* edge b -> p, opposite a */
            d->t[nt].nb[1] = d->end_of[a];   /* edge p -> a, opposite b */
        }
    }
    /* the cavity's slots are free again (their `dead` mark stays until reused) */
    for (int c = 0; c < nc; c++) d->free_list[d->nfree++] = d->cav[c];
    return last;
}

/* barycentric interpolation of the values at the vertices of triangle t at (qx, qy) */
static void interp(const dt_t *d, const tri_t *t, const float *corres, int stride, int64_t qx, int64_t qy,
                   double *out) {
    const double area = (double)orient(d, t->v[0], t->v[1], d->x[t->v[2]], d->y[t->v[2]]);
    double l[3];
    l[0] = (double)orient(d, t->v[1], t->v[2], qx, qy) / area;
    l[1] = (double)orient(d, t->v[2], t->v[0], qx, qy) / area;
    l[2] = 1.0 - l[0] - l[1];
    out[0] = out[1] = 0.0;
    for (int k = 0; k < 3; k++) {
        const float *r = corres + (size_t)t->v[k] * stride;
        out[0] += l[k] * (double)r[2];
        out[1] += l[k] * (double)r[3];
    }
}

/* ---- 3 nearest neighbours through a bucket grid ---- */

typedef struct {
    int bw, bh;        /* buckets */
    double x0, y0, bs; /* origin and bucket size */
    int *start, *idx;  /* CSR: points of bucket b are idx[start[b] .. start[b+1]) */
} grid_t;

static void knn3(const grid_t *g, const float *corres, int stride, double qx, double qy, int nn[3]) {
    double bd[3] = {INFINITY, INFINITY, INFINITY};
    nn[0] = nn[1] = nn[2] = -1;
    const int cx = (int)floor((qx - g->x0) / g->bs), cy = (int)floor((qy - g->y0) / g->bs);
    for (int r = 0;; r++) {
        /* every point in ring r is at least (r - 1) buckets away */
        if (nn[2] >= 0 && (r - 1) * g->bs > 0 && ((r - 1) * g->bs) * ((r - 1) * g->bs) > bd[2]) break;
        if (r > g->bw + g->bh + 2 + (cx < 0 ? -cx : cx) + (cy < 0 ? -cy : cy)) break;
        for (int by = cy - r; by <= cy + r; by++)
            for (int bx = cx - r; bx <= cx + r; bx++) {
                if (by != cy - r && by != cy + r && bx != cx - r && bx != cx + r) continue; /* ring only */
                if (bx < 0 || by < 0 || bx >= g->bw || by >= g->bh) continue;
                const int b = by * g->bw + bx;
                for (int k = g->start[b]; k < g->start[b + 1]; k++) {
                    const int i = g->idx[k];
                    const double dx = corres[(size_t)i * stride] - qx, dy = corres[(size_t)i * stride + 1] - qy;
                    const double d2 = dx * dx + dy * dy;
                    /* insert keeping (distance, index) order */
                    int pos = 3;
                    while (pos > 0 && (d2 < bd[pos - 1] || (d2 == bd[pos - 1] && i < nn[pos - 1]))) pos--;
                    if (pos == 3) continue;
                    for (int s = 2; s > pos; s--) { bd[s] = bd[s - 1]; nn[s] = nn[s - 1]; }
                    bd[pos] = d2;
                    nn[pos] = i;
                }
            }
    }
}

lis_status lis_densify(const float *corres, int n, int stride, int H, int W, double *out) {
    if (n < 4) return lis_err_set("densify: %d correspondences (at least 4 needed)", n);
    dt_t d = {0};
    grid_t gr = {0};
    lis_status s = LIS_OK;
    d.n = n;
    /* live triangles <= 2n + 1; an insertion holds its cavity and the new fan at once */
    d.cap = 4 * (n + 3) + 64;
    d.x = malloc(sizeof(int64_t) * (size_t)(n + 3));
    d.y = malloc(sizeof(int64_t) * (size_t)(n + 3));
    d.t = malloc(sizeof(tri_t) * (size_t)d.cap);
    d.stack = malloc(sizeof(int) * (size_t)d.cap);
    d.cav = malloc(sizeof(int) * (size_t)d.cap);
    d.free_list = malloc(sizeof(int) * (size_t)d.cap);
    d.start_of = malloc(sizeof(int) * (size_t)(n + 3));
    d.end_of = malloc(sizeof(int) * (size_t)(n + 3));
    if (!d.x || !d.y || !d.t || !d.stack || !d.cav || !d.free_list || !d.start_of || !d.end_of) {
        s = lis_err_set("densify: out of memory (%d points)", n);
        goto done;
    }
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int i = 0; i < n; i++) {
        const double x = corres[(size_t)i * stride], y = corres[(size_t)i * stride + 1];
        if (!isfinite(x) || !isfinite(y) || fabs(x) > 1e6 || fabs(y) > 1e6) {
            s = lis_err_set("densify: source point %d (%g, %g) is not a finite pixel position", i, x, y);
            goto done;
        }
        d.x[i] = llround(x * SCALE);
        d.y[i] = llround(y * SCALE);
        minx = x < minx ? x : minx; maxx = x > maxx ? x : maxx;
        miny = y < miny ? y : miny; maxy = y > maxy ? y : maxy;
    }
    {
        const int64_t cx = llround((minx + maxx) * 0.5 * SCALE), cy = llround((miny + maxy) * 0.5 * SCALE);
        d.x[n] = cx - SUPER; d.y[n] = cy - SUPER;
        d.x[n + 1] = cx + SUPER; d.y[n + 1] = cy - SUPER;
        d.x[n + 2] = cx; d.y[n + 2] = cy + SUPER;
    }
    d.nt = 0;
    d.nfree = 0;
    int hint = new_tri(&d, n, n + 1, n + 2), oom = 0;
    for (int i = 0; i < n && !oom; i++) {
        const int t = insert(&d, i, hint, &oom);
        if (t >= 0) hint = t;
    }
    if (oom) {
        s = lis_err_set("densify: triangulation outgrew its buffer (%d points)", n);
        goto done;
    }
    /* bucket grid for the outside pixels */
    gr.bs = 16.0;
    gr.x0 = minx;
    gr.y0 = miny;
    gr.bw = (int)((maxx - minx) / gr.bs) + 1;
    gr.bh = (int)((maxy - miny) / gr.bs) + 1;
    gr.start = calloc((size_t)gr.bw * gr.bh + 1, sizeof(int));
    gr.idx = malloc(sizeof(int) * (size_t)n);
    if (!gr.start || !gr.idx) {
        s = lis_err_set("densify: out of memory (grid)");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const int b = (int)((corres[(size_t)i * stride + 1] - miny) / gr.bs) * gr.bw +
                      (int)((corres[(size_t)i * stride] - minx) / gr.bs);
        gr.start[b + 1]++;
    }
    for (int b = 0; b < gr.bw * gr.bh; b++) gr.start[b + 1] += gr.start[b];
    {
        int *cur = malloc(sizeof(int) * (size_t)gr.bw * gr.bh);
        if (!cur) {
            s = lis_err_set("densify: out of memory (grid)");
            goto done;
        }
        memcpy(cur, gr.start, sizeof(int) * (size_t)gr.bw * gr.bh);
        for (int i = 0; i < n; i++) { /* increasing i: each bucket lists its points in row order */
            const int b = (int)((corres[(size_t)i * stride + 1] - miny) / gr.bs) * gr.bw +
                          (int)((corres[(size_t)i * stride] - minx) / gr.bs);
            gr.idx[cur[b]++] = i;
        }
        free(cur);
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const int64_t qx = (int64_t)(x * (int64_t)SCALE), qy = (int64_t)(y * (int64_t)SCALE);
            int t = locate(&d, hint, qx, qy);
            hint = t;
            const tri_t *tr = &d.t[t];
            int nsup = is_super(&d, tr->v[0]) + is_super(&d, tr->v[1]) + is_super(&d, tr->v[2]);
            if (nsup == 1) {
                /* on the hull boundary (the real edge of this outside triangle)? then inside */
                int k = is_super(&d, tr->v[0]) ? 0 : (is_super(&d, tr->v[1]) ? 1 : 2);
                if (orient(&d, tr->v[(k + 1) % 3], tr->v[(k + 2) % 3], qx, qy) == 0 && tr->nb[k] >= 0) {
                    tr = &d.t[tr->nb[k]];
                    nsup = is_super(&d, tr->v[0]) + is_super(&d, tr->v[1]) + is_super(&d, tr->v[2]);
                }
            }
            double *o = out + 2 * ((size_t)y * W + x);
            if (nsup == 0) {
                interp(&d, tr, corres, stride, qx, qy, o);
            } else {
                int nn[3];
                knn3(&gr, corres, stride, x, y, nn);
                /* numpy: float32 displacements, their float32 mean, added to the int pixel in float64 */
                float dxs[3], dys[3];
                for (int k = 0; k < 3; k++) {
                    const float *r = corres + (size_t)nn[k] * stride;
                    dxs[k] = r[2] - r[0];
                    dys[k] = r[3] - r[1];
                }
                float mx = dxs[0] + dxs[1];
                mx = mx + dxs[2];
                mx = mx / 3.0f;
                float my = dys[0] + dys[1];
                my = my + dys[2];
                my = my / 3.0f;
                o[0] = (double)x + (double)mx;
                o[1] = (double)y + (double)my;
            }
        }
done:
    free(d.x); free(d.y); free(d.t); free(d.stack); free(d.cav); free(d.free_list); free(d.start_of); free(d.end_of);
    free(gr.start); free(gr.idx);
    return s;
}
