/* fit_ellipse.c — OpenCV 4.6's cv::fitEllipse (see fit_ellipse.h), ported step by step:
 * the same centring (float32 centroid, as OpenCV's Point2f sums), the same scaling, the
 * same three least-squares solves and the same post-processing of angle and axes.
 */
#include "kernels/fit_ellipse.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STACK_PTS 1024

/* Least squares A x ~= b by a one-sided Jacobi SVD (A is n x k, row-major, k <= 5;
 * destroyed). Singular values below 2 * DBL_EPSILON * sum(w) are dropped, as OpenCV's
 * SVBackSubst does. w_out (optional) gets the singular values sorted descending. */
static void svd_solve(double *A, int n, int k, const double *b, double *x, double *w_out) {
    double V[25] = {0};
    for (int i = 0; i < k; i++) V[i * k + i] = 1.0;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (int p = 0; p < k; p++)
            for (int q = p + 1; q < k; q++) {
                double a = 0, bb = 0, g = 0;
                for (int r = 0; r < n; r++) {
                    double ap = A[r * k + p], aq = A[r * k + q];
                    a += ap * ap;
                    bb += aq * aq;
                    g += ap * aq;
                }
                if (g == 0 || fabs(g) <= 1e-17 * sqrt(a * bb)) continue;
                off += fabs(g) / sqrt(a * bb);
                double zeta = (bb - a) / (2 * g);
                double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1 + zeta * zeta));
                double c = 1 / sqrt(1 + t * t), s = c * t;
                for (int r = 0; r < n; r++) {
                    double ap = A[r * k + p], aq = A[r * k + q];
                    A[r * k + p] = c * ap - s * aq;
                    A[r * k + q] = s * ap + c * aq;
                }
                for (int r = 0; r < k; r++) {
                    double vp = V[r * k + p], vq = V[r * k + q];
                    V[r * k + p] = c * vp - s * vq;
                    V[r * k + q] = s * vp + c * vq;
                }
            }
        if (off < 1e-15) break;
    }
    double w[5], sum = 0;
    for (int i = 0; i < k; i++) {
        double a = 0;
        for (int r = 0; r < n; r++) a += A[r * k + i] * A[r * k + i];
        w[i] = sqrt(a);
        sum += w[i];
    }
    double thr = 2 * DBL_EPSILON * sum;
    for (int i = 0; i < k; i++) x[i] = 0;
    for (int i = 0; i < k; i++) {
        if (w[i] <= thr) continue;
        double ub = 0; /* (A V)_i . b / w_i^2 = u_i . b / w_i */
        for (int r = 0; r < n; r++) ub += A[r * k + i] * b[r];
        ub /= w[i] * w[i];
        for (int j = 0; j < k; j++) x[j] += V[j * k + i] * ub;
    }
    if (w_out) {
        for (int i = 0; i < k; i++) w_out[i] = w[i];
        for (int i = 1; i < k; i++) /* descending, as OpenCV's SVDecomp */
            for (int j = i; j > 0 && w_out[j] > w_out[j - 1]; j--) {
                double t = w_out[j]; w_out[j] = w_out[j - 1]; w_out[j - 1] = t;
            }
    }
}

/* fitEllipseNoDirect. P: n float points (OpenCV's ptsf_copy), A: n*5 doubles, b: n. */
static void fit_nodirect(float *P, int n, double *A, double *b, lis_ellipse *e) {
    float cx = 0, cy = 0;
    for (int i = 0; i < n; i++) { cx += P[2 * i]; cy += P[2 * i + 1]; }
    cx /= n;
    cy /= n;
    double s = 0;
    for (int i = 0; i < n; i++) s += fabs((double)(P[2 * i] - cx)) + fabs((double)(P[2 * i + 1] - cy));
    double scale = 100. / (s > FLT_EPSILON ? s : FLT_EPSILON);
    double gfp[5] = {0}, rp[5] = {0}, wd[5];
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
            double px = (double)(P[2 * i] - cx) * scale, py = (double)(P[2 * i + 1] - cy) * scale;
            b[i] = 10000.0;
            A[i * 5] = -px * px; /* A - C signs inverted as proposed by APP */
            A[i * 5 + 1] = -py * py;
            A[i * 5 + 2] = -px * py;
            A[i * 5 + 3] = px;
            A[i * 5 + 4] = py;
        }
        svd_solve(A, n, 5, b, gfp, wd);
        if (pass == 1 || !(wd[0] * FLT_EPSILON > wd[4])) break;
        /* nearly collinear: nudge every point by +-eps (OpenCV 4.6's getOfs(i, eps)) */
        float eps = (float)(s / (n * 2) * 1e-3);
        for (int i = 0; i < n; i++) {
            P[2 * i] += ((i & 1) * 2 - 1) * eps;
            P[2 * i + 1] += ((i & 2) - 1) * eps;
        }
    }
    /* centre: gradient of the general form = 0 */
    double M[4] = {2 * gfp[0], gfp[2], gfp[2], 2 * gfp[1]}, bc[2] = {gfp[3], gfp[4]};
    svd_solve(M, 2, 2, bc, rp, NULL);
    /* re-fit A - C about that centre */
    for (int i = 0; i < n; i++) {
        double px = (double)(P[2 * i] - cx) * scale, py = (double)(P[2 * i + 1] - cy) * scale;
        b[i] = 1.0;
        A[i * 3] = (px - rp[0]) * (px - rp[0]);
        A[i * 3 + 1] = (py - rp[1]) * (py - rp[1]);
        A[i * 3 + 2] = (px - rp[0]) * (py - rp[1]);
    }
    svd_solve(A, n, 3, b, gfp, NULL);
    const double min_eps = 1e-8;
    double t;
    rp[4] = -0.5 * atan2(gfp[2], gfp[1] - gfp[0]); /* convert from APP angle usage */
    if (fabs(gfp[2]) > min_eps) t = gfp[2] / sin(-2.0 * rp[4]);
    else t = gfp[1] - gfp[0]; /* rotated by a multiple of pi/2 */
    rp[2] = fabs(gfp[0] + gfp[1] - t);
    if (rp[2] > min_eps) rp[2] = sqrt(2.0 / rp[2]);
    rp[3] = fabs(gfp[0] + gfp[1] + t);
    if (rp[3] > min_eps) rp[3] = sqrt(2.0 / rp[3]);
    e->cx = (float)(rp[0] / scale) + cx;
    e->cy = (float)(rp[1] / scale) + cy;
    e->w = (float)(rp[2] * 2 / scale);
    e->h = (float)(rp[3] * 2 / scale);
    e->angle = 0; /* OpenCV sets the angle only when it swaps the axes */
    if (e->w > e->h) {
        float tmp = e->w;
        e->w = e->h;
        e->h = tmp;
        e->angle = (float)(90 + rp[4] * 180 / M_PI);
    }
    if (e->angle < -180) e->angle += 360;
    if (e->angle > 360) e->angle -= 360;
}

static double det3(const double *m) {
    return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/* Real eigenpairs of a 3x3 matrix: returns their count; vec[i] is a unit eigenvector. */
static int eig3(const double *m, double *val, double (*vec)[3]) {
    double tr = m[0] + m[4] + m[8];
    double c1 = m[0] * m[4] - m[1] * m[3] + m[0] * m[8] - m[2] * m[6] + m[4] * m[8] - m[5] * m[7];
    double dt = det3(m);
    /* l^3 - tr l^2 + c1 l - dt = 0 -> depressed cubic */
    double a = -tr, bq = c1, cq = -dt;
    double p = bq - a * a / 3, q = 2 * a * a * a / 27 - a * bq / 3 + cq;
    int nr;
    double r[3];
    double disc = q * q / 4 + p * p * p / 27;
    if (disc > 0) {
        double u = cbrt(-q / 2 + sqrt(disc)), v = cbrt(-q / 2 - sqrt(disc));
        r[0] = u + v - a / 3;
        nr = 1;
    } else {
        double rr = sqrt(-p / 3 > 0 ? -p / 3 : 0);
        double arg = rr > 0 ? (-q / 2) / (rr * rr * rr) : 0;
        arg = arg > 1 ? 1 : (arg < -1 ? -1 : arg);
        double phi = acos(arg);
        for (int k = 0; k < 3; k++) r[k] = 2 * rr * cos((phi - 2 * M_PI * k) / 3) - a / 3;
        nr = 3;
    }
    for (int k = 0; k < nr; k++) {
        double B[9];
        memcpy(B, m, sizeof B);
        B[0] -= r[k]; B[4] -= r[k]; B[8] -= r[k];
        /* the eigenvector is orthogonal to every row: take the largest cross product */
        double best = -1, bv[3] = {0, 0, 1};
        for (int i = 0; i < 3; i++) {
            const double *x = B + 3 * i, *y = B + 3 * ((i + 1) % 3);
            double cr[3] = {x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]};
            double nn = cr[0] * cr[0] + cr[1] * cr[1] + cr[2] * cr[2];
            if (nn > best) { best = nn; memcpy(bv, cr, sizeof bv); }
        }
        double nn = sqrt(bv[0] * bv[0] + bv[1] * bv[1] + bv[2] * bv[2]);
        if (nn == 0) nn = 1;
        val[k] = r[k];
        for (int j = 0; j < 3; j++) vec[k][j] = bv[j] / nn;
    }
    return nr;
}

/* fitEllipseDirect (used by OpenCV 4.6 for exactly 5 points). Returns 0 when it has to
 * defer to fitEllipseNoDirect. */
static int fit_direct(const int *pts, int n, lis_ellipse *e) {
    double cx = 0, cy = 0, s = 0;
    for (int i = 0; i < n; i++) { cx += (float)pts[2 * i]; cy += (float)pts[2 * i + 1]; }
    cx /= n;
    cy /= n;
    for (int i = 0; i < n; i++) s += fabs(pts[2 * i] - cx) + fabs(pts[2 * i + 1] - cy);
    double scale = 100. / (s > FLT_EPSILON ? s : (double)FLT_EPSILON);
    double DM[6][6], TM[9], M[9], Ts = 0;
    int ok = 0;
    for (int iter = 0; iter < 2 && !ok; iter++) {
        float eps = iter ? (float)(s / (n * 2) * 1e-2) : 0.0f;
        memset(DM, 0, sizeof DM);
        for (int i = 0; i < n; i++) {
            double dx = iter ? ((i & 1) * 2 - 1) * eps : 0, dy = iter ? ((i & 2) - 1) * eps : 0;
            double px = (pts[2 * i] + dx - cx) * scale, py = (pts[2 * i + 1] + dy - cy) * scale;
            double a[6] = {px * px, px * py, py * py, px, py, 1.0};
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 6; c++) DM[r][c] += a[r] * a[c];
        }
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 6; c++) DM[r][c] /= n;
#define D(r, c) DM[r][c]
        for (int j = 0; j < 3; j++) {
            TM[0 * 3 + j] = D(j, 5) * D(3, 5) * D(4, 4) - D(j, 5) * D(3, 4) * D(4, 5) - D(j, 4) * D(3, 5) * D(5, 4) +
                            D(j, 3) * D(4, 5) * D(5, 4) + D(j, 4) * D(3, 4) * D(5, 5) - D(j, 3) * D(4, 4) * D(5, 5);
            TM[1 * 3 + j] = D(j, 5) * D(3, 3) * D(4, 5) - D(j, 5) * D(3, 5) * D(4, 3) + D(j, 4) * D(3, 5) * D(5, 3) -
                            D(j, 3) * D(4, 5) * D(5, 3) - D(j, 4) * D(3, 3) * D(5, 5) + D(j, 3) * D(4, 3) * D(5, 5);
            TM[2 * 3 + j] = D(j, 5) * D(3, 4) * D(4, 3) - D(j, 5) * D(3, 3) * D(4, 4) - D(j, 4) * D(3, 4) * D(5, 3) +
                            D(j, 3) * D(4, 4) * D(5, 3) + D(j, 4) * D(3, 3) * D(5, 4) - D(j, 3) * D(4, 3) * D(5, 4);
        }
        Ts = -(D(3, 5) * D(4, 4) * D(5, 3)) + D(3, 4) * D(4, 5) * D(5, 3) + D(3, 5) * D(4, 3) * D(5, 4) -
             D(3, 3) * D(4, 5) * D(5, 4) - D(3, 4) * D(4, 3) * D(5, 5) + D(3, 3) * D(4, 4) * D(5, 5);
        for (int j = 0; j < 3; j++) {
            M[0 * 3 + j] = (D(2, j) + (D(2, 3) * TM[0 + j] + D(2, 4) * TM[3 + j] + D(2, 5) * TM[6 + j]) / Ts) / 2.;
            M[1 * 3 + j] = -D(1, j) - (D(1, 3) * TM[0 + j] + D(1, 4) * TM[3 + j] + D(1, 5) * TM[6 + j]) / Ts;
            M[2 * 3 + j] = (D(0, j) + (D(0, 3) * TM[0 + j] + D(0, 4) * TM[3 + j] + D(0, 5) * TM[6 + j]) / Ts) / 2.;
        }
#undef D
        if (fabs(det3(M)) > 1.0e-10) ok = 1;
    }
    if (!ok) return 0;
    double val[3], vec[3][3];
    int ne = eig3(M, val, vec);
    int i = 0;
    double best = -HUGE_VAL;
    for (int k = 0; k < ne; k++) { /* the eigenvector with 4ac - b^2 > 0: the largest */
        double cond = 4.0 * vec[k][0] * vec[k][2] - vec[k][1] * vec[k][1];
        if (cond > best) { best = cond; i = k; }
    }
    double norm = sqrt(vec[i][0] * vec[i][0] + vec[i][1] * vec[i][1] + vec[i][2] * vec[i][2]);
    if ((vec[i][0] < 0 ? -1 : 1) * (vec[i][1] < 0 ? -1 : 1) * (vec[i][2] < 0 ? -1 : 1) <= 0) norm = -norm;
    double pv[3] = {vec[i][0] / norm, vec[i][1] / norm, vec[i][2] / norm};
    double Q[3];
    for (int k = 0; k < 3; k++) Q[k] = (TM[k * 3 + 0] * pv[0] + TM[k * 3 + 1] * pv[1] + TM[k * 3 + 2] * pv[2]) / Ts;
    double u1 = pv[2] * Q[0] * Q[0] - pv[1] * Q[0] * Q[1] + pv[0] * Q[1] * Q[1] + pv[1] * pv[1] * Q[2];
    double u2 = pv[0] * pv[2] * Q[2];
    double l1 = sqrt(pv[1] * pv[1] + (pv[0] - pv[2]) * (pv[0] - pv[2]));
    double l2 = pv[0] + pv[2];
    double l3 = pv[1] * pv[1] - 4 * pv[0] * pv[2];
    double p1 = 2 * pv[2] * Q[0] - pv[1] * Q[1];
    double p2 = 2 * pv[0] * Q[1] - pv[1] * Q[0];
    double x0 = (p1 / l3 / scale) + cx, y0 = (p2 / l3 / scale) + cy;
    double a = sqrt(2.) * sqrt((u1 - 4.0 * u2) / ((l1 - l2) * l3)) / scale;
    double bb = sqrt(2.) * sqrt(-1.0 * ((u1 - 4.0 * u2) / ((l1 + l2) * l3))) / scale;
    double theta;
    if (pv[1] == 0) theta = pv[0] < pv[2] ? 0 : M_PI / 2.;
    else theta = M_PI / 2. + 0.5 * atan2(pv[1], pv[0] - pv[2]);
    e->cx = (float)x0;
    e->cy = (float)y0;
    e->w = (float)(2.0 * a);
    e->h = (float)(2.0 * bb);
    if (e->w > e->h) {
        float tmp = e->w;
        e->w = e->h;
        e->h = tmp;
        e->angle = (float)fmod(90 + theta * 180 / M_PI, 180.0);
    } else {
        e->angle = (float)fmod(theta * 180 / M_PI, 180.0);
    }
    return 1;
}

lis_status lis_fit_ellipse(const int *pts, int n, lis_ellipse *e) {
    if (n < 5) return lis_err_set("fit_ellipse: %d points; at least 5 are needed", n);
    if (n == 5 && fit_direct(pts, n, e)) return LIS_OK;
    float Ps[2 * STACK_PTS];
    double As[5 * STACK_PTS], bs[STACK_PTS];
    float *P = Ps;
    double *A = As, *b = bs;
    void *heap = NULL;
    if (n > STACK_PTS) {
        heap = malloc((sizeof(float) * 2 + sizeof(double) * 6) * (size_t)n);
        if (!heap) return lis_err_set("fit_ellipse: out of memory for %d points", n);
        A = heap;
        b = A + (size_t)5 * n;
        P = (float *)(b + n);
    }
    for (int i = 0; i < 2 * n; i++) P[i] = (float)pts[i];
    fit_nodirect(P, n, A, b, e);
    free(heap);
    return LIS_OK;
}

double lis_ellipse_eccentricity(const lis_ellipse *e) {
    double w = e->w, h = e->h;
    if (w > h) return NAN;
    return sqrt(1.0 - (w * w) / (h * h));
}
