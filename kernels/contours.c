/* contours.c — OpenCV's RETR_EXTERNAL / CHAIN_APPROX_SIMPLE contour finder (see contours.h).
 * Variable names follow OpenCV's contours.cpp (i0 start pixel, i1 last neighbour of the
 * start, i3 current pixel, i4 next pixel, s chain code, lnbd last border pixel seen on
 * the row), so the two can be read side by side.
 */
#include "kernels/contours.h"

#include <stdlib.h>
#include <string.h>

/* chain code -> (dx, dy): 0 right, 1 up-right, 2 up, ... (y down) */
static const int code_dx[8] = {1, 1, 0, -1, -1, -1, 0, 1};
static const int code_dy[8] = {0, -1, -1, -1, 0, 1, 1, 1};

static lis_status push_point(lis_contours *c, int n, int x, int y) {
    if (n + 1 > c->cap_pts) {
        int cap = c->cap_pts ? c->cap_pts * 2 : 1024;
        int *p = realloc(c->pts, sizeof(int) * 2 * (size_t)cap);
        if (!p) return lis_err_set("contours: out of memory");
        c->pts = p;
        c->cap_pts = cap;
    }
    c->pts[2 * n] = x;
    c->pts[2 * n + 1] = y;
    return LIS_OK;
}

/* icvFetchContour with method CHAIN_APPROX_SIMPLE for an outer border starting at i0
 * (image point (x, y) = origin in mask coordinates). Appends points from *n. */
static lis_status fetch(lis_contours *c, signed char *i0, int step, int x, int y, int *n) {
    const signed char nbd = 2;
    int deltas[16] = {1, -step + 1, -step, -step - 1, -1, step - 1, step, step + 1};
    memcpy(deltas + 8, deltas, 8 * sizeof(int));
    signed char *i1 = NULL, *i3, *i4;
    int s, s_end, prev_s;
    s_end = s = 4; /* outer border: start searching from the left neighbour */
    do {
        s = (s - 1) & 7;
        i1 = i0 + deltas[s];
        if (*i1 != 0) break;
    } while (s != s_end);
    if (s == s_end) { /* single pixel */
        *i0 = (signed char)(nbd | -128);
        LIS_TRY(push_point(c, (*n)++, x, y));
        return LIS_OK;
    }
    i3 = i0;
    prev_s = s ^ 4;
    for (;;) {
        s_end = s;
        for (;;) {
            i4 = i3 + deltas[++s];
            if (*i4 != 0) break;
        }
        s &= 7;
        /* right bound: the pixel to the right of i3 is background (0 -> marked negative) */
        if ((unsigned)(s - 1) < (unsigned)s_end) *i3 = (signed char)(nbd | -128);
        else if (*i3 == 1) *i3 = nbd;
        if (s != prev_s) {
            LIS_TRY(push_point(c, (*n)++, x, y));
            prev_s = s;
        }
        x += code_dx[s];
        y += code_dy[s];
        if (i4 == i0 && i3 == i1) break;
        i3 = i4;
        s = (s + 4) & 7;
    }
    return LIS_OK;
}

lis_status lis_contours_external(lis_contours *c, const uint8_t *mask, int H, int W) {
    c->count = 0;
    if (H < 1 || W < 1) return lis_err_set("contours: empty mask %dx%d", H, W);
    int width = W + 2, height = H + 2, step = width;
    int64_t need = (int64_t)width * height;
    if (need > c->cap_img) {
        signed char *m = realloc(c->img, (size_t)need);
        if (!m) return lis_err_set("contours: out of memory for a %dx%d mask", H, W);
        c->img = m;
        c->cap_img = need;
    }
    signed char *img0 = c->img;
    memset(img0, 0, (size_t)need);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) img0[(size_t)(y + 1) * step + x + 1] = mask[(size_t)y * W + x] != 0;
    /* contours are found in raster order; starts[] records them, reversed at the end */
    int n = 0, found = 0;
    int *starts = NULL, cap_s = 0;
    lis_status st = LIS_OK;
    int lnbd_x = 0, lnbd_y = 1;
    for (int y = 1; y < height && st == LIS_OK; y++) {
        signed char *img = img0 + (size_t)y * step;
        int prev = 0, p = 0;
        for (int x = 1; x < width && st == LIS_OK; x++) {
            while (x < width && (p = img[x]) == prev) x++;
            if (x >= width) break;
            int start_contour = prev == 0 && p == 1;
            if (!start_contour) {
                /* not an outer border start: a hole start (prev >= 1, p == 0) or nothing;
                 * RETR_EXTERNAL skips both, but a hole start updates lnbd like OpenCV */
                if (!(p != 0 || prev < 1) && (prev & -2)) lnbd_x = x - 1;
            } else if (img0[(size_t)lnbd_y * step + lnbd_x] > 0) {
                start_contour = 0; /* inside an outer border traced before (in one of its holes) */
            }
            if (start_contour) {
                lnbd_x = x;
                if (found + 2 > cap_s) {
                    cap_s = cap_s ? cap_s * 2 : 64;
                    int *ns = realloc(starts, sizeof(int) * (size_t)cap_s);
                    if (!ns) { st = lis_err_set("contours: out of memory"); break; }
                    starts = ns;
                }
                starts[found++] = n;
                st = fetch(c, img + x, step, x - 1, y - 1, &n); /* -1: the zero frame */
                /* OpenCV resumes the scan at x + 1 with prev = the (now marked) start pixel */
                prev = img[x];
                continue;
            }
            prev = p;
            if (prev & -2) lnbd_x = x;
        }
        lnbd_x = 0;
        lnbd_y = y + 1;
    }
    if (st == LIS_OK) {
        if (found + 1 > c->cap_cnt) {
            int *ns = realloc(c->start, sizeof(int) * (size_t)(found + 1));
            if (!ns) st = lis_err_set("contours: out of memory");
            else { c->start = ns; c->cap_cnt = found + 1; }
        }
    }
    if (st == LIS_OK && found) {
        /* reverse the order (OpenCV's list is built by prepending): copy the point runs
         * into a scratch buffer in reverse contour order */
        int *tmp = malloc(sizeof(int) * 2 * (size_t)(n ? n : 1));
        if (!tmp) st = lis_err_set("contours: out of memory");
        else {
            int o = 0;
            for (int k = found - 1; k >= 0; k--) {
                int a = starts[k], b = k + 1 < found ? starts[k + 1] : n;
                c->start[found - 1 - k] = o;
                memcpy(tmp + 2 * o, c->pts + 2 * a, sizeof(int) * 2 * (size_t)(b - a));
                o += b - a;
            }
            c->start[found] = o;
            memcpy(c->pts, tmp, sizeof(int) * 2 * (size_t)n);
            free(tmp);
            c->count = found;
        }
    } else if (st == LIS_OK) {
        c->start[0] = 0;
    }
    free(starts);
    return st;
}

void lis_contours_free(lis_contours *c) {
    if (!c) return;
    free(c->pts);
    free(c->start);
    free(c->img);
    memset(c, 0, sizeof *c);
}
