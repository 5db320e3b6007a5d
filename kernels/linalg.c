/* linalg.c — float64 Gram products, Cholesky and symmetric eigendecomposition (see linalg.h).
 *
 * Numerics: everything is float64. The eigensolver follows LAPACK dsytd2 (Householder
 * vectors with v[0] = 1, beta = -sign(alpha) * ||x||) and EISPACK tql2 (implicit QL, Wilkinson
 * shift, deflation when |e_m| <= eps (|d_m| + |d_m+1|)); its backward error is O(n eps ||A||),
 * so eigenvalues below that are noise — callers truncate accordingly.
 */
#include "kernels/linalg.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define LIS_LINALG_AVX2 1
#endif

/* ---------------------------------------------------------------- small vector helpers */

static double dot(const double *a, const double *b, int n) {
    int j = 0;
#ifdef LIS_LINALG_AVX2
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (; j + 8 <= n; j += 8) {
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + j), _mm256_loadu_pd(b + j), s0);
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + j + 4), _mm256_loadu_pd(b + j + 4), s1);
    }
    double t[4];
    _mm256_storeu_pd(t, _mm256_add_pd(s0, s1));
    double s = (t[0] + t[1]) + (t[2] + t[3]);
#else
    double s = 0;
#endif
    for (; j < n; j++) s += a[j] * b[j];
    return s;
}

/* ---------------------------------------------------------------- Gram products */

void lis_gram_centered_ref(int64_t n, int p, int q, const float *X, int64_t ldx, const double *xm, const float *Y,
                           int64_t ldy, const double *ym, double *G, double *C) {
    memset(G, 0, sizeof(double) * (size_t)p * (size_t)p);
    if (q > 0) memset(C, 0, sizeof(double) * (size_t)p * (size_t)q);
    for (int64_t r = 0; r < n; r++) {
        const float *x = X + r * ldx;
        for (int i = 0; i < p; i++) {
            double xi = (double)x[i] - xm[i];
            for (int j = 0; j < p; j++) G[(size_t)i * p + j] += xi * ((double)x[j] - xm[j]);
            for (int j = 0; j < q; j++) C[(size_t)i * q + j] += xi * ((double)Y[r * ldy + j] - ym[j]);
        }
    }
}

#define GR_MR 6   /* micro-tile rows (features of G/C rows) */
#define GR_NR 8   /* micro-tile columns (features, then targets) */
#define GR_KC 256 /* data rows per packed block */
#define GR_AG 8   /* A panels per task */
#define GR_BC 16  /* B panels per task (16 x 8 columns x 256 rows x 8 B = 256 KiB, L2) */

/* t[r * ldt + c] = sum_k a[k][r] b[k][c] for the 6 x 8 micro-tile */
static void gram_ukernel(int kc, const double *a, const double *b, double *t, int ldt) {
#ifdef LIS_LINALG_AVX2
    __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256d c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int k = 0; k < kc; k++) {
        __m256d b0 = _mm256_load_pd(b + 8 * k), b1 = _mm256_load_pd(b + 8 * k + 4), x;
        x = _mm256_broadcast_sd(a + 6 * k + 0); c00 = _mm256_fmadd_pd(x, b0, c00); c01 = _mm256_fmadd_pd(x, b1, c01);
        x = _mm256_broadcast_sd(a + 6 * k + 1); c10 = _mm256_fmadd_pd(x, b0, c10); c11 = _mm256_fmadd_pd(x, b1, c11);
        x = _mm256_broadcast_sd(a + 6 * k + 2); c20 = _mm256_fmadd_pd(x, b0, c20); c21 = _mm256_fmadd_pd(x, b1, c21);
        x = _mm256_broadcast_sd(a + 6 * k + 3); c30 = _mm256_fmadd_pd(x, b0, c30); c31 = _mm256_fmadd_pd(x, b1, c31);
        x = _mm256_broadcast_sd(a + 6 * k + 4); c40 = _mm256_fmadd_pd(x, b0, c40); c41 = _mm256_fmadd_pd(x, b1, c41);
        x = _mm256_broadcast_sd(a + 6 * k + 5); c50 = _mm256_fmadd_pd(x, b0, c50); c51 = _mm256_fmadd_pd(x, b1, c51);
    }
    _mm256_storeu_pd(t + 0 * ldt, c00); _mm256_storeu_pd(t + 0 * ldt + 4, c01);
    _mm256_storeu_pd(t + 1 * ldt, c10); _mm256_storeu_pd(t + 1 * ldt + 4, c11);
    _mm256_storeu_pd(t + 2 * ldt, c20); _mm256_storeu_pd(t + 2 * ldt + 4, c21);
    _mm256_storeu_pd(t + 3 * ldt, c30); _mm256_storeu_pd(t + 3 * ldt + 4, c31);
    _mm256_storeu_pd(t + 4 * ldt, c40); _mm256_storeu_pd(t + 4 * ldt + 4, c41);
    _mm256_storeu_pd(t + 5 * ldt, c50); _mm256_storeu_pd(t + 5 * ldt + 4, c51);
#else
    for (int r = 0; r < GR_MR; r++)
        for (int c = 0; c < GR_NR; c++) {
            double v = 0;
            for (int k = 0; k < kc; k++) v += a[GR_MR * k + r] * b[GR_NR * k + c];
            t[r * ldt + c] = v;
        }
#endif
}

typedef struct {
    int p, q;
    const float *X, *Y;
    int64_t ldx, ldy;
    const double *xm, *ym;
    int64_t r0;     /* first data row of the block */
    int kc;         /* rows in the block */
    int npa, npb;   /* panels: ceil(p/6), ceil((p+q)/8) */
    int nag, nbc;   /* task grid: A groups x B chunks */
    double *Ap;     /* [npa][kc][6] centred X columns */
    double *Bp;     /* [npb][kc][8] centred X columns, then Y columns */
    double *tmp;    /* [nthreads][p+q] one centred row */
    double *G, *C;
} gram_ctx;

static void gram_pack_task(void *vc, int64_t t, int tid) {
    gram_ctx *g = vc;
    int p = g->p, q = g->q, kc = g->kc;
    double *row = g->tmp + (size_t)tid * (size_t)(p + q);
    for (int k = (int)t * 8; k < kc && k < (int)t * 8 + 8; k++) {
        const float *x = g->X + (g->r0 + k) * g->ldx;
        for (int j = 0; j < p; j++) row[j] = (double)x[j] - g->xm[j];
        if (q > 0) {
            const float *y = g->Y + (g->r0 + k) * g->ldy;
            for (int j = 0; j < q; j++) row[p + j] = (double)y[j] - g->ym[j];
        }
        for (int P = 0; P < g->npa; P++) {
            double *dst = g->Ap + ((size_t)P * kc + k) * GR_MR;
            for (int r = 0; r < GR_MR; r++) dst[r] = P * GR_MR + r < p ? row[P * GR_MR + r] : 0.0;
        }
        for (int Q = 0; Q < g->npb; Q++) {
            double *dst = g->Bp + ((size_t)Q * kc + k) * GR_NR;
            for (int c = 0; c < GR_NR; c++) dst[c] = Q * GR_NR + c < p + q ? row[Q * GR_NR + c] : 0.0;
        }
    }
}

/* One task: A panels of group ag x B panels of chunk bc. Micro-tiles land in a local
 * 48 x 128 buffer that is then added to G/C row by row: contiguous 1 KiB runs instead of
 * scattered 64 B pieces of a matrix far larger than the caches. */
static void gram_tile_task(void *vc, int64_t t, int tid) {
    gram_ctx *g = vc;
    int ag = (int)(t / g->nbc), bc = (int)(t % g->nbc);
    int p = g->p, q = g->q, kc = g->kc, m = p + q;
    enum { LDT = GR_BC * GR_NR };
    double tile[GR_AG * GR_MR * LDT];
    int i0 = ag * GR_AG * GR_MR, j0 = bc * GR_BC * GR_NR;
    if (j0 + LDT - 1 < i0) return; /* the whole block lies below the diagonal of G */
    for (int P = ag * GR_AG; P < g->npa && P < (ag + 1) * GR_AG; P++) {
        const double *a = g->Ap + (size_t)P * kc * GR_MR;
        for (int Q = bc * GR_BC; Q < g->npb && Q < (bc + 1) * GR_BC; Q++) {
            if (Q * GR_NR + GR_NR - 1 < P * GR_MR) continue; /* below the diagonal: not needed */
            gram_ukernel(kc, a, g->Bp + (size_t)Q * kc * GR_NR, tile + (P * GR_MR - i0) * LDT + (Q * GR_NR - j0), LDT);
        }
    }
    /* merge: G gets j >= i only (upper triangle, mirrored at the end); every such entry of
     * the buffer was computed (a skipped micro-tile has all its j < i) */
    for (int r = 0; r < GR_AG * GR_MR && i0 + r < p; r++) {
        int i = i0 + r, jend = j0 + LDT < m ? j0 + LDT : m;
        const double *tr = tile + r * LDT - j0;
        int jg0 = j0 > i ? j0 : i, jg1 = jend < p ? jend : p;
        double *Gi = g->G + (size_t)i * p;
        for (int j = jg0; j < jg1; j++) Gi[j] += tr[j];
        double *Ci = g->C + (size_t)i * q - p;
        for (int j = j0 > p ? j0 : p; j < jend; j++) Ci[j] += tr[j];
    }
}

lis_status lis_gram_centered_cpu(int64_t n, int p, int q, const float *X, int64_t ldx, const double *xm,
                                 const float *Y, int64_t ldy, const double *ym, double *G, double *C) {
    gram_ctx g = {.p = p, .q = q, .X = X, .Y = Y, .ldx = ldx, .ldy = ldy, .xm = xm, .ym = ym, .G = G, .C = C};
    g.npa = (p + GR_MR - 1) / GR_MR;
    g.npb = (p + q + GR_NR - 1) / GR_NR;
    g.nag = (g.npa + GR_AG - 1) / GR_AG;
    g.nbc = (g.npb + GR_BC - 1) / GR_BC;
    memset(G, 0, sizeof(double) * (size_t)p * (size_t)p);
    if (q > 0) memset(C, 0, sizeof(double) * (size_t)p * (size_t)q);
    if (p == 0 || n == 0) return LIS_OK;
    int nt = lis_threads_count();
    g.Ap = lis_alloc_aligned(sizeof(double) * (size_t)g.npa * GR_KC * GR_MR, "gram: packed X");
    g.Bp = lis_alloc_aligned(sizeof(double) * (size_t)g.npb * GR_KC * GR_NR, "gram: packed X|Y");
    g.tmp = lis_malloc(sizeof(double) * (size_t)nt * (size_t)(p + q), "gram: row buffer");
    if (!g.Ap || !g.Bp || !g.tmp) {
        free(g.Ap); free(g.Bp); free(g.tmp);
        return LIS_ERR;
    }
    for (int64_t r0 = 0; r0 < n; r0 += GR_KC) {
        g.r0 = r0;
        g.kc = (int)(n - r0 < GR_KC ? n - r0 : GR_KC);
        lis_parallel_for((g.kc + 7) / 8, gram_pack_task, &g);
        lis_parallel_for((int64_t)g.nag * g.nbc, gram_tile_task, &g);
    }
    for (int i = 0; i < p; i++)
        for (int j = 0; j < i; j++) G[(size_t)i * p + j] = G[(size_t)j * p + i];
    free(g.Ap); free(g.Bp); free(g.tmp);
    return LIS_OK;
}

/* ---------------------------------------------------------------- column panels
 * Row operations on a block of right-hand sides C [n, k] (row stride ldc) run on copies of
 * PW columns at a time, packed contiguously ([n][PW], zero-padded): with the matrix's own
 * stride (4 KiB for k = 512) the rows of a column slice would all fall into a few cache sets. */
#define PW 32
_Static_assert(PW % 16 == 0, "the AVX2 sweeps work on 16-column halves");

static void panel_load(const double *C, int64_t ldc, int n, int c0, int w, double *buf) {
    for (int i = 0; i < n; i++) {
        const double *src = C + i * ldc + c0;
        double *dst = buf + (size_t)i * PW;
        for (int c = 0; c < w; c++) dst[c] = src[c];
        for (int c = w; c < PW; c++) dst[c] = 0;
    }
}

static void panel_store(double *C, int64_t ldc, int n, int c0, int w, const double *buf) {
    for (int i = 0; i < n; i++) memcpy(C + i * ldc + c0, buf + (size_t)i * PW, sizeof(double) * (size_t)w);
}

/* y[0..PW) += a x[0..PW) */
static inline void panel_axpy(double a, const double *restrict x, double *restrict y) {
    for (int c = 0; c < PW; c++) y[c] += a * x[c];
}

/* ---------------------------------------------------------------- Cholesky */

/* Row-oriented (Cholesky-Crout) factorisation in block columns of CH_NB: the rows of the
 * diagonal block first (serially), then every row below it, each independent of the others,
 * in parallel. Entry (i, j) is always (A_ij - L_i[0..j) . L_j[0..j)) / L_jj, in the same
 * order as the plain loop, so the result does not depend on the thread count. */
#define CH_NB 64

typedef struct {
    double *A;
    int64_t lda;
    int j0, j1, r0; /* columns [j0, j1) of rows r0 + t */
} chol_ctx_f;

static void chol_row(double *A, int64_t lda, int i, int j0, int j1) {
    double *Ai = A + i * lda;
    for (int j = j0; j < j1; j++) {
        const double *Aj = A + j * lda;
        Ai[j] = (Ai[j] - dot(Ai, Aj, j)) / Aj[j];
    }
}

static void chol_rows_task(void *vc, int64_t t, int tid) {
    chol_ctx_f *c = vc;
    chol_row(c->A, c->lda, c->r0 + (int)t, c->j0, c->j1);
}

int lis_chol_factor(int n, double *A, int64_t lda) {
    for (int j0 = 0; j0 < n; j0 += CH_NB) {
        int j1 = j0 + CH_NB < n ? j0 + CH_NB : n;
        for (int i = j0; i < j1; i++) {
            chol_row(A, lda, i, j0, i);
            double *Ai = A + i * lda;
            /* a pivot at rounding level means numerically singular: report it rather than
             * return a solution made of noise */
            double s = Ai[i] - dot(Ai, Ai, i);
            if (!(s > (double)n * DBL_EPSILON * fabs(Ai[i]))) return i + 1;
            Ai[i] = sqrt(s);
        }
        if (j1 < n) {
            chol_ctx_f c = {.A = A, .lda = lda, .j0 = j0, .j1 = j1, .r0 = j1};
            lis_parallel_for(n - j1, chol_rows_task, &c);
        }
    }
    return 0;
}

typedef struct {
    int n, k;
    const double *L;
    int64_t lda, ldb;
    double *B;
    double *work; /* [nthreads][n][PW] */
} chol_ctx;

static void chol_solve_task(void *vc, int64_t t, int tid) {
    chol_ctx *s = vc;
    int n = s->n, c0 = (int)t * PW, w = s->k - c0 < PW ? s->k - c0 : PW;
    double *b = s->work + (size_t)tid * n * PW;
    panel_load(s->B, s->ldb, n, c0, w, b);
    /* forward: L Z = B, row by row */
    for (int i = 0; i < n; i++) {
        const double *Li = s->L + i * s->lda;
        double *bi = b + (size_t)i * PW;
        for (int j = 0; j < i; j++)
            if (Li[j] != 0) panel_axpy(-Li[j], b + (size_t)j * PW, bi);
        for (int c = 0; c < PW; c++) bi[c] /= Li[i];
    }
    /* backward: L^T X = Z; row i of the result feeds rows j < i through L[i][j] */
    for (int i = n - 1; i >= 0; i--) {
        const double *Li = s->L + i * s->lda;
        double *bi = b + (size_t)i * PW;
        for (int c = 0; c < PW; c++) bi[c] /= Li[i];
        for (int j = 0; j < i; j++)
            if (Li[j] != 0) panel_axpy(-Li[j], bi, b + (size_t)j * PW);
    }
    panel_store(s->B, s->ldb, n, c0, w, b);
}

lis_status lis_chol_solve(int n, const double *L, int64_t lda, double *B, int k, int64_t ldb) {
    if (k <= 0 || n <= 0) return LIS_OK;
    chol_ctx s = {.n = n, .k = k, .L = L, .lda = lda, .ldb = ldb, .B = B};
    s.work = lis_malloc(sizeof(double) * (size_t)lis_threads_count() * (size_t)n * PW, "cholesky: workspace");
    if (!s.work) return LIS_ERR;
    lis_parallel_for((k + PW - 1) / PW, chol_solve_task, &s);
    free(s.work);
    return LIS_OK;
}

/* ---------------------------------------------------------------- eigendecomposition */

/* Householder vector for x[0..m): on return x holds v (v[0] = 1) and H x = beta e1 with
 * H = I - tau v v^T (LAPACK dlarfg). Returns beta. */
static double house(double *x, int m, double *tau) {
    *tau = 0;
    if (m <= 0) return 0;
    double alpha = x[0], xn = sqrt(dot(x + 1, x + 1, m - 1));
    x[0] = 1;
    if (xn == 0) return alpha;
    double beta = -copysign(hypot(alpha, xn), alpha);
    *tau = (beta - alpha) / beta;
    double s = 1.0 / (alpha - beta);
    for (int i = 1; i < m; i++) x[i] *= s;
    return beta;
}

/* One pass over the lower triangle rows r_lo..n-1 of A:
 *   update (ulo >= 0): A[i][j] -= v_i w_j + w_i v_j for ulo <= j <= i   (step k's rank-2 update)
 *   symv (vn != NULL): p_i += sum_{j >= slo} A_sym[i][j] vn_j            (step k+1's A v)
 * with p accumulated per thread in pbuf[tid][*] (the transposed half scatters to p_j). */
typedef struct {
    double *A;
    int64_t lda;
    int n, ulo, slo;
    const double *v, *w, *vn;
    double *pbuf;
    const int *rows; /* chunk t covers rows rows[t]..rows[t+1]-1 */
} trd_ctx;

static void trd_task(void *vc, int64_t t, int tid) {
    const trd_ctx *x = vc;
    double *p = x->pbuf + (size_t)tid * (size_t)x->n;
    const double *v = x->v, *w = x->w, *vn = x->vn;
    int slo = x->slo, upd = x->ulo >= 0;
    for (int i = x->rows[t]; i < x->rows[t + 1]; i++) {
        double *Ai = x->A + i * x->lda;
        double vi = upd ? v[i] : 0, wi = upd ? w[i] : 0;
        if (upd)
            for (int j = x->ulo; j < slo && j <= i; j++) Ai[j] -= vi * w[j] + wi * v[j];
        if (i < slo) continue;
        if (!vn) {
            if (upd)
                for (int j = slo; j <= i; j++) Ai[j] -= vi * w[j] + wi * v[j];
            continue;
        }
        double vni = vn[i], acc = 0;
        int j = slo;
#ifdef LIS_LINALG_AVX2
        __m256d vacc = _mm256_setzero_pd(), bvi = _mm256_set1_pd(vi), bwi = _mm256_set1_pd(wi),
                bvni = _mm256_set1_pd(vni);
        for (; j + 4 <= i; j += 4) {
            __m256d a = _mm256_loadu_pd(Ai + j);
            if (upd)
                a = _mm256_sub_pd(a, _mm256_fmadd_pd(bvi, _mm256_loadu_pd(w + j),
                                                     _mm256_mul_pd(bwi, _mm256_loadu_pd(v + j))));
            _mm256_storeu_pd(Ai + j, a);
            vacc = _mm256_fmadd_pd(a, _mm256_loadu_pd(vn + j), vacc);
            _mm256_storeu_pd(p + j, _mm256_fmadd_pd(a, bvni, _mm256_loadu_pd(p + j)));
        }
        double tt[4];
        _mm256_storeu_pd(tt, vacc);
        acc = (tt[0] + tt[1]) + (tt[2] + tt[3]);
#endif
        for (; j < i; j++) {
            double a = Ai[j];
            if (upd) a -= vi * w[j] + wi * v[j];
            Ai[j] = a;
            acc += a * vn[j];
            p[j] += a * vni;
        }
        double a = Ai[i];
        if (upd) a -= vi * w[i] + wi * v[i];
        Ai[i] = a;
        p[i] += acc + a * vni;
    }
}

/* Runs trd_task over rows r_lo..n-1 split into chunks of about equal (triangular) area,
 * then reduces the per-thread p into pout[slo..n). */
static void trd_pass(trd_ctx *x, int r_lo, int nt, int *rows, double *pout) {
    int m = x->n - r_lo, nch = 1;
    if (m >= 128) nch = 4 * nt < m / 32 ? 4 * nt : m / 32;
    if (nch < 1) nch = 1;
    rows[0] = r_lo;
    for (int t = 1; t < nch; t++) rows[t] = r_lo + (int)(m * sqrt((double)t / nch));
    rows[nch] = x->n;
    x->rows = rows;
    if (nch == 1) trd_task(x, 0, 0);
    else lis_parallel_for(nch, trd_task, x);
    if (!x->vn) return;
    int nb = nch == 1 ? 1 : nt;
    for (int j = x->slo; j < x->n; j++) {
        double s = 0;
        for (int b = 0; b < nb; b++) {
            s += x->pbuf[(size_t)b * x->n + j];
            x->pbuf[(size_t)b * x->n + j] = 0;
        }
        pout[j] = s;
    }
}

/* Lower-triangle Householder tridiagonalisation: d [n] diagonal, ee [n] subdiagonal
 * (ee[i] couples i and i+1, ee[n-1] = 0). Reflectors go to e->hv / e->tau. */
static lis_status tridiagonalize(lis_symeig *e, double *A, int64_t lda, double *d, double *ee) {
    int n = e->n;
    memset(ee, 0, sizeof(double) * (size_t)n);
    if (n == 1) { d[0] = A[0]; return LIS_OK; }
    if (n == 2) { d[0] = A[0]; d[1] = A[lda + 1]; ee[0] = A[lda]; return LIS_OK; }
    int nt = lis_threads_count();
    double *pbuf = lis_calloc((size_t)nt * (size_t)n, sizeof(double), "eigen: workspace");
    double *p = lis_calloc((size_t)n, sizeof(double), "eigen: workspace");
    double *w = lis_calloc((size_t)n, sizeof(double), "eigen: workspace");
    int *rows = lis_malloc(sizeof(int) * (size_t)(4 * nt + 2), "eigen: workspace");
    if (!pbuf || !p || !w || !rows) {
        free(pbuf); free(p); free(w); free(rows);
        return LIS_ERR;
    }
    trd_ctx x = {.A = A, .lda = lda, .n = n, .pbuf = pbuf};
    /* reflector 0 from column 0, then p = A22 v0 */
    double *v0 = e->hv;
    for (int j = 1; j < n; j++) v0[j] = A[j * lda];
    ee[0] = house(v0 + 1, n - 1, &e->tau[0]);
    x.ulo = -1; x.slo = 1; x.vn = v0;
    trd_pass(&x, 1, nt, rows, p);
    for (int k = 0; k <= n - 3; k++) {
        d[k] = A[k * lda + k];
        const double *v = e->hv + (size_t)k * n;
        double tau = e->tau[k];
        int upd = tau != 0;
        if (upd) { /* w = tau p - (tau/2)(tau p.v) v */
            for (int j = k + 1; j < n; j++) w[j] = tau * p[j];
            double alpha = -0.5 * tau * dot(w + k + 1, v + k + 1, n - k - 1);
            for (int j = k + 1; j < n; j++) w[j] += alpha * v[j];
        }
        int next = k + 1 <= n - 3;
        double *vn = e->hv + (size_t)(k + 1) * n;
        if (next) { /* column k+1 after this step's update -> reflector k+1 */
            for (int j = k + 2; j < n; j++) {
                double a = A[j * lda + k + 1];
                if (upd) a -= v[j] * w[k + 1] + w[j] * v[k + 1];
                vn[j] = a;
            }
            ee[k + 1] = house(vn + k + 2, n - k - 2, &e->tau[k + 1]);
        }
        if (!upd && !next) continue;
        x.ulo = upd ? k + 1 : -1;
        x.slo = k + 2;
        x.v = v; x.w = w;
        x.vn = next ? vn : NULL;
        trd_pass(&x, upd ? k + 1 : k + 2, nt, rows, p);
    }
    d[n - 2] = A[(n - 2) * lda + n - 2];
    d[n - 1] = A[(n - 1) * lda + n - 1];
    ee[n - 2] = A[(n - 1) * lda + n - 2];
    free(pbuf); free(p); free(w); free(rows);
    return LIS_OK;
}

static lis_status rot_push(lis_symeig *e, double c, double s) {
    if (e->nrot == e->caprot) {
        int64_t cap = e->caprot ? 2 * e->caprot : 4096;
        double *nc = realloc(e->rc, sizeof(double) * (size_t)cap);
        if (!nc) return lis_err_set("eigen: out of memory for rotations");
        e->rc = nc;
        double *ns = realloc(e->rs, sizeof(double) * (size_t)cap);
        if (!ns) return lis_err_set("eigen: out of memory for rotations");
        e->rs = ns;
        e->caprot = cap;
    }
    e->rc[e->nrot] = c;
    e->rs[e->nrot] = s;
    e->nrot++;
    return LIS_OK;
}

static lis_status sweep_push(lis_symeig *e, int i0, int count, int64_t off) {
    if (count == 0) return LIS_OK;
    if (e->nsweep == e->capsweep) {
        int64_t cap = e->capsweep ? 2 * e->capsweep : 256;
        lis_symeig_sweep *ns = realloc(e->sweeps, sizeof *ns * (size_t)cap);
        if (!ns) return lis_err_set("eigen: out of memory for rotations");
        e->sweeps = ns;
        e->capsweep = cap;
    }
    e->sweeps[e->nsweep++] = (lis_symeig_sweep){.i0 = i0, .count = count, .off = off};
    return LIS_OK;
}

/* Implicit QL on the tridiagonal (d, ee); eigenvalues end in d. Rotation (c, s) on (i, i+1)
 * is the column operation  z_i <- c z_i - s z_i+1,  z_i+1 <- s z_i + c z_i+1  of tql2. */
static lis_status tql(lis_symeig *e, double *d, double *ee) {
    int n = e->n;
    for (int l = 0; l < n; l++) {
        int iter = 0, m;
        for (;;) {
            for (m = l; m < n - 1; m++) {
                double dd = fabs(d[m]) + fabs(d[m + 1]);
                if (fabs(ee[m]) <= DBL_EPSILON * dd || fabs(ee[m]) < DBL_MIN) break;
            }
            if (m == l) break;
            if (iter++ == 60) return lis_err_set("eigen: QL iteration did not converge (eigenvalue %d of %d)", l, n);
            double g = (d[l + 1] - d[l]) / (2.0 * ee[l]);
            double r = hypot(g, 1.0);
            g = d[m] - d[l] + ee[l] / (g + copysign(r, g));
            double s = 1.0, c = 1.0, p = 0.0;
            int64_t off = e->nrot;
            int i, underflow = 0;
            for (i = m - 1; i >= l; i--) {
                double f = s * ee[i], b = c * ee[i];
                ee[i + 1] = r = hypot(f, g);
                if (r == 0.0) {
                    d[i + 1] -= p;
                    ee[m] = 0.0;
                    underflow = 1;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                LIS_TRY(rot_push(e, c, s));
            }
            LIS_TRY(sweep_push(e, m - 1, (int)(e->nrot - off), off));
            if (underflow) continue;
            d[l] -= p;
            ee[l] = g;
            ee[m] = 0.0;
        }
    }
    return LIS_OK;
}

void lis_symeig_free(lis_symeig *e) {
    if (!e) return;
    free(e->eval); free(e->hv); free(e->tau); free(e->sweeps); free(e->rc); free(e->rs);
    memset(e, 0, sizeof *e);
}

lis_status lis_symeig_compute(lis_symeig *e, int n, double *A, int64_t lda) {
    memset(e, 0, sizeof *e);
    e->n = n;
    if (n <= 0) return LIS_OK;
    e->eval = lis_calloc((size_t)n, sizeof(double), "eigen: eigenvalues");
    e->hv = lis_calloc((size_t)n * (size_t)n, sizeof(double), "eigen: reflectors");
    e->tau = lis_calloc((size_t)n, sizeof(double), "eigen: reflectors");
    double *ee = lis_calloc((size_t)n, sizeof(double), "eigen: workspace");
    lis_status s = (!e->eval || !e->hv || !e->tau || !ee) ? LIS_ERR : LIS_OK;
    if (s == LIS_OK) s = tridiagonalize(e, A, lda, e->eval, ee);
    if (s == LIS_OK) s = tql(e, e->eval, ee);
    free(ee);
    if (s != LIS_OK) lis_symeig_free(e);
    return s;
}

typedef struct {
    const lis_symeig *e;
    double *C;
    int64_t ldc;
    int k, transpose;
    double *work; /* [nthreads][n][PW] */
} apply_ctx;

/* b := H_t b on a packed panel, H_t = I - tau v v^T acting on rows t+1..n-1 */
static void reflect(const lis_symeig *e, int t, double *b) {
    double tau = e->tau[t], acc[PW] = {0};
    if (tau == 0) return;
    const double *v = e->hv + (size_t)t * e->n;
    for (int j = t + 1; j < e->n; j++) panel_axpy(v[j], b + (size_t)j * PW, acc);
    for (int j = t + 1; j < e->n; j++) panel_axpy(-tau * v[j], acc, b + (size_t)j * PW);
}

/* One QL sweep on a packed panel, rotation r acting on rows (i0 - r, i0 - r + 1).
 *   fwd (U^T, rotations in QL order):      (x, y) := (c x - s y, s x + c y), r = 0, 1, ...
 *   bwd (U, rotations in reverse order):   (x, y) := (c x + s y, c y - s x), r = cnt-1, ..., 0
 * Consecutive rotations share a row; it stays in registers (the carry), so the chain from one
 * rotation to the next does not go through a store and a reload. */
static void sweep_fwd(double *b, int i0, int cnt, const double *rc, const double *rs) {
#ifdef LIS_LINALG_AVX2
    for (int h = 0; h < PW; h += 16) {
        double *base = b + h;
        const double *y = base + (size_t)(i0 + 1) * PW;
        __m256d y0 = _mm256_loadu_pd(y), y1 = _mm256_loadu_pd(y + 4), y2 = _mm256_loadu_pd(y + 8),
                y3 = _mm256_loadu_pd(y + 12);
        for (int r = 0; r < cnt; r++) {
            double *x = base + (size_t)(i0 - r) * PW, *out = x + PW;
            __m256d c = _mm256_set1_pd(rc[r]), sn = _mm256_set1_pd(rs[r]);
            __m256d x0 = _mm256_loadu_pd(x), x1 = _mm256_loadu_pd(x + 4), x2 = _mm256_loadu_pd(x + 8),
                    x3 = _mm256_loadu_pd(x + 12);
            _mm256_storeu_pd(out, _mm256_fmadd_pd(sn, x0, _mm256_mul_pd(c, y0)));
            _mm256_storeu_pd(out + 4, _mm256_fmadd_pd(sn, x1, _mm256_mul_pd(c, y1)));
            _mm256_storeu_pd(out + 8, _mm256_fmadd_pd(sn, x2, _mm256_mul_pd(c, y2)));
            _mm256_storeu_pd(out + 12, _mm256_fmadd_pd(sn, x3, _mm256_mul_pd(c, y3)));
            y0 = _mm256_fmsub_pd(c, x0, _mm256_mul_pd(sn, y0));
            y1 = _mm256_fmsub_pd(c, x1, _mm256_mul_pd(sn, y1));
            y2 = _mm256_fmsub_pd(c, x2, _mm256_mul_pd(sn, y2));
            y3 = _mm256_fmsub_pd(c, x3, _mm256_mul_pd(sn, y3));
        }
        double *last = base + (size_t)(i0 - cnt + 1) * PW;
        _mm256_storeu_pd(last, y0); _mm256_storeu_pd(last + 4, y1);
        _mm256_storeu_pd(last + 8, y2); _mm256_storeu_pd(last + 12, y3);
    }
#else
    for (int r = 0; r < cnt; r++) {
        double *x = b + (size_t)(i0 - r) * PW, *y = x + PW;
        for (int q = 0; q < PW; q++) {
            double xq = x[q], yq = y[q];
            x[q] = rc[r] * xq - rs[r] * yq;
            y[q] = rs[r] * xq + rc[r] * yq;
        }
    }
#endif
}

static void sweep_bwd(double *b, int i0, int cnt, const double *rc, const double *rs) {
#ifdef LIS_LINALG_AVX2
    for (int h = 0; h < PW; h += 16) {
        double *base = b + h;
        const double *x = base + (size_t)(i0 - cnt + 1) * PW;
        __m256d x0 = _mm256_loadu_pd(x), x1 = _mm256_loadu_pd(x + 4), x2 = _mm256_loadu_pd(x + 8),
                x3 = _mm256_loadu_pd(x + 12);
        for (int r = cnt - 1; r >= 0; r--) {
            double *out = base + (size_t)(i0 - r) * PW, *y = out + PW;
            __m256d c = _mm256_set1_pd(rc[r]), sn = _mm256_set1_pd(rs[r]);
            __m256d y0 = _mm256_loadu_pd(y), y1 = _mm256_loadu_pd(y + 4), y2 = _mm256_loadu_pd(y + 8),
                    y3 = _mm256_loadu_pd(y + 12);
            _mm256_storeu_pd(out, _mm256_fmadd_pd(c, x0, _mm256_mul_pd(sn, y0)));
            _mm256_storeu_pd(out + 4, _mm256_fmadd_pd(c, x1, _mm256_mul_pd(sn, y1)));
            _mm256_storeu_pd(out + 8, _mm256_fmadd_pd(c, x2, _mm256_mul_pd(sn, y2)));
            _mm256_storeu_pd(out + 12, _mm256_fmadd_pd(c, x3, _mm256_mul_pd(sn, y3)));
            x0 = _mm256_fmsub_pd(c, y0, _mm256_mul_pd(sn, x0));
            x1 = _mm256_fmsub_pd(c, y1, _mm256_mul_pd(sn, x1));
            x2 = _mm256_fmsub_pd(c, y2, _mm256_mul_pd(sn, x2));
            x3 = _mm256_fmsub_pd(c, y3, _mm256_mul_pd(sn, x3));
        }
        double *last = base + (size_t)(i0 + 1) * PW;
        _mm256_storeu_pd(last, x0); _mm256_storeu_pd(last + 4, x1);
        _mm256_storeu_pd(last + 8, x2); _mm256_storeu_pd(last + 12, x3);
    }
#else
    for (int r = cnt - 1; r >= 0; r--) {
        double *x = b + (size_t)(i0 - r) * PW, *y = x + PW;
        for (int q = 0; q < PW; q++) {
            double xq = x[q], yq = y[q];
            x[q] = rc[r] * xq + rs[r] * yq;
            y[q] = rc[r] * yq - rs[r] * xq;
        }
    }
#endif
}

static void apply_task(void *vc, int64_t t, int tid) {
    const apply_ctx *a = vc;
    const lis_symeig *e = a->e;
    int n = e->n, c0 = (int)t * PW, w = a->k - c0 < PW ? a->k - c0 : PW;
    double *b = a->work + (size_t)tid * n * PW;
    panel_load(a->C, a->ldc, n, c0, w, b);
    if (a->transpose) { /* V^T C = U^T Q^T C: H_0 first, then the rotations in QL order, transposed */
        for (int r = 0; r <= n - 3; r++) reflect(e, r, b);
        for (int64_t s = 0; s < e->nsweep; s++) {
            const lis_symeig_sweep *sw = &e->sweeps[s];
            sweep_fwd(b, sw->i0, sw->count, e->rc + sw->off, e->rs + sw->off);
        }
    } else { /* V C = Q U C: the rotations in reverse, then H_{n-3} .. H_0 */
        for (int64_t s = e->nsweep - 1; s >= 0; s--) {
            const lis_symeig_sweep *sw = &e->sweeps[s];
            sweep_bwd(b, sw->i0, sw->count, e->rc + sw->off, e->rs + sw->off);
        }
        for (int r = n - 3; r >= 0; r--) reflect(e, r, b);
    }
    panel_store(a->C, a->ldc, n, c0, w, b);
}

static lis_status apply(const lis_symeig *e, double *C, int k, int64_t ldc, int transpose) {
    if (k <= 0 || e->n <= 0) return LIS_OK;
    apply_ctx a = {.e = e, .C = C, .ldc = ldc, .k = k, .transpose = transpose};
    a.work = lis_malloc(sizeof(double) * (size_t)lis_threads_count() * (size_t)e->n * PW, "eigen: workspace");
    if (!a.work) return LIS_ERR;
    lis_parallel_for((k + PW - 1) / PW, apply_task, &a);
    free(a.work);
    return LIS_OK;
}

lis_status lis_symeig_apply_vt(const lis_symeig *e, double *C, int k, int64_t ldc) { return apply(e, C, k, ldc, 1); }
lis_status lis_symeig_apply_v(const lis_symeig *e, double *C, int k, int64_t ldc) { return apply(e, C, k, ldc, 0); }

lis_status lis_symeig_vectors(const lis_symeig *e, double *V, int64_t ldv) {
    for (int i = 0; i < e->n; i++)
        for (int j = 0; j < e->n; j++) V[i * ldv + j] = i == j;
    return apply(e, V, e->n, ldv, 0);
}
