/* fuzz_cfg.c — libFuzzer target: runtime/cfg.c lis_cfg_parse (INI syntax, sections, keys,
 * comments, CRLF, BOM), then typed getters, an override, the unused-key check and writing
 * the resolved configuration back. */
#include <stdlib.h>

#include "runtime/cfg.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    lis_cfg *c = NULL;
    if (lis_cfg_parse(&c, (const char *)data, size, "fuzz.cfg") != LIS_OK) return 0;
    const char *s;
    long i;
    double d;
    int b, e;
    const long *il;
    const double *dl;
    size_t n;
    static const char *const words[] = {"ols", "ridge", "enet"};
    lis_cfg_get_str(c, "sample", "out", "x", &s);
    lis_cfg_get_int(c, "sample", "batch", 1, 1, 1 << 20, &i);
    lis_cfg_get_double(c, "sample", "truncation", 0.7, 0, 2, &d);
    lis_cfg_get_bool(c, "sample", "flag", 0, &b);
    lis_cfg_get_enum(c, "link", "model", words, 3, 0, &e);
    lis_cfg_get_int_list(c, "sample", "seeds", "0-3", -1000000, 1000000, &il, &n);
    lis_cfg_get_double_list(c, "sample", "psi", "", -10, 10, &dl, &n);
    lis_cfg_set_override(c, "sample.batch=4");
    lis_cfg_check_unused(c);
    lis_sbuf w = {0};
    lis_cfg_write(c, &w);
    lis_sbuf_free(&w);
    lis_cfg_free(c);
    return 0;
}
