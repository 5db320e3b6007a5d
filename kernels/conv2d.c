/* conv2d.c — reference and GEMM-based CPU convolution (see conv2d.h for the method).
 *
 * Workspace of lis_conv2d_cpu_packed (one buffer, carved in this order, 64-byte aligned):
 *   planes   N x C x nph x Hq x Wq floats + slack   zero-padded phase planes (copy path only)
 *   tapoff   C*R*S x int64                          offset of B row (c,r,s) from an image's base
 *   per thread: rows  C*R*S pointers                B row pointers of the current task
 *               tile  chunk_rows x tile_cols floats GEMM output before the epilogue
 */
#include "kernels/conv2d.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "runtime/threads.h"

#define MAX_STRIDE 8      /* phase planes: stride_h * stride_w <= 64 */
#define TILE_COLS 192     /* GEMM columns per task: one B block of gemm.c (NB), so each
                             task packs its B columns once and streams its A rows once */
#define CHUNK_ROWS 256    /* output channels per weight pack: B is re-packed per chunk
                             (~1/CHUNK_ROWS of the work), while splitting M is what gives
                             threads work when an image has few pixels (7x7 at batch 1) */

void lis_conv2d_out_shape(const lis_conv2d_params *p, int *Ho, int *Wo) {
    *Ho = (p->H + 2 * p->pad_h - p->dil_h * (p->R - 1) - 1) / p->stride_h + 1;
    *Wo = (p->W + 2 * p->pad_w - p->dil_w * (p->S - 1) - 1) / p->stride_w + 1;
}

lis_status lis_conv2d_check(const lis_conv2d_params *p) {
    if (p->N < 1 || p->C < 1 || p->H < 1 || p->W < 1 || p->K < 1 || p->R < 1 || p->S < 1)
        return lis_err_set("conv2d: sizes must be positive (N %d C %d H %d W %d K %d R %d S %d)", p->N, p->C, p->H, p->W,
                           p->K, p->R, p->S);
    if (p->stride_h < 1 || p->stride_w < 1 || p->stride_h > MAX_STRIDE || p->stride_w > MAX_STRIDE)
        return lis_err_set("conv2d: stride %dx%d outside 1..%d", p->stride_h, p->stride_w, MAX_STRIDE);
    if (p->pad_h < 0 || p->pad_w < 0 || p->dil_h < 1 || p->dil_w < 1 || p->pad_h > 4096 || p->pad_w > 4096 ||
        p->dil_h > 4096 || p->dil_w > 4096)
        return lis_err_set("conv2d: bad padding %dx%d or dilation %dx%d", p->pad_h, p->pad_w, p->dil_h, p->dil_w);
    if ((int64_t)p->H + 2 * p->pad_h > 65536 || (int64_t)p->W + 2 * p->pad_w > 65536)
        return lis_err_set("conv2d: input %dx%d too large", p->H, p->W);
    if ((int64_t)p->C * p->R * p->S > INT_MAX / 2 || (int64_t)p->K > INT_MAX / 2)
        return lis_err_set("conv2d: C*R*S too large");
    if ((int64_t)p->H + 2 * p->pad_h - (int64_t)p->dil_h * (p->R - 1) - 1 < 0 ||
        (int64_t)p->W + 2 * p->pad_w - (int64_t)p->dil_w * (p->S - 1) - 1 < 0)
        return lis_err_set("conv2d: kernel %dx%d (dilation %dx%d) larger than the padded input %dx%d", p->R, p->S,
                           p->dil_h, p->dil_w, p->H + 2 * p->pad_h, p->W + 2 * p->pad_w);
    return LIS_OK;
}

static inline float apply_act(float v, lis_act act, float slope) {
    if (act == LIS_ACT_RELU) return v > 0.0f ? v : 0.0f;
    if (act == LIS_ACT_LRELU) return v >= 0.0f ? v : v * slope;
    return v;
}

lis_status lis_conv2d_ref(const lis_conv2d_params *p, const float *x, const float *w, const float *bias,
                          const float *res, float *y) {
    LIS_TRY(lis_conv2d_check(p));
    int Ho, Wo;
    lis_conv2d_out_shape(p, &Ho, &Wo);
    for (int n = 0; n < p->N; n++)
        for (int k = 0; k < p->K; k++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    double acc = 0.0;
                    for (int c = 0; c < p->C; c++)
                        for (int r = 0; r < p->R; r++) {
                            int iy = oy * p->stride_h - p->pad_h + r * p->dil_h;
                            if (iy < 0 || iy >= p->H) continue;
                            for (int s = 0; s < p->S; s++) {
                                int ix = ox * p->stride_w - p->pad_w + s * p->dil_w;
                                if (ix < 0 || ix >= p->W) continue;
                                acc += (double)w[(((size_t)k * p->C + c) * p->R + r) * p->S + s] *
                                       (double)x[(((size_t)n * p->C + c) * p->H + iy) * p->W + ix];
                            }
                        }
                    /* float32 sum of the float32 conv, bias and residual, as PyTorch does */
                    float v = (float)acc;
                    if (bias) v += bias[k];
                    size_t o = (((size_t)n * p->K + k) * Ho + oy) * Wo + ox;
                    if (res) v += res[o];
                    y[o] = apply_act(v, p->act, p->slope);
                }
    return LIS_OK;
}

/* ---- packed weights ---- */

/* Output-channel blocks of about CHUNK_ROWS, equal in size, in multiples of the GEMM's
 * 6-row micro-panel. Independent of the thread count, so a pack suits any pool. */
static void chunking(int K, int *rows, int *n) {
    int nc = (K + CHUNK_ROWS - 1) / CHUNK_ROWS;
    int r = (K + nc - 1) / nc;
    r = (r + 5) / 6 * 6;
    *rows = r;
    *n = (K + r - 1) / r;
}

lis_status lis_conv2d_pack(lis_conv2d_packed *pk, int K, int C, int R, int S, const float *w) {
    memset(pk, 0, sizeof *pk);
    if ((int64_t)C * R * S > INT_MAX / 2 || K < 1) return lis_err_set("conv2d: bad weight shape");
    pk->K = K; pk->C = C; pk->R = R; pk->S = S;
    chunking(K, &pk->chunk_rows, &pk->nchunk);
    pk->chunk = lis_calloc((size_t)pk->nchunk, sizeof *pk->chunk, "conv weight packs");
    if (!pk->chunk) return LIS_ERR;
    int crs = C * R * S;
    for (int i = 0; i < pk->nchunk; i++) {
        int m0 = i * pk->chunk_rows;
        int mr = K - m0 < pk->chunk_rows ? K - m0 : pk->chunk_rows;
        if (lis_gemm_pack_a(&pk->chunk[i], mr, crs, w + (size_t)m0 * crs, crs) != LIS_OK) {
            lis_conv2d_packed_free(pk);
            return LIS_ERR;
        }
    }
    return LIS_OK;
}

void lis_conv2d_packed_free(lis_conv2d_packed *pk) {
    if (!pk) return;
    for (int i = 0; pk->chunk && i < pk->nchunk; i++) lis_gemm_apack_free(&pk->chunk[i]);
    free(pk->chunk);
    memset(pk, 0, sizeof *pk);
}

/* ---- geometry shared by workspace sizing and the run ---- */

typedef struct {
    int Ho, Wo;
    int copy;                    /* 1: phase planes are built; 0: B rows point into x */
    int Hq, Wq;                  /* plane size (copy) or H, W */
    int nph;                     /* phase planes per channel */
    signed char slot[MAX_STRIDE * MAX_STRIDE]; /* phase (py*sw + px) -> plane index, -1 unused */
    size_t img_floats;           /* floats per image in x (no copy) or in the planes */
    size_t slack;                /* zeroed floats after the last plane (garbage columns overrun) */
    int crs;                     /* GEMM K = C*R*S */
    int chunk_rows, nchunk;
    int64_t img_cols;            /* GEMM columns per image: Ho*Wq less the last row's garbage */
    int64_t strips;              /* img_cols in 16-column strips, rounded up */
    int ntile;                   /* column tiles per image; tile i = strips [i*S/ntile, (i+1)*S/ntile) */
    int tile_cols;               /* the widest tile, for the scratch size */
    size_t off_tap, off_thread, per_thread; /* byte offsets in the workspace */
    size_t ws_bytes;
    int nt;
} conv_geom;

static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }

static void geom_init(conv_geom *g, const lis_conv2d_params *p) {
    memset(g, 0, sizeof *g);
    lis_conv2d_out_shape(p, &g->Ho, &g->Wo);
    g->crs = p->C * p->R * p->S;
    g->copy = !(p->R == 1 && p->S == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 && p->pad_w == 0);
    if (g->copy) {
        int Hp = p->H + 2 * p->pad_h, Wp = p->W + 2 * p->pad_w;
        g->Hq = (Hp + p->stride_h - 1) / p->stride_h;
        g->Wq = (Wp + p->stride_w - 1) / p->stride_w;
        memset(g->slot, -1, sizeof g->slot);
        for (int r = 0; r < p->R; r++)
            for (int s = 0; s < p->S; s++) {
                int ph = ((r * p->dil_h) % p->stride_h) * p->stride_w + (s * p->dil_w) % p->stride_w;
                if (g->slot[ph] < 0) g->slot[ph] = (signed char)g->nph++;
            }
        g->img_floats = (size_t)p->C * g->nph * g->Hq * g->Wq;
        g->slack = (size_t)g->Wq + (size_t)((p->S - 1) * p->dil_w) / p->stride_w + 64;
    } else {
        g->Hq = p->H;
        g->Wq = p->W;
        g->img_floats = (size_t)p->C * p->H * p->W;
    }
    g->nt = lis_threads_count();
    chunking(p->K, &g->chunk_rows, &g->nchunk);
    /* Column tiles: the image's columns in 16-wide micro-tile strips (splitting at strip
     * boundaries wastes no GEMM work), dealt evenly to tiles of at most TILE_COLS. When
     * that gives few tasks (batch 1, 14x14 and 7x7 maps), use more tiles, down to 2
     * strips each, until there are >= 2 tasks per thread and their count is a multiple
     * of the thread count, so the last round of tasks does not leave threads idle. */
    g->img_cols = (int64_t)(g->Ho - 1) * g->Wq + g->Wo;
    g->strips = (g->img_cols + 15) / 16;
    int64_t ntile = (g->strips + TILE_COLS / 16 - 1) / (TILE_COLS / 16);
    int64_t tasks = (int64_t)p->N * ntile * g->nchunk;
    if (tasks < 4 * g->nt)
        while ((tasks < 2 * g->nt || tasks % g->nt) && 2 * (ntile + 1) <= g->strips) {
            ntile++;
            tasks = (int64_t)p->N * ntile * g->nchunk;
        }
    g->ntile = (int)ntile;
    g->tile_cols = (int)(16 * ((g->strips + ntile - 1) / ntile)); /* the widest tile */
    size_t planes = g->copy ? ((size_t)p->N * g->img_floats + g->slack) * sizeof(float) : 0;
    g->off_tap = align64(planes);
    g->off_thread = g->off_tap + align64((size_t)g->crs * sizeof(int64_t));
    g->per_thread = align64((size_t)g->crs * sizeof(float *)) +
                    align64((size_t)g->chunk_rows * g->tile_cols * sizeof(float));
    g->ws_bytes = g->off_thread + (size_t)g->nt * g->per_thread;
}

size_t lis_conv2d_workspace_size(const lis_conv2d_params *p) {
    conv_geom g;
    geom_init(&g, p);
    return g.ws_bytes;
}

/* ---- the fast path ---- */

typedef struct {
    const lis_conv2d_params *p;
    const lis_conv2d_packed *pk;
    const conv_geom *g;
    const float *x, *bias, *res;
    float *y;
    char *ws;
    float *planes;
    const int64_t *tapoff;
} conv_job;

/* Builds the phase planes of one (image, channel). */
static void plane_task(void *ctx, int64_t i, int tid) {
    const conv_job *j = ctx;
    const lis_conv2d_params *p = j->p;
    const conv_geom *g = j->g;
    int n = (int)(i / p->C), c = (int)(i % p->C);
    const float *src = j->x + ((size_t)n * p->C + c) * p->H * p->W;
    int sh = p->stride_h, sw = p->stride_w;
    for (int ph = 0; ph < sh * sw; ph++) {
        if (g->slot[ph] < 0) continue;
        int py = ph / sw, px = ph % sw;
        float *dst = j->planes + (size_t)n * g->img_floats + ((size_t)c * g->nph + g->slot[ph]) * g->Hq * g->Wq;
        for (int r = 0; r < g->Hq; r++) {
            float *d = dst + (size_t)r * g->Wq;
            int iy = r * sh + py - p->pad_h;
            if (iy < 0 || iy >= p->H) { memset(d, 0, sizeof(float) * g->Wq); continue; }
            const float *srow = src + (size_t)iy * p->W;
            if (sw == 1) { /* zero borders + one memcpy */
                int left = p->pad_w < g->Wq ? p->pad_w : g->Wq;
                memset(d, 0, sizeof(float) * left);
                int ncopy = g->Wq - left < p->W ? g->Wq - left : p->W;
                memcpy(d + left, srow, sizeof(float) * ncopy);
                memset(d + left + ncopy, 0, sizeof(float) * (g->Wq - left - ncopy));
            } else {
                for (int q = 0; q < g->Wq; q++) {
                    int ix = q * sw + px - p->pad_w;
                    d[q] = (ix >= 0 && ix < p->W) ? srow[ix] : 0.0f;
                }
            }
        }
    }
}

/* Epilogue of one output row segment: y[x] = act(src[x] + b (+ res[x])). */
static inline void epilogue_row(const float *src, float *dst, const float *rs, int n, float b, lis_act act,
                                float slope) {
    if (act == LIS_ACT_RELU) {
        if (rs) for (int x = 0; x < n; x++) { float v = src[x] + b + rs[x]; dst[x] = v > 0.0f ? v : 0.0f; }
        else for (int x = 0; x < n; x++) { float v = src[x] + b; dst[x] = v > 0.0f ? v : 0.0f; }
    } else if (act == LIS_ACT_NONE) {
        if (rs) for (int x = 0; x < n; x++) dst[x] = src[x] + b + rs[x];
        else for (int x = 0; x < n; x++) dst[x] = src[x] + b;
    } else {
        for (int x = 0; x < n; x++) dst[x] = apply_act(src[x] + b + (rs ? rs[x] : 0.0f), act, slope);
    }
}

static void gemm_task(void *ctx, int64_t t, int tid) {
    const conv_job *j = ctx;
    const lis_conv2d_params *p = j->p;
    const conv_geom *g = j->g;
    int ci = (int)(t % g->nchunk);
    int64_t rest = t / g->nchunk;
    int tile = (int)(rest % g->ntile), n = (int)(rest / g->ntile);
    int64_t c0 = 16 * (tile * g->strips / g->ntile), c1 = 16 * ((tile + 1) * g->strips / g->ntile);
    int ncols = (int)((c1 < g->img_cols ? c1 : g->img_cols) - c0);
    int m0 = ci * j->pk->chunk_rows;
    const lis_gemm_apack *A = &j->pk->chunk[ci];

    char *mine = j->ws + g->off_thread + (size_t)tid * g->per_thread;
    const float **rows = (const float **)mine;
    float *tilebuf = (float *)(mine + align64((size_t)g->crs * sizeof(float *)));
    const float *base = (g->copy ? j->planes : j->x) + (size_t)n * g->img_floats + c0;
    for (int k = 0; k < g->crs; k++) rows[k] = base + j->tapoff[k];
    /* nested inside lis_parallel_for: the GEMM runs on this thread only */
    lis_gemm_packed(A, ncols, rows, tilebuf, ncols, 0);

    /* epilogue: bias, residual, activation; GEMM column c is pixel (c / Wq, c % Wq), and
     * columns with c % Wq >= Wo are the discarded garbage of the shifted-row trick */
    size_t plane = (size_t)g->Ho * g->Wo;
    for (int m = 0; m < A->M; m++) {
        int k = m0 + m;
        float b = j->bias ? j->bias[k] : 0.0f;
        size_t obase = ((size_t)n * p->K + k) * plane;
        const float *src = tilebuf + (size_t)m * ncols;
        for (int64_t c = c0; c < c0 + ncols;) {
            int oy = (int)(c / g->Wq), ox = (int)(c % g->Wq);
            int64_t row_end = (int64_t)oy * g->Wq + g->Wo; /* first garbage column of this row */
            int64_t seg_end = row_end < c0 + ncols ? row_end : c0 + ncols;
            if (ox < g->Wo) {
                size_t o = obase + (size_t)oy * g->Wo + ox;
                epilogue_row(src + (c - c0), j->y + o, j->res ? j->res + o : NULL, (int)(seg_end - c), b, p->act,
                             p->slope);
            }
            c = ox < g->Wo ? seg_end : (int64_t)(oy + 1) * g->Wq;
        }
    }
}

void lis_conv2d_cpu_packed(const lis_conv2d_params *p, const lis_conv2d_packed *pk, const float *x,
                           const float *bias, const float *res, float *y, void *ws) {
    LIS_ASSERT(pk->K == p->K && pk->C == p->C && pk->R == p->R && pk->S == p->S);
    conv_geom g;
    geom_init(&g, p);
    LIS_ASSERT(pk->chunk_rows == g.chunk_rows && pk->nchunk == g.nchunk);
    conv_job j = {p, pk, &g, x, bias, res, y, ws, (float *)ws, (const int64_t *)((char *)ws + g.off_tap)};
    int64_t *tapoff = (int64_t *)((char *)ws + g.off_tap);
    if (g.copy) {
        /* B row (c, r, s): phase plane of tap (r, s) of channel c, shifted by the tap's
         * whole-phase offset (r*dh)/sh rows and (s*dw)/sw columns. */
        for (int c = 0; c < p->C; c++)
            for (int r = 0; r < p->R; r++)
                for (int s = 0; s < p->S; s++) {
                    int ph = ((r * p->dil_h) % p->stride_h) * p->stride_w + (s * p->dil_w) % p->stride_w;
                    tapoff[(c * p->R + r) * p->S + s] = (int64_t)((size_t)c * g.nph + g.slot[ph]) * g.Hq * g.Wq +
                                                        (int64_t)(r * p->dil_h / p->stride_h) * g.Wq +
                                                        (s * p->dil_w / p->stride_w);
                }
        memset(j.planes + (size_t)p->N * g.img_floats, 0, g.slack * sizeof(float));
        lis_parallel_for((int64_t)p->N * p->C, plane_task, &j);
    } else {
        for (int c = 0; c < p->C; c++) tapoff[c] = (int64_t)c * p->H * p->W;
    }
    lis_parallel_for((int64_t)p->N * g.ntile * g.nchunk, gemm_task, &j);
}

lis_status lis_conv2d_cpu(const lis_conv2d_params *p, const float *x, const float *w, const float *bias,
                          const float *res, float *y) {
    LIS_TRY(lis_conv2d_check(p));
    lis_conv2d_packed pk;
    LIS_TRY(lis_conv2d_pack(&pk, p->K, p->C, p->R, p->S, w));
    void *ws = lis_alloc_aligned(lis_conv2d_workspace_size(p), "conv2d workspace");
    if (!ws) { lis_conv2d_packed_free(&pk); return LIS_ERR; }
    lis_conv2d_cpu_packed(p, &pk, x, bias, res, y, ws);
    free(ws);
    lis_conv2d_packed_free(&pk);
    return LIS_OK;
}
