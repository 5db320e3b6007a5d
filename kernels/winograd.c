/* winograd.c — see winograd.h.
 *
 * Work split: the output tiles of each image are cut into blocks of tb tiles (TB_MIN..TB_MAX,
 * smaller when that gives the threads enough tasks) and the output channels into chunks of
 * CHUNK_ROWS. A task transforms one block's input (all channels) into V [16][C][tb], then for
 * each chunk runs the 16 GEMMs into M [16][rows][tb] and transforms M back into the output.
 * Only when the blocks alone leave threads idle (few tiles: 7x7 maps at batch 1) is a task one
 * (block, chunk) pair, repeating the input transform per chunk (~1/rows of the GEMM work).
 * The transforms run 8 tiles at a time with AVX2 where the 8 patches lie inside the image,
 * tile by tile at the borders.
 *
 * Per-thread workspace (64-byte aligned): V, M, and the 16 x C row pointers of the GEMMs.
 */
#include "kernels/winograd.h"
#include "kernels/winograd_transform.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

#define CHUNK_ROWS 256
#define TB_MAX 192 /* tiles per block: one B block of gemm.c */
#define TB_MIN 32

static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }

int lis_wino_applies(const lis_conv2d_params *p) {
    return p->R == 3 && p->S == 3 && p->stride_h == 1 && p->stride_w == 1 && p->dil_h == 1 && p->dil_w == 1 &&
           p->pad_h >= 0 && p->pad_w >= 0 && p->H + 2 * p->pad_h >= 3 && p->W + 2 * p->pad_w >= 3;
}

int lis_wino_wanted(int C) {
    const char *e = getenv("LIS_WINOGRAD");
    return C >= LIS_WINO_MIN_C && !(e && !strcmp(e, "0"));
}

/* ---------------------------------------------------------------- weights */

lis_status lis_wino_pack(lis_wino_packed *pk, int K, int C, const float *w) {
    const char *e = getenv("LIS_WINOGRAD_TILE");
    return lis_wino_pack_tile(pk, K, C, w, e && !strcmp(e, "4") ? 4 : 2);
}

lis_status lis_wino_pack_tile(lis_wino_packed *pk, int K, int C, const float *w, int mt) {
    memset(pk, 0, sizeof *pk);
    if (K < 1 || C < 1) return lis_err_set("winograd: K %d and C %d must be positive", K, C);
    if (mt != 2 && mt != 4) return lis_err_set("winograd: output tiles of %dx%d (2 or 4 supported)", mt, mt);
    pk->K = K;
    pk->C = C;
    pk->mt = mt;
    pk->nx = (mt + 2) * (mt + 2);
    const int nx = pk->nx;
    pk->chunk_rows = K < CHUNK_ROWS ? K : CHUNK_ROWS;
    pk->nchunk = (K + pk->chunk_rows - 1) / pk->chunk_rows;
    pk->u = calloc((size_t)pk->nchunk * nx, sizeof *pk->u);
    float *U = lis_malloc(sizeof(float) * nx * (size_t)K * C, "winograd weights");
    if (!pk->u || !U) { free(U); lis_wino_packed_free(pk); return lis_err_set("out of memory (winograd weights)"); }
    /* U[xi][k][c] */
    for (int k = 0; k < K; k++)
        for (int c = 0; c < C; c++) {
            float u[36];
            if (mt == 2) lis_wino_weight_transform(w + ((size_t)k * C + c) * 9, u);
            else lis_wino4_weight_transform(w + ((size_t)k * C + c) * 9, u);
            for (int xi = 0; xi < nx; xi++) U[((size_t)xi * K + k) * C + c] = u[xi];
        }
    lis_status s = LIS_OK;
    for (int ci = 0; ci < pk->nchunk && s == LIS_OK; ci++) {
        const int k0 = ci * pk->chunk_rows, rows = K - k0 < pk->chunk_rows ? K - k0 : pk->chunk_rows;
        for (int xi = 0; xi < nx && s == LIS_OK; xi++)
            s = lis_gemm_pack_a(&pk->u[ci * nx + xi], rows, C, U + ((size_t)xi * K + k0) * C, C);
    }
    free(U);
    if (s != LIS_OK) lis_wino_packed_free(pk);
    return s;
}

void lis_wino_packed_free(lis_wino_packed *pk) {
    if (!pk) return;
    for (int i = 0; pk->u && i < pk->nchunk * pk->nx; i++) lis_gemm_apack_free(&pk->u[i]);
    free(pk->u);
    memset(pk, 0, sizeof *pk);
}

/* ---------------------------------------------------------------- geometry */

typedef struct {
    int Ho, Wo, th, tw;  /* output size, tiles down and across */
    int64_t T;           /* tiles */
    int tb, nblock;      /* tiles per block, blocks */
    int split;           /* 1: a task is (block, chunk); 0: a block with all chunks (one input transform) */
    size_t off_m, off_rows, per_thread;
} wino_geom;

static void geom_init(wino_geom *g, const lis_wino_packed *pk, int N, int H, int W, int pad_h, int pad_w) {
    memset(g, 0, sizeof *g);
    g->Ho = H + 2 * pad_h - 2;
    g->Wo = W + 2 * pad_w - 2;
    g->th = (g->Ho + pk->mt - 1) / pk->mt;
    g->tw = (g->Wo + pk->mt - 1) / pk->mt;
    g->T = (int64_t)g->th * g->tw;
    /* blocks of up to TB_MAX tiles (a multiple of the micro-kernel's 16 columns), smaller
     * when that leaves the threads without enough tasks */
    const int64_t want = 4 * (int64_t)lis_threads_count();
    int tb = TB_MAX;
    while (tb > TB_MIN && ((g->T + tb - 1) / tb) * N < want) tb -= 16;
    if (g->T < tb) tb = (int)((g->T + 15) / 16 * 16);
    g->tb = tb;
    g->nblock = (int)((g->T + tb - 1) / tb);
    /* splitting the channels repeats the input transform per chunk: only when the blocks
     * alone leave threads idle (few tiles: small maps at batch 1) */
    g->split = pk->nchunk > 1 && (int64_t)g->nblock * N < want;
    const size_t v = align64(sizeof(float) * pk->nx * (size_t)pk->C * tb);
    const size_t m = align64(sizeof(float) * pk->nx * (size_t)pk->chunk_rows * tb);
    g->off_m = v;
    g->off_rows = v + m;
    g->per_thread = v + m + align64(sizeof(float *) * (size_t)pk->C);
}

size_t lis_wino_workspace_size(const lis_wino_packed *pk, int N, int H, int W, int pad_h, int pad_w) {
    wino_geom g;
    geom_init(&g, pk, N, H, W, pad_h, pad_w);
    return g.per_thread * (size_t)lis_threads_count() + 64;
}

/* ---------------------------------------------------------------- the tasks */

typedef struct {
    const lis_wino_packed *pk;
    const lis_wino_io *io;
    const wino_geom *g;
    char *ws;
} wino_job;

/* 8 tiles side by side in one tile row, all inside the image: their 4x4 patches start
 * 2 columns apart, so a row of the 8 patches is two unaligned 16-float loads (at x0 and
 * x0 + 2) split into even and odd lanes: s = 0, 1 from the first, s = 2, 3 from the second. */
static inline void deinterleave(const float *p, __m256 *even, __m256 *odd) {
    const __m256 lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
}

static void input_transform8(const float *xrow, int W, float *v, size_t xs) {
    __m256 d[4][4];
    for (int r = 0; r < 4; r++) {
        deinterleave(xrow + (size_t)r * W, &d[r][0], &d[r][1]);
        deinterleave(xrow + (size_t)r * W + 2, &d[r][2], &d[r][3]);
    }
    __m256 e[4][4];
    for (int q = 0; q < 4; q++) {
        e[0][q] = _mm256_sub_ps(d[0][q], d[2][q]);
        e[1][q] = _mm256_add_ps(d[1][q], d[2][q]);
        e[2][q] = _mm256_sub_ps(d[2][q], d[1][q]);
        e[3][q] = _mm256_sub_ps(d[1][q], d[3][q]);
    }
    for (int r = 0; r < 4; r++) {
        float *o = v + (size_t)(4 * r) * xs;
        _mm256_storeu_ps(o, _mm256_sub_ps(e[r][0], e[r][2]));
        _mm256_storeu_ps(o + xs, _mm256_add_ps(e[r][1], e[r][2]));
        _mm256_storeu_ps(o + 2 * xs, _mm256_sub_ps(e[r][2], e[r][1]));
        _mm256_storeu_ps(o + 3 * xs, _mm256_sub_ps(e[r][1], e[r][3]));
    }
}

/* F(4x4, 3x3), 8 tiles at a time (one per lane of an AVX2 vector: the transform's arithmetic
 * and the 36 stores are vector operations; the patches are gathered element by element). */
static void patch6(const float *xc, int H, int W, int y0, int x0, float d[6][6]) {
    if (y0 >= 0 && x0 >= 0 && y0 + 6 <= H && x0 + 6 <= W) {
        for (int r = 0; r < 6; r++)
            for (int s = 0; s < 6; s++) d[r][s] = xc[(size_t)(y0 + r) * W + x0 + s];
        return;
    }
    for (int r = 0; r < 6; r++)
        for (int s = 0; s < 6; s++) {
            const int yy = y0 + r, xx = x0 + s;
            d[r][s] = yy >= 0 && yy < H && xx >= 0 && xx < W ? xc[(size_t)yy * W + xx] : 0.0f;
        }
}

static void input8_f4(const __m256 d[6][6], __m256 v[36]) LIS_WINO4_INPUT_BODY(__m256, d, v)
static void output8_f4(const __m256 m[36], __m256 o[4][4]) LIS_WINO4_OUTPUT_BODY(__m256, m, o)

/* F(4x4, 3x3): V[xi][c][t] from the zero-padded 6x6 patch of each tile */
static void input_transform4(const wino_job *j, const float *x, int64_t t0, int nt, float *V) {
    const lis_wino_io *io = j->io;
    const int C = j->pk->C, tb = j->g->tb, H = io->H, W = io->W;
    const size_t xs = (size_t)C * tb;
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * H * W;
        float *vc = V + (size_t)c * tb;
        int t = 0;
        for (; t + 8 <= nt; t += 8) {
            float lanes[6][6][8] __attribute__((aligned(32))), one[6][6];
            for (int l = 0; l < 8; l++) {
                const int64_t tile = t0 + t + l;
                patch6(xc, H, W, (int)(tile / j->g->tw) * 4 - io->pad_h, (int)(tile % j->g->tw) * 4 - io->pad_w, one);
                for (int r = 0; r < 6; r++)
                    for (int s = 0; s < 6; s++) lanes[r][s][l] = one[r][s];
            }
            __m256 d[6][6], v[36];
            for (int r = 0; r < 6; r++)
                for (int s = 0; s < 6; s++) d[r][s] = _mm256_load_ps(lanes[r][s]);
            input8_f4(d, v);
            for (int xi = 0; xi < 36; xi++) _mm256_storeu_ps(vc + t + xi * xs, v[xi]);
        }
        for (; t < nt; t++) {
            const int64_t tile = t0 + t;
            float d[6][6], v[36];
            patch6(xc, H, W, (int)(tile / j->g->tw) * 4 - io->pad_h, (int)(tile % j->g->tw) * 4 - io->pad_w, d);
            lis_wino4_input_transform(d, v);
            for (int xi = 0; xi < 36; xi++) vc[t + xi * xs] = v[xi];
        }
    }
}

/* V[xi][c][t] = (B^T d B)[xi] of tile t0 + t, channel c; d read with zero padding */
static void input_transform(const wino_job *j, const float *x, int64_t t0, int nt, float *V) {
    if (j->pk->mt == 4) {
        input_transform4(j, x, t0, nt, V);
        return;
    }
    const lis_wino_io *io = j->io;
    const int C = j->pk->C, tb = j->g->tb, H = io->H, W = io->W;
    const size_t xs = (size_t)C * tb; /* stride between positions xi */
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * H * W;
        float *vc = V + (size_t)c * tb;
        for (int t = 0; t < nt; t++) {
            const int64_t tile = t0 + t;
            const int ty = (int)(tile / j->g->tw), tx = (int)(tile % j->g->tw);
            const int y0 = ty * 2 - io->pad_h, x0 = tx * 2 - io->pad_w;
            if (t + 8 <= nt && tx + 8 <= j->g->tw && y0 >= 0 && y0 + 4 <= H && x0 >= 0 && x0 + 18 <= W) {
                input_transform8(xc + (size_t)y0 * W + x0, W, vc + t, xs);
                t += 7;
                continue;
            }
            float d[4][4];
            if (y0 >= 0 && x0 >= 0 && y0 + 4 <= H && x0 + 4 <= W) {
                for (int r = 0; r < 4; r++)
                    for (int s = 0; s < 4; s++) d[r][s] = xc[(size_t)(y0 + r) * W + x0 + s];
            } else {
                for (int r = 0; r < 4; r++)
                    for (int s = 0; s < 4; s++) {
                        const int yy = y0 + r, xx = x0 + s;
                        d[r][s] = yy >= 0 && yy < H && xx >= 0 && xx < W ? xc[(size_t)yy * W + xx] : 0.0f;
                    }
            }
            float v[16];
            lis_wino_input_transform((const float(*)[4])d, v);
            for (int xi = 0; xi < 16; xi++) vc[t + (size_t)xi * xs] = v[xi];
        }
    }
}

static inline float act_of(float v, lis_act act, float slope) {
    if (act == LIS_ACT_RELU) return v > 0.0f ? v : 0.0f;
    if (act == LIS_ACT_LRELU) return v >= 0.0f ? v : v * slope;
    return v;
}

static inline __m256 act8(__m256 v, lis_act act, float slope) {
    if (act == LIS_ACT_RELU) return _mm256_max_ps(v, _mm256_setzero_ps());
    if (act == LIS_ACT_LRELU) {
        const __m256 neg = _mm256_mul_ps(v, _mm256_set1_ps(slope));
        return _mm256_blendv_ps(neg, v, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ));
    }
    return v;
}

/* 8 tiles side by side, all inside the output: their 2x2 results are 16 consecutive
 * floats of two output rows (even lanes from column 0 of the tiles, odd from column 1). */
static void output_transform8(const float *m, size_t ms, float b, float *y, const float *res, int64_t ldy, lis_act act,
                              float slope) {
    __m256 a[4][4];
    for (int xi = 0; xi < 16; xi++) a[xi >> 2][xi & 3] = _mm256_loadu_ps(m + xi * ms);
    __m256 sr[2][4];
    for (int q = 0; q < 4; q++) {
        sr[0][q] = _mm256_add_ps(_mm256_add_ps(a[0][q], a[1][q]), a[2][q]);
        sr[1][q] = _mm256_sub_ps(_mm256_sub_ps(a[1][q], a[2][q]), a[3][q]);
    }
    const __m256 bv = _mm256_set1_ps(b);
    for (int r = 0; r < 2; r++) {
        const __m256 c0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(sr[r][0], sr[r][1]), sr[r][2]), bv);
        const __m256 c1 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(sr[r][1], sr[r][2]), sr[r][3]), bv);
        /* interleave: tiles 0-3 then 4-7, each as (c0, c1) pairs */
        const __m256 lo = _mm256_unpacklo_ps(c0, c1), hi = _mm256_unpackhi_ps(c0, c1);
        __m256 v0 = _mm256_permute2f128_ps(lo, hi, 0x20), v1 = _mm256_permute2f128_ps(lo, hi, 0x31);
        float *yr = y + r * ldy;
        if (res) {
            v0 = _mm256_add_ps(v0, _mm256_loadu_ps(res + r * ldy));
            v1 = _mm256_add_ps(v1, _mm256_loadu_ps(res + r * ldy + 8));
        }
        _mm256_storeu_ps(yr, act8(v0, act, slope));
        _mm256_storeu_ps(yr + 8, act8(v1, act, slope));
    }
}

/* The mt x mt outputs o (row-major) of one tile of output channel plane yk (residual plane rk
 * or NULL): bias, residual, activation, clipped at the output's edges. */
static void store_tile(const wino_job *j, int64_t tile, int mt, const float *o, float b, float *yk, const float *rk) {
    const lis_wino_io *io = j->io;
    const wino_geom *g = j->g;
    const int oy = (int)(tile / g->tw) * mt, ox = (int)(tile % g->tw) * mt;
    for (int r = 0; r < mt && oy + r < g->Ho; r++)
        for (int q = 0; q < mt && ox + q < g->Wo; q++) {
            const size_t at = (size_t)(oy + r) * io->ldy + ox + q;
            float v = o[r * mt + q] + b;
            if (rk) v += rk[at];
            yk[at] = act_of(v, io->act, io->slope);
        }
}

/* F(4x4, 3x3): Y = A^T m A (8 tiles at a time as vectors), then the epilogue tile by tile */
static void output_transform4(const wino_job *j, int n, int64_t t0, int nt, int k0, int rows, const float *M) {
    const lis_wino_io *io = j->io;
    const wino_geom *g = j->g;
    const size_t ms = (size_t)rows * g->tb;
    float o8[4][4][8] __attribute__((aligned(32)));
    for (int m = 0; m < rows; m++) {
        const int k = k0 + m;
        const float b = io->bias ? io->bias[k] : 0.0f;
        float *yk = io->y + n * io->ystride + (size_t)k * io->ldp;
        const float *rk = io->res ? io->res + n * io->ystride + (size_t)k * io->ldp : NULL;
        const float *mk = M + (size_t)m * g->tb;
        for (int t = 0; t < nt; t++) {
            float a[36], o[4][4];
            if (t % 8 == 0 && t + 8 <= nt) { /* 8 tiles' transforms as vectors, then tile by tile */
                __m256 va[36], vo[4][4];
                for (int xi = 0; xi < 36; xi++) va[xi] = _mm256_loadu_ps(mk + t + xi * ms);
                output8_f4(va, vo);
                for (int r = 0; r < 4; r++)
                    for (int q = 0; q < 4; q++) _mm256_store_ps(o8[r][q], vo[r][q]);
            }
            if (t + 8 - t % 8 <= nt) {
                for (int r = 0; r < 4; r++)
                    for (int q = 0; q < 4; q++) o[r][q] = o8[r][q][t % 8];
            } else {
                for (int xi = 0; xi < 36; xi++) a[xi] = mk[t + xi * ms];
                lis_wino4_output_transform(a, o);
            }
            store_tile(j, t0 + t, 4, &o[0][0], b, yk, rk);
        }
    }
}

/* Y = A^T m A, A^T = [1 1 1 0; 0 1 -1 -1], for rows k0.. of the chunk, then the epilogue */
static void output_transform(const wino_job *j, int n, int64_t t0, int nt, int k0, int rows, const float *M) {
    if (j->pk->mt == 4) {
        output_transform4(j, n, t0, nt, k0, rows, M);
        return;
    }
    const lis_wino_io *io = j->io;
    const wino_geom *g = j->g;
    const int tb = g->tb;
    const size_t ms = (size_t)rows * tb;
    for (int m = 0; m < rows; m++) {
        const int k = k0 + m;
        const float b = io->bias ? io->bias[k] : 0.0f;
        float *yk = io->y + n * io->ystride + (size_t)k * io->ldp;
        const float *rk = io->res ? io->res + n * io->ystride + (size_t)k * io->ldp : NULL;
        const float *mk = M + (size_t)m * tb;
        for (int t = 0; t < nt; t++) {
            {
                const int64_t tile = t0 + t;
                const int tx = (int)(tile % g->tw), oy = (int)(tile / g->tw) * 2, ox = tx * 2;
                if (t + 8 <= nt && tx + 8 <= g->tw && ox + 16 <= g->Wo && oy + 2 <= g->Ho) {
                    const size_t at = (size_t)oy * io->ldy + ox;
                    output_transform8(mk + t, ms, b, yk + at, rk ? rk + at : NULL, io->ldy, io->act, io->slope);
                    t += 7;
                    continue;
                }
            }
            float a[16], o[2][2];
            for (int xi = 0; xi < 16; xi++) a[xi] = mk[t + xi * ms];
            lis_wino_output_transform(a, o);
            store_tile(j, t0 + t, 2, &o[0][0], b, yk, rk);
        }
    }
}

/* the 16 (36) GEMMs of chunk ci and the output transform, V already holding the block */
static void chunk_gemms(const wino_job *j, int n, int64_t t0, int nt, int ci, const float *V, float *M, const float **rows) {
    const lis_wino_packed *pk = j->pk;
    const wino_geom *g = j->g;
    const int k0 = ci * pk->chunk_rows, nr = pk->u[ci * pk->nx].M;
    for (int xi = 0; xi < pk->nx; xi++) {
        for (int c = 0; c < pk->C; c++) rows[c] = V + ((size_t)xi * pk->C + c) * g->tb;
        /* nested inside lis_parallel_for: the GEMM runs on this thread only */
        lis_gemm_packed(&pk->u[ci * pk->nx + xi], nt, rows, M + (size_t)xi * nr * g->tb, g->tb, 0);
    }
    output_transform(j, n, t0, nt, k0, nr, M);
}

static void wino_task(void *ctx, int64_t task, int tid) {
    const wino_job *j = ctx;
    const lis_wino_packed *pk = j->pk;
    const wino_geom *g = j->g;
    const int per = g->split ? pk->nchunk : 1; /* tasks per block */
    const int blk = (int)(task / per % g->nblock), n = (int)(task / per / g->nblock);
    const int64_t t0 = (int64_t)blk * g->tb;
    const int nt = (int)(g->T - t0 < g->tb ? g->T - t0 : g->tb);
    char *mine = j->ws + (size_t)tid * g->per_thread;
    float *V = (float *)mine, *M = (float *)(mine + g->off_m);
    const float **rows = (const float **)(mine + g->off_rows);
    input_transform(j, j->io->x + n * j->io->xstride, t0, nt, V);
    if (g->split) {
        chunk_gemms(j, n, t0, nt, (int)(task % pk->nchunk), V, M, rows);
        return;
    }
    for (int ci = 0; ci < pk->nchunk; ci++) chunk_gemms(j, n, t0, nt, ci, V, M, rows);
}

void lis_wino_conv(const lis_wino_packed *pk, const lis_wino_io *io, void *ws) {
    wino_geom g;
    geom_init(&g, pk, io->N, io->H, io->W, io->pad_h, io->pad_w);
    if (g.T <= 0 || io->N <= 0) return;
    char *base = (char *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    wino_job j = {pk, io, &g, base};
    lis_parallel_for((int64_t)io->N * g.nblock * (g.split ? pk->nchunk : 1), wino_task, &j);
}

lis_status lis_wino_conv2d_cpu(const lis_conv2d_params *p, const float *x, const float *w, const float *bias,
                               const float *res, float *y) {
    LIS_TRY(lis_conv2d_check(p));
    if (!lis_wino_applies(p)) return lis_err_set("winograd: needs a 3x3 stride-1 undilated convolution");
    lis_wino_packed pk;
    LIS_TRY(lis_wino_pack(&pk, p->K, p->C, w));
    void *ws = lis_alloc_aligned(lis_wino_workspace_size(&pk, p->N, p->H, p->W, p->pad_h, p->pad_w),
                                 "winograd workspace");
    if (!ws) { lis_wino_packed_free(&pk); return LIS_ERR; }
    const int Ho = p->H + 2 * p->pad_h - 2, Wo = p->W + 2 * p->pad_w - 2;
    lis_wino_io io = {p->N, p->H, p->W, p->pad_h, p->pad_w, x, (int64_t)p->C * p->H * p->W, y,
                      (int64_t)p->K * Ho * Wo, Wo, (int64_t)Ho * Wo, bias, res, p->act, p->slope};
    lis_wino_conv(&pk, &io, ws);
    free(ws);
    lis_wino_packed_free(&pk);
    return LIS_OK;
}
