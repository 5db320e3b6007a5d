/* safetensors.h — read (mmap, validated) and write (atomic) safetensors files.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON
 *   {"conv1.weight": {"dtype": "F32", "shape": [64,3,7,7], "data_offsets": [0, 37632]},
 *    "__metadata__": {"config": "{...}", "origin": "..."}}
 * then the raw little-endian data; offsets are relative to the end of the header.
 * The reader checks the header length against the file size, every dtype, shape and
 * offset pair against the data size (and that end - begin = numel * element size),
 * and that names are unique. Metadata values must be strings.
 */
#ifndef LIS_SAFETENSORS_H
#define LIS_SAFETENSORS_H

#include "runtime/fileio.h"
#include "runtime/json.h"
#include "runtime/tensor.h"

typedef struct {
    char *name;
    lis_tensor t;       /* a view into the mapped file (t.owns = 0) */
} lis_st_entry;

typedef struct {
    char *path;
    lis_mapped_file file;
    lis_st_entry *entries; /* in header order */
    size_t n;
    lis_json *meta;        /* the "__metadata__" object, or NULL */
} lis_safetensors;

lis_status lis_st_open(lis_safetensors *st, const char *path);
/* Parses an in-memory buffer (used by the fuzzer); buf must outlive st, and st must be
 * zeroed (or have only its path set) on entry, as lis_st_open leaves it. */
lis_status lis_st_parse(lis_safetensors *st, const unsigned char *buf, size_t size, const char *label);
void lis_st_close(lis_safetensors *st);

const lis_st_entry *lis_st_find(const lis_safetensors *st, const char *name);
/* Metadata string value or NULL. */
const char *lis_st_meta(const lis_safetensors *st, const char *key);

/* Looks up `name`, checks dtype F32 and the expected shape (ndim dims; -1 = any),
 * and returns its data. Errors name the file, the tensor and both shapes. */
lis_status lis_st_get_f32(const lis_safetensors *st, const char *name, int ndim, const int64_t *shape,
                          const float **out);

/* ---- writing ---- */
typedef struct {
    char *name;
    lis_dtype dtype;
    int ndim;
    int64_t shape[LIS_MAX_DIMS];
    const void *data;   /* not owned; must stay valid until lis_st_write */
} lis_st_wentry;

typedef struct {
    lis_st_wentry *e;
    size_t n, cap;
    char **mkeys, **mvals;
    size_t nmeta;
} lis_st_writer;

lis_status lis_st_writer_add(lis_st_writer *w, const char *name, lis_dtype dt, int ndim, const int64_t *shape,
                             const void *data);
lis_status lis_st_writer_meta(lis_st_writer *w, const char *key, const char *value);
lis_status lis_st_write(lis_st_writer *w, const char *path);
void lis_st_writer_free(lis_st_writer *w);

#endif
