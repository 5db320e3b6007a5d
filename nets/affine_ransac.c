/* affine_ransac.c — OpenCV-exact estimateAffine2D (RANSAC) and warpAffine (see
 * affine_ransac.h). Float arithmetic is written one operation per statement where OpenCV's
 * float expressions are replicated (the build uses -std=c11, which does not contract a*b+c
 * into FMA, so the roundings are those of OpenCV's SSE2 build).
 */
#include "nets/affine_ransac.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void lis_affine_params_default(lis_affine_params *p) {
    p->threshold = 3.0;
    p->max_iters = 2000;
    p->confidence = 0.99;
    p->refine = 1;
    p->seed = 0xFFFFFFFFFFFFFFFFull; /* cv::RNG rng((uint64)-1) */
}

/* cv::RNG::next / uniform(a, b) */
static uint32_t rng_next(uint64_t *s) {
    *s = (uint64_t)(uint32_t)*s * 4164903690u + (*s >> 32);
    return (uint32_t)*s;
}
static int rng_uniform(uint64_t *s, int a, int b) { return a == b ? a : (int)(rng_next(s) % (uint32_t)(b - a)) + a; }

typedef struct {
    float x, y;
} pt2f;

/* cv::haveCollinearPoints for count = 3: the last point against the pair before it */
static int collinear3(const pt2f *p) {
    const int i = 2;
    for (int j = 0; j < i; j++) {
        const float fx1 = p[j].x - p[i].x, fy1 = p[j].y - p[i].y; /* float differences, as OpenCV */
        const double dx1 = fx1, dy1 = fy1;
        for (int k = 0; k < j; k++) {
            const float fx2 = p[k].x - p[i].x, fy2 = p[k].y - p[i].y;
            const double dx2 = fx2, dy2 = fy2;
            if (fabs(dx2 * dy1 - dy2 * dx1) <= FLT_EPSILON * (fabs(dx1) + fabs(dy1) + fabs(dx2) + fabs(dy2))) return 1;
        }
    }
    return 0;
}

/* RANSACPointSetRegistrator::getSubset with checkPartialSubsets = false */
static int get_subset(const pt2f *from, const pt2f *to, int count, uint64_t *rng, int max_attempts, pt2f *ms1,
                      pt2f *ms2) {
    int idx[3], i = 0, iters = 0;
    for (; iters < max_attempts; iters++) {
        for (i = 0; i < 3 && iters < max_attempts;) {
            int idx_i, j;
            for (;;) {
                idx_i = idx[i] = rng_uniform(rng, 0, count);
                for (j = 0; j < i; j++)
                    if (idx_i == idx[j]) break;
                if (j == i) break;
            }
            ms1[i] = from[idx_i];
            ms2[i] = to[idx_i];
            i++;
        }
        if (i == 3 && (collinear3(ms1) || collinear3(ms2))) continue;
        break;
    }
    return i == 3 && iters < max_attempts;
}

/* Affine2DEstimatorCallback::runKernel */
static void affine3(const pt2f *from, const pt2f *to, double *M) {
    const double x1 = from[0].x, y1 = from[0].y, x2 = from[1].x, y2 = from[1].y, x3 = from[2].x, y3 = from[2].y;
    const double X1 = to[0].x, Y1 = to[0].y, X2 = to[1].x, Y2 = to[1].y, X3 = to[2].x, Y3 = to[2].y;
    const double d = 1. / (x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2));
    M[0] = d * (X1 * (y2 - y3) + X2 * (y3 - y1) + X3 * (y1 - y2));
    M[1] = d * (X1 * (x3 - x2) + X2 * (x1 - x3) + X3 * (x2 - x1));
    M[2] = d * (X1 * (x2 * y3 - x3 * y2) + X2 * (x3 * y1 - x1 * y3) + X3 * (x1 * y2 - x2 * y1));
    M[3] = d * (Y1 * (y2 - y3) + Y2 * (y3 - y1) + Y3 * (y1 - y2));
    M[4] = d * (Y1 * (x3 - x2) + Y2 * (x1 - x3) + Y3 * (x2 - x1));
    M[5] = d * (Y1 * (x2 * y3 - x3 * y2) + Y2 * (x3 * y1 - x1 * y3) + Y3 * (x1 * y2 - x2 * y1));
}

/* computeError + findInliers: float32 squared error <= (float)(thresh^2) */
static int find_inliers(const pt2f *from, const pt2f *to, int count, const double *F, double thresh, uint8_t *mask) {
    const float F0 = (float)F[0], F1 = (float)F[1], F2 = (float)F[2];
    const float F3 = (float)F[3], F4 = (float)F[4], F5 = (float)F[5];
    const float t = (float)(thresh * thresh);
    int nz = 0;
    for (int i = 0; i < count; i++) {
        float a = F0 * from[i].x;
        a = a + F1 * from[i].y;
        a = a + F2;
        a = a - to[i].x;
        float b = F3 * from[i].x;
        b = b + F4 * from[i].y;
        b = b + F5;
        b = b - to[i].y;
        const float e = a * a + b * b;
        mask[i] = e <= t;
        nz += mask[i];
    }
    return nz;
}

/* cv::RANSACUpdateNumIters */
static int update_num_iters(double p, double ep, int model_points, int max_iters) {
    p = p < 0. ? 0. : (p > 1. ? 1. : p);
    ep = ep < 0. ? 0. : (ep > 1. ? 1. : ep);
    double num = 1. - p > DBL_MIN ? 1. - p : DBL_MIN;
    double denom = 1. - pow(1. - ep, model_points);
    if (denom < DBL_MIN) return 0;
    num = log(num);
    denom = log(denom);
    return denom >= 0 || -num >= max_iters * (-denom) ? max_iters : (int)lrint(num / denom);
}

/* least squares of (x', y') = A (x, y, 1) over the masked points, centred for conditioning */
static int lsq_affine(const pt2f *from, const pt2f *to, int count, const uint8_t *mask, double *A) {
    double mx = 0, my = 0, mX = 0, mY = 0;
    int n = 0;
    for (int i = 0; i < count; i++)
        if (mask[i]) { mx += from[i].x; my += from[i].y; mX += to[i].x; mY += to[i].y; n++; }
    if (n < 3) return 0;
    mx /= n; my /= n; mX /= n; mY /= n;
    double suu = 0, suv = 0, svv = 0, suX = 0, svX = 0, suY = 0, svY = 0;
    for (int i = 0; i < count; i++) {
        if (!mask[i]) continue;
        const double u = from[i].x - mx, v = from[i].y - my, X = to[i].x - mX, Y = to[i].y - mY;
        suu += u * u; suv += u * v; svv += v * v;
        suX += u * X; svX += v * X; suY += u * Y; svY += v * Y;
    }
    const double det = suu * svv - suv * suv;
    if (!(fabs(det) > 1e-12 * (suu * svv + 1e-300))) return 0; /* collinear inliers: keep RANSAC's model */
    A[0] = (suX * svv - svX * suv) / det;
    A[1] = (svX * suu - suX * suv) / det;
    A[3] = (suY * svv - svY * suv) / det;
    A[4] = (svY * suu - suY * suv) / det;
    A[2] = mX - A[0] * mx - A[1] * my;
    A[5] = mY - A[3] * mx - A[4] * my;
    return 1;
}

lis_status lis_affine_estimate(const float *pts, int n, int stride, const lis_affine_params *p, double A[6],
                               uint8_t *inliers, int *n_inliers) {
    if (n < 3) return lis_err_set("affine: %d correspondences (RANSAC needs at least 3)", n);
    if (!(p->confidence > 0 && p->confidence < 1) || p->max_iters < 1 || !(p->threshold > 0))
        return lis_err_set("affine: bad RANSAC parameters (confidence %g, iterations %d, threshold %g)", p->confidence,
                           p->max_iters, p->threshold);
    pt2f *from = malloc(sizeof(pt2f) * (size_t)n), *to = malloc(sizeof(pt2f) * (size_t)n);
    uint8_t *mask = malloc((size_t)n), *best = malloc((size_t)n);
    if (!from || !to || !mask || !best) {
        free(from); free(to); free(mask); free(best);
        return lis_err_set("affine: out of memory (%d points)", n);
    }
    for (int i = 0; i < n; i++) {
        from[i] = (pt2f){pts[(size_t)i * stride], pts[(size_t)i * stride + 1]};
        to[i] = (pt2f){pts[(size_t)i * stride + 2], pts[(size_t)i * stride + 3]};
    }
    lis_status s = LIS_OK;
    double M[6], bestM[6] = {0};
    int max_good = 0;
    if (n == 3) {
        affine3(from, to, bestM);
        memset(best, 1, 3);
        max_good = 3;
    } else {
        uint64_t rng = p->seed;
        int niters = p->max_iters;
        pt2f ms1[3], ms2[3];
        for (int iter = 0; iter < niters; iter++) {
            if (!get_subset(from, to, n, &rng, 10000, ms1, ms2)) {
                if (iter == 0) s = lis_err_set("affine: no non-collinear sample among %d correspondences", n);
                break;
            }
            affine3(ms1, ms2, M);
            const int good = find_inliers(from, to, n, M, p->threshold, mask);
            if (good > (max_good > 2 ? max_good : 2)) {
                uint8_t *t = mask; mask = best; best = t;
                memcpy(bestM, M, sizeof M);
                max_good = good;
                niters = update_num_iters(p->confidence, (double)(n - good) / n, 3, niters);
            }
        }
        if (s == LIS_OK && max_good == 0) s = lis_err_set("affine: RANSAC found no model with 3 or more inliers");
    }
    if (s == LIS_OK) {
        if (p->refine && n > 3) {
            double R[6];
            if (lsq_affine(from, to, n, best, R)) memcpy(bestM, R, sizeof R);
        }
        memcpy(A, bestM, sizeof bestM);
        if (inliers) memcpy(inliers, best, (size_t)n);
        if (n_inliers) *n_inliers = max_good;
    }
    free(from); free(to); free(mask); free(best);
    return s;
}

/* ---- warpAffine ---- */

#define INTER_BITS 5
#define INTER_TAB_SIZE (1 << INTER_BITS)
#define AB_BITS 10
#define AB_SCALE (1 << AB_BITS)
#define COEF_BITS 15

static int sat_int(double v) { /* saturate_cast<int>(double) = cvRound, round half to even */
    if (!(v > -2147483648.0)) return INT32_MIN;
    if (!(v < 2147483647.0)) return INT32_MAX;
    return (int)lrint(v);
}
static int sat_short(int v) { return v < -32768 ? -32768 : (v > 32767 ? 32767 : v); }

/* OpenCV's BilinearTab_i[fy*32 + fx][2][2]: weights (1 - fy/32, fy/32) x (1 - fx/32, fx/32)
 * times 2^15 in float, saturated to short. Only the exact-pixel entry saturates (32768 ->
 * 32767); initInterTab2D then adds the missing unit to the largest of the entries it scans,
 * which for this entry (its scan runs past the 2x2 block into zeros) is the (1, 1) tap. */
static void bilinear_tab(int fy, int fx, int w[4]) {
    const float ty[2] = {1.f - (float)fy / INTER_TAB_SIZE, (float)fy / INTER_TAB_SIZE};
    const float tx[2] = {1.f - (float)fx / INTER_TAB_SIZE, (float)fx / INTER_TAB_SIZE};
    int sum = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            const float v = ty[a] * tx[b];
            w[a * 2 + b] = sat_short((int)lrintf(v * (1 << COEF_BITS)));
            sum += w[a * 2 + b];
        }
    if (sum != (1 << COEF_BITS) && fy == 0 && fx == 0) w[3] += (1 << COEF_BITS) - sum;
}

void lis_warp_affine_u8(const uint8_t *src, int H, int W, int C, const double A[6], uint8_t *dst) {
    double M[6];
    memcpy(M, A, sizeof M);
    /* warpAffine without WARP_INVERSE_MAP inverts the matrix */
    double D = M[0] * M[4] - M[1] * M[3];
    D = D != 0 ? 1. / D : 0;
    const double A11 = M[4] * D, A22 = M[0] * D;
    M[0] = A11; M[1] *= -D;
    M[3] *= -D; M[4] = A22;
    const double b1 = -M[0] * M[2] - M[1] * M[5];
    const double b2 = -M[3] * M[2] - M[4] * M[5];
    M[2] = b1; M[5] = b2;
    int tab[INTER_TAB_SIZE * INTER_TAB_SIZE][4];
    for (int fy = 0; fy < INTER_TAB_SIZE; fy++)
        for (int fx = 0; fx < INTER_TAB_SIZE; fx++) bilinear_tab(fy, fx, tab[fy * INTER_TAB_SIZE + fx]);
    const int round_delta = AB_SCALE / INTER_TAB_SIZE / 2;
    for (int y = 0; y < H; y++) {
        const int X0 = sat_int((M[1] * y + M[2]) * AB_SCALE) + round_delta;
        const int Y0 = sat_int((M[4] * y + M[5]) * AB_SCALE) + round_delta;
        for (int x = 0; x < W; x++) {
            const int adelta = sat_int(M[0] * x * AB_SCALE), bdelta = sat_int(M[3] * x * AB_SCALE);
            const int X = (X0 + adelta) >> (AB_BITS - INTER_BITS), Y = (Y0 + bdelta) >> (AB_BITS - INTER_BITS);
            const int sx = sat_short(X >> INTER_BITS), sy = sat_short(Y >> INTER_BITS);
            const int *w = tab[(Y & (INTER_TAB_SIZE - 1)) * INTER_TAB_SIZE + (X & (INTER_TAB_SIZE - 1))];
            uint8_t *d = dst + ((size_t)y * W + x) * C;
            for (int c = 0; c < C; c++) {
                int acc = 0;
                for (int a = 0; a < 2; a++)
                    for (int b = 0; b < 2; b++) {
                        const int yy = sy + a, xx = sx + b;
                        if (yy >= 0 && yy < H && xx >= 0 && xx < W) acc += src[((size_t)yy * W + xx) * C + c] * w[a * 2 + b];
                    }
                const int v = (acc + (1 << (COEF_BITS - 1))) >> COEF_BITS;
                d[c] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
            }
        }
    }
}

void lis_affine_decompose(const double A[6], double cx, double cy, double *rot, double *scale, double *tx,
                          double *ty) {
    *rot = atan2(A[3] - A[1], A[0] + A[4]);
    *scale = sqrt(fabs(A[0] * A[4] - A[1] * A[3]));
    *tx = A[0] * cx + A[1] * cy + A[2] - cx;
    *ty = A[3] * cx + A[4] * cy + A[5] - cy;
}
