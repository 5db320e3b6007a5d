/* nearest_concat.c — nearest resize + concat and the tap convolution (see nearest_concat.h).
 *
 * Workspace of the tap path (one buffer, carved in this order, 64-byte aligned):
 *   G     max_m(C_m * g_m^2) floats    the map's grid (window copy or subsample); unused
 *                                      when the map is read in place (off 0, len <= out)
 *   Z     9 K max_m(g_m^2) floats      tap products on the grid (forward) or the
 *                                      scattered gradient P (backward)
 *   D     max_m(C_m) * 9 K floats      dW of one map (backward)
 *   rows  max_m(C_m) pointers          GEMM row pointers
 *   idx   out ints
 */
#include "kernels/nearest_concat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

int lis_nearest_src(int dst, int in, int out) {
    if (out == in) return dst;
    if (out == 2 * in) return dst >> 1;
    float scale = (float)in / (float)out;
    int s = (int)((float)dst * scale); /* floor: both factors are non-negative */
    return s < in - 1 ? s : in - 1;
}

lis_status lis_nc_check(const lis_nc_params *p, int *in_ch) {
    if (p->n_maps < 1 || p->n_maps > LIS_NC_MAX_MAPS) return lis_err_set("nearest_concat: %d maps (1..%d)", p->n_maps, LIS_NC_MAX_MAPS);
    if (p->out < 1 || p->out > 8192) return lis_err_set("nearest_concat: output size %d", p->out);
    int64_t c = 0;
    for (int m = 0; m < p->n_maps; m++) {
        if (p->C[m] < 1 || p->size[m] < 1 || p->len[m] < 1 || p->off[m] < 0 || p->off[m] + p->len[m] > p->size[m])
            return lis_err_set("nearest_concat: map %d: %d channels of %dx%d, window %d+%d does not fit", m, p->C[m], p->size[m],
                               p->size[m], p->off[m], p->len[m]);
        c += p->C[m];
    }
    if (c > (1 << 24)) return lis_err_set("nearest_concat: %lld channels", (long long)c);
    *in_ch = (int)c;
    return LIS_OK;
}

int lis_nc_grid(const lis_nc_params *p, int m, int *idx) {
    int len = p->len[m], out = p->out;
    if (len <= out) {
        for (int o = 0; o < out; o++) idx[o] = lis_nearest_src(o, len, out);
        return len;
    }
    for (int o = 0; o < out; o++) idx[o] = o;
    return out;
}

void lis_nearest_concat_ref(const lis_nc_params *p, const float *const *maps, float *y) {
    int out = p->out;
    size_t c0 = 0;
    for (int m = 0; m < p->n_maps; m++) {
        int sz = p->size[m];
        for (int c = 0; c < p->C[m]; c++)
            for (int oy = 0; oy < out; oy++)
                for (int ox = 0; ox < out; ox++) {
                    int iy = p->off[m] + lis_nearest_src(oy, p->len[m], out), ix = p->off[m] + lis_nearest_src(ox, p->len[m], out);
                    y[((c0 + c) * out + oy) * out + ox] = maps[m][((size_t)c * sz + iy) * sz + ix];
                }
        c0 += p->C[m];
    }
}

typedef struct {
    const lis_nc_params *p;
    const float *const *maps;
    float *y;
    int *chan_map; /* channel -> map */
    int *chan_c0;
} concat_job;

static void concat_task(void *ctx, int64_t ch, int tid) {
    const concat_job *j = ctx;
    const lis_nc_params *p = j->p;
    int m = j->chan_map[ch], c = (int)ch - j->chan_c0[m], out = p->out, sz = p->size[m];
    int ix[8192];
    for (int o = 0; o < out; o++) ix[o] = p->off[m] + lis_nearest_src(o, p->len[m], out);
    const float *src = j->maps[m] + (size_t)c * sz * sz;
    float *dst = j->y + (size_t)ch * out * out;
    for (int oy = 0; oy < out; oy++) {
        const float *row = src + (size_t)ix[oy] * sz;
        for (int ox = 0; ox < out; ox++) dst[(size_t)oy * out + ox] = row[ix[ox]];
    }
}

void lis_nearest_concat_cpu(const lis_nc_params *p, const float *const *maps, float *y) {
    int in_ch = 0;
    for (int m = 0; m < p->n_maps; m++) in_ch += p->C[m];
    int *cm = malloc(sizeof(int) * (size_t)in_ch), c0[LIS_NC_MAX_MAPS];
    if (!cm) { lis_nearest_concat_ref(p, maps, y); return; }
    for (int m = 0, c = 0; m < p->n_maps; m++) {
        c0[m] = c;
        for (int k = 0; k < p->C[m]; k++) cm[c++] = m;
    }
    concat_job j = {p, maps, y, cm, c0};
    lis_parallel_for(in_ch, concat_task, &j);
    free(cm);
}

/* ---- reference tap conv and gradient: materialise, then the obvious loops ---- */

lis_status lis_tapconv_ref(const lis_nc_params *p, const float *const *maps, const float *w, const float *bias, float *y) {
    int in_ch;
    LIS_TRY(lis_nc_check(p, &in_ch));
    int out = p->out;
    float *x = lis_malloc(sizeof(float) * (size_t)in_ch * out * out, "concatenated features");
    if (!x) return LIS_ERR;
    lis_nearest_concat_ref(p, maps, x);
    lis_conv2d_params cp = {.N = 1, .C = in_ch, .H = out, .W = out, .K = p->K, .R = 3, .S = 3, .stride_h = 1,
                            .stride_w = 1, .pad_h = p->dil, .pad_w = p->dil, .dil_h = p->dil, .dil_w = p->dil,
                            .act = p->act, .slope = p->slope};
    lis_status s = lis_conv2d_ref(&cp, x, w, bias, NULL, y);
    free(x);
    return s;
}

lis_status lis_tapconv_backward_w_ref(const lis_nc_params *p, const float *const *maps, const float *dy, float *dw) {
    int in_ch;
    LIS_TRY(lis_nc_check(p, &in_ch));
    int out = p->out, d = p->dil;
    float *x = lis_malloc(sizeof(float) * (size_t)in_ch * out * out, "concatenated features");
    if (!x) return LIS_ERR;
    lis_nearest_concat_ref(p, maps, x);
    for (int k = 0; k < p->K; k++)
        for (int c = 0; c < in_ch; c++)
            for (int t = 0; t < 9; t++) {
                int dyy = (t / 3 - 1) * d, dxx = (t % 3 - 1) * d;
                double acc = 0;
                for (int oy = 0; oy < out; oy++) {
                    int iy = oy + dyy;
                    if (iy < 0 || iy >= out) continue;
                    for (int ox = 0; ox < out; ox++) {
                        int ix = ox + dxx;
                        if (ix < 0 || ix >= out) continue;
                        acc += (double)dy[((size_t)k * out + oy) * out + ox] * x[((size_t)c * out + iy) * out + ix];
                    }
                }
                dw[((size_t)k * in_ch + c) * 9 + t] += (float)acc;
            }
    free(x);
    return LIS_OK;
}

/* ---- packed tap path ---- */

static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }

typedef struct {
    size_t off_g, off_z, off_d, off_rows, off_idx, total;
} tc_layout;

static void layout(const lis_nc_params *p, tc_layout *L) {
    size_t g = 0, z = 0, cmax = 0;
    for (int m = 0; m < p->n_maps; m++) {
        size_t gm = (size_t)(p->len[m] <= p->out ? p->len[m] : p->out);
        size_t cg = (size_t)p->C[m] * gm * gm;
        g = cg > g ? cg : g;
        z = gm * gm > z ? gm * gm : z;
        cmax = (size_t)p->C[m] > cmax ? (size_t)p->C[m] : cmax;
    }
    L->off_g = 0;
    L->off_z = align64(g * sizeof(float));
    L->off_d = L->off_z + align64(9 * (size_t)p->K * z * sizeof(float));
    L->off_rows = L->off_d + align64(cmax * 9 * (size_t)p->K * sizeof(float));
    L->off_idx = L->off_rows + align64((z > cmax ? z : cmax) * sizeof(float *));
    L->total = L->off_idx + align64((size_t)(p->out + 1) * sizeof(int));
}

size_t lis_tapconv_workspace_size(const lis_nc_params *p) {
    tc_layout L;
    layout(p, &L);
    return L.total;
}

lis_status lis_tapconv_pack(lis_tapconv_packed *pk, const lis_nc_params *p, const float *w) {
    memset(pk, 0, sizeof *pk);
    int in_ch;
    LIS_TRY(lis_nc_check(p, &in_ch));
    pk->n_maps = p->n_maps;
    pk->K = p->K;
    pk->in_ch = in_ch;
    int cmax = 0;
    for (int m = 0; m < p->n_maps; m++) cmax = p->C[m] > cmax ? p->C[m] : cmax;
    float *A = lis_malloc(sizeof(float) * 9 * (size_t)p->K * cmax, "tapconv weight slice");
    if (!A) return LIS_ERR;
    lis_status s = LIS_OK;
    for (int m = 0, c0 = 0; m < p->n_maps && s == LIS_OK; c0 += p->C[m], m++) {
        int C = p->C[m];
        for (int t = 0; t < 9; t++)
            for (int k = 0; k < p->K; k++)
                for (int c = 0; c < C; c++) A[((size_t)t * p->K + k) * C + c] = w[((size_t)k * in_ch + c0 + c) * 9 + t];
        s = lis_gemm_pack_a(&pk->a[m], 9 * p->K, C, A, C);
    }
    free(A);
    if (s != LIS_OK) lis_tapconv_packed_free(pk);
    return s;
}

void lis_tapconv_packed_free(lis_tapconv_packed *pk) {
    if (!pk) return;
    for (int m = 0; m < pk->n_maps; m++) lis_gemm_apack_free(&pk->a[m]);
    memset(pk, 0, sizeof *pk);
}

/* The grid G of map m: returns a pointer to [C, g, g] (the map itself when it can be read
 * in place, else a copy in ws). */
static const float *grid_of(const lis_nc_params *p, int m, const float *map, float *G, int g) {
    int sz = p->size[m], off = p->off[m], len = p->len[m], C = p->C[m];
    if (off == 0 && len == sz && len <= p->out) return map;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < g; i++) {
            int si = off + (len <= p->out ? i : lis_nearest_src(i, len, p->out));
            const float *row = map + ((size_t)c * sz + si) * sz;
            float *dst = G + ((size_t)c * g + i) * g;
            if (len <= p->out) memcpy(dst, row + off, sizeof(float) * (size_t)g);
            else
                for (int j = 0; j < g; j++) dst[j] = row[off + lis_nearest_src(j, len, p->out)];
        }
    return G;
}

typedef struct {
    const lis_nc_params *p;
    const float *Z;
    const int *idx;
    int g;
    float *y;
    float *P;        /* backward: scatter target [g*g, 9K] */
    const float *dy; /* backward */
} scatter_job;

/* y[k] += sum_t Z[t*K + k][idx(oy+dy)][idx(ox+dx)] */
static void scatter_fwd(void *ctx, int64_t k, int tid) {
    const scatter_job *j = ctx;
    const lis_nc_params *p = j->p;
    int out = p->out, K = p->K, d = p->dil, g = j->g;
    float *yk = j->y + (size_t)k * out * out;
    for (int t = 0; t < 9; t++) {
        int dyy = (t / 3 - 1) * d, dxx = (t % 3 - 1) * d;
        const float *zk = j->Z + ((size_t)t * K + k) * g * g;
        int x0 = dxx < 0 ? -dxx : 0, x1 = dxx > 0 ? out - dxx : out;
        for (int oy = 0; oy < out; oy++) {
            int iy = oy + dyy;
            if (iy < 0 || iy >= out) continue;
            const float *zr = zk + (size_t)j->idx[iy] * g;
            float *yr = yk + (size_t)oy * out;
            const int *ix = j->idx + dxx;
            for (int ox = x0; ox < x1; ox++) yr[ox] += zr[ix[ox]];
        }
    }
}

/* P[(i*g + j)*9K + t*K + k] = sum of dy[k] over the outputs whose tap t reads grid (i, j) */
static void scatter_bwd(void *ctx, int64_t k, int tid) {
    const scatter_job *j = ctx;
    const lis_nc_params *p = j->p;
    int out = p->out, K = p->K, d = p->dil, g = j->g;
    size_t ld = 9 * (size_t)K;
    const float *dk = j->dy + (size_t)k * out * out;
    for (int t = 0; t < 9; t++) {
        int dyy = (t / 3 - 1) * d, dxx = (t % 3 - 1) * d;
        float *pk = j->P + (size_t)t * K + k;
        int x0 = dxx < 0 ? -dxx : 0, x1 = dxx > 0 ? out - dxx : out;
        for (int oy = 0; oy < out; oy++) {
            int iy = oy + dyy;
            if (iy < 0 || iy >= out) continue;
            const float *dr = dk + (size_t)oy * out;
            size_t rowbase = (size_t)j->idx[iy] * g;
            const int *ix = j->idx + dxx;
            for (int ox = x0; ox < x1; ox++) pk[(rowbase + ix[ox]) * ld] += dr[ox];
        }
    }
}

typedef struct {
    float *y;
    const float *bias;
    int n;
    lis_act act;
    float slope;
} epi_job;

static void epi_init(void *ctx, int64_t k, int tid) {
    const epi_job *j = ctx;
    float b = j->bias ? j->bias[k] : 0.0f, *y = j->y + (size_t)k * j->n;
    for (int i = 0; i < j->n; i++) y[i] = b;
}

static void epi_act(void *ctx, int64_t k, int tid) {
    const epi_job *j = ctx;
    float *y = j->y + (size_t)k * j->n;
    if (j->act == LIS_ACT_RELU)
        for (int i = 0; i < j->n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
    else if (j->act == LIS_ACT_LRELU)
        for (int i = 0; i < j->n; i++) y[i] = y[i] >= 0.0f ? y[i] : y[i] * j->slope;
}

void lis_tapconv_begin(const lis_nc_params *p, const float *bias, float *y) {
    epi_job e = {y, bias, p->out * p->out, p->act, p->slope};
    lis_parallel_for(p->K, epi_init, &e);
}

void lis_tapconv_end(const lis_nc_params *p, float *y) {
    epi_job e = {y, NULL, p->out * p->out, p->act, p->slope};
    if (p->act != LIS_ACT_NONE) lis_parallel_for(p->K, epi_act, &e);
}

void lis_tapconv_add_map(const lis_nc_params *p, const lis_tapconv_packed *pk, int m, const float *map, float *y, void *ws) {
    tc_layout L;
    layout(p, &L);
    char *w = ws;
    float *G = (float *)(w + L.off_g), *Z = (float *)(w + L.off_z);
    const float **rows = (const float **)(w + L.off_rows);
    int *idx = (int *)(w + L.off_idx);
    int g = lis_nc_grid(p, m, idx);
    const float *Gm = grid_of(p, m, map, G, g);
    for (int c = 0; c < p->C[m]; c++) rows[c] = Gm + (size_t)c * g * g;
    lis_gemm_packed(&pk->a[m], g * g, rows, Z, g * g, 0); /* Z [9K, g*g] */
    scatter_job sj = {p, Z, idx, g, y, NULL, NULL};
    lis_parallel_for(p->K, scatter_fwd, &sj);
}

void lis_tapconv_cpu_packed(const lis_nc_params *p, const lis_tapconv_packed *pk, const float *const *maps,
                            const float *bias, float *y, void *ws) {
    lis_tapconv_begin(p, bias, y);
    for (int m = 0; m < p->n_maps; m++) lis_tapconv_add_map(p, pk, m, maps[m], y, ws);
    lis_tapconv_end(p, y);
}

int lis_nc_grid_copy(const lis_nc_params *p, int m, const float *map, float *G) {
    int idx[8192];
    int g = lis_nc_grid(p, m, idx);
    const float *src = grid_of(p, m, map, G, g);
    if (src != G) memcpy(G, src, sizeof(float) * (size_t)p->C[m] * g * g);
    return g;
}

lis_status lis_tapconv_cpu(const lis_nc_params *p, const float *const *maps, const float *w, const float *bias, float *y) {
    lis_tapconv_packed pk;
    LIS_TRY(lis_tapconv_pack(&pk, p, w));
    void *ws = lis_alloc_aligned(lis_tapconv_workspace_size(p), "tapconv workspace");
    if (!ws) { lis_tapconv_packed_free(&pk); return LIS_ERR; }
    lis_tapconv_cpu_packed(p, &pk, maps, bias, y, ws);
    free(ws);
    lis_tapconv_packed_free(&pk);
    return LIS_OK;
}

void lis_tapconv_backward_w_cpu(const lis_nc_params *p, const float *const *maps, const float *dy, float *dw, void *ws) {
    tc_layout L;
    layout(p, &L);
    char *w = ws;
    float *G = (float *)(w + L.off_g), *P = (float *)(w + L.off_z), *D = (float *)(w + L.off_d);
    const float **rows = (const float **)(w + L.off_rows);
    int *idx = (int *)(w + L.off_idx);
    int K = p->K, in_ch = 0;
    for (int m = 0; m < p->n_maps; m++) in_ch += p->C[m];
    size_t ld = 9 * (size_t)K;
    for (int m = 0, c0 = 0; m < p->n_maps; c0 += p->C[m], m++) {
        int g = lis_nc_grid(p, m, idx), C = p->C[m];
        const float *Gm = grid_of(p, m, maps[m], G, g);
        memset(P, 0, sizeof(float) * (size_t)g * g * ld);
        scatter_job sj = {p, NULL, idx, g, NULL, P, dy};
        lis_parallel_for(K, scatter_bwd, &sj);
        /* D [C, 9K] = G [C, g*g] x P [g*g, 9K] */
        for (int i = 0; i < g * g; i++) rows[i] = P + (size_t)i * ld;
        lis_gemm_cpu(C, (int)ld, g * g, Gm, g * g, rows, D, (int)ld, 0);
        for (int c = 0; c < C; c++)
            for (int t = 0; t < 9; t++)
                for (int k = 0; k < K; k++) dw[((size_t)k * in_ch + c0 + c) * 9 + t] += D[(size_t)c * ld + (size_t)t * K + k];
    }
}

/* ---- host helpers of the CUDA path (kernels/nearest_concat_cuda.h) ---- */

#include "kernels/nearest_concat_cuda.h"

void lis_tapconv_arrange_weights(const lis_nc_params *p, const float *w, float *A) {
    int in_ch = 0;
    for (int m = 0; m < p->n_maps; m++) in_ch += p->C[m];
    for (int m = 0, c0 = 0; m < p->n_maps; c0 += p->C[m], m++) {
        int C = p->C[m];
        for (int t = 0; t < 9; t++)
            for (int k = 0; k < p->K; k++)
                for (int c = 0; c < C; c++) A[((size_t)t * p->K + k) * C + c] = w[((size_t)k * in_ch + c0 + c) * 9 + t];
        A += (size_t)9 * p->K * C;
    }
}

size_t lis_tapconv_cuda_workspace_floats(const lis_nc_params *p) {
    size_t g = 0, z = 0;
    for (int m = 0; m < p->n_maps; m++) {
        size_t gm = (size_t)(p->len[m] <= p->out ? p->len[m] : p->out);
        g = (size_t)p->C[m] * gm * gm > g ? (size_t)p->C[m] * gm * gm : g;
        z = gm * gm > z ? gm * gm : z;
    }
    return g + 9 * (size_t)p->K * z;
}
