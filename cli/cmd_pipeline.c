/* cmd_pipeline.c — `lis-run CONFIG.cfg` and `lis-run merge`: runs the pipeline stages in
 * order, skipping finished ones (see cli/pipeline.h for resuming and sharding). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/pipeline.h"
#include "runtime/fileio.h"
#include "runtime/npy.h"
#include "runtime/threads.h"

static void help(void) {
    printf("usage: lis-run CONFIG.cfg [--out DIR] [--shard K/N] [--set SECTION.KEY=VALUE ...]\n"
           "       lis-run merge CONFIG.cfg --out DIR [SHARD_DIR ...]\n\n"
           "Runs the Linking-in-Style pipeline described by CONFIG.cfg: sample -> pairs -> link -> tune -> report.\n"
           "Every artifact is written atomically and every finished stage (and tuning chunk) is recorded, so a\n"
           "rerun, even after kill -9, resumes where the run stopped. README.md lists every configuration key.\n\n"
           "options:\n"
           "  --out DIR          run directory (overrides [run] out; default runs/<config name>)\n"
           "  --shard K/N        tuning chunks with index %% N == K only (0 <= K < N); earlier stages run as usual\n"
           "  --set S.K=V        override a configuration key (repeatable), e.g. --set tune.units=0-15\n\n"
           "merge: copies the tuning chunks that DIR lacks from the SHARD_DIRs (shards that used their own --out),\n"
           "then summarises the tuning and writes the report. Shards that shared DIR need no SHARD_DIR.\n");
}

static lis_status parse_shard(const char *s, int *k, int *n) {
    if (!s) { *k = 0; *n = 1; return LIS_OK; }
    char *end;
    long a = strtol(s, &end, 10);
    if (*end != '/') return lis_err_usage("--shard %s: expected K/N", s);
    long b = strtol(end + 1, &end, 10);
    if (*end || b < 1 || a < 0 || a >= b || b > 100000) return lis_err_usage("--shard %s: expected K/N with 0 <= K < N", s);
    *k = (int)a;
    *n = (int)b;
    return LIS_OK;
}

static lis_status run(const char *cfg_path, const char *out, int shard_k, int shard_n, const char **sets, int nsets,
                      int merge_only) {
    lis_pipe p;
    memset(&p, 0, sizeof p);
    p.cfg_path = cfg_path;
    p.shard_k = shard_k;
    p.shard_n = shard_n;
    lis_status s = lis_cfg_load(&p.cfg, cfg_path);
    for (int i = 0; i < nsets && s == LIS_OK; i++) s = lis_cfg_set_override(p.cfg, sets[i]);
    if (s == LIS_OK) s = lis_pipe_read_config(&p, out);
    if (s == LIS_OK) {
        p.dir = strdup(p.c.out);
        s = p.dir ? lis_mkdirs(p.dir) : lis_err_set("out of memory");
    }
    if (s == LIS_OK) s = lis_pipe_mkdir(&p, "stages");
    if (s == LIS_OK) {
        char *lp = lis_pipe_path(&p, "run.log");
        p.log = lp ? fopen(lp, "a") : NULL;
        free(lp);
        char *cp = lis_pipe_path(&p, "config.cfg");
        s = cp ? lis_cfg_save(p.cfg, cp) : LIS_ERR;
        free(cp);
    }
    if (s == LIS_OK)
        lis_pipe_log(&p, "run %s -> %s%s", cfg_path, p.dir, shard_n > 1 ? " (sharded)" : "");
    for (int st = 0; st < ST_COUNT && s == LIS_OK; st++) {
        const lis_pipe_stage *sd = &lis_pipe_stages[st];
        if (!p.stage_on[st] || (merge_only && st < ST_TUNE)) continue;
        lis_status e;
        if (lis_pipe_stage_done(&p, st, &e)) { lis_pipe_log(&p, "%s: done earlier, skipped", sd->name); continue; }
        if ((s = e)) break;
        if (st > ST_TUNE && p.tune_incomplete) { lis_pipe_log(&p, "%s: waits for the missing tuning chunks", sd->name); break; }
        double t0 = lis_now();
        if ((s = sd->run(&p))) { lis_err_prefix("stage %s", sd->name); break; }
        if (st == ST_TUNE && p.tune_incomplete) continue;
        s = lis_pipe_mark_done(&p, st);
        lis_pipe_log(&p, "%s: finished in %.1f s", sd->name, lis_now() - t0);
    }
    if (s != LIS_OK && p.log) fprintf(p.log, "error: %s\n", lis_err_msg());
    lis_pipe_free(&p);
    return s;
}

int lis_cmd_pipeline(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { help(); return 0; }
    const char *sets[64];
    int nsets = lis_args_multi(&a, "--set", sets, 64);
    const char *out = lis_args_str(&a, "--out", NULL), *shard = lis_args_str(&a, "--shard", NULL);
    lis_status s = lis_args_done(&a);
    int k = 0, n = 1;
    if (s == LIS_OK) s = parse_shard(shard, &k, &n);
    /* `lis-run CONFIG.cfg` passes the config as argv[0]; `lis-run pipeline CONFIG.cfg` as a positional */
    const char *cfg = a.npos ? a.pos[0] : argv[0];
    if (s == LIS_OK && (a.npos > 1 || !cfg || !strstr(cfg, ".cfg")))
        s = lis_err_usage("expected one CONFIG.cfg (see --help)");
    if (s == LIS_OK && out && !*out) s = lis_err_usage("--out needs a directory");
    if (s == LIS_OK) s = run(cfg, out, k, n, sets, nsets, 0);
    return lis_cli_fail("pipeline", s);
}

/* copies src/rel to dst/rel (files only, one level) */
static lis_status copy_dir(const char *src, const char *dst) {
    LIS_TRY(lis_mkdirs(dst));
    DIR *d = opendir(src);
    if (!d) return lis_err_set("%s: cannot open directory", src);
    lis_status s = LIS_OK;
    struct dirent *e;
    while (s == LIS_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *a = lis_path_join(src, e->d_name), *b = lis_path_join(dst, e->d_name), *buf = NULL;
        size_t len;
        struct stat st;
        if (a && b && stat(a, &st) == 0 && S_ISREG(st.st_mode) && !lis_file_exists(b) &&
            (s = lis_read_file(a, &buf, &len)) == LIS_OK)
            s = lis_write_file_atomic(b, buf, len);
        free(buf); free(a); free(b);
    }
    closedir(d);
    return s;
}

static lis_status merge_from(const char *dir, const char *shard_dir) {
    char *src = lis_path_join(shard_dir, "tune/chunks");
    DIR *d = src ? opendir(src) : NULL;
    if (!d) { free(src); return lis_err_set("%s: no tune/chunks directory (not a shard's run directory?)", shard_dir); }
    lis_status s = LIS_OK;
    struct dirent *e;
    int copied = 0;
    while (s == LIS_OK && (e = readdir(d))) {
        if (strncmp(e->d_name, "chunk_", 6) != 0) continue;
        char rel[300], *from, *done;
        snprintf(rel, sizeof rel, "tune/chunks/%s/done", e->d_name);
        from = lis_path_join(shard_dir, rel);
        done = lis_path_join(dir, rel);
        int want = from && done && lis_file_exists(from) && !lis_file_exists(done);
        free(from); free(done);
        if (!want) continue;
        /* strips first, then the chunk arrays, the done marker last */
        lis_tensor tu = {0};
        snprintf(rel, sizeof rel, "%s/tune/chunks/%s/units.npy", shard_dir, e->d_name);
        if ((s = lis_npy_read(rel, &tu))) break;
        for (int64_t i = 0; i < lis_tensor_numel(&tu) && s == LIS_OK; i++) {
            char a[300], b[300];
            snprintf(a, sizeof a, "%s/tune/strips/unit_%05lld", shard_dir, (long long)((int64_t *)tu.data)[i]);
            snprintf(b, sizeof b, "%s/tune/strips/unit_%05lld", dir, (long long)((int64_t *)tu.data)[i]);
            s = copy_dir(a, b);
        }
        lis_tensor_free(&tu);
        char a[300], b[300];
        snprintf(a, sizeof a, "%s/tune/chunks/%s", shard_dir, e->d_name);
        snprintf(b, sizeof b, "%s/tune/chunks/%s", dir, e->d_name);
        if (s == LIS_OK) s = copy_dir(a, b);
        copied++;
    }
    closedir(d);
    free(src);
    if (s == LIS_OK) fprintf(stderr, "lis-run merge: %d chunks from %s\n", copied, shard_dir);
    return s;
}

int lis_cmd_merge(int argc, char **argv) {
    lis_args a;
    lis_args_init(&a, argc, argv);
    if (lis_args_help(&a)) { help(); return 0; }
    const char *sets[64];
    int nsets = lis_args_multi(&a, "--set", sets, 64);
    const char *out = lis_args_str(&a, "--out", NULL);
    lis_status s = lis_args_done(&a);
    if (s == LIS_OK && (a.npos < 1 || !strstr(a.pos[0], ".cfg"))) s = lis_err_usage("expected CONFIG.cfg --out DIR [SHARD_DIR ...]");
    if (s == LIS_OK && (!out || !*out)) s = lis_err_usage("merge needs --out DIR (the run directory to complete)");
    for (int i = 1; i < a.npos && s == LIS_OK; i++) s = merge_from(out, a.pos[i]);
    if (s == LIS_OK) s = run(a.pos[0], out, 0, 1, sets, nsets, 1);
    return lis_cli_fail("merge", s);
}
