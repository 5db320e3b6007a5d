/* png_io.c — libpng wrappers with setjmp error handling. */
#include "runtime/png_io.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/fileio.h"

static void on_png_error(png_structp png, png_const_charp msg) {
    char *dst = png_get_error_ptr(png);
    snprintf(dst, 256, "%s", msg);
    png_longjmp(png, 1);
}
static void on_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

typedef struct { lis_atomic_file *a; } wctx;
static void write_fn(png_structp png, png_bytep data, png_size_t n) {
    wctx *c = png_get_io_ptr(png);
    lis_atomic_write(c->a, data, n);
}
static void flush_fn(png_structp png) { (void)png; }

lis_status lis_png_write(const char *path, const uint8_t *data, int h, int w, int c) {
    if (h <= 0 || w <= 0 || (c != 1 && c != 3)) return lis_err_set("%s: cannot write a %dx%dx%d PNG", path, h, w, c);
    lis_atomic_file a;
    LIS_TRY(lis_atomic_open(&a, path));
    char msg[256] = "";
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, msg, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        lis_atomic_abort(&a);
        return lis_err_set("%s: libpng init failed", path);
    }
    wctx ctx = {&a};
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        lis_atomic_abort(&a);
        return lis_err_set("%s: PNG write failed: %s", path, msg);
    }
    png_set_write_fn(png, &ctx, write_fn, flush_fn);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(data + (size_t)y * (size_t)w * (size_t)c));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return lis_atomic_commit(&a);
}

/* Shared reader: mode 0 = RGB, 1 = index/gray plane. */
static lis_status png_read(const char *path, uint8_t **out, int *h, int *w, int mode) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return lis_err_set("%s: cannot open", path);
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8) != 0) { fclose(f); return lis_err_set("%s: not a PNG file", path); }
    char msg[256] = "";
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, msg, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile buf = NULL;
    png_bytep *volatile rows = NULL;
    if (!png || !info) { png_destroy_read_struct(&png, &info, NULL); fclose(f); return lis_err_set("%s: libpng init failed", path); }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        free(buf);
        free(rows);
        return lis_err_set("%s: bad PNG: %s", path, msg);
    }
    png_set_user_limits(png, 1u << 15, 1u << 15);
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_uint_32 W = png_get_image_width(png, info), H = png_get_image_height(png, info);
    int ct = png_get_color_type(png, info), bd = png_get_bit_depth(png, info);
    int ch;
    if (mode == 1) {
        if (ct != PNG_COLOR_TYPE_PALETTE && ct != PNG_COLOR_TYPE_GRAY) {
            png_destroy_read_struct(&png, &info, NULL);
            fclose(f);
            return lis_err_set("%s: a label mask must be an indexed or grayscale PNG (this one has color type %d)", path, ct);
        }
        if (bd == 16) png_set_strip_16(png);
        if (bd < 8) png_set_packing(png);
        ch = 1;
    } else {
        if (bd == 16) png_set_strip_16(png);
        if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
        if (ct == PNG_COLOR_TYPE_GRAY && bd < 8) png_set_expand_gray_1_2_4_to_8(png);
        if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
        if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
        png_set_strip_alpha(png);
        ch = 3;
    }
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)W * (size_t)ch) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        return lis_err_set("%s: unexpected PNG row layout", path);
    }
    buf = malloc((size_t)W * H * (size_t)ch);
    rows = malloc(sizeof(png_bytep) * H);
    if (!buf || !rows) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        free(buf);
        free(rows);
        return lis_err_set("%s: out of memory", path);
    }
    for (png_uint_32 y = 0; y < H; y++) rows[y] = buf + (size_t)y * W * (size_t)ch;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    free(rows);
    *out = buf;
    *h = (int)H;
    *w = (int)W;
    return LIS_OK;
}

lis_status lis_png_read_rgb(const char *path, uint8_t **out, int *h, int *w) { return png_read(path, out, h, w, 0); }
lis_status lis_png_read_index(const char *path, uint8_t **out, int *h, int *w) { return png_read(path, out, h, w, 1); }
