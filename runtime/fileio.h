/* fileio.h — mapped reading and atomic writing of files.
 *
 * Atomic writes: every artifact lis writes goes to "<path>.tmp.<pid>" first and is
 * renamed over <path> only after all bytes are written and flushed, so a crash or a
 * failed write never leaves a half-written file under the final name.
 */
#ifndef LIS_FILEIO_H
#define LIS_FILEIO_H

#include <stddef.h>
#include <stdio.h>

#include "runtime/status.h"

typedef struct {
    const unsigned char *data; /* read-only view of the whole file */
    size_t size;
    int mapped;                /* 1: mmap, 0: malloc (empty files) */
} lis_mapped_file;

lis_status lis_map_file(lis_mapped_file *m, const char *path);
void lis_unmap_file(lis_mapped_file *m);

typedef struct {
    FILE *f;
    char *path;
    char *tmp;
    int failed;
} lis_atomic_file;

lis_status lis_atomic_open(lis_atomic_file *a, const char *path);
/* Writes n bytes; remembers a failure so commit reports it. */
void lis_atomic_write(lis_atomic_file *a, const void *p, size_t n);
/* Flushes, closes and renames into place. On any failure removes the temp file. */
lis_status lis_atomic_commit(lis_atomic_file *a);
/* Abandons the write: closes and removes the temp file. Safe on a zeroed struct. */
void lis_atomic_abort(lis_atomic_file *a);

/* Writes len bytes to path atomically (temp file + rename). */
lis_status lis_write_file_atomic(const char *path, const void *data, size_t len);

/* Creates a directory and its parents (mkdir -p). */
lis_status lis_mkdirs(const char *path);
int lis_file_exists(const char *path);
/* Reads a whole (small) file into a NUL-terminated buffer. */
lis_status lis_read_file(const char *path, char **out, size_t *len);
/* Joins dir and name with '/'. Returns malloc'ed string or NULL (error set). */
char *lis_path_join(const char *dir, const char *name);

#endif
