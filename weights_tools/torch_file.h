/* torch_file.h — the two torch.save formats, read with the pickle VM (spec/classifier.md §3).
 *
 * Zip (torch >= 1.6): `<archive>/data.pkl` is a protocol-2 pickle whose tensors point at
 * storages through persistent ids ('storage', torch.FloatStorage, key, location, numel);
 * storage `key` is the entry `<archive>/data/<key>` (raw little-endian elements).
 *
 * Legacy (`_use_new_zipfile_serialization=False`, and every storage blob of a StyleGAN-XL
 * snapshot, `torch.storage._load_from_bytes`): five pickles back to back, then the storages:
 *
 *     pickle 1: magic 0x1950a86a20f9469cfc6c (LONG1)     pickle 2: protocol version 1001
 *     pickle 3: {'protocol_version': 1001, 'little_endian': True, 'type_sizes': {...}}
 *     pickle 4: the object, persistent ids ('storage', type, key, location, numel, None)
 *     pickle 5: the storage keys [key, ...]
 *     then per key, in that order: int64 numel, numel * element-size bytes
 *
 * Both give the saved object as pickle values (weights_tools/pickle.h) whose STORAGE nodes
 * point into the file (stored zip entries, legacy records) or into inflated buffers owned
 * by the lis_torch_file. A storage referenced by the pickle but absent from the file, a
 * record whose count disagrees with its persistent id, or bytes short of numel are errors.
 */
#ifndef LIS_TORCH_FILE_H
#define LIS_TORCH_FILE_H

#include "runtime/fileio.h"
#include "weights_tools/pickle.h"
#include "weights_tools/torch_zip.h"

typedef struct lis_torch_storages lis_torch_storages;

typedef struct {
    lis_pk_vm *vm;            /* owns every value */
    lis_pk *root;             /* the saved object */
    int legacy;               /* 1: legacy format, 0: zip */
    char archive[256];        /* zip: the archive folder name ("model") */
    lis_mapped_file map;      /* when opened from a path */
    lis_torch_storages *st;   /* persistent id -> storage */
    unsigned char **owned;    /* inflated zip entries */
    size_t nowned;
    char label[512];
} lis_torch_file;

/* 1 if the bytes start a legacy torch.save stream (the magic-number pickle). */
int lis_torch_is_legacy(const unsigned char *head, size_t n);
/* Maps and reads a .pth/.pt file of either format. */
lis_status lis_torch_open(lis_torch_file *tf, const char *path);
/* Reads from memory (buf must outlive tf); zip or legacy by the first bytes. */
lis_status lis_torch_parse(lis_torch_file *tf, const unsigned char *buf, size_t size, const char *label,
                           uint64_t zip_inflate_limit /* 0: default */);
void lis_torch_close(lis_torch_file *tf);

/* The pickle VM's load_from_bytes hook: parses one legacy stream holding exactly one
 * storage and returns that STORAGE, its data a view into b. ctx is unused. */
lis_status lis_torch_load_from_bytes(void *ctx, lis_pk_vm *vm, const unsigned char *b, size_t n, lis_pk **out);

#endif
