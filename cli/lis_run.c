/* lis_run.c — main(): dispatches `lis-run <command> ...`, or runs a pipeline config
 * when the first argument is a file ending in .cfg (`lis-run pipeline.cfg`).
 *
 * Commands are looked up in one table. Commands whose implementation is not linked
 * into this build (declared weak) are listed as unavailable rather than crashing.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "runtime/status.h"

/* weak: a command whose file is not part of the build resolves to NULL */
#pragma weak lis_cmd_generate
#pragma weak lis_cmd_convert
#pragma weak lis_cmd_preprocess
#pragma weak lis_cmd_classify
#pragma weak lis_cmd_fit_link
#pragma weak lis_cmd_apply_link
#pragma weak lis_cmd_pipeline
#pragma weak lis_cmd_merge
#pragma weak lis_cmd_toyworld
#pragma weak lis_cmd_match
#pragma weak lis_cmd_counterfactual
#pragma weak lis_cmd_feasibility

static const struct {
    const char *name;
    lis_cmd_fn fn;
    const char *help;
} commands[] = {
    {"generate", lis_cmd_generate, "render images from ws, z or seeds with a StyleGAN-XL weight file"},
    {"convert", lis_cmd_convert, "convert checkpoints / manifests into a lis weight file (.safetensors)"},
    {"preprocess", lis_cmd_preprocess, "torchvision-exact Resize/CenterCrop/Normalize of uint8 images"},
    {"classify", lis_cmd_classify, "run a ResNet classifier: penultimate features r and logits"},
    {"fit-link", lis_cmd_fit_link, "fit a linking network r -> w (ols, ridge, enet)"},
    {"apply-link", lis_cmd_apply_link, "apply a linking network to r"},
    {"pipeline", lis_cmd_pipeline, "run a pipeline config (same as `lis-run CONFIG.cfg`)"},
    {"merge", lis_cmd_merge, "merge the outputs of sharded pipeline runs"},
    {"toyworld", lis_cmd_toyworld, "render toy-world scenes with exact part masks and parameters"},
    {"match", lis_cmd_match, "PUMP dense matching of two images: affine alignment and motion field"},
    {"counterfactual", lis_cmd_counterfactual, "shift r until the generated image is classified as a target class"},
    {"feasibility", lis_cmd_feasibility, "k-means / ARI and similarity-matrix agreement of the W and R spaces"},
};
#define NCMD (sizeof commands / sizeof *commands)

int lis_cli_fail(const char *cmd, int status) {
    if (status == 0) return 0;
    fprintf(stderr, "lis-run %s: error: %s\n", cmd, lis_err_msg());
    return status == LIS_ERR_USAGE ? 2 : 1;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: lis-run CONFIG.cfg [--out DIR] [options]   run the pipeline described by CONFIG.cfg\n"
            "       lis-run COMMAND [options]                  run one command (COMMAND --help for its options)\n\n"
            "commands:\n");
    for (size_t i = 0; i < NCMD; i++)
        fprintf(f, "  %-12s %s%s\n", commands[i].name, commands[i].help, commands[i].fn ? "" : " (not in this build)");
    fprintf(f, "\nenvironment: LIS_THREADS=N sets the CPU thread count (default: all cores)\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    const char *c = argv[1];
    if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) { usage(stdout); return 0; }
    size_t n = strlen(c);
    if (n > 4 && !strcmp(c + n - 4, ".cfg")) {
        if (!lis_cmd_pipeline) { fprintf(stderr, "lis-run: the pipeline is not part of this build\n"); return 1; }
        return lis_cmd_pipeline(argc - 1, argv + 1);
    }
    for (size_t i = 0; i < NCMD; i++) {
        if (strcmp(c, commands[i].name) != 0) continue;
        if (!commands[i].fn) { fprintf(stderr, "lis-run: command '%s' is not part of this build\n", c); return 1; }
        return commands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "lis-run: unknown command '%s' (lis-run --help lists the commands)\n", c);
    return 2;
}
