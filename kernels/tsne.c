/* tsne.c — exact t-SNE (see tsne.h). The gradient loop is threaded over points. */
#include "kernels/tsne.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

void lis_tsne_params_default(lis_tsne_params *p) {
    p->perplexity = 30;
    p->early_exaggeration = 12;
    p->n_iter = 1000;
    p->exaggeration_iter = 250;
    p->learning_rate = 0;
}

/* sklearn _binary_search_perplexity: row i of P from squared distances D */
static void row_p(const double *D, int n, int i, double perplexity, double *P) {
    double lo = -INFINITY, hi = INFINITY, beta = 1.0, target = log(perplexity);
    for (int step = 0; step < 100; step++) {
        double sum = 0;
        for (int j = 0; j < n; j++) {
            P[j] = j == i ? 0 : exp(-D[(size_t)i * n + j] * beta);
            sum += P[j];
        }
        if (sum == 0) sum = 1e-8;
        double h = 0;
        for (int j = 0; j < n; j++) {
            P[j] /= sum;
            h += D[(size_t)i * n + j] * P[j];
        }
        double entropy = log(sum) + beta * h;
        double diff = entropy - target;
        if (fabs(diff) <= 1e-5) break;
        if (diff > 0) {
            lo = beta;
            beta = hi == INFINITY ? beta * 2 : (beta + hi) / 2;
        } else {
            hi = beta;
            beta = lo == -INFINITY ? beta / 2 : (beta + lo) / 2;
        }
    }
}

typedef struct {
    const double *P, *Y;
    double *G, *num;
    int n;
    double exag, zsum;
} grad_job;

static void num_task(void *ctx, int64_t i, int tid) {
    grad_job *j = ctx;
    int n = j->n;
    for (int k = 0; k < n; k++) {
        double dx = j->Y[2 * i] - j->Y[2 * k], dy = j->Y[2 * i + 1] - j->Y[2 * k + 1];
        j->num[(size_t)i * n + k] = k == i ? 0 : 1.0 / (1.0 + dx * dx + dy * dy);
    }
}

static void grad_task(void *ctx, int64_t i, int tid) {
    grad_job *j = ctx;
    int n = j->n;
    double gx = 0, gy = 0;
    for (int k = 0; k < n; k++) {
        double w = j->num[(size_t)i * n + k];
        double pq = j->exag * j->P[(size_t)i * n + k] - w / j->zsum;
        gx += pq * w * (j->Y[2 * i] - j->Y[2 * k]);
        gy += pq * w * (j->Y[2 * i + 1] - j->Y[2 * k + 1]);
    }
    j->G[2 * i] = 4 * gx;
    j->G[2 * i + 1] = 4 * gy;
}

/* the two leading principal components by power iteration (deterministic start) */
static void pca2(const double *X, int n, int d, double *Y) {
    double *mu = calloc((size_t)d, sizeof(double)), *v = malloc(sizeof(double) * d * 2), *t = malloc(sizeof(double) * d);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++) mu[k] += X[(size_t)i * d + k] / n;
    for (int c = 0; c < 2; c++) {
        double *vc = v + (size_t)c * d;
        for (int k = 0; k < d; k++) vc[k] = 1.0 + 0.01 * k * (c + 1) + (k % 3 == c ? 1 : 0);
        for (int it = 0; it < 300; it++) {
            memset(t, 0, sizeof(double) * d);
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int k = 0; k < d; k++) s += (X[(size_t)i * d + k] - mu[k]) * vc[k];
                for (int k = 0; k < d; k++) t[k] += s * (X[(size_t)i * d + k] - mu[k]);
            }
            if (c == 1) { /* deflate: stay orthogonal to the first component */
                double s = 0;
                for (int k = 0; k < d; k++) s += t[k] * v[k];
                for (int k = 0; k < d; k++) t[k] -= s * v[k];
            }
            double nn = 0;
            for (int k = 0; k < d; k++) nn += t[k] * t[k];
            nn = sqrt(nn);
            if (nn == 0) break;
            for (int k = 0; k < d; k++) vc[k] = t[k] / nn;
        }
        /* sign convention: largest |component| positive (like svd_flip) */
        int am = 0;
        for (int k = 1; k < d; k++) if (fabs(vc[k]) > fabs(vc[am])) am = k;
        if (vc[am] < 0) for (int k = 0; k < d; k++) vc[k] = -vc[k];
    }
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 2; c++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += (X[(size_t)i * d + k] - mu[k]) * v[(size_t)c * d + k];
            Y[2 * i + c] = s;
        }
    double m0 = 0, s0 = 0;
    for (int i = 0; i < n; i++) m0 += Y[2 * i] / n;
    for (int i = 0; i < n; i++) s0 += (Y[2 * i] - m0) * (Y[2 * i] - m0) / n;
    s0 = sqrt(s0);
    for (int i = 0; i < 2 * n; i++) Y[i] = s0 > 0 ? Y[i] / s0 * 1e-4 : 1e-4 * ((i * 7919) % 13 - 6) / 6.0;
    free(mu); free(v); free(t);
}

lis_status lis_tsne(const lis_tsne_params *p, const double *X, int n, int d, double *Y, double *kl) {
    if (n < 2 || d < 1) return lis_err_set("tsne: %d points of dimension %d", n, d);
    size_t nn = (size_t)n * n;
    double *D = malloc(sizeof(double) * nn), *P = malloc(sizeof(double) * nn), *num = malloc(sizeof(double) * nn);
    double *G = malloc(sizeof(double) * 2 * n), *upd = calloc((size_t)2 * n, sizeof(double)), *gains = malloc(sizeof(double) * 2 * n);
    if (!D || !P || !num || !G || !upd || !gains) {
        free(D); free(P); free(num); free(G); free(upd); free(gains);
        return lis_err_set("tsne: out of memory for %d points", n);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) { double t = X[(size_t)i * d + k] - X[(size_t)j * d + k]; s += t * t; }
            D[(size_t)i * n + j] = s;
        }
    double perp = p->perplexity;
    if (perp > (n - 1) / 3.0) perp = (n - 1) / 3.0 > 1 ? (n - 1) / 3.0 : 1;
    for (int i = 0; i < n; i++) row_p(D, n, i, perp, P + (size_t)i * n);
    double tot = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double v = P[(size_t)i * n + j] + P[(size_t)j * n + i];
            P[(size_t)i * n + j] = P[(size_t)j * n + i] = v;
            tot += 2 * v;
        }
    for (size_t k = 0; k < nn; k++) P[k] = fmax(P[k] / (tot > 0 ? tot : 1), DBL_EPSILON);
    for (int i = 0; i < n; i++) P[(size_t)i * n + i] = 0;
    pca2(X, n, d, Y);
    double lr = p->learning_rate > 0 ? p->learning_rate : fmax(n / p->early_exaggeration / 4, 50);
    for (int k = 0; k < 2 * n; k++) gains[k] = 1;
    grad_job j = {P, Y, G, num, n, p->early_exaggeration, 0};
    for (int it = 0; it < p->n_iter; it++) {
        int explore = it < p->exaggeration_iter;
        j.exag = explore ? p->early_exaggeration : 1;
        double momentum = explore ? 0.5 : 0.8;
        lis_parallel_for(n, num_task, &j);
        double z = 0;
        for (size_t k = 0; k < nn; k++) z += num[k];
        j.zsum = z > DBL_EPSILON ? z : DBL_EPSILON;
        lis_parallel_for(n, grad_task, &j);
        for (int k = 0; k < 2 * n; k++) {
            gains[k] = upd[k] * G[k] < 0 ? gains[k] + 0.2 : gains[k] * 0.8;
            if (gains[k] < 0.01) gains[k] = 0.01;
            upd[k] = momentum * upd[k] - lr * gains[k] * G[k];
            Y[k] += upd[k];
        }
    }
    if (kl) {
        lis_parallel_for(n, num_task, &j);
        double z = 0, s = 0;
        for (size_t k = 0; k < nn; k++) z += num[k];
        for (size_t k = 0; k < nn; k++)
            if (P[k] > 0 && num[k] > 0) s += P[k] * log(P[k] / fmax(num[k] / z, DBL_EPSILON));
        *kl = s;
    }
    free(D); free(P); free(num); free(G); free(upd); free(gains);
    return LIS_OK;
}
