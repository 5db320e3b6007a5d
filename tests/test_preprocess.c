/* test_preprocess.c — torchvision VAL_TRANSFORM against refs/preprocess, bit-exact:
 * resized and cropped uint8 images (README: bit-exact, integer pipeline) and the
 * normalised tensor (README: bit-exact when computed as spec §1.4, else <= 2e-6; we
 * demand bit-exact). Also the _cpu resampler against _ref on odd sizes, the Pillow
 * coefficients worked out in spec §1.2, the size and crop-offset rules, zero padding
 * when the crop exceeds the image, and threads over a batch. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels/preprocess.h"
#include "runtime/fileio.h"
#include "runtime/npy.h"
#include "runtime/png_io.h"
#include "tests/harness.h"

static void bundle_case(const lis_safetensors *io, const char *img) {
    char n[128];
    snprintf(n, sizeof n, "%s.image", img);
    const lis_st_entry *ei = lis_st_find(io, n);
    snprintf(n, sizeof n, "%s.resized", img);
    const lis_st_entry *er = lis_st_find(io, n);
    snprintf(n, sizeof n, "%s.cropped", img);
    const lis_st_entry *ec = lis_st_find(io, n);
    snprintf(n, sizeof n, "%s.tensor", img);
    const lis_st_entry *et = lis_st_find(io, n);
    if (!ei || !er || !ec || !et || ei->t.dtype != LIS_DTYPE_U8 || er->t.dtype != LIS_DTYPE_U8) {
        lis_check(0, "%s: bundle tensors present", img);
        return;
    }
    int h = (int)ei->t.shape[0], w = (int)ei->t.shape[1];
    lis_preprocess_cfg cfg;
    lis_preprocess_cfg_default(&cfg);
    lis_preprocess_plan pl;
    if (!lis_check_ok(lis_preprocess_plan_init(&pl, &cfg, h, w), img)) return;
    lis_check(pl.rh == er->t.shape[0] && pl.rw == er->t.shape[1], "%s: Resize(256) of %dx%d is %dx%d (ref %lldx%lld)", img,
              h, w, pl.rh, pl.rw, (long long)er->t.shape[0], (long long)er->t.shape[1]);
    if (pl.rh != er->t.shape[0] || pl.rw != er->t.shape[1]) { lis_preprocess_plan_free(&pl); return; }
    size_t nr = (size_t)pl.rh * pl.rw * 3, nc = 224 * 224 * 3;
    uint8_t *rs = malloc(nr), *cr = malloc(nc), *rs2 = malloc(nr), *tmp = malloc((size_t)h * pl.rw * 3 + 1);
    lis_preprocess_steps_ref(&pl, ei->t.data, rs, cr);
    snprintf(n, sizeof n, "%s resized (_ref)", img);
    lis_check_u8(n, rs, er->t.data, (int64_t)nr, 0, 0);
    snprintf(n, sizeof n, "%s cropped", img);
    lis_check_u8(n, cr, ec->t.data, (int64_t)nc, 0, 0);
    if (pl.resize_needed) {
        lis_resize_u8_cpu(&pl.rs, ei->t.data, rs2, tmp);
        snprintf(n, sizeof n, "%s resized (_cpu)", img);
        lis_check_u8(n, rs2, er->t.data, (int64_t)nr, 0, 0);
    }
    /* the whole transform, 3 copies in one batch (threads over images) */
    uint8_t *batch = malloc((size_t)3 * h * w * 3);
    for (int i = 0; i < 3; i++) memcpy(batch + (size_t)i * h * w * 3, ei->t.data, (size_t)h * w * 3);
    float *out = malloc(3 * 3 * 224 * 224 * sizeof(float));
    lis_preprocess_run(&pl, 3, batch, out);
    for (int i = 0; i < 3; i++) {
        snprintf(n, sizeof n, "%s tensor (batch item %d)", img, i);
        lis_check_close(n, out + (size_t)i * 3 * 224 * 224, et->t.data, 3 * 224 * 224, 0, 0);
    }
    free(rs); free(cr); free(rs2); free(tmp); free(batch); free(out);
    lis_preprocess_plan_free(&pl);
}

/* _cpu vs _ref resampler on random images of odd sizes. */
static void resize_case(int h, int w, int oh, int ow) {
    unsigned s = (unsigned)(h * 7919 + w * 31 + oh);
    uint8_t *src = malloc((size_t)h * w * 3), *a = malloc((size_t)oh * ow * 3), *b = malloc((size_t)oh * ow * 3);
    for (size_t i = 0; i < (size_t)h * w * 3; i++) { s = s * 1664525u + 1013904223u; src[i] = (uint8_t)(s >> 24); }
    /* a few saturated regions exercise clip8 at both ends */
    for (int i = 0; i < w && i < 5; i++) src[i * 3] = 255, src[i * 3 + 1] = 0;
    lis_resize_plan pl;
    char n[96];
    snprintf(n, sizeof n, "resize(%dx%d->%dx%d) _cpu vs _ref", h, w, oh, ow);
    if (lis_check_ok(lis_resize_plan_init(&pl, h, w, oh, ow), n)) {
        uint8_t *tmp = malloc(lis_resize_tmp_size(&pl) + 1);
        lis_resize_u8_ref(src, h, w, a, oh, ow);
        lis_resize_u8_cpu(&pl, src, b, tmp);
        lis_check_u8(n, b, a, (int64_t)oh * ow * 3, 0, 0);
        free(tmp);
        lis_resize_plan_free(&pl);
    }
    free(src); free(a); free(b);
}

static void coeff_check(int in, int out, int i, int first, int n, const int32_t *k) {
    lis_resize_plan pl;
    if (!lis_check_ok(lis_resize_plan_init(&pl, 1, in, 1, out), "plan")) return;
    const lis_resize_axis *a = &pl.x;
    int ok = a->bounds[2 * i] == first && a->bounds[2 * i + 1] == n;
    for (int t = 0; ok && t < n; t++) ok = a->k[(size_t)i * a->ksize + t] == k[t];
    lis_check(ok, "Pillow coefficients %d->%d output %d: first %d, %d taps %d %d %d %d (spec §1.2)", in, out, i,
              a->bounds[2 * i], a->bounds[2 * i + 1], a->k[(size_t)i * a->ksize], a->k[(size_t)i * a->ksize + 1],
              n > 2 ? a->k[(size_t)i * a->ksize + 2] : 0, n > 3 ? a->k[(size_t)i * a->ksize + 3] : 0);
    lis_resize_plan_free(&pl);
}

/* ---- the command: `lis-run preprocess` (skipped when lis-run is not built) ---- */

static char tmpdir[256];
static const char *lisrun = "./lis-run"; /* LIS_RUN overrides (the sanitizer build has its own) */

/* Runs a shell command with stderr captured in tmpdir/err.txt; returns the exit code. */
static int run(const char *fmt, ...) LIS_PRINTF(1, 2);
static int run(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(cmd + n, sizeof cmd - (size_t)n, " >/dev/null 2>%s/err.txt", tmpdir);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int err_has(const char *needle) {
    char path[512], *text = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/err.txt", tmpdir);
    if (lis_read_file(path, &text, &len) != LIS_OK) return 0;
    int ok = strstr(text, needle) != NULL;
    if (!ok) printf("    stderr was: %s", text);
    free(text);
    return ok;
}

static void test_cli(const lis_safetensors *io) {
    if (getenv("LIS_RUN") && *getenv("LIS_RUN")) lisrun = getenv("LIS_RUN");
    if (access(lisrun, X_OK) != 0) { lis_test_skip("preprocess command: lis-run not built"); return; }
    snprintf(tmpdir, sizeof tmpdir, "%s/lis-test-preprocess-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    if (!lis_check_ok(lis_mkdirs(tmpdir), tmpdir)) return;
    const lis_st_entry *img = lis_st_find(io, "img171x256.image"), *ref = lis_st_find(io, "img171x256.tensor");
    const lis_st_entry *img2 = lis_st_find(io, "img512.image"), *ref2 = lis_st_find(io, "img512.tensor");
    if (!img || !ref || !img2 || !ref2) { lis_check(0, "bundle tensors for the CLI test"); return; }
    char in[512], out[512], png[512];
    snprintf(in, sizeof in, "%s/in.npy", tmpdir);
    snprintf(out, sizeof out, "%s/out.npy", tmpdir);
    snprintf(png, sizeof png, "%s/in.png", tmpdir);
    /* two copies of the 171x256 image as a uint8 N x H x W x 3 array */
    size_t nb = 171 * 256 * 3;
    uint8_t *two = malloc(2 * nb);
    memcpy(two, img->t.data, nb);
    memcpy(two + nb, img->t.data, nb);
    lis_tensor t = {LIS_DTYPE_U8, 4, {2, 171, 256, 3}, two, 0};
    lis_check_ok(lis_npy_write(in, &t), "write u8 npy");
    lis_check_ok(lis_png_write(png, img2->t.data, 512, 512, 3), "write png");
    lis_check(run("%s preprocess --u8 %s -o %s", lisrun, in, out) == 0, "preprocess --u8 exits 0");
    lis_tensor o;
    if (lis_check_ok(lis_npy_read(out, &o), "read preprocess output")) {
        LIS_CHECK(o.dtype == LIS_DTYPE_F32 && o.ndim == 4 && o.shape[0] == 2 && o.shape[1] == 3 && o.shape[2] == 224);
        if (lis_tensor_numel(&o) == 2 * 3 * 224 * 224) {
            lis_check_close("cli --u8 tensor 0", o.data, ref->t.data, 3 * 224 * 224, 0, 0);
            lis_check_close("cli --u8 tensor 1", (float *)o.data + 3 * 224 * 224, ref->t.data, 3 * 224 * 224, 0, 0);
        }
        lis_tensor_free(&o);
    }
    lis_check(run("%s preprocess --out %s --png %s", lisrun, out, png) == 0, "preprocess --png exits 0");
    if (lis_check_ok(lis_npy_read(out, &o), "read preprocess --png output")) {
        if (lis_tensor_numel(&o) == 3 * 224 * 224) lis_check_close("cli --png tensor", o.data, ref2->t.data, 3 * 224 * 224, 0, 0);
        else lis_check(0, "cli --png output has 3x224x224 elements");
        lis_tensor_free(&o);
    }
    /* errors: exit 1 naming the file for bad input, 2 for usage; nothing written */
    unlink(out);
    lis_check(run("%s preprocess --u8 %s/missing.npy -o %s", lisrun, tmpdir, out) == 1 && err_has("missing.npy"),
              "missing input: exit 1 naming the file");
    lis_tensor f = {LIS_DTYPE_F32, 4, {1, 2, 2, 3}, (float[12]){0}, 0};
    char bad[512];
    snprintf(bad, sizeof bad, "%s/f32.npy", tmpdir);
    lis_npy_write(bad, &f);
    lis_check(run("%s preprocess --u8 %s -o %s", lisrun, bad, out) == 1 && err_has("f32.npy") && err_has("uint8"),
              "float input to --u8: exit 1 naming the file and the expected dtype");
    lis_check(run("%s preprocess --u8 %s", lisrun, in) == 2, "no output: usage error, exit 2");
    lis_check(run("%s preprocess --u8 %s -o %s --crop 0", lisrun, in, out) == 2, "--crop 0: usage error, exit 2");
    lis_check(run("%s preprocess --u8 %s -o %s/no/such/dir/x.npy", lisrun, in, tmpdir) == 1,
              "unwritable output: exit 1");
    LIS_CHECK(!lis_file_exists(out));
    lis_check(run("%s preprocess --help", lisrun) == 0, "--help exits 0");
    free(two);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) printf("    (could not remove %s)\n", tmpdir);
}

int main(void) {
    lis_safetensors io;
    if (lis_test_open(&io, "preprocess/io.safetensors") == LIS_OK) {
        const char *cases[] = {"img256_a", "img256_b", "img128", "img512", "img171x256"};
        for (int i = 0; i < 5; i++) bundle_case(&io, cases[i]);
        test_cli(&io);
        lis_st_close(&io);
    }

    /* size rule and crop offsets (spec §1.1, §1.3) */
    int oh, ow;
    lis_resize_out_size(171, 256, 256, &oh, &ow);
    LIS_CHECK(oh == 256 && ow == 383);
    lis_resize_out_size(256, 171, 256, &oh, &ow);
    LIS_CHECK(oh == 383 && ow == 256);
    lis_resize_out_size(100, 37, 256, &oh, &ow);
    LIS_CHECK(oh == 691 && ow == 256); /* int(256*100/37) = int(691.89) */
    LIS_CHECK(lis_center_crop_offset(256, 224) == 16 && lis_center_crop_offset(383, 224) == 80);
    /* Python round: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2 */
    LIS_CHECK(lis_center_crop_offset(225, 224) == 0 && lis_center_crop_offset(227, 224) == 2 &&
              lis_center_crop_offset(229, 224) == 2);
    LIS_CHECK(lis_center_crop_offset(50, 56) == -3 && lis_center_crop_offset(51, 56) == -2);

    /* Pillow's fixed-point weights, worked cases of spec §1.2 */
    coeff_check(512, 256, 0, 0, 3, (const int32_t[]){1797559, 1797559, 599186});
    coeff_check(512, 256, 1, 1, 4, (const int32_t[]){524288, 1572864, 1572864, 524288});
    coeff_check(512, 256, 255, 509, 3, (const int32_t[]){599186, 1797559, 1797559});
    coeff_check(128, 256, 0, 0, 1, (const int32_t[]){4194304});
    coeff_check(128, 256, 2, 0, 2, (const int32_t[]){1048576, 3145728});
    coeff_check(128, 256, 3, 1, 2, (const int32_t[]){3145728, 1048576});

    /* odd sizes named in spec §1.2 plus upsampling to 224, both directions mixed */
    resize_case(100, 37, 256, 94);
    resize_case(513, 300, 256, 149);
    resize_case(64, 64, 224, 224);
    resize_case(300, 300, 7, 13);
    resize_case(37, 100, 691, 256);
    resize_case(5, 1, 3, 9);
    resize_case(256, 256, 256, 383);

    /* a crop larger than the (resized) image zero-pads first, as torchvision does:
     * 50x60 with resize 0 (off) and crop 56: top pad 3 rows, left offset round(4/2)=2 */
    {
        lis_preprocess_cfg cfg;
        lis_preprocess_cfg_default(&cfg);
        cfg.resize = 0;
        cfg.crop_h = cfg.crop_w = 56;
        lis_preprocess_plan pl;
        if (lis_check_ok(lis_preprocess_plan_init(&pl, &cfg, 50, 60), "pad plan")) {
            uint8_t img[50 * 60 * 3];
            for (int i = 0; i < 50 * 60 * 3; i++) img[i] = (uint8_t)(i * 7);
            float out[3 * 56 * 56];
            lis_preprocess_run(&pl, 1, img, out);
            /* row 0..2 and 53..55 padding: value of u = 0; row 3 col 0 = img[0][2] */
            LIS_CHECK(pl.top == -3 && pl.left == 2);
            LIS_CHECK(out[0] == pl.table[0][0] && out[55 * 56 + 10] == pl.table[0][0]);
            LIS_CHECK(out[3 * 56 + 0] == pl.table[0][img[2 * 3]] && out[56 * 56 + 3 * 56] == pl.table[1][img[2 * 3 + 1]]);
            lis_preprocess_plan_free(&pl);
        }
    }
    /* bad configs are errors */
    {
        lis_preprocess_cfg cfg;
        lis_preprocess_cfg_default(&cfg);
        cfg.std[1] = 0.0f;
        lis_preprocess_plan pl;
        LIS_CHECK(lis_preprocess_plan_init(&pl, &cfg, 10, 10) != LIS_OK);
    }
    return lis_test_finish();
}
