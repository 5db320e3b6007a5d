/* test_sgxl_tiny.c — the reduced-width StyleGAN-XL (full ImageNet-256 topology) against
 * ../shared/refs/sgxl_tiny: z from seeds bit-exact, mapping and truncation, every layer
 * of sample 0, float and uint8 images of all 3 samples; plus the mapping op case of
 * sgxl_ops (internal truncation, intermediate activations), which uses these weights.
 *
 * Tolerances (bundle README): ws <= 1e-5 abs; each layer max|d| <= 1e-4 * max|x|;
 * img <= 1e-5 abs; img_uint8 equal except a handful (<= 8) of +-1 flips.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/to_u8.h"
#include "nets/stylegan_xl.h"
#include "runtime/np_random.h"
#include "tests/harness.h"

static lis_safetensors io;

typedef struct { int sample; } tap_ctx;

static lis_status check_tap(void *ctx, int index, const char *name, const float *x, int B, int C, int S) {
    (void)ctx; (void)index;
    char ref[128], nm[160];
    snprintf(ref, sizeof ref, "s0.synthesis.%s", name);
    int64_t n;
    const float *r = lis_test_ref(&io, ref, &n);
    if (!r) return LIS_OK;
    LIS_CHECK(n == (int64_t)B * C * S * S);
    snprintf(nm, sizeof nm, "sgxl_tiny layer %s (c=%d,s=%d)", name, C, S);
    lis_check_close(nm, x, r, n, 1e-4 * lis_max_abs(r, n), 0);
    return LIS_OK;
}

static void test_mapping_ops(lis_sgxl *g) {
    lis_safetensors ops;
    if (lis_test_open(&ops, "sgxl_ops/io.safetensors") != LIS_OK) return;
    const lis_st_entry *ez = lis_st_find(&ops, "mapping.z");
    int B = (int)ez->t.shape[0];
    float *ws = malloc(sizeof(float) * (size_t)B * g->num_ws * g->w_dim);
    float *acts[4];
    const char *an[4] = {"mapping.act.embed", "mapping.act.embed_proj", "mapping.act.fc0", "mapping.act.fc1"};
    int64_t na[4];
    for (int i = 0; i < 4; i++) {
        lis_test_ref(&ops, an[i], &na[i]);
        acts[i] = malloc(sizeof(float) * (size_t)na[i]);
    }
    int64_t n;
    int64_t cls[16];
    for (int b = 0; b < B && b < 16; b++) cls[b] = lis_test_ref_i64(&ops, "mapping.class_idx", b);
    lis_check_ok(lis_sgxl_mapping(g, ez->t.data, cls, B, 1.0f, 0, ws, acts), "mapping");
    for (int i = 0; i < 4; i++) lis_check_close(an[i], acts[i], lis_test_ref(&ops, an[i], NULL), na[i], 1e-5, 0);
    const float *y1 = lis_test_ref(&ops, "mapping.y_psi1", &n);
    lis_check_close("mapping(psi=1)", ws, y1, n, 1e-5, 0);
    lis_check_ok(lis_sgxl_mapping(g, ez->t.data, cls, B, 0.5f, 8, ws, NULL), "mapping psi 0.5");
    const float *y2 = lis_test_ref(&ops, "mapping.y_psi05_cut8", &n);
    lis_check_close("mapping(psi=0.5,cutoff=8)", ws, y2, n, 1e-5, 0);
    for (int i = 0; i < 4; i++) free(acts[i]);
    free(ws);
    lis_st_close(&ops);
}

int main(void) {
    char wpath[4096];
    if (!lis_check_ok(lis_test_convert("sgxl_tiny/weights.safetensors", "sgxl_tiny/config.json", NULL, wpath, sizeof wpath),
                      "convert sgxl_tiny"))
        return lis_test_finish();
    lis_sgxl g;
    lis_status s = lis_sgxl_load(&g, wpath);
    unlink(wpath);
    if (!lis_check_ok(s, "load sgxl_tiny") || lis_test_open(&io, "sgxl_tiny/io.safetensors") != LIS_OK) return lis_test_finish();
    LIS_CHECK(g.n_layers == 31 && g.num_ws == 32 && g.img_resolution == 256);
    test_mapping_ops(&g);
    int R = g.img_resolution, C = g.img_channels;
    size_t wsz = (size_t)g.num_ws * g.w_dim;
    float *ws = malloc(sizeof(float) * wsz), *img = malloc(sizeof(float) * (size_t)C * R * R), z[64];
    uint8_t *u8 = malloc((size_t)C * R * R);
    for (int k = 0; k < 3; k++) {
        char n[64], nm[128];
        snprintf(n, sizeof n, "s%d.seed", k);
        int64_t seed = lis_test_ref_i64(&io, n, 0);
        snprintf(n, sizeof n, "s%d.class_idx", k);
        int64_t cls = lis_test_ref_i64(&io, n, 0);
        snprintf(n, sizeof n, "s%d.z", k);
        const double *zr = lis_st_find(&io, n)->t.data;
        double zd[64];
        lis_np_randn_seed((uint32_t)seed, zd, 64);
        snprintf(nm, sizeof nm, "z from seed %lld bit-exact", (long long)seed);
        lis_check(memcmp(zd, zr, sizeof zd) == 0, "%s", nm);
        for (int d = 0; d < 64; d++) z[d] = (float)zd[d];
        lis_check_ok(lis_sgxl_mapping(&g, z, &cls, 1, 1.0f, 0, ws, NULL), "mapping");
        snprintf(n, sizeof n, "s%d.w_mapped", k);
        snprintf(nm, sizeof nm, "s%d w_mapped (seed %lld, class %lld)", k, (long long)seed, (long long)cls);
        lis_check_close(nm, ws, lis_test_ref(&io, n, NULL), (int64_t)wsz, 1e-5, 0);
        lis_sgxl_truncate(&g, &cls, 1, 0.7f, ws);
        snprintf(n, sizeof n, "s%d.ws", k);
        snprintf(nm, sizeof nm, "s%d ws (psi 0.7)", k);
        lis_check_close(nm, ws, lis_test_ref(&io, n, NULL), (int64_t)wsz, 1e-5, 0);
        /* synthesis from the reference ws, so each stage is checked on its own */
        memset(img, 0xff, sizeof(float) * (size_t)C * R * R);
        lis_check_ok(lis_sgxl_synthesis(&g, lis_test_ref(&io, n, NULL), 1, img, k == 0 ? check_tap : NULL, NULL), "synthesis");
        snprintf(n, sizeof n, "s%d.img", k);
        snprintf(nm, sizeof nm, "s%d img", k);
        lis_check_close(nm, img, lis_test_ref(&io, n, NULL), (int64_t)C * R * R, 1e-5, 0);
        snprintf(n, sizeof n, "s%d.img_uint8", k);
        snprintf(nm, sizeof nm, "s%d img_uint8", k);
        lis_to_u8_ref(img, 1, C, R, R, u8);
        lis_check_u8(nm, u8, lis_st_find(&io, n)->t.data, (int64_t)C * R * R, 1, 8);
    }
    free(ws); free(img); free(u8);
    lis_st_close(&io);
    lis_sgxl_free(&g);
    return lis_test_finish();
}
