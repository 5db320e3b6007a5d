/* rsa.c — similarity matrices, triangle correlations and the feasibility analysis; see
 * rsa.h. */
#include "kernels/rsa.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ari.h"
#include "kernels/gemm.h"
#include "runtime/np_random.h"

const char *const lis_feas_metric_names[LIS_FEAS_NMETRIC] = {
    "ari_w", "ari_r", "ari_w_vs_r", "corr_pearson", "corr_spearman", "euclid_pearson", "euclid_spearman",
    "centroid_corr_pearson", "centroid_euclid_pearson", "corr_pearson_shuffled",
};

/* ---- matrices, reference */
void lis_rsa_corr_matrix_ref(int64_t n, int d, const float *X, double *S) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i; j < n; j++) {
            const float *a = X + i * d, *b = X + j * d;
            double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
            for (int t = 0; t < d; t++) { ma += a[t]; mb += b[t]; }
            ma /= d;
            mb /= d;
            for (int t = 0; t < d; t++) {
                sab += (a[t] - ma) * (b[t] - mb);
                saa += (a[t] - ma) * (a[t] - ma);
                sbb += (b[t] - mb) * (b[t] - mb);
            }
            double v = saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
            if (i == j) v = 1;
            S[i * n + j] = S[j * n + i] = v;
        }
}

void lis_rsa_euclid_matrix_ref(int64_t n, int d, const float *X, double *D) {
    for (int64_t i = 0; i < n; i++) {
        D[i * n + i] = 0;
        for (int64_t j = i + 1; j < n; j++) {
            double s = 0;
            for (int t = 0; t < d; t++) {
                double e = (double)X[i * d + t] - X[j * d + t];
                s += e * e;
            }
            D[i * n + j] = D[j * n + i] = sqrt(s);
        }
    }
}

/* ---- matrices, fast: G = Z Z^T by one float32 GEMM (threaded inside) */
static lis_status gram(int64_t n, int d, const float *Z, float *G) {
    if (n > 1 << 30) return lis_err_usage("similarity matrix: %lld rows", (long long)n);
    float *Zt = lis_alloc_aligned(sizeof(float) * (size_t)n * d, "transposed rows");
    const float **rows = lis_malloc(sizeof(float *) * (size_t)d, "row pointers");
    if (!Zt || !rows) { free(Zt); free(rows); return LIS_ERR; }
    for (int64_t i = 0; i < n; i++)
        for (int t = 0; t < d; t++) Zt[(size_t)t * n + i] = Z[i * d + t];
    lis_gemm_rows_from_matrix(Zt, d, (int)n, rows);
    lis_gemm_cpu((int)n, (int)n, d, Z, d, rows, G, (int)n, 0);
    free(Zt);
    free(rows);
    return LIS_OK;
}

lis_status lis_rsa_corr_matrix_cpu(int64_t n, int d, const float *X, double *S) {
    float *Z = lis_alloc_aligned(sizeof(float) * (size_t)n * d, "standardised rows");
    float *G = lis_alloc_aligned(sizeof(float) * (size_t)n * n, "Gram matrix");
    char *constant = lis_calloc((size_t)n, 1, "flags");
    lis_status s = Z && G && constant ? LIS_OK : LIS_ERR;
    for (int64_t i = 0; s == LIS_OK && i < n; i++) {
        const float *a = X + i * d;
        double m = 0, q = 0;
        for (int t = 0; t < d; t++) m += a[t];
        m /= d;
        for (int t = 0; t < d; t++) q += (a[t] - m) * (a[t] - m);
        double inv = q > 0 ? 1.0 / sqrt(q) : 0;
        constant[i] = !(q > 0);
        for (int t = 0; t < d; t++) Z[i * d + t] = (float)((a[t] - m) * inv);
    }
    if (s == LIS_OK) s = gram(n, d, Z, G);
    for (int64_t i = 0; s == LIS_OK && i < n; i++) {
        S[i * n + i] = 1;
        for (int64_t j = i + 1; j < n; j++) {
            double v = constant[i] || constant[j] ? 0 : G[i * n + j];
            v = v > 1 ? 1 : v < -1 ? -1 : v;
            S[i * n + j] = S[j * n + i] = v;
        }
    }
    free(Z); free(G); free(constant);
    return s;
}

lis_status lis_rsa_euclid_matrix_cpu(int64_t n, int d, const float *X, double *D) {
    float *Z = lis_alloc_aligned(sizeof(float) * (size_t)n * d, "centred rows");
    float *G = lis_alloc_aligned(sizeof(float) * (size_t)n * n, "Gram matrix");
    double *mean = lis_calloc((size_t)d, sizeof(double), "column means"), *nrm = lis_malloc(sizeof(double) * (size_t)n, "norms");
    lis_status s = Z && G && mean && nrm ? LIS_OK : LIS_ERR;
    if (s == LIS_OK) {
        for (int64_t i = 0; i < n; i++)
            for (int t = 0; t < d; t++) mean[t] += X[i * d + t];
        for (int t = 0; t < d; t++) mean[t] /= (double)n;
        for (int64_t i = 0; i < n; i++) {
            double q = 0;
            for (int t = 0; t < d; t++) {
                float z = (float)(X[i * d + t] - mean[t]);
                Z[i * d + t] = z;
                q += (double)z * z;
            }
            nrm[i] = q;
        }
        s = gram(n, d, Z, G);
    }
    for (int64_t i = 0; s == LIS_OK && i < n; i++) {
        D[i * n + i] = 0;
        for (int64_t j = i + 1; j < n; j++) {
            double q = nrm[i] + nrm[j] - 2.0 * (double)G[i * n + j];
            D[i * n + j] = D[j * n + i] = q > 0 ? sqrt(q) : 0;
        }
    }
    free(Z); free(G); free(mean); free(nrm);
    return s;
}

/* ---- triangle statistics */
void lis_rsa_upper(int64_t n, const double *M, double *out) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++) out[k++] = M[i * n + j];
}

double lis_pearson(int64_t m, const double *a, const double *b) {
    if (m < 2) return NAN;
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < m; i++) { ma += a[i]; mb += b[i]; }
    ma /= (double)m;
    mb /= (double)m;
    for (int64_t i = 0; i < m; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if (!(saa > 0) || !(sbb > 0)) return NAN;
    double r = sab / sqrt(saa * sbb);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

/* by value, ties by index, so the order is fully defined (glibc qsort_r: key array as context) */
static int cmp_by_key(const void *x, const void *y, void *key) {
    const double *k = key;
    int64_t i = *(const int64_t *)x, j = *(const int64_t *)y;
    if (k[i] < k[j]) return -1;
    if (k[i] > k[j]) return 1;
    return i < j ? -1 : i > j;
}

lis_status lis_rank_average(int64_t m, const double *a, double *rank) {
    int64_t *idx = lis_malloc(sizeof(int64_t) * (size_t)(m > 0 ? m : 1), "rank order");
    if (!idx) return LIS_ERR;
    for (int64_t i = 0; i < m; i++) idx[i] = i;
    qsort_r(idx, (size_t)m, sizeof *idx, cmp_by_key, (void *)a);
    for (int64_t i = 0; i < m;) {
        int64_t j = i;
        while (j < m && a[idx[j]] == a[idx[i]]) j++;
        double r = 0.5 * (double)(i + 1 + j); /* mean of ranks i+1 .. j */
        for (int64_t t = i; t < j; t++) rank[idx[t]] = r;
        i = j;
    }
    free(idx);
    return LIS_OK;
}

lis_status lis_spearman(int64_t m, const double *a, const double *b, double *rho) {
    double *ra = lis_malloc(sizeof(double) * (size_t)(m > 0 ? m : 1), "ranks");
    double *rb = lis_malloc(sizeof(double) * (size_t)(m > 0 ? m : 1), "ranks");
    lis_status s = ra && rb ? LIS_OK : LIS_ERR;
    if (s == LIS_OK) s = lis_rank_average(m, a, ra);
    if (s == LIS_OK) s = lis_rank_average(m, b, rb);
    if (s == LIS_OK) *rho = lis_pearson(m, ra, rb);
    free(ra);
    free(rb);
    return s;
}

/* ---- feasibility */
void lis_feas_params_default(lis_feas_params *p) {
    p->repeats = 10;
    p->samples_per_class = 100;
    p->seed = 0;
    p->rsa = 1;
    lis_kmeans_params_default(&p->km, 2);
}

void lis_feas_result_free(lis_feas_result *r) {
    if (!r) return;
    free(r->classes); free(r->metric); free(r->idx); free(r->labels_w); free(r->labels_r);
    free(r->centroid_corr_w); free(r->centroid_corr_r); free(r->centroid_euclid_w); free(r->centroid_euclid_r);
    free(r->inertia);
    memset(r, 0, sizeof *r);
}

void lis_feas_summary(const lis_feas_result *r, int m, double *mean, double *std, double *mn, double *mx, int *nvalid) {
    double s = 0, q = 0, lo = INFINITY, hi = -INFINITY;
    int c = 0;
    for (int i = 0; i < r->repeats; i++) {
        double v = r->metric[(size_t)i * LIS_FEAS_NMETRIC + m];
        if (isnan(v)) continue;
        s += v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        c++;
    }
    double mu = c ? s / c : NAN;
    for (int i = 0; i < r->repeats; i++) {
        double v = r->metric[(size_t)i * LIS_FEAS_NMETRIC + m];
        if (!isnan(v)) q += (v - mu) * (v - mu);
    }
    *mean = mu;
    *std = c > 1 ? sqrt(q / (c - 1)) : NAN;
    *mn = c ? lo : NAN;
    *mx = c ? hi : NAN;
    if (nvalid) *nvalid = c;
}

/* centroid matrices (k x k) of the drawn rows X [n_draw, d], grouped by class */
static lis_status centroid_mats(int k, int spc, int d, const float *X, double *corr, double *euc) {
    float *C = lis_malloc(sizeof(float) * (size_t)k * d, "centroids");
    if (!C) return LIS_ERR;
    for (int c = 0; c < k; c++)
        for (int t = 0; t < d; t++) {
            double s = 0;
            for (int j = 0; j < spc; j++) s += X[((size_t)c * spc + j) * d + t];
            C[(size_t)c * d + t] = (float)(s / spc);
        }
    lis_rsa_corr_matrix_ref(k, d, C, corr);
    lis_rsa_euclid_matrix_ref(k, d, C, euc);
    free(C);
    return LIS_OK;
}

lis_status lis_feasibility(const lis_feas_params *p, int64_t n, int dw, const float *W, int64_t ldw, int dr,
                           const float *R, int64_t ldr, const int64_t *cls, lis_feas_result *res) {
    memset(res, 0, sizeof *res);
    if (p->repeats < 1 || p->samples_per_class < 2) return lis_err_usage("feasibility: repeats >= 1 and samples_per_class >= 2 needed");
    /* classes in order of first appearance, with their row lists */
    int64_t *cl = lis_malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1), "classes");
    int64_t *cnt = lis_calloc((size_t)(n > 0 ? n : 1), sizeof(int64_t), "class counts");
    if (!cl || !cnt) { free(cl); free(cnt); return LIS_ERR; }
    int k = 0;
    for (int64_t i = 0; i < n; i++) {
        int c = 0;
        while (c < k && cl[c] != cls[i]) c++;
        if (c == k) cl[k++] = cls[i];
        cnt[c]++;
        if (k > 64) { free(cl); free(cnt); return lis_err_usage("feasibility: more than 64 classes"); }
    }
    int64_t smallest = n;
    for (int c = 0; c < k; c++) smallest = cnt[c] < smallest ? cnt[c] : smallest;
    free(cnt);
    if (k < 2 || smallest < 2) {
        free(cl);
        return lis_err_usage("feasibility: needs at least 2 classes with 2 examples each (%d classes, smallest has %lld)", k,
                             (long long)(k ? smallest : 0));
    }
    int spc = p->samples_per_class < smallest ? p->samples_per_class : (int)smallest, N = k * spc;
    if (p->rsa && N > 12000) { /* two N x N float64 matrices, two triangles and the GEMM scratch */
        free(cl);
        return lis_err_usage("feasibility: %d examples per draw need about %.1f GB for the similarity matrices; lower "
                             "samples_per_class or switch the matrices off (rsa = false / --no-rsa)", N, 30.0 * N * (double)N / 1e9);
    }
    res->repeats = p->repeats;
    res->k = k;
    res->spc = spc;
    res->n_draw = N;
    res->classes = cl;
    res->metric = lis_malloc(sizeof(double) * (size_t)p->repeats * LIS_FEAS_NMETRIC, "metrics");
    res->idx = lis_malloc(sizeof(int64_t) * (size_t)p->repeats * N, "draws");
    res->labels_w = lis_malloc(sizeof(int32_t) * (size_t)p->repeats * N, "labels");
    res->labels_r = lis_malloc(sizeof(int32_t) * (size_t)p->repeats * N, "labels");
    res->centroid_corr_w = lis_calloc((size_t)k * k, sizeof(double), "centroid matrix");
    res->centroid_corr_r = lis_calloc((size_t)k * k, sizeof(double), "centroid matrix");
    res->centroid_euclid_w = lis_calloc((size_t)k * k, sizeof(double), "centroid matrix");
    res->centroid_euclid_r = lis_calloc((size_t)k * k, sizeof(double), "centroid matrix");
    res->inertia = lis_malloc(sizeof(double) * (size_t)p->repeats * 2, "inertia");
    int64_t M = (int64_t)N * (N - 1) / 2;
    float *Xw = lis_malloc(sizeof(float) * (size_t)N * dw, "drawn w"), *Xr = lis_malloc(sizeof(float) * (size_t)N * dr, "drawn r");
    int64_t *pool = lis_malloc(sizeof(int64_t) * (size_t)n, "class rows"), *truth = lis_malloc(sizeof(int64_t) * (size_t)N, "labels");
    int64_t *lw = lis_malloc(sizeof(int64_t) * (size_t)N, "labels"), *lr = lis_malloc(sizeof(int64_t) * (size_t)N, "labels");
    int64_t *perm = lis_malloc(sizeof(int64_t) * (size_t)N, "shuffle");
    double *Sw = p->rsa ? lis_malloc(sizeof(double) * (size_t)N * N, "W matrix") : NULL;
    double *Sr = p->rsa ? lis_malloc(sizeof(double) * (size_t)N * N, "R matrix") : NULL;
    double *tw = p->rsa ? lis_malloc(sizeof(double) * (size_t)(M > 0 ? M : 1), "W triangle") : NULL;
    double *tr = p->rsa ? lis_malloc(sizeof(double) * (size_t)(M > 0 ? M : 1), "R triangle") : NULL;
    double *cm[4] = {NULL, NULL, NULL, NULL}; /* class-centroid matrices [k, k]: corr W, euclid W, corr R, euclid R */
    for (int q = 0; q < 4; q++) cm[q] = lis_malloc(sizeof(double) * 64 * 64, "centroid matrix");
    lis_status s = res->metric && res->idx && res->labels_w && res->labels_r && res->centroid_corr_w && res->centroid_corr_r &&
                           res->centroid_euclid_w && res->centroid_euclid_r && res->inertia && Xw && Xr && pool && truth && lw && lr &&
                           perm && cm[0] && cm[1] && cm[2] && cm[3] && (!p->rsa || (Sw && Sr && tw && tr))
                       ? LIS_OK
                       : LIS_ERR;
    lis_np_rng rng;
    lis_np_seed(&rng, p->seed);
    lis_kmeans_params km = p->km;
    km.k = k;
    int nrep_cent = 0;
    for (int rep = 0; rep < p->repeats && s == LIS_OK; rep++) {
        double *met = res->metric + (size_t)rep * LIS_FEAS_NMETRIC;
        for (int m = 0; m < LIS_FEAS_NMETRIC; m++) met[m] = NAN;
        int64_t *idx = res->idx + (size_t)rep * N;
        for (int c = 0; c < k; c++) {
            int64_t m = 0;
            for (int64_t i = 0; i < n; i++)
                if (cls[i] == cl[c]) pool[m++] = i;
            for (int j = 0; j < spc; j++) { /* partial Fisher-Yates */
                int64_t t = j + (int64_t)(lis_np_double(&rng) * (double)(m - j));
                if (t >= m) t = m - 1;
                int64_t x = pool[j]; pool[j] = pool[t]; pool[t] = x;
                idx[c * spc + j] = pool[j];
                truth[c * spc + j] = c;
            }
        }
        for (int i = 0; i < N; i++) {
            memcpy(Xw + (size_t)i * dw, W + idx[i] * ldw, sizeof(float) * (size_t)dw);
            memcpy(Xr + (size_t)i * dr, R + idx[i] * ldr, sizeof(float) * (size_t)dr);
        }
        /* clustering */
        km.seed = p->km.seed + (uint32_t)rep;
        int32_t *labw = res->labels_w + (size_t)rep * N, *labr = res->labels_r + (size_t)rep * N;
        lis_kmeans_info iw, ir;
        if ((s = lis_kmeans(&km, N, dw, Xw, labw, NULL, &iw))) break;
        if ((s = lis_kmeans(&km, N, dr, Xr, labr, NULL, &ir))) break;
        res->inertia[2 * rep] = iw.inertia;
        res->inertia[2 * rep + 1] = ir.inertia;
        for (int i = 0; i < N; i++) { lw[i] = labw[i]; lr[i] = labr[i]; }
        if ((s = lis_ari(N, lw, truth, &met[LIS_FEAS_ARI_W]))) break;
        if ((s = lis_ari(N, lr, truth, &met[LIS_FEAS_ARI_R]))) break;
        if ((s = lis_ari(N, lw, lr, &met[LIS_FEAS_ARI_WR]))) break;
        /* class centroids */
        if ((s = centroid_mats(k, spc, dw, Xw, cm[0], cm[1]))) break;
        if ((s = centroid_mats(k, spc, dr, Xr, cm[2], cm[3]))) break;
        for (int q = 0; q < k * k; q++) {
            res->centroid_corr_w[q] += cm[0][q];
            res->centroid_euclid_w[q] += cm[1][q];
            res->centroid_corr_r[q] += cm[2][q];
            res->centroid_euclid_r[q] += cm[3][q];
        }
        nrep_cent++;
        if (k >= 3) {
            double a[64 * 63 / 2], b[64 * 63 / 2];
            lis_rsa_upper(k, cm[0], a);
            lis_rsa_upper(k, cm[2], b);
            met[LIS_FEAS_CENTROID_CORR] = lis_pearson((int64_t)k * (k - 1) / 2, a, b);
            lis_rsa_upper(k, cm[1], a);
            lis_rsa_upper(k, cm[3], b);
            met[LIS_FEAS_CENTROID_EUCLID] = lis_pearson((int64_t)k * (k - 1) / 2, a, b);
        }
        if (!p->rsa) continue;
        /* sample matrices */
        if ((s = lis_rsa_corr_matrix_cpu(N, dw, Xw, Sw))) break;
        if ((s = lis_rsa_corr_matrix_cpu(N, dr, Xr, Sr))) break;
        lis_rsa_upper(N, Sw, tw);
        lis_rsa_upper(N, Sr, tr);
        met[LIS_FEAS_CORR_PEARSON] = lis_pearson(M, tw, tr);
        if ((s = lis_spearman(M, tw, tr, &met[LIS_FEAS_CORR_SPEARMAN]))) break;
        /* control: R's rows in a shuffled order against W's */
        for (int i = 0; i < N; i++) perm[i] = i;
        for (int i = N - 1; i > 0; i--) {
            int64_t j = (int64_t)(lis_np_double(&rng) * (double)(i + 1));
            if (j > i) j = i;
            int64_t x = perm[i]; perm[i] = perm[j]; perm[j] = x;
        }
        int64_t q = 0;
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++) tr[q++] = Sr[perm[i] * N + perm[j]];
        met[LIS_FEAS_CORR_SHUFFLED] = lis_pearson(M, tw, tr);
        if ((s = lis_rsa_euclid_matrix_cpu(N, dw, Xw, Sw))) break;
        if ((s = lis_rsa_euclid_matrix_cpu(N, dr, Xr, Sr))) break;
        lis_rsa_upper(N, Sw, tw);
        lis_rsa_upper(N, Sr, tr);
        met[LIS_FEAS_EUCLID_PEARSON] = lis_pearson(M, tw, tr);
        if ((s = lis_spearman(M, tw, tr, &met[LIS_FEAS_EUCLID_SPEARMAN]))) break;
    }
    for (int q = 0; q < k * k && nrep_cent; q++) {
        res->centroid_corr_w[q] /= nrep_cent;
        res->centroid_corr_r[q] /= nrep_cent;
        res->centroid_euclid_w[q] /= nrep_cent;
        res->centroid_euclid_r[q] /= nrep_cent;
    }
    free(Xw); free(Xr); free(pool); free(truth); free(lw); free(lr); free(perm);
    free(Sw); free(Sr); free(tw); free(tr);
    for (int q = 0; q < 4; q++) free(cm[q]);
    if (s != LIS_OK) lis_feas_result_free(res);
    return s;
}
