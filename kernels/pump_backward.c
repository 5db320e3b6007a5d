/* pump_backward.c — backward pass and best-match reductions of the PUMP pyramid (see
 * pump_backward.h). */
#include "kernels/pump_backward.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

static inline int dir_dx(int d) { return (d & 1) ? 1 : -1; }
static inline int dir_dy(int d) { return (d & 2) ? 1 : -1; }

/* For child row ci of level l-1 and direction d: the parent row *h of level l (-1: none)
 * and the child columns [*ja, *jb) that have a parent in that direction, at parent column
 * j + *off. The inverse of pump_corr.c's child_run. */
static void parent_run(const lis_pump_geom *g, int l, int d, int ci, int *h, int *ja, int *jb, int *off) {
    const int dx = dir_dx(d), dy = dir_dy(d);
    if (l == 1) {
        *h = ci + (1 - dy) / 2;
        *off = (1 - dx) / 2;
        *ja = 0;
        *jb = g->n1w;
    } else {
        const int gap = 1 << (l - 2);
        const int hh = ci - dy * gap;
        *h = (hh >= 0 && hh <= g->n1h) ? hh : -1;
        *off = -dx * gap;
        *ja = dx * gap > 0 ? dx * gap : 0;
        *jb = dx * gap < 0 ? g->n1w + 1 + dx * gap : g->n1w + 1;
        if (*jb < *ja) *jb = *ja;
    }
}

/* ---- reference ---- */

void lis_pump_bwd_level_ref(const lis_pump_geom *g, int l, const float *P_up, float *P_lo) {
    const int hl = g->h[l], wl = g->w[l], hlo = g->h[l - 1], wlo = g->w[l - 1];
    const int cs = g->cs[l], cslo = g->cs[l - 1], gw = g->gw[l], gwlo = g->gw[l - 1];
    float *add = calloc(lis_pump_level_floats(g, l - 1), sizeof(float));
    LIS_ASSERT(add != NULL);
    for (int ci = 0; ci < g->gh[l - 1]; ci++)
        for (int cj = 0; cj < gwlo; cj++) {
            const int c = ci * gwlo + cj;
            int parent[4];
            for (int d = 0; d < 4; d++) {
                int ph, pw;
                if (l == 1) { ph = ci + (1 - dir_dy(d)) / 2; pw = cj + (1 - dir_dx(d)) / 2; }
                else { ph = ci - dir_dy(d) * (1 << (l - 2)); pw = cj - dir_dx(d) * (1 << (l - 2)); }
                parent[d] = (ph >= 0 && ph < g->gh[l] && pw >= 0 && pw < gw) ? ph * gw + pw : -1;
            }
            for (int vy = 0; vy < hl; vy++)
                for (int vx = 0; vx < wl; vx++) {
                    float R = 0.0f;
                    for (int d = 0; d < 4; d++) {
                        const int uy = vy - dir_dy(d), ux = vx - dir_dx(d);
                        if (parent[d] < 0 || uy < 0 || uy >= hl || ux < 0 || ux >= wl) continue;
                        const float v = P_up[((size_t)uy * wl + ux) * cs + parent[d]];
                        if (v > R) R = v;
                    }
                    int by = -1, bx = -1;
                    float best = -INFINITY;
                    for (int yy = 2 * vy - 1; yy <= 2 * vy + 1; yy++)
                        for (int xx = 2 * vx - 1; xx <= 2 * vx + 1; xx++) {
                            if (yy < 0 || yy > hlo - 2 || xx < 0 || xx > wlo - 2) continue;
                            const float v = P_lo[((size_t)yy * wlo + xx) * cslo + c];
                            if (v > best) { best = v; by = yy; bx = xx; }
                        }
                    if (by < 0) continue;
                    float *a = &add[((size_t)by * wlo + bx) * cslo + c];
                    if (R > *a) *a = R;
                }
        }
    for (size_t i = 0; i < lis_pump_level_floats(g, l - 1); i++) P_lo[i] += add[i];
    free(add);
}

void lis_pump_best_ref(const lis_pump_geom *g, const float *P0, float *pos1, float *score1, float *pos2,
                       float *score2) {
    const int h0 = g->h[0], w0 = g->w[0], cs = g->cs[0], n1w = g->n1w;
    for (int c = 0; c < g->ncell[0]; c++) {
        float best = -INFINITY;
        int arg = 0;
        for (int p = 0; p < h0 * w0; p++)
            if (P0[(size_t)p * cs + c] > best) { best = P0[(size_t)p * cs + c]; arg = p; }
        score1[c] = best;
        pos1[4 * c + 0] = (float)(4 * (c % n1w) + 2);
        pos1[4 * c + 1] = (float)(4 * (c / n1w) + 2);
        pos1[4 * c + 2] = (float)(arg % w0);
        pos1[4 * c + 3] = (float)(arg / w0);
    }
    const int bh = h0 / 4, bw = w0 / 4;
    for (int by = 0; by < bh; by++)
        for (int bx = 0; bx < bw; bx++) {
            float best = -INFINITY;
            int bc = 0, byy = 0, bxx = 0;
            for (int c = 0; c < g->ncell[0]; c++) /* scan order: cell, then y2, then x2 */
                for (int y = 4 * by; y < 4 * by + 4; y++)
                    for (int x = 4 * bx; x < 4 * bx + 4; x++) {
                        const float v = P0[((size_t)y * w0 + x) * cs + c];
                        if (v > best) { best = v; bc = c; byy = y; bxx = x; }
                    }
            const int b = by * bw + bx;
            score2[b] = best;
            pos2[4 * b + 0] = (float)(4 * (bc % n1w) + 2);
            pos2[4 * b + 1] = (float)(4 * (bc / n1w) + 2);
            pos2[4 * b + 2] = (float)bxx;
            pos2[4 * b + 3] = (float)byy;
        }
}

/* ---- row primitives ---- */

void lis_pump_bw_window_row(const lis_pump_geom *g, int l, int vy, const float *const lo[3], const float *P_up,
                            int r0, int r1, int32_t *K_row, float *R_row) {
    const int hl = g->h[l], wl = g->w[l], wlo = g->w[l - 1];
    const int cs = g->cs[l], cslo = g->cs[l - 1], gw = g->gw[l], gwlo = g->gw[l - 1];
    const int c0 = r0 * gwlo, c1 = r1 * gwlo;
    /* R: the parents' refined scores at v - d */
    for (int vx = 0; vx < wl; vx++) memset(R_row + (size_t)vx * cslo + c0, 0, sizeof(float) * (size_t)(c1 - c0));
    for (int d = 0; d < 4; d++) {
        const int uy = vy - dir_dy(d);
        if (uy < 0 || uy >= hl) continue;
        for (int vx = 0; vx < wl; vx++) {
            const int ux = vx - dir_dx(d);
            if (ux < 0 || ux >= wl) continue;
            const float *src = P_up + ((size_t)uy * wl + ux) * cs;
            float *dst = R_row + (size_t)vx * cslo;
            for (int ci = r0; ci < r1; ci++) {
                int h, ja, jb, off;
                parent_run(g, l, d, ci, &h, &ja, &jb, &off);
                if (h < 0) continue;
                const float *s = src + h * gw + off;
                float *dd = dst + ci * gwlo;
                int j = ja;
                for (; j + 8 <= jb; j += 8)
                    _mm256_storeu_ps(dd + j, _mm256_max_ps(_mm256_loadu_ps(dd + j), _mm256_loadu_ps(s + j)));
                for (; j < jb; j++) dd[j] = s[j] > dd[j] ? s[j] : dd[j];
            }
        }
    }
    /* K: first arg-max of each restricted 3x3 window, as the code ry*3 + rx */
    for (int vx = 0; vx < wl; vx++) {
        const float *cand[9];
        int code[9], nc = 0;
        for (int k = 0; k < 3; k++) {
            if (!lo[k]) continue;
            for (int t = 0; t < 3; t++) {
                const int xx = 2 * vx - 1 + t;
                if (xx < 0 || xx > wlo - 2) continue;
                cand[nc] = lo[k] + (size_t)xx * cslo;
                code[nc++] = 3 * k + t;
            }
        }
        int32_t *K = K_row + (size_t)vx * cslo;
        if (nc == 0) { /* cannot happen for h, w >= 2; keep the codes defined */
            for (int c = c0; c < c1; c++) K[c] = -1;
            continue;
        }
        int c = c0;
        for (; c + 8 <= c1; c += 8) {
            __m256 best = _mm256_set1_ps(-1.0f); /* scores are >= 0: the first candidate wins */
            __m256 kk = _mm256_setzero_ps();
            for (int s = 0; s < nc; s++) {
                const __m256 v = _mm256_loadu_ps(cand[s] + c);
                const __m256 gt = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
                best = _mm256_blendv_ps(best, v, gt);
                kk = _mm256_blendv_ps(kk, _mm256_castsi256_ps(_mm256_set1_epi32(code[s])), gt);
            }
            _mm256_storeu_si256((__m256i *)(K + c), _mm256_castps_si256(kk));
        }
        for (; c < c1; c++) {
            float best = -1.0f;
            int32_t kk = 0;
            for (int s = 0; s < nc; s++)
                if (cand[s][c] > best) { best = cand[s][c]; kk = code[s]; }
            K[c] = kk;
        }
    }
}

void lis_pump_bw_finalize_row(const lis_pump_geom *g, int l, int r, float *lo_row, const int wy[2],
                              const int32_t *const K[2], const float *const R[2], int r0, int r1) {
    const int wl = g->w[l], wlo = g->w[l - 1], cslo = g->cs[l - 1], gwlo = g->gw[l - 1];
    const int c0 = r0 * gwlo, c1 = r1 * gwlo;
    for (int x = 0; x < wlo; x++) {
        const int32_t *kp[4];
        const float *rp[4];
        int code[4], n = 0;
        for (int i = 0; i < 2; i++) {
            if (wy[i] < 0) continue;
            const int ry = r - (2 * wy[i] - 1);
            for (int t = 0; t < 2; t++) {
                /* windows vx whose columns 2vx-1 .. 2vx+1 contain x */
                const int vx = (x % 2 == 0) ? (t == 0 ? x / 2 : -1) : (t == 0 ? (x - 1) / 2 : (x + 1) / 2);
                if (vx < 0 || vx >= wl) continue;
                kp[n] = K[i] + (size_t)vx * cslo;
                rp[n] = R[i] + (size_t)vx * cslo;
                code[n++] = 3 * ry + (x - (2 * vx - 1));
            }
        }
        if (n == 0) continue;
        float *o = lo_row + (size_t)x * cslo;
        int c = c0;
        for (; c + 8 <= c1; c += 8) {
            __m256 add = _mm256_setzero_ps();
            for (int s = 0; s < n; s++) {
                const __m256 m = _mm256_castsi256_ps(
                    _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)(kp[s] + c)), _mm256_set1_epi32(code[s])));
                add = _mm256_max_ps(add, _mm256_and_ps(m, _mm256_loadu_ps(rp[s] + c)));
            }
            _mm256_storeu_ps(o + c, _mm256_add_ps(_mm256_loadu_ps(o + c), add));
        }
        for (; c < c1; c++) {
            float add = 0.0f;
            for (int s = 0; s < n; s++)
                if (kp[s][c] == code[s] && rp[s][c] > add) add = rp[s][c];
            o[c] += add;
        }
    }
}

int lis_pump_best2_better(const lis_pump_best2 *a, const lis_pump_best2 *b) {
    if (a->v != b->v) return a->v > b->v;
    if (a->cell != b->cell) return a->cell < b->cell;
    if (a->y != b->y) return a->y < b->y;
    return a->x < b->x;
}

void lis_pump_best_row(const lis_pump_geom *g, int y, const float *row, int r0, int r1, float *score1, int32_t *arg1,
                       lis_pump_best2 *blk) {
    const int w0 = g->w[0], cs = g->cs[0], gw = g->gw[0];
    const int c0 = r0 * gw, c1 = r1 * gw;
    /* per cell: strict > over x in increasing order keeps the first maximum */
    for (int x = 0; x < w0; x++) {
        const float *src = row + (size_t)x * cs;
        const int pos = y * w0 + x;
        int c = c0;
        for (; c + 8 <= c1; c += 8) {
            const __m256 v = _mm256_loadu_ps(src + c), s = _mm256_loadu_ps(score1 + c);
            const __m256 gt = _mm256_cmp_ps(v, s, _CMP_GT_OQ);
            _mm256_storeu_ps(score1 + c, _mm256_blendv_ps(s, v, gt));
            const __m256 a = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(arg1 + c)));
            _mm256_storeu_si256((__m256i *)(arg1 + c),
                                _mm256_castps_si256(_mm256_blendv_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(pos)), gt)));
        }
        for (; c < c1; c++)
            if (src[c] > score1[c]) { score1[c] = src[c]; arg1[c] = pos; }
    }
    if (y >= 4 * (g->h[0] / 4)) return;
    /* per block: lanes see their cells in increasing order and, per cell, x in increasing
     * order, so strict > keeps each lane's first; lanes then merge by (value, cell) */
    for (int bx = 0; bx < w0 / 4; bx++) {
        __m256 bv = _mm256_set1_ps(-1.0f);
        __m256i bc = _mm256_set1_epi32(0), bxx = _mm256_set1_epi32(0);
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        int c = c0;
        for (; c + 8 <= c1; c += 8) {
            const __m256i cc = _mm256_add_epi32(lane, _mm256_set1_epi32(c));
            for (int x = 4 * bx; x < 4 * bx + 4; x++) {
                const __m256 v = _mm256_loadu_ps(row + (size_t)x * cs + c);
                const __m256 gt = _mm256_cmp_ps(v, bv, _CMP_GT_OQ);
                bv = _mm256_blendv_ps(bv, v, gt);
                bc = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bc), _mm256_castsi256_ps(cc), gt));
                bxx = _mm256_castps_si256(
                    _mm256_blendv_ps(_mm256_castsi256_ps(bxx), _mm256_castsi256_ps(_mm256_set1_epi32(x)), gt));
            }
        }
        float v8[8];
        int32_t c8[8], x8[8];
        _mm256_storeu_ps(v8, bv);
        _mm256_storeu_si256((__m256i *)c8, bc);
        _mm256_storeu_si256((__m256i *)x8, bxx);
        lis_pump_best2 cand = {-1.0f, 0, y, 0};
        for (int t = 0; t < 8; t++) {
            lis_pump_best2 e = {v8[t], c8[t], y, x8[t]};
            if (c0 + t < c1 && lis_pump_best2_better(&e, &cand)) cand = e;
        }
        for (; c < c1; c++)
            for (int x = 4 * bx; x < 4 * bx + 4; x++) {
                lis_pump_best2 e = {row[(size_t)x * cs + c], c, y, x};
                if (lis_pump_best2_better(&e, &cand)) cand = e;
            }
        if (lis_pump_best2_better(&cand, &blk[bx])) blk[bx] = cand;
    }
}

void lis_pump_best_finish(const lis_pump_geom *g, const float *s1, const int32_t *arg1, const lis_pump_best2 *blocks,
                          float *pos1, float *score1, float *pos2, float *score2) {
    const int w0 = g->w[0], n1w = g->n1w;
    for (int c = 0; c < g->ncell[0]; c++) {
        score1[c] = s1[c];
        pos1[4 * c + 0] = (float)(4 * (c % n1w) + 2);
        pos1[4 * c + 1] = (float)(4 * (c / n1w) + 2);
        pos1[4 * c + 2] = (float)(arg1[c] % w0);
        pos1[4 * c + 3] = (float)(arg1[c] / w0);
    }
    const int nb = (g->h[0] / 4) * (w0 / 4);
    for (int b = 0; b < nb; b++) {
        score2[b] = blocks[b].v;
        pos2[4 * b + 0] = (float)(4 * (blocks[b].cell % n1w) + 2);
        pos2[4 * b + 1] = (float)(4 * (blocks[b].cell / n1w) + 2);
        pos2[4 * b + 2] = (float)blocks[b].x;
        pos2[4 * b + 3] = (float)blocks[b].y;
    }
}

/* ---- whole-level fast paths (tests, benchmarks, the GPU comparison) ---- */

#define CHUNKS_PER_THREAD 4

/* cell-row chunks of level lv: about CHUNKS_PER_THREAD per thread */
static int chunk_rows(const lis_pump_geom *g, int lv) {
    int nt = lis_threads_count() * CHUNKS_PER_THREAD;
    int r = (g->gh[lv] + nt - 1) / nt;
    return r < 1 ? 1 : r;
}

typedef struct {
    const lis_pump_geom *g;
    int l, vy, crow;
    const float *P_up;
    float *P_lo;
    int32_t *K[2];
    float *R[2];
} bw_job;

/* window row j->vy for one chunk of lower cells, then the lower rows it completes */
static void bw_task(void *ctx, int64_t t, int tid) {
    const bw_job *j = ctx;
    const lis_pump_geom *g = j->g;
    const int l = j->l, vy = j->vy, hl = g->h[l], hlo = g->h[l - 1];
    const int r0 = (int)t * j->crow, r1 = r0 + j->crow < g->gh[l - 1] ? r0 + j->crow : g->gh[l - 1];
    const size_t rowf = (size_t)g->w[l - 1] * g->cs[l - 1];
    const float *lo[3];
    for (int k = 0; k < 3; k++) {
        const int yy = 2 * vy - 1 + k;
        lo[k] = (yy >= 0 && yy <= hlo - 2) ? j->P_lo + (size_t)yy * rowf : NULL;
    }
    lis_pump_bw_window_row(g, l, vy, lo, j->P_up, r0, r1, j->K[vy & 1], j->R[vy & 1]);
    /* rows 2vy-1 and 2vy are now complete (and, after the last window row, the rest) */
    const int last = vy == hl - 1 ? hlo - 1 : 2 * vy;
    for (int r = 2 * vy - 1; r <= last; r++) {
        if (r < 0) continue;
        int wy[2] = {-1, -1};
        const int32_t *K[2] = {NULL, NULL};
        const float *R[2] = {NULL, NULL};
        /* windows m with 2m-1 <= r <= 2m+1, i.e. m = r/2 (r even) or (r-1)/2, (r+1)/2 */
        const int ma = (r % 2 == 0) ? r / 2 : (r - 1) / 2, mb = (r % 2 == 0) ? -1 : (r + 1) / 2;
        if (ma >= 0 && ma <= vy) { wy[0] = ma; K[0] = j->K[ma & 1]; R[0] = j->R[ma & 1]; }
        if (mb >= 0 && mb <= vy && mb < hl) { wy[1] = mb; K[1] = j->K[mb & 1]; R[1] = j->R[mb & 1]; }
        lis_pump_bw_finalize_row(g, l, r, j->P_lo + (size_t)r * rowf, wy, K, R, r0, r1);
    }
}

void lis_pump_bwd_level_cpu_ws(const lis_pump_geom *g, int l, const float *P_up, float *P_lo, int32_t *K, float *R) {
    const size_t rowf = (size_t)g->w[l] * g->cs[l - 1];
    bw_job j = {g, l, 0, chunk_rows(g, l - 1), P_up, P_lo, {K, K + rowf}, {R, R + rowf}};
    const int nchunk = (g->gh[l - 1] + j.crow - 1) / j.crow;
    for (j.vy = 0; j.vy < g->h[l]; j.vy++) lis_parallel_for(nchunk, bw_task, &j);
}

void lis_pump_bwd_level_cpu(const lis_pump_geom *g, int l, const float *P_up, float *P_lo) {
    /* test/bench entry: allocates its two rows of (code, value) */
    const size_t rowf = (size_t)g->w[l] * g->cs[l - 1];
    int32_t *K = lis_alloc_aligned(sizeof(int32_t) * 2 * rowf, "pump: backward codes");
    float *R = lis_alloc_aligned(sizeof(float) * 2 * rowf, "pump: backward values");
    LIS_ASSERT(K && R);
    lis_pump_bwd_level_cpu_ws(g, l, P_up, P_lo, K, R);
    free(K);
    free(R);
}

typedef struct {
    const lis_pump_geom *g;
    const float *P0;
    int crow;
    float *s1;
    int32_t *a1;
    lis_pump_best2 *part; /* nchunk x (w0/4) */
} best_job;

static void best_task(void *ctx, int64_t t, int tid) {
    best_job *j = ctx;
    const lis_pump_geom *g = j->g;
    const int r0 = (int)t * j->crow, r1 = r0 + j->crow < g->gh[0] ? r0 + j->crow : g->gh[0];
    const int nbx = g->w[0] / 4;
    lis_pump_best2 *blk = j->part + (size_t)t * (size_t)(g->h[0] / 4) * nbx;
    for (int y = 0; y < g->h[0]; y++) {
        if (y % 4 == 0 && y / 4 < g->h[0] / 4) /* a block row starts: no candidate yet */
            for (int b = 0; b < nbx; b++) blk[(y / 4) * nbx + b] = (lis_pump_best2){-1.0f, 0, 0, 0};
        lis_pump_best_row(g, y, j->P0 + (size_t)y * g->w[0] * g->cs[0], r0, r1, j->s1, j->a1,
                          y / 4 < g->h[0] / 4 ? blk + (y / 4) * nbx : NULL);
    }
}

void lis_pump_best_cpu(const lis_pump_geom *g, const float *P0, float *pos1, float *score1, float *pos2,
                       float *score2) {
    const int crow = chunk_rows(g, 0), nchunk = (g->gh[0] + crow - 1) / crow;
    const size_t nb = (size_t)(g->h[0] / 4) * (g->w[0] / 4);
    float *s1 = malloc(sizeof(float) * (size_t)g->cs[0]);
    int32_t *a1 = malloc(sizeof(int32_t) * (size_t)g->cs[0]);
    lis_pump_best2 *part = malloc(sizeof(lis_pump_best2) * (nb * (size_t)nchunk + 1));
    LIS_ASSERT(s1 && a1 && part);
    for (int c = 0; c < g->cs[0]; c++) { s1[c] = -1.0f; a1[c] = -1; }
    best_job j = {g, P0, crow, s1, a1, part};
    lis_parallel_for(nchunk, best_task, &j);
    /* merge the chunks' block candidates (the rule is order-independent) */
    for (size_t b = 0; b < nb; b++)
        for (int t = 1; t < nchunk; t++)
            if (lis_pump_best2_better(&part[(size_t)t * nb + b], &part[b])) part[b] = part[(size_t)t * nb + b];
    lis_pump_best_finish(g, s1, a1, part, pos1, score1, pos2, score2);
    free(s1);
    free(a1);
    free(part);
}
