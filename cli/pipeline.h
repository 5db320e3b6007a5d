/* pipeline.h — `lis-run pipeline.cfg`: sample -> pairs -> link -> tune -> report.
 *
 * Every stage writes its artifacts under the run directory atomically and then a marker
 * `stages/<stage>.done` holding a digest of the configuration keys the stage depends
 * on. A rerun skips finished stages (and finished tuning chunks), so a run killed at any
 * moment resumes and ends with the same files as an uninterrupted one; a marker whose
 * digest no longer matches the configuration is an error (use a new --out). Tuning work
 * is split into chunks of units; `--shard K/N` runs only the chunks with index % N == K,
 * so several processes (a Slurm array) can share one run directory, and `lis-run merge`
 * (or the report stage) assembles the chunks.
 */
#ifndef LIS_PIPELINE_H
#define LIS_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "nets/link.h"
#include "nets/render.h"
#include "runtime/cfg.h"

/* Stages in run order. A stage's configuration also feeds the digests of every later
 * stage, so changing it invalidates what was computed after it. */
enum {
    ST_SAMPLE, ST_PAIRS, ST_LINK, ST_FEASIBILITY, ST_TUNE, ST_SEGMENT, ST_QUANTIFY, ST_MATCH,
    ST_COUNTERFACTUAL, ST_REPORT, ST_COUNT
};

struct lis_pipe;
struct lis_sbuf;

/* One row of the stage table (cli/pipeline_stages.c). Stages other than the core ones live
 * in their own cli/pipeline_<name>.c and keep their options in p->stage_data[id]. */
typedef struct {
    const char *name;
    /* reads the stage's section(s), notes digests (lis_pipe_note), may set *enabled = 0
     * when the stage has nothing to do (optional) */
    lis_status (*read_config)(struct lis_pipe *p, int *enabled);
    lis_status (*run)(struct lis_pipe *p);
    /* appends the stage's section of report/index.html (optional) */
    lis_status (*report)(struct lis_pipe *p, lis_sbuf *html);
    void (*free_data)(void *data); /* frees p->stage_data[id] (optional) */
} lis_pipe_stage;

extern const lis_pipe_stage lis_pipe_stages[ST_COUNT];

typedef struct {
    /* [run] */
    const char *out;
    int batch, threads;
    const char *device, *precision; /* [run] device (cpu, cuda, cuda:N, auto), precision */
    /* [models] */
    char *generator, *classifier;   /* resolved against the config's directory */
    /* [sample] */
    long *classes;
    int n_classes;
    int samples_per_class;
    long seed;
    double psi;
    /* [pairs] */
    int keep_all, faithful;
    long max_draws;
    /* [link] */
    lis_link_params link;
    double holdout;
    int cycle_samples;
    /* [tune] */
    const long *units;
    size_t n_units;
    int tune_spc, n_steps, tune_classify, chunk;
    long tune_seed;
    double tune_psi;
    /* [report] */
    int report_units;
} lis_pipe_cfg;

typedef struct lis_pipe {
    lis_pipe_cfg c;
    lis_cfg *cfg;
    const char *cfg_path;
    char *dir;                      /* run directory */
    FILE *log;
    int shard_k, shard_n;
    lis_sgxl g;
    lis_resnet cls;
    int g_loaded, cls_loaded;
    lis_render render;
    int render_ready;
    uint64_t digest[ST_COUNT];      /* configuration digest per stage */
    int tune_incomplete;            /* tune: chunks of other shards still missing */
    int stage_on[ST_COUNT];         /* [run] stages and each stage's own switch */
    void *stage_data[ST_COUNT];     /* per-stage options and state, owned by the stage */
} lis_pipe;

/* Reads every key (unknown keys are errors naming FILE:LINE). */
lis_status lis_pipe_read_config(lis_pipe *p, const char *out_override);
/* Loads the generator and classifier (once) and prepares rendering. */
lis_status lis_pipe_models(lis_pipe *p);

/* Adds a configuration value to the digest of `stage` and of every later stage. */
void lis_pipe_note(lis_pipe *p, int stage, const char *key, const char *fmt, ...) LIS_PRINTF(4, 5);

/* Run directory helpers */
char *lis_pipe_path(const lis_pipe *p, const char *rel);       /* malloc'ed dir/rel */
char *lis_pipe_resolve(const lis_pipe *p, const char *rel);    /* a config path: malloc'ed; NULL if "" */
lis_status lis_pipe_mkdir(const lis_pipe *p, const char *rel);
int lis_pipe_stage_done(lis_pipe *p, int stage, lis_status *err); /* 1 done, 0 not; *err on mismatch */
lis_status lis_pipe_mark_done(lis_pipe *p, int stage);
void lis_pipe_log(lis_pipe *p, const char *fmt, ...) LIS_PRINTF(2, 3);
/* Writes an .npy under the run directory. */
lis_status lis_pipe_save(lis_pipe *p, const char *rel, lis_dtype dt, int ndim, const int64_t *shape, const void *data);
lis_status lis_pipe_load(lis_pipe *p, const char *rel, lis_tensor *t);
/* Writes a text file atomically under the run directory. */
lis_status lis_pipe_write_text(lis_pipe *p, const char *rel, const char *text, size_t len);

/* Core stages */
lis_status lis_stage_sample(lis_pipe *p);
lis_status lis_stage_pairs(lis_pipe *p);
lis_status lis_stage_link(lis_pipe *p);
lis_status lis_stage_tune(lis_pipe *p);
lis_status lis_stage_report(lis_pipe *p);

void lis_pipe_free(lis_pipe *p);


#endif
