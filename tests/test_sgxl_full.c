/* test_sgxl_full.c — the FULL-SIZE StyleGAN-XL ImageNet-256 generator (233 M parameters,
 * synth-init weights built from the bundle's manifest) against
 * ../shared/refs/sgxl_imagenet256_synth: one image (seed 3, class 291, psi 0.7).
 *
 * Tolerances (bundle README): ws <= 1e-6 abs; stored channel slices and each layer_stats
 * entry (mean, std, max|x|) within 1e-4 * the layer's max|x|, sums of squares within 1e-4
 * relative; img <= 1e-4 * max(1, max|img|); img_uint8 equal except isolated +-1 flips
 * (allowed: <= 16 pixels).
 * About 30-60 s on 2 cores; LIS_QUICK=1 (sanitizer runs) skips it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/to_u8.h"
#include "nets/stylegan_xl.h"
#include "runtime/np_random.h"
#include "runtime/threads.h"
#include "tests/harness.h"

static lis_safetensors io;
static const double *stats; /* [32, 4] */

static lis_status check_tap(void *ctx, int index, const char *name, const float *x, int B, int C, int S) {
    (void)ctx;
    lis_test_layer_stats("full-size layer", &io, stats, index, name, x, B, C, S);
    return LIS_OK;
}

int main(void) {
    if (lis_test_quick()) { lis_test_skip("full-size generator (LIS_QUICK=1)"); return lis_test_finish(); }
    char wpath[4096];
    double t0 = lis_now();
    if (!lis_check_ok(lis_test_convert("sgxl_imagenet256_synth/weights.manifest", "sgxl_imagenet256_synth/config.json",
                                       "sgxl_imagenet256_synth/weights.safetensors", wpath, sizeof wpath),
                      "convert the synth-init manifest"))
        return lis_test_finish();
    lis_sgxl g;
    lis_status s = lis_sgxl_load(&g, wpath);
    unlink(wpath); /* the mapping stays valid until unmapped */
    if (!lis_check_ok(s, "load") || lis_test_open(&io, "sgxl_imagenet256_synth/io.safetensors") != LIS_OK) return lis_test_finish();
    printf("     convert + load: %.1f s\n", lis_now() - t0);
    stats = lis_st_find(&io, "layer_stats")->t.data;
    int64_t seed = lis_test_ref_i64(&io, "seed", 0), cls = lis_test_ref_i64(&io, "class_idx", 0);
    float psi;
    memcpy(&psi, lis_st_find(&io, "psi")->t.data, sizeof psi);
    double zd[64];
    float z[64];
    lis_np_randn_seed((uint32_t)seed, zd, 64);
    lis_check(memcmp(zd, lis_st_find(&io, "z")->t.data, sizeof zd) == 0, "z from seed %lld bit-exact", (long long)seed);
    for (int i = 0; i < 64; i++) z[i] = (float)zd[i];
    size_t wsz = (size_t)g.num_ws * g.w_dim;
    float *ws = malloc(sizeof(float) * wsz);
    lis_check_ok(lis_sgxl_mapping(&g, z, &cls, 1, 1.0f, 0, ws, NULL), "mapping");
    lis_check_close("full-size w_mapped", ws, lis_test_ref(&io, "w_mapped", NULL), (int64_t)wsz, 1e-6, 0);
    lis_sgxl_truncate(&g, &cls, 1, psi, ws);
    lis_check_close("full-size ws", ws, lis_test_ref(&io, "ws", NULL), (int64_t)wsz, 1e-6, 0);
    int R = g.img_resolution, C = g.img_channels;
    float *img = malloc(sizeof(float) * (size_t)C * R * R);
    t0 = lis_now();
    lis_check_ok(lis_sgxl_synthesis(&g, ws, 1, img, check_tap, NULL), "synthesis");
    printf("     synthesis of one 256x256 image: %.1f s on %d threads\n", lis_now() - t0, lis_threads_count());
    int64_t n;
    const float *ir = lis_test_ref(&io, "img", &n);
    double m = lis_max_abs(ir, n);
    lis_check_close("full-size img", img, ir, n, 1e-4 * (m > 1 ? m : 1), 0);
    uint8_t *u8 = malloc((size_t)n);
    lis_to_u8_ref(img, 1, C, R, R, u8);
    lis_check_u8("full-size img_uint8", u8, lis_st_find(&io, "img_uint8")->t.data, n, 1, 16);
    free(u8); free(img); free(ws);
    lis_st_close(&io);
    lis_sgxl_free(&g);
    return lis_test_finish();
}
