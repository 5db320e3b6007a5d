/* cmd_feasibility.c — `lis-run feasibility`: the feasibility analysis of kernels/rsa.h on
 * paired arrays (w, r, classes), written as stage `feasibility` writes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "kernels/rsa.h"
#include "runtime/fileio.h"
#include "runtime/json.h"
#include "runtime/npy.h"

int lis_cmd_feasibility(int argc, char **argv); /* also in cli/commands.h once listed there */
/* Writes DIR/repeats.csv, summary.csv and the arrays (README); stage `feasibility`
 * (cli/pipeline_feasibility.c) writes its outputs with it too. */
lis_status lis_feasibility_write(const char *dir, const lis_feas_result *r);

static void help(void) {
    printf("usage: lis-run feasibility --w W.npy --r R.npy --classes C.npy -o DIR [options]\n\n"
           "Is the linking r -> w feasible? Checks that W and R are ordered alike by class (Linking in Style, Fig. 3A):\n"
           "repeated class-balanced draws; k-means (k = number of classes, k-means++ and Lloyd as sklearn's KMeans) in W\n"
           "and in R, scored by the adjusted Rand index against the classes; and Pearson/Spearman correlations between the\n"
           "upper triangles of the sample similarity (correlation) and dissimilarity (Euclidean) matrices of W and R.\n\n"
           "inputs (row i of each is one pair, e.g. a run's pairs/*.npy):\n"
           "  --w W.npy               [N, w_dim] or [N, num_ws, w_dim] (row 0 of the ws is used)\n"
           "  --r R.npy               [N, F] classifier features\n"
           "  --classes C.npy         [N] integer class labels\n\n"
           "options:\n"
           "  --repeats N             draws (10)\n"
           "  --samples-per-class N   examples per class and draw, without replacement (100; capped by the smallest class)\n"
           "  --seed S                draws, shuffle control and k-means streams (0)\n"
           "  --n-init N              k-means initialisations (10, as sklearn < 1.4; 1 as sklearn >= 1.4 'auto')\n"
           "  --max-iter N            Lloyd iterations (300)     --tol F   relative centre-shift tolerance (1e-4)\n"
           "  --no-rsa                skip the similarity matrices (O(n^2 d) per draw)\n\n"
           "outputs in DIR: repeats.csv, summary.csv, metrics.npy, draws.npy, labels_{w,r}.npy, classes.npy,\n"
           "centroid_{corr,euclid}_{w,r}.npy (see README).\n");
}

#define TRY(x) do { lis_status s_ = (x); if (s_) return s_; } while (0)

static lis_status save(const char *dir, const char *name, lis_dtype dt, int ndim, const int64_t *shape, const void *data) {
    return lis_npy_write_in(dir, name, dt, ndim, shape, data);
}

static lis_status save_text(const char *dir, const char *name, const lis_sbuf *b) {
    if (b->oom) return lis_err_set("out of memory");
    char *path = lis_path_join(dir, name);
    if (!path) return LIS_ERR;
    lis_status s = lis_write_file_atomic(path, b->s ? b->s : "", b->len);
    free(path);
    return s;
}

lis_status lis_feasibility_write(const char *dir, const lis_feas_result *r) {
    TRY(lis_mkdirs(dir));
    lis_sbuf b = {0};
    lis_sbuf_printf(&b, "repeat");
    for (int m = 0; m < LIS_FEAS_NMETRIC; m++) lis_sbuf_printf(&b, ",%s", lis_feas_metric_names[m]);
    lis_sbuf_printf(&b, ",inertia_w,inertia_r\n");
    for (int i = 0; i < r->repeats; i++) {
        lis_sbuf_printf(&b, "%d", i);
        for (int m = 0; m < LIS_FEAS_NMETRIC; m++) lis_sbuf_printf(&b, ",%.6f", r->metric[(size_t)i * LIS_FEAS_NMETRIC + m]);
        lis_sbuf_printf(&b, ",%.9g,%.9g\n", r->inertia[2 * i], r->inertia[2 * i + 1]);
    }
    lis_status s = save_text(dir, "repeats.csv", &b);
    lis_sbuf_free(&b);
    lis_sbuf_printf(&b, "metric,mean,std,min,max,n\n");
    for (int m = 0; m < LIS_FEAS_NMETRIC; m++) {
        double mu, sd, lo, hi;
        int c;
        lis_feas_summary(r, m, &mu, &sd, &lo, &hi, &c);
        lis_sbuf_printf(&b, "%s,%.6f,%.6f,%.6f,%.6f,%d\n", lis_feas_metric_names[m], mu, sd, lo, hi, c);
    }
    if (s == LIS_OK) s = save_text(dir, "summary.csv", &b);
    lis_sbuf_free(&b);
    int64_t sm[2] = {r->repeats, LIS_FEAS_NMETRIC}, sd[2] = {r->repeats, r->n_draw}, sk[2] = {r->k, r->k}, sc[1] = {r->k};
    if (s == LIS_OK) s = save(dir, "metrics.npy", LIS_DTYPE_F64, 2, sm, r->metric);
    if (s == LIS_OK) s = save(dir, "draws.npy", LIS_DTYPE_I64, 2, sd, r->idx);
    if (s == LIS_OK) s = save(dir, "labels_w.npy", LIS_DTYPE_I32, 2, sd, r->labels_w);
    if (s == LIS_OK) s = save(dir, "labels_r.npy", LIS_DTYPE_I32, 2, sd, r->labels_r);
    if (s == LIS_OK) s = save(dir, "classes.npy", LIS_DTYPE_I64, 1, sc, r->classes);
    if (s == LIS_OK) s = save(dir, "centroid_corr_w.npy", LIS_DTYPE_F64, 2, sk, r->centroid_corr_w);
    if (s == LIS_OK) s = save(dir, "centroid_corr_r.npy", LIS_DTYPE_F64, 2, sk, r->centroid_corr_r);
    if (s == LIS_OK) s = save(dir, "centroid_euclid_w.npy", LIS_DTYPE_F64, 2, sk, r->centroid_euclid_w);
    if (s == LIS_OK) s = save(dir, "centroid_euclid_r.npy", LIS_DTYPE_F64, 2, sk, r->centroid_euclid_r);
    return s;
}

/* any numeric array as float32 rows [N, d]; [N, num_ws, w_dim] keeps row 0 of each sample */
static lis_status load_rows(const char *path, lis_tensor *t, int64_t *n, int *d, int64_t *ld) {
    LIS_TRY(lis_npy_read_f32(path, t));
    if (t->ndim == 2) { *n = t->shape[0]; *d = (int)t->shape[1]; *ld = t->shape[1]; }
    else if (t->ndim == 3) { *n = t->shape[0]; *d = (int)t->shape[2]; *ld = t->shape[1] * t->shape[2]; }
    else return lis_err_usage("%s: expected a [N, d] or [N, num_ws, d] array", path);
    if (*n < 1 || *d < 1) return lis_err_usage("%s: empty array", path);
    return LIS_OK;
}

int lis_cmd_feasibility(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { help(); return 0; }
    const char *wp = lis_args_str(&a, "--w", NULL), *rp = lis_args_str(&a, "--r", NULL), *cp = lis_args_str(&a, "--classes", NULL);
    const char *out = lis_args_str(&a, "--out", NULL);
    if (!out) out = lis_args_str(&a, "-o", NULL);
    int no_rsa = lis_args_flag(&a, "--no-rsa");
    lis_feas_params p;
    lis_feas_params_default(&p);
    long rep, spc, seed, ninit, miter;
    double tol;
    lis_status s;
    if ((s = lis_args_long(&a, "--repeats", p.repeats, &rep)) || (s = lis_args_long(&a, "--samples-per-class", p.samples_per_class, &spc)) ||
        (s = lis_args_long(&a, "--seed", 0, &seed)) || (s = lis_args_long(&a, "--n-init", p.km.n_init, &ninit)) ||
        (s = lis_args_long(&a, "--max-iter", p.km.max_iter, &miter)) || (s = lis_args_double(&a, "--tol", p.km.tol, &tol)) ||
        (s = lis_args_done(&a)))
        return lis_cli_fail("feasibility", s);
    if (a.npos) s = lis_err_usage("unexpected argument '%s'", a.pos[0]);
    else if (!wp || !rp || !cp) s = lis_err_usage("--w, --r and --classes are required");
    else if (!out || !*out) s = lis_err_usage("-o DIR is required");
    else if (rep < 1 || rep > 100000) s = lis_err_usage("--repeats must be in 1..100000");
    else if (spc < 2 || spc > 10000000) s = lis_err_usage("--samples-per-class must be >= 2");
    else if (seed < 0 || seed > 0xffffffffL) s = lis_err_usage("--seed is outside 0..2^32-1");
    else if (ninit < 1 || ninit > 10000 || miter < 1 || miter > 1000000) s = lis_err_usage("--n-init 1..10000, --max-iter 1..1e6");
    else if (!(tol >= 0 && tol <= 1)) s = lis_err_usage("--tol must be in [0, 1]");
    if (s) return lis_cli_fail("feasibility", s);
    p.repeats = (int)rep;
    p.samples_per_class = (int)spc;
    p.seed = p.km.seed = (uint32_t)seed;
    p.km.n_init = (int)ninit;
    p.km.max_iter = (int)miter;
    p.km.tol = tol;
    p.rsa = !no_rsa;

    lis_tensor tw = {0}, tr = {0}, tc = {0}, tc64 = {0};
    lis_feas_result res = {0};
    int64_t nw = 0, nr = 0, ldw = 0, ldr = 0;
    int dw = 0, dr = 0;
    if ((s = load_rows(wp, &tw, &nw, &dw, &ldw)) || (s = load_rows(rp, &tr, &nr, &dr, &ldr))) goto done;
    if ((s = lis_npy_read(cp, &tc))) goto done;
    if (tc.ndim != 1 || (tc.dtype != LIS_DTYPE_I64 && tc.dtype != LIS_DTYPE_I32 && tc.dtype != LIS_DTYPE_U8 && tc.dtype != LIS_DTYPE_I16 &&
                         tc.dtype != LIS_DTYPE_I8)) {
        s = lis_err_usage("%s: expected a 1-d integer array of class labels", cp);
        goto done;
    }
    if (nw != nr || tc.shape[0] != nw) {
        s = lis_err_usage("%s, %s and %s have %lld, %lld and %lld rows; they must be pairs", wp, rp, cp, (long long)nw, (long long)nr,
                          (long long)tc.shape[0]);
        goto done;
    }
    int64_t shape[1] = {nw};
    if ((s = lis_tensor_alloc(&tc64, LIS_DTYPE_I64, 1, shape))) goto done;
    for (int64_t i = 0; i < nw; i++) {
        int64_t v = tc.dtype == LIS_DTYPE_I64 ? ((int64_t *)tc.data)[i] : tc.dtype == LIS_DTYPE_I32 ? ((int32_t *)tc.data)[i]
                  : tc.dtype == LIS_DTYPE_I16 ? ((int16_t *)tc.data)[i] : tc.dtype == LIS_DTYPE_I8 ? ((int8_t *)tc.data)[i]
                  : ((uint8_t *)tc.data)[i];
        ((int64_t *)tc64.data)[i] = v;
    }
    if ((s = lis_feasibility(&p, nw, dw, tw.data, ldw, dr, tr.data, ldr, tc64.data, &res))) goto done;
    if ((s = lis_feasibility_write(out, &res))) goto done;
    printf("%d classes, %d draws of %d per class (W %d-d, R %d-d):\n", res.k, res.repeats, res.spc, dw, dr);
    for (int m = 0; m < LIS_FEAS_NMETRIC; m++) {
        double mu, sd, lo, hi;
        lis_feas_summary(&res, m, &mu, &sd, &lo, &hi, NULL);
        printf("  %-26s %7.3f +- %.3f  [%.3f, %.3f]\n", lis_feas_metric_names[m], mu, sd, lo, hi);
    }
    printf("written to %s\n", out);
done:
    lis_feas_result_free(&res);
    lis_tensor_free(&tw); lis_tensor_free(&tr); lis_tensor_free(&tc); lis_tensor_free(&tc64);
    return lis_cli_fail("feasibility", s);
}
