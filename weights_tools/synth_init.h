/* synth_init.h — framework-independent deterministic weights (spec/synth_init.md).
 *
 * Reference bundles of full-size networks ship no weights: every tensor is filled by a
 * formula that Python and C reproduce bit for bit, keyed by the tensor's state_dict
 * name. A bundle's `weights.manifest` says which kind and exponent each tensor gets:
 *
 *     conv1.weight uniform 4 64x3x7x7
 *     bn1.weight positive - 64
 *     layer1.0.bn1.num_batches_tracked zero - scalar
 *     synthesis.L0.filter shipped - 12          (stored in the bundle's weights.safetensors)
 *
 * One line per tensor: `<name> <kind> <s> <shape>`, fields separated by blanks; `<s>` is
 * an integer >= 0 for `uniform` and `-` otherwise; `<shape>` is the PyTorch shape
 * joined by `x`, or `scalar`. Blank lines and lines starting with '#' are skipped.
 * A malformed line is an error naming file:line.
 *
 * lis_synth_build() turns a manifest into an in-memory lis_safetensors (names, shapes,
 * F32 data) that every weight loader accepts exactly like a file; free it with
 * lis_st_close().
 */
#ifndef LIS_SYNTH_INIT_H
#define LIS_SYNTH_INIT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/safetensors.h"

typedef enum {
    LIS_SYNTH_UNIFORM = 0, /* k * 2^-(23+s), k in [-2^23, 2^23): uniform in [-2^-s, 2^-s) */
    LIS_SYNTH_POSITIVE,    /* 1 + k * 2^-23, k in [-2^21, 2^21): in [0.75, 1.25) */
    LIS_SYNTH_ZERO,        /* 0 */
    LIS_SYNTH_SHIPPED,     /* not generated: taken from the bundle's safetensors */
} lis_synth_kind;

/* FNV-1a 32-bit hash of a NUL-terminated string (fnv1a32("") = 0x811C9DC5). */
uint32_t lis_fnv1a32(const char *s);

/* Fills out[0..n) with tensor `name`'s values in row-major order. `s` is the exponent
 * for LIS_SYNTH_UNIFORM (ignored otherwise). LIS_SYNTH_SHIPPED is a bug here. */
void lis_synth_init_fill(const char *name, lis_synth_kind kind, int s, float *out, size_t n);

typedef struct {
    char *name;
    lis_synth_kind kind;
    int s;                       /* exponent for uniform; -1 otherwise */
    int ndim;                    /* 0 for `scalar` */
    int64_t shape[LIS_MAX_DIMS];
    int line;                    /* 1-based line in the manifest */
} lis_manifest_entry;

typedef struct {
    char *path;                  /* label used in messages */
    lis_manifest_entry *e;
    size_t n;
} lis_manifest;

/* Reads and validates a manifest file (duplicate names are errors). */
lis_status lis_manifest_read(lis_manifest *m, const char *path);
/* Same from memory; `label` names the source in messages. */
lis_status lis_manifest_parse(lis_manifest *m, const char *text, size_t len, const char *label);
void lis_manifest_free(lis_manifest *m);
const lis_manifest_entry *lis_manifest_find(const lis_manifest *m, const char *name);

/* Materialises every manifest tensor as F32 into `out`, an in-memory lis_safetensors
 * with entries in manifest order and no metadata (out->path = the manifest's path).
 * `shipped` supplies the LIS_SYNTH_SHIPPED tensors (may be NULL if there are none);
 * they are converted to F32 and their shape must match the manifest.
 * Free with lis_st_close(out). */
lis_status lis_synth_build(lis_safetensors *out, const lis_manifest *m, const lis_safetensors *shipped);

#endif
