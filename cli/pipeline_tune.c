/* pipeline_tune.c — stage `tune` (spec/pipeline.md 5): sweep classifier units through the
 * linking network and the generator.
 *
 * Reference set: per class, the first samples_per_class latents of RandomState(seed)
 * (seed 136, psi 0.7 as the original), rendered and encoded -> r_ref [S, F]. The
 * activation range of unit u is [min_k r_ref[k, u], max_k r_ref[k, u]] over all S
 * reference samples (tune/activation_ranges.csv, tune/ranges.npy [F, 2]). For sample k,
 * unit u and step i, r' = r_ref[k] with r'[u] SET to linspace(min_u, max_u, n_steps)[i]
 * (numpy's linspace: the last value is exactly max), w' = link(r'), image = G(w' tiled).
 *
 * Work is cut into chunks of `chunk` units (in the order of [tune] units). Each chunk
 * writes tune/chunks/chunk_<j>/{units,w,logits,change}.npy and a done marker, plus one PNG
 * strip per (unit, sample): tune/strips/unit_<u>/class_<c>_sample_<j>.png (the n_steps
 * images left to right). `--shard K/N` runs the chunks with j % N == K. When every chunk
 * exists, tune/units.csv summarises each unit and the stage is marked done.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pipeline.h"
#include "runtime/fileio.h"
#include "runtime/np_random.h"
#include "runtime/png_io.h"
#include "runtime/progress.h"

typedef struct {
    int S, F, wd, K, R, C;
    float *w_ref, *r_ref, *ranges; /* [S, wd], [S, F], [F, 2] */
    int64_t *cls;                  /* [S] */
    int *sample_j;                 /* [S] index within its class */
} ref_set;

static void ref_free(ref_set *r) {
    free(r->w_ref); free(r->r_ref); free(r->ranges); free(r->cls); free(r->sample_j);
    memset(r, 0, sizeof *r);
}

static lis_status reference(lis_pipe *p, ref_set *rs) {
    lis_pipe_cfg *c = &p->c;
    lis_sgxl *g = &p->g;
    int spc = c->tune_spc, S = c->n_classes * spc, F = p->cls.feat_dim, wd = g->w_dim;
    rs->S = S; rs->F = F; rs->wd = wd; rs->K = p->cls.num_classes; rs->R = g->img_resolution; rs->C = g->img_channels;
    rs->w_ref = lis_malloc(sizeof(float) * (size_t)S * wd, "reference w");
    rs->r_ref = lis_malloc(sizeof(float) * (size_t)S * F, "reference r");
    rs->ranges = lis_malloc(sizeof(float) * (size_t)F * 2, "ranges");
    rs->cls = lis_malloc(sizeof(int64_t) * (size_t)S, "reference classes");
    rs->sample_j = lis_malloc(sizeof(int) * (size_t)S, "reference index");
    if (!rs->w_ref || !rs->r_ref || !rs->ranges || !rs->cls || !rs->sample_j) return LIS_ERR;
    for (int k = 0; k < c->n_classes; k++)
        for (int j = 0; j < spc; j++) { rs->cls[k * spc + j] = c->classes[k]; rs->sample_j[k * spc + j] = j; }
    char *marker = lis_pipe_path(p, "tune/reference.done");
    int have = marker && lis_file_exists(marker);
    free(marker);
    if (have) { /* computed before an interruption */
        lis_tensor tw = {0}, tr = {0};
        lis_status s = lis_pipe_load(p, "tune/reference_w.npy", &tw);
        if (s == LIS_OK) s = lis_pipe_load(p, "tune/reference_r.npy", &tr);
        if (s == LIS_OK && (lis_tensor_numel(&tw) != (int64_t)S * wd || lis_tensor_numel(&tr) != (int64_t)S * F))
            s = lis_err_set("%s/tune: reference files do not match the configuration", p->dir);
        if (s == LIS_OK) {
            memcpy(rs->w_ref, tw.data, sizeof(float) * (size_t)S * wd);
            memcpy(rs->r_ref, tr.data, sizeof(float) * (size_t)S * F);
        }
        lis_tensor_free(&tw);
        lis_tensor_free(&tr);
        LIS_TRY(s);
    } else {
        size_t wsz = (size_t)g->num_ws * wd;
        float *ws = lis_malloc(sizeof(float) * wsz, "ws"), *z = lis_malloc(sizeof(float) * (size_t)g->z_dim, "z");
        lis_status s = ws && z ? LIS_OK : LIS_ERR;
        for (int k = 0; k < c->n_classes && s == LIS_OK; k++) {
            lis_np_rng rng;
            lis_np_seed(&rng, (uint32_t)c->tune_seed);
            for (int j = 0; j < spc && s == LIS_OK; j++) {
                int64_t cls = c->classes[k];
                for (int d = 0; d < g->z_dim; d++) z[d] = (float)lis_np_randn(&rng);
                s = lis_sgxl_mapping(g, z, &cls, 1, 1.0f, 0, ws, NULL);
                lis_sgxl_truncate(g, &cls, 1, (float)c->tune_psi, ws);
                memcpy(rs->w_ref + (size_t)(k * spc + j) * wd, ws, sizeof(float) * (size_t)wd);
            }
        }
        free(ws);
        free(z);
        if (s == LIS_OK) s = lis_render_w(&p->render, S, rs->w_ref, NULL, NULL, rs->r_ref, NULL);
        int64_t sw[2] = {S, wd}, sr[2] = {S, F}, sc[1] = {S};
        if (s == LIS_OK) s = lis_pipe_save(p, "tune/reference_w.npy", LIS_DTYPE_F32, 2, sw, rs->w_ref);
        if (s == LIS_OK) s = lis_pipe_save(p, "tune/reference_r.npy", LIS_DTYPE_F32, 2, sr, rs->r_ref);
        if (s == LIS_OK) s = lis_pipe_save(p, "tune/reference_classes.npy", LIS_DTYPE_I64, 1, sc, rs->cls);
        LIS_TRY(s);
    }
    for (int u = 0; u < F; u++) {
        float lo = rs->r_ref[u], hi = rs->r_ref[u];
        for (int k = 1; k < S; k++) {
            float v = rs->r_ref[(size_t)k * F + u];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        rs->ranges[2 * u] = lo;
        rs->ranges[2 * u + 1] = hi;
    }
    if (!have) {
        lis_sbuf csv = {0};
        lis_sbuf_printf(&csv, "unit,min,max\n");
        for (int u = 0; u < F; u++) lis_sbuf_printf(&csv, "%d,%.9g,%.9g\n", u, rs->ranges[2 * u], rs->ranges[2 * u + 1]);
        int64_t sg[2] = {F, 2};
        lis_status s = csv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "tune/activation_ranges.csv", csv.s, csv.len);
        lis_sbuf_free(&csv);
        if (s == LIS_OK) s = lis_pipe_save(p, "tune/ranges.npy", LIS_DTYPE_F32, 2, sg, rs->ranges);
        if (s == LIS_OK) s = lis_pipe_write_text(p, "tune/reference.done", "ok\n", 3);
        LIS_TRY(s);
    }
    return LIS_OK;
}

/* numpy.linspace(lo, hi, n)[i] in float64 (step = (hi - lo) / (n - 1), last = hi exactly) */
static double linspace(double lo, double hi, int n, int i) {
    return i == n - 1 ? hi : lo + (double)i * ((hi - lo) / (double)(n - 1));
}

/* Renders a chunk of units in groups of about 256 images, so that small sweeps still
 * fill the generator's batches and memory stays bounded for large reference sets. */
static lis_status run_chunk(lis_pipe *p, const ref_set *rs, const lis_link *L, int j, const long *units, int nu) {
    lis_pipe_cfg *c = &p->c;
    int S = rs->S, F = rs->F, wd = rs->wd, K = rs->K, R = rs->R, Ch = rs->C, T = c->n_steps;
    size_t isz = (size_t)R * R * Ch, per_unit = (size_t)S * T;
    int gu = (int)(256 / per_unit);
    gu = gu < 1 ? 1 : (gu > nu ? nu : gu);
    float *rp = lis_malloc(sizeof(float) * per_unit * gu * F, "r'"), *W = lis_malloc(sizeof(float) * (size_t)nu * per_unit * wd, "w'");
    float *LG = c->tune_classify ? lis_malloc(sizeof(float) * (size_t)nu * per_unit * K, "logits") : NULL;
    float *change = lis_malloc(sizeof(float) * (size_t)nu * S, "change");
    uint8_t *u8 = lis_malloc(isz * per_unit * gu, "images"), *strip = lis_malloc(isz * (size_t)T, "strip");
    int64_t *uarr = lis_malloc(sizeof(int64_t) * (size_t)nu, "units");
    lis_status s = rp && W && change && u8 && strip && uarr && (!c->tune_classify || LG) ? LIS_OK : LIS_ERR;
    for (int a0 = 0; a0 < nu && s == LIS_OK; a0 += gu) {
        int ng = nu - a0 < gu ? nu - a0 : gu;
        for (int a = a0; a < a0 + ng; a++) {
            int u = (int)units[a];
            uarr[a] = u;
            for (int k = 0; k < S; k++)
                for (int i = 0; i < T; i++) {
                    float *r = rp + (((size_t)(a - a0) * S + k) * T + i) * F;
                    memcpy(r, rs->r_ref + (size_t)k * F, sizeof(float) * (size_t)F);
                    r[u] = (float)linspace(rs->ranges[2 * u], rs->ranges[2 * u + 1], T, i);
                }
        }
        float *w = W + (size_t)a0 * per_unit * wd;
        if ((s = lis_link_apply(L, (int64_t)(per_unit * ng), rp, F, w, wd))) break;
        if ((s = lis_render_w(&p->render, (int64_t)(per_unit * ng), w, u8, NULL, NULL,
                              LG ? LG + (size_t)a0 * per_unit * K : NULL)))
            break;
        for (int a = a0; a < a0 + ng && s == LIS_OK; a++) {
            int u = (int)units[a];
            char dir[64];
            snprintf(dir, sizeof dir, "tune/strips/unit_%05d", u);
            if ((s = lis_pipe_mkdir(p, dir))) break;
            for (int k = 0; k < S && s == LIS_OK; k++) {
                const uint8_t *first = u8 + ((size_t)(a - a0) * S + k) * T * isz, *last = first + (size_t)(T - 1) * isz;
                double d = 0;
                for (size_t q = 0; q < isz; q++) d += abs((int)last[q] - (int)first[q]);
                change[(size_t)a * S + k] = (float)(d / (double)isz);
                for (int y = 0; y < R; y++)
                    for (int i = 0; i < T; i++)
                        memcpy(strip + ((size_t)y * T * R + (size_t)i * R) * Ch, first + (size_t)i * isz + (size_t)y * R * Ch,
                               (size_t)R * Ch);
                char rel[160];
                snprintf(rel, sizeof rel, "%s/class_%lld_sample_%d.png", dir, (long long)rs->cls[k], rs->sample_j[k]);
                char *path = lis_pipe_path(p, rel);
                s = path ? lis_png_write(path, strip, R, T * R, Ch) : LIS_ERR;
                free(path);
            }
        }
    }
    char d[64], rel[128];
    snprintf(d, sizeof d, "tune/chunks/chunk_%05d", j);
    if (s == LIS_OK) s = lis_pipe_mkdir(p, d);
    int64_t su[1] = {nu}, sw[4] = {nu, S, T, wd}, sl[4] = {nu, S, T, K}, sc[2] = {nu, S};
    snprintf(rel, sizeof rel, "%s/units.npy", d);
    if (s == LIS_OK) s = lis_pipe_save(p, rel, LIS_DTYPE_I64, 1, su, uarr);
    snprintf(rel, sizeof rel, "%s/w.npy", d);
    if (s == LIS_OK) s = lis_pipe_save(p, rel, LIS_DTYPE_F32, 4, sw, W);
    snprintf(rel, sizeof rel, "%s/change.npy", d);
    if (s == LIS_OK) s = lis_pipe_save(p, rel, LIS_DTYPE_F32, 2, sc, change);
    snprintf(rel, sizeof rel, "%s/logits.npy", d);
    if (s == LIS_OK && LG) s = lis_pipe_save(p, rel, LIS_DTYPE_F32, 4, sl, LG);
    snprintf(rel, sizeof rel, "%s/done", d);
    if (s == LIS_OK) s = lis_pipe_write_text(p, rel, "ok\n", 3);
    free(rp); free(W); free(LG); free(change); free(u8); free(strip); free(uarr);
    return s;
}

static int chunk_done(const lis_pipe *p, int j) {
    char rel[96];
    snprintf(rel, sizeof rel, "tune/chunks/chunk_%05d/done", j);
    char *path = lis_pipe_path(p, rel);
    int d = path && lis_file_exists(path);
    free(path);
    return d;
}

/* Reads every chunk back and writes tune/units.csv. */
static lis_status summarise(lis_pipe *p, const ref_set *rs, int nchunks) {
    lis_pipe_cfg *c = &p->c;
    int S = rs->S, K = rs->K, T = c->n_steps;
    lis_sbuf csv = {0};
    lis_sbuf_printf(&csv, "unit,min,max,mean_pixel_change,max_pixel_change%s\n",
                    c->tune_classify ? ",class_flip_frac,mean_own_logit_change" : "");
    lis_status s = LIS_OK;
    for (int j = 0; j < nchunks && s == LIS_OK; j++) {
        char rel[128];
        lis_tensor tu = {0}, tc = {0}, tl = {0};
        snprintf(rel, sizeof rel, "tune/chunks/chunk_%05d/units.npy", j);
        s = lis_pipe_load(p, rel, &tu);
        snprintf(rel, sizeof rel, "tune/chunks/chunk_%05d/change.npy", j);
        if (s == LIS_OK) s = lis_pipe_load(p, rel, &tc);
        snprintf(rel, sizeof rel, "tune/chunks/chunk_%05d/logits.npy", j);
        if (s == LIS_OK && c->tune_classify) s = lis_pipe_load(p, rel, &tl);
        if (s == LIS_OK && (tc.ndim != 2 || tc.shape[0] != tu.shape[0] || tc.shape[1] != S))
            s = lis_err_set("%s/tune/chunks/chunk_%05d: arrays do not match the configuration", p->dir, j);
        for (int64_t a = 0; s == LIS_OK && a < tu.shape[0]; a++) {
            int u = (int)((int64_t *)tu.data)[a];
            const float *ch = (const float *)tc.data + a * S;
            double mean = 0, mx = 0;
            for (int k = 0; k < S; k++) { mean += ch[k]; mx = ch[k] > mx ? ch[k] : mx; }
            lis_sbuf_printf(&csv, "%d,%.9g,%.9g,%.4f,%.4f", u, rs->ranges[2 * u], rs->ranges[2 * u + 1], mean / S, mx);
            if (c->tune_classify) {
                double flips = 0, dl = 0;
                for (int k = 0; k < S; k++) {
                    const float *l0 = (const float *)tl.data + (((size_t)a * S + k) * T) * K, *l1 = l0 + (size_t)(T - 1) * K;
                    flips += lis_argmax(l0, K) != lis_argmax(l1, K);
                    int own = rs->cls[k] < K ? (int)rs->cls[k] : 0;
                    dl += l1[own] - l0[own];
                }
                lis_sbuf_printf(&csv, ",%.4f,%.4f", flips / S, dl / S);
            }
            lis_sbuf_printf(&csv, "\n");
        }
        lis_tensor_free(&tu); lis_tensor_free(&tc); lis_tensor_free(&tl);
    }
    if (s == LIS_OK) s = csv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "tune/units.csv", csv.s, csv.len);
    lis_sbuf_free(&csv);
    return s;
}

lis_status lis_stage_tune(lis_pipe *p) {
    lis_pipe_cfg *c = &p->c;
    LIS_TRY(lis_pipe_models(p));
    LIS_TRY(lis_pipe_mkdir(p, "tune/chunks"));
    ref_set rs = {0};
    lis_link L = {0};
    lis_status s = reference(p, &rs);
    char *lp = lis_pipe_path(p, "link/link.safetensors");
    if (s == LIS_OK) s = lp ? lis_link_load(&L, lp) : LIS_ERR;
    free(lp);
    if (s == LIS_OK && (L.n_in != rs.F || L.n_out != rs.wd))
        s = lis_err_set("link/link.safetensors maps %d -> %d but the models need %d -> %d", L.n_in, L.n_out, rs.F, rs.wd);
    int nchunks = (int)((c->n_units + (size_t)c->chunk - 1) / (size_t)c->chunk), mine = 0, todo = 0;
    for (int j = 0; j < nchunks; j++)
        if (j % p->shard_n == p->shard_k) { mine++; todo += !chunk_done(p, j); }
    if (s == LIS_OK)
        lis_pipe_log(p, "tune: %zu units x %d reference samples x %d steps; %d chunks of %d units, %d for this shard (%d/%d), %d to do",
                     c->n_units, rs.S, c->n_steps, nchunks, c->chunk, mine, p->shard_k, p->shard_n, todo);
    lis_progress pr;
    lis_progress_init(&pr, "tune", "chunks", todo);
    int done_now = 0;
    for (int j = 0; j < nchunks && s == LIS_OK; j++) {
        if (j % p->shard_n != p->shard_k || chunk_done(p, j)) continue;
        size_t u0 = (size_t)j * (size_t)c->chunk, nu = c->n_units - u0 < (size_t)c->chunk ? c->n_units - u0 : (size_t)c->chunk;
        s = run_chunk(p, &rs, &L, j, c->units + u0, (int)nu);
        lis_progress_update(&pr, ++done_now);
    }
    lis_progress_done(&pr, done_now);
    int present = 0;
    for (int j = 0; j < nchunks; j++) present += chunk_done(p, j);
    p->tune_incomplete = present < nchunks;
    if (s == LIS_OK && p->tune_incomplete)
        lis_pipe_log(p, "tune: %d of %d chunks present; the other shards' chunks are missing (run them, then `lis-run merge %s`)",
                     present, nchunks, p->dir);
    else if (s == LIS_OK) s = summarise(p, &rs, nchunks);
    lis_link_free(&L);
    ref_free(&rs);
    return s;
}
