/* test_synth_init.c — the synth-init formula against the bundles' check values, the
 * manifest parser (valid files and each kind of malformed line, named file:line), and
 * the in-memory weight set including `shipped` tensors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness.h"
#include "weights_tools/synth_init.h"

/* First 4 elements printed by the generators (%.9g round-trips float32 exactly). */
static void check_values(const char *bundle, const char *name, lis_synth_kind kind, int s, const char *printed) {
    float got[4], want[4];
    lis_synth_init_fill(name, kind, s, got, 4);
    char *p = (char *)printed;
    for (int i = 0; i < 4; i++) want[i] = strtof(p, &p);
    char label[160];
    snprintf(label, sizeof label, "%s check %s (%s s=%d)", bundle, name, kind == LIS_SYNTH_UNIFORM ? "uniform" : "positive", s);
    /* exact: the values are dyadic rationals and the printed digits identify the float */
    lis_check_close(label, got, want, 4, 0, 0);
}

static lis_status parse_text(const char *text, lis_manifest *m) {
    return lis_manifest_parse(m, text, strlen(text), "t.manifest");
}

static void expect_bad(const char *text, const char *needle) {
    lis_manifest m;
    lis_status s = parse_text(text, &m);
    const char *msg = s == LIS_OK ? "(accepted)" : lis_err_msg();
    lis_check(s != LIS_OK && strstr(msg, needle) != NULL, "manifest rejected with '%s': %s", needle, msg);
    if (s == LIS_OK) lis_manifest_free(&m);
}

int main(void) {
    LIS_CHECK(lis_fnv1a32("") == 0x811C9DC5u);
    LIS_CHECK(lis_fnv1a32("a") == 0xE40C292Cu); /* published FNV-1a test vector */

    /* refs/resnet50_synth/README.md "check" lines */
    const char *b = "resnet50_synth";
    check_values(b, "conv1.weight", LIS_SYNTH_UNIFORM, 4, "0.0155619904 -0.0120157599 -0.0468205288 0.00681749731");
    check_values(b, "bn1.weight", LIS_SYNTH_POSITIVE, 0, "1.04037952 0.807734728 1.2121911 1.09822869");
    check_values(b, "bn1.running_mean", LIS_SYNTH_UNIFORM, 2, "-0.22304529 -0.188460827 0.215341419 0.213253379");
    check_values(b, "layer1.0.conv1.weight", LIS_SYNTH_UNIFORM, 3, "-0.109088033 0.0209470987 0.124696642 0.106180638");
    check_values(b, "fc.weight", LIS_SYNTH_UNIFORM, 6, "0.011748394 0.00152521208 0.00690222718 0.0112717208");
    check_values(b, "fc.bias", LIS_SYNTH_UNIFORM, 4, "-0.03954871 0.0260680318 0.0461791977 0.0180312544");
    /* refs/resnet50_synth_gain: conv exponents lowered by one */
    b = "resnet50_synth_gain";
    check_values(b, "conv1.weight", LIS_SYNTH_UNIFORM, 3, "0.0311239809 -0.0240315199 -0.0936410576 0.0136349946");
    check_values(b, "layer1.0.conv1.weight", LIS_SYNTH_UNIFORM, 2, "-0.218176067 0.0418941975 0.249393284 0.212361276");
    {
        float z[8];
        memset(z, 0xff, sizeof z);
        lis_synth_init_fill("x", LIS_SYNTH_ZERO, -1, z, 8);
        int ok = 1;
        for (int i = 0; i < 8; i++) ok &= z[i] == 0.0f;
        LIS_CHECK(ok);
    }

    /* the bundle manifests parse, and the manifest's exponents match the README checks */
    lis_manifest m;
    if (lis_check_ok(lis_manifest_read(&m, lis_test_data("resnet50_synth/weights.manifest")), "read resnet50_synth manifest")) {
        lis_check(m.n == 267, "resnet50_synth manifest lists %zu tensors (README: 267)", m.n);
        const lis_manifest_entry *e = lis_manifest_find(&m, "conv1.weight");
        LIS_CHECK(e && e->kind == LIS_SYNTH_UNIFORM && e->s == 4 && e->ndim == 4 && e->shape[0] == 64 && e->shape[3] == 7);
        e = lis_manifest_find(&m, "fc.weight");
        LIS_CHECK(e && e->s == 6 && e->ndim == 2 && e->shape[1] == 2048);
        e = lis_manifest_find(&m, "layer4.2.bn3.running_var");
        LIS_CHECK(e && e->kind == LIS_SYNTH_POSITIVE && e->s == -1 && e->shape[0] == 2048);
        lis_manifest_free(&m);
    }

    /* valid syntax: comments, blank lines, scalar, tabs, CRLF */
    if (lis_check_ok(parse_text("# comment\n\na.w uniform 0 2x3\r\nb\tpositive\t-\t4\n  c zero - scalar\n", &m), "parse ok")) {
        LIS_CHECK(m.n == 3 && m.e[0].ndim == 2 && m.e[0].s == 0 && m.e[1].kind == LIS_SYNTH_POSITIVE && m.e[2].ndim == 0 &&
                  m.e[2].line == 5);
        lis_manifest_free(&m);
    }
    /* malformed lines, each named file:line */
    expect_bad("a uniform 2 3\nb uniform x 3\n", "t.manifest:2: exponent 'x'");
    expect_bad("a uniform -1 3\n", "t.manifest:1: exponent '-1'");
    expect_bad("a bogus - 3\n", "t.manifest:1: unknown kind 'bogus'");
    expect_bad("\n\na uniform 2\n", "t.manifest:3: expected 4 fields");
    expect_bad("a uniform 2 3 extra\n", "t.manifest:1: expected 4 fields");
    expect_bad("a positive 3 4\n", "t.manifest:1: kind 'positive' takes '-'");
    expect_bad("a zero - 3x0\n", "t.manifest:1: bad shape '3x0'");
    expect_bad("a zero - 3xx4\n", "t.manifest:1: bad shape");
    expect_bad("a zero - 3x\n", "t.manifest:1: bad shape");
    expect_bad("a zero - 99999999999\n", "t.manifest:1: bad shape");
    expect_bad("a zero - 3\n#\na zero - 3\n", "t.manifest:3: tensor 'a' already listed on line 1");
    {
        lis_status s = lis_manifest_read(&m, "/nonexistent/w.manifest");
        lis_check(s != LIS_OK && strstr(lis_err_msg(), "/nonexistent/w.manifest"), "missing manifest: %s", lis_err_msg());
    }

    /* in-memory weight set: generated tensors equal the formula; shipped ones are copied */
    char shipped_path[128];
    snprintf(shipped_path, sizeof shipped_path, "/tmp/lis_test_synth_%d.safetensors", (int)getpid());
    float filt[6] = {0.5f, -1.0f, 2.0f, 0.25f, 3.0f, -4.0f};
    lis_st_writer w = {0};
    int64_t shp[2] = {2, 3};
    lis_check_ok(lis_st_writer_add(&w, "f.filter", LIS_DTYPE_F32, 2, shp, filt), "writer add");
    lis_check_ok(lis_st_write(&w, shipped_path), "write shipped");
    lis_st_writer_free(&w);
    const char *text = "conv.weight uniform 3 4x2x3x3\nbn.weight positive - 4\nf.filter shipped - 2x3\nn zero - scalar\n";
    if (lis_check_ok(parse_text(text, &m), "parse set manifest")) {
        lis_safetensors set, shipped;
        lis_status s = lis_synth_build(&set, &m, NULL);
        lis_check(s != LIS_OK && strstr(lis_err_msg(), "f.filter"), "shipped tensor without a file: %s", lis_err_msg());
        if (lis_check_ok(lis_st_open(&shipped, shipped_path), "open shipped")) {
            if (lis_check_ok(lis_synth_build(&set, &m, &shipped), "build set")) {
                const float *cw, *fw;
                int64_t s4[4] = {4, 2, 3, 3}, s2[2] = {2, 3};
                float want[72];
                lis_synth_init_fill("conv.weight", LIS_SYNTH_UNIFORM, 3, want, 72);
                if (lis_check_ok(lis_st_get_f32(&set, "conv.weight", 4, s4, &cw), "set conv.weight"))
                    lis_check_close("set conv.weight == formula", cw, want, 72, 0, 0);
                if (lis_check_ok(lis_st_get_f32(&set, "f.filter", 2, s2, &fw), "set f.filter"))
                    lis_check_close("set f.filter == shipped", fw, filt, 6, 0, 0);
                const lis_st_entry *e = lis_st_find(&set, "n");
                LIS_CHECK(e && e->t.ndim == 0 && ((float *)e->t.data)[0] == 0.0f);
                lis_st_close(&set);
            }
            lis_st_close(&shipped);
        }
        lis_manifest_free(&m);
    }
    /* a shipped tensor whose shape disagrees with the manifest */
    if (lis_check_ok(parse_text("f.filter shipped - 3x2\n", &m), "parse shape-mismatch manifest")) {
        lis_safetensors set, shipped;
        if (lis_st_open(&shipped, shipped_path) == LIS_OK) {
            lis_status s = lis_synth_build(&set, &m, &shipped);
            lis_check(s != LIS_OK && strstr(lis_err_msg(), "f.filter") && strstr(lis_err_msg(), "2x3"),
                      "shipped shape mismatch: %s", lis_err_msg());
            if (s == LIS_OK) lis_st_close(&set);
            lis_st_close(&shipped);
        }
        lis_manifest_free(&m);
    }
    unlink(shipped_path);
    return lis_test_finish();
}
