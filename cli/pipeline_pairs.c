/* pipeline_pairs.c — stages `sample` and `pairs` (spec/pipeline.md 1.2 and 2).
 *
 * sample: for every class c, the first samples_per_class latents of
 *   numpy RandomState(seed).randn(n, z_dim) (the same stream for every class, as the
 *   original's get_w_from_seed(G, n, psi, c, seed) does), mapped with class c and
 *   truncated toward w_avg[c] -> sample/w.npy [n_classes * n, w_dim] (row 0 of the ws;
 *   all rows are equal), sample/classes.npy, sample/z.npy.
 * pairs: render and classify; keep = all keeps the sample's latents; keep = correct keeps
 *   the correctly classified ones:
 *   - intended (faithful = false): continue the same RNG stream past row n until n
 *     distinct correct latents are found (at most max_draws_per_class rows);
 *   - faithful = true: the original's loop, which re-draws the first n - len(kept) rows of
 *     the SAME stream each iteration and appends their correct ones again (duplicates);
 *     only the first n rows are ever classified, so it needs no extra rendering.
 *   Per class: pairs/class_<c>/{w,r,logits,draw}.npy and a done marker (a killed run
 *   resumes at the first unfinished class); then pairs/{w,r,logits,classes,draw}.npy
 *   (draw = row of the RNG stream) and pairs/acceptance.csv.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/pipeline.h"
#include "runtime/fileio.h"
#include "runtime/np_random.h"
#include "runtime/progress.h"

/* w [n, w_dim] for stream rows [row0, row0 + n) of one class (rng advanced by the caller). */
static lis_status map_rows(lis_pipe *p, lis_np_rng *rng, int64_t cls, int n, double psi, float *w, float *z_out) {
    lis_sgxl *g = &p->g;
    size_t wsz = (size_t)g->num_ws * g->w_dim;
    float *ws = lis_malloc(sizeof(float) * wsz, "ws"), *z = lis_malloc(sizeof(float) * (size_t)g->z_dim, "z");
    if (!ws || !z) { free(ws); free(z); return LIS_ERR; }
    lis_status s = LIS_OK;
    for (int i = 0; i < n && s == LIS_OK; i++) {
        for (int d = 0; d < g->z_dim; d++) z[d] = (float)lis_np_randn(rng);
        if (z_out) memcpy(z_out + (size_t)i * g->z_dim, z, sizeof(float) * (size_t)g->z_dim);
        s = lis_sgxl_mapping(g, z, &cls, 1, 1.0f, 0, ws, NULL);
        if (s == LIS_OK) {
            lis_sgxl_truncate(g, &cls, 1, (float)psi, ws);
            memcpy(w + (size_t)i * g->w_dim, ws, sizeof(float) * (size_t)g->w_dim);
        }
    }
    free(ws);
    free(z);
    return s;
}

lis_status lis_stage_sample(lis_pipe *p) {
    lis_pipe_cfg *c = &p->c;
    LIS_TRY(lis_pipe_models(p));
    int n = c->samples_per_class, nc = c->n_classes, wd = p->g.w_dim, zd = p->g.z_dim;
    float *w = lis_malloc(sizeof(float) * (size_t)nc * n * wd, "w"), *z = lis_malloc(sizeof(float) * (size_t)nc * n * zd, "z");
    int64_t *cl = lis_malloc(sizeof(int64_t) * (size_t)nc * n, "classes");
    lis_status s = w && z && cl ? LIS_OK : LIS_ERR;
    for (int k = 0; k < nc && s == LIS_OK; k++) {
        lis_np_rng rng;
        lis_np_seed(&rng, (uint32_t)c->seed);
        s = map_rows(p, &rng, c->classes[k], n, c->psi, w + (size_t)k * n * wd, z + (size_t)k * n * zd);
        for (int i = 0; i < n; i++) cl[(size_t)k * n + i] = c->classes[k];
    }
    int64_t sw[2] = {(int64_t)nc * n, wd}, sz[2] = {(int64_t)nc * n, zd}, sc[1] = {(int64_t)nc * n};
    if (s == LIS_OK) s = lis_pipe_mkdir(p, "sample");
    if (s == LIS_OK) s = lis_pipe_save(p, "sample/w.npy", LIS_DTYPE_F32, 2, sw, w);
    if (s == LIS_OK) s = lis_pipe_save(p, "sample/z.npy", LIS_DTYPE_F32, 2, sz, z);
    if (s == LIS_OK) s = lis_pipe_save(p, "sample/classes.npy", LIS_DTYPE_I64, 1, sc, cl);
    if (s == LIS_OK) lis_pipe_log(p, "sample: %d classes x %d latents (seed %ld, psi %g)", nc, n, c->seed, c->psi);
    free(w); free(z); free(cl);
    return s;
}

/* Results of one class. */
typedef struct {
    int n, cap;
    float *w, *r, *logits;
    int64_t *draw;
    int64_t drawn, correct;
} class_pairs;

static lis_status push(class_pairs *cp, const lis_pipe *p, const float *w, const float *r, const float *lg, int64_t draw) {
    int wd = p->g.w_dim, F = p->cls.feat_dim, K = p->cls.num_classes;
    if (cp->n == cp->cap) return lis_err_set("internal: pairs buffer full");
    memcpy(cp->w + (size_t)cp->n * wd, w, sizeof(float) * (size_t)wd);
    memcpy(cp->r + (size_t)cp->n * F, r, sizeof(float) * (size_t)F);
    memcpy(cp->logits + (size_t)cp->n * K, lg, sizeof(float) * (size_t)K);
    cp->draw[cp->n++] = draw;
    return LIS_OK;
}

static lis_status class_run(lis_pipe *p, int k, class_pairs *cp) {
    lis_pipe_cfg *c = &p->c;
    int n = c->samples_per_class, wd = p->g.w_dim, F = p->cls.feat_dim, K = p->cls.num_classes;
    int64_t cls = c->classes[k];
    int chunk = c->batch * 4 > 64 ? c->batch * 4 : 64;
    if (chunk > n && (c->keep_all || c->faithful)) chunk = n;
    float *w = lis_malloc(sizeof(float) * (size_t)chunk * wd, "w"), *r = lis_malloc(sizeof(float) * (size_t)chunk * F, "r");
    float *lg = lis_malloc(sizeof(float) * (size_t)chunk * K, "logits");
    int *ok_first = c->faithful ? lis_calloc((size_t)n, sizeof(int), "faithful") : NULL;
    float *fw = NULL, *fr = NULL, *fl = NULL;
    lis_status s = w && r && lg && (!c->faithful || ok_first) ? LIS_OK : LIS_ERR;
    if (s == LIS_OK && c->faithful) { /* keep the first n rows' results */
        fw = lis_malloc(sizeof(float) * (size_t)n * wd, "w");
        fr = lis_malloc(sizeof(float) * (size_t)n * F, "r");
        fl = lis_malloc(sizeof(float) * (size_t)n * K, "logits");
        if (!fw || !fr || !fl) s = LIS_ERR;
    }
    char label[64];
    snprintf(label, sizeof label, "pairs class %lld", (long long)cls);
    lis_progress pr;
    lis_progress_init(&pr, label, "kept", n);
    lis_np_rng rng;
    lis_np_seed(&rng, (uint32_t)c->seed);
    int64_t limit = c->keep_all || c->faithful ? n : c->max_draws;
    while (s == LIS_OK && cp->n < n && cp->drawn < limit) {
        int m = limit - cp->drawn < chunk ? (int)(limit - cp->drawn) : chunk;
        if ((s = map_rows(p, &rng, cls, m, c->psi, w, NULL))) break;
        if ((s = lis_render_w(&p->render, m, w, NULL, NULL, r, lg))) break;
        for (int i = 0; i < m && s == LIS_OK; i++) {
            int64_t row = cp->drawn + i;
            int correct = lis_argmax(lg + (size_t)i * K, K) == cls;
            cp->correct += correct;
            if (c->faithful) {
                ok_first[row] = correct;
                memcpy(fw + (size_t)row * wd, w + (size_t)i * wd, sizeof(float) * (size_t)wd);
                memcpy(fr + (size_t)row * F, r + (size_t)i * F, sizeof(float) * (size_t)F);
                memcpy(fl + (size_t)row * K, lg + (size_t)i * K, sizeof(float) * (size_t)K);
            } else if ((c->keep_all || correct) && cp->n < n)
                s = push(cp, p, w + (size_t)i * wd, r + (size_t)i * F, lg + (size_t)i * K, row);
        }
        cp->drawn += m;
        lis_progress_update(&pr, c->faithful ? cp->correct : cp->n);
    }
    if (s == LIS_OK && c->faithful) {
        /* the original's loop: each pass re-draws rows 0 .. n - len(kept) - 1 */
        while (cp->n < n) {
            int want = n - cp->n, added = 0;
            for (int row = 0; row < want && cp->n < n; row++)
                if (ok_first[row]) { s = push(cp, p, fw + (size_t)row * wd, fr + (size_t)row * F, fl + (size_t)row * K, row); added++; }
            if (s || !added) break; /* no correct row among the first `want`: the original would loop forever */
        }
    }
    lis_progress_done(&pr, cp->n);
    if (s == LIS_OK && cp->n < n)
        lis_pipe_log(p, "pairs: WARNING class %lld: only %d of %d samples kept after %lld draws (%s); the class continues with %d",
                     (long long)cls, cp->n, n, (long long)cp->drawn,
                     c->faithful ? "faithful mode stops when no early row is correct" : "raise [pairs] max_draws_per_class",
                     cp->n);
    free(w); free(r); free(lg); free(ok_first); free(fw); free(fr); free(fl);
    return s;
}

static lis_status class_save(lis_pipe *p, int64_t cls, const class_pairs *cp) {
    char rel[128];
    int wd = p->g.w_dim, F = p->cls.feat_dim, K = p->cls.num_classes;
    snprintf(rel, sizeof rel, "pairs/class_%lld", (long long)cls);
    LIS_TRY(lis_pipe_mkdir(p, rel));
    struct { const char *name; lis_dtype dt; int ndim; int64_t d1; const void *data; } f[] = {
        {"w", LIS_DTYPE_F32, 2, wd, cp->w}, {"r", LIS_DTYPE_F32, 2, F, cp->r},
        {"logits", LIS_DTYPE_F32, 2, K, cp->logits}, {"draw", LIS_DTYPE_I64, 1, 0, cp->draw}};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        snprintf(rel, sizeof rel, "pairs/class_%lld/%s.npy", (long long)cls, f[i].name);
        int64_t sh[2] = {cp->n, f[i].d1};
        LIS_TRY(lis_pipe_save(p, rel, f[i].dt, f[i].ndim, sh, f[i].data));
    }
    char text[128];
    int n = snprintf(text, sizeof text, "%lld %lld %d\n", (long long)cp->drawn, (long long)cp->correct, cp->n);
    snprintf(rel, sizeof rel, "pairs/class_%lld/done", (long long)cls);
    return lis_pipe_write_text(p, rel, text, (size_t)n);
}

lis_status lis_stage_pairs(lis_pipe *p) {
    lis_pipe_cfg *c = &p->c;
    LIS_TRY(lis_pipe_models(p));
    int n = c->samples_per_class, nc = c->n_classes, wd = p->g.w_dim, F = p->cls.feat_dim, K = p->cls.num_classes;
    if (K != p->g.c_dim && !c->keep_all)
        lis_pipe_log(p, "pairs: note: the classifier has %d classes and the generator %d; a sample is 'correct' when "
                     "the classifier's argmax equals the generator class index", K, p->g.c_dim);
    LIS_TRY(lis_pipe_mkdir(p, "pairs"));
    size_t cap = (size_t)nc * n;
    float *W = lis_malloc(sizeof(float) * cap * wd, "w"), *R = lis_malloc(sizeof(float) * cap * F, "r");
    float *L = lis_malloc(sizeof(float) * cap * K, "logits");
    int64_t *C = lis_malloc(sizeof(int64_t) * cap, "classes"), *D = lis_malloc(sizeof(int64_t) * cap, "draws");
    lis_sbuf csv = {0};
    lis_sbuf_printf(&csv, "class,drawn,correct,kept,acceptance\n");
    lis_status s = W && R && L && C && D ? LIS_OK : LIS_ERR;
    int64_t total = 0;
    for (int k = 0; k < nc && s == LIS_OK; k++) {
        int64_t cls = c->classes[k];
        class_pairs cp = {0, n, NULL, NULL, NULL, NULL, 0, 0};
        char rel[128];
        snprintf(rel, sizeof rel, "pairs/class_%lld/done", (long long)cls);
        char *done = lis_pipe_path(p, rel);
        lis_tensor tw = {0}, tr = {0}, tl = {0}, td = {0};
        if (done && lis_file_exists(done)) { /* finished before an interruption */
            char *text = NULL;
            size_t len;
            long long dr = 0, co = 0;
            int kept = 0;
            if ((s = lis_read_file(done, &text, &len)) == LIS_OK && sscanf(text, "%lld %lld %d", &dr, &co, &kept) != 3)
                s = lis_err_set("%s: corrupt marker", done);
            free(text);
            char nm[128];
            snprintf(nm, sizeof nm, "pairs/class_%lld/w.npy", (long long)cls);
            if (s == LIS_OK) s = lis_pipe_load(p, nm, &tw);
            snprintf(nm, sizeof nm, "pairs/class_%lld/r.npy", (long long)cls);
            if (s == LIS_OK) s = lis_pipe_load(p, nm, &tr);
            snprintf(nm, sizeof nm, "pairs/class_%lld/logits.npy", (long long)cls);
            if (s == LIS_OK) s = lis_pipe_load(p, nm, &tl);
            snprintf(nm, sizeof nm, "pairs/class_%lld/draw.npy", (long long)cls);
            if (s == LIS_OK) s = lis_pipe_load(p, nm, &td);
            if (s == LIS_OK && (tw.ndim != 2 || tw.shape[0] != kept || tw.shape[1] != wd || tr.shape[1] != F || tl.shape[1] != K))
                s = lis_err_set("%s: per-class files do not match the marker; delete the directory to redo the class", done);
            cp.n = kept; cp.drawn = dr; cp.correct = co;
            cp.w = tw.data; cp.r = tr.data; cp.logits = tl.data; cp.draw = td.data;
        } else {
            cp.w = lis_malloc(sizeof(float) * (size_t)n * wd, "w");
            cp.r = lis_malloc(sizeof(float) * (size_t)n * F, "r");
            cp.logits = lis_malloc(sizeof(float) * (size_t)n * K, "logits");
            cp.draw = lis_malloc(sizeof(int64_t) * (size_t)n, "draw");
            s = cp.w && cp.r && cp.logits && cp.draw ? class_run(p, k, &cp) : LIS_ERR;
            if (s == LIS_OK) s = class_save(p, cls, &cp);
        }
        free(done);
        if (s == LIS_OK) {
            memcpy(W + (size_t)total * wd, cp.w, sizeof(float) * (size_t)cp.n * wd);
            memcpy(R + (size_t)total * F, cp.r, sizeof(float) * (size_t)cp.n * F);
            memcpy(L + (size_t)total * K, cp.logits, sizeof(float) * (size_t)cp.n * K);
            memcpy(D + total, cp.draw, sizeof(int64_t) * (size_t)cp.n);
            for (int i = 0; i < cp.n; i++) C[total + i] = cls;
            total += cp.n;
            lis_sbuf_printf(&csv, "%lld,%lld,%lld,%d,%.4f\n", (long long)cls, (long long)cp.drawn, (long long)cp.correct,
                            cp.n, cp.drawn ? (double)cp.correct / (double)cp.drawn : 0.0);
            lis_pipe_log(p, "pairs: class %lld: %d kept, %lld drawn, %lld correct (%.1f%%)", (long long)cls, cp.n,
                         (long long)cp.drawn, (long long)cp.correct, cp.drawn ? 100.0 * (double)cp.correct / (double)cp.drawn : 0.0);
        }
        if (tw.data) { lis_tensor_free(&tw); lis_tensor_free(&tr); lis_tensor_free(&tl); lis_tensor_free(&td); }
        else { free(cp.w); free(cp.r); free(cp.logits); free(cp.draw); }
    }
    int64_t sw[2] = {total, wd}, sr[2] = {total, F}, sl[2] = {total, K}, sc[1] = {total};
    if (s == LIS_OK && total == 0) s = lis_err_set("pairs: no sample was kept for any class");
    if (s == LIS_OK) s = lis_pipe_save(p, "pairs/w.npy", LIS_DTYPE_F32, 2, sw, W);
    if (s == LIS_OK) s = lis_pipe_save(p, "pairs/r.npy", LIS_DTYPE_F32, 2, sr, R);
    if (s == LIS_OK) s = lis_pipe_save(p, "pairs/logits.npy", LIS_DTYPE_F32, 2, sl, L);
    if (s == LIS_OK) s = lis_pipe_save(p, "pairs/classes.npy", LIS_DTYPE_I64, 1, sc, C);
    if (s == LIS_OK) s = lis_pipe_save(p, "pairs/draw.npy", LIS_DTYPE_I64, 1, sc, D);
    if (s == LIS_OK) s = csv.oom ? lis_err_set("out of memory") : lis_pipe_write_text(p, "pairs/acceptance.csv", csv.s, csv.len);
    lis_sbuf_free(&csv);
    free(W); free(R); free(L); free(C); free(D);
    return s;
}
