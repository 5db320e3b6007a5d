/* entropy.c — local entropy over a disk (see entropy.h). */
#include "kernels/entropy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threads.h"

#define MAX_RADIUS 64

void lis_rgb_to_grey_u8(const uint8_t *rgb, int64_t n, uint8_t *grey) {
    const double k = 1. / 255; /* img_as_float multiplies by 1/255 rather than dividing */
    for (int64_t i = 0; i < n; i++) {
        double r = rgb[3 * i] * k, g = rgb[3 * i + 1] * k, b = rgb[3 * i + 2] * k;
        double v = r * 0.2125 + g * 0.7154 + b * 0.0721;
        v = nearbyint(v * 255); /* np.rint: half to even */
        grey[i] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
}

/* half-widths of the disk's rows: offsets dx with dx^2 + dy^2 <= r^2 */
static void disk_rows(int radius, int *half) {
    for (int dy = -radius; dy <= radius; dy++) {
        int h = 0;
        while ((h + 1) * (h + 1) + dy * dy <= radius * radius) h++;
        half[dy + radius] = h;
    }
}

static lis_status check(int H, int W, int radius) {
    if (H < 1 || W < 1) return lis_err_set("entropy: empty image %dx%d", H, W);
    if (radius < 0 || radius > MAX_RADIUS) return lis_err_set("entropy: radius %d outside 0..%d", radius, MAX_RADIUS);
    return LIS_OK;
}

/* entropy of a histogram with population pop (values in increasing order) */
static double hist_entropy(const int *h, int pop, int vmax) {
    double e = 0.;
    for (int v = 0; v <= vmax; v++) {
        if (!h[v]) continue;
        double p = h[v] / (double)pop;
        e -= p * log(p) / 0.6931471805599453;
    }
    return e;
}

lis_status lis_entropy_disk_ref(const uint8_t *img, int H, int W, int radius, double *out) {
    LIS_TRY(check(H, W, radius));
    int half[2 * MAX_RADIUS + 1];
    disk_rows(radius, half);
    int h[256];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            memset(h, 0, sizeof h);
            int pop = 0;
            for (int dy = -radius; dy <= radius; dy++) {
                int yy = y + dy;
                if (yy < 0 || yy >= H) continue;
                for (int dx = -half[dy + radius]; dx <= half[dy + radius]; dx++) {
                    int xx = x + dx;
                    if (xx < 0 || xx >= W) continue;
                    h[img[(size_t)yy * W + xx]]++;
                    pop++;
                }
            }
            out[(size_t)y * W + x] = hist_entropy(h, pop, 255);
        }
    return LIS_OK;
}

typedef struct {
    const uint8_t *img;
    int H, W, radius;
    const int *half;
    double *out;
} ent_job;

static void ent_row(void *ctx, int64_t yi, int tid) {
    const ent_job *j = ctx;
    int y = (int)yi, H = j->H, W = j->W, r = j->radius;
    int h[256] = {0}, pop = 0, vmax = 0;
    /* start with the disk at x = -1 (columns 0 .. hw-1 of each row), then slide right:
     * add each row's new right end, drop its old left end */
    for (int dy = -r; dy <= r; dy++) {
        int yy = y + dy;
        if (yy < 0 || yy >= H) continue;
        for (int xx = 0; xx < j->half[dy + r] && xx < W; xx++) {
            int v = j->img[(size_t)yy * W + xx];
            h[v]++;
            pop++;
            vmax = v > vmax ? v : vmax;
        }
    }
    for (int x = 0; x < W; x++) {
        for (int dy = -r; dy <= r; dy++) {
            int yy = y + dy;
            if (yy < 0 || yy >= H) continue;
            const uint8_t *row = j->img + (size_t)yy * W;
            int hw = j->half[dy + r];
            int add = x + hw, del = x - hw - 1;
            if (add < W) { int v = row[add]; h[v]++; pop++; vmax = v > vmax ? v : vmax; }
            if (del >= 0) { h[row[del]]--; pop--; }
        }
        j->out[(size_t)y * W + x] = pop ? hist_entropy(h, pop, vmax) : 0.0;
    }
}

lis_status lis_entropy_disk_cpu(const uint8_t *img, int H, int W, int radius, double *out) {
    LIS_TRY(check(H, W, radius));
    int half[2 * MAX_RADIUS + 1];
    disk_rows(radius, half);
    ent_job j = {img, H, W, radius, half, out};
    if ((int64_t)H * W < 64 * 64) for (int y = 0; y < H; y++) ent_row(&j, y, 0);
    else lis_parallel_for(H, ent_row, &j);
    return LIS_OK;
}
