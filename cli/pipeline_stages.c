/* pipeline_stages.c — the stage table of `lis-run pipeline.cfg`, in run order. Optional
 * stages are declared weak: a stage whose file is not part of the build is listed with no
 * run function and cannot be selected. */
#include "cli/pipeline.h"

#define WEAK __attribute__((weak))
#define OPTIONAL_STAGE(name)                                                             \
    WEAK lis_status lis_##name##_config(lis_pipe *p, int *enabled);                      \
    WEAK lis_status lis_stage_##name(lis_pipe *p);                                       \
    WEAK lis_status lis_##name##_report(lis_pipe *p, lis_sbuf *html);                    \
    WEAK void lis_##name##_free(void *data);

OPTIONAL_STAGE(feasibility)
OPTIONAL_STAGE(segment)
OPTIONAL_STAGE(quantify)
OPTIONAL_STAGE(match)
OPTIONAL_STAGE(counterfactual)

#define ROW(name) {#name, lis_##name##_config, lis_stage_##name, lis_##name##_report, lis_##name##_free}

const lis_pipe_stage lis_pipe_stages[ST_COUNT] = {
    [ST_SAMPLE] = {"sample", NULL, lis_stage_sample, NULL, NULL},
    [ST_PAIRS] = {"pairs", NULL, lis_stage_pairs, NULL, NULL},
    [ST_LINK] = {"link", NULL, lis_stage_link, NULL, NULL},
    [ST_FEASIBILITY] = ROW(feasibility),
    [ST_TUNE] = {"tune", NULL, lis_stage_tune, NULL, NULL},
    [ST_SEGMENT] = ROW(segment),
    [ST_QUANTIFY] = ROW(quantify),
    [ST_MATCH] = ROW(match),
    [ST_COUNTERFACTUAL] = ROW(counterfactual),
    [ST_REPORT] = {"report", NULL, lis_stage_report, NULL, NULL},
};
