/* convert_sklearn.c — `convert` reader for the original code's linking networks
 * (models/lnw/LinkingNW_{model}_{classifier}_{dataset}.pkl): pickled scikit-learn
 * LinearRegression / Ridge / ElasticNet (and Lasso) estimators, pickle protocols 2-5.
 *
 * The estimator is a plain class instance (NEWOBJ + BUILD of its __dict__): coef_ is a
 * numpy array [n_out, n_in] (or [n_in] for one target), intercept_ an array [n_out] or a
 * scalar (0.0 when fit_intercept=False). Written as nets/link.h expects:
 *     coef      [n_out, n_in]   (float32 unless --keep-dtype; link files accept F64 too)
 *     intercept [n_out]
 *     config    {"arch":"link","version":1,"model":"ols|ridge|enet","n_in","n_out",
 *                "alpha","l1_ratio","max_iter","tol","rank","fit_intercept",
 *                "sklearn_class","sklearn_version"}
 * A top-level dict holding one estimator (or --key NAME) is accepted too.
 */
#include <stdlib.h>
#include <string.h>

#include "weights_tools/convert.h"
#include "weights_tools/pickle.h"

static const char *model_of(const lis_pk *v, double *l1_ratio) {
    char cn[160];
    lis_pk_class_name(v, cn, sizeof cn);
    const char *dot = strrchr(cn, '.');
    if (v->type != LIS_PK_OBJECT || v->u.obj.called || strncmp(cn, "sklearn.", 8) || !dot) return NULL;
    if (!strcmp(dot, ".LinearRegression")) return "ols";
    if (!strcmp(dot, ".Ridge")) return "ridge";
    if (!strcmp(dot, ".ElasticNet")) return "enet";
    if (!strcmp(dot, ".Lasso")) { *l1_ratio = 1.0; return "enet"; }
    return NULL;
}

static void release_pk_file(void *p) {
    lis_pk_file_close(p);
    free(p);
}

static void num_key(lis_sbuf *b, const char *key, const lis_pk *v) {
    int64_t i;
    double d;
    if (v && v->type == LIS_PK_BOOL) lis_sbuf_printf(b, ",\"%s\":%s", key, v->i ? "true" : "false");
    else if (lis_pk_as_int(v, &i)) lis_sbuf_printf(b, ",\"%s\":%lld", key, (long long)i);
    else if (lis_pk_as_double(v, &d) && d == d && d - d == 0) lis_sbuf_printf(b, ",\"%s\":%.17g", key, d);
}

static lis_status read_sklearn(const char *path, const lis_convert_opts *o, lis_statedict *sd) {
    lis_pk_file *f = calloc(1, sizeof *f);
    if (!f) return lis_err_set("out of memory");
    lis_pk_opts po = {.label = path};
    lis_status s = lis_pk_file_open(f, path, &po);
    if (s != LIS_OK) { free(f); return s; }
    if ((s = lis_sd_keep(sd, f, release_pk_file)) != LIS_OK) { release_pk_file(f); return s; }
    const lis_pk *est = f->root;
    double l1_ratio = -1;
    const char *model = model_of(est, &l1_ratio);
    const char *key = o->key && *o->key && strcmp(o->key, "G_ema") ? o->key : NULL;
    if (!model && est->type == LIS_PK_DICT) {
        const lis_pk *found = NULL;
        for (size_t i = 0; i + 1 < est->n; i += 2) {
            const lis_pk *v = est->items[i + 1];
            double l1 = -1;
            if ((key && lis_pk_is_str(est->items[i], key)) || (!key && model_of(v, &l1))) {
                if (found && !key) return lis_err_set("%s: several scikit-learn models in one dict: choose one with --key NAME", path);
                found = v;
            }
        }
        if (found) { est = found; model = model_of(est, &l1_ratio); }
    }
    char cn[160];
    if (!model)
        return lis_err_set("%s: not a scikit-learn LinearRegression/Ridge/ElasticNet model (the pickle holds a %s%s%s)", path,
                           lis_pk_type_name(est->type), est->type == LIS_PK_OBJECT ? " " : "", lis_pk_class_name(est, cn, sizeof cn));
    lis_pk_class_name(est, cn, sizeof cn);
    const lis_pk *st = lis_pk_obj_state(est);
    const lis_pk *coef = lis_pk_dict_get(st, "coef_"), *icpt = lis_pk_dict_get(st, "intercept_");
    if (!coef || !icpt) return lis_err_set("%s: the %s has no coef_/intercept_: it was never fitted", path, cn);
    lis_tensor c, b;
    if ((s = lis_pk_tensor(coef, &c, "coef_")) != LIS_OK) { lis_err_prefix("%s", path); return s; }
    if (c.ndim == 1) { c.shape[1] = c.shape[0]; c.shape[0] = 1; c.ndim = 2; }
    if (c.ndim != 2 || c.shape[0] < 1 || c.shape[1] < 1 || (c.dtype != LIS_DTYPE_F64 && c.dtype != LIS_DTYPE_F32)) {
        lis_tensor_free(&c);
        return lis_err_set("%s: coef_ must be a non-empty float matrix [n_out, n_in]", path);
    }
    int64_t n_out = c.shape[0], n_in = c.shape[1];
    double d;
    if (icpt->type == LIS_PK_NDARRAY) {
        s = lis_pk_tensor(icpt, &b, "intercept_");
        if (s != LIS_OK) lis_err_prefix("%s", path);
        if (s == LIS_OK && b.ndim == 0) { b.ndim = 1; b.shape[0] = 1; }
        if (s == LIS_OK && (b.ndim != 1 || b.shape[0] != n_out || (b.dtype != LIS_DTYPE_F64 && b.dtype != LIS_DTYPE_F32))) {
            lis_tensor_free(&b);
            s = lis_err_set("%s: intercept_ must be a float vector of %lld values (one per row of coef_)", path, (long long)n_out);
        }
    } else if (lis_pk_as_double(icpt, &d)) { /* a Python float: one target, or fit_intercept=False */
        int64_t shp[1] = {n_out};
        s = lis_tensor_alloc(&b, LIS_DTYPE_F64, 1, shp);
        for (int64_t i = 0; s == LIS_OK && i < n_out; i++) ((double *)b.data)[i] = d;
    } else {
        s = lis_err_set("%s: intercept_ is a %s", path, lis_pk_type_name(icpt->type));
    }
    if (s != LIS_OK) { lis_tensor_free(&c); return s; }
    if ((s = lis_sd_add(sd, "coef", &c)) != LIS_OK) { lis_tensor_free(&c); lis_tensor_free(&b); return s; }
    if ((s = lis_sd_add(sd, "intercept", &b)) != LIS_OK) { lis_tensor_free(&b); return s; }

    lis_sbuf j = {0};
    lis_sbuf_printf(&j, "{\"version\":1,\"model\":\"%s\",\"n_in\":%lld,\"n_out\":%lld", model, (long long)n_in, (long long)n_out);
    if (strcmp(model, "ols")) num_key(&j, "alpha", lis_pk_dict_get(st, "alpha"));
    if (!strcmp(model, "enet")) {
        if (l1_ratio >= 0) lis_sbuf_printf(&j, ",\"l1_ratio\":%.17g", l1_ratio);
        else num_key(&j, "l1_ratio", lis_pk_dict_get(st, "l1_ratio"));
        num_key(&j, "max_iter", lis_pk_dict_get(st, "max_iter"));
    }
    if (strcmp(model, "ols")) num_key(&j, "tol", lis_pk_dict_get(st, "tol"));
    if (!strcmp(model, "ols")) num_key(&j, "rank", lis_pk_dict_get(st, "rank_"));
    num_key(&j, "fit_intercept", lis_pk_dict_get(st, "fit_intercept"));
    lis_sbuf_printf(&j, ",\"sklearn_class\":");
    lis_sbuf_json_str(&j, cn);
    const lis_pk *ver = lis_pk_dict_get(st, "_sklearn_version");
    if (ver && lis_pk_is_plain(ver, 0) && ver->type == LIS_PK_STR) {
        lis_sbuf_printf(&j, ",\"sklearn_version\":");
        lis_pk_to_json(&j, ver, 0);
    }
    lis_sbuf_printf(&j, "}");
    sd->config = j.oom ? NULL : lis_json_parse(j.s, j.len);
    lis_sbuf_free(&j);
    if (!sd->config) return lis_err_set("out of memory");
    snprintf(sd->arch, sizeof sd->arch, "link");
    if (snprintf(sd->origin, sizeof sd->origin, "scikit-learn %s pickle %s", cn, path) >= (int)sizeof sd->origin) {
        /* a long path cuts the origin text: harmless */
    }
    return LIS_OK;
}

int lis_convert_detect_sklearn(const char *path, const unsigned char *h, size_t n) {
    (void)path;
    return n >= 2 && h[0] == 0x80 && h[1] >= 2 && h[1] <= 5 && memmem(h, n, "sklearn", 7);
}

lis_status lis_convert_read_sklearn(const char *path, const lis_convert_opts *o, lis_statedict *sd) {
    return read_sklearn(path, o, sd);
}
