/* pump_pyramid.c — the fused CPU driver of the PUMP pyramid and its reference (see
 * pump_pyramid.h).
 *
 * Row bookkeeping, for the step vy of a level whose lower level has rows 0 .. hlo-1:
 *   forward:  the 3x3 / stride-2 pooling of upper row vy reads lower rows 2vy-1 .. 2vy+1;
 *             level-0 rows 2vy and 2vy+1 are computed in this step (row 2vy-1 in the one
 *             before), so a ring of 3 rows (slot = row % 3) holds what is needed. The
 *             aggregation of upper row u reads pooled rows u-1 and u+1, so it runs one step
 *             behind the pooling, with the pooled rows in a ring of 3 (slot = row % 3).
 *   backward: window row vy reads lower rows 2vy-1 .. 2vy+1 and completes rows 2vy-1 (also
 *             reached by window vy-1) and 2vy; the codes and values of windows vy-1 and vy
 *             sit in a ring of 2. Completed level-0 rows go straight into the reductions.
 */
#include "kernels/pump_pyramid.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

#define CHUNKS_PER_THREAD 4

static int chunk_rows_of(int rows) {
    const int nt = lis_threads_count() * CHUNKS_PER_THREAD;
    const int r = (rows + nt - 1) / nt;
    return r < 1 ? 1 : r;
}

void lis_pump_pyramid_free(lis_pump_pyramid *py) {
    for (int l = 0; l < LIS_PUMP_MAX_LEVELS; l++) {
        free(py->lev[l]);
        free(py->wts[l]);
    }
    free(py->nrm);
    free(py->ring0);
    free(py->qring);
    free(py->K);
    free(py->R);
    free(py->s1);
    free(py->a1);
    free(py->part);
    lis_pump_desc2_pack_free(&py->pk);
    const int np = py->nprobe;
    const int *pc = py->probe_cells;
    float *pf = py->probe_fw, *pb = py->probe_bw;
    memset(py, 0, sizeof *py);
    /* probes belong to the caller */
    py->nprobe = np;
    py->probe_cells = pc;
    py->probe_fw = pf;
    py->probe_bw = pb;
}

lis_status lis_pump_pyramid_plan(lis_pump_pyramid *py, const lis_pump_geom *g, size_t level0_max_bytes) {
    lis_pump_pyramid_free(py);
    py->g = *g;
    py->store0 = lis_pump_level_floats(g, 0) * sizeof(float) <= level0_max_bytes;
    const size_t rows0 = py->store0 ? (size_t)g->h[0] : 3;
    int maxcs = 0;
    size_t qrow = 0, krow = 0;
    for (int l = 0; l < g->nlev; l++) {
        maxcs = g->cs[l] > maxcs ? g->cs[l] : maxcs;
        if (l >= 1) {
            const size_t r = (size_t)g->w[l] * g->cs[l - 1];
            qrow = r > qrow ? r : qrow;
            krow = r > krow ? r : krow;
        }
    }
    if (qrow == 0) qrow = krow = 8;
    py->qrow = qrow;
    py->krow = krow;
    py->crow0 = chunk_rows_of(g->gh[0]);
    py->nchunk0 = (g->gh[0] + py->crow0 - 1) / py->crow0;
    const size_t nb = (size_t)(g->h[0] / 4) * (g->w[0] / 4) + 1;
    int ok = 1;
    for (int l = 0; l < g->nlev && ok; l++) {
        py->wts[l] = lis_alloc_aligned(sizeof(float) * (size_t)g->cs[l], "pump: level weights");
        if (l >= 1) py->lev[l] = lis_alloc_aligned(sizeof(float) * lis_pump_level_floats(g, l), "pump: pyramid level");
        ok = py->wts[l] && (l == 0 || py->lev[l]);
    }
    if (ok) {
        py->nrm = lis_alloc_aligned(sizeof(float) * 9 * (size_t)maxcs, "pump: border normalisers");
        py->ring0 = lis_alloc_aligned(sizeof(float) * rows0 * (size_t)g->w[0] * g->cs[0], "pump: level-0 rows");
        py->qring = lis_alloc_aligned(sizeof(float) * 3 * qrow, "pump: pooled rows");
        py->K = lis_alloc_aligned(sizeof(int32_t) * 2 * krow, "pump: backward codes");
        py->R = lis_alloc_aligned(sizeof(float) * 2 * krow, "pump: backward values");
        py->s1 = lis_alloc_aligned(sizeof(float) * (size_t)g->cs[0], "pump: best scores");
        py->a1 = lis_alloc_aligned(sizeof(int32_t) * (size_t)g->cs[0], "pump: best positions");
        py->part = lis_malloc(sizeof(lis_pump_best2) * nb * (size_t)py->nchunk0, "pump: block maxima");
        ok = py->nrm && py->ring0 && py->qring && py->K && py->R && py->s1 && py->a1 && py->part;
    }
    if (!ok) {
        lis_pump_pyramid_free(py);
        return LIS_ERR;
    }
    /* padding cells stay zero for good */
    memset(py->ring0, 0, sizeof(float) * rows0 * (size_t)g->w[0] * g->cs[0]);
    memset(py->qring, 0, sizeof(float) * 3 * qrow);
    for (int l = 1; l < g->nlev; l++) memset(py->lev[l], 0, sizeof(float) * lis_pump_level_floats(g, l));
    return LIS_OK;
}

lis_status lis_pump_pyramid_set_desc2(lis_pump_pyramid *py, const float *desc2) {
    lis_pump_desc2_pack_free(&py->pk);
    py->have_desc2 = 0;
    LIS_TRY(lis_pump_desc2_pack_init(&py->pk, &py->g, desc2));
    py->have_desc2 = 1;
    return LIS_OK;
}

/* ---- forward ---- */

typedef struct {
    lis_pump_pyramid *py;
    const float *desc1;
    int l, vy, crow;
} fw_job;

static float *ring_row(lis_pump_pyramid *py, int y) {
    return py->ring0 + (size_t)(py->store0 ? y : y % 3) * py->g.w[0] * py->g.cs[0];
}

static void probe_copy(lis_pump_pyramid *py, float *dst, int y, const float *row, int c0, int c1) {
    const lis_pump_geom *g = &py->g;
    for (int k = 0; k < py->nprobe; k++) {
        const int c = py->probe_cells[k];
        if (c < c0 || c >= c1) continue;
        for (int x = 0; x < g->w[0]; x++)
            dst[((size_t)k * g->h[0] + y) * g->w[0] + x] = row[(size_t)x * g->cs[0] + c];
    }
}

/* pooled row vy of level l for one chunk of lower cells (level 0: computing its rows) */
static void fw_pool_task(void *ctx, int64_t t, int tid) {
    const fw_job *j = ctx;
    lis_pump_pyramid *py = j->py;
    const lis_pump_geom *g = &py->g;
    const int l = j->l, vy = j->vy, hlo = g->h[l - 1];
    const int r0 = (int)t * j->crow, r1 = r0 + j->crow < g->gh[l - 1] ? r0 + j->crow : g->gh[l - 1];
    const float *lo[3];
    if (l == 1) {
        for (int y = 2 * vy; y <= 2 * vy + 1 && y < hlo; y++) {
            float *row = ring_row(py, y);
            lis_pump_corr_row(g, j->desc1, &py->pk, y, r0 * g->gw[0], r1 * g->gw[0], row);
            if (py->probe_fw) probe_copy(py, py->probe_fw, y, row, r0 * g->gw[0], r1 * g->gw[0]);
        }
        for (int k = 0; k < 3; k++) {
            const int y = 2 * vy - 1 + k;
            lo[k] = (y >= 0 && y < hlo) ? ring_row(py, y) : NULL;
        }
    } else {
        const size_t rowf = (size_t)g->w[l - 1] * g->cs[l - 1];
        for (int k = 0; k < 3; k++) {
            const int y = 2 * vy - 1 + k;
            lo[k] = (y >= 0 && y < hlo) ? py->lev[l - 1] + (size_t)y * rowf : NULL;
        }
    }
    lis_pump_pool_row(g, l, lo, r0, r1, py->qring + (size_t)(vy % 3) * py->qrow);
}

/* upper row vy of level l for one chunk of parent rows */
static void fw_agg_task(void *ctx, int64_t t, int tid) {
    const fw_job *j = ctx;
    lis_pump_pyramid *py = j->py;
    const lis_pump_geom *g = &py->g;
    const int l = j->l, u = j->vy, hl = g->h[l];
    const int r0 = (int)t * j->crow, r1 = r0 + j->crow < g->gh[l] ? r0 + j->crow : g->gh[l];
    const float *qa = u >= 1 ? py->qring + (size_t)((u - 1) % 3) * py->qrow : NULL;
    const float *qb = u + 1 < hl ? py->qring + (size_t)((u + 1) % 3) * py->qrow : NULL;
    lis_pump_agg_row(g, l, u, qa, qb, py->wts[l - 1], py->nrm, r0, r1,
                     py->lev[l] + (size_t)u * g->w[l] * g->cs[l]);
}

lis_status lis_pump_pyramid_forward(lis_pump_pyramid *py, const float *desc1) {
    const lis_pump_geom *g = &py->g;
    if (!py->have_desc2) return lis_err_set("pump: img2 descriptors not set");
    lis_pump_weights0(g, py->wts[0]);
    for (int l = 1; l < g->nlev; l++) {
        if (lis_pump_level_norms(g, l, py->wts[l - 1], py->wts[l], py->nrm) == 0.0)
            return lis_err_set("pump: level %d has no weight (img1 too small)", l);
        const int crow_lo = l == 1 ? py->crow0 : chunk_rows_of(g->gh[l - 1]);
        const int crow_up = chunk_rows_of(g->gh[l]);
        const int nlo = (g->gh[l - 1] + crow_lo - 1) / crow_lo, nup = (g->gh[l] + crow_up - 1) / crow_up;
        fw_job pj = {py, desc1, l, 0, crow_lo}, aj = {py, desc1, l, 0, crow_up};
        for (int vy = 0; vy <= g->h[l]; vy++) {
            if (vy < g->h[l]) {
                pj.vy = vy;
                lis_parallel_for(nlo, fw_pool_task, &pj);
            }
            if (vy >= 1) {
                aj.vy = vy - 1;
                lis_parallel_for(nup, fw_agg_task, &aj);
            }
        }
    }
    return LIS_OK;
}

/* ---- backward ---- */

typedef struct {
    lis_pump_pyramid *py;
    const float *desc1;
    int vy;
} bw0_job;

/* window row vy of the backward 1 -> 0 for one chunk of level-0 cells: the level-0 rows it
 * needs are recomputed, the rows it completes are refined and reduced */
static void bw0_task(void *ctx, int64_t t, int tid) {
    const bw0_job *j = ctx;
    lis_pump_pyramid *py = j->py;
    const lis_pump_geom *g = &py->g;
    const int vy = j->vy, h0 = g->h[0], h1 = g->h[1];
    const int r0 = (int)t * py->crow0, r1 = r0 + py->crow0 < g->gh[0] ? r0 + py->crow0 : g->gh[0];
    const int c0 = r0 * g->gw[0], c1 = r1 * g->gw[0];
    for (int y = 2 * vy; !py->store0 && y <= 2 * vy + 1 && y < h0; y++) /* recompute unless stored */
        lis_pump_corr_row(g, j->desc1, &py->pk, y, c0, c1, ring_row(py, y));
    const float *lo[3];
    for (int k = 0; k < 3; k++) {
        const int y = 2 * vy - 1 + k;
        lo[k] = (y >= 0 && y <= h0 - 2) ? ring_row(py, y) : NULL;
    }
    int32_t *Kr[2] = {py->K, py->K + py->krow};
    float *Rr[2] = {py->R, py->R + py->krow};
    lis_pump_bw_window_row(g, 1, vy, lo, py->lev[1], r0, r1, Kr[vy & 1], Rr[vy & 1]);
    const size_t nb = (size_t)(h0 / 4) * (g->w[0] / 4) + 1;
    lis_pump_best2 *part = py->part + (size_t)t * nb;
    const int last = vy == h1 - 1 ? h0 - 1 : 2 * vy;
    for (int r = 2 * vy - 1; r <= last; r++) {
        if (r < 0) continue;
        int wy[2] = {-1, -1};
        const int32_t *K[2] = {NULL, NULL};
        const float *R[2] = {NULL, NULL};
        const int ma = (r % 2 == 0) ? r / 2 : (r - 1) / 2, mb = (r % 2 == 0) ? -1 : (r + 1) / 2;
        if (ma >= 0 && ma <= vy) { wy[0] = ma; K[0] = Kr[ma & 1]; R[0] = Rr[ma & 1]; }
        if (mb >= 0 && mb <= vy && mb < h1) { wy[1] = mb; K[1] = Kr[mb & 1]; R[1] = Rr[mb & 1]; }
        float *row = ring_row(py, r);
        lis_pump_bw_finalize_row(g, 1, r, row, wy, K, R, r0, r1);
        if (py->probe_bw) probe_copy(py, py->probe_bw, r, row, c0, c1);
        lis_pump_best_row(g, r, row, r0, r1, py->s1, py->a1,
                          r < 4 * (h0 / 4) ? part + (size_t)(r / 4) * (g->w[0] / 4) : NULL);
    }
}

/* level 0 alone (no pyramid above it): the reductions over the rows as computed */
static void best0_task(void *ctx, int64_t t, int tid) {
    const bw0_job *j = ctx;
    lis_pump_pyramid *py = j->py;
    const lis_pump_geom *g = &py->g;
    const int r0 = (int)t * py->crow0, r1 = r0 + py->crow0 < g->gh[0] ? r0 + py->crow0 : g->gh[0];
    const size_t nb = (size_t)(g->h[0] / 4) * (g->w[0] / 4) + 1;
    const int y = j->vy;
    float *row = ring_row(py, y);
    lis_pump_corr_row(g, j->desc1, &py->pk, y, r0 * g->gw[0], r1 * g->gw[0], row);
    if (py->probe_bw) probe_copy(py, py->probe_bw, y, row, r0 * g->gw[0], r1 * g->gw[0]);
    lis_pump_best_row(g, y, row, r0, r1, py->s1, py->a1,
                      y < 4 * (g->h[0] / 4) ? py->part + (size_t)t * nb + (size_t)(y / 4) * (g->w[0] / 4) : NULL);
}

void lis_pump_pyramid_backward(lis_pump_pyramid *py, const float *desc1, float *pos1, float *score1, float *pos2,
                               float *score2) {
    const lis_pump_geom *g = &py->g;
    for (int l = g->nlev - 1; l >= 2; l--) lis_pump_bwd_level_cpu_ws(g, l, py->lev[l], py->lev[l - 1], py->K, py->R);
    const size_t nb = (size_t)(g->h[0] / 4) * (g->w[0] / 4) + 1;
    for (int c = 0; c < g->cs[0]; c++) { py->s1[c] = -1.0f; py->a1[c] = -1; }
    for (size_t i = 0; i < nb * (size_t)py->nchunk0; i++) py->part[i] = (lis_pump_best2){-1.0f, 0, 0, 0};
    bw0_job j = {py, desc1, 0};
    if (g->nlev >= 2)
        for (j.vy = 0; j.vy < g->h[1]; j.vy++) lis_parallel_for(py->nchunk0, bw0_task, &j);
    else
        for (j.vy = 0; j.vy < g->h[0]; j.vy++) lis_parallel_for(py->nchunk0, best0_task, &j);
    for (size_t b = 0; b + 1 < nb; b++)
        for (int t = 1; t < py->nchunk0; t++)
            if (lis_pump_best2_better(&py->part[(size_t)t * nb + b], &py->part[b])) py->part[b] = py->part[(size_t)t * nb + b];
    lis_pump_best_finish(g, py->s1, py->a1, py->part, pos1, score1, pos2, score2);
}

/* ---- reference ---- */

lis_status lis_pump_pyramid_ref(const lis_pump_geom *g, const float *desc1, const float *desc2, float *pos1,
                                float *score1, float *pos2, float *score2, float *const *levels,
                                float *const *levels_bw) {
    float *P[LIS_PUMP_MAX_LEVELS] = {0}, *W[LIS_PUMP_MAX_LEVELS] = {0};
    lis_status s = LIS_OK;
    for (int l = 0; l < g->nlev && s == LIS_OK; l++) {
        P[l] = lis_malloc(sizeof(float) * lis_pump_level_floats(g, l), "pump ref: level");
        W[l] = lis_malloc(sizeof(float) * (size_t)g->cs[l], "pump ref: weights");
        if (!P[l] || !W[l]) s = LIS_ERR;
    }
    if (s == LIS_OK) {
        lis_pump_corr_ref(g, desc1, desc2, P[0]);
        lis_pump_weights0(g, W[0]);
        for (int l = 1; l < g->nlev; l++) lis_pump_fwd_level_ref(g, l, P[l - 1], W[l - 1], P[l], W[l]);
        for (int l = 0; levels && l < g->nlev; l++)
            if (levels[l]) memcpy(levels[l], P[l], sizeof(float) * lis_pump_level_floats(g, l));
        for (int l = g->nlev - 1; l >= 1; l--) lis_pump_bwd_level_ref(g, l, P[l], P[l - 1]);
        for (int l = 0; levels_bw && l < g->nlev; l++)
            if (levels_bw[l]) memcpy(levels_bw[l], P[l], sizeof(float) * lis_pump_level_floats(g, l));
        lis_pump_best_ref(g, P[0], pos1, score1, pos2, score2);
    }
    for (int l = 0; l < g->nlev; l++) {
        free(P[l]);
        free(W[l]);
    }
    return s;
}
