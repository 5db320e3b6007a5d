/* cmd_convert.c — `lis-run convert IN -o OUT.safetensors`, `lis-run convert --list IN`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "weights_tools/convert.h"

static void help(void) {
    size_t n;
    const lis_convert_reader *r = lis_convert_readers(&n);
    printf("usage: lis-run convert IN -o OUT.safetensors [options]\n"
           "       lis-run convert --list IN [options]\n\n"
           "Reads a checkpoint, executes nothing from it, and writes a lis weight file: a safetensors\n"
           "state dict with the network's configuration in its metadata.\n\n"
           "options:\n"
           "  -o, --out FILE      output weight file (written atomically)\n"
           "  --list              print tensors, shapes, dtypes and the configuration; write nothing\n"
           "  --config FILE.json  generator configuration, for inputs that carry none (a plain\n"
           "                      state dict or a manifest; the reference bundles ship config.json)\n"
           "  --shipped FILE      safetensors holding a manifest's `shipped` tensors\n"
           "  --key NAME          network inside a multi-network pickle (default: G_ema)\n"
           "  --keep-dtype        keep float16/bfloat16/float64 tensors (default: convert to float32)\n\n"
           "input kinds:\n");
    for (size_t i = 0; i < n; i++) printf("  %-14s %s\n", r[i].name, r[i].describe);
}

int lis_cmd_convert(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { help(); return 0; }
    lis_convert_opts o = {0};
    const char *out = lis_args_str(&a, "--out", NULL);
    if (!out) out = lis_args_str(&a, "-o", NULL);
    int list = lis_args_flag(&a, "--list");
    o.config_path = lis_args_str(&a, "--config", NULL);
    o.shipped_path = lis_args_str(&a, "--shipped", NULL);
    o.key = lis_args_str(&a, "--key", "G_ema");
    o.keep_dtype = lis_args_flag(&a, "--keep-dtype");
    lis_status s = lis_args_done(&a);
    if (s != LIS_OK) return lis_cli_fail("convert", s);
    if (a.npos != 1) return lis_cli_fail("convert", lis_err_usage("expected one input file (see --help)"));
    if (!list && (!out || !*out)) return lis_cli_fail("convert", lis_err_usage("no output: give -o OUT.safetensors or --list"));
    if ((o.config_path && !*o.config_path) || (o.shipped_path && !*o.shipped_path))
        return lis_cli_fail("convert", lis_err_usage("--config and --shipped need a file"));
    lis_statedict sd;
    const char *kind = NULL;
    s = lis_convert_read(a.pos[0], &o, &sd, &kind);
    if (s != LIS_OK) return lis_cli_fail("convert", s);
    char *config = NULL;
    s = lis_convert_config(&sd, &o, &config);
    if (list) { /* list the tensors even when the architecture is not recognised */
        if (s != LIS_OK) fprintf(stderr, "lis-run convert: note: %s\n", lis_err_msg());
        lis_convert_list(&sd, config, stdout);
        s = LIS_OK;
    } else if (s == LIS_OK) {
        s = lis_convert_write(&sd, config, out);
        if (s == LIS_OK) fprintf(stderr, "lis-run convert: %s (%s, %zu tensors) -> %s\n", a.pos[0], kind, sd.n, out);
    }
    free(config);
    lis_sd_free(&sd);
    return lis_cli_fail("convert", s);
}
