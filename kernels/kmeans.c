/* kmeans.c — k-means++ and Lloyd as sklearn.cluster.KMeans; see kmeans.h. */
#include "kernels/kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm.h"
#include "runtime/np_random.h"
#include "runtime/threads.h"

#define ROWS_PER_TASK 256 /* fixed task size: results never depend on the thread count */

void lis_kmeans_params_default(lis_kmeans_params *p, int k) {
    p->k = k;
    p->n_init = 10;
    p->max_iter = 300;
    p->tol = 1e-4;
    p->seed = 0;
    p->reference = 0;
}

/* ---- squared distances of every row to one float64 point, threaded */
typedef struct {
    int64_t n;
    int d;
    const float *X;
    const double *c;
    double *out;
} dist_task;

static void dist_rows(void *ctx, int64_t t, int tid) {
    (void)tid;
    const dist_task *a = ctx;
    int64_t i1 = (t + 1) * ROWS_PER_TASK < a->n ? (t + 1) * ROWS_PER_TASK : a->n;
    for (int64_t i = t * ROWS_PER_TASK; i < i1; i++) {
        const float *x = a->X + i * a->d;
        double s = 0;
        for (int j = 0; j < a->d; j++) {
            double e = (double)x[j] - a->c[j];
            s += e * e;
        }
        a->out[i] = s;
    }
}

static void sqdist_to(int64_t n, int d, const float *X, const double *c, double *out) {
    dist_task a = {n, d, X, c, out};
    lis_parallel_for((n + ROWS_PER_TASK - 1) / ROWS_PER_TASK, dist_rows, &a);
}

/* ---- assignment, reference: sum_j (x_j - c_j)^2 in float64 */
double lis_kmeans_assign_ref(int64_t n, int d, const float *X, int k, const double *C, int32_t *labels,
                             double *dist2) {
    double tot = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *x = X + i * d;
        double best = INFINITY;
        int bj = 0;
        for (int c = 0; c < k; c++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double e = (double)x[j] - C[(size_t)c * d + j];
                s += e * e;
            }
            if (s < best) { best = s; bj = c; }
        }
        labels[i] = bj;
        dist2[i] = best;
        tot += best;
    }
    return tot;
}

/* ---- assignment, fast: |x|^2 - 2 x.c + |c|^2, cross terms by GEMM per block of rows */
typedef struct {
    int64_t n;
    int d, k;
    const float *X;
    const double *xn, *cn;
    const float *const *ct_rows;
    float *scratch;
    int32_t *labels;
    double *dist2;
} assign_task;

static void assign_rows(void *ctx, int64_t t, int tid) {
    (void)tid;
    const assign_task *a = ctx;
    int64_t i0 = t * ROWS_PER_TASK, i1 = i0 + ROWS_PER_TASK < a->n ? i0 + ROWS_PER_TASK : a->n;
    float *g = a->scratch + i0 * a->k;
    /* g [rows, k] = X[rows] . Ct; nested inside the pool this GEMM runs serially */
    lis_gemm_cpu((int)(i1 - i0), a->k, a->d, a->X + i0 * a->d, a->d, a->ct_rows, g, a->k, 0);
    for (int64_t i = i0; i < i1; i++) {
        const float *gi = g + (i - i0) * a->k;
        double best = INFINITY;
        int bj = 0;
        for (int c = 0; c < a->k; c++) {
            double s = a->xn[i] - 2.0 * (double)gi[c] + a->cn[c];
            if (s < best) { best = s; bj = c; }
        }
        a->labels[i] = bj;
        a->dist2[i] = best > 0 ? best : 0; /* cancellation can go slightly negative */
    }
}

double lis_kmeans_assign_cpu(int64_t n, int d, const float *X, const double *xn, int k, const double *C,
                             const float *Ct, float *scratch, int32_t *labels, double *dist2) {
    double cn[64];
    const float *rows_small[256];
    const float **rows = d <= 256 ? rows_small : malloc(sizeof(float *) * (size_t)d);
    if (k > 64 || !rows) { /* outside the fast path's sizes */
        if (rows && rows != rows_small) free(rows);
        return lis_kmeans_assign_ref(n, d, X, k, C, labels, dist2);
    }
    for (int c = 0; c < k; c++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += C[(size_t)c * d + j] * C[(size_t)c * d + j];
        cn[c] = s;
    }
    lis_gemm_rows_from_matrix(Ct, d, k, rows);
    assign_task a = {n, d, k, X, xn, cn, rows, scratch, labels, dist2};
    lis_parallel_for((n + ROWS_PER_TASK - 1) / ROWS_PER_TASK, assign_rows, &a);
    if (rows != rows_small) free(rows);
    double tot = 0;
    for (int64_t i = 0; i < n; i++) tot += dist2[i];
    return tot;
}

/* ---- one run */
typedef struct {
    int64_t n;
    int d, k;
    const float *X;
    double *xn;            /* [n] |x|^2 */
    double *closest, *cand; /* [n], [n * trials] */
    double *cum;           /* [n] running sum */
    double *C, *Cnew;      /* [k, d] */
    float *Ct;             /* [d, k] */
    float *scratch;        /* [n, k] */
    int32_t *lab, *lab_old;
    double *dist2;         /* [n] */
    int64_t *count;        /* [k] */
    int reference;
} work;

static double assign(work *w, const double *C, int32_t *labels) {
    if (w->reference) return lis_kmeans_assign_ref(w->n, w->d, w->X, w->k, C, labels, w->dist2);
    for (int c = 0; c < w->k; c++)
        for (int j = 0; j < w->d; j++) w->Ct[(size_t)j * w->k + c] = (float)C[(size_t)c * w->d + j];
    return lis_kmeans_assign_cpu(w->n, w->d, w->X, w->xn, w->k, C, w->Ct, w->scratch, labels, w->dist2);
}

static int64_t uniform_index(lis_np_rng *r, int64_t n) {
    int64_t i = (int64_t)(lis_np_double(r) * (double)n);
    return i < n ? i : n - 1;
}

/* first index whose running sum exceeds v (numpy searchsorted side='left' on the cumsum,
 * clipped to n - 1 as sklearn does) */
static int64_t search(const double *cum, int64_t n, double v) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (cum[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo < n ? lo : n - 1;
}

static void set_center(work *w, double *C, int c, int64_t i) {
    for (int j = 0; j < w->d; j++) C[(size_t)c * w->d + j] = w->X[i * w->d + j];
}

/* greedy k-means++ (sklearn _kmeans_plusplus) */
static void kmeanspp(work *w, lis_np_rng *rng) {
    int64_t n = w->n;
    int k = w->k, trials = 2 + (int)log((double)k);
    set_center(w, w->C, 0, uniform_index(rng, n));
    sqdist_to(n, w->d, w->X, w->C, w->closest);
    double pot = 0;
    for (int64_t i = 0; i < n; i++) pot += w->closest[i];
    double *tmpc = w->Cnew; /* free during init */
    for (int c = 1; c < k; c++) {
        double run = 0;
        for (int64_t i = 0; i < n; i++) { run += w->closest[i]; w->cum[i] = run; }
        int64_t cand[64];
        for (int t = 0; t < trials; t++) cand[t] = search(w->cum, n, lis_np_double(rng) * pot);
        int best = 0;
        double best_pot = INFINITY;
        for (int t = 0; t < trials; t++) {
            set_center(w, tmpc, 0, cand[t]);
            double *dc = w->cand + (size_t)t * n;
            sqdist_to(n, w->d, w->X, tmpc, dc);
            double p = 0;
            for (int64_t i = 0; i < n; i++) {
                if (w->closest[i] < dc[i]) dc[i] = w->closest[i];
                p += dc[i];
            }
            if (p < best_pot) { best_pot = p; best = t; }
        }
        pot = best_pot;
        memcpy(w->closest, w->cand + (size_t)best * n, sizeof(double) * (size_t)n);
        set_center(w, w->C, c, cand[best]);
    }
}

/* Lloyd iterations from w->C; returns the inertia, labels in w->lab */
static double lloyd(work *w, int max_iter, double tol_abs, int *n_iter) {
    int64_t n = w->n;
    int d = w->d, k = w->k, it;
    int strict = 0;
    for (int64_t i = 0; i < n; i++) w->lab_old[i] = -1;
    for (it = 0; it < max_iter; it++) {
        assign(w, w->C, w->lab);
        /* M step */
        memset(w->Cnew, 0, sizeof(double) * (size_t)k * d);
        memset(w->count, 0, sizeof(int64_t) * (size_t)k);
        for (int64_t i = 0; i < n; i++) {
            double *c = w->Cnew + (size_t)w->lab[i] * d;
            const float *x = w->X + i * d;
            for (int j = 0; j < d; j++) c[j] += x[j];
            w->count[w->lab[i]]++;
        }
        /* empty clusters take the points farthest from their centres */
        for (int c = 0; c < k; c++) {
            if (w->count[c]) continue;
            int64_t far = -1;
            for (int64_t i = 0; i < n; i++)
                if (w->count[w->lab[i]] > 1 && (far < 0 || w->dist2[i] > w->dist2[far])) far = i;
            if (far < 0) break; /* n < k cannot happen (checked) */
            int old = w->lab[far];
            const float *x = w->X + far * d;
            for (int j = 0; j < d; j++) {
                w->Cnew[(size_t)old * d + j] -= x[j];
                w->Cnew[(size_t)c * d + j] = x[j];
            }
            w->count[old]--;
            w->count[c] = 1;
            w->dist2[far] = -1; /* not picked twice */
        }
        double shift = 0;
        for (int c = 0; c < k; c++)
            for (int j = 0; j < d; j++) {
                double v = w->Cnew[(size_t)c * d + j] / (double)w->count[c];
                double e = v - w->C[(size_t)c * d + j];
                shift += e * e;
                w->C[(size_t)c * d + j] = v;
            }
        if (!memcmp(w->lab, w->lab_old, sizeof(int32_t) * (size_t)n)) { strict = 1; break; }
        if (shift <= tol_abs) break;
        memcpy(w->lab_old, w->lab, sizeof(int32_t) * (size_t)n);
    }
    *n_iter = it < max_iter ? it + 1 : max_iter;
    /* labels for the final centres (sklearn reruns the E step unless strictly converged) */
    if (!strict) assign(w, w->C, w->lab);
    double inertia = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *x = w->X + i * d;
        const double *c = w->C + (size_t)w->lab[i] * d;
        double s = 0;
        for (int j = 0; j < d; j++) {
            double e = (double)x[j] - c[j];
            s += e * e;
        }
        inertia += s;
    }
    return inertia;
}

lis_status lis_kmeans(const lis_kmeans_params *p, int64_t n, int d, const float *X, int32_t *labels, double *centers,
                      lis_kmeans_info *info) {
    int k = p->k;
    if (k < 1 || k > 64) return lis_err_usage("k-means: k = %d (supported 1..64)", k);
    if (n < k) return lis_err_usage("k-means: %lld points for %d clusters", (long long)n, k);
    if (n > (int64_t)1 << 30 || d < 1) return lis_err_usage("k-means: unsupported size %lld x %d", (long long)n, d);
    if (p->n_init < 1 || p->max_iter < 1) return lis_err_usage("k-means: n_init and max_iter must be >= 1");
    for (int64_t i = 0; i < n * d; i++)
        if (!isfinite(X[i])) return lis_err_set("k-means: non-finite value at row %lld, column %lld", (long long)(i / d), (long long)(i % d));
    int trials = 2 + (int)log((double)k);
    work w = {.n = n, .d = d, .k = k, .X = X, .reference = p->reference};
    w.xn = lis_malloc(sizeof(double) * (size_t)n, "k-means norms");
    w.closest = lis_malloc(sizeof(double) * (size_t)n, "k-means distances");
    w.cand = lis_malloc(sizeof(double) * (size_t)n * trials, "k-means candidates");
    w.cum = lis_malloc(sizeof(double) * (size_t)n, "k-means cumsum");
    w.C = lis_malloc(sizeof(double) * (size_t)k * d, "k-means centres");
    w.Cnew = lis_malloc(sizeof(double) * (size_t)k * d, "k-means centres");
    w.Ct = lis_alloc_aligned(sizeof(float) * (size_t)k * d, "k-means centres");
    w.scratch = lis_alloc_aligned(sizeof(float) * (size_t)n * k, "k-means scratch");
    w.lab = lis_malloc(sizeof(int32_t) * (size_t)n, "k-means labels");
    w.lab_old = lis_malloc(sizeof(int32_t) * (size_t)n, "k-means labels");
    w.dist2 = lis_malloc(sizeof(double) * (size_t)n, "k-means distances");
    w.count = lis_malloc(sizeof(int64_t) * (size_t)k, "k-means counts");
    double *bestC = lis_malloc(sizeof(double) * (size_t)k * d, "k-means centres");
    lis_status s = LIS_OK;
    if (!w.xn || !w.closest || !w.cand || !w.cum || !w.C || !w.Cnew || !w.Ct || !w.scratch || !w.lab || !w.lab_old ||
        !w.dist2 || !w.count || !bestC) {
        s = LIS_ERR;
        goto done;
    }
    /* |x|^2 and the tolerance: tol * mean over columns of the (population) variance */
    double var_sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double q = 0;
        for (int j = 0; j < d; j++) q += (double)X[i * d + j] * X[i * d + j];
        w.xn[i] = q;
    }
    for (int j = 0; j < d; j++) {
        double m = 0, v = 0;
        for (int64_t i = 0; i < n; i++) m += X[i * d + j];
        m /= (double)n;
        for (int64_t i = 0; i < n; i++) v += ((double)X[i * d + j] - m) * ((double)X[i * d + j] - m);
        var_sum += v / (double)n;
    }
    double tol_abs = p->tol * var_sum / d;
    lis_np_rng rng;
    lis_np_seed(&rng, p->seed);
    double best = INFINITY;
    int best_iter = 0, best_init = 0;
    for (int r = 0; r < p->n_init; r++) {
        kmeanspp(&w, &rng);
        int it;
        double inertia = lloyd(&w, p->max_iter, tol_abs, &it);
        if (r == 0 || inertia < best) {
            best = inertia;
            best_iter = it;
            best_init = r;
            memcpy(labels, w.lab, sizeof(int32_t) * (size_t)n);
            memcpy(bestC, w.C, sizeof(double) * (size_t)k * d);
        }
    }
    if (centers) memcpy(centers, bestC, sizeof(double) * (size_t)k * d);
    if (info) { info->inertia = best; info->n_iter = best_iter; info->best_init = best_init; }
done:
    free(w.xn); free(w.closest); free(w.cand); free(w.cum); free(w.C); free(w.Cnew); free(w.Ct); free(w.scratch);
    free(w.lab); free(w.lab_old); free(w.dist2); free(w.count); free(bestC);
    return s;
}
