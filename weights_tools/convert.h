/* convert.h — `lis-run convert`: read a checkpoint of any supported kind, settle the
 * network's configuration, and write a lis weight file (safetensors with
 * __metadata__ {"config": <canonical JSON>, "origin": ..., "converter": ...}).
 *
 * Readers are one table in convert.c: each has a detector (file name and first bytes)
 * and a reader filling a lis_statedict. The architecture is then recognised from the
 * tensor names (or told by the reader), and the configuration normalised:
 *   stylegan_xl — weights_tools/sgxl_config.c (from --config, or carried by the source);
 *   resnet      — inferred by nets/resnet from names and shapes; the source's extra keys
 *                 (class_names, preprocessing) are kept;
 *   others      — {"arch": ...} plus whatever the source carried.
 */
#ifndef LIS_CONVERT_H
#define LIS_CONVERT_H

#include <stdio.h>

#include "weights_tools/statedict.h"

typedef struct {
    const char *config_path;  /* --config JSON (generator configuration) */
    const char *shipped_path; /* --shipped safetensors for a manifest's `shipped` tensors */
    const char *key;          /* --key: which network of a multi-network pickle (default G_ema) */
    int keep_dtype;           /* keep F16/BF16/F64 tensors instead of converting to F32 */
} lis_convert_opts;

typedef struct {
    const char *name;
    const char *describe;
    /* head: the first bytes of the file (n <= 64) */
    int (*detect)(const char *path, const unsigned char *head, size_t n);
    lis_status (*read)(const char *path, const lis_convert_opts *o, lis_statedict *sd);
} lis_convert_reader;

/* Detects the kind and reads. *kind gets the reader's name. */
lis_status lis_convert_read(const char *path, const lis_convert_opts *o, lis_statedict *sd, const char **kind);
/* Determines the architecture and writes the canonical configuration (malloc'ed). */
lis_status lis_convert_config(lis_statedict *sd, const lis_convert_opts *o, char **config);
/* Writes the weight file atomically. */
lis_status lis_convert_write(const lis_statedict *sd, const char *config, const char *out_path);
/* Prints tensors, shapes, dtypes and the configuration. */
void lis_convert_list(const lis_statedict *sd, const char *config, FILE *f);
/* read + config + write in one call (what `lis-run convert IN -o OUT` does). */
lis_status lis_convert_file(const char *in, const lis_convert_opts *o, const char *out_path);
/* The reader table (for --help). */
const lis_convert_reader *lis_convert_readers(size_t *n);

#endif
