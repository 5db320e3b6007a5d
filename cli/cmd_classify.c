/* cmd_classify.c — `lis-run classify --weights R.safetensors (--u8 IMGS.npy | --png FILE...
 * | --tensor X.npy) -o R.npy [--logits L.npy] [--top K] [--batch B] [--device D]`: a
 * torchvision ResNet on the CPU or the GPU, writing the penultimate features r (what
 * LinkingInStyle's encoder returns) and optionally the logits, and printing the top-K
 * classes. Preprocessing runs on the host in both cases (bit-exact with torchvision). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "nets/resnet.h"
#include "nets/resnet_cuda.h"
#include "runtime/npy.h"
#include "runtime/threads.h"

/* defined in cmd_preprocess.c */
lis_status lis_cli_read_u8_images(const char *path, lis_tensor *t);
lis_status lis_cli_preprocess_opts(lis_args *a, const lis_preprocess_cfg *base, lis_preprocess_cfg *cfg);
lis_status lis_cli_preprocess_png(const char *path, const lis_preprocess_cfg *cfg, lis_preprocess_plan *pl, float *out);

#define DEFAULT_BATCH 16

static void help(void) {
    printf("usage: lis-run classify --weights R.safetensors (--u8 IMGS.npy | --png FILE... | --tensor X.npy)\n"
           "                        -o R.npy [--logits L.npy] [--top K] [--batch B] [options]\n\n"
           "Runs a torchvision ResNet (ResNet-18/34/50/101/152 or reduced widths; architecture read from the\n"
           "weight file) on the CPU or a GPU and writes the penultimate features r (after the global average pool,\n"
           "float32 N x D, D = 2048 for ResNet-50) and optionally the logits (float32 N x classes).\n\n"
           "options:\n"
           "  --weights FILE      classifier weights: safetensors with torchvision state_dict names\n"
           "                      (conv1.weight, bn1.*, layerL.B.*, fc.*); its metadata config may set\n"
           "                      preprocessing and class_names\n"
           "  --u8 FILE.npy       input images: uint8 N x H x W x 3, preprocessed as below\n"
           "  --png FILE...       input images: PNG files, preprocessed as below (sizes may differ;\n"
           "                      the list ends at the next --option)\n"
           "  --tensor FILE.npy   input already preprocessed: float32 N x 3 x H x W, used as is\n"
           "  -o, --out FILE.npy  write r (float32 N x D)\n"
           "  --logits FILE.npy   write the logits (float32 N x classes)\n"
           "  --top K             print the K most likely classes per image, with names (default 0)\n"
           "  --batch B           images per forward pass (default %d); memory grows with B\n"
           "  --device DEV        cpu, cuda, cuda:N or auto (default auto: cuda when a GPU is present)\n"
           "  --precision P       fp32 (default), or tf32, bf16, fp16 on tensor cores with float32\n"
           "                      accumulation (--device cuda only; not bit-compatible)\n"
           "At least one of -o, --logits, --top. Outputs are written atomically after all images ran.\n\n"
           "preprocessing of --u8 / --png (torchvision Resize -> CenterCrop -> ToTensor -> Normalize,\n"
           "bit-exact): from the weight file's config \"preprocessing\" if present, else ImageNet's;\n"
           "these override it:\n"
           "  --resize N          Resize: the short side becomes N (default 256; 0 = no resize)\n"
           "  --crop N            CenterCrop size N x N (default 224)\n"
           "  --mean A,B,C        Normalize mean (default 0.485,0.456,0.406)\n"
           "  --std A,B,C         Normalize std (default 0.229,0.224,0.225)\n\n"
           "environment: LIS_THREADS=N threads (default: all cores)\n",
           DEFAULT_BATCH);
}

static void print_top(const lis_resnet *net, int64_t idx, const char *label, const float *logits, int k) {
    int C = net->num_classes;
    double mx = -INFINITY, sum = 0.0;
    for (int c = 0; c < C; c++) mx = logits[c] > mx ? logits[c] : mx;
    for (int c = 0; c < C; c++) sum += exp((double)logits[c] - mx);
    printf("[%lld]%s%s\n", (long long)idx, label ? " " : "", label ? label : "");
    /* selection of the k largest, ties to the lower index (k is small) */
    unsigned char *taken = calloc((size_t)C, 1);
    for (int r = 0; r < k && taken; r++) {
        int best = -1;
        for (int c = 0; c < C; c++)
            if (!taken[c] && (best < 0 || logits[c] > logits[best])) best = c;
        taken[best] = 1;
        const char *name = lis_resnet_class_name(net, best);
        printf("  %2d. %4d  %-28s logit %9.4f  p %.4f\n", r + 1, best, name ? name : "-", logits[best],
               exp((double)logits[best] - mx) / sum);
    }
    free(taken);
}

int lis_cmd_classify(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { help(); return 0; }
    lis_args a0 = a; /* re-read for the preprocessing flags once the weights' config is known */
    const char *weights = lis_args_str(&a, "--weights", NULL);
    const char *out = lis_args_str(&a, "--out", NULL);
    if (!out) out = lis_args_str(&a, "-o", NULL);
    const char *logits_path = lis_args_str(&a, "--logits", NULL);
    const char *u8 = lis_args_str(&a, "--u8", NULL), *tensor = lis_args_str(&a, "--tensor", NULL);
    const char *pngs[4096];
    int npng = lis_args_list(&a, "--png", pngs, 4096);
    const char *device = lis_args_str(&a, "--device", "auto"), *precision = lis_args_str(&a, "--precision", NULL);
    long top = 0, batch = DEFAULT_BATCH;
    lis_preprocess_cfg cfg;
    lis_status s = lis_args_long(&a, "--top", 0, &top);
    if (s == LIS_OK) s = lis_args_long(&a, "--batch", DEFAULT_BATCH, &batch);
    /* preprocessing flags: validated now (usage errors before the slow load), applied
     * over the weights' config below */
    if (s == LIS_OK) s = lis_cli_preprocess_opts(&a, NULL, &cfg);
    if (s == LIS_OK) s = lis_args_done(&a);
    if (s == LIS_OK && a.npos) s = lis_err_usage("unexpected argument '%s' (see --help)", a.pos[0]);
    if (s == LIS_OK && (!weights || !*weights)) s = lis_err_usage("--weights FILE is required");
    if (s == LIS_OK && (u8 != NULL) + (tensor != NULL) + (npng > 0) != 1)
        s = lis_err_usage("give exactly one input: --u8 IMGS.npy, --png FILE... or --tensor X.npy");
    if (s == LIS_OK && ((u8 && !*u8) || (tensor && !*tensor) || (out && !*out) || (logits_path && !*logits_path)))
        s = lis_err_usage("--u8, --tensor, -o and --logits need a file name");
    for (int i = 0; s == LIS_OK && i < npng && i < 4096; i++)
        if (pngs[i][0] == '-') /* cli/args.c ends a list only at the next "--option" */
            s = lis_err_usage("'%s' after --png: the list runs to the next --option; use --out, or put -o first", pngs[i]);
    if (s == LIS_OK && npng > 4096) s = lis_err_usage("at most 4096 PNG files");
    if (s == LIS_OK && (top < 0 || top > 1000000)) s = lis_err_usage("--top %ld: must be >= 0", top);
    if (s == LIS_OK && (batch < 1 || batch > 4096)) s = lis_err_usage("--batch %ld: must be in 1..4096", batch);
    if (s == LIS_OK && !out && !logits_path && top == 0)
        s = lis_err_usage("nothing to do: give -o R.npy, --logits L.npy or --top K");
    if (s != LIS_OK) return lis_cli_fail("classify", s);

    lis_resnet net;
    lis_resnet_runner run = {0};
    lis_safetensors st;
    memset(&net, 0, sizeof net);
    if ((s = lis_st_open(&st, weights)) != LIS_OK) return lis_cli_fail("classify", s);
    s = lis_resnet_load(&net, &st);
    /* the GPU folds BatchNorm from the file's tensors, so it starts while the file is open */
    if (s == LIS_OK) s = lis_resnet_runner_init(&run, &net, &st, device, precision);
    lis_st_close(&st);
    if (s != LIS_OK) {
        lis_resnet_free(&net);
        return lis_cli_fail("classify", s);
    }
    s = lis_cli_preprocess_opts(&a0, &net.pre, &cfg); /* cannot fail: same flags as above */

    lis_tensor in = {0};
    lis_preprocess_plan pl = {0};
    float *xb = NULL, *r = NULL, *logits = NULL;
    int64_t n = 0;
    int H = cfg.crop_h, W = cfg.crop_w;
    if (tensor) {
        s = lis_npy_read(tensor, &in);
        if (s == LIS_OK && (in.dtype != LIS_DTYPE_F32 || in.ndim != 4 || in.shape[0] < 1 || in.shape[1] != net.in_ch ||
                            in.shape[2] < 1 || in.shape[3] < 1 || in.shape[2] > 65536 || in.shape[3] > 65536)) {
            char b[128];
            s = lis_err_set("%s: expected a preprocessed float32 tensor N x %d x H x W, found %s %s", tensor, net.in_ch,
                            lis_dtype_name(in.dtype), lis_shape_str(in.ndim, in.shape, b, sizeof b));
        }
        if (s == LIS_OK) { n = in.shape[0]; H = (int)in.shape[2]; W = (int)in.shape[3]; }
    } else if (u8) {
        s = lis_cli_read_u8_images(u8, &in);
        if (s == LIS_OK) {
            n = in.shape[0];
            s = lis_preprocess_plan_init(&pl, &cfg, (int)in.shape[1], (int)in.shape[2]);
            if (s != LIS_OK) lis_err_prefix("%s", u8);
        }
    } else {
        n = npng;
    }
    if (s == LIS_OK && !tensor && net.in_ch != 3)
        s = lis_err_set("%s: the net takes %d input channels; images have 3 (use --tensor)", weights, net.in_ch);
    int B = (int)(batch < n ? batch : n);
    size_t per = (size_t)net.in_ch * H * W;
    if (s == LIS_OK && !run.rc) s = lis_resnet_plan(&net, B, H, W); /* the GPU plans its own */
    if (s == LIS_OK && !tensor && !(xb = lis_alloc_aligned((size_t)B * per * sizeof(float), "input batch"))) s = LIS_ERR;
    if (s == LIS_OK && !(r = lis_alloc_aligned((size_t)n * net.feat_dim * sizeof(float), "r"))) s = LIS_ERR;
    if (s == LIS_OK && !(logits = lis_alloc_aligned((size_t)n * net.num_classes * sizeof(float), "logits"))) s = LIS_ERR;

    double t0 = lis_now();
    for (int64_t i0 = 0; s == LIS_OK && i0 < n; i0 += B) {
        int nb = (int)(n - i0 < B ? n - i0 : B);
        const float *x;
        if (tensor) {
            x = (const float *)in.data + (size_t)i0 * per;
        } else if (u8) {
            lis_preprocess_run(&pl, nb, (const uint8_t *)in.data + (size_t)i0 * in.shape[1] * in.shape[2] * 3, xb);
            x = xb;
        } else {
            for (int i = 0; i < nb && s == LIS_OK; i++)
                s = lis_cli_preprocess_png(pngs[i0 + i], &cfg, &pl, xb + (size_t)i * per);
            x = xb;
        }
        if (s == LIS_OK)
            s = lis_resnet_runner_forward(&run, nb, H, W, x, r + (size_t)i0 * net.feat_dim,
                                          logits + (size_t)i0 * net.num_classes, NULL);
    }
    double secs = lis_now() - t0;
    if (s == LIS_OK && out) {
        int64_t shape[2] = {n, net.feat_dim};
        s = lis_npy_write_f32(out, r, 2, shape);
    }
    if (s == LIS_OK && logits_path) {
        int64_t shape[2] = {n, net.num_classes};
        s = lis_npy_write_f32(logits_path, logits, 2, shape);
    }
    if (s == LIS_OK) {
        for (int64_t i = 0; i < n && top > 0; i++)
            print_top(&net, i, npng ? pngs[i] : NULL, logits + (size_t)i * net.num_classes,
                      (int)(top < net.num_classes ? top : net.num_classes));
        char desc[320];
        fprintf(stderr,
                "lis-run classify: %lld image(s) %dx%d, ResNet %s %d-%d-%d-%d (r %d, %d classes), batch %d, %s, %d threads: "
                "%.3f s (%.1f ms/image)\n",
                (long long)n, H, W, net.bottleneck ? "Bottleneck" : "Basic", net.nblocks[0], net.nblocks[1],
                net.nblocks[2], net.nblocks[3], net.feat_dim, net.num_classes, B,
                lis_resnet_runner_describe(&run, desc, sizeof desc), lis_threads_count(), secs,
                1e3 * secs / (double)(n ? n : 1));
    }
    free(xb);
    free(r);
    free(logits);
    lis_preprocess_plan_free(&pl);
    lis_tensor_free(&in);
    lis_resnet_runner_free(&run);
    lis_resnet_free(&net);
    return lis_cli_fail("classify", s);
}
